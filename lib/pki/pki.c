/* The development PKI (docs/pki.md): a CA and per-identity certificates built with the OpenSSL 3
 * API. Certificates follow the RFC 5280 profile; every file is written under a temporary name
 * and linked into place, so a reader never sees half a file and nothing is ever replaced. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "kedge/pki.h"

#define CA_CN            "kedge development CA"
#define CA_DAYS          3650 /* outlives every leaf it signs */
#define LEAF_DAYS        825 /* the CA/Browser Forum ceiling of 2018; long enough for a dev setup */
#define BACKDATE_SECONDS 300 /* tolerate clocks a little behind the one that issued */
#define SERIAL_OCTETS    16  /* RFC 5280 4.1.2.2: positive, unique, at most 20 octets */
#define LABEL_MAX        63  /* RFC 1035 2.3.4 */
#define CN_MAX           64  /* RFC 5280 appendix A: ub-common-name */
#define MAX_FILES        (2 + 2 * 6)

const char *const kedge_pki_default_names[] = {"udm", "ausf", "nef", "ecs", "af", "seaf", NULL};

static _Thread_local char last_error[320];

/* Files written by the current call, removed again if the call fails (all or nothing). */
struct written {
  char path[MAX_FILES][PATH_MAX];
  size_t count;
};

static kedge_err_t fail(kedge_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static kedge_err_t fail(kedge_err_t err, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return err;
}

/* An OpenSSL failure: name what we were doing plus OpenSSL's reason, then clear its queue so
 * the next call starts clean. OpenSSL reason strings never contain key material. */
static kedge_err_t fail_ssl(const char *what)
{
  unsigned long e = ERR_peek_last_error();
  const char *reason = e ? ERR_reason_error_string(e) : NULL;
  kedge_err_t err = ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE ? KEDGE_ERR_NOMEM : KEDGE_ERR_CRYPTO;
  ERR_clear_error();
  return fail(err, "%s failed%s%s", what, reason ? ": " : "", reason ? reason : "");
}

const char *kedge_pki_last_error(void)
{
  return last_error;
}

/* DIR/NAME + ext, without doubling a trailing slash of DIR. */
static kedge_err_t join(char *out, const char *dir, const char *name, const char *ext)
{
  size_t len = strlen(dir);
  while (len > 1 && dir[len - 1] == '/')
    len--;
  int n = snprintf(out, PATH_MAX, "%.*s%s%s%s", (int)len, dir, dir[len - 1] == '/' ? "" : "/", name,
                   ext);
  if (n < 0 || n >= PATH_MAX)
    return fail(KEDGE_ERR_IO, "%.*s...: path too long", 64, dir);
  return KEDGE_OK;
}

static bool all_digits(const char *s, size_t len)
{
  for (size_t i = 0; i < len; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return true;
}

/* A name goes into a file name and a certificate, so accept only the preferred DNS name
 * syntax (RFC 1035 2.3.1, as relaxed by RFC 1123 2.1), lower case as kedge writes it. */
static kedge_err_t check_name(const char *name)
{
  size_t len = strnlen(name, KEDGE_PKI_NAME_MAX + 1);
  if (len == 0)
    return fail(KEDGE_ERR_INVALID_ARG, "empty identity name");
  if (len > KEDGE_PKI_NAME_MAX)
    return fail(KEDGE_ERR_INVALID_ARG, "identity name longer than %d characters",
                KEDGE_PKI_NAME_MAX);
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
      /* Echo the character only if it is printable: the name comes from the command line. */
      if (c > ' ' && c < 0x7f)
        return fail(KEDGE_ERR_INVALID_ARG,
                    "identity name: '%c' not allowed (use a-z, 0-9, '-' and '.')", c);
      return fail(KEDGE_ERR_INVALID_ARG,
                  "identity name: non-ASCII, space or control character not allowed "
                  "(use a-z, 0-9, '-' and '.')");
    }
  }
  const char *label = name;
  for (;;) {
    const char *dot = strchr(label, '.');
    size_t n = dot ? (size_t)(dot - label) : strlen(label);
    if (n == 0)
      return fail(KEDGE_ERR_INVALID_ARG, "identity name \"%s\": empty label", name);
    if (n > LABEL_MAX)
      return fail(KEDGE_ERR_INVALID_ARG, "identity name \"%s\": label longer than %d characters",
                  name, LABEL_MAX);
    if (label[0] == '-' || label[n - 1] == '-')
      return fail(KEDGE_ERR_INVALID_ARG,
                  "identity name \"%s\": a label must not start or end with '-'", name);
    if (!dot) {
      /* RFC 3696 2: a top-level label is never all digits, so 127.0.0.1 is no DNS name. */
      if (label != name && all_digits(label, n))
        return fail(KEDGE_ERR_INVALID_ARG, "identity name \"%s\": last label is all digits", name);
      break;
    }
    label = dot + 1;
  }
  if (strcmp(name, "ca") == 0)
    return fail(KEDGE_ERR_INVALID_ARG, "identity name \"ca\" is reserved for the CA files");
  return KEDGE_OK;
}

