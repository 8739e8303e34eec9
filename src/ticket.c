/*
 * ticket.c: the closed loop of a service ticket and the trigger
 * that holds every change of aftersales.tickets to it.
 *
 * The loop is one static table below, closed_loop[]: from state, event, to
 * state, an optional rule that picks another destination (a late assignment
 * or a second failed handling locks the ticket; an unsatisfied follow-up
 * sends it back to assignment), and flags (counts an attempt, needs a
 * reason, which column the caller supplies).  Nothing else in aftersales
 * knows the transitions: the SQL API names an event and lets the trigger
 * compute the destination, replay reads the table through
 * aftersales.ticket_transitions(), and so does the documentation.
 *
 * The trigger, BEFORE INSERT OR UPDATE OR DELETE FOR EACH ROW on tickets,
 * sees every change whoever makes it:
 *  - an event declared in the setting aftersales.event (the API declares one
 *    for its own UPDATE; a client may SET LOCAL it) is checked against the
 *    table and applied;
 *  - a raw UPDATE without one is accepted when exactly one event explains
 *    it (same from and to state, same columns supplied), else refused;
 *  - either way the trigger itself computes the columns the loop maintains
 *    (counters, time stamps, held_from, event_seq, last_*), so a client
 *    cannot set them, and bumps event_seq; the AFTER trigger in
 *    ticket_log.c sees the new event_seq and writes the event row and
 *    moves the SLA clocks.
 * The trigger runs on the row version it locked, so two sessions changing
 * one ticket serialize on the row lock and the second is judged against
 * the first one's result.
 */
#include "compat.h"
#include <ctype.h>

#include "settings.h"
#include "ticket.h"
#include "version.h"
#include "access.h"

#include "access/htup_details.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"


#define ST_HELD_FROM	(-1)	/* destination of resume: the held_from column */

static const char *const state_names[NUM_STATES] = {
	"new", "on_hold", "assigned", "in_progress", "on_site", "locked",
	"resolved", "closed", "cancelled"
};


static const char *const event_names[NUM_EVENTS] = {
	"open", "assign", "reassign", "take_over", "start", "arrive",
	"resolve", "fail", "release", "hold", "resume", "transfer",
	"follow_up", "cancel", "reopen", "lock", "unlock", "retarget",
	"acknowledge", "edit"
};

/* The API function of each event and the rest of an example call. */
static const struct
{
	const char *function;
	const char *args;
}			event_api[NUM_EVENTS] = {
	{"open_ticket", ""},
	{"assign_ticket", ", engineer => 42"},
	{"reassign_ticket", ", engineer => 42"},
	{"take_over_ticket", ", engineer => 42"},
	{"start_work", ""},
	{"arrive_on_site", ""},
	{"resolve_ticket", ", resolution => 'replaced the fuse'"},
	{"fail_attempt", ", reason => 'spare part missing'"},
	{"release_ticket", ", reason => 'not handled before the requested date'"},
	{"hold_ticket", ", reason => 'waiting for the customer'"},
	{"resume_ticket", ""},
	{"transfer_ticket", ", tier => 'technical_support', reason => 'needs a specialist'"},
	{"follow_up", ", satisfied => true, csat => 5, nps => 9"},
	{"cancel_ticket", ", reason => 'duplicate request'"},
	{"reopen_ticket", ", reason => 'the fault came back'"},
	{"lock_ticket", ", reason => 'needs the service manager'"},
	{"unlock_ticket", ""},
	{"set_priority", ", priority => 'A'"},
	{"acknowledge_ticket", ", note => 'calling the customer'"},
	{"edit_ticket", ", changes => '{\"description\": \"no heating\"}'"}
};

/* Rules that pick the alternative destination of a transition. */
typedef enum TicketRule
{
	RULE_NONE,
	RULE_LATE,					/* assigned after the customer-requested date */
	RULE_ATTEMPTS,				/* the second failed handling */
	RULE_UNSATISFIED,			/* the follow-up found the customer unsatisfied */
	RULE_HELD_FROM				/* resume returns where hold came from */
} TicketRule;

static const char *const rule_names[] = {
	NULL, "late", "attempts", "unsatisfied", "held_from"
};

/* "handled twice and still unresolved" goes to the manager. */
#define MAX_ATTEMPTS	2

/* Flags of a transition. */
#define F_ATTEMPT		0x01	/* counts a (failed) handling attempt */
#define F_REASON		0x02	/* needs a reason */
#define F_RESPONSE		0x04	/* an engineer engaged: first response */
#define F_ASSIGNEE		0x08	/* the caller supplies a new assignee */
#define F_TIER			0x10	/* the caller supplies a new tier */
#define F_PRIORITY		0x20	/* the caller supplies a new priority */
#define F_FOLLOW_UP		0x40	/* the caller supplies the follow-up result */
#define F_SUPPLIES		(F_ASSIGNEE | F_TIER | F_PRIORITY | F_FOLLOW_UP)
#define F_DECLARED		0x80	/* only when declared: it changes no column,
								 * so it never explains an undeclared UPDATE */

typedef struct Transition
{
	int8		from;
	int8		event;
	int8		to;				/* or ST_HELD_FROM */
	int8		alt;			/* destination when the rule holds */
	int8		rule;
	uint8		flags;
} Transition;

/*
 * The closed loop.  Leaving resolved or closed for new is a reopen (counted
 * in reopen_count); entering new or locked clears the assignee; the clocks
 * follow from the states and time stamps (see 30_tickets.sql).  Acknowledge
 * (a service manager takes note of an escalation, 40_escalation_queue.sql)
 * changes nothing but the log, in every state that is not final.
 */
