/* kedge/list.h: the one list (BSD sys/queue.h) that replaced the hand-written unlinks of
 * lib/sbi, lib/keysvc and lib/store and the hand-written container_of of lib/sbi/h2.c; what
 * it adds to glibc's copy is pinned here: removal (and freeing) of the current element during
 * a *_FOREACH_SAFE walk, at the head, in the middle and at the end, and kedge_container_of. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "kedge/list.h"

typedef struct item {
  int value;
  LIST_ENTRY(item) link;
  TAILQ_ENTRY(item) order;
} item_t;

LIST_HEAD(item_list, item);
TAILQ_HEAD(item_queue, item);

static int list_values(struct item_list *head, int *out, int max)
{
  int n = 0;
  item_t *it;
  LIST_FOREACH(it, head, link)
  {
    if (n < max)
      out[n] = it->value;
    n++;
  }
  return n;
}

static void list_remove_during_iteration(void **state)
{
  (void)state;
  struct item_list head = LIST_HEAD_INITIALIZER(head);
  for (int i = 5; i >= 0; i--) { /* inserted at the head: 0 1 2 3 4 5 */
    item_t *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    x->value = i;
    LIST_INSERT_HEAD(&head, x, link);
  }
  /* the even ones go (the first among them), freed in the body */
  item_t *it, *next;
  int seen = 0;
  LIST_FOREACH_SAFE(it, &head, link, next)
  {
    seen++;
    if (it->value % 2 == 0) {
      LIST_REMOVE(it, link);
      free(it);
    }
  }
  assert_int_equal(seen, 6);
  int v[6];
  assert_int_equal(list_values(&head, v, 6), 3);
  assert_int_equal(v[0], 1);
  assert_int_equal(v[1], 3);
  assert_int_equal(v[2], 5);
  /* the last one alone, then everything */
  LIST_FOREACH_SAFE(it, &head, link, next)
  {
    if (it->value == 5) {
      LIST_REMOVE(it, link);
      free(it);
    }
  }
  assert_int_equal(list_values(&head, v, 6), 2);
  LIST_FOREACH_SAFE(it, &head, link, next)
  {
    LIST_REMOVE(it, link);
    free(it);
  }
  assert_true(LIST_EMPTY(&head));
  LIST_FOREACH_SAFE(it, &head, link, next) /* an empty list: the body never runs */
  fail();
}

static void tailq_remove_during_iteration(void **state)
{
  (void)state;
  struct item_queue q;
  TAILQ_INIT(&q);
  item_t items[4];
  for (int i = 0; i < 4; i++) {
    items[i].value = i;
    TAILQ_INSERT_TAIL(&q, &items[i], order);
  }
  item_t *it, *next;
  TAILQ_FOREACH_SAFE(it, &q, order, next)
  {
    if (it->value == 0 || it->value == 3) /* head and tail */
      TAILQ_REMOVE(&q, it, order);
  }
  assert_ptr_equal(TAILQ_FIRST(&q), &items[1]);
  assert_ptr_equal(TAILQ_LAST(&q, item_queue), &items[2]);
  assert_ptr_equal(TAILQ_NEXT(&items[1], order), &items[2]);
}

static void container_of(void **state)
{
  (void)state;
  item_t x = {.value = 7};
  void *member = &x.order;
  assert_ptr_equal(kedge_container_of(member, item_t, order), &x);
  assert_ptr_equal(kedge_container_of(&x.value, item_t, value), &x);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(list_remove_during_iteration),
      cmocka_unit_test(tailq_remove_during_iteration),
      cmocka_unit_test(container_of),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
