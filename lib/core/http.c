/* HTTP header values kedge reads from its peers (include/kedge/http.h). */
#include <stdlib.h>
#include <string.h>

#include "kedge/http.h"

kedge_err_t kedge_http_retry_after_parse(const char *value, unsigned max_s, unsigned *seconds)
{
  /* RFC 9110 10.2.3: delta-seconds = 1*DIGIT; 9 digits keep it inside an unsigned */
  size_t len = value ? strlen(value) : 0;
  if (!seconds || len == 0 || len > 9 || strspn(value, "0123456789") != len)
    return KEDGE_ERR_INVALID_ARG;
  unsigned long s = strtoul(value, NULL, 10);
  *seconds = s > max_s ? max_s : (unsigned)s;
  return KEDGE_OK;
}
