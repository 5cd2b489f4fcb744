/* kedge-ue: a UE with its USIM, acting as the SEAF toward the home AUSF (TS 33.501 6.1.3.2,
 * Nausf_UEAuthentication of TS 29.509), then deriving Kedge and the Kedge ID (SPEC.md 0 step 1).
 * The registration is a library call on a libevent loop (ue_register), so that the agent of the
 * ECS issue can run it and keep the keys in memory; `kedge-ue register` is its synchronous use
 * (ue_register_sync). docs/ue.md describes the command and its choices. */
#ifndef KEDGE_UE_H
#define KEDGE_UE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <curl/curl.h>

#include "kedge/aka.h"
#include "kedge/config.h"
#include "kedge/edge.h"
#include "kedge/fingerprint.h"
#include "kedge/identity.h"
#include "kedge/log.h"
#include "kedge/sbi_client.h"
#include "kedge/suci.h"

struct event_base;

#define UE_URI_MAX  1024 /* the AUSF's apiRoot, and a resolved 5g-aka href */
#define UE_PATH_MAX 4096 /* sqn_file and certificate paths */

/* The USIM (TS 31.102 in spirit): the subscriber's identity and long-term credentials, the home
 * network and routing indicator it derives the Kedge ID with, and where SQNms is kept. */
typedef struct ue_usim {
  kedge_supi_t supi;
  kedge_aka_credentials_t cred; /* K and OPc: fixed buffers, wiped by ue_config_clear */
  char rid[KEDGE_RID_MAX + 1];  /* routing indicator, digits as provisioned (default "0") */
  kedge_plmn_t home;            /* HPLMN: the realm of the Kedge ID (SPEC.md 2) */
  char sqn_file[UE_PATH_MAX];   /* holds SQNms as 12 hex digits */
  char home_mnc[4];             /* the MNC as written (2 or 3 digits): the IMSI's split */
  /* SUCI calculation (TS 31.102 EF SUCI_Calc_Info; TS 33.501 6.12.2): with conceal set, every
   * request carries a SUCI made with a fresh ephemeral key instead of the SUPI. */
  bool conceal;
  unsigned suci_scheme; /* KEDGE_SUCI_NULL, _PROFILE_A, _PROFILE_B */
  unsigned hn_key_id;   /* hnPubKeyId, 1..255 (0 for the null scheme) */
  uint8_t hn_public_key[KEDGE_ECIES_PUBLIC_MAX];
  size_t hn_public_key_len;
  bool akma; /* the network supports AKMA: derive K_AKMA and the A-KID
                after 5G AKA (TS 33.535 6.1, SPEC.md 9) */
} ue_usim_t;

typedef struct ue_config {
  ue_usim_t usim;
  kedge_plmn_t serving;        /* the serving network (default: home) */
  char snn[KEDGE_SNN_LEN + 1]; /* its serving network name */
  char ausf_uri[UE_URI_MAX];   /* apiRoot: https://host:port[/prefix], no '/' at the end */
  char token_uri[UE_URI_MAX];  /* ausf.oauth2_token_uri: the NRF's Nnrf_AccessToken, "" off */
  /* the SEAF's TLS identity: CA bundle, client certificate and key */
  char ca[UE_PATH_MAX];
  char cert[UE_PATH_MAX];
  char key[UE_PATH_MAX];
  uint32_t timeout_ms;         /* per request to the AUSF */
  kedge_log_level_t log_level; /* log: section, as every kedge program */
  bool log_json;
  /* agent: section (kedge-ue agent, SPEC.md 5) */
  char agent_socket[108]; /* Unix socket path (sun_path holds 108 octets) */
  char agent_group[64];   /* group owning the socket (mode 0660) and its directory; "" */
  long agent_uids[16];    /* peers allowed by SO_PEERCRED; none listed: the agent's uid */
  size_t n_agent_uids;
} ue_config_t;

/* Reads the usim:, serving_network:, ausf: and log: sections from a loaded file into *cfg
 * (problems are recorded in the file's error line: call kedge_config_finish afterwards).
 * Everything is copied: the kedge_config_t may be freed after. */
kedge_err_t ue_config_read(kedge_config_node_t *root, ue_config_t *cfg);
/* Loads `path` and reads it: on error `why` holds one line "FILE:LINE: key: problem". */
kedge_err_t ue_config_load(const char *path, ue_config_t *cfg, char *why, size_t why_size);
/* kedge-ue agent: registers at start, then serves the keys on the Unix socket of the agent:
 * section until SIGTERM (agent.c). Returns the exit status. */
int ue_agent_run(const ue_config_t *cfg);

/* Wipes K and OPc (and the rest). */
void ue_config_clear(ue_config_t *cfg);

