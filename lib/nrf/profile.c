/* The NFProfile an NF registers (TS 29.510 6.1.6.2.2, 6.1.6.2.3 NFService). */
#include <stdbool.h>
#include <string.h>

#include "kedge/nrf.h"

/* The API version of each service kedge offers: apiVersionInUri and apiFullVersion (TS 29.501
 * 4.3.1; the info.version of the OpenAPI file kedge implements). nausf-kedge is kedge's own
 * key service under /nausf-auth/v1 (SPEC.md 7). */
static const struct {
  const char *name, *uri_version, *full_version;
} versions[] = {
    {"nudm-ueau", "v1", "1.3.0"},
    {"nausf-auth", "v1", "1.3.0"},
    {"nausf-kedge", "v1", "1.0.0"},
    {"naanf-akma", "v1", "1.1.0-alpha.4"}, /* TS29535_Naanf_AKMA.yaml */
    {"3gpp-akma", "v1", "1.1.0-alpha.1"},  /* TS29522_AKMA.yaml */
    {"3gpp-kedge", "v1", "1.0.0"},         /* kedge's own (SPEC.md 3) */
};

static const char *full_version(const char *service, const char **uri_version)
{
  for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
    if (strcmp(versions[i].name, service) == 0) {
      *uri_version = versions[i].uri_version;
      return versions[i].full_version;
    }
  *uri_version = "v1";
  return "1.0.0";
}

static json_t *strings(const char *const *list, size_t n)
{
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; i++)
    if (json_array_append_new(a, json_string(list[i])) != 0) {
      json_decref(a);
      return NULL;
    }
  return a;
}

/* AusfInfo / UdmInfo (TS 29.510 6.1.6.2.14, 6.1.6.2.15): groupId, supiRanges,
 * routingIndicators, each only when configured. */
static json_t *subscriber_info(const kedge_nrf_config_t *cfg)
{
  json_t *info = json_object(), *ranges = json_array();
  if (!info || !ranges)
    goto fail;
  if (cfg->group_id && json_object_set_new(info, "groupId", json_string(cfg->group_id)))
    goto fail;
  for (size_t i = 0; i < cfg->n_supi_ranges; i++) {
    const kedge_nrf_supi_range_t *r = &cfg->supi_ranges[i];
    json_t *o = r->pattern ? json_pack("{s:s}", "pattern", r->pattern)
                           : json_pack("{s:s, s:s}", "start", r->start, "end", r->end);
    if (json_array_append_new(ranges, o) != 0)
      goto fail;
  }
  if (cfg->n_supi_ranges && json_object_set(info, "supiRanges", ranges))
    goto fail;
  if (cfg->n_routing_indicators &&
      json_object_set_new(info, "routingIndicators",
                          strings(cfg->routing_indicators, cfg->n_routing_indicators)))
    goto fail;
  json_decref(ranges);
  return info;
fail:
  json_decref(ranges);
  json_decref(info);
  return NULL;
}

static json_t *service(const kedge_nrf_config_t *cfg, const kedge_nrf_self_t *self,
                       const char *name, bool v6)
{
  const char *uri_version = NULL;
  const char *full = full_version(name, &uri_version);
  json_t *s = json_pack("{s:s, s:s, s:[{s:s, s:s}], s:s, s:s, s:[{s:s, s:i}]}", "serviceInstanceId",
                        name, "serviceName", name, "versions", "apiVersionInUri", uri_version,
                        "apiFullVersion", full, "scheme", self->h2c ? "http" : "https",
                        "nfServiceStatus", "REGISTERED", "ipEndPoints",
                        v6 ? "ipv6Address" : "ipv4Address", self->address, "port", (int)self->port);
  if (s && cfg->n_allowed_nf_types &&
      json_object_set_new(s, "allowedNfTypes",
                          strings(cfg->allowed_nf_types, cfg->n_allowed_nf_types))) {
    json_decref(s);
    return NULL;
  }
  return s;
}

json_t *kedge_nrf_profile(const kedge_nrf_config_t *cfg, const kedge_nrf_self_t *self)
{
  bool v6 = strchr(self->address, ':') != NULL;
  json_t *p = json_pack("{s:s, s:s, s:s, s:[s]}", "nfInstanceId", self->nf_instance_id, "nfType",
                        self->nf_type, "nfStatus", "REGISTERED",
                        v6 ? "ipv6Addresses" : "ipv4Addresses", self->address);
  json_t *list = json_array(), *map = json_object();
  if (!p || !list || !map)
    goto fail;
  if (cfg->n_allowed_nf_types &&
      json_object_set_new(p, "allowedNfTypes",
                          strings(cfg->allowed_nf_types, cfg->n_allowed_nf_types)))
    goto fail;
  if ((cfg->priority >= 0 && json_object_set_new(p, "priority", json_integer(cfg->priority))) ||
      (cfg->capacity >= 0 && json_object_set_new(p, "capacity", json_integer(cfg->capacity))))
    goto fail;
  for (size_t i = 0; self->services && self->services[i]; i++) {
    json_t *s = service(cfg, self, self->services[i], v6);
    if (!s || json_object_set(map, self->services[i], s) || json_array_append_new(list, s))
      goto fail;
  }
  /* nfServiceList (a map by serviceInstanceId) is the current member; nfServices (the array,
   * deprecated in Rel-16) is what older NRFs read: both, with the same services. */
  if (json_array_size(list) &&
      (json_object_set(p, "nfServices", list) || json_object_set(p, "nfServiceList", map)))
    goto fail;
  const char *info_key = strcmp(self->nf_type, "AUSF") == 0  ? "ausfInfo"
                         : strcmp(self->nf_type, "UDM") == 0 ? "udmInfo"
                                                             : NULL;
  if (info_key) {
    json_t *info = subscriber_info(cfg);
    if (!info || json_object_set_new(p, info_key, info))
      goto fail;
  }
  /* TS 29.510 6.1.6.2.2: aanfInfoList (a map of AanfInfo: routingIndicators only), nefInfo
   * (nefId: kedge's NEF is named by its nfInstanceId) */
  if (strcmp(self->nf_type, "AANF") == 0 && cfg->n_routing_indicators &&
      json_object_set_new(p, "aanfInfoList",
                          json_pack("{s:{s:o}}", "1", "routingIndicators",
                                    strings(cfg->routing_indicators, cfg->n_routing_indicators))))
    goto fail;
  if (strcmp(self->nf_type, "NEF") == 0 &&
      json_object_set_new(p, "nefInfo", json_pack("{s:s}", "nefId", self->nf_instance_id)))
    goto fail;
  /* TS 29.510 6.1.6.2.2 fqdn (nf.fqdn): what consumers put in https URIs (Open5GS wants it) */
  if (cfg->fqdn && json_object_set_new(p, "fqdn", json_string(cfg->fqdn)))
    goto fail;
  json_decref(list);
  json_decref(map);
  return p;
fail:
  json_decref(list);
  json_decref(map);
  json_decref(p);
  return NULL;
}
