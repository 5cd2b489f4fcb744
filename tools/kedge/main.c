/* kedge: the command-line tool. Subcommands live one per file (see commands.h). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "kedge/daemon.h"

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} commands[] = {
    {"derive", kedge_cmd_derive, "compute Milenage, 5G AKA, edge keys and SUCIs from given inputs"},
    {"pki", kedge_cmd_pki, "create a development PKI (CA and one certificate per function)"},
    {"master-key", kedge_cmd_master_key, "create a master key file for secrets at rest"},
    {"suci", kedge_cmd_suci, "create a home network key pair for SUCI concealment"},
    {"demo", kedge_cmd_demo, "run the whole mission on 127.0.0.1, step by step"},
};

static void usage(FILE *out)
{
  fprintf(out,
          "Usage: kedge <command> [options]\n"
          "\n"
          "kedge: 5G edge-computing security. After 5G AKA the UE and the AUSF share KAUSF; both\n"
          "derive Kedge and its Kedge ID, and the EEC authenticates to the ECS with TLS 1.3 using\n"
          "Kedge as external PSK.\n"
          "\n"
          "Commands:\n");
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\n"
               "Options:\n"
               "  -h, --help     this text; 'kedge <command> --help' describes a command\n"
               "  -V, --version  print the version\n");
}

int main(int argc, char **argv)
{
  kedge_process_init();
  /* derive and master-key handle keys; demo runs the daemons, which protect themselves */
  if (kedge_process_protect_keys() != KEDGE_OK)
    fputs("kedge: cannot disable core dumps (RLIMIT_CORE, PR_SET_DUMPABLE)\n", stderr);
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
    printf("kedge %s\n", KEDGE_VERSION);
    return 0;
  }
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (!strcmp(argv[1], commands[i].name))
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "kedge: unknown command '%s' (try 'kedge --help')\n", argv[1]);
  return 2;
}
