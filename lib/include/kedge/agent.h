/* The UE's local key interface toward the EEC (SPEC.md 5, step 3 of SPEC.md 0): a Unix-domain
 * socket served by `kedge-ue agent`, peers checked by SO_PEERCRED, one request and one answer
 * per connection, each a frame: 4-octet big-endian length, then that many octets of JSON
 * (at most KEDGE_AGENT_MSG_MAX).
 *
 *   {"op":"keys"}                      -> {"kedgeId", "key": Kedge, "profile": "kedge"}
 *   {"op":"keys","ecsId":"ecs.example"} -> {"kedgeId", "key": K_ECS, "profile": "bound", "ecsId"}
 *   {"op":"keys","profile":"akma","ecsId":"ecs.example"}
 *                                      -> {"aKid", "key": K_AF, "profile": "akma", "ecsId"}
 *   {"op":"register"}                  -> {"kedgeId"} after a new 5G AKA (the keys are replaced)
 *   any failure                        -> {"error": "one line"}
 *
 * Profile bound (SPEC.md 6): the agent derives K_ECS for the ECS ID the EEC names, so the EEC
 * never holds Kedge itself. Profile akma (SPEC.md 9): the agent derives K_AF for the ECS FQDN the
 * EEC names from K_AKMA (TS 33.535 A.4), so the EEC never holds K_AKMA. */
#ifndef KEDGE_AGENT_H
#define KEDGE_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kedge/edge.h"
#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KEDGE_AGENT_MSG_MAX 4096

/* Frames on a blocking or non-blocking descriptor, each bounded by `timeout_ms` in total.
 * read: KEDGE_ERR_TOO_BIG past KEDGE_AGENT_MSG_MAX, KEDGE_ERR_INVALID_ARG if not a JSON object,
 * KEDGE_ERR_TIMEOUT, KEDGE_ERR_IO (closed or failed). The serialized text is wiped. */
kedge_err_t kedge_agent_write_frame(int fd, const json_t *msg, int timeout_ms);
kedge_err_t kedge_agent_read_frame(int fd, json_t **msg, int timeout_ms);

typedef struct kedge_agent_keys {
  char kedge_id[KEDGE_ID_MAX + 1]; /* the PSK identity: Kedge ID, or A-KID (akma) */
  uint8_t key[KEDGE_KEY_LEN];      /* Kedge, K_ECS in profile bound, K_AF in akma */
  bool bound;
  bool akma;
  char ecs_id[KEDGE_ECS_ID_MAX + 1]; /* as normalised by the agent, "" for kedge */
} kedge_agent_keys_t;

/* Client side (blocking, for commands). `why` receives one line on failure (the agent's own
 * error text when it answered one). KEDGE_ERR_UNAVAILABLE: no agent at that socket. */
kedge_err_t kedge_agent_get_keys(const char *socket_path, const char *ecs_id,
                                 kedge_agent_keys_t *keys, char *why, size_t why_size);
/* Profile akma: the A-KID and K_AF for the ECS FQDN `ecs_id` (SPEC.md 9). */
kedge_err_t kedge_agent_get_akma_keys(const char *socket_path, const char *ecs_id,
                                      kedge_agent_keys_t *keys, char *why, size_t why_size);
kedge_err_t kedge_agent_register(const char *socket_path, int timeout_ms,
                                 char kedge_id[KEDGE_ID_MAX + 1], char *why, size_t why_size);

#ifdef __cplusplus
}
#endif
#endif
