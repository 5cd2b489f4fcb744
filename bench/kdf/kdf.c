/* bench/kdf: derivation rates of libkedge beside OpenSSL's own one-shot primitives, measured in
 * the same run on the same inputs, printed as figures and ratios (never asserted).
 *
 *   kedge+id   Kedge and Kedge ID from KAUSF (SPEC.md 2): two KDFs under one keyed HMAC state,
 *              the base64url TID and the NAI.
 *   chain      one Milenage + KAUSF chain: the 5G HE AV (f1-f5, XRES*, KAUSF).
 *   hmac       OpenSSL's one-shot HMAC(): HMAC-SHA-256(KAUSF, S(Kedge)).
 *   hmac-pf    the same through a pre-fetched EVP_MAC with a new context per call.
 *   aes        one-shot AES-128: new context, key set-up, one block, free (pre-fetched cipher).
 *
 * Target (issue 2): kedge+id costs no more than 2.2 one-shot HMACs.
 * With KEDGE_BENCH_OUT: the result file kdf.json (bench/report/result.h), CPU microseconds per
 * operation of this thread (CLOCK_THREAD_CPUTIME_ID: other load on the machine does not count).
 * Usage: bench-kdf [SECONDS_PER_MEASUREMENT] (default 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "kedge/aka.h"
#include "kedge/edge.h"
#include "kedge/hex.h"
#include "kedge/identity.h"
#include "result.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile unsigned sink; /* keeps the compiler from dropping the work */

typedef void (*op_fn)(void);

/* Operations per second of `op`, best of three runs of `seconds` each; *cpu_us: the least CPU
 * microseconds per operation of this thread over those runs. */
static double rate(op_fn op, double seconds, double *cpu_us)
{
  double best = 0;
  *cpu_us = 0;
  for (int round = 0; round < 3; round++) {
    long n = 0;
    double start = now(), cpu0 = cpu_now(), elapsed;
    do {
      for (int i = 0; i < 256; i++)
        op();
      n += 256;
      elapsed = now() - start;
    } while (elapsed < seconds);
    double cpu = (cpu_now() - cpu0) / n * 1e6;
    if (n / elapsed > best)
      best = n / elapsed;
    if (*cpu_us == 0 || cpu < *cpu_us)
      *cpu_us = cpu;
  }
  return best;
}

static uint8_t kausf[32], s_kedge[64], rand_[16], amf[2] = {0xb9, 0xb9};
static size_t s_kedge_len;
static kedge_supi_t supi;
static kedge_plmn_t home;
static kedge_aka_credentials_t cred;
static char snn[KEDGE_SNN_LEN + 1];
static EVP_MAC *hmac_alg;
static EVP_CIPHER *aes_alg;

static void op_kedge_and_id(void)
{
  uint8_t kedge[32];
  char id[KEDGE_ID_MAX + 1];
  if (kedge_derive_kedge_and_id(kausf, &supi, "0", &home, kedge, id))
    abort();
  sink += kedge[0] + (unsigned char)id[5];
}

static void op_chain(void)
{
  kedge_he_av_t av;
  if (kedge_aka_generate_he_av(&cred, rand_, 0xff9bb4d0b607ULL, amf, snn, &av))
    abort();
  sink += av.kausf[0];
}

static void op_hmac(void)
{
  uint8_t out[32];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), kausf, 32, s_kedge, s_kedge_len, out, &len))
    abort();
  sink += out[0];
}

static void op_hmac_prefetched(void)
{
  uint8_t out[32];
  size_t len = 0;
  EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac_alg);
  OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
                    OSSL_PARAM_construct_end()};
  if (!ctx || !EVP_MAC_init(ctx, kausf, 32, p) || !EVP_MAC_update(ctx, s_kedge, s_kedge_len) ||
      !EVP_MAC_final(ctx, out, &len, sizeof(out)))
    abort();
  EVP_MAC_CTX_free(ctx);
  sink += out[0];
}

static void op_aes(void)
{
  uint8_t out[32];
  int len = 0;
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (!ctx || !EVP_EncryptInit_ex2(ctx, aes_alg, cred.k, NULL, NULL) ||
      !EVP_CIPHER_CTX_set_padding(ctx, 0) || !EVP_EncryptUpdate(ctx, out, &len, rand_, 16))
    abort();
  EVP_CIPHER_CTX_free(ctx);
  sink += out[0];
}

