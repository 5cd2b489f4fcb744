/* Edge keys and the Kedge ID, SPEC.md sections 2 and 6. */
#include "kedge/edge.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto_int.h"
#include "kedge/base64url.h"
#include "kedge/kdf.h"

static const char label_kedge[] = "EDGE";
static const char label_kedge_tid[] = "EDGE-TID";

/* The last base64url character of 32 octets carries 4 data bits and 2 pad bits, which must be
 * zero (RFC 4648 3.5), so that one TID has one spelling. */
static const char tid_last_chars[] = "AEIMQUYcgkosw048";

static const char realm_head[] = "5gc.mnc";
static const char realm_mid[] = ".mcc";
static const char realm_tail[] = ".3gppnetwork.org";

static bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

kedge_err_t kedge_rid_check(const char *rid)
{
  if (!rid)
    return KEDGE_ERR_INVALID_ARG;
  size_t n = strnlen(rid, KEDGE_RID_MAX + 1);
  if (n < 1 || n > KEDGE_RID_MAX)
    return KEDGE_ERR_BAD_RID;
  for (size_t i = 0; i < n; i++)
    if (!is_digit(rid[i]))
      return KEDGE_ERR_BAD_RID;
  return KEDGE_OK;
}

/* A key and a temporary identifier from KAUSF and the SUPI, from one keyed HMAC state (KAUSF is
 * the key of each): Kedge/Kedge-TID here, K_AKMA/A-TID in akma.c. */
static kedge_err_t pair_derive_with(const kedge_kausf_pair_t *pair, kedge_kdf_key_t *key,
                                    const kedge_supi_t *supi, uint8_t key_out[32],
                                    uint8_t tid_out[32])
{
  size_t supi_len;
  const char *supi_p = kedge_supi_kdf_param(supi, &supi_len);
  kedge_err_t err = KEDGE_OK;
  if (key_out) {
    const kedge_kdf_param_t p[] = {{(const uint8_t *)pair->key_label, strlen(pair->key_label)},
                                   {(const uint8_t *)supi_p, supi_len}};
    err = kedge_kdf_derive(key, pair->key_fc, p, 2, key_out);
  }
  if (!err && tid_out) {
    const kedge_kdf_param_t p[] = {{(const uint8_t *)pair->tid_label, strlen(pair->tid_label)},
                                   {(const uint8_t *)supi_p, supi_len}};
    err = kedge_kdf_derive(key, pair->tid_fc, p, 2, tid_out);
  }
  if (err && key_out)
    OPENSSL_cleanse(key_out, 32);
  return err;
}

kedge_err_t kedge_kausf_pair_derive(const kedge_kausf_pair_t *pair, const uint8_t kausf[32],
                                    const kedge_supi_t *supi, uint8_t key_out[32],
                                    uint8_t tid_out[32])
{
  if (!pair || !kausf || !supi)
    return KEDGE_ERR_INVALID_ARG;
  kedge_kdf_key_t *key;
  kedge_err_t err = kedge_kdf_key_new(kausf, 32, &key);
  if (err)
    return err;
  err = pair_derive_with(pair, key, supi, key_out, tid_out);
  kedge_kdf_key_free(key);
  return err;
}

kedge_err_t kedge_kausf_pair_derive_with_id(const kedge_kausf_pair_t *pair, const uint8_t kausf[32],
                                            kedge_kdf_key_t *kausf_key, const kedge_supi_t *supi,
                                            const char *rid, const kedge_plmn_t *home,
                                            uint8_t key_out[32], char id_text[KEDGE_ID_MAX + 1])
{
  if (!pair || (!kausf && !kausf_key) || !supi || !rid || !home || !key_out || !id_text)
    return KEDGE_ERR_INVALID_ARG;
  kedge_err_t err = kedge_rid_check(rid);
  if (err)
    return err;
  kedge_id_t id = {.home = *home};
  memcpy(id.rid, rid, strlen(rid) + 1);
  err = kausf_key ? pair_derive_with(pair, kausf_key, supi, key_out, id.tid)
                  : kedge_kausf_pair_derive(pair, kausf, supi, key_out, id.tid);
  if (!err)
    err = kedge_nai_key_id_format(&id, id_text);
  if (err)
    OPENSSL_cleanse(key_out, 32);
  OPENSSL_cleanse(&id, sizeof(id));
  return err;
}

static const kedge_kausf_pair_t edge_pair = {KEDGE_FC_KEDGE, label_kedge, KEDGE_FC_KEDGE_TID,
                                             label_kedge_tid};

kedge_err_t kedge_derive_edge_keys(const uint8_t kausf[32], const kedge_supi_t *supi,
                                   uint8_t kedge[KEDGE_KEY_LEN], uint8_t kedge_tid[KEDGE_TID_LEN])
{
  return kedge_kausf_pair_derive(&edge_pair, kausf, supi, kedge, kedge_tid);
}

