/* AKMA derivations (TS 33.535 Annex A; SPEC.md 9): known answers for K_AKMA, A-TID, the A-KID,
 * AF_ID and K_AF, and the strict A-KID parser.
 *
 * The expected values were computed independently of kedge with OpenSSL's command line
 * (OpenSSL 3.0.19), building the TS 33.220 B.2.0 input S = FC || P0 || L0 || P1 || L1 by hand:
 *
 *   K=474698caf02cc715db2ec0726510cfee6caa5bb1a649cb01224f2e23af94de1b      # KAUSF, vector 1
 *   # K_AKMA: FC 0x80, P0 "AKMA", L0 0004, P1 SUPI "001010000000001", L1 000f
 *   echo -n 80414b4d410004303031303130303030303030303031000f | xxd -r -p \
 *     | openssl mac -digest SHA256 -macopt hexkey:$K HMAC
 *   -> 176CDC89B8BC8634D912BF84CB7ED7B85AFE1B8802AFA110D1100A881DF659A3
 *   # A-TID: FC 0x81, P0 "A-TID", L0 0005, same P1/L1
 *   echo -n 81412d5449440005303031303130303030303030303031000f | xxd -r -p \
 *     | openssl mac -digest SHA256 -macopt hexkey:$K HMAC
 *   -> A4763FF6A5427C58FA51F62E036C2AA33C88343CDDA5F17DB86CF1AB7B5661B6
 *   # A-TID in base64url without padding (the A-KID's username after "<RID>.")
 *   echo -n a476...61b6 | xxd -r -p | openssl base64 -A | tr '+/' '-_' | tr -d '='
 *   -> pHY_9qVCfFj6UfYuA2wqozyINDzdpfF9uGzxq3tWYbY
 *   # K_AF: FC 0x82, P0 AF_ID = "ecs.example.com" || 01 00 00 00 07, L0 0014, key K_AKMA
 *   echo -n 826563732e6578616d706c652e636f6d01000000070014 | xxd -r -p \
 *     | openssl mac -digest SHA256 -macopt hexkey:176c...59a3 HMAC
 *   -> 5905CDF5920D0AB874F9ED890D7845C2CEEC51C8E2B206D9CA947B19A1A24119
 *
 *   K=20de4eb2b75c8dac301ad52773e2e37bd7b4b0c2fdb1c3751b98dd0df846aed5      # vector 2, NAI SUPI
 *   echo -n 80414b4d410004616c696365406578616d706c652e6f72670011 | xxd -r -p \
 *     | openssl mac -digest SHA256 -macopt hexkey:$K HMAC
 *   -> D907DA8C50F1DAC0C7253AF8EBBF9761F96FB71D86F367F71DF6A99510FD8F50
 *   echo -n 81412d5449440005616c696365406578616d706c652e6f72670011 | xxd -r -p \
 *     | openssl mac -digest SHA256 -macopt hexkey:$K HMAC
 *   -> 207A896EE8A33DB23BDC4890D99EF56E157E79CC19880EEE5568107A78B620C2
 *   -> base64url IHqJbuijPbI73EiQ2Z71bhV-ecwZiA7uVWgQeni2IMI
 *   echo -n 82656373312e6f70657261746f722e6578616d706c650100000007001a | xxd -r -p \
 *     | openssl mac -digest SHA256 -macopt hexkey:d907...8f50 HMAC
 *   -> 42E46CBF0DFF5FE8011A3B83BE77316BCF0F6FE5C46C3724F3DC9C0393D4532E
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kedge/akma.h"
#include "kedge/hex.h"

struct vector {
  const char *kausf, *supi, *rid, *mcc, *mnc, *af_fqdn;
  const char *k_akma, *a_tid, *akid, *af_id, *k_af;
};

static const struct vector vectors[] = {
    {"474698caf02cc715db2ec0726510cfee6caa5bb1a649cb01224f2e23af94de1b", "imsi-001010000000001",
     "0", "001", "01", "ecs.example.com",
     "176cdc89b8bc8634d912bf84cb7ed7b85afe1b8802afa110d1100a881df659a3",
     "a4763ff6a5427c58fa51f62e036c2aa33c88343cdda5f17db86cf1ab7b5661b6",
     "0.pHY_9qVCfFj6UfYuA2wqozyINDzdpfF9uGzxq3tWYbY@5gc.mnc001.mcc001.3gppnetwork.org",
     "6563732e6578616d706c652e636f6d0100000007",
     "5905cdf5920d0ab874f9ed890d7845c2ceec51c8e2b206d9ca947b19a1a24119"},
    {"20de4eb2b75c8dac301ad52773e2e37bd7b4b0c2fdb1c3751b98dd0df846aed5", "nai-alice@example.org",
     "12", "208", "93", "ecs1.operator.example",
     "d907da8c50f1dac0c7253af8ebbf9761f96fb71d86f367f71df6a99510fd8f50",
     "207a896ee8a33db23bdc4890d99ef56e157e79cc19880eee5568107a78b620c2",
     "12.IHqJbuijPbI73EiQ2Z71bhV-ecwZiA7uVWgQeni2IMI@5gc.mnc093.mcc208.3gppnetwork.org",
     "656373312e6f70657261746f722e6578616d706c650100000007",
     "42e46cbf0dff5fe8011a3b83be77316bcf0f6fe5c46c3724f3dc9c0393d4532e"},
};

static void hex(const char *text, uint8_t *out, size_t len)
{
  assert_int_equal(kedge_hex_decode(text, out, len), KEDGE_OK);
}

static void check_vector(const struct vector *v)
{
  uint8_t kausf[32], e_k_akma[32], e_a_tid[32], e_k_af[32], e_af_id[KEDGE_AF_ID_MAX];
  size_t e_af_id_len = strlen(v->af_id) / 2;
  hex(v->kausf, kausf, 32);
  hex(v->k_akma, e_k_akma, 32);
  hex(v->a_tid, e_a_tid, 32);
  hex(v->k_af, e_k_af, 32);
  hex(v->af_id, e_af_id, e_af_id_len);

  kedge_supi_t supi;
  kedge_plmn_t home;
  assert_int_equal(kedge_supi_parse(v->supi, &supi), KEDGE_OK);
  assert_int_equal(kedge_plmn_parse(v->mcc, v->mnc, &home), KEDGE_OK);

  uint8_t k_akma[32], a_tid[32];
  assert_int_equal(kedge_derive_akma_keys(kausf, &supi, k_akma, a_tid), KEDGE_OK);
  assert_memory_equal(k_akma, e_k_akma, 32);
  assert_memory_equal(a_tid, e_a_tid, 32);

  char akid[KEDGE_AKID_MAX + 1];
  memset(k_akma, 0, sizeof(k_akma));
  assert_int_equal(kedge_derive_k_akma_and_akid(kausf, &supi, v->rid, &home, k_akma, akid),
                   KEDGE_OK);
  assert_memory_equal(k_akma, e_k_akma, 32);
  assert_string_equal(akid, v->akid);

  kedge_akid_t parsed;
  const char *why = "unset";
  assert_int_equal(kedge_akid_parse(akid, strlen(akid), &parsed, &why), KEDGE_OK);
  assert_null(why);
  assert_string_equal(parsed.rid, v->rid);
  assert_memory_equal(parsed.tid, e_a_tid, 32);
  assert_string_equal(parsed.home.mcc, home.mcc);
  assert_string_equal(parsed.home.mnc, home.mnc);
  char again[KEDGE_AKID_MAX + 1];
  assert_int_equal(kedge_akid_format(&parsed, again), KEDGE_OK);
  assert_string_equal(again, v->akid);

  uint8_t af_id[KEDGE_AF_ID_MAX];
  size_t af_id_len = 0;
  assert_int_equal(kedge_af_id_build(v->af_fqdn, af_id, &af_id_len), KEDGE_OK);
  assert_int_equal(af_id_len, e_af_id_len);
  assert_memory_equal(af_id, e_af_id, af_id_len);

  uint8_t k_af[32];
  assert_int_equal(kedge_derive_k_af(k_akma, v->af_fqdn, k_af), KEDGE_OK);
  assert_memory_equal(k_af, e_k_af, 32);
}

static void test_vector_imsi(void **state)
{
  (void)state;
  check_vector(&vectors[0]);
}

static void test_vector_nai(void **state)
{
  (void)state;
  check_vector(&vectors[1]);
}

/* TS 33.220 H.3: (0x01,0x00,0x00,0x00,0x07), shared key TLS 1.3 (TS 33.222 5.4.0.2). */
static void test_ua_spid(void **state)
{
  (void)state;
  static const uint8_t expect[] = {0x01, 0x00, 0x00, 0x00, 0x07};
  uint8_t af_id[KEDGE_AF_ID_MAX];
  size_t len = 0;
  assert_int_equal(kedge_af_id_build("a.b", af_id, &len), KEDGE_OK);
  assert_int_equal(len, 3 + 5);
  assert_memory_equal(af_id, "a.b", 3);
  assert_memory_equal(af_id + 3, expect, 5);
  assert_int_equal(kedge_af_id_build("", af_id, &len), KEDGE_ERR_BAD_ECS_ID);
}

