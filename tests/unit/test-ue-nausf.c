/* Nausf_UEAuthentication from the SEAF's side (daemons/ue/nausf.c): the AuthenticationInfo
 * bodies (first request, resynchronisation), parsing of UEAuthenticationCtx with its failures,
 * the ConfirmationDataResponse read flat (and what is left to jansson),
 * and resolution of the 5g-aka href (RFC 3986 5.2) with what it refuses. Also the key
 * fingerprint (kedge/fingerprint.h) against SHA-256 known answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "kedge/fingerprint.h"
#include "kedge/hex.h"
#include "ue.h"

static const char base[] = "https://127.0.0.1:8443/nausf-auth/v1/ue-authentications";

static void expect_resolved(const char *b, const char *href, const char *want)
{
  char out[UE_URI_MAX];
  kedge_err_t err = ue_resolve_href(b, href, out, sizeof(out));
  if (err != KEDGE_OK || strcmp(out, want) != 0)
    fail_msg("%s + %s: %s \"%s\", want \"%s\"", b, href, kedge_strerror(err), out, want);
}

static void test_resolve_href(void **state)
{
  /* absolute */
  expect_resolved(base,
                  "https://10.0.0.7:9443/nausf-auth/v1/ue-authentications/x/5g-aka-confirmation",
                  "https://10.0.0.7:9443/nausf-auth/v1/ue-authentications/x/5g-aka-confirmation");
  /* absolute path: the AUSF's authority */
  expect_resolved(
      base, "/nausf-auth/v1/ue-authentications/abc/5g-aka-confirmation",
      "https://127.0.0.1:8443/nausf-auth/v1/ue-authentications/abc/5g-aka-confirmation");
  /* relative path: against the request URI's path (RFC 3986 5.2.3) */
  expect_resolved(
      base, "ue-authentications/abc/5g-aka-confirmation",
      "https://127.0.0.1:8443/nausf-auth/v1/ue-authentications/abc/5g-aka-confirmation");
  expect_resolved(
      base, "./ue-authentications/abc/5g-aka-confirmation",
      "https://127.0.0.1:8443/nausf-auth/v1/ue-authentications/abc/5g-aka-confirmation");
  /* an apiRoot with a prefix */
  expect_resolved(
      "https://ausf.kedge.test/pfx/nausf-auth/v1/ue-authentications",
      "ue-authentications/a%2Fb/5g-aka-confirmation",
      "https://ausf.kedge.test/pfx/nausf-auth/v1/ue-authentications/a%2Fb/5g-aka-confirmation");
  /* a query stays */
  expect_resolved(base, "/x?y=1", "https://127.0.0.1:8443/x?y=1");
}

static void test_resolve_href_refuses(void **state)
{
  char out[UE_URI_MAX];
  /* RES* never over plain HTTP, nor with credentials in the URL, nor with a fragment */
  assert_int_equal(ue_resolve_href(base, "http://127.0.0.1:8443/x", out, sizeof(out)),
                   KEDGE_ERR_CONFIG);
  assert_string_equal(out, "");
  assert_int_equal(ue_resolve_href(base, "https://u:p@127.0.0.1/x", out, sizeof(out)),
                   KEDGE_ERR_CONFIG);
  assert_int_equal(ue_resolve_href(base, "/x#frag", out, sizeof(out)), KEDGE_ERR_CONFIG);
  assert_int_equal(ue_resolve_href(base, "ftp://127.0.0.1/x", out, sizeof(out)), KEDGE_ERR_CONFIG);
  assert_int_equal(ue_resolve_href(base, "https://", out, sizeof(out)), KEDGE_ERR_CONFIG);
  /* too long for the buffer */
  char small[20];
  assert_int_equal(ue_resolve_href(base, "/nausf-auth/v1/x", small, sizeof(small)),
                   KEDGE_ERR_TOO_BIG);
  assert_int_equal(ue_resolve_href(NULL, "/x", out, sizeof(out)), KEDGE_ERR_INVALID_ARG);
}

/* ue_resolve_href_uh's shortcut (the AUSF's usual link, no libcurl) gives what libcurl gives,
 * and an href it does not take still goes through libcurl's resolution and refusals. */
