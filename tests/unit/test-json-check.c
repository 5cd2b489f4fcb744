/* kedge_json_check: members missing, of the wrong kind, too long, failing a check, nested
 * pointers, the missing_only verdict, and bodies that are not objects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "kedge/json_check.h"
#include "kedge/problem.h"

/* TS 29.503 ResynchronizationInfo and AuthenticationInfoRequest, as a handler would write it. */
static const char *check_auts(const json_t *v)
{
  const char *s = json_string_value(v);
  if (strlen(s) != 28 || strspn(s, "0123456789abcdefABCDEF") != 28)
    return "must be 28 hex digits";
  return NULL;
}

static const kedge_json_member_t resync_members[] = {
    {.name = "rand", .kind = KEDGE_JSON_STRING, .required = true, .check = kedge_json_check_hex16},
    {.name = "auts", .kind = KEDGE_JSON_STRING, .required = true, .check = check_auts},
    {.name = NULL},
};

static const kedge_json_member_t request_members[] = {
    {.name = "servingNetworkName", .kind = KEDGE_JSON_STRING, .required = true, .max_len = 64},
    {.name = "ausfInstanceId", .kind = KEDGE_JSON_STRING, .required = true},
    {.name = "resynchronizationInfo", .kind = KEDGE_JSON_OBJECT, .object = resync_members},
    {.name = "counter", .kind = KEDGE_JSON_INTEGER},
    {.name = "edgeInd", .kind = KEDGE_JSON_BOOLEAN},
    {.name = "list", .kind = KEDGE_JSON_ARRAY, .max_len = 2},
    {.name = "odd/na~me", .kind = KEDGE_JSON_STRING},
    {.name = NULL},
};

#define SNN  "5G:mnc001.mcc001.3gppnetwork.org"
#define RAND "0123456789abcdef0123456789ABCDEF"

static json_t *parse(const char *text)
{
  json_error_t e;
  json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
  if (!j)
    fail_msg("test JSON: %s", e.text);
  return j;
}

/* Runs the check on `body_text`; returns invalidParams as compact JSON ("[]" when none). */
static char *run(const char *body_text, kedge_err_t want, bool want_missing_only)
{
  json_t *body = parse(body_text);
  json_t *problem = kedge_problem_new(400, "MANDATORY_IE_INCORRECT", NULL);
  bool missing_only = !want_missing_only;
  assert_int_equal(kedge_json_check(body, request_members, problem, &missing_only), want);
  assert_int_equal(missing_only, want_missing_only);
  json_t *list = json_object_get(problem, "invalidParams");
  if (want == KEDGE_OK)
    assert_null(list);
  char *s = list ? json_dumps(list, JSON_COMPACT) : strdup("[]");
  json_decref(problem);
  json_decref(body);
  return s;
}

static void expect(const char *body, kedge_err_t want, bool missing_only, const char *params)
{
  char *got = run(body, want, missing_only);
  if (strcmp(got, params) != 0)
    fail_msg("body %s\n got  %s\n want %s", body, got, params);
  free(got);
}

static void test_valid_bodies(void **state)
{
  expect("{\"servingNetworkName\":\"" SNN "\",\"ausfInstanceId\":\"a\"}", KEDGE_OK, false, "[]");
  /* Unknown members are ignored (TS 29.500 5.2.7: extensibility). */
  expect("{\"servingNetworkName\":\"" SNN "\",\"ausfInstanceId\":\"a\",\"x\":[1,{}],"
         "\"resynchronizationInfo\":{\"rand\":\"" RAND
         "\",\"auts\":\"00112233445566778899aabbccdd\"},"
         "\"counter\":-3,\"edgeInd\":false,\"list\":[1,2],\"odd/na~me\":\"\"}",
         KEDGE_OK, false, "[]");
}

static void test_missing_required(void **state)
{
  expect("{}", KEDGE_ERR_INVALID_ARG, true,
         "[{\"param\":\"/servingNetworkName\",\"reason\":\"mandatory member missing\"},"
         "{\"param\":\"/ausfInstanceId\",\"reason\":\"mandatory member missing\"}]");
}

