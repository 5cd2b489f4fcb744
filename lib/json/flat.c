/* A flat body read in place: an object of plain strings, booleans and plain nested objects
 * (RFC 8259 3, 4 and 7) checked against a member table without a jansson tree. jansson has no
 * streaming reader; its json_loadb reads a key request's ~100 octets at ~150 instructions an octet
 * (its lexer takes each one through a callback, a UTF-8 check and a growable buffer), then builds a
 * tree of ten allocations: three quarters of the AUSF's own work per key request (issue 17,
 * docs/performance-latency.md "Fifth session (keyreq7)"). This reads only the shape where
 * nothing needs decoding and answers "not flat" for anything else, valid or not: jansson and
 * kedge_json_check then give the verdict and the ProblemDetails, as for any body. */
#include <string.h>

#include "kedge/json_check.h"

/* A table of plain strings and booleans, no check anywhere: what a nested object may hold. */
static bool plain_table(const kedge_json_member_t *members)
{
  size_t n = 0;
  for (const kedge_json_member_t *m = members; m && m->name; m++, n++)
    if (m->check || n == KEDGE_JSON_FLAT_MAX ||
        !(m->kind == KEDGE_JSON_STRING || m->kind == KEDGE_JSON_BOOLEAN ||
          (m->kind == KEDGE_JSON_OBJECT && plain_table(m->object))))
      return false;
  return n > 0;
}

/* A member whose value is read flat: a string (its `check` run on it), a boolean, or an object
 * whose own table is plain (no check in it: a handler reads such a member's value as text, a
 * table with checks, AuthenticationInfo's resynchronizationInfo, is read by the tree). A
 * member of another kind (or a boolean or object with a `check`) sends a body holding it to
 * jansson. */
static bool read_in_place(const kedge_json_member_t *m)
{
  return m->kind == KEDGE_JSON_STRING || (!m->check && m->kind == KEDGE_JSON_BOOLEAN) ||
         (!m->check && m->kind == KEDGE_JSON_OBJECT && plain_table(m->object));
}

size_t kedge_json_flat_count(const kedge_json_member_t *members)
{
  size_t n = 0;
  for (const kedge_json_member_t *m = members; m && m->name; m++, n++)
    if (n == KEDGE_JSON_FLAT_MAX)
      return 0;
  return n;
}

