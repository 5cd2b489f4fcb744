/* The shared daemon command line: every option form, the exact usage-error lines and exit
 * statuses, --help and --version output, and the --check-config report. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "kedge/daemon.h"

static const char *const extra[] = {"Signals: SIGTERM and SIGINT stop the daemon cleanly.", NULL};
static const kedge_daemon_info_t info = {
    .program = "kedge-testd",
    .description = "Test daemon for the shared command line. This sentence is long enough that "
                   "the paragraph has to be wrapped at seventy-nine columns to fit a terminal.",
    .default_config = "/etc/kedge/test.yaml",
    .extra_usage = extra,
};

struct result {
  kedge_daemon_action_t action;
  kedge_daemon_options_t opts;
  char *out, *err;
};

static struct result parse_with(const kedge_daemon_info_t *inf, const char *args[])
{
  char *argv[16];
  int argc = 0;
  argv[argc++] = "kedge-testd";
  for (; args[argc - 1]; argc++)
    argv[argc] = (char *)args[argc - 1];
  argv[argc] = NULL;
  struct result r;
  size_t out_len, err_len;
  FILE *out = open_memstream(&r.out, &out_len);
  FILE *err = open_memstream(&r.err, &err_len);
  assert_non_null(out);
  assert_non_null(err);
  memset(&r.opts, 0x55, sizeof r.opts);
  r.action = kedge_daemon_parse_args_to(inf, argc, argv, &r.opts, out, err);
  fclose(out);
  fclose(err);
  assert_int_equal(r.action, r.opts.action);
  return r;
}

static struct result parse(const char *args[])
{
  return parse_with(&info, args);
}

static void done(struct result *r)
{
  free(r->out);
  free(r->err);
}

static void expect_run(const char *args[], kedge_daemon_action_t action, const char *path)
{
  struct result r = parse(args);
  assert_int_equal(r.action, action);
  assert_string_equal(r.opts.config_path, path);
  assert_string_equal(r.out, "");
  assert_string_equal(r.err, "");
  done(&r);
}

static void expect_usage_error(const char *args[], const char *line)
{
  struct result r = parse(args);
  assert_int_equal(r.action, KEDGE_DAEMON_EXIT);
  assert_int_equal(r.opts.exit_status, KEDGE_EXIT_USAGE);
  assert_int_equal(r.opts.exit_status, 2);
  assert_string_equal(r.out, "");
  assert_string_equal(r.err, line);
  done(&r);
}

static void test_config_forms(void **state)
{
  expect_run((const char *[]){NULL}, KEDGE_DAEMON_RUN, "/etc/kedge/test.yaml");
  expect_run((const char *[]){"-c", "a.yaml", NULL}, KEDGE_DAEMON_RUN, "a.yaml");
  expect_run((const char *[]){"--config", "b.yaml", NULL}, KEDGE_DAEMON_RUN, "b.yaml");
  expect_run((const char *[]){"--config=c.yaml", NULL}, KEDGE_DAEMON_RUN, "c.yaml");
  expect_run((const char *[]){"-cd.yaml", NULL}, KEDGE_DAEMON_RUN, "d.yaml");
  expect_run((const char *[]){"-c", "-odd-name.yaml", NULL}, KEDGE_DAEMON_RUN, "-odd-name.yaml");
  expect_run((const char *[]){"-c", "x", "--config", "y", NULL}, KEDGE_DAEMON_RUN, "y");
  expect_run((const char *[]){"--", NULL}, KEDGE_DAEMON_RUN, "/etc/kedge/test.yaml");
}

static void test_check_config(void **state)
{
  expect_run((const char *[]){"--check-config", NULL}, KEDGE_DAEMON_CHECK_CONFIG,
             "/etc/kedge/test.yaml");
  expect_run((const char *[]){"--check-config", "-c", "e.yaml", NULL}, KEDGE_DAEMON_CHECK_CONFIG,
             "e.yaml");
  expect_run((const char *[]){"-c", "e.yaml", "--check-config", NULL}, KEDGE_DAEMON_CHECK_CONFIG,
             "e.yaml");
}

static void test_usage_errors(void **state)
{
  expect_usage_error((const char *[]){"--frobnicate", NULL},
                     "kedge-testd: unknown option '--frobnicate' (try --help)\n");
  expect_usage_error((const char *[]){"-x", NULL},
                     "kedge-testd: unknown option '-x' (try --help)\n");
  expect_usage_error((const char *[]){"--conf", "a", NULL},
                     "kedge-testd: unknown option '--conf' (try --help)\n");
  expect_usage_error((const char *[]){"-c", NULL},
                     "kedge-testd: option '-c' needs a FILE argument (try --help)\n");
  expect_usage_error((const char *[]){"--config", NULL},
                     "kedge-testd: option '--config' needs a FILE argument (try --help)\n");
  expect_usage_error((const char *[]){"--config=", NULL},
                     "kedge-testd: option '--config' needs a FILE argument (try --help)\n");
  expect_usage_error((const char *[]){"serve", NULL},
                     "kedge-testd: unexpected argument 'serve' (try --help)\n");
  expect_usage_error((const char *[]){"-", NULL},
                     "kedge-testd: unexpected argument '-' (try --help)\n");
  expect_usage_error((const char *[]){"--", "--help", NULL},
                     "kedge-testd: unexpected argument '--help' (try --help)\n");
  expect_usage_error((const char *[]){"--help=yes", NULL},
                     "kedge-testd: option '--help' takes no argument (try --help)\n");
  expect_usage_error((const char *[]){"--check-config=1", NULL},
                     "kedge-testd: option '--check-config' takes no argument (try --help)\n");
  expect_usage_error((const char *[]){"--bad\noption", NULL},
                     "kedge-testd: unknown option '--bad?option' (try --help)\n");
  /* the first mistake is reported even when --help comes later */
  expect_usage_error((const char *[]){"--nope", "--help", NULL},
                     "kedge-testd: unknown option '--nope' (try --help)\n");
}

