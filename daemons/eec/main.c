/* kedge-eec: the EEC's command line (docs/eec.md). */
#include <stdio.h>
#include <string.h>

#include "eec.h"
#include "kedge/daemon.h"
#include "kedge/json_check.h"
#include "kedge/trace.h"

static const char usage_text[] =
    "Usage: kedge-eec COMMAND [OPTIONS]\n"
    "  provision   authenticate to an ECS with TLS 1.3 PSK (the edge key) and get the edge\n"
    "              configuration (TS 24.558 ECS service provisioning)\n"
    "  keys        print the key agent's Kedge ID and key (interop tests; --reveal)\n"
    "kedge-eec COMMAND --help for its options; kedge-eec --version.\n";

int main(int argc, char **argv)
{
  kedge_json_wipe_on_free(); /* answers and agent frames may carry keys */
  kedge_process_init();      /* an ECS that closes is reported, not a SIGPIPE death */
  if (kedge_process_protect_keys() != KEDGE_OK)
    fputs("kedge-eec: cannot disable core dumps (RLIMIT_CORE, PR_SET_DUMPABLE)\n", stderr);
  kedge_trace_init("EEC");
  if (argc < 2) {
    fputs(usage_text, stderr);
    return EEC_EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(usage_text, stdout);
    return EEC_EXIT_OK;
  }
  if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
    printf("kedge-eec (kedge) %s\n", KEDGE_VERSION);
    return EEC_EXIT_OK;
  }
  if (!strcmp(argv[1], "provision"))
    return eec_cmd_provision(argc - 1, argv + 1);
  if (!strcmp(argv[1], "keys"))
    return eec_cmd_keys(argc - 1, argv + 1);
  fprintf(stderr, "kedge-eec: unknown command '%.64s' (try --help)\n", argv[1]);
  return EEC_EXIT_USAGE;
}
