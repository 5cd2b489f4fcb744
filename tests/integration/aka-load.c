/* kedge-aka-load: many UEs registering at once against a real kedge-ausfd and kedge-udmd, on
 * one libevent loop with ue_core's async API (ue_register). A fixture of the integration tests
 * (test-aka-load.sh: 1,000 concurrent registrations; test-aka-sqn-restart.sh: SQNs across a
 * UDM kill -9) and the client of bench/aka (5G AKA runs per second, latency percentiles).
 *
 *   kedge-aka-load generate --count N --out FILE.csv [--plmn 00101]
 *   kedge-aka-load run --config ue.yaml --subscribers FILE.csv [--concurrency C]
 *                  [--rounds R | --duration SECONDS] [--warmup SECONDS] [--clients N]
 *                  [--log FILE]
 *
 * `generate` writes subscribers (random K and OPc) in the CSV format of `kedge-udmd subscriber
 * import`. `run` makes one UE per CSV line from the template ue.yaml (AUSF URI, TLS files,
 * home and serving network; its usim.supi, k and opc are replaced by the line's), keeps each
 * USIM's SQNms in memory (ue_set_sqn_in_memory: no fsync per registration on the loop) and
 * shares `--clients` SBI clients (one HTTP/2 connection each) among all UEs. It keeps
 * `concurrency` registrations in flight, each on an idle UE (a UE has one registration at a
 * time), for R rounds over all UEs or for a duration. With --log it writes one line per
 * registration: SUPI, accepted SQN (12 hex digits, or "-"), outcome, resynchronised (0/1),
 * milliseconds, and for a failure the reason. It ends with a summary and one machine-readable
 * line "result registrations=... registered=... failed=... resynchronised=... seconds=...
 * rate=... p50_ms=... p90_ms=... p99_ms=... max_ms=... cpu_us_per_run=..." (this process's
 * CPU, user + system, from the first registration to the last, over every registration it
 * ran, warm-up included: the load side's share of the machine in bench/aka). Exit status 0 when
 * every registration succeeded, 1 when one failed, 2 on bad usage or set-up. SIGTERM or SIGINT ends
 * a run early: no new registration starts, those in flight end, the summary follows. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "kedge/cli.h"
#include "kedge/daemon.h"
#include "kedge/hex.h"
#include "kedge/log.h"
#include "kedge/milenage.h"
#include "kedge/sqn.h"
#include "ue.h"

#define PROGRAM       "kedge-aka-load"
#define LINE_MAX_LEN  1024
#define UES_MAX       1000000
#define CLIENTS_MAX   64
#define N_OUTCOMES    (UE_FAIL_LOCAL + 1)
#define REASONS_SHOWN 5 /* failure reasons printed on stderr; the log has all */

static const char usage[] =
    "Usage: " PROGRAM " generate --count N --out FILE.csv [--plmn MCCMNC]\n"
    "       " PROGRAM " run --config ue.yaml --subscribers FILE.csv [--concurrency C]\n"
    "                      [--rounds R | --duration SECONDS] [--warmup SECONDS]\n"
    "                      [--clients N] [--log FILE]\n"
    "\n"
    "Load driver for 5G AKA (integration tests, bench/aka): many kedge-ue UEs on one event\n"
    "loop, SQNms in memory, sharing N HTTP/2 connections to the AUSF (default 4).\n"
    "generate: N subscribers imsi-<MCCMNC><MSIN> (default PLMN 00101) with random K, OPc,\n"
    "          in the CSV format of `kedge-udmd subscriber import`.\n"
    "run:      one UE per CSV line (columns supi, k, opc or op, optional sqn: the USIM's\n"
    "          SQNms); the rest of each UE's configuration from ue.yaml. C registrations in\n"
    "          flight (default 100), R rounds over all UEs (default 1) or for SECONDS;\n"
    "          registrations that start during the warm-up are not counted.\n"
    "Exit status: 0 all registered, 1 a registration failed, 2 bad usage or set-up.\n";

