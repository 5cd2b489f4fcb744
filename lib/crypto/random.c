/* kedge_random_public: OpenSSL 3.0's RAND_bytes costs about 6,600 instructions and a getpid(2)
 * per call whatever its length (the DRBG's lock, its fork check, a CTR-DRBG generate with its
 * reseed bookkeeping: callgrind, docs/performance-latency.md "Fifth round: the UDM and the
 * load tool"), and the UDM made two calls of 16 and 8 octets per AKA run. One call of 512
 * octets per thread serves 20 to 60 of them. */
#include "kedge/random.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define POOL_LEN   512
#define DIRECT_MIN (POOL_LEN / 4 + 1) /* longer requests skip the pool */

static __thread struct {
  unsigned char octets[POOL_LEN];
  size_t left; /* unused octets at the end of `octets` */
} pool;

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static bool pool_fork_safe; /* the child handler is registered: the pool may be used */

/* The child of a fork runs in the forking thread: its pool (the parent's octets) is emptied,
 * so parent and child never hand out the same octets. */
static void empty_pool_in_child(void)
{
  OPENSSL_cleanse(&pool, sizeof(pool));
}

static void register_atfork(void)
{
  /* Without the handler (pthread_atfork fails only out of memory) a child could hand out the
   * parent's octets again: every call then goes to RAND_bytes, which checks for forks itself. */
  pool_fork_safe = pthread_atfork(NULL, NULL, empty_pool_in_child) == 0;
}

kedge_err_t kedge_random_public(void *out, size_t len)
{
  if (!out)
    return KEDGE_ERR_INVALID_ARG;
  pthread_once(&atfork_once, register_atfork);
  if (len >= DIRECT_MIN || !pool_fork_safe)
    return len <= 0x7fffffff && RAND_bytes(out, (int)len) == 1 ? KEDGE_OK : KEDGE_ERR_CRYPTO;
  if (pool.left < len) {
    pool.left = 0; /* the few octets left are overwritten */
    if (RAND_bytes(pool.octets, POOL_LEN) != 1) {
      OPENSSL_cleanse(pool.octets, POOL_LEN);
      return KEDGE_ERR_CRYPTO;
    }
    pool.left = POOL_LEN;
  }
  unsigned char *from = pool.octets + POOL_LEN - pool.left;
  memcpy(out, from, len);
  OPENSSL_cleanse(from, len); /* handed out once */
  pool.left -= len;
  return KEDGE_OK;
}
