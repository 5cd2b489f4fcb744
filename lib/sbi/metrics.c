/* Metrics registry: families (name, help, type) holding series (label set + atomic values),
 * rendered in the Prometheus text exposition format 0.0.4. */
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kedge/metrics.h"

#ifndef KEDGE_VERSION
#define KEDGE_VERSION "unknown"
#endif

#define MAX_BOUNDS 16
#define MAX_NAME   128
#define MAX_LABELS 512

typedef enum { TYPE_COUNTER, TYPE_GAUGE, TYPE_HISTOGRAM } metric_type_t;

struct kedge_counter {
  _Atomic uint64_t value;
};
struct kedge_gauge {
  _Atomic int64_t value;
};
struct kedge_histogram {
  size_t n_bounds;
  double bounds[MAX_BOUNDS];
  _Atomic uint64_t buckets[MAX_BOUNDS + 1]; /* per bucket, not cumulative; last is +Inf */
  _Atomic double sum;
};

typedef struct series {
  struct series *next;
  char *labels;
  union {
    struct kedge_counter counter;
    struct kedge_gauge gauge;
    struct kedge_histogram histogram;
  } u;
} series_t;

typedef struct family {
  struct family *next;
  char *name;
  char *help;
  metric_type_t type;
  series_t *series, **series_tail;
} family_t;

struct kedge_metrics {
  pthread_mutex_t lock;
  family_t *families, **families_tail;
  char *program; /* kedge_metrics_enable_process(): process_* and kedge_build_info */
};

kedge_err_t kedge_metrics_new(kedge_metrics_t **out)
{
  if (!out)
    return KEDGE_ERR_INVALID_ARG;
  kedge_metrics_t *m = calloc(1, sizeof(*m));
  if (!m)
    return KEDGE_ERR_NOMEM;
  pthread_mutex_init(&m->lock, NULL);
  m->families_tail = &m->families;
  *out = m;
  return KEDGE_OK;
}

void kedge_metrics_free(kedge_metrics_t *m)
{
  if (!m)
    return;
  family_t *f = m->families;
  while (f) {
    family_t *fn = f->next;
    series_t *s = f->series;
    while (s) {
      series_t *sn = s->next;
      free(s->labels);
      free(s);
      s = sn;
    }
    free(f->name);
    free(f->help);
    free(f);
    f = fn;
  }
  pthread_mutex_destroy(&m->lock);
  free(m->program);
  free(m);
}

/* Prometheus data model: [a-zA-Z_:][a-zA-Z0-9_:]* */
static bool valid_name(const char *name)
{
  size_t len = name ? strlen(name) : 0;
  if (len == 0 || len > MAX_NAME)
    return false;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)name[i];
    if (!(isalpha(c) || c == '_' || c == ':' || (i > 0 && isdigit(c))))
      return false;
  }
  return true;
}

static series_t *find_or_add(kedge_metrics_t *m, const char *name, const char *help,
                             const char *labels, metric_type_t type, const double *bounds,
                             size_t n_bounds)
{
  if (!m || !valid_name(name))
    return NULL;
  if (!labels)
    labels = "";
  if (strlen(labels) > MAX_LABELS)
    return NULL;
  series_t *result = NULL;
  pthread_mutex_lock(&m->lock);
  family_t *f = m->families;
  while (f && strcmp(f->name, name) != 0)
    f = f->next;
  if (f && f->type != type)
    goto out;
  if (!f) {
    f = calloc(1, sizeof(*f));
    if (!f)
      goto out;
    f->name = strdup(name);
    f->help = strdup(help ? help : "");
    if (!f->name || !f->help) {
      free(f->name);
      free(f->help);
      free(f);
      goto out;
    }
    f->type = type;
    f->series_tail = &f->series;
    *m->families_tail = f;
    m->families_tail = &f->next;
  }
  for (series_t *s = f->series; s; s = s->next) {
    if (strcmp(s->labels, labels) == 0) {
      result = s;
      goto out;
    }
  }
  series_t *s = calloc(1, sizeof(*s));
  if (!s)
    goto out;
  s->labels = strdup(labels);
  if (!s->labels) {
    free(s);
    goto out;
  }
  if (type == TYPE_HISTOGRAM) {
    memcpy(s->u.histogram.bounds, bounds, n_bounds * sizeof(*bounds));
    s->u.histogram.n_bounds = n_bounds;
  }
  *f->series_tail = s;
  f->series_tail = &s->next;
  result = s;
out:
  pthread_mutex_unlock(&m->lock);
  return result;
}

