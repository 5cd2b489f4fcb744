/* Secrets at rest (kedge/seal.h): AES-256-GCM round trips, every kind of tampering refused,
 * master key files checked for mode, length and form. */
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

#include "kedge/seal.h"
#include "testutil.h"

static char dir[64];

static int setup(void **state)
{
  strcpy(dir, "/tmp/kedge-test-seal-XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  return system(cmd);
}

static const char *path_in_dir(const char *name)
{
  static char path[128];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  return path;
}

static void write_file(const char *name, const char *text, mode_t mode)
{
  const char *p = path_in_dir(name);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  assert_int_equal(chmod(p, mode), 0);
}

static void make_key(kedge_master_key_t *mk, uint8_t fill)
{
  memset(mk->key, fill, sizeof(mk->key));
}

static void test_round_trip(void **state)
{
  kedge_master_key_t mk;
  make_key(&mk, 0x42);
  const uint8_t secret[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const char aad[] =
      "0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@5gc.mnc001.mcc001.3gppnetwork.org";
  uint8_t sealed[32 + KEDGE_SEAL_OVERHEAD], sealed2[32 + KEDGE_SEAL_OVERHEAD], out[64];
  size_t sealed_len, sealed2_len, out_len;
  assert_int_equal(kedge_seal(&mk, aad, strlen(aad), secret, 32, sealed, &sealed_len), KEDGE_OK);
  assert_int_equal(sealed_len, 32 + KEDGE_SEAL_OVERHEAD);
  assert_memory_not_equal(sealed + 13, secret, 32);
  assert_int_equal(kedge_unseal(&mk, aad, strlen(aad), sealed, sealed_len, out, &out_len),
                   KEDGE_OK);
  assert_int_equal(out_len, 32);
  assert_memory_equal(out, secret, 32);
  /* a fresh nonce each time: the same secret never seals to the same octets */
  assert_int_equal(kedge_seal(&mk, aad, strlen(aad), secret, 32, sealed2, &sealed2_len), KEDGE_OK);
  assert_memory_not_equal(sealed, sealed2, sealed_len);

  /* every single flipped bit is detected */
  for (size_t i = 0; i < sealed_len; i++) {
    uint8_t bad[sizeof(sealed)];
    memcpy(bad, sealed, sealed_len);
    bad[i] ^= 0x01;
    kedge_err_t err = kedge_unseal(&mk, aad, strlen(aad), bad, sealed_len, out, &out_len);
    assert_true(err == KEDGE_ERR_MAC_FAILURE || (i == 0 && err == KEDGE_ERR_BAD_LENGTH));
  }
  /* other additional data (the record it was sealed for), other key, truncation */
  assert_int_equal(kedge_unseal(&mk, "x", 1, sealed, sealed_len, out, &out_len),
                   KEDGE_ERR_MAC_FAILURE);
  kedge_master_key_t other;
  make_key(&other, 0x43);
  assert_int_equal(kedge_unseal(&other, aad, strlen(aad), sealed, sealed_len, out, &out_len),
                   KEDGE_ERR_MAC_FAILURE);
  assert_int_equal(kedge_unseal(&mk, aad, strlen(aad), sealed, sealed_len - 1, out, &out_len),
                   KEDGE_ERR_MAC_FAILURE);
  assert_int_equal(kedge_unseal(&mk, aad, strlen(aad), sealed, 10, out, &out_len),
                   KEDGE_ERR_BAD_LENGTH);
  uint8_t big[KEDGE_SEAL_MAX_PLAINTEXT + 1] = {0};
  assert_int_equal(kedge_seal(&mk, NULL, 0, big, sizeof(big), sealed, &sealed_len),
                   KEDGE_ERR_INVALID_ARG);
}

/* The reusable unsealer (the key store's gets) gives kedge_unseal()'s answers value after
 * value, whatever failed before: a failed tag leaves no state behind for the next value. */
/* kedge_sealer: values sealed with one schedule open with kedge_unseal under their own
 * additional data only, each with a nonce of its own; another key's sealer does not open them. */
static void test_sealer(void **state)
{
  (void)state;
  kedge_master_key_t mk, other;
  make_key(&mk, 0x44);
  make_key(&other, 0x45);
  kedge_sealer_t *s = NULL;
  assert_int_equal(kedge_sealer_new(&mk, &s), KEDGE_OK);
  uint8_t secret[32], sealed[2][32 + KEDGE_SEAL_OVERHEAD], out[64];
  size_t sealed_len[2] = {0}, out_len = 0;
  memset(secret, 0x5c, sizeof(secret));
  for (int i = 0; i < 2; i++)
    assert_int_equal(kedge_sealer_seal(s, "1.a@x", 5, secret, 32, sealed[i], &sealed_len[i]),
                     KEDGE_OK);
  assert_int_equal(sealed_len[0], 32 + KEDGE_SEAL_OVERHEAD);
  assert_memory_not_equal(sealed[0], sealed[1], sealed_len[0]); /* a nonce per value */
  for (int i = 0; i < 2; i++) {
    assert_int_equal(kedge_unseal(&mk, "1.a@x", 5, sealed[i], sealed_len[i], out, &out_len),
                     KEDGE_OK);
    assert_int_equal(out_len, 32);
    assert_memory_equal(out, secret, 32);
    assert_int_equal(kedge_unseal(&mk, "2.b@x", 5, sealed[i], sealed_len[i], out, &out_len),
                     KEDGE_ERR_MAC_FAILURE);
    assert_int_equal(kedge_unseal(&other, "1.a@x", 5, sealed[i], sealed_len[i], out, &out_len),
                     KEDGE_ERR_MAC_FAILURE);
  }
  assert_int_equal(kedge_sealer_seal(s, NULL, 3, secret, 32, sealed[0], &sealed_len[0]),
                   KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_sealer_seal(NULL, "x", 1, secret, 32, sealed[0], &sealed_len[0]),
                   KEDGE_ERR_INVALID_ARG);
  kedge_sealer_free(s);
}

static void test_unsealer(void **state)
{
  (void)state;
  kedge_master_key_t mk, other;
  make_key(&mk, 0x42);
  make_key(&other, 0x43);
  const char *aads[] = {"1.a@x", "2.b@x", "3.c@x"};
  uint8_t secret[3][32], sealed[3][32 + KEDGE_SEAL_OVERHEAD], out[64];
  size_t sealed_len[3], out_len = 0;
  for (int i = 0; i < 3; i++) {
    memset(secret[i], 0x10 + i, 32);
    assert_int_equal(
        kedge_seal(&mk, aads[i], strlen(aads[i]), secret[i], 32, sealed[i], &sealed_len[i]),
        KEDGE_OK);
  }
  kedge_unsealer_t *u = NULL, *u_other = NULL;
  assert_int_equal(kedge_unsealer_new(&mk, &u), KEDGE_OK);
  assert_int_equal(kedge_unsealer_new(&other, &u_other), KEDGE_OK);
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 3; i++) {
      out_len = 0;
      assert_int_equal(
          kedge_unsealer_open(u, aads[i], strlen(aads[i]), sealed[i], sealed_len[i], out, &out_len),
          KEDGE_OK);
      assert_int_equal(out_len, 32);
      assert_memory_equal(out, secret[i], 32);
      /* another value's additional data, a flipped tag bit, another key: refused, and the
       * next value opens again */
      int j = (i + 1) % 3;
      assert_int_equal(
          kedge_unsealer_open(u, aads[j], strlen(aads[j]), sealed[i], sealed_len[i], out, &out_len),
          KEDGE_ERR_MAC_FAILURE);
      uint8_t bad[32 + KEDGE_SEAL_OVERHEAD];
      memcpy(bad, sealed[i], sealed_len[i]);
      bad[sealed_len[i] - 1] ^= 0x80;
      assert_int_equal(
          kedge_unsealer_open(u, aads[i], strlen(aads[i]), bad, sealed_len[i], out, &out_len),
          KEDGE_ERR_MAC_FAILURE);
      assert_int_equal(kedge_unsealer_open(u_other, aads[i], strlen(aads[i]), sealed[i],
                                           sealed_len[i], out, &out_len),
                       KEDGE_ERR_MAC_FAILURE);
    }
  }
  assert_int_equal(kedge_unsealer_open(u, aads[0], strlen(aads[0]), sealed[0], 10, out, &out_len),
                   KEDGE_ERR_BAD_LENGTH);
  assert_int_equal(
      kedge_unsealer_open(NULL, aads[0], strlen(aads[0]), sealed[0], sealed_len[0], out, &out_len),
      KEDGE_ERR_INVALID_ARG);
  kedge_unsealer_free(u);
  kedge_unsealer_free(u_other);
  kedge_unsealer_free(NULL);
}

