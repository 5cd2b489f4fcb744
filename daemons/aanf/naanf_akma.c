/* Naanf_AKMA (TS 29.535; SPEC.md 9), the three operations kedge's AKMA flow uses:
 *   POST /naanf-akma/v1/register-anchorkey      AkmaKeyInfo -> 200 AkmaKeyInfo (TS 33.535 6.1
 *        step 4: the AUSF sends SUPI, A-KID and K_AKMA; the AAnF keeps the latest per SUPI)
 *   POST /naanf-akma/v1/retrieve-applicationkey AkmaAfKeyRequest -> 200 AkmaAfKeyData, or 204
 *        when the A-KID is unknown or expired (TS 33.535 6.2 steps 3-4, 6.3 via the NEF)
 *   POST /naanf-akma/v1/remove-context          CtxRemove -> 204 (TS 33.535 6.x: the AUSF on
 *        deregistration)
 * Consumers are authorised by their certificate's SAN DNS names: AUSFs for the anchor key, AFs
 * (only for their own afId) and the NEF (any afId) for application keys. K_AF is derived here
 * for the afId asked; K_AKMA never leaves the AAnF. Every answer is audit-logged without keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "aanf.h"
#include "kedge/akma.h"
#include "kedge/hex.h"
#include "kedge/json_check.h"
#include "kedge/log.h"
#include "kedge/problem.h"
#include "kedge/time.h"

/* TS 29.535 AkmaKeyInfo (kedge anchors by SUPI: gpsi alone is refused, see docs/aanf.md) */
static const kedge_json_member_t key_info_members[] = {
    {.name = "aKId", .kind = KEDGE_JSON_STRING, .required = true, .max_len = KEDGE_AKID_MAX},
    {.name = "kAkma",
     .kind = KEDGE_JSON_STRING,
     .required = true,
     .max_len = 64,
     .check = kedge_json_check_hex32},
    {.name = "supi", .kind = KEDGE_JSON_STRING, .max_len = KEDGE_SUPI_MAX},
    {.name = "gpsi", .kind = KEDGE_JSON_STRING, .max_len = 255},
    {.name = "suppFeat", .kind = KEDGE_JSON_STRING, .max_len = 64},
    {.name = NULL},
};

/* TS 29.522 AkmaAfKeyRequest (the AAnF's request body too) */
static const kedge_json_member_t af_key_request_members[] = {
    {.name = "afId", .kind = KEDGE_JSON_STRING, .required = true, .max_len = KEDGE_ECS_ID_MAX + 1},
    {.name = "aKId", .kind = KEDGE_JSON_STRING, .required = true, .max_len = KEDGE_AKID_MAX},
    {.name = "anonInd", .kind = KEDGE_JSON_BOOLEAN},
    {.name = "suppFeat", .kind = KEDGE_JSON_STRING, .max_len = 64},
    {.name = NULL},
};

/* TS 29.535 CtxRemove: "the supi attribute shall be included" */
static const kedge_json_member_t ctx_remove_members[] = {
    {.name = "supi", .kind = KEDGE_JSON_STRING, .required = true, .max_len = KEDGE_SUPI_MAX},
    {.name = NULL},
};

typedef struct call {
  aanf_t *aanf;
  kedge_sbi_request_t *req;
  const aanf_af_consumer_t *af; /* retrieve-applicationkey */
  bool anon;
  char akid[KEDGE_AKID_MAX + 1];
  char supi[KEDGE_SUPI_MAX + 1];
  char af_id[KEDGE_ECS_ID_MAX + 1];
  uint8_t k_akma[KEDGE_K_AKMA_LEN]; /* register-anchorkey: echoed in the 200 AkmaKeyInfo */
} call_t;

static void call_free(call_t *c)
{
  OPENSSL_cleanse(c, sizeof(*c));
  free(c);
}

static call_t *call_new(aanf_t *aanf, kedge_sbi_request_t *req)
{
  call_t *c = calloc(1, sizeof(*c));
  if (!c) {
    kedge_sbi_respond_err(req, KEDGE_ERR_NOMEM, NULL);
    return NULL;
  }
  c->aanf = aanf;
  c->req = req;
  return c;
}

