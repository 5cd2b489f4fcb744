/* The ECS's key cache and negative cache: lifetime per entry, LRU eviction at the bound,
 * replacement, and the rate limits on fetches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "key_cache.h"
#include "rate_limit.h"

static void id_of(int i, char *out, size_t size)
{
  snprintf(out, size,
           "%d.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%02dQ@5gc.mnc001.mcc001.3gppnetwork.org",
           i % 10, i % 100);
  (void)size;
}

static void put_get_expire(void **state)
{
  ecs_key_cache_t *c;
  assert_int_equal(ecs_key_cache_new(4, &c), KEDGE_OK);
  uint8_t key[KEDGE_KEY_LEN], out[KEDGE_KEY_LEN];
  memset(key, 0x11, sizeof(key));
  const char *id = "0.abc@x";
  assert_int_equal(ecs_key_cache_put(c, id, strlen(id), key, 1500, 1000), KEDGE_OK);
  memset(out, 0, sizeof(out));
  assert_true(ecs_key_cache_get(c, id, strlen(id), 1499, out));
  assert_memory_equal(out, key, sizeof(key));
  /* a prefix or a longer string is another identity */
  assert_false(ecs_key_cache_get(c, id, strlen(id) - 1, 1000, out));
  /* the deadline is exclusive; the expired entry is gone */
  assert_false(ecs_key_cache_get(c, id, strlen(id), 1500, out));
  assert_int_equal(ecs_key_cache_count(c), 0);
  /* a deadline in the past stores nothing (key_cache_ttl 0: no caching) */
  assert_int_equal(ecs_key_cache_put(c, id, strlen(id), key, 1000, 1000), KEDGE_OK);
  assert_int_equal(ecs_key_cache_count(c), 0);
  /* replacement */
  assert_int_equal(ecs_key_cache_put(c, id, strlen(id), key, 5000, 1000), KEDGE_OK);
  memset(key, 0x22, sizeof(key));
  assert_int_equal(ecs_key_cache_put(c, id, strlen(id), key, 5000, 1000), KEDGE_OK);
  assert_int_equal(ecs_key_cache_count(c), 1);
  assert_true(ecs_key_cache_get(c, id, strlen(id), 1000, out));
  assert_memory_equal(out, key, sizeof(key));
  ecs_key_cache_remove(c, id, strlen(id));
  assert_false(ecs_key_cache_get(c, id, strlen(id), 1000, out));
  assert_int_equal(ecs_key_cache_put(c, id, 0, key, 5000, 1000), KEDGE_ERR_INVALID_ARG);
  ecs_key_cache_free(c);
}

static void negative_entries(void **state)
{
  ecs_key_cache_t *c;
  assert_int_equal(ecs_key_cache_new(2, &c), KEDGE_OK);
  uint8_t out[KEDGE_KEY_LEN];
  memset(out, 0x77, sizeof(out));
  assert_int_equal(ecs_key_cache_put(c, "unknown", 7, NULL, 100, 0), KEDGE_OK);
  assert_true(ecs_key_cache_get(c, "unknown", 7, 50, NULL));
  assert_true(ecs_key_cache_get(c, "unknown", 7, 50, out));
  assert_int_equal(out[0], 0x77); /* no key copied out of a negative entry */
  ecs_key_cache_free(c);
}

static void lru_eviction(void **state)
{
  enum { CAP = 50 };
  ecs_key_cache_t *c;
  assert_int_equal(ecs_key_cache_new(CAP, &c), KEDGE_OK);
  char id[128];
  uint8_t key[KEDGE_KEY_LEN], out[KEDGE_KEY_LEN];
  for (int i = 0; i < CAP; i++) {
    id_of(i, id, sizeof(id));
    memset(key, i, sizeof(key));
    assert_int_equal(ecs_key_cache_put(c, id, strlen(id), key, 10000, 0), KEDGE_OK);
  }
  assert_int_equal(ecs_key_cache_count(c), CAP);
  /* touch entry 0: entry 1 is now the least recently used */
  id_of(0, id, sizeof(id));
  assert_true(ecs_key_cache_get(c, id, strlen(id), 1, out));
  id_of(CAP, id, sizeof(id));
  assert_int_equal(ecs_key_cache_put(c, id, strlen(id), key, 10000, 0), KEDGE_OK);
  assert_int_equal(ecs_key_cache_count(c), CAP);
  id_of(1, id, sizeof(id));
  assert_false(ecs_key_cache_get(c, id, strlen(id), 1, out));
  id_of(0, id, sizeof(id));
  assert_true(ecs_key_cache_get(c, id, strlen(id), 1, out));
  assert_int_equal(out[0], 0);
  for (int i = 2; i <= CAP; i++) {
    id_of(i, id, sizeof(id));
    assert_true(ecs_key_cache_get(c, id, strlen(id), 1, out));
    assert_int_equal(out[0], i == CAP ? CAP - 1 : i);
  }
  ecs_key_cache_free(c);
}

