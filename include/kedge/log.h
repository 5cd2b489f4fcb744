/* Leveled logging to stderr (systemd-friendly), optionally as JSON lines.
 * Thread-safe: each call formats into a bounded buffer and writes one line with one write(2).
 * There is deliberately no helper that formats binary data: key material (KAUSF, Kedge, K_ECS,
 * K, OPc, RES*, XRES*) must never be passed to a log call. */
#ifndef KEDGE_LOG_H
#define KEDGE_LOG_H

#include <stdbool.h>
#include <stddef.h>

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

/* Under systemd with stderr connected to the journal (JOURNAL_STREAM names stderr), every line
 * starts with its sd-daemon(3) priority "<3>" error, "<4>" warn, "<6>" info, "<7>" debug, which
 * journald strips and keeps as PRIORITY (journalctl -p works). */
/* Sets the program name shown on every line, the threshold and the format (false: text lines
 * "2026-11-27T20:58:04.123Z kedge-ausfd info: message"; true: one JSON object per line with
 * members ts, level, prog, msg). Call once at start-up; defaults: "kedge", INFO, text. */
void kedge_log_init(const char *program, kedge_log_level_t level, bool json);

/* "error", "warn", "info", "debug" -> level; KEDGE_ERR_CONFIG for anything else. */
kedge_err_t kedge_log_level_parse(const char *name, kedge_log_level_t *level);
const char *kedge_log_level_name(kedge_log_level_t level);

bool kedge_log_enabled(kedge_log_level_t level);

void kedge_log(kedge_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A field of a structured line: JSON lines carry it as a member of its own ("supi_hash",
 * "kedge_id", "peer", "route", "status", "cause", "duration_ms"; docs/operations.md "Logs"),
 * text lines as " key=value" after the message. `number`: the value is a JSON number as
 * written (status, duration_ms). A NULL value leaves the field out. Keys are short ASCII. */
typedef struct kedge_log_field {
  const char *key;
  const char *value;
  bool number;
} kedge_log_field_t;

/* kedge_log() with fields: the message names the event, the fields carry identifiers. */
void kedge_log_fields(kedge_log_level_t level, const kedge_log_field_t *fields, size_t n,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The "supi_hash" of a SUPI for logs: the first 16 hex digits of SHA-256(SUPI). A pseudonym
 * that lets lines about one subscriber be joined without the SUPI in the log; not anonymous
 * (IMSIs are few enough to be tried). */
#define KEDGE_LOG_SUPI_HASH_LEN 16
void kedge_log_supi_hash(const char *supi, char out[KEDGE_LOG_SUPI_HASH_LEN + 1]);

/* A line about one subscriber: fields supi_hash (of `supi`) and kedge_id (either may be NULL);
 * the hash is computed only when the level is shown. */
void kedge_log_subscriber(kedge_log_level_t level, const char *supi, const char *kedge_id,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define kedge_log_error(...) kedge_log(KEDGE_LOG_ERROR, __VA_ARGS__)
#define kedge_log_warn(...)  kedge_log(KEDGE_LOG_WARN, __VA_ARGS__)
#define kedge_log_info(...)  kedge_log(KEDGE_LOG_INFO, __VA_ARGS__)
#define kedge_log_debug(...)                                                                       \
  do {                                                                                             \
    if (kedge_log_enabled(KEDGE_LOG_DEBUG))                                                        \
      kedge_log(KEDGE_LOG_DEBUG, __VA_ARGS__);                                                     \
  } while (0)

#ifdef __cplusplus
}
#endif
#endif
