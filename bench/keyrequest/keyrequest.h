/* bench/keyrequest: one program, build/bench/bench-keyrequest, with the pieces run.sh drives.
 *   populate  writes N edge keys through the key store API (kedge/keystore.h), as the AUSF does
 *             at 5G AKA success but without the AKA, and lists their Kedge IDs in a file.
 *   load      an HTTP/2 load generator over TLS with a client certificate (h2load has none),
 *             a random stored Kedge ID in every request; req/s and latency percentiles.
 * Alone (as scripts/bench.sh calls every bench-*), it says that run.sh runs it. */
#ifndef BENCH_KEYREQUEST_H
#define BENCH_KEYREQUEST_H

int kr_populate(int argc, char **argv);
int kr_load(int argc, char **argv);

/* Seconds of CLOCK_MONOTONIC. */
double kr_now(void);

#endif
