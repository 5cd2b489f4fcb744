/* kedge-notify-listen PATH: what systemd's manager does for Type=notify, reduced to the
 * socket: binds a Unix datagram socket at PATH (NOTIFY_SOCKET for the daemon under test) and
 * prints every message it receives as one line (the message's newlines as spaces), flushed,
 * until SIGTERM. tests/integration/test-reload.sh checks READY, RELOADING, STOPPING, WATCHDOG
 * against it. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: kedge-notify-listen PATH\n");
    return 2;
  }
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
    fprintf(stderr, "kedge-notify-listen: path too long\n");
    return 2;
  }
  strcpy(sa.sun_path, argv[1]);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  unlink(argv[1]);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    perror("kedge-notify-listen: bind");
    return 1;
  }
  signal(SIGTERM, SIG_DFL);
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
    if (n < 0)
      continue;
    for (ssize_t i = 0; i < n; i++)
      if (buf[i] == '\n')
        buf[i] = ' ';
    buf[n] = '\0';
    printf("%s\n", buf);
    fflush(stdout);
  }
}
