/* The demo's message flow (tools/kedge/flow.c): trace lines in, trace.json and flow.svg out.
 * The SVG is checked with programs kedge did not write: xmllint (well-formed XML) and
 * rsvg-convert (a real renderer draws it at its declared size); scripts/deps.sh installs both.
 * Set FLOW_EXAMPLE_OUT=FILE to keep the realistic example's SVG (docs/flow-example.svg). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "flow.h"
#include "testutil.h"

#define RED "#dc2626"
#define T0  INT64_C(1764277200000000)

struct fixture {
  char dir[64];
  char trace[96], json[96], svg[96], png[96];
  flow_t *flow;
};

static int setup(void **state)
{
  struct fixture *f = calloc(1, sizeof(*f));
  if (!f)
    return -1;
  snprintf(f->dir, sizeof(f->dir), "/tmp/kedge-test-flow-XXXXXX");
  if (!mkdtemp(f->dir) || flow_new(&f->flow) != KEDGE_OK) {
    free(f);
    return -1;
  }
  snprintf(f->trace, sizeof(f->trace), "%s/trace.log", f->dir);
  snprintf(f->json, sizeof(f->json), "%s/trace.json", f->dir);
  snprintf(f->svg, sizeof(f->svg), "%s/flow.svg", f->dir);
  snprintf(f->png, sizeof(f->png), "%s/flow.png", f->dir);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  flow_free(f->flow);
  unlink(f->trace);
  unlink(f->json);
  unlink(f->svg);
  unlink(f->png);
  rmdir(f->dir);
  free(f);
  return 0;
}

static void write_file(const char *path, const char *text)
{
  FILE *fp = fopen(path, "w");
  assert_non_null(fp);
  fputs(text, fp);
  assert_int_equal(fclose(fp), 0);
}

static char *read_file(const char *path)
{
  FILE *fp = fopen(path, "r");
  assert_non_null(fp);
  char *buf = NULL;
  size_t len = 0, cap = 0, n;
  do {
    if (len + 4096 + 1 > cap) {
      cap = cap ? cap * 2 : 8192;
      buf = realloc(buf, cap);
      assert_non_null(buf);
    }
    n = fread(buf + len, 1, 4096, fp);
    len += n;
  } while (n > 0);
  fclose(fp);
  buf[len] = '\0';
  return buf;
}

static size_t count(const char *hay, const char *needle)
{
  size_t n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

static flow_event_t ev(int64_t t_us, double ms, const char *from, const char *to, const char *msg,
                       int status, const char *note, const char *step)
{
  flow_event_t e;
  memset(&e, 0, sizeof(e));
  e.t_us = t_us;
  e.ms = ms;
  snprintf(e.from, sizeof(e.from), "%s", from);
  snprintf(e.to, sizeof(e.to), "%s", to);
  snprintf(e.msg, sizeof(e.msg), "%s", msg);
  e.status = status;
  snprintf(e.note, sizeof(e.note), "%s", note);
  snprintf(e.step, sizeof(e.step), "%s", step);
  return e;
}

static void add(flow_t *flow, flow_event_t e)
{
  assert_int_equal(flow_add(flow, &e), KEDGE_OK);
}

/* The full path of a program on PATH, or NULL. */
static const char *find_program(const char *name)
{
  static char path[512];
  const char *dirs = getenv("PATH");
  if (!dirs)
    dirs = "/usr/bin:/bin";
  while (*dirs) {
    size_t len = strcspn(dirs, ":");
    snprintf(path, sizeof(path), "%.*s/%s", (int)len, dirs, name);
    if (len && access(path, X_OK) == 0)
      return path;
    dirs += len + (dirs[len] == ':');
  }
  return NULL;
}

/* xmllint --noout: well-formed XML, or the test fails with xmllint's complaint. */
static void expect_well_formed(const char *svg)
{
  const char *xmllint = find_program("xmllint");
  if (!xmllint)
    fail_msg("xmllint not found: run scripts/deps.sh (libxml2-utils)");
  char *argv[] = {(char *)xmllint, "--noout", (char *)svg, NULL};
  run_result_t r;
  run_capture(argv, &r);
  if (r.status != 0 || r.err[0])
    fail_msg("xmllint: status %d: %s", r.status, r.err);
  run_free(&r);
}

