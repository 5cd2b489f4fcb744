/* Validation of a request body against what a handler expects, producing invalidParams
 * entries (TS 29.571 InvalidParam) that name the offending field as a JSON pointer.
 * Handlers describe members in a table; nested objects use `object` with their own table. */
#ifndef KEDGE_JSON_CHECK_H
#define KEDGE_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kedge_json_kind {
  KEDGE_JSON_STRING,
  KEDGE_JSON_INTEGER,
  KEDGE_JSON_BOOLEAN,
  KEDGE_JSON_OBJECT,
  KEDGE_JSON_ARRAY,
} kedge_json_kind_t;

/* A member check beyond its kind: return NULL if the value is fine, else a short reason
 * ("must be 32 hex digits"). Never quote the value itself: it may be key material. */
typedef const char *(*kedge_json_check_fn)(const json_t *value);

typedef struct kedge_json_member {
  const char *name; /* member name exactly as the OpenAPI file spells it */
  kedge_json_kind_t kind;
  bool required;
  size_t max_len;            /* strings: maximum length in octets; arrays: maximum number of
                              * elements; 0 = no limit */
  kedge_json_check_fn check; /* optional */
  const struct kedge_json_member *object; /* KEDGE_JSON_OBJECT: members, ended by name NULL */
} kedge_json_member_t;

/* Checks `body` (must be an object) against `members` (ended by an entry with name NULL).
 * Unknown members are ignored (TS 29.500 5.2.7: extensibility). Appends one invalidParams
 * entry to `problem` (see kedge/problem.h) per offending member, with `pointer_prefix` ("" at
 * top level) before its name. Returns KEDGE_OK, or KEDGE_ERR_INVALID_ARG when any entry was
 * added; *missing_only is set true when every problem was a missing required member (cause
 * MANDATORY_IE_MISSING rather than MANDATORY_IE_INCORRECT). */
kedge_err_t kedge_json_check(const json_t *body, const kedge_json_member_t *members,
                             json_t *problem, bool *missing_only);
/* Details of both: a member present as JSON null has the wrong kind. A non-object body gives
 * one entry with param "" (RFC 6901: the whole document). A member's `check` runs only when
 * its kind and length are right; a nested `object` table only when the member itself passed.
 * `problem` may be NULL (only the verdict is wanted), `missing_only` may be NULL.
 * KEDGE_ERR_NOMEM when an entry could not be recorded. */

/* kedge_json_check for a body found at `pointer_prefix` inside a larger document
 * (e.g. "/authenticationVector"): every param starts with that prefix. */
kedge_err_t kedge_json_check_at(const json_t *body, const kedge_json_member_t *members,
                                const char *pointer_prefix, json_t *problem, bool *missing_only);

/* Makes jansson wipe every block it frees (call once at start, before any JSON is made):
 * bodies carry keys, and jansson copies the strings it parses and packs. */
void kedge_json_wipe_on_free(void);

/* Ready-made checks. */
const char *kedge_json_check_hex16(const json_t *value); /* 32 hex digits (RAND, RES*...) */
const char *kedge_json_check_hex32(const json_t *value); /* 64 hex digits (keys) */
const char *kedge_json_check_auts(const json_t *value);  /* 28 hex digits (AUTS, 14 octets) */

/* True when `s` goes between the quotes of a JSON string as it is (RFC 8259 7: no '"', '\\'
 * or control character, and ASCII only, since other bytes may not be UTF-8 (RFC 8259 8.1);
 * jansson's compact dump writes such a string unchanged): for answers
 * of a fixed shape written out with snprintf instead of a tree built and dumped per answer
 * (docs/performance-latency.md, fourth round). NULL is not. */
bool kedge_json_plain(const char *s);

/* ---- flat bodies: an object of string members read without a tree (lib/json/flat.c) ---- */

#define KEDGE_JSON_FLAT_MAX 8 /* members of a flat table */

/* A member's value inside the body's text: `len` octets at `ptr`, not terminated; ptr NULL
 * when the member is absent. */
typedef struct kedge_json_span {
  const char *ptr;
  size_t len;
} kedge_json_span_t;

/* The number of members of a table that can be read flat (at most KEDGE_JSON_FLAT_MAX of them;
 * a member's `check` runs on its value; a body holding a member of another kind than
 * KEDGE_JSON_STRING, KEDGE_JSON_BOOLEAN or a KEDGE_JSON_OBJECT of a flat `object` table without
 * `check` is never flat), else 0. */
size_t kedge_json_flat_count(const kedge_json_member_t *members);

/* Reads `text` without a jansson tree when it is a flat body of `members`: one JSON object
 * whose members are each named in the table, once, with a string value of ASCII octets that
 * need no decoding (no escape, no control octet) and at most max_len of them, a boolean for a
 * KEDGE_JSON_BOOLEAN, or for a KEDGE_JSON_OBJECT with an `object` table an object that is
 * itself such a body of that table, every required member present, every `check` passing,
 * nothing but whitespace around. Then values[i] is members[i]'s value (a string's text; a
 * boolean's, "true" or "false"; an object member's whole text from '{' to '}', which
 * kedge_json_flat_read reads with its `object` table) and the answer is true: exactly the
 * bodies that json_loadb (JSON_REJECT_DUPLICATES) and kedge_json_check accept in that shape,
 * with the strings jansson would give. false (values all absent) for anything else, valid or
 * not: read it with jansson and kedge_json_check, which give the verdict and the
 * ProblemDetails. */
bool kedge_json_flat_read(const void *text, size_t len, const kedge_json_member_t *members,
                          kedge_json_span_t values[KEDGE_JSON_FLAT_MAX]);

/* TS 29.503 / TS 29.509 ResynchronizationInfo {rand, auts}, for nesting with `object`. */
extern const kedge_json_member_t kedge_json_resynchronization_info[];

#ifdef __cplusplus
}
#endif
#endif
