/* SBI client (unit): option validation and request argument checks (no server involved). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "kedge/log.h"
#include "kedge/pki.h"
#include "kedge/sbi_client.h"

typedef struct fixture {
  char dir[128];
  char ca[192], cert[192], key[192], other_key[192], enc_key[192];
  struct event_base *base;
} fixture_t;

static int write_encrypted_key(const char *in, const char *out)
{
  FILE *f = fopen(in, "r");
  if (!f)
    return -1;
  EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  f = fopen(out, "w");
  int ok =
      pkey && f &&
      PEM_write_PKCS8PrivateKey(f, pkey, EVP_aes_128_cbc(), NULL, 0, NULL, (void *)"secret") == 1;
  if (f)
    fclose(f);
  EVP_PKEY_free(pkey);
  return ok ? 0 : -1;
}

static int setup(void **state)
{
  fixture_t *f = calloc(1, sizeof(*f));
  if (!f)
    return -1;
  kedge_log_init("test-sbi-client", KEDGE_LOG_ERROR, false);
  snprintf(f->dir, sizeof(f->dir), "/tmp/kedge-unit-sbi-client-XXXXXX");
  if (!mkdtemp(f->dir))
    return -1;
  char pki[160];
  snprintf(pki, sizeof(pki), "%s/pki", f->dir);
  if (kedge_pki_init(pki) != KEDGE_OK)
    return -1;
  snprintf(f->ca, sizeof(f->ca), "%s/ca.crt", pki);
  snprintf(f->cert, sizeof(f->cert), "%s/ausf.crt", pki);
  snprintf(f->key, sizeof(f->key), "%s/ausf.key", pki);
  snprintf(f->other_key, sizeof(f->other_key), "%s/udm.key", pki);
  snprintf(f->enc_key, sizeof(f->enc_key), "%s/enc.key", f->dir);
  if (write_encrypted_key(f->key, f->enc_key) != 0)
    return -1;
  f->base = event_base_new();
  *state = f;
  return f->base ? 0 : -1;
}

static int teardown(void **state)
{
  fixture_t *f = *state;
  if (!f)
    return 0;
  if (f->base)
    event_base_free(f->base);
  char cmd[200];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", f->dir);
  free(f);
  return 0;
}

static void valid_options(const fixture_t *f, kedge_sbi_client_options_t *o)
{
  kedge_sbi_client_options_init(o);
  o->ca_file = f->ca;
  o->cert_file = f->cert;
  o->key_file = f->key;
}

static kedge_err_t try_new(const fixture_t *f, const kedge_sbi_client_options_t *o)
{
  kedge_sbi_client_t *c = (kedge_sbi_client_t *)(uintptr_t)1;
  kedge_err_t err = kedge_sbi_client_new(f->base, o, &c);
  if (err == KEDGE_OK)
    kedge_sbi_client_free(c);
  else
    assert_null(c); /* never a half-made client */
  return err;
}

static void test_defaults(void **state)
{
  kedge_sbi_client_options_t o;
  memset(&o, 0xa5, sizeof(o));
  kedge_sbi_client_options_init(&o);
  assert_null(o.ca_file);
  assert_null(o.cert_file);
  assert_null(o.key_file);
  assert_int_equal(o.timeout_ms, 5000);
  assert_int_equal(o.max_response_size, 65536);
  assert_int_equal(o.max_connections, 4);
  assert_int_equal(o.max_retries, 2);
  assert_int_equal(o.retry_delay_ms, 100);
  assert_false(o.tls12_allowed);
}

static void test_valid_options(void **state)
{
  fixture_t *f = *state;
  kedge_sbi_client_options_t o;
  valid_options(f, &o);
  assert_int_equal(try_new(f, &o), KEDGE_OK);
  /* Server authentication only: no client certificate. */
  o.cert_file = o.key_file = NULL;
  assert_int_equal(try_new(f, &o), KEDGE_OK);
  /* Boundaries are accepted. */
  valid_options(f, &o);
  o.timeout_ms = KEDGE_SBI_CLIENT_TIMEOUT_MS_MAX;
  o.max_response_size = KEDGE_SBI_CLIENT_MAX_RESPONSE_SIZE_MAX;
  o.max_connections = KEDGE_SBI_CLIENT_MAX_CONNECTIONS_MAX;
  o.max_retries = KEDGE_SBI_CLIENT_MAX_RETRIES_MAX;
  o.tls12_allowed = true;
  assert_int_equal(try_new(f, &o), KEDGE_OK);
  o.timeout_ms = 1;
  o.retry_delay_ms = 1;
  o.max_response_size = 1;
  o.max_connections = 1;
  o.max_retries = 0;
  assert_int_equal(try_new(f, &o), KEDGE_OK);
}

static void test_null_arguments(void **state)
{
  fixture_t *f = *state;
  kedge_sbi_client_options_t o;
  valid_options(f, &o);
  kedge_sbi_client_t *c = NULL;
  assert_int_equal(kedge_sbi_client_new(NULL, &o, &c), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_sbi_client_new(f->base, NULL, &c), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_sbi_client_new(f->base, &o, NULL), KEDGE_ERR_INVALID_ARG);
  kedge_sbi_client_free(NULL);
  kedge_sbi_client_cancel(NULL);
  kedge_sbi_client_options_init(NULL);
  assert_int_equal(kedge_sbi_client_pending(NULL), 0);
}

