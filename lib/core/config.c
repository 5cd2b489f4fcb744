/* YAML configuration: libyaml's event parser builds a small tree; typed getters read it.
 * Why events and not libyaml's document loader: the events show anchors, aliases, tags and
 * document boundaries before anything is built, so they are refused at their line, and the
 * depth and node-count limits apply while parsing rather than after. */
#include "kedge/config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <yaml.h>

enum node_type { NODE_SCALAR, NODE_MAP, NODE_SEQ };

struct kedge_config_node {
  enum node_type type;
  int line;    /* 1-based line of the value */
  bool used;   /* read by a getter (map entries, sequence items) */
  bool plain;  /* scalar written without quotes */
  bool null;   /* plain "", "~", "null": means "not set" */
  char *value; /* scalar text, NUL-terminated */
  char *key;   /* key in the parent map (NULL for sequence items and the root) */
  int key_line;
  size_t index; /* position in the parent sequence */
  struct kedge_config_node *parent;
  struct kedge_config_node **items; /* map values (each with its key) or sequence items */
  size_t count, cap;
  const char **strings; /* cache for kedge_config_strings */
  kedge_config_t *cfg;
};

struct kedge_config {
  char *name;
  kedge_config_node_t *root;
  char error[KEDGE_CONFIG_ERR_MAX];
  bool failed;
  size_t nodes;
  kedge_config_node_t **extra; /* empty maps made up for absent keys */
  size_t extra_count;
};

/* ---- error lines ---- */

/* Control characters from the file (a quoted key may hold "\n") must not break the
 * one-line format. */
static void flatten(char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      *s = '?';
}

static void node_path(const kedge_config_node_t *n, char *out, size_t size)
{
  if (size == 0)
    return;
  out[0] = '\0';
  if (!n || !n->parent)
    return; /* the root */
  node_path(n->parent, out, size);
  size_t len = strlen(out);
  if (len + 1 >= size)
    return;
  if (n->key)
    snprintf(out + len, size - len, "%s%s", len ? "." : "", n->key);
  else
    snprintf(out + len, size - len, "[%zu]", n->index);
}

