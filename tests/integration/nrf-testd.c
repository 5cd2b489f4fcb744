/* kedge-nrf-testd: a test peer playing the NRF's Nnrf_NFManagement for test-nrf.sh (no NRF is
 * installable on Debian 12). It stores profiles and nothing more:
 *   PUT    /nnrf-nfm/v1/nf-instances/{id}  201 (new) or 200 (replaced) with the profile plus
 *          heartBeatTimer = $KEDGE_NRF_TEST_HEARTBEAT seconds (TS 29.510 5.2.2.2.2)
 *   PATCH  /nnrf-nfm/v1/nf-instances/{id}  204; 404 for an unknown id (5.2.2.3.2)
 *   DELETE /nnrf-nfm/v1/nf-instances/{id}  204; 404 for an unknown id (5.2.2.4.2)
 *   GET    /nnrf-nfm/v1/nf-instances/{id}  200 with the stored profile; 404
 *   DELETE /test/nf-instances               forgets every profile (as an NRF that expired them)
 *   GET    /nnrf-disc/v1/nf-instances?...    NFDiscover (TS 29.510 5.3.2.2): a SearchResult of the
 *          stored profiles that match target-nf-type, service-names, supi (in the
 *          udmInfo/ausfInfo supiRanges) and routing-indicator (in their routingIndicators), with
 *          validityPeriod = $KEDGE_NRF_TEST_VALIDITY seconds (default 60); the record line also
 *          carries the decoded "query" and the "answer", which the test validates
 * and, with $KEDGE_NRF_TEST_TOKEN_KEY (a PEM EC P-256 or RSA private key the test generated),
 * Nnrf_AccessToken (TS 29.510 5.4.2.2):
 *   POST   /oauth2/token                    AccessTokenReq as application/x-www-form-urlencoded
 *          -> 200 AccessTokenRsp with a JWT (ES256 or RS256) carrying AccessTokenClaims:
 *          iss = this NRF's nfInstanceId, sub = nfInstanceId, aud = targetNfInstanceId or
 *          targetNfType, scope as asked, iat, exp = iat + $KEDGE_NRF_TEST_TOKEN_TTL (300 s)
 *   POST   /test/token                      signs the JSON claims it is given (for expired or
 *          wrong-scope tokens in tests)
 * writing its public key as a JWK Set to $KEDGE_NRF_TEST_JWKS for the producers; the form is
 * recorded as a JSON object (values as strings) so that the test validates it against
 * AccessTokenReq.
 * and appends one JSON line per Nnrf request to $KEDGE_NRF_TEST_FILE:
 *   {"t": wall ms, "method": ..., "path": ..., "contentType": ..., "userAgent": ..., "body": ...}
 * so that the test validates every body against TS29510_Nnrf_NFManagement.yaml.
 * Configuration: YAML (log:, sbi:). */
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "kedge/app.h"
#include "kedge/base64url.h"
#include "kedge/log.h"
#include "kedge/sbi_server.h"
#include "kedge/time.h"

static const char *const extra_usage[] = {KEDGE_APP_PORTS_FILE_USAGE, NULL};

