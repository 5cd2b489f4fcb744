/* Per worker thread state: the handshakes and fetches of that thread's loop, and its SBI
 * client toward the key source (a libcurl multi handle belongs to one event_base). Made on
 * the first connection a worker accepts; freed at tear-down after the loops stopped. */
#include <stdlib.h>

#include "ecs.h"
#include "kedge/log.h"

static __thread ecs_worker_t *mine; /* this thread's state */

ecs_worker_t *ecs_worker_get(ecs_t *ecs, kedge_sbi_worker_t *worker)
{
  if (mine && mine->ecs == ecs && mine->worker == worker)
    return mine;
  ecs_worker_t *ew = calloc(1, sizeof(*ew));
  if (!ew)
    return NULL;
  ew->ecs = ecs;
  ew->worker = worker;
  ew->base = kedge_sbi_worker_base(worker);
  pthread_mutex_lock(&ecs->workers_lock);
  ecs_worker_t **grown = realloc(ecs->workers, (ecs->n_workers + 1) * sizeof(*grown));
  if (grown) {
    ecs->workers = grown;
    ecs->workers[ecs->n_workers++] = ew;
  }
  pthread_mutex_unlock(&ecs->workers_lock);
  if (!grown) {
    free(ew);
    return NULL;
  }
  mine = ew;
  return ew;
}

kedge_sbi_client_t *ecs_worker_client(ecs_worker_t *ew)
{
  if (!ew->client && kedge_sbi_client_new(ew->base, &ew->ecs->client, &ew->client) != KEDGE_OK) {
    kedge_log_error("cannot create the SBI client toward the key source (key_source.tls)");
    ew->client = NULL;
  }
  return ew->client;
}

void ecs_workers_free(ecs_t *ecs)
{
  pthread_mutex_lock(&ecs->workers_lock);
  for (size_t i = 0; i < ecs->n_workers; i++) {
    ecs_worker_t *ew = ecs->workers[i];
    ecs_handshakes_free(ew);
    ecs_fetches_free(ew);
    kedge_sbi_client_free(ew->client);
    free(ew);
  }
  free(ecs->workers);
  ecs->workers = NULL;
  ecs->n_workers = 0;
  pthread_mutex_unlock(&ecs->workers_lock);
}
