/* kedge derive: the key derivations of lib/crypto from inputs on the command line, printed as
 * one JSON object (lower-camel member names, lower-case hex). Bad input: one line on stderr,
 * exit status 2. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "commands.h"
#include "kedge/aka.h"
#include "kedge/akma.h"
#include "kedge/cli.h"
#include "kedge/edge.h"
#include "kedge/hex.h"
#include "kedge/identity.h"
#include "kedge/milenage.h"
#include "kedge/sqn.h"
#include "kedge/suci.h"

#define EXIT_BAD_INPUT 2

typedef kedge_cli_option_t option_t;

static const char usage_text[] =
    "Usage:\n"
    "  kedge derive milenage --k HEX (--opc HEX | --op HEX) --rand HEX --sqn HEX --amf HEX\n"
    "      TS 35.206 f1, f1* (over the given AMF, as in TS 35.208), f2-f5, f5*.\n"
    "      -> {\"opc\",\"macA\",\"macS\",\"res\",\"ck\",\"ik\",\"ak\",\"akStar\"}\n"
    "  kedge derive aka --k HEX --opc HEX --rand HEX --sqn HEX --amf HEX --mcc MCC --mnc MNC\n"
    "                   --supi SUPI [--rid RID] [--home-mcc MCC --home-mnc MNC]\n"
    "      The 5G HE AV (TS 33.501 6.1.3.2, Annex A) and the edge keys (SPEC.md 2).\n"
    "      --mcc/--mnc name the serving network; the Kedge ID's realm uses the home network,\n"
    "      which defaults to the serving one.\n"
    "      -> {\"autn\",\"xresStar\",\"hxresStar\",\"kausf\",\"kseaf\",\"kedge\",\"kedgeId\"}\n"
    "  kedge derive kedge --kausf HEX --supi SUPI --mcc MCC --mnc MNC [--rid RID] [--ecs-id FQDN]\n"
    "      Kedge and Kedge ID from KAUSF (--mcc/--mnc: the home network), and K_ECS of\n"
    "      profile bound for --ecs-id (SPEC.md 6).\n"
    "      -> {\"kedge\",\"kedgeId\"} plus \"kEcs\" with --ecs-id\n"
    "  kedge derive k-ecs --kedge HEX --ecs-id FQDN\n"
    "      K_ECS of profile bound from Kedge (SPEC.md 6), as the AUSF and an EEC derive it.\n"
    "      -> {\"ecsId\",\"kEcs\"} (the ECS ID as normalised)\n"
    "  kedge derive suci --supi SUPI --profile null|A|B [--hn-public HEX --hn-key-id N]\n"
    "                    [--mcc MCC --mnc MNC] [--rid RID] [--eph-private HEX]\n"
    "      Conceals the SUPI (TS 33.501 6.12.2, Annex C): the SUCI as TS 29.503 writes it,\n"
    "      and for a NAI SUPI also as an NAI (TS 23.003 2.2B). --mcc/--mnc: the home network\n"
    "      an IMSI starts with. A fresh ephemeral key unless --eph-private gives one.\n"
    "      -> {\"suci\",\"schemeOutput\"} plus \"nai\" for a NAI SUPI\n"
    "  kedge derive suci --suci SUCI (--hn-private HEX | --hn-key-file FILE --master-key FILE)\n"
    "      De-conceals a SUCI (SBI or NAI form) with the home network private key: raw (the\n"
    "      SUCI's scheme names the profile) or a file of `kedge suci keygen`.\n"
    "      -> {\"supi\",\"rid\",\"scheme\",\"hnPubKeyId\"}\n"
    "  kedge derive akma --kausf HEX --supi SUPI --mcc MCC --mnc MNC [--rid RID] [--af-fqdn FQDN]\n"
    "      AKMA (TS 33.535 Annex A, SPEC.md 9): K_AKMA (FC 0x80), A-TID (0x81), the A-KID\n"
    "      (--mcc/--mnc: the home network), and for --af-fqdn the AF_ID octets (FQDN ||\n"
    "      Ua* protocol id 0100000007, TS 33.220 H.3) and K_AF (0x82).\n"
    "      -> {\"kAkma\",\"aTid\",\"aKid\"} plus \"afId\",\"kaf\" with --af-fqdn\n"
    "  kedge derive parse-akid A_KID\n"
    "      Checks an A-KID against the strict grammar of SPEC.md 9.\n"
    "      -> {\"rid\",\"aTid\",\"mcc\",\"mnc\"}\n"
    "  kedge derive parse-id KEDGE_ID\n"
    "      Checks a Kedge ID against the strict grammar of SPEC.md 2.\n"
    "      -> {\"rid\",\"tid\",\"mcc\",\"mnc\"}\n"
    "\n"
    "Options:\n"
    "  --k HEX        subscriber key K, 16 octets\n"
    "  --op HEX       operator variant OP, 16 octets (OPc is computed from it)\n"
    "  --opc HEX      OPc, 16 octets\n"
    "  --rand HEX     RAND, 16 octets\n"
    "  --sqn HEX      SQN, 6 octets\n"
    "  --amf HEX      AMF, 2 octets\n"
    "  --mcc MCC      mobile country code, 3 digits\n"
    "  --mnc MNC      mobile network code, 2 or 3 digits\n"
    "  --home-mcc MCC, --home-mnc MNC  the home network when it differs from --mcc/--mnc\n"
    "  --supi SUPI    imsi-<5 to 15 digits> or nai-<user>@<realm>\n"
    "  --rid RID      routing indicator, 1 to 4 digits as provisioned (default 0)\n"
    "  --kausf HEX    KAUSF, 32 octets\n"
    "  --kedge HEX    Kedge, 32 octets\n"
    "  --ecs-id FQDN  ECS ID (DNS name; normalised to lower case without trailing dot)\n"
    "  --profile P    SUCI protection scheme: null (0), A (1, X25519), B (2, secp256r1)\n"
    "  --hn-public HEX   home network public key: 32 octets (A), 33 compressed (B)\n"
    "  --hn-key-id N     hnPubKeyId, 1..255\n"
    "  --eph-private HEX ephemeral private key, 32 octets (known answers only)\n"
    "  --hn-private HEX  home network private key, 32 octets\n"
    "  --hn-key-file FILE, --master-key FILE  a sealed key file and the master key it opens with\n"
    "  --af-fqdn FQDN the AF's (ECS's) FQDN for AF_ID, normalised like --ecs-id\n"
    "All hex may be upper or lower case on input and is lower case on output.\n"
    "Exit status: 0 success, 2 bad input (one line on stderr names the option).\n";

static const char *form; /* "milenage", ... for error lines */

