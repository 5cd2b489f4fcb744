/* The command line every kedge daemon shares:
 *   -c, --config FILE   configuration file (default per daemon)
 *       --check-config  load and check the configuration, then exit
 *   -h, --help          usage on stdout, exit 0
 *   -V, --version       "<program> (kedge) <version>" on stdout, exit 0
 * A usage error is one line on stderr ("kedge-ausfd: unknown option '--frob' (try --help)")
 * and exit status 2. Signal handling and shutdown are the server's (lib/sbi), not here. */
#ifndef KEDGE_DAEMON_H
#define KEDGE_DAEMON_H

#include <stdio.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Exit statuses: success, a configuration or runtime failure, a command-line mistake. */
#define KEDGE_EXIT_OK      0
#define KEDGE_EXIT_FAILURE 1
#define KEDGE_EXIT_USAGE   2

/* What every kedge program does first (issue 12). SIGPIPE is ignored: a peer that closes
 * its end makes a write fail with EPIPE, which the program reports, instead of killing it
 * silently (exit 141); and the soft limit on open descriptors is raised toward the hard one
 * (at most 65536), so that connection budgets, not EMFILE, bound a daemon. Programs that hold
 * keys also call kedge_process_protect_keys(): no core file (RLIMIT_CORE 0) and not dumpable
 * (PR_SET_DUMPABLE 0: no core, no ptrace or /proc/PID/mem by other processes of the same user;
 * STYLE.md "Secrets"). The daemon skeleton (kedge_app_main) does both. */
void kedge_process_init(void);
/* KEDGE_ERR_IO when either setting failed (the caller says so in one line). */
kedge_err_t kedge_process_protect_keys(void);

typedef struct kedge_daemon_info {
  const char *program;            /* "kedge-ausfd" */
  const char *description;        /* one paragraph for --help; wrapped to 79 columns */
  const char *default_config;     /* "/etc/kedge/ausf.yaml"; NULL: --config is required */
  const char *const *extra_usage; /* more --help lines, NULL-terminated; may be NULL */
} kedge_daemon_info_t;

typedef enum kedge_daemon_action {
  KEDGE_DAEMON_RUN,          /* load opts->config_path and serve */
  KEDGE_DAEMON_CHECK_CONFIG, /* load and check opts->config_path, report, exit */
  KEDGE_DAEMON_EXIT,         /* exit now with opts->exit_status (all printed already) */
} kedge_daemon_action_t;

typedef struct kedge_daemon_options {
  kedge_daemon_action_t action;
  const char *config_path; /* from argv or info->default_config */
  int exit_status;         /* for KEDGE_DAEMON_EXIT */
} kedge_daemon_options_t;

/* Parses argv (argv[0] is skipped). Prints help and version to stdout and usage errors to
 * stderr; the result is also in opts->action. */
kedge_daemon_action_t kedge_daemon_parse_args(const kedge_daemon_info_t *info, int argc,
                                              char *const *argv, kedge_daemon_options_t *opts);
/* The same, printing to `out` and `err` (tests). */
kedge_daemon_action_t kedge_daemon_parse_args_to(const kedge_daemon_info_t *info, int argc,
                                                 char *const *argv, kedge_daemon_options_t *opts,
                                                 FILE *out, FILE *err);

/* Writes the --help text to `out`. */
void kedge_daemon_usage(const kedge_daemon_info_t *info, FILE *out);

/* After the daemon loaded its configuration (`rc`, and `error`: the one error line, e.g.
 * kedge_config_error()): on failure prints `error` to stderr and returns KEDGE_EXIT_FAILURE;
 * on success with --check-config prints "FILE: configuration OK" to stdout and returns
 * KEDGE_EXIT_OK; on success otherwise returns -1: go on and serve. */
int kedge_daemon_config_loaded(const kedge_daemon_info_t *info, const kedge_daemon_options_t *opts,
                               kedge_err_t rc, const char *error);
/* The same, printing to `out` and `err`. */
int kedge_daemon_config_loaded_to(const kedge_daemon_info_t *info,
                                  const kedge_daemon_options_t *opts, kedge_err_t rc,
                                  const char *error, FILE *out, FILE *err);

#ifdef __cplusplus
}
#endif
#endif
