/* libFuzzer target: what an NRF answers a kedge NF (lib/nrf): a SearchResult (TS 29.510
 * 6.2.6.2.2) through kedge_nrf_search_result_read, and an NFRegister answer's heartBeatTimer
 * through kedge_nrf_heartbeat_ms. The body is read as lib/sbi's client reads it (json_loadb,
 * duplicates refused, fuzz_body.h); the first octet picks the service asked for.
 * Invariants: no crash, no leak; at most KEDGE_NRF_CANDIDATES_MAX candidates, each with an
 * https apiRoot that fits its buffer, ordered by priority (lower first) then capacity (higher
 * first); a validity that is not negative (0: not cached); a heartbeat interval that is positive.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_body.h"
#include "kedge/nrf.h"

static const char *const services[] = {"nudm-ueau", "nausf-kedge", "naanf-akma", "nausf-auth"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  json_t *body = fuzz_body_load(data + 1, size - 1);
  if (!body)
    return 0;
  kedge_nrf_candidates_t c;
  int64_t validity = -1;
  const char *service = services[data[0] % 4];
  if (kedge_nrf_search_result_read(body, service, 60000, &c, &validity) == KEDGE_OK) {
    if (c.n > KEDGE_NRF_CANDIDATES_MAX || validity < 0) /* 0: not to be cached */
      abort();
    for (size_t i = 0; i < c.n; i++) {
      if (strnlen(c.c[i].api_root, sizeof(c.c[i].api_root)) == sizeof(c.c[i].api_root) ||
          strncmp(c.c[i].api_root, "https://", 8) != 0)
        abort(); /* SPEC.md 7: only https producers are kept */
      if (i > 0 &&
          (c.c[i - 1].priority > c.c[i].priority ||
           (c.c[i - 1].priority == c.c[i].priority && c.c[i - 1].capacity < c.c[i].capacity)))
        abort(); /* TS 29.510 6.1.6.2.2: lower priority first, then higher capacity */
    }
  }
  if (kedge_nrf_heartbeat_ms(body, 30000) <= 0)
    abort();
  json_decref(body);
  return 0;
}
