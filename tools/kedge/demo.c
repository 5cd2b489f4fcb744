/* kedge demo: the whole mission on one machine (issue 8). In a fresh directory: a development
 * PKI, master keys, configuration files, one subscriber; then kedge-udmd, kedge-ausfd,
 * kedge-nefd, kedge-aanfd, five kedge-ecsd (in the domain with the AUSF as key source, outside
 * it through the NEF, in profile bound, and in profile akma (SPEC.md 9) with K_AF from the AAnF
 * and through the NEF's 3gpp-akma) and the UE key agent, each its own process on 127.0.0.1 with a
 * port the kernel picks. Then the steps of SPEC.md 0 with kedge-eec, printed as they happen with
 * what the processes traced (KEDGE_TRACE), two failures on purpose, flow.svg and trace.json.
 *   kedge demo [--dir DIR] [--keylog FILE]   run everything and stop it again
 *   kedge demo --up DIR                      set up, register, leave it running
 *   kedge demo --down DIR                    stop what --up started */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "commands.h"
#include "flow.h"
#include "kedge/cli.h"
#include "kedge/hex.h"
#include "kedge/pki.h"
#include "kedge/seal.h"
#include "kedge/suci.h"
#include "kedge/time.h"
#include "kedge/trace.h"

#define DEMO_K    "465b5ce8b199b49faa5f0a2ee238a6bc"
#define DEMO_OPC  "cd63cb71954a9f4e48a5994e37a02baf"
#define DEMO_SUPI "imsi-001010000000001"

typedef struct proc {
  const char *name;    /* udm, ausf, ... (config and log file names) */
  const char *program; /* kedge-udmd, ... */
  const char *role;    /* UDM, AUSF, ... for the table */
  pid_t pid;
  unsigned port, metrics_port;
} proc_t;

enum {
  P_UDM,
  P_AUSF,
  P_NEF,
  P_ECS_IN,
  P_ECS_OUT,
  P_ECS_BOUND,
  P_AANF,
  P_ECS_AKMA,
  P_ECS_AKMA_EXT,
  P_AGENT,
  N_PROCS
};

/* The FQDNs the akma ECSs' K_AF is bound to (SPEC.md 9: their certificate names). */
#define DEMO_AKMA_FQDN     "ecs.kedge.test"
#define DEMO_AKMA_EXT_FQDN "af.kedge.test"

typedef struct demo {
  char dir[2048]; /* paths below it stay within PATH_MAX */
  char bin[2048];
  bool up;
  const char *keylog;
  proc_t p[N_PROCS];
  long trace_offset; /* what of DIR/trace.lines has been shown */
  flow_t *flow;
  int expected_ok, expected_fail, wrong;
  char failed_step[128], failed_log[PATH_MAX];
  char kedge_id[300];
  char suci_public[2][2 * KEDGE_ECIES_PUBLIC_MAX + 1]; /* hnPubKeyId 1 (A) and 2 (B) */
  char akid[300];
} demo_t;

static const proc_t proc_table[N_PROCS] = {
    {"udm", "kedge-udmd", "UDM", 0, 0, 0},
    {"ausf", "kedge-ausfd", "AUSF", 0, 0, 0},
    {"nef", "kedge-nefd", "NEF", 0, 0, 0},
    {"ecs-internal", "kedge-ecsd", "ECS (in domain)", 0, 0, 0},
    {"ecs-external", "kedge-ecsd", "ECS (outside, via NEF)", 0, 0, 0},
    {"ecs-bound", "kedge-ecsd", "ECS (profile bound)", 0, 0, 0},
    {"aanf", "kedge-aanfd", "AAnF", 0, 0, 0},
    {"ecs-akma", "kedge-ecsd", "ECS (akma, AAnF)", 0, 0, 0},
    {"ecs-akma-external", "kedge-ecsd", "ECS (akma, via NEF)", 0, 0, 0},
    {"ue", "kedge-ue", "UE agent", 0, 0, 0},
};

__attribute__((format(printf, 3, 4))) static void path_of(const demo_t *d, char *out,
                                                          const char *fmt, ...)
{
  char rel[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(rel, sizeof(rel), fmt, ap);
  va_end(ap);
  snprintf(out, PATH_MAX, "%s/%s", d->dir, rel);
}

/* Mode 0600: configuration files hold keys (ue.yaml: K and OPc) or name them, and kedge-ue
 * refuses a ue.yaml that others may read (issue 12). */
__attribute__((format(printf, 2, 3))) static bool write_text(const char *path, const char *fmt, ...)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  FILE *f = fd >= 0 && fchmod(fd, 0600) == 0 ? fdopen(fd, "w") : NULL;
  if (!f) {
    if (fd >= 0)
      close(fd);
    fprintf(stderr, "kedge demo: cannot write %s: %s\n", path, strerror(errno));
    return false;
  }
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  return fclose(f) == 0;
}

/* Children get the trace file and, with --keylog, SSLKEYLOGFILE (libcurl and kedge's TLS). */
static void child_env(const demo_t *d)
{
  char trace[PATH_MAX];
  path_of(d, trace, "trace.lines");
  setenv("KEDGE_TRACE", trace, 1);
  if (d->keylog)
    setenv("SSLKEYLOGFILE", d->keylog, 1);
}

/* Runs argv (argv[0] a program of d->bin) to completion; stdout into out (if not NULL),
 * stderr appended to DIR/logs/commands.log. Returns the exit status (or 128 + signal). */
