/* The OAuth 2.0 token verifier (lib/sbi/jwt.c, kedge/jwt.h): strict base64url (RFC 4648 5 test
 * vectors and rejections), JWK Set parsing (EC P-256 and RSA keys, refusal of off-curve
 * points, short RSA moduli, unusable sets), the RFC 7515 A.3 ES256 example as a known answer,
 * and tokens minted here with OpenSSL (ES256 and RS256) against every claim rule: exp, nbf,
 * aud, iss, scope, kid, alg (none, HS256), crit, duplicate members, tampering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "kedge/base64url.h"
#include "kedge/jwt.h"

#define NOW 1700000000

/* ---- helpers: base64url, keys, JWK Sets and tokens made with OpenSSL ---- */

static void b64url(const uint8_t *in, size_t len, char *out)
{
  int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
  while (n > 0 && out[n - 1] == '=')
    n--;
  out[n] = '\0';
  for (char *p = out; *p; p++)
    *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
}

static void b64url_str(const char *s, char *out)
{
  b64url((const uint8_t *)s, strlen(s), out);
}

static EVP_PKEY *ec_keygen(void)
{
  EVP_PKEY *k = EVP_EC_gen("P-256");
  assert_non_null(k);
  return k;
}

static EVP_PKEY *rsa_keygen(unsigned bits)
{
  EVP_PKEY *k = EVP_RSA_gen(bits);
  assert_non_null(k);
  return k;
}

static void bn_param_b64(const EVP_PKEY *k, const char *name, size_t pad, char *out)
{
  BIGNUM *bn = NULL;
  uint8_t buf[1024];
  assert_int_equal(EVP_PKEY_get_bn_param(k, name, &bn), 1);
  int n = pad ? BN_bn2binpad(bn, buf, (int)pad) : BN_bn2bin(bn, buf);
  assert_true(n > 0);
  b64url(buf, (size_t)n, out);
  BN_free(bn);
}

/* One JWK (public part) for `k`, with optional kid and extra members. */
static void jwk_of(const EVP_PKEY *k, const char *kid, const char *extra, char *out, size_t size)
{
  char a[1500], b[1500], kid_member[300] = "";
  if (kid)
    snprintf(kid_member, sizeof(kid_member), ",\"kid\":\"%s\"", kid);
  if (EVP_PKEY_is_a(k, "EC")) {
    bn_param_b64(k, OSSL_PKEY_PARAM_EC_PUB_X, 32, a);
    bn_param_b64(k, OSSL_PKEY_PARAM_EC_PUB_Y, 32, b);
    int n = snprintf(out, size, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"%s%s}",
                     a, b, kid_member, extra ? extra : "");
    assert_true(n > 0 && (size_t)n < size);
  } else {
    bn_param_b64(k, OSSL_PKEY_PARAM_RSA_N, 0, a);
    bn_param_b64(k, OSSL_PKEY_PARAM_RSA_E, 0, b);
    int n = snprintf(out, size, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s%s}", a, b, kid_member,
                     extra ? extra : "");
    assert_true(n > 0 && (size_t)n < size);
  }
}

static kedge_jwks_t *jwks_from(const char *text)
{
  kedge_jwks_t *set = NULL;
  const char *why = NULL;
  kedge_err_t err = kedge_jwks_parse(text, strlen(text), &set, &why);
  if (err)
    fprintf(stderr, "jwks: %s\n", why ? why : "?");
  assert_int_equal(err, KEDGE_OK);
  return set;
}

