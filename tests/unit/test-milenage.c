/* Milenage known answers: TS 35.208 4.3 test sets 1-3 (tests/vectors/3gpp.txt). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "kedge/milenage.h"
#include "testutil.h"

static void check_set(const char *set)
{
  char *v = vec_load("3gpp.txt");
  uint8_t k[16], op[16], opc[16], rand[16], sqn[6], amf[2];
  uint8_t mac_a[8], mac_s[8], res[8], ck[16], ik[16], ak[6], ak_star[6];
  uint8_t e_opc[16], e_mac_a[8], e_mac_s[8], e_res[8], e_ck[16], e_ik[16], e_ak[6], e_ak_star[6];
  vec_hex(v, set, "K", k, 16);
  vec_hex(v, set, "OP", op, 16);
  vec_hex(v, set, "RAND", rand, 16);
  vec_hex(v, set, "SQN", sqn, 6);
  vec_hex(v, set, "AMF", amf, 2);
  vec_hex(v, set, "OPc", e_opc, 16);
  vec_hex(v, set, "f1(MAC-A)", e_mac_a, 8);
  vec_hex(v, set, "f1*(MAC-S)", e_mac_s, 8);
  vec_hex(v, set, "f2(RES)", e_res, 8);
  vec_hex(v, set, "f3(CK)", e_ck, 16);
  vec_hex(v, set, "f4(IK)", e_ik, 16);
  vec_hex(v, set, "f5(AK)", e_ak, 6);
  vec_hex(v, set, "f5*(AK-resync)", e_ak_star, 6);

  assert_int_equal(kedge_milenage_opc(k, op, opc), KEDGE_OK);
  assert_memory_equal(opc, e_opc, 16);
  assert_int_equal(kedge_milenage_f1(k, opc, rand, sqn, amf, mac_a, mac_s), KEDGE_OK);
  assert_memory_equal(mac_a, e_mac_a, 8);
  assert_memory_equal(mac_s, e_mac_s, 8);
  assert_int_equal(kedge_milenage_f2345(k, opc, rand, res, ck, ik, ak, ak_star), KEDGE_OK);
  assert_memory_equal(res, e_res, 8);
  assert_memory_equal(ck, e_ck, 16);
  assert_memory_equal(ik, e_ik, 16);
  assert_memory_equal(ak, e_ak, 6);
  assert_memory_equal(ak_star, e_ak_star, 6);

  /* outputs requested one at a time give the same values */
  uint8_t only_ck[16];
  assert_int_equal(kedge_milenage_f2345(k, opc, rand, NULL, only_ck, NULL, NULL, NULL), KEDGE_OK);
  assert_memory_equal(only_ck, e_ck, 16);
  free(v);
}

static void test_set_1(void **state)
{
  check_set("[milenage-set-1]");
}

static void test_set_2(void **state)
{
  check_set("[milenage-set-2]");
}

static void test_set_3(void **state)
{
  check_set("[milenage-set-3]");
}

static void test_full_chain_opc(void **state)
{
  char *v = vec_load("3gpp.txt");
  uint8_t k[16], opc[16], e_opc[16], rand[16], sqn[6], amf[2], mac_a[8], e_mac_a[8];
  uint8_t res[8], e_res[8], ak[6], e_ak[6];
  vec_hex(v, "## 3.", "K=OP", k, 16);
  vec_hex(v, "## 3.", "OPc", e_opc, 16);
  vec_hex(v, "## 3.", "RAND", rand, 16);
  vec_hex(v, "## 3.", "SQN", sqn, 6);
  vec_hex(v, "## 3.", "AMF", amf, 2);
  vec_hex(v, "## 3.", "MAC-A", e_mac_a, 8);
  vec_hex(v, "## 3.", "RES", e_res, 8);
  vec_hex(v, "## 3.", "AK", e_ak, 6);
  assert_int_equal(kedge_milenage_opc(k, k, opc), KEDGE_OK);
  assert_memory_equal(opc, e_opc, 16);
  assert_int_equal(kedge_milenage_f1(k, opc, rand, sqn, amf, mac_a, NULL), KEDGE_OK);
  assert_memory_equal(mac_a, e_mac_a, 8);
  assert_int_equal(kedge_milenage_f2345(k, opc, rand, res, NULL, NULL, ak, NULL), KEDGE_OK);
  assert_memory_equal(res, e_res, 8);
  assert_memory_equal(ak, e_ak, 6);
  free(v);
}

static void test_null_arguments(void **state)
{
  uint8_t b[16] = {0};
  assert_int_equal(kedge_milenage_opc(NULL, b, b), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_milenage_f1(b, b, NULL, b, b, b, b), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_milenage_f2345(b, NULL, b, b, b, b, b, b), KEDGE_ERR_INVALID_ARG);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_set_1),          cmocka_unit_test(test_set_2),
      cmocka_unit_test(test_set_3),          cmocka_unit_test(test_full_chain_opc),
      cmocka_unit_test(test_null_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
