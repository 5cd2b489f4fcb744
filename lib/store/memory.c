/* memory: backend: one table per process, shared by every handle (each AUSF worker opens its
 * own), behind a mutex. For tests of the AUSF alone: keys vanish at exit. Kedge is sealed
 * here too, so the backends differ only in where the ciphertext lives. Calls run at once under
 * the lock; their results reach the caller through the loop (ks_defer), as with the others.
 *
 * So a put is applied before its callback runs. Closing the handle in between (the AUSF's
 * shutdown past sbi.limits.shutdown_grace) must not leave it applied, as with SQLite and Redis
 * (issue 17): its caller never hears it succeed, and SPEC.md 2 keeps only the Kedge of the
 * SUPI's latest successful authentication. The handle keeps each put until its callback runs;
 * close deletes those still there (mem_close), and so does a put whose callback cannot be
 * queued. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "kedge/list.h"
#include "kedge/log.h"
#include "store.h"

typedef struct mem_entry {
  struct mem_entry *next_tid, *next_supi;
  uint64_t supi_hash;
  ks_row_t row;
} mem_entry_t;

typedef struct mem_table {
  mem_entry_t **by_tid, **by_supi;
  size_t n_buckets, count;
  unsigned refs;
} mem_table_t;

/* A put applied whose callback has not run yet. */
typedef struct mem_put {
  LIST_ENTRY(mem_put) link; /* in the handle's puts */
  ks_call_t call;           /* the caller's */
  ks_row_t row;             /* as stored: its sealed value tells this put's record apart */
} mem_put_t;

typedef struct mem_handle {
  struct event *purge_timer;
  LIST_HEAD(, mem_put) puts; /* applied, not answered */
} mem_handle_t;

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static mem_table_t *table; /* under table_lock */

/* The TID is a KDF output (SPEC.md 2): its first octets are as good as any hash. */
static uint64_t tid_hash(const uint8_t tid[KEDGE_TID_LEN])
{
  uint64_t h;
  memcpy(&h, tid, sizeof(h));
  return h;
}

/* FNV-1a; SUPIs come from the UDM, not from the peer that asks for keys. */
static uint64_t supi_hash(const char *s)
{
  uint64_t h = 0xcbf29ce484222325ULL;
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
  return h;
}

static mem_entry_t **tid_slot(mem_table_t *t, const uint8_t tid[KEDGE_TID_LEN])
{
  mem_entry_t **p = &t->by_tid[tid_hash(tid) % t->n_buckets];
  while (*p && memcmp((*p)->row.tid, tid, KEDGE_TID_LEN) != 0)
    p = &(*p)->next_tid;
  return p;
}

static mem_entry_t **supi_slot(mem_table_t *t, const char *supi, uint64_t h)
{
  mem_entry_t **p = &t->by_supi[h % t->n_buckets];
  while (*p && ((*p)->supi_hash != h || strcmp((*p)->row.supi, supi) != 0))
    p = &(*p)->next_supi;
  return p;
}

static void entry_remove(mem_table_t *t, mem_entry_t *e)
{
  *tid_slot(t, e->row.tid) = e->next_tid;
  *supi_slot(t, e->row.supi, e->supi_hash) = e->next_supi;
  t->count--;
  OPENSSL_cleanse(e, sizeof(*e));
  free(e);
}

static kedge_err_t grow(mem_table_t *t)
{
  size_t n = t->n_buckets * 2;
  mem_entry_t **by_tid = calloc(n, sizeof(*by_tid)), **by_supi = calloc(n, sizeof(*by_supi));
  if (!by_tid || !by_supi) {
    free(by_tid);
    free(by_supi);
    return KEDGE_ERR_NOMEM;
  }
  for (size_t i = 0; i < t->n_buckets; i++)
    for (mem_entry_t *e = t->by_tid[i], *next; e; e = next) {
      next = e->next_tid;
      mem_entry_t **b = &by_tid[tid_hash(e->row.tid) % n];
      e->next_tid = *b;
      *b = e;
      b = &by_supi[e->supi_hash % n];
      e->next_supi = *b;
      *b = e;
    }
  free(t->by_tid);
  free(t->by_supi);
  t->by_tid = by_tid;
  t->by_supi = by_supi;
  t->n_buckets = n;
  return KEDGE_OK;
}

