/* The key behind a PSK identity: cache -> key source, coalesced per worker (key_fetch.c). */
#ifndef KEDGE_ECS_KEY_FETCH_H
#define KEDGE_ECS_KEY_FETCH_H

#include "kedge/list.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "kedge/edge.h"

/* Where the key for an identity stands: what a lookup answers, and what a handshake holds. */
typedef enum ecs_key_state {
  ECS_KEY_NONE,    /* no identity looked up yet (a handshake's start; never a lookup's answer) */
  ECS_KEY_PENDING, /* the waiter's callback comes later */
  ECS_KEY_FOUND,   /* the identity's key */
  ECS_KEY_UNKNOWN, /* no key for this identity: a dummy key (SPEC.md 4) */
  ECS_KEY_LIMITED, /* fetch rate limit: a dummy key too (issue 12: no oracle) */
  ECS_KEY_FAILED,  /* key source failure: internal_error */
} ecs_key_state_t;

/* FOUND, UNKNOWN and LIMITED hold a key (the real one, or a random dummy). */
static inline bool ecs_key_state_has_key(ecs_key_state_t s)
{
  return s == ECS_KEY_FOUND || s == ECS_KEY_UNKNOWN || s == ECS_KEY_LIMITED;
}

typedef struct ecs_key_waiter ecs_key_waiter_t;
typedef void (*ecs_key_done_fn)(ecs_key_waiter_t *waiter, ecs_key_state_t state,
                                const uint8_t key[KEDGE_KEY_LEN]);
struct ecs_key_waiter {
  LIST_ENTRY(ecs_key_waiter) link;
  struct ecs_fetch *fetch; /* NULL when not waiting */
  ecs_key_done_fn done;
};

struct ecs;
/* The answer floor now (issue 12, docs/ecs.md "Timing"): max(key_cache.answer_floor, twice the
 * running average key fetch time), at most answer_floor_max; in milliseconds. */
int64_t ecs_answer_floor_ms(const struct ecs *ecs);

struct ecs_worker;
/* The key for a Kedge ID that passed the strict parser: key cache, negative cache, route,
 * rate limits (peer: the client's address), then a fetch that `waiter` joins (PENDING: done()
 * runs later on this worker's loop, exactly once, unless cancelled). */
ecs_key_state_t ecs_key_lookup(struct ecs_worker *ew, const char *id, size_t len,
                               const kedge_id_t *parsed, const struct sockaddr *peer,
                               ecs_key_waiter_t *waiter, uint8_t key[KEDGE_KEY_LEN]);
/* The waiter no longer wants the answer (its handshake ended); the fetch goes on and still
 * fills the cache. */
void ecs_key_waiter_cancel(ecs_key_waiter_t *waiter);
/* At a worker's end: fetches still in flight are dropped. */
void ecs_fetches_free(struct ecs_worker *ew);

#endif
