/* Files that hold keys (a master key, a UE's K and OPc, a subscriber's K for the UDM's
 * provisioning command): refused with one line naming the file when group or others may
 * access them (issue 12; STYLE.md "Secrets"), read with a bound, and "-" means stdin for the
 * commands that accept a secret there instead of on the command line. */
#ifndef KEDGE_SECRET_FILE_H
#define KEDGE_SECRET_FILE_H

#include <stddef.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* KEDGE_OK when `path` is a regular file (not a symlink) that neither group nor others may
 * access (mode 0600 or 0400); else one line in `why`: "<path>: <what> is readable by group or
 * others (mode 0644): chmod 600 <path>" (KEDGE_ERR_FORBIDDEN), or why it cannot be opened
 * (KEDGE_ERR_IO). `what` names the contents ("K and OPc", "master key"). */
kedge_err_t kedge_secret_file_check(const char *path, const char *what, char *why, size_t why_size);

/* Reads one line of a secret (at most cap - 1 octets, trailing CR/LF dropped, NUL-terminated)
 * from `path` after kedge_secret_file_check, or from stdin when path is "-" (the next line).
 * KEDGE_ERR_BAD_LENGTH when the line is longer than the buffer. Wipes what it does not return. */
kedge_err_t kedge_secret_line_read(const char *path, const char *what, char *buf, size_t cap,
                                   char *why, size_t why_size);

#ifdef __cplusplus
}
#endif
#endif
