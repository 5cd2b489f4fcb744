/* SipHash through OpenSSL's EVP_MAC (no hand-written hash; see kedge/keyed_hash.h for why keyed).
 */
#include "kedge/keyed_hash.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

kedge_err_t kedge_keyed_hash_init(kedge_keyed_hash_t *h)
{
  memset(h, 0, sizeof(*h));
  h->mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
  h->ctx = h->mac ? EVP_MAC_CTX_new(h->mac) : NULL;
  if (!h->ctx || RAND_bytes(h->key, sizeof(h->key)) != 1) {
    ERR_clear_error();
    kedge_keyed_hash_free(h);
    return KEDGE_ERR_CRYPTO;
  }
  return KEDGE_OK;
}

uint64_t kedge_keyed_hash(kedge_keyed_hash_t *h, const void *data, size_t len)
{
  uint8_t out[16] = {0};
  size_t out_len = 0;
  /* The key is set on every call: it restarts the SipHash state. */
  if (EVP_MAC_init(h->ctx, h->key, sizeof(h->key), NULL) != 1 ||
      EVP_MAC_update(h->ctx, data, len) != 1 ||
      EVP_MAC_final(h->ctx, out, &out_len, sizeof(out)) != 1)
    ERR_clear_error(); /* cannot happen after a good init; all inputs then share a bucket */
  uint64_t v = 0;
  for (size_t i = 0; i < out_len; i++)
    v = (v << 8 | v >> 56) ^ out[i];
  return v;
}

void kedge_keyed_hash_free(kedge_keyed_hash_t *h)
{
  EVP_MAC_CTX_free(h->ctx);
  EVP_MAC_free(h->mac);
  OPENSSL_cleanse(h->key, sizeof(h->key));
  h->ctx = NULL;
  h->mac = NULL;
}
