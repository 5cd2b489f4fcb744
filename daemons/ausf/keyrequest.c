/* Nausf_UEAuthentication_keyrequest (SPEC.md 3;
 * api/TS29509_Nausf_UEAuthentication_keyrequest.yaml): POST /nausf-auth/v1/kedge-keys/retrieve
 * {kedgeId, ecsId?} -> {kedgeId, kedge, expiry}. Steps 5-6 of SPEC.md 0 (5.2/6.1 through the NEF).
 * Consumers are authorised by their certificate's SAN DNS names; every answer is audit-logged with
 * consumer, Kedge ID, profile and outcome, never the key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "ausf.h"
#include "kedge/hex.h"
#include "kedge/json_check.h"
#include "kedge/log.h"
#include "kedge/problem.h"
#include "kedge/time.h"

typedef struct key_call {
  ausf_t *ausf;
  kedge_sbi_request_t *req;
  const ausf_key_consumer_t *consumer;
  char kedge_id[KEDGE_ID_MAX + 1];
  char ecs_id[KEDGE_ECS_ID_MAX + 1]; /* "" for profile kedge */
  char *callback_uri;                /* revocCallbackUri, or NULL */
  struct event *delay;               /* testing.keyrequest_delay */
  /* the answer, kept while a testing delay runs */
  kedge_err_t err;
  uint8_t key[KEDGE_KEY_LEN];
  int64_t expiry_ms;
} key_call_t;

/* SPEC.md 3 KedgeKeyRequest, in the order of AUSF_KR_*: all strings, so that the SBI server
 * reads a plain body without a tree (kedge_sbi_server_route_strings) */
const kedge_json_member_t ausf_key_request_members[] = {
    {.name = "kedgeId", .kind = KEDGE_JSON_STRING, .required = true, .max_len = KEDGE_ID_MAX},
    {.name = "ecsId", .kind = KEDGE_JSON_STRING, .max_len = KEDGE_ECS_ID_MAX + 1},
    {.name = "revocCallbackUri", .kind = KEDGE_JSON_STRING, .max_len = KEDGE_SBI_NOTIFY_URI_MAX},
    {.name = NULL},
};

json_t *ausf_key_request_parse(const char *const values[AUSF_KR_MEMBERS], ausf_key_request_t *kr)
{
  memset(kr, 0, sizeof(*kr));
  kr->kedge_id = values[AUSF_KR_KEDGE_ID];
  kr->ecs_id = values[AUSF_KR_ECS_ID];
  kr->callback_uri = values[AUSF_KR_CALLBACK_URI];
  const char *why = NULL, *param = NULL;
  if (!kr->kedge_id) /* not through ausf_key_request_members: no kedgeId to parse */
    return kedge_problem_new(400, "MANDATORY_IE_MISSING", "KedgeKeyRequest without kedgeId");
  if (kedge_id_parse(kr->kedge_id, strlen(kr->kedge_id), &kr->id, &why))
    param = "/kedgeId";
  else if (kr->ecs_id && kedge_ecs_id_normalise(kr->ecs_id, kr->ecs_norm, &why))
    param = "/ecsId";
  json_t *problem = NULL;
  if (param) {
    problem = kedge_problem_new(400, "MANDATORY_IE_INCORRECT", "invalid KedgeKeyRequest");
    kedge_problem_add_invalid_param(problem, param, why);
  } else if (kr->callback_uri && !kedge_sbi_callback_uri_ok(kr->callback_uri)) {
    /* TS 29.500 Table 5.2.7.2-1: an optional IE with a wrong value */
    problem = kedge_problem_new(400, "OPTIONAL_IE_INCORRECT", "invalid KedgeKeyRequest");
    kedge_problem_add_invalid_param(problem, "/revocCallbackUri",
                                    "must be an absolute https URI without user info");
  }
  return problem;
}

/* Appends n octets of s at *o. */
static void put(char **o, const char *s, size_t n)
{
  memcpy(*o, s, n);
  *o += n;
}

