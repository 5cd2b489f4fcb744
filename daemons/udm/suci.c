/* SUPI or SUCI in the Nudm_UEAU resource URI (TS 29.503 6.3.3.2.2, TS 23.003 2.2B). */
#include <stdio.h>
#include <string.h>

#include "udm.h"

static bool digits(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return n > 0;
}

/* Splits `text` at '-' into at most `max` fields; returns the count. */
static size_t split(char *text, char **fields, size_t max)
{
  size_t n = 0;
  for (char *p = text; n < max; p++) {
    fields[n++] = p;
    p = strchr(p, '-');
    if (!p)
      break;
    *p = '\0';
  }
  return n;
}

kedge_err_t udm_resolve_supi_or_suci(const char *text, kedge_supi_t *supi, const char **why)
{
  *why = NULL;
  if (strncmp(text, "suci-", 5) != 0) {
    if (kedge_supi_parse(text, supi) != KEDGE_OK) {
      *why = "not a SUPI (imsi-<5 to 15 digits>, nai-<user>@<realm>) or SUCI";
      return KEDGE_ERR_BAD_SUPI;
    }
    return KEDGE_OK;
  }
  /* suci-<type>-<MCC>-<MNC>-<routing indicator>-<scheme>-<key id>-<scheme output> */
  char buf[KEDGE_SUPI_MAX + 1];
  if (strlen(text) > KEDGE_SUPI_MAX) {
    *why = "SUCI too long";
    return KEDGE_ERR_BAD_SUPI;
  }
  strcpy(buf, text);
  char *f[9];
  size_t n = split(buf, f, 9);
  if (n != 8) {
    *why = "SUCI must be suci-<type>-<MCC>-<MNC>-<routing indicator>-<scheme>-<key id>-<output>";
    return KEDGE_ERR_BAD_SUPI;
  }
  if (strcmp(f[1], "0") != 0) {
    *why = "only SUCIs of SUPI type 0 (IMSI) are supported";
    return strcmp(f[1], "1") == 0 ? KEDGE_ERR_UNSUPPORTED : KEDGE_ERR_BAD_SUPI;
  }
  size_t lc = strlen(f[2]), ln = strlen(f[3]), lr = strlen(f[4]);
  if (lc != 3 || !digits(f[2], 3) || ln < 2 || ln > 3 || !digits(f[3], ln) || lr < 1 || lr > 4 ||
      !digits(f[4], lr) || !digits(f[5], strlen(f[5])) || strlen(f[5]) > 2 ||
      !digits(f[6], strlen(f[6])) || strlen(f[6]) > 3) {
    *why = "malformed SUCI (MCC, MNC, routing indicator, scheme or key id)";
    return KEDGE_ERR_BAD_SUPI;
  }
  /* TS 33.501 C.2: scheme 0 is the null scheme; 1 and 2 are ECIES profiles A and B. */
  if (strcmp(f[5], "0") != 0) {
    *why = "protection scheme not supported (only the null scheme, 0)";
    return KEDGE_ERR_UNSUPPORTED;
  }
  char imsi[32];
  size_t lm = strlen(f[7]);
  if (!digits(f[7], lm) || lc + ln + lm > 15 || snprintf(imsi, sizeof(imsi), "imsi-%s%s%s", f[2], f[3], f[7]) <= 0 ||
      kedge_supi_parse(imsi, supi) != KEDGE_OK) {
    *why = "null-scheme output must be the MSIN digits (MCC + MNC + MSIN at most 15 digits)";
    return KEDGE_ERR_BAD_SUPI;
  }
  return KEDGE_OK;
}
