/* 5G AKA key material: TS 33.501 6.1.3.2 and Annex A, TS 33.102 6.3. */
#include "kedge/aka.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto_int.h"
#include "kedge/kdf.h"
#include "kedge/sqn.h"

static kedge_kdf_param_t param(const void *data, size_t len)
{
  return (kedge_kdf_param_t){.data = data, .len = len};
}

/* TS 33.501 A.2 KAUSF and A.4 RES* (XRES*), with the KDF keyed by CK || IK (ck_ik_key). */
static kedge_err_t kausf_with(kedge_kdf_key_t *ck_ik, const char *snn, const uint8_t sqn_xor_ak[6],
                              uint8_t kausf[32])
{
  const kedge_kdf_param_t p[] = {param(snn, strlen(snn)), param(sqn_xor_ak, 6)};
  return kedge_kdf_derive(ck_ik, KEDGE_FC_KAUSF, p, 2, kausf);
}

static kedge_err_t res_star_with(kedge_kdf_key_t *ck_ik, const char *snn, const uint8_t rand[16],
                                 const uint8_t *res, size_t res_len, uint8_t res_star[16])
{
  uint8_t out[32];
  const kedge_kdf_param_t p[] = {param(snn, strlen(snn)), param(rand, 16), param(res, res_len)};
  kedge_err_t err = kedge_kdf_derive(ck_ik, KEDGE_FC_RES_STAR, p, 3, out);
  if (!err)
    memcpy(res_star, out + 16, 16); /* the 128 least significant bits */
  OPENSSL_cleanse(out, sizeof(out));
  return err;
}

/* The KDF key CK || IK (both derivations above use it). */
static kedge_err_t ck_ik_key(const uint8_t ck[16], const uint8_t ik[16], kedge_kdf_key_t **out)
{
  uint8_t key[32];
  memcpy(key, ck, 16);
  memcpy(key + 16, ik, 16);
  kedge_err_t err = kedge_kdf_key_new(key, sizeof(key), out);
  OPENSSL_cleanse(key, sizeof(key));
  return err;
}

kedge_err_t kedge_aka_kausf(const uint8_t ck[16], const uint8_t ik[16], const char *snn,
                            const uint8_t sqn_xor_ak[6], uint8_t kausf[32])
{
  if (!ck || !ik || !snn || !sqn_xor_ak || !kausf)
    return KEDGE_ERR_INVALID_ARG;
  kedge_kdf_key_t *k;
  kedge_err_t err = ck_ik_key(ck, ik, &k);
  if (!err)
    err = kausf_with(k, snn, sqn_xor_ak, kausf);
  kedge_kdf_key_free(k);
  return err;
}

kedge_err_t kedge_aka_res_star(const uint8_t ck[16], const uint8_t ik[16], const char *snn,
                               const uint8_t rand[16], const uint8_t *res, size_t res_len,
                               uint8_t res_star[16])
{
  /* TS 33.102: RES is 4 to 16 octets. */
  if (!ck || !ik || !snn || !rand || !res || res_len < 4 || res_len > 16 || !res_star)
    return KEDGE_ERR_INVALID_ARG;
  kedge_kdf_key_t *k;
  kedge_err_t err = ck_ik_key(ck, ik, &k);
  if (!err)
    err = res_star_with(k, snn, rand, res, res_len, res_star);
  kedge_kdf_key_free(k);
  return err;
}

kedge_err_t kedge_aka_hxres_star(const uint8_t rand[16], const uint8_t xres_star[16],
                                 uint8_t hxres_star[16])
{
  if (!rand || !xres_star || !hxres_star)
    return KEDGE_ERR_INVALID_ARG;
  uint8_t in[32], md[32];
  memcpy(in, rand, 16);
  memcpy(in + 16, xres_star, 16);
  kedge_err_t err = kedge_sha256(in, sizeof(in), md);
  if (!err)
    memcpy(hxres_star, md + 16, 16); /* A.5: the 128 least significant bits */
  OPENSSL_cleanse(in, sizeof(in));
  return err;
}

/* TS 33.501 A.6 KSEAF, with the KDF keyed by KAUSF. */
static kedge_err_t kseaf_with(kedge_kdf_key_t *kausf, const char *snn, uint8_t kseaf[32])
{
  const kedge_kdf_param_t p[] = {param(snn, strlen(snn))};
  return kedge_kdf_derive(kausf, KEDGE_FC_KSEAF, p, 1, kseaf);
}

kedge_err_t kedge_aka_kseaf(const uint8_t kausf[32], const char *snn, uint8_t kseaf[32])
{
  if (!kausf || !snn || !kseaf)
    return KEDGE_ERR_INVALID_ARG;
  kedge_kdf_key_t *k;
  kedge_err_t err = kedge_kdf_key_new(kausf, 32, &k);
  if (!err)
    err = kseaf_with(k, snn, kseaf);
  kedge_kdf_key_free(k);
  return err;
}

