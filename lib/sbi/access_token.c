/* The consumer side of OAuth2 (TS 33.501 13.4.1.1, TS 29.510 5.4.2.2 Nnrf_AccessToken): an
 * access token per (target NF type, service) from the NRF, sent as `Authorization: Bearer`
 * (RFC 6750 2.1). The request is the AccessTokenReq form (TS29510_Nnrf_AccessToken.yaml:
 * grant_type=client_credentials, nfInstanceId, nfType, targetNfType, scope) posted as
 * application/x-www-form-urlencoded; the answer an AccessTokenRsp (access_token, token_type
 * Bearer, expires_in). A token is used until expires_in minus a margin and refreshed in the
 * background once three quarters of its life have passed, so that callers rarely wait. The
 * token is never logged: lines name the scope and the outcome. */
#include "access_token.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "kedge/log.h"
#include "kedge/time.h"

typedef struct token_slot {
  bool used;
  char scope[64], target[16];
  char *token; /* NULL: none yet */
  int64_t valid_until_ms, refresh_at_ms;
  bool fetching;
} token_slot_t;

struct sbi_token_cache {
  token_slot_t slots[SBI_TOKEN_SLOTS];
};

/* Process-wide consumer settings (kedge_app_main from the oauth2: section). */
static pthread_mutex_t settings_lock = PTHREAD_MUTEX_INITIALIZER;
static char token_uri[512], nf_type[16], nf_instance_id[64];
static unsigned margin_ms = 10000;

kedge_err_t kedge_sbi_client_set_oauth2(const char *uri, const char *type, const char *instance_id,
                                        unsigned margin)
{
  if (uri && (strlen(uri) >= sizeof(token_uri) || strncmp(uri, "https://", 8) != 0 || !type ||
              strlen(type) >= sizeof(nf_type) || !instance_id ||
              strlen(instance_id) >= sizeof(nf_instance_id)))
    return KEDGE_ERR_INVALID_ARG;
  pthread_mutex_lock(&settings_lock);
  snprintf(token_uri, sizeof(token_uri), "%s", uri ? uri : "");
  snprintf(nf_type, sizeof(nf_type), "%s", uri ? type : "");
  snprintf(nf_instance_id, sizeof(nf_instance_id), "%s", uri ? instance_id : "");
  margin_ms = margin;
  pthread_mutex_unlock(&settings_lock);
  return KEDGE_OK;
}

sbi_token_cache_t *sbi_token_cache_new(void)
{
  pthread_mutex_lock(&settings_lock);
  bool on = token_uri[0] != '\0';
  pthread_mutex_unlock(&settings_lock);
  return on ? calloc(1, sizeof(sbi_token_cache_t)) : NULL;
}

static void slot_clear_token(token_slot_t *s)
{
  if (s->token) {
    OPENSSL_cleanse(s->token, strlen(s->token));
    free(s->token);
  }
  s->token = NULL;
}

void sbi_token_cache_free(sbi_token_cache_t *tc)
{
  if (!tc)
    return;
  for (size_t i = 0; i < SBI_TOKEN_SLOTS; i++)
    slot_clear_token(&tc->slots[i]);
  free(tc);
}

void sbi_token_drop(sbi_token_cache_t *tc, int slot)
{
  if (tc && slot >= 0 && slot < SBI_TOKEN_SLOTS)
    slot_clear_token(&tc->slots[slot]);
}

/* TS 29.501 4.4.1: {apiRoot}/<apiName>/<apiVersion>/...; TS 29.510 6.1.6.3.11 ServiceName:
 * n<nf>-<service> ("nudm-ueau" -> UDM). The kedge key service is nausf-kedge (SPEC.md 7). */
