/* Message trace lines for `kedge demo` (kedge/trace.h). */
#include "kedge/trace.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kedge/time.h"

static int trace_fd = -1;
static char self_name[16] = "?";

void kedge_trace_init(const char *self)
{
  snprintf(self_name, sizeof(self_name), "%s", self);
  const char *path = getenv("KEDGE_TRACE");
  if (path && *path && trace_fd < 0)
    trace_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

bool kedge_trace_enabled(void)
{
  return trace_fd >= 0;
}

/* JSON string content: the few characters that need it escaped, control characters dropped. */
static size_t put_escaped(char *out, size_t size, const char *s)
{
  size_t o = 0;
  for (; s && *s && o + 2 < size; s++) {
    if (*s == '"' || *s == '\\')
      out[o++] = '\\';
    if ((unsigned char)*s >= 0x20)
      out[o++] = *s;
  }
  out[o] = '\0';
  return o;
}

void kedge_trace_event(const char *to, const char *msg, int64_t start_us, int64_t dur_us,
                       int status, const char *note)
{
  if (trace_fd < 0)
    return;
  char m[256], n[128], line[600];
  put_escaped(m, sizeof(m), msg);
  put_escaped(n, sizeof(n), note);
  int len = snprintf(line, sizeof(line),
                     "{\"t\":%lld,\"ms\":%.3f,\"from\":\"%s\",\"to\":\"%s\",\"msg\":\"%s\"",
                     (long long)start_us, (double)dur_us / 1000.0, self_name, to, m);
  if (status && len < (int)sizeof(line))
    len += snprintf(line + len, sizeof(line) - (size_t)len, ",\"status\":%d", status);
  if (note && len < (int)sizeof(line))
    len += snprintf(line + len, sizeof(line) - (size_t)len, ",\"note\":\"%s\"", n);
  if (len < (int)sizeof(line) - 2) {
    line[len++] = '}';
    line[len++] = '\n';
    if (write(trace_fd, line, (size_t)len) < 0) {
      /* a trace is best effort: the run goes on without it */
    }
  }
}

const char *kedge_trace_role_of_url(const char *url)
{
  static const struct {
    const char *service, *role;
  } roles[] = {
      {"/nudm-ueau/", "UDM"}, {"/nausf-auth/", "AUSF"}, {"/3gpp-kedge/", "NEF"},
      {"/3gpp-akma/", "NEF"}, {"/naanf-akma/", "AANF"}, {"/eecs-serviceprovisioning/", "ECS"},
  };
  for (size_t i = 0; url && i < sizeof(roles) / sizeof(roles[0]); i++)
    if (strstr(url, roles[i].service))
      return roles[i].role;
  return "?";
}

kedge_trace_span_t kedge_trace_begin(void)
{
  return (kedge_trace_span_t){.wall_us = kedge_wall_us(), .mono_us = kedge_now_us()};
}

void kedge_trace_end(kedge_trace_span_t span, const char *to, const char *msg, int status,
                     const char *note)
{
  kedge_trace_event(to, msg, span.wall_us, kedge_now_us() - span.mono_us, status, note);
}
