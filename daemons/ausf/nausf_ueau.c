/* Nausf_UEAuthentication (TS 29.509 5.2.2.2, 6.1.3): ue-authentications and
 * 5g-aka-confirmation for 5G AKA (TS 33.501 6.1.3.2), with vectors from the UDM
 * (Nudm_UEAuthentication_Get, TS 29.503). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "ausf.h"
#include "kedge/app.h"
#include "kedge/fingerprint.h"
#include "kedge/hex.h"
#include "kedge/json_check.h"
#include "kedge/log.h"
#include "kedge/problem.h"
#include "kedge/str.h"
#include "kedge/suci.h"

#define UEAU_BASE "/nausf-auth/v1/ue-authentications"

/* ---- helpers ---- */

static const ausf_seaf_t *seaf_of(const ausf_t *ausf, const kedge_sbi_request_t *req)
{
  for (size_t i = 0; i < ausf->n_seafs; i++)
    if (kedge_sbi_request_peer_is(req, ausf->seafs[i].name))
      return &ausf->seafs[i];
  return NULL;
}

/* The calling SEAF/AMF, or NULL after answering 403 (TS 29.509 6.1.7.3). */
static const ausf_seaf_t *allowed_seaf(const ausf_t *ausf, kedge_sbi_request_t *req)
{
  const ausf_seaf_t *seaf = seaf_of(ausf, req);
  if (!seaf)
    kedge_sbi_respond_problem(req, 403, "CONSUMER_NOT_AUTHORIZED",
                              "not in ue_authentication.allowed_consumers");
  return seaf;
}

static bool serving_network_allowed(const ausf_seaf_t *seaf, const char *snn)
{
  for (size_t i = 0; i < seaf->n_serving_networks; i++)
    if (!strcmp(seaf->serving_networks[i], "*") || !strcmp(seaf->serving_networks[i], snn))
      return true;
  return false;
}

/* TS 29.571 SupiOrSuci: its pattern ends in "|.+", so anything but the empty string. */
static const char *check_supi_or_suci(const json_t *value)
{
  return json_string_length(value) ? NULL : "must not be empty";
}

/* TS 29.509 6.1.6.2.2 AuthenticationInfo.routingIndicator: ^[0-9]{1,4}$ */
static const char *check_rid(const json_t *value)
{
  return kedge_rid_check(json_string_value(value)) ? "must be 1 to 4 digits" : NULL;
}

/* TS 29.509 6.1.6.2.2 AuthenticationInfo (ue_authentications reads the strings by index) */
const kedge_json_member_t ausf_auth_info_members[] = {
    {.name = "supiOrSuci",
     .kind = KEDGE_JSON_STRING,
     .required = true,
     .max_len = KEDGE_SUPI_MAX,
     .check = check_supi_or_suci},
    {.name = "servingNetworkName", .kind = KEDGE_JSON_STRING, .required = true, .max_len = 64},
    {.name = "resynchronizationInfo",
     .kind = KEDGE_JSON_OBJECT,
     .object = kedge_json_resynchronization_info},
    {.name = "routingIndicator",
     .kind = KEDGE_JSON_STRING,
     .max_len = KEDGE_RID_MAX,
     .check = check_rid},
    {.name = NULL},
};

/* TS 29.509 6.1.6.2.x DeregistrationInfo */
static const kedge_json_member_t deregistration_members[] = {
    {.name = "supi", .kind = KEDGE_JSON_STRING, .required = true, .max_len = KEDGE_SUPI_MAX},
    {.name = NULL},
};

/* The routing indicator of a SUCI (TS 23.003 2.2B, TS 29.503 SUCI string form
 * suci-<type>-<home network id>-<RID>-<scheme>-<key id>-<scheme output>): the fourth field
 * from the end, so that a home network id with '-' in it does no harm. "" when it is none. */
static void suci_rid(const char *supi_or_suci, char rid[KEDGE_RID_MAX + 1])
{
  rid[0] = '\0';
  if (strncmp(supi_or_suci, "suci-", 5) != 0)
    return;
  const char *dash[4];
  int n = 0;
  for (const char *p = supi_or_suci + strlen(supi_or_suci); p > supi_or_suci + 5 && n < 4; p--)
    if (p[-1] == '-')
      dash[n++] = p - 1;
  size_t len = n == 4 ? (size_t)(dash[2] - dash[3] - 1) : 0;
  if (len < 1 || len > KEDGE_RID_MAX)
    return;
  memcpy(rid, dash[3] + 1, len);
  rid[len] = '\0';
  if (kedge_rid_check(rid))
    rid[0] = '\0';
}

/* TS 29.509 6.1.6.2.5 ConfirmationData */
const kedge_json_member_t ausf_confirmation_members[] = {
    {.name = "resStar",
     .kind = KEDGE_JSON_STRING,
     .required = true,
     .check = kedge_json_check_hex16},
    {.name = NULL},
};

/* ---- ue-authentications ---- */

typedef struct ueau_call {
  ausf_t *ausf;
  kedge_sbi_request_t *req;
  kedge_nrf_disc_call_t *disc; /* asking the NRF for the UDM (no static udm.uri) */
  kedge_nrf_send_t *call;      /* asking the UDM (one of the candidates) */
  json_t *udm_body; /* AuthenticationInfoRequest as a tree (with resynchronizationInfo) */
  char udm_text[KEDGE_SNN_LEN + 160]; /* or written out ("" when it is the tree) */
  int udm_text_len;
  char path[3 * KEDGE_SUPI_MAX + 96];
  char snn[KEDGE_SNN_LEN + 1];
  char consumer[254];
  char suci_rid[KEDGE_RID_MAX + 1]; /* SPEC.md 7: the RID's fallbacks, in order */
  char info_rid[KEDGE_RID_MAX + 1];
} ueau_call_t;

