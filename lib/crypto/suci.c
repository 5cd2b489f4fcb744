/* SUCI strings, concealment and the SIDF's de-concealment (see kedge/suci.h). */
#include "kedge/suci.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "kedge/edge.h"
#include "kedge/hex.h"

#define MAX_KEY_ID   255
#define KEY_FILE_TAG "kedge-suci-key "

struct kedge_suci_keys {
  kedge_ecies_key_t *by_id[MAX_KEY_ID + 1];
  kedge_ecies_key_t *decoy[3]; /* [1]: profile A, [2]: profile B */
};

static bool digit(char c)
{
  return c >= '0' && c <= '9';
}

static size_t digits(const char *s)
{
  size_t n = 0;
  while (digit(s[n]))
    n++;
  return n;
}

static bool hexdigit(char c)
{
  return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 7542 characters as kedge_supi_parse() accepts them, without '@' (and '-' is fine). */
static bool nai_char(char c)
{
  return c > 0x20 && c < 0x7f && c != '@';
}

static bool nai_text(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!nai_char(s[i]))
      return false;
  return n > 0;
}

/* RFC 7542 2.2: the realm is a DNS name: letters, digits, '-' and '.'. */
static bool realm_text(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!(digit(s[i]) || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
          s[i] == '-' || s[i] == '.'))
      return false;
  return n > 0;
}

/* A decimal number of 1..max_digits digits without a leading zero (except "0" itself) and at
 * most `max`; *end past it. */
static bool number(const char *s, size_t max_digits, unsigned max, unsigned *value,
                   const char **end)
{
  size_t n = digits(s);
  if (n == 0 || n > max_digits || (n > 1 && s[0] == '0'))
    return false;
  unsigned v = 0;
  for (size_t i = 0; i < n; i++)
    v = v * 10 + (unsigned)(s[i] - '0');
  if (v > max)
    return false;
  *value = v;
  *end = s + n;
  return true;
}

static bool copy_rid(const char *s, size_t n, kedge_suci_t *suci)
{
  if (n < 1 || n > KEDGE_RID_MAX || digits(s) < n)
    return false;
  memcpy(suci->rid, s, n);
  suci->rid[n] = '\0';
  return true;
}

/* Scheme output of the null scheme: MSIN digits (type 0) or a username (type 1). */
static const char *null_output(kedge_suci_t *suci, const char *s, size_t n)
{
  if (suci->supi_type == 0 ? (n < 1 || n > 15 || digits(s) < n)
                           : (n > sizeof(suci->output) || !nai_text(s, n)))
    return suci->supi_type == 0 ? "null-scheme output must be the MSIN digits"
                                : "null-scheme output must be the NAI username";
  memcpy(suci->output, s, n);
  suci->output_len = n;
  return NULL;
}

static const char *hex_output(uint8_t *out, size_t max, const char *s, size_t n, size_t *len)
{
  for (size_t i = 0; i < n; i++)
    if (!hexdigit(s[i]))
      return "scheme output must be hex digits";
  if (n == 0 || n % 2 || n / 2 > max)
    return "scheme output must be an even number of hex digits, at most the largest output";
  char buf[2 * KEDGE_SUCI_OUTPUT_MAX + 1];
  memcpy(buf, s, n);
  buf[n] = '\0';
  return kedge_hex_decode_var(buf, out, max, len) == KEDGE_OK ? NULL : "scheme output is not hex";
}

/* "<RID>-<scheme>-<hnPubKeyId>-<schemeOutput>" to the end of the string (SBI form).
 * *hex_bad is set when only the ECIES scheme output is at fault. */
