/* Time for the whole library: one monotonic and one wall clock in milliseconds, and one
 * RFC 3339 date-time codec (the `expiry` of the key APIs, SPEC.md 3; TS 29.571 DateTime). */
#ifndef KEDGE_TIME_H
#define KEDGE_TIME_H

#include <stdint.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* CLOCK_MONOTONIC in milliseconds: deadlines, TTLs, rate limits. */
int64_t kedge_now_ms(void);
/* The same clock in microseconds: durations that logs and metrics report below a millisecond
 * (request times, the trace's spans). */
int64_t kedge_now_us(void);
/* CLOCK_REALTIME in milliseconds since the Unix epoch: expiry times on the wire. */
int64_t kedge_wall_ms(void);
/* CLOCK_REALTIME in microseconds: the trace's event timestamps, comparable across processes. */
int64_t kedge_wall_us(void);

/* RFC 3339 5.6 date-time ("2026-11-27T20:58:04Z"; fractions and numeric offsets allowed; the
 * "T" and "Z" may be lower case, as the note in 5.6 permits) to Unix milliseconds (fractions
 * below a millisecond dropped). KEDGE_ERR_INVALID_ARG for anything else, also for a day that
 * does not exist (31 February), more than 63 characters or a NULL argument. */
kedge_err_t kedge_rfc3339_parse(const char *text, int64_t *unix_ms);

/* Unix milliseconds to "YYYY-MM-DDTHH:MM:SSZ" (whole seconds, rounded down; what kedge sends). */
#define KEDGE_RFC3339_LEN 20
void kedge_rfc3339_format(int64_t unix_ms, char out[KEDGE_RFC3339_LEN + 1]);

#ifdef __cplusplus
}
#endif
#endif