static kedge_err_t put(mem_table_t *t, const ks_row_t *row)
{
  if (t->count >= t->n_buckets && grow(t))
    return KEDGE_ERR_NOMEM;
  mem_entry_t *e = calloc(1, sizeof(*e));
  if (!e)
    return KEDGE_ERR_NOMEM;
  e->row = *row;
  e->supi_hash = supi_hash(row->supi);
  mem_entry_t *old;
  /* One key per SUPI: the previous Kedge ID goes (issue 5). */
  if ((old = *supi_slot(t, row->supi, e->supi_hash)))
    entry_remove(t, old);
  if ((old = *tid_slot(t, row->tid)))
    entry_remove(t, old);
  mem_entry_t **b = &t->by_tid[tid_hash(row->tid) % t->n_buckets];
  e->next_tid = *b;
  *b = e;
  b = &t->by_supi[e->supi_hash % t->n_buckets];
  e->next_supi = *b;
  *b = e;
  t->count++;
  return KEDGE_OK;
}

/* Deletes the record a put wrote, if it is still there: only that record, told apart by its
 * sealed value (a fresh nonce per seal, kedge/seal.h), so that a later put for the SUPI, even
 * of the same Kedge ID through another handle, stays. The key the put replaced is not brought
 * back (SQLite and Redis do not either: docs/keystore.md). */
static void undo(mem_table_t *t, const ks_row_t *put)
{
  mem_entry_t *e = *tid_slot(t, put->tid);
  if (e && e->row.sealed_len == put->sealed_len &&
      CRYPTO_memcmp(e->row.sealed, put->sealed, put->sealed_len) == 0)
    entry_remove(t, e);
}

static kedge_err_t get(mem_table_t *t, ks_row_t *row)
{
  mem_entry_t *e = *tid_slot(t, row->tid);
  if (!e || strcmp(e->row.kedge_id, row->kedge_id) != 0 || e->row.expiry_ms <= kedge_wall_ms())
    return KEDGE_ERR_NOT_FOUND;
  *row = e->row;
  return KEDGE_OK;
}

/* kedge_id empty: whatever key the SUPI has; else only that one (delete_key). */
static kedge_err_t delete_supi(mem_table_t *t, const char *supi, const char *kedge_id)
{
  mem_entry_t *e = *supi_slot(t, supi, supi_hash(supi));
  if (!e || (kedge_id[0] && strcmp(e->row.kedge_id, kedge_id) != 0))
    return KEDGE_ERR_NOT_FOUND;
  entry_remove(t, e);
  return KEDGE_OK;
}

static void purge(mem_table_t *t)
{
  int64_t now = kedge_wall_ms();
  for (size_t i = 0; i < t->n_buckets; i++)
    for (mem_entry_t *e = t->by_tid[i], *next; e; e = next) {
      next = e->next_tid;
      if (e->row.expiry_ms <= now)
        entry_remove(t, e);
    }
}

static void table_release(void)
{
  if (--table->refs)
    return;
  for (size_t i = 0; i < table->n_buckets; i++)
    for (mem_entry_t *e = table->by_tid[i], *next; e; e = next) {
      next = e->next_tid;
      OPENSSL_cleanse(e, sizeof(*e));
      free(e);
    }
  free(table->by_tid);
  free(table->by_supi);
  free(table);
  table = NULL;
}

static void purge_tick(evutil_socket_t fd, short what, void *arg)
{
  pthread_mutex_lock(&table_lock);
  purge(table);
  pthread_mutex_unlock(&table_lock);
}

