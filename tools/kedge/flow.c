/* The message flow of a `kedge demo` run: trace lines in, trace.json and flow.svg out (flow.h). */
#include "flow.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kedge/problem.h"

/* A trace line is at most ~600 bytes as lib/core/trace.c writes it; longer ones are not ours. */
#define LINE_MAX_BYTES 4096
#define FLOW_MAX_T_US  (INT64_MAX / 4) /* some 73,000 years after the epoch */
#define FLOW_MAX_MS    1e9             /* some 11 days */

typedef struct item {
  flow_event_t e;
  size_t seq; /* order of arrival: ties in time keep it */
} item_t;

struct flow {
  item_t *items;
  size_t n, cap;
};

kedge_err_t flow_new(flow_t **out)
{
  if (!out)
    return KEDGE_ERR_INVALID_ARG;
  *out = calloc(1, sizeof(**out));
  return *out ? KEDGE_OK : KEDGE_ERR_NOMEM;
}

void flow_free(flow_t *f)
{
  if (!f)
    return;
  free(f->items);
  free(f);
}

size_t flow_count(const flow_t *f)
{
  return f ? f->n : 0;
}

/* Length of the well-formed UTF-8 sequence at s (1-4), or 0 when it is not one. Surrogates,
 * overlong forms and U+FFFE/U+FFFF are refused: XML 1.0 (section 2.2) does not allow them. */
static size_t utf8_seq(const unsigned char *s)
{
  if (s[0] < 0x80)
    return 1;
  size_t len;
  unsigned cp;
  if ((s[0] & 0xE0) == 0xC0) {
    len = 2;
    cp = s[0] & 0x1F;
  } else if ((s[0] & 0xF0) == 0xE0) {
    len = 3;
    cp = s[0] & 0x0F;
  } else if ((s[0] & 0xF8) == 0xF0) {
    len = 4;
    cp = s[0] & 0x07;
  } else {
    return 0;
  }
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  static const unsigned min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE ||
      cp == 0xFFFF)
    return 0;
  return len;
}

/* Copies display text into a fixed field: bytes that are not well-formed UTF-8 become '?',
 * control characters a space, and the cut falls between characters. */
static void copy_text(char *dst, size_t size, const char *src)
{
  size_t o = 0;
  const unsigned char *s = (const unsigned char *)(src ? src : "");
  while (*s) {
    size_t len = utf8_seq(s);
    if (len == 0 || *s < 0x20 || *s == 0x7F) {
      if (o + 1 >= size)
        break;
      dst[o++] = (len == 0) ? '?' : ' ';
      s++;
      continue;
    }
    if (o + len >= size)
      break;
    memcpy(dst + o, s, len);
    o += len;
    s += len;
  }
  dst[o] = '\0';
}

