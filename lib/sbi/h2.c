/* One SBI connection: TLS records in and out on a non-blocking socket with kedge's own
 * libevent events, and an nghttp2 server session (RFC 9113) fed with mem_recv and drained
 * with mem_send. Life cycle: accept -> TLS handshake (bounded by handshake_timeout_ms) ->
 * HTTP/2 (conn_start_h2, also the entry point of kedge_sbi_worker_adopt; the nghttp2 session
 * at the client's first bytes, conn_h2_session) -> GOAWAY or
 * peer close or error -> sbi_conn_free. Every callback ends with conn_check(), the single
 * place where a connection is torn down. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "kedge/log.h"
#include "sbi/server_int.h"

static nghttp2_session_callbacks *callbacks;
static nghttp2_option *options;
static pthread_once_t callbacks_once = PTHREAD_ONCE_INIT;

static void conn_io_cb(evutil_socket_t fd, short what, void *arg);
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);
static void conn_flush_cb(evutil_socket_t fd, short what, void *arg);
static void conn_flush(sbi_conn_t *conn);
static void conn_check(sbi_conn_t *conn);

static sbi_conn_t *conn_new(kedge_sbi_worker_t *w, evutil_socket_t fd)
{
  sbi_conn_t *conn = calloc(1, sizeof(*conn));
  if (!conn)
    return NULL;
  conn->w = w;
  conn->fd = fd;
  kedge_buf_init(&conn->out, SBI_OUT_MAX);
  LIST_INIT(&conn->reqs);
  conn->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, conn_io_cb, conn);
  conn->wev = event_new(w->base, fd, EV_WRITE, conn_io_cb, conn);
  conn->timer = evtimer_new(w->base, conn_timer_cb, conn);
  conn->flush_ev = event_new(w->base, -1, 0, conn_flush_cb, conn);
  if (!conn->rev || !conn->wev || !conn->timer || !conn->flush_ev) {
    if (conn->rev)
      event_free(conn->rev);
    if (conn->wev)
      event_free(conn->wev);
    if (conn->timer)
      event_free(conn->timer);
    if (conn->flush_ev)
      event_free(conn->flush_ev);
    free(conn);
    return NULL;
  }
  LIST_INSERT_HEAD(&w->conns, conn, link);
  w->n_conns++;
  kedge_gauge_add(w->srv->m_conns_open, 1);
  kedge_counter_add(w->srv->m_conns_total, 1);
  return conn;
}

void sbi_conn_free(sbi_conn_t *conn)
{
  kedge_sbi_worker_t *w = conn->w;
  LIST_REMOVE(conn, link);
  w->n_conns--;
  kedge_conn_budget_remove(&w->hs_budget, &conn->hs_node);
  kedge_gauge_add(w->srv->m_conns_open, -1);
  /* Requests a handler still owns become "gone" (their cancel callbacks run now); the rest
   * are freed. nghttp2_session_del() does not call on_stream_close. */
  while (!LIST_EMPTY(&conn->reqs))
    sbi_request_detach(LIST_FIRST(&conn->reqs));
  if (conn->h2)
    nghttp2_session_del(conn->h2);
  event_free(conn->rev);
  event_free(conn->wev);
  event_free(conn->timer);
  event_free(conn->flush_ev);
  if (conn->ssl) {
    if (conn->state == CONN_H2 && !conn->fatal) {
      /* Best effort close_notify; the socket is non-blocking, so this never waits. */
      ERR_clear_error();
      SSL_shutdown(conn->ssl);
    }
    SSL_free(conn->ssl);
  }
  ERR_clear_error();
  if (conn->fd >= 0)
    evutil_closesocket(conn->fd);
  for (size_t i = 0; i < conn->n_peer_names; i++)
    free(conn->peer_names[i]);
  kedge_buf_free(&conn->out);
  free(conn);
  sbi_worker_conn_removed(w);
}

static bool out_append(sbi_conn_t *conn, const uint8_t *data, size_t len)
{
  return kedge_buf_add(&conn->out, data, len) == KEDGE_OK;
}

