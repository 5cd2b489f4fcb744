/* kedge-udm-recorder: a test peer between kedge-ausfd and kedge-udmd that captures what the
 * AUSF sends (tests/integration/test-aka-service-set.sh). It serves the Nudm_UEAU operations
 * the AUSF calls (generate-auth-data, auth-events POST and PUT) over HTTP/2 with mutual TLS,
 * appends one JSON line per request to $KEDGE_RECORDER_FILE:
 *   {"method": ..., "path": ..., "userAgent": ..., "contentType": ..., "body": {...}}
 * (the test validates each body against 3GPP's schema and the User-Agent against TS 29.500
 * 5.2.2.2), and forwards the request to the real UDM at $KEDGE_RECORDER_UPSTREAM with the
 * client certificate $KEDGE_RECORDER_CERT/_KEY (CA $KEDGE_RECORDER_CA), answering with the
 * UDM's status, Location and body. A request whose body is not JSON is refused with 400 here:
 * the peer checks what it receives before passing it on. With KEDGE_RECORDER_STOCK=1 it plays a
 * stock UDM: routingId and every vendorSpecific-* attribute are taken out of the
 * AuthenticationInfoResult (SPEC.md 7: the AUSF's RID fallbacks and edge.derive).
 * It serves the Nausf_UEAuthentication operations a UE's SEAF calls (ue-authentications POST,
 * 5g-aka-confirmation PUT) the same way, for a UE in front of the AUSF
 * (tests/integration/test-ue-register.sh): the 201's _links.5g-aka.href under the upstream's
 * apiRoot is rewritten to this peer's own, so that the confirmation comes through it too.
 * Configuration: YAML (log.level, log.json, sbi:). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kedge/app.h"
#include "kedge/log.h"
#include "kedge/sbi_client.h"
#include "kedge/sbi_server.h"

static const char *const extra_usage[] = {KEDGE_APP_PORTS_FILE_USAGE, NULL};

static const kedge_daemon_info_t info = {
    .program = "kedge-udm-recorder",
    .description = "test peer: records the AUSF's Nudm_UEAU requests (KEDGE_RECORDER_FILE) and "
                   "forwards them to the UDM (KEDGE_RECORDER_UPSTREAM); the same for a UE's "
                   "Nausf_UEAuthentication requests to the AUSF.",
    .default_config = NULL,
    .extra_usage = extra_usage,
};

static kedge_sbi_client_options_t client_opts;
static kedge_sbi_server_t *server;
static const char *upstream, *record_file;
static bool stock;

typedef struct forward {
  kedge_sbi_request_t *req;
} forward_t;

/* TS 29.509 6.1.6.2.3 UEAuthenticationCtx: a link to the upstream becomes one to this peer. */
static void relink(json_t *body)
{
  json_t *link = json_object_get(json_object_get(body, "_links"), "5g-aka");
  const char *href = json_string_value(json_object_get(link, "href"));
  size_t n = strlen(upstream);
  if (!href || strncmp(href, upstream, n) != 0)
    return;
  char root[300], url[4096];
  kedge_sbi_server_api_root(server, NULL, root, sizeof(root));
  snprintf(url, sizeof(url), "%s%s", root, href + n);
  json_object_set_new(link, "href", json_string(url));
}

static void answered(const kedge_sbi_client_response_t *resp, void *arg)
{
  forward_t *f = arg;
  if (resp->err) {
    kedge_sbi_respond_problem(f->req, 504, "TARGET_NF_NOT_REACHABLE", "recorder: UDM unreachable");
  } else {
    if (resp->location)
      kedge_sbi_response_header(f->req, "location", resp->location);
    if (resp->json && stock && resp->status == 200) {
      json_object_del(resp->json, "routingId");
      const char *key;
      json_t *value;
      void *tmp;
      json_object_foreach_safe(resp->json, tmp, key, value)
      {
        if (strncmp(key, "vendorSpecific-", 15) == 0)
          json_object_del(resp->json, key);
      }
    }
    if (resp->json && resp->status == 201)
      relink(resp->json);
    if (resp->json)
      kedge_sbi_respond_json(f->req, (int)resp->status, resp->content_type, resp->json);
    else
      kedge_sbi_respond(f->req, (int)resp->status, NULL, NULL, 0);
  }
  free(f);
}

