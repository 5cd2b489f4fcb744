/* kedge-nrf-testd: a test peer playing the NRF's Nnrf_NFManagement for test-nrf.sh (no NRF is
 * installable on Debian 12). It stores profiles and nothing more:
 *   PUT    /nnrf-nfm/v1/nf-instances/{id}  201 (new) or 200 (replaced) with the profile plus
 *          heartBeatTimer = $KEDGE_NRF_TEST_HEARTBEAT seconds (TS 29.510 5.2.2.2.2)
 *   PATCH  /nnrf-nfm/v1/nf-instances/{id}  204; 404 for an unknown id (5.2.2.3.2)
 *   DELETE /nnrf-nfm/v1/nf-instances/{id}  204; 404 for an unknown id (5.2.2.4.2)
 *   GET    /nnrf-nfm/v1/nf-instances/{id}  200 with the stored profile; 404
 *   DELETE /test/nf-instances               forgets every profile (as an NRF that expired them)
 * and appends one JSON line per Nnrf request to $KEDGE_NRF_TEST_FILE:
 *   {"t": wall ms, "method": ..., "path": ..., "contentType": ..., "userAgent": ..., "body": ...}
 * so that the test validates every body against TS29510_Nnrf_NFManagement.yaml.
 * Configuration: YAML (log:, sbi:). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kedge/app.h"
#include "kedge/log.h"
#include "kedge/sbi_server.h"
#include "kedge/time.h"

static const char *const extra_usage[] = {KEDGE_APP_PORTS_FILE_USAGE, NULL};

static const kedge_daemon_info_t info = {
    .program = "kedge-nrf-testd",
    .description = "test peer: an NRF's NFManagement that stores profiles and records requests "
                   "(KEDGE_NRF_TEST_FILE, KEDGE_NRF_TEST_HEARTBEAT).",
    .default_config = NULL,
    .extra_usage = extra_usage,
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *profiles; /* nfInstanceId -> NFProfile */
static const char *record_file;
static int heartbeat_s;

static void record(kedge_sbi_request_t *req, json_t *body)
{
  const char *ua = kedge_sbi_request_header(req, "user-agent");
  const char *ct = kedge_sbi_request_header(req, "content-type");
  json_t *line = json_pack("{s:I, s:s, s:s, s:o, s:o, s:O}", "t", (json_int_t)kedge_wall_ms(),
                           "method", kedge_sbi_request_method(req), "path",
                           kedge_sbi_request_path(req), "contentType",
                           ct ? json_string(ct) : json_null(), "userAgent",
                           ua ? json_string(ua) : json_null(), "body", body ? body : json_null());
  pthread_mutex_lock(&lock);
  FILE *f = line ? fopen(record_file, "a") : NULL;
  if (f) {
    json_dumpf(line, f, JSON_COMPACT);
    fputc('\n', f);
    fclose(f);
  } else {
    kedge_log_error("nrf-testd: cannot write %s", record_file);
  }
  pthread_mutex_unlock(&lock);
  json_decref(line);
}

static void not_found(kedge_sbi_request_t *req)
{
  kedge_sbi_respond_problem(req, 404, "RESOURCE_NOT_FOUND", "nrf-testd: unknown nfInstanceId");
}

static void nf_put(kedge_sbi_request_t *req, void *arg)
{
  (void)arg;
  const char *id = kedge_sbi_request_var(req, "nfInstanceID");
  json_t *body = kedge_sbi_request_json(req);
  record(req, body);
  const char *body_id = json_string_value(json_object_get(body, "nfInstanceId"));
  if (!body_id || strcmp(body_id, id) != 0) {
    kedge_sbi_respond_problem(req, 400, "MANDATORY_IE_INCORRECT",
                              "nrf-testd: nfInstanceId differs from the path");
    return;
  }
  json_t *stored = json_deep_copy(body);
  json_object_set_new(stored, "heartBeatTimer", json_integer(heartbeat_s));
  pthread_mutex_lock(&lock);
  bool known = json_object_get(profiles, id) != NULL;
  json_object_set(profiles, id, stored);
  pthread_mutex_unlock(&lock);
  if (!known) {
    char location[512];
    snprintf(location, sizeof(location), "https://127.0.0.1%s", kedge_sbi_request_path(req));
    kedge_sbi_response_header(req, "location", location);
  }
  kedge_sbi_respond_json(req, known ? 200 : 201, NULL, stored);
  json_decref(stored);
}

