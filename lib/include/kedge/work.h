/* Work off the event loop: a small pool of threads for calls that block (SQLite with
 * synchronous=FULL, file I/O), so that nothing in a request path blocks a libevent loop.
 * A job runs `work(arg)` on a pool thread, then `done(arg)` on the event_base it was
 * submitted from. The queue is bounded: a full queue answers KEDGE_ERR_BUSY at once, which a
 * server turns into 503 + Retry-After, never a crash. */
#ifndef KEDGE_WORK_H
#define KEDGE_WORK_H

#include <stddef.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;

typedef struct kedge_work_pool kedge_work_pool_t;
typedef void (*kedge_work_fn)(void *arg);

/* Makes libevent thread-aware (evthread_use_pthreads). Call before creating any event_base
 * that jobs complete on; kedge_work_pool_new calls it too. */
kedge_err_t kedge_work_threads_init(void);

kedge_err_t kedge_work_pool_new(unsigned threads, size_t max_queued, kedge_work_pool_t **pool);

/* A batched pool (group commit): one thread takes up to `max_batch` queued jobs at once and
 * calls `batch(args, n, pool_arg)` with their args on the pool thread (e.g. BEGIN, the work of
 * each, one COMMIT and fsync for all), then completes each job on its loop. Jobs of a batched
 * pool are submitted with `work` NULL. */
typedef void (*kedge_work_batch_fn)(void **args, size_t n, void *pool_arg);
kedge_err_t kedge_work_pool_new_batched(size_t max_queued, size_t max_batch,
                                        kedge_work_batch_fn batch, void *pool_arg,
                                        kedge_work_pool_t **pool);

/* Queues a job. `done` runs on `base`'s loop after `work` has returned, exactly once per
 * accepted job, unless the pool is freed first (see below). */
kedge_err_t kedge_work_submit(kedge_work_pool_t *pool, struct event_base *base, kedge_work_fn work,
                              kedge_work_fn done, void *arg);

/* Jobs queued or running (for metrics). */
size_t kedge_work_pending(kedge_work_pool_t *pool);

/* Lets running jobs finish, drops queued ones and joins the threads. `done` is not called for
 * dropped jobs, nor for finished jobs whose completion had not yet run on their loop; `drop`
 * (kedge_work_pool_set_drop) is, for each of them. Order at shutdown: stop the loops, free the
 * pool, then free the event_bases. */
void kedge_work_pool_free(kedge_work_pool_t *pool);

/* `drop(arg)` runs in kedge_work_pool_free for every job whose `done` will not run, so that its
 * owner can wipe (keys a job carries) and free it. Set before the first submit. */
void kedge_work_pool_set_drop(kedge_work_pool_t *pool, kedge_work_fn drop);

#ifdef __cplusplus
}
#endif
#endif
