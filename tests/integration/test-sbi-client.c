/* The SBI client against real servers: nginx (HTTP/2 over TLS, mutual TLS, a server from
 * another CA, a TLS 1.2-only and an HTTP/1.1-only server), a TCP listener in this process that
 * accepts and never answers, and a closed port. Certificates come from the dev PKI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "kedge/log.h"
#include "kedge/pki.h"
#include "kedge/sbi_client.h"
#include "nginx.h"

#define ECHO_MODULE "/usr/lib/nginx/modules/ngx_http_echo_module.so"
#define BIG_SIZE    (100 * 1024)
#define EXACT_SIZE  2048
#define MAX_SILENT  64

typedef struct fixture {
  char dir[256];
  char pki[300], other_pki[300];
  struct event_base *base;
  kedge_test_nginx_t nginx;
  int silent_fd; /* listens, accepts, never answers */
  struct event *silent_ev;
  int silent_conns[MAX_SILENT];
  int nsilent;
  int silent_port;
  int closed_port;
} fixture_t;

static fixture_t *the_fixture; /* for the atexit guard */

/* ---- results ---------------------------------------------------------------------------- */

typedef struct result {
  bool fired;
  kedge_err_t err;
  long status;
  char content_type[128];
  char location[256];
  char retry_after[64];
  json_t *json;
  size_t body_len;
  uint64_t elapsed_us;
  unsigned attempts;
  int *done; /* shared counter */
  struct event_base *base;
  int expect; /* break the loop when *done reaches it */
} result_t;

static void copy_str(char *dst, size_t n, const char *src)
{
  snprintf(dst, n, "%s", src ? src : "");
}

static void on_result(const kedge_sbi_client_response_t *r, void *arg)
{
  result_t *res = arg;
  assert_false(res->fired); /* exactly once */
  res->fired = true;
  res->err = r->err;
  res->status = r->status;
  copy_str(res->content_type, sizeof(res->content_type), r->content_type);
  copy_str(res->location, sizeof(res->location), r->location);
  copy_str(res->retry_after, sizeof(res->retry_after), r->retry_after);
  res->json = r->json ? json_incref(r->json) : NULL;
  res->body_len = r->body_len;
  res->elapsed_us = r->elapsed_us;
  res->attempts = r->attempts;
  if (res->done && ++*res->done >= res->expect)
    event_base_loopbreak(res->base);
}

static void result_init(result_t *res, fixture_t *f, int *done, int expect)
{
  memset(res, 0, sizeof(*res));
  res->done = done;
  res->base = f->base;
  res->expect = expect;
}

static void result_clear(result_t *res)
{
  json_decref(res->json);
  res->json = NULL;
}

/* Runs the loop until the callbacks have broken it or max_ms passed. */
static void run_loop(fixture_t *f, int max_ms)
{
  struct timeval tv = {.tv_sec = max_ms / 1000, .tv_usec = (max_ms % 1000) * 1000};
  event_base_loopexit(f->base, &tv);
  event_base_dispatch(f->base);
}

static void url(char *buf, size_t n, int port, const char *path)
{
  snprintf(buf, n, "https://127.0.0.1:%d%s", port, path);
}

/* One request to an absolute URL, run to completion (or 10 s). */
static void do_request_url(fixture_t *f, kedge_sbi_client_t *c, const char *method, const char *u,
                           const json_t *body, result_t *res)
{
  int done = 0;
  result_init(res, f, &done, 1);
  kedge_sbi_client_request_t req = {.method = method, .url = u, .body = body};
  assert_int_equal(kedge_sbi_client_send(c, &req, on_result, res, NULL), KEDGE_OK);
  run_loop(f, 10000);
  assert_true(res->fired);
  assert_int_equal(kedge_sbi_client_pending(c), 0);
}

/* One request to https://127.0.0.1:<port><path>. */
static void do_request(fixture_t *f, kedge_sbi_client_t *c, const char *method, int port,
                       const char *path, const json_t *body, result_t *res)
{
  char u[256];
  url(u, sizeof(u), port, path);
  do_request_url(f, c, method, u, body, res);
}

static kedge_sbi_client_t *client_with(fixture_t *f, const kedge_sbi_client_options_t *o)
{
  kedge_sbi_client_t *c = NULL;
  assert_int_equal(kedge_sbi_client_new(f->base, o, &c), KEDGE_OK);
  assert_non_null(c);
  return c;
}

/* The ECS calling the AUSF: client certificate ecs, the AUSF's nginx stands in. */
static void ecs_options(fixture_t *f, kedge_sbi_client_options_t *o, char *paths, size_t n)
{
  kedge_sbi_client_options_init(o);
  snprintf(paths, n, "%s/ca.crt", f->pki);
  snprintf(paths + n, n, "%s/ecs.crt", f->pki);
  snprintf(paths + 2 * n, n, "%s/ecs.key", f->pki);
  o->ca_file = paths;
  o->cert_file = paths + n;
  o->key_file = paths + 2 * n;
}

#define PATHS_N 320
#define ECS_CLIENT(f, o)                                                                           \
  char o##_paths[3 * PATHS_N];                                                                     \
  kedge_sbi_client_options_t o;                                                                    \
  ecs_options(f, &o, o##_paths, PATHS_N)

static int port_main(const fixture_t *f)
{
  return f->nginx.ports[0];
}
static int port_tls12(const fixture_t *f)
{
  return f->nginx.ports[1];
}
static int port_other_ca(const fixture_t *f)
{
  return f->nginx.ports[2];
}
static int port_http11(const fixture_t *f)
{
  return f->nginx.ports[3];
}
static int port_h2c(const fixture_t *f)
{
  return f->nginx.ports[4];
}

/* ---- fixture ---------------------------------------------------------------------------- */

static void on_silent_accept(evutil_socket_t fd, short what, void *arg)
{
  fixture_t *f = arg;
  int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0)
    return;
  if (f->nsilent < MAX_SILENT)
    f->silent_conns[f->nsilent++] = c; /* held open, never read, never written */
  else
    close(c);
}

static int listen_loopback(int *port)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof(sa);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  *port = ntohs(sa.sin_port);
  return fd;
}

static int write_file(const char *dir, const char *name, const char *data, size_t len)
{
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *fp = fopen(path, "wb");
  if (!fp)
    return -1;
  size_t w = fwrite(data, 1, len, fp);
  return (fclose(fp) == 0 && w == len) ? 0 : -1;
}