static void expect_same_with_origin(const char *b, const char *href, bool shortcut)
{
  CURLU *u = curl_url();
  assert_non_null(u);
  assert_int_equal(curl_url_set(u, CURLUPART_URL, b, 0), CURLUE_OK);
  char origin[UE_URI_MAX], fast[UE_URI_MAX], slow[UE_URI_MAX];
  assert_int_equal(ue_href_origin(u, origin, sizeof(origin)), KEDGE_OK);
  kedge_err_t e_fast = ue_resolve_href_uh(u, origin, href, fast, sizeof(fast));
  kedge_err_t e_slow = ue_resolve_href_uh(u, NULL, href, slow, sizeof(slow));
  if (e_fast != e_slow || strcmp(fast, slow) != 0)
    fail_msg("%s + %s: %s \"%s\" with the origin, %s \"%s\" without", b, href,
             kedge_strerror(e_fast), fast, kedge_strerror(e_slow), slow);
  if (shortcut) /* the AUSF's usual link is its own resolution */
    assert_string_equal(fast, href);
  curl_url_cleanup(u);
}

static void test_resolve_href_shortcut(void **state)
{
  const char *b = base;
  expect_same_with_origin(
      b, "https://127.0.0.1:8443/nausf-auth/v1/ue-authentications/Ab-_~9.x/5g-aka-confirmation",
      true);
  /* not taken: another origin, a relative or dot-segment path, a query, a fragment, an escape,
   * user info, plain HTTP */
  expect_same_with_origin(b, "https://127.0.0.1:9443/nausf-auth/v1/x/5g-aka-confirmation", false);
  expect_same_with_origin(b, "https://127.0.0.1:8443/nausf-auth/v1/../x/5g-aka-confirmation",
                          false);
  expect_same_with_origin(b, "https://127.0.0.1:8443/nausf-auth/./v1/x", false);
  expect_same_with_origin(b, "https://127.0.0.1:8443/x?y=1", false);
  expect_same_with_origin(b, "https://127.0.0.1:8443/x#frag", false);
  expect_same_with_origin(b, "https://127.0.0.1:8443/a%2Fb/5g-aka-confirmation", false);
  expect_same_with_origin(b, "https://127.0.0.1:8443@evil.test/x", false);
  expect_same_with_origin(b, "http://127.0.0.1:8443/x", false);
  expect_same_with_origin(b, "/nausf-auth/v1/ue-authentications/abc/5g-aka-confirmation", false);
  expect_same_with_origin(b, "ue-authentications/abc/5g-aka-confirmation", false);
  /* a base with a prefix and a name: its origin is the authority alone */
  expect_same_with_origin("https://ausf.kedge.test/pfx/nausf-auth/v1/ue-authentications",
                          "https://ausf.kedge.test/pfx/nausf-auth/v1/ue-authentications/a/5g-aka"
                          "-confirmation",
                          true);
  /* a base with user info has no origin: every href through libcurl */
  CURLU *u = curl_url();
  assert_int_equal(curl_url_set(u, CURLUPART_URL, "https://u@127.0.0.1/x", 0), CURLUE_OK);
  char origin[UE_URI_MAX];
  assert_int_equal(ue_href_origin(u, origin, sizeof(origin)), KEDGE_OK);
  assert_string_equal(origin, "");
  curl_url_cleanup(u);
}

static ue_config_t test_config(void)
{
  ue_config_t cfg;
  memset(&cfg, 0, sizeof(cfg));
  assert_int_equal(kedge_supi_parse("nai-alice@example.org", &cfg.usim.supi), KEDGE_OK);
  assert_int_equal(kedge_plmn_parse("001", "01", &cfg.serving), KEDGE_OK);
  kedge_serving_network_name(&cfg.serving, cfg.snn);
  return cfg;
}

static void test_authentication_info(void **state)
{
  ue_config_t cfg = test_config();
  json_t *b = ue_authentication_info(&cfg, NULL, NULL);
  assert_non_null(b);
  char *s = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
  assert_string_equal(s, "{\"servingNetworkName\":\"5G:mnc001.mcc001.3gppnetwork.org\","
                         "\"supiOrSuci\":\"nai-alice@example.org\"}");
  free(s);
  json_decref(b);

  uint8_t rand[16], auts[14];
  for (int i = 0; i < 16; i++)
    rand[i] = (uint8_t)(0xa0 + i);
  for (int i = 0; i < 14; i++)
    auts[i] = (uint8_t)i;
  b = ue_authentication_info(&cfg, rand, auts);
  assert_non_null(b);
  s = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
  assert_string_equal(s, "{\"resynchronizationInfo\":{\"auts\":\"000102030405060708090a0b0c0d\","
                         "\"rand\":\"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\"},"
                         "\"servingNetworkName\":\"5G:mnc001.mcc001.3gppnetwork.org\","
                         "\"supiOrSuci\":\"nai-alice@example.org\"}");
  free(s);
  json_decref(b);
}

