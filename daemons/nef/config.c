/* kedge-nefd's own configuration sections: afs, ausf, oauth (conf/nef.yaml documents every
 * key). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kedge/log.h"
#include "nef.h"

/* {mcc, mnc} -> a PLMN with 3-digit codes (MNC zero padded, as the Kedge ID realm writes it). */
static kedge_err_t read_plmn(kedge_config_node_t *map, kedge_plmn_t *plmn)
{
  const char *mcc = NULL, *mnc = NULL;
  kedge_err_t err = KEDGE_OK;
  KEDGE_CONFIG_KEEP(err, kedge_config_string(map, "mcc", NULL, &mcc));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(map, "mnc", NULL, &mnc));
  if (err)
    return err;
  if (!mcc || !mnc) {
    KEDGE_CONFIG_KEEP(err, kedge_config_require(map, "mcc"));
    KEDGE_CONFIG_KEEP(err, kedge_config_require(map, "mnc"));
    return err;
  }
  if (kedge_plmn_parse(mcc, mnc, plmn) != KEDGE_OK)
    return kedge_config_invalid(map, NULL,
                                "mcc must be 3 digits and mnc 2 or 3 digits (quote "
                                "them: \"001\", \"01\")");
  return KEDGE_OK;
}

static kedge_err_t read_af(nef_t *nef, kedge_config_node_t *item, nef_af_t *af)
{
  kedge_err_t err = KEDGE_OK;
  const char *af_id = NULL, *why = NULL;
  const char *const *profiles = NULL;
  size_t n_profiles = 0;
  int64_t v = 0;

  KEDGE_CONFIG_KEEP(err, kedge_config_string(item, "af_id", NULL, &af_id));
  if (!af_id)
    KEDGE_CONFIG_KEEP(err, kedge_config_require(item, "af_id"));
  else if (kedge_ecs_id_normalise(af_id, af->af_id, &why) != KEDGE_OK)
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(item, "af_id",
                                                "must be the AF's FQDN (a SAN DNS name of its "
                                                "certificate): %s",
                                                why));
  for (nef_af_t *other = nef->afs; !err && other < af; other++)
    if (!strcmp(other->af_id, af->af_id))
      KEDGE_CONFIG_KEEP(err, kedge_config_invalid(item, "af_id", "listed twice"));

  KEDGE_CONFIG_KEEP(err, kedge_config_strings(item, "profiles", &profiles, &n_profiles));
  for (size_t i = 0; !err && i < n_profiles; i++) {
    if (!strcmp(profiles[i], "kedge"))
      af->profiles |= NEF_PROFILE_KEDGE;
    else if (!strcmp(profiles[i], "bound"))
      af->profiles |= NEF_PROFILE_BOUND;
    else if (!strcmp(profiles[i], "akma"))
      af->profiles |= NEF_PROFILE_AKMA;
    else
      KEDGE_CONFIG_KEEP(
          err, kedge_config_invalid(item, "profiles", "must list kedge, bound and/or akma"));
  }
  if (!err && !af->profiles)
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(item, "profiles",
                                                "list the profiles this AF may use: kedge, "
                                                "bound and/or akma (SPEC.md 6, 9)"));

  kedge_config_node_t *const *nets = NULL;
  size_t n_nets = 0;
  KEDGE_CONFIG_KEEP(err, kedge_config_maps(item, "home_networks", &nets, &n_nets));
  if (!err && n_nets == 0)
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(item, "home_networks",
                                                "list the home networks ({mcc, mnc}) whose "
                                                "Kedge IDs this AF may ask for"));
  if (!err) {
    af->home_networks = calloc(n_nets, sizeof(*af->home_networks));
    if (!af->home_networks)
      return KEDGE_ERR_NOMEM;
    af->n_home_networks = n_nets;
    for (size_t i = 0; i < n_nets; i++)
      KEDGE_CONFIG_KEEP(err, read_plmn(nets[i], &af->home_networks[i]));
  }

  KEDGE_CONFIG_KEEP(err, kedge_config_int(item, "rate", 100, 0, 1000000, &v));
  af->rate = (uint32_t)v;
  KEDGE_CONFIG_KEEP(err, kedge_config_int(item, "burst", af->rate ? af->rate : 1, 1, 1000000, &v));
  af->burst = (uint32_t)v;
  KEDGE_CONFIG_KEEP(err, kedge_config_int(item, "max_concurrent", 64, 0, 1000000, &v));
  af->max_concurrent = (uint32_t)v;
  if (!err)
    err = nef_rate_init(af);
  return err;
}

