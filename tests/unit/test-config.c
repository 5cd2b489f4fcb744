/* kedge_config: every getter with its default, each error line with its line number, unknown
 * and duplicate keys, refused YAML features, limits, sequences of maps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kedge/config.h"

static kedge_config_t *load(const char *yaml)
{
  kedge_config_t *cfg = NULL;
  char err[KEDGE_CONFIG_ERR_MAX] = "";
  kedge_err_t rc = kedge_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof err);
  if (rc != KEDGE_OK)
    fail_msg("load failed (%s): %s", kedge_strerror(rc), err);
  return cfg;
}

/* Loading must fail with `want` and exactly the error line `msg`. */
static void expect_load_error(const char *yaml, kedge_err_t want, const char *msg)
{
  kedge_config_t *cfg = (kedge_config_t *)1;
  char err[KEDGE_CONFIG_ERR_MAX] = "";
  kedge_err_t rc = kedge_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof err);
  assert_null(cfg);
  if (rc != want || strcmp(err, msg) != 0)
    fail_msg("yaml:\n%s\ngot  %d \"%s\"\nwant %d \"%s\"", yaml, rc, err, want, msg);
}

/* Loading must fail with an error line that starts with `prefix`. */
static void expect_load_error_prefix(const char *yaml, const char *prefix)
{
  kedge_config_t *cfg = NULL;
  char err[KEDGE_CONFIG_ERR_MAX] = "";
  kedge_err_t rc = kedge_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err, sizeof err);
  assert_null(cfg);
  assert_int_equal(rc, KEDGE_ERR_CONFIG);
  if (strncmp(err, prefix, strlen(prefix)) != 0)
    fail_msg("yaml:\n%s\ngot  \"%s\"\nwant \"%s...\"", yaml, err, prefix);
  assert_null(strchr(err, '\n'));
}

static void expect_error(kedge_config_t *cfg, const char *msg)
{
  const char *got = kedge_config_error(cfg);
  if (!got || strcmp(got, msg) != 0)
    fail_msg("got  \"%s\"\nwant \"%s\"", got ? got : "(none)", msg);
}

static const char sample[] =
    "# AUSF\n"                                    /* 1 */
    "sbi:\n"                                      /* 2 */
    "  host: 127.0.0.1\n"                         /* 3 */
    "  port: 7777\n"                              /* 4 */
    "  tls:\n"                                    /* 5 */
    "    cert: \"/etc/kedge/ausf.pem\"\n"         /* 6 */
    "log_level: debug\n"                          /* 7 */
    "edge:\n"                                     /* 8 */
    "  enabled: true\n"                           /* 9 */
    "  key_lifetime: 24h\n"                       /* 10 */
    "  offset: -3\n"                              /* 11 */
    "max_body: 64KiB\n"                           /* 12 */
    "peers: [udm.kedge.test, 'nef.kedge.test']\n" /* 13 */
    "allowed_consumers: [{name: seaf.kedge.test, serving_networks: "
    "[\"5G:mnc001.mcc001.3gppnetwork.org\"]}, {name: ecs.kedge.test, serving_networks: []}]\n"
    "empty:\n"    /* 15 */
    "tilde: ~\n"; /* 16 */

