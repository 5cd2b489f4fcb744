/* The UE's registration state machine (daemons/ue/register.c) against an AUSF simulated in this
 * process: a kedge SBI server on 127.0.0.1 (mutual TLS with the dev PKI) whose handlers act as
 * AUSF + UDM with the library (kedge_aka_generate_he_av, kedge_aka_auts_check, ...). It can
 * misbehave in ways the real kedge-ausfd never does, to reach every branch of the UE: a wrong
 * HXRES* (the SEAF must not confirm), a wrong KSEAF, a network that stays stale after the
 * resynchronisation (one retry only), a vector without the 5G separation bit, relative and
 * non-https hrefs, a missing Location, EAP-AKA', AUTHENTICATION_ONGOING, another SUPI, a
 * ProblemDetails error. The async API is checked too: the keys the UE keeps equal those the
 * network side derives from its KAUSF, one registration at a time, ue_free with a call in
 * flight. */
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
#include <openssl/rand.h>

#include "kedge/hex.h"
#include "kedge/log.h"
#include "kedge/pki.h"
#include "kedge/sbi_server.h"
#include "kedge/sqn.h"
#include "ue.h"

#define K_HEX   "465b5ce8b199b49faa5f0a2ee238a6bc"
#define OPC_HEX "cd63cb71954a9f4e48a5994e37a02baf"
#define SUPI    "imsi-001010000000001"
#define CONFIRM "/nausf-auth/v1/ue-authentications/ctx1/5g-aka-confirmation"

typedef enum fake_mode {
  NORMAL,
  BAD_HXRES,     /* HXRES* over another XRES* */
  BAD_KSEAF,     /* KSEAF of another KAUSF */
  STALE,         /* ignores resynchronisation: the SQN stays behind */
  AMF_EPS,       /* AMF without the separation bit */
  RELATIVE_HREF, /* a relative-path href */
  HTTP_HREF,     /* an http:// href */
  NO_LOCATION,   /* 201 without Location */
  EAP,           /* authType EAP_AKA_PRIME */
  ONGOING,       /* authResult AUTHENTICATION_ONGOING */
  OTHER_SUPI,    /* confirms another SUPI */
  NOT_FOUND,     /* 404 USER_NOT_FOUND */
  SLOW,          /* answers the POST after 300 ms */
} fake_mode_t;

typedef struct fake {
  pthread_mutex_t lock;
  fake_mode_t mode;
  kedge_aka_credentials_t cred;
  uint64_t sqn; /* the network's last SQN */
  uint16_t port;
  int posts, resyncs, puts;
  uint8_t rand[16], xres_star[16], kausf[32];
  char snn[64];
  bool confirmed_ok;
} fake_t;

static fake_t fake = {.lock = PTHREAD_MUTEX_INITIALIZER};
static kedge_sbi_server_t *srv;
static pthread_t srv_thread;
static char dir[64], pki[128];

/* ---- the simulated AUSF (worker thread) --------------------------------------------------- */

