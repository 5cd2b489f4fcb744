/* SBI requests and responses: what a handler sees (method, path, variables, headers, JSON
 * body, peer identity) and the one-shot respond functions, with the ProblemDetails the runtime
 * itself answers (TS 29.500 5.2.7). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "kedge/json_check.h"
#include "kedge/log.h"
#include "kedge/problem.h"
#include "kedge/time.h"
#include "sbi/json_body.h"
#include "sbi/server_int.h"

_Thread_local kedge_sbi_worker_t *sbi_this_worker;

void sbi_worker_free_spare_reqs(kedge_sbi_worker_t *w)
{
  kedge_sbi_request_t *req;
  while ((req = w->spare_reqs)) {
    w->spare_reqs = req->spare_next;
    kedge_buf_free(&req->body);
    free(req);
  }
  w->n_spare_reqs = 0;
}

kedge_sbi_request_t *sbi_request_new(sbi_conn_t *conn, int32_t stream_id)
{
  kedge_sbi_worker_t *w = conn->w;
  kedge_sbi_request_t *req = w->spare_reqs;
  if (req) { /* its body's block comes with it, wiped and empty */
    w->spare_reqs = req->spare_next;
    w->n_spare_reqs--;
    kedge_buf_t body = req->body;
    memset(req, 0, sizeof(*req));
    req->body = body;
    req->body.max = w->srv->cfg.limits.max_body;
  } else if ((req = calloc(1, sizeof(*req)))) {
    kedge_buf_init(&req->body, w->srv->cfg.limits.max_body);
  } else {
    return NULL;
  }
  req->conn = conn;
  req->w = conn->w;
  req->stream_id = stream_id;
  req->content_length = -1;
  req->started_us = kedge_now_us();
  LIST_INSERT_HEAD(&conn->reqs, req, link);
  conn->n_streams++;
  return req;
}

static void wipe_free(uint8_t *p, size_t len)
{
  if (p) {
    OPENSSL_cleanse(p, len);
    free(p);
  }
}

char *sbi_request_text(kedge_sbi_request_t *req, const uint8_t *s, size_t n)
{
  if (n >= sizeof(req->text) - req->text_used)
    return strndup((const char *)s, n);
  char *p = req->text + req->text_used;
  memcpy(p, s, n);
  p[n] = '\0';
  req->text_used += n + 1;
  return p;
}

void sbi_request_text_free(kedge_sbi_request_t *req, char *p)
{
  uintptr_t a = (uintptr_t)p, lo = (uintptr_t)req->text;
  if (a < lo || a >= lo + sizeof(req->text))
    free(p);
}

/* The copies read_flat made (values of a body, some of them secret): wiped as jansson's blocks
 * are (kedge_json_wipe_on_free), freed. */
static void wipe_strings(kedge_sbi_request_t *req)
{
  for (size_t i = 0; i < KEDGE_JSON_FLAT_MAX; i++)
    if (req->strings[i]) {
      OPENSSL_cleanse(req->strings[i], strlen(req->strings[i]));
      sbi_request_text_free(req, req->strings[i]);
      req->strings[i] = NULL;
    }
}

void sbi_request_free(kedge_sbi_request_t *req)
{
  sbi_request_text_free(req, req->path);
  for (size_t i = 0; i < req->n_headers; i++) {
    if (req->headers[i].value && strcasecmp(req->headers[i].name, "authorization") == 0)
      OPENSSL_cleanse(req->headers[i].value, strlen(req->headers[i].value)); /* a bearer token */
    sbi_request_text_free(req, req->headers[i].name);
    sbi_request_text_free(req, req->headers[i].value);
  }
  json_decref(req->json);
  wipe_strings(req);
  sbi_match_clear(&req->match);
  for (size_t i = 0; i < req->n_resp_headers; i++) {
    free(req->resp_headers[i].name);
    free(req->resp_headers[i].value);
  }
  free(req->resp_type);
  wipe_free(req->resp_body, req->resp_len);
  /* kept for the worker's next stream when freed on its own loop (a handler may answer a
   * request its peer left from elsewhere) */
  kedge_sbi_worker_t *w = req->w;
  if (w == sbi_this_worker && w->n_spare_reqs < SBI_SPARE_REQS && req->body.cap <= SBI_SPARE_BODY) {
    kedge_buf_clear(&req->body);
    req->spare_next = w->spare_reqs;
    w->spare_reqs = req;
    w->n_spare_reqs++;
    return;
  }
  kedge_buf_free(&req->body);
  free(req);
}

