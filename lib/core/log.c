/* Leveled logging to stderr: one line, one write(2).
 * A line is built in a fixed buffer of KEDGE_LOG_LINE_MAX octets (no allocation, so logging
 * works when memory is short) and written with a single write(2): lines of concurrent threads
 * or processes sharing the stream never interleave, and a pipe (journald, a container runtime)
 * gets each line whole because KEDGE_LOG_LINE_MAX <= PIPE_BUF (POSIX write atomicity).
 * Control characters in a message are escaped, so a message (which may quote what a peer sent)
 * can never forge a second log line. */
#include "kedge/log.h"

#include <openssl/sha.h>

#include "kedge/hex.h"
#include "kedge/time.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

_Static_assert(KEDGE_LOG_LINE_MAX <= PIPE_BUF, "a log line must be written atomically");

#define PROGRAM_MAX    64
#define TRUNCATED_MARK "...[truncated]"

static char program_name[PROGRAM_MAX] = "kedge";
static atomic_int threshold = KEDGE_LOG_INFO;
static atomic_bool json_lines = false;
static atomic_bool journal = false; /* stderr is journald's stream: "<N>" prefixes */

/* sd-daemon(3) priorities: SD_ERR, SD_WARNING, SD_INFO, SD_DEBUG. */
static const char *const journal_prefix[] = {
    [KEDGE_LOG_ERROR] = "<3>",
    [KEDGE_LOG_WARN] = "<4>",
    [KEDGE_LOG_INFO] = "<6>",
    [KEDGE_LOG_DEBUG] = "<7>",
};

/* systemd.exec(5): JOURNAL_STREAM is "DEVICE:INODE" of the stream stderr was connected to;
 * it counts only when stderr still is that stream (not redirected by a wrapper). */
static bool stderr_is_journal(void)
{
  const char *v = getenv("JOURNAL_STREAM");
  unsigned long long dev, ino;
  struct stat st;
  return v && sscanf(v, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
         (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static const char *const level_names[] = {
    [KEDGE_LOG_ERROR] = "error",
    [KEDGE_LOG_WARN] = "warn",
    [KEDGE_LOG_INFO] = "info",
    [KEDGE_LOG_DEBUG] = "debug",
};

void kedge_log_init(const char *program, kedge_log_level_t level, bool json)
{
  /* A reload calls this again while other threads log: the name is rewritten only when it
   * changes (never at a reload), the rest are atomics. */
  if (program && *program && strncmp(program_name, program, sizeof program_name - 1) != 0)
    snprintf(program_name, sizeof program_name, "%s", program);
  if ((unsigned)level > KEDGE_LOG_DEBUG)
    level = KEDGE_LOG_DEBUG;
  atomic_store(&threshold, (int)level);
  atomic_store(&json_lines, json);
  atomic_store(&journal, stderr_is_journal());
}

kedge_err_t kedge_log_level_parse(const char *name, kedge_log_level_t *level)
{
  if (!name || !level)
    return KEDGE_ERR_INVALID_ARG;
  for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
    if (strcmp(name, level_names[i]) == 0) {
      *level = (kedge_log_level_t)i;
      return KEDGE_OK;
    }
  }
  return KEDGE_ERR_CONFIG;
}

const char *kedge_log_level_name(kedge_log_level_t level)
{
  if ((unsigned)level > KEDGE_LOG_DEBUG)
    return "unknown";
  return level_names[level];
}

bool kedge_log_enabled(kedge_log_level_t level)
{
  return (int)level <= atomic_load(&threshold);
}

/* A bounded output buffer: appends are all-or-nothing, so an escape sequence or a UTF-8
 * character is never cut in half; once something did not fit, `full` stays set. */
struct line {
  char *buf;
  size_t len;
  size_t cap;
  bool full;
};

static bool put(struct line *l, const char *s, size_t n)
{
  if (l->full || n > l->cap - l->len) {
    l->full = true;
    return false;
  }
  memcpy(l->buf + l->len, s, n);
  l->len += n;
  return true;
}

static bool puts_(struct line *l, const char *s)
{
  return put(l, s, strlen(s));
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF), or 0 when the octets there are not one. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
  unsigned char c = s[0];
  size_t n;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf)
    n = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0)
      lo = 0xa0;
    else if (c == 0xed)
      hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0)
      lo = 0x90;
    else if (c == 0xf4)
      hi = 0x8f;
  } else
    return 0;
  if (n > avail)
    return 0;
  if (s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if (s[i] < 0x80 || s[i] > 0xbf)
      return 0;
  return n;
}

