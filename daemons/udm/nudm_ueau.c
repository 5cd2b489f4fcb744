/* Nudm_UEAuthentication_Get (TS 29.503 5.4.2.2, 6.3.3.2.4): generate-auth-data.
 * The handler checks the consumer and the request on the worker loop, then queues a job on
 * the database pool: one thread that advances the SQNs of a whole batch in one transaction
 * (group commit, SPEC.md 1: stored durably before the vector leaves) and hands each back to
 * its loop, which builds the vector and answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "kedge/aka.h"
#include "kedge/edge.h"
#include "kedge/hex.h"
#include "kedge/json_check.h"
#include "kedge/log.h"
#include "kedge/problem.h"
#include "kedge/random.h"
#include "udm.h"

typedef struct av_job {
  udm_job_t h; /* kind UDM_JOB_VECTOR; h.err: the result */
  char supi[KEDGE_SUPI_MAX + 1];
  char snn[80];
  bool resync;
  uint8_t rand_resync[KEDGE_RAND_LEN];
  uint8_t auts[KEDGE_AUTS_LEN];

  /* results, written on the pool thread */
  udm_subscriber_t sub; /* sub.cred wiped once the vector is built */
  kedge_he_av_t av;
} av_job_t;

/* TS 29.503 ServingNetworkName: 5G:mnc<3 digits>.mcc<3 digits>.3gppnetwork.org (the NID
 * suffix of SNPNs is not supported). */
const char *udm_check_snn(const json_t *value)
{
  return udm_snn_why(json_string_value(value));
}

const char *udm_snn_why(const char *s)
{
  /* compared in place: sscanf cost 4,500 instructions a request (docs/performance-latency.md,
   * fifth round) */
  if (!s || strlen(s) != KEDGE_SNN_LEN || memcmp(s, "5G:mnc", 6) != 0 ||
      strspn(s + 6, "0123456789") != 3 || memcmp(s + 9, ".mcc", 4) != 0 ||
      strspn(s + 13, "0123456789") != 3 || strcmp(s + 16, ".3gppnetwork.org") != 0)
    return "must be 5G:mnc<3 digits>.mcc<3 digits>.3gppnetwork.org";
  return NULL;
}

/* TS 29.503 6.3.6.2.2 AuthenticationInfoRequest */
const kedge_json_member_t udm_auth_info_request_members[] = {
    {.name = "servingNetworkName",
     .kind = KEDGE_JSON_STRING,
     .required = true,
     .check = udm_check_snn},
    {.name = "ausfInstanceId", .kind = KEDGE_JSON_STRING, .required = true, .max_len = 64},
    {.name = "resynchronizationInfo",
     .kind = KEDGE_JSON_OBJECT,
     .object = kedge_json_resynchronization_info},
    {.name = NULL},
};

bool udm_consumer_allowed(const udm_t *udm, const kedge_sbi_request_t *req)
{
  for (size_t i = 0; i < udm->n_allowed_consumers; i++)
    /* "*": any caller that reached the port (sbi.transport h2c in a lab, or tls-server where
     * oauth2.required made the NRF's token the caller's proof; docs/oauth2.md) */
    if (strcmp(udm->allowed_consumers[i], "*") == 0 ||
        kedge_sbi_request_peer_is(req, udm->allowed_consumers[i]))
      return true;
  return false;
}

void udm_job_drop(void *arg)
{
  udm_job_t *h = arg;
  OPENSSL_cleanse(h, h->size);
  free(h);
}

/* Pool thread: one transaction for the whole batch (SQNs and AuthEvents). */
static void vectors_batch(void **args, size_t n, void *arg)
{
  udm_t *udm = arg;
  kedge_err_t tx = udm_db_begin(udm->db);
  for (size_t i = 0; i < n; i++) {
    udm_job_t *h = args[i];
    if (tx) {
      h->err = tx;
      continue;
    }
    if (h->kind != UDM_JOB_VECTOR) { /* an AuthEvent joins the same transaction */
      udm_auth_event_work(udm, h);
      continue;
    }
    av_job_t *job = args[i];
    uint64_t sqn_ms = 0;
    if (job->resync) {
      /* TS 33.102 6.3.5: verify MAC-S before trusting SQNms */
      job->h.err = udm_db_get_credentials(udm->db, job->supi, &job->sub);
      if (!job->h.err)
        job->h.err = kedge_aka_auts_check(&job->sub.cred, job->rand_resync, job->auts, &sqn_ms);
      OPENSSL_cleanse(&job->sub.cred, sizeof(job->sub.cred));
    }
    if (!job->h.err)
      job->h.err = udm_db_next_sqn(udm->db, job->supi, job->resync ? &sqn_ms : NULL, &job->sub);
  }
  if (!tx && (tx = udm_db_commit(udm->db)) != KEDGE_OK)
    udm_db_rollback(udm->db);
  kedge_counter_add(udm->batches, 1);
  /* The vectors themselves are built on the workers' loops (vectors_done), not here: this
   * thread only stores SQNs, so the next batch's transaction starts as soon as this one is
   * durable, and the Milenage and KDF work of a batch runs beside the next fsync (bench/aka,
   * docs/performance-latency.md). */
  for (size_t i = 0; i < n; i++) {
    udm_job_t *h = args[i];
    if (!h->err && tx)
      h->err = tx; /* nothing of this batch is durable: no vector (nor AuthEvent) may leave */
  }
}

