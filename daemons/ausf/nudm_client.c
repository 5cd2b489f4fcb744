/* The AUSF's SBI clients toward the UDM: one per worker loop (a libcurl multi handle is bound
 * to one event_base), made on first use and freed at tear-down after the loops stopped. */
#include <stdlib.h>

#include "ausf.h"
#include "kedge/log.h"

typedef struct loop_client {
  struct event_base *base;
  kedge_sbi_client_t *client;
} loop_client_t;

static __thread loop_client_t cached; /* this thread's loop and client */
static loop_client_t *all;             /* every client made, under ausf->clients_lock */

kedge_sbi_client_t *ausf_udm_client(ausf_t *ausf, struct event_base *base)
{
  if (cached.base == base && cached.client)
    return cached.client;
  kedge_sbi_client_t *client = NULL;
  if (kedge_sbi_client_new(base, &ausf->udm_client, &client) != KEDGE_OK) {
    kedge_log_error("cannot create the SBI client toward the UDM (udm.ca/cert/key)");
    return NULL;
  }
  pthread_mutex_lock(&ausf->clients_lock);
  loop_client_t *grown = realloc(all, (ausf->n_clients + 1) * sizeof(*all));
  if (grown) {
    all = grown;
    all[ausf->n_clients++] = (loop_client_t){base, client};
  }
  pthread_mutex_unlock(&ausf->clients_lock);
  if (!grown) {
    kedge_sbi_client_free(client);
    return NULL;
  }
  cached = (loop_client_t){base, client};
  return client;
}

void ausf_udm_clients_free(ausf_t *ausf)
{
  pthread_mutex_lock(&ausf->clients_lock);
  for (size_t i = 0; i < ausf->n_clients; i++)
    kedge_sbi_client_free(all[i].client);
  free(all);
  all = NULL;
  ausf->n_clients = 0;
  pthread_mutex_unlock(&ausf->clients_lock);
}