static size_t utf8_chars(const char *s)
{
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

kedge_err_t flow_add(flow_t *f, const flow_event_t *e)
{
  if (!f || !e)
    return KEDGE_ERR_INVALID_ARG;
  if (f->n >= FLOW_MAX_EVENTS)
    return KEDGE_ERR_TOO_BIG;
  if (f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 64;
    item_t *items = realloc(f->items, cap * sizeof(*items));
    if (!items)
      return KEDGE_ERR_NOMEM;
    f->items = items;
    f->cap = cap;
  }
  item_t *it = &f->items[f->n];
  memset(it, 0, sizeof(*it));
  /* clamped so that start + duration and spans between events cannot overflow */
  it->e.t_us = e->t_us < 0 ? 0 : e->t_us > FLOW_MAX_T_US ? FLOW_MAX_T_US : e->t_us;
  it->e.ms = !isfinite(e->ms) || e->ms < 0 ? 0 : e->ms > FLOW_MAX_MS ? FLOW_MAX_MS : e->ms;
  it->e.status = e->status;
  copy_text(it->e.from, sizeof(it->e.from), e->from);
  copy_text(it->e.to, sizeof(it->e.to), e->to);
  copy_text(it->e.msg, sizeof(it->e.msg), e->msg);
  copy_text(it->e.note, sizeof(it->e.note), e->note);
  copy_text(it->e.step, sizeof(it->e.step), e->step);
  it->seq = f->n++;
  return KEDGE_OK;
}

/* A string member that fits its field (roles and step labels are never cut: a cut one would
 * name another lifeline); missing optional members leave the field empty. */
static bool get_string(json_t *o, const char *key, char *dst, size_t size, bool required,
                       bool may_cut)
{
  json_t *v = json_object_get(o, key);
  if (!v)
    return !required;
  if (!json_is_string(v))
    return false;
  if (!may_cut && json_string_length(v) >= size)
    return false;
  copy_text(dst, size, json_string_value(v));
  return true;
}

/* One trace line (kedge/trace.h): {"t","ms","from","to","msg"} and optional status, note, step. */
static bool parse_line(const char *line, flow_event_t *e)
{
  json_error_t jerr;
  json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
  bool ok = false;
  memset(e, 0, sizeof(*e));
  if (!json_is_object(o))
    goto done;
  json_t *t = json_object_get(o, "t"), *ms = json_object_get(o, "ms");
  json_t *status = json_object_get(o, "status");
  if (!json_is_integer(t) || json_integer_value(t) < 0 || !json_is_number(ms) ||
      json_number_value(ms) < 0)
    goto done;
  if (status && (!json_is_integer(status) || json_integer_value(status) < 0 ||
                 json_integer_value(status) > 999))
    goto done;
  e->t_us = (int64_t)json_integer_value(t);
  e->ms = json_number_value(ms);
  e->status = status ? (int)json_integer_value(status) : 0;
  ok = get_string(o, "from", e->from, sizeof(e->from), true, false) &&
       get_string(o, "to", e->to, sizeof(e->to), true, false) &&
       get_string(o, "msg", e->msg, sizeof(e->msg), true, true) &&
       get_string(o, "note", e->note, sizeof(e->note), false, true) &&
       get_string(o, "step", e->step, sizeof(e->step), false, false);
done:
  json_decref(o);
  return ok;
}

static bool blank(const char *s)
{
  for (; *s; s++)
    if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
      return false;
  return true;
}

kedge_err_t flow_load_trace(flow_t *f, const char *path, size_t *skipped)
{
  if (!f || !path)
    return KEDGE_ERR_INVALID_ARG;
  size_t bad = 0;
  FILE *fp = fopen(path, "r");
  if (!fp)
    return errno == ENOENT ? KEDGE_ERR_NOT_FOUND : KEDGE_ERR_IO;
  char line[LINE_MAX_BYTES];
  kedge_err_t err = KEDGE_OK;
  while (err == KEDGE_OK && fgets(line, sizeof(line), fp)) {
    size_t len = strlen(line);
    if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
      /* longer than any trace line: skip the rest of it */
      int c;
      while ((c = fgetc(fp)) != EOF && c != '\n')
        ;
      bad++;
      continue;
    }
    if (blank(line))
      continue;
    flow_event_t e;
    if (!parse_line(line, &e)) {
      bad++;
      continue;
    }
    err = flow_add(f, &e);
  }
  if (err == KEDGE_OK && ferror(fp))
    err = KEDGE_ERR_IO;
  fclose(fp);
  if (skipped)
    *skipped = bad;
  return err;
}

