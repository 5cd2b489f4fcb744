/* The AUSF as a consumer of Nudm_UEAuthentication's result operations (TS 29.503 5.4.2.3
 * ResultConfirmation, 5.4.2.4 ResultRemoval): after each 5G AKA confirmation, success or
 * failure, the AUSF tells the UDM (TS 33.501 6.1.4.1: the home network's proof that the UE was
 * present, linked to later procedures); a DELETE of that confirmation removes it again.
 *
 * The answer to the SEAF waits for the UDM's answer, so a DELETE that follows can name the
 * UDM's AuthEvent; it waits at most udm.auth_event_timeout. When the UDM does not answer in
 * time or refuses, the authentication result stands (it was decided by RES*, not by the UDM):
 * the SEAF gets its answer, the AUSF logs a warning and counts
 * kedge_ausf_auth_events_total{result="failed"}, and no removal can be sent later
 * (docs/ausf.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ausf.h"
#include "kedge/log.h"
#include "kedge/str.h"
#include "kedge/time.h"

/* {the UDM that gave the vector}/nudm-ueau/v1/{supi}/auth-events[/{authEventId}] */
static bool event_url(const ausf_auth_ctx_t *ctx, const char *supi, const char *event_id, char *url,
                      size_t size)
{
  char segment[3 * KEDGE_SUPI_MAX + 1];
  if (!kedge_sbi_path_segment(supi, segment, sizeof(segment)))
    return false;
  /* written out with kedge_str_put, not snprintf (issue 17: docs/performance-latency.md
   * "Seventh round: the AUSF") */
  char *p = url;
  const char *end = url + size;
  KEDGE_PUT_STR(&p, end, ctx->udm_root);
  KEDGE_PUT_LIT(&p, end, "/nudm-ueau/v1/");
  KEDGE_PUT_STR(&p, end, segment);
  KEDGE_PUT_LIT(&p, end, "/auth-events");
  if (event_id) {
    KEDGE_PUT_LIT(&p, end, "/");
    KEDGE_PUT_STR(&p, end, event_id);
  }
  return p != NULL;
}

/* TS 29.503 6.3.6.2.8 AuthEvent */
static json_t *auth_event(const ausf_t *ausf, const ausf_auth_ctx_t *ctx, bool success,
                          bool removal)
{
  char now[21];
  kedge_rfc3339_format(kedge_wall_ms(), now);
  json_t *body =
      json_pack("{s:s, s:b, s:s, s:s, s:s}", "nfInstanceId", ausf->instance_id, "success", success,
                "timeStamp", now, "authType", "5G_AKA", "servingNetworkName", ctx->snn);
  if (body && removal && json_object_set_new(body, "authRemovalInd", json_true()) != 0) {
    json_decref(body);
    return NULL;
  }
  return body;
}

/* The authEventId from the Location of a 201 (its last path segment), checked: it is put back
 * into a URI later. */
