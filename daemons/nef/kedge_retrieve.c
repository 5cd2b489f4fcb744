/* The NEF northbound key APIs, one handler for both (the differences are in nef_api_t):
 * - SPEC.md 3, modelled on 3gpp-akma of TS 29.522: POST /3gpp-kedge/v1/retrieve
 *   {afId, kedgeId, ecsId?} -> 200 {kedgeId, kedge, expiry}. Steps 5.1-6.2 of the solution
 *   (SPEC.md 0): the AF (an ECS outside the operator domain) asks the NEF; the NEF asks the AUSF
 *   that holds the key (Nausf_UEAuthentication_keyrequest) as itself and relays the answer.
 * - SPEC.md 9, TS 29.522 3gpp-akma: POST /3gpp-akma/v1/retrieve {afId, aKId} -> 200
 *   AkmaAfKeyData {kaf, expiry}, 204 when unknown (TS 33.535 6.3: the AF outside the domain
 *   asks the NEF, the NEF asks the AAnF chosen by the A-KID's realm and RID,
 *   Naanf_AKMA_ApplicationKey_Get, for K_AF of the AF's own afId).
 * The key passes through and is kept nowhere: not stored, not cached, not logged. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "kedge/akma.h"
#include "kedge/hex.h"
#include "kedge/json_check.h"
#include "kedge/log.h"
#include "kedge/problem.h"
#include "kedge/time.h"
#include "nef.h"

/* What differs between the two northbound APIs. */
typedef struct nef_api {
  const char *path;      /* northbound */
  const char *type_name; /* of the request body, for 400 details */
  const char *id_member; /* the key ID's member: "kedgeId", "aKId" */
  const kedge_json_member_t *members;
  kedge_err_t (*parse_id)(const char *text, size_t len, kedge_id_t *id, const char **why);
  bool akma;
  kedge_key_api_t southbound;
  /* static phrases for answers and the audit line */
  const char *no_group, *none_in_time, *none_reachable, *congested, *bad_answer, *refused;
} nef_api_t;

typedef struct retrieve {
  const nef_api_t *api;
  nef_t *nef;
  kedge_sbi_request_t *req;
  nef_af_t *af;                                /* set while an admission slot is held */
  const kedge_key_route_t *group;              /* the AUSF (AAnF) group asked: row of ausf.groups
                                                  (aanf.groups) */
  kedge_key_fetch_t *call;                     /* the key request in flight, or NULL */
  kedge_id_t id;                               /* the Kedge ID, parsed */
  char peer[256];                              /* first SAN DNS name of the certificate (a copy: the
                                                  audit line is written after the request is freed) */
  const char *detail;                          /* static phrase for the audit line */
  char af_id[KEDGE_ECS_ID_MAX + 1];            /* "" until it passed the checks */
  char kedge_id[KEDGE_ID_MAX + 1];             /* "" until it parsed */
  char ecs_id[KEDGE_ECS_ID_MAX + 1];           /* "" for profile kedge */
  char callback[KEDGE_SBI_NOTIFY_URI_MAX + 1]; /* the AF's revocCallbackUri, or "" */
  int64_t start_us;
  int64_t ausf_us; /* time spent waiting for AUSFs, all attempts */
} retrieve_t;

const char *nef_outcome_name(nef_outcome_t outcome)
{
  static const char *const names[NEF_OUT__COUNT] = {
      [NEF_OUT_SUCCESS] = "success",         [NEF_OUT_NOT_FOUND] = "not_found",
      [NEF_OUT_BAD_REQUEST] = "bad_request", [NEF_OUT_UNAUTHORIZED] = "unauthorized",
      [NEF_OUT_FORBIDDEN] = "forbidden",     [NEF_OUT_RATE_LIMITED] = "rate_limited",
      [NEF_OUT_UNAVAILABLE] = "unavailable", [NEF_OUT_UPSTREAM] = "upstream_error",
      [NEF_OUT_CANCELLED] = "cancelled",     [NEF_OUT_INTERNAL] = "internal_error",
  };
  return outcome < NEF_OUT__COUNT ? names[outcome] : "internal_error";
}

/* ---- audit ---- */

/* One line per request (issue 7): who asked (certificate and afId), for which Kedge ID, which
 * AUSF group, the outcome and the latency. Only values that passed their checks are written
 * (a malformed afId or Kedge ID shows as "-"), so a peer cannot forge log lines; never the
 * key. */
