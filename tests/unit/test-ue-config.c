/* kedge-ue's configuration (daemons/ue/config.c): a complete file read into ue_config_t (OP
 * converted to OPc, defaults for routing indicator, serving network, timeout and log), and each
 * mistake reported as the one line "FILE:LINE: key: problem" without quoting a key's value. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kedge/hex.h"
#include "kedge/milenage.h"
#include "ue.h"

#define K_HEX   "465b5ce8b199b49faa5f0a2ee238a6bc"
#define OPC_HEX "cd63cb71954a9f4e48a5994e37a02baf"
#define OP_HEX  "cdc202d5123e20f62b6d676ac72cb318"

/* A full file; tests replace one line of it. */
static const char good[] = "log:\n"                                        /* 1 */
                           "  level: info\n"                               /* 2 */
                           "usim:\n"                                       /* 3 */
                           "  supi: imsi-001010000000001\n"                /* 4 */
                           "  k: " K_HEX "\n"                              /* 5 */
                           "  opc: " OPC_HEX "\n"                          /* 6 */
                           "  routing_indicator: \"012\"\n"                /* 7 */
                           "  home_network: {mcc: \"001\", mnc: \"01\"}\n" /* 8 */
                           "  sqn_file: /var/lib/kedge/ue.sqn\n"           /* 9 */
                           "serving_network:\n"                            /* 10 */
                           "  mcc: \"208\"\n"                              /* 11 */
                           "  mnc: \"93\"\n"                               /* 12 */
                           "ausf:\n"                                       /* 13 */
                           "  uri: https://127.0.0.1:8443/\n"              /* 14 */
                           "  ca: pki/ca.crt\n"                            /* 15 */
                           "  cert: pki/seaf.crt\n"                        /* 16 */
                           "  key: pki/seaf.key\n"                         /* 17 */
                           "  timeout: 2s\n";                              /* 18 */

/* Loads `text` as "ue.yaml"; returns the error and copies the error line. */
static kedge_err_t load(const char *text, ue_config_t *cfg, char *line, size_t size)
{
  kedge_config_t *conf = NULL;
  char err_line[KEDGE_CONFIG_ERR_MAX] = "";
  line[0] = '\0';
  kedge_err_t err =
      kedge_config_load_buffer("ue.yaml", text, strlen(text), &conf, err_line, sizeof(err_line));
  if (err) {
    snprintf(line, size, "%s", err_line);
    return err;
  }
  err = ue_config_read(kedge_config_root(conf), cfg);
  kedge_err_t e = kedge_config_finish(conf);
  if (!err)
    err = e;
  if (kedge_config_error(conf))
    snprintf(line, size, "%s", kedge_config_error(conf));
  kedge_config_free(conf);
  return err;
}

/* `good` with line `n` (1-based) replaced by `repl` (which may hold several lines or none). */
static char *with_line(int n, const char *repl)
{
  static char buf[4096];
  const char *p = good;
  size_t out = 0;
  for (int i = 1; *p; i++) {
    const char *end = strchr(p, '\n') + 1;
    if (i == n)
      out += (size_t)snprintf(buf + out, sizeof(buf) - out, "%s", repl);
    else
      out += (size_t)snprintf(buf + out, sizeof(buf) - out, "%.*s", (int)(end - p), p);
    p = end;
  }
  return buf;
}

static void expect_error(const char *text, const char *line_start)
{
  ue_config_t cfg;
  char line[KEDGE_CONFIG_ERR_MAX];
  kedge_err_t err = load(text, &cfg, line, sizeof(line));
  if (err != KEDGE_ERR_CONFIG || strncmp(line, line_start, strlen(line_start)) != 0)
    fail_msg("expected \"%s...\", got %s: \"%s\"", line_start, kedge_strerror(err), line);
  assert_null(strchr(line, '\n'));
  /* never a key's value in the message */
  assert_null(strstr(line, "465b5ce8"));
  assert_null(strstr(line, "cd63cb71"));
  assert_null(strstr(line, "cdc202d5"));
}