static void vrecord(kedge_config_t *cfg, int line, const char *path, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static void vrecord(kedge_config_t *cfg, int line, const char *path, const char *fmt, va_list ap)
{
  if (cfg->failed)
    return; /* keep the first: later errors are often consequences of it */
  cfg->failed = true;
  char *e = cfg->error;
  size_t size = sizeof cfg->error;
  int n;
  if (line > 0)
    n = snprintf(e, size, "%s:%d: ", cfg->name, line);
  else
    n = snprintf(e, size, "%s: ", cfg->name);
  if (n > 0 && (size_t)n < size && path && *path) {
    int m = snprintf(e + n, size - (size_t)n, "%s: ", path);
    n = m > 0 ? n + m : n;
  }
  if (n > 0 && (size_t)n < size)
    vsnprintf(e + n, size - (size_t)n, fmt, ap);
  flatten(e);
}

static void record(kedge_config_t *cfg, int line, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void record(kedge_config_t *cfg, int line, const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vrecord(cfg, line, path, fmt, ap);
  va_end(ap);
}

/* An error about a value node: its line and path. */
static kedge_err_t bad(const kedge_config_node_t *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static kedge_err_t bad(const kedge_config_node_t *v, const char *fmt, ...)
{
  char path[256];
  node_path(v, path, sizeof path);
  va_list ap;
  va_start(ap, fmt);
  vrecord(v->cfg, v->line, path, fmt, ap);
  va_end(ap);
  return KEDGE_ERR_CONFIG;
}

/* ---- the tree ---- */

static void node_free(kedge_config_node_t *n)
{
  if (!n)
    return;
  for (size_t i = 0; i < n->count; i++)
    node_free(n->items[i]);
  free(n->items);
  free(n->strings);
  if (n->value) /* a value may be key material (K, OPc in a UE's file) */
    OPENSSL_cleanse(n->value, strlen(n->value));
  free(n->value);
  free(n->key);
  free(n);
}

void kedge_config_free(kedge_config_t *cfg)
{
  if (!cfg)
    return;
  node_free(cfg->root);
  for (size_t i = 0; i < cfg->extra_count; i++)
    node_free(cfg->extra[i]);
  free(cfg->extra);
  free(cfg->name);
  free(cfg);
}

static kedge_config_node_t *node_new(kedge_config_t *cfg, enum node_type type, int line)
{
  kedge_config_node_t *n = calloc(1, sizeof *n);
  if (!n)
    return NULL;
  n->type = type;
  n->line = line;
  n->cfg = cfg;
  return n;
}

static bool node_append(kedge_config_node_t *parent, kedge_config_node_t *child)
{
  if (parent->count == parent->cap) {
    size_t cap = parent->cap ? parent->cap * 2 : 4;
    kedge_config_node_t **items = realloc(parent->items, cap * sizeof *items);
    if (!items)
      return false;
    parent->items = items;
    parent->cap = cap;
  }
  child->parent = parent;
  child->index = parent->count;
  parent->items[parent->count++] = child;
  return true;
}

/* ---- loading ---- */

struct loader {
  yaml_parser_t parser;
  kedge_config_t *cfg;
  const char *data;
  size_t len;
  bool nomem;
};

static int line_at_offset(const struct loader *ld, size_t offset)
{
  int line = 1;
  for (size_t i = 0; i < offset && i < ld->len; i++)
    if (ld->data[i] == '\n')
      line++;
  return line;
}

/* The next event, refusing what kedge does not accept. false when an error was recorded. */
static bool next_event(struct loader *ld, yaml_event_t *ev)
{
  if (!yaml_parser_parse(&ld->parser, ev)) {
    yaml_parser_t *p = &ld->parser;
    if (p->error == YAML_MEMORY_ERROR) {
      ld->nomem = true;
      record(ld->cfg, 0, NULL, "out of memory");
    } else if (p->error == YAML_READER_ERROR) {
      record(ld->cfg, line_at_offset(ld, p->problem_offset), NULL, "not valid YAML text: %s",
             p->problem ? p->problem : "unreadable");
    } else {
      const char *context = p->context ? p->context : "";
      record(ld->cfg, (int)p->problem_mark.line + 1, NULL, "malformed YAML: %s%s%s%s",
             p->problem ? p->problem : "syntax error", *context ? " (" : "", context,
             *context ? ")" : "");
    }
    return false;
  }
  int line = (int)ev->start_mark.line + 1;
  const yaml_char_t *anchor = NULL, *tag = NULL;
  switch (ev->type) {
  case YAML_ALIAS_EVENT:
    record(ld->cfg, line, NULL, "aliases (*name) are not supported: write the value out");
    yaml_event_delete(ev);
    return false;
  case YAML_SCALAR_EVENT:
    anchor = ev->data.scalar.anchor;
    tag = ev->data.scalar.tag;
    break;
  case YAML_SEQUENCE_START_EVENT:
    anchor = ev->data.sequence_start.anchor;
    tag = ev->data.sequence_start.tag;
    break;
  case YAML_MAPPING_START_EVENT:
    anchor = ev->data.mapping_start.anchor;
    tag = ev->data.mapping_start.tag;
    break;
  default:
    break;
  }
  if (anchor) {
    record(ld->cfg, line, NULL, "anchors (&name) are not supported: write the value out");
    yaml_event_delete(ev);
    return false;
  }
  if (tag) {
    record(ld->cfg, line, NULL, "tags (!name) are not supported");
    yaml_event_delete(ev);
    return false;
  }
  return true;
}

static bool is_null_text(const char *s)
{
  return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
         strcmp(s, "NULL") == 0;
}

/* Where a node being parsed goes: set on the node as soon as it exists, so that errors met
 * below it already know its path. */
struct slot {
  kedge_config_node_t *parent;
  char *key; /* handed over to the node */
  int key_line;
};

static kedge_config_node_t *parse_node(struct loader *ld, yaml_event_t *ev, int depth,
                                       struct slot *slot);

static kedge_config_node_t *count_node(struct loader *ld, enum node_type type, int line,
                                       struct slot *slot)
{
  if (++ld->cfg->nodes > KEDGE_CONFIG_NODES_MAX) {
    record(ld->cfg, line, NULL, "more than %d keys and values in one file", KEDGE_CONFIG_NODES_MAX);
    return NULL;
  }
  kedge_config_node_t *n = node_new(ld->cfg, type, line);
  if (!n) {
    ld->nomem = true;
    record(ld->cfg, line, NULL, "out of memory");
    return NULL;
  }
  if (slot) {
    n->parent = slot->parent; /* not yet among the parent's items */
    n->index = slot->parent ? slot->parent->count : 0;
    n->key = slot->key;
    n->key_line = slot->key_line;
    slot->key = NULL;
  }
  return n;
}

static kedge_config_node_t *parse_scalar(struct loader *ld, yaml_event_t *ev, struct slot *slot)
{
  int line = (int)ev->start_mark.line + 1;
  const char *text = (const char *)ev->data.scalar.value;
  size_t len = ev->data.scalar.length;
  if (memchr(text, '\0', len)) {
    record(ld->cfg, line, NULL, "NUL characters are not allowed");
    return NULL;
  }
  kedge_config_node_t *n = count_node(ld, NODE_SCALAR, line, slot);
  if (!n)
    return NULL;
  n->value = malloc(len + 1);
  if (!n->value) {
    ld->nomem = true;
    record(ld->cfg, line, NULL, "out of memory");
    node_free(n);
    return NULL;
  }
  memcpy(n->value, text, len);
  n->value[len] = '\0';
  n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
  n->null = n->plain && is_null_text(n->value);
  return n;
}

static kedge_config_node_t *parse_map(struct loader *ld, yaml_event_t *start, int depth,
                                      struct slot *slot)
{
  kedge_config_node_t *map = count_node(ld, NODE_MAP, (int)start->start_mark.line + 1, slot);
  if (!map)
    return NULL;
  for (;;) {
    yaml_event_t ev;
    if (!next_event(ld, &ev))
      goto fail;
    if (ev.type == YAML_MAPPING_END_EVENT) {
      yaml_event_delete(&ev);
      return map;
    }
    int key_line = (int)ev.start_mark.line + 1;
    if (ev.type != YAML_SCALAR_EVENT) {
      record(ld->cfg, key_line, NULL, "a key must be a plain string, not a map or sequence");
      yaml_event_delete(&ev);
      goto fail;
    }
    kedge_config_node_t *key = parse_scalar(ld, &ev, NULL);
    yaml_event_delete(&ev);
    if (!key)
      goto fail;
    for (size_t i = 0; i < map->count; i++) {
      if (strcmp(map->items[i]->key, key->value) == 0) {
        char path[256];
        node_path(map, path, sizeof path);
        size_t len = strlen(path);
        snprintf(path + len, sizeof path - len, "%s%s", len ? "." : "", key->value);
        record(ld->cfg, key_line, path, "duplicate key (first on line %d)",
               map->items[i]->key_line);
        node_free(key);
        goto fail;
      }
    }
    struct slot child = {map, key->value, key_line};
    key->value = NULL;
    node_free(key);
    if (!next_event(ld, &ev)) {
      free(child.key);
      goto fail;
    }
    kedge_config_node_t *value = parse_node(ld, &ev, depth + 1, &child);
    yaml_event_delete(&ev);
    free(child.key); /* still ours when no node took it */
    if (!value)
      goto fail;
    if (!node_append(map, value)) {
      node_free(value);
      ld->nomem = true;
      record(ld->cfg, key_line, NULL, "out of memory");
      goto fail;
    }
  }
fail:
  node_free(map);
  return NULL;
}

static kedge_config_node_t *parse_seq(struct loader *ld, yaml_event_t *start, int depth,
                                      struct slot *slot)
{
  kedge_config_node_t *seq = count_node(ld, NODE_SEQ, (int)start->start_mark.line + 1, slot);
  if (!seq)
    return NULL;
  for (;;) {
    yaml_event_t ev;
    if (!next_event(ld, &ev))
      goto fail;
    if (ev.type == YAML_SEQUENCE_END_EVENT) {
      yaml_event_delete(&ev);
      return seq;
    }
    struct slot child = {seq, NULL, 0};
    kedge_config_node_t *item = parse_node(ld, &ev, depth + 1, &child);
    int line = (int)ev.start_mark.line + 1;
    yaml_event_delete(&ev);
    if (!item)
      goto fail;
    if (!node_append(seq, item)) {
      node_free(item);
      ld->nomem = true;
      record(ld->cfg, line, NULL, "out of memory");
      goto fail;
    }
  }
fail:
  node_free(seq);
  return NULL;
}

/* Builds the node that starts with `ev` (which the caller deletes). */
static kedge_config_node_t *parse_node(struct loader *ld, yaml_event_t *ev, int depth,
                                       struct slot *slot)
{
  int line = (int)ev->start_mark.line + 1;
  if (depth > KEDGE_CONFIG_DEPTH_MAX &&
      (ev->type == YAML_MAPPING_START_EVENT || ev->type == YAML_SEQUENCE_START_EVENT)) {
    record(ld->cfg, line, NULL, "nested deeper than %d levels", KEDGE_CONFIG_DEPTH_MAX);
    return NULL;
  }
  switch (ev->type) {
  case YAML_SCALAR_EVENT:
    return parse_scalar(ld, ev, slot);
  case YAML_MAPPING_START_EVENT:
    return parse_map(ld, ev, depth, slot);
  case YAML_SEQUENCE_START_EVENT:
    return parse_seq(ld, ev, depth, slot);
  default:
    record(ld->cfg, line, NULL, "malformed YAML: unexpected event");
    return NULL;
  }
}

/* stream-start, at most one document whose root is a map, stream-end. */
static bool parse_stream(struct loader *ld)
{
  yaml_event_t ev;
  int documents = 0;
  for (;;) {
    if (!next_event(ld, &ev))
      return false;
    int line = (int)ev.start_mark.line + 1;
    yaml_event_type_t type = ev.type;
    if (type == YAML_STREAM_END_EVENT) {
      yaml_event_delete(&ev);
      break;
    }
    if (type == YAML_STREAM_START_EVENT || type == YAML_DOCUMENT_END_EVENT) {
      yaml_event_delete(&ev);
      continue;
    }
    if (type == YAML_DOCUMENT_START_EVENT) {
      yaml_event_delete(&ev);
      if (++documents > 1) {
        record(ld->cfg, line, NULL, "more than one YAML document (---) in one file");
        return false;
      }
      continue;
    }
    /* the document's root node */
    kedge_config_node_t *root = parse_node(ld, &ev, 1, NULL);
    yaml_event_delete(&ev);
    if (!root)
      return false;
    if (root->type == NODE_SCALAR && root->null) { /* "---" alone or "~": empty */
      node_free(root);
      continue;
    }
    if (root->type != NODE_MAP) {
      record(ld->cfg, line, NULL, "the file must be a map of keys (key: value)");
      node_free(root);
      return false;
    }
    ld->cfg->root = root;
  }
  if (!ld->cfg->root) { /* an empty file is an empty map */
    ld->cfg->root = node_new(ld->cfg, NODE_MAP, 1);
    if (!ld->cfg->root) {
      ld->nomem = true;
      record(ld->cfg, 0, NULL, "out of memory");
      return false;
    }
  }
  return true;
}

static void copy_error(const char *msg, char *err, size_t err_size)
{
  if (err && err_size)
    snprintf(err, err_size, "%s", msg);
}

kedge_err_t kedge_config_load_buffer(const char *name, const char *data, size_t len,
                                     kedge_config_t **out, char *err, size_t err_size)
{
  if (out)
    *out = NULL;
  if (!out || (!data && len))
    return KEDGE_ERR_INVALID_ARG;
  if (!name)
    name = "(config)";
  if (len > KEDGE_CONFIG_FILE_MAX) {
    char msg[KEDGE_CONFIG_ERR_MAX];
    snprintf(msg, sizeof msg, "%s: larger than %d octets", name, KEDGE_CONFIG_FILE_MAX);
    flatten(msg);
    copy_error(msg, err, err_size);
    return KEDGE_ERR_TOO_BIG;
  }
  kedge_config_t *cfg = calloc(1, sizeof *cfg);
  if (!cfg || !(cfg->name = strdup(name))) {
    free(cfg);
    copy_error("out of memory", err, err_size);
    return KEDGE_ERR_NOMEM;
  }
  struct loader ld = {.cfg = cfg, .data = data ? data : "", .len = len};
  if (!yaml_parser_initialize(&ld.parser)) {
    kedge_config_free(cfg);
    copy_error("out of memory", err, err_size);
    return KEDGE_ERR_NOMEM;
  }
  yaml_parser_set_input_string(&ld.parser, (const unsigned char *)ld.data, len);
  bool ok = parse_stream(&ld);
  yaml_parser_delete(&ld.parser);
  if (!ok) {
    if (!cfg->failed)
      record(cfg, 0, NULL, "malformed YAML");
    copy_error(cfg->error, err, err_size);
    kedge_config_free(cfg);
    return ld.nomem ? KEDGE_ERR_NOMEM : KEDGE_ERR_CONFIG;
  }
  *out = cfg;
  return KEDGE_OK;
}

kedge_err_t kedge_config_load_file(const char *path, kedge_config_t **out, char *err,
                                   size_t err_size)
{
  if (out)
    *out = NULL;
  if (!path || !out)
    return KEDGE_ERR_INVALID_ARG;
  char msg[KEDGE_CONFIG_ERR_MAX];
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(msg, sizeof msg, "%s: cannot open: %s", path, strerror(errno));
    flatten(msg);
    copy_error(msg, err, err_size);
    return KEDGE_ERR_IO;
  }
  /* Read one octet past the limit to tell "exactly at the limit" from "over it"; works for
   * pipes and /dev/stdin too, where the size is not known in advance. */
  char *buf = malloc(KEDGE_CONFIG_FILE_MAX + 1);
  if (!buf) {
    fclose(f);
    copy_error("out of memory", err, err_size);
    return KEDGE_ERR_NOMEM;
  }
  setvbuf(f, NULL, _IONBF, 0); /* no stdio copy of the file's secrets */
  size_t len = fread(buf, 1, KEDGE_CONFIG_FILE_MAX + 1, f);
  bool read_error = ferror(f);
  int saved = errno;
  fclose(f);
  if (read_error) {
    snprintf(msg, sizeof msg, "%s: cannot read: %s", path, strerror(saved));
    flatten(msg);
    copy_error(msg, err, err_size);
    free(buf);
    return KEDGE_ERR_IO;
  }
  kedge_err_t rc = kedge_config_load_buffer(path, buf, len, out, err, err_size);
  OPENSSL_cleanse(buf, len);
  free(buf);
  return rc;
}

kedge_config_node_t *kedge_config_root(kedge_config_t *cfg)
{
  return cfg ? cfg->root : NULL;
}

const char *kedge_config_name(const kedge_config_t *cfg)
{
  return cfg ? cfg->name : NULL;
}

/* ---- lookup ---- */

enum found { FOUND_ERROR = -1, FOUND_NONE = 0, FOUND_VALUE = 1 };

static kedge_config_node_t *map_find(kedge_config_node_t *map, const char *key, size_t len)
{
  for (size_t i = 0; i < map->count; i++) {
    const char *k = map->items[i]->key;
    if (strncmp(k, key, len) == 0 && k[len] == '\0')
      return map->items[i];
  }
  return NULL;
}

/* Resolves a dotted `key` below `node` (NULL key: the node itself). Marks what it walks
 * through as read when `mark`. FOUND_NONE for absent or null values. */
static enum found lookup(kedge_config_node_t *node, const char *key, bool mark,
                         kedge_config_node_t **out)
{
  *out = NULL;
  if (!node)
    return FOUND_NONE;
  kedge_config_node_t *n = node;
  if (key) {
    const char *seg = key;
    for (;;) {
      if (n->type == NODE_SCALAR && n->null)
        return FOUND_NONE; /* an empty intermediate map */
      if (n->type != NODE_MAP) {
        if (mark)
          bad(n, "must be a map");
        return FOUND_ERROR;
      }
      const char *dot = strchr(seg, '.');
      size_t len = dot ? (size_t)(dot - seg) : strlen(seg);
      kedge_config_node_t *child = map_find(n, seg, len);
      if (!child)
        return FOUND_NONE;
      if (mark)
        child->used = true;
      n = child;
      if (!dot)
        break;
      seg = dot + 1;
    }
  }
  if (n->type == NODE_SCALAR && n->null)
    return FOUND_NONE;
  *out = n;
  return FOUND_VALUE;
}

/* A scalar that must be plain (numbers, booleans, durations, sizes). */
static const char *plain_text(const kedge_config_node_t *v)
{
  return v->type == NODE_SCALAR && v->plain ? v->value : NULL;
}

/* ---- getters ---- */

kedge_err_t kedge_config_string(kedge_config_node_t *node, const char *key, const char *def,
                                const char **out)
{
  kedge_config_node_t *v;
  const char *dummy;
  if (!out)
    out = &dummy;
  *out = def;
  enum found f = lookup(node, key, true, &v);
  if (f != FOUND_VALUE)
    return f == FOUND_ERROR ? KEDGE_ERR_CONFIG : KEDGE_OK;
  if (v->type != NODE_SCALAR)
    return bad(v, "must be a string");
  *out = v->value;
  return KEDGE_OK;
}

/* Decimal digits with an optional leading '-', without overflow. A leading zero is refused:
 * YAML 1.1 readers take "010" as octal 8, so it would mean different things to different
 * tools. */
static bool parse_int64(const char *s, int64_t *out)
{
  bool neg = *s == '-';
  if (neg)
    s++;
  if (!*s || (s[0] == '0' && s[1]))
    return false;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return false;
    unsigned d = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - d) / 10)
      return false;
    v = v * 10 + d;
  }
  if (neg) {
    if (v > (uint64_t)INT64_MAX + 1)
      return false;
    *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
  } else {
    if (v > (uint64_t)INT64_MAX)
      return false;
    *out = (int64_t)v;
  }
  return true;
}

