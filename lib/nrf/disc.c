/* Nnrf_NFDiscovery from the consumer's side (TS 29.510 5.3.2.2 NFDiscover, 6.2.3.2.3.1 the
 * query, 6.2.6.2.2 SearchResult). The NRF's answer holds NFProfiles; kedge needs from each only
 * where the one service it asked for is reached (an apiRoot) and in which order to try them:
 * TS 29.510 6.1.6.2.3 NFService.priority overrides NFProfile.priority, lower is preferred; among
 * equals a higher capacity is preferred (TS 23.501 6.3.1 leaves the weighting to the consumer:
 * kedge tries them in that order rather than drawing by weight, so that tests are repeatable).
 * Answers are cached per query URL for validityPeriod (TS 29.510 6.2.6.2.2) in one table shared
 * by every worker; an expired answer is never used (the caller then fails clearly). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "kedge/log.h"
#include "kedge/nrf.h"
#include "kedge/time.h"

struct kedge_nrf_disc {
  const kedge_nrf_config_t *cfg;
  char requester[32];
  pthread_mutex_t lock;
  json_t *cache; /* url -> {"exp": monotonic ms, "c": [[apiRoot, nfInstanceId, prio, cap]...]} */
  kedge_counter_t *ok, *cached, *not_found, *failed;
};

struct kedge_nrf_disc_call {
  kedge_nrf_disc_t *disc;
  kedge_nrf_disc_cb cb;
  void *arg;
  struct event *hit;             /* a cache hit is answered from the loop, not inside */
  kedge_sbi_client_call_t *call; /* the GET in flight */
  char service[64];
  kedge_nrf_candidates_t cands;
  char url[2048];
};

/* ---- the query (TS 29.510 6.2.3.2.3.1) ---- */

static bool append(char *out, size_t size, size_t *len, const char *name, const char *value)
{
  char *enc = curl_easy_escape(NULL, value, 0); /* RFC 3986 unreserved stay, the rest %XX */
  if (!enc)
    return false;
  int n = snprintf(out + *len, size - *len, "%s%s=%s", strchr(out, '?') ? "&" : "?", name, enc);
  curl_free(enc);
  if (n < 0 || (size_t)n >= size - *len)
    return false;
  *len += (size_t)n;
  return true;
}

kedge_err_t kedge_nrf_disc_url(const char *nrf_uri, const char *requester_nf_type,
                               const kedge_nrf_query_t *q, char *out, size_t size)
{
  if (!nrf_uri || !requester_nf_type || !q || !q->target_nf_type || !q->service_name || !size)
    return KEDGE_ERR_INVALID_ARG;
  size_t ulen = strlen(nrf_uri);
  while (ulen > 0 && nrf_uri[ulen - 1] == '/')
    ulen--;
  int n = snprintf(out, size, "%.*s/nnrf-disc/v1/nf-instances", (int)ulen, nrf_uri);
  if (n < 0 || (size_t)n >= size)
    return KEDGE_ERR_TOO_BIG;
  size_t len = (size_t)n;
  char plmn[64] = "";
  /* target-plmn-list: content application/json, an array of PlmnId (TS 29.571 5.4.4.3) */
  if (q->target_mcc && q->target_mnc &&
      kedge_plmn_parse(q->target_mcc, q->target_mnc, &(kedge_plmn_t){{0}, {0}}) == KEDGE_OK)
    snprintf(plmn, sizeof(plmn), "[{\"mcc\":\"%s\",\"mnc\":\"%s\"}]", q->target_mcc, q->target_mnc);
  if (!append(out, size, &len, "target-nf-type", q->target_nf_type) ||
      !append(out, size, &len, "requester-nf-type", requester_nf_type) ||
      !append(out, size, &len, "service-names", q->service_name) ||
      (q->supi && !append(out, size, &len, "supi", q->supi)) ||
      (q->routing_indicator &&
       !append(out, size, &len, "routing-indicator", q->routing_indicator)) ||
      (plmn[0] && !append(out, size, &len, "target-plmn-list", plmn)))
    return KEDGE_ERR_TOO_BIG;
  return KEDGE_OK;
}

