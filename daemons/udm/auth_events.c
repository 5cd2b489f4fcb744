/* Nudm_UEAuthentication_ResultConfirmation and _ResultRemoval (TS 29.503 5.4.2.3, 5.4.2.4,
 * 6.3.3.3, 6.3.3.4): the AUSF tells the UDM the result of each 5G AKA confirmation (TS 33.501
 * 6.1.4.1) with POST /nudm-ueau/v1/{supi}/auth-events, and removes it with
 * PUT .../auth-events/{authEventId} carrying authRemovalInd. The UDM keeps the latest
 * udm.auth_events.keep per SUPI in the subscriber database, durably before it answers (the
 * job joins the vectors' group commit), and `kedge-udmd subscriber show` lists them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kedge/hex.h"
#include "kedge/json_check.h"
#include "kedge/log.h"
#include "kedge/problem.h"
#include "kedge/random.h"
#include "kedge/sbi_client.h"
#include "kedge/time.h"
#include "udm.h"

#define EVENTS_ROUTE "/nudm-ueau/v1/{supi}/auth-events"

typedef struct event_job {
  udm_job_t h; /* kind UDM_JOB_AUTH_EVENT */
  bool removal;
  udm_auth_event_t ev;
} event_job_t;

/* TS 29.571 NfInstanceId: a UUID (RFC 4122 string form). */
static const char *check_uuid(const json_t *value)
{
  return kedge_uuid_check(json_string_value(value)) ? NULL : "must be a UUID";
}

/* TS 29.571 DateTime (RFC 3339) */
static const char *check_date_time(const json_t *value)
{
  int64_t ms;
  return kedge_rfc3339_parse(json_string_value(value), &ms) ? "must be an RFC 3339 date-time"
                                                            : NULL;
}

/* TS 29.503 6.3.6.2.8 AuthEvent; the order is the handler's values[] */
enum { EV_NF_INSTANCE_ID, EV_SUCCESS, EV_TIME_STAMP, EV_AUTH_TYPE, EV_SNN, EV_REMOVAL_IND };
const kedge_json_member_t udm_auth_event_members[] = {
    {.name = "nfInstanceId", .kind = KEDGE_JSON_STRING, .required = true, .check = check_uuid},
    {.name = "success", .kind = KEDGE_JSON_BOOLEAN, .required = true},
    {.name = "timeStamp",
     .kind = KEDGE_JSON_STRING,
     .required = true,
     .max_len = 64,
     .check = check_date_time},
    {.name = "authType", .kind = KEDGE_JSON_STRING, .required = true, .max_len = 32},
    {.name = "servingNetworkName",
     .kind = KEDGE_JSON_STRING,
     .required = true,
     .check = udm_check_snn},
    {.name = "authRemovalInd", .kind = KEDGE_JSON_BOOLEAN},
    {.name = NULL},
};

/* Pool thread, inside the batch's transaction. */
void udm_auth_event_work(udm_t *udm, udm_job_t *h)
{
  event_job_t *job = (event_job_t *)h;
  if (job->removal)
    h->err = udm_db_remove_auth_event(udm->db, job->ev.supi, job->ev.id, job->ev.removed_at);
  else
    h->err = udm_db_add_auth_event(udm->db, &job->ev, udm->auth_events_keep);
}

static json_t *event_json(const udm_auth_event_t *ev)
{
  return json_pack("{s:s, s:b, s:s, s:s, s:s}", "nfInstanceId", ev->nf_instance_id, "success",
                   ev->success, "timeStamp", ev->time_stamp, "authType", ev->auth_type,
                   "servingNetworkName", ev->serving_network_name);
}

/* 201 with the AuthEvent stored: written out when no member needs escaping (the checks above
 * leave only authType free), like the vectors (nudm_ueau.c), else through a tree. */
static void respond_event(kedge_sbi_request_t *req, const udm_auth_event_t *ev)
{
  char out[sizeof(*ev) + 160], *p = NULL, *end = out + sizeof(out);
  if (kedge_json_plain(ev->nf_instance_id) && kedge_json_plain(ev->time_stamp) &&
      kedge_json_plain(ev->auth_type) && kedge_json_plain(ev->serving_network_name)) {
    p = out;
    KEDGE_PUT_LIT(&p, end, "{\"nfInstanceId\":\"");
    KEDGE_PUT_STR(&p, end, ev->nf_instance_id);
    if (ev->success)
      KEDGE_PUT_LIT(&p, end, "\",\"success\":true,\"timeStamp\":\"");
    else
      KEDGE_PUT_LIT(&p, end, "\",\"success\":false,\"timeStamp\":\"");
    KEDGE_PUT_STR(&p, end, ev->time_stamp);
    KEDGE_PUT_LIT(&p, end, "\",\"authType\":\"");
    KEDGE_PUT_STR(&p, end, ev->auth_type);
    KEDGE_PUT_LIT(&p, end, "\",\"servingNetworkName\":\"");
    KEDGE_PUT_STR(&p, end, ev->serving_network_name);
    KEDGE_PUT_LIT(&p, end, "\"}");
  }
  if (p) {
    kedge_sbi_respond(req, 201, KEDGE_SBI_JSON, out, (size_t)(p - out));
    return;
  }
  json_t *body = event_json(ev);
  if (body)
    kedge_sbi_respond_json(req, 201, NULL, body);
  else
    kedge_sbi_respond_err(req, KEDGE_ERR_NOMEM, NULL);
  json_decref(body);
}