kedge_err_t kedge_metrics_counter(kedge_metrics_t *m, const char *name, const char *help,
                                  const char *labels, kedge_counter_t **out)
{
  series_t *s = find_or_add(m, name, help, labels, TYPE_COUNTER, NULL, 0);
  if (!s || !out)
    return KEDGE_ERR_INVALID_ARG;
  *out = &s->u.counter;
  return KEDGE_OK;
}

kedge_err_t kedge_metrics_gauge(kedge_metrics_t *m, const char *name, const char *help,
                                const char *labels, kedge_gauge_t **out)
{
  series_t *s = find_or_add(m, name, help, labels, TYPE_GAUGE, NULL, 0);
  if (!s || !out)
    return KEDGE_ERR_INVALID_ARG;
  *out = &s->u.gauge;
  return KEDGE_OK;
}

kedge_err_t kedge_metrics_histogram(kedge_metrics_t *m, const char *name, const char *help,
                                    const char *labels, const double *bounds, size_t n_bounds,
                                    kedge_histogram_t **out)
{
  if (!out || !bounds || n_bounds == 0 || n_bounds > MAX_BOUNDS)
    return KEDGE_ERR_INVALID_ARG;
  for (size_t i = 1; i < n_bounds; i++)
    if (!(bounds[i] > bounds[i - 1]))
      return KEDGE_ERR_INVALID_ARG;
  series_t *s = find_or_add(m, name, help, labels, TYPE_HISTOGRAM, bounds, n_bounds);
  if (!s)
    return KEDGE_ERR_INVALID_ARG;
  *out = &s->u.histogram;
  return KEDGE_OK;
}

void kedge_counter_add(kedge_counter_t *c, uint64_t n)
{
  if (c)
    atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

uint64_t kedge_counter_value(const kedge_counter_t *c)
{
  return c ? atomic_load_explicit(&c->value, memory_order_relaxed) : 0;
}

void kedge_gauge_add(kedge_gauge_t *g, int64_t delta)
{
  if (g)
    atomic_fetch_add_explicit(&g->value, delta, memory_order_relaxed);
}

int64_t kedge_gauge_value(const kedge_gauge_t *g)
{
  return g ? atomic_load_explicit(&g->value, memory_order_relaxed) : 0;
}

void kedge_histogram_observe(kedge_histogram_t *h, double value)
{
  if (!h || isnan(value))
    return;
  size_t i = 0;
  while (i < h->n_bounds && value > h->bounds[i])
    i++;
  atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
  double old = atomic_load_explicit(&h->sum, memory_order_relaxed);
  while (!atomic_compare_exchange_weak_explicit(&h->sum, &old, old + value, memory_order_relaxed,
                                                memory_order_relaxed)) {
  }
}

uint64_t kedge_histogram_count(const kedge_histogram_t *h)
{
  uint64_t n = 0;
  if (!h)
    return 0;
  for (size_t i = 0; i <= MAX_BOUNDS; i++)
    n += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
  return n;
}

kedge_err_t kedge_metrics_label(char *buf, size_t size, const char *key, const char *value)
{
  if (!buf || size == 0 || !valid_name(key) || !value)
    return KEDGE_ERR_INVALID_ARG;
  size_t len = strnlen(buf, size);
  if (len == size)
    return KEDGE_ERR_INVALID_ARG;
  size_t start = len;
#define PUT(ch)                                                                                    \
  do {                                                                                             \
    if (len + 1 >= size) {                                                                         \
      buf[start] = '\0';                                                                           \
      return KEDGE_ERR_TOO_BIG;                                                                    \
    }                                                                                              \
    buf[len++] = (ch);                                                                             \
  } while (0)
  if (start > 0)
    PUT(',');
  for (const char *k = key; *k; k++)
    PUT(*k);
  PUT('=');
  PUT('"');
  for (const char *v = value; *v; v++) {
    if (*v == '\\' || *v == '"') {
      PUT('\\');
      PUT(*v);
    } else if (*v == '\n') {
      PUT('\\');
      PUT('n');
    } else {
      PUT(*v);
    }
  }
  PUT('"');
#undef PUT
  buf[len] = '\0';
  return KEDGE_OK;
}

/* A growable text buffer for rendering. */
typedef struct text {
  char *data;
  size_t len, cap;
  bool failed;
} text_t;

static void text_printf(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_printf(text_t *t, const char *fmt, ...)
{
  if (t->failed)
    return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->data + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
      t->failed = true;
      return;
    }
    if ((size_t)n < t->cap - t->len) {
      t->len += (size_t)n;
      return;
    }
    size_t cap = t->cap * 2 + (size_t)n + 1;
    char *p = realloc(t->data, cap);
    if (!p) {
      t->failed = true;
      return;
    }
    t->data = p;
    t->cap = cap;
  }
}

