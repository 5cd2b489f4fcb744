/* The NEF's tables from its YAML (daemons/nef/config.c, af_table.c, routing.c, rate_limit.c):
 * a full configuration read back field by field; AUSF group selection by home network and
 * exact RID strings ("012" is not "12", "*" serves all, first match wins); the AF table with
 * normalised afIds and home networks; the token bucket (burst, refill, Retry-After) and the
 * concurrency cap with a simulated clock; and each configuration mistake reported with its
 * file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <unistd.h>

#include "kedge/config.h"
#include "nef.h"

static const char good[] =
    "sbi:\n"
    "  tls: {cert: /x/nef.crt, key: /x/nef.key, ca: /x/ca.crt}\n"
    "afs:\n"
    "  - af_id: AF.Example.COM.\n"
    "    profiles: [bound]\n"
    "    home_networks: [{mcc: \"001\", mnc: \"01\"}, {mcc: \"208\", mnc: \"093\"}]\n"
    "    rate: 2\n"
    "    burst: 3\n"
    "    max_concurrent: 2\n"
    "  - af_id: af2.kedge.test\n"
    "    profiles: [kedge, bound]\n"
    "    home_networks: [{mcc: \"001\", mnc: \"01\"}]\n"
    "ausf:\n"
    "  timeout: 750ms\n"
    "  retry_after: 5s\n"
    "  groups:\n"
    "    - {name: a, mcc: \"001\", mnc: \"01\", rids: [\"012\", \"7\"],\n"
    "       uris: [https://10.0.0.1:8443/]}\n"
    "    - {name: b, mcc: \"001\", mnc: \"001\", rids: [\"*\"],\n"
    "       uris: [https://10.0.0.2:8443, https://10.0.0.3:8443]}\n"
    "    - {name: c, mcc: \"208\", mnc: \"93\", rids: [\"12\"], uris: [https://10.0.0.4]}\n";

typedef struct loaded {
  kedge_config_t *cfg;
  nef_t nef;
} loaded_t;

/* Loads `yaml` and reads it as the daemon does; returns the verdict and the first error. */
static kedge_err_t load(const char *yaml, loaded_t *l, char *why, size_t why_size)
{
  memset(l, 0, sizeof(*l));
  why[0] = '\0';
  kedge_err_t err =
      kedge_config_load_buffer("nef.yaml", yaml, strlen(yaml), &l->cfg, why, why_size);
  if (err)
    return err;
  kedge_config_node_t *root = kedge_config_root(l->cfg);
  /* The runtime reads sbi:; mark it read as kedge_app_load_config would. */
  kedge_sbi_server_config_t sbi;
  kedge_config_node_t *sbi_node = NULL;
  kedge_sbi_server_config_defaults(&sbi);
  kedge_config_map(root, "sbi", &sbi_node);
  kedge_sbi_server_config_read(sbi_node, &sbi);
  err = nef_read_config(root, &l->nef);
  kedge_err_t fin = kedge_config_finish(l->cfg);
  if (!err)
    err = fin;
  if (kedge_config_error(l->cfg))
    snprintf(why, why_size, "%s", kedge_config_error(l->cfg));
  return err;
}

static void unload(loaded_t *l)
{
  nef_config_free(&l->nef);
  kedge_config_free(l->cfg);
}

static kedge_id_t id_of(const char *rid, const char *mcc, const char *mnc)
{
  kedge_id_t id;
  memset(&id, 0, sizeof(id));
  snprintf(id.rid, sizeof(id.rid), "%s", rid);
  assert_int_equal(kedge_plmn_parse(mcc, mnc, &id.home), KEDGE_OK);
  return id;
}

