/* The budget of connections still handshaking (issue 12): unauthenticated connections are
 * counted apart from established ones, capped per worker and per source address (IPv4
 * address, IPv6 /64: kedge_addr_key), and when a cap is reached the OLDEST unauthenticated
 * connection is shed, not the newcomer: a peer that opens connections and sends nothing can
 * then only push out its own (per-address cap) or, with many addresses, the oldest ones, while
 * a genuine client's handshake, which takes milliseconds, gets through. Established
 * (authenticated) connections are never in it, so never shed for it. Used by the SBI
 * runtime's TLS accept path (lib/sbi/h2.c, mTLS) and the ECS's PSK accept path. One thread
 * (the worker's loop); no locks. */
#ifndef KEDGE_CONN_BUDGET_H
#define KEDGE_CONN_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "kedge/list.h"
#include "kedge/ratelimit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Embedded in the owner's connection structure. */
typedef struct kedge_conn_node {
  TAILQ_ENTRY(kedge_conn_node) link; /* oldest first */
  uint8_t addr[KEDGE_ADDR_KEY_LEN];
  bool has_addr;
  bool linked;
} kedge_conn_node_t;

typedef struct kedge_conn_budget {
  TAILQ_HEAD(, kedge_conn_node) nodes; /* oldest first; kedge_conn_budget_init */
  size_t count;
  size_t max;          /* handshaking connections at once */
  size_t max_per_addr; /* of them from one address */
} kedge_conn_budget_t;

/* An empty budget of `max` handshaking connections, `max_per_addr` of them from one address
 * (0: no per-address cap). */
void kedge_conn_budget_init(kedge_conn_budget_t *b, size_t max, size_t max_per_addr);
/* The oldest connection still handshaking, or NULL when there is none (to shed them all). */
kedge_conn_node_t *kedge_conn_budget_oldest(const kedge_conn_budget_t *b);

/* Before admitting a connection from `peer` (NULL: no address): the connection to shed first
 * (the oldest of that address when it is at its cap, else the oldest of all when the budget
 * is full), or NULL when there is room. The caller frees the victim (which must call
 * kedge_conn_budget_remove) and then calls kedge_conn_budget_add for the newcomer. */
kedge_conn_node_t *kedge_conn_budget_victim(const kedge_conn_budget_t *b,
                                            const struct sockaddr *peer);
/* Links `node` as the newest, keyed by `peer`. */
void kedge_conn_budget_add(kedge_conn_budget_t *b, kedge_conn_node_t *node,
                           const struct sockaddr *peer);
/* Unlinks `node` if linked (handshake done, failed, or shed). */
void kedge_conn_budget_remove(kedge_conn_budget_t *b, kedge_conn_node_t *node);

#ifdef __cplusplus
}
#endif
#endif
