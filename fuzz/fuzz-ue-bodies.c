/* libFuzzer target: what the AUSF answers the UE simulator's SEAF (daemons/ue/nausf.c): the
 * UEAuthenticationCtx of ue-authentications (TS 29.509 6.1.6.2.3: authType, 5gAuthData
 * {rand, autn, hxresStar}, _links 5g-aka href) through ue_parse_auth_ctx, and the href
 * resolved against the request URI (ue_resolve_href, RFC 3986 5.2); and the same body as the
 * ConfirmationDataResponse of 5g-aka-confirmation (6.1.6.2.6, ue_parse_confirmation).
 * Invariants: no crash, no leak; every refusal names its reason; a resolved href is https; the
 * shortcut for a plain link on the base's own origin (ue_resolve_href_uh with ue_href_origin)
 * gives exactly what libcurl's resolution gives; a body that ue_read_auth_ctx or
 * ue_read_confirmation reads flat (without jansson) gets the verdict, reason and fields that
 * jansson and ue_parse_auth_ctx / ue_parse_confirmation give (differential: abort when they
 * differ). */
#include <string.h>

#include <curl/curl.h>

#include "fuzz_body.h"
#include "ue.h"

#define FUZZ_SUPI "imsi-001010000000001"

/* The confirmation read flat (ue_read_confirmation) against jansson and ue_parse_confirmation
 * on the same octets: the same verdict, reason, authResult and KSEAF. */
static void flat_agrees(const uint8_t *data, size_t size)
{
  uint8_t k_flat[KEDGE_KSEAF_LEN], k_tree[KEDGE_KSEAF_LEN];
  char result[UE_AUTH_RESULT_MAX + 1];
  const char *why_flat = NULL, *why_tree = NULL, *tree_result = NULL;
  kedge_err_t err_flat;
  if (!ue_read_confirmation((const char *)data, size, FUZZ_SUPI, result, k_flat, &why_flat,
                            &err_flat))
    return;
  json_t *tree = fuzz_body_load(data, size);
  if (!tree)
    abort(); /* read flat, so JSON */
  kedge_err_t err_tree = ue_parse_confirmation(tree, FUZZ_SUPI, &tree_result, k_tree, &why_tree);
  if (err_flat != err_tree ||
      (why_flat != why_tree && (!why_flat || !why_tree || strcmp(why_flat, why_tree))) ||
      strcmp(result, tree_result ? tree_result : "") ||
      (err_flat == KEDGE_OK && memcmp(k_flat, k_tree, sizeof(k_flat))))
    abort();
  json_decref(tree);
}

/* The UEAuthenticationCtx read flat (ue_read_auth_ctx) against ue_parse_auth_ctx. */
static void flat_ctx_agrees(const uint8_t *data, size_t size)
{
  ue_auth_ctx_t flat, tree;
  const char *why_flat = NULL, *why_tree = NULL;
  kedge_err_t err_flat;
  if (!ue_read_auth_ctx((const char *)data, size, &flat, &why_flat, &err_flat))
    return;
  json_t *body = fuzz_body_load(data, size);
  if (!body)
    abort(); /* read flat, so JSON */
  kedge_err_t err_tree = ue_parse_auth_ctx(body, &tree, &why_tree);
  if (err_flat != err_tree ||
      (err_flat && (!why_flat || !why_tree || strcmp(why_flat, why_tree))) ||
      (!err_flat && memcmp(&flat, &tree, sizeof(flat))))
    abort();
  json_decref(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  flat_ctx_agrees(data, size);
  flat_agrees(data, size);
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
