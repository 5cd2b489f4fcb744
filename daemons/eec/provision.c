/* `kedge-eec provision`: steps 3, 4 and 7 of the solution (SPEC.md 0) from the EEC's side:
 * get Kedge ID and key (agent or key file), open TLS 1.3 with them as external PSK to the
 * ECS, and send the ECS service provisioning request (TS 24.558 8.2.2) inside the tunnel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "eec.h"
#include "kedge/akma.h"
#include "kedge/trace.h"
#include "kedge/cli.h"

#define AC_IDS_MAX        64
#define PROVISIONING_PATH "/eecs-serviceprovisioning/v1/request"

static const char usage_text[] =
    "Usage: kedge-eec provision --ecs HOST:PORT --eec-id ID\n"
    "                 (--agent SOCKET | --kedge-id KEDGE_ID --key-file FILE |\n"
    "                  --a-kid A_KID --key-file FILE)\n"
    "                 [--profile kedge|bound|akma --ecs-id FQDN] [--ac-id ID]... [--ue-id GPSI]\n"
    "                 [--allow-psk-ke] [--timeout SECONDS] [--json]\n"
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
  printf("ECS %s: TLS 1.3 PSK, %s, key exchange %s, PSK identity %s\n", ecs, info->cipher, info->group,
         psk->identity);
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
      json_array_foreach(methods, k, m) printf("%s%s", k ? "," : " auth ", json_string_value(m));
      printf("\n");
    }
  }
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

int eec_cmd_provision(int argc, char **argv)
{
  char why[512];
  const char *ac_ids[AC_IDS_MAX];
  size_t n_ac_ids = 0;
  char **rest = calloc((size_t)argc + 1, sizeof(*rest));
  if (!rest)
    return fail(1, "out of memory");
  int n_rest = extract_ac_ids(argc, argv, rest, ac_ids, &n_ac_ids, why, sizeof(why));
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
      {.name = "help", .flag = true},
  };
  const size_t n_opts = sizeof(opts) / sizeof(opts[0]);
  if (n_rest < 0 ||
      kedge_cli_parse(n_rest, rest, 1, opts, n_opts, NULL, 0, NULL, why, sizeof(why)) != KEDGE_OK) {
    free(rest);
    fprintf(stderr, "kedge-eec provision: %s (try --help)\n", why);
    return EEC_EXIT_USAGE;
  }
  free(rest);
#define OPT(name) kedge_cli_get(opts, n_opts, name)
  if (OPT("help")) {
    fputs(usage_text, stdout);
    return EEC_EXIT_OK;
  }
  const char *ecs = OPT("ecs"), *eec_id = OPT("eec-id"), *agent = OPT("agent");
  const char *kedge_id = OPT("kedge-id"), *key_file = OPT("key-file"), *a_kid = OPT("a-kid");
  const char *profile = OPT("profile") ? OPT("profile") : "kedge", *ecs_id_arg = OPT("ecs-id");
  const char *ue_id = OPT("ue-id"), *timeout = OPT("timeout");
  bool json_out = OPT("json") != NULL, allow_psk_ke = OPT("allow-psk-ke") != NULL;
#undef OPT
  const char *usage = NULL;
  bool bound = !strcmp(profile, "bound"), akma = !strcmp(profile, "akma");
  char ecs_id[KEDGE_ECS_ID_MAX + 1] = "";
  const char *ecs_id_why = NULL;
  unsigned timeout_ms = 10000;
  if (!ecs)
    usage = "--ecs is required";
  else if (!eec_id || !*eec_id || strlen(eec_id) > 256)
    usage = "--eec-id is required (1 to 256 characters)";
  else if (!agent == !(kedge_id || a_kid || key_file))
    usage = "give either --agent or --kedge-id (--a-kid for akma) with --key-file";
  else if (!agent && (!(akma ? a_kid : kedge_id) || !key_file || (akma ? kedge_id : a_kid)))
    usage = akma ? "--a-kid and --key-file go together (profile akma)"
                 : "--kedge-id and --key-file go together (--a-kid is for --profile akma)";
  else if (!bound && !akma && strcmp(profile, "kedge"))
    usage = "--profile must be kedge, bound or akma";
  else if ((bound || akma) && !ecs_id_arg)
    usage = bound ? "--profile bound needs --ecs-id" : "--profile akma needs --ecs-id (the ECS FQDN)";
  else if (!bound && !akma && ecs_id_arg)
    usage = "--ecs-id is only for --profile bound or akma";
  else if (ecs_id_arg && kedge_ecs_id_normalise(ecs_id_arg, ecs_id, &ecs_id_why))
    usage = "--ecs-id is not an FQDN";
  else if (timeout && (atoi(timeout) < 1 || atoi(timeout) > 600 ||
                       strspn(timeout, "0123456789") != strlen(timeout)))
    usage = "--timeout must be 1 to 600 seconds";
  if (usage) {
    fprintf(stderr, "kedge-eec provision: %s%s%s (try --help)\n", usage, ecs_id_why ? ": " : "",
            ecs_id_why ? ecs_id_why : "");
    return EEC_EXIT_USAGE;
  }
  if (timeout)
    timeout_ms = (unsigned)atoi(timeout) * 1000;

  /* Step 3: the keys */
  eec_psk_t psk = {0};
  kedge_err_t err;
  int64_t t = kedge_trace_now_us();
  if (agent) {
    err = eec_agent_get_psk(agent, bound || akma ? ecs_id : NULL, akma, 0, &psk, why, sizeof(why));
    kedge_trace_event("UE",
                      akma    ? "keys from the UE agent (A-KID, K_AF for the ECS FQDN)"
                      : bound ? "keys from the UE agent (K_ECS for the ECS ID)"
                              : "keys from the UE agent (Kedge, Kedge ID)",
                      t, kedge_trace_now_us() - t, 0, err ? "refused" : NULL);
  } else if (akma) {
    /* SPEC.md 9: the key file holds K_AF itself; the EEC never sees K_AKMA */
    kedge_akid_t parsed;
    const char *id_why = NULL;
    if (kedge_akid_parse(a_kid, strlen(a_kid), &parsed, &id_why) != KEDGE_OK) {
      fprintf(stderr, "kedge-eec provision: --a-kid: %s (SPEC.md 9)\n", id_why);
      return EEC_EXIT_USAGE;
    }
    snprintf(psk.identity, sizeof(psk.identity), "%s", a_kid);
    err = eec_key_file_read(key_file, psk.key, why, sizeof(why));
  } else {
    kedge_id_t parsed;
    const char *id_why = NULL;
    if (kedge_id_parse(kedge_id, strlen(kedge_id), &parsed, &id_why) != KEDGE_OK) {
      fprintf(stderr, "kedge-eec provision: --kedge-id: %s (SPEC.md 2)\n", id_why);
      return EEC_EXIT_USAGE;
    }
    snprintf(psk.identity, sizeof(psk.identity), "%s", kedge_id);
    err = eec_key_file_read(key_file, psk.key, why, sizeof(why));
    if (!err && bound) {
      /* SPEC.md 6: K_ECS = KDF(Kedge, 0xFC, ECS ID) */
      uint8_t kedge[KEDGE_KEY_LEN];
      memcpy(kedge, psk.key, sizeof(kedge));
      err = kedge_derive_k_ecs(kedge, ecs_id, psk.key);
      OPENSSL_cleanse(kedge, sizeof(kedge));
      if (err)
        snprintf(why, sizeof(why), "cannot derive K_ECS: %s", kedge_strerror(err));
    }
  }
  if (err) {
    OPENSSL_cleanse(&psk, sizeof(psk));
    return fail(EEC_EXIT_KEYS, why);
  }

  /* Step 4 and 7: TCP, TLS with the PSK, then EDGE-4 inside */
  int fd = -1;
  if ((err = eec_tcp_connect(ecs, timeout_ms, &fd, why, sizeof(why)))) {
    OPENSSL_cleanse(&psk, sizeof(psk));
    return fail(err == KEDGE_ERR_INVALID_ARG ? EEC_EXIT_USAGE : EEC_EXIT_TCP, why);
  }
  SSL *ssl = NULL;
  eec_tls_info_t info;
  t = kedge_trace_now_us();
  err = eec_tls_handshake(fd, &psk, allow_psk_ke, timeout_ms, &ssl, &info, why, sizeof(why));
  {
    /* step 4 (Kedge ID in the ClientHello) and 7 (TLS with the PSK); a failure names the alert */
    char msg[200];
    snprintf(msg, sizeof(msg), "TLS 1.3 PSK handshake, identity %.120s", psk.identity);
    kedge_trace_event("ECS", msg, t, kedge_trace_now_us() - t, 0,
                      err ? (strstr(why, "decrypt_error") ? "decrypt_error" : "handshake failed") : NULL);
  }
  if (err) {
    OPENSSL_cleanse(&psk, sizeof(psk));
    close(fd);
    return fail(EEC_EXIT_TLS, why);
  }
  json_t *req = request_body(eec_id, ue_id, ac_ids, n_ac_ids);
  char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
  json_decref(req);
  eec_h2_response_t resp;
  int rc = EEC_EXIT_OK;
  eec_h2_t *h2 = NULL;
  err = body ? eec_h2_open(ssl, &h2) : KEDGE_ERR_NOMEM;
  t = kedge_trace_now_us();
  if (!err)
    err = eec_h2_request(h2, ecs, "POST", PROVISIONING_PATH, body, &resp, why, sizeof(why));
  kedge_trace_event("ECS", "POST " PROVISIONING_PATH " (EECID)", t, kedge_trace_now_us() - t,
                    err ? 0 : resp.status, err ? "failed" : NULL);
  free(body);
  if (err) {
    if (err == KEDGE_ERR_NOMEM)
      snprintf(why, sizeof(why), "out of memory");
    rc = fail(EEC_EXIT_HTTP, why);
  } else if (resp.status == 204) {
    fprintf(stderr, "kedge-eec provision: the ECS has no edge configuration for this EEC (204)\n");
  } else if (resp.status == 200) {
    json_t *j = resp.body ? json_loads(resp.body, 0, NULL) : NULL;
    if (!json_is_array(json_object_get(j, "ednCnfgInfo"))) {
      rc = fail(EEC_EXIT_HTTP, "HTTP 200 without an ECSServProvResp");
    } else if (json_out) {
      char *text = json_dumps(j, JSON_INDENT(2));
      if (text)
        printf("%s\n", text);
      free(text);
    } else {
      print_human(ecs, &psk, &info, j);
    }
    json_decref(j);
  } else {
    http_failure(&resp, why, sizeof(why));
    rc = fail(EEC_EXIT_HTTP, why);
  }
  if (!err)
    eec_h2_response_free(&resp);
  eec_h2_close(h2);
  OPENSSL_cleanse(&psk, sizeof(psk));
  SSL_shutdown(ssl);
  SSL_free(ssl);
  close(fd);
  return rc;
}
