/* lib/core base64url.c and hex.c: the one base64url codec (it replaced the NEF's JWT decoder
 * and lib/crypto's TID translation) and the one hex codec (it replaced lib/sbi/router.c's nibble
 * decoder). Known answers from RFC 4648 10, and the edge cases the copies disagreed on:
 * padding, '+' and '/', pad bits, odd hex length, upper-case hex. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kedge/base64url.h"
#include "kedge/hex.h"

/* RFC 4648 10, padding dropped (section 5 allows it, JWS requires it). */
static const struct {
  const char *raw, *enc;
} rfc4648[] = {{"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
               {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};

static void known_answers(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
    char enc[16];
    size_t n = 99;
    size_t rl = strlen(rfc4648[i].raw);
    assert_int_equal(kedge_b64url_encode((const uint8_t *)rfc4648[i].raw, rl, enc, sizeof(enc), &n),
                     KEDGE_OK);
    assert_string_equal(enc, rfc4648[i].enc);
    assert_int_equal(n, KEDGE_B64URL_LEN(rl));
    uint8_t raw[16];
    assert_int_equal(
        kedge_b64url_decode(rfc4648[i].enc, strlen(rfc4648[i].enc), raw, sizeof(raw), &n),
        KEDGE_OK);
    assert_int_equal(n, rl);
    assert_memory_equal(raw, rfc4648[i].raw, rl);
  }
  /* the URL-safe characters: 0xfb 0xff -> "-_8" */
  const uint8_t fbff[] = {0xfb, 0xff};
  char enc[8];
  assert_int_equal(kedge_b64url_encode(fbff, 2, enc, sizeof(enc), NULL), KEDGE_OK);
  assert_string_equal(enc, "-_8");
}

static void long_input_round_trip(void **state)
{
  (void)state;
  /* past the codec's internal chunk, with every remainder */
  for (size_t len = 180; len < 200; len++) {
    uint8_t raw[1000], back[1000];
    char enc[1400];
    for (size_t i = 0; i < len * 4; i++)
      raw[i % sizeof(raw)] = (uint8_t)(i * 37 + len);
    size_t big = len * 4, n;
    assert_int_equal(kedge_b64url_encode(raw, big, enc, sizeof(enc), &n), KEDGE_OK);
    assert_int_equal(n, KEDGE_B64URL_LEN(big));
    assert_int_equal(strlen(enc), n);
    assert_null(strpbrk(enc, "+/="));
    size_t got;
    assert_int_equal(kedge_b64url_decode(enc, n, back, sizeof(back), &got), KEDGE_OK);
    assert_int_equal(got, big);
    assert_memory_equal(back, raw, big);
  }
}

static void bad_base64url(void **state)
{
  (void)state;
  uint8_t out[16];
  size_t n = 7;
  assert_int_equal(kedge_b64url_decode("+/8", 3, out, sizeof(out), &n), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(n, 0);
  assert_int_equal(kedge_b64url_decode("Zg==", 4, out, sizeof(out), &n), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_b64url_decode("Zg=", 3, out, sizeof(out), &n), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_b64url_decode("Z", 1, out, sizeof(out), &n), KEDGE_ERR_BAD_LENGTH);
  assert_int_equal(kedge_b64url_decode("Zm9vY", 5, out, sizeof(out), &n), KEDGE_ERR_BAD_LENGTH);
  /* non-zero unused bits: "Zh" would be 'f' with a stray bit, "Zm9" "fo" likewise */
  assert_int_equal(kedge_b64url_decode("Zh", 2, out, sizeof(out), &n), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_b64url_decode("Zm9", 3, out, sizeof(out), &n), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_b64url_decode("Zm 9v", 5, out, sizeof(out), &n), KEDGE_ERR_BAD_LENGTH);
  assert_int_equal(kedge_b64url_decode("Zm 9", 4, out, sizeof(out), &n), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_b64url_decode("Zm\0v", 4, out, sizeof(out), &n), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_b64url_decode("Zm9vYmFy", 8, out, 5, &n), KEDGE_ERR_BAD_LENGTH);
  assert_int_equal(kedge_b64url_decode("Zm9vYmFy", 8, out, 6, &n), KEDGE_OK); /* exactly */
  assert_int_equal(n, 6);
  char small[4];
  assert_int_equal(kedge_b64url_encode((const uint8_t *)"foo", 3, small, sizeof(small), NULL),
                   KEDGE_ERR_BAD_LENGTH); /* 4 characters need 5 with the NUL */
}

static void hex_edges(void **state)
{
  (void)state;
  uint8_t out[4];
  size_t n;
  assert_int_equal(kedge_hex_decode("0aFf", out, 2), KEDGE_OK); /* upper case accepted */
  assert_int_equal(out[0], 0x0a);
  assert_int_equal(out[1], 0xff);
  char enc[5];
  kedge_hex_encode(out, 2, enc);
  assert_string_equal(enc, "0aff");                                     /* written in lower case */
  assert_int_equal(kedge_hex_decode("abc", out, 2), KEDGE_ERR_BAD_HEX); /* odd length */
  assert_int_equal(kedge_hex_decode_var("abc", out, 4, &n), KEDGE_ERR_BAD_HEX);
  assert_int_equal(kedge_hex_decode("0g", out, 1), KEDGE_ERR_BAD_HEX);
  assert_int_equal(kedge_hex_decode("00112233", out, 2), KEDGE_ERR_BAD_LENGTH);
  assert_int_equal(kedge_hex_decode("0x11", out, 2), KEDGE_ERR_BAD_HEX);
  assert_int_equal(kedge_hex_decode_var("0011223344", out, 4, &n), KEDGE_ERR_BAD_LENGTH);
  assert_int_equal(kedge_hex_decode_var("", out, 4, &n), KEDGE_OK);
  assert_int_equal(n, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(known_answers),
      cmocka_unit_test(long_input_round_trip),
      cmocka_unit_test(bad_base64url),
      cmocka_unit_test(hex_edges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
