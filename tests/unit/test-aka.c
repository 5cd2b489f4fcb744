/* 5G AKA key chain: TS 33.501 Annex A known answers (tests/vectors/3gpp.txt sections 2-4),
 * AUTN and AUTS round trips, the SQN scheme of SPEC.md 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kedge/aka.h"
#include "kedge/edge.h"
#include "kedge/identity.h"
#include "kedge/sqn.h"
#include "testutil.h"

static void snn_001_01(char snn[KEDGE_SNN_LEN + 1])
{
  kedge_plmn_t plmn;
  assert_int_equal(kedge_plmn_parse("001", "01", &plmn), KEDGE_OK);
  kedge_serving_network_name(&plmn, snn);
}

static void test_serving_network_name(void **state)
{
  char *v = vec_load("3gpp.txt");
  char snn[KEDGE_SNN_LEN + 1], expected[64];
  snn_001_01(snn);
  vec_text(v, "## 2.", "SNN (ASCII)", expected, sizeof(expected));
  assert_string_equal(snn, expected);
  kedge_plmn_t plmn;
  assert_int_equal(kedge_plmn_parse("310", "260", &plmn), KEDGE_OK);
  kedge_serving_network_name(&plmn, snn);
  assert_string_equal(snn, "5G:mnc260.mcc310.3gppnetwork.org");
  assert_int_equal(kedge_plmn_parse("01", "01", &plmn), KEDGE_ERR_BAD_PLMN);
  assert_int_equal(kedge_plmn_parse("001", "1", &plmn), KEDGE_ERR_BAD_PLMN);
  assert_int_equal(kedge_plmn_parse("001", "0001", &plmn), KEDGE_ERR_BAD_PLMN);
  assert_int_equal(kedge_plmn_parse("00a", "01", &plmn), KEDGE_ERR_BAD_PLMN);
  assert_int_equal(kedge_plmn_parse("001", "", &plmn), KEDGE_ERR_BAD_PLMN);
  free(v);
}

/* Section 2: CK, IK, AK given directly. */
static void test_chain_from_ck_ik(void **state)
{
  char *v = vec_load("3gpp.txt");
  const char *s = "## 2.";
  uint8_t ck[16], ik[16], sqn_xor_ak[6], rand[16], xres[16];
  uint8_t e_kausf[32], e_kseaf[32], e_xres_star[16], e_hxres_star[16];
  uint8_t kausf[32], kseaf[32], xres_star[16], hxres_star[16];
  char snn[KEDGE_SNN_LEN + 1];
  snn_001_01(snn);
  vec_hex(v, s, "CK", ck, 16);
  vec_hex(v, s, "IK", ik, 16);
  vec_hex(v, s, "SQN^AK", sqn_xor_ak, 6);
  vec_hex(v, s, "RAND", rand, 16);
  vec_hex(v, s, "XRES", xres, 16);
  vec_hex(v, s, "KAUSF", e_kausf, 32);
  vec_hex(v, s, "KSEAF", e_kseaf, 32);
  vec_hex(v, s, "XRES*", e_xres_star, 16);
  vec_hex(v, s, "HXRES*", e_hxres_star, 16);

  assert_int_equal(kedge_aka_kausf(ck, ik, snn, sqn_xor_ak, kausf), KEDGE_OK);
  assert_memory_equal(kausf, e_kausf, 32);
  assert_int_equal(kedge_aka_kseaf(kausf, snn, kseaf), KEDGE_OK);
  assert_memory_equal(kseaf, e_kseaf, 32);
  /* A.6 under a key set up once with KAUSF (the AUSF's path): the same KSEAF, twice */
  kedge_kdf_key_t *kausf_key = NULL;
  assert_int_equal(kedge_kdf_key_new(kausf, 32, &kausf_key), KEDGE_OK);
  for (int round = 0; round < 2; round++) {
    memset(kseaf, 0, sizeof(kseaf));
    assert_int_equal(kedge_aka_kseaf_keyed(kausf_key, snn, kseaf), KEDGE_OK);
    assert_memory_equal(kseaf, e_kseaf, 32);
  }
  kedge_kdf_key_free(kausf_key);
  assert_int_equal(kedge_aka_kseaf_keyed(NULL, snn, kseaf), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_aka_res_star(ck, ik, snn, rand, xres, 16, xres_star), KEDGE_OK);
  assert_memory_equal(xres_star, e_xres_star, 16);
  assert_int_equal(kedge_aka_hxres_star(rand, xres_star, hxres_star), KEDGE_OK);
  assert_memory_equal(hxres_star, e_hxres_star, 16);
  /* RES outside 4..16 octets is refused */
  assert_int_equal(kedge_aka_res_star(ck, ik, snn, rand, xres, 3, xres_star),
                   KEDGE_ERR_INVALID_ARG);
  free(v);
}

