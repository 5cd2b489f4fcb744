/* HTTP header values kedge reads from its peers (RFC 9110). */
#ifndef KEDGE_HTTP_H
#define KEDGE_HTTP_H

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Retry-After as delta-seconds (RFC 9110 10.2.3; kedge's peers send seconds, an HTTP-date is
 * not honoured): 1 to 9 digits, capped at max_s. KEDGE_ERR_INVALID_ARG for NULL, empty,
 * anything but digits, or more than 9 digits; *seconds untouched then. */
kedge_err_t kedge_http_retry_after_parse(const char *value, unsigned max_s, unsigned *seconds);

#ifdef __cplusplus
}
#endif
#endif
