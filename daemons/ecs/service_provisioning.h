/* ECS service provisioning (TS 24.558 8.2, EDGE-4): the ECSServProvReq handler on the HTTP/2
 * connections a PSK handshake authenticated, and the answer it builds from the ECS's config. */
#ifndef KEDGE_ECS_SERVICE_PROVISIONING_H
#define KEDGE_ECS_SERVICE_PROVISIONING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kedge/json_check.h"
#include "kedge/sbi_server.h"

/* What the ECS answers, from its config. */
typedef struct ecs_ees {
  const char *ees_id;
  const char *uri;                 /* endPt.uri */
  bool eec_reg_conf;               /* EEC must register with the EES */
  const char *const *auth_methods; /* eesAuthMethods (may be empty: member left out) */
  size_t n_auth_methods;
  const char *const *ac_ids; /* ACs this EES serves; "*": any */
  size_t n_ac_ids;
} ecs_ees_t;

typedef struct ecs_edn {
  const char *dnn;
  ecs_ees_t *eess;
  size_t n_eess;
} ecs_edn_t;

typedef struct ecs_provisioning {
  const char *const *allowed_eec_ids; /* "*": any */
  size_t n_allowed_eec_ids;
  const char *const *allowed_ac_ids; /* "*": any */
  size_t n_allowed_ac_ids;
  int64_t lifetime_ms; /* lifeTime of the configuration handed out */
  ecs_edn_t *edns;
  size_t n_edns;
} ecs_provisioning_t;

struct ecs;
kedge_err_t ecs_service_provisioning_setup(struct ecs *ecs, kedge_sbi_server_t *srv);
/* TS 24.558 8.2.2 ECSServProvReq as the handler checks it (also for fuzz/fuzz-ecs-bodies.c). */
extern const kedge_json_member_t ecs_serv_prov_req_members[];
extern const kedge_json_member_t ecs_ac_profile_members[]; /* each of acProfs */
/* The ECSServProvResp (TS 24.558) for the ACs asked for (none: everything the policy allows),
 * or NULL in *resp when nothing matches (204). */
kedge_err_t ecs_provisioning_answer(const ecs_provisioning_t *prov, const char *const *ac_ids,
                                    size_t n_ac_ids, int64_t now_unix_ms, json_t **resp);
bool ecs_list_allows(const char *const *list, size_t n, const char *value);

#endif
