/* Hex strings <-> octets. kedge writes hex in lower case (SPEC.md, TS 29.509 string formats). */
#ifndef KEDGE_HEX_H
#define KEDGE_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Decodes exactly `len` octets from `hex` (NUL-terminated, upper or lower case).
 * KEDGE_ERR_BAD_HEX for a non-hex character or odd length, KEDGE_ERR_BAD_LENGTH when the
 * string holds another number of octets. `out` is untouched on error. */
kedge_err_t kedge_hex_decode(const char *hex, uint8_t *out, size_t len);

/* Decodes up to `max` octets; the count goes to *len. */
kedge_err_t kedge_hex_decode_var(const char *hex, uint8_t *out, size_t max, size_t *len);

/* Writes 2*len lower-case hex digits and a NUL to `out` (room for 2*len+1). */
void kedge_hex_encode(const uint8_t *in, size_t len, char *out);

#ifdef __cplusplus
}
#endif
#endif
