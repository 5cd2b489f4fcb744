/* KedgeRevocationNotification at the ECS (key_revocation.h): the listener, the handler, and
 * the revocation: key cache, then the connections authenticated with the key. */
#include <stdio.h>
#include <string.h>

#include "ecs.h"
#include "kedge/json_check.h"
#include "kedge/log.h"
#include "kedge/problem.h"
#include "kedge/revocation.h"
#include "kedge/sbi_notify.h"
#include "kedge/time.h"

#define NOTIFY_PATH "/kedge-revocation/v1/notify"

kedge_err_t ecs_revocation_read_config(ecs_t *ecs, kedge_config_node_t *root)
{
  ecs_revocation_t *r = &ecs->revocation;
  kedge_config_node_t *sec = NULL;
  const char *conns = NULL;
  int64_t port = 0;
  kedge_err_t err = KEDGE_OK;
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "revocation", &sec));
  KEDGE_CONFIG_KEEP(err, kedge_config_bool(sec, "enabled", false, &r->enabled));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "address", "127.0.0.1", &r->address));
  KEDGE_CONFIG_KEEP(err, kedge_config_int(sec, "port", 0, 0, 65535, &port));
  r->port = (uint16_t)port;
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "callback_uri", NULL, &r->callback_uri));
  if (r->callback_uri && !kedge_sbi_callback_uri_ok(r->callback_uri))
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(sec, "callback_uri", "must be an https URI without user info"));
  KEDGE_CONFIG_KEEP(err, kedge_config_strings(sec, "notifiers", &r->notifiers, &r->n_notifiers));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "connections", "close", &conns));
  if (conns && !strcmp(conns, "close"))
    r->connections = ECS_REVOKED_CLOSE;
  else if (conns && !strcmp(conns, "drain"))
    r->connections = ECS_REVOKED_DRAIN;
  else if (conns && !strcmp(conns, "keep"))
    r->connections = ECS_REVOKED_KEEP;
  else
    KEDGE_CONFIG_KEEP(err,
                      kedge_config_invalid(sec, "connections", "must be close, drain or keep"));
  if (!err && r->enabled && r->n_notifiers == 0)
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(sec, "notifiers",
                                  "list the certificate names of the AUSF or NEF that may notify"));
  return err;
}

const char *ecs_revocation_callback_uri(const ecs_t *ecs)
{
  return ecs->revocation.listener ? ecs->revocation.uri_buf : NULL;
}

uint16_t ecs_revocation_port(void *state)
{
  ecs_t *ecs = state;
  return ecs->revocation.listener ? kedge_sbi_server_port(ecs->revocation.listener) : 0;
}

/* One Kedge ID: out of the cache (a tombstone for key_cache_ttl keeps a late fetch answer
 * out), and its connections ended as configured. */
static void revoke(ecs_t *ecs, const char *id, size_t len, const char *cause)
{
  ecs_revocation_t *r = &ecs->revocation;
  int64_t now = kedge_now_ms();
  bool had_key = false;
  ecs_key_cache_revoke(ecs->keys, id, len, now + ecs->key_cache_ttl_ms, now, &had_key);
  kedge_counter_add(r->m_keys, 1);
  if (r->connections != ECS_REVOKED_KEEP)
    kedge_sbi_server_close_peer(ecs->srv, id,
                                r->connections == ECS_REVOKED_CLOSE ? KEDGE_SBI_CLOSE_NOW
                                                                    : KEDGE_SBI_CLOSE_DRAIN,
                                r->m_conns);
  kedge_log_info("revocation: Kedge ID %s (%s): %s; connections: %s", id, cause,
                 had_key ? "dropped from the key cache" : "was not cached",
                 r->connections == ECS_REVOKED_CLOSE   ? "closed"
                 : r->connections == ECS_REVOKED_DRAIN ? "draining"
                                                       : "kept");
}