/* One line: "kedge derive FORM: --OPTION: PROBLEM". */
__attribute__((format(printf, 2, 3))) static int fail(const char *option, const char *fmt, ...)
{
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  if (option)
    fprintf(stderr, "kedge derive %s: --%s: %s\n", form, option, line);
  else
    fprintf(stderr, "kedge derive %s: %s\n", form, line);
  return EXIT_BAD_INPUT;
}

/* OpenSSL itself failed: not the input's fault, so not exit status 2. */
static int crypto_failure(void)
{
  fprintf(stderr, "kedge derive %s: %s\n", form, kedge_strerror(KEDGE_ERR_CRYPTO));
  return 1;
}

/* "--name VALUE" and "--name=VALUE" pairs into opts; anything else is an error. */
static int parse_options(int argc, char **argv, option_t *opts, size_t n)
{
  char why[160];
  if (kedge_cli_parse(argc, argv, 1, opts, n, NULL, 0, NULL, why, sizeof(why)))
    return fail(NULL, "%s", why);
  return 0;
}

static const char *opt(const option_t *opts, size_t n, const char *name)
{
  return kedge_cli_get(opts, n, name);
}

static int require(const option_t *opts, size_t n, const char *const *names)
{
  for (; *names; names++)
    if (!opt(opts, n, *names))
      return fail(*names, "required");
  return 0;
}

static int hex_arg(const char *name, const char *value, uint8_t *out, size_t len)
{
  kedge_err_t err = kedge_hex_decode(value, out, len);
  if (err == KEDGE_OK)
    return 0;
  char expect[64];
  snprintf(expect, sizeof(expect), "%zu hex digits (%zu octets)", 2 * len, len);
  if (err == KEDGE_ERR_BAD_HEX)
    return fail(name, "%s, expected %s",
                strlen(value) % 2 ? "odd number of hex digits" : "not a hex string", expect);
  return fail(name, "wrong length, expected %s", expect);
}

