/* kedge-sbi-testd: a daemon built on the SBI runtime for the integration tests and the
 * benchmark. Endpoints:
 *   POST /test/v1/echo              the JSON body back
 *   GET  /test/v1/items/{itemId}    {"itemId": ...}
 *   POST /test/v1/validate          400 + invalidParams unless the body is like
 *                                   AuthenticationInfo (TS 29.509 6.1.6.2.2)
 *   POST /test/v1/strings           a body read with kedge_sbi_server_route_strings:
 *                                   {"name": string, "link": {"href": string}}, answered
 *                                   {"name", "link" (its string: null), "tree" (a jansson tree)}
 *   GET  /test/v1/whoami            {"peer": [SAN DNS names of the client certificate]}
 *   POST /test/v1/slow              answers after 200 ms from a timer (deferred answers, drain)
 *   POST /test/v1/notify            a notification sink: 204, keeps the body and the
 *                                   3gpp-Sbi-Callback header (test-revoke.sh)
 *   GET  /test/v1/notified          {"callback": ..., "body": ...} of the last one, or 404
 * Configuration: YAML (log.level, log.json, and the common sbi: section, docs/sbi.md). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "kedge/app.h"
#include "kedge/config.h"
#include "kedge/daemon.h"
#include "kedge/json_check.h"
#include "kedge/log.h"
#include "kedge/problem.h"
#include "kedge/sbi_server.h"

static const char *const extra_usage[] = {
    KEDGE_APP_PORTS_FILE_USAGE,
    NULL,
};

static const kedge_daemon_info_t info = {
    .program = "kedge-sbi-testd",
    .description = "SBI runtime test daemon: HTTP/2 over TLS with the endpoints "
                   "/test/v1/{echo,items/{itemId},validate,whoami,slow}. Configuration keys: "
                   "log.level, log.json and the sbi: section (docs/sbi.md).",
    .default_config = NULL,
    .extra_usage = extra_usage,
};

/* ---- handlers ---- */

static void echo(kedge_sbi_request_t *req, void *arg)
{
  json_t *body = kedge_sbi_request_json(req);
  if (!body) {
    kedge_sbi_respond_problem(req, 400, "MANDATORY_IE_MISSING", "a JSON body is required");
    return;
  }
  kedge_sbi_respond_json(req, 200, NULL, body);
}

static void item(kedge_sbi_request_t *req, void *arg)
{
  json_t *j = json_pack("{s:s}", "itemId", kedge_sbi_request_var(req, "itemId"));
  if (!j) {
    kedge_sbi_respond_err(req, KEDGE_ERR_NOMEM, NULL);
    return;
  }
  kedge_sbi_respond_json(req, 200, NULL, j);
  json_decref(j);
}

static const kedge_json_member_t resync_members[] = {
    {.name = "rand", .kind = KEDGE_JSON_STRING, .required = true, .check = kedge_json_check_hex16},
    {.name = "auts", .kind = KEDGE_JSON_STRING, .required = true},
    {.name = NULL},
};

static const kedge_json_member_t auth_info_members[] = {
    {.name = "supiOrSuci", .kind = KEDGE_JSON_STRING, .required = true},
    {.name = "servingNetworkName", .kind = KEDGE_JSON_STRING, .required = true, .max_len = 64},
    {.name = "resynchronizationInfo", .kind = KEDGE_JSON_OBJECT, .object = resync_members},
    {.name = NULL},
};

static void validate(kedge_sbi_request_t *req, void *arg)
{
  if (!kedge_sbi_request_checked_json(req, auth_info_members, "body"))
    return; /* answered 400 */
  json_t *ok = json_pack("{s:b}", "valid", 1);
  kedge_sbi_respond_json(req, 200, NULL, ok);
  json_decref(ok);
}

/* A flat table with a nested plain object (as the UE's _links): the object member is not a
 * string, so kedge_sbi_request_strings gives NULL for it and the handler reads it from the
 * tree, whether or not the runtime could have read the body in place. */
static const kedge_json_member_t link_members[] = {
    {.name = "href", .kind = KEDGE_JSON_STRING, .required = true},
    {.name = NULL},
};
static const kedge_json_member_t strings_members[] = {
    {.name = "name", .kind = KEDGE_JSON_STRING, .required = true, .max_len = 64},
    {.name = "link", .kind = KEDGE_JSON_OBJECT, .object = link_members},
    {.name = NULL},
};

static void strings(kedge_sbi_request_t *req, void *arg)
{
  const char *v[KEDGE_JSON_FLAT_MAX] = {NULL};
  if (!kedge_sbi_request_strings(req, "body", v))
    return; /* answered 400 */
  json_t *j = json_pack("{s:s, s:s?, s:b}", "name", v[0], "link", v[1], "tree",
                        kedge_sbi_request_json(req) != NULL);
  kedge_sbi_respond_json(req, 200, NULL, j);
  json_decref(j);
}