static const kedge_daemon_info_t info = {
    .program = "kedge-nrf-testd",
    .description = "test peer: an NRF's NFManagement that stores profiles and records requests "
                   "(KEDGE_NRF_TEST_FILE, KEDGE_NRF_TEST_HEARTBEAT).",
    .default_config = NULL,
    .extra_usage = extra_usage,
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *profiles; /* nfInstanceId -> NFProfile */
static const char *record_file;
static int heartbeat_s;
static int validity_s = 60;

static void record(kedge_sbi_request_t *req, json_t *body)
{
  const char *ua = kedge_sbi_request_header(req, "user-agent");
  const char *ct = kedge_sbi_request_header(req, "content-type");
  json_t *line =
      json_pack("{s:I, s:s, s:s, s:o, s:o, s:O}", "t", (json_int_t)kedge_wall_ms(), "method",
                kedge_sbi_request_method(req), "path", kedge_sbi_request_path(req), "contentType",
                ct ? json_string(ct) : json_null(), "userAgent", ua ? json_string(ua) : json_null(),
                "body", body ? body : json_null());
  pthread_mutex_lock(&lock);
  FILE *f = line ? fopen(record_file, "a") : NULL;
  if (f) {
    json_dumpf(line, f, JSON_COMPACT);
    fputc('\n', f);
    fclose(f);
  } else {
    kedge_log_error("nrf-testd: cannot write %s", record_file);
  }
  pthread_mutex_unlock(&lock);
  json_decref(line);
}

static void not_found(kedge_sbi_request_t *req)
{
  kedge_sbi_respond_problem(req, 404, "RESOURCE_NOT_FOUND", "nrf-testd: unknown nfInstanceId");
}

static void nf_put(kedge_sbi_request_t *req, void *arg)
{
  (void)arg;
  const char *id = kedge_sbi_request_var(req, "nfInstanceID");
  json_t *body = kedge_sbi_request_json(req);
  record(req, body);
  const char *body_id = json_string_value(json_object_get(body, "nfInstanceId"));
  if (!body_id || strcmp(body_id, id) != 0) {
    kedge_sbi_respond_problem(req, 400, "MANDATORY_IE_INCORRECT",
                              "nrf-testd: nfInstanceId differs from the path");
    return;
  }
  json_t *stored = json_deep_copy(body);
  json_object_set_new(stored, "heartBeatTimer", json_integer(heartbeat_s));
  pthread_mutex_lock(&lock);
  bool known = json_object_get(profiles, id) != NULL;
  json_object_set(profiles, id, stored);
  pthread_mutex_unlock(&lock);
  if (!known) {
    char location[512];
    snprintf(location, sizeof(location), "https://127.0.0.1%s", kedge_sbi_request_path(req));
    kedge_sbi_response_header(req, "location", location);
  }
  kedge_sbi_respond_json(req, known ? 200 : 201, NULL, stored);
  json_decref(stored);
}

static void nf_patch(kedge_sbi_request_t *req, void *arg)
{
  (void)arg;
  record(req, kedge_sbi_request_json(req));
  pthread_mutex_lock(&lock);
  bool known = json_object_get(profiles, kedge_sbi_request_var(req, "nfInstanceID")) != NULL;
  pthread_mutex_unlock(&lock);
  if (known)
    kedge_sbi_respond(req, 204, NULL, NULL, 0);
  else
    not_found(req);
}

static void nf_delete(kedge_sbi_request_t *req, void *arg)
{
  (void)arg;
  record(req, NULL);
  pthread_mutex_lock(&lock);
  bool known = json_object_del(profiles, kedge_sbi_request_var(req, "nfInstanceID")) == 0;
  pthread_mutex_unlock(&lock);
  if (known)
    kedge_sbi_respond(req, 204, NULL, NULL, 0);
  else
    not_found(req);
}

static void nf_get(kedge_sbi_request_t *req, void *arg)
{
  (void)arg;
  pthread_mutex_lock(&lock);
  json_t *p = json_deep_copy(json_object_get(profiles, kedge_sbi_request_var(req, "nfInstanceID")));
  pthread_mutex_unlock(&lock);
  if (p)
    kedge_sbi_respond_json(req, 200, NULL, p);
  else
    not_found(req);
  json_decref(p);
}

static void forget_all(kedge_sbi_request_t *req, void *arg)
{
  (void)arg;
  pthread_mutex_lock(&lock);
  json_object_clear(profiles);
  pthread_mutex_unlock(&lock);
  kedge_sbi_respond(req, 204, NULL, NULL, 0);
}

/* ---- NFDiscover: store and filter, nothing else ---- */

/* The query as a JSON object of decoded values (a repeated name keeps the last). */
static json_t *query_params(const char *query)
{
  json_t *q = json_object();
  char *copy = strdup(query ? query : ""), *save = NULL;
  for (char *part = strtok_r(copy, "&", &save); q && part; part = strtok_r(NULL, "&", &save)) {
    char *eq = strchr(part, '=');
    if (eq)
      *eq = '\0';
    char *name = curl_easy_unescape(NULL, part, 0, NULL);
    char *value = curl_easy_unescape(NULL, eq ? eq + 1 : "", 0, NULL);
    if (name && value)
      json_object_set_new(q, name, json_string(value));
    curl_free(name);
    curl_free(value);
  }
  free(copy);
  return q;
}

static bool offers(const json_t *profile, const char *service)
{
  const char *key;
  json_t *svc;
  size_t i;
  json_object_foreach(json_object_get(profile, "nfServiceList"), key,
                      svc) if (strcmp(json_string_value(json_object_get(svc, "serviceName")) ?: "",
                                      service) == 0) return true;
  json_array_foreach(json_object_get(profile, "nfServices"), i,
                     svc) if (strcmp(json_string_value(json_object_get(svc, "serviceName")) ?: "",
                                     service) == 0) return true;
  return false;
}

static const json_t *subscriber_info(const json_t *profile)
{
  const json_t *ui = json_object_get(profile, "udmInfo");
  if (!ui)
    ui = json_object_get(profile, "ausfInfo");
  if (!ui) { /* AanfInfo: the first of the map */
    void *it = json_object_iter(json_object_get(profile, "aanfInfoList"));
    ui = it ? json_object_iter_value(it) : NULL;
  }
  return ui;
}

/* TS 29.510 6.1.6.2.14 SupiRange: start..end (digit strings of equal length) or a pattern;
 * no supiRanges: every SUPI */
static bool supi_matches(const json_t *profile, const char *supi)
{
  const json_t *ranges = json_object_get(subscriber_info(profile), "supiRanges");
  if (!json_array_size(ranges))
    return true;
  const char *digits = strncmp(supi, "imsi-", 5) == 0 ? supi + 5 : supi;
  size_t i;
  json_t *r;
  json_array_foreach(ranges, i, r)
  {
    const char *start = json_string_value(json_object_get(r, "start"));
    const char *end = json_string_value(json_object_get(r, "end"));
    const char *pattern = json_string_value(json_object_get(r, "pattern"));
    regex_t re;
    if (start && end && strlen(start) == strlen(digits) && strcmp(start, digits) <= 0 &&
        strcmp(digits, end) <= 0)
      return true;
    if (pattern && regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) == 0) {
      bool m = regexec(&re, supi, 0, NULL, 0) == 0;
      regfree(&re);
      if (m)
        return true;
    }
  }
  return false;
}