static int supi_arg(const char *value, kedge_supi_t *supi)
{
  if (kedge_supi_parse(value, supi) != KEDGE_OK)
    return fail("supi", "%s", kedge_strerror(KEDGE_ERR_BAD_SUPI));
  return 0;
}

static int plmn_arg(const char *mcc_name, const char *mcc, const char *mnc_name, const char *mnc,
                    kedge_plmn_t *plmn)
{
  if (kedge_plmn_parse(mcc, "00", plmn) != KEDGE_OK)
    return fail(mcc_name, "must be 3 decimal digits");
  if (kedge_plmn_parse(mcc, mnc, plmn) != KEDGE_OK)
    return fail(mnc_name, "must be 2 or 3 decimal digits");
  return 0;
}

static int rid_arg(const char *value)
{
  if (kedge_rid_check(value) != KEDGE_OK)
    return fail("rid", "%s", kedge_strerror(KEDGE_ERR_BAD_RID));
  return 0;
}

static void put_hex(const char *member, const uint8_t *bytes, size_t len, bool last)
{
  char hex[2 * KEDGE_AF_ID_MAX + 1]; /* the longest value printed: AF_ID */
  if (len > KEDGE_AF_ID_MAX)
    len = KEDGE_AF_ID_MAX;
  kedge_hex_encode(bytes, len, hex);
  printf("\"%s\":\"%s\"%s", member, hex, last ? "" : ",");
  OPENSSL_cleanse(hex, sizeof(hex));
}

static int derive_milenage(int argc, char **argv)
{
  option_t o[] = {{"k", false, NULL},    {"opc", false, NULL}, {"op", false, NULL},
                  {"rand", false, NULL}, {"sqn", false, NULL}, {"amf", false, NULL}};
  const size_t n = sizeof(o) / sizeof(o[0]);
  static const char *const required[] = {"k", "rand", "sqn", "amf", NULL};
  int rc = parse_options(argc, argv, o, n);
  if (rc || (rc = require(o, n, required)))
    return rc;
  if (!!opt(o, n, "opc") == !!opt(o, n, "op"))
    return fail("opc", "give exactly one of --opc and --op");

  uint8_t k[16], op[16], opc[16], rand[16], sqn[6], amf[2];
  uint8_t mac_a[8], mac_s[8], res[8], ck[16], ik[16], ak[6], ak_star[6];
  if ((rc = hex_arg("k", opt(o, n, "k"), k, 16)) ||
      (rc = hex_arg("rand", opt(o, n, "rand"), rand, 16)) ||
      (rc = hex_arg("sqn", opt(o, n, "sqn"), sqn, 6)) ||
      (rc = hex_arg("amf", opt(o, n, "amf"), amf, 2)))
    goto out;
  if (opt(o, n, "opc")) {
    if ((rc = hex_arg("opc", opt(o, n, "opc"), opc, 16)))
      goto out;
  } else {
    if ((rc = hex_arg("op", opt(o, n, "op"), op, 16)))
      goto out;
    if (kedge_milenage_opc(k, op, opc) != KEDGE_OK) {
      rc = crypto_failure();
      goto out;
    }
  }
  if (kedge_milenage_f1(k, opc, rand, sqn, amf, mac_a, mac_s) ||
      kedge_milenage_f2345(k, opc, rand, res, ck, ik, ak, ak_star)) {
    rc = crypto_failure();
    goto out;
  }
  printf("{");
  put_hex("opc", opc, 16, false);
  put_hex("macA", mac_a, 8, false);
  put_hex("macS", mac_s, 8, false);
  put_hex("res", res, 8, false);
  put_hex("ck", ck, 16, false);
  put_hex("ik", ik, 16, false);
  put_hex("ak", ak, 6, false);
  put_hex("akStar", ak_star, 6, true);
  printf("}\n");
out:
  OPENSSL_cleanse(k, sizeof(k));
  OPENSSL_cleanse(op, sizeof(op));
  OPENSSL_cleanse(opc, sizeof(opc));
  OPENSSL_cleanse(res, sizeof(res));
  OPENSSL_cleanse(ck, sizeof(ck));
  OPENSSL_cleanse(ik, sizeof(ik));
  return rc;
}

