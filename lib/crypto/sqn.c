/* SPEC.md 1: a plain 48-bit SQN counter shared by UDM and UE simulator. */
#include "kedge/sqn.h"

kedge_err_t kedge_sqn_next(uint64_t last, uint64_t *next)
{
  if (!next)
    return KEDGE_ERR_INVALID_ARG;
  if (last >= KEDGE_SQN_MAX)
    return KEDGE_ERR_SQN_EXHAUSTED;
  *next = last + 1;
  return KEDGE_OK;
}

bool kedge_sqn_is_fresh(uint64_t sqn_ms, uint64_t sqn)
{
  /* TS 33.102 C.2.1: accept only SQN > SQNms, and at most Delta ahead (wrap-around protection) */
  return sqn > sqn_ms && sqn <= KEDGE_SQN_MAX && sqn - sqn_ms <= KEDGE_SQN_DELTA;
}

void kedge_sqn_to_bytes(uint64_t sqn, uint8_t out[KEDGE_SQN_LEN])
{
  for (int i = KEDGE_SQN_LEN - 1; i >= 0; i--, sqn >>= 8)
    out[i] = (uint8_t)sqn;
}

uint64_t kedge_sqn_from_bytes(const uint8_t in[KEDGE_SQN_LEN])
{
  uint64_t sqn = 0;
  for (int i = 0; i < KEDGE_SQN_LEN; i++)
    sqn = sqn << 8 | in[i];
  return sqn;
}