static void test_every_getter(void **state)
{
  kedge_config_t *cfg = load(sample);
  kedge_config_node_t *root = kedge_config_root(cfg);
  assert_string_equal(kedge_config_name(cfg), "t.yaml");

  const char *s;
  assert_int_equal(kedge_config_string(root, "sbi.host", "0.0.0.0", &s), KEDGE_OK);
  assert_string_equal(s, "127.0.0.1");
  int64_t i;
  assert_int_equal(kedge_config_int(root, "sbi.port", 80, 0, 65535, &i), KEDGE_OK);
  assert_int_equal(i, 7777);

  kedge_config_node_t *sbi, *tls;
  assert_int_equal(kedge_config_map(root, "sbi", &sbi), KEDGE_OK);
  assert_int_equal(kedge_config_line(sbi), 3);
  assert_int_equal(kedge_config_map(sbi, "tls", &tls), KEDGE_OK);
  assert_int_equal(kedge_config_string(tls, "cert", NULL, &s), KEDGE_OK);
  assert_string_equal(s, "/etc/kedge/ausf.pem");
  char path[64];
  kedge_config_path(tls, path, sizeof path);
  assert_string_equal(path, "sbi.tls");

  assert_int_equal(kedge_config_string(root, "log_level", "info", &s), KEDGE_OK);
  assert_string_equal(s, "debug");
  bool b = false;
  assert_int_equal(kedge_config_bool(root, "edge.enabled", false, &b), KEDGE_OK);
  assert_true(b);
  int64_t ms;
  assert_int_equal(kedge_config_duration(root, "edge.key_lifetime", 0, 0, INT64_MAX, &ms),
                   KEDGE_OK);
  assert_int_equal(ms, 24LL * 3600 * 1000);
  assert_int_equal(kedge_config_int(root, "edge.offset", 0, -10, 10, &i), KEDGE_OK);
  assert_int_equal(i, -3);
  uint64_t size;
  assert_int_equal(kedge_config_size(root, "max_body", 0, 0, UINT64_MAX, &size), KEDGE_OK);
  assert_int_equal(size, 65536);

  const char *const *list;
  size_t n;
  assert_int_equal(kedge_config_strings(root, "peers", &list, &n), KEDGE_OK);
  assert_int_equal(n, 2);
  assert_string_equal(list[0], "udm.kedge.test");
  assert_string_equal(list[1], "nef.kedge.test");
  assert_null(list[2]);

  kedge_config_node_t *const *items;
  assert_int_equal(kedge_config_maps(root, "allowed_consumers", &items, &n), KEDGE_OK);
  assert_int_equal(n, 2);
  assert_int_equal(kedge_config_string(items[0], "name", NULL, &s), KEDGE_OK);
  assert_string_equal(s, "seaf.kedge.test");
  assert_int_equal(kedge_config_strings(items[0], "serving_networks", &list, &n), KEDGE_OK);
  assert_int_equal(n, 1);
  assert_string_equal(list[0], "5G:mnc001.mcc001.3gppnetwork.org");
  kedge_config_path(items[0], path, sizeof path);
  assert_string_equal(path, "allowed_consumers[0]");
  assert_int_equal(kedge_config_line(items[0]), 14);
  assert_int_equal(kedge_config_string(items[1], "name", NULL, &s), KEDGE_OK);
  assert_string_equal(s, "ecs.kedge.test");
  assert_int_equal(kedge_config_strings(items[1], "serving_networks", &list, &n), KEDGE_OK);
  assert_int_equal(n, 0);
  assert_null(list[0]);

  /* Empty and ~ values mean "not set": the default. */
  assert_int_equal(kedge_config_string(root, "empty", "dflt", &s), KEDGE_OK);
  assert_string_equal(s, "dflt");
  assert_int_equal(kedge_config_int(root, "tilde", 5, 0, 9, &i), KEDGE_OK);
  assert_int_equal(i, 5);

  assert_int_equal(kedge_config_finish(cfg), KEDGE_OK);
  assert_null(kedge_config_error(cfg));
  kedge_config_free(cfg);
}

static void test_defaults_for_absent_keys(void **state)
{
  kedge_config_t *cfg = load("a: 1\n");
  kedge_config_node_t *root = kedge_config_root(cfg);
  const char *s;
  int64_t i, ms;
  uint64_t size;
  bool b;
  const char *const *list;
  kedge_config_node_t *const *items;
  kedge_config_node_t *m;
  size_t n = 99;
  assert_int_equal(kedge_config_string(root, "x", "d", &s), KEDGE_OK);
  assert_string_equal(s, "d");
  assert_int_equal(kedge_config_string(root, "x.y.z", NULL, &s), KEDGE_OK);
  assert_null(s);
  assert_int_equal(kedge_config_int(root, "x", -7, -10, 10, &i), KEDGE_OK);
  assert_int_equal(i, -7);
  assert_int_equal(kedge_config_bool(root, "x", true, &b), KEDGE_OK);
  assert_true(b);
  assert_int_equal(kedge_config_duration(root, "x", 1500, 0, 5000, &ms), KEDGE_OK);
  assert_int_equal(ms, 1500);
  assert_int_equal(kedge_config_size(root, "x", 4096, 0, 8192, &size), KEDGE_OK);
  assert_int_equal(size, 4096);
  assert_int_equal(kedge_config_strings(root, "x", &list, &n), KEDGE_OK);
  assert_int_equal(n, 0);
  assert_null(list[0]);
  n = 99;
  assert_int_equal(kedge_config_maps(root, "x", &items, &n), KEDGE_OK);
  assert_int_equal(n, 0);
  assert_int_equal(kedge_config_map(root, "x", &m), KEDGE_OK);
  assert_non_null(m);
  assert_int_equal(kedge_config_map_size(m), 0);
  assert_false(kedge_config_has(root, "x"));
  assert_true(kedge_config_has(root, "a"));
  /* A NULL node reads as an empty map. */
  assert_int_equal(kedge_config_int(NULL, "a", 3, 0, 9, &i), KEDGE_OK);
  assert_int_equal(i, 3);
  assert_int_equal(kedge_config_int(root, "a", 0, 0, 9, &i), KEDGE_OK);
  assert_int_equal(kedge_config_finish(cfg), KEDGE_OK);
  kedge_config_free(cfg);
}