static bool scope_of_url(const char *url, char *scope, size_t ssize, char *target, size_t tsize)
{
  const char *p = strstr(url, "://");
  p = p ? strchr(p + 3, '/') : NULL;
  if (!p)
    return false;
  p++;
  size_t n = strcspn(p, "/?#");
  if (n == 0 || n >= ssize || p[n] != '/')
    return false;
  memcpy(scope, p, n);
  scope[n] = '\0';
  if (strcmp(scope, "nausf-auth") == 0 && strstr(p + n, "/kedge-keys/"))
    snprintf(scope, ssize, "nausf-kedge");
  target[0] = '\0';
  const char *dash = strchr(scope, '-');
  if (scope[0] == 'n' && dash && (size_t)(dash - scope - 1) < tsize && dash - scope > 1) {
    size_t t = (size_t)(dash - scope - 1);
    for (size_t i = 0; i < t; i++)
      target[i] = (char)toupper((unsigned char)scope[1 + i]);
    target[t] = '\0';
  }
  return true;
}

typedef struct fetch {
  kedge_sbi_client_t *client;
  sbi_token_cache_t *tc;
  int slot;
} fetch_t;

/* RFC 6750 2.1 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=": what
 * may follow "Bearer " in a header line (no space, CR or LF from the NRF reaches it). */
static bool is_b64token(const char *t)
{
  size_t n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");
  if (n == 0)
    return false;
  return t[n + strspn(t + n, "=")] == '\0';
}

/* a year: an expires_in beyond it is nonsense, not a token's life (and would overflow in ms) */
#define TOKEN_LIFE_MAX_S 31536000

static void fetched(const kedge_sbi_client_response_t *r, void *arg)
{
  fetch_t *f = arg;
  token_slot_t *s = &f->tc->slots[f->slot];
  s->fetching = false;
  const char *tok = json_string_value(json_object_get(r->json, "access_token"));
  const char *type = json_string_value(json_object_get(r->json, "token_type"));
  json_int_t expires_in = json_integer_value(json_object_get(r->json, "expires_in"));
  bool ok = r->err == KEDGE_OK && r->status == 200 && tok && strlen(tok) < SBI_TOKEN_MAX &&
            is_b64token(tok) && type && strcasecmp(type, "Bearer") == 0 && expires_in > 0 &&
            expires_in <= TOKEN_LIFE_MAX_S;
  if (ok) {
    char *copy = strdup(tok);
    ok = copy != NULL;
    if (ok) {
      slot_clear_token(s);
      s->token = copy;
      int64_t now = kedge_now_ms(), life = (int64_t)expires_in * 1000;
      /* used until expires_in minus the margin (at most half its life), refreshed at 3/4 */
      int64_t margin = (int64_t)margin_ms < life / 2 ? (int64_t)margin_ms : life / 2;
      s->valid_until_ms = now + life - margin;
      s->refresh_at_ms = now + life * 3 / 4;
      if (s->refresh_at_ms > s->valid_until_ms)
        s->refresh_at_ms = s->valid_until_ms;
      kedge_log_debug("oauth2: token for %s %s, expires in %lld s", s->target, s->scope,
                      (long long)expires_in);
    }
  } else {
    /* AccessTokenErr's error (RFC 6749 5.2) names why, never a token */
    const char *error = json_string_value(json_object_get(r->json, "error"));
    kedge_log_warn("oauth2: no access token for %s %s from the NRF: %s", s->target, s->scope,
                   r->err  ? kedge_strerror(r->err)
                   : error ? error
                           : "unexpected answer");
  }
  kedge_sbi_client_t *c = f->client;
  int slot = f->slot;
  free(f);
  sbi_client_token_ready(c, slot, ok || s->token != NULL);
}

/* Adds name=value to a form, percent-encoded by libcurl. */
static bool form_add(char *out, size_t size, const char *name, const char *value)
{
  if (!value || !*value)
    return true;
  char *enc = curl_easy_escape(NULL, value, 0);
  if (!enc)
    return false;
  size_t used = strlen(out);
  int n = snprintf(out + used, size - used, "%s%s=%s", used ? "&" : "", name, enc);
  curl_free(enc);
  return n > 0 && (size_t)n < size - used;
}