/* A JSON document of exactly `len` octets: {"pad":"aaaa..."}. */
static char *json_of_size(size_t len)
{
  char *s = malloc(len + 1);
  if (!s)
    return NULL;
  memcpy(s, "{\"pad\":\"", 8);
  memset(s + 8, 'a', len - 10);
  memcpy(s + len - 2, "\"}", 2);
  s[len] = '\0';
  return s;
}

static const char nginx_http_conf[] =
    "  ssl_protocols TLSv1.3;\n"
    "  default_type application/json;\n"
    /* main: the AUSF's certificate, client certificates required (mutual TLS, TS 33.501 13.1) */
    "  server {\n"
    "    listen 127.0.0.1:@PORT0@ ssl http2;\n"
    "    ssl_certificate @PREFIX@/../pki/ausf.crt;\n"
    "    ssl_certificate_key @PREFIX@/../pki/ausf.key;\n"
    "    ssl_client_certificate @PREFIX@/../pki/ca.crt;\n"
    "    ssl_verify_client on;\n"
    "    location = /ok { return 200 '{\"a\":1}'; }\n"
    "    location = /missing {\n"
    "      default_type application/problem+json;\n"
    "      return 404 '{\"status\":404,\"cause\":\"RESOURCE_NOT_FOUND\"}';\n"
    "    }\n"
    "    location = /created {\n"
    "      add_header Location https://127.0.0.1:@PORT0@/things/1 always;\n"
    "      add_header Retry-After 7 always;\n"
    "      return 201 '{\"id\":\"1\"}';\n"
    "    }\n"
    "    location = /text { default_type text/plain; return 200 '{\"not\":\"json type\"}'; }\n"
    "    location = /broken { return 200 '{\"a\":'; }\n"
    "    location = /whoami {\n"
    "      return 200 '{\"dn\":\"$ssl_client_s_dn\",\"verify\":\"$ssl_client_verify\","
    "\"protocol\":\"$ssl_protocol\"}';\n"
    "    }\n"
    "    location = /conn {\n"
    "      return 200 '{\"http2\":\"$http2\",\"connection\":\"$connection\","
    "\"requests\":\"$connection_requests\"}';\n"
    "    }\n"
    "    location = /method {\n"
    "      return 200 '{\"method\":\"$request_method\",\"length\":\"$content_length\"}';\n"
    "    }\n"
    "    location = /echo {\n"
    "      client_body_buffer_size 128k;\n" /* in memory: echo_request_body sends it back */
    "      echo_read_request_body;\n"
    "      echo -n '{\"method\":\"$request_method\",\"content_type\":\"$content_type\","
    "\"body\":';\n"
    "      echo_request_body;\n"
    "      echo '}';\n"
    "    }\n"
    /* streamed, no Content-Length: only the write bound can stop it */
    "    location = /stream { echo_duplicate 70000 'a'; }\n"
    /* standing in for an SCP (model C): what arrived for which target */
    "    location /nudm-ueau/ {\n"
    "      return 200 '{\"target\":\"$http_3gpp_sbi_target_apiroot\",\"uri\":\"$request_uri\"}';\n"
    "    }\n"
    "    location = /slow { echo_sleep 1; echo '{\"slow\":true}'; }\n"
    "    location = /slower { echo_sleep 30; echo '{\"slow\":true}'; }\n"
    "    location /files/ { alias @PREFIX@/files/; }\n"
    "  }\n"
    /* a TLS 1.2-only server */
    "  server {\n"
    "    listen 127.0.0.1:@PORT1@ ssl http2;\n"
    "    ssl_protocols TLSv1.2;\n"
    "    ssl_certificate @PREFIX@/../pki/ausf.crt;\n"
    "    ssl_certificate_key @PREFIX@/../pki/ausf.key;\n"
    "    location = /ok { return 200 '{\"a\":1}'; }\n"
    "  }\n"
    /* a server whose certificate comes from another CA */
    "  server {\n"
    "    listen 127.0.0.1:@PORT2@ ssl http2;\n"
    "    ssl_certificate @PREFIX@/../other-pki/ausf.crt;\n"
    "    ssl_certificate_key @PREFIX@/../other-pki/ausf.key;\n"
    "    location = /ok { return 200 '{\"a\":1}'; }\n"
    "  }\n"
    /* HTTP/1.1 only (no http2): TS 29.500 5.2.2 requires HTTP/2 */
    "  server {\n"
    "    listen 127.0.0.1:@PORT3@ ssl;\n"
    "    ssl_certificate @PREFIX@/../pki/ausf.crt;\n"
    "    ssl_certificate_key @PREFIX@/../pki/ausf.key;\n"
    "    access_log @PREFIX@/http11-access.log;\n"
    "    location = /ok { return 200 '{\"a\":1}'; }\n"
    "  }\n"
    /* h2c: HTTP/2 with prior knowledge, no TLS (the Open5GS/free5GC lab default) */
    "  server {\n"
    "    listen 127.0.0.1:@PORT4@ http2;\n"
    "    location = /ok { return 200 '{\"a\":1}'; }\n"
    "    location = /conn {\n"
    "      return 200 '{\"http2\":\"$http2\",\"connection\":\"$connection\","
    "\"requests\":\"$connection_requests\"}';\n"
    "    }\n"
    "    location = /echo {\n"
    "      echo_read_request_body;\n"
    "      echo -n '{\"method\":\"$request_method\",\"body\":';\n"
    "      echo_request_body;\n"
    "      echo '}';\n"
    "    }\n"
    "  }\n";

static void cleanup_children(void)
{
  if (the_fixture)
    kedge_test_nginx_stop(&the_fixture->nginx);
}

