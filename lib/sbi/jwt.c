/* JWK Sets and JWT verification (kedge/jwt.h): RFC 7515 (JWS), RFC 7517 (JWK), RFC 7518 (ES256,
 * RS256), RFC 7519 (JWT claims), RFC 6750 bearer tokens. The key set is parsed with jansson
 * and turned into EVP_PKEYs with OSSL_PARAM_BLD / EVP_PKEY_fromdata; signatures are checked
 * with EVP_DigestVerify. */
#include "kedge/jwt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "kedge/base64url.h"

enum { KEY_EC = 1, KEY_RSA = 2 };

typedef struct jwk {
  int type;
  char *kid; /* NULL when the key has none */
  EVP_PKEY *pkey;
} jwk_t;

struct kedge_jwks {
  size_t n;
  jwk_t keys[KEDGE_JWKS_MAX_KEYS];
};

/* A base64url member of a JWK decoded into a fresh buffer of at most `max` octets. */
static kedge_err_t member_b64(const json_t *obj, const char *name, size_t max, uint8_t **out,
                              size_t *len)
{
  const json_t *v = json_object_get(obj, name);
  *out = NULL;
  if (!json_is_string(v))
    return KEDGE_ERR_CONFIG;
  *out = malloc(max ? max : 1);
  if (!*out)
    return KEDGE_ERR_NOMEM;
  if (kedge_b64url_decode(json_string_value(v), json_string_length(v), *out, max, len) !=
      KEDGE_OK) {
    free(*out);
    *out = NULL;
    return KEDGE_ERR_CONFIG;
  }
  return KEDGE_OK;
}

/* ---- JWK -> EVP_PKEY ---- */

static kedge_err_t pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld, EVP_PKEY **pkey)
{
  kedge_err_t err = KEDGE_ERR_CRYPTO;
  OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
  EVP_PKEY_CTX *check = NULL;
  *pkey = NULL;
  if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1) {
    /* For EC the import rejects a point that is not on the curve; the public check below makes
     * that explicit for both types (an invalid-curve point would leak nothing to a verifier,
     * but a key that is not a key is a broken configuration). */
    if (EVP_PKEY_fromdata(ctx, pkey, EVP_PKEY_PUBLIC_KEY, params) == 1 &&
        (check = EVP_PKEY_CTX_new_from_pkey(NULL, *pkey, NULL)) != NULL &&
        EVP_PKEY_public_check(check) == 1)
      err = KEDGE_OK;
    else
      err = KEDGE_ERR_CONFIG;
  }
  if (err) {
    EVP_PKEY_free(*pkey);
    *pkey = NULL;
  }
  EVP_PKEY_CTX_free(check);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return err;
}

/* RFC 7518 6.2.1: crv "P-256", x and y of 32 octets -> the uncompressed point 04||x||y. */
static kedge_err_t ec_key(const json_t *k, EVP_PKEY **pkey, const char **why)
{
  const char *crv = json_string_value(json_object_get(k, "crv"));
  if (!crv || strcmp(crv, "P-256") != 0) {
    *why = "EC key: crv must be P-256";
    return KEDGE_ERR_CONFIG;
  }
  uint8_t *x = NULL, *y = NULL, point[65];
  size_t xl = 0, yl = 0;
  kedge_err_t err = member_b64(k, "x", 32, &x, &xl);
  if (!err)
    err = member_b64(k, "y", 32, &y, &yl);
  if (!err && (xl != 32 || yl != 32))
    err = KEDGE_ERR_CONFIG;
  if (err) {
    *why = "EC key: x and y must be 32 octets of base64url";
  } else {
    point[0] = 0x04;
    memcpy(point + 1, x, 32);
    memcpy(point + 33, y, 32);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (!bld ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, SN_X9_62_prime256v1, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)))
      err = KEDGE_ERR_NOMEM;
    else
      err = pkey_fromdata("EC", bld, pkey);
    OSSL_PARAM_BLD_free(bld);
    if (err == KEDGE_ERR_CONFIG)
      *why = "EC key: not a point on P-256";
  }
  free(x);
  free(y);
  return err;
}