/* header.payload signed with `k` (ES256 for EC keys, RS256 for RSA) into out. */
static void sign_token(EVP_PKEY *k, const char *header, const char *payload, char *out, size_t size)
{
  char h[1024], p[2048];
  b64url_str(header, h);
  b64url_str(payload, p);
  snprintf(out, size, "%s.%s", h, p);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  uint8_t sig[1024], raw[64];
  size_t sig_len = sizeof(sig);
  assert_int_equal(EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, k, NULL), 1);
  assert_int_equal(EVP_DigestSign(md, sig, &sig_len, (const uint8_t *)out, strlen(out)), 1);
  EVP_MD_CTX_free(md);
  const uint8_t *s = sig;
  if (EVP_PKEY_is_a(k, "EC")) {
    /* RFC 7518 3.4: R || S, each 32 octets */
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &s, (long)sig_len);
    assert_non_null(es);
    BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
    ECDSA_SIG_free(es);
    memcpy(sig, raw, 64);
    sig_len = 64;
  }
  char sb[1500];
  b64url(sig, sig_len, sb);
  size_t used = strlen(out);
  snprintf(out + used, size - used, ".%s", sb);
}

static const kedge_jwt_policy_t policy = {
    .audience = "nef.kedge.test", .scope = "3gpp-kedge", .issuer = NULL, .leeway_s = 0};

static kedge_jwt_status_t verify(const kedge_jwks_t *set, const char *token,
                                 const kedge_jwt_policy_t *pol)
{
  kedge_jwt_status_t st = KEDGE_JWT_VALID;
  kedge_err_t err = kedge_jwt_verify(set, token, strlen(token), pol, NOW, &st);
  assert_true(err == KEDGE_OK || err == KEDGE_ERR_FORBIDDEN);
  assert_int_equal(err == KEDGE_OK, st == KEDGE_JWT_VALID);
  return st;
}

static const char good_claims[] =
    "{\"iss\":\"as.kedge.test\",\"sub\":\"af.kedge.test\",\"aud\":\"nef.kedge.test\","
    "\"exp\":1700000600,\"nbf\":1699999000,\"scope\":\"3gpp-kedge\"}";

/* ---- base64url ---- */

static void test_b64url(void **state)
{
  /* RFC 4648 10 test vectors, in the URL-safe alphabet without padding */
  static const struct {
    const char *enc, *dec;
  } v[] = {
      {"", ""},           {"Zg", "f"},          {"Zm8", "fo"},          {"Zm9v", "foo"},
      {"Zm9vYg", "foob"}, {"Zm9vYmE", "fooba"}, {"Zm9vYmFy", "foobar"},
  };
  uint8_t out[16];
  size_t n;
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    assert_int_equal(kedge_b64url_decode(v[i].enc, strlen(v[i].enc), out, sizeof(out), &n),
                     KEDGE_OK);
    assert_int_equal(n, strlen(v[i].dec));
    assert_memory_equal(out, v[i].dec, n);
  }
  /* 0xfb 0xff: '+' and '/' of the standard alphabet are '-' and '_' here */
  assert_int_equal(kedge_b64url_decode("-_8", 3, out, sizeof(out), &n), KEDGE_OK);
  assert_int_equal(n, 2);
  assert_int_equal(out[0], 0xfb);
  assert_int_equal(out[1], 0xff);
  assert_int_not_equal(kedge_b64url_decode("+/8", 3, out, sizeof(out), &n), KEDGE_OK);
  assert_int_not_equal(kedge_b64url_decode("Zg==", 4, out, sizeof(out), &n), KEDGE_OK);
  assert_int_not_equal(kedge_b64url_decode("Z", 1, out, sizeof(out), &n), KEDGE_OK);
  assert_int_not_equal(kedge_b64url_decode("Zh", 2, out, sizeof(out), &n), KEDGE_OK); /* pad bits */
  assert_int_not_equal(kedge_b64url_decode("Zm9", 3, out, sizeof(out), &n), KEDGE_OK);
  assert_int_not_equal(kedge_b64url_decode("Zm 9v", 5, out, sizeof(out), &n), KEDGE_OK);
  assert_int_not_equal(kedge_b64url_decode("Zm\0v", 4, out, sizeof(out), &n), KEDGE_OK);
  assert_int_equal(kedge_b64url_decode("Zm9vYmFy", 8, out, 5, &n), KEDGE_ERR_BAD_LENGTH);
}

/* ---- JWK Sets ---- */

/* RFC 7515 A.3: the ES256 example key and JWS. */
static const char rfc_jwk[] = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
                              "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                              "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";