static void notified(kedge_sbi_request_t *req, void *arg)
{
  ecs_t *ecs = arg;
  ecs_revocation_t *r = &ecs->revocation;
  json_t *items = kedge_revocation_receive(req, r->notifiers, r->n_notifiers, r->m_refused);
  if (!items)
    return;
  size_t n = json_array_size(items);
  for (size_t i = 0; i < n; i++) {
    json_t *item = json_array_get(items, i);
    const char *id = json_string_value(json_object_get(item, "kedgeId"));
    revoke(ecs, id, strlen(id), json_string_value(json_object_get(item, "cause")));
  }
  kedge_sbi_respond(req, 204, NULL, NULL, 0);
}

kedge_err_t ecs_revocation_setup(ecs_t *ecs, kedge_sbi_server_t *srv, char *why, size_t why_size)
{
  ecs_revocation_t *r = &ecs->revocation;
  kedge_metrics_t *m = kedge_sbi_server_metrics(srv);
  kedge_err_t err = kedge_metrics_counter(
      m, "kedge_ecs_revoked_keys_total",
      "Kedge IDs revoked by a notification from the AUSF or the NEF", NULL, &r->m_keys);
  if (!err)
    err =
        kedge_metrics_counter(m, "kedge_ecs_revoked_connections_total",
                              "Connections ended because their key was revoked", NULL, &r->m_conns);
  if (!err)
    err = kedge_metrics_counter(m, "kedge_ecs_revocation_refused_total",
                                "Notifications from a certificate not in revocation.notifiers",
                                NULL, &r->m_refused);
  if (err || !r->enabled) {
    if (err)
      snprintf(why, why_size, "metrics: %s", kedge_strerror(err));
    return err;
  }
  /* A second SBI server: mutual TLS with the certificate the ECS shows its key source. */
  kedge_sbi_server_config_t cfg;
  kedge_sbi_server_config_defaults(&cfg);
  cfg.name = "ecs-revocation";
  cfg.address = r->address;
  cfg.port = r->port;
  cfg.cert_file = ecs->client.cert_file;
  cfg.key_file = ecs->client.key_file;
  cfg.ca_file = ecs->client.ca_file;
  cfg.verify = KEDGE_SBI_VERIFY_REQUIRED;
  cfg.workers = 1;
  cfg.metrics_enabled = false;
  cfg.handle_signals = false; /* the PSK listener's loop takes SIGTERM */
  cfg.limits.max_body = 256 * 1024;
  if ((err = kedge_sbi_server_new(&cfg, &r->listener)) ||
      (err = kedge_sbi_server_route(r->listener, "POST", NOTIFY_PATH, NULL, notified, ecs)) ||
      (err = kedge_sbi_server_start(r->listener))) {
    snprintf(why, why_size, "revocation listener on %s port %u (key_source.tls): %s", r->address,
             r->port, kedge_strerror(err));
    return err;
  }
  if (r->callback_uri)
    snprintf(r->uri_buf, sizeof(r->uri_buf), "%s", r->callback_uri);
  else
    snprintf(r->uri_buf, sizeof(r->uri_buf),
             strchr(r->address, ':') ? "https://[%s]:%u%s" : "https://%s:%u%s", r->address,
             kedge_sbi_server_port(r->listener), NOTIFY_PATH);
  kedge_log_info("revocation notices from %s%s at %s; revoked connections: %s", r->notifiers[0],
                 r->n_notifiers > 1 ? " and others" : "", r->uri_buf,
                 r->connections == ECS_REVOKED_CLOSE   ? "closed at once"
                 : r->connections == ECS_REVOKED_DRAIN ? "drained (GOAWAY)"
                                                       : "kept");
  return KEDGE_OK;
}

void ecs_revocation_teardown(ecs_t *ecs)
{
  kedge_sbi_server_free(ecs->revocation.listener); /* stops its worker */
  ecs->revocation.listener = NULL;
}