typedef struct subscriber_line {
  kedge_supi_t supi;
  kedge_aka_credentials_t cred;
  uint64_t sqn_ms;
} subscriber_line_t;

typedef struct load load_t;

typedef struct slot {
  load_t *load;
  ue_t *ue;
  const char *supi; /* in the UE's configuration copy: kept for the log */
  size_t next_idle; /* idle ring */
} slot_t;

struct load {
  struct event_base *base;
  kedge_sbi_client_t *clients[CLIENTS_MAX];
  size_t n_clients;
  slot_t *slots;
  size_t n_slots;
  size_t *idle; /* ring of idle slot indices */
  size_t idle_head, idle_count;

  size_t concurrency, in_flight;
  size_t started, limit;       /* limit: registrations to start (rounds) or SIZE_MAX */
  double deadline, warmup_end; /* seconds on the monotonic clock; 0: none */
  bool stop;
  kedge_err_t local_err;

  /* counted results (started after the warm-up) */
  size_t counted, registered, resynchronised, outcomes[N_OUTCOMES], reasons_shown;
  double *latency_ms; /* of the registered ones */
  size_t n_latency, latency_cap;
  double first_start, last_end;
  double cpu_us; /* this process's CPU while registrations ran (getrusage) */
  FILE *log;
};

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail_usage(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, PROGRAM ": ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, " (try --help)\n");
  va_end(ap);
  return KEDGE_EXIT_USAGE;
}

/* A decimal option within [min, max]; false when malformed. */
static bool parse_count(const char *text, unsigned long long min, unsigned long long max,
                        size_t *out)
{
  char *end = NULL;
  errno = 0;
  unsigned long long v = text ? strtoull(text, &end, 10) : 0;
  if (!text || !text[0] || *end || errno || v < min || v > max || text[0] == '-')
    return false;
  *out = (size_t)v;
  return true;
}

static bool parse_seconds(const char *text, double *out)
{
  char *end = NULL;
  double v = text ? strtod(text, &end) : 0;
  if (!text || !text[0] || *end || !isfinite(v) || v < 0 || v > 86400)
    return false;
  *out = v;
  return true;
}

/* ---- generate -------------------------------------------------------------------------- */

static int generate(const char *count_text, const char *out_path, const char *plmn)
{
  size_t count = 0;
  if (!parse_count(count_text, 1, UES_MAX, &count))
    return fail_usage("--count: a number from 1 to 1000000, not '%.32s'",
                      count_text ? count_text : "");
  if (!out_path || !out_path[0])
    return fail_usage("%s", "--out: required");
  size_t lp = strlen(plmn);
  if ((lp != 5 && lp != 6) || strspn(plmn, "0123456789") != lp)
    return fail_usage("--plmn: MCC and MNC, 5 or 6 digits, not '%.16s'", plmn);
  /* the file holds K and OPc: mode 0600, as kedge-udmd subscriber import requires */
  int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (!f) {
    if (fd >= 0)
      close(fd);
    fprintf(stderr, PROGRAM ": %s: %s\n", out_path, strerror(errno));
    return KEDGE_EXIT_FAILURE;
  }
  /* TS 23.003 2.2: IMSI = MCC MNC MSIN, 15 digits at most */
  size_t msin_digits = 15 - lp;
  fprintf(f, "supi,k,opc\n");
  bool ok = true;
  for (size_t i = 1; i <= count && ok; i++) {
    uint8_t keys[32];
    char k[33], opc[33];
    ok = RAND_bytes(keys, sizeof(keys)) == 1;
    kedge_hex_encode(keys, 16, k);
    kedge_hex_encode(keys + 16, 16, opc);
    ok = ok && fprintf(f, "imsi-%s%0*zu,%s,%s\n", plmn, (int)msin_digits, i, k, opc) > 0;
    OPENSSL_cleanse(keys, sizeof(keys));
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(opc, sizeof(opc));
  }
  if (fclose(f) != 0 || !ok) {
    fprintf(stderr, PROGRAM ": %s: cannot write\n", out_path);
    return KEDGE_EXIT_FAILURE;
  }
  return KEDGE_EXIT_OK;
}