static int by_time(const void *a, const void *b)
{
  const item_t *x = a, *y = b;
  if (x->e.t_us != y->e.t_us)
    return x->e.t_us < y->e.t_us ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void sort_events(flow_t *f)
{
  if (f->n > 1)
    qsort(f->items, f->n, sizeof(*f->items), by_time);
}

/* Closes fp; on any write error the partial file is removed. */
static kedge_err_t finish_file(FILE *fp, const char *path)
{
  bool failed = ferror(fp) != 0;
  failed |= fclose(fp) != 0;
  if (failed) {
    remove(path);
    return KEDGE_ERR_IO;
  }
  return KEDGE_OK;
}

kedge_err_t flow_write_json(flow_t *f, const char *path)
{
  if (!f || !path)
    return KEDGE_ERR_INVALID_ARG;
  sort_events(f);
  FILE *fp = fopen(path, "w");
  if (!fp)
    return KEDGE_ERR_IO;
  kedge_err_t err = KEDGE_OK;
  fputs("[", fp);
  for (size_t i = 0; i < f->n && err == KEDGE_OK; i++) {
    const flow_event_t *e = &f->items[i].e;
    json_t *o = json_object();
    if (!o) {
      err = KEDGE_ERR_NOMEM;
      break;
    }
    /* ms with microsecond resolution, as the trace has it */
    int rc = json_object_set_new(o, "t", json_integer((json_int_t)e->t_us));
    rc |= json_object_set_new(o, "ms", json_real(round(e->ms * 1000.0) / 1000.0));
    rc |= json_object_set_new(o, "from", json_string(e->from));
    rc |= json_object_set_new(o, "to", json_string(e->to));
    rc |= json_object_set_new(o, "msg", json_string(e->msg));
    if (e->status)
      rc |= json_object_set_new(o, "status", json_integer(e->status));
    if (e->note[0])
      rc |= json_object_set_new(o, "note", json_string(e->note));
    if (e->step[0])
      rc |= json_object_set_new(o, "step", json_string(e->step));
    char *s =
        rc ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(o);
    if (!s) {
      err = KEDGE_ERR_NOMEM;
      break;
    }
    fprintf(fp, "%s\n  %s", i ? "," : "", s);
    free(s);
  }
  fputs(f->n ? "\n]\n" : "]\n", fp);
  kedge_err_t ferr = finish_file(fp, path);
  if (err != KEDGE_OK)
    remove(path);
  return err != KEDGE_OK ? err : ferr;
}

/* ---- labels ---- */

#define LABEL_MAX_CHARS 46 /* a label longer than this is shortened */

/* Appends src to out (bounded, cut between characters). */
static void append(char *out, size_t size, const char *src)
{
  size_t o = strlen(out);
  if (o + 1 < size)
    copy_text(out + o, size - o, src);
}

/* Cuts s to at most max characters, the last one an ellipsis. */
static void ellipsize(char *s, size_t size, size_t max)
{
  if (utf8_chars(s) <= max || max < 1)
    return;
  size_t chars = 0, i = 0;
  for (; s[i]; i++) {
    if (((unsigned char)s[i] & 0xC0) != 0x80 && ++chars == max)
      break;
  }
  if (i + 4 <= size) {
    memcpy(s + i, "\xE2\x80\xA6", 4); /* U+2026 and the NUL */
  } else {
    s[i] = '\0';
  }
}

static bool is_version(const char *seg, size_t len)
{
  if (len < 2 || seg[0] != 'v')
    return false;
  for (size_t i = 1; i < len; i++)
    if (seg[i] < '0' || seg[i] > '9')
      return false;
  return true;
}

void flow_short_label(const char *msg, char *out, size_t size)
{
  if (!out || size == 0)
    return;
  out[0] = '\0';
  if (!msg)
    return;
  /* "METHOD /path": TS 29.501 4.4.1's {apiRoot}/<apiName>/<apiVersion>/<resource>... */
  size_t mlen = strspn(msg, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
  const char *path = msg + mlen + 1;
  bool sbi = mlen > 0 && msg[mlen] == ' ' && (path[0] == '/' || !strncmp(path, "...", 3));
  if (!sbi) {
    copy_text(out, size, msg);
    ellipsize(out, size, LABEL_MAX_CHARS + 10);
    return;
  }
  size_t plen = strcspn(path, "?# ");
  const char *seg[32];
  size_t seglen[32], nseg = 0;
  for (size_t i = 0; i < plen && nseg < 32;) {
    while (i < plen && path[i] == '/')
      i++;
    size_t start = i;
    while (i < plen && path[i] != '/')
      i++;
    if (i > start) {
      seg[nseg] = path + start;
      seglen[nseg++] = i - start;
    }
  }
  char method[16], part[256];
  snprintf(method, sizeof(method), "%.*s", (int)(mlen < 15 ? mlen : 15), msg);
  if (nseg == 0) {
    copy_text(out, size, msg);
    return;
  }
  bool elided = seglen[0] == 3 && !strncmp(seg[0], "...", 3);
  size_t first = (!elided && nseg > 1 && is_version(seg[1], seglen[1])) ? 2 : 1;
  snprintf(out, size, "%s ", method);
  if (elided) {
    append(out, size, "\xE2\x80\xA6");
  } else {
    snprintf(part, sizeof(part), "%.*s", (int)seglen[0], seg[0]);
    append(out, size, part);
  }
  for (size_t i = first; i < nseg; i++) {
    snprintf(part, sizeof(part), "/%.*s", (int)seglen[i], seg[i]);
    append(out, size, part);
  }
  if (utf8_chars(out) > LABEL_MAX_CHARS && nseg > first) {
    /* keep the service and the operation (the last segment): "POST nausf-auth …/retrieve" */
    snprintf(out, size, "%s ", method);
    if (!elided) {
      snprintf(part, sizeof(part), "%.*s ", (int)seglen[0], seg[0]);
      append(out, size, part);
    }
    snprintf(part, sizeof(part), "\xE2\x80\xA6/%.*s", (int)seglen[nseg - 1], seg[nseg - 1]);
    append(out, size, part);
  }
  ellipsize(out, size, LABEL_MAX_CHARS + 10);
}

/* ---- the sequence diagram ---- */

#define FONT     "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif"
#define C_TEXT   "#0f172a"
#define C_MUTED  "#64748b"
#define C_ARROW  "#1e293b"
#define C_RETURN "#475569"
#define C_FAIL   "#dc2626"
#define C_LIFE   "#94a3b8"

#define MARGIN_STEP 64 /* the left margin holding step labels */
#define TITLE_Y     30
#define BOX_TOP     72
#define BOX_H       34
#define ROW_H       36
#define FIRST_ROW   (BOX_TOP + BOX_H + 40)
#define BAR_W       10
#define MIN_GAP     130

static const char *const known_roles[] = {"UE", "EEC", "ECS", "NEF", "AUSF", "UDM"};
#define N_KNOWN (sizeof(known_roles) / sizeof(known_roles[0]))

enum kind { ARROW, NOTE, MARK };
enum row_kind { ROW_REQ, ROW_RET, ROW_NOTE, ROW_MARK };

typedef struct ev_layout {
  const flow_event_t *e;
  enum kind kind;
  int a, b;         /* column of from and to (NOTE: both the one lifeline; MARK: -1) */
  bool ret, failed; /* an answer arrow; drawn in red */
  size_t req_row, ret_row;
  int depth;       /* activation bars open on b when this one opened */
  char label[320]; /* request arrow or note */
  char answer[200];
} ev_layout_t;

typedef struct row {
  int64_t t;
  enum row_kind kind;
  size_t ev;
} row_t;

typedef struct role {
  char name[16];
  int rank;
  size_t first;
  double box_w;
} role_t;

typedef struct layout {
  ev_layout_t *ev;
  size_t n_ev;
  row_t *rows;
  size_t n_rows;
  role_t *roles;
  size_t n_roles;
  double *x;
  double width; /* what the lifelines need */
} layout_t;

/* Advance widths of DejaVu Sans (the first face asked for, and wider than Helvetica or Arial)
 * for ASCII 0x20-0x7E in 1/1000 em, read from its hmtx table: labels are measured, not guessed,
 * so arrows are as long as their labels need and no longer. */
static const unsigned short dejavu_sans_w[95] = {
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361,  318, 337, 636, 636, 636,
    636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632,
    575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635,  611, 732, 684, 989, 685,
    611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352,  635, 634, 278, 278, 579,
    278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592,  525, 636, 337, 636, 838,
};

/* Estimated width of text at px pixels; other characters count as 0.9 em, bold as 1.1 times
 * the regular width (DejaVu Sans Bold is at most that much wider). */
static double text_w(const char *s, double px)
{
  double em = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p >= 0x20 && *p < 0x7F)
      em += dejavu_sans_w[*p - 0x20] / 1000.0;
    else if ((*p & 0xC0) != 0x80)
      em += 0.9;
  }
  return em * px;
}

