/* The receiving side of KedgeRevocationNotification (kedge/revocation.h), for every receiver. */
#include "kedge/revocation.h"

json_t *kedge_revocation_receive(kedge_sbi_request_t *req, const char *const *notifiers,
                                 size_t n_notifiers, kedge_counter_t *refused)
{
  bool allowed = false;
  for (size_t i = 0; i < n_notifiers && !allowed; i++)
    allowed = kedge_sbi_request_peer_is(req, notifiers[i]);
  if (!allowed) {
    kedge_counter_add(refused, 1);
    /* SPEC.md 3: the 403 cause of kedge's services that authorise by certificate name */
    kedge_sbi_respond_problem(req, 403, "CONSUMER_NOT_AUTHORIZED", "not in revocation.notifiers");
    return NULL;
  }
  json_t *body = kedge_sbi_request_json(req), *problem = NULL;
  kedge_err_t err = kedge_revocation_check(body, &problem);
  if (err) {
    if (problem)
      kedge_sbi_respond_problem_json(req, problem);
    else
      kedge_sbi_respond_err(req, err, NULL);
    json_decref(problem);
    return NULL;
  }
  return json_object_get(body, KEDGE_REVOCATION_MEMBER);
}
