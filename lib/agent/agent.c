/* The UE agent's local protocol (kedge/agent.h): frames and the blocking client. */
#include "kedge/agent.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "kedge/akma.h"
#include "kedge/hex.h"
#include "kedge/time.h"

/* Moves `len` octets in or out before `deadline`. */
static kedge_err_t transfer(int fd, uint8_t *buf, size_t len, bool out, int64_t deadline)
{
  size_t done = 0;
  while (done < len) {
    int64_t left = deadline - kedge_now_ms();
    if (left <= 0)
      return KEDGE_ERR_TIMEOUT;
    struct pollfd p = {fd, out ? POLLOUT : POLLIN, 0};
    int r = poll(&p, 1, (int)left);
    if (r < 0 && errno != EINTR)
      return KEDGE_ERR_IO;
    if (r <= 0)
      continue;
    ssize_t n =
        out ? send(fd, buf + done, len - done, MSG_NOSIGNAL) : recv(fd, buf + done, len - done, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
      continue;
    if (n <= 0)
      return KEDGE_ERR_IO;
    done += (size_t)n;
  }
  return KEDGE_OK;
}

kedge_err_t kedge_agent_write_frame(int fd, const json_t *msg, int timeout_ms)
{
  char *text = json_dumps(msg, JSON_COMPACT);
  if (!text)
    return KEDGE_ERR_NOMEM;
  size_t len = strlen(text);
  kedge_err_t err = KEDGE_ERR_TOO_BIG;
  if (len <= KEDGE_AGENT_MSG_MAX) {
    uint8_t head[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                       (uint8_t)len};
    int64_t deadline = kedge_now_ms() + timeout_ms;
    err = transfer(fd, head, 4, true, deadline);
    if (!err)
      err = transfer(fd, (uint8_t *)text, len, true, deadline);
  }
  OPENSSL_cleanse(text, len); /* may hold a key */
  free(text);
  return err;
}

kedge_err_t kedge_agent_read_frame(int fd, json_t **msg, int timeout_ms)
{
  *msg = NULL;
  uint8_t head[4];
  int64_t deadline = kedge_now_ms() + timeout_ms;
  kedge_err_t err = transfer(fd, head, 4, false, deadline);
  if (err)
    return err;
  size_t len = (size_t)head[0] << 24 | (size_t)head[1] << 16 | (size_t)head[2] << 8 | head[3];
  if (len == 0 || len > KEDGE_AGENT_MSG_MAX)
    return KEDGE_ERR_TOO_BIG;
  char text[KEDGE_AGENT_MSG_MAX];
  err = transfer(fd, (uint8_t *)text, len, false, deadline);
  if (!err) {
    *msg = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    if (!*msg || !json_is_object(*msg)) {
      json_decref(*msg);
      *msg = NULL;
      err = KEDGE_ERR_INVALID_ARG;
    }
  }
  OPENSSL_cleanse(text, len);
  return err;
}

/* One request, one answer. */
static kedge_err_t call(const char *socket_path, json_t *request, int timeout_ms, json_t **answer,
                        char *why, size_t why_size)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof(addr.sun_path)) {
    snprintf(why, why_size, "agent socket path too long: %s", socket_path);
    return KEDGE_ERR_INVALID_ARG;
  }
  strcpy(addr.sun_path, socket_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
    snprintf(why, why_size, "no agent at %s: %s", socket_path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return KEDGE_ERR_UNAVAILABLE;
  }
  kedge_err_t err = kedge_agent_write_frame(fd, request, timeout_ms);
  if (!err)
    err = kedge_agent_read_frame(fd, answer, timeout_ms);
  close(fd);
  if (err) {
    snprintf(why, why_size, "agent at %s: %s%s", socket_path, kedge_strerror(err),
             err == KEDGE_ERR_IO ? " (refused or closed: is this user allowed?)" : "");
    return err;
  }
  const char *e = json_string_value(json_object_get(*answer, "error"));
  if (e) {
    snprintf(why, why_size, "agent: %s", e);
    json_decref(*answer);
    *answer = NULL;
    return KEDGE_ERR_UNAVAILABLE;
  }
  return KEDGE_OK;
}

