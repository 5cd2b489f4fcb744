/* 5G AKA key material, TS 33.501 6.1.3.2 and Annex A, on Milenage (TS 35.206).
 * Functions for both ends: the home network (UDM/ARPF builds the 5G HE AV, checks AUTS; the
 * AUSF derives HXRES* and KSEAF) and the UE (USIM checks AUTN, builds RES* and KAUSF, or AUTS
 * when the SQN is not fresh). */
#ifndef KEDGE_AKA_H
#define KEDGE_AKA_H

#include <stddef.h>
#include <stdint.h>

#include "kedge/error.h"
#include "kedge/kdf.h"
#include "kedge/milenage.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KEDGE_AUTN_LEN       16
#define KEDGE_AUTS_LEN       14
#define KEDGE_RES_STAR_LEN   16
#define KEDGE_HXRES_STAR_LEN 16
#define KEDGE_KAUSF_LEN      32
#define KEDGE_KSEAF_LEN      32

/* FC values of TS 33.501 Annex A. */
#define KEDGE_FC_KAUSF    0x6A /* A.2 */
#define KEDGE_FC_RES_STAR 0x6B /* A.4 */
#define KEDGE_FC_KSEAF    0x6C /* A.6 */

/* The subscriber's long-term credentials, as held by the ARPF and the USIM. */
typedef struct kedge_aka_credentials {
  uint8_t k[KEDGE_K_LEN];
  uint8_t opc[KEDGE_OPC_LEN];
} kedge_aka_credentials_t;

/* A.2: KAUSF = KDF(CK || IK, 0x6A, SNN, SQN xor AK). */
kedge_err_t kedge_aka_kausf(const uint8_t ck[KEDGE_CK_LEN], const uint8_t ik[KEDGE_IK_LEN],
                            const char *snn, const uint8_t sqn_xor_ak[KEDGE_SQN_LEN],
                            uint8_t kausf[KEDGE_KAUSF_LEN]);

/* A.4: RES* / XRES* = last 16 octets of KDF(CK || IK, 0x6B, SNN, RAND, RES). */
kedge_err_t kedge_aka_res_star(const uint8_t ck[KEDGE_CK_LEN], const uint8_t ik[KEDGE_IK_LEN],
                               const char *snn, const uint8_t rand[KEDGE_RAND_LEN],
                               const uint8_t *res, size_t res_len,
                               uint8_t res_star[KEDGE_RES_STAR_LEN]);

/* A.5: HXRES* = last 16 octets of SHA-256(RAND || XRES*). */
kedge_err_t kedge_aka_hxres_star(const uint8_t rand[KEDGE_RAND_LEN],
                                 const uint8_t xres_star[KEDGE_RES_STAR_LEN],
                                 uint8_t hxres_star[KEDGE_HXRES_STAR_LEN]);

/* A.6: KSEAF = KDF(KAUSF, 0x6C, SNN). */
kedge_err_t kedge_aka_kseaf(const uint8_t kausf[KEDGE_KAUSF_LEN], const char *snn,
                            uint8_t kseaf[KEDGE_KSEAF_LEN]);
/* The same under a KDF key keyed with KAUSF (kedge_kdf_key_new, or what
 * kedge_aka_ue_respond_keyed hands back): the AUSF derives KSEAF and the edge keys
 * (kedge_derive_kedge_and_id_keyed) under one HMAC key set-up. */
kedge_err_t kedge_aka_kseaf_keyed(kedge_kdf_key_t *kausf_key, const char *snn,
                                  uint8_t kseaf[KEDGE_KSEAF_LEN]);

/* TS 33.501 6.1.3.2 step 1-2: the 5G HE AV the UDM/ARPF sends to the AUSF.
 * AUTN = (SQN xor AK) || AMF || MAC-A. */
typedef struct kedge_he_av {
  uint8_t rand[KEDGE_RAND_LEN];
  uint8_t autn[KEDGE_AUTN_LEN];
  uint8_t xres_star[KEDGE_RES_STAR_LEN];
  uint8_t kausf[KEDGE_KAUSF_LEN];
} kedge_he_av_t;