size_t ausf_key_response_format(const char *kedge_id, const uint8_t key[KEDGE_KEY_LEN],
                                int64_t expiry_ms, char out[AUSF_KEY_RESPONSE_MAX])
{
  /* SPEC.md 3 KedgeKeyResponse, written out: no member needs escaping (the Kedge ID passed
   * kedge_id_parse: digits, base64url, '.', '@' and a lower-case realm; hex; RFC 3339), and a
   * JSON tree built and serialised per answer cost more than the rest of the handler; put
   * together with memcpy, not snprintf (~1,400 instructions per answer, issue 17) */
  static const char a[] = "{\"kedgeId\":\"", b[] = "\",\"kedge\":\"", c[] = "\",\"expiry\":\"",
                    d[] = "\"}";
  size_t id_len = strlen(kedge_id);
  size_t len = sizeof(a) - 1 + id_len + sizeof(b) - 1 + 2 * KEDGE_KEY_LEN + sizeof(c) - 1 +
               KEDGE_RFC3339_LEN + sizeof(d) - 1;
  if (len >= AUSF_KEY_RESPONSE_MAX) { /* never a cut answer (nor its part of the key) */
    out[0] = '\0';
    return 0;
  }
  char *o = out;
  put(&o, a, sizeof(a) - 1);
  put(&o, kedge_id, id_len);
  put(&o, b, sizeof(b) - 1);
  kedge_hex_encode(key, KEDGE_KEY_LEN, o); /* the caller wipes `out` */
  o += 2 * KEDGE_KEY_LEN;
  put(&o, c, sizeof(c) - 1);
  kedge_rfc3339_format(expiry_ms, o);
  o += KEDGE_RFC3339_LEN;
  put(&o, d, sizeof(d)); /* with its '\0' */
  return len;
}

static const ausf_key_consumer_t *consumer_of(const ausf_t *ausf, const kedge_sbi_request_t *req)
{
  for (size_t i = 0; i < ausf->n_key_consumers; i++)
    if (kedge_sbi_request_peer_is(req, ausf->key_consumers[i].name))
      return &ausf->key_consumers[i];
  return NULL;
}

static const char *first_peer(const kedge_sbi_request_t *req)
{
  const char *p = kedge_sbi_request_peer_count(req) ? kedge_sbi_request_peer(req, 0) : NULL;
  return p ? p : "(no certificate name)";
}

/* One audit line per keyrequest: the outcome in the message, who and what in fields. */
static void audit_line(const char *consumer, const char *kedge_id, bool bound, int status,
                       const char *cause, const char *outcome)
{
  if (!kedge_log_enabled(KEDGE_LOG_INFO))
    return; /* not even the status formatted: this runs once per key request */
  char st[8];
  snprintf(st, sizeof(st), "%d", status);
  const kedge_log_field_t f[] = {
      {"peer", consumer, false},
      {"kedge_id", kedge_id, false},
      {"status", st, true},
      {"cause", cause, false},
  };
  kedge_log_fields(KEDGE_LOG_INFO, f, sizeof(f) / sizeof(f[0]), "keyrequest: profile %s: %s",
                   bound ? "bound" : "kedge", outcome);
}

static void audit(const key_call_t *k, const char *consumer, const char *kedge_id, int status,
                  const char *cause, const char *outcome)
{
  audit_line(consumer, kedge_id, k && k->ecs_id[0], status, cause, outcome);
}

static void refuse(kedge_sbi_request_t *req, ausf_t *ausf, const char *kedge_id, bool bound,
                   const char *detail)
{
  kedge_counter_add(ausf->keyrequests_refused, 1);
  char outcome[160];
  snprintf(outcome, sizeof(outcome), "refused (%s)", detail);
  audit_line(first_peer(req), kedge_id, bound, 403, "CONSUMER_NOT_AUTHORIZED", outcome);
  kedge_sbi_respond_problem(req, 403, "CONSUMER_NOT_AUTHORIZED", detail);
}

