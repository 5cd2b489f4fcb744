/* systemd's service notification protocol (sd_notify(3), libsystemd): READY=1 once listening,
 * RELOADING=1 ... READY=1 around a reload, STOPPING=1 when the drain begins, WATCHDOG=1 every
 * half WatchdogSec= when the manager asks for it (WATCHDOG_USEC). Without NOTIFY_SOCKET in the
 * environment (not started by systemd as Type=notify) every call does nothing. */
#include "app/notify.h"

#include <stdio.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "kedge/log.h"
#include "kedge/time.h"

void app_notify(const char *state)
{
  /* unset_environment 0: a reload notifies again. Errors only mean "no manager listening". */
  sd_notify(0, state);
}

void app_notify_reloading(void)
{
  /* MONOTONIC_USEC: what systemd 253's Type=notify-reload wants with RELOADING=1. */
  char msg[64];
  snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
           (unsigned long long)kedge_now_us());
  sd_notify(0, msg);
}

static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
  sd_notify(0, "WATCHDOG=1");
}

struct event *app_watchdog_start(struct event_base *base)
{
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
    return NULL;
  /* Every half period, from the main loop: a loop that hangs stops the pings. */
  struct event *ev = event_new(base, -1, EV_PERSIST, watchdog_cb, NULL);
  struct timeval tv = {(time_t)(usec / 2 / 1000000u), (suseconds_t)(usec / 2 % 1000000u)};
  if (!ev || event_add(ev, &tv) != 0) {
    if (ev)
      event_free(ev);
    kedge_log_warn("systemd watchdog: cannot start the timer");
    return NULL;
  }
  sd_notify(0, "WATCHDOG=1");
  return ev;
}
