/* RFC 8446 4.2.11: "If the server ... cannot validate the binder, it MUST abort the handshake
 * with a decrypt_error alert", and SPEC.md 4 makes that alert the one answer for a wrong key
 * and for an identity without a key. OpenSSL 3.0 (Debian 12) sends illegal_parameter for a
 * binder that does not verify; later OpenSSL releases send decrypt_error. Until the ECS runs
 * on those, a write filter on the handshake's socket BIO turns that one alert into
 * decrypt_error: a plaintext fatal illegal_parameter alert record (the binder is checked on
 * the ClientHello, before any handshake key exists) written while OpenSSL's last error is
 * SSL_R_BINDER_DOES_NOT_VERIFY. Everything else passes through untouched. The filter is
 * removed once the handshake is done, before the connection is adopted. */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>

#include "binder_alert.h"

#define TLS_CT_ALERT                21
#define TLS_ALERT_FATAL             2
#define TLS_ALERT_ILLEGAL_PARAMETER 47
#define TLS_ALERT_DECRYPT_ERROR     51

static BIO_METHOD *method;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static bool is_binder_alert(const unsigned char *p, size_t len)
{
  if (len != 7 || p[0] != TLS_CT_ALERT || p[1] != 3 || p[3] != 0 || p[4] != 2 ||
      p[5] != TLS_ALERT_FATAL || p[6] != TLS_ALERT_ILLEGAL_PARAMETER)
    return false;
  unsigned long e = ERR_peek_last_error();
  return ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_BINDER_DOES_NOT_VERIFY;
}

static int filter_write(BIO *b, const char *data, int len)
{
  BIO *next = BIO_next(b);
  if (!next || len < 0)
    return -1;
  unsigned char fixed[7];
  if (is_binder_alert((const unsigned char *)data, (size_t)len)) {
    memcpy(fixed, data, sizeof(fixed));
    fixed[6] = TLS_ALERT_DECRYPT_ERROR;
    data = (const char *)fixed;
  }
  int rv = BIO_write(next, data, len);
  BIO_clear_retry_flags(b);
  BIO_copy_next_retry(b);
  return rv;
}

static int filter_read(BIO *b, char *data, int len)
{
  BIO *next = BIO_next(b);
  if (!next)
    return -1;
  int rv = BIO_read(next, data, len);
  BIO_clear_retry_flags(b);
  BIO_copy_next_retry(b);
  return rv;
}

static long filter_ctrl(BIO *b, int cmd, long num, void *ptr)
{
  BIO *next = BIO_next(b);
  return next ? BIO_ctrl(next, cmd, num, ptr) : 0;
}

static int filter_create(BIO *b)
{
  BIO_set_init(b, 1);
  return 1;
}

static void make_method(void)
{
  BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_FILTER, "kedge-ecs binder alert");
  if (m && BIO_meth_set_write(m, filter_write) && BIO_meth_set_read(m, filter_read) &&
      BIO_meth_set_ctrl(m, filter_ctrl) && BIO_meth_set_create(m, filter_create)) {
    method = m;
    return;
  }
  BIO_meth_free(m);
}

kedge_err_t ecs_binder_alert_attach(SSL *ssl, int fd)
{
  pthread_once(&once, make_method);
  BIO *sock = method ? BIO_new_socket(fd, BIO_NOCLOSE) : NULL;
  BIO *filter = sock ? BIO_new(method) : NULL;
  if (!filter) {
    BIO_free(sock);
    ERR_clear_error();
    return KEDGE_ERR_NOMEM;
  }
  BIO_push(filter, sock);
  BIO_up_ref(sock); /* one reference for the read side, one held by the filter chain */
  SSL_set_bio(ssl, sock, filter);
  return KEDGE_OK;
}

void ecs_binder_alert_detach(SSL *ssl)
{
  BIO *sock = SSL_get_rbio(ssl);
  if (!sock || SSL_get_wbio(ssl) == sock)
    return;
  BIO_up_ref(sock);
  SSL_set0_wbio(ssl, sock); /* frees the filter; the socket BIO keeps its two references */
}
