/* bench-keyrequest: see keyrequest.h. Usage: bench-keyrequest populate|load [OPTIONS]. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "keyrequest.h"

double kr_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
  if (argc >= 2 && strcmp(argv[1], "populate") == 0)
    return kr_populate(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "load") == 0)
    return kr_load(argc, argv);
  /* scripts/bench.sh runs every build/bench/bench-* with a number of seconds: this one needs
   * daemons around it, which bench/keyrequest/run.sh starts (and bench.sh runs that too). */
  printf("bench-keyrequest: measured by bench/keyrequest/run.sh (populate, load)\n");
  return 0;
}