static bool rid_matches(const json_t *profile, const char *rid)
{
  const json_t *rids = json_object_get(subscriber_info(profile), "routingIndicators");
  if (!json_array_size(rids))
    return true;
  size_t i;
  json_t *r;
  json_array_foreach(rids, i, r) if (strcmp(json_string_value(r) ?: "", rid) == 0) return true;
  return false;
}

static void nf_discover(kedge_sbi_request_t *req, void *arg)
{
  (void)arg;
  json_t *q = query_params(kedge_sbi_request_query(req));
  const char *type = json_string_value(json_object_get(q, "target-nf-type"));
  const char *service = json_string_value(json_object_get(q, "service-names"));
  const char *supi = json_string_value(json_object_get(q, "supi"));
  const char *rid = json_string_value(json_object_get(q, "routing-indicator"));
  json_t *found = json_array();
  const char *id;
  json_t *p;
  pthread_mutex_lock(&lock);
  json_object_foreach(profiles, id, p)
  {
    if (type && strcmp(json_string_value(json_object_get(p, "nfType")) ?: "", type) != 0)
      continue;
    if ((service && !offers(p, service)) || (supi && !supi_matches(p, supi)) ||
        (rid && !rid_matches(p, rid)))
      continue;
    json_t *copy = json_deep_copy(p);
    json_object_del(copy, "heartBeatTimer"); /* the NRF's answer to NFRegister, not the profile */
    json_array_append_new(found, copy);
  }
  pthread_mutex_unlock(&lock);
  json_t *answer = json_pack("{s:i, s:o}", "validityPeriod", validity_s, "nfInstances", found);
  json_t *line_body = json_pack("{s:O, s:O}", "query", q, "answer", answer);
  record(req, line_body);
  json_decref(line_body);
  if (!type || !json_object_get(q, "requester-nf-type"))
    kedge_sbi_respond_problem(req, 400, "MANDATORY_IE_MISSING",
                              "nrf-testd: target-nf-type and requester-nf-type are required");
  else
    kedge_sbi_respond_json(req, 200, NULL, answer);
  json_decref(answer);
  json_decref(q);
}

