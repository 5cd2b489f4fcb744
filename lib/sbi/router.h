/* Internal: method + path pattern routing for the SBI server (literal and {var} segments). */
#ifndef KEDGE_SBI_ROUTER_H
#define KEDGE_SBI_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "kedge/sbi_server.h"

#define SBI_MAX_SEGMENTS 16
#define SBI_MAX_VARS     8
#define SBI_MAX_METHOD   16

typedef struct sbi_route {
  char *method;
  char *pattern;
  char *media_type;
  char *service; /* TS 29.510 service name the OAuth2 scope must grant (TS 29.500 6.7.3):
                    the apiName of the pattern ("/nudm-ueau/v1/..." -> "nudm-ueau") unless
                    kedge_sbi_server_route_service() named another; NULL: no token checked */
  /* kedge_sbi_server_route_strings(): the body's member table (all strings) and its size, read
   * flat when it can be (kedge_json_flat_read); NULL: a JSON body goes through jansson */
  const struct kedge_json_member *strings;
  size_t n_strings;
  kedge_sbi_handler_fn handler;
  void *arg;
  size_t index; /* position in the router, for metrics */
  size_t n_segments;
  char *segments[SBI_MAX_SEGMENTS]; /* literal text, or the variable name */
  bool is_var[SBI_MAX_SEGMENTS];
} sbi_route_t;

typedef struct sbi_router {
  sbi_route_t **routes;
  size_t n, cap;
} sbi_router_t;

typedef enum sbi_match_result {
  SBI_MATCH_OK = 0,
  SBI_MATCH_NOT_FOUND,  /* 404 */
  SBI_MATCH_BAD_METHOD, /* 405: the path exists with other methods */
  SBI_MATCH_BAD_PATH,   /* 400: bad percent-encoding in a variable */
} sbi_match_result_t;

typedef struct sbi_match {
  const sbi_route_t *route;
  size_t n_vars;
  const char *names[SBI_MAX_VARS];
  const char *values[SBI_MAX_VARS]; /* point into `buf` */
  char *buf;                        /* owned; free with sbi_match_clear() */
} sbi_match_t;

void sbi_router_init(sbi_router_t *r);
void sbi_router_free(sbi_router_t *r);
/* KEDGE_ERR_INVALID_ARG for a malformed pattern or method, or a duplicate. */
kedge_err_t sbi_router_add(sbi_router_t *r, const char *method, const char *pattern,
                           const char *media_type, kedge_sbi_handler_fn handler, void *arg);
/* `path` is without the query. On SBI_MATCH_BAD_METHOD `allow` receives "GET, POST". */
sbi_match_result_t sbi_router_match(const sbi_router_t *r, const char *method, const char *path,
                                    sbi_match_t *m, char *allow, size_t allow_size);
void sbi_match_clear(sbi_match_t *m);
/* Names the service of the route added last (NULL: no token check on it). */
kedge_err_t sbi_router_set_service(sbi_router_t *r, const char *service);
/* The route added last takes an object of string members (kedge_json_flat_count > 0, else
 * KEDGE_ERR_INVALID_ARG); the table is borrowed (static in the service). */
kedge_err_t sbi_router_set_strings(sbi_router_t *r, const struct kedge_json_member *members);
const char *sbi_match_var(const sbi_match_t *m, const char *name);

#endif
