/* JSON bodies of the SBI server and client (request.c, client.c). */
#ifndef KEDGE_SBI_JSON_BODY_H
#define KEDGE_SBI_JSON_BODY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kedge/error.h"

/* Serialises `body` compactly into a new malloc'ed buffer of *len octets, in one pass (every
 * body of a 5G AKA run goes through here three times per process: json_dumpb's measuring
 * pass cost as much as the dump itself). Bodies may carry keys (KAUSF, KSEAF, Kedge): a
 * buffer outgrown on the way is wiped before it is freed, and the caller wipes the result.
 * KEDGE_ERR_INVALID_ARG when `body` is not an object or array, KEDGE_ERR_NOMEM. */
kedge_err_t sbi_json_dump(const json_t *body, uint8_t **out, size_t *len);

#endif
