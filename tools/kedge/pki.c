/* kedge pki: the development PKI (docs/pki.md) from the command line.
 *   kedge pki init DIR          CA + udm, ausf, nef, ecs, af, seaf
 *   kedge pki issue DIR NAME    one more identity signed by the CA in DIR
 * Prints the path of every file written, one a line. Exit 0 on success, 2 on bad usage or
 * input (including files that already exist), 1 when OpenSSL or memory fails. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "kedge/pki.h"

static const char usage[] =
    "usage: kedge pki init DIR\n"
    "       kedge pki issue DIR NAME\n"
    "\n"
    "Development and test certificates only; operators bring their own CA (docs/pki.md).\n"
    "\n"
    "init   creates DIR (mode 0700) if missing, a CA (DIR/ca.crt, DIR/ca.key) and, for each\n"
    "       of udm ausf nef ecs af seaf, DIR/NAME.crt and DIR/NAME.key (SAN DNS\n"
    "       NAME." KEDGE_PKI_DOMAIN " and IP 127.0.0.1, clientAuth and serverAuth).\n"
    "       Refuses if DIR/ca.crt or any of these files exists.\n"
    "issue  adds DIR/NAME.crt and DIR/NAME.key signed by the CA in DIR. A NAME without a dot\n"
    "       becomes NAME." KEDGE_PKI_DOMAIN "; a NAME with dots (ecs.example.com) is used as is.\n"
    "       Lower-case letters, digits, '-' and '.' only. Never replaces a file.\n"
    "\n"
    "Keys are EC P-256, unencrypted PKCS#8 PEM, mode 0600. Prints each file written.\n"
    "Exit status: 0 success, 2 bad usage or input, 1 internal failure.\n";

static int usage_error(const char *problem)
{
  fprintf(stderr, "kedge pki: %s (try kedge pki --help)\n", problem);
  return 2;
}

static void print_files(const char *dir, const char *name)
{
  size_t len = strlen(dir);
  while (len > 1 && dir[len - 1] == '/')
    len--;
  const char *sep = dir[len - 1] == '/' ? "" : "/";
  printf("%.*s%s%s.crt\n%.*s%s%s.key\n", (int)len, dir, sep, name, (int)len, dir, sep, name);
}

static int report(kedge_err_t err)
{
  fprintf(stderr, "kedge pki: %s\n",
          *kedge_pki_last_error() ? kedge_pki_last_error() : kedge_strerror(err));
  return err == KEDGE_ERR_CRYPTO || err == KEDGE_ERR_NOMEM ? 1 : 2;
}

int kedge_cmd_pki(int argc, char **argv)
{
  if (argc < 2)
    return usage_error("missing command: init or issue");
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    fputs(usage, stdout);
    return 0;
  }

  kedge_err_t err;
  if (strcmp(cmd, "init") == 0) {
    if (argc != 3)
      return usage_error(argc < 3 ? "init: missing DIR" : "init: too many arguments");
    if ((err = kedge_pki_init(argv[2])))
      return report(err);
    print_files(argv[2], "ca");
    for (const char *const *name = kedge_pki_default_names; *name; name++)
      print_files(argv[2], *name);
    return 0;
  }
  if (strcmp(cmd, "issue") == 0) {
    if (argc != 4)
      return usage_error(argc < 4 ? "issue: missing DIR or NAME" : "issue: too many arguments");
    if ((err = kedge_pki_issue(argv[2], argv[3])))
      return report(err);
    print_files(argv[2], argv[3]);
    return 0;
  }
  return usage_error("unknown command (expected init or issue)");
}
