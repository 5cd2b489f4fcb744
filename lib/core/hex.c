#include "kedge/hex.h"

#include <string.h>

static int nibble(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

kedge_err_t kedge_hex_decode_var(const char *hex, uint8_t *out, size_t max, size_t *len)
{
  if (!hex || !out || !len)
    return KEDGE_ERR_INVALID_ARG;
  size_t n = strlen(hex);
  if (n % 2)
    return KEDGE_ERR_BAD_HEX;
  for (size_t i = 0; i < n; i++)
    if (nibble(hex[i]) < 0)
      return KEDGE_ERR_BAD_HEX;
  if (n / 2 > max)
    return KEDGE_ERR_BAD_LENGTH;
  for (size_t i = 0; i < n / 2; i++)
    out[i] = (uint8_t)(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  *len = n / 2;
  return KEDGE_OK;
}

kedge_err_t kedge_hex_decode(const char *hex, uint8_t *out, size_t len)
{
  if (!hex || !out)
    return KEDGE_ERR_INVALID_ARG;
  size_t n = strlen(hex);
  if (n % 2 == 0 && n / 2 != len) {
    for (size_t i = 0; i < n; i++) /* a bad digit is the clearer complaint */
      if (nibble(hex[i]) < 0)
        return KEDGE_ERR_BAD_HEX;
    return KEDGE_ERR_BAD_LENGTH;
  }
  size_t got;
  return kedge_hex_decode_var(hex, out, len, &got);
}

void kedge_hex_encode(const uint8_t *in, size_t len, char *out)
{
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 0x0f];
  }
  out[2 * len] = '\0';
}
