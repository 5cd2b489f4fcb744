/* A bounded thread pool whose jobs complete on the submitter's libevent loop (kedge/work.h). */
#include "kedge/work.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "kedge/list.h"

typedef struct job {
  TAILQ_ENTRY(job) queued_link;  /* in pool->queue until a thread takes it */
  LIST_ENTRY(job) finished_link; /* then in pool->finished until its loop completes it */
  struct kedge_work_pool *pool;
  kedge_work_fn work, done;
  void *arg;
  struct event *completion; /* on the submitter's base; activated from the pool thread */
  bool finished;            /* under the pool's lock */
} job_t;

static const struct timeval far_timeout = {.tv_sec = 7 * 24 * 3600};

struct kedge_work_pool {
  pthread_mutex_t lock;
  pthread_cond_t wake;
  TAILQ_HEAD(, job) queue;
  size_t queued, running, max_queued;
  bool stopping;
  unsigned n_threads;
  pthread_t *threads;
  /* completions activated but not yet run: freed with the pool if their loop never ran them */
  LIST_HEAD(, job) finished;
  /* batched pools */
  kedge_work_batch_fn batch;
  void *batch_arg;
  size_t max_batch;
  kedge_work_fn drop; /* for jobs whose done will not run (kedge_work_pool_set_drop) */
};

static pthread_once_t threads_once = PTHREAD_ONCE_INIT;
static int threads_rc;

static void use_pthreads(void)
{
  threads_rc = evthread_use_pthreads();
}

kedge_err_t kedge_work_threads_init(void)
{
  pthread_once(&threads_once, use_pthreads);
  return threads_rc == 0 ? KEDGE_OK : KEDGE_ERR_NOMEM;
}

/* Runs on the submitter's loop. */
static void complete(evutil_socket_t fd, short what, void *p)
{
  job_t *job = p;
  kedge_work_pool_t *pool = job->pool;
  pthread_mutex_lock(&pool->lock);
  if (!job->finished) { /* the far timeout fired first: keep waiting */
    event_add(job->completion, &far_timeout);
    pthread_mutex_unlock(&pool->lock);
    return;
  }
  LIST_REMOVE(job, finished_link);
  pthread_mutex_unlock(&pool->lock);
  event_free(job->completion);
  kedge_work_fn done = job->done;
  void *arg = job->arg;
  free(job);
  if (done)
    done(arg);
}

/* Hands finished jobs to their loops. Called with the lock held. */
static void finish(kedge_work_pool_t *pool, job_t *job)
{
  job->finished = true;
  LIST_INSERT_HEAD(&pool->finished, job, finished_link);
  event_active(job->completion, EV_READ, 0);
}

static void *pool_thread(void *p)
{
  kedge_work_pool_t *pool = p;
  size_t cap = pool->batch ? pool->max_batch : 1;
  job_t **jobs = calloc(cap, sizeof(*jobs));
  void **args = calloc(cap, sizeof(*args));
  pthread_mutex_lock(&pool->lock);
  while (jobs && args) {
    while (TAILQ_EMPTY(&pool->queue) && !pool->stopping)
      pthread_cond_wait(&pool->wake, &pool->lock);
    if (pool->stopping)
      break;
    size_t n = 0;
    while (!TAILQ_EMPTY(&pool->queue) && n < cap) {
      jobs[n] = TAILQ_FIRST(&pool->queue);
      args[n] = jobs[n]->arg;
      TAILQ_REMOVE(&pool->queue, jobs[n], queued_link);
      n++;
    }
    pool->queued -= n;
    pool->running += n;
    pthread_mutex_unlock(&pool->lock);

    if (pool->batch)
      pool->batch(args, n, pool->batch_arg);
    else
      jobs[0]->work(jobs[0]->arg);

    pthread_mutex_lock(&pool->lock);
    pool->running -= n;
    for (size_t i = 0; i < n; i++)
      finish(pool, jobs[i]);
  }
  pthread_mutex_unlock(&pool->lock);
  free(jobs);
  free(args);
  return NULL;
}

