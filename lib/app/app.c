/* The daemon skeleton (kedge/app.h). */
#include "kedge/daemon.h"
#include "kedge/app.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include "kedge/identity.h"
#include "kedge/json_check.h"
#include "kedge/sbi_client.h"
#include "kedge/log.h"
#include "kedge/trace.h"

/* log.level, log.json: every daemon's logging keys. */
static kedge_err_t read_log(kedge_config_node_t *root, const char *program)
{
  const char *level_name = NULL;
  bool json = false;
  kedge_log_level_t level = KEDGE_LOG_INFO;
  kedge_err_t err = kedge_config_string(root, "log.level", "info", &level_name);
  if (!err && kedge_log_level_parse(level_name, &level) != KEDGE_OK)
    err = kedge_config_invalid(root, "log.level", "must be error, warn, info or debug");
  kedge_err_t e = kedge_config_bool(root, "log.json", false, &json);
  kedge_log_init(program, level, json);
  return err ? err : e;
}

/* ---- nf: the NF instance id (TS 29.510) and the User-Agent built from it ---- */

static const char *nf_instance_id_conf, *nf_instance_id_file;
static char nf_instance_id[37];

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
    err = kedge_config_invalid(root, "nf.instance_id",
                               "must be a UUID (8-4-4-4-12 hex digits)");
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
      snprintf(why, why_size, "%s: nf.instance_id_file does not hold a UUID",
               nf_instance_id_file);
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

kedge_err_t kedge_app_load_config(const kedge_app_t *app, const char *path, kedge_config_t **out,
                                  kedge_sbi_server_config_t *sbi, char *why, size_t why_size)
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
  err = read_log(root, app->info->program);
  kedge_err_t e = kedge_config_map(root, "sbi", &sbi_node);
  if (!err)
    err = e;
  e = kedge_sbi_server_config_read(sbi_node, sbi);
  if (!err)
    err = e;
  e = read_nf(root);
  if (!err)
    err = e;
  e = app->read_config ? app->read_config(root, app->state) : KEDGE_OK;
  if (!err)
    err = e;
  e = kedge_config_finish(conf);
  if (!err)
    err = e;
  if (err) {
    snprintf(why, why_size, "%s",
             kedge_config_error(conf) ? kedge_config_error(conf) : kedge_strerror(err));
    kedge_config_free(conf);
    return err;
  }
  *out = conf;
  return KEDGE_OK;
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
  kedge_json_wipe_on_free(); /* before the first JSON object */
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
    if (err)
      snprintf(why, sizeof(why), "%s: sbi.tls: %s (see the log line above)", opts.config_path,
               kedge_strerror(err));
  }
  int rc = kedge_daemon_config_loaded(app->info, &opts, err, why);
  if (rc >= 0) {
    kedge_sbi_server_free(srv);
    kedge_config_free(conf);
    return rc;
  }

  rc = KEDGE_EXIT_FAILURE;
  bool set_up = false;
  char user_agent[64];
  if ((err = settle_nf_instance_id(why, sizeof(why)))) {
    kedge_log_error("cannot start: %s", why[0] ? why : kedge_strerror(err));
    goto out;
  }
  /* TS 29.500 5.2.2.2: every request an NF sends names it: "<NF type>-<nfInstanceId>" */
  snprintf(user_agent, sizeof(user_agent), "%s-%s", app->nf_type ? app->nf_type : role,
           nf_instance_id);
  kedge_sbi_client_set_default_user_agent(user_agent);
  if (app->setup && (err = app->setup(srv, app->state, why, sizeof(why)))) {
    kedge_log_error("cannot start: %s", why[0] ? why : kedge_strerror(err));
    goto out;
  }
  set_up = true;
  if ((err = kedge_sbi_server_start(srv))) {
    kedge_log_error("cannot start: %s", kedge_strerror(err));
    goto out;
  }
  if (ports_file && write_ports(ports_file, srv, app) != 0) {
    kedge_log_error("cannot write %s: %s", ports_file, strerror(errno));
    kedge_sbi_server_stop(srv);
  }
  rc = kedge_sbi_server_run(srv) == KEDGE_OK ? KEDGE_EXIT_OK : KEDGE_EXIT_FAILURE;
out:
  if (set_up && app->teardown)
    app->teardown(app->state);
  kedge_sbi_server_free(srv);
  kedge_config_free(conf);
  return rc;
}