static void test_master_key_files(void **state)
{
  kedge_master_key_t mk;
  char why[256];
  const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
  char line[80];
  snprintf(line, sizeof(line), "%s\n", hex);
  write_file("good", line, 0600);
  assert_int_equal(kedge_master_key_load(path_in_dir("good"), &mk, why, sizeof(why)), KEDGE_OK);
  assert_int_equal(mk.key[31], 0x1f);
  write_file("ro", hex, 0400);
  assert_int_equal(kedge_master_key_load(path_in_dir("ro"), &mk, why, sizeof(why)), KEDGE_OK);

  write_file("open", line, 0644);
  assert_int_equal(kedge_master_key_load(path_in_dir("open"), &mk, why, sizeof(why)),
                   KEDGE_ERR_CONFIG);
  assert_non_null(strstr(why, "chmod 600"));
  assert_non_null(strstr(why, path_in_dir("open")));
  assert_null(strstr(why, "0001020304")); /* never the key */

  write_file("short", "0011", 0600);
  assert_int_equal(kedge_master_key_load(path_in_dir("short"), &mk, why, sizeof(why)),
                   KEDGE_ERR_CONFIG);
  assert_non_null(strstr(why, "64 hex digits"));
  char bad[80];
  snprintf(bad, sizeof(bad), "%.63sg\n", hex);
  write_file("nothex", bad, 0600);
  assert_int_equal(kedge_master_key_load(path_in_dir("nothex"), &mk, why, sizeof(why)),
                   KEDGE_ERR_CONFIG);
  snprintf(bad, sizeof(bad), "%s\n\n", hex);
  write_file("twolines", bad, 0600);
  assert_int_equal(kedge_master_key_load(path_in_dir("twolines"), &mk, why, sizeof(why)),
                   KEDGE_ERR_CONFIG);
  assert_int_equal(kedge_master_key_load(path_in_dir("missing"), &mk, why, sizeof(why)),
                   KEDGE_ERR_IO);
  assert_non_null(strstr(why, "missing"));
  char target[128];
  snprintf(target, sizeof(target), "%s", path_in_dir("good"));
  assert_int_equal(symlink(target, path_in_dir("link")), 0);
  assert_int_equal(kedge_master_key_load(path_in_dir("link"), &mk, why, sizeof(why)), KEDGE_ERR_IO);
  assert_int_equal(kedge_master_key_load(dir, &mk, why, sizeof(why)) == KEDGE_OK, 0);
}

