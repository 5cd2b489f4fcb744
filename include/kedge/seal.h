/* Secrets at rest: AES-256-GCM under a master key read from a file of mode 0600.
 * Used for K and OPc in the UDM's subscriber database and for Kedge in the AUSF's key store,
 * so that a copy of a database file or a Redis dump alone reveals no key.
 *
 * Sealed form: version (1 octet, 0x01) || nonce (12 random octets) || ciphertext || tag (16).
 * The additional data binds a sealed value to the record it belongs to (e.g. "udm:k:" + SUPI,
 * or the Kedge ID), so a ciphertext copied to another record does not open. */
#ifndef KEDGE_SEAL_H
#define KEDGE_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KEDGE_MASTER_KEY_LEN     32
#define KEDGE_SEAL_OVERHEAD      (1 + 12 + 16)
#define KEDGE_SEAL_MAX_PLAINTEXT 256

typedef struct kedge_master_key {
  uint8_t key[KEDGE_MASTER_KEY_LEN];
} kedge_master_key_t;

/* Reads a master key file: exactly 64 hex digits, optionally followed by one newline; the
 * file must be a regular file that neither group nor others may access (mode 0600 or 0400).
 * `path` "credential:NAME" reads $CREDENTIALS_DIRECTORY/NAME (systemd LoadCredential=; an
 * error when there is none); for any other path, when $CREDENTIALS_DIRECTORY holds a file named
 * like the path's last component, that file is read instead (docs/operations.md).
 * On error, a one-line reason naming the file goes to `why` (never any key material). */
kedge_err_t kedge_master_key_load(const char *path, kedge_master_key_t *mk, char *why,
                                  size_t why_size);

/* Creates a new master key file (mode 0600, O_EXCL: never overwrites) from the CSPRNG. */
kedge_err_t kedge_master_key_create(const char *path, char *why, size_t why_size);

/* The file a configured master key names (see kedge_master_key_load), written into buf when it
 * is a credential: for "credential:NAME" $CREDENTIALS_DIRECTORY/NAME (NULL when the variable is
 * unset or NAME is not one path component); else the credential named like the path's last
 * component when there is one, or `configured` itself. */
const char *kedge_master_key_resolve(const char *configured, char *buf, size_t size);

/* Key-check record of a sealed store (the UDM's subscriber database, the AUSF's key store):
 * a constant sealed under the master key for the store's name (e.g. "udm-subscribers"). A
 * store keeps one; verify answers KEDGE_ERR_MAC_FAILURE when `mk` is not the key it was
 * written with. */
#define KEDGE_KEY_CHECK_LEN (16 + KEDGE_SEAL_OVERHEAD)
kedge_err_t kedge_key_check_make(const kedge_master_key_t *mk, const char *store,
                                 uint8_t out[KEDGE_KEY_CHECK_LEN], size_t *out_len);
kedge_err_t kedge_key_check_verify(const kedge_master_key_t *mk, const char *store,
                                   const uint8_t *record, size_t len);

/* The file helpers both use, for other small secret files too (e.g. the UDM's sealed SUCI
 * keys, kedge/suci.h). Read: `path` must be a regular file (not a symbolic link) that neither
 * group nor others may access; at most size - 1 octets go to buf, NUL-terminated, *len their
 * count. Create: mode 0600, O_EXCL (never overwrites), fsynced; removed again on a failed
 * write. `what` names the file in the one-line reason ("%s: cannot open master key: ..."). */
kedge_err_t kedge_secret_file_read(const char *path, const char *what, char *buf, size_t size,
                                   size_t *len, char *why, size_t why_size);
kedge_err_t kedge_secret_file_create(const char *path, const char *what, const void *data,
                                     size_t len, char *why, size_t why_size);

/* Wipes the key. */
void kedge_master_key_clear(kedge_master_key_t *mk);

/* out must have room for len + KEDGE_SEAL_OVERHEAD octets; *out_len receives the size. */
kedge_err_t kedge_seal(const kedge_master_key_t *mk, const void *aad, size_t aad_len,
                       const uint8_t *plaintext, size_t len, uint8_t *out, size_t *out_len);

/* Opens a sealed value into out (room for sealed_len - KEDGE_SEAL_OVERHEAD octets).
 * KEDGE_ERR_MAC_FAILURE if it was altered, sealed under another key or for other `aad`;
 * KEDGE_ERR_BAD_LENGTH if it is too short or of an unknown version. */
kedge_err_t kedge_unseal(const kedge_master_key_t *mk, const void *aad, size_t aad_len,
                         const uint8_t *sealed, size_t sealed_len, uint8_t *out, size_t *out_len);

/* kedge_unseal() for many values under one master key, on one thread: the AES key schedule is
 * made once (kedge_unsealer_new), each open only sets the value's nonce (the key store's gets:
 * about 3,000 of the 5,700 instructions of an unseal, callgrind). Same answers as
 * kedge_unseal(). Free wipes the schedule. */
typedef struct kedge_unsealer kedge_unsealer_t;
kedge_err_t kedge_unsealer_new(const kedge_master_key_t *mk, kedge_unsealer_t **out);
kedge_err_t kedge_unsealer_open(kedge_unsealer_t *u, const void *aad, size_t aad_len,
                                const uint8_t *sealed, size_t sealed_len, uint8_t *out,
                                size_t *out_len);
void kedge_unsealer_free(kedge_unsealer_t *u);

/* kedge_seal() the same way: the schedule made once, a fresh random nonce per value (the key
 * store's puts: docs/performance-latency.md, fourth round). Opens with kedge_unseal(). */
typedef struct kedge_sealer kedge_sealer_t;
kedge_err_t kedge_sealer_new(const kedge_master_key_t *mk, kedge_sealer_t **out);
kedge_err_t kedge_sealer_seal(kedge_sealer_t *s, const void *aad, size_t aad_len,
                              const uint8_t *plaintext, size_t len, uint8_t *out, size_t *out_len);
void kedge_sealer_free(kedge_sealer_t *s);

#ifdef __cplusplus
}
#endif
#endif
