/* jansson's memory wiped when freed: JSON bodies carry keys (Kedge, KSEAF, KAUSF in the UDM's
 * vectors), and jansson copies every string it parses or packs. With this allocator every
 * block jansson frees is cleansed first (its usable size from glibc). */
#include <malloc.h>
#include <stdlib.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "kedge/json_check.h"

static void wipe_free(void *p)
{
  if (!p)
    return;
  OPENSSL_cleanse(p, malloc_usable_size(p));
  free(p);
}

void kedge_json_wipe_on_free(void)
{
  json_set_alloc_funcs(malloc, wipe_free);
}
