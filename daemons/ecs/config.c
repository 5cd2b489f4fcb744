/* kedge-ecsd's own configuration sections (conf/ecs.yaml documents every key). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

static const char *const any[] = {"*", NULL};
/* TS 24.558 EesAuthMethod: TLS_WITH_AKMA, "TLS with AKMA authentication" */
static const char *const tls_with_akma[] = {"TLS_WITH_AKMA", NULL};

static kedge_err_t read_key_source(ecs_t *ecs, kedge_config_node_t *root)
{
  kedge_err_t err = KEDGE_OK;
  kedge_config_node_t *sec = NULL, *rl = NULL;
  const char *type = NULL;
  int64_t v = 0;
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "key_source", &sec));
  const bool akma = ecs->profile == ECS_PROFILE_AKMA;
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "type", akma ? "aanf" : "ausf", &type));
  if (type && !strcmp(type, "ausf") && !akma)
    ecs->source = ECS_SOURCE_AUSF;
  else if (type && !strcmp(type, "aanf") && akma)
    ecs->source = ECS_SOURCE_AANF;
  else if (type && !strcmp(type, "nef"))
    ecs->source = ECS_SOURCE_NEF;
  else
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(sec, "type",
                                  akma ? "must be aanf (in the operator's domain) or nef with "
                                         "psk_profile akma (SPEC.md 9)"
                                       : "must be ausf (in the operator's domain) or nef"));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "af_id", ecs->ecs_id, &ecs->af_id));
  if (ecs->source == ECS_SOURCE_NEF && !ecs->af_id)
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(sec, "af_id", "required for type nef (or set ecs.ecs_id)"));
  if (ecs->source != ECS_SOURCE_NEF && kedge_config_has(sec, "af_id"))
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(sec, "af_id", "only for type nef"));
  /* SPEC.md 9: K_AF is bound to the FQDN the EEC names, the ECS ID; the afId the ECS asks
   * with must be that same name */
  if (akma && ecs->af_id && ecs->ecs_id && strcmp(ecs->af_id, ecs->ecs_id) != 0)
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(sec, "af_id",
                                                "must equal ecs.ecs_id with psk_profile akma: K_AF "
                                                "is bound to the ECS's FQDN"));
  /* the routing table: any home network and any RID unless a row says otherwise */
  KEDGE_CONFIG_KEEP(err, kedge_key_routes_read(sec, "routes", "uri", 0, &ecs->routes));
  if (!err)
    KEDGE_CONFIG_KEEP(
        err, kedge_key_routes_check_nrf(root, sec, kedge_config_has(sec, "uri") ? "uri" : "routes",
                                        &ecs->routes));
  ecs->api = ecs->source == ECS_SOURCE_AUSF   ? KEDGE_KEY_API_AUSF_KEDGE
             : ecs->source == ECS_SOURCE_AANF ? KEDGE_KEY_API_AANF_AKMA
             : akma                           ? KEDGE_KEY_API_NEF_AKMA
                                              : KEDGE_KEY_API_NEF_KEDGE;

  /* mutual TLS toward the AUSF or the NEF (TS 33.501 13.1; NOTE 3 of the solution) */
  kedge_sbi_client_options_init(&ecs->client);
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "tls.ca", NULL, &ecs->client.ca_file));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "tls.cert", NULL, &ecs->client.cert_file));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "tls.key", NULL, &ecs->client.key_file));
  if (!ecs->client.ca_file)
    KEDGE_CONFIG_KEEP(err, kedge_config_require(sec, "tls.ca"));
  if (!ecs->client.cert_file)
    KEDGE_CONFIG_KEEP(err, kedge_config_require(sec, "tls.cert"));
  if (!ecs->client.key_file)
    KEDGE_CONFIG_KEEP(err, kedge_config_require(sec, "tls.key"));
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(sec, "timeout", 2000, 10, 60000, &v));
  ecs->client.timeout_ms = (uint32_t)v;
  ecs->client.max_retries = 0; /* POST: the routing table's next URI is the retry */
  KEDGE_CONFIG_KEEP(err, kedge_config_int(sec, "max_connections", 4, 1, 1024, &v));
  ecs->client.max_connections = (uint32_t)v;
  KEDGE_CONFIG_KEEP(err, kedge_config_int(sec, "max_pending", 1024, 1, 1000000, &v));
  ecs->max_pending_fetches = (size_t)v;
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(sec, "max_retry_after", 60000, 0, 3600000,
                                               &ecs->max_retry_after_ms));

  KEDGE_CONFIG_KEEP(err, kedge_config_map(sec, "rate_limit", &rl));
  KEDGE_CONFIG_KEEP(err, kedge_config_int(rl, "global", 500, 0, 10000000, &v));
  ecs->rate.global_rate = (double)v;
  KEDGE_CONFIG_KEEP(err, kedge_config_int(rl, "global_burst", v > 0 ? 2 * v : 1, 1, 100000000, &v));
  ecs->rate.global_burst = (double)v;
  KEDGE_CONFIG_KEEP(err, kedge_config_int(rl, "per_address", 10, 0, 10000000, &v));
  ecs->rate.address_rate = (double)v;
  KEDGE_CONFIG_KEEP(err,
                    kedge_config_int(rl, "per_address_burst", v > 0 ? 2 * v : 1, 1, 100000000, &v));
  ecs->rate.address_burst = (double)v;
  KEDGE_CONFIG_KEEP(err, kedge_config_int(rl, "address_slots", 65536, 1, 1 << 24, &v));
  ecs->rate.address_slots = (size_t)v;
  return err;
}