static void test_empty_file_is_empty_map(void **state)
{
  const char *docs[] = {"", "# only a comment\n", "---\n", "~\n"};
  for (size_t k = 0; k < sizeof docs / sizeof docs[0]; k++) {
    kedge_config_t *cfg = load(docs[k]);
    int64_t i;
    assert_int_equal(kedge_config_int(kedge_config_root(cfg), "port", 8, 0, 9, &i), KEDGE_OK);
    assert_int_equal(i, 8);
    assert_int_equal(kedge_config_finish(cfg), KEDGE_OK);
    kedge_config_free(cfg);
  }
}

/* One getter on a one-key document: the error line it must record. */
typedef kedge_err_t (*getter_fn)(kedge_config_node_t *root);

static void expect_getter_error(const char *yaml, getter_fn get, const char *msg)
{
  kedge_config_t *cfg = load(yaml);
  assert_int_equal(get(kedge_config_root(cfg)), KEDGE_ERR_CONFIG);
  expect_error(cfg, msg);
  assert_int_equal(kedge_config_finish(cfg), KEDGE_ERR_CONFIG);
  expect_error(cfg, msg); /* finish reports the same first error */
  kedge_config_free(cfg);
}

static kedge_err_t get_port(kedge_config_node_t *root)
{
  int64_t v = 1;
  kedge_err_t rc = kedge_config_int(root, "sbi.port", 7777, 0, 65535, &v);
  assert_int_equal(v, 7777); /* the default on error */
  return rc;
}
static kedge_err_t get_count(kedge_config_node_t *root)
{
  return kedge_config_int(root, "count", 0, 1, INT64_MAX, NULL);
}
static kedge_err_t get_flag(kedge_config_node_t *root)
{
  bool v = true;
  kedge_err_t rc = kedge_config_bool(root, "flag", false, &v);
  assert_false(v);
  return rc;
}
static kedge_err_t get_timeout(kedge_config_node_t *root)
{
  int64_t v;
  return kedge_config_duration(root, "timeout", 1000, 1000, 3600000, &v);
}
static kedge_err_t get_max_body(kedge_config_node_t *root)
{
  uint64_t v;
  return kedge_config_size(root, "max_body", 1024, 1024, 1024 * 1024, &v);
}
static kedge_err_t get_name(kedge_config_node_t *root)
{
  const char *v;
  return kedge_config_string(root, "name", "x", &v);
}
static kedge_err_t get_peers(kedge_config_node_t *root)
{
  const char *const *v;
  size_t n;
  return kedge_config_strings(root, "peers", &v, &n);
}
static kedge_err_t get_tls(kedge_config_node_t *root)
{
  kedge_config_node_t *m;
  return kedge_config_map(root, "tls", &m);
}
static kedge_err_t get_consumers(kedge_config_node_t *root)
{
  kedge_config_node_t *const *items;
  size_t n;
  return kedge_config_maps(root, "allowed_consumers", &items, &n);
}

static void test_error_lines(void **state)
{
  expect_getter_error("a: 1\nsbi:\n  port: 70000\n", get_port,
                      "t.yaml:3: sbi.port: must be an integer 0..65535");
  expect_getter_error("sbi:\n  port: http\n", get_port,
                      "t.yaml:2: sbi.port: must be an integer 0..65535");
  expect_getter_error("sbi:\n  port: \"80\"\n", get_port, /* quoted: a string */
                      "t.yaml:2: sbi.port: must be an integer 0..65535");
  expect_getter_error("sbi:\n  port: 080\n", get_port,
                      "t.yaml:2: sbi.port: must be an integer 0..65535");
  expect_getter_error("sbi:\n  port: [1]\n", get_port,
                      "t.yaml:2: sbi.port: must be an integer 0..65535");
  expect_getter_error("sbi: 5\n", get_port, "t.yaml:1: sbi: must be a map");
  expect_getter_error("count: 0\n", get_count, "t.yaml:1: count: must be an integer >= 1");
  expect_getter_error("count: 99999999999999999999\n", get_count,
                      "t.yaml:1: count: must be an integer >= 1");
  expect_getter_error("\n\nflag: yes\n", get_flag, "t.yaml:3: flag: must be true or false");
  expect_getter_error("flag: 'true'\n", get_flag, "t.yaml:1: flag: must be true or false");
  expect_getter_error("timeout: 30x\n", get_timeout,
                      "t.yaml:1: timeout: must be a duration (500ms, 30s, 5m, 24h) in 1s..1h");
  expect_getter_error("timeout: 2h\n", get_timeout,
                      "t.yaml:1: timeout: must be a duration (500ms, 30s, 5m, 24h) in 1s..1h");
  expect_getter_error("timeout: 999ms\n", get_timeout,
                      "t.yaml:1: timeout: must be a duration (500ms, 30s, 5m, 24h) in 1s..1h");
  expect_getter_error("max_body: 2MiB\n", get_max_body,
                      "t.yaml:1: max_body: must be a size (1048576, 64KiB, 1MiB) in 1KiB..1MiB");
  expect_getter_error("max_body: lots\n", get_max_body,
                      "t.yaml:1: max_body: must be a size (1048576, 64KiB, 1MiB) in 1KiB..1MiB");
  expect_getter_error("name:\n  first: x\n", get_name, "t.yaml:2: name: must be a string");
  expect_getter_error("peers: a.test\n", get_peers,
                      "t.yaml:1: peers: must be a sequence of strings");
  expect_getter_error("peers:\n  - a.test\n  - {x: 1}\n", get_peers,
                      "t.yaml:3: peers[1]: must be a string");
  expect_getter_error("peers: [a, ~]\n", get_peers, "t.yaml:1: peers[1]: must be a string");
  expect_getter_error("tls: on\n", get_tls, "t.yaml:1: tls: must be a map (key: value)");
  expect_getter_error("allowed_consumers: {name: x}\n", get_consumers,
                      "t.yaml:1: allowed_consumers: must be a sequence of maps");
  expect_getter_error("allowed_consumers:\n  - name: x\n  - just-a-name\n", get_consumers,
                      "t.yaml:3: allowed_consumers[1]: must be a map (key: value)");
}