static const char rfc_jws[] =
    "eyJhbGciOiJFUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290"
    "Ijp0cnVlfQ"
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

static void test_rfc7515_a3(void **state)
{
  kedge_jwks_t *set = jwks_from(rfc_jwk);
  assert_int_equal(kedge_jwks_count(set), 1);
  kedge_jwt_status_t st;
  kedge_jwt_policy_t pol = {.audience = "x", .scope = NULL};
  /* The signature verifies: the token then fails on the claims, not on the signature. It has
   * no "aud", so it is not for us; a second after its exp it has expired. */
  assert_int_equal(kedge_jwt_verify(set, rfc_jws, strlen(rfc_jws), &pol, 1300819379, &st),
                   KEDGE_ERR_FORBIDDEN);
  assert_int_equal(st, KEDGE_JWT_WRONG_AUDIENCE);
  assert_int_equal(kedge_jwt_verify(set, rfc_jws, strlen(rfc_jws), &pol, 1300819380, &st),
                   KEDGE_ERR_FORBIDDEN);
  assert_int_equal(st, KEDGE_JWT_EXPIRED);
  /* One bit of the signature or of the payload changed: bad signature. */
  char bad[sizeof(rfc_jws)];
  memcpy(bad, rfc_jws, sizeof(rfc_jws));
  bad[sizeof(rfc_jws) - 3] = bad[sizeof(rfc_jws) - 3] == 'N' ? 'M' : 'N';
  assert_int_equal(kedge_jwt_verify(set, bad, strlen(bad), &pol, 1300819379, &st),
                   KEDGE_ERR_FORBIDDEN);
  assert_int_equal(st, KEDGE_JWT_BAD_SIGNATURE);
  memcpy(bad, rfc_jws, sizeof(rfc_jws));
  bad[30] = bad[30] == 'a' ? 'b' : 'a';
  assert_int_equal(kedge_jwt_verify(set, bad, strlen(bad), &pol, 1300819379, &st),
                   KEDGE_ERR_FORBIDDEN);
  assert_int_equal(st, KEDGE_JWT_BAD_SIGNATURE);
  kedge_jwks_free(set);
}

static void expect_jwks_error(const char *text, kedge_err_t want)
{
  kedge_jwks_t *set = (kedge_jwks_t *)1;
  const char *why = NULL;
  assert_int_equal(kedge_jwks_parse(text, strlen(text), &set, &why), want);
  assert_null(set);
  assert_non_null(why);
}

