/* kedge-keysource-testd: a test peer for the ECS (tests/integration/test-ecs-*, bench/ecs)
 * that serves the two key APIs an ECS calls, from a file of test keys, over the SBI runtime
 * (HTTP/2, mutual TLS):
 *   POST /nausf-auth/v1/kedge-keys/retrieve  {kedgeId, ecsId?}        (the AUSF's, SPEC.md 3)
 *   POST /3gpp-kedge/v1/retrieve             {afId, kedgeId, ecsId?}  (the NEF's, SPEC.md 3)
 * answering 200 {kedgeId, kedge, expiry} (K_ECS in kedge when ecsId is present), 404
 * KEDGE_ID_NOT_FOUND, 400 for a malformed Kedge ID, 403 CONSUMER_NOT_AUTHORIZED for a client
 * certificate outside `allowed_consumers`. Not an AUSF: no AKA, no store; only what an ECS
 * test needs, plus knobs to misbehave:
 *   GET  /test/v1/count   {"requests": N}  key requests received so far
 *   POST /test/v1/mode    {"mode": "ok"|"403"|"429"|"500"|"503"|"drop", "delayMs": N}
 * ("drop" never answers; 429/503 carry Retry-After: N when retryAfter is N seconds, 1 when it is
 * true).
 * Configuration (YAML): log:, sbi: (docs/sbi.md) and
 *   keysource: {keys_file: PATH, delay: DURATION, mode: ..., allowed_consumers: [SAN names]}
 * keys_file: one key per line: "KEDGE_ID KEDGE_HEX [EXPIRY_RFC3339]" ('#' starts a comment);
 * the expiry defaults to one hour after start. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "kedge/app.h"
#include "kedge/edge.h"
#include "kedge/hex.h"
#include "kedge/log.h"

static const char *const extra_usage[] = {KEDGE_APP_PORTS_FILE_USAGE, NULL};

static const kedge_daemon_info_t info = {
    .program = "kedge-keysource-testd",
    .description = "Test peer for the ECS: serves kedge-keys/retrieve (AUSF) and 3gpp-kedge/v1/"
                   "retrieve (NEF) from a file of test keys, with a configurable delay and "
                   "failure mode. For tests only.",
    .default_config = NULL,
    .extra_usage = extra_usage,
};

typedef struct test_key {
  char id[KEDGE_ID_MAX + 1];
  uint8_t kedge[KEDGE_KEY_LEN];
  char expiry[40];
} test_key_t;

typedef struct keysource {
  const char *keys_file;
  const char *const *consumers;
  size_t n_consumers;
  test_key_t *keys;
  size_t n_keys;
  _Atomic int64_t delay_ms;
  _Atomic int mode;        /* 0 ok, 1 drop, else the HTTP status to answer */
  _Atomic int retry_after; /* seconds; 0: no Retry-After */
  _Atomic uint64_t requests;
} keysource_t;

static keysource_t ks;

static int parse_mode(const char *mode)
{
  if (!strcmp(mode, "ok"))
    return 0;
  if (!strcmp(mode, "drop"))
    return 1;
  int status = atoi(mode);
  return status == 403 || status == 429 || status == 500 || status == 503 ? status : -1;
}

static kedge_err_t load_keys(keysource_t *k, char *why, size_t why_size)
{
  FILE *f = fopen(k->keys_file, "r");
  if (!f) {
    snprintf(why, why_size, "cannot open %s", k->keys_file);
    return KEDGE_ERR_IO;
  }
  char line[1024], default_expiry[40];
  time_t later = time(NULL) + 3600;
  struct tm tm;
  gmtime_r(&later, &tm);
  strftime(default_expiry, sizeof(default_expiry), "%Y-%m-%dT%H:%M:%SZ", &tm);
  int n = 0;
  while (fgets(line, sizeof(line), f)) {
    n++;
    char id[300], hex[80], expiry[40] = "";
    if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
      continue;
    int fields = sscanf(line, "%299s %79s %39s", id, hex, expiry);
    test_key_t *grown = realloc(k->keys, (k->n_keys + 1) * sizeof(*grown));
    if (!grown) {
      fclose(f);
      return KEDGE_ERR_NOMEM;
    }
    k->keys = grown;
    test_key_t *key = &k->keys[k->n_keys];
    if (fields < 2 || strlen(id) > KEDGE_ID_MAX ||
        kedge_hex_decode(hex, key->kedge, KEDGE_KEY_LEN) != KEDGE_OK) {
      snprintf(why, why_size, "%s:%d: expected KEDGE_ID KEDGE_HEX [EXPIRY]", k->keys_file, n);
      fclose(f);
      return KEDGE_ERR_CONFIG;
    }
    memcpy(key->id, id, strlen(id) + 1); /* length checked above */
    snprintf(key->expiry, sizeof(key->expiry), "%s", fields == 3 ? expiry : default_expiry);
    k->n_keys++;
  }
  fclose(f);
  return KEDGE_OK;
}