static void record(kedge_sbi_request_t *req, json_t *body)
{
  const char *ua = kedge_sbi_request_header(req, "user-agent");
  const char *ct = kedge_sbi_request_header(req, "content-type");
  json_t *line =
      json_pack("{s:s, s:s, s:o, s:o, s:O}", "method", kedge_sbi_request_method(req), "path",
                kedge_sbi_request_path(req), "userAgent", ua ? json_string(ua) : json_null(),
                "contentType", ct ? json_string(ct) : json_null(), "body", body);
  FILE *f = line ? fopen(record_file, "a") : NULL;
  if (f) {
    json_dumpf(line, f, JSON_COMPACT);
    fputc('\n', f);
    fclose(f);
  } else {
    kedge_log_error("recorder: cannot write %s", record_file);
  }
  json_decref(line);
}

static void forward(kedge_sbi_request_t *req, void *arg)
{
  kedge_sbi_client_t *client = kedge_sbi_worker_data(kedge_sbi_request_worker(req));
  json_t *body = kedge_sbi_request_json(req);
  if (!body) {
    kedge_sbi_respond_problem(req, 400, "MANDATORY_IE_MISSING",
                              "recorder: a JSON body is required");
    return;
  }
  record(req, body);
  char url[4096];
  snprintf(url, sizeof(url), "%s%s", upstream, kedge_sbi_request_path(req));
  forward_t *f = calloc(1, sizeof(*f));
  const kedge_sbi_client_request_t call = {
      .method = kedge_sbi_request_method(req), .url = url, .body = body};
  if (!f || kedge_sbi_client_send(client, &call, answered, f, NULL) != KEDGE_OK) {
    free(f);
    kedge_sbi_respond_problem(req, 500, "SYSTEM_FAILURE", "recorder: cannot forward");
    return;
  }
  f->req = req;
}

static kedge_err_t worker_init(kedge_sbi_worker_t *worker, void *arg)
{
  kedge_sbi_client_t *client = NULL;
  kedge_err_t err = kedge_sbi_client_new(kedge_sbi_worker_base(worker), &client_opts, &client);
  if (!err)
    kedge_sbi_worker_set_data(worker, client);
  return err;
}

static void worker_fini(kedge_sbi_worker_t *worker, void *arg)
{
  kedge_sbi_client_free(kedge_sbi_worker_data(worker));
  kedge_sbi_worker_set_data(worker, NULL);
}

static kedge_err_t setup(kedge_sbi_server_t *srv, void *state, char *why, size_t why_size)
{
  upstream = getenv("KEDGE_RECORDER_UPSTREAM");
  record_file = getenv("KEDGE_RECORDER_FILE");
  stock = getenv("KEDGE_RECORDER_STOCK") && !strcmp(getenv("KEDGE_RECORDER_STOCK"), "1");
  kedge_sbi_client_options_init(&client_opts);
  client_opts.ca_file = getenv("KEDGE_RECORDER_CA");
  client_opts.cert_file = getenv("KEDGE_RECORDER_CERT");
  client_opts.key_file = getenv("KEDGE_RECORDER_KEY");
  client_opts.user_agent = "UDM-recorder";
  if (!upstream || !record_file || !client_opts.ca_file) {
    snprintf(why, why_size, "set KEDGE_RECORDER_UPSTREAM, KEDGE_RECORDER_FILE, KEDGE_RECORDER_CA");
    return KEDGE_ERR_CONFIG;
  }
  server = srv;
  kedge_err_t err;
  if ((err = kedge_sbi_server_set_worker_hooks(srv, worker_init, worker_fini, NULL)) ||
      (err = kedge_sbi_server_route(
           srv, "POST", "/nudm-ueau/v1/{supiOrSuci}/security-information/generate-auth-data", NULL,
           forward, NULL)) ||
      (err = kedge_sbi_server_route(srv, "POST", "/nudm-ueau/v1/{supi}/auth-events", NULL, forward,
                                    NULL)) ||
      (err = kedge_sbi_server_route(srv, "PUT", "/nudm-ueau/v1/{supi}/auth-events/{authEventId}",
                                    NULL, forward, NULL)) ||
      (err = kedge_sbi_server_route(srv, "POST", "/nausf-auth/v1/ue-authentications", NULL, forward,
                                    NULL)) ||
      (err = kedge_sbi_server_route(
           srv, "PUT", "/nausf-auth/v1/ue-authentications/{authCtxId}/5g-aka-confirmation", NULL,
           forward, NULL)))
    snprintf(why, why_size, "cannot set up: %s", kedge_strerror(err));
  return err;
}

int main(int argc, char **argv)
{
  const kedge_app_t app = {.info = &info, .service = "recorder", .setup = setup};
  return kedge_app_main(&app, argc, argv);
}
