/* What `kedge-ue register` prints: the step log (numbered as SPEC.md 0: step 0 is 5G AKA,
 * step 1 the UE's derivation of Kedge and the Kedge ID) or one JSON object. Keys appear only as
 * fingerprints (kedge/fingerprint.h), never as values. */
#include <stdio.h>

#include "ue.h"

void ue_print_steps(const ue_config_t *cfg, const ue_result_t *r, FILE *out)
{
  fprintf(out, "kedge-ue: %s via %s, serving network %s\n", cfg->usim.supi.value, cfg->ausf_uri,
          cfg->snn);
  for (size_t i = 0; i < r->n_steps; i++)
    fprintf(out, "step %d %9.2f ms  %s\n", r->steps[i].step, r->steps[i].ms, r->steps[i].text);
  if (r->outcome == UE_REGISTERED)
    fprintf(out, "registered in %.2f ms: Kedge ID %s, KAUSF %s, Kedge %s (SHA-256 fingerprints)\n",
            r->elapsed_ms, r->kedge_id, r->kausf_fingerprint, r->kedge_fingerprint);
  else
    fprintf(out, "failed after %.2f ms (%s): %s\n", r->elapsed_ms, ue_outcome_name(r->outcome),
            r->why);
}

json_t *ue_result_json(const ue_config_t *cfg, const ue_result_t *r)
{
  json_t *o = json_object();
  if (!o)
    return NULL;
  char sqn[16];
  snprintf(sqn, sizeof(sqn), "%012llx", (unsigned long long)r->sqn);
  int bad = 0;
  bad |= json_object_set_new(o, "supi", json_string(cfg->usim.supi.value));
  if (r->outcome == UE_REGISTERED) {
    bad |= json_object_set_new(o, "kedgeId", json_string(r->kedge_id));
    bad |= json_object_set_new(o, "kedgeFingerprint", json_string(r->kedge_fingerprint));
    if (r->akid[0]) {
      bad |= json_object_set_new(o, "aKid", json_string(r->akid));
      bad |= json_object_set_new(o, "kAkmaFingerprint", json_string(r->k_akma_fingerprint));
    }
  }
  if (r->kausf_fingerprint[0])
    bad |= json_object_set_new(o, "kausfFingerprint", json_string(r->kausf_fingerprint));
  if (r->sqn_accepted)
    bad |= json_object_set_new(o, "sqn", json_string(sqn));
  bad |= json_object_set_new(o, "resynchronised", json_boolean(r->resynchronised));
  bad |= json_object_set_new(o, "authResult",
                             r->auth_result[0] ? json_string(r->auth_result) : json_null());
  bad |= json_object_set_new(o, "elapsedMs",
                             json_real((double)(long long)(r->elapsed_ms * 1000.0 + 0.5) / 1000.0));
  if (r->outcome != UE_REGISTERED) {
    bad |= json_object_set_new(o, "failure", json_string(ue_outcome_name(r->outcome)));
    bad |= json_object_set_new(o, "error", json_string(r->why));
    if (r->http_status)
      bad |= json_object_set_new(o, "status", json_integer(r->http_status));
    if (r->cause[0])
      bad |= json_object_set_new(o, "cause", json_string(r->cause));
  }
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}