static const char *sbi_tail(const char *s, kedge_suci_t *suci, bool *hex_bad)
{
  const char *dash = strchr(s, '-'), *p;
  if (!dash || !copy_rid(s, (size_t)(dash - s), suci))
    return "routing indicator must be 1 to 4 digits";
  s = dash + 1;
  if (!hexdigit(s[0]) || s[1] != '-')
    return "protection scheme must be one hex digit";
  suci->scheme = (unsigned)strtoul((char[]){s[0], '\0'}, NULL, 16);
  s += 2;
  /* TS 29.571 SupiOrSuci: scheme 0 with key id 0; the others with 1..255 */
  if (!number(s, 3, MAX_KEY_ID, &suci->hn_key_id, &p) || *p != '-' ||
      (suci->scheme == KEDGE_SUCI_NULL) != (suci->hn_key_id == 0))
    return "hnPubKeyId must be 0 for the null scheme and 1..255 for the others";
  s = p + 1;
  if (suci->scheme == KEDGE_SUCI_NULL)
    return null_output(suci, s, strlen(s));
  const char *bad = hex_output(suci->output, sizeof(suci->output), s, strlen(s), &suci->output_len);
  *hex_bad = bad != NULL;
  return bad;
}

/* Whether "<RID>-<scheme>-<id>-" starts at s: where the realm of a type 1 SUCI ends. */
static bool tail_starts(const char *s)
{
  size_t n = digits(s);
  if (n < 1 || n > 4 || s[n] != '-' || !hexdigit(s[n + 1]) || s[n + 2] != '-')
    return false;
  s += n + 3;
  n = digits(s);
  return n >= 1 && n <= 3 && s[n] == '-';
}

static kedge_err_t parse_sbi(const char *s, kedge_suci_t *suci, const char **why)
{
  if (s[0] == '0' && s[1] == '-') {
    suci->supi_type = 0;
    s += 2;
    size_t lc = digits(s);
    if (lc != 3 || s[3] != '-') {
      *why = "MCC must be 3 digits";
      return KEDGE_ERR_BAD_SUPI;
    }
    memcpy(suci->mcc, s, 3);
    s += 4;
    size_t ln = digits(s);
    if (ln < 2 || ln > 3 || s[ln] != '-') {
      *why = "MNC must be 2 or 3 digits";
      return KEDGE_ERR_BAD_SUPI;
    }
    memcpy(suci->mnc, s, ln);
    s += ln + 1;
  } else if (s[0] == '1' && s[1] == '-') {
    suci->supi_type = 1;
    s += 2;
    /* The realm may hold '-': it ends at the first '-' followed by "<RID>-<scheme>-<id>-". */
    const char *end = s;
    while ((end = strchr(end, '-')) && !tail_starts(end + 1))
      end++;
    size_t n = end ? (size_t)(end - s) : 0;
    if (!end || n > KEDGE_SUCI_REALM_MAX || !realm_text(s, n)) {
      *why = "type 1 SUCI must be suci-1-<realm>-<RID>-<scheme>-<hnPubKeyId>-<output>";
      return KEDGE_ERR_BAD_SUPI;
    }
    memcpy(suci->realm, s, n);
    s = end + 1;
  } else {
    *why = digit(s[0]) && s[0] <= '7' && s[1] == '-'
               ? "SUPI types 2..7 (GLI, GCI) are not supported"
               : "SUPI type must be 0 (IMSI) or 1 (network specific identifier)";
    return KEDGE_ERR_BAD_SUPI;
  }
  bool hex_bad = false;
  if (!(*why = sbi_tail(s, suci, &hex_bad)))
    return KEDGE_OK;
  return hex_bad ? KEDGE_ERR_BAD_HEX : KEDGE_ERR_BAD_SUPI;
}

