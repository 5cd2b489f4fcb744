/* A short, non-secret fingerprint of a key for logs and test output: the first 8 hex digits
 * (32 bits) of SHA-256 over the key octets. Two processes that hold the same key (UE and AUSF
 * with KAUSF, SPEC.md 0 step 0) print the same fingerprint, so a test compares hashes, never
 * keys. 32 bits of a hash reveal nothing usable about a 256-bit key, but they do let a reader
 * tell keys apart: never fingerprint a low-entropy secret (a password, a PIN). */
#ifndef KEDGE_FINGERPRINT_H
#define KEDGE_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KEDGE_FINGERPRINT_LEN 8 /* hex digits, lower case; out[] needs one more for the NUL */

/* out = the first 4 octets of SHA-256(key[0..len-1]) as 8 lower-case hex digits and a NUL.
 * KEDGE_ERR_INVALID_ARG for a NULL argument or len 0, KEDGE_ERR_CRYPTO if OpenSSL fails; on
 * error out is "" (when not NULL). */
kedge_err_t kedge_key_fingerprint(const uint8_t *key, size_t len,
                                  char out[KEDGE_FINGERPRINT_LEN + 1]);

#ifdef __cplusplus
}
#endif
#endif