static void respond_vector(av_job_t *job)
{
  char rand[33], xres_star[33], autn[33], kausf[65];
  kedge_hex_encode(job->av.rand, 16, rand);
  kedge_hex_encode(job->av.xres_star, 16, xres_star);
  kedge_hex_encode(job->av.autn, 16, autn);
  kedge_hex_encode(job->av.kausf, 32, kausf);
  /* TS 29.503 6.3.6.2.3 AuthenticationInfoResult; the edge flag is kedge's extension, sent as
   * a vendor-specific attribute (TS 29.500 6.6.3, SPEC.md 7; kedge/edge.h); akmaInd is
   * TS 29.503's own, sent only when true (its absence means "not AKMA", SPEC.md 9) */
  /* Written out (hex, a routing indicator of digits, a SUPI without '"' or '\\'): a tree built
   * and dumped per answer cost about 24,000 instructions (docs/performance-latency.md, fourth
   * round), snprintf 2,900 (fifth round); a SUPI that needs escaping goes through a tree. */
  char out[KEDGE_SUPI_MAX + KEDGE_RID_MAX + 400], *p = NULL, *end = out + sizeof(out);
  if (kedge_json_plain(job->sub.supi) && kedge_json_plain(job->sub.routing_indicator)) {
    p = out;
    KEDGE_PUT_LIT(&p, end,
                  "{\"authType\":\"5G_AKA\",\"authenticationVector\":{\"avType\":\"5G_HE_AKA\","
                  "\"rand\":\"");
    kedge_str_put(&p, end, rand, 32);
    KEDGE_PUT_LIT(&p, end, "\",\"xresStar\":\"");
    kedge_str_put(&p, end, xres_star, 32);
    KEDGE_PUT_LIT(&p, end, "\",\"autn\":\"");
    kedge_str_put(&p, end, autn, 32);
    KEDGE_PUT_LIT(&p, end, "\",\"kausf\":\"");
    kedge_str_put(&p, end, kausf, 64);
    KEDGE_PUT_LIT(&p, end, "\"},\"supi\":\"");
    KEDGE_PUT_STR(&p, end, job->sub.supi);
    KEDGE_PUT_LIT(&p, end, "\",\"routingId\":\"");
    KEDGE_PUT_STR(&p, end, job->sub.routing_indicator);
    KEDGE_PUT_LIT(&p, end, "\",\"" KEDGE_VENDOR_SPECIFIC "\":{\"" KEDGE_VENDOR_EDGE_IND "\":");
    if (job->sub.edge_capable)
      KEDGE_PUT_LIT(&p, end, "true}");
    else
      KEDGE_PUT_LIT(&p, end, "false}");
    if (job->sub.akma)
      KEDGE_PUT_LIT(&p, end, ",\"akmaInd\":true");
    KEDGE_PUT_LIT(&p, end, "}");
  }
  if (p) {
    kedge_sbi_respond(job->h.req, 200, KEDGE_SBI_JSON, out, (size_t)(p - out));
  } else {
    json_t *body = json_pack("{s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:s, s:s, s:{s:b}}", "authType",
                             "5G_AKA", "authenticationVector", "avType", "5G_HE_AKA", "rand", rand,
                             "xresStar", xres_star, "autn", autn, "kausf", kausf, "supi",
                             job->sub.supi, "routingId", job->sub.routing_indicator,
                             KEDGE_VENDOR_SPECIFIC, KEDGE_VENDOR_EDGE_IND, job->sub.edge_capable);
    if (body && job->sub.akma)
      json_object_set_new(body, "akmaInd", json_true());
    if (body)
      kedge_sbi_respond_json(job->h.req, 200, NULL, body);
    else
      kedge_sbi_respond_err(job->h.req, KEDGE_ERR_NOMEM, NULL);
    /* jansson's copy of the strings is freed with the object; kedge's own are wiped here */
    json_decref(body);
  }
  OPENSSL_cleanse(out, sizeof(out)); /* KAUSF */
  OPENSSL_cleanse(xres_star, sizeof(xres_star));
  OPENSSL_cleanse(kausf, sizeof(kausf));
}

