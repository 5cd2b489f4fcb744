/* Random octets for values that are sent in clear: a 5G AKA RAND (TS 33.102 6.3.2), an
 * AuthEvent id. Drawn from OpenSSL's DRBG (RAND_bytes) 512 octets at a time per thread. */
#ifndef KEDGE_RANDOM_H
#define KEDGE_RANDOM_H

#include <stddef.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* `len` unpredictable octets into `out`. Each thread keeps a pool refilled by one RAND_bytes;
 * an octet handed out is wiped from the pool, and a forked child starts with an empty pool
 * (nothing is handed out twice). For public values only: keys, nonces and secrets take
 * RAND_bytes (or RAND_priv_bytes) directly. More than 128 octets at once bypass the pool.
 * KEDGE_ERR_CRYPTO when the DRBG fails, KEDGE_ERR_INVALID_ARG for a NULL `out`. */
kedge_err_t kedge_random_public(void *out, size_t len);

#ifdef __cplusplus
}
#endif
#endif