/* ---- nghttp2 callbacks ---- */

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
  sbi_conn_t *conn = user_data;
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  kedge_sbi_request_t *req = sbi_request_new(conn, frame->hd.stream_id);
  if (!req)
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* RST_STREAM for this stream only */
  nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, req);
  return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user_data)
{
  sbi_conn_t *conn = user_data;
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0; /* trailers are not used on the SBI */
  kedge_sbi_request_t *req = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
  if (!req || req->state != REQ_RECEIVING)
    return 0;
  /* RFC 9113 6.5.2: header list size = sum of name + value + 32 per field. */
  size_t max = conn->w->srv->cfg.limits.max_header_list;
  req->header_bytes += namelen + valuelen + 32;
  if (req->header_bytes > max || req->headers_too_big) {
    req->headers_too_big = true;
    /* Far past the limit: stop decoding into this stream at all. */
    if (req->header_bytes > 4 * max)
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    return 0;
  }
  if (namelen > 0 && name[0] == ':') {
    if (namelen == 7 && memcmp(name, ":method", 7) == 0) {
      if (valuelen >= sizeof(req->method))
        valuelen = 0; /* no route has such a method: 405 or 404 follows */
      memcpy(req->method, value, valuelen);
      req->method[valuelen] = '\0';
    } else if (namelen == 5 && memcmp(name, ":path", 5) == 0 && !req->path) {
      req->path = sbi_request_text(req, value, valuelen);
      if (!req->path)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
      char *q = strchr(req->path, '?');
      if (q) {
        *q = '\0';
        req->query = q + 1;
      }
    }
    return 0;
  }
  if (req->n_headers == SBI_MAX_REQ_HEADERS) {
    req->headers_too_big = true;
    return 0;
  }
  sbi_header_t *h = &req->headers[req->n_headers];
  h->name = sbi_request_text(req, name, namelen);
  h->value = sbi_request_text(req, value, valuelen);
  if (!h->name || !h->value) {
    sbi_request_text_free(req, h->name);
    sbi_request_text_free(req, h->value);
    h->name = h->value = NULL;
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  req->n_headers++;
  if (namelen == 14 && memcmp(name, "content-length", 14) == 0) {
    /* nghttp2 has checked it is a number (RFC 9110 8.6). */
    req->content_length = strtoll(h->value, NULL, 10);
  }
  return 0;
}

/* End of the request header block: everything the runtime can refuse without the body. */
static void headers_complete(kedge_sbi_request_t *req)
{
  const kedge_sbi_server_t *srv = req->w->srv;
  if (req->headers_too_big) {
    /* RFC 6585 5 */
    sbi_request_reject(req, 431, "UNSPECIFIED_MSG_FAILURE", "request header list too large", NULL);
    return;
  }
  if (!req->path || !req->method[0] || req->path[0] != '/') {
    sbi_request_reject(req, 400, "INVALID_MSG_FORMAT", "bad :method or :path", NULL);
    return;
  }
  char allow[128];
  switch (
      sbi_router_match(&srv->router, req->method, req->path, &req->match, allow, sizeof(allow))) {
  case SBI_MATCH_OK:
    req->route = req->match.route;
    break;
  case SBI_MATCH_NOT_FOUND:
    /* TS 29.500 Table 5.2.7.2-1: 404 RESOURCE_URI_STRUCTURE_NOT_FOUND */
    sbi_request_reject(req, 404, "RESOURCE_URI_STRUCTURE_NOT_FOUND", "no such resource", NULL);
    return;
  case SBI_MATCH_BAD_METHOD:
    sbi_request_reject(req, 405, "UNSPECIFIED_MSG_FAILURE", "method not allowed", allow);
    return;
  case SBI_MATCH_BAD_PATH:
    sbi_request_reject(req, 400, "INVALID_MSG_FORMAT", "bad percent-encoding in the path", NULL);
    return;
  }
  if (req->content_length > 0 && (uint64_t)req->content_length > srv->cfg.limits.max_body)
    sbi_request_reject(req, 413, "UNSPECIFIED_MSG_FAILURE", "request body too large", NULL);
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
    return 0;
  kedge_sbi_request_t *req = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
  if (!req)
    return 0;
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST &&
      req->state == REQ_RECEIVING)
    headers_complete(req);
  if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && req->state == REQ_RECEIVING)
    sbi_request_dispatch(req);
  return 0;
}