/* An attribute's number in the first element found at or after p. */
static double attr_num(const char *p, const char *attr)
{
  char key[32];
  snprintf(key, sizeof(key), " %s=\"", attr);
  const char *end = strchr(p, '>');
  const char *a = strstr(p, key);
  assert_non_null(a);
  assert_true(end == NULL || a < end);
  return strtod(a + strlen(key), NULL);
}

/* The realistic example of the brief: the in-domain and the out-of-domain flow of SPEC.md 0,
 * with the times a demo run measures, and one handshake that fails. */
static void realistic_trace(const char *path)
{
  write_file(
      path, "{\"t\":1764277200000000,\"ms\":6.214,\"from\":\"UE\",\"to\":\"AUSF\","
            "\"msg\":\"POST /nausf-auth/v1/ue-authentications\",\"status\":201}\n"
            "{\"t\":1764277200000820,\"ms\":3.905,\"from\":\"AUSF\",\"to\":\"UDM\",\"msg\":\"POST "
            "/nudm-ueau/v1/imsi-001010000000001/security-information/generate-auth-data\","
            "\"status\":200}\n"
            "{\"t\":1764277200008100,\"ms\":2.131,\"from\":\"UE\",\"to\":\"AUSF\",\"msg\":\"PUT "
            "/nausf-auth/v1/ue-authentications/4f1c9a2e-7b3d-4e8a-9c51-2d6f0b8e1a37/"
            "5g-aka-confirmation\",\"status\":200}\n"
            "{\"t\":1764277200016000,\"ms\":0.412,\"from\":\"EEC\",\"to\":\"UE\","
            "\"msg\":\"agent: get Kedge, Kedge ID\",\"step\":\"3\"}\n"
            "{\"t\":1764277200018000,\"ms\":9.57,\"from\":\"EEC\",\"to\":\"ECS\","
            "\"msg\":\"TLS 1.3 PSK handshake\",\"step\":\"4\"}\n"
            "{\"t\":1764277200019100,\"ms\":4.02,\"from\":\"ECS\",\"to\":\"AUSF\","
            "\"msg\":\"POST /nausf-auth/v1/kedge-keys/retrieve\",\"status\":200,\"step\":\"5\"}\n"
            "{\"t\":1764277200029000,\"ms\":1.804,\"from\":\"EEC\",\"to\":\"ECS\","
            "\"msg\":\"POST /eecs-serviceprovisioning/v1/request\",\"status\":200,\"step\":\"7\"}\n"
            "{\"t\":1764277200040000,\"ms\":14.2,\"from\":\"EEC\",\"to\":\"ECS\","
            "\"msg\":\"TLS 1.3 PSK handshake\",\"step\":\"4\"}\n"
            "{\"t\":1764277200041000,\"ms\":10.6,\"from\":\"ECS\",\"to\":\"NEF\","
            "\"msg\":\"POST /3gpp-kedge/v1/retrieve\",\"status\":200,\"step\":\"5.1\"}\n"
            "{\"t\":1764277200042500,\"ms\":5.3,\"from\":\"NEF\",\"to\":\"AUSF\","
            "\"msg\":\"POST /nausf-auth/v1/kedge-keys/retrieve\",\"status\":200,\"step\":\"5.2\"}\n"
            "{\"t\":1764277200060000,\"ms\":1.7,\"from\":\"EEC\",\"to\":\"ECS\","
            "\"msg\":\"POST /eecs-serviceprovisioning/v1/request\",\"status\":200,\"step\":\"7\"}\n"
            "{\"t\":1764277200070000,\"ms\":2.9,\"from\":\"EEC\",\"to\":\"ECS\","
            "\"msg\":\"TLS 1.3 PSK handshake (wrong key)\",\"note\":\"decrypt_error\"}\n");
}