static kedge_err_t check_absent(const char *path, const char *why)
{
  struct stat st;
  if (lstat(path, &st) == 0)
    return fail(KEDGE_ERR_IO, "%s already exists; %s", path, why);
  if (errno != ENOENT)
    return fail(KEDGE_ERR_IO, "%s: %s", path, strerror(errno));
  return KEDGE_OK;
}

static kedge_err_t add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
  X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
  if (!ext)
    return fail_ssl(OBJ_nid2sn(nid));
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok ? KEDGE_OK : fail_ssl(OBJ_nid2sn(nid));
}

static kedge_err_t set_random_serial(X509 *cert)
{
  unsigned char octets[SERIAL_OCTETS];
  if (RAND_bytes(octets, sizeof octets) != 1)
    return fail_ssl("random serial number");
  octets[sizeof octets - 1] |= 1; /* RFC 5280 4.1.2.2: positive, so never zero */
  BIGNUM *bn = BN_bin2bn(octets, sizeof octets, NULL);
  ASN1_INTEGER *serial = bn ? BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) : NULL;
  BN_free(bn);
  return serial ? KEDGE_OK : fail_ssl("serial number");
}

/* Builds and signs a certificate for `key`. With issuer == NULL: the self-signed CA.
 * Otherwise a leaf named `dns` (SAN DNS + CN) for both TLS roles of an SBI peer. */