/* RFC 7518 6.3.1: n and e as unsigned big-endian octets. */
static kedge_err_t rsa_key(const json_t *k, EVP_PKEY **pkey, const char **why)
{
  uint8_t *n = NULL, *e = NULL;
  size_t nl = 0, el = 0;
  BIGNUM *bn_n = NULL, *bn_e = NULL;
  kedge_err_t err = member_b64(k, "n", KEDGE_JWT_RSA_MAX_BITS / 8, &n, &nl);
  if (!err)
    err = member_b64(k, "e", 8, &e, &el);
  if (err) {
    *why = "RSA key: n (at most 8192 bits) and e (at most 8 octets) must be base64url";
    goto out;
  }
  bn_n = BN_bin2bn(n, (int)nl, NULL);
  bn_e = BN_bin2bn(e, (int)el, NULL);
  if (!bn_n || !bn_e) {
    err = KEDGE_ERR_NOMEM;
    goto out;
  }
  if (BN_num_bits(bn_n) < KEDGE_JWT_RSA_MIN_BITS) {
    *why = "RSA key: n must have at least 2048 bits (RFC 7518 3.3)";
    err = KEDGE_ERR_CONFIG;
    goto out;
  }
  if (!BN_is_odd(bn_e) || BN_is_one(bn_e)) {
    *why = "RSA key: e must be odd and greater than 1";
    err = KEDGE_ERR_CONFIG;
    goto out;
  }
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
      !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
    err = KEDGE_ERR_NOMEM;
  else
    err = pkey_fromdata("RSA", bld, pkey);
  OSSL_PARAM_BLD_free(bld);
  if (err == KEDGE_ERR_CONFIG)
    *why = "RSA key: not a valid public key";
out:
  BN_free(bn_n);
  BN_free(bn_e);
  free(n);
  free(e);
  return err;
}

/* Whether a JWK is meant for signatures with one of our algorithms (RFC 7517 4.2-4.4). */
static bool usable_for_signatures(const json_t *k, int type)
{
  const char *use = json_string_value(json_object_get(k, "use"));
  if (json_object_get(k, "use") && (!use || strcmp(use, "sig") != 0))
    return false;
  const json_t *ops = json_object_get(k, "key_ops");
  if (ops) {
    bool verify = false;
    size_t i;
    const json_t *op;
    json_array_foreach(ops, i, op) if (json_is_string(op) &&
                                       strcmp(json_string_value(op), "verify") == 0) verify = true;
    if (!verify)
      return false;
  }
  const char *alg = json_string_value(json_object_get(k, "alg"));
  if (json_object_get(k, "alg") && (!alg || strcmp(alg, type == KEY_EC ? "ES256" : "RS256") != 0))
    return false;
  return true;
}

