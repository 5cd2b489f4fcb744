/* The handshake budget (lib/sbi/conn_budget.c, issue 12) on its own: connections are kept
 * oldest first; at the per-address cap the victim is that address's oldest, when the budget is
 * full the oldest of all; an IPv6 /64 is one address; removal is once and in any order, and
 * kedge_conn_budget_oldest walks what remains (how the ECS sheds every handshake at exit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "kedge/conn_budget.h"

static struct sockaddr_in v4(const char *a)
{
  struct sockaddr_in s = {.sin_family = AF_INET};
  assert_int_equal(inet_pton(AF_INET, a, &s.sin_addr), 1);
  return s;
}

static struct sockaddr_in6 v6(const char *a)
{
  struct sockaddr_in6 s = {.sin6_family = AF_INET6};
  assert_int_equal(inet_pton(AF_INET6, a, &s.sin6_addr), 1);
  return s;
}

static void per_address_then_global(void **state)
{
  (void)state;
  kedge_conn_budget_t b;
  kedge_conn_budget_init(&b, 4, 2);
  kedge_conn_node_t n[5];
  memset(n, 0, sizeof(n));
  struct sockaddr_in a = v4("192.0.2.1"), c = v4("192.0.2.2");
  assert_null(kedge_conn_budget_oldest(&b));
  assert_null(kedge_conn_budget_victim(&b, (struct sockaddr *)&a));

  kedge_conn_budget_add(&b, &n[0], (struct sockaddr *)&a);
  kedge_conn_budget_add(&b, &n[1], (struct sockaddr *)&c);
  assert_null(kedge_conn_budget_victim(&b, (struct sockaddr *)&a));
  kedge_conn_budget_add(&b, &n[2], (struct sockaddr *)&a);
  /* a is at its cap of 2: its oldest goes, not c's older one */
  assert_ptr_equal(kedge_conn_budget_victim(&b, (struct sockaddr *)&a), &n[0]);
  assert_null(kedge_conn_budget_victim(&b, (struct sockaddr *)&c));
  kedge_conn_budget_add(&b, &n[3], NULL); /* no address: counts only against the total */
  assert_int_equal(b.count, 4);
  /* full: the oldest of all, for any newcomer */
  assert_ptr_equal(kedge_conn_budget_victim(&b, (struct sockaddr *)&c), &n[0]);
  assert_ptr_equal(kedge_conn_budget_victim(&b, NULL), &n[0]);

  kedge_conn_budget_remove(&b, &n[0]);
  kedge_conn_budget_remove(&b, &n[0]); /* once: a second remove changes nothing */
  assert_int_equal(b.count, 3);
  assert_ptr_equal(kedge_conn_budget_oldest(&b), &n[1]);
  assert_null(kedge_conn_budget_victim(&b, (struct sockaddr *)&a));
  kedge_conn_budget_add(&b, &n[4], (struct sockaddr *)&c);
  /* c now has n[1] and n[4]: at its cap, n[1] (its oldest) is the victim */
  assert_ptr_equal(kedge_conn_budget_victim(&b, (struct sockaddr *)&c), &n[1]);

  /* removal from the middle keeps the order of the rest: n[1], n[3], n[4] after n[2] goes */
  kedge_conn_budget_remove(&b, &n[2]);
  const kedge_conn_node_t *want[] = {&n[1], &n[3], &n[4]};
  for (size_t i = 0; i < 3; i++) {
    kedge_conn_node_t *o = kedge_conn_budget_oldest(&b);
    assert_ptr_equal(o, want[i]);
    kedge_conn_budget_remove(&b, o);
  }
  assert_null(kedge_conn_budget_oldest(&b));
  assert_int_equal(b.count, 0);
}

/* kedge_addr_key: one IPv6 /64 is one address for the per-address cap */
static void ipv6_prefix_is_one_address(void **state)
{
  (void)state;
  kedge_conn_budget_t b;
  kedge_conn_budget_init(&b, 100, 1);
  kedge_conn_node_t n;
  memset(&n, 0, sizeof(n));
  struct sockaddr_in6 x = v6("2001:db8:1:2::1"), y = v6("2001:db8:1:2:ffff::9"),
                      z = v6("2001:db8:1:3::1");
  kedge_conn_budget_add(&b, &n, (struct sockaddr *)&x);
  assert_ptr_equal(kedge_conn_budget_victim(&b, (struct sockaddr *)&y), &n);
  assert_null(kedge_conn_budget_victim(&b, (struct sockaddr *)&z));
  kedge_conn_budget_remove(&b, &n);
  assert_null(kedge_conn_budget_victim(&b, (struct sockaddr *)&y));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(per_address_then_global),
      cmocka_unit_test(ipv6_prefix_is_one_address),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
