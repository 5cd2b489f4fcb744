/* kedge-ecsd set-up and tear-down: caches, rate limits, the PSK SSL_CTX, metrics, routes. */
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ecs.h"
#include "kedge/log.h"
#include "key_fetch.h"
#include "psk_handshake.h"
#include "worker.h"

static const char *const outcome_names[ECS_OUTCOME__COUNT] = {
    [ECS_OUTCOME_SUCCESS] = "success",
    [ECS_OUTCOME_BAD_BINDER] = "bad_binder",
    [ECS_OUTCOME_UNKNOWN_IDENTITY] = "unknown_identity",
    [ECS_OUTCOME_KEY_SOURCE_ERROR] = "key_source_error",
    [ECS_OUTCOME_RATE_LIMITED] = "rate_limited",
    [ECS_OUTCOME_NO_PSK] = "no_psk",
    [ECS_OUTCOME_NO_ALPN] = "no_alpn",
    [ECS_OUTCOME_TIMEOUT] = "timeout",
    [ECS_OUTCOME_BUSY] = "busy",
    [ECS_OUTCOME_FAILED] = "failed",
};

static const char *const lookup_names[ECS_LOOKUP__COUNT] = {
    [ECS_LOOKUP_HIT] = "hit",
    [ECS_LOOKUP_NEGATIVE_HIT] = "negative_hit",
    [ECS_LOOKUP_MALFORMED] = "malformed",
    [ECS_LOOKUP_NO_ROUTE] = "no_route",
    [ECS_LOOKUP_FETCH] = "fetch",
    [ECS_LOOKUP_JOINED] = "joined",
    [ECS_LOOKUP_LIMITED] = "rate_limited",
};

const char *ecs_outcome_name(ecs_outcome_t outcome)
{
  return outcome < ECS_OUTCOME__COUNT ? outcome_names[outcome] : "?";
}

void ecs_count_outcome(ecs_t *ecs, ecs_outcome_t outcome)
{
  if (outcome < ECS_OUTCOME__COUNT)
    kedge_counter_add(ecs->m_outcome[outcome], 1);
}

static kedge_err_t labelled_counters(kedge_metrics_t *m, const char *name, const char *help,
                                     const char *label, const char *const *values, size_t n,
                                     kedge_counter_t **out)
{
  for (size_t i = 0; i < n; i++) {
    char labels[96] = "";
    kedge_err_t err = kedge_metrics_label(labels, sizeof(labels), label, values[i]);
    if (!err)
      err = kedge_metrics_counter(m, name, help, labels, &out[i]);
    if (err)
      return err;
  }
  return KEDGE_OK;
}

static kedge_err_t metrics_setup(ecs_t *ecs, kedge_metrics_t *m)
{
  static const double bounds[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                  0.1,    0.2,   0.5,   1,     2,    5};
  kedge_err_t err =
      labelled_counters(m, "kedge_ecs_handshakes_total", "TLS-PSK handshakes by outcome", "outcome",
                        outcome_names, ECS_OUTCOME__COUNT, ecs->m_outcome);
  if (!err)
    err = labelled_counters(m, "kedge_ecs_key_lookups_total",
                            "PSK identity lookups: cache hits, fetches, dummy keys", "result",
                            lookup_names, ECS_LOOKUP__COUNT, ecs->m_lookup);
  if (!err)
    for (int i = 0; i < KEDGE_KEY__COUNT && !err; i++) {
      const char *name = kedge_key_outcome_name((kedge_key_outcome_t)i);
      err = labelled_counters(m, "kedge_ecs_key_fetches_total",
                              "Key requests to the AUSF or the NEF by result", "result", &name, 1,
                              &ecs->m_fetch[i]);
    }
  if (!err)
    err = kedge_metrics_histogram(m, "kedge_ecs_key_fetch_seconds",
                                  "Time from key request to answer", NULL, bounds,
                                  sizeof(bounds) / sizeof(bounds[0]), &ecs->m_fetch_seconds);
  if (!err)
    err = kedge_metrics_gauge(m, "kedge_ecs_handshakes_in_progress",
                              "TLS-PSK handshakes not finished yet", NULL, &ecs->m_handshakes);
  if (!err)
    err = kedge_metrics_gauge(m, "kedge_ecs_key_fetches_in_progress",
                              "Key requests waiting for an answer", NULL, &ecs->m_fetches);
  if (!err)
    err = kedge_metrics_gauge(m, "kedge_ecs_answer_floor_microseconds",
                              "No identity is answered sooner after its ClientHello (issue 12)",
                              NULL, &ecs->m_answer_floor);
  if (!err) {
    atomic_store(&ecs->answer_floor_us, ecs_answer_floor_ms(ecs) * 1000);
    kedge_gauge_add(ecs->m_answer_floor, atomic_load(&ecs->answer_floor_us));
  }
  return err;
}

