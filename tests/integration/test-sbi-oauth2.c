/* The SBI client's OAuth2 token cache (lib/sbi/access_token.c, TS 29.510 5.4.2.2, TS 33.501
 * 13.4.1.1) against a kedge SBI server in this process playing the NRF's token endpoint and a
 * producer that checks the bearer token it expects:
 * - one token per (target NF type, scope): reused by later requests, a second scope gets its
 *   own; the AccessTokenReq form names grant_type, nfInstanceId, nfType, targetNfType, scope;
 * - requests sent while the fetch runs wait for it: one fetch for all;
 * - a token past expires_in minus the margin is fetched again;
 * - a producer's 401 drops the token and the call goes once more (exactly once);
 * - a token endpoint that refuses makes the call fail with KEDGE_ERR_UNAVAILABLE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "kedge/log.h"
#include "kedge/pki.h"
#include "kedge/sbi_client.h"
#include "kedge/sbi_server.h"

static char dir[64], pki[96];
static kedge_sbi_server_t *srv;
static pthread_t srv_thread;
static int port;
static struct event_base *base;

/* the peer's state (its handlers run on the server's worker thread) */
static atomic_int fetches;      /* tokens issued: tok-1, tok-2... */
static atomic_int min_accepted; /* the producer accepts tok-N for N >= this */
static atomic_int refusals;     /* 401s the producer sent */
static atomic_bool token_fails; /* the token endpoint answers 400 */
static atomic_int expires_in = 300;
static atomic_int bad_answer; /* > 0: the token endpoint answers 200 with bad_answers[n - 1] */
/* 200 answers that are no AccessTokenRsp (TS 29.510 6.3.5.2.3, RFC 6749 5.1, RFC 6750 2.1) */
static const char *const bad_answers[] = {
    "not json",
    "[]",
    "{\"token_type\":\"Bearer\",\"expires_in\":300}",
    "{\"access_token\":7,\"token_type\":\"Bearer\",\"expires_in\":300}",
    "{\"access_token\":\"tok-1\",\"token_type\":\"MAC\",\"expires_in\":300}",
    "{\"access_token\":\"tok-1\",\"token_type\":\"Bearer\",\"expires_in\":0}",
    "{\"access_token\":\"tok-1\",\"token_type\":\"Bearer\",\"expires_in\":-5}",
    "{\"access_token\":\"tok-1\",\"token_type\":\"Bearer\",\"expires_in\":\"300\"}",
    "{\"access_token\":\"tok-1\",\"token_type\":\"Bearer\",\"expires_in\":9223372036854775807}",
    "{\"access_token\":\"tok-1\\r\\nX-Injected: 1\",\"token_type\":\"Bearer\",\"expires_in\":300}",
    "{\"access_token\":\"tok 1\",\"token_type\":\"Bearer\",\"expires_in\":300}",
    "{\"access_token\":\"\",\"token_type\":\"Bearer\",\"expires_in\":300}",
};
static pthread_mutex_t form_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_form[1024];

static void token(kedge_sbi_request_t *req, void *arg)
{
  (void)arg;
  size_t len = 0;
  const uint8_t *body = kedge_sbi_request_body(req, &len);
  pthread_mutex_lock(&form_lock);
  snprintf(last_form, sizeof(last_form), "%.*s", (int)len, body ? (const char *)body : "");
  pthread_mutex_unlock(&form_lock);
  int bad = atomic_load(&bad_answer);
  if (bad > 0) {
    const char *b = bad_answers[bad - 1];
    kedge_sbi_respond(req, 200, "application/json", (const uint8_t *)b, strlen(b));
    return;
  }
  if (atomic_load(&token_fails)) {
    json_t *e = json_pack("{s:s}", "error", "invalid_client");
    kedge_sbi_respond_json(req, 400, NULL, e);
    json_decref(e);
    return;
  }
  char tok[32];
  snprintf(tok, sizeof(tok), "tok-%d", atomic_fetch_add(&fetches, 1) + 1);
  json_t *rsp = json_pack("{s:s, s:s, s:i}", "access_token", tok, "token_type", "Bearer",
                          "expires_in", atomic_load(&expires_in));
  kedge_sbi_respond_json(req, 200, NULL, rsp);
  json_decref(rsp);
}

