/* `kedge-eec provision`: steps 3, 4 and 7 of the solution (SPEC.md 0) from the EEC's side:
 * get Kedge ID and key (agent or key file), open TLS 1.3 with them as external PSK to the
 * ECS, and send the ECS service provisioning request (TS 24.558 8.2.2) inside the tunnel. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "eec.h"
#include "kedge/akma.h"
#include "kedge/cli.h"
#include "kedge/trace.h"

#define AC_IDS_MAX        64
#define PROVISIONING_PATH "/eecs-serviceprovisioning/v1/request"

static const char usage_text[] =
    "Usage: kedge-eec provision --ecs HOST:PORT --eec-id ID\n"
    "                 (--agent SOCKET | --kedge-id KEDGE_ID --key-file FILE |\n"
    "                  --a-kid A_KID --key-file FILE)\n"
    "                 [--profile kedge|bound|akma --ecs-id FQDN] [--ac-id ID]... [--ue-id GPSI]\n"
    "                 [--allow-psk-ke] [--timeout SECONDS] [--json] [--request-file FILE]\n"
    "Authenticates to the ECS with TLS 1.3 and the edge key as external PSK (identity: the\n"
    "Kedge ID), then asks for the edge configuration (ECS service provisioning, TS 24.558)\n"
    "and prints it.\n"
    "  --ecs HOST:PORT     the ECS ([IPV6]:PORT for an IPv6 address)\n"
    "  --eec-id ID         the EEC ID sent in the request (bound to this connection)\n"
    "  --agent SOCKET      get Kedge ID and key from the UE key agent (SPEC.md 5)\n"
    "  --kedge-id ID       the Kedge ID, with --key-file: the key in hex, a file of mode 0600\n"
    "  --a-kid A_KID       profile akma without an agent: the A-KID, with --key-file holding K_AF\n"
    "  --profile P         kedge (default: the key is Kedge), bound (the key is K_ECS for\n"
    "                      --ecs-id, derived by the agent, or here from the key file's Kedge)\n"
    "                      or akma (SPEC.md 9: identity A-KID, key K_AF for --ecs-id, derived\n"
    "                      by the agent from K_AKMA; TS 33.535 A.4)\n"
    "  --ecs-id FQDN       the ECS ID of profile bound (SPEC.md 6), the ECS FQDN of akma\n"
    "  --ac-id ID          an AC the EEC asks for (repeatable); none: whatever the ECS offers\n"
    "  --ue-id GPSI        ueId of the request\n"
    "  --allow-psk-ke      also offer psk_ke (no forward secrecy; the ECS must allow it too)\n"
    "  --timeout SECONDS   for each step (default 10)\n"
    "  --json              print the ECSServProvResp as JSON\n"
    "  --request-file FILE send FILE's octets (at most 64 KiB) as the request body instead\n"
    "                      of the ECSServProvReq built from --eec-id/--ac-id/--ue-id (tests\n"
    "                      of the ECS's answers to bad requests: tests/badinput/)\n"
    "Exit status: 0 success (also 204: nothing matches), 2 usage, 3 agent or key file,\n"
    "4 TCP, 5 TLS handshake, 6 HTTP; on failure one line on stderr names the step.\n";

static int fail(int status, const char *why)
{
  fprintf(stderr, "kedge-eec provision: %s\n", why);
  return status;
}

/* Takes every "--ac-id X" / "--ac-id=X" out of argv (kedge_cli_parse refuses repeats). */
static int extract_ac_ids(int argc, char **argv, char **rest, const char **ac_ids, size_t *n,
                          char *why, size_t why_size)
{
  int m = 0;
  *n = 0;
  for (int i = 0; i < argc; i++) {
    const char *value = NULL;
    if (!strcmp(argv[i], "--ac-id")) {
      if (i + 1 >= argc) {
        snprintf(why, why_size, "--ac-id: missing value");
        return -1;
      }
      value = argv[++i];
    } else if (!strncmp(argv[i], "--ac-id=", 8)) {
      value = argv[i] + 8;
    } else {
      rest[m++] = argv[i];
      continue;
    }
    if (*n >= AC_IDS_MAX || !*value || strlen(value) > 256) {
      snprintf(why, why_size, "--ac-id: at most %d, each 1 to 256 characters", AC_IDS_MAX);
      return -1;
    }
    ac_ids[(*n)++] = value;
  }
  rest[m] = NULL;
  return m;
}