static int group_setup(void **state)
{
  fixture_t *f = calloc(1, sizeof(*f));
  if (!f)
    return -1;
  f->silent_fd = -1;
  the_fixture = f;
  atexit(cleanup_children);
  kedge_log_init("test-sbi-client", KEDGE_LOG_DEBUG, false);

  snprintf(f->dir, sizeof(f->dir), "/tmp/kedge-test-sbi-client-XXXXXX");
  if (!mkdtemp(f->dir))
    return -1;
  snprintf(f->pki, sizeof(f->pki), "%s/pki", f->dir);
  snprintf(f->other_pki, sizeof(f->other_pki), "%s/other-pki", f->dir);
  if (kedge_pki_init(f->pki) != KEDGE_OK || kedge_pki_init(f->other_pki) != KEDGE_OK) {
    fprintf(stderr, "kedge_pki_init failed\n");
    return -1;
  }

  char prefix[300], files[320];
  snprintf(prefix, sizeof(prefix), "%s/nginx", f->dir);
  snprintf(files, sizeof(files), "%s/files", prefix);
  if (mkdir(prefix, 0700) != 0 || mkdir(files, 0700) != 0)
    return -1;
  char *big = json_of_size(BIG_SIZE), *exact = json_of_size(EXACT_SIZE);
  int w = (!big || !exact) ? -1
                           : write_file(files, "big.json", big, BIG_SIZE) |
                                 write_file(files, "exact.json", exact, EXACT_SIZE);
  free(big);
  free(exact);
  if (w != 0)
    return -1;

  if (kedge_test_nginx_start(&f->nginx, prefix, 0, "load_module " ECHO_MODULE ";",
                             nginx_http_conf) != 0)
    return -1;

  f->base = event_base_new();
  f->silent_fd = listen_loopback(&f->silent_port);
  int closed = listen_loopback(&f->closed_port);
  if (!f->base || f->silent_fd < 0 || closed < 0)
    return -1;
  close(closed); /* nothing listens there now: connection refused */
  f->silent_ev = event_new(f->base, f->silent_fd, EV_READ | EV_PERSIST, on_silent_accept, f);
  if (!f->silent_ev || event_add(f->silent_ev, NULL) != 0)
    return -1;
  *state = f;
  return 0;
}

static int group_teardown(void **state)
{
  fixture_t *f = the_fixture;
  if (!f)
    return 0;
  kedge_test_nginx_stop(&f->nginx);
  if (f->silent_ev)
    event_free(f->silent_ev);
  for (int i = 0; i < f->nsilent; i++)
    close(f->silent_conns[i]);
  if (f->silent_fd >= 0)
    close(f->silent_fd);
  if (f->base)
    event_base_free(f->base);
  if (f->dir[0]) {
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
      fprintf(stderr, "could not remove %s\n", f->dir);
  }
  the_fixture = NULL;
  free(f);
  return 0;
}

/* ---- answers ---------------------------------------------------------------------------- */

static void test_get_json(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  kedge_sbi_client_t *c = client_with(f, &o);
  result_t r;
  do_request(f, c, "GET", port_main(f), "/ok", NULL, &r);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.content_type, "application/json");
  assert_non_null(r.json);
  assert_int_equal(json_integer_value(json_object_get(r.json, "a")), 1);
  assert_int_equal(r.body_len, 7);
  assert_int_equal(r.attempts, 1);
  assert_true(r.elapsed_us > 0 && r.elapsed_us < 5000000);
  result_clear(&r);
  kedge_sbi_client_free(c);
}

static void test_problem_details(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  kedge_sbi_client_t *c = client_with(f, &o);
  result_t r;
  do_request(f, c, "GET", port_main(f), "/missing", NULL, &r);
  /* An HTTP answer, even an error status, is a completed request. */
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(r.status, 404);
  assert_string_equal(r.content_type, "application/problem+json");
  assert_non_null(r.json);
  assert_string_equal(json_string_value(json_object_get(r.json, "cause")), "RESOURCE_NOT_FOUND");
  result_clear(&r);

  /* Not a JSON media type: no parse, even though the text is JSON. */
  do_request(f, c, "GET", port_main(f), "/text", NULL, &r);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.content_type, "text/plain");
  assert_null(r.json);
  assert_int_equal(r.body_len, 19);
  /* JSON media type, malformed body: json NULL. */
  do_request(f, c, "GET", port_main(f), "/broken", NULL, &r);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(r.status, 200);
  assert_null(r.json);
  kedge_sbi_client_free(c);
}

static void test_headers_of_interest(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  kedge_sbi_client_t *c = client_with(f, &o);
  json_t *body = json_pack("{s:s}", "supiOrSuci", "imsi-001010000000001");
  result_t r;
  do_request(f, c, "POST", port_main(f), "/created", body, &r);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(r.status, 201);
  char want[128];
  url(want, sizeof(want), port_main(f), "/things/1");
  assert_string_equal(r.location, want);
  assert_string_equal(r.retry_after, "7");
  assert_string_equal(json_string_value(json_object_get(r.json, "id")), "1");
  result_clear(&r);
  json_decref(body);
  kedge_sbi_client_free(c);
}

/* unread_2xx_body (issue 17: the AUSF reads only the Location of the UDM's AuthEvent 201): a
 * success's JSON body is not parsed, its length is still given; an error's ProblemDetails is. */
static void test_unread_2xx_body(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  kedge_sbi_client_t *c = client_with(f, &o);
  json_t *body = json_pack("{s:s}", "supiOrSuci", "imsi-001010000000001");
  const char *paths[] = {"/created", "/missing"};
  result_t r[2];
  for (int i = 0; i < 2; i++) {
    char u[256];
    url(u, sizeof(u), port_main(f), paths[i]);
    int done = 0;
    result_init(&r[i], f, &done, 1);
    kedge_sbi_client_request_t req = {
        .method = i ? "GET" : "POST", .url = u, .body = i ? NULL : body, .unread_2xx_body = true};
    assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &r[i], NULL), KEDGE_OK);
    run_loop(f, 10000);
    assert_true(r[i].fired);
    assert_int_equal(r[i].err, KEDGE_OK);
  }
  assert_int_equal(r[0].status, 201);
  char want[128];
  url(want, sizeof(want), port_main(f), "/things/1");
  assert_string_equal(r[0].location, want);
  assert_string_equal(r[0].content_type, "application/json");
  assert_null(r[0].json); /* the same answer is parsed without the flag: test_headers_of_interest */
  assert_true(r[0].body_len > 0);
  assert_int_equal(r[1].status, 404);
  assert_non_null(r[1].json);
  assert_string_equal(json_string_value(json_object_get(r[1].json, "cause")), "RESOURCE_NOT_FOUND");
  result_clear(&r[1]);
  json_decref(body);
  kedge_sbi_client_free(c);
}

