/* The key behind a PSK identity (SPEC.md 0 steps 5-6, SPEC.md 4): key cache, negative cache,
 * routing table, rate limits, then Nausf_UEAuthentication_keyrequest at the AUSF
 * (`POST {uri}/nausf-auth/v1/kedge-keys/retrieve`, SPEC.md 3) or the NEF's northbound key
 * API (`POST {uri}/3gpp-kedge/v1/retrieve`, steps 5.1-6.2), or in profile akma K_AF for the
 * ECS's FQDN at the AAnF or the NEF's 3gpp-akma (SPEC.md 9), through the worker's key-service
 * client (include/kedge/key_client.h: routes, failover, Retry-After, the answer's codec).
 * Handshakes that need the same identity at the same time on one worker share one fetch.
 * What each answer means for the handshake is SPEC.md 4's table: 200 -> the key; 400/404 ->
 * dummy key (and the negative cache); 403, 429, 5xx, no answer, timeout -> internal_error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "key_fetch.h"

#include "ecs.h"
#include "kedge/hex.h"
#include "kedge/log.h"
#include "kedge/time.h"
#include "worker.h"

struct ecs_fetch {
  LIST_ENTRY(ecs_fetch) link; /* in the worker's list */
  ecs_worker_t *ew;
  kedge_key_fetch_t *call; /* the key-service client's fetch */
  LIST_HEAD(, ecs_key_waiter) waiters;
  size_t id_len;
  char id[KEDGE_ID_MAX + 1];
};
typedef struct ecs_fetch ecs_fetch_t;

static void waiter_push(ecs_fetch_t *f, ecs_key_waiter_t *w)
{
  w->fetch = f;
  LIST_INSERT_HEAD(&f->waiters, w, link);
}

void ecs_key_waiter_cancel(ecs_key_waiter_t *w)
{
  if (!w || !w->fetch)
    return;
  LIST_REMOVE(w, link);
  w->fetch = NULL;
}

static void fetch_unlink(ecs_fetch_t *f)
{
  ecs_worker_t *ew = f->ew;
  LIST_REMOVE(f, link);
  ew->n_fetches--;
  kedge_gauge_add(ew->ecs->m_fetches, -1);
}

/* The answer floor (issue 12): max(answer_floor, twice the running average fetch time), at
 * most answer_floor_max. Twice the average covers the fetches that take longer than most. */
int64_t ecs_answer_floor_ms(const ecs_t *ecs)
{
  int64_t floor = ecs->answer_floor_ms;
  int64_t adaptive = (2 * atomic_load(&((ecs_t *)ecs)->fetch_avg_us) + 999) / 1000;
  if (adaptive > floor)
    floor = adaptive < ecs->answer_floor_max_ms ? adaptive : ecs->answer_floor_max_ms;
  return floor;
}

/* One fetch took `us`: the running average moves 1/16 of the way, from 0 at start (an EWMA;
 * one slow first fetch, which opens the connection to the key source, does not set it; workers
 * race on it harmlessly, a lost update is one sample). One sample per fetch, however many
 * handshakes waited for it (issue 17: a sample per waiter, each timed from its own
 * ClientHello, let one slow fetch joined by a thousand handshakes under load pin the floor
 * at answer_floor_max, and every handshake after it waited 50 ms). The gauge follows the
 * floor: the exchange makes its deltas add up to the value last stored. */
static void fetch_time_sample(ecs_t *ecs, int64_t us)
{
  int64_t avg = atomic_load(&ecs->fetch_avg_us);
  int64_t cap = ecs->answer_floor_max_ms * 1000;
  if (us > cap)
    us = cap;
  atomic_store(&ecs->fetch_avg_us, avg + (us - avg) / 16);
  int64_t floor_us = ecs_answer_floor_ms(ecs) * 1000;
  kedge_gauge_add(ecs->m_answer_floor, floor_us - atomic_exchange(&ecs->answer_floor_us, floor_us));
}

static void fetch_free(ecs_fetch_t *f)
{
  free(f);
}

/* Ends a fetch: counts it, fills the caches, hands the verdict to every waiter (SPEC.md 4's
 * table: the key; 400/404 -> dummy key and the negative cache; anything else internal_error). */
