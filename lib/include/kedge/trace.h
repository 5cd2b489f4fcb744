/* A message trace for `kedge demo` (flow.svg, trace.json): when the environment variable
 * KEDGE_TRACE names a file, every kedge program appends one JSON line per exchange it made as
 * a client (the SBI client does it for every call), e.g.
 *   {"t":1764277200123456,"ms":1.8,"from":"AUSF","to":"UDM","msg":"POST
 * .../generate-auth-data","status":200} Lines are written with one write(2) to a file opened with
 * O_APPEND, so the processes of one run share the file. Nothing secret is ever traced: messages are
 * named, never shown. */
#ifndef KEDGE_TRACE_H
#define KEDGE_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* `self` names this program's role in the flow ("UE", "AUSF", "ECS", ...). Reads KEDGE_TRACE. */
void kedge_trace_init(const char *self);
bool kedge_trace_enabled(void);

/* One exchange from this program to `to`, started at `start_us` (kedge_wall_us(), kedge/time.h:
 * comparable across processes), lasting `dur_us`; `status` 0 when there is none (a TLS handshake),
 * `note` may be NULL ("psk_dhe_ke", an error cause). */
void kedge_trace_event(const char *to, const char *msg, int64_t start_us, int64_t dur_us,
                       int status, const char *note);

/* An exchange being timed: its start on the wall clock (for the line) and on the monotonic
 * clock (for the duration, which a clock step must not bend). */
typedef struct kedge_trace_span {
  int64_t wall_us, mono_us;
} kedge_trace_span_t;
kedge_trace_span_t kedge_trace_begin(void);
/* kedge_trace_event for the span begun at `span`, lasting until now. */
void kedge_trace_end(kedge_trace_span_t span, const char *to, const char *msg, int status,
                     const char *note);

/* The role behind an SBI URL, from its service name: nudm-ueau -> UDM, nausf-auth -> AUSF,
 * 3gpp-kedge -> NEF, eecs-serviceprovisioning -> ECS; "?" otherwise. */
const char *kedge_trace_role_of_url(const char *url);

#ifdef __cplusplus
}
#endif
#endif