static const char *first_peer(const kedge_sbi_request_t *req)
{
  const char *p = kedge_sbi_request_peer_count(req) ? kedge_sbi_request_peer(req, 0) : NULL;
  return p ? p : "(no certificate name)";
}

static void refuse(aanf_t *aanf, kedge_sbi_request_t *req, const char *op, const char *detail)
{
  kedge_counter_add(aanf->refused, 1);
  kedge_log_info("%s: consumer %s refused (%s)", op, first_peer(req), detail);
  kedge_sbi_respond_problem(req, 403, "CONSUMER_NOT_AUTHORIZED", detail);
}

static void bad_param(kedge_sbi_request_t *req, const char *type, const char *cause,
                      const char *param, const char *why)
{
  char detail[64];
  snprintf(detail, sizeof(detail), "invalid %s", type);
  json_t *problem = kedge_problem_new(400, cause, detail);
  kedge_problem_add_invalid_param(problem, param, why);
  kedge_sbi_respond_problem_json(req, problem);
  json_decref(problem);
}

/* The key store failed (Redis down or slow, SQLite busy or broken): try again shortly
 * (TS 29.500 5.2.7.2: 503 with Retry-After; NF_CONGESTION is the cause for "cannot serve now"). */
static void store_failed(call_t *c, const char *op, kedge_err_t err)
{
  kedge_counter_add(c->aanf->failed, 1);
  kedge_log_warn("%s: consumer %s: key store: %s", op, first_peer(c->req), kedge_strerror(err));
  kedge_sbi_response_header(c->req, "retry-after", "1");
  kedge_sbi_respond_problem(c->req, 503, "NF_CONGESTION", "key store unavailable");
}

static bool anchor_consumer(const aanf_t *aanf, const kedge_sbi_request_t *req)
{
  for (size_t i = 0; i < aanf->n_anchor_consumers; i++)
    if (kedge_sbi_request_peer_is(req, aanf->anchor_consumers[i]))
      return true;
  return false;
}

/* ---- register-anchorkey ---- */

static void registered(kedge_err_t err, void *arg)
{
  call_t *c = arg;
  if (err) {
    kedge_counter_add(c->aanf->register_failed, 1);
    store_failed(c, "register-anchorkey", err);
    call_free(c);
    return;
  }
  char hex[2 * KEDGE_K_AKMA_LEN + 1];
  kedge_hex_encode(c->k_akma, KEDGE_K_AKMA_LEN, hex);
  /* TS 29.535: 200 with the AkmaKeyInfo stored (back to the AUSF that sent it, nobody else) */
  json_t *body = json_pack("{s:s, s:s, s:s}", "supi", c->supi, "aKId", c->akid, "kAkma", hex);
  OPENSSL_cleanse(hex, sizeof(hex));
  if (body)
    kedge_sbi_respond_json(c->req, 200, NULL, body);
  else
    kedge_sbi_respond_err(c->req, KEDGE_ERR_NOMEM, NULL);
  json_decref(body);
  kedge_counter_add(c->aanf->registered, 1);
  kedge_log_info("register-anchorkey: consumer %s, SUPI %s, A-KID %s: stored", first_peer(c->req),
                 c->supi, c->akid);
  call_free(c);
}

