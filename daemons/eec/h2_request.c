/* One HTTP/2 request (RFC 9113) with nghttp2 over the EEC's own TLS connection: libcurl cannot
 * offer an external PSK, so the EEC does its own TLS (psk_client.c) and speaks HTTP/2 on it.
 * The socket is blocking with SO_RCVTIMEO/SO_SNDTIMEO: a silent ECS ends in a timeout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>
#include <openssl/err.h>

#include "eec.h"

typedef struct h2_call {
  SSL *ssl;
  bool goaway;
  int32_t stream_id;
  bool closed;
  uint32_t close_error;
  bool io_error;
  bool too_big;
  const char *body;
  size_t body_len, body_off;
  eec_h2_response_t *resp;
} h2_call_t;

static ssize_t send_cb(nghttp2_session *session, const uint8_t *data, size_t length, int flags,
                       void *user_data)
{
  h2_call_t *c = user_data;
  if (length > INT32_MAX)
    length = INT32_MAX;
  int n = SSL_write(c->ssl, data, (int)length);
  if (n <= 0) {
    c->io_error = true;
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  return n;
}

static int header_cb(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user_data)
{
  h2_call_t *c = user_data;
  if (frame->hd.stream_id != c->stream_id || frame->hd.type != NGHTTP2_HEADERS)
    return 0;
  if (namelen == 7 && !memcmp(name, ":status", 7) && valuelen == 3)
    c->resp->status = atoi((const char *)value);
  else if (namelen == 12 && !memcmp(name, "content-type", 12))
    snprintf(c->resp->content_type, sizeof(c->resp->content_type), "%.*s",
             (int)(valuelen < 127 ? valuelen : 127), value);
  return 0;
}

static int data_cb(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data,
                   size_t len, void *user_data)
{
  h2_call_t *c = user_data;
  eec_h2_response_t *r = c->resp;
  if (stream_id != c->stream_id)
    return 0;
  if (r->body_len + len > EEC_MAX_RESPONSE) {
    c->too_big = true;
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  char *grown = realloc(r->body, r->body_len + len + 1);
  if (!grown)
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  r->body = grown;
  memcpy(r->body + r->body_len, data, len);
  r->body_len += len;
  r->body[r->body_len] = '\0';
  return 0;
}

static int stream_close_cb(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                           void *user_data)
{
  h2_call_t *c = user_data;
  if (stream_id == c->stream_id) {
    c->closed = true;
    c->close_error = error_code;
  }
  return 0;
}

static ssize_t body_read_cb(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
                            size_t length, uint32_t *data_flags, nghttp2_data_source *source,
                            void *user_data)
{
  h2_call_t *c = user_data;
  size_t n = c->body_len - c->body_off;
  if (n > length)
    n = length;
  memcpy(buf, c->body + c->body_off, n);
  c->body_off += n;
  if (c->body_off == c->body_len)
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

void eec_h2_response_free(eec_h2_response_t *resp)
{
  free(resp->body);
  resp->body = NULL;
  resp->body_len = 0;
}

struct eec_h2 {
  SSL *ssl;
  nghttp2_session_callbacks *cbs;
  nghttp2_session *session;
  h2_call_t call; /* the request in progress (one at a time) */
  bool broken;
};

static int goaway_cb(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
  h2_call_t *c = user_data;
  if (frame->hd.type == NGHTTP2_GOAWAY)
    c->goaway = true;
  return 0;
}

kedge_err_t eec_h2_open(SSL *ssl, eec_h2_t **out)
{
  eec_h2_t *h2 = calloc(1, sizeof(*h2));
  if (!h2)
    return KEDGE_ERR_NOMEM;
  h2->ssl = ssl;
  h2->call.ssl = ssl;
  nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1},
                                       {NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
  if (nghttp2_session_callbacks_new(&h2->cbs) != 0) {
    free(h2);
    return KEDGE_ERR_NOMEM;
  }
  nghttp2_session_callbacks_set_send_callback(h2->cbs, send_cb);
  nghttp2_session_callbacks_set_on_header_callback(h2->cbs, header_cb);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(h2->cbs, data_cb);
  nghttp2_session_callbacks_set_on_stream_close_callback(h2->cbs, stream_close_cb);
  nghttp2_session_callbacks_set_on_frame_recv_callback(h2->cbs, goaway_cb);
  if (nghttp2_session_client_new(&h2->session, h2->cbs, &h2->call) != 0 ||
      nghttp2_submit_settings(h2->session, NGHTTP2_FLAG_NONE, settings, 2) != 0) {
    eec_h2_close(h2);
    return KEDGE_ERR_NOMEM;
  }
  *out = h2;
  return KEDGE_OK;
}

