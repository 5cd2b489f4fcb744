/* The ECS's side of edge key revocation (issue 13;
 * api/TS29509_Nausf_UEAuthentication_keyrequest.yaml, callback KedgeRevocation): a second listener
 * (HTTP/2, mutual TLS with the key_source.tls certificate) that receives
 * KedgeRevocationNotification from the AUSF or the NEF, whose URI the ECS sends as revocCallbackUri
 * with every key request. A notice drops the key from the cache (and keeps a fetch in flight from
 * putting it back) and ends the connections that were authenticated with it, as
 * `revocation.connections` says. Docs: docs/ecs.md. */
#ifndef KEDGE_ECS_KEY_REVOCATION_H
#define KEDGE_ECS_KEY_REVOCATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kedge/config.h"
#include "kedge/metrics.h"
#include "kedge/sbi_server.h"

typedef enum ecs_revoked_conns {
  ECS_REVOKED_CLOSE, /* GOAWAY and close at once (requests in flight are cancelled) */
  ECS_REVOKED_DRAIN, /* GOAWAY: no new requests, those in flight finish, then close */
  ECS_REVOKED_KEEP,  /* leave them: only new handshakes are refused */
} ecs_revoked_conns_t;

typedef struct ecs_revocation {
  /* configuration (revocation: in the ECS's YAML) */
  bool enabled;
  const char *address;
  uint16_t port;
  const char *callback_uri;     /* NULL: built from address and the bound port */
  const char *const *notifiers; /* certificate SAN DNS names allowed to notify */
  size_t n_notifiers;
  ecs_revoked_conns_t connections;
  /* run time */
  kedge_sbi_server_t *listener;
  char uri_buf[300];
  kedge_counter_t *m_keys, *m_conns, *m_refused;
} ecs_revocation_t;

struct ecs;
kedge_err_t ecs_revocation_read_config(struct ecs *ecs, kedge_config_node_t *root);
/* Starts the listener (before the PSK listener starts); `why` names a failure. */
kedge_err_t ecs_revocation_setup(struct ecs *ecs, kedge_sbi_server_t *srv, char *why,
                                 size_t why_size);
void ecs_revocation_teardown(struct ecs *ecs);
/* The URI sent as revocCallbackUri, or NULL when revocation is off. */
const char *ecs_revocation_callback_uri(const struct ecs *ecs);
/* The notification listener's port (0 when off): the ports file's revocation_port. */
uint16_t ecs_revocation_port(void *ecs);

#endif
