/* kedge/list.h: the one intrusive list that replaced the hand-written unlinks of lib/sbi,
 * lib/keysvc and lib/store. Pinned: removal of the current node during iteration, removing a
 * node twice, the head and tail ends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kedge/list.h"

typedef struct item {
  int value;
  kedge_list_t node;
} item_t;

static int values(kedge_list_t *head, int *out, int max)
{
  int n = 0;
  kedge_list_t *it, *next;
  kedge_list_foreach_safe(it, next, head) {
    if (n < max)
      out[n] = kedge_container_of(it, item_t, node)->value;
    n++;
  }
  return n;
}

static void order(void **state)
{
  (void)state;
  kedge_list_t head;
  kedge_list_init(&head);
  assert_true(kedge_list_empty(&head));
  assert_null(kedge_list_first(&head));
  item_t a = {1, {0}}, b = {2, {0}}, c = {3, {0}};
  kedge_list_insert_tail(&head, &b.node);
  kedge_list_insert_tail(&head, &c.node);
  kedge_list_insert_head(&head, &a.node);
  int v[4];
  assert_int_equal(values(&head, v, 4), 3);
  assert_int_equal(v[0], 1);
  assert_int_equal(v[1], 2);
  assert_int_equal(v[2], 3);
  assert_ptr_equal(kedge_container_of(kedge_list_first(&head), item_t, node), &a);
}

static void remove_during_iteration(void **state)
{
  (void)state;
  kedge_list_t head;
  kedge_list_init(&head);
  item_t items[6];
  for (int i = 0; i < 6; i++) {
    items[i].value = i;
    kedge_list_insert_tail(&head, &items[i].node);
  }
  /* remove the even ones (the first and a middle one among them) while walking */
  kedge_list_t *it, *next;
  int seen = 0;
  kedge_list_foreach_safe(it, next, &head) {
    item_t *x = kedge_container_of(it, item_t, node);
    seen++;
    if (x->value % 2 == 0)
      kedge_list_remove(it);
  }
  assert_int_equal(seen, 6);
  int v[6];
  assert_int_equal(values(&head, v, 6), 3);
  assert_int_equal(v[0], 1);
  assert_int_equal(v[1], 3);
  assert_int_equal(v[2], 5);
  /* the last one, then everything */
  kedge_list_remove(&items[5].node);
  assert_int_equal(values(&head, v, 6), 2);
  kedge_list_foreach_safe(it, next, &head) kedge_list_remove(it);
  assert_true(kedge_list_empty(&head));
  assert_ptr_equal(head.prev, &head);
}

static void remove_twice(void **state)
{
  (void)state;
  kedge_list_t head;
  kedge_list_init(&head);
  item_t a = {1, {0}}, b = {2, {0}};
  kedge_list_insert_tail(&head, &a.node);
  kedge_list_insert_tail(&head, &b.node);
  kedge_list_remove(&a.node);
  kedge_list_remove(&a.node); /* points at itself: a no-op, b stays */
  int v[2];
  assert_int_equal(values(&head, v, 2), 1);
  assert_int_equal(v[0], 2);
  item_t lone = {9, {0}};
  kedge_list_init(&lone.node); /* never inserted */
  kedge_list_remove(&lone.node);
  assert_int_equal(values(&head, v, 2), 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(order),
      cmocka_unit_test(remove_during_iteration),
      cmocka_unit_test(remove_twice),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