static json_t *request_body(const char *eec_id, const char *ue_id, const char *const *ac_ids,
                            size_t n_ac_ids)
{
  /* TS 24.558 ECSServProvReq */
  json_t *req = json_pack("{s:s}", "eecId", eec_id);
  if (req && ue_id)
    json_object_set_new(req, "ueId", json_string(ue_id));
  if (req && n_ac_ids) {
    json_t *profs = json_array();
    for (size_t i = 0; profs && i < n_ac_ids; i++)
      json_array_append_new(profs, json_pack("{s:s}", "acId", ac_ids[i]));
    json_object_set_new(req, "acProfs", profs);
  }
  return req;
}

static void print_human(const char *ecs, const eec_psk_t *psk, const eec_tls_info_t *info,
                        const json_t *resp)
{
  printf("ECS %s: TLS 1.3 PSK, %s, key exchange %s, PSK identity %s\n", ecs, info->cipher,
         info->group, psk->identity);
  size_t i, j;
  json_t *edn, *ees;
  json_array_foreach(json_object_get(resp, "ednCnfgInfo"), i, edn)
  {
    const char *dnn = json_string_value(json_object_get(json_object_get(edn, "ednConInfo"), "dnn"));
    const char *life = json_string_value(json_object_get(edn, "lifeTime"));
    printf("EDN dnn=%s%s%s\n", dnn ? dnn : "-", life ? " until " : "", life ? life : "");
    json_array_foreach(json_object_get(edn, "eess"), j, ees)
    {
      const char *id = json_string_value(json_object_get(ees, "eesId"));
      const char *uri = json_string_value(json_object_get(json_object_get(ees, "endPt"), "uri"));
      printf("  EES %s %s%s", id ? id : "-", uri ? uri : "-",
             json_is_true(json_object_get(ees, "eecRegConf")) ? " (registration required)" : "");
      json_t *methods = json_object_get(ees, "eesAuthMethods");
      size_t k;
      json_t *m;
      json_array_foreach(methods, k, m)
      {
        const char *method = json_string_value(m); /* the ECS's text: may not be a string */
        printf("%s%s", k ? "," : " auth ", method ? method : "-");
      }
      printf("\n");
    }
  }
}

/* --request-file: the body as is (NUL-terminated for eec_h2_request; a NUL inside ends it). */
static kedge_err_t read_request_file(const char *path, char **out, char *why, size_t why_size)
{
  enum { MAX = 65536 };
  FILE *f = fopen(path, "rb");
  char *buf = f ? malloc(MAX + 1) : NULL;
  size_t n = buf ? fread(buf, 1, MAX + 1, f) : 0;
  bool bad = !f || !buf || ferror(f) || n > MAX;
  if (f)
    fclose(f);
  if (bad) {
    snprintf(why, why_size, "--request-file %s: %s", path,
             !f        ? strerror(errno)
             : n > MAX ? "larger than 64 KiB"
                       : "cannot read");
    free(buf);
    return KEDGE_ERR_INVALID_ARG;
  }
  buf[n] = '\0';
  *out = buf;
  return KEDGE_OK;
}

/* "HTTP 403 EEC_NOT_AUTHORIZED: detail" from a ProblemDetails answer. */
static void http_failure(const eec_h2_response_t *r, char *why, size_t why_size)
{
  json_t *p = r->body ? json_loads(r->body, 0, NULL) : NULL;
  const char *cause = json_string_value(json_object_get(p, "cause"));
  const char *detail = json_string_value(json_object_get(p, "detail"));
  snprintf(why, why_size, "HTTP %d%s%s%s%s", r->status, cause ? " " : "", cause ? cause : "",
           detail ? ": " : "", detail ? detail : "");
  json_decref(p);
}

/* The command line, checked. */
typedef struct provision_args {
  const char *ecs, *eec_id, *agent, *kedge_id, *a_kid, *key_file, *ue_id, *request_file;
  bool bound, akma, json_out, allow_psk_ke;
  char ecs_id[KEDGE_ECS_ID_MAX + 1]; /* normalised; "" for profile kedge */
  unsigned timeout_ms;
  const char *ac_ids[AC_IDS_MAX];
  size_t n_ac_ids;
} provision_args_t;

