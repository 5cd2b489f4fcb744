/* Reading a JSON body of one fixed form in place: the form kedge itself writes out with
 * snprintf (kedge_json_plain), compared octet by octet, with its strings and hex digits taken
 * where they stand. Not a JSON parser: a body that is not exactly the form (another member
 * order, whitespace, an escape, another member) is not taken, and the caller parses it with
 * jansson as before, so what is refused and why stays jansson's and the member tables'. Every
 * octet taken is one that jansson decodes to itself (docs/performance-latency.md "Seventh
 * round: the UE side and the UDM": jansson's lexer costs about 170 instructions an octet).
 *
 *   kedge_json_form_t f = kedge_json_form_begin(body, len);
 *   kedge_json_form_literal(&f, "{\"rand\":\"");
 *   kedge_json_form_hex(&f, rand, 16);
 *   kedge_json_form_literal(&f, "\"}");
 *   if (kedge_json_form_end(&f)) ... taken ...
 *
 * A step that does not match fails the cursor, and every later step with it. */
#ifndef KEDGE_JSON_FORM_H
#define KEDGE_JSON_FORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kedge_json_form {
  const char *p; /* next octet; NULL once a step failed */
  const char *end;
} kedge_json_form_t;

/* A cursor on `len` octets at `body` (NULL: a failed cursor). */
kedge_json_form_t kedge_json_form_begin(const void *body, size_t len);
/* The octets of `lit` next. */
bool kedge_json_form_literal(kedge_json_form_t *f, const char *lit);
/* 2 * len hex digits (either case) next, decoded into out (len <= 32; out is wiped when the
 * digits are not hex). */
bool kedge_json_form_hex(kedge_json_form_t *f, uint8_t *out, size_t len);
/* A string's content up to the next '"' (not consumed): 1 to max octets of printable ASCII
 * without '\\' (each its own JSON decoding); *s points at it in the body, *n its length. */
bool kedge_json_form_plain(kedge_json_form_t *f, size_t max, const char **s, size_t *n);
/* The same, copied into out[size] with a NUL (max = size - 1). */
bool kedge_json_form_copy(kedge_json_form_t *f, char *out, size_t size);
/* True when every step matched and the body ends here. */
bool kedge_json_form_end(const kedge_json_form_t *f);

#ifdef __cplusplus
}
#endif
#endif
