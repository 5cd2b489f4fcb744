/* ProblemDetails (TS 29.571 5.2.4.1, RFC 7807) and the one mapping of kedge_err_t to an HTTP
 * status and an application error cause. Causes come from TS 29.500 Table 5.2.7.2-1 (errors
 * common to all SBI APIs) and, for authentication, TS 29.509 6.1.7.3 / TS 29.503 6.3.7.3.
 * Handlers override the cause where their API defines a more specific one (USER_NOT_FOUND,
 * KEDGE_ID_NOT_FOUND, SERVING_NETWORK_NOT_AUTHORIZED...). */
#include "kedge/problem.h"

#include <stdbool.h>
#include <stddef.h>

struct mapping {
  int status;
  const char *cause;
};

static const struct mapping mappings[KEDGE_ERR__COUNT] = {
    [KEDGE_OK] = {200, NULL},
    /* kedge_json_check reports an invalid body as KEDGE_ERR_INVALID_ARG. */
    [KEDGE_ERR_INVALID_ARG] = {400, "MANDATORY_IE_INCORRECT"},
    [KEDGE_ERR_BAD_HEX] = {400, "MANDATORY_IE_INCORRECT"},
    [KEDGE_ERR_BAD_LENGTH] = {400, "MANDATORY_IE_INCORRECT"},
    [KEDGE_ERR_BAD_SUPI] = {400, "MANDATORY_IE_INCORRECT"},
    [KEDGE_ERR_BAD_PLMN] = {400, "MANDATORY_IE_INCORRECT"},
    [KEDGE_ERR_BAD_RID] = {400, "MANDATORY_IE_INCORRECT"},
    [KEDGE_ERR_BAD_KEDGE_ID] = {400, "MANDATORY_IE_INCORRECT"},
    [KEDGE_ERR_BAD_ECS_ID] = {400, "MANDATORY_IE_INCORRECT"},
    /* TS 29.503 6.3.7.3 / TS 29.509 6.1.7.3: a failed MAC-S on resynchronisation is an
     * authentication rejection. */
    [KEDGE_ERR_MAC_FAILURE] = {403, "AUTHENTICATION_REJECTED"},
    [KEDGE_ERR_SYNC_FAILURE] = {403, "AUTHENTICATION_REJECTED"},
    [KEDGE_ERR_SQN_EXHAUSTED] = {500, "SYSTEM_FAILURE"},
    [KEDGE_ERR_CRYPTO] = {500, "SYSTEM_FAILURE"},
    [KEDGE_ERR_NOMEM] = {500, "SYSTEM_FAILURE"},
    /* TS 29.500 defines no cause for 413; the client sent too much: UNSPECIFIED_MSG_FAILURE is
     * the generic client-error cause. */
    [KEDGE_ERR_TOO_BIG] = {413, "UNSPECIFIED_MSG_FAILURE"},
    /* TS 29.500 has no generic "not found" cause; a missing context (authCtxId) is the generic
     * case in kedge; SUPI and Kedge ID lookups override it. */
    [KEDGE_ERR_NOT_FOUND] = {404, "CONTEXT_NOT_FOUND"},
    [KEDGE_ERR_IO] = {500, "SYSTEM_FAILURE"},
    [KEDGE_ERR_CONFIG] = {500, "SYSTEM_FAILURE"},
    [KEDGE_ERR_BUSY] = {503, "NF_CONGESTION"},
    [KEDGE_ERR_TIMEOUT] = {504, "TIMED_OUT_REQUEST"},
    /* SPEC.md section 3: 503 + Retry-After when no upstream NF answers (TS 29.500 lists
     * TARGET_NF_NOT_REACHABLE under 504 for an SCP; kedge answers as the NF itself). */
    [KEDGE_ERR_UNAVAILABLE] = {503, "TARGET_NF_NOT_REACHABLE"},
    /* SPEC.md section 3: the 403 cause of both kedge services that authorise consumers. */
    [KEDGE_ERR_FORBIDDEN] = {403, "CONSUMER_NOT_AUTHORIZED"},
    /* TS 29.503 6.3.7.3: the unsupported thing kedge meets is a SUCI protection scheme. */
    [KEDGE_ERR_UNSUPPORTED] = {501, "UNSUPPORTED_PROTECTION_SCHEME"},
    [KEDGE_ERR_BAD_AKID] = {400, "MANDATORY_IE_INCORRECT"},
};