static void test_jwks_rejects(void **state)
{
  expect_jwks_error("", KEDGE_ERR_CONFIG);
  expect_jwks_error("[]", KEDGE_ERR_CONFIG);
  expect_jwks_error("{\"keys\":{}}", KEDGE_ERR_CONFIG);
  expect_jwks_error("{\"keys\":[]}", KEDGE_ERR_CONFIG);
  expect_jwks_error("{\"keys\":[1]}", KEDGE_ERR_CONFIG);
  expect_jwks_error("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"}]}", KEDGE_ERR_CONFIG);
  expect_jwks_error("{\"keys\":[],\"keys\":[]}", KEDGE_ERR_CONFIG); /* duplicate member */
  /* P-384, a short coordinate, a point off the curve (y of the RFC key changed) */
  expect_jwks_error("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-384\","
                    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}",
                    KEDGE_ERR_CONFIG);
  expect_jwks_error("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\","
                    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}",
                    KEDGE_ERR_CONFIG);
  const char off_curve[] = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
                           "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                           "\"y\":\"x_FFzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";
  expect_jwks_error(off_curve, KEDGE_ERR_CONFIG);
  kedge_jwks_t *off = NULL;
  const char *off_why = NULL;
  kedge_jwks_parse(off_curve, strlen(off_curve), &off, &off_why);
  assert_non_null(strstr(off_why, "not a point on P-256"));
  /* y with non-zero pad bits in its last character: not canonical base64url */
  expect_jwks_error("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
                    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a1\"}]}",
                    KEDGE_ERR_CONFIG);
  /* an RSA key of 1024 bits (RFC 7518 3.3 wants 2048 or more) */
  EVP_PKEY *small = rsa_keygen(1024);
  char jwk[3000], text[3200];
  jwk_of(small, NULL, NULL, jwk, sizeof(jwk));
  snprintf(text, sizeof(text), "{\"keys\":[%s]}", jwk);
  expect_jwks_error(text, KEDGE_ERR_CONFIG);
  EVP_PKEY_free(small);
  /* only keys for encryption or another algorithm: nothing usable */
  EVP_PKEY *ec = ec_keygen();
  jwk_of(ec, "a", ",\"use\":\"enc\"", jwk, sizeof(jwk));
  snprintf(text, sizeof(text), "{\"keys\":[%s]}", jwk);
  expect_jwks_error(text, KEDGE_ERR_CONFIG);
  jwk_of(ec, "a", ",\"alg\":\"ES384\"", jwk, sizeof(jwk));
  snprintf(text, sizeof(text), "{\"keys\":[%s]}", jwk);
  expect_jwks_error(text, KEDGE_ERR_CONFIG);
  jwk_of(ec, "a", ",\"key_ops\":[\"sign\"]", jwk, sizeof(jwk));
  snprintf(text, sizeof(text), "{\"keys\":[%s]}", jwk);
  expect_jwks_error(text, KEDGE_ERR_CONFIG);
  /* more than 32 keys */
  char *many = malloc(40 * 300 + 64);
  strcpy(many, "{\"keys\":[");
  jwk_of(ec, NULL, NULL, jwk, sizeof(jwk));
  for (int i = 0; i < 33; i++) {
    strcat(many, i ? "," : "");
    strcat(many, jwk);
  }
  strcat(many, "]}");
  expect_jwks_error(many, KEDGE_ERR_TOO_BIG);
  free(many);
  EVP_PKEY_free(ec);
  /* a file that does not exist */
  kedge_jwks_t *set = NULL;
  const char *why = NULL;
  assert_int_equal(kedge_jwks_load_file("/nonexistent/jwks.json", &set, &why), KEDGE_ERR_IO);
  assert_null(set);
}

static void test_jwks_skips_unknown(void **state)
{
  EVP_PKEY *ec = ec_keygen();
  char jwk[1000], text[1500];
  jwk_of(ec, "k1", ",\"use\":\"sig\",\"alg\":\"ES256\",\"key_ops\":[\"verify\"]", jwk, sizeof(jwk));
  snprintf(text, sizeof(text),
           "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"},{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
           "\"x\":\"AAAA\"},%s]}",
           jwk);
  kedge_jwks_t *set = jwks_from(text);
  assert_int_equal(kedge_jwks_count(set), 1);
  kedge_jwks_free(set);
  EVP_PKEY_free(ec);
}

/* ---- tokens ---- */

typedef struct keys {
  EVP_PKEY *ec, *rsa, *other_ec;
  kedge_jwks_t *set; /* ec as "ec1", rsa as "rsa1" */
} keys_t;

static int keys_setup(void **state)
{
  keys_t *k = calloc(1, sizeof(*k));
  k->ec = ec_keygen();
  k->rsa = rsa_keygen(2048);
  k->other_ec = ec_keygen();
  char a[1000], b[3000], text[4200];
  jwk_of(k->ec, "ec1", NULL, a, sizeof(a));
  jwk_of(k->rsa, "rsa1", ",\"alg\":\"RS256\",\"use\":\"sig\"", b, sizeof(b));
  snprintf(text, sizeof(text), "{\"keys\":[%s,%s]}", a, b);
  k->set = jwks_from(text);
  assert_int_equal(kedge_jwks_count(k->set), 2);
  *state = k;
  return 0;
}

static int keys_teardown(void **state)
{
  keys_t *k = *state;
  EVP_PKEY_free(k->ec);
  EVP_PKEY_free(k->rsa);
  EVP_PKEY_free(k->other_ec);
  kedge_jwks_free(k->set);
  free(k);
  return 0;
}