static void realistic_flow(flow_t *flow, const char *trace)
{
  realistic_trace(trace);
  size_t skipped = 99;
  assert_int_equal(flow_load_trace(flow, trace, &skipped), KEDGE_OK);
  assert_int_equal(skipped, 0);
  /* what the demo adds itself: step markers and the derivations */
  add(flow, ev(T0 - 2, 0, "", "", "In-domain ECS", 0, "", ""));
  add(flow, ev(T0 - 1, 0, "", "", "5G AKA", 0, "", "0"));
  add(flow, ev(T0 + 10300, 0.08, "UE", "UE", "derives Kedge, Kedge ID", 0, "", "1"));
  add(flow, ev(T0 + 10400, 0.2, "AUSF", "", "derives, stores Kedge, Kedge ID", 0, "", "2"));
  add(flow, ev(T0 + 35000, 0, "", "", "Out-of-domain ECS, through the NEF", 0, "", ""));
  add(flow, ev(T0 + 65000, 0, "", "", "Failure on purpose: EEC with a wrong key", 0, "", ""));
}

static void test_load_counts_bad_lines(void **state)
{
  struct fixture *f = *state;
  char longline[6000];
  memset(longline, 'x', sizeof(longline) - 2);
  longline[sizeof(longline) - 2] = '\n';
  longline[sizeof(longline) - 1] = '\0';
  char text[16384];
  snprintf(
      text, sizeof(text), "%s%s",
      /* good, out of order */
      "{\"t\":300,\"ms\":1.5,\"from\":\"UE\",\"to\":\"AUSF\",\"msg\":\"POST /a\",\"status\":201}\n"
      "{\"t\":100,\"ms\":0.25,\"from\":\"AUSF\",\"to\":\"UDM\",\"msg\":\"POST "
      "/b\",\"status\":200}\n"
      "\n"
      "{\"t\":200,\"ms\":2,\"from\":\"EEC\",\"to\":\"ECS\",\"msg\":\"TLS\",\"note\":\"psk\"}\n"
      /* bad: not JSON, a JSON array, no "to", t a string, negative ms, a role too long for
       * its field, status out of range, a duplicate member, the cut last line of a crash */
      "garbage\n"
      "[1,2]\n"
      "{\"t\":1,\"ms\":1,\"from\":\"UE\",\"msg\":\"x\"}\n"
      "{\"t\":\"1\",\"ms\":1,\"from\":\"UE\",\"to\":\"AUSF\",\"msg\":\"x\"}\n"
      "{\"t\":1,\"ms\":-1,\"from\":\"UE\",\"to\":\"AUSF\",\"msg\":\"x\"}\n"
      "{\"t\":1,\"ms\":1,\"from\":\"UE-with-a-long-name\",\"to\":\"AUSF\",\"msg\":\"x\"}\n"
      "{\"t\":1,\"ms\":1,\"from\":\"UE\",\"to\":\"AUSF\",\"msg\":\"x\",\"status\":1000}\n"
      "{\"t\":1,\"t\":2,\"ms\":1,\"from\":\"UE\",\"to\":\"AUSF\",\"msg\":\"x\"}\n",
      longline);
  strcat(text, "{\"t\":400,\"ms\":1,\"from\":\"UE\",\"to\":\"AU");
  write_file(f->trace, text);

  size_t skipped = 0;
  assert_int_equal(flow_load_trace(f->flow, f->trace, &skipped), KEDGE_OK);
  assert_int_equal(skipped, 10);
  assert_int_equal(flow_count(f->flow), 3);

  size_t none = 7;
  char missing[128];
  snprintf(missing, sizeof(missing), "%s/none.log", f->dir);
  assert_int_equal(flow_load_trace(f->flow, missing, &none), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(flow_count(f->flow), 3);
}

/* trace.json: sorted by start time (ties keep the order they came in), the same events. */
static void test_json_sorted_round_trip(void **state)
{
  struct fixture *f = *state;
  add(f->flow,
      ev(T0 + 500, 3.25, "AUSF", "UDM", "POST /nudm-ueau/v1/x/generate-auth-data", 200, "", "0"));
  add(f->flow, ev(T0, 6.214, "UE", "AUSF", "POST /nausf-auth/v1/ue-authentications", 201, "", ""));
  add(f->flow, ev(T0 + 500, 0, "", "", "a marker at the same instant", 0, "", "5.1"));
  add(f->flow, ev(T0 + 9000, 2.9, "EEC", "ECS", "TLS 1.3 PSK handshake", 0, "decrypt_error", ""));
  assert_int_equal(flow_write_json(f->flow, f->json), KEDGE_OK);

  json_error_t jerr;
  json_t *a = json_load_file(f->json, JSON_REJECT_DUPLICATES, &jerr);
  if (!a)
    fail_msg("trace.json: %s (line %d)", jerr.text, jerr.line);
  assert_true(json_is_array(a));
  assert_int_equal(json_array_size(a), 4);
  static const struct {
    int64_t t;
    double ms;
    const char *from, *to, *msg;
    int status;
    const char *note, *step;
  } want[] = {
      {T0, 6.214, "UE", "AUSF", "POST /nausf-auth/v1/ue-authentications", 201, NULL, NULL},
      {T0 + 500, 3.25, "AUSF", "UDM", "POST /nudm-ueau/v1/x/generate-auth-data", 200, NULL, "0"},
      {T0 + 500, 0, "", "", "a marker at the same instant", 0, NULL, "5.1"},
      {T0 + 9000, 2.9, "EEC", "ECS", "TLS 1.3 PSK handshake", 0, "decrypt_error", NULL},
  };
  for (size_t i = 0; i < 4; i++) {
    json_t *o = json_array_get(a, i);
    assert_true(json_is_integer(json_object_get(o, "t")));
    assert_true(json_integer_value(json_object_get(o, "t")) == want[i].t);
    assert_true(json_is_number(json_object_get(o, "ms")));
    assert_float_equal(json_number_value(json_object_get(o, "ms")), want[i].ms, 1e-9);
    assert_string_equal(json_string_value(json_object_get(o, "from")), want[i].from);
    assert_string_equal(json_string_value(json_object_get(o, "to")), want[i].to);
    assert_string_equal(json_string_value(json_object_get(o, "msg")), want[i].msg);
    json_t *status = json_object_get(o, "status"), *note = json_object_get(o, "note");
    json_t *step = json_object_get(o, "step");
    if (want[i].status)
      assert_int_equal(json_integer_value(status), want[i].status);
    else
      assert_null(status);
    if (want[i].note)
      assert_string_equal(json_string_value(note), want[i].note);
    else
      assert_null(note);
    if (want[i].step)
      assert_string_equal(json_string_value(step), want[i].step);
    else
      assert_null(step);
    /* nothing else */
    assert_int_equal(json_object_size(o),
                     5 + (want[i].status != 0) + (want[i].note != NULL) + (want[i].step != NULL));
  }
  json_decref(a);
}

/* Text that is not UTF-8 or holds control characters still makes valid JSON and XML. */
static void test_add_sanitises_text(void **state)
{
  struct fixture *f = *state;
  add(f->flow, ev(T0, 1, "UE", "AUSF", "bad \xff\xfe utf-8 \x01 and \xe2\x80 cut", 0, "", ""));
  assert_int_equal(flow_write_json(f->flow, f->json), KEDGE_OK);
  json_t *a = json_load_file(f->json, 0, NULL);
  assert_non_null(a);
  assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "msg")),
                      "bad ?? utf-8   and ?? cut");
  json_decref(a);
  assert_int_equal(flow_write_svg(f->flow, "t", f->svg), KEDGE_OK);
  expect_well_formed(f->svg);
}

