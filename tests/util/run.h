/* Runs a program as a child process and captures its output (for tests of kedge's commands). */
#ifndef KEDGE_TEST_RUN_H
#define KEDGE_TEST_RUN_H

typedef struct run_result {
  int status; /* exit status, or 128 + signal number */
  char *out;  /* stdout, NUL-terminated; free() */
  char *err;  /* stderr, NUL-terminated; free() */
} run_result_t;

/* argv[0] is a path; NULL-terminated. Fails the test if the child cannot be started. */
void run_capture(char *const argv[], run_result_t *result);
void run_free(run_result_t *result);

/* The path of a program in the build's bin directory, in a static buffer. */
const char *run_bin(const char *name);

#endif
