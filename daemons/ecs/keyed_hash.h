/* A keyed hash (SipHash-2-4 from OpenSSL, with a random key per table) for the ECS's tables
 * indexed by peer-chosen data (Kedge IDs, source addresses): a client cannot pick inputs that
 * all land in one bucket without knowing the key. Not thread-safe: one per table, used under
 * the table's lock. */
#ifndef KEDGE_ECS_KEYED_HASH_H
#define KEDGE_ECS_KEYED_HASH_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "kedge/error.h"

typedef struct ecs_keyed_hash {
  EVP_MAC *mac;
  EVP_MAC_CTX *ctx;
  uint8_t key[16];
} ecs_keyed_hash_t;

kedge_err_t ecs_keyed_hash_init(ecs_keyed_hash_t *h);
uint64_t ecs_keyed_hash(ecs_keyed_hash_t *h, const void *data, size_t len);
void ecs_keyed_hash_free(ecs_keyed_hash_t *h);

#endif