static void test_wrong_types(void **state)
{
  expect("{\"servingNetworkName\":7,\"ausfInstanceId\":null,\"counter\":1.5,"
         "\"edgeInd\":\"true\",\"list\":{},\"resynchronizationInfo\":[]}",
         KEDGE_ERR_INVALID_ARG, false,
         "[{\"param\":\"/servingNetworkName\",\"reason\":\"must be a string\"},"
         "{\"param\":\"/ausfInstanceId\",\"reason\":\"must be a string\"},"
         "{\"param\":\"/resynchronizationInfo\",\"reason\":\"must be an object\"},"
         "{\"param\":\"/counter\",\"reason\":\"must be an integer\"},"
         "{\"param\":\"/edgeInd\",\"reason\":\"must be a boolean\"},"
         "{\"param\":\"/list\",\"reason\":\"must be an array\"}]");
}

static void test_too_long(void **state)
{
  char body[256];
  char name[66];
  memset(name, 'n', 65);
  name[65] = '\0';
  snprintf(body, sizeof body,
           "{\"servingNetworkName\":\"%s\",\"ausfInstanceId\":\"a\",\"list\":[1,2,3]}", name);
  expect(body, KEDGE_ERR_INVALID_ARG, false,
         "[{\"param\":\"/servingNetworkName\",\"reason\":\"must be at most 64 octets\"},"
         "{\"param\":\"/list\",\"reason\":\"must be at most 2 elements\"}]");
  name[64] = '\0'; /* exactly at the bound is fine */
  snprintf(body, sizeof body, "{\"servingNetworkName\":\"%s\",\"ausfInstanceId\":\"a\"}", name);
  expect(body, KEDGE_OK, false, "[]");
}

static void test_nested_pointers(void **state)
{
  expect("{\"servingNetworkName\":\"" SNN "\",\"ausfInstanceId\":\"a\","
         "\"resynchronizationInfo\":{\"rand\":\"" RAND "\",\"auts\":\"0011\"}}",
         KEDGE_ERR_INVALID_ARG, false,
         "[{\"param\":\"/resynchronizationInfo/auts\",\"reason\":\"must be 28 hex digits\"}]");
  expect("{\"servingNetworkName\":\"" SNN "\",\"ausfInstanceId\":\"a\","
         "\"resynchronizationInfo\":{}}",
         KEDGE_ERR_INVALID_ARG, true,
         "[{\"param\":\"/resynchronizationInfo/rand\",\"reason\":\"mandatory member missing\"},"
         "{\"param\":\"/resynchronizationInfo/auts\",\"reason\":\"mandatory member missing\"}]");
  /* Missing and incorrect together: not missing_only (cause MANDATORY_IE_INCORRECT). */
  expect("{\"ausfInstanceId\":\"a\",\"resynchronizationInfo\":{\"rand\":\"xyz\",\"auts\":5}}",
         KEDGE_ERR_INVALID_ARG, false,
         "[{\"param\":\"/servingNetworkName\",\"reason\":\"mandatory member missing\"},"
         "{\"param\":\"/resynchronizationInfo/rand\",\"reason\":\"must be 32 hex digits\"},"
         "{\"param\":\"/resynchronizationInfo/auts\",\"reason\":\"must be a string\"}]");
}

static void test_pointer_escaping(void **state)
{
  expect("{\"servingNetworkName\":\"" SNN "\",\"ausfInstanceId\":\"a\",\"odd/na~me\":1}",
         KEDGE_ERR_INVALID_ARG, false,
         "[{\"param\":\"/odd~1na~0me\",\"reason\":\"must be a string\"}]");
}