static kedge_err_t read_afs(nef_t *nef, kedge_config_node_t *root)
{
  kedge_config_node_t *const *items = NULL;
  size_t n = 0;
  kedge_err_t err = kedge_config_maps(root, "afs", &items, &n);
  if (err)
    return err;
  if (n == 0)
    return kedge_config_invalid(root, "afs", "list the AFs allowed to ask for keys");
  nef->afs = calloc(n, sizeof(*nef->afs));
  if (!nef->afs)
    return KEDGE_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    nef->n_afs = i + 1;
    KEDGE_CONFIG_KEEP(err, read_af(nef, items[i], &nef->afs[i]));
  }
  return err;
}

/* A southbound key source section (ausf:, aanf:): client certificate, timeout, routing table.
 * The aanf: section is optional (no 3gpp-akma without it). */
static kedge_err_t read_source(kedge_config_node_t *root, const char *name, bool required,
                               kedge_sbi_client_options_t *client, kedge_key_routes_t *routes)
{
  kedge_err_t err = KEDGE_OK;
  kedge_config_node_t *sec = NULL;
  const char *sbi_ca = NULL, *sbi_cert = NULL, *sbi_key = NULL;
  int64_t ms = 0;

  /* The NEF asks as itself, with its own SBI certificate unless told otherwise: the AUSF lists
   * the NEF (not the AF) in keyrequest.allowed_consumers and keyrequest.relays, the AAnF in
   * applicationkey.allowed_consumers and relays. */
  KEDGE_CONFIG_KEEP(err, kedge_config_string(root, "sbi.tls.ca", NULL, &sbi_ca));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(root, "sbi.tls.cert", NULL, &sbi_cert));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(root, "sbi.tls.key", NULL, &sbi_key));
  kedge_sbi_client_options_init(client);
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, name, &sec));
  if (!required && !kedge_config_has(root, name))
    return err;
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "ca", sbi_ca, &client->ca_file));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "cert", sbi_cert, &client->cert_file));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "key", sbi_key, &client->key_file));
  if (!client->ca_file)
    KEDGE_CONFIG_KEEP(err, kedge_config_require(sec, "ca"));
  if (!client->cert_file || !client->key_file)
    KEDGE_CONFIG_KEEP(err,
                      kedge_config_invalid(sec, "cert",
                                           "the NEF needs a client certificate and key for the "
                                           "%s (%s.cert/key or sbi.tls.cert/key)",
                                           name, name));
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(sec, "timeout", 2000, 10, 60000, &ms));
  client->timeout_ms = (uint32_t)ms;
  client->max_retries = 0; /* POST; the NEF moves on to the group's next URI itself */

  /* the routing table (SPEC.md 2, 9): {name, mcc, mnc, rids, uris}, all mandatory */
  KEDGE_CONFIG_KEEP(err,
                    kedge_key_routes_read(sec, "groups", NULL,
                                          KEDGE_KEY_ROUTE_NEED_NAME | KEDGE_KEY_ROUTE_NEED_HOME |
                                              KEDGE_KEY_ROUTE_NEED_RIDS,
                                          routes));
  if (!err)
    KEDGE_CONFIG_KEEP(err, kedge_key_routes_check_nrf(root, sec, "groups", routes));
  return err;
}

