/* lib/core time.c and http.c: the one RFC 3339 codec and the one Retry-After parser, with the
 * cases where the copies they replaced disagreed pinned (lower-case "t"/"z", which RFC 3339 5.6's
 * note allows and the NEF's copy refused; a 5- to 9-digit Retry-After, which the NEF's copy
 * refused and the ECS's accepted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "kedge/http.h"
#include "kedge/time.h"

static void rfc3339_parse_good(void **state)
{
  (void)state;
  int64_t ms;
  assert_int_equal(kedge_rfc3339_parse("1970-01-01T00:00:00Z", &ms), KEDGE_OK);
  assert_int_equal(ms, 0);
  assert_int_equal(kedge_rfc3339_parse("2026-11-27T20:58:04.123Z", &ms), KEDGE_OK);
  assert_int_equal(ms, 1795813084123LL); /* date -u -d 2026-11-27T20:58:04Z +%s = 1795813084 */
  assert_int_equal(kedge_rfc3339_parse("2026-11-27T21:58:04.1+01:00", &ms), KEDGE_OK);
  assert_int_equal(ms, 1795813084100LL);
  assert_int_equal(kedge_rfc3339_parse("2026-11-27T19:58:04.123456789-01:00", &ms), KEDGE_OK);
  assert_int_equal(ms, 1795813084123LL); /* fractions below a millisecond dropped */
  /* RFC 3339 5.6 NOTE: "T" and "Z" may alternatively be lower case */
  assert_int_equal(kedge_rfc3339_parse("2026-11-27t20:58:04z", &ms), KEDGE_OK);
  assert_int_equal(ms, 1795813084000LL);
  assert_int_equal(kedge_rfc3339_parse("2024-02-29T00:00:00Z", &ms), KEDGE_OK); /* leap day */
  /* a leap second is accepted and counted as :59 (timegm has no 60th second) */
  assert_int_equal(kedge_rfc3339_parse("2016-12-31T23:59:60Z", &ms), KEDGE_OK);
  assert_int_equal(ms, 1483228799000LL);
}

static void rfc3339_parse_bad(void **state)
{
  (void)state;
  int64_t ms = 42;
  const char *bad[] = {"2026-11-27 20:58:04Z",
                       "2026-11-27T20:58:04",
                       "2026-02-30T00:00:00Z",
                       "2025-02-29T00:00:00Z",
                       "2026-11-27T20:58:04.Z",
                       "2026-13-01T00:00:00Z",
                       "2026-11-27T20:58:04Zx",
                       "",
                       "2026-11-27T20:58:04+0100",
                       "2026-11-27T24:00:00Z",
                       "2026-11-27T20:60:00Z",
                       "2026-11-27T20:58:04+24:00",
                       "+2026-11-27T20:58:04Z",
                       "2026-11-27T20:58:04.1234567890123456789012345678901234567890123Z"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (kedge_rfc3339_parse(bad[i], &ms) == KEDGE_OK)
      fail_msg("accepted '%s'", bad[i]);
  assert_int_equal(ms, 42); /* untouched */
  assert_int_equal(kedge_rfc3339_parse(NULL, &ms), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_rfc3339_parse("1970-01-01T00:00:00Z", NULL), KEDGE_ERR_INVALID_ARG);
}

static void rfc3339_format(void **state)
{
  (void)state;
  char out[KEDGE_RFC3339_LEN + 1];
  kedge_rfc3339_format(1795813084123LL, out);
  assert_string_equal(out, "2026-11-27T20:58:04Z");
  kedge_rfc3339_format(0, out);
  assert_string_equal(out, "1970-01-01T00:00:00Z");
  kedge_rfc3339_format(-1, out); /* rounded down, not toward zero */
  assert_string_equal(out, "1969-12-31T23:59:59Z");
  int64_t back;
  kedge_rfc3339_format(1795813084999LL, out);
  assert_int_equal(kedge_rfc3339_parse(out, &back), KEDGE_OK);
  assert_int_equal(back, 1795813084000LL);
}

/* The written-out formatter against gmtime_r + strftime (what it replaced), over every day
 * of the years 1000 to 9999 at a varying time of day, and at the edges: leap days of 1600,
 * 2000, 2400 and none in 1900 or 2100, the last second of 9999, the years %Y would not write
 * in four digits. */
static void expect_like_strftime(int64_t ms)
{
  char want[64], got[KEDGE_RFC3339_LEN + 1];
  struct tm tm;
  bool in_range = ms >= -62135596800000LL && ms <= 253402300799999LL; /* years 1 to 9999 */
  time_t t = in_range ? (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000) : 0;
  if (!in_range || !gmtime_r(&t, &tm) ||
      strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm) != KEDGE_RFC3339_LEN)
    strcpy(want, "1970-01-01T00:00:00Z");
  kedge_rfc3339_format(ms, got);
  if (strcmp(want, got) != 0)
    print_error("%lld: %s, not %s\n", (long long)ms, got, want);
  assert_string_equal(got, want);
}

