/* OAuth 2.0 access tokens, the one verifier every kedge producer uses: the NEF's northbound
 * API (TS 33.501 clause 12: NEF-AF is TLS plus OAuth 2.0) and the SBI services (TS 33.501
 * 13.4.1, TS 29.510 6.3.5.2.4 AccessTokenClaims, through lib/sbi's oauth2 check): JWTs (RFC 7519)
 * in JWS compact serialization (RFC 7515 7.1) signed with ES256 or RS256 (RFC 7518 3.3, 3.4),
 * verified with OpenSSL against a JWK Set (RFC 7517 5) of EC P-256 and RSA public keys read once at
 * start-up.
 *
 * Self-contained (OpenSSL, jansson, kedge/error.h only; lib/sbi/jwt.c) so that fuzz/fuzz-jwt.c
 * drives it alone. Thread-safe after parsing: verification only reads the key set. */
#ifndef KEDGE_JWT_H
#define KEDGE_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kedge/error.h"

#define KEDGE_JWKS_MAX_SIZE    (64u * 1024u) /* a JWK Set file, octets */
#define KEDGE_JWKS_MAX_KEYS    32
#define KEDGE_JWT_MAX_SIZE     8192 /* a token, octets */
#define KEDGE_JWT_RSA_MIN_BITS 2048 /* RFC 7518 3.3: 2048 bits or larger */
#define KEDGE_JWT_RSA_MAX_BITS 8192

typedef struct kedge_jwks kedge_jwks_t;

/* Parses a JWK Set. Keys used: kty "EC" with crv "P-256" (x, y: 32 octets each, the point must
 * be on the curve) and kty "RSA" (n of 2048..8192 bits, e odd and > 1); a key with "use" other
 * than "sig" or an "alg" other than ES256/RS256, and keys of other types, are skipped.
 * KEDGE_ERR_CONFIG (with *why a short static phrase) when the text is not a JWK Set, a used key
 * is malformed, or no key is usable; KEDGE_ERR_TOO_BIG past the bounds above; KEDGE_ERR_NOMEM,
 * KEDGE_ERR_CRYPTO. */
kedge_err_t kedge_jwks_parse(const char *text, size_t len, kedge_jwks_t **out, const char **why);

/* Reads and parses a file (at most KEDGE_JWKS_MAX_SIZE octets); *why as above, or "cannot read". */
kedge_err_t kedge_jwks_load_file(const char *path, kedge_jwks_t **out, const char **why);

size_t kedge_jwks_count(const kedge_jwks_t *jwks);
void kedge_jwks_free(kedge_jwks_t *jwks);

/* What a token must say besides a good signature. */
typedef struct kedge_jwt_policy {
  const char *audience;     /* required: "aud" (string or array) must contain it */
  const char *audience_alt; /* NULL, or a second accepted "aud" value: TS 29.510 6.3.5.2.4
                               lets "aud" name the producer's NF type or its nfInstanceId */
  const char *scope;        /* NULL: not checked; else one of the space-separated "scope" tokens */
  const char *issuer;       /* NULL: not checked; else "iss" must equal it */
  const char *subject;      /* NULL: not checked; else "sub" must be present and equal it (the
                               consumer's nfInstanceId, TS 29.510 AccessTokenClaims) */
  int64_t leeway_s;         /* allowed clock difference for exp, nbf and iat (RFC 7519 4.1.4-6) */
} kedge_jwt_policy_t;

/* Claims a producer looks at after a token verified (copied out of the token). */
typedef struct kedge_jwt_claims {
  char sub[128]; /* "" when the token has none (TS 29.510: the consumer's nfInstanceId) */
  int64_t exp;
} kedge_jwt_claims_t;

/* Why a token was refused. */
typedef enum kedge_jwt_status {
  KEDGE_JWT_VALID = 0,
  KEDGE_JWT_MALFORMED,       /* not header.payload.signature of base64url JSON, a claim of the
                              wrong type, "exp" missing, "crit" present, too long */
  KEDGE_JWT_UNSUPPORTED_ALG, /* "alg" is not ES256 or RS256 ("none", HS256 ... refused) */
  KEDGE_JWT_NO_KEY,          /* no key of that type (and "kid") in the set */
  KEDGE_JWT_BAD_SIGNATURE,
  KEDGE_JWT_EXPIRED,
  KEDGE_JWT_NOT_YET_VALID, /* "nbf" in the future */
  KEDGE_JWT_WRONG_AUDIENCE,
  KEDGE_JWT_WRONG_ISSUER,
  KEDGE_JWT_INSUFFICIENT_SCOPE, /* valid token, but "scope" lacks the required one */
  KEDGE_JWT_WRONG_SUBJECT,      /* "sub" is not the consumer the policy (or its certificate)
                                   names */
  KEDGE_JWT_ISSUED_IN_FUTURE,   /* "iat" later than now plus the leeway */
} kedge_jwt_status_t;

/* A short English phrase for a status (for error_description and logs; never token bytes). */
const char *kedge_jwt_status_text(kedge_jwt_status_t status);

/* Verifies a compact JWS `token` (`len` octets, no NUL needed) at time `now` (seconds since
 * the epoch): signature first, then exp, nbf, iss, aud, scope. KEDGE_OK when valid;
 * KEDGE_ERR_FORBIDDEN when refused, with the reason in *status; KEDGE_ERR_NOMEM or
 * KEDGE_ERR_CRYPTO when the check itself failed (then *status is KEDGE_JWT_MALFORMED). */
kedge_err_t kedge_jwt_verify(const kedge_jwks_t *jwks, const char *token, size_t len,
                             const kedge_jwt_policy_t *policy, int64_t now,
                             kedge_jwt_status_t *status);

/* The same, and on KEDGE_OK the claims a caller checks further (`claims` may be NULL). */
kedge_err_t kedge_jwt_verify_claims(const kedge_jwks_t *jwks, const char *token, size_t len,
                                    const kedge_jwt_policy_t *policy, int64_t now,
                                    kedge_jwt_status_t *status, kedge_jwt_claims_t *claims);

#endif
