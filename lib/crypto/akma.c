/* AKMA keys and the A-KID (TS 33.535 6.1 and Annex A; SPEC.md 9). */
#include "kedge/akma.h"

#include <string.h>

#include <openssl/crypto.h>

#include "crypto_int.h"
#include "kedge/kdf.h"

/* TS 33.535 A.2 and A.3: P0 = "AKMA" (L0 = 0x00 0x04) and "A-TID" (L0 = 0x00 0x05). */
static const kedge_kausf_pair_t akma_pair = {KEDGE_FC_K_AKMA, "AKMA", KEDGE_FC_A_TID, "A-TID"};

static const uint8_t ua_spid[KEDGE_UA_SPID_LEN] = KEDGE_UA_SPID_TLS13_PSK;

kedge_err_t kedge_derive_akma_keys(const uint8_t kausf[32], const kedge_supi_t *supi,
                                   uint8_t k_akma[KEDGE_K_AKMA_LEN], uint8_t a_tid[KEDGE_A_TID_LEN])
{
  return kedge_kausf_pair_derive(&akma_pair, kausf, supi, k_akma, a_tid);
}

kedge_err_t kedge_akid_format(const kedge_akid_t *akid, char out[KEDGE_AKID_MAX + 1])
{
  return kedge_nai_key_id_format(akid, out);
}

kedge_err_t kedge_akid_parse(const char *text, size_t len, kedge_akid_t *akid, const char **why)
{
  kedge_err_t err = kedge_nai_key_id_parse(text, len, akid, why);
  return err == KEDGE_ERR_BAD_KEDGE_ID ? KEDGE_ERR_BAD_AKID : err;
}

kedge_err_t kedge_derive_k_akma_and_akid(const uint8_t kausf[32], const kedge_supi_t *supi,
                                         const char *rid, const kedge_plmn_t *home,
                                         uint8_t k_akma[KEDGE_K_AKMA_LEN],
                                         char akid[KEDGE_AKID_MAX + 1])
{
  if (!kausf)
    return KEDGE_ERR_INVALID_ARG;
  return kedge_kausf_pair_derive_with_id(&akma_pair, kausf, NULL, supi, rid, home, k_akma, akid);
}

kedge_err_t kedge_af_id_build(const char *af_fqdn, uint8_t out[KEDGE_AF_ID_MAX], size_t *len)
{
  if (!af_fqdn || !out || !len)
    return KEDGE_ERR_INVALID_ARG;
  size_t n = strnlen(af_fqdn, KEDGE_ECS_ID_MAX + 1);
  if (n == 0 || n > KEDGE_ECS_ID_MAX)
    return KEDGE_ERR_BAD_ECS_ID;
  memcpy(out, af_fqdn, n);
  memcpy(out + n, ua_spid, KEDGE_UA_SPID_LEN);
  *len = n + KEDGE_UA_SPID_LEN;
  return KEDGE_OK;
}

kedge_err_t kedge_derive_k_af(const uint8_t k_akma[KEDGE_K_AKMA_LEN], const char *af_fqdn,
                              uint8_t k_af[KEDGE_K_AF_LEN])
{
  if (!k_akma || !k_af)
    return KEDGE_ERR_INVALID_ARG;
  uint8_t af_id[KEDGE_AF_ID_MAX];
  size_t af_id_len;
  kedge_err_t err = kedge_af_id_build(af_fqdn, af_id, &af_id_len);
  if (err)
    return err;
  const kedge_kdf_param_t p[] = {{af_id, af_id_len}};
  return kedge_kdf(k_akma, KEDGE_K_AKMA_LEN, KEDGE_FC_K_AF, p, 1, k_af);
}
