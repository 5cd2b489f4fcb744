/* kedge error codes: one enum for the whole library (STYLE.md "Errors").
 * Every fallible function returns a kedge_err_t; 0 is success. Nothing in libkedge aborts on
 * input from a peer, a file or load. The mapping to HTTP status + ProblemDetails cause lives
 * in one place in lib/sbi. */
#ifndef KEDGE_ERROR_H
#define KEDGE_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kedge_err {
  KEDGE_OK = 0,
  KEDGE_ERR_INVALID_ARG,   /* programmer error: NULL or impossible argument */
  KEDGE_ERR_BAD_HEX,       /* not lower/upper-case hex, or odd length */
  KEDGE_ERR_BAD_LENGTH,    /* a field has the wrong length */
  KEDGE_ERR_BAD_SUPI,      /* SUPI not imsi-<5..15 digits> or nai-<user@realm> */
  KEDGE_ERR_BAD_PLMN,      /* MCC not 3 digits or MNC not 2-3 digits */
  KEDGE_ERR_BAD_RID,       /* routing indicator not 1-4 decimal digits */
  KEDGE_ERR_BAD_KEDGE_ID,  /* Kedge ID outside the SPEC.md section 2 grammar */
  KEDGE_ERR_BAD_ECS_ID,    /* ECS ID not a DNS name (SPEC.md section 6) */
  KEDGE_ERR_MAC_FAILURE,   /* MAC-A or MAC-S does not verify */
  KEDGE_ERR_SYNC_FAILURE,  /* SQN outside the freshness window: resynchronise */
  KEDGE_ERR_SQN_EXHAUSTED, /* the 48-bit SQN counter cannot advance */
  KEDGE_ERR_CRYPTO,        /* OpenSSL failed (allocation or provider) */
  KEDGE_ERR_NOMEM,         /* allocation failed */
  KEDGE_ERR_TOO_BIG,       /* a bounded buffer would exceed its limit */
  KEDGE_ERR_NOT_FOUND,     /* no such entry */
  KEDGE_ERR_IO,            /* file or socket I/O failed */
  KEDGE_ERR_CONFIG,        /* configuration rejected */
  KEDGE_ERR_BUSY,          /* a bounded pool is full: try later */
  KEDGE_ERR_TIMEOUT,       /* a peer did not answer in time */
  KEDGE_ERR_UNAVAILABLE,   /* a peer or store is unreachable */
  KEDGE_ERR_FORBIDDEN,     /* the caller is not authorised */
  KEDGE_ERR_UNSUPPORTED,   /* valid, but not implemented (e.g. protected SUCI schemes) */
  KEDGE_ERR_EXISTS,        /* an entry or file of that name exists already */
  KEDGE_ERR_BAD_AKID,      /* A-KID outside the SPEC.md section 9 grammar */
  KEDGE_ERR__COUNT
} kedge_err_t;

/* A short English description of the code; never NULL, never contains key material. */
const char *kedge_strerror(kedge_err_t err);

#ifdef __cplusplus
}
#endif
#endif
