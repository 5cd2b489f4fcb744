/* kedge suci keygen: a home network key pair for SUCI concealment (TS 33.501 6.12, C.3).
 * The private key goes to a file of mode 0600, sealed under the UDM's master key
 * (kedge/suci.h); the public key, as TS 33.501 C.4 writes it, goes to stdout as hex for the
 * USIMs (and the UE simulator's ue.suci.home_network_public_key). */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "commands.h"
#include "kedge/cli.h"
#include "kedge/hex.h"
#include "kedge/suci.h"

static const char usage_text[] =
    "Usage: kedge suci keygen --profile A|B --master-key FILE --out FILE\n"
    "Creates a home network key pair for SUCI concealment (TS 33.501 Annex C.3):\n"
    "  --profile A     X25519 (public key 32 octets)\n"
    "  --profile B     secp256r1 (public key 33 octets, compressed)\n"
    "  --master-key    the UDM's master key file (udm.master_key): the private key is sealed\n"
    "                  under it (AES-256-GCM) and never written in the clear\n"
    "  --out FILE      the private key file to create (mode 0600, never overwritten); name it\n"
    "                  in kedge-udmd's udm.suci.keys with the hnPubKeyId you choose\n"
    "Prints the public key as lower-case hex on stdout.\n"
    "Exit status: 0 success, 1 failure (file, master key), 2 bad input.\n";

static int keygen(int argc, char **argv)
{
  kedge_cli_option_t o[] = {
      {"profile", false, NULL}, {"master-key", false, NULL}, {"out", false, NULL}};
  const size_t n = sizeof(o) / sizeof(o[0]);
  char why[400];
  if (kedge_cli_parse(argc, argv, 1, o, n, NULL, 0, NULL, why, sizeof(why))) {
    fprintf(stderr, "kedge suci keygen: %s\n", why);
    return 2;
  }
  for (size_t i = 0; i < n; i++)
    if (!o[i].value) {
      fprintf(stderr, "kedge suci keygen: --%s: required\n", o[i].name);
      return 2;
    }
  kedge_ecies_profile_t profile;
  if (kedge_ecies_profile_parse(kedge_cli_get(o, n, "profile"), &profile)) {
    fprintf(stderr, "kedge suci keygen: --profile: must be A (X25519) or B (secp256r1)\n");
    return 2;
  }
  kedge_master_key_t mk;
  uint8_t priv[KEDGE_ECIES_PRIVATE_LEN], pub[KEDGE_ECIES_PUBLIC_MAX];
  char hex[2 * KEDGE_ECIES_PUBLIC_MAX + 1];
  size_t pub_len = 0;
  int rc = 1;
  if (kedge_master_key_load(kedge_cli_get(o, n, "master-key"), &mk, why, sizeof(why))) {
    fprintf(stderr, "kedge suci keygen: %s\n", why);
    return 1;
  }
  kedge_err_t err = kedge_ecies_keygen(profile, priv, pub, &pub_len);
  if (err)
    fprintf(stderr, "kedge suci keygen: %s\n", kedge_strerror(err));
  else if (kedge_suci_key_file_write(kedge_cli_get(o, n, "out"), &mk, profile, priv, why,
                                     sizeof(why)))
    fprintf(stderr, "kedge suci keygen: %s\n", why);
  else
    rc = 0;
  if (!rc) {
    kedge_hex_encode(pub, pub_len, hex);
    printf("%s\n", hex);
  }
  OPENSSL_cleanse(priv, sizeof(priv));
  kedge_master_key_clear(&mk);
  return rc;
}

int kedge_cmd_suci(int argc, char **argv)
{
  if (argc >= 2 && !strcmp(argv[1], "keygen")) {
    for (int i = 2; i < argc; i++)
      if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
        fputs(usage_text, stdout);
        return 0;
      }
    return keygen(argc - 1, argv + 1);
  }
  if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    fputs(usage_text, stdout);
    return 0;
  }
  fputs(usage_text, stderr);
  return 2;
}
