/* The development PKI: a throw-away CA and one certificate per network function, for tests and
 * the demo only (docs/pki.md). Operators bring their own CA, certificates and keys.
 *
 * Files (PEM): DIR/ca.crt, DIR/ca.key, and DIR/NAME.crt + DIR/NAME.key per identity.
 * Keys are EC P-256 (generated in milliseconds, unlike RSA), unencrypted PKCS#8, mode 0600.
 * Leaf certificates carry SAN DNS NAME.kedge.test (or NAME itself if it contains a dot) and
 * SAN IP 127.0.0.1, and both clientAuth and serverAuth, so one identity serves as an SBI
 * server and as an SBI client (TS 33.501 13.1: mutual TLS between network functions). */
#ifndef KEDGE_PKI_H
#define KEDGE_PKI_H

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* DNS suffix of the short identity names: ausf -> ausf.kedge.test (RFC 6761 reserves .test). */
#define KEDGE_PKI_DOMAIN "kedge.test"
/* Longest identity name kedge_pki_issue() accepts: a DNS name may have 253 characters
 * (RFC 1035 2.3.4), but NAME.crt must fit in a 255-byte file name. */
#define KEDGE_PKI_NAME_MAX 251

/* The identities kedge_pki_init() creates, in this order: udm, ausf, nef, ecs, af, seaf;
 * NULL-terminated. */
extern const char *const kedge_pki_default_names[];

/* Creates DIR (mode 0700) if missing, a new CA (DIR/ca.crt, DIR/ca.key) and one certificate and
 * key for each of kedge_pki_default_names. Never overwrites: if any of these files already
 * exists, nothing is written and KEDGE_ERR_IO is returned. All or nothing: on any failure, the
 * files this call created are removed again.
 * KEDGE_ERR_INVALID_ARG (NULL/empty dir), KEDGE_ERR_IO (file exists, cannot create or write),
 * KEDGE_ERR_CRYPTO, KEDGE_ERR_NOMEM. */
kedge_err_t kedge_pki_init(const char *dir);

/* Signs one more identity with the CA in DIR and writes DIR/NAME.crt and DIR/NAME.key.
 * NAME is either a short label (ecs2 -> SAN DNS and CN ecs2.kedge.test) or, if it contains a
 * dot, a full DNS name used as is (ecs.example.com). Accepted: lower-case letters, digits and
 * hyphens; labels of 1-63 characters that neither start nor end with a hyphen; at most
 * KEDGE_PKI_NAME_MAX characters; the last label of a dotted name not all digits; not "ca".
 * KEDGE_ERR_INVALID_ARG (bad name), KEDGE_ERR_NOT_FOUND (no ca.crt/ca.key in DIR),
 * KEDGE_ERR_IO (NAME.crt or NAME.key exists, unreadable CA, write failed), KEDGE_ERR_CRYPTO
 * (CA key does not match ca.crt, is encrypted, or ca.crt has expired), KEDGE_ERR_NOMEM. */
kedge_err_t kedge_pki_issue(const char *dir, const char *name);

/* One line describing the last failure of a kedge_pki_* call on this thread (which file, what
 * went wrong); "" if the last call succeeded. Never contains key material. Valid until the next
 * kedge_pki_* call on the same thread. */
const char *kedge_pki_last_error(void);

#ifdef __cplusplus
}
#endif
#endif
