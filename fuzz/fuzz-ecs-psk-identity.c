/* libFuzzer target: the ECS's parsers of peer-sent ClientHello extensions, pre_shared_key
 * (RFC 8446 4.2.11) and psk_key_exchange_modes (4.2.9), daemons/ecs/psk_identity.c.
 * Invariants: no crash, no read outside the input (ASan sees a copy of exactly `size`
 * octets), every identity kept lies inside the input, the choice is one of them.
 * The parser lives in the ECS's own module (ecs_core), which fuzz/CMakeLists.txt does not
 * link; its source is compiled in here. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "psk_identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy)
    return 0;
  memcpy(copy, data, size);
  ecs_psk_offer_t offer;
  if (ecs_psk_offer_parse(copy, size, &offer) == KEDGE_OK) {
    if (offer.n_kept == 0 || offer.n_kept > offer.n_total || offer.n_kept > ECS_PSK_IDENTITIES_MAX)
      abort();
    for (size_t i = 0; i < offer.n_kept; i++) {
      const ecs_psk_identity_t *id = &offer.identities[i];
      if (id->len == 0 || id->data < copy || id->data + id->len > copy + size)
        abort();
    }
    if (ecs_psk_offer_choose(&offer) >= offer.n_kept)
      abort();
  } else if (offer.n_kept != 0) {
    abort(); /* a refused extension leaves nothing usable behind */
  }
  unsigned modes = 0;
  if (ecs_psk_kex_modes_parse(copy, size, &modes) == KEDGE_OK &&
      (modes & ~(ECS_PSK_KE | ECS_PSK_DHE_KE)))
    abort();
  free(copy);
  return 0;
}