static void test_no_default_config(void **state)
{
  kedge_daemon_info_t bare = info;
  bare.default_config = NULL;
  struct result r = parse_with(&bare, (const char *[]){NULL});
  assert_int_equal(r.action, KEDGE_DAEMON_EXIT);
  assert_int_equal(r.opts.exit_status, KEDGE_EXIT_USAGE);
  assert_string_equal(r.err, "kedge-testd: no configuration file given (use --config FILE)\n");
  done(&r);
  r = parse_with(&bare, (const char *[]){"-c", "f.yaml", NULL});
  assert_int_equal(r.action, KEDGE_DAEMON_RUN);
  assert_string_equal(r.opts.config_path, "f.yaml");
  done(&r);
}

static void test_help(void **state)
{
  const char *forms[] = {"-h", "--help"};
  for (size_t k = 0; k < 2; k++) {
    struct result r = parse((const char *[]){"-c", "x.yaml", forms[k], "--unknown", NULL});
    assert_int_equal(r.action, KEDGE_DAEMON_EXIT);
    assert_int_equal(r.opts.exit_status, KEDGE_EXIT_OK);
    assert_string_equal(r.err, "");
    assert_string_equal(
        r.out, "Usage: kedge-testd [OPTION]...\n"
               "Test daemon for the shared command line. This sentence is long enough that the\n"
               "paragraph has to be wrapped at seventy-nine columns to fit a terminal.\n"
               "\n"
               "Options:\n"
               "  -c, --config FILE   read the configuration from FILE\n"
               "                      (default: /etc/kedge/test.yaml)\n"
               "      --check-config  check the configuration file, report, and exit\n"
               "  -h, --help          show this help and exit\n"
               "  -V, --version       show the version and exit\n"
               "\n"
               "Signals: SIGTERM and SIGINT stop the daemon cleanly.\n"
               "\n"
               "Exit status: 0 success, 1 configuration or runtime failure, 2 usage error.\n");
    for (char *line = r.out; *line;) {
      size_t len = strcspn(line, "\n");
      assert_true(len <= 79);
      line += len + (line[len] == '\n');
    }
    done(&r);
  }
}

