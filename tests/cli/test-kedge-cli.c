/* Runs the kedge binary: its JSON for every known answer in tests/vectors/, its exit status 2
 * and one-line error for bad input, and --help. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "testutil.h"

/* Runs kedge with the given arguments (NULL-terminated), expects exit 0, one JSON object with
 * exactly `n_members` members; returns it. */
static json_t *kedge_json(size_t n_members, ...)
{
  char *argv[32] = {(char *)run_bin("kedge")};
  va_list ap;
  va_start(ap, n_members);
  int argc = 1;
  for (char *a; (a = va_arg(ap, char *)) != NULL;)
    argv[argc++] = a;
  va_end(ap);
  argv[argc] = NULL;

  run_result_t r;
  run_capture(argv, &r);
  if (r.status != 0)
    fail_msg("kedge %s %s: exit %d: %s", argv[1], argv[2], r.status, r.err);
  assert_string_equal(r.err, "");
  json_error_t jerr;
  json_t *obj = json_loads(r.out, JSON_REJECT_DUPLICATES, &jerr);
  if (!obj || !json_is_object(obj))
    fail_msg("not one JSON object: %s", r.out);
  assert_int_equal(json_object_size(obj), n_members);
  run_free(&r);
  return obj;
}

static void member_is(json_t *obj, const char *member, const char *expected)
{
  const char *got = json_string_value(json_object_get(obj, member));
  if (!got || strcmp(got, expected) != 0)
    fail_msg("%s: got %s, expected %s", member, got ? got : "(missing)", expected);
}

/* The vector's value in lower case, as kedge prints hex. */
static void expect_member(json_t *obj, const char *member, const char *v, const char *section,
                          const char *key)
{
  char text[512];
  vec_text(v, section, key, text, sizeof(text));
  char *sp = strchr(text, ' ');
  if (sp)
    *sp = '\0';
  member_is(obj, member, text);
}

static void test_milenage_sets(void **state)
{
  char *v = vec_load("3gpp.txt");
  const char *sets[] = {"[milenage-set-1]", "[milenage-set-2]", "[milenage-set-3]"};
  for (int i = 0; i < 3; i++) {
    const char *s = sets[i];
    char k[64], op[64], rand[64], sqn[32], amf[16];
    vec_text(v, s, "K", k, sizeof(k));
    vec_text(v, s, "OP", op, sizeof(op));
    vec_text(v, s, "RAND", rand, sizeof(rand));
    vec_text(v, s, "SQN", sqn, sizeof(sqn));
    vec_text(v, s, "AMF", amf, sizeof(amf));
    json_t *o = kedge_json(8, "derive", "milenage", "--k", k, "--op", op, "--rand", rand, "--sqn",
                           sqn, "--amf", amf, NULL);
    expect_member(o, "opc", v, s, "OPc");
    expect_member(o, "macA", v, s, "f1(MAC-A)");
    expect_member(o, "macS", v, s, "f1*(MAC-S)");
    expect_member(o, "res", v, s, "f2(RES)");
    expect_member(o, "ck", v, s, "f3(CK)");
    expect_member(o, "ik", v, s, "f4(IK)");
    expect_member(o, "ak", v, s, "f5(AK)");
    expect_member(o, "akStar", v, s, "f5*(AK-resync)");
    json_decref(o);
  }
  free(v);
}

