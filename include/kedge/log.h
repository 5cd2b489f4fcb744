/* Leveled logging to stderr (systemd-friendly), optionally as JSON lines.
 * Thread-safe: each call formats into a bounded buffer and writes one line with one write(2).
 * There is deliberately no helper that formats binary data: key material (KAUSF, Kedge, K_ECS,
 * K, OPc, RES*, XRES*) must never be passed to a log call. */
#ifndef KEDGE_LOG_H
#define KEDGE_LOG_H

#include <stdbool.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest line written, newline included; longer messages are cut at a character boundary and
 * end with "...[truncated]" (JSON lines also get "truncated":true). At most PIPE_BUF, so a
 * line written to a pipe is never interleaved with another. */
#define KEDGE_LOG_LINE_MAX 4096

typedef enum kedge_log_level {
  KEDGE_LOG_ERROR = 0,
  KEDGE_LOG_WARN,
  KEDGE_LOG_INFO,
  KEDGE_LOG_DEBUG,
} kedge_log_level_t;

/* Sets the program name shown on every line, the threshold and the format (false: text lines
 * "2026-11-27T20:58:04.123Z kedge-ausfd info: message"; true: one JSON object per line with
 * members ts, level, prog, msg). Call once at start-up; defaults: "kedge", INFO, text. */
void kedge_log_init(const char *program, kedge_log_level_t level, bool json);

/* "error", "warn", "info", "debug" -> level; KEDGE_ERR_CONFIG for anything else. */
kedge_err_t kedge_log_level_parse(const char *name, kedge_log_level_t *level);
const char *kedge_log_level_name(kedge_log_level_t level);

bool kedge_log_enabled(kedge_log_level_t level);

void kedge_log(kedge_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define kedge_log_error(...) kedge_log(KEDGE_LOG_ERROR, __VA_ARGS__)
#define kedge_log_warn(...) kedge_log(KEDGE_LOG_WARN, __VA_ARGS__)
#define kedge_log_info(...) kedge_log(KEDGE_LOG_INFO, __VA_ARGS__)
#define kedge_log_debug(...) \
  do { \
    if (kedge_log_enabled(KEDGE_LOG_DEBUG)) \
      kedge_log(KEDGE_LOG_DEBUG, __VA_ARGS__); \
  } while (0)

#ifdef __cplusplus
}
#endif
#endif