#define RAND_HEX  "23553cbe9637a89d218ae64dae47bf35"
#define AUTN_HEX  "55f328b43577b9b94a9ffac354dfafb3"
#define HXRES_HEX "0bd7e5d2a1d1b1d1e1f101112131415f"

static const char ctx_good[] = "{\"authType\":\"5G_AKA\","
                               "\"5gAuthData\":{\"rand\":\"" RAND_HEX
                               "\",\"hxresStar\":\"" HXRES_HEX "\",\"autn\":\"" AUTN_HEX "\"},"
                               "\"_links\":{\"5g-aka\":{\"href\":\"/nausf-auth/v1/"
                               "ue-authentications/q/5g-aka-confirmation\"}}}";

static void test_parse_auth_ctx(void **state)
{
  json_t *b = json_loads(ctx_good, 0, NULL);
  assert_non_null(b);
  ue_auth_ctx_t ctx;
  const char *why = NULL;
  assert_int_equal(ue_parse_auth_ctx(b, &ctx, &why), KEDGE_OK);
  uint8_t want[16];
  kedge_hex_decode(RAND_HEX, want, 16);
  assert_memory_equal(ctx.rand, want, 16);
  kedge_hex_decode(AUTN_HEX, want, 16);
  assert_memory_equal(ctx.autn, want, 16);
  kedge_hex_decode(HXRES_HEX, want, 16);
  assert_memory_equal(ctx.hxres_star, want, 16);
  assert_string_equal(ctx.href, "/nausf-auth/v1/ue-authentications/q/5g-aka-confirmation");
  json_decref(b);

  /* LinksValueSchema as an array of alternatives: the first; upper-case hex is hex too */
  b = json_loads("{\"authType\":\"5G_AKA\",\"5gAuthData\":{\"rand\":\"" RAND_HEX "\","
                 "\"hxresStar\":\"0BD7E5D2A1D1B1D1E1F101112131415F\",\"autn\":\"" AUTN_HEX "\"},"
                 "\"_links\":{\"5g-aka\":[{\"href\":\"https://a/1\"},{\"href\":\"https://b/2\"}]},"
                 "\"servingNetworkName\":\"5G:mnc001.mcc001.3gppnetwork.org\"}",
                 0, NULL);
  assert_non_null(b);
  assert_int_equal(ue_parse_auth_ctx(b, &ctx, &why), KEDGE_OK);
  assert_string_equal(ctx.href, "https://a/1");
  kedge_hex_decode(HXRES_HEX, want, 16);
  assert_memory_equal(ctx.hxres_star, want, 16);
  json_decref(b);
}

static void expect_ctx_error(const char *from, const char *to, kedge_err_t want_err,
                             const char *want_why)
{
  /* ctx_good with `from` replaced by `to` */
  char text[1024];
  const char *at = strstr(ctx_good, from);
  assert_non_null(at);
  snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - ctx_good), ctx_good, to, at + strlen(from));
  json_t *b = json_loads(text, 0, NULL);
  assert_non_null(b);
  ue_auth_ctx_t ctx;
  const char *why = NULL;
  kedge_err_t err = ue_parse_auth_ctx(b, &ctx, &why);
  json_decref(b);
  if (err != want_err || !why || strncmp(why, want_why, strlen(want_why)) != 0)
    fail_msg("%s: got %s \"%s\", want \"%s\"", text, kedge_strerror(err), why ? why : "", want_why);
  /* read flat (when it is a flat body): the same verdict and reason */
  const char *why_flat = NULL;
  kedge_err_t err_flat;
  if (ue_read_auth_ctx(text, strlen(text), &ctx, &why_flat, &err_flat) &&
      (err_flat != err || !why_flat || strcmp(why_flat, why) != 0))
    fail_msg("%s: read flat %s \"%s\"", text, kedge_strerror(err_flat), why_flat ? why_flat : "");
}

/* ue_read_auth_ctx: the UEAuthenticationCtx read without a tree gives the tree's fields; an
 * array of Links, an escape or another member is left to jansson. */
