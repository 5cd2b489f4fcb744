/* kedge-udmd subscriber add|modify|show|list|delete|import|export: provisioning of the
 * subscriber database.
 * Uses the daemon's own configuration file (udm.database, udm.master_key); SQLite's WAL lets it
 * run beside a serving daemon. K and OPc are never printed, and come from files or stdin, not
 * from the command line (visible in /proc/PID/cmdline to every local user, and kept in shell
 * history) unless --insecure-argv says so (issue 12). Exit status: 0 done, 1 failure
 * (including an unknown SUPI), 2 bad usage or input. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include <openssl/crypto.h>

#include "kedge/app.h"
#include "kedge/cli.h"
#include "kedge/hex.h"
#include "kedge/log.h"
#include "kedge/milenage.h"
#include "kedge/secret_file.h"
#include "udm.h"

static const char usage[] =
    "Usage:\n"
    "  kedge-udmd subscriber add --config FILE --supi SUPI --k-file FILE\n"
    "                            (--opc-file FILE | --op-file FILE)\n"
    "                            [--amf HEX] [--sqn HEX] [--rid RID] [--edge | --no-edge]\n"
    "                            [--akma]\n"
    "  kedge-udmd subscriber modify --config FILE --supi SUPI [--k-file FILE]\n"
    "                            [--opc-file FILE | --op-file FILE] [--amf HEX] [--rid RID]\n"
    "                            [--edge | --no-edge] [--akma | --no-akma]  (SQN kept)\n"
    "  kedge-udmd subscriber show --config FILE --supi SUPI\n"
    "  kedge-udmd subscriber list --config FILE [--json]\n"
    "  kedge-udmd subscriber delete --config FILE --supi SUPI\n"
    "  kedge-udmd subscriber import --config FILE FILE|-   (CSV or JSON lines; - is stdin)\n"
    "  kedge-udmd subscriber export --config FILE [--reveal]   (JSON lines on stdout)\n"
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
    "                at the AAnF (TS 33.535 6.1; default: not AKMA); modify: --akma, --no-akma\n"
    "  --k-file FILE, --opc-file FILE, --op-file FILE  (modify) the new K, OPc or OP: 32 hex\n"
    "                digits on the first line of FILE (mode 0600 or 0400), - for stdin\n"
    "  --json        (list) one JSON object per subscriber and line\n"
    "  --reveal      (export) K and OPc in clear instead of sealed under the master key\n"
    "Import: CSV (RFC 4180: quoted fields, CRLF, a UTF-8 BOM) with a header naming the columns\n"
    "(supi,k,opc or op, and optionally amf,sqn,rid,edge,akma), or JSON lines with those members or "
    "an\n"
    "export's k_sealed/opc_sealed; from FILE or stdin (-). All records are added in one\n"
    "transaction, or none. Export: JSON lines with k_sealed/opc_sealed (they open only under\n"
    "this master key), or k/opc with --reveal; `export | import -` restores a database.\n";

static int bad_usage(const char *what, const char *why)
{
  fprintf(stderr, "kedge-udmd subscriber %s: %s\n", what, why);
  return KEDGE_EXIT_USAGE;
}

static void print_subscriber(const udm_subscriber_t *sub)
{
  printf("supi: %s\namf: %02x%02x\nsqn: %012llx\nrouting_indicator: %s\nedge_capable: %s\n"
         "akma: %s\n",
         sub->supi, sub->amf[0], sub->amf[1], (unsigned long long)sub->sqn, sub->routing_indicator,
         sub->edge_capable ? "true" : "false", sub->akma ? "true" : "false");
}

/* One subscriber as JSON (list --json, export): the CSV columns' names and text forms. */
static json_t *subscriber_json(const udm_subscriber_t *sub)
{
  char amf[5], sqn[13];
  snprintf(amf, sizeof(amf), "%02x%02x", sub->amf[0], sub->amf[1]);
  snprintf(sqn, sizeof(sqn), "%012llx", (unsigned long long)sub->sqn);
  return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "supi", sub->supi, "amf", amf, "sqn", sqn,
                   "rid", sub->routing_indicator, "edge", sub->edge_capable, "akma", sub->akma);
}

static int print_json(json_t *o)
{
  if (!o || json_dumpf(o, stdout, JSON_COMPACT) != 0 || putchar('\n') == EOF)
    return -1;
  return 0;
}

static int list_json(const udm_subscriber_t *sub, void *arg)
{
  json_t *o = subscriber_json(sub);
  int rc = print_json(o);
  json_decref(o);
  (*(size_t *)arg)++;
  return rc;
}

