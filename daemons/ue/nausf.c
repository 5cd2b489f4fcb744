/* Nausf_UEAuthentication from the SEAF's side (TS 29.509 5.2.2.2, 6.1.6): the AuthenticationInfo
 * it sends, the UEAuthenticationCtx it expects, and the 5g-aka link it follows. Member names
 * as the OpenAPI file spells them (shared/ref/openapi/TS29509_Nausf_UEAuthentication.yaml). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "kedge/hex.h"
#include "kedge/json_check.h"
#include "ue.h"

kedge_err_t ue_supi_or_suci(const ue_usim_t *usim, char *out, size_t size)
{
  if (!usim->conceal) {
    int n = snprintf(out, size, "%s", usim->supi.value);
    return n < 0 || (size_t)n >= size ? KEDGE_ERR_TOO_BIG : KEDGE_OK;
  }
  /* TS 33.501 6.12.2: the ME makes a new SUCI, with a fresh ephemeral key, for each request */
  kedge_suci_params_t p = {.mcc = usim->home.mcc,
                           .mnc = usim->home_mnc,
                           .rid = usim->rid,
                           .scheme = usim->suci_scheme,
                           .hn_key_id = usim->hn_key_id,
                           .hn_pub = usim->hn_public_key,
                           .hn_pub_len = usim->hn_public_key_len};
  kedge_suci_t suci;
  kedge_err_t err = kedge_suci_conceal(&usim->supi, &p, &suci);
  if (!err)
    err = kedge_suci_format(&suci, out, size);
  OPENSSL_cleanse(&suci, sizeof(suci));
  return err;
}

json_t *ue_authentication_info(const ue_config_t *cfg, const uint8_t *rand, const uint8_t *auts)
{
  /* TS 29.509 6.1.6.2.2: supiOrSuci and servingNetworkName are required; the UE simulator
   * sends its SUPI, or a SUCI when configured with the home network public key. */
  char id[KEDGE_SUCI_MAX + 1];
  if (ue_supi_or_suci(&cfg->usim, id, sizeof(id)) != KEDGE_OK)
    return NULL;
  json_t *body = json_pack("{s:s, s:s}", "supiOrSuci", id, "servingNetworkName", cfg->snn);
  if (body && rand && auts) {
    /* TS 29.503 6.3.6.2.3 ResynchronizationInfo: the RAND of the failed challenge and AUTS */
    char rand_hex[2 * KEDGE_RAND_LEN + 1], auts_hex[2 * KEDGE_AUTS_LEN + 1];
    kedge_hex_encode(rand, KEDGE_RAND_LEN, rand_hex);
    kedge_hex_encode(auts, KEDGE_AUTS_LEN, auts_hex);
    json_t *resync = json_pack("{s:s, s:s}", "rand", rand_hex, "auts", auts_hex);
    if (!resync || json_object_set_new(body, "resynchronizationInfo", resync) != 0) {
      json_decref(body);
      body = NULL;
    }
  }
  return body;
}

/* A flat string's text, terminated, into out (its table bounds it); NULL when absent. */
static const char *span_text(char *out, const kedge_json_span_t *v)
{
  if (!v->ptr)
    return NULL;
  memcpy(out, v->ptr, v->len);
  out[v->len] = '\0';
  return out;
}

/* TS 29.509 6.1.6.2.6 ConfirmationDataResponse from its three strings (NULL: absent), read
 * from a tree or flat: one set of checks for both. */
static kedge_err_t check_confirmation(const char *result, const char *confirmed,
                                      const char *kseaf_hex, const char *supi,
                                      uint8_t kseaf[KEDGE_KSEAF_LEN], const char **why)
{
  if (!result) {
    *why = "200 without authResult";
    return KEDGE_ERR_CONFIG;
  }
  if (strcmp(result, "AUTHENTICATION_FAILURE") == 0)
    return KEDGE_ERR_FORBIDDEN;
  if (strcmp(result, "AUTHENTICATION_SUCCESS") != 0) {
    *why = "authResult neither AUTHENTICATION_SUCCESS nor AUTHENTICATION_FAILURE";
    return KEDGE_ERR_CONFIG;
  }
  if (confirmed && strcmp(confirmed, supi) != 0) {
    *why = "the AUSF confirmed another SUPI";
    return KEDGE_ERR_CONFIG;
  }
  if (!kseaf_hex || kedge_hex_decode(kseaf_hex, kseaf, KEDGE_KSEAF_LEN) != KEDGE_OK) {
    *why = "AUTHENTICATION_SUCCESS without a 64-hex-digit kseaf";
    return KEDGE_ERR_CONFIG;
  }
  return KEDGE_OK;
}

