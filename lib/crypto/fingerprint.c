/* Key fingerprints for logs (kedge/fingerprint.h). */
#include "kedge/fingerprint.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto_int.h"
#include "kedge/hex.h"

kedge_err_t kedge_key_fingerprint(const uint8_t *key, size_t len,
                                  char out[KEDGE_FINGERPRINT_LEN + 1])
{
  if (out)
    out[0] = '\0';
  if (!key || !len || !out)
    return KEDGE_ERR_INVALID_ARG;
  uint8_t md[32];
  if (kedge_sha256(key, len, md))
    return KEDGE_ERR_CRYPTO;
  kedge_hex_encode(md, KEDGE_FINGERPRINT_LEN / 2, out);
  /* The digest is not secret, but it is a function of a key: leave nothing of it behind. */
  OPENSSL_cleanse(md, sizeof(md));
  return KEDGE_OK;
}