/* What a run holds; provision_cleanup releases whatever exists. */
typedef struct provision {
  eec_psk_t psk; /* wiped */
  char *body;    /* the request body */
  int fd;
  SSL *ssl;
  eec_h2_t *h2;
  eec_tls_info_t info;
  char why[512];
} provision_t;

/* Exit status for a usage problem with its line; `detail` may be NULL. */
static int usage_error(const char *problem, const char *detail)
{
  fprintf(stderr, "kedge-eec provision: %s%s%s (try --help)\n", problem, detail ? ": " : "",
          detail ? detail : "");
  return EEC_EXIT_USAGE;
}

/* The rules between options; NULL when they hold. */
static const char *check_args(provision_args_t *a, const char *profile, const char *ecs_id_arg,
                              const char *timeout, const char **detail)
{
  a->bound = !strcmp(profile, "bound");
  a->akma = !strcmp(profile, "akma");
  bool with_ecs_id = a->bound || a->akma;
  if (!a->ecs)
    return "--ecs is required";
  if (!a->eec_id || !*a->eec_id || strlen(a->eec_id) > 256)
    return "--eec-id is required (1 to 256 characters)";
  if (!a->agent == !(a->kedge_id || a->a_kid || a->key_file))
    return "give either --agent or --kedge-id (--a-kid for akma) with --key-file";
  if (!a->agent &&
      (!(a->akma ? a->a_kid : a->kedge_id) || !a->key_file || (a->akma ? a->kedge_id : a->a_kid)))
    return a->akma ? "--a-kid and --key-file go together (profile akma)"
                   : "--kedge-id and --key-file go together (--a-kid is for --profile akma)";
  if (!with_ecs_id && strcmp(profile, "kedge"))
    return "--profile must be kedge, bound or akma";
  if (with_ecs_id && !ecs_id_arg)
    return a->bound ? "--profile bound needs --ecs-id"
                    : "--profile akma needs --ecs-id (the ECS FQDN)";
  if (!with_ecs_id && ecs_id_arg)
    return "--ecs-id is only for --profile bound or akma";
  if (ecs_id_arg && kedge_ecs_id_normalise(ecs_id_arg, a->ecs_id, detail))
    return "--ecs-id is not an FQDN";
  if (timeout && (atoi(timeout) < 1 || atoi(timeout) > 600 ||
                  strspn(timeout, "0123456789") != strlen(timeout)))
    return "--timeout must be 1 to 600 seconds";
  a->timeout_ms = timeout ? (unsigned)atoi(timeout) * 1000 : 10000;
  return NULL;
}

/* Fills `a` from argv; -1 to go on, otherwise the exit status (--help, usage errors). */
static int parse_args(int argc, char **argv, provision_args_t *a)
{
  char why[512];
  char **rest = calloc((size_t)argc + 1, sizeof(*rest));
  if (!rest)
    return fail(1, "out of memory");
  int n_rest = extract_ac_ids(argc, argv, rest, a->ac_ids, &a->n_ac_ids, why, sizeof(why));
  kedge_cli_option_t opts[] = {
      {.name = "ecs"},
      {.name = "eec-id"},
      {.name = "agent"},
      {.name = "kedge-id"},
      {.name = "a-kid"},
      {.name = "key-file"},
      {.name = "profile"},
      {.name = "ecs-id"},
      {.name = "ue-id"},
      {.name = "timeout"},
      {.name = "allow-psk-ke", .flag = true},
      {.name = "json", .flag = true},
      {.name = "request-file"},
      {.name = "help", .flag = true},
  };
  const size_t n_opts = sizeof(opts) / sizeof(opts[0]);
  bool parsed = n_rest >= 0 && kedge_cli_parse(n_rest, rest, 1, opts, n_opts, NULL, 0, NULL, why,
                                               sizeof(why)) == KEDGE_OK;
  free(rest);
  if (!parsed)
    return usage_error(why, NULL);
#define OPT(name) kedge_cli_get(opts, n_opts, name)
  if (OPT("help")) {
    fputs(usage_text, stdout);
    return EEC_EXIT_OK;
  }
  a->ecs = OPT("ecs");
  a->eec_id = OPT("eec-id");
  a->agent = OPT("agent");
  a->kedge_id = OPT("kedge-id");
  a->a_kid = OPT("a-kid");
  a->key_file = OPT("key-file");
  a->ue_id = OPT("ue-id");
  a->request_file = OPT("request-file");
  a->json_out = OPT("json") != NULL;
  a->allow_psk_ke = OPT("allow-psk-ke") != NULL;
  const char *detail = NULL;
  const char *problem = check_args(a, OPT("profile") ? OPT("profile") : "kedge", OPT("ecs-id"),
                                   OPT("timeout"), &detail);
#undef OPT
  return problem ? usage_error(problem, detail) : -1;
}

