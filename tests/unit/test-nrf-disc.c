/* lib/nrf discovery (kedge/nrf.h, TS 29.510 Nnrf_NFDiscovery): the query URL byte for byte,
 * SearchResult reading (nfServices array, nfServiceList map only, Open5GS-style both, the
 * apiRoot from ipEndPoints / fqdn / apiPrefix, non-https and deregistered instances left out),
 * ordering by priority then capacity, the cache and its validityPeriod, and failover: the next
 * candidate is tried when the first refuses the connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "kedge/nrf.h"
#include "kedge/pki.h"
#include "kedge/time.h"

static void query_url(void **state)
{
  (void)state;
  char url[1024];
  const kedge_nrf_query_t by_supi = {
      .target_nf_type = "UDM", .service_name = "nudm-ueau", .supi = "imsi-001010000000001"};
  assert_int_equal(kedge_nrf_disc_url("https://nrf:8443/", "AUSF", &by_supi, url, sizeof(url)),
                   KEDGE_OK);
  assert_string_equal(url, "https://nrf:8443/nnrf-disc/v1/nf-instances?target-nf-type=UDM"
                           "&requester-nf-type=AUSF&service-names=nudm-ueau"
                           "&supi=imsi-001010000000001");
  /* TS 29.510 6.2.3.2.3.1: target-plmn-list is JSON, percent-encoded */
  const kedge_nrf_query_t by_rid = {.target_nf_type = "AUSF",
                                    .service_name = "nausf-kedge",
                                    .routing_indicator = "0012",
                                    .target_mcc = "001",
                                    .target_mnc = "01"};
  assert_int_equal(kedge_nrf_disc_url("https://nrf", "NEF", &by_rid, url, sizeof(url)), KEDGE_OK);
  assert_string_equal(url, "https://nrf/nnrf-disc/v1/nf-instances?target-nf-type=AUSF"
                           "&requester-nf-type=NEF&service-names=nausf-kedge"
                           "&routing-indicator=0012&target-plmn-list=%5B%7B%22mcc%22%3A%22001"
                           "%22%2C%22mnc%22%3A%2201%22%7D%5D");
  /* a NAI SUPI's '@' is encoded too (a query value) */
  const kedge_nrf_query_t nai = {
      .target_nf_type = "UDM", .service_name = "nudm-ueau", .supi = "nai-a b@x.org"};
  assert_int_equal(kedge_nrf_disc_url("https://nrf", "AUSF", &nai, url, sizeof(url)), KEDGE_OK);
  assert_non_null(strstr(url, "&supi=nai-a%20b%40x.org"));
  assert_int_equal(kedge_nrf_disc_url("https://nrf", "AUSF", &nai, url, 40), KEDGE_ERR_TOO_BIG);
  const kedge_nrf_query_t none = {.target_nf_type = "UDM"};
  assert_int_equal(kedge_nrf_disc_url("https://nrf", "AUSF", &none, url, sizeof(url)),
                   KEDGE_ERR_INVALID_ARG);
}

static json_t *parse(const char *text)
{
  json_error_t e;
  json_t *j = json_loads(text, 0, &e);
  assert_non_null(j);
  return j;
}