void kedge_problem_from_err(kedge_err_t err, int *status, const char **cause)
{
  struct mapping m = {500, "SYSTEM_FAILURE"};
  if ((unsigned)err < KEDGE_ERR__COUNT && mappings[err].status)
    m = mappings[err];
  if (status)
    *status = m.status;
  if (cause)
    *cause = m.cause;
}

const char *kedge_http_reason_phrase(int status)
{
  /* RFC 9110 section 15 reason phrases. */
  switch (status) {
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 204:
    return "No Content";
  case 307:
    return "Temporary Redirect";
  case 308:
    return "Permanent Redirect";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 406:
    return "Not Acceptable";
  case 408:
    return "Request Timeout";
  case 409:
    return "Conflict";
  case 410:
    return "Gone";
  case 411:
    return "Length Required";
  case 412:
    return "Precondition Failed";
  case 413:
    return "Content Too Large";
  case 414:
    return "URI Too Long";
  case 415:
    return "Unsupported Media Type";
  case 429:
    return "Too Many Requests";
  case 500:
    return "Internal Server Error";
  case 501:
    return "Not Implemented";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  case 504:
    return "Gateway Timeout";
  default:
    return "";
  }
}

const char *kedge_http_status_title(int status)
{
  const char *phrase = kedge_http_reason_phrase(status);
  if (*phrase)
    return phrase;
  if (status >= 400 && status < 500)
    return "Client Error";
  if (status >= 500 && status < 600)
    return "Server Error";
  return "Unknown Status";
}

/* json_object_set_new that reports failure (the value is consumed either way). */
static bool set(json_t *obj, const char *key, json_t *value)
{
  return value && json_object_set_new(obj, key, value) == 0;
}

/* A JSON string; text that is not UTF-8 (a detail may quote what a peer sent) becomes a
 * placeholder rather than failing the whole answer. */
static json_t *text(const char *s)
{
  json_t *j = json_string(s);
  return j ? j : json_string("(text not valid UTF-8)");
}

json_t *kedge_problem_new(int status, const char *cause, const char *detail)
{
  json_t *p = json_object();
  if (!p)
    return NULL;
  if (!set(p, "title", json_string(kedge_http_status_title(status))) ||
      !set(p, "status", json_integer(status)) || (detail && !set(p, "detail", text(detail))) ||
      (cause && !set(p, "cause", text(cause)))) {
    json_decref(p);
    return NULL;
  }
  return p;
}

json_t *kedge_problem_from_error(kedge_err_t err, const char *detail)
{
  int status;
  const char *cause;
  kedge_problem_from_err(err, &status, &cause);
  return kedge_problem_new(status, cause, detail ? detail : kedge_strerror(err));
}

kedge_err_t kedge_problem_add_invalid_param(json_t *problem, const char *param, const char *reason)
{
  if (!json_is_object(problem) || !param)
    return KEDGE_ERR_INVALID_ARG;
  json_t *list = json_object_get(problem, "invalidParams");
  if (!list) {
    list = json_array();
    if (!list || json_object_set_new(problem, "invalidParams", list) != 0)
      return KEDGE_ERR_NOMEM;
  } else if (!json_is_array(list))
    return KEDGE_ERR_INVALID_ARG;

  /* TS 29.571 5.2.4.2 InvalidParam: param mandatory, reason optional. */
  json_t *entry = json_object();
  if (!entry)
    return KEDGE_ERR_NOMEM;
  if (!set(entry, "param", text(param)) || (reason && !set(entry, "reason", text(reason)))) {
    json_decref(entry);
    return KEDGE_ERR_NOMEM;
  }
  /* json_array_append_new releases the entry itself when it fails. */
  return json_array_append_new(list, entry) == 0 ? KEDGE_OK : KEDGE_ERR_NOMEM;
}