kedge_err_t kedge_aka_kseaf_keyed(kedge_kdf_key_t *kausf_key, const char *snn, uint8_t kseaf[32])
{
  if (!kausf_key || !snn || !kseaf)
    return KEDGE_ERR_INVALID_ARG;
  return kseaf_with(kausf_key, snn, kseaf);
}

kedge_err_t kedge_aka_generate_he_av(const kedge_aka_credentials_t *cred, const uint8_t rand[16],
                                     uint64_t sqn, const uint8_t amf[2], const char *snn,
                                     kedge_he_av_t *av)
{
  if (!cred || !rand || !amf || !snn || !av || sqn > KEDGE_SQN_MAX)
    return KEDGE_ERR_INVALID_ARG;
  uint8_t sqn_b[6], res[8], ck[16], ik[16], ak[6], mac_a[8];
  kedge_sqn_to_bytes(sqn, sqn_b);
  /* f1 and f2..f5 under one E_K and TEMP (kedge_milenage_run_t) */
  kedge_milenage_run_t m;
  kedge_err_t err = kedge_milenage_run_begin(&m, cred->k, cred->opc, rand);
  if (!err) {
    err = kedge_milenage_run_f1(&m, sqn_b, amf, mac_a, NULL);
    if (!err)
      err = kedge_milenage_run_f2345(&m, res, ck, ik, ak, NULL);
    kedge_milenage_run_end(&m);
  }
  if (!err) {
    memcpy(av->rand, rand, 16);
    /* TS 33.102 6.3.2: AUTN = SQN xor AK || AMF || MAC */
    for (int i = 0; i < 6; i++)
      av->autn[i] = sqn_b[i] ^ ak[i];
    memcpy(av->autn + 6, amf, 2);
    memcpy(av->autn + 8, mac_a, 8);
  }
  /* XRES* and KAUSF with one KDF key, CK || IK: the HMAC key set up once per vector */
  kedge_kdf_key_t *ck_ik = NULL;
  if (!err)
    err = ck_ik_key(ck, ik, &ck_ik);
  if (!err)
    err = res_star_with(ck_ik, snn, rand, res, sizeof(res), av->xres_star);
  if (!err)
    err = kausf_with(ck_ik, snn, av->autn, av->kausf);
  kedge_kdf_key_free(ck_ik);
  if (err)
    OPENSSL_cleanse(av, sizeof(*av));
  OPENSSL_cleanse(res, sizeof(res));
  OPENSSL_cleanse(ck, sizeof(ck));
  OPENSSL_cleanse(ik, sizeof(ik));
  OPENSSL_cleanse(ak, sizeof(ak));
  return err;
}

kedge_err_t kedge_aka_autn_check(const kedge_aka_credentials_t *cred, const uint8_t rand[16],
                                 const uint8_t autn[16], uint64_t *sqn, uint8_t res[8],
                                 uint8_t ck[16], uint8_t ik[16])
{
  if (!cred || !rand || !autn || !sqn)
    return KEDGE_ERR_INVALID_ARG;
  uint8_t ak[6], sqn_b[6], xmac[8];
  kedge_milenage_run_t m;
  kedge_err_t err = kedge_milenage_run_begin(&m, cred->k, cred->opc, rand);
  if (!err) {
    err = kedge_milenage_run_f2345(&m, res, ck, ik, ak, NULL);
    if (!err) {
      for (int i = 0; i < 6; i++)
        sqn_b[i] = autn[i] ^ ak[i];
      err = kedge_milenage_run_f1(&m, sqn_b, autn + 6, xmac, NULL);
    }
    kedge_milenage_run_end(&m);
  }
  /* TS 33.102 6.3.3: XMAC = MAC, compared in constant time */
  if (!err && CRYPTO_memcmp(xmac, autn + 8, 8) != 0)
    err = KEDGE_ERR_MAC_FAILURE;
  if (!err)
    *sqn = kedge_sqn_from_bytes(sqn_b);
  OPENSSL_cleanse(ak, sizeof(ak));
  OPENSSL_cleanse(xmac, sizeof(xmac));
  return err;
}

