/* Per-AF admission: kedge's token bucket (kedge/ratelimit.h: rate per second, burst) and a cap
 * on requests in flight toward the AUSF, shared by the worker threads (the in-flight count an
 * atomic). */
#include <time.h>

#include "kedge/time.h"
#include "nef.h"

kedge_err_t nef_rate_init(nef_af_t *af)
{
  atomic_init(&af->in_flight, 0);
  af->bucket = NULL;
  if (af->rate == 0)
    return KEDGE_OK;
  kedge_rate_config_t cfg = {.global_rate = af->rate, .global_burst = af->burst};
  return kedge_rate_new(&cfg, &af->bucket);
}

void nef_rate_fini(nef_af_t *af)
{
  kedge_rate_free(af->bucket);
  af->bucket = NULL;
}

kedge_err_t nef_rate_admit(nef_af_t *af, int64_t now_us, unsigned *retry_after_s, const char **why)
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
  int64_t wait_ms = 0;
  if (af->bucket && kedge_rate_take(af->bucket, NULL, 0, now_us / 1000, &wait_ms)) {
    atomic_fetch_sub(&af->in_flight, 1);
    /* RFC 9110 10.2.3: whole seconds, rounded up */
    *retry_after_s = (unsigned)((wait_ms + 999) / 1000);
    *why = "request rate of this AF over its limit";
    return KEDGE_ERR_BUSY;
  }
  return KEDGE_OK;
}

void nef_rate_release(nef_af_t *af)
{
  atomic_fetch_sub(&af->in_flight, 1);
}