/* Home network for the Kedge ID realm: --home-mcc/--home-mnc, both or neither. */
static int home_plmn(const option_t *o, size_t n, const kedge_plmn_t *serving, kedge_plmn_t *home)
{
  const char *mcc = opt(o, n, "home-mcc"), *mnc = opt(o, n, "home-mnc");
  if (!mcc && !mnc) {
    *home = *serving;
    return 0;
  }
  if (!mcc || !mnc)
    return fail(mcc ? "home-mnc" : "home-mcc", "required with --home-mcc/--home-mnc");
  return plmn_arg("home-mcc", mcc, "home-mnc", mnc, home);
}

static int derive_aka(int argc, char **argv)
{
  option_t o[] = {{"k", false, NULL},        {"opc", false, NULL},     {"rand", false, NULL},
                  {"sqn", false, NULL},      {"amf", false, NULL},     {"mcc", false, NULL},
                  {"mnc", false, NULL},      {"supi", false, NULL},    {"rid", false, NULL},
                  {"home-mcc", false, NULL}, {"home-mnc", false, NULL}};
  const size_t n = sizeof(o) / sizeof(o[0]);
  static const char *const required[] = {"k",   "opc", "rand", "sqn", "amf",
                                         "mcc", "mnc", "supi", NULL};
  int rc = parse_options(argc, argv, o, n);
  if (rc || (rc = require(o, n, required)))
    return rc;

  kedge_aka_credentials_t cred;
  uint8_t rand[16], sqn[6], amf[2], hxres_star[16], kseaf[32], kedge[32];
  kedge_plmn_t serving, home;
  kedge_supi_t supi;
  kedge_he_av_t av;
  char snn[KEDGE_SNN_LEN + 1], kedge_id[KEDGE_ID_MAX + 1];
  const char *rid = opt(o, n, "rid") ? opt(o, n, "rid") : "0";
  if ((rc = hex_arg("k", opt(o, n, "k"), cred.k, 16)) ||
      (rc = hex_arg("opc", opt(o, n, "opc"), cred.opc, 16)) ||
      (rc = hex_arg("rand", opt(o, n, "rand"), rand, 16)) ||
      (rc = hex_arg("sqn", opt(o, n, "sqn"), sqn, 6)) ||
      (rc = hex_arg("amf", opt(o, n, "amf"), amf, 2)) ||
      (rc = plmn_arg("mcc", opt(o, n, "mcc"), "mnc", opt(o, n, "mnc"), &serving)) ||
      (rc = home_plmn(o, n, &serving, &home)) || (rc = supi_arg(opt(o, n, "supi"), &supi)) ||
      (rc = rid_arg(rid)))
    goto out;

  kedge_serving_network_name(&serving, snn);
  if (kedge_aka_generate_he_av(&cred, rand, kedge_sqn_from_bytes(sqn), amf, snn, &av) ||
      kedge_aka_hxres_star(av.rand, av.xres_star, hxres_star) ||
      kedge_aka_kseaf(av.kausf, snn, kseaf) ||
      kedge_derive_kedge_and_id(av.kausf, &supi, rid, &home, kedge, kedge_id)) {
    rc = crypto_failure();
    goto out;
  }
  printf("{");
  put_hex("autn", av.autn, 16, false);
  put_hex("xresStar", av.xres_star, 16, false);
  put_hex("hxresStar", hxres_star, 16, false);
  put_hex("kausf", av.kausf, 32, false);
  put_hex("kseaf", kseaf, 32, false);
  put_hex("kedge", kedge, 32, false);
  printf("\"kedgeId\":\"%s\"}\n", kedge_id);
out:
  OPENSSL_cleanse(&cred, sizeof(cred));
  OPENSSL_cleanse(&av, sizeof(av));
  OPENSSL_cleanse(kseaf, sizeof(kseaf));
  OPENSSL_cleanse(kedge, sizeof(kedge));
  return rc;
}

