/* The key behind a PSK identity (SPEC.md 0 steps 5-6, SPEC.md 4): key cache, negative cache,
 * routing table, rate limits, then Nausf_UEAuthentication_keyrequest at the AUSF
 * (`POST {uri}/nausf-auth/v1/kedge-keys/retrieve`, SPEC.md 3) or the NEF's northbound key
 * API (`POST {uri}/3gpp-kedge/v1/retrieve`, steps 5.1-6.2) through the worker's SBI client.
 * Handshakes that need the same identity at the same time on one worker share one fetch.
 * What each answer means for the handshake is SPEC.md 4's table: 200 -> the key; 400/404 ->
 * dummy key (and the negative cache); 403, 429, 5xx, no answer, timeout -> internal_error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "ecs.h"
#include "kedge/hex.h"
#include "kedge/log.h"

struct ecs_fetch {
  struct ecs_fetch *prev, *next; /* in the worker's list */
  ecs_worker_t *ew;
  const ecs_route_t *route;
  size_t uri_index; /* the URI being tried */
  kedge_sbi_client_call_t *call;
  json_t *body;
  int64_t started_ms, deadline_ms;
  ecs_key_waiter_t *waiters;
  size_t id_len;
  char id[KEDGE_ID_MAX + 1];
};
typedef struct ecs_fetch ecs_fetch_t;

static const char *source_name(const ecs_t *ecs)
{
  return ecs->source == ECS_SOURCE_AUSF ? "AUSF" : "NEF";
}

const ecs_route_t *ecs_route_find(const ecs_t *ecs, const kedge_id_t *id)
{
  for (size_t i = 0; i < ecs->n_routes; i++) {
    const ecs_route_t *r = &ecs->routes[i];
    if (!r->any_home && (strcmp(r->home.mcc, id->home.mcc) || strcmp(r->home.mnc, id->home.mnc)))
      continue;
    if (ecs_list_allows(r->rids, r->n_rids, id->rid))
      return r;
  }
  return NULL;
}

static void waiter_push(ecs_fetch_t *f, ecs_key_waiter_t *w)
{
  w->fetch = f;
  w->prev = NULL;
  w->next = f->waiters;
  if (f->waiters)
    f->waiters->prev = w;
  f->waiters = w;
}

void ecs_key_waiter_cancel(ecs_key_waiter_t *w)
{
  ecs_fetch_t *f = w ? w->fetch : NULL;
  if (!f)
    return;
  if (w->prev)
    w->prev->next = w->next;
  else
    f->waiters = w->next;
  if (w->next)
    w->next->prev = w->prev;
  w->prev = w->next = NULL;
  w->fetch = NULL;
}

static void fetch_unlink(ecs_fetch_t *f)
{
  ecs_worker_t *ew = f->ew;
  if (f->prev)
    f->prev->next = f->next;
  else
    ew->fetches = f->next;
  if (f->next)
    f->next->prev = f->prev;
  ew->n_fetches--;
  kedge_gauge_add(ew->ecs->m_fetches, -1);
}

static void fetch_free(ecs_fetch_t *f)
{
  json_decref(f->body);
  free(f);
}

static const char *const fetch_result_text[ECS_FETCH__COUNT] = {
    [ECS_FETCH_OK] = "key received",
    [ECS_FETCH_NOT_FOUND] = "not found (404)",
    [ECS_FETCH_BAD_REQUEST] = "rejected as malformed (400)",
    [ECS_FETCH_FORBIDDEN] = "this ECS is not authorised (403)",
    [ECS_FETCH_TOO_MANY] = "too many requests (429)",
    [ECS_FETCH_UNAVAILABLE] = "unavailable (5xx)",
    [ECS_FETCH_TIMEOUT] = "no answer in time",
    [ECS_FETCH_UNREACHABLE] = "not reachable",
    [ECS_FETCH_BAD_ANSWER] = "unusable answer",
};

