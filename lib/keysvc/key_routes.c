/* The key sources' routing table (SPEC.md 2: "the RID lets a NEF or ECS route to the AUSF group
 * that holds the key"): the key ID's realm names the home network, its RID the row, as the
 * SUCI's routing indicator does for AUSF/UDM selection (TS 23.501 6.3.4). A static table; a
 * static URI always wins over discovery (SPEC.md 7). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kedge/key_client.h"

/* https://host[:port][/prefix]: the key APIs carry keys, so never plain HTTP (NOTE 3 of the
 * solution for the ECS-NEF link; SPEC.md 3 for the SBI). Trailing '/' dropped. */
static kedge_err_t read_uris(kedge_config_node_t *item, const char *key, const char *const *uris,
                             size_t n, kedge_key_route_t *row)
{
  if (n == 0)
    return kedge_config_invalid(item, key,
                                "list the apiRoots of the key source (https://...), or "
                                "give discover: true");
  row->uris = calloc(n, sizeof(*row->uris));
  row->not_before_ms = calloc(n, sizeof(*row->not_before_ms));
  if (!row->uris || !row->not_before_ms)
    return KEDGE_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(uris[i]);
    while (len > 8 && uris[i][len - 1] == '/')
      len--;
    if (strncmp(uris[i], "https://", 8) != 0 || len <= 8 || len > KEDGE_KEY_URI_MAX ||
        strpbrk(uris[i], " \t\r\n?#"))
      return kedge_config_invalid(item, key,
                                  "each must be https://host[:port] (key APIs carry "
                                  "keys: TLS only), without query or fragment");
    row->uris[i] = strndup(uris[i], len);
    if (!row->uris[i])
      return KEDGE_ERR_NOMEM;
    row->n_uris = i + 1;
  }
  return KEDGE_OK;
}

static kedge_err_t read_rids(kedge_config_node_t *item, unsigned need, kedge_key_route_t *row)
{
  kedge_err_t err = kedge_config_strings(item, "rids", &row->rids, &row->n_rids);
  if (err)
    return err;
  if (row->n_rids == 0) {
    if (need & KEDGE_KEY_ROUTE_NEED_RIDS)
      return kedge_config_invalid(item, "rids",
                                  "list the routing indicators served (exact "
                                  "digit strings) or [\"*\"]");
    row->any_rid = true;
    return KEDGE_OK;
  }
  for (size_t i = 0; i < row->n_rids; i++) {
    if (!strcmp(row->rids[i], "*")) {
      if (row->n_rids != 1)
        return kedge_config_invalid(item, "rids", "\"*\" must be alone");
      row->any_rid = true;
    } else if (kedge_rid_check(row->rids[i]) != KEDGE_OK) {
      return kedge_config_invalid(item, "rids", "each must be 1 to 4 decimal digits, or \"*\"");
    }
  }
  return KEDGE_OK;
}

static kedge_err_t read_row(kedge_key_routes_t *routes, kedge_config_node_t *item, unsigned need,
                            size_t index, kedge_key_route_t *row)
{
  kedge_err_t err = KEDGE_OK;
  const char *name = NULL, *mcc = NULL, *mnc = NULL;
  const char *const *uris = NULL;
  size_t n_uris = 0;
  KEDGE_CONFIG_KEEP(err, kedge_config_string(item, "name", NULL, &name));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(item, "mcc", NULL, &mcc));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(item, "mnc", NULL, &mnc));
  KEDGE_CONFIG_KEEP(err, read_rids(item, need, row));
  KEDGE_CONFIG_KEEP(err, kedge_config_strings(item, "uris", &uris, &n_uris));
  KEDGE_CONFIG_KEEP(err, kedge_config_bool(item, "discover", false, &row->discover));
  if (err)
    return err;
  if (row->discover && n_uris)
    return kedge_config_invalid(item, "discover",
                                "give uris or discover: true, not both (a "
                                "static URI always wins, SPEC.md 7)");
  if (!name && (need & KEDGE_KEY_ROUTE_NEED_NAME))
    return kedge_config_require(item, "name");
  /* the name goes into audit lines and metric labels: one harmless token */
  if (name && (!*name || strlen(name) > 64 || strpbrk(name, " \t\r\n\"\\=")))
    return kedge_config_invalid(item, "name",
                                "must be 1 to 64 characters without spaces, "
                                "quotes, '\\' or '='");
  for (size_t i = 0; name && i < index; i++)
    if (!strcmp(routes->rows[i].name, name))
      return kedge_config_invalid(item, "name", "used twice");
  if (!mcc && !mnc && !(need & KEDGE_KEY_ROUTE_NEED_HOME)) {
    row->any_home = true;
  } else if (!mcc || !mnc || kedge_plmn_parse(mcc, mnc, &row->home) != KEDGE_OK) {
    return kedge_config_invalid(item, mcc ? "mnc" : "mcc",
                                "give the home network as mcc (3 digits) and mnc (2 or 3)");
  }
  if (name) {
    row->name = strdup(name);
  } else {
    char label[32];
    snprintf(label, sizeof(label), "route%zu", index + 1);
    row->name = strdup(label);
  }
  if (!row->name)
    return KEDGE_ERR_NOMEM;
  return row->discover ? KEDGE_OK : read_uris(item, "uris", uris, n_uris, row);
}