kedge_err_t kedge_nai_key_id_format(const kedge_id_t *id, char out[KEDGE_ID_MAX + 1])
{
  if (!id || !out)
    return KEDGE_ERR_INVALID_ARG;
  kedge_err_t err = kedge_rid_check(id->rid);
  if (err)
    return err;
  for (int i = 0; i < 3; i++)
    if (!is_digit(id->home.mcc[i]) || !is_digit(id->home.mnc[i]))
      return KEDGE_ERR_BAD_PLMN;

  /* RFC 4648 5: base64url without padding. */
  char b64[KEDGE_TID_B64_LEN + 1];
  if (kedge_b64url_encode(id->tid, KEDGE_TID_LEN, b64, sizeof(b64), NULL) != KEDGE_OK)
    return KEDGE_ERR_CRYPTO;
  snprintf(out, KEDGE_ID_MAX + 1, "%s.%s%s%.3s%s%.3s%s", id->rid, b64, "@5gc.mnc", id->home.mnc,
           realm_mid, id->home.mcc, realm_tail);
  return KEDGE_OK;
}

static bool is_b64url(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_';
}

static kedge_err_t bad_id(const char **why, const char *reason)
{
  if (why)
    *why = reason;
  return KEDGE_ERR_BAD_KEDGE_ID;
}

kedge_err_t kedge_id_format(const kedge_id_t *id, char out[KEDGE_ID_MAX + 1])
{
  return kedge_nai_key_id_format(id, out);
}

kedge_err_t kedge_id_parse(const char *text, size_t len, kedge_id_t *id, const char **why)
{
  return kedge_nai_key_id_parse(text, len, id, why);
}

/* The grammar shared by the Kedge ID and the A-KID (nai_key_id.h); the caller maps
 * KEDGE_ERR_BAD_KEDGE_ID to its own code. */
kedge_err_t kedge_nai_key_id_parse(const char *text, size_t len, kedge_id_t *id, const char **why)
{
  if (why)
    *why = NULL;
  if (!text || !id)
    return KEDGE_ERR_INVALID_ARG;
  if (len > KEDGE_ID_MAX)
    return bad_id(why, "longer than 255 octets");
  if (memchr(text, '\0', len))
    return bad_id(why, "contains a NUL octet");

  const char *end = text + len;
  const char *at = memchr(text, '@', len);
  if (!at)
    return bad_id(why, "no '@' before the realm");
  const char *dot = memchr(text, '.', (size_t)(at - text));
  if (!dot)
    return bad_id(why, "no '.' between routing indicator and TID");

  /* RID: 1-4 digits */
  size_t rid_len = (size_t)(dot - text);
  if (rid_len < 1 || rid_len > KEDGE_RID_MAX)
    return bad_id(why, "routing indicator must be 1 to 4 decimal digits");
  for (size_t i = 0; i < rid_len; i++)
    if (!is_digit(text[i]))
      return bad_id(why, "routing indicator must be 1 to 4 decimal digits");

  /* TID: 43 base64url characters, zero pad bits */
  const char *tid = dot + 1;
  if (at - tid != KEDGE_TID_B64_LEN)
    return bad_id(why, "TID must be 43 base64url characters");
  for (int i = 0; i < KEDGE_TID_B64_LEN; i++)
    if (!is_b64url(tid[i]))
      return bad_id(why, "TID has a character outside the base64url alphabet");
  if (!strchr(tid_last_chars, tid[KEDGE_TID_B64_LEN - 1]))
    return bad_id(why, "TID's last character has non-zero pad bits");

  /* realm: 5gc.mnc<3 digits>.mcc<3 digits>.3gppnetwork.org, lower case */
  const char *realm = at + 1;
  const size_t realm_len =
      sizeof(realm_head) - 1 + 3 + sizeof(realm_mid) - 1 + 3 + sizeof(realm_tail) - 1;
  const char *mnc = realm + sizeof(realm_head) - 1;
  const char *mcc = mnc + 3 + sizeof(realm_mid) - 1;
  if ((size_t)(end - realm) != realm_len || memcmp(realm, realm_head, sizeof(realm_head) - 1) ||
      !is_digit(mnc[0]) || !is_digit(mnc[1]) || !is_digit(mnc[2]) ||
      memcmp(mnc + 3, realm_mid, sizeof(realm_mid) - 1) || !is_digit(mcc[0]) || !is_digit(mcc[1]) ||
      !is_digit(mcc[2]) || memcmp(mcc + 3, realm_tail, sizeof(realm_tail) - 1))
    return bad_id(why, "realm must be 5gc.mnc<3 digits>.mcc<3 digits>.3gppnetwork.org in lower "
                       "case");

  uint8_t raw[KEDGE_TID_LEN];
  size_t raw_len;
  if (kedge_b64url_decode(tid, KEDGE_TID_B64_LEN, raw, sizeof(raw), &raw_len) != KEDGE_OK ||
      raw_len != KEDGE_TID_LEN)
    return bad_id(why, "TID does not decode as base64url");

  memcpy(id->rid, text, rid_len);
  id->rid[rid_len] = '\0';
  memcpy(id->tid, raw, KEDGE_TID_LEN);
  memcpy(id->home.mcc, mcc, 3);
  id->home.mcc[3] = '\0';
  memcpy(id->home.mnc, mnc, 3);
  id->home.mnc[3] = '\0';
  return KEDGE_OK;
}

