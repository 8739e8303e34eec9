/*
 * escalation.c: the arming of aftersales.escalation_watches as SLA clocks
 * start and move and tickets are entered (the watches, rules and stages
 * are 40_escalation.sql's).
 *
 *   clocks_started    AFTER INSERT ON ticket_sla, per statement: a watch
 *                      for each new clock, armed for its first stage;
 *   clocks_changed    AFTER UPDATE ON ticket_sla, per statement: re-arms
 *                      the watches of the clocks changed;
 *   new tickets        a 'ticket' watch for tickets with a requested date
 *                      or of a key customer, written by the entry trigger
 *                      of tickets (ticket_log.c) through
 *                      escalation_watch_new_tickets() or, for one ticket,
 *                      in its entry statement.
 *
 * Each trigger is one set-based statement over the statement's transition
 * table, the one its PL/pgSQL ran, word for word (it relies on the pinned
 * search_path, pg_catalog, pg_temp, for its operators), prepared once per
 * backend and kept; the transition table is registered as the same named
 * relation each time, as PL/pgSQL does.  A kept plan is made anew when the
 * trigger's table is another one (the extension was recreated).
 *
 * The life cycle of a ticket runs these on every entry and most events, so
 * the ticket triggers arm the watches of their one ticket in the statement
 * that writes its clocks (escalation_execute_arming): the entry statement
 * inserts the first watches with the clocks, and a statement that stops or
 * pauses clocks clears their watches' next_check in the same statement.
 * The clock triggers still fire and check that every row of theirs is of
 * that ticket: then there is nothing left to do; any other write of the
 * clocks (a resume, a reopen, a re-target, whose next stages next_check
 * must read after the write; a DBA's UPDATE; a bulk entry) is armed by
 * the trigger as before.
 */
#include "compat.h"
#include "escalation.h"
#include "sla_clock.h"
#include "ticket.h"

#include "access/htup_details.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

typedef enum ArmPlan
{
	A_CLOCKS_STARTED,
	A_CLOCKS_CHANGED,
	A_TICKETS_WATCHED,
	NUM_ARM_PLANS
} ArmPlan;

static const char *const arm_sql[NUM_ARM_PLANS] = {
	/* New clocks: each watch armed for its first stage (sla_clock.h). */
	[A_CLOCKS_STARTED] =
	"WITH f AS (" SLA_RULES_IN_FORCE("r.tenant_id IN (SELECT DISTINCT n.tenant_id FROM new_clocks n)") ") "
	"INSERT INTO aftersales.escalation_watches (tenant_id, ticket_id, clock, next_check)"
	"SELECT n.tenant_id, n.ticket_id, n.metric::text, " SLA_FIRST_CHECK("n", "c.calendar", "f")
	"  FROM new_clocks n"
	"  LEFT JOIN f ON f.tenant_id = n.tenant_id"
	"  LEFT JOIN aftersales.calendars c ON c.tenant_id = n.tenant_id AND c.name = n.calendar",

	/* Changed clocks: a stopped or paused clock has nothing to fire. */
	[A_CLOCKS_CHANGED] =
	"UPDATE aftersales.escalation_watches w"
	"   SET next_check = x.n"
	"  FROM (SELECT n.tenant_id, n.ticket_id, n.metric::text AS clock,"
	"               CASE WHEN n.stopped_at IS NULL AND n.paused_since IS NULL"
	"                    THEN aftersales_internal.next_check(n.tenant_id, n.ticket_id, n.metric::text) END AS n"
	"          FROM new_clocks n) x"
	" WHERE w.tenant_id = x.tenant_id AND w.ticket_id = x.ticket_id AND w.clock = x.clock"
	"   AND w.next_check IS DISTINCT FROM x.n",

	/* New tickets: the lock rule and the key-customer alert. */
	[A_TICKETS_WATCHED] =
	"WITH f AS (" SLA_RULES_IN_FORCE("r.tenant_id IN (SELECT DISTINCT n.tenant_id FROM new_tickets n)") ") "
	"INSERT INTO aftersales.escalation_watches (tenant_id, ticket_id, clock, next_check)"
	"SELECT n.tenant_id, n.ticket_id, 'ticket', "
	SLA_TICKET_CHECK("n.status", "n.requested_at", "n.opened_at", "cu.tier", "f")
	"  FROM new_tickets n"
	"  JOIN aftersales.customers cu ON cu.tenant_id = n.tenant_id AND cu.customer_id = n.customer_id"
	"  LEFT JOIN f ON f.tenant_id = n.tenant_id"
	" WHERE n.requested_at IS NOT NULL OR cu.tier = 'key' "
	"ON CONFLICT ON CONSTRAINT escalation_watches_pkey DO NOTHING"
};

