/* RFC 3339 5.6 date-time in UTC (kedge/rfc3339.h). */
#include "kedge/rfc3339.h"

#include <string.h>
#include <time.h>

void kedge_rfc3339_format(int64_t unix_ms, char out[KEDGE_RFC3339_LEN + 1])
{
  time_t t = (time_t)(unix_ms / 1000);
  struct tm tm;
  if (!gmtime_r(&t, &tm) ||
      strftime(out, KEDGE_RFC3339_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) != KEDGE_RFC3339_LEN)
    memcpy(out, "1970-01-01T00:00:00Z", KEDGE_RFC3339_LEN + 1);
}