static void test_short_labels(void **state)
{
  static const struct {
    const char *msg, *label;
  } cases[] = {
      {"POST /nausf-auth/v1/ue-authentications", "POST nausf-auth/ue-authentications"},
      {"POST /nausf-auth/v1/kedge-keys/retrieve", "POST nausf-auth/kedge-keys/retrieve"},
      {"PUT /nausf-auth/v1/ue-authentications/4f1c9a2e-7b3d-4e8a-9c51-2d6f0b8e1a37/"
       "5g-aka-confirmation",
       "PUT nausf-auth \xE2\x80\xA6/5g-aka-confirmation"},
      {"POST /nudm-ueau/v1/imsi-001010000000001/security-information/generate-auth-data",
       "POST nudm-ueau \xE2\x80\xA6/generate-auth-data"},
      {"POST .../generate-auth-data", "POST \xE2\x80\xA6/generate-auth-data"},
      {"GET /3gpp-kedge/v1/retrieve?x=<1>", "GET 3gpp-kedge/retrieve"},
      {"TLS 1.3 PSK handshake", "TLS 1.3 PSK handshake"},
      {"a message that is not a request line and far too long to stand over one arrow",
       "a message that is not a request line and far too long t\xE2\x80\xA6"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char out[256];
    flow_short_label(cases[i].msg, out, sizeof(out));
    assert_string_equal(out, cases[i].label);
  }
}

/* The realistic example: well-formed, drawn by a real renderer at its declared size, one
 * request arrow per exchange and one answer arrow per exchange that has an answer. */
static void test_svg_realistic(void **state)
{
  struct fixture *f = *state;
  realistic_flow(f->flow, f->trace);
  assert_int_equal(flow_write_svg(f->flow, "kedge demo: in-domain and out-of-domain ECS", f->svg),
                   KEDGE_OK);
  const char *keep = getenv("FLOW_EXAMPLE_OUT");
  if (keep && *keep)
    assert_int_equal(flow_write_svg(f->flow, "kedge demo: in-domain and out-of-domain ECS", keep),
                     KEDGE_OK);
  expect_well_formed(f->svg);
  char *svg = read_file(f->svg);
  assert_int_equal(count(svg, "<line class=\"request"), 12);
  assert_int_equal(count(svg, "<line class=\"answer"), 9); /* 8 with a status, 1 with a note */
  assert_int_equal(count(svg, "<rect class=\"note"), 2);
  assert_int_equal(count(svg, "<line class=\"mark\""), 4);
  assert_int_equal(count(svg, "<line class=\"lifeline\""), 6);
  /* the long paths are shortened, the SUPI in the UDM's path is not shown */
  assert_non_null(strstr(svg, "PUT nausf-auth \xE2\x80\xA6/5g-aka-confirmation"));
  assert_null(strstr(svg, "imsi-001010000000001"));
  assert_non_null(strstr(svg, "201 Created \xC2\xB7 6.2 ms"));
  assert_non_null(strstr(svg, "TLS 1.3 PSK handshake \xC2\xB7 9.6 ms"));
  assert_non_null(strstr(svg, "12 exchanges, 1 failed"));
  /* step labels: 0 1 2 3 4 5 7 4 5.1 5.2 7 */
  assert_int_equal(count(svg, "<rect class=\"step\""), 11);
  assert_non_null(strstr(svg, ">5.1</text>"));
  /* SVG 1.1 with nothing outside it */
  assert_non_null(strstr(svg, "version=\"1.1\""));
  assert_null(strstr(svg, "href"));
  assert_null(strstr(svg, "@import"));
  assert_null(strstr(svg, "<image"));

  const char *rsvg = find_program("rsvg-convert");
  if (!rsvg)
    fail_msg("rsvg-convert not found: run scripts/deps.sh (librsvg2-bin)");
  char *argv[] = {(char *)rsvg, "-o", f->png, f->svg, NULL};
  run_result_t r;
  run_capture(argv, &r);
  if (r.status != 0)
    fail_msg("rsvg-convert: status %d: %s", r.status, r.err);
  run_free(&r);
  /* PNG: signature, then IHDR with big-endian width and height (RFC 2083 4.1.1) */
  FILE *fp = fopen(f->png, "rb");
  assert_non_null(fp);
  unsigned char h[24];
  assert_int_equal(fread(h, 1, sizeof(h), fp), sizeof(h));
  fclose(fp);
  assert_memory_equal(h, "\x89PNG\r\n\x1a\n", 8);
  assert_memory_equal(h + 12, "IHDR", 4);
  unsigned w = (unsigned)h[16] << 24 | (unsigned)h[17] << 16 | (unsigned)h[18] << 8 | h[19];
  unsigned ht = (unsigned)h[20] << 24 | (unsigned)h[21] << 16 | (unsigned)h[22] << 8 | h[23];
  const char *root = strstr(svg, "<svg ");
  assert_non_null(root);
  assert_int_equal(w, (unsigned)attr_num(root, "width"));
  assert_int_equal(ht, (unsigned)attr_num(root, "height"));
  assert_true(w > 600 && w < 2400);
  assert_true(ht > 500 && ht < 2400);
  free(svg);
}

/* A call made while another is served sits inside it: request, request, answer, answer. */
static void test_svg_nested_calls(void **state)
{
  struct fixture *f = *state;
  add(f->flow,
      ev(T0 + 1000, 3, "AUSF", "UDM", "POST /nudm-ueau/v1/x/generate-auth-data", 200, "", ""));
  add(f->flow, ev(T0, 10, "UE", "AUSF", "POST /nausf-auth/v1/ue-authentications", 201, "", ""));
  assert_int_equal(flow_write_svg(f->flow, "nested", f->svg), KEDGE_OK);
  char *svg = read_file(f->svg);
  const char *want[] = {"request", "request", "answer", "answer"};
  const char *p = svg;
  double last_y = 0, xs[4];
  for (size_t i = 0; i < 4; i++) {
    p = strstr(p, "<line class=\"");
    assert_non_null(p);
    while (!strncmp(p, "<line class=\"lifeline", 21) || !strncmp(p, "<line class=\"mark", 17))
      p = strstr(p + 1, "<line class=\"");
    assert_non_null(p);
    assert_memory_equal(p + 13, want[i], strlen(want[i]));
    double y = attr_num(p, "y1");
    assert_true(y > last_y);
    last_y = y;
    xs[i] = attr_num(p, "x1");
    p++;
  }
  /* UE -> AUSF, AUSF -> UDM, UDM -> AUSF, AUSF -> UE: the lifelines left to right */
  assert_true(xs[0] < xs[1] && xs[1] < xs[2] && xs[3] > xs[0]);
  free(svg);
}

/* Messages, roles and the title are XML-escaped. */
static void test_svg_escapes(void **state)
{
  struct fixture *f = *state;
  add(f->flow, ev(T0, 1, "UE", "A<F&", "<script>alert(\"x\") & 'y'</script>", 200, "", ""));
  assert_int_equal(flow_write_svg(f->flow, "title <&\"'>", f->svg), KEDGE_OK);
  expect_well_formed(f->svg);
  char *svg = read_file(f->svg);
  assert_null(strstr(svg, "<script"));
  assert_non_null(strstr(svg, "&lt;script&gt;alert(&quot;x&quot;) &amp; &apos;y&apos;"));
  assert_non_null(strstr(svg, ">A&lt;F&amp;</text>"));
  assert_non_null(strstr(svg, ">title &lt;&amp;&quot;&apos;&gt;</text>"));
  free(svg);
}

/* Failed exchanges are red: a 404, a note; a 200 is not. */
static void test_svg_failures_red(void **state)
{
  struct fixture *f = *state;
  add(f->flow, ev(T0, 1, "ECS", "AUSF", "POST /nausf-auth/v1/kedge-keys/retrieve", 200, "", ""));
  add(f->flow, ev(T0 + 10000, 1, "ECS", "AUSF", "POST /nausf-auth/v1/kedge-keys/retrieve", 404,
                  "CONTEXT_NOT_FOUND", ""));
  add(f->flow, ev(T0 + 20000, 1, "EEC", "ECS", "TLS 1.3 PSK handshake", 0, "decrypt_error", ""));
  add(f->flow, ev(T0 + 30000, 1, "EEC", "ECS", "TLS 1.3 PSK handshake", 0, "", ""));
  assert_int_equal(flow_write_svg(f->flow, "failures", f->svg), KEDGE_OK);
  char *svg = read_file(f->svg);
  /* arrows in row order: 200 req, 200 answer, 404 req, 404 answer, TLS req, TLS answer, TLS */
  const bool red[] = {false, false, true, true, true, true, false};
  const char *p = svg;
  size_t n = 0;
  while ((p = strstr(p, "<line class=\"")) != NULL) {
    if (!strncmp(p + 13, "request", 7) || !strncmp(p + 13, "answer", 6)) {
      assert_true(n < sizeof(red) / sizeof(red[0]));
      const char *end = strstr(p, "/>");
      assert_non_null(end);
      const char *r = strstr(p, RED);
      bool is_red = r && r < end;
      if (is_red != red[n])
        fail_msg("arrow %zu: red %d, want %d", n, is_red, red[n]);
      n++;
    }
    p++;
  }
  assert_int_equal(n, 7);
  assert_non_null(strstr(svg, "404 Not Found \xC2\xB7 CONTEXT_NOT_FOUND \xC2\xB7 1.0 ms"));
  assert_non_null(strstr(svg, "decrypt_error"));
  free(svg);
}

static double box_x(const char *svg, const char *role)
{
  char needle[64];
  snprintf(needle, sizeof(needle), "font-weight=\"bold\" fill=\"#0f172a\">%s</text>", role);
  const char *p = strstr(svg, needle);
  if (!p)
    return -1;
  while (p > svg && strncmp(p, "<text ", 6))
    p--;
  return attr_num(p, "x");
}

/* Lifelines UE, EEC, ECS, NEF, AUSF, UDM whatever order they appear in; others after them. */
static void test_svg_lifeline_order(void **state)
{
  struct fixture *f = *state;
  add(f->flow, ev(T0, 1, "UDM", "AF", "x", 200, "", ""));
  add(f->flow, ev(T0 + 1, 1, "AUSF", "ECS-ext", "x", 200, "", ""));
  add(f->flow, ev(T0 + 2, 1, "NEF", "EEC", "x", 200, "", ""));
  add(f->flow, ev(T0 + 3, 1, "UE", "AUSF", "x", 200, "", ""));
  add(f->flow, ev(T0 + 4, 1, "ECS", "UE", "x", 200, "", ""));
  assert_int_equal(flow_write_svg(f->flow, "order", f->svg), KEDGE_OK);
  char *svg = read_file(f->svg);
  const char *order[] = {"UE", "EEC", "ECS", "ECS-ext", "NEF", "AUSF", "UDM", "AF"};
  double last = 0;
  for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
    double x = box_x(svg, order[i]);
    if (x <= last)
      fail_msg("%s at x %.1f, not right of the one before (%.1f)", order[i], x, last);
    last = x;
  }
  assert_int_equal(count(svg, "<line class=\"lifeline\""), 8);
  free(svg);
}

