/* lib/keysvc: the routing table as both the ECS (any home network/RID by default, the `uri`
 * shorthand) and the NEF (every member mandatory) read it, and the codec of the Kedge APIs: the
 * request bodies of SPEC.md 3 and which answers count (only a KedgeKeyResponse for the key ID
 * asked about). Fetching over the wire is covered by test-ecs-*.sh and test-nef*.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "kedge/key_client.h"

static kedge_config_t *cfg;

static kedge_err_t read_routes(const char *text, const char *shorthand, unsigned need,
                               kedge_key_routes_t *routes, char *why, size_t why_size)
{
  kedge_config_free(cfg);
  cfg = NULL;
  why[0] = '\0';
  kedge_err_t err = kedge_config_load_buffer("t.yaml", text, strlen(text), &cfg, why, why_size);
  if (err)
    return err;
  kedge_config_node_t *sec = NULL;
  kedge_config_map(kedge_config_root(cfg), "src", &sec);
  err = kedge_key_routes_read(sec, "routes", shorthand, need, routes);
  kedge_err_t e = kedge_config_finish(cfg);
  if (!err)
    err = e;
  if (err && kedge_config_error(cfg))
    snprintf(why, why_size, "%s", kedge_config_error(cfg));
  return err;
}

static void routes_defaults_and_lookup(void **state)
{
  (void)state;
  char why[256];
  kedge_key_routes_t r;
  assert_int_equal(
      read_routes(
          "src:\n  routes:\n"
          "    - {mcc: \"001\", mnc: \"01\", rids: [\"12\"], uris: [https://a/, https://b]}\n"
          "    - {uris: [https://c:8443/prefix]}\n",
          "uri", 0, &r, why, sizeof(why)),
      KEDGE_OK);
  assert_int_equal(r.n, 2);
  assert_string_equal(r.rows[0].name, "route1");
  assert_string_equal(r.rows[0].uris[0], "https://a"); /* trailing '/' dropped */
  assert_true(r.rows[1].any_home && r.rows[1].any_rid);
  kedge_plmn_t home;
  assert_int_equal(kedge_plmn_parse("001", "01", &home), KEDGE_OK);
  assert_ptr_equal(kedge_key_route_find(&r, &home, "12"), &r.rows[0]);
  assert_ptr_equal(kedge_key_route_find(&r, &home, "012"), &r.rows[1]); /* "012" is not "12" */
  assert_null(kedge_key_route_find(&r, NULL, "12"));
  kedge_key_routes_free(&r);

  assert_int_equal(read_routes("src: {uri: https://one}\n", "uri", 0, &r, why, sizeof(why)),
                   KEDGE_OK);
  assert_int_equal(r.n, 1);
  assert_string_equal(r.rows[0].name, "default");
  assert_ptr_equal(kedge_key_route_find(&r, &home, "9999"), &r.rows[0]);
  kedge_key_routes_free(&r);
}

static void refuses(const char *text, const char *shorthand, unsigned need, const char *expect)
{
  char why[256];
  kedge_key_routes_t r;
  if (read_routes(text, shorthand, need, &r, why, sizeof(why)) == KEDGE_OK)
    fail_msg("accepted: %s", text);
  if (!strstr(why, expect))
    fail_msg("'%s' does not mention '%s'", why, expect);
  kedge_key_routes_free(&r);
}

