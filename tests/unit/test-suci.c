/* SUCI (kedge/suci.h, kedge/ecies.h): every block of tests/vectors/suci.txt (TS 33.501 C.4)
 * concealed with its ephemeral key and de-concealed to the SUPI; tampering, unknown and
 * mismatched key ids all fail alike; the strict string parser (SBI and NAI forms); sealed key
 * files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "kedge/ecies.h"
#include "kedge/hex.h"
#include "kedge/suci.h"
#include "testutil.h"

#define VECTOR_SUPI "imsi-274012001002086"

/* A compressed P-256 encoding whose x has no y on the curve (about half of all x). */
static void off_curve_point(uint8_t out[33])
{
  EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  EC_POINT *pt = EC_POINT_new(g);
  assert_non_null(pt);
  memset(out, 0, 33);
  out[0] = 0x02;
  for (out[32] = 1; EC_POINT_oct2point(g, pt, out, 33, NULL) == 1; out[32]++)
    ;
  EC_POINT_free(pt);
  EC_GROUP_free(g);
}

static void check_scheme_input(const char *v, const char *block)
{
  char msin[32];
  uint8_t want[16], got[KEDGE_ECIES_PLAINTEXT_MAX];
  size_t len = 0;
  vec_text(v, block, "MSIN", msin, sizeof(msin));
  vec_hex(v, block, "scheme_input", want, 5);
  assert_int_equal(kedge_suci_scheme_input(0, msin, got, &len), KEDGE_OK);
  assert_int_equal(len, 5);
  assert_memory_equal(got, want, 5);
}

static kedge_suci_t vector_suci(const char *v, const char *block)
{
  char mcc[8], mnc[8], supi_text[64], msin[32];
  vec_text(v, block, "MCC", mcc, sizeof(mcc));
  vec_text(v, block, "MNC", mnc, sizeof(mnc));
  vec_text(v, block, "MSIN", msin, sizeof(msin));
  snprintf(supi_text, sizeof(supi_text), "imsi-%s%s%s", mcc, mnc, msin);
  assert_string_equal(supi_text, VECTOR_SUPI);
  kedge_supi_t supi;
  assert_int_equal(kedge_supi_parse(supi_text, &supi), KEDGE_OK);

  uint8_t hn_pub[KEDGE_ECIES_PUBLIC_MAX], eph_priv[32];
  char scheme[8];
  vec_text(v, block, "scheme", scheme, sizeof(scheme));
  kedge_suci_params_t p = {.mcc = mcc, .mnc = mnc, .rid = "0", .scheme = (unsigned)atoi(scheme)};
  if (p.scheme != KEDGE_SUCI_NULL) {
    p.hn_pub_len = kedge_ecies_public_len((kedge_ecies_profile_t)p.scheme);
    vec_hex(v, block, "hn_public", hn_pub, p.hn_pub_len);
    vec_hex(v, block, "eph_private", eph_priv, 32);
    p.hn_pub = hn_pub;
    p.eph_priv = eph_priv;
    p.hn_key_id = 7;
  }
  kedge_suci_t suci;
  assert_int_equal(kedge_suci_conceal(&supi, &p, &suci), KEDGE_OK);
  return suci;
}

static void test_vector_null(void **state)
{
  char *v = vec_load("suci.txt");
  check_scheme_input(v, "[suci-null-imsi]");
  /* Null scheme: the NAS scheme output is the scheme input itself (TS 33.501 C.2). */
  uint8_t out[5], in[5];
  vec_hex(v, "[suci-null-imsi]", "scheme_output", out, 5);
  vec_hex(v, "[suci-null-imsi]", "scheme_input", in, 5);
  assert_memory_equal(out, in, 5);

  kedge_suci_t suci = vector_suci(v, "[suci-null-imsi]");
  char text[KEDGE_SUCI_MAX + 1];
  assert_int_equal(kedge_suci_format(&suci, text, sizeof(text)), KEDGE_OK);
  assert_string_equal(text, "suci-0-274-012-0-0-0-001002086");

  kedge_suci_keys_t *keys;
  kedge_supi_t supi;
  assert_int_equal(kedge_suci_keys_new(&keys), KEDGE_OK);
  assert_int_equal(kedge_suci_parse(text, &suci, NULL), KEDGE_OK);
  assert_int_equal(kedge_suci_deconceal(keys, &suci, &supi), KEDGE_OK);
  assert_string_equal(supi.value, VECTOR_SUPI);
  kedge_suci_keys_free(keys);
  free(v);
}

