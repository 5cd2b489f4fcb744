/* kedge master-key FILE: a new master key for secrets at rest (kedge/seal.h): 32 random
 * octets as 64 hex digits, mode 0600, never overwriting an existing file. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "kedge/seal.h"

int kedge_cmd_master_key(int argc, char **argv)
{
  if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    printf("Usage: kedge master-key FILE\n"
           "Creates FILE (mode 0600) holding a new 32-octet master key as 64 hex digits, for\n"
           "the UDM's udm.master_key and the AUSF's key store. Never overwrites a file.\n");
    return 0;
  }
  if (argc != 2 || argv[1][0] == '-') {
    fprintf(stderr, "kedge master-key: expected exactly one argument, the file to create\n");
    return 2;
  }
  char why[300];
  if (kedge_master_key_create(argv[1], why, sizeof(why)) != KEDGE_OK) {
    fprintf(stderr, "kedge master-key: %s\n", why);
    return 1;
  }
  printf("%s\n", argv[1]);
  return 0;
}