/* Worker loop: answer. */
static void vectors_done(void *arg)
{
  av_job_t *job = arg;
  udm_t *udm = job->h.udm;
  if (!job->h.err) { /* its SQN is durable (vectors_batch): now the vector may be built */
    uint8_t rand[KEDGE_RAND_LEN];
    /* TS 33.102 6.3.2: a fresh RAND, sent in clear (kedge_random_public: one RAND_bytes per
     * 32 vectors) */
    job->h.err = kedge_random_public(rand, sizeof(rand));
    if (!job->h.err)
      job->h.err = kedge_aka_generate_he_av(&job->sub.cred, rand, job->sub.sqn, job->sub.amf,
                                            job->snn, &job->av);
  }
  OPENSSL_cleanse(&job->sub.cred, sizeof(job->sub.cred));
  switch (job->h.err) {
  case KEDGE_OK:
    kedge_counter_add(udm->vectors_ok, 1);
    respond_vector(job);
    break;
  case KEDGE_ERR_NOT_FOUND: /* TS 29.503 6.3.3.2.4 */
    kedge_sbi_respond_problem(job->h.req, 404, "USER_NOT_FOUND", NULL);
    break;
  case KEDGE_ERR_MAC_FAILURE:
    kedge_log_subscriber(KEDGE_LOG_WARN, job->supi, NULL,
                         "resynchronisation refused: AUTS does not verify");
    kedge_sbi_respond_problem(job->h.req, 403, "AUTHENTICATION_REJECTED",
                              "resynchronizationInfo: AUTS does not verify");
    break;
  case KEDGE_ERR_BUSY:
    kedge_sbi_response_header(job->h.req, "retry-after", "1");
    kedge_sbi_respond_problem(job->h.req, 503, "NF_CONGESTION", "subscriber database busy");
    break;
  default:
    kedge_log_subscriber(KEDGE_LOG_ERROR, job->supi, NULL, "vector: %s",
                         kedge_strerror(job->h.err));
    kedge_sbi_respond_err(job->h.req, job->h.err, NULL);
  }
  if (job->h.err)
    kedge_counter_add(udm->vectors_failed, 1);
  OPENSSL_cleanse(job, sizeof(*job));
  free(job);
}

static void generate_auth_data(kedge_sbi_request_t *req, void *arg)
{
  udm_t *udm = arg;
  if (!udm_consumer_allowed(udm, req)) {
    kedge_sbi_respond_problem(req, 403, "CONSUMER_NOT_AUTHORIZED",
                              "only AUSFs may ask for authentication vectors");
    return;
  }
  kedge_supi_t supi;
  char rid[KEDGE_RID_MAX + 1];
  const char *why = NULL;
  kedge_err_t err =
      udm_resolve_supi_or_suci(udm, kedge_sbi_request_var(req, "supiOrSuci"), &supi, rid, &why);
  switch (err) {
  case KEDGE_OK:
    break;
  case KEDGE_ERR_UNSUPPORTED:
    /* TS 29.503 6.3.3.2.4 / Table 6.3.7.3-1 give this cause 501; SPEC.md 8 answers every
     * SUCI failure with a 4xx (docs/udm.md "SUCI: the SIDF" says why). */
    kedge_sbi_respond_problem(req, 403, "UNSUPPORTED_PROTECTION_SCHEME", why);
    kedge_counter_add(udm->suci_failed, 1);
    return;
  case KEDGE_ERR_MAC_FAILURE:
    /* TS 29.503 6.3.3.2.4, Table 6.3.7.3-1: 403 INVALID_SCHEME_OUTPUT ("SUCI cannot be
     * decrypted with received data"). An unknown hnPubKeyId (INVALID_HN_PUBLIC_KEY_IDENTIFIER
     * there) gets the same answer, so a prober cannot learn which key ids exist (SPEC.md 8). */
    kedge_sbi_respond_problem(req, 403, "INVALID_SCHEME_OUTPUT", why);
    kedge_counter_add(udm->suci_failed, 1);
    return;
  case KEDGE_ERR_BAD_SUPI: {
    json_t *problem = kedge_problem_new(400, "MANDATORY_IE_INCORRECT", why);
    kedge_problem_add_invalid_param(problem, "supiOrSuci", why);
    kedge_sbi_respond_problem_json(req, problem);
    json_decref(problem);
    return;
  }
  default:
    kedge_sbi_respond_err(req, err, NULL);
    return;
  }
  if (rid[0])
    kedge_counter_add(udm->suci_ok, 1);

  /* read flat when it is (kedge_sbi_server_route_strings: no resynchronizationInfo, nothing to
   * decode), else through jansson; checked against udm_auth_info_request_members either way */
  const char *values[KEDGE_JSON_FLAT_MAX];
  if (!kedge_sbi_request_strings(req, "AuthenticationInfoRequest", values))
    return;

  av_job_t *job = calloc(1, sizeof(*job));
  if (!job) {
    kedge_sbi_respond_err(req, KEDGE_ERR_NOMEM, NULL);
    return;
  }
  job->h.kind = UDM_JOB_VECTOR;
  job->h.size = sizeof(*job);
  job->h.udm = udm;
  job->h.req = req;
  memcpy(job->supi, supi.value, supi.len + 1);
  /* checked: KEDGE_SNN_LEN characters (udm_snn_why) */
  memcpy(job->snn, values[0], KEDGE_SNN_LEN + 1);
  /* only in a tree: a body holding it is not read flat */
  json_t *resync = json_object_get(kedge_sbi_request_json(req), "resynchronizationInfo");
  if (resync) {
    job->resync = true;
    kedge_hex_decode(json_string_value(json_object_get(resync, "rand")), job->rand_resync, 16);
    kedge_hex_decode(json_string_value(json_object_get(resync, "auts")), job->auts, 14);
    kedge_counter_add(udm->resyncs, 1);
  }
  err = kedge_work_submit(udm->pool, kedge_sbi_request_base(req), NULL, vectors_done, job);
  if (err) {
    job->h.err = err;
    vectors_done(job); /* answers 503 when the queue is full */
  }
}

