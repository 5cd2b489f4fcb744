/* The USIM's SQNms in a small file (TS 33.102 6.3.3: the USIM keeps the highest SQN it
 * accepted; SPEC.md 1: one plain 48-bit counter). A crash at any point leaves either the old or
 * the new value, never a torn one: the new value is written to a temporary file in the same
 * directory, fsynced, renamed over the old one, and the directory is fsynced so the rename
 * itself survives a power cut. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kedge/sqn.h"
#include "ue.h"

#define SQN_DIGITS 12
#define READ_MAX   64 /* more than "%012x\n" with room to notice a longer file */

static kedge_err_t fail(char *why, size_t size, kedge_err_t err, const char *path, const char *what)
{
  snprintf(why, size, "%s: %s", path, what);
  return err;
}

static kedge_err_t fail_errno(char *why, size_t size, const char *path, const char *what)
{
  snprintf(why, size, "%s: %s: %s", path, what, strerror(errno));
  return KEDGE_ERR_IO;
}

/* Exactly 12 hex digits, then nothing or one newline. */
static bool parse_sqn(const char *text, size_t len, uint64_t *sqn)
{
  if (len != SQN_DIGITS && !(len == SQN_DIGITS + 1 && text[SQN_DIGITS] == '\n'))
    return false;
  uint64_t v = 0;
  for (size_t i = 0; i < SQN_DIGITS; i++) {
    char c = text[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return false;
    v = v << 4 | (uint64_t)d;
  }
  *sqn = v;
  return true;
}

static int fsync_dir_of(const char *path)
{
  char copy[UE_PATH_MAX];
  snprintf(copy, sizeof(copy), "%s", path);
  int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

kedge_err_t ue_sqn_store(const char *path, uint64_t sqn_ms, char *why, size_t why_size)
{
  if (!path || !path[0] || sqn_ms > KEDGE_SQN_MAX)
    return fail(why, why_size, KEDGE_ERR_INVALID_ARG, path ? path : "(null)", "bad argument");
  char tmp[UE_PATH_MAX + 16];
  if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
    return fail(why, why_size, KEDGE_ERR_TOO_BIG, path, "path too long");
  int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600, O_EXCL */
  if (fd < 0)
    return fail_errno(why, why_size, path, "cannot create a temporary file beside it");
  char line[SQN_DIGITS + 2];
  snprintf(line, sizeof(line), "%012" PRIx64 "\n", sqn_ms);
  size_t done = 0, len = strlen(line);
  while (done < len) {
    ssize_t n = write(fd, line + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    done += (size_t)n;
  }
  kedge_err_t err = KEDGE_OK;
  if (done != len)
    err = fail_errno(why, why_size, tmp, "write");
  else if (fsync(fd) != 0)
    err = fail_errno(why, why_size, tmp, "fsync");
  if (close(fd) != 0 && !err)
    err = fail_errno(why, why_size, tmp, "close");
  if (!err && rename(tmp, path) != 0)
    err = fail_errno(why, why_size, path, "rename");
  if (err) {
    unlink(tmp);
    return err;
  }
  if (fsync_dir_of(path) != 0)
    return fail_errno(why, why_size, path, "fsync of its directory");
  return KEDGE_OK;
}

kedge_err_t ue_sqn_load(const char *path, uint64_t *sqn_ms, char *why, size_t why_size)
{
  if (!path || !path[0] || !sqn_ms)
    return fail(why, why_size, KEDGE_ERR_INVALID_ARG, path ? path : "(null)", "bad argument");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    /* A new USIM has accepted nothing yet: SQNms = 0. */
    kedge_err_t err = ue_sqn_store(path, 0, why, why_size);
    if (!err)
      *sqn_ms = 0;
    return err;
  }
  if (fd < 0)
    return fail_errno(why, why_size, path, "cannot open");
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return fail(why, why_size, KEDGE_ERR_IO, path, "not a regular file");
  }
  char buf[READ_MAX];
  size_t len = 0;
  while (len < sizeof(buf)) {
    ssize_t n = read(fd, buf + len, sizeof(buf) - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      kedge_err_t err = fail_errno(why, why_size, path, "read");
      close(fd);
      return err;
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  close(fd);
  if (!parse_sqn(buf, len, sqn_ms))
    return fail(why, why_size, KEDGE_ERR_CONFIG, path,
                "malformed: must hold the highest accepted SQN as 12 hex digits "
                "(e.g. 000000000000)");
  return KEDGE_OK;
}
