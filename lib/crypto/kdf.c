/* TS 33.220 B.2.0 KDF on OpenSSL 3 EVP_MAC (HMAC-SHA-256). */
#include "kedge/kdf.h"

#include "crypto_int.h"

#include <pthread.h>
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

struct kedge_kdf_key {
  EVP_MAC_CTX *hmac; /* keyed once; re-initialised without a key per derivation */
};

/* Fetching an algorithm is costly in OpenSSL 3 (a lookup under a lock); do it once. So is
 * naming the digest: EVP_MAC_init with "digest" fetches SHA-256 by name each time (about 9,000
 * of the 10,600 instructions of a key's set-up, callgrind: docs/performance-latency.md, fourth
 * round). A template context gets the digest once (keyed with zeros, no secret); each key is a
 * copy of it keyed without parameters. The template is only read after it is made. */
static EVP_MAC *hmac_alg;
static EVP_MAC_CTX *hmac_template;
static EVP_MD *sha256_md; /* kedge_sha256: EVP_sha256() would make EVP_Digest fetch it per call */
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static const OSSL_PARAM *sha256_param(OSSL_PARAM params[2])
{
  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
  params[1] = OSSL_PARAM_construct_end();
  return params;
}

static void fetch_hmac(void)
{
  hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
  static const uint8_t zeros[32];
  OSSL_PARAM params[2];
  EVP_MAC_CTX *t = hmac_alg ? EVP_MAC_CTX_new(hmac_alg) : NULL;
  if (t && EVP_MAC_init(t, zeros, sizeof(zeros), sha256_param(params)))
    hmac_template = t;
  else
    EVP_MAC_CTX_free(t); /* each key names the digest itself */
  sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

kedge_err_t kedge_sha256(const void *in, size_t len, uint8_t out[32])
{
  pthread_once(&hmac_once, fetch_hmac);
  unsigned int md_len = 0;
  if (!sha256_md || !EVP_Digest(in, len, out, &md_len, sha256_md, NULL) || md_len != 32)
    return KEDGE_ERR_CRYPTO;
  return KEDGE_OK;
}

kedge_err_t kedge_kdf_key_new(const uint8_t *key, size_t key_len, kedge_kdf_key_t **out)
{
  if (!key || !out)
    return KEDGE_ERR_INVALID_ARG;
  *out = NULL;
  pthread_once(&hmac_once, fetch_hmac);
  if (!hmac_alg)
    return KEDGE_ERR_CRYPTO;

  kedge_kdf_key_t *k = calloc(1, sizeof(*k));
  if (!k)
    return KEDGE_ERR_NOMEM;
  OSSL_PARAM params[2];
  k->hmac = hmac_template ? EVP_MAC_CTX_dup(hmac_template) : EVP_MAC_CTX_new(hmac_alg);
  if (!k->hmac ||
      !EVP_MAC_init(k->hmac, key, key_len, hmac_template ? NULL : sha256_param(params))) {
    kedge_kdf_key_free(k);
    return KEDGE_ERR_CRYPTO;
  }
  *out = k;
  return KEDGE_OK;
}

kedge_err_t kedge_kdf_derive(kedge_kdf_key_t *key, uint8_t fc, const kedge_kdf_param_t *params,
                             size_t n_params, uint8_t out[KEDGE_KDF_OUT_LEN])
{
  if (!key || !out || (n_params && !params) || n_params > KEDGE_KDF_MAX_PARAMS)
    return KEDGE_ERR_INVALID_ARG;
  for (size_t i = 0; i < n_params; i++)
    if (params[i].len > 0xffff || (params[i].len && !params[i].data))
      return KEDGE_ERR_INVALID_ARG;

  /* A NULL key re-initialises HMAC with the key already set: no new ipad/opad set-up. */
  if (!EVP_MAC_init(key->hmac, NULL, 0, NULL) || !EVP_MAC_update(key->hmac, &fc, 1))
    return KEDGE_ERR_CRYPTO;
  /* S = FC || P0 || L0 || ... || Pn || Ln, fed piecewise. */
  for (size_t i = 0; i < n_params; i++) {
    const uint8_t l[2] = {(uint8_t)(params[i].len >> 8), (uint8_t)params[i].len};
    if ((params[i].len && !EVP_MAC_update(key->hmac, params[i].data, params[i].len)) ||
        !EVP_MAC_update(key->hmac, l, sizeof(l)))
      return KEDGE_ERR_CRYPTO;
  }
  size_t got = 0;
  if (!EVP_MAC_final(key->hmac, out, &got, KEDGE_KDF_OUT_LEN) || got != KEDGE_KDF_OUT_LEN)
    return KEDGE_ERR_CRYPTO;
  return KEDGE_OK;
}

void kedge_kdf_key_free(kedge_kdf_key_t *key)
{
  if (!key)
    return;
  EVP_MAC_CTX_free(key->hmac); /* the HMAC provider cleanses its key state on free */
  free(key);
}

kedge_err_t kedge_kdf(const uint8_t *key, size_t key_len, uint8_t fc,
                      const kedge_kdf_param_t *params, size_t n_params,
                      uint8_t out[KEDGE_KDF_OUT_LEN])
{
  kedge_kdf_key_t *k;
  kedge_err_t err = kedge_kdf_key_new(key, key_len, &k);
  if (err)
    return err;
  err = kedge_kdf_derive(k, fc, params, n_params, out);
  kedge_kdf_key_free(k);
  return err;
}