static kedge_err_t discovery_setup(kedge_sbi_server_t *srv)
{
  const char *v = getenv("KEDGE_NRF_TEST_VALIDITY");
  if (v)
    validity_s = atoi(v);
  return kedge_sbi_server_route(srv, "GET", "/nnrf-disc/v1/nf-instances", NULL, nf_discover, NULL);
}

/* ---- Nnrf_AccessToken (its own functions: discovery grows beside them) ---- */

static EVP_PKEY *token_key;
static int token_ttl_s = 300;

/* out has room for KEDGE_B64URL_LEN(len) + 1 (the callers size it generously) */
static void b64url_encode(const uint8_t *in, size_t len, char *out)
{
  kedge_b64url_encode(in, len, out, KEDGE_B64URL_LEN(len) + 1, NULL);
}

/* RFC 7515 7.1 compact JWS of `claims` with the test's key (RFC 7518 3.3/3.4). NULL on error. */
static char *sign_claims(const json_t *claims)
{
  bool ec = EVP_PKEY_is_a(token_key, "EC");
  const char *header = ec ? "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"nrf-test\"}"
                          : "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"nrf-test\"}";
  char *payload = json_dumps(claims, JSON_COMPACT);
  size_t plen = payload ? strlen(payload) : 0;
  char *out = payload ? malloc(64 + (strlen(header) + plen) * 2 + 1200) : NULL;
  uint8_t sig[1024];
  size_t sig_len = sizeof(sig);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  bool ok = out && md;
  if (ok) {
    char *p = out;
    b64url_encode((const uint8_t *)header, strlen(header), p);
    p += strlen(p);
    *p++ = '.';
    b64url_encode((const uint8_t *)payload, plen, p);
    ok = EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, token_key, NULL) == 1 &&
         EVP_DigestSign(md, sig, &sig_len, (const uint8_t *)out, strlen(out)) == 1;
  }
  if (ok && ec) { /* RFC 7518 3.4: R || S instead of DER */
    const uint8_t *d = sig;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &d, (long)sig_len);
    uint8_t raw[64];
    ok = es && BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32) == 32 &&
         BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32) == 32;
    ECDSA_SIG_free(es);
    memcpy(sig, raw, 64);
    sig_len = 64;
  }
  if (ok) {
    char *p = out + strlen(out);
    *p++ = '.';
    b64url_encode(sig, sig_len, p);
  }
  EVP_MD_CTX_free(md);
  free(payload);
  if (!ok) {
    free(out);
    return NULL;
  }
  return out;
}

/* The public half as a JWK Set (RFC 7517 5, RFC 7518 6.2/6.3). */
static kedge_err_t write_jwks(const char *path)
{
  BIGNUM *a = NULL, *b = NULL;
  bool ec = EVP_PKEY_is_a(token_key, "EC");
  const char *na = ec ? OSSL_PKEY_PARAM_EC_PUB_X : OSSL_PKEY_PARAM_RSA_N;
  const char *nb = ec ? OSSL_PKEY_PARAM_EC_PUB_Y : OSSL_PKEY_PARAM_RSA_E;
  if (!EVP_PKEY_get_bn_param(token_key, na, &a) || !EVP_PKEY_get_bn_param(token_key, nb, &b))
    return KEDGE_ERR_CRYPTO;
  uint8_t ba[1024], bb[1024];
  int la = ec ? 32 : BN_num_bytes(a), lb = ec ? 32 : BN_num_bytes(b);
  BN_bn2binpad(a, ba, la);
  BN_bn2binpad(b, bb, lb);
  BN_free(a);
  BN_free(b);
  char ea[1400], eb[1400];
  b64url_encode(ba, (size_t)la, ea);
  b64url_encode(bb, (size_t)lb, eb);
  json_t *key = ec ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x",
                               ea, "y", eb, "kid", "nrf-test", "use", "sig")
                   : json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "n", ea, "e", eb, "kid",
                               "nrf-test", "use", "sig");
  json_t *set = json_pack("{s:[o]}", "keys", key);
  int rc = set ? json_dump_file(set, path, JSON_INDENT(2)) : -1;
  json_decref(set);
  return rc == 0 ? KEDGE_OK : KEDGE_ERR_IO;
}