static void whoami(kedge_sbi_request_t *req, void *arg)
{
  json_t *names = json_array();
  for (size_t i = 0; i < kedge_sbi_request_peer_count(req); i++)
    json_array_append_new(names, json_string(kedge_sbi_request_peer(req, i)));
  json_t *j = json_pack("{s:o}", "peer", names);
  kedge_sbi_respond_json(req, 200, NULL, j);
  json_decref(j);
}

/* The notification sink: the last body and its 3gpp-Sbi-Callback header. */
static pthread_mutex_t notified_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *last_notified;

static void notify(kedge_sbi_request_t *req, void *arg)
{
  const char *cb = kedge_sbi_request_header(req, "3gpp-sbi-callback");
  json_t *j = json_pack("{s:s?, s:O?}", "callback", cb, "body", kedge_sbi_request_json(req));
  pthread_mutex_lock(&notified_lock);
  json_decref(last_notified);
  last_notified = j;
  pthread_mutex_unlock(&notified_lock);
  kedge_sbi_respond(req, 204, NULL, NULL, 0);
}

static void notified(kedge_sbi_request_t *req, void *arg)
{
  pthread_mutex_lock(&notified_lock);
  json_t *j = json_incref(last_notified);
  pthread_mutex_unlock(&notified_lock);
  if (j)
    kedge_sbi_respond_json(req, 200, NULL, j);
  else
    kedge_sbi_respond_problem(req, 404, "RESOURCE_NOT_FOUND", "nothing notified yet");
  json_decref(j);
}

/* A deferred answer: the timer owns the request until it fires or the stream goes away. */
typedef struct slow {
  struct event *timer;
  kedge_sbi_request_t *req;
} slow_t;

static void slow_done(slow_t *s, bool cancelled)
{
  event_free(s->timer);
  if (cancelled) {
    kedge_sbi_respond_problem(s->req, 500, "SYSTEM_FAILURE", NULL); /* only frees it */
  } else {
    json_t *j = json_pack("{s:b}", "slow", 1);
    kedge_sbi_respond_json(s->req, 200, NULL, j);
    json_decref(j);
  }
  free(s);
}

static void slow_timer(evutil_socket_t fd, short what, void *arg)
{
  slow_done(arg, false);
}

static void slow_cancel(kedge_sbi_request_t *req, void *arg)
{
  slow_done(arg, true);
}

static void slow(kedge_sbi_request_t *req, void *arg)
{
  slow_t *s = calloc(1, sizeof(*s));
  if (!s) {
    kedge_sbi_respond_err(req, KEDGE_ERR_NOMEM, NULL);
    return;
  }
  s->req = req;
  s->timer = evtimer_new(kedge_sbi_request_base(req), slow_timer, s);
  if (!s->timer) {
    free(s);
    kedge_sbi_respond_err(req, KEDGE_ERR_NOMEM, NULL);
    return;
  }
  kedge_sbi_request_on_cancel(req, slow_cancel, s);
  struct timeval tv = {0, 200000};
  evtimer_add(s->timer, &tv);
}

static kedge_err_t setup(kedge_sbi_server_t *srv, void *state, char *why, size_t why_size)
{
  kedge_err_t err;
  if ((err = kedge_sbi_server_route(srv, "POST", "/test/v1/echo", NULL, echo, NULL)) ||
      (err = kedge_sbi_server_route(srv, "GET", "/test/v1/items/{itemId}", NULL, item, NULL)) ||
      (err = kedge_sbi_server_route(srv, "POST", "/test/v1/validate", NULL, validate, NULL)) ||
      (err = kedge_sbi_server_route(srv, "POST", "/test/v1/strings", NULL, strings, NULL)) ||
      (err = kedge_sbi_server_route_strings(srv, strings_members)) ||
      (err = kedge_sbi_server_route(srv, "GET", "/test/v1/whoami", NULL, whoami, NULL)) ||
      (err = kedge_sbi_server_route(srv, "POST", "/test/v1/slow", NULL, slow, NULL)) ||
      (err = kedge_sbi_server_route(srv, "POST", "/test/v1/notify", NULL, notify, NULL)) ||
      (err = kedge_sbi_server_route(srv, "GET", "/test/v1/notified", NULL, notified, NULL)))
    snprintf(why, why_size, "cannot register routes: %s", kedge_strerror(err));
  return err;
}

int main(int argc, char **argv)
{
  const kedge_app_t app = {.info = &info, .service = "testd", .setup = setup};
  return kedge_app_main(&app, argc, argv);
}
