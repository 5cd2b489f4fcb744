/* lib/app internals: the systemd notifications of the daemon skeleton (notify.c). */
#ifndef KEDGE_APP_NOTIFY_H
#define KEDGE_APP_NOTIFY_H

#include <event2/event.h>

/* sd_notify(3) with `state` ("READY=1", "STOPPING=1"...); nothing without NOTIFY_SOCKET. */
void app_notify(const char *state);
/* RELOADING=1 with MONOTONIC_USEC. */
void app_notify_reloading(void);
/* When WATCHDOG_USEC asks for it, a timer on `base` sending WATCHDOG=1 every half period
 * (free it with event_free); NULL otherwise. */
struct event *app_watchdog_start(struct event_base *base);

#endif