/* Appends `s` escaped: for JSON as a string body (RFC 8259 section 7, invalid UTF-8 becomes
 * U+FFFD so the line stays valid JSON); for text with C-style escapes for control characters
 * and backslashes, and \xNN for octets that are not UTF-8. */
static void put_escaped(struct line *l, const char *s, size_t n, bool json)
{
  const unsigned char *p = (const unsigned char *)s;
  char esc[8];
  size_t i = 0;
  while (i < n && !l->full) {
    unsigned char c = p[i];
    if (c >= 0x80) {
      size_t u = utf8_len(p + i, n - i);
      if (u) {
        put(l, (const char *)p + i, u);
        i += u;
        continue;
      }
      if (json)
        put(l, "\\ufffd", 6);
      else {
        snprintf(esc, sizeof esc, "\\x%02x", c);
        puts_(l, esc);
      }
      i++;
      continue;
    }
    switch (c) {
    case '\n':
      put(l, "\\n", 2);
      break;
    case '\r':
      put(l, "\\r", 2);
      break;
    case '\t':
      put(l, "\\t", 2);
      break;
    case '\\':
      put(l, "\\\\", 2);
      break;
    case '"':
      if (json)
        put(l, "\\\"", 2);
      else
        put(l, "\"", 1);
      break;
    default:
      if (c < 0x20 || c == 0x7f) {
        snprintf(esc, sizeof esc, json ? "\\u%04x" : "\\x%02x", c);
        puts_(l, esc);
      } else
        put(l, (const char *)&c, 1);
    }
    i++;
  }
}

/* RFC 3339 section 5.6 in UTC with milliseconds: "2026-11-27T20:58:04.123Z" (24 octets). */
static void timestamp(char out[32])
{
  int64_t now = kedge_wall_ms();
  kedge_rfc3339_format(now, out); /* the library's one codec, then the milliseconds */
  unsigned ms = (unsigned)((now % 1000 + 1000) % 1000);
  out[19] = '.';
  out[20] = (char)('0' + ms / 100);
  out[21] = (char)('0' + ms / 10 % 10);
  out[22] = (char)('0' + ms % 10);
  out[23] = 'Z';
  out[24] = '\0';
}

static void write_all(const char *buf, size_t len)
{
  while (len > 0) {
    ssize_t n = write(STDERR_FILENO, buf, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return; /* nowhere left to report it */
    }
    buf += n;
    len -= (size_t)n;
  }
}