static void routes_mistakes(void **state)
{
  (void)state;
  const unsigned all =
      KEDGE_KEY_ROUTE_NEED_NAME | KEDGE_KEY_ROUTE_NEED_HOME | KEDGE_KEY_ROUTE_NEED_RIDS;
  refuses("src: {}\n", "uri", 0, "src.routes: missing");
  refuses("src: {uri: https://a, routes: [{uris: [https://b]}]}\n", "uri", 0, "not both");
  refuses("src: {uri: http://a}\n", "uri", 0, "src.uri: each must be https://");
  refuses("src: {routes: [{uris: [\"https://a?x=1\"]}]}\n", NULL, 0, "without query");
  refuses("src: {routes: [{uris: []}]}\n", NULL, 0, "list the apiRoots");
  refuses("src: {routes: [{mcc: \"001\", uris: [https://a]}]}\n", NULL, 0, "mnc");
  refuses("src: {routes: [{rids: [\"1\", \"*\"], uris: [https://a]}]}\n", NULL, 0, "alone");
  refuses("src: {routes: [{rids: [\"12345\"], uris: [https://a]}]}\n", NULL, 0, "1 to 4");
  refuses("src: {routes: [{mcc: \"001\", mnc: \"01\", rids: [\"1\"], uris: [https://a]}]}\n", NULL,
          all, "src.routes[0].name");
  refuses("src: {routes: [{name: a, rids: [\"1\"], uris: [https://a]}]}\n", NULL, all, "mcc");
  refuses("src: {routes: [{name: a, mcc: \"001\", mnc: \"01\", uris: [https://a]}]}\n", NULL, all,
          "routing indicators");
  refuses("src: {routes: [{name: \"a=b\", uris: [https://a]}]}\n", NULL, 0, "'='");
  refuses("src: {routes: [{name: a, uris: [https://a]}, {name: a, uris: [https://b]}]}\n", NULL, 0,
          "src.routes[1].name: used twice");
}

static const char kid[] = "12.AAECAwQFBgcICQoLDA0ODw@5gc.mnc001.mcc001.3gppnetwork.org";

static void codec_bodies(void **state)
{
  (void)state;
  kedge_plmn_t home;
  kedge_plmn_parse("001", "01", &home);
  kedge_key_request_t rq = {.api = KEDGE_KEY_API_AUSF_KEDGE,
                            .key_id = kid,
                            .key_id_len = strlen(kid),
                            .home = &home,
                            .rid = "12"};
  assert_string_equal(kedge_key_api_path(rq.api), "/nausf-auth/v1/kedge-keys/retrieve");
  json_t *b = kedge_key_request_body(&rq);
  char *text = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
  assert_string_equal(text, "{\"kedgeId\":\"12.AAECAwQFBgcICQoLDA0ODw@5gc.mnc001.mcc001."
                            "3gppnetwork.org\"}");
  free(text);
  json_decref(b);
  rq.api = KEDGE_KEY_API_NEF_KEDGE;
  rq.af_id = "ecs.example.com";
  rq.ecs_id = "ecs.example.com";
  assert_string_equal(kedge_key_api_path(rq.api), "/3gpp-kedge/v1/retrieve");
  b = kedge_key_request_body(&rq);
  assert_string_equal(json_string_value(json_object_get(b, "afId")), "ecs.example.com");
  assert_string_equal(json_string_value(json_object_get(b, "ecsId")), "ecs.example.com");
  assert_int_equal(json_object_size(b), 3);
  json_decref(b);
  assert_null(kedge_key_api_path(KEDGE_KEY_API__COUNT));
}

