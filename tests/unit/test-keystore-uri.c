/* The key store URI (lib/store/keystore.c), its redis:// form now read with libcurl's URL API
 * (CURLU) instead of a hand parser: every form the hand parser accepted, with the parts it
 * found, and every line it gave for a bad one, pinned (these are the old parser's lines, byte
 * for byte), including where CURLU normalises what kedge refuses (a trailing "/", a
 * percent-encoded host, an empty host before a number, an IPv6 zone). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../lib/store/store.h"
#include "kedge/keystore.h"

static void accepted_forms(void **state)
{
  (void)state;
  static const struct {
    const char *uri, *host;
    int port, db;
  } good[] = {
      {"redis://127.0.0.1:6379", "127.0.0.1", 6379, 0},
      {"redis://redis.example:6380/3", "redis.example", 6380, 3},
      {"redis://[::1]:6379/0", "::1", 6379, 0},
      {"redis://[::1]:6379", "::1", 6379, 0},
      {"redis://HOST_1:1/2147483647", "HOST_1", 1, 2147483647},
      {"redis://host:06379", "host", 6379, 0},
      {"redis://host:65535/01", "host", 65535, 1},
  };
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    ks_uri_t u;
    char why[256] = "";
    if (ks_parse_uri(good[i].uri, &u, why, sizeof(why)) != KEDGE_OK)
      fail_msg("%s refused: %s", good[i].uri, why);
    assert_ptr_equal(u.be, &ks_redis_backend);
    assert_string_equal(u.host, good[i].host);
    assert_int_equal(u.port, good[i].port);
    assert_int_equal(u.db, good[i].db);
  }
}

static void error_lines(void **state)
{
  (void)state;
#define FORM "redis://HOST:PORT[/DB]"
  static const struct {
    const char *uri, *problem;
  } bad[] = {
      {"redis://host", "needs a port: " FORM},
      {"redis://host:", "needs a port: " FORM},
      {"redis://h/1", "needs a port: " FORM},
      {"redis://host:abc", "needs a port: " FORM},
      {"redis://host:+1", "needs a port: " FORM},
      {"redis://:6379", "needs a host: " FORM},
      {"redis:///1", "needs a host: " FORM}, /* CURLU: host 0.0.0.1 */
      {"redis://::1:6379", "needs a host: " FORM},
      {"redis://host:0", "the port must be a number from 1 to 65535"},
      {"redis://host:65536", "the port must be a number from 1 to 65535"},
      {"redis://host:6379x", "the port must be a number from 1 to 65535"},
      {"redis://host:6379:1", "the port must be a number from 1 to 65535"},
      {"redis://host:6379?x=1", "the port must be a number from 1 to 65535"},
      {"redis://host:6379#f", "the port must be a number from 1 to 65535"},
      {"redis://host:6379/", "after the port, only /DB with a database number"}, /* CURLU: "/" */
      {"redis://host:6379/x", "after the port, only /DB with a database number"},
      {"redis://host:6379/1/2", "after the port, only /DB with a database number"},
      {"redis://host:6379/-1", "after the port, only /DB with a database number"},
      {"redis://host:6379/99999999999", "after the port, only /DB with a database number"},
      {"redis://h:6379/ 1", "after the port, only /DB with a database number"},
      {"redis://[::1", "an IPv6 host goes in brackets: redis://[ADDR]:PORT"},
      {"redis://[::1]", "an IPv6 host goes in brackets: redis://[ADDR]:PORT"},
      {"redis://[::1]6379", "an IPv6 host goes in brackets: redis://[ADDR]:PORT"},
      {"redis://ho$t:6379", "the host has a character outside [A-Za-z0-9.-]"},
      {"redis://a b:1", "the host has a character outside [A-Za-z0-9.-]"},
      {"redis://x%41:1", "the host has a character outside [A-Za-z0-9.-]"}, /* CURLU: "xA" */
      {"redis://[fe80::1%25eth0]:6379", "the host has a character outside [A-Za-z0-9.-]"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char why[300] = "", want[300];
    snprintf(want, sizeof(want), "key store \"%s\": %s", bad[i].uri, bad[i].problem);
    assert_int_equal(kedge_keystore_uri_check(bad[i].uri, why, sizeof(why)), KEDGE_ERR_CONFIG);
    assert_string_equal(why, want);
  }
  /* credentials: refused without echoing the URI */
  char why[300] = "";
  assert_int_equal(kedge_keystore_uri_check("redis://user:s3cret@host:6379", why, sizeof(why)),
                   KEDGE_ERR_CONFIG);
  assert_string_equal(why, "key store redis://...: no credentials in the URI: give the Redis "
                           "user and password as options");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(accepted_forms),
      cmocka_unit_test(error_lines),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
