/* libFuzzer target: the UE agent's framing (lib/agent/agent.c, SPEC.md 5): a 4-octet
 * big-endian length then that many octets of JSON, as the agent reads a request from any
 * local process allowed on its socket and the EEC reads the agent's answer. The input goes
 * into one end of a socket pair and kedge_agent_read_frame() reads frames from the other until
 * it fails. Invariants: no crash, no leak; a frame read is a JSON object; reading stops at
 * end of input with an error, never hangs (the peer end is closed). */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kedge/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int sv[2];
  if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
    return 0;
  int buf = 1 << 18;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
  size_t off = 0;
  while (off < size) {
    ssize_t n = write(sv[0], data + off, size - off);
    if (n <= 0)
      break;
    off += (size_t)n;
  }
  close(sv[0]);
  for (int frames = 0; frames < 64; frames++) {
    json_t *msg = NULL;
    kedge_err_t err = kedge_agent_read_frame(sv[1], &msg, 1000);
    if (err) {
      if (msg)
        abort(); /* a failed read hands nothing back */
      break;
    }
    if (!json_is_object(msg))
      abort();
    json_decref(msg);
  }
  close(sv[1]);
  return 0;
}