kedge_err_t kedge_config_int(kedge_config_node_t *node, const char *key, int64_t def, int64_t min,
                             int64_t max, int64_t *out)
{
  kedge_config_node_t *v;
  int64_t dummy;
  if (!out)
    out = &dummy;
  *out = def;
  enum found f = lookup(node, key, true, &v);
  if (f != FOUND_VALUE)
    return f == FOUND_ERROR ? KEDGE_ERR_CONFIG : KEDGE_OK;
  const char *s = plain_text(v);
  int64_t n;
  if (!s || !parse_int64(s, &n) || n < min || n > max) {
    if (max == INT64_MAX)
      return bad(v, "must be an integer >= %" PRId64, min);
    return bad(v, "must be an integer %" PRId64 "..%" PRId64, min, max);
  }
  *out = n;
  return KEDGE_OK;
}

kedge_err_t kedge_config_bool(kedge_config_node_t *node, const char *key, bool def, bool *out)
{
  kedge_config_node_t *v;
  bool dummy;
  if (!out)
    out = &dummy;
  *out = def;
  enum found f = lookup(node, key, true, &v);
  if (f != FOUND_VALUE)
    return f == FOUND_ERROR ? KEDGE_ERR_CONFIG : KEDGE_OK;
  const char *s = plain_text(v);
  if (s && (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)) {
    *out = true;
    return KEDGE_OK;
  }
  if (s && (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)) {
    *out = false;
    return KEDGE_OK;
  }
  return bad(v, "must be true or false");
}