static kedge_err_t mem_open(kedge_keystore_t *ks, const ks_uri_t *uri, const char *text, char *why,
                            size_t why_size)
{
  mem_handle_t *h = calloc(1, sizeof(*h));
  if (!h)
    return KEDGE_ERR_NOMEM;
  kedge_err_t err = KEDGE_OK;
  pthread_mutex_lock(&table_lock);
  if (!table) {
    table = calloc(1, sizeof(*table));
    if (table) {
      table->n_buckets = 1024;
      table->by_tid = calloc(table->n_buckets, sizeof(*table->by_tid));
      table->by_supi = calloc(table->n_buckets, sizeof(*table->by_supi));
    }
    if (!table || !table->by_tid || !table->by_supi) {
      if (table) {
        free(table->by_tid);
        free(table->by_supi);
      }
      free(table);
      table = NULL;
      err = KEDGE_ERR_NOMEM;
    } else {
      kedge_log_warn("keystore memory: for tests of the AUSF alone: edge keys live in this "
                     "process only and vanish at exit");
    }
  }
  if (!err)
    table->refs++;
  pthread_mutex_unlock(&table_lock);
  struct timeval every = {.tv_sec = ks->opts.purge_interval_ms / 1000,
                          .tv_usec = (ks->opts.purge_interval_ms % 1000) * 1000};
  if (!err && (!(h->purge_timer = event_new(ks->base, -1, EV_PERSIST, purge_tick, NULL)) ||
               event_add(h->purge_timer, &every) != 0)) {
    pthread_mutex_lock(&table_lock);
    table_release();
    pthread_mutex_unlock(&table_lock);
    err = KEDGE_ERR_NOMEM;
  }
  if (err) {
    if (h->purge_timer)
      event_free(h->purge_timer);
    free(h);
    ks_why(why, why_size, "%s: out of memory", text);
    return err;
  }
  LIST_INIT(&h->puts);
  ks->impl = h;
  return KEDGE_OK;
}

static void put_free(mem_put_t *p)
{
  OPENSSL_cleanse(p, sizeof(*p));
  free(p);
}

/* The put's callback, through the loop: from here on the caller knows. */
static void put_answered(kedge_err_t err, void *arg)
{
  mem_put_t *p = arg;
  ks_call_t call = p->call;
  LIST_REMOVE(p, link);
  put_free(p);
  call.done(err, call.arg); /* may close the handle */
}

static void mem_close(kedge_keystore_t *ks)
{
  mem_handle_t *h = ks->impl;
  event_free(h->purge_timer);
  unsigned undone = 0;
  mem_put_t *p;
  pthread_mutex_lock(&table_lock);
  while ((p = LIST_FIRST(&h->puts))) {
    LIST_REMOVE(p, link);
    undo(table, &p->row);
    put_free(p);
    undone++;
  }
  table_release();
  pthread_mutex_unlock(&table_lock);
  free(h);
  if (undone)
    kedge_log_warn("keystore memory: closed with %u put(s) not confirmed: deleted again", undone);
  for (unsigned i = 0; ks->opts.put_undone && i < undone; i++)
    ks->opts.put_undone(ks->opts.put_undone_arg);
}

/* A put: applied now, answered through the loop by put_answered. */
static kedge_err_t submit_put(kedge_keystore_t *ks, const ks_call_t *call, const ks_row_t *row)
{
  mem_handle_t *h = ks->impl;
  mem_put_t *p = calloc(1, sizeof(*p));
  if (!p)
    return KEDGE_ERR_NOMEM;
  p->call = *call;
  p->row = *row;
  pthread_mutex_lock(&table_lock);
  kedge_err_t err = put(table, &p->row);
  pthread_mutex_unlock(&table_lock);
  if (err) {
    put_free(p);
    return ks_defer(ks, call, err, NULL);
  }
  const ks_call_t answer = {.kind = KS_PUT, .done = put_answered, .arg = p};
  if ((err = ks_defer(ks, &answer, KEDGE_OK, NULL))) { /* no callback: not left applied */
    pthread_mutex_lock(&table_lock);
    undo(table, &p->row);
    pthread_mutex_unlock(&table_lock);
    put_free(p);
    return err;
  }
  LIST_INSERT_HEAD(&h->puts, p, link);
  return KEDGE_OK;
}

static kedge_err_t mem_submit(kedge_keystore_t *ks, const ks_call_t *call, const ks_row_t *in)
{
  if (call->kind == KS_PUT)
    return submit_put(ks, call, in);
  ks_row_t row = *in;
  kedge_err_t err = KEDGE_OK;
  pthread_mutex_lock(&table_lock);
  switch (call->kind) {
  case KS_PUT:
    break;
  case KS_GET:
    err = get(table, &row);
    break;
  case KS_DELETE_SUPI:
    err = delete_supi(table, row.supi, row.kedge_id);
    break;
  case KS_PURGE:
    purge(table);
    break;
  }
  pthread_mutex_unlock(&table_lock);
  err = ks_defer(ks, call, err, call->kind == KS_GET && !err ? &row : NULL);
  OPENSSL_cleanse(&row, sizeof(row));
  return err;
}

const ks_backend_t ks_memory_backend = {
    .name = "memory", .open = mem_open, .close = mem_close, .submit = mem_submit};
