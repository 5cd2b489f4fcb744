/* One registration: 5G AKA toward the home AUSF with the UE in the SEAF's role
 * (TS 33.501 6.1.3.2, TS 29.509 5.2.2.2.2), at most one resynchronisation (TS 33.102 6.3.5),
 * then Kedge and the Kedge ID (SPEC.md 0 step 1, section 2). Runs on the caller's event loop:
 *   POST ue-authentications -> 201 challenge -> USIM check
 *     -> SQN not fresh (first time): POST again with resynchronizationInfo -> USIM check
 *     -> accepted: SQNms stored, SEAF checks HXRES*, PUT 5g-aka-confirmation {resStar}
 *        -> 200 AUTHENTICATION_SUCCESS with KSEAF = the UE's -> derive Kedge, Kedge ID. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/crypto.h>

#include "kedge/akma.h"
#include "kedge/hex.h"
#include "kedge/time.h"
#include "ue.h"

#define AUTH_PATH "/nausf-auth/v1/ue-authentications"

struct ue {
  ue_config_t cfg;
  kedge_sbi_client_t *client;
  bool own_client; /* false: the caller's (ue_new_with_client) */
  bool corrupt_res;
  bool sqn_in_memory; /* ue_set_sqn_in_memory: SQNms below, not usim.sqn_file */
  uint64_t sqn_ms;
  bool no_steps;   /* ue_set_step_log(false): no step log, no fingerprints in the result */
  CURLU *post_uh;  /* post_url parsed once: the base the 5g-aka link is resolved against */
  char *auth_body; /* the first POST's AuthenticationInfo, encoded once (no SUCI to make) */
  size_t auth_body_len;

  /* the registration in flight */
  bool busy;
  ue_register_cb cb;
  void *arg;
  kedge_sbi_client_call_t *call;
  ue_result_t result;
  uint64_t start_us, mark_us;
  char post_url[UE_URI_MAX];
  char confirm_url[UE_URI_MAX];
  char post_origin[UE_URI_MAX]; /* "https://authority" of post_url (ue_href_origin) */
  ue_auth_ctx_t ctx;
  kedge_ue_aka_result_t aka;  /* RES*, KAUSF, KSEAF of the accepted challenge */
  kedge_kdf_key_t *kausf_key; /* the KDF keyed with aka.kausf: KSEAF came from it, Kedge will */

  /* the keys of the latest successful registration (step 1) */
  bool have_keys;
  uint8_t kausf[KEDGE_KAUSF_LEN];
  uint8_t kedge[KEDGE_KEY_LEN];
  char kedge_id[KEDGE_ID_MAX + 1];
};

const char *ue_outcome_name(ue_outcome_t outcome)
{
  switch (outcome) {
  case UE_REGISTERED:
    return "REGISTERED";
  case UE_FAIL_MAC:
    return "MAC_FAILURE";
  case UE_FAIL_NON_5G:
    return "NON_5G_AUTHENTICATION_UNACCEPTABLE";
  case UE_FAIL_SYNC:
    return "SYNCH_FAILURE";
  case UE_FAIL_HXRES:
    return "HXRES_STAR_MISMATCH";
  case UE_FAIL_REJECTED:
    return "AUTHENTICATION_REJECTED";
  case UE_FAIL_KSEAF:
    return "KSEAF_MISMATCH";
  case UE_FAIL_HTTP:
    return "HTTP_ERROR";
  case UE_FAIL_NETWORK:
    return "AUSF_UNREACHABLE";
  case UE_FAIL_PROTOCOL:
    return "PROTOCOL_ERROR";
  case UE_FAIL_LOCAL:
    return "LOCAL_ERROR";
  }
  return "UNKNOWN";
}

/* One line of the step log, timed since the previous one. */
static void step(ue_t *ue, int number, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void step(ue_t *ue, int number, const char *fmt, ...)
{
  if (ue->no_steps)
    return;
  uint64_t t = (uint64_t)kedge_now_us();
  ue_result_t *r = &ue->result;
  if (r->n_steps < UE_STEPS_MAX) {
    ue_step_t *s = &r->steps[r->n_steps++];
    s->step = number;
    s->ms = (double)(t - ue->mark_us) / 1000.0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->text, sizeof(s->text), fmt, ap);
    va_end(ap);
  }
  ue->mark_us = t;
}

