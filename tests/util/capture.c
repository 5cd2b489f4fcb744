#include "capture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

static FILE *capture_file;
static int saved_stderr = -1;

void capture_start(void)
{
  capture_file = tmpfile();
  assert_non_null(capture_file);
  fflush(stderr);
  saved_stderr = dup(STDERR_FILENO);
  assert_true(saved_stderr >= 0);
  assert_true(dup2(fileno(capture_file), STDERR_FILENO) >= 0);
}

char *capture_end(void)
{
  fflush(stderr);
  assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
  close(saved_stderr);
  saved_stderr = -1;
  /* The writes went through fd 2, which shares the file's offset: find the end. */
  fseek(capture_file, 0, SEEK_END);
  long size = ftell(capture_file);
  assert_true(size >= 0);
  char *buf = malloc((size_t)size + 1);
  assert_non_null(buf);
  rewind(capture_file);
  size_t got = fread(buf, 1, (size_t)size, capture_file);
  assert_int_equal(got, (size_t)size);
  buf[size] = '\0';
  fclose(capture_file);
  capture_file = NULL;
  return buf;
}
