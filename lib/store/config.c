/* The key store's part of a daemon's configuration and its secrets (kedge/keystore.h): one
 * reader for every daemon that keeps keys (the AUSF's edge keys, the AAnF's anchor keys). */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "kedge/keystore.h"
#include "kedge/secret_file.h"

kedge_err_t kedge_keystore_config_read(kedge_config_node_t *root, kedge_keystore_config_t *c)
{
  kedge_config_node_t *redis = NULL, *sqlite = NULL;
  int64_t ms = 0, pages = 0;
  kedge_err_t err = KEDGE_OK;
  KEDGE_CONFIG_KEEP(err, kedge_config_string(root, "keystore", "memory:", &c->uri));
  char why[256];
  if (c->uri && kedge_keystore_uri_check(c->uri, why, sizeof(why)))
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(root, "keystore", "%s", why));
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "redis", &redis));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(redis, "user", NULL, &c->opts.redis_user));
  KEDGE_CONFIG_KEEP(err,
                    kedge_config_string(redis, "password_file", NULL, &c->redis_password_file));
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(redis, "connect_timeout", 1000, 10, 60000, &ms));
  c->opts.connect_timeout_ms = (unsigned)ms;
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(redis, "timeout", 1000, 10, 60000, &ms));
  c->opts.op_timeout_ms = (unsigned)ms;
  /* the writer's background WAL checkpoint (docs/keystore.md) */
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "sqlite", &sqlite));
  KEDGE_CONFIG_KEEP(err,
                    kedge_config_int(sqlite, "wal_checkpoint_pages", 8192, 1, 1000000, &pages));
  c->opts.wal_checkpoint_pages = (unsigned)pages;
  return err;
}

kedge_err_t kedge_keystore_config_check_master_key(const kedge_keystore_config_t *c,
                                                   kedge_config_node_t *node, const char *key)
{
  if (!c->master_key_file && c->uri && strcmp(c->uri, "memory:") != 0)
    return kedge_config_require(node, key);
  return KEDGE_OK;
}

kedge_err_t kedge_keystore_config_load_secrets(kedge_keystore_config_t *c, char *why,
                                               size_t why_size)
{
  kedge_err_t err = KEDGE_OK;
  if (c->master_key_file)
    err = kedge_master_key_load(c->master_key_file, &c->master_key, why, why_size);
  else if (RAND_priv_bytes(c->master_key.key, sizeof(c->master_key.key)) != 1)
    err = KEDGE_ERR_CRYPTO;
  if (err || !c->redis_password_file)
    return err;
  /* issue 12: a file others may read is refused, one line naming it */
  err = kedge_secret_line_read(c->redis_password_file, "the Redis password", c->redis_password,
                               sizeof(c->redis_password), why, why_size);
  if (err)
    return err == KEDGE_ERR_IO || err == KEDGE_ERR_FORBIDDEN ? KEDGE_ERR_CONFIG : err;
  c->opts.redis_password = c->redis_password;
  return KEDGE_OK;
}

void kedge_keystore_config_clear(kedge_keystore_config_t *c)
{
  kedge_master_key_clear(&c->master_key);
  OPENSSL_cleanse(c->redis_password, sizeof(c->redis_password));
}