static int derive_kedge(int argc, char **argv)
{
  option_t o[] = {{"kausf", false, NULL}, {"supi", false, NULL}, {"mcc", false, NULL},
                  {"mnc", false, NULL},   {"rid", false, NULL},  {"ecs-id", false, NULL}};
  const size_t n = sizeof(o) / sizeof(o[0]);
  static const char *const required[] = {"kausf", "supi", "mcc", "mnc", NULL};
  int rc = parse_options(argc, argv, o, n);
  if (rc || (rc = require(o, n, required)))
    return rc;

  uint8_t kausf[32], kedge[32], k_ecs[32];
  kedge_plmn_t home;
  kedge_supi_t supi;
  char kedge_id[KEDGE_ID_MAX + 1], ecs_id[KEDGE_ECS_ID_MAX + 1];
  const char *rid = opt(o, n, "rid") ? opt(o, n, "rid") : "0", *why = NULL;
  if ((rc = hex_arg("kausf", opt(o, n, "kausf"), kausf, 32)) ||
      (rc = supi_arg(opt(o, n, "supi"), &supi)) ||
      (rc = plmn_arg("mcc", opt(o, n, "mcc"), "mnc", opt(o, n, "mnc"), &home)) ||
      (rc = rid_arg(rid)))
    goto out;
  if (opt(o, n, "ecs-id") && kedge_ecs_id_normalise(opt(o, n, "ecs-id"), ecs_id, &why)) {
    rc = fail("ecs-id", "not a DNS name: %s", why);
    goto out;
  }
  if (kedge_derive_kedge_and_id(kausf, &supi, rid, &home, kedge, kedge_id) ||
      (opt(o, n, "ecs-id") && kedge_derive_k_ecs(kedge, ecs_id, k_ecs))) {
    rc = crypto_failure();
    goto out;
  }
  printf("{");
  put_hex("kedge", kedge, 32, false);
  printf("\"kedgeId\":\"%s\"", kedge_id);
  if (opt(o, n, "ecs-id")) {
    printf(",");
    put_hex("kEcs", k_ecs, 32, true);
  }
  printf("}\n");
out:
  OPENSSL_cleanse(kausf, sizeof(kausf));
  OPENSSL_cleanse(kedge, sizeof(kedge));
  OPENSSL_cleanse(k_ecs, sizeof(k_ecs));
  return rc;
}

static int derive_k_ecs(int argc, char **argv)
{
  option_t o[] = {{"kedge", false, NULL}, {"ecs-id", false, NULL}};
  const size_t n = sizeof(o) / sizeof(o[0]);
  static const char *const required[] = {"kedge", "ecs-id", NULL};
  int rc = parse_options(argc, argv, o, n);
  if (rc || (rc = require(o, n, required)))
    return rc;
  uint8_t kedge[32], k_ecs[32];
  char ecs_id[KEDGE_ECS_ID_MAX + 1];
  const char *why = NULL;
  if ((rc = hex_arg("kedge", opt(o, n, "kedge"), kedge, 32)))
    goto out;
  if (kedge_ecs_id_normalise(opt(o, n, "ecs-id"), ecs_id, &why)) {
    rc = fail("ecs-id", "not a DNS name: %s", why);
    goto out;
  }
  if (kedge_derive_k_ecs(kedge, ecs_id, k_ecs)) {
    rc = crypto_failure();
    goto out;
  }
  printf("{\"ecsId\":\"%s\",", ecs_id);
  put_hex("kEcs", k_ecs, 32, true);
  printf("}\n");
out:
  OPENSSL_cleanse(kedge, sizeof(kedge));
  OPENSSL_cleanse(k_ecs, sizeof(k_ecs));
  return rc;
}