static bool is_alnum(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Place of a role among UE, EEC, ECS, NEF, AUSF, UDM, two ranks each: "ECS", then its
 * variants ("ECS-ext", "ECS bound") beside it; other roles after them all. */
static int role_rank(const char *name)
{
  for (size_t k = 0; k < N_KNOWN; k++) {
    size_t len = strlen(known_roles[k]);
    if (!strncmp(name, known_roles[k], len) && !is_alnum(name[len]))
      return 2 * (int)k + (name[len] != '\0');
  }
  return 2 * (int)N_KNOWN;
}

static int role_cmp(const void *a, const void *b)
{
  const role_t *x = a, *y = b;
  if (x->rank != y->rank)
    return x->rank - y->rank;
  return x->first < y->first ? -1 : x->first > y->first;
}

static int role_index(const layout_t *l, const char *name)
{
  for (size_t i = 0; i < l->n_roles; i++)
    if (!strcmp(l->roles[i].name, name))
      return (int)i;
  return -1;
}

static void add_role(layout_t *l, const char *name, size_t first)
{
  if (!name[0] || role_index(l, name) >= 0)
    return;
  role_t *r = &l->roles[l->n_roles++];
  snprintf(r->name, sizeof(r->name), "%s", name);
  r->rank = role_rank(name);
  r->first = first;
  r->box_w = fmax(88, 1.1 * text_w(name, 14) + 32);
}

/* Rows in time order. An answer comes where its exchange ended, so a call made while serving
 * another is drawn inside it. At one instant answers come first, the inner (later) one first. */
static int row_cmp(const void *a, const void *b)
{
  const row_t *x = a, *y = b;
  if (x->t != y->t)
    return x->t < y->t ? -1 : 1;
  bool xr = x->kind == ROW_RET, yr = y->kind == ROW_RET;
  if (xr != yr)
    return xr ? -1 : 1;
  if (xr)
    return x->ev > y->ev ? -1 : x->ev < y->ev;
  return x->ev < y->ev ? -1 : x->ev > y->ev;
}

static void format_ms(double ms, char *out, size_t size)
{
  if (ms >= 1000)
    snprintf(out, size, "%.2f s", ms / 1000);
  else if (ms >= 100)
    snprintf(out, size, "%.0f ms", ms);
  else
    snprintf(out, size, "%.1f ms", ms);
}

static void label_event(ev_layout_t *v)
{
  const flow_event_t *e = v->e;
  char shortmsg[256], dur[32];
  flow_short_label(e->msg, shortmsg, sizeof(shortmsg));
  format_ms(e->ms, dur, sizeof(dur));
  if (v->kind == MARK) {
    snprintf(v->label, sizeof(v->label), "%s", shortmsg);
    return;
  }
  /* the measured time goes with the answer (it is the time until the answer came), or with
   * the message when there is none */
  snprintf(v->label, sizeof(v->label), "%s%s", v->failed && !v->ret ? "\xE2\x9C\x97 " : "",
           shortmsg);
  if (!v->ret) {
    append(v->label, sizeof(v->label), " \xC2\xB7 ");
    append(v->label, sizeof(v->label), dur);
  }
  if (v->kind == NOTE && e->note[0]) {
    append(v->label, sizeof(v->label), " \xC2\xB7 ");
    append(v->label, sizeof(v->label), e->note);
  }
  if (!v->ret)
    return;
  v->answer[0] = '\0';
  if (v->failed)
    append(v->answer, sizeof(v->answer), "\xE2\x9C\x97 ");
  if (e->status) {
    char st[48];
    const char *reason = kedge_http_reason_phrase(e->status);
    snprintf(st, sizeof(st), "%d%s%s", e->status, reason[0] ? " " : "", reason);
    append(v->answer, sizeof(v->answer), st);
  }
  if (e->note[0]) {
    if (e->status)
      append(v->answer, sizeof(v->answer), " \xC2\xB7 ");
    append(v->answer, sizeof(v->answer), e->note);
  }
  append(v->answer, sizeof(v->answer), " \xC2\xB7 ");
  append(v->answer, sizeof(v->answer), dur);
}

/* Widens the gaps between lifelines until every label fits over its arrow: spans of one gap
 * first, then wider ones share out what they still lack. */
static kedge_err_t place_columns(layout_t *l)
{
  size_t n = l->n_roles;
  if (n == 0)
    return KEDGE_OK;
  double *gap = calloc(n, sizeof(*gap));
  double left_need = l->roles[0].box_w / 2, right_need = l->roles[n - 1].box_w / 2;
  if (!gap)
    return KEDGE_ERR_NOMEM;
  for (size_t i = 0; i + 1 < n; i++)
    gap[i] = fmax(MIN_GAP, (l->roles[i].box_w + l->roles[i + 1].box_w) / 2 + 24);
  for (int span = 1; span < (int)n; span++) {
    for (size_t k = 0; k < l->n_ev; k++) {
      const ev_layout_t *v = &l->ev[k];
      if (v->kind != ARROW || abs(v->a - v->b) != span)
        continue;
      int lo = v->a < v->b ? v->a : v->b;
      double need = fmax(text_w(v->label, 12), v->ret ? text_w(v->answer, 12) : 0) + 44;
      double have = 0;
      for (int i = lo; i < lo + span; i++)
        have += gap[i];
      for (int i = lo; need > have && i < lo + span; i++)
        gap[i] += (need - have) / span;
    }
  }
  for (size_t k = 0; k < l->n_ev; k++) {
    const ev_layout_t *v = &l->ev[k];
    if (v->kind != NOTE)
      continue;
    double half = text_w(v->label, 12) / 2 + 12;
    if (v->a == 0)
      left_need = fmax(left_need, half);
    if (v->a == (int)n - 1)
      right_need = fmax(right_need, half);
  }
  l->x[0] = MARGIN_STEP + left_need + 12;
  for (size_t i = 1; i < n; i++)
    l->x[i] = l->x[i - 1] + gap[i - 1];
  l->width = l->x[n - 1] + right_need + 24;
  free(gap);
  return KEDGE_OK;
}

static void layout_free(layout_t *l)
{
  free(l->ev);
  free(l->rows);
  free(l->roles);
  free(l->x);
}

static kedge_err_t layout_build(layout_t *l, const flow_t *f, size_t shown)
{
  memset(l, 0, sizeof(*l));
  l->n_ev = shown;
  l->ev = calloc(shown ? shown : 1, sizeof(*l->ev));
  l->rows = calloc(shown ? 2 * shown : 1, sizeof(*l->rows));
  l->roles = calloc(shown ? 2 * shown : 1, sizeof(*l->roles));
  l->x = calloc(shown ? 2 * shown : 1, sizeof(*l->x));
  if (!l->ev || !l->rows || !l->roles || !l->x)
    return KEDGE_ERR_NOMEM;

  for (size_t k = 0; k < shown; k++) {
    add_role(l, f->items[k].e.from, k);
    add_role(l, f->items[k].e.to, k);
  }
  qsort(l->roles, l->n_roles, sizeof(*l->roles), role_cmp);

  for (size_t k = 0; k < shown; k++) {
    ev_layout_t *v = &l->ev[k];
    const flow_event_t *e = &f->items[k].e;
    v->e = e;
    v->a = role_index(l, e->from);
    v->b = role_index(l, e->to);
    v->failed = e->status >= 400 || e->note[0];
    if (v->a < 0 && v->b < 0) {
      v->kind = MARK;
    } else if (v->a < 0 || v->b < 0 || v->a == v->b) {
      v->kind = NOTE;
      v->a = v->b = v->a >= 0 ? v->a : v->b;
    } else {
      v->kind = ARROW;
      v->ret = e->status != 0 || e->note[0];
    }
    label_event(v);
    row_t *r = &l->rows[l->n_rows++];
    r->t = e->t_us;
    r->kind = v->kind == ARROW ? ROW_REQ : v->kind == NOTE ? ROW_NOTE : ROW_MARK;
    r->ev = k;
    if (v->ret) {
      r = &l->rows[l->n_rows++];
      r->t = e->t_us + (int64_t)llround(e->ms * 1000.0);
      r->kind = ROW_RET;
      r->ev = k;
    }
  }
  qsort(l->rows, l->n_rows, sizeof(*l->rows), row_cmp);
  for (size_t i = 0; i < l->n_rows; i++) {
    if (l->rows[i].kind == ROW_RET)
      l->ev[l->rows[i].ev].ret_row = i;
    else
      l->ev[l->rows[i].ev].req_row = i;
  }
  /* activation bars on the callee: one opened while another is open on it sits beside it */
  for (size_t k = 0; k < shown; k++) {
    ev_layout_t *v = &l->ev[k];
    if (!v->ret)
      continue;
    for (size_t j = 0; j < shown; j++) {
      const ev_layout_t *w = &l->ev[j];
      if (j != k && w->ret && w->b == v->b && w->req_row < v->req_row && w->ret_row > v->req_row)
        v->depth++;
    }
    if (v->depth > 3)
      v->depth = 3;
  }
  return place_columns(l);
}

/* XML character data or attribute value (XML 1.0 section 2.4): the five entities. The text was
 * made well-formed UTF-8 without control characters when it was added. */
static void put_text(FILE *fp, const char *s)
{
  for (; *s; s++) {
    switch (*s) {
    case '<':
      fputs("&lt;", fp);
      break;
    case '>':
      fputs("&gt;", fp);
      break;
    case '&':
      fputs("&amp;", fp);
      break;
    case '"':
      fputs("&quot;", fp);
      break;
    case '\'':
      fputs("&apos;", fp);
      break;
    default:
      fputc(*s, fp);
    }
  }
}

/* A label over an arrow, on a white ground so lifelines it crosses do not run through it. */
static void put_label(FILE *fp, double cx, double y, const char *text, const char *color,
                      bool italic)
{
  double w = text_w(text, 12);
  fprintf(fp,
          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" fill=\"#ffffff\" "
          "fill-opacity=\"0.9\"/>\n",
          cx - w / 2 - 3, y - 12.5, w + 6);
  fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"%s\"%s>", cx, y, color,
          italic ? " font-style=\"italic\"" : "");
  put_text(fp, text);
  fputs("</text>\n", fp);
}