static void call_free(ueau_call_t *c)
{
  json_decref(c->udm_body);
  free(c);
}

/* The SEAF went away while the UDM was asked: drop the UDM call, release the request. */
static void ueau_cancelled(kedge_sbi_request_t *req, void *arg)
{
  ueau_call_t *c = arg;
  kedge_nrf_discover_cancel(c->disc);
  kedge_nrf_send_cancel(c->call);
  kedge_sbi_respond_problem(req, 500, "SYSTEM_FAILURE", NULL); /* only frees it */
  call_free(c);
}

static void udm_failed(ueau_call_t *c, int status, const char *cause, const char *detail)
{
  kedge_counter_add(c->ausf->udm_errors, 1);
  kedge_log_warn("ue-authentications: UDM: %s", detail);
  if (status == 503)
    kedge_sbi_response_header(c->req, "retry-after", "1");
  kedge_sbi_respond_problem(c->req, status, cause, detail);
}

static const char *string_member(const json_t *obj, const char *name)
{
  return json_string_value(json_object_get(obj, name));
}

/* Reads the 5G HE AV of an AuthenticationInfoResult (TS 29.503 6.3.6.2.3) into ctx, with the
 * edge flag from kedge's vendor-specific attribute (SPEC.md 7, TS 29.500 6.6.3). */
bool ausf_read_vector(const json_t *body, ausf_auth_ctx_t *ctx, uint8_t rand[16], uint8_t autn[16])
{
  const json_t *av = json_object_get(body, "authenticationVector");
  const char *supi = string_member(body, "supi"), *rid = string_member(body, "routingId");
  const json_t *vendor = json_object_get(body, KEDGE_VENDOR_SPECIFIC);
  const json_t *edge = json_object_get(vendor, KEDGE_VENDOR_EDGE_IND);
  const json_t *akma = json_object_get(body, "akmaInd"); /* TS 29.503's own attribute */
  kedge_supi_t parsed;
  if (!json_is_object(av) || !string_member(body, "authType") ||
      strcmp(string_member(body, "authType"), "5G_AKA") || !string_member(av, "avType") ||
      strcmp(string_member(av, "avType"), "5G_HE_AKA") || !string_member(av, "rand") ||
      kedge_hex_decode(string_member(av, "rand"), rand, 16) || !string_member(av, "autn") ||
      kedge_hex_decode(string_member(av, "autn"), autn, 16) || !string_member(av, "xresStar") ||
      kedge_hex_decode(string_member(av, "xresStar"), ctx->xres_star, 16) ||
      !string_member(av, "kausf") || kedge_hex_decode(string_member(av, "kausf"), ctx->kausf, 32) ||
      !supi || kedge_supi_parse(supi, &parsed) || (rid && kedge_rid_check(rid)) ||
      (vendor && !json_is_object(vendor)) || (edge && !json_is_boolean(edge)) ||
      (akma && !json_is_boolean(akma)))
    return false;
  memcpy(ctx->supi, parsed.value, parsed.len + 1);
  ctx->rid_from_udm = rid != NULL;
  kedge_str_copy(ctx->routing_id, sizeof(ctx->routing_id), rid ? rid : "");
  ctx->edge_ind = edge && json_is_true(edge);
  ctx->akma_ind = akma && json_is_true(akma);
  return true;
}

/* TS 29.509 6.1.6.2.3 UEAuthenticationCtx as a tree: for an href that needs escaping. */
static void respond_ctx_tree(kedge_sbi_request_t *req, const char *rand_hex, const char *hx_hex,
                             const char *autn_hex, const char *href)
{
  json_t *body =
      json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:{s:s}}}", "authType", "5G_AKA", "5gAuthData", "rand",
                rand_hex, "hxresStar", hx_hex, "autn", autn_hex, "_links", "5g-aka", "href", href);
  if (body)
    kedge_sbi_respond_json(req, 201, KEDGE_SBI_HAL_JSON, body);
  else
    kedge_sbi_respond_err(req, KEDGE_ERR_NOMEM, NULL);
  json_decref(body);
}