static void check_ecies_block(const char *block, kedge_ecies_profile_t profile)
{
  char *v = vec_load("suci.txt");
  size_t pub_len = kedge_ecies_public_len(profile), out_len = pub_len + 5 + 8;
  uint8_t hn_priv[32], hn_pub[33], eph_priv[32], eph_pub[33], want[KEDGE_SUCI_OUTPUT_MAX];
  uint8_t ct[5], tag[8], pub[33];
  size_t len = 0;
  check_scheme_input(v, block);
  vec_hex(v, block, "hn_private", hn_priv, 32);
  vec_hex(v, block, "hn_public", hn_pub, pub_len);
  vec_hex(v, block, "eph_private", eph_priv, 32);
  vec_hex(v, block, "eph_public", eph_pub, pub_len);
  vec_hex(v, block, "ciphertext", ct, 5);
  vec_hex(v, block, "mac_tag", tag, 8);
  vec_hex(v, block, "scheme_output", want, out_len);

  /* both public keys as C.4 writes them */
  assert_int_equal(kedge_ecies_public_key(profile, hn_priv, pub, &len), KEDGE_OK);
  assert_int_equal(len, pub_len);
  assert_memory_equal(pub, hn_pub, pub_len);
  assert_int_equal(kedge_ecies_public_key(profile, eph_priv, pub, &len), KEDGE_OK);
  assert_memory_equal(pub, eph_pub, pub_len);

  /* conceal with the given ephemeral key: key || ciphertext || tag, byte for byte */
  kedge_suci_t suci = vector_suci(v, block);
  assert_int_equal(suci.output_len, out_len);
  assert_memory_equal(suci.output, want, out_len);
  assert_memory_equal(suci.output + pub_len, ct, 5);
  assert_memory_equal(suci.output + pub_len + 5, tag, 8);

  /* the string form, parsed back, de-conceals to the SUPI with the key under its id */
  char text[KEDGE_SUCI_MAX + 1], hex[2 * KEDGE_SUCI_OUTPUT_MAX + 1], expect[KEDGE_SUCI_MAX + 1];
  kedge_hex_encode(want, out_len, hex);
  snprintf(expect, sizeof(expect), "suci-0-274-012-0-%u-7-%s", (unsigned)profile, hex);
  assert_int_equal(kedge_suci_format(&suci, text, sizeof(text)), KEDGE_OK);
  assert_string_equal(text, expect);
  kedge_suci_keys_t *keys;
  kedge_supi_t supi;
  assert_int_equal(kedge_suci_keys_new(&keys), KEDGE_OK);
  assert_int_equal(kedge_suci_keys_add(keys, 7, profile, hn_priv), KEDGE_OK);
  assert_int_equal(kedge_suci_keys_add(keys, 7, profile, hn_priv), KEDGE_ERR_EXISTS);
  kedge_suci_t parsed;
  assert_int_equal(kedge_suci_parse(text, &parsed, NULL), KEDGE_OK);
  assert_int_equal(kedge_suci_deconceal(keys, &parsed, &supi), KEDGE_OK);
  assert_string_equal(supi.value, VECTOR_SUPI);

  /* the ECIES primitive alone gives the scheme input back */
  kedge_ecies_key_t *key;
  uint8_t plain[KEDGE_ECIES_PLAINTEXT_MAX], in[5];
  vec_hex(v, block, "scheme_input", in, 5);
  assert_int_equal(kedge_ecies_key_new(profile, hn_priv, &key), KEDGE_OK);
  assert_int_equal(kedge_ecies_deconceal(key, want, out_len, plain, &len), KEDGE_OK);
  assert_int_equal(len, 5);
  assert_memory_equal(plain, in, 5);
  assert_int_equal(kedge_ecies_key_public(key, pub, &len), KEDGE_OK);
  assert_memory_equal(pub, hn_pub, pub_len);
  kedge_ecies_key_free(key);
  kedge_suci_keys_free(keys);
  free(v);
}

