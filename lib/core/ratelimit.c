/* The keyed token bucket (kedge/ratelimit.h). */
#include "kedge/ratelimit.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kedge/keyed_hash.h"

#define WAYS 4 /* buckets per set */

typedef struct bucket {
  double tokens;
  int64_t last_ms; /* last refill; -1: never */
} bucket_t;

typedef struct slot {
  uint64_t tag; /* keyed hash of the key */
  bool used;
  int64_t seen_window; /* the last second this key was counted as active in */
  bucket_t b;
} slot_t;

struct kedge_rate {
  pthread_mutex_t lock;
  kedge_rate_config_t cfg;
  bool keyed;
  bucket_t global;
  slot_t *slots;
  size_t n_sets;
  kedge_keyed_hash_t hash;
  int64_t window;             /* current second */
  size_t seen_now, seen_prev; /* keys seen in it and in the one before */
};

kedge_err_t kedge_rate_new(const kedge_rate_config_t *cfg, kedge_rate_t **out)
{
  if (!cfg || !out || !(cfg->rate >= 0) || !(cfg->global_rate >= 0) ||
      (cfg->global_rate > 0 && !(cfg->global_burst >= 1)) || (cfg->fair && cfg->global_rate == 0))
    return KEDGE_ERR_INVALID_ARG;
  bool keyed = cfg->rate > 0 || cfg->fair;
  if (keyed && (!(cfg->burst >= 1) || cfg->slots == 0 || cfg->slots > ((size_t)1 << 28)))
    return KEDGE_ERR_INVALID_ARG;
  kedge_rate_t *rl = calloc(1, sizeof(*rl));
  if (!rl)
    return KEDGE_ERR_NOMEM;
  rl->cfg = *cfg;
  rl->keyed = keyed;
  rl->global = (bucket_t){cfg->global_burst, -1};
  rl->window = -1;
  if (keyed) {
    rl->n_sets = (cfg->slots + WAYS - 1) / WAYS;
    rl->slots = calloc(rl->n_sets * WAYS, sizeof(*rl->slots));
    kedge_err_t err = rl->slots ? kedge_keyed_hash_init(&rl->hash) : KEDGE_ERR_NOMEM;
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

void kedge_rate_free(kedge_rate_t *rl)
{
  if (!rl)
    return;
  if (rl->slots)
    kedge_keyed_hash_free(&rl->hash);
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

/* Milliseconds until the bucket holds one token again. */
static int64_t wait_for_token(const bucket_t *b, double rate)
{
  if (rate <= 0)
    return 1000;
  double ms = (1.0 - b->tokens) * 1000.0 / rate - 1e-6; /* rounding noise is not a millisecond */
  if (ms > 86400000.0)
    return 86400000;
  int64_t whole = (int64_t)ms;
  whole += (double)whole < ms; /* rounded up */
  return whole < 1 ? 1 : whole;
}

static void roll_window(kedge_rate_t *rl, int64_t now_ms)
{
  int64_t w = now_ms / 1000;
  if (w == rl->window)
    return;
  rl->seen_prev = w == rl->window + 1 ? rl->seen_now : 0;
  rl->seen_now = 0;
  rl->window = w;
}

static size_t active(const kedge_rate_t *rl)
{
  return rl->seen_now > rl->seen_prev ? rl->seen_now : rl->seen_prev;
}

/* The key's bucket: found in its set, or the set's least recently used one taken over. */
static slot_t *slot_of(kedge_rate_t *rl, const void *key, size_t len, int64_t now_ms)
{
  uint64_t tag = kedge_keyed_hash(&rl->hash, key, len);
  slot_t *set = &rl->slots[(tag % rl->n_sets) * WAYS];
  slot_t *victim = &set[0];
  for (int i = 0; i < WAYS; i++) {
    if (set[i].used && set[i].tag == tag)
      return &set[i];
    if (!set[i].used)
      victim = victim->used ? &set[i] : victim;
    else if (victim->used && set[i].b.last_ms < victim->b.last_ms)
      victim = &set[i];
  }
  *victim = (slot_t){.tag = tag, .used = true, .seen_window = -1, .b = {rl->cfg.burst, now_ms}};
  return victim;
}

kedge_rate_verdict_t kedge_rate_take(kedge_rate_t *rl, const void *key, size_t len, int64_t now_ms,
                                     int64_t *wait_ms)
{
  const kedge_rate_config_t *cfg = &rl->cfg;
  kedge_rate_verdict_t verdict = KEDGE_RATE_OK;
  int64_t wait = 0;
  pthread_mutex_lock(&rl->lock);
  slot_t *s = NULL;
  if (rl->keyed && key) {
    roll_window(rl, now_ms);
    s = slot_of(rl, key, len, now_ms);
    if (s->seen_window != rl->window) {
      s->seen_window = rl->window;
      rl->seen_now++;
    }
    double rate = cfg->rate;
    if (cfg->fair) {
      double share = cfg->global_rate / (double)(active(rl) + 1);
      if (rate == 0 || share < rate)
        rate = share;
    }
    refill(&s->b, rate, cfg->burst, now_ms);
    if (s->b.tokens < 1) {
      verdict = KEDGE_RATE_KEY;
      wait = wait_for_token(&s->b, rate);
    }
  }
  if (!verdict && cfg->global_rate > 0) {
    refill(&rl->global, cfg->global_rate, cfg->global_burst, now_ms);
    /* Fair sharing: a quarter of the global bucket is kept for keys that have not been asking
     * (their own bucket full); keys that have been take only what is above it. New keys thus
     * find tokens even while many busy ones keep the bucket near empty. */
    double floor = 0;
    if (cfg->fair && s && s->b.tokens < cfg->burst)
      floor = cfg->global_burst / 4;
    if (rl->global.tokens < 1 + floor) {
      verdict = KEDGE_RATE_GLOBAL;
      wait = wait_for_token(&rl->global, cfg->global_rate);
    }
  }
  if (!verdict) {
    if (s)
      s->b.tokens -= 1;
    if (cfg->global_rate > 0)
      rl->global.tokens -= 1;
  }
  pthread_mutex_unlock(&rl->lock);
  if (wait_ms)
    *wait_ms = verdict ? wait : 0;
  return verdict;
}

size_t kedge_rate_active_keys(kedge_rate_t *rl, int64_t now_ms)
{
  pthread_mutex_lock(&rl->lock);
  roll_window(rl, now_ms);
  size_t n = active(rl);
  pthread_mutex_unlock(&rl->lock);
  return n;
}

bool kedge_addr_key(const struct sockaddr *sa, uint8_t key[KEDGE_ADDR_KEY_LEN])
{
  memset(key, 0, KEDGE_ADDR_KEY_LEN);
  if (!sa)
    return false;
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
      memcpy(key + 1, a, 8); /* the /64 */
    }
    return true;
  }
  return false;
}