static const int arm_expect[NUM_ARM_PLANS] = {
	[A_CLOCKS_STARTED] = SPI_OK_INSERT,
	[A_CLOCKS_CHANGED] = SPI_OK_UPDATE,
	[A_TICKETS_WATCHED] = SPI_OK_INSERT,
};

static SPIPlanPtr arm_plans[NUM_ARM_PLANS];
static Oid	arm_plans_relid[NUM_ARM_PLANS];

/* The ticket whose watches the statement running now arms itself. */
static struct
{
	bool		active;
	int64		tenant;
	int64		ticket;
}			arming;

int
escalation_execute_arming(SPIPlanPtr plan, Datum *args, const char *nulls, int64 tenant, int64 ticket)
{
	int			rc = 0;
	bool		was_active = arming.active;
	int64		was_tenant = arming.tenant;
	int64		was_ticket = arming.ticket;

	arming.active = true;
	arming.tenant = tenant;
	arming.ticket = ticket;
	PG_TRY();
	{
		rc = SPI_execute_plan(plan, args, nulls, false, 0);
	}
	PG_FINALLY();
	{
		/* an error must not leave other statements unarmed */
		arming.active = was_active;
		arming.tenant = was_tenant;
		arming.ticket = was_ticket;
	}
	PG_END_TRY();
	return rc;
}

/*
 * Whether every row of the trigger's transition table is a clock of the
 * ticket being armed by the statement that fired it.
 */
static bool
armed_by_statement(TriggerData *td)
{
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	int			tenant_att = SPI_fnumber(desc, "tenant_id");
	int			ticket_att = SPI_fnumber(desc, "ticket_id");
	TupleTableSlot *slot;
	bool		all = true;

	if (!arming.active)
		return false;
	if (tenant_att <= 0 || ticket_att <= 0)
		elog(ERROR, "%s has no tenant_id or ticket_id", RelationGetRelationName(td->tg_relation));
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	tuplestore_rescan(td->tg_newtable);
	/* bounded: the transition table holds the statement's rows */
	while (all && tuplestore_gettupleslot(td->tg_newtable, true, false, slot))
	{
		bool		n1,
					n2;
		Datum		tenant = slot_getattr(slot, tenant_att, &n1);
		Datum		ticket = slot_getattr(slot, ticket_att, &n2);

		CHECK_FOR_INTERRUPTS();
		all = !n1 && !n2 && DatumGetInt64(tenant) == arming.tenant &&
			DatumGetInt64(ticket) == arming.ticket;
	}
	ExecDropSingleTupleTableSlot(slot);
	return all;
}

/* The kept plan of statement p, for the table relid (see the header). */
static SPIPlanPtr
arm_plan(ArmPlan p, Oid relid, const char *fn)
{
	if (arm_plans[p] != NULL && arm_plans_relid[p] != relid)
	{
		/* the extension was recreated: its tables are others */
		SPI_freeplan(arm_plans[p]);
		arm_plans[p] = NULL;
	}
	if (arm_plans[p] == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(arm_sql[p], 0, NULL);

		if (plan == NULL)
			elog(ERROR, "%s: SPI_prepare failed: %s", fn, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "%s: SPI_keepplan failed", fn);
		arm_plans[p] = plan;
		arm_plans_relid[p] = relid;
	}
	return arm_plans[p];
}

