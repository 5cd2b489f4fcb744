/* The UE's checks of a 5G AKA challenge (daemons/ue/usim.c) against a network side built with
 * the library (kedge_aka_generate_he_av as the UDM/ARPF, kedge_aka_hxres_star and
 * kedge_aka_kseaf as the AUSF): a fresh vector is accepted with RES* = XRES*, the same KAUSF
 * and KSEAF; a replay gives AUTS from which the network recovers SQNms and resynchronises; a
 * wrong K is a MAC failure; an AMF without the separation bit is refused; the SEAF's HXRES*
 * check catches a mismatch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "kedge/hex.h"
#include "kedge/sqn.h"
#include "ue.h"

static const char snn[] = "5G:mnc001.mcc001.3gppnetwork.org";
static const uint8_t amf_5g[2] = {0x80, 0x00}; /* separation bit set */

/* The subscriber as both the USIM and the ARPF hold it (TS 35.208 test set 1 K and OPc). */
static ue_usim_t usim(void)
{
  ue_usim_t u;
  memset(&u, 0, sizeof(u));
  assert_int_equal(kedge_supi_parse("imsi-001010000000001", &u.supi), KEDGE_OK);
  assert_int_equal(kedge_hex_decode("465b5ce8b199b49faa5f0a2ee238a6bc", u.cred.k, 16), KEDGE_OK);
  assert_int_equal(kedge_hex_decode("cd63cb71954a9f4e48a5994e37a02baf", u.cred.opc, 16), KEDGE_OK);
  strcpy(u.rid, "0");
  assert_int_equal(kedge_plmn_parse("001", "01", &u.home), KEDGE_OK);
  return u;
}

static void network_vector(const ue_usim_t *u, uint64_t sqn, const uint8_t amf[2], uint8_t seed,
                           kedge_he_av_t *av)
{
  uint8_t rand[16];
  for (int i = 0; i < 16; i++)
    rand[i] = (uint8_t)(seed + 7 * i);
  assert_int_equal(kedge_aka_generate_he_av(&u->cred, rand, sqn, amf, snn, av), KEDGE_OK);
}

/* The UE's answer must be what the AUSF expects: RES* = XRES*, HXRES* matches, KAUSF equal,
 * KSEAF = KDF(KAUSF, SNN) as the AUSF derives it. */
static void expect_accepted(const ue_usim_t *u, uint64_t sqn_ms, const kedge_he_av_t *av,
                            uint64_t want_sqn)
{
  kedge_ue_aka_result_t res;
  uint8_t auts[14];
  assert_int_equal(ue_usim_authenticate(u, sqn_ms, av->rand, av->autn, snn, &res, auts), KEDGE_OK);
  assert_true(res.sqn == want_sqn);
  assert_memory_equal(res.res_star, av->xres_star, 16);
  assert_memory_equal(res.kausf, av->kausf, 32);
  uint8_t hxres_star[16], kseaf[32];
  assert_int_equal(kedge_aka_hxres_star(av->rand, av->xres_star, hxres_star), KEDGE_OK);
  assert_int_equal(ue_seaf_check_hxres_star(av->rand, res.res_star, hxres_star), KEDGE_OK);
  assert_int_equal(kedge_aka_kseaf(av->kausf, snn, kseaf), KEDGE_OK);
  assert_memory_equal(res.kseaf, kseaf, 32);
}

static void test_fresh(void **state)
{
  ue_usim_t u = usim();
  kedge_he_av_t av;
  network_vector(&u, 1, amf_5g, 1, &av);
  expect_accepted(&u, 0, &av, 1);
  /* a later one, and one at the far edge of the window (TS 33.102 C.2.1: Delta = 2^28) */
  network_vector(&u, 0x20, amf_5g, 2, &av);
  expect_accepted(&u, 1, &av, 0x20);
  network_vector(&u, 0x20 + KEDGE_SQN_DELTA, amf_5g, 3, &av);
  expect_accepted(&u, 0x20, &av, 0x20 + KEDGE_SQN_DELTA);
}

static void test_replay_then_resync(void **state)
{
  ue_usim_t u = usim();
  kedge_he_av_t av;
  network_vector(&u, 5, amf_5g, 9, &av);
  expect_accepted(&u, 4, &av, 5);

  /* The same AUTN again: SQN 5 is not above SQNms 5. */
  kedge_ue_aka_result_t res;
  uint8_t auts[14];
  memset(&res, 0xee, sizeof(res));
  assert_int_equal(ue_usim_authenticate(&u, 5, av.rand, av.autn, snn, &res, auts),
                   KEDGE_ERR_SYNC_FAILURE);
  static const uint8_t zero[sizeof(res)];
  assert_memory_equal(&res, zero, sizeof(res)); /* nothing of a refused challenge is kept */

  /* The UDM verifies MAC-S and takes SQNms from AUTS (TS 33.102 6.3.5)... */
  uint64_t sqn_ms = 0;
  assert_int_equal(kedge_aka_auts_check(&u.cred, av.rand, auts, &sqn_ms), KEDGE_OK);
  assert_int_equal(sqn_ms, 5);
  /* ...and continues from SQNms + 1 (SPEC.md 1): accepted. */
  uint64_t next = 0;
  assert_int_equal(kedge_sqn_next(sqn_ms, &next), KEDGE_OK);
  network_vector(&u, next, amf_5g, 10, &av);
  expect_accepted(&u, 5, &av, 6);

  /* A network far behind the USIM gets the USIM's SQNms the same way. */
  network_vector(&u, 3, amf_5g, 11, &av);
  assert_int_equal(ue_usim_authenticate(&u, 0x1000, av.rand, av.autn, snn, &res, auts),
                   KEDGE_ERR_SYNC_FAILURE);
  assert_int_equal(kedge_aka_auts_check(&u.cred, av.rand, auts, &sqn_ms), KEDGE_OK);
  assert_int_equal(sqn_ms, 0x1000);
  /* and one too far ahead (beyond Delta) is not fresh either */
  network_vector(&u, 0x1001 + KEDGE_SQN_DELTA, amf_5g, 12, &av);
  assert_int_equal(ue_usim_authenticate(&u, 0x1000, av.rand, av.autn, snn, &res, auts),
                   KEDGE_ERR_SYNC_FAILURE);
}

