/* The shared daemon command line. Parsed by hand rather than with getopt_long: four options,
 * no global state (optind), and the exact one-line messages kedge promises. */
#include "kedge/daemon.h"

#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#ifndef KEDGE_VERSION
#define KEDGE_VERSION "unknown"
#endif

#define WRAP_COLUMNS 79

static const char *program_of(const kedge_daemon_info_t *info)
{
  return info && info->program ? info->program : "kedge";
}

/* Prints `s` with control characters as '?': a message about argv stays one line. */
static void put_flat(FILE *f, const char *s)
{
  for (; *s; s++)
    fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static kedge_daemon_action_t usage_error(const kedge_daemon_info_t *info,
                                         kedge_daemon_options_t *opts, FILE *err, const char *what,
                                         const char *arg, const char *tail)
{
  fprintf(err, "%s: %s '", program_of(info), what);
  put_flat(err, arg);
  fprintf(err, "'%s (try --help)\n", tail);
  opts->action = KEDGE_DAEMON_EXIT;
  opts->exit_status = KEDGE_EXIT_USAGE;
  return opts->action;
}

/* Word-wraps one paragraph to WRAP_COLUMNS. */
static void put_paragraph(FILE *out, const char *text)
{
  size_t col = 0;
  const char *p = text;
  while (*p) {
    while (*p == ' ' || *p == '\n')
      p++;
    size_t len = strcspn(p, " \n");
    if (!len)
      break;
    if (col && col + 1 + len > WRAP_COLUMNS) {
      fputc('\n', out);
      col = 0;
    } else if (col) {
      fputc(' ', out);
      col++;
    }
    fwrite(p, 1, len, out);
    col += len;
    p += len;
  }
  if (col)
    fputc('\n', out);
}

void kedge_daemon_usage(const kedge_daemon_info_t *info, FILE *out)
{
  fprintf(out, "Usage: %s [OPTION]...\n", program_of(info));
  if (info && info->description) {
    put_paragraph(out, info->description);
  }
  fputs("\nOptions:\n", out);
  fputs("  -c, --config FILE   read the configuration from FILE\n", out);
  if (info && info->default_config)
    fprintf(out, "                      (default: %s)\n", info->default_config);
  fputs("      --check-config  check the configuration file, report, and exit\n", out);
  fputs("  -h, --help          show this help and exit\n", out);
  fputs("  -V, --version       show the version and exit\n", out);
  if (info && info->extra_usage && info->extra_usage[0]) {
    fputc('\n', out);
    for (const char *const *l = info->extra_usage; *l; l++)
      fprintf(out, "%s\n", *l);
  }
  fprintf(out,
          "\nExit status: %d success, %d configuration or runtime failure, %d usage "
          "error.\n",
          KEDGE_EXIT_OK, KEDGE_EXIT_FAILURE, KEDGE_EXIT_USAGE);
}

kedge_daemon_action_t kedge_daemon_parse_args_to(const kedge_daemon_info_t *info, int argc,
                                                 char *const *argv, kedge_daemon_options_t *opts,
                                                 FILE *out, FILE *err)
{
  opts->action = KEDGE_DAEMON_RUN;
  opts->config_path = info ? info->default_config : NULL;
  opts->exit_status = KEDGE_EXIT_OK;
  bool check = false, options_done = false;

  for (int i = 1; i < argc && argv && argv[i]; i++) {
    const char *a = argv[i];
    if (options_done || a[0] != '-' || a[1] == '\0') /* "-" alone is an argument too */
      return usage_error(info, opts, err, "unexpected argument", a, "");
    if (strcmp(a, "--") == 0) {
      options_done = true;
      continue;
    }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      kedge_daemon_usage(info, out);
      opts->action = KEDGE_DAEMON_EXIT;
      return opts->action;
    }
    if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
      fprintf(out, "%s (kedge) %s\n", program_of(info), KEDGE_VERSION);
      opts->action = KEDGE_DAEMON_EXIT;
      return opts->action;
    }
    if (strcmp(a, "--check-config") == 0) {
      check = true;
      continue;
    }
    const char *value = NULL;
    if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
      if (i + 1 >= argc || !argv[i + 1])
        return usage_error(info, opts, err, "option", a, " needs a FILE argument");
      value = argv[++i];
    } else if (strncmp(a, "--config=", 9) == 0) {
      value = a + 9;
    } else if (strncmp(a, "-c", 2) == 0) {
      value = a + 2;
    } else {
      const char *eq = strchr(a, '=');
      if (eq && a[1] == '-') {
        static const char *const flags[] = {"--help", "--version", "--check-config"};
        for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++)
          if ((size_t)(eq - a) == strlen(flags[k]) && strncmp(a, flags[k], strlen(flags[k])) == 0)
            return usage_error(info, opts, err, "option", flags[k], " takes no argument");
      }
      return usage_error(info, opts, err, "unknown option", a, "");
    }
    if (!*value)
      return usage_error(info, opts, err, "option", "--config", " needs a FILE argument");
    opts->config_path = value;
  }

  if (!opts->config_path || !*opts->config_path) {
    fprintf(err, "%s: no configuration file given (use --config FILE)\n", program_of(info));
    opts->action = KEDGE_DAEMON_EXIT;
    opts->exit_status = KEDGE_EXIT_USAGE;
    return opts->action;
  }
  opts->action = check ? KEDGE_DAEMON_CHECK_CONFIG : KEDGE_DAEMON_RUN;
  return opts->action;
}

kedge_daemon_action_t kedge_daemon_parse_args(const kedge_daemon_info_t *info, int argc,
                                              char *const *argv, kedge_daemon_options_t *opts)
{
  return kedge_daemon_parse_args_to(info, argc, argv, opts, stdout, stderr);
}

int kedge_daemon_config_loaded_to(const kedge_daemon_info_t *info,
                                  const kedge_daemon_options_t *opts, kedge_err_t rc,
                                  const char *error, FILE *out, FILE *err)
{
  if (rc != KEDGE_OK) {
    /* The error line already names the file and line (docs/config.md). */
    if (error && *error) {
      put_flat(err, error);
      fputc('\n', err);
    } else {
      fprintf(err, "%s: %s: %s\n", program_of(info), opts->config_path, kedge_strerror(rc));
    }
    return KEDGE_EXIT_FAILURE;
  }
  if (opts->action == KEDGE_DAEMON_CHECK_CONFIG) {
    fprintf(out, "%s: configuration OK\n", opts->config_path);
    return KEDGE_EXIT_OK;
  }
  return -1;
}

int kedge_daemon_config_loaded(const kedge_daemon_info_t *info, const kedge_daemon_options_t *opts,
                               kedge_err_t rc, const char *error)
{
  return kedge_daemon_config_loaded_to(info, opts, rc, error, stdout, stderr);
}

void kedge_process_init(void)
{
  signal(SIGPIPE, SIG_IGN);
  /* Issue 12: a daemon holds up to max_handshakes + max_connections sockets per worker; the
   * usual soft limit of 1024 descriptors would make accept() fail first. kedge waits with
   * epoll/poll, never select(), so a higher limit is safe. */
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max &&
      nofile.rlim_cur < 65536) {
    nofile.rlim_cur = nofile.rlim_max < 65536 ? nofile.rlim_max : 65536;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
}

kedge_err_t kedge_process_protect_keys(void)
{
  struct rlimit none = {0, 0};
  bool ok = setrlimit(RLIMIT_CORE, &none) == 0;
  ok = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 && ok;
  return ok ? KEDGE_OK : KEDGE_ERR_IO;
}
