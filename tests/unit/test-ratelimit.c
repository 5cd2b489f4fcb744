/* kedge's keyed token bucket (lib/core/ratelimit.c, kedge/ratelimit.h): refill arithmetic,
 * burst caps, keys that share a set, the global bucket, fair sharing, the address unit. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kedge/ratelimit.h"

static kedge_rate_t *make(kedge_rate_config_t cfg)
{
  kedge_rate_t *rl = NULL;
  assert_int_equal(kedge_rate_new(&cfg, &rl), KEDGE_OK);
  return rl;
}

static void bad_configs(void **state)
{
  kedge_rate_t *rl = NULL;
  const kedge_rate_config_t bad[] = {
      {.rate = -1, .burst = 1, .slots = 4},
      {.rate = 1, .burst = 0.5, .slots = 4},      /* a bucket that can never hold a token */
      {.rate = 1, .burst = 1, .slots = 0},        /* keyed without a table */
      {.global_rate = 1, .global_burst = 0},      /* the same for the global bucket */
      {.fair = true, .burst = 1, .slots = 4},     /* fair without a global rate to share */
      {.rate = 0.0 / 0.0, .burst = 1, .slots = 4} /* NaN */
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(kedge_rate_new(&bad[i], &rl), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_rate_new(NULL, &rl), KEDGE_ERR_INVALID_ARG);
  /* nothing configured: everything passes */
  rl = make((kedge_rate_config_t){0});
  for (int i = 0; i < 1000; i++)
    assert_int_equal(kedge_rate_take(rl, "k", 1, 0, NULL), KEDGE_RATE_OK);
  kedge_rate_free(rl);
  kedge_rate_free(NULL);
}

static void one_key(void **state)
{
  kedge_rate_t *rl = make((kedge_rate_config_t){.rate = 10, .burst = 3, .slots = 4});
  int64_t wait = -1;
  /* a new key starts with a full bucket */
  for (int i = 0; i < 3; i++)
    assert_int_equal(kedge_rate_take(rl, "a", 1, 1000, &wait), KEDGE_RATE_OK);
  assert_int_equal(wait, 0);
  assert_int_equal(kedge_rate_take(rl, "a", 1, 1000, &wait), KEDGE_RATE_KEY);
  assert_int_equal(wait, 100); /* 10 per second: the next token in 100 ms */
  /* a refusal takes nothing: 99 ms later still none, 100 ms later exactly one */
  assert_int_equal(kedge_rate_take(rl, "a", 1, 1099, &wait), KEDGE_RATE_KEY);
  assert_int_equal(wait, 1);
  assert_int_equal(kedge_rate_take(rl, "a", 1, 1100, NULL), KEDGE_RATE_OK);
  assert_int_equal(kedge_rate_take(rl, "a", 1, 1100, NULL), KEDGE_RATE_KEY);
  /* a long pause refills to the burst, not beyond */
  for (int i = 0; i < 3; i++)
    assert_int_equal(kedge_rate_take(rl, "a", 1, 3600000, NULL), KEDGE_RATE_OK);
  assert_int_equal(kedge_rate_take(rl, "a", 1, 3600000, NULL), KEDGE_RATE_KEY);
  /* time going backwards (another thread's older reading) adds nothing */
  assert_int_equal(kedge_rate_take(rl, "a", 1, 1000, NULL), KEDGE_RATE_KEY);
  /* keys differ by every octet, length included */
  assert_int_equal(kedge_rate_take(rl, "ab", 2, 3600000, NULL), KEDGE_RATE_OK);
  assert_int_equal(kedge_rate_take(rl, "a\0", 2, 3600000, NULL), KEDGE_RATE_OK);
  /* no key: no keyed bucket (and no global one here) */
  for (int i = 0; i < 10; i++)
    assert_int_equal(kedge_rate_take(rl, NULL, 0, 3600000, NULL), KEDGE_RATE_OK);
  kedge_rate_free(rl);
}

static void sets_and_takeover(void **state)
{
  /* one set of 4: four keys keep their buckets; a fifth takes over the least recently used */
  kedge_rate_t *rl = make((kedge_rate_config_t){.rate = 1, .burst = 1, .slots = 1});
  const char *keys[] = {"k0", "k1", "k2", "k3"};
  for (int i = 0; i < 4; i++)
    assert_int_equal(kedge_rate_take(rl, keys[i], 2, 100 + i, NULL), KEDGE_RATE_OK);
  for (int i = 0; i < 4; i++)
    assert_int_equal(kedge_rate_take(rl, keys[i], 2, 200, NULL), KEDGE_RATE_KEY);
  assert_int_equal(kedge_rate_take(rl, "k4", 2, 300, NULL), KEDGE_RATE_OK);
  /* all refilled at 200: the first of equals (k0) lost its bucket; the others kept theirs */
  for (int i = 1; i < 4; i++)
    assert_int_equal(kedge_rate_take(rl, keys[i], 2, 300, NULL), KEDGE_RATE_KEY);
  assert_int_equal(kedge_rate_take(rl, "k4", 2, 300, NULL), KEDGE_RATE_KEY);
  /* k0 comes back with a new, full bucket (the global bucket bounds what that is worth) */
  assert_int_equal(kedge_rate_take(rl, "k0", 2, 300, NULL), KEDGE_RATE_OK);
  kedge_rate_free(rl);
}

