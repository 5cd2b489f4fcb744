/* Bounded string copies (kedge/str.h). */
#include <string.h>

#include "kedge/str.h"

size_t kedge_str_copy(char *dst, size_t size, const char *src)
{
  size_t len = strlen(src);
  if (size == 0) /* strlcpy's and snprintf's contract: no room, nothing written */
    return len;
  size_t n = len < size ? len : size - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
  return len;
}