static const Transition closed_loop[] = {
	/* from          event         to              alt         rule           flags */
	{ST_NEW, EV_ASSIGN, ST_ASSIGNED, ST_LOCKED, RULE_LATE, F_ASSIGNEE},
	{ST_NEW, EV_HOLD, ST_ON_HOLD, 0, RULE_NONE, F_REASON},
	{ST_NEW, EV_TRANSFER, ST_NEW, 0, RULE_NONE, F_TIER | F_REASON},
	{ST_NEW, EV_LOCK, ST_LOCKED, 0, RULE_NONE, F_REASON},
	{ST_NEW, EV_CANCEL, ST_CANCELLED, 0, RULE_NONE, F_REASON},
	{ST_NEW, EV_RETARGET, ST_NEW, 0, RULE_NONE, F_PRIORITY},
	{ST_NEW, EV_ACKNOWLEDGE, ST_NEW, 0, RULE_NONE, F_DECLARED},

	{ST_ON_HOLD, EV_RESUME, ST_HELD_FROM, 0, RULE_HELD_FROM, 0},
	{ST_ON_HOLD, EV_RESOLVE, ST_RESOLVED, 0, RULE_NONE, F_RESPONSE},
	{ST_ON_HOLD, EV_LOCK, ST_LOCKED, 0, RULE_NONE, F_REASON},
	{ST_ON_HOLD, EV_CANCEL, ST_CANCELLED, 0, RULE_NONE, F_REASON},
	{ST_ON_HOLD, EV_RETARGET, ST_ON_HOLD, 0, RULE_NONE, F_PRIORITY},
	{ST_ON_HOLD, EV_ACKNOWLEDGE, ST_ON_HOLD, 0, RULE_NONE, F_DECLARED},

	{ST_ASSIGNED, EV_START, ST_IN_PROGRESS, 0, RULE_NONE, F_RESPONSE},
	{ST_ASSIGNED, EV_ARRIVE, ST_ON_SITE, 0, RULE_NONE, F_RESPONSE},
	{ST_ASSIGNED, EV_RESOLVE, ST_RESOLVED, 0, RULE_NONE, F_RESPONSE},
	{ST_ASSIGNED, EV_FAIL, ST_NEW, ST_LOCKED, RULE_ATTEMPTS, F_ATTEMPT | F_RESPONSE | F_REASON},
	{ST_ASSIGNED, EV_RELEASE, ST_NEW, 0, RULE_NONE, F_REASON},
	{ST_ASSIGNED, EV_REASSIGN, ST_ASSIGNED, 0, RULE_NONE, F_ASSIGNEE},
	{ST_ASSIGNED, EV_HOLD, ST_ON_HOLD, 0, RULE_NONE, F_REASON},
	{ST_ASSIGNED, EV_TRANSFER, ST_NEW, 0, RULE_NONE, F_TIER | F_REASON},
	{ST_ASSIGNED, EV_LOCK, ST_LOCKED, 0, RULE_NONE, F_REASON},
	{ST_ASSIGNED, EV_CANCEL, ST_CANCELLED, 0, RULE_NONE, F_REASON},
	{ST_ASSIGNED, EV_RETARGET, ST_ASSIGNED, 0, RULE_NONE, F_PRIORITY},
	{ST_ASSIGNED, EV_ACKNOWLEDGE, ST_ASSIGNED, 0, RULE_NONE, F_DECLARED},

	{ST_IN_PROGRESS, EV_ARRIVE, ST_ON_SITE, 0, RULE_NONE, F_RESPONSE},
	{ST_IN_PROGRESS, EV_RESOLVE, ST_RESOLVED, 0, RULE_NONE, F_RESPONSE},
	{ST_IN_PROGRESS, EV_FAIL, ST_NEW, ST_LOCKED, RULE_ATTEMPTS, F_ATTEMPT | F_RESPONSE | F_REASON},
	{ST_IN_PROGRESS, EV_REASSIGN, ST_ASSIGNED, 0, RULE_NONE, F_ASSIGNEE},
	{ST_IN_PROGRESS, EV_HOLD, ST_ON_HOLD, 0, RULE_NONE, F_REASON},
	{ST_IN_PROGRESS, EV_TRANSFER, ST_NEW, 0, RULE_NONE, F_TIER | F_REASON},
	{ST_IN_PROGRESS, EV_LOCK, ST_LOCKED, 0, RULE_NONE, F_REASON},
	{ST_IN_PROGRESS, EV_CANCEL, ST_CANCELLED, 0, RULE_NONE, F_REASON},
	{ST_IN_PROGRESS, EV_RETARGET, ST_IN_PROGRESS, 0, RULE_NONE, F_PRIORITY},
	{ST_IN_PROGRESS, EV_ACKNOWLEDGE, ST_IN_PROGRESS, 0, RULE_NONE, F_DECLARED},

	{ST_ON_SITE, EV_RESOLVE, ST_RESOLVED, 0, RULE_NONE, F_RESPONSE},
	{ST_ON_SITE, EV_FAIL, ST_NEW, ST_LOCKED, RULE_ATTEMPTS, F_ATTEMPT | F_RESPONSE | F_REASON},
	{ST_ON_SITE, EV_REASSIGN, ST_ASSIGNED, 0, RULE_NONE, F_ASSIGNEE},
	{ST_ON_SITE, EV_HOLD, ST_ON_HOLD, 0, RULE_NONE, F_REASON},
	{ST_ON_SITE, EV_TRANSFER, ST_NEW, 0, RULE_NONE, F_TIER | F_REASON},
	{ST_ON_SITE, EV_LOCK, ST_LOCKED, 0, RULE_NONE, F_REASON},
	{ST_ON_SITE, EV_CANCEL, ST_CANCELLED, 0, RULE_NONE, F_REASON},
	{ST_ON_SITE, EV_RETARGET, ST_ON_SITE, 0, RULE_NONE, F_PRIORITY},
	{ST_ON_SITE, EV_ACKNOWLEDGE, ST_ON_SITE, 0, RULE_NONE, F_DECLARED},

	{ST_LOCKED, EV_TAKE_OVER, ST_ASSIGNED, 0, RULE_NONE, F_ASSIGNEE},
	{ST_LOCKED, EV_UNLOCK, ST_NEW, 0, RULE_NONE, 0},
	{ST_LOCKED, EV_TRANSFER, ST_NEW, 0, RULE_NONE, F_TIER | F_REASON},
	{ST_LOCKED, EV_CANCEL, ST_CANCELLED, 0, RULE_NONE, F_REASON},
	{ST_LOCKED, EV_RETARGET, ST_LOCKED, 0, RULE_NONE, F_PRIORITY},
	{ST_LOCKED, EV_ACKNOWLEDGE, ST_LOCKED, 0, RULE_NONE, F_DECLARED},

	{ST_RESOLVED, EV_FOLLOW_UP, ST_CLOSED, ST_NEW, RULE_UNSATISFIED, F_FOLLOW_UP},
	{ST_RESOLVED, EV_ACKNOWLEDGE, ST_RESOLVED, 0, RULE_NONE, F_DECLARED},

	{ST_CLOSED, EV_REOPEN, ST_NEW, 0, RULE_NONE, F_REASON},
};

#define NUM_TRANSITIONS ((int) lengthof(closed_loop))

/* States a ticket may be held from (hold's sources). */
static inline bool
holdable(int s)
{
	return s == ST_NEW || s == ST_ASSIGNED || s == ST_IN_PROGRESS || s == ST_ON_SITE;
}

static const Transition *
find_transition(int from, int event)
{
	for (int i = 0; i < NUM_TRANSITIONS; i++)
		if (closed_loop[i].from == from && closed_loop[i].event == event)
			return &closed_loop[i];
	return NULL;
}

/* "assign, hold, transfer, ..." : the events allowed from a state. */
static char *
allowed_events(int from)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < NUM_TRANSITIONS; i++)
		if (closed_loop[i].from == from)
			appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
							 event_names[closed_loop[i].event]);
	return buf.data;
}

/* ------------------------------------------------------------------------
 * Columns of aftersales.tickets as the trigger sees them.
 */

typedef enum ColKind
{
	COL_FREE,					/* a client may edit it any time */
	COL_FIXED,					/* set at entry, never changed */
	COL_MANAGED					/* maintained by the loop */
} ColKind;


static const struct
{
	const char *name;
	ColKind		kind;
	uint8		supplied_by;	/* flag of the events whose caller sets it */
}			ticket_cols[NUM_COLS] = {
	{"tenant_id", COL_FIXED, 0},
	{"ticket_id", COL_FIXED, 0},
	{"channel", COL_FREE, 0},
	{"customer_id", COL_FIXED, 0},
	{"unit_id", COL_FREE, 0},
	{"model_id", COL_FREE, 0},
	{"problem_type_id", COL_FREE, 0},
	{"opened_at", COL_FIXED, 0},
	{"requested_at", COL_FREE, 0},
	{"field", COL_FREE, 0},
	{"description", COL_FREE, 0},
	{"org_id", COL_FREE, 0},
	{"priority", COL_MANAGED, F_PRIORITY},
	{"tier", COL_MANAGED, F_TIER},
	{"assignee_id", COL_MANAGED, F_ASSIGNEE},
	{"status", COL_MANAGED, 0},
	{"held_from", COL_MANAGED, 0},
	{"attempt_count", COL_MANAGED, 0},
	{"reopen_count", COL_MANAGED, 0},
	{"first_response_at", COL_MANAGED, 0},
	{"assigned_at", COL_MANAGED, 0},
	{"arrived_at", COL_MANAGED, 0},
	{"first_resolved_at", COL_MANAGED, 0},
	{"resolved_at", COL_MANAGED, 0},
	{"followed_up_at", COL_MANAGED, 0},
	{"closed_at", COL_MANAGED, 0},
	{"cancelled_at", COL_MANAGED, 0},
	{"satisfied", COL_MANAGED, F_FOLLOW_UP},
	{"csat", COL_MANAGED, F_FOLLOW_UP},
	{"nps", COL_MANAGED, F_FOLLOW_UP},
	{"follow_up_comment", COL_MANAGED, F_FOLLOW_UP},
	{"event_seq", COL_MANAGED, 0},
	{"last_event", COL_MANAGED, 0},
	{"last_event_at", COL_MANAGED, 0},
	{"last_actor", COL_MANAGED, 0},
};