/* `{labels}` or `{labels,extra}` or `{extra}` or nothing. */
static void text_labels(text_t *t, const char *labels, const char *extra)
{
  bool has = labels && *labels;
  bool has_extra = extra && *extra;
  if (!has && !has_extra)
    return;
  text_printf(t, "{%s%s%s}", has ? labels : "", has && has_extra ? "," : "",
              has_extra ? extra : "");
}

static void render_histogram(text_t *t, const char *name, const series_t *s)
{
  const kedge_histogram_t *h = &s->u.histogram;
  uint64_t cumulative = 0;
  char le[48];
  for (size_t i = 0; i < h->n_bounds; i++) {
    cumulative += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
    snprintf(le, sizeof(le), "le=\"%g\"", h->bounds[i]);
    text_printf(t, "%s_bucket", name);
    text_labels(t, s->labels, le);
    text_printf(t, " %llu\n", (unsigned long long)cumulative);
  }
  for (size_t i = h->n_bounds; i <= MAX_BOUNDS; i++)
    cumulative += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
  text_printf(t, "%s_bucket", name);
  text_labels(t, s->labels, "le=\"+Inf\"");
  text_printf(t, " %llu\n", (unsigned long long)cumulative);
  text_printf(t, "%s_sum", name);
  text_labels(t, s->labels, NULL);
  text_printf(t, " %.9g\n", atomic_load_explicit(&h->sum, memory_order_relaxed));
  text_printf(t, "%s_count", name);
  text_labels(t, s->labels, NULL);
  text_printf(t, " %llu\n", (unsigned long long)cumulative);
}

/* The process collector every Prometheus client library offers (same names and meanings, so
 * the usual dashboards work), from /proc/self: CPU time, resident and virtual memory, open and
 * maximum file descriptors, start time. */