static void fetch_answered(const kedge_key_answer_t *a, void *arg)
{
  ecs_fetch_t *f = arg;
  ecs_t *ecs = f->ew->ecs;
  int64_t now = kedge_now_ms();
  f->call = NULL;
  kedge_counter_add(ecs->m_fetch[a->outcome], 1);
  kedge_histogram_observe(ecs->m_fetch_seconds, (double)a->elapsed_us / 1e6);
  ecs_key_state_t state = ECS_KEY_FAILED;
  if (a->outcome == KEDGE_KEY_OK) {
    /* SPEC.md 4: cached at most key_cache_ttl, never past the key's expiry */
    int64_t left = a->expiry_unix_ms - kedge_wall_ms();
    int64_t ttl = left < ecs->key_cache_ttl_ms ? left : ecs->key_cache_ttl_ms;
    ecs_key_cache_put(ecs->keys, f->id, f->id_len, a->key, now + ttl, now);
    state = ECS_KEY_FOUND;
  } else if (a->outcome == KEDGE_KEY_NOT_FOUND || a->outcome == KEDGE_KEY_BAD_REQUEST) {
    ecs_key_cache_put(ecs->negative, f->id, f->id_len, NULL, now + ecs->negative_cache_ttl_ms, now);
    state = ECS_KEY_UNKNOWN;
  }
  if (state != ECS_KEY_FAILED)
    fetch_time_sample(ecs, (int64_t)a->elapsed_us);
  if (state == ECS_KEY_FAILED)
    kedge_log_warn("key request for %.*s: %s %s %s", (int)f->id_len, f->id, ecs_source_name(ecs),
                   a->uri, kedge_key_outcome_text(a->outcome));
  else
    kedge_log_debug("key request for %.*s: %s", (int)f->id_len, f->id,
                    kedge_key_outcome_text(a->outcome));
  fetch_unlink(f);
  ecs_key_waiter_t *w;
  while ((w = LIST_FIRST(&f->waiters))) {
    ecs_key_waiter_cancel(w);
    w->done(w, state, state == ECS_KEY_FOUND ? a->key : NULL);
  }
  fetch_free(f);
}

ecs_key_state_t ecs_key_lookup(ecs_worker_t *ew, const char *id, size_t len,
                               const kedge_id_t *parsed, const struct sockaddr *peer,
                               ecs_key_waiter_t *waiter, uint8_t key[KEDGE_KEY_LEN])
{
  ecs_t *ecs = ew->ecs;
  int64_t now = kedge_now_ms();
  if (ecs_key_cache_get(ecs->keys, id, len, now, key)) {
    kedge_counter_add(ecs->m_lookup[ECS_LOOKUP_HIT], 1);
    return ECS_KEY_FOUND;
  }
  if (ecs_key_cache_get(ecs->negative, id, len, now, NULL)) {
    kedge_counter_add(ecs->m_lookup[ECS_LOOKUP_NEGATIVE_HIT], 1);
    return ECS_KEY_UNKNOWN;
  }
  ecs_fetch_t *f;
  LIST_FOREACH(f, &ew->fetches, link)
  {
    if (f->id_len == len && memcmp(f->id, id, len) == 0) {
      kedge_counter_add(ecs->m_lookup[ECS_LOOKUP_JOINED], 1);
      waiter_push(f, waiter);
      return ECS_KEY_PENDING;
    }
  }
  if (!kedge_key_route_find(&ecs->routes, &parsed->home, parsed->rid)) {
    /* SPEC.md 3 (and 9 for an A-KID): not found, as the NEF answers (404, or 204 in
     * 3gpp-akma) when no row of its own table serves the home network or RID; both tables
     * are lib/keysvc's (kedge_key_route_find), each read from its daemon's config. */
    kedge_counter_add(ecs->m_lookup[ECS_LOOKUP_NO_ROUTE], 1);
    return ECS_KEY_UNKNOWN;
  }
  if (ew->n_fetches >= ecs->max_pending_fetches ||
      ecs_rate_limit_take(ecs->rate_limit, peer, now) != ECS_RATE_OK) {
    kedge_counter_add(ecs->m_lookup[ECS_LOOKUP_LIMITED], 1);
    return ECS_KEY_LIMITED;
  }
  f = calloc(1, sizeof(*f));
  if (!f)
    return ECS_KEY_FAILED;
  f->ew = ew;
  f->id_len = len;
  memcpy(f->id, id, len);
  const kedge_key_request_t rq = {
      .api = ecs->api,
      .key_id = id,
      .key_id_len = len,
      .home = &parsed->home,
      .rid = parsed->rid,
      .af_id = ecs->profile == ECS_PROFILE_AKMA ? ecs->ecs_id : ecs->af_id, /* SPEC.md 9 */
      .ecs_id = ecs->profile == ECS_PROFILE_BOUND ? ecs->ecs_id : NULL,     /* SPEC.md 6 */
      .revoc_callback_uri = ecs_revocation_callback_uri(ecs),               /* issue 13 */
  };
  if (kedge_key_fetch(ew->keys, &rq, fetch_answered, f, &f->call) != KEDGE_OK) {
    kedge_counter_add(ecs->m_fetch[KEDGE_KEY_UNREACHABLE], 1);
    kedge_log_warn("key request for %.*s: no %s to ask (all under Retry-After, or no client)",
                   (int)len, id, ecs_source_name(ecs));
    fetch_free(f);
    return ECS_KEY_FAILED;
  }
  kedge_counter_add(ecs->m_lookup[ECS_LOOKUP_FETCH], 1);
  LIST_INSERT_HEAD(&ew->fetches, f, link);
  ew->n_fetches++;
  kedge_gauge_add(ecs->m_fetches, 1);
  waiter_push(f, waiter);
  return ECS_KEY_PENDING;
}

void ecs_fetches_free(ecs_worker_t *ew)
{
  ecs_fetch_t *f;
  while ((f = LIST_FIRST(&ew->fetches))) {
    kedge_key_fetch_cancel(f->call);
    while (!LIST_EMPTY(&f->waiters))
      ecs_key_waiter_cancel(LIST_FIRST(&f->waiters));
    fetch_unlink(f);
    fetch_free(f);
  }
}
