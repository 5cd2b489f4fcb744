/* Step 2 of SPEC.md 0 at the AUSF: derive and keep Kedge and Kedge ID before KAUSF is dropped.
 * Until the edge-key issue lands this hook only passes the confirmation on. */
#include "ausf.h"

void ausf_edge_on_success(ausf_confirmation_t *c)
{
  ausf_confirmation_answer(c, KEDGE_OK, NULL);
}
