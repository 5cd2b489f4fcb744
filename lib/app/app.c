/* The daemon skeleton (kedge/app.h). */
#include "kedge/app.h"
#include "kedge/daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include "app/notify.h"
#include "kedge/identity.h"
#include "kedge/json_check.h"
#include "kedge/log.h"
#include "kedge/nrf.h"
#include "kedge/sbi_client.h"
#include "kedge/trace.h"

/* log.level, log.json: every daemon's logging keys (applied by the caller). */
static kedge_err_t read_log(kedge_config_node_t *root, kedge_log_level_t *level, bool *json)
{
  const char *level_name = NULL;
  *json = false;
  *level = KEDGE_LOG_INFO;
  kedge_err_t err = kedge_config_string(root, "log.level", "info", &level_name);
  if (!err && kedge_log_level_parse(level_name, level) != KEDGE_OK)
    err = kedge_config_invalid(root, "log.level", "must be error, warn, info or debug");
  kedge_err_t e = kedge_config_bool(root, "log.json", false, json);
  return err ? err : e;
}

/* ---- nf: the NF instance id (TS 29.510) and the User-Agent built from it ---- */

static const char *nf_instance_id_conf, *nf_instance_id_file;
static kedge_nrf_config_t nrf_config; /* the nrf: section (kedge/nrf.h) */
static char nf_instance_id[37];
static const char *scp_uri; /* scp.uri: SCP model C (kedge_sbi_client_set_scp) */

const char *kedge_app_nf_instance_id(void)
{
  return nf_instance_id;
}

static kedge_err_t read_nf(kedge_config_node_t *root)
{
  kedge_err_t err = kedge_config_string(root, "nf.instance_id", NULL, &nf_instance_id_conf);
  kedge_err_t e = kedge_config_string(root, "nf.instance_id_file", NULL, &nf_instance_id_file);
  if (!err)
    err = e;
  if (!err && nf_instance_id_conf && !kedge_uuid_check(nf_instance_id_conf))
    err = kedge_config_invalid(root, "nf.instance_id", "must be a UUID (8-4-4-4-12 hex digits)");
  return err;
}

/* Settles the id (see kedge/app.h); one line in `why` on failure. */
static kedge_err_t settle_nf_instance_id(char *why, size_t why_size)
{
  if (nf_instance_id_conf) {
    snprintf(nf_instance_id, sizeof(nf_instance_id), "%s", nf_instance_id_conf);
    return KEDGE_OK;
  }
  if (!nf_instance_id_file) {
    kedge_err_t err = kedge_uuid_random(nf_instance_id);
    if (!err)
      kedge_log_info("NF instance id %s for this run only (set nf.instance_id_file to keep one)",
                     nf_instance_id);
    return err;
  }
  FILE *f = fopen(nf_instance_id_file, "r");
  if (f) {
    char line[64] = "";
    bool got = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    if (!got || !kedge_uuid_check(line)) {
      snprintf(why, why_size, "%s: nf.instance_id_file does not hold a UUID", nf_instance_id_file);
      return KEDGE_ERR_CONFIG;
    }
    memcpy(nf_instance_id, line, sizeof(nf_instance_id));
    return KEDGE_OK;
  }
  if (errno != ENOENT) {
    snprintf(why, why_size, "%s: %s", nf_instance_id_file, strerror(errno));
    return KEDGE_ERR_IO;
  }
  /* the first start: a new id, written whole or not at all (O_EXCL: two starts agree) */
  kedge_err_t err = kedge_uuid_random(nf_instance_id);
  if (err)
    return err;
  int fd = open(nf_instance_id_file, O_WRONLY | O_CREAT | O_EXCL, 0644);
  char line[38];
  snprintf(line, sizeof(line), "%s\n", nf_instance_id);
  if (fd < 0 || write(fd, line, 37) != 37 || fsync(fd) != 0) {
    snprintf(why, why_size, "%s: cannot create nf.instance_id_file: %s", nf_instance_id_file,
             strerror(errno));
    if (fd >= 0) {
      close(fd);
      unlink(nf_instance_id_file);
    }
    return KEDGE_ERR_IO;
  }
  close(fd);
  kedge_log_info("NF instance id %s, new, kept in %s", nf_instance_id, nf_instance_id_file);
  return KEDGE_OK;
}

