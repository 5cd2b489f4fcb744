/* libFuzzer target: the JSON bodies the AUSF reads from its peers, with the handlers' own
 * tables and readers (daemons/ausf): from a SEAF, AuthenticationInfo with
 * resynchronizationInfo (TS 29.509 6.1.6.2.2, ue-authentications) and ConfirmationData
 * (6.1.6.2.5, 5g-aka-confirmation); from an ECS or the NEF, KedgeKeyRequest (SPEC.md 3,
 * kedge-keys/retrieve); from the UDM, AuthenticationInfoResult (TS 29.503 6.3.6.2.3,
 * ausf_read_vector). The first octet picks the body, the rest is the JSON text.
 * Invariants: no crash, no leak; a KedgeKeyRequest, ConfirmationData or AuthenticationInfo read
 * flat (lib/json/flat.c) is one the tree reads and accepts with the same strings; a vector read is
 * complete (SUPI parses, a RID the UDM sent is well-formed, none sent leaves it empty). */
#include <string.h>

#include "ausf.h"
#include "fuzz_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  json_t *body = fuzz_body_load(data + 1, size - 1);
  if (data[0] % 4 == 2) /* the SBI server reads a plain KedgeKeyRequest without a tree */
    fuzz_body_flat(data + 1, size - 1, body, ausf_key_request_members);
  if (data[0] % 4 == 1) /* and a plain ConfirmationData, its resStar checked */
    fuzz_body_flat(data + 1, size - 1, body, ausf_confirmation_members);
  if (data[0] % 4 == 0) /* and an AuthenticationInfo without resynchronizationInfo */
    fuzz_body_flat(data + 1, size - 1, body, ausf_auth_info_members);
  if (!body)
    return 0;
  switch (data[0] % 4) {
  case 0:
    fuzz_body_check(body, ausf_auth_info_members);
    break;
  case 1:
    fuzz_body_check(body, ausf_confirmation_members);
    break;
  case 2:
    fuzz_body_check(body, ausf_key_request_members);
    break;
  default: {
    ausf_auth_ctx_t ctx;
    uint8_t rand[16], autn[16];
    memset(&ctx, 0, sizeof(ctx));
    if (ausf_read_vector(body, &ctx, rand, autn)) {
      kedge_supi_t supi;
      if (kedge_supi_parse(ctx.supi, &supi) != KEDGE_OK ||
          (ctx.rid_from_udm ? kedge_rid_check(ctx.routing_id) != KEDGE_OK
                            : ctx.routing_id[0] != '\0'))
        abort();
    }
  }
  }
  json_decref(body);
  return 0;
}
