#include "vectors.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kedge/hex.h"

char *vec_load(const char *file_name)
{
  char path[1024];
  snprintf(path, sizeof(path), "%s/%s", KEDGE_VECTORS_DIR, file_name);
  FILE *f = fopen(path, "rb");
  if (!f)
    fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *data = malloc((size_t)n + 1);
  assert_non_null(data);
  assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
  data[n] = '\0';
  fclose(f);
  return data;
}

static const char *section_start(const char *data, const char *section)
{
  size_t n = strlen(section);
  for (const char *line = data; line && *line;
       line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
    if (strncmp(line, section, n) == 0)
      return strchr(line, '\n') ? strchr(line, '\n') + 1 : line + strlen(line);
  fail_msg("no section %s in the vectors", section);
  return NULL;
}

void vec_text(const char *data, const char *section, const char *key, char *out, size_t size)
{
  size_t klen = strlen(key);
  for (const char *line = section_start(data, section); *line;) {
    const char *eol = strchr(line, '\n');
    if (!eol)
      eol = line + strlen(line);
    if (line[0] == '[' || (line[0] == '#' && line[1] == '#'))
      break; /* next section */
    for (const char *p = line; p + klen <= eol; p++) {
      if (strncmp(p, key, klen) != 0 ||
          (p != line && !(p - line >= 2 && p[-1] == ' ' && p[-2] == ' ')))
        continue;
      const char *q = p + klen;
      while (q < eol && *q == ' ')
        q++;
      if (q >= eol || *q != '=')
        continue;
      q++;
      while (q < eol && *q == ' ')
        q++;
      const char *v_end = q;
      while (v_end < eol && !(v_end[0] == ' ' && v_end + 1 < eol && v_end[1] == ' ') &&
             *v_end != '\r')
        v_end++;
      while (v_end > q && v_end[-1] == ' ')
        v_end--;
      size_t vlen = (size_t)(v_end - q);
      assert_true(vlen < size);
      memcpy(out, q, vlen);
      out[vlen] = '\0';
      return;
    }
    line = *eol ? eol + 1 : eol;
  }
  fail_msg("no key '%s' in section %s", key, section);
}

void vec_hex(const char *data, const char *section, const char *key, uint8_t *out, size_t len)
{
  char text[512];
  vec_text(data, section, key, text, sizeof(text));
  /* "0304050607f7" or "6a35... (comment)": the first word */
  char *sp = strchr(text, ' ');
  if (sp)
    *sp = '\0';
  if (kedge_hex_decode(text, out, len) != KEDGE_OK)
    fail_msg("%s %s: '%s' is not %zu octets of hex", section, key, text, len);
}
