/* The SQN scheme of SPEC.md section 1, shared by the UDM and the UE simulator: a plain 48-bit
 * counter (no SEQ/IND split, TS 33.102 Annex C.1.1), freshness window Delta = 2^28
 * (TS 33.102 C.2.1), resynchronisation from SQNms (TS 33.102 6.3.5). */
#ifndef KEDGE_SQN_H
#define KEDGE_SQN_H

#include <stdbool.h>
#include <stdint.h>

#include "kedge/error.h"
#include "kedge/milenage.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KEDGE_SQN_MAX   ((UINT64_C(1) << 48) - 1)
#define KEDGE_SQN_DELTA (UINT64_C(1) << 28)

/* UDM: the SQN of the next vector after `last` (SPEC.md 1: last + 1).
 * KEDGE_ERR_SQN_EXHAUSTED at 2^48 - 1: the subscriber needs a new K. */
kedge_err_t kedge_sqn_next(uint64_t last, uint64_t *next);

/* UE: whether `sqn` is acceptable after the highest accepted `sqn_ms`:
 * sqn_ms < sqn <= sqn_ms + Delta. */
bool kedge_sqn_is_fresh(uint64_t sqn_ms, uint64_t sqn);

/* 48-bit big-endian octets <-> integer. kedge_sqn_to_bytes ignores bits above 48. */
void kedge_sqn_to_bytes(uint64_t sqn, uint8_t out[KEDGE_SQN_LEN]);
uint64_t kedge_sqn_from_bytes(const uint8_t in[KEDGE_SQN_LEN]);

#ifdef __cplusplus
}
#endif
#endif
