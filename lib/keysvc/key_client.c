/* The key-service client (include/kedge/key_client.h): one fetch is one key ID asked of the row
 * of the routing table that serves it, URI after URI while connections fail (and, when a URI
 * times out, while the deadline allows: a retrieve has no side effect, so asking another
 * instance is safe), on the worker's SBI client. What an answer means is the API's codec's and
 * SPEC.md 3's: 200 the key (an expired one is unknown), 404 unknown (and 204 for the AKMA APIs,
 * TS 29.535/29.522), 400/403/429/5xx failures;
 * a 429 or 5xx with Retry-After keeps that URI out of use for as long (RFC 9110 10.2.3). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "kedge/http.h"
#include "kedge/key_client.h"
#include "kedge/list.h"
#include "kedge/log.h"
#include "kedge/time.h"

#define KEY_ID_MAX 512
#define CAUSE_MAX  64

struct kedge_key_client {
  kedge_sbi_client_t *sbi;
  kedge_key_client_options_t opts;
  LIST_HEAD(, kedge_key_fetch) fetches; /* in flight */
};

struct kedge_key_fetch {
  LIST_ENTRY(kedge_key_fetch) link; /* in client->fetches */
  kedge_key_client_t *client;
  kedge_key_request_t rq; /* its strings point into the buffers below */
  kedge_plmn_t home;
  char key_id[KEY_ID_MAX + 1];
  char rid[8];
  char af_id[KEDGE_ECS_ID_MAX + 1];
  char ecs_id[KEDGE_ECS_ID_MAX + 1];
  const kedge_key_route_t *route;
  kedge_nrf_candidates_t *found;    /* a `discover` row: the NRF's answer */
  kedge_nrf_disc_call_t *disc_call; /* the discovery in flight */
  size_t uri_index;
  json_t *body;
  kedge_sbi_client_call_t *call;
  int64_t started_ms, deadline_ms;
  unsigned unreachable, timeouts;
  kedge_key_done_fn done;
  void *arg;
};

static const char *const outcome_names[KEDGE_KEY__COUNT] = {
    [KEDGE_KEY_OK] = "ok",
    [KEDGE_KEY_NOT_FOUND] = "not_found",
    [KEDGE_KEY_BAD_REQUEST] = "bad_request",
    [KEDGE_KEY_FORBIDDEN] = "forbidden",
    [KEDGE_KEY_TOO_MANY] = "too_many_requests",
    [KEDGE_KEY_UNAVAILABLE] = "unavailable",
    [KEDGE_KEY_TIMEOUT] = "timeout",
    [KEDGE_KEY_UNREACHABLE] = "unreachable",
    [KEDGE_KEY_BAD_ANSWER] = "bad_answer",
};

static const char *const outcome_texts[KEDGE_KEY__COUNT] = {
    [KEDGE_KEY_OK] = "key received",
    [KEDGE_KEY_NOT_FOUND] = "not found (404)",
    [KEDGE_KEY_BAD_REQUEST] = "rejected as malformed (400)",
    [KEDGE_KEY_FORBIDDEN] = "this consumer is not authorised (403)",
    [KEDGE_KEY_TOO_MANY] = "too many requests (429)",
    [KEDGE_KEY_UNAVAILABLE] = "unavailable (5xx)",
    [KEDGE_KEY_TIMEOUT] = "no answer in time",
    [KEDGE_KEY_UNREACHABLE] = "not reachable",
    [KEDGE_KEY_BAD_ANSWER] = "unusable answer",
};

const char *kedge_key_outcome_name(kedge_key_outcome_t outcome)
{
  return (unsigned)outcome < KEDGE_KEY__COUNT ? outcome_names[outcome] : "bad_answer";
}

const char *kedge_key_outcome_text(kedge_key_outcome_t outcome)
{
  return (unsigned)outcome < KEDGE_KEY__COUNT ? outcome_texts[outcome] : "unusable answer";
}

