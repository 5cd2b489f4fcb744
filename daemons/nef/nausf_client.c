/* The NEF's SBI clients toward the AUSFs: one per worker loop (a libcurl multi handle is bound
 * to one event_base), made on first use and freed at tear-down after the loops stopped. One
 * client serves every AUSF URI: libcurl keeps one HTTP/2 connection per authority. */
#include <stdlib.h>

#include "kedge/log.h"
#include "nef.h"

typedef struct loop_client {
  struct event_base *base;
  kedge_sbi_client_t *client;
} loop_client_t;

static __thread loop_client_t cached; /* this thread's loop and client */
static loop_client_t *all;             /* every client made, under nef->clients_lock */
static size_t n_all;

kedge_sbi_client_t *nef_ausf_client(nef_t *nef, struct event_base *base)
{
  if (cached.base == base && cached.client)
    return cached.client;
  kedge_sbi_client_t *client = NULL;
  if (kedge_sbi_client_new(base, &nef->ausf_client, &client) != KEDGE_OK) {
    kedge_log_error("cannot create the SBI client toward the AUSF (ausf.ca/cert/key)");
    return NULL;
  }
  pthread_mutex_lock(&nef->clients_lock);
  loop_client_t *grown = realloc(all, (n_all + 1) * sizeof(*all));
  if (grown) {
    all = grown;
    all[n_all++] = (loop_client_t){base, client};
  }
  pthread_mutex_unlock(&nef->clients_lock);
  if (!grown) {
    kedge_sbi_client_free(client);
    return NULL;
  }
  cached = (loop_client_t){base, client};
  return client;
}

void nef_ausf_clients_free(nef_t *nef)
{
  pthread_mutex_lock(&nef->clients_lock);
  for (size_t i = 0; i < n_all; i++)
    kedge_sbi_client_free(all[i].client);
  free(all);
  all = NULL;
  n_all = 0;
  pthread_mutex_unlock(&nef->clients_lock);
}