static struct sockaddr_in v4(const char *a)
{
  struct sockaddr_in s = {.sin_family = AF_INET};
  inet_pton(AF_INET, a, &s.sin_addr);
  return s;
}

static struct sockaddr_in6 v6(const char *a)
{
  struct sockaddr_in6 s = {.sin6_family = AF_INET6};
  inet_pton(AF_INET6, a, &s.sin6_addr);
  return s;
}

static void per_address_limit(void **state)
{
  ecs_rate_config_t cfg = {.address_rate = 10, .address_burst = 3, .address_slots = 1024};
  ecs_rate_limit_t *rl;
  assert_int_equal(ecs_rate_limit_new(&cfg, &rl), KEDGE_OK);
  struct sockaddr_in a = v4("192.0.2.1"), b = v4("192.0.2.2");
  for (int i = 0; i < 3; i++)
    assert_int_equal(ecs_rate_limit_take(rl, (struct sockaddr *)&a, 1000), ECS_RATE_OK);
  assert_int_equal(ecs_rate_limit_take(rl, (struct sockaddr *)&a, 1000), ECS_RATE_ADDRESS);
  /* another address has its own bucket */
  assert_int_equal(ecs_rate_limit_take(rl, (struct sockaddr *)&b, 1000), ECS_RATE_OK);
  /* 10 per second: one token after 100 ms, not before */
  assert_int_equal(ecs_rate_limit_take(rl, (struct sockaddr *)&a, 1050), ECS_RATE_ADDRESS);
  assert_int_equal(ecs_rate_limit_take(rl, (struct sockaddr *)&a, 1100), ECS_RATE_OK);
  assert_int_equal(ecs_rate_limit_take(rl, (struct sockaddr *)&a, 1100), ECS_RATE_ADDRESS);
  /* IPv6: one bucket per /64; IPv4-mapped is the IPv4 address */
  struct sockaddr_in6 x = v6("2001:db8:1:2::1"), y = v6("2001:db8:1:2:ffff::9"),
                      z = v6("2001:db8:1:3::1"), m = v6("::ffff:192.0.2.1");
  for (int i = 0; i < 3; i++)
    assert_int_equal(ecs_rate_limit_take(rl, (struct sockaddr *)(i % 2 ? &x : &y), 5000),
                     ECS_RATE_OK);
  assert_int_equal(ecs_rate_limit_take(rl, (struct sockaddr *)&y, 5000), ECS_RATE_ADDRESS);
  assert_int_equal(ecs_rate_limit_take(rl, (struct sockaddr *)&z, 5000), ECS_RATE_OK);
  for (int i = 0; i < 3; i++)
    assert_int_equal(ecs_rate_limit_take(rl, (struct sockaddr *)&a, 9000), ECS_RATE_OK);
  assert_int_equal(ecs_rate_limit_take(rl, (struct sockaddr *)&m, 9000), ECS_RATE_ADDRESS);
  ecs_rate_limit_free(rl);
}

