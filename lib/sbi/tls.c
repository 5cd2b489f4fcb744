/* TLS for the SBI server: the SSL_CTX (TS 33.210 6.2 / TS 33.501 13.1: TLS with mutual
 * certificate authentication between NFs; TLS 1.3 by default, 1.2 only when configured), ALPN
 * "h2" only (RFC 9113 3.2), the non-blocking handshake driven by kedge's own events, and the
 * peer identity (SAN DNS names of the verified client certificate). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "kedge/log.h"
#include "sbi/server_int.h"

static const unsigned char alpn_h2[] = {2, 'h', '2'};

/* RFC 7301 3.2: the server picks; nothing but h2 is served, so a client that does not offer
 * it gets the no_application_protocol alert. */
static int client_hello_seen(SSL *ssl, int *al, void *arg);

int kedge_tls_alpn_select_h2(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                             const unsigned char *in, unsigned int inlen, void *arg)
{
  (void)ssl;
  (void)arg;
  unsigned char *selected;
  if (SSL_select_next_proto(&selected, outlen, alpn_h2, sizeof(alpn_h2), in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

const char *sbi_verify_name(kedge_sbi_verify_t v)
{
  switch (v) {
  case KEDGE_SBI_VERIFY_OFF:
    return "off";
  case KEDGE_SBI_VERIFY_OPTIONAL:
    return "optional";
  case KEDGE_SBI_VERIFY_REQUIRED:
    return "required";
  }
  return "?";
}

static void ssl_error(char *why, size_t why_size, const char *what, const char *file)
{
  unsigned long e = ERR_peek_last_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  snprintf(why, why_size, "sbi: %s %s: %s", what, file ? file : "", e ? buf : "unknown error");
  ERR_clear_error();
}

SSL_CTX *sbi_tls_ctx_new(const kedge_sbi_server_config_t *cfg, char *why, size_t why_size)
{
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) {
    ssl_error(why, why_size, "cannot create TLS context", NULL);
    return NULL;
  }
  kedge_tls_keylog_enable(ctx);
  if (!SSL_CTX_set_min_proto_version(ctx, cfg->tls12_allowed ? TLS1_2_VERSION : TLS1_3_VERSION))
    goto fail;
  /* RFC 9113 9.2.2: TLS 1.2 with HTTP/2 needs AEAD suites with ephemeral key exchange;
   * TS 33.210 6.2.3 profiles the same. TLS 1.3 suites are OpenSSL's defaults (all AEAD). */
  if (!SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"))
    goto fail;
  /* Every connection gets a full handshake, so the peer identity always comes from a
   * certificate verified now; no renegotiation (RFC 9113 9.2.1). */
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  /* Read what the socket holds in one read(2), not a header and a body per TLS record: h2.c
   * drains SSL_read until WANT_READ, so nothing stays buffered unseen (bench/aka: the AUSF's
   * read(2) calls per 5G AKA run went from 8.5 to 1.5-3). */
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_alpn_select_cb(ctx, kedge_tls_alpn_select_h2, NULL);
  SSL_CTX_set_client_hello_cb(ctx, client_hello_seen, NULL);

  if (cfg->cert_file) {
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1) {
      ssl_error(why, why_size, "cannot load certificate", cfg->cert_file);
      goto fail_logged;
    }
    if (!cfg->key_file || SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1) {
      ssl_error(why, why_size, "cannot load private key", cfg->key_file);
      goto fail_logged;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      ssl_error(why, why_size, "private key does not match certificate", cfg->key_file);
      goto fail_logged;
    }
  }
  if (cfg->verify != KEDGE_SBI_VERIFY_OFF) {
    if (!cfg->ca_file) {
      snprintf(why, why_size, "sbi: client verification %s needs a CA file",
               sbi_verify_name(cfg->verify));
      goto fail_logged;
    }
    if (SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1) {
      ssl_error(why, why_size, "cannot load CA file", cfg->ca_file);
      goto fail_logged;
    }
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->ca_file);
    if (names)
      SSL_CTX_set_client_CA_list(ctx, names);
    int mode = SSL_VERIFY_PEER;
    if (cfg->verify == KEDGE_SBI_VERIFY_REQUIRED)
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, NULL);
    SSL_CTX_set_verify_depth(ctx, 4);
  }
  return ctx;
fail:
  ssl_error(why, why_size, "cannot configure TLS", NULL);
fail_logged:
  SSL_CTX_free(ctx);
  return NULL;
}

