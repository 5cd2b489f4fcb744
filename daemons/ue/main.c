/* kedge-ue: the UE simulator. `kedge-ue register --config ue.yaml` runs 5G AKA against the
 * AUSF in the SEAF's role and derives Kedge and the Kedge ID (docs/ue.md). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "kedge/agent.h"
#include "kedge/app.h"
#include "kedge/cli.h"
#include "kedge/daemon.h"
#include "kedge/json_check.h"
#include "kedge/log.h"
#include "kedge/trace.h"
#include "ue.h"

#define PROGRAM        "kedge-ue"
#define DEFAULT_CONFIG "/etc/kedge/ue.yaml"

static const char usage[] =
    "Usage: kedge-ue register [--config FILE] [--json] [--corrupt-res]\n"
    "       kedge-ue register --agent SOCKET\n"
    "       kedge-ue agent [--config FILE]\n"
    "       kedge-ue register --check-config [--config FILE]\n"
    "       kedge-ue --help | --version\n"
    "\n"
    "kedge's UE simulator: a UE with its USIM that acts as the SEAF toward the home AUSF.\n"
    "`register` runs 5G AKA (TS 33.501 6.1.3.2) over Nausf_UEAuthentication (TS 29.509):\n"
    "it checks AUTN (MAC-A, AMF separation bit, SQN freshness; on an SQN that is not fresh it\n"
    "resynchronises once with AUTS), checks HXRES*, confirms RES*, compares KSEAF, stores the\n"
    "accepted SQN, and derives Kedge and the Kedge ID (SPEC.md step 1). Keys are shown only\n"
    "as SHA-256 fingerprints (first 8 hex digits).\n"
    "`agent` registers, keeps Kedge and the Kedge ID in memory only and serves them to the EEC\n"
    "on the Unix socket of the agent: section (SPEC.md 5; peers checked with SO_PEERCRED);\n"
    "`register --agent SOCKET` makes a running agent authenticate again (new keys).\n"
    "\n"
    "Options:\n"
    "      --config FILE    the UE's configuration (default " DEFAULT_CONFIG ")\n"
    "      --agent SOCKET   register through a running agent instead\n"
    "      --json           print one JSON object instead of the step log: supi, kedgeId,\n"
    "                       kausfFingerprint, kedgeFingerprint, sqn, resynchronised,\n"
    "                       authResult, elapsedMs (and failure, error, status, cause)\n"
    "      --corrupt-res    flip a bit of RES* in the confirmation (tests the AUSF's check)\n"
    "      --check-config   check the configuration, the SQN file and the TLS files, and exit\n"
    "  -h, --help           show this help and exit\n"
    "  -V, --version        show the version and exit\n"
    "\n"
    "Exit status: 0 registered (AUTHENTICATION_SUCCESS and the same KSEAF on both sides);\n"
    "1 authentication failed (MAC failure, synchronisation failure after the one retry,\n"
    "AUTHENTICATION_FAILURE from the AUSF, HXRES* or KSEAF mismatch) or the AUSF answered\n"
    "with an error or not at all (one line on stderr says which); 2 bad usage or configuration.\n";

static int bad_usage(const char *why)
{
  fprintf(stderr, PROGRAM ": %s (try --help)\n", why);
  return KEDGE_EXIT_USAGE;
}

/* --check-config: the file, the SQN file if it exists, and the TLS files via the client. */
static int check_config(const char *path, const ue_config_t *cfg)
{
  char why[UE_PATH_MAX + 256];
  uint64_t sqn = 0;
  if (access(cfg->usim.sqn_file, F_OK) == 0 &&
      ue_sqn_load(cfg->usim.sqn_file, &sqn, why, sizeof(why)) != KEDGE_OK) {
    fprintf(stderr, "%s: usim.sqn_file: %s\n", path, why);
    return KEDGE_EXIT_USAGE;
  }
  struct event_base *base = event_base_new();
  ue_t *ue = NULL;
  kedge_err_t err = base ? ue_new(cfg, base, &ue) : KEDGE_ERR_NOMEM;
  ue_free(ue);
  if (base)
    event_base_free(base);
  if (err) {
    fprintf(stderr, "%s: ausf: cannot use ca, cert and key: %s (see the log line above)\n", path,
            kedge_strerror(err));
    return KEDGE_EXIT_USAGE;
  }
  printf("%s: configuration OK\n", path);
  return KEDGE_EXIT_OK;
}