static void test_good_tokens(void **state)
{
  keys_t *k = *state;
  char tok[4096];
  sign_token(k->ec, "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"ec1\"}", good_claims, tok,
             sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_VALID);
  sign_token(k->ec, "{\"alg\":\"ES256\"}", good_claims, tok, sizeof(tok)); /* no kid */
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_VALID);
  sign_token(k->rsa, "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", good_claims, tok, sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_VALID);
  sign_token(k->rsa, "{\"alg\":\"RS256\"}", good_claims, tok, sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_VALID);
  /* aud as an array, scope among others, issuer checked */
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"aud\":[\"other\",\"nef.kedge.test\"],\"exp\":1700000001,"
             "\"scope\":\"nnef-x 3gpp-kedge  other\",\"iss\":\"as.kedge.test\"}",
             tok, sizeof(tok));
  kedge_jwt_policy_t with_iss = policy;
  with_iss.issuer = "as.kedge.test";
  assert_int_equal(verify(k->set, tok, &with_iss), KEDGE_JWT_VALID);
  with_iss.issuer = "evil.example";
  assert_int_equal(verify(k->set, tok, &with_iss), KEDGE_JWT_WRONG_ISSUER);
  /* no scope required by the policy: a token without scope is fine */
  sign_token(k->ec, "{\"alg\":\"ES256\"}", "{\"aud\":\"nef.kedge.test\",\"exp\":1700000001}", tok,
             sizeof(tok));
  kedge_jwt_policy_t no_scope = policy;
  no_scope.scope = NULL;
  assert_int_equal(verify(k->set, tok, &no_scope), KEDGE_JWT_VALID);
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_INSUFFICIENT_SCOPE);
}

static void test_time_claims(void **state)
{
  keys_t *k = *state;
  char tok[4096];
  kedge_jwt_policy_t lax = policy;
  lax.leeway_s = 30;
  /* exp == now: expired (RFC 7519 4.1.4: now must be before exp); within leeway: accepted */
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"aud\":\"nef.kedge.test\",\"exp\":1700000000,\"scope\":\"3gpp-kedge\"}", tok,
             sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_EXPIRED);
  assert_int_equal(verify(k->set, tok, &lax), KEDGE_JWT_VALID);
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"aud\":\"nef.kedge.test\",\"exp\":1699996400,\"scope\":\"3gpp-kedge\"}", tok,
             sizeof(tok));
  assert_int_equal(verify(k->set, tok, &lax), KEDGE_JWT_EXPIRED);
  /* nbf in the future */
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"aud\":\"nef.kedge.test\",\"exp\":1700009999,\"nbf\":1700000010,"
             "\"scope\":\"3gpp-kedge\"}",
             tok, sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_NOT_YET_VALID);
  assert_int_equal(verify(k->set, tok, &lax), KEDGE_JWT_VALID);
  /* no exp at all, exp as a string */
  sign_token(k->ec, "{\"alg\":\"ES256\"}", "{\"aud\":\"nef.kedge.test\",\"scope\":\"3gpp-kedge\"}",
             tok, sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_MALFORMED);
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"aud\":\"nef.kedge.test\",\"exp\":\"1800000000\",\"scope\":\"3gpp-kedge\"}", tok,
             sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_MALFORMED);
}

static void test_audience_and_scope(void **state)
{
  keys_t *k = *state;
  char tok[4096];
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"aud\":\"other.kedge.test\",\"exp\":1700000600,\"scope\":\"3gpp-kedge\"}", tok,
             sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_WRONG_AUDIENCE);
  sign_token(k->ec, "{\"alg\":\"ES256\"}", "{\"exp\":1700000600,\"scope\":\"3gpp-kedge\"}", tok,
             sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_WRONG_AUDIENCE);
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"aud\":[\"a\",\"b\"],\"exp\":1700000600,\"scope\":\"3gpp-kedge\"}", tok,
             sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_WRONG_AUDIENCE);
  /* a scope that only starts like ours, none, or the wrong type */
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"aud\":\"nef.kedge.test\",\"exp\":1700000600,\"scope\":\"3gpp-kedgeX 3gpp\"}", tok,
             sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_INSUFFICIENT_SCOPE);
  sign_token(k->ec, "{\"alg\":\"ES256\"}", "{\"aud\":\"nef.kedge.test\",\"exp\":1700000600}", tok,
             sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_INSUFFICIENT_SCOPE);
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"aud\":\"nef.kedge.test\",\"exp\":1700000600,\"scope\":[\"3gpp-kedge\"]}", tok,
             sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_MALFORMED);
  /* two "aud" members: refused rather than guessing which one counts */
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"aud\":\"x\",\"aud\":\"nef.kedge.test\",\"exp\":1700000600,"
             "\"scope\":\"3gpp-kedge\"}",
             tok, sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_MALFORMED);
}