kedge_err_t ue_parse_confirmation(const json_t *body, const char *supi, const char **auth_result,
                                  uint8_t kseaf[KEDGE_KSEAF_LEN], const char **why)
{
  *auth_result = json_string_value(json_object_get(body, "authResult"));
  return check_confirmation(*auth_result, json_string_value(json_object_get(body, "supi")),
                            json_string_value(json_object_get(body, "kseaf")), supi, kseaf, why);
}

/* The members ue_parse_confirmation reads, as a flat table (kedge_json_flat_read): a body of
 * only these, strings that need no decoding, is read in place; the bounds are the copies'. */
static const kedge_json_member_t confirmation_members[] = {
    {.name = "authResult", .kind = KEDGE_JSON_STRING, .max_len = UE_AUTH_RESULT_MAX},
    {.name = "supi", .kind = KEDGE_JSON_STRING, .max_len = KEDGE_SUPI_MAX},
    {.name = "kseaf", .kind = KEDGE_JSON_STRING, .max_len = 2 * KEDGE_KSEAF_LEN},
    {.name = NULL},
};

bool ue_read_confirmation(const char *body, size_t len, const char *supi,
                          char auth_result[UE_AUTH_RESULT_MAX + 1], uint8_t kseaf[KEDGE_KSEAF_LEN],
                          const char **why, kedge_err_t *err)
{
  kedge_json_span_t v[KEDGE_JSON_FLAT_MAX];
  if (!kedge_json_flat_read(body, len, confirmation_members, v))
    return false;
  char confirmed[KEDGE_SUPI_MAX + 1], kseaf_hex[2 * KEDGE_KSEAF_LEN + 1];
  auth_result[0] = '\0';
  *err = check_confirmation(span_text(auth_result, &v[0]), span_text(confirmed, &v[1]),
                            span_text(kseaf_hex, &v[2]), supi, kseaf, why);
  OPENSSL_cleanse(kseaf_hex, sizeof(kseaf_hex));
  return true;
}

/* TS 29.509 6.1.6.2.3 UEAuthenticationCtx of a 5G AKA run from its strings (NULL: absent),
 * read from a tree or flat: one set of checks for both. `av`: 5gAuthData is an object. */
static kedge_err_t check_auth_ctx(const char *auth_type, bool av, const char *rand,
                                  const char *autn, const char *hxres_star, const char *href,
                                  ue_auth_ctx_t *ctx, const char **why)
{
  if (!auth_type) {
    *why = "authType: missing";
    return KEDGE_ERR_CONFIG;
  }
  if (strcmp(auth_type, "5G_AKA") != 0) {
    /* TS 33.501 6.1.2: the home network chose another method; kedge's UE does 5G AKA only. */
    *why = "authType: not 5G_AKA (the only method this UE supports)";
    return KEDGE_ERR_UNSUPPORTED;
  }
  if (!av) {
    *why = "5gAuthData: missing or not an Av5gAka object";
    return KEDGE_ERR_CONFIG;
  }
  if (!rand || kedge_hex_decode(rand, ctx->rand, sizeof(ctx->rand)) != KEDGE_OK) {
    *why = "5gAuthData.rand: missing or not 32 hex digits";
    return KEDGE_ERR_CONFIG;
  }
  if (!autn || kedge_hex_decode(autn, ctx->autn, sizeof(ctx->autn)) != KEDGE_OK) {
    *why = "5gAuthData.autn: missing or not 32 hex digits";
    return KEDGE_ERR_CONFIG;
  }
  if (!hxres_star ||
      kedge_hex_decode(hxres_star, ctx->hxres_star, sizeof(ctx->hxres_star)) != KEDGE_OK) {
    *why = "5gAuthData.hxresStar: missing or not 32 hex digits";
    return KEDGE_ERR_CONFIG;
  }
  if (!href || !href[0]) {
    *why = "_links.5g-aka.href: missing";
    return KEDGE_ERR_CONFIG;
  }
  if (strlen(href) >= sizeof(ctx->href)) {
    *why = "_links.5g-aka.href: too long";
    return KEDGE_ERR_TOO_BIG;
  }
  memcpy(ctx->href, href, strlen(href) + 1);
  return KEDGE_OK;
}