static int run(demo_t *d, char *const argv[], char *out, size_t out_size)
{
  char prog[PATH_MAX], log[PATH_MAX];
  snprintf(prog, sizeof(prog), "%s/%s", d->bin, argv[0]);
  path_of(d, log, "logs/commands.log");
  int pipefd[2];
  if (pipe(pipefd) != 0)
    return 127;
  pid_t pid = fork();
  if (pid == 0) {
    int err = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    dup2(pipefd[1], 1);
    if (err >= 0)
      dup2(err, 2);
    close(pipefd[0]);
    child_env(d);
    execv(prog, argv);
    _exit(127);
  }
  close(pipefd[1]);
  size_t n = 0;
  char buf[4096];
  ssize_t r;
  while ((r = read(pipefd[0], buf, sizeof(buf))) > 0)
    if (out && n + (size_t)r < out_size) {
      memcpy(out + n, buf, (size_t)r);
      n += (size_t)r;
    }
  close(pipefd[0]);
  if (out)
    out[n] = '\0';
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool log_has(const demo_t *d, const proc_t *p, const char *needle, char *line, size_t size)
{
  char path[PATH_MAX];
  path_of(d, path, "logs/%s.log", p->name);
  FILE *f = fopen(path, "r");
  if (!f)
    return false;
  char buf[2048];
  bool found = false;
  while (!found && fgets(buf, sizeof(buf), f))
    if (strstr(buf, needle)) {
      found = true;
      if (line)
        snprintf(line, size, "%s", buf);
    }
  fclose(f);
  return found;
}

/* Starts a daemon (a session of its own with --up, else it dies with the demo) and waits
 * until it listens (its ports file) or, for the agent, until it serves. */
static bool start(demo_t *d, int i)
{
  proc_t *p = &d->p[i];
  char prog[PATH_MAX], conf[PATH_MAX], ports[PATH_MAX], log[PATH_MAX];
  snprintf(prog, sizeof(prog), "%s/%s", d->bin, p->program);
  path_of(d, conf, "conf/%s.yaml", p->name);
  path_of(d, ports, "run/%s.ports", p->name);
  path_of(d, log, "logs/%s.log", p->name);
  unlink(ports);
  pid_t pid = fork();
  if (pid == 0) {
    if (d->up)
      setsid();
    else
      prctl(PR_SET_PDEATHSIG, SIGTERM);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    child_env(d);
    if (i == P_AGENT)
      execl(prog, p->program, "agent", "--config", conf, (char *)NULL);
    else
      execl(prog, p->program, "--config", conf, "--ports-file", ports, (char *)NULL);
    _exit(127);
  }
  p->pid = pid;
  for (int tries = 0; tries < 200; tries++) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      p->pid = 0;
      break;
    }
    if (i == P_AGENT ? log_has(d, p, "serving keys", NULL, 0) : access(ports, R_OK) == 0) {
      if (i != P_AGENT) {
        FILE *f = fopen(ports, "r");
        if (f && fscanf(f, "port=%u\nmetrics_port=%u", &p->port, &p->metrics_port) == 2) {
          fclose(f);
          return true;
        }
        if (f)
          fclose(f);
        continue;
      }
      return true;
    }
    usleep(50000);
  }
  snprintf(d->failed_step, sizeof(d->failed_step), "starting %s", p->program);
  snprintf(d->failed_log, sizeof(d->failed_log), "%s", log);
  return false;
}

static void stop_all(demo_t *d)
{
  for (int i = N_PROCS - 1; i >= 0; i--)
    if (d->p[i].pid > 0)
      kill(d->p[i].pid, SIGTERM);
  for (int i = N_PROCS - 1; i >= 0; i--) {
    if (d->p[i].pid <= 0)
      continue;
    int status = 0;
    for (int t = 0; t < 100 && waitpid(d->p[i].pid, &status, WNOHANG) == 0; t++)
      usleep(50000);
    if (kill(d->p[i].pid, 0) == 0) {
      kill(d->p[i].pid, SIGKILL);
      waitpid(d->p[i].pid, &status, 0);
    }
    d->p[i].pid = 0;
  }
}

/* Prints (and records for flow.svg) what the processes traced since the last call, each
 * exchange with the step of SPEC.md 0 it belongs to. */
static const char *step_of(const char *from, const char *to, const char *msg)
{
  /* TS 33.535 (SPEC.md 9): 6.1 step 4-5 registration, 6.2 steps 3-5 K_AF for an AF in the
   * domain, 6.3 steps 3-6 through the NEF */
  if (!strcmp(to, "AANF") && strstr(msg, "register-anchorkey"))
    return "A6.1:4-5";
  if (!strcmp(to, "AANF") && strstr(msg, "remove-context"))
    return "A:remove";
  if (!strcmp(from, "ECS") && !strcmp(to, "AANF"))
    return "A6.2:3-5";
  if (!strcmp(from, "NEF") && !strcmp(to, "AANF"))
    return "A6.3:4-5";
  if (!strcmp(from, "ECS") && strstr(msg, "3gpp-akma"))
    return "A6.3:3-6";
  if (strstr(msg, "ue-authentications") || strstr(msg, "generate-auth-data"))
    return "0";
  if (!strcmp(to, "UE") && !strcmp(from, "EEC"))
    return "3";
  if (!strcmp(from, "ECS") && !strcmp(to, "NEF"))
    return "5.1/6.2";
  if (!strcmp(from, "NEF") && !strcmp(to, "AUSF"))
    return "5.2/6.1";
  if (!strcmp(from, "ECS") && !strcmp(to, "AUSF"))
    return "5/6";
  if (!strcmp(from, "EEC") && strstr(msg, "handshake"))
    return "4/7";
  if (!strcmp(from, "EEC"))
    return "7";
  return "";
}

static int by_start(const void *a, const void *b)
{
  const flow_event_t *x = a, *y = b;
  return x->t_us < y->t_us ? -1 : x->t_us > y->t_us;
}