static void codec_answers(void **state)
{
  (void)state;
  kedge_key_request_t rq = {
      .api = KEDGE_KEY_API_AUSF_KEDGE, .key_id = kid, .key_id_len = strlen(kid)};
  const char *key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
  uint8_t out[KEDGE_KEY_LEN];
  int64_t expiry = 0;
  json_t *j =
      json_pack("{s:s, s:s, s:s}", "kedgeId", kid, "kedge", key, "expiry", "2099-01-01T00:00:00Z");
  assert_int_equal(kedge_key_answer_read(&rq, j, out, &expiry), KEDGE_OK);
  assert_int_equal(out[0], 0x00);
  assert_int_equal(out[31], 0x1f);
  assert_int_equal(expiry, 4070908800000LL);
  json_decref(j);
  struct {
    const char *id, *key, *expiry;
  } bad[] = {
      {"12.AAECAwQFBgcICQoLDA0ODw@5gc.mnc001.mcc001.3gppnetwork.orx", key, "2099-01-01T00:00:00Z"},
      {kid, "00", "2099-01-01T00:00:00Z"},
      {kid, "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
       "2099-01-01T00:00:00Z"},
      {kid, key, "tomorrow"},
      {kid, key, NULL},
      {NULL, key, "2099-01-01T00:00:00Z"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    j = json_object();
    if (bad[i].id)
      json_object_set_new(j, "kedgeId", json_string(bad[i].id));
    json_object_set_new(j, "kedge", json_string(bad[i].key));
    if (bad[i].expiry)
      json_object_set_new(j, "expiry", json_string(bad[i].expiry));
    if (kedge_key_answer_read(&rq, j, out, &expiry) == KEDGE_OK)
      fail_msg("answer %zu accepted", i);
    json_decref(j);
  }
  assert_int_equal(kedge_key_answer_read(&rq, json_null(), out, &expiry), KEDGE_ERR_INVALID_ARG);
}

/* The AKMA APIs (SPEC.md 9): AkmaAfKeyRequest {afId, aKId} to the AAnF and the NEF alike, and
 * AkmaAfKeyData {kaf, expiry, supi?} back (TS 29.535, TS 29.522). */
static void codec_akma(void **state)
{
  (void)state;
  kedge_plmn_t home;
  kedge_plmn_parse("001", "01", &home);
  kedge_key_request_t rq = {.api = KEDGE_KEY_API_AANF_AKMA,
                            .key_id = kid,
                            .key_id_len = strlen(kid),
                            .home = &home,
                            .rid = "12",
                            .af_id = "ecs.example.com"};
  assert_true(kedge_key_api_is_akma(KEDGE_KEY_API_AANF_AKMA));
  assert_true(kedge_key_api_is_akma(KEDGE_KEY_API_NEF_AKMA));
  assert_false(kedge_key_api_is_akma(KEDGE_KEY_API_NEF_KEDGE));
  assert_string_equal(kedge_key_api_path(rq.api), "/naanf-akma/v1/retrieve-applicationkey");
  assert_string_equal(kedge_key_api_path(KEDGE_KEY_API_NEF_AKMA), "/3gpp-akma/v1/retrieve");
  json_t *b = kedge_key_request_body(&rq);
  char *text = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
  assert_string_equal(text, "{\"aKId\":\"12.AAECAwQFBgcICQoLDA0ODw@5gc.mnc001.mcc001."
                            "3gppnetwork.org\",\"afId\":\"ecs.example.com\"}");
  free(text);
  json_decref(b);
  rq.af_id = NULL; /* an AkmaAfKeyRequest without afId is not one */
  assert_null(kedge_key_request_body(&rq));
  rq.af_id = "ecs.example.com";

  const char *kaf = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
  uint8_t out[KEDGE_KEY_LEN];
  int64_t expiry = 0;
  json_t *j = json_pack("{s:s, s:s, s:s}", "kaf", kaf, "expiry", "2099-01-01T00:00:00Z", "supi",
                        "imsi-001010000000001");
  assert_int_equal(kedge_key_answer_read(&rq, j, out, &expiry), KEDGE_OK);
  assert_int_equal(out[31], 0x1f);
  assert_int_equal(expiry, 4070908800000LL);
  json_decref(j);
  /* a Kedge answer is not an AKMA answer, nor a kaf of the wrong length or without expiry */
  struct {
    const char *member, *key, *expiry;
  } bad[] = {{"kedge", kaf, "2099-01-01T00:00:00Z"},
             {"kaf", "00", "2099-01-01T00:00:00Z"},
             {"kaf", kaf, NULL},
             {"kaf", kaf, "soon"}};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    j = json_pack("{s:s}", bad[i].member, bad[i].key);
    if (bad[i].expiry)
      json_object_set_new(j, "expiry", json_string(bad[i].expiry));
    if (kedge_key_answer_read(&rq, j, out, &expiry) == KEDGE_OK)
      fail_msg("AKMA answer %zu accepted", i);
    json_decref(j);
  }
}

static void outcome_names(void **state)
{
  (void)state;
  for (int i = 0; i < KEDGE_KEY__COUNT; i++) {
    assert_non_null(kedge_key_outcome_name((kedge_key_outcome_t)i));
    assert_non_null(kedge_key_outcome_text((kedge_key_outcome_t)i));
  }
  assert_string_equal(kedge_key_outcome_name(KEDGE_KEY_TOO_MANY), "too_many_requests");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(routes_defaults_and_lookup),
      cmocka_unit_test(routes_mistakes),
      cmocka_unit_test(codec_bodies),
      cmocka_unit_test(codec_answers),
      cmocka_unit_test(codec_akma),
      cmocka_unit_test(outcome_names),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  kedge_config_free(cfg);
  return rc;
}
