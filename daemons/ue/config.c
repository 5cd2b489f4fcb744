/* kedge-ue's configuration file (conf/ue.yaml documents every key). Not a server: no sbi:
 * section; the log: section is read as lib/app reads it for the daemons. Every value is copied
 * into ue_config_t, K and OPc into fixed buffers; error lines never quote a value. */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "kedge/hex.h"
#include "kedge/milenage.h"
#include "kedge/secret_file.h"
#include "ue.h"

#define TIMEOUT_MS_DEFAULT 5000

/* A string copied into a fixed buffer; `required` records "missing (required)". */
static kedge_err_t read_text(kedge_config_node_t *node, const char *key, const char *def,
                             bool required, char *out, size_t size)
{
  const char *s = NULL;
  out[0] = '\0';
  if (required && !kedge_config_has(node, key))
    return kedge_config_require(node, key);
  kedge_err_t err = kedge_config_string(node, key, def, &s);
  if (err || !s)
    return err;
  if (strlen(s) >= size)
    return kedge_config_invalid(node, key, "longer than %zu characters", size - 1);
  memcpy(out, s, strlen(s) + 1);
  return KEDGE_OK;
}

/* 16 octets in hex (K, OPc, OP). The text of the value is never repeated in a message. */
static kedge_err_t read_key(kedge_config_node_t *node, const char *key, uint8_t out[16])
{
  const char *s = NULL;
  kedge_err_t err = kedge_config_string(node, key, NULL, &s);
  if (err || !s)
    return err;
  if (kedge_hex_decode(s, out, 16) != KEDGE_OK)
    return kedge_config_invalid(node, key, "must be 32 hex digits (16 octets)");
  return KEDGE_OK;
}

/* mcc and mnc of a map into a PLMN (TS 23.003 2.2: MCC 3 digits, MNC 2 or 3). */
static kedge_err_t read_plmn(kedge_config_node_t *map, kedge_plmn_t *plmn, char raw_mnc[4])
{
  char mcc[8], mnc[8];
  kedge_err_t err = read_text(map, "mcc", NULL, true, mcc, sizeof(mcc));
  kedge_err_t e = read_text(map, "mnc", NULL, true, mnc, sizeof(mnc));
  if (err || e)
    return err ? err : e;
  if (kedge_plmn_parse(mcc, "00", plmn) != KEDGE_OK)
    return kedge_config_invalid(map, "mcc", "must be 3 digits");
  if (kedge_plmn_parse(mcc, mnc, plmn) != KEDGE_OK)
    return kedge_config_invalid(map, "mnc", "must be 2 or 3 digits");
  if (raw_mnc)
    memcpy(raw_mnc, mnc, strlen(mnc) + 1);
  return KEDGE_OK;
}

/* apiRoot (TS 29.501 4.4.1): https://authority[/prefix]; the client only speaks https. */
static kedge_err_t read_api_root(kedge_config_node_t *ausf, char *out, size_t size)
{
  kedge_err_t err = read_text(ausf, "uri", NULL, true, out, size);
  if (err || !out[0])
    return err;
  static const char bad[] = "must be https://HOST[:PORT][/PREFIX] (no user, query or fragment)";
  CURLU *u = curl_url();
  if (!u)
    return KEDGE_ERR_NOMEM;
  char *scheme = NULL, *host = NULL, *user = NULL, *query = NULL, *fragment = NULL;
  bool ok =
      strncmp(out, "https://", 8) == 0 && curl_url_set(u, CURLUPART_URL, out, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK && strcmp(scheme, "https") == 0 &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] &&
      curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_NO_USER &&
      curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_NO_QUERY &&
      curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0) == CURLUE_NO_FRAGMENT;
  curl_free(scheme);
  curl_free(host);
  curl_free(user);
  curl_free(query);
  curl_free(fragment);
  curl_url_cleanup(u);
  if (!ok)
    return kedge_config_invalid(ausf, "uri", "%s", bad);
  size_t n = strlen(out);
  while (n > 8 && out[n - 1] == '/') /* the service paths start with '/' */
    out[--n] = '\0';
  return KEDGE_OK;
}

