/* kedge's one growable buffer (curl's dynbuf discipline, docs/internals.md "Buffers"): a hard
 * maximum fixed at init, KEDGE_ERR_TOO_BIG when an append would pass it (the buffer is then
 * unchanged), and no plaintext left behind: grown by copy, not realloc, and every block wiped
 * with OPENSSL_cleanse before it is freed, because what a peer sends may carry a key. */
#ifndef KEDGE_BUF_H
#define KEDGE_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kedge_buf {
  uint8_t *data; /* NULL until the first append */
  size_t len;    /* octets in use */
  size_t cap;    /* octets allocated */
  size_t max;    /* len never exceeds this */
} kedge_buf_t;

/* An empty buffer that will hold at most `max` octets; allocates nothing. */
void kedge_buf_init(kedge_buf_t *b, size_t max);

/* Appends `len` octets. KEDGE_ERR_TOO_BIG when len + b->len would exceed b->max (reaching it
 * exactly is fine), KEDGE_ERR_NOMEM when the allocation fails; in both cases nothing changes. */
kedge_err_t kedge_buf_add(kedge_buf_t *b, const void *data, size_t len);

/* Wipes the content and empties the buffer, keeping its block for the next appends. */
void kedge_buf_clear(kedge_buf_t *b);

/* Wipes the content and frees the block; the buffer is empty (and may be used again, same
 * maximum). The octets past len need no wipe: only kedge_buf_add writes into the block. So
 * nothing may write into `data` directly. */
void kedge_buf_free(kedge_buf_t *b);

#ifdef __cplusplus
}
#endif
#endif
