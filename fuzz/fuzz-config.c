/* libFuzzer target for the YAML configuration loader and its getters: whatever the bytes, no
 * crash, no leak, no undefined behaviour; each error is one line. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kedge/config.h"

/* Reads `node` every way a daemon might, then descends into maps and sequences of maps. */
static void read_all(kedge_config_node_t *node, int depth)
{
  const char *s;
  int64_t i;
  uint64_t u;
  bool b;
  const char *const *list;
  size_t n;
  kedge_config_node_t *m;
  kedge_config_string(node, NULL, "d", &s);
  kedge_config_int(node, NULL, 1, -1000, 1000, &i);
  kedge_config_bool(node, NULL, false, &b);
  kedge_config_duration(node, NULL, 0, 0, INT64_MAX, &i);
  kedge_config_size(node, NULL, 0, 0, UINT64_MAX, &u);
  kedge_config_strings(node, NULL, &list, &n);
  char path[128];
  kedge_config_path(node, path, sizeof path);
  if (depth > 40)
    return;
  size_t entries = kedge_config_map_size(node);
  for (size_t k = 0; k < entries; k++) {
    const char *key;
    kedge_config_node_t *v = kedge_config_map_entry(node, k, &key);
    if (v)
      read_all(v, depth + 1);
    if (key && strlen(key) < 64)
      kedge_config_has(node, key);
  }
  kedge_config_node_t *const *items;
  if (kedge_config_maps(node, NULL, &items, &n) == KEDGE_OK)
    for (size_t k = 0; k < n; k++)
      read_all(items[k], depth + 1);
  kedge_config_map(node, NULL, &m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  kedge_config_t *cfg;
  char err[KEDGE_CONFIG_ERR_MAX];
  if (kedge_config_load_buffer("fuzz.yaml", (const char *)data, size, &cfg, err, sizeof err) !=
      KEDGE_OK) {
    if (memchr(err, '\n', strlen(err)))
      __builtin_trap(); /* an error must be exactly one line */
    return 0;
  }
  kedge_config_node_t *root = kedge_config_root(cfg);
  /* Dotted lookups over whatever keys are there, some missing. */
  kedge_config_int(root, "sbi.port", 7777, 0, 65535, NULL);
  kedge_config_node_t *tls;
  kedge_config_map(root, "sbi.tls", &tls);
  kedge_config_require(tls, "cert");
  kedge_config_invalid(root, "a.b", "checked %d", 1);
  read_all(root, 0);
  kedge_config_finish(cfg);
  const char *e = kedge_config_error(cfg);
  if (e && strchr(e, '\n'))
    __builtin_trap();
  kedge_config_free(cfg);
  return 0;
}