static void test_first_error_is_kept(void **state)
{
  kedge_config_t *cfg = load("a: x\nb: y\n");
  kedge_config_node_t *root = kedge_config_root(cfg);
  assert_int_equal(kedge_config_int(root, "a", 0, 0, 1, NULL), KEDGE_ERR_CONFIG);
  assert_int_equal(kedge_config_bool(root, "b", false, NULL), KEDGE_ERR_CONFIG);
  expect_error(cfg, "t.yaml:1: a: must be an integer 0..1");
  kedge_config_free(cfg);
}

static void test_unknown_keys(void **state)
{
  kedge_config_t *cfg = load("sbi:\n  port: 1\n  host: h\n  prot: 2\nlog: x\n");
  kedge_config_node_t *root = kedge_config_root(cfg);
  assert_int_equal(kedge_config_int(root, "sbi.port", 0, 0, 65535, NULL), KEDGE_OK);
  assert_int_equal(kedge_config_string(root, "sbi.host", NULL, NULL), KEDGE_OK);
  assert_int_equal(kedge_config_finish(cfg), KEDGE_ERR_CONFIG);
  expect_error(cfg, "t.yaml:4: sbi.prot: unknown key");
  kedge_config_free(cfg);

  /* A whole section nobody reads is reported at its key, not below it. */
  cfg = load("a: 1\nudm:\n  x: 1\n");
  assert_int_equal(kedge_config_int(kedge_config_root(cfg), "a", 0, 0, 9, NULL), KEDGE_OK);
  assert_int_equal(kedge_config_finish(cfg), KEDGE_ERR_CONFIG);
  expect_error(cfg, "t.yaml:2: udm: unknown key");
  kedge_config_free(cfg);

  /* kedge_config_has does not count as reading. */
  cfg = load("a: 1\n");
  assert_true(kedge_config_has(kedge_config_root(cfg), "a"));
  assert_int_equal(kedge_config_finish(cfg), KEDGE_ERR_CONFIG);
  expect_error(cfg, "t.yaml:1: a: unknown key");
  kedge_config_free(cfg);
}

static void test_sequence_of_maps_unknown_key(void **state)
{
  kedge_config_t *cfg = load("allowed_consumers:\n"
                             "  - name: seaf.kedge.test\n"
                             "    serving_networks: [\"5G:mnc001.mcc001.3gppnetwork.org\"]\n"
                             "  - name: ecs.kedge.test\n"
                             "    servng_networks: []\n");
  kedge_config_node_t *const *items;
  size_t n;
  assert_int_equal(kedge_config_maps(kedge_config_root(cfg), "allowed_consumers", &items, &n),
                   KEDGE_OK);
  assert_int_equal(n, 2);
  for (size_t k = 0; k < n; k++) {
    const char *name;
    const char *const *nets;
    size_t count;
    assert_int_equal(kedge_config_string(items[k], "name", NULL, &name), KEDGE_OK);
    assert_int_equal(kedge_config_strings(items[k], "serving_networks", &nets, &count), KEDGE_OK);
    assert_int_equal(count, k == 0 ? 1 : 0);
  }
  assert_int_equal(kedge_config_finish(cfg), KEDGE_ERR_CONFIG);
  expect_error(cfg, "t.yaml:5: allowed_consumers[1].servng_networks: unknown key");
  kedge_config_free(cfg);
}

