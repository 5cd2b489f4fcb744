/* The NEF's wiping allocators (daemons/nef/wipe_alloc.c): installed before OpenSSL's first
 * allocation they take over OpenSSL, jansson and libcurl; realloc keeps contents when it grows
 * and shrinks; and the libraries work through them (a TLS context, JSON, a curl handle). */
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

#include "nef.h"

static void test_installed(void **state)
{
  assert_true(nef_wipe_alloc_installed());
  /* the libraries' own defaults are gone */
  json_malloc_t m = NULL;
  json_free_t f = NULL;
  json_get_alloc_funcs(&m, &f);
  assert_ptr_not_equal(f, free);
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
  if (nef_wipe_alloc_install() != KEDGE_OK)
    return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_installed),
      cmocka_unit_test(realloc_keeps_contents),
      cmocka_unit_test(test_libraries_work),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  nef_wipe_alloc_release();
  return rc;
}