/* Ends the registration: the callback is the last thing that touches the UE (it may free it). */
static void finish(ue_t *ue, ue_outcome_t outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void finish(ue_t *ue, ue_outcome_t outcome, const char *fmt, ...)
{
  ue_result_t *r = &ue->result;
  r->outcome = outcome;
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof(r->why), fmt, ap);
    va_end(ap);
  }
  r->elapsed_ms = (double)((uint64_t)kedge_now_us() - ue->start_us) / 1000.0;
  OPENSSL_cleanse(&ue->aka, sizeof(ue->aka));
  kedge_kdf_key_free(ue->kausf_key); /* wipes it */
  ue->kausf_key = NULL;
  OPENSSL_cleanse(&ue->ctx, sizeof(ue->ctx));
  ue->busy = false;
  ue->call = NULL;
  ue_register_cb cb = ue->cb;
  void *arg = ue->arg;
  cb(&ue->result, arg);
}

/* Peer text in a one-line report: printable ASCII only, bounded. */
static void flat_copy(char *dst, size_t size, const char *src)
{
  size_t n = 0;
  for (; src && *src && n + 1 < size; src++)
    dst[n++] = (unsigned char)*src < 0x20 || (unsigned char)*src > 0x7e ? '?' : *src;
  dst[n] = '\0';
}

/* The UE reads its two 2xx answers itself (unread_2xx_body: read flat when they can be,
 * ue_read_auth_ctx, ue_read_confirmation); otherwise the tree the client would have parsed: a
 * JSON media type's body, with duplicates refused. The caller json_decref()s it. */
static json_t *answer_tree(const kedge_sbi_client_response_t *r)
{
  if (r->json)
    return json_incref(r->json);
  if (!r->body || !kedge_sbi_client_json_type(r->content_type))
    return NULL;
  return json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
}

/* A response that is not a usable answer: no response at all, or an error status with its
 * ProblemDetails (TS 29.500 5.2.7.2). Returns true when it finished the registration. */
static bool failed_exchange(ue_t *ue, const char *what, const kedge_sbi_client_response_t *r,
                            long expected)
{
  if (r->err) {
    finish(ue, UE_FAIL_NETWORK, "%s: no answer from the AUSF: %s", what, kedge_strerror(r->err));
    return true;
  }
  if (r->status == expected)
    return false;
  char cause[64] = "", detail[256] = "", title[64] = "";
  json_t *problem = answer_tree(r); /* another 2xx's body is not parsed by the client */
  flat_copy(cause, sizeof(cause), json_string_value(json_object_get(problem, "cause")));
  flat_copy(detail, sizeof(detail), json_string_value(json_object_get(problem, "detail")));
  flat_copy(title, sizeof(title), json_string_value(json_object_get(problem, "title")));
  json_decref(problem);
  ue->result.http_status = r->status;
  snprintf(ue->result.cause, sizeof(ue->result.cause), "%s", cause);
  finish(ue, UE_FAIL_HTTP, "%s: the AUSF answered %ld%s%s%s%s%s%s", what, r->status,
         title[0] ? " " : "", title, cause[0] ? ", cause " : "", cause, detail[0] ? ": " : "",
         detail);
  return true;
}

/* finish() and leave the callback */
#define FAIL(...)                                                                                  \
  do {                                                                                             \
    finish(__VA_ARGS__);                                                                           \
    return;                                                                                        \
  } while (0)

static void on_challenge(const kedge_sbi_client_response_t *r, void *arg);
static void on_confirmation(const kedge_sbi_client_response_t *r, void *arg);

/* POST ue-authentications (TS 29.509 5.2.2.2.2 step 1); with rand and auts the
 * resynchronisation request of TS 33.501 6.1.3.2.2 / 6.1.3.3.2 (TS 29.509 5.2.2.2.2). */
