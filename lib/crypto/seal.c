/* AES-256-GCM sealing of secrets at rest under a file-held master key (see kedge/seal.h). */
#include "kedge/seal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "kedge/hex.h"

#define SEAL_VERSION 0x01
#define NONCE_LEN    12
#define TAG_LEN      16

static EVP_CIPHER *aes256_gcm;
static pthread_once_t gcm_once = PTHREAD_ONCE_INIT;

static void fetch_gcm(void)
{
  aes256_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

__attribute__((format(printf, 3, 4))) static kedge_err_t why_fail(kedge_err_t err, char *why,
                                                                  const char *fmt, ...)
{
  if (why) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, 256, fmt, ap);
    va_end(ap);
  }
  return err;
}

kedge_err_t kedge_secret_file_read(const char *path, const char *what, char *buf, size_t size,
                                   size_t *len, char *why, size_t why_size)
{
  char reason[256];
  if (!path || !what || !buf || size < 2 || !len)
    return KEDGE_ERR_INVALID_ARG;
  kedge_err_t err = KEDGE_OK;
  ssize_t n = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  if (fd < 0) {
    err = why_fail(KEDGE_ERR_IO, reason, "%s: cannot open %s: %s", path, what, strerror(errno));
  } else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    err = why_fail(KEDGE_ERR_CONFIG, reason, "%s: %s is not a regular file", path, what);
  } else if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    err = why_fail(KEDGE_ERR_CONFIG, reason,
                   "%s: %s is accessible by group or others (mode %03o): chmod 600 it", path, what,
                   (unsigned)(st.st_mode & 0777));
  } else if ((n = read(fd, buf, size - 1)) < 0) {
    err = why_fail(KEDGE_ERR_IO, reason, "%s: cannot read %s: %s", path, what, strerror(errno));
  } else {
    buf[n] = '\0';
    *len = (size_t)n;
  }
  if (fd >= 0)
    close(fd);
  if (err) {
    OPENSSL_cleanse(buf, size);
    if (why && why_size)
      snprintf(why, why_size, "%s", reason);
  }
  return err;
}

kedge_err_t kedge_secret_file_create(const char *path, const char *what, const void *data,
                                     size_t len, char *why, size_t why_size)
{
  char reason[256];
  if (!path || !what || !data)
    return KEDGE_ERR_INVALID_ARG;
  kedge_err_t err = KEDGE_OK;
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    err = why_fail(KEDGE_ERR_IO, reason, "%s: cannot create %s: %s", path, what, strerror(errno));
  } else {
    if (fchmod(fd, 0600) != 0 || write(fd, data, len) != (ssize_t)len || fsync(fd) != 0)
      err = why_fail(KEDGE_ERR_IO, reason, "%s: cannot write %s: %s", path, what, strerror(errno));
    close(fd);
    if (err)
      unlink(path);
  }
  if (err && why && why_size)
    snprintf(why, why_size, "%s", reason);
  return err;
}

kedge_err_t kedge_master_key_load(const char *configured, kedge_master_key_t *mk, char *why,
                                  size_t why_size)
{
  char resolved[4096];
  if (!configured || !mk)
    return KEDGE_ERR_INVALID_ARG;
  const char *path = kedge_master_key_resolve(configured, resolved, sizeof(resolved));
  if (!path) {
    if (why && why_size)
      snprintf(why, why_size,
               "%s: no such credential: $CREDENTIALS_DIRECTORY is not set or the "
               "name is not one file name (systemd LoadCredential=)",
               configured);
    return KEDGE_ERR_CONFIG;
  }
  char text[80];
  size_t n = 0;
  kedge_err_t err =
      kedge_secret_file_read(path, "master key", text, sizeof(text), &n, why, why_size);
  if (!err) {
    if (n == 2 * KEDGE_MASTER_KEY_LEN + 1 && text[n - 1] == '\n')
      text[--n] = '\0';
    if (n != 2 * KEDGE_MASTER_KEY_LEN || kedge_hex_decode(text, mk->key, KEDGE_MASTER_KEY_LEN)) {
      err = KEDGE_ERR_CONFIG;
      if (why && why_size)
        snprintf(why, why_size, "%s: master key must be exactly 64 hex digits (32 octets)", path);
    }
  }
  OPENSSL_cleanse(text, sizeof(text));
  if (err)
    kedge_master_key_clear(mk);
  return err;
}