static void test_aka_chain(void **state)
{
  /* Section 4: TS 35.208 set 1 through 5G AKA to the edge keys of [kedge-1]. */
  char *v = vec_load("3gpp.txt"), *e = vec_load("kedge.txt");
  json_t *o =
      kedge_json(7, "derive", "aka", "--k", "465b5ce8b199b49faa5f0a2ee238a6bc", "--opc",
                 "CD63CB71954A9F4E48A5994E37A02BAF", "--rand", "23553cbe9637a89d218ae64dae47bf35",
                 "--sqn", "ff9bb4d0b607", "--amf", "b9b9", "--mcc", "001", "--mnc", "01", "--supi",
                 "imsi-001010000000001", NULL);
  expect_member(o, "autn", v, "## 4.", "AUTN");
  expect_member(o, "xresStar", v, "## 4.", "XRES*");
  expect_member(o, "hxresStar", v, "## 4.", "HXRES*");
  expect_member(o, "kausf", v, "## 4.", "KAUSF");
  expect_member(o, "kseaf", v, "## 4.", "KSEAF");
  expect_member(o, "kedge", e, "[kedge-1]", "Kedge");
  expect_member(o, "kedgeId", e, "[kedge-1]", "Kedge ID");
  json_decref(o);

  /* Section 3 with a home network other than the serving one: the AKA part stays, the realm
   * of the Kedge ID follows --home-mcc/--home-mnc. */
  o = kedge_json(7, "derive", "aka", "--k", "00112233445566778899aabbccddeeff", "--opc",
                 "62e75b8d6fa5bf46ec87a9276f9df54d", "--rand", "00112233445566778899aabbccddeeff",
                 "--sqn", "000000000001", "--amf", "8000", "--mcc", "001", "--mnc", "001", "--supi",
                 "nai-alice@edge.example.org", "--rid", "4321", "--home-mcc", "310", "--home-mnc",
                 "260", NULL);
  expect_member(o, "autn", v, "## 3.", "AUTN");
  expect_member(o, "xresStar", v, "## 3.", "XRES* (mnc001)");
  expect_member(o, "hxresStar", v, "## 3.", "HXRES*");
  expect_member(o, "kausf", v, "## 3.", "KAUSF (mnc001)");
  expect_member(o, "kseaf", v, "## 3.", "KSEAF (mnc001)");
  /* KAUSF of section 3 is the KAUSF of [kedge-3], with the same SUPI, RID and home network */
  expect_member(o, "kedge", e, "[kedge-3]", "Kedge");
  expect_member(o, "kedgeId", e, "[kedge-3]", "Kedge ID");
  json_decref(o);
  free(v);
  free(e);
}

static void test_kedge_blocks(void **state)
{
  char *e = vec_load("kedge.txt");
  const char *blocks[] = {"[kedge-1]", "[kedge-2]", "[kedge-3]"};
  for (int i = 0; i < 3; i++) {
    const char *b = blocks[i];
    char kausf[80], supi[80], rid[8], mcc[8], mnc[8], ecs_id[80], kedge_id[160];
    vec_text(e, b, "KAUSF", kausf, sizeof(kausf));
    vec_text(e, b, "SUPI", supi, sizeof(supi));
    vec_text(e, b, "RID", rid, sizeof(rid));
    vec_text(e, b, "MCC", mcc, sizeof(mcc));
    vec_text(e, b, "MNC", mnc, sizeof(mnc));
    vec_text(e, b, "ECS ID", ecs_id, sizeof(ecs_id));
    vec_text(e, b, "Kedge ID", kedge_id, sizeof(kedge_id));
    json_t *o = kedge_json(3, "derive", "kedge", "--kausf", kausf, "--supi", supi, "--mcc", mcc,
                           "--mnc", mnc, "--rid", rid, "--ecs-id", ecs_id, NULL);
    expect_member(o, "kedge", e, b, "Kedge");
    expect_member(o, "kedgeId", e, b, "Kedge ID");
    expect_member(o, "kEcs", e, b, "K_ECS");
    json_decref(o);

    char kedge_hex[80];
    vec_text(e, b, "Kedge", kedge_hex, sizeof(kedge_hex));
    char upper_ecs[96];
    snprintf(upper_ecs, sizeof(upper_ecs), "%s.", ecs_id); /* normalised: trailing dot dropped */
    o = kedge_json(2, "derive", "k-ecs", "--kedge", kedge_hex, "--ecs-id", upper_ecs, NULL);
    member_is(o, "ecsId", ecs_id);
    expect_member(o, "kEcs", e, b, "K_ECS");
    json_decref(o);

    o = kedge_json(4, "derive", "parse-id", kedge_id, NULL);
    member_is(o, "rid", rid);
    char mnc3[16];
    snprintf(mnc3, sizeof(mnc3), "%s%s", strlen(mnc) == 2 ? "0" : "", mnc);
    member_is(o, "mcc", mcc);
    member_is(o, "mnc", mnc3);
    char tid[64];
    snprintf(tid, sizeof(tid), "%.43s", strchr(kedge_id, '.') + 1);
    member_is(o, "tid", tid);
    json_decref(o);
  }
  /* without --rid and --ecs-id: RID 0, no kEcs */
  json_t *o = kedge_json(2, "derive", "kedge", "--kausf",
                         "474698caf02cc715db2ec0726510cfee6caa5bb1a649cb01224f2e23af94de1b",
                         "--supi", "imsi-001010000000001", "--mcc", "001", "--mnc", "01", NULL);
  expect_member(o, "kedgeId", e, "[kedge-1]", "Kedge ID");
  json_decref(o);
  free(e);
}