static void audit(const retrieve_t *r, nef_outcome_t outcome, int status)
{
  kedge_counter_add((r->api->akma ? r->nef->akma_requests : r->nef->requests)[outcome], 1);
  char st[8], ms[24];
  snprintf(st, sizeof(st), "%d", status);
  snprintf(ms, sizeof(ms), "%.3f", (double)(kedge_now_us() - r->start_us) / 1000.0);
  /* identifiers as fields (docs/operations.md "Logs"): JSON lines carry them as members */
  const kedge_log_field_t f[] = {
      {"peer", r->peer, false},
      {r->api->akma ? "a_kid" : "kedge_id", r->kedge_id[0] ? r->kedge_id : NULL, false},
      {"status", st, true},
      {"duration_ms", ms, true},
  };
  kedge_log_fields(
      KEDGE_LOG_INFO, f, sizeof(f) / sizeof(f[0]),
      "audit: afId=%s profile=%s %s=%s outcome=%s ausf_ms=%.3f%s%s%s", r->af_id[0] ? r->af_id : "-",
      !r->kedge_id[0] ? "-"
      : r->api->akma  ? "akma"
      : r->ecs_id[0]  ? "bound"
                      : "kedge",
      r->api->akma ? "aanf_group" : "ausf_group", r->group ? r->group->name : "-",
      nef_outcome_name(outcome), (double)r->ausf_us / 1000.0, r->detail ? " detail=\"" : "",
      r->detail ? r->detail : "", r->detail ? "\"" : "");
}

static void respond_problem(retrieve_t *r, nef_outcome_t outcome, int status, const char *cause,
                            const char *detail)
{
  r->detail = detail;
  kedge_sbi_respond_problem(r->req, status, cause, detail);
  audit(r, outcome, status);
}

static void respond_retry_later(retrieve_t *r, nef_outcome_t outcome, int status, const char *cause,
                                const char *detail, unsigned seconds)
{
  char value[16];
  snprintf(value, sizeof(value), "%u", seconds ? seconds : 1); /* RFC 9110 10.2.3 */
  kedge_sbi_response_header(r->req, "retry-after", value);
  respond_problem(r, outcome, status, cause, detail);
}

/* ---- request checks ---- */

/* The request body: a KedgeAfKeyRequest (docs/nef.md). */
const kedge_json_member_t nef_key_request_members[] = {
    {.name = "afId", .kind = KEDGE_JSON_STRING, .required = true, .max_len = KEDGE_ECS_ID_MAX + 1},
    {.name = "kedgeId", .kind = KEDGE_JSON_STRING, .required = true, .max_len = KEDGE_ID_MAX},
    {.name = "ecsId", .kind = KEDGE_JSON_STRING, .max_len = KEDGE_ECS_ID_MAX + 1},
    {.name = "revocCallbackUri", .kind = KEDGE_JSON_STRING, .max_len = KEDGE_SBI_NOTIFY_URI_MAX},
    {.name = NULL},
};

/* TS 29.522 AkmaAfKeyRequest */
static const kedge_json_member_t akma_request_members[] = {
    {.name = "afId", .kind = KEDGE_JSON_STRING, .required = true, .max_len = KEDGE_ECS_ID_MAX + 1},
    {.name = "aKId", .kind = KEDGE_JSON_STRING, .required = true, .max_len = KEDGE_ID_MAX},
    {.name = "anonInd", .kind = KEDGE_JSON_BOOLEAN},
    {.name = "suppFeat", .kind = KEDGE_JSON_STRING, .max_len = 64},
    {.name = NULL},
};

static const nef_api_t kedge_api = {
    .path = "/3gpp-kedge/v1/retrieve",
    .type_name = "KedgeAfKeyRequest",
    .id_member = "kedgeId",
    .members = nef_key_request_members,
    .parse_id = kedge_id_parse,
    .southbound = KEDGE_KEY_API_AUSF_KEDGE,
    .no_group = "no AUSF group serves this home network and RID",
    .none_in_time = "no AUSF of the group answered in time",
    .none_reachable = "no AUSF of the group is reachable",
    .congested = "the AUSF is congested",
    .bad_answer = "the AUSF's answer is not a KedgeKeyResponse for this Kedge ID",
    .refused = "the AUSF refused or failed the request",
};

