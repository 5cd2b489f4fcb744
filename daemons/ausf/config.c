/* kedge-ausfd's own configuration sections (conf/ausf.yaml documents every key). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ausf.h"

static kedge_err_t read_seafs(ausf_t *ausf, kedge_config_node_t *sec)
{
  kedge_config_node_t *const *items = NULL;
  size_t n = 0;
  kedge_err_t err = KEDGE_OK;
  KEDGE_CONFIG_KEEP(err, kedge_config_maps(sec, "allowed_consumers", &items, &n));
  if (!err && n == 0)
    return kedge_config_invalid(sec, "allowed_consumers",
                                "list the SEAF/AMF certificate names allowed to authenticate UEs");
  ausf->seafs = calloc(n ? n : 1, sizeof(*ausf->seafs));
  if (!ausf->seafs)
    return KEDGE_ERR_NOMEM;
  ausf->n_seafs = n;
  for (size_t i = 0; i < n; i++) {
    ausf_seaf_t *s = &ausf->seafs[i];
    KEDGE_CONFIG_KEEP(err, kedge_config_string(items[i], "name", NULL, &s->name));
    if (!s->name)
      KEDGE_CONFIG_KEEP(err, kedge_config_require(items[i], "name"));
    KEDGE_CONFIG_KEEP(err, kedge_config_strings(items[i], "serving_networks", &s->serving_networks,
                                                &s->n_serving_networks));
    if (!err && s->n_serving_networks == 0)
      KEDGE_CONFIG_KEEP(
          err,
          kedge_config_invalid(items[i], "serving_networks",
                               "list serving network names (5G:mnc<MNC>.mcc<MCC>.3gppnetwork.org) "
                               "or \"*\""));
  }
  return err;
}

/* keyrequest: allowed_consumers [{name, profiles: [kedge, bound]}], relays [names] */
static kedge_err_t read_key_consumers(ausf_t *ausf, kedge_config_node_t *sec)
{
  kedge_config_node_t *const *items = NULL;
  const char *const *relays = NULL;
  size_t n = 0, n_relays = 0;
  kedge_err_t err = KEDGE_OK;
  KEDGE_CONFIG_KEEP(err, kedge_config_maps(sec, "allowed_consumers", &items, &n));
  KEDGE_CONFIG_KEEP(err, kedge_config_strings(sec, "relays", &relays, &n_relays));
  ausf->key_consumers = calloc(n ? n : 1, sizeof(*ausf->key_consumers));
  if (!ausf->key_consumers)
    return KEDGE_ERR_NOMEM;
  ausf->n_key_consumers = n;
  for (size_t i = 0; i < n; i++) {
    ausf_key_consumer_t *c = &ausf->key_consumers[i];
    const char *const *profiles = NULL;
    size_t n_profiles = 0;
    KEDGE_CONFIG_KEEP(err, kedge_config_string(items[i], "name", NULL, &c->name));
    if (!c->name)
      KEDGE_CONFIG_KEEP(err, kedge_config_require(items[i], "name"));
    KEDGE_CONFIG_KEEP(err, kedge_config_strings(items[i], "profiles", &profiles, &n_profiles));
    if (!err && n_profiles == 0)
      /* SPEC.md 6: profile kedge is the default, as the solution is written */
      c->profile_kedge = true;
    for (size_t p = 0; p < n_profiles; p++) {
      if (!strcmp(profiles[p], "kedge"))
        c->profile_kedge = true;
      else if (!strcmp(profiles[p], "bound"))
        c->profile_bound = true;
      else
        KEDGE_CONFIG_KEEP(
            err, kedge_config_invalid(items[i], "profiles", "must list kedge and/or bound"));
    }
  }
  for (size_t r = 0; r < n_relays; r++) {
    bool found = false;
    for (size_t i = 0; i < n; i++)
      if (ausf->key_consumers[i].name && !strcmp(ausf->key_consumers[i].name, relays[r])) {
        ausf->key_consumers[i].relay = true;
        found = true;
      }
    if (!found)
      KEDGE_CONFIG_KEEP(
          err,
          kedge_config_invalid(sec, "relays",
                               "'%.64s' is not in keyrequest.allowed_consumers (list its profiles "
                               "there)",
                               relays[r]));
  }
  /* Issue 12: one consumer (a flooded ECS) cannot take the key service from the others */
  int64_t v = 0;
  KEDGE_CONFIG_KEEP(err, kedge_config_int(sec, "per_consumer_rate", 1000, 0, 10000000, &v));
  ausf->keyrequest_rate = (double)v;
  KEDGE_CONFIG_KEEP(
      err, kedge_config_int(sec, "per_consumer_burst", v > 0 ? 2 * v : 1, 1, 100000000, &v));
  ausf->keyrequest_burst = (double)v;
  return err;
}

