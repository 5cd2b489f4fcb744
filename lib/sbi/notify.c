/* The SBI notifier (kedge/sbi_notify.h): one queue per callback URI behind one lock, one POST
 * in flight per URI, the SBI client on the owner's loop. */
#include "kedge/sbi_notify.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "kedge/config.h"
#include "kedge/list.h"
#include "kedge/log.h"

typedef struct dest {
  LIST_ENTRY(dest) link; /* in n->dests */
  struct kedge_sbi_notifier *n;
  char *uri;
  json_t *queue;  /* items waiting (array); appended under the lock */
  json_t *batch;  /* the body in flight or waiting for a retry, NULL when idle */
  size_t n_batch; /* items in batch */
  unsigned attempts;
  kedge_sbi_client_call_t *call;
  struct event *retry; /* back-off timer */
} dest_t;

enum { R_SENT, R_QUEUE_FULL, R_REJECTED, R_FAILED, R__COUNT };
static const char *const result_names[R__COUNT] = {"sent", "queue_full", "rejected", "failed"};

struct kedge_sbi_notifier {
  struct event_base *base;
  kedge_sbi_client_t *client;
  kedge_sbi_notifier_options_t opts;
  char *callback_header; /* "3gpp-Sbi-Callback: <type>" */
  char *member;
  pthread_mutex_t lock;
  LIST_HEAD(, dest) dests; /* new ones at the head (wake_cb walks it unlocked) */
  size_t queued;           /* items waiting or in flight */
  struct event *wake;
  kedge_counter_t *results[R__COUNT];
  kedge_counter_t *retries;
  kedge_gauge_t *queue_gauge;
};

bool kedge_sbi_callback_uri_ok(const char *uri)
{
  if (!uri || strncmp(uri, "https://", 8) != 0)
    return false;
  size_t len = strlen(uri);
  if (len <= 8 || len > KEDGE_SBI_NOTIFY_URI_MAX)
    return false;
  for (const char *p = uri; *p; p++)
    if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
      return false;
  /* RFC 3986 3.2.1: no user info in the authority (it would hide the real host) */
  const char *end = uri + 8 + strcspn(uri + 8, "/?#");
  const char *at = memchr(uri + 8, '@', (size_t)(end - (uri + 8)));
  return at == NULL && end > uri + 8;
}

static void wake_cb(evutil_socket_t fd, short what, void *arg);

kedge_err_t kedge_sbi_notifier_new(struct event_base *base,
                                   const kedge_sbi_client_options_t *client,
                                   const kedge_sbi_notifier_options_t *opts,
                                   kedge_metrics_t *metrics, kedge_sbi_notifier_t **out)
{
  if (!base || !client || !opts || !opts->callback_type || !opts->member || !opts->metric_prefix ||
      !metrics || !out)
    return KEDGE_ERR_INVALID_ARG;
  kedge_sbi_notifier_t *n = calloc(1, sizeof(*n));
  if (!n)
    return KEDGE_ERR_NOMEM;
  LIST_INIT(&n->dests);
  n->base = base;
  n->opts = *opts;
#define DEF(f, v) (n->opts.f = n->opts.f ? n->opts.f : (v))
  DEF(max_queue, KEDGE_SBI_NOTIFY_MAX_QUEUE_DEFAULT);
  DEF(max_batch, KEDGE_SBI_NOTIFY_MAX_BATCH_DEFAULT);
  DEF(retry_min_ms, KEDGE_SBI_NOTIFY_RETRY_MIN_MS_DEFAULT);
  DEF(retry_max_ms, KEDGE_SBI_NOTIFY_RETRY_MAX_MS_DEFAULT);
  DEF(max_attempts, KEDGE_SBI_NOTIFY_MAX_ATTEMPTS_DEFAULT);
#undef DEF
  n->opts.callback_type = n->opts.member = n->opts.metric_prefix = NULL; /* copies below */
  pthread_mutex_init(&n->lock, NULL);
  size_t hlen = strlen(opts->callback_type) + 32;
  n->callback_header = malloc(hlen);
  n->member = strdup(opts->member);
  n->wake = event_new(base, -1, 0, wake_cb, n);
  kedge_err_t err = n->callback_header && n->member && n->wake ? KEDGE_OK : KEDGE_ERR_NOMEM;
  if (!err)
    snprintf(n->callback_header, hlen, "3gpp-Sbi-Callback: %s", opts->callback_type);
  if (!err)
    err = kedge_sbi_client_new(base, client, &n->client);
  char name[128];
  for (int r = 0; !err && r < R__COUNT; r++) {
    char labels[64] = "";
    snprintf(name, sizeof(name), "%s_notifications_total", opts->metric_prefix);
    err = kedge_metrics_label(labels, sizeof(labels), "result", result_names[r]);
    if (!err)
      err = kedge_metrics_counter(metrics, name, "Notification items by result", labels,
                                  &n->results[r]);
  }
  if (!err) {
    snprintf(name, sizeof(name), "%s_notification_retries_total", opts->metric_prefix);
    err = kedge_metrics_counter(metrics, name, "Notification requests sent again after a failure",
                                NULL, &n->retries);
  }
  if (!err) {
    snprintf(name, sizeof(name), "%s_notification_queue", opts->metric_prefix);
    err = kedge_metrics_gauge(metrics, name, "Notification items waiting or in flight", NULL,
                              &n->queue_gauge);
  }
  if (err) {
    kedge_sbi_notifier_free(n);
    return err;
  }
  *out = n;
  return KEDGE_OK;
}