static const nef_api_t akma_api = {
    .path = "/3gpp-akma/v1/retrieve",
    .type_name = "AkmaAfKeyRequest",
    .id_member = "aKId",
    .members = akma_request_members,
    .parse_id = kedge_akid_parse,
    .akma = true,
    .southbound = KEDGE_KEY_API_AANF_AKMA,
    .no_group = "no AAnF group serves this home network and RID",
    .none_in_time = "no AAnF of the group answered in time",
    .none_reachable = "no AAnF of the group is reachable",
    .congested = "the AAnF is congested",
    .bad_answer = "the AAnF's answer is not an AkmaAfKeyData",
    .refused = "the AAnF refused or failed the request",
};

/* A DNS name member normalised (SPEC.md 6: lower case, no trailing dot); an embedded NUL is
 * refused rather than silently cutting the name short. */
static const char *normalise_name(const json_t *v, char out[KEDGE_ECS_ID_MAX + 1])
{
  const char *why = NULL;
  if (strlen(json_string_value(v)) != json_string_length(v))
    return "must not contain NUL";
  if (kedge_ecs_id_normalise(json_string_value(v), out, &why) != KEDGE_OK)
    return why ? why : "must be a DNS name";
  return NULL;
}

/* Syntax: the members, the strict Kedge ID grammar (SPEC.md 2), DNS names for afId and ecsId.
 * Fills r and *id, or answers 400 with every offending member in invalidParams. */
static bool check_body(retrieve_t *r, kedge_id_t *id)
{
  json_t *body = kedge_sbi_request_json(r->req);
  char detail[64];
  snprintf(detail, sizeof(detail), "invalid %s", r->api->type_name);
  json_t *problem = kedge_problem_new(400, "MANDATORY_IE_INCORRECT", detail);
  if (!problem) {
    respond_problem(r, NEF_OUT_INTERNAL, 500, "INSUFFICIENT_RESOURCES", "out of memory");
    return false;
  }
  bool missing_only = false, mandatory_bad = false, optional_bad = false;
  if (kedge_json_check(body, r->api->members, problem, &missing_only) != KEDGE_OK) {
    if (missing_only)
      json_object_set_new(problem, "cause", json_string("MANDATORY_IE_MISSING"));
    r->detail = missing_only ? "mandatory member missing" : "invalid member";
    kedge_sbi_respond_problem_json(r->req, problem);
    audit(r, NEF_OUT_BAD_REQUEST, 400);
    json_decref(problem);
    return false;
  }
  char af_id[KEDGE_ECS_ID_MAX + 1], ecs_id[KEDGE_ECS_ID_MAX + 1] = "";
  const char *why = normalise_name(json_object_get(body, "afId"), af_id);
  if (why) {
    kedge_problem_add_invalid_param(problem, "/afId", why);
    mandatory_bad = true;
  } else {
    memcpy(r->af_id, af_id, sizeof(af_id)); /* for the audit line, also when 400 */
  }
  const json_t *kid = json_object_get(body, r->api->id_member);
  if (r->api->parse_id(json_string_value(kid), json_string_length(kid), id, &why) != KEDGE_OK) {
    char param[16];
    snprintf(param, sizeof(param), "/%s", r->api->id_member);
    kedge_problem_add_invalid_param(problem, param, why ? why : "not a key ID");
    mandatory_bad = true;
  }
  const json_t *ecs = json_object_get(body, "ecsId");
  if (ecs && (why = normalise_name(ecs, ecs_id)) != NULL) {
    kedge_problem_add_invalid_param(problem, "/ecsId", why);
    optional_bad = true;
  }
  const char *callback = json_string_value(json_object_get(body, "revocCallbackUri"));
  if (callback && !kedge_sbi_callback_uri_ok(callback)) {
    kedge_problem_add_invalid_param(problem, "/revocCallbackUri",
                                    "must be an absolute https URI without user info");
    optional_bad = true;
  }
  if (mandatory_bad || optional_bad) {
    /* TS 29.500 Table 5.2.7.2-1: only the optional IE wrong -> OPTIONAL_IE_INCORRECT */
    if (!mandatory_bad)
      json_object_set_new(problem, "cause", json_string("OPTIONAL_IE_INCORRECT"));
    r->detail = "invalid member";
    kedge_sbi_respond_problem_json(r->req, problem);
    audit(r, NEF_OUT_BAD_REQUEST, 400);
    json_decref(problem);
    return false;
  }
  json_decref(problem);
  memcpy(r->ecs_id, ecs_id, sizeof(ecs_id));
  snprintf(r->callback, sizeof(r->callback), "%s", callback ? callback : "");
  snprintf(r->kedge_id, sizeof(r->kedge_id), "%s", json_string_value(kid));
  return true;
}