static void vector_received(const kedge_sbi_client_response_t *resp, const char *udm_root,
                            void *arg)
{
  ueau_call_t *c = arg;
  c->call = NULL;
  ausf_t *ausf = c->ausf;
  kedge_sbi_request_t *req = c->req;
  kedge_sbi_request_on_cancel(req, NULL, NULL);
  const char *cause = resp->json ? string_member(resp->json, "cause") : NULL;
  const char *detail = resp->json ? string_member(resp->json, "detail") : NULL;

  /* TS 29.500 Table 5.2.7.2-1: a UDM that did not answer is a gateway timeout (504) */
  if (resp->err == KEDGE_ERR_TIMEOUT) {
    udm_failed(c, 504, "TIMED_OUT_REQUEST", "the UDM did not answer in time");
  } else if (resp->err) {
    udm_failed(c, 504, "TARGET_NF_NOT_REACHABLE", "the UDM is not reachable");
  } else if (resp->status == 404) {
    kedge_sbi_respond_problem(req, 404, "USER_NOT_FOUND", detail);
  } else if (resp->status == 403 || resp->status == 501 || resp->status == 400) {
    /* TS 29.509 6.1.7.3: the UDM's verdicts on the subscriber or the request pass through */
    kedge_sbi_respond_problem(req, (int)resp->status, cause ? cause : "AUTHENTICATION_REJECTED",
                              detail);
  } else if (resp->status == 503) {
    udm_failed(c, 503, "NF_CONGESTION", "the UDM is congested");
  } else if (resp->status != 200 || !resp->json) {
    udm_failed(c, 502, "UPSTREAM_SERVER_ERROR", "the UDM answered with an unexpected status");
  } else {
    ausf_auth_ctx_t ctx = {0};
    uint8_t rand[16], autn[16], hxres_star[16];
    if (!ausf_read_vector(resp->json, &ctx, rand, autn)) {
      udm_failed(c, 502, "UPSTREAM_SERVER_ERROR", "the UDM's AuthenticationInfoResult is unusable");
    } else {
      /* SPEC.md 7: the UDM's routingId, the SUCI's RID, routingIndicator, then 0 */
      if (!ctx.rid_from_udm) {
        const char *rid = c->suci_rid[0] ? c->suci_rid : c->info_rid[0] ? c->info_rid : "0";
        kedge_str_copy(ctx.routing_id, sizeof(ctx.routing_id), rid);
        kedge_log_subscriber(KEDGE_LOG_INFO, ctx.supi, NULL,
                             "ue-authentications: the UDM sent no routingId; RID %s from %s", rid,
                             c->suci_rid[0]   ? "the SUCI"
                             : c->info_rid[0] ? "the AuthenticationInfo's routingIndicator"
                                              : "nowhere (the default 0)");
      }
      memcpy(ctx.snn, c->snn, sizeof(ctx.snn));
      memcpy(ctx.consumer, c->consumer, sizeof(ctx.consumer));
      kedge_str_copy(ctx.udm_root, sizeof(ctx.udm_root), udm_root);
      ctx.expiry_ms = kedge_now_ms() + ausf->context_expiry_ms;
      kedge_err_t err = kedge_aka_hxres_star(rand, ctx.xres_star, hxres_star);
      if (!err)
        err = ausf_ctx_add(ausf->contexts, &ctx);
      if (err == KEDGE_ERR_BUSY) {
        kedge_sbi_response_header(req, "retry-after", "1");
        kedge_sbi_respond_problem(req, 503, "NF_CONGESTION",
                                  "too many authentications in progress");
      } else if (err) {
        kedge_sbi_respond_err(req, err, NULL);
      } else {
        kedge_gauge_add(ausf->contexts_live, 1);
        char location[400], href[450], rand_hex[33], autn_hex[33], hx_hex[33];
        /* TS 29.501 4.4.1: built once per worker (ausf.api_root and the bound port do not
         * change while running: a reload keeps them) */
        const char *root = kedge_sbi_server_api_root_cached(ausf->srv, ausf->api_root);
        /* written out with kedge_str_put, not snprintf (its format pass: issue 17,
         * docs/performance-latency.md "Seventh round: the AUSF"); cut short only past 400
         * octets of API root, as snprintf cut it */
        char *p = location, *end = location + sizeof(location);
        KEDGE_PUT_STR(&p, end, root);
        KEDGE_PUT_LIT(&p, end, UEAU_BASE "/");
        KEDGE_PUT_STR(&p, end, ctx.id);
        if (!p)
          snprintf(location, sizeof(location), "%s" UEAU_BASE "/%s", root, ctx.id);
        p = href; /* a location of up to 399 octets and the suffix: always fits */
        KEDGE_PUT_STR(&p, href + sizeof(href), location);
        KEDGE_PUT_LIT(&p, href + sizeof(href), "/5g-aka-confirmation");
        kedge_hex_encode(rand, 16, rand_hex);
        kedge_hex_encode(autn, 16, autn_hex);
        kedge_hex_encode(hxres_star, 16, hx_hex);
        kedge_sbi_response_header(req, "location", location);
        /* TS 29.509 6.1.6.2.3 UEAuthenticationCtx, written out (hex, and the href's API root
         * and authCtxId need no escaping): a tree built and dumped per answer cost about
         * 20,000 instructions (docs/performance-latency.md, fourth round) */
        char body[sizeof(href) + 200];
        p = kedge_json_plain(href) ? body : NULL;
        end = body + sizeof(body);
        KEDGE_PUT_LIT(&p, end, "{\"authType\":\"5G_AKA\",\"5gAuthData\":{\"rand\":\"");
        kedge_str_put(&p, end, rand_hex, 32);
        KEDGE_PUT_LIT(&p, end, "\",\"hxresStar\":\"");
        kedge_str_put(&p, end, hx_hex, 32);
        KEDGE_PUT_LIT(&p, end, "\",\"autn\":\"");
        kedge_str_put(&p, end, autn_hex, 32);
        KEDGE_PUT_LIT(&p, end, "\"},\"_links\":{\"5g-aka\":{\"href\":\"");
        KEDGE_PUT_STR(&p, end, href);
        KEDGE_PUT_LIT(&p, end, "\"}}}");
        if (p)
          kedge_sbi_respond(req, 201, KEDGE_SBI_HAL_JSON, body, (size_t)(p - body));
        else
          respond_ctx_tree(req, rand_hex, hx_hex, autn_hex, href);
      }
    }
    OPENSSL_cleanse(&ctx, sizeof(ctx));
  }
  call_free(c);
}

/* The vector request to the UDM, tried on each candidate in turn while one is unreachable. */
static void ask_udm(ueau_call_t *c, const kedge_nrf_candidates_t *cands)
{
  const kedge_sbi_client_request_t call = {.method = "POST",
                                           .body = c->udm_body,
                                           .raw_body = c->udm_body ? NULL : c->udm_text,
                                           .raw_body_len = (size_t)c->udm_text_len};
  kedge_err_t err = kedge_nrf_send(ausf_worker_of(c->req)->udm, cands, &call, c->path,
                                   vector_received, c, &c->call);
  if (err) {
    kedge_sbi_request_on_cancel(c->req, NULL, NULL);
    udm_failed(c, 504, "TARGET_NF_NOT_REACHABLE", "cannot send to the UDM");
    call_free(c);
  }
}