kedge_err_t kedge_key_client_new(kedge_sbi_client_t *sbi, const kedge_key_client_options_t *opts,
                                 kedge_key_client_t **client)
{
  if (!sbi || !opts || !opts->routes || !client)
    return KEDGE_ERR_INVALID_ARG;
  kedge_key_client_t *c = calloc(1, sizeof(*c));
  if (!c)
    return KEDGE_ERR_NOMEM;
  LIST_INIT(&c->fetches);
  c->sbi = sbi;
  c->opts = *opts;
  if (!c->opts.timeout_ms)
    c->opts.timeout_ms = KEDGE_SBI_CLIENT_TIMEOUT_MS_DEFAULT;
  *client = c;
  return KEDGE_OK;
}

static void fetch_unlink(kedge_key_fetch_t *f)
{
  LIST_REMOVE(f, link);
}

static void fetch_free(kedge_key_fetch_t *f)
{
  json_decref(f->body);
  free(f->found);
  free(f);
}

/* The row's URIs, or for a `discover` row the producers the NRF named. */
static size_t n_uris(const kedge_key_fetch_t *f)
{
  return f->route->discover ? (f->found ? f->found->n : 0) : f->route->n_uris;
}

static const char *uri_at(const kedge_key_fetch_t *f, size_t i)
{
  size_t n = n_uris(f);
  if (n == 0)
    return "(NRF discovery)";
  i = i < n ? i : n - 1;
  return f->route->discover ? f->found->c[i].api_root : f->route->uris[i];
}

void kedge_key_fetch_cancel(kedge_key_fetch_t *f)
{
  if (!f)
    return;
  kedge_sbi_client_cancel(f->call);
  kedge_nrf_discover_cancel(f->disc_call);
  fetch_unlink(f);
  fetch_free(f);
}

void kedge_key_client_free(kedge_key_client_t *c)
{
  if (!c)
    return;
  while (!LIST_EMPTY(&c->fetches))
    kedge_key_fetch_cancel(LIST_FIRST(&c->fetches));
  free(c);
}

/* A peer's ProblemDetails cause, kept to one harmless token for logs and audit lines. */
static void read_cause(const kedge_sbi_client_response_t *resp, char out[CAUSE_MAX])
{
  const char *cause = resp->json ? json_string_value(json_object_get(resp->json, "cause")) : NULL;
  snprintf(out, CAUSE_MAX, "%s", cause ? cause : "");
  for (char *p = out; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '_')
      *p = '?';
}

static void complete(kedge_key_fetch_t *f, kedge_key_outcome_t outcome,
                     const kedge_sbi_client_response_t *resp, const uint8_t *key, int64_t expiry)
{
  char cause[CAUSE_MAX] = "";
  kedge_key_answer_t a = {
      .outcome = outcome,
      .key = outcome == KEDGE_KEY_OK ? key : NULL,
      .expiry_unix_ms = outcome == KEDGE_KEY_OK ? expiry : 0,
      .status = resp && !resp->err ? resp->status : 0,
      .cause = cause,
      .route = f->route,
      .uri = uri_at(f, f->uri_index),
      .unreachable = f->unreachable,
      .timeouts = f->timeouts,
      .elapsed_us = (uint64_t)(kedge_now_ms() - f->started_ms) * 1000u,
  };
  if (resp && !resp->err && outcome != KEDGE_KEY_OK) {
    read_cause(resp, cause);
    unsigned s = 0;
    if ((resp->status == 429 || resp->status >= 500) &&
        kedge_http_retry_after_parse(resp->retry_after, 86400, &s) == KEDGE_OK)
      a.retry_after_s = s;
  }
  fetch_unlink(f);
  f->done(&a, f->arg);
  fetch_free(f);
}

static void answered(const kedge_sbi_client_response_t *resp, void *arg);

/* Sends to the first URI from f->uri_index on that is not under a Retry-After. */
static kedge_err_t send_next(kedge_key_fetch_t *f)
{
  const kedge_key_route_t *row = f->route;
  int64_t now = kedge_now_ms();
  for (; f->uri_index < n_uris(f); f->uri_index++) {
    if (!row->discover && atomic_load(&row->not_before_ms[f->uri_index]) > now)
      continue;
    char url[KEDGE_KEY_URI_MAX + 64];
    snprintf(url, sizeof(url), "%s%s", uri_at(f, f->uri_index), kedge_key_api_path(f->rq.api));
    int64_t left = f->deadline_ms - now;
    uint32_t attempt = f->client->opts.attempt_timeout_ms;
    if (!attempt || attempt > left)
      attempt = (uint32_t)(left > 1 ? left : 1);
    const kedge_sbi_client_request_t req = {
        .method = "POST", .url = url, .body = f->body, .timeout_ms = attempt};
    if (kedge_sbi_client_send(f->client->sbi, &req, answered, f, &f->call) == KEDGE_OK)
      return KEDGE_OK;
    kedge_log_warn("key source %s (group %s): cannot send", uri_at(f, f->uri_index), row->name);
    f->unreachable++;
  }
  return KEDGE_ERR_UNAVAILABLE;
}

