/* The TLS 1.3 external-PSK server side (SPEC.md 4): the SSL_CTX, and the handshake of every
 * accepted connection on its worker's loop until it is handed to HTTP/2. */
#ifndef KEDGE_ECS_PSK_HANDSHAKE_H
#define KEDGE_ECS_PSK_HANDSHAKE_H

#include <sys/socket.h>

#include <openssl/ssl.h>

#include "ecs.h"
#include "worker.h"

SSL_CTX *ecs_tls_ctx_new(const ecs_t *ecs);
/* The SBI runtime's accept hook (kedge_sbi_server_set_accept_hook); arg is the ecs_t. */
void ecs_accept(kedge_sbi_worker_t *worker, evutil_socket_t fd, const struct sockaddr *peer,
                int peer_len, void *arg);
/* At a worker's end: handshakes still in progress are dropped. */
void ecs_handshakes_free(ecs_worker_t *ew);

#endif
