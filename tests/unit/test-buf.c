/* lib/core buf.c: the one bounded buffer that replaced the three hand-grown ones in lib/sbi
 * (h2.c's output and request bodies, client.c's response bodies). Pinned: the maximum reached
 * exactly is fine, one octet past it is KEDGE_ERR_TOO_BIG and changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kedge/buf.h"

static void append_and_grow(void **state)
{
  (void)state;
  kedge_buf_t b;
  kedge_buf_init(&b, 1 << 20);
  assert_null(b.data);
  uint8_t chunk[700];
  for (size_t i = 0; i < sizeof(chunk); i++)
    chunk[i] = (uint8_t)i;
  for (int i = 0; i < 10; i++) /* 7000 octets: several blocks */
    assert_int_equal(kedge_buf_add(&b, chunk, sizeof(chunk)), KEDGE_OK);
  assert_int_equal(b.len, 7000);
  assert_true(b.cap >= b.len);
  for (size_t i = 0; i < b.len; i++)
    if (b.data[i] != (uint8_t)(i % sizeof(chunk)))
      fail_msg("octet %zu lost in a grow", i);
  kedge_buf_clear(&b);
  assert_int_equal(b.len, 0);
  assert_non_null(b.data); /* the block is kept */
  assert_int_equal(kedge_buf_add(&b, "x", 1), KEDGE_OK);
  assert_int_equal(b.data[0], 'x');
  kedge_buf_free(&b);
  assert_null(b.data);
  assert_int_equal(b.len + b.cap, 0);
  kedge_buf_free(&b); /* twice: nothing */
}

/* kedge_buf_free wipes only len octets (issue 17): that is enough because a clear wipes what it
 * gives back, so a shorter refill leaves nothing of the longer content past len. */
static void nothing_left_past_len(void **state)
{
  (void)state;
  kedge_buf_t b;
  kedge_buf_init(&b, 1 << 20);
  uint8_t secret[700];
  memset(secret, 0xa5, sizeof(secret));
  assert_int_equal(kedge_buf_add(&b, secret, sizeof(secret)), KEDGE_OK);
  kedge_buf_clear(&b);
  assert_int_equal(kedge_buf_add(&b, "x", 1), KEDGE_OK);
  for (size_t i = b.len; i < sizeof(secret); i++)
    if (b.data[i] == 0xa5)
      fail_msg("octet %zu of the cleared content is still in the block past len", i);
  kedge_buf_free(&b);
}

static void maximum_exactly_reached(void **state)
{
  (void)state;
  kedge_buf_t b;
  kedge_buf_init(&b, 3000); /* not a power of two: the last block is cut to the maximum */
  uint8_t big[3000];
  memset(big, 0xa5, sizeof(big));
  assert_int_equal(kedge_buf_add(&b, big, 1500), KEDGE_OK);
  assert_int_equal(kedge_buf_add(&b, big, 1500), KEDGE_OK);
  assert_int_equal(b.len, 3000);
  assert_int_equal(b.cap, 3000);
  assert_int_equal(kedge_buf_add(&b, big, 0), KEDGE_OK); /* nothing more is still fine */
  kedge_buf_free(&b);
}

static void maximum_exceeded(void **state)
{
  (void)state;
  kedge_buf_t b;
  kedge_buf_init(&b, 100);
  uint8_t data[101];
  memset(data, 'a', sizeof(data));
  assert_int_equal(kedge_buf_add(&b, data, 101), KEDGE_ERR_TOO_BIG);
  assert_null(b.data);
  assert_int_equal(kedge_buf_add(&b, data, 60), KEDGE_OK);
  assert_int_equal(kedge_buf_add(&b, data, 41), KEDGE_ERR_TOO_BIG);
  assert_int_equal(b.len, 60);                                            /* unchanged */
  assert_int_equal(kedge_buf_add(&b, data, SIZE_MAX), KEDGE_ERR_TOO_BIG); /* no overflow */
  assert_int_equal(kedge_buf_add(&b, data, 40), KEDGE_OK);
  assert_int_equal(b.len, 100);
  assert_int_equal(kedge_buf_add(&b, data, 1), KEDGE_ERR_TOO_BIG);
  assert_int_equal(kedge_buf_add(&b, NULL, 1), KEDGE_ERR_INVALID_ARG);
  kedge_buf_free(&b);

  kedge_buf_init(&b, 0); /* a zero maximum holds nothing */
  assert_int_equal(kedge_buf_add(&b, data, 1), KEDGE_ERR_TOO_BIG);
  assert_int_equal(kedge_buf_add(&b, data, 0), KEDGE_OK);
  kedge_buf_free(&b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(append_and_grow),
      cmocka_unit_test(nothing_left_past_len),
      cmocka_unit_test(maximum_exactly_reached),
      cmocka_unit_test(maximum_exceeded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
