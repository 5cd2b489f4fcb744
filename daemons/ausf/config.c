/* kedge-ausfd's own configuration sections (conf/ausf.yaml documents every key). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "ausf.h"

#define KEEP(call) ((e = (call)) && !err ? (void)(err = e) : (void)0)

/* A random NF instance id (RFC 4122 version 4 UUID) when none is configured. */
static void random_uuid(char out[37])
{
  uint8_t b[16];
  if (RAND_bytes(b, sizeof(b)) != 1)
    memset(b, 0x42, sizeof(b));
  b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
  b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
           b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
           b[14], b[15]);
}

static kedge_err_t read_seafs(ausf_t *ausf, kedge_config_node_t *sec)
{
  kedge_config_node_t *const *items = NULL;
  size_t n = 0;
  kedge_err_t err = KEDGE_OK, e;
  KEEP(kedge_config_maps(sec, "allowed_consumers", &items, &n));
  if (!err && n == 0)
    return kedge_config_invalid(sec, "allowed_consumers",
                                "list the SEAF/AMF certificate names allowed to authenticate UEs");
  ausf->seafs = calloc(n ? n : 1, sizeof(*ausf->seafs));
  if (!ausf->seafs)
    return KEDGE_ERR_NOMEM;
  ausf->n_seafs = n;
  for (size_t i = 0; i < n; i++) {
    ausf_seaf_t *s = &ausf->seafs[i];
    KEEP(kedge_config_string(items[i], "name", NULL, &s->name));
    if (!s->name)
      KEEP(kedge_config_require(items[i], "name"));
    KEEP(kedge_config_strings(items[i], "serving_networks", &s->serving_networks,
                              &s->n_serving_networks));
    if (!err && s->n_serving_networks == 0)
      KEEP(kedge_config_invalid(items[i], "serving_networks",
                                "list serving network names (5G:mnc<MNC>.mcc<MCC>.3gppnetwork.org) "
                                "or \"*\""));
  }
  return err;
}

kedge_err_t ausf_read_config(kedge_config_node_t *root, void *state)
{
  ausf_t *ausf = state;
  kedge_config_node_t *sec = NULL, *udm = NULL, *ueau = NULL;
  kedge_err_t err = KEDGE_OK, e;
  int64_t ms = 0, n = 0;
  const char *sbi_ca, *sbi_cert, *sbi_key;

  KEEP(kedge_config_string(root, "sbi.address", "127.0.0.1", &ausf->sbi_address));
  KEEP(kedge_config_map(root, "ausf", &sec));
  KEEP(kedge_config_string(sec, "instance_id", NULL, &ausf->instance_id));
  if (!ausf->instance_id) {
    random_uuid(ausf->instance_id_buf);
    ausf->instance_id = ausf->instance_id_buf;
  }
  KEEP(kedge_config_string(sec, "api_root", NULL, &ausf->api_root));
  if (ausf->api_root && strncmp(ausf->api_root, "https://", 8) != 0)
    KEEP(kedge_config_invalid(sec, "api_root", "must start with https://"));

  /* The UDM client authenticates with the AUSF's own SBI certificate unless told otherwise. */
  KEEP(kedge_config_string(root, "sbi.tls.ca", NULL, &sbi_ca));
  KEEP(kedge_config_string(root, "sbi.tls.cert", NULL, &sbi_cert));
  KEEP(kedge_config_string(root, "sbi.tls.key", NULL, &sbi_key));
  kedge_sbi_client_options_init(&ausf->udm_client);
  KEEP(kedge_config_map(root, "udm", &udm));
  KEEP(kedge_config_string(udm, "uri", NULL, &ausf->udm_uri));
  if (!ausf->udm_uri)
    KEEP(kedge_config_require(udm, "uri"));
  else if (strncmp(ausf->udm_uri, "https://", 8) != 0)
    KEEP(kedge_config_invalid(udm, "uri", "must start with https:// (the SBI is always TLS)"));
  KEEP(kedge_config_string(udm, "ca", sbi_ca, &ausf->udm_client.ca_file));
  KEEP(kedge_config_string(udm, "cert", sbi_cert, &ausf->udm_client.cert_file));
  KEEP(kedge_config_string(udm, "key", sbi_key, &ausf->udm_client.key_file));
  if (!ausf->udm_client.ca_file)
    KEEP(kedge_config_require(udm, "ca"));
  KEEP(kedge_config_duration(udm, "timeout", 2000, 10, 60000, &ms));
  ausf->udm_client.timeout_ms = (uint32_t)ms;

  KEEP(kedge_config_map(root, "ue_authentication", &ueau));
  KEEP(read_seafs(ausf, ueau));
  KEEP(kedge_config_duration(ueau, "context_expiry", 30000, 100, 600000, &ausf->context_expiry_ms));
  KEEP(kedge_config_int(ueau, "max_contexts", 100000, 1, 10000000, &n));
  ausf->max_contexts = (size_t)n;
  return err;
}
