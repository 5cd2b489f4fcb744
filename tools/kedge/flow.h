/* The message flow of a `kedge demo` run: the trace lines every kedge program appends to the
 * KEDGE_TRACE file (kedge/trace.h) plus the demo's own step markers, written out as trace.json
 * and drawn as a sequence diagram, flow.svg (issue 8). */
#ifndef KEDGE_TOOLS_FLOW_H
#define KEDGE_TOOLS_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "kedge/error.h"

/* One event of the trace (a line KEDGE_TRACE holds, see include/kedge/trace.h), or a step
 * marker the demo adds itself. */
typedef struct flow_event {
  int64_t t_us; /* start, microseconds since the epoch */
  double ms;    /* duration */
  char from[16], to[16];
  char msg[256];  /* e.g. "POST /nausf-auth/v1/ue-authentications" */
  int status;     /* 0 when none */
  char note[128]; /* "" when none */
  char step[16];  /* SPEC.md 0 step label ("0", "5.1", ...) or "" */
} flow_event_t;

/* How events are drawn by flow_write_svg:
 * - from and to set, different: a request arrow; a dashed answer arrow back when the event has
 *   a status or a note (the answer is placed where the exchange ended, so nested calls nest);
 * - only one of them set, or both the same: a note box on that lifeline ("derives Kedge");
 * - neither set: a separator across the diagram with msg as its caption (a step marker).
 * An exchange failed when status >= 400 or it has a note; it is drawn in red. */

typedef struct flow flow_t;

kedge_err_t flow_new(flow_t **out);
void flow_free(flow_t *f);

/* Reads every line of a KEDGE_TRACE file (lines that do not parse are skipped and counted).
 * Blank lines are ignored without counting. KEDGE_ERR_NOT_FOUND when the file does not exist. */
kedge_err_t flow_load_trace(flow_t *f, const char *path, size_t *skipped);

/* Adds one event (the demo adds its own: step markers, the EEC's handshakes). Strings longer
 * than their field are cut (at a UTF-8 boundary); at most FLOW_MAX_EVENTS events. */
#define FLOW_MAX_EVENTS 100000
kedge_err_t flow_add(flow_t *f, const flow_event_t *e);

/* Number of events held. */
size_t flow_count(const flow_t *f);

/* Events sorted by start time. trace.json: a JSON array of objects {t, ms, from, to, msg,
 * status?, note?, step?} (jansson), one object a line. */
kedge_err_t flow_write_json(flow_t *f, const char *path);

/* A sequence diagram: lifelines UE, EEC, ECS, NEF, AUSF, UDM in that order (only those that
 * appear, plus any other role at the end), one arrow per event from `from` to `to` in time
 * order (request arrow and, drawn as a dashed return arrow, the answer with its status), each
 * labelled with the message (long paths shortened: the service and operation kept, e.g.
 * "POST nausf-auth …/5g-aka-confirmation") and its measured time ("1.8 ms"), failed exchanges
 * in red, step labels in the left margin, a title line. Self-contained SVG 1.1; at most
 * FLOW_SVG_MAX_EVENTS events are drawn, then a "… N more events" line. */
#define FLOW_SVG_MAX_EVENTS 400
kedge_err_t flow_write_svg(flow_t *f, const char *title, const char *path);

/* The arrow label flow_write_svg draws for a message, e.g. "POST /nausf-auth/v1/ue-authentications/
 * 7f3a.../5g-aka-confirmation" -> "POST nausf-auth …/5g-aka-confirmation" (exposed for tests). */
void flow_short_label(const char *msg, char *out, size_t size);

#endif