static void producer(kedge_sbi_request_t *req, void *arg)
{
  (void)arg;
  const char *auth = kedge_sbi_request_header(req, "authorization");
  int n = 0;
  if (!auth || sscanf(auth, "Bearer tok-%d", &n) != 1 || n < atomic_load(&min_accepted)) {
    atomic_fetch_add(&refusals, 1);
    kedge_sbi_response_header(req, "www-authenticate", "Bearer error=\"invalid_token\"");
    kedge_sbi_respond_problem(req, 401, "INVALID_TOKEN", NULL);
    return;
  }
  json_t *ok = json_pack("{s:i}", "token", n);
  kedge_sbi_respond_json(req, 200, NULL, ok);
  json_decref(ok);
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
  kedge_log_init("test-sbi-oauth2", KEDGE_LOG_ERROR, false);
  strcpy(dir, "/tmp/kedge-test-oauth2-XXXXXX");
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
  cfg.name = "nrf-and-udm";
  cfg.cert_file = cert;
  cfg.key_file = key;
  cfg.ca_file = ca;
  cfg.metrics_enabled = false;
  if (kedge_sbi_server_new(&cfg, &srv) ||
      kedge_sbi_server_route(srv, "POST", "/oauth2/token", "application/x-www-form-urlencoded",
                             token, NULL) ||
      kedge_sbi_server_route(srv, "GET", "/nudm-ueau/v1/x", NULL, producer, NULL) ||
      kedge_sbi_server_route(srv, "POST", "/nudm-ueau/v1/x", NULL, producer, NULL) ||
      kedge_sbi_server_route(srv, "GET", "/nausf-auth/v1/y", NULL, producer, NULL) ||
      kedge_sbi_server_start(srv))
    return -1;
  port = kedge_sbi_server_port(srv);
  char uri[96];
  snprintf(uri, sizeof(uri), "https://127.0.0.1:%d/oauth2/token", port);
  /* a margin of 400 ms: a token of 1 s is used for 0.5 s (at most half its life) */
  if (kedge_sbi_client_set_oauth2(uri, "AUSF", "0a9e3a2c-4f7c-4f0e-9d1d-8a2c9f1e6b01", 400))
    return -1;
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
  kedge_sbi_client_set_oauth2(NULL, NULL, NULL, 0);
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
  int token;    /* the producer's echo of the token number */
  int *pending; /* the loop stops when it reaches 0 */
} result_t;

static void on_result(const kedge_sbi_client_response_t *r, void *arg)
{
  result_t *res = arg;
  res->err = r->err;
  res->status = r->status;
  res->token = (int)json_integer_value(json_object_get(r->json, "token"));
  if (--*res->pending == 0)
    event_base_loopbreak(base);
}

/* Sends `n` requests at once and runs the loop until all have answered (or 10 s). */
static void send_n(kedge_sbi_client_t *c, const char *method, const char *path, result_t *res,
                   int n)
{
  char u[128];
  snprintf(u, sizeof(u), "https://127.0.0.1:%d%s", port, path);
  json_t *body = json_object();
  int pending = n;
  for (int i = 0; i < n; i++) {
    res[i] = (result_t){.err = KEDGE_ERR_IO, .pending = &pending};
    kedge_sbi_client_request_t req = {
        .method = method, .url = u, .body = strcmp(method, "POST") == 0 ? body : NULL};
    assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &res[i], NULL), KEDGE_OK);
  }
  json_decref(body);
  struct timeval tv = {.tv_sec = 10};
  event_base_loopexit(base, &tv);
  event_base_dispatch(base);
  assert_int_equal(pending, 0);
}

static void test_cached_per_scope(void **state)
{
  (void)state;
  kedge_sbi_client_t *c = new_client();
  int before = atomic_load(&fetches);
  result_t r;
  send_n(c, "GET", "/nudm-ueau/v1/x", &r, 1);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(r.status, 200);
  assert_int_equal(atomic_load(&fetches), before + 1);
  pthread_mutex_lock(&form_lock);
  /* TS 29.510 6.3.5.2.1 AccessTokenReq as a form */
  assert_non_null(strstr(last_form, "grant_type=client_credentials"));
  assert_non_null(strstr(last_form, "nfInstanceId=0a9e3a2c-4f7c-4f0e-9d1d-8a2c9f1e6b01"));
  assert_non_null(strstr(last_form, "nfType=AUSF"));
  assert_non_null(strstr(last_form, "targetNfType=UDM"));
  assert_non_null(strstr(last_form, "scope=nudm-ueau"));
  pthread_mutex_unlock(&form_lock);
  int first = r.token;
  send_n(c, "POST", "/nudm-ueau/v1/x", &r, 1); /* another method, same service */
  assert_int_equal(r.status, 200);
  assert_int_equal(r.token, first);
  assert_int_equal(atomic_load(&fetches), before + 1);
  send_n(c, "GET", "/nausf-auth/v1/y", &r, 1); /* another service: its own token */
  assert_int_equal(r.status, 200);
  assert_int_not_equal(r.token, first);
  assert_int_equal(atomic_load(&fetches), before + 2);
  pthread_mutex_lock(&form_lock);
  assert_non_null(strstr(last_form, "targetNfType=AUSF"));
  assert_non_null(strstr(last_form, "scope=nausf-auth"));
  pthread_mutex_unlock(&form_lock);
  kedge_sbi_client_free(c);
}