/* Bodies past libcurl's per-transfer buffers (lib/sbi/client.c: 16 KiB upload, 4 KiB receive,
 * issue 17) go and come back whole: 40 KiB out, 40 KiB and more back. */
static void test_bodies_past_curl_buffers(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  kedge_sbi_client_t *c = client_with(f, &o); /* max_response_size 64 KiB */
  char *pad = json_of_size(40 * 1024);
  assert_non_null(pad);
  json_t *body = json_loads(pad, 0, NULL);
  free(pad);
  assert_non_null(body);
  static const char *const with_body[] = {"POST", "PUT"};
  for (size_t i = 0; i < 2; i++) {
    result_t r;
    do_request(f, c, with_body[i], port_main(f), "/echo", body, &r);
    assert_int_equal(r.err, KEDGE_OK);
    assert_int_equal(r.status, 200);
    assert_true(r.body_len > 40 * 1024);
    assert_non_null(r.json);
    assert_true(json_equal(json_object_get(r.json, "body"), body));
    result_clear(&r);
  }
  json_decref(body);
  kedge_sbi_client_free(c);
}

static void test_methods_and_bodies(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  kedge_sbi_client_t *c = client_with(f, &o);
  json_t *body = json_pack("{s:s,s:i}", "kausf", "00112233445566778899aabbccddeeff", "n", 5);
  static const char *const with_body[] = {"POST", "PUT", "PATCH"};
  for (size_t i = 0; i < 3; i++) {
    result_t r;
    do_request(f, c, with_body[i], port_main(f), "/echo", body, &r);
    assert_int_equal(r.err, KEDGE_OK);
    assert_int_equal(r.status, 200);
    assert_non_null(r.json);
    assert_string_equal(json_string_value(json_object_get(r.json, "method")), with_body[i]);
    assert_string_equal(json_string_value(json_object_get(r.json, "content_type")),
                        "application/json");
    assert_true(json_equal(json_object_get(r.json, "body"), body));
    result_clear(&r);
  }
  /* The caller's content type (TS 29.500 6.2: PATCH with merge-patch+json) and headers. */
  char u[256];
  url(u, sizeof(u), port_main(f), "/echo");
  static const char *const extra[] = {"3gpp-Sbi-Callback: Nausf_UEAuthentication", NULL};
  kedge_sbi_client_request_t req = {.method = "PATCH",
                                    .url = u,
                                    .body = body,
                                    .content_type = "application/merge-patch+json",
                                    .headers = extra};
  int done = 0;
  result_t r;
  result_init(&r, f, &done, 1);
  assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &r, NULL), KEDGE_OK);
  run_loop(f, 10000);
  assert_true(r.fired);
  assert_int_equal(r.status, 200);
  assert_string_equal(json_string_value(json_object_get(r.json, "content_type")),
                      "application/merge-patch+json");
  result_clear(&r);

  static const char *const no_body[] = {"GET", "DELETE"};
  for (size_t i = 0; i < 2; i++) {
    do_request(f, c, no_body[i], port_main(f), "/method", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "method")), no_body[i]);
    assert_string_equal(json_string_value(json_object_get(r.json, "length")), "");
    result_clear(&r);
  }
  json_decref(body);
  kedge_sbi_client_free(c);
}

/* A finished call's easy handle serves the next call while another is in flight (issue 17:
 * no curl_easy_duphandle and curl_easy_cleanup per call): each method and body arrives as sent
 * whatever the handle carried before, and the spares are freed once the client is idle. */
static void test_spare_handles_reused(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  kedge_sbi_client_t *c = client_with(f, &o);
  char slow_u[256], echo_u[256], method_u[256];
  url(slow_u, sizeof(slow_u), port_main(f), "/slower");
  url(echo_u, sizeof(echo_u), port_main(f), "/echo");
  url(method_u, sizeof(method_u), port_main(f), "/method");
  result_t slow;
  result_init(&slow, f, NULL, 1); /* keeps the client busy until cancelled */
  kedge_sbi_client_request_t sreq = {.method = "GET", .url = slow_u};
  kedge_sbi_client_call_t *slow_call = NULL;
  assert_int_equal(kedge_sbi_client_send(c, &sreq, on_result, &slow, &slow_call), KEDGE_OK);
  json_t *body = json_pack("{s:s}", "supiOrSuci", "imsi-001010000000001");
  /* a custom method after POST and GET, no body after a body, and the other way round */
  static const char *const methods[] = {"PUT", "GET", "POST", "DELETE", "PATCH", "GET", "POST"};
  for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
    bool with_body = strcmp(methods[i], "GET") != 0 && strcmp(methods[i], "DELETE") != 0;
    int done = 0;
    result_t r;
    result_init(&r, f, &done, 1);
    kedge_sbi_client_request_t req = {.method = methods[i],
                                      .url = with_body ? echo_u : method_u,
                                      .body = with_body ? body : NULL};
    assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &r, NULL), KEDGE_OK);
    run_loop(f, 10000); /* as every test here: a shorter loopexit left pending ends a later loop */
    assert_true(r.fired);
    assert_int_equal(r.err, KEDGE_OK);
    assert_int_equal(r.status, 200);
    assert_non_null(r.json);
    assert_string_equal(json_string_value(json_object_get(r.json, "method")), methods[i]);
    if (with_body)
      assert_true(json_equal(json_object_get(r.json, "body"), body));
    else
      assert_string_equal(json_string_value(json_object_get(r.json, "length")), "");
    result_clear(&r);
    assert_false(slow.fired);
    assert_int_equal(kedge_sbi_client_spare_handles(c), 1); /* this call's, for the next */
  }
  kedge_sbi_client_cancel(slow_call);
  assert_int_equal(kedge_sbi_client_pending(c), 0);
  assert_int_equal(kedge_sbi_client_spare_handles(c), 0); /* idle: none kept */
  json_decref(body);
  kedge_sbi_client_free(c);
}

/* ---- TLS -------------------------------------------------------------------------------- */

static void test_client_certificate_sent(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  kedge_sbi_client_t *c = client_with(f, &o);
  result_t r;
  do_request(f, c, "GET", port_main(f), "/whoami", NULL, &r);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(r.status, 200);
  const char *dn = json_string_value(json_object_get(r.json, "dn"));
  assert_non_null(dn);
  assert_non_null(strstr(dn, "CN=ecs.kedge.test"));
  assert_string_equal(json_string_value(json_object_get(r.json, "verify")), "SUCCESS");
  assert_string_equal(json_string_value(json_object_get(r.json, "protocol")), "TLSv1.3");
  result_clear(&r);
  kedge_sbi_client_free(c);
}