static void nf_patch(kedge_sbi_request_t *req, void *arg)
{
  (void)arg;
  record(req, kedge_sbi_request_json(req));
  pthread_mutex_lock(&lock);
  bool known = json_object_get(profiles, kedge_sbi_request_var(req, "nfInstanceID")) != NULL;
  pthread_mutex_unlock(&lock);
  if (known)
    kedge_sbi_respond(req, 204, NULL, NULL, 0);
  else
    not_found(req);
}

static void nf_delete(kedge_sbi_request_t *req, void *arg)
{
  (void)arg;
  record(req, NULL);
  pthread_mutex_lock(&lock);
  bool known = json_object_del(profiles, kedge_sbi_request_var(req, "nfInstanceID")) == 0;
  pthread_mutex_unlock(&lock);
  if (known)
    kedge_sbi_respond(req, 204, NULL, NULL, 0);
  else
    not_found(req);
}

static void nf_get(kedge_sbi_request_t *req, void *arg)
{
  (void)arg;
  pthread_mutex_lock(&lock);
  json_t *p = json_deep_copy(json_object_get(profiles, kedge_sbi_request_var(req, "nfInstanceID")));
  pthread_mutex_unlock(&lock);
  if (p)
    kedge_sbi_respond_json(req, 200, NULL, p);
  else
    not_found(req);
  json_decref(p);
}

static void forget_all(kedge_sbi_request_t *req, void *arg)
{
  (void)arg;
  pthread_mutex_lock(&lock);
  json_object_clear(profiles);
  pthread_mutex_unlock(&lock);
  kedge_sbi_respond(req, 204, NULL, NULL, 0);
}

static kedge_err_t setup(kedge_sbi_server_t *srv, void *state, char *why, size_t why_size)
{
  (void)state;
  record_file = getenv("KEDGE_NRF_TEST_FILE");
  const char *hb = getenv("KEDGE_NRF_TEST_HEARTBEAT");
  heartbeat_s = hb ? atoi(hb) : 0;
  if (!record_file || heartbeat_s <= 0) {
    snprintf(why, why_size, "set KEDGE_NRF_TEST_FILE and KEDGE_NRF_TEST_HEARTBEAT (seconds)");
    return KEDGE_ERR_CONFIG;
  }
  if (!(profiles = json_object()))
    return KEDGE_ERR_NOMEM;
  const char *path = "/nnrf-nfm/v1/nf-instances/{nfInstanceID}";
  kedge_err_t err;
  if ((err = kedge_sbi_server_route(srv, "PUT", path, NULL, nf_put, NULL)) ||
      (err = kedge_sbi_server_route(srv, "PATCH", path, "application/json-patch+json", nf_patch,
                                    NULL)) ||
      (err = kedge_sbi_server_route(srv, "DELETE", path, NULL, nf_delete, NULL)) ||
      (err = kedge_sbi_server_route(srv, "GET", path, NULL, nf_get, NULL)) ||
      (err = kedge_sbi_server_route(srv, "DELETE", "/test/nf-instances", NULL, forget_all, NULL)))
    snprintf(why, why_size, "cannot set up: %s", kedge_strerror(err));
  return err;
}

static void teardown(void *state)
{
  (void)state;
  json_decref(profiles);
}

int main(int argc, char **argv)
{
  const kedge_app_t app = {
      .info = &info, .service = "nrf", .nf_type = "NRF", .setup = setup, .teardown = teardown};
  return kedge_app_main(&app, argc, argv);
}
