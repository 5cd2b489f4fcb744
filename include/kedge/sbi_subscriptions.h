/* Callback subscriptions a producer keeps (issue 13: who must hear that a key was revoked):
 * entries (key, id, uri, expiry) found by `key`, at most `max` of them, one lock, any thread.
 * The AUSF keys them by SUPI (id: the Kedge ID the consumer got), the NEF by Kedge ID (id: the
 * AF). An entry past its expiry is dropped by kedge_sbi_subs_purge(). */
#ifndef KEDGE_SBI_SUBSCRIPTIONS_H
#define KEDGE_SBI_SUBSCRIPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kedge_sbi_subs kedge_sbi_subs_t;

typedef struct kedge_sbi_sub {
  struct kedge_sbi_sub *next;
  const char *key, *id, *uri; /* stored in the same allocation */
  int64_t expiry_ms;
} kedge_sbi_sub_t;

kedge_err_t kedge_sbi_subs_new(size_t max, kedge_sbi_subs_t **out);
void kedge_sbi_subs_free(kedge_sbi_subs_t *t);

/* Adds (key, id, uri) until expiry_ms. KEDGE_OK: added, or there already (*added false);
 * KEDGE_ERR_BUSY: `max` entries are kept; KEDGE_ERR_NOMEM. */
kedge_err_t kedge_sbi_subs_add(kedge_sbi_subs_t *t, const char *key, const char *id,
                               const char *uri, int64_t expiry_ms, bool *added);

/* Takes out the key's entries whose id is not `keep_id` and, when `only_id` is not NULL, is
 * `only_id` (both NULL: all of them); *n counts them. The caller frees the list with
 * kedge_sbi_subs_list_free(). */
kedge_sbi_sub_t *kedge_sbi_subs_take(kedge_sbi_subs_t *t, const char *key, const char *keep_id,
                                     const char *only_id, size_t *n);
void kedge_sbi_subs_list_free(kedge_sbi_sub_t *list);

/* Drops the entries whose expiry_ms <= now_ms; returns how many. */
size_t kedge_sbi_subs_purge(kedge_sbi_subs_t *t, int64_t now_ms);
size_t kedge_sbi_subs_count(kedge_sbi_subs_t *t);

#ifdef __cplusplus
}
#endif
#endif