static kedge_err_t read_log(kedge_config_node_t *root, ue_config_t *cfg)
{
  const char *name = NULL;
  /* A command, not a daemon: only warnings and errors on stderr unless asked. */
  kedge_err_t err = kedge_config_string(root, "log.level", "warn", &name);
  if (!err && kedge_log_level_parse(name, &cfg->log_level) != KEDGE_OK)
    err = kedge_config_invalid(root, "log.level", "must be error, warn, info or debug");
  kedge_err_t e = kedge_config_bool(root, "log.json", false, &cfg->log_json);
  return err ? err : e;
}

/* usim.suci: protection_scheme (null | A | B), home_network_public_key_id (1..255) and
 * home_network_public_key (hex as TS 33.501 C.4 writes it), TS 31.102 EF SUCI_Calc_Info. */
static kedge_err_t read_suci(kedge_config_node_t *usim_sec, ue_usim_t *usim)
{
  kedge_config_node_t *sec = NULL;
  const char *scheme = NULL, *pub = NULL;
  int64_t id = 0;
  kedge_ecies_profile_t profile;
  kedge_err_t err = kedge_config_map(usim_sec, "suci", &sec);
  if (!err && !kedge_config_has(sec, "protection_scheme"))
    err = kedge_config_require(sec, "protection_scheme");
  if (!err)
    err = kedge_config_string(sec, "protection_scheme", NULL, &scheme);
  if (err)
    return err;
  usim->conceal = true;
  if (!strcmp(scheme, "null")) {
    usim->suci_scheme = KEDGE_SUCI_NULL;
    return KEDGE_OK;
  }
  if (kedge_ecies_profile_parse(scheme, &profile))
    return kedge_config_invalid(sec, "protection_scheme", "must be null, A or B");
  usim->suci_scheme = (unsigned)profile;
  if ((err = kedge_config_require(sec, "home_network_public_key_id")) ||
      (err = kedge_config_int(sec, "home_network_public_key_id", 0, 1, 255, &id)) ||
      (err = kedge_config_require(sec, "home_network_public_key")) ||
      (err = kedge_config_string(sec, "home_network_public_key", NULL, &pub)))
    return err;
  usim->hn_key_id = (unsigned)id;
  usim->hn_public_key_len = kedge_ecies_public_len(profile);
  if (strlen(pub) != 2 * usim->hn_public_key_len ||
      kedge_hex_decode(pub, usim->hn_public_key, usim->hn_public_key_len))
    return kedge_config_invalid(sec, "home_network_public_key",
                                "must be %zu hex digits for profile %s",
                                2 * usim->hn_public_key_len, scheme);
  return KEDGE_OK;
}