static void show_trace(demo_t *d)
{
  char path[PATH_MAX];
  path_of(d, path, "trace.lines");
  FILE *f = fopen(path, "r");
  if (!f || fseek(f, d->trace_offset, SEEK_SET) != 0) {
    if (f)
      fclose(f);
    return;
  }
  /* this action's exchanges, in the order they started (the file has them as they ended) */
  flow_event_t evs[64];
  size_t n = 0;
  char line[1024];
  while (n < sizeof(evs) / sizeof(evs[0]) && fgets(line, sizeof(line), f)) {
    json_t *e = json_loads(line, 0, NULL);
    if (!e)
      continue;
    flow_event_t *ev = &evs[n++];
    memset(ev, 0, sizeof(*ev));
    ev->t_us = json_integer_value(json_object_get(e, "t"));
    ev->ms = json_number_value(json_object_get(e, "ms"));
    ev->status = (int)json_integer_value(json_object_get(e, "status"));
    snprintf(ev->from, sizeof(ev->from), "%s",
             json_string_value(json_object_get(e, "from")) ?: "?");
    snprintf(ev->to, sizeof(ev->to), "%s", json_string_value(json_object_get(e, "to")) ?: "?");
    snprintf(ev->msg, sizeof(ev->msg), "%s", json_string_value(json_object_get(e, "msg")) ?: "");
    snprintf(ev->note, sizeof(ev->note), "%s", json_string_value(json_object_get(e, "note")) ?: "");
    snprintf(ev->step, sizeof(ev->step), "%s", step_of(ev->from, ev->to, ev->msg));
    json_decref(e);
  }
  d->trace_offset = ftell(f);
  fclose(f);
  qsort(evs, n, sizeof(evs[0]), by_start);
  for (size_t i = 0; i < n; i++) {
    const flow_event_t *ev = &evs[i];
    char status[16] = "";
    if (ev->status)
      snprintf(status, sizeof(status), "%d", ev->status);
    printf("    %-7s %-5s -> %-5s %-58.58s %4s%s%s %7.1f ms\n", ev->step, ev->from, ev->to, ev->msg,
           status, ev->note[0] ? " " : "", ev->note, ev->ms);
    flow_add(d->flow, ev);
  }
}

static void verdict(demo_t *d, bool expected_success, bool succeeded, const char *what,
                    const char *log)
{
  if (expected_success)
    d->expected_ok++;
  else
    d->expected_fail++;
  bool right = expected_success == succeeded;
  printf("    => %s: %s\n", right ? (succeeded ? "ok" : "refused, as it must be") : "WRONG", what);
  if (!right) {
    d->wrong++;
    if (!d->failed_step[0]) {
      snprintf(d->failed_step, sizeof(d->failed_step), "%s", what);
      snprintf(d->failed_log, sizeof(d->failed_log), "%s", log);
    }
  }
}

/* ---- set-up ---- */

static bool write_configs(demo_t *d)
{
  char path[PATH_MAX], pki[PATH_MAX], dir[PATH_MAX];
  path_of(d, pki, "pki");
  path_of(d, dir, "run");
  const char *log = "log: {level: info}\n";
#define TLS(name) "  tls: {cert: %s/" name ".crt, key: %s/" name ".key, ca: %s/ca.crt}\n"
  path_of(d, path, "conf/udm.yaml");
  if (!write_text(path,
                  "# kedge demo: the UDM/ARPF (every key: conf/udm.yaml of the source tree)\n%s"
                  "sbi:\n  port: 0\n" TLS(
                      "udm") "udm:\n  database: %s/udm.sqlite\n  master_key: %s/udm.key\n"
                             "  allowed_consumers: [ausf.kedge.test]\n"
                             "  suci:\n    keys:\n"
                             "      - {id: 1, profile: A, private_key: %s/suci-1.key}\n"
                             "      - {id: 2, profile: B, private_key: %s/suci-2.key}\n",
                  log, pki, pki, pki, d->dir, d->dir, d->dir, d->dir))
    return false;
  return true;
}

static bool write_ausf_config(demo_t *d)
{
  char path[PATH_MAX], pki[PATH_MAX];
  path_of(d, pki, "pki");
  path_of(d, path, "conf/ausf.yaml");
  return write_text(
      path,
      "# kedge demo: the AUSF (every key: conf/ausf.yaml of the source tree)\nlog: {level: info}\n"
      "sbi:\n  port: 0\n" TLS(
          "ausf") "udm: {uri: \"https://127.0.0.1:%u\"}\n"
                  "ue_authentication:\n  allowed_consumers:\n"
                  "    - {name: seaf.kedge.test, serving_networks: "
                  "[\"5G:mnc001.mcc001.3gppnetwork.org\"]}\n"
                  "edge:\n  enabled: true\n  key_lifetime: 24h\n  home_network: {mcc: \"001\", "
                  "mnc: \"01\"}\n"
                  "  master_key: %s/ausf.key\n"
                  "keystore: \"sqlite:%s/ausf-keys.sqlite\"\n"
                  "keyrequest:\n  allowed_consumers:\n"
                  "    - {name: ecs.kedge.test, profiles: [kedge, bound]}\n"
                  "    - {name: nef.kedge.test, profiles: [kedge, bound]}\n"
                  "  relays: [nef.kedge.test]\n"
                  "revocation: {enabled: true}\n"
                  "akma:\n  enabled: true\n"
                  "  aanf: [{routing_indicators: [\"*\"], uri: \"https://127.0.0.1:%u\"}]\n",
      pki, pki, pki, d->p[P_UDM].port, d->dir, d->dir, d->p[P_AANF].port);
}

static bool write_aanf_config(demo_t *d)
{
  char path[PATH_MAX], pki[PATH_MAX];
  path_of(d, pki, "pki");
  path_of(d, path, "conf/aanf.yaml");
  return write_text(
      path,
      "# kedge demo: the AAnF (every key: conf/aanf.yaml of the source tree)\nlog: {level: info}\n"
      "sbi:\n  port: 0\n" TLS(
          "aanf") "aanf:\n  home_network: {mcc: \"001\", mnc: \"01\"}\n  master_key: %s/aanf.key\n"
                  "keystore: \"sqlite:%s/aanf-keys.sqlite\"\n"
                  "anchorkey: {allowed_consumers: [ausf.kedge.test]}\n"
                  "applicationkey:\n  allowed_consumers: [{name: ecs.kedge.test}, {name: "
                  "nef.kedge.test}]\n"
                  "  relays: [nef.kedge.test]\n",
      pki, pki, pki, d->dir, d->dir);
}

