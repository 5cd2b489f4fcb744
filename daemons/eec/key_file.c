/* Key files for EECs without a UE key agent (issue 6): the key in hex, readable by its owner
 * only, like an ssh private key; anything looser is refused rather than used. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "eec.h"
#include "kedge/hex.h"

kedge_err_t eec_key_file_read(const char *path, uint8_t key[KEDGE_KEY_LEN], char *why,
                              size_t why_size)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    snprintf(why, why_size, "key file %s: %s", path, strerror(errno));
    return KEDGE_ERR_IO;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(why, why_size, "key file %s: not a regular file", path);
    close(fd);
    return KEDGE_ERR_IO;
  }
  if (st.st_uid != geteuid()) {
    snprintf(why, why_size, "key file %s: owned by uid %u, not by this user", path,
             (unsigned)st.st_uid);
    close(fd);
    return KEDGE_ERR_FORBIDDEN;
  }
  if (st.st_mode & 077) {
    snprintf(why, why_size, "key file %s: mode %04o lets others read it; chmod 600 %s", path,
             (unsigned)(st.st_mode & 07777), path);
    close(fd);
    return KEDGE_ERR_FORBIDDEN;
  }
  char buf[2 * KEDGE_KEY_LEN + 3];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n < 0) {
    snprintf(why, why_size, "key file %s: %s", path, strerror(errno));
    return KEDGE_ERR_IO;
  }
  buf[n] = '\0';
  if (n > 0 && buf[n - 1] == '\n')
    buf[--n] = '\0';
  if (n > 0 && buf[n - 1] == '\r')
    buf[--n] = '\0';
  kedge_err_t err =
      n == 2 * KEDGE_KEY_LEN ? kedge_hex_decode(buf, key, KEDGE_KEY_LEN) : KEDGE_ERR_BAD_LENGTH;
  OPENSSL_cleanse(buf, sizeof(buf));
  if (err)
    snprintf(why, why_size, "key file %s: must hold 64 hex digits (32 octets) and nothing else",
             path);
  return err;
}
