/* libFuzzer target: what an EEC sends the ECS after the PSK handshake (daemons/ecs): the
 * ECSServProvReq (TS 24.558 8.2.2) with its acProfs, checked with the handler's own tables
 * (the key source's answers: fuzz-key-answer.c).
 * Invariants: no crash, no leak; the two verdicts of kedge_json_check agree (fuzz_body.h); an
 * ACProfile that passes has its acId. */
#include <string.h>

#include "ecs.h"
#include "fuzz_body.h"

static void serv_prov_req(const json_t *body)
{
  if (!fuzz_body_check(body, ecs_serv_prov_req_members))
    return;
  size_t i;
  json_t *prof;
  json_array_foreach(json_object_get(body, "acProfs"), i, prof)
  {
    char at[32];
    snprintf(at, sizeof(at), "/acProfs/%zu", i);
    json_t *problem = kedge_problem_new(400, "MANDATORY_IE_INCORRECT", "fuzz");
    bool missing = false;
    if (kedge_json_check_at(prof, ecs_ac_profile_members, at, problem, &missing) == KEDGE_OK &&
        !json_string_value(json_object_get(prof, "acId")))
      abort();
    json_decref(problem);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json_t *body = fuzz_body_load(data, size);
  if (body)
    serv_prov_req(body);
  json_decref(body);
  return 0;
}