static int suci_conceal(const option_t *o, size_t n)
{
  static const char *const required[] = {"supi", "profile", NULL};
  int rc = require(o, n, required);
  if (rc)
    return rc;
  kedge_supi_t supi;
  kedge_suci_params_t p = {
      .mcc = opt(o, n, "mcc"), .mnc = opt(o, n, "mnc"), .rid = opt(o, n, "rid")};
  uint8_t hn_pub[KEDGE_ECIES_PUBLIC_MAX], eph[KEDGE_ECIES_PRIVATE_LEN];
  kedge_ecies_profile_t profile;
  if ((rc = supi_arg(opt(o, n, "supi"), &supi)) || (p.rid && (rc = rid_arg(p.rid))))
    return rc;
  if (!strcmp(opt(o, n, "profile"), "null")) {
    p.scheme = KEDGE_SUCI_NULL;
  } else if (kedge_ecies_profile_parse(opt(o, n, "profile"), &profile) == KEDGE_OK) {
    static const char *const keyed[] = {"hn-public", "hn-key-id", NULL};
    const char *id = opt(o, n, "hn-key-id");
    char *end = NULL;
    if ((rc = require(o, n, keyed)))
      return rc;
    p.scheme = (unsigned)profile;
    p.hn_key_id = (unsigned)strtoul(id, &end, 10);
    if (!*id || *end || strspn(id, "0123456789") != strlen(id) || p.hn_key_id < 1 ||
        p.hn_key_id > 255)
      return fail("hn-key-id", "must be 1..255");
    p.hn_pub_len = kedge_ecies_public_len(profile);
    if ((rc = hex_arg("hn-public", opt(o, n, "hn-public"), hn_pub, p.hn_pub_len)))
      return rc;
    p.hn_pub = hn_pub;
    if (opt(o, n, "eph-private")) {
      if ((rc = hex_arg("eph-private", opt(o, n, "eph-private"), eph, sizeof(eph))))
        return rc;
      p.eph_priv = eph;
    }
  } else {
    return fail("profile", "must be null, A or B");
  }
  if (supi.type == KEDGE_SUPI_IMSI && (!p.mcc || !p.mnc))
    return fail(p.mcc ? "mnc" : "mcc", "required for an IMSI SUPI (the home network)");
  kedge_suci_t suci;
  char text[KEDGE_SUCI_MAX + 1], nai[KEDGE_SUCI_MAX + 1], out[2 * KEDGE_SUCI_OUTPUT_MAX + 1];
  kedge_err_t err = kedge_suci_conceal(&supi, &p, &suci);
  OPENSSL_cleanse(eph, sizeof(eph));
  switch (err) {
  case KEDGE_OK:
    break;
  case KEDGE_ERR_BAD_PLMN:
    return fail("supi", "the IMSI does not begin with --mcc and --mnc (or has no MSIN)");
  case KEDGE_ERR_BAD_LENGTH:
    return fail(p.eph_priv ? "eph-private" : "hn-public", "not a valid key of profile %s",
                opt(o, n, "profile"));
  case KEDGE_ERR_BAD_SUPI:
    return fail("supi", "too long to conceal");
  default:
    return crypto_failure();
  }
  if (kedge_suci_format(&suci, text, sizeof(text)) ||
      (suci.supi_type == 1 && kedge_suci_format_nai(&suci, nai, sizeof(nai))))
    return crypto_failure();
  if (suci.scheme == KEDGE_SUCI_NULL)
    snprintf(out, sizeof(out), "%.*s", (int)suci.output_len, (const char *)suci.output);
  else
    kedge_hex_encode(suci.output, suci.output_len, out);
  /* text from kedge_suci_format() and NAI characters: no JSON escaping needed but for '"'
   * and '\\', which a NAI may hold (RFC 7542): refuse those rather than print bad JSON */
  if (strpbrk(text, "\"\\"))
    return fail("supi", "holds '\"' or '\\', which kedge does not print in JSON");
  printf("{\"suci\":\"%s\",\"schemeOutput\":\"%s\"", text, out);
  if (suci.supi_type == 1)
    printf(",\"nai\":\"%s\"", nai);
  printf("}\n");
  return 0;
}