static kedge_err_t read_usim(kedge_config_node_t *root, ue_usim_t *usim)
{
  kedge_config_node_t *sec = NULL, *home = NULL;
  char supi[KEDGE_SUPI_MAX + 2];
  kedge_err_t err = KEDGE_OK, e;
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "usim", &sec));
  KEDGE_CONFIG_KEEP(err, read_text(sec, "supi", NULL, true, supi, sizeof(supi)));
  if (supi[0] && kedge_supi_parse(supi, &usim->supi) != KEDGE_OK)
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(
                               sec, "supi", "must be imsi-<5 to 15 digits> or nai-<user>@<realm>"));
  if (!kedge_config_has(sec, "k"))
    KEDGE_CONFIG_KEEP(err, kedge_config_require(sec, "k"));
  KEDGE_CONFIG_KEEP(err, read_key(sec, "k", usim->cred.k));
  /* TS 35.206 4.1: the USIM holds OPc; OP is converted here, as the UDM does at provisioning. */
  bool has_opc = kedge_config_has(sec, "opc"), has_op = kedge_config_has(sec, "op");
  if (has_opc && has_op)
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(sec, "op", "give either opc or op, not both"));
  else if (!has_opc && !has_op)
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(sec, "opc", "missing (required; or give op)"));
  uint8_t op[16];
  KEDGE_CONFIG_KEEP(err, read_key(sec, "opc", usim->cred.opc));
  KEDGE_CONFIG_KEEP(err, read_key(sec, "op", op));
  if (!err && has_op && !has_opc &&
      kedge_milenage_opc(usim->cred.k, op, usim->cred.opc) != KEDGE_OK)
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(sec, "op", "cannot compute OPc (crypto failure)"));
  OPENSSL_cleanse(op, sizeof(op));
  /* SPEC.md 2: the RID exactly as provisioned ("012" and "12" differ) */
  char rid[16];
  e = read_text(sec, "routing_indicator", "0", false, rid, sizeof(rid));
  if (e)
    KEDGE_CONFIG_KEEP(err, e);
  else if (kedge_rid_check(rid) != KEDGE_OK)
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(sec, "routing_indicator", "must be 1 to 4 decimal digits"));
  else
    memcpy(usim->rid, rid, strlen(rid) + 1);
  if (!kedge_config_has(sec, "home_network"))
    KEDGE_CONFIG_KEEP(err, kedge_config_require(sec, "home_network"));
  KEDGE_CONFIG_KEEP(err, kedge_config_map(sec, "home_network", &home));
  KEDGE_CONFIG_KEEP(err, read_plmn(home, &usim->home, usim->home_mnc));
  KEDGE_CONFIG_KEEP(err,
                    read_text(sec, "sqn_file", NULL, true, usim->sqn_file, sizeof(usim->sqn_file)));
  KEDGE_CONFIG_KEEP(err, kedge_config_bool(sec, "akma", false, &usim->akma));
  if (!err && kedge_config_has(sec, "suci"))
    KEDGE_CONFIG_KEEP(err, read_suci(sec, usim));
  if (!err && usim->conceal) {
    /* one SUCI now: a key off the curve or an IMSI outside the home network is refused at
     * start rather than at each registration */
    char suci[KEDGE_SUCI_MAX + 1];
    e = ue_supi_or_suci(usim, suci, sizeof(suci));
    if (e == KEDGE_ERR_BAD_PLMN)
      KEDGE_CONFIG_KEEP(err,
                        kedge_config_invalid(sec, "supi",
                                             "an IMSI must begin with home_network's MCC and MNC "
                                             "to be concealed (usim.suci)"));
    else if (e)
      KEDGE_CONFIG_KEEP(err, kedge_config_invalid(sec, "suci.home_network_public_key",
                                                  "not a valid public key of "
                                                  "the protection scheme"));
  }
  return err;
}

/* agent: socket, group, allowed_uids (SPEC.md 5) */
static kedge_err_t read_agent(kedge_config_node_t *root, ue_config_t *cfg)
{
  kedge_config_node_t *sec = NULL;
  const char *const *uids = NULL;
  size_t n_uids = 0;
  kedge_err_t err = KEDGE_OK;
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "agent", &sec));
  KEDGE_CONFIG_KEEP(err, read_text(sec, "socket", "/run/kedge/ue-agent/agent.sock", false,
                                   cfg->agent_socket, sizeof(cfg->agent_socket)));
  KEDGE_CONFIG_KEEP(err,
                    read_text(sec, "group", "", false, cfg->agent_group, sizeof(cfg->agent_group)));
  KEDGE_CONFIG_KEEP(err, kedge_config_strings(sec, "allowed_uids", &uids, &n_uids));
  if (n_uids > sizeof(cfg->agent_uids) / sizeof(cfg->agent_uids[0]))
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(sec, "allowed_uids", "at most 16 uids"));
  for (size_t i = 0; !err && i < n_uids; i++) {
    char *end = NULL;
    long uid = strtol(uids[i], &end, 10);
    if (!uids[i][0] || *end || uid < 0 || uid > 4294967294L)
      KEDGE_CONFIG_KEEP(err, kedge_config_invalid(sec, "allowed_uids", "must list numeric uids"));
    else
      cfg->agent_uids[cfg->n_agent_uids++] = uid;
  }
  return err;
}