static void test_read_good(void **state)
{
  loaded_t l;
  char why[512];
  assert_int_equal(load(good, &l, why, sizeof(why)), KEDGE_OK);
  nef_t *n = &l.nef;
  assert_int_equal(n->n_afs, 2);
  assert_string_equal(n->afs[0].af_id, "af.example.com"); /* normalised */
  assert_int_equal(n->afs[0].profiles, NEF_PROFILE_BOUND);
  assert_int_equal(n->afs[0].n_home_networks, 2);
  assert_string_equal(n->afs[0].home_networks[1].mnc, "093");
  assert_int_equal(n->afs[0].rate, 2);
  assert_int_equal(n->afs[0].burst, 3);
  assert_int_equal(n->afs[0].max_concurrent, 2);
  assert_int_equal(n->afs[1].profiles, NEF_PROFILE_KEDGE | NEF_PROFILE_BOUND);
  assert_int_equal(n->afs[1].rate, 100); /* defaults */
  assert_int_equal(n->afs[1].max_concurrent, 64);
  assert_int_equal(n->ausf_client.timeout_ms, 750);
  assert_int_equal(n->ausf_client.max_retries, 0);
  assert_string_equal(n->ausf_client.ca_file, "/x/ca.crt"); /* from sbi.tls */
  assert_string_equal(n->ausf_client.cert_file, "/x/nef.crt");
  assert_int_equal(n->retry_after_s, 5);
  assert_int_equal(n->groups.n, 3);
  assert_string_equal(n->groups.rows[0].uris[0], "https://10.0.0.1:8443"); /* trailing / dropped */
  assert_int_equal(n->groups.rows[1].n_uris, 2);
  assert_true(n->groups.rows[1].any_rid);
  assert_null(n->oauth.jwks); /* OAuth off by default */

  /* AF table */
  assert_ptr_equal(nef_af_find(n, "af.example.com"), &n->afs[0]);
  assert_null(nef_af_find(n, "AF.example.com")); /* callers normalise first */
  assert_null(nef_af_find(n, "af3.kedge.test"));
  kedge_id_t x = id_of("0", "208", "93");
  assert_true(nef_af_serves_home(&n->afs[0], &x.home));
  assert_false(nef_af_serves_home(&n->afs[1], &x.home));
  unload(&l);
}

static void test_routing(void **state)
{
  loaded_t l;
  char why[512];
  assert_int_equal(load(good, &l, why, sizeof(why)), KEDGE_OK);
  nef_t *n = &l.nef;
  kedge_id_t id = id_of("012", "001", "01");
  assert_string_equal(kedge_key_route_find(&n->groups, &id.home, id.rid)->name, "a");
  id = id_of("7", "001", "01");
  assert_string_equal(kedge_key_route_find(&n->groups, &id.home, id.rid)->name, "a");
  /* "12" is not "012"; and MNC 01 is 001 in the realm, so group b (rids "*") serves it */
  id = id_of("12", "001", "01");
  assert_string_equal(kedge_key_route_find(&n->groups, &id.home, id.rid)->name, "b");
  id = id_of("12", "208", "93");
  assert_string_equal(kedge_key_route_find(&n->groups, &id.home, id.rid)->name, "c");
  id = id_of("012", "208", "93");
  assert_null(kedge_key_route_find(&n->groups, &id.home, id.rid)); /* RID not served */
  id = id_of("12", "208", "94");
  assert_null(kedge_key_route_find(&n->groups, &id.home, id.rid)); /* home network not served */
  unload(&l);
}

static void test_rate_limit(void **state)
{
  nef_af_t af;
  memset(&af, 0, sizeof(af));
  af.rate = 2;
  af.burst = 3;
  af.max_concurrent = 0;
  assert_int_equal(nef_rate_init(&af), KEDGE_OK);
  int64_t t = 1000000000;
  unsigned retry = 0;
  const char *why = NULL;
  /* the burst, then refusal with Retry-After 1 (half a second to the next token at 2/s) */
  for (int i = 0; i < 3; i++) {
    assert_int_equal(nef_rate_admit(&af, t, &retry, &why), KEDGE_OK);
    nef_rate_release(&af);
  }
  assert_int_equal(nef_rate_admit(&af, t, &retry, &why), KEDGE_ERR_BUSY);
  assert_int_equal(retry, 1);
  assert_non_null(strstr(why, "rate"));
  assert_int_equal(atomic_load(&af.in_flight), 0); /* a refusal holds no slot */
  /* 0.5 s later one token is back, not two */
  t += 500000;
  assert_int_equal(nef_rate_admit(&af, t, &retry, &why), KEDGE_OK);
  nef_rate_release(&af);
  assert_int_equal(nef_rate_admit(&af, t, &retry, &why), KEDGE_ERR_BUSY);
  /* a long pause refills to the burst only */
  t += 3600 * 1000000LL;
  for (int i = 0; i < 3; i++) {
    assert_int_equal(nef_rate_admit(&af, t, &retry, &why), KEDGE_OK);
    nef_rate_release(&af);
  }
  assert_int_equal(nef_rate_admit(&af, t, &retry, &why), KEDGE_ERR_BUSY);
  nef_rate_fini(&af);
  /* 0: unlimited */
  af.rate = 0;
  assert_int_equal(nef_rate_init(&af), KEDGE_OK);
  for (int i = 0; i < 100; i++) {
    assert_int_equal(nef_rate_admit(&af, t, &retry, &why), KEDGE_OK);
    nef_rate_release(&af);
  }
  nef_rate_fini(&af);
  /* a slow rate: Retry-After is the whole seconds until the next token, rounded up */
  af.rate = 1;
  af.burst = 1;
  assert_int_equal(nef_rate_init(&af), KEDGE_OK);
  assert_int_equal(nef_rate_admit(&af, t, &retry, &why), KEDGE_OK);
  nef_rate_release(&af);
  assert_int_equal(nef_rate_admit(&af, t + 100000, &retry, &why), KEDGE_ERR_BUSY);
  assert_int_equal(retry, 1);
  nef_rate_fini(&af);
}

