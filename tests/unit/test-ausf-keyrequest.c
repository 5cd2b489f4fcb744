/* The AUSF's key-request codec and AAnF choice without a network (daemons/ausf/keyrequest.c,
 * daemons/ausf/akma.c): Nausf_UEAuthentication_keyrequest bodies (SPEC.md 3) parsed into their
 * profile or refused with the 400 cause of TS 29.500 Table 5.2.7.2-1, the KedgeKeyResponse
 * built byte for byte from tests/vectors/kedge.txt, and the AAnF picked by routing indicator
 * (SPEC.md 9: the first akma.aanf entry listing the RID exactly, or "*"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ausf.h"
#include "kedge/hex.h"
#include "vectors.h"

typedef struct vector {
  char kedge_id[KEDGE_ID_MAX + 1], ecs_id[KEDGE_ECS_ID_MAX + 1];
  uint8_t kedge[KEDGE_KEY_LEN];
  char kedge_hex[2 * KEDGE_KEY_LEN + 1];
} vector_t;

static void load(const char *block, vector_t *v)
{
  char *data = vec_load("kedge.txt");
  assert_non_null(data);
  vec_text(data, block, "Kedge ID", v->kedge_id, sizeof(v->kedge_id));
  vec_text(data, block, "ECS ID", v->ecs_id, sizeof(v->ecs_id));
  vec_hex(data, block, "Kedge", v->kedge, sizeof(v->kedge));
  vec_text(data, block, "Kedge", v->kedge_hex, sizeof(v->kedge_hex));
  free(data);
}

/* The body passes the schema table first, as kedge_sbi_request_checked_json does. */
static json_t *checked(const char *text)
{
  json_t *body = json_loads(text, 0, NULL);
  assert_non_null(body);
  assert_int_equal(kedge_json_check(body, ausf_key_request_members, NULL, NULL), KEDGE_OK);
  return body;
}

/* ausf_key_request_parse on the body's members, as kedge_sbi_request_strings gives them */
static json_t *parse(const json_t *body, ausf_key_request_t *kr)
{
  const char *values[AUSF_KR_MEMBERS];
  for (size_t i = 0; i < AUSF_KR_MEMBERS; i++)
    values[i] = json_string_value(json_object_get(body, ausf_key_request_members[i].name));
  return ausf_key_request_parse(values, kr);
}

static void assert_problem(json_t *problem, const char *cause, const char *param)
{
  assert_non_null(problem);
  assert_int_equal(json_integer_value(json_object_get(problem, "status")), 400);
  assert_string_equal(json_string_value(json_object_get(problem, "cause")), cause);
  json_t *inv = json_object_get(problem, "invalidParams");
  assert_int_equal(json_array_size(inv), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(inv, 0), "param")), param);
  json_decref(problem);
}

/* SPEC.md 3: no ecsId is profile kedge, with ecsId profile bound (normalised, SPEC.md 6) */
static void parse_profiles(void **state)
{
  (void)state;
  vector_t v;
  load("[kedge-1]", &v);
  char text[1024];
  ausf_key_request_t kr;

  snprintf(text, sizeof(text), "{\"kedgeId\":\"%s\"}", v.kedge_id);
  json_t *body = checked(text);
  assert_null(parse(body, &kr));
  assert_string_equal(kr.kedge_id, v.kedge_id);
  assert_null(kr.ecs_id);
  assert_null(kr.callback_uri);
  assert_string_equal(kr.ecs_norm, "");
  json_decref(body);

  /* upper case and a trailing dot name the same ECS */
  char upper[KEDGE_ECS_ID_MAX + 2];
  size_t n = strlen(v.ecs_id);
  for (size_t i = 0; i < n; i++)
    upper[i] = (char)(v.ecs_id[i] >= 'a' && v.ecs_id[i] <= 'z' ? v.ecs_id[i] - 32 : v.ecs_id[i]);
  upper[n] = '.';
  upper[n + 1] = '\0';
  snprintf(text, sizeof(text),
           "{\"kedgeId\":\"%s\",\"ecsId\":\"%s\","
           "\"revocCallbackUri\":\"https://nef.example:8443/revoked\"}",
           v.kedge_id, upper);
  body = checked(text);
  assert_null(parse(body, &kr));
  assert_string_equal(kr.ecs_id, upper);
  assert_string_equal(kr.ecs_norm, v.ecs_id);
  assert_string_equal(kr.callback_uri, "https://nef.example:8443/revoked");
  json_decref(body);
}

