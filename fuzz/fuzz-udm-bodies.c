/* libFuzzer target: what an AUSF (or anyone past mTLS) sends the UDM's generate-auth-data
 * (TS 29.503 6.3.3.2.4): the {supiOrSuci} path segment (udm_resolve_supi_or_suci: SUPI or
 * SUCI, TS 23.003 2.2B; no home network keys here, fuzz-suci covers de-concealment) and the
 * AuthenticationInfoRequest body with resynchronizationInfo (TS 29.503 6.3.6.2.2), checked with the
 * handler's own table. Input: the first line is the path segment, the rest the body. Invariants: no
 * crash, no leak; a resolved SUPI is a SUPI kedge_supi_parse accepts; a body that passes has the
 * members the handler then reads, with the lengths it assumes. */
#include <string.h>

#include "fuzz_body.h"
#include "kedge/hex.h"
#include "udm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const uint8_t *nl = memchr(data, '\n', size);
  size_t seg_len = nl ? (size_t)(nl - data) : size;
  char seg[512];
  if (seg_len < sizeof(seg)) {
    memcpy(seg, data, seg_len);
    seg[seg_len] = '\0';
    static udm_t udm; /* an empty key set, as a UDM with no udm.suci.keys has */
    if (!udm.suci_keys && kedge_suci_keys_new(&udm.suci_keys) != KEDGE_OK)
      abort();
    kedge_supi_t supi, again;
    char rid[KEDGE_RID_MAX + 1];
    const char *why = NULL;
    kedge_err_t err = udm_resolve_supi_or_suci(&udm, seg, &supi, rid, &why);
    if (err == KEDGE_OK && kedge_supi_parse(supi.value, &again) != KEDGE_OK)
      abort();
    if (err != KEDGE_OK && !why)
      abort(); /* the 400 names its reason */
  }
  if (!nl)
    return 0;
  json_t *body = fuzz_body_load(nl + 1, size - seg_len - 1);
  /* the server reads it flat when it can (kedge_sbi_server_route_strings): the tree agrees */
  fuzz_body_flat(nl + 1, size - seg_len - 1, body, udm_auth_info_request_members);
  fuzz_body_flat(nl + 1, size - seg_len - 1, body, udm_auth_event_members); /* auth-events */
  if (body && fuzz_body_check(body, udm_auth_info_request_members)) {
    /* what generate_auth_data() reads next */
    const char *snn = json_string_value(json_object_get(body, "servingNetworkName"));
    if (!snn || strlen(snn) > 79)
      abort();
    json_t *resync = json_object_get(body, "resynchronizationInfo");
    uint8_t rand[16], auts[14];
    if (resync && (kedge_hex_decode(json_string_value(json_object_get(resync, "rand")), rand, 16) ||
                   kedge_hex_decode(json_string_value(json_object_get(resync, "auts")), auts, 14)))
      abort(); /* the table promised 32 and 28 hex digits */
  }
  json_decref(body);
  return 0;
}
