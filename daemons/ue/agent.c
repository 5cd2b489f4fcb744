/* kedge-ue agent: step 3 of SPEC.md 0, the UE's secure local interface (SPEC.md 5). It runs
 * the primary authentication itself, keeps Kedge and the Kedge ID in memory only (locked where
 * allowed, never dumped), and hands them to local processes it trusts: a Unix-domain socket of
 * mode 0660 in a directory only the configured group can enter, every peer's uid checked with
 * SO_PEERCRED, one bounded frame each way (kedge/agent.h). For profile bound it answers with
 * K_ECS for the ECS ID the EEC names, so the EEC never holds Kedge. */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/crypto.h>

#include "kedge/agent.h"
#include "kedge/akma.h"
#include "kedge/daemon.h"
#include "kedge/hex.h"
#include "ue.h"

/* A peer is a local process of an allowed user; its one frame must come quickly, since the
 * exchange runs on the agent's loop. */
#define PEER_TIMEOUT_MS 1000

/* The keys the agent serves: one static block, locked in memory where the system allows. */
static struct {
  bool valid;
  uint8_t kedge[KEDGE_KEY_LEN];
  char kedge_id[KEDGE_ID_MAX + 1];
  bool akma; /* usim.akma: K_AKMA and the A-KID (SPEC.md 9) */
  uint8_t k_akma[KEDGE_K_AKMA_LEN];
  char akid[KEDGE_AKID_MAX + 1];
} keys;

typedef struct agent {
  const ue_config_t *cfg;
  struct event_base *base;
  ue_t *ue;
  struct evconnlistener *listener;
  int pending_fd; /* the peer waiting for a {"op":"register"} answer, or -1 */
  bool started;   /* the first registration succeeded */
  int exit_status;
} agent_t;

static void answer(int fd, json_t *msg)
{
  if (msg)
    kedge_agent_write_frame(fd, msg, PEER_TIMEOUT_MS);
  json_decref(msg);
  close(fd);
}

static void answer_error(int fd, const char *text)
{
  answer(fd, json_pack("{s:s}", "error", text));
}

static void registered(const ue_result_t *result, void *arg)
{
  agent_t *a = arg;
  if (result->outcome == UE_REGISTERED) {
    uint8_t kausf[KEDGE_KAUSF_LEN];
    if (ue_keys(a->ue, kausf, keys.kedge, keys.kedge_id) == KEDGE_OK) {
      keys.valid = true;
      /* TS 33.535 6.1: the UE's K_AKMA and A-KID from the same KAUSF */
      keys.akma = a->cfg->usim.akma && kedge_derive_k_akma_and_akid(
                                           kausf, &a->cfg->usim.supi, a->cfg->usim.rid,
                                           &a->cfg->usim.home, keys.k_akma, keys.akid) == KEDGE_OK;
      kedge_log_info("agent: registered %s: Kedge ID %s (Kedge sha256:%s)", a->cfg->usim.supi.value,
                     keys.kedge_id, result->kedge_fingerprint);
      if (keys.akma)
        kedge_log_info("agent: AKMA: A-KID %s (K_AKMA sha256:%s)", keys.akid,
                       result->k_akma_fingerprint);
    }
    OPENSSL_cleanse(kausf, sizeof(kausf));
  } else {
    /* the previous keys, if any, stay: the network still holds them until replaced */
    kedge_log_error("agent: registration failed: %s", result->why);
  }
  if (!a->started) {
    if (!keys.valid) {
      a->exit_status = KEDGE_EXIT_FAILURE;
      event_base_loopbreak(a->base);
      return;
    }
    a->started = true;
    kedge_log_info("agent: serving keys on %s", a->cfg->agent_socket);
  }
  if (a->pending_fd >= 0) {
    if (result->outcome == UE_REGISTERED && keys.valid)
      answer(a->pending_fd, json_pack("{s:s}", "kedgeId", keys.kedge_id));
    else
      answer_error(a->pending_fd, result->why);
    a->pending_fd = -1;
  }
}

static bool peer_allowed(const agent_t *a, int fd, uid_t *uid)
{
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return false;
  *uid = cred.uid;
  if (a->cfg->n_agent_uids == 0)
    return cred.uid == getuid(); /* SPEC.md 5: default, the agent's own uid */
  for (size_t i = 0; i < a->cfg->n_agent_uids; i++)
    if ((long)cred.uid == a->cfg->agent_uids[i])
      return true;
  return false;
}

