/* kedge-nef-ausf-testd: a stand-in AUSF key service for the NEF's tests, built on the real SBI
 * runtime (mutual TLS, HTTP/2). It serves
 *   POST /nausf-auth/v1/kedge-keys/retrieve  {kedgeId, ecsId?} -> 200 {kedgeId, kedge, expiry}
 * from a small table in its configuration, with the AUSF's authorisation rules of SPEC.md 3
 * (allowed consumers by SAN DNS name; ecsId only one's own SAN name unless a relay), K_ECS for
 * ecsId (SPEC.md 6, with the library's derivation), and knobs to misbehave:
 *   keyrequest.delay        answer after this long (from a timer: the loop is not blocked)
 *   keyrequest.fail_status  answer every request with this status (e.g. 503, 500, 400)
 *   keyrequest.garbage      answer 200 with a body that is not a KedgeKeyResponse
 * One line per request on stderr: "keyrequest consumer=<SAN> kedgeId=<id> ecsId=<id|-> status=N".
 * Configuration: log:, sbi: (docs/sbi.md) and keyrequest: {allowed_consumers, relays, delay,
 * fail_status, garbage, keys: [{kedge_id, kedge (64 hex), expiry}]}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "kedge/app.h"
#include "kedge/edge.h"
#include "kedge/hex.h"
#include "kedge/json_check.h"
#include "kedge/log.h"
#include "kedge/problem.h"

typedef struct test_key {
  const char *kedge_id;
  uint8_t kedge[KEDGE_KEY_LEN];
  const char *expiry;
} test_key_t;

typedef struct fixture {
  const char *const *consumers;
  size_t n_consumers;
  const char *const *relays;
  size_t n_relays;
  int64_t delay_ms;
  int64_t fail_status;
  bool garbage;
  test_key_t *keys;
  size_t n_keys;
} fixture_t;

static fixture_t fx;

static const char *const extra_usage[] = {KEDGE_APP_PORTS_FILE_USAGE, NULL};
static const kedge_daemon_info_t info = {
    .program = "kedge-nef-ausf-testd",
    .description = "Test AUSF key service for the NEF tests: POST "
                   "/nausf-auth/v1/kedge-keys/retrieve from a table in the configuration, with "
                   "delay and failure knobs.",
    .default_config = NULL,
    .extra_usage = extra_usage,
};

static bool listed(const char *const *names, size_t n, const kedge_sbi_request_t *req)
{
  for (size_t i = 0; i < n; i++)
    if (kedge_sbi_request_peer_is(req, names[i]))
      return true;
  return false;
}

static void log_line(kedge_sbi_request_t *req, const char *kedge_id, const char *ecs_id, int status)
{
  kedge_log_info("keyrequest consumer=%s kedgeId=%s ecsId=%s status=%d",
                 kedge_sbi_request_peer_count(req) ? kedge_sbi_request_peer(req, 0) : "-",
                 kedge_id ? kedge_id : "-", ecs_id ? ecs_id : "-", status);
}

static const kedge_json_member_t members[] = {
    {.name = "kedgeId", .kind = KEDGE_JSON_STRING, .required = true, .max_len = KEDGE_ID_MAX},
    {.name = "ecsId", .kind = KEDGE_JSON_STRING, .max_len = KEDGE_ECS_ID_MAX + 1},
    {.name = NULL},
};

/* Answers now: the configured failure, a refusal, 404, or 200 with the key (K_ECS for ecsId). */
static void answer(kedge_sbi_request_t *req)
{
  const json_t *body = kedge_sbi_request_json(req);
  const char *kedge_id = NULL, *ecs = NULL, *why = NULL;
  if (fx.fail_status) {
    if (fx.fail_status == 503 || fx.fail_status == 429)
      kedge_sbi_response_header(req, "retry-after", "7");
    kedge_sbi_respond_problem(req, (int)fx.fail_status, "SYSTEM_FAILURE", "configured to fail");
    log_line(req, NULL, NULL, (int)fx.fail_status);
    return;
  }
  if (!listed(fx.consumers, fx.n_consumers, req)) {
    kedge_sbi_respond_problem(req, 403, "CONSUMER_NOT_AUTHORIZED", NULL);
    log_line(req, NULL, NULL, 403);
    return;
  }
  kedge_id_t id;
  char ecs_id[KEDGE_ECS_ID_MAX + 1];
  if (kedge_json_check(body, members, NULL, NULL) != KEDGE_OK ||
      kedge_id_parse(json_string_value(json_object_get(body, "kedgeId")),
                     json_string_length(json_object_get(body, "kedgeId")), &id, &why) != KEDGE_OK ||
      ((ecs = json_string_value(json_object_get(body, "ecsId"))) &&
       kedge_ecs_id_normalise(ecs, ecs_id, &why) != KEDGE_OK)) {
    kedge_sbi_respond_problem(req, 400, "MANDATORY_IE_INCORRECT", why);
    log_line(req, NULL, NULL, 400);
    return;
  }
  kedge_id = json_string_value(json_object_get(body, "kedgeId"));
  if (ecs && !kedge_sbi_request_peer_is(req, ecs_id) && !listed(fx.relays, fx.n_relays, req)) {
    kedge_sbi_respond_problem(req, 403, "CONSUMER_NOT_AUTHORIZED", "not your ecsId");
    log_line(req, kedge_id, ecs_id, 403);
    return;
  }
  const test_key_t *key = NULL;
  for (size_t i = 0; i < fx.n_keys && !key; i++)
    if (!strcmp(fx.keys[i].kedge_id, kedge_id))
      key = &fx.keys[i];
  if (!key) {
    kedge_sbi_respond_problem(req, 404, "KEDGE_ID_NOT_FOUND", NULL);
    log_line(req, kedge_id, ecs ? ecs_id : NULL, 404);
    return;
  }
  uint8_t k[KEDGE_KEY_LEN];
  char hex[2 * KEDGE_KEY_LEN + 1];
  if (ecs)
    kedge_derive_k_ecs(key->kedge, ecs_id, k);
  else
    memcpy(k, key->kedge, sizeof(k));
  kedge_hex_encode(k, sizeof(k), hex);
  json_t *out = fx.garbage ? json_pack("{s:s}", "kedgeId", kedge_id)
                           : json_pack("{s:s, s:s, s:s}", "kedgeId", kedge_id, "kedge", hex,
                                       "expiry", key->expiry);
  kedge_sbi_respond_json(req, 200, NULL, out);
  json_decref(out);
  OPENSSL_cleanse(k, sizeof(k));
  OPENSSL_cleanse(hex, sizeof(hex));
  log_line(req, kedge_id, ecs ? ecs_id : NULL, 200);
}

