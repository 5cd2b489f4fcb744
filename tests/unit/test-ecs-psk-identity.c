/* The ECS's parsers of the ClientHello's pre_shared_key and psk_key_exchange_modes extensions
 * (RFC 8446 4.2.11, 4.2.9): known answers, every truncation, malformed vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "psk_identity.h"

static const char kedge_id[] =
    "0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@5gc.mnc001.mcc001.3gppnetwork.org";

/* Builds OfferedPsks with the given identities and one 32-octet binder each. */
static size_t build(uint8_t *out, const char *const *ids, size_t n)
{
  size_t ids_len = 0;
  for (size_t i = 0; i < n; i++)
    ids_len += 2 + strlen(ids[i]) + 4;
  size_t p = 0;
  out[p++] = (uint8_t)(ids_len >> 8);
  out[p++] = (uint8_t)ids_len;
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(ids[i]);
    out[p++] = (uint8_t)(l >> 8);
    out[p++] = (uint8_t)l;
    memcpy(out + p, ids[i], l);
    p += l;
    memset(out + p, 0xa5, 4); /* obfuscated_ticket_age */
    p += 4;
  }
  size_t binders_len = n * 33;
  out[p++] = (uint8_t)(binders_len >> 8);
  out[p++] = (uint8_t)binders_len;
  for (size_t i = 0; i < n; i++) {
    out[p++] = 32;
    memset(out + p, (int)i, 32);
    p += 32;
  }
  return p;
}

static void one_identity(void **state)
{
  uint8_t ext[512];
  const char *ids[] = {kedge_id};
  size_t len = build(ext, ids, 1);
  ecs_psk_offer_t offer;
  assert_int_equal(ecs_psk_offer_parse(ext, len, &offer), KEDGE_OK);
  assert_int_equal(offer.n_total, 1);
  assert_int_equal(offer.n_kept, 1);
  assert_int_equal(offer.identities[0].len, strlen(kedge_id));
  assert_memory_equal(offer.identities[0].data, kedge_id, strlen(kedge_id));
  assert_ptr_equal(offer.identities[0].data, ext + 4); /* points into the extension */
  assert_int_equal(ecs_psk_offer_choose(&offer), 0);
}

static void chooses_first_kedge_id(void **state)
{
  uint8_t ext[1024];
  const char *ids[] = {"a-resumption-ticket", "0.bad@realm", kedge_id};
  size_t len = build(ext, ids, 3);
  ecs_psk_offer_t offer;
  assert_int_equal(ecs_psk_offer_parse(ext, len, &offer), KEDGE_OK);
  assert_int_equal(offer.n_total, 3);
  assert_int_equal(ecs_psk_offer_choose(&offer), 2);
  /* none valid: the first one (it gets the dummy key) */
  const char *bad[] = {"x", "y"};
  len = build(ext, bad, 2);
  assert_int_equal(ecs_psk_offer_parse(ext, len, &offer), KEDGE_OK);
  assert_int_equal(ecs_psk_offer_choose(&offer), 0);
  assert_int_equal(offer.identities[1].len, 1);
  assert_int_equal(offer.identities[1].data[0], 'y');
}

static void keeps_at_most_the_maximum(void **state)
{
  uint8_t ext[2048];
  const char *ids[ECS_PSK_IDENTITIES_MAX + 3];
  for (size_t i = 0; i < ECS_PSK_IDENTITIES_MAX + 3; i++)
    ids[i] = "id";
  size_t len = build(ext, ids, ECS_PSK_IDENTITIES_MAX + 3);
  ecs_psk_offer_t offer;
  assert_int_equal(ecs_psk_offer_parse(ext, len, &offer), KEDGE_OK);
  assert_int_equal(offer.n_total, ECS_PSK_IDENTITIES_MAX + 3);
  assert_int_equal(offer.n_kept, ECS_PSK_IDENTITIES_MAX);
}

static void every_truncation_fails(void **state)
{
  uint8_t ext[1024];
  const char *ids[] = {kedge_id, "second"};
  size_t len = build(ext, ids, 2);
  ecs_psk_offer_t offer;
  for (size_t cut = 0; cut < len; cut++) {
    /* a copy of exactly `cut` octets on the heap, so that ASan sees any read past it */
    uint8_t *copy = malloc(cut ? cut : 1);
    memcpy(copy, ext, cut);
    assert_int_equal(ecs_psk_offer_parse(copy, cut, &offer), KEDGE_ERR_BAD_LENGTH);
    assert_int_equal(offer.n_kept, 0);
    free(copy);
  }
  /* trailing octet after the binders */
  ext[len] = 0;
  assert_int_equal(ecs_psk_offer_parse(ext, len + 1, &offer), KEDGE_ERR_BAD_LENGTH);
}

