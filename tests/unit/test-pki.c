/* The development PKI (lib/pki): the files are read back with OpenSSL and checked against the
 * RFC 5280 profile docs/pki.md promises, and every refusal leaves the directory untouched. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "kedge/pki.h"
#include "testutil.h"

struct fixture {
  char base[64]; /* mkdtemp directory, removed after each test */
  char dir[96];  /* base/pki: does not exist before the test creates it */
};

static int setup(void **state)
{
  struct fixture *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  snprintf(f->base, sizeof f->base, "/tmp/kedge-test-pki-XXXXXX");
  if (!mkdtemp(f->base)) {
    free(f);
    return -1;
  }
  snprintf(f->dir, sizeof f->dir, "%s/pki", f->base);
  *state = f;
  return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove(path);
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  nftw(f->base, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

static const char *path_of(const char *dir, const char *name, const char *ext)
{
  static char path[512];
  snprintf(path, sizeof path, "%s/%s%s", dir, name, ext);
  return path;
}

static X509 *load_cert(const char *dir, const char *name)
{
  FILE *fp = fopen(path_of(dir, name, ".crt"), "r");
  assert_non_null(fp);
  X509 *cert = PEM_read_X509(fp, NULL, NULL, NULL);
  fclose(fp);
  assert_non_null(cert);
  return cert;
}

static EVP_PKEY *load_key(const char *dir, const char *name)
{
  FILE *fp = fopen(path_of(dir, name, ".key"), "r");
  assert_non_null(fp);
  EVP_PKEY *key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
  fclose(fp);
  assert_non_null(key);
  return key;
}

static unsigned file_mode(const char *path)
{
  struct stat st;
  assert_int_equal(lstat(path, &st), 0);
  assert_true(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode));
  return st.st_mode & 07777;
}

static int count_entries(const char *dir)
{
  DIR *d = opendir(dir);
  if (!d)
    return errno == ENOENT ? -1 : -2;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}

/* Reads a whole (small) file, to show that a refusal did not rewrite it. */
static size_t read_file(const char *path, char *buf, size_t size)
{
  FILE *fp = fopen(path, "rb");
  assert_non_null(fp);
  size_t n = fread(buf, 1, size, fp);
  fclose(fp);
  assert_true(n > 0 && n < size);
  return n;
}

static void assert_file_unchanged(const char *path, const char *before, size_t len)
{
  char after[8192];
  assert_int_equal(read_file(path, after, sizeof after), len);
  assert_memory_equal(after, before, len);
}

/* X509_verify_cert against ca.crt alone, for one TLS role (RFC 5280 6 + the EKU check). */
static int verify(X509 *ca, X509 *leaf, int purpose)
{
  X509_STORE *store = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  assert_non_null(store);
  assert_non_null(ctx);
  assert_int_equal(X509_STORE_add_cert(store, ca), 1);
  assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, NULL), 1);
  assert_int_equal(X509_STORE_CTX_set_purpose(ctx, purpose), 1);
  int ok = X509_verify_cert(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok;
}

static void assert_cn(X509 *cert, const char *cn)
{
  char buf[256];
  assert_true(
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf) > 0);
  assert_string_equal(buf, cn);
}

static void assert_critical(X509 *cert, int nid, int critical)
{
  int i = X509_get_ext_by_NID(cert, nid, -1);
  assert_true(i >= 0);
  assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(cert, i)), critical);
}

/* Exactly one DNS name and the IPv4 loopback address. */
static void assert_san(X509 *cert, const char *dns)
{
  GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
  assert_non_null(names);
  assert_int_equal(sk_GENERAL_NAME_num(names), 2);
  int seen_dns = 0, seen_ip = 0;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
    GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type == GEN_DNS) {
      const ASN1_IA5STRING *s = gn->d.dNSName;
      assert_int_equal(ASN1_STRING_length(s), strlen(dns));
      assert_memory_equal(ASN1_STRING_get0_data(s), dns, strlen(dns));
      seen_dns++;
    } else if (gn->type == GEN_IPADD) {
      static const unsigned char loopback[4] = {127, 0, 0, 1};
      assert_int_equal(ASN1_STRING_length(gn->d.iPAddress), 4);
      assert_memory_equal(ASN1_STRING_get0_data(gn->d.iPAddress), loopback, 4);
      seen_ip++;
    }
  }
  assert_int_equal(seen_dns, 1);
  assert_int_equal(seen_ip, 1);
  GENERAL_NAMES_free(names);
  assert_int_equal(X509_check_host(cert, dns, 0, 0, NULL), 1);
  assert_int_equal(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
}