static kedge_err_t pool_create(unsigned threads, size_t max_queued, kedge_work_batch_fn batch,
                               void *batch_arg, size_t max_batch, kedge_work_pool_t **out)
{
  kedge_err_t err = kedge_work_threads_init();
  if (err)
    return err;
  kedge_work_pool_t *pool = calloc(1, sizeof(*pool));
  if (!pool)
    return KEDGE_ERR_NOMEM;
  TAILQ_INIT(&pool->queue); /* its tail pointer points into the pool */
  LIST_INIT(&pool->finished);
  pool->threads = calloc(threads, sizeof(pthread_t));
  if (!pool->threads) {
    free(pool);
    return KEDGE_ERR_NOMEM;
  }
  pthread_mutex_init(&pool->lock, NULL);
  pthread_cond_init(&pool->wake, NULL);
  pool->max_queued = max_queued;
  pool->batch = batch;
  pool->batch_arg = batch_arg;
  pool->max_batch = max_batch;
  for (unsigned i = 0; i < threads; i++) {
    if (pthread_create(&pool->threads[i], NULL, pool_thread, pool) != 0) {
      kedge_work_pool_free(pool);
      return KEDGE_ERR_NOMEM;
    }
    pool->n_threads++;
  }
  *out = pool;
  return KEDGE_OK;
}

kedge_err_t kedge_work_pool_new_batched(size_t max_queued, size_t max_batch,
                                        kedge_work_batch_fn batch, void *pool_arg,
                                        kedge_work_pool_t **out)
{
  if (!out || !batch || max_queued == 0 || max_batch == 0 || max_batch > 65536)
    return KEDGE_ERR_INVALID_ARG;
  return pool_create(1, max_queued, batch, pool_arg, max_batch, out);
}

kedge_err_t kedge_work_pool_new(unsigned threads, size_t max_queued, kedge_work_pool_t **out)
{
  if (!out || threads == 0 || threads > 64 || max_queued == 0)
    return KEDGE_ERR_INVALID_ARG;
  return pool_create(threads, max_queued, NULL, NULL, 1, out);
}

kedge_err_t kedge_work_submit(kedge_work_pool_t *pool, struct event_base *base, kedge_work_fn work,
                              kedge_work_fn done, void *arg)
{
  if (!pool || !base || !work == !pool->batch)
    return KEDGE_ERR_INVALID_ARG;
  job_t *job = calloc(1, sizeof(*job));
  if (!job)
    return KEDGE_ERR_NOMEM;
  job->pool = pool;
  job->work = work;
  job->done = done;
  job->arg = arg;
  job->completion = event_new(base, -1, 0, complete, job);
  /* Added with a far timeout so that the loop counts the job as pending and does not exit
   * while it is out; the pool thread activates the event when the work is done. */
  if (job->completion && event_add(job->completion, &far_timeout) != 0) {
    event_free(job->completion);
    job->completion = NULL;
  }
  if (!job->completion) {
    free(job);
    return KEDGE_ERR_NOMEM;
  }
  pthread_mutex_lock(&pool->lock);
  if (pool->stopping || pool->queued >= pool->max_queued) {
    pthread_mutex_unlock(&pool->lock);
    event_free(job->completion);
    free(job);
    return KEDGE_ERR_BUSY;
  }
  TAILQ_INSERT_TAIL(&pool->queue, job, queued_link);
  pool->queued++;
  pthread_cond_signal(&pool->wake);
  pthread_mutex_unlock(&pool->lock);
  return KEDGE_OK;
}

size_t kedge_work_pending(kedge_work_pool_t *pool)
{
  pthread_mutex_lock(&pool->lock);
  size_t n = pool->queued + pool->running;
  pthread_mutex_unlock(&pool->lock);
  return n;
}

/* A job whose done will not run: its owner's drop, then the job itself. */
static void discard(kedge_work_pool_t *pool, job_t *job)
{
  if (pool->drop)
    pool->drop(job->arg);
  event_free(job->completion);
  free(job);
}

void kedge_work_pool_set_drop(kedge_work_pool_t *pool, kedge_work_fn drop)
{
  if (pool)
    pool->drop = drop;
}

void kedge_work_pool_free(kedge_work_pool_t *pool)
{
  if (!pool)
    return;
  pthread_mutex_lock(&pool->lock);
  pool->stopping = true;
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->lock);
  for (unsigned i = 0; i < pool->n_threads; i++)
    pthread_join(pool->threads[i], NULL);
  /* Queued jobs never ran; finished ones never completed on their (stopped) loops. */
  job_t *job, *next;
  TAILQ_FOREACH_SAFE(job, &pool->queue, queued_link, next)
  discard(pool, job);
  LIST_FOREACH_SAFE(job, &pool->finished, finished_link, next)
  discard(pool, job);
  pthread_mutex_destroy(&pool->lock);
  pthread_cond_destroy(&pool->wake);
  free(pool->threads);
  free(pool);
}