/*
 * Runs statement p over the transition table of the trigger call, which
 * must be the AFTER statement trigger of the kind p serves; nothing when
 * the statement that fired it armed its rows itself.
 */
static Datum
run_arm_plan(FunctionCallInfo fcinfo, ArmPlan p, const char *fn, bool by_insert)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	int			rc;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "%s: not called by the trigger manager", fn);
	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_STATEMENT(td->tg_event) ||
		(by_insert ? !TRIGGER_FIRED_BY_INSERT(td->tg_event) : !TRIGGER_FIRED_BY_UPDATE(td->tg_event)) ||
		td->tg_newtable == NULL)
		elog(ERROR, "%s: must be fired after %s, for each statement, with a new table",
			 fn, by_insert ? "insert" : "update");
	if (armed_by_statement(td))
		return PointerGetDatum(NULL);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "%s: SPI_connect failed", fn);
	if (SPI_register_trigger_data(td) != SPI_OK_TD_REGISTER)
		elog(ERROR, "%s: SPI_register_trigger_data failed", fn);
	rc = SPI_execute_plan(arm_plan(p, RelationGetRelid(td->tg_relation), fn), NULL, NULL, false, 0);
	if (rc != arm_expect[p])
		elog(ERROR, "%s: %s", fn, SPI_result_code_string(rc));
	SPI_finish();
	return PointerGetDatum(NULL);
}

void
escalation_watch_new_tickets(Oid tickets_relid)
{
	int			rc = SPI_execute_plan(arm_plan(A_TICKETS_WATCHED, tickets_relid, "escalation_watch_new_tickets"),
									  NULL, NULL, false, 0);

	if (rc != SPI_OK_INSERT)
		elog(ERROR, "escalation_watch_new_tickets: %s", SPI_result_code_string(rc));
}

/* Trigger on ticket_sla: a watch for each new clock. */
PG_FUNCTION_INFO_V1(aftersales_clocks_started);
Datum
aftersales_clocks_started(PG_FUNCTION_ARGS)
{
	return run_arm_plan(fcinfo, A_CLOCKS_STARTED, "aftersales_clocks_started", true);
}

/* Trigger on ticket_sla: re-arms the watches of the clocks changed. */
PG_FUNCTION_INFO_V1(aftersales_clocks_changed);
Datum
aftersales_clocks_changed(PG_FUNCTION_ARGS)
{
	return run_arm_plan(fcinfo, A_CLOCKS_CHANGED, "aftersales_clocks_changed", false);
}

/*
 * The WHEN of trigger ticket_escalation_changed on tickets:
 * (old_requested, new_requested, old_status, new_status).  A change of the
 * requested date, or of the status of a ticket with a requested date or
 * into or out of locked, resolved, closed or cancelled: the changes the
 * ticket watch and the managers' queue care about.  In C because a WHEN
 * expression is rebuilt from its node text at every UPDATE statement of
 * tickets, and this one, in SQL, was 3 kB of it.
 */
PG_FUNCTION_INFO_V1(aftersales_ticket_escalation_matters);
Datum
aftersales_ticket_escalation_matters(PG_FUNCTION_ARGS)
{
	bool		old_req_null = PG_ARGISNULL(0);
	bool		new_req_null = PG_ARGISNULL(1);
	int			from,
				to;

	if (old_req_null != new_req_null ||
		(!new_req_null && PG_GETARG_TIMESTAMPTZ(0) != PG_GETARG_TIMESTAMPTZ(1)))
		PG_RETURN_BOOL(true);
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_BOOL(PG_ARGISNULL(2) != PG_ARGISNULL(3));	/* status is NOT NULL */
	from = ticket_status_arg(fcinfo, 2);
	to = ticket_status_arg(fcinfo, 3);
	if (from == to)
		PG_RETURN_BOOL(false);
#define SETTLED(s) ((s) == ST_LOCKED || (s) == ST_RESOLVED || (s) == ST_CLOSED || (s) == ST_CANCELLED)
	PG_RETURN_BOOL(!new_req_null || SETTLED(to) || SETTLED(from));
#undef SETTLED
}