static int run_register(const ue_config_t *cfg, bool json, bool corrupt_res)
{
  ue_result_t result;
  char why[UE_PATH_MAX + 256];
  uint64_t sqn_ms = 0;
  /* The USIM's state first: a broken SQN file is a setup problem, found before any network
   * call (the file is read again when the challenge arrives). */
  if (ue_sqn_load(cfg->usim.sqn_file, &sqn_ms, why, sizeof(why)) != KEDGE_OK) {
    fprintf(stderr, PROGRAM ": usim.sqn_file: %s\n", why);
    return KEDGE_EXIT_USAGE;
  }
  kedge_err_t err = ue_register_sync(cfg, corrupt_res, &result, why, sizeof(why));
  if (err) {
    fprintf(stderr, PROGRAM ": %s\n", why);
    return err == KEDGE_ERR_CONFIG ? KEDGE_EXIT_USAGE : KEDGE_EXIT_FAILURE;
  }
  if (json) {
    json_t *o = ue_result_json(cfg, &result);
    if (!o || json_dumpf(o, stdout, JSON_COMPACT | JSON_REAL_PRECISION(12)) != 0) {
      json_decref(o);
      fprintf(stderr, PROGRAM ": cannot print the JSON result\n");
      return KEDGE_EXIT_FAILURE;
    }
    json_decref(o);
    putchar('\n');
  } else {
    ue_print_steps(cfg, &result, stdout);
  }
  fflush(stdout);
  if (result.outcome != UE_REGISTERED) {
    fprintf(stderr, PROGRAM ": %s\n", result.why);
    return KEDGE_EXIT_FAILURE;
  }
  return KEDGE_EXIT_OK;
}

int main(int argc, char **argv)
{
  kedge_json_wipe_on_free();               /* JSON bodies carry KSEAF and keys */
  if (kedge_app_wipe_curl() != KEDGE_OK) { /* libcurl's copy of the bearer header line */
    fputs(PROGRAM ": cannot install libcurl's wiping allocator\n", stderr);
    return KEDGE_EXIT_FAILURE;
  }
  kedge_process_init();
  if (kedge_process_protect_keys() != KEDGE_OK)
    fputs(PROGRAM ": cannot disable core dumps (RLIMIT_CORE, PR_SET_DUMPABLE)\n", stderr);
  kedge_trace_init("UE");
  kedge_log_init(PROGRAM, KEDGE_LOG_WARN, false);
  if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
    fputs(usage, stdout);
    return KEDGE_EXIT_OK;
  }
  if (argc > 1 && (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version"))) {
    printf(PROGRAM " (kedge) %s\n", KEDGE_VERSION);
    return KEDGE_EXIT_OK;
  }
  kedge_cli_option_t o[] = {
      {"config", false, NULL},      {"json", true, NULL}, {"corrupt-res", true, NULL},
      {"check-config", true, NULL}, {"help", true, NULL}, {"version", true, NULL},
      {"agent", false, NULL},
  };
  const size_t n = sizeof(o) / sizeof(o[0]);
  const char *verb[1] = {NULL};
  size_t n_verb = 0;
  char why[KEDGE_CONFIG_ERR_MAX];
  if (kedge_cli_parse(argc, argv, 1, o, n, verb, 1, &n_verb, why, sizeof(why))) {
    fprintf(stderr, PROGRAM ": %s\n", why);
    return KEDGE_EXIT_USAGE;
  }
  if (kedge_cli_get(o, n, "help")) {
    fputs(usage, stdout);
    return KEDGE_EXIT_OK;
  }
  if (kedge_cli_get(o, n, "version")) {
    printf(PROGRAM " (kedge) %s\n", KEDGE_VERSION);
    return KEDGE_EXIT_OK;
  }
  bool check = kedge_cli_get(o, n, "check-config") != NULL;
  if (n_verb == 0 && !check)
    return bad_usage("missing command: register");
  bool agent = n_verb == 1 && !strcmp(verb[0], "agent");
  if (n_verb == 1 && !agent && kedge_cli_get(o, n, "agent")) {
    /* register through a running agent: the agent's own configuration applies */
    char id[KEDGE_ID_MAX + 1];
    if (kedge_agent_register(kedge_cli_get(o, n, "agent"), 30000, id, why, sizeof(why))) {
      fprintf(stderr, PROGRAM ": %s\n", why);
      return KEDGE_EXIT_FAILURE;
    }
    printf("%s\n", id);
    return KEDGE_EXIT_OK;
  }
  if (n_verb == 1 && !agent && strcmp(verb[0], "register") != 0) {
    snprintf(why, sizeof(why), "unknown command '%.64s'", verb[0]);
    return bad_usage(why);
  }
  const char *path = kedge_cli_get(o, n, "config") ? kedge_cli_get(o, n, "config") : DEFAULT_CONFIG;
  if (!path[0])
    return bad_usage("--config: missing value");

  ue_config_t cfg;
  if (ue_config_load(path, &cfg, why, sizeof(why))) {
    fprintf(stderr, "%s\n", why);
    return KEDGE_EXIT_USAGE;
  }
  kedge_log_init(PROGRAM, cfg.log_level, cfg.log_json);
  int rc = check   ? check_config(path, &cfg)
           : agent ? ue_agent_run(&cfg)
                   : run_register(&cfg, kedge_cli_get(o, n, "json") != NULL,
                                  kedge_cli_get(o, n, "corrupt-res") != NULL);
  ue_config_clear(&cfg);
  return rc;
}