/* The SQN file: the highest SQN the USIM accepted (SQNms, TS 33.102 6.3.3 and Annex C), as 12
 * lower-case hex digits and a newline. ue_sqn_load creates a missing file holding 0; a file
 * with anything else than 12 hex digits (and an optional newline) is refused with
 * KEDGE_ERR_CONFIG. ue_sqn_store replaces the file atomically and durably: a temporary file
 * in the same directory, fsync, rename, fsync of the directory. `why` gets one line naming the
 * file. */
kedge_err_t ue_sqn_load(const char *path, uint64_t *sqn_ms, char *why, size_t why_size);
kedge_err_t ue_sqn_store(const char *path, uint64_t sqn_ms, char *why, size_t why_size);

/* The USIM and ME checks of an authentication request (TS 33.501 6.1.3.2 step 7, TS 33.102
 * 6.3.3): MAC-A (KEDGE_ERR_MAC_FAILURE), the AMF separation bit (TS 33.501 6.1.3.2: must be 1;
 * KEDGE_ERR_UNSUPPORTED otherwise, "non-5G authentication unacceptable"), SQN freshness
 * against sqn_ms (KEDGE_ERR_SYNC_FAILURE with `auts`). On KEDGE_OK *res has RES*, KAUSF, KSEAF
 * and the accepted SQN. */
kedge_err_t ue_usim_authenticate(const ue_usim_t *usim, uint64_t sqn_ms,
                                 const uint8_t rand[KEDGE_RAND_LEN],
                                 const uint8_t autn[KEDGE_AUTN_LEN], const char *snn,
                                 kedge_ue_aka_result_t *res, uint8_t auts[KEDGE_AUTS_LEN]);
/* The same, and on KEDGE_OK the KDF key keyed with KAUSF into *kausf_key (the caller frees it:
 * kedge_kdf_key_free): Kedge is derived from it after the confirmation. */
kedge_err_t ue_usim_authenticate_keyed(const ue_usim_t *usim, uint64_t sqn_ms,
                                       const uint8_t rand[KEDGE_RAND_LEN],
                                       const uint8_t autn[KEDGE_AUTN_LEN], const char *snn,
                                       kedge_ue_aka_result_t *res, uint8_t auts[KEDGE_AUTS_LEN],
                                       kedge_kdf_key_t **kausf_key);

/* The SEAF's check of TS 33.501 6.1.3.2 step 10: HRES* = SHA-256(RAND || RES*) (A.5) equals
 * the HXRES* the AUSF sent, compared in constant time. KEDGE_ERR_MAC_FAILURE on mismatch. */
kedge_err_t ue_seaf_check_hxres_star(const uint8_t rand[KEDGE_RAND_LEN],
                                     const uint8_t res_star[KEDGE_RES_STAR_LEN],
                                     const uint8_t hxres_star[KEDGE_HXRES_STAR_LEN]);

/* Nausf_UEAuthentication, consumer side (TS 29.509 6.1.6). */
typedef struct ue_auth_ctx {
  uint8_t rand[KEDGE_RAND_LEN];
  uint8_t autn[KEDGE_AUTN_LEN];
  uint8_t hxres_star[KEDGE_HXRES_STAR_LEN];
  char href[UE_URI_MAX]; /* _links["5g-aka"].href as sent */
} ue_auth_ctx_t;

/* supiOrSuci as the UE sends it: the SUPI, or with usim.suci configured a SUCI concealed
 * with a fresh ephemeral key (TS 33.501 6.12.2), into out (KEDGE_SUCI_MAX + 1). */
kedge_err_t ue_supi_or_suci(const ue_usim_t *usim, char *out, size_t size);

/* The AuthenticationInfo body of POST ue-authentications (TS 29.509 6.1.6.2.2); rand/auts
 * NULL for a first request. NULL when out of memory (or the SUCI cannot be made). */
json_t *ue_authentication_info(const ue_config_t *cfg, const uint8_t *rand, const uint8_t *auts);
/* UEAuthenticationCtx (TS 29.509 6.1.6.2.3) of a 5G AKA run: authType "5G_AKA",
 * 5gAuthData{rand, hxresStar, autn} and _links{"5g-aka": {href}} (a Link, or an array of
 * Links of which the first is taken). KEDGE_ERR_CONFIG with *why naming the member if not. */
kedge_err_t ue_parse_auth_ctx(const json_t *body, ue_auth_ctx_t *ctx, const char **why);
/* ConfirmationDataResponse (TS 29.509 6.1.6.2.6) {authResult, supi?, kseaf?} of the UE with
 * `supi`: *auth_result is the authResult string (borrowed from body, a peer's text; NULL if
 * absent); KEDGE_OK for AUTHENTICATION_SUCCESS with the same SUPI (or none) and a
 * 64-hex-digit kseaf (into kseaf); KEDGE_ERR_FORBIDDEN for AUTHENTICATION_FAILURE;
 * KEDGE_ERR_CONFIG with *why otherwise. */
