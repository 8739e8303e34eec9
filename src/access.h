/*
 * access.h: who is calling (src/access.c).
 */
#ifndef AFTERSALES_ACCESS_H
#define AFTERSALES_ACCESS_H

#include "postgres.h"

/*
 * True when access control applies to this session: the authenticated login
 * (session user) is not a superuser.  Superusers keep the single-company
 * behaviour: tenant from aftersales.tenant_id or 1, any actor.
 */
extern bool access_applies(void);

/* The caller's tenant, from membership; errors when there is none. */
extern int64 access_tenant(void);

/*
 * The authenticated identity to record as actor: the login, or the user an
 * application pool asserted.  Raises 42501 when claimed (the actor argument
 * or setting) names someone else.  Only call when access_applies().
 */
extern const char *access_actor(const char *claimed);

/*
 * Refuses (42501) an event the caller's kind may not fire on this ticket.
 * has_assignee/assignee: the ticket's engineer before the event.  A no-op
 * for superusers.
 */
extern void access_check_event(int64 tenant, int64 ticket, const char *event, const char *status,
							   bool has_assignee, int64 assignee);

/*
 * The same for an event of another object (a state machine's, named
 * "<machine>.<event>" in event_rights): noun names the object in messages,
 * state is its state before the event, has_engineer/engineer whose object
 * it is (own-only rights).  A no-op for superusers.
 */
extern void access_check_right(const char *right, const char *noun, int64 tenant, int64 id,
							   const char *state, bool has_engineer, int64 engineer);

#endif							/* AFTERSALES_ACCESS_H */
