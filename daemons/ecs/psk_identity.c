/* Bounded parsers for the ClientHello's pre_shared_key and psk_key_exchange_modes extensions
 * (RFC 8446 4.2.11, 4.2.9). OpenSSL parses them again for the handshake itself; the ECS needs
 * the identity earlier, in the ClientHello callback, to start the key fetch (SPEC.md 4). */
#include "psk_identity.h"

#include <string.h>

#include "kedge/edge.h"

static size_t u16(const uint8_t *p)
{
  return ((size_t)p[0] << 8) | p[1];
}

kedge_err_t ecs_psk_offer_parse(const uint8_t *ext, size_t len, ecs_psk_offer_t *offer)
{
  if (!offer || (!ext && len))
    return KEDGE_ERR_INVALID_ARG;
  memset(offer, 0, sizeof(*offer));
  if (len < 2)
    return KEDGE_ERR_BAD_LENGTH;
  size_t ids_len = u16(ext);
  /* identities<7..2^16-1>: at least one identity of one octet plus its 4-octet age */
  if (ids_len < 7 || ids_len > len - 2)
    return KEDGE_ERR_BAD_LENGTH;
  const uint8_t *p = ext + 2, *ids_end = p + ids_len;
  size_t n = 0;
  while (p < ids_end) {
    if ((size_t)(ids_end - p) < 2)
      goto bad;
    size_t id_len = u16(p);
    p += 2;
    if (id_len == 0 || (size_t)(ids_end - p) < id_len + 4)
      goto bad;
    if (n < ECS_PSK_IDENTITIES_MAX)
      offer->identities[n] = (ecs_psk_identity_t){p, id_len};
    n++;
    p += id_len + 4; /* identity, obfuscated_ticket_age */
  }

  /* binders<33..2^16-1>, one PskBinderEntry<32..255> per identity, filling the extension */
  const uint8_t *end = ext + len;
  if ((size_t)(end - p) < 2)
    goto bad;
  size_t binders_len = u16(p);
  p += 2;
  if (binders_len < 33 || binders_len != (size_t)(end - p))
    goto bad;
  size_t n_binders = 0;
  while (p < end) {
    size_t b_len = p[0];
    p++;
    if (b_len < 32 || (size_t)(end - p) < b_len)
      goto bad;
    p += b_len;
    n_binders++;
  }
  if (n_binders != n)
    goto bad;
  offer->n_total = n;
  offer->n_kept = n < ECS_PSK_IDENTITIES_MAX ? n : ECS_PSK_IDENTITIES_MAX;
  return KEDGE_OK;
bad:
  memset(offer, 0, sizeof(*offer));
  return KEDGE_ERR_BAD_LENGTH;
}

size_t ecs_psk_offer_choose(const ecs_psk_offer_t *offer)
{
  for (size_t i = 0; i < offer->n_kept; i++) {
    kedge_id_t id;
    if (kedge_id_parse((const char *)offer->identities[i].data, offer->identities[i].len, &id,
                       NULL) == KEDGE_OK)
      return i;
  }
  return 0;
}

kedge_err_t ecs_psk_kex_modes_parse(const uint8_t *ext, size_t len, unsigned *modes)
{
  if (!modes || (!ext && len))
    return KEDGE_ERR_INVALID_ARG;
  *modes = 0;
  if (len < 2 || ext[0] == 0 || (size_t)ext[0] != len - 1)
    return KEDGE_ERR_BAD_LENGTH;
  for (size_t i = 1; i < len; i++) {
    if (ext[i] == 0)
      *modes |= ECS_PSK_KE;
    else if (ext[i] == 1)
      *modes |= ECS_PSK_DHE_KE;
  }
  return KEDGE_OK;
}

bool ecs_hello_offers_tls13(const uint8_t *ext, size_t len)
{
  if (!ext || len < 3 || (size_t)ext[0] != len - 1 || ext[0] % 2)
    return false;
  for (size_t i = 1; i + 1 < len; i += 2)
    if (ext[i] == 0x03 && ext[i + 1] == 0x04)
      return true;
  return false;
}

bool ecs_hello_offers_sha256_suite(const uint8_t *suites, size_t len)
{
  if (!suites)
    return false;
  for (size_t i = 0; i + 1 < len; i += 2)
    if (suites[i] == 0x13 && (suites[i + 1] == 0x01 || suites[i + 1] == 0x03))
      return true;
  return false;
}