static void expect_ctx_flat(const char *text, bool flat)
{
  ue_auth_ctx_t a, b;
  const char *why = NULL;
  kedge_err_t err = KEDGE_ERR__COUNT;
  if (ue_read_auth_ctx(text, strlen(text), &a, &why, &err) != flat)
    fail_msg("%s: read flat %d, want %d", text, !flat, flat);
  json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
  assert_non_null(j);
  kedge_err_t tree_err = ue_parse_auth_ctx(j, &b, &why);
  json_decref(j);
  if (flat) {
    assert_int_equal(err, tree_err);
    assert_memory_equal(&a, &b, sizeof(a));
  }
}

static void test_read_auth_ctx(void **state)
{
  expect_ctx_flat(ctx_good, true);
  expect_ctx_flat("{ \"_links\" : "
                  "{\"5g-aka\":{\"href\":\"https://h/x\"}},\n\"5gAuthData\":{\"autn\":\"" AUTN_HEX
                  "\",\"rand\":\"" RAND_HEX
                  "\",\"hxresStar\":\"0BD7E5D2A1D1B1D1E1F101112131415F\"},"
                  "\"authType\":\"5G_AKA\"}",
                  true);
  expect_ctx_flat("{\"authType\":\"EAP_AKA_PRIME\"}", true);
  expect_ctx_flat("{\"authType\":\"5G_AKA\",\"5gAuthData\":{\"rand\":\"" RAND_HEX
                  "\",\"hxresStar\":\"" HXRES_HEX "\",\"autn\":\"" AUTN_HEX
                  "\"},\"_links\":{\"5g-aka\":[{\"href\":\"https://a/1\"}]}}",
                  false);
  expect_ctx_flat("{\"authType\":\"5G_AKA\",\"5gAuthData\":{\"rand\":\"" RAND_HEX
                  "\",\"hxresStar\":\"" HXRES_HEX "\",\"autn\":\"" AUTN_HEX
                  "\"},\"_links\":{\"5g-aka\":{\"href\":\"https:\\/\\/a/1\"}}}",
                  false);
  expect_ctx_flat("{\"authType\":\"5G_AKA\",\"servingNetworkName\":\"x\"}", false);
  expect_ctx_flat("{\"authType\":\"5G_AKA\",\"5gAuthData\":\"x\"}", false);
  for (size_t n = 0; n < strlen(ctx_good); n++) { /* no truncation is a flat body */
    ue_auth_ctx_t c;
    const char *why = NULL;
    kedge_err_t err;
    assert_false(ue_read_auth_ctx(ctx_good, n, &c, &why, &err));
  }
}

static void test_parse_auth_ctx_refuses(void **state)
{
  expect_ctx_error("\"5G_AKA\"", "\"EAP_AKA_PRIME\"", KEDGE_ERR_UNSUPPORTED,
                   "authType: not 5G_AKA");
  expect_ctx_error("\"authType\":\"5G_AKA\",", "", KEDGE_ERR_CONFIG, "authType: missing");
  expect_ctx_error("\"authType\":\"5G_AKA\"", "\"authType\":5", KEDGE_ERR_CONFIG,
                   "authType: missing");
  expect_ctx_error("\"rand\":\"" RAND_HEX "\"", "\"rand\":\"" RAND_HEX "00\"", KEDGE_ERR_CONFIG,
                   "5gAuthData.rand:");
  expect_ctx_error("\"autn\":\"" AUTN_HEX "\"", "\"autn\":\"x\"", KEDGE_ERR_CONFIG,
                   "5gAuthData.autn:");
  expect_ctx_error("\"hxresStar\":\"" HXRES_HEX "\",", "", KEDGE_ERR_CONFIG,
                   "5gAuthData.hxresStar:");
  expect_ctx_error("\"5gAuthData\"", "\"5GAuthData\"", KEDGE_ERR_CONFIG, "5gAuthData: missing");
  expect_ctx_error("\"5g-aka\"", "\"eap-session\"", KEDGE_ERR_CONFIG,
                   "_links.5g-aka.href: missing");
  expect_ctx_error("{\"href\":\"/nausf-auth/v1/ue-authentications/q/5g-aka-confirmation\"}", "[]",
                   KEDGE_ERR_CONFIG, "_links.5g-aka.href: missing");
  expect_ctx_error("\"href\":\"/nausf-auth/v1/ue-authentications/q/5g-aka-confirmation\"",
                   "\"href\":\"\"", KEDGE_ERR_CONFIG, "_links.5g-aka.href: missing");

  ue_auth_ctx_t ctx;
  const char *why = NULL;
  json_t *arr = json_array();
  assert_int_equal(ue_parse_auth_ctx(arr, &ctx, &why), KEDGE_ERR_CONFIG);
  json_decref(arr);
  assert_int_equal(ue_parse_auth_ctx(NULL, &ctx, NULL), KEDGE_ERR_CONFIG);
}