/* application/x-www-form-urlencoded (WHATWG URL 5.1) into a JSON object of strings; libcurl
 * percent-decodes. NULL when a pair is not name=value or a name repeats. */
static json_t *parse_form(const uint8_t *body, size_t len)
{
  json_t *form = json_object();
  char *text = strndup((const char *)body, len);
  bool ok = form && text && strlen(text) == len;
  for (char *save = NULL, *pair = ok ? strtok_r(text, "&", &save) : NULL; ok && pair;
       pair = strtok_r(NULL, "&", &save)) {
    char *eq = strchr(pair, '=');
    if (!eq) {
      ok = false;
      break;
    }
    *eq = '\0';
    for (char *p = pair; *p; p++)
      *p = *p == '+' ? ' ' : *p;
    for (char *p = eq + 1; *p; p++)
      *p = *p == '+' ? ' ' : *p;
    int nl = 0, vl = 0;
    char *name = curl_easy_unescape(NULL, pair, 0, &nl);
    char *value = curl_easy_unescape(NULL, eq + 1, 0, &vl);
    ok = name && value && (size_t)nl == strlen(name) && (size_t)vl == strlen(value) &&
         !json_object_get(form, name) && json_object_set_new(form, name, json_string(value)) == 0;
    curl_free(name);
    curl_free(value);
  }
  free(text);
  if (!ok) {
    json_decref(form);
    return NULL;
  }
  return form;
}

/* RFC 6749 5.2 / TS 29.510 AccessTokenErr */
static void token_error(kedge_sbi_request_t *req, const char *error, const char *description)
{
  json_t *e = json_pack("{s:s, s:s}", "error", error, "error_description", description);
  kedge_sbi_respond_json(req, 400, NULL, e);
  json_decref(e);
}

static void respond_token(kedge_sbi_request_t *req, const json_t *claims, const char *scope)
{
  char *jwt = sign_claims(claims);
  if (!jwt) {
    kedge_sbi_respond_problem(req, 500, "SYSTEM_FAILURE", "nrf-testd: cannot sign");
    return;
  }
  /* TS 29.510 6.3.5.2.2 AccessTokenRsp */
  json_t *rsp = json_pack("{s:s, s:s, s:i, s:s}", "access_token", jwt, "token_type", "Bearer",
                          "expires_in", token_ttl_s, "scope", scope ? scope : "");
  free(jwt);
  kedge_sbi_response_header(req, "cache-control", "no-store"); /* RFC 6749 5.1 */
  kedge_sbi_respond_json(req, 200, NULL, rsp);
  json_decref(rsp);
}

static void access_token(kedge_sbi_request_t *req, void *arg)
{
  (void)arg;
  size_t len = 0;
  const uint8_t *body = kedge_sbi_request_body(req, &len);
  json_t *form = body ? parse_form(body, len) : NULL;
  record(req, form);
  const char *grant = json_string_value(json_object_get(form, "grant_type"));
  const char *sub = json_string_value(json_object_get(form, "nfInstanceId"));
  const char *scope = json_string_value(json_object_get(form, "scope"));
  const char *aud = json_string_value(json_object_get(form, "targetNfInstanceId"));
  if (!aud)
    aud = json_string_value(json_object_get(form, "targetNfType"));
  if (!form || !grant || !sub || !scope) {
    token_error(req, "invalid_request", "grant_type, nfInstanceId and scope are required");
  } else if (strcmp(grant, "client_credentials") != 0) {
    token_error(req, "unsupported_grant_type", "client_credentials only");
  } else {
    int64_t now = kedge_wall_ms() / 1000;
    json_t *claims = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "iss", kedge_app_nf_instance_id(),
                               "sub", sub, "aud", aud ? aud : "", "scope", scope, "iat",
                               (json_int_t)now, "exp", (json_int_t)(now + token_ttl_s));
    respond_token(req, claims, scope);
    json_decref(claims);
  }
  json_decref(form);
}

