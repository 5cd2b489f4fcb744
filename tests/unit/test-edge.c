/* Edge keys (SPEC.md 2 and 6): the three known-answer blocks of tests/vectors/kedge.txt, the
 * KDF input string S, Kedge ID build/parse round trips and rejections, SUPI and ECS ID forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "kedge/edge.h"
#include "kedge/hex.h"
#include "kedge/kdf.h"
#include "testutil.h"

static void check_block(const char *block)
{
  char *v = vec_load("kedge.txt");
  uint8_t kausf[32], e_kedge[32], e_tid[32], e_k_ecs[32], s[64];
  char supi_text[300], rid[16], mcc[8], mnc[8], e_id[300], ecs_id[300];
  vec_hex(v, block, "KAUSF", kausf, 32);
  vec_text(v, block, "SUPI", supi_text, sizeof(supi_text));
  vec_text(v, block, "RID", rid, sizeof(rid));
  vec_text(v, block, "MCC", mcc, sizeof(mcc));
  vec_text(v, block, "MNC", mnc, sizeof(mnc));
  vec_hex(v, block, "Kedge", e_kedge, 32);
  vec_hex(v, block, "Kedge-TID", e_tid, 32);
  vec_text(v, block, "Kedge ID", e_id, sizeof(e_id));
  vec_text(v, block, "ECS ID", ecs_id, sizeof(ecs_id));
  vec_hex(v, block, "K_ECS", e_k_ecs, 32);

  kedge_supi_t supi;
  kedge_plmn_t home;
  assert_int_equal(kedge_supi_parse(supi_text, &supi), KEDGE_OK);
  assert_int_equal(kedge_plmn_parse(mcc, mnc, &home), KEDGE_OK);

  /* S(Kedge) as listed: HMAC-SHA-256 over it by OpenSSL directly gives Kedge. */
  char s_hex[200];
  vec_text(v, block, "S(Kedge)", s_hex, sizeof(s_hex));
  size_t s_len;
  assert_int_equal(kedge_hex_decode_var(s_hex, s, sizeof(s), &s_len), KEDGE_OK);
  uint8_t direct[32];
  size_t direct_len = 0;
  assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, kausf, 32, s, s_len, direct,
                            sizeof(direct), &direct_len));
  assert_memory_equal(direct, e_kedge, 32);

  uint8_t kedge[32], tid[32];
  assert_int_equal(kedge_derive_edge_keys(kausf, &supi, kedge, tid), KEDGE_OK);
  assert_memory_equal(kedge, e_kedge, 32);
  assert_memory_equal(tid, e_tid, 32);

  char id_text[KEDGE_ID_MAX + 1];
  memset(kedge, 0, sizeof(kedge));
  assert_int_equal(kedge_derive_kedge_and_id(kausf, &supi, rid, &home, kedge, id_text), KEDGE_OK);
  assert_memory_equal(kedge, e_kedge, 32);
  assert_string_equal(id_text, e_id);

  /* the keyed path the AUSF and the UE take (one HMAC key set-up of KAUSF for KSEAF and the
   * edge keys): the same known answers, and the key stays usable for a second derivation */
  kedge_kdf_key_t *kausf_key = NULL;
  assert_int_equal(kedge_kdf_key_new(kausf, 32, &kausf_key), KEDGE_OK);
  for (int round = 0; round < 2; round++) {
    memset(kedge, 0, sizeof(kedge));
    memset(id_text, 0, sizeof(id_text));
    assert_int_equal(kedge_derive_kedge_and_id_keyed(kausf_key, &supi, rid, &home, kedge, id_text),
                     KEDGE_OK);
    assert_memory_equal(kedge, e_kedge, 32);
    assert_string_equal(id_text, e_id);
  }
  kedge_kdf_key_free(kausf_key);

  /* parse gives back what built it */
  kedge_id_t id;
  const char *why = "unset";
  assert_int_equal(kedge_id_parse(id_text, strlen(id_text), &id, &why), KEDGE_OK);
  assert_null(why);
  assert_string_equal(id.rid, rid);
  assert_memory_equal(id.tid, e_tid, 32);
  assert_string_equal(id.home.mcc, home.mcc);
  assert_string_equal(id.home.mnc, home.mnc);

  char norm[KEDGE_ECS_ID_MAX + 1];
  uint8_t k_ecs[32];
  assert_int_equal(kedge_ecs_id_normalise(ecs_id, norm, NULL), KEDGE_OK);
  assert_string_equal(norm, ecs_id);
  assert_int_equal(kedge_derive_k_ecs(kedge, norm, k_ecs), KEDGE_OK);
  assert_memory_equal(k_ecs, e_k_ecs, 32);
  free(v);
}

static void test_kedge_1(void **state)
{
  check_block("[kedge-1]");
}

static void test_kedge_2(void **state)
{
  check_block("[kedge-2]");
}

static void test_kedge_3(void **state)
{
  check_block("[kedge-3]");
}