static void test_signatures_and_keys(void **state)
{
  keys_t *k = *state;
  char tok[4096];
  /* signed by a key not in the set */
  sign_token(k->other_ec, "{\"alg\":\"ES256\"}", good_claims, tok, sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_BAD_SIGNATURE);
  /* a kid the set does not have, and the right key under another kid */
  sign_token(k->ec, "{\"alg\":\"ES256\",\"kid\":\"nope\"}", good_claims, tok, sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_NO_KEY);
  sign_token(k->ec, "{\"alg\":\"ES256\",\"kid\":\"rsa1\"}", good_claims, tok, sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_NO_KEY);
  /* an EC key's token labelled RS256: the RSA key cannot verify a 64-octet signature */
  sign_token(k->ec, "{\"alg\":\"RS256\"}", good_claims, tok, sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_BAD_SIGNATURE);
  /* an RSA signature labelled ES256: wrong length */
  sign_token(k->rsa, "{\"alg\":\"ES256\"}", good_claims, tok, sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_MALFORMED);
  /* the payload swapped for another one under the same signature */
  sign_token(k->ec, "{\"alg\":\"ES256\"}", good_claims, tok, sizeof(tok));
  char other[4096], forged[8192];
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"aud\":\"nef.kedge.test\",\"exp\":9999999999,\"scope\":\"3gpp-kedge\"}", other,
             sizeof(other));
  const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
  const char *o1 = strchr(other, '.'), *o2 = strrchr(other, '.');
  snprintf(forged, sizeof(forged), "%.*s%.*s%s", (int)(d1 - tok), tok, (int)(o2 - o1), o1, d2);
  assert_int_equal(verify(k->set, forged, &policy), KEDGE_JWT_BAD_SIGNATURE);
}

static void test_algorithms_and_form(void **state)
{
  keys_t *k = *state;
  char tok[4096], h[256], p[1024];
  /* alg none: header.payload. with an empty signature, and with a dummy one */
  b64url_str("{\"alg\":\"none\"}", h);
  b64url_str(good_claims, p);
  snprintf(tok, sizeof(tok), "%s.%s.", h, p);
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_MALFORMED);
  snprintf(tok, sizeof(tok), "%s.%s.AAAA", h, p);
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_UNSUPPORTED_ALG);
  /* HS256 with the public key's bytes as the secret (the classic confusion) */
  b64url_str("{\"alg\":\"HS256\"}", h);
  snprintf(tok, sizeof(tok), "%s.%s.AAAA", h, p);
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_UNSUPPORTED_ALG);
  /* crit present */
  sign_token(k->ec, "{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"exp\":1}", good_claims, tok,
             sizeof(tok));
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_MALFORMED);
  /* not three parts, empty parts, padding, a JSON array as header */
  const char *bad[] = {"", ".", "..", "a.b", "a.b.c.d", ".a.b", "a..b"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(verify(k->set, bad[i], &policy), KEDGE_JWT_MALFORMED);
  sign_token(k->ec, "{\"alg\":\"ES256\"}", good_claims, tok, sizeof(tok));
  char padded[4200];
  snprintf(padded, sizeof(padded), "%s=", tok);
  assert_int_equal(verify(k->set, padded, &policy), KEDGE_JWT_MALFORMED);
  b64url_str("[\"ES256\"]", h);
  snprintf(tok, sizeof(tok), "%s.%s.AAAA", h, p);
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_MALFORMED);
  /* too long */
  char *huge = malloc(KEDGE_JWT_MAX_SIZE + 10);
  memset(huge, 'A', KEDGE_JWT_MAX_SIZE + 9);
  huge[10] = huge[20] = '.';
  huge[KEDGE_JWT_MAX_SIZE + 9] = '\0';
  assert_int_equal(verify(k->set, huge, &policy), KEDGE_JWT_MALFORMED);
  free(huge);
  /* every status has a text */
  for (int s = KEDGE_JWT_VALID; s <= KEDGE_JWT_ISSUED_IN_FUTURE; s++)
    assert_non_null(kedge_jwt_status_text(s));
}

