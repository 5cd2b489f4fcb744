/* Failover across discovered producers (TS 29.500 6.10.3: a consumer that cannot reach the
 * selected producer may reselect another of the discovery answer). Only a producer that was
 * not reached is skipped: a timeout or an error status may mean the request was processed, so
 * that answer goes back to the caller as it is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "kedge/log.h"
#include "kedge/nrf.h"
#include "kedge/str.h"

struct kedge_nrf_send {
  kedge_sbi_client_t *client;
  kedge_nrf_candidates_t cands;
  size_t next;
  char method[8];
  char path[2048];
  json_t *body;
  char *raw_body; /* a copy of the request's raw_body, or NULL */
  size_t raw_body_len;
  const char *content_type;
  uint32_t timeout_ms;
  kedge_nrf_send_cb cb;
  void *arg;
  kedge_sbi_client_call_t *call;
};

static void send_free(kedge_nrf_send_t *s)
{
  json_decref(s->body);
  if (s->raw_body) {
    OPENSSL_cleanse(s->raw_body, s->raw_body_len);
    free(s->raw_body);
  }
  free(s);
}

static kedge_err_t attempt(kedge_nrf_send_t *s);

static void answered(const kedge_sbi_client_response_t *r, void *arg)
{
  kedge_nrf_send_t *s = arg;
  s->call = NULL;
  const char *root = s->cands.c[s->next - 1].api_root;
  if (r->err == KEDGE_ERR_UNAVAILABLE && s->next < s->cands.n) {
    kedge_log_warn("%s not reachable; trying the next producer %s", root,
                   s->cands.c[s->next].api_root);
    if (attempt(s) == KEDGE_OK)
      return;
  }
  s->cb(r, root, s->arg);
  send_free(s);
}

static kedge_err_t attempt(kedge_nrf_send_t *s)
{
  while (s->next < s->cands.n) {
    char url[KEDGE_NRF_API_ROOT_MAX + sizeof(s->path)]; /* room for both: never cut short */
    size_t root_len = kedge_str_copy(url, KEDGE_NRF_API_ROOT_MAX, s->cands.c[s->next].api_root);
    if (root_len >= KEDGE_NRF_API_ROOT_MAX)
      root_len = KEDGE_NRF_API_ROOT_MAX - 1;
    kedge_str_copy(url + root_len, sizeof(s->path), s->path);
    s->next++;
    const kedge_sbi_client_request_t req = {.method = s->method,
                                            .url = url,
                                            .body = s->body,
                                            .raw_body = s->raw_body,
                                            .raw_body_len = s->raw_body_len,
                                            .content_type = s->content_type,
                                            .timeout_ms = s->timeout_ms};
    kedge_err_t err = kedge_sbi_client_send(s->client, &req, answered, s, &s->call);
    if (err != KEDGE_ERR_INVALID_ARG) /* a malformed apiRoot: the next one */
      return err;
  }
  return KEDGE_ERR_UNAVAILABLE;
}

kedge_err_t kedge_nrf_send(kedge_sbi_client_t *client, const kedge_nrf_candidates_t *cands,
                           const kedge_sbi_client_request_t *req, const char *path,
                           kedge_nrf_send_cb cb, void *arg, kedge_nrf_send_t **out)
{
  if (out)
    *out = NULL;
  if (!client || !cands || !cands->n || !req || !req->method || !path || !cb ||
      strlen(path) >= sizeof(((kedge_nrf_send_t *)0)->path) || strlen(req->method) >= 8 ||
      req->headers)
    return KEDGE_ERR_INVALID_ARG;
  /* Not zeroed whole, and only the candidates given copied: the path and the candidates are
   * 4,800 octets, of which a send uses a few hundred (issue 17: docs/performance-latency.md
   * "Seventh round: the AUSF"). Every member is set below. */
  kedge_nrf_send_t *s = malloc(sizeof(*s));
  if (!s)
    return KEDGE_ERR_NOMEM;
  s->client = client;
  s->cands.n = cands->n;
  memcpy(s->cands.c, cands->c, cands->n * sizeof(cands->c[0]));
  s->next = 0;
  s->raw_body = NULL;
  s->raw_body_len = 0;
  s->call = NULL;
  kedge_str_copy(s->method, sizeof(s->method), req->method);
  kedge_str_copy(s->path, sizeof(s->path), path);
  s->body = json_incref((json_t *)req->body);
  if (req->raw_body && !req->body) {
    if (!(s->raw_body = malloc(req->raw_body_len ? req->raw_body_len : 1))) {
      send_free(s);
      return KEDGE_ERR_NOMEM;
    }
    memcpy(s->raw_body, req->raw_body, req->raw_body_len);
    s->raw_body_len = req->raw_body_len;
  }
  s->content_type = req->content_type; /* a literal in every caller */
  s->timeout_ms = req->timeout_ms;
  s->cb = cb;
  s->arg = arg;
  kedge_err_t err = attempt(s);
  if (err) {
    send_free(s);
    return err;
  }
  if (out)
    *out = s;
  return KEDGE_OK;
}

void kedge_nrf_send_cancel(kedge_nrf_send_t *s)
{
  if (!s)
    return;
  kedge_sbi_client_cancel(s->call);
  send_free(s);
}