static void test_kdf_s_kausf(void **state)
{
  /* 3gpp.txt section 2 lists S(KAUSF): kedge_kdf must hash exactly that string. */
  char *v = vec_load("3gpp.txt");
  uint8_t ck[16], ik[16], key[32], s[128], sqn_xor_ak[6], out[32], direct[32];
  char s_hex[300];
  vec_hex(v, "## 2.", "CK", ck, 16);
  vec_hex(v, "## 2.", "IK", ik, 16);
  vec_hex(v, "## 2.", "SQN^AK", sqn_xor_ak, 6);
  vec_text(v, "## 2.", "S(KAUSF)", s_hex, sizeof(s_hex));
  size_t s_len, direct_len;
  assert_int_equal(kedge_hex_decode_var(s_hex, s, sizeof(s), &s_len), KEDGE_OK);
  memcpy(key, ck, 16);
  memcpy(key + 16, ik, 16);
  const char *snn = "5G:mnc001.mcc001.3gppnetwork.org";
  const kedge_kdf_param_t p[] = {{(const uint8_t *)snn, strlen(snn)}, {sqn_xor_ak, 6}};
  assert_int_equal(kedge_kdf(key, 32, s[0], p, 2, out), KEDGE_OK);
  assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, 32, s, s_len, direct,
                            sizeof(direct), &direct_len));
  assert_memory_equal(out, direct, 32);

  /* a keyed state gives the same answer on every reuse */
  kedge_kdf_key_t *k;
  assert_int_equal(kedge_kdf_key_new(key, 32, &k), KEDGE_OK);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(kedge_kdf_derive(k, s[0], p, 2, out), KEDGE_OK);
    assert_memory_equal(out, direct, 32);
  }
  kedge_kdf_key_free(k);

  /* a parameter longer than its 2-octet length can say is refused */
  const kedge_kdf_param_t too_long[] = {{s, 70000}};
  assert_int_equal(kedge_kdf(key, 32, 0x6a, too_long, 1, out), KEDGE_ERR_INVALID_ARG);
  free(v);
}

static const char valid_id[] =
    "0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@5gc.mnc001.mcc001.3gppnetwork.org";

static void expect_bad_id(const char *text, size_t len, const char *reason_part)
{
  kedge_id_t id;
  const char *why = NULL;
  assert_int_equal(kedge_id_parse(text, len, &id, &why), KEDGE_ERR_BAD_KEDGE_ID);
  assert_non_null(why);
  if (!strstr(why, reason_part))
    fail_msg("'%s': reason '%s' does not mention '%s'", text, why, reason_part);
}

static void test_kedge_id_rejections(void **state)
{
  char buf[512];
#define BAD(s, reason) expect_bad_id((s), strlen(s), (reason))
  BAD("", "'@'");
  BAD("0n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@5gc.mnc001.mcc001.3gppnetwork.org", "'.'");
  BAD(".n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@5gc.mnc001.mcc001.3gppnetwork.org",
      "routing indicator");
  BAD("12345.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@5gc.mnc001.mcc001.3gppnetwork.org",
      "routing indicator");
  BAD("a.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@5gc.mnc001.mcc001.3gppnetwork.org",
      "routing indicator");
  /* 42 and 44 TID characters; padding '='; standard-alphabet '+' */
  BAD("0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjw@5gc.mnc001.mcc001.3gppnetwork.org", "43");
  BAD("0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwUA@5gc.mnc001.mcc001.3gppnetwork.org", "43");
  BAD("0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU=@5gc.mnc001.mcc001.3gppnetwork.org", "43");
  BAD("0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEf+wU@5gc.mnc001.mcc001.3gppnetwork.org",
      "base64url");
  /* 'V' = 0b010101: non-zero pad bits */
  BAD("0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwV@5gc.mnc001.mcc001.3gppnetwork.org",
      "pad bits");
  BAD("0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@5GC.MNC001.MCC001.3GPPNETWORK.ORG", "realm");
  BAD("0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@5gc.mnc01.mcc001.3gppnetwork.org", "realm");
  BAD("0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@5gc.mnc001.mcc01.3gppnetwork.org", "realm");
  BAD("0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@5gc.mnc001.mcc001.3gppnetwork.org.", "realm");
  BAD("0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@5gc.mnc0a1.mcc001.3gppnetwork.org", "realm");
  BAD("0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@ausf.example.com", "realm");
  BAD("0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@@5gc.mnc001.mcc001.3gppnetwork.org", "realm");
  /* over 255 octets */
  memset(buf, '1', 300);
  expect_bad_id(buf, 300, "255");
  /* an embedded NUL is not a shorter ID */
  memcpy(buf, valid_id, sizeof(valid_id));
  expect_bad_id(buf, sizeof(valid_id), "NUL");
#undef BAD
  kedge_id_t id;
  assert_int_equal(kedge_id_parse(valid_id, strlen(valid_id), &id, NULL), KEDGE_OK);
  /* only the given length is read */
  assert_int_equal(kedge_id_parse(valid_id, strlen(valid_id) - 1, &id, NULL),
                   KEDGE_ERR_BAD_KEDGE_ID);
}