static void udm_discovered(kedge_err_t err, const kedge_nrf_candidates_t *cands, void *arg)
{
  ueau_call_t *c = arg;
  c->disc = NULL;
  if (!err) {
    ask_udm(c, cands);
    return;
  }
  /* TS 29.500 Table 5.2.7.2-1: no UDM to ask is the gateway's failure toward the SEAF */
  kedge_sbi_request_on_cancel(c->req, NULL, NULL);
  udm_failed(c, 504, "TARGET_NF_NOT_REACHABLE",
             err == KEDGE_ERR_NOT_FOUND ? "the NRF knows no UDM for this subscriber"
                                        : "no UDM discovered: the NRF did not answer");
  call_free(c);
}

static void ue_authentications(kedge_sbi_request_t *req, void *arg)
{
  ausf_t *ausf = arg;
  const ausf_seaf_t *seaf = allowed_seaf(ausf, req);
  if (!seaf) {
    kedge_counter_add(ausf->aka_rejected, 1);
    return;
  }
  /* read in place when it holds only plain strings (kedge_sbi_server_route_strings below; a
   * tree otherwise, as with resynchronizationInfo), checked against the same table either way
   * (issue 17: docs/performance-latency.md "Seventh round: the AUSF") */
  const char *values[KEDGE_JSON_FLAT_MAX];
  if (!kedge_sbi_request_strings(req, "AuthenticationInfo", values))
    return;
  /* ausf_auth_info_members' order; resynchronizationInfo only in a tree (NULL when flat) */
  const char *supi_or_suci = values[0], *snn = values[1], *info_rid = values[3];
  json_t *resync = json_object_get(kedge_sbi_request_json(req), "resynchronizationInfo");
  if (!serving_network_allowed(seaf, snn)) {
    kedge_counter_add(ausf->aka_rejected, 1);
    /* TS 29.509 6.1.7.3 */
    kedge_sbi_respond_problem(req, 403, "SERVING_NETWORK_NOT_AUTHORIZED",
                              "this consumer may not authenticate for that serving network");
    return;
  }
  if (strlen(snn) != KEDGE_SNN_LEN) {
    kedge_sbi_respond_problem(req, 403, "SERVING_NETWORK_NOT_AUTHORIZED",
                              "servingNetworkName must be 5G:mnc<MNC>.mcc<MCC>.3gppnetwork.org");
    return;
  }
  char segment[3 * KEDGE_SUPI_MAX + 1];
  ueau_call_t *c = calloc(1, sizeof(*c));
  if (!c) {
    kedge_sbi_respond_err(req, KEDGE_ERR_NOMEM, NULL);
    return;
  }
  bool segment_ok = kedge_sbi_path_segment(supi_or_suci, segment, sizeof(segment));
  if (!segment_ok)
    segment[0] = '\0';
  char *path = segment_ok ? c->path : NULL;
  const char *path_end = c->path + sizeof(c->path);
  KEDGE_PUT_LIT(&path, path_end, "/nudm-ueau/v1/");
  KEDGE_PUT_STR(&path, path_end, segment); /* "" when the segment failed (path NULL) */
  KEDGE_PUT_LIT(&path, path_end, "/security-information/generate-auth-data");
  if (!path) {
    free(c);
    kedge_sbi_respond_problem(req, 400, "MANDATORY_IE_INCORRECT", "supiOrSuci too long");
    return;
  }

  /* TS 29.503 6.3.6.2.2 AuthenticationInfoRequest */
  /* Written out when there is nothing to escape and no resynchronizationInfo to copy: a tree
   * built and dumped cost about 15,000 instructions per AKA run (docs/performance-latency.md,
   * "Fifth round: the AUSF") */
  json_t *udm_body = NULL;
  char *t =
      !resync && kedge_json_plain(snn) && kedge_json_plain(ausf->instance_id) ? c->udm_text : NULL;
  const char *t_end = c->udm_text + sizeof(c->udm_text);
  KEDGE_PUT_LIT(&t, t_end, "{\"servingNetworkName\":\"");
  KEDGE_PUT_STR(&t, t_end, snn);
  KEDGE_PUT_LIT(&t, t_end, "\",\"ausfInstanceId\":\"");
  KEDGE_PUT_STR(&t, t_end, ausf->instance_id);
  KEDGE_PUT_LIT(&t, t_end, "\"}");
  c->udm_text_len = t ? (int)(t - c->udm_text) : 0;
  if (c->udm_text_len <= 0) {
    c->udm_text_len = 0;
    udm_body =
        json_pack("{s:s, s:s}", "servingNetworkName", snn, "ausfInstanceId", ausf->instance_id);
    if (udm_body && resync)
      json_object_set(udm_body, "resynchronizationInfo", resync);
  }
  ausf_worker_t *w = ausf_worker_of(req);
  if ((!udm_body && !c->udm_text_len) || !w->udm) {
    json_decref(udm_body);
    free(c);
    kedge_sbi_respond_err(req, w->udm ? KEDGE_ERR_NOMEM : KEDGE_ERR_CONFIG, NULL);
    return;
  }
  c->ausf = ausf;
  c->req = req;
  c->udm_body = udm_body;
  kedge_str_copy(c->snn, sizeof(c->snn), snn);
  kedge_str_copy(c->consumer, sizeof(c->consumer), seaf->name);
  suci_rid(supi_or_suci, c->suci_rid);
  if (info_rid)
    kedge_str_copy(c->info_rid, sizeof(c->info_rid), info_rid);
  kedge_sbi_request_on_cancel(req, ueau_cancelled, c);
  if (ausf->udm_uri) {          /* SPEC.md 7: a static URI always wins */
    kedge_nrf_candidates_t one; /* only the first is read (n): not 2,600 octets zeroed */
    one.n = 1;
    one.c[0] = (kedge_nrf_candidate_t){.priority = 0};
    kedge_str_copy(one.c[0].api_root, sizeof(one.c[0].api_root), ausf->udm_uri);
    ask_udm(c, &one);
    return;
  }
  /* TS 29.510 6.2.3.2.3.1: the UDM of this subscriber, by SUPI; for a SUCI by its routing
   * indicator and home network (TS 23.501 6.3.8: the AUSF selects the UDM with them) */
  kedge_suci_t suci;
  const char *why = NULL;
  kedge_nrf_query_t q = {.target_nf_type = "UDM", .service_name = "nudm-ueau"};
  if (strncmp(supi_or_suci, "suci-", 5) != 0) {
    q.supi = supi_or_suci;
  } else if (kedge_suci_parse(supi_or_suci, &suci, &why) != KEDGE_ERR_BAD_SUPI) {
    q.routing_indicator = suci.rid;
    if (suci.supi_type == 0) {
      q.target_mcc = suci.mcc;
      q.target_mnc = suci.mnc;
    }
  }
  kedge_err_t err = !ausf->disc
                        ? KEDGE_ERR_CONFIG
                        : kedge_nrf_discover(ausf->disc, w->nrf,
                                             kedge_sbi_worker_base(kedge_sbi_request_worker(req)),
                                             &q, udm_discovered, c, &c->disc);
  if (err) {
    kedge_sbi_request_on_cancel(req, NULL, NULL);
    udm_failed(c, 504, "TARGET_NF_NOT_REACHABLE", "cannot ask the NRF for the UDM");
    call_free(c);
  }
}