kedge_err_t kedge_aka_auts_build(const kedge_aka_credentials_t *cred, const uint8_t rand[16],
                                 uint64_t sqn_ms, uint8_t auts[14])
{
  if (!cred || !rand || !auts || sqn_ms > KEDGE_SQN_MAX)
    return KEDGE_ERR_INVALID_ARG;
  static const uint8_t amf_resync[2] = {0, 0}; /* TS 33.102 6.3.3: AMF* = 0 for MAC-S */
  uint8_t sqn_b[6], ak_star[6], mac_s[8];
  kedge_sqn_to_bytes(sqn_ms, sqn_b);
  kedge_err_t err = kedge_milenage_f2345(cred->k, cred->opc, rand, NULL, NULL, NULL, NULL, ak_star);
  if (!err)
    err = kedge_milenage_f1(cred->k, cred->opc, rand, sqn_b, amf_resync, NULL, mac_s);
  if (!err) {
    for (int i = 0; i < 6; i++)
      auts[i] = sqn_b[i] ^ ak_star[i];
    memcpy(auts + 6, mac_s, 8);
  }
  OPENSSL_cleanse(ak_star, sizeof(ak_star));
  return err;
}

kedge_err_t kedge_aka_auts_check(const kedge_aka_credentials_t *cred, const uint8_t rand[16],
                                 const uint8_t auts[14], uint64_t *sqn_ms)
{
  if (!cred || !rand || !auts || !sqn_ms)
    return KEDGE_ERR_INVALID_ARG;
  static const uint8_t amf_resync[2] = {0, 0};
  uint8_t sqn_b[6], ak_star[6], xmac_s[8];
  kedge_err_t err = kedge_milenage_f2345(cred->k, cred->opc, rand, NULL, NULL, NULL, NULL, ak_star);
  if (!err) {
    for (int i = 0; i < 6; i++)
      sqn_b[i] = auts[i] ^ ak_star[i];
    err = kedge_milenage_f1(cred->k, cred->opc, rand, sqn_b, amf_resync, NULL, xmac_s);
  }
  /* TS 33.102 6.3.5: the HE verifies MAC-S before trusting SQNms */
  if (!err && CRYPTO_memcmp(xmac_s, auts + 6, 8) != 0)
    err = KEDGE_ERR_MAC_FAILURE;
  if (!err)
    *sqn_ms = kedge_sqn_from_bytes(sqn_b);
  OPENSSL_cleanse(ak_star, sizeof(ak_star));
  return err;
}

kedge_err_t kedge_aka_ue_respond(const kedge_aka_credentials_t *cred, uint64_t sqn_ms,
                                 const uint8_t rand[16], const uint8_t autn[16], const char *snn,
                                 kedge_ue_aka_result_t *result, uint8_t auts[14])
{
  return kedge_aka_ue_respond_keyed(cred, sqn_ms, rand, autn, snn, result, auts, NULL);
}

kedge_err_t kedge_aka_ue_respond_keyed(const kedge_aka_credentials_t *cred, uint64_t sqn_ms,
                                       const uint8_t rand[16], const uint8_t autn[16],
                                       const char *snn, kedge_ue_aka_result_t *result,
                                       uint8_t auts[14], kedge_kdf_key_t **kausf_key)
{
  if (kausf_key)
    *kausf_key = NULL;
  if (!cred || !rand || !autn || !snn || !result)
    return KEDGE_ERR_INVALID_ARG;
  uint8_t res[8], ck[16], ik[16];
  uint64_t sqn = 0;
  kedge_err_t err = kedge_aka_autn_check(cred, rand, autn, &sqn, res, ck, ik);
  if (!err && !kedge_sqn_is_fresh(sqn_ms, sqn)) {
    err = KEDGE_ERR_SYNC_FAILURE;
    if (auts) {
      kedge_err_t e = kedge_aka_auts_build(cred, rand, sqn_ms, auts);
      if (e)
        err = e;
    }
  }
  /* RES* and KAUSF with one KDF key, CK || IK, as the UDM's vector (kedge_aka_generate_he_av) */
  kedge_kdf_key_t *ck_ik = NULL;
  if (!err) {
    result->sqn = sqn;
    err = ck_ik_key(ck, ik, &ck_ik);
  }
  if (!err)
    err = res_star_with(ck_ik, snn, rand, res, sizeof(res), result->res_star);
  /* TS 33.501 A.2: KAUSF over the SQN xor AK as received in AUTN */
  if (!err)
    err = kausf_with(ck_ik, snn, autn, result->kausf);
  kedge_kdf_key_free(ck_ik);
  /* TS 33.501 A.6: KSEAF under the key KAUSF, kept for the caller when asked */
  kedge_kdf_key_t *k = NULL;
  if (!err)
    err = kedge_kdf_key_new(result->kausf, 32, &k);
  if (!err)
    err = kseaf_with(k, snn, result->kseaf);
  if (!err && kausf_key)
    *kausf_key = k;
  else
    kedge_kdf_key_free(k);
  if (err)
    OPENSSL_cleanse(result, sizeof(*result));
  OPENSSL_cleanse(res, sizeof(res));
  OPENSSL_cleanse(ck, sizeof(ck));
  OPENSSL_cleanse(ik, sizeof(ik));
  return err;
}