static void test_kedge_id_rid_as_written(void **state)
{
  kedge_id_t id = {.rid = "012"};
  memcpy(id.home.mcc, "208", 4);
  memcpy(id.home.mnc, "093", 4);
  char text[KEDGE_ID_MAX + 1];
  assert_int_equal(kedge_id_format(&id, text), KEDGE_OK);
  assert_string_equal(
      text, "012.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA@5gc.mnc093.mcc208.3gppnetwork.org");
  kedge_id_t back;
  assert_int_equal(kedge_id_parse(text, strlen(text), &back, NULL), KEDGE_OK);
  assert_string_equal(back.rid, "012");
  assert_int_equal(kedge_rid_check("12345"), KEDGE_ERR_BAD_RID);
  assert_int_equal(kedge_rid_check(""), KEDGE_ERR_BAD_RID);
  assert_int_equal(kedge_rid_check("1a"), KEDGE_ERR_BAD_RID);
  memcpy(id.rid, "x", 2);
  assert_int_equal(kedge_id_format(&id, text), KEDGE_ERR_BAD_RID);
}

static void test_supi_forms(void **state)
{
  kedge_supi_t s;
  size_t n;
  assert_int_equal(kedge_supi_parse("imsi-001010123456789", &s), KEDGE_OK);
  assert_int_equal(s.type, KEDGE_SUPI_IMSI);
  assert_string_equal(kedge_supi_kdf_param(&s, &n), "001010123456789");
  assert_int_equal(n, 15);
  assert_int_equal(kedge_supi_parse("nai-alice@edge.example.org", &s), KEDGE_OK);
  assert_int_equal(s.type, KEDGE_SUPI_NAI);
  assert_string_equal(kedge_supi_kdf_param(&s, &n), "alice@edge.example.org");

  const char *bad[] = {
      "",
      "imsi-",
      "imsi-1234",
      "imsi-0010101234567890",
      "imsi-00101012345678a",
      "IMSI-001010123456789",
      "001010123456789",
      "nai-",
      "nai-alice",
      "nai-@example.org",
      "nai-alice@",
      "nai-a@b@c",
      "nai-ali ce@example.org",
      "nai-alice@exa\x01mple.org",
      "gci-whatever",
      "suci-0-001-01-0-0-0-1",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (kedge_supi_parse(bad[i], &s) != KEDGE_ERR_BAD_SUPI)
      fail_msg("SUPI '%s' was accepted", bad[i]);
  char longer[400] = "nai-a@";
  memset(longer + 6, 'b', 300);
  longer[306] = '\0';
  assert_int_equal(kedge_supi_parse(longer, &s), KEDGE_ERR_BAD_SUPI);
}

static void test_ecs_id_normalise(void **state)
{
  char out[KEDGE_ECS_ID_MAX + 1];
  const char *why;
  assert_int_equal(kedge_ecs_id_normalise("ECS.Example.COM.", out, &why), KEDGE_OK);
  assert_string_equal(out, "ecs.example.com");
  assert_int_equal(kedge_ecs_id_normalise("xn--bcher-kva.example", out, &why), KEDGE_OK);
  assert_string_equal(out, "xn--bcher-kva.example");
  const char *bad[] = {"",
                       ".",
                       "ecs",
                       "ecs..example.com",
                       "-ecs.example.com",
                       "ecs-.example.com",
                       "ecs_1.example.com",
                       "ecs.example.com..",
                       "b\303\274cher.example",
                       "127.0.0.1",
                       "ecs example.com"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    why = NULL;
    if (kedge_ecs_id_normalise(bad[i], out, &why) != KEDGE_ERR_BAD_ECS_ID || !why)
      fail_msg("ECS ID '%s' was accepted", bad[i]);
  }
  char label64[80];
  memset(label64, 'a', 64);
  strcpy(label64 + 64, ".com");
  assert_int_equal(kedge_ecs_id_normalise(label64, out, &why), KEDGE_ERR_BAD_ECS_ID);
  char name254[300];
  for (int i = 0; i < 254; i++)
    name254[i] = (i % 2) ? '.' : 'a';
  name254[253] = 'a';
  name254[254] = '\0';
  assert_int_equal(kedge_ecs_id_normalise(name254, out, &why), KEDGE_ERR_BAD_ECS_ID);
  name254[253] = '\0'; /* 253 octets ending in 'a'... */
  name254[252] = 'a';
  assert_int_equal(kedge_ecs_id_normalise(name254, out, &why), KEDGE_OK);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kedge_1),
      cmocka_unit_test(test_kedge_2),
      cmocka_unit_test(test_kedge_3),
      cmocka_unit_test(test_kdf_s_kausf),
      cmocka_unit_test(test_kedge_id_rejections),
      cmocka_unit_test(test_kedge_id_rid_as_written),
      cmocka_unit_test(test_supi_forms),
      cmocka_unit_test(test_ecs_id_normalise),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