static int on_data_chunk_recv(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                              const uint8_t *data, size_t len, void *user_data)
{
  sbi_conn_t *conn = user_data;
  kedge_sbi_request_t *req = nghttp2_session_get_stream_user_data(session, stream_id);
  size_t max = conn->w->srv->cfg.limits.max_body;
  if (!req)
    return 0;
  if (req->state != REQ_RECEIVING) {
    /* Already answered (413, 404...): the rest of the body is dropped, never buffered.
     * RFC 9113 8.1 allows RST_STREAM(NO_ERROR) right after such an early response, but
     * curl 7.88 (Debian 12, also under kedge's own client) then discards the response, so
     * the stream is reset only when a peer keeps sending far past the limit. */
    req->discarded += len;
    if (req->discarded > SBI_DISCARD_FACTOR * max && !req->reset_sent) {
      req->reset_sent = true;
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_NO_ERROR);
    }
    return 0;
  }
  /* req->body's maximum is max_body (sbi_request_new) */
  kedge_err_t err = kedge_buf_add(&req->body, data, len);
  if (err == KEDGE_ERR_TOO_BIG)
    sbi_request_reject(req, 413, "UNSPECIFIED_MSG_FAILURE", "request body too large", NULL);
  else if (err)
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                           void *user_data)
{
  kedge_sbi_request_t *req = nghttp2_session_get_stream_user_data(session, stream_id);
  if (req)
    sbi_request_detach(req);
  return 0;
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
  sbi_conn_t *conn = user_data;
  if (frame->hd.type == NGHTTP2_GOAWAY)
    conn->goaway_sent = true;
  return 0;
}

/* Response bodies are never copied into nghttp2 (NGHTTP2_DATA_FLAG_NO_COPY): send_data writes
 * the frame straight into conn->out, which is wiped once written, so the only plaintext copies
 * of a body that may carry a key are the request's own buffer and conn->out. */
static ssize_t data_read(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                         uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
  kedge_sbi_request_t *req = source->ptr;
  size_t left = req->resp_len - req->resp_off;
  size_t n = left < length ? left : length;
  *data_flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  if (n == left)
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

static int send_data(nghttp2_session *session, nghttp2_frame *frame, const uint8_t *framehd,
                     size_t length, nghttp2_data_source *source, void *user_data)
{
  sbi_conn_t *conn = user_data;
  kedge_sbi_request_t *req = source->ptr;
  static const uint8_t zeros[256];
  size_t padlen = frame->data.padlen;
  if (!out_append(conn, framehd, 9))
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  if (padlen > 0) {
    uint8_t pl = (uint8_t)(padlen - 1);
    if (!out_append(conn, &pl, 1))
      return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  if (!out_append(conn, req->resp_body + req->resp_off, length))
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  req->resp_off += length;
  if (padlen > 1 && !out_append(conn, zeros, padlen - 1))
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  return 0;
}

static void callbacks_init(void)
{
  if (nghttp2_session_callbacks_new(&callbacks) != 0)
    return;
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, on_frame_send);
  nghttp2_session_callbacks_set_send_data_callback(callbacks, send_data);
  if (nghttp2_option_new(&options) == 0) {
    /* Bounded work per peer: nghttp2's own defaults guard SETTINGS floods, reset floods
     * (CVE-2023-44487) and CONTINUATION floods; kedge only makes them explicit. */
    nghttp2_option_set_max_settings(options, 32);
    nghttp2_option_set_max_continuations(options, 8);
  }
}

/* ---- connection I/O ---- */

/* The nghttp2 session and the server's SETTINGS (RFC 9113 3.4), made when the client's first
 * bytes arrive (or when the server has to say something first: GOAWAY), not at the handshake's
 * end: a connection closed before its first frame (a client that only authenticates, a
 * scanner) costs no session. */
static kedge_err_t conn_h2_session(sbi_conn_t *conn)
{
  if (conn->h2)
    return KEDGE_OK;
  const kedge_sbi_limits_t *lim = &conn->w->srv->cfg.limits;
  pthread_once(&callbacks_once, callbacks_init);
  if (!callbacks || !options)
    return KEDGE_ERR_NOMEM;
  if (nghttp2_session_server_new2(&conn->h2, callbacks, conn, options) != 0)
    return KEDGE_ERR_NOMEM;
  nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, lim->max_streams},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)lim->max_header_list},
  };
  if (nghttp2_submit_settings(conn->h2, NGHTTP2_FLAG_NONE, settings,
                              sizeof(settings) / sizeof(settings[0])) != 0)
    return KEDGE_ERR_NOMEM;
  return KEDGE_OK;
}

