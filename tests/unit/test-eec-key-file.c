/* kedge-eec's key files: 64 hex digits, owner-only permissions (0600/0400), regular file, no
 * symbolic link; refusals name the problem, never the contents. */
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

#include "eec.h"

static char dir[64];

static int setup(void **state)
{
  strcpy(dir, "/tmp/kedge-test-eec-XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  return system(cmd);
}

static const char *write_file(const char *name, const char *content, mode_t mode)
{
  static char path[128];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  unlink(path);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(content, f);
  fclose(f);
  assert_int_equal(chmod(path, mode), 0);
  return path;
}

static const char hex[] = "0578d6582676d2470df2d4400bcc64f658a4e05f9c656f8f0570517066d3251b";

static void good_files(void **state)
{
  uint8_t key[KEDGE_KEY_LEN];
  char why[256];
  const char *path = write_file("k1", hex, 0600);
  assert_int_equal(eec_key_file_read(path, key, why, sizeof(why)), KEDGE_OK);
  assert_int_equal(key[0], 0x05);
  assert_int_equal(key[31], 0x1b);
  char with_nl[80];
  snprintf(with_nl, sizeof(with_nl), "%s\n", hex);
  path = write_file("k2", with_nl, 0400);
  assert_int_equal(eec_key_file_read(path, key, why, sizeof(why)), KEDGE_OK);
}

static void bad_modes(void **state)
{
  uint8_t key[KEDGE_KEY_LEN];
  char why[256];
  mode_t modes[] = {0644, 0640, 0604, 0660, 0601};
  for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
    const char *path = write_file("k", hex, modes[i]);
    assert_int_equal(eec_key_file_read(path, key, why, sizeof(why)), KEDGE_ERR_FORBIDDEN);
    assert_non_null(strstr(why, "chmod 600"));
    assert_null(strstr(why, "0578d6")); /* never the contents */
  }
}

static void bad_contents(void **state)
{
  uint8_t key[KEDGE_KEY_LEN];
  char why[256];
  const char *contents[] = {"",
                            "0578",
                            "zz78d6582676d2470df2d4400bcc64f658a4e05f9c656f8f0570517066d3251b",
                            "0578d6582676d2470df2d4400bcc64f658a4e05f9c656f8f0570517066d3251b00",
                            "0578d6582676d2470df2d4400bcc64f658a4e05f9c656f8f0570517066d3251b\n\n",
                            " 0578d6582676d2470df2d4400bcc64f658a4e05f9c656f8f0570517066d3251"};
  for (size_t i = 0; i < sizeof(contents) / sizeof(contents[0]); i++) {
    const char *path = write_file("k", contents[i], 0600);
    if (eec_key_file_read(path, key, why, sizeof(why)) == KEDGE_OK)
      fail_msg("accepted content %zu", i);
    assert_non_null(strstr(why, "64 hex digits"));
  }
}

static void not_a_plain_file(void **state)
{
  uint8_t key[KEDGE_KEY_LEN];
  char why[256], link_path[160], missing[160];
  const char *path = write_file("target", hex, 0600);
  snprintf(link_path, sizeof(link_path), "%s/link", dir);
  assert_int_equal(symlink(path, link_path), 0);
  assert_int_equal(eec_key_file_read(link_path, key, why, sizeof(why)), KEDGE_ERR_IO);
  assert_int_equal(eec_key_file_read(dir, key, why, sizeof(why)), KEDGE_ERR_IO);
  snprintf(missing, sizeof(missing), "%s/none", dir);
  assert_int_equal(eec_key_file_read(missing, key, why, sizeof(why)), KEDGE_ERR_IO);
  assert_non_null(strstr(why, "No such file"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(good_files),
      cmocka_unit_test(bad_modes),
      cmocka_unit_test(bad_contents),
      cmocka_unit_test(not_a_plain_file),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
