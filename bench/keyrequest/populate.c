/* bench-keyrequest populate: N edge keys written through kedge_keystore_put(), the AUSF's own
 * path after a 5G AKA (sealing, replacement by SUPI, group commit for SQLite, the Lua script
 * for Redis), without running N AKAs: Kedge and Kedge-TID are random (they are KDF outputs,
 * uniformly distributed, so the store sees what it would see), the SUPIs are distinct IMSIs.
 * A window of puts is kept outstanding so that the SQLite writer can commit many per fsync.
 *
 * Output file: one line per key, "KEDGE_ID KEDGE_HEX" (the load generator picks random lines
 * and, with --verify, checks the answer). Synthetic keys for a benchmark's temporary directory:
 * the file is created 0600 and run.sh removes it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "kedge/cli.h"
#include "kedge/edge.h"
#include "kedge/hex.h"
#include "kedge/keystore.h"
#include "kedge/work.h"
#include "keyrequest.h"

typedef struct population {
  kedge_keystore_t *ks;
  struct event_base *base;
  FILE *out;
  long count, next, done, failed, inflight, window;
  kedge_err_t first_err;
  int64_t lifetime_ms;
  kedge_plmn_t home;
  const char *rid;
  bool write_error;
} population_t;

static void refill(population_t *p);

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void stored(kedge_err_t err, void *arg)
{
  population_t *p = arg;
  p->inflight--;
  p->done++;
  if (err) {
    if (!p->failed)
      p->first_err = err;
    p->failed++;
  }
  if (p->done == p->count)
    event_base_loopbreak(p->base);
  else
    refill(p);
}

static void refill(population_t *p)
{
  while (p->inflight < p->window && p->next < p->count) {
    kedge_keystore_record_t rec;
    memset(&rec, 0, sizeof(rec));
    kedge_id_t id;
    memset(&id, 0, sizeof(id));
    snprintf(id.rid, sizeof(id.rid), "%s", p->rid);
    id.home = p->home;
    uint8_t rnd[KEDGE_KEY_LEN + KEDGE_TID_LEN];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
      memset(rnd, 0, sizeof(rnd)); /* caught below: an all-zero TID is refused */
    memcpy(rec.kedge, rnd, KEDGE_KEY_LEN);
    memcpy(id.tid, rnd + KEDGE_KEY_LEN, KEDGE_TID_LEN);
    OPENSSL_cleanse(rnd, sizeof(rnd));
    static const uint8_t zero[KEDGE_TID_LEN];
    if (!memcmp(id.tid, zero, KEDGE_TID_LEN) || kedge_id_format(&id, rec.kedge_id) != KEDGE_OK) {
      fprintf(stderr, "populate: cannot make key %ld\n", p->next);
      exit(1);
    }
    /* IMSI: MCC 001, MNC 01, a 10-digit MSIN (TS 23.003 2.2: 15 digits). The MSINs are
     * distinct (n * an odd number not divisible by 5 is a permutation modulo 10^10) and come
     * in no particular order, as UEs register. */
    unsigned long long msin = (unsigned long long)p->next * 2654435761ULL % 10000000000ULL;
    snprintf(rec.supi, sizeof(rec.supi), "imsi-00101%010llu", msin);
    /* created now, expiring a lifetime later: the AUSF's order (edge.key_lifetime) */
    rec.expiry_ms = now_ms() + p->lifetime_ms;
    char hex[2 * KEDGE_KEY_LEN + 1];
    kedge_hex_encode(rec.kedge, KEDGE_KEY_LEN, hex);
    if (fprintf(p->out, "%s %s\n", rec.kedge_id, hex) < 0)
      p->write_error = true;
    OPENSSL_cleanse(hex, sizeof(hex));
    kedge_err_t err = kedge_keystore_put(p->ks, &rec, stored, p);
    OPENSSL_cleanse(&rec, sizeof(rec));
    if (err) {
      fprintf(stderr, "populate: put: %s\n", kedge_strerror(err));
      exit(1);
    }
    p->next++;
    p->inflight++;
  }
}