void sbi_request_detach(kedge_sbi_request_t *req)
{
  sbi_conn_t *conn = req->conn;
  if (conn) {
    LIST_REMOVE(req, link);
    conn->n_streams--;
    nghttp2_session_set_stream_user_data(conn->h2, req->stream_id, NULL);
  }
  req->conn = NULL;
  if (req->state != REQ_DISPATCHED) {
    sbi_request_free(req);
    return;
  }
  /* A handler still owns it: it learns now and frees it by answering. */
  req->gone = true;
  if (req->cancel_fn)
    req->cancel_fn(req, req->cancel_arg);
}

static double elapsed(const kedge_sbi_request_t *req)
{
  return (double)(kedge_now_us() - req->started_us) / 1e6;
}

/* Takes ownership of `body` (malloc'ed, wiped when freed). */
static kedge_err_t respond_raw(kedge_sbi_request_t *req, int status, const char *type,
                               uint8_t *body, size_t len)
{
  if (req->gone) {
    wipe_free(body, len);
    sbi_request_free(req);
    return KEDGE_ERR_UNAVAILABLE;
  }
  req->status = status;
  req->resp_body = body;
  req->resp_len = len;
  if (type) {
    req->resp_type = strdup(type);
    if (!req->resp_type) {
      req->status = 500;
      type = NULL;
    }
  }
  double seconds = elapsed(req);
  sbi_metrics_count(req->w->srv, req->route, status, seconds);
  if (kedge_log_enabled(KEDGE_LOG_DEBUG)) { /* one line per answer, fields for log search */
    char st[8], ms[24];
    snprintf(st, sizeof(st), "%d", status);
    snprintf(ms, sizeof(ms), "%.3f", seconds * 1000.0);
    const kedge_log_field_t f[] = {
        {"route", req->route ? req->route->pattern : "unmatched", false},
        {"status", st, true},
        {"duration_ms", ms, true},
        {"peer", req->conn && req->conn->n_peer_names ? req->conn->peer_names[0] : NULL, false},
    };
    kedge_log_fields(KEDGE_LOG_DEBUG, f, sizeof(f) / sizeof(f[0]), "sbi: %s answered", req->method);
  }
  return sbi_conn_submit_response(req);
}

static kedge_err_t dump_json(const json_t *body, uint8_t **out, size_t *len)
{
  *out = NULL;
  *len = 0;
  return body ? sbi_json_dump(body, out, len) : KEDGE_OK;
}

static kedge_err_t problem_body(int status, const char *cause, const char *detail, uint8_t **out,
                                size_t *len)
{
  json_t *p = kedge_problem_new(status, cause, detail);
  if (!p)
    return KEDGE_ERR_NOMEM;
  kedge_err_t err = dump_json(p, out, len);
  json_decref(p);
  return err;
}