static void assert_validity_days(X509 *cert, int min, int max)
{
  int days = 0, secs = 0;
  assert_int_equal(
      ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert), X509_get0_notAfter(cert)), 1);
  assert_in_range(days, min, max);
  assert_true(X509_cmp_current_time(X509_get0_notBefore(cert)) < 0);
}

/* RFC 5280 4.1.2.2: positive; kedge draws 128 random bits. */
static BIGNUM *serial_of(X509 *cert)
{
  BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
  assert_non_null(bn);
  assert_false(BN_is_negative(bn));
  assert_false(BN_is_zero(bn));
  assert_in_range(BN_num_bits(bn), 65, 128); /* below 65 bits: chance 2^-64 */
  return bn;
}

static void assert_p256(EVP_PKEY *key)
{
  char group[64];
  size_t len = 0;
  assert_true(EVP_PKEY_is_a(key, "EC"));
  assert_int_equal(EVP_PKEY_get_group_name(key, group, sizeof group, &len), 1);
  assert_true(strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0);
}

/* Everything docs/pki.md promises about DIR/NAME.crt and DIR/NAME.key. */
static BIGNUM *check_leaf(const char *dir, X509 *ca, const char *name, const char *dns)
{
  X509 *cert = load_cert(dir, name);
  EVP_PKEY *key = load_key(dir, name);

  assert_int_equal(file_mode(path_of(dir, name, ".key")), 0600);
  assert_int_equal(file_mode(path_of(dir, name, ".crt")), 0644);
  assert_int_equal(X509_check_private_key(cert, key), 1);
  assert_p256(key);

  assert_int_equal(verify(ca, cert, X509_PURPOSE_SSL_SERVER), 1);
  assert_int_equal(verify(ca, cert, X509_PURPOSE_SSL_CLIENT), 1);

  assert_int_equal(X509_get_version(cert), X509_VERSION_3);
  if (strlen(dns) <= 64) {
    assert_cn(cert, dns);
    assert_critical(cert, NID_subject_alt_name, 0);
  } else { /* RFC 5280 4.2.1.6: no room in a CN, so an empty subject and a critical SAN */
    assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(cert)), 0);
    assert_critical(cert, NID_subject_alt_name, 1);
  }
  assert_san(cert, dns);
  assert_int_equal(X509_check_ca(cert), 0);
  assert_true(X509_get_extension_flags(cert) & EXFLAG_BCONS); /* CA:FALSE written out */
  assert_critical(cert, NID_basic_constraints, 1);
  assert_true(X509_get_extension_flags(cert) & EXFLAG_XKUSAGE);
  assert_int_equal(X509_get_extended_key_usage(cert), XKU_SSL_SERVER | XKU_SSL_CLIENT);
  assert_int_equal(X509_get_key_usage(cert), KU_DIGITAL_SIGNATURE); /* EC: no keyEncipherment */
  assert_critical(cert, NID_key_usage, 1);

  const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(cert);
  const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(cert);
  assert_non_null(skid);
  assert_non_null(akid);
  assert_int_equal(ASN1_OCTET_STRING_cmp(akid, X509_get0_subject_key_id(ca)), 0);
  assert_int_not_equal(ASN1_OCTET_STRING_cmp(skid, akid), 0);
  assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(ca)), 0);

  assert_validity_days(cert, 824, 826);
  BIGNUM *serial = serial_of(cert);
  X509_free(cert);
  EVP_PKEY_free(key);
  return serial;
}

