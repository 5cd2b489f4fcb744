/* One-pass JSON serialisation into a growing buffer that never leaves a copy behind (the
 * idea of curl's dynbuf, with a wipe on growth). */
#include "sbi/json_body.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define DUMP_INITIAL 512 /* most SBI bodies of kedge fit: one allocation */

typedef struct dump_buf {
  uint8_t *data;
  size_t len, cap;
} dump_buf_t;

static int append(const char *chunk, size_t size, void *arg)
{
  dump_buf_t *b = arg;
  if (size > b->cap - b->len) {
    size_t cap = b->cap;
    while (size > cap - b->len) {
      if (cap > SIZE_MAX / 2)
        return -1;
      cap *= 2;
    }
    uint8_t *grown = malloc(cap);
    if (!grown)
      return -1;
    memcpy(grown, b->data, b->len);
    OPENSSL_cleanse(b->data, b->len);
    free(b->data);
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, chunk, size);
  b->len += size;
  return 0;
}

kedge_err_t sbi_json_dump(const json_t *body, uint8_t **out, size_t *len)
{
  *out = NULL;
  *len = 0;
  if (!json_is_object(body) && !json_is_array(body))
    return KEDGE_ERR_INVALID_ARG;
  dump_buf_t b = {.data = malloc(DUMP_INITIAL), .cap = DUMP_INITIAL};
  if (!b.data)
    return KEDGE_ERR_NOMEM;
  if (json_dump_callback(body, append, &b, JSON_COMPACT) != 0 || b.len == 0) {
    OPENSSL_cleanse(b.data, b.len);
    free(b.data);
    return KEDGE_ERR_NOMEM;
  }
  *out = b.data;
  *len = b.len;
  return KEDGE_OK;
}
