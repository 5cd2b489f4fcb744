/* The `sbi:` section every kedge daemon's YAML file shares (docs/sbi.md, docs/config.md). */
#include <string.h>

#include "kedge/config.h"
#include "kedge/sbi_server.h"

kedge_err_t kedge_sbi_server_config_read(struct kedge_config_node *sbi,
                                         kedge_sbi_server_config_t *cfg)
{
  if (!cfg)
    return KEDGE_ERR_INVALID_ARG;
  kedge_err_t err = KEDGE_OK;
  int64_t i;
  uint64_t u;
  bool b;
  const char *s;

  KEDGE_CONFIG_KEEP(err, kedge_config_string(sbi, "address", cfg->address, &cfg->address));
  KEDGE_CONFIG_KEEP(err, kedge_config_int(sbi, "port", cfg->port, 0, 65535, &i));
  cfg->port = (uint16_t)i;
  KEDGE_CONFIG_KEEP(err, kedge_config_int(sbi, "workers", cfg->workers, 1, 256, &i));
  cfg->workers = (unsigned)i;

  static const char *const transports[] = {"tls-mutual", "tls-server", "h2c"};
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sbi, "transport", transports[cfg->transport], &s));
  bool known_transport = false;
  for (int t = 0; t < 3; t++) {
    if (s && strcmp(s, transports[t]) == 0) {
      cfg->transport = (kedge_sbi_transport_t)t;
      known_transport = true;
    }
  }
  if (!known_transport)
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(sbi, "transport", "must be tls-mutual, tls-server or h2c"));
  /* tls-server: no client certificate is asked for (the caller's identity is its token) */
  if (cfg->transport == KEDGE_SBI_TRANSPORT_TLS_SERVER)
    cfg->verify = KEDGE_SBI_VERIFY_OFF;

  KEDGE_CONFIG_KEEP(err, kedge_config_string(sbi, "tls.cert", cfg->cert_file, &cfg->cert_file));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sbi, "tls.key", cfg->key_file, &cfg->key_file));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sbi, "tls.ca", cfg->ca_file, &cfg->ca_file));
  static const char *const modes[] = {"off", "optional", "required"};
  KEDGE_CONFIG_KEEP(err,
                    kedge_config_string(sbi, "tls.client_verification", modes[cfg->verify], &s));
  bool known = false;
  for (int m = 0; m < 3; m++) {
    if (s && strcmp(s, modes[m]) == 0) {
      cfg->verify = (kedge_sbi_verify_t)m;
      known = true;
    }
  }
  if (!known)
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(sbi, "tls.client_verification",
                                                "must be off, optional or required"));
  if (cfg->transport == KEDGE_SBI_TRANSPORT_TLS_SERVER && cfg->verify != KEDGE_SBI_VERIFY_OFF)
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(sbi, "tls.client_verification",
                                  "must be off with transport tls-server (use tls-mutual)"));
  KEDGE_CONFIG_KEEP(err, kedge_config_bool(sbi, "tls.tls12", cfg->tls12_allowed, &b));
  cfg->tls12_allowed = b;

  kedge_sbi_limits_t *l = &cfg->limits;
  KEDGE_CONFIG_KEEP(err, kedge_config_size(sbi, "limits.max_body", l->max_body, 1, 64u << 20, &u));
  l->max_body = (size_t)u;
  KEDGE_CONFIG_KEEP(err, kedge_config_size(sbi, "limits.max_header_list", l->max_header_list, 1024,
                                           1u << 20, &u));
  l->max_header_list = (size_t)u;
  KEDGE_CONFIG_KEEP(err, kedge_config_int(sbi, "limits.max_streams", l->max_streams, 1, 10000, &i));
  l->max_streams = (uint32_t)i;
  KEDGE_CONFIG_KEEP(
      err, kedge_config_int(sbi, "limits.max_connections", l->max_connections, 1, 1000000, &i));
  l->max_connections = (unsigned)i;
  KEDGE_CONFIG_KEEP(
      err, kedge_config_int(sbi, "limits.max_handshakes", l->max_handshakes, 1, 1000000, &i));
  l->max_handshakes = (unsigned)i;
  KEDGE_CONFIG_KEEP(err, kedge_config_int(sbi, "limits.max_handshakes_per_address",
                                          l->max_handshakes_per_address, 0, 1000000, &i));
  l->max_handshakes_per_address = (unsigned)i;
  KEDGE_CONFIG_KEEP(
      err, kedge_config_duration(sbi, "limits.hello_timeout", l->hello_timeout_ms, 1, 600000, &i));
  l->hello_timeout_ms = (unsigned)i;
  KEDGE_CONFIG_KEEP(
      err, kedge_config_duration(sbi, "limits.idle_timeout", l->idle_timeout_ms, 1, 86400000, &i));
  l->idle_timeout_ms = (unsigned)i;
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(sbi, "limits.handshake_timeout",
                                               l->handshake_timeout_ms, 1, 600000, &i));
  l->handshake_timeout_ms = (unsigned)i;
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(sbi, "limits.shutdown_grace", l->shutdown_grace_ms,
                                               0, 600000, &i));
  l->shutdown_grace_ms = (unsigned)i;

  KEDGE_CONFIG_KEEP(err, kedge_config_bool(sbi, "metrics.enabled", cfg->metrics_enabled, &b));
  cfg->metrics_enabled = b;
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sbi, "metrics.address", cfg->metrics_address,
                                             &cfg->metrics_address));
  KEDGE_CONFIG_KEEP(err, kedge_config_int(sbi, "metrics.port", cfg->metrics_port, 0, 65535, &i));
  cfg->metrics_port = (uint16_t)i;
  return err;
}

const char *kedge_sbi_transport_name(kedge_sbi_transport_t t)
{
  return t == KEDGE_SBI_TRANSPORT_H2C          ? "h2c"
         : t == KEDGE_SBI_TRANSPORT_TLS_SERVER ? "tls-server"
                                               : "tls-mutual";
}
