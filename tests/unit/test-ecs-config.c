/* kedge-ecsd's configuration: defaults, the routing table, profile bound, and the mistakes it
 * refuses with a file:line message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ecs.h"
#include "kedge/time.h"

#define TLS "  tls: {ca: ca.crt, cert: ecs.crt, key: ecs.key}\n"
static const char base[] = "key_source:\n" TLS;
static kedge_config_t *loaded; /* strings of the last load() point into it */

/* Loads `text` and reads it like kedge-ecsd; the error line goes to `why`. */
static kedge_err_t load(const char *text, ecs_t *ecs, char *why, size_t why_size)
{
  kedge_config_t *cfg = NULL;
  kedge_config_free(loaded);
  loaded = NULL;
  memset(ecs, 0, sizeof(*ecs));
  why[0] = '\0';
  kedge_err_t err = kedge_config_load_buffer("ecs.yaml", text, strlen(text), &cfg, why, why_size);
  if (err)
    return err;
  /* the sbi: keys are lib/sbi's; mark them read as kedge_app does */
  kedge_sbi_server_config_t sbi;
  kedge_sbi_server_config_defaults(&sbi);
  kedge_config_node_t *sbi_node = NULL;
  kedge_config_map(kedge_config_root(cfg), "sbi", &sbi_node);
  kedge_sbi_server_config_read(sbi_node, &sbi);
  err = ecs_read_config(kedge_config_root(cfg), ecs);
  kedge_err_t e = kedge_config_finish(cfg);
  if (!err)
    err = e;
  if (err && kedge_config_error(cfg))
    snprintf(why, why_size, "%s", kedge_config_error(cfg));
  loaded = cfg;
  return err;
}

static void defaults_and_shorthand(void **state)
{
  char text[1024], why[512];
  ecs_t ecs;
  snprintf(text, sizeof(text), "%s  uri: https://ausf.example:8443\n", base);
  assert_int_equal(load(text, &ecs, why, sizeof(why)), KEDGE_OK);
  assert_int_equal(ecs.profile, ECS_PROFILE_KEDGE);
  assert_null(ecs.ecs_id);
  assert_false(ecs.allow_psk_ke);
  assert_int_equal(ecs.source, ECS_SOURCE_AUSF);
  assert_int_equal(ecs.key_cache_ttl_ms, 60000); /* SPEC.md 4 */
  assert_int_equal(ecs.routes.n, 1);
  assert_true(ecs.routes.rows[0].any_home);
  assert_true(ecs.routes.rows[0].any_rid);
  assert_string_equal(ecs.routes.rows[0].uris[0], "https://ausf.example:8443");
  assert_int_equal(ecs.api, KEDGE_KEY_API_AUSF_KEDGE);
  assert_int_equal(ecs.handshake_timeout_ms, 10000);
  assert_true(ecs.client.timeout_ms < ecs.handshake_timeout_ms);
  assert_int_equal(ecs.prov.n_edns, 0);
  ecs_config_free(&ecs);
}

static void routes_and_lookup(void **state)
{
  char text[2048], why[512];
  ecs_t ecs;
  snprintf(
      text, sizeof(text),
      "%s  routes:\n"
      "    - {mcc: \"001\", mnc: \"01\", rids: [\"12\", \"7\"], uris: [https://a1, https://a2]}\n"
      "    - {mcc: \"001\", mnc: \"001\", rids: [\"*\"], uris: [https://b]}\n",
      base);
  assert_int_equal(load(text, &ecs, why, sizeof(why)), KEDGE_OK);
  assert_int_equal(ecs.routes.n, 2);
  kedge_id_t id = {.rid = "12", .home = {"001", "001"}};
  assert_ptr_equal(kedge_key_route_find(&ecs.routes, &id.home, id.rid), &ecs.routes.rows[0]);
  assert_int_equal(ecs.routes.rows[0].n_uris, 2);
  strcpy(id.rid, "012"); /* SPEC.md 2: 012 and 12 differ */
  assert_ptr_equal(kedge_key_route_find(&ecs.routes, &id.home, id.rid), &ecs.routes.rows[1]);
  strcpy(id.home.mnc, "002");
  assert_null(kedge_key_route_find(&ecs.routes, &id.home, id.rid));
  ecs_config_free(&ecs);
}

static void bound_and_nef(void **state)
{
  char text[1024], why[512];
  ecs_t ecs;
  snprintf(text, sizeof(text),
           "ecs: {psk_profile: bound, ecs_id: ECS.Example.COM.}\n"
           "key_source:\n  type: nef\n  uri: https://nef:29522\n"
           "  tls: {ca: ca.crt, cert: ecs.crt, key: ecs.key}\n");
  assert_int_equal(load(text, &ecs, why, sizeof(why)), KEDGE_OK);
  assert_int_equal(ecs.profile, ECS_PROFILE_BOUND);
  assert_string_equal(ecs.ecs_id, "ecs.example.com"); /* SPEC.md 6 normal form */
  assert_int_equal(ecs.source, ECS_SOURCE_NEF);
  assert_string_equal(ecs.af_id, "ecs.example.com"); /* the ECS ID by default */
  assert_int_equal(ecs.api, KEDGE_KEY_API_NEF_KEDGE);
  ecs_config_free(&ecs);
}