static void test_good_file(void **state)
{
  ue_config_t cfg;
  char line[KEDGE_CONFIG_ERR_MAX];
  assert_int_equal(load(good, &cfg, line, sizeof(line)), KEDGE_OK);
  assert_string_equal(cfg.usim.supi.value, "imsi-001010000000001");
  assert_int_equal(cfg.usim.supi.type, KEDGE_SUPI_IMSI);
  uint8_t k[16], opc[16];
  kedge_hex_decode(K_HEX, k, 16);
  kedge_hex_decode(OPC_HEX, opc, 16);
  assert_memory_equal(cfg.usim.cred.k, k, 16);
  assert_memory_equal(cfg.usim.cred.opc, opc, 16);
  assert_string_equal(cfg.usim.rid, "012"); /* as provisioned: "012" is not "12" */
  assert_string_equal(cfg.usim.home.mcc, "001");
  assert_string_equal(cfg.usim.home.mnc, "001");
  assert_string_equal(cfg.usim.sqn_file, "/var/lib/kedge/ue.sqn");
  assert_string_equal(cfg.serving.mcc, "208");
  assert_string_equal(cfg.serving.mnc, "093");
  assert_string_equal(cfg.snn, "5G:mnc093.mcc208.3gppnetwork.org");
  assert_string_equal(cfg.ausf_uri, "https://127.0.0.1:8443"); /* trailing '/' dropped */
  assert_string_equal(cfg.ca, "pki/ca.crt");
  assert_string_equal(cfg.cert, "pki/seaf.crt");
  assert_string_equal(cfg.key, "pki/seaf.key");
  assert_int_equal(cfg.timeout_ms, 2000);
  assert_int_equal(cfg.log_level, KEDGE_LOG_INFO);
  ue_config_clear(&cfg);
  static const uint8_t zero[sizeof(cfg.usim.cred)];
  assert_memory_equal(&cfg.usim.cred, zero, sizeof(zero)); /* wiped */
}

static void test_defaults_and_op(void **state)
{
  /* No log section, OP instead of OPc, no RID, no serving network, no timeout, NAI SUPI. */
  static const char text[] = "usim:\n"
                             "  supi: nai-alice@example.org\n"
                             "  k: " K_HEX "\n"
                             "  op: " OP_HEX "\n"
                             "  home_network: {mcc: \"001\", mnc: \"001\"}\n"
                             "  sqn_file: ue.sqn\n"
                             "ausf:\n"
                             "  uri: https://ausf.kedge.test:7777/prefix\n"
                             "  ca: ca.crt\n"
                             "  cert: seaf.crt\n"
                             "  key: seaf.key\n";
  ue_config_t cfg;
  char line[KEDGE_CONFIG_ERR_MAX];
  assert_int_equal(load(text, &cfg, line, sizeof(line)), KEDGE_OK);
  assert_int_equal(cfg.usim.supi.type, KEDGE_SUPI_NAI);
  uint8_t k[16], op[16], opc[16];
  kedge_hex_decode(K_HEX, k, 16);
  kedge_hex_decode(OP_HEX, op, 16);
  assert_int_equal(kedge_milenage_opc(k, op, opc), KEDGE_OK);
  assert_memory_equal(cfg.usim.cred.opc, opc, 16); /* TS 35.206 4.1 */
  assert_string_equal(cfg.usim.rid, "0");
  assert_memory_equal(&cfg.serving, &cfg.usim.home, sizeof(cfg.serving));
  assert_string_equal(cfg.snn, "5G:mnc001.mcc001.3gppnetwork.org");
  assert_string_equal(cfg.ausf_uri, "https://ausf.kedge.test:7777/prefix");
  assert_int_equal(cfg.timeout_ms, 5000);
  assert_int_equal(cfg.log_level, KEDGE_LOG_WARN);
  assert_false(cfg.log_json);
}

static void test_unknown_keys(void **state)
{
  expect_error(with_line(7, "  routing_indicatr: \"0\"\n"),
               "ue.yaml:7: usim.routing_indicatr: unknown key");
  expect_error(with_line(18, "  timeout: 2s\n  retries: 3\n"),
               "ue.yaml:19: ausf.retries: unknown key");
  expect_error(with_line(1, "sbi:\n  port: 1\nlog:\n"), "ue.yaml:1: sbi: unknown key");
}

