/* Thread-safe counters, gauges and histograms, rendered in the Prometheus text exposition
 * format (version 0.0.4). Updates are lock-free (C11 atomics); creating a series takes a
 * mutex. A series is a metric name plus a fixed label set given as preformatted text
 * (`route="/x",status="200"`): keep label values to a bounded set (route patterns, not raw
 * paths) and build them with kedge_metrics_label(). */
#ifndef KEDGE_METRICS_H
#define KEDGE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KEDGE_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct kedge_metrics kedge_metrics_t;
typedef struct kedge_counter kedge_counter_t;
typedef struct kedge_gauge kedge_gauge_t;
typedef struct kedge_histogram kedge_histogram_t;

kedge_err_t kedge_metrics_new(kedge_metrics_t **out);
void kedge_metrics_free(kedge_metrics_t *m);

/* Finds or creates the series `name{labels}` (labels may be NULL or ""). The pointer stays
 * valid until kedge_metrics_free(). KEDGE_ERR_INVALID_ARG if `name` is not a Prometheus metric
 * name or already has another type. */
kedge_err_t kedge_metrics_counter(kedge_metrics_t *m, const char *name, const char *help,
                                  const char *labels, kedge_counter_t **out);
kedge_err_t kedge_metrics_gauge(kedge_metrics_t *m, const char *name, const char *help,
                                const char *labels, kedge_gauge_t **out);
/* `bounds`: ascending upper bounds (seconds for durations), at most 16; +Inf is implied. */
kedge_err_t kedge_metrics_histogram(kedge_metrics_t *m, const char *name, const char *help,
                                    const char *labels, const double *bounds, size_t n_bounds,
                                    kedge_histogram_t **out);

void kedge_counter_add(kedge_counter_t *c, uint64_t n);
uint64_t kedge_counter_value(const kedge_counter_t *c);
void kedge_gauge_add(kedge_gauge_t *g, int64_t delta);
int64_t kedge_gauge_value(const kedge_gauge_t *g);
void kedge_histogram_observe(kedge_histogram_t *h, double value);
uint64_t kedge_histogram_count(const kedge_histogram_t *h);

/* Appends `key="value"` (with a leading comma when `buf` is not empty) to the NUL-terminated
 * `buf`, escaping \, " and newline as the text format requires. KEDGE_ERR_TOO_BIG if it does
 * not fit. */
kedge_err_t kedge_metrics_label(char *buf, size_t size, const char *key, const char *value);

/* The whole registry in the text format; *text is malloc'ed and NUL-terminated. */
/* Adds, at every render, the standard process metrics (process_cpu_seconds_total,
 * process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds,
 * process_max_fds, process_start_time_seconds, as Prometheus client libraries name them) and
 * kedge_build_info{program,version} 1. The SBI server enables it with the daemon's name. */
kedge_err_t kedge_metrics_enable_process(kedge_metrics_t *m, const char *program);

kedge_err_t kedge_metrics_render(kedge_metrics_t *m, char **text, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