static bool write_nef_config(demo_t *d)
{
  char path[PATH_MAX], pki[PATH_MAX];
  path_of(d, pki, "pki");
  path_of(d, path, "conf/nef.yaml");
  return write_text(path,
                    "# kedge demo: the NEF (every key: conf/nef.yaml of the source tree)\n"
                    "log: {level: info}\nsbi:\n  port: 0\n" TLS(
                        "nef") "afs:\n  - {af_id: af.kedge.test, profiles: [kedge, bound, akma],\n"
                               "     home_networks: [{mcc: \"001\", mnc: \"01\"}]}\n"
                               "ausf:\n  groups:\n    - {name: home-001-01, mcc: \"001\", mnc: "
                               "\"01\", rids: [\"*\"],\n"
                               "       uris: [\"https://127.0.0.1:%u\"]}\n"
                               "aanf:\n  groups:\n    - {name: aanf-001-01, mcc: \"001\", mnc: "
                               "\"01\", rids: [\"*\"],\n"
                               "       uris: [\"https://127.0.0.1:%u\"]}\n"
                               "revocation: {enabled: true, notifiers: [ausf.kedge.test]}\n",
                    pki, pki, pki, d->p[P_AUSF].port, d->p[P_AANF].port);
}

static bool write_ecs_config(demo_t *d, int i)
{
  char path[PATH_MAX], pki[PATH_MAX];
  path_of(d, pki, "pki");
  path_of(d, path, "conf/%s.yaml", d->p[i].name);
  bool nef = i == P_ECS_OUT || i == P_ECS_AKMA_EXT, bound = i == P_ECS_BOUND;
  bool akma = i == P_ECS_AKMA || i == P_ECS_AKMA_EXT;
  const char *cert = nef ? "af" : "ecs";
  char ecs_id[96] = "";
  if (bound || akma)
    snprintf(ecs_id, sizeof(ecs_id), "  ecs_id: %s\n", nef ? DEMO_AKMA_EXT_FQDN : DEMO_AKMA_FQDN);
  /* issue 13: a revoked Kedge is refused at once, not after key_cache_ttl (the AKMA ECSs' keys
   * come from the AAnF, which sends no revocation notices) */
  char revocation[96] = "";
  if (!akma)
    snprintf(revocation, sizeof(revocation),
             "revocation: {enabled: true, notifiers: [%s], connections: close}\n",
             nef ? "nef.kedge.test" : "ausf.kedge.test");
  return write_text(
      path,
      "# kedge demo: %s (every key: conf/ecs.yaml of the source tree)\nlog: {level: info}\n"
      "sbi:\n  port: 0\n"
      "ecs:\n  psk_profile: %s\n%s"
      "key_source:\n  type: %s\n%s  uri: \"https://127.0.0.1:%u\"\n"
      "  tls: {ca: %s/ca.crt, cert: %s/%s.crt, key: %s/%s.key}\n"
      "%s"
      "service_provisioning:\n  edns:\n    - dnn: edge.example\n      eess:\n"
      "        - {ees_id: ees-1.edge.example, uri: \"https://ees-1.edge.example:8443\", "
      "eec_reg_conf: true}\n",
      d->p[i].role,
      bound  ? "bound"
      : akma ? "akma"
             : "kedge",
      ecs_id,
      nef    ? "nef"
      : akma ? "aanf"
             : "ausf",
      nef ? "  af_id: af.kedge.test\n" : "",
      nef               ? d->p[P_NEF].port
      : i == P_ECS_AKMA ? d->p[P_AANF].port
                        : d->p[P_AUSF].port,
      pki, pki, cert, pki, cert, revocation);
}

static bool write_ue_config(demo_t *d)
{
  char path[PATH_MAX], pki[PATH_MAX];
  path_of(d, pki, "pki");
  path_of(d, path, "conf/ue.yaml");
  return write_text(path,
                    "# kedge demo: the UE, its USIM and its key agent (conf/ue.yaml of the source "
                    "tree)\nlog: {level: info}\n"
                    "usim:\n  supi: " DEMO_SUPI "\n  k: " DEMO_K "\n  opc: " DEMO_OPC "\n"
                    "  routing_indicator: \"0\"\n  home_network: {mcc: \"001\", mnc: \"01\"}\n"
                    "  sqn_file: %s/run/ue.sqn\n  akma: true\n"
                    "  suci: {protection_scheme: A, home_network_public_key_id: 1,\n"
                    "         home_network_public_key: %s}\n"
                    "ausf: {uri: \"https://127.0.0.1:%u\", ca: %s/ca.crt, cert: %s/seaf.crt, "
                    "key: %s/seaf.key}\n"
                    "agent: {socket: %s/run/agent/agent.sock}\n",
                    d->dir, d->suci_public[0], d->p[P_AUSF].port, pki, pki, pki, d->dir);
}
#undef TLS

/* Home network key pairs for SUCIs (SPEC.md 8): hnPubKeyId 1 of profile A and 2 of profile
 * B, the private keys sealed under the UDM's master key as `kedge suci keygen` writes them. */
static bool suci_keys(demo_t *d)
{
  char path[PATH_MAX], why[400];
  kedge_master_key_t mk;
  path_of(d, path, "udm.key");
  if (kedge_master_key_load(path, &mk, why, sizeof(why)) != KEDGE_OK) {
    fprintf(stderr, "kedge demo: %s\n", why);
    return false;
  }
  bool ok = true;
  for (int i = 0; i < 2 && ok; i++) {
    kedge_ecies_profile_t profile = i ? KEDGE_ECIES_PROFILE_B : KEDGE_ECIES_PROFILE_A;
    uint8_t priv[KEDGE_ECIES_PRIVATE_LEN], pub[KEDGE_ECIES_PUBLIC_MAX];
    size_t len = 0;
    path_of(d, path, "suci-%d.key", i + 1);
    kedge_err_t err = kedge_ecies_keygen(profile, priv, pub, &len);
    if (err)
      snprintf(why, sizeof(why), "SUCI key: %s", kedge_strerror(err));
    else
      err = kedge_suci_key_file_write(path, &mk, profile, priv, why, sizeof(why));
    OPENSSL_cleanse(priv, sizeof(priv));
    if (err) {
      fprintf(stderr, "kedge demo: %s\n", why);
      ok = false;
    } else {
      kedge_hex_encode(pub, len, d->suci_public[i]);
    }
  }
  kedge_master_key_clear(&mk);
  return ok;
}

