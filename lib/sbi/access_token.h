/* Internal: the consumer's OAuth2 access tokens (TS 29.510 5.4.2.2 Nnrf_AccessToken, TS 33.501
 * 13.4.1.1): one cache per SBI client (so per worker thread, no lock), keyed by (target NF
 * type, scope), filled by POST {nrf}/oauth2/token through the same client. client.c asks it
 * for a token before it starts a call and parks the call while a fetch runs. */
#ifndef KEDGE_SBI_ACCESS_TOKEN_H
#define KEDGE_SBI_ACCESS_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "kedge/sbi_client.h"

#define SBI_TOKEN_SLOTS 16   /* (target, scope) pairs a client keeps tokens for */
#define SBI_TOKEN_MAX   8192 /* octets of one access token (kedge/jwt.h KEDGE_JWT_MAX_SIZE) */

typedef struct sbi_token_cache sbi_token_cache_t;

/* NULL when the process has no consumer OAuth2 settings (kedge_sbi_client_set_oauth2). */
sbi_token_cache_t *sbi_token_cache_new(void);
void sbi_token_cache_free(sbi_token_cache_t *tc);

typedef enum sbi_token_answer {
  SBI_TOKEN_NONE,  /* no token for this URL (the token endpoint itself, or no service name) */
  SBI_TOKEN_READY, /* *token is usable now */
  SBI_TOKEN_WAIT,  /* a fetch runs; sbi_client_token_ready() follows */
  SBI_TOKEN_ERROR, /* no fetch could be started */
} sbi_token_answer_t;

/* The token for a request to `url`: the scope is the URL's apiName (TS 29.501 4.4.1), the
 * target NF type the service name's (TS 29.510: n<nf>-<service>). *slot names the cache
 * entry (for the wait and for sbi_token_drop). A token close to expiry is refreshed in the
 * background while still used. */
sbi_token_answer_t sbi_token_get(kedge_sbi_client_t *c, sbi_token_cache_t *tc, const char *url,
                                 int *slot, const char **token);

/* Whether `url` is the NRF's token endpoint (no token, no SCP for it). */
bool sbi_token_is_nrf(const char *url);

/* A producer answered 401: the token of `slot` is forgotten (TS 29.500 6.7.3). */
void sbi_token_drop(sbi_token_cache_t *tc, int slot);

/* client.c: the fetch for `slot` ended; `ok` false when no token came. */
void sbi_client_token_ready(kedge_sbi_client_t *c, int slot, bool ok);

#endif