/* ---- the subscribers file -------------------------------------------------------------- */

/* Splits a CSV line (no quoting: kedge's subscriber files have none) in place. */
static size_t split_csv(char *line, char **fields, size_t max)
{
  size_t n = 0;
  line[strcspn(line, "\r\n")] = '\0';
  for (char *p = line; n < max; p++) {
    fields[n++] = p;
    p = strchr(p, ',');
    if (!p)
      break;
    *p = '\0';
  }
  return n;
}

static int column(char **names, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], name) == 0)
      return (int)i;
  return -1;
}

/* Reads every line into a growing array; `why` names the line on error. */
static kedge_err_t read_subscribers(const char *path, subscriber_line_t **out, size_t *count,
                                    char *why, size_t why_size)
{
  *out = NULL;
  *count = 0;
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(why, why_size, "%s: %s", path, strerror(errno));
    return KEDGE_ERR_IO;
  }
  char line[LINE_MAX_LEN];
  char *names[16], *fields[16];
  size_t n_names = 0, lineno = 1, cap = 0;
  subscriber_line_t *subs = NULL;
  kedge_err_t err = KEDGE_OK;
  int c_supi = -1, c_k = -1, c_opc = -1, c_op = -1, c_sqn = -1;
  char header[LINE_MAX_LEN];
  if (!fgets(header, sizeof(header), f)) {
    snprintf(why, why_size, "%s: empty", path);
    err = KEDGE_ERR_CONFIG;
  } else {
    n_names = split_csv(header, names, 16);
    c_supi = column(names, n_names, "supi");
    c_k = column(names, n_names, "k");
    c_opc = column(names, n_names, "opc");
    c_op = column(names, n_names, "op");
    c_sqn = column(names, n_names, "sqn");
    if (c_supi < 0 || c_k < 0 || (c_opc < 0) == (c_op < 0)) {
      snprintf(why, why_size, "%s:1: the header must name supi, k and one of opc, op", path);
      err = KEDGE_ERR_CONFIG;
    }
  }
  while (!err && fgets(line, sizeof(line), f)) {
    lineno++;
    if (!strchr(line, '\n') && !feof(f)) {
      snprintf(why, why_size, "%s:%zu: line too long", path, lineno);
      err = KEDGE_ERR_CONFIG;
      break;
    }
    if (line[0] == '\n' || line[0] == '\r' || line[0] == '\0')
      continue;
    if (*count >= UES_MAX) {
      snprintf(why, why_size, "%s: more than %d subscribers", path, UES_MAX);
      err = KEDGE_ERR_TOO_BIG;
      break;
    }
    if (*count == cap) {
      size_t grown_cap = cap ? 2 * cap : 1024;
      subscriber_line_t *grown = realloc(subs, grown_cap * sizeof(*subs));
      if (!grown) {
        err = KEDGE_ERR_NOMEM;
        break;
      }
      subs = grown;
      cap = grown_cap;
    }
    subscriber_line_t *s = &subs[*count];
    memset(s, 0, sizeof(*s));
    size_t n = split_csv(line, fields, 16);
    uint8_t op[16], sqn[KEDGE_SQN_LEN];
    const char *bad = NULL;
    if (n != n_names)
      bad = "wrong number of columns";
    else if (kedge_supi_parse(fields[c_supi], &s->supi) != KEDGE_OK)
      bad = "supi";
    else if (kedge_hex_decode(fields[c_k], s->cred.k, 16) != KEDGE_OK)
      bad = "k: 32 hex digits";
    else if (c_opc >= 0 && kedge_hex_decode(fields[c_opc], s->cred.opc, 16) != KEDGE_OK)
      bad = "opc: 32 hex digits";
    else if (c_op >= 0 && (kedge_hex_decode(fields[c_op], op, 16) != KEDGE_OK ||
                           kedge_milenage_opc(s->cred.k, op, s->cred.opc) != KEDGE_OK))
      bad = "op: 32 hex digits";
    else if (c_sqn >= 0 && fields[c_sqn][0] &&
             kedge_hex_decode(fields[c_sqn], sqn, sizeof(sqn)) != KEDGE_OK)
      bad = "sqn: 12 hex digits";
    else if (c_sqn >= 0 && fields[c_sqn][0])
      s->sqn_ms = kedge_sqn_from_bytes(sqn);
    OPENSSL_cleanse(op, sizeof(op));
    OPENSSL_cleanse(line, sizeof(line));
    if (bad) {
      OPENSSL_cleanse(s, sizeof(*s));
      snprintf(why, why_size, "%s:%zu: %s", path, lineno, bad);
      err = KEDGE_ERR_CONFIG;
      break;
    }
    (*count)++;
  }
  fclose(f);
  if (!err && *count == 0) {
    snprintf(why, why_size, "%s: no subscribers", path);
    err = KEDGE_ERR_CONFIG;
  }
  if (err) {
    if (subs)
      OPENSSL_cleanse(subs, cap * sizeof(*subs));
    free(subs);
    *count = 0;
    return err;
  }
  *out = subs;
  return KEDGE_OK;
}