kedge_err_t ue_parse_confirmation(const json_t *body, const char *supi, const char **auth_result,
                                  uint8_t kseaf[KEDGE_KSEAF_LEN], const char **why);
/* ue_parse_auth_ctx on the body's octets without a jansson tree when it is a flat object of
 * authType, 5gAuthData{rand, hxresStar, autn} and _links{5g-aka{href}} (kedge_json_flat_read,
 * nested: strings that need no decoding, the Link an object): true and the same *err, *why and
 * fields as the tree would give. false for any other body, valid or not (an array of Links,
 * an escape, another member): parse it with jansson and ue_parse_auth_ctx. */
bool ue_read_auth_ctx(const char *body, size_t len, ue_auth_ctx_t *ctx, const char **why,
                      kedge_err_t *err);
#define UE_AUTH_RESULT_MAX 31 /* authResult octets kept (the longest value has 22) */
/* ue_parse_confirmation on the body's octets without a jansson tree when it is a flat object
 * of those three members (kedge_json_flat_read: strings that need no decoding): true and the
 * same *err, *why and KSEAF as the tree would give, the authResult copied into auth_result.
 * false for any other body, valid or not: parse it with jansson and ue_parse_confirmation
 * (fuzz-ue-bodies checks both agree). */
bool ue_read_confirmation(const char *body, size_t len, const char *supi,
                          char auth_result[UE_AUTH_RESULT_MAX + 1], uint8_t kseaf[KEDGE_KSEAF_LEN],
                          const char **why, kedge_err_t *err);
/* The href of a link resolved against `base`, the URI of the request whose answer carried it
 * (RFC 3986 5.1.3, 5.2: an absolute href stays, "/path" takes base's authority, "path" is
 * relative to base's path). The result must be an https URL without user info or fragment:
 * KEDGE_ERR_CONFIG otherwise, or KEDGE_ERR_TOO_BIG past `size`. */
kedge_err_t ue_resolve_href(const char *base, const char *href, char *out, size_t size);
/* The same against a base parsed once (a UE resolves every challenge's link against its
 * POST URL: one parse per UE, not per registration). `origin`, from ue_href_origin (or NULL),
 * lets the AUSF's usual link skip libcurl: an absolute URL on the base's own origin whose path
 * has only unreserved characters and '/' (RFC 3986 2.3) and no dot segment, query or fragment
 * is its own resolution (RFC 3986 5.2.2, 5.2.4), and libcurl would print it back unchanged;
 * any other href goes through libcurl. */
kedge_err_t ue_resolve_href_uh(CURLU *base, const char *origin, const char *href, char *out,
                               size_t size);
/* "https://authority" of `base` as libcurl prints it (the prefix ue_resolve_href_uh's shortcut
 * compares); "" when it is not https. */
kedge_err_t ue_href_origin(CURLU *base, char *origin, size_t size);

/* How a registration ended. Every value but UE_REGISTERED is an exit status 1 of the command. */
typedef enum ue_outcome {
  UE_REGISTERED = 0,
  UE_FAIL_MAC,      /* the network is not authentic: MAC-A (TS 24.501 cause #20) */
  UE_FAIL_NON_5G,   /* AMF separation bit 0 (TS 24.501 cause #26) */
  UE_FAIL_SYNC,     /* SQN still not fresh after the one resynchronisation (cause #21) */
  UE_FAIL_HXRES,    /* SEAF: HXRES* does not match RES* (TS 33.501 6.1.3.2 step 10) */
  UE_FAIL_REJECTED, /* the AUSF answered AUTHENTICATION_FAILURE */
  UE_FAIL_KSEAF,    /* the AUSF's KSEAF differs from the UE's */
  UE_FAIL_HTTP,     /* the AUSF answered with an error status (ProblemDetails) */
  UE_FAIL_NETWORK,  /* no answer from the AUSF (unreachable, TLS, timeout) */
  UE_FAIL_PROTOCOL, /* an answer that is not what TS 29.509 says */
  UE_FAIL_LOCAL,    /* the SQN file, memory, crypto */
} ue_outcome_t;

/* A name for JSON ("MAC_FAILURE", "AUTHENTICATION_REJECTED", ...). */
const char *ue_outcome_name(ue_outcome_t outcome);

#define UE_STEPS_MAX 12
typedef struct ue_step {
  int step;       /* SPEC.md 0: 0 = 5G AKA, 1 = Kedge/Kedge ID */
  double ms;      /* how long this piece took */
  char text[200]; /* no key material, ever */
} ue_step_t;

