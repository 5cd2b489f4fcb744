/* Per-AF admission: a token bucket (rate per second, burst) and a cap on requests in flight
 * toward the AUSF. Shared by the worker threads: the bucket under a mutex held for a few
 * arithmetic operations, the in-flight count an atomic. */
#include <math.h>
#include <time.h>

#include "nef.h"

int64_t nef_now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void nef_rate_init(nef_af_t *af, int64_t now_us)
{
  af->tokens = af->burst;
  af->refilled_us = now_us;
  atomic_init(&af->in_flight, 0);
}

/* One token if there is one; else how many seconds until there is (RFC 9110 10.2.3). */
static bool take_token(nef_af_t *af, int64_t now_us, unsigned *retry_after_s)
{
  if (af->rate == 0)
    return true;
  pthread_mutex_lock(&af->bucket_lock);
  if (now_us > af->refilled_us) {
    af->tokens += (double)(now_us - af->refilled_us) * af->rate / 1e6;
    if (af->tokens > af->burst)
      af->tokens = af->burst;
    af->refilled_us = now_us;
  }
  bool ok = af->tokens >= 1.0;
  if (ok)
    af->tokens -= 1.0;
  else
    *retry_after_s = (unsigned)ceil((1.0 - af->tokens) / af->rate);
  pthread_mutex_unlock(&af->bucket_lock);
  if (!ok && *retry_after_s < 1)
    *retry_after_s = 1;
  return ok;
}

kedge_err_t nef_rate_admit(nef_af_t *af, int64_t now_us, unsigned *retry_after_s,
                           const char **why)
{
  *retry_after_s = 0;
  if (af->max_concurrent) {
    unsigned before = atomic_fetch_add(&af->in_flight, 1);
    if (before >= af->max_concurrent) {
      atomic_fetch_sub(&af->in_flight, 1);
      *retry_after_s = 1;
      *why = "too many requests of this AF in progress";
      return KEDGE_ERR_BUSY;
    }
  } else {
    atomic_fetch_add(&af->in_flight, 1);
  }
  if (!take_token(af, now_us, retry_after_s)) {
    atomic_fetch_sub(&af->in_flight, 1);
    *why = "request rate of this AF over its limit";
    return KEDGE_ERR_BUSY;
  }
  return KEDGE_OK;
}

void nef_rate_release(nef_af_t *af)
{
  atomic_fetch_sub(&af->in_flight, 1);
}