static void parse_refusals(void **state)
{
  (void)state;
  vector_t v;
  load("[kedge-2]", &v);
  char text[1024];
  ausf_key_request_t kr;
  const struct {
    const char *kedge_id, *ecs_id, *callback, *cause, *param;
  } cases[] = {
      /* a Kedge ID must be RID.Kedge-TID@realm (SPEC.md 2) */
      {"not-a-kedge-id", NULL, NULL, "MANDATORY_IE_INCORRECT", "/kedgeId"},
      {"12.short@5gc.mnc093.mcc208.3gppnetwork.org", NULL, NULL, "MANDATORY_IE_INCORRECT",
       "/kedgeId"},
      {v.kedge_id, "no_underscores.example", NULL, "MANDATORY_IE_INCORRECT", "/ecsId"},
      {v.kedge_id, "single-label", NULL, "MANDATORY_IE_INCORRECT", "/ecsId"},
      /* TS 29.500 Table 5.2.7.2-1: an optional IE with a wrong value */
      {v.kedge_id, v.ecs_id, "http://nef.example/revoked", "OPTIONAL_IE_INCORRECT",
       "/revocCallbackUri"},
      {v.kedge_id, NULL, "https://user@nef.example/revoked", "OPTIONAL_IE_INCORRECT",
       "/revocCallbackUri"},
      /* the mandatory IE's fault is reported first */
      {"not-a-kedge-id", NULL, "http://nef.example/revoked", "MANDATORY_IE_INCORRECT", "/kedgeId"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    json_t *body = json_pack("{s:s}", "kedgeId", cases[i].kedge_id);
    assert_non_null(body);
    if (cases[i].ecs_id)
      json_object_set_new(body, "ecsId", json_string(cases[i].ecs_id));
    if (cases[i].callback)
      json_object_set_new(body, "revocCallbackUri", json_string(cases[i].callback));
    assert_int_equal(kedge_json_check(body, ausf_key_request_members, NULL, NULL), KEDGE_OK);
    assert_problem(parse(body, &kr), cases[i].cause, cases[i].param);
    json_decref(body);
  }
  /* without the schema table's check: no kedgeId is missing, not a crash */
  snprintf(text, sizeof(text), "{\"ecsId\":\"%s\"}", v.ecs_id);
  json_t *body = json_loads(text, 0, NULL);
  json_t *problem = parse(body, &kr);
  assert_non_null(problem);
  assert_string_equal(json_string_value(json_object_get(problem, "cause")), "MANDATORY_IE_MISSING");
  json_decref(problem);
  json_decref(body);
}

/* SPEC.md 3 KedgeKeyResponse: the key in lower-case hex, expiry in whole seconds (RFC 3339) */
static void response_body(void **state)
{
  (void)state;
  vector_t v;
  load("[kedge-3]", &v);
  const int64_t expiry_ms = 1795813084999LL;
  char text[AUSF_KEY_RESPONSE_MAX];
  size_t len = ausf_key_response_format(v.kedge_id, v.kedge, expiry_ms, text);
  assert_true(len > 0);
  assert_int_equal(strlen(text), len);
  json_error_t jerr;
  json_t *r = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  assert_non_null(r);
  assert_int_equal(json_object_size(r), 3);
  assert_string_equal(json_string_value(json_object_get(r, "kedgeId")), v.kedge_id);
  assert_string_equal(json_string_value(json_object_get(r, "kedge")), v.kedge_hex);
  const char *expiry = json_string_value(json_object_get(r, "expiry"));
  assert_non_null(expiry);
  assert_string_equal(expiry, "2026-11-27T20:58:04Z");
  int64_t back = 0;
  assert_int_equal(kedge_rfc3339_parse(expiry, &back), KEDGE_OK);
  assert_int_equal(back, expiry_ms / 1000 * 1000);
  json_decref(r);
  /* a text that cannot fit: 0, never a cut answer */
  char id[AUSF_KEY_RESPONSE_MAX + 1];
  memset(id, 'a', sizeof(id) - 1);
  id[sizeof(id) - 1] = '\0';
  assert_int_equal(ausf_key_response_format(id, v.kedge, expiry_ms, text), 0);
  assert_string_equal(text, "");
}

/* SPEC.md 9: akma.aanf in order; "*" anywhere in an entry matches any RID */
static void aanf_by_rid(void **state)
{
  (void)state;
  const char *const east[] = {"0", "12"}, *const west[] = {"4321", "12"}, *const any[] = {"*"};
  ausf_aanf_route_t routes[] = {
      {.rids = east, .n_rids = 2, .uri = "https://aanf-east.example"},
      {.rids = west, .n_rids = 2, .uri = AUSF_AANF_DISCOVER},
      {.rids = any, .n_rids = 1, .uri = "https://aanf-any.example"},
  };
  ausf_t ausf = {.aanf_routes = routes, .n_aanf_routes = 2};
  assert_string_equal(ausf_aanf_for(&ausf, "0"), "https://aanf-east.example");
  assert_string_equal(ausf_aanf_for(&ausf, "12"), "https://aanf-east.example"); /* first wins */
  assert_string_equal(ausf_aanf_for(&ausf, "4321"), AUSF_AANF_DISCOVER);
  assert_null(ausf_aanf_for(&ausf, "00"));  /* exactly as written: "00" is not "0" */
  assert_null(ausf_aanf_for(&ausf, "123")); /* no prefix match */
  ausf.n_aanf_routes = 3;
  assert_string_equal(ausf_aanf_for(&ausf, "00"), "https://aanf-any.example");
  assert_string_equal(ausf_aanf_for(&ausf, "4321"), AUSF_AANF_DISCOVER);
  ausf.n_aanf_routes = 0;
  assert_null(ausf_aanf_for(&ausf, "0"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parse_profiles),
      cmocka_unit_test(parse_refusals),
      cmocka_unit_test(response_body),
      cmocka_unit_test(aanf_by_rid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