/* ---- the answer (TS 29.510 6.2.6.2.2 SearchResult, 6.1.6.2.2 NFProfile, 6.1.6.2.3
 * NFService) ---- */

static const char *str_or_empty(const char *s)
{
  return s ? s : "";
}

static int int_member(const json_t *o, const char *name, int fallback)
{
  json_t *v = json_object_get(o, name);
  return json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 65535
             ? (int)json_integer_value(v)
             : fallback;
}

static const char *first_string(const json_t *o, const char *name)
{
  return json_string_value(json_array_get(json_object_get(o, name), 0));
}

/* A host for a URI: an FQDN or IPv4 as is, IPv6 in brackets; NULL if it could break the URI. */
static bool host_ok(const char *h)
{
  return h && *h && strlen(h) < 200 && !strpbrk(h, "/?#@[] \t\r\n");
}

/* The apiRoot of one NFService (TS 29.501 4.4.1: {scheme}://{fqdn or address}:{port}
 * [/{apiPrefix}]): the first ipEndPoint's address, else the service's or profile's fqdn, else
 * the profile's first address; the port from the ipEndPoint, else 443 (https). */
static bool api_root(const json_t *profile, const json_t *svc, char *out, size_t size)
{
  if (strcmp(str_or_empty(json_string_value(json_object_get(svc, "scheme"))), "https") != 0)
    return false; /* the SBI client speaks TLS only (transport modes: another issue) */
  const json_t *ep = json_array_get(json_object_get(svc, "ipEndPoints"), 0);
  const char *v4 = json_string_value(json_object_get(ep, "ipv4Address"));
  const char *v6 = json_string_value(json_object_get(ep, "ipv6Address"));
  const char *fqdn = json_string_value(json_object_get(svc, "fqdn"));
  if (!fqdn)
    fqdn = json_string_value(json_object_get(profile, "fqdn"));
  int port = int_member(ep, "port", 443);
  const char *host = NULL;
  bool brackets = false;
  if (v4 || v6) {
    host = v4 ? v4 : v6;
    brackets = !v4;
  } else if (fqdn) {
    host = fqdn;
  } else if ((host = first_string(profile, "ipv4Addresses")) == NULL &&
             (host = first_string(profile, "ipv6Addresses")) != NULL) {
    brackets = true;
  }
  if (!host_ok(host) && !(brackets && host && strlen(host) < 64 && !strpbrk(host, "/?#@[] ")))
    return false;
  const char *prefix = json_string_value(json_object_get(svc, "apiPrefix"));
  size_t plen = prefix ? strlen(prefix) : 0;
  while (plen > 0 && prefix[plen - 1] == '/')
    plen--;
  /* apiPrefix: a path such as "/operator/1" (TS 29.501 4.4.1); nothing that leaves the path */
  if (plen && (prefix[0] != '/' || strpbrk(prefix, "?# \t\r\n")))
    return false;
  int n = snprintf(out, size, "https://%s%s%s:%d%.*s", brackets ? "[" : "", host,
                   brackets ? "]" : "", port, (int)plen, prefix ? prefix : "");
  return n > 0 && (size_t)n < size;
}

static bool registered(const json_t *o, const char *member)
{
  const char *s = json_string_value(json_object_get(o, member));
  return !s || strcmp(s, "REGISTERED") == 0; /* nfServiceStatus is optional */
}

static void add_candidate(kedge_nrf_candidates_t *out, const json_t *profile, const json_t *svc)
{
  if (out->n == KEDGE_NRF_CANDIDATES_MAX || !registered(svc, "nfServiceStatus"))
    return;
  kedge_nrf_candidate_t *c = &out->c[out->n];
  memset(c, 0, sizeof(*c));
  if (!api_root(profile, svc, c->api_root, sizeof(c->api_root)))
    return;
  for (size_t i = 0; i < out->n; i++) /* one apiRoot once (nfServices + nfServiceList) */
    if (strcmp(out->c[i].api_root, c->api_root) == 0)
      return;
  snprintf(c->nf_instance_id, sizeof(c->nf_instance_id), "%s",
           str_or_empty(json_string_value(json_object_get(profile, "nfInstanceId"))));
  c->priority = int_member(svc, "priority", int_member(profile, "priority", 65535));
  c->capacity = int_member(svc, "capacity", int_member(profile, "capacity", 0));
  out->n++;
}