static bool event_id_of(const char *location, char out[AUSF_AUTH_EVENT_ID_MAX + 1])
{
  const char *slash = location ? strrchr(location, '/') : NULL;
  if (!slash || strstr(location, "/auth-events/") == NULL)
    return false;
  const char *id = slash + 1;
  size_t len = strlen(id);
  if (len == 0 || len > AUSF_AUTH_EVENT_ID_MAX ||
      strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~") != len)
    return false;
  memcpy(out, id, len + 1);
  return true;
}

/* The call's state is the confirmation's (c->event_done): see ausf_confirmation_abandon. */
static void event_answered(const kedge_sbi_client_response_t *resp, void *arg)
{
  ausf_confirmation_t *c = arg;
  ausf_t *ausf = c->ausf;
  if (!resp->err && resp->status == 201 && event_id_of(resp->location, c->ctx.auth_event_id)) {
    kedge_counter_add(ausf->auth_events_ok, 1);
  } else {
    kedge_counter_add(ausf->auth_events_failed, 1);
    if (resp->err)
      kedge_log_subscriber(KEDGE_LOG_WARN, c->ctx.supi, NULL,
                           "auth-event not stored at the UDM: %s; the result stands",
                           kedge_strerror(resp->err));
    else
      kedge_log_subscriber(KEDGE_LOG_WARN, c->ctx.supi, NULL,
                           "auth-event not stored at the UDM: status %ld%s; the result stands",
                           resp->status, resp->status == 201 ? " without a usable Location" : "");
  }
  void (*done)(ausf_confirmation_t * c) = c->event_done;
  c->event_done = NULL; /* no longer out */
  done(c);
}

void ausf_auth_event_send(ausf_confirmation_t *c, void (*done)(ausf_confirmation_t *c))
{
  ausf_t *ausf = c->ausf;
  kedge_sbi_client_t *udm = ausf_worker_of(c->req)->udm;
  char url[4096], now[21], text[sizeof(c->ctx.snn) + 256];
  kedge_rfc3339_format(kedge_wall_ms(), now);
  /* TS 29.503 6.3.6.2.8 AuthEvent, written out like the AUSF's answers (nausf_ueau.c): a UUID,
   * RFC 3339, the serving network name; a tree when one of them needs escaping */
  char *p = kedge_json_plain(ausf->instance_id) && kedge_json_plain(c->ctx.snn) ? text : NULL;
  const char *end = text + sizeof(text);
  KEDGE_PUT_LIT(&p, end, "{\"nfInstanceId\":\"");
  KEDGE_PUT_STR(&p, end, ausf->instance_id);
  if (c->success)
    KEDGE_PUT_LIT(&p, end, "\",\"success\":true,\"timeStamp\":\"");
  else
    KEDGE_PUT_LIT(&p, end, "\",\"success\":false,\"timeStamp\":\"");
  KEDGE_PUT_STR(&p, end, now);
  KEDGE_PUT_LIT(&p, end, "\",\"authType\":\"5G_AKA\",\"servingNetworkName\":\"");
  KEDGE_PUT_STR(&p, end, c->ctx.snn);
  KEDGE_PUT_LIT(&p, end, "\"}");
  bool written = p != NULL;
  size_t n = written ? (size_t)(p - text) : 0;
  json_t *body = written ? NULL : auth_event(ausf, &c->ctx, c->success, false);
  kedge_err_t err = KEDGE_ERR_NOMEM;
  if ((written || body) && event_url(&c->ctx, c->ctx.supi, NULL, url, sizeof(url))) {
    c->event_done = done;
    const kedge_sbi_client_request_t call = {.method = "POST",
                                             .url = url,
                                             .body = body,
                                             .raw_body = written ? text : NULL,
                                             .raw_body_len = n,
                                             .timeout_ms = (uint32_t)ausf->auth_event_timeout_ms,
                                             /* only its Location is read (event_answered) */
                                             .unread_2xx_body = true};
    err = kedge_sbi_client_send(udm, &call, event_answered, c, NULL);
  }
  json_decref(body);
  if (err) {
    c->event_done = NULL;
    kedge_counter_add(ausf->auth_events_failed, 1);
    kedge_log_subscriber(KEDGE_LOG_WARN, c->ctx.supi, NULL, "auth-event not sent: %s",
                         kedge_strerror(err));
    done(c);
  }
}

typedef struct removal_call {
  LIST_ENTRY(removal_call) link; /* in w->removals until answered */
  ausf_t *ausf;
  char supi[KEDGE_SUPI_MAX + 1];
} removal_call_t;

static void removal_answered(const kedge_sbi_client_response_t *resp, void *arg)
{
  removal_call_t *r = arg;
  LIST_REMOVE(r, link);
  if (!resp->err && resp->status == 204) {
    kedge_counter_add(r->ausf->auth_removals_ok, 1);
  } else {
    kedge_counter_add(r->ausf->auth_removals_failed, 1);
    kedge_log_subscriber(KEDGE_LOG_WARN, r->supi, NULL,
                         "auth-event removal failed at the UDM: %s (status %ld)",
                         resp->err ? kedge_strerror(resp->err) : "refused", resp->status);
  }
  free(r);
}

void ausf_auth_event_remove(ausf_t *ausf, ausf_worker_t *w, const ausf_auth_ctx_t *ctx)
{
  if (!ctx->auth_event_id[0]) {
    /* TS 29.503 5.4.2.4 names the AuthEvent by the id of the POST's Location: without it (the
     * POST failed or timed out) there is nothing to address, and the UDM may keep the result */
    kedge_counter_add(ausf->auth_removals_no_id, 1);
    kedge_log_subscriber(KEDGE_LOG_WARN, ctx->supi, NULL,
                         "auth-event removal not sent: no authEventId (the AuthEvent POST failed "
                         "or timed out); the UDM may keep this authentication's result");
    return;
  }
  char url[4096];
  removal_call_t *r = calloc(1, sizeof(*r));
  /* TS 29.503 5.4.2.4: the AuthEvent again, with authRemovalInd true */
  json_t *body = auth_event(ausf, ctx, true, true);
  kedge_err_t err = KEDGE_ERR_NOMEM;
  if (r && body && event_url(ctx, ctx->supi, ctx->auth_event_id, url, sizeof(url))) {
    r->ausf = ausf;
    kedge_str_copy(r->supi, sizeof(r->supi), ctx->supi);
    const kedge_sbi_client_request_t call = {.method = "PUT", .url = url, .body = body};
    err = kedge_sbi_client_send(w->udm, &call, removal_answered, r, NULL);
    if (!err)
      LIST_INSERT_HEAD(&w->removals, r, link);
  }
  json_decref(body);
  if (err) {
    free(r);
    kedge_counter_add(ausf->auth_removals_failed, 1);
    kedge_log_subscriber(KEDGE_LOG_WARN, ctx->supi, NULL, "auth-event removal not sent: %s",
                         kedge_strerror(err));
  }
}

void ausf_auth_event_removals_drop(ausf_t *ausf, ausf_worker_t *w)
{
  unsigned n = 0;
  removal_call_t *r;
  while ((r = LIST_FIRST(&w->removals))) {
    LIST_REMOVE(r, link);
    free(r);
    n++;
  }
  if (n) {
    kedge_counter_add(ausf->auth_removals_failed, n);
    kedge_log_warn("%u auth-event removal(s) still unanswered by the UDM at shutdown: dropped", n);
  }
}
