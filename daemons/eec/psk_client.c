/* The EEC's connection to the ECS: TCP, then TLS 1.3 with an external PSK (SPEC.md 4, RFC 8446
 * 4.2.11): the session offered through SSL_set_psk_use_session_callback carries Kedge (or
 * K_ECS) with TLS_AES_128_GCM_SHA256, i.e. hash SHA-256; key exchange psk_dhe_ke (X25519,
 * then P-256), psk_ke only with --allow-psk-ke. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "eec.h"
#include "kedge/sbi_server.h"

static const unsigned char tls_aes_128_gcm_sha256[2] = {0x13, 0x01};
static const unsigned char alpn_h2[] = {2, 'h', '2'};

/* "HOST:PORT" or "[V6]:PORT" into host and port. */
static bool split_host_port(const char *in, char *host, size_t host_size, char *port,
                            size_t port_size)
{
  const char *colon;
  if (in[0] == '[') {
    const char *close = strchr(in, ']');
    if (!close || close[1] != ':' || (size_t)(close - in - 1) >= host_size)
      return false;
    memcpy(host, in + 1, (size_t)(close - in - 1));
    host[close - in - 1] = '\0';
    colon = close + 1;
  } else {
    colon = strrchr(in, ':');
    if (!colon || colon == in || (size_t)(colon - in) >= host_size ||
        memchr(in, ':', (size_t)(colon - in)))
      return false;
    memcpy(host, in, (size_t)(colon - in));
    host[colon - in] = '\0';
  }
  const char *p = colon + 1;
  if (!*p || strlen(p) >= port_size || strspn(p, "0123456789") != strlen(p) || atoi(p) < 1 ||
      atoi(p) > 65535)
    return false;
  snprintf(port, port_size, "%s", p);
  return true;
}

static void set_timeouts(int fd, unsigned timeout_ms)
{
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

kedge_err_t eec_tcp_connect(const char *host_port, unsigned timeout_ms, int *out, char *why,
                            size_t why_size)
{
  char host[256], port[8];
  if (!split_host_port(host_port, host, sizeof(host), port, sizeof(port))) {
    snprintf(why, why_size, "--ecs %s: expected HOST:PORT or [IPV6]:PORT", host_port);
    return KEDGE_ERR_INVALID_ARG;
  }
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) {
    snprintf(why, why_size, "TCP: cannot resolve %s: %s", host, gai_strerror(rc));
    return KEDGE_ERR_UNAVAILABLE;
  }
  int fd = -1, last_errno = 0;
  for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    int err = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        err = errno;
      } else {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        socklen_t len = sizeof(err);
        rc = poll(&pfd, 1, (int)timeout_ms);
        if (rc == 0)
          err = ETIMEDOUT;
        else if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
          err = errno;
      }
    }
    if (err) {
      last_errno = err;
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    snprintf(why, why_size, "TCP: cannot connect to %s: %s", host_port, strerror(last_errno));
    return last_errno == ETIMEDOUT ? KEDGE_ERR_TIMEOUT : KEDGE_ERR_UNAVAILABLE;
  }
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  set_timeouts(fd, timeout_ms);
  *out = fd;
  return KEDGE_OK;
}

/* ---- TLS ---- */

typedef struct handshake_state {
  const eec_psk_t *psk;
  int alert_code; /* the first alert seen, -1 none */
  char alert[96]; /* ... and its text */
} handshake_state_t;

static int use_session_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *id_len,
                          SSL_SESSION **sess)
{
  handshake_state_t *st = SSL_get_app_data(ssl);
  *sess = NULL;
  *id = NULL;
  *id_len = 0;
  /* After a HelloRetryRequest OpenSSL asks again with the chosen suite's hash: the PSK is
   * SHA-256 (SPEC.md 4), so it is offered only for a SHA-256 suite. */
  if (md && EVP_MD_get_type(md) != NID_sha256)
    return 1;
  const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, tls_aes_128_gcm_sha256);
  SSL_SESSION *s = SSL_SESSION_new();
  if (!cipher || !s || SSL_SESSION_set1_master_key(s, st->psk->key, KEDGE_KEY_LEN) != 1 ||
      SSL_SESSION_set_cipher(s, cipher) != 1 ||
      SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION) != 1) {
    SSL_SESSION_free(s);
    return 0;
  }
  *sess = s;
  *id = (const unsigned char *)st->psk->identity;
  *id_len = strlen(st->psk->identity);
  return 1;
}

/* RFC 8446 6 alert names (OpenSSL's long strings use spaces). */
static const char *alert_name(int code)
{
  switch (code) {
  case 0:
    return "close_notify";
  case 10:
    return "unexpected_message";
  case 20:
    return "bad_record_mac";
  case 40:
    return "handshake_failure";
  case 47:
    return "illegal_parameter";
  case 50:
    return "decode_error";
  case 51:
    return "decrypt_error";
  case 70:
    return "protocol_version";
  case 71:
    return "insufficient_security";
  case 80:
    return "internal_error";
  case 109:
    return "missing_extension";
  case 110:
    return "unsupported_extension";
  case 115:
    return "unknown_psk_identity";
  case 120:
    return "no_application_protocol";
  default:
    return NULL;
  }
}

