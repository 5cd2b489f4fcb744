/* The handshaking connections' budget (kedge/conn_budget.h). The per-address count is a scan
 * of the list from its oldest end: at most `max` (1024 by default) comparisons of 9 octets per
 * accepted connection, which also finds the address's oldest connection to shed. */
#include "kedge/conn_budget.h"

#include <string.h>

void kedge_conn_budget_init(kedge_conn_budget_t *b, size_t max, size_t max_per_addr)
{
  TAILQ_INIT(&b->nodes);
  b->count = 0;
  b->max = max;
  b->max_per_addr = max_per_addr;
}

kedge_conn_node_t *kedge_conn_budget_oldest(const kedge_conn_budget_t *b)
{
  return TAILQ_FIRST(&b->nodes);
}

kedge_conn_node_t *kedge_conn_budget_victim(const kedge_conn_budget_t *b,
                                            const struct sockaddr *peer)
{
  uint8_t key[KEDGE_ADDR_KEY_LEN];
  if (b->max_per_addr && kedge_addr_key(peer, key)) {
    kedge_conn_node_t *oldest_here = NULL;
    size_t n = 0;
    kedge_conn_node_t *c;
    TAILQ_FOREACH(c, &b->nodes, link)
    {
      if (c->has_addr && memcmp(c->addr, key, sizeof(key)) == 0) {
        if (!oldest_here)
          oldest_here = c;
        if (++n >= b->max_per_addr)
          return oldest_here;
      }
    }
  }
  if (b->count >= b->max)
    return TAILQ_FIRST(&b->nodes);
  return NULL;
}

void kedge_conn_budget_add(kedge_conn_budget_t *b, kedge_conn_node_t *node,
                           const struct sockaddr *peer)
{
  node->has_addr = kedge_addr_key(peer, node->addr);
  TAILQ_INSERT_TAIL(&b->nodes, node, link);
  node->linked = true;
  b->count++;
}

void kedge_conn_budget_remove(kedge_conn_budget_t *b, kedge_conn_node_t *node)
{
  if (!node->linked)
    return;
  TAILQ_REMOVE(&b->nodes, node, link);
  node->linked = false;
  b->count--;
}
