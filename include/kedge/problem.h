/* ProblemDetails (TS 29.571 5.2.4.1, RFC 7807) and the one mapping of kedge_err_t to HTTP
 * status + cause. Every error a kedge SBI server answers is built here, with content type
 * application/problem+json. Texts never carry key material. */
#ifndef KEDGE_PROBLEM_H
#define KEDGE_PROBLEM_H

#include <jansson.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KEDGE_PROBLEM_CONTENT_TYPE "application/problem+json"

/* A new ProblemDetails object {title, status, detail?, cause}; NULL only when out of memory.
 * `detail` and `cause` may be NULL (member left out); text that is not UTF-8 is replaced by a
 * placeholder. The caller owns the reference. */
json_t *kedge_problem_new(int status, const char *cause, const char *detail);

/* kedge_problem_new with the status and cause of kedge_problem_from_err(err); `detail` NULL
 * uses kedge_strerror(err). NULL only when out of memory. */
json_t *kedge_problem_from_error(kedge_err_t err, const char *detail);

/* Appends {param, reason} to the object's invalidParams array (created on first use).
 * `param` names the field as a JSON pointer (e.g. "/resynchronizationInfo/auts"). */
kedge_err_t kedge_problem_add_invalid_param(json_t *problem, const char *param, const char *reason);

/* The HTTP status and TS 29.500/29.509 cause for a library error (e.g. KEDGE_ERR_BUSY -> 503
 * "NF_CONGESTION", KEDGE_ERR_BAD_KEDGE_ID -> 400 "MANDATORY_IE_INCORRECT"). KEDGE_OK gives 200
 * and a NULL cause; a value outside the enum gives 500 "SYSTEM_FAILURE". Either pointer may be
 * NULL. */
void kedge_problem_from_err(kedge_err_t err, int *status, const char **cause);

/* The reason phrase used as `title` for a status ("Not Found"); never NULL. */
const char *kedge_http_status_title(int status);

/* The same table without the fall-backs: RFC 9110 15's phrase, "" for a status it lacks
 * (the flow diagram of `kedge demo` then shows the number alone). */
const char *kedge_http_reason_phrase(int status);

#ifdef __cplusplus
}
#endif
#endif
