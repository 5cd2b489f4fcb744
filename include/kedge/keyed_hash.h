/* A keyed hash (SipHash-2-4 from OpenSSL, with a random key per table) for tables indexed by
 * peer-chosen data (Kedge IDs, source addresses, consumer names): a client cannot pick inputs
 * that all land in one bucket without knowing the key. Not thread-safe: one per table, used
 * under the table's lock. */
#ifndef KEDGE_KEYED_HASH_H
#define KEDGE_KEYED_HASH_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kedge_keyed_hash {
  EVP_MAC *mac;
  EVP_MAC_CTX *ctx;
  uint8_t key[16];
} kedge_keyed_hash_t;

kedge_err_t kedge_keyed_hash_init(kedge_keyed_hash_t *h);
uint64_t kedge_keyed_hash(kedge_keyed_hash_t *h, const void *data, size_t len);
void kedge_keyed_hash_free(kedge_keyed_hash_t *h);

#ifdef __cplusplus
}
#endif
#endif
