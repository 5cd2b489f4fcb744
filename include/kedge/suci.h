/* SUCI: the Subscription Concealed Identifier (TS 33.501 6.12, Annex C; TS 23.003 2.2B).
 *
 * String forms read and written:
 *   SBI (TS 29.503 / TS 29.571 SupiOrSuci):
 *     suci-0-<MCC>-<MNC>-<RID>-<scheme>-<hnPubKeyId>-<schemeOutput>   (IMSI SUPI)
 *     suci-1-<realm>-<RID>-<scheme>-<hnPubKeyId>-<schemeOutput>       (NAI SUPI)
 *   NAI (TS 23.003 2.2B, network specific identifier SUPIs):
 *     type1.rid<RID>.schid<scheme>.hnkey<id>.ecckey<hex>.cip<hex>.mac<hex>@<realm>
 *     type1.rid<RID>.schid0.userid<username>@<realm>                  (null scheme)
 * The scheme output of the null scheme is the MSIN digits or the NAI username as text; of
 * the ECIES schemes, lower- or upper-case hex of ephemeral key || ciphertext || MAC tag.
 * Scheme 0 goes with hnPubKeyId 0, the others with 1..255 (the SupiOrSuci pattern).
 *
 * Scheme input of the ECIES schemes (TS 24.501 9.11.3.4, TS 33.501 C.3.2): for an IMSI the
 * MSIN in BCD, two digits an octet, first digit in the low nibble, an odd count filled with F;
 * for a NAI the username's octets. */
#ifndef KEDGE_SUCI_H
#define KEDGE_SUCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kedge/ecies.h"
#include "kedge/error.h"
#include "kedge/identity.h"
#include "kedge/seal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KEDGE_SUCI_NULL       0 /* protection scheme identifiers, TS 33.501 C.1 */
#define KEDGE_SUCI_PROFILE_A  1
#define KEDGE_SUCI_PROFILE_B  2
#define KEDGE_SUCI_REALM_MAX  253
#define KEDGE_SUCI_OUTPUT_MAX KEDGE_ECIES_OUTPUT_MAX
/* The longest SBI or NAI string: prefix, realm, RID, ids and the hex scheme output. */
#define KEDGE_SUCI_MAX (64 + KEDGE_SUCI_REALM_MAX + 2 * KEDGE_SUCI_OUTPUT_MAX)

typedef struct kedge_suci {
  unsigned supi_type;                    /* 0: IMSI, 1: network specific identifier (NAI) */
  char mcc[4], mnc[4];                   /* type 0: as written (the MNC has 2 or 3 digits) */
  char realm[KEDGE_SUCI_REALM_MAX + 1];  /* type 1 */
  char rid[5];                           /* routing indicator: 1 to 4 digits as written */
  unsigned scheme;                       /* protection scheme identifier, 0..15 */
  unsigned hn_key_id;                    /* home network public key identifier, 0..255 */
  uint8_t output[KEDGE_SUCI_OUTPUT_MAX]; /* scheme 0: text; others: octets */
  size_t output_len;
} kedge_suci_t;

/* Parses either string form strictly. KEDGE_ERR_BAD_SUPI with a reason in *why (static text,
 * never the input) for anything outside the grammar above, including SUPI types 2..7 (wireline
 * GLI/GCI, not supported); KEDGE_ERR_BAD_HEX when only the scheme output of an ECIES-form SUCI
 * is at fault (not hex, odd, empty, too long; in NAI form a key or tag of the wrong size), which
 * the SIDF answers like a MAC failure. Any scheme 0..15 parses; kedge_suci_deconceal() decides
 * support. */
kedge_err_t kedge_suci_parse(const char *text, kedge_suci_t *suci, const char **why);

/* The SBI form, and the NAI form (type 1 only); KEDGE_ERR_TOO_BIG when `size` is too small.
 * KEDGE_ERR_INVALID_ARG for a type 1 SUCI whose realm would be misread in the SBI form (it
 * holds "-<RID>-<scheme>-<id>-" itself), or an ECIES SUCI without ciphertext in NAI form. */
kedge_err_t kedge_suci_format(const kedge_suci_t *suci, char *out, size_t size);
kedge_err_t kedge_suci_format_nai(const kedge_suci_t *suci, char *out, size_t size);