static void test_non_object_body(void **state)
{
  const char *bodies[] = {"[]", "\"x\"", "3", "null", "true"};
  for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
    expect(bodies[i], KEDGE_ERR_INVALID_ARG, false,
           "[{\"param\":\"\",\"reason\":\"must be a JSON object\"}]");
  bool missing_only = true;
  assert_int_equal(kedge_json_check(NULL, request_members, NULL, &missing_only),
                   KEDGE_ERR_INVALID_ARG);
  assert_false(missing_only);
}

static void test_without_problem_or_flag(void **state)
{
  json_t *body = parse("{}");
  assert_int_equal(kedge_json_check(body, request_members, NULL, NULL), KEDGE_ERR_INVALID_ARG);
  json_decref(body);
}

static void test_check_at_prefix(void **state)
{
  json_t *body = parse("{\"rand\":\"00\"}");
  json_t *problem = kedge_problem_new(400, "MANDATORY_IE_INCORRECT", NULL);
  bool missing_only;
  assert_int_equal(
      kedge_json_check_at(body, resync_members, "/resynchronizationInfo", problem, &missing_only),
      KEDGE_ERR_INVALID_ARG);
  assert_false(missing_only);
  char *s = json_dumps(json_object_get(problem, "invalidParams"), JSON_COMPACT);
  assert_string_equal(
      s, "[{\"param\":\"/resynchronizationInfo/rand\",\"reason\":\"must be 32 hex digits\"},"
         "{\"param\":\"/resynchronizationInfo/auts\",\"reason\":\"mandatory member missing\"}]");
  free(s);
  json_decref(problem);
  json_decref(body);
}

static void test_hex_checks(void **state)
{
  json_t *v = json_string(RAND);
  assert_null(kedge_json_check_hex16(v));
  assert_string_equal(kedge_json_check_hex32(v), "must be 64 hex digits");
  json_decref(v);
  v = json_string(RAND RAND);
  assert_null(kedge_json_check_hex32(v));
  assert_string_equal(kedge_json_check_hex16(v), "must be 32 hex digits");
  json_decref(v);
  v = json_string("0123456789abcdef0123456789abcdeg");
  assert_string_equal(kedge_json_check_hex16(v), "must be 32 hex digits");
  json_decref(v);
  v = json_integer(1);
  assert_string_equal(kedge_json_check_hex16(v), "must be a string");
  json_decref(v);
  /* an embedded NUL must not let a short string pass */
  v = json_stringn("0123456789abcdef\0"
                   "123456789abcdef",
                   32);
  if (v) {
    assert_string_equal(kedge_json_check_hex16(v), "must be 32 hex digits");
    json_decref(v);
  }
}

/* kedge_json_plain decides whether an answer is written out with snprintf between quotes
 * (daemons/udm, daemons/ausf): true exactly when jansson's compact dump writes the string
 * unchanged between quotes and the string is ASCII. A byte past ASCII may not be UTF-8 (RFC 8259
 * 8.1: JSON text is UTF-8; jansson refuses to make such a string), so any goes through a tree:
 * what is written out is ASCII (hex, SUPIs, UUIDs, serving network names). */
static void test_plain(void **state)
{
  (void)state;
  const char *texts[] = {"",          "5G:mnc001.mcc001.3gppnetwork.org",
                         "nai-a/b@x", "imsi-001010000000001",
                         "\xc3\xa9", /* é */
                         "a\"b",      "a\\b",
                         "a\nb",      "tab\there",
                         "\x01",      "\x1f",
                         "\x7f"};
  for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
    json_t *str = json_string(texts[i]);
    assert_non_null(str);
    char *dumped = json_dumps(str, JSON_ENCODE_ANY | JSON_COMPACT);
    assert_non_null(dumped);
    size_t len = strlen(texts[i]);
    bool unchanged = strlen(dumped) == len + 2 && memcmp(dumped + 1, texts[i], len) == 0;
    bool ascii = true;
    for (const char *c = texts[i]; *c; c++)
      ascii = ascii && (unsigned char)*c < 0x80;
    assert_int_equal(kedge_json_plain(texts[i]), unchanged && ascii);
    free(dumped);
    json_decref(str);
  }
  /* not UTF-8: jansson makes no string of it, and written out it would not be JSON */
  assert_null(json_string("\xff\xfe"));
  assert_false(kedge_json_plain("\xff\xfe"));
  assert_false(kedge_json_plain("nai-\xc3@x"));
  assert_false(kedge_json_plain(NULL));
}

