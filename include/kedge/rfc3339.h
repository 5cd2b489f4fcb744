/* RFC 3339 5.6 date-time in UTC, whole seconds: "2026-12-06T23:59:59Z" (TS 29.571 DateTime, the
 * `expiry` of the key services). The one formatter of the library; a parser joins it when the
 * key-service client moves into lib/. */
#ifndef KEDGE_RFC3339_H
#define KEDGE_RFC3339_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KEDGE_RFC3339_LEN 20

/* Milliseconds since the Unix epoch -> "YYYY-MM-DDTHH:MM:SSZ" (fractions dropped). */
void kedge_rfc3339_format(int64_t unix_ms, char out[KEDGE_RFC3339_LEN + 1]);

#ifdef __cplusplus
}
#endif
#endif
