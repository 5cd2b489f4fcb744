/* kedge_log: line format (text and JSON), threshold, escaping, truncation, one line per call
 * under concurrency. stderr is redirected to a temporary file while a test logs. */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "kedge/log.h"
#include "testutil.h"

static size_t count_lines(const char *s)
{
  size_t n = 0;
  for (; *s; s++)
    if (*s == '\n')
      n++;
  return n;
}

static void assert_matches(const char *s, const char *pattern)
{
  regex_t re;
  assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
  int rc = regexec(&re, s, 0, NULL, 0);
  regfree(&re);
  if (rc != 0)
    fail_msg("\"%s\" does not match /%s/", s, pattern);
}

static void test_text_line_format(void **state)
{
  kedge_log_init("kedge-test", KEDGE_LOG_INFO, false);
  capture_start();
  kedge_log_info("hello %d", 42);
  char *out = capture_end();
  assert_matches(out, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
                      "kedge-test info: hello 42\n$");

  /* The timestamp is now, in UTC (RFC 3339). */
  struct tm tm = {0};
  int ms;
  assert_int_equal(sscanf(out, "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                          &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms),
                   7);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t logged = timegm(&tm);
  time_t now = time(NULL);
  assert_true(logged <= now && now - logged <= 5);
  free(out);
}

static void test_threshold(void **state)
{
  kedge_log_init("kedge-test", KEDGE_LOG_WARN, false);
  assert_true(kedge_log_enabled(KEDGE_LOG_ERROR));
  assert_true(kedge_log_enabled(KEDGE_LOG_WARN));
  assert_false(kedge_log_enabled(KEDGE_LOG_INFO));
  assert_false(kedge_log_enabled(KEDGE_LOG_DEBUG));
  capture_start();
  kedge_log_error("e1");
  kedge_log_warn("w1");
  kedge_log_info("i1");
  kedge_log_debug("d1");
  char *out = capture_end();
  assert_int_equal(count_lines(out), 2);
  assert_non_null(strstr(out, " error: e1\n"));
  assert_non_null(strstr(out, " warn: w1\n"));
  assert_null(strstr(out, "i1"));
  assert_null(strstr(out, "d1"));
  free(out);

  kedge_log_init("kedge-test", KEDGE_LOG_DEBUG, false);
  capture_start();
  kedge_log_debug("d2 %s", "x");
  out = capture_end();
  assert_non_null(strstr(out, " debug: d2 x\n"));
  free(out);
}

static void test_text_escapes_control_characters(void **state)
{
  kedge_log_init("kedge-test", KEDGE_LOG_INFO, false);
  capture_start();
  /* A peer-chosen string must not be able to start a forged second line. */
  kedge_log_info("%s", "a\nb\rc\td\x01"
                       "e\\f\xff"
                       "g \xc3\xa9");
  char *out = capture_end();
  assert_int_equal(count_lines(out), 1);
  assert_non_null(strstr(out, "info: a\\nb\\rc\\td\\x01e\\\\f\\xffg \xc3\xa9\n"));
  free(out);
}

static json_t *parse_line(const char *line)
{
  json_error_t err;
  json_t *j = json_loads(line, 0, &err);
  if (!j)
    fail_msg("not JSON (%s): %s", err.text, line);
  return j;
}

/* Issue 11 item 8: identifiers as members of their own, not inside msg. */
static void test_fields_json_and_text(void **state)
{
  kedge_log_init("kedge-test", KEDGE_LOG_DEBUG, true);
  capture_start();
  const kedge_log_field_t f[] = {{"kedge_id", "0.abc@5gc.mnc001.mcc001.3gppnetwork.org", false},
                                 {"status", "404", true},
                                 {"cause", NULL, false},
                                 {"peer", "nef.kedge.test", false}};
  kedge_log_fields(KEDGE_LOG_INFO, f, 4, "keyrequest: %s", "not found");
  kedge_log_subscriber(KEDGE_LOG_WARN, "imsi-001010000000001", NULL, "5G AKA failure");
  char *out = capture_end();
  assert_int_equal(count_lines(out), 2);
  char *second = strchr(out, '\n') + 1;
  second[-1] = '\0';
  json_t *j = parse_line(out);
  assert_string_equal(json_string_value(json_object_get(j, "msg")), "keyrequest: not found");
  assert_string_equal(json_string_value(json_object_get(j, "kedge_id")),
                      "0.abc@5gc.mnc001.mcc001.3gppnetwork.org");
  assert_int_equal(json_integer_value(json_object_get(j, "status")), 404);
  assert_true(json_is_integer(json_object_get(j, "status")));
  assert_null(json_object_get(j, "cause")); /* NULL value: left out */
  assert_string_equal(json_string_value(json_object_get(j, "peer")), "nef.kedge.test");
  json_decref(j);
  j = parse_line(second);
  /* SHA-256("imsi-001010000000001"), first 16 hex digits (sha256sum) */
  assert_string_equal(json_string_value(json_object_get(j, "supi_hash")), "af6a486f32823283");
  assert_null(strstr(second, "imsi-"));
  assert_null(json_object_get(j, "kedge_id"));
  json_decref(j);
  free(out);

  kedge_log_init("kedge-test", KEDGE_LOG_DEBUG, false);
  capture_start();
  kedge_log_fields(KEDGE_LOG_INFO, f, 4, "keyrequest: not found");
  out = capture_end();
  assert_non_null(strstr(out, " info: keyrequest: not found kedge_id=0.abc@5gc.mnc001.mcc001."
                              "3gppnetwork.org status=404 peer=nef.kedge.test\n"));
  free(out);
}

static void test_fields_long_values_stay_json(void **state)
{
  /* A field too long for the line: cut, marked, and still one valid JSON object. */
  static char big[3 * KEDGE_LOG_LINE_MAX];
  memset(big, 'x', sizeof(big) - 1);
  kedge_log_init("kedge-test", KEDGE_LOG_DEBUG, true);
  for (size_t cut = 0; cut < 3; cut++) {
    const kedge_log_field_t f[] = {{"peer", cut == 1 ? big : "p", false},
                                   {"route", cut == 2 ? big : "/r", false}};
    capture_start();
    kedge_log_fields(KEDGE_LOG_INFO, f, 2, "%s", cut == 0 ? big : "m");
    char *out = capture_end();
    assert_int_equal(count_lines(out), 1);
    assert_true(strlen(out) <= KEDGE_LOG_LINE_MAX);
    json_t *j = parse_line(out);
    assert_true(json_is_true(json_object_get(j, "truncated")));
    json_decref(j);
    free(out);
  }
}

static void test_journal_priority_prefix(void **state)
{
  /* JOURNAL_STREAM naming stderr: "<N>" first (sd-daemon(3)); naming something else: none. */
  capture_start();
  struct stat st;
  assert_int_equal(fstat(STDERR_FILENO, &st), 0);
  char v[64];
  snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
  setenv("JOURNAL_STREAM", v, 1);
  kedge_log_init("kedge-test", KEDGE_LOG_DEBUG, false);
  kedge_log_error("e");
  kedge_log_warn("w");
  kedge_log_info("i");
  kedge_log_debug("d");
  snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
           (unsigned long long)st.st_ino + 1);
  setenv("JOURNAL_STREAM", v, 1);
  kedge_log_init("kedge-test", KEDGE_LOG_DEBUG, false);
  kedge_log_info("plain");
  unsetenv("JOURNAL_STREAM");
  kedge_log_init("kedge-test", KEDGE_LOG_INFO, false);
  char *out = capture_end();
  const char *want[] = {"<3>", "<4>", "<6>", "<7>"};
  char *line = out;
  for (size_t i = 0; i < 4; i++) {
    assert_memory_equal(line, want[i], 3);
    line = strchr(line, '\n') + 1;
  }
  assert_true(line[0] != '<');
  assert_non_null(strstr(line, "plain"));
  free(out);
}