static void info_cb(const SSL *ssl, int where, int ret)
{
  handshake_state_t *st = SSL_get_app_data(ssl);
  if (!st || st->alert[0] || !(where & SSL_CB_ALERT))
    return;
  st->alert_code = ret & 0xff;
  const char *name = alert_name(ret & 0xff);
  snprintf(st->alert, sizeof(st->alert), "%s alert %s", (where & SSL_CB_READ) ? "received" : "sent",
           name ? name : SSL_alert_desc_string_long(ret));
}

/* What an alert from the ECS means (SPEC.md 4). */
static const char *alert_hint(int alert)
{
  switch (alert) {
  case SSL_AD_DECRYPT_ERROR:
    return " (the ECS does not accept this key: wrong key, or a Kedge ID it does not know "
           "or that expired)";
  case SSL_AD_INTERNAL_ERROR:
    return " (the ECS could not get the key from the AUSF/NEF now; try again later)";
  case SSL_AD_HANDSHAKE_FAILURE:
    return " (no PSK key exchange mode in common: the ECS allows psk_ke only if configured)";
  case SSL_AD_NO_APPLICATION_PROTOCOL:
    return " (ALPN h2 refused)";
  default:
    return "";
  }
}

/* An ECS that sheds handshakes for newer ones, or times one out, closes without an alert. */
static const char ecs_closed[] =
    "the ECS closed the connection (ECS busy, or its handshake timeout; try again later)";

kedge_err_t eec_tls_handshake(int fd, const eec_psk_t *psk, bool allow_psk_ke, unsigned timeout_ms,
                              SSL **out, eec_tls_info_t *info, char *why, size_t why_size)
{
  (void)timeout_ms; /* the socket's SO_RCVTIMEO/SO_SNDTIMEO bound every read and write */
  *out = NULL;
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  kedge_tls_keylog_enable(ctx); /* SSLKEYLOGFILE, for captures of test beds */
  SSL *ssl = NULL;
  handshake_state_t st = {.psk = psk, .alert_code = -1};
  if (info) {
    memset(info, 0, sizeof(*info));
    info->alert = -1;
  }
  if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256") != 1 ||
      SSL_CTX_set1_groups_list(ctx, "X25519:P-256") != 1 ||
      SSL_CTX_set_alpn_protos(ctx, alpn_h2, sizeof(alpn_h2)) != 0)
    goto crypto;
  /* The PSK authenticates the ECS. A server that offers a certificate instead is refused:
   * verification is on with an empty trust store. */
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | (allow_psk_ke ? SSL_OP_ALLOW_NO_DHE_KEX : 0));
  SSL_CTX_set_psk_use_session_callback(ctx, use_session_cb);
  SSL_CTX_set_info_callback(ctx, info_cb);
  ssl = SSL_new(ctx);
  if (!ssl || SSL_set_fd(ssl, fd) != 1)
    goto crypto;
  SSL_set_app_data(ssl, &st);
  SSL_set_connect_state(ssl);
  ERR_clear_error();
  int rv = SSL_connect(ssl);
  if (rv != 1) {
    int e = SSL_get_error(ssl, rv);
    unsigned long last = ERR_peek_last_error();
    if (ERR_GET_LIB(last) == ERR_LIB_SSL &&
        ERR_GET_REASON(last) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
      /* OpenSSL 3.0 then "sends" decode_error; the cause is the ECS hanging up */
      snprintf(why, why_size, "TLS handshake: %s", ecs_closed);
    } else if (st.alert[0]) {
      snprintf(why, why_size, "TLS handshake: %s%s", st.alert, alert_hint(st.alert_code));
      if (info)
        info->alert = st.alert_code;
    } else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {
      /* SIGPIPE is ignored (kedge_process_init): a write to a closed connection is EPIPE */
      snprintf(why, why_size, "TLS handshake: %s",
               (errno == EAGAIN || errno == EWOULDBLOCK) ? "timed out" : ecs_closed);
    } else {
      char buf[256];
      ERR_error_string_n(ERR_peek_last_error(), buf, sizeof(buf));
      snprintf(why, why_size, "TLS handshake: %s", buf);
    }
    ERR_clear_error();
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return KEDGE_ERR_UNAVAILABLE;
  }
  const unsigned char *proto = NULL;
  unsigned proto_len = 0;
  SSL_get0_alpn_selected(ssl, &proto, &proto_len);
  if (!SSL_session_reused(ssl) || proto_len != 2 || memcmp(proto, "h2", 2) != 0) {
    snprintf(why, why_size, "TLS handshake: %s",
             !SSL_session_reused(ssl) ? "the ECS did not accept the PSK" : "no ALPN h2");
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return KEDGE_ERR_UNAVAILABLE;
  }
  if (info) {
    snprintf(info->cipher, sizeof(info->cipher), "%s", SSL_get_cipher_name(ssl));
    int group = SSL_get_negotiated_group(ssl);
    info->psk_dhe = group != 0 && group != NID_undef;
    snprintf(info->group, sizeof(info->group), "%s",
             info->psk_dhe ? (OBJ_nid2sn(group) ? OBJ_nid2sn(group) : "?") : "none (psk_ke)");
  }
  SSL_set_app_data(ssl, NULL);
  SSL_set_info_callback(ssl, NULL);
  SSL_CTX_free(ctx); /* the SSL keeps its own reference */
  *out = ssl;
  return KEDGE_OK;
crypto:
  snprintf(why, why_size, "TLS: cannot set up OpenSSL");
  ERR_clear_error();
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return KEDGE_ERR_CRYPTO;
}
