/* libFuzzer target: the JSON and header values the ECS reads from peers (daemons/ecs):
 * from an EEC after the PSK handshake, the ECSServProvReq (TS 24.558 8.2.2) with its acProfs,
 * checked with the handler's tables; from its key source (AUSF or NEF), the KedgeKeyResponse
 * (SPEC.md 3, ecs_key_answer_read) with its RFC 3339 expiry (ecs_rfc3339_parse) and a
 * Retry-After (kedge_sbi_retry_after_parse). The first octet picks, the rest is the text.
 * Invariants: no crash, no leak; an expiry parsed formats back to a date that parses to the
 * same second; a key answer accepted names the identity asked for. */
#include <string.h>

#include "ecs.h"
#include "fuzz_body.h"
#include "kedge/sbi_client.h"

static const char asked[] = "kedge-1@5gc.mnc001.mcc001.3gppnetwork.org";

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
  if (size < 1)
    return 0;
  char text[256];
  size_t n = size - 1 < sizeof(text) - 1 ? size - 1 : sizeof(text) - 1;
  memcpy(text, data + 1, n);
  text[n] = '\0';
  switch (data[0] % 4) {
  case 0: {
    int64_t ms, again;
    if (ecs_rfc3339_parse(text, &ms) == KEDGE_OK) {
      char back[21];
      ecs_rfc3339_format(ms, back);
      if (ms >= 0 && ms < 253402300800000 &&
          (ecs_rfc3339_parse(back, &again) != KEDGE_OK || again != ms / 1000 * 1000))
        abort(); /* one codec: what it writes, it reads */
    }
    return 0;
  }
  case 1: {
    int64_t s = -1;
    if (kedge_sbi_retry_after_parse(text, &s) == KEDGE_OK && (s < 0 || s > 999999999))
      abort();
    return 0;
  }
  default:
    break;
  }
  json_t *body = fuzz_body_load(data + 1, size - 1);
  if (!body)
    return 0;
  if (data[0] % 4 == 2) {
    serv_prov_req(body);
  } else {
    uint8_t key[KEDGE_KEY_LEN];
    int64_t expiry;
    if (ecs_key_answer_read(body, asked, strlen(asked), key, &expiry) &&
        strcmp(json_string_value(json_object_get(body, "kedgeId")), asked) != 0)
      abort();
  }
  json_decref(body);
  return 0;
}
