/* The EEC's side of the UE key agent (SPEC.md 5, step 3 of SPEC.md 0), through the agent
 * protocol client of libkedge (kedge/agent.h). In profile bound the agent derives K_ECS for
 * the ECS ID the EEC names, so the EEC never holds Kedge (SPEC.md 6, RFC 9257 6); in profile
 * akma K_AF for the ECS FQDN, so the EEC never holds K_AKMA (SPEC.md 9). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "eec.h"
#include "kedge/agent.h"
#include "kedge/time.h"

kedge_err_t eec_agent_get_psk(const char *socket_path, const char *ecs_id, bool akma,
                              unsigned wait_ms, eec_psk_t *psk, char *why, size_t why_size)
{
  kedge_agent_keys_t keys;
  char agent_why[256] = "";
  int64_t deadline = kedge_now_ms() + wait_ms;
  kedge_err_t err;
  /* --wait: the agent may still be starting (it runs its own 5G AKA first) */
  while ((err = akma ? kedge_agent_get_akma_keys(socket_path, ecs_id, &keys, agent_why,
                                                 sizeof(agent_why))
                     : kedge_agent_get_keys(socket_path, ecs_id, &keys, agent_why,
                                            sizeof(agent_why))) == KEDGE_ERR_UNAVAILABLE &&
         kedge_now_ms() < deadline) {
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  if (err) {
    snprintf(why, why_size, "agent %s: %s", socket_path,
             agent_why[0] ? agent_why : kedge_strerror(err));
    return err;
  }
  /* the answer must be for the profile asked: K_ECS for this ECS ID, or Kedge */
  if (keys.akma != akma || keys.bound != (!akma && ecs_id != NULL) ||
      (ecs_id && strcmp(keys.ecs_id, ecs_id) != 0)) {
    OPENSSL_cleanse(&keys, sizeof(keys));
    snprintf(why, why_size, "agent %s: answered for another profile or ECS ID", socket_path);
    return KEDGE_ERR_INVALID_ARG;
  }
  memcpy(psk->identity, keys.kedge_id, sizeof(psk->identity));
  memcpy(psk->key, keys.key, KEDGE_KEY_LEN);
  OPENSSL_cleanse(&keys, sizeof(keys));
  return KEDGE_OK;
}
