/* bench-ecs --openssl-reference (openssl_reference.c): the bare OpenSSL handshake's cost. */
#ifndef KEDGE_BENCH_ECS_OPENSSL_REFERENCE_H
#define KEDGE_BENCH_ECS_OPENSSL_REFERENCE_H

/* Runs `warmup` then `n` in-memory handshakes and prints each side's CPU per handshake;
 * 0 when all n completed with the PSK. */
int openssl_reference(long n, long warmup);

#endif
