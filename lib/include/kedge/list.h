/* kedge's one list: BSD <sys/queue.h> (glibc ships it; LIST_* for unordered sets, TAILQ_* where
 * order matters), like libuv's one queue.h. This header adds the two things glibc's copy lacks:
 * FreeBSD's *_FOREACH_SAFE (the body may remove, and free, the current element) and
 * kedge_container_of (the element that embeds a node of another component's list, e.g. a
 * kedge_conn_node_t).
 *
 *   struct call { LIST_ENTRY(call) link; ... };
 *   LIST_HEAD(, call) calls = LIST_HEAD_INITIALIZER(calls);
 *   LIST_INSERT_HEAD(&calls, c, link);
 *   struct call *c, *next;
 *   LIST_FOREACH_SAFE(c, &calls, link, next) { LIST_REMOVE(c, link); free(c); }
 *
 * LIST_REMOVE of an element that is not in a list is a programmer error (it writes through a
 * NULL pointer): unlink exactly once. */
#ifndef KEDGE_LIST_H
#define KEDGE_LIST_H

#include <stddef.h>
#include <sys/queue.h>

#ifndef LIST_FOREACH_SAFE
#define LIST_FOREACH_SAFE(var, head, field, tvar)                                                  \
  for ((var) = LIST_FIRST((head)); (var) && ((tvar) = LIST_NEXT((var), field), 1); (var) = (tvar))
#endif

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)                                                 \
  for ((var) = TAILQ_FIRST((head)); (var) && ((tvar) = TAILQ_NEXT((var), field), 1); (var) = (tvar))
#endif

/* The element of type `type` whose member `member` is at `ptr`. */
#define kedge_container_of(ptr, type, member)                                                      \
  ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif
