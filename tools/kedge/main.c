#include <stdio.h>
#include <string.h>

#include "commands.h"

int main(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "pki") == 0)
    return kedge_cmd_pki(argc - 1, argv + 1);
  puts("kedge " KEDGE_VERSION);
  return 0;
}
