/*
 * settings.h: the user's settings (aftersales.*) and the backend-local state
 * the API hands to the trigger on tickets (src/settings.c).
 */
#ifndef AFTERSALES_SETTINGS_H
#define AFTERSALES_SETTINGS_H

#include "compat.h"

#include "utils/timestamp.h"

/* The tenant of the current statement: aftersales.tenant_id, else 1. */
extern int64 settings_tenant(void);

/* aftersales.actor, aftersales.now and aftersales.event; NULL when unset. */
extern const char *settings_actor(void);
extern const char *settings_now(void);

/*
 * The event of the next change of tickets: the one the API declared, else
 * the setting aftersales.event of a direct UPDATE.  Its actor, time and
 * reason: the API's, else aftersales.actor, the clock and
 * aftersales.event_reason.  NULL (or false) when none.
 */
extern const char *settings_event(void);
extern const char *settings_event_actor(void);
extern bool settings_event_time(TimestampTz *at);
extern const char *settings_event_reason(void);

/* The API's declaration: until settings_clear_event or the (sub)transaction ends. */
extern void settings_declare_event(const char *event, const char *actor, TimestampTz at, const char *reason);
extern void settings_clear_event(void);

#endif