/* One keys exchange: `profile` "kedge", "bound" or "akma" (the last two with ecs_id). */
static kedge_err_t get_keys(const char *socket_path, const char *profile, const char *ecs_id,
                            kedge_agent_keys_t *keys, char *why, size_t why_size)
{
  memset(keys, 0, sizeof(*keys));
  const bool akma = !strcmp(profile, "akma");
  json_t *req = json_pack("{s:s}", "op", "keys");
  if (req && ecs_id)
    json_object_set_new(req, "ecsId", json_string(ecs_id));
  if (req && akma)
    json_object_set_new(req, "profile", json_string("akma"));
  json_t *ans = NULL;
  kedge_err_t err = req ? call(socket_path, req, 5000, &ans, why, why_size) : KEDGE_ERR_NOMEM;
  json_decref(req);
  if (err)
    return err;
  const char *id = json_string_value(json_object_get(ans, akma ? "aKid" : "kedgeId"));
  const char *key = json_string_value(json_object_get(ans, "key"));
  const char *got_profile = json_string_value(json_object_get(ans, "profile"));
  const char *got_ecs = json_string_value(json_object_get(ans, "ecsId"));
  kedge_id_t parsed;
  if (!id ||
      (akma ? kedge_akid_parse(id, strlen(id), &parsed, NULL)
            : kedge_id_parse(id, strlen(id), &parsed, NULL)) ||
      !key || kedge_hex_decode(key, keys->key, KEDGE_KEY_LEN) || !got_profile ||
      strcmp(got_profile, profile) ||
      (ecs_id && (!got_ecs || strlen(got_ecs) > KEDGE_ECS_ID_MAX))) {
    snprintf(why, why_size, "agent at %s: answer not understood", socket_path);
    OPENSSL_cleanse(keys, sizeof(*keys));
    err = KEDGE_ERR_INVALID_ARG;
  } else {
    snprintf(keys->kedge_id, sizeof(keys->kedge_id), "%s", id);
    keys->bound = !strcmp(profile, "bound");
    keys->akma = akma;
    if (got_ecs)
      snprintf(keys->ecs_id, sizeof(keys->ecs_id), "%s", got_ecs);
  }
  json_decref(ans);
  return err;
}

kedge_err_t kedge_agent_get_keys(const char *socket_path, const char *ecs_id,
                                 kedge_agent_keys_t *keys, char *why, size_t why_size)
{
  return get_keys(socket_path, ecs_id ? "bound" : "kedge", ecs_id, keys, why, why_size);
}

kedge_err_t kedge_agent_get_akma_keys(const char *socket_path, const char *ecs_id,
                                      kedge_agent_keys_t *keys, char *why, size_t why_size)
{
  if (!ecs_id)
    return KEDGE_ERR_INVALID_ARG;
  return get_keys(socket_path, "akma", ecs_id, keys, why, why_size);
}

kedge_err_t kedge_agent_register(const char *socket_path, int timeout_ms,
                                 char kedge_id[KEDGE_ID_MAX + 1], char *why, size_t why_size)
{
  json_t *req = json_pack("{s:s}", "op", "register"), *ans = NULL;
  kedge_err_t err = req ? call(socket_path, req, timeout_ms, &ans, why, why_size) : KEDGE_ERR_NOMEM;
  json_decref(req);
  if (err)
    return err;
  const char *id = json_string_value(json_object_get(ans, "kedgeId"));
  if (!id || strlen(id) > KEDGE_ID_MAX) {
    snprintf(why, why_size, "agent at %s: answer not understood", socket_path);
    err = KEDGE_ERR_INVALID_ARG;
  } else {
    snprintf(kedge_id, KEDGE_ID_MAX + 1, "%s", id);
  }
  json_decref(ans);
  return err;
}
