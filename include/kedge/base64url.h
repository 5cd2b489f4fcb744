/* base64url without padding (RFC 4648 5; what JWS/JWK (RFC 7515 2) and the Kedge ID's TID
 * (SPEC.md 2) use). The work is OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock; this is the
 * alphabet translation around them and the strictness they lack: only canonical text decodes
 * (no '=', no white space, unused bits of the last character zero, RFC 4648 3.5). */
#ifndef KEDGE_BASE64URL_H
#define KEDGE_BASE64URL_H

#include <stddef.h>
#include <stdint.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Characters that `n` octets encode to (no padding, no NUL). */
#define KEDGE_B64URL_LEN(n) ((n) / 3 * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

/* Writes KEDGE_B64URL_LEN(len) characters and a NUL to `out` (room for out_size, NUL
 * included: KEDGE_ERR_BAD_LENGTH when smaller; out untouched). *out_len (may be NULL): the
 * characters written. */
kedge_err_t kedge_b64url_encode(const uint8_t *in, size_t len, char *out, size_t out_size,
                                size_t *out_len);

/* Decodes `len` characters (not NUL-terminated) into at most `max` octets, their count to
 * *out_len. KEDGE_ERR_BAD_LENGTH when len % 4 == 1 (no octet string encodes so) or the result
 * would exceed `max`; KEDGE_ERR_INVALID_ARG for a character outside the alphabet ('+', '/',
 * '=', space, NUL) or non-zero unused bits. On error *out_len is 0 and `out` may hold a
 * partial result, wiped. */
kedge_err_t kedge_b64url_decode(const char *in, size_t len, uint8_t *out, size_t max,
                                size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