/* What a registration tells its caller. No keys: those stay in the ue_t. */
typedef struct ue_result {
  ue_outcome_t outcome;
  char why[512];        /* one line for a failure: which check, status, cause, detail */
  long http_status;     /* of the failing answer, 0 if none */
  char cause[64];       /* ProblemDetails cause of the failing answer, "" if none */
  bool resynchronised;  /* the one resynchronisation was made */
  bool sqn_accepted;    /* an AUTN was accepted (sqn below is stored) */
  uint64_t sqn;         /* the SQN of the accepted AUTN: the new SQNms */
  char auth_result[32]; /* authResult from the AUSF, "" if the confirmation never came */
  char kedge_id[KEDGE_ID_MAX + 1];
  char kausf_fingerprint[KEDGE_FINGERPRINT_LEN + 1];
  char kedge_fingerprint[KEDGE_FINGERPRINT_LEN + 1];
  char akid[KEDGE_ID_MAX + 1];                        /* usim.akma: the A-KID, else "" */
  char k_akma_fingerprint[KEDGE_FINGERPRINT_LEN + 1]; /* usim.akma: K_AKMA's fingerprint */
  double elapsed_ms;
  ue_step_t steps[UE_STEPS_MAX];
  size_t n_steps;
} ue_result_t;

typedef void (*ue_register_cb)(const ue_result_t *result, void *arg);

/* One UE on one event loop. */
typedef struct ue ue_t;

/* A UE with the configuration copied in, and an SBI client on `base` (the CA, certificate and
 * key files are read and checked now: KEDGE_ERR_CONFIG, logged, when they are wrong). */
kedge_err_t ue_new(const ue_config_t *cfg, struct event_base *base, ue_t **out);
/* For load tools (tests/integration/aka-load.c, bench/aka), which run many UEs on one loop: a
 * UE that sends on the caller's SBI client instead of one of its own, so that 1,000 UEs share a
 * few HTTP/2 connections rather than open 1,000 TLS connections (and read the TLS files 1,000
 * times). The client must outlive the UE; ue_free does not free it. */
kedge_err_t ue_new_with_client(const ue_config_t *cfg, kedge_sbi_client_t *client, ue_t **out);
/* Cancels a registration in flight (its callback does not fire) and wipes every key. */
void ue_free(ue_t *ue);

/* For load tools: the USIM keeps SQNms in the ue_t, starting at `sqn_ms`, instead of in
 * usim.sqn_file (then neither read nor written): no file I/O and no fsync on the loop per
 * registration. The same checks apply (TS 33.102 6.3.3); only the durability across runs of
 * the program is gone. */
void ue_set_sqn_in_memory(ue_t *ue, uint64_t sqn_ms);

/* For load tools: no step log and no key fingerprints in the result (its outcome, why, SQN
 * and Kedge ID stay), so what `kedge-ue register` prints is not built at every registration.
 * On by default. */
void ue_set_step_log(ue_t *ue, bool on);

/* Test hook for the AUSF's RES* check: flip one bit of RES* in the confirmation, after the
 * SEAF's own HXRES* check (a SEAF that forwards what it got; the AUSF must catch it). */
void ue_set_corrupt_res(ue_t *ue, bool corrupt);

/* Starts a registration (5G AKA with at most one resynchronisation, then Kedge and the Kedge ID).
 * `cb` fires once, from the loop, unless ue_free comes first; it may free the UE.
 * KEDGE_ERR_BUSY when one is in flight. */
kedge_err_t ue_register(ue_t *ue, ue_register_cb cb, void *arg);

/* After an UE_REGISTERED outcome: the keys of the latest registration (SPEC.md 0 step 1), valid
 * until the next ue_register or ue_free. KEDGE_ERR_NOT_FOUND before. */
kedge_err_t ue_keys(const ue_t *ue, uint8_t kausf[KEDGE_KAUSF_LEN], uint8_t kedge[KEDGE_KEY_LEN],
                    char kedge_id[KEDGE_ID_MAX + 1]);

/* The command's use: a loop of its own, one registration, back when it ended. A setup failure
 * (client certificates) is KEDGE_ERR_CONFIG with `why`; otherwise KEDGE_OK and *result. */
kedge_err_t ue_register_sync(const ue_config_t *cfg, bool corrupt_res, ue_result_t *result,
                             char *why, size_t why_size);

/* Output of `kedge-ue register`: the step log, or one JSON object (no key, ever). */
void ue_print_steps(const ue_config_t *cfg, const ue_result_t *result, FILE *out);
json_t *ue_result_json(const ue_config_t *cfg, const ue_result_t *result);

#endif
