/* Token buckets on key fetches (SPEC.md 4, issues 6 and 12): kedge's keyed token bucket
 * (kedge/ratelimit.h) with one bucket per source address (IPv4 address, or IPv6 /64) under
 * one global bucket for the whole ECS, shared fairly among the addresses asking, so that
 * neither a flood of random identities becomes a flood of key requests to the AUSF or the
 * NEF, nor one flooding source takes the whole global budget. Only cache misses take
 * tokens. */
#ifndef KEDGE_ECS_RATE_LIMIT_H
#define KEDGE_ECS_RATE_LIMIT_H

#include <sys/socket.h>

#include "kedge/ratelimit.h"

typedef kedge_rate_t ecs_rate_limit_t;

typedef struct ecs_rate_config {
  double global_rate;  /* tokens per second; 0: no global limit */
  double global_burst; /* bucket size */
  double address_rate; /* per address; 0: no per-address limit (fair sharing still applies) */
  double address_burst;
  size_t address_slots; /* addresses tracked at once */
} ecs_rate_config_t;

typedef enum ecs_rate_verdict {
  ECS_RATE_OK = KEDGE_RATE_OK,
  ECS_RATE_ADDRESS = KEDGE_RATE_KEY,   /* this address's bucket is empty */
  ECS_RATE_GLOBAL = KEDGE_RATE_GLOBAL, /* the ECS's bucket is empty */
} ecs_rate_verdict_t;

kedge_err_t ecs_rate_limit_new(const ecs_rate_config_t *cfg, ecs_rate_limit_t **out);
void ecs_rate_limit_free(ecs_rate_limit_t *rl);

/* Takes one token from the address's bucket and one from the global bucket, or none when
 * either is empty. `addr` may be NULL (only the global bucket applies). */
ecs_rate_verdict_t ecs_rate_limit_take(ecs_rate_limit_t *rl, const struct sockaddr *addr,
                                       int64_t now_ms);

#endif