static bool set_up(demo_t *d)
{
  char path[PATH_MAX], why[300];
  const char *sub[] = {"conf", "logs", "run"};
  for (size_t i = 0; i < 3; i++) {
    path_of(d, path, "%s", sub[i]);
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
      fprintf(stderr, "kedge demo: cannot create %s: %s\n", path, strerror(errno));
      return false;
    }
  }
  path_of(d, path, "pki");
  if (kedge_pki_init(path) != KEDGE_OK || kedge_pki_issue(path, "aanf") != KEDGE_OK) {
    fprintf(stderr, "kedge demo: %s\n", kedge_pki_last_error());
    return false;
  }
  const char *keys[] = {"udm.key", "ausf.key", "aanf.key"};
  for (size_t i = 0; i < 3; i++) {
    path_of(d, path, "%s", keys[i]);
    if (kedge_master_key_create(path, why, sizeof(why)) != KEDGE_OK) {
      fprintf(stderr, "kedge demo: %s\n", why);
      return false;
    }
  }
  if (!suci_keys(d) || !write_configs(d))
    return false;
  char conf[PATH_MAX], k_file[PATH_MAX], opc_file[PATH_MAX];
  path_of(d, conf, "conf/udm.yaml");
  path_of(d, k_file, "conf/subscriber.k");
  path_of(d, opc_file, "conf/subscriber.opc");
  /* K and OPc from files, never on a command line (issue 12) */
  if (!write_text(k_file, "%s\n", DEMO_K) || !write_text(opc_file, "%s\n", DEMO_OPC))
    return false;
  char *add[] = {"kedge-udmd", "subscriber", "add",    "--config",   conf,     "--supi",
                 DEMO_SUPI,    "--k-file",   k_file,   "--opc-file", opc_file, "--rid",
                 "0",          "--edge",     "--akma", NULL};
  if (run(d, add, NULL, 0) != 0) {
    snprintf(d->failed_step, sizeof(d->failed_step), "provisioning the subscriber");
    path_of(d, d->failed_log, "logs/commands.log");
    return false;
  }
  if (!start(d, P_UDM) || !write_aanf_config(d) || !start(d, P_AANF) || !write_ausf_config(d) ||
      !start(d, P_AUSF) || !write_nef_config(d) || !start(d, P_NEF))
    return false;
  const int ecss[] = {P_ECS_IN, P_ECS_OUT, P_ECS_BOUND, P_ECS_AKMA, P_ECS_AKMA_EXT};
  for (size_t i = 0; i < sizeof(ecss) / sizeof(ecss[0]); i++)
    if (!write_ecs_config(d, ecss[i]) || !start(d, ecss[i]))
      return false;
  return write_ue_config(d);
}

/* ---- the steps ---- */

static void heading(const char *text)
{
  printf("\n%s\n", text);
}

/* Steps 0-2: the agent registers at start; the UE's and the AUSF's Kedge IDs must agree. */
static bool steps_0_to_2(demo_t *d)
{
  heading("Steps 0-2: 5G AKA (UE as SEAF -> AUSF -> UDM), Kedge and Kedge ID on both sides");
  double t = ((double)kedge_now_us() / 1000.0);
  bool ok = start(d, P_AGENT);
  show_trace(d);
  char line[2048] = "", ausf_line[2048] = "";
  ok = ok && log_has(d, &d->p[P_AGENT], "agent: registered", line, sizeof(line));
  const char *id = strstr(line, "Kedge ID ");
  if (id) {
    snprintf(d->kedge_id, sizeof(d->kedge_id), "%s", id + 9);
    d->kedge_id[strcspn(d->kedge_id, " \n")] = '\0';
  }
  const char *fp = strstr(line, "sha256:");
  printf("    step 1  UE:   Kedge ID %s, Kedge sha256:%.8s (the key itself never leaves memory)\n",
         d->kedge_id, fp ? fp + 7 : "?");
  char needle[400];
  snprintf(needle, sizeof(needle), " kedge_id=%s", d->kedge_id); /* "edge keys stored" */
  bool same =
      ok && d->kedge_id[0] && log_has(d, &d->p[P_AUSF], needle, ausf_line, sizeof(ausf_line));
  printf("    step 2  AUSF: %s\n",
         same ? "stored the same Kedge ID before dropping KAUSF" : "no matching key stored");
  /* TS 33.535 6.1 (SPEC.md 9): the UE derives K_AKMA and the A-KID (step 3); the AUSF derives
   * them too and registers them at the AAnF (steps 3-5) before KAUSF goes */
  line[0] = '\0';
  bool akma = ok && log_has(d, &d->p[P_AGENT], "agent: AKMA: A-KID ", line, sizeof(line));
  const char *ak = strstr(line, "A-KID ");
  if (ak) {
    snprintf(d->akid, sizeof(d->akid), "%s", ak + 6);
    d->akid[strcspn(d->akid, " \n")] = '\0';
  }
  printf("    AKMA 6.1 step 3  UE:   A-KID %s (K_AKMA stays in the UE)\n",
         d->akid[0] ? d->akid : "?");
  snprintf(needle, sizeof(needle), "registered at https://127.0.0.1:%u: A-KID %s",
           d->p[P_AANF].port, d->akid);
  bool registered = akma && d->akid[0] && log_has(d, &d->p[P_AUSF], needle, NULL, 0);
  printf("    AKMA 6.1 steps 3-5  AUSF: %s\n",
         registered ? "derived the same A-KID and K_AKMA and registered them at the AAnF"
                    : "no matching registration at the AAnF");
  char log[PATH_MAX];
  path_of(d, log, "logs/ue.log");
  verdict(d, true, ok && same && registered, "5G AKA, edge keys and the AKMA anchor key", log);
  same = same && registered;
  printf("    (%.0f ms)\n", ((double)kedge_now_us() / 1000.0) - t);
  return ok && same;
}