static void answer(key_call_t *k)
{
  ausf_t *ausf = k->ausf;
  kedge_sbi_request_t *req = k->req;
  switch (k->err) {
  case KEDGE_OK: {
    char body[AUSF_KEY_RESPONSE_MAX];
    size_t len = ausf_key_response_format(k->kedge_id, k->key, k->expiry_ms, body);
    if (len)
      kedge_sbi_respond(req, 200, KEDGE_SBI_JSON, body, len);
    else
      kedge_sbi_respond_err(req, KEDGE_ERR_TOO_BIG, NULL);
    OPENSSL_cleanse(body, len); /* what was written (nothing when it did not fit) */
    kedge_counter_add(ausf->keyrequests_ok, 1);
    audit(k, k->consumer->name, k->kedge_id, 200, NULL, "key returned");
    break;
  }
  case KEDGE_ERR_NOT_FOUND:
    /* unknown and expired alike: no oracle (SPEC.md 3) */
    kedge_counter_add(ausf->keyrequests_not_found, 1);
    audit(k, k->consumer->name, k->kedge_id, 404, "KEDGE_ID_NOT_FOUND", "not found");
    kedge_sbi_respond_problem(req, 404, "KEDGE_ID_NOT_FOUND", NULL);
    break;
  default:
    kedge_counter_add(ausf->keyrequests_failed, 1);
    audit(k, k->consumer->name, k->kedge_id, 503, "KEY_STORE_UNAVAILABLE", kedge_strerror(k->err));
    kedge_sbi_response_header(req, "retry-after", "1");
    kedge_sbi_respond_problem(req, 503, "KEY_STORE_UNAVAILABLE", NULL);
  }
  OPENSSL_cleanse(k->key, sizeof(k->key));
  if (k->delay)
    event_free(k->delay);
  free(k->callback_uri);
  free(k);
}

static void delayed(evutil_socket_t fd, short what, void *arg)
{
  answer(arg);
}

static void got_key(kedge_err_t err, const kedge_keystore_record_t *rec, void *arg)
{
  key_call_t *k = arg;
  k->err = err;
  if (!err) {
    k->expiry_ms = rec->expiry_ms;
    /* issue 13: the consumer hears when this key is replaced or deleted */
    if (k->callback_uri && ausf_revocation_subscribe(k->ausf, rec->supi, k->kedge_id,
                                                     rec->expiry_ms, k->callback_uri) != KEDGE_OK)
      kedge_log_warn("keyrequest: consumer %s, Kedge ID %s: no revocation subscription "
                     "(revocation.max_subscriptions reached); key_cache_ttl still applies",
                     k->consumer->name, k->kedge_id);
    if (k->ecs_id[0])
      /* SPEC.md 6: the AUSF alone derives K_ECS = KDF(Kedge, 0xFC, ECS ID) */
      k->err = kedge_derive_k_ecs(rec->kedge, k->ecs_id, k->key);
    else
      memcpy(k->key, rec->kedge, KEDGE_KEY_LEN);
  }
  if (k->ausf->keyrequest_delay_ms > 0) {
    struct timeval tv = {k->ausf->keyrequest_delay_ms / 1000,
                         (k->ausf->keyrequest_delay_ms % 1000) * 1000};
    k->delay = evtimer_new(kedge_sbi_request_base(k->req), delayed, k);
    if (k->delay && evtimer_add(k->delay, &tv) == 0)
      return;
  }
  answer(k);
}

