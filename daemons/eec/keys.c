/* `kedge-eec keys --agent SOCKET --reveal`: the agent's Kedge ID and key in clear, for interop
 * tests with clients that cannot talk to the agent (openssl s_client, gnutls-cli). Says so on
 * stderr every time: a revealed key has left the two nodes it belongs to (RFC 9257 6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "eec.h"
#include "kedge/cli.h"
#include "kedge/hex.h"

static const char usage_text[] =
    "Usage: kedge-eec keys --agent SOCKET --reveal [--ecs-id FQDN] [--profile akma]\n"
    "                     [--wait SECONDS]\n"
    "Prints {\"kedgeId\",\"kedge\"} from the UE key agent (with --ecs-id: K_ECS of profile\n"
    "bound in \"kedge\"); with --profile akma and --ecs-id: {\"aKid\",\"kaf\"}, the A-KID and\n"
    "K_AF for that ECS FQDN (SPEC.md 9). --reveal is required: the key is printed in clear.\n"
    "--wait: keep trying while the agent is not there yet (default 0).\n"
    "Exit status: 0 success, 2 usage, 3 agent.\n";

int eec_cmd_keys(int argc, char **argv)
{
  char why[512];
  kedge_cli_option_t opts[] = {
      {.name = "agent"},
      {.name = "ecs-id"},
      {.name = "wait"},
      {.name = "profile"},
      {.name = "reveal", .flag = true},
      {.name = "help", .flag = true},
  };
  const size_t n_opts = sizeof(opts) / sizeof(opts[0]);
  if (kedge_cli_parse(argc, argv, 1, opts, n_opts, NULL, 0, NULL, why, sizeof(why))) {
    fprintf(stderr, "kedge-eec keys: %s (try --help)\n", why);
    return EEC_EXIT_USAGE;
  }
  if (kedge_cli_get(opts, n_opts, "help")) {
    fputs(usage_text, stdout);
    return EEC_EXIT_OK;
  }
  const char *agent = kedge_cli_get(opts, n_opts, "agent");
  const char *ecs_id_arg = kedge_cli_get(opts, n_opts, "ecs-id");
  const char *wait = kedge_cli_get(opts, n_opts, "wait");
  const char *profile = kedge_cli_get(opts, n_opts, "profile");
  const bool akma = profile && !strcmp(profile, "akma");
  char ecs_id[KEDGE_ECS_ID_MAX + 1];
  const char *usage = NULL;
  if (!agent)
    usage = "--agent is required";
  else if (!kedge_cli_get(opts, n_opts, "reveal"))
    usage = "--reveal is required: this prints the key in clear";
  else if (ecs_id_arg && kedge_ecs_id_normalise(ecs_id_arg, ecs_id, NULL))
    usage = "--ecs-id is not an FQDN";
  else if (profile && !akma)
    usage = "--profile: only akma (bound is --ecs-id alone)";
  else if (akma && !ecs_id_arg)
    usage = "--profile akma needs --ecs-id (the ECS FQDN)";
  else if (wait && (strspn(wait, "0123456789") != strlen(wait) || atoi(wait) > 600))
    usage = "--wait must be 0 to 600 seconds";
  if (usage) {
    fprintf(stderr, "kedge-eec keys: %s (try --help)\n", usage);
    return EEC_EXIT_USAGE;
  }
  eec_psk_t psk;
  kedge_err_t err =
      eec_agent_get_psk(agent, ecs_id_arg ? ecs_id : NULL, akma,
                        wait ? (unsigned)atoi(wait) * 1000 : 0, &psk, why, sizeof(why));
  if (err) {
    fprintf(stderr, "kedge-eec keys: %s\n", why);
    return EEC_EXIT_KEYS;
  }
  char hex[2 * KEDGE_KEY_LEN + 1];
  kedge_hex_encode(psk.key, KEDGE_KEY_LEN, hex);
  json_t *j =
      json_pack("{s:s, s:s}", akma ? "aKid" : "kedgeId", psk.identity, akma ? "kaf" : "kedge", hex);
  char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
  if (text) {
    printf("%s\n", text);
    OPENSSL_cleanse(text, strlen(text));
  }
  free(text);
  json_decref(j);
  OPENSSL_cleanse(hex, sizeof(hex));
  OPENSSL_cleanse(&psk, sizeof(psk));
  fprintf(stderr, "kedge-eec keys: revealed the %s for %s on stdout\n",
          akma         ? "K_AF"
          : ecs_id_arg ? "K_ECS"
                       : "Kedge",
          agent);
  return EEC_EXIT_OK;
}
