/* Token buckets on key fetches (SPEC.md 4, issue 6): one per source address (IPv4 address, or
 * IPv6 /64, the unit an ISP hands a subscriber) and one for the whole ECS, so that a flood of
 * random identities cannot become a flood of key requests to the AUSF or the NEF. Only cache
 * misses take tokens. Thread-safe. Address buckets live in a fixed table indexed by a keyed
 * hash; a new address takes over its slot (the global bucket bounds what that allows). */
#ifndef KEDGE_ECS_RATE_LIMIT_H
#define KEDGE_ECS_RATE_LIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "kedge/error.h"

typedef struct ecs_rate_limit ecs_rate_limit_t;

typedef struct ecs_rate_config {
  double global_rate;  /* tokens per second; 0: no global limit */
  double global_burst; /* bucket size */
  double address_rate; /* per address; 0: no per-address limit */
  double address_burst;
  size_t address_slots; /* table size */
} ecs_rate_config_t;

typedef enum ecs_rate_verdict {
  ECS_RATE_OK = 0,
  ECS_RATE_ADDRESS, /* this address's bucket is empty */
  ECS_RATE_GLOBAL,  /* the ECS's bucket is empty */
} ecs_rate_verdict_t;

kedge_err_t ecs_rate_limit_new(const ecs_rate_config_t *cfg, ecs_rate_limit_t **out);
void ecs_rate_limit_free(ecs_rate_limit_t *rl);

/* Takes one token from the address's bucket and one from the global bucket, or none when
 * either is empty. `addr` may be NULL (no per-address limit applies). */
ecs_rate_verdict_t ecs_rate_limit_take(ecs_rate_limit_t *rl, const struct sockaddr *addr,
                                       int64_t now_ms);

#endif
