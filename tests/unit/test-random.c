/* kedge_random_public (kedge/random.h): RAND_bytes through a per-thread pool. Nothing handed out
 * twice: not within a thread across refills, not between threads, not between a parent and
 * the child of a fork (the child starts with an empty pool). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kedge/random.h"

#ifdef KEDGE_TEST_ATFORK_FAILS
/* test-random-no-atfork: linked with -Wl,--wrap=pthread_atfork, as when it runs out of memory.
 * The pool then must not be used: the fork test below fails if it is. */
#include <errno.h>
int __wrap_pthread_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void));
int __wrap_pthread_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
  (void)prepare;
  (void)parent;
  (void)child;
  return ENOMEM;
}
#endif

#define DRAWS 1000 /* 24 octets each: the 512-octet pool refilled about 47 times */

static int cmp24(const void *a, const void *b)
{
  return memcmp(a, b, 24);
}

static void assert_all_distinct(uint8_t (*v)[24], size_t n)
{
  qsort(v, n, 24, cmp24);
  for (size_t i = 1; i < n; i++)
    if (memcmp(v[i - 1], v[i], 24) == 0)
      fail_msg("the same 24 octets twice");
}

static void test_distinct_across_refills(void **state)
{
  static uint8_t v[DRAWS][24];
  for (size_t i = 0; i < DRAWS; i++)
    assert_int_equal(kedge_random_public(v[i], sizeof(v[i])), KEDGE_OK);
  assert_all_distinct(v, DRAWS);
  /* a length that does not divide the pool, and lengths around the direct limit */
  uint8_t a[7], big[129], edge[128];
  for (int i = 0; i < 200; i++)
    assert_int_equal(kedge_random_public(a, sizeof(a)), KEDGE_OK);
  memset(big, 0, sizeof(big));
  assert_int_equal(kedge_random_public(big, sizeof(big)), KEDGE_OK);
  static const uint8_t zero[129];
  assert_memory_not_equal(big, zero, sizeof(big));
  memset(edge, 0, sizeof(edge));
  assert_int_equal(kedge_random_public(edge, sizeof(edge)), KEDGE_OK);
  assert_memory_not_equal(edge, zero, sizeof(edge));
}

static void test_bad_arguments(void **state)
{
  assert_int_equal(kedge_random_public(NULL, 16), KEDGE_ERR_INVALID_ARG);
  uint8_t one;
  assert_int_equal(kedge_random_public(&one, 0), KEDGE_OK);
}

static uint8_t thread_v[2][DRAWS / 2][24];

static void *draw_half(void *arg)
{
  uint8_t(*v)[24] = arg;
  for (size_t i = 0; i < DRAWS / 2; i++)
    if (kedge_random_public(v[i], 24))
      return arg;
  return NULL;
}

static void test_distinct_between_threads(void **state)
{
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    assert_int_equal(pthread_create(&t[i], NULL, draw_half, thread_v[i]), 0);
  for (int i = 0; i < 2; i++) {
    void *failed = NULL;
    assert_int_equal(pthread_join(t[i], &failed), 0);
    assert_null(failed);
  }
  assert_all_distinct(&thread_v[0][0], DRAWS);
}

/* Without the pool emptied in the child, the child's first draw would be the parent's next. */
static void test_fork_child_draws_fresh(void **state)
{
  uint8_t first[16], parent_next[16], child_first[16];
  assert_int_equal(kedge_random_public(first, sizeof(first)), KEDGE_OK); /* pool filled */
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    uint8_t c[16];
    int ok = kedge_random_public(c, sizeof(c)) == KEDGE_OK && write(fds[1], c, 16) == 16;
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  assert_int_equal(read(fds[0], child_first, sizeof(child_first)), 16);
  close(fds[0]);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(kedge_random_public(parent_next, sizeof(parent_next)), KEDGE_OK);
  assert_memory_not_equal(child_first, parent_next, 16);
  assert_memory_not_equal(child_first, first, 16);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      /* first: this thread's pool is then empty, so `first` fills it and the parent's next 16
       * octets come from the same fill (without the fork handler the child would get them) */
      cmocka_unit_test(test_fork_child_draws_fresh),
      cmocka_unit_test(test_distinct_across_refills),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_distinct_between_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