/* ---- 5g-aka-confirmation ---- */

static void confirmation_free(ausf_confirmation_t *c)
{
  if (c->w)
    LIST_REMOVE(c, link);
  kedge_kdf_key_free(c->kausf_key); /* OpenSSL's HMAC cleanses its key state on free */
  OPENSSL_cleanse(c, sizeof(*c));   /* KAUSF goes here, after the edge keys were derived */
  free(c);
}

kedge_err_t ausf_confirmation_kausf_key(ausf_confirmation_t *c, kedge_kdf_key_t **key)
{
  kedge_err_t err = c->kausf_key
                        ? KEDGE_OK
                        : kedge_kdf_key_new(c->ctx.kausf, sizeof(c->ctx.kausf), &c->kausf_key);
  *key = c->kausf_key;
  return err;
}

/* Shutdown (worker.c): the drain ended (sbi.limits.shutdown_grace) with this confirmation's
 * steps still out, and the key store and clients that would have answered are closed. Not a
 * success (no key: SPEC.md 2), and KAUSF must not outlive the worker. */
void ausf_confirmation_abandon(ausf_confirmation_t *c)
{
  const char *waiting = c->edge_done    ? "the key store's put"
                        : c->event_done ? "the UDM's answer to the AuthEvent"
                        : c->akma       ? "the AAnF's answer"
                                        : "its answer";
  kedge_log_subscriber(KEDGE_LOG_WARN, c->ctx.supi, NULL,
                       "5G AKA confirmation dropped at shutdown: %s did not come within "
                       "sbi.limits.shutdown_grace; context wiped",
                       waiting);
  ausf_akma_abandon(c);
  /* only frees the request when its stream is gone, as the drain's end leaves it */
  kedge_sbi_response_header(c->req, "retry-after", "1");
  kedge_sbi_respond_problem(c->req, 503, c->edge_done ? "KEY_STORE_UNAVAILABLE" : "SYSTEM_FAILURE",
                            "the AUSF is shutting down");
  confirmation_free(c);
}

/* The UDM has the AuthEvent (or did not answer in time): answer the SEAF, keep what a later
 * DELETE needs. */