/* kedge_json_flat_read: true only for a body jansson (JSON_REJECT_DUPLICATES) and
 * kedge_json_check accept, with the very strings jansson gives; anything else, valid or not,
 * is left to them (false, nothing read). */
static const kedge_json_member_t flat_members[] = {
    {.name = "kedgeId", .kind = KEDGE_JSON_STRING, .required = true, .max_len = 12},
    {.name = "ecsId", .kind = KEDGE_JSON_STRING},
    {.name = "uri", .kind = KEDGE_JSON_STRING},
    {.name = NULL},
};

static void test_flat_read(void **state)
{
  (void)state;
  static const struct {
    const char *text;
    size_t len; /* 0: strlen(text) */
    bool flat;
    const char *values[3];
  } cases[] = {
      {"{\"kedgeId\":\"abc\"}", 0, true, {"abc", NULL, NULL}},
      {" \t\r\n{ \"kedgeId\" : \"abc\" , \"ecsId\":\"e.x\" }\n", 0, true, {"abc", "e.x", NULL}},
      {"{\"ecsId\":\"e\",\"kedgeId\":\"abcdefghijkl\",\"uri\":\"\"}",
       0,
       true,
       {"abcdefghijkl", "e", ""}},
      {"{\"kedgeId\":\"a/b@c.d \x7f\"}", 0, true, {"a/b@c.d \x7f", NULL, NULL}},
      /* valid, but left to jansson: an escape, past ASCII, a member not in the table, one
       * too long, a required one missing, a value of another kind */
      {"{\"kedgeId\":\"a\\u0062c\"}", 0, false, {0}},
      {"{\"kedge\\u0049d\":\"abc\"}", 0, false, {0}},
      {"{\"kedgeId\":\"\xc3\xa9\"}", 0, false, {0}},
      {"{\"kedgeId\":\"abc\",\"other\":1}", 0, false, {0}},
      {"{\"kedgeId\":\"abcdefghijklm\"}", 0, false, {0}},
      {"{\"ecsId\":\"e\"}", 0, false, {0}},
      {"{}", 0, false, {0}},
      {"{\"kedgeId\":1}", 0, false, {0}},
      {"{\"kedgeId\":null}", 0, false, {0}},
      {"{\"kedgeId\":\"abc\",\"ecsId\":[\"e\"]}", 0, false, {0}},
      /* not JSON, or refused by jansson */
      {"{\"kedgeId\":\"abc\",\"kedgeId\":\"abd\"}", 0, false, {0}},
      {"{\"kedgeId\":\"a\tb\"}", 0, false, {0}},
      {"{\"kedgeId\":\"abc\"}x", 0, false, {0}},
      {"{\"kedgeId\":\"abc\"} {\"kedgeId\":\"abd\"}", 0, false, {0}},
      {"{\"kedgeId\":\"abc\"", 0, false, {0}},
      {"{\"kedgeId\":\"abc", 0, false, {0}},
      {"{\"kedgeId\":\"abc\",}", 0, false, {0}},
      {"{\"kedgeId\" \"abc\"}", 0, false, {0}},
      {"{\"kedgeId\":\"abc\"}\0", 18, false, {0}},
      {"{\"kedgeId\":\"a\0c\"}", 17, false, {0}},
      {"[\"kedgeId\"]", 0, false, {0}},
      {"", 0, false, {0}},
  };
  assert_int_equal(kedge_json_flat_count(flat_members), 3);
  assert_int_equal(kedge_json_flat_count(request_members), 7); /* other kinds: test below */
  assert_int_equal(kedge_json_flat_count(resync_members), 2);  /* checks run on the values */
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
    kedge_json_span_t v[KEDGE_JSON_FLAT_MAX];
    bool flat = kedge_json_flat_read(cases[i].text, len, flat_members, v);
    print_message("case %zu\n", i);
    assert_int_equal(flat, cases[i].flat);
    json_t *body = json_loadb(cases[i].text, len, JSON_REJECT_DUPLICATES, NULL);
    for (size_t m = 0; m < 3; m++) {
      if (!flat) {
        assert_null(v[m].ptr);
        continue;
      }
      /* what the tree gives */
      const char *want = json_string_value(json_object_get(body, flat_members[m].name));
      assert_true((want == NULL) == (cases[i].values[m] == NULL));
      if (!want)
        continue;
      assert_string_equal(want, cases[i].values[m]);
      assert_int_equal(v[m].len, strlen(want));
      assert_memory_equal(v[m].ptr, want, v[m].len);
    }
    if (flat)
      assert_int_equal(kedge_json_check(body, flat_members, NULL, NULL), KEDGE_OK);
    json_decref(body);
  }
}