static kedge_err_t read_config(kedge_config_node_t *root, void *state)
{
  keysource_t *k = state;
  kedge_config_node_t *sec = NULL;
  const char *mode = NULL;
  int64_t delay = 0;
  kedge_err_t err = kedge_config_map(root, "keysource", &sec);
  if (!err)
    err = kedge_config_string(sec, "keys_file", NULL, &k->keys_file);
  if (!err && !k->keys_file)
    err = kedge_config_require(sec, "keys_file");
  if (!err)
    err = kedge_config_duration(sec, "delay", 0, 0, 600000, &delay);
  if (!err)
    err = kedge_config_string(sec, "mode", "ok", &mode);
  if (!err && parse_mode(mode) < 0)
    err = kedge_config_invalid(sec, "mode", "must be ok, drop, 403, 429, 500 or 503");
  if (!err)
    err = kedge_config_strings(sec, "allowed_consumers", &k->consumers, &k->n_consumers);
  if (!err) {
    atomic_store(&k->delay_ms, delay);
    atomic_store(&k->mode, parse_mode(mode));
  }
  return err;
}

/* ---- the key APIs ---- */

typedef struct pending {
  kedge_sbi_request_t *req;
  struct event *timer;
  int status;
  json_t *body;
  const char *cause;
} pending_t;

static void pending_free(pending_t *p)
{
  if (p->timer)
    event_free(p->timer);
  json_decref(p->body);
  free(p);
}

static void answer(pending_t *p)
{
  if (p->status == 200) {
    kedge_sbi_respond_json(p->req, 200, NULL, p->body);
  } else {
    int seconds = atomic_load(&ks.retry_after);
    char value[16];
    snprintf(value, sizeof(value), "%d", seconds);
    if ((p->status == 429 || p->status == 503) && seconds > 0)
      kedge_sbi_response_header(p->req, "retry-after", value);
    kedge_sbi_respond_problem(p->req, p->status, p->cause, NULL);
  }
  pending_free(p);
}

static void pending_timer(evutil_socket_t fd, short what, void *arg)
{
  pending_t *p = arg;
  kedge_sbi_request_on_cancel(p->req, NULL, NULL);
  answer(p);
}

static void pending_cancel(kedge_sbi_request_t *req, void *arg)
{
  pending_t *p = arg;
  kedge_sbi_respond_problem(req, 500, "SYSTEM_FAILURE", NULL); /* only frees it */
  pending_free(p);
}

static const test_key_t *find_key(const char *id)
{
  for (size_t i = 0; i < ks.n_keys; i++)
    if (!strcmp(ks.keys[i].id, id))
      return &ks.keys[i];
  return NULL;
}

static bool consumer_allowed(kedge_sbi_request_t *req)
{
  if (ks.n_consumers == 0)
    return true;
  for (size_t i = 0; i < ks.n_consumers; i++)
    if (kedge_sbi_request_peer_is(req, ks.consumers[i]))
      return true;
  return false;
}