/* LoadCredential= (systemd.exec(5)): $CREDENTIALS_DIRECTORY/NAME wins over the configured
 * path's file of the same last component; without it, the configured path is read. */
static void test_master_key_credential(void **state)
{
  kedge_master_key_t mk;
  char why[256];
  char creds[128], configured[160];
  write_file("udm-master.key", "1111111111111111111111111111111111111111111111111111111111111111\n",
             0600);
  snprintf(configured, sizeof(configured), "%s", path_in_dir("udm-master.key"));
  snprintf(creds, sizeof(creds), "%s", path_in_dir("creds"));
  assert_int_equal(mkdir(creds, 0700), 0);
  write_file("creds/udm-master.key",
             "2222222222222222222222222222222222222222222222222222222222222222", 0400);

  assert_int_equal(setenv("CREDENTIALS_DIRECTORY", creds, 1), 0);
  assert_int_equal(kedge_master_key_load(configured, &mk, why, sizeof(why)), KEDGE_OK);
  assert_int_equal(mk.key[0], 0x22);
  /* no credential of that name: the configured file */
  write_file("other.key", "3333333333333333333333333333333333333333333333333333333333333333", 0600);
  assert_int_equal(kedge_master_key_load(path_in_dir("other.key"), &mk, why, sizeof(why)),
                   KEDGE_OK);
  assert_int_equal(mk.key[0], 0x33);
  /* a bad credential is refused, naming the credential's file */
  assert_int_equal(chmod(path_in_dir("creds/udm-master.key"), 0440), 0);
  assert_int_equal(kedge_master_key_load(configured, &mk, why, sizeof(why)), KEDGE_ERR_CONFIG);
  assert_non_null(strstr(why, "creds/udm-master.key"));
  assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
  assert_int_equal(kedge_master_key_load(configured, &mk, why, sizeof(why)), KEDGE_OK);
  assert_int_equal(mk.key[0], 0x11);
}

static void test_master_key_create(void **state)
{
  char why[256];
  kedge_master_key_t a, b;
  assert_int_equal(kedge_master_key_create(path_in_dir("new1"), why, sizeof(why)), KEDGE_OK);
  struct stat st;
  assert_int_equal(stat(path_in_dir("new1"), &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(kedge_master_key_load(path_in_dir("new1"), &a, why, sizeof(why)), KEDGE_OK);
  assert_int_equal(kedge_master_key_create(path_in_dir("new2"), why, sizeof(why)), KEDGE_OK);
  assert_int_equal(kedge_master_key_load(path_in_dir("new2"), &b, why, sizeof(why)), KEDGE_OK);
  assert_memory_not_equal(a.key, b.key, sizeof(a.key));
  /* never overwrites */
  assert_int_equal(kedge_master_key_create(path_in_dir("new1"), why, sizeof(why)), KEDGE_ERR_IO);
  kedge_master_key_t again;
  assert_int_equal(kedge_master_key_load(path_in_dir("new1"), &again, why, sizeof(why)), KEDGE_OK);
  assert_memory_equal(again.key, a.key, sizeof(a.key));
  kedge_master_key_clear(&again);
  uint8_t zero[KEDGE_MASTER_KEY_LEN] = {0};
  assert_memory_equal(again.key, zero, sizeof(zero));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_unsealer),
      cmocka_unit_test(test_sealer),
      cmocka_unit_test(test_master_key_files),
      cmocka_unit_test(test_master_key_credential),
      cmocka_unit_test(test_master_key_create),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