/* revocation: (issue 13) notices to the consumers that gave revocCallbackUri. The notifier
 * authenticates with the AUSF's SBI certificate. */
static kedge_err_t read_revocation(ausf_t *ausf, kedge_config_node_t *root)
{
  kedge_config_node_t *sec = NULL;
  int64_t n = 0;
  kedge_err_t err = KEDGE_OK;
  kedge_sbi_client_options_init(&ausf->revocation_client);
  KEDGE_CONFIG_KEEP(
      err, kedge_config_string(root, "sbi.tls.ca", NULL, &ausf->revocation_client.ca_file));
  KEDGE_CONFIG_KEEP(
      err, kedge_config_string(root, "sbi.tls.cert", NULL, &ausf->revocation_client.cert_file));
  KEDGE_CONFIG_KEEP(
      err, kedge_config_string(root, "sbi.tls.key", NULL, &ausf->revocation_client.key_file));
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "revocation", &sec));
  KEDGE_CONFIG_KEEP(err, kedge_config_bool(sec, "enabled", true, &ausf->revocation_enabled));
  KEDGE_CONFIG_KEEP(err, kedge_config_int(sec, "max_subscriptions", 100000, 1, 10000000, &n));
  ausf->revocation_max_subscriptions = (size_t)n;
  KEDGE_CONFIG_KEEP(
      err, kedge_sbi_notifier_config_read(sec, &ausf->revocation_notify, &ausf->revocation_client));
  if (!err && ausf->revocation_enabled && ausf->edge_enabled && !ausf->revocation_client.ca_file)
    KEDGE_CONFIG_KEEP(err, kedge_config_require(root, "sbi.tls.ca"));
  return err;
}

/* akma: enabled, aanf [{routing_indicators, uri}], ca, cert, key, timeout (SPEC.md 9) */
static kedge_err_t read_akma(ausf_t *ausf, kedge_config_node_t *root, const char *sbi_ca,
                             const char *sbi_cert, const char *sbi_key)
{
  kedge_config_node_t *sec = NULL, *const *items = NULL;
  size_t n = 0;
  int64_t ms = 0;
  kedge_err_t err = KEDGE_OK;
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "akma", &sec));
  KEDGE_CONFIG_KEEP(err, kedge_config_bool(sec, "enabled", false, &ausf->akma_enabled));
  KEDGE_CONFIG_KEEP(err, kedge_config_maps(sec, "aanf", &items, &n));
  kedge_sbi_client_options_init(&ausf->aanf_client);
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "ca", sbi_ca, &ausf->aanf_client.ca_file));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "cert", sbi_cert, &ausf->aanf_client.cert_file));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "key", sbi_key, &ausf->aanf_client.key_file));
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(sec, "timeout", 2000, 10, 60000, &ms));
  ausf->aanf_client.timeout_ms = (uint32_t)ms;
  ausf->aanf_routes = calloc(n ? n : 1, sizeof(*ausf->aanf_routes));
  if (!ausf->aanf_routes)
    return KEDGE_ERR_NOMEM;
  ausf->n_aanf_routes = n;
  for (size_t i = 0; i < n; i++) {
    ausf_aanf_route_t *r = &ausf->aanf_routes[i];
    KEDGE_CONFIG_KEEP(err,
                      kedge_config_strings(items[i], "routing_indicators", &r->rids, &r->n_rids));
    if (!err && r->n_rids == 0)
      KEDGE_CONFIG_KEEP(err,
                        kedge_config_invalid(items[i], "routing_indicators",
                                             "list routing indicators (1 to 4 digits) or \"*\""));
    for (size_t j = 0; j < r->n_rids; j++)
      if (strcmp(r->rids[j], "*") && kedge_rid_check(r->rids[j]))
        KEDGE_CONFIG_KEEP(err, kedge_config_invalid(items[i], "routing_indicators",
                                                    "'%.16s' is not 1 to 4 decimal digits or \"*\"",
                                                    r->rids[j]));
    KEDGE_CONFIG_KEEP(err, kedge_config_string(items[i], "uri", NULL, &r->uri));
    const char *nrf_uri = NULL;
    KEDGE_CONFIG_KEEP(err, kedge_config_string(root, "nrf.uri", NULL, &nrf_uri));
    if (!r->uri)
      KEDGE_CONFIG_KEEP(err, kedge_config_require(items[i], "uri"));
    else if (!strcmp(r->uri, AUSF_AANF_DISCOVER) && !nrf_uri) /* SPEC.md 7 */
      KEDGE_CONFIG_KEEP(err, kedge_config_invalid(items[i], "uri", "discover needs nrf.uri"));
    else if (strcmp(r->uri, AUSF_AANF_DISCOVER) && strncmp(r->uri, "https://", 8) != 0)
      KEDGE_CONFIG_KEEP(err, kedge_config_invalid(items[i], "uri",
                                                  "must start with https:// (the SBI is always "
                                                  "TLS), or be discover"));
  }
  if (ausf->akma_enabled && n == 0)
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(sec, "aanf", "list the AAnF (uri) for the routing indicators"));
  if (ausf->akma_enabled && !ausf->aanf_client.ca_file)
    KEDGE_CONFIG_KEEP(err, kedge_config_require(sec, "ca"));
  return err;
}