const kedge_nrf_config_t *kedge_app_nrf_config(void)
{
  return &nrf_config;
}

/* The whole file into `state` (the daemon's own sections) and `sbi`, the log settings into
 * *level and *json, nothing applied. */
static kedge_err_t load(const kedge_app_t *app, void *state, const char *path, kedge_config_t **out,
                        kedge_sbi_server_config_t *sbi, kedge_nrf_config_t *nrf,
                        kedge_log_level_t *level, bool *json, char *why, size_t why_size)
{
  kedge_config_t *conf = NULL;
  *out = NULL;
  kedge_err_t err = kedge_config_load_file(path, &conf, why, why_size);
  if (err)
    return err;
  kedge_config_node_t *root = kedge_config_root(conf), *sbi_node = NULL;
  kedge_sbi_server_config_defaults(sbi);
  sbi->name = app->service;
  sbi->port = app->default_port;
  err = read_log(root, level, json);
  kedge_err_t e = kedge_config_map(root, "sbi", &sbi_node);
  if (!err)
    err = e;
  e = kedge_sbi_server_config_read(sbi_node, sbi);
  if (!err)
    err = e;
  e = kedge_sbi_oauth2_config_read(root, sbi);
  if (!err)
    err = e;
  /* TS 29.500 6.10: indirect communication through an SCP (model C) */
  kedge_config_node_t *scp = NULL;
  const char *scp_next = NULL;
  e = kedge_config_map(root, "scp", &scp);
  if (!e)
    e = kedge_config_string(scp, "uri", NULL, &scp_next);
  if (!e && scp_next && kedge_sbi_client_set_scp(scp_next) != KEDGE_OK)
    e = kedge_config_invalid(scp, "uri",
                             "must be https://host[:port] (or http:// for h2c) "
                             "without a path");
  if (!e && state == app->state)
    scp_uri = scp_next;
  if (!err)
    err = e;
  e = read_nf(root);
  if (!err)
    err = e;
  e = kedge_nrf_config_read(root, nrf);
  if (!err)
    err = e;
  e = app->read_config ? app->read_config(root, state) : KEDGE_OK;
  if (!err)
    err = e;
  e = kedge_config_finish(conf);
  if (!err)
    err = e;
  /* SPEC.md 7: key material never crosses h2c; tls-server needs tokens to know the caller */
  const char *refused = !err && sbi->transport == KEDGE_SBI_TRANSPORT_H2C && app->h2c_refused
                            ? app->h2c_refused(state)
                            : NULL;
  if (refused)
    err = kedge_config_invalid(sbi_node, "transport",
                               "h2c refused: %s (SPEC.md 7: only the 5G "
                               "AKA services may run without TLS)",
                               refused);
  if (!err && sbi->transport == KEDGE_SBI_TRANSPORT_TLS_SERVER && !sbi->oauth2.required)
    err = kedge_config_invalid(sbi_node, "transport",
                               "tls-server needs oauth2.required: true "
                               "(without a client certificate the caller is known by its token)");
  /* A server that terminates TLS itself needs its certificate: say so now, naming the key,
   * rather than "configuration OK" and a daemon that will not start (issue 11 item 9). */
  if (!err && !app->own_tls && sbi->transport != KEDGE_SBI_TRANSPORT_H2C &&
      (!sbi->cert_file || !sbi->key_file))
    err = sbi_node ? kedge_config_require(sbi_node, !sbi->cert_file ? "tls.cert" : "tls.key")
                   : kedge_config_require(root, "sbi");
  if (err) {
    snprintf(why, why_size, "%s",
             kedge_config_error(conf) ? kedge_config_error(conf) : kedge_strerror(err));
    kedge_config_free(conf);
    return err;
  }
  *out = conf;
  return KEDGE_OK;
}

kedge_err_t kedge_app_load_config(const kedge_app_t *app, const char *path, kedge_config_t **out,
                                  kedge_sbi_server_config_t *sbi, char *why, size_t why_size)
{
  kedge_log_level_t level;
  bool json;
  kedge_nrf_config_clear(&nrf_config);
  kedge_err_t err =
      load(app, app->state, path, out, sbi, &nrf_config, &level, &json, why, why_size);
  kedge_log_init(app->info->program, err ? KEDGE_LOG_INFO : level, err ? false : json);
  return err;
}

