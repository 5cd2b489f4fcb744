/* EDGE-4 inside the PSK tunnel: Eecs_ServiceProvisioning "request" (TS 24.558 8.2.2,
 * OpenAPI TS24558_Eecs_ServiceProvisioning: POST {apiRoot}/eecs-serviceprovisioning/v1/request
 * with ECSServProvReq -> 200 ECSServProvResp or 204), answered from the ECS's configuration.
 * Authorisation (SPEC.md 4): the connection's Kedge ID authenticated the UE in the handshake;
 * the first eecId on the connection is bound to it, and the ECS's policy lists the EEC IDs
 * and ACs it serves. */
#include <stdio.h>
#include <string.h>

#include "service_provisioning.h"

#include "conn_binding.h"
#include "ecs.h"
#include "kedge/json_check.h"
#include "kedge/log.h"
#include "kedge/problem.h"
#include "kedge/time.h"

#define EEC_ID_MAX   256
#define AC_ID_MAX    256
#define AC_PROFS_MAX 64

/* kedge's own cause for 403 (TS 24.558 leaves the ProblemDetails cause open). */
#define CAUSE_EEC_NOT_AUTHORIZED "EEC_NOT_AUTHORIZED"

bool ecs_list_allows(const char *const *list, size_t n, const char *value)
{
  for (size_t i = 0; i < n; i++)
    if (!strcmp(list[i], "*") || !strcmp(list[i], value))
      return true;
  return false;
}

static const char *check_non_empty(const json_t *value)
{
  return json_string_length(value) == 0 ? "must not be empty" : NULL;
}

/* eecId (TS 24.558 ECSServProvReq; TS24558_Eecs_ServiceProvisioning.yaml types it as a plain
 * string): the ECS keeps it (bound to the connection) and may log or audit it, so it is held to
 * an identifier's characters: RFC 3986 unreserved (A-Z a-z 0-9 - . _ ~) plus '@' and ':' for
 * NAI- and URN-like IDs. No control characters, spaces, quotes or '%' (issue 12). */
static const char *check_eec_id(const json_t *value)
{
  const char *s = json_string_value(value);
  size_t n = json_string_length(value);
  if (n == 0)
    return "must not be empty";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~' || c == '@' || c == ':';
    if (!ok)
      return "only letters, digits and - . _ ~ @ : are allowed";
  }
  return NULL;
}

/* TS 24.558 ECSServProvReq: eecId required; ueId (Gpsi) and acProfs optional; the other
 * members (connInfo, locInf, ecspIds, ...) are accepted and not used. */
const kedge_json_member_t ecs_serv_prov_req_members[] = {
    {.name = "eecId",
     .kind = KEDGE_JSON_STRING,
     .required = true,
     .max_len = EEC_ID_MAX,
     .check = check_eec_id},
    {.name = "ueId", .kind = KEDGE_JSON_STRING, .max_len = 256},
    {.name = "acProfs", .kind = KEDGE_JSON_ARRAY, .max_len = AC_PROFS_MAX},
    {.name = NULL},
};

/* TS 24.558 ACProfile: acId required. */
const kedge_json_member_t ecs_ac_profile_members[] = {
    {.name = "acId",
     .kind = KEDGE_JSON_STRING,
     .required = true,
     .max_len = AC_ID_MAX,
     .check = check_non_empty},
    {.name = NULL},
};

/* Does `ees` serve one of `acs`? "*" on either side matches anything. */
static bool ees_serves(const ecs_ees_t *ees, const char *const *acs, size_t n_acs)
{
  for (size_t i = 0; i < n_acs; i++) {
    if (!strcmp(acs[i], "*") && ees->n_ac_ids > 0)
      return true;
    if (ecs_list_allows(ees->ac_ids, ees->n_ac_ids, acs[i]))
      return true;
  }
  return false;
}

static json_t *ees_info(const ecs_ees_t *ees)
{
  /* TS 24.558 EESInfo: eesId and eecRegConf required; endPt (TS 29.558 EndPoint) with uri */
  json_t *j = json_pack("{s:s, s:{s:s}, s:b}", "eesId", ees->ees_id, "endPt", "uri", ees->uri,
                        "eecRegConf", ees->eec_reg_conf);
  if (j && ees->n_auth_methods) {
    json_t *methods = json_array();
    for (size_t i = 0; methods && i < ees->n_auth_methods; i++)
      json_array_append_new(methods, json_string(ees->auth_methods[i]));
    if (!methods || json_object_set_new(j, "eesAuthMethods", methods)) {
      json_decref(j);
      return NULL;
    }
  }
  return j;
}

kedge_err_t ecs_provisioning_answer(const ecs_provisioning_t *prov, const char *const *ac_ids,
                                    size_t n_ac_ids, int64_t now_unix_ms, json_t **resp)
{
  *resp = NULL;
  /* No AC named: whatever the policy allows (TS 24.558 8.2.2: the ECS decides). */
  if (n_ac_ids == 0) {
    ac_ids = prov->allowed_ac_ids;
    n_ac_ids = prov->n_allowed_ac_ids;
  }
  char life[KEDGE_RFC3339_LEN + 1];
  kedge_rfc3339_format(now_unix_ms + prov->lifetime_ms, life);
  json_t *infos = json_array();
  if (!infos)
    return KEDGE_ERR_NOMEM;
  for (size_t i = 0; i < prov->n_edns; i++) {
    const ecs_edn_t *edn = &prov->edns[i];
    json_t *eess = json_array();
    if (!eess)
      goto nomem;
    for (size_t j = 0; j < edn->n_eess; j++) {
      if (!ees_serves(&edn->eess[j], ac_ids, n_ac_ids))
        continue;
      json_t *ees = ees_info(&edn->eess[j]);
      if (!ees || json_array_append_new(eess, ees)) {
        json_decref(eess);
        goto nomem;
      }
    }
    if (json_array_size(eess) == 0) {
      json_decref(eess);
      continue;
    }
    /* TS 24.558 EDNConfigInfo: ednConInfo (EDNConInfo with dnn), eess, lifeTime */
    json_t *info = json_pack("{s:{s:s}, s:o, s:s}", "ednConInfo", "dnn", edn->dnn, "eess", eess,
                             "lifeTime", life);
    if (!info || json_array_append_new(infos, info))
      goto nomem;
  }
  if (json_array_size(infos) == 0) {
    json_decref(infos);
    return KEDGE_OK; /* 204 */
  }
  *resp = json_pack("{s:o}", "ednCnfgInfo", infos);
  return *resp ? KEDGE_OK : KEDGE_ERR_NOMEM;
nomem:
  json_decref(infos);
  return KEDGE_ERR_NOMEM;
}