/* "type1.rid<RID>.schid<S>.(userid<u>|hnkey<K>.ecckey<h>.cip<h>.mac<h>)@<realm>" */
static kedge_err_t parse_nai(const char *s, kedge_suci_t *suci, const char **why)
{
  const char *at = strchr(s, '@'), *p, *q;
  *why = "NAI SUCI must be type1.rid<RID>.schid<scheme>.(userid<user>|hnkey<id>.ecckey<hex>."
         "cip<hex>.mac<hex>)@<realm>";
  if (!at || strchr(at + 1, '@') || strncmp(s, "type1.rid", 9) != 0)
    return KEDGE_ERR_BAD_SUPI;
  size_t realm_len = strlen(at + 1);
  if (realm_len > KEDGE_SUCI_REALM_MAX || !realm_text(at + 1, realm_len))
    return KEDGE_ERR_BAD_SUPI;
  memcpy(suci->realm, at + 1, realm_len);
  suci->supi_type = 1;
  s += 9;
  size_t n = digits(s);
  if (!copy_rid(s, n, suci) || strncmp(s + n, ".schid", 6) != 0 ||
      !number(s + n + 6, 2, 15, &suci->scheme, &p) || *p != '.')
    return KEDGE_ERR_BAD_SUPI;
  p++;
  if (suci->scheme == KEDGE_SUCI_NULL) {
    if (strncmp(p, "userid", 6) != 0)
      return KEDGE_ERR_BAD_SUPI;
    p += 6;
    const char *bad = null_output(suci, p, (size_t)(at - p));
    return bad ? (*why = bad, KEDGE_ERR_BAD_SUPI) : (*why = NULL, KEDGE_OK);
  }
  if (strncmp(p, "hnkey", 5) != 0 || !number(p + 5, 3, MAX_KEY_ID, &suci->hn_key_id, &q) ||
      suci->hn_key_id == 0 || strncmp(q, ".ecckey", 7) != 0)
    return KEDGE_ERR_BAD_SUPI;
  /* the three parts, each hex; the profile fixes the key and tag sizes (TS 33.501 C.3) */
  static const char *const labels[] = {".ecckey", ".cip", ".mac"};
  size_t want[3] = {kedge_ecies_public_len((kedge_ecies_profile_t)suci->scheme), 0,
                    KEDGE_ECIES_MAC_LEN};
  suci->output_len = 0;
  for (int i = 0; i < 3; i++) {
    if (strncmp(q, labels[i], strlen(labels[i])) != 0)
      return KEDGE_ERR_BAD_SUPI;
    q += strlen(labels[i]);
    const char *end = i < 2 ? strchr(q, '.') : at;
    size_t len = 0;
    if (!end || end > at)
      return KEDGE_ERR_BAD_SUPI;
    if (hex_output(suci->output + suci->output_len, sizeof(suci->output) - suci->output_len, q,
                   (size_t)(end - q), &len) ||
        (want[i] && len != want[i])) {
      *why = "scheme output (ecckey, cip, mac) must be hex of the profile's sizes";
      return KEDGE_ERR_BAD_HEX;
    }
    suci->output_len += len;
    q = end;
  }
  *why = NULL;
  return KEDGE_OK;
}

kedge_err_t kedge_suci_parse(const char *text, kedge_suci_t *suci, const char **why)
{
  const char *ignored;
  if (!why)
    why = &ignored;
  *why = NULL;
  if (!text || !suci)
    return KEDGE_ERR_INVALID_ARG;
  memset(suci, 0, sizeof(*suci));
  if (strnlen(text, KEDGE_SUCI_MAX + 1) > KEDGE_SUCI_MAX) {
    *why = "SUCI too long";
    return KEDGE_ERR_BAD_SUPI;
  }
  kedge_err_t err;
  if (!strncmp(text, "suci-", 5))
    err = parse_sbi(text + 5, suci, why);
  else if (!strncmp(text, "type", 4))
    err = parse_nai(text, suci, why);
  else
    err = (*why = "a SUCI begins with suci- (or type1. in NAI form)", KEDGE_ERR_BAD_SUPI);
  if (err)
    OPENSSL_cleanse(suci, sizeof(*suci));
  return err;
}

/* The scheme output as text: the null scheme's characters, or lower-case hex. */
static void output_text(const kedge_suci_t *suci, const uint8_t *out, size_t len, char *text)
{
  if (suci->scheme == KEDGE_SUCI_NULL) {
    memcpy(text, out, len);
    text[len] = '\0';
  } else {
    kedge_hex_encode(out, len, text);
  }
}