static void usage(void)
{
  fprintf(stderr,
          "usage: bench-keyrequest populate --keystore URI --master-key FILE --count N --out FILE\n"
          "         [--window 8192] [--max-batch 512 (the store's: puts per transaction)]\n"
          "         [--lifetime-s 86400] [--rid 0] [--mcc 001 --mnc 01]\n");
}

int kr_populate(int argc, char **argv)
{
  kedge_cli_option_t opts[] = {{.name = "keystore"}, {.name = "master-key"}, {.name = "count"},
                               {.name = "out"},      {.name = "window"},     {.name = "lifetime-s"},
                               {.name = "rid"},      {.name = "mcc"},        {.name = "mnc"},
                               {.name = "max-batch"}};
  size_t n_opts = sizeof(opts) / sizeof(opts[0]);
  char why[512];
  if (kedge_cli_parse(argc, argv, 2, opts, n_opts, NULL, 0, NULL, why, sizeof(why))) {
    fprintf(stderr, "populate: %s\n", why);
    usage();
    return 2;
  }
  const char *uri = kedge_cli_get(opts, n_opts, "keystore"),
             *mk_file = kedge_cli_get(opts, n_opts, "master-key"),
             *count = kedge_cli_get(opts, n_opts, "count"),
             *out = kedge_cli_get(opts, n_opts, "out"),
             *window = kedge_cli_get(opts, n_opts, "window"),
             *lifetime = kedge_cli_get(opts, n_opts, "lifetime-s"),
             *rid = kedge_cli_get(opts, n_opts, "rid"), *mcc = kedge_cli_get(opts, n_opts, "mcc"),
             *mnc = kedge_cli_get(opts, n_opts, "mnc"),
             *max_batch = kedge_cli_get(opts, n_opts, "max-batch");
  if (!uri || !mk_file || !count || !out) {
    usage();
    return 2;
  }
  population_t p;
  memset(&p, 0, sizeof(p));
  p.count = atol(count);
  p.window = window ? atol(window) : 8192;
  p.rid = rid ? rid : "0";
  long lifetime_s = lifetime ? atol(lifetime) : 86400;
  if (p.count <= 0 || p.window <= 0 || lifetime_s <= 0 || kedge_rid_check(p.rid) ||
      kedge_plmn_parse(mcc ? mcc : "001", mnc ? mnc : "01", &p.home)) {
    usage();
    return 2;
  }

  kedge_master_key_t mk;
  if (kedge_master_key_load(mk_file, &mk, why, sizeof(why))) {
    fprintf(stderr, "populate: %s\n", why);
    return 1;
  }
  int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  p.out = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (!p.out) {
    perror(out);
    return 1;
  }
  setvbuf(p.out, NULL, _IOFBF, 1 << 20);
  if (kedge_work_threads_init() || !(p.base = event_base_new())) {
    fprintf(stderr, "populate: no event loop\n");
    return 1;
  }
  /* max_pending above the window: the window is the only limit here */
  kedge_keystore_options_t ko = {.max_pending = (unsigned)p.window + 1,
                                 .max_batch = max_batch ? (unsigned)atol(max_batch) : 0};
  kedge_err_t err = kedge_keystore_open(uri, &mk, p.base, &ko, &p.ks, why, sizeof(why));
  kedge_master_key_clear(&mk);
  if (err) {
    fprintf(stderr, "populate: %s: %s\n", uri, why);
    return 1;
  }
  p.lifetime_ms = (int64_t)lifetime_s * 1000;

  double start = kr_now();
  refill(&p);
  event_base_dispatch(p.base);
  double elapsed = kr_now() - start;
  kedge_keystore_close(p.ks);
  event_base_free(p.base);
  if (fclose(p.out) != 0)
    p.write_error = true;

  /* CPU time too: on a shared machine the wall time says as much about the neighbours */
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("populate: %ld keys through kedge_keystore_put (%s, window %ld) in %.1f s: %.0f puts/s, "
         "cpu %.1f s user + %.1f s sys",
         p.done, uri, p.window, elapsed, (double)p.done / elapsed,
         (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
  if (p.failed)
    printf(", %ld failed (first: %s)", p.failed, kedge_strerror(p.first_err));
  printf("\n");
  if (p.write_error) {
    fprintf(stderr, "populate: %s: write error\n", out);
    return 1;
  }
  return p.failed ? 1 : 0;
}
