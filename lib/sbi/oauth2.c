/* OAuth2 on the producer side (TS 33.501 13.4.1.1, TS 29.500 6.7.3, RFC 6750): every routed
 * request of a server with `oauth2: {required: true}` carries `Authorization: Bearer <JWT>`,
 * a token the NRF signed (Nnrf_AccessToken, TS 29.510 5.4) for this producer ("aud" = its NF
 * type or nfInstanceId) and for the route's service ("scope"), verified with kedge/jwt.h.
 * A missing or invalid token is 401 with `WWW-Authenticate: Bearer error="invalid_token"`, a
 * token for another service 403 `insufficient_scope` (RFC 6750 3.1), both with a
 * ProblemDetails. The token itself never reaches a log line or an answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "kedge/config.h"
#include "kedge/jwt.h"
#include "kedge/log.h"
#include "kedge/sbi_oauth2.h"
#include "server_int.h"

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
static void challenge(kedge_sbi_request_t *req, const char *realm, const char *scope, int status,
                      const char *error, const char *description, const char *cause)
{
  char value[512];
  if (!error)
    snprintf(value, sizeof(value), "Bearer realm=\"%s\"", realm);
  else if (status == 403 && scope)
    snprintf(value, sizeof(value),
             "Bearer realm=\"%s\", error=\"%s\", error_description=\"%s\", "
             "scope=\"%s\"",
             realm, error, description, scope);
  else
    snprintf(value, sizeof(value), "Bearer realm=\"%s\", error=\"%s\", error_description=\"%s\"",
             realm, error, description);
  kedge_sbi_response_header(req, "www-authenticate", value);
  kedge_sbi_respond_problem(req, status, cause, description);
}

kedge_err_t kedge_sbi_bearer_check(kedge_sbi_request_t *req, const kedge_jwks_t *jwks,
                                   const kedge_jwt_policy_t *policy, const char *realm,
                                   kedge_jwt_status_t *status, kedge_jwt_claims_t *claims)
{
  kedge_jwt_status_t dummy;
  if (!status)
    status = &dummy;
  *status = KEDGE_JWT_VALID;
  const char *auth = kedge_sbi_request_header(req, "authorization");
  /* RFC 9110 11.1: the scheme is case-insensitive; RFC 6750 2.1: one space, then the token. */
  if (!auth || strncasecmp(auth, "Bearer ", 7) != 0) {
    *status = KEDGE_JWT_MALFORMED;
    challenge(req, realm, policy->scope, 401, NULL, "a bearer access token is required",
              KEDGE_SBI_CAUSE_TOKEN_REQUIRED);
    return KEDGE_ERR_FORBIDDEN;
  }
  const char *token = auth + 7;
  size_t len = strlen(token);
  if (!is_b64token(token, len)) {
    *status = KEDGE_JWT_MALFORMED;
    challenge(req, realm, policy->scope, 401, "invalid_token",
              kedge_jwt_status_text(KEDGE_JWT_MALFORMED), KEDGE_SBI_CAUSE_INVALID_TOKEN);
    return KEDGE_ERR_FORBIDDEN;
  }
  kedge_err_t err =
      kedge_jwt_verify_claims(jwks, token, len, policy, (int64_t)time(NULL), status, claims);
  if (err == KEDGE_OK)
    return KEDGE_OK;
  if (err != KEDGE_ERR_FORBIDDEN) {
    kedge_sbi_respond_err(req, err, "the access token could not be checked");
    return err;
  }
  /* RFC 6750 3.1: insufficient_scope is 403, every other refusal invalid_token with 401. */
  if (*status == KEDGE_JWT_INSUFFICIENT_SCOPE)
    challenge(req, realm, policy->scope, 403, "insufficient_scope", kedge_jwt_status_text(*status),
              KEDGE_SBI_CAUSE_INSUFFICIENT_SCOPE);
  else
    challenge(req, realm, policy->scope, 401, "invalid_token", kedge_jwt_status_text(*status),
              KEDGE_SBI_CAUSE_INVALID_TOKEN);
  return KEDGE_ERR_FORBIDDEN;
}

/* ---- the server's own check (request.c calls it before the handler) ---- */

struct sbi_oauth2 {
  kedge_jwks_t *jwks;
  char *issuer, *realm, *nf_type, *nf_instance_id;
  bool check_subject;
  int64_t leeway_s;
};

kedge_err_t sbi_oauth2_new(const kedge_sbi_oauth2_config_t *cfg, const char *server_name,
                           sbi_oauth2_t **out)
{
  *out = NULL;
  if (!cfg->required)
    return KEDGE_OK;
  if (!cfg->jwks_file) {
    kedge_log_error("oauth2.jwks_file: required with oauth2.required: true (the NRF's public "
                    "key as a JWK Set)");
    return KEDGE_ERR_CONFIG;
  }
  sbi_oauth2_t *o = calloc(1, sizeof(*o));
  if (!o)
    return KEDGE_ERR_NOMEM;
  const char *why = NULL;
  kedge_err_t err = kedge_jwks_load_file(cfg->jwks_file, &o->jwks, &why);
  if (err) {
    kedge_log_error("oauth2.jwks_file: %s: %s", cfg->jwks_file, why ? why : kedge_strerror(err));
    free(o);
    return err == KEDGE_ERR_NOMEM ? err : KEDGE_ERR_CONFIG;
  }
  o->issuer = cfg->issuer ? strdup(cfg->issuer) : NULL;
  o->realm = strdup(cfg->realm ? cfg->realm : server_name);
  o->check_subject = cfg->check_subject;
  o->leeway_s = cfg->clock_skew_ms / 1000;
  if ((cfg->issuer && !o->issuer) || !o->realm) {
    sbi_oauth2_free(o);
    return KEDGE_ERR_NOMEM;
  }
  *out = o;
  return KEDGE_OK;
}