static void global_bucket(void **state)
{
  kedge_rate_t *rl = make((kedge_rate_config_t){
      .rate = 1000, .burst = 1000, .slots = 64, .global_rate = 100, .global_burst = 5});
  char k[16];
  for (int i = 0; i < 5; i++) {
    snprintf(k, sizeof(k), "key%d", i);
    assert_int_equal(kedge_rate_take(rl, k, strlen(k), 0, NULL), KEDGE_RATE_OK);
  }
  int64_t wait = 0;
  assert_int_equal(kedge_rate_take(rl, "other", 5, 0, &wait), KEDGE_RATE_GLOBAL);
  assert_int_equal(wait, 10);
  assert_int_equal(kedge_rate_take(rl, NULL, 0, 0, NULL), KEDGE_RATE_GLOBAL);
  assert_int_equal(kedge_rate_take(rl, NULL, 0, 10, NULL), KEDGE_RATE_OK); /* 1 per 10 ms */
  /* refused by the global bucket: the key's own token is not spent either */
  kedge_rate_free(rl);
  rl = make((kedge_rate_config_t){
      .rate = 1, .burst = 1, .slots = 64, .global_rate = 1, .global_burst = 1});
  assert_int_equal(kedge_rate_take(rl, "x", 1, 0, NULL), KEDGE_RATE_OK);
  assert_int_equal(kedge_rate_take(rl, "y", 1, 0, NULL), KEDGE_RATE_GLOBAL);
  assert_int_equal(kedge_rate_take(rl, "y", 1, 1000, NULL), KEDGE_RATE_OK);
  kedge_rate_free(rl);
}

/* Fair sharing: 10 keys that ask all the time take at most 10/11 of the global rate; a key
 * that has not asked before finds a token waiting. */
static void fair_share(void **state)
{
  kedge_rate_t *rl = make((kedge_rate_config_t){
      .burst = 2, .slots = 256, .global_rate = 110, .global_burst = 20, .fair = true});
  char k[16];
  int granted = 0, newcomer_ok = 0;
  for (int64_t t = 0; t < 10000; t++) { /* 10 s, every key tries every millisecond */
    for (int i = 0; i < 10; i++) {
      snprintf(k, sizeof(k), "flood%d", i);
      granted += kedge_rate_take(rl, k, strlen(k), t, NULL) == KEDGE_RATE_OK;
    }
    if (t >= 2000 && t % 1000 == 0) { /* a new key each second, once */
      snprintf(k, sizeof(k), "new%lld", (long long)t);
      newcomer_ok += kedge_rate_take(rl, k, strlen(k), t, NULL) == KEDGE_RATE_OK;
    }
  }
  assert_int_equal(newcomer_ok, 8);
  /* never more than the global rate and burst; the flooders' share stays below it */
  assert_true(granted <= 110 * 10 + 20);
  assert_true(granted >= 900);
  assert_true(kedge_rate_active_keys(rl, 9999) >= 10);
  assert_int_equal(kedge_rate_active_keys(rl, 20000), 0); /* forgotten after two idle seconds */
  kedge_rate_free(rl);
}

/* Fair sharing keeps a quarter of the global bucket for keys whose own bucket is full. */
static void fair_reserve(void **state)
{
  kedge_rate_t *rl = make((kedge_rate_config_t){
      .burst = 10, .slots = 64, .global_rate = 1, .global_burst = 8, .fair = true});
  int got = 0;
  for (int i = 0; i < 20; i++)
    got += kedge_rate_take(rl, "busy", 4, 0, NULL) == KEDGE_RATE_OK;
  /* its first token as a quiet key (8 -> 7), then only down to the reserve of 2 */
  assert_int_equal(got, 6);
  assert_int_equal(kedge_rate_take(rl, "new1", 4, 0, NULL), KEDGE_RATE_OK);
  assert_int_equal(kedge_rate_take(rl, "new2", 4, 0, NULL), KEDGE_RATE_OK);
  assert_int_equal(kedge_rate_take(rl, "new3", 4, 0, NULL), KEDGE_RATE_GLOBAL);
  assert_int_equal(kedge_rate_take(rl, "busy", 4, 0, NULL), KEDGE_RATE_GLOBAL);
  kedge_rate_free(rl);
}

static void address_unit(void **state)
{
  uint8_t a[KEDGE_ADDR_KEY_LEN], b[KEDGE_ADDR_KEY_LEN];
  struct sockaddr_in v4 = {.sin_family = AF_INET};
  struct sockaddr_in6 x = {.sin6_family = AF_INET6}, y = x;
  inet_pton(AF_INET, "192.0.2.1", &v4.sin_addr);
  inet_pton(AF_INET6, "::ffff:192.0.2.1", &x.sin6_addr);
  assert_true(kedge_addr_key((struct sockaddr *)&v4, a));
  assert_true(kedge_addr_key((struct sockaddr *)&x, b));
  assert_memory_equal(a, b, sizeof(a)); /* IPv4-mapped is the IPv4 address */
  inet_pton(AF_INET6, "2001:db8:1:2::1", &x.sin6_addr);
  inet_pton(AF_INET6, "2001:db8:1:2:ffff::9", &y.sin6_addr);
  assert_true(kedge_addr_key((struct sockaddr *)&x, a));
  assert_true(kedge_addr_key((struct sockaddr *)&y, b));
  assert_memory_equal(a, b, sizeof(a)); /* one /64 */
  inet_pton(AF_INET6, "2001:db8:1:3::1", &y.sin6_addr);
  assert_true(kedge_addr_key((struct sockaddr *)&y, b));
  assert_memory_not_equal(a, b, sizeof(a));
  struct sockaddr un = {.sa_family = AF_UNIX};
  assert_false(kedge_addr_key(&un, a));
  assert_false(kedge_addr_key(NULL, a));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bad_configs),       cmocka_unit_test(one_key),
      cmocka_unit_test(sets_and_takeover), cmocka_unit_test(global_bucket),
      cmocka_unit_test(fair_share),        cmocka_unit_test(fair_reserve),
      cmocka_unit_test(address_unit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
