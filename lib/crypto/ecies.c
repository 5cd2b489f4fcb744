/* ECIES of TS 33.501 Annex C.3 (profiles A and B) on OpenSSL 3 EVP: X25519 or ECDH P-256,
 * EVP_KDF "X963KDF", AES-128-CTR, HMAC-SHA-256 (see kedge/ecies.h). */
#include "kedge/ecies.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

/* TS 33.501 C.3.4.1/C.3.4.2: enc key 16, ICB 16, MAC key 32 octets from the KDF. */
#define ENC_KEY_LEN 16
#define ICB_LEN     16
#define MAC_KEY_LEN 32
#define KDF_OUT_LEN (ENC_KEY_LEN + ICB_LEN + MAC_KEY_LEN)
#define SECRET_LEN  32
#define P256_NAME   "prime256v1"

struct kedge_ecies_key {
  kedge_ecies_profile_t profile;
  EVP_PKEY *pkey;
  /* ECDH context made once (EVP_PKEY_CTX_new_from_pkey + derive_init fetch the exchange each
   * time); each de-concealment works on an EVP_PKEY_CTX_dup of it, so threads never share one */
  EVP_PKEY_CTX *derive;
  uint8_t pub[KEDGE_ECIES_PUBLIC_MAX];
};

/* Algorithms fetched once: a fetch per de-concealment costs a lock and a lookup. */
static EVP_KDF *x963kdf;
static EVP_CIPHER *aes128_ctr;
static EVP_MAC *hmac;
static EC_GROUP *p256;
/* A public key of each curve (the base point) that peer_key() copies and gives the peer's
 * point: EVP_PKEY_dup + EVP_PKEY_set1_encoded_public_key skip the key manager fetch and, for
 * P-256, the group set-up that EVP_PKEY_fromdata pays on every call. */
static EVP_PKEY *peer_template[3];
/* Each thread keeps one peer EVP_PKEY per curve and sets the next peer's point into it: even
 * EVP_PKEY_dup looks the key type up by name (a hash walk under a lock), about 5% of a
 * profile A de-concealment. Freed by the key's destructor when the thread ends. */
static pthread_key_t peer_cache_key;
static bool peer_cache_ok;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

typedef struct peer_cache {
  EVP_PKEY *key[3];
} peer_cache_t;

static void peer_cache_free(void *arg)
{
  peer_cache_t *c = arg;
  EVP_PKEY_free(c->key[1]);
  EVP_PKEY_free(c->key[2]);
  free(c);
}

static kedge_err_t p256_public(const uint8_t priv[KEDGE_ECIES_PRIVATE_LEN], BIGNUM **d_out,
                               uint8_t pub[KEDGE_ECIES_PUBLIC_B_LEN]);
static EVP_PKEY *p256_pkey(const BIGNUM *d, const uint8_t *pub, size_t pub_len);

static void fetch_algorithms(void)
{
  x963kdf = EVP_KDF_fetch(NULL, "X963KDF", NULL);
  aes128_ctr = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
  hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  uint8_t one[KEDGE_ECIES_PRIVATE_LEN] = {0}, g[KEDGE_ECIES_PUBLIC_B_LEN], u9[32] = {9};
  one[KEDGE_ECIES_PRIVATE_LEN - 1] = 1;
  peer_template[KEDGE_ECIES_PROFILE_A] =
      EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, u9, 32);
  if (p256 && p256_public(one, NULL, g) == KEDGE_OK)
    peer_template[KEDGE_ECIES_PROFILE_B] = p256_pkey(NULL, g, sizeof(g));
  peer_cache_ok = pthread_key_create(&peer_cache_key, peer_cache_free) == 0;
}

static bool algorithms(void)
{
  pthread_once(&fetch_once, fetch_algorithms);
  return x963kdf && aes128_ctr && hmac && p256 && peer_template[1] && peer_template[2] &&
         peer_cache_ok;
}

size_t kedge_ecies_public_len(kedge_ecies_profile_t profile)
{
  return profile == KEDGE_ECIES_PROFILE_A   ? KEDGE_ECIES_PUBLIC_A_LEN
         : profile == KEDGE_ECIES_PROFILE_B ? KEDGE_ECIES_PUBLIC_B_LEN
                                            : 0;
}

