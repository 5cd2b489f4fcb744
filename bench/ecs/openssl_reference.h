/* bench-ecs --openssl-reference (openssl_reference.c): the bare OpenSSL handshake's cost. */
#ifndef KEDGE_BENCH_ECS_OPENSSL_REFERENCE_H
#define KEDGE_BENCH_ECS_OPENSSL_REFERENCE_H

#include <stdbool.h>

/* Runs `warmup` then `n` in-memory handshakes (over a BIO pair; with `tcp` over a loopback TCP
 * connection each, accept(2) and close(2) in the server's share) and prints each side's CPU
 * per handshake; 0 when all n completed with the PSK. */
int openssl_reference(long n, long warmup, bool tcp);

#endif