static void confirmation_respond(ausf_confirmation_t *c)
{
  ausf_t *ausf = c->ausf;
  kedge_sbi_request_t *req = c->req;
  if (!c->success) {
    kedge_counter_add(ausf->aka_failure, 1);
    /* TS 29.509 6.1.6.2.6 ConfirmationDataResponse */
    json_t *fail = json_pack("{s:s}", "authResult", "AUTHENTICATION_FAILURE");
    kedge_sbi_respond_json(req, 200, NULL, fail);
    json_decref(fail);
    confirmation_free(c);
    return;
  }
  uint8_t kseaf[KEDGE_KSEAF_LEN];
  char kseaf_hex[65];
  /* TS 33.501 A.6, under the key that derived the edge keys (one HMAC set-up of KAUSF) */
  kedge_kdf_key_t *kausf_key;
  kedge_err_t err = ausf_confirmation_kausf_key(c, &kausf_key);
  if (!err)
    err = kedge_aka_kseaf_keyed(kausf_key, c->ctx.snn, kseaf);
  if (err) {
    kedge_sbi_respond_err(req, err, NULL);
  } else {
    kedge_hex_encode(kseaf, sizeof(kseaf), kseaf_hex);
    /* TS 29.509 6.1.6.2.6 ConfirmationDataResponse, written out like UEAuthenticationCtx
     * (a SUPI with '"' or '\\', which an NAI may hold, goes through a tree) */
    char body[KEDGE_SUPI_MAX + 160];
    char *p = kedge_json_plain(c->ctx.supi) ? body : NULL, *end = body + sizeof(body);
    KEDGE_PUT_LIT(&p, end, "{\"authResult\":\"AUTHENTICATION_SUCCESS\",\"supi\":\"");
    KEDGE_PUT_STR(&p, end, c->ctx.supi);
    KEDGE_PUT_LIT(&p, end, "\",\"kseaf\":\"");
    kedge_str_put(&p, end, kseaf_hex, 64);
    KEDGE_PUT_LIT(&p, end, "\"}");
    if (p) {
      kedge_sbi_respond(req, 200, KEDGE_SBI_JSON, body, (size_t)(p - body));
    } else {
      json_t *tree = json_pack("{s:s, s:s, s:s}", "authResult", "AUTHENTICATION_SUCCESS", "supi",
                               c->ctx.supi, "kseaf", kseaf_hex);
      if (tree)
        kedge_sbi_respond_json(req, 200, NULL, tree);
      else
        kedge_sbi_respond_err(req, KEDGE_ERR_NOMEM, NULL);
      json_decref(tree);
    }
    /* KSEAF: what was written (p - body octets, or the whole buffer when it did not fit) */
    OPENSSL_cleanse(body, p ? (size_t)(p - body) : sizeof(body));
    kedge_counter_add(ausf->aka_success, 1);
    if (kedge_log_enabled(KEDGE_LOG_INFO)) { /* a SHA-256 per AKA only when shown */
      char fp[9] = "?";
      kedge_key_fingerprint(c->ctx.kausf, sizeof(c->ctx.kausf), fp);
      /* a fingerprint, never the key: the UE's log shows the same one (docs/ue.md) */
      kedge_log_subscriber(KEDGE_LOG_INFO, c->ctx.supi, NULL,
                           "5G AKA success (serving network %s), KAUSF sha256:%s", c->ctx.snn, fp);
    }
    /* kept (without XRES* and KAUSF) for DELETE .../5g-aka-confirmation */
    ausf_auth_ctx_t kept = c->ctx;
    OPENSSL_cleanse(kept.xres_star, sizeof(kept.xres_star));
    OPENSSL_cleanse(kept.kausf, sizeof(kept.kausf));
    kept.expiry_ms = kedge_now_ms() + ausf->key_lifetime_ms;
    if (ausf_ctx_put(ausf->confirmed, &kept) != KEDGE_OK)
      kedge_log_subscriber(KEDGE_LOG_WARN, kept.supi, NULL,
                           "5G AKA: cannot keep it for a later DELETE (out of memory)");
    /* kept holds no key now (XRES* and KAUSF wiped above): no second wipe of its 1 KiB */
  }
  OPENSSL_cleanse(kseaf, sizeof(kseaf));
  OPENSSL_cleanse(kseaf_hex, sizeof(kseaf_hex));
  confirmation_free(c);
}

/* Both steps after a RES* match are over (the AuthEvent at the UDM, the edge key in the store):
 * the answer. The edge key decides it; the AuthEvent only informs the UDM (6.1.4.1). */
static void confirmation_step_done(ausf_confirmation_t *c)
{
  if (--c->pending)
    return;
  ausf_t *ausf = c->ausf;
  kedge_sbi_request_t *req = c->req;
  if (!c->edge_err) {
    confirmation_respond(c);
    return;
  }
  /* No success without the edge key (SPEC.md 2): the UE may simply authenticate again. The
   * SEAF gets no result, so the UDM must not keep the success it was told beside the key
   * store's write: it is removed again (TS 29.503 5.4.2.4 ResultRemoval, sent without
   * waiting, like a DELETE's). */
  kedge_counter_add(ausf->aka_failure, 1);
  kedge_log_subscriber(KEDGE_LOG_ERROR, c->ctx.supi, NULL,
                       "5G AKA confirmed, but the edge keys could not be kept: %s",
                       kedge_strerror(c->edge_err));
  ausf_auth_event_remove(ausf, ausf_worker_of(req), &c->ctx); /* or one line why not */
  kedge_sbi_response_header(req, "retry-after", "1");
  kedge_sbi_respond_problem(req, 503, c->edge_cause ? c->edge_cause : "SYSTEM_FAILURE",
                            "edge keys could not be stored");
  confirmation_free(c);
}

void ausf_confirmation_answer(ausf_confirmation_t *c, kedge_err_t edge_err, const char *cause)
{
  c->edge_err = edge_err;
  c->edge_cause = cause;
  confirmation_step_done(c);
}

/* After the edge-key step: the AKMA step, or the 503 (SPEC.md 2: no success without the key). */
static void edge_done(ausf_confirmation_t *c, kedge_err_t err, const char *cause)
{
  if (err)
    ausf_confirmation_answer(c, err, cause);
  else
    ausf_akma_on_success(c);
}