static void test_bad_hex(void **state)
{
  expect_error(with_line(5, "  k: 465b5ce8b199b49faa5f0a2ee238a6\n"),
               "ue.yaml:5: usim.k: must be 32 hex digits (16 octets)");
  expect_error(with_line(5, "  k: 465b5ce8b199b49faa5f0a2ee238a6bx\n"),
               "ue.yaml:5: usim.k: must be 32 hex digits");
  expect_error(with_line(6, "  opc: cd63cb71954a9f4e48a5994e37a02bafcd\n"),
               "ue.yaml:6: usim.opc: must be 32 hex digits");
  expect_error(with_line(6, "  op: zz\n"), "ue.yaml:6: usim.op: must be 32 hex digits");
}

static void test_bad_values(void **state)
{
  expect_error(with_line(4, "  supi: imsi-12\n"),
               "ue.yaml:4: usim.supi: must be imsi-<5 to 15 digits> or nai-<user>@<realm>");
  expect_error(with_line(4, "  supi: 001010000000001\n"), "ue.yaml:4: usim.supi: must be");
  expect_error(with_line(4, "  supi: nai-nobody\n"), "ue.yaml:4: usim.supi: must be");
  expect_error(with_line(7, "  routing_indicator: 12345\n"),
               "ue.yaml:7: usim.routing_indicator: must be 1 to 4 decimal digits");
  expect_error(with_line(7, "  routing_indicator: ab\n"),
               "ue.yaml:7: usim.routing_indicator: must be 1 to 4 decimal digits");
  expect_error(with_line(8, "  home_network: {mcc: \"01\", mnc: \"01\"}\n"),
               "ue.yaml:8: usim.home_network.mcc: must be 3 digits");
  expect_error(with_line(8, "  home_network: {mcc: \"001\", mnc: \"1\"}\n"),
               "ue.yaml:8: usim.home_network.mnc: must be 2 or 3 digits");
  expect_error(with_line(12, "  mnc: \"9a\"\n"), "ue.yaml:12: serving_network.mnc: must be 2 or 3");
  expect_error(with_line(14, "  uri: http://127.0.0.1:8443\n"),
               "ue.yaml:14: ausf.uri: must be https://");
  expect_error(with_line(14, "  uri: https://127.0.0.1:8443/?x=1\n"),
               "ue.yaml:14: ausf.uri: must be https://");
  expect_error(with_line(14, "  uri: https://user@127.0.0.1:8443\n"),
               "ue.yaml:14: ausf.uri: must be https://");
  expect_error(with_line(14, "  uri: 127.0.0.1:8443\n"), "ue.yaml:14: ausf.uri: must be https://");
  expect_error(with_line(18, "  timeout: 5\n"), "ue.yaml:18: ausf.timeout: must be a duration");
  expect_error(with_line(2, "  level: loud\n"),
               "ue.yaml:2: log.level: must be error, warn, info or debug");
  expect_error(with_line(6, "  opc: " OPC_HEX "\n  op: " OP_HEX "\n"),
               "ue.yaml:7: usim.op: give either opc or op, not both");
  expect_error(with_line(4, "  supi: [imsi-001010000000001]\n"), "ue.yaml:4: usim.supi:");
}