static void rfc3339_format_like_strftime(void **state)
{
  (void)state;
  const int64_t day = 86400000LL, y1000 = -30610224000000LL, y10000 = 253402300800000LL;
  int64_t i = 0;
  for (int64_t ms = y1000 - 3 * day; ms < y10000 + 3 * day; ms += day, i++)
    expect_like_strftime(ms + (i * 7919007) % day); /* a time of day that moves */
  const int64_t edges[] = {
      y1000 - 1,
      y1000,
      y10000 - 1,
      y10000,
      951782400000LL,
      951868799999LL,
      -2203977600000LL,
      4107456000000LL,
      -11670912000000LL,
      13574563200000LL,
      0,
      -1,
      -999,
      -1000,
      -1001,
      INT64_MAX,
      INT64_MIN,
      INT64_MIN + 999,
      -62135596800001LL,
  };
  for (size_t k = 0; k < sizeof(edges) / sizeof(edges[0]); k++)
    expect_like_strftime(edges[k]);
}

static void clocks(void **state)
{
  (void)state;
  int64_t a = kedge_now_ms(), b = kedge_now_ms();
  assert_true(b >= a);
  assert_true(kedge_wall_ms() > 1700000000000LL); /* after 2023-11: a real wall clock */
  /* the microsecond clocks are the same clocks: within a second of the millisecond ones */
  int64_t us = kedge_now_us(), ms = kedge_now_ms();
  assert_true(us / 1000 <= ms && ms - us / 1000 < 1000);
  int64_t wus = kedge_wall_us(), wms = kedge_wall_ms();
  assert_true(wus / 1000 <= wms && wms - wus / 1000 < 1000);
}

static void retry_after(void **state)
{
  (void)state;
  unsigned s = 7;
  assert_int_equal(kedge_http_retry_after_parse("120", 3600, &s), KEDGE_OK);
  assert_int_equal(s, 120);
  assert_int_equal(kedge_http_retry_after_parse("0", 3600, &s), KEDGE_OK);
  assert_int_equal(s, 0);
  assert_int_equal(kedge_http_retry_after_parse("99999", 3600, &s), KEDGE_OK);      /* 5 digits */
  assert_int_equal(s, 3600);                                                        /* capped */
  assert_int_equal(kedge_http_retry_after_parse("999999999", 86400, &s), KEDGE_OK); /* 9 */
  assert_int_equal(s, 86400);
  s = 7;
  const char *bad[] = {
      "", "1234567890", "-1", "+1", " 1", "1 ", "1.5", "0x10", "Wed, 21 Oct 2015 07:28:00 GMT"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (kedge_http_retry_after_parse(bad[i], 3600, &s) == KEDGE_OK)
      fail_msg("accepted '%s'", bad[i]);
  assert_int_equal(s, 7);
  assert_int_equal(kedge_http_retry_after_parse(NULL, 3600, &s), KEDGE_ERR_INVALID_ARG);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rfc3339_parse_good), cmocka_unit_test(rfc3339_parse_bad),
      cmocka_unit_test(rfc3339_format),     cmocka_unit_test(clocks),
      cmocka_unit_test(retry_after),        cmocka_unit_test(rfc3339_format_like_strftime),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