/* Sections 3 and 4: the 5G HE AV from K, OPc, RAND, SQN, AMF, then the UE's answer. */
static void check_he_av(const char *s, const char *k_key, const char *set_for_keys)
{
  char *v = vec_load("3gpp.txt");
  kedge_aka_credentials_t cred;
  uint8_t rand[16], sqn_b[6], amf[2];
  uint8_t e_autn[16], e_xres_star[16], e_hxres_star[16], e_kausf[32], e_kseaf[32];
  const char *ks = set_for_keys ? set_for_keys : s;
  vec_hex(v, ks, k_key, cred.k, 16);
  vec_hex(v, ks, "OPc", cred.opc, 16);
  vec_hex(v, ks, "RAND", rand, 16);
  vec_hex(v, ks, "SQN", sqn_b, 6);
  vec_hex(v, ks, "AMF", amf, 2);
  vec_hex(v, s, "AUTN", e_autn, 16);
  vec_hex(v, s, set_for_keys ? "XRES*" : "XRES* (mnc001)", e_xres_star, 16);
  vec_hex(v, s, "HXRES*", e_hxres_star, 16);
  vec_hex(v, s, set_for_keys ? "KAUSF" : "KAUSF (mnc001)", e_kausf, 32);
  vec_hex(v, s, set_for_keys ? "KSEAF" : "KSEAF (mnc001)", e_kseaf, 32);
  char snn[KEDGE_SNN_LEN + 1];
  snn_001_01(snn);
  uint64_t sqn = kedge_sqn_from_bytes(sqn_b);

  kedge_he_av_t av;
  assert_int_equal(kedge_aka_generate_he_av(&cred, rand, sqn, amf, snn, &av), KEDGE_OK);
  assert_memory_equal(av.rand, rand, 16);
  assert_memory_equal(av.autn, e_autn, 16);
  assert_memory_equal(av.xres_star, e_xres_star, 16);
  assert_memory_equal(av.kausf, e_kausf, 32);
  uint8_t hxres_star[16], kseaf[32];
  assert_int_equal(kedge_aka_hxres_star(av.rand, av.xres_star, hxres_star), KEDGE_OK);
  assert_memory_equal(hxres_star, e_hxres_star, 16);
  assert_int_equal(kedge_aka_kseaf(av.kausf, snn, kseaf), KEDGE_OK);
  assert_memory_equal(kseaf, e_kseaf, 32);

  /* Round trip: the UE accepts the AUTN it has not seen and derives the same keys. */
  uint64_t got_sqn;
  assert_int_equal(kedge_aka_autn_check(&cred, rand, av.autn, &got_sqn, NULL, NULL, NULL),
                   KEDGE_OK);
  assert_true(got_sqn == sqn);
  kedge_ue_aka_result_t ue;
  uint8_t auts[14];
  assert_int_equal(kedge_aka_ue_respond(&cred, sqn - 1, rand, av.autn, snn, &ue, auts), KEDGE_OK);
  assert_true(ue.sqn == sqn);
  assert_memory_equal(ue.res_star, av.xres_star, 16);
  assert_memory_equal(ue.kausf, av.kausf, 32);
  assert_memory_equal(ue.kseaf, kseaf, 32);

  /* The keyed form: the same result, and the KAUSF key it hands back derives the Kedge and
   * Kedge ID that KAUSF itself does (SPEC.md 2). */
  kedge_ue_aka_result_t keyed;
  kedge_kdf_key_t *kausf_key = NULL;
  assert_int_equal(
      kedge_aka_ue_respond_keyed(&cred, sqn - 1, rand, av.autn, snn, &keyed, auts, &kausf_key),
      KEDGE_OK);
  assert_non_null(kausf_key);
  assert_memory_equal(&keyed, &ue, sizeof(ue));
  kedge_supi_t supi;
  kedge_plmn_t home;
  assert_int_equal(kedge_supi_parse("imsi-001010000000001", &supi), KEDGE_OK);
  assert_int_equal(kedge_plmn_parse("001", "01", &home), KEDGE_OK);
  uint8_t kedge_a[KEDGE_KEY_LEN], kedge_b[KEDGE_KEY_LEN];
  char id_a[KEDGE_ID_MAX + 1], id_b[KEDGE_ID_MAX + 1];
  assert_int_equal(kedge_derive_kedge_and_id(ue.kausf, &supi, "0", &home, kedge_a, id_a), KEDGE_OK);
  assert_int_equal(kedge_derive_kedge_and_id_keyed(kausf_key, &supi, "0", &home, kedge_b, id_b),
                   KEDGE_OK);
  assert_memory_equal(kedge_a, kedge_b, sizeof(kedge_a));
  assert_string_equal(id_a, id_b);
  kedge_kdf_key_free(kausf_key);
  assert_int_equal(kedge_derive_kedge_and_id_keyed(NULL, &supi, "0", &home, kedge_b, id_b),
                   KEDGE_ERR_INVALID_ARG);
  free(v);
}