static void test_missing_keys(void **state)
{
  expect_error(with_line(4, ""), "ue.yaml:4: usim.supi: missing (required)");
  expect_error(with_line(5, ""), "ue.yaml:4: usim.k: missing (required)");
  expect_error(with_line(6, ""), "ue.yaml:4: usim.opc: missing (required; or give op)");
  expect_error(with_line(8, ""), "ue.yaml:4: usim.home_network: missing (required)");
  expect_error(with_line(8, "  home_network: {mcc: \"001\"}\n"),
               "ue.yaml:8: usim.home_network.mnc: missing (required)");
  expect_error(with_line(9, ""), "ue.yaml:4: usim.sqn_file: missing (required)");
  expect_error(with_line(12, ""), "ue.yaml:11: serving_network.mnc: missing (required)");
  expect_error(with_line(14, ""), "ue.yaml:14: ausf.uri: missing (required)");
  expect_error(with_line(15, ""), "ue.yaml:14: ausf.ca: missing (required)");
  expect_error(with_line(16, ""), "ue.yaml:14: ausf.cert: missing (required)");
  expect_error(with_line(17, ""), "ue.yaml:14: ausf.key: missing (required)");
  expect_error("log:\n  level: info\n", "ue.yaml:1: usim.supi: missing (required)");
}

static void test_load_file(void **state)
{
  char dir[] = "/tmp/kedge-test-ue-config-XXXXXX", path[128], why[KEDGE_CONFIG_ERR_MAX];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof(path), "%s/ue.yaml", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(with_line(5, "  k: nothex\n"), f);
  fclose(f);
  ue_config_t cfg;
  /* issue 12: K and OPc in a file others may read: refused before it is parsed */
  assert_int_equal(chmod(path, 0640), 0);
  assert_int_equal(ue_config_load(path, &cfg, why, sizeof(why)), KEDGE_ERR_FORBIDDEN);
  char expect[512];
  snprintf(expect, sizeof(expect),
           "%s: K and OPc (usim:) is readable by group or others (mode 640): chmod 600 %s", path,
           path);
  assert_string_equal(why, expect);
  assert_int_equal(chmod(path, 0600), 0);
  assert_int_equal(ue_config_load(path, &cfg, why, sizeof(why)), KEDGE_ERR_CONFIG);
  snprintf(expect, sizeof(expect), "%s:5: usim.k: must be 32 hex digits", path);
  assert_memory_equal(why, expect, strlen(expect));
  f = fopen(path, "w");
  fputs(good, f);
  fclose(f);
  assert_int_equal(ue_config_load(path, &cfg, why, sizeof(why)), KEDGE_OK);
  assert_string_equal(cfg.usim.supi.value, "imsi-001010000000001");
  ue_config_clear(&cfg);
  unlink(path);
  assert_int_equal(ue_config_load(path, &cfg, why, sizeof(why)), KEDGE_ERR_IO);
  rmdir(dir);
}

/* conf/ue.yaml, the documented sample, is a valid file. */
static void test_sample_config(void **state)
{
  ue_config_t cfg;
  char why[KEDGE_CONFIG_ERR_MAX] = "";
  /* a copy with mode 0600, as an operator installs it (git keeps 0644) */
  char dir[] = "/tmp/kedge-test-ue-sample-XXXXXX", path[128], line[512];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof(path), "%s/ue.yaml", dir);
  FILE *in = fopen(KEDGE_SOURCE_DIR "/conf/ue.yaml", "r");
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
  assert_non_null(in);
  assert_non_null(out);
  while (fgets(line, sizeof(line), in))
    fputs(line, out);
  fclose(in);
  fclose(out);
  kedge_err_t err = ue_config_load(path, &cfg, why, sizeof(why));
  unlink(path);
  rmdir(dir);
  if (err != KEDGE_OK)
    fail_msg("conf/ue.yaml: %s", why);
  assert_string_equal(cfg.usim.supi.value, "imsi-001010000000001");
  assert_string_equal(cfg.snn, "5G:mnc001.mcc001.3gppnetwork.org");
  ue_config_clear(&cfg);
}

/* usim.suci (TS 31.102 SUCI_Calc_Info): each request's supiOrSuci is a new SUCI that the
 * home network's private key de-conceals to the SUPI. */
