/* SBI routing: literal and {var} segments, precedence, 404/405 with Allow, percent-decoding,
 * bounds on segments and patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../lib/sbi/router.h"

static void h1(kedge_sbi_request_t *req, void *arg)
{
}
static void h2(kedge_sbi_request_t *req, void *arg)
{
}

static sbi_router_t router;

static int setup(void **state)
{
  sbi_router_init(&router);
  assert_int_equal(
      sbi_router_add(&router, "POST", "/nausf-auth/v1/ue-authentications", NULL, h1, NULL),
      KEDGE_OK);
  assert_int_equal(
      sbi_router_add(&router, "PUT",
                     "/nausf-auth/v1/ue-authentications/{authCtxId}/5g-aka-confirmation", NULL, h2,
                     NULL),
      KEDGE_OK);
  assert_int_equal(
      sbi_router_add(&router, "DELETE",
                     "/nausf-auth/v1/ue-authentications/{authCtxId}/5g-aka-confirmation", NULL, h2,
                     NULL),
      KEDGE_OK);
  assert_int_equal(sbi_router_add(&router, "POST", "/nausf-auth/v1/ue-authentications/deregister",
                                  NULL, h2, (void *)1),
                   KEDGE_OK);
  assert_int_equal(sbi_router_add(&router, "POST", "/nausf-auth/v1/ue-authentications/{id}", NULL,
                                  h1, (void *)2),
                   KEDGE_OK);
  assert_int_equal(
      sbi_router_add(&router, "GET", "/a/{x}/{y}", "application/merge-patch+json", h1, NULL),
      KEDGE_OK);
  return 0;
}

static int teardown(void **state)
{
  sbi_router_free(&router);
  return 0;
}

static void test_literal(void **state)
{
  sbi_match_t m;
  assert_int_equal(
      sbi_router_match(&router, "POST", "/nausf-auth/v1/ue-authentications", &m, NULL, 0),
      SBI_MATCH_OK);
  assert_ptr_equal(m.route->handler, h1);
  assert_int_equal(m.n_vars, 0);
  sbi_match_clear(&m);
}

static void test_variable(void **state)
{
  sbi_match_t m;
  assert_int_equal(
      sbi_router_match(&router, "PUT",
                       "/nausf-auth/v1/ue-authentications/ab%2Fc%20d/5g-aka-confirmation", &m, NULL,
                       0),
      SBI_MATCH_OK);
  assert_string_equal(m.route->pattern,
                      "/nausf-auth/v1/ue-authentications/{authCtxId}/5g-aka-confirmation");
  assert_string_equal(sbi_match_var(&m, "authCtxId"), "ab/c d");
  assert_null(sbi_match_var(&m, "other"));
  sbi_match_clear(&m);

  assert_int_equal(sbi_router_match(&router, "GET", "/a/1/two", &m, NULL, 0), SBI_MATCH_OK);
  assert_string_equal(sbi_match_var(&m, "x"), "1");
  assert_string_equal(sbi_match_var(&m, "y"), "two");
  assert_string_equal(m.route->media_type, "application/merge-patch+json");
  sbi_match_clear(&m);
}

static void test_literal_beats_variable(void **state)
{
  sbi_match_t m;
  assert_int_equal(sbi_router_match(&router, "POST", "/nausf-auth/v1/ue-authentications/deregister",
                                    &m, NULL, 0),
                   SBI_MATCH_OK);
  assert_ptr_equal(m.route->arg, (void *)1);
  sbi_match_clear(&m);
  assert_int_equal(
      sbi_router_match(&router, "POST", "/nausf-auth/v1/ue-authentications/xyz", &m, NULL, 0),
      SBI_MATCH_OK);
  assert_ptr_equal(m.route->arg, (void *)2);
  assert_string_equal(sbi_match_var(&m, "id"), "xyz");
  sbi_match_clear(&m);
}

static void test_not_found(void **state)
{
  sbi_match_t m;
  const char *paths[] = {"/",
                         "/nausf-auth",
                         "/nausf-auth/v2/ue-authentications",
                         "/nausf-auth/v1/ue-authentications/", /* empty variable */
                         "/nausf-auth/v1/ue-authentications//5g-aka-confirmation",
                         "/nausf-auth/v1/ue-authentications/x/5g-aka-confirmation/more",
                         "nausf-auth/v1/ue-authentications",
                         "",
                         "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t"};
  for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
    if (sbi_router_match(&router, "POST", paths[i], &m, NULL, 0) != SBI_MATCH_NOT_FOUND)
      fail_msg("%s should be 404", paths[i]);
  }
}

static void test_method_not_allowed(void **state)
{
  sbi_match_t m;
  char allow[64];
  assert_int_equal(sbi_router_match(&router, "GET",
                                    "/nausf-auth/v1/ue-authentications/1/5g-aka-confirmation", &m,
                                    allow, sizeof(allow)),
                   SBI_MATCH_BAD_METHOD);
  assert_string_equal(allow, "PUT, DELETE");
  assert_null(m.route);
  /* Allow never overflows its buffer. */
  char tiny[6];
  assert_int_equal(sbi_router_match(&router, "GET",
                                    "/nausf-auth/v1/ue-authentications/1/5g-aka-confirmation", &m,
                                    tiny, sizeof(tiny)),
                   SBI_MATCH_BAD_METHOD);
  assert_string_equal(tiny, "PUT");
}

static void test_bad_percent_encoding(void **state)
{
  sbi_match_t m;
  const char *paths[] = {"/a/%zz/b", "/a/%2/b", "/a/%/b", "/a/x%00y/b", "/a/b/%4"};
  for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
    if (sbi_router_match(&router, "GET", paths[i], &m, NULL, 0) != SBI_MATCH_BAD_PATH)
      fail_msg("%s should be a bad path", paths[i]);
}

static void test_bad_patterns(void **state)
{
  sbi_router_t r;
  sbi_router_init(&r);
  const char *bad[] = {"",
                       "x",
                       "/a//b",
                       "/a/",
                       "/{}",
                       "/{a-b}",
                       "/a b",
                       "/a\"b",
                       "/a/%41",
                       "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17",
                       "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (sbi_router_add(&r, "GET", bad[i], NULL, h1, NULL) != KEDGE_ERR_INVALID_ARG)
      fail_msg("pattern '%s' should be refused", bad[i]);
  assert_int_equal(sbi_router_add(&r, "get", "/a", NULL, h1, NULL), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(sbi_router_add(&r, "GET", "/a", NULL, NULL, NULL), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(sbi_router_add(&r, "GET", "/a/{x}", NULL, h1, NULL), KEDGE_OK);
  /* Same method and shape (variable names do not matter): a duplicate. */
  assert_int_equal(sbi_router_add(&r, "GET", "/a/{y}", NULL, h1, NULL), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(sbi_router_add(&r, "POST", "/a/{y}", NULL, h1, NULL), KEDGE_OK);
  assert_int_equal(r.n, 2);
  assert_int_equal(r.routes[1]->index, 1);
  sbi_router_free(&r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_literal, setup, teardown),
      cmocka_unit_test_setup_teardown(test_variable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_literal_beats_variable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
      cmocka_unit_test_setup_teardown(test_method_not_allowed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_percent_encoding, setup, teardown),
      cmocka_unit_test(test_bad_patterns),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
