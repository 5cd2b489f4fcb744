/* Reading a body of one fixed form in place (kedge/json_form.h). */
#include "kedge/json_form.h"

#include <string.h>

#include <openssl/crypto.h>

#include "kedge/hex.h"

kedge_json_form_t kedge_json_form_begin(const void *body, size_t len)
{
  kedge_json_form_t f = {.p = body, .end = body ? (const char *)body + len : NULL};
  return f;
}

bool kedge_json_form_literal(kedge_json_form_t *f, const char *lit)
{
  size_t n = strlen(lit);
  if (!f->p || (size_t)(f->end - f->p) < n || memcmp(f->p, lit, n) != 0) {
    f->p = NULL;
    return false;
  }
  f->p += n;
  return true;
}

bool kedge_json_form_hex(kedge_json_form_t *f, uint8_t *out, size_t len)
{
  char digits[65];
  if (!f->p || 2 * len >= sizeof(digits) || (size_t)(f->end - f->p) < 2 * len) {
    f->p = NULL;
    return false;
  }
  memcpy(digits, f->p, 2 * len);
  digits[2 * len] = '\0';
  bool ok = kedge_hex_decode(digits, out, len) == KEDGE_OK; /* one hex decoder (lib/core) */
  OPENSSL_cleanse(digits, sizeof(digits));                 /* may be a key's */
  if (!ok) {
    OPENSSL_cleanse(out, len);
    f->p = NULL;
    return false;
  }
  f->p += 2 * len;
  return true;
}

bool kedge_json_form_plain(kedge_json_form_t *f, size_t max, const char **s, size_t *n)
{
  size_t i = 0;
  /* RFC 8259 7: printable ASCII other than '"' and '\\' stands for itself in a string */
  while (f->p && f->p + i < f->end && f->p[i] != '"' && f->p[i] >= 0x20 && f->p[i] < 0x7f &&
         f->p[i] != '\\')
    i++;
  if (!f->p || i == 0 || i > max || f->p + i == f->end || f->p[i] != '"') {
    f->p = NULL;
    return false;
  }
  *s = f->p;
  *n = i;
  f->p += i;
  return true;
}

bool kedge_json_form_copy(kedge_json_form_t *f, char *out, size_t size)
{
  const char *s;
  size_t n;
  if (!size || !kedge_json_form_plain(f, size - 1, &s, &n))
    return false;
  memcpy(out, s, n);
  out[n] = '\0';
  return true;
}

bool kedge_json_form_end(const kedge_json_form_t *f)
{
  return f->p && f->p == f->end;
}
