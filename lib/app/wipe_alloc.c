/* Wiping allocators for the libraries that let kedge supply one (kedge/app.h): every block
 * libcurl frees (and, for the NEF, every block OpenSSL frees) is overwritten with
 * OPENSSL_cleanse first, so libcurl's copy of the `Authorization: Bearer` header line, its
 * receive buffers and, in the NEF, the TLS plaintext records that held a Kedge or K_ECS do not
 * linger in freed heap (issue 7). jansson's is the library's (kedge_json_wipe_on_free, which
 * kedge_app_main also installs). What stays outside (nghttp2, libevent, the kernel) is listed
 * in docs/nef.md. */
#include "kedge/app.h"
#include "kedge/json_check.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

static void (*observer)(const void *block, size_t size);
static bool curl_installed;

/* glibc knows each block's usable size, so no header is needed to wipe all of it. */
static void wipe_free(void *p)
{
  if (p) {
    size_t n = malloc_usable_size(p);
    OPENSSL_cleanse(p, n);
    if (observer)
      observer(p, n);
    free(p);
  }
}

/* realloc() may move a block and free the old one unwiped: always move by hand instead. */
static void *wipe_realloc(void *p, size_t n)
{
  if (!p)
    return malloc(n);
  if (n == 0) {
    wipe_free(p);
    return NULL;
  }
  size_t old = malloc_usable_size(p);
  if (n <= old)
    return p; /* the block is already big enough */
  void *q = malloc(n);
  if (!q)
    return NULL;
  memcpy(q, p, old);
  wipe_free(p);
  return q;
}

static void *ossl_malloc(size_t n, const char *file, int line)
{
  return malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
  return wipe_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
  wipe_free(p);
}

static void *curl_wipe_calloc(size_t n, size_t size)
{
  return calloc(n, size);
}

static char *curl_wipe_strdup(const char *s)
{
  return strdup(s);
}

kedge_err_t kedge_app_wipe_curl(void)
{
  if (curl_installed)
    return KEDGE_OK;
  /* Holds libcurl's global reference for the whole process, so the later curl_global_init()
   * calls of the SBI client (lib/sbi/client.c) only count up and never reset the functions to
   * the defaults. */
  if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, wipe_free, wipe_realloc, curl_wipe_strdup,
                           curl_wipe_calloc) != CURLE_OK)
    return KEDGE_ERR_NOMEM;
  curl_installed = true;
  return KEDGE_OK;
}

kedge_err_t kedge_app_wipe_openssl(void)
{
  /* OpenSSL accepts new functions only before its first allocation: first thing in main. */
  return CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) == 1 ? KEDGE_OK
                                                                             : KEDGE_ERR_CRYPTO;
}

bool kedge_app_wipe_installed(bool openssl_too)
{
  json_malloc_t m = NULL;
  json_free_t f = NULL;
  json_get_alloc_funcs(&m, &f);
  CRYPTO_malloc_fn om = NULL;
  CRYPTO_realloc_fn orr = NULL;
  CRYPTO_free_fn of = NULL;
  CRYPTO_get_mem_functions(&om, &orr, &of);
  return curl_installed && f != NULL && f != free && (!openssl_too || of == ossl_free);
}

void kedge_app_wipe_release(void)
{
  if (curl_installed)
    curl_global_cleanup();
  curl_installed = false;
}

void kedge_app_wipe_observe(void (*fn)(const void *block, size_t size))
{
  observer = fn;
}