static void test_no_client_certificate_refused(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  o.cert_file = o.key_file = NULL; /* server verified, but no certificate of our own */
  kedge_sbi_client_t *c = client_with(f, &o);
  result_t r;
  do_request(f, c, "GET", port_main(f), "/ok", NULL, &r);
  /* nginx answers 400 "No required SSL certificate was sent" instead of the resource. */
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(r.status, 400);
  assert_null(r.json);
  kedge_sbi_client_free(c);
}

static void test_server_from_other_ca_refused(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  kedge_sbi_client_t *c = client_with(f, &o);
  result_t r;
  do_request(f, c, "GET", port_other_ca(f), "/ok", NULL, &r);
  assert_int_equal(r.err, KEDGE_ERR_UNAVAILABLE);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.attempts, 1); /* a verification failure is not retried */
  /* ...while the same client talks to the right server. */
  do_request(f, c, "GET", port_main(f), "/ok", NULL, &r);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(r.status, 200);
  result_clear(&r);
  kedge_sbi_client_free(c);
}

static void test_tls12_only_by_option(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  kedge_sbi_client_t *c = client_with(f, &o);
  result_t r;
  do_request(f, c, "GET", port_tls12(f), "/ok", NULL, &r);
  assert_int_equal(r.err, KEDGE_ERR_UNAVAILABLE);
  assert_int_equal(r.status, 0);
  kedge_sbi_client_free(c);

  o.tls12_allowed = true;
  c = client_with(f, &o);
  do_request(f, c, "GET", port_tls12(f), "/ok", NULL, &r);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(r.status, 200);
  result_clear(&r);
  /* Allowing 1.2 does not stop 1.3 from being negotiated where offered. */
  do_request(f, c, "GET", port_main(f), "/whoami", NULL, &r);
  assert_string_equal(json_string_value(json_object_get(r.json, "protocol")), "TLSv1.3");
  result_clear(&r);
  kedge_sbi_client_free(c);
}

static void test_http11_server_refused(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  kedge_sbi_client_t *c = client_with(f, &o);
  result_t r;
  do_request(f, c, "POST", port_http11(f), "/ok", NULL, &r);
  assert_int_equal(r.err, KEDGE_ERR_UNSUPPORTED);
  assert_int_equal(r.status, 0);
  kedge_sbi_client_free(c);
  /* Refused before the request was sent: nginx logged no request. */
  char path[400];
  snprintf(path, sizeof(path), "%s/nginx/http11-access.log", f->dir);
  struct stat st;
  assert_true(stat(path, &st) != 0 || st.st_size == 0);
}

/* ---- HTTP/2 connection reuse and multiplexing -------------------------------------------- */

#define CONCURRENT 20

static void test_multiplexed_on_one_connection(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  kedge_sbi_client_t *c = client_with(f, &o);
  char u[256];
  url(u, sizeof(u), port_main(f), "/conn");
  kedge_sbi_client_request_t req = {.method = "GET", .url = u};
  result_t r[CONCURRENT];
  int done = 0;
  for (int i = 0; i < CONCURRENT; i++) {
    result_init(&r[i], f, &done, CONCURRENT);
    assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &r[i], NULL), KEDGE_OK);
  }
  assert_int_equal(kedge_sbi_client_pending(c), CONCURRENT);
  run_loop(f, 10000);
  assert_int_equal(done, CONCURRENT);
  const char *conn = NULL;
  bool seen[CONCURRENT + 1] = {false};
  for (int i = 0; i < CONCURRENT; i++) {
    assert_int_equal(r[i].err, KEDGE_OK);
    assert_int_equal(r[i].status, 200);
    assert_string_equal(json_string_value(json_object_get(r[i].json, "http2")), "h2");
    const char *ci = json_string_value(json_object_get(r[i].json, "connection"));
    assert_non_null(ci);
    if (!conn)
      conn = ci;
    assert_string_equal(ci, conn); /* one TLS connection for all 20 */
    long n = strtol(json_string_value(json_object_get(r[i].json, "requests")), NULL, 10);
    assert_in_range(n, 1, CONCURRENT);
    assert_false(seen[n]); /* 20 distinct streams on it */
    seen[n] = true;
  }
  /* A later request reuses the idle connection. */
  result_t again;
  do_request(f, c, "GET", port_main(f), "/conn", NULL, &again);
  assert_string_equal(json_string_value(json_object_get(again.json, "connection")), conn);
  assert_string_equal(json_string_value(json_object_get(again.json, "requests")), "21");
  result_clear(&again);
  for (int i = 0; i < CONCURRENT; i++)
    result_clear(&r[i]);
  kedge_sbi_client_free(c);
}

/* ---- limits ----------------------------------------------------------------------------- */

static void test_response_size_limit(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  kedge_sbi_client_t *c = client_with(f, &o); /* default 64 KiB */
  result_t r;
  do_request(f, c, "GET", port_main(f), "/files/big.json", NULL, &r);
  assert_int_equal(r.err, KEDGE_ERR_TOO_BIG);
  assert_null(r.json);
  assert_int_equal(r.attempts, 1);
  /* Streamed without Content-Length: stopped by the write bound instead. */
  do_request(f, c, "GET", port_main(f), "/stream", NULL, &r);
  assert_int_equal(r.err, KEDGE_ERR_TOO_BIG);
  /* The connection survived the reset streams. */
  do_request(f, c, "GET", port_main(f), "/ok", NULL, &r);
  assert_int_equal(r.err, KEDGE_OK);
  result_clear(&r);
  kedge_sbi_client_free(c);

  /* The bound is exact: max_response_size octets pass, one less does not. */
  o.max_response_size = EXACT_SIZE;
  c = client_with(f, &o);
  do_request(f, c, "GET", port_main(f), "/files/exact.json", NULL, &r);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(r.body_len, EXACT_SIZE);
  assert_non_null(r.json);
  result_clear(&r);
  kedge_sbi_client_free(c);
  o.max_response_size = EXACT_SIZE - 1;
  c = client_with(f, &o);
  do_request(f, c, "GET", port_main(f), "/files/exact.json", NULL, &r);
  assert_int_equal(r.err, KEDGE_ERR_TOO_BIG);
  kedge_sbi_client_free(c);
}

