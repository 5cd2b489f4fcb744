/* AKMA keys and identifiers (TS 33.535; SPEC.md 9): K_AKMA, A-TID, the A-KID, AF_ID and K_AF.
 *
 * TS 33.535 Annex A.2-A.4 fix the derivations (KDF of TS 33.220 B.2.2, FC 0x80-0x82, SUPI in
 * the TS 33.501 A.7.0 form). TS 33.535 6.1 makes the A-KID an NAI (RFC 7542 2.2) whose username
 * carries the routing indicator and the A-TID and whose realm carries the home network
 * identifier; kedge spells the username exactly like its Kedge ID ("<RID>.<base64url(A-TID)>",
 * SPEC.md 2 and 9) and uses the realm of TS 23.003 28.7.3
 * ("5gc.mnc<MNC>.mcc<MCC>.3gppnetwork.org"), see docs/akma.md for why. */
#ifndef KEDGE_AKMA_H
#define KEDGE_AKMA_H

#include <stddef.h>
#include <stdint.h>

#include "kedge/edge.h"
#include "kedge/error.h"
#include "kedge/identity.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TS 33.535 A.1: FC values 0x80-0x82 are allocated to AKMA. */
#define KEDGE_FC_K_AKMA 0x80 /* A.2 */
#define KEDGE_FC_A_TID  0x81 /* A.3 */
#define KEDGE_FC_K_AF   0x82 /* A.4 */

#define KEDGE_K_AKMA_LEN 32
#define KEDGE_A_TID_LEN  32
#define KEDGE_K_AF_LEN   32
#define KEDGE_AKID_MAX   KEDGE_ID_MAX

/* TS 33.220 Annex H.3: Ua security protocol identifier (0x01,0x00,0x00,0x00,0x07), "Ua security
 * protocol for shared key TLS 1.3 given in clause 5.4.0.2 of TS 33.222" - the TLS 1.3
 * external-PSK profile kedge's ECS runs. Five octets (H.1: one organisation octet, 0x01 = 3GPP,
 * and four protocol octets). */
#define KEDGE_UA_SPID_LEN 5
#define KEDGE_UA_SPID_TLS13_PSK                                                                    \
  {                                                                                                \
    0x01, 0x00, 0x00, 0x00, 0x07                                                                   \
  }
/* AF_ID = FQDN of the AF || Ua* security protocol identifier (TS 33.535 A.4). */
#define KEDGE_AF_ID_MAX (KEDGE_ECS_ID_MAX + KEDGE_UA_SPID_LEN)

/* The A-KID has the Kedge ID's structure: RID, A-TID, home PLMN. */
typedef kedge_id_t kedge_akid_t;

/* K_AKMA = KDF(KAUSF, 0x80, "AKMA", SUPI); A-TID = KDF(KAUSF, 0x81, "A-TID", SUPI); one keyed
 * HMAC state for both. Either output may be NULL. */
kedge_err_t kedge_derive_akma_keys(const uint8_t kausf[32], const kedge_supi_t *supi,
                                   uint8_t k_akma[KEDGE_K_AKMA_LEN],
                                   uint8_t a_tid[KEDGE_A_TID_LEN]);

/* "<RID>.<base64url(A-TID)>@5gc.mnc<MNC>.mcc<MCC>.3gppnetwork.org" (NUL-terminated). */
kedge_err_t kedge_akid_format(const kedge_akid_t *akid, char out[KEDGE_AKID_MAX + 1]);

/* The strict A-KID parser: the grammar above and nothing else (<= 255 octets, 1-4 digit RID,
 * 43 base64url characters with zero pad bits, lower-case realm, 3-digit MCC and MNC).
 * KEDGE_ERR_BAD_AKID with *why (if not NULL) naming the problem. */
kedge_err_t kedge_akid_parse(const char *text, size_t len, kedge_akid_t *akid, const char **why);

/* K_AKMA and the A-KID text at once, as the AUSF and the UE derive them (TS 33.535 6.1). */
kedge_err_t kedge_derive_k_akma_and_akid(const uint8_t kausf[32], const kedge_supi_t *supi,
                                         const char *rid, const kedge_plmn_t *home,
                                         uint8_t k_akma[KEDGE_K_AKMA_LEN],
                                         char akid[KEDGE_AKID_MAX + 1]);

/* AF_ID octets for an AF FQDN normalised by kedge_ecs_id_normalise(): FQDN || 01 00 00 00 07.
 * *len gets the length. */
kedge_err_t kedge_af_id_build(const char *af_fqdn, uint8_t out[KEDGE_AF_ID_MAX], size_t *len);

/* K_AF = KDF(K_AKMA, 0x82, AF_ID) for a normalised AF FQDN (TS 33.535 A.4). */
kedge_err_t kedge_derive_k_af(const uint8_t k_akma[KEDGE_K_AKMA_LEN], const char *af_fqdn,
                              uint8_t k_af[KEDGE_K_AF_LEN]);

#ifdef __cplusplus
}
#endif
#endif