static void serve_keys(int fd, const json_t *req)
{
  if (!keys.valid) {
    answer_error(fd, "not registered");
    return;
  }
  const json_t *ecs = json_object_get(req, "ecsId");
  const char *profile = json_string_value(json_object_get(req, "profile"));
  char hex[2 * KEDGE_KEY_LEN + 1];
  json_t *msg = NULL;
  if (profile && strcmp(profile, "akma") != 0) {
    answer_error(fd, "profile must be akma or absent");
    return;
  }
  if (profile) {
    /* SPEC.md 9: K_AF = KDF(K_AKMA, 0x82, ECS FQDN || Ua* id), derived here so K_AKMA stays */
    char fqdn[KEDGE_ECS_ID_MAX + 1];
    const char *why = "ecsId (the ECS FQDN) is required for akma";
    uint8_t k_af[KEDGE_K_AF_LEN];
    if (!keys.akma) {
      answer_error(fd, "AKMA is off (usim.akma) or not registered");
      return;
    }
    if (!json_is_string(ecs) || kedge_ecs_id_normalise(json_string_value(ecs), fqdn, &why)) {
      answer_error(fd, why);
      return;
    }
    if (kedge_derive_k_af(keys.k_akma, fqdn, k_af)) {
      answer_error(fd, "cannot derive K_AF");
      return;
    }
    kedge_hex_encode(k_af, KEDGE_K_AF_LEN, hex);
    OPENSSL_cleanse(k_af, sizeof(k_af));
    msg = json_pack("{s:s, s:s, s:s, s:s}", "aKid", keys.akid, "key", hex, "profile", "akma",
                    "ecsId", fqdn);
  } else if (!ecs) {
    kedge_hex_encode(keys.kedge, KEDGE_KEY_LEN, hex);
    msg = json_pack("{s:s, s:s, s:s}", "kedgeId", keys.kedge_id, "key", hex, "profile", "kedge");
  } else {
    char ecs_id[KEDGE_ECS_ID_MAX + 1];
    const char *why = "ecsId must be a string";
    uint8_t k_ecs[KEDGE_KEY_LEN];
    if (!json_is_string(ecs) || kedge_ecs_id_normalise(json_string_value(ecs), ecs_id, &why)) {
      answer_error(fd, why);
      return;
    }
    /* SPEC.md 6: K_ECS = KDF(Kedge, 0xFC, ECS ID), derived here so Kedge stays in the agent */
    if (kedge_derive_k_ecs(keys.kedge, ecs_id, k_ecs)) {
      answer_error(fd, "cannot derive K_ECS");
      return;
    }
    kedge_hex_encode(k_ecs, KEDGE_KEY_LEN, hex);
    OPENSSL_cleanse(k_ecs, sizeof(k_ecs));
    msg = json_pack("{s:s, s:s, s:s, s:s}", "kedgeId", keys.kedge_id, "key", hex, "profile",
                    "bound", "ecsId", ecs_id);
  }
  OPENSSL_cleanse(hex, sizeof(hex));
  answer(fd, msg);
}

static void accepted(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                     void *arg)
{
  agent_t *a = arg;
  uid_t uid = (uid_t)-1;
  if (!peer_allowed(a, fd, &uid)) {
    kedge_log_warn("agent: refused a peer with uid %ld (not in agent.allowed_uids)", (long)uid);
    close(fd);
    return;
  }
  /* One short, bounded exchange; peers are local processes of allowed users. */
  json_t *req = NULL;
  kedge_err_t err = kedge_agent_read_frame(fd, &req, PEER_TIMEOUT_MS);
  const char *op = req ? json_string_value(json_object_get(req, "op")) : NULL;
  if (err || !op) {
    answer_error(fd, err ? kedge_strerror(err) : "missing op");
  } else if (!strcmp(op, "keys")) {
    serve_keys(fd, req);
  } else if (!strcmp(op, "register")) {
    if (a->pending_fd >= 0 || ue_register(a->ue, registered, a) != KEDGE_OK)
      answer_error(fd, "a registration is in progress");
    else
      a->pending_fd = fd; /* answered when the 5G AKA ends */
  } else {
    answer_error(fd, "unknown op (keys, register)");
  }
  json_decref(req);
}