/* A table with a `check` (ConfirmationData's resStar): flat only when the check passes on the
 * value, as kedge_json_check runs it; a value it refuses is left to jansson and
 * kedge_json_check, which name it in the ProblemDetails. Fails with the checks not run (the
 * bad digits would be read flat). */
static const kedge_json_member_t checked_members[] = {
    {.name = "resStar",
     .kind = KEDGE_JSON_STRING,
     .required = true,
     .check = kedge_json_check_hex16},
    {.name = NULL},
};

static void test_flat_read_checked(void **state)
{
  (void)state;
  static const struct {
    const char *text;
    bool flat;
  } cases[] = {
      {"{\"resStar\":\"00112233445566778899aabbccddeeff\"}", true},
      {"{\"resStar\":\"00112233445566778899AABBCCDDEEFF\"}", true},
      {"{\"resStar\":\"00112233445566778899aabbccddeefg\"}", false}, /* not hex */
      {"{\"resStar\":\"00112233445566778899aabbccddeef\"}", false},  /* 31 digits */
      {"{\"resStar\":\"00112233445566778899aabbccddeeff00\"}", false},
      {"{\"resStar\":\"\"}", false},
  };
  assert_int_equal(kedge_json_flat_count(checked_members), 1);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    kedge_json_span_t v[KEDGE_JSON_FLAT_MAX];
    size_t len = strlen(cases[i].text);
    bool flat = kedge_json_flat_read(cases[i].text, len, checked_members, v);
    print_message("case %zu\n", i);
    assert_int_equal(flat, cases[i].flat);
    json_t *body = json_loadb(cases[i].text, len, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(body);
    /* the tree's verdict is the same: flat exactly when kedge_json_check accepts */
    assert_int_equal(kedge_json_check(body, checked_members, NULL, NULL) == KEDGE_OK, flat);
    if (flat) {
      assert_int_equal(v[0].len, 32);
      assert_memory_equal(v[0].ptr, json_string_value(json_object_get(body, "resStar")), 32);
    } else {
      assert_null(v[0].ptr);
    }
    json_decref(body);
  }
}

/* A table with members of other kinds (AuthenticationInfo's resynchronizationInfo): flat only
 * without them; present, of their kind or as a string in their place, the body is left to
 * jansson and kedge_json_check (which accepts the first and refuses the second). Fails with the
 * kind not looked at (the string in the object's place would be read flat). */