/* Ends a fetch: counts it, fills the caches, hands the verdict to every waiter. */
static void fetch_complete(ecs_fetch_t *f, ecs_fetch_result_t result,
                           const uint8_t key[KEDGE_KEY_LEN], int64_t expiry_unix_ms)
{
  ecs_t *ecs = f->ew->ecs;
  int64_t now = ecs_now_ms();
  kedge_counter_add(ecs->m_fetch[result], 1);
  kedge_histogram_observe(ecs->m_fetch_seconds, (double)(now - f->started_ms) / 1000.0);
  ecs_key_state_t state = ECS_KEY_FAILED;
  if (result == ECS_FETCH_OK) {
    /* SPEC.md 4: cached at most key_cache_ttl, never past the key's expiry */
    int64_t left = expiry_unix_ms - ecs_wall_ms();
    int64_t ttl = left < ecs->key_cache_ttl_ms ? left : ecs->key_cache_ttl_ms;
    ecs_key_cache_put(ecs->keys, f->id, f->id_len, key, now + ttl, now);
    state = ECS_KEY_FOUND;
  } else if (result == ECS_FETCH_NOT_FOUND || result == ECS_FETCH_BAD_REQUEST) {
    ecs_key_cache_put(ecs->negative, f->id, f->id_len, NULL, now + ecs->negative_cache_ttl_ms, now);
    state = ECS_KEY_UNKNOWN;
  }
  if (state == ECS_KEY_FAILED)
    kedge_log_warn("key request for %.*s: %s %s", (int)f->id_len, f->id, source_name(ecs),
                   fetch_result_text[result]);
  else
    kedge_log_debug("key request for %.*s: %s", (int)f->id_len, f->id, fetch_result_text[result]);
  fetch_unlink(f);
  while (f->waiters) {
    ecs_key_waiter_t *w = f->waiters;
    ecs_key_waiter_cancel(w);
    w->done(w, state, state == ECS_KEY_FOUND ? key : NULL);
  }
  fetch_free(f);
}

static void fetch_answered(const kedge_sbi_client_response_t *resp, void *arg);

/* Sends the request to the first URI from f->uri_index on that is not under a Retry-After.
 * KEDGE_ERR_UNAVAILABLE when none is left. */
static kedge_err_t fetch_send(ecs_fetch_t *f)
{
  ecs_t *ecs = f->ew->ecs;
  kedge_sbi_client_t *client = f->ew->client;
  int64_t now = ecs_now_ms();
  for (; f->uri_index < f->route->n_uris; f->uri_index++) {
    if (atomic_load(&f->route->not_before_ms[f->uri_index]) > now)
      continue;
    const char *path = ecs->source == ECS_SOURCE_AUSF ? "/nausf-auth/v1/kedge-keys/retrieve"
                                                      : "/3gpp-kedge/v1/retrieve";
    char url[2048];
    if ((size_t)snprintf(url, sizeof(url), "%s%s", f->route->uris[f->uri_index], path) >=
        sizeof(url))
      continue;
    int64_t left = f->deadline_ms - now;
    kedge_sbi_client_request_t req = {
        .method = "POST",
        .url = url,
        .body = f->body,
        .timeout_ms = (uint32_t)(left > 1 ? left : 1),
    };
    if (kedge_sbi_client_send(client, &req, fetch_answered, f, &f->call) == KEDGE_OK)
      return KEDGE_OK;
  }
  return KEDGE_ERR_UNAVAILABLE;
}

/* RFC 9110 10.2.3 delta-seconds, up to max_retry_after. */
static void honour_retry_after(ecs_fetch_t *f, const char *value)
{
  ecs_t *ecs = f->ew->ecs;
  int64_t s;
  if (kedge_sbi_retry_after_parse(value, &s) != KEDGE_OK)
    return;
  int64_t ms = s * 1000;
  if (ms > ecs->max_retry_after_ms)
    ms = ecs->max_retry_after_ms;
  if (ms > 0)
    atomic_store(&f->route->not_before_ms[f->uri_index], ecs_now_ms() + ms);
}

