/* Bounded string copies. */
#ifndef KEDGE_STR_H
#define KEDGE_STR_H

#include <stddef.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Copies `src` into `dst` of `size` octets, cut short to size - 1 octets, and NUL-terminates
 * when size > 0 (size 0: nothing written); returns strlen(src), so a result >= size means it
 * was cut short (BSD strlcpy's contract, which glibc 2.36 lacks). What
 * snprintf(dst, size, "%s", src) does, at a tenth of its instructions (issue 17:
 * docs/performance-latency.md "Seventh round: the AUSF"). */
size_t kedge_str_copy(char *dst, size_t size, const char *src);

/* Appends n octets of s at *p and a NUL, while they and the NUL fit before `end`; otherwise
 * *p becomes NULL and stays so (a later put does nothing): a text written out piece by piece,
 * checked once at the end (`if (p)`), its length p - start. In place of snprintf with several
 * "%s" (its format pass is 1,000-3,000 instructions a text): the AUSF's and the UDM's answers,
 * paths and sealing AADs. */
static inline void kedge_str_put(char **p, const char *end, const char *s, size_t n)
{
  if (!*p || (size_t)(end - *p) <= n) {
    *p = NULL;
    return;
  }
  memcpy(*p, s, n);
  *p += n;
  **p = '\0';
}
#define KEDGE_PUT_LIT(p, end, lit) kedge_str_put(p, end, lit, sizeof(lit) - 1)
#define KEDGE_PUT_STR(p, end, s)   kedge_str_put(p, end, s, strlen(s))

#ifdef __cplusplus
}
#endif
#endif