static kedge_err_t send_authenticate(ue_t *ue, const uint8_t *rand, const uint8_t *auts)
{
  if (!rand && ue->auth_body) { /* the same body every time: encoded at ue_alloc */
    kedge_sbi_client_request_t req = {.method = "POST",
                                      .url = ue->post_url,
                                      .raw_body = ue->auth_body,
                                      .raw_body_len = ue->auth_body_len,
                                      .unread_2xx_body = true};
    return kedge_sbi_client_send(ue->client, &req, on_challenge, ue, &ue->call);
  }
  json_t *body = ue_authentication_info(&ue->cfg, rand, auts);
  if (!body)
    return KEDGE_ERR_NOMEM;
  kedge_sbi_client_request_t req = {
      .method = "POST", .url = ue->post_url, .body = body, .unread_2xx_body = true};
  kedge_err_t err = kedge_sbi_client_send(ue->client, &req, on_challenge, ue, &ue->call);
  json_decref(body);
  return err;
}

static void confirm(ue_t *ue)
{
  /* TS 29.509 6.1.6.2.4 ConfirmationData{resStar}: 32 hex digits, nothing to escape, so it is
   * written here rather than built as a jansson tree (whose heap is freed unwiped, docs/ue.md)
   * and encoded again; the client copies it and wipes its copy. */
  uint8_t res_star[KEDGE_RES_STAR_LEN];
  char body[sizeof("{\"resStar\":\"\"}") + 2 * KEDGE_RES_STAR_LEN];
  memcpy(res_star, ue->aka.res_star, sizeof(res_star));
  if (ue->corrupt_res)
    res_star[KEDGE_RES_STAR_LEN - 1] ^= 0x01;
  memcpy(body, "{\"resStar\":\"", 12);
  kedge_hex_encode(res_star, sizeof(res_star), body + 12);
  memcpy(body + 12 + 2 * KEDGE_RES_STAR_LEN, "\"}", 3);
  kedge_sbi_client_request_t req = {.method = "PUT",
                                    .url = ue->confirm_url,
                                    .raw_body = body,
                                    .raw_body_len = strlen(body),
                                    .unread_2xx_body = true};
  kedge_err_t err = kedge_sbi_client_send(ue->client, &req, on_confirmation, ue, &ue->call);
  OPENSSL_cleanse(res_star, sizeof(res_star));
  OPENSSL_cleanse(body, sizeof(body));
  if (err)
    finish(ue, UE_FAIL_LOCAL, "cannot send the confirmation: %s", kedge_strerror(err));
}

