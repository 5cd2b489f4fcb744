/* The wiping allocators (lib/app/wipe_alloc.c, kedge/app.h), installed as kedge-nefd does
 * (OpenSSL's, jansson's, libcurl's) before OpenSSL's first allocation: a block libcurl frees is
 * wiped first (its copy of an `Authorization: Bearer` header line: the daemons' access tokens,
 * TS 33.501 13.4.1), as is a block OpenSSL frees; realloc keeps contents when it grows and
 * shrinks; and the libraries work through them (a TLS context, JSON, a curl handle). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "kedge/app.h"
#include "kedge/json_check.h"

#define TOKEN "eyJhbGciOiJFUzI1NiJ9.wipe-me-token.sig"

/* What the observer saw: blocks freed, and whether any still held a non-zero byte or the
 * token when it was about to go back to malloc. */
static size_t seen_blocks, seen_dirty, seen_token;

static void observe(const void *block, size_t size)
{
  const unsigned char *b = block;
  seen_blocks++;
  for (size_t i = 0; i < size; i++)
    if (b[i]) {
      seen_dirty++;
      break;
    }
  if (size >= strlen(TOKEN) && memmem(b, size, TOKEN, strlen(TOKEN)))
    seen_token++;
}

static void reset_seen(void)
{
  seen_blocks = seen_dirty = seen_token = 0;
}

static void test_installed(void **state)
{
  assert_true(kedge_app_wipe_installed(true));
  /* a second install is a no-op, not a second global reference */
  assert_int_equal(kedge_app_wipe_curl(), KEDGE_OK);
  json_malloc_t m = NULL;
  json_free_t f = NULL;
  json_get_alloc_funcs(&m, &f);
  assert_ptr_not_equal(f, free); /* the libraries' own defaults are gone */
}

/* libcurl's copy of the header line: curl_slist_append strdup()s it, curl_slist_free_all frees
 * the string and the node; both must reach free() zeroed. */
static void curl_header_line_wiped(void **state)
{
  struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer " TOKEN);
  assert_non_null(h);
  reset_seen();
  kedge_app_wipe_observe(observe);
  curl_slist_free_all(h);
  kedge_app_wipe_observe(NULL);
  assert_true(seen_blocks >= 2); /* the line and the list node */
  assert_int_equal(seen_dirty, 0);
  assert_int_equal(seen_token, 0);
}

/* The same through a curl handle that carried the header (its own copies, freed at cleanup). */
static void curl_handle_wiped(void **state)
{
  CURL *easy = curl_easy_init();
  assert_non_null(easy);
  struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer " TOKEN);
  assert_int_equal(curl_easy_setopt(easy, CURLOPT_URL, "https://127.0.0.1:1/x"), CURLE_OK);
  assert_int_equal(curl_easy_setopt(easy, CURLOPT_XOAUTH2_BEARER, TOKEN), CURLE_OK);
  assert_int_equal(curl_easy_setopt(easy, CURLOPT_HTTPHEADER, h), CURLE_OK);
  reset_seen();
  kedge_app_wipe_observe(observe);
  curl_easy_cleanup(easy);
  curl_slist_free_all(h);
  kedge_app_wipe_observe(NULL);
  assert_true(seen_blocks >= 3); /* the handle's copy of the token, the line, the node... */
  assert_int_equal(seen_dirty, 0);
  assert_int_equal(seen_token, 0);
}

static void openssl_block_wiped(void **state)
{
  unsigned char *p = OPENSSL_malloc(64);
  assert_non_null(p);
  memcpy(p, TOKEN, strlen(TOKEN));
  reset_seen();
  kedge_app_wipe_observe(observe);
  OPENSSL_free(p);
  kedge_app_wipe_observe(NULL);
  assert_int_equal(seen_blocks, 1);
  assert_int_equal(seen_dirty, 0);
  assert_int_equal(seen_token, 0);
}

static void realloc_keeps_contents(void **state)
{
  unsigned char *p = OPENSSL_malloc(16);
  assert_non_null(p);
  for (int i = 0; i < 16; i++)
    p[i] = (unsigned char)i;
  p = OPENSSL_realloc(p, 4096); /* moves: copied, the old block wiped and freed */
  assert_non_null(p);
  for (int i = 0; i < 16; i++)
    assert_int_equal(p[i], i);
  p = OPENSSL_realloc(p, 8); /* shrinks in place */
  for (int i = 0; i < 8; i++)
    assert_int_equal(p[i], i);
  OPENSSL_free(p);
  p = OPENSSL_malloc(4);
  assert_null(OPENSSL_realloc(p, 0)); /* frees */
}

static void test_libraries_work(void **state)
{
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  assert_non_null(ctx);
  SSL_CTX_free(ctx);
  json_t *j = json_pack("{s:s}", "kedge",
                        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  char *text = json_dumps(j, JSON_COMPACT);
  assert_non_null(text);
  json_t *back = json_loads(text, 0, NULL);
  assert_true(json_equal(j, back));
  json_decref(back);
  json_decref(j);
  free(text); /* json_dumps uses jansson's malloc, which is plain malloc here */
  CURL *easy = curl_easy_init();
  assert_non_null(easy);
  assert_int_equal(curl_easy_setopt(easy, CURLOPT_URL, "https://127.0.0.1:1/x"), CURLE_OK);
  curl_easy_cleanup(easy);
}

int main(void)
{
  /* first, as kedge-nefd does */
  kedge_json_wipe_on_free();
  if (kedge_app_wipe_openssl() != KEDGE_OK || kedge_app_wipe_curl() != KEDGE_OK)
    return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_installed),         cmocka_unit_test(curl_header_line_wiped),
      cmocka_unit_test(curl_handle_wiped),      cmocka_unit_test(openssl_block_wiped),
      cmocka_unit_test(realloc_keeps_contents), cmocka_unit_test(test_libraries_work),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  kedge_app_wipe_release();
  return rc;
}
