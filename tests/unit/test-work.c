/* Work off the loop (kedge/work.h): jobs run on pool threads and complete on the submitting
 * loop, in any number, with a bounded queue that answers BUSY when full. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "kedge/work.h"

typedef struct ctx {
  pthread_t loop_thread;
  pthread_t work_thread;
  int done_calls;
  struct event_base *base;
  int *remaining;
} ctx_t;

static void work_record(void *p)
{
  ctx_t *c = p;
  c->work_thread = pthread_self();
}

static void done_record(void *p)
{
  ctx_t *c = p;
  assert_true(pthread_equal(pthread_self(), c->loop_thread));
  c->done_calls++;
  if (--*c->remaining == 0)
    event_base_loopbreak(c->base);
}

static void test_jobs_complete_on_the_loop(void **state)
{
  assert_int_equal(kedge_work_threads_init(), KEDGE_OK);
  struct event_base *base = event_base_new();
  kedge_work_pool_t *pool;
  assert_int_equal(kedge_work_pool_new(2, 1000, &pool), KEDGE_OK);
  enum { N = 500 };
  static ctx_t jobs[N];
  int remaining = N;
  for (int i = 0; i < N; i++) {
    jobs[i] = (ctx_t){.loop_thread = pthread_self(), .base = base, .remaining = &remaining};
    assert_int_equal(kedge_work_submit(pool, base, work_record, done_record, &jobs[i]), KEDGE_OK);
  }
  event_base_dispatch(base);
  assert_int_equal(remaining, 0);
  for (int i = 0; i < N; i++) {
    assert_int_equal(jobs[i].done_calls, 1);
    assert_false(pthread_equal(jobs[i].work_thread, pthread_self()));
  }
  assert_int_equal(kedge_work_pending(pool), 0);
  kedge_work_pool_free(pool);
  event_base_free(base);
}

static atomic_int release, started;

static void work_wait(void *p)
{
  atomic_fetch_add(&started, 1);
  while (!atomic_load(&release))
    usleep(1000);
}

static void done_count(void *p)
{
  ctx_t *c = p;
  c->done_calls++;
  if (--*c->remaining == 0)
    event_base_loopbreak(c->base);
}

static void test_bounded_queue(void **state)
{
  struct event_base *base = event_base_new();
  kedge_work_pool_t *pool;
  assert_int_equal(kedge_work_pool_new(1, 2, &pool), KEDGE_OK);
  int remaining = 3;
  ctx_t c = {.base = base, .remaining = &remaining};
  atomic_store(&release, 0);
  atomic_store(&started, 0);
  /* one job runs (blocked), two wait: the fourth is refused at once */
  assert_int_equal(kedge_work_submit(pool, base, work_wait, done_count, &c), KEDGE_OK);
  while (atomic_load(&started) == 0)
    usleep(1000);
  assert_int_equal(kedge_work_submit(pool, base, work_wait, done_count, &c), KEDGE_OK);
  assert_int_equal(kedge_work_submit(pool, base, work_wait, done_count, &c), KEDGE_OK);
  assert_int_equal(kedge_work_submit(pool, base, work_wait, done_count, &c), KEDGE_ERR_BUSY);
  atomic_store(&release, 1);
  event_base_dispatch(base);
  assert_int_equal(c.done_calls, 3);
  kedge_work_pool_free(pool);
  event_base_free(base);
}

static void test_free_with_jobs_queued(void **state)
{
  struct event_base *base = event_base_new();
  kedge_work_pool_t *pool;
  assert_int_equal(kedge_work_pool_new(1, 10, &pool), KEDGE_OK);
  int remaining = 100;
  ctx_t c = {.base = base, .remaining = &remaining};
  atomic_store(&release, 1);
  for (int i = 0; i < 5; i++)
    assert_int_equal(kedge_work_submit(pool, base, work_wait, done_count, &c), KEDGE_OK);
  kedge_work_pool_free(pool); /* the loop never ran: no done call, nothing leaked (ASan) */
  assert_int_equal(c.done_calls, 0);
  event_base_free(base);
  assert_int_equal(kedge_work_pool_new(0, 1, &pool), KEDGE_ERR_INVALID_ARG);
}