/* KedgeKeyResponse (SPEC.md 3): {kedgeId, kedge (64 hex), expiry (RFC 3339)}. */
bool ecs_key_answer_read(const json_t *j, const char *asked, size_t asked_len,
                        uint8_t key[KEDGE_KEY_LEN], int64_t *expiry)
{
  const char *id = json_string_value(json_object_get(j, "kedgeId"));
  const char *hex = json_string_value(json_object_get(j, "kedge"));
  const char *exp = json_string_value(json_object_get(j, "expiry"));
  return id && strlen(id) == asked_len && memcmp(id, asked, asked_len) == 0 && hex &&
         kedge_hex_decode(hex, key, KEDGE_KEY_LEN) == KEDGE_OK && exp &&
         ecs_rfc3339_parse(exp, expiry) == KEDGE_OK;
}

static void fetch_answered(const kedge_sbi_client_response_t *resp, void *arg)
{
  ecs_fetch_t *f = arg;
  f->call = NULL;
  uint8_t key[KEDGE_KEY_LEN];
  int64_t expiry = 0;
  if (resp->err == KEDGE_ERR_UNAVAILABLE) {
    /* connection failure: the route's next URI, within the same deadline */
    kedge_log_warn("key source %s not reachable", f->route->uris[f->uri_index]);
    f->uri_index++;
    if (fetch_send(f) == KEDGE_OK)
      return;
    fetch_complete(f, ECS_FETCH_UNREACHABLE, NULL, 0);
  } else if (resp->err == KEDGE_ERR_TIMEOUT) {
    fetch_complete(f, ECS_FETCH_TIMEOUT, NULL, 0);
  } else if (resp->err) {
    fetch_complete(f, ECS_FETCH_BAD_ANSWER, NULL, 0);
  } else if (resp->status == 200) {
    if (!resp->json || !ecs_key_answer_read(resp->json, f->id, f->id_len, key, &expiry)) {
      fetch_complete(f, ECS_FETCH_BAD_ANSWER, NULL, 0);
    } else if (expiry <= ecs_wall_ms()) {
      /* SPEC.md 3: an expired key is an unknown key, whoever noticed */
      fetch_complete(f, ECS_FETCH_NOT_FOUND, NULL, 0);
    } else {
      fetch_complete(f, ECS_FETCH_OK, key, expiry);
    }
    OPENSSL_cleanse(key, sizeof(key));
  } else if (resp->status == 404) {
    fetch_complete(f, ECS_FETCH_NOT_FOUND, NULL, 0);
  } else if (resp->status == 400) {
    fetch_complete(f, ECS_FETCH_BAD_REQUEST, NULL, 0);
  } else if (resp->status == 403) {
    fetch_complete(f, ECS_FETCH_FORBIDDEN, NULL, 0);
  } else if (resp->status == 429) {
    honour_retry_after(f, resp->retry_after);
    fetch_complete(f, ECS_FETCH_TOO_MANY, NULL, 0);
  } else if (resp->status >= 500 && resp->status <= 599) {
    honour_retry_after(f, resp->retry_after);
    fetch_complete(f, ECS_FETCH_UNAVAILABLE, NULL, 0);
  } else {
    fetch_complete(f, ECS_FETCH_BAD_ANSWER, NULL, 0);
  }
}