/* Step 3 without an agent: identity and key from the command line and the key file. */
static int keys_from_file(const provision_args_t *a, provision_t *p)
{
  const char *id_why = NULL;
  kedge_err_t err;
  if (a->akma) {
    /* SPEC.md 9: the key file holds K_AF itself; the EEC never sees K_AKMA */
    kedge_akid_t parsed;
    if (kedge_akid_parse(a->a_kid, strlen(a->a_kid), &parsed, &id_why) != KEDGE_OK) {
      fprintf(stderr, "kedge-eec provision: --a-kid: %s (SPEC.md 9)\n", id_why);
      return EEC_EXIT_USAGE;
    }
    snprintf(p->psk.identity, sizeof(p->psk.identity), "%s", a->a_kid);
    err = eec_key_file_read(a->key_file, p->psk.key, p->why, sizeof(p->why));
    return err ? fail(EEC_EXIT_KEYS, p->why) : EEC_EXIT_OK;
  }
  kedge_id_t parsed;
  if (kedge_id_parse(a->kedge_id, strlen(a->kedge_id), &parsed, &id_why) != KEDGE_OK) {
    fprintf(stderr, "kedge-eec provision: --kedge-id: %s (SPEC.md 2)\n", id_why);
    return EEC_EXIT_USAGE;
  }
  snprintf(p->psk.identity, sizeof(p->psk.identity), "%s", a->kedge_id);
  if (eec_key_file_read(a->key_file, p->psk.key, p->why, sizeof(p->why)))
    return fail(EEC_EXIT_KEYS, p->why);
  if (!a->bound)
    return EEC_EXIT_OK;
  /* SPEC.md 6: K_ECS = KDF(Kedge, 0xFC, ECS ID) */
  uint8_t kedge[KEDGE_KEY_LEN];
  memcpy(kedge, p->psk.key, sizeof(kedge));
  err = kedge_derive_k_ecs(kedge, a->ecs_id, p->psk.key);
  OPENSSL_cleanse(kedge, sizeof(kedge));
  if (err) {
    snprintf(p->why, sizeof(p->why), "cannot derive K_ECS: %s", kedge_strerror(err));
    return fail(EEC_EXIT_KEYS, p->why);
  }
  return EEC_EXIT_OK;
}

/* Step 3: the keys, from the agent or the key file. */
static int get_keys(const provision_args_t *a, provision_t *p)
{
  if (!a->agent)
    return keys_from_file(a, p);
  kedge_trace_span_t span = kedge_trace_begin();
  kedge_err_t err = eec_agent_get_psk(a->agent, a->bound || a->akma ? a->ecs_id : NULL, a->akma, 0,
                                      &p->psk, p->why, sizeof(p->why));
  kedge_trace_end(span, "UE",
                  a->akma    ? "keys from the UE agent (A-KID, K_AF for the ECS FQDN)"
                  : a->bound ? "keys from the UE agent (K_ECS for the ECS ID)"
                             : "keys from the UE agent (Kedge, Kedge ID)",
                  0, err ? "refused" : NULL);
  return err ? fail(EEC_EXIT_KEYS, p->why) : EEC_EXIT_OK;
}

