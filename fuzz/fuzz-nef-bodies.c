/* libFuzzer target: what an AF (an ECS outside the operator's domain) sends the NEF's
 * 3gpp-kedge/retrieve after OAuth: the KedgeAfKeyRequest (docs/nef.md) checked with the
 * handler's table, then the strict Kedge ID grammar (SPEC.md 2) and DNS-name normalisation
 * of afId/ecsId the handler applies; and what an AUSF answers it: a KedgeKeyResponse's
 * Retry-After (kedge_sbi_retry_after_parse, RFC 9110 10.2.3). The first octet picks.
 * Invariants: no crash, no leak; a Retry-After accepted is 0..999999999 s. */
#include <string.h>

#include "fuzz_body.h"
#include "kedge/edge.h"
#include "kedge/identity.h"
#include "kedge/sbi_client.h"
#include "nef.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  if (data[0] & 1) {
    char v[64];
    size_t n = size - 1 < sizeof(v) - 1 ? size - 1 : sizeof(v) - 1;
    memcpy(v, data + 1, n);
    v[n] = '\0';
    int64_t s = -1;
    if (kedge_sbi_retry_after_parse(v, &s) == KEDGE_OK && (s < 0 || s > 999999999))
      abort();
    return 0;
  }
  json_t *body = fuzz_body_load(data + 1, size - 1);
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