static void test_timeout(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  o.timeout_ms = 300;
  kedge_sbi_client_t *c = client_with(f, &o);
  result_t r;
  do_request(f, c, "GET", f->silent_port, "/ok", NULL, &r);
  assert_int_equal(r.err, KEDGE_ERR_TIMEOUT);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.attempts, 1); /* the deadline covers retries: none left */
  assert_true(r.elapsed_us >= 290000);
  assert_true(r.elapsed_us < 1500000);
  assert_true(f->nsilent > 0); /* the listener did accept the connection */

  kedge_sbi_client_free(c);

  /* A per-request timeout overrides the client's. */
  o.timeout_ms = 5000;
  c = client_with(f, &o);
  char u[256];
  url(u, sizeof(u), f->silent_port, "/ok");
  kedge_sbi_client_request_t req = {.method = "GET", .url = u, .timeout_ms = 100};
  int done = 0;
  result_init(&r, f, &done, 1);
  assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &r, NULL), KEDGE_OK);
  run_loop(f, 10000);
  assert_int_equal(r.err, KEDGE_ERR_TIMEOUT);
  assert_true(r.elapsed_us >= 95000 && r.elapsed_us < 1500000);
  kedge_sbi_client_free(c);
}

/* A request queued behind a connection still being set up (HTTP/2 PIPEWAIT) keeps its own
 * deadline, even though the connection it waits for takes longer. */
static void test_timeout_while_queued(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  o.timeout_ms = 8000;
  kedge_sbi_client_t *c = client_with(f, &o);
  char u[256];
  url(u, sizeof(u), f->silent_port, "/ok");
  result_t slow, quick;
  int done = 0;
  result_init(&slow, f, &done, 1);
  result_init(&quick, f, &done, 1);
  kedge_sbi_client_request_t req = {.method = "GET", .url = u};
  assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &slow, NULL), KEDGE_OK);
  req.timeout_ms = 200;
  assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &quick, NULL), KEDGE_OK);
  run_loop(f, 6000);
  assert_true(quick.fired);
  assert_int_equal(quick.err, KEDGE_ERR_TIMEOUT);
  assert_true(quick.elapsed_us >= 195000 && quick.elapsed_us < 3000000);
  assert_false(slow.fired);
  kedge_sbi_client_free(c); /* drops the one still waiting */
}

typedef struct send_in_pass {
  kedge_sbi_client_t *c;
  const char *url;
  result_t *res;
} send_in_pass_t;

static void send_from_callback(evutil_socket_t fd, short what, void *arg)
{
  send_in_pass_t *s = arg;
  kedge_sbi_client_request_t req = {.method = "GET", .url = s->url};
  assert_int_equal(kedge_sbi_client_send(s->c, &req, on_result, s->res, NULL), KEDGE_OK);
}

/* A request sent from a callback of a loop pass starts (here: its connection is opened) in
 * that same pass, not one pass later behind the next poll's reads: libcurl's 0 ms timeout is
 * run at the end of the pass (issue 17, docs/sbi-client.md). Fails with a 0 ms evtimer. */
static void test_sent_in_the_same_pass(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  o.timeout_ms = 2000;
  kedge_sbi_client_t *c = client_with(f, &o);
  int port = 0, lfd = listen_loopback(&port); /* not on the loop: only polled below */
  assert_true(lfd >= 0);
  char u[256];
  url(u, sizeof(u), port, "/ok");
  result_t r;
  int done = 0;
  result_init(&r, f, &done, 1);
  send_in_pass_t s = {.c = c, .url = u, .res = &r};
  struct event *kick = event_new(f->base, -1, 0, send_from_callback, &s);
  assert_non_null(kick);
  event_active(kick, 0, 0);
  assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK), 0);
  /* On loopback a connect(2) is in the listener's accept queue when it returns. */
  struct pollfd p = {.fd = lfd, .events = POLLIN};
  assert_int_equal(poll(&p, 1, 200), 1);
  event_free(kick);
  kedge_sbi_client_free(c); /* drops the call: its callback never runs */
  assert_false(r.fired);
  close(lfd);
}

/* Every TCP socket of this process that is TCP_CORKed. */
static int corked_sockets(void)
{
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  for (struct dirent *e; (e = readdir(d));) {
    int fd = atoi(e->d_name), v = 0;
    socklen_t len = sizeof(v);
    if (e->d_name[0] != '.' && fd != dirfd(d) &&
        getsockopt(fd, IPPROTO_TCP, TCP_CORK, &v, &len) == 0 && v)
      n++;
  }
  closedir(d);
  return n;
}

/* The client corks its connections while libcurl writes a pass's requests (a request's HEADERS
 * and DATA leave in one segment, docs/sbi-client.md "Sockets"): none may stay corked, also
 * not one libcurl stopped watching but keeps for reuse (its data would wait 200 ms). */
static void test_no_socket_left_corked(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  kedge_sbi_client_t *c = client_with(f, &o);
  json_t *body = json_pack("{s:s}", "k", "v");
  result_t r;
  for (int i = 0; i < 5; i++) { /* one at a time: the idle connection is reused each time */
    do_request(f, c, i % 2 ? "PUT" : "POST", port_main(f), "/echo", body, &r);
    assert_int_equal(r.err, KEDGE_OK);
    assert_int_equal(r.status, 200);
    result_clear(&r);
    assert_int_equal(corked_sockets(), 0);
  }
  char u[256];
  url(u, sizeof(u), port_main(f), "/echo");
  kedge_sbi_client_request_t req = {.method = "POST", .url = u, .body = body};
  result_t rs[CONCURRENT];
  int done = 0;
  for (int i = 0; i < CONCURRENT; i++) {
    result_init(&rs[i], f, &done, CONCURRENT);
    assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &rs[i], NULL), KEDGE_OK);
  }
  run_loop(f, 10000);
  assert_int_equal(done, CONCURRENT);
  for (int i = 0; i < CONCURRENT; i++) {
    assert_int_equal(rs[i].status, 200);
    result_clear(&rs[i]);
  }
  assert_int_equal(corked_sockets(), 0);
  json_decref(body);
  kedge_sbi_client_free(c);
}

