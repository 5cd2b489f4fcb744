/* Nnrf_NFManagement from the NF's side (TS 29.510 5.2.2): NFRegister, the heartbeat (NFUpdate
 * with a JSON Patch replacing nfStatus), NFDeregister. One thread with its own event loop and
 * SBI client; the state machine is
 *   UNREGISTERED --PUT 200/201--> REGISTERED --PATCH no answer--> UNREACHABLE
 *   REGISTERED/UNREACHABLE --PATCH 404--> UNREGISTERED (PUT at once)
 *   any --kedge_nrf_stop()--> DEREGISTERED (DELETE if it was registered)
 * with one log line per change of state. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "kedge/log.h"
#include "kedge/nrf.h"
#include "kedge/work.h"

struct kedge_nrf {
  const kedge_nrf_config_t *cfg;
  const kedge_nrf_self_t *self;
  struct event_base *base;
  struct event *timer, *stop_ev, *update_ev;
  pthread_mutex_t update_lock;
  kedge_nrf_config_t *pending; /* a reload's section, waiting for the thread (update_lock) */
  kedge_nrf_config_t *owned;   /* the section in use when it came from a reload */
  kedge_sbi_client_t *client;
  kedge_sbi_client_call_t *call; /* the request in flight, or NULL */
  json_t *profile;
  char url[1024];
  _Atomic int state;
  bool failing;       /* the last registration attempt failed (logged once per run of them) */
  int64_t backoff_ms; /* of the next registration retry */
  int64_t heartbeat_ms;
  pthread_t thread;
  kedge_gauge_t *state_gauge;
  kedge_counter_t *reg_ok, *reg_failed, *hb_ok, *hb_not_found, *hb_failed, *updates;
};

int64_t kedge_nrf_heartbeat_ms(const json_t *answer, int64_t fallback_ms)
{
  /* TS 29.510 6.1.6.2.2 heartBeatTimer: seconds, chosen by the NRF in its answer */
  json_t *t = answer ? json_object_get(answer, "heartBeatTimer") : NULL;
  if (json_is_integer(t) && json_integer_value(t) > 0 && json_integer_value(t) <= 86400)
    return (int64_t)json_integer_value(t) * 1000;
  return fallback_ms;
}

int64_t kedge_nrf_backoff_ms(const kedge_nrf_config_t *cfg, int64_t current_ms)
{
  if (current_ms <= 0)
    return cfg->retry_min_ms;
  int64_t next = current_ms * 2;
  return next > cfg->retry_max_ms ? cfg->retry_max_ms : next;
}

static void set_state(kedge_nrf_t *nrf, kedge_nrf_state_t s)
{
  int old = atomic_exchange(&nrf->state, (int)s);
  kedge_gauge_add(nrf->state_gauge, (int64_t)s - old);
}

static void arm(kedge_nrf_t *nrf, int64_t ms)
{
  struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
  evtimer_add(nrf->timer, &tv);
}

static void why(const kedge_sbi_client_response_t *r, char *out, size_t size)
{
  if (r->err)
    snprintf(out, size, "%s", kedge_strerror(r->err));
  else
    snprintf(out, size, "HTTP %ld", r->status);
}

static void send_register(kedge_nrf_t *nrf);

static void registered(const kedge_sbi_client_response_t *r, void *arg)
{
  kedge_nrf_t *nrf = arg;
  nrf->call = NULL;
  char reason[64];
  /* TS 29.510 5.2.2.2.2: 201 Created for a new profile, 200 OK for a replaced one */
  if (!r->err && (r->status == 201 || r->status == 200)) {
    kedge_counter_add(nrf->reg_ok, 1);
    nrf->failing = false;
    nrf->backoff_ms = 0;
    nrf->heartbeat_ms = kedge_nrf_heartbeat_ms(r->json, nrf->cfg->heartbeat_ms);
    set_state(nrf, KEDGE_NRF_REGISTERED);
    kedge_log_info("NRF %s: registered %s %s (heartbeat every %lld ms)", nrf->cfg->uri,
                   nrf->self->nf_type, nrf->self->nf_instance_id, (long long)nrf->heartbeat_ms);
    arm(nrf, nrf->heartbeat_ms);
    return;
  }
  kedge_counter_add(nrf->reg_failed, 1);
  nrf->backoff_ms = kedge_nrf_backoff_ms(nrf->cfg, nrf->backoff_ms);
  why(r, reason, sizeof(reason));
  if (!nrf->failing) /* one line for a run of failures; the metric counts each */
    kedge_log_warn("NRF %s: registration failed (%s); retrying with back-off up to %lld ms, "
                   "serving meanwhile",
                   nrf->cfg->uri, reason, (long long)nrf->cfg->retry_max_ms);
  nrf->failing = true;
  arm(nrf, nrf->backoff_ms);
}