static int suci_deconceal(const option_t *o, size_t n)
{
  kedge_suci_t suci;
  kedge_suci_keys_t *keys = NULL;
  kedge_supi_t supi;
  kedge_ecies_profile_t profile;
  uint8_t priv[KEDGE_ECIES_PRIVATE_LEN];
  const char *why = NULL;
  char reason[400];
  int rc = 0;
  if (kedge_suci_parse(opt(o, n, "suci"), &suci, &why))
    return fail("suci", "%s", why);
  if (opt(o, n, "hn-private")) {
    if (opt(o, n, "hn-key-file"))
      return fail("hn-key-file", "give --hn-private or --hn-key-file, not both");
    if ((rc = hex_arg("hn-private", opt(o, n, "hn-private"), priv, sizeof(priv))))
      return rc;
    profile = suci.scheme == KEDGE_SUCI_PROFILE_B ? KEDGE_ECIES_PROFILE_B : KEDGE_ECIES_PROFILE_A;
  } else if (opt(o, n, "hn-key-file")) {
    kedge_master_key_t mk;
    static const char *const req_mk[] = {"master-key", NULL};
    if ((rc = require(o, n, req_mk)))
      return rc;
    if (kedge_master_key_load(opt(o, n, "master-key"), &mk, reason, sizeof(reason)))
      return fail("master-key", "%s", reason);
    kedge_err_t err = kedge_suci_key_file_read(opt(o, n, "hn-key-file"), &mk, &profile, priv,
                                               reason, sizeof(reason));
    kedge_master_key_clear(&mk);
    if (err)
      return fail("hn-key-file", "%s", reason);
  } else if (suci.scheme != KEDGE_SUCI_NULL) {
    return fail("hn-private", "required (or --hn-key-file) to de-conceal scheme %u", suci.scheme);
  } else {
    memset(priv, 0, sizeof(priv));
    profile = KEDGE_ECIES_PROFILE_A;
  }
  kedge_err_t err = kedge_suci_keys_new(&keys);
  if (!err && suci.scheme != KEDGE_SUCI_NULL)
    err = kedge_suci_keys_add(keys, suci.hn_key_id, profile, priv);
  OPENSSL_cleanse(priv, sizeof(priv));
  if (err == KEDGE_ERR_BAD_LENGTH)
    rc = fail(opt(o, n, "hn-private") ? "hn-private" : "hn-key-file", "not a valid private key");
  else if (err)
    rc = crypto_failure();
  if (!rc) {
    switch (kedge_suci_deconceal(keys, &suci, &supi)) {
    case KEDGE_OK:
      printf("{\"supi\":\"%s\",\"rid\":\"%s\",\"scheme\":%u,\"hnPubKeyId\":%u}\n", supi.value,
             suci.rid, suci.scheme, suci.hn_key_id);
      break;
    case KEDGE_ERR_UNSUPPORTED:
      rc = fail("suci", "protection scheme %u is not supported (0, 1, 2)", suci.scheme);
      break;
    case KEDGE_ERR_MAC_FAILURE:
      rc = fail("suci",
                "does not de-conceal with this key (MAC failure, or a key of the other profile)");
      break;
    case KEDGE_ERR_BAD_SUPI:
      rc = fail("suci", "the null-scheme output makes no valid SUPI");
      break;
    default:
      rc = crypto_failure();
    }
  }
  kedge_suci_keys_free(keys);
  OPENSSL_cleanse(&supi, sizeof(supi));
  return rc;
}

static int derive_suci(int argc, char **argv)
{
  option_t o[] = {
      {"supi", false, NULL},       {"profile", false, NULL},     {"hn-public", false, NULL},
      {"hn-key-id", false, NULL},  {"mcc", false, NULL},         {"mnc", false, NULL},
      {"rid", false, NULL},        {"eph-private", false, NULL}, {"suci", false, NULL},
      {"hn-private", false, NULL}, {"hn-key-file", false, NULL}, {"master-key", false, NULL}};
  const size_t n = sizeof(o) / sizeof(o[0]);
  int rc = parse_options(argc, argv, o, n);
  if (rc)
    return rc;
  if (opt(o, n, "suci")) {
    if (opt(o, n, "supi"))
      return fail("supi", "give --supi to conceal or --suci to de-conceal, not both");
    return suci_deconceal(o, n);
  }
  return suci_conceal(o, n);
}