static void honour_retry_after(kedge_key_fetch_t *f, const char *value)
{
  unsigned s = 0;
  unsigned max = f->client->opts.max_retry_after_s;
  if (max && !f->route->discover && kedge_http_retry_after_parse(value, max, &s) == KEDGE_OK &&
      s > 0)
    atomic_store(&f->route->not_before_ms[f->uri_index], kedge_now_ms() + (int64_t)s * 1000);
}

static void answered(const kedge_sbi_client_response_t *resp, void *arg)
{
  kedge_key_fetch_t *f = arg;
  f->call = NULL;
  if (resp->err == KEDGE_ERR_UNAVAILABLE || resp->err == KEDGE_ERR_TIMEOUT) {
    bool timeout = resp->err == KEDGE_ERR_TIMEOUT;
    if (timeout)
      f->timeouts++;
    else
      f->unreachable++;
    kedge_log_warn("key source %s (group %s): %s", uri_at(f, f->uri_index), f->route->name,
                   timeout ? "no answer in time" : "not reachable");
    if (!timeout || kedge_now_ms() < f->deadline_ms) {
      f->uri_index++;
      if (send_next(f) == KEDGE_OK)
        return;
    }
    complete(f, timeout || f->timeouts ? KEDGE_KEY_TIMEOUT : KEDGE_KEY_UNREACHABLE, NULL, NULL, 0);
    return;
  }
  if (resp->err) {
    complete(f, KEDGE_KEY_BAD_ANSWER, NULL, NULL, 0);
    return;
  }
  switch (resp->status) {
  case 200: {
    uint8_t key[KEDGE_KEY_LEN];
    int64_t expiry = 0;
    if (!resp->json || kedge_key_answer_read(&f->rq, resp->json, key, &expiry) != KEDGE_OK)
      complete(f, KEDGE_KEY_BAD_ANSWER, resp, NULL, 0);
    else if (expiry <= kedge_wall_ms()) /* SPEC.md 3: expired is unknown, whoever noticed */
      complete(f, KEDGE_KEY_NOT_FOUND, resp, NULL, 0);
    else
      complete(f, KEDGE_KEY_OK, resp, key, expiry);
    OPENSSL_cleanse(key, sizeof(key));
    return;
  }
  case 204: /* TS 29.535 / TS 29.522: the AKMA APIs' "no such A-KID"; no other API sends it */
    complete(f, kedge_key_api_is_akma(f->rq.api) ? KEDGE_KEY_NOT_FOUND : KEDGE_KEY_BAD_ANSWER, resp,
             NULL, 0);
    return;
  case 404:
    complete(f, KEDGE_KEY_NOT_FOUND, resp, NULL, 0);
    return;
  case 400:
    complete(f, KEDGE_KEY_BAD_REQUEST, resp, NULL, 0);
    return;
  case 403:
    complete(f, KEDGE_KEY_FORBIDDEN, resp, NULL, 0);
    return;
  case 429:
    honour_retry_after(f, resp->retry_after);
    complete(f, KEDGE_KEY_TOO_MANY, resp, NULL, 0);
    return;
  default:
    if (resp->status >= 500 && resp->status <= 599) {
      honour_retry_after(f, resp->retry_after);
      complete(f, KEDGE_KEY_UNAVAILABLE, resp, NULL, 0);
    } else {
      complete(f, KEDGE_KEY_BAD_ANSWER, resp, NULL, 0);
    }
  }
}