/* Reads <digits> at *s into *v; false on no digits or overflow. */
static bool take_digits(const char **s, uint64_t *v)
{
  const char *p = *s;
  uint64_t n = 0;
  if (*p < '0' || *p > '9')
    return false;
  for (; *p >= '0' && *p <= '9'; p++) {
    unsigned d = (unsigned)(*p - '0');
    if (n > (UINT64_MAX - d) / 10)
      return false;
    n = n * 10 + d;
  }
  *v = n;
  *s = p;
  return true;
}

static bool parse_duration(const char *s, int64_t *out_ms)
{
  static const struct {
    const char *unit;
    uint64_t ms;
  } units[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
  };
  if (strcmp(s, "0") == 0) {
    *out_ms = 0;
    return true;
  }
  uint64_t total = 0;
  if (!*s)
    return false;
  while (*s) {
    uint64_t n;
    if (!take_digits(&s, &n))
      return false;
    size_t best = 0, best_len = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
      size_t ul = strlen(units[i].unit);
      if (strncmp(s, units[i].unit, ul) == 0 && ul > best_len && !(s[ul] >= 'a' && s[ul] <= 'z')) {
        best = i;
        best_len = ul;
      }
    }
    if (!best_len)
      return false;
    s += best_len;
    if (n > (uint64_t)INT64_MAX / units[best].ms)
      return false;
    uint64_t part = n * units[best].ms;
    if (part > (uint64_t)INT64_MAX - total)
      return false;
    total += part;
  }
  *out_ms = (int64_t)total;
  return true;
}

