/* Per-connection state of an adopted EDGE-4 connection: the EEC ID bound to it (SPEC.md 4).
 * The SBI runtime gives a handler the connection's identities but no connection object, so
 * the ECS names each connection with a token (its second identity) and keeps the state in a
 * table. The state hangs off the connection's SSL as ex_data, whose free callback (run when
 * the runtime frees the SSL with the connection) takes it out of the table again. */
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "conn_binding.h"

#define BUCKETS    4096 /* live connections spread over these by their sequence number */
#define EEC_ID_MAX 256

typedef struct binding {
  struct binding *next;
  uint64_t seq;
  bool bound;
  char eec_id[EEC_ID_MAX + 1];
} binding_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static binding_t *table[BUCKETS];
static uint64_t next_seq;
static int ex_index = -1;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void unlink_binding(binding_t *b)
{
  pthread_mutex_lock(&lock);
  for (binding_t **p = &table[b->seq % BUCKETS]; *p; p = &(*p)->next) {
    if (*p == b) {
      *p = b->next;
      break;
    }
  }
  pthread_mutex_unlock(&lock);
}

static void ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
  if (!ptr)
    return;
  unlink_binding(ptr);
  free(ptr);
}

static void init_index(void)
{
  ex_index = SSL_get_ex_new_index(0, "kedge-ecs EEC binding", NULL, NULL, ex_free);
}

kedge_err_t ecs_conn_binding_new(SSL *ssl, char token[ECS_CONN_TOKEN_MAX])
{
  pthread_once(&once, init_index);
  if (ex_index < 0)
    return KEDGE_ERR_CRYPTO;
  binding_t *b = calloc(1, sizeof(*b));
  if (!b)
    return KEDGE_ERR_NOMEM;
  pthread_mutex_lock(&lock);
  b->seq = ++next_seq;
  b->next = table[b->seq % BUCKETS];
  table[b->seq % BUCKETS] = b;
  pthread_mutex_unlock(&lock);
  if (SSL_set_ex_data(ssl, ex_index, b) != 1) {
    unlink_binding(b);
    free(b);
    return KEDGE_ERR_NOMEM;
  }
  /* '#' cannot start a Kedge ID or a DNS name: the token is never mistaken for an identity */
  snprintf(token, ECS_CONN_TOKEN_MAX, "#conn-%" PRIu64, b->seq);
  return KEDGE_OK;
}

kedge_err_t ecs_conn_bind_eec(const char *token, const char *eec_id)
{
  uint64_t seq = 0;
  char rest;
  if (!token || !eec_id || strlen(eec_id) > EEC_ID_MAX ||
      sscanf(token, "#conn-%" SCNu64 "%c", &seq, &rest) != 1)
    return KEDGE_ERR_NOT_FOUND;
  kedge_err_t err = KEDGE_ERR_NOT_FOUND;
  pthread_mutex_lock(&lock);
  for (binding_t *b = table[seq % BUCKETS]; b; b = b->next) {
    if (b->seq != seq)
      continue;
    if (!b->bound) {
      snprintf(b->eec_id, sizeof(b->eec_id), "%s", eec_id);
      b->bound = true;
      err = KEDGE_OK;
    } else {
      err = strcmp(b->eec_id, eec_id) == 0 ? KEDGE_OK : KEDGE_ERR_FORBIDDEN;
    }
    break;
  }
  pthread_mutex_unlock(&lock);
  return err;
}