static void confirmation(kedge_sbi_request_t *req, void *arg)
{
  ausf_t *ausf = arg;
  const ausf_seaf_t *seaf = allowed_seaf(ausf, req);
  if (!seaf)
    return;
  /* read in place when plain (kedge_sbi_server_route_strings below; a tree otherwise), checked
   * against the same table either way: no tree for the ~45 octets of a usual body (issue 17) */
  const char *values[KEDGE_JSON_FLAT_MAX];
  if (!kedge_sbi_request_strings(req, "ConfirmationData", values))
    return;
  const char *res_star_hex = values[0]; /* ausf_confirmation_members[0], required */

  ausf_confirmation_t *c = calloc(1, sizeof(*c));
  if (!c) {
    kedge_sbi_respond_err(req, KEDGE_ERR_NOMEM, NULL);
    return;
  }
  c->ausf = ausf;
  c->req = req;
  /* Taken, not read: a context is confirmed once; replays, expired and unknown ids all 404. */
  kedge_err_t err = ausf_ctx_take(ausf->contexts, kedge_sbi_request_var(req, "authCtxId"), &c->ctx);
  if (!err)
    kedge_gauge_add(ausf->contexts_live, -1);
  if (err || strcmp(c->ctx.consumer, seaf->name) != 0) {
    confirmation_free(c);
    kedge_sbi_respond_problem(req, 404, "CONTEXT_NOT_FOUND", NULL);
    return;
  }
  uint8_t res_star[KEDGE_RES_STAR_LEN];
  kedge_hex_decode(res_star_hex, res_star, sizeof(res_star));
  /* TS 33.501 6.1.3.2 step 11: RES* against XRES*, in constant time */
  c->success = CRYPTO_memcmp(res_star, c->ctx.xres_star, sizeof(res_star)) == 0;
  OPENSSL_cleanse(res_star, sizeof(res_star));
  /* the steps below may outlive the drain: the worker keeps it until the answer */
  c->w = ausf_worker_of(req);
  LIST_INSERT_HEAD(&c->w->confirmations, c, link);
  if (!c->success) {
    kedge_log_subscriber(KEDGE_LOG_WARN, c->ctx.supi, NULL, "5G AKA failure: RES* does not match");
    ausf_auth_event_send(c, confirmation_respond); /* failures too (TS 33.501 6.1.4.1) */
    return;
  }
  /* TS 33.501 6.1.4.1: the result goes to the UDM before the SEAF hears it; the edge key is
   * stored before KAUSF is dropped (the solution's NOTE 1). Both only need RES* verified, so
   * they run at once: one durable commit's wait per registration instead of two in a row
   * (docs/performance-latency.md). The answer waits for both; KAUSF is wiped with it. */
  c->pending = 2;
  ausf_auth_event_send(c, confirmation_step_done);
  ausf_edge_on_success(c, ausf_worker_of(req)->keys, edge_done);
}

/* ---- DELETE 5g-aka-confirmation and deregister: the edge keys go at once ---- */

typedef struct removal {
  ausf_t *ausf;
  kedge_sbi_request_t *req;
} removal_t;

static void removal_done(kedge_err_t err, void *arg)
{
  removal_t *r = arg;
  if (err && err != KEDGE_ERR_NOT_FOUND) {
    /* the key store is down: nothing was revoked, the consumer may try again */
    kedge_sbi_response_header(r->req, "retry-after", "1");
    kedge_sbi_respond_problem(r->req, 503, "SYSTEM_FAILURE", "edge keys could not be deleted");
  } else {
    kedge_sbi_respond(r->req, 204, NULL, NULL, 0);
  }
  free(r);
}

/* Revokes the keys and answers once the store (and the AAnF) have them gone. */
static void revoke_and_answer(ausf_t *ausf, kedge_sbi_request_t *req, const char *supi,
                              const char *kedge_id, const char *akma_rid, const char *reason)
{
  removal_t *r = calloc(1, sizeof(*r));
  if (!r) {
    kedge_sbi_respond_err(req, KEDGE_ERR_NOMEM, NULL);
    return;
  }
  r->ausf = ausf;
  r->req = req;
  kedge_err_t err = ausf_edge_revoke(ausf, ausf_worker_of(req), supi, kedge_id, akma_rid, reason,
                                     removal_done, r);
  if (err)
    removal_done(err == KEDGE_ERR_NOMEM ? err : KEDGE_ERR_NOT_FOUND, r);
}

/* TS 29.509 5.2.2.2.4: the SEAF (AMF) removes the result of a confirmed 5G AKA, e.g. at
 * deregistration; the AUSF removes it at the UDM (TS 29.503 ResultRemoval) and revokes the
 * edge keys derived from it (SPEC.md 7). */
static void confirmation_delete(kedge_sbi_request_t *req, void *arg)
{
  ausf_t *ausf = arg;
  const ausf_seaf_t *seaf = allowed_seaf(ausf, req);
  if (!seaf)
    return;
  ausf_auth_ctx_t ctx;
  kedge_err_t err = ausf_ctx_take(ausf->confirmed, kedge_sbi_request_var(req, "authCtxId"), &ctx);
  if (!err && strcmp(ctx.consumer, seaf->name) != 0) {
    ausf_ctx_put(ausf->confirmed, &ctx); /* another SEAF's: it stays, this one hears 404 */
    err = KEDGE_ERR_NOT_FOUND;
  }
  if (err) {
    OPENSSL_cleanse(&ctx, sizeof(ctx));
    kedge_sbi_respond_problem(req, 404, "CONTEXT_NOT_FOUND", NULL);
    return;
  }
  ausf_auth_event_remove(ausf, ausf_worker_of(req), &ctx);
  revoke_and_answer(ausf, req, ctx.supi, ctx.kedge_id, ctx.akma_registered ? ctx.routing_id : "",
                    "5g-aka-confirmation deleted");
  OPENSSL_cleanse(&ctx, sizeof(ctx));
}

/* TS 29.509 5.2.2.2.x Deregister: the UE deregistered; the AUSF drops what it keeps of it:
 * here, the edge keys of that SUPI, whatever authentication they came from. */
static void deregister(kedge_sbi_request_t *req, void *arg)
{
  ausf_t *ausf = arg;
  if (!allowed_seaf(ausf, req))
    return;
  json_t *body = kedge_sbi_request_checked_json(req, deregistration_members, "DeregistrationInfo");
  if (!body)
    return;
  kedge_supi_t supi;
  if (kedge_supi_parse(string_member(body, "supi"), &supi)) {
    json_t *problem =
        kedge_problem_new(400, "MANDATORY_IE_INCORRECT", "invalid DeregistrationInfo");
    kedge_problem_add_invalid_param(problem, "/supi", "not a SUPI (imsi-..., nai-...)");
    kedge_sbi_respond_problem_json(req, problem);
    json_decref(problem);
    return;
  }
  revoke_and_answer(ausf, req, supi.value, NULL, NULL, "deregistration");
}

