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

static void two(char *out, unsigned v)
{
  out[0] = (char)('0' + v / 10);
  out[1] = (char)('0' + v % 10);
}

/* Written out, not gmtime_r + strftime (~1,400 instructions, once per key answer: issue 17,
 * docs/performance-latency.md "Fifth session (keyreq7)"): the day number to a proleptic
 * Gregorian date by eras of 400 years (146,097 days), the method of H. Hinnant's
 * "chrono-Compatible Low-Level Date Algorithms" (civil_from_days), which is what gmtime_r
 * gives for UTC (no leap seconds in Unix time). test-time compares it with gmtime_r. */
void kedge_rfc3339_format(int64_t unix_ms, char out[KEDGE_RFC3339_LEN + 1])
{
  if (unix_ms < -62135596800000LL || unix_ms > 253402300799999LL) /* 0001-01-01 to 9999 */
    unix_ms = -62135596800000LL; /* refused below, and no overflow in what follows */
  int64_t t = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000; /* rounded down */
  int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  int64_t sod = t - days * 86400;
  int64_t z = days + 719468; /* days from 0000-03-01 */
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;                                      /* [0, 146096] */
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* from March 1 */
  int64_t mp = (5 * doy + 2) / 153;
  unsigned day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
  unsigned mon = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
  int64_t year = yoe + era * 400 + (mon <= 2);
  if (year < 1000 || year > 9999) { /* what "%Y" would not write in four digits */
    memcpy(out, "1970-01-01T00:00:00Z", KEDGE_RFC3339_LEN + 1);
    return;
  }
  two(out, (unsigned)(year / 100));
  two(out + 2, (unsigned)(year % 100));
  out[4] = '-';
  two(out + 5, mon);
  out[7] = '-';
  two(out + 8, day);
  out[10] = 'T';
  two(out + 11, (unsigned)(sod / 3600));
  out[13] = ':';
  two(out + 14, (unsigned)(sod / 60 % 60));
  out[16] = ':';
  two(out + 17, (unsigned)(sod % 60));
  out[19] = 'Z';
  out[20] = '\0';
}