static int dropped[5], done_calls_never;

static void done_never(void *p)
{
  done_calls_never++;
}

static void drop_record(void *p)
{
  dropped[(int *)p - dropped]++;
}

/* Jobs whose done will never run (the loop never ran): each one's arg goes to drop exactly
 * once, finished or still queued, so that its owner can wipe what it holds (kedge/work.h). */
static void test_free_drops_what_is_not_done(void **state)
{
  struct event_base *base = event_base_new();
  kedge_work_pool_t *pool;
  assert_int_equal(kedge_work_pool_new(1, 10, &pool), KEDGE_OK);
  kedge_work_pool_set_drop(pool, drop_record);
  atomic_store(&release, 0);
  atomic_store(&started, 0);
  assert_int_equal(kedge_work_submit(pool, base, work_wait, done_never, &dropped[0]), KEDGE_OK);
  while (atomic_load(&started) == 0)
    usleep(1000);
  for (int i = 1; i < 5; i++) /* queued behind the first, which runs */
    assert_int_equal(kedge_work_submit(pool, base, work_wait, done_never, &dropped[i]), KEDGE_OK);
  atomic_store(&release, 1); /* the first finishes; its completion never runs on the loop */
  kedge_work_pool_free(pool);
  for (int i = 0; i < 5; i++)
    assert_int_equal(dropped[i], 1);
  assert_int_equal(done_calls_never, 0);
  event_base_free(base);
}

typedef struct batch_job {
  size_t batch_size; /* size of the batch it ran in */
  int *remaining;
  struct event_base *base;
} batch_job_t;

static size_t batches, largest_batch;

static void run_batch(void **args, size_t n, void *pool_arg)
{
  assert_int_equal((size_t)(uintptr_t)pool_arg, 7);
  batches++;
  if (n > largest_batch)
    largest_batch = n;
  for (size_t i = 0; i < n; i++)
    ((batch_job_t *)args[i])->batch_size = n;
  usleep(2000); /* like one fsync for the whole batch */
}

static void batch_done(void *p)
{
  batch_job_t *j = p;
  if (--*j->remaining == 0)
    event_base_loopbreak(j->base);
}

static void test_batched_pool(void **state)
{
  struct event_base *base = event_base_new();
  kedge_work_pool_t *pool;
  assert_int_equal(kedge_work_pool_new_batched(1000, 64, run_batch, (void *)(uintptr_t)7, &pool),
                   KEDGE_OK);
  enum { N = 600 };
  static batch_job_t jobs[N];
  int remaining = N;
  for (int i = 0; i < N; i++) {
    jobs[i] = (batch_job_t){.remaining = &remaining, .base = base};
    assert_int_equal(kedge_work_submit(pool, base, NULL, batch_done, &jobs[i]), KEDGE_OK);
  }
  /* a work function is refused by a batched pool */
  assert_int_equal(kedge_work_submit(pool, base, work_record, NULL, NULL), KEDGE_ERR_INVALID_ARG);
  event_base_dispatch(base);
  assert_int_equal(remaining, 0);
  /* jobs queued faster than one batch runs are grouped, never beyond max_batch */
  assert_true(batches < N / 4);
  assert_true(largest_batch <= 64 && largest_batch > 1);
  for (int i = 0; i < N; i++)
    assert_true(jobs[i].batch_size >= 1 && jobs[i].batch_size <= 64);
  kedge_work_pool_free(pool);
  event_base_free(base);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_jobs_complete_on_the_loop),
      cmocka_unit_test(test_bounded_queue),
      cmocka_unit_test(test_free_with_jobs_queued),
      cmocka_unit_test(test_free_drops_what_is_not_done),
      cmocka_unit_test(test_batched_pool),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
