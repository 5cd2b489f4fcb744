/* The common sbi: YAML section: defaults, every key read, limits converted, bad values and
 * unknown keys reported with file:line: key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kedge/config.h"
#include "kedge/sbi_server.h"

static kedge_err_t load(const char *yaml, kedge_config_t **conf, kedge_sbi_server_config_t *cfg)
{
  char err[KEDGE_CONFIG_ERR_MAX];
  assert_int_equal(kedge_config_load_buffer("t.yaml", yaml, strlen(yaml), conf, err, sizeof(err)),
                   KEDGE_OK);
  kedge_sbi_server_config_defaults(cfg);
  kedge_config_node_t *sbi;
  kedge_config_map(kedge_config_root(*conf), "sbi", &sbi);
  kedge_err_t e = kedge_sbi_server_config_read(sbi, cfg);
  kedge_err_t f = kedge_config_finish(*conf);
  return e ? e : f;
}

static void test_defaults(void **state)
{
  kedge_sbi_server_config_t cfg;
  kedge_sbi_server_config_defaults(&cfg);
  assert_string_equal(cfg.address, "127.0.0.1");
  assert_int_equal(cfg.port, 0);
  assert_int_equal(cfg.workers, 1);
  assert_int_equal(cfg.verify, KEDGE_SBI_VERIFY_REQUIRED);
  assert_false(cfg.tls12_allowed);
  assert_int_equal(cfg.limits.max_body, 65536);
  assert_int_equal(cfg.limits.max_header_list, 16384);
  assert_int_equal(cfg.limits.max_streams, 128);
  assert_int_equal(cfg.limits.max_connections, 1024);
  assert_int_equal(cfg.limits.idle_timeout_ms, 60000);
  assert_int_equal(cfg.limits.handshake_timeout_ms, 10000);
  assert_true(cfg.metrics_enabled);
  assert_string_equal(cfg.metrics_address, "127.0.0.1");

  kedge_config_t *conf;
  assert_int_equal(load("sbi:\n", &conf, &cfg), KEDGE_OK); /* empty section: defaults */
  assert_int_equal(cfg.limits.max_body, 65536);
  kedge_config_free(conf);
}

static void test_all_keys(void **state)
{
  kedge_config_t *conf;
  kedge_sbi_server_config_t cfg;
  assert_int_equal(load("sbi:\n"
                        "  address: ::1\n"
                        "  port: 7777\n"
                        "  workers: 4\n"
                        "  tls:\n"
                        "    cert: a.crt\n"
                        "    key: a.key\n"
                        "    ca: ca.crt\n"
                        "    client_verification: optional\n"
                        "    tls12: true\n"
                        "  limits:\n"
                        "    max_body: 1MiB\n"
                        "    max_header_list: 8KiB\n"
                        "    max_streams: 10\n"
                        "    max_connections: 5\n"
                        "    idle_timeout: 2m\n"
                        "    handshake_timeout: 500ms\n"
                        "    shutdown_grace: 3s\n"
                        "  metrics:\n"
                        "    enabled: false\n"
                        "    address: 0.0.0.0\n"
                        "    port: 9464\n",
                        &conf, &cfg),
                   KEDGE_OK);
  assert_string_equal(cfg.address, "::1");
  assert_int_equal(cfg.port, 7777);
  assert_int_equal(cfg.workers, 4);
  assert_string_equal(cfg.cert_file, "a.crt");
  assert_string_equal(cfg.key_file, "a.key");
  assert_string_equal(cfg.ca_file, "ca.crt");
  assert_int_equal(cfg.verify, KEDGE_SBI_VERIFY_OPTIONAL);
  assert_true(cfg.tls12_allowed);
  assert_int_equal(cfg.limits.max_body, 1048576);
  assert_int_equal(cfg.limits.max_header_list, 8192);
  assert_int_equal(cfg.limits.max_streams, 10);
  assert_int_equal(cfg.limits.max_connections, 5);
  assert_int_equal(cfg.limits.idle_timeout_ms, 120000);
  assert_int_equal(cfg.limits.handshake_timeout_ms, 500);
  assert_int_equal(cfg.limits.shutdown_grace_ms, 3000);
  assert_false(cfg.metrics_enabled);
  assert_string_equal(cfg.metrics_address, "0.0.0.0");
  assert_int_equal(cfg.metrics_port, 9464);
  kedge_config_free(conf);
}