static void test_unavailable_and_retries(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  o.max_retries = 2;
  o.retry_delay_ms = 20;
  kedge_sbi_client_t *c = client_with(f, &o);
  static const char *const idempotent[] = {"GET", "PUT", "DELETE"};
  result_t r;
  for (size_t i = 0; i < 3; i++) {
    do_request(f, c, idempotent[i], f->closed_port, "/ok", NULL, &r);
    assert_int_equal(r.err, KEDGE_ERR_UNAVAILABLE);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.attempts, 3);
    /* waits of 20 ms then 40 ms between the attempts */
    assert_true(r.elapsed_us >= 60000);
  }
  static const char *const not_idempotent[] = {"POST", "PATCH"};
  for (size_t i = 0; i < 2; i++) {
    do_request(f, c, not_idempotent[i], f->closed_port, "/ok", NULL, &r);
    assert_int_equal(r.err, KEDGE_ERR_UNAVAILABLE);
    assert_int_equal(r.attempts, 1); /* never resent */
  }
  kedge_sbi_client_free(c);

  o.max_retries = 0;
  c = client_with(f, &o);
  do_request(f, c, "GET", f->closed_port, "/ok", NULL, &r);
  assert_int_equal(r.err, KEDGE_ERR_UNAVAILABLE);
  assert_int_equal(r.attempts, 1);
  kedge_sbi_client_free(c);
}

/* ---- cancel and destroy ----------------------------------------------------------------- */

static void test_cancel(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  o.timeout_ms = 400;
  kedge_sbi_client_t *c = client_with(f, &o);
  char silent[256], slow[256], ok[256];
  url(silent, sizeof(silent), f->silent_port, "/ok");
  url(slow, sizeof(slow), port_main(f), "/slow");
  url(ok, sizeof(ok), port_main(f), "/conn");
  result_t r1, r2, r3;
  int done = 0;
  result_init(&r1, f, &done, 100);
  result_init(&r2, f, &done, 100);
  result_init(&r3, f, &done, 100);
  kedge_sbi_client_call_t *c1, *c2, *c3;
  kedge_sbi_client_request_t req = {.method = "GET", .url = silent};
  assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &r1, &c1), KEDGE_OK);
  req.url = slow;
  assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &r2, &c2), KEDGE_OK);
  /* Cancelled before the loop ever ran: nothing was sent yet. */
  req.url = ok;
  assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &r3, &c3), KEDGE_OK);
  kedge_sbi_client_cancel(c3);
  assert_int_equal(kedge_sbi_client_pending(c), 2);
  run_loop(f, 150); /* connected, /slow stream open on nginx */
  assert_int_equal(done, 0);
  kedge_sbi_client_cancel(c1);
  kedge_sbi_client_cancel(c2);
  assert_int_equal(kedge_sbi_client_pending(c), 0);
  run_loop(f, 1300); /* past the timeout and past /slow's answer */
  assert_int_equal(done, 0);
  assert_false(r1.fired || r2.fired || r3.fired);

  /* The HTTP/2 connection outlived the reset stream. */
  result_t r;
  do_request(f, c, "GET", port_main(f), "/conn", NULL, &r);
  assert_int_equal(r.err, KEDGE_OK);
  assert_string_equal(json_string_value(json_object_get(r.json, "http2")), "h2");
  result_clear(&r);
  kedge_sbi_client_free(c);
}

static void test_free_with_calls_in_flight(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  kedge_sbi_client_t *c = client_with(f, &o);
  char silent[256], slow[256];
  url(silent, sizeof(silent), f->silent_port, "/ok");
  url(slow, sizeof(slow), port_main(f), "/slow");
  result_t r[4];
  int done = 0;
  for (int i = 0; i < 4; i++)
    result_init(&r[i], f, &done, 100);
  kedge_sbi_client_request_t req = {.method = "GET", .url = silent};
  assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &r[0], NULL), KEDGE_OK);
  req.url = slow;
  assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &r[1], NULL), KEDGE_OK);
  req.url = slow;
  assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &r[2], NULL), KEDGE_OK);
  char closed[256];
  url(closed, sizeof(closed), f->closed_port, "/ok");
  req.url = closed; /* will sit in its retry wait */
  assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &r[3], NULL), KEDGE_OK);
  run_loop(f, 120);
  kedge_sbi_client_free(c);
  run_loop(f, 1300); /* no event of the freed client may fire (ASan would see it) */
  assert_int_equal(done, 0);
  /* Freeing right away, before the loop ran at all, is clean too. */
  c = client_with(f, &o);
  req.url = slow;
  assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &r[0], NULL), KEDGE_OK);
  kedge_sbi_client_free(c);
  run_loop(f, 100);
  assert_int_equal(done, 0);
}

typedef struct chain {
  kedge_sbi_client_t *client;
  fixture_t *f;
  int fired;
  int statuses[3];
  bool free_in_callback;
} chain_t;

static void on_chain(const kedge_sbi_client_response_t *r, void *arg)
{
  chain_t *ch = arg;
  ch->statuses[ch->fired++] = (int)r->status;
  if (ch->free_in_callback) {
    kedge_sbi_client_free(ch->client); /* the other call must never fire */
    ch->client = NULL;
    event_base_loopbreak(ch->f->base);
    return;
  }
  if (ch->fired < 3) {
    /* A new request from inside a callback. */
    char u[256];
    url(u, sizeof(u), port_main(ch->f), "/ok");
    kedge_sbi_client_request_t req = {.method = "GET", .url = u};
    assert_int_equal(kedge_sbi_client_send(ch->client, &req, on_chain, ch, NULL), KEDGE_OK);
  } else {
    event_base_loopbreak(ch->f->base);
  }
}

