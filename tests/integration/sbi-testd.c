/* kedge-sbi-testd: a daemon built on the SBI runtime for the integration tests and the
 * benchmark. Endpoints:
 *   POST /test/v1/echo              the JSON body back
 *   GET  /test/v1/items/{itemId}    {"itemId": ...}
 *   POST /test/v1/validate          400 + invalidParams unless the body is like
 *                                   AuthenticationInfo (TS 29.509 6.1.6.2.2)
 *   GET  /test/v1/whoami            {"peer": [SAN DNS names of the client certificate]}
 *   POST /test/v1/slow              answers after 200 ms from a timer (deferred answers, drain)
 * Configuration: YAML (log.level, log.json, and the common sbi: section, docs/sbi.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "kedge/config.h"
#include "kedge/daemon.h"
#include "kedge/json_check.h"
#include "kedge/log.h"
#include "kedge/problem.h"
#include "kedge/sbi_server.h"

static const char *const extra_usage[] = {
    "      --ports-file FILE  write \"port=N\" and \"metrics_port=N\" once listening",
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
  json_t *body = kedge_sbi_request_json(req);
  json_t *problem = kedge_problem_new(400, "MANDATORY_IE_INCORRECT", "invalid body");
  if (!problem) {
    kedge_sbi_respond_err(req, KEDGE_ERR_NOMEM, NULL);
    return;
  }
  bool missing_only = false;
  kedge_err_t err = kedge_json_check(body, auth_info_members, problem, &missing_only);
  if (err == KEDGE_ERR_INVALID_ARG) {
    /* TS 29.500 Table 5.2.7.2-1: only missing members -> MANDATORY_IE_MISSING. */
    if (missing_only)
      json_object_set_new(problem, "cause", json_string("MANDATORY_IE_MISSING"));
    kedge_sbi_respond_problem_json(req, problem);
  } else if (err) {
    kedge_sbi_respond_err(req, err, NULL);
  } else {
    json_t *ok = json_pack("{s:b}", "valid", 1);
    kedge_sbi_respond_json(req, 200, NULL, ok);
    json_decref(ok);
  }
  json_decref(problem);
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

/* ---- configuration ---- */

static kedge_err_t read_config(kedge_config_t *conf, kedge_sbi_server_config_t *cfg)
{
  kedge_config_node_t *root = kedge_config_root(conf), *sbi = NULL;
  const char *level_name;
  bool json = false;
  kedge_log_level_t level = KEDGE_LOG_INFO;
  kedge_err_t err = kedge_config_string(root, "log.level", "info", &level_name);
  if (!err && kedge_log_level_parse(level_name, &level) != KEDGE_OK)
    err = kedge_config_invalid(root, "log.level", "must be error, warn, info or debug");
  kedge_err_t e = kedge_config_bool(root, "log.json", false, &json);
  if (!err)
    err = e;
  kedge_log_init("kedge-sbi-testd", level, json);
  kedge_sbi_server_config_defaults(cfg);
  cfg->name = "testd";
  e = kedge_config_map(root, "sbi", &sbi);
  if (!err)
    err = e;
  e = kedge_sbi_server_config_read(sbi, cfg);
  if (!err)
    err = e;
  e = kedge_config_finish(conf);
  return err ? err : e;
}

static int write_ports(const char *path, kedge_sbi_server_t *srv)
{
  char tmp[4096];
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f)
    return -1;
  fprintf(f, "port=%u\nmetrics_port=%u\n", kedge_sbi_server_port(srv),
          kedge_sbi_server_metrics_port(srv));
  if (fclose(f) != 0)
    return -1;
  return rename(tmp, path); /* readers never see a half-written file */
}

int main(int argc, char **argv)
{
  /* --ports-file is this daemon's own option; the rest is the common command line. */
  const char *ports_file = NULL;
  char **args = calloc((size_t)argc + 1, sizeof(*args));
  if (!args)
    return KEDGE_EXIT_FAILURE;
  int n = 0;
  for (int i = 0; i < argc; i++) {
    if (i > 0 && strcmp(argv[i], "--ports-file") == 0 && i + 1 < argc)
      ports_file = argv[++i];
    else if (i > 0 && strncmp(argv[i], "--ports-file=", 13) == 0)
      ports_file = argv[i] + 13;
    else
      args[n++] = argv[i];
  }
  kedge_daemon_options_t opts;
  kedge_daemon_action_t action = kedge_daemon_parse_args(&info, n, args, &opts);
  free(args);
  if (action == KEDGE_DAEMON_EXIT)
    return opts.exit_status;

  char errline[KEDGE_CONFIG_ERR_MAX] = "";
  kedge_config_t *conf = NULL;
  kedge_sbi_server_config_t cfg;
  kedge_err_t err = kedge_config_load_file(opts.config_path, &conf, errline, sizeof(errline));
  if (!err)
    err = read_config(conf, &cfg);
  kedge_sbi_server_t *srv = NULL;
  if (!err) {
    /* Loading certificate, key and CA is part of checking the configuration. */
    err = kedge_sbi_server_new(&cfg, &srv); /* copies what it keeps */
    if (err)
      snprintf(errline, sizeof(errline), "%s: sbi.tls: %s (see the log line above)",
               opts.config_path, kedge_strerror(err));
  } else if (conf) {
    snprintf(errline, sizeof(errline), "%s", kedge_config_error(conf));
  }
  kedge_config_free(conf);
  int rc = kedge_daemon_config_loaded(&info, &opts, err, errline);
  if (rc >= 0) {
    kedge_sbi_server_free(srv);
    return rc;
  }
  if (kedge_sbi_server_route(srv, "POST", "/test/v1/echo", NULL, echo, NULL) ||
      kedge_sbi_server_route(srv, "GET", "/test/v1/items/{itemId}", NULL, item, NULL) ||
      kedge_sbi_server_route(srv, "POST", "/test/v1/validate", NULL, validate, NULL) ||
      kedge_sbi_server_route(srv, "GET", "/test/v1/whoami", NULL, whoami, NULL) ||
      kedge_sbi_server_route(srv, "POST", "/test/v1/slow", NULL, slow, NULL) ||
      (err = kedge_sbi_server_start(srv)) != KEDGE_OK) {
    kedge_log_error("cannot start: %s", kedge_strerror(err ? err : KEDGE_ERR_INVALID_ARG));
    kedge_sbi_server_free(srv);
    return KEDGE_EXIT_FAILURE;
  }
  if (ports_file && write_ports(ports_file, srv) != 0) {
    kedge_log_error("cannot write %s: %s", ports_file, strerror(errno));
    kedge_sbi_server_stop(srv);
  }
  err = kedge_sbi_server_run(srv);
  kedge_sbi_server_free(srv);
  return err ? KEDGE_EXIT_FAILURE : KEDGE_EXIT_OK;
}
