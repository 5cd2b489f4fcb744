/* The UDM's SIDF (TS 33.501 6.12.5): supiOrSuci in the Nudm_UEAU resource URI (TS 29.503
 * 6.3.3.2.2, TS 23.003 2.2B) to the SUPI, and the home network private keys it uses. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "kedge/hex.h"
#include "kedge/log.h"
#include "udm.h"

kedge_err_t udm_suci_load(udm_t *udm, char *why, size_t why_size)
{
  kedge_err_t err = kedge_suci_keys_new(&udm->suci_keys);
  if (err) {
    snprintf(why, why_size, "SUCI keys: %s", kedge_strerror(err));
    return err;
  }
  for (size_t i = 0; i < udm->n_suci_key_conf && !err; i++) {
    const udm_suci_key_conf_t *c = &udm->suci_key_conf[i];
    uint8_t priv[KEDGE_ECIES_PRIVATE_LEN], pub[KEDGE_ECIES_PUBLIC_MAX];
    char pub_hex[2 * KEDGE_ECIES_PUBLIC_MAX + 1];
    size_t pub_len = 0;
    kedge_ecies_profile_t profile;
    err = kedge_suci_key_file_read(c->private_key, &udm->master_key, &profile, priv, why, why_size);
    if (!err && profile != c->profile) {
      err = KEDGE_ERR_CONFIG;
      snprintf(why, why_size,
               "%s: holds a profile %s key, but udm.suci.keys says %s for hnPubKeyId %u",
               c->private_key, kedge_ecies_profile_name(profile),
               kedge_ecies_profile_name(c->profile), c->id);
    }
    if (!err && (err = kedge_suci_keys_add(udm->suci_keys, c->id, profile, priv)))
      snprintf(why, why_size, "%s: cannot load the key: %s", c->private_key, kedge_strerror(err));
    if (!err && !kedge_ecies_public_key(profile, priv, pub, &pub_len)) {
      kedge_hex_encode(pub, pub_len, pub_hex);
      kedge_log_info("SUCI: hnPubKeyId %u, profile %s, public key %s", c->id,
                     kedge_ecies_profile_name(profile), pub_hex);
    }
    OPENSSL_cleanse(priv, sizeof(priv));
  }
  if (err) {
    kedge_suci_keys_free(udm->suci_keys);
    udm->suci_keys = NULL;
  }
  return err;
}

void udm_suci_free(udm_t *udm)
{
  kedge_suci_keys_free(udm->suci_keys);
  udm->suci_keys = NULL;
}

kedge_err_t udm_resolve_supi_or_suci(const udm_t *udm, const char *text, kedge_supi_t *supi,
                                     char rid[KEDGE_RID_MAX + 1], const char **why)
{
  *why = NULL;
  rid[0] = '\0';
  if (strncmp(text, "suci-", 5) != 0 && strncmp(text, "type", 4) != 0) {
    if (kedge_supi_parse(text, supi) != KEDGE_OK) {
      *why = "not a SUPI (imsi-<5 to 15 digits>, nai-<user>@<realm>) or SUCI";
      return KEDGE_ERR_BAD_SUPI;
    }
    return KEDGE_OK;
  }
  kedge_suci_t suci;
  kedge_err_t err = kedge_suci_parse(text, &suci, why);
  if (err == KEDGE_ERR_BAD_HEX)
    err = KEDGE_ERR_MAC_FAILURE; /* a malformed scheme output: answered like a MAC failure */
  if (err) {
    if (err == KEDGE_ERR_MAC_FAILURE)
      *why = "the SUCI's scheme output cannot be de-concealed";
    return err;
  }
  err = kedge_suci_deconceal(udm->suci_keys, &suci, supi);
  switch (err) {
  case KEDGE_OK:
    memcpy(rid, suci.rid, sizeof(suci.rid));
    break;
  case KEDGE_ERR_UNSUPPORTED:
    *why = "protection scheme not supported (0: null, 1: ECIES profile A, 2: profile B)";
    break;
  case KEDGE_ERR_MAC_FAILURE: /* also an unknown hnPubKeyId: one text for both (SPEC.md 8) */
    *why = "the SUCI's scheme output cannot be de-concealed";
    break;
  case KEDGE_ERR_BAD_SUPI:
    *why = "null-scheme output must be the MSIN (MCC + MNC + MSIN at most 15 digits) or username";
    break;
  default:
    *why = kedge_strerror(err);
  }
  OPENSSL_cleanse(&suci, sizeof(suci));
  return err;
}