static void test_he_av_full_chain(void **state)
{
  check_he_av("## 3.", "K=OP", NULL);
}

static void test_he_av_set_1(void **state)
{
  check_he_av("## 4.", "K", "[milenage-set-1]");
}

static void fixture(kedge_aka_credentials_t *cred, uint8_t rand[16])
{
  char *v = vec_load("3gpp.txt");
  vec_hex(v, "[milenage-set-2]", "K", cred->k, 16);
  vec_hex(v, "[milenage-set-2]", "OPc", cred->opc, 16);
  vec_hex(v, "[milenage-set-2]", "RAND", rand, 16);
  free(v);
}

static void test_autn_tampered(void **state)
{
  kedge_aka_credentials_t cred;
  uint8_t rand[16], amf[2] = {0x80, 0x00};
  char snn[KEDGE_SNN_LEN + 1];
  snn_001_01(snn);
  fixture(&cred, rand);
  kedge_he_av_t av;
  assert_int_equal(kedge_aka_generate_he_av(&cred, rand, 42, amf, snn, &av), KEDGE_OK);
  for (int i = 0; i < 16; i++) { /* any flipped bit of AUTN breaks MAC-A */
    uint8_t autn[16];
    memcpy(autn, av.autn, 16);
    autn[i] ^= 0x01;
    uint64_t sqn;
    assert_int_equal(kedge_aka_autn_check(&cred, rand, autn, &sqn, NULL, NULL, NULL),
                     KEDGE_ERR_MAC_FAILURE);
  }
  kedge_aka_credentials_t other = cred;
  other.k[0] ^= 0x80;
  kedge_ue_aka_result_t ue;
  assert_int_equal(kedge_aka_ue_respond(&other, 0, rand, av.autn, snn, &ue, NULL),
                   KEDGE_ERR_MAC_FAILURE);
  /* the keyed form hands back no key when the AUTN does not verify */
  kedge_kdf_key_t *kausf_key = (kedge_kdf_key_t *)&ue;
  assert_int_equal(kedge_aka_ue_respond_keyed(&other, 0, rand, av.autn, snn, &ue, NULL, &kausf_key),
                   KEDGE_ERR_MAC_FAILURE);
  assert_null(kausf_key);
}