/* See ticket.h; rebuilt when the table is another one (the extension was recreated). */
TicketCache ticket_cache;

Oid
ticket_enum_label_oid(Oid enumtype, const char *label)
{
	Oid			oid;

	oid = GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
						  ObjectIdGetDatum(enumtype), CStringGetDatum(label));
	if (!OidIsValid(oid))
		elog(ERROR, "enum %s has no label \"%s\"", format_type_be(enumtype), label);
	return oid;
}

static void
load_cache(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Oid			state_type = InvalidOid;
	Oid			event_type = InvalidOid;

	ticket_cache.relid = InvalidOid;
	for (int c = 0; c < NUM_COLS; c++)
	{
		int			attno = SPI_fnumber(desc, ticket_cols[c].name);

		if (attno <= 0)
			elog(ERROR, "table \"%s\" has no column \"%s\"",
				 RelationGetRelationName(rel), ticket_cols[c].name);
		ticket_cache.attno[c] = attno;
		if (c == C_STATUS)
			state_type = TupleDescAttr(desc, attno - 1)->atttypid;
		else if (c == C_LAST_EVENT)
			event_type = TupleDescAttr(desc, attno - 1)->atttypid;
	}
	for (int s = 0; s < NUM_STATES; s++)
		ticket_cache.state_oid[s] = ticket_enum_label_oid(state_type, state_names[s]);
	for (int e = 0; e < NUM_EVENTS; e++)
		ticket_cache.event_oid[e] = ticket_enum_label_oid(event_type, event_names[e]);
	ticket_cache.relid = RelationGetRelid(rel);
}

void
ticket_cache_ensure(Relation rel)
{
	if (ticket_cache.relid != RelationGetRelid(rel))
		load_cache(rel);
}

static int
state_of(Datum d)
{
	Oid			oid = DatumGetObjectId(d);

	for (int s = 0; s < NUM_STATES; s++)
		if (ticket_cache.state_oid[s] == oid)
			return s;
	elog(ERROR, "unknown ticket state %u", oid);
	return -1;					/* keep compiler quiet */
}

int
ticket_state_of(Datum d)
{
	return state_of(d);
}

const char *
ticket_state_name(int s)
{
	Assert(s >= 0 && s < NUM_STATES);
	return state_names[s];
}

/* A row's values, deformed once. */
typedef struct Row
{
	Datum		v[NUM_COLS];
	bool		n[NUM_COLS];
} Row;

static void
read_row(HeapTuple tuple, TupleDesc desc, Row *row)
{
	for (int c = 0; c < NUM_COLS; c++)
		row->v[c] = heap_getattr(tuple, ticket_cache.attno[c], desc, &row->n[c]);
}

/* Whether column c differs between two rows (NULLs equal each other). */
static bool
col_changed(const Row *a, const Row *b, int c, TupleDesc desc)
{
	Form_pg_attribute att = TupleDescAttr(desc, ticket_cache.attno[c] - 1);

	if (a->n[c] || b->n[c])
		return a->n[c] != b->n[c];
	if (att->attlen == -1)
	{
		/* compare contents: one side may be toasted or short-headered */
		struct varlena *x = PG_DETOAST_DATUM_PACKED(a->v[c]);
		struct varlena *y = PG_DETOAST_DATUM_PACKED(b->v[c]);

		return VARSIZE_ANY_EXHDR(x) != VARSIZE_ANY_EXHDR(y) ||
			memcmp(VARDATA_ANY(x), VARDATA_ANY(y), VARSIZE_ANY_EXHDR(x)) != 0;
	}
	return !datumIsEqual(a->v[c], b->v[c], att->attbyval, att->attlen);
}

/* ------------------------------------------------------------------------
 * Settings: the event a change declares, its actor, time and reason.
 */

static void
setting_error_context(void *arg)
{
	errcontext("while reading the setting %s", (const char *) arg);
}

static TimestampTz
parse_time_setting(const char *name, const char *value)
{
	ErrorContextCallback cb;
	Datum		d;

	cb.callback = setting_error_context;
	cb.arg = unconstify(char *, name);
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	d = DirectFunctionCall3(timestamptz_in, CStringGetDatum(value),
							ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	error_context_stack = cb.previous;
	return DatumGetTimestampTz(d);
}

/* The clock: aftersales.now when set, else the transaction's start. */
static TimestampTz
ticket_now(void)
{
	const char *v = settings_now();

	return v ? parse_time_setting("aftersales.now", v) : GetCurrentTransactionStartTimestamp();
}

/* When a declared event happens: the API's time, else the clock. */
static TimestampTz
event_time(void)
{
	TimestampTz at;

	return settings_event_time(&at) ? at : ticket_now();
}

/* Who makes the change: the API's actor, aftersales.actor, the role. */
static const char *
event_actor(void)
{
	const char *v = settings_event_actor();

	/* access control (src/access.c): a non-superuser is who they logged in as */
	if (access_applies())
		return access_actor(v);
	return v ? v : GetUserNameFromId(GetUserId(), false);
}

static int
declared_event(void)
{
	const char *v = settings_event();

	if (v == NULL)
		return -1;
	for (int e = 0; e < NUM_EVENTS; e++)
		if (strcmp(v, event_names[e]) == 0)
			return e;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for aftersales.event: \"%s\"", v),
			 errdetail("Events are open, assign, reassign, take_over, start, arrive, resolve, fail, release, hold, resume, transfer, follow_up, cancel, reopen, lock, unlock, retarget, acknowledge and edit."),
			 errhint("Declare the event of a direct UPDATE, for example: SET LOCAL aftersales.event = 'release';")));
	return -1;					/* keep compiler quiet */
}

/* ------------------------------------------------------------------------
 * Judging a change.
 */

/* Where a transition leads for this row: applies its rule. */
static int
destination(const Transition *t, const Row *old, const Row *new, TimestampTz at)
{
	switch ((TicketRule) t->rule)
	{
		case RULE_LATE:
			if (!old->n[C_REQUESTED] && at > DatumGetTimestampTz(old->v[C_REQUESTED]))
				return t->alt;
			break;
		case RULE_ATTEMPTS:
			if (DatumGetInt32(old->v[C_ATTEMPTS]) + 1 >= MAX_ATTEMPTS)
				return t->alt;
			break;
		case RULE_UNSATISFIED:
			if (!new->n[C_SATISFIED] && !DatumGetBool(new->v[C_SATISFIED]))
				return t->alt;
			break;
		case RULE_HELD_FROM:
			return old->n[C_HELD_FROM] ? ST_NEW : state_of(old->v[C_HELD_FROM]);
		case RULE_NONE:
			break;
	}
	return t->to;
}

/*
 * Whether the columns a caller supplied fit the transition: the ones it
 * supplies changed (to a non-NULL value), no other managed column did.
 * On a misfit, *why gets a sentence for errdetail when why is not NULL.
 */