kedge_err_t kedge_ecies_profile_parse(const char *text, kedge_ecies_profile_t *profile)
{
  if (!text || !profile)
    return KEDGE_ERR_INVALID_ARG;
  if (!strcmp(text, "A"))
    *profile = KEDGE_ECIES_PROFILE_A;
  else if (!strcmp(text, "B"))
    *profile = KEDGE_ECIES_PROFILE_B;
  else
    return KEDGE_ERR_INVALID_ARG;
  return KEDGE_OK;
}

const char *kedge_ecies_profile_name(kedge_ecies_profile_t profile)
{
  return profile == KEDGE_ECIES_PROFILE_A ? "A" : profile == KEDGE_ECIES_PROFILE_B ? "B" : "?";
}

/* P-256: d in 1..n-1, and Q = dG compressed. */
static kedge_err_t p256_public(const uint8_t priv[KEDGE_ECIES_PRIVATE_LEN], BIGNUM **d_out,
                               uint8_t pub[KEDGE_ECIES_PUBLIC_B_LEN])
{
  kedge_err_t err = KEDGE_ERR_CRYPTO;
  BN_CTX *bn = BN_CTX_new();
  BIGNUM *d = BN_secure_new();
  EC_POINT *q = EC_POINT_new(p256);
  if (!bn || !d || !q || !BN_bin2bn(priv, KEDGE_ECIES_PRIVATE_LEN, d))
    goto out;
  if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(p256)) >= 0) {
    err = KEDGE_ERR_BAD_LENGTH;
    goto out;
  }
  BN_set_flags(d, BN_FLG_CONSTTIME);
  if (EC_POINT_mul(p256, q, d, NULL, NULL, bn) != 1 ||
      EC_POINT_point2oct(p256, q, POINT_CONVERSION_COMPRESSED, pub, KEDGE_ECIES_PUBLIC_B_LEN, bn) !=
          KEDGE_ECIES_PUBLIC_B_LEN)
    goto out;
  err = KEDGE_OK;
  if (d_out) {
    *d_out = d;
    d = NULL;
  }
out:
  BN_clear_free(d);
  EC_POINT_free(q);
  BN_CTX_free(bn);
  return err;
}

/* An EVP_PKEY of P-256 from parameters (a private d with its public point, or a point only). */
static EVP_PKEY *p256_pkey(const BIGNUM *d, const uint8_t *pub, size_t pub_len)
{
  EVP_PKEY *pkey = NULL;
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  if (!bld || !ctx ||
      !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, P256_NAME, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, pub_len) ||
      (d && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d)) ||
      !(params = OSSL_PARAM_BLD_to_param(bld)) || EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &pkey, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
    pkey = NULL;
  OSSL_PARAM_free(params); /* OSSL_PARAM_BLD_to_param keeps BIGNUMs in secure memory */
  OSSL_PARAM_BLD_free(bld);
  EVP_PKEY_CTX_free(ctx);
  return pkey;
}

static EVP_PKEY_CTX *derive_ctx(EVP_PKEY *own)
{
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, own, NULL);
  if (ctx && EVP_PKEY_derive_init(ctx) == 1)
    return ctx;
  EVP_PKEY_CTX_free(ctx);
  return NULL;
}

kedge_err_t kedge_ecies_public_key(kedge_ecies_profile_t profile,
                                   const uint8_t priv[KEDGE_ECIES_PRIVATE_LEN], uint8_t *pub,
                                   size_t *pub_len)
{
  if (!priv || !pub || !pub_len || !kedge_ecies_public_len(profile))
    return KEDGE_ERR_INVALID_ARG;
  if (!algorithms())
    return KEDGE_ERR_CRYPTO;
  if (profile == KEDGE_ECIES_PROFILE_B) {
    kedge_err_t err = p256_public(priv, NULL, pub);
    if (!err)
      *pub_len = KEDGE_ECIES_PUBLIC_B_LEN;
    return err;
  }
  EVP_PKEY *pkey =
      EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv, KEDGE_ECIES_PRIVATE_LEN);
  size_t len = KEDGE_ECIES_PUBLIC_A_LEN;
  kedge_err_t err =
      pkey && EVP_PKEY_get_raw_public_key(pkey, pub, &len) == 1 ? KEDGE_OK : KEDGE_ERR_CRYPTO;
  EVP_PKEY_free(pkey);
  if (!err)
    *pub_len = len;
  return err;
}