static void answer_challenge(kedge_sbi_request_t *req)
{
  pthread_mutex_lock(&fake.lock);
  fake_mode_t mode = fake.mode;
  json_t *in = kedge_sbi_request_json(req);
  const char *snn = json_string_value(json_object_get(in, "servingNetworkName"));
  const char *supi = json_string_value(json_object_get(in, "supiOrSuci"));
  json_t *resync = json_object_get(in, "resynchronizationInfo");
  fake.posts++;
  if (mode == NOT_FOUND || !supi || strcmp(supi, SUPI) != 0 || !snn) {
    pthread_mutex_unlock(&fake.lock);
    kedge_sbi_respond_problem(req, 404, "USER_NOT_FOUND", "no such subscriber");
    return;
  }
  snprintf(fake.snn, sizeof(fake.snn), "%s", snn);
  if (resync) {
    /* TS 33.102 6.3.5: the RAND must be the one of the failed challenge; MAC-S verified */
    uint8_t rand[16], auts[14];
    uint64_t sqn_ms = 0;
    fake.resyncs++;
    if (kedge_hex_decode(json_string_value(json_object_get(resync, "rand")), rand, 16) ||
        kedge_hex_decode(json_string_value(json_object_get(resync, "auts")), auts, 14) ||
        memcmp(rand, fake.rand, 16) != 0 ||
        kedge_aka_auts_check(&fake.cred, rand, auts, &sqn_ms) != KEDGE_OK) {
      pthread_mutex_unlock(&fake.lock);
      kedge_sbi_respond_problem(req, 403, "SYNC_FAILURE", "bad resynchronizationInfo");
      return;
    }
    if (mode != STALE)
      fake.sqn = sqn_ms;
  }
  fake.sqn++;
  static const uint8_t amf_5g[2] = {0x80, 0x00}, amf_eps[2] = {0x00, 0x00};
  kedge_he_av_t av;
  RAND_bytes(fake.rand, 16);
  kedge_aka_generate_he_av(&fake.cred, fake.rand, fake.sqn, mode == AMF_EPS ? amf_eps : amf_5g, snn,
                           &av);
  memcpy(fake.xres_star, av.xres_star, 16);
  memcpy(fake.kausf, av.kausf, 32);
  uint8_t hxres[16], other[16];
  memcpy(other, av.xres_star, 16);
  other[3] ^= 0x40;
  kedge_aka_hxres_star(av.rand, mode == BAD_HXRES ? other : av.xres_star, hxres);
  char rand_hex[33], autn_hex[33], hx_hex[33], href[320], location[256];
  kedge_hex_encode(av.rand, 16, rand_hex);
  kedge_hex_encode(av.autn, 16, autn_hex);
  kedge_hex_encode(hxres, 16, hx_hex);
  snprintf(location, sizeof(location), "https://127.0.0.1:%u/nausf-auth/v1/ue-authentications/ctx1",
           fake.port);
  if (mode == RELATIVE_HREF)
    snprintf(href, sizeof(href), "ue-authentications/ctx1/5g-aka-confirmation");
  else if (mode == HTTP_HREF)
    snprintf(href, sizeof(href), "http://127.0.0.1:%u" CONFIRM, fake.port);
  else
    snprintf(href, sizeof(href), "%s/5g-aka-confirmation", location);
  pthread_mutex_unlock(&fake.lock);
  json_t *body = json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:{s:s}}}", "authType",
                           mode == EAP ? "EAP_AKA_PRIME" : "5G_AKA", "5gAuthData", "rand", rand_hex,
                           "hxresStar", hx_hex, "autn", autn_hex, "_links", "5g-aka", "href", href);
  if (mode != NO_LOCATION)
    kedge_sbi_response_header(req, "location", location);
  kedge_sbi_respond_json(req, 201, KEDGE_SBI_HAL_JSON, body);
  json_decref(body);
}

static void on_slow(evutil_socket_t fd, short what, void *arg)
{
  answer_challenge(arg);
}

static void ue_authentications(kedge_sbi_request_t *req, void *arg)
{
  pthread_mutex_lock(&fake.lock);
  bool slow = fake.mode == SLOW;
  pthread_mutex_unlock(&fake.lock);
  if (slow) {
    struct timeval tv = {0, 300000};
    event_base_once(kedge_sbi_request_base(req), -1, EV_TIMEOUT, on_slow, req, &tv);
    return;
  }
  answer_challenge(req);
}

static void confirmation(kedge_sbi_request_t *req, void *arg)
{
  pthread_mutex_lock(&fake.lock);
  fake.puts++;
  fake_mode_t mode = fake.mode;
  uint8_t res_star[16];
  const char *hex = json_string_value(json_object_get(kedge_sbi_request_json(req), "resStar"));
  bool ok = strcmp(kedge_sbi_request_var(req, "authCtxId"), "ctx1") == 0 && hex &&
            kedge_hex_decode(hex, res_star, 16) == KEDGE_OK &&
            memcmp(res_star, fake.xres_star, 16) == 0;
  fake.confirmed_ok = ok;
  uint8_t kseaf[32];
  char kseaf_hex[65];
  kedge_aka_kseaf(fake.kausf, fake.snn, kseaf);
  if (mode == BAD_KSEAF)
    kseaf[31] ^= 1;
  kedge_hex_encode(kseaf, 32, kseaf_hex);
  pthread_mutex_unlock(&fake.lock);
  json_t *body;
  if (!ok)
    body = json_pack("{s:s}", "authResult", "AUTHENTICATION_FAILURE");
  else if (mode == ONGOING)
    body = json_pack("{s:s}", "authResult", "AUTHENTICATION_ONGOING");
  else
    body = json_pack("{s:s, s:s, s:s}", "authResult", "AUTHENTICATION_SUCCESS", "supi",
                     mode == OTHER_SUPI ? "imsi-001010000000002" : SUPI, "kseaf", kseaf_hex);
  kedge_sbi_respond_json(req, 200, NULL, body);
  json_decref(body);
}