static void test_fingerprint(void **state)
{
  char fp[KEDGE_FINGERPRINT_LEN + 1];
  /* SHA-256("abc") = ba7816bf... (FIPS 180-2 B.1) */
  assert_int_equal(kedge_key_fingerprint((const uint8_t *)"abc", 3, fp), KEDGE_OK);
  assert_string_equal(fp, "ba7816bf");
  /* SHA-256 of 32 zero octets = 66687aad... */
  static const uint8_t zero[32];
  assert_int_equal(kedge_key_fingerprint(zero, sizeof(zero), fp), KEDGE_OK);
  assert_string_equal(fp, "66687aad");
  assert_int_equal(kedge_key_fingerprint(NULL, 3, fp), KEDGE_ERR_INVALID_ARG);
  assert_string_equal(fp, "");
  assert_int_equal(kedge_key_fingerprint(zero, 0, fp), KEDGE_ERR_INVALID_ARG);
}

/* TS 29.509 6.1.6.2.6 ConfirmationDataResponse, as the UE's SEAF reads it. */
static void test_parse_confirmation(void **state)
{
  static const char supi[] = "imsi-001010000000001";
  static const struct {
    const char *text;
    kedge_err_t want;
  } cases[] = {
      {"{\"authResult\":\"AUTHENTICATION_SUCCESS\",\"supi\":\"imsi-001010000000001\","
       "\"kseaf\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}",
       KEDGE_OK},
      {"{\"authResult\":\"AUTHENTICATION_SUCCESS\","
       "\"kseaf\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}",
       KEDGE_OK}, /* supi is optional */
      {"{\"authResult\":\"AUTHENTICATION_FAILURE\"}", KEDGE_ERR_FORBIDDEN},
      {"{\"authResult\":\"AUTHENTICATION_SUCCESS\",\"supi\":\"imsi-001010000000002\","
       "\"kseaf\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}",
       KEDGE_ERR_CONFIG}, /* another SUPI */
      {"{\"authResult\":\"AUTHENTICATION_SUCCESS\",\"kseaf\":\"0011\"}", KEDGE_ERR_CONFIG},
      {"{\"authResult\":\"AUTHENTICATION_SUCCESS\"}", KEDGE_ERR_CONFIG},
      {"{\"authResult\":\"AUTHENTICATION_ONGOING\"}", KEDGE_ERR_CONFIG},
      {"{\"authResult\":7}", KEDGE_ERR_CONFIG},
      {"[]", KEDGE_ERR_CONFIG},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    json_t *j = json_loads(cases[i].text, 0, NULL);
    assert_non_null(j);
    uint8_t kseaf[KEDGE_KSEAF_LEN];
    const char *why = NULL, *result = NULL;
    assert_int_equal(ue_parse_confirmation(j, supi, &result, kseaf, &why), cases[i].want);
    if (cases[i].want == KEDGE_ERR_CONFIG)
      assert_non_null(why); /* every refusal names its reason */
    if (cases[i].want == KEDGE_OK) {
      assert_int_equal(kseaf[0], 0x00);
      assert_int_equal(kseaf[31], 0xff);
      assert_string_equal(result, "AUTHENTICATION_SUCCESS");
    }
    json_decref(j);
  }
}

/* ue_read_confirmation: a flat ConfirmationDataResponse read without a tree gives what the
 * tree gives (verdict, reason, KSEAF); any other body is left to jansson. */