/* derive akma / parse-akid: the first known answer of tests/unit/test-akma.c (computed there with
 * openssl mac), through the command line; the AF FQDN is normalised before AF_ID is built. */
static void test_akma(void **state)
{
  (void)state;
  static const char akid[] =
      "0.pHY_9qVCfFj6UfYuA2wqozyINDzdpfF9uGzxq3tWYbY@5gc.mnc001.mcc001.3gppnetwork.org";
  json_t *o = kedge_json(5, "derive", "akma", "--kausf",
                         "474698caf02cc715db2ec0726510cfee6caa5bb1a649cb01224f2e23af94de1b",
                         "--supi", "imsi-001010000000001", "--mcc", "001", "--mnc", "01", "--rid",
                         "0", "--af-fqdn", "ECS.Example.com.", NULL);
  member_is(o, "kAkma", "176cdc89b8bc8634d912bf84cb7ed7b85afe1b8802afa110d1100a881df659a3");
  member_is(o, "aTid", "a4763ff6a5427c58fa51f62e036c2aa33c88343cdda5f17db86cf1ab7b5661b6");
  member_is(o, "aKid", akid);
  member_is(o, "afId", "6563732e6578616d706c652e636f6d0100000007");
  member_is(o, "kaf", "5905cdf5920d0ab874f9ed890d7845c2ceec51c8e2b206d9ca947b19a1a24119");
  json_decref(o);
  o = kedge_json(3, "derive", "akma", "--kausf",
                 "474698caf02cc715db2ec0726510cfee6caa5bb1a649cb01224f2e23af94de1b", "--supi",
                 "imsi-001010000000001", "--mcc", "001", "--mnc", "01", NULL);
  member_is(o, "aKid", akid);
  json_decref(o);
  o = kedge_json(4, "derive", "parse-akid", akid, NULL);
  member_is(o, "rid", "0");
  member_is(o, "aTid", "pHY_9qVCfFj6UfYuA2wqozyINDzdpfF9uGzxq3tWYbY");
  member_is(o, "mcc", "001");
  member_is(o, "mnc", "001");
  json_decref(o);
}

/* Bad input: exit 2, nothing on stdout, exactly one line on stderr mentioning `needle`. */
static void expect_rejected(const char *needle, char *const args[])
{
  char *argv[32] = {(char *)run_bin("kedge")};
  int i = 0;
  for (; args[i]; i++)
    argv[i + 1] = args[i];
  argv[i + 1] = NULL;
  run_result_t r;
  run_capture(argv, &r);
  if (r.status != 2 || r.out[0] != '\0')
    fail_msg("%s: status %d, stdout '%s'", needle, r.status, r.out);
  size_t len = strlen(r.err);
  if (len == 0 || r.err[len - 1] != '\n' || strchr(r.err, '\n') != r.err + len - 1)
    fail_msg("expected one line on stderr, got '%s'", r.err);
  if (!strstr(r.err, needle))
    fail_msg("stderr '%s' does not mention '%s'", r.err, needle);
  run_free(&r);
}