kedge_err_t kedge_ecies_keygen(kedge_ecies_profile_t profile, uint8_t priv[KEDGE_ECIES_PRIVATE_LEN],
                               uint8_t *pub, size_t *pub_len)
{
  if (!priv || !pub || !pub_len || !kedge_ecies_public_len(profile))
    return KEDGE_ERR_INVALID_ARG;
  /* A P-256 scalar drawn this way is >= n with probability about 2^-32: draw again. */
  for (int tries = 0; tries < 8; tries++) {
    if (RAND_priv_bytes(priv, KEDGE_ECIES_PRIVATE_LEN) != 1)
      return KEDGE_ERR_CRYPTO;
    kedge_err_t err = kedge_ecies_public_key(profile, priv, pub, pub_len);
    if (err != KEDGE_ERR_BAD_LENGTH) {
      if (err)
        OPENSSL_cleanse(priv, KEDGE_ECIES_PRIVATE_LEN);
      return err;
    }
  }
  OPENSSL_cleanse(priv, KEDGE_ECIES_PRIVATE_LEN);
  return KEDGE_ERR_CRYPTO;
}

kedge_err_t kedge_ecies_key_new(kedge_ecies_profile_t profile,
                                const uint8_t priv[KEDGE_ECIES_PRIVATE_LEN],
                                kedge_ecies_key_t **key)
{
  if (!priv || !key || !kedge_ecies_public_len(profile))
    return KEDGE_ERR_INVALID_ARG;
  *key = NULL;
  if (!algorithms())
    return KEDGE_ERR_CRYPTO;
  kedge_ecies_key_t *k = calloc(1, sizeof(*k));
  if (!k)
    return KEDGE_ERR_NOMEM;
  k->profile = profile;
  kedge_err_t err = KEDGE_OK;
  if (profile == KEDGE_ECIES_PROFILE_A) {
    size_t len = KEDGE_ECIES_PUBLIC_A_LEN;
    k->pkey = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv, KEDGE_ECIES_PRIVATE_LEN);
    if (!k->pkey || EVP_PKEY_get_raw_public_key(k->pkey, k->pub, &len) != 1)
      err = KEDGE_ERR_CRYPTO;
  } else {
    BIGNUM *d = NULL;
    err = p256_public(priv, &d, k->pub);
    if (!err && !(k->pkey = p256_pkey(d, k->pub, KEDGE_ECIES_PUBLIC_B_LEN)))
      err = KEDGE_ERR_CRYPTO;
    BN_clear_free(d);
  }
  if (!err && !(k->derive = derive_ctx(k->pkey)))
    err = KEDGE_ERR_CRYPTO;
  if (err) {
    kedge_ecies_key_free(k);
    return err;
  }
  *key = k;
  return KEDGE_OK;
}

kedge_err_t kedge_ecies_key_random(kedge_ecies_profile_t profile, kedge_ecies_key_t **key)
{
  uint8_t priv[KEDGE_ECIES_PRIVATE_LEN], pub[KEDGE_ECIES_PUBLIC_MAX];
  size_t pub_len;
  kedge_err_t err = kedge_ecies_keygen(profile, priv, pub, &pub_len);
  if (!err)
    err = kedge_ecies_key_new(profile, priv, key);
  OPENSSL_cleanse(priv, sizeof(priv));
  return err;
}

void kedge_ecies_key_free(kedge_ecies_key_t *key)
{
  if (!key)
    return;
  EVP_PKEY_CTX_free(key->derive);
  EVP_PKEY_free(key->pkey); /* OpenSSL clears the private key it holds */
  OPENSSL_cleanse(key, sizeof(*key));
  free(key);
}

kedge_ecies_profile_t kedge_ecies_key_profile(const kedge_ecies_key_t *key)
{
  return key->profile;
}

kedge_err_t kedge_ecies_key_public(const kedge_ecies_key_t *key, uint8_t *pub, size_t *pub_len)
{
  if (!key || !pub || !pub_len)
    return KEDGE_ERR_INVALID_ARG;
  *pub_len = kedge_ecies_public_len(key->profile);
  memcpy(pub, key->pub, *pub_len);
  return KEDGE_OK;
}

/* The peer's public key: a raw X25519 key, or a P-256 point, compressed for the ephemeral key
 * of profile B (C.3.4.2) and accepted compressed for the home network key. EVP_PKEY_fromdata
 * decodes the point with EC_POINT_oct2point, which refuses one not on the curve; P-256 has
 * cofactor 1, so such a point is in the prime-order group and needs no further check. */