/* The group commit's thread, each time it checkpointed the WAL itself. */
static void checkpoint_inline(void *arg)
{
  udm_t *udm = arg;
  kedge_counter_add(udm->checkpoints_inline, 1);
}

kedge_err_t udm_ueau_setup(udm_t *udm, kedge_sbi_server_t *srv)
{
  kedge_metrics_t *m = kedge_sbi_server_metrics(srv);
  kedge_err_t err;
  if ((err = kedge_metrics_counter(m, "kedge_udm_auth_vectors_total",
                                   "5G HE AVs generated, by result", "result=\"ok\"",
                                   &udm->vectors_ok)) ||
      (err = kedge_metrics_counter(m, "kedge_udm_auth_vectors_total",
                                   "5G HE AVs generated, by result", "result=\"failed\"",
                                   &udm->vectors_failed)) ||
      (err = kedge_metrics_counter(m, "kedge_udm_resynchronisations_total",
                                   "generate-auth-data requests with resynchronizationInfo", NULL,
                                   &udm->resyncs)) ||
      (err = kedge_metrics_counter(m, "kedge_udm_suci_total", "SUCIs de-concealed, by result",
                                   "result=\"ok\"", &udm->suci_ok)) ||
      (err = kedge_metrics_counter(m, "kedge_udm_suci_total", "SUCIs de-concealed, by result",
                                   "result=\"failed\"", &udm->suci_failed)) ||
      (err = kedge_metrics_counter(m, "kedge_udm_sqn_commits_total",
                                   "transactions (fsyncs) that stored SQNs, one per batch", NULL,
                                   &udm->batches)) ||
      (err = kedge_metrics_counter(m, "kedge_udm_wal_checkpoints_inline_total",
                                   "WAL checkpoints the group commit ran itself (the WAL past 4 x "
                                   "udm.wal_checkpoint_pages: the background thread behind)",
                                   NULL, &udm->checkpoints_inline)))
    return err;
  /* The group commit's checkpoints on a thread of their own: no batch waits for the WAL's copy
   * into the file (docs/udm.md). */
  if ((err = udm_db_checkpoint_in_background(udm->db, udm->database, udm->wal_checkpoint_pages,
                                             checkpoint_inline, udm)))
    return err;
  err =
      kedge_work_pool_new_batched(udm->max_queued, udm->max_batch, vectors_batch, udm, &udm->pool);
  if (err)
    return err;
  /* at shutdown, jobs that will not be answered still hold K and OPc (or a vector): wiped */
  kedge_work_pool_set_drop(udm->pool, udm_job_drop);
  err = kedge_sbi_server_route(srv, "POST",
                               "/nudm-ueau/v1/{supiOrSuci}/security-information/generate-auth-data",
                               NULL, generate_auth_data, udm);
  /* jansson's parse of the ~100 octets cost about 17,000 instructions a vector
   * (docs/performance-latency.md "Seventh round: the UE side and the UDM") */
  return err ? err : kedge_sbi_server_route_strings(srv, udm_auth_info_request_members);
}