static void test_flat_read_other_kinds(void **state)
{
  (void)state;
  static const struct {
    const char *text;
    bool flat, valid;
  } cases[] = {
      {"{\"servingNetworkName\":\"" SNN "\",\"ausfInstanceId\":\"a\"}", true, true},
      {"{\"servingNetworkName\":\"" SNN "\",\"ausfInstanceId\":\"a\",\"odd/na~me\":\"x\"}", true,
       true},
      {"{\"servingNetworkName\":\"" SNN "\",\"ausfInstanceId\":\"a\",\"resynchronizationInfo\":{"
       "\"rand\":\"" RAND "\",\"auts\":\"0123456789abcdef0123456789ab\"}}",
       false, true},
      {"{\"servingNetworkName\":\"" SNN "\",\"ausfInstanceId\":\"a\",\"resynchronizationInfo\":"
       "\"x\"}",
       false, false},
      {"{\"servingNetworkName\":\"" SNN "\",\"ausfInstanceId\":\"a\",\"counter\":\"1\"}", false,
       false},
      /* a boolean is read in place (its text), a string in its place is not */
      {"{\"servingNetworkName\":\"" SNN "\",\"ausfInstanceId\":\"a\",\"edgeInd\":true}", true,
       true},
      {"{\"servingNetworkName\":\"" SNN "\",\"ausfInstanceId\":\"a\",\"edgeInd\":\"true\"}", false,
       false},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    kedge_json_span_t v[KEDGE_JSON_FLAT_MAX];
    size_t len = strlen(cases[i].text);
    print_message("case %zu\n", i);
    assert_int_equal(kedge_json_flat_read(cases[i].text, len, request_members, v), cases[i].flat);
    json_t *body = json_loadb(cases[i].text, len, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(body);
    assert_int_equal(kedge_json_check(body, request_members, NULL, NULL) == KEDGE_OK,
                     cases[i].valid);
    if (cases[i].flat) {
      assert_int_equal(v[0].len, strlen(SNN));
      assert_memory_equal(v[0].ptr, SNN, v[0].len);
      for (size_t m = 2; m < 6; m++) /* edgeInd (4): its text when present */
        if (m == 4 && json_object_get(body, "edgeInd"))
          assert_memory_equal(v[m].ptr, "true", 4);
        else
          assert_null(v[m].ptr);
    }
    json_decref(body);
  }
}

/* kedge_json_flat_read's nested objects and booleans: an object member whose table is plain
 * (strings, booleans, no check) read nested (its text is the value), a boolean's text, beside a
 * string's check and a member of another kind sending the body to jansson when present. Each
 * case also through jansson and kedge_json_check: read flat only where they accept it. Fails
 * with the nested object or the boolean not read (the first cases). */
static const char *check_lower(const json_t *value)
{
  for (const char *text = json_string_value(value); *text; text++)
    if (*text < 'a' || *text > 'z')
      return "must be lower-case letters";
  return NULL;
}

static const kedge_json_member_t link_members[] = {
    {.name = "href", .kind = KEDGE_JSON_STRING, .required = true, .max_len = 16},
    {.name = NULL},
};
static const kedge_json_member_t links_members[] = {
    {.name = "5g-aka", .kind = KEDGE_JSON_OBJECT, .required = true, .object = link_members},
    {.name = NULL},
};
static const kedge_json_member_t nested_members[] = {
    {.name = "name", .kind = KEDGE_JSON_STRING, .required = true, .check = check_lower},
    {.name = "_links", .kind = KEDGE_JSON_OBJECT, .object = links_members},
    {.name = "count", .kind = KEDGE_JSON_INTEGER},
    {.name = NULL},
};

static void test_flat_read_nested(void **state)
{
  (void)state;
  static const struct {
    const char *text;
    bool flat;
    const char *name, *links;
  } cases[] = {
      {"{\"name\":\"abc\"}", true, "abc", NULL},
      {"{\"name\":\"abc\",\"_links\":{\"5g-aka\":{\"href\":\"https://a/b\"}}}", true, "abc",
       "{\"5g-aka\":{\"href\":\"https://a/b\"}}"},
      {"{ \"_links\" : { \"5g-aka\" : { \"href\" : \"x\" } } , \"name\" : \"z\" }", true, "z",
       "{ \"5g-aka\" : { \"href\" : \"x\" } }"},
      /* left to jansson, valid or not */
      {"{\"name\":\"aBc\"}", false, NULL, NULL},               /* the check */
      {"{\"name\":\"abc\",\"count\":1}", false, NULL, NULL},   /* other kind */
      {"{\"name\":\"abc\",\"_links\":{}}", false, NULL, NULL}, /* required inside */
      {"{\"name\":\"abc\",\"_links\":{\"5g-aka\":[{\"href\":\"x\"}]}}", false, NULL, NULL},
      {"{\"name\":\"abc\",\"_links\":{\"5g-aka\":{\"href\":\"x\",\"href\":\"y\"}}}", false, NULL,
       NULL},
      {"{\"name\":\"abc\",\"_links\":{\"5g-aka\":{\"href\":\"0123456789abcdefg\"}}}", false, NULL,
       NULL},
      {"{\"name\":\"abc\",\"_links\":{\"5g-aka\":{\"href\":\"x\"}}", false, NULL, NULL},
      {"{\"name\":\"abc\",\"_links\":\"x\"}", false, NULL, NULL},
  };
  assert_int_equal(kedge_json_flat_count(nested_members), 3);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    kedge_json_span_t v[KEDGE_JSON_FLAT_MAX];
    bool flat = kedge_json_flat_read(cases[i].text, strlen(cases[i].text), nested_members, v);
    print_message("case %zu\n", i);
    assert_int_equal(flat, cases[i].flat);
    json_t *tree = json_loads(cases[i].text, JSON_REJECT_DUPLICATES, NULL);
    if (flat) {
      assert_non_null(tree);
      assert_int_equal(kedge_json_check(tree, nested_members, NULL, NULL), KEDGE_OK);
      assert_int_equal(v[0].len, strlen(cases[i].name));
      assert_memory_equal(v[0].ptr, cases[i].name, v[0].len);
      if (cases[i].links) {
        assert_int_equal(v[1].len, strlen(cases[i].links));
        assert_memory_equal(v[1].ptr, cases[i].links, v[1].len);
        /* the nested text read with its own table */
        kedge_json_span_t w[KEDGE_JSON_FLAT_MAX], h[KEDGE_JSON_FLAT_MAX];
        assert_true(kedge_json_flat_read(v[1].ptr, v[1].len, links_members, w));
        assert_true(kedge_json_flat_read(w[0].ptr, w[0].len, link_members, h));
        assert_memory_equal(
            h[0].ptr,
            json_string_value(json_object_get(
                json_object_get(json_object_get(tree, "_links"), "5g-aka"), "href")),
            h[0].len);
      } else {
        assert_null(v[1].ptr);
      }
    } else {
      assert_null(v[0].ptr);
    }
    json_decref(tree);
  }
  /* booleans: their text ("true", "false") read flat; anything else left to jansson */
  static const kedge_json_member_t bool_members[] = {
      {.name = "ok", .kind = KEDGE_JSON_BOOLEAN, .required = true},
      {.name = "s", .kind = KEDGE_JSON_STRING},
      {.name = NULL},
  };
  static const struct {
    const char *text, *ok;
  } bools[] = {
      {"{\"ok\":true}", "true"},    {"{ \"s\":\"x\", \"ok\" : false }", "false"},
      {"{\"ok\":tru}", NULL},       {"{\"ok\":\"true\"}", NULL},
      {"{\"ok\":null}", NULL},      {"{\"ok\":1}", NULL},
      {"{\"ok\":truefalse}", NULL}, {"{\"s\":\"x\"}", NULL},
  };
  assert_int_equal(kedge_json_flat_count(bool_members), 2);
  for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
    kedge_json_span_t v[KEDGE_JSON_FLAT_MAX];
    bool flat = kedge_json_flat_read(bools[i].text, strlen(bools[i].text), bool_members, v);
    print_message("boolean case %zu\n", i);
    assert_int_equal(flat, bools[i].ok != NULL);
    if (flat) {
      assert_int_equal(v[0].len, strlen(bools[i].ok));
      assert_memory_equal(v[0].ptr, bools[i].ok, v[0].len);
      json_t *tree = json_loads(bools[i].text, JSON_REJECT_DUPLICATES, NULL);
      assert_non_null(tree);
      assert_int_equal(kedge_json_check(tree, bool_members, NULL, NULL), KEDGE_OK);
      assert_int_equal(json_is_true(json_object_get(tree, "ok")), bools[i].ok[0] == 't');
      json_decref(tree);
    }
  }
  /* the check in the tree's check too */
  json_t *bad = json_loads("{\"name\":\"aBc\"}", 0, NULL);
  assert_int_equal(kedge_json_check(bad, nested_members, NULL, NULL), KEDGE_ERR_INVALID_ARG);
  json_decref(bad);
}

