/* Per-connection state of an adopted connection (SPEC.md 4): the first eecId on a connection
 * is bound to it. */
#ifndef KEDGE_ECS_CONN_BINDING_H
#define KEDGE_ECS_CONN_BINDING_H

#include <openssl/ssl.h>

#include "kedge/error.h"

#define ECS_CONN_TOKEN_MAX 32
/* Attaches binding state to `ssl` (freed with it) and writes the token that names it; the
 * token goes to kedge_sbi_worker_adopt() as the connection's second identity. */
kedge_err_t ecs_conn_binding_new(SSL *ssl, char token[ECS_CONN_TOKEN_MAX]);
/* KEDGE_OK for the connection's first eecId (again), KEDGE_ERR_FORBIDDEN for another,
 * KEDGE_ERR_NOT_FOUND for an unknown token. */
kedge_err_t ecs_conn_bind_eec(const char *token, const char *eec_id);

#endif