static int derive_akma(int argc, char **argv)
{
  option_t o[] = {{"kausf", false, NULL}, {"supi", false, NULL}, {"mcc", false, NULL},
                  {"mnc", false, NULL},   {"rid", false, NULL},  {"af-fqdn", false, NULL}};
  const size_t n = sizeof(o) / sizeof(o[0]);
  static const char *const required[] = {"kausf", "supi", "mcc", "mnc", NULL};
  int rc = parse_options(argc, argv, o, n);
  if (rc || (rc = require(o, n, required)))
    return rc;

  uint8_t kausf[32], k_akma[32], a_tid[32], k_af[32], af_id[KEDGE_AF_ID_MAX];
  size_t af_id_len = 0;
  kedge_plmn_t home;
  kedge_supi_t supi;
  char akid[KEDGE_AKID_MAX + 1], fqdn[KEDGE_ECS_ID_MAX + 1];
  const char *rid = opt(o, n, "rid") ? opt(o, n, "rid") : "0", *why = NULL;
  const bool with_af = opt(o, n, "af-fqdn") != NULL;
  if ((rc = hex_arg("kausf", opt(o, n, "kausf"), kausf, 32)) ||
      (rc = supi_arg(opt(o, n, "supi"), &supi)) ||
      (rc = plmn_arg("mcc", opt(o, n, "mcc"), "mnc", opt(o, n, "mnc"), &home)) ||
      (rc = rid_arg(rid)))
    goto out;
  if (with_af && kedge_ecs_id_normalise(opt(o, n, "af-fqdn"), fqdn, &why)) {
    rc = fail("af-fqdn", "not a DNS name: %s", why);
    goto out;
  }
  if (kedge_derive_k_akma_and_akid(kausf, &supi, rid, &home, k_akma, akid) ||
      kedge_derive_akma_keys(kausf, &supi, NULL, a_tid) ||
      (with_af &&
       (kedge_af_id_build(fqdn, af_id, &af_id_len) || kedge_derive_k_af(k_akma, fqdn, k_af)))) {
    rc = crypto_failure();
    goto out;
  }
  printf("{");
  put_hex("kAkma", k_akma, 32, false);
  put_hex("aTid", a_tid, 32, false);
  printf("\"aKid\":\"%s\"", akid);
  if (with_af) {
    printf(",");
    put_hex("afId", af_id, af_id_len, false);
    put_hex("kaf", k_af, 32, true);
  }
  printf("}\n");
out:
  OPENSSL_cleanse(kausf, sizeof(kausf));
  OPENSSL_cleanse(k_akma, sizeof(k_akma));
  OPENSSL_cleanse(k_af, sizeof(k_af));
  return rc;
}

/* parse-id and parse-akid: one grammar (SPEC.md 2 and 9), two names for the identifier part. */
static int parse_key_id(int argc, char **argv, const char *what, const char *tid_member,
                        kedge_err_t (*parse)(const char *, size_t, kedge_id_t *, const char **))
{
  if (argc != 2 || !strncmp(argv[1], "--", 2))
    return fail(NULL, "expected exactly one argument, the %s", what);
  const char *text = argv[1], *why = NULL;
  kedge_id_t id;
  if (parse(text, strlen(text), &id, &why) != KEDGE_OK)
    return fail(NULL, "malformed %s: %s", what, why);
  /* The TID as written: between the first '.' and the '@' (the parser checked both). */
  const char *tid = strchr(text, '.') + 1;
  printf("{\"rid\":\"%s\",\"%s\":\"%.*s\",\"mcc\":\"%s\",\"mnc\":\"%s\"}\n", id.rid, tid_member,
         KEDGE_TID_B64_LEN, tid, id.home.mcc, id.home.mnc);
  return 0;
}

static int derive_parse_id(int argc, char **argv)
{
  return parse_key_id(argc, argv, "Kedge ID", "tid", kedge_id_parse);
}

static int derive_parse_akid(int argc, char **argv)
{
  return parse_key_id(argc, argv, "A-KID", "aTid", kedge_akid_parse);
}

int kedge_cmd_derive(int argc, char **argv)
{
  static const struct {
    const char *name;
    int (*run)(int, char **);
  } forms[] = {
      {"milenage", derive_milenage}, {"aka", derive_aka},
      {"kedge", derive_kedge},       {"k-ecs", derive_k_ecs},
      {"suci", derive_suci},         {"parse-id", derive_parse_id},
      {"akma", derive_akma},         {"parse-akid", derive_parse_akid},
  };
  form = "";
  if (argc < 2) {
    fputs(usage_text, stderr);
    return EXIT_BAD_INPUT;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(usage_text, stdout);
    return 0;
  }
  for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
    if (strcmp(argv[1], forms[i].name))
      continue;
    form = forms[i].name;
    for (int j = 2; j < argc; j++)
      if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h")) {
        fputs(usage_text, stdout);
        return 0;
      }
    return forms[i].run(argc - 1, argv + 1);
  }
  fprintf(stderr,
          "kedge derive: unknown form '%s' (milenage, aka, kedge, k-ecs, suci, parse-id, akma, "
          "parse-akid)\n",
          argv[1]);
  return EXIT_BAD_INPUT;
}