typedef struct export_state {
  bool reveal;
  size_t count;
} export_state_t;

static int export_one(const udm_subscriber_t *sub, const udm_sealed_t *sealed, void *arg)
{
  export_state_t *x = arg;
  json_t *o = subscriber_json(sub);
  char a[2 * sizeof(sealed->k) + 1], b[2 * sizeof(sealed->opc) + 1];
  if (x->reveal) {
    kedge_hex_encode(sub->cred.k, 16, a);
    kedge_hex_encode(sub->cred.opc, 16, b);
  } else {
    kedge_hex_encode(sealed->k, sealed->k_len, a);
    kedge_hex_encode(sealed->opc, sealed->opc_len, b);
  }
  int rc = o && !json_object_set_new(o, x->reveal ? "k" : "k_sealed", json_string(a)) &&
                   !json_object_set_new(o, x->reveal ? "opc" : "opc_sealed", json_string(b))
               ? print_json(o)
               : -1;
  OPENSSL_cleanse(a, sizeof(a));
  OPENSSL_cleanse(b, sizeof(b));
  json_decref(o); /* wiped on free (kedge_json_wipe_on_free) */
  x->count++;
  return rc;
}

/* A key for modify, read the way add reads them (kedge/secret_file.h: one line of a file of
 * mode 0600/0400, or of stdin for "-"; never from argv): 32 hex digits. */
static kedge_err_t read_key_line(const char *path, const char *what, uint8_t out[16], char *why,
                                 size_t why_size)
{
  char line[80] = "";
  kedge_err_t err = kedge_secret_line_read(path, what, line, sizeof(line), why, why_size);
  if (!err && kedge_hex_decode(line, out, 16)) {
    snprintf(why, why_size, "%s: %s must be 32 hex digits", path, what);
    err = KEDGE_ERR_CONFIG;
  }
  OPENSSL_cleanse(line, sizeof(line));
  return err;
}

