/* Reader for the known-answer files in tests/vectors/ (copied from the shared vectors).
 * A section starts at a line beginning with its header ("[kedge-1]", "## 3."); a value is
 * found by its key at the start of a line or after two spaces, followed by '=' (e.g.
 * "SQN = 000000000001  AMF = 8000"). */
#ifndef KEDGE_TEST_VECTORS_H
#define KEDGE_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>

/* The whole file, NUL-terminated; fails the test if it cannot be read. free() it. */
char *vec_load(const char *file_name);

/* Copies the value (up to end of line or two spaces, whitespace-trimmed) into out.
 * Fails the test if the section or key is missing. */
void vec_text(const char *data, const char *section, const char *key, char *out, size_t size);

/* The value as exactly `len` octets of hex; fails the test otherwise. */
void vec_hex(const char *data, const char *section, const char *key, uint8_t *out, size_t len);

#endif