static void format_duration(int64_t ms, char *out, size_t size)
{
  if (ms != 0 && ms % 86400000 == 0)
    snprintf(out, size, "%" PRId64 "d", ms / 86400000);
  else if (ms != 0 && ms % 3600000 == 0)
    snprintf(out, size, "%" PRId64 "h", ms / 3600000);
  else if (ms != 0 && ms % 60000 == 0)
    snprintf(out, size, "%" PRId64 "m", ms / 60000);
  else if (ms != 0 && ms % 1000 == 0)
    snprintf(out, size, "%" PRId64 "s", ms / 1000);
  else
    snprintf(out, size, "%" PRId64 "ms", ms);
}

kedge_err_t kedge_config_duration(kedge_config_node_t *node, const char *key, int64_t def_ms,
                                  int64_t min_ms, int64_t max_ms, int64_t *out_ms)
{
  kedge_config_node_t *v;
  int64_t dummy;
  if (!out_ms)
    out_ms = &dummy;
  *out_ms = def_ms;
  enum found f = lookup(node, key, true, &v);
  if (f != FOUND_VALUE)
    return f == FOUND_ERROR ? KEDGE_ERR_CONFIG : KEDGE_OK;
  const char *s = plain_text(v);
  int64_t ms;
  if (!s || !parse_duration(s, &ms) || ms < min_ms || ms > max_ms) {
    char lo[32], hi[32];
    format_duration(min_ms, lo, sizeof lo);
    format_duration(max_ms, hi, sizeof hi);
    if (max_ms == INT64_MAX)
      return bad(v, "must be a duration (500ms, 30s, 5m, 24h) of at least %s", lo);
    return bad(v, "must be a duration (500ms, 30s, 5m, 24h) in %s..%s", lo, hi);
  }
  *out_ms = ms;
  return KEDGE_OK;
}