static void stop(evutil_socket_t sig, short what, void *arg)
{
  agent_t *a = arg;
  kedge_log_info("agent: %s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  event_base_loopbreak(a->base);
}

/* The socket's directory: created 0750 (group from agent.group) when missing; an existing one
 * must not let others in. */
static bool prepare_directory(const ue_config_t *cfg, gid_t gid)
{
  char dir[sizeof(cfg->agent_socket)];
  snprintf(dir, sizeof(dir), "%s", cfg->agent_socket);
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir)
    return true; /* in the working or root directory: the operator's choice */
  *slash = '\0';
  struct stat st;
  if (stat(dir, &st) != 0) {
    if (mkdir(dir, 0750) != 0 || (gid != (gid_t)-1 && chown(dir, (uid_t)-1, gid) != 0)) {
      kedge_log_error("agent: cannot create %s: %s", dir, strerror(errno));
      return false;
    }
    return true;
  }
  if (!S_ISDIR(st.st_mode) || (st.st_mode & S_IRWXO)) {
    kedge_log_error("agent: %s must be a directory others cannot enter (chmod o-rwx)", dir);
    return false;
  }
  return true;
}

static struct evconnlistener *listen_on(agent_t *a)
{
  const ue_config_t *cfg = a->cfg;
  gid_t gid = (gid_t)-1;
  if (cfg->agent_group[0]) {
    struct group *g = getgrnam(cfg->agent_group);
    if (!g) {
      kedge_log_error("agent: agent.group: no group '%s'", cfg->agent_group);
      return NULL;
    }
    gid = g->gr_gid;
  }
  if (!prepare_directory(cfg, gid))
    return NULL;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", cfg->agent_socket);
  struct stat st;
  if (lstat(addr.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
    unlink(addr.sun_path);  /* a stale socket of an earlier run */
  mode_t old = umask(0117); /* the socket is born 0660 */
  struct evconnlistener *l =
      evconnlistener_new_bind(a->base, accepted, a, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                              16, (struct sockaddr *)&addr, sizeof(addr));
  umask(old);
  if (!l) {
    kedge_log_error("agent: cannot listen on %s: %s", addr.sun_path, strerror(errno));
    return NULL;
  }
  if (chmod(addr.sun_path, 0660) != 0 ||
      (gid != (gid_t)-1 && chown(addr.sun_path, (uid_t)-1, gid) != 0)) {
    kedge_log_error("agent: cannot set mode and group of %s: %s", addr.sun_path, strerror(errno));
    evconnlistener_free(l);
    return NULL;
  }
  return l;
}

int ue_agent_run(const ue_config_t *cfg)
{
  /* Keys only in memory (main() made the process undumpable), locked pages where the limits
   * allow it. */
  if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0 && mlock(&keys, sizeof(keys)) != 0)
    kedge_log_warn("agent: cannot lock the keys in memory (%s): they may be swapped out",
                   strerror(errno));
  agent_t a = {.cfg = cfg, .pending_fd = -1, .exit_status = KEDGE_EXIT_OK};
  struct event *term = NULL, *intr = NULL;
  a.base = event_base_new();
  if (!a.base || ue_new(cfg, a.base, &a.ue) != KEDGE_OK || !(a.listener = listen_on(&a))) {
    a.exit_status = KEDGE_EXIT_FAILURE;
    goto out;
  }
  term = evsignal_new(a.base, SIGTERM, stop, &a);
  intr = evsignal_new(a.base, SIGINT, stop, &a);
  if (!term || !intr || evsignal_add(term, NULL) || evsignal_add(intr, NULL) ||
      ue_register(a.ue, registered, &a) != KEDGE_OK) {
    a.exit_status = KEDGE_EXIT_FAILURE;
    goto out;
  }
  /* Until the first registration ends, peers get "not registered". */
  event_base_dispatch(a.base);
out:
  if (a.pending_fd >= 0)
    close(a.pending_fd);
  if (a.listener) {
    evconnlistener_free(a.listener);
    unlink(cfg->agent_socket);
  }
  if (term)
    event_free(term);
  if (intr)
    event_free(intr);
  ue_free(a.ue);
  if (a.base)
    event_base_free(a.base);
  OPENSSL_cleanse(&keys, sizeof(keys));
  return a.exit_status;
}