static double row_y(size_t row)
{
  return FIRST_ROW + (double)row * ROW_H;
}

static void put_role_box(FILE *fp, const layout_t *l, size_t i, double top)
{
  const role_t *r = &l->roles[i];
  /* device side, edge side, core side */
  const char *fill = "#e2e8f0", *stroke = "#475569";
  int k = r->rank / 2;
  if (k <= 1) {
    fill = "#dbeafe";
    stroke = "#2563eb";
  } else if (k <= 3) {
    fill = "#dcfce7";
    stroke = "#16a34a";
  } else if (k <= 5) {
    fill = "#fef3c7";
    stroke = "#d97706";
  }
  fprintf(fp,
          "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" rx=\"6\" fill=\"%s\" "
          "stroke=\"%s\" stroke-width=\"1.5\"/>\n",
          l->x[i] - r->box_w / 2, top, r->box_w, BOX_H, fill, stroke);
  fprintf(fp,
          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"14\" "
          "font-weight=\"bold\" fill=\"" C_TEXT "\">",
          l->x[i], top + BOX_H / 2.0 + 5);
  put_text(fp, r->name);
  fputs("</text>\n", fp);
}

static void put_arrow(FILE *fp, const layout_t *l, const ev_layout_t *v, bool answer)
{
  int from = answer ? v->b : v->a, to = answer ? v->a : v->b;
  double callee_x = l->x[v->b] + (v->ret ? v->depth * 4.0 : 0);
  double x1 = from == v->b ? callee_x : l->x[from];
  double x2 = to == v->b ? callee_x : l->x[to];
  double dir = x2 > x1 ? 1 : -1;
  x1 += dir * (BAR_W / 2.0);
  x2 -= dir * (BAR_W / 2.0 + 1);
  double y = row_y(answer ? v->ret_row : v->req_row);
  const char *color = v->failed ? C_FAIL : answer ? C_RETURN : C_ARROW;
  fprintf(fp,
          "<line class=\"%s%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
          "stroke-width=\"1.5\"%s marker-end=\"url(#%s)\"/>\n",
          answer ? "answer" : "request", v->failed ? " failed" : "", x1, y, x2, y, color,
          answer ? " stroke-dasharray=\"6,4\"" : "",
          answer ? (v->failed ? "open-failed" : "open") : (v->failed ? "head-failed" : "head"));
  put_label(fp, (x1 + x2) / 2, y - 7, answer ? v->answer : v->label,
            v->failed ? C_FAIL
            : answer  ? C_RETURN
                      : C_TEXT,
            false);
}