static void heartbeat_answered(const kedge_sbi_client_response_t *r, void *arg)
{
  kedge_nrf_t *nrf = arg;
  nrf->call = NULL;
  int s = atomic_load(&nrf->state);
  /* TS 29.510 5.2.2.3.2: 204 No Content (or 200 with the profile) */
  if (!r->err && (r->status == 204 || r->status == 200)) {
    kedge_counter_add(nrf->hb_ok, 1);
    if (s != KEDGE_NRF_REGISTERED) {
      set_state(nrf, KEDGE_NRF_REGISTERED);
      kedge_log_info("NRF %s: heartbeat answered again", nrf->cfg->uri);
    }
    arm(nrf, nrf->heartbeat_ms);
    return;
  }
  if (!r->err && r->status == 404) {
    /* TS 29.510 5.2.2.3.2: the NRF no longer knows the instance (it expired it or restarted):
     * register the whole profile again */
    kedge_counter_add(nrf->hb_not_found, 1);
    set_state(nrf, KEDGE_NRF_UNREGISTERED);
    kedge_log_warn("NRF %s: heartbeat answered 404 (the NRF forgot %s); registering again",
                   nrf->cfg->uri, nrf->self->nf_instance_id);
    send_register(nrf);
    return;
  }
  kedge_counter_add(nrf->hb_failed, 1);
  if (s != KEDGE_NRF_UNREACHABLE) {
    char reason[64];
    why(r, reason, sizeof(reason));
    set_state(nrf, KEDGE_NRF_UNREACHABLE);
    kedge_log_warn("NRF %s: heartbeat failed (%s); trying again every %lld ms, serving meanwhile",
                   nrf->cfg->uri, reason, (long long)nrf->heartbeat_ms);
  }
  arm(nrf, nrf->heartbeat_ms);
}

static void send_register(kedge_nrf_t *nrf)
{
  const kedge_sbi_client_request_t req = {.method = "PUT", .url = nrf->url, .body = nrf->profile};
  kedge_sbi_client_response_t fail = {.err = KEDGE_ERR_NOMEM};
  if (kedge_sbi_client_send(nrf->client, &req, registered, nrf, &nrf->call) != KEDGE_OK)
    registered(&fail, nrf);
}

static void send_heartbeat(kedge_nrf_t *nrf)
{
  /* TS 29.510 5.2.2.3.2: the heartbeat is an NFUpdate whose JSON Patch (RFC 6902) replaces
   * nfStatus with REGISTERED */
  json_t *patch =
      json_pack("[{s:s, s:s, s:s}]", "op", "replace", "path", "/nfStatus", "value", "REGISTERED");
  const kedge_sbi_client_request_t req = {.method = "PATCH",
                                          .url = nrf->url,
                                          .body = patch,
                                          .content_type = "application/json-patch+json"};
  kedge_sbi_client_response_t fail = {.err = KEDGE_ERR_NOMEM};
  if (!patch || kedge_sbi_client_send(nrf->client, &req, heartbeat_answered, nrf, &nrf->call))
    heartbeat_answered(&fail, nrf);
  json_decref(patch);
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
  (void)fd;
  (void)what;
  kedge_nrf_t *nrf = arg;
  if (atomic_load(&nrf->state) == KEDGE_NRF_UNREGISTERED)
    send_register(nrf);
  else
    send_heartbeat(nrf);
}

/* The URL of this instance at cfg's NRF. */
static bool instance_url(const kedge_nrf_config_t *cfg, const kedge_nrf_self_t *self, char *url,
                         size_t size)
{
  char id[128];
  size_t ulen = strlen(cfg->uri);
  while (ulen > 0 && cfg->uri[ulen - 1] == '/')
    ulen--;
  return kedge_sbi_path_segment(self->nf_instance_id, id, sizeof(id)) &&
         snprintf(url, size, "%.*s/nnrf-nfm/v1/nf-instances/%s", (int)ulen, cfg->uri, id) <
             (int)size;
}

static void config_free(kedge_nrf_config_t *cfg)
{
  if (!cfg)
    return;
  kedge_nrf_config_clear(cfg);
  free(cfg);
}

/* On the NRF thread: a reload's nrf: section (TS 29.510 5.2.2.3 NFUpdate). Nothing changed:
 * nothing sent. A changed profile or NRF: a new client (TLS files may have changed) and the
 * whole profile again by PUT, which an NRF answers 200 for a known instance. */