void sbi_oauth2_free(sbi_oauth2_t *o)
{
  if (!o)
    return;
  kedge_jwks_free(o->jwks);
  free(o->issuer);
  free(o->realm);
  free(o->nf_type);
  free(o->nf_instance_id);
  free(o);
}

kedge_err_t kedge_sbi_server_set_oauth2_audience(kedge_sbi_server_t *srv, const char *nf_type,
                                                 const char *nf_instance_id)
{
  if (!srv || srv->started || !nf_type)
    return KEDGE_ERR_INVALID_ARG;
  sbi_oauth2_t *o = srv->oauth2;
  if (!o)
    return KEDGE_OK;
  free(o->nf_type);
  free(o->nf_instance_id);
  o->nf_type = strdup(nf_type);
  o->nf_instance_id = nf_instance_id && *nf_instance_id ? strdup(nf_instance_id) : NULL;
  return o->nf_type ? KEDGE_OK : KEDGE_ERR_NOMEM;
}

/* TS 33.310 6.1.3c: an NF's certificate carries its nfInstanceId as the SAN URI
 * urn:uuid:<id>; lib/sbi/tls.c keeps such names beside the DNS names. When mutual TLS shows
 * one, the token's sub must be one of them (TS 33.501 13.4.1.1.2: the producer checks that
 * the token was issued to the consumer that presents it). */
static bool subject_matches_certificate(const kedge_sbi_request_t *req, const char *sub)
{
  bool any = false;
  for (size_t i = 0; i < kedge_sbi_request_peer_count(req); i++) {
    const char *name = kedge_sbi_request_peer(req, i);
    if (!name || strncmp(name, "urn:uuid:", 9) != 0)
      continue;
    any = true;
    if (strcasecmp(name + 9, sub) == 0)
      return true;
  }
  return !any;
}

bool sbi_oauth2_allow(kedge_sbi_request_t *req)
{
  const sbi_oauth2_t *o = req->w->srv->oauth2;
  const sbi_route_t *route = req->route;
  if (!o || !route || !route->service)
    return true;
  kedge_jwt_policy_t policy = {.audience = o->nf_type ? o->nf_type : "",
                               .audience_alt = o->nf_instance_id,
                               .scope = route->service,
                               .issuer = o->issuer,
                               .leeway_s = o->leeway_s};
  kedge_jwt_status_t status;
  kedge_jwt_claims_t claims;
  kedge_err_t err = kedge_sbi_bearer_check(req, o->jwks, &policy, o->realm, &status, &claims);
  if (err == KEDGE_OK && o->check_subject && claims.sub[0] &&
      !subject_matches_certificate(req, claims.sub)) {
    status = KEDGE_JWT_WRONG_SUBJECT;
    challenge(req, o->realm, route->service, 401, "invalid_token", kedge_jwt_status_text(status),
              KEDGE_SBI_CAUSE_INVALID_TOKEN);
    err = KEDGE_ERR_FORBIDDEN;
  }
  if (err == KEDGE_OK)
    return true;
  /* why, never the token */
  kedge_log_info("%s: %s %s refused: %s", o->realm, req->method, route->pattern,
                 kedge_jwt_status_text(status));
  return false;
}

/* ---- the oauth2: section ---- */

kedge_err_t kedge_sbi_oauth2_config_read(struct kedge_config_node *root,
                                         kedge_sbi_server_config_t *cfg)
{
  if (!cfg)
    return KEDGE_ERR_INVALID_ARG;
  kedge_sbi_oauth2_config_t *o = &cfg->oauth2;
  kedge_config_node_t *node = NULL;
  kedge_err_t err = kedge_config_map(root, "oauth2", &node);
  if (err || !node)
    return err;
  bool b;
  int64_t ms;
  KEDGE_CONFIG_KEEP(err, kedge_config_bool(node, "required", o->required, &b));
  o->required = b;
  KEDGE_CONFIG_KEEP(err, kedge_config_string(node, "jwks_file", o->jwks_file, &o->jwks_file));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(node, "issuer", o->issuer, &o->issuer));
  KEDGE_CONFIG_KEEP(err, kedge_config_bool(node, "check_subject", o->check_subject, &b));
  o->check_subject = b;
  KEDGE_CONFIG_KEEP(err,
                    kedge_config_duration(node, "clock_skew", o->clock_skew_ms, 0, 600000, &ms));
  o->clock_skew_ms = (unsigned)ms;
  KEDGE_CONFIG_KEEP(err, kedge_config_string(node, "realm", o->realm, &o->realm));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(node, "token_uri", o->token_uri, &o->token_uri));
  KEDGE_CONFIG_KEEP(
      err, kedge_config_duration(node, "token_margin", o->token_margin_ms, 0, 3600000, &ms));
  o->token_margin_ms = (unsigned)ms;
  if (!err && o->token_uri && strncmp(o->token_uri, "https://", 8) != 0)
    err = kedge_config_invalid(node, "token_uri",
                               "must be an https:// URI (the NRF's "
                               "Nnrf_AccessToken, TS 29.510 5.4)");
  if (!err && o->realm && strpbrk(o->realm, "\"\\\r\n"))
    err = kedge_config_invalid(node, "realm",
                               "must not contain quotes, backslashes or line "
                               "breaks (RFC 9110 11.6.1 quoted-string)");
  if (!err && o->required && !o->jwks_file)
    err = kedge_config_require(node, "jwks_file");
  return err;
}