/* edge:, keystore and keyrequest: (SPEC.md 2 and 3) */
static kedge_err_t read_edge(ausf_t *ausf, kedge_config_node_t *root)
{
  kedge_config_node_t *edge = NULL, *keyreq = NULL, *testing = NULL;
  const char *mcc = NULL, *mnc = NULL;
  kedge_err_t err = KEDGE_OK;
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "edge", &edge));
  KEDGE_CONFIG_KEEP(err, kedge_config_bool(edge, "enabled", false, &ausf->edge_enabled));
  const char *derive = NULL;
  KEDGE_CONFIG_KEEP(err, kedge_config_string(edge, "derive", "udm-flag", &derive));
  if (derive && !strcmp(derive, "udm-flag"))
    ausf->edge_derive = AUSF_DERIVE_UDM_FLAG;
  else if (derive && !strcmp(derive, "always"))
    ausf->edge_derive = AUSF_DERIVE_ALWAYS;
  else if (derive && !strcmp(derive, "never"))
    ausf->edge_derive = AUSF_DERIVE_NEVER;
  else if (derive)
    KEDGE_CONFIG_KEEP(err,
                      kedge_config_invalid(edge, "derive", "must be udm-flag, always or never"));
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(edge, "key_lifetime", 24 * 3600 * 1000LL, 1000,
                                               366LL * 24 * 3600 * 1000, &ausf->key_lifetime_ms));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(edge, "home_network.mcc", NULL, &mcc));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(edge, "home_network.mnc", NULL, &mnc));
  KEDGE_CONFIG_KEEP(err,
                    kedge_config_string(edge, "master_key", NULL, &ausf->keystore.master_key_file));
  KEDGE_CONFIG_KEEP(err, kedge_keystore_config_read(root, &ausf->keystore));
  ausf->keystore.opts.key_lifetime_ms = ausf->key_lifetime_ms; /* Redis tombstones */
  if (ausf->edge_enabled || ausf->akma_enabled) { /* the realm of Kedge IDs and A-KIDs */
    if (!mcc || !mnc)
      KEDGE_CONFIG_KEEP(err,
                        kedge_config_require(edge, mcc ? "home_network.mnc" : "home_network.mcc"));
    else if (kedge_plmn_parse(mcc, mnc, &ausf->home_network))
      KEDGE_CONFIG_KEEP(
          err, kedge_config_invalid(edge, "home_network", "MCC must be 3 digits, MNC 2 or 3"));
  }
  if (ausf->edge_enabled)
    KEDGE_CONFIG_KEEP(err,
                      kedge_keystore_config_check_master_key(&ausf->keystore, edge, "master_key"));
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "keyrequest", &keyreq));
  KEDGE_CONFIG_KEEP(err, read_key_consumers(ausf, keyreq));
  KEDGE_CONFIG_KEEP(err, read_revocation(ausf, root));
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "testing", &testing));
  KEDGE_CONFIG_KEEP(err, kedge_config_bool(testing, "enabled", false, &ausf->testing));
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(testing, "keyrequest_delay", 0, 0, 60000,
                                               &ausf->keyrequest_delay_ms));
  if (ausf->keyrequest_delay_ms && !ausf->testing)
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(testing, "keyrequest_delay",
                                  "a testing knob: refused unless testing.enabled is true"));
  return err;
}

