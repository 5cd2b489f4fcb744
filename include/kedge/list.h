/* kedge's one list: a circular doubly linked list with the node inside the element (libuv's
 * queue.h, the Linux kernel's list.h). The head is a node of its own; an empty list points at
 * itself, so insertion and removal never test for NULL and a removed node can be removed again.
 *
 *   struct call { kedge_list_t node; ... };
 *   kedge_list_t calls;  kedge_list_init(&calls);
 *   kedge_list_insert_tail(&calls, &c->node);
 *   kedge_list_t *it, *next;
 *   kedge_list_foreach_safe(it, next, &calls) {           // it may be removed in the body
 *     struct call *c = kedge_container_of(it, struct call, node); ... }
 */
#ifndef KEDGE_LIST_H
#define KEDGE_LIST_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kedge_list {
  struct kedge_list *next, *prev;
} kedge_list_t;

/* The element that holds `ptr`, its `member` node. */
#define kedge_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* Each node from the first to the last; `next` is read before the body runs, so the body may
 * remove (and free) `pos`, but no other node. */
#define kedge_list_foreach_safe(pos, nxt, head)                                                 \
  for ((pos) = (head)->next, (nxt) = (pos)->next; (pos) != (head); (pos) = (nxt), (nxt) = (pos)->next)

static inline void kedge_list_init(kedge_list_t *n)
{
  n->next = n->prev = n;
}

static inline bool kedge_list_empty(const kedge_list_t *head)
{
  return head->next == head;
}

/* The first node, NULL for an empty list. */
static inline kedge_list_t *kedge_list_first(const kedge_list_t *head)
{
  return head->next == head ? NULL : head->next;
}

static inline void kedge_list_insert_head(kedge_list_t *head, kedge_list_t *n)
{
  n->next = head->next;
  n->prev = head;
  head->next->prev = n;
  head->next = n;
}

static inline void kedge_list_insert_tail(kedge_list_t *head, kedge_list_t *n)
{
  n->prev = head->prev;
  n->next = head;
  head->prev->next = n;
  head->prev = n;
}

/* Unlinks `n` and leaves it pointing at itself: removing it again changes nothing. */
static inline void kedge_list_remove(kedge_list_t *n)
{
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->next = n->prev = n;
}

#ifdef __cplusplus
}
#endif
#endif
