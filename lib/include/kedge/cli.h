/* Long options for kedge's commands and subcommands ("--name VALUE", "--name=VALUE", and
 * value-less flags "--name"), with one-line errors. Positional arguments are collected. */
#ifndef KEDGE_CLI_H
#define KEDGE_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kedge_cli_option {
  const char *name;  /* without the leading "--" */
  bool flag;         /* takes no value */
  const char *value; /* out: the value, or "" for a flag given; NULL when absent */
} kedge_cli_option_t;

/* Parses argv[first..argc-1] into opts. Arguments not starting with "--" go to positional
 * (at most max_positional; NULL allowed when none are expected). On error, one line without
 * the program name goes to `why` ("unknown option '--x'", "--k: missing value",
 * "--k: given twice", "unexpected argument 'x'") and KEDGE_ERR_INVALID_ARG is returned. */
kedge_err_t kedge_cli_parse(int argc, char *const *argv, int first, kedge_cli_option_t *opts,
                            size_t n_opts, const char **positional, size_t max_positional,
                            size_t *n_positional, char *why, size_t why_size);

/* The value of option `name` (NULL when absent or unknown). */
const char *kedge_cli_get(const kedge_cli_option_t *opts, size_t n_opts, const char *name);

#ifdef __cplusplus
}
#endif
#endif