static bool offers(const json_t *svc, const char *service_name)
{
  const char *name = json_string_value(json_object_get(svc, "serviceName"));
  return name && strcmp(name, service_name) == 0;
}

kedge_err_t kedge_nrf_search_result_read(const json_t *body, const char *service_name,
                                         int64_t default_validity_ms, kedge_nrf_candidates_t *out,
                                         int64_t *validity_ms)
{
  out->n = 0;
  *validity_ms = default_validity_ms;
  const json_t *list = json_object_get(body, "nfInstances");
  if (!json_is_object(body) || !json_is_array(list))
    return KEDGE_ERR_INVALID_ARG;
  json_t *vp = json_object_get(body, "validityPeriod");
  if (json_is_integer(vp) && json_integer_value(vp) >= 0 && json_integer_value(vp) <= 86400)
    *validity_ms = (int64_t)json_integer_value(vp) * 1000;
  size_t i;
  const json_t *profile;
  json_array_foreach(list, i, profile)
  {
    if (!json_is_object(profile) || !registered(profile, "nfStatus"))
      continue;
    /* Rel-16 nfServiceList (a map by serviceInstanceId); older NRFs the nfServices array */
    const json_t *map = json_object_get(profile, "nfServiceList");
    const json_t *arr = json_object_get(profile, "nfServices");
    const char *key;
    const json_t *svc;
    size_t j;
    if (json_is_object(map)) {
      json_object_foreach((json_t *)map, key, svc) if (offers(svc, service_name))
          add_candidate(out, profile, svc);
    } else if (json_is_array(arr)) {
      json_array_foreach(arr, j, svc) if (offers(svc, service_name))
          add_candidate(out, profile, svc);
    }
  }
  /* insertion sort: stable, at most KEDGE_NRF_CANDIDATES_MAX */
  for (size_t a = 1; a < out->n; a++) {
    kedge_nrf_candidate_t t = out->c[a];
    size_t b = a;
    while (b > 0 &&
           (out->c[b - 1].priority > t.priority ||
            (out->c[b - 1].priority == t.priority && out->c[b - 1].capacity < t.capacity))) {
      out->c[b] = out->c[b - 1];
      b--;
    }
    out->c[b] = t;
  }
  return KEDGE_OK;
}

/* ---- the cache ---- */

kedge_err_t kedge_nrf_disc_new(const kedge_nrf_config_t *cfg, const char *requester_nf_type,
                               kedge_metrics_t *m, kedge_nrf_disc_t **out)
{
  *out = NULL;
  if (!cfg || !cfg->uri || !requester_nf_type)
    return KEDGE_ERR_INVALID_ARG;
  kedge_nrf_disc_t *d = calloc(1, sizeof(*d));
  if (!d || !(d->cache = json_object())) {
    free(d);
    return KEDGE_ERR_NOMEM;
  }
  d->cfg = cfg;
  snprintf(d->requester, sizeof(d->requester), "%s", requester_nf_type);
  pthread_mutex_init(&d->lock, NULL);
  const char *name = "kedge_nrf_discovery_total",
             *help = "NF discoveries: answered by the NRF, from the cache, none found, failed";
  kedge_err_t err = KEDGE_OK;
  if (m && ((err = kedge_metrics_counter(m, name, help, "result=\"ok\"", &d->ok)) ||
            (err = kedge_metrics_counter(m, name, help, "result=\"cached\"", &d->cached)) ||
            (err = kedge_metrics_counter(m, name, help, "result=\"not_found\"", &d->not_found)) ||
            (err = kedge_metrics_counter(m, name, help, "result=\"failed\"", &d->failed)))) {
    kedge_nrf_disc_free(d);
    return err;
  }
  *out = d;
  return KEDGE_OK;
}