static void test_duplicate_keys(void **state)
{
  expect_load_error("sbi:\n  port: 1\n  host: h\n  port: 2\n", KEDGE_ERR_CONFIG,
                    "t.yaml:4: sbi.port: duplicate key (first on line 2)");
  expect_load_error("a: 1\n\"a\": 2\n", KEDGE_ERR_CONFIG,
                    "t.yaml:2: a: duplicate key (first on line 1)");
  expect_load_error("l:\n  - {x: 1, x: 2}\n", KEDGE_ERR_CONFIG,
                    "t.yaml:2: l[0].x: duplicate key (first on line 2)");
}

static void test_refused_features(void **state)
{
  expect_load_error("a: &base\n  x: 1\nb: *base\n", KEDGE_ERR_CONFIG,
                    "t.yaml:1: anchors (&name) are not supported: write the value out");
  expect_load_error("a: !!str 5\n", KEDGE_ERR_CONFIG, "t.yaml:1: tags (!name) are not supported");
  expect_load_error("a: !custom\n  x: 1\n", KEDGE_ERR_CONFIG,
                    "t.yaml:1: tags (!name) are not supported");
  expect_load_error("a: 1\n---\nb: 2\n", KEDGE_ERR_CONFIG,
                    "t.yaml:2: more than one YAML document (---) in one file");
  expect_load_error("- a\n- b\n", KEDGE_ERR_CONFIG,
                    "t.yaml:1: the file must be a map of keys (key: value)");
  expect_load_error("just text\n", KEDGE_ERR_CONFIG,
                    "t.yaml:1: the file must be a map of keys (key: value)");
  expect_load_error("? [a, b]\n: 1\n", KEDGE_ERR_CONFIG,
                    "t.yaml:1: a key must be a plain string, not a map or sequence");
}

static void test_alias_refused(void **state)
{
  /* libyaml leaves aliases to the loader; an alias with no anchor is still refused as such. */
  expect_load_error("a: *nothing\n", KEDGE_ERR_CONFIG,
                    "t.yaml:1: aliases (*name) are not supported: write the value out");
}

static void test_malformed_yaml(void **state)
{
  expect_load_error_prefix("a: [1, 2\nb: 3\n", "t.yaml:");
  expect_load_error_prefix("a: 1\n b: 2\n  c: 3\n", "t.yaml:2: malformed YAML: ");
  expect_load_error_prefix("a:\n\t- 1\n", "t.yaml:2: malformed YAML: ");
  expect_load_error_prefix("a: \"unterminated\n", "t.yaml:");
  expect_load_error_prefix("a: 1\nb: \xff\xfe\n", "t.yaml:2: not valid YAML text: ");
  expect_load_error_prefix("a: 1\n\x01: 2\n", "t.yaml:2: not valid YAML text: ");
  expect_load_error_prefix("{a: 1}}\n", "t.yaml:1: malformed YAML: ");
}

static void test_depth_limit(void **state)
{
  char ok[256] = "a: ", deep[256] = "a: ";
  /* Root map is level 1: 31 more '[' make 32 levels, 32 more make 33. */
  for (int k = 0; k < KEDGE_CONFIG_DEPTH_MAX - 1; k++)
    strcat(ok, "[");
  for (int k = 0; k < KEDGE_CONFIG_DEPTH_MAX - 1; k++)
    strcat(ok, "]");
  strcat(ok, "\n");
  for (int k = 0; k < KEDGE_CONFIG_DEPTH_MAX; k++)
    strcat(deep, "[");
  for (int k = 0; k < KEDGE_CONFIG_DEPTH_MAX; k++)
    strcat(deep, "]");
  strcat(deep, "\n");
  kedge_config_t *cfg = load(ok);
  kedge_config_free(cfg);
  expect_load_error(deep, KEDGE_ERR_CONFIG, "t.yaml:1: nested deeper than 32 levels");
}

