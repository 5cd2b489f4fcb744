/* lib/core str.c and kedge/str.h: kedge_str_copy against snprintf(dst, size, "%s", src), which it
 * replaces on the AKA path: the same octets written (cut short at size - 1, NUL-terminated, nothing
 * past the NUL touched) and the same length returned, for every size around the string's length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kedge/str.h"

static void same_as_snprintf(void **state)
{
  (void)state;
  const char *srcs[] = {"", "a", "imsi-001010000000001", "https://127.0.0.1:8443/nudm-ueau/v1"};
  for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
    size_t len = strlen(srcs[i]);
    for (size_t size = 1; size <= len + 3; size++) {
      char a[64], b[64];
      memset(a, '#', sizeof(a));
      memset(b, '#', sizeof(b));
      size_t got = kedge_str_copy(a, size, srcs[i]);
      int want = snprintf(b, size, "%s", srcs[i]);
      assert_int_equal(got, (size_t)want);
      if (memcmp(a, b, sizeof(a)) != 0)
        fail_msg("\"%s\" into %zu octets: not what snprintf wrote", srcs[i], size);
      assert_int_equal(a[size < len + 1 ? size - 1 : len], '\0');
      assert_int_equal(a[size], '#'); /* nothing written past the destination */
    }
  }
}

/* size 0, as snprintf(dst, 0, ...) and strlcpy take it: nothing written, the length returned
 * (without the check, size - 1 wraps and the whole string is copied past dst). */
static void copy_into_nothing(void **state)
{
  (void)state;
  char dst[4] = {'#', '#', '#', '#'};
  assert_int_equal(kedge_str_copy(dst, 0, "imsi-001010000000001"), 20);
  assert_int_equal(snprintf(dst, 0, "%s", "imsi-001010000000001"), 20);
  for (size_t i = 0; i < sizeof(dst); i++)
    assert_int_equal(dst[i], '#');
}

/* kedge_str_put: a text written piece by piece is what snprintf writes while it fits; one octet
 * short (the NUL has no room) and the pointer is NULL, stays NULL, and nothing is written past
 * the end. */
static void put_until_full(void **state)
{
  (void)state;
  const char *want = "https://127.0.0.1:8443/nudm-ueau/v1/imsi-001010000000001/auth-events";
  size_t len = strlen(want);
  for (size_t size = 1; size <= len + 2; size++) {
    char buf[128];
    memset(buf, '#', sizeof(buf));
    char *p = buf;
    const char *end = buf + size;
    KEDGE_PUT_LIT(&p, end, "https://127.0.0.1:8443");
    KEDGE_PUT_STR(&p, end, "/nudm-ueau/v1/");
    kedge_str_put(&p, end, "imsi-001010000000001xyz", 20);
    KEDGE_PUT_LIT(&p, end, "/auth-events");
    if (size > len) {
      assert_non_null(p);
      assert_int_equal(p - buf, len);
      assert_string_equal(buf, want);
    } else {
      assert_null(p);
    }
    assert_int_equal(buf[size], '#'); /* nothing past the end */
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(same_as_snprintf),
                                     cmocka_unit_test(copy_into_nothing),
                                     cmocka_unit_test(put_until_full)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