static void test_token(kedge_sbi_request_t *req, void *arg)
{
  (void)arg;
  const json_t *claims = kedge_sbi_request_json(req);
  if (!json_is_object(claims)) {
    kedge_sbi_respond_problem(req, 400, "INVALID_MSG_FORMAT", "nrf-testd: claims object");
    return;
  }
  respond_token(req, claims, json_string_value(json_object_get(claims, "scope")));
}

static kedge_err_t setup_access_token(kedge_sbi_server_t *srv, char *why, size_t why_size)
{
  const char *key_file = getenv("KEDGE_NRF_TEST_TOKEN_KEY");
  const char *jwks_file = getenv("KEDGE_NRF_TEST_JWKS");
  const char *ttl = getenv("KEDGE_NRF_TEST_TOKEN_TTL");
  if (!key_file)
    return KEDGE_OK;
  if (ttl)
    token_ttl_s = atoi(ttl);
  FILE *f = fopen(key_file, "r");
  token_key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
  if (f)
    fclose(f);
  if (!token_key || !jwks_file || token_ttl_s <= 0 || write_jwks(jwks_file) != KEDGE_OK) {
    snprintf(why, why_size,
             "KEDGE_NRF_TEST_TOKEN_KEY %s: cannot read the key, or "
             "KEDGE_NRF_TEST_JWKS unset or unwritable",
             key_file);
    return KEDGE_ERR_CONFIG;
  }
  kedge_err_t err;
  if ((err = kedge_sbi_server_route(srv, "POST", "/oauth2/token",
                                    "application/x-www-form-urlencoded", access_token, NULL)) ||
      (err = kedge_sbi_server_route(srv, "POST", "/test/token", NULL, test_token, NULL)))
    snprintf(why, why_size, "cannot set up: %s", kedge_strerror(err));
  return err;
}

static kedge_err_t setup(kedge_sbi_server_t *srv, void *state, char *why, size_t why_size)
{
  (void)state;
  record_file = getenv("KEDGE_NRF_TEST_FILE");
  const char *hb = getenv("KEDGE_NRF_TEST_HEARTBEAT");
  heartbeat_s = hb ? atoi(hb) : 0;
  if (!record_file || heartbeat_s <= 0) {
    snprintf(why, why_size, "set KEDGE_NRF_TEST_FILE and KEDGE_NRF_TEST_HEARTBEAT (seconds)");
    return KEDGE_ERR_CONFIG;
  }
  if (!(profiles = json_object()))
    return KEDGE_ERR_NOMEM;
  const char *path = "/nnrf-nfm/v1/nf-instances/{nfInstanceID}";
  kedge_err_t err;
  if ((err = kedge_sbi_server_route(srv, "PUT", path, NULL, nf_put, NULL)) ||
      (err = kedge_sbi_server_route(srv, "PATCH", path, "application/json-patch+json", nf_patch,
                                    NULL)) ||
      (err = kedge_sbi_server_route(srv, "DELETE", path, NULL, nf_delete, NULL)) ||
      (err = kedge_sbi_server_route(srv, "GET", path, NULL, nf_get, NULL)) ||
      (err = kedge_sbi_server_route(srv, "DELETE", "/test/nf-instances", NULL, forget_all, NULL)) ||
      (err = discovery_setup(srv))) {
    snprintf(why, why_size, "cannot set up: %s", kedge_strerror(err));
    return err;
  }
  return setup_access_token(srv, why, why_size);
}

static void teardown(void *state)
{
  (void)state;
  json_decref(profiles);
  EVP_PKEY_free(token_key);
}

int main(int argc, char **argv)
{
  const kedge_app_t app = {
      .info = &info, .service = "nrf", .nf_type = "NRF", .setup = setup, .teardown = teardown};
  return kedge_app_main(&app, argc, argv);
}