/* ---- set-up ---- */

static void purge_contexts(evutil_socket_t fd, short what, void *arg)
{
  ausf_t *ausf = arg;
  size_t n = ausf_ctx_purge(ausf->contexts);
  if (n)
    kedge_gauge_add(ausf->contexts_live, -(int64_t)n);
  ausf_ctx_purge(ausf->confirmed);
  kedge_gauge_add(ausf->confirmed_live, (int64_t)ausf_ctx_count(ausf->confirmed) -
                                            kedge_gauge_value(ausf->confirmed_live));
}

kedge_err_t ausf_ueau_setup(ausf_t *ausf, kedge_sbi_server_t *srv)
{
  ausf->srv = srv;
  kedge_metrics_t *m = kedge_sbi_server_metrics(srv);
  const char *name = "kedge_ausf_ue_authentications_total", *help = "5G AKA outcomes at the AUSF";
  kedge_err_t err;
  if ((err = kedge_metrics_counter(m, name, help, "result=\"success\"", &ausf->aka_success)) ||
      (err = kedge_metrics_counter(m, name, help, "result=\"failure\"", &ausf->aka_failure)) ||
      (err = kedge_metrics_counter(m, name, help, "result=\"rejected\"", &ausf->aka_rejected)) ||
      (err = kedge_metrics_counter(m, "kedge_ausf_udm_errors_total",
                                   "UDM calls that failed or gave unusable answers", NULL,
                                   &ausf->udm_errors)) ||
      (err = kedge_metrics_gauge(m, "kedge_ausf_auth_contexts",
                                 "5G AKA contexts awaiting confirmation", NULL,
                                 &ausf->contexts_live)) ||
      (err = kedge_metrics_gauge(m, "kedge_ausf_confirmed_authentications",
                                 "confirmed 5G AKA kept for DELETE 5g-aka-confirmation "
                                 "(ue_authentication.max_confirmed)",
                                 NULL, &ausf->confirmed_live)))
    return err;
  const char *ev = "kedge_ausf_auth_events_total",
             *ev_help =
                 "AuthEvents sent to the UDM after confirmations (TS 29.503 ResultConfirmation)",
             *rm = "kedge_ausf_auth_event_removals_total",
             *rm_help = "AuthEvent removals sent to the UDM (TS 29.503 ResultRemoval)";
  if ((err = kedge_metrics_counter(m, ev, ev_help, "result=\"ok\"", &ausf->auth_events_ok)) ||
      (err =
           kedge_metrics_counter(m, ev, ev_help, "result=\"failed\"", &ausf->auth_events_failed)) ||
      (err = kedge_metrics_counter(m, rm, rm_help, "result=\"ok\"", &ausf->auth_removals_ok)) ||
      (err = kedge_metrics_counter(m, rm, rm_help, "result=\"failed\"",
                                   &ausf->auth_removals_failed)) ||
      (err = kedge_metrics_counter(m, rm, rm_help, "result=\"no_event_id\"",
                                   &ausf->auth_removals_no_id)) ||
      (err = kedge_metrics_counter(m, "kedge_ausf_keys_revoked_total",
                                   "edge keys deleted before their expiry (DELETE, deregister)",
                                   NULL, &ausf->keys_revoked)))
    return err;
  if ((err = ausf_ctx_table_new(ausf->max_contexts, &ausf->contexts)) ||
      (err = ausf_ctx_table_new(ausf->max_confirmed, &ausf->confirmed)))
    return err;
  /* SPEC.md 7: with an NRF, the UDM (when udm.uri is not given) is discovered */
  if (kedge_app_nrf_config()->uri &&
      (err = kedge_nrf_disc_new(kedge_app_nrf_config(), "AUSF", m, &ausf->disc)))
    return err;
  if ((err = ausf_workers_setup(ausf, srv)))
    return err;
  ausf->purge_timer = event_new(kedge_sbi_server_base(srv), -1, EV_PERSIST, purge_contexts, ausf);
  const struct timeval every = {1, 0};
  if (!ausf->purge_timer || event_add(ausf->purge_timer, &every) != 0)
    return KEDGE_ERR_NOMEM;
  if ((err = kedge_sbi_server_route(srv, "POST", UEAU_BASE, NULL, ue_authentications, ausf)) ||
      (err = kedge_sbi_server_route_strings(srv, ausf_auth_info_members)) ||
      (err = kedge_sbi_server_route(srv, "PUT", UEAU_BASE "/{authCtxId}/5g-aka-confirmation", NULL,
                                    confirmation, ausf)) ||
      (err = kedge_sbi_server_route_strings(srv, ausf_confirmation_members)) ||
      (err = kedge_sbi_server_route(srv, "DELETE", UEAU_BASE "/{authCtxId}/5g-aka-confirmation",
                                    NULL, confirmation_delete, ausf)) ||
      (err = kedge_sbi_server_route(srv, "POST", UEAU_BASE "/deregister", NULL, deregister, ausf)))
    return err;
  return KEDGE_OK;
}

void ausf_ueau_teardown(ausf_t *ausf)
{
  if (ausf->purge_timer)
    event_free(ausf->purge_timer);
  ausf_ctx_table_free(ausf->contexts);
  ausf_ctx_table_free(ausf->confirmed);
  kedge_nrf_disc_free(ausf->disc);
  ausf->disc = NULL;
}
