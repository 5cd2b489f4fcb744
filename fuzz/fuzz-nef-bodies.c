/* libFuzzer target: what an AF (an ECS outside the operator's domain) sends the NEF's
 * 3gpp-kedge/retrieve after OAuth: the KedgeAfKeyRequest (docs/nef.md) checked with the
 * handler's table, then the strict Kedge ID grammar (SPEC.md 2) and DNS-name normalisation
 * of afId/ecsId the handler applies (the AUSF's answers: fuzz-key-answer.c).
 * Invariants: no crash, no leak; every refusal of the Kedge ID names its reason. */
#include <string.h>

#include "fuzz_body.h"
#include "kedge/edge.h"
#include "kedge/identity.h"
#include "nef.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json_t *body = fuzz_body_load(data, size);
  if (body && fuzz_body_check(body, nef_key_request_members)) {
    const char *id = json_string_value(json_object_get(body, "kedgeId"));
    kedge_id_t parsed;
    const char *why = NULL;
    if (kedge_id_parse(id, strlen(id), &parsed, &why) != KEDGE_OK && !why)
      abort();
    char norm[KEDGE_ECS_ID_MAX + 1];
    const json_t *ecs = json_object_get(body, "ecsId");
    if (ecs)
      kedge_ecs_id_normalise(json_string_value(ecs), norm, &why);
    kedge_ecs_id_normalise(json_string_value(json_object_get(body, "afId")), norm, &why);
  }
  json_decref(body);
  return 0;
}
