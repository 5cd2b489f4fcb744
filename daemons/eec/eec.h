/* kedge-eec: the Edge Enabler Client side of EDGE-4 (TS 23.558, TS 24.558) with the TLS 1.3
 * external-PSK authentication of SPEC.md 4: Kedge ID as PSK identity, Kedge (profile kedge)
 * or K_ECS (profile bound, SPEC.md 6) as the key, taken from the UE's key agent (SPEC.md 5)
 * or, for devices without one and for tests, from a key file. Design: docs/eec.md. */
#ifndef KEDGE_EEC_H
#define KEDGE_EEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "kedge/edge.h"
#include "kedge/error.h"

/* Exit statuses: which step failed (docs/eec.md). */
#define EEC_EXIT_OK    0
#define EEC_EXIT_USAGE 2
#define EEC_EXIT_KEYS  3 /* agent or key file */
#define EEC_EXIT_TCP   4
#define EEC_EXIT_TLS   5
#define EEC_EXIT_HTTP  6 /* HTTP/2 failure or a status other than 200/204 */

/* The PSK the EEC offers: identity = Kedge ID, key = Kedge or K_ECS; or identity = A-KID, key
 * = K_AF (profile akma). */
typedef struct eec_psk {
  char identity[KEDGE_ID_MAX + 1];
  uint8_t key[KEDGE_KEY_LEN];
} eec_psk_t;

/* ---- key_file.c ---- */
/* Reads a key file: 64 hex digits (one optional newline). The file must be a regular file of
 * this user with no permission for group or others (0600 or 0400), like ssh's private keys.
 * On error `why` says what is wrong without the contents. */
kedge_err_t eec_key_file_read(const char *path, uint8_t key[KEDGE_KEY_LEN], char *why,
                              size_t why_size);

/* ---- agent.c: the UE key agent (SPEC.md 5) ---- */
/* The Kedge ID and the key from the agent at `socket_path`: Kedge, or K_ECS for `ecs_id`
 * (profile bound: the agent derives it, so the EEC never holds Kedge). With `akma` the A-KID
 * and K_AF for the ECS FQDN `ecs_id` (SPEC.md 9: the EEC never holds K_AKMA). wait_ms > 0:
 * retry while the agent is not there yet. */
kedge_err_t eec_agent_get_psk(const char *socket_path, const char *ecs_id, bool akma,
                              unsigned wait_ms, eec_psk_t *psk, char *why, size_t why_size);

/* ---- psk_client.c ---- */
/* TCP connect to "HOST:PORT" ("[v6]:PORT") within timeout_ms; *fd is blocking afterwards. */
kedge_err_t eec_tcp_connect(const char *host_port, unsigned timeout_ms, int *fd, char *why,
                            size_t why_size);

typedef struct eec_tls_info {
  char cipher[64];
  char group[32];
  bool psk_dhe; /* forward secrecy: an (EC)DHE share was used */
  int alert;    /* on failure too: the first alert received or sent (RFC 8446 6), -1 none */
} eec_tls_info_t;

/* TLS 1.3 PSK handshake on `fd` (SNI and verification off: the PSK authenticates the ECS;
 * a server that answers with a certificate instead is refused). ALPN h2. On failure `why`
 * names the alert received or sent, and info->alert (info may be NULL) holds its code. */
kedge_err_t eec_tls_handshake(int fd, const eec_psk_t *psk, bool allow_psk_ke, unsigned timeout_ms,
                              SSL **out, eec_tls_info_t *info, char *why, size_t why_size);

/* ---- h2_request.c ---- */
#define EEC_MAX_RESPONSE (1024 * 1024)
typedef struct eec_h2_response {
  int status;
  char content_type[128];
  char *body; /* NUL-terminated, malloc'ed; NULL when empty */
  size_t body_len;
} eec_h2_response_t;

/* An HTTP/2 client session (RFC 9113) on an established TLS connection; requests one at a
 * time (the EEC needs one; tests send more on one connection). */
typedef struct eec_h2 eec_h2_t;
kedge_err_t eec_h2_open(SSL *ssl, eec_h2_t **out);
kedge_err_t eec_h2_request(eec_h2_t *h2, const char *authority, const char *method,
                           const char *path, const char *body, eec_h2_response_t *resp, char *why,
                           size_t why_size);
/* GOAWAY (when the connection is still fine) and free; the SSL stays the caller's. */
void eec_h2_close(eec_h2_t *h2);
void eec_h2_response_free(eec_h2_response_t *resp);

/* ---- provision.c / keys.c: the subcommands ---- */
int eec_cmd_provision(int argc, char **argv);
int eec_cmd_keys(int argc, char **argv);

#endif