kedge_err_t kedge_suci_format(const kedge_suci_t *suci, char *out, size_t size)
{
  if (!suci || !out || suci->output_len > KEDGE_SUCI_OUTPUT_MAX)
    return KEDGE_ERR_INVALID_ARG;
  char text[2 * KEDGE_SUCI_OUTPUT_MAX + 1];
  output_text(suci, suci->output, suci->output_len, text);
  int n = suci->supi_type == 0 ? snprintf(out, size, "suci-0-%s-%s-%s-%x-%u-%s", suci->mcc,
                                          suci->mnc, suci->rid, suci->scheme, suci->hn_key_id, text)
                               : snprintf(out, size, "suci-1-%s-%s-%x-%u-%s", suci->realm,
                                          suci->rid, suci->scheme, suci->hn_key_id, text);
  if (n < 0 || (size_t)n >= size)
    return KEDGE_ERR_TOO_BIG;
  /* type 1: a realm with "-<digits>-<hex digit>-<digits>-" in it (a DNS label may look like
   * that) would be split there on reading: such a SUCI has the NAI form only */
  kedge_suci_t check;
  if (suci->supi_type == 1 &&
      (kedge_suci_parse(out, &check, NULL) || strcmp(check.realm, suci->realm) != 0)) {
    out[0] = '\0';
    return KEDGE_ERR_INVALID_ARG;
  }
  return KEDGE_OK;
}

kedge_err_t kedge_suci_format_nai(const kedge_suci_t *suci, char *out, size_t size)
{
  if (!suci || !out || suci->supi_type != 1 || suci->output_len > KEDGE_SUCI_OUTPUT_MAX)
    return KEDGE_ERR_INVALID_ARG;
  int n;
  if (suci->scheme == KEDGE_SUCI_NULL) {
    n = snprintf(out, size, "type1.rid%s.schid0.userid%.*s@%s", suci->rid, (int)suci->output_len,
                 (const char *)suci->output, suci->realm);
  } else {
    size_t key = kedge_ecies_public_len((kedge_ecies_profile_t)suci->scheme);
    if (!key || suci->output_len <= key + KEDGE_ECIES_MAC_LEN) /* cip<hex> is never empty */
      return KEDGE_ERR_INVALID_ARG;
    size_t cip = suci->output_len - key - KEDGE_ECIES_MAC_LEN;
    /* cip: what the parser took, up to the whole output (a longer ciphertext than a NAI
     * username may come in and must be written back: fuzz-suci) */
    char eph[2 * KEDGE_ECIES_PUBLIC_MAX + 1], c[2 * KEDGE_SUCI_OUTPUT_MAX + 1], mac[17];
    kedge_hex_encode(suci->output, key, eph);
    kedge_hex_encode(suci->output + key, cip, c);
    kedge_hex_encode(suci->output + key + cip, KEDGE_ECIES_MAC_LEN, mac);
    n = snprintf(out, size, "type1.rid%s.schid%u.hnkey%u.ecckey%s.cip%s.mac%s@%s", suci->rid,
                 suci->scheme, suci->hn_key_id, eph, c, mac, suci->realm);
  }
  return n < 0 || (size_t)n >= size ? KEDGE_ERR_TOO_BIG : KEDGE_OK;
}

kedge_err_t kedge_suci_scheme_input(unsigned supi_type, const char *in, uint8_t *out,
                                    size_t *out_len)
{
  if (!in || !out || !out_len)
    return KEDGE_ERR_INVALID_ARG;
  size_t n = strlen(in);
  if (supi_type == 1) {
    if (n > KEDGE_ECIES_PLAINTEXT_MAX || !nai_text(in, n))
      return KEDGE_ERR_BAD_SUPI;
    memcpy(out, in, n);
    *out_len = n;
    return KEDGE_OK;
  }
  if (supi_type != 0 || n == 0 || n > 15 || digits(in) != n)
    return KEDGE_ERR_BAD_SUPI;
  /* TS 24.501 9.11.3.4: BCD, first digit in the low nibble, filler F */
  for (size_t i = 0; i < n; i += 2)
    out[i / 2] = (uint8_t)((in[i] - '0') | ((i + 1 < n ? in[i + 1] - '0' : 0xF) << 4));
  *out_len = (n + 1) / 2;
  return KEDGE_OK;
}