kedge_err_t kedge_jwks_parse(const char *text, size_t len, kedge_jwks_t **out, const char **why)
{
  const char *dummy;
  if (!why)
    why = &dummy;
  *why = NULL;
  if (!text || !out)
    return KEDGE_ERR_INVALID_ARG;
  *out = NULL;
  if (len > KEDGE_JWKS_MAX_SIZE) {
    *why = "JWK Set larger than 64 KiB";
    return KEDGE_ERR_TOO_BIG;
  }
  json_error_t jerr;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  OPENSSL_cleanse(&jerr, sizeof(jerr));
  const json_t *keys = json_object_get(root, "keys");
  if (!json_is_array(keys)) {
    json_decref(root);
    *why = "not a JWK Set (a JSON object with a \"keys\" array)";
    return KEDGE_ERR_CONFIG;
  }
  if (json_array_size(keys) > KEDGE_JWKS_MAX_KEYS) {
    json_decref(root);
    *why = "more than 32 keys in the JWK Set";
    return KEDGE_ERR_TOO_BIG;
  }
  kedge_jwks_t *set = calloc(1, sizeof(*set));
  if (!set) {
    json_decref(root);
    return KEDGE_ERR_NOMEM;
  }
  kedge_err_t err = KEDGE_OK;
  size_t i;
  const json_t *k;
  json_array_foreach(keys, i, k)
  {
    if (!json_is_object(k)) {
      *why = "a key is not a JSON object";
      err = KEDGE_ERR_CONFIG;
      break;
    }
    const char *kty = json_string_value(json_object_get(k, "kty"));
    int type = kty && !strcmp(kty, "EC") ? KEY_EC : kty && !strcmp(kty, "RSA") ? KEY_RSA : 0;
    if (!type || !usable_for_signatures(k, type))
      continue; /* RFC 7517 5: ignore keys one does not understand */
    const json_t *kid = json_object_get(k, "kid");
    if (kid && (!json_is_string(kid) || json_string_length(kid) > 256)) {
      *why = "a key's kid must be a string of at most 256 octets";
      err = KEDGE_ERR_CONFIG;
      break;
    }
    jwk_t *jwk = &set->keys[set->n];
    err = type == KEY_EC ? ec_key(k, &jwk->pkey, why) : rsa_key(k, &jwk->pkey, why);
    if (err)
      break;
    jwk->type = type;
    if (kid && !(jwk->kid = strdup(json_string_value(kid)))) {
      EVP_PKEY_free(jwk->pkey);
      err = KEDGE_ERR_NOMEM;
      break;
    }
    set->n++;
  }
  json_decref(root);
  if (!err && set->n == 0) {
    *why = "no usable key (EC P-256 for ES256 or RSA for RS256) in the JWK Set";
    err = KEDGE_ERR_CONFIG;
  }
  if (err) {
    if (!*why)
      *why = kedge_strerror(err);
    kedge_jwks_free(set);
    return err;
  }
  *out = set;
  return KEDGE_OK;
}

kedge_err_t kedge_jwks_load_file(const char *path, kedge_jwks_t **out, const char **why)
{
  const char *dummy;
  if (!why)
    why = &dummy;
  *why = NULL;
  if (!path || !out)
    return KEDGE_ERR_INVALID_ARG;
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    *why = "cannot open the JWK Set file";
    return KEDGE_ERR_IO;
  }
  char *buf = malloc(KEDGE_JWKS_MAX_SIZE + 1);
  if (!buf) {
    fclose(f);
    return KEDGE_ERR_NOMEM;
  }
  size_t n = fread(buf, 1, KEDGE_JWKS_MAX_SIZE + 1, f);
  bool failed = ferror(f) != 0;
  fclose(f);
  kedge_err_t err;
  if (failed) {
    *why = "cannot read the JWK Set file";
    err = KEDGE_ERR_IO;
  } else {
    err = kedge_jwks_parse(buf, n, out, why);
  }
  free(buf);
  return err;
}

size_t kedge_jwks_count(const kedge_jwks_t *jwks)
{
  return jwks ? jwks->n : 0;
}

void kedge_jwks_free(kedge_jwks_t *jwks)
{
  if (!jwks)
    return;
  for (size_t i = 0; i < jwks->n; i++) {
    EVP_PKEY_free(jwks->keys[i].pkey);
    free(jwks->keys[i].kid);
  }
  free(jwks);
}

/* ---- JWT ---- */