static void register_anchorkey(kedge_sbi_request_t *req, void *arg)
{
  aanf_t *aanf = arg;
  if (!anchor_consumer(aanf, req)) {
    refuse(aanf, req, "register-anchorkey", "not in anchorkey.allowed_consumers");
    return;
  }
  json_t *body = kedge_sbi_request_checked_json(req, key_info_members, "AkmaKeyInfo");
  if (!body)
    return;
  const char *akid = json_string_value(json_object_get(body, "aKId"));
  const char *k_akma = json_string_value(json_object_get(body, "kAkma"));
  const char *supi_text = json_string_value(json_object_get(body, "supi"));
  const bool has_gpsi = json_object_get(body, "gpsi") != NULL;
  const char *why = NULL;
  kedge_akid_t parsed;
  kedge_supi_t supi;
  if (kedge_akid_parse(akid, strlen(akid), &parsed, &why)) {
    bad_param(req, "AkmaKeyInfo", "MANDATORY_IE_INCORRECT", "/aKId", why);
    return;
  }
  if (strcmp(parsed.home.mcc, aanf->home_network.mcc) ||
      strcmp(parsed.home.mnc, aanf->home_network.mnc)) {
    bad_param(req, "AkmaKeyInfo", "MANDATORY_IE_INCORRECT", "/aKId",
              "realm is not this AAnF's home network");
    return;
  }
  /* oneOf supi | gpsi; kedge keeps anchor keys by SUPI (the AUSF always has it) */
  if (supi_text && has_gpsi) {
    bad_param(req, "AkmaKeyInfo", "MANDATORY_IE_INCORRECT", "/gpsi", "give supi or gpsi, not both");
    return;
  }
  if (!supi_text) {
    bad_param(req, "AkmaKeyInfo", "MANDATORY_IE_MISSING", "/supi",
              "kedge's AAnF keeps anchor keys by SUPI");
    return;
  }
  if (kedge_supi_parse(supi_text, &supi)) {
    bad_param(req, "AkmaKeyInfo", "MANDATORY_IE_INCORRECT", "/supi",
              kedge_strerror(KEDGE_ERR_BAD_SUPI));
    return;
  }
  call_t *c = call_new(aanf, req);
  if (!c)
    return;
  kedge_keystore_record_t rec = {0};
  memcpy(rec.kedge_id, akid, strlen(akid) + 1);
  memcpy(rec.supi, supi.value, supi.len + 1);
  kedge_err_t err = kedge_hex_decode(k_akma, rec.kedge, KEDGE_K_AKMA_LEN);
  rec.created_ms = kedge_wall_ms();
  rec.expiry_ms = rec.created_ms + aanf->key_lifetime_ms;
  memcpy(c->akid, rec.kedge_id, sizeof(c->akid));
  memcpy(c->supi, rec.supi, sizeof(c->supi));
  memcpy(c->k_akma, rec.kedge, sizeof(c->k_akma));
  /* the SUPI's previous anchor key and A-KID go in the same write (the latest per SUPI) */
  if (!err)
    err = kedge_keystore_put(aanf_keystore_of(req), &rec, registered, c);
  OPENSSL_cleanse(&rec, sizeof(rec)); /* the store sealed its own copy */
  if (err) {
    kedge_counter_add(aanf->register_failed, 1);
    store_failed(c, "register-anchorkey", err);
    call_free(c);
  }
}

/* ---- retrieve-applicationkey ---- */

static const aanf_af_consumer_t *af_consumer(const aanf_t *aanf, const kedge_sbi_request_t *req)
{
  for (size_t i = 0; i < aanf->n_af_consumers; i++)
    if (kedge_sbi_request_peer_is(req, aanf->af_consumers[i].name))
      return &aanf->af_consumers[i];
  return NULL;
}

