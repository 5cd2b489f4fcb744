/* ProblemDetails construction and the kedge_err_t -> status + cause mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "kedge/problem.h"

static void expect_mapping(kedge_err_t err, int status, const char *cause)
{
  int s = 0;
  const char *c = NULL;
  kedge_problem_from_err(err, &s, &c);
  if (s != status || (cause ? !c || strcmp(c, cause) : c != NULL))
    fail_msg("%s: got %d %s, want %d %s", kedge_strerror(err), s, c ? c : "(null)", status,
             cause ? cause : "(null)");
}

static void test_mapping_each_error(void **state)
{
  expect_mapping(KEDGE_OK, 200, NULL);
  expect_mapping(KEDGE_ERR_INVALID_ARG, 400, "MANDATORY_IE_INCORRECT");
  expect_mapping(KEDGE_ERR_BAD_HEX, 400, "MANDATORY_IE_INCORRECT");
  expect_mapping(KEDGE_ERR_BAD_LENGTH, 400, "MANDATORY_IE_INCORRECT");
  expect_mapping(KEDGE_ERR_BAD_SUPI, 400, "MANDATORY_IE_INCORRECT");
  expect_mapping(KEDGE_ERR_BAD_PLMN, 400, "MANDATORY_IE_INCORRECT");
  expect_mapping(KEDGE_ERR_BAD_RID, 400, "MANDATORY_IE_INCORRECT");
  expect_mapping(KEDGE_ERR_BAD_KEDGE_ID, 400, "MANDATORY_IE_INCORRECT");
  expect_mapping(KEDGE_ERR_BAD_ECS_ID, 400, "MANDATORY_IE_INCORRECT");
  expect_mapping(KEDGE_ERR_MAC_FAILURE, 403, "AUTHENTICATION_REJECTED");
  expect_mapping(KEDGE_ERR_SYNC_FAILURE, 403, "AUTHENTICATION_REJECTED");
  expect_mapping(KEDGE_ERR_SQN_EXHAUSTED, 500, "SYSTEM_FAILURE");
  expect_mapping(KEDGE_ERR_CRYPTO, 500, "SYSTEM_FAILURE");
  expect_mapping(KEDGE_ERR_NOMEM, 500, "SYSTEM_FAILURE");
  expect_mapping(KEDGE_ERR_TOO_BIG, 413, "UNSPECIFIED_MSG_FAILURE");
  expect_mapping(KEDGE_ERR_NOT_FOUND, 404, "CONTEXT_NOT_FOUND");
  expect_mapping(KEDGE_ERR_IO, 500, "SYSTEM_FAILURE");
  expect_mapping(KEDGE_ERR_CONFIG, 500, "SYSTEM_FAILURE");
  expect_mapping(KEDGE_ERR_BUSY, 503, "NF_CONGESTION");
  expect_mapping(KEDGE_ERR_TIMEOUT, 504, "TIMED_OUT_REQUEST");
  expect_mapping(KEDGE_ERR_UNAVAILABLE, 503, "TARGET_NF_NOT_REACHABLE");
  expect_mapping(KEDGE_ERR_FORBIDDEN, 403, "CONSUMER_NOT_AUTHORIZED");
  expect_mapping(KEDGE_ERR_UNSUPPORTED, 501, "UNSUPPORTED_PROTECTION_SCHEME");
  expect_mapping(KEDGE_ERR__COUNT, 500, "SYSTEM_FAILURE");
  expect_mapping((kedge_err_t)-1, 500, "SYSTEM_FAILURE");
}

/* Every error (a new code added to error.h without a mapping included) maps to an error status
 * with a cause written like TS 29.500's: upper case, digits and underscores. */
