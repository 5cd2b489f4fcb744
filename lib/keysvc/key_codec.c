/* One codec per key API (include/kedge/key_client.h): its path, the request body and the
 * answer it accepts. An answer counts only when it names the key ID that was asked about. */
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "kedge/hex.h"
#include "kedge/key_client.h"
#include "kedge/time.h"

const char *kedge_key_api_path(kedge_key_api_t api)
{
  switch (api) {
  case KEDGE_KEY_API_AUSF_KEDGE:
    return "/nausf-auth/v1/kedge-keys/retrieve";
  case KEDGE_KEY_API_NEF_KEDGE:
    return "/3gpp-kedge/v1/retrieve";
  case KEDGE_KEY_API_AANF_AKMA:
    return "/naanf-akma/v1/retrieve-applicationkey";
  case KEDGE_KEY_API_NEF_AKMA:
    return "/3gpp-akma/v1/retrieve";
  default:
    return NULL;
  }
}

void kedge_key_api_target(kedge_key_api_t api, const char **nf_type, const char **service)
{
  switch (api) {
  case KEDGE_KEY_API_AUSF_KEDGE:
    *nf_type = "AUSF", *service = "nausf-kedge";
    return;
  case KEDGE_KEY_API_AANF_AKMA: /* TS 29.535 */
    *nf_type = "AANF", *service = "naanf-akma";
    return;
  case KEDGE_KEY_API_NEF_KEDGE:
    *nf_type = "NEF", *service = "3gpp-kedge";
    return;
  default:
    *nf_type = "NEF", *service = "3gpp-akma";
    return;
  }
}

bool kedge_key_api_is_akma(kedge_key_api_t api)
{
  return api == KEDGE_KEY_API_AANF_AKMA || api == KEDGE_KEY_API_NEF_AKMA;
}

/* KedgeKeyRequest {kedgeId, ecsId?, revocCallbackUri?} (AUSF); {afId, kedgeId, ecsId?,
 * revocCallbackUri?} (NEF); SPEC.md 3 and issue 13.
 * AkmaAfKeyRequest {afId, aKId} (AAnF and NEF alike, TS 29.522, TS 29.535). */
json_t *kedge_key_request_body(const kedge_key_request_t *rq)
{
  json_t *body = json_object();
  if (!body || !rq->key_id)
    goto fail;
  int rc = 0;
  if (kedge_key_api_is_akma(rq->api)) {
    if (!rq->af_id)
      goto fail;
    rc |= json_object_set_new(body, "afId", json_string(rq->af_id));
    rc |= json_object_set_new(body, "aKId", json_stringn(rq->key_id, rq->key_id_len));
    if (rc == 0)
      return body;
    goto fail;
  }
  if (rq->api == KEDGE_KEY_API_NEF_KEDGE)
    rc |= json_object_set_new(body, "afId", json_string(rq->af_id ? rq->af_id : ""));
  rc |= json_object_set_new(body, "kedgeId", json_stringn(rq->key_id, rq->key_id_len));
  if (rq->ecs_id) /* SPEC.md 6: profile bound, K_ECS for this ECS ID */
    rc |= json_object_set_new(body, "ecsId", json_string(rq->ecs_id));
  if (rq->revoc_callback_uri) /* issue 13: tell me when this key is revoked */
    rc |= json_object_set_new(body, "revocCallbackUri", json_string(rq->revoc_callback_uri));
  if (rc == 0)
    return body;
fail:
  json_decref(body);
  return NULL;
}

/* The key (64 hex digits) and its RFC 3339 expiry: the part every key API's answer shares. */
static kedge_err_t key_and_expiry_read(const json_t *hex, const char *exp,
                                       uint8_t key[KEDGE_KEY_LEN], int64_t *expiry_unix_ms)
{
  if (!json_is_string(hex) || json_string_length(hex) != 2 * KEDGE_KEY_LEN || !exp ||
      kedge_rfc3339_parse(exp, expiry_unix_ms) != KEDGE_OK)
    return KEDGE_ERR_INVALID_ARG;
  if (kedge_hex_decode(json_string_value(hex), key, KEDGE_KEY_LEN) != KEDGE_OK) {
    OPENSSL_cleanse(key, KEDGE_KEY_LEN);
    return KEDGE_ERR_INVALID_ARG;
  }
  return KEDGE_OK;
}

/* KedgeKeyResponse {kedgeId, kedge (64 hex), expiry (RFC 3339)}: the same from AUSF and NEF.
 * AkmaAfKeyData {kaf (64 hex, kedge's choice), expiry (DateTime), supi?, gpsi?}: no key ID. */
kedge_err_t kedge_key_answer_read(const kedge_key_request_t *rq, const json_t *j,
                                  uint8_t key[KEDGE_KEY_LEN], int64_t *expiry_unix_ms)
{
  const char *exp = json_string_value(json_object_get(j, "expiry"));
  if (kedge_key_api_is_akma(rq->api))
    return key_and_expiry_read(json_object_get(j, "kaf"), exp, key, expiry_unix_ms);
  const json_t *id = json_object_get(j, "kedgeId");
  if (!json_is_string(id) || json_string_length(id) != rq->key_id_len ||
      memcmp(json_string_value(id), rq->key_id, rq->key_id_len) != 0)
    return KEDGE_ERR_INVALID_ARG;
  return key_and_expiry_read(json_object_get(j, "kedge"), exp, key, expiry_unix_ms);
}