static void retrieve(kedge_sbi_request_t *req, void *arg)
{
  ausf_t *ausf = arg;
  const ausf_key_consumer_t *consumer = consumer_of(ausf, req);
  if (!consumer) {
    refuse(req, ausf, NULL, false, "not in keyrequest.allowed_consumers");
    return;
  }
  int64_t wait_ms = 0;
  if (ausf->keyrequest_limit &&
      kedge_rate_take(ausf->keyrequest_limit, consumer->name, strlen(consumer->name),
                      kedge_now_ms(), &wait_ms) != KEDGE_RATE_OK) {
    /* Issue 12; TS 29.500 Table 5.2.7.2-1: 429 NF_CONGESTION_RISK; RFC 9110 10.2.3
     * Retry-After in whole seconds, rounded up */
    char retry[24];
    snprintf(retry, sizeof(retry), "%lld", (long long)((wait_ms + 999) / 1000));
    kedge_counter_add(ausf->keyrequests_limited, 1);
    kedge_log_debug("keyrequest: consumer %s over keyrequest.per_consumer_rate", consumer->name);
    kedge_sbi_response_header(req, "retry-after", retry);
    kedge_sbi_respond_problem(req, 429, "NF_CONGESTION_RISK",
                              "key requests of this consumer over its rate limit");
    return;
  }
  const char *values[AUSF_KR_MEMBERS];
  if (!kedge_sbi_request_strings(req, "KedgeKeyRequest", values))
    return;
  ausf_key_request_t kr;
  json_t *problem = ausf_key_request_parse(values, &kr);
  if (problem) {
    kedge_sbi_respond_problem_json(req, problem);
    json_decref(problem);
    return;
  }
  const char *kedge_id = kr.kedge_id, *ecs_id = kr.ecs_id, *callback = kr.callback_uri;
  const char *ecs_norm = kr.ecs_norm;

  /* SPEC.md 3 and 6: profiles per consumer; only a relay may name someone else's ECS ID */
  if (ecs_id && !consumer->profile_bound) {
    refuse(req, ausf, kedge_id, true, "profile bound not allowed for this consumer");
    return;
  }
  if (!ecs_id && !consumer->profile_kedge) {
    refuse(req, ausf, kedge_id, false, "this consumer must send ecsId (profile bound)");
    return;
  }
  if (ecs_id && !consumer->relay && !kedge_sbi_request_peer_is(req, ecs_norm)) {
    refuse(req, ausf, kedge_id, true, "ecsId is not one of the caller's certificate names");
    return;
  }

  /* not calloc: the two names' buffers (~500 octets) are filled below, the answer's fields by
   * got_key, and zeroing them per key request showed in its profile */
  key_call_t *k = malloc(sizeof(*k));
  if (!k) {
    kedge_sbi_respond_err(req, KEDGE_ERR_NOMEM, NULL);
    return;
  }
  k->callback_uri = NULL;
  k->delay = NULL;
  k->err = KEDGE_OK;
  k->expiry_ms = 0;
  k->ausf = ausf;
  k->req = req;
  k->consumer = consumer;
  memcpy(k->kedge_id, kedge_id, strlen(kedge_id) + 1); /* at most KEDGE_ID_MAX: parsed */
  memcpy(k->ecs_id, kr.ecs_norm, sizeof(k->ecs_id));
  if (callback && ausf->revocation && !(k->callback_uri = strdup(callback))) {
    free(k);
    kedge_sbi_respond_err(req, KEDGE_ERR_NOMEM, NULL);
    return;
  }
  kedge_err_t err =
      kedge_keystore_get_parsed(ausf_worker_of(req)->keys, k->kedge_id, &kr.id, got_key, k);
  if (err) {
    k->err = err;
    answer(k);
  }
}

kedge_err_t ausf_keyrequest_setup(ausf_t *ausf, kedge_sbi_server_t *srv)
{
  kedge_metrics_t *m = kedge_sbi_server_metrics(srv);
  const char *name = "kedge_ausf_keyrequests_total",
             *help = "Nausf_UEAuthentication_keyrequest answers by result";
  kedge_err_t err;
  if ((err = kedge_metrics_counter(m, name, help, "result=\"ok\"", &ausf->keyrequests_ok)) ||
      (err = kedge_metrics_counter(m, name, help, "result=\"not_found\"",
                                   &ausf->keyrequests_not_found)) ||
      (err = kedge_metrics_counter(m, name, help, "result=\"refused\"",
                                   &ausf->keyrequests_refused)) ||
      (err =
           kedge_metrics_counter(m, name, help, "result=\"failed\"", &ausf->keyrequests_failed)) ||
      (err = kedge_metrics_counter(m, name, help, "result=\"rate_limited\"",
                                   &ausf->keyrequests_limited)) ||
      (err = kedge_metrics_counter(m, "kedge_ausf_edge_keys_total",
                                   "edge keys derived at 5G AKA success, by result",
                                   "result=\"stored\"", &ausf->keys_stored)) ||
      (err = kedge_metrics_counter(m, "kedge_ausf_edge_keys_total",
                                   "edge keys derived at 5G AKA success, by result",
                                   "result=\"failed\"", &ausf->keys_store_failed)))
    return err;
  if (ausf->keyrequest_rate > 0) {
    kedge_rate_config_t cfg = {.rate = ausf->keyrequest_rate,
                               .burst = ausf->keyrequest_burst,
                               .slots = 8 * (ausf->n_key_consumers + 1)};
    if ((err = kedge_rate_new(&cfg, &ausf->keyrequest_limit)))
      return err;
  }
  if ((err = kedge_sbi_server_route(srv, "POST", "/nausf-auth/v1/kedge-keys/retrieve", NULL,
                                    retrieve, ausf)) ||
      (err = kedge_sbi_server_route_strings(srv, ausf_key_request_members)))
    return err;
  /* SPEC.md 7: the key service is the AUSF's custom service nausf-kedge (OAuth2 scope) */
  return kedge_sbi_server_route_service(srv, "nausf-kedge");
}