static void put_note(FILE *fp, const layout_t *l, const ev_layout_t *v)
{
  double w = text_w(v->label, 12) + 16, y = row_y(v->req_row);
  fprintf(fp,
          "<rect class=\"note%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"24\" rx=\"3\" "
          "fill=\"%s\" stroke=\"%s\"/>\n",
          v->failed ? " failed" : "", l->x[v->a] - w / 2, y - 16, w,
          v->failed ? "#fee2e2" : "#fefce8", v->failed ? C_FAIL : "#ca8a04");
  fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"%s\">", l->x[v->a], y,
          v->failed ? C_FAIL : C_TEXT);
  put_text(fp, v->label);
  fputs("</text>\n", fp);
}

static void put_mark(FILE *fp, double width, const ev_layout_t *v)
{
  double y = row_y(v->req_row) - 4;
  double x1 = MARGIN_STEP + 4, x2 = width - 12;
  fprintf(fp,
          "<line class=\"mark\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#cbd5e1\" "
          "stroke-width=\"1\"/>\n",
          x1, y, x2, y);
  put_label(fp, (x1 + x2) / 2, y + 4, v->label, C_MUTED, true);
}

static void put_step(FILE *fp, const char *step, size_t row)
{
  double y = row_y(row);
  fprintf(fp,
          "<rect class=\"step\" x=\"10\" y=\"%.1f\" width=\"%d\" height=\"20\" rx=\"10\" "
          "fill=\"#1e3a8a\"/>\n",
          y - 14, MARGIN_STEP - 20);
  fprintf(fp,
          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" "
          "font-weight=\"bold\" fill=\"#ffffff\">",
          10 + (MARGIN_STEP - 20) / 2.0, y);
  put_text(fp, step);
  fputs("</text>\n", fp);
}