static void test_size_and_node_limits(void **state)
{
  size_t len = KEDGE_CONFIG_FILE_MAX + 1;
  char *big = malloc(len + 1);
  assert_non_null(big);
  memset(big, '#', len);
  big[len] = '\0';
  kedge_config_t *cfg = (kedge_config_t *)1;
  char err[KEDGE_CONFIG_ERR_MAX];
  assert_int_equal(kedge_config_load_buffer("t.yaml", big, len, &cfg, err, sizeof err),
                   KEDGE_ERR_TOO_BIG);
  assert_null(cfg);
  assert_string_equal(err, "t.yaml: larger than 1048576 octets");
  /* exactly at the limit loads (a comment) */
  assert_int_equal(kedge_config_load_buffer("t.yaml", big, len - 1, &cfg, err, sizeof err),
                   KEDGE_OK);
  kedge_config_free(cfg);
  free(big);

  /* more values than KEDGE_CONFIG_NODES_MAX in a small file */
  size_t count = KEDGE_CONFIG_NODES_MAX + 10;
  char *many = malloc(count * 2 + 16);
  assert_non_null(many);
  strcpy(many, "a: [");
  size_t pos = 4;
  for (size_t k = 0; k < count; k++) {
    many[pos++] = '1';
    many[pos++] = ',';
  }
  strcpy(many + pos, "1]\n");
  expect_load_error(many, KEDGE_ERR_CONFIG,
                    "t.yaml:1: more than 16384 keys and values in one file");
  free(many);
}

static void test_load_file(void **state)
{
  char path[] = "/tmp/kedge-test-config-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char text[] = "sbi:\n  port: 99999\n";
  assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
  close(fd);
  kedge_config_t *cfg;
  char err[KEDGE_CONFIG_ERR_MAX];
  assert_int_equal(kedge_config_load_file(path, &cfg, err, sizeof err), KEDGE_OK);
  assert_int_equal(kedge_config_int(kedge_config_root(cfg), "sbi.port", 0, 0, 65535, NULL),
                   KEDGE_ERR_CONFIG);
  char want[256];
  snprintf(want, sizeof want, "%s:2: sbi.port: must be an integer 0..65535", path);
  expect_error(cfg, want);
  kedge_config_free(cfg);
  unlink(path);

  assert_int_equal(kedge_config_load_file(path, &cfg, err, sizeof err), KEDGE_ERR_IO);
  assert_null(cfg);
  snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
  assert_string_equal(err, want);
}

static void test_durations_and_sizes(void **state)
{
  static const struct {
    const char *text;
    int64_t ms;
  } durations[] = {
      {"0", 0},          {"500ms", 500},    {"30s", 30000},     {"5m", 300000},
      {"24h", 86400000}, {"2d", 172800000}, {"1h30m", 5400000}, {"1m500ms", 60500},
  };
  static const char *bad_durations[] = {
      "10", "s", "1.5s", "-1s", "1 h", "1hh", "1x", "1msx", "99999999999999999999d", "\"5s\""};
  static const struct {
    const char *text;
    uint64_t n;
  } sizes[] = {
      {"0", 0},           {"1048576", 1048576},    {"64KiB", 65536}, {"1MiB", 1048576},
      {"1 MiB", 1048576}, {"2GiB", 2147483648ULL}, {"3kB", 3000},    {"3KB", 3000},
      {"2MB", 2000000},   {"1GB", 1000000000},     {"10B", 10},
  };
  static const char *bad_sizes[] = {
      "1.5MiB", "-1", "1 mib", "KiB", "1KiBB", "99999999999999999999", "20000000000GiB", "'1MiB'"};
  char yaml[128];
  for (size_t k = 0; k < sizeof durations / sizeof durations[0]; k++) {
    snprintf(yaml, sizeof yaml, "d: %s\n", durations[k].text);
    kedge_config_t *cfg = load(yaml);
    int64_t ms = -1;
    assert_int_equal(kedge_config_duration(kedge_config_root(cfg), "d", 7, 0, INT64_MAX, &ms),
                     KEDGE_OK);
    assert_int_equal(ms, durations[k].ms);
    kedge_config_free(cfg);
  }
  for (size_t k = 0; k < sizeof bad_durations / sizeof bad_durations[0]; k++) {
    snprintf(yaml, sizeof yaml, "d: %s\n", bad_durations[k]);
    kedge_config_t *cfg = load(yaml);
    int64_t ms = -1;
    if (kedge_config_duration(kedge_config_root(cfg), "d", 7, 0, INT64_MAX, &ms) !=
        KEDGE_ERR_CONFIG)
      fail_msg("duration %s accepted", bad_durations[k]);
    assert_int_equal(ms, 7);
    expect_error(cfg, "t.yaml:1: d: must be a duration (500ms, 30s, 5m, 24h) of at least 0ms");
    kedge_config_free(cfg);
  }
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    snprintf(yaml, sizeof yaml, "s: %s\n", sizes[k].text);
    kedge_config_t *cfg = load(yaml);
    uint64_t n = 1;
    assert_int_equal(kedge_config_size(kedge_config_root(cfg), "s", 7, 0, UINT64_MAX, &n),
                     KEDGE_OK);
    assert_int_equal(n, sizes[k].n);
    kedge_config_free(cfg);
  }
  for (size_t k = 0; k < sizeof bad_sizes / sizeof bad_sizes[0]; k++) {
    snprintf(yaml, sizeof yaml, "s: %s\n", bad_sizes[k]);
    kedge_config_t *cfg = load(yaml);
    uint64_t n = 1;
    if (kedge_config_size(kedge_config_root(cfg), "s", 7, 0, UINT64_MAX, &n) != KEDGE_ERR_CONFIG)
      fail_msg("size %s accepted", bad_sizes[k]);
    assert_int_equal(n, 7);
    kedge_config_free(cfg);
  }
}

