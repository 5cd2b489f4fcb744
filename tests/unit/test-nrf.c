/* The NRF client's pure parts (kedge/nrf.h): the `nrf:` section, the NFProfile built from it
 * (TS 29.510 6.1.6.2.2), the heartbeat interval taken from the NRF's answer and the back-off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kedge/config.h"
#include "kedge/nrf.h"

static kedge_err_t load(const char *yaml, kedge_config_t **conf, kedge_nrf_config_t *cfg)
{
  char err[KEDGE_CONFIG_ERR_MAX];
  assert_int_equal(kedge_config_load_buffer("t.yaml", yaml, strlen(yaml), conf, err, sizeof(err)),
                   KEDGE_OK);
  kedge_err_t e = kedge_nrf_config_read(kedge_config_root(*conf), cfg);
  kedge_err_t f = kedge_config_finish(*conf);
  return e ? e : f;
}

static const char *const udm_services[] = {"nudm-ueau", NULL};
static const char *const ausf_services[] = {"nausf-auth", "nausf-kedge", NULL};

static void test_no_section(void **state)
{
  (void)state;
  kedge_config_t *conf;
  kedge_nrf_config_t cfg;
  assert_int_equal(load("{}\n", &conf, &cfg), KEDGE_OK);
  assert_null(cfg.uri);
  kedge_config_free(conf);
  /* uri null: no NRF, but every other key is still checked */
  assert_int_equal(load("nrf: {uri: ~, retry_min: 2s}\n", &conf, &cfg), KEDGE_OK);
  assert_null(cfg.uri);
  assert_int_equal(cfg.retry_min_ms, 2000);
  kedge_config_free(conf);
}

static void test_udm_profile(void **state)
{
  (void)state;
  kedge_config_t *conf;
  kedge_nrf_config_t cfg;
  assert_int_equal(
      load("sbi: {tls: {ca: ca.crt, cert: u.crt, key: u.key}}\n"
           "nrf:\n  uri: https://nrf.example:8000\n  allowed_nf_types: [AUSF]\n"
           "  group_id: g1\n  routing_indicators: ['0000', '12']\n"
           "  supi_ranges: [{start: '00101000', end: '00101999'}, {pattern: '^imsi-1'}]\n",
           &conf, &cfg),
      KEDGE_OK);
  assert_string_equal(cfg.client.ca_file, "ca.crt"); /* defaults from sbi.tls */
  assert_string_equal(cfg.client.cert_file, "u.crt");
  const kedge_nrf_self_t self = {.nf_instance_id = "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                                 .nf_type = "UDM",
                                 .address = "127.0.0.1",
                                 .port = 8001,
                                 .services = udm_services};
  json_t *p = kedge_nrf_profile(&cfg, &self);
  assert_non_null(p);
  char *text = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
  const char *svc =
      "{\"allowedNfTypes\":[\"AUSF\"],\"ipEndPoints\":[{\"ipv4Address\":\"127.0.0.1\","
      "\"port\":8001}],\"nfServiceStatus\":\"REGISTERED\",\"scheme\":\"https\","
      "\"serviceInstanceId\":\"nudm-ueau\",\"serviceName\":\"nudm-ueau\","
      "\"versions\":[{\"apiFullVersion\":\"1.3.0\",\"apiVersionInUri\":\"v1\"}]}";
  char want[2048];
  snprintf(want, sizeof(want),
           "{\"allowedNfTypes\":[\"AUSF\"],\"ipv4Addresses\":[\"127.0.0.1\"],"
           "\"nfInstanceId\":\"3fa85f64-5717-4562-b3fc-2c963f66afa6\",\"nfServiceList\":"
           "{\"nudm-ueau\":%s},\"nfServices\":[%s],\"nfStatus\":\"REGISTERED\",\"nfType\":\"UDM\","
           "\"udmInfo\":{\"groupId\":\"g1\",\"routingIndicators\":[\"0000\",\"12\"],\"supiRanges\":"
           "[{\"end\":\"00101999\",\"start\":\"00101000\"},{\"pattern\":\"^imsi-1\"}]}}",
           svc, svc);
  assert_string_equal(text, want);
  free(text);
  json_decref(p);
  kedge_nrf_config_clear(&cfg);
  kedge_config_free(conf);
}

/* TS 29.510 6.1.6.2.3 NFService.scheme (TS 29.571 UriScheme): a UDM on sbi.transport h2c is
 * reached over http; announcing https sent Open5GS's AUSF into a TLS handshake with a plain
 * HTTP/2 port (make interop, docs/interop.md). Every service and the service map say http. */
