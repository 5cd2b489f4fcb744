/* libFuzzer target: what a peer posing as Redis can send to the AUSF's key store
 * (lib/store/redis.c): the octets go through hiredis' reader (RESP2) exactly as on the wire,
 * every reply into ks_redis_reply() for each kind of call, and a get's record into the same
 * unseal as ks_deliver() (lib/store/keystore.c). The seeds hold a record sealed under the
 * master key below, so mutations are tampered sealed records.
 * Invariants: no crash, no leak, no undefined behaviour; a record that opens is the key that
 * was sealed (AES-256-GCM: a tampered record never opens to anything else). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "kedge/seal.h"
#include "store/store.h"

/* The record in fuzz/corpus/fuzz-store-redis-reply/get-record holds Kedge = 32 x 0x22 sealed
 * under master key 32 x 0x11 for this Kedge ID (docs/security.md: how the seeds were made). */
#define FUZZ_KEDGE_ID "kedge-fuzz@5gc.mnc001.mcc001.3gppnetwork.org"

static void check_get(const ks_row_t *row)
{
  kedge_master_key_t mk;
  memset(mk.key, 0x11, sizeof(mk.key));
  uint8_t plain[KEDGE_SEAL_MAX_PLAINTEXT], want[KEDGE_KEY_LEN];
  memset(want, 0x22, sizeof(want));
  size_t len = 0;
  if (row->sealed_len > sizeof(row->sealed))
    abort();
  if (kedge_unseal(&mk, row->kedge_id, strlen(row->kedge_id), row->sealed, row->sealed_len, plain,
                   &len) == KEDGE_OK &&
      (len != KEDGE_KEY_LEN || memcmp(plain, want, len) != 0))
    abort(); /* a forged record opened */
  if (strlen(row->supi) > KEDGE_SUPI_MAX)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  redisReader *reader = redisReaderCreate();
  if (!reader)
    return 0;
  if (redisReaderFeed(reader, (const char *)data, size) == REDIS_OK) {
    for (int n = 0; n < 64; n++) {
      void *reply = NULL;
      if (redisReaderGetReply(reader, &reply) != REDIS_OK || !reply)
        break;
      static const ks_kind_t kinds[] = {KS_GET, KS_PUT, KS_DELETE_SUPI, KS_PURGE};
      for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        ks_row_t row;
        memset(&row, 0, sizeof(row));
        strcpy(row.kedge_id, FUZZ_KEDGE_ID);
        if (ks_redis_reply(kinds[k], reply, &row) == KEDGE_OK && kinds[k] == KS_GET)
          check_get(&row);
      }
      freeReplyObject(reply);
    }
  }
  redisReaderFree(reader);
  return 0;
}