static void respond_invalid(kedge_sbi_request_t *req, json_t *problem, bool missing_only)
{
  if (missing_only)
    json_object_set_new(problem, "cause", json_string("MANDATORY_IE_MISSING"));
  kedge_sbi_respond_problem_json(req, problem);
}

/* One line per request; the Kedge ID (the connection's PSK identity, which passed the strict
 * parser) as the kedge_id field (docs/operations.md "Logs"). */
static void log_provisioning(const char *kedge_id, int status, const char *what)
{
  char st[8];
  snprintf(st, sizeof(st), "%d", status);
  const kedge_log_field_t f[] = {{"kedge_id", kedge_id, false}, {"status", st, true}};
  kedge_log_fields(KEDGE_LOG_INFO, f, sizeof(f) / sizeof(f[0]), "service provisioning: %s", what);
}

static void service_provisioning_request(kedge_sbi_request_t *req, void *arg)
{
  ecs_t *ecs = arg;
  const ecs_provisioning_t *prov = &ecs->prov;
  json_t *body = kedge_sbi_request_json(req);
  json_t *problem = kedge_problem_new(400, "MANDATORY_IE_INCORRECT", "invalid ECSServProvReq");
  if (!problem) {
    kedge_sbi_respond_err(req, KEDGE_ERR_NOMEM, NULL);
    return;
  }
  bool missing_only = false;
  kedge_err_t err = kedge_json_check(body, ecs_serv_prov_req_members, problem, &missing_only);
  const json_t *profs = json_is_object(body) ? json_object_get(body, "acProfs") : NULL;
  const char *acs[AC_PROFS_MAX];
  size_t n_acs = 0, n_asked = 0;
  if (!err && profs) {
    bool all_missing = true;
    size_t i;
    json_t *prof;
    json_array_foreach(profs, i, prof)
    {
      char at[32];
      snprintf(at, sizeof(at), "/acProfs/%zu", i);
      bool missing = false;
      if (kedge_json_check_at(prof, ecs_ac_profile_members, at, problem, &missing)) {
        all_missing = all_missing && missing;
        err = KEDGE_ERR_INVALID_ARG;
        continue;
      }
      n_asked++;
      const char *ac_id = json_string_value(json_object_get(prof, "acId"));
      if (ecs_list_allows(prov->allowed_ac_ids, prov->n_allowed_ac_ids, ac_id))
        acs[n_acs++] = ac_id;
    }
    missing_only = err && all_missing;
  }
  if (err) {
    respond_invalid(req, problem, missing_only);
    json_decref(problem);
    return;
  }
  json_decref(problem);

  const char *eec_id = json_string_value(json_object_get(body, "eecId"));
  const char *kedge_id = kedge_sbi_request_peer(req, 0);
  const char *token = kedge_sbi_request_peer(req, 1);
  if (!ecs_list_allows(prov->allowed_eec_ids, prov->n_allowed_eec_ids, eec_id)) {
    log_provisioning(kedge_id, 403, "eecId not in allowed_eec_ids");
    kedge_sbi_respond_problem(req, 403, CAUSE_EEC_NOT_AUTHORIZED,
                              "this ECS does not serve that eecId");
    return;
  }
  err = ecs_conn_bind_eec(token, eec_id);
  if (err == KEDGE_ERR_FORBIDDEN) {
    log_provisioning(kedge_id, 403, "a second eecId on one connection");
    kedge_sbi_respond_problem(req, 403, CAUSE_EEC_NOT_AUTHORIZED,
                              "another eecId is bound to this connection's Kedge ID");
    return;
  }
  if (err) {
    kedge_sbi_respond_problem(req, 500, "SYSTEM_FAILURE", "connection state lost");
    return;
  }
  json_t *resp = NULL;
  if (n_asked > 0 && n_acs == 0)
    err = KEDGE_OK; /* every AC asked for is outside the policy: nothing matches */
  else
    err = ecs_provisioning_answer(prov, acs, n_acs, kedge_wall_ms(), &resp);
  if (err) {
    kedge_sbi_respond_err(req, err, NULL);
    return;
  }
  /* eecId is the peer's text: it stays out of the log (the Kedge ID passed the strict parser) */
  log_provisioning(kedge_id, resp ? 200 : 204, resp ? "served" : "nothing matches");
  if (resp)
    kedge_sbi_respond_json(req, 200, NULL, resp);
  else
    kedge_sbi_respond(req, 204, NULL, NULL, 0);
  json_decref(resp);
}

kedge_err_t ecs_service_provisioning_setup(ecs_t *ecs, kedge_sbi_server_t *srv)
{
  return kedge_sbi_server_route(srv, "POST", "/eecs-serviceprovisioning/v1/request", NULL,
                                service_provisioning_request, ecs);
}
