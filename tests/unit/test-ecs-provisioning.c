/* EDGE-4 answers from the ECS's configuration (TS 24.558 ECSServProvResp member names, AC
 * matching, 204) and the binding of the first eecId to a connection (SPEC.md 4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "conn_binding.h"
#include "ecs.h"

static const char *const any[] = {"*"};
static const char *const video[] = {"ac.video"};
static const char *const auth[] = {"TLS_CLIENT_SERVER_CERTIFICATE", "TLS_WITH_AKMA"};

static ecs_ees_t edn1_eess[] = {
    {.ees_id = "ees-video",
     .uri = "https://ees1.example:8443",
     .eec_reg_conf = true,
     .auth_methods = auth,
     .n_auth_methods = 2,
     .ac_ids = video,
     .n_ac_ids = 1},
    {.ees_id = "ees-any", .uri = "https://ees2.example:8443", .ac_ids = any, .n_ac_ids = 1},
};
static ecs_ees_t edn2_eess[] = {
    {.ees_id = "ees-video-2", .uri = "https://ees3.example", .ac_ids = video, .n_ac_ids = 1},
};
static ecs_edn_t edns[] = {
    {.dnn = "edge1", .eess = edn1_eess, .n_eess = 2},
    {.dnn = "edge2", .eess = edn2_eess, .n_eess = 1},
};

static ecs_provisioning_t prov(const char *const *allowed_acs, size_t n)
{
  return (ecs_provisioning_t){.allowed_eec_ids = any,
                              .n_allowed_eec_ids = 1,
                              .allowed_ac_ids = allowed_acs,
                              .n_allowed_ac_ids = n,
                              .lifetime_ms = 3600000,
                              .edns = edns,
                              .n_edns = 2};
}

static void everything_without_acs(void **state)
{
  ecs_provisioning_t p = prov(any, 1);
  json_t *resp = NULL;
  assert_int_equal(ecs_provisioning_answer(&p, NULL, 0, 1795813084123LL, &resp), KEDGE_OK);
  assert_non_null(resp);
  json_t *infos = json_object_get(resp, "ednCnfgInfo");
  assert_int_equal(json_array_size(infos), 2);
  json_t *first = json_array_get(infos, 0);
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(first, "ednConInfo"), "dnn")), "edge1");
  assert_string_equal(json_string_value(json_object_get(first, "lifeTime")),
                      "2026-11-27T21:58:04Z");
  json_t *ees = json_array_get(json_object_get(first, "eess"), 0);
  assert_string_equal(json_string_value(json_object_get(ees, "eesId")), "ees-video");
  assert_string_equal(json_string_value(json_object_get(json_object_get(ees, "endPt"), "uri")),
                      "https://ees1.example:8443");
  assert_true(json_is_true(json_object_get(ees, "eecRegConf")));
  assert_int_equal(json_array_size(json_object_get(ees, "eesAuthMethods")), 2);
  ees = json_array_get(json_object_get(first, "eess"), 1);
  assert_true(json_is_false(json_object_get(ees, "eecRegConf")));
  assert_null(json_object_get(ees, "eesAuthMethods")); /* none configured: left out */
  json_decref(resp);
}

static void matching_acs(void **state)
{
  ecs_provisioning_t p = prov(any, 1);
  json_t *resp = NULL;
  const char *other[] = {"ac.game"};
  assert_int_equal(ecs_provisioning_answer(&p, other, 1, 0, &resp), KEDGE_OK);
  /* only the EES that serves any AC */
  json_t *infos = json_object_get(resp, "ednCnfgInfo");
  assert_int_equal(json_array_size(infos), 1);
  json_t *eess = json_object_get(json_array_get(infos, 0), "eess");
  assert_int_equal(json_array_size(eess), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(eess, 0), "eesId")),
                      "ees-any");
  json_decref(resp);
  const char *v[] = {"ac.video"};
  assert_int_equal(ecs_provisioning_answer(&p, v, 1, 0, &resp), KEDGE_OK);
  infos = json_object_get(resp, "ednCnfgInfo");
  assert_int_equal(json_array_size(infos), 2);
  assert_int_equal(json_array_size(json_object_get(json_array_get(infos, 0), "eess")), 2);
  json_decref(resp);
}

static void nothing_matches(void **state)
{
  /* policy: only ac.video, and no EES for "*" in edge2; an EDN without EES is left out */
  ecs_ees_t only_video[] = {{.ees_id = "e", .uri = "https://e", .ac_ids = video, .n_ac_ids = 1}};
  ecs_edn_t one = {.dnn = "d", .eess = only_video, .n_eess = 1};
  ecs_provisioning_t p = prov(any, 1);
  p.edns = &one;
  p.n_edns = 1;
  json_t *resp = (json_t *)1;
  const char *game[] = {"ac.game"};
  assert_int_equal(ecs_provisioning_answer(&p, game, 1, 0, &resp), KEDGE_OK);
  assert_null(resp); /* 204 */
  /* allowed ACs stand in for "no AC asked" */
  p = prov(video, 1);
  p.edns = &one;
  p.n_edns = 1;
  assert_int_equal(ecs_provisioning_answer(&p, NULL, 0, 0, &resp), KEDGE_OK);
  assert_non_null(resp);
  json_decref(resp);
  p.n_edns = 0;
  assert_int_equal(ecs_provisioning_answer(&p, NULL, 0, 0, &resp), KEDGE_OK);
  assert_null(resp);
}

static void list_policy(void **state)
{
  const char *const list[] = {"eec-1", "eec-2"};
  assert_true(ecs_list_allows(list, 2, "eec-2"));
  assert_false(ecs_list_allows(list, 2, "eec-3"));
  assert_false(ecs_list_allows(list, 2, "eec"));
  assert_true(ecs_list_allows(any, 1, "anything"));
  assert_false(ecs_list_allows(NULL, 0, "x"));
}

static void eec_binding(void **state)
{
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  SSL *a = SSL_new(ctx), *b = SSL_new(ctx);
  char ta[ECS_CONN_TOKEN_MAX], tb[ECS_CONN_TOKEN_MAX];
  assert_int_equal(ecs_conn_binding_new(a, ta), KEDGE_OK);
  assert_int_equal(ecs_conn_binding_new(b, tb), KEDGE_OK);
  assert_string_not_equal(ta, tb);
  assert_int_equal(ta[0], '#');
  assert_int_equal(ecs_conn_bind_eec(ta, "eec-1"), KEDGE_OK);
  assert_int_equal(ecs_conn_bind_eec(ta, "eec-1"), KEDGE_OK);
  assert_int_equal(ecs_conn_bind_eec(ta, "eec-2"), KEDGE_ERR_FORBIDDEN);
  assert_int_equal(ecs_conn_bind_eec(tb, "eec-2"), KEDGE_OK); /* per connection */
  assert_int_equal(ecs_conn_bind_eec("#conn-999999999", "eec-1"), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(ecs_conn_bind_eec("0.x@realm", "eec-1"), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(ecs_conn_bind_eec(NULL, "eec-1"), KEDGE_ERR_NOT_FOUND);
  /* the state goes with the connection's SSL */
  SSL_free(a);
  assert_int_equal(ecs_conn_bind_eec(ta, "eec-1"), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(ecs_conn_bind_eec(tb, "eec-2"), KEDGE_OK);
  SSL_free(b);
  SSL_CTX_free(ctx);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(everything_without_acs),
      cmocka_unit_test(matching_acs),
      cmocka_unit_test(nothing_matches),
      cmocka_unit_test(list_policy),
      cmocka_unit_test(eec_binding),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