/* Decides the answer now; sends it now or after the configured delay. */
static void retrieve(kedge_sbi_request_t *req, bool nef)
{
  atomic_fetch_add(&ks.requests, 1);
  pending_t *p = calloc(1, sizeof(*p));
  if (!p) {
    kedge_sbi_respond_err(req, KEDGE_ERR_NOMEM, NULL);
    return;
  }
  p->req = req;
  json_t *body = kedge_sbi_request_json(req);
  const char *id = json_string_value(json_object_get(body, "kedgeId"));
  const char *ecs_id = json_string_value(json_object_get(body, "ecsId"));
  const char *af_id = json_string_value(json_object_get(body, "afId"));
  int mode = atomic_load(&ks.mode);
  kedge_id_t parsed;
  const test_key_t *key;
  char norm[KEDGE_ECS_ID_MAX + 1];
  if (mode >= 400) {
    p->status = mode;
    p->cause = mode == 403   ? "CONSUMER_NOT_AUTHORIZED"
               : mode == 429 ? "TOO_MANY_REQUESTS"
               : mode == 503 ? "NF_CONGESTION"
                             : "SYSTEM_FAILURE";
  } else if (!consumer_allowed(req) || (nef && !af_id)) {
    p->status = 403;
    p->cause = "CONSUMER_NOT_AUTHORIZED";
  } else if (!id) {
    p->status = 400;
    p->cause = "MANDATORY_IE_MISSING";
  } else if (kedge_id_parse(id, strlen(id), &parsed, NULL) != KEDGE_OK ||
             (ecs_id && kedge_ecs_id_normalise(ecs_id, norm, NULL) != KEDGE_OK)) {
    p->status = 400;
    p->cause = "MANDATORY_IE_INCORRECT";
  } else if (!(key = find_key(id))) {
    p->status = 404;
    p->cause = "KEDGE_ID_NOT_FOUND";
  } else {
    uint8_t k[KEDGE_KEY_LEN];
    char hex[2 * KEDGE_KEY_LEN + 1];
    memcpy(k, key->kedge, sizeof(k));
    if (ecs_id) /* SPEC.md 6: K_ECS for profile bound */
      kedge_derive_k_ecs(key->kedge, norm, k);
    kedge_hex_encode(k, sizeof(k), hex);
    p->status = 200;
    p->body = json_pack("{s:s, s:s, s:s}", "kedgeId", key->id, "kedge", hex, "expiry", key->expiry);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(hex, sizeof(hex));
  }
  int64_t delay = atomic_load(&ks.delay_ms);
  if (mode == 1 || delay > 0) {
    p->timer = evtimer_new(kedge_sbi_request_base(req), pending_timer, p);
    kedge_sbi_request_on_cancel(req, pending_cancel, p);
    if (mode != 1) {
      struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
      evtimer_add(p->timer, &tv);
    }
    return;
  }
  answer(p);
}

static void ausf_retrieve(kedge_sbi_request_t *req, void *arg)
{
  retrieve(req, false);
}

static void nef_retrieve(kedge_sbi_request_t *req, void *arg)
{
  retrieve(req, true);
}

/* ---- test controls ---- */

static void count(kedge_sbi_request_t *req, void *arg)
{
  json_t *j = json_pack("{s:I}", "requests", (json_int_t)atomic_load(&ks.requests));
  kedge_sbi_respond_json(req, 200, NULL, j);
  json_decref(j);
}

static void set_mode(kedge_sbi_request_t *req, void *arg)
{
  json_t *body = kedge_sbi_request_json(req);
  const char *mode = json_string_value(json_object_get(body, "mode"));
  json_t *delay = json_object_get(body, "delayMs");
  int m = mode ? parse_mode(mode) : atomic_load(&ks.mode);
  if (m < 0 || (delay && (!json_is_integer(delay) || json_integer_value(delay) < 0))) {
    kedge_sbi_respond_problem(req, 400, "MANDATORY_IE_INCORRECT", "mode or delayMs");
    return;
  }
  atomic_store(&ks.mode, m);
  if (delay)
    atomic_store(&ks.delay_ms, (int64_t)json_integer_value(delay));
  const json_t *ra = json_object_get(body, "retryAfter");
  atomic_store(&ks.retry_after, json_is_true(ra)      ? 1
                                : json_is_integer(ra) ? (int)json_integer_value(ra)
                                                      : 0);
  kedge_sbi_respond(req, 204, NULL, NULL, 0);
}

static kedge_err_t setup(kedge_sbi_server_t *srv, void *state, char *why, size_t why_size)
{
  kedge_err_t err = load_keys(state, why, why_size);
  if (err)
    return err;
  if ((err = kedge_sbi_server_route(srv, "POST", "/nausf-auth/v1/kedge-keys/retrieve", NULL,
                                    ausf_retrieve, NULL)) ||
      (err = kedge_sbi_server_route(srv, "POST", "/3gpp-kedge/v1/retrieve", NULL, nef_retrieve,
                                    NULL)) ||
      (err = kedge_sbi_server_route(srv, "GET", "/test/v1/count", NULL, count, NULL)) ||
      (err = kedge_sbi_server_route(srv, "POST", "/test/v1/mode", NULL, set_mode, NULL)))
    snprintf(why, why_size, "cannot register routes: %s", kedge_strerror(err));
  kedge_log_info("%zu test keys from %s", ks.n_keys, ks.keys_file);
  return err;
}

static void teardown(void *state)
{
  keysource_t *k = state;
  if (k->keys)
    OPENSSL_cleanse(k->keys, k->n_keys * sizeof(*k->keys));
  free(k->keys);
}

int main(int argc, char **argv)
{
  const kedge_app_t app = {
      .info = &info,
      .service = "keysource",
      .read_config = read_config,
      .setup = setup,
      .teardown = teardown,
      .state = &ks,
  };
  return kedge_app_main(&app, argc, argv);
}