static kedge_err_t make_cert(EVP_PKEY *key, const char *dns, X509 *issuer, EVP_PKEY *issuer_key,
                             X509 **out)
{
  kedge_err_t err = KEDGE_ERR_CRYPTO;
  char san[KEDGE_PKI_NAME_MAX + 32];
  X509 *cert = X509_new();
  if (!cert)
    return fail_ssl("X509_new");
  if (!X509_set_version(cert, X509_VERSION_3)) {
    err = fail_ssl("certificate version");
    goto done;
  }
  if ((err = set_random_serial(cert)))
    goto done;

  if (!X509_gmtime_adj(X509_getm_notBefore(cert), -BACKDATE_SECONDS) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert), issuer ? LEAF_DAYS : CA_DAYS, 0, NULL)) {
    err = fail_ssl("validity");
    goto done;
  }
  /* A leaf never outlives its CA (RFC 5280 6.1.3 checks every certificate in the path). */
  if (issuer && ASN1_TIME_compare(X509_get0_notAfter(cert), X509_get0_notAfter(issuer)) > 0 &&
      !X509_set1_notAfter(cert, X509_get0_notAfter(issuer))) {
    err = fail_ssl("validity");
    goto done;
  }

  /* RFC 5280 appendix A: a CN holds at most 64 characters (ub-common-name). A longer DNS name
   * lives in the SAN alone, with an empty subject and a critical SAN (RFC 5280 4.2.1.6). */
  const char *cn = issuer ? dns : CA_CN;
  bool has_cn = strlen(cn) <= CN_MAX;
  X509_NAME *subject = X509_get_subject_name(cert);
  if ((has_cn && !X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, (const unsigned char *)cn,
                                             -1, -1, 0)) ||
      !X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : subject) ||
      !X509_set_pubkey(cert, key)) {
    err = fail_ssl("certificate subject");
    goto done;
  }

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
  if (!issuer) {
    /* RFC 5280 4.2.1.9 and 4.2.1.3: a CA that signs certificates and CRLs, nothing else. */
    if ((err = add_ext(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE")) ||
        (err = add_ext(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign")))
      goto done;
  } else {
    /* keyEncipherment only makes sense for RSA key transport; ECDSA keys sign only. */
    bool rsa = EVP_PKEY_is_a(key, "RSA");
    /* The name was checked by check_name(): no ',' or ':' can alter this value. */
    snprintf(san, sizeof san, "%sDNS:%s,IP:127.0.0.1", has_cn ? "" : "critical,", dns);
    if ((err = add_ext(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE")) ||
        (err = add_ext(cert, &ctx, NID_key_usage,
                       rsa ? "critical,digitalSignature,keyEncipherment"
                           : "critical,digitalSignature")) ||
        (err = add_ext(cert, &ctx, NID_ext_key_usage, "clientAuth,serverAuth")) ||
        (err = add_ext(cert, &ctx, NID_subject_alt_name, san)))
      goto done;
  }
  /* RFC 5280 4.2.1.2 and 4.2.1.1: key identifiers let a verifier pick the right CA key. The
   * subject key identifier goes first: for the CA, the authority one is derived from it. */
  if ((err = add_ext(cert, &ctx, NID_subject_key_identifier, "hash")) ||
      (err = add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always")))
    goto done;

  if (X509_sign(cert, issuer ? issuer_key : key, EVP_sha256()) <= 0) {
    err = fail_ssl("signing the certificate");
    goto done;
  }
  *out = cert;
  return KEDGE_OK;
done:
  X509_free(cert);
  return err;
}

/* Writes one PEM file: to a temporary name created O_CREAT|O_EXCL at 0600 (so a key is never
 * readable by others, not even for a moment), then hard-linked to `path`. link(2) fails if
 * `path` exists, so even a file appearing after our checks is never replaced. */
static kedge_err_t write_pem(const char *path, mode_t mode, X509 *cert, EVP_PKEY *key,
                             struct written *w)
{
  /* The temporary name sits in the same directory (link(2) cannot cross file systems) and does
   * not grow with NAME, so any NAME.key that fits in a file name has a temporary name too. */
  char tmp[PATH_MAX];
  size_t dir_len = (size_t)(strrchr(path, '/') - path);
  if (snprintf(tmp, sizeof tmp, "%.*s/.kedge-pki-XXXXXX", (int)dir_len, path) >= (int)sizeof tmp)
    return fail(KEDGE_ERR_IO, "%s: path too long", path);
  int fd = mkostemp(tmp, O_CLOEXEC); /* O_RDWR|O_CREAT|O_EXCL, mode 0600 */
  if (fd < 0)
    return fail(KEDGE_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));

  kedge_err_t err = KEDGE_OK;
  BIO *bio = NULL;
  if (fchmod(fd, mode) != 0) { /* exact mode whatever the umask; 0600 never widens */
    err = fail(KEDGE_ERR_IO, "%s: %s", tmp, strerror(errno));
    goto done;
  }
  bio = BIO_new_fd(fd, BIO_NOCLOSE);
  if (!bio) {
    err = fail_ssl("BIO_new_fd");
    goto done;
  }
  /* Keys: unencrypted PKCS#8 ("BEGIN PRIVATE KEY"), which every TLS library loads. */
  int ok = cert ? PEM_write_bio_X509(bio, cert)
                : PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
  if (!ok || BIO_flush(bio) != 1) {
    err = fail(KEDGE_ERR_IO, "writing %s failed", path);
    ERR_clear_error();
    goto done;
  }
  if (fsync(fd) != 0)
    err = fail(KEDGE_ERR_IO, "%s: %s", tmp, strerror(errno));
done:
  BIO_free(bio);
  if (close(fd) != 0 && !err)
    err = fail(KEDGE_ERR_IO, "%s: %s", tmp, strerror(errno));
  if (!err && link(tmp, path) != 0)
    err = errno == EEXIST ? fail(KEDGE_ERR_IO, "%s already exists; not replacing it", path)
                          : fail(KEDGE_ERR_IO, "cannot create %s: %s", path, strerror(errno));
  if (!err && w->count < MAX_FILES)
    memcpy(w->path[w->count++], path, strlen(path) + 1);
  unlink(tmp);
  return err;
}

static void remove_written(struct written *w)
{
  for (size_t i = 0; i < w->count; i++)
    unlink(w->path[i]);
  w->count = 0;
}

/* FILE -> DIR/FILE.key + DIR/FILE.crt for `dns`, signed by the CA. The key goes first: a
 * certificate file without its key would look usable and is not. */
static kedge_err_t issue_one(const char *dir, const char *file, const char *dns, X509 *ca,
                             EVP_PKEY *ca_key, struct written *w)
{
  char key_path[PATH_MAX], crt_path[PATH_MAX];
  kedge_err_t err;
  if ((err = join(key_path, dir, file, ".key")) || (err = join(crt_path, dir, file, ".crt")))
    return err;
  EVP_PKEY *key = EVP_EC_gen("P-256");
  if (!key)
    return fail_ssl("EC P-256 key generation");
  X509 *cert = NULL;
  if (!(err = make_cert(key, dns, ca, ca_key, &cert)) &&
      !(err = write_pem(key_path, 0600, NULL, key, w)))
    err = write_pem(crt_path, 0644, cert, NULL, w);
  X509_free(cert);
  EVP_PKEY_free(key); /* frees (and clears) the private key */
  return err;
}

static kedge_err_t init_files(const char *dir, struct written *w)
{
  char path[PATH_MAX];
  kedge_err_t err;
  if ((err = join(path, dir, "ca", ".crt")) ||
      (err = check_absent(path, "kedge pki init never replaces a CA")) ||
      (err = join(path, dir, "ca", ".key")) || (err = check_absent(path, "not replacing it")))
    return err;
  for (const char *const *name = kedge_pki_default_names; *name; name++)
    if ((err = join(path, dir, *name, ".key")) || (err = check_absent(path, "not replacing it")) ||
        (err = join(path, dir, *name, ".crt")) || (err = check_absent(path, "not replacing it")))
      return err;

  EVP_PKEY *ca_key = EVP_EC_gen("P-256");
  if (!ca_key)
    return fail_ssl("EC P-256 key generation");
  X509 *ca = NULL;
  char dns[LABEL_MAX + sizeof "." KEDGE_PKI_DOMAIN];
  if ((err = make_cert(ca_key, NULL, NULL, NULL, &ca)) || (err = join(path, dir, "ca", ".key")) ||
      (err = write_pem(path, 0600, NULL, ca_key, w)) || (err = join(path, dir, "ca", ".crt")) ||
      (err = write_pem(path, 0644, ca, NULL, w)))
    goto done;
  for (const char *const *name = kedge_pki_default_names; *name; name++) {
    snprintf(dns, sizeof dns, "%s." KEDGE_PKI_DOMAIN, *name);
    if ((err = issue_one(dir, *name, dns, ca, ca_key, w)))
      goto done;
  }
done:
  X509_free(ca);
  EVP_PKEY_free(ca_key);
  return err;
}

kedge_err_t kedge_pki_init(const char *dir)
{
  last_error[0] = '\0';
  if (!dir || !*dir)
    return fail(KEDGE_ERR_INVALID_ARG, "no directory given");

  bool made_dir = false;
  if (mkdir(dir, 0700) == 0) {
    made_dir = true;
  } else {
    struct stat st;
    if (errno != EEXIST)
      return fail(KEDGE_ERR_IO, "cannot create directory %s: %s", dir, strerror(errno));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
      return fail(KEDGE_ERR_IO, "%s exists and is not a directory", dir);
  }

  struct written *w = calloc(1, sizeof *w);
  if (!w)
    return fail(KEDGE_ERR_NOMEM, "out of memory");
  kedge_err_t err = init_files(dir, w);
  if (err) {
    remove_written(w);
    if (made_dir)
      rmdir(dir);
  }
  free(w);
  return err;
}

static int refuse_passphrase(char *buf, int size, int rwflag, void *u)
{
  return -1; /* never prompt on a terminal from inside the library */
}

static kedge_err_t load_ca(const char *dir, X509 **ca, EVP_PKEY **ca_key)
{
  char path[PATH_MAX];
  kedge_err_t err;
  if ((err = join(path, dir, "ca", ".crt")))
    return err;
  FILE *fp = fopen(path, "r");
  if (!fp)
    return fail(errno == ENOENT ? KEDGE_ERR_NOT_FOUND : KEDGE_ERR_IO, "%s: %s%s", path,
                strerror(errno), errno == ENOENT ? " (run kedge pki init first)" : "");
  *ca = PEM_read_X509(fp, NULL, refuse_passphrase, NULL);
  fclose(fp);
  if (!*ca) {
    ERR_clear_error();
    return fail(KEDGE_ERR_IO, "%s: not a PEM certificate", path);
  }

  if ((err = join(path, dir, "ca", ".key")))
    return err;
  fp = fopen(path, "r");
  if (!fp)
    return fail(errno == ENOENT ? KEDGE_ERR_NOT_FOUND : KEDGE_ERR_IO, "%s: %s", path,
                strerror(errno));
  *ca_key = PEM_read_PrivateKey(fp, NULL, refuse_passphrase, NULL);
  fclose(fp);
  if (!*ca_key) {
    ERR_clear_error();
    return fail(KEDGE_ERR_IO, "%s: not an unencrypted PEM private key", path);
  }

  if (X509_check_private_key(*ca, *ca_key) != 1) {
    ERR_clear_error();
    return fail(KEDGE_ERR_CRYPTO, "%s does not match the key in ca.crt", path);
  }
  if (X509_check_ca(*ca) == 0)
    return fail(KEDGE_ERR_CRYPTO, "%s/ca.crt is not a CA certificate", dir);
  if (X509_cmp_current_time(X509_get0_notAfter(*ca)) <= 0)
    return fail(KEDGE_ERR_CRYPTO, "%s/ca.crt has expired", dir);
  return KEDGE_OK;
}

kedge_err_t kedge_pki_issue(const char *dir, const char *name)
{
  last_error[0] = '\0';
  if (!dir || !*dir)
    return fail(KEDGE_ERR_INVALID_ARG, "no directory given");
  if (!name)
    return fail(KEDGE_ERR_INVALID_ARG, "no identity name given");
  kedge_err_t err = check_name(name);
  if (err)
    return err;

  char path[PATH_MAX];
  if ((err = join(path, dir, name, ".key")) || (err = check_absent(path, "not replacing it")) ||
      (err = join(path, dir, name, ".crt")) || (err = check_absent(path, "not replacing it")))
    return err;

  /* ecs2 -> ecs2.kedge.test; ecs.example.com stays as it is. */
  char dns[KEDGE_PKI_NAME_MAX + sizeof "." KEDGE_PKI_DOMAIN];
  snprintf(dns, sizeof dns, strchr(name, '.') ? "%s" : "%s." KEDGE_PKI_DOMAIN, name);

  X509 *ca = NULL;
  EVP_PKEY *ca_key = NULL;
  struct written *w = calloc(1, sizeof *w);
  if (!w)
    return fail(KEDGE_ERR_NOMEM, "out of memory");
  if (!(err = load_ca(dir, &ca, &ca_key)) && (err = issue_one(dir, name, dns, ca, ca_key, w)))
    remove_written(w);
  free(w);
  X509_free(ca);
  EVP_PKEY_free(ca_key);
  return err;
}
