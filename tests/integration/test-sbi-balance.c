/* The SBI server spreads connections over its workers (lib/sbi/server.c, accept_cb): SBI
 * peers keep a few long-lived HTTP/2 connections (TS 29.500 5.2.2), so with 2 workers, 2 and
 * then 4 connections opened one after another must land 1/1 and 2/2, whichever worker's loop
 * wakes first for each accept. Each connection is its own SBI client (its own libcurl
 * connection cache) whose request the server answers with the index of the worker serving it;
 * a client kept open keeps its connection open. Eight rounds: a lucky wake-up order cannot
 * pass them all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "kedge/log.h"
#include "kedge/metrics.h"
#include "kedge/pki.h"
#include "kedge/sbi_client.h"
#include "kedge/sbi_server.h"

#define N_WORKERS 2
#define N_CONNS   4

static char dir[64], pki[96];
static kedge_sbi_server_t *srv;
static pthread_t srv_thread;
static int port;
static struct event_base *base;

/* answers the index of the worker that serves this request's connection */
static void which_worker(kedge_sbi_request_t *req, void *arg)
{
  (void)arg;
  json_t *rsp =
      json_pack("{s:i}", "worker", (int)kedge_sbi_worker_index(kedge_sbi_request_worker(req)));
  kedge_sbi_respond_json(req, 200, NULL, rsp);
  json_decref(rsp);
}

static void *run_server(void *arg)
{
  (void)arg;
  kedge_sbi_server_run(srv);
  return NULL;
}

static int setup(void **state)
{
  (void)state;
  kedge_log_init("test-sbi-balance", KEDGE_LOG_ERROR, false);
  strcpy(dir, "/tmp/kedge-test-balance-XXXXXX");
  if (!mkdtemp(dir))
    return -1;
  snprintf(pki, sizeof(pki), "%s/pki", dir);
  if (kedge_pki_init(pki) != KEDGE_OK)
    return -1;
  char cert[128], key[128], ca[128];
  snprintf(cert, sizeof(cert), "%s/udm.crt", pki);
  snprintf(key, sizeof(key), "%s/udm.key", pki);
  snprintf(ca, sizeof(ca), "%s/ca.crt", pki);
  kedge_sbi_server_config_t cfg;
  kedge_sbi_server_config_defaults(&cfg);
  cfg.name = "balance";
  cfg.cert_file = cert;
  cfg.key_file = key;
  cfg.ca_file = ca;
  cfg.workers = N_WORKERS;
  cfg.metrics_enabled = false;
  if (kedge_sbi_server_new(&cfg, &srv) ||
      kedge_sbi_server_route(srv, "GET", "/nudm-ueau/v1/worker", NULL, which_worker, NULL) ||
      kedge_sbi_server_start(srv))
    return -1;
  port = kedge_sbi_server_port(srv);
  base = event_base_new();
  return base && pthread_create(&srv_thread, NULL, run_server, NULL) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
  (void)state;
  kedge_sbi_server_stop(srv);
  pthread_join(srv_thread, NULL);
  kedge_sbi_server_free(srv);
  event_base_free(base);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  return system(cmd);
}

static kedge_sbi_client_t *new_client(void)
{
  char ca[128], cert[128], key[128];
  snprintf(ca, sizeof(ca), "%s/ca.crt", pki);
  snprintf(cert, sizeof(cert), "%s/ausf.crt", pki);
  snprintf(key, sizeof(key), "%s/ausf.key", pki);
  kedge_sbi_client_options_t o;
  kedge_sbi_client_options_init(&o);
  o.ca_file = ca;
  o.cert_file = cert;
  o.key_file = key;
  o.max_retries = 0;
  kedge_sbi_client_t *c = NULL;
  assert_int_equal(kedge_sbi_client_new(base, &o, &c), KEDGE_OK);
  return c;
}

typedef struct result {
  kedge_err_t err;
  long status;
  int worker;
} result_t;

static void on_result(const kedge_sbi_client_response_t *r, void *arg)
{
  result_t *res = arg;
  res->err = r->err;
  res->status = r->status;
  json_t *w = json_object_get(r->json, "worker");
  res->worker = json_is_integer(w) ? (int)json_integer_value(w) : -1;
  event_base_loopbreak(base);
}

/* One request on `c` (its connection opens now if it has none); the serving worker's index. */
static int ask_worker(kedge_sbi_client_t *c)
{
  char u[128];
  snprintf(u, sizeof(u), "https://127.0.0.1:%d/nudm-ueau/v1/worker", port);
  result_t res = {.err = KEDGE_ERR_IO, .worker = -1};
  kedge_sbi_client_request_t req = {.method = "GET", .url = u};
  assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &res, NULL), KEDGE_OK);
  struct timeval tv = {.tv_sec = 10};
  event_base_loopexit(base, &tv);
  event_base_dispatch(base);
  assert_int_equal(res.err, KEDGE_OK);
  assert_int_equal(res.status, 200);
  assert_in_range(res.worker, 0, N_WORKERS - 1);
  return res.worker;
}

static void test_spread_one_after_another(void **state)
{
  (void)state;
  for (int round = 0; round < 8; round++) {
    kedge_sbi_client_t *c[N_CONNS];
    int on[N_WORKERS] = {0}, first[N_CONNS];
    for (int i = 0; i < N_CONNS; i++) {
      c[i] = new_client();
      first[i] = ask_worker(c[i]);
      on[first[i]]++;
      if (i == 1) /* 2 open: one each */
        assert_int_equal(on[0], on[1]);
    }
    assert_int_equal(on[0], N_CONNS / N_WORKERS); /* 4 open: two each */
    assert_int_equal(on[1], N_CONNS / N_WORKERS);
    /* a connection stays on its worker: the next request comes back from the same one */
    for (int i = 0; i < N_CONNS; i++)
      assert_int_equal(ask_worker(c[i]), first[i]);
    for (int i = 0; i < N_CONNS; i++)
      kedge_sbi_client_free(c[i]);
    /* the server has seen the closes before the next round counts again */
    char *text = NULL;
    size_t len;
    for (int wait = 0; wait < 100; wait++) {
      free(text);
      assert_int_equal(kedge_metrics_render(kedge_sbi_server_metrics(srv), &text, &len), KEDGE_OK);
      if (strstr(text, "\nkedge_sbi_connections_open 0\n"))
        break;
      usleep(50 * 1000);
    }
    assert_non_null(strstr(text, "\nkedge_sbi_connections_open 0\n"));
    free(text);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_spread_one_after_another),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