kedge_err_t kedge_key_routes_read(kedge_config_node_t *sec, const char *key, const char *shorthand,
                                  unsigned need, kedge_key_routes_t *routes)
{
  kedge_err_t err = KEDGE_OK;
  memset(routes, 0, sizeof(*routes));
  const char *uri = NULL;
  kedge_config_node_t *const *items = NULL;
  size_t n = 0;
  if (shorthand)
    KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, shorthand, NULL, &uri));
  KEDGE_CONFIG_KEEP(err, kedge_config_maps(sec, key, &items, &n));
  /* SPEC.md 7: a key source is never reached over h2c; the key says so in one line rather
   * than as "unknown key" (the ECS's and the NEF's key source, the AUSF's AAnFs) */
  const char *transport = NULL;
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "transport", "tls-mutual", &transport));
  if (!err && transport && strcmp(transport, "tls-mutual") != 0)
    return kedge_config_invalid(sec, "transport",
                                "%s refused: the key APIs carry Kedge, K_ECS "
                                "or K_AF, so only tls-mutual (SPEC.md 7)",
                                transport);
  if (err)
    return err;
  if (uri && n)
    return kedge_config_invalid(sec, shorthand, "give either %s or %s, not both", shorthand, key);
  if (!uri && !n)
    return kedge_config_invalid(sec, key, "missing: list the key source's routes {%s%suris}%s%s",
                                need & KEDGE_KEY_ROUTE_NEED_NAME ? "name, " : "",
                                need & KEDGE_KEY_ROUTE_NEED_HOME ? "mcc, mnc, rids, " : "",
                                shorthand ? " or give " : "", shorthand ? shorthand : "");
  size_t count = uri ? 1 : n;
  routes->rows = calloc(count, sizeof(*routes->rows));
  if (!routes->rows)
    return KEDGE_ERR_NOMEM;
  routes->n = count;
  if (uri) {
    /* one row: every home network, every RID, one apiRoot */
    kedge_key_route_t *row = &routes->rows[0];
    row->any_home = row->any_rid = true;
    row->name = strdup("default");
    if (!row->name)
      return KEDGE_ERR_NOMEM;
    if (strcmp(uri, "discover") == 0) { /* SPEC.md 7: found at the NRF by RID and home PLMN */
      row->discover = true;
      return KEDGE_OK;
    }
    const char *one[1] = {uri};
    return read_uris(sec, shorthand, one, 1, row);
  }
  for (size_t i = 0; i < n && !err; i++)
    err = read_row(routes, items[i], need, i, &routes->rows[i]);
  return err;
}

void kedge_key_routes_free(kedge_key_routes_t *routes)
{
  if (!routes)
    return;
  for (size_t i = 0; i < routes->n; i++) {
    kedge_key_route_t *row = &routes->rows[i];
    for (size_t j = 0; j < row->n_uris; j++)
      free(row->uris[j]);
    free(row->uris);
    free((void *)row->not_before_ms);
    free((char *)row->name);
  }
  free(routes->rows);
  memset(routes, 0, sizeof(*routes));
}

bool kedge_key_routes_discover(const kedge_key_routes_t *routes)
{
  for (size_t i = 0; routes && i < routes->n; i++)
    if (routes->rows[i].discover)
      return true;
  return false;
}

kedge_err_t kedge_key_routes_check_nrf(kedge_config_node_t *root, kedge_config_node_t *sec,
                                       const char *key, const kedge_key_routes_t *routes)
{
  const char *nrf_uri = NULL;
  kedge_err_t err = kedge_config_string(root, "nrf.uri", NULL, &nrf_uri);
  if (err || nrf_uri || !kedge_key_routes_discover(routes))
    return err;
  return kedge_config_invalid(sec, key, "a route that says discover needs nrf.uri (SPEC.md 7)");
}

const kedge_key_route_t *kedge_key_route_find(const kedge_key_routes_t *routes,
                                              const kedge_plmn_t *home, const char *rid)
{
  for (size_t i = 0; routes && home && rid && i < routes->n; i++) {
    const kedge_key_route_t *row = &routes->rows[i];
    if (!row->any_home && (strcmp(row->home.mcc, home->mcc) || strcmp(row->home.mnc, home->mnc)))
      continue;
    if (row->any_rid)
      return row;
    for (size_t j = 0; j < row->n_rids; j++)
      if (strcmp(row->rids[j], rid) == 0) /* digit strings: "012" is not "12" */
        return row;
  }
  return NULL;
}
