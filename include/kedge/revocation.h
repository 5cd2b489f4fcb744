/* KedgeRevocationNotification (issue 13; api/TS29509_Nausf_UEAuthentication_keyrequest.yaml,
 * callback KedgeRevocation): the body the AUSF POSTs to a consumer's revocCallbackUri, and the
 * NEF relays to an AF's:
 *
 *   {"revokedKeys": [{"kedgeId": "<Kedge ID>", "cause": "REPLACED"|"DELETED"|"EXPIRED"}, ...]}
 *
 * sent with `3gpp-Sbi-Callback: Nausf_UEAuthentication_KedgeRevocation; apiversion=1`
 * (TS 29.500 5.2.3.2.3); the receiver answers 204. One checker for every receiver. */
#ifndef KEDGE_REVOCATION_H
#define KEDGE_REVOCATION_H

#include <jansson.h>

#include "kedge/error.h"
#include "kedge/metrics.h"
#include "kedge/sbi_server.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KEDGE_REVOCATION_CALLBACK  "Nausf_UEAuthentication_KedgeRevocation; apiversion=1"
#define KEDGE_REVOCATION_MEMBER    "revokedKeys"
#define KEDGE_REVOCATION_MAX_ITEMS 1000

/* KEDGE_OK when `body` is a KedgeRevocationNotification of 1 to KEDGE_REVOCATION_MAX_ITEMS
 * items, each with a Kedge ID that passes the strict parser (SPEC.md 2) and a known cause.
 * Otherwise KEDGE_ERR_INVALID_ARG and *problem is a 400 ProblemDetails (cause
 * MANDATORY_IE_INCORRECT or MANDATORY_IE_MISSING, invalidParams) to answer with and free;
 * KEDGE_ERR_NOMEM. The body is applied whole or not at all. */
kedge_err_t kedge_revocation_check(const json_t *body, json_t **problem);

/* A receiver's handler (the ECS's, the NEF's): the request's certificate must carry one of
 * `notifiers` (else 403 CONSUMER_NOT_AUTHORIZED, counted in `refused`), its body must pass
 * kedge_revocation_check() (else 400). Returns the revokedKeys array (borrowed from the
 * request; answer 204 when done), or NULL once the request has been answered. */
json_t *kedge_revocation_receive(kedge_sbi_request_t *req, const char *const *notifiers,
                                 size_t n_notifiers, kedge_counter_t *refused);

#ifdef __cplusplus
}
#endif
#endif