/* One line: the message, then the fields (JSON members, or " key=value" in text). */
__attribute__((format(printf, 4, 0))) static void emit(kedge_log_level_t level,
                                                       const kedge_log_field_t *fields,
                                                       size_t n_fields, const char *fmt, va_list ap)
{
  int saved_errno = errno;

  char msg[KEDGE_LOG_LINE_MAX];
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  if (n < 0) {
    snprintf(msg, sizeof msg, "(unformattable log message)");
    n = (int)strlen(msg);
  }
  bool truncated = (size_t)n >= sizeof msg;
  size_t msg_len = truncated ? sizeof msg - 1 : (size_t)n;

  bool json = atomic_load(&json_lines);
  char ts[32];
  timestamp(ts);
  const char *lvl = kedge_log_level_name(level);

  /* Room kept back for the tail: the truncation mark, the JSON closing and the newline. */
  static const char json_tail[] = "}\n";
  static const char json_tail_trunc[] = ",\"truncated\":true}\n";
  char buf[KEDGE_LOG_LINE_MAX];
  size_t reserve = sizeof TRUNCATED_MARK - 1 + (json ? sizeof json_tail_trunc + 1 : 1);
  struct line l = {buf, 0, sizeof buf - reserve, false};
  bool in_string = false; /* JSON: a string is open (to close after a cut) */

  if (atomic_load(&journal))
    puts_(&l, journal_prefix[level]);
  if (json) {
    puts_(&l, "{\"ts\":\"");
    puts_(&l, ts);
    puts_(&l, "\",\"level\":\"");
    puts_(&l, lvl);
    puts_(&l, "\",\"prog\":\"");
    put_escaped(&l, program_name, strlen(program_name), true);
    puts_(&l, "\",\"msg\":\"");
    in_string = true;
    put_escaped(&l, msg, msg_len, true);
    if (puts_(&l, "\""))
      in_string = false;
    for (size_t i = 0; i < n_fields && !l.full; i++) {
      char head[80];
      int h = fields[i].key && fields[i].value
                  ? snprintf(head, sizeof head, ",\"%s\":%s", fields[i].key,
                             fields[i].number ? "" : "\"")
                  : -1;
      if (h < 0 || (size_t)h >= sizeof head || !puts_(&l, head))
        continue;
      if (fields[i].number) {
        puts_(&l, fields[i].value); /* all or nothing: never half a number */
        continue;
      }
      in_string = true;
      put_escaped(&l, fields[i].value, strlen(fields[i].value), true);
      if (puts_(&l, "\""))
        in_string = false;
    }
  } else {
    puts_(&l, ts);
    puts_(&l, " ");
    put_escaped(&l, program_name, strlen(program_name), false);
    puts_(&l, " ");
    puts_(&l, lvl);
    puts_(&l, ": ");
    put_escaped(&l, msg, msg_len, false);
    for (size_t i = 0; i < n_fields && !l.full; i++) {
      if (!fields[i].key || !fields[i].value)
        continue;
      puts_(&l, " ");
      put_escaped(&l, fields[i].key, strlen(fields[i].key), false);
      puts_(&l, "=");
      put_escaped(&l, fields[i].value, strlen(fields[i].value), false);
    }
  }
  truncated = truncated || l.full;

  l.cap = sizeof buf;
  l.full = false;
  if (truncated)
    puts_(&l, TRUNCATED_MARK);
  if (json) {
    if (in_string) /* cut inside a string: close it */
      puts_(&l, "\"");
    puts_(&l, truncated ? json_tail_trunc : json_tail);
  } else {
    puts_(&l, "\n");
  }

  write_all(buf, l.len);
  errno = saved_errno;
}

void kedge_log(kedge_log_level_t level, const char *fmt, ...)
{
  if (!kedge_log_enabled(level) || !fmt)
    return;
  va_list ap;
  va_start(ap, fmt);
  emit(level, NULL, 0, fmt, ap);
  va_end(ap);
}

void kedge_log_fields(kedge_log_level_t level, const kedge_log_field_t *fields, size_t n,
                      const char *fmt, ...)
{
  if (!kedge_log_enabled(level) || !fmt)
    return;
  va_list ap;
  va_start(ap, fmt);
  emit(level, fields, n, fmt, ap);
  va_end(ap);
}

void kedge_log_supi_hash(const char *supi, char out[KEDGE_LOG_SUPI_HASH_LEN + 1])
{
  uint8_t md[SHA256_DIGEST_LENGTH];
  out[0] = '\0';
  if (!supi || !SHA256((const unsigned char *)supi, strlen(supi), md))
    return;
  kedge_hex_encode(md, KEDGE_LOG_SUPI_HASH_LEN / 2, out);
  out[KEDGE_LOG_SUPI_HASH_LEN] = '\0';
}

void kedge_log_subscriber(kedge_log_level_t level, const char *supi, const char *kedge_id,
                          const char *fmt, ...)
{
  if (!kedge_log_enabled(level) || !fmt)
    return;
  char hash[KEDGE_LOG_SUPI_HASH_LEN + 1];
  kedge_log_supi_hash(supi, hash);
  const kedge_log_field_t f[] = {
      {"supi_hash", supi ? hash : NULL, false},
      {"kedge_id", kedge_id, false},
  };
  va_list ap;
  va_start(ap, fmt);
  emit(level, f, sizeof(f) / sizeof(f[0]), fmt, ap);
  va_end(ap);
}