const char *ecs_source_name(const ecs_t *ecs)
{
  return ecs->source == ECS_SOURCE_AUSF ? "AUSF" : ecs->source == ECS_SOURCE_AANF ? "AAnF" : "NEF";
}

const char *ecs_profile_name(ecs_profile_t profile)
{
  return profile == ECS_PROFILE_BOUND ? "bound" : profile == ECS_PROFILE_AKMA ? "akma" : "kedge";
}

/* SPEC.md 6: the ECS ID is one of the SAN DNS names of the certificate the ECS shows the
 * AUSF or the NEF; the AUSF refuses other ECS IDs from it (403), so say so at start. */
static void check_ecs_id_in_cert(const ecs_t *ecs)
{
  if (!ecs->ecs_id || ecs->profile == ECS_PROFILE_KEDGE || !ecs->client.cert_file)
    return;
  FILE *f = fopen(ecs->client.cert_file, "r");
  X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
  if (f)
    fclose(f);
  if (!cert)
    return; /* the SBI client reports an unreadable certificate */
  bool found = X509_check_host(cert, ecs->ecs_id, 0, X509_CHECK_FLAG_NO_WILDCARDS, NULL) == 1;
  X509_free(cert);
  if (!found)
    kedge_log_warn("ecs.ecs_id %s is not a SAN DNS name of %s: the %s will refuse to derive "
                   "%s for it (SPEC.md 3, 6, 9)",
                   ecs->ecs_id, ecs->client.cert_file, ecs_source_name(ecs),
                   ecs->profile == ECS_PROFILE_AKMA ? "K_AF" : "K_ECS");
}

/* The SBI client checks its files (key_source.tls: CA, certificate, key) at creation: a probe
 * on a loop of its own, so --check-config, start-up and a reload refuse the same files. */
kedge_err_t ecs_check(void *state, char *why, size_t why_size)
{
  ecs_t *ecs = state;
  struct event_base *base = event_base_new();
  kedge_sbi_client_t *probe = NULL;
  kedge_err_t err = base ? kedge_sbi_client_new(base, &ecs->client, &probe) : KEDGE_ERR_NOMEM;
  if (err)
    snprintf(why, why_size, "key_source.tls (ca %s): %s (see the log line above)",
             ecs->client.ca_file ? ecs->client.ca_file : "none", kedge_strerror(err));
  kedge_sbi_client_free(probe);
  if (base)
    event_base_free(base);
  return err;
}

kedge_err_t ecs_setup(ecs_t *ecs, kedge_sbi_server_t *srv, char *why, size_t why_size)
{
  ecs->srv = srv;
  kedge_err_t err = metrics_setup(ecs, kedge_sbi_server_metrics(srv));
  if (err) {
    snprintf(why, why_size, "metrics: %s", kedge_strerror(err));
    return err;
  }
  if ((err = ecs_key_cache_new(ecs->key_cache_size, &ecs->keys)) ||
      (err = ecs_key_cache_new(ecs->negative_cache_size, &ecs->negative)) ||
      (err = ecs_rate_limit_new(&ecs->rate, &ecs->rate_limit))) {
    snprintf(why, why_size, "key cache or rate limit: %s", kedge_strerror(err));
    return err;
  }
  if ((err = ecs_check(ecs, why, why_size)))
    return err;
  check_ecs_id_in_cert(ecs);
  ecs->ssl_ctx = ecs_tls_ctx_new(ecs);
  if (!ecs->ssl_ctx) {
    snprintf(why, why_size, "cannot create the TLS 1.3 PSK context");
    return KEDGE_ERR_CRYPTO;
  }
  if ((err = ecs_revocation_setup(ecs, srv, why, why_size)))
    return err;
  if ((err = ecs_workers_setup(ecs, srv)) ||
      (err = kedge_sbi_server_set_accept_hook(srv, ecs_accept, ecs)) ||
      /* the answer floor in microseconds, not libevent's 4 ms clock ticks (issue 17) */
      (err = kedge_sbi_server_set_precise_timers(srv, true)) ||
      (err = ecs_service_provisioning_setup(ecs, srv))) {
    snprintf(why, why_size, "routes: %s", kedge_strerror(err));
    return err;
  }
  return KEDGE_OK;
}

/* Runs before the SBI server is freed; each worker's own state goes later, in its fini hook
 * (handshakes hold their own SSL_CTX reference). */
void ecs_teardown(ecs_t *ecs)
{
  ecs_revocation_teardown(ecs);
  SSL_CTX_free(ecs->ssl_ctx);
  ecs->ssl_ctx = NULL;
  ecs_key_cache_free(ecs->keys);
  ecs_key_cache_free(ecs->negative);
  ecs_rate_limit_free(ecs->rate_limit);
  kedge_nrf_disc_free(ecs->disc);
  ecs->disc = NULL;
  ecs->keys = ecs->negative = NULL;
  ecs->rate_limit = NULL;
  ecs_config_free(ecs);
}