static void global_limit(void **state)
{
  ecs_rate_config_t cfg = {.global_rate = 100,
                           .global_burst = 5,
                           .address_rate = 1000,
                           .address_burst = 1000,
                           .address_slots = 16};
  ecs_rate_limit_t *rl;
  assert_int_equal(ecs_rate_limit_new(&cfg, &rl), KEDGE_OK);
  char a[32];
  for (int i = 0; i < 5; i++) {
    snprintf(a, sizeof(a), "198.51.100.%d", i);
    struct sockaddr_in s = v4(a);
    assert_int_equal(ecs_rate_limit_take(rl, (struct sockaddr *)&s, 0), ECS_RATE_OK);
  }
  struct sockaddr_in s = v4("203.0.113.7");
  assert_int_equal(ecs_rate_limit_take(rl, (struct sockaddr *)&s, 0), ECS_RATE_GLOBAL);
  assert_int_equal(ecs_rate_limit_take(rl, NULL, 0), ECS_RATE_GLOBAL);
  assert_int_equal(ecs_rate_limit_take(rl, NULL, 10), ECS_RATE_OK); /* 100/s: 1 per 10 ms */
  ecs_rate_limit_free(rl);
  /* no limits at all */
  ecs_rate_config_t none = {0};
  assert_int_equal(ecs_rate_limit_new(&none, &rl), KEDGE_OK);
  for (int i = 0; i < 1000; i++)
    assert_int_equal(ecs_rate_limit_take(rl, (struct sockaddr *)&s, 0), ECS_RATE_OK);
  ecs_rate_limit_free(rl);
  ecs_rate_config_t bad = {.global_rate = 1, .global_burst = 0};
  assert_int_equal(ecs_rate_limit_new(&bad, &rl), KEDGE_ERR_INVALID_ARG);
}

/* Issue 13: a revoked identity is gone at once, and a fetch answered before the revocation
 * cannot put the key back until the tombstone's deadline; another identity is untouched. */
static void revoke_tombstone(void **state)
{
  ecs_key_cache_t *c;
  assert_int_equal(ecs_key_cache_new(8, &c), KEDGE_OK);
  uint8_t key[KEDGE_KEY_LEN], out[KEDGE_KEY_LEN];
  memset(key, 0x22, sizeof(key));
  const char *id = "0.old@x", *other = "0.other@x";
  bool had = false;
  assert_int_equal(ecs_key_cache_put(c, id, strlen(id), key, 60000, 1000), KEDGE_OK);
  assert_int_equal(ecs_key_cache_put(c, other, strlen(other), key, 60000, 1000), KEDGE_OK);
  assert_int_equal(ecs_key_cache_revoke(c, id, strlen(id), 61000, 1001, &had), KEDGE_OK);
  assert_true(had);
  assert_false(ecs_key_cache_get(c, id, strlen(id), 1002, out));
  assert_true(ecs_key_cache_get(c, other, strlen(other), 1002, out));
  /* a late fetch answer: refused while the tombstone lives */
  assert_int_equal(ecs_key_cache_put(c, id, strlen(id), key, 60000, 1003), KEDGE_OK);
  assert_false(ecs_key_cache_get(c, id, strlen(id), 1004, out));
  /* revoking again: nothing was cached */
  assert_int_equal(ecs_key_cache_revoke(c, id, strlen(id), 61000, 1005, &had), KEDGE_OK);
  assert_false(had);
  /* after the tombstone's deadline a put works again (never for a real Kedge ID: a new
   * authentication makes a new one) */
  assert_int_equal(ecs_key_cache_put(c, id, strlen(id), key, 70000, 61000), KEDGE_OK);
  assert_true(ecs_key_cache_get(c, id, strlen(id), 61001, out));
  /* a revocation without time left only removes */
  assert_int_equal(ecs_key_cache_revoke(c, id, strlen(id), 61001, 61001, &had), KEDGE_OK);
  assert_true(had);
  assert_false(ecs_key_cache_get(c, id, strlen(id), 61002, out));
  assert_int_equal(ecs_key_cache_count(c), 1);
  /* a tombstone is not a negative entry: get says "not here", never "found without key" */
  assert_int_equal(ecs_key_cache_revoke(c, other, strlen(other), 70000, 61003, &had), KEDGE_OK);
  assert_false(ecs_key_cache_get(c, other, strlen(other), 61004, NULL));
  ecs_key_cache_free(c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(put_get_expire), cmocka_unit_test(negative_entries),
      cmocka_unit_test(lru_eviction),   cmocka_unit_test(per_address_limit),
      cmocka_unit_test(global_limit),   cmocka_unit_test(revoke_tombstone),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