void eec_h2_close(eec_h2_t *h2)
{
  if (!h2)
    return;
  if (h2->session && !h2->broken) {
    /* RFC 9113 6.8: say goodbye before closing */
    nghttp2_session_terminate_session(h2->session, NGHTTP2_NO_ERROR);
    nghttp2_session_send(h2->session);
  }
  nghttp2_session_del(h2->session);
  nghttp2_session_callbacks_del(h2->cbs);
  free(h2);
}

kedge_err_t eec_h2_request(eec_h2_t *h2, const char *authority, const char *method,
                           const char *path, const char *body, eec_h2_response_t *resp, char *why,
                           size_t why_size)
{
  memset(resp, 0, sizeof(*resp));
  if (h2->broken) {
    snprintf(why, why_size, "HTTP/2: the connection is no longer usable");
    return KEDGE_ERR_UNAVAILABLE;
  }
  h2_call_t *c = &h2->call;
  bool goaway = c->goaway;
  *c = (h2_call_t){.ssl = h2->ssl,
                   .goaway = goaway,
                   .body = body,
                   .body_len = body ? strlen(body) : 0,
                   .resp = resp};
  nghttp2_session *session = h2->session;
  kedge_err_t err = KEDGE_ERR_NOMEM;
  char length[24];
  snprintf(length, sizeof(length), "%zu", c->body_len);
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE}
  nghttp2_nv nva[] = {NV(":method", method),
                      NV(":scheme", "https"),
                      NV(":authority", authority),
                      NV(":path", path),
                      NV("content-type", "application/json"),
                      NV("accept", "application/json"),
                      NV("content-length", length)};
#undef NV
  nghttp2_data_provider prd = {.read_callback = body_read_cb};
  c->stream_id = nghttp2_submit_request(session, NULL, nva, body ? 7 : 6, body ? &prd : NULL, c);
  if (c->stream_id < 0)
    goto out;

  uint8_t buf[16384];
  err = KEDGE_ERR_UNAVAILABLE;
  while (!c->closed) {
    if (nghttp2_session_send(session) != 0) {
      snprintf(why, why_size, "HTTP/2: cannot send the request (%s)",
               c->io_error ? "connection lost" : "protocol error");
      goto out;
    }
    if (c->closed)
      break;
    ERR_clear_error();
    errno = 0;
    int n = SSL_read(h2->ssl, buf, sizeof(buf));
    if (n <= 0) {
      int e = SSL_get_error(h2->ssl, n);
      bool timed_out = e == SSL_ERROR_WANT_READ || errno == EAGAIN;
      snprintf(why, why_size, "HTTP/2: %s",
               timed_out ? "no answer in time"
               : e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL
                   ? "the ECS closed the connection before answering"
                   : "TLS error while reading the answer");
      err = timed_out ? KEDGE_ERR_TIMEOUT : KEDGE_ERR_UNAVAILABLE;
      goto out;
    }
    if (nghttp2_session_mem_recv(session, buf, (size_t)n) < 0) {
      snprintf(why, why_size, "HTTP/2: %s",
               c->too_big ? "answer larger than 1 MiB" : "protocol error from the ECS");
      err = c->too_big ? KEDGE_ERR_TOO_BIG : KEDGE_ERR_UNAVAILABLE;
      goto out;
    }
  }
  if (c->close_error != NGHTTP2_NO_ERROR || resp->status == 0) {
    snprintf(why, why_size, "HTTP/2: the ECS reset the stream (%s)",
             nghttp2_http2_strerror(c->close_error));
    goto out;
  }
  err = KEDGE_OK;
out:
  if (err == KEDGE_ERR_NOMEM)
    snprintf(why, why_size, "HTTP/2: out of memory");
  if (err) {
    h2->broken = err != KEDGE_ERR_NOMEM;
    eec_h2_response_free(resp);
  }
  c->body = NULL;
  c->resp = NULL;
  return err;
}