/* What a UE needs to conceal its SUPI. */
typedef struct kedge_suci_params {
  const char *mcc, *mnc; /* IMSI SUPIs: the home network; the IMSI must begin with them */
  const char *rid;       /* NULL: "0" */
  unsigned scheme;       /* KEDGE_SUCI_NULL, _PROFILE_A or _PROFILE_B */
  unsigned hn_key_id;    /* 1..255 for A and B; ignored for the null scheme (0) */
  const uint8_t *hn_pub; /* A: 32 octets, B: 33 (compressed) */
  size_t hn_pub_len;
  const uint8_t *eph_priv; /* NULL: a fresh ephemeral key (TS 33.501 6.12.2); known answers */
} kedge_suci_params_t;

/* The SUCI of `supi`. KEDGE_ERR_BAD_PLMN when the IMSI does not start with MCC + MNC (or the
 * MSIN would be empty), KEDGE_ERR_BAD_RID, KEDGE_ERR_UNSUPPORTED for another scheme,
 * KEDGE_ERR_BAD_LENGTH for a public key of the wrong size or not on the curve. */
kedge_err_t kedge_suci_conceal(const kedge_supi_t *supi, const kedge_suci_params_t *params,
                               kedge_suci_t *suci);

/* The scheme input (see above) of the SUPI part after MCC + MNC (IMSI) or the username (NAI):
 * `in` is the MSIN digits or the username; out has room for KEDGE_ECIES_PLAINTEXT_MAX. */
kedge_err_t kedge_suci_scheme_input(unsigned supi_type, const char *in, uint8_t *out,
                                    size_t *out_len);

/* The home network's private keys by hnPubKeyId (the SIDF's side, TS 33.501 6.12.5). */
typedef struct kedge_suci_keys kedge_suci_keys_t;

kedge_err_t kedge_suci_keys_new(kedge_suci_keys_t **keys);
/* KEDGE_ERR_EXISTS when `id` (1..255) is taken; the raw key stays the caller's to wipe. */
kedge_err_t kedge_suci_keys_add(kedge_suci_keys_t *keys, unsigned id, kedge_ecies_profile_t profile,
                                const uint8_t priv[KEDGE_ECIES_PRIVATE_LEN]);
void kedge_suci_keys_free(kedge_suci_keys_t *keys);

/* The SUPI inside a SUCI. Results:
 *   KEDGE_OK
 *   KEDGE_ERR_UNSUPPORTED  a protection scheme other than 0, 1, 2
 *   KEDGE_ERR_MAC_FAILURE  the scheme output does not de-conceal: unknown hnPubKeyId (or one
 *                          of the other profile), MAC failure, bad ephemeral key, wrong
 *                          length, or a plaintext that is no MSIN/username. One code for all,
 *                          and an unknown id runs the whole computation with a decoy key of
 *                          the profile, so neither the answer nor its time tells which.
 *   KEDGE_ERR_BAD_SUPI     null scheme: the output is no MSIN/username, or the SUPI made from
 *                          it is not valid. */
kedge_err_t kedge_suci_deconceal(const kedge_suci_keys_t *keys, const kedge_suci_t *suci,
                                 kedge_supi_t *supi);

/* Sealed private key files, written by `kedge suci keygen` and read by kedge-udmd: one line
 * "kedge-suci-key <A|B> <hex of kedge_seal(private key)>", mode 0600, sealed under the UDM's
 * master key with the additional data "kedge:suci-hn-key:<A|B>" (so a file relabelled with
 * the other profile does not open). `why` gets one line naming the file. */
kedge_err_t kedge_suci_key_file_write(const char *path, const kedge_master_key_t *mk,
                                      kedge_ecies_profile_t profile,
                                      const uint8_t priv[KEDGE_ECIES_PRIVATE_LEN], char *why,
                                      size_t why_size);
kedge_err_t kedge_suci_key_file_read(const char *path, const kedge_master_key_t *mk,
                                     kedge_ecies_profile_t *profile,
                                     uint8_t priv[KEDGE_ECIES_PRIVATE_LEN], char *why,
                                     size_t why_size);

#ifdef __cplusplus
}
#endif
#endif