/* The inverse for an IMSI: false unless every nibble is a digit (F only as the last one). */
static bool bcd_digits(const uint8_t *in, size_t len, char *out, size_t max)
{
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned lo = in[i] & 0xF, hi = in[i] >> 4;
    if (lo > 9 || (hi > 9 && !(hi == 0xF && i + 1 == len)) || n + 2 >= max)
      return false;
    out[n++] = (char)('0' + lo);
    if (hi <= 9)
      out[n++] = (char)('0' + hi);
  }
  out[n] = '\0';
  return n > 0;
}

/* The SUPI from its parts: type 0 "imsi-" MCC MNC MSIN, type 1 "nai-" user "@" realm. */
static kedge_err_t make_supi(const kedge_suci_t *suci, const char *part, size_t part_len,
                             kedge_supi_t *supi)
{
  char text[KEDGE_SUPI_MAX + 2];
  int n =
      suci->supi_type == 0
          ? snprintf(text, sizeof(text), "imsi-%s%s%.*s", suci->mcc, suci->mnc, (int)part_len, part)
          : snprintf(text, sizeof(text), "nai-%.*s@%s", (int)part_len, part, suci->realm);
  kedge_err_t err =
      n < 0 || (size_t)n >= sizeof(text) ? KEDGE_ERR_BAD_SUPI : kedge_supi_parse(text, supi);
  OPENSSL_cleanse(text, sizeof(text));
  return err;
}

kedge_err_t kedge_suci_conceal(const kedge_supi_t *supi, const kedge_suci_params_t *params,
                               kedge_suci_t *suci)
{
  if (!supi || !params || !suci)
    return KEDGE_ERR_INVALID_ARG;
  memset(suci, 0, sizeof(*suci));
  const char *rid = params->rid ? params->rid : "0";
  if (kedge_rid_check(rid) != KEDGE_OK)
    return KEDGE_ERR_BAD_RID;
  snprintf(suci->rid, sizeof(suci->rid), "%s", rid);
  char part[KEDGE_SUPI_MAX + 1];
  if (supi->type == KEDGE_SUPI_IMSI) {
    kedge_plmn_t plmn;
    const char *imsi = supi->value + 5;
    if (!params->mcc || !params->mnc || kedge_plmn_parse(params->mcc, params->mnc, &plmn) ||
        strncmp(imsi, params->mcc, 3) || strncmp(imsi + 3, params->mnc, strlen(params->mnc)) ||
        !imsi[3 + strlen(params->mnc)])
      return KEDGE_ERR_BAD_PLMN;
    suci->supi_type = 0;
    memcpy(suci->mcc, params->mcc, 4);
    snprintf(suci->mnc, sizeof(suci->mnc), "%s", params->mnc);
    snprintf(part, sizeof(part), "%s", imsi + 3 + strlen(params->mnc));
  } else {
    const char *nai = supi->value + 4, *at = strchr(nai, '@');
    if (strlen(at + 1) > KEDGE_SUCI_REALM_MAX)
      return KEDGE_ERR_BAD_SUPI;
    suci->supi_type = 1;
    snprintf(suci->realm, sizeof(suci->realm), "%s", at + 1);
    snprintf(part, sizeof(part), "%.*s", (int)(at - nai), nai);
  }
  suci->scheme = params->scheme;
  kedge_err_t err = KEDGE_OK;
  if (params->scheme == KEDGE_SUCI_NULL) {
    size_t n = strlen(part);
    if (n > sizeof(suci->output))
      err = KEDGE_ERR_BAD_SUPI;
    else
      memcpy(suci->output, part, suci->output_len = n);
  } else if (params->scheme == KEDGE_SUCI_PROFILE_A || params->scheme == KEDGE_SUCI_PROFILE_B) {
    uint8_t in[KEDGE_ECIES_PLAINTEXT_MAX];
    size_t in_len = 0;
    suci->hn_key_id = params->hn_key_id;
    if (params->hn_key_id < 1 || params->hn_key_id > MAX_KEY_ID)
      err = KEDGE_ERR_INVALID_ARG;
    if (!err)
      err = kedge_suci_scheme_input(suci->supi_type, part, in, &in_len);
    if (!err)
      err = kedge_ecies_conceal((kedge_ecies_profile_t)params->scheme, params->hn_pub,
                                params->hn_pub_len, params->eph_priv, in, in_len, suci->output,
                                &suci->output_len);
    OPENSSL_cleanse(in, sizeof(in));
  } else {
    err = KEDGE_ERR_UNSUPPORTED;
  }
  OPENSSL_cleanse(part, sizeof(part));
  if (err)
    OPENSSL_cleanse(suci, sizeof(*suci));
  return err;
}

