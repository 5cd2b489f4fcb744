/* Routing of SBI requests by method and resource URI (TS 29.501 5.2: apiRoot/apiName/
 * apiVersion/apiSpecificResourceUriPart). Patterns are split into segments once; a request
 * path is split the same way and compared segment by segment. Bounded: at most
 * SBI_MAX_SEGMENTS segments and SBI_MAX_VARS variables. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kedge/hex.h"
#include "kedge/json_check.h"
#include "sbi/router.h"

void sbi_router_init(sbi_router_t *r)
{
  memset(r, 0, sizeof(*r));
}

static void route_free(sbi_route_t *route)
{
  if (!route)
    return;
  for (size_t i = 0; i < route->n_segments; i++)
    free(route->segments[i]);
  free(route->method);
  free(route->pattern);
  free(route->media_type);
  free(route->service);
  free(route);
}

void sbi_router_free(sbi_router_t *r)
{
  for (size_t i = 0; i < r->n; i++)
    route_free(r->routes[i]);
  free(r->routes);
  memset(r, 0, sizeof(*r));
}

/* RFC 9110 5.6.2 token characters, upper case only for methods we register. */
static bool valid_method(const char *m)
{
  size_t len = strlen(m);
  if (len == 0 || len >= SBI_MAX_METHOD)
    return false;
  for (size_t i = 0; i < len; i++)
    if (!isupper((unsigned char)m[i]))
      return false;
  return true;
}

/* Pattern segment characters: RFC 3986 pchar without '%' (literals are plain text), and
 * no quote or backslash (the pattern is a metrics label). */
static bool valid_literal(const char *s, size_t len)
{
  if (len == 0)
    return false;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!(isalnum(c) || strchr("-._~!$&()*+,;=:@", c)))
      return false;
  }
  return true;
}

static bool valid_var_name(const char *s, size_t len)
{
  if (len == 0)
    return false;
  for (size_t i = 0; i < len; i++)
    if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
      return false;
  return true;
}

static kedge_err_t parse_pattern(sbi_route_t *route, const char *pattern)
{
  if (pattern[0] != '/')
    return KEDGE_ERR_INVALID_ARG;
  const char *p = pattern + 1;
  size_t vars = 0;
  for (;;) {
    const char *end = strchr(p, '/');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (route->n_segments == SBI_MAX_SEGMENTS)
      return KEDGE_ERR_INVALID_ARG;
    bool var = len >= 2 && p[0] == '{' && p[len - 1] == '}';
    if (var ? !valid_var_name(p + 1, len - 2) : !valid_literal(p, len))
      return KEDGE_ERR_INVALID_ARG;
    if (var && ++vars > SBI_MAX_VARS)
      return KEDGE_ERR_INVALID_ARG;
    char *seg = var ? strndup(p + 1, len - 2) : strndup(p, len);
    if (!seg)
      return KEDGE_ERR_NOMEM;
    route->segments[route->n_segments] = seg;
    route->is_var[route->n_segments] = var;
    route->n_segments++;
    if (!end)
      break;
    p = end + 1;
  }
  return KEDGE_OK;
}

static bool same_shape(const sbi_route_t *a, const sbi_route_t *b)
{
  if (a->n_segments != b->n_segments)
    return false;
  for (size_t i = 0; i < a->n_segments; i++) {
    if (a->is_var[i] != b->is_var[i])
      return false;
    if (!a->is_var[i] && strcmp(a->segments[i], b->segments[i]) != 0)
      return false;
  }
  return true;
}

kedge_err_t sbi_router_set_service(sbi_router_t *r, const char *service)
{
  if (!r || r->n == 0)
    return KEDGE_ERR_INVALID_ARG;
  sbi_route_t *route = r->routes[r->n - 1];
  char *copy = service ? strdup(service) : NULL;
  if (service && !copy)
    return KEDGE_ERR_NOMEM;
  free(route->service);
  route->service = copy;
  return KEDGE_OK;
}

kedge_err_t sbi_router_set_strings(sbi_router_t *r, const struct kedge_json_member *members)
{
  size_t n = kedge_json_flat_count(members);
  if (!r || r->n == 0 || n == 0)
    return KEDGE_ERR_INVALID_ARG;
  r->routes[r->n - 1]->strings = members;
  r->routes[r->n - 1]->n_strings = n;
  return KEDGE_OK;
}

kedge_err_t sbi_router_add(sbi_router_t *r, const char *method, const char *pattern,
                           const char *media_type, kedge_sbi_handler_fn handler, void *arg)
{
  if (!r || !method || !pattern || !handler || !valid_method(method))
    return KEDGE_ERR_INVALID_ARG;
  if (!media_type)
    media_type = KEDGE_SBI_JSON;
  sbi_route_t *route = calloc(1, sizeof(*route));
  if (!route)
    return KEDGE_ERR_NOMEM;
  kedge_err_t err = parse_pattern(route, pattern);
  if (err) {
    route_free(route);
    return err;
  }
  for (size_t i = 0; i < r->n; i++) {
    if (strcmp(r->routes[i]->method, method) == 0 && same_shape(r->routes[i], route)) {
      route_free(route);
      return KEDGE_ERR_INVALID_ARG;
    }
  }
  route->method = strdup(method);
  route->pattern = strdup(pattern);
  route->media_type = strdup(media_type);
  /* TS 29.501 4.4.1: {apiRoot}/<apiName>/<apiVersion>/...; the apiName is the service name */
  if (route->n_segments >= 2 && !route->is_var[0])
    route->service = strdup(route->segments[0]);
  route->handler = handler;
  route->arg = arg;
  if (!route->method || !route->pattern || !route->media_type) {
    route_free(route);
    return KEDGE_ERR_NOMEM;
  }
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 8;
    sbi_route_t **routes = realloc(r->routes, cap * sizeof(*routes));
    if (!routes) {
      route_free(route);
      return KEDGE_ERR_NOMEM;
    }
    r->routes = routes;
    r->cap = cap;
  }
  route->index = r->n;
  r->routes[r->n++] = route;
  return KEDGE_OK;
}

