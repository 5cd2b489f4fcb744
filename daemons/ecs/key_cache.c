/* Key cache: a chained hash table (keyed hash, keyed_hash.h) plus an LRU list (kedge/list.h). */
#include "key_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "kedge/keyed_hash.h"
#include "kedge/list.h"

typedef struct entry {
  struct entry *chain;    /* next in the bucket */
  TAILQ_ENTRY(entry) lru; /* newest first */
  int64_t deadline_ms;
  bool has_key;
  bool revoked; /* a tombstone: found by nobody, and no put replaces it before its deadline */
  uint8_t key[KEDGE_KEY_LEN];
  size_t id_len;
  char id[]; /* id_len octets */
} entry_t;

struct ecs_key_cache {
  pthread_mutex_t lock;
  kedge_keyed_hash_t hash;
  entry_t **buckets;
  size_t n_buckets; /* power of two */
  size_t capacity, count;
  TAILQ_HEAD(entry_list, entry) lru;
};

kedge_err_t ecs_key_cache_new(size_t capacity, ecs_key_cache_t **out)
{
  if (!out || capacity == 0 || capacity > ((size_t)1 << 28))
    return KEDGE_ERR_INVALID_ARG;
  ecs_key_cache_t *c = calloc(1, sizeof(*c));
  if (!c)
    return KEDGE_ERR_NOMEM;
  c->capacity = capacity;
  c->n_buckets = 16;
  while (c->n_buckets < capacity)
    c->n_buckets <<= 1;
  c->buckets = calloc(c->n_buckets, sizeof(*c->buckets));
  kedge_err_t err = c->buckets ? kedge_keyed_hash_init(&c->hash) : KEDGE_ERR_NOMEM;
  if (err) {
    free(c->buckets);
    free(c);
    return err;
  }
  pthread_mutex_init(&c->lock, NULL);
  TAILQ_INIT(&c->lru);
  *out = c;
  return KEDGE_OK;
}

static void entry_free(entry_t *e)
{
  OPENSSL_cleanse(e->key, sizeof(e->key));
  free(e);
}

static entry_t **slot_of(ecs_key_cache_t *c, const char *id, size_t len)
{
  entry_t **slot = &c->buckets[kedge_keyed_hash(&c->hash, id, len) & (c->n_buckets - 1)];
  while (*slot && ((*slot)->id_len != len || memcmp((*slot)->id, id, len) != 0))
    slot = &(*slot)->chain;
  return slot;
}

/* Unlinks *slot's entry from both structures and frees it. */
static void remove_at(ecs_key_cache_t *c, entry_t **slot)
{
  entry_t *e = *slot;
  *slot = e->chain;
  TAILQ_REMOVE(&c->lru, e, lru);
  c->count--;
  entry_free(e);
}

/* put and revoke: stores a new entry (a tombstone when `revoked`); *had_key tells whether a
 * live key entry was there. */
static kedge_err_t put_entry(ecs_key_cache_t *c, const char *id, size_t len,
                             const uint8_t key[KEDGE_KEY_LEN], int64_t deadline_ms, int64_t now_ms,
                             bool revoked, bool *had_key)
{
  if (!c || !id || len == 0 || len > KEDGE_ID_MAX)
    return KEDGE_ERR_INVALID_ARG;
  entry_t *e = malloc(sizeof(*e) + len);
  if (!e)
    return KEDGE_ERR_NOMEM;
  memset(e, 0, sizeof(*e));
  e->deadline_ms = deadline_ms;
  e->has_key = key != NULL;
  e->revoked = revoked;
  if (key)
    memcpy(e->key, key, KEDGE_KEY_LEN);
  e->id_len = len;
  memcpy(e->id, id, len);

  pthread_mutex_lock(&c->lock);
  entry_t **slot = slot_of(c, id, len);
  bool live = *slot && (*slot)->deadline_ms > now_ms;
  if (had_key)
    *had_key = live && !(*slot)->revoked && (*slot)->has_key;
  if ((live && (*slot)->revoked && !revoked) || deadline_ms <= now_ms) {
    /* revoked while its fetch was in flight: the answer is stale (issue 13); or nothing to
     * keep (a revocation without a deadline still removes the entry) */
    if (*slot && deadline_ms <= now_ms && revoked)
      remove_at(c, slot);
    pthread_mutex_unlock(&c->lock);
    entry_free(e);
    return KEDGE_OK;
  }
  if (*slot)
    remove_at(c, slot); /* the slot now holds the rest of the chain: insert there */
  else if (c->count >= c->capacity)
    remove_at(c, slot_of(c, TAILQ_LAST(&c->lru, entry_list)->id,
                         TAILQ_LAST(&c->lru, entry_list)->id_len));
  slot = slot_of(c, id, len); /* an eviction may have changed the chain */
  e->chain = NULL;
  *slot = e;
  TAILQ_INSERT_HEAD(&c->lru, e, lru);
  c->count++;
  pthread_mutex_unlock(&c->lock);
  return KEDGE_OK;
}

kedge_err_t ecs_key_cache_put(ecs_key_cache_t *c, const char *id, size_t len,
                              const uint8_t key[KEDGE_KEY_LEN], int64_t deadline_ms, int64_t now_ms)
{
  return put_entry(c, id, len, key, deadline_ms, now_ms, false, NULL);
}

kedge_err_t ecs_key_cache_revoke(ecs_key_cache_t *c, const char *id, size_t len, int64_t until_ms,
                                 int64_t now_ms, bool *had_key)
{
  if (had_key)
    *had_key = false;
  return put_entry(c, id, len, NULL, until_ms, now_ms, true, had_key);
}

bool ecs_key_cache_get(ecs_key_cache_t *c, const char *id, size_t len, int64_t now_ms,
                       uint8_t key[KEDGE_KEY_LEN])
{
  if (!c || !id || len == 0 || len > KEDGE_ID_MAX)
    return false;
  bool found = false;
  pthread_mutex_lock(&c->lock);
  entry_t **slot = slot_of(c, id, len);
  entry_t *e = *slot;
  if (e && e->deadline_ms <= now_ms) {
    remove_at(c, slot);
  } else if (e && !e->revoked) {
    TAILQ_REMOVE(&c->lru, e, lru);
    TAILQ_INSERT_HEAD(&c->lru, e, lru);
    if (key && e->has_key)
      memcpy(key, e->key, KEDGE_KEY_LEN);
    found = true;
  }
  pthread_mutex_unlock(&c->lock);
  return found;
}

void ecs_key_cache_remove(ecs_key_cache_t *c, const char *id, size_t len)
{
  if (!c || !id || len == 0 || len > KEDGE_ID_MAX)
    return;
  pthread_mutex_lock(&c->lock);
  entry_t **slot = slot_of(c, id, len);
  if (*slot)
    remove_at(c, slot);
  pthread_mutex_unlock(&c->lock);
}

size_t ecs_key_cache_count(ecs_key_cache_t *c)
{
  pthread_mutex_lock(&c->lock);
  size_t n = c->count;
  pthread_mutex_unlock(&c->lock);
  return n;
}

void ecs_key_cache_free(ecs_key_cache_t *c)
{
  if (!c)
    return;
  entry_t *e;
  while ((e = TAILQ_FIRST(&c->lru))) {
    TAILQ_REMOVE(&c->lru, e, lru);
    entry_free(e);
  }
  kedge_keyed_hash_free(&c->hash);
  pthread_mutex_destroy(&c->lock);
  free(c->buckets);
  free(c);
}