static void on_challenge(const kedge_sbi_client_response_t *r, void *arg)
{
  ue_t *ue = arg;
  ue->call = NULL;
  const char *what = ue->result.resynchronised ? "POST ue-authentications (resynchronisation)"
                                               : "POST ue-authentications";
  if (failed_exchange(ue, what, r, 201))
    return;
  const char *why = NULL;
  if (!r->location || !r->location[0]) /* TS 29.509 6.1.3.2.3.1: required with 201 */
    FAIL(ue, UE_FAIL_PROTOCOL, "%s: 201 without a Location header", what);
  /* TS 29.509 6.1.6.2.3: read flat when it can be (ue_read_auth_ctx), else jansson's tree */
  kedge_err_t perr = KEDGE_OK;
  if (!kedge_sbi_client_json_type(r->content_type) ||
      !ue_read_auth_ctx(r->body, r->body_len, &ue->ctx, &why, &perr)) {
    json_t *tree = answer_tree(r);
    if (!tree)
      FAIL(ue, UE_FAIL_PROTOCOL, "%s: 201 without a JSON UEAuthenticationCtx", what);
    perr = ue_parse_auth_ctx(tree, &ue->ctx, &why);
    json_decref(tree);
  }
  if (perr)
    FAIL(ue, UE_FAIL_PROTOCOL, "%s: UEAuthenticationCtx: %s", what, why);
  if (ue_resolve_href_uh(ue->post_uh, ue->post_origin, ue->ctx.href, ue->confirm_url,
                         sizeof(ue->confirm_url)))
    FAIL(ue, UE_FAIL_PROTOCOL, "%s: _links.5g-aka.href is not an https URL", what);
  step(ue, 0, "%s: 201 Created, challenge (RAND, AUTN, HXRES*)", what);

  /* The USIM reads SQNms when it checks AUTN (TS 33.102 6.3.3). */
  char why_sqn[UE_PATH_MAX + 128];
  uint64_t sqn_ms = ue->sqn_ms;
  if (!ue->sqn_in_memory && ue_sqn_load(ue->cfg.usim.sqn_file, &sqn_ms, why_sqn, sizeof(why_sqn)))
    FAIL(ue, UE_FAIL_LOCAL, "usim.sqn_file: %s", why_sqn);
  uint8_t auts[KEDGE_AUTS_LEN];
  kedge_kdf_key_free(ue->kausf_key); /* a resynchronisation's second challenge */
  kedge_err_t err = ue_usim_authenticate_keyed(&ue->cfg.usim, sqn_ms, ue->ctx.rand, ue->ctx.autn,
                                               ue->cfg.snn, &ue->aka, auts, &ue->kausf_key);
  switch (err) {
  case KEDGE_OK:
    break;
  case KEDGE_ERR_MAC_FAILURE:
    /* TS 24.501 5.4.1.3.5 b): the UE would answer AUTHENTICATION FAILURE #20; the AUSF's
     * context simply expires (docs/ue.md). */
    FAIL(ue, UE_FAIL_MAC,
         "network authentication failed: MAC-A does not verify "
         "(TS 24.501 cause #20 MAC failure)");
  case KEDGE_ERR_UNSUPPORTED:
    FAIL(ue, UE_FAIL_NON_5G,
         "the AMF separation bit of AUTN is 0: non-5G "
         "authentication unacceptable (TS 24.501 cause #26)");
  case KEDGE_ERR_SYNC_FAILURE:
    if (ue->result.resynchronised) {
      OPENSSL_cleanse(auts, sizeof(auts));
      FAIL(ue, UE_FAIL_SYNC,
           "synchronisation failure after the one resynchronisation: SQN still not "
           "fresh after SQNms %012llx (TS 24.501 cause #21)",
           (unsigned long long)sqn_ms);
    }
    ue->result.resynchronised = true;
    step(ue, 0, "USIM: MAC-A verified, SQN not fresh (SQNms %012llx): AUTS, resynchronising",
         (unsigned long long)sqn_ms);
    err = send_authenticate(ue, ue->ctx.rand, auts);
    OPENSSL_cleanse(auts, sizeof(auts));
    if (err)
      finish(ue, UE_FAIL_LOCAL, "cannot send the resynchronisation: %s", kedge_strerror(err));
    return;
  default:
    FAIL(ue, UE_FAIL_LOCAL, "USIM: %s", kedge_strerror(err));
  }

  /* TS 33.102 6.3.3: the USIM keeps the accepted SQN as its new SQNms before it answers. */
  if (ue->sqn_in_memory)
    ue->sqn_ms = ue->aka.sqn;
  else if (ue_sqn_store(ue->cfg.usim.sqn_file, ue->aka.sqn, why_sqn, sizeof(why_sqn)))
    FAIL(ue, UE_FAIL_LOCAL, "usim.sqn_file: %s", why_sqn);
  ue->result.sqn_accepted = true;
  ue->result.sqn = ue->aka.sqn;
  if (!ue->no_steps)
    kedge_key_fingerprint(ue->aka.kausf, sizeof(ue->aka.kausf), ue->result.kausf_fingerprint);
  step(ue, 0, "USIM: AUTN accepted, SQN %012llx stored; RES*, KAUSF %s, KSEAF",
       (unsigned long long)ue->aka.sqn, ue->result.kausf_fingerprint);

  /* TS 33.501 6.1.3.2 step 10: the SEAF checks HRES* against HXRES* before it confirms. */
  if (ue_seaf_check_hxres_star(ue->ctx.rand, ue->aka.res_star, ue->ctx.hxres_star))
    FAIL(ue, UE_FAIL_HXRES,
         "SEAF: HXRES* from the AUSF does not match the UE's RES* "
         "(TS 33.501 6.1.3.2 step 10); not confirmed");
  step(ue, 0, "SEAF: HXRES* matches RES*%s", ue->corrupt_res ? " (RES* corrupted on purpose)" : "");
  confirm(ue);
}