static void expect_confirmation(const char *text, bool flat, kedge_err_t want)
{
  static const char supi[] = "imsi-001010000000001";
  uint8_t k_flat[KEDGE_KSEAF_LEN], k_tree[KEDGE_KSEAF_LEN];
  char result[UE_AUTH_RESULT_MAX + 1];
  const char *why_flat = NULL, *why_tree = NULL, *tree_result = NULL;
  kedge_err_t err_flat = KEDGE_ERR__COUNT;
  bool was_flat =
      ue_read_confirmation(text, strlen(text), supi, result, k_flat, &why_flat, &err_flat);
  if (was_flat != flat)
    fail_msg("%s: read flat %d, want %d", text, was_flat, flat);
  json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
  kedge_err_t err_tree = ue_parse_confirmation(j, supi, &tree_result, k_tree, &why_tree);
  if (err_tree != want)
    fail_msg("%s: tree %s", text, kedge_strerror(err_tree));
  if (was_flat) {
    assert_int_equal(err_flat, err_tree);
    if (why_tree || why_flat)
      assert_string_equal(why_flat, why_tree);
    assert_string_equal(result, tree_result ? tree_result : "");
    if (err_flat == KEDGE_OK)
      assert_memory_equal(k_flat, k_tree, sizeof(k_flat));
  }
  json_decref(j);
}

#define KSEAF_HEX "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"

static void test_read_confirmation(void **state)
{
  /* kedge-ausfd's form, and any other spelling of a flat object */
  expect_confirmation(
      "{\"authResult\":\"AUTHENTICATION_SUCCESS\",\"supi\":\"imsi-001010000000001\","
      "\"kseaf\":\"" KSEAF_HEX "\"}",
      true, KEDGE_OK);
  expect_confirmation(" { \"kseaf\" : \"" KSEAF_HEX
                      "\" ,\n \"authResult\":\"AUTHENTICATION_SUCCESS\"}\n",
                      true, KEDGE_OK);
  expect_confirmation("{\"authResult\":\"AUTHENTICATION_FAILURE\"}", true, KEDGE_ERR_FORBIDDEN);
  expect_confirmation(
      "{\"authResult\":\"AUTHENTICATION_SUCCESS\",\"supi\":\"imsi-001010000000002\","
      "\"kseaf\":\"" KSEAF_HEX "\"}",
      true, KEDGE_ERR_CONFIG);
  expect_confirmation("{\"authResult\":\"AUTHENTICATION_SUCCESS\",\"kseaf\":\"0011\"}", true,
                      KEDGE_ERR_CONFIG);
  expect_confirmation("{\"authResult\":\"AUTHENTICATION_ONGOING\"}", true, KEDGE_ERR_CONFIG);
  expect_confirmation("{}", true, KEDGE_ERR_CONFIG);
  /* left to jansson: an escape, a member of another kind or not in the table, a duplicate, an
   * authResult past the copy's bound, text after the object, not JSON */
  expect_confirmation("{\"authResult\":\"AUTHENTICATION\\u005fSUCCESS\",\"kseaf\":\"" KSEAF_HEX
                      "\"}",
                      false, KEDGE_OK);
  expect_confirmation("{\"authResult\":7}", false, KEDGE_ERR_CONFIG);
  expect_confirmation("{\"authResult\":\"AUTHENTICATION_FAILURE\",\"x\":1}", false,
                      KEDGE_ERR_FORBIDDEN);
  expect_confirmation("{\"authResult\":\"AUTHENTICATION_FAILURE\",\"authResult\":\"x\"}", false,
                      KEDGE_ERR_CONFIG);
  expect_confirmation("{\"authResult\":\"AUTHENTICATION_SUCCESS_AND_THEN_SOME_MORE\"}", false,
                      KEDGE_ERR_CONFIG);
  expect_confirmation("{\"authResult\":\"AUTHENTICATION_FAILURE\"} x", false, KEDGE_ERR_CONFIG);
  expect_confirmation("[]", false, KEDGE_ERR_CONFIG);
  static const char form[] =
      "{\"authResult\":\"AUTHENTICATION_SUCCESS\",\"kseaf\":\"" KSEAF_HEX "\"}";
  uint8_t kseaf[KEDGE_KSEAF_LEN];
  char result[UE_AUTH_RESULT_MAX + 1];
  const char *why = NULL;
  kedge_err_t err;
  for (size_t n = 0; n < strlen(form); n++) /* no truncation is a flat object */
    assert_false(ue_read_confirmation(form, n, "imsi-001010000000001", result, kseaf, &why, &err));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resolve_href),          cmocka_unit_test(test_resolve_href_refuses),
      cmocka_unit_test(test_resolve_href_shortcut), cmocka_unit_test(test_authentication_info),
      cmocka_unit_test(test_parse_auth_ctx),        cmocka_unit_test(test_parse_auth_ctx_refuses),
      cmocka_unit_test(test_fingerprint),           cmocka_unit_test(test_parse_confirmation),
      cmocka_unit_test(test_read_confirmation),     cmocka_unit_test(test_read_auth_ctx),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