static void got_anchor_key(kedge_err_t err, const kedge_keystore_record_t *rec, void *arg)
{
  call_t *c = arg;
  aanf_t *aanf = c->aanf;
  if (err == KEDGE_ERR_NOT_FOUND) {
    /* TS 29.535: 204 "the requested AKMA Application material does not exist" - unknown and
     * expired alike */
    kedge_counter_add(aanf->keys_unknown, 1);
    kedge_log_info("retrieve-applicationkey: consumer %s, afId %s, A-KID %s: unknown",
                   first_peer(c->req), c->af_id, c->akid);
    kedge_sbi_respond(c->req, 204, NULL, NULL, 0);
    call_free(c);
    return;
  }
  if (err) {
    store_failed(c, "retrieve-applicationkey", err);
    call_free(c);
    return;
  }
  /* TS 33.535 6.2 step 4 / A.4: K_AF = KDF(K_AKMA, 0x82, AF_ID) for the asking AF's afId */
  uint8_t k_af[KEDGE_K_AF_LEN];
  char hex[2 * KEDGE_K_AF_LEN + 1], expiry[KEDGE_RFC3339_LEN + 1];
  err = kedge_derive_k_af(rec->kedge, c->af_id, k_af);
  if (err) {
    kedge_counter_add(aanf->failed, 1);
    kedge_sbi_respond_err(c->req, err, NULL);
    call_free(c);
    return;
  }
  kedge_hex_encode(k_af, KEDGE_K_AF_LEN, hex);
  OPENSSL_cleanse(k_af, sizeof(k_af));
  /* K_AF lives no longer than the K_AKMA it comes from (TS 33.535 6.2: per operator policy) */
  kedge_rfc3339_format(rec->expiry_ms, expiry);
  json_t *body = json_pack("{s:s, s:s}", "kaf", hex, "expiry", expiry);
  OPENSSL_cleanse(hex, sizeof(hex));
  /* the SUPI only to consumers allowed it, never for an anonymous access (TS 33.535 6.2) */
  const bool with_supi = c->af->supi && !c->anon;
  if (body && with_supi)
    json_object_set_new(body, "supi", json_string(rec->supi));
  if (body)
    kedge_sbi_respond_json(c->req, 200, NULL, body);
  else
    kedge_sbi_respond_err(c->req, KEDGE_ERR_NOMEM, NULL);
  json_decref(body);
  kedge_counter_add(aanf->keys_ok, 1);
  kedge_log_info("retrieve-applicationkey: consumer %s, afId %s, A-KID %s: K_AF returned%s",
                 first_peer(c->req), c->af_id, c->akid, with_supi ? " with SUPI" : "");
  call_free(c);
}

static void retrieve_applicationkey(kedge_sbi_request_t *req, void *arg)
{
  aanf_t *aanf = arg;
  const aanf_af_consumer_t *af = af_consumer(aanf, req);
  if (!af) {
    refuse(aanf, req, "retrieve-applicationkey", "not in applicationkey.allowed_consumers");
    return;
  }
  json_t *body = kedge_sbi_request_checked_json(req, af_key_request_members, "AkmaAfKeyRequest");
  if (!body)
    return;
  const char *af_id = json_string_value(json_object_get(body, "afId"));
  const char *akid = json_string_value(json_object_get(body, "aKId"));
  const char *why = NULL;
  char af_norm[KEDGE_ECS_ID_MAX + 1];
  kedge_akid_t parsed;
  if (kedge_ecs_id_normalise(af_id, af_norm, &why)) {
    bad_param(req, "AkmaAfKeyRequest", "MANDATORY_IE_INCORRECT", "/afId", why);
    return;
  }
  if (kedge_akid_parse(akid, strlen(akid), &parsed, &why)) {
    bad_param(req, "AkmaAfKeyRequest", "MANDATORY_IE_INCORRECT", "/aKId", why);
    return;
  }
  /* SPEC.md 9: every AF gets only its own K_AF; only a relay (the NEF) names another AF */
  if (!af->relay && !kedge_sbi_request_peer_is(req, af_norm)) {
    refuse(aanf, req, "retrieve-applicationkey",
           "afId is not one of the caller's certificate names");
    return;
  }
  call_t *c = call_new(aanf, req);
  if (!c)
    return;
  c->af = af;
  c->anon = json_is_true(json_object_get(body, "anonInd"));
  memcpy(c->af_id, af_norm, sizeof(c->af_id));
  snprintf(c->akid, sizeof(c->akid), "%s", akid);
  kedge_err_t err = kedge_keystore_get(aanf_keystore_of(req), c->akid, got_anchor_key, c);
  if (err) {
    store_failed(c, "retrieve-applicationkey", err);
    call_free(c);
  }
}

/* ---- remove-context ---- */