kedge_err_t kedge_suci_keys_new(kedge_suci_keys_t **keys)
{
  if (!keys)
    return KEDGE_ERR_INVALID_ARG;
  kedge_suci_keys_t *k = calloc(1, sizeof(*k));
  if (!k)
    return KEDGE_ERR_NOMEM;
  kedge_err_t err = kedge_ecies_key_random(KEDGE_ECIES_PROFILE_A, &k->decoy[1]);
  if (!err)
    err = kedge_ecies_key_random(KEDGE_ECIES_PROFILE_B, &k->decoy[2]);
  if (err) {
    kedge_suci_keys_free(k);
    return err;
  }
  *keys = k;
  return KEDGE_OK;
}

kedge_err_t kedge_suci_keys_add(kedge_suci_keys_t *keys, unsigned id, kedge_ecies_profile_t profile,
                                const uint8_t priv[KEDGE_ECIES_PRIVATE_LEN])
{
  if (!keys || !priv || id < 1 || id > MAX_KEY_ID)
    return KEDGE_ERR_INVALID_ARG;
  if (keys->by_id[id])
    return KEDGE_ERR_EXISTS;
  return kedge_ecies_key_new(profile, priv, &keys->by_id[id]);
}

void kedge_suci_keys_free(kedge_suci_keys_t *keys)
{
  if (!keys)
    return;
  for (size_t i = 0; i <= MAX_KEY_ID; i++)
    kedge_ecies_key_free(keys->by_id[i]);
  kedge_ecies_key_free(keys->decoy[1]);
  kedge_ecies_key_free(keys->decoy[2]);
  free(keys);
}

kedge_err_t kedge_suci_deconceal(const kedge_suci_keys_t *keys, const kedge_suci_t *suci,
                                 kedge_supi_t *supi)
{
  if (!keys || !suci || !supi || suci->output_len > sizeof(suci->output))
    return KEDGE_ERR_INVALID_ARG;
  if (suci->scheme == KEDGE_SUCI_NULL)
    return make_supi(suci, (const char *)suci->output, suci->output_len, supi);
  if (suci->scheme != KEDGE_SUCI_PROFILE_A && suci->scheme != KEDGE_SUCI_PROFILE_B)
    return KEDGE_ERR_UNSUPPORTED;

  /* An unknown id, or one of the other profile, runs the same work with the decoy key and
   * fails like a MAC failure (SPEC.md 8: the asker cannot tell them apart). */
  const kedge_ecies_key_t *key =
      suci->hn_key_id <= MAX_KEY_ID ? keys->by_id[suci->hn_key_id] : NULL;
  bool decoy = !key || kedge_ecies_key_profile(key) != (kedge_ecies_profile_t)suci->scheme;
  if (decoy)
    key = keys->decoy[suci->scheme];
  uint8_t plain[KEDGE_ECIES_PLAINTEXT_MAX];
  char part[2 * KEDGE_ECIES_PLAINTEXT_MAX + 1];
  size_t plain_len = 0;
  kedge_err_t err = kedge_ecies_deconceal(key, suci->output, suci->output_len, plain, &plain_len);
  if (err == KEDGE_ERR_CRYPTO)
    return err; /* OpenSSL itself failed: not the input's doing */
  if (!err && !decoy) {
    bool ok;
    if (suci->supi_type == 0) {
      ok = bcd_digits(plain, plain_len, part, sizeof(part));
    } else {
      ok = nai_text((const char *)plain, plain_len);
      memcpy(part, plain, plain_len);
      part[plain_len] = '\0';
    }
    err = ok ? make_supi(suci, part, strlen(part), supi) : KEDGE_ERR_MAC_FAILURE;
  }
  if (err || decoy)
    err = KEDGE_ERR_MAC_FAILURE;
  OPENSSL_cleanse(plain, sizeof(plain));
  OPENSSL_cleanse(part, sizeof(part));
  return err;
}

