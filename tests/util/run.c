#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

extern char **environ;

typedef struct sink {
  char *data;
  size_t len;
} sink_t;

/* Appends what the pipe has; returns false once it is closed. */
static bool sink_read(int fd, sink_t *s)
{
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof(buf));
  if (n <= 0)
    return n < 0 && errno == EINTR;
  s->data = realloc(s->data, s->len + (size_t)n + 1);
  assert_non_null(s->data);
  memcpy(s->data + s->len, buf, (size_t)n);
  s->len += (size_t)n;
  s->data[s->len] = '\0';
  return true;
}

void run_capture(char *const argv[], run_result_t *result)
{
  int out_pipe[2], err_pipe[2];
  assert_int_equal(pipe2(out_pipe, O_CLOEXEC), 0);
  assert_int_equal(pipe2(err_pipe, O_CLOEXEC), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    fail_msg("cannot start %s: %s", argv[0], strerror(rc));
  close(out_pipe[1]);
  close(err_pipe[1]);

  sink_t out = {calloc(1, 1), 0}, err = {calloc(1, 1), 0};
  int open_fds = 2;
  struct pollfd p[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  while (open_fds > 0) {
    if (poll(p, 2, 30000) <= 0)
      fail_msg("%s: no output for 30 s", argv[0]);
    for (int i = 0; i < 2; i++)
      if (p[i].fd >= 0 && p[i].revents && !sink_read(p[i].fd, i == 0 ? &out : &err)) {
        close(p[i].fd);
        p[i].fd = -1; /* poll ignores negative descriptors */
        open_fds--;
      }
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    assert_int_equal(errno, EINTR);
  result->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result->out = out.data;
  result->err = err.data;
}

void run_free(run_result_t *result)
{
  free(result->out);
  free(result->err);
  result->out = result->err = NULL;
}

const char *run_bin(const char *name)
{
  static char path[1024];
  snprintf(path, sizeof(path), "%s/%s", KEDGE_BIN_DIR, name);
  return path;
}