/* ---- running --------------------------------------------------------------------------- */

static void start_more(load_t *load);

/* User + system CPU of this process so far, in microseconds. */
static double cpu_now_us(void)
{
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0)
    return 0;
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void record(load_t *load, slot_t *slot, const ue_result_t *r, double started)
{
  if (load->log) {
    char sqn[16] = "-";
    if (r->sqn_accepted)
      snprintf(sqn, sizeof(sqn), "%012" PRIx64, r->sqn);
    fprintf(load->log, "%s %s %s %d %.3f%s%s\n", slot->supi, sqn, ue_outcome_name(r->outcome),
            r->resynchronised ? 1 : 0, r->elapsed_ms, r->outcome == UE_REGISTERED ? "" : " ",
            r->outcome == UE_REGISTERED ? "" : r->why);
  }
  if (load->warmup_end && started < load->warmup_end)
    return;
  load->counted++;
  load->outcomes[r->outcome < N_OUTCOMES ? r->outcome : UE_FAIL_LOCAL]++;
  if (r->resynchronised)
    load->resynchronised++;
  if (r->outcome == UE_REGISTERED) {
    load->registered++;
    if (load->n_latency < load->latency_cap)
      load->latency_ms[load->n_latency++] = r->elapsed_ms;
  } else if (load->reasons_shown < REASONS_SHOWN) {
    load->reasons_shown++;
    fprintf(stderr, PROGRAM ": %s: %s: %s\n", slot->supi, ue_outcome_name(r->outcome), r->why);
  }
  if (load->first_start == 0 || started < load->first_start)
    load->first_start = started;
  load->last_end = now_s();
}

static void on_registered(const ue_result_t *r, void *arg)
{
  slot_t *slot = arg;
  load_t *load = slot->load;
  /* elapsed_ms is measured by the UE from ue_register to the end */
  record(load, slot, r, now_s() - r->elapsed_ms / 1000.0);
  load->in_flight--;
  size_t i = (size_t)(slot - load->slots);
  load->idle[(load->idle_head + load->idle_count++) % load->n_slots] = i;
  start_more(load);
  if (load->in_flight == 0)
    event_base_loopbreak(load->base);
}