const char *kedge_jwt_status_text(kedge_jwt_status_t status)
{
  switch (status) {
  case KEDGE_JWT_VALID:
    return "valid";
  case KEDGE_JWT_MALFORMED:
    return "malformed token";
  case KEDGE_JWT_UNSUPPORTED_ALG:
    return "unsupported alg (ES256 or RS256 only)";
  case KEDGE_JWT_NO_KEY:
    return "no key for this token";
  case KEDGE_JWT_BAD_SIGNATURE:
    return "signature does not verify";
  case KEDGE_JWT_EXPIRED:
    return "token expired";
  case KEDGE_JWT_NOT_YET_VALID:
    return "token not yet valid";
  case KEDGE_JWT_WRONG_AUDIENCE:
    return "token not for this audience";
  case KEDGE_JWT_WRONG_ISSUER:
    return "token from another issuer";
  case KEDGE_JWT_INSUFFICIENT_SCOPE:
    return "scope does not allow this request";
  case KEDGE_JWT_WRONG_SUBJECT:
    return "token issued to another consumer";
  case KEDGE_JWT_ISSUED_IN_FUTURE:
    return "token issued in the future";
  }
  return "invalid token";
}

/* A base64url segment of the token decoded and parsed as a JSON object (duplicate member names
 * refused: RFC 7515 4 / RFC 7519 4 allow a parser to reject them, and two "aud" or "exp" would
 * make the checks ambiguous). NULL when it is not one. */
static json_t *segment_json(const char *seg, size_t len)
{
  size_t max = len / 4 * 3 + 3, n = 0;
  uint8_t *raw = malloc(max);
  if (!raw)
    return NULL;
  json_t *obj = NULL;
  if (kedge_b64url_decode(seg, len, raw, max, &n) == KEDGE_OK) {
    json_error_t jerr;
    obj = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, &jerr);
    OPENSSL_cleanse(&jerr, sizeof(jerr));
    if (obj && !json_is_object(obj)) {
      json_decref(obj);
      obj = NULL;
    }
  }
  OPENSSL_cleanse(raw, max); /* the claims of a credential */
  free(raw);
  return obj;
}

/* RFC 7518 3.4: an ES256 signature is R || S, 32 octets each; OpenSSL wants DER. */
static kedge_err_t ecdsa_der(const uint8_t sig[64], uint8_t **der, int *der_len)
{
  ECDSA_SIG *s = ECDSA_SIG_new();
  BIGNUM *r = BN_bin2bn(sig, 32, NULL), *ss = BN_bin2bn(sig + 32, 32, NULL);
  *der = NULL;
  if (!s || !r || !ss || !ECDSA_SIG_set0(s, r, ss)) {
    ECDSA_SIG_free(s);
    BN_free(r);
    BN_free(ss);
    return KEDGE_ERR_NOMEM;
  }
  *der_len = i2d_ECDSA_SIG(s, der);
  ECDSA_SIG_free(s);
  return *der_len > 0 ? KEDGE_OK : KEDGE_ERR_CRYPTO;
}

static bool verify_with(EVP_PKEY *pkey, const uint8_t *sig, size_t sig_len, const char *tbs,
                        size_t tbs_len)
{
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  bool ok = md && EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, pkey, NULL) == 1 &&
            EVP_DigestVerify(md, sig, sig_len, (const uint8_t *)tbs, tbs_len) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

static bool audience_matches(const json_t *aud, const char *want)
{
  if (json_is_string(aud))
    return strcmp(json_string_value(aud), want) == 0;
  size_t i;
  const json_t *a;
  json_array_foreach(aud, i, a) if (json_is_string(a) &&
                                    strcmp(json_string_value(a), want) == 0) return true;
  return false;
}

/* RFC 8693 4.2 / RFC 6749 3.3: "scope" is a space-separated list of case-sensitive tokens. */
static bool scope_contains(const char *scope, const char *want)
{
  size_t wl = strlen(want);
  for (const char *p = scope; *p;) {
    while (*p == ' ')
      p++;
    const char *end = strchr(p, ' ');
    size_t l = end ? (size_t)(end - p) : strlen(p);
    if (l == wl && l && memcmp(p, want, l) == 0)
      return true;
    p += l;
  }
  return false;
}