/* Authorisation (SPEC.md 3): the certificate proves afId, the AF table lists it, the profile
 * is one it may use (SPEC.md 6: in bound, ecsId is the AF's own FQDN), and the home network is
 * one it may ask about. Answers 403 and returns NULL otherwise. */
static nef_af_t *authorise(retrieve_t *r, const kedge_id_t *id)
{
  if (!kedge_sbi_request_peer_is(r->req, r->af_id)) {
    respond_problem(r, NEF_OUT_FORBIDDEN, 403, "AF_ID_MISMATCH",
                    "afId is not a SAN DNS name of the client certificate");
    return NULL;
  }
  nef_af_t *af = nef_af_find(r->nef, r->af_id);
  if (!af) {
    respond_problem(r, NEF_OUT_FORBIDDEN, 403, "AF_NOT_AUTHORIZED", "afId is not in the AF table");
    return NULL;
  }
  if (r->api->akma) {
    /* SPEC.md 9: K_AF only for the AF's own afId (checked above against its certificate) */
    if (!(af->profiles & NEF_PROFILE_AKMA)) {
      respond_problem(r, NEF_OUT_FORBIDDEN, 403, "PROFILE_NOT_ALLOWED",
                      "this AF may not use profile akma");
      return NULL;
    }
  } else if (r->ecs_id[0]) {
    if (!(af->profiles & NEF_PROFILE_BOUND)) {
      respond_problem(r, NEF_OUT_FORBIDDEN, 403, "PROFILE_NOT_ALLOWED",
                      "this AF may not use profile bound (ecsId)");
      return NULL;
    }
    if (strcmp(r->ecs_id, r->af_id) != 0) {
      respond_problem(r, NEF_OUT_FORBIDDEN, 403, "PROFILE_NOT_ALLOWED",
                      "in profile bound ecsId must equal afId");
      return NULL;
    }
  } else if (!(af->profiles & NEF_PROFILE_KEDGE)) {
    respond_problem(r, NEF_OUT_FORBIDDEN, 403, "PROFILE_NOT_ALLOWED",
                    "this AF may only use profile bound: send ecsId");
    return NULL;
  }
  if (!nef_af_serves_home(af, &id->home)) {
    respond_problem(r, NEF_OUT_FORBIDDEN, 403, "HOME_NETWORK_NOT_ALLOWED",
                    "this AF may not ask for keys of that home network");
    return NULL;
  }
  return af;
}

/* ---- southbound ---- */

static void finish(retrieve_t *r)
{
  if (r->af)
    nef_rate_release(r->af);
  free(r);
}

static void ausf_answered(const kedge_key_answer_t *a, void *arg);

/* Nausf_UEAuthentication_keyrequest as the NEF itself (SPEC.md 3; profile bound passes ecsId
 * through, the AUSF derives K_ECS) to the group's AUSFs in order, or Naanf_AKMA
 * retrieve-applicationkey for the AF's afId (SPEC.md 9, the AAnF derives K_AF), through the
 * key-service client. */
static void send_request(retrieve_t *r)
{
  kedge_key_client_t *client = r->api->akma ? nef_aanf_client(r->req) : nef_ausf_client(r->req);
  const kedge_key_request_t rq = {
      .api = r->api->southbound,
      .key_id = r->kedge_id,
      .key_id_len = strlen(r->kedge_id),
      .home = &r->id.home,
      .rid = r->id.rid,
      .af_id = r->api->akma ? r->af_id : NULL,
      .ecs_id = r->ecs_id[0] ? r->ecs_id : NULL,
      /* issue 13: the AUSF tells the NEF, the NEF tells the AF (revocation_relay.c) */
      .revoc_callback_uri = r->callback[0] ? nef_revocation_callback_uri(r->nef) : NULL,
  };
  kedge_err_t err =
      client ? kedge_key_fetch(client, &rq, ausf_answered, r, &r->call) : KEDGE_ERR_INVALID_ARG;
  if (err == KEDGE_OK)
    return;
  if (err == KEDGE_ERR_UNAVAILABLE) {
    kedge_log_warn("key source group %s: nothing to send to", r->group->name);
    respond_retry_later(r, NEF_OUT_UNAVAILABLE, 503, "TARGET_NF_NOT_REACHABLE",
                        r->api->none_reachable, r->nef->retry_after_s);
  } else {
    respond_problem(r, NEF_OUT_INTERNAL, 500, "SYSTEM_FAILURE", "cannot ask the key source");
  }
  finish(r);
}