typedef struct delayed {
  struct event *timer;
  kedge_sbi_request_t *req;
} delayed_t;

static void delayed_free(delayed_t *d)
{
  event_free(d->timer);
  free(d);
}

static void delayed_fire(evutil_socket_t fd, short what, void *arg)
{
  delayed_t *d = arg;
  kedge_sbi_request_on_cancel(d->req, NULL, NULL);
  answer(d->req);
  delayed_free(d);
}

static void delayed_cancel(kedge_sbi_request_t *req, void *arg)
{
  delayed_t *d = arg;
  kedge_sbi_respond_problem(req, 500, "SYSTEM_FAILURE", NULL); /* only frees it */
  delayed_free(d);
}

static void retrieve(kedge_sbi_request_t *req, void *arg)
{
  if (fx.delay_ms <= 0) {
    answer(req);
    return;
  }
  delayed_t *d = calloc(1, sizeof(*d));
  if (d)
    d->timer = evtimer_new(kedge_sbi_request_base(req), delayed_fire, d);
  struct timeval tv = {.tv_sec = fx.delay_ms / 1000, .tv_usec = (fx.delay_ms % 1000) * 1000};
  if (!d || !d->timer || evtimer_add(d->timer, &tv) != 0) {
    if (d && d->timer)
      event_free(d->timer);
    free(d);
    kedge_sbi_respond_err(req, KEDGE_ERR_NOMEM, NULL);
    return;
  }
  d->req = req;
  kedge_sbi_request_on_cancel(req, delayed_cancel, d);
}

static kedge_err_t read_config(kedge_config_node_t *root, void *state)
{
  fixture_t *f = state;
  kedge_config_node_t *kr = NULL, *const *items = NULL;
  kedge_err_t err = KEDGE_OK;
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "keyrequest", &kr));
  KEDGE_CONFIG_KEEP(err,
                    kedge_config_strings(kr, "allowed_consumers", &f->consumers, &f->n_consumers));
  KEDGE_CONFIG_KEEP(err, kedge_config_strings(kr, "relays", &f->relays, &f->n_relays));
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(kr, "delay", 0, 0, 600000, &f->delay_ms));
  KEDGE_CONFIG_KEEP(err, kedge_config_int(kr, "fail_status", 0, 0, 599, &f->fail_status));
  KEDGE_CONFIG_KEEP(err, kedge_config_bool(kr, "garbage", false, &f->garbage));
  KEDGE_CONFIG_KEEP(err, kedge_config_maps(kr, "keys", &items, &f->n_keys));
  if (err)
    return err;
  f->keys = calloc(f->n_keys ? f->n_keys : 1, sizeof(*f->keys));
  if (!f->keys)
    return KEDGE_ERR_NOMEM;
  for (size_t i = 0; i < f->n_keys; i++) {
    const char *hex = NULL;
    KEDGE_CONFIG_KEEP(err, kedge_config_string(items[i], "kedge_id", NULL, &f->keys[i].kedge_id));
    KEDGE_CONFIG_KEEP(err, kedge_config_string(items[i], "kedge", NULL, &hex));
    KEDGE_CONFIG_KEEP(
        err, kedge_config_string(items[i], "expiry", "2099-01-01T00:00:00Z", &f->keys[i].expiry));
    if (!err && (!f->keys[i].kedge_id || !hex ||
                 kedge_hex_decode(hex, f->keys[i].kedge, KEDGE_KEY_LEN) != KEDGE_OK))
      KEDGE_CONFIG_KEEP(
          err, kedge_config_invalid(items[i], NULL, "needs kedge_id and kedge (64 hex digits)"));
  }
  return err;
}

static kedge_err_t setup(kedge_sbi_server_t *srv, void *state, char *why, size_t why_size)
{
  return kedge_sbi_server_route(srv, "POST", "/nausf-auth/v1/kedge-keys/retrieve", NULL, retrieve,
                                state);
}

int main(int argc, char **argv)
{
  const kedge_app_t app = {
      .info = &info,
      .service = "ausf",
      .read_config = read_config,
      .setup = setup,
      .state = &fx,
  };
  int rc = kedge_app_main(&app, argc, argv);
  if (fx.keys)
    OPENSSL_cleanse(fx.keys, fx.n_keys * sizeof(*fx.keys));
  free(fx.keys);
  return rc;
}