/* kedge-eec provision against one ECS; expect_ok false for the failures shown on purpose. */
static void provision(demo_t *d, const char *title, int ecs, const char *const *extra,
                      bool expect_ok)
{
  heading(title);
  char addr[64], sock[PATH_MAX], out[16384];
  snprintf(addr, sizeof(addr), "127.0.0.1:%u", d->p[ecs].port);
  path_of(d, sock, "run/agent/agent.sock");
  char *argv[24] = {"kedge-eec", "provision", "--ecs", addr, "--eec-id", "eec-demo-1", "--json"};
  int n = 7;
  bool has_key_file = false;
  for (; extra && *extra && n < 22; extra++) {
    argv[n++] = (char *)*extra;
    has_key_file |= !strcmp(*extra, "--key-file");
  }
  if (!has_key_file) {
    argv[n++] = "--agent";
    argv[n++] = sock;
  }
  argv[n] = NULL;
  double t = ((double)kedge_now_us() / 1000.0);
  int status = run(d, argv, out, sizeof(out));
  double ms = ((double)kedge_now_us() / 1000.0) - t;
  show_trace(d);
  if (status == 0) {
    json_t *resp = json_loads(out, 0, NULL);
    json_t *edn = json_array_get(json_object_get(resp, "ednCnfgInfo"), 0);
    json_t *ees = json_array_get(json_object_get(edn, "eess"), 0);
    printf("    EDGE-4: EES %s at %s for DNN %s\n",
           json_string_value(json_object_get(ees, "eesId")) ?: "?",
           json_string_value(json_object_get(json_object_get(ees, "endPt"), "uri")) ?: "?",
           json_string_value(json_object_get(json_object_get(edn, "ednConInfo"), "dnn")) ?: "?");
    json_decref(resp);
  } else {
    printf("    kedge-eec exit status %d (%s)\n", status,
           status == 5 ? "TLS handshake refused" : "see logs/commands.log");
  }
  char log[PATH_MAX];
  path_of(d, log, "logs/%s.log", d->p[ecs].name);
  verdict(d, expect_ok, status == 0, title, log);
  printf("    (%.0f ms)\n", ms);
}

/* A key file (mode 0600) holding 32 random octets: a wrong key for any Kedge ID. */
static bool random_key_file(const demo_t *d, char *path)
{
  uint8_t key[32];
  char hex[65];
  if (RAND_bytes(key, sizeof(key)) != 1)
    return false;
  kedge_hex_encode(key, sizeof(key), hex);
  path_of(d, path, "run/wrong.key");
  unlink(path);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  bool ok = fd >= 0 && write(fd, hex, 64) == 64;
  if (fd >= 0)
    close(fd);
  OPENSSL_cleanse(key, sizeof(key));
  return ok;
}

static void run_steps(demo_t *d)
{
  if (!steps_0_to_2(d))
    return;
  provision(d,
            "Steps 3-7: EEC <- UE agent, EEC -> ECS in the operator's domain (key from the AUSF)",
            P_ECS_IN, NULL, true);
  provision(d, "Steps 3-7 with 5.1/5.2/6.1/6.2: ECS outside the domain, key through the NEF",
            P_ECS_OUT, NULL, true);
  static const char *const bound[] = {"--profile", "bound", "--ecs-id", "ecs.kedge.test", NULL};
  provision(d, "Profile bound: the agent derives K_ECS for ecs.kedge.test; the ECS gets K_ECS",
            P_ECS_BOUND, bound, true);
  static const char *const akma[] = {"--profile", "akma", "--ecs-id", DEMO_AKMA_FQDN, NULL};
  provision(d,
            "Profile akma (TS 33.535 6.2 steps 1-6): the agent derives K_AF for " DEMO_AKMA_FQDN
            "; the ECS gets K_AF from the AAnF with the A-KID",
            P_ECS_AKMA, akma, true);
  static const char *const akma_ext[] = {"--profile", "akma", "--ecs-id", DEMO_AKMA_EXT_FQDN, NULL};
  provision(d,
            "Profile akma outside the domain (TS 33.535 6.3): the ECS asks the NEF's 3gpp-akma, "
            "the NEF the AAnF",
            P_ECS_AKMA_EXT, akma_ext, true);
  char key_file[PATH_MAX];
  if (!random_key_file(d, key_file))
    return;
  const char *const wrong[] = {"--kedge-id", d->kedge_id, "--key-file", key_file, NULL};
  provision(d, "On purpose: an EEC with the right Kedge ID but a wrong key (key file)", P_ECS_IN,
            wrong, false);
  static const char *const unknown[] = {
      "--kedge-id",
      "0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA@5gc.mnc001.mcc001.3gppnetwork.org",
      "--key-file", NULL, NULL};
  const char *unk[5];
  memcpy(unk, unknown, sizeof(unk));
  unk[3] = key_file;
  provision(d, "On purpose: an unknown Kedge ID (the ECS answers exactly as for a wrong key)",
            P_ECS_IN, unk, false);
  const char *const akma_wrong[] = {"--profile",    "akma",    "--ecs-id",
                                    DEMO_AKMA_FQDN, "--a-kid", d->akid,
                                    "--key-file",   key_file,  NULL};
  provision(d, "On purpose: profile akma with the right A-KID but a wrong K_AF (the same alert)",
            P_ECS_AKMA, akma_wrong, false);
}

/* ---- outputs, --up, --down ---- */

static void write_outputs(demo_t *d)
{
  char json[PATH_MAX], svg[PATH_MAX];
  path_of(d, json, "trace.json");
  path_of(d, svg, "flow.svg");
  bool ok =
      flow_write_json(d->flow, json) == KEDGE_OK &&
      flow_write_svg(d->flow, "kedge demo: 5G AKA, edge keys and AKMA, EEC to ECS over TLS-PSK",
                     svg) == KEDGE_OK;
  printf("\n%s %s and %s (the messages of this run, as the processes traced them)\n",
         ok ? "Wrote" : "Could not write", svg, json);
}

static void print_table(const demo_t *d)
{
  printf("kedge demo in %s (logs in %s/logs, configurations in %s/conf)\n", d->dir, d->dir, d->dir);
  for (int i = 0; i < N_PROCS - 1; i++)
    printf("  %-24s %-12s %s://127.0.0.1:%u   metrics http://127.0.0.1:%u/metrics\n", d->p[i].role,
           d->p[i].program, !strcmp(d->p[i].program, "kedge-ecsd") ? "tls-psk" : "https",
           d->p[i].port, d->p[i].metrics_port);
}

