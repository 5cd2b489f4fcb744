/* RFC 3339 5.6 date-time, the one codec (TS 29.571 DateTime), and the wall clock it reads. */
#ifndef KEDGE_RFC3339_H
#define KEDGE_RFC3339_H

#include <stdint.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* RFC 3339 date-time ("2026-11-27T20:58:04Z", fractions and offsets allowed) to Unix
 * milliseconds; KEDGE_ERR_INVALID_ARG for anything else. */
kedge_err_t kedge_rfc3339_parse(const char *text, int64_t *unix_ms);
/* Unix milliseconds to "YYYY-MM-DDTHH:MM:SSZ" (21 octets with NUL). */
void kedge_rfc3339_format(int64_t unix_ms, char out[21]);
/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t kedge_wall_ms(void);

#ifdef __cplusplus
}
#endif
#endif