static void *run_server(void *arg)
{
  kedge_sbi_server_run(srv);
  return NULL;
}

static int setup_server(void **state)
{
  kedge_log_init("test-ue-fake-ausf", KEDGE_LOG_ERROR, false);
  strcpy(dir, "/tmp/kedge-test-ue-XXXXXX");
  if (!mkdtemp(dir))
    return -1;
  snprintf(pki, sizeof(pki), "%s/pki", dir);
  if (kedge_pki_init(pki) != KEDGE_OK)
    return -1;
  char cert[200], key[200], ca[200];
  snprintf(cert, sizeof(cert), "%s/ausf.crt", pki);
  snprintf(key, sizeof(key), "%s/ausf.key", pki);
  snprintf(ca, sizeof(ca), "%s/ca.crt", pki);
  kedge_sbi_server_config_t cfg;
  kedge_sbi_server_config_defaults(&cfg);
  cfg.name = "fake-ausf";
  cfg.port = 0;
  cfg.cert_file = cert;
  cfg.key_file = key;
  cfg.ca_file = ca;
  cfg.metrics_enabled = false;
  if (kedge_sbi_server_new(&cfg, &srv) ||
      kedge_sbi_server_route(srv, "POST", "/nausf-auth/v1/ue-authentications", NULL,
                             ue_authentications, NULL) ||
      kedge_sbi_server_route(srv, "PUT",
                             "/nausf-auth/v1/ue-authentications/{authCtxId}/5g-aka-confirmation",
                             NULL, confirmation, NULL) ||
      kedge_sbi_server_start(srv))
    return -1;
  fake.port = kedge_sbi_server_port(srv);
  kedge_hex_decode(K_HEX, fake.cred.k, 16);
  kedge_hex_decode(OPC_HEX, fake.cred.opc, 16);
  return pthread_create(&srv_thread, NULL, run_server, NULL) == 0 ? 0 : -1;
}

static int teardown_server(void **state)
{
  kedge_sbi_server_stop(srv);
  pthread_join(srv_thread, NULL);
  kedge_sbi_server_free(srv);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  return system(cmd);
}

/* ---- the UE side (main thread) ------------------------------------------------------------- */

static ue_config_t config(void)
{
  ue_config_t cfg;
  memset(&cfg, 0, sizeof(cfg));
  assert_int_equal(kedge_supi_parse(SUPI, &cfg.usim.supi), KEDGE_OK);
  kedge_hex_decode(K_HEX, cfg.usim.cred.k, 16);
  kedge_hex_decode(OPC_HEX, cfg.usim.cred.opc, 16);
  strcpy(cfg.usim.rid, "7");
  assert_int_equal(kedge_plmn_parse("001", "01", &cfg.usim.home), KEDGE_OK);
  snprintf(cfg.usim.sqn_file, sizeof(cfg.usim.sqn_file), "%s/ue.sqn", dir);
  cfg.serving = cfg.usim.home;
  kedge_serving_network_name(&cfg.serving, cfg.snn);
  snprintf(cfg.ausf_uri, sizeof(cfg.ausf_uri), "https://127.0.0.1:%u", fake.port);
  snprintf(cfg.ca, sizeof(cfg.ca), "%s/ca.crt", pki);
  snprintf(cfg.cert, sizeof(cfg.cert), "%s/seaf.crt", pki);
  snprintf(cfg.key, sizeof(cfg.key), "%s/seaf.key", pki);
  cfg.timeout_ms = 3000;
  return cfg;
}