static void test_resynchronisation(void **state)
{
  kedge_aka_credentials_t cred;
  uint8_t rand[16], amf[2] = {0x80, 0x00}, auts[14];
  char snn[KEDGE_SNN_LEN + 1];
  snn_001_01(snn);
  fixture(&cred, rand);
  const uint64_t sqn_ms = 1000;
  kedge_ue_aka_result_t ue;
  kedge_he_av_t av;

  /* A replayed (not greater) SQN: the UE answers with AUTS carrying SQNms. */
  assert_int_equal(kedge_aka_generate_he_av(&cred, rand, sqn_ms, amf, snn, &av), KEDGE_OK);
  assert_int_equal(kedge_aka_ue_respond(&cred, sqn_ms, rand, av.autn, snn, &ue, auts),
                   KEDGE_ERR_SYNC_FAILURE);
  uint64_t recovered = 0;
  assert_int_equal(kedge_aka_auts_check(&cred, rand, auts, &recovered), KEDGE_OK);
  assert_true(recovered == sqn_ms);
  uint64_t next;
  assert_int_equal(kedge_sqn_next(recovered, &next), KEDGE_OK);
  assert_int_equal(kedge_aka_generate_he_av(&cred, rand, next, amf, snn, &av), KEDGE_OK);
  assert_int_equal(kedge_aka_ue_respond(&cred, sqn_ms, rand, av.autn, snn, &ue, auts), KEDGE_OK);
  assert_true(ue.sqn == sqn_ms + 1);

  /* Too far ahead (more than Delta = 2^28): also a synchronisation failure. */
  assert_int_equal(
      kedge_aka_generate_he_av(&cred, rand, sqn_ms + KEDGE_SQN_DELTA + 1, amf, snn, &av), KEDGE_OK);
  assert_int_equal(kedge_aka_ue_respond(&cred, sqn_ms, rand, av.autn, snn, &ue, auts),
                   KEDGE_ERR_SYNC_FAILURE);
  assert_int_equal(kedge_aka_generate_he_av(&cred, rand, sqn_ms + KEDGE_SQN_DELTA, amf, snn, &av),
                   KEDGE_OK);
  assert_int_equal(kedge_aka_ue_respond(&cred, sqn_ms, rand, av.autn, snn, &ue, auts), KEDGE_OK);

  /* A tampered AUTS is refused by the home network. */
  assert_int_equal(kedge_aka_auts_build(&cred, rand, sqn_ms, auts), KEDGE_OK);
  for (int i = 0; i < 14; i++) {
    uint8_t bad[14];
    memcpy(bad, auts, 14);
    bad[i] ^= 0x10;
    assert_int_equal(kedge_aka_auts_check(&cred, rand, bad, &recovered), KEDGE_ERR_MAC_FAILURE);
  }
}

static void test_auts_uses_amf_zero(void **state)
{
  /* MAC-S in AUTS is f1* over AMF 0000 (TS 33.102 6.3.3), not over the vector's AMF. */
  kedge_aka_credentials_t cred;
  uint8_t rand[16], auts[14], sqn_b[6], mac_s[8];
  const uint8_t amf0[2] = {0, 0};
  fixture(&cred, rand);
  assert_int_equal(kedge_aka_auts_build(&cred, rand, 0x123456789aULL, auts), KEDGE_OK);
  kedge_sqn_to_bytes(0x123456789aULL, sqn_b);
  assert_int_equal(kedge_milenage_f1(cred.k, cred.opc, rand, sqn_b, amf0, NULL, mac_s), KEDGE_OK);
  assert_memory_equal(auts + 6, mac_s, 8);
}

static void test_sqn_scheme(void **state)
{
  uint64_t next;
  assert_int_equal(kedge_sqn_next(0, &next), KEDGE_OK);
  assert_true(next == 1);
  assert_int_equal(kedge_sqn_next(KEDGE_SQN_MAX - 1, &next), KEDGE_OK);
  assert_true(next == KEDGE_SQN_MAX);
  assert_int_equal(kedge_sqn_next(KEDGE_SQN_MAX, &next), KEDGE_ERR_SQN_EXHAUSTED);
  assert_true(kedge_sqn_is_fresh(5, 6));
  assert_false(kedge_sqn_is_fresh(5, 5));
  assert_false(kedge_sqn_is_fresh(5, 4));
  assert_true(kedge_sqn_is_fresh(5, 5 + KEDGE_SQN_DELTA));
  assert_false(kedge_sqn_is_fresh(5, 6 + KEDGE_SQN_DELTA));
  assert_false(kedge_sqn_is_fresh(KEDGE_SQN_MAX, KEDGE_SQN_MAX + 1));
  uint8_t b[6];
  kedge_sqn_to_bytes(0xff9bb4d0b607ULL, b);
  const uint8_t e[6] = {0xff, 0x9b, 0xb4, 0xd0, 0xb6, 0x07};
  assert_memory_equal(b, e, 6);
  assert_true(kedge_sqn_from_bytes(b) == 0xff9bb4d0b607ULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_serving_network_name), cmocka_unit_test(test_chain_from_ck_ik),
      cmocka_unit_test(test_he_av_full_chain),     cmocka_unit_test(test_he_av_set_1),
      cmocka_unit_test(test_autn_tampered),        cmocka_unit_test(test_resynchronisation),
      cmocka_unit_test(test_auts_uses_amf_zero),   cmocka_unit_test(test_sqn_scheme),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
