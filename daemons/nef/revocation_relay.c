/* The NEF's revocation relay (nef.h, issue 13; docs/nef.md "Revocation"): the AUSF notifies the
 * NEF (POST /nnef-kedge-revocation/v1/notify, a KedgeRevocationNotification of
 * api/TS29509_Nausf_UEAuthentication_keyrequest.yaml); the NEF passes each revoked Kedge ID on
 * to the AFs (out-of-domain ECSs) that fetched it through the NEF and gave revocCallbackUri,
 * with the same body and 3gpp-Sbi-Callback header (kedge/sbi_notify.h: batched, retried,
 * bounded, counted). The NEF keeps which AF fetched which Kedge ID, never a key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "kedge/log.h"
#include "kedge/revocation.h"
#include "kedge/time.h"
#include "nef.h"

#define NOTIFY_PATH      "/nnef-kedge-revocation/v1/notify"
#define PURGE_INTERVAL_S 60

kedge_err_t nef_revocation_read_config(nef_t *nef, kedge_config_node_t *root)
{
  nef_revocation_t *r = &nef->revocation;
  kedge_config_node_t *sec = NULL;
  int64_t n = 0;
  kedge_err_t err = KEDGE_OK;
  kedge_sbi_client_options_init(&r->client);
  KEDGE_CONFIG_KEEP(err, kedge_config_string(root, "sbi.address", "127.0.0.1", &r->sbi_address));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(root, "sbi.tls.ca", NULL, &r->client.ca_file));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(root, "sbi.tls.cert", NULL, &r->client.cert_file));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(root, "sbi.tls.key", NULL, &r->client.key_file));
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "revocation", &sec));
  KEDGE_CONFIG_KEEP(err, kedge_config_bool(sec, "enabled", false, &r->enabled));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "callback_uri", NULL, &r->callback_uri));
  if (r->callback_uri && !kedge_sbi_callback_uri_ok(r->callback_uri))
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(sec, "callback_uri", "must be an https URI without user info"));
  KEDGE_CONFIG_KEEP(err, kedge_config_strings(sec, "notifiers", &r->notifiers, &r->n_notifiers));
  KEDGE_CONFIG_KEEP(err, kedge_config_int(sec, "max_subscriptions", 100000, 1, 10000000, &n));
  r->max_subscriptions = (size_t)n;
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(sec, "max_age", 24 * 3600 * 1000LL, 1000,
                                               366LL * 24 * 3600 * 1000, &r->max_age_ms));
  KEDGE_CONFIG_KEEP(err, kedge_sbi_notifier_config_read(sec, &r->notify, &r->client));
  if (!err && r->enabled && r->n_notifiers == 0)
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(sec, "notifiers",
                                  "list the certificate names of the AUSFs that may notify"));
  if (!err && r->enabled && !r->client.ca_file)
    KEDGE_CONFIG_KEEP(err, kedge_config_require(root, "sbi.tls.ca"));
  return err;
}

const char *nef_revocation_callback_uri(nef_t *nef)
{
  nef_revocation_t *r = &nef->revocation;
  if (!r->subs)
    return NULL;
  pthread_mutex_lock(&r->uri_lock);
  if (!r->uri_buf[0]) {
    if (r->callback_uri)
      snprintf(r->uri_buf, sizeof(r->uri_buf), "%s", r->callback_uri);
    else
      snprintf(r->uri_buf, sizeof(r->uri_buf),
               strchr(r->sbi_address, ':') ? "https://[%s]:%u%s" : "https://%s:%u%s",
               r->sbi_address, kedge_sbi_server_port(nef->srv), NOTIFY_PATH);
  }
  pthread_mutex_unlock(&r->uri_lock);
  return r->uri_buf;
}

void nef_revocation_subscribe(nef_t *nef, const char *kedge_id, const char *af_id, const char *uri)
{
  nef_revocation_t *r = &nef->revocation;
  if (!r->subs)
    return;
  bool added = false;
  kedge_err_t err =
      kedge_sbi_subs_add(r->subs, kedge_id, af_id, uri, kedge_wall_ms() + r->max_age_ms, &added);
  if (added)
    kedge_gauge_add(r->m_subs, 1);
  if (err == KEDGE_ERR_BUSY) {
    kedge_counter_add(r->m_full, 1);
    kedge_log_warn("revocation: AF %s, Kedge ID %s: not remembered (max_subscriptions); its "
                   "ECS's key_cache_ttl still applies",
                   af_id, kedge_id);
  }
}

static void notified(kedge_sbi_request_t *req, void *arg)
{
  nef_t *nef = arg;
  nef_revocation_t *r = &nef->revocation;
  json_t *items = kedge_revocation_receive(req, r->notifiers, r->n_notifiers, r->m_refused);
  if (!items)
    return;
  for (size_t i = 0; i < json_array_size(items); i++) {
    json_t *item = json_array_get(items, i);
    const char *id = json_string_value(json_object_get(item, "kedgeId"));
    size_t n = 0;
    kedge_sbi_sub_t *taken = kedge_sbi_subs_take(r->subs, id, NULL, NULL, &n);
    kedge_gauge_add(r->m_subs, -(int64_t)n);
    if (!n)
      kedge_counter_add(r->m_unknown, 1);
    for (kedge_sbi_sub_t *s = taken; s; s = s->next) {
      /* KedgeRevokedKey with the members checked above, nothing else the AUSF may have added */
      json_t *copy = json_pack("{s:s, s:s}", "kedgeId", id, "cause",
                               json_string_value(json_object_get(item, "cause")));
      kedge_err_t e = copy ? kedge_sbi_notifier_post(r->notifier, s->uri, copy) : KEDGE_ERR_NOMEM;
      kedge_counter_add(r->m_relayed, e ? 0 : 1);
      kedge_log_info("revocation: Kedge ID %s (%s) relayed to AF %s: %s", id,
                     json_string_value(json_object_get(item, "cause")), s->id,
                     e ? kedge_strerror(e) : "queued");
    }
    kedge_sbi_subs_list_free(taken);
  }
  kedge_sbi_respond(req, 204, NULL, NULL, 0);
}