static void malformed_vectors(void **state)
{
  uint8_t ext[512];
  const char *ids[] = {kedge_id};
  ecs_psk_offer_t offer;
  size_t len = build(ext, ids, 1);
  /* zero-length identity */
  uint8_t zero[] = {0, 7, 0, 0, 1, 2, 3, 4, 0xff, 0, 33, 32};
  assert_int_equal(ecs_psk_offer_parse(zero, sizeof(zero), &offer), KEDGE_ERR_BAD_LENGTH);
  /* a binder shorter than 32 octets */
  uint8_t *b = ext + 2 + 2 + strlen(kedge_id) + 4 + 2;
  b[0] = 31;
  assert_int_equal(ecs_psk_offer_parse(ext, len, &offer), KEDGE_ERR_BAD_LENGTH);
  /* two binders for one identity */
  uint8_t two[512];
  len = build(two, ids, 1);
  size_t binders_at = 2 + 2 + strlen(kedge_id) + 4;
  two[binders_at] = 0;
  two[binders_at + 1] = 66;
  two[len] = 32;
  memset(two + len + 1, 0, 32);
  assert_int_equal(ecs_psk_offer_parse(two, len + 33, &offer), KEDGE_ERR_BAD_LENGTH);
  /* identities vector longer than the extension */
  len = build(ext, ids, 1);
  ext[0] = 0xff;
  assert_int_equal(ecs_psk_offer_parse(ext, len, &offer), KEDGE_ERR_BAD_LENGTH);
  assert_int_equal(ecs_psk_offer_parse(NULL, 0, &offer), KEDGE_ERR_BAD_LENGTH);
}

static void kex_modes(void **state)
{
  unsigned modes;
  const uint8_t dhe[] = {1, 1}, both[] = {2, 0, 1}, ke[] = {1, 0}, unknown[] = {1, 7};
  assert_int_equal(ecs_psk_kex_modes_parse(dhe, sizeof(dhe), &modes), KEDGE_OK);
  assert_int_equal(modes, ECS_PSK_DHE_KE);
  assert_int_equal(ecs_psk_kex_modes_parse(both, sizeof(both), &modes), KEDGE_OK);
  assert_int_equal(modes, ECS_PSK_DHE_KE | ECS_PSK_KE);
  assert_int_equal(ecs_psk_kex_modes_parse(ke, sizeof(ke), &modes), KEDGE_OK);
  assert_int_equal(modes, ECS_PSK_KE);
  assert_int_equal(ecs_psk_kex_modes_parse(unknown, sizeof(unknown), &modes), KEDGE_OK);
  assert_int_equal(modes, 0);
  const uint8_t empty[] = {0}, long_len[] = {3, 1}, short_len[] = {1, 1, 0};
  assert_int_equal(ecs_psk_kex_modes_parse(empty, sizeof(empty), &modes), KEDGE_ERR_BAD_LENGTH);
  assert_int_equal(ecs_psk_kex_modes_parse(long_len, sizeof(long_len), &modes),
                   KEDGE_ERR_BAD_LENGTH);
  assert_int_equal(ecs_psk_kex_modes_parse(short_len, sizeof(short_len), &modes),
                   KEDGE_ERR_BAD_LENGTH);
  assert_int_equal(modes, 0);
}

/* Issue 12: hellos that can never complete are recognised before any key fetch. */
static void hello_prechecks(void **state)
{
  static const uint8_t v13[] = {4, 0x03, 0x04, 0x03, 0x03}, v12[] = {2, 0x03, 0x03},
                       odd[] = {3, 0x03, 0x04, 0x03}, lie[] = {6, 0x03, 0x04},
                       grease_then_13[] = {4, 0x7a, 0x7a, 0x03, 0x04};
  assert_true(ecs_hello_offers_tls13(v13, sizeof(v13)));
  assert_true(ecs_hello_offers_tls13(grease_then_13, sizeof(grease_then_13)));
  assert_false(ecs_hello_offers_tls13(v12, sizeof(v12)));
  assert_false(ecs_hello_offers_tls13(odd, sizeof(odd)));
  assert_false(ecs_hello_offers_tls13(lie, sizeof(lie))); /* length past the extension */
  assert_false(ecs_hello_offers_tls13(NULL, 0));          /* no extension: TLS 1.2 */
  assert_false(ecs_hello_offers_tls13(v13, 1));
  static const uint8_t aes128[] = {0xc0, 0x2f, 0x13, 0x01}, chacha[] = {0x13, 0x03},
                       sha384_only[] = {0x13, 0x02, 0xc0, 0x30}, misaligned[] = {0x00, 0x13, 0x01};
  assert_true(ecs_hello_offers_sha256_suite(aes128, sizeof(aes128)));
  assert_true(ecs_hello_offers_sha256_suite(chacha, sizeof(chacha)));
  assert_false(ecs_hello_offers_sha256_suite(sha384_only, sizeof(sha384_only)));
  assert_false(ecs_hello_offers_sha256_suite(misaligned, sizeof(misaligned)));
  assert_false(ecs_hello_offers_sha256_suite(NULL, 0));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(one_identity),
      cmocka_unit_test(chooses_first_kedge_id),
      cmocka_unit_test(keeps_at_most_the_maximum),
      cmocka_unit_test(every_truncation_fails),
      cmocka_unit_test(malformed_vectors),
      cmocka_unit_test(kex_modes),
      cmocka_unit_test(hello_prechecks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