#define REJECT(needle, ...) expect_rejected(needle, (char *const[]){__VA_ARGS__, NULL})
#define HN_PUB_A            "5a8d38864820197c3394b92613b20b91633cbd897119273bf8e4a6f4eec0a650"
#define KAUSF               "474698caf02cc715db2ec0726510cfee6caa5bb1a649cb01224f2e23af94de1b"
#define KEY16               "465b5ce8b199b49faa5f0a2ee238a6bc"

static void test_bad_input(void **state)
{
  REJECT("--kausf: odd number of hex digits", "derive", "kedge", "--kausf", "abc", "--supi",
         "imsi-001010000000001", "--mcc", "001", "--mnc", "01");
  REJECT("--kausf: wrong length", "derive", "kedge", "--kausf", "abcd", "--supi",
         "imsi-001010000000001", "--mcc", "001", "--mnc", "01");
  REJECT("--kausf: not a hex string", "derive", "kedge", "--kausf", "zz", "--supi",
         "imsi-001010000000001", "--mcc", "001", "--mnc", "01");
  REJECT("--supi", "derive", "kedge", "--kausf", KAUSF, "--supi", "001010000000001", "--mcc", "001",
         "--mnc", "01");
  REJECT("--supi", "derive", "kedge", "--kausf", KAUSF, "--supi", "nai-nobody", "--mcc", "001",
         "--mnc", "01");
  REJECT("--mcc", "derive", "kedge", "--kausf", KAUSF, "--supi", "imsi-001010000000001", "--mcc",
         "1000", "--mnc", "01");
  REJECT("--mnc", "derive", "kedge", "--kausf", KAUSF, "--supi", "imsi-001010000000001", "--mcc",
         "001", "--mnc", "1");
  REJECT("--rid", "derive", "kedge", "--kausf", KAUSF, "--supi", "imsi-001010000000001", "--mcc",
         "001", "--mnc", "01", "--rid", "12345");
  REJECT("--ecs-id", "derive", "kedge", "--kausf", KAUSF, "--supi", "imsi-001010000000001", "--mcc",
         "001", "--mnc", "01", "--ecs-id", "not a name");
  REJECT("--mnc: required", "derive", "kedge", "--kausf", KAUSF, "--supi", "imsi-001010000000001",
         "--mcc", "001");
  REJECT("unknown option '--kseaf'", "derive", "kedge", "--kseaf", KAUSF);
  REJECT("--opc", "derive", "milenage", "--k", KEY16, "--rand", KEY16, "--sqn", "000000000001",
         "--amf", "8000");
  REJECT("--sqn: wrong length", "derive", "milenage", "--k", KEY16, "--opc", KEY16, "--rand", KEY16,
         "--sqn", "0001", "--amf", "8000");
  REJECT("--home-mnc", "derive", "aka", "--k", KEY16, "--opc", KEY16, "--rand", KEY16, "--sqn",
         "000000000001", "--amf", "8000", "--mcc", "001", "--mnc", "01", "--supi",
         "imsi-001010000000001", "--home-mcc", "310");
  REJECT("pad bits", "derive", "parse-id",
         "0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwV@5gc.mnc001.mcc001.3gppnetwork.org");
  REJECT("realm", "derive", "parse-id",
         "0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@5gc.mnc01.mcc001.3gppnetwork.org");
  REJECT("--profile", "derive", "suci", "--supi", "imsi-001010000000001", "--profile", "C");
  REJECT("--hn-key-id: required", "derive", "suci", "--supi", "imsi-001010000000001", "--profile",
         "A", "--mcc", "001", "--mnc", "01", "--hn-public", HN_PUB_A);
  REJECT("--hn-key-id: must be 1..255", "derive", "suci", "--supi", "imsi-001010000000001",
         "--profile", "A", "--mcc", "001", "--mnc", "01", "--hn-public", HN_PUB_A, "--hn-key-id",
         "256");
  REJECT("--hn-public: wrong length", "derive", "suci", "--supi", "imsi-001010000000001",
         "--profile", "B", "--mcc", "001", "--mnc", "01", "--hn-public", HN_PUB_A, "--hn-key-id",
         "1");
  REJECT("--mcc: required", "derive", "suci", "--supi", "imsi-001010000000001", "--profile",
         "null");
  REJECT("--supi: the IMSI does not begin", "derive", "suci", "--supi", "imsi-001010000000001",
         "--profile", "null", "--mcc", "002", "--mnc", "01");
  REJECT("--suci: hnPubKeyId", "derive", "suci", "--suci", "suci-0-001-01-0-1-0-00", "--hn-private",
         HN_PUB_A);
  REJECT("--suci: protection scheme 3", "derive", "suci", "--suci", "suci-0-001-01-0-3-1-00",
         "--hn-private", HN_PUB_A);
  REJECT("--hn-private: required", "derive", "suci", "--suci", "suci-0-001-01-0-1-1-00");
  REJECT("--suci: does not de-conceal", "derive", "suci", "--suci", "suci-0-001-01-0-1-1-00",
         "--hn-private", HN_PUB_A);
  REJECT("--profile", "suci", "keygen", "--profile", "C", "--master-key", "x", "--out", "y");
  REJECT("--out: required", "suci", "keygen", "--profile", "A", "--master-key", "x");
  REJECT("--af-fqdn", "derive", "akma", "--kausf", KAUSF, "--supi", "imsi-001010000000001", "--mcc",
         "001", "--mnc", "01", "--af-fqdn", "ecs_1.example.com");
  REJECT("--kausf: required", "derive", "akma", "--supi", "imsi-001010000000001", "--mcc", "001",
         "--mnc", "01");
  REJECT("malformed A-KID: TID's last character has non-zero pad bits", "derive", "parse-akid",
         "0.pHY_9qVCfFj6UfYuA2wqozyINDzdpfF9uGzxq3tWYbZ@5gc.mnc001.mcc001.3gppnetwork.org");
  REJECT("unknown form", "derive", "kausf");
  REJECT("unknown command", "frobnicate");
}