static void put_defs(FILE *fp)
{
  static const struct {
    const char *id, *color;
    bool open;
  } heads[] = {
      {"head", C_ARROW, false},
      {"head-failed", C_FAIL, false},
      {"open", C_RETURN, true},
      {"open-failed", C_FAIL, true},
  };
  fputs("<defs>\n", fp);
  for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
    fprintf(fp,
            "<marker id=\"%s\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"10\" "
            "markerHeight=\"10\" markerUnits=\"userSpaceOnUse\" orient=\"auto\">",
            heads[i].id);
    if (heads[i].open)
      fprintf(fp, "<path d=\"M1,1 L9,5 L1,9\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"/>",
              heads[i].color);
    else
      fprintf(fp, "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"%s\"/>", heads[i].color);
    fputs("</marker>\n", fp);
  }
  fputs("</defs>\n", fp);
}

static void write_svg(FILE *fp, const layout_t *l, const char *title, size_t more)
{
  size_t exchanges = 0, failed = 0;
  int64_t t0 = INT64_MAX, t1 = INT64_MIN;
  for (size_t k = 0; k < l->n_ev; k++) {
    const ev_layout_t *v = &l->ev[k];
    if (v->kind != ARROW)
      continue;
    exchanges++;
    failed += v->failed;
    int64_t end = v->e->t_us + (int64_t)llround(v->e->ms * 1000.0);
    t0 = v->e->t_us < t0 ? v->e->t_us : t0;
    t1 = end > t1 ? end : t1;
  }
  char span[32] = "0 ms", subtitle[160];
  if (exchanges)
    format_ms((double)(t1 - t0) / 1000.0, span, sizeof(span));
  snprintf(subtitle, sizeof(subtitle),
           "%zu exchange%s, %zu failed, over %s \xC2\xB7 one row per message in time order "
           "(not to scale)",
           exchanges, exchanges == 1 ? "" : "s", failed, span);
  double width = fmax(l->width, fmax(text_w(title, 18) + 40, text_w(subtitle, 12) + 40));
  width = fmax(width, 640); /* the legend */
  double bottom_top = FIRST_ROW + (double)(l->n_rows ? l->n_rows - 1 : 0) * ROW_H + 30;
  double height = bottom_top + BOX_H + 28 + (more ? 22 : 0) + 16;

  fprintf(fp,
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" "
          "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"" FONT "\" font-size=\"12\">\n",
          width, height, width, height);
  fputs("<title>", fp);
  put_text(fp, title);
  fputs("</title>\n", fp);
  put_defs(fp);
  fprintf(fp, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", width, height);
  fprintf(fp, "<text x=\"20\" y=\"%d\" font-size=\"18\" font-weight=\"bold\" fill=\"" C_TEXT "\">",
          TITLE_Y);
  put_text(fp, title);
  fputs("</text>\n", fp);
  fprintf(fp, "<text x=\"20\" y=\"%d\" fill=\"" C_MUTED "\">", TITLE_Y + 22);
  put_text(fp, subtitle);
  fputs("</text>\n", fp);

  /* lifelines, then the activation bars on them, then the boxes that name them */
  for (size_t i = 0; i < l->n_roles; i++)
    fprintf(
        fp,
        "<line class=\"lifeline\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"" C_LIFE
        "\" stroke-width=\"1\" stroke-dasharray=\"4,4\"/>\n",
        l->x[i], BOX_TOP + BOX_H, l->x[i], bottom_top);
  for (size_t k = 0; k < l->n_ev; k++) {
    const ev_layout_t *v = &l->ev[k];
    if (!v->ret)
      continue;
    double y1 = row_y(v->req_row), y2 = row_y(v->ret_row);
    fprintf(fp,
            "<rect class=\"active\" x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" "
            "fill=\"%s\" stroke=\"%s\"/>\n",
            l->x[v->b] + v->depth * 4.0 - BAR_W / 2.0, y1, BAR_W, y2 - y1,
            v->failed ? "#fee2e2" : "#f1f5f9", v->failed ? C_FAIL : C_LIFE);
  }
  for (size_t i = 0; i < l->n_roles; i++) {
    put_role_box(fp, l, i, BOX_TOP);
    put_role_box(fp, l, i, bottom_top);
  }

  const char *last_step = "";
  for (size_t r = 0; r < l->n_rows; r++) {
    const row_t *row = &l->rows[r];
    const ev_layout_t *v = &l->ev[row->ev];
    switch (row->kind) {
    case ROW_REQ:
      put_arrow(fp, l, v, false);
      break;
    case ROW_RET:
      put_arrow(fp, l, v, true);
      break;
    case ROW_NOTE:
      put_note(fp, l, v);
      break;
    case ROW_MARK:
      put_mark(fp, width, v);
      break;
    }
    /* a step's label once, where the step starts */
    if (row->kind != ROW_RET && v->e->step[0] && strcmp(v->e->step, last_step)) {
      put_step(fp, v->e->step, r);
      last_step = v->e->step;
    }
  }

  double y = bottom_top + BOX_H + 28;
  if (more) {
    fprintf(fp, "<text class=\"more\" x=\"20\" y=\"%.1f\" fill=\"" C_TEXT "\">", y);
    fprintf(fp, "\xE2\x80\xA6 %zu more event%s (trace.json has them all)</text>\n", more,
            more == 1 ? "" : "s");
    y += 22;
  }
  /* legend */
  static const struct {
    const char *color, *marker, *dash, *text;
  } legend[] = {
      {C_ARROW, "head", "", "request"},
      {C_RETURN, "open", " stroke-dasharray=\"6,4\"", "answer \xC2\xB7 time until it came"},
      {C_FAIL, "head-failed", "", "\xE2\x9C\x97 failed (status 400 or more, or an error)"},
  };
  double x = 20;
  for (size_t i = 0; i < sizeof(legend) / sizeof(legend[0]); i++) {
    fprintf(fp,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
            "stroke-width=\"1.5\"%s marker-end=\"url(#%s)\"/>\n",
            x, y - 4, x + 30, y - 4, legend[i].color, legend[i].dash, legend[i].marker);
    fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">%s</text>\n", x + 38, y,
            i == 2 ? C_FAIL : C_MUTED, legend[i].text);
    x += 38 + text_w(legend[i].text, 12) + 28;
  }
  fputs("</svg>\n", fp);
}

kedge_err_t flow_write_svg(flow_t *f, const char *title, const char *path)
{
  if (!f || !path)
    return KEDGE_ERR_INVALID_ARG;
  char safe_title[256];
  copy_text(safe_title, sizeof(safe_title), title ? title : "kedge message flow");
  sort_events(f);
  size_t shown = f->n < FLOW_SVG_MAX_EVENTS ? f->n : FLOW_SVG_MAX_EVENTS;
  layout_t l;
  kedge_err_t err = layout_build(&l, f, shown);
  if (err != KEDGE_OK) {
    layout_free(&l);
    return err;
  }
  FILE *fp = fopen(path, "w");
  if (!fp) {
    layout_free(&l);
    return KEDGE_ERR_IO;
  }
  write_svg(fp, &l, safe_title, f->n - shown);
  layout_free(&l);
  return finish_file(fp, path);
}
