/* Bounded string copies. */
#ifndef KEDGE_STR_H
#define KEDGE_STR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Copies `src` into `dst` of `size` octets (size > 0), cut short to size - 1 octets, and
 * always NUL-terminates; returns strlen(src), so a result >= size means it was cut short (BSD
 * strlcpy's contract, which glibc 2.36 lacks). What snprintf(dst, size, "%s", src) does, at a
 * tenth of its instructions (issue 17: docs/performance-latency.md "Seventh round: the AUSF"). */
size_t kedge_str_copy(char *dst, size_t size, const char *src);

#ifdef __cplusplus
}
#endif
#endif
