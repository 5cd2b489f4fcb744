/* libFuzzer target: the whole ECS handshake entry as a peer reaches it (daemons/ecs): raw
 * ClientHello octets into the ECS's real accept path (ecs_accept: SSL object with the
 * binder-alert filter, the ClientHello callback that parses pre_shared_key and
 * psk_key_exchange_modes itself, the strict Kedge ID parser, the key lookup with its caches,
 * rate limits and an asynchronous key fetch, psk_find_session, the alert). In memory: one real
 * ECS (ecs_read_config, ecs_setup, kedge_sbi_server_start, one worker thread) whose key source
 * refuses connections (every fetch fails fast: internal_error), and per input a socket pair
 * whose server end the worker takes through ecs_accept() as if accepted from 192.0.2.1.
 * The input is the ClientHello body (RFC 8446 4.1.2, after the handshake header): this target
 * wraps it in the handshake header and TLS records (split at 2^14), writes it, then ends its
 * side; the runner reads until the ECS closes. Invariants: no crash, no leak, no undefined
 * behaviour, no hang: every input ends with the connection closed by the ECS. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ecs.h"
#include "kedge/app.h"
#include "kedge/log.h"
#include "kedge/pki.h"
#include "psk_handshake.h"
#include "sbi/server_int.h"

static ecs_t ecs;
static kedge_sbi_server_t *srv;
static char dir[] = "/tmp/kedge-fuzz-ecs-XXXXXX"; /* the PKI and configuration, removed at exit */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove(path);
}

static void remove_dir(void)
{
  nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void *run_main(void *arg)
{
  kedge_sbi_server_run(srv);
  return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  if (!mkdtemp(dir))
    abort();
  atexit(remove_dir);
  char pki[64], conf[64];
  snprintf(pki, sizeof(pki), "%s/pki", dir);
  snprintf(conf, sizeof(conf), "%s/ecs.yaml", dir);
  if (kedge_pki_init(pki) != KEDGE_OK)
    abort();
  FILE *f = fopen(conf, "w");
  if (!f)
    abort();
  /* key source: a port nothing listens on (connection refused at once); no rate limit, so
   * that every well-formed identity reaches the fetch path */
  fprintf(f,
          "log: {level: error}\n"
          "sbi: {port: 0, limits: {handshake_timeout: 2s}, metrics: {enabled: false}}\n"
          "key_source:\n"
          "  type: ausf\n"
          "  uri: https://127.0.0.1:1\n"
          "  tls: {ca: %s/ca.crt, cert: %s/ecs.crt, key: %s/ecs.key}\n"
          "  timeout: 500ms\n"
          "  rate_limit: {global: 0, per_address: 0}\n"
          /* no answer floor (issue 12's timing equaliser): it only makes each input slower */
          "key_cache: {answer_floor: 0ms, answer_floor_max: 0ms}\n"
          "service_provisioning: {allowed_eec_ids: [\"*\"]}\n",
          pki, pki, pki);
  fclose(f);
  static const kedge_daemon_info_t info = {.program = "fuzz-ecs-client-hello"};
  /* own_tls: the ECS shows no SBI certificate (as daemons/ecs/main.c says) */
  const kedge_app_t app = {.info = &info,
                           .service = "ecs",
                           .read_config = ecs_read_config,
                           .state = &ecs,
                           .own_tls = true};
  static kedge_config_t *cfg_tree; /* kept: the ECS points into it */
  kedge_sbi_server_config_t cfg;
  char why[512];
  if (kedge_app_load_config(&app, conf, &cfg_tree, &cfg, why, sizeof(why)) != KEDGE_OK ||
      kedge_sbi_server_new(&cfg, &srv) != KEDGE_OK ||
      ecs_setup(&ecs, srv, why, sizeof(why)) != KEDGE_OK ||
      kedge_sbi_server_start(srv) != KEDGE_OK) {
    fprintf(stderr, "fuzz-ecs-client-hello: set-up failed: %s\n", why);
    abort();
  }
  pthread_t t;
  if (pthread_create(&t, NULL, run_main, NULL) != 0)
    abort();
  pthread_detach(t);
  return 0;
}

typedef struct handover {
  int fd;
} handover_t;

static void accept_on_worker(evutil_socket_t unused, short what, void *arg)
{
  handover_t *h = arg;
  struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(40000)};
  inet_pton(AF_INET, "192.0.2.1", &peer.sin_addr);
  ecs_accept(&srv->workers[0], h->fd, (struct sockaddr *)&peer, sizeof(peer), &ecs);
  free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 65536)
    return 0;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
    abort();
  fcntl(sv[1], F_SETFL, O_NONBLOCK);
  handover_t *h = malloc(sizeof(*h));
  if (!h)
    abort();
  h->fd = sv[1];
  struct timeval now = {0, 0};
  if (event_base_once(srv->workers[0].base, -1, EV_TIMEOUT, accept_on_worker, h, &now) != 0)
    abort();
  /* handshake header (RFC 8446 4): client_hello(1), uint24 length */
  size_t hs_len = 4 + size;
  uint8_t *hs = malloc(hs_len);
  if (!hs)
    abort();
  hs[0] = 1;
  hs[1] = (uint8_t)(size >> 16);
  hs[2] = (uint8_t)(size >> 8);
  hs[3] = (uint8_t)size;
  memcpy(hs + 4, data, size);
  /* TLSPlaintext records (RFC 8446 5.1): handshake(22), legacy_record_version 0x0301 */
  for (size_t off = 0; off < hs_len;) {
    size_t n = hs_len - off < 16384 ? hs_len - off : 16384;
    uint8_t head[5] = {22, 3, 1, (uint8_t)(n >> 8), (uint8_t)n};
    if (write(sv[0], head, 5) != 5 || write(sv[0], hs + off, n) != (ssize_t)n)
      break; /* the ECS closed already */
    off += n;
  }
  free(hs);
  shutdown(sv[0], SHUT_WR);
  uint8_t buf[4096];
  while (read(sv[0], buf, sizeof(buf)) > 0)
    ;
  close(sv[0]);
  return 0;
}
