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

#ifdef __cplusplus
extern "C" {
#endif

#define KEDGE_REVOCATION_CALLBACK "Nausf_UEAuthentication_KedgeRevocation; apiversion=1"
#define KEDGE_REVOCATION_MEMBER   "revokedKeys"
#define KEDGE_REVOCATION_MAX_ITEMS 1000

/* KEDGE_OK when `body` is a KedgeRevocationNotification of 1 to KEDGE_REVOCATION_MAX_ITEMS
 * items, each with a Kedge ID that passes the strict parser (SPEC.md 2) and a known cause.
 * Otherwise KEDGE_ERR_INVALID_ARG and *problem is a 400 ProblemDetails (cause
 * MANDATORY_IE_INCORRECT or MANDATORY_IE_MISSING, invalidParams) to answer with and free;
 * KEDGE_ERR_NOMEM. The body is applied whole or not at all. */
kedge_err_t kedge_revocation_check(const json_t *body, json_t **problem);

#ifdef __cplusplus
}
#endif
#endif
