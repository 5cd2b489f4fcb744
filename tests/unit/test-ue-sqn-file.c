/* The USIM's SQN file (daemons/ue/sqn_file.c): created with 0 when missing, 12 hex digits and a
 * newline, replaced atomically (no temporary file left behind), malformed content refused with
 * a line naming the file, I/O problems reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kedge/sqn.h"
#include "ue.h"

static char dir[64], path[128];

static int setup(void **state)
{
  strcpy(dir, "/tmp/kedge-test-ue-sqn-XXXXXX");
  if (!mkdtemp(dir))
    return -1;
  snprintf(path, sizeof(path), "%s/sqn", dir);
  return 0;
}

static int teardown(void **state)
{
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  return system(cmd);
}

static void write_file(const char *p, const char *content, size_t len)
{
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  assert_int_equal(fwrite(content, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

static size_t read_file(const char *p, char *buf, size_t size)
{
  FILE *f = fopen(p, "r");
  assert_non_null(f);
  size_t n = fread(buf, 1, size - 1, f);
  fclose(f);
  buf[n] = '\0';
  return n;
}

static int count_entries(const char *d)
{
  DIR *dh = opendir(d);
  assert_non_null(dh);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(dh)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      n++;
  closedir(dh);
  return n;
}

static void test_created_with_zero(void **state)
{
  uint64_t sqn = 99;
  char why[512] = "", buf[64];
  assert_int_equal(access(path, F_OK), -1);
  assert_int_equal(ue_sqn_load(path, &sqn, why, sizeof(why)), KEDGE_OK);
  assert_int_equal(sqn, 0);
  assert_int_equal(read_file(path, buf, sizeof(buf)), 13);
  assert_string_equal(buf, "000000000000\n");
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(count_entries(dir), 1);
}

static void test_store_and_load(void **state)
{
  char why[512] = "", buf[64];
  uint64_t sqn = 0;
  assert_int_equal(ue_sqn_store(path, 0x0000000a1b2cULL, why, sizeof(why)), KEDGE_OK);
  assert_int_equal(read_file(path, buf, sizeof(buf)), 13);
  assert_string_equal(buf, "0000000a1b2c\n");
  assert_int_equal(ue_sqn_load(path, &sqn, why, sizeof(why)), KEDGE_OK);
  assert_int_equal(sqn, 0xa1b2c);
  /* replaced, not appended; the largest 48-bit value fits */
  assert_int_equal(ue_sqn_store(path, KEDGE_SQN_MAX, why, sizeof(why)), KEDGE_OK);
  assert_int_equal(ue_sqn_load(path, &sqn, why, sizeof(why)), KEDGE_OK);
  assert_true(sqn == KEDGE_SQN_MAX);
  read_file(path, buf, sizeof(buf));
  assert_string_equal(buf, "ffffffffffff\n");
  assert_int_equal(count_entries(dir), 1); /* no temporary file left */
  /* beyond 48 bits is a programmer error, and the file keeps its value */
  assert_int_equal(ue_sqn_store(path, KEDGE_SQN_MAX + 1, why, sizeof(why)), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(ue_sqn_load(path, &sqn, why, sizeof(why)), KEDGE_OK);
  assert_true(sqn == KEDGE_SQN_MAX);
}

static void test_accepts_upper_case_and_no_newline(void **state)
{
  char why[512] = "";
  uint64_t sqn = 0;
  write_file(path, "00000000ABCD", 12);
  assert_int_equal(ue_sqn_load(path, &sqn, why, sizeof(why)), KEDGE_OK);
  assert_int_equal(sqn, 0xabcd);
}

static void test_rejects_malformed(void **state)
{
  static const char *const bad[] = {
      "",                 /* empty */
      "0\n",              /* too short */
      "00000000001",      /* 11 digits */
      "0000000000001\n",  /* 13 digits */
      "00000000000g\n",   /* not hex */
      "000000000000\n\n", /* two newlines */
      "000000000000 \n",  /* trailing space */
      " 000000000000\n",  /* leading space */
      "0x0000000001\n",   /* a prefix */
      "000000000000\r\n", /* CR */
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    write_file(path, bad[i], strlen(bad[i]));
    char why[512] = "";
    uint64_t sqn = 77;
    assert_int_equal(ue_sqn_load(path, &sqn, why, sizeof(why)), KEDGE_ERR_CONFIG);
    assert_int_equal(sqn, 77);
    assert_non_null(strstr(why, path));
    assert_non_null(strstr(why, "12 hex digits"));
    assert_null(strchr(why, '\n'));
  }
  /* A NUL inside, and a file far too long. */
  write_file(path,
             "000000\0"
             "00000\n",
             13);
  char why[512] = "";
  uint64_t sqn = 0;
  assert_int_equal(ue_sqn_load(path, &sqn, why, sizeof(why)), KEDGE_ERR_CONFIG);
  char big[200];
  memset(big, '0', sizeof(big));
  write_file(path, big, sizeof(big));
  assert_int_equal(ue_sqn_load(path, &sqn, why, sizeof(why)), KEDGE_ERR_CONFIG);
}

static void test_io_errors(void **state)
{
  char why[512] = "", p[200];
  uint64_t sqn = 0;
  /* a directory that does not exist: nothing can be created */
  snprintf(p, sizeof(p), "%s/missing/sqn", dir);
  assert_int_equal(ue_sqn_load(p, &sqn, why, sizeof(why)), KEDGE_ERR_IO);
  assert_non_null(strstr(why, p));
  assert_int_equal(ue_sqn_store(p, 1, why, sizeof(why)), KEDGE_ERR_IO);
  assert_non_null(strstr(why, p));
  /* a directory in place of the file */
  assert_int_equal(ue_sqn_load(dir, &sqn, why, sizeof(why)), KEDGE_ERR_IO);
  assert_non_null(strstr(why, "not a regular file"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_created_with_zero, setup, teardown),
      cmocka_unit_test_setup_teardown(test_store_and_load, setup, teardown),
      cmocka_unit_test_setup_teardown(test_accepts_upper_case_and_no_newline, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rejects_malformed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_io_errors, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