kedge_err_t kedge_master_key_create(const char *path, char *why, size_t why_size)
{
  if (!path)
    return KEDGE_ERR_INVALID_ARG;
  uint8_t key[KEDGE_MASTER_KEY_LEN];
  char text[2 * KEDGE_MASTER_KEY_LEN + 2];
  kedge_err_t err;
  if (RAND_priv_bytes(key, sizeof(key)) != 1) {
    err = KEDGE_ERR_CRYPTO;
    if (why && why_size)
      snprintf(why, why_size, "%s: random generator failed", path);
  } else {
    kedge_hex_encode(key, sizeof(key), text);
    text[2 * KEDGE_MASTER_KEY_LEN] = '\n';
    err = kedge_secret_file_create(path, "master key", text, sizeof(text) - 1, why, why_size);
  }
  OPENSSL_cleanse(key, sizeof(key));
  OPENSSL_cleanse(text, sizeof(text));
  return err;
}

void kedge_master_key_clear(kedge_master_key_t *mk)
{
  if (mk)
    OPENSSL_cleanse(mk->key, sizeof(mk->key));
}

static kedge_err_t seal_args(const void *keyed, const void *aad, size_t aad_len,
                             const uint8_t *plaintext, size_t len, const uint8_t *out,
                             const size_t *out_len)
{
  if (!keyed || (aad_len && !aad) || !plaintext || !out || !out_len ||
      len > KEDGE_SEAL_MAX_PLAINTEXT || aad_len > 1024)
    return KEDGE_ERR_INVALID_ARG;
  return KEDGE_OK;
}

/* Encrypts on a context with the key set: a fresh nonce, then GCM's state is new
 * (EVP_EncryptInit_ex2(3): NULL cipher and key keep the context's). */
static kedge_err_t gcm_seal(EVP_CIPHER_CTX *ctx, const void *aad, size_t aad_len,
                            const uint8_t *plaintext, size_t len, uint8_t *out, size_t *out_len)
{
  out[0] = SEAL_VERSION;
  uint8_t *nonce = out + 1, *ct = out + 1 + NONCE_LEN;
  /* A random 96-bit nonce per value: far below the 2^32 messages per key of SP 800-38D 8.3. */
  if (RAND_bytes(nonce, NONCE_LEN) != 1)
    return KEDGE_ERR_CRYPTO;
  int n = 0, fin = 0;
  if (!EVP_EncryptInit_ex2(ctx, NULL, NULL, nonce, NULL) ||
      (aad_len && !EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len)) ||
      !EVP_EncryptUpdate(ctx, ct, &n, plaintext, (int)len) ||
      !EVP_EncryptFinal_ex(ctx, ct + n, &fin) ||
      !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, ct + len))
    return KEDGE_ERR_CRYPTO;
  *out_len = len + KEDGE_SEAL_OVERHEAD;
  return KEDGE_OK;
}

