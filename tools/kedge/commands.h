/* Subcommands of the kedge command. Each takes the arguments after its name (argv[0] is the
 * subcommand's name) and returns the process exit status: 0 success, 2 bad input. */
#ifndef KEDGE_TOOLS_COMMANDS_H
#define KEDGE_TOOLS_COMMANDS_H

int kedge_cmd_derive(int argc, char **argv);     /* derive.c */
int kedge_cmd_pki(int argc, char **argv);        /* pki.c */
int kedge_cmd_master_key(int argc, char **argv); /* master_key.c */
int kedge_cmd_demo(int argc, char **argv);       /* demo.c */
int kedge_cmd_suci(int argc, char **argv);       /* suci.c */

#endif