static EVP_PKEY *peer_key(kedge_ecies_profile_t profile, const uint8_t *pub, size_t len)
{
  if (len != kedge_ecies_public_len(profile) ||
      (profile == KEDGE_ECIES_PROFILE_B && pub[0] != 0x02 && pub[0] != 0x03))
    return NULL;
  peer_cache_t *c = pthread_getspecific(peer_cache_key);
  if (!c) {
    if (!(c = calloc(1, sizeof(*c))))
      return NULL;
    if (pthread_setspecific(peer_cache_key, c) != 0) {
      free(c);
      return NULL;
    }
  }
  EVP_PKEY **key = &c->key[profile];
  if (!*key && !(*key = EVP_PKEY_dup(peer_template[profile])))
    return NULL;
  if (EVP_PKEY_set1_encoded_public_key(*key, pub, len) == 1 && EVP_PKEY_up_ref(*key) == 1)
    return *key; /* the caller's reference, as if new */
  /* a refused point may leave the key half set: start from the template next time */
  EVP_PKEY_free(*key);
  *key = NULL;
  return NULL;
}

/* Z = ECDH(own, peer) on a copy of `tmpl` (a derive context of the own key); for X25519
 * OpenSSL refuses an all-zero Z (a small-order peer key). */
static kedge_err_t shared_secret(const EVP_PKEY_CTX *tmpl, EVP_PKEY *peer, uint8_t z[SECRET_LEN])
{
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_dup(tmpl);
  size_t len = SECRET_LEN;
  /* validate_peer 0: peer_key() has checked the point already (a second check costs a
   * scalar multiplication on P-256). */
  kedge_err_t err = ctx && EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) == 1 &&
                            EVP_PKEY_derive(ctx, z, &len) == 1 && len == SECRET_LEN
                        ? KEDGE_OK
                        : KEDGE_ERR_MAC_FAILURE;
  EVP_PKEY_CTX_free(ctx);
  return err;
}

/* TS 33.501 C.3.4: ANSI X9.63 KDF (SHA-256) of Z with SharedInfo1 = the ephemeral public key. */
static kedge_err_t kdf(const uint8_t z[SECRET_LEN], const uint8_t *eph_pub, size_t eph_len,
                       uint8_t out[KDF_OUT_LEN])
{
  EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(x963kdf);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)z, SECRET_LEN),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)eph_pub, eph_len),
      OSSL_PARAM_construct_end(),
  };
  kedge_err_t err =
      ctx && EVP_KDF_derive(ctx, out, KDF_OUT_LEN, params) == 1 ? KEDGE_OK : KEDGE_ERR_CRYPTO;
  EVP_KDF_CTX_free(ctx);
  return err;
}

/* AES-128-CTR with the ICB as the initial counter block (encryption and decryption alike). */
static kedge_err_t aes_ctr(const uint8_t keys[KDF_OUT_LEN], const uint8_t *in, size_t len,
                           uint8_t *out)
{
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int n = 0, m = 0;
  kedge_err_t err =
      ctx && EVP_EncryptInit_ex2(ctx, aes128_ctr, keys, keys + ENC_KEY_LEN, NULL) == 1 &&
              EVP_EncryptUpdate(ctx, out, &n, in, (int)len) == 1 &&
              EVP_EncryptFinal_ex(ctx, out + n, &m) == 1 && (size_t)(n + m) == len
          ? KEDGE_OK
          : KEDGE_ERR_CRYPTO;
  EVP_CIPHER_CTX_free(ctx);
  return err;
}

/* HMAC-SHA-256 over the ciphertext, truncated to 8 octets. */
static kedge_err_t mac_tag(const uint8_t keys[KDF_OUT_LEN], const uint8_t *cipher, size_t len,
                           uint8_t tag[KEDGE_ECIES_MAC_LEN])
{
  uint8_t full[32];
  size_t full_len = 0;
  EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
      OSSL_PARAM_construct_end(),
  };
  kedge_err_t err =
      ctx && EVP_MAC_init(ctx, keys + ENC_KEY_LEN + ICB_LEN, MAC_KEY_LEN, params) == 1 &&
              EVP_MAC_update(ctx, cipher, len) == 1 &&
              EVP_MAC_final(ctx, full, &full_len, sizeof(full)) == 1 && full_len == 32
          ? KEDGE_OK
          : KEDGE_ERR_CRYPTO;
  EVP_MAC_CTX_free(ctx);
  if (!err)
    memcpy(tag, full, KEDGE_ECIES_MAC_LEN);
  OPENSSL_cleanse(full, sizeof(full));
  return err;
}

