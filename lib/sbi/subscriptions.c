/* Callback subscriptions (kedge/sbi_subscriptions.h): a chained hash table by key. */
#include "kedge/sbi_subscriptions.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct kedge_sbi_subs {
  pthread_mutex_t lock;
  kedge_sbi_sub_t **buckets;
  size_t n_buckets; /* power of two */
  size_t count, max;
};

/* FNV-1a: keys (SUPIs, Kedge IDs) name what a consumer fetched; a consumer cannot choose
 * many that collide, and each chain is bounded by the table's size anyway. */
static kedge_sbi_sub_t **bucket_of(kedge_sbi_subs_t *t, const char *key)
{
  uint64_t h = 1469598103934665603ULL;
  for (const unsigned char *p = (const unsigned char *)key; *p; p++)
    h = (h ^ *p) * 1099511628211ULL;
  return &t->buckets[(size_t)h & (t->n_buckets - 1)];
}

kedge_err_t kedge_sbi_subs_new(size_t max, kedge_sbi_subs_t **out)
{
  if (!out || max == 0)
    return KEDGE_ERR_INVALID_ARG;
  kedge_sbi_subs_t *t = calloc(1, sizeof(*t));
  if (!t)
    return KEDGE_ERR_NOMEM;
  t->max = max;
  t->n_buckets = 1024;
  while (t->n_buckets < max / 4 && t->n_buckets < ((size_t)1 << 22))
    t->n_buckets <<= 1;
  t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
  if (!t->buckets) {
    free(t);
    return KEDGE_ERR_NOMEM;
  }
  pthread_mutex_init(&t->lock, NULL);
  *out = t;
  return KEDGE_OK;
}

void kedge_sbi_subs_list_free(kedge_sbi_sub_t *list)
{
  while (list) {
    kedge_sbi_sub_t *next = list->next;
    free(list);
    list = next;
  }
}

void kedge_sbi_subs_free(kedge_sbi_subs_t *t)
{
  if (!t)
    return;
  for (size_t b = 0; b < t->n_buckets; b++)
    kedge_sbi_subs_list_free(t->buckets[b]);
  free(t->buckets);
  pthread_mutex_destroy(&t->lock);
  free(t);
}

kedge_err_t kedge_sbi_subs_add(kedge_sbi_subs_t *t, const char *key, const char *id,
                               const char *uri, int64_t expiry_ms, bool *added)
{
  if (added)
    *added = false;
  if (!t || !key || !id || !uri)
    return KEDGE_ERR_INVALID_ARG;
  size_t lk = strlen(key) + 1, li = strlen(id) + 1, lu = strlen(uri) + 1;
  kedge_sbi_sub_t *s = malloc(sizeof(*s) + lk + li + lu);
  if (!s)
    return KEDGE_ERR_NOMEM;
  char *p = (char *)(s + 1);
  s->key = memcpy(p, key, lk);
  s->id = memcpy(p + lk, id, li);
  s->uri = memcpy(p + lk + li, uri, lu);
  s->expiry_ms = expiry_ms;
  kedge_err_t err = KEDGE_OK;
  pthread_mutex_lock(&t->lock);
  kedge_sbi_sub_t **slot = bucket_of(t, key);
  bool there = false;
  for (kedge_sbi_sub_t *o = *slot; o && !there; o = o->next)
    there = !strcmp(o->key, key) && !strcmp(o->id, id) && !strcmp(o->uri, uri);
  if (!there && t->count >= t->max)
    err = KEDGE_ERR_BUSY;
  if (!there && !err) {
    s->next = *slot;
    *slot = s;
    t->count++;
    s = NULL;
    if (added)
      *added = true;
  }
  pthread_mutex_unlock(&t->lock);
  free(s);
  return err;
}

kedge_sbi_sub_t *kedge_sbi_subs_take(kedge_sbi_subs_t *t, const char *key, const char *keep_id,
                                     const char *only_id, size_t *n)
{
  kedge_sbi_sub_t *taken = NULL;
  size_t count = 0;
  pthread_mutex_lock(&t->lock);
  kedge_sbi_sub_t **slot = bucket_of(t, key);
  while (*slot) {
    kedge_sbi_sub_t *s = *slot;
    if (!strcmp(s->key, key) && (!keep_id || strcmp(s->id, keep_id)) &&
        (!only_id || !strcmp(s->id, only_id))) {
      *slot = s->next;
      s->next = taken;
      taken = s;
      count++;
    } else {
      slot = &s->next;
    }
  }
  t->count -= count;
  pthread_mutex_unlock(&t->lock);
  if (n)
    *n = count;
  return taken;
}

size_t kedge_sbi_subs_purge(kedge_sbi_subs_t *t, int64_t now_ms)
{
  size_t gone = 0;
  pthread_mutex_lock(&t->lock);
  for (size_t b = 0; b < t->n_buckets; b++) {
    kedge_sbi_sub_t **slot = &t->buckets[b];
    while (*slot) {
      kedge_sbi_sub_t *s = *slot;
      if (s->expiry_ms <= now_ms) {
        *slot = s->next;
        free(s);
        gone++;
      } else {
        slot = &s->next;
      }
    }
  }
  t->count -= gone;
  pthread_mutex_unlock(&t->lock);
  return gone;
}

size_t kedge_sbi_subs_count(kedge_sbi_subs_t *t)
{
  pthread_mutex_lock(&t->lock);
  size_t n = t->count;
  pthread_mutex_unlock(&t->lock);
  return n;
}
