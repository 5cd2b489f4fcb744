/* The NEF's AF table (SPEC.md 3): which AF identities may ask for keys, with which profiles
 * (SPEC.md 6) and for which home networks. */
#include <string.h>

#include "nef.h"

nef_af_t *nef_af_find(nef_t *nef, const char *af_id)
{
  for (size_t i = 0; i < nef->n_afs; i++)
    if (strcmp(nef->afs[i].af_id, af_id) == 0)
      return &nef->afs[i];
  return NULL;
}

bool nef_af_serves_home(const nef_af_t *af, const kedge_plmn_t *home)
{
  for (size_t i = 0; i < af->n_home_networks; i++)
    if (!strcmp(af->home_networks[i].mcc, home->mcc) &&
        !strcmp(af->home_networks[i].mnc, home->mnc))
      return true;
  return false;
}
