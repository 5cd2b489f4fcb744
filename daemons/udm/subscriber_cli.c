/* kedge-udmd subscriber add|show|list|delete|import: provisioning of the subscriber database.
 * Uses the daemon's own configuration file (udm.database, udm.master_key); SQLite's WAL lets it
 * run beside a serving daemon. K and OPc are never printed, and come from files or stdin, not
 * from the command line (visible in /proc/PID/cmdline to every local user, and kept in shell
 * history) unless --insecure-argv says so (issue 12). Exit status: 0 done, 1 failure
 * (including an unknown SUPI), 2 bad usage or input. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "kedge/app.h"
#include "kedge/cli.h"
#include "kedge/log.h"
#include "kedge/secret_file.h"
#include "udm.h"

static const char usage[] =
    "Usage:\n"
    "  kedge-udmd subscriber add --config FILE --supi SUPI --k-file FILE\n"
    "                            (--opc-file FILE | --op-file FILE)\n"
    "                            [--amf HEX] [--sqn HEX] [--rid RID] [--edge | --no-edge]\n"
    "                            [--akma]\n"
    "  kedge-udmd subscriber show --config FILE --supi SUPI\n"
    "  kedge-udmd subscriber list --config FILE\n"
    "  kedge-udmd subscriber delete --config FILE --supi SUPI\n"
    "  kedge-udmd subscriber import --config FILE FILE.csv\n"
    "\n"
    "  --supi SUPI   imsi-<5 to 15 digits> or nai-<user>@<realm>\n"
    "  --k-file FILE    subscriber key K, 16 octets in hex on one line; FILE mode 0600 or\n"
    "                   0400; - reads the line from stdin\n"
    "  --opc-file FILE  OPc, the same way (after K's line when both are -); or --op-file\n"
    "                   FILE: OP, converted to OPc (TS 35.206 4.1)\n"
    "  --k HEX, --opc HEX, --op HEX  the same on the command line, only with --insecure-argv\n"
    "                   (every local user sees the command line in /proc; shells keep it)\n"
    "  --amf HEX     AMF, 2 octets (default 8000: the 5G separation bit set)\n"
    "  --sqn HEX     the last SQN used, 6 octets (default 000000000000)\n"
    "  --rid RID     routing indicator, 1 to 4 digits as on the USIM (default 0)\n"
    "  --edge, --no-edge  whether the subscriber may use edge computing (default --edge)\n"
    "  --akma        an AKMA subscriber: the UDM sends akmaInd and the AUSF registers K_AKMA\n"
    "                at the AAnF (TS 33.535 6.1; default: not AKMA)\n"
    "CSV import: a header naming the columns (supi,k,opc or op, and optionally amf,sqn,rid,edge,\n"
    "akma),\n"
    "then one subscriber per line; all lines are added in one transaction, or none.\n";

static int bad_usage(const char *what, const char *why)
{
  fprintf(stderr, "kedge-udmd subscriber %s: %s\n", what, why);
  return KEDGE_EXIT_USAGE;
}

static void print_subscriber(const udm_subscriber_t *sub)
{
  printf("supi: %s\namf: %02x%02x\nsqn: %012llx\nrouting_indicator: %s\nedge_capable: %s\n"
         "akma: %s\n",
         sub->supi, sub->amf[0], sub->amf[1], (unsigned long long)sub->sqn,
         sub->routing_indicator, sub->edge_capable ? "true" : "false",
         sub->akma ? "true" : "false");
}

static int print_auth_event(const udm_auth_event_t *ev, void *arg)
{
  printf("  %s %s %s %s by %s%s%s\n", ev->time_stamp, ev->success ? "success" : "failure",
         ev->auth_type, ev->serving_network_name, ev->nf_instance_id,
         ev->removed_at[0] ? ", removed " : "", ev->removed_at);
  (*(size_t *)arg)++;
  return 0;
}

static int list_one(const udm_subscriber_t *sub, void *arg)
{
  printf("%s rid=%s sqn=%012llx edge=%s akma=%s\n", sub->supi, sub->routing_indicator,
         (unsigned long long)sub->sqn, sub->edge_capable ? "true" : "false",
         sub->akma ? "true" : "false");
  (*(size_t *)arg)++;
  return 0;
}

int udm_subscriber_command(const struct kedge_app *app, int argc, char **argv)
{
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? KEDGE_EXIT_USAGE : KEDGE_EXIT_OK;
  }
  const char *verb = argv[1];
  kedge_cli_option_t o[] = {
    {"config", false, NULL}, {"supi", false, NULL}, {"k", false, NULL},    {"opc", false, NULL},
    {"op", false, NULL},     {"amf", false, NULL},  {"sqn", false, NULL},  {"rid", false, NULL},
    {"edge", true, NULL},    {"no-edge", true, NULL}, {"k-file", false, NULL},
    {"opc-file", false, NULL}, {"op-file", false, NULL}, {"insecure-argv", true, NULL},
    {"akma", true, NULL},
    {"help", true, NULL},
  };
  const size_t n = sizeof(o) / sizeof(o[0]);
  const char *pos[1] = {NULL};
  size_t n_pos = 0;
  char why[KEDGE_CONFIG_ERR_MAX];
  if (kedge_cli_parse(argc, argv, 2, o, n, pos, 1, &n_pos, why, sizeof(why)))
    return bad_usage(verb, why);
  if (kedge_cli_get(o, n, "help")) {
    fputs(usage, stdout);
    return KEDGE_EXIT_OK;
  }
  bool add = !strcmp(verb, "add"), show = !strcmp(verb, "show"), list = !strcmp(verb, "list"),
       del = !strcmp(verb, "delete"), import = !strcmp(verb, "import");
  if (!add && !show && !list && !del && !import)
    return bad_usage(verb, "unknown (add, show, list, delete, import)");
  const char *config = kedge_cli_get(o, n, "config") ? kedge_cli_get(o, n, "config")
                                                     : app->info->default_config;
  const char *supi = kedge_cli_get(o, n, "supi");
  if ((add || show || del) && !supi)
    return bad_usage(verb, "--supi: required");
  if (import != (n_pos == 1))
    return bad_usage(verb, import ? "the CSV file is missing" : "unexpected argument");
  for (size_t i = 2; i < n && !add; i++) /* key material only with add */
    if (o[i].value && strcmp(o[i].name, "help"))
      return bad_usage(verb, "only add takes subscriber data");
  if (kedge_cli_get(o, n, "edge") && kedge_cli_get(o, n, "no-edge"))
    return bad_usage(verb, "--edge and --no-edge exclude each other");

  udm_subscriber_t sub;
  if (add) {
    /* issue 12: secrets from files or stdin; the command line only when asked for */
    static const char *const argv_secrets[] = {"k", "opc", "op"};
    for (size_t i = 0; i < 3; i++) {
      const char *name = argv_secrets[i];
      char file_opt[16];
      snprintf(file_opt, sizeof(file_opt), "%s-file", name);
      if (kedge_cli_get(o, n, name) && kedge_cli_get(o, n, file_opt)) {
        snprintf(why, sizeof(why), "--%s and --%s exclude each other", name, file_opt);
        return bad_usage(verb, why);
      }
      if (kedge_cli_get(o, n, name) && !kedge_cli_get(o, n, "insecure-argv")) {
        snprintf(why, sizeof(why),
                 "--%s puts the secret in the process list and shell history: use --%s FILE "
                 "(or - for stdin), or add --insecure-argv",
                 name, file_opt);
        return bad_usage(verb, why);
      }
    }
    char secrets[3][80] = {{0}};
    const char *values[3];
    int rc = KEDGE_EXIT_OK;
    for (size_t i = 0; i < 3 && rc == KEDGE_EXIT_OK; i++) {
      char file_opt[16];
      snprintf(file_opt, sizeof(file_opt), "%s-file", argv_secrets[i]);
      const char *file = kedge_cli_get(o, n, file_opt);
      values[i] = kedge_cli_get(o, n, argv_secrets[i]);
      if (!file)
        continue;
      if (kedge_secret_line_read(file, i == 0 ? "K" : i == 1 ? "OPc" : "OP", secrets[i],
                                 sizeof(secrets[i]), why, sizeof(why)) != KEDGE_OK) {
        fprintf(stderr, "kedge-udmd subscriber add: --%s %s\n", file_opt, why);
        rc = KEDGE_EXIT_USAGE;
      }
      values[i] = secrets[i];
    }
    udm_subscriber_text_t text = {
      .supi = supi, .k = values[0], .opc = values[1], .op = values[2],
      .amf = kedge_cli_get(o, n, "amf"), .sqn = kedge_cli_get(o, n, "sqn"),
      .rid = kedge_cli_get(o, n, "rid"), .edge = kedge_cli_get(o, n, "no-edge") ? "false" : NULL,
      .akma = kedge_cli_get(o, n, "akma") ? "true" : NULL};
    const char *field = NULL, *reason = NULL;
    if (rc == KEDGE_EXIT_OK && udm_subscriber_from_text(&text, &sub, &field, &reason)) {
      char file_opt[16];
      snprintf(file_opt, sizeof(file_opt), "%s-file", field);
      snprintf(why, sizeof(why), "--%s: %s", kedge_cli_get(o, n, file_opt) ? file_opt : field,
               reason);
      rc = bad_usage(verb, why);
    }
    OPENSSL_cleanse(secrets, sizeof(secrets));
    if (rc != KEDGE_EXIT_OK) {
      OPENSSL_cleanse(&sub, sizeof(sub));
      return rc;
    }
  }

  /* Quiet logs: this is a command, not the daemon. */
  kedge_config_t *conf = NULL;
  kedge_sbi_server_config_t sbi;
  udm_t *udm = app->state;
  if (kedge_app_load_config(app, config, &conf, &sbi, why, sizeof(why))) {
    fprintf(stderr, "%s\n", why);
    OPENSSL_cleanse(&sub, sizeof(sub));
    return KEDGE_EXIT_FAILURE;
  }
  kedge_log_init("kedge-udmd", KEDGE_LOG_WARN, false);
  udm_db_t *db = NULL;
  kedge_err_t err = kedge_master_key_load(udm->master_key_file, &udm->master_key, why, sizeof(why));
  if (!err)
    err = udm_db_open(udm->database, &udm->master_key, &db, why, sizeof(why));
  if (err) {
    fprintf(stderr, "%s\n", why);
    OPENSSL_cleanse(&sub, sizeof(sub));
    kedge_config_free(conf);
    return KEDGE_EXIT_FAILURE;
  }

  int rc = KEDGE_EXIT_OK;
  size_t count = 0;
  if (add) {
    err = udm_db_add(db, &sub);
    if (!err)
      printf("added %s (rid %s, %s%s, sqn %012llx)\n", sub.supi, sub.routing_indicator,
             sub.edge_capable ? "edge-capable" : "not edge-capable", sub.akma ? ", AKMA" : "",
             (unsigned long long)sub.sqn);
    else
      fprintf(stderr, "kedge-udmd subscriber add: %s: %s\n", sub.supi,
              err == KEDGE_ERR_EXISTS ? "already provisioned" : kedge_strerror(err));
    OPENSSL_cleanse(&sub, sizeof(sub));
  } else if (show) {
    err = udm_db_get(db, supi, &sub);
    if (!err) {
      print_subscriber(&sub);
      /* TS 29.503 AuthEvents: the latest udm.auth_events.keep, oldest first */
      printf("auth_events:\n");
      err = udm_db_list_auth_events(db, supi, print_auth_event, &count);
      if (!err && count == 0)
        printf("  (none)\n");
    }
    else
      fprintf(stderr, "kedge-udmd subscriber show: %s: %s\n", supi,
              err == KEDGE_ERR_NOT_FOUND ? "no such subscriber" : kedge_strerror(err));
  } else if (list) {
    err = udm_db_list(db, list_one, &count);
    if (err)
      fprintf(stderr, "kedge-udmd subscriber list: %s\n", kedge_strerror(err));
  } else if (del) {
    err = udm_db_delete(db, supi);
    if (!err)
      printf("deleted %s\n", supi);
    else
      fprintf(stderr, "kedge-udmd subscriber delete: %s: %s\n", supi,
              err == KEDGE_ERR_NOT_FOUND ? "no such subscriber" : kedge_strerror(err));
  } else {
    /* issue 12: the CSV holds K and OPc */
    err = kedge_secret_file_check(pos[0], "K and OPc", why, sizeof(why));
    if (!err)
      err = udm_db_import_csv(db, pos[0], &count, why, sizeof(why));
    if (!err)
      printf("imported %zu subscribers from %s\n", count, pos[0]);
    else
      fprintf(stderr, "kedge-udmd subscriber import: %s\n", why);
  }
  if (err)
    rc = err == KEDGE_ERR_CONFIG ? KEDGE_EXIT_USAGE : KEDGE_EXIT_FAILURE;
  udm_db_close(db);
  kedge_master_key_clear(&udm->master_key);
  kedge_config_free(conf);
  return rc;
}