/* Items leave the count (sent, rejected or failed). */
static void settle(kedge_sbi_notifier_t *n, size_t items, int result)
{
  kedge_counter_add(n->results[result], items);
  pthread_mutex_lock(&n->lock);
  n->queued -= items;
  pthread_mutex_unlock(&n->lock);
  kedge_gauge_add(n->queue_gauge, -(int64_t)items);
}

static void dest_free(dest_t *d)
{
  LIST_REMOVE(d, link);
  kedge_sbi_client_cancel(d->call);
  if (d->retry)
    event_free(d->retry);
  json_decref(d->queue);
  json_decref(d->batch);
  free(d->uri);
  free(d);
}

kedge_err_t kedge_sbi_notifier_post(kedge_sbi_notifier_t *n, const char *uri, json_t *item)
{
  if (!n || !item || !kedge_sbi_callback_uri_ok(uri)) {
    json_decref(item);
    return KEDGE_ERR_INVALID_ARG;
  }
  kedge_err_t err = KEDGE_OK;
  pthread_mutex_lock(&n->lock);
  if (n->queued >= n->opts.max_queue) {
    err = KEDGE_ERR_BUSY;
  } else {
    dest_t *d;
    LIST_FOREACH(d, &n->dests, link)
    if (strcmp(d->uri, uri) == 0)
      break;
    if (!d && (d = calloc(1, sizeof(*d)))) {
      d->n = n;
      d->uri = strdup(uri);
      d->queue = json_array();
      if (!d->uri || !d->queue) {
        free(d->uri);
        json_decref(d->queue);
        free(d);
        d = NULL;
      } else {
        LIST_INSERT_HEAD(&n->dests, d, link);
      }
    }
    if (!d || json_array_append(d->queue, item) != 0)
      err = KEDGE_ERR_NOMEM;
    else
      n->queued++;
  }
  pthread_mutex_unlock(&n->lock);
  json_decref(item);
  if (err == KEDGE_ERR_BUSY)
    kedge_counter_add(n->results[R_QUEUE_FULL], 1);
  if (!err) {
    kedge_gauge_add(n->queue_gauge, 1);
    event_active(n->wake, 0, 0);
  }
  return err;
}

size_t kedge_sbi_notifier_queued(kedge_sbi_notifier_t *n)
{
  pthread_mutex_lock(&n->lock);
  size_t q = n->queued;
  pthread_mutex_unlock(&n->lock);
  return q;
}

static void send_batch(dest_t *d);

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
  dest_t *d = arg;
  kedge_counter_add(d->n->retries, 1);
  send_batch(d);
}

/* After a POST ended: the next batch, or nothing left. Returns false when d was freed. */
static bool next_batch(dest_t *d)
{
  kedge_sbi_notifier_t *n = d->n;
  json_decref(d->batch);
  d->batch = NULL;
  d->n_batch = 0;
  d->attempts = 0;
  pthread_mutex_lock(&n->lock);
  size_t waiting = json_array_size(d->queue);
  if (waiting == 0) {
    dest_free(d); /* posters find it under the lock, so free it under the lock */
    pthread_mutex_unlock(&n->lock);
    return false;
  }
  size_t take = waiting < n->opts.max_batch ? waiting : n->opts.max_batch;
  json_t *items = json_array();
  for (size_t i = 0; items && i < take; i++)
    json_array_append(items, json_array_get(d->queue, i));
  for (size_t i = 0; items && i < take; i++)
    json_array_remove(d->queue, 0);
  pthread_mutex_unlock(&n->lock);
  if (!items) {
    settle(n, 0, R_FAILED);
    return true;
  }
  d->batch = json_object();
  if (!d->batch || json_object_set_new(d->batch, n->member, items) != 0) {
    json_decref(d->batch);
    d->batch = NULL;
    settle(n, take, R_FAILED); /* out of memory: the items are lost, and counted */
    return next_batch(d);
  }
  d->n_batch = take;
  send_batch(d);
  return true;
}

