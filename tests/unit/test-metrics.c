/* Metrics registry: counters, gauges, histograms, label escaping, the text format, and
 * concurrent updates from several threads. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kedge/metrics.h"

static void test_render(void **state)
{
  kedge_metrics_t *m;
  assert_int_equal(kedge_metrics_new(&m), KEDGE_OK);
  kedge_counter_t *c1, *c2, *again;
  kedge_gauge_t *g;
  kedge_histogram_t *h;
  assert_int_equal(kedge_metrics_counter(m, "req_total", "Requests", "route=\"/a\"", &c1),
                   KEDGE_OK);
  assert_int_equal(kedge_metrics_counter(m, "req_total", "Requests", "route=\"/b\"", &c2),
                   KEDGE_OK);
  assert_int_equal(kedge_metrics_counter(m, "req_total", "Requests", "route=\"/a\"", &again),
                   KEDGE_OK);
  assert_ptr_equal(c1, again);
  assert_int_equal(kedge_metrics_gauge(m, "open", "Open", NULL, &g), KEDGE_OK);
  const double bounds[] = {0.1, 1};
  assert_int_equal(kedge_metrics_histogram(m, "lat_seconds", "Latency", "", bounds, 2, &h),
                   KEDGE_OK);
  /* One name, one type. */
  assert_int_equal(kedge_metrics_gauge(m, "req_total", "x", NULL, &g), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_metrics_gauge(m, "open", "Open", NULL, &g), KEDGE_OK);
  assert_int_equal(kedge_metrics_counter(m, "9bad", "x", NULL, &c1), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_metrics_counter(m, "bad-name", "x", NULL, &c1), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_metrics_counter(m, "req_total", "Requests", "route=\"/a\"", &c1),
                   KEDGE_OK);

  kedge_counter_add(c1, 3);
  kedge_counter_add(c2, 1);
  kedge_gauge_add(g, 5);
  kedge_gauge_add(g, -7);
  kedge_histogram_observe(h, 0.05);
  kedge_histogram_observe(h, 0.5);
  kedge_histogram_observe(h, 0.5);
  kedge_histogram_observe(h, 10);
  assert_int_equal(kedge_histogram_count(h), 4);

  char *text;
  size_t len;
  assert_int_equal(kedge_metrics_render(m, &text, &len), KEDGE_OK);
  assert_int_equal(strlen(text), len);
  const char *want = "# HELP req_total Requests\n"
                     "# TYPE req_total counter\n"
                     "req_total{route=\"/a\"} 3\n"
                     "req_total{route=\"/b\"} 1\n"
                     "# HELP open Open\n"
                     "# TYPE open gauge\n"
                     "open -2\n"
                     "# HELP lat_seconds Latency\n"
                     "# TYPE lat_seconds histogram\n"
                     "lat_seconds_bucket{le=\"0.1\"} 1\n"
                     "lat_seconds_bucket{le=\"1\"} 3\n"
                     "lat_seconds_bucket{le=\"+Inf\"} 4\n"
                     "lat_seconds_sum 11.05\n"
                     "lat_seconds_count 4\n";
  assert_string_equal(text, want);
  free(text);
  kedge_metrics_free(m);
}

static void test_label_escaping(void **state)
{
  char buf[64] = "";
  assert_int_equal(kedge_metrics_label(buf, sizeof(buf), "route", "/a/{x}"), KEDGE_OK);
  assert_int_equal(kedge_metrics_label(buf, sizeof(buf), "v", "q\"b\\s\nn"), KEDGE_OK);
  assert_string_equal(buf, "route=\"/a/{x}\",v=\"q\\\"b\\\\s\\nn\"");
  char small[12] = "";
  assert_int_equal(kedge_metrics_label(small, sizeof(small), "k", "0123456789"), KEDGE_ERR_TOO_BIG);
  assert_string_equal(small, ""); /* untouched on failure */
  assert_int_equal(kedge_metrics_label(small, sizeof(small), "bad key", "v"),
                   KEDGE_ERR_INVALID_ARG);
}

static kedge_counter_t *shared_counter;
static kedge_histogram_t *shared_hist;

static void *hammer(void *arg)
{
  for (int i = 0; i < 100000; i++) {
    kedge_counter_add(shared_counter, 1);
    kedge_histogram_observe(shared_hist, 0.001);
  }
  return NULL;
}

static void test_threads(void **state)
{
  kedge_metrics_t *m;
  assert_int_equal(kedge_metrics_new(&m), KEDGE_OK);
  const double bounds[] = {0.01};
  assert_int_equal(kedge_metrics_counter(m, "c_total", "", NULL, &shared_counter), KEDGE_OK);
  assert_int_equal(kedge_metrics_histogram(m, "h", "", NULL, bounds, 1, &shared_hist), KEDGE_OK);
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  assert_int_equal(kedge_counter_value(shared_counter), 400000);
  assert_int_equal(kedge_histogram_count(shared_hist), 400000);
  kedge_metrics_free(m);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_render),
      cmocka_unit_test(test_label_escaping),
      cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