/* RFC 8259 2: insignificant whitespace */
static const char *skip_ws(const char *p, const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

/* The octets that end a plain string's scan, by value: the closing quote '"' (0x22), and what
 * makes a string not plain (below): control octets (0x00-0x1f), '\\' (0x5c), past ASCII
 * (0x80-0xff). One lookup an octet, not four comparisons: the values are most of a body. */
static const unsigned char stops[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* The string opening at p ('"'), when it holds nothing to decode: no escape (RFC 8259 7), no
 * control octet (which JSON refuses) and ASCII only (past it jansson checks UTF-8). Returns
 * the octet after the closing quote, or NULL. */
static const char *plain_string(const char *p, const char *end, kedge_json_span_t *out)
{
  if (p >= end || *p != '"')
    return NULL;
  const char *s = ++p;
  while (p < end && !stops[(unsigned char)*p])
    p++;
  if (p >= end || *p != '"')
    return NULL;
  out->ptr = s;
  out->len = (size_t)(p - s);
  return p + 1;
}

/* RFC 8259 3: true or false, its text the value. */
static const char *boolean(const char *p, const char *end, kedge_json_span_t *out)
{
  size_t n = end - p >= 4 && memcmp(p, "true", 4) == 0    ? 4
             : end - p >= 5 && memcmp(p, "false", 5) == 0 ? 5
                                                          : 0;
  if (!n)
    return NULL;
  out->ptr = p;
  out->len = n;
  return p + n;
}

/* A member's `check` on its value, as kedge_json_check runs it (on a string of the right
 * length): a value it refuses makes the body "not flat", and jansson and kedge_json_check
 * then give the ProblemDetails naming it. One short jansson string per checked value (its two
 * blocks) rather than the tree of the whole body (issue 17: docs/performance-latency.md
 * "Seventh round: the AUSF"). */
static bool checks_pass(const kedge_json_member_t *members, size_t n,
                        const kedge_json_span_t values[])
{
  for (size_t i = 0; i < n; i++) {
    if (!members[i].check || !values[i].ptr || members[i].kind != KEDGE_JSON_STRING)
      continue;
    /* ASCII without a control octet (plain_string): valid UTF-8 without a NUL */
    json_t *s = json_stringn_nocheck(values[i].ptr, values[i].len);
    bool ok = s && !members[i].check(s);
    json_decref(s);
    if (!ok)
      return false;
  }
  return true;
}

/* The object opening at p (after whitespace) of a flat table, its checks passed: the octet
 * after its '}', or NULL. */
static const char *read_object(const char *p, const char *end, const kedge_json_member_t *members,
                               size_t n, kedge_json_span_t values[])
{
  p = skip_ws(p, end);
  if (p >= end || *p++ != '{')
    return NULL;
  p = skip_ws(p, end);
  if (p < end && *p == '}')
    p++;
  else
    for (;;) {
      kedge_json_span_t name, value;
      if (!(p = plain_string(p, end, &name)))
        return NULL;
      size_t i = 0;
      while (i < n && !(strlen(members[i].name) == name.len &&
                        memcmp(members[i].name, name.ptr, name.len) == 0))
        i++;
      /* a member not in the table is ignored by kedge_json_check, but its value may be of
       * any kind; a duplicate is refused by JSON_REJECT_DUPLICATES; a member of a kind not
       * read in place (AuthenticationInfo's resynchronizationInfo) is read by the tree, and
       * kedge_json_check refuses a value of another kind in its place: all left to jansson */
      if (i == n || values[i].ptr || !read_in_place(&members[i]))
        return NULL;
      p = skip_ws(p, end);
      if (p >= end || *p++ != ':')
        return NULL;
      p = skip_ws(p, end);
      if (members[i].kind == KEDGE_JSON_OBJECT) {
        /* nested: an object of its own flat table; its text is the value */
        kedge_json_span_t inner[KEDGE_JSON_FLAT_MAX] = {{0}};
        const char *start = p;
        if (!(p = read_object(p, end, members[i].object, kedge_json_flat_count(members[i].object),
                              inner)))
          return NULL;
        value.ptr = start;
        value.len = (size_t)(p - start);
      } else if (members[i].kind == KEDGE_JSON_BOOLEAN) {
        if (!(p = boolean(p, end, &value)))
          return NULL;
      } else if (!(p = plain_string(p, end, &value)) ||
                 (members[i].max_len && value.len > members[i].max_len)) {
        return NULL;
      }
      values[i] = value;
      p = skip_ws(p, end);
      if (p < end && *p == ',') {
        p = skip_ws(p + 1, end);
        continue;
      }
      if (p >= end || *p++ != '}')
        return NULL;
      break;
    }
  for (size_t i = 0; i < n; i++)
    if (members[i].required && !values[i].ptr)
      return NULL;
  return checks_pass(members, n, values) ? p : NULL;
}

bool kedge_json_flat_read(const void *text, size_t len, const kedge_json_member_t *members,
                          kedge_json_span_t values[KEDGE_JSON_FLAT_MAX])
{
  size_t n = kedge_json_flat_count(members);
  memset(values, 0, KEDGE_JSON_FLAT_MAX * sizeof(values[0]));
  if (!text || !n)
    return false;
  const char *p = text, *end = p + len;
  /* jansson's end-of-input check: nothing but whitespace after */
  if ((p = read_object(p, end, members, n, values)) && skip_ws(p, end) == end)
    return true;
  memset(values, 0, KEDGE_JSON_FLAT_MAX * sizeof(values[0]));
  return false;
}