kedge_err_t ausf_read_config(kedge_config_node_t *root, void *state)
{
  ausf_t *ausf = state;
  kedge_config_node_t *sec = NULL, *udm = NULL, *ueau = NULL;
  kedge_err_t err = KEDGE_OK;
  int64_t ms = 0, n = 0;
  const char *sbi_ca, *sbi_cert, *sbi_key;

  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "ausf", &sec));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "api_root", NULL, &ausf->api_root));
  if (ausf->api_root && strncmp(ausf->api_root, "https://", 8) != 0)
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(sec, "api_root", "must start with https://"));
  else if (ausf->api_root && strlen(ausf->api_root) > KEDGE_SBI_API_ROOT_MAX)
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(sec, "api_root", "must be at most %d octets",
                                                KEDGE_SBI_API_ROOT_MAX));

  /* The UDM client authenticates with the AUSF's own SBI certificate unless told otherwise. */
  KEDGE_CONFIG_KEEP(err, kedge_config_string(root, "sbi.tls.ca", NULL, &sbi_ca));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(root, "sbi.tls.cert", NULL, &sbi_cert));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(root, "sbi.tls.key", NULL, &sbi_key));
  kedge_sbi_client_options_init(&ausf->udm_client);
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "udm", &udm));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(udm, "uri", NULL, &ausf->udm_uri));
  /* SPEC.md 7: a static URI wins; without one the UDM is discovered at nrf.uri */
  const char *nrf_uri = NULL;
  KEDGE_CONFIG_KEEP(err, kedge_config_string(root, "nrf.uri", NULL, &nrf_uri));
  if (!ausf->udm_uri && !nrf_uri)
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(udm, "uri",
                                                "missing: give the UDM's apiRoot, or nrf.uri to "
                                                "discover it"));

  /* SPEC.md 7: udm.transport h2c (HTTP/2 without TLS) for the AKA service in a lab; it carries
   * KAUSF in clear, so never together with edge keys or AKMA (their root is KAUSF) */
  const char *transport = NULL;
  KEDGE_CONFIG_KEEP(err, kedge_config_string(udm, "transport", "tls-mutual", &transport));
  bool h2c = transport && strcmp(transport, "h2c") == 0;
  if (transport && !h2c && strcmp(transport, "tls-mutual") != 0 &&
      strcmp(transport, "tls-server") != 0)
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(udm, "transport", "must be tls-mutual, tls-server or h2c"));
  ausf->udm_client.h2c = h2c;
  if (!ausf->udm_uri)
    ;
  else if (h2c && strncmp(ausf->udm_uri, "http://", 7) != 0)
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(udm, "uri", "must start with http:// with transport h2c"));
  else if (!h2c && strncmp(ausf->udm_uri, "https://", 8) != 0)
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(udm, "uri", "must start with https:// (or transport: h2c)"));
  KEDGE_CONFIG_KEEP(err,
                    kedge_config_string(udm, "ca", h2c ? NULL : sbi_ca, &ausf->udm_client.ca_file));
  /* tls-server: no client certificate (the AUSF is known by its OAuth2 token) */
  bool cert = transport && strcmp(transport, "tls-mutual") == 0;
  KEDGE_CONFIG_KEEP(
      err, kedge_config_string(udm, "cert", cert ? sbi_cert : NULL, &ausf->udm_client.cert_file));
  KEDGE_CONFIG_KEEP(
      err, kedge_config_string(udm, "key", cert ? sbi_key : NULL, &ausf->udm_client.key_file));
  if (!ausf->udm_client.ca_file && !h2c)
    KEDGE_CONFIG_KEEP(err, kedge_config_require(udm, "ca"));
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(udm, "timeout", 2000, 10, 60000, &ms));
  ausf->udm_client.timeout_ms = (uint32_t)ms;
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(udm, "auth_event_timeout", 1000, 10, 60000,
                                               &ausf->auth_event_timeout_ms));

  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "ue_authentication", &ueau));
  KEDGE_CONFIG_KEEP(err, read_seafs(ausf, ueau));
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(ueau, "context_expiry", 30000, 100, 600000,
                                               &ausf->context_expiry_ms));
  KEDGE_CONFIG_KEEP(err, kedge_config_int(ueau, "max_contexts", 100000, 1, 10000000, &n));
  ausf->max_contexts = (size_t)n;
  /* confirmed authentications kept for DELETE .../5g-aka-confirmation (context.c: ~300 octets
   * each; issue 17: the bound that decides the AUSF's memory under load) */
  KEDGE_CONFIG_KEEP(err, kedge_config_int(ueau, "max_confirmed", 100000, 1, 10000000, &n));
  ausf->max_confirmed = (size_t)n;
  KEDGE_CONFIG_KEEP(err, read_akma(ausf, root, sbi_ca, sbi_cert, sbi_key));
  KEDGE_CONFIG_KEEP(err, read_edge(ausf, root));
  if (h2c && (ausf->edge_enabled || ausf->akma_enabled))
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(udm, "transport",
                                  "h2c refused: KAUSF, the root of %s, would "
                                  "cross the link in clear (SPEC.md 7)",
                                  ausf->edge_enabled ? "Kedge (edge.enabled)" : "K_AKMA (akma)"));

  return err;
}