static void test_vector_profile_a(void **state)
{
  check_ecies_block("[suci-a-imsi]", KEDGE_ECIES_PROFILE_A);
}

static void test_vector_profile_b(void **state)
{
  check_ecies_block("[suci-b-imsi]", KEDGE_ECIES_PROFILE_B);
}

/* A key pair of each profile under ids 1 (A) and 2 (B), and the SUCI of `supi_text`. */
typedef struct fixture {
  kedge_suci_keys_t *keys;
  uint8_t pub[3][KEDGE_ECIES_PUBLIC_MAX];
  size_t pub_len[3];
} fixture_t;

static fixture_t *fixture_new(void)
{
  fixture_t *f = calloc(1, sizeof(*f));
  assert_int_equal(kedge_suci_keys_new(&f->keys), KEDGE_OK);
  for (int p = 1; p <= 2; p++) {
    uint8_t priv[32];
    assert_int_equal(kedge_ecies_keygen((kedge_ecies_profile_t)p, priv, f->pub[p], &f->pub_len[p]),
                     KEDGE_OK);
    assert_int_equal(f->pub_len[p], p == 1 ? 32 : 33);
    assert_int_equal(kedge_suci_keys_add(f->keys, (unsigned)p, (kedge_ecies_profile_t)p, priv),
                     KEDGE_OK);
  }
  return f;
}

static void fixture_free(fixture_t *f)
{
  kedge_suci_keys_free(f->keys);
  free(f);
}

static kedge_suci_t conceal(const fixture_t *f, const char *supi_text, unsigned scheme, unsigned id)
{
  kedge_supi_t supi;
  kedge_suci_t suci;
  assert_int_equal(kedge_supi_parse(supi_text, &supi), KEDGE_OK);
  kedge_suci_params_t p = {.mcc = "001",
                           .mnc = "01",
                           .rid = "12",
                           .scheme = scheme,
                           .hn_key_id = id,
                           .hn_pub = f->pub[scheme],
                           .hn_pub_len = f->pub_len[scheme]};
  assert_int_equal(kedge_suci_conceal(&supi, &p, &suci), KEDGE_OK);
  return suci;
}

static void test_fresh_ephemeral_and_nai(void **state)
{
  fixture_t *f = fixture_new();
  static const char *const supis[] = {"imsi-001010000000001", "imsi-00101123456789",
                                      "nai-alice.smith@operator-one.example.org"};
  for (unsigned scheme = 1; scheme <= 2; scheme++)
    for (size_t i = 0; i < 3; i++) {
      kedge_suci_t a = conceal(f, supis[i], scheme, scheme),
                   b = conceal(f, supis[i], scheme, scheme);
      size_t key = scheme == 1 ? 32 : 33;
      /* TS 33.501 6.12.2: a fresh ephemeral key each time, so two SUCIs never match */
      assert_memory_not_equal(a.output, b.output, key);
      char text[KEDGE_SUCI_MAX + 1];
      kedge_suci_t parsed;
      kedge_supi_t supi;
      assert_int_equal(kedge_suci_format(&a, text, sizeof(text)), KEDGE_OK);
      assert_int_equal(kedge_suci_parse(text, &parsed, NULL), KEDGE_OK);
      assert_string_equal(parsed.rid, "12");
      assert_int_equal(kedge_suci_deconceal(f->keys, &parsed, &supi), KEDGE_OK);
      assert_string_equal(supi.value, supis[i]);
      if (a.supi_type == 1) {
        assert_string_equal(parsed.realm, "operator-one.example.org");
        /* the TS 23.003 NAI form carries the same SUCI */
        assert_int_equal(kedge_suci_format_nai(&a, text, sizeof(text)), KEDGE_OK);
        assert_int_equal(strncmp(text,
                                 scheme == 1 ? "type1.rid12.schid1.hnkey1.ecckey"
                                             : "type1.rid12.schid2.hnkey2.ecckey",
                                 32),
                         0);
        assert_int_equal(kedge_suci_parse(text, &parsed, NULL), KEDGE_OK);
        assert_int_equal(kedge_suci_deconceal(f->keys, &parsed, &supi), KEDGE_OK);
        assert_string_equal(supi.value, supis[i]);
      }
    }
  fixture_free(f);
}