static void on_confirmation(const kedge_sbi_client_response_t *r, void *arg)
{
  ue_t *ue = arg;
  ue->call = NULL;
  static const char what[] = "PUT 5g-aka-confirmation";
  if (failed_exchange(ue, what, r, 200))
    return;
  /* TS 29.509 6.1.6.2.6 ConfirmationDataResponse{authResult, supi?, kseaf?} */
  uint8_t kseaf[KEDGE_KSEAF_LEN];
  const char *why = NULL, *auth_result = NULL;
  char flat_result[UE_AUTH_RESULT_MAX + 1];
  kedge_err_t err = KEDGE_OK;
  json_t *tree = NULL;
  /* read flat when it is an object of plain strings (no tree holding KSEAF), else jansson's */
  if (kedge_sbi_client_json_type(r->content_type) &&
      ue_read_confirmation(r->body, r->body_len, ue->cfg.usim.supi.value, flat_result, kseaf, &why,
                           &err)) {
    auth_result = flat_result; /* "" for an absent one, as flat_copy makes of NULL */
  } else {
    tree = answer_tree(r);
    err = ue_parse_confirmation(tree, ue->cfg.usim.supi.value, &auth_result, kseaf, &why);
  }
  flat_copy(ue->result.auth_result, sizeof(ue->result.auth_result), auth_result);
  json_decref(tree); /* auth_result borrowed from it: copied above */
  if (err)
    OPENSSL_cleanse(kseaf, sizeof(kseaf));
  if (err == KEDGE_ERR_FORBIDDEN)
    FAIL(ue, UE_FAIL_REJECTED,
         "the AUSF answered AUTHENTICATION_FAILURE: it did not "
         "accept RES* (TS 33.501 6.1.3.2 step 12)");
  if (err)
    FAIL(ue, UE_FAIL_PROTOCOL, "%s: %s%s%s", what, why,
         ue->result.auth_result[0] ? ", authResult " : "", ue->result.auth_result);
  /* TS 33.501 6.1.3.2 step 12: the AUSF's KSEAF must be the one the UE derived (A.6). */
  bool same = CRYPTO_memcmp(kseaf, ue->aka.kseaf, sizeof(kseaf)) == 0;
  OPENSSL_cleanse(kseaf, sizeof(kseaf));
  if (!same)
    FAIL(ue, UE_FAIL_KSEAF, "KSEAF from the AUSF differs from the UE's");
  step(ue, 0, "%s: 200 AUTHENTICATION_SUCCESS, KSEAF matches", what);

  /* SPEC.md 0 step 1: Kedge and Kedge ID from KAUSF, the USIM's SUPI, RID and home network. */
  /* under the KAUSF key that derived KSEAF (one HMAC key set-up fewer per registration) */
  err = kedge_derive_kedge_and_id_keyed(ue->kausf_key, &ue->cfg.usim.supi, ue->cfg.usim.rid,
                                        &ue->cfg.usim.home, ue->kedge, ue->kedge_id);
  if (err)
    FAIL(ue, UE_FAIL_LOCAL, "cannot derive Kedge: %s", kedge_strerror(err));
  memcpy(ue->kausf, ue->aka.kausf, sizeof(ue->kausf));
  ue->have_keys = true;
  memcpy(ue->result.kedge_id, ue->kedge_id, sizeof(ue->kedge_id));
  if (!ue->no_steps)
    kedge_key_fingerprint(ue->kedge, sizeof(ue->kedge), ue->result.kedge_fingerprint);
  step(ue, 1, "Kedge %s, Kedge ID %s", ue->result.kedge_fingerprint, ue->kedge_id);
  if (ue->cfg.usim.akma) {
    /* TS 33.535 6.1 step 3: the UE derives K_AKMA and the A-KID from KAUSF (SPEC.md 9) */
    uint8_t k_akma[KEDGE_K_AKMA_LEN];
    err = kedge_derive_k_akma_and_akid(ue->aka.kausf, &ue->cfg.usim.supi, ue->cfg.usim.rid,
                                       &ue->cfg.usim.home, k_akma, ue->result.akid);
    if (!err)
      kedge_key_fingerprint(k_akma, sizeof(k_akma), ue->result.k_akma_fingerprint);
    OPENSSL_cleanse(k_akma, sizeof(k_akma));
    if (err)
      FAIL(ue, UE_FAIL_LOCAL, "cannot derive K_AKMA: %s", kedge_strerror(err));
    step(ue, 1, "AKMA: K_AKMA %s, A-KID %s", ue->result.k_akma_fingerprint, ue->result.akid);
  }
  finish(ue, UE_REGISTERED, NULL);
}

