/* Long-option parsing for kedge's commands (kedge/cli.h). */
#include "kedge/cli.h"

#include <stdio.h>
#include <string.h>

kedge_err_t kedge_cli_parse(int argc, char *const *argv, int first, kedge_cli_option_t *opts,
                            size_t n_opts, const char **positional, size_t max_positional,
                            size_t *n_positional, char *why, size_t why_size)
{
  size_t n_pos = 0;
  for (int i = first; i < argc; i++) {
    const char *arg = argv[i];
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
      if (!positional || n_pos >= max_positional) {
        snprintf(why, why_size, "unexpected argument '%.64s'", arg);
        return KEDGE_ERR_INVALID_ARG;
      }
      positional[n_pos++] = arg;
      continue;
    }
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
    kedge_cli_option_t *o = NULL;
    for (size_t j = 0; j < n_opts; j++)
      if (strlen(opts[j].name) == name_len && !strncmp(opts[j].name, name, name_len))
        o = &opts[j];
    if (!o) {
      snprintf(why, why_size, "unknown option '%.*s' (see --help)",
               (int)(name_len + 2 < 66 ? name_len + 2 : 66), arg);
      return KEDGE_ERR_INVALID_ARG;
    }
    if (o->value) {
      snprintf(why, why_size, "--%s: given twice", o->name);
      return KEDGE_ERR_INVALID_ARG;
    }
    if (o->flag) {
      if (eq) {
        snprintf(why, why_size, "--%s: takes no value", o->name);
        return KEDGE_ERR_INVALID_ARG;
      }
      o->value = "";
    } else if (eq) {
      o->value = eq + 1;
    } else if (i + 1 < argc) {
      o->value = argv[++i];
    } else {
      snprintf(why, why_size, "--%s: missing value", o->name);
      return KEDGE_ERR_INVALID_ARG;
    }
  }
  if (n_positional)
    *n_positional = n_pos;
  return KEDGE_OK;
}

const char *kedge_cli_get(const kedge_cli_option_t *opts, size_t n_opts, const char *name)
{
  for (size_t i = 0; i < n_opts; i++)
    if (!strcmp(opts[i].name, name))
      return opts[i].value;
  return NULL;
}