/* Sets the fake's mode and SQN and the USIM's SQNms; resets the counters. */
static void arrange(fake_mode_t mode, uint64_t network_sqn, uint64_t sqn_ms)
{
  pthread_mutex_lock(&fake.lock);
  fake.mode = mode;
  fake.sqn = network_sqn;
  fake.posts = fake.resyncs = fake.puts = 0;
  fake.confirmed_ok = false;
  pthread_mutex_unlock(&fake.lock);
  char why[512], path[200];
  snprintf(path, sizeof(path), "%s/ue.sqn", dir);
  assert_int_equal(ue_sqn_store(path, sqn_ms, why, sizeof(why)), KEDGE_OK);
}

static uint64_t usim_sqn(void)
{
  char why[512], path[200];
  uint64_t sqn = 0;
  snprintf(path, sizeof(path), "%s/ue.sqn", dir);
  assert_int_equal(ue_sqn_load(path, &sqn, why, sizeof(why)), KEDGE_OK);
  return sqn;
}

static ue_result_t run(fake_mode_t mode, uint64_t network_sqn, uint64_t sqn_ms, bool corrupt)
{
  arrange(mode, network_sqn, sqn_ms);
  ue_config_t cfg = config();
  ue_result_t r;
  char why[512] = "";
  kedge_err_t err = ue_register_sync(&cfg, corrupt, &r, why, sizeof(why));
  if (err)
    fail_msg("ue_register_sync: %s: %s", kedge_strerror(err), why);
  return r;
}

static void expect(const ue_result_t *r, ue_outcome_t outcome, const char *why_part)
{
  if (r->outcome != outcome || (why_part && !strstr(r->why, why_part)))
    fail_msg("outcome %s \"%s\", want %s \"%s\"", ue_outcome_name(r->outcome), r->why,
             ue_outcome_name(outcome), why_part ? why_part : "");
}

static int counter(const int *c)
{
  pthread_mutex_lock(&fake.lock);
  int v = *c;
  pthread_mutex_unlock(&fake.lock);
  return v;
}

static bool confirmed_ok(void)
{
  pthread_mutex_lock(&fake.lock);
  bool v = fake.confirmed_ok;
  pthread_mutex_unlock(&fake.lock);
  return v;
}

static void test_registered(void **state)
{
  ue_result_t r = run(NORMAL, 41, 40, false);
  expect(&r, UE_REGISTERED, NULL);
  assert_string_equal(r.why, "");
  assert_true(r.sqn == 42 && r.sqn_accepted && !r.resynchronised);
  assert_true(usim_sqn() == 42);
  assert_string_equal(r.auth_result, "AUTHENTICATION_SUCCESS");
  assert_true(confirmed_ok());
  assert_int_equal(counter(&fake.posts), 1);
  assert_int_equal(counter(&fake.puts), 1);
  /* The Kedge ID and fingerprints are those of the network's KAUSF (SPEC.md 2). */
  kedge_supi_t supi;
  kedge_plmn_t home;
  kedge_supi_parse(SUPI, &supi);
  kedge_plmn_parse("001", "01", &home);
  uint8_t kedge[32];
  char kedge_id[KEDGE_ID_MAX + 1], fp[9];
  pthread_mutex_lock(&fake.lock);
  assert_int_equal(kedge_derive_kedge_and_id(fake.kausf, &supi, "7", &home, kedge, kedge_id),
                   KEDGE_OK);
  kedge_key_fingerprint(fake.kausf, 32, fp);
  pthread_mutex_unlock(&fake.lock);
  assert_string_equal(r.kedge_id, kedge_id);
  assert_string_equal(r.kausf_fingerprint, fp);
  kedge_key_fingerprint(kedge, 32, fp);
  assert_string_equal(r.kedge_fingerprint, fp);
  /* step log: 0 (POST, USIM, SEAF, PUT) then 1 */
  assert_int_equal(r.n_steps, 5);
  assert_int_equal(r.steps[0].step, 0);
  assert_non_null(strstr(r.steps[0].text, "201"));
  assert_int_equal(r.steps[4].step, 1);
  assert_non_null(strstr(r.steps[4].text, kedge_id));
}

static void test_relative_href(void **state)
{
  ue_result_t r = run(RELATIVE_HREF, 0, 0, false);
  expect(&r, UE_REGISTERED, NULL);
  assert_int_equal(counter(&fake.puts), 1);
}