static kedge_err_t read_ausf(nef_t *nef, kedge_config_node_t *root)
{
  kedge_err_t err = KEDGE_OK;
  kedge_config_node_t *ausf = NULL;
  int64_t ms = 0;
  KEDGE_CONFIG_KEEP(err, read_source(root, "ausf", true, &nef->ausf_client, &nef->groups));
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "ausf", &ausf));
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(ausf, "retry_after", 1000, 1000, 3600000, &ms));
  nef->retry_after_s = (unsigned)((ms + 999) / 1000);
  KEDGE_CONFIG_KEEP(err, read_source(root, "aanf", false, &nef->aanf_client, &nef->aanf_groups));
  return err;
}

static kedge_err_t read_oauth(nef_t *nef, kedge_config_node_t *root)
{
  kedge_err_t err = KEDGE_OK;
  kedge_config_node_t *oauth = NULL;
  nef_oauth_t *o = &nef->oauth;
  int64_t ms = 0;
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "oauth", &oauth));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(oauth, "jwks_file", NULL, &o->jwks_file));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(oauth, "audience", NULL, &o->policy.audience));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(oauth, "scope", "3gpp-kedge", &o->policy.scope));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(oauth, "issuer", NULL, &o->policy.issuer));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(oauth, "realm", "kedge-nef", &o->realm));
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(oauth, "clock_skew", 30000, 0, 600000, &ms));
  o->policy.leeway_s = ms / 1000;
  if (err || !o->jwks_file)
    return err;
  if (!o->policy.audience || !*o->policy.audience)
    return kedge_config_invalid(oauth, "audience",
                                "required with jwks_file: the \"aud\" value "
                                "tokens for this NEF carry (RFC 7519 4.1.3)");
  if (!*o->policy.scope)
    o->policy.scope = NULL;
  if (strpbrk(o->realm, "\"\\\r\n") || (o->policy.scope && strpbrk(o->policy.scope, "\"\\ ")))
    return kedge_config_invalid(oauth, NULL,
                                "realm and scope must not contain quotes or "
                                "backslashes (scope: one token, no spaces)");
  const char *why = NULL;
  kedge_err_t jerr = kedge_jwks_load_file(o->jwks_file, &o->jwks, &why);
  if (jerr)
    return kedge_config_invalid(oauth, "jwks_file", "%s: %s", o->jwks_file,
                                why ? why : kedge_strerror(jerr));
  return KEDGE_OK;
}

kedge_err_t nef_read_config(kedge_config_node_t *root, void *state)
{
  nef_t *nef = state;
  kedge_err_t err = KEDGE_OK;
  const char *verify = NULL;
  /* The AF is authenticated by its certificate (SPEC.md 3; the solution's NOTE 3: the
   * ECS-NEF link is always TLS): a NEF that does not require one is a configuration error. */
  KEDGE_CONFIG_KEEP(err,
                    kedge_config_string(root, "sbi.tls.client_verification", "required", &verify));
  if (!err && strcmp(verify, "required") != 0)
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(root, "sbi.tls.client_verification",
                                  "must be required: the NEF authenticates AFs by certificate"));
  KEDGE_CONFIG_KEEP(err, read_afs(nef, root));
  KEDGE_CONFIG_KEEP(err, read_ausf(nef, root));
  KEDGE_CONFIG_KEEP(err, read_oauth(nef, root));
  KEDGE_CONFIG_KEEP(err, nef_revocation_read_config(nef, root));
  return err;
}

void nef_config_free(nef_t *nef)
{
  for (size_t i = 0; i < nef->n_afs; i++) {
    free(nef->afs[i].home_networks);
    nef_rate_fini(&nef->afs[i]);
  }
  free(nef->afs);
  kedge_key_routes_free(&nef->groups);
  kedge_key_routes_free(&nef->aanf_groups);
  kedge_jwks_free(nef->oauth.jwks);
  nef->afs = NULL;
  nef->oauth.jwks = NULL;
  nef->n_afs = 0;
}
