/* AKA contexts: a hash table by authCtxId plus a list in expiry order. All contexts of a table
 * live the same time, so insertion order is expiry order and purging only looks at the list's
 * head.
 *
 * An entry holds its context packed (issue 17: kedge-ausfd grew by 130 MB under bench/aka): the
 * struct's strings are sized for their maxima (SUPI and Kedge ID 255, consumer and UDM apiRoot
 * 254-255 octets: 1.2 KiB a context), where real ones are a tenth of that, and a confirmed
 * authentication, kept for a DELETE up to max_confirmed times, has no XRES* or KAUSF left. So
 * the strings go back to back with their NULs, and the 48 secret octets only when not zero:
 * about 300 octets for a confirmed authentication instead of 1,280. */
#include "context.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "kedge/hex.h"
#include "kedge/list.h"
#include "kedge/random.h"

enum {
  F_EDGE_IND = 1,
  F_AKMA_IND = 2,
  F_AKMA_REGISTERED = 4,
  F_RID_FROM_UDM = 8,
  F_SECRETS = 16, /* XRES* and KAUSF follow the flags */
};
#define SECRETS_LEN (KEDGE_RES_STAR_LEN + KEDGE_KAUSF_LEN)

typedef struct entry {
  struct entry *hash_next;
  TAILQ_ENTRY(entry) expiry; /* in t->by_expiry */
  int64_t expiry_ms;
  size_t len; /* of packed */
  char id[AUSF_CTX_ID_LEN + 1];
  uint8_t packed[]; /* flags, [XRES* KAUSF], then the strings (pack()) */
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
  for (entry_t **p = &t->buckets[bucket_of(t, e->id)]; *p; p = &(*p)->hash_next)
    if (*p == e) {
      *p = e->hash_next;
      break;
    }
  TAILQ_REMOVE(&t->by_expiry, e, expiry);
  t->count--;
}

static void free_entry(entry_t *e)
{
  OPENSSL_cleanse(e, sizeof(*e) + e->len); /* XRES* and KAUSF */
  free(e);
}

typedef struct field {
  char *s;
  size_t size;
} field_t;
#define N_FIELDS 7

/* The context's strings, in their packed order (the id and expiry are the entry's own). */
static void ctx_fields(ausf_auth_ctx_t *ctx, field_t f[N_FIELDS])
{
  f[0] = (field_t){ctx->supi, sizeof(ctx->supi)};
  f[1] = (field_t){ctx->snn, sizeof(ctx->snn)};
  f[2] = (field_t){ctx->consumer, sizeof(ctx->consumer)};
  f[3] = (field_t){ctx->routing_id, sizeof(ctx->routing_id)};
  f[4] = (field_t){ctx->kedge_id, sizeof(ctx->kedge_id)};
  f[5] = (field_t){ctx->auth_event_id, sizeof(ctx->auth_event_id)};
  f[6] = (field_t){ctx->udm_root, sizeof(ctx->udm_root)};
}

static bool has_secrets(const ausf_auth_ctx_t *ctx)
{
  uint8_t any = 0;
  for (size_t i = 0; i < sizeof(ctx->xres_star); i++)
    any |= ctx->xres_star[i];
  for (size_t i = 0; i < sizeof(ctx->kausf); i++)
    any |= ctx->kausf[i];
  return any != 0;
}

/* A new entry holding *ctx packed; NULL when out of memory. */
static entry_t *pack(const ausf_auth_ctx_t *ctx)
{
  field_t fields[N_FIELDS];
  size_t lens[N_FIELDS];
  ctx_fields((ausf_auth_ctx_t *)ctx, fields); /* only read here */
  const bool secrets = has_secrets(ctx);
  size_t len = 1 + (secrets ? SECRETS_LEN : 0);
  for (size_t i = 0; i < N_FIELDS; i++)
    len += (lens[i] = strnlen(fields[i].s, fields[i].size - 1)) + 1;
  entry_t *e = malloc(sizeof(*e) + len);
  if (!e)
    return NULL;
  memset(e, 0, sizeof(*e));
  memcpy(e->id, ctx->id, sizeof(e->id));
  e->expiry_ms = ctx->expiry_ms;
  e->len = len;
  uint8_t *p = e->packed;
  *p++ = (uint8_t)((ctx->edge_ind ? F_EDGE_IND : 0) | (ctx->akma_ind ? F_AKMA_IND : 0) |
                   (ctx->akma_registered ? F_AKMA_REGISTERED : 0) |
                   (ctx->rid_from_udm ? F_RID_FROM_UDM : 0) | (secrets ? F_SECRETS : 0));
  if (secrets) {
    memcpy(p, ctx->xres_star, sizeof(ctx->xres_star));
    memcpy(p + sizeof(ctx->xres_star), ctx->kausf, sizeof(ctx->kausf));
    p += SECRETS_LEN;
  }
  for (size_t i = 0; i < N_FIELDS; i++) {
    memcpy(p, fields[i].s, lens[i]);
    p[lens[i]] = '\0';
    p += lens[i] + 1;
  }
  return e;
}

/* The context an entry holds (pack()'s inverse). */
static void unpack(const entry_t *e, ausf_auth_ctx_t *out)
{
  memset(out, 0, sizeof(*out));
  memcpy(out->id, e->id, sizeof(out->id));
  out->expiry_ms = e->expiry_ms;
  const uint8_t *p = e->packed;
  const uint8_t flags = *p++;
  out->edge_ind = flags & F_EDGE_IND;
  out->akma_ind = flags & F_AKMA_IND;
  out->akma_registered = flags & F_AKMA_REGISTERED;
  out->rid_from_udm = flags & F_RID_FROM_UDM;
  if (flags & F_SECRETS) {
    memcpy(out->xres_star, p, sizeof(out->xres_star));
    memcpy(out->kausf, p + sizeof(out->xres_star), sizeof(out->kausf));
    p += SECRETS_LEN;
  }
  field_t fields[N_FIELDS];
  ctx_fields(out, fields);
  for (size_t i = 0; i < N_FIELDS; i++) {
    size_t len = strlen((const char *)p); /* pack() wrote at most size - 1 and the NUL */
    memcpy(fields[i].s, p, len + 1);
    p += len + 1;
  }
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
  entry_t *e = pack(ctx), *evicted = NULL;
  if (!e)
    return KEDGE_ERR_NOMEM;
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
  const size_t bucket = bucket_of(t, e->id);
  e->hash_next = t->buckets[bucket];
  t->buckets[bucket] = e;
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
  /* TS 29.509 authCtxId: unguessable (SPEC.md 3: at least 128 random bits). Public: the SEAF
   * gets it in the Location and UEAuthenticationCtx's 5g-aka link (TS 29.509); so from the
   * per-thread pool of the DRBG's octets (kedge/random.h), not a RAND_bytes per AKA run (OpenSSL
   * 3.0: 6,600 instructions and a getpid(2) a call, whatever the length). */
  kedge_err_t err = kedge_random_public(id, sizeof(id));
  if (err)
    return err;
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
  while (e && CRYPTO_memcmp(e->id, id, AUSF_CTX_ID_LEN) != 0)
    e = e->hash_next;
  if (e)
    unlink_entry(t, e);
  pthread_mutex_unlock(&t->lock);
  if (!e)
    return KEDGE_ERR_NOT_FOUND;
  kedge_err_t err = e->expiry_ms > now ? KEDGE_OK : KEDGE_ERR_NOT_FOUND;
  if (!err)
    unpack(e, out);
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
  while ((e = TAILQ_FIRST(&t->by_expiry)) && e->expiry_ms <= now) {
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