static void check_ca(const char *dir)
{
  X509 *ca = load_cert(dir, "ca");
  EVP_PKEY *key = load_key(dir, "ca");
  assert_int_equal(file_mode(path_of(dir, "ca", ".key")), 0600);
  assert_int_equal(X509_check_private_key(ca, key), 1);
  assert_p256(key);
  assert_int_equal(X509_verify(ca, key), 1); /* self-signed */
  assert_cn(ca, "kedge development CA");
  assert_int_equal(X509_check_ca(ca), 1);
  assert_critical(ca, NID_basic_constraints, 1);
  assert_int_equal(X509_get_key_usage(ca), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
  assert_critical(ca, NID_key_usage, 1);
  assert_non_null(X509_get0_subject_key_id(ca));
  assert_true(X509_get_extension_flags(ca) & EXFLAG_SS);
  assert_validity_days(ca, 3649, 3651);
  BN_free(serial_of(ca));
  X509_free(ca);
  EVP_PKEY_free(key);
}

static void test_init_creates_ca_and_leaves(void **state)
{
  struct fixture *f = *state;
  /* With umask 0, modes come from kedge alone: 0700 directory, 0600 keys. */
  mode_t old = umask(0);
  kedge_err_t err = kedge_pki_init(f->dir);
  umask(old);
  assert_int_equal(err, KEDGE_OK);
  assert_string_equal(kedge_pki_last_error(), "");
  assert_int_equal(file_mode(f->dir), 0700);

  check_ca(f->dir);
  X509 *ca = load_cert(f->dir, "ca");
  BIGNUM *serials[6];
  int n = 0;
  char dns[64];
  for (const char *const *name = kedge_pki_default_names; *name; name++) {
    snprintf(dns, sizeof dns, "%s.kedge.test", *name);
    serials[n++] = check_leaf(f->dir, ca, *name, dns);
  }
  assert_int_equal(n, 6);
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      assert_int_not_equal(BN_cmp(serials[i], serials[j]), 0);
  for (int i = 0; i < n; i++)
    BN_free(serials[i]);
  X509_free(ca);
  /* 2 CA files + 6 pairs, no temporary file left behind. */
  assert_int_equal(count_entries(f->dir), 14);
}

static void test_init_into_existing_empty_dir(void **state)
{
  struct fixture *f = *state;
  assert_int_equal(mkdir(f->dir, 0750), 0);
  assert_int_equal(kedge_pki_init(f->dir), KEDGE_OK);
  assert_int_equal(file_mode(f->dir), 0750); /* an operator's directory keeps its mode */
  assert_int_equal(count_entries(f->dir), 14);
  check_ca(f->dir);
}

static void test_init_refuses_existing_ca(void **state)
{
  struct fixture *f = *state;
  assert_int_equal(kedge_pki_init(f->dir), KEDGE_OK);
  char before[8192];
  size_t len = read_file(path_of(f->dir, "ca", ".crt"), before, sizeof before);

  assert_int_equal(kedge_pki_init(f->dir), KEDGE_ERR_IO);
  assert_non_null(strstr(kedge_pki_last_error(), "ca.crt"));
  assert_non_null(strstr(kedge_pki_last_error(), "exists"));
  assert_file_unchanged(path_of(f->dir, "ca", ".crt"), before, len);
  assert_int_equal(count_entries(f->dir), 14);
}

static void test_init_refuses_any_existing_file(void **state)
{
  struct fixture *f = *state;
  assert_int_equal(mkdir(f->dir, 0700), 0);
  FILE *fp = fopen(path_of(f->dir, "seaf", ".key"), "w");
  assert_non_null(fp);
  fputs("operator's key\n", fp);
  fclose(fp);

  assert_int_equal(kedge_pki_init(f->dir), KEDGE_ERR_IO);
  assert_non_null(strstr(kedge_pki_last_error(), "seaf.key"));
  /* Nothing written: not even the CA. */
  assert_int_equal(count_entries(f->dir), 1);
  assert_file_unchanged(path_of(f->dir, "seaf", ".key"), "operator's key\n", 15);
}

static void test_init_bad_dir(void **state)
{
  struct fixture *f = *state;
  assert_int_equal(kedge_pki_init(NULL), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_pki_init(""), KEDGE_ERR_INVALID_ARG);
  assert_string_not_equal(kedge_pki_last_error(), "");

  FILE *fp = fopen(f->dir, "w"); /* a file where the directory should be */
  assert_non_null(fp);
  fclose(fp);
  assert_int_equal(kedge_pki_init(f->dir), KEDGE_ERR_IO);
  assert_non_null(strstr(kedge_pki_last_error(), "not a directory"));

  char missing_parent[160];
  snprintf(missing_parent, sizeof missing_parent, "%s/no/such", f->base);
  assert_int_equal(kedge_pki_init(missing_parent), KEDGE_ERR_IO);
  assert_int_equal(count_entries(f->base), 1);
}

static void test_issue_short_name(void **state)
{
  struct fixture *f = *state;
  assert_int_equal(kedge_pki_init(f->dir), KEDGE_OK);
  assert_int_equal(kedge_pki_issue(f->dir, "ecs2"), KEDGE_OK);
  assert_string_equal(kedge_pki_last_error(), "");
  assert_int_equal(kedge_pki_issue(f->dir, "af-7"), KEDGE_OK);

  X509 *ca = load_cert(f->dir, "ca");
  BN_free(check_leaf(f->dir, ca, "ecs2", "ecs2.kedge.test"));
  BN_free(check_leaf(f->dir, ca, "af-7", "af-7.kedge.test"));
  X509_free(ca);
  assert_int_equal(count_entries(f->dir), 18);
}

static void test_issue_dotted_name(void **state)
{
  struct fixture *f = *state;
  assert_int_equal(kedge_pki_init(f->dir), KEDGE_OK);
  assert_int_equal(kedge_pki_issue(f->dir, "ecs.example.com"), KEDGE_OK);

  X509 *ca = load_cert(f->dir, "ca");
  BN_free(check_leaf(f->dir, ca, "ecs.example.com", "ecs.example.com"));
  X509 *cert = load_cert(f->dir, "ecs.example.com");
  assert_int_not_equal(X509_check_host(cert, "ecs.example.com.kedge.test", 0, 0, NULL), 1);
  assert_int_not_equal(X509_check_host(cert, "ecs.kedge.test", 0, 0, NULL), 1);
  X509_free(cert);
  X509_free(ca);
}

static void test_issue_longest_names(void **state)
{
  struct fixture *f = *state;
  assert_int_equal(kedge_pki_init(f->dir), KEDGE_OK);

  char label[64];
  memset(label, 'a', 63);
  label[63] = '\0';
  assert_int_equal(kedge_pki_issue(f->dir, label), KEDGE_OK);
  X509 *ca = load_cert(f->dir, "ca");
  char dns[128];
  snprintf(dns, sizeof dns, "%s.kedge.test", label);
  BN_free(check_leaf(f->dir, ca, label, dns));

  /* a CN of exactly 64 characters still fits */
  char name64[65];
  snprintf(name64, sizeof name64, "%.60s.com", label);
  assert_int_equal(kedge_pki_issue(f->dir, name64), KEDGE_OK);
  BN_free(check_leaf(f->dir, ca, name64, name64));

  /* 63 + 1 + 63 + 1 + 63 + 1 + 59 = 251 = KEDGE_PKI_NAME_MAX */
  char name[KEDGE_PKI_NAME_MAX + 2];
  snprintf(name, sizeof name, "%s.%s.%s.%.59s", label, label, label, label);
  assert_int_equal(strlen(name), KEDGE_PKI_NAME_MAX);
  assert_int_equal(kedge_pki_issue(f->dir, name), KEDGE_OK);
  BN_free(check_leaf(f->dir, ca, name, name));
  X509_free(ca);

  strcat(name, "b"); /* one character too many */
  assert_int_equal(kedge_pki_issue(f->dir, name), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(count_entries(f->dir), 20);
}

static void test_issue_refuses_overwrite(void **state)
{
  struct fixture *f = *state;
  assert_int_equal(kedge_pki_init(f->dir), KEDGE_OK);
  char before[8192];
  size_t len = read_file(path_of(f->dir, "ausf", ".key"), before, sizeof before);
  assert_int_equal(kedge_pki_issue(f->dir, "ausf"), KEDGE_ERR_IO);
  assert_non_null(strstr(kedge_pki_last_error(), "ausf.key"));
  assert_file_unchanged(path_of(f->dir, "ausf", ".key"), before, len);

  assert_int_equal(kedge_pki_issue(f->dir, "ecs2"), KEDGE_OK);
  len = read_file(path_of(f->dir, "ecs2", ".crt"), before, sizeof before);
  assert_int_equal(kedge_pki_issue(f->dir, "ecs2"), KEDGE_ERR_IO);
  assert_file_unchanged(path_of(f->dir, "ecs2", ".crt"), before, len);

  /* A lone NAME.crt blocks the pair: no NAME.key appears beside it. */
  FILE *fp = fopen(path_of(f->dir, "af2", ".crt"), "w");
  assert_non_null(fp);
  fclose(fp);
  assert_int_equal(kedge_pki_issue(f->dir, "af2"), KEDGE_ERR_IO);
  assert_non_null(strstr(kedge_pki_last_error(), "af2.crt"));
  assert_int_equal(access(path_of(f->dir, "af2", ".key"), F_OK), -1);
  assert_int_equal(count_entries(f->dir), 17);
}

static void test_issue_rejects_bad_names(void **state)
{
  struct fixture *f = *state;
  assert_int_equal(kedge_pki_init(f->dir), KEDGE_OK);
  char long_label[80];
  memset(long_label, 'a', 64);
  long_label[64] = '\0';
  const char *bad[] = {
      "",
      "ECS2",
      "Ecs.example.com",
      "ecs_2",
      "-ecs",
      "ecs-",
      "ecs.-x.com",
      "a..b",
      ".ecs",
      "ecs.",
      ".",
      "ca",
      "127.0.0.1",
      "ecs.123",
      "ecs 2",
      "ecs/x",
      "../ausf",
      "x/..",
      "*.kedge.test",
      "\xc3\xa9"
      "cs",
      "ecs\n",
      "ecs:1",
      "ecs,IP:10.0.0.1",
      long_label,
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(kedge_pki_issue(f->dir, bad[i]), KEDGE_ERR_INVALID_ARG);
    assert_string_not_equal(kedge_pki_last_error(), "");
    assert_null(strchr(kedge_pki_last_error(), '\n'));
  }
  assert_int_equal(kedge_pki_issue(f->dir, NULL), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_pki_issue(NULL, "ecs2"), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(count_entries(f->dir), 14);

  /* RFC 1123 2.1: a label may start with a digit. */
  assert_int_equal(kedge_pki_issue(f->dir, "5gc-ecs"), KEDGE_OK);
  assert_int_equal(kedge_pki_issue(f->dir, "ecs.5g.example"), KEDGE_OK);
}

static void test_issue_without_ca(void **state)
{
  struct fixture *f = *state;
  assert_int_equal(mkdir(f->dir, 0700), 0);
  assert_int_equal(kedge_pki_issue(f->dir, "ecs2"), KEDGE_ERR_NOT_FOUND);
  assert_non_null(strstr(kedge_pki_last_error(), "ca.crt"));
  assert_int_equal(count_entries(f->dir), 0);
}

/* A CA key from another PKI must not sign certificates that claim this CA as issuer. */
static void test_issue_with_mismatched_ca_key(void **state)
{
  struct fixture *f = *state;
  char other[160];
  snprintf(other, sizeof other, "%s/other", f->base);
  assert_int_equal(kedge_pki_init(f->dir), KEDGE_OK);
  assert_int_equal(kedge_pki_init(other), KEDGE_OK);

  char key[8192];
  size_t len = read_file(path_of(other, "ca", ".key"), key, sizeof key);
  FILE *fp = fopen(path_of(f->dir, "ca", ".key"), "w");
  assert_non_null(fp);
  assert_int_equal(fwrite(key, 1, len, fp), len);
  fclose(fp);

  assert_int_equal(kedge_pki_issue(f->dir, "ecs2"), KEDGE_ERR_CRYPTO);
  assert_non_null(strstr(kedge_pki_last_error(), "does not match"));
  assert_int_equal(count_entries(f->dir), 14);
}

/* The PKIs are independent: a leaf of one does not verify against the other's CA. */
static void test_two_pkis_do_not_cross_verify(void **state)
{
  struct fixture *f = *state;
  char other[160];
  snprintf(other, sizeof other, "%s/other", f->base);
  assert_int_equal(kedge_pki_init(f->dir), KEDGE_OK);
  assert_int_equal(kedge_pki_init(other), KEDGE_OK);
  X509 *ca = load_cert(f->dir, "ca");
  X509 *foreign = load_cert(other, "seaf");
  assert_int_not_equal(verify(ca, foreign, X509_PURPOSE_SSL_CLIENT), 1);
  X509_free(foreign);
  X509_free(ca);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_init_creates_ca_and_leaves, setup, teardown),
      cmocka_unit_test_setup_teardown(test_init_into_existing_empty_dir, setup, teardown),
      cmocka_unit_test_setup_teardown(test_init_refuses_existing_ca, setup, teardown),
      cmocka_unit_test_setup_teardown(test_init_refuses_any_existing_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_init_bad_dir, setup, teardown),
      cmocka_unit_test_setup_teardown(test_issue_short_name, setup, teardown),
      cmocka_unit_test_setup_teardown(test_issue_dotted_name, setup, teardown),
      cmocka_unit_test_setup_teardown(test_issue_longest_names, setup, teardown),
      cmocka_unit_test_setup_teardown(test_issue_refuses_overwrite, setup, teardown),
      cmocka_unit_test_setup_teardown(test_issue_rejects_bad_names, setup, teardown),
      cmocka_unit_test_setup_teardown(test_issue_without_ca, setup, teardown),
      cmocka_unit_test_setup_teardown(test_issue_with_mismatched_ca_key, setup, teardown),
      cmocka_unit_test_setup_teardown(test_two_pkis_do_not_cross_verify, setup, teardown),
  };
  return cmocka_run_group_tests_name("pki", tests, NULL, NULL);
}