static void test_concurrent_calls_share_one_fetch(void **state)
{
  (void)state;
  kedge_sbi_client_t *c = new_client();
  int before = atomic_load(&fetches);
  result_t r[5];
  send_n(c, "GET", "/nudm-ueau/v1/x", r, 5);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(r[i].status, 200);
    assert_int_equal(r[i].token, r[0].token);
  }
  assert_int_equal(atomic_load(&fetches), before + 1);
  kedge_sbi_client_free(c);
}

static void test_expired_token_fetched_again(void **state)
{
  (void)state;
  kedge_sbi_client_t *c = new_client();
  atomic_store(&expires_in, 1);
  int before = atomic_load(&fetches);
  result_t r;
  send_n(c, "GET", "/nudm-ueau/v1/x", &r, 1);
  send_n(c, "GET", "/nudm-ueau/v1/x", &r, 1);
  assert_int_equal(atomic_load(&fetches), before + 1); /* still valid */
  usleep(600 * 1000);                                  /* past 1 s minus the margin (0.5 s) */
  send_n(c, "GET", "/nudm-ueau/v1/x", &r, 1);
  assert_int_equal(r.status, 200);
  assert_int_equal(atomic_load(&fetches), before + 2);
  atomic_store(&expires_in, 300);
  kedge_sbi_client_free(c);
}

static void test_401_renews_once(void **state)
{
  (void)state;
  kedge_sbi_client_t *c = new_client();
  result_t r;
  send_n(c, "GET", "/nudm-ueau/v1/x", &r, 1);
  assert_int_equal(r.status, 200);
  /* the producer stops accepting the cached token (as after an NRF key change) */
  atomic_store(&min_accepted, atomic_load(&fetches) + 1);
  int before = atomic_load(&fetches), refused = atomic_load(&refusals);
  send_n(c, "POST", "/nudm-ueau/v1/x", &r, 1); /* a POST too: the 401 came before the handler */
  assert_int_equal(r.status, 200);
  assert_int_equal(atomic_load(&fetches), before + 1);
  assert_int_equal(atomic_load(&refusals), refused + 1);
  /* a producer that refuses every token: one renewal, then its 401 reaches the caller */
  atomic_store(&min_accepted, 1 << 30);
  before = atomic_load(&fetches);
  refused = atomic_load(&refusals);
  send_n(c, "GET", "/nudm-ueau/v1/x", &r, 1);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(r.status, 401);
  assert_int_equal(atomic_load(&fetches), before + 1);
  assert_int_equal(atomic_load(&refusals), refused + 2);
  atomic_store(&min_accepted, 0);
  kedge_sbi_client_free(c);
}

static void test_token_endpoint_refuses(void **state)
{
  (void)state;
  kedge_sbi_client_t *c = new_client();
  atomic_store(&token_fails, true);
  int refused = atomic_load(&refusals);
  result_t r[2];
  send_n(c, "GET", "/nudm-ueau/v1/x", r, 2);
  assert_int_equal(r[0].err, KEDGE_ERR_UNAVAILABLE);
  assert_int_equal(r[1].err, KEDGE_ERR_UNAVAILABLE);
  assert_int_equal(atomic_load(&refusals), refused); /* never sent without a token */
  atomic_store(&token_fails, false);
  send_n(c, "GET", "/nudm-ueau/v1/x", r, 1); /* the NRF is back: a new fetch */
  assert_int_equal(r[0].status, 200);
  kedge_sbi_client_free(c);
}

/* Garbage from the NRF where an AccessTokenRsp belongs: no token, the call fails cleanly and
 * the producer is never asked without one; a good answer afterwards works again. */
static void test_bad_token_answers(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof(bad_answers) / sizeof(bad_answers[0]); i++) {
    kedge_sbi_client_t *c = new_client();
    atomic_store(&bad_answer, (int)i + 1);
    int refused = atomic_load(&refusals);
    result_t r;
    send_n(c, "GET", "/nudm-ueau/v1/x", &r, 1);
    if (r.err != KEDGE_ERR_UNAVAILABLE)
      fail_msg("bad token answer %zu (%s): err %d status %ld", i + 1, bad_answers[i], (int)r.err,
               (long)r.status);
    assert_int_equal(atomic_load(&refusals), refused);
    atomic_store(&bad_answer, 0);
    send_n(c, "GET", "/nudm-ueau/v1/x", &r, 1);
    assert_int_equal(r.status, 200);
    kedge_sbi_client_free(c);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cached_per_scope),
      cmocka_unit_test(test_concurrent_calls_share_one_fetch),
      cmocka_unit_test(test_expired_token_fetched_again),
      cmocka_unit_test(test_401_renews_once),
      cmocka_unit_test(test_token_endpoint_refuses),
      cmocka_unit_test(test_bad_token_answers),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