/* KedgeKeyRequest {kedgeId, ecsId?} to the AUSF; {afId, kedgeId, ecsId?} to the NEF. */
static json_t *request_body(const ecs_t *ecs, const char *id, size_t len)
{
  json_t *body = json_object();
  if (!body)
    return NULL;
  int rc = 0;
  if (ecs->source == ECS_SOURCE_NEF)
    rc |= json_object_set_new(body, "afId", json_string(ecs->af_id));
  rc |= json_object_set_new(body, "kedgeId", json_stringn(id, len));
  if (ecs->profile == ECS_PROFILE_BOUND) /* SPEC.md 6: K_ECS for this ECS ID */
    rc |= json_object_set_new(body, "ecsId", json_string(ecs->ecs_id));
  if (rc) {
    json_decref(body);
    return NULL;
  }
  return body;
}

ecs_key_state_t ecs_key_lookup(ecs_worker_t *ew, const char *id, size_t len,
                               const kedge_id_t *parsed, const struct sockaddr *peer,
                               ecs_key_waiter_t *waiter, uint8_t key[KEDGE_KEY_LEN])
{
  ecs_t *ecs = ew->ecs;
  int64_t now = ecs_now_ms();
  if (ecs_key_cache_get(ecs->keys, id, len, now, key)) {
    kedge_counter_add(ecs->m_lookup[ECS_LOOKUP_HIT], 1);
    return ECS_KEY_FOUND;
  }
  if (ecs_key_cache_get(ecs->negative, id, len, now, NULL)) {
    kedge_counter_add(ecs->m_lookup[ECS_LOOKUP_NEGATIVE_HIT], 1);
    return ECS_KEY_UNKNOWN;
  }
  for (ecs_fetch_t *f = ew->fetches; f; f = f->next) {
    if (f->id_len == len && memcmp(f->id, id, len) == 0) {
      kedge_counter_add(ecs->m_lookup[ECS_LOOKUP_JOINED], 1);
      waiter_push(f, waiter);
      return ECS_KEY_PENDING;
    }
  }
  const ecs_route_t *route = ecs_route_find(ecs, parsed);
  if (!route) {
    /* Like the NEF's 404 for a home network or RID it does not serve (SPEC.md 3). */
    kedge_counter_add(ecs->m_lookup[ECS_LOOKUP_NO_ROUTE], 1);
    return ECS_KEY_UNKNOWN;
  }
  if (ew->n_fetches >= ecs->max_pending_fetches ||
      ecs_rate_limit_take(ecs->rate_limit, peer, now) != ECS_RATE_OK) {
    kedge_counter_add(ecs->m_lookup[ECS_LOOKUP_LIMITED], 1);
    return ECS_KEY_LIMITED;
  }
  ecs_fetch_t *f = calloc(1, sizeof(*f));
  if (!f)
    return ECS_KEY_FAILED;
  f->ew = ew;
  f->route = route;
  f->started_ms = now;
  f->deadline_ms = now + ecs->client.timeout_ms;
  f->id_len = len;
  memcpy(f->id, id, len);
  f->body = request_body(ecs, id, len);
  if (!f->body || fetch_send(f) != KEDGE_OK) {
    kedge_counter_add(ecs->m_fetch[ECS_FETCH_UNREACHABLE], 1);
    kedge_log_warn("key request for %.*s: no %s to ask (all under Retry-After, or no client)",
                   (int)len, id, source_name(ecs));
    fetch_free(f);
    return ECS_KEY_FAILED;
  }
  kedge_counter_add(ecs->m_lookup[ECS_LOOKUP_FETCH], 1);
  f->next = ew->fetches;
  if (ew->fetches)
    ew->fetches->prev = f;
  ew->fetches = f;
  ew->n_fetches++;
  kedge_gauge_add(ecs->m_fetches, 1);
  waiter_push(f, waiter);
  return ECS_KEY_PENDING;
}

void ecs_fetches_free(ecs_worker_t *ew)
{
  while (ew->fetches) {
    ecs_fetch_t *f = ew->fetches;
    kedge_sbi_client_cancel(f->call);
    while (f->waiters)
      ecs_key_waiter_cancel(f->waiters);
    fetch_unlink(f);
    fetch_free(f);
  }
}
