#include "kedge/error.h"

static const char *const messages[KEDGE_ERR__COUNT] = {
    [KEDGE_OK] = "success",
    [KEDGE_ERR_INVALID_ARG] = "invalid argument",
    [KEDGE_ERR_BAD_HEX] = "not a hex string of whole octets",
    [KEDGE_ERR_BAD_LENGTH] = "wrong length",
    [KEDGE_ERR_BAD_SUPI] = "malformed SUPI (expected imsi-<5 to 15 digits> or nai-<user>@<realm>)",
    [KEDGE_ERR_BAD_PLMN] = "malformed PLMN (MCC must be 3 digits, MNC 2 or 3 digits)",
    [KEDGE_ERR_BAD_RID] = "malformed routing indicator (1 to 4 decimal digits)",
    [KEDGE_ERR_BAD_KEDGE_ID] = "malformed Kedge ID",
    [KEDGE_ERR_BAD_ECS_ID] = "malformed ECS ID (expected a DNS name)",
    [KEDGE_ERR_MAC_FAILURE] = "MAC verification failed",
    [KEDGE_ERR_SYNC_FAILURE] = "SQN out of range (synchronisation failure)",
    [KEDGE_ERR_SQN_EXHAUSTED] = "SQN counter exhausted",
    [KEDGE_ERR_CRYPTO] = "cryptographic library failure",
    [KEDGE_ERR_NOMEM] = "out of memory",
    [KEDGE_ERR_TOO_BIG] = "input too large",
    [KEDGE_ERR_NOT_FOUND] = "not found",
    [KEDGE_ERR_IO] = "I/O error",
    [KEDGE_ERR_CONFIG] = "configuration error",
    [KEDGE_ERR_BUSY] = "resource busy",
    [KEDGE_ERR_TIMEOUT] = "timed out",
    [KEDGE_ERR_UNAVAILABLE] = "peer unavailable",
    [KEDGE_ERR_FORBIDDEN] = "not authorised",
    [KEDGE_ERR_UNSUPPORTED] = "not supported",
    [KEDGE_ERR_EXISTS] = "already exists",
    [KEDGE_ERR_BAD_AKID] = "malformed A-KID",
};

const char *kedge_strerror(kedge_err_t err)
{
  if ((unsigned)err >= KEDGE_ERR__COUNT || !messages[err])
    return "unknown error";
  return messages[err];
}