/* Only roles that appear get a lifeline. */
static void test_svg_only_roles_present(void **state)
{
  struct fixture *f = *state;
  add(f->flow, ev(T0, 1, "EEC", "ECS", "TLS 1.3 PSK handshake", 0, "", "7"));
  assert_int_equal(flow_write_svg(f->flow, "one", f->svg), KEDGE_OK);
  char *svg = read_file(f->svg);
  assert_int_equal(count(svg, "<line class=\"lifeline\""), 2);
  assert_true(box_x(svg, "EEC") > 0 && box_x(svg, "ECS") > box_x(svg, "EEC"));
  assert_true(box_x(svg, "UE") < 0 && box_x(svg, "AUSF") < 0);
  assert_int_equal(count(svg, "<line class=\"request"), 1);
  assert_int_equal(count(svg, "<line class=\"answer"), 0);
  free(svg);
}

/* Past FLOW_SVG_MAX_EVENTS the diagram stops and says how many it left out. */
static void test_svg_capped(void **state)
{
  struct fixture *f = *state;
  for (int i = 0; i < FLOW_SVG_MAX_EVENTS + 50; i++)
    add(f->flow, ev(T0 + i * 100, 0.05, "ECS", "AUSF", "POST /nausf-auth/v1/kedge-keys/retrieve",
                    200, "", ""));
  assert_int_equal(flow_write_svg(f->flow, "many", f->svg), KEDGE_OK);
  expect_well_formed(f->svg);
  char *svg = read_file(f->svg);
  assert_int_equal(count(svg, "<line class=\"request"), FLOW_SVG_MAX_EVENTS);
  assert_non_null(strstr(svg, "\xE2\x80\xA6 50 more events"));
  double h = attr_num(strstr(svg, "<svg "), "height");
  assert_true(h > FLOW_SVG_MAX_EVENTS * 2 * 30 && h < FLOW_SVG_MAX_EVENTS * 2 * 40 + 400);
  free(svg);
  /* and trace.json keeps every one */
  assert_int_equal(flow_write_json(f->flow, f->json), KEDGE_OK);
  json_t *a = json_load_file(f->json, 0, NULL);
  assert_int_equal(json_array_size(a), FLOW_SVG_MAX_EVENTS + 50);
  json_decref(a);
}

