/* Milenage, TS 35.206 4.1, with AES-128 from OpenSSL EVP (the kernel function E_K). */
#include "kedge/milenage.h"

#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* The rotation amounts r1..r5 (in octets) and constants c1..c5 (last octet; the rest zero)
 * of TS 35.206 4.1. */
enum { R1 = 8, R2 = 0, R3 = 4, R4 = 8, R5 = 12 };
enum { C1 = 0, C2 = 1, C3 = 2, C4 = 4, C5 = 8 };

typedef struct milenage {
  EVP_CIPHER_CTX *aes; /* E_K, keyed with K */
  uint8_t opc[16];
} milenage_t;

/* An explicit fetch once: EVP_aes_128_ecb() would fetch implicitly on every key set-up. */
static EVP_CIPHER *aes128_ecb;
static pthread_once_t aes_once = PTHREAD_ONCE_INIT;

static void fetch_aes(void)
{
  aes128_ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
}

static void milenage_end(milenage_t *m)
{
  EVP_CIPHER_CTX_free(m->aes); /* cleanses the key schedule */
  OPENSSL_cleanse(m->opc, sizeof(m->opc));
}

static kedge_err_t milenage_begin(milenage_t *m, const uint8_t k[16], const uint8_t opc[16])
{
  pthread_once(&aes_once, fetch_aes);
  if (!aes128_ecb)
    return KEDGE_ERR_CRYPTO;
  m->aes = EVP_CIPHER_CTX_new();
  if (!m->aes || !EVP_EncryptInit_ex2(m->aes, aes128_ecb, k, NULL, NULL) ||
      !EVP_CIPHER_CTX_set_padding(m->aes, 0)) {
    EVP_CIPHER_CTX_free(m->aes);
    m->aes = NULL;
    return KEDGE_ERR_CRYPTO;
  }
  if (opc)
    memcpy(m->opc, opc, 16);
  return KEDGE_OK;
}

static kedge_err_t encrypt_block(milenage_t *m, const uint8_t in[16], uint8_t out[16])
{
  int n = 0;
  if (!EVP_EncryptUpdate(m->aes, out, &n, in, 16) || n != 16)
    return KEDGE_ERR_CRYPTO;
  return KEDGE_OK;
}

/* OUTn = E_K(rot(base xor OPc, rn) xor cn) xor OPc, rot() a cyclic left rotation. */
static kedge_err_t out_n(milenage_t *m, const uint8_t base[16], int r, uint8_t c, uint8_t out[16])
{
  uint8_t x[16], rotated[16];
  for (int i = 0; i < 16; i++)
    x[i] = base[i] ^ m->opc[i];
  for (int i = 0; i < 16; i++)
    rotated[i] = x[(i + r) % 16];
  rotated[15] ^= c;
  kedge_err_t err = encrypt_block(m, rotated, out);
  for (int i = 0; i < 16; i++)
    out[i] ^= m->opc[i];
  OPENSSL_cleanse(x, sizeof(x));
  OPENSSL_cleanse(rotated, sizeof(rotated));
  return err;
}

/* TEMP = E_K(RAND xor OPc). */
static kedge_err_t temp_of(milenage_t *m, const uint8_t rand[16], uint8_t temp[16])
{
  uint8_t x[16];
  for (int i = 0; i < 16; i++)
    x[i] = rand[i] ^ m->opc[i];
  kedge_err_t err = encrypt_block(m, x, temp);
  OPENSSL_cleanse(x, sizeof(x));
  return err;
}

kedge_err_t kedge_milenage_opc(const uint8_t k[16], const uint8_t op[16], uint8_t opc[16])
{
  if (!k || !op || !opc)
    return KEDGE_ERR_INVALID_ARG;
  milenage_t m = {0};
  kedge_err_t err = milenage_begin(&m, k, NULL);
  uint8_t e[16];
  if (!err)
    err = encrypt_block(&m, op, e);
  if (!err)
    for (int i = 0; i < 16; i++)
      opc[i] = e[i] ^ op[i];
  OPENSSL_cleanse(e, sizeof(e));
  milenage_end(&m);
  return err;
}

kedge_err_t kedge_milenage_f1(const uint8_t k[16], const uint8_t opc[16], const uint8_t rand[16],
                              const uint8_t sqn[6], const uint8_t amf[2], uint8_t mac_a[8],
                              uint8_t mac_s[8])
{
  if (!k || !opc || !rand || !sqn || !amf)
    return KEDGE_ERR_INVALID_ARG;
  milenage_t m = {0};
  kedge_err_t err = milenage_begin(&m, k, opc);
  if (err)
    return err;

  uint8_t temp[16], in1[16], x[16], out1[16];
  /* IN1 = SQN || AMF || SQN || AMF; OUT1 = E_K(TEMP xor rot(IN1 xor OPc, r1) xor c1) xor OPc */
  memcpy(in1, sqn, 6);
  memcpy(in1 + 6, amf, 2);
  memcpy(in1 + 8, in1, 8);
  err = temp_of(&m, rand, temp);
  if (!err) {
    for (int i = 0; i < 16; i++)
      x[i] = in1[(i + R1) % 16] ^ m.opc[(i + R1) % 16];
    x[15] ^= C1;
    for (int i = 0; i < 16; i++)
      x[i] ^= temp[i];
    err = encrypt_block(&m, x, out1);
  }
  if (!err) {
    for (int i = 0; i < 16; i++)
      out1[i] ^= m.opc[i];
    if (mac_a)
      memcpy(mac_a, out1, 8);
    if (mac_s)
      memcpy(mac_s, out1 + 8, 8);
  }
  OPENSSL_cleanse(temp, sizeof(temp));
  OPENSSL_cleanse(x, sizeof(x));
  OPENSSL_cleanse(out1, sizeof(out1));
  milenage_end(&m);
  return err;
}

kedge_err_t kedge_milenage_f2345(const uint8_t k[16], const uint8_t opc[16], const uint8_t rand[16],
                                 uint8_t res[8], uint8_t ck[16], uint8_t ik[16], uint8_t ak[6],
                                 uint8_t ak_star[6])
{
  if (!k || !opc || !rand)
    return KEDGE_ERR_INVALID_ARG;
  milenage_t m = {0};
  kedge_err_t err = milenage_begin(&m, k, opc);
  if (err)
    return err;

  /* rot(TEMP xor OPc, rn) xor cn with the base TEMP: out_n xors OPc in. */
  uint8_t temp[16], out[16];
  err = temp_of(&m, rand, temp);
  if (!err && (res || ak) && !(err = out_n(&m, temp, R2, C2, out))) {
    if (ak)
      memcpy(ak, out, 6); /* f5 */
    if (res)
      memcpy(res, out + 8, 8); /* f2 */
  }
  if (!err && ck)
    err = out_n(&m, temp, R3, C3, ck); /* f3 */
  if (!err && ik)
    err = out_n(&m, temp, R4, C4, ik); /* f4 */
  if (!err && ak_star && !(err = out_n(&m, temp, R5, C5, out)))
    memcpy(ak_star, out, 6); /* f5* */
  OPENSSL_cleanse(temp, sizeof(temp));
  OPENSSL_cleanse(out, sizeof(out));
  milenage_end(&m);
  return err;
}