/* TS 29.510 6.3.5.2.4 AccessTokenClaims as an SBI producer checks them: aud = the producer's NF
 * type or nfInstanceId, scope = service names, sub = the consumer's nfInstanceId, iat skew. */
static const kedge_jwt_policy_t sbi_policy = {.audience = "UDM",
                                              .audience_alt =
                                                  "5f1c2bd4-8c2b-4f5e-9a43-3c1d2e0b7a11",
                                              .scope = "nudm-ueau",
                                              .subject = "0a9e3a2c-4f7c-4f0e-9d1d-8a2c9f1e6b01",
                                              .leeway_s = 5};

static void test_sbi_claims(void **state)
{
  keys_t *k = *state;
  char tok[4096];
  kedge_jwt_status_t st;
  kedge_jwt_claims_t claims;
  /* aud as the NF type, sub as the consumer: valid, and the claims come out */
  sign_token(k->ec, "{\"alg\":\"ES256\",\"typ\":\"JWT\"}",
             "{\"iss\":\"6a7bd2a8-0000-4000-8000-000000000001\","
             "\"sub\":\"0a9e3a2c-4f7c-4f0e-9d1d-8a2c9f1e6b01\",\"aud\":\"UDM\","
             "\"scope\":\"nudm-sdm nudm-ueau\",\"exp\":1700000600,\"iat\":1700000000}",
             tok, sizeof(tok));
  assert_int_equal(
      kedge_jwt_verify_claims(k->set, tok, strlen(tok), &sbi_policy, NOW, &st, &claims), KEDGE_OK);
  assert_string_equal(claims.sub, "0a9e3a2c-4f7c-4f0e-9d1d-8a2c9f1e6b01");
  assert_int_equal(claims.exp, 1700000600);
  /* aud as the producer's nfInstanceId (in an array) */
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"sub\":\"0a9e3a2c-4f7c-4f0e-9d1d-8a2c9f1e6b01\","
             "\"aud\":[\"5f1c2bd4-8c2b-4f5e-9a43-3c1d2e0b7a11\"],\"scope\":\"nudm-ueau\","
             "\"exp\":1700000600}",
             tok, sizeof(tok));
  assert_int_equal(verify(k->set, tok, &sbi_policy), KEDGE_JWT_VALID);
  /* another producer's type */
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"sub\":\"0a9e3a2c-4f7c-4f0e-9d1d-8a2c9f1e6b01\",\"aud\":\"AUSF\","
             "\"scope\":\"nudm-ueau\",\"exp\":1700000600}",
             tok, sizeof(tok));
  assert_int_equal(verify(k->set, tok, &sbi_policy), KEDGE_JWT_WRONG_AUDIENCE);
  /* issued to another consumer, or to nobody */
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"sub\":\"ffffffff-4f7c-4f0e-9d1d-8a2c9f1e6b01\",\"aud\":\"UDM\","
             "\"scope\":\"nudm-ueau\",\"exp\":1700000600}",
             tok, sizeof(tok));
  assert_int_equal(verify(k->set, tok, &sbi_policy), KEDGE_JWT_WRONG_SUBJECT);
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"aud\":\"UDM\",\"scope\":\"nudm-ueau\",\"exp\":1700000600}", tok, sizeof(tok));
  assert_int_equal(verify(k->set, tok, &sbi_policy), KEDGE_JWT_WRONG_SUBJECT);
  kedge_jwt_policy_t any_sub = sbi_policy;
  any_sub.subject = NULL;
  assert_int_equal(verify(k->set, tok, &any_sub), KEDGE_JWT_VALID);
  /* another service's scope */
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"sub\":\"0a9e3a2c-4f7c-4f0e-9d1d-8a2c9f1e6b01\",\"aud\":\"UDM\","
             "\"scope\":\"nudm-sdm\",\"exp\":1700000600}",
             tok, sizeof(tok));
  assert_int_equal(verify(k->set, tok, &sbi_policy), KEDGE_JWT_INSUFFICIENT_SCOPE);
  /* iat: within the skew, beyond it, the wrong type */
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"sub\":\"0a9e3a2c-4f7c-4f0e-9d1d-8a2c9f1e6b01\",\"aud\":\"UDM\","
             "\"scope\":\"nudm-ueau\",\"exp\":1700000600,\"iat\":1700000005}",
             tok, sizeof(tok));
  assert_int_equal(verify(k->set, tok, &sbi_policy), KEDGE_JWT_VALID);
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"sub\":\"0a9e3a2c-4f7c-4f0e-9d1d-8a2c9f1e6b01\",\"aud\":\"UDM\","
             "\"scope\":\"nudm-ueau\",\"exp\":1700000600,\"iat\":1700000006}",
             tok, sizeof(tok));
  assert_int_equal(verify(k->set, tok, &sbi_policy), KEDGE_JWT_ISSUED_IN_FUTURE);
  sign_token(k->ec, "{\"alg\":\"ES256\"}",
             "{\"sub\":\"0a9e3a2c-4f7c-4f0e-9d1d-8a2c9f1e6b01\",\"aud\":\"UDM\","
             "\"scope\":\"nudm-ueau\",\"exp\":1700000600,\"iat\":\"now\"}",
             tok, sizeof(tok));
  assert_int_equal(verify(k->set, tok, &sbi_policy), KEDGE_JWT_MALFORMED);
}