static bool
supplies_fit(const Transition *t, const Row *old, const Row *new,
			 TupleDesc desc, char **why)
{
	for (int c = 0; c < NUM_COLS; c++)
	{
		uint8		by = ticket_cols[c].supplied_by;

		if (ticket_cols[c].kind != COL_MANAGED || c == C_STATUS)
			continue;
		if (by != 0 && (t->flags & by))
		{
			/* follow-up scores may repeat the previous follow-up's */
			if (by == F_FOLLOW_UP)
			{
				if (c == C_SATISFIED && new->n[c])
				{
					if (why)
						*why = psprintf("Event %s needs satisfied to be true or false.",
										event_names[t->event]);
					return false;
				}
				continue;
			}
			if (new->n[c] || !col_changed(old, new, c, desc))
			{
				if (why)
					*why = psprintf("Event %s needs a new value in column %s.",
									event_names[t->event], ticket_cols[c].name);
				return false;
			}
		}
		else if (col_changed(old, new, c, desc))
		{
			if (why)
				*why = psprintf("Column %s is maintained by the closed loop; event %s does not take it from the caller.",
								ticket_cols[c].name, event_names[t->event]);
			return false;
		}
	}
	return true;
}

static void
illegal_event(int64 id, int from, int event)
{
	char	   *allowed = allowed_events(from);

	if (allowed[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ticket " INT64_FORMAT " is %s: event %s is not allowed",
						id, state_names[from], event_names[event]),
				 errdetail("A %s ticket is final: no event is allowed.", state_names[from]),
				 errhint("Open a new ticket instead, for example: SELECT aftersales.open_ticket(customer => 7, problem_type => 3, priority => 'B', description => 'the fault came back');")));
	else
	{
		const Transition *first = NULL;

		for (int i = 0; i < NUM_TRANSITIONS && first == NULL; i++)
			if (closed_loop[i].from == from)
				first = &closed_loop[i];
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ticket " INT64_FORMAT " is %s: event %s is not allowed",
						id, state_names[from], event_names[event]),
				 errdetail("Allowed events for a ticket in state %s: %s.",
						   state_names[from], allowed),
				 errhint("For example: SELECT aftersales.%s(" INT64_FORMAT "%s);",
						 event_api[first->event].function, id,
						 event_api[first->event].args)));
	}
}

/* The one event that explains an undeclared change, or an error. */
static const Transition *
infer_transition(int64 id, const Row *old, const Row *new, TupleDesc desc,
				 TimestampTz at)
{
	int			from = state_of(old->v[C_STATUS]);
	int			to = state_of(new->v[C_STATUS]);
	const Transition *found = NULL;
	const Transition *near = NULL;	/* right destination, wrong columns */
	char	   *why = NULL;
	StringInfoData names;
	int			n = 0;

	initStringInfo(&names);
	for (int i = 0; i < NUM_TRANSITIONS; i++)
	{
		const Transition *t = &closed_loop[i];

		if (t->from != from || (t->flags & F_DECLARED) ||
			destination(t, old, new, at) != to)
			continue;
		if (!supplies_fit(t, old, new, desc, near == NULL ? &why : NULL))
		{
			if (near == NULL)
				near = t;
			continue;
		}
		appendStringInfo(&names, "%s%s", n > 0 ? ", " : "", event_names[t->event]);
		found = t;
		n++;
	}
	if (n == 1)
		return found;
	if (n > 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ambiguous change of ticket " INT64_FORMAT " from %s to %s",
						id, state_names[from], state_names[to]),
				 errdetail("More than one event explains it: %s.", names.data),
				 errhint("Declare the event before the UPDATE, for example: SET LOCAL aftersales.event = '%s';",
						 event_names[found->event])));
	if (from != to && near != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no event takes ticket " INT64_FORMAT " from %s to %s with this update",
						id, state_names[from], state_names[to]),
				 errdetail_internal("%s", why),
				 errhint("Use the API, for example: SELECT aftersales.%s(" INT64_FORMAT "%s);",
						 event_api[near->event].function, id, event_api[near->event].args)));
	if (from != to)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no event takes ticket " INT64_FORMAT " from %s to %s",
						id, state_names[from], state_names[to]),
				 errdetail("Allowed events for a ticket in state %s: %s.",
						   state_names[from], allowed_events(from)),
				 errhint("Change the status through the events of the closed loop; aftersales.ticket_transitions() lists them.")));
	return NULL;				/* no status change, no event: a plain edit */
}

/*
 * Apply transition t to the NEW row: set the columns the loop maintains
 * (the caller may not have touched them: supplies_fit checked that).
 */
static HeapTuple
apply_transition(const Transition *t, int to, HeapTuple newtuple, TupleDesc desc,
				 const Row *old, Row *new, TimestampTz at)
{
	int			cols[NUM_COLS];
	Datum		vals[NUM_COLS];
	bool		nulls[NUM_COLS];
	int			n = 0;
	int			from = state_of(old->v[C_STATUS]);
	Datum		ts = TimestampTzGetDatum(at);

#define SET(c, val, isnull) \
	do { cols[n] = ticket_cache.attno[c]; vals[n] = (val); nulls[n] = (isnull); n++; } while (0)
#define SET_TIME_IF_NULL(c) \
	do { if (old->n[c]) SET(c, ts, false); } while (0)

	SET(C_STATUS, ObjectIdGetDatum(ticket_cache.state_oid[to]), false);
	SET(C_EVENT_SEQ, Int32GetDatum(DatumGetInt32(old->v[C_EVENT_SEQ]) + 1), false);
	SET(C_LAST_EVENT, ObjectIdGetDatum(ticket_cache.event_oid[t->event]), false);
	SET(C_LAST_EVENT_AT, ts, false);
	SET(C_LAST_ACTOR, CStringGetTextDatum(event_actor()), false);

	if (to == ST_ON_HOLD && from != ST_ON_HOLD)
		SET(C_HELD_FROM, ObjectIdGetDatum(ticket_cache.state_oid[from]), false);
	else if (to != ST_ON_HOLD && from == ST_ON_HOLD)
		SET(C_HELD_FROM, (Datum) 0, true);

	if (to == ST_NEW || to == ST_LOCKED)
		SET(C_ASSIGNEE, (Datum) 0, true);
	else if ((t->flags & F_ASSIGNEE) && to == ST_ASSIGNED)
		SET(C_ASSIGNED_AT, ts, false);

	if (t->flags & F_ATTEMPT)
		SET(C_ATTEMPTS, Int32GetDatum(DatumGetInt32(old->v[C_ATTEMPTS]) + 1), false);
	if (t->flags & F_RESPONSE)
		SET_TIME_IF_NULL(C_FIRST_RESPONSE);
	if (t->event == EV_ARRIVE)
		SET_TIME_IF_NULL(C_ARRIVED);
	if (t->event == EV_FOLLOW_UP)
		SET(C_FOLLOWED_UP, ts, false);

	switch (to)
	{
		case ST_RESOLVED:
			SET_TIME_IF_NULL(C_FIRST_RESOLVED);
			SET(C_RESOLVED, ts, false);
			break;
		case ST_CLOSED:
			SET(C_CLOSED, ts, false);
			break;
		case ST_CANCELLED:
			SET(C_CANCELLED, ts, false);
			break;
		case ST_NEW:
			/* a reopen: the final resolution is yet to come */
			if (from == ST_RESOLVED || from == ST_CLOSED)
			{
				SET(C_REOPENS, Int32GetDatum(DatumGetInt32(old->v[C_REOPENS]) + 1), false);
				SET(C_RESOLVED, (Datum) 0, true);
				SET(C_CLOSED, (Datum) 0, true);
			}
			break;
		default:
			break;
	}
#undef SET
#undef SET_TIME_IF_NULL

	return heap_modify_tuple_by_cols(newtuple, desc, n, cols, vals, nulls);
}