kedge_err_t ue_config_read(kedge_config_node_t *root, ue_config_t *cfg)
{
  kedge_config_node_t *serving = NULL, *ausf = NULL;
  int64_t timeout = 0;
  kedge_err_t err = KEDGE_OK;
  memset(cfg, 0, sizeof(*cfg));
  KEDGE_CONFIG_KEEP(err, read_log(root, cfg));
  KEDGE_CONFIG_KEEP(err, read_usim(root, &cfg->usim));
  /* The serving network defaults to the home network (the UE is not roaming). */
  cfg->serving = cfg->usim.home;
  if (kedge_config_has(root, "serving_network")) {
    KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "serving_network", &serving));
    KEDGE_CONFIG_KEEP(err, read_plmn(serving, &cfg->serving, NULL));
  }
  kedge_serving_network_name(&cfg->serving, cfg->snn);
  if (!kedge_config_has(root, "ausf"))
    KEDGE_CONFIG_KEEP(err, kedge_config_require(root, "ausf"));
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "ausf", &ausf));
  KEDGE_CONFIG_KEEP(err, read_api_root(ausf, cfg->ausf_uri, sizeof(cfg->ausf_uri)));
  KEDGE_CONFIG_KEEP(err, read_text(ausf, "ca", NULL, true, cfg->ca, sizeof(cfg->ca)));
  /* The AUSF authorises its consumers by their certificate (TS 33.501 13.3.1): required. */
  KEDGE_CONFIG_KEEP(err, read_text(ausf, "cert", NULL, true, cfg->cert, sizeof(cfg->cert)));
  KEDGE_CONFIG_KEEP(err, read_text(ausf, "key", NULL, true, cfg->key, sizeof(cfg->key)));
  /* TS 33.501 13.4.1.1: an AUSF that requires OAuth2 wants a token from the NRF */
  KEDGE_CONFIG_KEEP(err, read_text(ausf, "oauth2_token_uri", NULL, false, cfg->token_uri,
                                   sizeof(cfg->token_uri)));
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(ausf, "timeout", TIMEOUT_MS_DEFAULT, 100,
                                               KEDGE_SBI_CLIENT_TIMEOUT_MS_MAX, &timeout));
  KEDGE_CONFIG_KEEP(err, read_agent(root, cfg));
  cfg->timeout_ms = (uint32_t)timeout;
  return err;
}

kedge_err_t ue_config_load(const char *path, ue_config_t *cfg, char *why, size_t why_size)
{
  kedge_config_t *conf = NULL;
  memset(cfg, 0, sizeof(*cfg));
  /* issue 12: the file holds K and OPc (usim:) */
  kedge_err_t err = kedge_secret_file_check(path, "K and OPc (usim:)", why, why_size);
  if (!err)
    err = kedge_config_load_file(path, &conf, why, why_size);
  if (err)
    return err;
  err = ue_config_read(kedge_config_root(conf), cfg);
  kedge_err_t e = kedge_config_finish(conf);
  if (!err)
    err = e;
  if (err) {
    snprintf(why, why_size, "%s",
             kedge_config_error(conf) ? kedge_config_error(conf) : kedge_strerror(err));
    ue_config_clear(cfg);
  }
  kedge_config_free(conf);
  return err;
}

void ue_config_clear(ue_config_t *cfg)
{
  if (cfg)
    OPENSSL_cleanse(cfg, sizeof(*cfg));
}