static void start_more(load_t *load)
{
  while (!load->stop && load->in_flight < load->concurrency && load->idle_count > 0) {
    if (load->started >= load->limit || (load->deadline && now_s() >= load->deadline)) {
      load->stop = true;
      break;
    }
    size_t i = load->idle[load->idle_head];
    load->idle_head = (load->idle_head + 1) % load->n_slots;
    load->idle_count--;
    kedge_err_t err = ue_register(load->slots[i].ue, on_registered, &load->slots[i]);
    if (err) { /* local trouble (memory): end the run rather than spin */
      fprintf(stderr, PROGRAM ": cannot start a registration: %s\n", kedge_strerror(err));
      load->local_err = err;
      load->stop = true;
      break;
    }
    load->in_flight++;
    load->started++;
  }
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
  load_t *load = arg;
  load->stop = true;
  if (load->in_flight == 0)
    event_base_loopbreak(load->base);
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static double percentile(const double *v, size_t n, double p)
{
  if (n == 0)
    return 0;
  size_t rank = (size_t)ceil(p / 100.0 * (double)n);
  return v[rank ? rank - 1 : 0];
}

static void summarise(load_t *load, size_t n_ues)
{
  qsort(load->latency_ms, load->n_latency, sizeof(double), cmp_double);
  double seconds = load->last_end > load->first_start ? load->last_end - load->first_start : 0;
  double rate = seconds > 0 ? (double)load->registered / seconds : 0;
  double cpu_per_run = load->started ? load->cpu_us / (double)load->started : 0;
  size_t failed = load->counted - load->registered;
  const double *v = load->latency_ms;
  size_t n = load->n_latency;
  printf("aka-load: %zu UEs, %zu in flight, %zu connection(s): %zu registrations, %zu registered, "
         "%zu failed, %zu resynchronised\n",
         n_ues, load->concurrency, load->n_clients, load->counted, load->registered, failed,
         load->resynchronised);
  for (int o = 1; o < N_OUTCOMES; o++)
    if (load->outcomes[o])
      printf("aka-load:   %zu %s\n", load->outcomes[o], ue_outcome_name((ue_outcome_t)o));
  printf("aka-load: %.3f s, %.1f registrations/s; latency ms: p50 %.2f, p90 %.2f, p99 %.2f, "
         "max %.2f\n",
         seconds, rate, percentile(v, n, 50), percentile(v, n, 90), percentile(v, n, 99),
         n ? v[n - 1] : 0);
  printf("aka-load: %.0f us CPU per registration in this process (%zu registrations, warm-up "
         "included)\n",
         cpu_per_run, load->started);
  printf("result registrations=%zu registered=%zu failed=%zu resynchronised=%zu seconds=%.3f "
         "rate=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f cpu_us_per_run=%.1f\n",
         load->counted, load->registered, failed, load->resynchronised, seconds, rate,
         percentile(v, n, 50), percentile(v, n, 90), percentile(v, n, 99), n ? v[n - 1] : 0,
         cpu_per_run);
  fflush(stdout);
}

typedef struct run_options {
  const char *config, *subscribers, *log;
  size_t concurrency, rounds, clients;
  double duration, warmup;
} run_options_t;

static int run(const run_options_t *o)
{
  char why[KEDGE_CONFIG_ERR_MAX + UE_PATH_MAX];
  ue_config_t tmpl;
  if (ue_config_load(o->config, &tmpl, why, sizeof(why))) {
    fprintf(stderr, "%s\n", why);
    return KEDGE_EXIT_USAGE;
  }
  kedge_log_init(PROGRAM, tmpl.log_level, tmpl.log_json);
  subscriber_line_t *subs = NULL;
  size_t n_subs = 0;
  if (read_subscribers(o->subscribers, &subs, &n_subs, why, sizeof(why))) {
    fprintf(stderr, PROGRAM ": %s\n", why);
    ue_config_clear(&tmpl);
    return KEDGE_EXIT_USAGE;
  }

  int rc = KEDGE_EXIT_USAGE;
  load_t load = {.concurrency = o->concurrency, .n_slots = n_subs};
  load.base = event_base_new();
  load.slots = calloc(n_subs, sizeof(*load.slots));
  load.idle = calloc(n_subs, sizeof(*load.idle));
  if (!load.base || !load.slots || !load.idle) {
    fprintf(stderr, PROGRAM ": out of memory\n");
    goto out;
  }
  kedge_sbi_client_options_t copts;
  kedge_sbi_client_options_init(&copts);
  copts.ca_file = tmpl.ca;
  copts.cert_file = tmpl.cert;
  copts.key_file = tmpl.key;
  copts.timeout_ms = tmpl.timeout_ms;
  copts.max_connections = 1; /* --clients is the number of connections */
  for (size_t i = 0; i < o->clients; i++, load.n_clients++)
    if (kedge_sbi_client_new(load.base, &copts, &load.clients[i]) != KEDGE_OK) {
      fprintf(stderr, "%s: ausf: cannot use ca, cert and key (see the log line above)\n",
              o->config);
      goto out;
    }
  for (size_t i = 0; i < n_subs; i++) {
    ue_config_t cfg = tmpl;
    cfg.usim.supi = subs[i].supi;
    cfg.usim.cred = subs[i].cred;
    kedge_err_t err = ue_new_with_client(&cfg, load.clients[i % load.n_clients], &load.slots[i].ue);
    ue_config_clear(&cfg);
    if (err) {
      fprintf(stderr, PROGRAM ": cannot create UE %zu: %s\n", i + 1, kedge_strerror(err));
      goto out;
    }
    ue_set_sqn_in_memory(load.slots[i].ue, subs[i].sqn_ms);
    ue_set_step_log(load.slots[i].ue, false); /* the tool reads none of it */
    load.slots[i].load = &load;
    load.slots[i].supi = subs[i].supi.value;
    load.idle[i] = i;
  }
  load.idle_count = n_subs;
  if (o->log) {
    load.log = fopen(o->log, "w");
    if (!load.log) {
      fprintf(stderr, PROGRAM ": %s: %s\n", o->log, strerror(errno));
      goto out;
    }
    setvbuf(load.log, NULL, _IOLBF, 0); /* tests read it while the run goes on */
  }
  load.limit = o->duration > 0 ? SIZE_MAX : o->rounds * n_subs;
  load.latency_cap = o->duration > 0 ? 1u << 22 : load.limit;
  load.latency_ms = malloc(load.latency_cap * sizeof(double));
  if (!load.latency_ms) {
    fprintf(stderr, PROGRAM ": out of memory\n");
    goto out;
  }
  /* SIGTERM, SIGINT: start nothing more, let what is in flight end, print the summary. */
  struct event *sigs[2] = {evsignal_new(load.base, SIGTERM, on_signal, &load),
                           evsignal_new(load.base, SIGINT, on_signal, &load)};
  for (int i = 0; i < 2; i++)
    if (!sigs[i] || evsignal_add(sigs[i], NULL) != 0) {
      fprintf(stderr, PROGRAM ": cannot watch signals\n");
      goto out_signals;
    }
  double t0 = now_s();
  if (o->warmup > 0)
    load.warmup_end = t0 + o->warmup;
  if (o->duration > 0)
    load.deadline = t0 + o->warmup + o->duration;
  double cpu0 = cpu_now_us();
  start_more(&load);
  while (load.in_flight > 0)
    if (event_base_dispatch(load.base) < 0)
      break;
  load.cpu_us = cpu_now_us() - cpu0;
  summarise(&load, n_subs);
  rc = load.local_err || load.counted == 0 ? KEDGE_EXIT_USAGE
       : load.registered == load.counted   ? KEDGE_EXIT_OK
                                           : KEDGE_EXIT_FAILURE;
out_signals:
  for (int i = 0; i < 2; i++)
    if (sigs[i])
      event_free(sigs[i]);
out:
  if (load.log)
    fclose(load.log);
  for (size_t i = 0; load.slots && i < n_subs; i++)
    ue_free(load.slots[i].ue);
  for (size_t i = 0; i < load.n_clients; i++)
    kedge_sbi_client_free(load.clients[i]);
  if (load.base)
    event_base_free(load.base);
  free(load.slots);
  free(load.idle);
  free(load.latency_ms);
  OPENSSL_cleanse(subs, n_subs * sizeof(*subs));
  free(subs);
  ue_config_clear(&tmpl);
  return rc;
}

int main(int argc, char **argv)
{
  kedge_log_init(PROGRAM, KEDGE_LOG_WARN, false);
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? KEDGE_EXIT_USAGE : KEDGE_EXIT_OK;
  }
  kedge_cli_option_t opt[] = {
      {"count", false, NULL},   {"out", false, NULL},         {"plmn", false, NULL},
      {"config", false, NULL},  {"subscribers", false, NULL}, {"concurrency", false, NULL},
      {"rounds", false, NULL},  {"duration", false, NULL},    {"warmup", false, NULL},
      {"clients", false, NULL}, {"log", false, NULL},         {"help", true, NULL},
  };
  const size_t n = sizeof(opt) / sizeof(opt[0]);
  const char *verb[1] = {NULL};
  size_t n_verb = 0;
  char why[KEDGE_CONFIG_ERR_MAX];
  if (kedge_cli_parse(argc, argv, 1, opt, n, verb, 1, &n_verb, why, sizeof(why)))
    return fail_usage("%s", why);
  if (kedge_cli_get(opt, n, "help")) {
    fputs(usage, stdout);
    return KEDGE_EXIT_OK;
  }
  if (n_verb == 1 && !strcmp(verb[0], "generate")) {
    const char *plmn = kedge_cli_get(opt, n, "plmn");
    return generate(kedge_cli_get(opt, n, "count"), kedge_cli_get(opt, n, "out"),
                    plmn ? plmn : "00101");
  }
  if (n_verb != 1 || strcmp(verb[0], "run") != 0)
    return fail_usage("%s", "expected a command: generate or run");

  run_options_t o = {.config = kedge_cli_get(opt, n, "config"),
                     .subscribers = kedge_cli_get(opt, n, "subscribers"),
                     .log = kedge_cli_get(opt, n, "log"),
                     .concurrency = 100,
                     .rounds = 1,
                     .clients = 4};
  const char *v;
  if (!o.config || !o.subscribers)
    return fail_usage("%s", "run: --config and --subscribers are required");
  if ((v = kedge_cli_get(opt, n, "concurrency")) && !parse_count(v, 1, UES_MAX, &o.concurrency))
    return fail_usage("--concurrency: a number from 1 to 1000000, not '%.32s'", v);
  if ((v = kedge_cli_get(opt, n, "rounds")) && !parse_count(v, 1, 1000000, &o.rounds))
    return fail_usage("--rounds: a number from 1 to 1000000, not '%.32s'", v);
  if ((v = kedge_cli_get(opt, n, "clients")) && !parse_count(v, 1, CLIENTS_MAX, &o.clients))
    return fail_usage("--clients: a number from 1 to 64, not '%.32s'", v);
  if ((v = kedge_cli_get(opt, n, "duration")) &&
      (!parse_seconds(v, &o.duration) || o.duration <= 0))
    return fail_usage("--duration: seconds, more than 0, not '%.32s'", v);
  if ((v = kedge_cli_get(opt, n, "warmup")) && !parse_seconds(v, &o.warmup))
    return fail_usage("--warmup: seconds, not '%.32s'", v);
  if (kedge_cli_get(opt, n, "rounds") && o.duration > 0)
    return fail_usage("%s", "--rounds and --duration exclude each other");
  return run(&o);
}