/* HS256 made for real with the verifier's public key (its SubjectPublicKeyInfo DER) as the
 * HMAC secret: the algorithm-confusion attack (RFC 8725 2.1, 3.1) is refused before any key is
 * touched. */
static void test_hs256_with_public_key(void **state)
{
  keys_t *k = *state;
  uint8_t *der = NULL;
  int der_len = i2d_PUBKEY(k->ec, &der);
  assert_true(der_len > 0);
  char h[256], p[1024], input[2048], sb[128], tok[4096];
  b64url_str("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", h);
  b64url_str(good_claims, p);
  snprintf(input, sizeof(input), "%s.%s", h, p);
  uint8_t mac[32];
  size_t mac_len = 0;
  assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, der, (size_t)der_len,
                            (const uint8_t *)input, strlen(input), mac, sizeof(mac), &mac_len));
  OPENSSL_free(der);
  b64url(mac, mac_len, sb);
  snprintf(tok, sizeof(tok), "%s.%s", input, sb);
  assert_int_equal(verify(k->set, tok, &policy), KEDGE_JWT_UNSUPPORTED_ALG);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_b64url),
      cmocka_unit_test(test_rfc7515_a3),
      cmocka_unit_test(test_jwks_rejects),
      cmocka_unit_test(test_jwks_skips_unknown),
      cmocka_unit_test_setup_teardown(test_good_tokens, keys_setup, keys_teardown),
      cmocka_unit_test_setup_teardown(test_time_claims, keys_setup, keys_teardown),
      cmocka_unit_test_setup_teardown(test_audience_and_scope, keys_setup, keys_teardown),
      cmocka_unit_test_setup_teardown(test_signatures_and_keys, keys_setup, keys_teardown),
      cmocka_unit_test_setup_teardown(test_algorithms_and_form, keys_setup, keys_teardown),
      cmocka_unit_test_setup_teardown(test_sbi_claims, keys_setup, keys_teardown),
      cmocka_unit_test_setup_teardown(test_hs256_with_public_key, keys_setup, keys_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