static void removed(kedge_err_t err, void *arg)
{
  call_t *c = arg;
  if (err == KEDGE_ERR_NOT_FOUND) {
    kedge_counter_add(c->aanf->remove_not_found, 1);
    kedge_log_info("remove-context: consumer %s, SUPI %s: no AKMA context", first_peer(c->req),
                   c->supi);
    kedge_sbi_respond_problem(c->req, 404, "CONTEXT_NOT_FOUND", "no AKMA context for the SUPI");
  } else if (err) {
    store_failed(c, "remove-context", err);
  } else {
    kedge_counter_add(c->aanf->removed, 1);
    kedge_log_subscriber(KEDGE_LOG_INFO, c->supi, NULL, "remove-context: consumer %s: removed",
                         first_peer(c->req));
    kedge_sbi_respond(c->req, 204, NULL, NULL, 0);
  }
  call_free(c);
}

static void remove_context(kedge_sbi_request_t *req, void *arg)
{
  aanf_t *aanf = arg;
  if (!anchor_consumer(aanf, req)) {
    refuse(aanf, req, "remove-context", "not in anchorkey.allowed_consumers");
    return;
  }
  json_t *body = kedge_sbi_request_checked_json(req, ctx_remove_members, "CtxRemove");
  if (!body)
    return;
  kedge_supi_t supi;
  if (kedge_supi_parse(json_string_value(json_object_get(body, "supi")), &supi)) {
    bad_param(req, "CtxRemove", "MANDATORY_IE_INCORRECT", "/supi",
              kedge_strerror(KEDGE_ERR_BAD_SUPI));
    return;
  }
  call_t *c = call_new(aanf, req);
  if (!c)
    return;
  memcpy(c->supi, supi.value, supi.len + 1);
  kedge_err_t err = kedge_keystore_delete_supi(aanf_keystore_of(req), c->supi, removed, c);
  if (err) {
    store_failed(c, "remove-context", err);
    call_free(c);
  }
}

kedge_err_t aanf_akma_setup(aanf_t *aanf, kedge_sbi_server_t *srv)
{
  kedge_metrics_t *m = kedge_sbi_server_metrics(srv);
  static const char reg[] = "kedge_aanf_anchor_keys_total",
                    reg_help[] = "register-anchorkey and remove-context answers by result",
                    app[] = "kedge_aanf_application_keys_total",
                    app_help[] = "retrieve-applicationkey answers by result",
                    other[] = "kedge_aanf_requests_total",
                    other_help[] = "Naanf_AKMA requests refused or failed, by result";
  kedge_err_t err;
  if ((err = kedge_metrics_counter(m, reg, reg_help, "result=\"registered\"", &aanf->registered)) ||
      (err = kedge_metrics_counter(m, reg, reg_help, "result=\"register_failed\"",
                                   &aanf->register_failed)) ||
      (err = kedge_metrics_counter(m, reg, reg_help, "result=\"removed\"", &aanf->removed)) ||
      (err = kedge_metrics_counter(m, reg, reg_help, "result=\"remove_not_found\"",
                                   &aanf->remove_not_found)) ||
      (err = kedge_metrics_counter(m, app, app_help, "result=\"ok\"", &aanf->keys_ok)) ||
      (err = kedge_metrics_counter(m, app, app_help, "result=\"unknown\"", &aanf->keys_unknown)) ||
      (err = kedge_metrics_counter(m, other, other_help, "result=\"refused\"", &aanf->refused)) ||
      (err = kedge_metrics_counter(m, other, other_help, "result=\"failed\"", &aanf->failed)))
    return err;
  if ((err = kedge_sbi_server_route(srv, "POST", "/naanf-akma/v1/register-anchorkey", NULL,
                                    register_anchorkey, aanf)) ||
      (err = kedge_sbi_server_route(srv, "POST", "/naanf-akma/v1/retrieve-applicationkey", NULL,
                                    retrieve_applicationkey, aanf)))
    return err;
  return kedge_sbi_server_route(srv, "POST", "/naanf-akma/v1/remove-context", NULL, remove_context,
                                aanf);
}
