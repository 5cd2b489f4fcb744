/* The library's clocks and its one RFC 3339 codec (include/kedge/time.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kedge/time.h"

static int64_t clock_us(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t kedge_now_ms(void)
{
  return clock_us(CLOCK_MONOTONIC) / 1000;
}

int64_t kedge_now_us(void)
{
  return clock_us(CLOCK_MONOTONIC);
}

int64_t kedge_wall_ms(void)
{
  return clock_us(CLOCK_REALTIME) / 1000;
}

int64_t kedge_wall_us(void)
{
  return clock_us(CLOCK_REALTIME);
}

static bool digits(const char *s, int n, int *value)
{
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  *value = v;
  return true;
}

kedge_err_t kedge_rfc3339_parse(const char *s, int64_t *unix_ms)
{
  if (!s || !unix_ms)
    return KEDGE_ERR_INVALID_ARG;
  size_t len = strnlen(s, 64);
  int year, mon, day, hour, min, sec, ms = 0;
  /* full-date "T" partial-time: YYYY-MM-DDTHH:MM:SS */
  if (len < 20 || len >= 64 || !digits(s, 4, &year) || s[4] != '-' || !digits(s + 5, 2, &mon) ||
      s[7] != '-' || !digits(s + 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
      !digits(s + 11, 2, &hour) || s[13] != ':' || !digits(s + 14, 2, &min) || s[16] != ':' ||
      !digits(s + 17, 2, &sec))
    return KEDGE_ERR_INVALID_ARG;
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
    return KEDGE_ERR_INVALID_ARG;
  const char *p = s + 19;
  if (*p == '.') { /* time-secfrac: 1*DIGIT; milliseconds kept */
    p++;
    int n = 0;
    while (*p >= '0' && *p <= '9') {
      if (n < 3)
        ms = ms * 10 + (*p - '0');
      n++;
      p++;
    }
    if (n == 0)
      return KEDGE_ERR_INVALID_ARG;
    for (; n < 3; n++)
      ms *= 10;
  }
  int offset_min = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int oh, om;
    if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
      return KEDGE_ERR_INVALID_ARG;
    offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
    p += 6;
  } else {
    return KEDGE_ERR_INVALID_ARG;
  }
  if (*p != '\0')
    return KEDGE_ERR_INVALID_ARG;
  struct tm tm = {.tm_year = year - 1900,
                  .tm_mon = mon - 1,
                  .tm_mday = day,
                  .tm_hour = hour,
                  .tm_min = min,
                  .tm_sec = sec > 59 ? 59 : sec};
  time_t t = timegm(&tm);
  if (t == (time_t)-1 || tm.tm_mday != day) /* timegm normalises 31 February: refuse */
    return KEDGE_ERR_INVALID_ARG;
  *unix_ms = ((int64_t)t - (int64_t)offset_min * 60) * 1000 + ms;
  return KEDGE_OK;
}

void kedge_rfc3339_format(int64_t unix_ms, char out[KEDGE_RFC3339_LEN + 1])
{
  time_t t = (time_t)(unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000);
  struct tm tm;
  if (!gmtime_r(&t, &tm) ||
      strftime(out, KEDGE_RFC3339_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) != KEDGE_RFC3339_LEN)
    snprintf(out, KEDGE_RFC3339_LEN + 1, "1970-01-01T00:00:00Z"); /* years past 9999 */
}