static void test_resynchronised(void **state)
{
  ue_result_t r = run(NORMAL, 3, 0x500, false);
  expect(&r, UE_REGISTERED, NULL);
  assert_true(r.resynchronised);
  assert_true(r.sqn == 0x501);
  assert_int_equal(counter(&fake.posts), 2);
  assert_int_equal(counter(&fake.resyncs), 1);
  assert_true(usim_sqn() == 0x501);
}

static void test_sync_failure_after_one_retry(void **state)
{
  ue_result_t r = run(STALE, 3, 0x500, false);
  expect(&r, UE_FAIL_SYNC, "after the one resynchronisation");
  assert_true(r.resynchronised);
  assert_int_equal(counter(&fake.posts), 2); /* once, not more */
  assert_int_equal(counter(&fake.puts), 0);
  assert_true(usim_sqn() == 0x500);
}

static void test_mac_failure(void **state)
{
  arrange(NORMAL, 0, 0);
  ue_config_t cfg = config();
  cfg.usim.cred.k[0] ^= 1;
  ue_result_t r;
  char why[512];
  assert_int_equal(ue_register_sync(&cfg, false, &r, why, sizeof(why)), KEDGE_OK);
  expect(&r, UE_FAIL_MAC, "MAC-A does not verify");
  assert_false(r.sqn_accepted);
  assert_string_equal(r.kausf_fingerprint, "");
  assert_int_equal(counter(&fake.puts), 0);
  assert_true(usim_sqn() == 0);
}

static void test_non_5g_vector(void **state)
{
  ue_result_t r = run(AMF_EPS, 0, 0, false);
  expect(&r, UE_FAIL_NON_5G, "separation bit");
  assert_int_equal(counter(&fake.puts), 0);
  assert_true(usim_sqn() == 0);
}

static void test_hxres_star_mismatch(void **state)
{
  ue_result_t r = run(BAD_HXRES, 0, 0, false);
  expect(&r, UE_FAIL_HXRES, "HXRES*");
  assert_int_equal(counter(&fake.puts), 0); /* the SEAF does not confirm */
  assert_true(usim_sqn() == 1);             /* the USIM accepted AUTN (TS 33.102 6.3.3) */
}

static void test_corrupt_res(void **state)
{
  ue_result_t r = run(NORMAL, 0, 0, true);
  expect(&r, UE_FAIL_REJECTED, "AUTHENTICATION_FAILURE");
  assert_string_equal(r.auth_result, "AUTHENTICATION_FAILURE");
  assert_int_equal(counter(&fake.puts), 1);
  assert_false(confirmed_ok());
}

static void test_kseaf_mismatch(void **state)
{
  ue_result_t r = run(BAD_KSEAF, 0, 0, false);
  expect(&r, UE_FAIL_KSEAF, "KSEAF");
  assert_string_equal(r.kedge_id, "");
}

static void test_protocol_errors(void **state)
{
  ue_result_t r = run(HTTP_HREF, 0, 0, false);
  expect(&r, UE_FAIL_PROTOCOL, "not an https URL");
  assert_int_equal(counter(&fake.puts), 0);
  r = run(NO_LOCATION, 0, 0, false);
  expect(&r, UE_FAIL_PROTOCOL, "Location");
  r = run(EAP, 0, 0, false);
  expect(&r, UE_FAIL_PROTOCOL, "not 5G_AKA");
  r = run(ONGOING, 0, 0, false);
  expect(&r, UE_FAIL_PROTOCOL, "AUTHENTICATION_ONGOING");
  r = run(OTHER_SUPI, 0, 0, false);
  expect(&r, UE_FAIL_PROTOCOL, "another SUPI");
}

static void test_problem_details(void **state)
{
  ue_result_t r = run(NOT_FOUND, 0, 0, false);
  expect(&r, UE_FAIL_HTTP, "404");
  assert_int_equal(r.http_status, 404);
  assert_string_equal(r.cause, "USER_NOT_FOUND");
  assert_non_null(strstr(r.why, "no such subscriber"));
  json_t *o = ue_result_json(&(ue_config_t){0}, &r);
  assert_non_null(o);
  assert_int_equal(json_integer_value(json_object_get(o, "status")), 404);
  assert_string_equal(json_string_value(json_object_get(o, "failure")), "HTTP_ERROR");
  json_decref(o);
}

