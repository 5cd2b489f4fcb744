/* OAuth2 for the SBI (TS 33.501 13.4.1, TS 29.500 6.7.3, TS 29.510 Nnrf_AccessToken): the
 * producer's bearer check shared by every kedge producer (and the NEF's northbound API), and
 * the consumer's token client (docs/oauth2.md). */
#ifndef KEDGE_SBI_OAUTH2_H
#define KEDGE_SBI_OAUTH2_H

#include "kedge/error.h"
#include "kedge/jwt.h"
#include "kedge/sbi_server.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ProblemDetails causes of a refused token (docs/oauth2.md "Answers"): TS 29.500 names the
 * status and the WWW-Authenticate error (RFC 6750 3.1); the cause strings are the ones the
 * NEF's northbound API has used since issue 8, kept so that one client sees one set. */
#define KEDGE_SBI_CAUSE_TOKEN_REQUIRED     "ACCESS_TOKEN_REQUIRED" /* 401, no error= */
#define KEDGE_SBI_CAUSE_INVALID_TOKEN      "INVALID_TOKEN"         /* 401 invalid_token */
#define KEDGE_SBI_CAUSE_INSUFFICIENT_SCOPE "INSUFFICIENT_SCOPE"    /* 403 insufficient_scope */

/* Checks the request's `Authorization: Bearer` token against `jwks` and `policy` (the time is
 * the wall clock). KEDGE_OK: valid (`claims`, may be NULL, filled). Otherwise the request has
 * been answered: 401 with `WWW-Authenticate: Bearer realm="<realm>"` (no token) or
 * `..., error="invalid_token"`, 403 `insufficient_scope` with scope=, each with a
 * ProblemDetails; KEDGE_ERR_FORBIDDEN with the reason in *status (or another error when the
 * check itself failed, answered 500). */
kedge_err_t kedge_sbi_bearer_check(kedge_sbi_request_t *req, const kedge_jwks_t *jwks,
                                   const kedge_jwt_policy_t *policy, const char *realm,
                                   kedge_jwt_status_t *status, kedge_jwt_claims_t *claims);

#ifdef __cplusplus
}
#endif
#endif