static void expect_error(const char *yaml, const char *message)
{
  kedge_config_t *conf;
  kedge_sbi_server_config_t cfg;
  assert_int_equal(load(yaml, &conf, &cfg), KEDGE_ERR_CONFIG);
  const char *e = kedge_config_error(conf);
  if (!e || !strstr(e, message))
    fail_msg("error '%s' lacks '%s'", e ? e : "(none)", message);
  kedge_config_free(conf);
}

static void test_errors(void **state)
{
  expect_error("sbi:\n  port: 70000\n", "t.yaml:2: sbi.port");
  expect_error("sbi:\n  workers: 0\n", "t.yaml:2: sbi.workers");
  expect_error("sbi:\n  tls:\n    client_verification: maybe\n",
               "t.yaml:3: sbi.tls.client_verification: must be off, optional or required");
  expect_error("sbi:\n  limits:\n    max_body: 0\n", "t.yaml:3: sbi.limits.max_body");
  expect_error("sbi:\n  limits:\n    max_header_list: 10\n", "sbi.limits.max_header_list");
  expect_error("sbi:\n  limits:\n    idle_timeout: forever\n", "sbi.limits.idle_timeout");
  expect_error("sbi:\n  tls:\n    tls12: yes\n", "sbi.tls.tls12");
  expect_error("sbi:\n  limit:\n    max_body: 1\n", "t.yaml:2: sbi.limit");
}

static void test_server_new_checks_limits(void **state)
{
  kedge_sbi_server_config_t cfg;
  kedge_sbi_server_t *srv = NULL;
  kedge_sbi_server_config_defaults(&cfg);
  cfg.verify = KEDGE_SBI_VERIFY_OFF;
  cfg.workers = 0;
  assert_int_equal(kedge_sbi_server_new(&cfg, &srv), KEDGE_ERR_CONFIG);
  assert_null(srv);
  cfg.workers = 1;
  cfg.limits.max_streams = 0;
  assert_int_equal(kedge_sbi_server_new(&cfg, &srv), KEDGE_ERR_CONFIG);
  cfg.limits.max_streams = 10;
  cfg.cert_file = "/nonexistent/cert.pem";
  cfg.key_file = "/nonexistent/key.pem";
  assert_int_equal(kedge_sbi_server_new(&cfg, &srv), KEDGE_ERR_CONFIG);
  assert_null(srv);
  /* No certificate and no accept hook: created, but refuses to start. */
  cfg.cert_file = cfg.key_file = NULL;
  assert_int_equal(kedge_sbi_server_new(&cfg, &srv), KEDGE_OK);
  assert_int_equal(kedge_sbi_server_start(srv), KEDGE_ERR_CONFIG);
  kedge_sbi_server_free(srv);
}

/* The cached apiRoot (TS 29.501 4.4.1) is what it is built from: a configured string as it is,
 * else the same text kedge_sbi_server_api_root() writes. */
static void test_api_root_cached(void **state)
{
  (void)state;
  static const char a[] = "https://ausf.example:7443", b[] = "https://udm.example:8443";
  assert_ptr_equal(kedge_sbi_server_api_root_cached(NULL, a), a);
  assert_ptr_equal(kedge_sbi_server_api_root_cached(NULL, b), b);
  char built[300];
  kedge_sbi_server_api_root(NULL, NULL, built, sizeof(built));
  assert_string_equal(kedge_sbi_server_api_root_cached(NULL, NULL), built);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),        cmocka_unit_test(test_all_keys),
      cmocka_unit_test(test_errors),          cmocka_unit_test(test_server_new_checks_limits),
      cmocka_unit_test(test_api_root_cached),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
