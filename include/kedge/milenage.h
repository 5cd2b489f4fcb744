/* Milenage, TS 35.206: the 3GPP authentication and key generation functions f1, f1*, f2, f3,
 * f4, f5, f5* on AES-128 (OpenSSL EVP), and OPc from OP. */
#ifndef KEDGE_MILENAGE_H
#define KEDGE_MILENAGE_H

#include <stdint.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KEDGE_K_LEN    16
#define KEDGE_OPC_LEN  16
#define KEDGE_RAND_LEN 16
#define KEDGE_SQN_LEN  6
#define KEDGE_AMF_LEN  2
#define KEDGE_MAC_LEN  8
#define KEDGE_RES_LEN  8
#define KEDGE_CK_LEN   16
#define KEDGE_IK_LEN   16
#define KEDGE_AK_LEN   6

/* TS 35.206 4.1: OPc = E_K(OP) xor OP. */
kedge_err_t kedge_milenage_opc(const uint8_t k[KEDGE_K_LEN], const uint8_t op[16],
                               uint8_t opc[KEDGE_OPC_LEN]);

/* f1 (MAC-A) and f1* (MAC-S) over the same inputs; either output may be NULL. */
kedge_err_t kedge_milenage_f1(const uint8_t k[KEDGE_K_LEN], const uint8_t opc[KEDGE_OPC_LEN],
                              const uint8_t rand[KEDGE_RAND_LEN], const uint8_t sqn[KEDGE_SQN_LEN],
                              const uint8_t amf[KEDGE_AMF_LEN], uint8_t mac_a[KEDGE_MAC_LEN],
                              uint8_t mac_s[KEDGE_MAC_LEN]);

/* f2 (RES), f3 (CK), f4 (IK), f5 (AK) and f5* (AK for resynchronisation) from one RAND;
 * any output may be NULL. */
kedge_err_t kedge_milenage_f2345(const uint8_t k[KEDGE_K_LEN], const uint8_t opc[KEDGE_OPC_LEN],
                                 const uint8_t rand[KEDGE_RAND_LEN], uint8_t res[KEDGE_RES_LEN],
                                 uint8_t ck[KEDGE_CK_LEN], uint8_t ik[KEDGE_IK_LEN],
                                 uint8_t ak[KEDGE_AK_LEN], uint8_t ak_star[KEDGE_AK_LEN]);

#ifdef __cplusplus
}
#endif
#endif
