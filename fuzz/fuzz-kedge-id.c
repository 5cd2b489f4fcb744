/* libFuzzer target: the strict Kedge ID parser (SPEC.md 2), the SUPI parser and the ECS ID
 * normaliser. Invariants: no crash; a parsed ID formats back to exactly its input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kedge/edge.h"
#include "kedge/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  kedge_id_t id;
  const char *why;
  if (kedge_id_parse((const char *)data, size, &id, &why) == KEDGE_OK) {
    char back[KEDGE_ID_MAX + 1];
    if (kedge_id_format(&id, back) != KEDGE_OK || strlen(back) != size ||
        memcmp(back, data, size) != 0)
      abort(); /* one TID, one spelling: parse and format must be inverse */
  } else if (!why) {
    abort(); /* every rejection names its reason */
  }

  char text[512];
  size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
  memcpy(text, data, n);
  text[n] = '\0';
  kedge_supi_t supi;
  (void)kedge_supi_parse(text, &supi);
  char ecs_id[KEDGE_ECS_ID_MAX + 1];
  if (kedge_ecs_id_normalise(text, ecs_id, &why) == KEDGE_OK) {
    char again[KEDGE_ECS_ID_MAX + 1];
    if (kedge_ecs_id_normalise(ecs_id, again, &why) != KEDGE_OK || strcmp(again, ecs_id))
      abort(); /* normalising is idempotent */
  }
  return 0;
}