static bool write_endpoints(const demo_t *d)
{
  char path[PATH_MAX], pids[PATH_MAX];
  path_of(d, path, "endpoints.json");
  json_t *e = json_object();
  const char *keys[] = {"udm", "ausf", "nef"};
  for (int i = 0; i < 3; i++) {
    char uri[64];
    snprintf(uri, sizeof(uri), "https://127.0.0.1:%u", d->p[i].port);
    json_object_set_new(e, keys[i], json_string(uri));
  }
  const char *ecs[] = {"ecs_internal", "ecs_external", "ecs_bound"};
  for (int i = 0; i < 3; i++) {
    char hp[64];
    snprintf(hp, sizeof(hp), "127.0.0.1:%u", d->p[P_ECS_IN + i].port);
    json_object_set_new(e, ecs[i], json_string(hp));
  }
  char sock[PATH_MAX], pki[PATH_MAX], conf[PATH_MAX];
  path_of(d, sock, "run/agent/agent.sock");
  path_of(d, pki, "pki");
  path_of(d, conf, "conf");
  /* SPEC.md 9: the AAnF, the two akma ECSs and the FQDNs their K_AF is bound to */
  char aanf[64], akma_in[64], akma_ext[64];
  snprintf(aanf, sizeof(aanf), "https://127.0.0.1:%u", d->p[P_AANF].port);
  snprintf(akma_in, sizeof(akma_in), "127.0.0.1:%u", d->p[P_ECS_AKMA].port);
  snprintf(akma_ext, sizeof(akma_ext), "127.0.0.1:%u", d->p[P_ECS_AKMA_EXT].port);
  json_object_set_new(e, "aanf", json_string(aanf));
  json_object_set_new(e, "ecs_akma", json_string(akma_in));
  json_object_set_new(e, "ecs_akma_external", json_string(akma_ext));
  json_object_set_new(
      e, "akma_af_ids",
      json_pack("{s:s, s:s}", "ecs_akma", DEMO_AKMA_FQDN, "ecs_akma_external", DEMO_AKMA_EXT_FQDN));
  json_object_set_new(e, "ue_agent", json_string(sock));
  json_object_set_new(e, "pki_dir", json_string(pki));
  json_object_set_new(e, "conf_dir", json_string(conf));
  json_object_set_new(e, "eec_id", json_string("eec-demo-1"));
  json_object_set_new(e, "mcc", json_string("001"));
  json_object_set_new(e, "mnc", json_string("001"));
  /* SPEC.md 8: so that a SUCI made by any tool can be sent to the UDM */
  json_t *suci = json_array();
  for (int i = 0; i < 2; i++)
    json_array_append_new(suci, json_pack("{s:i, s:s, s:s}", "hnPubKeyId", i + 1, "profile",
                                          i ? "B" : "A", "public", d->suci_public[i]));
  json_object_set_new(e, "suci_keys", suci);
  bool ok = json_dump_file(e, path, JSON_INDENT(2)) == 0;
  json_decref(e);
  path_of(d, pids, "run/pids");
  FILE *f = fopen(pids, "w");
  for (int i = 0; f && i < N_PROCS; i++)
    fprintf(f, "%ld %s\n", (long)d->p[i].pid, d->p[i].program);
  return f && fclose(f) == 0 && ok;
}

static void print_try_this(const demo_t *d)
{
  printf("\nRunning. Try this (endpoints: %s/endpoints.json):\n", d->dir);
  printf("  %s/kedge-eec provision --ecs 127.0.0.1:%u --eec-id eec-demo-1 --agent "
         "%s/run/agent/agent.sock\n",
         d->bin, d->p[P_ECS_IN].port, d->dir);
  printf("  %s/kedge-eec keys --agent %s/run/agent/agent.sock --reveal\n", d->bin, d->dir);
  printf("  curl --http2 --cacert %s/pki/ca.crt --cert %s/pki/ecs.crt --key %s/pki/ecs.key \\\n"
         "       -H content-type:application/json -d '{\"kedgeId\":\"%s\"}' \\\n"
         "       https://127.0.0.1:%u/nausf-auth/v1/kedge-keys/retrieve\n",
         d->dir, d->dir, d->dir, d->kedge_id, d->p[P_AUSF].port);
  printf("  openssl s_client -connect 127.0.0.1:%u -tls1_3 -alpn h2 -psk_identity '%s' -psk "
         "$(kedge-eec keys ... --reveal | jq -r .kedge)\n",
         d->p[P_ECS_IN].port, d->kedge_id);
  printf("  openssl s_client -connect 127.0.0.1:%u -tls1_3 -alpn h2 -psk_identity '%s' -psk "
         "$(kedge-eec keys ... --reveal --profile akma --ecs-id " DEMO_AKMA_FQDN " | jq -r .kaf)\n",
         d->p[P_ECS_AKMA].port, d->akid);
  printf("  %s/kedge-ue register --agent %s/run/agent/agent.sock    # new 5G AKA, new keys;\n"
         "      the old Kedge ID is refused at once by the ECSs that fetched it (revocation)\n",
         d->bin, d->dir);
  printf("  curl --http2 --cacert %s/pki/ca.crt --cert %s/pki/seaf.crt --key %s/pki/seaf.key \\\n"
         "       -H content-type:application/json -d '{\"supi\":\"" DEMO_SUPI "\"}' \\\n"
         "       https://127.0.0.1:%u/nausf-auth/v1/ue-authentications/deregister\n"
         "      # deregistration: the UE's key is deleted and refused at once by the ECSs\n",
         d->dir, d->dir, d->dir, d->p[P_AUSF].port);
  printf("  %s/kedge derive suci --supi " DEMO_SUPI " --profile A --mcc 001 --mnc 01 --hn-key-id 1 "
         "--hn-public %s\n      # a SUCI the UDM de-conceals (endpoints.json: suci_keys)\n",
         d->bin, d->suci_public[0]);
  printf("Stop it with: %s/kedge demo --down %s\n", d->bin, d->dir);
}