/* issue 12: the ClientHello is complete; from now on the handshake_timeout applies. */
static int client_hello_seen(SSL *ssl, int *al, void *arg)
{
  sbi_conn_t *conn = SSL_get_app_data(ssl);
  if (conn)
    sbi_conn_hello_seen(conn);
  return SSL_CLIENT_HELLO_SUCCESS;
}

int sbi_tls_handshake_step(sbi_conn_t *conn)
{
  ERR_clear_error();
  int rv = SSL_do_handshake(conn->ssl);
  if (rv == 1) {
    const unsigned char *proto = NULL;
    unsigned int len = 0;
    SSL_get0_alpn_selected(conn->ssl, &proto, &len);
    if (len != 2 || memcmp(proto, "h2", 2) != 0) {
      kedge_log_debug("sbi: handshake without ALPN h2");
      return -1;
    }
    return 1;
  }
  switch (SSL_get_error(conn->ssl, rv)) {
  case SSL_ERROR_WANT_READ:
    return 0;
  case SSL_ERROR_WANT_WRITE:
    event_add(conn->wev, NULL);
    return 0;
  default:
    if (kedge_log_enabled(KEDGE_LOG_DEBUG)) {
      char buf[256];
      ERR_error_string_n(ERR_peek_last_error(), buf, sizeof(buf));
      kedge_log_debug("sbi: TLS handshake failed: %s", buf);
    }
    ERR_clear_error();
    return -1;
  }
}

/* A DNS name as it may appear in a SAN dNSName (RFC 5280 4.2.1.6): printable ASCII without
 * spaces, at most 253 octets; anything else is skipped, never passed to a handler. */
static bool plausible_dns_name(const unsigned char *s, int len)
{
  if (len <= 0 || len > 253)
    return false;
  for (int i = 0; i < len; i++)
    if (!isgraph(s[i]))
      return false;
  return true;
}

void sbi_tls_peer_names(sbi_conn_t *conn)
{
  X509 *cert = SSL_get0_peer_certificate(conn->ssl);
  if (!cert || SSL_get_verify_result(conn->ssl) != X509_V_OK)
    return;
  GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
  if (!sans)
    return;
  int n = sk_GENERAL_NAME_num(sans);
  for (int i = 0; i < n && conn->n_peer_names < SBI_MAX_PEER_NAMES; i++) {
    const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
    /* TS 33.310 6.1.3c: besides its FQDN an NF certificate may carry its nfInstanceId as the
     * URI urn:uuid:<id>; kept so that an OAuth2 token's sub can be checked against it
     * (lib/sbi/oauth2.c). Other URIs are not identities here. */
    const ASN1_STRING *str = gn->type == GEN_DNS   ? gn->d.dNSName
                             : gn->type == GEN_URI ? gn->d.uniformResourceIdentifier
                                                   : NULL;
    if (!str)
      continue;
    const unsigned char *data = ASN1_STRING_get0_data(str);
    int len = ASN1_STRING_length(str);
    if (!plausible_dns_name(data, len) ||
        (gn->type == GEN_URI && (len != 45 || strncasecmp((const char *)data, "urn:uuid:", 9))))
      continue;
    char *name = strndup((const char *)data, (size_t)len);
    if (!name)
      break;
    for (char *p = name; *p; p++)
      *p = (char)tolower((unsigned char)*p);
    conn->peer_names[conn->n_peer_names++] = name;
  }
  GENERAL_NAMES_free(sans);
}