static void test_timeout(void **state)
{
  arrange(SLOW, 0, 0);
  ue_config_t cfg = config();
  cfg.timeout_ms = 100;
  ue_result_t r;
  char why[512];
  assert_int_equal(ue_register_sync(&cfg, false, &r, why, sizeof(why)), KEDGE_OK);
  expect(&r, UE_FAIL_NETWORK, "timed out");
  usleep(400000); /* let the slow answer go out before the next test */
}

/* ---- the async API ---- */

typedef struct done {
  int fired;
  ue_result_t result;
  struct event_base *base;
} done_t;

static void on_done(const ue_result_t *r, void *arg)
{
  done_t *d = arg;
  d->fired++;
  d->result = *r;
  event_base_loopbreak(d->base);
}

static void test_async_keys(void **state)
{
  arrange(NORMAL, 10, 10);
  ue_config_t cfg = config();
  struct event_base *base = event_base_new();
  ue_t *ue = NULL;
  assert_int_equal(ue_new(&cfg, base, &ue), KEDGE_OK);
  assert_int_equal(ue_keys(ue, NULL, NULL, NULL), KEDGE_ERR_NOT_FOUND);
  done_t d = {.base = base};
  assert_int_equal(ue_register(ue, on_done, &d), KEDGE_OK);
  assert_int_equal(ue_register(ue, on_done, &d), KEDGE_ERR_BUSY); /* one at a time */
  while (!d.fired)
    event_base_dispatch(base);
  assert_int_equal(d.fired, 1);
  expect(&d.result, UE_REGISTERED, NULL);
  uint8_t kausf[32], kedge[32], want_kedge[32];
  char kedge_id[KEDGE_ID_MAX + 1], want_id[KEDGE_ID_MAX + 1];
  assert_int_equal(ue_keys(ue, kausf, kedge, kedge_id), KEDGE_OK);
  kedge_supi_t supi;
  kedge_supi_parse(SUPI, &supi);
  pthread_mutex_lock(&fake.lock);
  assert_memory_equal(kausf, fake.kausf, 32); /* UE and AUSF share KAUSF */
  pthread_mutex_unlock(&fake.lock);
  assert_int_equal(
      kedge_derive_kedge_and_id(kausf, &supi, "7", &cfg.usim.home, want_kedge, want_id), KEDGE_OK);
  assert_memory_equal(kedge, want_kedge, 32);
  assert_string_equal(kedge_id, want_id);

  /* a second registration on the same UE (and connection) replaces the keys */
  d.fired = 0;
  assert_int_equal(ue_register(ue, on_done, &d), KEDGE_OK);
  assert_int_equal(ue_keys(ue, NULL, NULL, NULL), KEDGE_ERR_NOT_FOUND); /* old keys gone */
  while (!d.fired)
    event_base_dispatch(base);
  expect(&d.result, UE_REGISTERED, NULL);
  assert_int_equal(ue_keys(ue, NULL, NULL, kedge_id), KEDGE_OK);
  assert_string_not_equal(kedge_id, want_id);
  assert_true(d.result.sqn == 12);

  /* freed with a call in flight: no callback, nothing leaks (ASan) */
  d.fired = 0;
  assert_int_equal(ue_register(ue, on_done, &d), KEDGE_OK);
  ue_free(ue);
  struct timeval tv = {0, 100000};
  event_base_loopexit(base, &tv);
  event_base_dispatch(base);
  assert_int_equal(d.fired, 0);
  event_base_free(base);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registered),
      cmocka_unit_test(test_relative_href),
      cmocka_unit_test(test_resynchronised),
      cmocka_unit_test(test_sync_failure_after_one_retry),
      cmocka_unit_test(test_mac_failure),
      cmocka_unit_test(test_non_5g_vector),
      cmocka_unit_test(test_hxres_star_mismatch),
      cmocka_unit_test(test_corrupt_res),
      cmocka_unit_test(test_kseaf_mismatch),
      cmocka_unit_test(test_protocol_errors),
      cmocka_unit_test(test_problem_details),
      cmocka_unit_test(test_timeout),
      cmocka_unit_test(test_async_keys),
  };
  return cmocka_run_group_tests(tests, setup_server, teardown_server);
}
