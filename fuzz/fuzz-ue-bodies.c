/* libFuzzer target: what the AUSF answers the UE simulator's SEAF (daemons/ue/nausf.c): the
 * UEAuthenticationCtx of ue-authentications (TS 29.509 6.1.6.2.3: authType, 5gAuthData
 * {rand, autn, hxresStar}, _links 5g-aka href) through ue_parse_auth_ctx, and the href
 * resolved against the request URI (ue_resolve_href, RFC 3986 5.2); and the same body as the
 * ConfirmationDataResponse of 5g-aka-confirmation (6.1.6.2.6, ue_parse_confirmation).
 * Invariants: no crash, no leak; every refusal names its reason; a resolved href is https; the
 * shortcut for a plain link on the base's own origin (ue_resolve_href_uh with ue_href_origin)
 * gives exactly what libcurl's resolution gives; a body that ue_auth_ctx_recognise or
 * ue_confirmation_recognise takes (the AUSF's own forms, read without jansson) parses with
 * jansson and passes ue_parse_auth_ctx / ue_parse_confirmation with the same fields
 * (differential: abort when they differ). */
#include <string.h>

#include <curl/curl.h>

#include "fuzz_body.h"
#include "ue.h"

#define FUZZ_SUPI "imsi-001010000000001"

/* The recognisers against jansson and the tree parsers on the same octets. */
static void recognisers_agree(const uint8_t *data, size_t size)
{
  ue_auth_ctx_t fast, slow;
  if (ue_auth_ctx_recognise((const char *)data, size, &fast)) {
    json_t *tree = fuzz_body_load(data, size);
    const char *why = NULL;
    if (!tree || ue_parse_auth_ctx(tree, &slow, &why) != KEDGE_OK ||
        memcmp(&fast, &slow, sizeof(fast)) != 0)
      abort();
    json_decref(tree);
  }
  uint8_t kseaf_fast[KEDGE_KSEAF_LEN], kseaf_slow[KEDGE_KSEAF_LEN];
  if (ue_confirmation_recognise((const char *)data, size, FUZZ_SUPI, kseaf_fast)) {
    json_t *tree = fuzz_body_load(data, size);
    const char *why = NULL, *result = NULL;
    if (!tree || ue_parse_confirmation(tree, FUZZ_SUPI, &result, kseaf_slow, &why) != KEDGE_OK ||
        memcmp(kseaf_fast, kseaf_slow, sizeof(kseaf_fast)) != 0)
      abort();
    json_decref(tree);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  recognisers_agree(data, size);
  json_t *body = fuzz_body_load(data, size);
  if (!body)
    return 0;
  ue_auth_ctx_t ctx;
  const char *why = NULL;
  if (ue_parse_auth_ctx(body, &ctx, &why) != KEDGE_OK) {
    if (!why)
      abort();
  } else {
    static const char base[] = "https://127.0.0.1:8443/nausf-auth/v1/ue-authentications";
    char out[1024];
    kedge_err_t e = ue_resolve_href(base, ctx.href, out, sizeof(out));
    if (e == KEDGE_OK && strncmp(out, "https://", 8) != 0)
      abort();
    CURLU *u = curl_url();
    char origin[256], fast[1024];
    if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
        ue_href_origin(u, origin, sizeof(origin)) == KEDGE_OK &&
        (ue_resolve_href_uh(u, origin, ctx.href, fast, sizeof(fast)) != e ||
         strcmp(fast, out) != 0))
      abort();
    curl_url_cleanup(u);
  }
  uint8_t kseaf[KEDGE_KSEAF_LEN];
  const char *result = NULL;
  why = NULL;
  kedge_err_t err = ue_parse_confirmation(body, FUZZ_SUPI, &result, kseaf, &why);
  if ((err == KEDGE_ERR_CONFIG && !why) ||
      (err == KEDGE_OK && strcmp(result, "AUTHENTICATION_SUCCESS")))
    abort();
  json_decref(body);
  return 0;
}