static void test_concurrency_cap(void **state)
{
  nef_af_t af;
  memset(&af, 0, sizeof(af));
  af.rate = 0;
  af.max_concurrent = 2;
  assert_int_equal(nef_rate_init(&af), KEDGE_OK);
  unsigned retry = 0;
  const char *why = NULL;
  assert_int_equal(nef_rate_admit(&af, 0, &retry, &why), KEDGE_OK);
  assert_int_equal(nef_rate_admit(&af, 0, &retry, &why), KEDGE_OK);
  assert_int_equal(nef_rate_admit(&af, 0, &retry, &why), KEDGE_ERR_BUSY);
  assert_int_equal(retry, 1);
  assert_non_null(strstr(why, "in progress"));
  assert_int_equal(atomic_load(&af.in_flight), 2); /* the refusal held nothing */
  nef_rate_release(&af);
  assert_int_equal(nef_rate_admit(&af, 0, &retry, &why), KEDGE_OK);
  /* a refusal by the bucket gives the slot back too */
  af.rate = 1;
  af.burst = 1;
  assert_int_equal(nef_rate_init(&af), KEDGE_OK);                   /* in flight: 0 again */
  assert_int_equal(nef_rate_admit(&af, 0, &retry, &why), KEDGE_OK); /* the burst */
  assert_int_equal(nef_rate_admit(&af, 0, &retry, &why), KEDGE_ERR_BUSY);
  assert_non_null(strstr(why, "rate"));
  assert_int_equal(atomic_load(&af.in_flight), 1);
  nef_rate_fini(&af);
}

/* A configuration mistake: refused, and the error names the line and key. */
static void expect_bad(const char *yaml, const char *want)
{
  loaded_t l;
  char why[512];
  kedge_err_t err = load(yaml, &l, why, sizeof(why));
  if (err == KEDGE_OK || !strstr(why, want))
    fail_msg("expected an error with \"%s\", got %d \"%s\"", want, err, why);
  unload(&l);
}

#define SBI "sbi:\n  tls: {cert: /x/nef.crt, key: /x/nef.key, ca: /x/ca.crt}\n"
#define AF                                                                                         \
  "afs:\n  - {af_id: af.kedge.test, profiles: [kedge],\n"                                          \
  "     home_networks: [{mcc: \"001\", mnc: \"01\"}]}\n"
#define GROUPS                                                                                     \
  "ausf:\n  groups:\n"                                                                             \
  "    - {name: a, mcc: \"001\", mnc: \"01\", rids: [\"*\"], uris: [https://h:1]}\n"