/* A context with the master key's AES-256-GCM schedule (`encrypt` 1 or 0), no nonce yet. */
static EVP_CIPHER_CTX *gcm_keyed(const kedge_master_key_t *mk, int encrypt)
{
  pthread_once(&gcm_once, fetch_gcm);
  EVP_CIPHER_CTX *ctx = aes256_gcm ? EVP_CIPHER_CTX_new() : NULL;
  if (ctx && !EVP_CipherInit_ex2(ctx, aes256_gcm, mk->key, NULL, encrypt, NULL)) {
    EVP_CIPHER_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

kedge_err_t kedge_seal(const kedge_master_key_t *mk, const void *aad, size_t aad_len,
                       const uint8_t *plaintext, size_t len, uint8_t *out, size_t *out_len)
{
  kedge_err_t err = seal_args(mk, aad, aad_len, plaintext, len, out, out_len);
  if (err)
    return err;
  EVP_CIPHER_CTX *ctx = gcm_keyed(mk, 1);
  err = ctx ? gcm_seal(ctx, aad, aad_len, plaintext, len, out, out_len) : KEDGE_ERR_CRYPTO;
  EVP_CIPHER_CTX_free(ctx);
  return err;
}

/* A sealer and an unsealer are each one AES-256-GCM context with the master key's schedule (a
 * nonce per value), the handle's first and only member: made and freed by keyed_new and
 * keyed_free for both. */
struct kedge_sealer {
  EVP_CIPHER_CTX *ctx; /* encrypts */
};
struct kedge_unsealer {
  EVP_CIPHER_CTX *ctx; /* decrypts */
};
_Static_assert(offsetof(struct kedge_sealer, ctx) == 0 && offsetof(struct kedge_unsealer, ctx) == 0,
               "keyed_new fills the handle's first member");

/* A handle of `size` octets whose context is keyed to `encrypt` (1) or decrypt (0); NULL with
 * *err set when it cannot be made. */
static void *keyed_new(const kedge_master_key_t *mk, int encrypt, size_t size, kedge_err_t *err)
{
  EVP_CIPHER_CTX **ctx = calloc(1, size);
  *err = ctx ? KEDGE_OK : KEDGE_ERR_NOMEM;
  if (ctx && !(*ctx = gcm_keyed(mk, encrypt))) {
    free(ctx);
    ctx = NULL;
    *err = KEDGE_ERR_CRYPTO;
  }
  return ctx;
}

/* The provider's GCM context, key schedule included, is freed with OPENSSL_clear_free. */
static void keyed_free(void *handle)
{
  if (!handle)
    return;
  EVP_CIPHER_CTX_free(*(EVP_CIPHER_CTX **)handle);
  free(handle);
}

kedge_err_t kedge_sealer_new(const kedge_master_key_t *mk, kedge_sealer_t **out)
{
  kedge_err_t err = KEDGE_ERR_INVALID_ARG;
  if (mk && out)
    *out = keyed_new(mk, 1, sizeof(**out), &err);
  return err;
}

kedge_err_t kedge_sealer_seal(kedge_sealer_t *s, const void *aad, size_t aad_len,
                              const uint8_t *plaintext, size_t len, uint8_t *out, size_t *out_len)
{
  kedge_err_t err = seal_args(s, aad, aad_len, plaintext, len, out, out_len);
  return err ? err : gcm_seal(s->ctx, aad, aad_len, plaintext, len, out, out_len);
}

void kedge_sealer_free(kedge_sealer_t *s)
{
  keyed_free(s);
}

/* Checks an open's arguments (`keyed`: the master key or the unsealer) and the sealed value's
 * framing; *len gets its plaintext length. */
static kedge_err_t open_args(const void *keyed, const void *aad, size_t aad_len,
                             const uint8_t *sealed, size_t sealed_len, const uint8_t *out,
                             const size_t *out_len, size_t *len)
{
  if (!keyed || (aad_len && !aad) || !sealed || !out || !out_len || aad_len > 1024)
    return KEDGE_ERR_INVALID_ARG;
  if (sealed_len < KEDGE_SEAL_OVERHEAD || sealed[0] != SEAL_VERSION ||
      sealed_len - KEDGE_SEAL_OVERHEAD > KEDGE_SEAL_MAX_PLAINTEXT)
    return KEDGE_ERR_BAD_LENGTH;
  *len = sealed_len - KEDGE_SEAL_OVERHEAD;
  return KEDGE_OK;
}

/* Decrypts and verifies on a context with key and nonce set. */
static kedge_err_t gcm_open(EVP_CIPHER_CTX *ctx, const void *aad, size_t aad_len,
                            const uint8_t *sealed, size_t len, uint8_t *out, size_t *out_len)
{
  const uint8_t *ct = sealed + 1 + NONCE_LEN, *tag = ct + len;
  int n = 0, fin = 0;
  kedge_err_t err = KEDGE_OK;
  if ((aad_len && !EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len)) ||
      !EVP_DecryptUpdate(ctx, out, &n, ct, (int)len) ||
      !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, (void *)tag))
    err = KEDGE_ERR_CRYPTO;
  else if (EVP_DecryptFinal_ex(ctx, out + n, &fin) != 1)
    err = KEDGE_ERR_MAC_FAILURE; /* the tag does not verify: never release the plaintext */
  if (err)
    OPENSSL_cleanse(out, len);
  else
    *out_len = len;
  return err;
}

kedge_err_t kedge_unseal(const kedge_master_key_t *mk, const void *aad, size_t aad_len,
                         const uint8_t *sealed, size_t sealed_len, uint8_t *out, size_t *out_len)
{
  size_t len;
  kedge_err_t err = open_args(mk, aad, aad_len, sealed, sealed_len, out, out_len, &len);
  if (err)
    return err;
  EVP_CIPHER_CTX *ctx = gcm_keyed(mk, 0);
  if (!ctx || !EVP_DecryptInit_ex2(ctx, NULL, NULL, sealed + 1, NULL)) {
    EVP_CIPHER_CTX_free(ctx);
    return KEDGE_ERR_CRYPTO;
  }
  err = gcm_open(ctx, aad, aad_len, sealed, len, out, out_len);
  EVP_CIPHER_CTX_free(ctx);
  return err;
}