static void answered(const kedge_sbi_client_response_t *resp, void *arg)
{
  dest_t *d = arg;
  kedge_sbi_notifier_t *n = d->n;
  d->call = NULL;
  long st = resp->err ? 0 : resp->status;
  if (st >= 200 && st < 300) {
    settle(n, d->n_batch, R_SENT);
    next_batch(d);
    return;
  }
  bool retryable = st == 0 || st == 408 || st == 429 || st >= 500;
  if (!retryable || d->attempts >= n->opts.max_attempts) {
    kedge_log_warn("notify: %zu item%s to %s dropped after %u attempt%s: %s", d->n_batch,
                   d->n_batch == 1 ? "" : "s", d->uri, d->attempts, d->attempts == 1 ? "" : "s",
                   st ? "refused by the receiver" : kedge_strerror(resp->err));
    settle(n, d->n_batch, retryable ? R_FAILED : R_REJECTED);
    next_batch(d);
    return;
  }
  /* back-off: retry_min << (attempts - 1), capped; a Retry-After in seconds within the cap */
  uint64_t ms = (uint64_t)n->opts.retry_min_ms << (d->attempts - 1 < 20 ? d->attempts - 1 : 20);
  if (resp->retry_after) {
    char *end = NULL;
    unsigned long s = strtoul(resp->retry_after, &end, 10);
    if (end != resp->retry_after && *end == '\0' && s * 1000 > ms)
      ms = s * 1000;
  }
  if (ms > n->opts.retry_max_ms)
    ms = n->opts.retry_max_ms;
  struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
  if (!d->retry)
    d->retry = evtimer_new(n->base, retry_cb, d);
  if (!d->retry || evtimer_add(d->retry, &tv) != 0) {
    settle(n, d->n_batch, R_FAILED);
    next_batch(d);
  }
}

static void send_batch(dest_t *d)
{
  kedge_sbi_notifier_t *n = d->n;
  const char *headers[] = {n->callback_header, NULL};
  const kedge_sbi_client_request_t req = {
      .method = "POST", .url = d->uri, .body = d->batch, .headers = headers};
  d->attempts++;
  kedge_err_t err = kedge_sbi_client_send(n->client, &req, answered, d, &d->call);
  if (err) {
    d->call = NULL;
    kedge_log_warn("notify: cannot send to %s: %s", d->uri, kedge_strerror(err));
    settle(n, d->n_batch, R_FAILED);
    next_batch(d);
  }
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
  kedge_sbi_notifier_t *n = arg;
  /* Idle destinations with items start a POST; busy ones pick theirs up when it ends. A
   * destination is only freed on this thread, so the list can be walked with the lock
   * dropped around each start. */
  pthread_mutex_lock(&n->lock);
  dest_t *d = LIST_FIRST(&n->dests);
  pthread_mutex_unlock(&n->lock);
  while (d) {
    dest_t *next = LIST_NEXT(d, link);
    if (!d->batch)
      next_batch(d); /* may free d; `next` is still in the list (only this thread frees) */
    d = next;
  }
}

void kedge_sbi_notifier_free(kedge_sbi_notifier_t *n)
{
  if (!n)
    return;
  while (!LIST_EMPTY(&n->dests))
    dest_free(LIST_FIRST(&n->dests));
  kedge_sbi_client_free(n->client);
  if (n->wake)
    event_free(n->wake);
  pthread_mutex_destroy(&n->lock);
  free(n->callback_header);
  free(n->member);
  free(n);
}

kedge_err_t kedge_sbi_notifier_config_read(struct kedge_config_node *sec,
                                           kedge_sbi_notifier_options_t *o,
                                           kedge_sbi_client_options_t *client)
{
  int64_t n = 0, ms = 0;
  kedge_err_t err = KEDGE_OK;
  KEDGE_CONFIG_KEEP(
      err, kedge_config_int(sec, "queue_size", KEDGE_SBI_NOTIFY_MAX_QUEUE_DEFAULT, 1, 1000000, &n));
  o->max_queue = (size_t)n;
  KEDGE_CONFIG_KEEP(
      err, kedge_config_int(sec, "max_batch", KEDGE_SBI_NOTIFY_MAX_BATCH_DEFAULT, 1, 1000, &n));
  o->max_batch = (size_t)n;
  KEDGE_CONFIG_KEEP(err,
                    kedge_config_duration(sec, "retry_min", KEDGE_SBI_NOTIFY_RETRY_MIN_MS_DEFAULT,
                                          1, 60000, &ms));
  o->retry_min_ms = (uint32_t)ms;
  KEDGE_CONFIG_KEEP(err,
                    kedge_config_duration(sec, "retry_max", KEDGE_SBI_NOTIFY_RETRY_MAX_MS_DEFAULT,
                                          1, 600000, &ms));
  o->retry_max_ms = (uint32_t)ms;
  if (!err && o->retry_max_ms < o->retry_min_ms)
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(sec, "retry_max", "must not be below retry_min"));
  KEDGE_CONFIG_KEEP(err, kedge_config_int(sec, "max_attempts",
                                          KEDGE_SBI_NOTIFY_MAX_ATTEMPTS_DEFAULT, 1, 100, &n));
  o->max_attempts = (uint32_t)n;
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(sec, "timeout", 2000, 10, 60000, &ms));
  client->timeout_ms = (uint32_t)ms;
  client->max_retries = 0;
  return err;
}