/* Steps 4 and 7: TCP, then TLS 1.3 with the PSK (the identity in the ClientHello). */
static int connect_ecs(const provision_args_t *a, provision_t *p)
{
  kedge_err_t err = eec_tcp_connect(a->ecs, a->timeout_ms, &p->fd, p->why, sizeof(p->why));
  if (err)
    return fail(err == KEDGE_ERR_INVALID_ARG ? EEC_EXIT_USAGE : EEC_EXIT_TCP, p->why);
  kedge_trace_span_t span = kedge_trace_begin();
  err = eec_tls_handshake(p->fd, &p->psk, a->allow_psk_ke, a->timeout_ms, &p->ssl, &p->info, p->why,
                          sizeof(p->why));
  char msg[200];
  snprintf(msg, sizeof(msg), "TLS 1.3 PSK handshake, identity %.120s", p->psk.identity);
  /* SPEC.md 4: decrypt_error is the ECS refusing the key; the demo shows it by name */
  kedge_trace_end(span, "ECS", msg, 0,
                  !err                                    ? NULL
                  : p->info.alert == SSL_AD_DECRYPT_ERROR ? "decrypt_error"
                                                          : "handshake failed");
  return err ? fail(EEC_EXIT_TLS, p->why) : EEC_EXIT_OK;
}

/* What the ECS answered to the request: printed, and the exit status. */
static int report_answer(const provision_args_t *a, provision_t *p, const eec_h2_response_t *resp)
{
  if (resp->status == 204) {
    fprintf(stderr, "kedge-eec provision: the ECS has no edge configuration for this EEC (204)\n");
    return EEC_EXIT_OK;
  }
  if (resp->status != 200) {
    http_failure(resp, p->why, sizeof(p->why));
    return fail(EEC_EXIT_HTTP, p->why);
  }
  int rc = EEC_EXIT_OK;
  json_t *j = resp->body ? json_loads(resp->body, 0, NULL) : NULL;
  if (!json_is_array(json_object_get(j, "ednCnfgInfo"))) {
    rc = fail(EEC_EXIT_HTTP, "HTTP 200 without an ECSServProvResp");
  } else if (a->json_out) {
    char *text = json_dumps(j, JSON_INDENT(2));
    if (text)
      printf("%s\n", text);
    free(text);
  } else {
    print_human(a->ecs, &p->psk, &p->info, j);
  }
  json_decref(j);
  return rc;
}

/* Step 7, inside the tunnel: the ECS service provisioning request (TS 24.558 8.2.2). */
static int exchange(const provision_args_t *a, provision_t *p)
{
  if (!a->request_file) {
    json_t *req = request_body(a->eec_id, a->ue_id, a->ac_ids, a->n_ac_ids);
    p->body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
  }
  eec_h2_response_t resp;
  kedge_err_t err = p->body ? eec_h2_open(p->ssl, &p->h2) : KEDGE_ERR_NOMEM;
  kedge_trace_span_t span = kedge_trace_begin();
  if (!err)
    err = eec_h2_request(p->h2, a->ecs, "POST", PROVISIONING_PATH, p->body, &resp, p->why,
                         sizeof(p->why));
  kedge_trace_end(span, "ECS", "POST " PROVISIONING_PATH " (EECID)", err ? 0 : resp.status,
                  err ? "failed" : NULL);
  if (err)
    return fail(EEC_EXIT_HTTP, err == KEDGE_ERR_NOMEM ? "out of memory" : p->why);
  int rc = report_answer(a, p, &resp);
  eec_h2_response_free(&resp);
  return rc;
}

static void provision_cleanup(provision_t *p)
{
  eec_h2_close(p->h2);
  OPENSSL_cleanse(&p->psk, sizeof(p->psk));
  free(p->body);
  if (p->ssl) {
    SSL_shutdown(p->ssl);
    SSL_free(p->ssl);
  }
  if (p->fd >= 0)
    close(p->fd);
}

int eec_cmd_provision(int argc, char **argv)
{
  provision_args_t a = {0};
  int rc = parse_args(argc, argv, &a);
  if (rc >= 0)
    return rc;
  provision_t p = {.fd = -1, .info = {.alert = -1}};
  rc = EEC_EXIT_OK;
  if (a.request_file && read_request_file(a.request_file, &p.body, p.why, sizeof(p.why)))
    rc = fail(EEC_EXIT_USAGE, p.why);
  if (!rc)
    rc = get_keys(&a, &p);
  if (!rc)
    rc = connect_ecs(&a, &p);
  if (!rc)
    rc = exchange(&a, &p);
  provision_cleanup(&p);
  return rc;
}
