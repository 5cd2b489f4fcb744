/* AKA contexts: a hash table by authCtxId plus a list in expiry order. All contexts live the
 * same time, so insertion order is expiry order and purging only looks at the list's head. */
#include "context.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "kedge/hex.h"
#include "kedge/list.h"

typedef struct entry {
  ausf_auth_ctx_t ctx;
  struct entry *hash_next;
  TAILQ_ENTRY(entry) expiry; /* in t->by_expiry */
  size_t bucket;
} entry_t;

struct ausf_ctx_table {
  pthread_mutex_t lock;
  entry_t **buckets;
  size_t n_buckets; /* power of two */
  size_t count, max;
  TAILQ_HEAD(, entry) by_expiry; /* oldest first */
};

/* The id is random, so its first octets are a fine hash. */
static size_t bucket_of(const ausf_ctx_table_t *t, const char *id)
{
  size_t h = 0;
  for (int i = 0; i < 12 && id[i]; i++)
    h = h * 31 + (unsigned char)id[i];
  return h & (t->n_buckets - 1);
}

kedge_err_t ausf_ctx_table_new(size_t max_contexts, ausf_ctx_table_t **out)
{
  if (!out || max_contexts == 0 || max_contexts > (1u << 24))
    return KEDGE_ERR_INVALID_ARG;
  ausf_ctx_table_t *t = calloc(1, sizeof(*t));
  if (!t)
    return KEDGE_ERR_NOMEM;
  t->n_buckets = 64;
  while (t->n_buckets < max_contexts)
    t->n_buckets <<= 1;
  t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
  if (!t->buckets) {
    free(t);
    return KEDGE_ERR_NOMEM;
  }
  t->max = max_contexts;
  TAILQ_INIT(&t->by_expiry);
  pthread_mutex_init(&t->lock, NULL);
  *out = t;
  return KEDGE_OK;
}

static void unlink_entry(ausf_ctx_table_t *t, entry_t *e)
{
  for (entry_t **p = &t->buckets[e->bucket]; *p; p = &(*p)->hash_next)
    if (*p == e) {
      *p = e->hash_next;
      break;
    }
  TAILQ_REMOVE(&t->by_expiry, e, expiry);
  t->count--;
}

static void free_entry(entry_t *e)
{
  OPENSSL_cleanse(e, sizeof(*e)); /* XRES* and KAUSF */
  free(e);
}

void ausf_ctx_table_free(ausf_ctx_table_t *t)
{
  if (!t)
    return;
  entry_t *e, *next;
  TAILQ_FOREACH_SAFE(e, &t->by_expiry, expiry, next)
  free_entry(e);
  pthread_mutex_destroy(&t->lock);
  free(t->buckets);
  free(t);
}

/* Links a copy of *ctx in; when full, drops the oldest (evict) or refuses (KEDGE_ERR_BUSY). */
static kedge_err_t insert(ausf_ctx_table_t *t, const ausf_auth_ctx_t *ctx, bool evict)
{
  entry_t *e = malloc(sizeof(*e)), *evicted = NULL;
  if (!e)
    return KEDGE_ERR_NOMEM;
  e->ctx = *ctx;
  e->hash_next = NULL;
  pthread_mutex_lock(&t->lock);
  if (t->count >= t->max) {
    if (!evict) {
      pthread_mutex_unlock(&t->lock);
      free_entry(e);
      return KEDGE_ERR_BUSY;
    }
    evicted = TAILQ_FIRST(&t->by_expiry);
    unlink_entry(t, evicted);
  }
  e->bucket = bucket_of(t, ctx->id);
  e->hash_next = t->buckets[e->bucket];
  t->buckets[e->bucket] = e;
  TAILQ_INSERT_TAIL(&t->by_expiry, e, expiry);
  t->count++;
  pthread_mutex_unlock(&t->lock);
  if (evicted)
    free_entry(evicted);
  return KEDGE_OK;
}

kedge_err_t ausf_ctx_add(ausf_ctx_table_t *t, ausf_auth_ctx_t *ctx)
{
  uint8_t id[16];
  /* TS 29.509 authCtxId: unguessable (SPEC.md 3: at least 128 random bits) */
  if (RAND_bytes(id, sizeof(id)) != 1)
    return KEDGE_ERR_CRYPTO;
  kedge_hex_encode(id, sizeof(id), ctx->id);
  return insert(t, ctx, false);
}

kedge_err_t ausf_ctx_put(ausf_ctx_table_t *t, const ausf_auth_ctx_t *ctx)
{
  return insert(t, ctx, true);
}

kedge_err_t ausf_ctx_take(ausf_ctx_table_t *t, const char *id, ausf_auth_ctx_t *out)
{
  if (strlen(id) != AUSF_CTX_ID_LEN)
    return KEDGE_ERR_NOT_FOUND;
  int64_t now = kedge_now_ms();
  pthread_mutex_lock(&t->lock);
  entry_t *e = t->buckets[bucket_of(t, id)];
  while (e && CRYPTO_memcmp(e->ctx.id, id, AUSF_CTX_ID_LEN) != 0)
    e = e->hash_next;
  if (e)
    unlink_entry(t, e);
  pthread_mutex_unlock(&t->lock);
  if (!e)
    return KEDGE_ERR_NOT_FOUND;
  kedge_err_t err = e->ctx.expiry_ms > now ? KEDGE_OK : KEDGE_ERR_NOT_FOUND;
  if (!err)
    *out = e->ctx;
  free_entry(e);
  return err;
}

size_t ausf_ctx_purge(ausf_ctx_table_t *t)
{
  int64_t now = kedge_now_ms();
  size_t n = 0;
  entry_t *expired = NULL;
  pthread_mutex_lock(&t->lock);
  entry_t *e;
  while ((e = TAILQ_FIRST(&t->by_expiry)) && e->ctx.expiry_ms <= now) {
    unlink_entry(t, e);
    e->hash_next = expired;
    expired = e;
  }
  pthread_mutex_unlock(&t->lock);
  for (entry_t *next; expired; expired = next, n++) {
    next = expired->hash_next;
    free_entry(expired);
  }
  return n;
}

size_t ausf_ctx_count(ausf_ctx_table_t *t)
{
  pthread_mutex_lock(&t->lock);
  size_t n = t->count;
  pthread_mutex_unlock(&t->lock);
  return n;
}
