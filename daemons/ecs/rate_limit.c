/* Key fetch budgets (rate_limit.h) on kedge's keyed token bucket. */
#include "rate_limit.h"

kedge_err_t ecs_rate_limit_new(const ecs_rate_config_t *cfg, ecs_rate_limit_t **out)
{
  if (!cfg)
    return KEDGE_ERR_INVALID_ARG;
  kedge_rate_config_t rc = {
      .rate = cfg->address_rate,
      .burst = cfg->address_burst,
      .slots = cfg->address_slots,
      .global_rate = cfg->global_rate,
      .global_burst = cfg->global_burst,
      .fair = cfg->global_rate > 0 && cfg->address_slots > 0,
  };
  if (rc.fair && rc.burst < 1)
    rc.burst = 2; /* fair sharing alone: a new address may take a token at once */
  return kedge_rate_new(&rc, out);
}

void ecs_rate_limit_free(ecs_rate_limit_t *rl)
{
  kedge_rate_free(rl);
}

ecs_rate_verdict_t ecs_rate_limit_take(ecs_rate_limit_t *rl, const struct sockaddr *addr,
                                       int64_t now_ms)
{
  uint8_t key[KEDGE_ADDR_KEY_LEN];
  bool keyed = addr && kedge_addr_key(addr, key);
  return (ecs_rate_verdict_t)kedge_rate_take(rl, keyed ? key : NULL, sizeof(key), now_ms, NULL);
}