static kedge_err_t add_header(kedge_sbi_request_t *req, const char *name, const char *value)
{
  if (req->n_resp_headers == SBI_MAX_RESP_HEADERS)
    return KEDGE_ERR_TOO_BIG;
  sbi_header_t *h = &req->resp_headers[req->n_resp_headers];
  h->name = strdup(name);
  h->value = strdup(value);
  if (!h->name || !h->value) {
    free(h->name);
    free(h->value);
    h->name = h->value = NULL;
    return KEDGE_ERR_NOMEM;
  }
  /* RFC 9113 8.2.1: field names are lower case in HTTP/2. */
  for (char *p = h->name; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  req->n_resp_headers++;
  return KEDGE_OK;
}

void sbi_request_reject(kedge_sbi_request_t *req, int status, const char *cause, const char *detail,
                        const char *allow)
{
  kedge_log_debug("sbi: %s %s -> %d %s", req->method, req->path ? req->path : "-", status, cause);
  req->state = REQ_REJECTED;
  kedge_buf_free(&req->body);
  if (allow && *allow)
    add_header(req, "allow", allow);
  uint8_t *body;
  size_t len;
  if (problem_body(status, cause, detail, &body, &len) != KEDGE_OK) {
    /* Out of memory: RST_STREAM rather than nothing. */
    nghttp2_submit_rst_stream(req->conn->h2, NGHTTP2_FLAG_NONE, req->stream_id,
                              NGHTTP2_INTERNAL_ERROR);
    return;
  }
  respond_raw(req, status, KEDGE_PROBLEM_CONTENT_TYPE, body, len);
}

/* RFC 9110 8.3.1: media type = type "/" subtype, case-insensitive, parameters after ';'. */
static bool media_type_is(const char *header, const char *want)
{
  if (!header)
    return false;
  while (*header == ' ' || *header == '\t')
    header++;
  size_t len = strcspn(header, ";");
  while (len > 0 && (header[len - 1] == ' ' || header[len - 1] == '\t'))
    len--;
  return len == strlen(want) && strncasecmp(header, want, len) == 0;
}

static bool media_type_json(const char *type)
{
  size_t len = strlen(type);
  return strcasecmp(type, "application/json") == 0 ||
         (len > 5 && strcasecmp(type + len - 5, "+json") == 0);
}

/* RFC 9110 8.4: a Content-Encoding list of nothing but "identity" changes nothing. */
static bool content_encoding_identity(const char *header)
{
  for (const char *p = header; *p;) {
    p += strspn(p, " \t,");
    size_t len = strcspn(p, " \t,");
    if (len && !(len == 8 && strncasecmp(p, "identity", 8) == 0))
      return false;
    p += len;
  }
  return true;
}

/* TS 29.500 5.2.3.2 / 6.10: the 3gpp-Sbi-* headers a consumer or an SCP adds (Target-apiRoot,
 * Callback, Correlation-Info, Discovery-*, Routing-Binding...) are accepted and named at debug
 * level, by route pattern (a path may hold a SUPI); only Target-apiRoot's value is shown
 * (Discovery-* may carry a SUPI). */
static void log_sbi_headers(const kedge_sbi_request_t *req)
{
  if (!kedge_log_enabled(KEDGE_LOG_DEBUG))
    return;
  for (size_t i = 0; i < req->n_headers; i++) {
    const sbi_header_t *h = &req->headers[i];
    if (strncmp(h->name, "3gpp-sbi-", 9) != 0)
      continue;
    if (strcmp(h->name, "3gpp-sbi-target-apiroot") == 0)
      kedge_log_debug("sbi: %s %s: %s: %s", req->method, req->route->pattern, h->name, h->value);
    else
      kedge_log_debug("sbi: %s %s: %s received", req->method, req->route->pattern, h->name);
  }
}

/* A route's flat body (kedge_sbi_server_route_strings): its strings copied out of the body
 * and terminated, in the request's own block while they fit. false: read it with jansson. */
static bool read_flat(kedge_sbi_request_t *req)
{
  kedge_json_span_t v[KEDGE_JSON_FLAT_MAX];
  if (!kedge_json_flat_read(req->body.data, req->body.len, req->route->strings, v))
    return false;
  /* a string or a boolean only: a member of another kind present (a nested object, which
   * kedge_json_flat_read gives as its text) is read by the handler from the tree, and
   * kedge_sbi_request_strings gives NULL for it either way (sbi_server.h) */
  for (size_t i = 0; i < req->route->n_strings; i++)
    if (v[i].ptr && req->route->strings[i].kind != KEDGE_JSON_STRING &&
        req->route->strings[i].kind != KEDGE_JSON_BOOLEAN)
      return false;
  for (size_t i = 0; i < req->route->n_strings; i++)
    if (v[i].ptr &&
        !(req->strings[i] = sbi_request_text(req, (const uint8_t *)v[i].ptr, v[i].len))) {
      wipe_strings(req);
      return false; /* no memory for a copy: jansson answers, or refuses with its own 500 */
    }
  req->flat = true;
  return true;
}

void sbi_request_dispatch(kedge_sbi_request_t *req)
{
  log_sbi_headers(req);
  const sbi_route_t *route = req->route;
  const char *encoding = kedge_sbi_request_header(req, "content-encoding");
  if (encoding && !content_encoding_identity(encoding)) {
    /* RFC 9110 15.5.16: 415 for a content coding the server does not support, with
     * Accept-Encoding naming what it takes (RFC 9110 12.5.3); kedge decodes none, so identity
     * (SPEC.md 7; the cause as for any 415, docs/sbi.md) */
    add_header(req, "accept-encoding", "identity");
    sbi_request_reject(req, 415, "UNSPECIFIED_MSG_FAILURE",
                       "Content-Encoding not supported: send identity", NULL);
    return;
  }
  if (req->body.len > 0) {
    /* TS 29.500 6.1: JSON bodies are application/json unless the API says otherwise. */
    if (!media_type_is(kedge_sbi_request_header(req, "content-type"), route->media_type)) {
      char detail[96];
      snprintf(detail, sizeof(detail), "the body must be %s", route->media_type);
      sbi_request_reject(req, 415, "UNSPECIFIED_MSG_FAILURE", detail, NULL);
      return;
    }
    if (media_type_json(route->media_type) && !(route->strings && read_flat(req))) {
      /* a route's flat body is read in place without a tree (read_flat), any other here */
      json_error_t jerr;
      req->json =
          json_loadb((const char *)req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &jerr);
      if (!req->json) {
        char detail[160];
        /* jansson's text names the position, never the content. */
        snprintf(detail, sizeof(detail), "body is not valid JSON (line %d, column %d)", jerr.line,
                 jerr.column);
        sbi_request_reject(req, 400, "INVALID_MSG_FORMAT", detail, NULL);
        return;
      }
    }
  }
  req->state = REQ_DISPATCHED;
  /* TS 29.500 6.7.3: the access token before the handler (which then never sees the request
   * when it is refused: answered 401/403 here) */
  if (!sbi_oauth2_allow(req))
    return;
  route->handler(req, route->arg);
}

/* ---- accessors ---- */

const char *kedge_sbi_request_method(const kedge_sbi_request_t *req)
{
  return req->method;
}
const char *kedge_sbi_request_path(const kedge_sbi_request_t *req)
{
  return req->path;
}
const char *kedge_sbi_request_query(const kedge_sbi_request_t *req)
{
  return req->query;
}

const char *kedge_sbi_request_route(const kedge_sbi_request_t *req)
{
  return req->route ? req->route->pattern : NULL;
}

const char *kedge_sbi_request_var(const kedge_sbi_request_t *req, const char *name)
{
  return name ? sbi_match_var(&req->match, name) : NULL;
}

const char *kedge_sbi_request_header(const kedge_sbi_request_t *req, const char *name)
{
  for (size_t i = 0; name && i < req->n_headers; i++)
    if (strcmp(req->headers[i].name, name) == 0)
      return req->headers[i].value;
  return NULL;
}

json_t *kedge_sbi_request_json(const kedge_sbi_request_t *req)
{
  return req->json;
}

const uint8_t *kedge_sbi_request_body(const kedge_sbi_request_t *req, size_t *len)
{
  if (len)
    *len = req->body.len;
  return req->body.len ? req->body.data : NULL;
}

/* Peer names live in the connection; once it is gone the handler has no identity to ask
 * about, and a gone request is only ever answered into the void. */
size_t kedge_sbi_request_peer_count(const kedge_sbi_request_t *req)
{
  return req->conn ? req->conn->n_peer_names : 0;
}

const char *kedge_sbi_request_peer(const kedge_sbi_request_t *req, size_t i)
{
  return req->conn && i < req->conn->n_peer_names ? req->conn->peer_names[i] : NULL;
}

bool kedge_sbi_request_peer_is(const kedge_sbi_request_t *req, const char *name)
{
  for (size_t i = 0; name && req->conn && i < req->conn->n_peer_names; i++)
    if (strcasecmp(req->conn->peer_names[i], name) == 0)
      return true;
  return false;
}

struct event_base *kedge_sbi_request_base(const kedge_sbi_request_t *req)
{
  return req->w->base;
}

kedge_sbi_worker_t *kedge_sbi_request_worker(const kedge_sbi_request_t *req)
{
  return req->w;
}

bool kedge_sbi_request_gone(const kedge_sbi_request_t *req)
{
  return req->gone;
}

void kedge_sbi_request_on_cancel(kedge_sbi_request_t *req, kedge_sbi_cancel_fn fn, void *arg)
{
  req->cancel_fn = fn;
  req->cancel_arg = arg;
}

/* ---- responses ---- */

kedge_err_t kedge_sbi_response_header(kedge_sbi_request_t *req, const char *name, const char *value)
{
  if (!req || !name || !value || !*name || name[0] == ':' || req->state != REQ_DISPATCHED)
    return KEDGE_ERR_INVALID_ARG;
  /* No CR/LF/NUL can reach the peer (RFC 9113 8.2.1); nghttp2 checks too. */
  if (strpbrk(value, "\r\n") || strpbrk(name, "\r\n: "))
    return KEDGE_ERR_INVALID_ARG;
  return add_header(req, name, value);
}

static kedge_err_t check_owned(const kedge_sbi_request_t *req)
{
  if (!req || req->state != REQ_DISPATCHED)
    return KEDGE_ERR_INVALID_ARG; /* programmer error: answered twice or never dispatched */
  return KEDGE_OK;
}

kedge_err_t kedge_sbi_respond(kedge_sbi_request_t *req, int status, const char *content_type,
                              const void *body, size_t len)
{
  kedge_err_t err = check_owned(req);
  if (err)
    return err;
  if (status < 200 || status > 599)
    status = 500;
  uint8_t *copy = NULL;
  if (len > 0) {
    copy = malloc(len);
    if (!copy)
      return respond_raw(req, 500, NULL, NULL, 0);
    memcpy(copy, body, len);
  }
  return respond_raw(req, status, len ? content_type : NULL, copy, len);
}

kedge_err_t kedge_sbi_respond_json(kedge_sbi_request_t *req, int status, const char *content_type,
                                   const json_t *body)
{
  kedge_err_t err = check_owned(req);
  if (err)
    return err;
  uint8_t *buf;
  size_t len;
  if (dump_json(body, &buf, &len) != KEDGE_OK)
    return kedge_sbi_respond_problem(req, 500, "SYSTEM_FAILURE", NULL);
  if (status < 200 || status > 599)
    status = 500;
  return respond_raw(req, status, body ? (content_type ? content_type : KEDGE_SBI_JSON) : NULL, buf,
                     len);
}

kedge_err_t kedge_sbi_respond_problem(kedge_sbi_request_t *req, int status, const char *cause,
                                      const char *detail)
{
  kedge_err_t err = check_owned(req);
  if (err)
    return err;
  uint8_t *buf;
  size_t len;
  if (problem_body(status, cause, detail, &buf, &len) != KEDGE_OK)
    return respond_raw(req, 500, NULL, NULL, 0);
  return respond_raw(req, status, KEDGE_PROBLEM_CONTENT_TYPE, buf, len);
}

kedge_err_t kedge_sbi_respond_problem_json(kedge_sbi_request_t *req, const json_t *problem)
{
  kedge_err_t err = check_owned(req);
  if (err)
    return err;
  json_int_t status = json_integer_value(json_object_get(problem, "status"));
  if (status < 400 || status > 599)
    status = 500;
  uint8_t *buf;
  size_t len;
  if (dump_json(problem, &buf, &len) != KEDGE_OK || !buf)
    return respond_raw(req, 500, NULL, NULL, 0);
  return respond_raw(req, (int)status, KEDGE_PROBLEM_CONTENT_TYPE, buf, len);
}

kedge_err_t kedge_sbi_respond_err(kedge_sbi_request_t *req, kedge_err_t e, const char *detail)
{
  int status;
  const char *cause;
  kedge_problem_from_err(e, &status, &cause);
  return kedge_sbi_respond_problem(req, status, cause, detail ? detail : kedge_strerror(e));
}

bool kedge_sbi_request_strings(kedge_sbi_request_t *req, const char *type_name,
                               const char *values[])
{
  const sbi_route_t *route = req->route;
  if (!route || !route->strings) { /* programmer error: the route has no string table */
    kedge_sbi_respond_problem(req, 500, "SYSTEM_FAILURE", NULL);
    return false;
  }
  if (req->flat) {
    for (size_t i = 0; i < route->n_strings; i++)
      values[i] = req->strings[i];
    return true;
  }
  json_t *body = kedge_sbi_request_checked_json(req, route->strings, type_name);
  if (!body)
    return false;
  for (size_t i = 0; i < route->n_strings; i++) {
    const json_t *v = json_object_get(body, route->strings[i].name);
    /* a boolean as its text, as the flat reading gives it */
    values[i] = json_is_boolean(v) ? (json_is_true(v) ? "true" : "false") : json_string_value(v);
  }
  return true;
}

json_t *kedge_sbi_request_checked_json(kedge_sbi_request_t *req,
                                       const struct kedge_json_member *members,
                                       const char *type_name)
{
  json_t *body = kedge_sbi_request_json(req);
  /* The common case, a valid body, builds no ProblemDetails: check first, describe after. */
  kedge_err_t err = kedge_json_check(body, members, NULL, NULL);
  if (!err)
    return body;
  char detail[96];
  snprintf(detail, sizeof(detail), "invalid %s", type_name);
  json_t *problem = err == KEDGE_ERR_INVALID_ARG
                        ? kedge_problem_new(400, "MANDATORY_IE_INCORRECT", detail)
                        : NULL;
  bool missing_only = false;
  if (problem && kedge_json_check(body, members, problem, &missing_only) == KEDGE_ERR_INVALID_ARG) {
    /* TS 29.500 Table 5.2.7.2-1 */
    if (missing_only)
      json_object_set_new(problem, "cause", json_string("MANDATORY_IE_MISSING"));
    kedge_sbi_respond_problem_json(req, problem);
  } else {
    kedge_sbi_respond_err(req, problem ? KEDGE_ERR_NOMEM : err, NULL);
  }
  json_decref(problem);
  return NULL;
}
