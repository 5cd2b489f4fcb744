/* kedge's one token bucket (RFC 2697-style: `rate` tokens per second, at most `burst`), keyed:
 * one bucket per key (a source address, a consumer name) in a bounded table, optionally under
 * one global bucket shared by all keys, optionally shared fairly. Thread-safe (one mutex held
 * for a few arithmetic operations). Times are CLOCK_MONOTONIC milliseconds (kedge_now_ms,
 * kedge/time.h).
 *
 * Table: keys are identified by a keyed hash (kedge/keyed_hash.h), so a peer cannot aim its
 * keys at another's bucket; `slots` buckets in sets of 4, a new key takes over the least
 * recently used bucket of its set (with a full bucket: the global bucket bounds what that
 * allows an attacker with many keys).
 *
 * Fair sharing (`fair`, with a global rate): a key's bucket refills at no more than
 * global_rate / (A + 1), A the keys seen in the current or the previous second. n flooding
 * keys together then take at most n/(n+1) of the global rate, and what is left accumulates in
 * the global bucket for a key that has not asked yet; and a quarter of the global bucket is
 * reserved for keys whose own bucket is full (that have not been asking), so that busy keys,
 * new ones' bursts included, cannot empty it (docs/security.md, issue 12). */
#ifndef KEDGE_RATELIMIT_H
#define KEDGE_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kedge_rate kedge_rate_t;

typedef struct kedge_rate_config {
  double rate;         /* per key, tokens per second; 0: no per-key limit (unless fair) */
  double burst;        /* per key bucket size; >= 1 when keys are limited */
  size_t slots;        /* keys tracked at once (rounded up to a multiple of 4) */
  double global_rate;  /* all keys together; 0: no global bucket */
  double global_burst; /* >= 1 when global_rate > 0 */
  bool fair;           /* needs global_rate: keys share it fairly (above) */
} kedge_rate_config_t;

typedef enum kedge_rate_verdict {
  KEDGE_RATE_OK = 0, /* one token taken (from the key's and the global bucket) */
  KEDGE_RATE_KEY,    /* the key's bucket is empty: nothing taken */
  KEDGE_RATE_GLOBAL, /* the global bucket is empty: nothing taken */
} kedge_rate_verdict_t;

/* KEDGE_ERR_INVALID_ARG for a negative rate, a burst below 1 where a bucket applies, no slots
 * for keyed buckets, or fair without a global rate. */
kedge_err_t kedge_rate_new(const kedge_rate_config_t *cfg, kedge_rate_t **out);
void kedge_rate_free(kedge_rate_t *rl);

/* Takes one token for `key` (len octets; NULL: only the global bucket applies), or none.
 * When refused and `wait_ms` is not NULL, *wait_ms is when a token will be there (>= 1). */
kedge_rate_verdict_t kedge_rate_take(kedge_rate_t *rl, const void *key, size_t len, int64_t now_ms,
                                     int64_t *wait_ms);

/* Keys seen in the current or the previous second (the A of fair sharing). */
size_t kedge_rate_active_keys(kedge_rate_t *rl, int64_t now_ms);

/* The unit of per-address limits: an IPv4 address (also IPv4-mapped IPv6) or an IPv6 /64 (what
 * an ISP hands one subscriber). Writes KEDGE_ADDR_KEY_LEN octets; false for other families. */
#define KEDGE_ADDR_KEY_LEN 9
bool kedge_addr_key(const struct sockaddr *sa, uint8_t key[KEDGE_ADDR_KEY_LEN]);

#ifdef __cplusplus
}
#endif
#endif