/* Every way a protected SUCI can fail gives the one answer. */
static void test_failures_alike(void **state)
{
  fixture_t *f = fixture_new();
  kedge_supi_t supi;
  for (unsigned scheme = 1; scheme <= 2; scheme++) {
    kedge_suci_t good = conceal(f, "imsi-001010000000001", scheme, scheme), s;
    size_t key = scheme == 1 ? 32 : 33;
    /* tag, ciphertext, ephemeral key altered */
    size_t at[] = {good.output_len - 1, key, 5};
    for (size_t i = 0; i < 3; i++) {
      s = good;
      s.output[at[i]] ^= 0x01;
      assert_int_equal(kedge_suci_deconceal(f->keys, &s, &supi), KEDGE_ERR_MAC_FAILURE);
    }
    /* unknown id; the other profile's id */
    s = good;
    s.hn_key_id = 9;
    assert_int_equal(kedge_suci_deconceal(f->keys, &s, &supi), KEDGE_ERR_MAC_FAILURE);
    s.hn_key_id = 3 - scheme;
    assert_int_equal(kedge_suci_deconceal(f->keys, &s, &supi), KEDGE_ERR_MAC_FAILURE);
    /* too short, and truncated by one */
    s = good;
    s.output_len = key + 7;
    assert_int_equal(kedge_suci_deconceal(f->keys, &s, &supi), KEDGE_ERR_MAC_FAILURE);
    s.output_len = good.output_len - 1;
    assert_int_equal(kedge_suci_deconceal(f->keys, &s, &supi), KEDGE_ERR_MAC_FAILURE);
    /* an ephemeral key that is no point (B) or of small order (A: all zero) */
    s = good;
    memset(s.output, 0, key);
    if (scheme == 2)
      off_curve_point(s.output);
    assert_int_equal(kedge_suci_deconceal(f->keys, &s, &supi), KEDGE_ERR_MAC_FAILURE);
    if (scheme == 2) {
      s.output[0] = 0x04; /* not a compressed-point prefix */
      assert_int_equal(kedge_suci_deconceal(f->keys, &s, &supi), KEDGE_ERR_MAC_FAILURE);
    }
  }
  /* an unsupported scheme is told as such */
  kedge_suci_t s;
  assert_int_equal(kedge_suci_parse("suci-0-001-01-0-3-1-0011223344", &s, NULL), KEDGE_OK);
  assert_int_equal(kedge_suci_deconceal(f->keys, &s, &supi), KEDGE_ERR_UNSUPPORTED);
  assert_int_equal(kedge_suci_parse("suci-0-001-01-0-f-1-0011223344", &s, NULL), KEDGE_OK);
  assert_int_equal(s.scheme, 15);
  assert_int_equal(kedge_suci_deconceal(f->keys, &s, &supi), KEDGE_ERR_UNSUPPORTED);
  fixture_free(f);
}

