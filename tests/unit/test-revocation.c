/* Issue 13: the KedgeRevocationNotification checker every receiver uses (lib/json/revocation.c)
 * and the subscription table of the AUSF and the NEF (lib/sbi/subscriptions.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kedge/revocation.h"
#include "kedge/sbi_notify.h"
#include "kedge/sbi_subscriptions.h"

/* A Kedge ID of the SPEC.md 2 grammar (tests/vectors/kedge.txt's shape). */
#define KID "0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@5gc.mnc001.mcc001.3gppnetwork.org"

static const char *check(const char *text, char *param, size_t size)
{
  json_t *body = json_loads(text, 0, NULL), *problem = NULL;
  kedge_err_t err = kedge_revocation_check(body, &problem);
  json_decref(body);
  param[0] = '\0';
  if (!err)
    return NULL;
  assert_non_null(problem);
  assert_int_equal(json_integer_value(json_object_get(problem, "status")), 400);
  json_t *first = json_array_get(json_object_get(problem, "invalidParams"), 0);
  snprintf(param, size, "%s", json_string_value(json_object_get(first, "param")));
  static char cause[64];
  snprintf(cause, sizeof(cause), "%s", json_string_value(json_object_get(problem, "cause")));
  json_decref(problem);
  return cause;
}

static void notification_bodies(void **state)
{
  char param[96];
  assert_null(check("{\"revokedKeys\":[{\"kedgeId\":\"" KID "\",\"cause\":\"REPLACED\"}]}", param,
                    sizeof(param)));
  assert_null(check("{\"revokedKeys\":[{\"kedgeId\":\"" KID "\",\"cause\":\"DELETED\"},"
                    "{\"kedgeId\":\"" KID "\",\"cause\":\"EXPIRED\"}],\"x\":1}",
                    param, sizeof(param)));
  assert_string_equal(check("{}", param, sizeof(param)), "MANDATORY_IE_MISSING");
  assert_string_equal(param, "/revokedKeys");
  assert_string_equal(check("{\"revokedKeys\":[]}", param, sizeof(param)),
                      "MANDATORY_IE_INCORRECT");
  assert_string_equal(check("{\"revokedKeys\":{}}", param, sizeof(param)),
                      "MANDATORY_IE_INCORRECT");
  assert_string_equal(check("{\"revokedKeys\":[{\"kedgeId\":\"0.x@y\",\"cause\":\"DELETED\"}]}",
                            param, sizeof(param)),
                      "MANDATORY_IE_INCORRECT");
  assert_string_equal(param, "/revokedKeys/0/kedgeId");
  assert_string_equal(check("{\"revokedKeys\":[{\"kedgeId\":\"" KID "\",\"cause\":\"GONE\"}]}",
                            param, sizeof(param)),
                      "MANDATORY_IE_INCORRECT");
  assert_string_equal(param, "/revokedKeys/0/cause");
  assert_string_equal(check("{\"revokedKeys\":[{\"kedgeId\":\"" KID "\"}]}", param, sizeof(param)),
                      "MANDATORY_IE_MISSING");
  assert_string_equal(param, "/revokedKeys/0/cause");
  /* more than KEDGE_REVOCATION_MAX_ITEMS */
  json_t *many = json_array();
  for (int i = 0; i <= KEDGE_REVOCATION_MAX_ITEMS; i++)
    json_array_append_new(many, json_pack("{s:s, s:s}", "kedgeId", KID, "cause", "DELETED"));
  json_t *body = json_pack("{s:o}", "revokedKeys", many), *problem = NULL;
  assert_int_equal(kedge_revocation_check(body, &problem), KEDGE_ERR_INVALID_ARG);
  json_decref(problem);
  json_decref(body);
}

static void callback_uris(void **state)
{
  assert_true(kedge_sbi_callback_uri_ok("https://127.0.0.1:7443/kedge-revocation/v1/notify"));
  assert_true(kedge_sbi_callback_uri_ok("https://[::1]:7443/x?y=1"));
  assert_false(kedge_sbi_callback_uri_ok("http://127.0.0.1/x"));
  assert_false(kedge_sbi_callback_uri_ok("https://"));
  assert_false(kedge_sbi_callback_uri_ok("https://user@evil.example/x"));
  assert_true(kedge_sbi_callback_uri_ok("https://host.example/a@b")); /* '@' in the path */
  assert_false(kedge_sbi_callback_uri_ok("https://host.example/a b"));
  assert_false(kedge_sbi_callback_uri_ok("https://host.example/\x01"));
  assert_false(kedge_sbi_callback_uri_ok(NULL));
  char long_uri[KEDGE_SBI_NOTIFY_URI_MAX + 2];
  memset(long_uri, 'a', sizeof(long_uri) - 1);
  long_uri[sizeof(long_uri) - 1] = '\0';
  memcpy(long_uri, "https://", 8);
  assert_false(kedge_sbi_callback_uri_ok(long_uri));
}

static void subscriptions(void **state)
{
  kedge_sbi_subs_t *t;
  bool added = false;
  assert_int_equal(kedge_sbi_subs_new(3, &t), KEDGE_OK);
  assert_int_equal(kedge_sbi_subs_add(t, "imsi-1", "old", "https://a/", 100, &added), KEDGE_OK);
  assert_true(added);
  assert_int_equal(kedge_sbi_subs_add(t, "imsi-1", "old", "https://a/", 100, &added), KEDGE_OK);
  assert_false(added); /* the same consumer asking again: one entry */
  assert_int_equal(kedge_sbi_subs_add(t, "imsi-1", "new", "https://a/", 100, &added), KEDGE_OK);
  assert_int_equal(kedge_sbi_subs_add(t, "imsi-2", "x", "https://b/", 50, &added), KEDGE_OK);
  assert_int_equal(kedge_sbi_subs_add(t, "imsi-3", "y", "https://b/", 100, &added), KEDGE_ERR_BUSY);
  assert_false(added);
  assert_int_equal(kedge_sbi_subs_count(t), 3);
  /* a replacement: every key of the SUPI but the new one */
  size_t n = 0;
  kedge_sbi_sub_t *l = kedge_sbi_subs_take(t, "imsi-1", "new", NULL, &n);
  assert_int_equal(n, 1);
  assert_string_equal(l->id, "old");
  assert_string_equal(l->uri, "https://a/");
  assert_null(l->next);
  kedge_sbi_subs_list_free(l);
  assert_null(kedge_sbi_subs_take(t, "imsi-9", NULL, NULL, &n));
  assert_int_equal(n, 0);
  /* expiry */
  assert_int_equal(kedge_sbi_subs_purge(t, 50), 1);
  assert_int_equal(kedge_sbi_subs_count(t), 1);
  assert_null(kedge_sbi_subs_take(t, "imsi-1", NULL, "other", &n)); /* only another id */
  assert_int_equal(n, 0);
  l = kedge_sbi_subs_take(t, "imsi-1", NULL, "new", &n);
  assert_int_equal(n, 1);
  assert_string_equal(l->id, "new");
  kedge_sbi_subs_list_free(l);
  assert_int_equal(kedge_sbi_subs_count(t), 0);
  kedge_sbi_subs_free(t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(notification_bodies),
      cmocka_unit_test(callback_uris),
      cmocka_unit_test(subscriptions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