static void on_update(evutil_socket_t fd, short what, void *arg)
{
  (void)fd;
  (void)what;
  kedge_nrf_t *nrf = arg;
  pthread_mutex_lock(&nrf->update_lock);
  kedge_nrf_config_t *next = nrf->pending;
  nrf->pending = NULL;
  pthread_mutex_unlock(&nrf->update_lock);
  if (!next || atomic_load(&nrf->state) == KEDGE_NRF_DEREGISTERED) {
    config_free(next);
    return;
  }
  char url[sizeof(nrf->url)];
  json_t *profile = kedge_nrf_profile(next, nrf->self);
  kedge_sbi_client_t *client = NULL;
  if (!profile || !instance_url(next, nrf->self, url, sizeof(url)) ||
      kedge_sbi_client_new(nrf->base, &next->client, &client) != KEDGE_OK) {
    kedge_log_error("NRF: the reloaded nrf: section cannot be applied (profile, URI or TLS "
                    "files); keeping the one in use");
    json_decref(profile);
    config_free(next);
    return;
  }
  bool same_nrf = strcmp(url, nrf->url) == 0;
  bool same = same_nrf && json_equal(profile, nrf->profile);
  /* the client is replaced either way: its TLS files are the reloaded ones */
  kedge_sbi_client_cancel(nrf->call);
  nrf->call = NULL;
  kedge_sbi_client_free(nrf->client);
  nrf->client = client;
  json_decref(nrf->profile);
  nrf->profile = profile;
  memcpy(nrf->url, url, sizeof(url));
  config_free(nrf->owned);
  nrf->owned = next;
  nrf->cfg = next;
  evtimer_del(nrf->timer);
  if (same) {
    kedge_log_info("NRF %s: configuration reloaded, profile unchanged", nrf->cfg->uri);
    arm(nrf, atomic_load(&nrf->state) == KEDGE_NRF_UNREGISTERED ? 0 : nrf->heartbeat_ms);
    return;
  }
  kedge_log_info("NRF %s: %s; sending NFUpdate (the whole profile, PUT)", nrf->cfg->uri,
                 same_nrf ? "profile changed on reload" : "NRF changed on reload");
  kedge_counter_add(nrf->updates, 1);
  if (!same_nrf)
    set_state(nrf, KEDGE_NRF_UNREGISTERED);
  send_register(nrf);
}

kedge_err_t kedge_nrf_update(kedge_nrf_t *nrf, kedge_nrf_config_t *next)
{
  if (!nrf || !next || !next->uri)
    return KEDGE_ERR_INVALID_ARG;
  kedge_nrf_config_t *copy = malloc(sizeof(*copy));
  if (!copy)
    return KEDGE_ERR_NOMEM;
  *copy = *next;
  memset(next, 0, sizeof(*next)); /* supi_ranges now belong to the copy */
  pthread_mutex_lock(&nrf->update_lock);
  config_free(nrf->pending); /* two reloads before the thread ran: the last wins */
  nrf->pending = copy;
  pthread_mutex_unlock(&nrf->update_lock);
  event_active(nrf->update_ev, EV_READ, 0);
  return KEDGE_OK;
}

static void deregistered(const kedge_sbi_client_response_t *r, void *arg)
{
  kedge_nrf_t *nrf = arg;
  nrf->call = NULL;
  char reason[64];
  why(r, reason, sizeof(reason));
  /* TS 29.510 5.2.2.4.2: 204 No Content */
  if (!r->err && r->status == 204)
    kedge_log_info("NRF %s: deregistered %s", nrf->cfg->uri, nrf->self->nf_instance_id);
  else
    kedge_log_warn("NRF %s: deregistration of %s failed (%s)", nrf->cfg->uri,
                   nrf->self->nf_instance_id, reason);
  event_base_loopbreak(nrf->base);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
  (void)fd;
  (void)what;
  kedge_nrf_t *nrf = arg;
  evtimer_del(nrf->timer);
  kedge_sbi_client_cancel(nrf->call);
  nrf->call = NULL;
  int s = atomic_load(&nrf->state);
  set_state(nrf, KEDGE_NRF_DEREGISTERED);
  if (s == KEDGE_NRF_UNREGISTERED) {
    event_base_loopbreak(nrf->base);
    return;
  }
  const kedge_sbi_client_request_t req = {.method = "DELETE", .url = nrf->url};
  kedge_sbi_client_response_t fail = {.err = KEDGE_ERR_NOMEM};
  if (kedge_sbi_client_send(nrf->client, &req, deregistered, nrf, &nrf->call) != KEDGE_OK)
    deregistered(&fail, nrf);
}

static void *run(void *arg)
{
  kedge_nrf_t *nrf = arg;
  event_base_loop(nrf->base, EVLOOP_NO_EXIT_ON_EMPTY);
  return NULL;
}

