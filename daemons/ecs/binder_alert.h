/* decrypt_error for a binder that does not verify (RFC 8446 4.2.11): a BIO filter on the
 * handshake's writes. */
#ifndef KEDGE_ECS_BINDER_ALERT_H
#define KEDGE_ECS_BINDER_ALERT_H

#include <openssl/ssl.h>

#include "kedge/error.h"

/* Gives `ssl` the socket `fd` (not closed by the BIOs) with the alert filter on writes. */
kedge_err_t ecs_binder_alert_attach(SSL *ssl, int fd);
/* After the handshake: writes go straight to the socket again. */
void ecs_binder_alert_detach(SSL *ssl);

#endif
