/* The skeleton every kedge daemon shares (like Open5GS's lib/app): command line
 * (kedge/daemon.h plus --ports-file), the YAML file with its `log:` and `sbi:` sections and the
 * daemon's own, the SBI server, start-up, run until SIGTERM, tear-down. A daemon supplies its
 * configuration reader and the routes; everything else is here once. */
#ifndef KEDGE_APP_H
#define KEDGE_APP_H

#include "kedge/config.h"
#include "kedge/daemon.h"
#include "kedge/error.h"
#include "kedge/sbi_server.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The --help line for --ports-file, for a daemon's kedge_daemon_info_t.extra_usage. */
#define KEDGE_APP_PORTS_FILE_USAGE                                                                 \
  "      --ports-file FILE  write \"port=N\" and \"metrics_port=N\" once listening"

typedef struct kedge_app {
  const kedge_daemon_info_t *info;
  const char *service;   /* short name for logs and metrics: "udm", "ausf" */
  const char *nf_type;   /* TS 29.510 NFType ("UDM", "AUSF", "NEF", "AF"): the User-Agent is
                            "<nf_type>-<nfInstanceId>" (TS 29.500 5.2.2.2); NULL: service */
  uint16_t default_port; /* the sbi.port default (0: the kernel picks) */
  /* TS 29.510 service names this NF offers, NULL-terminated (or NULL): announced in the
   * NFProfile when the configuration has an `nrf:` section (kedge/nrf.h, docs/nrf.md). */
  const char *const *nf_services;
  /* Reads the daemon's own keys from the file's top-level map into `state`. Record problems
   * with kedge_config_invalid() and return KEDGE_ERR_CONFIG. Strings stay valid until exit. */
  kedge_err_t (*read_config)(kedge_config_node_t *root, void *state);
  /* After the configuration is complete and the server exists, before it listens: open stores,
   * start pools, register routes. A failure ends start-up with its one-line reason in `why`. */
  kedge_err_t (*setup)(kedge_sbi_server_t *srv, void *state, char *why, size_t why_size);
  /* After the server stopped (may be NULL). */
  void (*teardown)(void *state);
  /* What set-up would refuse beyond the file itself (may be NULL): the master key's mode and
   * whether it opens the sealed stores, CA files... Run by --check-config, at start and at a
   * reload (on the reload's scratch state), so all three refuse the same things. */
  kedge_err_t (*check)(void *state, char *why, size_t why_size);
  /* SIGHUP (may be NULL: then only certificates and log settings are reloaded): copies the
   * reloadable fields (allow-lists, tables) from `next`, a copy of the state into which the new
   * file was read and checked, into `state`. Runs on the main thread while every worker is
   * parked (kedge_sbi_server_pause()), so it must not block; it cannot fail. */
  void (*reload)(void *state, void *next);
  /* SPEC.md 7: what this NF serves or consumes that must never cross h2c (may be NULL: h2c
   * allowed, with a warning). Returns NULL when h2c is acceptable for `state`'s configuration,
   * else the reason ("the NEF relays Kedge and K_AF"), refused at load as one line naming
   * sbi.transport. */
  const char *(*h2c_refused)(void *state);
  size_t state_size; /* sizeof(*state): the reload reads the new file into a scratch copy */
  bool own_tls;      /* the service terminates TLS itself (the ECS): sbi.tls is optional */
  /* Optional: a second listener the daemon runs itself (the ECS's notification listener):
   * --ports-file also gets "<extra_port_name>=<extra_port(state)>". */
  const char *extra_port_name;
  uint16_t (*extra_port)(void *state);
  void *state;
} kedge_app_t;

/* The whole life of a daemon; returns the process exit status. Under systemd (NOTIFY_SOCKET)
 * it sends READY=1 once listening, RELOADING=1 and READY=1 around a reload (SIGHUP),
 * STOPPING=1 when the drain begins and WATCHDOG=1 when WATCHDOG_USEC asks for it. Options besides
 * those of kedge/daemon.h: --ports-file FILE writes "port=N" and "metrics_port=N" once listening
 * (for tests and scripts that start daemons on port 0). With an `nrf:` section the NF registers at
 * the NRF once listening and deregisters after SIGTERM (kedge/nrf.h). */
int kedge_app_main(const kedge_app_t *app, int argc, char **argv);

/* The NF instance id (TS 29.510 nfInstanceId, an RFC 4122 UUID), settled by kedge_app_main()
 * before set-up from the common `nf:` section (docs/config.md): nf.instance_id if given; else
 * the UUID in nf.instance_id_file, which is created with a fresh random one the first time
 * (so the id survives restarts); else a random one for this run (logged). "" before. */
const char *kedge_app_nf_instance_id(void);

/* The `nrf:` section as kedge_app_main() read it at start (kedge/nrf.h): uri NULL without an
 * NRF. Valid from set-up until exit; a daemon's discovery (kedge_nrf_disc_new) uses it. */
struct kedge_nrf_config;
const struct kedge_nrf_config *kedge_app_nrf_config(void);

/* Loads and checks a daemon's configuration without serving (for subcommands such as
 * `kedge-udmd subscriber ...`): the log: and sbi: sections are read and checked too. On
 * success *conf stays loaded (free it with kedge_config_free after use). */
kedge_err_t kedge_app_load_config(const kedge_app_t *app, const char *path, kedge_config_t **conf,
                                  kedge_sbi_server_config_t *sbi, char *why, size_t why_size);

/* Wiping allocators (lib/app/wipe_alloc.c): libcurl copies the `Authorization: Bearer` header
 * line and the bodies it receives into blocks of its own, and OpenSSL its TLS records; with these
 * installed every such block is overwritten (OPENSSL_cleanse) before it is freed.
 * kedge_app_wipe_curl: libcurl's; kedge_app_main installs it first thing, and every program
 * using libcurl without kedge_app_main (kedge-ue) calls it first in main; it holds libcurl's
 * global reference until kedge_app_wipe_release (or exit). Again: nothing more.
 * kedge_app_wipe_openssl: OpenSSL's, before OpenSSL's first allocation (the NEF, which relays
 * keys in TLS records; not the default, since it costs every handshake's frees).
 * kedge_app_wipe_installed: libcurl's and jansson's are in place (and OpenSSL's, if asked).
 * kedge_app_wipe_observe: for tests, a function shown each block after it is wiped and before
 * it is freed (NULL: none). */
kedge_err_t kedge_app_wipe_curl(void);
kedge_err_t kedge_app_wipe_openssl(void);
bool kedge_app_wipe_installed(bool openssl_too);
void kedge_app_wipe_release(void);
void kedge_app_wipe_observe(void (*fn)(const void *block, size_t size));

#ifdef __cplusplus
}
#endif
#endif
