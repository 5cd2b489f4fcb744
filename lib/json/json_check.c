/* Request-body validation against a member table, producing TS 29.571 InvalidParam entries
 * whose `param` is a JSON pointer (RFC 6901) to the offending member. */
#include "kedge/json_check.h"

#include <stdio.h>
#include <string.h>

#include "kedge/problem.h"

/* JSON pointers longer than this are cut (nesting in SBI bodies is a few levels deep). */
#define POINTER_MAX 256
/* Nested tables deeper than this are not descended into: a guard against a cyclic table. */
#define DEPTH_MAX 16

struct tally {
  json_t *problem;
  size_t missing;
  size_t incorrect;
  kedge_err_t failure; /* an allocation failure while recording */
};

/* prefix + "/" + name with RFC 6901 escaping ('~' -> "~0", '/' -> "~1"). */
static void pointer_join(char out[POINTER_MAX], const char *prefix, const char *name)
{
  size_t n = strnlen(prefix, POINTER_MAX - 1); /* not snprintf: this runs per member checked */
  memcpy(out, prefix, n);
  if (n < POINTER_MAX - 1)
    out[n++] = '/';
  if (n >= POINTER_MAX - 1) {
    out[n] = '\0';
    return;
  }
  for (const char *c = name; *c && n + 3 < POINTER_MAX; c++) {
    if (*c == '~' || *c == '/') {
      out[n++] = '~';
      out[n++] = *c == '~' ? '0' : '1';
    } else
      out[n++] = *c;
  }
  out[n] = '\0';
}

static void record(struct tally *t, const char *pointer, const char *reason, bool missing)
{
  if (missing)
    t->missing++;
  else
    t->incorrect++;
  if (t->problem) {
    kedge_err_t err = kedge_problem_add_invalid_param(t->problem, pointer, reason);
    if (err && !t->failure)
      t->failure = err;
  }
}

static const char *kind_reason(kedge_json_kind_t kind)
{
  switch (kind) {
  case KEDGE_JSON_STRING:
    return "must be a string";
  case KEDGE_JSON_INTEGER:
    return "must be an integer";
  case KEDGE_JSON_BOOLEAN:
    return "must be a boolean";
  case KEDGE_JSON_OBJECT:
    return "must be an object";
  case KEDGE_JSON_ARRAY:
    return "must be an array";
  }
  return "has the wrong type";
}

static bool kind_matches(const json_t *v, kedge_json_kind_t kind)
{
  switch (kind) {
  case KEDGE_JSON_STRING:
    return json_is_string(v);
  case KEDGE_JSON_INTEGER:
    return json_is_integer(v);
  case KEDGE_JSON_BOOLEAN:
    return json_is_boolean(v);
  case KEDGE_JSON_OBJECT:
    return json_is_object(v);
  case KEDGE_JSON_ARRAY:
    return json_is_array(v);
  }
  return false;
}

static void check_object(const json_t *obj, const kedge_json_member_t *members, const char *prefix,
                         struct tally *t, int depth)
{
  char pointer[POINTER_MAX];
  char reason[64];
  for (const kedge_json_member_t *m = members; m && m->name; m++) {
    pointer_join(pointer, prefix, m->name);
    const json_t *v = json_object_get(obj, m->name);
    if (!v) {
      if (m->required)
        record(t, pointer, "mandatory member missing", true);
      continue;
    }
    /* null is not a value of any declared kind (TS 29.500 6.1.6.1 allows it only in merge
     * patches, which kedge does not accept). */
    if (!kind_matches(v, m->kind)) {
      record(t, pointer, kind_reason(m->kind), false);
      continue;
    }
    if (m->max_len) {
      size_t len = 0;
      const char *unit = NULL;
      if (m->kind == KEDGE_JSON_STRING) {
        len = json_string_length(v);
        unit = "octets";
      } else if (m->kind == KEDGE_JSON_ARRAY) {
        len = json_array_size(v);
        unit = "elements";
      }
      if (unit && len > m->max_len) {
        snprintf(reason, sizeof reason, "must be at most %zu %s", m->max_len, unit);
        record(t, pointer, reason, false);
        continue;
      }
    }
    if (m->check) {
      const char *why = m->check(v);
      if (why) {
        record(t, pointer, why, false);
        continue;
      }
    }
    if (m->kind == KEDGE_JSON_OBJECT && m->object && depth < DEPTH_MAX)
      check_object(v, m->object, pointer, t, depth + 1);
  }
}

kedge_err_t kedge_json_check_at(const json_t *body, const kedge_json_member_t *members,
                                const char *pointer_prefix, json_t *problem, bool *missing_only)
{
  struct tally t = {problem, 0, 0, KEDGE_OK};
  const char *prefix = pointer_prefix ? pointer_prefix : "";
  if (!json_is_object(body))
    record(&t, prefix, "must be a JSON object", false); /* RFC 6901: "" is the whole body */
  else
    check_object(body, members, prefix, &t, 0);
  if (missing_only)
    *missing_only = t.missing > 0 && t.incorrect == 0;
  if (t.failure)
    return t.failure;
  return t.missing + t.incorrect ? KEDGE_ERR_INVALID_ARG : KEDGE_OK;
}

kedge_err_t kedge_json_check(const json_t *body, const kedge_json_member_t *members,
                             json_t *problem, bool *missing_only)
{
  return kedge_json_check_at(body, members, "", problem, missing_only);
}

static const char *check_hex(const json_t *value, size_t digits, const char *reason)
{
  if (!json_is_string(value))
    return "must be a string";
  const char *s = json_string_value(value);
  if (json_string_length(value) != digits || strspn(s, "0123456789abcdefABCDEF") != digits)
    return reason;
  return NULL;
}

bool kedge_json_plain(const char *s)
{
  if (!s)
    return false;
  /* ASCII only: a byte of 0x80 or more may not be UTF-8 (RFC 8259 8.1), which jansson
   * refuses and which would make the text written out not JSON; such a string goes through a
   * tree (what is written out is hex, SUPIs, UUIDs, serving network names: ASCII) */
  for (; *s; s++)
    if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 || (unsigned char)*s >= 0x80)
      return false;
  return true;
}

const char *kedge_json_check_hex16(const json_t *value)
{
  return check_hex(value, 32, "must be 32 hex digits");
}

const char *kedge_json_check_hex32(const json_t *value)
{
  return check_hex(value, 64, "must be 64 hex digits");
}

const char *kedge_json_check_auts(const json_t *value)
{
  return check_hex(value, 28, "must be 28 hex digits (AUTS, 14 octets)");
}

const kedge_json_member_t kedge_json_resynchronization_info[] = {
    {.name = "rand", .kind = KEDGE_JSON_STRING, .required = true, .check = kedge_json_check_hex16},
    {.name = "auts", .kind = KEDGE_JSON_STRING, .required = true, .check = kedge_json_check_auts},
    {.name = NULL},
};