static void test_json_line(void **state)
{
  kedge_log_init("kedge-\"ausfd\"", KEDGE_LOG_INFO, true);
  capture_start();
  kedge_log_warn("quote \" backslash \\ nl \n ctl \x01 bad \xff\xfe ok \xc3\xa9 %d", 7);
  char *out = capture_end();
  assert_int_equal(count_lines(out), 1);
  assert_int_equal(out[strlen(out) - 1], '\n');
  json_t *j = parse_line(out);
  assert_true(json_is_object(j));
  assert_string_equal(json_string_value(json_object_get(j, "level")), "warn");
  assert_string_equal(json_string_value(json_object_get(j, "prog")), "kedge-\"ausfd\"");
  assert_string_equal(json_string_value(json_object_get(j, "msg")),
                      "quote \" backslash \\ nl \n ctl \x01 bad \xef\xbf\xbd\xef\xbf\xbd"
                      " ok \xc3\xa9 7");
  assert_matches(json_string_value(json_object_get(j, "ts")),
                 "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$");
  assert_null(json_object_get(j, "truncated"));
  assert_int_equal(json_object_size(j), 4);
  json_decref(j);
  free(out);
}

static void test_truncation_text(void **state)
{
  kedge_log_init("kedge-test", KEDGE_LOG_INFO, false);
  char *big = malloc(10000);
  assert_non_null(big);
  memset(big, 'x', 9999);
  big[9999] = '\0';
  capture_start();
  kedge_log_error("%s", big);
  kedge_log_error("after");
  char *out = capture_end();
  assert_int_equal(count_lines(out), 2);
  char *nl = strchr(out, '\n');
  size_t first_len = (size_t)(nl - out) + 1;
  assert_true(first_len <= KEDGE_LOG_LINE_MAX);
  assert_true(first_len > KEDGE_LOG_LINE_MAX - 64); /* cut near the bound, not far before */
  assert_memory_equal(nl - strlen("xx...[truncated]"), "xx...[truncated]", 16);
  assert_non_null(strstr(nl + 1, " error: after\n"));
  free(out);
  free(big);
}

