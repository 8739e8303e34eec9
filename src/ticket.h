/*
 * ticket.h: what ticket.c (the closed loop and its BEFORE trigger) shares
 * with ticket_log.c (the AFTER trigger that writes the event row and moves
 * the SLA clocks): the states, events and columns of aftersales.tickets,
 * and the per-backend cache of their attribute numbers and enum OIDs.
 */
#ifndef AFTERSALES_TICKET_H
#define AFTERSALES_TICKET_H

#include "compat.h"

#include "fmgr.h"
#include "utils/rel.h"

/* States, in the order of the SQL enum aftersales.ticket_status. */
typedef enum TicketState
{
	ST_NEW,						/* awaiting assignment (等待分配) */
	ST_ON_HOLD,					/* waiting on the customer (挂起) */
	ST_ASSIGNED,				/* an engineer has it (已分配) */
	ST_IN_PROGRESS,
	ST_ON_SITE,
	ST_LOCKED,					/* with the service manager (锁定) */
	ST_RESOLVED,				/* solved, awaiting the follow-up (已处理) */
	ST_CLOSED,					/* follow-up satisfied (已关闭) */
	ST_CANCELLED,
	NUM_STATES
} TicketState;

/* Events, in the order of the SQL enum aftersales.ticket_event. */
typedef enum TicketEvent
{
	EV_OPEN, EV_ASSIGN, EV_REASSIGN, EV_TAKE_OVER, EV_START, EV_ARRIVE,
	EV_RESOLVE, EV_FAIL, EV_RELEASE, EV_HOLD, EV_RESUME, EV_TRANSFER,
	EV_FOLLOW_UP, EV_CANCEL, EV_REOPEN, EV_LOCK, EV_UNLOCK, EV_RETARGET,
	EV_ACKNOWLEDGE,
	EV_EDIT,					/* outside the loop: a change of free fields */
	NUM_EVENTS
} TicketEvent;

/* The columns of aftersales.tickets the triggers read or write. */
typedef enum TicketCol
{
	C_TENANT, C_TICKET, C_CHANNEL, C_CUSTOMER, C_UNIT, C_MODEL, C_PROBLEM,
	C_OPENED, C_REQUESTED, C_FIELD, C_DESCRIPTION, C_ORG,
	C_PRIORITY, C_TIER, C_ASSIGNEE, C_STATUS, C_HELD_FROM,
	C_ATTEMPTS, C_REOPENS,
	C_FIRST_RESPONSE, C_ASSIGNED_AT, C_ARRIVED, C_FIRST_RESOLVED, C_RESOLVED,
	C_FOLLOWED_UP, C_CLOSED, C_CANCELLED,
	C_SATISFIED, C_CSAT, C_NPS, C_COMMENT,
	C_EVENT_SEQ, C_LAST_EVENT, C_LAST_EVENT_AT, C_LAST_ACTOR,
	NUM_COLS
} TicketCol;

/* Per-backend knowledge of the table: attribute numbers and enum OIDs. */
typedef struct TicketCache
{
	Oid			relid;
	AttrNumber	attno[NUM_COLS];
	Oid			state_oid[NUM_STATES];
	Oid			event_oid[NUM_EVENTS];
} TicketCache;

extern TicketCache ticket_cache;

/* Loads ticket_cache for rel unless it already describes it. */
extern void ticket_cache_ensure(Relation rel);
/* The OID of an enum's label; an error when it has none. */
extern Oid	ticket_enum_label_oid(Oid enumtype, const char *label);
/* The SQL label of a state. */
extern const char *ticket_state_name(int s);
/* The state of argument argno (not NULL), of type ticket_status (row_checks.c). */
extern int	ticket_status_arg(FunctionCallInfo fcinfo, int argno);
/* The state of a ticket_status datum. */
extern int	ticket_state_of(Datum d);
/* The rule that took from --event--> to, or NULL (ticket_transition_rule()). */
extern const char *ticket_rule_applied(int from, int event, int to);

/* Refuse (22023) an actor made of blanks only; NULL or '' means none given. */
extern void check_actor(const char *event, const char *actor);
/* Refuse (22008) an event time that is infinite or over a year ahead. */
extern void check_event_time(const char *event, TimestampTz at);

#endif							/* AFTERSALES_TICKET_H */
