/* AUSF selection (SPEC.md 2: "the RID lets a NEF or ECS route to the AUSF group that holds the
 * key"): the Kedge ID's realm names the home network, its RID the group, as the SUCI's routing
 * indicator does for the AUSF/UDM selection of TS 23.501 6.3.4. No NRF: a static table. */
#include <string.h>

#include "nef.h"

const nef_ausf_group_t *nef_route(const nef_t *nef, const kedge_id_t *id)
{
  for (size_t i = 0; i < nef->n_groups; i++) {
    const nef_ausf_group_t *g = &nef->groups[i];
    if (strcmp(g->home.mcc, id->home.mcc) != 0 || strcmp(g->home.mnc, id->home.mnc) != 0)
      continue;
    if (g->any_rid)
      return g;
    for (size_t j = 0; j < g->n_rids; j++)
      if (strcmp(g->rids[j], id->rid) == 0) /* digit strings: "012" is not "12" */
        return g;
  }
  return NULL;
}