static bool parse_size(const char *s, uint64_t *out)
{
  static const struct {
    const char *unit;
    uint64_t factor;
  } units[] = {
      {"B", 1},        {"KiB", 1024ull}, {"MiB", 1024ull * 1024}, {"GiB", 1024ull * 1024 * 1024},
      {"kB", 1000ull}, {"KB", 1000ull},  {"MB", 1000ull * 1000},  {"GB", 1000ull * 1000 * 1000},
  };
  uint64_t n;
  if (!take_digits(&s, &n))
    return false;
  while (*s == ' ')
    s++;
  uint64_t factor = 1;
  if (*s) {
    size_t i;
    for (i = 0; i < sizeof units / sizeof units[0]; i++)
      if (strcmp(s, units[i].unit) == 0)
        break;
    if (i == sizeof units / sizeof units[0])
      return false;
    factor = units[i].factor;
  }
  if (n > UINT64_MAX / factor)
    return false;
  *out = n * factor;
  return true;
}

static void format_size(uint64_t n, char *out, size_t size)
{
  const uint64_t kib = 1024, mib = kib * 1024, gib = mib * 1024;
  if (n != 0 && n % gib == 0)
    snprintf(out, size, "%" PRIu64 "GiB", n / gib);
  else if (n != 0 && n % mib == 0)
    snprintf(out, size, "%" PRIu64 "MiB", n / mib);
  else if (n != 0 && n % kib == 0)
    snprintf(out, size, "%" PRIu64 "KiB", n / kib);
  else
    snprintf(out, size, "%" PRIu64, n);
}