static void test_h2c_profile_scheme(void **state)
{
  (void)state;
  kedge_config_t *conf;
  kedge_nrf_config_t cfg;
  assert_int_equal(load("nrf: {uri: 'https://nrf.example:8000', ca: ca.crt}\n", &conf, &cfg),
                   KEDGE_OK);
  kedge_nrf_self_t self = {.nf_instance_id = "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                           .nf_type = "UDM",
                           .address = "127.0.0.1",
                           .port = 8001,
                           .services = udm_services,
                           .h2c = true};
  json_t *p = kedge_nrf_profile(&cfg, &self);
  assert_non_null(p);
  json_t *svc = json_array_get(json_object_get(p, "nfServices"), 0);
  assert_string_equal(json_string_value(json_object_get(svc, "scheme")), "http");
  json_t *mapped = json_object_get(json_object_get(p, "nfServiceList"), "nudm-ueau");
  assert_string_equal(json_string_value(json_object_get(mapped, "scheme")), "http");
  json_decref(p);
  self.h2c = false;
  p = kedge_nrf_profile(&cfg, &self);
  assert_non_null(p);
  svc = json_array_get(json_object_get(p, "nfServices"), 0);
  assert_string_equal(json_string_value(json_object_get(svc, "scheme")), "https");
  json_decref(p);
  kedge_nrf_config_clear(&cfg);
  kedge_config_free(conf);
}

static void test_ausf_profile_ipv6(void **state)
{
  (void)state;
  kedge_config_t *conf;
  kedge_nrf_config_t cfg;
  assert_int_equal(load("nrf: {uri: 'https://[::1]:8000', ca: ca.crt}\n", &conf, &cfg), KEDGE_OK);
  const kedge_nrf_self_t self = {.nf_instance_id = "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                                 .nf_type = "AUSF",
                                 .address = "::1",
                                 .port = 8002,
                                 .services = ausf_services};
  json_t *p = kedge_nrf_profile(&cfg, &self);
  assert_non_null(p);
  assert_null(json_object_get(p, "ipv4Addresses"));
  assert_string_equal(json_string_value(json_array_get(json_object_get(p, "ipv6Addresses"), 0)),
                      "::1");
  json_t *services = json_object_get(p, "nfServices");
  assert_int_equal(json_array_size(services), 2);
  assert_string_equal(
      json_string_value(json_object_get(json_array_get(services, 1), "serviceName")),
      "nausf-kedge");
  json_t *ep = json_array_get(json_object_get(json_array_get(services, 0), "ipEndPoints"), 0);
  assert_string_equal(json_string_value(json_object_get(ep, "ipv6Address")), "::1");
  assert_int_equal(json_integer_value(json_object_get(ep, "port")), 8002);
  assert_null(json_object_get(p, "allowedNfTypes")); /* none configured: any */
  assert_int_equal(json_object_size(json_object_get(p, "ausfInfo")), 0);
  assert_null(json_object_get(p, "udmInfo"));
  json_decref(p);
  kedge_config_free(conf);
}

/* The AAnF (aanfInfoList) and the NEF (nefInfo), with nf.fqdn, priority and capacity
 * (TS 29.510 6.1.6.2.2); a bad fqdn or priority is refused. */
static void test_aanf_nef_profiles(void **state)
{
  (void)state;
  kedge_config_t *conf;
  kedge_nrf_config_t cfg;
  static const char *const aanf_services[] = {"naanf-akma", NULL};
  static const char *const nef_services[] = {"3gpp-kedge", "3gpp-akma", NULL};
  assert_int_equal(load("nf: {fqdn: aanf.example.org}\n"
                        "nrf: {uri: 'https://nrf', ca: ca.crt, routing_indicators: ['7'],"
                        " priority: 3, capacity: 500}\n",
                        &conf, &cfg),
                   KEDGE_OK);
  kedge_nrf_self_t self = {.nf_instance_id = "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                           .nf_type = "AANF",
                           .address = "127.0.0.1",
                           .port = 8006,
                           .services = aanf_services};
  json_t *p = kedge_nrf_profile(&cfg, &self);
  assert_non_null(p);
  char *text = json_dumps(json_object_get(p, "aanfInfoList"), JSON_COMPACT);
  assert_string_equal(text, "{\"1\":{\"routingIndicators\":[\"7\"]}}");
  free(text);
  assert_string_equal(json_string_value(json_object_get(p, "fqdn")), "aanf.example.org");
  assert_int_equal(json_integer_value(json_object_get(p, "priority")), 3);
  assert_int_equal(json_integer_value(json_object_get(p, "capacity")), 500);
  json_t *svc = json_object_get(json_object_get(p, "nfServiceList"), "naanf-akma");
  assert_string_equal(json_string_value(json_object_get(
                          json_array_get(json_object_get(svc, "versions"), 0), "apiFullVersion")),
                      "1.1.0-alpha.4"); /* TS29535_Naanf_AKMA.yaml */
  assert_null(json_object_get(p, "nefInfo"));
  json_decref(p);
  self.nf_type = "NEF";
  self.services = nef_services;
  p = kedge_nrf_profile(&cfg, &self);
  assert_string_equal(json_string_value(json_object_get(json_object_get(p, "nefInfo"), "nefId")),
                      self.nf_instance_id);
  assert_null(json_object_get(p, "aanfInfoList"));
  assert_int_equal(json_array_size(json_object_get(p, "nfServices")), 2);
  json_decref(p);
  kedge_nrf_config_clear(&cfg);
  kedge_config_free(conf);
  assert_int_equal(load("nf: {fqdn: 'a b'}\nnrf: {uri: 'https://nrf', ca: c}\n", &conf, &cfg),
                   KEDGE_ERR_CONFIG);
  kedge_nrf_config_clear(&cfg);
  kedge_config_free(conf);
  assert_int_equal(load("nrf: {uri: 'https://nrf', ca: c, priority: 70000}\n", &conf, &cfg),
                   KEDGE_ERR_CONFIG);
  kedge_nrf_config_clear(&cfg);
  kedge_config_free(conf);
}