kedge_err_t ue_parse_auth_ctx(const json_t *body, ue_auth_ctx_t *ctx, const char **why)
{
  static const char *unused;
  if (!why)
    why = &unused;
  memset(ctx, 0, sizeof(*ctx));
  if (!json_is_object(body)) {
    *why = "the body is not a UEAuthenticationCtx object";
    return KEDGE_ERR_CONFIG;
  }
  const json_t *av = json_object_get(body, "5gAuthData");
  /* _links: a map of LinksValueSchema (TS 29.571): one Link, or an array of alternatives. */
  const json_t *link = json_object_get(json_object_get(body, "_links"), "5g-aka");
  if (json_is_array(link))
    link = json_array_get(link, 0);
  return check_auth_ctx(json_string_value(json_object_get(body, "authType")), json_is_object(av),
                        json_string_value(json_object_get(av, "rand")),
                        json_string_value(json_object_get(av, "autn")),
                        json_string_value(json_object_get(av, "hxresStar")),
                        json_string_value(json_object_get(link, "href")), ctx, why);
}

/* The members ue_parse_auth_ctx reads, as flat tables (kedge_json_flat_read, nested): a body of
 * only these, strings that need no decoding and a Link object (not an array), is read in
 * place; the bounds are the copies'. */
static const kedge_json_member_t av_members[] = {
    {.name = "rand", .kind = KEDGE_JSON_STRING, .max_len = 2 * KEDGE_RAND_LEN},
    {.name = "hxresStar", .kind = KEDGE_JSON_STRING, .max_len = 2 * KEDGE_HXRES_STAR_LEN},
    {.name = "autn", .kind = KEDGE_JSON_STRING, .max_len = 2 * KEDGE_AUTN_LEN},
    {.name = NULL},
};
static const kedge_json_member_t link_members[] = {
    {.name = "href", .kind = KEDGE_JSON_STRING, .max_len = UE_URI_MAX - 1},
    {.name = NULL},
};
static const kedge_json_member_t links_members[] = {
    {.name = "5g-aka", .kind = KEDGE_JSON_OBJECT, .object = link_members},
    {.name = NULL},
};
static const kedge_json_member_t auth_ctx_members[] = {
    {.name = "authType", .kind = KEDGE_JSON_STRING, .max_len = 31},
    {.name = "5gAuthData", .kind = KEDGE_JSON_OBJECT, .object = av_members},
    {.name = "_links", .kind = KEDGE_JSON_OBJECT, .object = links_members},
    {.name = NULL},
};

bool ue_read_auth_ctx(const char *body, size_t len, ue_auth_ctx_t *ctx, const char **why,
                      kedge_err_t *err)
{
  kedge_json_span_t top[KEDGE_JSON_FLAT_MAX], av[KEDGE_JSON_FLAT_MAX] = {{0}},
                                              links[KEDGE_JSON_FLAT_MAX] = {{0}},
                                              link[KEDGE_JSON_FLAT_MAX] = {{0}};
  memset(ctx, 0, sizeof(*ctx));
  if (!kedge_json_flat_read(body, len, auth_ctx_members, top))
    return false;
  /* the nested objects' texts were read with these tables: they read again */
  if (top[1].ptr)
    kedge_json_flat_read(top[1].ptr, top[1].len, av_members, av);
  if (top[2].ptr)
    kedge_json_flat_read(top[2].ptr, top[2].len, links_members, links);
  if (links[0].ptr)
    kedge_json_flat_read(links[0].ptr, links[0].len, link_members, link);
  char auth_type[32], rand[2 * KEDGE_RAND_LEN + 1], autn[2 * KEDGE_AUTN_LEN + 1],
      hxres_star[2 * KEDGE_HXRES_STAR_LEN + 1], href[UE_URI_MAX];
  *err = check_auth_ctx(span_text(auth_type, &top[0]), top[1].ptr != NULL, span_text(rand, &av[0]),
                        span_text(autn, &av[2]), span_text(hxres_star, &av[1]),
                        span_text(href, &link[0]), ctx, why);
  return true;
}