static void wipe_keys(ue_t *ue)
{
  ue->have_keys = false;
  OPENSSL_cleanse(ue->kausf, sizeof(ue->kausf));
  OPENSSL_cleanse(ue->kedge, sizeof(ue->kedge));
  OPENSSL_cleanse(ue->kedge_id, sizeof(ue->kedge_id));
}

/* The UE without its client. */
static kedge_err_t ue_alloc(const ue_config_t *cfg, ue_t **out)
{
  ue_t *ue = calloc(1, sizeof(*ue));
  if (!ue)
    return KEDGE_ERR_NOMEM;
  ue->cfg = *cfg;
  if ((size_t)snprintf(ue->post_url, sizeof(ue->post_url), "%s%s", cfg->ausf_uri, AUTH_PATH) >=
      sizeof(ue->post_url)) {
    ue_free(ue);
    return KEDGE_ERR_TOO_BIG;
  }
  kedge_err_t err = KEDGE_ERR_NOMEM;
  ue->post_uh = curl_url();
  if (ue->post_uh && curl_url_set(ue->post_uh, CURLUPART_URL, ue->post_url, 0) != CURLUE_OK)
    err = KEDGE_ERR_CONFIG; /* ausf.uri was checked at load: not expected */
  else if (ue->post_uh)
    err = ue_href_origin(ue->post_uh, ue->post_origin, sizeof(ue->post_origin));
  if (!err && !cfg->usim.conceal) {
    /* A SUPI (no SUCI with a fresh ephemeral key per request): the same AuthenticationInfo for
     * every registration, encoded once. */
    json_t *body = ue_authentication_info(cfg, NULL, NULL);
    size_t n = body ? json_dumpb(body, NULL, 0, JSON_COMPACT) : 0;
    ue->auth_body = n ? malloc(n) : NULL;
    if (ue->auth_body && json_dumpb(body, ue->auth_body, n, JSON_COMPACT) == n)
      ue->auth_body_len = n;
    else
      err = KEDGE_ERR_NOMEM;
    json_decref(body);
  }
  if (err) {
    ue_free(ue);
    return err;
  }
  *out = ue;
  return KEDGE_OK;
}

kedge_err_t ue_new(const ue_config_t *cfg, struct event_base *base, ue_t **out)
{
  if (!cfg || !base || !out)
    return KEDGE_ERR_INVALID_ARG;
  *out = NULL;
  ue_t *ue = NULL;
  kedge_err_t err = ue_alloc(cfg, &ue);
  if (err)
    return err;
  kedge_sbi_client_options_t opts;
  kedge_sbi_client_options_init(&opts);
  opts.ca_file = cfg->ca;
  opts.cert_file = cfg->cert;
  opts.key_file = cfg->key;
  opts.timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : KEDGE_SBI_CLIENT_TIMEOUT_MS_DEFAULT;
  opts.max_connections = 1;
  /* TS 29.500 5.2.2.2: the simulator speaks as the SEAF in an AMF, one instance per run */
  char instance_id[KEDGE_UUID_LEN + 1], user_agent[48];
  err = kedge_uuid_random(instance_id);
  snprintf(user_agent, sizeof(user_agent), "AMF-%s", instance_id);
  opts.user_agent = user_agent;
  /* the SEAF's access tokens (docs/oauth2.md): NF type AMF, this run's instance id */
  if (!err && cfg->token_uri[0])
    err = kedge_sbi_client_set_oauth2(cfg->token_uri, "AMF", instance_id, 10000);
  if (!err)
    err = kedge_sbi_client_new(base, &opts, &ue->client);
  if (err) {
    ue_free(ue);
    return err;
  }
  ue->own_client = true;
  *out = ue;
  return KEDGE_OK;
}

kedge_err_t ue_new_with_client(const ue_config_t *cfg, kedge_sbi_client_t *client, ue_t **out)
{
  if (!cfg || !client || !out)
    return KEDGE_ERR_INVALID_ARG;
  *out = NULL;
  kedge_err_t err = ue_alloc(cfg, out);
  if (!err)
    (*out)->client = client;
  return err;
}