/* The AF went away while the AUSF was asked: drop the AUSF call, release the request. */
static void retrieve_cancelled(kedge_sbi_request_t *req, void *arg)
{
  retrieve_t *r = arg;
  kedge_key_fetch_cancel(r->call);
  r->call = NULL;
  r->detail = "the AF reset the stream";
  kedge_sbi_respond_problem(req, 500, "SYSTEM_FAILURE", NULL); /* only frees it */
  audit(r, NEF_OUT_CANCELLED, 0);
  finish(r);
}

/* The key: relayed as KedgeKeyResponse {kedgeId, kedge, expiry}. It is copied only into the
 * answer's JSON, which is serialized into a buffer the runtime wipes (docs/sbi.md) and freed by
 * jansson through the wiping allocator (wipe_alloc.c). */
static void relay_key(retrieve_t *r, const kedge_key_answer_t *a)
{
  char hex[2 * KEDGE_KEY_LEN + 1], expiry[KEDGE_RFC3339_LEN + 1];
  kedge_hex_encode(a->key, KEDGE_KEY_LEN, hex);
  kedge_rfc3339_format(a->expiry_unix_ms, expiry);
  /* 3gpp-akma: AkmaAfKeyData {kaf, expiry}; the NEF never passes the SUPI outside the domain
   * (the AAnF sends it only to consumers allowed it; docs/nef.md) */
  json_t *out = r->api->akma ? json_pack("{s:s, s:s}", "kaf", hex, "expiry", expiry)
                             : json_pack("{s:s, s:s, s:s}", "kedgeId", r->kedge_id, "kedge", hex,
                                         "expiry", expiry);
  OPENSSL_cleanse(hex, sizeof(hex));
  if (!out) {
    respond_problem(r, NEF_OUT_INTERNAL, 500, "INSUFFICIENT_RESOURCES", "out of memory");
    return;
  }
  kedge_sbi_respond_json(r->req, 200, NULL, out);
  json_decref(out);
  if (r->callback[0])
    nef_revocation_subscribe(r->nef, r->kedge_id, r->af_id, r->callback);
  audit(r, NEF_OUT_SUCCESS, 200);
}