static void test_help(void **state)
{
  char *argv[] = {(char *)run_bin("kedge"), "derive", "--help", NULL};
  run_result_t r;
  run_capture(argv, &r);
  assert_int_equal(r.status, 0);
  const char *options[] = {"--k",          "--op",          "--opc",        "--rand",
                           "--sqn",        "--amf",         "--mcc",        "--mnc",
                           "--home-mcc",   "--home-mnc",    "--supi",       "--rid",
                           "--kausf",      "--ecs-id",      "parse-id",     "suci",
                           "--profile",    "--hn-public",   "--hn-key-id",  "--eph-private",
                           "--hn-private", "--hn-key-file", "--master-key", "akma",
                           "--af-fqdn",    "parse-akid"};
  for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
    if (!strstr(r.out, options[i]))
      fail_msg("derive --help does not describe %s", options[i]);
  run_free(&r);
  char *argv2[] = {(char *)run_bin("kedge"), "--help", NULL};
  run_capture(argv2, &r);
  assert_int_equal(r.status, 0);
  assert_non_null(strstr(r.out, "derive"));
  run_free(&r);
}

/* kedge derive suci: each block of suci.txt concealed with its ephemeral key, the SUCI
 * de-concealed with the home network private key; then keygen's sealed file de-conceals a
 * fresh SUCI made for its public key. */