static kedge_err_t refuse(kedge_jwt_status_t *status, kedge_jwt_status_t why)
{
  *status = why;
  return KEDGE_ERR_FORBIDDEN;
}

/* The registered claims once the signature is good (RFC 7519 4.1). */
static kedge_err_t check_claims(const json_t *claims, const kedge_jwt_policy_t *policy, int64_t now,
                                kedge_jwt_status_t *status, kedge_jwt_claims_t *out)
{
  const json_t *iat = json_object_get(claims, "iat"), *sub = json_object_get(claims, "sub");
  const json_t *exp = json_object_get(claims, "exp"), *nbf = json_object_get(claims, "nbf");
  const json_t *iss = json_object_get(claims, "iss"), *aud = json_object_get(claims, "aud");
  const json_t *scope = json_object_get(claims, "scope");
  /* An access token without an expiry would be valid for ever: refuse it (RFC 9068 2.2). */
  if (!json_is_number(exp) || !isfinite(json_number_value(exp)) ||
      (nbf && (!json_is_number(nbf) || !isfinite(json_number_value(nbf)))) ||
      (iss && !json_is_string(iss)) || (aud && !json_is_string(aud) && !json_is_array(aud)) ||
      (scope && !json_is_string(scope)) ||
      (iat && (!json_is_number(iat) || !isfinite(json_number_value(iat)))) ||
      (sub && (!json_is_string(sub) || json_string_length(sub) >= sizeof(out->sub))))
    return refuse(status, KEDGE_JWT_MALFORMED);
  double t = (double)now, leeway = (double)policy->leeway_s;
  /* RFC 7519 4.1.4: the current time MUST be before exp. */
  if (t >= json_number_value(exp) + leeway)
    return refuse(status, KEDGE_JWT_EXPIRED);
  if (nbf && t + leeway < json_number_value(nbf))
    return refuse(status, KEDGE_JWT_NOT_YET_VALID);
  /* RFC 7519 4.1.6: iat is when the NRF issued it; later than now (beyond the skew) means the
   * clocks disagree or the token was minted for later use. */
  if (iat && t + leeway < json_number_value(iat))
    return refuse(status, KEDGE_JWT_ISSUED_IN_FUTURE);
  if (policy->issuer && (!iss || strcmp(json_string_value(iss), policy->issuer) != 0))
    return refuse(status, KEDGE_JWT_WRONG_ISSUER);
  /* RFC 7519 4.1.3: a recipient that does not identify itself with "aud" MUST reject. */
  if (!aud || !(audience_matches(aud, policy->audience) ||
                (policy->audience_alt && audience_matches(aud, policy->audience_alt))))
    return refuse(status, KEDGE_JWT_WRONG_AUDIENCE);
  /* TS 29.510 6.3.5.2.4: sub is the consumer's nfInstanceId. */
  if (policy->subject && (!sub || strcmp(json_string_value(sub), policy->subject) != 0))
    return refuse(status, KEDGE_JWT_WRONG_SUBJECT);
  if (policy->scope && (!scope || !scope_contains(json_string_value(scope), policy->scope)))
    return refuse(status, KEDGE_JWT_INSUFFICIENT_SCOPE);
  if (out) {
    snprintf(out->sub, sizeof(out->sub), "%s", sub ? json_string_value(sub) : "");
    out->exp = (int64_t)json_number_value(exp);
  }
  *status = KEDGE_JWT_VALID;
  return KEDGE_OK;
}

kedge_err_t kedge_jwt_verify(const kedge_jwks_t *jwks, const char *token, size_t len,
                             const kedge_jwt_policy_t *policy, int64_t now,
                             kedge_jwt_status_t *status)
{
  return kedge_jwt_verify_claims(jwks, token, len, policy, now, status, NULL);
}