static void search_result_services_array(void **state)
{
  (void)state;
  json_t *body = parse(
      "{\"validityPeriod\": 30, \"nfInstances\": ["
      " {\"nfInstanceId\": \"a\", \"nfType\": \"UDM\", \"nfStatus\": \"REGISTERED\","
      "  \"priority\": 5, \"ipv4Addresses\": [\"10.0.0.1\"],"
      "  \"nfServices\": [{\"serviceInstanceId\": \"s\", \"serviceName\": \"nudm-ueau\","
      "   \"versions\": [], \"scheme\": \"https\", \"nfServiceStatus\": \"REGISTERED\","
      "   \"ipEndPoints\": [{\"ipv4Address\": \"10.0.0.1\", \"port\": 8443}]}]},"
      " {\"nfInstanceId\": \"b\", \"nfType\": \"UDM\", \"nfStatus\": \"REGISTERED\","
      "  \"priority\": 5, \"capacity\": 200, \"fqdn\": \"udm-b.example.org\","
      "  \"nfServices\": [{\"serviceInstanceId\": \"s\", \"serviceName\": \"nudm-ueau\","
      "   \"versions\": [], \"scheme\": \"https\", \"apiPrefix\": \"/op/1/\"}]},"
      " {\"nfInstanceId\": \"c\", \"nfType\": \"UDM\", \"nfStatus\": \"REGISTERED\","
      "  \"priority\": 9, \"nfServices\": [{\"serviceInstanceId\": \"s\","
      "   \"serviceName\": \"nudm-ueau\", \"versions\": [], \"scheme\": \"https\", \"priority\": 1,"
      "   \"ipEndPoints\": [{\"ipv6Address\": \"2001:db8::1\", \"port\": 443}]}]},"
      " {\"nfInstanceId\": \"d\", \"nfType\": \"UDM\", \"nfStatus\": \"SUSPENDED\","
      "  \"nfServices\": [{\"serviceInstanceId\": \"s\", \"serviceName\": \"nudm-ueau\","
      "   \"versions\": [], \"scheme\": \"https\", \"ipEndPoints\": [{\"ipv4Address\": "
      "\"10.0.0.4\"}]}]},"
      " {\"nfInstanceId\": \"e\", \"nfType\": \"UDM\", \"nfStatus\": \"REGISTERED\","
      "  \"nfServices\": [{\"serviceInstanceId\": \"s\", \"serviceName\": \"nudm-ueau\","
      "   \"versions\": [], \"scheme\": \"http\", \"ipEndPoints\": [{\"ipv4Address\": "
      "\"10.0.0.5\"}]},"
      "   {\"serviceInstanceId\": \"t\", \"serviceName\": \"nudm-sdm\", \"versions\": [],"
      "   \"scheme\": \"https\", \"ipEndPoints\": [{\"ipv4Address\": \"10.0.0.5\"}]}]}"
      "]}");
  kedge_nrf_candidates_t c;
  int64_t validity = 0;
  assert_int_equal(kedge_nrf_search_result_read(body, "nudm-ueau", 60000, &c, &validity), KEDGE_OK);
  assert_int_equal(validity, 30000);
  /* c: service priority 1 beats the profiles' 5; b before a: same priority, capacity 200 > 0;
   * d (SUSPENDED) and e (http, or another service) are left out */
  assert_int_equal(c.n, 3);
  assert_string_equal(c.c[0].api_root, "https://[2001:db8::1]:443");
  assert_string_equal(c.c[0].nf_instance_id, "c");
  assert_int_equal(c.c[0].priority, 1);
  assert_string_equal(c.c[1].api_root, "https://udm-b.example.org:443/op/1");
  assert_int_equal(c.c[1].capacity, 200);
  assert_string_equal(c.c[2].api_root, "https://10.0.0.1:8443");
  json_decref(body);
}

/* Open5GS answers with nfServiceList (the map) only, or with both: the map is read, each
 * apiRoot once. */
static void search_result_service_list_only(void **state)
{
  (void)state;
  json_t *body =
      parse("{\"validityPeriod\": 3600, \"nfInstances\": ["
            " {\"nfInstanceId\": \"x\", \"nfType\": \"AUSF\", \"nfStatus\": \"REGISTERED\","
            "  \"nfServiceList\": {\"k1\": {\"serviceInstanceId\": \"k1\", \"serviceName\": "
            "\"nausf-kedge\","
            "   \"versions\": [], \"scheme\": \"https\","
            "   \"ipEndPoints\": [{\"ipv4Address\": \"127.0.0.9\", \"port\": 7777}]}}},"
            " {\"nfInstanceId\": \"y\", \"nfType\": \"AUSF\", \"nfStatus\": \"REGISTERED\","
            "  \"nfServices\": [{\"serviceInstanceId\": \"k2\", \"serviceName\": \"nausf-kedge\","
            "   \"versions\": [], \"scheme\": \"https\", \"ipEndPoints\": [{\"ipv4Address\": "
            "\"127.0.0.8\", \"port\": 1}]}],"
            "  \"nfServiceList\": {\"k2\": {\"serviceInstanceId\": \"k2\", \"serviceName\": "
            "\"nausf-kedge\","
            "   \"versions\": [], \"scheme\": \"https\", \"ipEndPoints\": [{\"ipv4Address\": "
            "\"127.0.0.8\", \"port\": 1}]}}}"
            "]}");
  kedge_nrf_candidates_t c;
  int64_t validity = 0;
  assert_int_equal(kedge_nrf_search_result_read(body, "nausf-kedge", 60000, &c, &validity),
                   KEDGE_OK);
  assert_int_equal(validity, 3600000);
  assert_int_equal(c.n, 2);
  assert_string_equal(c.c[0].api_root, "https://127.0.0.9:7777");
  assert_string_equal(c.c[1].api_root, "https://127.0.0.8:1");
  assert_int_equal(kedge_nrf_search_result_read(body, "nudm-ueau", 60000, &c, &validity), KEDGE_OK);
  assert_int_equal(c.n, 0);
  json_decref(body);
  /* not a SearchResult; no validityPeriod: the configured default */
  body = parse("{\"nfInstances\": {}}");
  assert_int_equal(kedge_nrf_search_result_read(body, "nudm-ueau", 60000, &c, &validity),
                   KEDGE_ERR_INVALID_ARG);
  json_decref(body);
  body = parse("{\"nfInstances\": []}");
  assert_int_equal(kedge_nrf_search_result_read(body, "nudm-ueau", 1234, &c, &validity), KEDGE_OK);
  assert_int_equal(validity, 1234);
  json_decref(body);
}