static void test_suci_vectors(void **state)
{
  char *v = vec_load("suci.txt");
  static const char *const blocks[] = {"[suci-a-imsi]", "[suci-b-imsi]"};
  for (int i = 0; i < 2; i++) {
    char hn_pub[80], hn_priv[80], eph[80], want[200], expect[300];
    vec_text(v, blocks[i], "hn_public", hn_pub, sizeof(hn_pub));
    vec_text(v, blocks[i], "hn_private", hn_priv, sizeof(hn_priv));
    vec_text(v, blocks[i], "eph_private", eph, sizeof(eph));
    vec_text(v, blocks[i], "scheme_output", want, sizeof(want));
    json_t *o = kedge_json(2, "derive", "suci", "--supi", "imsi-274012001002086", "--profile",
                           i ? "B" : "A", "--mcc", "274", "--mnc", "012", "--hn-public", hn_pub,
                           "--hn-key-id", "9", "--eph-private", eph, NULL);
    member_is(o, "schemeOutput", want);
    snprintf(expect, sizeof(expect), "suci-0-274-012-0-%d-9-%s", i + 1, want);
    member_is(o, "suci", expect);
    json_decref(o);
    o = kedge_json(4, "derive", "suci", "--suci", expect, "--hn-private", hn_priv, NULL);
    member_is(o, "supi", "imsi-274012001002086");
    member_is(o, "rid", "0");
    assert_int_equal(json_integer_value(json_object_get(o, "scheme")), i + 1);
    assert_int_equal(json_integer_value(json_object_get(o, "hnPubKeyId")), 9);
    json_decref(o);
    /* the other profile's private key does not open it */
    vec_text(v, blocks[1 - i], "hn_private", hn_priv, sizeof(hn_priv));
    REJECT("does not de-conceal", "derive", "suci", "--suci", expect, "--hn-private", hn_priv);
  }
  free(v);

  char dir[] = "/tmp/kedge-test-cli-XXXXXX", mk[64], key[64], cmd[128];
  assert_non_null(mkdtemp(dir));
  snprintf(mk, sizeof(mk), "%s/mk", dir);
  snprintf(key, sizeof(key), "%s/hn.key", dir);
  char *argv_mk[] = {(char *)run_bin("kedge"), "master-key", mk, NULL};
  run_result_t r;
  run_capture(argv_mk, &r);
  assert_int_equal(r.status, 0);
  run_free(&r);
  char *argv_kg[] = {(char *)run_bin("kedge"), "suci", "keygen", "--profile", "B",
                     "--master-key",           mk,     "--out",  key,         NULL};
  run_capture(argv_kg, &r);
  assert_int_equal(r.status, 0);
  /* 33 octets, compressed: 66 hex digits starting 02 or 03 */
  assert_int_equal(strlen(r.out), 67);
  assert_true(!strncmp(r.out, "02", 2) || !strncmp(r.out, "03", 2));
  r.out[66] = '\0';
  json_t *o = kedge_json(3, "derive", "suci", "--supi", "nai-carol@edge.example.org", "--profile",
                         "B", "--hn-public", r.out, "--hn-key-id", "200", "--rid", "42", NULL);
  run_free(&r);
  const char *suci = json_string_value(json_object_get(o, "suci"));
  const char *nai = json_string_value(json_object_get(o, "nai"));
  assert_int_equal(strncmp(suci, "suci-1-edge.example.org-42-2-200-", 33), 0);
  assert_int_equal(strncmp(nai, "type1.rid42.schid2.hnkey200.ecckey", 34), 0);
  for (int form = 0; form < 2; form++) {
    json_t *d = kedge_json(4, "derive", "suci", "--suci", form ? nai : suci, "--hn-key-file", key,
                           "--master-key", mk, NULL);
    member_is(d, "supi", "nai-carol@edge.example.org");
    member_is(d, "rid", "42");
    json_decref(d);
  }
  /* keygen never overwrites */
  run_capture(argv_kg, &r);
  assert_int_equal(r.status, 1);
  assert_string_equal(r.out, "");
  assert_non_null(strstr(r.err, "hn.key"));
  run_free(&r);
  json_decref(o);
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_milenage_sets), cmocka_unit_test(test_aka_chain),
      cmocka_unit_test(test_kedge_blocks),  cmocka_unit_test(test_suci_vectors),
      cmocka_unit_test(test_akma),          cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_help),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
