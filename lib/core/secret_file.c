/* Secret files (kedge/secret_file.h). */
#include "kedge/secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

static kedge_err_t check_fd(int fd, const char *path, const char *what, char *why, size_t why_size)
{
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(why, why_size, "%s: %s is not in a regular file", path, what);
    return KEDGE_ERR_IO;
  }
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    snprintf(why, why_size, "%s: %s is readable by group or others (mode %03o): chmod 600 %s", path,
             what, (unsigned)(st.st_mode & 0777), path);
    return KEDGE_ERR_FORBIDDEN;
  }
  return KEDGE_OK;
}

static int open_secret(const char *path, const char *what, kedge_err_t *err, char *why,
                       size_t why_size)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    snprintf(why, why_size, "%s: cannot open (%s): %s", path, what, strerror(errno));
    *err = KEDGE_ERR_IO;
    return -1;
  }
  *err = check_fd(fd, path, what, why, why_size);
  if (*err) {
    close(fd);
    return -1;
  }
  return fd;
}

kedge_err_t kedge_secret_file_check(const char *path, const char *what, char *why, size_t why_size)
{
  kedge_err_t err;
  int fd = open_secret(path, what, &err, why, why_size);
  if (fd >= 0)
    close(fd);
  return err;
}

kedge_err_t kedge_secret_line_read(const char *path, const char *what, char *buf, size_t cap,
                                   char *why, size_t why_size)
{
  if (!path || !buf || cap < 2)
    return KEDGE_ERR_INVALID_ARG;
  bool from_stdin = strcmp(path, "-") == 0;
  kedge_err_t err = KEDGE_OK;
  int fd = from_stdin ? STDIN_FILENO : open_secret(path, what, &err, why, why_size);
  if (fd < 0)
    return err;
  /* one octet at a time on stdin, so that the next secret's line stays there */
  size_t n = 0;
  bool eol = false, too_long = false;
  for (;;) {
    char c;
    ssize_t r = read(fd, &c, 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      snprintf(why, why_size, "%s: cannot read %s: %s", from_stdin ? "stdin" : path, what,
               strerror(errno));
      err = KEDGE_ERR_IO;
      break;
    }
    if (r == 0 || c == '\n') {
      eol = true;
      break;
    }
    if (n + 1 >= cap) {
      too_long = true;
      break;
    }
    buf[n++] = c;
  }
  if (!from_stdin)
    close(fd);
  if (!err && too_long) {
    snprintf(why, why_size, "%s: %s: the line is too long", from_stdin ? "stdin" : path, what);
    err = KEDGE_ERR_BAD_LENGTH;
  }
  if (err || !eol) {
    OPENSSL_cleanse(buf, cap);
    return err ? err : KEDGE_ERR_IO;
  }
  if (n > 0 && buf[n - 1] == '\r')
    n--;
  buf[n] = '\0';
  return KEDGE_OK;
}
