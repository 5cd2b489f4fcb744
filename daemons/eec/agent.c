/* The UE key agent's client side (SPEC.md 5). The agent is kedge-ue's (issue 6, another
 * branch); its wire format is not settled yet, so this side is not written: asking for it
 * says so instead of guessing a protocol. */
#include <stdio.h>

#include "eec.h"

kedge_err_t eec_agent_get_psk(const char *socket_path, const char *ecs_id, unsigned wait_ms,
                              eec_psk_t *psk, char *why, size_t why_size)
{
  (void)ecs_id;
  (void)wait_ms;
  (void)psk;
  snprintf(why, why_size,
           "agent %s: the agent protocol is not available in this build yet; "
           "use --kedge-id and --key-file",
           socket_path);
  return KEDGE_ERR_UNSUPPORTED;
}