static bool start_fetch(kedge_sbi_client_t *c, sbi_token_cache_t *tc, int slot)
{
  token_slot_t *s = &tc->slots[slot];
  char form[1024] = "", uri[512], type[16], instance[64];
  pthread_mutex_lock(&settings_lock);
  snprintf(uri, sizeof(uri), "%s", token_uri);
  snprintf(type, sizeof(type), "%s", nf_type);
  snprintf(instance, sizeof(instance), "%s", nf_instance_id);
  pthread_mutex_unlock(&settings_lock);
  /* TS 29.510 6.3.5.2.1 AccessTokenReq */
  if (!form_add(form, sizeof(form), "grant_type", "client_credentials") ||
      !form_add(form, sizeof(form), "nfInstanceId", instance) ||
      !form_add(form, sizeof(form), "nfType", type) ||
      !form_add(form, sizeof(form), "targetNfType", s->target) ||
      !form_add(form, sizeof(form), "scope", s->scope))
    return false;
  fetch_t *f = malloc(sizeof(*f));
  if (!f)
    return false;
  *f = (fetch_t){.client = c, .tc = tc, .slot = slot};
  const kedge_sbi_client_request_t req = {.method = "POST",
                                          .url = uri,
                                          .raw_body = form,
                                          .raw_body_len = strlen(form),
                                          .content_type = "application/x-www-form-urlencoded"};
  if (kedge_sbi_client_send(c, &req, fetched, f, NULL) != KEDGE_OK) {
    free(f);
    return false;
  }
  s->fetching = true;
  return true;
}

bool sbi_token_is_nrf(const char *url)
{
  pthread_mutex_lock(&settings_lock);
  bool to_nrf = token_uri[0] && strncmp(url, token_uri, strlen(token_uri)) == 0;
  pthread_mutex_unlock(&settings_lock);
  return to_nrf;
}

sbi_token_answer_t sbi_token_get(kedge_sbi_client_t *c, sbi_token_cache_t *tc, const char *url,
                                 int *slot, const char **token)
{
  *slot = -1;
  *token = NULL;
  char scope[64], target[16];
  if (!tc || sbi_token_is_nrf(url) ||
      !scope_of_url(url, scope, sizeof(scope), target, sizeof(target)))
    return SBI_TOKEN_NONE;
  int free_slot = -1, found = -1;
  for (int i = 0; i < SBI_TOKEN_SLOTS && found < 0; i++) {
    token_slot_t *s = &tc->slots[i];
    if (!s->used && free_slot < 0)
      free_slot = i;
    else if (s->used && strcmp(s->scope, scope) == 0 && strcmp(s->target, target) == 0)
      found = i;
  }
  if (found < 0) {
    if (free_slot < 0) { /* bounded: the oldest-expiring entry without a fetch makes room */
      for (int i = 0; i < SBI_TOKEN_SLOTS; i++)
        if (!tc->slots[i].fetching &&
            (free_slot < 0 || tc->slots[i].valid_until_ms < tc->slots[free_slot].valid_until_ms))
          free_slot = i;
      if (free_slot < 0)
        return SBI_TOKEN_ERROR;
      slot_clear_token(&tc->slots[free_slot]);
    }
    found = free_slot;
    token_slot_t *s = &tc->slots[found];
    *s = (token_slot_t){.used = true};
    snprintf(s->scope, sizeof(s->scope), "%s", scope);
    snprintf(s->target, sizeof(s->target), "%s", target);
  }
  token_slot_t *s = &tc->slots[found];
  *slot = found;
  int64_t now = kedge_now_ms();
  if (s->token && now >= s->valid_until_ms)
    slot_clear_token(s);
  if (s->token) {
    if (now >= s->refresh_at_ms && !s->fetching)
      start_fetch(c, tc, found); /* ahead of expiry; the current token serves meanwhile */
    *token = s->token;
    return SBI_TOKEN_READY;
  }
  if (s->fetching || start_fetch(c, tc, found))
    return SBI_TOKEN_WAIT;
  return SBI_TOKEN_ERROR;
}