kedge_err_t kedge_config_size(kedge_config_node_t *node, const char *key, uint64_t def,
                              uint64_t min, uint64_t max, uint64_t *out)
{
  kedge_config_node_t *v;
  uint64_t dummy;
  if (!out)
    out = &dummy;
  *out = def;
  enum found f = lookup(node, key, true, &v);
  if (f != FOUND_VALUE)
    return f == FOUND_ERROR ? KEDGE_ERR_CONFIG : KEDGE_OK;
  const char *s = plain_text(v);
  uint64_t n;
  if (!s || !parse_size(s, &n) || n < min || n > max) {
    char lo[32], hi[32];
    format_size(min, lo, sizeof lo);
    format_size(max, hi, sizeof hi);
    if (max == UINT64_MAX)
      return bad(v, "must be a size (1048576, 64KiB, 1MiB) of at least %s", lo);
    return bad(v, "must be a size (1048576, 64KiB, 1MiB) in %s..%s", lo, hi);
  }
  *out = n;
  return KEDGE_OK;
}

kedge_err_t kedge_config_strings(kedge_config_node_t *node, const char *key,
                                 const char *const **out, size_t *count)
{
  static const char *const none[] = {NULL};
  kedge_config_node_t *v;
  const char *const *dummy_out;
  size_t dummy_count;
  if (!out)
    out = &dummy_out;
  if (!count)
    count = &dummy_count;
  *out = none;
  *count = 0;
  enum found f = lookup(node, key, true, &v);
  if (f != FOUND_VALUE)
    return f == FOUND_ERROR ? KEDGE_ERR_CONFIG : KEDGE_OK;
  if (v->type != NODE_SEQ)
    return bad(v, "must be a sequence of strings");
  for (size_t i = 0; i < v->count; i++) {
    kedge_config_node_t *item = v->items[i];
    item->used = true;
    if (item->type != NODE_SCALAR || item->null)
      return bad(item, "must be a string");
  }
  if (!v->strings) {
    v->strings = calloc(v->count + 1, sizeof *v->strings);
    if (!v->strings) {
      bad(v, "out of memory");
      return KEDGE_ERR_NOMEM;
    }
    for (size_t i = 0; i < v->count; i++)
      v->strings[i] = v->items[i]->value;
  }
  *out = v->strings;
  *count = v->count;
  return KEDGE_OK;
}

/* An empty map standing for an absent `key` below `node`, so that what is read from it still
 * reports a path ("sbi.tls.cert") and a line (that of the deepest map present on the way). */
static kedge_config_node_t *empty_map(kedge_config_node_t *node, const char *key)
{
  kedge_config_t *cfg = node->cfg;
  /* Walk the part of the dotted path that exists. */
  kedge_config_node_t *at = node;
  const char *rest = key ? key : "";
  while (at->type == NODE_MAP) {
    const char *dot = strchr(rest, '.');
    size_t len = dot ? (size_t)(dot - rest) : strlen(rest);
    kedge_config_node_t *child = map_find(at, rest, len);
    if (!child)
      break;
    if (child->type == NODE_SCALAR && child->null && !dot) {
      /* `key:` with nothing: the null scalar becomes the empty map */
      child->type = NODE_MAP;
      child->null = false;
      return child;
    }
    if (!dot || child->type != NODE_MAP)
      break;
    at = child;
    rest = dot + 1;
  }
  kedge_config_node_t **extra = realloc(cfg->extra, (cfg->extra_count + 1) * sizeof *extra);
  if (!extra)
    return NULL;
  cfg->extra = extra;
  kedge_config_node_t *m = node_new(cfg, NODE_MAP, at->line);
  if (!m)
    return NULL;
  m->key = strdup(rest);
  if (!m->key) {
    free(m);
    return NULL;
  }
  /* Parent link for the path only: the made-up map is not one of the parent's items, and is
   * freed with the kedge_config_t. */
  m->parent = at;
  cfg->extra[cfg->extra_count++] = m;
  return m;
}

/* The null scalar at `key` (present but empty), or NULL. */
static kedge_config_node_t *null_value_at(kedge_config_node_t *node, const char *key)
{
  kedge_config_node_t *n = node;
  const char *seg = key;
  while (n && n->type == NODE_MAP) {
    const char *dot = strchr(seg, '.');
    size_t len = dot ? (size_t)(dot - seg) : strlen(seg);
    n = map_find(n, seg, len);
    if (!dot)
      break;
    seg = dot + 1;
  }
  return n && n->type == NODE_SCALAR && n->null ? n : NULL;
}

kedge_err_t kedge_config_map(kedge_config_node_t *node, const char *key, kedge_config_node_t **out)
{
  kedge_config_node_t *v;
  kedge_config_node_t *dummy;
  if (!out)
    out = &dummy;
  *out = NULL;
  if (!node)
    return KEDGE_OK;
  enum found f = lookup(node, key, true, &v);
  if (f == FOUND_ERROR)
    return KEDGE_ERR_CONFIG;
  if (f == FOUND_NONE) {
    if (!key && node->type == NODE_SCALAR && node->null) { /* a null sequence item, say */
      node->type = NODE_MAP;
      node->null = false;
      *out = node;
      return KEDGE_OK;
    }
    *out = empty_map(node, key);
    if (!*out) {
      bad(node, "out of memory");
      return KEDGE_ERR_NOMEM;
    }
    return KEDGE_OK;
  }
  if (v->type != NODE_MAP)
    return bad(v, "must be a map (key: value)");
  *out = v;
  return KEDGE_OK;
}

