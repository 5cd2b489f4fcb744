/* The two ClientHello extensions the ECS reads itself before the TLS handshake goes on:
 * pre_shared_key (RFC 8446 4.2.11, type 41), for the PSK identity = Kedge ID (SPEC.md 4), and
 * psk_key_exchange_modes (RFC 8446 4.2.9, type 45). Both are peer input: the parsers check
 * every length against the octets actually there and never read past `len`. */
#ifndef KEDGE_ECS_PSK_IDENTITY_H
#define KEDGE_ECS_PSK_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kedge/error.h"

#define ECS_TLSEXT_PRE_SHARED_KEY     41
#define ECS_TLSEXT_PSK_KEX_MODES      45
#define ECS_TLSEXT_SUPPORTED_VERSIONS 43

/* Identities kept from one ClientHello; more are counted but not kept. A client offers one
 * external PSK (tickets are off at the ECS), so a few is plenty. */
#define ECS_PSK_IDENTITIES_MAX 8

typedef struct ecs_psk_identity {
  const uint8_t *data; /* points into the extension */
  size_t len;          /* 1..65535 (RFC 8446 4.2.11: identity<1..2^16-1>) */
} ecs_psk_identity_t;

typedef struct ecs_psk_offer {
  ecs_psk_identity_t identities[ECS_PSK_IDENTITIES_MAX];
  size_t n_kept;  /* identities[0..n_kept-1] */
  size_t n_total; /* identities in the extension (binders: as many) */
} ecs_psk_offer_t;

/* OfferedPsks of a ClientHello's pre_shared_key extension (the extension_data, without type
 * and length): identities<7..2^16-1> of {identity<1..2^16-1>, uint32 obfuscated_ticket_age},
 * then binders<33..2^16-1> of PskBinderEntry<32..255>, one binder per identity, nothing after.
 * KEDGE_ERR_BAD_LENGTH for anything else (*offer then holds nothing usable). */
kedge_err_t ecs_psk_offer_parse(const uint8_t *ext, size_t len, ecs_psk_offer_t *offer);

/* The identity the ECS looks up: the first that passes the strict Kedge ID parser (SPEC.md 2),
 * else the first one (which then gets the dummy key). Returns its index; offer->n_kept >= 1. */
size_t ecs_psk_offer_choose(const ecs_psk_offer_t *offer);

/* psk_key_exchange_modes: ke_modes<1..255>; *modes gets ECS_PSK_KE and/or ECS_PSK_DHE_KE
 * for the known values (others are ignored, RFC 8446 4.2.9). KEDGE_ERR_BAD_LENGTH when the
 * vector is malformed. */
#define ECS_PSK_KE     1u /* psk_ke (0): PSK only, no (EC)DHE, no forward secrecy */
#define ECS_PSK_DHE_KE 2u /* psk_dhe_ke (1) */
kedge_err_t ecs_psk_kex_modes_parse(const uint8_t *ext, size_t len, unsigned *modes);

/* Issue 12: a ClientHello that can never complete costs no key fetch. True when the
 * supported_versions extension (RFC 8446 4.2.1, client form: versions<2..254>) lists TLS 1.3
 * (0x0304); false when it does not, is malformed, or is absent (ext NULL: a TLS 1.2 client). */
bool ecs_hello_offers_tls13(const uint8_t *ext, size_t len);
/* True when cipher_suites (the vector's contents, 2 octets each, RFC 8446 4.1.2) holds a TLS 1.3
 * suite the ECS serves: TLS_AES_128_GCM_SHA256 or TLS_CHACHA20_POLY1305_SHA256 (SPEC.md 4:
 * the PSK's hash is SHA-256). */
bool ecs_hello_offers_sha256_suite(const uint8_t *suites, size_t len);

#endif
