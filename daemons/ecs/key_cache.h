/* The ECS's cache of fetched keys (SPEC.md 4): Kedge ID -> Kedge (or K_ECS in profile bound),
 * bounded in entries, least recently used evicted first, each entry with its own deadline
 * (min(key_cache_ttl, the key's expiry), computed by the caller). The same structure without
 * keys is the negative cache of identities the key source did not know. Thread-safe (one
 * mutex); keys are wiped when an entry goes. Times are kedge_now_ms() (CLOCK_MONOTONIC
 * milliseconds). */
#ifndef KEDGE_ECS_KEY_CACHE_H
#define KEDGE_ECS_KEY_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kedge/edge.h"
#include "kedge/error.h"

typedef struct ecs_key_cache ecs_key_cache_t;

/* capacity: entries kept at most (>= 1). */
kedge_err_t ecs_key_cache_new(size_t capacity, ecs_key_cache_t **out);
void ecs_key_cache_free(ecs_key_cache_t *cache);

/* Stores `key` (NULL for a negative entry) for the identity `id` (len <= KEDGE_ID_MAX octets)
 * until `deadline_ms`, replacing an entry of that identity and evicting the least recently
 * used one when full. A deadline not after `now_ms` stores nothing. */
kedge_err_t ecs_key_cache_put(ecs_key_cache_t *cache, const char *id, size_t len,
                              const uint8_t key[KEDGE_KEY_LEN], int64_t deadline_ms,
                              int64_t now_ms);

/* True when a live entry exists (it becomes the most recently used); its key is copied to
 * `key` if both are non-NULL. An entry past its deadline is removed and not found. */
bool ecs_key_cache_get(ecs_key_cache_t *cache, const char *id, size_t len, int64_t now_ms,
                       uint8_t key[KEDGE_KEY_LEN]);

/* Removes the identity's entry if there is one. */
void ecs_key_cache_remove(ecs_key_cache_t *cache, const char *id, size_t len);

/* Revokes the identity (issue 13): its entry goes, and a tombstone keeps any put of that
 * identity out until `until_ms` (a fetch answered before the revocation must not bring the
 * key back); get finds nothing meanwhile. *had_key (may be NULL): a live key was cached. */
kedge_err_t ecs_key_cache_revoke(ecs_key_cache_t *cache, const char *id, size_t len,
                                 int64_t until_ms, int64_t now_ms, bool *had_key);

size_t ecs_key_cache_count(ecs_key_cache_t *cache);

#endif