static void test_reentrant_callbacks(void **state)
{
  fixture_t *f = *state;
  ECS_CLIENT(f, o);
  chain_t ch = {.client = client_with(f, &o), .f = f};
  char u[256];
  url(u, sizeof(u), port_main(f), "/ok");
  kedge_sbi_client_request_t req = {.method = "GET", .url = u};
  assert_int_equal(kedge_sbi_client_send(ch.client, &req, on_chain, &ch, NULL), KEDGE_OK);
  run_loop(f, 10000);
  assert_int_equal(ch.fired, 3);
  assert_int_equal(ch.statuses[2], 200);
  kedge_sbi_client_free(ch.client);

  /* Free the client from the first callback while another call is in flight. */
  chain_t ch2 = {.client = client_with(f, &o), .f = f, .free_in_callback = true};
  assert_int_equal(kedge_sbi_client_send(ch2.client, &req, on_chain, &ch2, NULL), KEDGE_OK);
  char slow[256];
  url(slow, sizeof(slow), port_main(f), "/slow");
  req.url = slow;
  assert_int_equal(kedge_sbi_client_send(ch2.client, &req, on_chain, &ch2, NULL), KEDGE_OK);
  run_loop(f, 10000);
  assert_int_equal(ch2.fired, 1);
  assert_null(ch2.client);
  run_loop(f, 1300); /* /slow's answer would have come by now */
  assert_int_equal(ch2.fired, 1);
}

/* transport h2c (SPEC.md 7): prior knowledge against nginx's plain http2 listener, several
 * requests one after the other and a POST with a body. Debian 12's libcurl 7.88.1 corrupts the
 * second request on a reused prior-knowledge connection (curl issue 10634, fixed in 8.0.0): the
 * client opens one connection per request there, which nginx's $connection shows. */
static void test_h2c(void **state)
{
  fixture_t *f = *state;
  kedge_sbi_client_options_t o;
  kedge_sbi_client_options_init(&o);
  o.h2c = true;
  kedge_sbi_client_t *c = client_with(f, &o);
  result_t r;
  char last_conn[32] = "", u[128];
  snprintf(u, sizeof(u), "http://127.0.0.1:%d/conn", port_h2c(f));
  for (int i = 0; i < 3; i++) {
    do_request_url(f, c, "GET", u, NULL, &r);
    assert_int_equal(r.err, KEDGE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "http2")), "h2c");
    const char *conn = json_string_value(json_object_get(r.json, "connection"));
    assert_non_null(conn);
    if (curl_version_info(CURLVERSION_NOW)->version_num < 0x080000)
      assert_string_not_equal(conn, last_conn); /* a fresh connection each time */
    snprintf(last_conn, sizeof(last_conn), "%s", conn);
    result_clear(&r);
  }
  json_t *body = json_pack("{s:s}", "supiOrSuci", "imsi-001010000000001");
  snprintf(u, sizeof(u), "http://127.0.0.1:%d/echo", port_h2c(f));
  do_request_url(f, c, "POST", u, body, &r);
  json_decref(body);
  assert_int_equal(r.status, 200);
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(r.json, "body"), "supiOrSuci")),
      "imsi-001010000000001");
  result_clear(&r);
  /* an https:// URL is not for an h2c client, nor http:// for a TLS one */
  snprintf(u, sizeof(u), "https://127.0.0.1:%d/ok", port_h2c(f));
  kedge_sbi_client_request_t req = {.method = "GET", .url = u};
  assert_int_equal(kedge_sbi_client_send(c, &req, on_result, &r, NULL), KEDGE_ERR_INVALID_ARG);
  kedge_sbi_client_free(c);
  ECS_CLIENT(f, tls);
  kedge_sbi_client_t *t = client_with(f, &tls);
  snprintf(u, sizeof(u), "http://127.0.0.1:%d/ok", port_h2c(f));
  req.url = u;
  assert_int_equal(kedge_sbi_client_send(t, &req, on_result, &r, NULL), KEDGE_ERR_INVALID_ARG);
  kedge_sbi_client_free(t);
}

/* SCP model C (TS 29.500 6.10.2): the request goes to the SCP (nginx here) with the producer's
 * apiRoot in 3gpp-Sbi-Target-apiRoot and the same path and query. */
static void test_scp_model_c(void **state)
{
  fixture_t *f = *state;
  char scp[64];
  snprintf(scp, sizeof(scp), "https://127.0.0.1:%d", port_main(f));
  assert_int_equal(kedge_sbi_client_set_scp("https://127.0.0.1:1/prefix"), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_sbi_client_set_scp(scp), KEDGE_OK);
  ECS_CLIENT(f, o);
  kedge_sbi_client_t *c = client_with(f, &o);
  assert_int_equal(kedge_sbi_client_set_scp(NULL), KEDGE_OK); /* later clients: direct */
  result_t r;
  do_request_url(f, c, "GET",
                 "https://udm.operator.example:8443/nudm-ueau/v1/imsi-001010000000001/x?a=1", NULL,
                 &r);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(r.status, 200);
  assert_string_equal(json_string_value(json_object_get(r.json, "target")),
                      "https://udm.operator.example:8443");
  assert_string_equal(json_string_value(json_object_get(r.json, "uri")),
                      "/nudm-ueau/v1/imsi-001010000000001/x?a=1");
  result_clear(&r);
  kedge_sbi_client_free(c);
  kedge_sbi_client_t *direct = client_with(f, &o);
  do_request(f, direct, "GET", port_main(f), "/nudm-ueau/v1/y", NULL, &r);
  assert_string_equal(json_string_value(json_object_get(r.json, "target")), "");
  result_clear(&r);
  kedge_sbi_client_free(direct);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_get_json),
      cmocka_unit_test(test_problem_details),
      cmocka_unit_test(test_headers_of_interest),
      cmocka_unit_test(test_unread_2xx_body),
      cmocka_unit_test(test_methods_and_bodies),
      cmocka_unit_test(test_spare_handles_reused),
      cmocka_unit_test(test_bodies_past_curl_buffers),
      cmocka_unit_test(test_client_certificate_sent),
      cmocka_unit_test(test_no_client_certificate_refused),
      cmocka_unit_test(test_server_from_other_ca_refused),
      cmocka_unit_test(test_tls12_only_by_option),
      cmocka_unit_test(test_http11_server_refused),
      cmocka_unit_test(test_multiplexed_on_one_connection),
      cmocka_unit_test(test_response_size_limit),
      cmocka_unit_test(test_timeout),
      cmocka_unit_test(test_timeout_while_queued),
      cmocka_unit_test(test_sent_in_the_same_pass),
      cmocka_unit_test(test_no_socket_left_corked),
      cmocka_unit_test(test_unavailable_and_retries),
      cmocka_unit_test(test_cancel),
      cmocka_unit_test(test_free_with_calls_in_flight),
      cmocka_unit_test(test_reentrant_callbacks),
      cmocka_unit_test(test_h2c),
      cmocka_unit_test(test_scp_model_c),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
