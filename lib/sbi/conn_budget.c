/* The handshaking connections' budget (kedge/conn_budget.h). The per-address count is a scan
 * of the list from its oldest end: at most `max` (1024 by default) comparisons of 9 octets per
 * accepted connection, which also finds the address's oldest connection to shed. */
#include "kedge/conn_budget.h"

#include <string.h>

kedge_conn_node_t *kedge_conn_budget_victim(const kedge_conn_budget_t *b,
                                            const struct sockaddr *peer)
{
  uint8_t key[KEDGE_ADDR_KEY_LEN];
  if (b->max_per_addr && kedge_addr_key(peer, key)) {
    kedge_conn_node_t *oldest_here = NULL;
    size_t n = 0;
    for (kedge_conn_node_t *c = b->oldest; c; c = c->newer) {
      if (c->has_addr && memcmp(c->addr, key, sizeof(key)) == 0) {
        if (!oldest_here)
          oldest_here = c;
        if (++n >= b->max_per_addr)
          return oldest_here;
      }
    }
  }
  if (b->count >= b->max)
    return b->oldest;
  return NULL;
}

void kedge_conn_budget_add(kedge_conn_budget_t *b, kedge_conn_node_t *node,
                           const struct sockaddr *peer)
{
  node->has_addr = kedge_addr_key(peer, node->addr);
  node->newer = NULL;
  node->older = b->newest;
  if (b->newest)
    b->newest->newer = node;
  else
    b->oldest = node;
  b->newest = node;
  node->linked = true;
  b->count++;
}

void kedge_conn_budget_remove(kedge_conn_budget_t *b, kedge_conn_node_t *node)
{
  if (!node->linked)
    return;
  if (node->older)
    node->older->newer = node->newer;
  else
    b->oldest = node->newer;
  if (node->newer)
    node->newer->older = node->older;
  else
    b->newest = node->older;
  node->older = node->newer = NULL;
  node->linked = false;
  b->count--;
}
