/* YAML configuration files (docs/config.md).
 * A file is loaded whole into a tree of maps, sequences and scalars that remember their line
 * numbers; daemons then read it with typed getters that take a default. Every problem is
 * reported as one line "FILE:LINE: key.path: problem", e.g.
 *   ausf.yaml:12: sbi.port: must be an integer 0..65535
 * Each getter marks its key as read; kedge_config_finish() then reports the first error a getter
 * met or else the first key nobody read (a misspelt key never goes unnoticed).
 * Kept small and strict on purpose: anchors, aliases, tags and multiple documents are refused,
 * as are duplicate keys, files over KEDGE_CONFIG_FILE_MAX and nesting deeper than
 * KEDGE_CONFIG_DEPTH_MAX. Nothing here aborts on a malformed file. Not thread-safe: load and read
 * at start-up. */
#ifndef KEDGE_CONFIG_H
#define KEDGE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KEDGE_CONFIG_FILE_MAX  (1024 * 1024) /* octets */
#define KEDGE_CONFIG_DEPTH_MAX 32            /* nested maps and sequences */
#define KEDGE_CONFIG_NODES_MAX 16384         /* keys, maps, sequences and scalars in a file */
#define KEDGE_CONFIG_ERR_MAX   512           /* room for one error line */

/* Readers record every problem of a file in one pass (the operator fixes them all at once) and
 * return the first error: KEDGE_CONFIG_KEEP(err, kedge_config_int(...)) runs the call and keeps
 * its result in `err` unless `err` already holds one. */
#define KEDGE_CONFIG_KEEP(err, call)                                                               \
  do {                                                                                             \
    kedge_err_t kedge_keep_ = (call);                                                              \
    if (!(err))                                                                                    \
      (err) = kedge_keep_;                                                                         \
  } while (0)

typedef struct kedge_config kedge_config_t;
/* A map, a sequence or a scalar inside a loaded file; owned by its kedge_config_t. */
typedef struct kedge_config_node kedge_config_node_t;

/* Loads a file (at most KEDGE_CONFIG_FILE_MAX octets). On failure *cfg is NULL and `err` (if
 * not NULL) holds one line such as "ausf.yaml:4: duplicate key sbi.port (first on line 2)".
 * KEDGE_ERR_IO when the file cannot be read, KEDGE_ERR_TOO_BIG, KEDGE_ERR_CONFIG for its
 * content, KEDGE_ERR_NOMEM. An empty file is an empty map. The document must be a map. */
kedge_err_t kedge_config_load_file(const char *path, kedge_config_t **cfg, char *err,
                                   size_t err_size);
/* The same from memory; `name` stands for the file name in messages (tests, fuzzing). */
kedge_err_t kedge_config_load_buffer(const char *name, const char *data, size_t len,
                                     kedge_config_t **cfg, char *err, size_t err_size);
void kedge_config_free(kedge_config_t *cfg);

/* The top-level map. */
kedge_config_node_t *kedge_config_root(kedge_config_t *cfg);
/* The file name given at load. */
const char *kedge_config_name(const kedge_config_t *cfg);

/* Getters. `node` is a map and `key` a key in it, or a dotted path through nested maps
 * ("sbi.tls.cert"); `key` NULL reads `node` itself (a sequence element, a map entry).
 * An absent key, or one with an empty/null value (`key:`, `key: ~`, `key: null`), yields the
 * default and KEDGE_OK. A value of the wrong type or out of range records an error line, sets
 * the output to the default and returns KEDGE_ERR_CONFIG. A NULL `node` yields the default.
 * Integers, booleans, durations and sizes must be plain (unquoted) scalars.
 * Strings returned live as long as the kedge_config_t. */
kedge_err_t kedge_config_string(kedge_config_node_t *node, const char *key, const char *def,
                                const char **out);
/* Decimal integer in min..max ("must be an integer 0..65535"). */
kedge_err_t kedge_config_int(kedge_config_node_t *node, const char *key, int64_t def, int64_t min,
                             int64_t max, int64_t *out);
/* true or false (YAML 1.2; yes/no/on/off are refused, they are too easy to misread). */
kedge_err_t kedge_config_bool(kedge_config_node_t *node, const char *key, bool def, bool *out);
/* Duration in milliseconds: one or more <digits><unit> with unit ms, s, m, h, d ("500ms",
 * "30s", "24h", "1h30m"); "0" alone is zero. Range min_ms..max_ms. */
kedge_err_t kedge_config_duration(kedge_config_node_t *node, const char *key, int64_t def_ms,
                                  int64_t min_ms, int64_t max_ms, int64_t *out_ms);
/* Size in octets: <digits> with an optional unit B, KiB, MiB, GiB (powers of 1024) or kB, MB,
 * GB (powers of 1000) ("1048576", "64KiB", "1 MiB"). Range min..max. */
kedge_err_t kedge_config_size(kedge_config_node_t *node, const char *key, uint64_t def,
                              uint64_t min, uint64_t max, uint64_t *out);
/* A sequence of strings; absent or null gives *count 0 and a NULL-terminated empty array. */
kedge_err_t kedge_config_strings(kedge_config_node_t *node, const char *key,
                                 const char *const **out, size_t *count);
/* A nested map. Absent or null gives an empty map (never NULL, so required keys inside it are
 * still reported with a path and line). */
kedge_err_t kedge_config_map(kedge_config_node_t *node, const char *key, kedge_config_node_t **out);
/* A sequence of maps (e.g. `allowed_consumers: [{name: ..., serving_networks: [...]}]`):
 * items[0..count-1] are maps to read with the getters above. Absent or null gives count 0. */
kedge_err_t kedge_config_maps(kedge_config_node_t *node, const char *key,
                              kedge_config_node_t *const **items, size_t *count);

/* Iterating over a map whose keys are data (names), in file order: the number of entries, and
 * entry i's key and value (marking it read). NULL when `map` is not a map or i is too big. */
size_t kedge_config_map_size(const kedge_config_node_t *map);
kedge_config_node_t *kedge_config_map_entry(kedge_config_node_t *map, size_t i, const char **key);

/* Whether `key` is present with a non-null value (does not mark it read). */
bool kedge_config_has(const kedge_config_node_t *node, const char *key);
/* Records "missing (required)" unless `key` is present with a non-null value. */
kedge_err_t kedge_config_require(kedge_config_node_t *node, const char *key);
/* Records a caller's own finding about `key` (or `node` itself when NULL) in the same format:
 * kedge_config_invalid(map, "supi", "must be imsi-<5 to 15 digits>"). Returns KEDGE_ERR_CONFIG.
 * Never put a secret's value in the text. */
kedge_err_t kedge_config_invalid(kedge_config_node_t *node, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The line (1-based) of `node`, and its dotted path ("allowed_consumers[0].name"). */
int kedge_config_line(const kedge_config_node_t *node);
void kedge_config_path(const kedge_config_node_t *node, char *out, size_t size);

/* The one call at the end: KEDGE_ERR_CONFIG with the first error recorded by a getter, else
 * with the first key never read ("ausf.yaml:7: sbi.prot: unknown key"), else KEDGE_OK. */
kedge_err_t kedge_config_finish(kedge_config_t *cfg);
/* The first error line recorded (no newline), or NULL. */
const char *kedge_config_error(const kedge_config_t *cfg);

#ifdef __cplusplus
}
#endif
#endif
