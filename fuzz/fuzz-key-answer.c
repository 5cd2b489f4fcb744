/* libFuzzer target: what a key source answers the ECS and the NEF (lib/keysvc, lib/core): the
 * KedgeKeyResponse of either key API (SPEC.md 3: {kedgeId, kedge (64 hex), expiry}) through
 * kedge_key_answer_read, the RFC 3339 expiry through kedge_rfc3339_parse, and a Retry-After
 * through kedge_http_retry_after_parse (RFC 9110 10.2.3). The first octet picks, the rest is
 * the JSON text or header value.
 * Invariants: no crash, no leak; an answer accepted names the key ID asked for; a date parsed
 * formats back to one that parses to the same second; a Retry-After accepted is within cap. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_body.h"
#include "kedge/http.h"
#include "kedge/key_client.h"
#include "kedge/time.h"

static const char asked[] = "kedge-1@5gc.mnc001.mcc001.3gppnetwork.org";

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
    if (kedge_rfc3339_parse(text, &ms) == KEDGE_OK && ms >= 0 && ms < 253402300800000) {
      char back[KEDGE_RFC3339_LEN + 1];
      kedge_rfc3339_format(ms, back);
      if (kedge_rfc3339_parse(back, &again) != KEDGE_OK || again / 1000 != ms / 1000)
        abort(); /* one codec: what it writes, it reads */
    }
    return 0;
  }
  case 1: {
    unsigned s = 12345;
    kedge_err_t err = kedge_http_retry_after_parse(text, 3600, &s);
    if ((err == KEDGE_OK && s > 3600) || (err != KEDGE_OK && s != 12345))
      abort();
    return 0;
  }
  default:
    break;
  }
  json_t *body = fuzz_body_load(data + 1, size - 1);
  if (!body)
    return 0;
  kedge_key_request_t rq = {
      .api = data[0] % 4 == 2 ? KEDGE_KEY_API_AUSF_KEDGE : KEDGE_KEY_API_NEF_KEDGE,
      .key_id = asked,
      .key_id_len = strlen(asked),
  };
  uint8_t key[KEDGE_KEY_LEN];
  int64_t expiry;
  if (kedge_key_answer_read(&rq, body, key, &expiry) == KEDGE_OK &&
      strcmp(json_string_value(json_object_get(body, "kedgeId")), asked) != 0)
    abort();
  json_decref(body);
  return 0;
}