kedge_err_t kedge_jwt_verify_claims(const kedge_jwks_t *jwks, const char *token, size_t len,
                                    const kedge_jwt_policy_t *policy, int64_t now,
                                    kedge_jwt_status_t *status, kedge_jwt_claims_t *out)
{
  kedge_jwt_status_t dummy;
  if (!status)
    status = &dummy;
  *status = KEDGE_JWT_MALFORMED;
  if (!jwks || !token || !policy || !policy->audience)
    return KEDGE_ERR_INVALID_ARG;
  if (len == 0 || len > KEDGE_JWT_MAX_SIZE)
    return refuse(status, KEDGE_JWT_MALFORMED);
  /* RFC 7515 7.1: BASE64URL(header) '.' BASE64URL(payload) '.' BASE64URL(signature) */
  const char *d1 = memchr(token, '.', len);
  const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
  if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) || d1 == token ||
      d2 == d1 + 1 || d2 + 1 == token + len)
    return refuse(status, KEDGE_JWT_MALFORMED);

  json_t *header = segment_json(token, (size_t)(d1 - token));
  const char *alg = json_string_value(json_object_get(header, "alg"));
  const json_t *kid = json_object_get(header, "kid");
  if (!header || !alg || (kid && !json_is_string(kid)) ||
      /* RFC 7515 4.1.11: we understand no extension, so any "crit" makes the JWS invalid */
      json_object_get(header, "crit")) {
    json_decref(header);
    return refuse(status, KEDGE_JWT_MALFORMED);
  }
  int type = !strcmp(alg, "ES256") ? KEY_EC : !strcmp(alg, "RS256") ? KEY_RSA : 0;
  if (!type) {
    json_decref(header); /* "none", HS256 (a public key is no HMAC secret), others */
    return refuse(status, KEDGE_JWT_UNSUPPORTED_ALG);
  }

  uint8_t sig[KEDGE_JWT_RSA_MAX_BITS / 8];
  size_t sig_len = 0;
  const char *sig_b64 = d2 + 1;
  if (kedge_b64url_decode(sig_b64, (size_t)(token + len - sig_b64), sig, sizeof(sig), &sig_len) ||
      (type == KEY_EC && sig_len != 64)) {
    json_decref(header);
    return refuse(status, KEDGE_JWT_MALFORMED);
  }
  uint8_t *der = NULL;
  int der_len = 0;
  kedge_err_t err = type == KEY_EC ? ecdsa_der(sig, &der, &der_len) : KEDGE_OK;
  if (err) {
    json_decref(header);
    return err;
  }

  /* RFC 7515 4.1.4: with a "kid" only the key of that id; without, every key of the type. */
  bool candidate = false, verified = false;
  for (size_t i = 0; i < jwks->n && !verified; i++) {
    const jwk_t *k = &jwks->keys[i];
    if (k->type != type || (kid && (!k->kid || strcmp(k->kid, json_string_value(kid)) != 0)))
      continue;
    candidate = true;
    if (type == KEY_RSA && sig_len != (size_t)EVP_PKEY_get_size(k->pkey))
      continue; /* RFC 8017 8.2.2: a signature is exactly k octets */
    verified = type == KEY_EC
                   ? verify_with(k->pkey, der, (size_t)der_len, token, (size_t)(d2 - token))
                   : verify_with(k->pkey, sig, sig_len, token, (size_t)(d2 - token));
  }
  OPENSSL_free(der);
  json_decref(header);
  if (!candidate)
    return refuse(status, KEDGE_JWT_NO_KEY);
  if (!verified)
    return refuse(status, KEDGE_JWT_BAD_SIGNATURE);

  /* Only a signed payload is parsed further. */
  json_t *claims = segment_json(d1 + 1, (size_t)(d2 - d1 - 1));
  if (!claims)
    return refuse(status, KEDGE_JWT_MALFORMED);
  err = check_claims(claims, policy, now, status, out);
  json_decref(claims);
  return err;
}