int main(int argc, char **argv)
{
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  if (seconds <= 0)
    seconds = 1.0;
  /* Inputs of tests/vectors: [kedge-1] and TS 35.208 set 1. */
  kedge_hex_decode("474698caf02cc715db2ec0726510cfee6caa5bb1a649cb01224f2e23af94de1b", kausf, 32);
  kedge_hex_decode_var("fe454447450004303031303130303030303030303031000f", s_kedge, sizeof(s_kedge),
                       &s_kedge_len);
  kedge_hex_decode("465b5ce8b199b49faa5f0a2ee238a6bc", cred.k, 16);
  kedge_hex_decode("cd63cb71954a9f4e48a5994e37a02baf", cred.opc, 16);
  kedge_hex_decode("23553cbe9637a89d218ae64dae47bf35", rand_, 16);
  kedge_supi_parse("imsi-001010000000001", &supi);
  kedge_plmn_parse("001", "01", &home);
  kedge_serving_network_name(&home, snn);
  hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
  aes_alg = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
  if (!hmac_alg || !aes_alg) {
    fprintf(stderr, "bench-kdf: OpenSSL lacks HMAC or AES-128-ECB\n");
    return 1;
  }

  printf("bench/kdf: %s, one thread, best of 3 x %.1f s per figure\n",
         OpenSSL_version(OPENSSL_VERSION), seconds);
  double c_kedge, c_hmac, c_hmac_pf, c_chain, c_aes;
  double r_kedge = rate(op_kedge_and_id, seconds, &c_kedge);
  double r_hmac = rate(op_hmac, seconds, &c_hmac);
  double r_hmac_pf = rate(op_hmac_prefetched, seconds, &c_hmac_pf);
  double r_chain = rate(op_chain, seconds, &c_chain);
  double r_aes = rate(op_aes, seconds, &c_aes);

  printf("  %-44s %12.0f /s  %7.2f us\n", "kedge: Kedge + Kedge ID", r_kedge, 1e6 / r_kedge);
  printf("  %-44s %12.0f /s  %7.2f us\n", "kedge: Milenage + KAUSF chain (5G HE AV)", r_chain,
         1e6 / r_chain);
  printf("  %-44s %12.0f /s  %7.2f us\n", "openssl: HMAC() one-shot HMAC-SHA-256", r_hmac,
         1e6 / r_hmac);
  printf("  %-44s %12.0f /s  %7.2f us\n", "openssl: EVP_MAC pre-fetched, new ctx per call",
         r_hmac_pf, 1e6 / r_hmac_pf);
  printf("  %-44s %12.0f /s  %7.2f us\n", "openssl: AES-128 one-shot (key set-up + block)", r_aes,
         1e6 / r_aes);
  double ratio = r_hmac / r_kedge, ratio_pf = r_hmac_pf / r_kedge;
  printf("ratios (cost in units of the OpenSSL one-shot):\n");
  printf("  Kedge + Kedge ID = %.2f x HMAC()  (target <= 2.2: %s)\n", ratio,
         ratio <= 2.2 ? "met" : "NOT met");
  printf("  Kedge + Kedge ID = %.2f x pre-fetched EVP_MAC one-shot\n", ratio_pf);
  printf("  Milenage + KAUSF chain = %.2f x AES-128 one-shot, %.2f x HMAC()\n", r_aes / r_chain,
         r_hmac / r_chain);
  bench_result_t res;
  bench_result_init(&res, "kdf");
  bench_figure(&res, "kdf.kedge_id_cpu_us_per_derivation", "Kedge + Kedge ID from KAUSF", "us",
               false, c_kedge, "OpenSSL HMAC() one-shot HMAC-SHA-256", c_hmac, BENCH_RATIO_MAX,
               2.2);
  bench_figure(&res, "kdf.kedge_id_vs_evp_mac_cpu_us",
               "Kedge + Kedge ID from KAUSF, against a pre-fetched EVP_MAC", "us", false, c_kedge,
               "OpenSSL EVP_MAC pre-fetched, new ctx per call", c_hmac_pf, BENCH_NO_TARGET, 0);
  bench_figure(&res, "kdf.he_av_cpu_us_per_vector", "Milenage + KAUSF chain (5G HE AV)", "us",
               false, c_chain, "OpenSSL AES-128 one-shot (key set-up + block)", c_aes,
               BENCH_NO_TARGET, 0);
  bench_figure(&res, "kdf.kedge_id_rate", "Kedge + Kedge ID derivations per second, one thread",
               "/s", true, r_kedge, "OpenSSL HMAC() one-shot", r_hmac, BENCH_NO_TARGET, 0);
  int rc = bench_result_write(&res);
  EVP_MAC_free(hmac_alg);
  EVP_CIPHER_free(aes_alg);
  return rc ? 1 : 0;
}