static void cache_expiry(void **state)
{
  (void)state;
  kedge_nrf_config_t cfg = {
      .uri = "https://nrf", .discovery_validity_ms = 60000, .discovery_cache_size = 2};
  kedge_nrf_disc_t *d = NULL;
  assert_int_equal(kedge_nrf_disc_new(&cfg, "AUSF", NULL, &d), KEDGE_OK);
  kedge_nrf_candidates_t in = {.n = 2}, out;
  snprintf(in.c[0].api_root, sizeof(in.c[0].api_root), "https://a:1");
  snprintf(in.c[1].api_root, sizeof(in.c[1].api_root), "https://b:2");
  in.c[1].priority = 7;
  int64_t now = kedge_now_ms();
  assert_int_equal(kedge_nrf_disc_cache_put(d, "q1", &in, now + 5000), KEDGE_OK);
  assert_true(kedge_nrf_disc_cache_get(d, "q1", now + 4999, &out));
  assert_int_equal(out.n, 2);
  assert_string_equal(out.c[1].api_root, "https://b:2");
  assert_int_equal(out.c[1].priority, 7);
  assert_false(kedge_nrf_disc_cache_get(d, "q2", now, &out));
  /* at validityPeriod's end the answer is gone, and stays gone */
  assert_false(kedge_nrf_disc_cache_get(d, "q1", now + 5000, &out));
  assert_false(kedge_nrf_disc_cache_get(d, "q1", now, &out));
  /* bounded: a third query evicts the entry closest to expiry */
  assert_int_equal(kedge_nrf_disc_cache_put(d, "q1", &in, now + 10000), KEDGE_OK);
  assert_int_equal(kedge_nrf_disc_cache_put(d, "q2", &in, now + 20000), KEDGE_OK);
  assert_int_equal(kedge_nrf_disc_cache_put(d, "q3", &in, now + 30000), KEDGE_OK);
  assert_false(kedge_nrf_disc_cache_get(d, "q1", now, &out));
  assert_true(kedge_nrf_disc_cache_get(d, "q2", now, &out));
  assert_true(kedge_nrf_disc_cache_get(d, "q3", now, &out));
  kedge_nrf_disc_free(d);
}

/* ---- failover over a real SBI client: two candidates that refuse (nothing listens) ---- */

typedef struct sent {
  struct event_base *base;
  kedge_err_t err;
  char root[KEDGE_NRF_API_ROOT_MAX];
  unsigned attempts;
  int calls;
} sent_t;

static void on_sent(const kedge_sbi_client_response_t *r, const char *api_root, void *arg)
{
  sent_t *s = arg;
  s->err = r->err;
  s->attempts = r->attempts;
  snprintf(s->root, sizeof(s->root), "%s", api_root);
  s->calls++;
  event_base_loopbreak(s->base);
}

static void failover(void **state)
{
  (void)state;
  char dir[] = "/tmp/kedge-nrf-disc-XXXXXX", ca[64];
  assert_non_null(mkdtemp(dir));
  assert_int_equal(kedge_pki_init(dir), KEDGE_OK);
  snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
  struct event_base *base = event_base_new();
  kedge_sbi_client_options_t opts;
  kedge_sbi_client_options_init(&opts);
  opts.ca_file = ca;
  opts.max_retries = 0;
  opts.timeout_ms = 3000;
  kedge_sbi_client_t *client = NULL;
  assert_int_equal(kedge_sbi_client_new(base, &opts, &client), KEDGE_OK);
  /* port 1 and 2 on loopback: nothing listens, the connection is refused at once */
  kedge_nrf_candidates_t c = {.n = 2};
  snprintf(c.c[0].api_root, sizeof(c.c[0].api_root), "https://127.0.0.1:1");
  snprintf(c.c[1].api_root, sizeof(c.c[1].api_root), "https://127.0.0.1:2");
  const kedge_sbi_client_request_t req = {.method = "POST"};
  sent_t s = {.base = base};
  assert_int_equal(kedge_nrf_send(client, &c, &req, "/nudm-ueau/v1/x", on_sent, &s, NULL),
                   KEDGE_OK);
  assert_int_equal(s.calls, 0); /* never inside the call */
  event_base_dispatch(base);
  assert_int_equal(s.calls, 1);
  assert_int_equal(s.err, KEDGE_ERR_UNAVAILABLE);
  assert_string_equal(s.root, "https://127.0.0.1:2"); /* the second was tried after the first */
  /* cancelled: no callback */
  kedge_nrf_send_t *h = NULL;
  assert_int_equal(kedge_nrf_send(client, &c, &req, "/x", on_sent, &s, &h), KEDGE_OK);
  kedge_nrf_send_cancel(h);
  assert_int_equal(
      kedge_nrf_send(client, &(kedge_nrf_candidates_t){.n = 0}, &req, "/x", on_sent, &s, NULL),
      KEDGE_ERR_INVALID_ARG);
  kedge_sbi_client_free(client);
  event_base_free(base);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(query_url),
      cmocka_unit_test(search_result_services_array),
      cmocka_unit_test(search_result_service_list_only),
      cmocka_unit_test(cache_expiry),
      cmocka_unit_test(failover),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