kedge_err_t kedge_derive_kedge_and_id(const uint8_t kausf[32], const kedge_supi_t *supi,
                                      const char *rid, const kedge_plmn_t *home,
                                      uint8_t kedge[KEDGE_KEY_LEN], char kedge_id[KEDGE_ID_MAX + 1])
{
  if (!kausf)
    return KEDGE_ERR_INVALID_ARG;
  return kedge_kausf_pair_derive_with_id(&edge_pair, kausf, NULL, supi, rid, home, kedge, kedge_id);
}

kedge_err_t kedge_derive_kedge_and_id_keyed(kedge_kdf_key_t *kausf_key, const kedge_supi_t *supi,
                                            const char *rid, const kedge_plmn_t *home,
                                            uint8_t kedge[KEDGE_KEY_LEN],
                                            char kedge_id[KEDGE_ID_MAX + 1])
{
  if (!kausf_key)
    return KEDGE_ERR_INVALID_ARG;
  return kedge_kausf_pair_derive_with_id(&edge_pair, NULL, kausf_key, supi, rid, home, kedge,
                                         kedge_id);
}

static kedge_err_t bad_ecs_id(const char **why, const char *reason)
{
  if (why)
    *why = reason;
  return KEDGE_ERR_BAD_ECS_ID;
}

kedge_err_t kedge_ecs_id_normalise(const char *text, char out[KEDGE_ECS_ID_MAX + 1],
                                   const char **why)
{
  if (why)
    *why = NULL;
  if (!text || !out)
    return KEDGE_ERR_INVALID_ARG;
  size_t n = strnlen(text, KEDGE_ECS_ID_MAX + 2);
  if (n && text[n - 1] == '.')
    n--; /* the root label's dot: "ecs.example.com." names the same host */
  if (n == 0)
    return bad_ecs_id(why, "empty");
  if (n > KEDGE_ECS_ID_MAX)
    return bad_ecs_id(why, "longer than 253 octets");

  /* RFC 1123 2.1 host names; internationalised names must come as A-labels (RFC 5890). */
  size_t label_start = 0, labels = 0;
  bool last_label_numeric = true;
  for (size_t i = 0; i <= n; i++) {
    char c = i < n ? text[i] : '.';
    if (c == '.') {
      size_t label_len = i - label_start;
      if (label_len == 0)
        return bad_ecs_id(why, "empty label");
      if (label_len > 63)
        return bad_ecs_id(why, "label longer than 63 octets");
      if (out[label_start] == '-' || out[i - 1] == '-')
        return bad_ecs_id(why, "label starts or ends with a hyphen");
      labels++;
      label_start = i + 1;
      if (i < n) {
        out[i] = '.';
        last_label_numeric = true;
      }
      continue;
    }
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '-'))
      return bad_ecs_id(why, (unsigned char)c >= 0x80
                                 ? "not ASCII: give internationalised names as A-labels"
                                 : "character outside letters, digits, hyphen and dot");
    if (!is_digit(c))
      last_label_numeric = false;
    out[i] = c;
  }
  if (labels < 2)
    return bad_ecs_id(why, "not a fully qualified domain name");
  if (last_label_numeric)
    return bad_ecs_id(why, "top-level label is numeric (an address, not a DNS name)");
  out[n] = '\0';
  return KEDGE_OK;
}

kedge_err_t kedge_derive_k_ecs(const uint8_t kedge[KEDGE_KEY_LEN], const char *ecs_id,
                               uint8_t k_ecs[KEDGE_KEY_LEN])
{
  if (!kedge || !ecs_id || !k_ecs)
    return KEDGE_ERR_INVALID_ARG;
  const kedge_kdf_param_t p[] = {{(const uint8_t *)ecs_id, strlen(ecs_id)}};
  return kedge_kdf(kedge, KEDGE_KEY_LEN, KEDGE_FC_K_ECS, p, 1, k_ecs);
}