/* The error for a managed column changed by an update no event explains. */
static void
managed_column_changed(int64 id, int from, int c)
{
	const Transition *by = NULL;

	for (int i = 0; i < NUM_TRANSITIONS && by == NULL; i++)
		if (closed_loop[i].from == from && (closed_loop[i].flags & ticket_cols[c].supplied_by))
			by = &closed_loop[i];
	if (by != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("column %s of ticket " INT64_FORMAT " changes only through an event",
						ticket_cols[c].name, id),
				 errdetail("An UPDATE without a declared event must be explained by exactly one event, and change only the columns that event takes from the caller."),
				 errhint("Event %s takes it, and leads to state %s; use the API, for example: SELECT aftersales.%s(" INT64_FORMAT "%s);",
						 event_names[by->event], state_names[by->to], event_api[by->event].function, id,
						 event_api[by->event].args)));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("column %s of ticket " INT64_FORMAT " changes only through an event",
					ticket_cols[c].name, id),
			 errdetail("Allowed events for a ticket in state %s: %s.",
					   state_names[from], allowed_events(from)),
			 errhint("The closed loop maintains it; aftersales.ticket_transitions() lists the events and the column each takes from the caller.")));
}

/* The error for an event dated before the ticket's last one. */
static void
check_event_order(int64 id, int ev, TimestampTz at, const Row *old)
{
	if (at < DatumGetTimestampTz(old->v[C_LAST_EVENT_AT]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("event %s of ticket " INT64_FORMAT " at %s precedes its last event at %s",
						event_names[ev], id, pstrdup(timestamptz_to_str(at)),
						pstrdup(timestamptz_to_str(DatumGetTimestampTz(old->v[C_LAST_EVENT_AT])))),
				 errdetail("The events of a ticket are recorded in the order they happen."),
				 errhint("Pass a later time, or none for the current time.")));
}

/*
 * An update that changes no state: a change of the free columns
 * (description, org_id, requested_at, field, channel, unit_id, model_id,
 * problem_type_id), declared as event edit or
 * not.  It is event edit, outside the closed loop: allowed in every state,
 * after close or cancel only with the right edit_closed (a manager's), and
 * recorded like any event (event_seq moves: ticket_log.c writes the row
 * with the old and new values), so no field changes without an event.  An
 * UPDATE that writes the row as it was records nothing.
 */
static HeapTuple
guard_edit(TriggerData *td, TupleDesc desc, const Row *old, const Row *new, int64 id,
		   int from, TimestampTz at, bool declared)
{
	int			cols[4];
	Datum		vals[4];
	bool		nulls[4];
	bool		changed = false;

	for (int c = 0; c < NUM_COLS; c++)
		if (ticket_cols[c].kind == COL_MANAGED && col_changed(old, new, c, desc))
			managed_column_changed(id, from, c);
	/* access control (src/access.c): the right to edit, after close a manager's */
	access_check_event(DatumGetInt64(old->v[C_TENANT]), id,
					   (from == ST_CLOSED || from == ST_CANCELLED) ? "edit_closed" : "edit",
					   state_names[from], !old->n[C_ASSIGNEE], DatumGetInt64(old->v[C_ASSIGNEE]));
	for (int c = 0; c < NUM_COLS && !changed; c++)
		if (ticket_cols[c].kind == COL_FREE && col_changed(old, new, c, desc))
			changed = true;
	if (!changed)
		return td->tg_newtuple;
	/*
	 * A direct UPDATE is dated by the clock, or by the ticket's last event
	 * when that is later (events may be dated ahead of the clock: loaded
	 * plans, sample data), so that the log stays in order; a declared time
	 * (the API's at) must not precede it.
	 */
	if (!declared && at < DatumGetTimestampTz(old->v[C_LAST_EVENT_AT]))
		at = DatumGetTimestampTz(old->v[C_LAST_EVENT_AT]);
	check_event_order(id, EV_EDIT, at, old);

	cols[0] = ticket_cache.attno[C_EVENT_SEQ];
	vals[0] = Int32GetDatum(DatumGetInt32(old->v[C_EVENT_SEQ]) + 1);
	cols[1] = ticket_cache.attno[C_LAST_EVENT];
	vals[1] = ObjectIdGetDatum(ticket_cache.event_oid[EV_EDIT]);
	cols[2] = ticket_cache.attno[C_LAST_EVENT_AT];
	vals[2] = TimestampTzGetDatum(at);
	cols[3] = ticket_cache.attno[C_LAST_ACTOR];
	vals[3] = CStringGetTextDatum(event_actor());
	memset(nulls, false, sizeof(nulls));
	return heap_modify_tuple_by_cols(td->tg_newtuple, desc, 4, cols, vals, nulls);
}

static HeapTuple
guard_update(TriggerData *td)
{
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	Row			old,
				new;
	int64		id;
	int			from,
				to,
				ev;
	const Transition *t;
	TimestampTz at;
	char	   *why = NULL;

	read_row(td->tg_trigtuple, desc, &old);
	read_row(td->tg_newtuple, desc, &new);
	id = DatumGetInt64(old.v[C_TICKET]);
	from = state_of(old.v[C_STATUS]);

	for (int c = 0; c < NUM_COLS; c++)
		if (ticket_cols[c].kind == COL_FIXED && col_changed(&old, &new, c, desc))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("column %s of ticket " INT64_FORMAT " cannot be changed",
							ticket_cols[c].name, id),
					 errdetail("It is fixed when the ticket is entered: the SLA clocks were derived from it."),
					 errhint("Cancel the ticket and open a new one, for example: SELECT aftersales.cancel_ticket(" INT64_FORMAT ", reason => 'entered with the wrong customer');",
							 id)));

	ev = declared_event();
	at = ev >= 0 ? event_time() : ticket_now();
	if (ev == EV_EDIT)
		return guard_edit(td, desc, &old, &new, id, from, at, true);
	if (ev == EV_OPEN)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ticket " INT64_FORMAT " is already open", id),
				 errdetail("Event open happens once, when the ticket is entered."),
				 errhint("Open a ticket with INSERT or aftersales.open_ticket().")));
	if (ev >= 0)
	{
		t = find_transition(from, ev);
		if (t == NULL)
			illegal_event(id, from, ev);
		if (!supplies_fit(t, &old, &new, desc, &why))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("update of ticket " INT64_FORMAT " does not fit event %s",
							id, event_names[ev]),
					 errdetail_internal("%s", why),
					 errhint("Use the API, for example: SELECT aftersales.%s(" INT64_FORMAT "%s);",
							 event_api[ev].function, id, event_api[ev].args)));
		to = destination(t, &old, &new, at);
		if (col_changed(&old, &new, C_STATUS, desc) && state_of(new.v[C_STATUS]) != to)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("event %s takes ticket " INT64_FORMAT " from %s to %s, not to %s",
							event_names[ev], id, state_names[from], state_names[to],
							state_names[state_of(new.v[C_STATUS])]),
					 errhint("Leave status out of the UPDATE: the event decides it.")));
	}
	else
	{
		t = infer_transition(id, &old, &new, desc, at);
		if (t == NULL)
			return guard_edit(td, desc, &old, &new, id, from, at, false);
		to = state_of(new.v[C_STATUS]);
		ev = t->event;
	}

	if ((t->flags & F_REASON) && settings_event_reason() == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("event %s of ticket " INT64_FORMAT " needs a reason", event_names[ev], id),
				 errdetail("The reason is recorded in the event log, for the service manager and for audits."),
				 errhint("Give one, for example: SELECT aftersales.%s(" INT64_FORMAT "%s); or SET LOCAL aftersales.event_reason = '...'; before a direct UPDATE.",
						 event_api[ev].function, id, event_api[ev].args)));
	check_event_order(id, ev, at, &old);

	/* one UPDATE, one event: a field change rides on no other event unrecorded */
	for (int c = 0; c < NUM_COLS; c++)
		if (ticket_cols[c].kind == COL_FREE && col_changed(&old, &new, c, desc))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("update of ticket " INT64_FORMAT " changes column %s along with event %s",
							id, ticket_cols[c].name, event_names[ev]),
					 errdetail("A change of %s is event edit, recorded with its old and new values; an UPDATE records one event.",
							   ticket_cols[c].name),
					 errhint("Change it in an UPDATE of its own, or with: SELECT aftersales.edit_ticket(" INT64_FORMAT ", changes => '{\"%s\": ...}');",
							 id, ticket_cols[c].name)));
	/* access control (src/access.c): may this caller fire this event here */
	access_check_event(DatumGetInt64(old.v[C_TENANT]), id, event_names[ev], state_names[from],
					   !old.n[C_ASSIGNEE], DatumGetInt64(old.v[C_ASSIGNEE]));
	return apply_transition(t, to, td->tg_newtuple, desc, &old, &new, at);
}