static void test_bad_configs(void **state)
{
  expect_bad("sbi:\n  tls: {cert: /x/nef.crt, key: /x/nef.key, ca: /x/ca.crt, "
             "client_verification: optional}\n" AF GROUPS,
             "nef.yaml:2: sbi.tls.client_verification: must be required");
  expect_bad(SBI GROUPS, "afs: list the AFs");
  expect_bad(SBI "afs:\n  - {af_id: -x-, profiles: [kedge], home_networks: [{mcc: \"001\", mnc: "
                 "\"01\"}]}\n" GROUPS,
             "afs[0].af_id: must be the AF's FQDN");
  expect_bad(SBI "afs:\n  - {af_id: a.b, profiles: [raw], home_networks: [{mcc: \"001\", mnc: "
                 "\"01\"}]}\n" GROUPS,
             "afs[0].profiles: must list kedge, bound and/or akma");
  expect_bad(SBI "afs:\n  - {af_id: a.b, profiles: [kedge]}\n" GROUPS,
             "afs[0].home_networks: list the home networks");
  expect_bad(SBI "afs:\n  - {af_id: a.b, profiles: [kedge], home_networks: [{mcc: \"01\", mnc: "
                 "\"01\"}]}\n" GROUPS,
             "afs[0].home_networks[0]: mcc must be 3 digits");
  expect_bad(SBI "afs:\n  - {af_id: a.b, profiles: [kedge], home_networks: [{mcc: \"001\", mnc: "
                 "\"01\"}]}\n  - {af_id: A.B., profiles: [kedge], home_networks: [{mcc: \"001\", "
                 "mnc: \"01\"}]}\n" GROUPS,
             "nef.yaml:5: afs[1].af_id: listed twice");
  expect_bad(SBI AF "ausf:\n  groups: []\n", "ausf.groups: missing: list the key source's routes "
                                             "{name, mcc, mnc, rids, uris}");
  expect_bad(SBI AF "ausf:\n  groups:\n    - {name: a b, mcc: \"001\", mnc: \"01\", rids: [\"*\"], "
                    "uris: [https://h:1]}\n",
             "name: must be 1 to 64 characters without spaces");
  expect_bad(SBI AF "ausf:\n  groups:\n    - {name: a, mcc: \"001\", mnc: \"01\", rids: [\"*\", "
                    "\"1\"], uris: [https://h:1]}\n",
             "rids: \"*\" must be alone");
  expect_bad(SBI AF "ausf:\n  groups:\n    - {name: a, mcc: \"001\", mnc: \"01\", rids: "
                    "[\"12345\"], uris: [https://h:1]}\n",
             "rids: each must be 1 to 4 decimal digits");
  expect_bad(SBI AF "ausf:\n  groups:\n    - {name: a, mcc: \"001\", mnc: \"01\", rids: \"*\", "
                    "uris: [https://h:1]}\n",
             "rids: must be a sequence of strings");
  expect_bad(SBI AF "ausf:\n  groups:\n    - {name: a, mcc: \"001\", mnc: \"01\", rids: [\"*\"], "
                    "uris: [http://h:1]}\n",
             "uris: each must be https://");
  expect_bad(SBI AF "ausf:\n  groups:\n    - {name: a, mcc: \"001\", mnc: \"01\", rids: [\"*\"], "
                    "uris: [https://h:1]}\n    - {name: a, mcc: \"001\", mnc: \"01\", rids: "
                    "[\"*\"], uris: [https://h:1]}\n",
             "ausf.groups[1].name: used twice");
  expect_bad("afs:\n  - {af_id: af.kedge.test, profiles: [kedge], home_networks: [{mcc: \"001\", "
             "mnc: \"01\"}]}\nausf:\n  ca: /x/ca.crt\n  groups:\n    - {name: a, mcc: \"001\", "
             "mnc: \"01\", rids: [\"*\"], uris: [https://h:1]}\n",
             "ausf.cert: the NEF needs a client certificate");
  expect_bad(SBI AF GROUPS "oauth:\n  jwks_file: /nonexistent.json\n  audience: nef\n",
             "oauth.jwks_file: /nonexistent.json: cannot open");
  expect_bad(SBI AF GROUPS "oauth:\n  jwks_file: /nonexistent.json\n",
             "oauth.audience: required with jwks_file");
  expect_bad(SBI AF GROUPS "nef:\n  x: 1\n", "nef: unknown key");
}

static void test_oauth_config(void **state)
{
  char path[] = "/tmp/kedge-nef-jwks-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char jwks[] = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
                      "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                      "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";
  assert_int_equal(write(fd, jwks, strlen(jwks)), (ssize_t)strlen(jwks));
  close(fd);
  char yaml[2048];
  snprintf(yaml, sizeof(yaml),
           SBI AF GROUPS "oauth:\n  jwks_file: %s\n  audience: nef.kedge.test\n  issuer: as\n"
                         "  clock_skew: 1m\n",
           path);
  loaded_t l;
  char why[512];
  assert_int_equal(load(yaml, &l, why, sizeof(why)), KEDGE_OK);
  assert_non_null(l.nef.oauth.jwks);
  assert_int_equal(kedge_jwks_count(l.nef.oauth.jwks), 1);
  assert_string_equal(l.nef.oauth.policy.audience, "nef.kedge.test");
  assert_string_equal(l.nef.oauth.policy.scope, "3gpp-kedge"); /* default */
  assert_string_equal(l.nef.oauth.policy.issuer, "as");
  assert_int_equal(l.nef.oauth.policy.leeway_s, 60);
  assert_string_equal(l.nef.oauth.realm, "kedge-nef");
  unload(&l);
  /* a file that is not a JWK Set */
  fd = open(path, O_WRONLY | O_TRUNC);
  assert_int_equal(write(fd, "{}", 2), 2);
  close(fd);
  assert_int_not_equal(load(yaml, &l, why, sizeof(why)), KEDGE_OK);
  assert_non_null(strstr(why, "not a JWK Set"));
  unload(&l);
  unlink(path);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_read_good),   cmocka_unit_test(test_routing),
      cmocka_unit_test(test_rate_limit),  cmocka_unit_test(test_concurrency_cap),
      cmocka_unit_test(test_bad_configs), cmocka_unit_test(test_oauth_config),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