static kedge_err_t read_ees(kedge_config_node_t *node, ecs_profile_t profile, ecs_ees_t *ees)
{
  kedge_err_t err = KEDGE_OK;
  KEDGE_CONFIG_KEEP(err, kedge_config_string(node, "ees_id", NULL, &ees->ees_id));
  if (!ees->ees_id)
    KEDGE_CONFIG_KEEP(err, kedge_config_require(node, "ees_id"));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(node, "uri", NULL, &ees->uri));
  if (!ees->uri)
    KEDGE_CONFIG_KEEP(err, kedge_config_require(node, "uri"));
  KEDGE_CONFIG_KEEP(err, kedge_config_bool(node, "eec_reg_conf", false, &ees->eec_reg_conf));
  KEDGE_CONFIG_KEEP(err, kedge_config_strings(node, "ees_auth_methods", &ees->auth_methods,
                                              &ees->n_auth_methods));
  /* SPEC.md 9: an ECS of profile akma advertises AKMA for EESs that say nothing else */
  if (!err && profile == ECS_PROFILE_AKMA && !kedge_config_has(node, "ees_auth_methods")) {
    ees->auth_methods = tls_with_akma;
    ees->n_auth_methods = 1;
  }
  KEDGE_CONFIG_KEEP(err, kedge_config_strings(node, "ac_ids", &ees->ac_ids, &ees->n_ac_ids));
  if (!err && ees->n_ac_ids == 0) {
    ees->ac_ids = any;
    ees->n_ac_ids = 1;
  }
  return err;
}

static kedge_err_t read_provisioning(ecs_t *ecs, kedge_config_node_t *root)
{
  kedge_err_t err = KEDGE_OK;
  kedge_config_node_t *sec = NULL;
  ecs_provisioning_t *p = &ecs->prov;
  kedge_config_node_t *const *edns = NULL;
  size_t n = 0;
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "service_provisioning", &sec));
  KEDGE_CONFIG_KEEP(err, kedge_config_strings(sec, "allowed_eec_ids", &p->allowed_eec_ids,
                                              &p->n_allowed_eec_ids));
  if (!err && p->n_allowed_eec_ids == 0) {
    p->allowed_eec_ids = any;
    p->n_allowed_eec_ids = 1;
  }
  KEDGE_CONFIG_KEEP(
      err, kedge_config_strings(sec, "allowed_ac_ids", &p->allowed_ac_ids, &p->n_allowed_ac_ids));
  if (!err && p->n_allowed_ac_ids == 0) {
    p->allowed_ac_ids = any;
    p->n_allowed_ac_ids = 1;
  }
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(sec, "lifetime", 86400000, 1000, 365LL * 86400000,
                                               &p->lifetime_ms));
  KEDGE_CONFIG_KEEP(err, kedge_config_maps(sec, "edns", &edns, &n));
  if (err)
    return err;
  p->edns = calloc(n ? n : 1, sizeof(*p->edns));
  if (!p->edns)
    return KEDGE_ERR_NOMEM;
  p->n_edns = n;
  for (size_t i = 0; i < n; i++) {
    ecs_edn_t *edn = &p->edns[i];
    kedge_config_node_t *const *eess = NULL;
    size_t m = 0;
    KEDGE_CONFIG_KEEP(err, kedge_config_string(edns[i], "dnn", NULL, &edn->dnn));
    if (!edn->dnn)
      KEDGE_CONFIG_KEEP(err, kedge_config_require(edns[i], "dnn"));
    kedge_err_t e = kedge_config_maps(edns[i], "eess", &eess, &m);
    KEDGE_CONFIG_KEEP(err, e);
    if (e)
      continue;
    if (m == 0) {
      KEDGE_CONFIG_KEEP(
          err, kedge_config_invalid(edns[i], "eess", "list at least one EES (TS 24.558: eess)"));
      continue;
    }
    edn->eess = calloc(m, sizeof(*edn->eess));
    if (!edn->eess)
      return KEDGE_ERR_NOMEM;
    edn->n_eess = m;
    for (size_t j = 0; j < m; j++)
      KEDGE_CONFIG_KEEP(err, read_ees(eess[j], ecs->profile, &edn->eess[j]));
  }
  return err;
}