/* Worker loop: answer. */
static void event_done(void *arg)
{
  event_job_t *job = arg;
  udm_t *udm = job->h.udm;
  kedge_sbi_request_t *req = job->h.req;
  switch (job->h.err) {
  case KEDGE_OK:
    if (job->removal) {
      kedge_counter_add(udm->auth_events_removed, 1);
      kedge_log_subscriber(KEDGE_LOG_INFO, job->ev.supi, NULL, "auth-event %s removed", job->ev.id);
      kedge_sbi_respond(req, 204, NULL, NULL, 0);
    } else {
      kedge_counter_add(udm->auth_events_stored, 1);
      char segment[3 * KEDGE_SUPI_MAX + 1], location[1200];
      /* TS 29.501 4.4.1: built once per worker (udm.api_root and the bound port do not change
       * while running: udm_reload takes only the allow-list) */
      const char *root = kedge_sbi_server_api_root_cached(udm->srv, udm->api_root);
      kedge_sbi_path_segment(job->ev.supi, segment, sizeof(segment));
      char *p = location, *end = location + sizeof(location);
      KEDGE_PUT_STR(&p, end, root);
      KEDGE_PUT_LIT(&p, end, "/nudm-ueau/v1/");
      KEDGE_PUT_STR(&p, end, segment);
      KEDGE_PUT_LIT(&p, end, "/auth-events/");
      KEDGE_PUT_STR(&p, end, job->ev.id);
      if (!p)
        location[0] = '\0'; /* not reached: the buffer holds the longest root and SUPI */
      kedge_log_subscriber(KEDGE_LOG_INFO, job->ev.supi, NULL, "auth-event %s: %s (%s, %s)",
                           job->ev.id, job->ev.success ? "success" : "failure", job->ev.auth_type,
                           job->ev.serving_network_name);
      kedge_sbi_response_header(req, "location", location);
      respond_event(req, &job->ev);
    }
    break;
  case KEDGE_ERR_NOT_FOUND:
    kedge_counter_add(udm->auth_events_refused, 1);
    /* TS 29.503 application errors: an unknown SUPI (USER_NOT_FOUND); for the removal, an
     * auth-event this UDM does not hold (DATA_NOT_FOUND), also when removed already */
    kedge_sbi_respond_problem(req, 404, job->removal ? "DATA_NOT_FOUND" : "USER_NOT_FOUND", NULL);
    break;
  case KEDGE_ERR_BUSY:
    kedge_sbi_response_header(req, "retry-after", "1");
    kedge_sbi_respond_problem(req, 503, "NF_CONGESTION", "subscriber database busy");
    break;
  default:
    kedge_log_subscriber(KEDGE_LOG_ERROR, job->ev.supi, NULL, "auth-event: %s",
                         kedge_strerror(job->h.err));
    kedge_sbi_respond_err(req, job->h.err, NULL);
  }
  free(job);
}

static void refuse_param(kedge_sbi_request_t *req, const char *param, const char *why)
{
  json_t *problem = kedge_problem_new(400, "MANDATORY_IE_INCORRECT", why);
  kedge_problem_add_invalid_param(problem, param, why);
  kedge_sbi_respond_problem_json(req, problem);
  json_decref(problem);
}

/* A checked, required string member (udm_auth_event_members bounds its length), cut at
 * size - 1 as snprintf did, without its format pass (about 600 instructions a member). */
static void copy_member(const char *s, char *out, size_t size)
{
  size_t n = s ? strnlen(s, size - 1) : 0;
  memcpy(out, s ? s : "", n);
  out[n] = '\0';
}

