/* The SBI notifier: notifications (callbacks, TS 29.500 6.2 "callback" and 5.2.3.2.3
 * `3gpp-Sbi-Callback`) sent by a producer to the callback URIs its consumers gave it, over the
 * SBI client (HTTP/2, mutual TLS).
 *
 *   - bounded: at most max_queue items wait or are in flight, all URIs together; past it an
 *     item is refused (KEDGE_ERR_BUSY) and counted result="queue_full", nothing grows;
 *   - batched: the items for one URI go in one POST {"<member>": [item, ...]} of at most
 *     max_batch items; while a POST to a URI is in flight, new items for it wait and leave
 *     together with the next one (one request in flight per URI, so order is kept);
 *   - retried: a POST that gets no answer, 408, 429 or 5xx is sent again after a back-off that
 *     doubles from retry_min_ms up to retry_max_ms (Retry-After in seconds honoured up to
 *     that), at most max_attempts times in all; then its items are dropped (result="failed").
 *     Any other 4xx drops them at once (result="rejected"): the receiver refuses the body;
 *   - counted in the daemon's /metrics: <prefix>_notifications_total{result=sent|queue_full|
 *     rejected|failed} (items), <prefix>_notification_retries_total (POSTs sent again),
 *     <prefix>_notification_queue (items waiting or in flight).
 *
 * Threads: kedge_sbi_notifier_post() may be called from any thread; the POSTs run on `base`'s
 * thread (a daemon's main loop), which must be dispatched for anything to leave. */
#ifndef KEDGE_SBI_NOTIFY_H
#define KEDGE_SBI_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kedge/error.h"
#include "kedge/metrics.h"
#include "kedge/sbi_client.h"

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;

typedef struct kedge_sbi_notifier kedge_sbi_notifier_t;

#define KEDGE_SBI_NOTIFY_MAX_QUEUE_DEFAULT    10000u
#define KEDGE_SBI_NOTIFY_MAX_BATCH_DEFAULT    64u
#define KEDGE_SBI_NOTIFY_RETRY_MIN_MS_DEFAULT 100u
#define KEDGE_SBI_NOTIFY_RETRY_MAX_MS_DEFAULT 5000u
#define KEDGE_SBI_NOTIFY_MAX_ATTEMPTS_DEFAULT 6u
#define KEDGE_SBI_NOTIFY_URI_MAX              1024u

/* Zero means the default for every number. */
typedef struct kedge_sbi_notifier_options {
  const char *callback_type; /* required: the 3gpp-Sbi-Callback value ("Type; apiversion=1") */
  const char *member;        /* required: the body's array member */
  const char *metric_prefix; /* required: e.g. "kedge_ausf_revocation" */
  size_t max_queue;
  size_t max_batch;
  uint32_t retry_min_ms;
  uint32_t retry_max_ms;
  uint32_t max_attempts;
} kedge_sbi_notifier_options_t;

/* Creates the notifier and its SBI client on `base` (client: the daemon's own certificate and
 * CA, kedge_sbi_client_new() checks the files now) and its metrics in `metrics`. */
kedge_err_t kedge_sbi_notifier_new(struct event_base *base,
                                   const kedge_sbi_client_options_t *client,
                                   const kedge_sbi_notifier_options_t *opts,
                                   kedge_metrics_t *metrics, kedge_sbi_notifier_t **out);

/* Queues `item` for `uri` (an https URI, at most KEDGE_SBI_NOTIFY_URI_MAX octets). Always
 * takes the reference to `item`. KEDGE_ERR_BUSY: the queue is full (counted);
 * KEDGE_ERR_INVALID_ARG: not an https URI; KEDGE_ERR_NOMEM. Any thread. */
kedge_err_t kedge_sbi_notifier_post(kedge_sbi_notifier_t *n, const char *uri, json_t *item);

/* Items waiting or in flight. Any thread. */
size_t kedge_sbi_notifier_queued(kedge_sbi_notifier_t *n);

/* Drops everything still queued (POSTs in flight are cancelled) and frees the notifier. On
 * base's thread, or after its loop stopped. NULL is a no-op. */
void kedge_sbi_notifier_free(kedge_sbi_notifier_t *n);

/* Reads a notifier's keys from the map `sec` (kedge/config.h): queue_size, max_batch,
 * retry_min, retry_max, max_attempts (numbers and durations) into `opts`, and timeout (the
 * per-POST deadline) into `client` (whose max_retries is set to 0: the notifier retries
 * itself, with back-off). KEDGE_ERR_CONFIG after recording the problem in the tree. */
struct kedge_config_node;
kedge_err_t kedge_sbi_notifier_config_read(struct kedge_config_node *sec,
                                           kedge_sbi_notifier_options_t *opts,
                                           kedge_sbi_client_options_t *client);

/* True for an absolute https URI without user info, whitespace or control characters, at
 * most KEDGE_SBI_NOTIFY_URI_MAX octets: what a consumer may give as a callback URI. */
bool kedge_sbi_callback_uri_ok(const char *uri);

#ifdef __cplusplus
}
#endif
#endif