static void test_truncation_json_keeps_valid_utf8(void **state)
{
  kedge_log_init("kedge-test", KEDGE_LOG_INFO, true);
  /* Two-octet characters and escapes that expand to six octets: the cut must fall between
   * whole characters and whole escapes for the line to stay valid JSON. */
  size_t n = 3000;
  char *big = malloc(n * 3 + 1);
  assert_non_null(big);
  for (size_t i = 0; i < n; i++)
    memcpy(big + 3 * i, "\xc3\xa9\x01", 3);
  big[n * 3] = '\0';
  for (int shift = 0; shift < 6; shift++) {
    capture_start();
    kedge_log_info("%.*s%s", shift, "abcdef", big);
    char *out = capture_end();
    assert_int_equal(count_lines(out), 1);
    assert_true(strlen(out) <= KEDGE_LOG_LINE_MAX);
    json_t *j = parse_line(out);
    assert_true(json_is_true(json_object_get(j, "truncated")));
    const char *msg = json_string_value(json_object_get(j, "msg"));
    assert_non_null(msg);
    size_t len = strlen(msg);
    assert_true(len > 14);
    assert_string_equal(msg + len - 14, "...[truncated]");
    json_decref(j);
    free(out);
  }
  free(big);
}

static void test_level_parse_and_name(void **state)
{
  kedge_log_level_t l;
  assert_int_equal(kedge_log_level_parse("error", &l), KEDGE_OK);
  assert_int_equal(l, KEDGE_LOG_ERROR);
  assert_int_equal(kedge_log_level_parse("warn", &l), KEDGE_OK);
  assert_int_equal(l, KEDGE_LOG_WARN);
  assert_int_equal(kedge_log_level_parse("info", &l), KEDGE_OK);
  assert_int_equal(l, KEDGE_LOG_INFO);
  assert_int_equal(kedge_log_level_parse("debug", &l), KEDGE_OK);
  assert_int_equal(l, KEDGE_LOG_DEBUG);
  assert_int_equal(kedge_log_level_parse("verbose", &l), KEDGE_ERR_CONFIG);
  assert_int_equal(kedge_log_level_parse("", &l), KEDGE_ERR_CONFIG);
  assert_int_equal(kedge_log_level_parse(NULL, &l), KEDGE_ERR_INVALID_ARG);
  assert_string_equal(kedge_log_level_name(KEDGE_LOG_WARN), "warn");
  assert_string_equal(kedge_log_level_name(KEDGE_LOG_DEBUG), "debug");
  assert_string_equal(kedge_log_level_name((kedge_log_level_t)99), "unknown");
}

static void test_errno_preserved(void **state)
{
  kedge_log_init("kedge-test", KEDGE_LOG_INFO, false);
  capture_start();
  errno = ENOENT;
  kedge_log_info("x");
  int e = errno;
  free(capture_end());
  assert_int_equal(e, ENOENT);
}

#define THREADS          4
#define LINES_PER_THREAD 300

static void *log_worker(void *arg)
{
  int id = (int)(intptr_t)arg;
  char pad[1500];
  memset(pad, 'a' + id, sizeof pad - 1);
  pad[sizeof pad - 1] = '\0';
  for (int i = 0; i < LINES_PER_THREAD; i++)
    kedge_log_info("t%d n%d %s", id, i, pad);
  return NULL;
}

static void test_concurrent_lines_stay_whole(void **state)
{
  kedge_log_init("kedge-test", KEDGE_LOG_INFO, true);
  capture_start();
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    assert_int_equal(pthread_create(&t[i], NULL, log_worker, (void *)(intptr_t)i), 0);
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  char *out = capture_end();
  assert_int_equal(count_lines(out), THREADS * LINES_PER_THREAD);
  int seen[THREADS] = {0};
  char *save = NULL;
  for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    json_t *j = parse_line(line);
    int id, n;
    const char *msg = json_string_value(json_object_get(j, "msg"));
    assert_non_null(msg);
    assert_int_equal(sscanf(msg, "t%d n%d", &id, &n), 2);
    assert_true(id >= 0 && id < THREADS);
    assert_int_equal(n, seen[id]); /* each thread's lines arrive whole and in order */
    seen[id]++;
    const char *pad = strchr(strchr(msg, ' ') + 1, ' ') + 1;
    assert_int_equal(strlen(pad), 1499);
    assert_int_equal(strspn(pad, (char[]){(char)('a' + id), 0}), 1499);
    json_decref(j);
  }
  for (int i = 0; i < THREADS; i++)
    assert_int_equal(seen[i], LINES_PER_THREAD);
  free(out);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_text_line_format),
      cmocka_unit_test(test_threshold),
      cmocka_unit_test(test_text_escapes_control_characters),
      cmocka_unit_test(test_json_line),
      cmocka_unit_test(test_truncation_text),
      cmocka_unit_test(test_truncation_json_keeps_valid_utf8),
      cmocka_unit_test(test_level_parse_and_name),
      cmocka_unit_test(test_fields_json_and_text),
      cmocka_unit_test(test_fields_long_values_stay_json),
      cmocka_unit_test(test_journal_priority_prefix),
      cmocka_unit_test(test_errno_preserved),
      cmocka_unit_test(test_concurrent_lines_stay_whole),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