kedge_err_t kedge_ecies_conceal(kedge_ecies_profile_t profile, const uint8_t *hn_pub,
                                size_t hn_pub_len, const uint8_t *eph_priv, const uint8_t *in,
                                size_t in_len, uint8_t *out, size_t *out_len)
{
  size_t pub_len = kedge_ecies_public_len(profile);
  if (!pub_len || !hn_pub || (!in && in_len) || !out || !out_len)
    return KEDGE_ERR_INVALID_ARG;
  if (hn_pub_len != pub_len || in_len > KEDGE_ECIES_PLAINTEXT_MAX)
    return KEDGE_ERR_BAD_LENGTH;
  if (!algorithms())
    return KEDGE_ERR_CRYPTO;
  uint8_t z[SECRET_LEN], keys[KDF_OUT_LEN];
  kedge_ecies_key_t *eph = NULL;
  EVP_PKEY *hn = peer_key(profile, hn_pub, hn_pub_len);
  kedge_err_t err = hn ? KEDGE_OK : KEDGE_ERR_BAD_LENGTH;
  if (!err)
    err = eph_priv ? kedge_ecies_key_new(profile, eph_priv, &eph)
                   : kedge_ecies_key_random(profile, &eph);
  if (!err && shared_secret(eph->derive, hn, z) != KEDGE_OK)
    err = KEDGE_ERR_BAD_LENGTH; /* a small-order home network key */
  if (!err)
    err = kdf(z, eph->pub, pub_len, keys);
  if (!err) {
    memcpy(out, eph->pub, pub_len);
    err = aes_ctr(keys, in, in_len, out + pub_len);
  }
  if (!err)
    err = mac_tag(keys, out + pub_len, in_len, out + pub_len + in_len);
  if (!err)
    *out_len = pub_len + in_len + KEDGE_ECIES_MAC_LEN;
  OPENSSL_cleanse(z, sizeof(z));
  OPENSSL_cleanse(keys, sizeof(keys));
  kedge_ecies_key_free(eph);
  EVP_PKEY_free(hn);
  return err;
}

kedge_err_t kedge_ecies_deconceal(const kedge_ecies_key_t *key, const uint8_t *scheme_output,
                                  size_t len, uint8_t *plain, size_t *plain_len)
{
  if (!key || !scheme_output || !plain || !plain_len)
    return KEDGE_ERR_INVALID_ARG;
  size_t pub_len = kedge_ecies_public_len(key->profile);
  if (len < pub_len + KEDGE_ECIES_MAC_LEN ||
      len - pub_len - KEDGE_ECIES_MAC_LEN > KEDGE_ECIES_PLAINTEXT_MAX)
    return KEDGE_ERR_BAD_LENGTH;
  const uint8_t *cipher = scheme_output + pub_len;
  size_t cipher_len = len - pub_len - KEDGE_ECIES_MAC_LEN;
  uint8_t z[SECRET_LEN], keys[KDF_OUT_LEN], tag[KEDGE_ECIES_MAC_LEN];
  EVP_PKEY *eph = peer_key(key->profile, scheme_output, pub_len);
  kedge_err_t err = eph ? shared_secret(key->derive, eph, z) : KEDGE_ERR_MAC_FAILURE;
  if (!err)
    err = kdf(z, scheme_output, pub_len, keys);
  if (!err)
    err = mac_tag(keys, cipher, cipher_len, tag);
  /* TS 33.501 C.3.3: the MAC is checked before anything is decrypted */
  if (!err && CRYPTO_memcmp(tag, cipher + cipher_len, KEDGE_ECIES_MAC_LEN) != 0)
    err = KEDGE_ERR_MAC_FAILURE;
  if (!err)
    err = aes_ctr(keys, cipher, cipher_len, plain);
  if (!err)
    *plain_len = cipher_len;
  OPENSSL_cleanse(z, sizeof(z));
  OPENSSL_cleanse(keys, sizeof(keys));
  EVP_PKEY_free(eph);
  return err;
}