kedge_err_t kedge_aka_generate_he_av(const kedge_aka_credentials_t *cred,
                                     const uint8_t rand[KEDGE_RAND_LEN], uint64_t sqn,
                                     const uint8_t amf[KEDGE_AMF_LEN], const char *snn,
                                     kedge_he_av_t *av);

/* TS 33.102 6.3.3: the USIM's check of AUTN: recovers SQN = (SQN xor AK) xor AK and verifies
 * MAC-A in constant time (KEDGE_ERR_MAC_FAILURE). On success *sqn is the network's SQN and
 * res/ck/ik (each may be NULL) are f2/f3/f4 of RAND. The SQN freshness is the caller's
 * decision (kedge_sqn_is_fresh); kedge_aka_ue_respond does both. */
kedge_err_t kedge_aka_autn_check(const kedge_aka_credentials_t *cred,
                                 const uint8_t rand[KEDGE_RAND_LEN],
                                 const uint8_t autn[KEDGE_AUTN_LEN], uint64_t *sqn,
                                 uint8_t res[KEDGE_RES_LEN], uint8_t ck[KEDGE_CK_LEN],
                                 uint8_t ik[KEDGE_IK_LEN]);

/* TS 33.102 6.3.3 / 6.3.5: AUTS = (SQNms xor AK*) || MAC-S, MAC-S = f1*(SQNms, RAND, AMF 0000). */
kedge_err_t kedge_aka_auts_build(const kedge_aka_credentials_t *cred,
                                 const uint8_t rand[KEDGE_RAND_LEN], uint64_t sqn_ms,
                                 uint8_t auts[KEDGE_AUTS_LEN]);

/* UDM side of resynchronisation: verifies MAC-S in constant time and recovers SQNms. */
kedge_err_t kedge_aka_auts_check(const kedge_aka_credentials_t *cred,
                                 const uint8_t rand[KEDGE_RAND_LEN],
                                 const uint8_t auts[KEDGE_AUTS_LEN], uint64_t *sqn_ms);

/* The UE's answer to an authentication request (TS 33.501 6.1.3.2 step 7-8). */
typedef struct kedge_ue_aka_result {
  uint64_t sqn; /* the accepted SQN: the new SQNms */
  uint8_t res_star[KEDGE_RES_STAR_LEN];
  uint8_t kausf[KEDGE_KAUSF_LEN];
  uint8_t kseaf[KEDGE_KSEAF_LEN];
} kedge_ue_aka_result_t;

/* Checks AUTN against the highest accepted SQN `sqn_ms`. KEDGE_OK: *result is filled.
 * KEDGE_ERR_MAC_FAILURE: the network is not authentic. KEDGE_ERR_SYNC_FAILURE: SQN not fresh,
 * `auts` (if not NULL) carries SQNms for resynchronisation. */
kedge_err_t kedge_aka_ue_respond(const kedge_aka_credentials_t *cred, uint64_t sqn_ms,
                                 const uint8_t rand[KEDGE_RAND_LEN],
                                 const uint8_t autn[KEDGE_AUTN_LEN], const char *snn,
                                 kedge_ue_aka_result_t *result, uint8_t auts[KEDGE_AUTS_LEN]);
/* kedge_aka_ue_respond, and on KEDGE_OK the KDF key keyed with KAUSF that derived KSEAF into
 * *kausf_key (the caller's: kedge_kdf_key_free wipes it), so Kedge (and more keys from KAUSF)
 * come without a second HMAC key set-up (kedge_derive_kedge_and_id_keyed); NULL otherwise. */
kedge_err_t kedge_aka_ue_respond_keyed(const kedge_aka_credentials_t *cred, uint64_t sqn_ms,
                                       const uint8_t rand[KEDGE_RAND_LEN],
                                       const uint8_t autn[KEDGE_AUTN_LEN], const char *snn,
                                       kedge_ue_aka_result_t *result, uint8_t auts[KEDGE_AUTS_LEN],
                                       kedge_kdf_key_t **kausf_key);

#ifdef __cplusplus
}
#endif
#endif
