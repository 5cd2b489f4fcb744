/* An outside program on libkedge-crypto alone (docs/libkedge-crypto.md): for every [kedge-N]
 * block of a known-answer file (tests/vectors/kedge.txt), derive Kedge, the Kedge ID and K_ECS
 * from KAUSF, SUPI, routing indicator and home PLMN (SPEC.md 2 and 6; TS 33.220 Annex B.2 KDF)
 * and compare them with the expected values. Prints one line per block, exits 0 when every
 * block matches, 1 when one does not, 2 when the file cannot be read or a block is malformed.
 *
 *   cc kedge-vectors.c $(pkg-config --cflags --libs kedge-crypto) -o kedge-vectors
 *   ./kedge-vectors tests/vectors/kedge.txt
 *
 * It uses the installed headers only (kedge/edge.h, kedge/identity.h, kedge/hex.h,
 * kedge/error.h) and links no event loop, HTTP, store or configuration library. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "kedge/edge.h"
#include "kedge/error.h"
#include "kedge/hex.h"
#include "kedge/identity.h"

/* One block of the file: the inputs and the expected outputs, as text. */
struct block {
  char name[64];
  char kausf[65], supi[KEDGE_SUPI_MAX + 1], rid[KEDGE_RID_MAX + 1], mcc[4], mnc[4];
  char kedge[65], kedge_id[KEDGE_ID_MAX + 1], ecs_id[KEDGE_ECS_ID_MAX + 1], k_ecs[65];
};

/* "KEY = value" into the field of that name; other keys (S(Kedge), Kedge-TID) are ignored. */
static bool set_field(struct block *b, const char *key, const char *value)
{
  static const struct {
    const char *key;
    size_t offset, size;
  } fields[] = {
#define F(k, m) {k, offsetof(struct block, m), sizeof(((struct block *)0)->m)}
      F("KAUSF", kausf),       F("SUPI", supi),     F("RID", rid),
      F("MCC", mcc),           F("MNC", mnc),       F("Kedge", kedge),
      F("Kedge ID", kedge_id), F("ECS ID", ecs_id), F("K_ECS", k_ecs),
#undef F
  };
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
    if (strcmp(key, fields[i].key) != 0)
      continue;
    if (strlen(value) >= fields[i].size)
      return false;
    strcpy((char *)b + fields[i].offset, value);
  }
  return true;
}

/* 0: every output matches; 1: one differs; 2: the block's inputs are not valid. */
static int check_block(const struct block *b)
{
  uint8_t kausf[32], kedge[KEDGE_KEY_LEN], k_ecs[KEDGE_KEY_LEN];
  uint8_t want_kedge[KEDGE_KEY_LEN], want_k_ecs[KEDGE_KEY_LEN];
  char kedge_id[KEDGE_ID_MAX + 1];
  kedge_supi_t supi;
  kedge_plmn_t home;
  kedge_err_t err;
  int rc = 2;

  if ((err = kedge_hex_decode(b->kausf, kausf, sizeof(kausf))) ||
      (err = kedge_supi_parse(b->supi, &supi)) || (err = kedge_plmn_parse(b->mcc, b->mnc, &home)) ||
      (err = kedge_hex_decode(b->kedge, want_kedge, sizeof(want_kedge))) ||
      (err = kedge_hex_decode(b->k_ecs, want_k_ecs, sizeof(want_k_ecs)))) {
    fprintf(stderr, "[%s]: %s\n", b->name, kedge_strerror(err));
    goto out;
  }
  if ((err = kedge_derive_kedge_and_id(kausf, &supi, b->rid, &home, kedge, kedge_id)) ||
      (err = kedge_derive_k_ecs(kedge, b->ecs_id, k_ecs))) {
    fprintf(stderr, "[%s]: derivation: %s\n", b->name, kedge_strerror(err));
    goto out;
  }
  /* Keys are compared in constant time; the Kedge ID is public. */
  bool ok_kedge = CRYPTO_memcmp(kedge, want_kedge, sizeof(kedge)) == 0;
  bool ok_id = strcmp(kedge_id, b->kedge_id) == 0;
  bool ok_k_ecs = CRYPTO_memcmp(k_ecs, want_k_ecs, sizeof(k_ecs)) == 0;
  printf("[%s] Kedge %s, Kedge ID %s (%s), K_ECS for %s %s\n", b->name, ok_kedge ? "ok" : "DIFFERS",
         ok_id ? "ok" : "DIFFERS", kedge_id, b->ecs_id, ok_k_ecs ? "ok" : "DIFFERS");
  rc = ok_kedge && ok_id && ok_k_ecs ? 0 : 1;
out:
  OPENSSL_cleanse(kausf, sizeof(kausf));
  OPENSSL_cleanse(kedge, sizeof(kedge));
  OPENSSL_cleanse(k_ecs, sizeof(k_ecs));
  OPENSSL_cleanse(want_kedge, sizeof(want_kedge));
  OPENSSL_cleanse(want_k_ecs, sizeof(want_k_ecs));
  return rc;
}

static void trim(char *s)
{
  size_t n = strlen(s);
  while (n > 0 && strchr(" \t\r\n", s[n - 1]))
    s[--n] = '\0';
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: %s VECTOR-FILE (e.g. tests/vectors/kedge.txt)\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "r");
  if (!f) {
    perror(argv[1]);
    return 2;
  }
  struct block b;
  bool in_block = false;
  int worst = 0, blocks = 0;
  char line[512];
  unsigned lineno = 0;
  for (;;) {
    bool eof = !fgets(line, sizeof(line), f);
    lineno++;
    if (!eof)
      trim(line);
    if ((eof || line[0] == '[') && in_block) {
      int rc = check_block(&b);
      worst = rc > worst ? rc : worst;
      blocks++;
      in_block = false;
    }
    if (eof)
      break;
    if (strncmp(line, "[kedge-", 7) == 0) {
      memset(&b, 0, sizeof(b));
      snprintf(b.name, sizeof(b.name), "%.*s", (int)strcspn(line + 1, "]"), line + 1);
      in_block = true;
      continue;
    }
    char *eq = strchr(line, '=');
    if (!in_block || line[0] == '#' || !eq)
      continue;
    *eq = '\0';
    char *value = eq + 1 + strspn(eq + 1, " ");
    trim(line);
    if (!set_field(&b, line, value)) {
      fprintf(stderr, "%s:%u: %s: value too long\n", argv[1], lineno, line);
      worst = 2;
    }
  }
  fclose(f);
  if (blocks == 0) {
    fprintf(stderr, "%s: no [kedge-N] block\n", argv[1]);
    return 2;
  }
  printf("%d block(s): %s\n", blocks, worst == 0 ? "all match" : "MISMATCH");
  return worst;
}