static HeapTuple
guard_insert(TriggerData *td)
{
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	Row			row;
	int			status;
	int			cols[4];
	Datum		vals[4];
	bool		nulls[4];
	int			n = 0;

	read_row(td->tg_trigtuple, desc, &row);
	status = state_of(row.v[C_STATUS]);
	if (status != ST_NEW && status != ST_ON_HOLD)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("a ticket cannot be entered as %s", state_names[status]),
				 errdetail("A ticket enters the closed loop as new (awaiting assignment) or on_hold; to restore a dump, restore with session_replication_role = replica."),
				 errhint("Enter it as new, then assign it, for example: SELECT aftersales.assign_ticket(42, engineer => 7);")));
	for (int c = 0; c < NUM_COLS; c++)
	{
		bool		is_default;

		if (ticket_cols[c].kind != COL_MANAGED || c == C_STATUS || c == C_PRIORITY ||
			c == C_TIER || c == C_LAST_EVENT_AT || c == C_LAST_ACTOR)
			continue;
		if (c == C_ATTEMPTS || c == C_REOPENS)
			is_default = !row.n[c] && DatumGetInt32(row.v[c]) == 0;
		else if (c == C_EVENT_SEQ)
			is_default = !row.n[c] && DatumGetInt32(row.v[c]) == 1;
		else if (c == C_LAST_EVENT)
			is_default = !row.n[c] && DatumGetObjectId(row.v[c]) == ticket_cache.event_oid[EV_OPEN];
		else
			is_default = row.n[c];
		if (!is_default)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("column %s of a new ticket is maintained by the closed loop",
							ticket_cols[c].name),
					 errdetail("A ticket is entered without an assignee, counters or time stamps of later events."),
					 errhint("Leave the column out of the INSERT.")));
	}
	if (row.n[C_OPENED])
		elog(ERROR, "opened_at of a new ticket is NULL");
	/* access control (src/access.c): may this caller open tickets */
	access_check_event(DatumGetInt64(row.v[C_TENANT]), DatumGetInt64(row.v[C_TICKET]), "open",
					   state_names[status], false, 0);

#define SET(c, val, isnull) \
	do { cols[n] = ticket_cache.attno[c]; vals[n] = (val); nulls[n] = (isnull); n++; } while (0)
	SET(C_LAST_EVENT_AT, row.v[C_OPENED], false);
	SET(C_LAST_ACTOR, CStringGetTextDatum(event_actor()), false);
	if (status == ST_ON_HOLD)
		SET(C_HELD_FROM, ObjectIdGetDatum(ticket_cache.state_oid[ST_NEW]), false);
#undef SET
	return heap_modify_tuple_by_cols(td->tg_trigtuple, desc, n, cols, vals, nulls);
}

/* Trigger on tickets: the closed loop's guard (see the file header). */
PG_FUNCTION_INFO_V1(aftersales_ticket_guard);
Datum
aftersales_ticket_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "aftersales_ticket_guard: not called by the trigger manager");
	if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "aftersales_ticket_guard: must be fired before, for each row");

	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("tickets cannot be deleted"),
				 errdetail("Every ticket and its events are kept, so that its history can be replayed."),
				 errhint("Cancel it instead, for example: SELECT aftersales.cancel_ticket(42, reason => 'entered twice');")));

	ticket_cache_ensure(td->tg_relation);

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		return PointerGetDatum(guard_insert(td));
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		return PointerGetDatum(guard_update(td));
	elog(ERROR, "aftersales_ticket_guard: must be fired by INSERT, UPDATE or DELETE");
	return (Datum) 0;			/* keep compiler quiet */
}

/* ------------------------------------------------------------------------
 * SQL-callable helpers.
 */

/* The aftersales clock: setting aftersales.now when set, else now(). */
PG_FUNCTION_INFO_V1(aftersales_now);
Datum
aftersales_now(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(ticket_now());
}

/* Who acts: setting aftersales.actor when set, else the current role. */
PG_FUNCTION_INFO_V1(aftersales_actor);
Datum
aftersales_actor(PG_FUNCTION_ARGS)
{
	const char *v = settings_actor();

	/* access control (src/access.c): a non-superuser is who they logged in as */
	if (access_applies())
		PG_RETURN_TEXT_P(cstring_to_text(access_actor(v)));
	PG_RETURN_TEXT_P(cstring_to_text(v ? v : GetUserNameFromId(GetUserId(), false)));
}

/*
 * The tenant of the current transaction: setting aftersales.tenant_id, else
 * 1 (src/settings.c checks it).  In C because every API call, every
 * tenant-keyed DEFAULT and every trigger asks for it.
 */
PG_FUNCTION_INFO_V1(aftersales_current_tenant);
Datum
aftersales_current_tenant(PG_FUNCTION_ARGS)
{
	aftersales_check_version();
	/* access control (src/access.c): a non-superuser's tenant is checked membership */
	if (access_applies())
		PG_RETURN_INT64(access_tenant());
	PG_RETURN_INT64(settings_tenant());
}

/* Declare the event (actor, time, reason) of the next UPDATE; NULL clears. */
/*
 * An actor made of blanks only (spaces, tabs, newlines) names nobody: it
 * would be recorded as is and show as an empty name in every report.
 */
void
check_actor(const char *event, const char *actor)
{
	const char *c;

	if (actor == NULL || actor[0] == '\0')
		return;					/* none given: aftersales.actor() */
	for (c = actor; *c; c++)
		if (!isspace((unsigned char) *c))
			return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("actor of event %s must not be blank", event),
			 errhint("Name who acts, or pass none for aftersales.actor(), for example: actor => 'wang.wei'.")));
}

/*
 * How far ahead of the database clock (the transaction's start) an event
 * may be dated: a year, so that a year's plan or sample data loads, while
 * a slip of the year, 9999-12-31 or infinity, which would freeze the
 * ticket (every later event would precede it), is refused.
 */
#define EVENT_AT_AHEAD	((int64) 366 * USECS_PER_DAY)

void
check_event_time(const char *event, TimestampTz at)
{
	TimestampTz clock = GetCurrentTransactionStartTimestamp();

	if (TIMESTAMP_NOT_FINITE(at))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("time of event %s must be finite, not %s", event,
						TIMESTAMP_IS_NOBEGIN(at) ? "-infinity" : "infinity"),
				 errhint("Pass the time it happened, or none for the current time, for example: at => '2026-03-02 09:00+08'.")));
	if (at > clock && at - clock > EVENT_AT_AHEAD)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("time of event %s, %s, is more than a year ahead of the database clock, %s", event,
						pstrdup(timestamptz_to_str(at)), pstrdup(timestamptz_to_str(clock))),
				 errdetail("An event is dated when it happens; a later event of the ticket could not precede it."),
				 errhint("Pass the time it happened, or none for the current time.")));
}