/* No events: still a valid picture with the title. */
static void test_svg_empty(void **state)
{
  struct fixture *f = *state;
  assert_int_equal(flow_write_svg(f->flow, "nothing ran", f->svg), KEDGE_OK);
  expect_well_formed(f->svg);
  char *svg = read_file(f->svg);
  assert_non_null(strstr(svg, ">nothing ran</text>"));
  assert_int_equal(count(svg, "<line class=\"lifeline\""), 0);
  free(svg);
  assert_int_equal(flow_write_json(f->flow, f->json), KEDGE_OK);
  json_t *a = json_load_file(f->json, 0, NULL);
  assert_true(json_is_array(a) && json_array_size(a) == 0);
  json_decref(a);
}

/* Times at the edge of their range are kept within it: nothing overflows when drawn. */
static void test_extreme_times(void **state)
{
  struct fixture *f = *state;
  write_file(f->trace,
             "{\"t\":9223372036854775807,\"ms\":1e300,\"from\":\"UE\",\"to\":\"AUSF\","
             "\"msg\":\"x\",\"status\":200}\n"
             "{\"t\":0,\"ms\":0,\"from\":\"AUSF\",\"to\":\"UE\",\"msg\":\"y\",\"status\":200}\n"
             "\n\n");
  size_t skipped = 9;
  assert_int_equal(flow_load_trace(f->flow, f->trace, &skipped), KEDGE_OK);
  assert_int_equal(skipped, 0);
  add(f->flow, ev(INT64_MIN, -5, "EEC", "ECS", "z", 0, "", ""));
  assert_int_equal(flow_write_svg(f->flow, "extremes", f->svg), KEDGE_OK);
  expect_well_formed(f->svg);
  assert_int_equal(flow_write_json(f->flow, f->json), KEDGE_OK);
  json_t *a = json_load_file(f->json, 0, NULL);
  assert_int_equal(json_array_size(a), 3);
  /* the one with a negative start comes first, at 0, lasting 0 */
  assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "from")), "AUSF");
  assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "from")), "EEC");
  assert_true(json_integer_value(json_object_get(json_array_get(a, 1), "t")) == 0);
  assert_float_equal(json_number_value(json_object_get(json_array_get(a, 1), "ms")), 0, 0);
  json_decref(a);
}