kedge_err_t ue_href_origin(CURLU *base, char *origin, size_t size)
{
  if (!base || !origin || !size)
    return KEDGE_ERR_INVALID_ARG;
  origin[0] = '\0';
  char *url = NULL;
  if (curl_url_get(base, CURLUPART_URL, &url, 0) != CURLUE_OK)
    return KEDGE_ERR_CONFIG;
  kedge_err_t err = KEDGE_OK;
  static const char https[] = "https://";
  if (strncmp(url, https, sizeof(https) - 1) == 0) {
    size_t n = sizeof(https) - 1 + strcspn(url + sizeof(https) - 1, "/?#");
    if (n >= size)
      err = KEDGE_ERR_TOO_BIG;
    else if (!memchr(url, '@', n)) { /* user info: every href through libcurl, which refuses it */
      memcpy(origin, url, n);
      origin[n] = '\0';
    }
  }
  curl_free(url);
  return err;
}

/* The shortcut of ue_resolve_href_uh: true when href is origin + "/" + a path of unreserved
 * characters and '/' with no segment starting with '.' (so no dot segment to remove). */
static bool href_is_plain(const char *origin, const char *href)
{
  size_t n = origin ? strlen(origin) : 0;
  if (!n || strncmp(href, origin, n) != 0 || href[n] != '/')
    return false;
  for (const char *p = href + n; *p; p++) {
    if (*p == '/' ? p[1] == '.'
                  : !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~'))
      return false;
  }
  return true;
}

kedge_err_t ue_resolve_href_uh(CURLU *base, const char *origin, const char *href, char *out,
                               size_t size)
{
  if (!base || !href || !out || !size)
    return KEDGE_ERR_INVALID_ARG;
  out[0] = '\0';
  if (href_is_plain(origin, href)) {
    size_t len = strlen(href);
    if (len >= size)
      return KEDGE_ERR_TOO_BIG;
    memcpy(out, href, len + 1);
    return KEDGE_OK;
  }
  CURLU *u = curl_url_dup(base);
  if (!u)
    return KEDGE_ERR_NOMEM;
  char *url = NULL, *scheme = NULL, *user = NULL, *fragment = NULL;
  kedge_err_t err = KEDGE_ERR_CONFIG;
  /* RFC 3986 5.2 with libcurl's resolver: an absolute href replaces the base, "/path" keeps
   * its authority, "path" is relative to the base's path. */
  if (curl_url_set(u, CURLUPART_URL, href, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      strcmp(scheme, "https") == 0 && /* RES* never leaves over plain HTTP */
      curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_NO_USER &&
      curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0) == CURLUE_NO_FRAGMENT &&
      curl_url_get(u, CURLUPART_URL, &url, 0) == CURLUE_OK) {
    if (strlen(url) < size) {
      memcpy(out, url, strlen(url) + 1);
      err = KEDGE_OK;
    } else {
      err = KEDGE_ERR_TOO_BIG;
    }
  }
  curl_free(url);
  curl_free(scheme);
  curl_free(user);
  curl_free(fragment);
  curl_url_cleanup(u);
  return err;
}

kedge_err_t ue_resolve_href(const char *base, const char *href, char *out, size_t size)
{
  if (!base || !href || !out || !size)
    return KEDGE_ERR_INVALID_ARG;
  out[0] = '\0';
  CURLU *u = curl_url();
  if (!u)
    return KEDGE_ERR_NOMEM;
  kedge_err_t err = curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK
                        ? ue_resolve_href_uh(u, NULL, href, out, size)
                        : KEDGE_ERR_CONFIG;
  curl_url_cleanup(u);
  return err;
}