PG_FUNCTION_INFO_V1(aftersales_declare_event);
Datum
aftersales_declare_event(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
	{
		settings_clear_event();
		PG_RETURN_VOID();
	}
	if (!PG_ARGISNULL(2))
		check_event_time(text_to_cstring(PG_GETARG_TEXT_PP(0)), PG_GETARG_TIMESTAMPTZ(2));
	if (!PG_ARGISNULL(1))
		check_actor(text_to_cstring(PG_GETARG_TEXT_PP(0)), text_to_cstring(PG_GETARG_TEXT_PP(1)));
	settings_declare_event(text_to_cstring(PG_GETARG_TEXT_PP(0)),
						   PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
						   PG_ARGISNULL(2) ? ticket_now() : PG_GETARG_TIMESTAMPTZ(2),
						   PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)));
	PG_RETURN_VOID();
}

/* ------------------------------------------------------------------------
 * The one UPDATE behind every event of the API (31_ticket_api.sql).
 *
 * It was PL/pgSQL; it runs on every event, and there each call started a
 * function, set search_path twice and ran two PERFORMs of declare_event
 * and one of current_tenant as statements of their own.  Here they are
 * plain C calls, and the UPDATE is prepared once per backend and kept.
 * The UPDATE names only qualified objects and operators, so it needs no
 * pinned search_path.
 */

/* Parameters of the kept UPDATE: tenant, ticket, assignee, tier, priority,
 * satisfied, csat, nps, comment, is a follow-up. */
#define TE_NARGS 10
static const char *const ticket_event_sql =
	"UPDATE aftersales.tickets t"
	"   SET assignee_id = COALESCE($3, t.assignee_id),"
	"       tier = COALESCE($4, t.tier),"
	"       priority = COALESCE($5, t.priority),"
	"       satisfied = CASE WHEN $10 THEN $6 ELSE t.satisfied END,"
	"       csat = CASE WHEN $10 THEN $7::pg_catalog.int2 ELSE t.csat END,"
	"       nps = CASE WHEN $10 THEN $8::pg_catalog.int2 ELSE t.nps END,"
	"       follow_up_comment = CASE WHEN $10 THEN $9 ELSE t.follow_up_comment END"
	" WHERE t.tenant_id OPERATOR(pg_catalog.=) $1 AND t.ticket_id OPERATOR(pg_catalog.=) $2"
	" RETURNING t.status";
static SPIPlanPtr ticket_event_plan = NULL;
static Oid	ticket_event_types[TE_NARGS];

/* text with the spaces at both ends removed (btrim), NULL when empty */
static char *
trimmed_or_null(text *t)
{
	char	   *s = text_to_cstring(t);
	char	   *end = s + strlen(s);

	while (*s == ' ')
		s++;
	while (end > s && end[-1] == ' ')
		end--;
	*end = '\0';
	return *s ? s : NULL;
}

/*
 * Declares the event of the next change, as declare_event does, for the
 * guard to judge: actor empty or NULL means aftersales.actor(), the reason
 * is trimmed of spaces (btrim), empty means none.
 */
static void
declare_event(const char *event, text *actor_arg, TimestampTz at, text *reason_arg)
{
	const char *actor = actor_arg ? text_to_cstring(actor_arg) : NULL;
	const char *reason = reason_arg ? trimmed_or_null(reason_arg) : NULL;

	if (event != NULL)
	{
		check_event_time(event, at);
		check_actor(event, actor);
	}

	if (actor == NULL || actor[0] == '\0')
		actor = TextDatumGetCString(DirectFunctionCall1(aftersales_actor, (Datum) 0));
	settings_declare_event(event, actor, at, reason);
}

/* The declaration is over (declare_event(NULL, ...)). */
static void
clear_event(void)
{
	settings_clear_event();
}

/* aftersales_internal.ticket_event(ticket, event, actor, at, reason, assignee,
 * tier, priority, satisfied, csat, nps, comment): the new status. */
PG_FUNCTION_INFO_V1(aftersales_ticket_event);
Datum
aftersales_ticket_event(PG_FUNCTION_ARGS)
{
	int64		tenant = DatumGetInt64(DirectFunctionCall1(aftersales_current_tenant, (Datum) 0));
	Oid			types[TE_NARGS] = {INT8OID, INT8OID, INT8OID, InvalidOid, InvalidOid,
	BOOLOID, INT4OID, INT4OID, TEXTOID, BOOLOID};
	Datum		args[TE_NARGS];
	char		nulls[TE_NARGS];
	bool		follow;
	bool		isnull;
	Datum		status;
	int			rc;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ticket must not be null"),
				 errhint("Name the ticket by its id, for example: SELECT aftersales.start_work(42);")));
	if (PG_ARGISNULL(1))
		elog(ERROR, "aftersales_internal.ticket_event: the event must not be null");

	declare_event(DatumGetCString(DirectFunctionCall1(enum_out, PG_GETARG_DATUM(1))),
				  PG_ARGISNULL(2) ? NULL : PG_GETARG_TEXT_PP(2),
				  PG_ARGISNULL(3) ? ticket_now() : PG_GETARG_TIMESTAMPTZ(3),
				  PG_ARGISNULL(4) ? NULL : PG_GETARG_TEXT_PP(4));

	/* the enum types of tier and priority, as this call's arguments have them */
	types[3] = get_fn_expr_argtype(fcinfo->flinfo, 6);
	types[4] = get_fn_expr_argtype(fcinfo->flinfo, 7);
	if (!OidIsValid(types[3]) || !OidIsValid(types[4]))
		elog(ERROR, "aftersales_internal.ticket_event: cannot tell the types of tier and priority");
	if (ticket_event_plan != NULL && memcmp(types, ticket_event_types, sizeof(types)) != 0)
	{
		/* the extension was recreated: its enums are other types */
		SPI_freeplan(ticket_event_plan);
		ticket_event_plan = NULL;
	}

	follow = strcmp(DatumGetCString(DirectFunctionCall1(enum_out, PG_GETARG_DATUM(1))), "follow_up") == 0;
	memset(nulls, ' ', sizeof(nulls));
	args[0] = Int64GetDatum(tenant);
	args[1] = PG_GETARG_DATUM(0);
	for (int i = 2; i < 9; i++)
	{
		/* ticket_event's arguments 6 to 12 are the UPDATE's $3 to $9 */
		args[i] = PG_ARGISNULL(i + 3) ? (Datum) 0 : PG_GETARG_DATUM(i + 3);
		nulls[i] = PG_ARGISNULL(i + 3) ? 'n' : ' ';
	}
	args[9] = BoolGetDatum(follow);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "aftersales_internal.ticket_event: SPI_connect failed");
	if (ticket_event_plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(ticket_event_sql, TE_NARGS, types);

		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "aftersales_internal.ticket_event: cannot prepare the UPDATE: %s",
				 SPI_result_code_string(SPI_result));
		ticket_event_plan = plan;
		memcpy(ticket_event_types, types, sizeof(types));
	}
	rc = SPI_execute_plan(ticket_event_plan, args, nulls, false, 0);
	if (rc != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "aftersales_internal.ticket_event: UPDATE: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("ticket " INT64_FORMAT " does not exist for tenant " INT64_FORMAT,
						PG_GETARG_INT64(0), tenant),
				 errhint("Tickets belong to the tenant in the setting aftersales.tenant_id; list them with: SELECT ticket_id, status FROM aftersales.tickets WHERE tenant_id = aftersales.current_tenant();")));
	/* an enum: an OID, by value, so it outlives SPI_finish */
	status = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	SPI_finish();
	clear_event();
	PG_RETURN_DATUM(status);
}

/* ------------------------------------------------------------------------
 * The INSERT behind open_ticket, after its validation: declared as event
 * open, like every other event, and prepared once per backend (as
 * ticket_event; open_ticket was two PERFORMs and an INSERT of PL/pgSQL).
 */
