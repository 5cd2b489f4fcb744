/* Inside the key store (kedge/keystore.h): what the front (keystore.c) and the backends
 * (memory.c, sqlite.c, redis.c) share. Backends see Kedge only sealed; keystore.c seals before
 * a call leaves the caller and unseals just before the result is handed back. */
#ifndef KEDGE_STORE_H
#define KEDGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kedge/keystore.h"
#include "kedge/list.h"
#include "kedge/time.h"

struct event;

/* version || nonce || AES-256-GCM(Kedge) || tag */
#define KS_SEALED_LEN (KEDGE_KEY_LEN + KEDGE_SEAL_OVERHEAD)

typedef enum ks_kind { KS_PUT, KS_GET, KS_DELETE_SUPI, KS_PURGE } ks_kind_t;

/* A record as stored. put: every field; get: kedge_id and tid in, the rest out;
 * delete_supi: supi, and kedge_id (with tid) when only that key may go (delete_key), else
 * kedge_id empty. */
typedef struct ks_row {
  char kedge_id[KEDGE_ID_MAX + 1];
  uint8_t tid[KEDGE_TID_LEN]; /* the parts of the Kedge ID (kedge_id_parse) */
  char rid[KEDGE_RID_MAX + 1];
  char home[7]; /* MCC || MNC, 3 digits each */
  char supi[KEDGE_SUPI_MAX + 1];
  uint8_t sealed[KS_SEALED_LEN];
  size_t sealed_len;
  int64_t expiry_ms, created_ms;
} ks_row_t;

/* Who to call back, and how. */
typedef struct ks_call {
  ks_kind_t kind;
  kedge_keystore_done_fn done; /* put, delete_supi, purge */
  kedge_keystore_get_fn got;   /* get */
  void *arg;
} ks_call_t;

/* What a URI names (kedge_keystore_uri_check). */
typedef struct ks_uri {
  const struct ks_backend *be;
  const char *path; /* sqlite: into the URI string */
  char host[256];   /* redis: without brackets */
  int port, db;
} ks_uri_t;

typedef struct ks_backend {
  const char *name;
  kedge_err_t (*open)(kedge_keystore_t *ks, const ks_uri_t *uri, const char *text, char *why,
                      size_t why_size);
  /* Frees everything; no callback runs afterwards. */
  void (*close)(kedge_keystore_t *ks);
  /* KEDGE_OK: the call is the backend's and will end in exactly one ks_deliver() (or
   * ks_defer()) from the loop, never inside submit. Anything else: no callback. */
  kedge_err_t (*submit)(kedge_keystore_t *ks, const ks_call_t *call, const ks_row_t *row);
} ks_backend_t;

extern const ks_backend_t ks_memory_backend, ks_sqlite_backend, ks_redis_backend;

/* What a key store URI names; KEDGE_ERR_CONFIG with one line in `why` when it is malformed. */
kedge_err_t ks_parse_uri(const char *uri, ks_uri_t *u, char *why, size_t why_size);

typedef struct ks_deferred ks_deferred_t;

struct kedge_keystore {
  const ks_backend_t *be;
  struct event_base *base;
  kedge_master_key_t mk;
  kedge_unsealer_t *unsealer;    /* for ks_deliver, on the loop's thread (made at open) */
  kedge_sealer_t *sealer;        /* for puts, on the loop's thread (made at open) */
  kedge_keystore_options_t opts; /* defaults filled in */
  size_t pending;                /* callbacks still to run */
  bool unseal_failure_logged;
  LIST_HEAD(, ks_deferred) deferred; /* results waiting for the loop (ks_defer) */
  void *impl;                        /* the backend's */
};

/* Hands a result to the caller (on the loop): for a get with KEDGE_OK, checks the expiry once
 * more and unseals into a record that is wiped after the callback. The callback may close the
 * handle: the backend must not touch it (nor anything it owns) after this returns. */
void ks_deliver(kedge_keystore_t *ks, const ks_call_t *call, kedge_err_t err, const ks_row_t *row);

/* A result known at once (memory backend, Redis down, queue full), delivered from the loop
 * like any other so that callers see one behaviour. row may be NULL. KEDGE_ERR_NOMEM if it
 * cannot be queued (then there is no callback). */
kedge_err_t ks_defer(kedge_keystore_t *ks, const ks_call_t *call, kedge_err_t err,
                     const ks_row_t *row);

/* Expiry times are kedge_wall_ms() (CLOCK_REALTIME: the clock of Redis PXAT). */

/* redis.c: what one reply of Redis means for a call of `kind` (a get's record unpacked into
 * `row`, which holds the asked Kedge ID). A record kedge did not write leaves row->sealed_len 0
 * and fails to open later. `reply` is a hiredis redisReply (NULL: the connection went);
 * fuzz/fuzz-store-redis-reply.c feeds it whatever a peer posing as Redis can send. */
struct redisReply;
kedge_err_t ks_redis_reply(ks_kind_t kind, const struct redisReply *reply, ks_row_t *row);

/* One line into why (may be NULL). */
void ks_why(char *why, size_t why_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
