#include <stdio.h>
int main(void)
{
  puts("kedge " KEDGE_VERSION);
  return 0;
}
