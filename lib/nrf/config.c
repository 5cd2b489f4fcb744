/* The `nrf:` section (docs/nrf.md, conf/udm.yaml): where the NRF is, the client's TLS files,
 * back-off, and what the profile announces besides the NF's own identity. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kedge/config.h"
#include "kedge/nrf.h"

/* TS 29.510 SupiRange: both pattern '^[0-9]+$'; oneOf {start, end} | {pattern}. */
static bool digits(const char *s)
{
  if (!s || !*s)
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

static kedge_err_t read_supi_ranges(kedge_config_node_t *sec, kedge_nrf_config_t *cfg)
{
  kedge_config_node_t *const *items = NULL;
  size_t n = 0;
  kedge_err_t err = kedge_config_maps(sec, "supi_ranges", &items, &n);
  if (err || n == 0)
    return err;
  cfg->supi_ranges = calloc(n, sizeof(*cfg->supi_ranges));
  if (!cfg->supi_ranges)
    return KEDGE_ERR_NOMEM;
  cfg->n_supi_ranges = n;
  for (size_t i = 0; i < n; i++) {
    kedge_nrf_supi_range_t *r = &cfg->supi_ranges[i];
    KEDGE_CONFIG_KEEP(err, kedge_config_string(items[i], "start", NULL, &r->start));
    KEDGE_CONFIG_KEEP(err, kedge_config_string(items[i], "end", NULL, &r->end));
    KEDGE_CONFIG_KEEP(err, kedge_config_string(items[i], "pattern", NULL, &r->pattern));
    if (err)
      continue;
    if (r->pattern && (r->start || r->end))
      KEDGE_CONFIG_KEEP(
          err, kedge_config_invalid(items[i], NULL, "give start and end, or pattern, not both"));
    else if (!r->pattern && !(r->start && r->end))
      KEDGE_CONFIG_KEEP(err,
                        kedge_config_invalid(items[i], NULL, "needs start and end, or pattern"));
    else if (!r->pattern && (!digits(r->start) || !digits(r->end) ||
                             strlen(r->start) != strlen(r->end) || strcmp(r->start, r->end) > 0))
      KEDGE_CONFIG_KEEP(
          err,
          kedge_config_invalid(
              items[i], NULL, "start and end must be digit strings of equal length, start <= end"));
  }
  return err;
}

kedge_err_t kedge_nrf_config_read(kedge_config_node_t *root, kedge_nrf_config_t *cfg)
{
  memset(cfg, 0, sizeof(*cfg));
  kedge_sbi_client_options_init(&cfg->client);
  cfg->discovery_validity_ms = 60000;
  cfg->discovery_cache_size = 10000;
  cfg->priority = cfg->capacity = -1;
  kedge_err_t err = KEDGE_OK;
  /* nf.fqdn (the common nf: section): an FQDN is a DNS name (RFC 1035 2.3.4: at most 253) */
  KEDGE_CONFIG_KEEP(err, kedge_config_string(root, "nf.fqdn", NULL, &cfg->fqdn));
  if (cfg->fqdn && (!*cfg->fqdn || strlen(cfg->fqdn) > 253 ||
                    strspn(cfg->fqdn, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789-.") != strlen(cfg->fqdn)))
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(root, "nf.fqdn",
                                                "must be a DNS name (letters, digits, '-', '.')"));
  if (!kedge_config_has(root, "nrf"))
    return err;
  kedge_config_node_t *sec = NULL;
  const char *sbi_ca = NULL, *sbi_cert = NULL, *sbi_key = NULL;
  int64_t ms = 0;
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "nrf", &sec));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(root, "sbi.tls.ca", NULL, &sbi_ca));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(root, "sbi.tls.cert", NULL, &sbi_cert));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(root, "sbi.tls.key", NULL, &sbi_key));
  /* nrf.uri null: no NRF (the section's other keys are still checked: the samples in conf/) */
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "uri", NULL, &cfg->uri));
  if (cfg->uri && strncmp(cfg->uri, "https://", 8) != 0)
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(sec, "uri", "must start with https:// (the SBI is always TLS)"));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "ca", sbi_ca, &cfg->client.ca_file));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "cert", sbi_cert, &cfg->client.cert_file));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "key", sbi_key, &cfg->client.key_file));
  if (cfg->uri && !cfg->client.ca_file)
    KEDGE_CONFIG_KEEP(err, kedge_config_require(sec, "ca"));
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(sec, "timeout", 2000, 10, 60000, &ms));
  cfg->client.timeout_ms = (uint32_t)ms;
  KEDGE_CONFIG_KEEP(err,
                    kedge_config_duration(sec, "retry_min", 1000, 10, 3600000, &cfg->retry_min_ms));
  KEDGE_CONFIG_KEEP(
      err, kedge_config_duration(sec, "retry_max", 60000, 10, 3600000, &cfg->retry_max_ms));
  if (!err && cfg->retry_max_ms < cfg->retry_min_ms)
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(sec, "retry_max", "must not be below retry_min"));
  KEDGE_CONFIG_KEEP(
      err, kedge_config_duration(sec, "heartbeat", 60000, 1000, 3600000, &cfg->heartbeat_ms));
  KEDGE_CONFIG_KEEP(err, kedge_config_strings(sec, "allowed_nf_types", &cfg->allowed_nf_types,
                                              &cfg->n_allowed_nf_types));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "group_id", NULL, &cfg->group_id));
  KEDGE_CONFIG_KEEP(err, kedge_config_strings(sec, "routing_indicators", &cfg->routing_indicators,
                                              &cfg->n_routing_indicators));
  /* TS 29.510 AusfInfo/UdmInfo: routingIndicators match ^[0-9]{1,4}$ */
  for (size_t i = 0; !err && i < cfg->n_routing_indicators; i++)
    if (!digits(cfg->routing_indicators[i]) || strlen(cfg->routing_indicators[i]) > 4)
      KEDGE_CONFIG_KEEP(
          err, kedge_config_invalid(sec, "routing_indicators", "each must be 1 to 4 digits"));
  KEDGE_CONFIG_KEEP(err, read_supi_ranges(sec, cfg));
  /* TS 29.510 6.1.6.2.2 NFProfile priority (lower is preferred) and capacity (relative
   * weight), both 0..65535: how consumers order this NF among others of its type */
  int64_t v = -1;
  KEDGE_CONFIG_KEEP(err, kedge_config_int(sec, "priority", -1, 0, 65535, &v));
  cfg->priority = (int)v;
  KEDGE_CONFIG_KEEP(err, kedge_config_int(sec, "capacity", -1, 0, 65535, &v));
  cfg->capacity = (int)v;
  /* discovery (docs/nrf.md): how long an answer without a usable validityPeriod is kept, and
   * how many answers (one per query: per SUPI for AUSF->UDM) at most */
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(sec, "discovery_validity", 60000, 0, 86400000,
                                               &cfg->discovery_validity_ms));
  int64_t n = 0;
  KEDGE_CONFIG_KEEP(err, kedge_config_int(sec, "discovery_cache_size", 10000, 0, 10000000, &n));
  cfg->discovery_cache_size = (size_t)n;
  return err;
}

void kedge_nrf_config_clear(kedge_nrf_config_t *cfg)
{
  free(cfg->supi_ranges);
  cfg->supi_ranges = NULL;
  cfg->n_supi_ranges = 0;
}
