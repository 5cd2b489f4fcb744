/* Subscriber and network identities as the key derivations use them: PLMN (MCC/MNC), the
 * serving network name (TS 24.501 9.12.1, TS 33.501 6.1.1.4), and the SUPI (TS 23.003 2.2A)
 * with its KDF form (TS 33.501 A.7.0). */
#ifndef KEDGE_IDENTITY_H
#define KEDGE_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A PLMN with both codes kept as 3-digit strings (MNC zero padded: "01" -> "001"), the form
 * the serving network name and the Kedge ID realm use. */
typedef struct kedge_plmn {
  char mcc[4];
  char mnc[4];
} kedge_plmn_t;

/* MCC: exactly 3 digits; MNC: 2 or 3 digits. KEDGE_ERR_BAD_PLMN otherwise. */
kedge_err_t kedge_plmn_parse(const char *mcc, const char *mnc, kedge_plmn_t *plmn);

/* "5G:mnc<MNC>.mcc<MCC>.3gppnetwork.org" (32 characters + NUL). */
#define KEDGE_SNN_LEN 32
void kedge_serving_network_name(const kedge_plmn_t *plmn, char snn[KEDGE_SNN_LEN + 1]);

/* A SUPI as written in JSON ("imsi-001010123456789", "nai-alice@example.org").
 * IMSI: 5 to 15 digits (TS 23.003 2.2: MCC + MNC + MSIN, at most 15). NAI: user@realm (RFC
 * 7542) of printable ASCII without spaces, exactly one '@', non-empty user and realm. */
#define KEDGE_SUPI_MAX 255
typedef enum kedge_supi_type { KEDGE_SUPI_IMSI, KEDGE_SUPI_NAI } kedge_supi_type_t;

typedef struct kedge_supi {
  kedge_supi_type_t type;
  char value[KEDGE_SUPI_MAX + 1]; /* with prefix, as in JSON */
  size_t len;                     /* strlen(value) */
  size_t kdf_offset;              /* value + kdf_offset is the TS 33.501 A.7.0 form */
} kedge_supi_t;

kedge_err_t kedge_supi_parse(const char *text, kedge_supi_t *supi);

/* TS 33.501 A.7.0: the SUPI as a KDF parameter: the IMSI digits, or the NAI without "nai-". */
static inline const char *kedge_supi_kdf_param(const kedge_supi_t *supi, size_t *len)
{
  *len = supi->len - supi->kdf_offset;
  return supi->value + supi->kdf_offset;
}

/* NF instance ids (TS 29.571 NfInstanceId, format uuid): an RFC 4122 UUID in its string form
 * (8-4-4-4-12 hex digits, either case). */
#define KEDGE_UUID_LEN 36
bool kedge_uuid_check(const char *text);
/* A new version 4 (random, RFC 4122 4.4) UUID in lower case; KEDGE_ERR_CRYPTO if the CSPRNG
 * fails. */
kedge_err_t kedge_uuid_random(char out[KEDGE_UUID_LEN + 1]);

#ifdef __cplusplus
}
#endif
#endif