kedge_nrf_state_t kedge_nrf_state(const kedge_nrf_t *nrf)
{
  return (kedge_nrf_state_t)atomic_load(&((kedge_nrf_t *)nrf)->state);
}

static void nrf_free(kedge_nrf_t *nrf)
{
  kedge_sbi_client_free(nrf->client);
  if (nrf->timer)
    event_free(nrf->timer);
  if (nrf->stop_ev)
    event_free(nrf->stop_ev);
  if (nrf->update_ev)
    event_free(nrf->update_ev);
  config_free(nrf->pending);
  config_free(nrf->owned);
  pthread_mutex_destroy(&nrf->update_lock);
  if (nrf->base)
    event_base_free(nrf->base);
  json_decref(nrf->profile);
  free(nrf);
}

static kedge_err_t metrics_init(kedge_nrf_t *nrf, kedge_metrics_t *m)
{
  kedge_err_t err;
  if ((err = kedge_metrics_gauge(m, "kedge_nrf_registration_state",
                                 "0 unregistered, 1 registered, 2 NRF unreachable, 3 deregistered",
                                 NULL, &nrf->state_gauge)) ||
      (err = kedge_metrics_counter(m, "kedge_nrf_registrations_total", "NFRegister attempts",
                                   "result=\"ok\"", &nrf->reg_ok)) ||
      (err = kedge_metrics_counter(m, "kedge_nrf_registrations_total", "NFRegister attempts",
                                   "result=\"failed\"", &nrf->reg_failed)) ||
      (err = kedge_metrics_counter(m, "kedge_nrf_heartbeats_total", "heartbeats sent to the NRF",
                                   "result=\"ok\"", &nrf->hb_ok)) ||
      (err = kedge_metrics_counter(m, "kedge_nrf_heartbeats_total", "heartbeats sent to the NRF",
                                   "result=\"not_found\"", &nrf->hb_not_found)) ||
      (err = kedge_metrics_counter(m, "kedge_nrf_heartbeats_total", "heartbeats sent to the NRF",
                                   "result=\"failed\"", &nrf->hb_failed)) ||
      (err = kedge_metrics_counter(m, "kedge_nrf_updates_total",
                                   "NFUpdate sent after a reload changed the profile", NULL,
                                   &nrf->updates)))
    return err;
  return KEDGE_OK;
}

kedge_err_t kedge_nrf_start(const kedge_nrf_config_t *cfg, const kedge_nrf_self_t *self,
                            kedge_metrics_t *metrics, kedge_nrf_t **out)
{
  *out = NULL;
  if (!cfg->uri)
    return KEDGE_ERR_INVALID_ARG;
  kedge_err_t err = kedge_work_threads_init(); /* stop_ev is activated from another thread */
  if (err)
    return err;
  kedge_nrf_t *nrf = calloc(1, sizeof(*nrf));
  if (!nrf)
    return KEDGE_ERR_NOMEM;
  nrf->cfg = cfg;
  nrf->self = self;
  pthread_mutex_init(&nrf->update_lock, NULL);
  atomic_init(&nrf->state, KEDGE_NRF_UNREGISTERED);
  if (!instance_url(cfg, self, nrf->url, sizeof(nrf->url))) {
    nrf_free(nrf);
    return KEDGE_ERR_INVALID_ARG;
  }
  if (!(nrf->profile = kedge_nrf_profile(cfg, self)) || !(nrf->base = event_base_new()) ||
      !(nrf->timer = evtimer_new(nrf->base, tick, nrf)) ||
      !(nrf->stop_ev = event_new(nrf->base, -1, 0, on_stop, nrf)) ||
      !(nrf->update_ev = event_new(nrf->base, -1, 0, on_update, nrf))) {
    nrf_free(nrf);
    return KEDGE_ERR_NOMEM;
  }
  if ((err = metrics_init(nrf, metrics)) ||
      (err = kedge_sbi_client_new(nrf->base, &cfg->client, &nrf->client))) {
    nrf_free(nrf);
    return err;
  }
  arm(nrf, 0); /* the first NFRegister at once */
  if (pthread_create(&nrf->thread, NULL, run, nrf) != 0) {
    nrf_free(nrf);
    return KEDGE_ERR_NOMEM;
  }
  *out = nrf;
  return KEDGE_OK;
}

void kedge_nrf_stop(kedge_nrf_t *nrf)
{
  if (!nrf)
    return;
  event_active(nrf->stop_ev, EV_READ, 0); /* thread-safe: libevent is thread-aware */
  pthread_join(nrf->thread, NULL);
  nrf_free(nrf);
}
