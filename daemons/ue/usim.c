/* The UE side of a 5G AKA challenge: what the USIM and the ME check (TS 33.501 6.1.3.2 step 7,
 * TS 33.102 6.3.3, TS 24.501 5.4.1.3.5), and the SEAF's HXRES* check (step 10). */
#include <string.h>

#include <openssl/crypto.h>

#include "ue.h"

/* TS 33.102 Annex H: bit 0 of the AMF, its most significant bit, is the separation bit. */
#define AMF_SEPARATION_BIT 0x80

kedge_err_t ue_usim_authenticate(const ue_usim_t *usim, uint64_t sqn_ms,
                                 const uint8_t rand[KEDGE_RAND_LEN],
                                 const uint8_t autn[KEDGE_AUTN_LEN], const char *snn,
                                 kedge_ue_aka_result_t *res, uint8_t auts[KEDGE_AUTS_LEN])
{
  return ue_usim_authenticate_keyed(usim, sqn_ms, rand, autn, snn, res, auts, NULL);
}

kedge_err_t ue_usim_authenticate_keyed(const ue_usim_t *usim, uint64_t sqn_ms,
                                       const uint8_t rand[KEDGE_RAND_LEN],
                                       const uint8_t autn[KEDGE_AUTN_LEN], const char *snn,
                                       kedge_ue_aka_result_t *res, uint8_t auts[KEDGE_AUTS_LEN],
                                       kedge_kdf_key_t **kausf_key)
{
  if (kausf_key)
    *kausf_key = NULL;
  if (!usim || !rand || !autn || !snn || !res || !auts)
    return KEDGE_ERR_INVALID_ARG;
  /* MAC-A first (a forged AUTN must not tell anything about SQNms), then freshness. */
  kedge_err_t err =
      kedge_aka_ue_respond_keyed(&usim->cred, sqn_ms, rand, autn, snn, res, auts, kausf_key);
  /* TS 33.501 6.1.3.2 step 7 / TS 24.501 5.4.1.3.5: an authentic AUTN whose separation bit is
   * 0 belongs to a non-5G vector: "non-5G authentication unacceptable" (#26). The AMF is
   * covered by MAC-A, so it is trusted only once MAC-A verified (KEDGE_OK or SYNC_FAILURE). */
  if ((err == KEDGE_OK || err == KEDGE_ERR_SYNC_FAILURE) &&
      !(autn[KEDGE_SQN_LEN] & AMF_SEPARATION_BIT)) {
    OPENSSL_cleanse(res, sizeof(*res));
    OPENSSL_cleanse(auts, KEDGE_AUTS_LEN);
    if (kausf_key) {
      kedge_kdf_key_free(*kausf_key);
      *kausf_key = NULL;
    }
    return KEDGE_ERR_UNSUPPORTED;
  }
  return err;
}

kedge_err_t ue_seaf_check_hxres_star(const uint8_t rand[KEDGE_RAND_LEN],
                                     const uint8_t res_star[KEDGE_RES_STAR_LEN],
                                     const uint8_t hxres_star[KEDGE_HXRES_STAR_LEN])
{
  uint8_t hres_star[KEDGE_HXRES_STAR_LEN];
  kedge_err_t err = kedge_aka_hxres_star(rand, res_star, hres_star);
  if (!err && CRYPTO_memcmp(hres_star, hxres_star, sizeof(hres_star)) != 0)
    err = KEDGE_ERR_MAC_FAILURE;
  OPENSSL_cleanse(hres_star, sizeof(hres_star));
  return err;
}