/* kedge_json_flat_read at its edges (the issue 17 review): every prefix of a flat body, each in
 * a heap block of exactly its length with no NUL after it (ASan: nothing read past `len`), is
 * not flat but the whole one; a nested object member given twice, and octets a string may not
 * hold raw (NUL, 0x80, a control) inside a nested object, are left to jansson, which refuses
 * them. */
static void test_flat_read_edges(void **state)
{
  (void)state;
  const char *body = "{\"name\":\"abc\",\"_links\":{\"5g-aka\":{\"href\":\"x\"}}}";
  size_t len = strlen(body);
  for (size_t n = 0; n <= len; n++) {
    char *block = malloc(n ? n : 1);
    assert_non_null(block);
    memcpy(block, body, n);
    kedge_json_span_t v[KEDGE_JSON_FLAT_MAX];
    assert_int_equal(kedge_json_flat_read(block, n, nested_members, v), n == len);
    free(block);
  }
  static const struct {
    const char *text;
    size_t len;
  } refused[] = {
      {"{\"name\":\"abc\",\"_links\":{\"5g-aka\":{\"href\":\"x\"}},"
       "\"_links\":{\"5g-aka\":{\"href\":\"y\"}}}",
       0},
      {"{\"name\":\"abc\",\"_links\":{\"5g-aka\":{\"href\":\"x\"},\"5g-aka\":{\"href\":\"x\"}}}",
       0},
      {"{\"name\":\"abc\",\"_links\":{\"5g-aka\":{\"href\":\"a\0b\"}}}", 49},
      {"{\"name\":\"abc\",\"_links\":{\"5g-aka\":{\"href\":\"a\x80\"}}}", 0},
      {"{\"name\":\"abc\",\"_links\":{\"5g-aka\":{\"href\":\"a\x1f\"}}}", 0},
      {"{\"name\":\"abc\",\"_links\":{\"5g-aka\":{\"href\":\"x\"}}\0}", 48},
  };
  for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
    size_t n = refused[i].len ? refused[i].len : strlen(refused[i].text);
    kedge_json_span_t v[KEDGE_JSON_FLAT_MAX];
    print_message("refused case %zu\n", i);
    assert_false(kedge_json_flat_read(refused[i].text, n, nested_members, v));
    assert_null(v[0].ptr);
    assert_null(json_loadb(refused[i].text, n, JSON_REJECT_DUPLICATES, NULL));
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_bodies),
      cmocka_unit_test(test_flat_read_edges),
      cmocka_unit_test(test_missing_required),
      cmocka_unit_test(test_wrong_types),
      cmocka_unit_test(test_too_long),
      cmocka_unit_test(test_nested_pointers),
      cmocka_unit_test(test_pointer_escaping),
      cmocka_unit_test(test_non_object_body),
      cmocka_unit_test(test_without_problem_or_flag),
      cmocka_unit_test(test_check_at_prefix),
      cmocka_unit_test(test_hex_checks),
      cmocka_unit_test(test_plain),
      cmocka_unit_test(test_flat_read),
      cmocka_unit_test(test_flat_read_checked),
      cmocka_unit_test(test_flat_read_other_kinds),
      cmocka_unit_test(test_flat_read_nested),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