#define TO_NARGS 13
static const char *const ticket_open_sql =
	"INSERT INTO aftersales.tickets (tenant_id, channel, customer_id, unit_id, model_id, problem_type_id,"
	"                                description, priority, requested_at, org_id, field, status, opened_at)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
	" RETURNING ticket_id";
static SPIPlanPtr ticket_open_plan = NULL;
static Oid	ticket_open_types[TO_NARGS];

/* aftersales_internal.ticket_open(tenant, channel, customer, unit, model,
 * problem_type, description, priority, requested_at, org, field, status,
 * opened, actor, reason): the new ticket's id. */
PG_FUNCTION_INFO_V1(aftersales_ticket_open);
Datum
aftersales_ticket_open(PG_FUNCTION_ARGS)
{
	Oid			types[TO_NARGS] = {INT8OID, TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID, TEXTOID,
	InvalidOid, TIMESTAMPTZOID, INT8OID, BOOLOID, InvalidOid, TIMESTAMPTZOID};
	Datum		args[TO_NARGS];
	char		nulls[TO_NARGS];
	bool		isnull;
	Datum		id;
	int			rc;

	if (PG_ARGISNULL(12))
		elog(ERROR, "aftersales_internal.ticket_open: the time of entry must not be null");
	declare_event("open", PG_ARGISNULL(13) ? NULL : PG_GETARG_TEXT_PP(13), PG_GETARG_TIMESTAMPTZ(12),
				  PG_ARGISNULL(14) ? NULL : PG_GETARG_TEXT_PP(14));

	/* the enum types of priority and status, as this call's arguments have them */
	types[7] = get_fn_expr_argtype(fcinfo->flinfo, 7);
	types[11] = get_fn_expr_argtype(fcinfo->flinfo, 11);
	if (!OidIsValid(types[7]) || !OidIsValid(types[11]))
		elog(ERROR, "aftersales_internal.ticket_open: cannot tell the types of priority and status");
	if (ticket_open_plan != NULL && memcmp(types, ticket_open_types, sizeof(types)) != 0)
	{
		/* the extension was recreated: its enums are other types */
		SPI_freeplan(ticket_open_plan);
		ticket_open_plan = NULL;
	}
	for (int i = 0; i < TO_NARGS; i++)
	{
		args[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "aftersales_internal.ticket_open: SPI_connect failed");
	if (ticket_open_plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(ticket_open_sql, TO_NARGS, types);

		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "aftersales_internal.ticket_open: cannot prepare the INSERT: %s",
				 SPI_result_code_string(SPI_result));
		ticket_open_plan = plan;
		memcpy(ticket_open_types, types, sizeof(types));
	}
	rc = SPI_execute_plan(ticket_open_plan, args, nulls, false, 0);
	if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "aftersales_internal.ticket_open: INSERT: %s", SPI_result_code_string(rc));
	/* a bigint: by value, so it outlives SPI_finish */
	id = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	SPI_finish();
	clear_event();
	PG_RETURN_DATUM(id);
}

static int
label_index(Datum enumval, const char *const *names, int n)
{
	char	   *label = DatumGetCString(DirectFunctionCall1(enum_out, enumval));

	for (int i = 0; i < n; i++)
		if (strcmp(label, names[i]) == 0)
			return i;
	elog(ERROR, "unknown label \"%s\"", label);
	return -1;					/* keep compiler quiet */
}

/* The rule that took from --event--> to, or NULL when it was the plain way. */
PG_FUNCTION_INFO_V1(aftersales_transition_rule);
Datum
aftersales_transition_rule(PG_FUNCTION_ARGS)
{
	int			from = label_index(PG_GETARG_DATUM(0), state_names, NUM_STATES);
	int			event = label_index(PG_GETARG_DATUM(1), event_names, NUM_EVENTS);
	int			to = label_index(PG_GETARG_DATUM(2), state_names, NUM_STATES);
	const char *rule = ticket_rule_applied(from, event, to);

	if (rule == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(rule));
}

const char *
ticket_rule_applied(int from, int event, int to)
{
	const Transition *t = find_transition(from, event);

	if (t == NULL || t->rule == RULE_NONE || (t->rule != RULE_HELD_FROM && to != t->alt))
		return NULL;
	return rule_names[t->rule];
}

/*
 * One output row per (from, event, to): a transition with a rule yields its
 * plain and its rule destination, resume one row per state it may return to.
 */
typedef struct TransitionRow
{
	const Transition *t;
	int			to;
	bool		by_rule;
} TransitionRow;

static int
expand_transitions(TransitionRow *rows)
{
	int			n = 0;

	for (int i = 0; i < NUM_TRANSITIONS; i++)
	{
		const Transition *t = &closed_loop[i];

		if (t->rule == RULE_HELD_FROM)
		{
			for (int s = 0; s < NUM_STATES; s++)
				if (holdable(s))
					rows[n++] = (TransitionRow) {t, s, true};
			continue;
		}
		rows[n++] = (TransitionRow) {t, t->to, false};
		if (t->rule != RULE_NONE)
			rows[n++] = (TransitionRow) {t, t->alt, true};
	}
	return n;
}

/* The closed loop as a relation, for replay, tests and documentation. */
PG_FUNCTION_INFO_V1(aftersales_ticket_transitions);
Datum
aftersales_ticket_transitions(PG_FUNCTION_ARGS)
{
	FuncCallContext *fctx;
	TransitionRow *rows;

	if (SRF_IS_FIRSTCALL())
	{
		MemoryContext old;
		TupleDesc	desc;

		fctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(fctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		fctx->tuple_desc = BlessTupleDesc(desc);
		rows = palloc(sizeof(TransitionRow) * NUM_TRANSITIONS * NUM_STATES);
		fctx->max_calls = expand_transitions(rows);
		fctx->user_fctx = rows;
		MemoryContextSwitchTo(old);
	}
	fctx = SRF_PERCALL_SETUP();
	rows = fctx->user_fctx;
	if (fctx->call_cntr < fctx->max_calls)
	{
		TransitionRow *r = &rows[fctx->call_cntr];
		TupleDesc	desc = fctx->tuple_desc;
		Oid			state_type = TupleDescAttr(desc, 0)->atttypid;
		Oid			event_type = TupleDescAttr(desc, 1)->atttypid;
		Datum		values[9];
		bool		nulls[9] = {0};
		const char *supplies = NULL;

		if (r->t->flags & F_ASSIGNEE)
			supplies = "assignee_id";
		else if (r->t->flags & F_TIER)
			supplies = "tier";
		else if (r->t->flags & F_PRIORITY)
			supplies = "priority";
		else if (r->t->flags & F_FOLLOW_UP)
			supplies = "satisfied";

		values[0] = ObjectIdGetDatum(ticket_enum_label_oid(state_type, state_names[r->t->from]));
		values[1] = ObjectIdGetDatum(ticket_enum_label_oid(event_type, event_names[r->t->event]));
		values[2] = ObjectIdGetDatum(ticket_enum_label_oid(state_type, state_names[r->to]));
		if (r->by_rule)
			values[3] = CStringGetTextDatum(rule_names[r->t->rule]);
		else
			nulls[3] = true;
		values[4] = BoolGetDatum((r->t->flags & F_ATTEMPT) != 0);
		values[5] = BoolGetDatum((r->t->from == ST_RESOLVED || r->t->from == ST_CLOSED) &&
								 r->to == ST_NEW);
		values[6] = BoolGetDatum((r->t->flags & F_REASON) != 0);
		values[7] = BoolGetDatum((r->t->flags & F_RESPONSE) != 0);
		if (supplies)
			values[8] = CStringGetTextDatum(supplies);
		else
			nulls[8] = true;
		SRF_RETURN_NEXT(fctx, HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
	}
	SRF_RETURN_DONE(fctx);
}
