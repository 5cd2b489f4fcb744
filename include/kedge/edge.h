/* Edge keys, SPEC.md section 2 and 6: Kedge, Kedge-TID, the Kedge ID (an NAI, RFC 7542,
 * modelled on the AKMA A-KID of TS 33.535 6.1) and K_ECS for profile `bound`. */
#ifndef KEDGE_EDGE_H
#define KEDGE_EDGE_H

#include <stddef.h>
#include <stdint.h>

#include "kedge/error.h"
#include "kedge/identity.h"
#include "kedge/kdf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* No FC value is allocated by 3GPP for these (SPEC.md 2); a later allocation is a one-line
 * change here. UE and AUSF must agree. */
#define KEDGE_FC_KEDGE     0xFE
#define KEDGE_FC_KEDGE_TID 0xFD
#define KEDGE_FC_K_ECS     0xFC

#define KEDGE_KEY_LEN     32 /* Kedge and K_ECS: the PSK */
#define KEDGE_TID_LEN     32 /* Kedge-TID */
#define KEDGE_TID_B64_LEN 43 /* base64url without padding of 32 octets */
#define KEDGE_RID_MAX     4
#define KEDGE_ID_MAX      255
#define KEDGE_ECS_ID_MAX  253

/* The UDM's edge flag on the wire (SPEC.md 7). TS 29.500 6.6.3 names a vendor-specific
 * attribute "vendorSpecific-" followed by the vendor's IANA Private Enterprise Number in 6
 * digits (zero-padded), its value a JSON object the vendor defines; a receiver that does not
 * know it ignores it. kedge has no Private Enterprise Number of its own and uses 32473, which
 * RFC 5612 reserves for documentation and examples: AuthenticationInfoResult carries
 * "vendorSpecific-032473": {"edgeInd": true|false}. */
#define KEDGE_VENDOR_SPECIFIC "vendorSpecific-032473"
#define KEDGE_VENDOR_EDGE_IND "edgeInd"

typedef struct kedge_id {
  char rid[KEDGE_RID_MAX + 1]; /* digits as written: "012" and "12" differ */
  uint8_t tid[KEDGE_TID_LEN];
  kedge_plmn_t home; /* the home network of the realm */
} kedge_id_t;

/* Routing indicator: 1 to 4 decimal digits (KEDGE_ERR_BAD_RID). */
kedge_err_t kedge_rid_check(const char *rid);

/* Kedge = KDF(KAUSF, 0xFE, "EDGE", SUPI); Kedge-TID = KDF(KAUSF, 0xFD, "EDGE-TID", SUPI),
 * both from one keyed HMAC state. Either output may be NULL. */
kedge_err_t kedge_derive_edge_keys(const uint8_t kausf[32], const kedge_supi_t *supi,
                                   uint8_t kedge[KEDGE_KEY_LEN], uint8_t kedge_tid[KEDGE_TID_LEN]);

/* "<RID>.<base64url(TID)>@5gc.mnc<MNC>.mcc<MCC>.3gppnetwork.org" into out (NUL-terminated). */
kedge_err_t kedge_id_format(const kedge_id_t *id, char out[KEDGE_ID_MAX + 1]);

/* The strict parser of SPEC.md 2: exactly the grammar above, at most 255 octets, TID of 43
 * base64url characters whose last one carries zero pad bits, lower-case realm, 3-digit MCC and
 * MNC. `len` octets of `text` are read (no NUL needed; an embedded NUL is rejected). On error
 * *why (if not NULL) names the problem in a short static phrase. */
kedge_err_t kedge_id_parse(const char *text, size_t len, kedge_id_t *id, const char **why);

/* All of step 1/2 at once: Kedge and the Kedge ID text from KAUSF, SUPI, RID, home PLMN. */
kedge_err_t kedge_derive_kedge_and_id(const uint8_t kausf[32], const kedge_supi_t *supi,
                                      const char *rid, const kedge_plmn_t *home,
                                      uint8_t kedge[KEDGE_KEY_LEN],
                                      char kedge_id[KEDGE_ID_MAX + 1]);
/* The same from a KDF key keyed with KAUSF (kedge_aka_ue_respond_keyed: the UE's KSEAF came
 * from it), without setting up HMAC with KAUSF again. */
kedge_err_t kedge_derive_kedge_and_id_keyed(kedge_kdf_key_t *kausf_key, const kedge_supi_t *supi,
                                            const char *rid, const kedge_plmn_t *home,
                                            uint8_t kedge[KEDGE_KEY_LEN],
                                            char kedge_id[KEDGE_ID_MAX + 1]);

/* SPEC.md 6: ECS ID = the ECS's FQDN in A-labels, lower case, no trailing dot. Accepts upper
 * case and one trailing dot and writes the normal form; rejects anything that is not a DNS
 * host name (labels of 1-63 letters, digits, hyphens, not starting or ending with a hyphen,
 * at least two labels, at most 253 octets). *why as for kedge_id_parse. */
kedge_err_t kedge_ecs_id_normalise(const char *text, char out[KEDGE_ECS_ID_MAX + 1],
                                   const char **why);

/* K_ECS = KDF(Kedge, 0xFC, ECS ID) for an already normalised ECS ID. */
kedge_err_t kedge_derive_k_ecs(const uint8_t kedge[KEDGE_KEY_LEN], const char *ecs_id,
                               uint8_t k_ecs[KEDGE_KEY_LEN]);

#ifdef __cplusplus
}
#endif
#endif