/* The handshake is done: HTTP/2 from here on (the session itself: conn_h2_session). */
static void conn_start_h2(sbi_conn_t *conn)
{
  const kedge_sbi_limits_t *lim = &conn->w->srv->cfg.limits;
  conn->state = CONN_H2;
  event_base_gettimeofday_cached(conn->w->base, &conn->last_activity);
  struct timeval tv = {lim->idle_timeout_ms / 1000, (lim->idle_timeout_ms % 1000) * 1000};
  evtimer_add(conn->timer, &tv);
  event_add(conn->rev, NULL);
}

/* h2c (sbi.transport: h2c, RFC 9113 3.3 prior knowledge): the same HTTP/2 session straight on
 * the socket. */
static int plain_read(sbi_conn_t *conn)
{
  ssize_t n = recv(conn->fd, conn->w->read_buf, sizeof(conn->w->read_buf), 0);
  return n > INT_MAX ? INT_MAX : (int)n;
}

static int plain_write(sbi_conn_t *conn)
{
  size_t left = conn->out.len - conn->out_off;
  ssize_t n =
      send(conn->fd, conn->out.data + conn->out_off, left > INT_MAX ? INT_MAX : left, MSG_NOSIGNAL);
  return (int)n;
}

/* Before SSL_read/SSL_write, so SSL_get_error sees this call's errors only: ERR_clear_error()
 * walks the thread's whole error queue (about 800 instructions, four times per AKA run), while
 * the queue is nearly always empty (issue 17: docs/performance-latency.md, "Fifth round"). */
static void tls_errors_clear(void)
{
  if (ERR_peek_error())
    ERR_clear_error();
}

static void conn_read(sbi_conn_t *conn)
{
  /* A bounded number of records per callback, so one busy peer cannot starve the others. */
  for (int i = 0; i < 16; i++) {
    tls_errors_clear();
    int n = conn->ssl ? SSL_read(conn->ssl, conn->w->read_buf, sizeof(conn->w->read_buf))
                      : plain_read(conn);
    if (n > 0) {
      event_base_gettimeofday_cached(conn->w->base, &conn->last_activity);
      if (conn_h2_session(conn) != KEDGE_OK) {
        conn->fatal = true;
        return;
      }
      conn->in_recv = true;
      ssize_t rv = nghttp2_session_mem_recv(conn->h2, conn->w->read_buf, (size_t)n);
      conn->in_recv = false;
      if (rv < 0) {
        kedge_log_debug("sbi: HTTP/2 error from peer: %s", nghttp2_strerror((int)rv));
        conn->fatal = true;
        return;
      }
      /* Nothing left in OpenSSL's buffers (read-ahead: the socket was read as far as it had
       * data, up to SBI_READ_BUF): back to the loop rather than one more read(2) per
       * connection and pass that only says EAGAIN. The event is level-triggered: octets that
       * arrived meanwhile wake it again. */
      if (conn->ssl && !SSL_has_pending(conn->ssl))
        return;
      continue;
    }
    if (!conn->ssl) { /* h2c: -1 with EAGAIN is "nothing more now"; 0 or another error ends it */
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
      conn->fatal = true;
      return;
    }
    switch (SSL_get_error(conn->ssl, n)) {
    case SSL_ERROR_WANT_READ:
      return;
    case SSL_ERROR_WANT_WRITE:
      conn->read_wants_write = true;
      event_add(conn->wev, NULL);
      return;
    default: /* close_notify, EOF or a TLS error */
      ERR_clear_error();
      conn->fatal = true;
      return;
    }
  }
  event_active(conn->rev, EV_READ, 0);
}

