/* libFuzzer target: tampered sealed values (lib/crypto/seal.c) as the key store and the UDM's
 * subscriber database read them back from a file or from Redis: version || nonce ||
 * AES-256-GCM ciphertext || tag. The seed is a Kedge sealed under the master key and
 * additional data below, so mutations are tampered records.
 * Invariants: no crash, no read outside the input; a value opens only to what was sealed
 * (never to a forgery), and a failure leaves no plaintext behind. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kedge/seal.h"

#define FUZZ_AAD "kedge-fuzz@5gc.mnc001.mcc001.3gppnetwork.org"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  kedge_master_key_t mk;
  memset(mk.key, 0x11, sizeof(mk.key));
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy)
    return 0;
  memcpy(copy, data, size);
  uint8_t out[KEDGE_SEAL_MAX_PLAINTEXT], want[32];
  memset(want, 0x22, sizeof(want));
  memset(out, 0xa5, sizeof(out));
  size_t len = 0;
  kedge_err_t err = kedge_unseal(&mk, FUZZ_AAD, strlen(FUZZ_AAD), copy, size, out, &len);
  if (err == KEDGE_OK && (len != sizeof(want) || memcmp(out, want, len) != 0))
    abort(); /* a forgery opened */
  if (err == KEDGE_ERR_MAC_FAILURE)
    for (size_t i = 0; i + KEDGE_SEAL_OVERHEAD < size && i < sizeof(out); i++)
      if (out[i] != 0)
        abort(); /* plaintext of a value that did not verify left in the buffer */
  /* the same octets under other additional data (the UDM's "udm:k:" + SUPI) never open */
  static const char other[] = "udm:k:imsi-001010000000001";
  if (kedge_unseal(&mk, other, strlen(other), copy, size, out, &len) == KEDGE_OK)
    abort();
  free(copy);
  return 0;
}