static void render_process(text_t *t, const char *program)
{
  long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
  char buf[1024];
  unsigned long long utime = 0, stime = 0, start = 0, vsize = 0;
  long long rss = 0;
  FILE *f = fopen("/proc/self/stat", "r");
  bool stat_ok = false;
  if (f) {
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* after "(comm)": state is field 3; utime 14, stime 15, starttime 22, vsize 23, rss 24 */
    const char *p = strrchr(buf, ')');
    stat_ok = p && sscanf(p + 2,
                          "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d "
                          "%*d %*d %*d %*d %llu %llu %lld",
                          &utime, &stime, &start, &vsize, &rss) == 5;
  }
  double boot = 0;
  f = fopen("/proc/stat", "r");
  while (f && fgets(buf, sizeof(buf), f))
    if (sscanf(buf, "btime %lf", &boot) == 1)
      break;
  if (f)
    fclose(f);
  unsigned fds = 0;
  DIR *d = opendir("/proc/self/fd");
  for (struct dirent *e; d && (e = readdir(d));)
    if (e->d_name[0] != '.')
      fds++;
  if (d) {
    closedir(d);
    fds--; /* the directory's own descriptor */
  }
  struct rlimit rl;
  if (stat_ok && ticks > 0) {
    text_printf(t,
                "# HELP process_cpu_seconds_total Total user and system CPU time spent in "
                "seconds.\n# TYPE process_cpu_seconds_total counter\n"
                "process_cpu_seconds_total %.2f\n",
                (double)(utime + stime) / (double)ticks);
    text_printf(t,
                "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                "# TYPE process_resident_memory_bytes gauge\n"
                "process_resident_memory_bytes %lld\n",
                rss * (long long)page);
    text_printf(t,
                "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
                "# TYPE process_virtual_memory_bytes gauge\n"
                "process_virtual_memory_bytes %llu\n",
                vsize);
    if (boot > 0)
      text_printf(t,
                  "# HELP process_start_time_seconds Start time of the process since unix "
                  "epoch in seconds.\n# TYPE process_start_time_seconds gauge\n"
                  "process_start_time_seconds %.2f\n",
                  boot + (double)start / (double)ticks);
  }
  if (d) /* counted above */
    text_printf(t,
                "# HELP process_open_fds Number of open file descriptors.\n"
                "# TYPE process_open_fds gauge\nprocess_open_fds %u\n",
                fds);
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    text_printf(t,
                "# HELP process_max_fds Maximum number of open file descriptors.\n"
                "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n",
                (unsigned long long)rl.rlim_cur);
  char labels[256] = "";
  kedge_metrics_label(labels, sizeof(labels), "program", program);
  kedge_metrics_label(labels, sizeof(labels), "version", KEDGE_VERSION);
  text_printf(t, "# HELP kedge_build_info The program and kedge version; always 1.\n"
                 "# TYPE kedge_build_info gauge\nkedge_build_info");
  text_labels(t, labels, NULL);
  text_printf(t, " 1\n");
}

kedge_err_t kedge_metrics_enable_process(kedge_metrics_t *m, const char *program)
{
  if (!m || !program)
    return KEDGE_ERR_INVALID_ARG;
  char *copy = strdup(program);
  if (!copy)
    return KEDGE_ERR_NOMEM;
  pthread_mutex_lock(&m->lock);
  free(m->program);
  m->program = copy;
  pthread_mutex_unlock(&m->lock);
  return KEDGE_OK;
}

kedge_err_t kedge_metrics_render(kedge_metrics_t *m, char **text, size_t *len)
{
  if (!m || !text)
    return KEDGE_ERR_INVALID_ARG;
  text_t t = {.data = malloc(4096), .cap = 4096};
  if (!t.data)
    return KEDGE_ERR_NOMEM;
  t.data[0] = '\0';
  static const char *const type_names[] = {"counter", "gauge", "histogram"};
  pthread_mutex_lock(&m->lock);
  for (const family_t *f = m->families; f; f = f->next) {
    text_printf(&t, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, type_names[f->type]);
    for (const series_t *s = f->series; s; s = s->next) {
      switch (f->type) {
      case TYPE_COUNTER:
        text_printf(&t, "%s", f->name);
        text_labels(&t, s->labels, NULL);
        text_printf(&t, " %llu\n", (unsigned long long)kedge_counter_value(&s->u.counter));
        break;
      case TYPE_GAUGE:
        text_printf(&t, "%s", f->name);
        text_labels(&t, s->labels, NULL);
        text_printf(&t, " %lld\n", (long long)kedge_gauge_value(&s->u.gauge));
        break;
      case TYPE_HISTOGRAM:
        render_histogram(&t, f->name, s);
        break;
      }
    }
  }
  if (m->program)
    render_process(&t, m->program);
  pthread_mutex_unlock(&m->lock);
  if (t.failed) {
    free(t.data);
    return KEDGE_ERR_NOMEM;
  }
  *text = t.data;
  if (len)
    *len = t.len;
  return KEDGE_OK;
}