static void conn_flush(sbi_conn_t *conn)
{
  if (conn->fatal || conn->state != CONN_H2 || !conn->h2)
    return;
  for (;;) {
    if (conn->out_off == conn->out.len) {
      kedge_buf_clear(&conn->out);
      conn->out_off = 0;
      while (conn->out.len < SBI_OUT_HIGH) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(conn->h2, &data);
        if (n < 0) {
          conn->fatal = true;
          return;
        }
        if (n == 0)
          break;
        if (!out_append(conn, data, (size_t)n)) {
          conn->fatal = true;
          return;
        }
      }
      if (conn->out.len == 0)
        return;
    }
    tls_errors_clear();
    int n = conn->ssl ? SSL_write(conn->ssl, conn->out.data + conn->out_off,
                                  (int)(conn->out.len - conn->out_off))
                      : plain_write(conn);
    if (n > 0) {
      conn->out_off += (size_t)n;
      continue;
    }
    if (!conn->ssl) {
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        event_add(conn->wev, NULL);
      else
        conn->fatal = true;
      return;
    }
    switch (SSL_get_error(conn->ssl, n)) {
    case SSL_ERROR_WANT_WRITE:
      event_add(conn->wev, NULL);
      return;
    case SSL_ERROR_WANT_READ:
      return; /* the read event is always armed */
    default:
      ERR_clear_error();
      conn->fatal = true;
      return;
    }
  }
}

/* The only place a connection is freed (besides shutdown): on error, when nghttp2 is done with
 * the session (GOAWAY exchanged, peer closed), or when a draining connection has no streams. */
static void conn_check(sbi_conn_t *conn)
{
  if (conn->fatal) {
    sbi_conn_free(conn);
    return;
  }
  if (conn->state != CONN_H2 || !conn->h2) /* !h2: the client's first frame is awaited */
    return;
  bool pending = conn->out_off < conn->out.len;
  if (pending)
    return;
  if (!nghttp2_session_want_read(conn->h2) && !nghttp2_session_want_write(conn->h2)) {
    sbi_conn_free(conn);
    return;
  }
  if (conn->goaway_sent && (conn->w->draining || conn->closing) && conn->n_streams == 0 &&
      !nghttp2_session_want_write(conn->h2))
    sbi_conn_free(conn);
}

static void conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
  sbi_conn_t *conn = arg;
  if (conn->state == CONN_HANDSHAKE) {
    int r = sbi_tls_handshake_step(conn);
    if (r == 0)
      return;
    if (r < 0) {
      kedge_counter_add(conn->w->srv->m_handshake_failures, 1);
      sbi_conn_free(conn);
      return;
    }
    evtimer_del(conn->timer);
    /* authenticated: out of the handshake budget, into the established one */
    kedge_sbi_worker_t *w = conn->w;
    kedge_conn_budget_remove(&w->hs_budget, &conn->hs_node);
    if (w->n_conns - w->hs_budget.count > w->srv->cfg.limits.max_connections) {
      kedge_counter_add(w->srv->m_conns_rejected, 1);
      conn->fatal = true; /* no close_notify: nothing was said on it yet */
      sbi_conn_free(conn);
      return;
    }
    sbi_tls_peer_names(conn);
    conn_start_h2(conn);
    what = EV_READ; /* the client's preface may already sit in the TLS buffers */
  }
  if ((what & EV_READ) || conn->read_wants_write) {
    conn->read_wants_write = false;
    conn_read(conn);
  }
  conn_flush(conn);
  conn_check(conn);
}

