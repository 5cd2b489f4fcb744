/* ECIES as TS 33.501 Annex C.3 uses it to conceal the SUPI (SUCI protection schemes 1 and 2).
 *
 *   Profile A (C.3.4.1): X25519; public keys of 32 octets.
 *   Profile B (C.3.4.2): secp256r1; the ephemeral public key travels compressed (33 octets),
 *                        the home network public key is written compressed too (as in C.4).
 *   Both: shared secret -> ANSI X9.63 KDF (SHA-256, SharedInfo1 = the ephemeral public key as
 *   sent) -> 64 octets = encryption key (16) || initial counter block (16) || MAC key (32);
 *   AES-128-CTR; HMAC-SHA-256 over the ciphertext, truncated to 8 octets.
 *   Scheme output (C.3.3): ephemeral public key || ciphertext || MAC tag.
 *
 * The home network private key lives in a kedge_ecies_key_t (an OpenSSL EVP_PKEY, wiped by
 * OpenSSL when freed); raw private keys handed in or out are the caller's to wipe. Every
 * function is thread-safe; a key may be used by several threads at once. */
#ifndef KEDGE_ECIES_H
#define KEDGE_ECIES_H

#include <stddef.h>
#include <stdint.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kedge_ecies_profile {
  KEDGE_ECIES_PROFILE_A = 1, /* the SUCI protection scheme identifier (TS 33.501 C.1) */
  KEDGE_ECIES_PROFILE_B = 2,
} kedge_ecies_profile_t;

#define KEDGE_ECIES_PRIVATE_LEN   32 /* both profiles: X25519 scalar, P-256 scalar big-endian */
#define KEDGE_ECIES_PUBLIC_A_LEN  32
#define KEDGE_ECIES_PUBLIC_B_LEN  33 /* compressed point (SEC 1 2.3.3) */
#define KEDGE_ECIES_PUBLIC_MAX    33
#define KEDGE_ECIES_MAC_LEN       8
#define KEDGE_ECIES_PLAINTEXT_MAX 256 /* a NAI username at most; a BCD MSIN is 5 octets */
#define KEDGE_ECIES_OUTPUT_MAX                                                                     \
  (KEDGE_ECIES_PUBLIC_MAX + KEDGE_ECIES_PLAINTEXT_MAX + KEDGE_ECIES_MAC_LEN)

/* 32 for A, 33 for B; 0 for anything else. */
size_t kedge_ecies_public_len(kedge_ecies_profile_t profile);

/* "A" or "B" <-> the profile (KEDGE_ERR_INVALID_ARG for anything else, lower case too). */
kedge_err_t kedge_ecies_profile_parse(const char *text, kedge_ecies_profile_t *profile);
const char *kedge_ecies_profile_name(kedge_ecies_profile_t profile);

/* A new key pair from the CSPRNG: the raw private key and the public key as TS 33.501 C.4
 * writes it (`pub` has room for KEDGE_ECIES_PUBLIC_MAX; *pub_len receives its size). */
kedge_err_t kedge_ecies_keygen(kedge_ecies_profile_t profile, uint8_t priv[KEDGE_ECIES_PRIVATE_LEN],
                               uint8_t *pub, size_t *pub_len);

/* The public key of a raw private key. KEDGE_ERR_BAD_LENGTH when a P-256 scalar is 0 or not
 * below the group order. */
kedge_err_t kedge_ecies_public_key(kedge_ecies_profile_t profile,
                                   const uint8_t priv[KEDGE_ECIES_PRIVATE_LEN], uint8_t *pub,
                                   size_t *pub_len);

/* Conceals `in` for the home network public key `hn_pub` (32 or 33 octets as above).
 * eph_priv: the ephemeral private key for known answers, or NULL for a fresh one from the
 * CSPRNG (what a UE must do each time, TS 33.501 6.12.2). `out` has room for
 * public_len + in_len + 8 octets (KEDGE_ECIES_OUTPUT_MAX suffices). KEDGE_ERR_BAD_LENGTH for
 * a key of the wrong size or not on the curve, or in_len over KEDGE_ECIES_PLAINTEXT_MAX. */
kedge_err_t kedge_ecies_conceal(kedge_ecies_profile_t profile, const uint8_t *hn_pub,
                                size_t hn_pub_len, const uint8_t *eph_priv, const uint8_t *in,
                                size_t in_len, uint8_t *out, size_t *out_len);

/* The home network's side: a private key loaded once and used for many de-concealments. */
typedef struct kedge_ecies_key kedge_ecies_key_t;

kedge_err_t kedge_ecies_key_new(kedge_ecies_profile_t profile,
                                const uint8_t priv[KEDGE_ECIES_PRIVATE_LEN],
                                kedge_ecies_key_t **key);
/* A key of the profile from the CSPRNG (a decoy: see kedge/suci.h). */
kedge_err_t kedge_ecies_key_random(kedge_ecies_profile_t profile, kedge_ecies_key_t **key);
void kedge_ecies_key_free(kedge_ecies_key_t *key);
kedge_ecies_profile_t kedge_ecies_key_profile(const kedge_ecies_key_t *key);
/* The public key as C.4 writes it. */
kedge_err_t kedge_ecies_key_public(const kedge_ecies_key_t *key, uint8_t *pub, size_t *pub_len);

/* De-conceals a scheme output into `plain` (room for KEDGE_ECIES_PLAINTEXT_MAX).
 * KEDGE_ERR_MAC_FAILURE when the tag does not verify (compared in constant time) and also
 * when the ephemeral key is not a valid point or gives an all-zero X25519 secret: a caller
 * cannot tell these apart. KEDGE_ERR_BAD_LENGTH when the output is shorter than key + tag or
 * its plaintext would exceed KEDGE_ECIES_PLAINTEXT_MAX. Nothing is written to `plain` unless
 * the tag verifies. */
kedge_err_t kedge_ecies_deconceal(const kedge_ecies_key_t *key, const uint8_t *scheme_output,
                                  size_t len, uint8_t *plain, size_t *plain_len);

#ifdef __cplusplus
}
#endif
#endif
