/* base64url without padding around OpenSSL's base64 (kedge/base64url.h). */
#include "kedge/base64url.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* Characters translated per call into OpenSSL: a multiple of 4, so only the last call pads. */
#define CHUNK 256

static int value(unsigned char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

kedge_err_t kedge_b64url_encode(const uint8_t *in, size_t len, char *out, size_t out_size,
                                size_t *out_len)
{
  if ((!in && len) || !out)
    return KEDGE_ERR_INVALID_ARG;
  size_t n = KEDGE_B64URL_LEN(len);
  if (len > (SIZE_MAX - 4) / 4 * 3 || out_size < n + 1)
    return KEDGE_ERR_BAD_LENGTH;
  size_t o = 0;
  for (size_t i = 0; i < len; i += CHUNK / 4 * 3) {
    size_t part = len - i < CHUNK / 4 * 3 ? len - i : CHUNK / 4 * 3;
    unsigned char b64[CHUNK + 1];
    int w = EVP_EncodeBlock(b64, in + i, (int)part);
    for (int k = 0; k < w && b64[k] != '='; k++)
      out[o++] = b64[k] == '+' ? '-' : b64[k] == '/' ? '_' : (char)b64[k];
  }
  out[o] = '\0';
  if (out_len)
    *out_len = o;
  return KEDGE_OK;
}

kedge_err_t kedge_b64url_decode(const char *in, size_t len, uint8_t *out, size_t max,
                                size_t *out_len)
{
  if ((!in && len) || !out_len || (!out && max))
    return KEDGE_ERR_INVALID_ARG;
  *out_len = 0;
  /* RFC 4648 5: 4 characters carry 3 octets; a remainder of 1 character is impossible. */
  if (len % 4 == 1)
    return KEDGE_ERR_BAD_LENGTH;
  size_t decoded = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
  if (decoded > max)
    return KEDGE_ERR_BAD_LENGTH;
  /* The unused low bits of the last character must be zero (RFC 4648 3.5: canonical). */
  if (len % 4) {
    int last = value((unsigned char)in[len - 1]);
    if (last < 0 || (len % 4 == 2 && (last & 0x0f)) || (len % 4 == 3 && (last & 0x03)))
      return KEDGE_ERR_INVALID_ARG;
  }
  kedge_err_t err = KEDGE_OK;
  size_t o = 0, used = 0;
  unsigned char raw[CHUNK / 4 * 3];
  for (size_t i = 0; i < len && !err; i += CHUNK) {
    size_t part = len - i < CHUNK ? len - i : CHUNK;
    size_t padded = (part + 3) / 4 * 4;
    unsigned char b64[CHUNK];
    /* checked and translated in one pass (the Kedge ID's TID once per key request) */
    for (size_t k = 0; k < part && !err; k++) {
      unsigned char c = (unsigned char)in[i + k];
      if (value(c) < 0)
        err = KEDGE_ERR_INVALID_ARG;
      b64[k] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    if (err)
      break;
    for (size_t k = part; k < padded; k++)
      b64[k] = '=';
    /* EVP_DecodeBlock counts padding as zero octets: the real count is the part's share. */
    size_t got = part / 4 * 3 + (part % 4 ? part % 4 - 1 : 0);
    used = padded / 4 * 3 > used ? padded / 4 * 3 : used;
    if (EVP_DecodeBlock(raw, b64, (int)padded) != (int)(padded / 4 * 3))
      err = KEDGE_ERR_INVALID_ARG;
    else
      memcpy(out + o, raw, got);
    o += got;
  }
  OPENSSL_cleanse(raw, used); /* what EVP_DecodeBlock wrote */
  if (err) {
    OPENSSL_cleanse(out, max);
    return err;
  }
  *out_len = decoded;
  return KEDGE_OK;
}