static void test_integers(void **state)
{
  static const struct {
    const char *text;
    int64_t v;
  } ints[] = {
      {"0", 0},
      {"-0", 0},
      {"42", 42},
      {"-42", -42},
      {"9223372036854775807", INT64_MAX},
      {"-9223372036854775808", INT64_MIN},
  };
  static const char *bad_ints[] = {"9223372036854775808",
                                   "-9223372036854775809",
                                   "+1",
                                   "1e3",
                                   "0x10",
                                   "1_000",
                                   "1.0",
                                   "01",
                                   "--1",
                                   "true"};
  char yaml[128];
  for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
    snprintf(yaml, sizeof yaml, "i: %s\n", ints[k].text);
    kedge_config_t *cfg = load(yaml);
    int64_t v = 1;
    assert_int_equal(kedge_config_int(kedge_config_root(cfg), "i", 7, INT64_MIN, INT64_MAX, &v),
                     KEDGE_OK);
    assert_true(v == ints[k].v);
    kedge_config_free(cfg);
  }
  for (size_t k = 0; k < sizeof bad_ints / sizeof bad_ints[0]; k++) {
    snprintf(yaml, sizeof yaml, "i: %s\n", bad_ints[k]);
    kedge_config_t *cfg = load(yaml);
    if (kedge_config_int(kedge_config_root(cfg), "i", 7, INT64_MIN, INT64_MAX, NULL) !=
        KEDGE_ERR_CONFIG)
      fail_msg("integer %s accepted", bad_ints[k]);
    kedge_config_free(cfg);
  }
}

static void test_booleans(void **state)
{
  const char *yes[] = {"true", "True", "TRUE"}, *no[] = {"false", "False", "FALSE"};
  const char *bad_bools[] = {"yes", "no", "on", "off", "1", "0", "y", "\"true\""};
  char yaml[64];
  for (size_t k = 0; k < 3; k++) {
    bool v = false;
    snprintf(yaml, sizeof yaml, "b: %s\n", yes[k]);
    kedge_config_t *cfg = load(yaml);
    assert_int_equal(kedge_config_bool(kedge_config_root(cfg), "b", false, &v), KEDGE_OK);
    assert_true(v);
    kedge_config_free(cfg);
    snprintf(yaml, sizeof yaml, "b: %s\n", no[k]);
    cfg = load(yaml);
    assert_int_equal(kedge_config_bool(kedge_config_root(cfg), "b", true, &v), KEDGE_OK);
    assert_false(v);
    kedge_config_free(cfg);
  }
  for (size_t k = 0; k < sizeof bad_bools / sizeof bad_bools[0]; k++) {
    snprintf(yaml, sizeof yaml, "b: %s\n", bad_bools[k]);
    kedge_config_t *cfg = load(yaml);
    if (kedge_config_bool(kedge_config_root(cfg), "b", false, NULL) != KEDGE_ERR_CONFIG)
      fail_msg("boolean %s accepted", bad_bools[k]);
    kedge_config_free(cfg);
  }
}

static void test_require_and_invalid(void **state)
{
  kedge_config_t *cfg = load("name: x\nsbi:\n  host: h\nudm:\n");
  kedge_config_node_t *root = kedge_config_root(cfg);
  kedge_config_node_t *tls, *udm;
  assert_int_equal(kedge_config_require(root, "name"), KEDGE_OK);
  assert_int_equal(kedge_config_map(root, "sbi.tls", &tls), KEDGE_OK);
  assert_non_null(tls);
  assert_int_equal(kedge_config_require(tls, "cert"), KEDGE_ERR_CONFIG);
  expect_error(cfg, "t.yaml:3: sbi.tls.cert: missing (required)");
  kedge_config_free(cfg);

  cfg = load("name: x\nudm:\n");
  root = kedge_config_root(cfg);
  assert_int_equal(kedge_config_map(root, "udm", &udm), KEDGE_OK);
  assert_int_equal(kedge_config_map_size(udm), 0);
  assert_int_equal(kedge_config_require(udm, "uri"), KEDGE_ERR_CONFIG);
  expect_error(cfg, "t.yaml:2: udm.uri: missing (required)");
  kedge_config_free(cfg);

  cfg = load("a: 1\nsubscribers:\n  - supi: imsi-12\n");
  root = kedge_config_root(cfg);
  kedge_config_node_t *const *items;
  size_t n;
  assert_int_equal(kedge_config_maps(root, "subscribers", &items, &n), KEDGE_OK);
  assert_int_equal(kedge_config_invalid(items[0], "supi", "must be imsi-<5 to 15 digits>"),
                   KEDGE_ERR_CONFIG);
  expect_error(cfg, "t.yaml:3: subscribers[0].supi: must be imsi-<5 to 15 digits>");
  kedge_config_free(cfg);

  cfg = load("a: 1\n");
  assert_int_equal(kedge_config_require(kedge_config_root(cfg), "b.c"), KEDGE_ERR_CONFIG);
  expect_error(cfg, "t.yaml:1: b.c: missing (required)");
  kedge_config_free(cfg);
}

