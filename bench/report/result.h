/* bench/report/result.h: a compiled benchmark's result file (docs/performance.md, "Result
 * files"), written with jansson when KEDGE_BENCH_OUT names a directory: one run's values, in
 * $KEDGE_BENCH_OUT/<bench>.json. scripts/bench.sh runs the program once per run, each into a
 * directory of its own, and merges the runs (bench/report/kbench.py merge). Without
 * KEDGE_BENCH_OUT every call here does nothing: the program only prints, as before.
 * Header-only (static functions), for bench/<name>/ programs only. */
#ifndef KEDGE_BENCH_RESULT_H
#define KEDGE_BENCH_RESULT_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

typedef struct bench_result {
  json_t *doc; /* NULL: no KEDGE_BENCH_OUT */
  char path[1024];
} bench_result_t;

/* Target kinds of a figure (the schema's "target" member); BENCH_NO_TARGET: none. */
typedef enum {
  BENCH_NO_TARGET,
  BENCH_RATIO_MAX,
  BENCH_RATIO_MIN,
  BENCH_MAX,
  BENCH_MIN
} bench_target_t;

static inline void bench_result_init(bench_result_t *r, const char *bench)
{
  const char *dir = getenv("KEDGE_BENCH_OUT");
  r->doc = NULL;
  if (!dir || !*dir)
    return;
  if (snprintf(r->path, sizeof(r->path), "%s/%s.json", dir, bench) >= (int)sizeof(r->path)) {
    fprintf(stderr, "bench-%s: KEDGE_BENCH_OUT too long; no result file\n", bench);
    return;
  }
  const char *quick = getenv("KEDGE_BENCH_QUICK");
  r->doc = json_pack("{s:s, s:b, s:[], s:[], s:[]}", "bench", bench, "quick",
                     quick && !strcmp(quick, "1"), "figures", "curves", "notes");
}

/* One figure of this run: value (and the peer's, when peer_name is not NULL). */
static inline void bench_figure(bench_result_t *r, const char *id, const char *label,
                                const char *unit, bool higher_is_better, double value,
                                const char *peer_name, double peer_value, bench_target_t kind,
                                double target)
{
  if (!r->doc)
    return;
  json_t *fig = json_pack("{s:s, s:s, s:s, s:s, s:[f]}", "id", id, "label", label, "unit", unit,
                          "better", higher_is_better ? "higher" : "lower", "values", value);
  if (!fig)
    return;
  if (peer_name)
    json_object_set_new(fig, "peer",
                        json_pack("{s:s, s:[f]}", "name", peer_name, "values", peer_value));
  static const char *const kinds[] = {NULL, "ratio_max", "ratio_min", "max", "min"};
  if (kind != BENCH_NO_TARGET)
    json_object_set_new(fig, "target", json_pack("{s:f}", kinds[kind], target));
  json_array_append_new(json_object_get(r->doc, "figures"), fig);
}

/* One point (x, y) of series `series` of curve `id`. */
static inline void bench_point(bench_result_t *r, const char *id, const char *title,
                               const char *x_label, const char *y_label, bool log_x,
                               const char *series, double x, double y)
{
  if (!r->doc)
    return;
  json_t *curves = json_object_get(r->doc, "curves"), *curve = NULL, *s = NULL, *c;
  size_t i;
  json_array_foreach(curves, i, c) if (!strcmp(json_string_value(json_object_get(c, "id")), id))
      curve = c;
  if (!curve) {
    curve = json_pack("{s:s, s:s, s:s, s:s, s:b, s:[]}", "id", id, "title", title, "x", x_label,
                      "y", y_label, "log_x", log_x, "series");
    json_array_append_new(curves, curve);
  }
  json_array_foreach(json_object_get(curve, "series"), i,
                     c) if (!strcmp(json_string_value(json_object_get(c, "name")), series)) s = c;
  if (!s) {
    s = json_pack("{s:s, s:[]}", "name", series, "points");
    json_array_append_new(json_object_get(curve, "series"), s);
  }
  json_array_append_new(json_object_get(s, "points"), json_pack("[f, f]", x, y));
}

static inline void bench_note(bench_result_t *r, const char *text)
{
  if (r->doc)
    json_array_append_new(json_object_get(r->doc, "notes"), json_string(text));
}

/* Writes the file; 0 or -1 (said on stderr). */
static inline int bench_result_write(bench_result_t *r)
{
  if (!r->doc)
    return 0;
  int rc = json_dump_file(r->doc, r->path, JSON_INDENT(1)) ? -1 : 0;
  if (rc)
    fprintf(stderr, "bench: cannot write %s\n", r->path);
  json_decref(r->doc);
  r->doc = NULL;
  return rc;
}

#endif