static void test_bad_config(void **state)
{
  (void)state;
  static const struct {
    const char *yaml, *error;
  } cases[] = {
      {"nrf: {uri: 'http://nrf:80', ca: c}\n", "t.yaml:1: nrf.uri: must start with https://"},
      {"nrf: {uri: 'https://nrf'}\n", "nrf.ca: missing"},
      {"nrf: {uri: 'https://nrf', ca: c, routing_indicators: ['12345']}\n", "1 to 4 digits"},
      {"nrf: {uri: 'https://nrf', ca: c, supi_ranges: [{start: '1'}]}\n",
       "start and end, or pattern"},
      {"nrf: {uri: 'https://nrf', ca: c, supi_ranges: [{start: '1', end: '2', pattern: x}]}\n",
       "not both"},
      {"nrf: {uri: 'https://nrf', ca: c, supi_ranges: [{start: '19', end: '2'}]}\n",
       "equal length"},
      {"nrf: {uri: 'https://nrf', ca: c, retry_min: 5s, retry_max: 1s}\n", "not be below"},
      {"nrf: {uri: 'https://nrf', ca: c, colour: red}\n", "nrf.colour: unknown key"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    kedge_config_t *conf;
    kedge_nrf_config_t cfg;
    assert_int_equal(load(cases[i].yaml, &conf, &cfg), KEDGE_ERR_CONFIG);
    const char *e = kedge_config_error(conf);
    if (!e || !strstr(e, cases[i].error))
      fail_msg("case %zu: want \"%s\" in \"%s\"", i, cases[i].error, e ? e : "(none)");
    kedge_nrf_config_clear(&cfg);
    kedge_config_free(conf);
  }
}

static void test_heartbeat_and_backoff(void **state)
{
  (void)state;
  json_t *a = json_pack("{s:i}", "heartBeatTimer", 7);
  assert_int_equal(kedge_nrf_heartbeat_ms(a, 60000), 7000); /* TS 29.510: seconds */
  json_object_set_new(a, "heartBeatTimer", json_integer(0));
  assert_int_equal(kedge_nrf_heartbeat_ms(a, 60000), 60000);
  json_object_set_new(a, "heartBeatTimer", json_string("7"));
  assert_int_equal(kedge_nrf_heartbeat_ms(a, 60000), 60000);
  json_object_set_new(a, "heartBeatTimer", json_integer(-3));
  assert_int_equal(kedge_nrf_heartbeat_ms(a, 60000), 60000);
  assert_int_equal(kedge_nrf_heartbeat_ms(NULL, 1234), 1234);
  json_decref(a);

  kedge_nrf_config_t cfg = {.retry_min_ms = 100, .retry_max_ms = 500};
  int64_t ms = 0, seen[6];
  for (int i = 0; i < 6; i++)
    seen[i] = ms = kedge_nrf_backoff_ms(&cfg, ms);
  assert_int_equal(seen[0], 100);
  assert_int_equal(seen[1], 200);
  assert_int_equal(seen[2], 400);
  assert_int_equal(seen[3], 500);
  assert_int_equal(seen[5], 500);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_no_section),
      cmocka_unit_test(test_udm_profile),
      cmocka_unit_test(test_h2c_profile_scheme),
      cmocka_unit_test(test_ausf_profile_ipv6),
      cmocka_unit_test(test_aanf_nef_profiles),
      cmocka_unit_test(test_bad_config),
      cmocka_unit_test(test_heartbeat_and_backoff),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