static void ausf_answered(const kedge_key_answer_t *a, void *arg)
{
  retrieve_t *r = arg;
  nef_t *nef = r->nef;
  const nef_api_t *api = r->api;
  r->call = NULL;
  r->ausf_us += (int64_t)a->elapsed_us;
  kedge_histogram_observe(api->akma ? nef->aanf_latency : nef->ausf_latency,
                          (double)a->elapsed_us / 1e6);
  kedge_counter_add(api->akma ? nef->aanf_unreachable : nef->ausf_unreachable, a->unreachable);
  kedge_counter_add(api->akma ? nef->aanf_timeouts : nef->ausf_timeouts, a->timeouts);
  if (a->status)
    kedge_counter_add(api->akma ? nef->aanf_answers : nef->ausf_answers, 1);
  kedge_sbi_request_on_cancel(r->req, NULL, NULL);

  switch (a->outcome) {
  case KEDGE_KEY_OK:
    relay_key(r, a);
    break;
  case KEDGE_KEY_NOT_FOUND:
    if (api->akma) {
      /* TS 29.522 3gpp-akma: 204 No Content for an unknown (or expired) A-KID */
      kedge_sbi_respond(r->req, 204, NULL, NULL, 0);
      audit(r, NEF_OUT_NOT_FOUND, 204);
    } else {
      /* SPEC.md 3: unknown or expired, one answer for both */
      respond_problem(r, NEF_OUT_NOT_FOUND, 404, "KEDGE_ID_NOT_FOUND", NULL);
    }
    break;
  case KEDGE_KEY_TIMEOUT:
  case KEDGE_KEY_UNREACHABLE:
    kedge_log_warn("key source group %s: %s (last %s)", r->group->name,
                   kedge_key_outcome_text(a->outcome), a->uri);
    if (a->outcome == KEDGE_KEY_TIMEOUT)
      respond_retry_later(r, NEF_OUT_UNAVAILABLE, 503, "TIMED_OUT_REQUEST", api->none_in_time,
                          nef->retry_after_s);
    else
      respond_retry_later(r, NEF_OUT_UNAVAILABLE, 503, "TARGET_NF_NOT_REACHABLE",
                          api->none_reachable, nef->retry_after_s);
    break;
  case KEDGE_KEY_TOO_MANY:
  case KEDGE_KEY_UNAVAILABLE:
    /* a congested key source's Retry-After passed on when it is within an hour */
    respond_retry_later(r, NEF_OUT_UNAVAILABLE, 503, "NF_CONGESTION", api->congested,
                        a->retry_after_s >= 1 && a->retry_after_s <= 3600 ? a->retry_after_s
                                                                          : nef->retry_after_s);
    break;
  case KEDGE_KEY_BAD_ANSWER:
    if (a->status == 200) {
      kedge_log_warn("key source %s (group %s): 200 without a usable answer", a->uri,
                     r->group->name);
      respond_problem(r, NEF_OUT_UPSTREAM, 502, "UPSTREAM_SERVER_ERROR", api->bad_answer);
      break;
    }
    /* fall through */
  default:
    /* 400 or 403 here mean the NEF and the key source disagree (the NEF checked the request;
     * the AUSF must list the NEF in keyrequest.allowed_consumers and, for bound,
     * keyrequest.relays; the AAnF in applicationkey.allowed_consumers and relays): the AF can
     * do nothing about it, so it is the gateway's error, not the AF's. */
    kedge_log_warn("key source %s (group %s): status %ld cause %s", a->uri, r->group->name,
                   a->status, a->cause[0] ? a->cause : "-");
    respond_problem(r, NEF_OUT_UPSTREAM, 502, "UPSTREAM_SERVER_ERROR", api->refused);
  }
  finish(r);
}

/* ---- the handler ---- */

static void retrieve(kedge_sbi_request_t *req, nef_t *nef, const nef_api_t *api)
{
  retrieve_t local = {.api = api, .nef = nef, .req = req, .start_us = kedge_now_us()};
  const char *peer = kedge_sbi_request_peer_count(req) ? kedge_sbi_request_peer(req, 0) : NULL;
  snprintf(local.peer, sizeof(local.peer), "%s", peer ? peer : "-");

  kedge_jwt_status_t token;
  kedge_err_t err = nef_oauth_check(nef, req, &token);
  if (err) {
    local.detail = kedge_jwt_status_text(token);
    audit(&local,
          err != KEDGE_ERR_FORBIDDEN              ? NEF_OUT_INTERNAL
          : token == KEDGE_JWT_INSUFFICIENT_SCOPE ? NEF_OUT_FORBIDDEN
                                                  : NEF_OUT_UNAUTHORIZED,
          err != KEDGE_ERR_FORBIDDEN              ? 500
          : token == KEDGE_JWT_INSUFFICIENT_SCOPE ? 403
                                                  : 401);
    return;
  }
  kedge_id_t id;
  if (!check_body(&local, &id))
    return;
  nef_af_t *af = authorise(&local, &id);
  if (!af)
    return;
  local.id = id;
  local.group =
      kedge_key_route_find(api->akma ? &nef->aanf_groups : &nef->groups, &id.home, id.rid);
  if (!local.group) {
    /* SPEC.md 3: a Kedge ID whose home network or RID no AUSF group serves is not found;
     * SPEC.md 9 likewise for an A-KID and the AAnF groups (204, as 3gpp-akma answers) */
    local.detail = api->no_group;
    if (api->akma) {
      kedge_sbi_respond(req, 204, NULL, NULL, 0);
      audit(&local, NEF_OUT_NOT_FOUND, 204);
    } else {
      kedge_sbi_respond_problem(req, 404, "KEDGE_ID_NOT_FOUND", NULL);
      audit(&local, NEF_OUT_NOT_FOUND, 404);
    }
    return;
  }
  unsigned retry_after = 1;
  const char *why = NULL;
  if (nef_rate_admit(af, local.start_us, &retry_after, &why) != KEDGE_OK) {
    /* TS 29.500 Table 5.2.7.2-1: 429 NF_CONGESTION_RISK */
    respond_retry_later(&local, NEF_OUT_RATE_LIMITED, 429, "NF_CONGESTION_RISK", why, retry_after);
    return;
  }
  retrieve_t *r = malloc(sizeof(*r));
  if (!r) {
    nef_rate_release(af);
    respond_problem(&local, NEF_OUT_INTERNAL, 500, "INSUFFICIENT_RESOURCES", "out of memory");
    return;
  }
  *r = local;
  r->af = af;
  kedge_sbi_request_on_cancel(req, retrieve_cancelled, r);
  send_request(r);
}