static void conn_flush_cb(evutil_socket_t fd, short what, void *arg)
{
  sbi_conn_t *conn = arg;
  conn_flush(conn);
  conn_check(conn);
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
  sbi_conn_t *conn = arg;
  const kedge_sbi_limits_t *lim = &conn->w->srv->cfg.limits;
  if (conn->state == CONN_HANDSHAKE) {
    kedge_log_debug(conn->hello_seen ? "sbi: TLS handshake timed out"
                                     : "sbi: no ClientHello within hello_timeout");
    kedge_counter_add(conn->w->srv->m_handshake_failures, 1);
    sbi_conn_free(conn);
    return;
  }
  struct timeval now, idle = {lim->idle_timeout_ms / 1000, (lim->idle_timeout_ms % 1000) * 1000};
  struct timeval deadline, left;
  event_base_gettimeofday_cached(conn->w->base, &now);
  evutil_timeradd(&conn->last_activity, &idle, &deadline);
  if (conn->n_streams == 0 && !evutil_timercmp(&now, &deadline, <)) {
    /* RFC 9113 6.8: idle connection: GOAWAY(NO_ERROR), then close once it is written. */
    if (conn_h2_session(conn) != KEDGE_OK)
      conn->fatal = true;
    else
      nghttp2_session_terminate_session(conn->h2, NGHTTP2_NO_ERROR);
    conn_flush(conn);
    conn_check(conn);
    return;
  }
  if (evutil_timercmp(&now, &deadline, <))
    evutil_timersub(&deadline, &now, &left);
  else
    left = idle;
  evtimer_add(conn->timer, &left);
}

static struct timeval ms_tv(unsigned ms)
{
  return (struct timeval){ms / 1000, (ms % 1000) * 1000};
}

void sbi_conn_accept_tls(kedge_sbi_worker_t *w, evutil_socket_t fd, const struct sockaddr *peer)
{
  kedge_sbi_server_t *srv = w->srv;
  if (w->draining) {
    kedge_counter_add(srv->m_conns_rejected, 1);
    evutil_closesocket(fd);
    return;
  }
  /* issue 12: room for the newcomer is made by shedding the oldest unauthenticated
   * connection (of its address first); established connections are never touched */
  kedge_conn_node_t *victim;
  while ((victim = kedge_conn_budget_victim(&w->hs_budget, peer))) {
    sbi_conn_t *old = kedge_container_of(victim, sbi_conn_t, hs_node);
    kedge_counter_add(srv->m_handshakes_shed, 1);
    kedge_counter_add(srv->m_handshake_failures, 1);
    sbi_conn_free(old);
  }
  /* TCP_NODELAY: inherited from the listening socket (listen_socket in server.c) */
  sbi_conn_t *conn = conn_new(w, fd);
  if (!conn) {
    evutil_closesocket(fd);
    return;
  }
  if (srv->cfg.transport == KEDGE_SBI_TRANSPORT_H2C) {
    /* no handshake: HTTP/2 from the first octet (the client preface), no peer identity */
    if (w->n_conns - w->hs_budget.count > srv->cfg.limits.max_connections) {
      kedge_counter_add(srv->m_conns_rejected, 1);
      sbi_conn_free(conn);
    } else {
      conn_start_h2(conn);
    }
    return;
  }
  conn->state = CONN_HANDSHAKE;
  kedge_conn_budget_add(&w->hs_budget, &conn->hs_node, peer);
  SSL_CTX *ctx = sbi_tls_ctx_get(srv);
  conn->ssl = ctx ? SSL_new(ctx) : NULL; /* the SSL holds its own reference */
  SSL_CTX_free(ctx);
  if (!conn->ssl || SSL_set_fd(conn->ssl, (int)fd) != 1) {
    ERR_clear_error();
    sbi_conn_free(conn);
    return;
  }
  SSL_set_app_data(conn->ssl, conn);
  SSL_set_accept_state(conn->ssl);
  const kedge_sbi_limits_t *lim = &srv->cfg.limits;
  event_base_gettimeofday_cached(w->base, &conn->accepted);
  /* first the ClientHello's deadline, then (sbi_conn_hello_seen) the handshake's */
  unsigned first = lim->hello_timeout_ms < lim->handshake_timeout_ms ? lim->hello_timeout_ms
                                                                     : lim->handshake_timeout_ms;
  struct timeval tv = ms_tv(first);
  evtimer_add(conn->timer, &tv);
  event_add(conn->rev, NULL);
}