static int down(const char *dir)
{
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/run/pids", dir);
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "kedge demo --down: %s: %s (was it started with --up?)\n", path,
            strerror(errno));
    return 1;
  }
  long pids[N_PROCS];
  char name[64];
  int n = 0;
  while (n < N_PROCS && fscanf(f, "%ld %63s", &pids[n], name) == 2)
    n++;
  fclose(f);
  for (int i = 0; i < n; i++)
    if (pids[i] > 0)
      kill((pid_t)pids[i], SIGTERM);
  for (int t = 0; t < 100; t++) {
    int alive = 0;
    for (int i = 0; i < n; i++)
      alive += pids[i] > 0 && kill((pid_t)pids[i], 0) == 0;
    if (!alive)
      break;
    usleep(50000);
  }
  for (int i = 0; i < n; i++)
    if (pids[i] > 0 && kill((pid_t)pids[i], 0) == 0)
      kill((pid_t)pids[i], SIGKILL);
  unlink(path);
  printf("stopped %d processes of %s\n", n, dir);
  return 0;
}

static const char usage[] =
    "Usage: kedge demo [--dir DIR] [--keylog FILE]\n"
    "       kedge demo --up DIR [--keylog FILE]\n"
    "       kedge demo --down DIR\n"
    "Runs the whole of kedge on 127.0.0.1: a development PKI, kedge-udmd, kedge-ausfd,\n"
    "kedge-nefd, kedge-aanfd, five kedge-ecsd (in the domain, outside it through the NEF,\n"
    "profile bound, profile akma with the AAnF and through the NEF's 3gpp-akma) and the UE key\n"
    "agent, then the steps of SPEC.md 0 and of AKMA (TS 33.535 6.1-6.3) with kedge-eec, and\n"
    "three failures on purpose. Writes DIR/flow.svg (a sequence diagram of what ran) and "
    "DIR/trace.json.\n"
    "  --dir DIR      where (default: a new /tmp/kedge-demo-XXXXXX); must be new or empty\n"
    "  --up DIR       set up and register, then leave everything running (DIR/endpoints.json)\n"
    "  --down DIR     stop what --up DIR started\n"
    "  --keylog FILE  TLS secrets of every connection in SSLKEYLOGFILE format, for a capture:\n"
    "                 tshark -i lo -o tls.keylog_file:FILE -Y http2\n"
    "Exit status 0 only if every expected success succeeded and every expected failure failed.\n";

int kedge_cmd_demo(int argc, char **argv)
{
  kedge_cli_option_t o[] = {{"dir", false, NULL},
                            {"up", false, NULL},
                            {"down", false, NULL},
                            {"keylog", false, NULL},
                            {"help", true, NULL}};
  const size_t n = sizeof(o) / sizeof(o[0]);
  char why[200];
  if (kedge_cli_parse(argc, argv, 1, o, n, NULL, 0, NULL, why, sizeof(why))) {
    fprintf(stderr, "kedge demo: %s\n", why);
    return 2;
  }
  if (kedge_cli_get(o, n, "help")) {
    fputs(usage, stdout);
    return 0;
  }
  if (kedge_cli_get(o, n, "down"))
    return down(kedge_cli_get(o, n, "down"));

  static demo_t d;
  memcpy(d.p, proc_table, sizeof(d.p));
  d.up = kedge_cli_get(o, n, "up") != NULL;
  d.keylog = kedge_cli_get(o, n, "keylog");
  const char *dir = d.up ? kedge_cli_get(o, n, "up") : kedge_cli_get(o, n, "dir");
  if (dir) {
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
      fprintf(stderr, "kedge demo: cannot create %s: %s\n", dir, strerror(errno));
      return 2;
    }
    char pki[PATH_MAX];
    snprintf(pki, sizeof(pki), "%s/pki", dir);
    if (access(pki, F_OK) == 0) {
      fprintf(stderr, "kedge demo: %s was used before: give a new or empty directory\n", dir);
      return 2;
    }
    char real[PATH_MAX];
    if (!realpath(dir, real) || strlen(real) >= sizeof(d.dir) - 64) {
      fprintf(stderr, "kedge demo: %s: unusable directory\n", dir);
      return 2;
    }
    memcpy(d.dir, real, strlen(real) + 1);
  } else {
    snprintf(d.dir, sizeof(d.dir), "/tmp/kedge-demo-XXXXXX");
    if (!mkdtemp(d.dir))
      return 1;
  }
  /* the other programs sit beside this one (build/bin, or the install's bin) */
  char self[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0)
    return 1;
  self[len] = '\0';
  *strrchr(self, '/') = '\0';
  if (strlen(self) >= sizeof(d.bin) || strlen(d.dir) >= sizeof(d.dir) - 64) {
    fprintf(stderr, "kedge demo: path too long\n");
    return 2;
  }
  memcpy(d.bin, self, strlen(self) + 1);
  if (flow_new(&d.flow) != KEDGE_OK)
    return 1;
  signal(SIGPIPE, SIG_IGN);

  double t0 = ((double)kedge_now_us() / 1000.0);
  bool ok = set_up(&d);
  if (ok)
    print_table(&d);
  if (ok && d.up) {
    ok = steps_0_to_2(&d) && write_endpoints(&d);
    if (ok) {
      print_try_this(&d);
      flow_free(d.flow);
      return 0;
    }
  } else if (ok) {
    run_steps(&d);
  }
  stop_all(&d);
  if (ok)
    write_outputs(&d);
  flow_free(d.flow);
  if (!ok || d.wrong) {
    fprintf(stderr, "\nkedge demo: FAILED at %s; read %s\n",
            d.failed_step[0] ? d.failed_step : "set-up", d.failed_log[0] ? d.failed_log : d.dir);
    return 1;
  }
  printf("\nAll %d expected successes succeeded and all %d expected failures failed, in %.1f s.\n",
         d.expected_ok, d.expected_fail, (((double)kedge_now_us() / 1000.0) - t0) / 1000.0);
  return 0;
}
