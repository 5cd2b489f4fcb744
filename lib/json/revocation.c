/* KedgeRevocationNotification checks (kedge/revocation.h). */
#include "kedge/revocation.h"

#include <stdio.h>
#include <string.h>

#include "kedge/edge.h"
#include "kedge/json_check.h"
#include "kedge/problem.h"

static const char *check_cause(const json_t *v)
{
  const char *s = json_string_value(v);
  return !strcmp(s, "REPLACED") || !strcmp(s, "DELETED") || !strcmp(s, "EXPIRED")
             ? NULL
             : "must be REPLACED, DELETED or EXPIRED";
}

/* KedgeRevokedKey */
static const kedge_json_member_t item_members[] = {
    {.name = "kedgeId", .kind = KEDGE_JSON_STRING, .required = true, .max_len = KEDGE_ID_MAX},
    {.name = "cause",
     .kind = KEDGE_JSON_STRING,
     .required = true,
     .max_len = 16,
     .check = check_cause},
    {.name = NULL},
};

kedge_err_t kedge_revocation_check(const json_t *body, json_t **problem)
{
  *problem = NULL;
  json_t *p =
      kedge_problem_new(400, "MANDATORY_IE_INCORRECT", "invalid KedgeRevocationNotification");
  if (!p)
    return KEDGE_ERR_NOMEM;
  const json_t *items = json_object_get(body, KEDGE_REVOCATION_MEMBER);
  size_t n = json_array_size(items);
  bool bad = false, missing_only = true;
  if (!json_is_array(items) || n == 0 || n > KEDGE_REVOCATION_MAX_ITEMS) {
    kedge_problem_add_invalid_param(p, "/" KEDGE_REVOCATION_MEMBER,
                                    "must be an array of 1 to 1000 KedgeRevokedKey");
    bad = true;
    missing_only = items == NULL;
  }
  for (size_t i = 0; !bad && i < n; i++) {
    const json_t *item = json_array_get(items, i);
    char at[48];
    bool missing = false;
    snprintf(at, sizeof(at), "/" KEDGE_REVOCATION_MEMBER "/%zu", i);
    if (kedge_json_check_at(item, item_members, at, p, &missing) != KEDGE_OK) {
      bad = true;
      missing_only = missing_only && missing;
      continue;
    }
    const char *id = json_string_value(json_object_get(item, "kedgeId")), *why = NULL;
    kedge_id_t parsed;
    if (kedge_id_parse(id, strlen(id), &parsed, &why)) {
      snprintf(at, sizeof(at), "/" KEDGE_REVOCATION_MEMBER "/%zu/kedgeId", i);
      kedge_problem_add_invalid_param(p, at, why);
      bad = true;
      missing_only = false;
    }
  }
  if (!bad) {
    json_decref(p);
    return KEDGE_OK;
  }
  if (missing_only)
    json_object_set_new(p, "cause", json_string("MANDATORY_IE_MISSING"));
  *problem = p;
  return KEDGE_ERR_INVALID_ARG;
}