static void test_mac_failure(void **state)
{
  ue_usim_t u = usim(), wrong = usim();
  wrong.cred.k[15] ^= 0x01; /* wrong K in ue.yaml */
  kedge_he_av_t av;
  network_vector(&u, 1, amf_5g, 20, &av);
  kedge_ue_aka_result_t res;
  uint8_t auts[14];
  assert_int_equal(ue_usim_authenticate(&wrong, 0, av.rand, av.autn, snn, &res, auts),
                   KEDGE_ERR_MAC_FAILURE);
  /* a tampered AUTN (SQN, AMF or MAC-A) is a MAC failure too, before any SQN check */
  for (int i = 0; i < 16; i++) {
    uint8_t autn[16];
    memcpy(autn, av.autn, 16);
    autn[i] ^= 0x04;
    assert_int_equal(ue_usim_authenticate(&u, 0, av.rand, autn, snn, &res, auts),
                     KEDGE_ERR_MAC_FAILURE);
  }
  /* a replayed vector under the wrong K: MAC failure, not a synchronisation failure */
  assert_int_equal(ue_usim_authenticate(&wrong, 100, av.rand, av.autn, snn, &res, auts),
                   KEDGE_ERR_MAC_FAILURE);
}

static void test_separation_bit(void **state)
{
  ue_usim_t u = usim();
  static const uint8_t amf_eps[2] = {0x00, 0x00};
  kedge_he_av_t av;
  network_vector(&u, 1, amf_eps, 30, &av);
  kedge_ue_aka_result_t res;
  uint8_t auts[14];
  assert_int_equal(ue_usim_authenticate(&u, 0, av.rand, av.autn, snn, &res, auts),
                   KEDGE_ERR_UNSUPPORTED);
  /* but a MAC failure is reported as such whatever the AMF says */
  ue_usim_t wrong = usim();
  wrong.cred.opc[0] ^= 0x80;
  assert_int_equal(ue_usim_authenticate(&wrong, 0, av.rand, av.autn, snn, &res, auts),
                   KEDGE_ERR_MAC_FAILURE);
  /* other AMF bits do not matter */
  static const uint8_t amf_other[2] = {0xb9, 0xb9};
  network_vector(&u, 1, amf_other, 31, &av);
  expect_accepted(&u, 0, &av, 1);
}

static void test_hxres_star_mismatch(void **state)
{
  ue_usim_t u = usim();
  kedge_he_av_t av;
  network_vector(&u, 1, amf_5g, 40, &av);
  uint8_t hxres_star[16];
  assert_int_equal(kedge_aka_hxres_star(av.rand, av.xres_star, hxres_star), KEDGE_OK);
  assert_int_equal(ue_seaf_check_hxres_star(av.rand, av.xres_star, hxres_star), KEDGE_OK);
  for (int i = 0; i < 16; i++) {
    uint8_t bad[16];
    memcpy(bad, hxres_star, 16);
    bad[i] ^= 0x10;
    assert_int_equal(ue_seaf_check_hxres_star(av.rand, av.xres_star, bad), KEDGE_ERR_MAC_FAILURE);
  }
  /* HXRES* binds RAND too */
  uint8_t other_rand[16];
  memcpy(other_rand, av.rand, 16);
  other_rand[0] ^= 1;
  assert_int_equal(ue_seaf_check_hxres_star(other_rand, av.xres_star, hxres_star),
                   KEDGE_ERR_MAC_FAILURE);
}

static void test_serving_network_binds_keys(void **state)
{
  /* The network derived for another serving network name: MAC-A still verifies (it does not
   * cover SNN) but RES* and KAUSF differ, which the AUSF's RES* check then catches. */
  ue_usim_t u = usim();
  kedge_he_av_t av;
  network_vector(&u, 1, amf_5g, 50, &av);
  kedge_ue_aka_result_t res;
  uint8_t auts[14];
  assert_int_equal(
      ue_usim_authenticate(&u, 0, av.rand, av.autn, "5G:mnc093.mcc208.3gppnetwork.org", &res, auts),
      KEDGE_OK);
  assert_memory_not_equal(res.res_star, av.xres_star, 16);
  assert_memory_not_equal(res.kausf, av.kausf, 32);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fresh),
      cmocka_unit_test(test_replay_then_resync),
      cmocka_unit_test(test_mac_failure),
      cmocka_unit_test(test_separation_bit),
      cmocka_unit_test(test_hxres_star_mismatch),
      cmocka_unit_test(test_serving_network_binds_keys),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