static void purge_cb(evutil_socket_t fd, short what, void *arg)
{
  nef_revocation_t *r = arg;
  kedge_gauge_add(r->m_subs, -(int64_t)kedge_sbi_subs_purge(r->subs, kedge_wall_ms()));
}

kedge_err_t nef_revocation_setup(nef_t *nef, kedge_sbi_server_t *srv)
{
  nef_revocation_t *r = &nef->revocation;
  if (!r->enabled)
    return KEDGE_OK;
  pthread_mutex_init(&r->uri_lock, NULL);
  kedge_metrics_t *m = kedge_sbi_server_metrics(srv);
  struct event_base *base = kedge_sbi_server_base(srv);
  r->notify.callback_type = KEDGE_REVOCATION_CALLBACK;
  r->notify.member = KEDGE_REVOCATION_MEMBER;
  r->notify.metric_prefix = "kedge_nef_revocation";
  const char *name = "kedge_nef_revocations_total",
             *help = "Revoked Kedge IDs from the AUSF, by what the NEF did with them";
  kedge_err_t err = kedge_sbi_subs_new(r->max_subscriptions, &r->subs);
  if (!err)
    err = kedge_sbi_notifier_new(base, &r->client, &r->notify, m, &r->notifier);
  if (!err)
    err = kedge_metrics_counter(m, name, help, "result=\"relayed\"", &r->m_relayed);
  if (!err)
    err = kedge_metrics_counter(m, name, help, "result=\"no_subscriber\"", &r->m_unknown);
  if (!err)
    err = kedge_metrics_counter(m, "kedge_nef_revocation_refused_total",
                                "Notifications from a certificate not in revocation.notifiers",
                                NULL, &r->m_refused);
  if (!err)
    err = kedge_metrics_counter(m, "kedge_nef_revocation_subscriptions_full_total",
                                "AF subscriptions not kept (max_subscriptions)", NULL, &r->m_full);
  if (!err)
    err = kedge_metrics_gauge(m, "kedge_nef_revocation_subscriptions",
                              "AF revocation subscriptions kept", NULL, &r->m_subs);
  if (!err) {
    r->purge = event_new(base, -1, EV_PERSIST, purge_cb, r);
    struct timeval tv = {PURGE_INTERVAL_S, 0};
    if (!r->purge || event_add(r->purge, &tv) != 0)
      err = KEDGE_ERR_NOMEM;
  }
  if (!err)
    err = kedge_sbi_server_route(srv, "POST", NOTIFY_PATH, NULL, notified, nef);
  return err;
}

void nef_revocation_teardown(nef_t *nef)
{
  nef_revocation_t *r = &nef->revocation;
  if (!r->enabled)
    return;
  if (r->purge)
    event_free(r->purge);
  kedge_sbi_notifier_free(r->notifier);
  kedge_sbi_subs_free(r->subs);
  r->purge = NULL;
  r->notifier = NULL;
  r->subs = NULL;
  pthread_mutex_destroy(&r->uri_lock);
}