/* Splits `path` ("/a/b/c") into at most SBI_MAX_SEGMENTS (start, len) pairs. */
static bool split_path(const char *path, const char **starts, size_t *lens, size_t *n)
{
  if (path[0] != '/')
    return false;
  *n = 0;
  const char *p = path + 1;
  for (;;) {
    const char *end = strchr(p, '/');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (*n == SBI_MAX_SEGMENTS)
      return false;
    starts[*n] = p;
    lens[*n] = len;
    (*n)++;
    if (!end)
      return true;
    p = end + 1;
  }
}

/* Literals earlier in the path weigh more: /a/{x} beats /{y}/b for "/a/b". */
static int route_score(const sbi_route_t *route, const char **starts, const size_t *lens, size_t n)
{
  if (route->n_segments != n)
    return -1;
  int score = 0;
  for (size_t i = 0; i < n; i++) {
    if (route->is_var[i]) {
      if (lens[i] == 0)
        return -1;
    } else {
      if (strlen(route->segments[i]) != lens[i] ||
          memcmp(route->segments[i], starts[i], lens[i]) != 0)
        return -1;
      score |= 1 << (SBI_MAX_SEGMENTS - 1 - i);
    }
  }
  return score;
}

/* RFC 3986 2.1 percent-decoding into `out`; rejects bad escapes and NUL. */
static bool percent_decode(const char *in, size_t len, char *out)
{
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    if (in[i] == '%') {
      if (i + 2 >= len)
        return false;
      /* RFC 3986 2.1: either case of hex digit */
      const char digits[3] = {in[i + 1], in[i + 2], '\0'};
      uint8_t octet;
      if (kedge_hex_decode(digits, &octet, 1) != KEDGE_OK || octet == 0)
        return false;
      out[o++] = (char)octet;
      i += 2;
    } else {
      out[o++] = in[i];
    }
  }
  out[o] = '\0';
  return true;
}

sbi_match_result_t sbi_router_match(const sbi_router_t *r, const char *method, const char *path,
                                    sbi_match_t *m, char *allow, size_t allow_size)
{
  memset(m, 0, sizeof(*m));
  if (allow && allow_size)
    allow[0] = '\0';
  const char *starts[SBI_MAX_SEGMENTS];
  size_t lens[SBI_MAX_SEGMENTS], n;
  if (!path || !method || !split_path(path, starts, lens, &n))
    return SBI_MATCH_NOT_FOUND;
  const sbi_route_t *best = NULL;
  int best_score = -1;
  bool path_exists = false;
  for (size_t i = 0; i < r->n; i++) {
    int score = route_score(r->routes[i], starts, lens, n);
    if (score < 0)
      continue;
    path_exists = true;
    if (strcmp(r->routes[i]->method, method) == 0 && score > best_score) {
      best = r->routes[i];
      best_score = score;
    }
  }
  if (!best) {
    if (!path_exists)
      return SBI_MATCH_NOT_FOUND;
    /* RFC 9110 15.5.6: 405 carries Allow with the methods the resource supports. */
    size_t used = 0;
    for (size_t i = 0; allow && i < r->n; i++) {
      if (route_score(r->routes[i], starts, lens, n) < 0)
        continue;
      const char *meth = r->routes[i]->method;
      bool dup = false;
      for (size_t j = 0; j < i && !dup; j++)
        dup = strcmp(r->routes[j]->method, meth) == 0 &&
              route_score(r->routes[j], starts, lens, n) >= 0;
      if (dup)
        continue;
      int w = snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "", meth);
      if (w < 0 || (size_t)w >= allow_size - used) {
        allow[used] = '\0'; /* whole methods only */
        break;
      }
      used += (size_t)w;
    }
    return SBI_MATCH_BAD_METHOD;
  }
  m->route = best;
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    if (best->is_var[i])
      total += lens[i] + 1;
  if (total == 0)
    return SBI_MATCH_OK;
  m->buf = malloc(total);
  if (!m->buf)
    return SBI_MATCH_BAD_PATH;
  char *out = m->buf;
  for (size_t i = 0; i < n; i++) {
    if (!best->is_var[i])
      continue;
    if (!percent_decode(starts[i], lens[i], out)) {
      sbi_match_clear(m);
      return SBI_MATCH_BAD_PATH;
    }
    m->names[m->n_vars] = best->segments[i];
    m->values[m->n_vars] = out;
    m->n_vars++;
    out += strlen(out) + 1;
  }
  return SBI_MATCH_OK;
}

void sbi_match_clear(sbi_match_t *m)
{
  free(m->buf);
  memset(m, 0, sizeof(*m));
}

const char *sbi_match_var(const sbi_match_t *m, const char *name)
{
  for (size_t i = 0; i < m->n_vars; i++)
    if (strcmp(m->names[i], name) == 0)
      return m->values[i];
  return NULL;
}
