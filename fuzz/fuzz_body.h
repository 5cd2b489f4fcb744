/* Shared by the fuzz-*-bodies targets: a JSON body read as kedge's SBI server and client read
 * them (json_loadb with JSON_REJECT_DUPLICATES: lib/sbi/request.c, lib/sbi/client.c), then
 * checked against a handler's member table the way kedge_sbi_request_checked_json() does:
 * verdict first without a ProblemDetails, then again building one. Aborts when the two
 * verdicts differ or a refusal names nothing (every 400 lists its invalidParams). */
#ifndef KEDGE_FUZZ_BODY_H
#define KEDGE_FUZZ_BODY_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kedge/json_check.h"
#include "kedge/problem.h"

static inline json_t *fuzz_body_load(const uint8_t *data, size_t size)
{
  json_error_t jerr;
  return json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
}

/* Returns true when `body` passes `members`. */
static inline bool fuzz_body_check(const json_t *body, const kedge_json_member_t *members)
{
  kedge_err_t quick = kedge_json_check(body, members, NULL, NULL);
  json_t *problem = kedge_problem_new(400, "MANDATORY_IE_INCORRECT", "fuzz");
  if (!problem)
    return false;
  bool missing_only = false;
  kedge_err_t full = kedge_json_check(body, members, problem, &missing_only);
  if (full != KEDGE_ERR_NOMEM) {
    if (full != quick)
      abort(); /* the fast path and the described path must agree */
    size_t n = json_array_size(json_object_get(problem, "invalidParams"));
    if ((full == KEDGE_OK) != (n == 0))
      abort();
  }
  json_decref(problem);
  return quick == KEDGE_OK;
}

/* The values kedge_json_flat_read gave (`v`) against the tree's object `obj`, member by member
 * of `members`: the same presence, a string's octets, a boolean's text, and a nested object's
 * text read again with its own table, down every level. */
static inline void fuzz_flat_same(const kedge_json_span_t v[], const json_t *obj,
                                  const kedge_json_member_t *members)
{
  for (size_t i = 0; members[i].name; i++) {
    const json_t *s = json_object_get(obj, members[i].name);
    if (!v[i].ptr != !s)
      abort();
    if (!s)
      continue;
    const char *text = json_is_true(s) ? "true" : json_is_false(s) ? "false" : NULL;
    kedge_json_span_t w[KEDGE_JSON_FLAT_MAX];
    switch (members[i].kind) {
    case KEDGE_JSON_STRING:
      if (!json_is_string(s) || json_string_length(s) != v[i].len ||
          memcmp(json_string_value(s), v[i].ptr, v[i].len) != 0)
        abort();
      break;
    case KEDGE_JSON_BOOLEAN:
      if (!text || strlen(text) != v[i].len || memcmp(text, v[i].ptr, v[i].len) != 0)
        abort();
      break;
    case KEDGE_JSON_OBJECT: /* its text, as a handler reads it again (daemons/ue/nausf.c) */
      if (!json_is_object(s) || !kedge_json_flat_read(v[i].ptr, v[i].len, members[i].object, w))
        abort();
      fuzz_flat_same(w, s, members[i].object);
      break;
    default: /* a member of another kind is never read flat */
      abort();
    }
  }
}

/* A body read flat (kedge_sbi_server_route_strings, the UE's answers) must be one that jansson
 * reads (`body`, NULL when it refused the text) and `members` accept, with the same values:
 * aborts when kedge_json_flat_read says yes and the tree disagrees. */
static inline void fuzz_body_flat(const uint8_t *data, size_t size, const json_t *body,
                                  const kedge_json_member_t *members)
{
  kedge_json_span_t v[KEDGE_JSON_FLAT_MAX];
  if (!kedge_json_flat_read(data, size, members, v))
    return;
  if (!body || kedge_json_check(body, members, NULL, NULL) != KEDGE_OK)
    abort();
  fuzz_flat_same(v, body, members);
}

#endif