static void test_write_errors(void **state)
{
  struct fixture *f = *state;
  char bad[160];
  snprintf(bad, sizeof(bad), "%s/no/such/dir/x", f->dir);
  assert_int_equal(flow_write_json(f->flow, bad), KEDGE_ERR_IO);
  assert_int_equal(flow_write_svg(f->flow, "x", bad), KEDGE_ERR_IO);
  assert_int_equal(flow_add(f->flow, NULL), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(flow_new(NULL), KEDGE_ERR_INVALID_ARG);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_load_counts_bad_lines, setup, teardown),
      cmocka_unit_test_setup_teardown(test_json_sorted_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_add_sanitises_text, setup, teardown),
      cmocka_unit_test(test_short_labels),
      cmocka_unit_test_setup_teardown(test_svg_realistic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_svg_nested_calls, setup, teardown),
      cmocka_unit_test_setup_teardown(test_svg_escapes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_svg_failures_red, setup, teardown),
      cmocka_unit_test_setup_teardown(test_svg_lifeline_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_svg_only_roles_present, setup, teardown),
      cmocka_unit_test_setup_teardown(test_svg_capped, setup, teardown),
      cmocka_unit_test_setup_teardown(test_svg_empty, setup, teardown),
      cmocka_unit_test_setup_teardown(test_extreme_times, setup, teardown),
      cmocka_unit_test_setup_teardown(test_write_errors, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