kedge_err_t kedge_config_maps(kedge_config_node_t *node, const char *key,
                              kedge_config_node_t *const **items, size_t *count)
{
  static kedge_config_node_t *const none[] = {NULL};
  kedge_config_node_t *v;
  kedge_config_node_t *const *dummy_items;
  size_t dummy_count;
  if (!items)
    items = &dummy_items;
  if (!count)
    count = &dummy_count;
  *items = none;
  *count = 0;
  enum found f = lookup(node, key, true, &v);
  if (f != FOUND_VALUE)
    return f == FOUND_ERROR ? KEDGE_ERR_CONFIG : KEDGE_OK;
  if (v->type != NODE_SEQ)
    return bad(v, "must be a sequence of maps");
  for (size_t i = 0; i < v->count; i++) {
    kedge_config_node_t *item = v->items[i];
    item->used = true;
    if (item->type != NODE_MAP)
      return bad(item, "must be a map (key: value)");
  }
  if (v->count) {
    *items = v->items;
    *count = v->count;
  }
  return KEDGE_OK;
}

size_t kedge_config_map_size(const kedge_config_node_t *map)
{
  return map && map->type == NODE_MAP ? map->count : 0;
}

kedge_config_node_t *kedge_config_map_entry(kedge_config_node_t *map, size_t i, const char **key)
{
  if (!map || map->type != NODE_MAP || i >= map->count)
    return NULL;
  map->items[i]->used = true;
  if (key)
    *key = map->items[i]->key;
  return map->items[i];
}

bool kedge_config_has(const kedge_config_node_t *node, const char *key)
{
  kedge_config_node_t *v;
  return lookup((kedge_config_node_t *)node, key, false, &v) == FOUND_VALUE;
}

/* The path of `key` below `node` for a message about something absent. */
static void key_path(const kedge_config_node_t *node, const char *key, char *out, size_t size)
{
  node_path(node, out, size);
  size_t len = strlen(out);
  if (key && len + 1 < size)
    snprintf(out + len, size - len, "%s%s", len ? "." : "", key);
}

kedge_err_t kedge_config_require(kedge_config_node_t *node, const char *key)
{
  if (!node)
    return KEDGE_ERR_INVALID_ARG;
  kedge_config_node_t *v;
  enum found f = lookup(node, key, false, &v);
  if (f == FOUND_VALUE)
    return KEDGE_OK;
  char path[256];
  key_path(node, key, path, sizeof path);
  record(node->cfg, node->line, path, "missing (required)");
  return KEDGE_ERR_CONFIG;
}

kedge_err_t kedge_config_invalid(kedge_config_node_t *node, const char *key, const char *fmt, ...)
{
  if (!node || !fmt)
    return KEDGE_ERR_CONFIG;
  kedge_config_node_t *v = NULL;
  lookup(node, key, false, &v);
  if (!v && key) { /* absent or null: the key's own line if it is there, else the map's */
    kedge_config_node_t *null_value = null_value_at(node, key);
    v = null_value;
  }
  char path[256];
  int line;
  if (v) {
    node_path(v, path, sizeof path);
    line = v->line;
  } else {
    key_path(node, key, path, sizeof path);
    line = node->line;
  }
  va_list ap;
  va_start(ap, fmt);
  vrecord(node->cfg, line, path, fmt, ap);
  va_end(ap);
  return KEDGE_ERR_CONFIG;
}

int kedge_config_line(const kedge_config_node_t *node)
{
  return node ? node->line : 0;
}

void kedge_config_path(const kedge_config_node_t *node, char *out, size_t size)
{
  node_path(node, out, size);
}

/* The first map entry below `n` (read itself) that nobody read, in file order. */
static const kedge_config_node_t *first_unread(const kedge_config_node_t *n)
{
  for (size_t i = 0; i < n->count; i++) {
    const kedge_config_node_t *c = n->items[i];
    if (n->type == NODE_MAP && !c->used)
      return c;
    if (n->type == NODE_SEQ && !c->used)
      continue; /* a sequence read as strings: scalars, nothing below */
    const kedge_config_node_t *found = first_unread(c);
    if (found)
      return found;
  }
  return NULL;
}

kedge_err_t kedge_config_finish(kedge_config_t *cfg)
{
  if (!cfg)
    return KEDGE_ERR_INVALID_ARG;
  if (cfg->failed)
    return KEDGE_ERR_CONFIG;
  const kedge_config_node_t *unread = first_unread(cfg->root);
  if (!unread)
    return KEDGE_OK;
  char path[256];
  node_path(unread, path, sizeof path);
  record(cfg, unread->key_line, path, "unknown key");
  return KEDGE_ERR_CONFIG;
}

const char *kedge_config_error(const kedge_config_t *cfg)
{
  return cfg && cfg->failed ? cfg->error : NULL;
}
