/* libFuzzer target: the OAuth 2.0 parsers (lib/sbi/jwt.c, kedge/jwt.h): JWK Sets, compact JWS
 * tokens, JOSE headers and, through tokens signed here with a key of the set, the claims.
 * The first input octet picks what the rest is:
 *   0  a JWK Set (JSON text)
 *   1  a whole token
 *   2  a JOSE header (JSON), put into a token with a fixed payload and signature
 *   3  a claims set (JSON), signed ES256 here so that the claim checks run
 * Invariants: no crash or leak; a token not signed by a key of the set never verifies; a
 * base64url string that decodes is the one canonical spelling of its octets.
 * Fuzz targets named fuzz-<nf>-*.c link that daemon's <nf>_core. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "kedge/base64url.h"
#include "kedge/jwt.h"

static EVP_PKEY *key;
static kedge_jwks_t *set;
static const kedge_jwt_policy_t policy = {
    .audience = "nef.kedge.test", .scope = "3gpp-kedge", .issuer = "as", .leeway_s = 30};

static size_t b64url_encode(const uint8_t *in, size_t len, char *out)
{
  int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
  while (n > 0 && out[n - 1] == '=')
    n--;
  for (int i = 0; i < n; i++)
    out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
  out[n] = '\0';
  return (size_t)n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  key = EVP_EC_gen("P-256");
  BIGNUM *x = NULL, *y = NULL;
  uint8_t bx[32], by[32];
  char ex[64], ey[64], text[256];
  if (!key || !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
      !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) || BN_bn2binpad(x, bx, 32) != 32 ||
      BN_bn2binpad(y, by, 32) != 32)
    abort();
  BN_free(x);
  BN_free(y);
  b64url_encode(bx, 32, ex);
  b64url_encode(by, 32, ey);
  snprintf(text, sizeof(text),
           "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}", ex, ey);
  if (kedge_jwks_parse(text, strlen(text), &set, NULL) != KEDGE_OK)
    abort();
  return 0;
}

static void check_b64url(const uint8_t *data, size_t size)
{
  uint8_t *out = malloc(size + 1);
  size_t n = 0;
  if (kedge_b64url_decode((const char *)data, size, out, size, &n) == KEDGE_OK) {
    char *back = malloc(size + 8);
    if (b64url_encode(out, n, back) != size || memcmp(back, data, size) != 0)
      abort(); /* one value, one spelling */
    free(back);
  }
  free(out);
}

/* header and payload (raw JSON) into a token; signed with `key` when sign, else a dummy. */
static char *make_token(const uint8_t *h, size_t hl, const uint8_t *p, size_t pl, bool sign)
{
  char *tok = malloc(2 * (hl + pl) + 256);
  size_t n = b64url_encode(h, hl, tok);
  tok[n++] = '.';
  n += b64url_encode(p, pl, tok + n);
  uint8_t sig[64] = {0};
  if (sign) {
    uint8_t der[128];
    size_t der_len = sizeof(der);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key, NULL) != 1 ||
        EVP_DigestSign(md, der, &der_len, (const uint8_t *)tok, n) != 1)
      abort();
    EVP_MD_CTX_free(md);
    const uint8_t *d = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &d, (long)der_len);
    if (!s)
      abort();
    BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + 32, 32);
    ECDSA_SIG_free(s);
  }
  tok[n++] = '.';
  b64url_encode(sig, sizeof(sig), tok + n);
  return tok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  int mode = data[0] % 4;
  data++;
  size--;
  check_b64url(data, size);
  kedge_jwt_status_t st;
  switch (mode) {
  case 0: {
    kedge_jwks_t *s = NULL;
    const char *why = NULL;
    kedge_err_t err = kedge_jwks_parse((const char *)data, size, &s, &why);
    if (err == KEDGE_OK
            ? (!s || kedge_jwks_count(s) == 0 || kedge_jwks_count(s) > KEDGE_JWKS_MAX_KEYS)
            : (s != NULL || why == NULL))
      abort();
    kedge_jwks_free(s);
    break;
  }
  case 1:
    /* the fuzzer does not hold the private key: nothing it writes may verify */
    if (kedge_jwt_verify(set, (const char *)data, size, &policy, 1700000000, &st) == KEDGE_OK)
      abort();
    break;
  case 2: {
    static const char payload[] = "{\"aud\":\"nef.kedge.test\",\"exp\":1800000000}";
    char *tok = make_token(data, size, (const uint8_t *)payload, strlen(payload), false);
    if (kedge_jwt_verify(set, tok, strlen(tok), &policy, 1700000000, &st) == KEDGE_OK)
      abort();
    free(tok);
    break;
  }
  case 3: {
    static const char header[] = "{\"alg\":\"ES256\"}";
    char *tok = make_token((const uint8_t *)header, strlen(header), data, size, true);
    kedge_err_t err = kedge_jwt_verify(set, tok, strlen(tok), &policy, 1700000000, &st);
    if (err == KEDGE_OK && st != KEDGE_JWT_VALID)
      abort();
    /* a token too long to be read is never a signature failure of ours */
    if (strlen(tok) <= KEDGE_JWT_MAX_SIZE && st == KEDGE_JWT_BAD_SIGNATURE)
      abort();
    free(tok);
    break;
  }
  }
  return 0;
}