static void test_mapping_complete(void **state)
{
  for (int e = 1; e < KEDGE_ERR__COUNT; e++) {
    int s = 0;
    const char *c = NULL;
    kedge_problem_from_err((kedge_err_t)e, &s, &c);
    assert_true(s >= 400 && s <= 599);
    assert_non_null(c);
    assert_true(strlen(c) > 0);
    assert_int_equal(strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"), strlen(c));
    assert_string_not_equal(kedge_http_status_title(s), "Client Error");
    assert_string_not_equal(kedge_http_status_title(s), "Server Error");
  }
  kedge_problem_from_err(KEDGE_ERR_BUSY, NULL, NULL); /* NULL outputs are allowed */
}

static void test_status_titles(void **state)
{
  assert_string_equal(kedge_http_status_title(400), "Bad Request");
  /* one table for titles and the flow diagram's phrases (tools/kedge/flow.c had its own) */
  assert_string_equal(kedge_http_reason_phrase(201), "Created");
  assert_string_equal(kedge_http_reason_phrase(308), "Permanent Redirect");
  assert_string_equal(kedge_http_reason_phrase(429), "Too Many Requests");
  assert_string_equal(kedge_http_reason_phrase(418), "");            /* no fall-back ... */
  assert_string_equal(kedge_http_status_title(418), "Client Error"); /* ... unlike the title */
  assert_string_equal(kedge_http_reason_phrase(599), "");
  assert_string_equal(kedge_http_status_title(403), "Forbidden");
  assert_string_equal(kedge_http_status_title(404), "Not Found");
  assert_string_equal(kedge_http_status_title(413), "Content Too Large");
  assert_string_equal(kedge_http_status_title(500), "Internal Server Error");
  assert_string_equal(kedge_http_status_title(503), "Service Unavailable");
  assert_string_equal(kedge_http_status_title(504), "Gateway Timeout");
  assert_string_equal(kedge_http_status_title(418), "Client Error");
  assert_string_equal(kedge_http_status_title(599), "Server Error");
  assert_string_equal(kedge_http_status_title(-3), "Unknown Status");
}

static void test_problem_new_exact_json(void **state)
{
  json_t *p = kedge_problem_new(404, "KEDGE_ID_NOT_FOUND", "unknown or expired Kedge ID");
  assert_non_null(p);
  char *s = json_dumps(p, JSON_COMPACT);
  assert_string_equal(s, "{\"title\":\"Not Found\",\"status\":404,"
                         "\"detail\":\"unknown or expired Kedge ID\","
                         "\"cause\":\"KEDGE_ID_NOT_FOUND\"}");
  free(s);
  json_decref(p);

  p = kedge_problem_new(503, "NF_CONGESTION", NULL);
  s = json_dumps(p, JSON_COMPACT);
  assert_string_equal(s, "{\"title\":\"Service Unavailable\",\"status\":503,"
                         "\"cause\":\"NF_CONGESTION\"}");
  free(s);
  json_decref(p);

  /* A detail that quotes peer bytes which are not UTF-8 still yields a problem. */
  p = kedge_problem_new(400, "MANDATORY_IE_INCORRECT", "bad \xff");
  assert_non_null(p);
  assert_string_equal(json_string_value(json_object_get(p, "detail")), "(text not valid UTF-8)");
  json_decref(p);
}

static void test_problem_from_error(void **state)
{
  json_t *p = kedge_problem_from_error(KEDGE_ERR_BUSY, NULL);
  assert_int_equal(json_integer_value(json_object_get(p, "status")), 503);
  assert_string_equal(json_string_value(json_object_get(p, "cause")), "NF_CONGESTION");
  assert_string_equal(json_string_value(json_object_get(p, "title")), "Service Unavailable");
  assert_string_equal(json_string_value(json_object_get(p, "detail")),
                      kedge_strerror(KEDGE_ERR_BUSY));
  json_decref(p);
  p = kedge_problem_from_error(KEDGE_ERR_BAD_SUPI, "supiOrSuci: bad format");
  assert_int_equal(json_integer_value(json_object_get(p, "status")), 400);
  assert_string_equal(json_string_value(json_object_get(p, "detail")), "supiOrSuci: bad format");
  json_decref(p);
}

static void test_invalid_params(void **state)
{
  json_t *p = kedge_problem_new(400, "MANDATORY_IE_INCORRECT", NULL);
  assert_int_equal(
      kedge_problem_add_invalid_param(p, "/resynchronizationInfo/auts", "must be 28 hex digits"),
      KEDGE_OK);
  assert_int_equal(kedge_problem_add_invalid_param(p, "/servingNetworkName", NULL), KEDGE_OK);
  char *s = json_dumps(json_object_get(p, "invalidParams"), JSON_COMPACT);
  assert_string_equal(s, "[{\"param\":\"/resynchronizationInfo/auts\","
                         "\"reason\":\"must be 28 hex digits\"},"
                         "{\"param\":\"/servingNetworkName\"}]");
  free(s);

  assert_int_equal(kedge_problem_add_invalid_param(NULL, "/a", "x"), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_problem_add_invalid_param(p, NULL, "x"), KEDGE_ERR_INVALID_ARG);
  json_t *arr = json_array();
  assert_int_equal(kedge_problem_add_invalid_param(arr, "/a", "x"), KEDGE_ERR_INVALID_ARG);
  json_decref(arr);
  /* invalidParams that is not an array is never extended */
  json_object_set_new(p, "invalidParams", json_string("oops"));
  assert_int_equal(kedge_problem_add_invalid_param(p, "/a", "x"), KEDGE_ERR_INVALID_ARG);
  json_decref(p);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mapping_each_error), cmocka_unit_test(test_mapping_complete),
      cmocka_unit_test(test_status_titles),      cmocka_unit_test(test_problem_new_exact_json),
      cmocka_unit_test(test_problem_from_error), cmocka_unit_test(test_invalid_params),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
