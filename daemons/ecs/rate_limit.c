/* Token buckets for key fetches (rate_limit.h). */
#include "rate_limit.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "keyed_hash.h"

typedef struct bucket {
  double tokens;
  int64_t last_ms;
} bucket_t;

typedef struct slot {
  uint8_t addr[9]; /* family tag + 4 (IPv4) or 8 (IPv6 /64) octets */
  bool used;
  bucket_t b;
} slot_t;

struct ecs_rate_limit {
  pthread_mutex_t lock;
  ecs_rate_config_t cfg;
  bucket_t global;
  slot_t *slots;
  ecs_keyed_hash_t hash;
};

kedge_err_t ecs_rate_limit_new(const ecs_rate_config_t *cfg, ecs_rate_limit_t **out)
{
  if (!cfg || !out || cfg->global_rate < 0 || cfg->address_rate < 0 ||
      (cfg->global_rate > 0 && cfg->global_burst < 1) ||
      (cfg->address_rate > 0 && (cfg->address_burst < 1 || cfg->address_slots == 0)))
    return KEDGE_ERR_INVALID_ARG;
  ecs_rate_limit_t *rl = calloc(1, sizeof(*rl));
  if (!rl)
    return KEDGE_ERR_NOMEM;
  rl->cfg = *cfg;
  rl->global.tokens = cfg->global_burst;
  rl->global.last_ms = -1;
  if (cfg->address_rate > 0) {
    rl->slots = calloc(cfg->address_slots, sizeof(*rl->slots));
    kedge_err_t err = rl->slots ? ecs_keyed_hash_init(&rl->hash) : KEDGE_ERR_NOMEM;
    if (err) {
      free(rl->slots);
      free(rl);
      return err;
    }
  }
  pthread_mutex_init(&rl->lock, NULL);
  *out = rl;
  return KEDGE_OK;
}

void ecs_rate_limit_free(ecs_rate_limit_t *rl)
{
  if (!rl)
    return;
  if (rl->slots)
    ecs_keyed_hash_free(&rl->hash);
  free(rl->slots);
  pthread_mutex_destroy(&rl->lock);
  free(rl);
}

static void refill(bucket_t *b, double rate, double burst, int64_t now_ms)
{
  if (b->last_ms >= 0 && now_ms > b->last_ms)
    b->tokens += rate * (double)(now_ms - b->last_ms) / 1000.0;
  if (b->tokens > burst)
    b->tokens = burst;
  if (now_ms > b->last_ms)
    b->last_ms = now_ms;
}

/* The address as a bucket key: IPv4 (also IPv4-mapped IPv6) or the IPv6 /64. */
static bool address_key(const struct sockaddr *sa, uint8_t key[9])
{
  memset(key, 0, 9);
  if (sa->sa_family == AF_INET) {
    key[0] = 4;
    memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    return true;
  }
  if (sa->sa_family == AF_INET6) {
    const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, v4mapped, 12) == 0) {
      key[0] = 4;
      memcpy(key + 1, a + 12, 4);
    } else {
      key[0] = 6;
      memcpy(key + 1, a, 8);
    }
    return true;
  }
  return false;
}

ecs_rate_verdict_t ecs_rate_limit_take(ecs_rate_limit_t *rl, const struct sockaddr *addr,
                                       int64_t now_ms)
{
  ecs_rate_verdict_t verdict = ECS_RATE_OK;
  pthread_mutex_lock(&rl->lock);
  slot_t *s = NULL;
  uint8_t key[9];
  if (rl->slots && addr && address_key(addr, key)) {
    s = &rl->slots[ecs_keyed_hash(&rl->hash, key, sizeof(key)) % rl->cfg.address_slots];
    if (!s->used || memcmp(s->addr, key, sizeof(key)) != 0) {
      memcpy(s->addr, key, sizeof(key));
      s->used = true;
      s->b = (bucket_t){rl->cfg.address_burst, now_ms};
    }
    refill(&s->b, rl->cfg.address_rate, rl->cfg.address_burst, now_ms);
    if (s->b.tokens < 1)
      verdict = ECS_RATE_ADDRESS;
  }
  if (!verdict && rl->cfg.global_rate > 0) {
    refill(&rl->global, rl->cfg.global_rate, rl->cfg.global_burst, now_ms);
    if (rl->global.tokens < 1)
      verdict = ECS_RATE_GLOBAL;
  }
  if (!verdict) {
    if (s)
      s->b.tokens -= 1;
    if (rl->cfg.global_rate > 0)
      rl->global.tokens -= 1;
  }
  pthread_mutex_unlock(&rl->lock);
  return verdict;
}
