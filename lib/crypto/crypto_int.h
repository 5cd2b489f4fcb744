/* lib/crypto internals shared by the edge keys (edge.c, SPEC.md 2) and AKMA (akma.c, SPEC.md 9):
 * both derive a key and a temporary identifier from KAUSF and the SUPI, and both spell their key
 * identifier as the NAI "<RID>.<base64url(TID)>@5gc.mnc<MNC>.mcc<MCC>.3gppnetwork.org". One
 * derivation, one parser and one formatter for both, so the two cannot drift apart. */
#ifndef KEDGE_CRYPTO_INT_H
#define KEDGE_CRYPTO_INT_H

#include <stdint.h>

#include "kedge/edge.h"
#include "kedge/kdf.h"

/* FC and label (P0) of the key and of the temporary identifier; P1 is the SUPI (A.7.0 form). */
typedef struct kedge_kausf_pair {
  uint8_t key_fc;
  const char *key_label;
  uint8_t tid_fc;
  const char *tid_label;
} kedge_kausf_pair_t;

/* Either output may be NULL. */
kedge_err_t kedge_kausf_pair_derive(const kedge_kausf_pair_t *pair, const uint8_t kausf[32],
                                    const kedge_supi_t *supi, uint8_t key_out[32],
                                    uint8_t tid_out[32]);
/* The key and the key identifier's text for RID and home PLMN; from `kausf_key` (a KDF key
 * keyed with KAUSF, kedge_aka_ue_respond_keyed) when not NULL, else from `kausf`. */
kedge_err_t kedge_kausf_pair_derive_with_id(const kedge_kausf_pair_t *pair, const uint8_t kausf[32],
                                            kedge_kdf_key_t *kausf_key, const kedge_supi_t *supi,
                                            const char *rid, const kedge_plmn_t *home,
                                            uint8_t key_out[32], char id_text[KEDGE_ID_MAX + 1]);

/* SHA-256 with the algorithm fetched once (EVP_sha256() makes EVP_Digest fetch it per call). */
kedge_err_t kedge_sha256(const void *in, size_t len, uint8_t out[32]);

/* One Milenage run (TS 35.206 4.1) over one K, OPc and RAND: E_K keyed once and TEMP computed
 * once for f1 and f2..f5* (the UDM's vector and the USIM's AUTN check need both; the public
 * kedge_milenage_f1 and _f2345 each key E_K again: 2 key set-ups and a TEMP more per vector).
 * _end wipes it; _f1 and _f2345 take the same NULL outputs as the public functions. */
typedef struct kedge_milenage_run {
  struct evp_cipher_ctx_st *aes; /* E_K */
  uint8_t opc[16];
  uint8_t temp[16];
} kedge_milenage_run_t;

kedge_err_t kedge_milenage_run_begin(kedge_milenage_run_t *m, const uint8_t k[16],
                                     const uint8_t opc[16], const uint8_t rand[16]);
kedge_err_t kedge_milenage_run_f1(kedge_milenage_run_t *m, const uint8_t sqn[6],
                                  const uint8_t amf[2], uint8_t mac_a[8], uint8_t mac_s[8]);
kedge_err_t kedge_milenage_run_f2345(kedge_milenage_run_t *m, uint8_t res[8], uint8_t ck[16],
                                     uint8_t ik[16], uint8_t ak[6], uint8_t ak_star[6]);
void kedge_milenage_run_end(kedge_milenage_run_t *m);

kedge_err_t kedge_nai_key_id_format(const kedge_id_t *id, char out[KEDGE_ID_MAX + 1]);
/* Errors come back as KEDGE_ERR_BAD_KEDGE_ID (or KEDGE_ERR_INVALID_ARG); the caller maps them
 * to its own code. */
kedge_err_t kedge_nai_key_id_parse(const char *text, size_t len, kedge_id_t *id, const char **why);

#endif
