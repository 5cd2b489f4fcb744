/* OAuth 2.0 on top of mutual TLS for the northbound API (TS 33.501 clause 12: NEF-AF uses TLS with
 * certificates plus OAuth 2.0 authorisation): an RFC 6750 bearer token in the Authorization
 * header, a JWT verified by lib/sbi (kedge/jwt.h, kedge/sbi_oauth2.h). Off unless oauth.jwks_file
 * is configured. */
#include "kedge/sbi_oauth2.h"
#include "nef.h"

kedge_err_t nef_oauth_check(nef_t *nef, kedge_sbi_request_t *req, kedge_jwt_status_t *status)
{
  *status = KEDGE_JWT_VALID;
  if (!nef->oauth.jwks)
    return KEDGE_OK;
  /* the one bearer check of every producer (lib/sbi/oauth2.c) */
  return kedge_sbi_bearer_check(req, nef->oauth.jwks, &nef->oauth.policy, nef->oauth.realm, status,
                                NULL);
}
