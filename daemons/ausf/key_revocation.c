/* Edge key revocation toward the consumers (SPEC.md 7 "a delete is a key revocation"; issue
 * 13; api/TS29509_Nausf_UEAuthentication_keyrequest.yaml, callback KedgeRevocation). A
 * consumer that sends `revocCallbackUri` with a key request is remembered with the Kedge ID
 * it got; when that key is replaced by a new primary authentication, deleted, or ended early,
 * the AUSF POSTs KedgeRevocationNotification{revokedKeys: [{kedgeId, cause}]} to the URI
 * (kedge/sbi_notify.h: batched, retried with back-off, bounded, counted). Without a
 * subscription nothing changes: the ECS's key_cache_ttl still bounds how long a revoked key
 * stays usable there (SPEC.md 4).
 *
 * The subscriptions live in this process, shared by the workers (kedge/sbi_subscriptions.h),
 * by SUPI: the revocation points (edge.c) know the SUPI, not always the old Kedge ID. At most
 * max_subscriptions are kept; a subscription past its key's expiry is purged (an expired key
 * needs no notice: the ECS never caches past `expiry`). */
#include <stdlib.h>

#include <event2/event.h>

#include "ausf.h"
#include "kedge/log.h"
#include "kedge/sbi_subscriptions.h"
#include "kedge/time.h"

#define PURGE_INTERVAL_MS 60000

struct ausf_revocation {
  kedge_sbi_subs_t *subs;
  kedge_sbi_notifier_t *notifier;
  struct event *purge;
  kedge_gauge_t *m_subs;
  kedge_counter_t *m_added, *m_full, *m_revoked[AUSF_REVOKE__COUNT];
};

static const char *const cause_names[AUSF_REVOKE__COUNT] = {
    [AUSF_REVOKE_REPLACED] = "REPLACED",
    [AUSF_REVOKE_DELETED] = "DELETED",
    [AUSF_REVOKE_EXPIRED] = "EXPIRED",
};

const char *ausf_revoke_cause_name(ausf_revoke_cause_t cause)
{
  return cause < AUSF_REVOKE__COUNT ? cause_names[cause] : "DELETED";
}

static void purge_cb(evutil_socket_t fd, short what, void *arg)
{
  ausf_revocation_t *r = arg;
  kedge_gauge_add(r->m_subs, -(int64_t)kedge_sbi_subs_purge(r->subs, kedge_wall_ms()));
}

kedge_err_t ausf_revocation_setup(ausf_t *ausf, kedge_sbi_server_t *srv)
{
  if (!ausf->revocation_enabled)
    return KEDGE_OK;
  ausf_revocation_t *r = calloc(1, sizeof(*r));
  if (!r)
    return KEDGE_ERR_NOMEM;
  ausf->revocation = r;
  kedge_err_t err = kedge_sbi_subs_new(ausf->revocation_max_subscriptions, &r->subs);
  if (err)
    return err;
  kedge_metrics_t *m = kedge_sbi_server_metrics(srv);
  struct event_base *base = kedge_sbi_server_base(srv);
  /* The notifications leave from the main loop: the workers only queue them. */
  ausf->revocation_notify.callback_type = KEDGE_REVOCATION_CALLBACK;
  ausf->revocation_notify.member = KEDGE_REVOCATION_MEMBER;
  ausf->revocation_notify.metric_prefix = "kedge_ausf_revocation";
  err = kedge_sbi_notifier_new(base, &ausf->revocation_client, &ausf->revocation_notify, m,
                               &r->notifier);
  const char *sname = "kedge_ausf_revocation_subscriptions_total",
             *shelp = "Revocation subscriptions (revocCallbackUri in a key request) by result";
  if (!err)
    err = kedge_metrics_counter(m, sname, shelp, "result=\"added\"", &r->m_added);
  if (!err)
    err = kedge_metrics_counter(m, sname, shelp, "result=\"full\"", &r->m_full);
  if (!err)
    err = kedge_metrics_gauge(m, "kedge_ausf_revocation_subscriptions",
                              "Revocation subscriptions kept", NULL, &r->m_subs);
  for (int c = 0; !err && c < AUSF_REVOKE__COUNT; c++) {
    char labels[48] = "";
    err = kedge_metrics_label(labels, sizeof(labels), "cause", cause_names[c]);
    if (!err)
      err = kedge_metrics_counter(m, "kedge_ausf_revocation_notices_total",
                                  "Subscribed keys ended before their expiry, by cause", labels,
                                  &r->m_revoked[c]);
  }
  if (!err) {
    r->purge = event_new(base, -1, EV_PERSIST, purge_cb, r);
    struct timeval tv = {PURGE_INTERVAL_MS / 1000, 0};
    if (!r->purge || event_add(r->purge, &tv) != 0)
      err = KEDGE_ERR_NOMEM;
  }
  return err;
}

void ausf_revocation_teardown(ausf_t *ausf)
{
  ausf_revocation_t *r = ausf->revocation;
  if (!r)
    return;
  if (r->purge)
    event_free(r->purge);
  kedge_sbi_notifier_free(r->notifier);
  kedge_sbi_subs_free(r->subs);
  free(r);
  ausf->revocation = NULL;
}

kedge_err_t ausf_revocation_subscribe(ausf_t *ausf, const char *supi, const char *kedge_id,
                                      int64_t expiry_ms, const char *uri)
{
  ausf_revocation_t *r = ausf->revocation;
  if (!r)
    return KEDGE_ERR_UNSUPPORTED;
  bool added = false;
  kedge_err_t err = kedge_sbi_subs_add(r->subs, supi, kedge_id, uri, expiry_ms, &added);
  if (err == KEDGE_ERR_BUSY)
    kedge_counter_add(r->m_full, 1);
  if (added) {
    kedge_counter_add(r->m_added, 1);
    kedge_gauge_add(r->m_subs, 1);
  }
  return err;
}

void ausf_revocation_notify(ausf_t *ausf, const char *supi, const char *keep_kedge_id,
                            const char *only_kedge_id, ausf_revoke_cause_t cause)
{
  ausf_revocation_t *r = ausf->revocation;
  if (!r)
    return;
  size_t n = 0;
  kedge_sbi_sub_t *taken = kedge_sbi_subs_take(r->subs, supi, keep_kedge_id, only_kedge_id, &n);
  kedge_gauge_add(r->m_subs, -(int64_t)n);
  if (cause >= AUSF_REVOKE__COUNT)
    cause = AUSF_REVOKE_DELETED;
  kedge_counter_add(r->m_revoked[cause], n);
  for (kedge_sbi_sub_t *s = taken; s; s = s->next) {
    /* KedgeRevokedKey (api/TS29509_Nausf_UEAuthentication_keyrequest.yaml) */
    json_t *item =
        json_pack("{s:s, s:s}", "kedgeId", s->id, "cause", ausf_revoke_cause_name(cause));
    kedge_err_t err = item ? kedge_sbi_notifier_post(r->notifier, s->uri, item) : KEDGE_ERR_NOMEM;
    if (err)
      kedge_log_warn("revocation of Kedge ID %s: notification to %s not queued: %s", s->id, s->uri,
                     kedge_strerror(err));
    else
      kedge_log_info("revocation of Kedge ID %s (%s): notification to %s queued", s->id,
                     ausf_revoke_cause_name(cause), s->uri);
  }
  kedge_sbi_subs_list_free(taken);
}
