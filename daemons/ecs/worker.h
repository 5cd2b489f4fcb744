/* Per worker thread state (the SBI runtime's worker hooks, worker.c). */
#ifndef KEDGE_ECS_WORKER_H
#define KEDGE_ECS_WORKER_H

#include "kedge/list.h"
#include <stddef.h>

#include "ecs.h"
#include "kedge/conn_budget.h"
#include "kedge/key_client.h"
#include "kedge/sbi_client.h"
#include "kedge/sbi_server.h"

typedef struct ecs_worker {
  ecs_t *ecs;
  kedge_sbi_worker_t *worker;
  struct event_base *base;
  kedge_sbi_client_t *client;    /* toward the key source */
  kedge_sbi_client_t *nrf;       /* toward the NRF (with ecs->disc) */
  kedge_key_client_t *keys;      /* the key-service client on it */
  kedge_conn_budget_t hs_budget; /* handshakes in progress, oldest first (issue 12) */
  struct ecs_hs *hs_pool;        /* free handshake state for the next ones (psk_handshake.c) */
  size_t n_hs_pool;
  LIST_HEAD(, ecs_fetch) fetches; /* in flight */
  size_t n_fetches;
} ecs_worker_t;

/* Registers the hooks that make and free each worker's state. */
kedge_err_t ecs_workers_setup(ecs_t *ecs, kedge_sbi_server_t *srv);
ecs_worker_t *ecs_worker_get(kedge_sbi_worker_t *worker);

#endif