kedge_err_t ecs_read_config(kedge_config_node_t *root, void *state)
{
  ecs_t *ecs = state;
  kedge_err_t err = KEDGE_OK;
  kedge_config_node_t *sec = NULL, *cache = NULL;
  const char *profile = NULL, *ecs_id = NULL, *why = NULL;
  int64_t v = 0;

  /* The ECS's listener is TLS-PSK without a certificate (SPEC.md 4); its certificate is the
   * one it shows the AUSF or the NEF, under key_source.tls. */
  if (kedge_config_has(root, "sbi.tls"))
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(root, "sbi.tls",
                                  "the ECS serves TLS 1.3 PSK without a certificate; its client "
                                  "certificate goes under key_source.tls"));
  /* Read again here (lib/sbi read them first) because the handshakes are the ECS's own. */
  KEDGE_CONFIG_KEEP(
      err, kedge_config_duration(root, "sbi.limits.handshake_timeout", 10000, 1, 600000, &v));
  ecs->handshake_timeout_ms = (unsigned)v;

  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "ecs", &sec));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "psk_profile", "kedge", &profile));
  if (profile && !strcmp(profile, "kedge"))
    ecs->profile = ECS_PROFILE_KEDGE;
  else if (profile && !strcmp(profile, "bound"))
    ecs->profile = ECS_PROFILE_BOUND;
  else if (profile && !strcmp(profile, "akma"))
    ecs->profile = ECS_PROFILE_AKMA;
  else
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(sec, "psk_profile",
                                                "must be kedge, bound or akma (SPEC.md 6, 9)"));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "ecs_id", NULL, &ecs_id));
  if (ecs_id) {
    if (kedge_ecs_id_normalise(ecs_id, ecs->ecs_id_buf, &why))
      KEDGE_CONFIG_KEEP(err, kedge_config_invalid(sec, "ecs_id", "not an FQDN: %s", why));
    else
      ecs->ecs_id = ecs->ecs_id_buf;
  } else if (ecs->profile != ECS_PROFILE_KEDGE) {
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(sec, "ecs_id",
                                                "required with psk_profile bound or akma (SPEC.md "
                                                "6: the ECS ID; 9: the FQDN K_AF is bound to)"));
  }
  KEDGE_CONFIG_KEEP(err, kedge_config_bool(sec, "allow_psk_ke", false, &ecs->allow_psk_ke));

  KEDGE_CONFIG_KEEP(err, read_key_source(ecs, root));

  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "key_cache", &cache));
  KEDGE_CONFIG_KEEP(err, kedge_config_int(cache, "size", 100000, 1, 100000000, &v));
  ecs->key_cache_size = (size_t)v;
  /* SPEC.md 4: at most key_cache_ttl (default 60 s), never past the key's expiry */
  KEDGE_CONFIG_KEEP(
      err, kedge_config_duration(cache, "ttl", 60000, 0, 86400000, &ecs->key_cache_ttl_ms));
  KEDGE_CONFIG_KEEP(err, kedge_config_int(cache, "negative_size", 10000, 1, 100000000, &v));
  ecs->negative_cache_size = (size_t)v;
  /* Issue 12: an unknown identity stays in the negative cache exactly as long as a key stays
   * in the key cache, so that whether a later handshake fetches tells nothing about which
   * kind of entry it was. */
  if (kedge_config_has(cache, "negative_ttl"))
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(cache, "negative_ttl",
                                  "removed: unknown identities are cached for key_cache.ttl like "
                                  "keys, so that neither reveals itself (docs/security.md)"));
  ecs->negative_cache_ttl_ms = ecs->key_cache_ttl_ms;
  /* Issue 12: every identity is answered no sooner than the floor after its ClientHello */
  KEDGE_CONFIG_KEEP(
      err, kedge_config_duration(cache, "answer_floor", 5, 0, 1000, &ecs->answer_floor_ms));
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(cache, "answer_floor_max", 50, 0, 5000,
                                               &ecs->answer_floor_max_ms));
  if (!err && ecs->answer_floor_max_ms < ecs->answer_floor_ms)
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(cache, "answer_floor_max", "must not be below answer_floor"));

  KEDGE_CONFIG_KEEP(err, read_provisioning(ecs, root));
  KEDGE_CONFIG_KEEP(err, ecs_revocation_read_config(ecs, root));

  if (!err && ecs->client.timeout_ms >= ecs->handshake_timeout_ms)
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(root, "key_source.timeout",
                                  "must be shorter than sbi.limits.handshake_timeout (%u ms), so "
                                  "that a slow key source ends in internal_error",
                                  ecs->handshake_timeout_ms));
  return err;
}

void ecs_config_free(ecs_t *ecs)
{
  kedge_key_routes_free(&ecs->routes);
  for (size_t i = 0; i < ecs->prov.n_edns; i++)
    free(ecs->prov.edns[i].eess);
  free(ecs->prov.edns);
  ecs->prov.edns = NULL;
  ecs->prov.n_edns = 0;
}