static void test_files_rejected(void **state)
{
  fixture_t *f = *state;
  kedge_sbi_client_options_t o;

  valid_options(f, &o);
  o.ca_file = NULL; /* verification is always on: a CA is required */
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
  o.ca_file = "";
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
  o.ca_file = "/nonexistent/ca.crt";
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
  o.ca_file = f->dir; /* a directory */
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
  o.ca_file = f->key; /* PEM, but no certificate in it */
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);

  valid_options(f, &o);
  o.key_file = NULL; /* certificate without key */
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
  valid_options(f, &o);
  o.cert_file = NULL; /* key without certificate */
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
  valid_options(f, &o);
  o.cert_file = f->key; /* not a certificate */
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
  valid_options(f, &o);
  o.key_file = f->cert; /* not a key */
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
  valid_options(f, &o);
  o.key_file = f->other_key; /* the UDM's key with the AUSF's certificate */
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
  valid_options(f, &o);
  o.key_file = f->enc_key; /* encrypted: refused without prompting on a terminal */
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
  valid_options(f, &o);
  o.key_file = "/nonexistent/key";
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
}

static void test_limits_rejected(void **state)
{
  fixture_t *f = *state;
  kedge_sbi_client_options_t o;
  valid_options(f, &o);
  o.timeout_ms = 0;
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
  o.timeout_ms = KEDGE_SBI_CLIENT_TIMEOUT_MS_MAX + 1;
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
  valid_options(f, &o);
  o.max_response_size = 0;
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
  o.max_response_size = KEDGE_SBI_CLIENT_MAX_RESPONSE_SIZE_MAX + 1;
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
  valid_options(f, &o);
  o.max_connections = 0;
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
  o.max_connections = KEDGE_SBI_CLIENT_MAX_CONNECTIONS_MAX + 1;
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
  valid_options(f, &o);
  o.max_retries = KEDGE_SBI_CLIENT_MAX_RETRIES_MAX + 1;
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
  valid_options(f, &o);
  o.timeout_ms = 100;
  o.retry_delay_ms = 101;
  assert_int_equal(try_new(f, &o), KEDGE_ERR_CONFIG);
}

static int fired;

static void on_response(const kedge_sbi_client_response_t *r, void *arg)
{
  fired++;
}

static void test_request_arguments(void **state)
{
  fixture_t *f = *state;
  kedge_sbi_client_options_t o;
  valid_options(f, &o);
  kedge_sbi_client_t *c = NULL;
  assert_int_equal(kedge_sbi_client_new(f->base, &o, &c), KEDGE_OK);
  const char *good = "https://127.0.0.1:1/nausf-auth/v1/ue-authentications";
  json_t *obj = json_pack("{s:i}", "a", 1), *str = json_string("not an object");
  static const char *const crlf[] = {"X-A: 1\r\nX-Injected: 2", NULL};
  static const char *const no_colon[] = {"X-A 1", NULL};
  static const char *const empty[] = {"", NULL};
  const struct {
    kedge_sbi_client_request_t req;
    bool with_cb;
  } bad[] = {
      {{.method = NULL, .url = good}, true},
      {{.method = "GET", .url = NULL}, true},
      {{.method = "GET", .url = good}, false},
      {{.method = "TRACE", .url = good}, true},
      {{.method = "get", .url = good}, true},
      {{.method = "GET", .url = "http://127.0.0.1:1/x"}, true}, /* never cleartext */
      {{.method = "GET", .url = "ftp://127.0.0.1/x"}, true},
      {{.method = "GET", .url = "https://"}, true},
      {{.method = "GET", .url = "https://127.0.0.1:1/a b"}, true},
      {{.method = "GET", .url = "https://127.0.0.1:1/a\r\nX: y"}, true},
      {{.method = "POST", .url = good, .body = str}, true},
      {{.method = "POST", .url = good, .body = obj, .content_type = "a/b\r\nX: y"}, true},
      {{.method = "POST", .url = good, .body = obj, .content_type = ""}, true},
      {{.method = "GET", .url = good, .headers = crlf}, true},
      {{.method = "GET", .url = good, .headers = no_colon}, true},
      {{.method = "GET", .url = good, .headers = empty}, true},
      {{.method = "GET", .url = good, .timeout_ms = KEDGE_SBI_CLIENT_TIMEOUT_MS_MAX + 1}, true},
  };
  fired = 0;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    kedge_sbi_client_call_t *call = (kedge_sbi_client_call_t *)(uintptr_t)1;
    kedge_err_t err =
        kedge_sbi_client_send(c, &bad[i].req, bad[i].with_cb ? on_response : NULL, NULL, &call);
    if (err != KEDGE_ERR_INVALID_ARG)
      fail_msg("case %zu: %d", i, err);
    assert_null(call);
  }
  assert_int_equal(kedge_sbi_client_send(NULL, &bad[0].req, on_response, NULL, NULL),
                   KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_sbi_client_send(c, NULL, on_response, NULL, NULL), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_sbi_client_pending(c), 0);

  /* A good request, cancelled before the loop runs: counted, then gone, never called back. */
  kedge_sbi_client_request_t req = {.method = "POST", .url = good, .body = obj};
  kedge_sbi_client_call_t *call = NULL;
  assert_int_equal(kedge_sbi_client_send(c, &req, on_response, NULL, &call), KEDGE_OK);
  assert_non_null(call);
  assert_int_equal(kedge_sbi_client_pending(c), 1);
  kedge_sbi_client_cancel(call);
  assert_int_equal(kedge_sbi_client_pending(c), 0);
  struct timeval tv = {0, 50000};
  event_base_loopexit(f->base, &tv);
  event_base_dispatch(f->base);
  assert_int_equal(fired, 0);
  kedge_sbi_client_free(c);
  json_decref(obj);
  json_decref(str);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),        cmocka_unit_test(test_valid_options),
      cmocka_unit_test(test_null_arguments),  cmocka_unit_test(test_files_rejected),
      cmocka_unit_test(test_limits_rejected), cmocka_unit_test(test_request_arguments),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