static void test_parse_accepts(void **state)
{
  kedge_suci_t s;
  const char *why = "unset";
  assert_int_equal(kedge_suci_parse("suci-0-001-01-1234-0-0-0000000001", &s, &why), KEDGE_OK);
  assert_null(why);
  assert_int_equal(s.supi_type, 0);
  assert_string_equal(s.mcc, "001");
  assert_string_equal(s.mnc, "01");
  assert_string_equal(s.rid, "1234");
  assert_int_equal(s.scheme, 0);
  assert_int_equal(s.hn_key_id, 0);
  assert_int_equal(s.output_len, 10);
  assert_memory_equal(s.output, "0000000001", 10);

  assert_int_equal(kedge_suci_parse("suci-0-310-410-0-1-255-ABCDEF0123", &s, NULL), KEDGE_OK);
  assert_string_equal(s.mnc, "410");
  assert_int_equal(s.hn_key_id, 255);
  assert_int_equal(s.output_len, 5);
  assert_int_equal(s.output[0], 0xab);

  /* type 1: a realm with '-' ends before "-<RID>-<scheme>-<id>-" */
  assert_int_equal(kedge_suci_parse("suci-1-my-op.example.org-7-0-0-bob-x", &s, NULL), KEDGE_OK);
  assert_string_equal(s.realm, "my-op.example.org");
  assert_string_equal(s.rid, "7");
  assert_int_equal(s.output_len, 5);
  assert_memory_equal(s.output, "bob-x", 5);
  assert_int_equal(kedge_suci_parse("type1.rid678.schid0.useriduser17@example.com", &s, NULL),
                   KEDGE_OK);
  assert_string_equal(s.rid, "678");
  assert_string_equal(s.realm, "example.com");
  assert_memory_equal(s.output, "user17", 6);
  char text[KEDGE_SUCI_MAX + 1];
  assert_int_equal(kedge_suci_format_nai(&s, text, sizeof(text)), KEDGE_OK);
  assert_string_equal(text, "type1.rid678.schid0.useriduser17@example.com");
  assert_int_equal(kedge_suci_format(&s, text, sizeof(text)), KEDGE_OK);
  assert_string_equal(text, "suci-1-example.com-678-0-0-user17");
  assert_int_equal(kedge_suci_format(&s, text, 10), KEDGE_ERR_TOO_BIG);
  /* a realm that would be split elsewhere in the SBI form: NAI form only */
  assert_int_equal(kedge_suci_parse("type1.rid1.schid0.useridbob@a-12-3-4-b.example", &s, NULL),
                   KEDGE_OK);
  assert_int_equal(kedge_suci_format(&s, text, sizeof(text)), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_suci_parse("type1.rid1.schid0.useridbob@x-12", &s, NULL), KEDGE_OK);
  assert_int_equal(kedge_suci_format(&s, text, sizeof(text)), KEDGE_ERR_INVALID_ARG);

  /* type 1, profile A, a ciphertext longer than any NAI username (the parser takes it, up to
   * the output's size): the NAI form writes it back whole (fuzz-suci found the hex of it
   * written past a buffer sized for a username) */
  char sbi[KEDGE_SUCI_MAX + 1];
  size_t cip = KEDGE_SUCI_OUTPUT_MAX - 32 - KEDGE_ECIES_MAC_LEN;
  assert_true(cip > KEDGE_ECIES_PLAINTEXT_MAX);
  int n = snprintf(sbi, sizeof(sbi), "suci-1-op.example-1-1-1-");
  memset(sbi + n, 'b', 2 * (32 + cip + KEDGE_ECIES_MAC_LEN));
  sbi[n + 2 * (32 + cip + KEDGE_ECIES_MAC_LEN)] = '\0';
  assert_int_equal(kedge_suci_parse(sbi, &s, NULL), KEDGE_OK);
  assert_int_equal(s.output_len, KEDGE_SUCI_OUTPUT_MAX);
  assert_int_equal(kedge_suci_format_nai(&s, text, sizeof(text)), KEDGE_OK);
  kedge_suci_t again;
  assert_int_equal(kedge_suci_parse(text, &again, NULL), KEDGE_OK);
  assert_int_equal(again.output_len, s.output_len);
  assert_memory_equal(again.output, s.output, s.output_len);
}

