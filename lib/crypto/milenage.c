/* Milenage, TS 35.206 4.1, with AES-128 from OpenSSL EVP (the kernel function E_K). */
/* E_K keyed once with K, and TEMP = E_K(RAND xor OPc) computed once (kedge_milenage_run_t,
 * crypto_int.h): f1 and f2..f5* of one RAND share both (docs/crypto.md). */
#include "kedge/milenage.h"

#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto_int.h"

/* The rotation amounts r1..r5 (in octets) and constants c1..c5 (last octet; the rest zero)
 * of TS 35.206 4.1. */
enum { R1 = 8, R2 = 0, R3 = 4, R4 = 8, R5 = 12 };
enum { C1 = 0, C2 = 1, C3 = 2, C4 = 4, C5 = 8 };

/* An explicit fetch once: EVP_aes_128_ecb() would fetch implicitly on every key set-up. */
static EVP_CIPHER *aes128_ecb;
static pthread_once_t aes_once = PTHREAD_ONCE_INIT;

static void fetch_aes(void)
{
  aes128_ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
}

void kedge_milenage_run_end(kedge_milenage_run_t *m)
{
  EVP_CIPHER_CTX_free(m->aes); /* cleanses the key schedule */
  m->aes = NULL;
  OPENSSL_cleanse(m->opc, sizeof(m->opc));
  OPENSSL_cleanse(m->temp, sizeof(m->temp));
}

static kedge_err_t encrypt_block(kedge_milenage_run_t *m, const uint8_t in[16], uint8_t out[16])
{
  int n = 0;
  if (!EVP_EncryptUpdate(m->aes, out, &n, in, 16) || n != 16)
    return KEDGE_ERR_CRYPTO;
  return KEDGE_OK;
}

/* E_K keyed with K; OPc and RAND may be NULL (OPc from OP needs E_K alone). */
static kedge_err_t run_begin(kedge_milenage_run_t *m, const uint8_t k[16], const uint8_t opc[16],
                             const uint8_t rand[16])
{
  memset(m, 0, sizeof(*m));
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
  if (!opc || !rand)
    return KEDGE_OK;
  memcpy(m->opc, opc, 16);
  /* TEMP = E_K(RAND xor OPc) */
  uint8_t x[16];
  for (int i = 0; i < 16; i++)
    x[i] = rand[i] ^ m->opc[i];
  kedge_err_t err = encrypt_block(m, x, m->temp);
  OPENSSL_cleanse(x, sizeof(x));
  if (err)
    kedge_milenage_run_end(m);
  return err;
}

kedge_err_t kedge_milenage_run_begin(kedge_milenage_run_t *m, const uint8_t k[16],
                                     const uint8_t opc[16], const uint8_t rand[16])
{
  if (!m || !k || !opc || !rand)
    return KEDGE_ERR_INVALID_ARG;
  return run_begin(m, k, opc, rand);
}

/* OUTn = E_K(rot(TEMP xor OPc, rn) xor cn) xor OPc, rot() a cyclic left rotation. */
static kedge_err_t out_n(kedge_milenage_run_t *m, int r, uint8_t c, uint8_t out[16])
{
  uint8_t x[16], rotated[16];
  for (int i = 0; i < 16; i++)
    x[i] = m->temp[i] ^ m->opc[i];
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

kedge_err_t kedge_milenage_opc(const uint8_t k[16], const uint8_t op[16], uint8_t opc[16])
{
  if (!k || !op || !opc)
    return KEDGE_ERR_INVALID_ARG;
  kedge_milenage_run_t m;
  kedge_err_t err = run_begin(&m, k, NULL, NULL);
  uint8_t e[16];
  if (!err)
    err = encrypt_block(&m, op, e);
  if (!err)
    for (int i = 0; i < 16; i++)
      opc[i] = e[i] ^ op[i];
  OPENSSL_cleanse(e, sizeof(e));
  kedge_milenage_run_end(&m);
  return err;
}

kedge_err_t kedge_milenage_run_f1(kedge_milenage_run_t *m, const uint8_t sqn[6],
                                  const uint8_t amf[2], uint8_t mac_a[8], uint8_t mac_s[8])
{
  if (!m || !m->aes || !sqn || !amf)
    return KEDGE_ERR_INVALID_ARG;
  uint8_t in1[16], x[16], out1[16];
  /* IN1 = SQN || AMF || SQN || AMF; OUT1 = E_K(TEMP xor rot(IN1 xor OPc, r1) xor c1) xor OPc */
  memcpy(in1, sqn, 6);
  memcpy(in1 + 6, amf, 2);
  memcpy(in1 + 8, in1, 8);
  for (int i = 0; i < 16; i++)
    x[i] = in1[(i + R1) % 16] ^ m->opc[(i + R1) % 16];
  x[15] ^= C1;
  for (int i = 0; i < 16; i++)
    x[i] ^= m->temp[i];
  kedge_err_t err = encrypt_block(m, x, out1);
  if (!err) {
    for (int i = 0; i < 16; i++)
      out1[i] ^= m->opc[i];
    if (mac_a)
      memcpy(mac_a, out1, 8);
    if (mac_s)
      memcpy(mac_s, out1 + 8, 8);
  }
  OPENSSL_cleanse(x, sizeof(x));
  OPENSSL_cleanse(out1, sizeof(out1));
  return err;
}

kedge_err_t kedge_milenage_run_f2345(kedge_milenage_run_t *m, uint8_t res[8], uint8_t ck[16],
                                     uint8_t ik[16], uint8_t ak[6], uint8_t ak_star[6])
{
  if (!m || !m->aes)
    return KEDGE_ERR_INVALID_ARG;
  uint8_t out[16];
  kedge_err_t err = KEDGE_OK;
  if ((res || ak) && !(err = out_n(m, R2, C2, out))) {
    if (ak)
      memcpy(ak, out, 6); /* f5 */
    if (res)
      memcpy(res, out + 8, 8); /* f2 */
  }
  if (!err && ck)
    err = out_n(m, R3, C3, ck); /* f3 */
  if (!err && ik)
    err = out_n(m, R4, C4, ik); /* f4 */
  if (!err && ak_star && !(err = out_n(m, R5, C5, out)))
    memcpy(ak_star, out, 6); /* f5* */
  OPENSSL_cleanse(out, sizeof(out));
  return err;
}

kedge_err_t kedge_milenage_f1(const uint8_t k[16], const uint8_t opc[16], const uint8_t rand[16],
                              const uint8_t sqn[6], const uint8_t amf[2], uint8_t mac_a[8],
                              uint8_t mac_s[8])
{
  if (!k || !opc || !rand || !sqn || !amf)
    return KEDGE_ERR_INVALID_ARG;
  kedge_milenage_run_t m;
  kedge_err_t err = run_begin(&m, k, opc, rand);
  if (err)
    return err;
  err = kedge_milenage_run_f1(&m, sqn, amf, mac_a, mac_s);
  kedge_milenage_run_end(&m);
  return err;
}

kedge_err_t kedge_milenage_f2345(const uint8_t k[16], const uint8_t opc[16], const uint8_t rand[16],
                                 uint8_t res[8], uint8_t ck[16], uint8_t ik[16], uint8_t ak[6],
                                 uint8_t ak_star[6])
{
  if (!k || !opc || !rand)
    return KEDGE_ERR_INVALID_ARG;
  kedge_milenage_run_t m;
  kedge_err_t err = run_begin(&m, k, opc, rand);
  if (err)
    return err;
  err = kedge_milenage_run_f2345(&m, res, ck, ik, ak, ak_star);
  kedge_milenage_run_end(&m);
  return err;
}