/* What a running daemon keeps for SIGHUP: every configuration tree it loaded (the state's
 * strings point into them; a reload's tree replaces none of them, so all live until exit). */
typedef struct app_run {
  const kedge_app_t *app;
  const char *path;
  kedge_config_t **confs;
  size_t n_confs;
  kedge_nrf_t *nrf; /* the NRF client, for NFUpdate on reload (NULL without nrf.uri) */
} app_run_t;

/* The scratch states of reloads, kept (with the tables their pointers reach) until the process
 * exits: a request in flight may still point into a table a reload replaced, and a refused
 * reload may have built half of one. A few KiB per reload; static so that they stay reachable. */
static void **retired;
static size_t n_retired;

static void retire(void *state)
{
  void **r = realloc(retired, (n_retired + 1) * sizeof(*r));
  if (!r)
    return; /* out of memory: then it is lost, not freed under a reader */
  retired = r;
  retired[n_retired++] = state;
}

static bool keep_conf(app_run_t *run, kedge_config_t *conf)
{
  kedge_config_t **c = realloc(run->confs, (run->n_confs + 1) * sizeof(*c));
  if (!c)
    return false;
  run->confs = c;
  run->confs[run->n_confs++] = conf;
  return true;
}

/* SIGHUP (docs/operations.md "Reload"): the file is read and checked like at start-up into a
 * scratch copy of the state; the new TLS context is built; only when all of it is good are
 * the workers parked for the swap of the daemon's tables and lists. Established connections
 * and requests in flight carry on; new connections get the new certificate. A bad file is
 * refused with one line and changes nothing. */
static void reload_cb(kedge_sbi_server_t *srv, void *arg)
{
  app_run_t *run = arg;
  const kedge_app_t *app = run->app;
  if (!app->state_size) { /* the file cannot be read without touching the live state */
    kedge_log_warn("SIGHUP: %s cannot reload its configuration; ignored", app->info->program);
    return;
  }
  app_notify_reloading();
  char why[KEDGE_CONFIG_ERR_MAX] = "";
  kedge_config_t *conf = NULL;
  kedge_sbi_server_config_t sbi;
  kedge_log_level_t level;
  bool json;
  void *next = malloc(app->state_size);
  kedge_err_t err = KEDGE_OK;
  kedge_nrf_config_t nrf_next = {0};
  if (!next) {
    err = KEDGE_ERR_NOMEM;
    snprintf(why, sizeof(why), "%s", kedge_strerror(err));
  } else {
    memcpy(next, app->state, app->state_size);
    err = load(app, next, run->path, &conf, &sbi, &nrf_next, &level, &json, why, sizeof(why));
  }
  if (!err && app->check)
    err = app->check(next, why, sizeof(why));
  if (!err && !app->own_tls)
    err = kedge_sbi_server_reload_tls(srv, &sbi, why, sizeof(why));
  if (!err && !keep_conf(run, conf)) {
    err = KEDGE_ERR_NOMEM;
    snprintf(why, sizeof(why), "%s", kedge_strerror(err));
  }
  if (err) {
    kedge_log_error("reload refused: %s; still serving with the configuration loaded before", why);
    kedge_nrf_config_clear(&nrf_next);
    kedge_config_free(conf);
    if (next)
      retire(next);
    app_notify("READY=1");
    return;
  }
  if (app->reload) {
    void *old = malloc(app->state_size); /* keeps the replaced tables reachable */
    if (old) {
      memcpy(old, app->state, app->state_size);
      retire(old);
    }
    kedge_sbi_server_pause(srv);
    app->reload(app->state, next);
    kedge_sbi_server_resume(srv);
  }
  kedge_log_init(app->info->program, level, json);
  /* TS 29.510 5.2.2.3: the NRF hears of a changed profile (its strings live in conf, kept).
   * Discovery keeps the NRF it started with; adding or removing nrf.uri needs a restart. */
  if (run->nrf && nrf_next.uri)
    kedge_nrf_update(run->nrf, &nrf_next);
  else if (!run->nrf != !nrf_next.uri)
    kedge_log_warn("reload: nrf.uri was %s; restart to %s", nrf_next.uri ? "added" : "removed",
                   nrf_next.uri ? "register" : "deregister");
  kedge_nrf_config_clear(&nrf_next);
  if (app->reload)
    free(next); /* what it points to is the live state's now */
  else
    retire(next); /* what its file reading built is not used, but stays reachable */
  kedge_log_info("reloaded %s: certificate %s, log level %s%s; new connections use them, "
                 "established ones and requests in flight carry on",
                 run->path, app->own_tls ? "(the service's own)" : sbi.cert_file,
                 kedge_log_level_name(level), app->reload ? ", allow-lists and tables" : "");
  app_notify("READY=1");
}