void kedge_nrf_disc_free(kedge_nrf_disc_t *d)
{
  if (!d)
    return;
  json_decref(d->cache);
  pthread_mutex_destroy(&d->lock);
  free(d);
}

bool kedge_nrf_disc_cache_get(kedge_nrf_disc_t *d, const char *url, int64_t now_ms,
                              kedge_nrf_candidates_t *out)
{
  bool hit = false;
  pthread_mutex_lock(&d->lock);
  json_t *e = json_object_get(d->cache, url);
  if (e && json_integer_value(json_object_get(e, "exp")) <= now_ms) {
    json_object_del(d->cache, url); /* never past validityPeriod */
  } else if (e) {
    size_t i;
    json_t *c;
    out->n = 0;
    json_array_foreach(json_object_get(e, "c"), i, c)
    {
      if (out->n == KEDGE_NRF_CANDIDATES_MAX)
        break;
      kedge_nrf_candidate_t *k = &out->c[out->n++];
      snprintf(k->api_root, sizeof(k->api_root), "%s", json_string_value(json_array_get(c, 0)));
      snprintf(k->nf_instance_id, sizeof(k->nf_instance_id), "%s",
               json_string_value(json_array_get(c, 1)));
      k->priority = (int)json_integer_value(json_array_get(c, 2));
      k->capacity = (int)json_integer_value(json_array_get(c, 3));
    }
    hit = true;
  }
  pthread_mutex_unlock(&d->lock);
  return hit;
}

/* Room for one more: drop the expired entries, and if none was, the one closest to expiry. */
static void make_room(kedge_nrf_disc_t *d, int64_t now_ms)
{
  const char *key, *soonest = NULL;
  json_t *e;
  void *tmp;
  int64_t soonest_exp = INT64_MAX;
  json_object_foreach_safe(d->cache, tmp, key, e)
  {
    int64_t exp = json_integer_value(json_object_get(e, "exp"));
    if (exp <= now_ms) {
      json_object_del(d->cache, key);
    } else if (exp < soonest_exp) {
      soonest_exp = exp;
      soonest = key;
    }
  }
  if (json_object_size(d->cache) >= d->cfg->discovery_cache_size && soonest)
    json_object_del(d->cache, soonest);
}

kedge_err_t kedge_nrf_disc_cache_put(kedge_nrf_disc_t *d, const char *url,
                                     const kedge_nrf_candidates_t *cands, int64_t expiry_ms)
{
  if (d->cfg->discovery_cache_size == 0)
    return KEDGE_OK;
  json_t *list = json_array();
  for (size_t i = 0; list && i < cands->n; i++) {
    const kedge_nrf_candidate_t *c = &cands->c[i];
    if (json_array_append_new(list, json_pack("[s, s, i, i]", c->api_root, c->nf_instance_id,
                                              c->priority, c->capacity))) {
      json_decref(list);
      return KEDGE_ERR_NOMEM;
    }
  }
  json_t *e = list ? json_pack("{s:I, s:o}", "exp", (json_int_t)expiry_ms, "c", list) : NULL;
  if (!e)
    return KEDGE_ERR_NOMEM;
  pthread_mutex_lock(&d->lock);
  if (!json_object_get(d->cache, url) && json_object_size(d->cache) >= d->cfg->discovery_cache_size)
    make_room(d, kedge_now_ms());
  int rc = json_object_set_new(d->cache, url, e);
  pthread_mutex_unlock(&d->lock);
  return rc ? KEDGE_ERR_NOMEM : KEDGE_OK;
}

/* ---- asking the NRF ---- */

static void call_free(kedge_nrf_disc_call_t *c)
{
  if (c->hit)
    event_free(c->hit);
  free(c);
}

static void from_cache(evutil_socket_t fd, short what, void *arg)
{
  (void)fd;
  (void)what;
  kedge_nrf_disc_call_t *c = arg;
  c->cb(KEDGE_OK, &c->cands, c->arg);
  call_free(c);
}