void sbi_conn_hello_seen(sbi_conn_t *conn)
{
  if (conn->hello_seen || conn->state != CONN_HANDSHAKE)
    return;
  conn->hello_seen = true;
  struct timeval now, deadline, left = {0, 1000};
  struct timeval total = ms_tv(conn->w->srv->cfg.limits.handshake_timeout_ms);
  event_base_gettimeofday_cached(conn->w->base, &now);
  evutil_timeradd(&conn->accepted, &total, &deadline);
  if (evutil_timercmp(&now, &deadline, <))
    evutil_timersub(&deadline, &now, &left);
  evtimer_add(conn->timer, &left);
}

kedge_err_t kedge_sbi_worker_adopt(kedge_sbi_worker_t *w, SSL *ssl, evutil_socket_t fd,
                                   const char *const *identities, size_t n_identities)
{
  if (!w || !ssl || fd < 0) {
    SSL_free(ssl);
    if (fd >= 0)
      evutil_closesocket(fd);
    return KEDGE_ERR_INVALID_ARG;
  }
  kedge_sbi_server_t *srv = w->srv;
  if (w->draining || w->n_conns - w->hs_budget.count >= srv->cfg.limits.max_connections) {
    kedge_counter_add(srv->m_conns_rejected, 1);
    SSL_free(ssl);
    evutil_closesocket(fd);
    return KEDGE_ERR_BUSY;
  }
  sbi_conn_t *conn = conn_new(w, fd);
  if (!conn) {
    SSL_free(ssl);
    evutil_closesocket(fd);
    return KEDGE_ERR_NOMEM;
  }
  conn->ssl = ssl;
  for (size_t i = 0; i < n_identities && conn->n_peer_names < SBI_MAX_PEER_NAMES; i++) {
    if (!identities[i])
      continue;
    char *copy = strndup(identities[i], 253);
    if (!copy) {
      conn->fatal = true;
      sbi_conn_free(conn);
      return KEDGE_ERR_NOMEM;
    }
    conn->peer_names[conn->n_peer_names++] = copy;
  }
  conn_start_h2(conn);
  /* Whatever the adopter's handshake left buffered is read now, not on the next event. */
  event_active(conn->rev, EV_READ, 0);
  return KEDGE_OK;
}

void sbi_conn_drain(sbi_conn_t *conn)
{
  if (conn->state == CONN_HANDSHAKE) {
    sbi_conn_free(conn);
    return;
  }
  /* RFC 9113 6.8: graceful shutdown: streams up to the last one processed still complete. */
  if (conn_h2_session(conn) != KEDGE_OK) {
    sbi_conn_free(conn);
    return;
  }
  nghttp2_submit_goaway(conn->h2, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(conn->h2), NGHTTP2_NO_ERROR, NULL,
                        0);
  conn_flush(conn);
  conn_check(conn);
}

/* v in decimal and a '\0' (room for 21): the status and the content-length of every answer,
 * without snprintf (~1,300 instructions per answer for the two; issue 17) */
static void decimal(char out[21], uint64_t v)
{
  char rev[20];
  size_t n = 0;
  do
    rev[n++] = (char)('0' + v % 10);
  while ((v /= 10) && n < sizeof(rev));
  for (size_t i = 0; i < n; i++)
    out[i] = rev[n - 1 - i];
  out[n] = '\0';
}