static void stopping_cb(kedge_sbi_server_t *srv, void *arg)
{
  app_notify("STOPPING=1");
}

static int write_ports(const char *path, kedge_sbi_server_t *srv, const kedge_app_t *app)
{
  char tmp[4096];
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f)
    return -1;
  fprintf(f, "port=%u\nmetrics_port=%u\n", kedge_sbi_server_port(srv),
          kedge_sbi_server_metrics_port(srv));
  if (app->extra_port_name && app->extra_port)
    fprintf(f, "%s=%u\n", app->extra_port_name, app->extra_port(app->state));
  if (fclose(f) != 0)
    return -1;
  return rename(tmp, path); /* readers never see a half-written file */
}

int kedge_app_main(const kedge_app_t *app, int argc, char **argv)
{
  kedge_json_wipe_on_free();               /* before the first JSON object */
  if (kedge_app_wipe_curl() != KEDGE_OK) { /* before libcurl's first allocation */
    fprintf(stderr, "%s: cannot install libcurl's wiping allocator\n", app->info->program);
    return KEDGE_EXIT_FAILURE;
  }
  kedge_process_init();
  if (kedge_process_protect_keys() != KEDGE_OK)
    fprintf(stderr, "%s: cannot disable core dumps (RLIMIT_CORE, PR_SET_DUMPABLE)\n",
            app->info->program);
  char role[16];
  size_t r = 0;
  for (; app->service[r] && r < sizeof(role) - 1; r++)
    role[r] = (char)(app->service[r] >= 'a' && app->service[r] <= 'z' ? app->service[r] - 32
                                                                      : app->service[r]);
  role[r] = '\0';
  kedge_trace_init(role); /* KEDGE_TRACE: the demo's message trace */
  /* --ports-file is taken out here; the rest is the common command line. */
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
  kedge_daemon_action_t action = kedge_daemon_parse_args(app->info, n, args, &opts);
  free(args);
  if (action == KEDGE_DAEMON_EXIT)
    return opts.exit_status;

  char why[KEDGE_CONFIG_ERR_MAX] = "";
  kedge_config_t *conf = NULL;
  kedge_sbi_server_config_t cfg;
  kedge_sbi_server_t *srv = NULL;
  kedge_err_t err = kedge_app_load_config(app, opts.config_path, &conf, &cfg, why, sizeof(why));
  if (!err) {
    /* Loading certificate, key and CA is part of checking the configuration. */
    err = kedge_sbi_server_new(&cfg, &srv);
    if (!err)
      err = kedge_metrics_enable_process(kedge_sbi_server_metrics(srv), app->info->program);
    if (err)
      snprintf(why, sizeof(why), "%s: sbi.tls: %s (see the log line above)", opts.config_path,
               kedge_strerror(err));
  }
  /* What the daemon's set-up would refuse (the master key and what it opens...). */
  if (!err && app->check)
    err = app->check(app->state, why, sizeof(why));
  int rc = kedge_daemon_config_loaded(app->info, &opts, err, why);
  if (rc == KEDGE_EXIT_OK && opts.action == KEDGE_DAEMON_CHECK_CONFIG) {
    /* Where it would listen, defaults applied: no surprise at start-up. */
    printf("%s: sbi on %s port %u%s; ", opts.config_path, cfg.address, cfg.port,
           cfg.port ? "" : " (the kernel picks)");
    if (cfg.metrics_enabled)
      printf("metrics on %s port %u%s\n", cfg.metrics_address, cfg.metrics_port,
             cfg.metrics_port ? "" : " (the kernel picks)");
    else
      printf("metrics off\n");
  }
  if (rc >= 0) {
    kedge_sbi_server_free(srv);
    kedge_nrf_config_clear(&nrf_config);
    kedge_config_free(conf);
    return rc;
  }

  rc = KEDGE_EXIT_FAILURE;
  bool set_up = false;
  kedge_nrf_t *nrf = NULL;
  app_run_t run = {.app = app, .path = opts.config_path};
  struct event *watchdog = NULL;
  if (!keep_conf(&run, conf)) {
    kedge_log_error("cannot start: %s", kedge_strerror(KEDGE_ERR_NOMEM));
    goto out;
  }
  conf = NULL;
  kedge_sbi_server_set_lifecycle_hooks(srv, reload_cb, stopping_cb, &run);
  char user_agent[64];
  if ((err = settle_nf_instance_id(why, sizeof(why)))) {
    kedge_log_error("cannot start: %s", why[0] ? why : kedge_strerror(err));
    goto out;
  }
  /* TS 29.500 5.2.2.2: every request an NF sends names it: "<NF type>-<nfInstanceId>" */
  snprintf(user_agent, sizeof(user_agent), "%s-%s", app->nf_type ? app->nf_type : role,
           nf_instance_id);
  kedge_sbi_client_set_default_user_agent(user_agent);
  /* TS 29.510 6.3.5.2.4: a token's aud names this NF's type or its instance */
  if ((err = kedge_sbi_server_set_oauth2_audience(srv, app->nf_type ? app->nf_type : role,
                                                  nf_instance_id))) {
    kedge_log_error("cannot start: oauth2: %s", kedge_strerror(err));
    goto out;
  }
  kedge_sbi_client_set_scp(scp_uri); /* checked at load; NULL: direct */
  /* TS 33.501 13.4.1.1: with oauth2.token_uri every request this NF sends carries a token */
  if (cfg.oauth2.token_uri &&
      (err = kedge_sbi_client_set_oauth2(cfg.oauth2.token_uri, app->nf_type ? app->nf_type : role,
                                         nf_instance_id, cfg.oauth2.token_margin_ms))) {
    kedge_log_error("cannot start: oauth2.token_uri: %s", kedge_strerror(err));
    goto out;
  }
  if (app->setup && (err = app->setup(srv, app->state, why, sizeof(why)))) {
    kedge_log_error("cannot start: %s", why[0] ? why : kedge_strerror(err));
    goto out;
  }
  set_up = true;
  if (kedge_sbi_server_start(srv)) /* it logged its one line (e.g. the address in use) */
    goto out;
  /* SPEC.md 7: register once the port is bound; an NRF that does not answer never stops the
   * daemon (kedge_nrf_start fails only on a bad nrf: TLS file or no memory). */
  const kedge_nrf_self_t self = {.nf_instance_id = nf_instance_id,
                                 .nf_type = app->nf_type ? app->nf_type : role,
                                 .address = cfg.address ? cfg.address : "127.0.0.1",
                                 .port = kedge_sbi_server_port(srv),
                                 .services = app->nf_services,
                                 .h2c = cfg.transport == KEDGE_SBI_TRANSPORT_H2C};
  if (nrf_config.uri &&
      (err = kedge_nrf_start(&nrf_config, &self, kedge_sbi_server_metrics(srv), &nrf))) {
    kedge_log_error("cannot start: nrf: %s", kedge_strerror(err));
    kedge_sbi_server_stop(srv);
  }
  run.nrf = nrf;
  if (ports_file && write_ports(ports_file, srv, app) != 0) {
    kedge_log_error("cannot write %s: %s", ports_file, strerror(errno));
    kedge_sbi_server_stop(srv);
  }
  /* Listening: systemd may start what is ordered After= this unit. */
  app_notify("READY=1");
  watchdog = app_watchdog_start(kedge_sbi_server_base(srv));
  rc = kedge_sbi_server_run(srv) == KEDGE_OK && !err ? KEDGE_EXIT_OK : KEDGE_EXIT_FAILURE;
  run.nrf = NULL;
  kedge_nrf_stop(nrf); /* NFDeregister after SIGTERM (TS 29.510 5.2.2.4) */
out:
  if (watchdog)
    event_free(watchdog);
  if (set_up && app->teardown)
    app->teardown(app->state);
  kedge_sbi_server_free(srv);
  kedge_nrf_config_clear(&nrf_config);
  kedge_config_free(conf);
  for (size_t i = 0; i < run.n_confs; i++)
    kedge_config_free(run.confs[i]);
  free(run.confs);
  return rc;
}