/* Different AFs get different K_AF from one K_AKMA (the profile is as strict as bound). */
static void test_k_af_separates_afs(void **state)
{
  (void)state;
  uint8_t k_akma[32], a[32], b[32];
  hex(vectors[0].k_akma, k_akma, 32);
  assert_int_equal(kedge_derive_k_af(k_akma, "ecs.example.com", a), KEDGE_OK);
  assert_int_equal(kedge_derive_k_af(k_akma, "ecs2.example.com", b), KEDGE_OK);
  assert_memory_not_equal(a, b, 32);
}

static void expect_bad(const char *text, size_t len, const char *reason_part)
{
  kedge_akid_t akid;
  const char *why = NULL;
  assert_int_equal(kedge_akid_parse(text, len, &akid, &why), KEDGE_ERR_BAD_AKID);
  assert_non_null(why);
  if (reason_part && !strstr(why, reason_part))
    fail_msg("'%s': reason '%s' lacks '%s'", text, why, reason_part);
}

static void test_akid_rejections(void **state)
{
  (void)state;
  const char *good = vectors[0].akid;
  char buf[400];
#define BAD(s, part) expect_bad((s), strlen(s), (part))
  BAD("", "'@'");
  BAD("0pHY_9qVCfFj6UfYuA2wqozyINDzdpfF9uGzxq3tWYbY@5gc.mnc001.mcc001.3gppnetwork.org", "'.'");
  BAD("12345.pHY_9qVCfFj6UfYuA2wqozyINDzdpfF9uGzxq3tWYbY@5gc.mnc001.mcc001.3gppnetwork.org",
      "routing indicator");
  BAD("a.pHY_9qVCfFj6UfYuA2wqozyINDzdpfF9uGzxq3tWYbY@5gc.mnc001.mcc001.3gppnetwork.org",
      "routing indicator");
  BAD("0.pHY_9qVCfFj6UfYuA2wqozyINDzdpfF9uGzxq3tWYb@5gc.mnc001.mcc001.3gppnetwork.org", "43");
  BAD("0.pHY+9qVCfFj6UfYuA2wqozyINDzdpfF9uGzxq3tWYbY@5gc.mnc001.mcc001.3gppnetwork.org",
      "alphabet");
  BAD("0.pHY_9qVCfFj6UfYuA2wqozyINDzdpfF9uGzxq3tWYbZ@5gc.mnc001.mcc001.3gppnetwork.org",
      "pad bits");
  BAD("0.pHY_9qVCfFj6UfYuA2wqozyINDzdpfF9uGzxq3tWYbY@5gc.mnc01.mcc001.3gppnetwork.org", "realm");
  BAD("0.pHY_9qVCfFj6UfYuA2wqozyINDzdpfF9uGzxq3tWYbY@5GC.mnc001.mcc001.3gppnetwork.org", "realm");
  BAD("0.pHY_9qVCfFj6UfYuA2wqozyINDzdpfF9uGzxq3tWYbY@5gc.mnc001.mcc001.3gppnetwork.org.", "realm");
  BAD("0.pHY_9qVCfFj6UfYuA2wqozyINDzdpfF9uGzxq3tWYbY@ausf.5gc.mnc001.mcc001.3gppnetwork.org",
      "realm");
  /* an embedded NUL, and a length past 255 octets */
  memcpy(buf, good, strlen(good));
  buf[1] = '\0';
  expect_bad(buf, strlen(good), "NUL");
  memset(buf, 'a', sizeof(buf));
  expect_bad(buf, 256, "255");
#undef BAD
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vector_imsi),     cmocka_unit_test(test_vector_nai),
      cmocka_unit_test(test_ua_spid),         cmocka_unit_test(test_k_af_separates_afs),
      cmocka_unit_test(test_akid_rejections),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
