/* SSLKEYLOGFILE support for kedge's own TLS endpoints (the SBI server, the ECS, the EEC), so
 * that a capture of a run (`kedge demo --keylog FILE`) can be opened with Wireshark/tshark.
 * libcurl, kedge's SBI client, honours the same variable itself. Off unless the environment
 * names a file: the file holds the secrets of every session, so it is for test beds only. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "kedge/log.h"
#include "kedge/sbi_server.h"

static int keylog_fd = -1;

static void keylog_line(const SSL *ssl, const char *line)
{
  size_t len = strlen(line);
  char buf[512];
  if (keylog_fd < 0 || len + 1 > sizeof(buf))
    return;
  memcpy(buf, line, len);
  buf[len] = '\n';
  if (write(keylog_fd, buf, len + 1) < 0) {
    /* best effort: a test bed's debugging aid */
  }
}

void kedge_tls_keylog_enable(SSL_CTX *ctx)
{
  const char *path = getenv("SSLKEYLOGFILE");
  if (!path || !*path || !ctx)
    return;
  if (keylog_fd < 0) {
    keylog_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (keylog_fd < 0)
      return;
    kedge_log_warn("SSLKEYLOGFILE=%s: TLS session secrets are written there (test beds only)",
                   path);
  }
  SSL_CTX_set_keylog_callback(ctx, keylog_line);
}