kedge_err_t kedge_unsealer_new(const kedge_master_key_t *mk, kedge_unsealer_t **out)
{
  kedge_err_t err = KEDGE_ERR_INVALID_ARG;
  if (mk && out)
    *out = keyed_new(mk, 0, sizeof(**out), &err);
  return err;
}

kedge_err_t kedge_unsealer_open(kedge_unsealer_t *u, const void *aad, size_t aad_len,
                                const uint8_t *sealed, size_t sealed_len, uint8_t *out,
                                size_t *out_len)
{
  size_t len;
  kedge_err_t err = open_args(u, aad, aad_len, sealed, sealed_len, out, out_len, &len);
  if (err)
    return err;
  /* the key stays, the nonce and GCM's state are new (EVP_DecryptInit_ex2(3): NULL cipher and
   * key keep the context's) */
  if (!EVP_DecryptInit_ex2(u->ctx, NULL, NULL, sealed + 1, NULL))
    return KEDGE_ERR_CRYPTO;
  return gcm_open(u->ctx, aad, aad_len, sealed, len, out, out_len);
}

void kedge_unsealer_free(kedge_unsealer_t *u)
{
  keyed_free(u);
}

/* The key-check record: a constant sealed under the master key with the store's name as
 * additional data. Opening it proves the master key is the one the store was sealed under,
 * so a wrong key is refused at start-up with one line instead of every K, OPc or Kedge failing
 * later (a UDM answering every AKA with "AUTS does not verify"). */
static const uint8_t key_check_plain[16] = "kedge key check";

static size_t key_check_aad(char *aad, size_t size, const char *store)
{
  return (size_t)snprintf(aad, size, "kedge-key-check:%s", store);
}

kedge_err_t kedge_key_check_make(const kedge_master_key_t *mk, const char *store,
                                 uint8_t out[KEDGE_KEY_CHECK_LEN], size_t *out_len)
{
  if (!store)
    return KEDGE_ERR_INVALID_ARG;
  char aad[128];
  size_t aad_len = key_check_aad(aad, sizeof(aad), store);
  return kedge_seal(mk, aad, aad_len, key_check_plain, sizeof(key_check_plain), out, out_len);
}

kedge_err_t kedge_key_check_verify(const kedge_master_key_t *mk, const char *store,
                                   const uint8_t *record, size_t len)
{
  if (!store || !record)
    return KEDGE_ERR_INVALID_ARG;
  if (len != KEDGE_KEY_CHECK_LEN)
    return KEDGE_ERR_BAD_LENGTH;
  char aad[128];
  uint8_t plain[KEDGE_SEAL_MAX_PLAINTEXT];
  size_t aad_len = key_check_aad(aad, sizeof(aad), store), n = 0;
  kedge_err_t err = kedge_unseal(mk, aad, aad_len, record, len, plain, &n);
  if (!err && (n != sizeof(key_check_plain) ||
               CRYPTO_memcmp(plain, key_check_plain, sizeof(key_check_plain)) != 0))
    err = KEDGE_ERR_MAC_FAILURE;
  OPENSSL_cleanse(plain, sizeof(plain));
  return err;
}

const char *kedge_master_key_resolve(const char *configured, char *buf, size_t size)
{
  static const char prefix[] = "credential:";
  const char *dir = getenv("CREDENTIALS_DIRECTORY");
  if (!configured)
    return NULL;
  if (strncmp(configured, prefix, sizeof(prefix) - 1) == 0) {
    /* systemd.exec(5) LoadCredential=NAME:PATH: the file appears as $CREDENTIALS_DIRECTORY/NAME,
     * readable by the service only. A name is one path component. */
    const char *name = configured + sizeof(prefix) - 1;
    if (!dir || !*dir || !*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
      return NULL;
    int n = snprintf(buf, size, "%s/%s", dir, name);
    return n > 0 && (size_t)n < size ? buf : NULL;
  }
  /* kedge's units name each master key credential after the last component of the configured
   * path, so one configuration works under systemd and by hand: the credential when the
   * service got one, else the configured file. */
  const char *name = strrchr(configured, '/');
  name = name ? name + 1 : configured;
  if (!dir || !*dir || !*name)
    return configured;
  int n = snprintf(buf, size, "%s/%s", dir, name);
  struct stat st;
  if (n < 0 || (size_t)n >= size || lstat(buf, &st) != 0)
    return configured;
  return buf;
}
