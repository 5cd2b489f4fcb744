/* OAuth 2.0 on top of mutual TLS for the northbound API (TS 33.501 clause 12: NEF-AF uses TLS with
 * certificates plus OAuth 2.0 authorisation): an RFC 6750 bearer token in the Authorization
 * header, a JWT verified by jwt.c. Off unless oauth.jwks_file is configured. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "kedge/log.h"
#include "kedge/problem.h"
#include "nef.h"

/* RFC 6750 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static bool is_b64token(const char *s, size_t len)
{
  size_t i = 0;
  for (; i < len && s[i] != '='; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
          (s[i] >= '0' && s[i] <= '9') || strchr("-._~+/", s[i])))
      return false;
  if (i == 0)
    return false;
  for (; i < len; i++)
    if (s[i] != '=')
      return false;
  return true;
}

/* RFC 6750 3: the challenge; `error` NULL when the request carried no token at all (3.1: "the
 * resource server SHOULD NOT include an error code"). */
static void challenge(nef_t *nef, kedge_sbi_request_t *req, int status, const char *error,
                      const char *description, const char *cause)
{
  char value[512];
  const nef_oauth_t *o = &nef->oauth;
  if (!error)
    snprintf(value, sizeof(value), "Bearer realm=\"%s\"", o->realm);
  else if (status == 403 && o->policy.scope)
    snprintf(value, sizeof(value), "Bearer realm=\"%s\", error=\"%s\", error_description=\"%s\", "
             "scope=\"%s\"", o->realm, error, description, o->policy.scope);
  else
    snprintf(value, sizeof(value), "Bearer realm=\"%s\", error=\"%s\", error_description=\"%s\"",
             o->realm, error, description);
  kedge_sbi_response_header(req, "www-authenticate", value);
  kedge_sbi_respond_problem(req, status, cause, description);
}

kedge_err_t nef_oauth_check(nef_t *nef, kedge_sbi_request_t *req, kedge_jwt_status_t *status)
{
  *status = KEDGE_JWT_VALID;
  if (!nef->oauth.jwks)
    return KEDGE_OK;
  const char *auth = kedge_sbi_request_header(req, "authorization");
  /* RFC 9110 11.1: the scheme is case-insensitive; RFC 6750 2.1: one space, then the token. */
  if (!auth || strncasecmp(auth, "Bearer ", 7) != 0) {
    *status = KEDGE_JWT_MALFORMED;
    challenge(nef, req, 401, NULL, "a bearer access token is required", "ACCESS_TOKEN_REQUIRED");
    return KEDGE_ERR_FORBIDDEN;
  }
  const char *token = auth + 7;
  size_t len = strlen(token);
  if (!is_b64token(token, len)) {
    *status = KEDGE_JWT_MALFORMED;
    challenge(nef, req, 401, "invalid_token", kedge_jwt_status_text(KEDGE_JWT_MALFORMED),
              "INVALID_TOKEN");
    return KEDGE_ERR_FORBIDDEN;
  }
  kedge_err_t err = kedge_jwt_verify(nef->oauth.jwks, token, len, &nef->oauth.policy,
                                   (int64_t)time(NULL), status);
  if (err == KEDGE_OK)
    return KEDGE_OK;
  if (err != KEDGE_ERR_FORBIDDEN) {
    kedge_sbi_respond_err(req, err, "the access token could not be checked");
    return err;
  }
  /* RFC 6750 3.1: insufficient_scope is 403, every other refusal invalid_token with 401. */
  if (*status == KEDGE_JWT_INSUFFICIENT_SCOPE)
    challenge(nef, req, 403, "insufficient_scope", kedge_jwt_status_text(*status),
              "INSUFFICIENT_SCOPE");
  else
    challenge(nef, req, 401, "invalid_token", kedge_jwt_status_text(*status), "INVALID_TOKEN");
  return KEDGE_ERR_FORBIDDEN;
}