/* modify: the stored record with what the options change; K and OPc from files or stdin. */
static kedge_err_t modify_record(udm_db_t *db, const kedge_cli_option_t *o, size_t n,
                                 const char *supi, udm_subscriber_t *sub, char *why,
                                 size_t why_size)
{
  kedge_err_t err = udm_db_get_credentials(db, supi, sub);
  if (err) {
    snprintf(why, why_size, "%s: %s", supi,
             err == KEDGE_ERR_NOT_FOUND ? "no such subscriber" : kedge_strerror(err));
    return err;
  }
  const char *k = kedge_cli_get(o, n, "k-file"), *opc = kedge_cli_get(o, n, "opc-file"),
             *op = kedge_cli_get(o, n, "op-file");
  uint8_t op_value[16];
  if ((k && (err = read_key_line(k, "K", sub->cred.k, why, why_size))) ||
      (opc && (err = read_key_line(opc, "OPc", sub->cred.opc, why, why_size))) ||
      (op && (err = read_key_line(op, "OP", op_value, why, why_size))))
    return err;
  if (op)
    err = kedge_milenage_opc(sub->cred.k, op_value, sub->cred.opc); /* TS 35.206 4.1 */
  OPENSSL_cleanse(op_value, sizeof(op_value));
  /* the other fields through the same checks as add */
  udm_subscriber_text_t text = {.supi = supi,
                                .k = "00000000000000000000000000000000",
                                .opc = "00000000000000000000000000000000",
                                .amf = kedge_cli_get(o, n, "amf"),
                                .rid = kedge_cli_get(o, n, "rid"),
                                .edge = kedge_cli_get(o, n, "no-edge") ? "false"
                                        : kedge_cli_get(o, n, "edge")  ? "true"
                                                                       : NULL,
                                .akma = kedge_cli_get(o, n, "no-akma") ? "false"
                                        : kedge_cli_get(o, n, "akma")  ? "true"
                                                                       : NULL};
  udm_subscriber_t parsed;
  const char *field = NULL, *reason = NULL;
  if (!err && udm_subscriber_from_text(&text, &parsed, &field, &reason)) {
    snprintf(why, why_size, "--%s: %s", field, reason);
    err = KEDGE_ERR_CONFIG;
  }
  if (!err) {
    if (text.amf)
      memcpy(sub->amf, parsed.amf, sizeof(sub->amf));
    if (text.rid)
      memcpy(sub->routing_indicator, parsed.routing_indicator, sizeof(sub->routing_indicator));
    if (text.edge)
      sub->edge_capable = parsed.edge_capable;
    if (text.akma)
      sub->akma = parsed.akma;
    if ((err = udm_db_modify(db, sub)))
      snprintf(why, why_size, "%s: %s", supi, kedge_strerror(err));
  }
  OPENSSL_cleanse(&parsed, sizeof(parsed));
  return err;
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

/* ---- the verbs ---- */

/* One run of the command: the parsed options and what the verbs share. */
typedef struct cmd {
  const char *verb;
  const kedge_cli_option_t *o;
  size_t n;
  const char *supi; /* --supi */
  const char *file; /* import's positional argument */
  udm_db_t *db;
  udm_subscriber_t sub; /* add's record, from the command line before the database opens */
  char why[KEDGE_CONFIG_ERR_MAX];
} cmd_t;

#define OPT(cmd, name) kedge_cli_get((cmd)->o, (cmd)->n, name)

/* add, before the database: K and OPc (or OP) from files or stdin, or argv when allowed. */
static int add_prepare(cmd_t *c)
{
  /* issue 12: secrets from files or stdin; the command line only when asked for */
  static const char *const argv_secrets[] = {"k", "opc", "op"};
  for (size_t i = 0; i < 3; i++) {
    const char *name = argv_secrets[i];
    char file_opt[16];
    snprintf(file_opt, sizeof(file_opt), "%s-file", name);
    if (OPT(c, name) && OPT(c, file_opt)) {
      snprintf(c->why, sizeof(c->why), "--%s and --%s exclude each other", name, file_opt);
      return bad_usage(c->verb, c->why);
    }
    if (OPT(c, name) && !OPT(c, "insecure-argv")) {
      snprintf(c->why, sizeof(c->why),
               "--%s puts the secret in the process list and shell history: use --%s FILE "
               "(or - for stdin), or add --insecure-argv",
               name, file_opt);
      return bad_usage(c->verb, c->why);
    }
  }
  char secrets[3][80] = {{0}};
  const char *values[3];
  int rc = KEDGE_EXIT_OK;
  for (size_t i = 0; i < 3 && rc == KEDGE_EXIT_OK; i++) {
    char file_opt[16];
    snprintf(file_opt, sizeof(file_opt), "%s-file", argv_secrets[i]);
    const char *file = OPT(c, file_opt);
    values[i] = OPT(c, argv_secrets[i]);
    if (!file)
      continue;
    if (kedge_secret_line_read(file,
                               i == 0   ? "K"
                               : i == 1 ? "OPc"
                                        : "OP",
                               secrets[i], sizeof(secrets[i]), c->why,
                               sizeof(c->why)) != KEDGE_OK) {
      fprintf(stderr, "kedge-udmd subscriber add: --%s %s\n", file_opt, c->why);
      rc = KEDGE_EXIT_USAGE;
    }
    values[i] = secrets[i];
  }
  udm_subscriber_text_t text = {.supi = c->supi,
                                .k = values[0],
                                .opc = values[1],
                                .op = values[2],
                                .amf = OPT(c, "amf"),
                                .sqn = OPT(c, "sqn"),
                                .rid = OPT(c, "rid"),
                                .edge = OPT(c, "no-edge") ? "false" : NULL,
                                .akma = OPT(c, "akma") ? "true" : NULL};
  const char *field = NULL, *reason = NULL;
  if (rc == KEDGE_EXIT_OK && udm_subscriber_from_text(&text, &c->sub, &field, &reason)) {
    char file_opt[16];
    snprintf(file_opt, sizeof(file_opt), "%s-file", field);
    snprintf(c->why, sizeof(c->why), "--%s: %s", OPT(c, file_opt) ? file_opt : field, reason);
    rc = bad_usage(c->verb, c->why);
  }
  OPENSSL_cleanse(secrets, sizeof(secrets));
  return rc;
}

static kedge_err_t add_run(cmd_t *c)
{
  kedge_err_t err = udm_db_add(c->db, &c->sub);
  if (!err)
    printf("added %s (rid %s, %s%s, sqn %012llx)\n", c->sub.supi, c->sub.routing_indicator,
           c->sub.edge_capable ? "edge-capable" : "not edge-capable", c->sub.akma ? ", AKMA" : "",
           (unsigned long long)c->sub.sqn);
  else
    fprintf(stderr, "kedge-udmd subscriber add: %s: %s\n", c->sub.supi,
            err == KEDGE_ERR_EXISTS ? "already provisioned" : kedge_strerror(err));
  return err;
}

static kedge_err_t modify_run(cmd_t *c)
{
  kedge_err_t err = modify_record(c->db, c->o, c->n, c->supi, &c->sub, c->why, sizeof(c->why));
  if (!err)
    printf("modified %s (rid %s, %s, amf %02x%02x; sqn %012llx kept)\n", c->sub.supi,
           c->sub.routing_indicator, c->sub.edge_capable ? "edge-capable" : "not edge-capable",
           c->sub.amf[0], c->sub.amf[1], (unsigned long long)c->sub.sqn);
  else
    fprintf(stderr, "kedge-udmd subscriber modify: %s\n", c->why);
  return err;
}

static kedge_err_t show_run(cmd_t *c)
{
  size_t count = 0;
  kedge_err_t err = udm_db_get(c->db, c->supi, &c->sub);
  if (err) {
    fprintf(stderr, "kedge-udmd subscriber show: %s: %s\n", c->supi,
            err == KEDGE_ERR_NOT_FOUND ? "no such subscriber" : kedge_strerror(err));
    return err;
  }
  print_subscriber(&c->sub);
  /* TS 29.503 AuthEvents: the latest udm.auth_events.keep, oldest first */
  printf("auth_events:\n");
  err = udm_db_list_auth_events(c->db, c->supi, print_auth_event, &count);
  if (!err && count == 0)
    printf("  (none)\n");
  return err;
}

static kedge_err_t list_run(cmd_t *c)
{
  size_t count = 0;
  kedge_err_t err = udm_db_list(c->db, OPT(c, "json") ? list_json : list_one, &count);
  if (err)
    fprintf(stderr, "kedge-udmd subscriber list: %s\n", kedge_strerror(err));
  return err;
}

static kedge_err_t delete_run(cmd_t *c)
{
  kedge_err_t err = udm_db_delete(c->db, c->supi);
  if (!err)
    printf("deleted %s\n", c->supi);
  else
    fprintf(stderr, "kedge-udmd subscriber delete: %s: %s\n", c->supi,
            err == KEDGE_ERR_NOT_FOUND ? "no such subscriber" : kedge_strerror(err));
  return err;
}

static kedge_err_t import_run(cmd_t *c)
{
  size_t count = 0;
  /* issue 12: the file holds K and OPc (stdin: the caller's pipe, nothing to check) */
  kedge_err_t err = strcmp(c->file, "-")
                        ? kedge_secret_file_check(c->file, "K and OPc", c->why, sizeof(c->why))
                        : KEDGE_OK;
  if (!err)
    err = udm_db_import_csv(c->db, c->file, &count, c->why, sizeof(c->why));
  if (!err)
    printf("imported %zu subscribers from %s\n", count, c->file);
  else
    fprintf(stderr, "kedge-udmd subscriber import: %s\n", c->why);
  return err;
}

static kedge_err_t export_run(cmd_t *c)
{
  export_state_t x = {.reveal = OPT(c, "reveal") != NULL};
  kedge_err_t err = udm_db_export(c->db, x.reveal, export_one, &x);
  if (!err && fflush(stdout) != 0)
    err = KEDGE_ERR_IO;
  if (err)
    fprintf(stderr, "kedge-udmd subscriber export: %s\n",
            err == KEDGE_ERR_MAC_FAILURE ? "a record does not open under this master key"
                                         : kedge_strerror(err));
  return err;
}

#define VERB_OPTIONS_MAX 16

/* Each verb: what it needs, which options it takes (besides --help; modify: what it may
 * change, never K or OPc in argv), the step before the database opens, and its work. */
static const struct verb {
  const char *name;
  bool needs_supi;
  bool takes_file; /* import: one positional argument */
  const char *const options[VERB_OPTIONS_MAX];
  int (*prepare)(cmd_t *c); /* NULL: nothing; otherwise an exit status, 0 to go on */
  kedge_err_t (*run)(cmd_t *c);
} verbs[] = {
    {"add",
     true,
     false,
     {"config", "supi", "k", "opc", "op", "amf", "sqn", "rid", "edge", "no-edge", "k-file",
      "opc-file", "op-file", "insecure-argv", "akma"},
     add_prepare,
     add_run},
    {"modify",
     true,
     false,
     {"config", "supi", "k-file", "opc-file", "op-file", "amf", "rid", "edge", "no-edge", "akma",
      "no-akma"},
     NULL,
     modify_run},
    {"show", true, false, {"config", "supi"}, NULL, show_run},
    {"list", false, false, {"config", "supi", "json"}, NULL, list_run},
    {"delete", true, false, {"config", "supi"}, NULL, delete_run},
    {"import", false, true, {"config", "supi"}, NULL, import_run},
    {"export", false, false, {"config", "supi", "reveal"}, NULL, export_run},
};

static const struct verb *verb_find(const char *name)
{
  for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
    if (!strcmp(verbs[i].name, name))
      return &verbs[i];
  return NULL;
}

/* The options given against the verb's list and each other; an exit status, 0 when fine. */
static int check_options(const struct verb *v, cmd_t *c)
{
  for (size_t i = 0; i < c->n; i++) {
    bool fine = !c->o[i].value || !strcmp(c->o[i].name, "help");
    for (size_t j = 0; !fine && j < VERB_OPTIONS_MAX && v->options[j]; j++)
      fine = !strcmp(c->o[i].name, v->options[j]);
    if (!fine) {
      snprintf(c->why, sizeof(c->why), "--%s: not an option of %s", c->o[i].name, v->name);
      return bad_usage(v->name, c->why);
    }
  }
  if (!!OPT(c, "opc-file") + !!OPT(c, "op-file") > 1)
    return bad_usage(v->name, "--opc-file and --op-file exclude each other");
  if (OPT(c, "edge") && OPT(c, "no-edge"))
    return bad_usage(v->name, "--edge and --no-edge exclude each other");
  if (OPT(c, "akma") && OPT(c, "no-akma"))
    return bad_usage(v->name, "--akma and --no-akma exclude each other");
  return KEDGE_EXIT_OK;
}

/* Opens the database of the daemon's configuration, runs the verb, closes everything. */
static int run_verb(const struct kedge_app *app, const struct verb *v, cmd_t *c)
{
  const char *config = OPT(c, "config") ? OPT(c, "config") : app->info->default_config;
  kedge_config_t *conf = NULL;
  kedge_sbi_server_config_t sbi;
  udm_t *udm = app->state;
  if (kedge_app_load_config(app, config, &conf, &sbi, c->why, sizeof(c->why))) {
    fprintf(stderr, "%s\n", c->why);
    return KEDGE_EXIT_FAILURE;
  }
  /* Quiet logs: this is a command, not the daemon. */
  kedge_log_init("kedge-udmd", KEDGE_LOG_WARN, false);
  kedge_err_t err = udm_open_database(udm, &c->db, c->why, sizeof(c->why));
  if (err) {
    fprintf(stderr, "%s\n", c->why);
    kedge_config_free(conf);
    return KEDGE_EXIT_FAILURE;
  }
  err = v->run(c);
  udm_db_close(c->db);
  kedge_master_key_clear(&udm->master_key);
  kedge_config_free(conf);
  if (err)
    return err == KEDGE_ERR_CONFIG ? KEDGE_EXIT_USAGE : KEDGE_EXIT_FAILURE;
  return KEDGE_EXIT_OK;
}

int udm_subscriber_command(const struct kedge_app *app, int argc, char **argv)
{
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? KEDGE_EXIT_USAGE : KEDGE_EXIT_OK;
  }
  kedge_cli_option_t o[] = {
      {"config", false, NULL},  {"supi", false, NULL},         {"k", false, NULL},
      {"opc", false, NULL},     {"op", false, NULL},           {"amf", false, NULL},
      {"sqn", false, NULL},     {"rid", false, NULL},          {"edge", true, NULL},
      {"no-edge", true, NULL},  {"k-file", false, NULL},       {"opc-file", false, NULL},
      {"op-file", false, NULL}, {"insecure-argv", true, NULL}, {"akma", true, NULL},
      {"no-akma", true, NULL},  {"help", true, NULL},          {"json", true, NULL},
      {"reveal", true, NULL},
  };
  cmd_t c = {.verb = argv[1], .o = o, .n = sizeof(o) / sizeof(o[0])};
  const char *pos[1] = {NULL};
  size_t n_pos = 0;
  if (kedge_cli_parse(argc, argv, 2, o, c.n, pos, 1, &n_pos, c.why, sizeof(c.why)))
    return bad_usage(c.verb, c.why);
  if (OPT(&c, "help")) {
    fputs(usage, stdout);
    return KEDGE_EXIT_OK;
  }
  const struct verb *v = verb_find(c.verb);
  if (!v)
    return bad_usage(c.verb, "unknown (add, modify, show, list, delete, import, export)");
  c.supi = OPT(&c, "supi");
  c.file = pos[0];
  if (v->needs_supi && !c.supi)
    return bad_usage(v->name, "--supi: required");
  if (v->takes_file != (n_pos == 1))
    return bad_usage(v->name, v->takes_file ? "the file to import is missing (- for stdin)"
                                            : "unexpected argument");
  int rc = check_options(v, &c);
  if (!rc && v->prepare)
    rc = v->prepare(&c);
  if (!rc)
    rc = run_verb(app, v, &c);
  OPENSSL_cleanse(&c.sub, sizeof(c.sub));
  return rc;
}