kedge_err_t sbi_conn_submit_response(kedge_sbi_request_t *req)
{
  sbi_conn_t *conn = req->conn;
  char status[21], length[21];
  decimal(status, req->status > 0 ? (uint64_t)req->status : 500); /* 200..599 by its callers */
  decimal(length, req->resp_len);
  nghttp2_nv nva[3 + SBI_MAX_RESP_HEADERS];
  size_t n = 0;
#define NV(n_, v_)                                                                                 \
  (nghttp2_nv){(uint8_t *)(n_), (uint8_t *)(v_), strlen(n_), strlen(v_), NGHTTP2_NV_FLAG_NONE}
  nva[n++] = NV(":status", status);
  if (req->resp_type)
    nva[n++] = NV("content-type", req->resp_type);
  if (req->status != 204 && req->status != 304)
    nva[n++] = NV("content-length", length);
  for (size_t i = 0; i < req->n_resp_headers; i++)
    nva[n++] = NV(req->resp_headers[i].name, req->resp_headers[i].value);
#undef NV
  nghttp2_data_provider prd = {.source.ptr = req, .read_callback = data_read};
  int rv = nghttp2_submit_response(conn->h2, req->stream_id, nva, n, req->resp_len ? &prd : NULL);
  req->state = REQ_RESPONDED;
  if (rv != 0)
    return KEDGE_ERR_UNAVAILABLE;
  if (!conn->in_recv)
    event_active(conn->flush_ev, 0, 0);
  return KEDGE_OK;
}

/* ---- closing the connections of one peer identity (kedge_sbi_server_close_peer) ---- */

typedef struct close_peer {
  kedge_sbi_worker_t *w;
  kedge_sbi_close_t how;
  kedge_counter_t *closed;
  char name[];
} close_peer_t;

static bool conn_has_peer(const sbi_conn_t *conn, const char *name)
{
  for (size_t i = 0; i < conn->n_peer_names; i++)
    if (strcmp(conn->peer_names[i], name) == 0)
      return true;
  return false;
}

static void close_peer_cb(evutil_socket_t fd, short what, void *arg)
{
  close_peer_t *cp = arg;
  sbi_conn_t *conn, *next;
  LIST_FOREACH_SAFE(conn, &cp->w->conns, link, next)
  {
    if (conn->state == CONN_H2 && !conn->closing && conn_has_peer(conn, cp->name)) {
      kedge_counter_add(cp->closed, 1);
      conn->closing = true;
      if (conn_h2_session(conn) != KEDGE_OK)
        conn->fatal = true;
      else if (cp->how == KEDGE_SBI_CLOSE_NOW)
        /* RFC 9113 6.8: GOAWAY, open streams are abandoned, closed once it is written */
        nghttp2_session_terminate_session(conn->h2, NGHTTP2_NO_ERROR);
      else
        /* RFC 9113 6.8 graceful: no new streams; those open finish, then it closes */
        nghttp2_submit_goaway(conn->h2, NGHTTP2_FLAG_NONE,
                              nghttp2_session_get_last_proc_stream_id(conn->h2), NGHTTP2_NO_ERROR,
                              NULL, 0);
      conn_flush(conn);
      conn_check(conn);
    }
  }
  free(cp);
}

kedge_err_t kedge_sbi_server_close_peer(kedge_sbi_server_t *srv, const char *name,
                                        kedge_sbi_close_t how, kedge_counter_t *closed)
{
  if (!srv || !name || !*name)
    return KEDGE_ERR_INVALID_ARG;
  if (!srv->started || atomic_load(&srv->stopping))
    return KEDGE_OK;
  size_t len = strlen(name) + 1;
  kedge_err_t err = KEDGE_OK;
  for (unsigned i = 0; i < srv->n_workers; i++) {
    close_peer_t *cp = malloc(sizeof(*cp) + len);
    if (!cp)
      return KEDGE_ERR_NOMEM;
    cp->w = &srv->workers[i];
    cp->how = how;
    cp->closed = closed;
    memcpy(cp->name, name, len);
    const struct timeval now = {0, 0};
    if (event_base_once(cp->w->base, -1, EV_TIMEOUT, close_peer_cb, cp, &now) != 0) {
      free(cp);
      err = KEDGE_ERR_NOMEM;
    }
  }
  return err;
}