static void test_version(void **state)
{
  const char *forms[] = {"-V", "--version"};
  for (size_t k = 0; k < 2; k++) {
    struct result r = parse((const char *[]){forms[k], NULL});
    assert_int_equal(r.action, KEDGE_DAEMON_EXIT);
    assert_int_equal(r.opts.exit_status, KEDGE_EXIT_OK);
    assert_string_equal(r.out, "kedge-testd (kedge) " KEDGE_VERSION "\n");
    assert_string_equal(r.err, "");
    done(&r);
  }
}

static int loaded(kedge_daemon_action_t action, kedge_err_t rc, const char *error, char **out,
                  char **err)
{
  kedge_daemon_options_t opts = {action, "ausf.yaml", 0};
  size_t ol, el;
  FILE *o = open_memstream(out, &ol), *e = open_memstream(err, &el);
  int status = kedge_daemon_config_loaded_to(&info, &opts, rc, error, o, e);
  fclose(o);
  fclose(e);
  return status;
}

static void test_config_loaded(void **state)
{
  char *out, *err;
  assert_int_equal(loaded(KEDGE_DAEMON_CHECK_CONFIG, KEDGE_OK, NULL, &out, &err), 0);
  assert_string_equal(out, "ausf.yaml: configuration OK\n");
  assert_string_equal(err, "");
  free(out);
  free(err);

  assert_int_equal(loaded(KEDGE_DAEMON_RUN, KEDGE_OK, NULL, &out, &err), -1);
  assert_string_equal(out, "");
  assert_string_equal(err, "");
  free(out);
  free(err);

  const char *line = "ausf.yaml:12: sbi.port: must be an integer 0..65535";
  assert_int_equal(loaded(KEDGE_DAEMON_CHECK_CONFIG, KEDGE_ERR_CONFIG, line, &out, &err), 1);
  assert_string_equal(out, "");
  assert_string_equal(err, "ausf.yaml:12: sbi.port: must be an integer 0..65535\n");
  free(out);
  free(err);

  assert_int_equal(loaded(KEDGE_DAEMON_RUN, KEDGE_ERR_NOMEM, NULL, &out, &err), 1);
  assert_string_equal(err, "kedge-testd: ausf.yaml: out of memory\n");
  free(out);
  free(err);
}

/* Issue 12: SIGPIPE ignored (a write to a closed socket is EPIPE, the process lives); no core
 * file, not dumpable. */
static void test_process_protection(void **state)
{
  struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
  kedge_process_init();
  assert_int_equal(kedge_process_protect_keys(), KEDGE_OK);
  struct sigaction sa;
  assert_int_equal(sigaction(SIGPIPE, NULL, &sa), 0);
  assert_true(sa.sa_handler == SIG_IGN);
  assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
  assert_int_equal(rl.rlim_cur, 0);
  assert_int_equal(rl.rlim_max, 0);
  assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
  struct rlimit nofile;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &nofile), 0);
  assert_true(nofile.rlim_cur >= (nofile.rlim_max < 65536 ? nofile.rlim_max : 65536));
  int p[2];
  assert_int_equal(pipe(p), 0);
  close(p[0]);
  assert_int_equal(write(p[1], "x", 1), -1); /* EPIPE, not death by SIGPIPE */
  close(p[1]);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config_forms),  cmocka_unit_test(test_check_config),
      cmocka_unit_test(test_usage_errors),  cmocka_unit_test(test_no_default_config),
      cmocka_unit_test(test_help),          cmocka_unit_test(test_version),
      cmocka_unit_test(test_config_loaded), cmocka_unit_test(test_process_protection),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
