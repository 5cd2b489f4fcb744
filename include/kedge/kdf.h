/* TS 33.220 Annex B.2.0 generic key derivation function.
 * S = FC || P0 || L0 || ... || Pn || Ln, Li = 2-octet big-endian length of Pi;
 * output = HMAC-SHA-256(Key, S), 32 octets. */
#ifndef KEDGE_KDF_H
#define KEDGE_KDF_H

#include <stddef.h>
#include <stdint.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KEDGE_KDF_OUT_LEN    32
#define KEDGE_KDF_MAX_PARAMS 8

typedef struct kedge_kdf_param {
  const uint8_t *data;
  size_t len; /* at most 65535 (Li is two octets) */
} kedge_kdf_param_t;

/* One-shot derivation: out = KDF(key, fc, params[0..n_params-1]). */
kedge_err_t kedge_kdf(const uint8_t *key, size_t key_len, uint8_t fc,
                      const kedge_kdf_param_t *params, size_t n_params,
                      uint8_t out[KEDGE_KDF_OUT_LEN]);

/* A key loaded once for several derivations under it (Kedge and Kedge-TID from KAUSF): the
 * keyed HMAC state is kept and reused, so each further derivation costs one HMAC without the
 * key set-up. Not shared between threads. Freeing wipes the key state. */
typedef struct kedge_kdf_key kedge_kdf_key_t;

kedge_err_t kedge_kdf_key_new(const uint8_t *key, size_t key_len, kedge_kdf_key_t **out);
kedge_err_t kedge_kdf_derive(kedge_kdf_key_t *key, uint8_t fc, const kedge_kdf_param_t *params,
                             size_t n_params, uint8_t out[KEDGE_KDF_OUT_LEN]);
void kedge_kdf_key_free(kedge_kdf_key_t *key);

#ifdef __cplusplus
}
#endif
#endif