static kedge_err_t copy_string(char *dst, size_t size, const char *src)
{
  if (!src) {
    dst[0] = '\0';
    return KEDGE_OK;
  }
  size_t len = strlen(src);
  if (len >= size)
    return KEDGE_ERR_INVALID_ARG;
  memcpy(dst, src, len + 1);
  return KEDGE_OK;
}

/* A `discover` row (SPEC.md 7): the producers of the API's service for the key ID's RID and
 * home PLMN (TS 29.510 6.2.3.2.3.1 routing-indicator, target-plmn-list), then as a static row. */
static void discovered(kedge_err_t err, const kedge_nrf_candidates_t *cands, void *arg)
{
  kedge_key_fetch_t *f = arg;
  f->disc_call = NULL;
  if (!err && !(f->found = malloc(sizeof(*f->found))))
    err = KEDGE_ERR_NOMEM;
  if (err) { /* the discovery logged its one line */
    f->unreachable++;
    complete(f, err == KEDGE_ERR_TIMEOUT ? KEDGE_KEY_TIMEOUT : KEDGE_KEY_UNREACHABLE, NULL, NULL,
             0);
    return;
  }
  *f->found = *cands;
  if (send_next(f) != KEDGE_OK)
    complete(f, KEDGE_KEY_UNREACHABLE, NULL, NULL, 0);
}

static kedge_err_t start_discovery(kedge_key_fetch_t *f)
{
  const kedge_key_client_options_t *o = &f->client->opts;
  if (!o->disc || !o->nrf || !o->base)
    return KEDGE_ERR_UNAVAILABLE;
  kedge_nrf_query_t q = {
      .routing_indicator = f->rid, .target_mcc = f->home.mcc, .target_mnc = f->home.mnc};
  kedge_key_api_target(f->rq.api, &q.target_nf_type, &q.service_name);
  return kedge_nrf_discover(o->disc, o->nrf, o->base, &q, discovered, f, &f->disc_call);
}

kedge_err_t kedge_key_fetch(kedge_key_client_t *c, const kedge_key_request_t *rq,
                            kedge_key_done_fn done, void *arg, kedge_key_fetch_t **handle)
{
  if (handle)
    *handle = NULL;
  if (!c || !rq || !done || !rq->key_id || !rq->home || !rq->rid || rq->key_id_len > KEY_ID_MAX ||
      !kedge_key_api_path(rq->api))
    return KEDGE_ERR_INVALID_ARG;
  const kedge_key_route_t *row = kedge_key_route_find(c->opts.routes, rq->home, rq->rid);
  if (!row)
    return KEDGE_ERR_NOT_FOUND;
  kedge_key_fetch_t *f = calloc(1, sizeof(*f));
  if (!f)
    return KEDGE_ERR_NOMEM;
  f->rq = *rq;
  memcpy(f->key_id, rq->key_id, rq->key_id_len);
  f->home = *rq->home;
  if (copy_string(f->rid, sizeof(f->rid), rq->rid) ||
      copy_string(f->af_id, sizeof(f->af_id), rq->af_id) ||
      copy_string(f->ecs_id, sizeof(f->ecs_id), rq->ecs_id)) {
    free(f);
    return KEDGE_ERR_INVALID_ARG;
  }
  f->rq.key_id = f->key_id;
  f->rq.home = &f->home;
  f->rq.rid = f->rid;
  f->rq.af_id = rq->af_id ? f->af_id : NULL;
  f->rq.ecs_id = rq->ecs_id ? f->ecs_id : NULL;
  f->client = c;
  f->route = row;
  f->done = done;
  f->arg = arg;
  f->started_ms = kedge_now_ms();
  f->deadline_ms = f->started_ms + (rq->timeout_ms ? rq->timeout_ms : c->opts.timeout_ms);
  f->body = kedge_key_request_body(&f->rq);
  f->rq.revoc_callback_uri = NULL; /* the caller's string: used for the body only */
  if (!f->body) {
    fetch_free(f);
    return KEDGE_ERR_NOMEM;
  }
  if (row->discover ? start_discovery(f) != KEDGE_OK : send_next(f) != KEDGE_OK) {
    fetch_free(f);
    return KEDGE_ERR_UNAVAILABLE;
  }
  LIST_INSERT_HEAD(&c->fetches, f, link);
  if (handle)
    *handle = f;
  return KEDGE_OK;
}