/* SPEC.md 9: profile akma asks the AAnF by default, or the NEF's 3gpp-akma, for K_AF of ecs_id;
 * its EESs advertise TLS_WITH_AKMA (TS 24.558 EesAuthMethod) unless configured otherwise. */
static void akma(void **state)
{
  (void)state;
  char why[512];
  ecs_t ecs;
  assert_int_equal(load("ecs: {psk_profile: akma, ecs_id: ecs.example.com}\n"
                        "key_source:\n  uri: https://aanf:8006\n"
                        "  tls: {ca: ca.crt, cert: ecs.crt, key: ecs.key}\n"
                        "service_provisioning:\n  edns: [{dnn: x, eess: [{ees_id: e, uri: u},"
                        " {ees_id: f, uri: v, ees_auth_methods: []}]}]\n",
                        &ecs, why, sizeof(why)),
                   KEDGE_OK);
  assert_int_equal(ecs.profile, ECS_PROFILE_AKMA);
  assert_int_equal(ecs.source, ECS_SOURCE_AANF);
  assert_int_equal(ecs.api, KEDGE_KEY_API_AANF_AKMA);
  assert_int_equal(ecs.prov.edns[0].eess[0].n_auth_methods, 1);
  assert_string_equal(ecs.prov.edns[0].eess[0].auth_methods[0], "TLS_WITH_AKMA");
  assert_int_equal(ecs.prov.edns[0].eess[1].n_auth_methods, 0); /* [] stays empty */
  ecs_config_free(&ecs);
  assert_int_equal(load("ecs: {psk_profile: akma, ecs_id: ecs.example.com}\n"
                        "key_source:\n  type: nef\n  uri: https://nef:29522\n"
                        "  tls: {ca: ca.crt, cert: ecs.crt, key: ecs.key}\n",
                        &ecs, why, sizeof(why)),
                   KEDGE_OK);
  assert_int_equal(ecs.api, KEDGE_KEY_API_NEF_AKMA);
  assert_string_equal(ecs.af_id, "ecs.example.com");
  ecs_config_free(&ecs);
}

static void refuses(const char *text, const char *expect)
{
  char why[512];
  ecs_t ecs;
  kedge_err_t err = load(text, &ecs, why, sizeof(why));
  if (err == KEDGE_OK)
    fail_msg("accepted: %s", text);
  if (!strstr(why, expect))
    fail_msg("'%s' does not mention '%s'", why, expect);
  ecs_config_free(&ecs);
}

#define KS(x) "key_source:\n" TLS x

static void mistakes(void **state)
{
  refuses("ecs: {psk_profile: bound}\n" KS("  uri: https://a\n"), "ecs.ecs_id");
  refuses("ecs: {psk_profile: other}\n" KS("  uri: https://a\n"), "ecs.psk_profile");
  refuses("ecs: {ecs_id: \"not a name\"}\n" KS("  uri: https://a\n"), "not an FQDN");
  refuses(KS("  uri: http://a\n"), "key_source.uri");
  refuses(KS("  uri: https://a/?x\n"), "query");
  refuses(KS("  type: ausf\n"), "routes");
  refuses(KS("  type: udm\n  uri: https://a\n"), "key_source.type");
  refuses(KS("  type: nef\n  uri: https://a\n"), "af_id");
  refuses(KS("  uri: https://a\n  af_id: x.example\n"), "af_id");
  refuses(KS("  routes: [{mcc: \"001\", uris: [https://a]}]\n"), "mnc");
  refuses(KS("  routes: [{rids: [\"12345\"], uris: [https://a]}]\n"), "rids");
  refuses(KS("  uri: https://a\n  routes: [{uris: [https://a]}]\n"), "not both");
  refuses(KS("  uri: https://a\n  timeout: 20s\n"), "handshake_timeout");
  refuses("key_source:\n  uri: https://a\n", "key_source.tls.ca");
  refuses("sbi: {tls: {cert: x.crt}}\n" KS("  uri: https://a\n"), "sbi.tls");
  refuses(KS("  uri: https://a\n") "service_provisioning:\n  edns: [{dnn: x}]\n", "eess");
  refuses(
      KS("  uri: https://a\n") "service_provisioning:\n  edns: [{dnn: x, eess: [{ees_id: e}]}]\n",
      "uri");
  refuses(KS("  uri: https://a\n") "key_cache: {tll: 5s}\n", "unknown key");
  refuses("ecs: {psk_profile: akma}\n" KS("  uri: https://a\n"), "ecs.ecs_id");
  refuses("ecs: {psk_profile: akma, ecs_id: e.example}\n" KS("  type: ausf\n  uri: https://a\n"),
          "key_source.type");
  refuses("ecs: {ecs_id: e.example}\n" KS("  type: aanf\n  uri: https://a\n"), "key_source.type");
  refuses("ecs: {psk_profile: akma, ecs_id: e.example}\n" KS(
              "  type: nef\n  af_id: other.example\n  uri: https://a\n"),
          "must equal ecs.ecs_id");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults_and_shorthand),
      cmocka_unit_test(routes_and_lookup),
      cmocka_unit_test(bound_and_nef),
      cmocka_unit_test(akma),
      cmocka_unit_test(mistakes),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  kedge_config_free(loaded);
  return rc;
}