static void test_suci(void **state)
{
  for (int profile = 1; profile <= 2; profile++) {
    uint8_t priv[32], pub[33];
    size_t pub_len;
    char hex[67], text[2048], line[KEDGE_CONFIG_ERR_MAX];
    assert_int_equal(kedge_ecies_keygen((kedge_ecies_profile_t)profile, priv, pub, &pub_len),
                     KEDGE_OK);
    kedge_hex_encode(pub, pub_len, hex);
    char repl[400];
    snprintf(repl, sizeof(repl),
             "  sqn_file: ue.sqn\n  suci:\n    protection_scheme: %s\n"
             "    home_network_public_key_id: 17\n    home_network_public_key: %s\n",
             profile == 1 ? "A" : "B", hex);
    snprintf(text, sizeof(text), "%s", with_line(9, repl));
    ue_config_t cfg;
    assert_int_equal(load(text, &cfg, line, sizeof(line)), KEDGE_OK);
    assert_true(cfg.usim.conceal);
    assert_int_equal(cfg.usim.hn_key_id, 17);
    kedge_suci_keys_t *keys;
    assert_int_equal(kedge_suci_keys_new(&keys), KEDGE_OK);
    assert_int_equal(kedge_suci_keys_add(keys, 17, (kedge_ecies_profile_t)profile, priv), KEDGE_OK);
    char first[KEDGE_SUCI_MAX + 1] = "";
    for (int i = 0; i < 2; i++) {
      json_t *b = ue_authentication_info(&cfg, NULL, NULL);
      assert_non_null(b);
      const char *id = json_string_value(json_object_get(b, "supiOrSuci"));
      char want[40];
      snprintf(want, sizeof(want), "suci-0-001-01-012-%d-17-", profile);
      assert_int_equal(strncmp(id, want, strlen(want)), 0);
      assert_string_not_equal(id, first); /* a fresh ephemeral key each time */
      snprintf(first, sizeof(first), "%s", id);
      kedge_suci_t suci;
      kedge_supi_t supi;
      assert_int_equal(kedge_suci_parse(id, &suci, NULL), KEDGE_OK);
      assert_int_equal(kedge_suci_deconceal(keys, &suci, &supi), KEDGE_OK);
      assert_string_equal(supi.value, "imsi-001010000000001");
      json_decref(b);
    }
    kedge_suci_keys_free(keys);
    ue_config_clear(&cfg);
    /* the wrong size for the profile, a missing id, an IMSI outside the home network */
    snprintf(repl, sizeof(repl),
             "  sqn_file: ue.sqn\n  suci:\n    protection_scheme: %s\n"
             "    home_network_public_key_id: 17\n    home_network_public_key: %s00\n",
             profile == 1 ? "A" : "B", hex);
    expect_error(with_line(9, repl), "ue.yaml:13: usim.suci.home_network_public_key: must be");
  }
  expect_error(with_line(9, "  sqn_file: x\n  suci: {protection_scheme: C}\n"),
               "ue.yaml:10: usim.suci.protection_scheme: must be null, A or B");
  expect_error(with_line(9, "  sqn_file: x\n  suci: {protection_scheme: A}\n"),
               "ue.yaml:10: usim.suci.home_network_public_key_id: missing");
  expect_error(with_line(8, "  home_network: {mcc: \"002\", mnc: \"01\"}\n"
                            "  suci: {protection_scheme: \"null\"}\n"),
               "ue.yaml:4: usim.supi: an IMSI must begin");
  /* null scheme: the MSIN in clear, still a SUCI */
  ue_config_t cfg;
  char line[KEDGE_CONFIG_ERR_MAX];
  assert_int_equal(load(with_line(9, "  sqn_file: x\n  suci: {protection_scheme: \"null\"}\n"),
                        &cfg, line, sizeof(line)),
                   KEDGE_OK);
  json_t *b = ue_authentication_info(&cfg, NULL, NULL);
  assert_string_equal(json_string_value(json_object_get(b, "supiOrSuci")),
                      "suci-0-001-01-012-0-0-0000000001");
  json_decref(b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_file),    cmocka_unit_test(test_defaults_and_op),
      cmocka_unit_test(test_unknown_keys), cmocka_unit_test(test_bad_hex),
      cmocka_unit_test(test_bad_values),   cmocka_unit_test(test_missing_keys),
      cmocka_unit_test(test_load_file),    cmocka_unit_test(test_sample_config),
      cmocka_unit_test(test_suci),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