static void test_map_iteration(void **state)
{
  kedge_config_t *cfg = load("realms:\n  home.test: {rid: 12}\n  other.test: {rid: 34}\n");
  kedge_config_node_t *realms;
  assert_int_equal(kedge_config_map(kedge_config_root(cfg), "realms", &realms), KEDGE_OK);
  assert_int_equal(kedge_config_map_size(realms), 2);
  const char *key;
  int64_t rid;
  kedge_config_node_t *e = kedge_config_map_entry(realms, 0, &key);
  assert_string_equal(key, "home.test"); /* keys with dots come out whole */
  assert_int_equal(kedge_config_int(e, "rid", 0, 0, 9999, &rid), KEDGE_OK);
  assert_int_equal(rid, 12);
  char path[64];
  kedge_config_path(e, path, sizeof path);
  assert_string_equal(path, "realms.home.test");
  assert_null(kedge_config_map_entry(realms, 2, &key));
  /* the second entry never read */
  assert_int_equal(kedge_config_finish(cfg), KEDGE_ERR_CONFIG);
  expect_error(cfg, "t.yaml:3: realms.other.test: unknown key");
  kedge_config_free(cfg);

  /* sequence elements read with key NULL */
  cfg = load("ports: [1, 2, x]\n");
  kedge_config_node_t *const *items;
  size_t n;
  (void)items;
  (void)n;
  const char *const *texts;
  assert_int_equal(kedge_config_strings(kedge_config_root(cfg), "ports", &texts, &n), KEDGE_OK);
  assert_int_equal(n, 3);
  kedge_config_free(cfg);
}

static void test_key_null_reads_node_itself(void **state)
{
  kedge_config_t *cfg = load("m:\n  port: 8\n");
  kedge_config_node_t *m;
  assert_int_equal(kedge_config_map(kedge_config_root(cfg), "m", &m), KEDGE_OK);
  kedge_config_node_t *v = kedge_config_map_entry(m, 0, NULL);
  int64_t i;
  assert_int_equal(kedge_config_int(v, NULL, 0, 0, 9, &i), KEDGE_OK);
  assert_int_equal(i, 8);
  assert_int_equal(kedge_config_string(v, NULL, NULL, NULL), KEDGE_OK);
  assert_int_equal(kedge_config_int(v, NULL, 0, 0, 7, &i), KEDGE_ERR_CONFIG);
  expect_error(cfg, "t.yaml:2: m.port: must be an integer 0..7");
  kedge_config_free(cfg);
}

static void test_control_characters_in_keys_stay_on_one_line(void **state)
{
  kedge_config_t *cfg = load("\"a\\nb\": 1\n");
  assert_int_equal(kedge_config_finish(cfg), KEDGE_ERR_CONFIG);
  expect_error(cfg, "t.yaml:1: a?b: unknown key");
  kedge_config_free(cfg);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_getter),
      cmocka_unit_test(test_defaults_for_absent_keys),
      cmocka_unit_test(test_empty_file_is_empty_map),
      cmocka_unit_test(test_error_lines),
      cmocka_unit_test(test_first_error_is_kept),
      cmocka_unit_test(test_unknown_keys),
      cmocka_unit_test(test_sequence_of_maps_unknown_key),
      cmocka_unit_test(test_duplicate_keys),
      cmocka_unit_test(test_refused_features),
      cmocka_unit_test(test_alias_refused),
      cmocka_unit_test(test_malformed_yaml),
      cmocka_unit_test(test_depth_limit),
      cmocka_unit_test(test_size_and_node_limits),
      cmocka_unit_test(test_load_file),
      cmocka_unit_test(test_durations_and_sizes),
      cmocka_unit_test(test_integers),
      cmocka_unit_test(test_booleans),
      cmocka_unit_test(test_require_and_invalid),
      cmocka_unit_test(test_map_iteration),
      cmocka_unit_test(test_key_null_reads_node_itself),
      cmocka_unit_test(test_control_characters_in_keys_stay_on_one_line),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
