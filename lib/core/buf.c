/* The bounded wipe-on-grow buffer (kedge/buf.h). */
#include "kedge/buf.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* The first block: big enough that a typical JSON body needs no second one. */
#define BUF_INITIAL 1024

void kedge_buf_init(kedge_buf_t *b, size_t max)
{
  b->data = NULL;
  b->len = b->cap = 0;
  b->max = max;
}

kedge_err_t kedge_buf_add(kedge_buf_t *b, const void *data, size_t len)
{
  if (!b || (!data && len))
    return KEDGE_ERR_INVALID_ARG;
  if (len > b->max - b->len)
    return KEDGE_ERR_TOO_BIG;
  if (len > b->cap - b->len) {
    size_t need = b->len + len;
    size_t cap = b->cap ? b->cap : BUF_INITIAL;
    while (cap < need)
      cap = cap > b->max / 2 ? b->max : cap * 2;
    if (cap > b->max)
      cap = b->max;
    /* Not realloc: it may leave the old block, unwiped, to the allocator. */
    uint8_t *p = malloc(cap);
    if (!p)
      return KEDGE_ERR_NOMEM;
    if (b->data) {
      memcpy(p, b->data, b->len);
      OPENSSL_cleanse(b->data, b->len); /* past len: never written, or wiped by a clear */
      free(b->data);
    }
    b->data = p;
    b->cap = cap;
  }
  if (len)
    memcpy(b->data + b->len, data, len);
  b->len += len;
  return KEDGE_OK;
}

void kedge_buf_clear(kedge_buf_t *b)
{
  if (b->data)
    OPENSSL_cleanse(b->data, b->len);
  b->len = 0;
}

/* Only the octets in use are wiped: nothing writes past len but kedge_buf_add, which moves len
 * with it, and a clear wipes what it gives back (issue 17: the whole block, 1 KiB or more,
 * was wiped for a body of a few hundred octets). */
void kedge_buf_free(kedge_buf_t *b)
{
  if (b->data) {
    OPENSSL_cleanse(b->data, b->len);
    free(b->data);
  }
  b->data = NULL;
  b->len = b->cap = 0;
}