/* POST (removal false) and PUT (removal true) share everything up to the database. */
static void auth_event_request(kedge_sbi_request_t *req, udm_t *udm, bool removal)
{
  if (!udm_consumer_allowed(udm, req)) {
    kedge_sbi_respond_problem(req, 403, "CONSUMER_NOT_AUTHORIZED",
                              "only AUSFs may report authentication results");
    return;
  }
  kedge_supi_t supi;
  if (kedge_supi_parse(kedge_sbi_request_var(req, "supi"), &supi)) {
    refuse_param(req, "supi", "not a SUPI (imsi-<5 to 15 digits>, nai-<user>@<realm>)");
    return;
  }
  /* read flat when it is (kedge_sbi_server_route_strings: nothing to decode), else through
   * jansson; checked against udm_auth_event_members either way */
  const char *v[KEDGE_JSON_FLAT_MAX];
  if (!kedge_sbi_request_strings(req, "AuthEvent", v))
    return;
  if (removal && !(v[EV_REMOVAL_IND] && strcmp(v[EV_REMOVAL_IND], "true") == 0)) {
    /* TS 29.503 5.4.2.4: the removal is an AuthEvent with authRemovalInd true */
    refuse_param(req, "/authRemovalInd", "must be true to remove an auth-event");
    return;
  }
  const char *id = removal ? kedge_sbi_request_var(req, "authEventId") : NULL;
  if (removal && strlen(id) != UDM_AUTH_EVENT_ID_LEN) {
    kedge_counter_add(udm->auth_events_refused, 1);
    kedge_sbi_respond_problem(req, 404, "DATA_NOT_FOUND", NULL); /* never one of ours */
    return;
  }
  event_job_t *job = calloc(1, sizeof(*job));
  if (!job) {
    kedge_sbi_respond_err(req, KEDGE_ERR_NOMEM, NULL);
    return;
  }
  job->h.kind = UDM_JOB_AUTH_EVENT;
  job->h.size = sizeof(*job);
  job->h.udm = udm;
  job->h.req = req;
  job->removal = removal;
  udm_auth_event_t *ev = &job->ev;
  memcpy(ev->supi, supi.value, supi.len + 1);
  if (removal) {
    memcpy(ev->id, id, UDM_AUTH_EVENT_ID_LEN + 1);
    kedge_rfc3339_format(kedge_wall_ms(), ev->removed_at);
  } else {
    uint8_t rnd[UDM_AUTH_EVENT_ID_LEN / 2];
    if (kedge_random_public(rnd, sizeof(rnd))) { /* an id a peer cannot guess (STYLE.md) */
      free(job);
      kedge_sbi_respond_err(req, KEDGE_ERR_CRYPTO, NULL);
      return;
    }
    kedge_hex_encode(rnd, sizeof(rnd), ev->id);
  }
  copy_member(v[EV_NF_INSTANCE_ID], ev->nf_instance_id, sizeof(ev->nf_instance_id));
  ev->success = strcmp(v[EV_SUCCESS], "true") == 0; /* required: "true" or "false" */
  copy_member(v[EV_TIME_STAMP], ev->time_stamp, sizeof(ev->time_stamp));
  copy_member(v[EV_AUTH_TYPE], ev->auth_type, sizeof(ev->auth_type));
  copy_member(v[EV_SNN], ev->serving_network_name, sizeof(ev->serving_network_name));
  kedge_err_t err =
      kedge_work_submit(udm->pool, kedge_sbi_request_base(req), NULL, event_done, job);
  if (err) {
    job->h.err = err;
    event_done(job); /* 503 when the queue is full */
  }
}

static void post_auth_event(kedge_sbi_request_t *req, void *arg)
{
  auth_event_request(req, arg, false);
}

static void put_auth_event(kedge_sbi_request_t *req, void *arg)
{
  auth_event_request(req, arg, true);
}

kedge_err_t udm_auth_events_setup(udm_t *udm, kedge_sbi_server_t *srv)
{
  kedge_metrics_t *m = kedge_sbi_server_metrics(srv);
  const char *name = "kedge_udm_auth_events_total", *help = "auth-events by outcome";
  kedge_err_t err;
  if ((err = kedge_metrics_counter(m, name, help, "result=\"stored\"", &udm->auth_events_stored)) ||
      (err =
           kedge_metrics_counter(m, name, help, "result=\"removed\"", &udm->auth_events_removed)) ||
      (err = kedge_metrics_counter(m, name, help, "result=\"not_found\"",
                                   &udm->auth_events_refused)) ||
      (err = kedge_sbi_server_route(srv, "POST", EVENTS_ROUTE, NULL, post_auth_event, udm)) ||
      /* jansson's parse of the ~170 octets cost about 31,000 instructions an AuthEvent
       * (docs/performance-latency.md "Seventh round: the UE side and the UDM") */
      (err = kedge_sbi_server_route_strings(srv, udm_auth_event_members)) ||
      (err = kedge_sbi_server_route(srv, "PUT", EVENTS_ROUTE "/{authEventId}", NULL, put_auth_event,
                                    udm)) ||
      (err = kedge_sbi_server_route_strings(srv, udm_auth_event_members)))
    return err;
  return KEDGE_OK;
}