static void failed(kedge_nrf_disc_call_t *c, kedge_err_t err, const char *why)
{
  kedge_counter_add(err == KEDGE_ERR_NOT_FOUND ? c->disc->not_found : c->disc->failed, 1);
  /* the query names a SUPI at most through its hash: the URL stays out of the line */
  kedge_log_warn("NRF %s: discovery of %s failed: %s", c->disc->cfg->uri, c->service, why);
  c->cb(err, NULL, c->arg);
  call_free(c);
}

static void answered(const kedge_sbi_client_response_t *r, void *arg)
{
  kedge_nrf_disc_call_t *c = arg;
  kedge_nrf_disc_t *d = c->disc;
  c->call = NULL;
  char why[96];
  int64_t validity_ms = 0;
  if (r->err) {
    snprintf(why, sizeof(why), "%s", kedge_strerror(r->err));
    failed(c, r->err == KEDGE_ERR_TIMEOUT ? KEDGE_ERR_TIMEOUT : KEDGE_ERR_UNAVAILABLE, why);
  } else if (r->status == 404) { /* TS 29.510 6.2.3.2.3.1: no such target */
    failed(c, KEDGE_ERR_NOT_FOUND, "the NRF answered 404");
  } else if (r->status != 200 ||
             kedge_nrf_search_result_read(r->json, c->service, d->cfg->discovery_validity_ms,
                                          &c->cands, &validity_ms) != KEDGE_OK) {
    snprintf(why, sizeof(why), "the NRF answered HTTP %ld%s", r->status,
             r->status == 200 ? " without a SearchResult" : "");
    failed(c, KEDGE_ERR_UNAVAILABLE, why);
  } else if (c->cands.n == 0) {
    failed(c, KEDGE_ERR_NOT_FOUND, "no registered producer of the service (https)");
  } else {
    kedge_counter_add(d->ok, 1);
    if (validity_ms > 0)
      kedge_nrf_disc_cache_put(d, c->url, &c->cands, kedge_now_ms() + validity_ms);
    c->cb(KEDGE_OK, &c->cands, c->arg);
    call_free(c);
  }
}

kedge_err_t kedge_nrf_discover(kedge_nrf_disc_t *d, kedge_sbi_client_t *nrf_client,
                               struct event_base *base, const kedge_nrf_query_t *q,
                               kedge_nrf_disc_cb cb, void *arg, kedge_nrf_disc_call_t **call)
{
  if (call)
    *call = NULL;
  if (!d || !nrf_client || !base || !q || !cb || !q->service_name)
    return KEDGE_ERR_INVALID_ARG;
  kedge_nrf_disc_call_t *c = calloc(1, sizeof(*c));
  if (!c)
    return KEDGE_ERR_NOMEM;
  c->disc = d;
  c->cb = cb;
  c->arg = arg;
  snprintf(c->service, sizeof(c->service), "%s", q->service_name);
  kedge_err_t err = kedge_nrf_disc_url(d->cfg->uri, d->requester, q, c->url, sizeof(c->url));
  if (err) {
    free(c);
    return err;
  }
  if (kedge_nrf_disc_cache_get(d, c->url, kedge_now_ms(), &c->cands)) {
    kedge_counter_add(d->cached, 1);
    if (!(c->hit = event_new(base, -1, 0, from_cache, c))) {
      free(c);
      return KEDGE_ERR_NOMEM;
    }
    event_active(c->hit, EV_TIMEOUT, 0);
  } else {
    const kedge_sbi_client_request_t req = {.method = "GET", .url = c->url};
    if ((err = kedge_sbi_client_send(nrf_client, &req, answered, c, &c->call))) {
      free(c);
      return err;
    }
  }
  if (call)
    *call = c;
  return KEDGE_OK;
}

void kedge_nrf_discover_cancel(kedge_nrf_disc_call_t *c)
{
  if (!c)
    return;
  kedge_sbi_client_cancel(c->call);
  call_free(c);
}