static void test_parse_rejects(void **state)
{
  static const char *const bad[] = {
      "",
      "suci",
      "suci-",
      "imsi-001010000000001",
      "suci-0-001-01-0-0-0-",               /* empty MSIN */
      "suci-0-01-01-0-0-0-0000000001",      /* MCC of 2 digits */
      "suci-0-001-1-0-0-0-0000000001",      /* MNC of 1 digit */
      "suci-0-001-0001-0-0-0-0000000001",   /* MNC of 4 digits */
      "suci-0-001-01--0-0-0000000001",      /* empty RID */
      "suci-0-001-01-12345-0-0-0000000001", /* RID of 5 digits */
      "suci-0-001-01-0-0-1-0000000001",     /* null scheme with key id 1 */
      "suci-0-001-01-0-1-0-00112233",       /* ECIES scheme with key id 0 */
      "suci-0-001-01-0-1-256-00112233",     /* key id above 255 */
      "suci-0-001-01-0-1-01-00112233",      /* leading zero */
      "suci-0-001-01-0-0-0-00000a0001",     /* null-scheme MSIN not digits */
      "suci-0-001-01-0-10-1-00112233",      /* scheme of two characters */
      "suci-2-001-01-0-0-0-0000000001",     /* GLI: not supported */
      "suci-8-x-0-0-0-y",
      "suci-1-example.org-0-0-0-a@b",  /* '@' in the username */
      "suci-1-exa%mple.org-0-0-0-bob", /* realm not a DNS name */
      "type1.rid0.schid0.useridbob@exa_mple.org",
      "suci-1--0-0-0-bob", /* empty realm */
      "suci-1-example.org",
      "type1.rid0.schid0.userid@example.com", /* empty username */
      "type1.rid0.schid0.useridbob@",         /* empty realm */
      "type1.rid0.schid0.useridbob@ex@ample.com",
      "type0.rid0.schid0.userid0000000001@nai.5gc.mnc001.mcc001.3gppnetwork.org",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    kedge_suci_t s;
    const char *why = NULL;
    if (kedge_suci_parse(bad[i], &s, &why) != KEDGE_ERR_BAD_SUPI)
      fail_msg("accepted: %s", bad[i]);
    assert_non_null(why);
  }
  /* only the scheme output at fault: KEDGE_ERR_BAD_HEX */
  static const char *const bad_output[] = {
      "suci-0-001-01-0-1-1-0011223",                                             /* odd hex */
      "suci-0-001-01-0-1-1-00112g",                                              /* not hex */
      "suci-0-001-01-0-1-1-",                                                    /* empty output */
      "suci-0-001-01-0-1-1-0011-2233",                                           /* a dash in it */
      "type1.rid0.schid1.hnkey1.ecckey00.cip00.mac0011223344556677@example.com", /* short key */
      "type1.rid0.schid2.hnkey1.ecckey"
      "02"
      "00000000000000000000000000000000"
      "00000000000000000000000000000000"
      ".cip00.mac00@example.com", /* short tag */
  };
  for (size_t i = 0; i < sizeof(bad_output) / sizeof(bad_output[0]); i++) {
    kedge_suci_t s;
    const char *why = NULL;
    if (kedge_suci_parse(bad_output[i], &s, &why) != KEDGE_ERR_BAD_HEX)
      fail_msg("not BAD_HEX: %s", bad_output[i]);
    assert_non_null(why);
  }
  char huge[KEDGE_SUCI_MAX + 64];
  memset(huge, 'a', sizeof(huge) - 1);
  huge[sizeof(huge) - 1] = '\0';
  memcpy(huge, "suci-0-001-01-0-1-1-", 20);
  kedge_suci_t s;
  assert_int_equal(kedge_suci_parse(huge, &s, NULL), KEDGE_ERR_BAD_SUPI); /* over KEDGE_SUCI_MAX */
  memset(huge, 'a', sizeof(huge) - 1);
  memcpy(huge, "suci-1-example.org-0-0-0-", 25); /* a null-scheme username over the output size */
  huge[25 + KEDGE_SUCI_OUTPUT_MAX + 1] = '\0';
  assert_int_equal(kedge_suci_parse(huge, &s, NULL), KEDGE_ERR_BAD_SUPI);
  memset(huge, 'a', 2 * KEDGE_SUCI_OUTPUT_MAX + 40);
  memcpy(huge, "suci-0-001-01-0-1-1-", 20);
  huge[2 * KEDGE_SUCI_OUTPUT_MAX + 40] = '\0';
  assert_int_equal(kedge_suci_parse(huge, &s, NULL), KEDGE_ERR_BAD_HEX); /* output too long */
}