static const char *profile_aad(kedge_ecies_profile_t profile)
{
  return profile == KEDGE_ECIES_PROFILE_A ? "kedge:suci-hn-key:A" : "kedge:suci-hn-key:B";
}

kedge_err_t kedge_suci_key_file_write(const char *path, const kedge_master_key_t *mk,
                                      kedge_ecies_profile_t profile,
                                      const uint8_t priv[KEDGE_ECIES_PRIVATE_LEN], char *why,
                                      size_t why_size)
{
  if (!path || !mk || !priv || !kedge_ecies_public_len(profile))
    return KEDGE_ERR_INVALID_ARG;
  uint8_t sealed[KEDGE_ECIES_PRIVATE_LEN + KEDGE_SEAL_OVERHEAD];
  char line[sizeof(KEY_FILE_TAG) + 3 + 2 * sizeof(sealed) + 1];
  size_t sealed_len = 0;
  const char *aad = profile_aad(profile);
  kedge_err_t err =
      kedge_seal(mk, aad, strlen(aad), priv, KEDGE_ECIES_PRIVATE_LEN, sealed, &sealed_len);
  if (err) {
    if (why && why_size)
      snprintf(why, why_size, "%s: cannot seal the key: %s", path, kedge_strerror(err));
    return err;
  }
  int n = snprintf(line, sizeof(line), KEY_FILE_TAG "%s ", kedge_ecies_profile_name(profile));
  kedge_hex_encode(sealed, sealed_len, line + n);
  n += (int)(2 * sealed_len);
  line[n++] = '\n';
  return kedge_secret_file_create(path, "SUCI home network key", line, (size_t)n, why, why_size);
}

kedge_err_t kedge_suci_key_file_read(const char *path, const kedge_master_key_t *mk,
                                     kedge_ecies_profile_t *profile,
                                     uint8_t priv[KEDGE_ECIES_PRIVATE_LEN], char *why,
                                     size_t why_size)
{
  if (!path || !mk || !profile || !priv)
    return KEDGE_ERR_INVALID_ARG;
  char text[256];
  uint8_t sealed[KEDGE_ECIES_PRIVATE_LEN + KEDGE_SEAL_OVERHEAD];
  size_t n = 0, out_len = 0;
  const size_t tag = strlen(KEY_FILE_TAG), hex_len = 2 * sizeof(sealed);
  kedge_err_t err =
      kedge_secret_file_read(path, "SUCI home network key", text, sizeof(text), &n, why, why_size);
  if (err)
    return err;
  if (n && text[n - 1] == '\n')
    text[--n] = '\0';
  if (n != tag + 2 + hex_len || strncmp(text, KEY_FILE_TAG, tag) || text[tag + 1] != ' ' ||
      kedge_ecies_profile_parse((char[]){text[tag], '\0'}, profile) ||
      kedge_hex_decode(text + tag + 2, sealed, sizeof(sealed))) {
    err = KEDGE_ERR_CONFIG;
    if (why && why_size)
      snprintf(why, why_size, "%s: not a SUCI key file (one line: kedge-suci-key A|B <hex>)", path);
  } else {
    const char *aad = profile_aad(*profile);
    err = kedge_unseal(mk, aad, strlen(aad), sealed, sizeof(sealed), priv, &out_len);
    if (err || out_len != KEDGE_ECIES_PRIVATE_LEN) {
      err = KEDGE_ERR_CONFIG;
      if (why && why_size)
        snprintf(why, why_size,
                 "%s: the key does not open under this master key (another master key, or altered)",
                 path);
    }
  }
  OPENSSL_cleanse(text, sizeof(text));
  OPENSSL_cleanse(sealed, sizeof(sealed));
  if (err)
    OPENSSL_cleanse(priv, KEDGE_ECIES_PRIVATE_LEN);
  return err;
}