void ue_free(ue_t *ue)
{
  if (!ue)
    return;
  if (ue->own_client)
    kedge_sbi_client_free(ue->client); /* cancels a call in flight: no callback */
  else
    kedge_sbi_client_cancel(ue->call); /* the shared client stays; only this UE's call goes */
  wipe_keys(ue);
  kedge_kdf_key_free(ue->kausf_key); /* freed mid-registration: between challenge and answer */
  curl_url_cleanup(ue->post_uh);
  free(ue->auth_body);
  OPENSSL_cleanse(ue, sizeof(*ue));
  free(ue);
}

void ue_set_sqn_in_memory(ue_t *ue, uint64_t sqn_ms)
{
  if (!ue)
    return;
  ue->sqn_in_memory = true;
  ue->sqn_ms = sqn_ms;
}

void ue_set_step_log(ue_t *ue, bool on)
{
  if (ue)
    ue->no_steps = !on;
}

void ue_set_corrupt_res(ue_t *ue, bool corrupt)
{
  if (ue)
    ue->corrupt_res = corrupt;
}

kedge_err_t ue_register(ue_t *ue, ue_register_cb cb, void *arg)
{
  if (!ue || !cb)
    return KEDGE_ERR_INVALID_ARG;
  if (ue->busy)
    return KEDGE_ERR_BUSY;
  /* A new primary authentication replaces the edge keys (SPEC.md 2, lifetime). */
  wipe_keys(ue);
  memset(&ue->result, 0, sizeof(ue->result));
  ue->cb = cb;
  ue->arg = arg;
  ue->start_us = ue->mark_us = (uint64_t)kedge_now_us();
  kedge_err_t err = send_authenticate(ue, NULL, NULL);
  if (!err)
    ue->busy = true;
  return err;
}

kedge_err_t ue_keys(const ue_t *ue, uint8_t kausf[KEDGE_KAUSF_LEN], uint8_t kedge[KEDGE_KEY_LEN],
                    char kedge_id[KEDGE_ID_MAX + 1])
{
  if (!ue)
    return KEDGE_ERR_INVALID_ARG;
  if (!ue->have_keys)
    return KEDGE_ERR_NOT_FOUND;
  if (kausf)
    memcpy(kausf, ue->kausf, KEDGE_KAUSF_LEN);
  if (kedge)
    memcpy(kedge, ue->kedge, KEDGE_KEY_LEN);
  if (kedge_id)
    memcpy(kedge_id, ue->kedge_id, KEDGE_ID_MAX + 1);
  return KEDGE_OK;
}

/* ---- the synchronous use ---------------------------------------------------------------- */

typedef struct sync_run {
  bool done;
  ue_result_t *result;
  struct event_base *base;
} sync_run_t;

static void on_sync_done(const ue_result_t *result, void *arg)
{
  sync_run_t *run = arg;
  *run->result = *result;
  run->done = true;
  event_base_loopbreak(run->base); /* the client's idle connection keeps the loop alive */
}

kedge_err_t ue_register_sync(const ue_config_t *cfg, bool corrupt_res, ue_result_t *result,
                             char *why, size_t why_size)
{
  memset(result, 0, sizeof(*result));
  struct event_base *base = event_base_new();
  if (!base) {
    snprintf(why, why_size, "cannot create an event loop");
    return KEDGE_ERR_NOMEM;
  }
  ue_t *ue = NULL;
  kedge_err_t err = ue_new(cfg, base, &ue);
  if (err) {
    snprintf(why, why_size, "ausf: cannot set up the TLS client from ca, cert and key: %s",
             kedge_strerror(err));
    event_base_free(base);
    return err;
  }
  ue_set_corrupt_res(ue, corrupt_res);
  sync_run_t run = {.result = result, .base = base};
  err = ue_register(ue, on_sync_done, &run);
  if (err)
    snprintf(why, why_size, "cannot start the registration: %s", kedge_strerror(err));
  while (!err && !run.done)
    if (event_base_dispatch(base) != 0 && !run.done) { /* no event left: cannot happen */
      snprintf(why, why_size, "the event loop stopped before the registration ended");
      err = KEDGE_ERR_IO;
    }
  ue_free(ue);
  event_base_free(base);
  return err;
}