static void test_conceal_rejects(void **state)
{
  fixture_t *f = fixture_new();
  kedge_supi_t supi;
  kedge_suci_t s;
  assert_int_equal(kedge_supi_parse("imsi-001010000000001", &supi), KEDGE_OK);
  kedge_suci_params_t p = {.mcc = "002",
                           .mnc = "01",
                           .scheme = 1,
                           .hn_key_id = 1,
                           .hn_pub = f->pub[1],
                           .hn_pub_len = 32};
  assert_int_equal(kedge_suci_conceal(&supi, &p, &s), KEDGE_ERR_BAD_PLMN); /* other MCC */
  p.mcc = "001";
  p.rid = "12345";
  assert_int_equal(kedge_suci_conceal(&supi, &p, &s), KEDGE_ERR_BAD_RID);
  p.rid = NULL;
  p.hn_pub_len = 33;
  assert_int_equal(kedge_suci_conceal(&supi, &p, &s), KEDGE_ERR_BAD_LENGTH);
  p.scheme = 3;
  assert_int_equal(kedge_suci_conceal(&supi, &p, &s), KEDGE_ERR_UNSUPPORTED);
  /* a B key that is not on the curve */
  uint8_t off_curve[33];
  off_curve_point(off_curve);
  p.scheme = 2;
  p.hn_pub = off_curve;
  assert_int_equal(kedge_suci_conceal(&supi, &p, &s), KEDGE_ERR_BAD_LENGTH);
  /* a P-256 private key of 0 or >= n */
  uint8_t zero[32] = {0}, big[32], pub[33];
  size_t len;
  memset(big, 0xff, sizeof(big));
  assert_int_equal(kedge_ecies_public_key(KEDGE_ECIES_PROFILE_B, zero, pub, &len),
                   KEDGE_ERR_BAD_LENGTH);
  assert_int_equal(kedge_ecies_public_key(KEDGE_ECIES_PROFILE_B, big, pub, &len),
                   KEDGE_ERR_BAD_LENGTH);
  fixture_free(f);
}

static void test_key_files(void **state)
{
  char dir[] = "/tmp/kedge-test-suci-XXXXXX", path[128], cmd[160];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof(path), "%s/hn-b.key", dir);
  kedge_master_key_t mk, other;
  memset(mk.key, 0x11, sizeof(mk.key));
  memset(other.key, 0x22, sizeof(other.key));
  uint8_t priv[32], back[32], pub[33];
  size_t len;
  char why[300];
  kedge_ecies_profile_t profile;
  assert_int_equal(kedge_ecies_keygen(KEDGE_ECIES_PROFILE_B, priv, pub, &len), KEDGE_OK);
  assert_int_equal(
      kedge_suci_key_file_write(path, &mk, KEDGE_ECIES_PROFILE_B, priv, why, sizeof(why)),
      KEDGE_OK);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  /* never overwritten */
  assert_int_equal(
      kedge_suci_key_file_write(path, &mk, KEDGE_ECIES_PROFILE_B, priv, why, sizeof(why)),
      KEDGE_ERR_IO);
  assert_int_equal(kedge_suci_key_file_read(path, &mk, &profile, back, why, sizeof(why)), KEDGE_OK);
  assert_int_equal(profile, KEDGE_ECIES_PROFILE_B);
  assert_memory_equal(back, priv, 32);
  /* the raw key is not in the file */
  char hex[65], text[256] = {0};
  kedge_hex_encode(priv, 32, hex);
  FILE *fp = fopen(path, "r");
  assert_non_null(fp);
  assert_true(fread(text, 1, sizeof(text) - 1, fp) > 0);
  fclose(fp);
  assert_null(strstr(text, hex));
  assert_int_equal(strncmp(text, "kedge-suci-key B ", 17), 0);
  /* another master key, or the label changed to the other profile: refused */
  assert_int_equal(kedge_suci_key_file_read(path, &other, &profile, back, why, sizeof(why)),
                   KEDGE_ERR_CONFIG);
  assert_non_null(strstr(why, "does not open"));
  text[15] = 'A';
  snprintf(path, sizeof(path), "%s/relabelled.key", dir);
  assert_int_equal(kedge_secret_file_create(path, "test key", text, strlen(text), why, sizeof(why)),
                   KEDGE_OK);
  assert_int_equal(kedge_suci_key_file_read(path, &mk, &profile, back, why, sizeof(why)),
                   KEDGE_ERR_CONFIG);
  /* readable by others */
  assert_int_equal(chmod(path, 0644), 0);
  assert_int_equal(kedge_suci_key_file_read(path, &mk, &profile, back, why, sizeof(why)),
                   KEDGE_ERR_CONFIG);
  assert_non_null(strstr(why, "chmod 600"));
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vector_null),      cmocka_unit_test(test_vector_profile_a),
      cmocka_unit_test(test_vector_profile_b), cmocka_unit_test(test_fresh_ephemeral_and_nai),
      cmocka_unit_test(test_failures_alike),   cmocka_unit_test(test_parse_accepts),
      cmocka_unit_test(test_parse_rejects),    cmocka_unit_test(test_conceal_rejects),
      cmocka_unit_test(test_key_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
