/* OAuth 2.0 bearer tokens for the NEF's northbound API (TS 33.501 clause 12: NEF-AF is
 * TLS with mutual certificates plus OAuth 2.0): JWTs (RFC 7519) in JWS compact serialization
 * (RFC 7515 7.1) signed with ES256 or RS256 (RFC 7518 3.3, 3.4), verified with OpenSSL against a
 * JWK Set (RFC 7517 5) of EC P-256 and RSA public keys read once at start-up.
 *
 * Self-contained (OpenSSL, jansson, kedge/error.h only) so that fuzz/fuzz-jwt.c can build it
 * without the rest of the NEF; it belongs in lib/ once another daemon needs it. Thread-safe
 * after parsing: verification only reads the key set. */
#ifndef KEDGE_NEF_JWT_H
#define KEDGE_NEF_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kedge/error.h"

#define NEF_JWKS_MAX_SIZE (64u * 1024u) /* a JWK Set file, octets */
#define NEF_JWKS_MAX_KEYS 32
#define NEF_JWT_MAX_SIZE 8192           /* a token, octets */
#define NEF_JWT_RSA_MIN_BITS 2048       /* RFC 7518 3.3: 2048 bits or larger */
#define NEF_JWT_RSA_MAX_BITS 8192

typedef struct nef_jwks nef_jwks_t;

/* Parses a JWK Set. Keys used: kty "EC" with crv "P-256" (x, y: 32 octets each, the point must
 * be on the curve) and kty "RSA" (n of 2048..8192 bits, e odd and > 1); a key with "use" other
 * than "sig" or an "alg" other than ES256/RS256, and keys of other types, are skipped.
 * KEDGE_ERR_CONFIG (with *why a short static phrase) when the text is not a JWK Set, a used key
 * is malformed, or no key is usable; KEDGE_ERR_TOO_BIG past the bounds above; KEDGE_ERR_NOMEM,
 * KEDGE_ERR_CRYPTO. */
kedge_err_t nef_jwks_parse(const char *text, size_t len, nef_jwks_t **out, const char **why);

/* Reads and parses a file (at most NEF_JWKS_MAX_SIZE octets); *why as above, or "cannot read". */
kedge_err_t nef_jwks_load_file(const char *path, nef_jwks_t **out, const char **why);

size_t nef_jwks_count(const nef_jwks_t *jwks);
void nef_jwks_free(nef_jwks_t *jwks);

/* What a token must say besides a good signature. */
typedef struct nef_jwt_policy {
  const char *audience; /* required: "aud" (string or array) must contain it */
  const char *scope;    /* NULL: not checked; else one of the space-separated "scope" tokens */
  const char *issuer;   /* NULL: not checked; else "iss" must equal it */
  int64_t leeway_s;     /* allowed clock difference for exp and nbf (RFC 7519 4.1.4) */
} nef_jwt_policy_t;

/* Why a token was refused. */
typedef enum nef_jwt_status {
  NEF_JWT_VALID = 0,
  NEF_JWT_MALFORMED,          /* not header.payload.signature of base64url JSON, a claim of the
                                 wrong type, "exp" missing, "crit" present, too long */
  NEF_JWT_UNSUPPORTED_ALG,    /* "alg" is not ES256 or RS256 ("none", HS256 ... refused) */
  NEF_JWT_NO_KEY,             /* no key of that type (and "kid") in the set */
  NEF_JWT_BAD_SIGNATURE,
  NEF_JWT_EXPIRED,
  NEF_JWT_NOT_YET_VALID,      /* "nbf" in the future */
  NEF_JWT_WRONG_AUDIENCE,
  NEF_JWT_WRONG_ISSUER,
  NEF_JWT_INSUFFICIENT_SCOPE, /* valid token, but "scope" lacks the required one */
} nef_jwt_status_t;

/* A short English phrase for a status (for error_description and logs; never token bytes). */
const char *nef_jwt_status_text(nef_jwt_status_t status);

/* Verifies a compact JWS `token` (`len` octets, no NUL needed) at time `now` (seconds since
 * the epoch): signature first, then exp, nbf, iss, aud, scope. KEDGE_OK when valid;
 * KEDGE_ERR_FORBIDDEN when refused, with the reason in *status; KEDGE_ERR_NOMEM or
 * KEDGE_ERR_CRYPTO when the check itself failed (then *status is NEF_JWT_MALFORMED). */
kedge_err_t nef_jwt_verify(const nef_jwks_t *jwks, const char *token, size_t len,
                           const nef_jwt_policy_t *policy, int64_t now, nef_jwt_status_t *status);

/* RFC 4648 5 base64url without padding, strict: only the URL-safe alphabet, no '=', no
 * whitespace, unused bits of the last character zero (one value, one spelling). Decodes into
 * out[0..max); KEDGE_ERR_BAD_LENGTH when it would not fit or the length is impossible,
 * KEDGE_ERR_INVALID_ARG for anything else. */
kedge_err_t nef_b64url_decode(const char *in, size_t len, uint8_t *out, size_t max,
                              size_t *out_len);

#endif
