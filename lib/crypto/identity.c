/* PLMN, serving network name and SUPI forms used by the key derivations. */
#include "kedge/identity.h"

#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

static bool all_digits(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

kedge_err_t kedge_plmn_parse(const char *mcc, const char *mnc, kedge_plmn_t *plmn)
{
  if (!mcc || !mnc || !plmn)
    return KEDGE_ERR_INVALID_ARG;
  size_t lc = strlen(mcc), ln = strlen(mnc);
  /* TS 23.003 2.2: MCC three digits, MNC two or three. */
  if (lc != 3 || !all_digits(mcc, 3) || ln < 2 || ln > 3 || !all_digits(mnc, ln))
    return KEDGE_ERR_BAD_PLMN;
  memcpy(plmn->mcc, mcc, 4);
  /* TS 24.501 9.12.1 / TS 33.501 6.1.1.4: a 2-digit MNC is written with a leading zero. */
  if (ln == 2) {
    plmn->mnc[0] = '0';
    memcpy(plmn->mnc + 1, mnc, 3);
  } else {
    memcpy(plmn->mnc, mnc, 4);
  }
  return KEDGE_OK;
}

void kedge_serving_network_name(const kedge_plmn_t *plmn, char snn[KEDGE_SNN_LEN + 1])
{
  snprintf(snn, KEDGE_SNN_LEN + 1, "5G:mnc%.3s.mcc%.3s.3gppnetwork.org", plmn->mnc, plmn->mcc);
}

/* RFC 7542 2.2 allows UTF-8; kedge accepts the printable ASCII subset without spaces, which
 * every operator NAI in practice uses, and rejects control characters outright. */
static bool nai_char(char c)
{
  return c > 0x20 && c < 0x7f;
}

kedge_err_t kedge_supi_parse(const char *text, kedge_supi_t *supi)
{
  if (!text || !supi)
    return KEDGE_ERR_INVALID_ARG;
  size_t len = strnlen(text, KEDGE_SUPI_MAX + 1);
  if (len > KEDGE_SUPI_MAX)
    return KEDGE_ERR_BAD_SUPI;

  kedge_supi_type_t type;
  size_t off;
  if (strncmp(text, "imsi-", 5) == 0) {
    /* TS 23.003 2.2: IMSI of at most 15 digits; MCC + 2-digit MNC + MSIN gives at least 5. */
    type = KEDGE_SUPI_IMSI;
    off = 5;
    size_t n = len - off;
    if (n < 5 || n > 15 || !all_digits(text + off, n))
      return KEDGE_ERR_BAD_SUPI;
  } else if (strncmp(text, "nai-", 4) == 0) {
    /* TS 23.003 2.2A / RFC 7542: user@realm, exactly one '@', neither part empty. */
    type = KEDGE_SUPI_NAI;
    off = 4;
    const char *nai = text + off, *at = memchr(nai, '@', len - off);
    if (!at || at == nai || at == text + len - 1 || memchr(at + 1, '@', text + len - at - 1))
      return KEDGE_ERR_BAD_SUPI;
    for (const char *p = nai; p < text + len; p++)
      if (!nai_char(*p))
        return KEDGE_ERR_BAD_SUPI;
  } else {
    return KEDGE_ERR_BAD_SUPI;
  }
  supi->type = type;
  memcpy(supi->value, text, len);
  supi->value[len] = '\0';
  supi->len = len;
  supi->kdf_offset = off;
  return KEDGE_OK;
}

bool kedge_uuid_check(const char *s)
{
  if (!s || strlen(s) != KEDGE_UUID_LEN)
    return false;
  for (int i = 0; i < KEDGE_UUID_LEN; i++) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
      return false;
  }
  return true;
}

kedge_err_t kedge_uuid_random(char out[KEDGE_UUID_LEN + 1])
{
  uint8_t b[16];
  if (RAND_bytes(b, sizeof(b)) != 1)
    return KEDGE_ERR_CRYPTO;
  b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
  b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* the RFC 4122 variant */
  snprintf(out, KEDGE_UUID_LEN + 1,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
           b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return KEDGE_OK;
}
