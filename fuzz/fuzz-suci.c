/* libFuzzer target: the strict SUCI parser (kedge/suci.h, SBI and NAI forms) and the SIDF on
 * whatever it accepts. Invariants: no crash; every rejection names its reason; a parsed SUCI
 * formats to a string that parses to the same SUCI; de-concealment with keys that did not make
 * the SUCI never succeeds for a protected scheme (and the null scheme gives a valid SUPI). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kedge/suci.h"

static kedge_suci_keys_t *keys;

static bool same(const kedge_suci_t *a, const kedge_suci_t *b)
{
  return a->supi_type == b->supi_type && !strcmp(a->mcc, b->mcc) && !strcmp(a->mnc, b->mnc) &&
         !strcmp(a->realm, b->realm) && !strcmp(a->rid, b->rid) && a->scheme == b->scheme &&
         a->hn_key_id == b->hn_key_id && a->output_len == b->output_len &&
         !memcmp(a->output, b->output, a->output_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (!keys) {
    uint8_t priv[KEDGE_ECIES_PRIVATE_LEN] = {1}, pub[KEDGE_ECIES_PUBLIC_MAX];
    size_t len;
    if (kedge_suci_keys_new(&keys) || kedge_ecies_keygen(KEDGE_ECIES_PROFILE_B, priv, pub, &len) ||
        kedge_suci_keys_add(keys, 1, KEDGE_ECIES_PROFILE_A, priv) ||
        kedge_suci_keys_add(keys, 2, KEDGE_ECIES_PROFILE_B, priv))
      abort();
  }
  char text[KEDGE_SUCI_MAX + 2];
  size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
  memcpy(text, data, n);
  text[n] = '\0';
  kedge_suci_t suci, again;
  const char *why = NULL;
  kedge_err_t err = kedge_suci_parse(text, &suci, &why);
  if (err) {
    if (!why)
      abort();
    return 0;
  }
  char back[KEDGE_SUCI_MAX + 1];
  err = kedge_suci_format(&suci, back, sizeof(back));
  if (err == KEDGE_ERR_INVALID_ARG && suci.supi_type == 1)
    ; /* a realm the SBI form cannot carry: the NAI form below still must */
  else if (err || kedge_suci_parse(back, &again, &why) || !same(&suci, &again))
    abort();
  if (suci.supi_type == 1 && (kedge_suci_format_nai(&suci, back, sizeof(back)) == KEDGE_OK) &&
      (kedge_suci_parse(back, &again, &why) || !same(&suci, &again)))
    abort();
  kedge_supi_t supi;
  err = kedge_suci_deconceal(keys, &suci, &supi);
  if (suci.scheme != KEDGE_SUCI_NULL && err == KEDGE_OK)
    abort(); /* a forged MAC verified: 2^-64 by chance, a bug otherwise */
  if (err == KEDGE_OK && kedge_supi_parse(supi.value, &supi) != KEDGE_OK)
    abort();
  return 0;
}