static void retrieve_kedge(kedge_sbi_request_t *req, void *arg)
{
  retrieve(req, arg, &kedge_api);
}

static void retrieve_akma(kedge_sbi_request_t *req, void *arg)
{
  retrieve(req, arg, &akma_api);
}

/* ---- set-up ---- */

kedge_err_t nef_retrieve_setup(nef_t *nef, kedge_sbi_server_t *srv)
{
  static const double bounds[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05,
                                  0.1,    0.25,  0.5,   1,     2.5,  5};
  nef->srv = srv;
  kedge_metrics_t *m = kedge_sbi_server_metrics(srv);
  kedge_err_t err = KEDGE_OK;
  for (int i = 0; i < NEF_OUT__COUNT && !err; i++) {
    char labels[64] = "";
    err = kedge_metrics_label(labels, sizeof(labels), "outcome", nef_outcome_name(i));
    if (!err)
      err = kedge_metrics_counter(m, "kedge_nef_requests_total",
                                  "3gpp-kedge retrieve requests by outcome", labels,
                                  &nef->requests[i]);
    if (!err)
      err = kedge_metrics_counter(m, "kedge_nef_akma_requests_total",
                                  "3gpp-akma retrieve requests by outcome", labels,
                                  &nef->akma_requests[i]);
  }
  const char *attempts = "kedge_nef_ausf_attempts_total", *help = "calls to AUSFs by result";
  if (err ||
      (err = kedge_metrics_counter(m, attempts, help, "result=\"answered\"", &nef->ausf_answers)) ||
      (err = kedge_metrics_counter(m, attempts, help, "result=\"unreachable\"",
                                   &nef->ausf_unreachable)) ||
      (err = kedge_metrics_counter(m, attempts, help, "result=\"timeout\"", &nef->ausf_timeouts)) ||
      (err =
           kedge_metrics_histogram(m, "kedge_nef_ausf_request_duration_seconds",
                                   "time from sending a key request to an AUSF to its answer", NULL,
                                   bounds, sizeof(bounds) / sizeof(bounds[0]), &nef->ausf_latency)))
    return err;
  const char *aanf_attempts = "kedge_nef_aanf_attempts_total",
             *aanf_help = "calls to AAnFs (3gpp-akma) by result";
  if ((err = kedge_metrics_counter(m, aanf_attempts, aanf_help, "result=\"answered\"",
                                   &nef->aanf_answers)) ||
      (err = kedge_metrics_counter(m, aanf_attempts, aanf_help, "result=\"unreachable\"",
                                   &nef->aanf_unreachable)) ||
      (err = kedge_metrics_counter(m, aanf_attempts, aanf_help, "result=\"timeout\"",
                                   &nef->aanf_timeouts)) ||
      (err = kedge_metrics_histogram(m, "kedge_nef_aanf_request_duration_seconds",
                                     "time from sending a K_AF request to an AAnF to its answer",
                                     NULL, bounds, sizeof(bounds) / sizeof(bounds[0]),
                                     &nef->aanf_latency)))
    return err;
  if ((err = nef_ausf_clients_setup(nef, srv)) ||
      (err = kedge_sbi_server_route(srv, "POST", kedge_api.path, NULL, retrieve_kedge, nef)))
    return err;
  /* 3gpp-akma only with aanf.groups: without them there is nowhere to ask */
  if (!nef->aanf_groups.n)
    return KEDGE_OK;
  return kedge_sbi_server_route(srv, "POST", akma_api.path, NULL, retrieve_akma, nef);
}
