/*
 * ticket_log.c: the AFTER UPDATE trigger on aftersales.tickets that records
 * one event of one ticket: it moves the ticket's SLA clocks (ticket_sla) and
 * appends the event row (ticket_events).  The BEFORE trigger in ticket.c has
 * already judged the change and bumped event_seq; this one fires only when
 * event_seq moved (the trigger's WHEN clause in 30_tickets.sql).
 *
 * The clocks follow the states and the time stamps the guard set, not
 * event names, so that a direct UPDATE moves them exactly as the API does:
 *   leaving on_hold     pauses end: paused grows by the business time held,
 *                       due_at moves by as much;
 *   first_response_at,  stop first_response, arrival; status resolved stops
 *   arrived_at set      resolution and cancels a running arrival clock (the
 *                       visit was not needed); cancelled cancels them all;
 *   entering on_hold    clocks that pause on hold pause;
 *   resolved/closed     a reopen: the resolution clock runs again, the time
 *     -> new            spent resolved counted as a pause, so the verdict is
 *                       the final resolution's; first_resolved_at is kept;
 *   priority changed    running clocks take the new priority's targets:
 *                       elapsed time and pauses are kept, due_at recomputed.
 * The event row's payload carries what replay cannot derive from states
 * and times: assignee, tier, priority, follow-up scores, the rule that
 * applied, and the touched clocks' targets, due times, pauses and elapsed.
 *
 * It runs on every event of every ticket, hence C (it was PL/pgSQL).  All
 * writes still go through SPI, as statements: constraints, foreign keys,
 * the append-only and escalation triggers on the log and clock tables apply
 * as to any other statement (the clock triggers find the watches of a stop,
 * a pause or an entry armed by the statement itself: see escalation.c and
 * DISARM below).  The statements are prepared once per backend
 * and kept (SPI_keepplan); the plan cache replans them after DDL, and they
 * are made anew when the tickets table is another one (the extension was
 * recreated, so the enum types they take are others).  Each clock UPDATE
 * looks up the ticket's calendar itself and returns the touched clocks as
 * JSON, which saves a statement before and one after.
 */
#include "compat.h"
#include "escalation.h"
#include "settings.h"
#include "sla_clock.h"
#include "ticket.h"

#include "access/htup_details.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"
#include "executor/tuptable.h"

/* The statements, in the order they run for one event. */
typedef enum LogPlan
{
	P_RESUME,					/* leaving on_hold: pauses end */
	P_STOP,						/* stop or cancel clocks */
	P_PAUSE,					/* entering on_hold: clocks pause */
	P_REOPEN,					/* the resolution clock runs again */
	P_RETARGET,					/* new priority, new targets */
	P_EVENT,					/* the event row */
	NUM_PLANS
} LogPlan;

/* The ticket's calendar (all its business-time clocks share its policy's). */
#define CAL_CTE \
	"WITH k AS MATERIALIZED (SELECT (SELECT c.calendar FROM aftersales.ticket_sla s2" \
	" JOIN aftersales.calendars c ON c.tenant_id OPERATOR(pg_catalog.=) s2.tenant_id" \
	" AND c.name OPERATOR(pg_catalog.=) s2.calendar" \
	" WHERE s2.tenant_id OPERATOR(pg_catalog.=) $1 AND s2.ticket_id OPERATOR(pg_catalog.=) $2" \
	" LIMIT 1) AS cal) "

#define OF_TICKET \
	" WHERE s.tenant_id OPERATOR(pg_catalog.=) $1 AND s.ticket_id OPERATOR(pg_catalog.=) $2"

/* What the payload says of each clock an event touched. */
#define CLOCK_JSON \
	" RETURNING s.metric::pg_catalog.text, pg_catalog.jsonb_build_object('target', s.target," \
	" 'due', s.due_at, 'paused', s.paused, 'elapsed', s.elapsed)::pg_catalog.text"

/*
 * Clocks that stop or pause have no stage left to fire until they run
 * again: their escalation watches' next_check becomes NULL, here, in the
 * statement that stops or pauses them (escalation.c: the clock trigger then
 * has nothing to do).  The clock UPDATE is the CTE touched.
 */
#define DISARM \
	" RETURNING s.metric::pg_catalog.text AS metric, pg_catalog.jsonb_build_object('target', s.target," \
	" 'due', s.due_at, 'paused', s.paused, 'elapsed', s.elapsed)::pg_catalog.text AS json)," \
	" disarmed AS (UPDATE aftersales.escalation_watches w SET next_check = NULL FROM touched t" \
	" WHERE w.tenant_id OPERATOR(pg_catalog.=) $1 AND w.ticket_id OPERATOR(pg_catalog.=) $2" \
	" AND w.clock OPERATOR(pg_catalog.=) t.metric AND w.next_check IS NOT NULL)" \
	" SELECT t.metric, t.json FROM touched t"

static const char *const plan_sql[NUM_PLANS] = {
	[P_RESUME] = CAL_CTE
	"UPDATE aftersales.ticket_sla s"
	"   SET (paused, paused_since, due_at) ="
	"       (SELECT x.p, NULL::pg_catalog.timestamptz,"
	"               aftersales_internal.clock_add(s.calendar, k.cal, s.started_at, s.target OPERATOR(pg_catalog.+) x.p)"
	"          FROM (SELECT s.paused OPERATOR(pg_catalog.+)"
	"                       aftersales_internal.clock_diff(s.calendar, k.cal, s.paused_since, $3) AS p) x)"
	"  FROM k" OF_TICKET " AND s.paused_since IS NOT NULL" CLOCK_JSON,

	[P_STOP] = CAL_CTE
	", touched AS (UPDATE aftersales.ticket_sla s"
	"   SET stopped_at = $3,"
	"       outcome = CASE WHEN s.metric::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($4)"
	"                      THEN CASE WHEN $3 OPERATOR(pg_catalog.<=) s.due_at THEN 'met' ELSE 'breached' END"
	"                      ELSE 'cancelled' END,"
	"       elapsed = aftersales_internal.clock_diff(s.calendar, k.cal, s.started_at, $3) OPERATOR(pg_catalog.-) s.paused,"
	"       elapsed_wall = $3 OPERATOR(pg_catalog.-) s.started_at"
	"  FROM k" OF_TICKET " AND s.stopped_at IS NULL"
	"   AND (s.metric::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($4)"
	"        OR s.metric::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($5))" DISARM,

	[P_PAUSE] =
	"WITH touched AS (UPDATE aftersales.ticket_sla s SET paused_since = $3"
	OF_TICKET " AND s.stopped_at IS NULL AND s.pauses_on_hold" DISARM,

	[P_REOPEN] = CAL_CTE
	"UPDATE aftersales.ticket_sla s"
	"   SET (paused, stopped_at, outcome, elapsed, elapsed_wall, due_at) ="
	"       (SELECT x.p, NULL::pg_catalog.timestamptz, NULL::pg_catalog.text, NULL::pg_catalog.interval,"
	"               NULL::pg_catalog.interval,"
	"               aftersales_internal.clock_add(s.calendar, k.cal, s.started_at, s.target OPERATOR(pg_catalog.+) x.p)"
	"          FROM (SELECT s.paused OPERATOR(pg_catalog.+)"
	"                       aftersales_internal.clock_diff(s.calendar, k.cal, s.stopped_at, $3) AS p) x)"
	"  FROM k" OF_TICKET
	"   AND s.metric OPERATOR(pg_catalog.=) 'resolution' AND s.stopped_at IS NOT NULL" CLOCK_JSON,

	[P_RETARGET] = CAL_CTE
	"UPDATE aftersales.ticket_sla s"
	"   SET (target, due_at) ="
	"       (SELECT x.t,"
	"               aftersales_internal.clock_add(s.calendar, k.cal, s.started_at, x.t OPERATOR(pg_catalog.+) s.paused)"
	"          FROM (SELECT COALESCE((SELECT t.target FROM aftersales.sla_targets t"
	"                                  WHERE t.tenant_id OPERATOR(pg_catalog.=) s.tenant_id"
	"                                    AND t.policy_id OPERATOR(pg_catalog.=) s.policy_id"
	"                                    AND t.priority OPERATOR(pg_catalog.=) $4"
	"                                    AND t.metric OPERATOR(pg_catalog.=) s.metric), s.target) AS t) x)"
	"  FROM k" OF_TICKET " AND s.stopped_at IS NULL" CLOCK_JSON,

	[P_EVENT] =
	"INSERT INTO aftersales.ticket_events"
	"       (tenant_id, ticket_id, seq, at, actor, event, from_state, to_state, reason, payload)"
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
};

static SPIPlanPtr plans[NUM_PLANS];
static Oid	plans_relid = InvalidOid;

/* The kept plan of statement p for the tickets table rel, prepared once. */
static SPIPlanPtr
log_plan(LogPlan p, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Oid			types[10];
	int			n;

	if (plans_relid != RelationGetRelid(rel))
	{
		for (int i = 0; i < NUM_PLANS; i++)
		{
			if (plans[i] != NULL)
				SPI_freeplan(plans[i]);
			plans[i] = NULL;
		}
		plans_relid = RelationGetRelid(rel);
	}
	if (plans[p] != NULL)
		return plans[p];

	types[0] = INT8OID;
	types[1] = INT8OID;
	types[2] = TIMESTAMPTZOID;
	n = 3;
	if (p == P_STOP)
	{
		types[n++] = TEXTARRAYOID;
		types[n++] = TEXTARRAYOID;
	}
	else if (p == P_RETARGET)
		types[n++] = TupleDescAttr(desc, ticket_cache.attno[C_PRIORITY] - 1)->atttypid;
	else if (p == P_EVENT)
	{
		Oid			state_type = TupleDescAttr(desc, ticket_cache.attno[C_STATUS] - 1)->atttypid;

		types[2] = INT4OID;
		types[3] = TIMESTAMPTZOID;
		types[4] = TEXTOID;
		types[5] = TupleDescAttr(desc, ticket_cache.attno[C_LAST_EVENT] - 1)->atttypid;
		types[6] = state_type;
		types[7] = state_type;
		types[8] = TEXTOID;
		types[9] = JSONBOID;
		n = 10;
	}
	plans[p] = SPI_prepare(plan_sql[p], n, types);
	if (plans[p] == NULL)
		elog(ERROR, "SPI_prepare failed for ticket log statement %d: %s",
			 (int) p, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plans[p]) != 0)
		elog(ERROR, "SPI_keepplan failed for ticket log statement %d", (int) p);
	return plans[p];
}

/* The clocks of one event, by metric: the last statement's view wins. */
typedef struct Touched
{
	int			n;
	char	   *metric[8];
	char	   *json[8];
} Touched;

/* Run clock statement p and note the clocks it returned. */
static void
run_clock_plan(LogPlan p, Relation rel, Datum *values, Touched *touched)
{
	/* stopping and pausing disarm the watches themselves (DISARM) */
	bool		disarms = p == P_STOP || p == P_PAUSE;
	int			rc = disarms ?
		escalation_execute_arming(log_plan(p, rel), values, NULL,
								  DatumGetInt64(values[0]), DatumGetInt64(values[1])) :
		SPI_execute_plan(log_plan(p, rel), values, NULL, false, 0);

	if (rc != (disarms ? SPI_OK_SELECT : SPI_OK_UPDATE_RETURNING))
		elog(ERROR, "ticket log statement %d: %s", (int) p, SPI_result_code_string(rc));
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		char	   *metric = SPI_getvalue(tup, SPI_tuptable->tupdesc, 1);
		char	   *json = SPI_getvalue(tup, SPI_tuptable->tupdesc, 2);
		int			i;

		for (i = 0; i < touched->n; i++)
			if (strcmp(touched->metric[i], metric) == 0)
				break;
		if (i == touched->n)
		{
			/* one row per (ticket, metric): there are three metrics */
			if (touched->n == lengthof(touched->metric))
				elog(ERROR, "ticket has more SLA clocks than metrics");
			touched->metric[touched->n++] = metric;
		}
		touched->json[i] = json;
	}
	SPI_freetuptable(SPI_tuptable);
}

/* A text[] of the given C strings. */
static Datum
text_array(const char *const *items, int n)
{
	Datum		d[3];

	for (int i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(items[i]);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* Appends "key": to a JSON object under construction. */
static void
json_key(StringInfo buf, const char *key)
{
	if (buf->len > 1)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
}

static void
json_label(StringInfo buf, const char *key, Datum enumval)
{
	json_key(buf, key);
	escape_json(buf, DatumGetCString(DirectFunctionCall1(enum_out, enumval)));
}

static void
json_int(StringInfo buf, const char *key, Datum v, bool isnull, bool is_int8)
{
	json_key(buf, key);
	if (isnull)
		appendStringInfoString(buf, "null");
	else if (is_int8)
		appendStringInfo(buf, INT64_FORMAT, DatumGetInt64(v));
	else
		appendStringInfo(buf, "%d", (int) DatumGetInt16(v));
}

#define COL(row, c)		row##_v[c]
#define ISNULL(row, c)	row##_n[c]

/*
 * The clocks an event moves (see the file header), in the order the
 * statements run; the touched clocks are collected for the payload.
 */
static void
move_clocks(Relation rel, const Datum *old_v, const bool *old_n, const Datum *new_v, const bool *new_n,
			int from, int to, bool retargeting, Datum *key, Touched *touched)
{
	const char *stops[3];
	const char *voids[3];
	int			nstops = 0,
				nvoids = 0;

	if (ISNULL(old, C_FIRST_RESPONSE) && !ISNULL(new, C_FIRST_RESPONSE))
		stops[nstops++] = "first_response";
	if (ISNULL(old, C_ARRIVED) && !ISNULL(new, C_ARRIVED))
		stops[nstops++] = "arrival";
	if (to == ST_RESOLVED && from != ST_RESOLVED)
	{
		stops[nstops++] = "resolution";
		voids[nvoids++] = "arrival";
	}
	else if (to == ST_CANCELLED)
	{
		voids[nvoids++] = "first_response";
		voids[nvoids++] = "arrival";
		voids[nvoids++] = "resolution";
	}

	if (from == ST_ON_HOLD && to != ST_ON_HOLD)
		run_clock_plan(P_RESUME, rel, key, touched);
	if (nstops > 0 || nvoids > 0)
	{
		key[3] = text_array(stops, nstops);
		key[4] = text_array(voids, nvoids);
		run_clock_plan(P_STOP, rel, key, touched);
	}
	if (to == ST_ON_HOLD && from != ST_ON_HOLD)
		run_clock_plan(P_PAUSE, rel, key, touched);
	if ((from == ST_RESOLVED || from == ST_CLOSED) && to == ST_NEW)
		run_clock_plan(P_REOPEN, rel, key, touched);
	if (retargeting)
	{
		key[3] = COL(new, C_PRIORITY);
		run_clock_plan(P_RETARGET, rel, key, touched);
	}
}

/* A free column's value as JSON, as to_jsonb would write it. */
static void
json_free_value(StringInfo buf, int c, Datum v, bool isnull)
{
	char		tsbuf[MAXDATELEN + 1];

	if (isnull)
		appendStringInfoString(buf, "null");
	else if (c == C_DESCRIPTION || c == C_CHANNEL)
		escape_json(buf, TextDatumGetCString(v));
	else if (c == C_ORG || c == C_UNIT || c == C_MODEL || c == C_PROBLEM)
		appendStringInfo(buf, INT64_FORMAT, DatumGetInt64(v));
	else if (c == C_REQUESTED)
		appendStringInfo(buf, "\"%s\"", JsonEncodeDateTime(tsbuf, v, TIMESTAMPTZOID, NULL));
	else if (c == C_FIELD)
		appendStringInfoString(buf, DatumGetBool(v) ? "true" : "false");
	else
		elog(ERROR, "ticket log: column %d is not a free column", c);
}

/*
 * What an edit changed: {"changes": {column: {"old": ..., "new": ...}}},
 * so that replay_ticket() follows each free column from edit to edit.
 */
static void
json_changes(StringInfo buf, const Datum *old_v, const bool *old_n, const Datum *new_v, const bool *new_n)
{
	static const struct
	{
		int			col;
		const char *name;
	}			free_cols[] = {
		{C_DESCRIPTION, "description"}, {C_ORG, "org_id"},
		{C_REQUESTED, "requested_at"}, {C_FIELD, "field"},
		{C_CHANNEL, "channel"}, {C_UNIT, "unit_id"}, {C_MODEL, "model_id"},
		{C_PROBLEM, "problem_type_id"}
	};
	int			n = 0;

	json_key(buf, "changes");
	appendStringInfoChar(buf, '{');
	for (int i = 0; i < (int) lengthof(free_cols); i++)
	{
		int			c = free_cols[i].col;
		bool		same;

		if (ISNULL(old, c) || ISNULL(new, c))
			same = ISNULL(old, c) == ISNULL(new, c);
		else if (c == C_DESCRIPTION || c == C_CHANNEL)
			same = DatumGetBool(DirectFunctionCall2Coll(texteq, C_COLLATION_OID, COL(old, c), COL(new, c)));
		else if (c == C_ORG || c == C_UNIT || c == C_MODEL || c == C_PROBLEM)
			same = DatumGetInt64(COL(old, c)) == DatumGetInt64(COL(new, c));
		else if (c == C_REQUESTED)
			same = DatumGetTimestampTz(COL(old, c)) == DatumGetTimestampTz(COL(new, c));
		else
			same = DatumGetBool(COL(old, c)) == DatumGetBool(COL(new, c));
		if (same)
			continue;
		if (n++ > 0)
			appendStringInfoString(buf, ", ");
		escape_json(buf, free_cols[i].name);
		appendStringInfoString(buf, ": {\"old\": ");
		json_free_value(buf, c, COL(old, c), ISNULL(old, c));
		appendStringInfoString(buf, ", \"new\": ");
		json_free_value(buf, c, COL(new, c), ISNULL(new, c));
		appendStringInfoChar(buf, '}');
	}
	appendStringInfoChar(buf, '}');
}

/* The event row's payload, as jsonb_build_object would write it. */
static char *
event_payload(const Datum *old_v, const bool *old_n, const Datum *new_v, const bool *new_n,
			  int from, int ev, int to, bool retargeting, const Touched *touched)
{
	StringInfoData payload;
	const char *rule;

	initStringInfo(&payload);
	appendStringInfoChar(&payload, '{');
	if (retargeting)
		json_label(&payload, "priority", COL(new, C_PRIORITY));
	if (!ISNULL(new, C_ASSIGNEE) &&
		(ISNULL(old, C_ASSIGNEE) || DatumGetInt64(COL(new, C_ASSIGNEE)) != DatumGetInt64(COL(old, C_ASSIGNEE))))
		json_int(&payload, "assignee", COL(new, C_ASSIGNEE), false, true);
	if (DatumGetObjectId(COL(new, C_TIER)) != DatumGetObjectId(COL(old, C_TIER)))
		json_label(&payload, "tier", COL(new, C_TIER));
	if (ev == EV_FOLLOW_UP)
	{
		json_key(&payload, "satisfied");
		appendStringInfoString(&payload, ISNULL(new, C_SATISFIED) ? "null" :
							   DatumGetBool(COL(new, C_SATISFIED)) ? "true" : "false");
		json_int(&payload, "csat", COL(new, C_CSAT), ISNULL(new, C_CSAT), false);
		json_int(&payload, "nps", COL(new, C_NPS), ISNULL(new, C_NPS), false);
		json_key(&payload, "comment");
		if (ISNULL(new, C_COMMENT))
			appendStringInfoString(&payload, "null");
		else
			escape_json(&payload, TextDatumGetCString(COL(new, C_COMMENT)));
	}
	if (ev == EV_EDIT)
		json_changes(&payload, old_v, old_n, new_v, new_n);
	rule = ev == EV_EDIT ? NULL : ticket_rule_applied(from, ev, to);
	if (rule != NULL && strcmp(rule, "held_from") != 0)
	{
		json_key(&payload, "rule");
		escape_json(&payload, rule);
	}
	if (touched->n > 0)
	{
		json_key(&payload, "sla");
		appendStringInfoChar(&payload, '{');
		for (int i = 0; i < touched->n; i++)
		{
			if (i > 0)
				appendStringInfoString(&payload, ", ");
			escape_json(&payload, touched->metric[i]);
			appendStringInfo(&payload, ": %s", touched->json[i]);
		}
		appendStringInfoChar(&payload, '}');
	}
	appendStringInfoChar(&payload, '}');
	return payload.data;
}

/* Append the event row to the ticket's log. */
static void
append_event_row(Relation rel, const Datum *old_v, const Datum *new_v, Datum at, const char *payload)
{
	const char *reason = settings_event_reason();
	Datum		ev_values[10];
	char		ev_nulls[10];
	int			rc;

	memset(ev_nulls, ' ', sizeof(ev_nulls));
	ev_values[0] = COL(new, C_TENANT);
	ev_values[1] = COL(new, C_TICKET);
	ev_values[2] = COL(new, C_EVENT_SEQ);
	ev_values[3] = at;
	ev_values[4] = COL(new, C_LAST_ACTOR);
	ev_values[5] = COL(new, C_LAST_EVENT);
	ev_values[6] = COL(old, C_STATUS);
	ev_values[7] = COL(new, C_STATUS);
	if (reason != NULL && reason[0] != '\0')
		ev_values[8] = CStringGetTextDatum(reason);
	else
		ev_nulls[8] = 'n';
	ev_values[9] = DirectFunctionCall1(jsonb_in, CStringGetDatum(payload));
	rc = SPI_execute_plan(log_plan(P_EVENT, rel), ev_values, ev_nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "ticket log: inserting the event row: %s", SPI_result_code_string(rc));
}

/*
 * An edit of the model or the problem type moves the ticket's occurrence
 * count with it: a delta of -1 for the old one, +1 for the new one, so the
 * counts stay the tickets of each (check_occurrences).  The SLA clocks stay
 * as they are: policy and targets follow the customer's agreement, the
 * priority and the day of entry, none of which an edit changes.
 */
static void
move_occurrences(const Datum *old_v, const bool *old_n, const Datum *new_v, const bool *new_n)
{
	static const char *const sql =
		"INSERT INTO aftersales.occurrences (tenant_id, model_id, problem_type_id, n) "
		"SELECT $1, x.model, x.problem, x.n "
		"  FROM (VALUES ($2, NULL::pg_catalog.int8, -1), ($3, NULL, 1), (NULL, $4, -1), (NULL, $5, 1)) "
		"       AS x (model, problem, n) "
		" WHERE (x.model IS NOT NULL AND $2 IS DISTINCT FROM $3) "
		"    OR (x.problem IS NOT NULL AND $4 IS DISTINCT FROM $5)";
	static SPIPlanPtr plan = NULL;
	Datum		args[5];
	char		nulls[5];
	int			rc;

	if (ISNULL(old, C_MODEL) == ISNULL(new, C_MODEL) &&
		(ISNULL(old, C_MODEL) || DatumGetInt64(COL(old, C_MODEL)) == DatumGetInt64(COL(new, C_MODEL))) &&
		DatumGetInt64(COL(old, C_PROBLEM)) == DatumGetInt64(COL(new, C_PROBLEM)))
		return;
	if (plan == NULL)
	{
		Oid			types[5] = {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID};
		SPIPlanPtr	p = SPI_prepare(sql, 5, types);

		if (p == NULL)
			elog(ERROR, "ticket log: preparing the occurrence move: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "ticket log: keeping the occurrence move's plan");
		plan = p;
	}
	args[0] = COL(new, C_TENANT);
	args[1] = COL(old, C_MODEL);
	args[2] = COL(new, C_MODEL);
	args[3] = COL(old, C_PROBLEM);
	args[4] = COL(new, C_PROBLEM);
	nulls[0] = ' ';
	nulls[1] = ISNULL(old, C_MODEL) ? 'n' : ' ';
	nulls[2] = ISNULL(new, C_MODEL) ? 'n' : ' ';
	nulls[3] = ' ';
	nulls[4] = ' ';
	rc = SPI_execute_plan(plan, args, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "ticket log: moving occurrence counts: %s", SPI_result_code_string(rc));
}

/* Trigger on tickets: the event row and the SLA clocks (see the file header). */
PG_FUNCTION_INFO_V1(aftersales_ticket_changed);
Datum
aftersales_ticket_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	Datum		old_v[NUM_COLS],
				new_v[NUM_COLS];
	bool		old_n[NUM_COLS],
				new_n[NUM_COLS];
	int			from,
				to,
				ev = -1;
	bool		retargeting;
	Datum		key[5];
	Touched		touched = {0};

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "aftersales_ticket_changed: not called by the trigger manager");
	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		elog(ERROR, "aftersales_ticket_changed: must be fired after update, for each row");

	rel = td->tg_relation;
	desc = RelationGetDescr(rel);
	ticket_cache_ensure(rel);
	for (int c = 0; c < NUM_COLS; c++)
	{
		old_v[c] = heap_getattr(td->tg_trigtuple, ticket_cache.attno[c], desc, &old_n[c]);
		new_v[c] = heap_getattr(td->tg_newtuple, ticket_cache.attno[c], desc, &new_n[c]);
	}
	from = ticket_state_of(COL(old, C_STATUS));
	to = ticket_state_of(COL(new, C_STATUS));
	for (int e = 0; e < NUM_EVENTS; e++)
		if (ticket_cache.event_oid[e] == DatumGetObjectId(COL(new, C_LAST_EVENT)))
			ev = e;
	if (ev < 0)
		elog(ERROR, "unknown ticket event %u", DatumGetObjectId(COL(new, C_LAST_EVENT)));
	retargeting = DatumGetObjectId(COL(new, C_PRIORITY)) != DatumGetObjectId(COL(old, C_PRIORITY));

	key[0] = COL(new, C_TENANT);
	key[1] = COL(new, C_TICKET);
	key[2] = COL(new, C_LAST_EVENT_AT);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "aftersales_ticket_changed: SPI_connect failed");
	move_clocks(rel, old_v, old_n, new_v, new_n, from, to, retargeting, key, &touched);
	if (ev == EV_EDIT)
		move_occurrences(old_v, old_n, new_v, new_n);
	append_event_row(rel, old_v, new_v, key[2],
					 event_payload(old_v, old_n, new_v, new_n, from, ev, to, retargeting, &touched));
	SPI_finish();
	return PointerGetDatum(NULL);
}

/* ------------------------------------------------------------------------
 * Entry: occurrence counts, SLA clocks and the open event of new tickets.
 *
 * AFTER INSERT FOR EACH STATEMENT on tickets, with the new rows as the
 * transition table new_tickets.  One row, the usual case (open_ticket):
 * kept plans whose parameters are the row's values, index lookups all.
 * More rows (open_tickets, INSERT ... SELECT): the same work set-based, in
 * two statements over new_tickets, planned for the batch at hand.
 *
 * A ticket's SLA policy: the customer's agreement valid on the day of
 * entry (in the zone of the agreement's calendar), else the tenant default.
 * Every new row gets its clocks; one with none is refused
 * (aftersales_internal.no_sla_policy raises the error).
 */

/*
 * One new ticket: one statement, prepared once per backend.  It was five
 * (occurrences, agreement, default policy, clocks, open event), each with
 * its executor start; as data-modifying CTEs of one statement they do the
 * same writes, in the same snapshot, and their triggers fire at its end.
 * The policy: the customer's agreement valid that day (any one, LIMIT 1),
 * else the tenant's default.  No clocks (no policy, or no targets for the
 * priority): aftersales_internal.no_sla_policy raises the error, as the set-based
 * path does.  It also arms the escalation watches of the new clocks and,
 * with a requested date or a key customer, of the ticket (escalation.c
 * says why here and how the triggers learn it).
 */
typedef enum EntryArg
{
	EA_TENANT, EA_TICKET, EA_ACTOR, EA_STATUS, EA_OPENED, EA_REASON,
	EA_PRIORITY, EA_FIELD, EA_MODEL, EA_PROBLEM, EA_CUSTOMER, EA_TIER,
	EA_ON_HOLD, EA_REQUESTED,
	NUM_ENTRY_ARGS
} EntryArg;

static const char *const enter_one_sql =
	"WITH occurrences AS ("
	"    INSERT INTO aftersales.occurrences (tenant_id, model_id, problem_type_id, n)"
	"    SELECT $1, x.model, x.problem, 1"
	"      FROM (VALUES ($9, NULL::pg_catalog.int8), (NULL, $10)) AS x (model, problem)"
	"     WHERE x.model IS NOT NULL OR x.problem IS NOT NULL"
	"), agreement AS MATERIALIZED ("
	"    SELECT sa.policy_id, sa.agreement_id"
	"      FROM aftersales.service_agreements sa"
	"      JOIN aftersales.sla_policies p"
	"        ON p.tenant_id OPERATOR(pg_catalog.=) sa.tenant_id AND p.policy_id OPERATOR(pg_catalog.=) sa.policy_id"
	"      JOIN aftersales.calendars c"
	"        ON c.tenant_id OPERATOR(pg_catalog.=) p.tenant_id AND c.name OPERATOR(pg_catalog.=) p.calendar"
	"     WHERE sa.tenant_id OPERATOR(pg_catalog.=) $1 AND sa.customer_id OPERATOR(pg_catalog.=) $11"
	"       AND sa.valid OPERATOR(pg_catalog.@>) ($5 AT TIME ZONE aftersales.calendar_zone(c.calendar))::pg_catalog.date"
	"     LIMIT 1"
	"), policy AS MATERIALIZED ("
	"    SELECT COALESCE((SELECT a.policy_id FROM agreement a),"
	"                    (SELECT d.policy_id FROM aftersales.sla_policies d"
	"                      WHERE d.tenant_id OPERATOR(pg_catalog.=) $1 AND d.is_default LIMIT 1)) AS policy_id,"
	"           (SELECT a.agreement_id FROM agreement a) AS agreement_id"
	"), clocks AS ("
	"    INSERT INTO aftersales.ticket_sla AS s"
	"           (tenant_id, ticket_id, metric, policy_id, agreement_id, target, calendar, pauses_on_hold,"
	"            started_at, due_at, paused_since)"
	"    SELECT $1, $2, t.metric, pol.policy_id, pol.agreement_id, t.target,"
	"           CASE WHEN t.clock OPERATOR(pg_catalog.=) 'business' THEN sp.calendar END,"
	"           t.pauses_on_hold, $5,"
	"           aftersales_internal.clock_add(CASE WHEN t.clock OPERATOR(pg_catalog.=) 'business' THEN sp.calendar END,"
	"                                         c.calendar, $5, t.target),"
	"           CASE WHEN $13 AND t.pauses_on_hold THEN $5 END"
	"      FROM policy pol"
	"      JOIN aftersales.sla_policies sp"
	"        ON sp.tenant_id OPERATOR(pg_catalog.=) $1 AND sp.policy_id OPERATOR(pg_catalog.=) pol.policy_id"
	"      JOIN aftersales.calendars c"
	"        ON c.tenant_id OPERATOR(pg_catalog.=) sp.tenant_id AND c.name OPERATOR(pg_catalog.=) sp.calendar"
	"      JOIN aftersales.sla_targets t"
	"        ON t.tenant_id OPERATOR(pg_catalog.=) sp.tenant_id AND t.policy_id OPERATOR(pg_catalog.=) sp.policy_id"
	"     WHERE t.priority OPERATOR(pg_catalog.=) $7"
	"       AND (t.metric OPERATOR(pg_catalog.<>) 'arrival' OR $8)"
	"    RETURNING s.tenant_id, s.ticket_id, s.metric, s.target, s.calendar, s.pauses_on_hold, s.due_at,"
	"              s.started_at, s.paused, s.paused_since, s.stopped_at"
	"), f AS MATERIALIZED (" SLA_RULES_IN_FORCE("r.tenant_id OPERATOR(pg_catalog.=) $1")
	"), clock_watches AS ("
	/* each new clock's watch, armed for its first stage, as clocks_started arms it */
	"    INSERT INTO aftersales.escalation_watches (tenant_id, ticket_id, clock, next_check)"
	"    SELECT k.tenant_id, k.ticket_id, k.metric::pg_catalog.text, " SLA_FIRST_CHECK("k", "c.calendar", "f")
	"      FROM clocks k"
	"      LEFT JOIN f ON true"
	"      LEFT JOIN aftersales.calendars c"
	"        ON c.tenant_id OPERATOR(pg_catalog.=) k.tenant_id AND c.name OPERATOR(pg_catalog.=) k.calendar"
	"), ticket_watch AS ("
	/* a requested date or a key customer: the 'ticket' watch, as escalation.c arms it */
	"    INSERT INTO aftersales.escalation_watches (tenant_id, ticket_id, clock, next_check)"
	"    SELECT $1, $2, 'ticket', " SLA_TICKET_CHECK("$4", "$14", "$5", "cu.tier", "f")
	"      FROM aftersales.customers cu"
	"      LEFT JOIN f ON true"
	"     WHERE cu.tenant_id OPERATOR(pg_catalog.=) $1 AND cu.customer_id OPERATOR(pg_catalog.=) $11"
	"       AND ($14 IS NOT NULL OR cu.tier OPERATOR(pg_catalog.=) 'key')"
	"    ON CONFLICT ON CONSTRAINT escalation_watches_pkey DO NOTHING"
	"), snapshot AS ("
	"    SELECT pg_catalog.jsonb_object_agg(k.metric, pg_catalog.jsonb_build_object("
	"               'target', k.target, 'calendar', k.calendar, 'pauses', k.pauses_on_hold, 'due', k.due_at)) AS sla"
	"      FROM clocks k"
	")"
	"INSERT INTO aftersales.ticket_events"
	"       (tenant_id, ticket_id, seq, at, actor, event, from_state, to_state, reason, payload)"
	"SELECT $1, $2, 1, $5, $3, 'open', NULL, $4, $6,"
	"       pg_catalog.jsonb_build_object('priority', $7, 'tier', $12,"
	"           'policy', CASE WHEN s.sla IS NULL THEN aftersales_internal.no_sla_policy($1, $2, $11, $7)"
	"                          ELSE pol.policy_id END,"
	"           'agreement', pol.agreement_id, 'sla', s.sla)"
	"  FROM policy pol, snapshot s";

static SPIPlanPtr enter_one_plan = NULL;
static Oid	enter_one_relid = InvalidOid;

/* The one new ticket of a statement (see enter_one_sql). */
static void
enter_one(Relation rel, HeapTuple tuple, const char *reason)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Datum		v[NUM_COLS];
	bool		isnull[NUM_COLS];
	Datum		args[NUM_ENTRY_ARGS];
	char		nulls[NUM_ENTRY_ARGS];
	bool		on_hold;
	int			rc;

	if (enter_one_plan != NULL && enter_one_relid != RelationGetRelid(rel))
	{
		/* the extension was recreated: its enums are other types */
		SPI_freeplan(enter_one_plan);
		enter_one_plan = NULL;
	}
	if (enter_one_plan == NULL)
	{
		Oid			types[NUM_ENTRY_ARGS];
		SPIPlanPtr	plan;

		types[EA_TENANT] = INT8OID;
		types[EA_TICKET] = INT8OID;
		types[EA_ACTOR] = TEXTOID;
		types[EA_STATUS] = TupleDescAttr(desc, ticket_cache.attno[C_STATUS] - 1)->atttypid;
		types[EA_OPENED] = TIMESTAMPTZOID;
		types[EA_REASON] = TEXTOID;
		types[EA_PRIORITY] = TupleDescAttr(desc, ticket_cache.attno[C_PRIORITY] - 1)->atttypid;
		types[EA_FIELD] = BOOLOID;
		types[EA_MODEL] = INT8OID;
		types[EA_PROBLEM] = INT8OID;
		types[EA_CUSTOMER] = INT8OID;
		types[EA_TIER] = TupleDescAttr(desc, ticket_cache.attno[C_TIER] - 1)->atttypid;
		types[EA_ON_HOLD] = BOOLOID;
		types[EA_REQUESTED] = TIMESTAMPTZOID;
		plan = SPI_prepare(enter_one_sql, NUM_ENTRY_ARGS, types);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for the ticket entry statement: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed for the ticket entry statement");
		enter_one_plan = plan;
		enter_one_relid = RelationGetRelid(rel);
	}

	for (int c = 0; c < NUM_COLS; c++)
		v[c] = heap_getattr(tuple, ticket_cache.attno[c], desc, &isnull[c]);
	on_hold = ticket_state_of(v[C_STATUS]) == ST_ON_HOLD;

	memset(nulls, ' ', sizeof(nulls));
	args[EA_TENANT] = v[C_TENANT];
	args[EA_TICKET] = v[C_TICKET];
	args[EA_ACTOR] = v[C_LAST_ACTOR];
	args[EA_STATUS] = v[C_STATUS];
	args[EA_OPENED] = v[C_OPENED];
	/* the reason of an entry on hold is its hold's */
	if (on_hold && reason != NULL)
		args[EA_REASON] = CStringGetTextDatum(reason);
	else
		nulls[EA_REASON] = 'n';
	args[EA_PRIORITY] = v[C_PRIORITY];
	args[EA_FIELD] = v[C_FIELD];
	/* entering a request counts its product and problem type */
	args[EA_MODEL] = v[C_MODEL];
	nulls[EA_MODEL] = isnull[C_MODEL] ? 'n' : ' ';
	args[EA_PROBLEM] = v[C_PROBLEM];
	nulls[EA_PROBLEM] = isnull[C_PROBLEM] ? 'n' : ' ';
	args[EA_CUSTOMER] = v[C_CUSTOMER];
	args[EA_TIER] = v[C_TIER];
	args[EA_ON_HOLD] = BoolGetDatum(on_hold);
	args[EA_REQUESTED] = v[C_REQUESTED];
	nulls[EA_REQUESTED] = isnull[C_REQUESTED] ? 'n' : ' ';
	/* it arms the escalation watches of its clocks and ticket itself */
	rc = escalation_execute_arming(enter_one_plan, args, nulls,
								   DatumGetInt64(v[C_TENANT]), DatumGetInt64(v[C_TICKET]));
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "ticket entry statement: %s", SPI_result_code_string(rc));
	if (SPI_processed != 1)
		elog(ERROR, "ticket entry statement: wrote " UINT64_FORMAT " open events", SPI_processed);
}

/* Many new tickets: the set-based statements over new_tickets. */
static const char *const enter_many_sql[] = {
	"INSERT INTO aftersales.occurrences (tenant_id, model_id, problem_type_id, n) "
	"SELECT n.tenant_id, n.model_id, NULL, pg_catalog.count(*) "
	"  FROM new_tickets n WHERE n.model_id IS NOT NULL GROUP BY 1, 2 "
	"UNION ALL "
	"SELECT n.tenant_id, NULL, n.problem_type_id, pg_catalog.count(*) "
	"  FROM new_tickets n GROUP BY 1, 3 ",
	"WITH policy AS ( "
	"    SELECT n.tenant_id, n.ticket_id, n.priority, n.field, n.status, n.opened_at, "
	"           COALESCE(a.policy_id, d.policy_id) AS policy_id, a.agreement_id "
	"      FROM new_tickets n "
	"      LEFT JOIN (SELECT sa.tenant_id, sa.customer_id, sa.valid, sa.policy_id, sa.agreement_id, "
	"                        aftersales.calendar_zone(c.calendar) AS zone "
	"                   FROM aftersales.service_agreements sa "
	"                   JOIN aftersales.sla_policies p "
	"                     ON p.tenant_id OPERATOR(pg_catalog.=) sa.tenant_id AND p.policy_id OPERATOR(pg_catalog.=) sa.policy_id "
	"                   JOIN aftersales.calendars c "
	"                     ON c.tenant_id OPERATOR(pg_catalog.=) p.tenant_id AND c.name OPERATOR(pg_catalog.=) p.calendar) a "
	"        ON a.tenant_id OPERATOR(pg_catalog.=) n.tenant_id AND a.customer_id OPERATOR(pg_catalog.=) n.customer_id "
	"       AND a.valid OPERATOR(pg_catalog.@>) (n.opened_at AT TIME ZONE a.zone)::date "
	"      LEFT JOIN aftersales.sla_policies d "
	"        ON d.tenant_id OPERATOR(pg_catalog.=) n.tenant_id AND d.is_default "
	"), clocks AS ( "
	"    INSERT INTO aftersales.ticket_sla AS s "
	"           (tenant_id, ticket_id, metric, policy_id, agreement_id, target, calendar, pauses_on_hold, "
	"            started_at, due_at, paused_since) "
	"    SELECT p.tenant_id, p.ticket_id, t.metric, p.policy_id, p.agreement_id, t.target, "
	"           CASE WHEN t.clock OPERATOR(pg_catalog.=) 'business' THEN sp.calendar END, "
	"           t.pauses_on_hold, p.opened_at, "
	"           aftersales_internal.clock_add(CASE WHEN t.clock OPERATOR(pg_catalog.=) 'business' THEN sp.calendar END, "
	"                                         c.calendar, p.opened_at, t.target), "
	"           CASE WHEN p.status OPERATOR(pg_catalog.=) 'on_hold' AND t.pauses_on_hold THEN p.opened_at END "
	"      FROM policy p "
	"      JOIN aftersales.sla_policies sp "
	"        ON sp.tenant_id OPERATOR(pg_catalog.=) p.tenant_id AND sp.policy_id OPERATOR(pg_catalog.=) p.policy_id "
	"      JOIN aftersales.calendars c "
	"        ON c.tenant_id OPERATOR(pg_catalog.=) sp.tenant_id AND c.name OPERATOR(pg_catalog.=) sp.calendar "
	"      JOIN aftersales.sla_targets t "
	"        ON t.tenant_id OPERATOR(pg_catalog.=) p.tenant_id AND t.policy_id OPERATOR(pg_catalog.=) p.policy_id "
	"       AND t.priority OPERATOR(pg_catalog.=) p.priority "
	"       AND (t.metric OPERATOR(pg_catalog.<>) 'arrival' OR p.field) "
	"    RETURNING s.tenant_id, s.ticket_id, s.metric, s.policy_id, s.agreement_id, s.target, s.calendar, "
	"              s.pauses_on_hold, s.due_at "
	"), snapshot AS ( "
	"    SELECT k.tenant_id, k.ticket_id, pg_catalog.min(k.policy_id) AS policy_id, "
	"           pg_catalog.min(k.agreement_id) AS agreement_id, "
	"           pg_catalog.jsonb_object_agg(k.metric, pg_catalog.jsonb_build_object( "
	"               'target', k.target, 'calendar', k.calendar, 'pauses', k.pauses_on_hold, 'due', k.due_at)) AS sla "
	"      FROM clocks k "
	"     GROUP BY 1, 2 "
	") "
	"INSERT INTO aftersales.ticket_events (tenant_id, ticket_id, seq, at, actor, event, from_state, to_state, reason, payload) "
	"SELECT n.tenant_id, n.ticket_id, 1, n.opened_at, n.last_actor, 'open', NULL, n.status, "
	"       CASE WHEN n.status OPERATOR(pg_catalog.=) 'on_hold' THEN $1 END, "
	"       pg_catalog.jsonb_build_object( "
	"           'priority', n.priority, 'tier', n.tier, "
	"           'policy', COALESCE(s.policy_id, aftersales_internal.no_sla_policy(n.tenant_id, n.ticket_id, n.customer_id, n.priority)), "
	"           'agreement', s.agreement_id, 'sla', s.sla) "
	"  FROM new_tickets n "
	"  LEFT JOIN snapshot s "
	"    ON s.tenant_id OPERATOR(pg_catalog.=) n.tenant_id AND s.ticket_id OPERATOR(pg_catalog.=) n.ticket_id "
};

static void
enter_many(const char *reason)
{
	Oid			types[1] = {TEXTOID};
	Datum		args[1];
	char		nulls[1] = {' '};

	if (reason != NULL)
		args[0] = CStringGetTextDatum(reason);
	else
		nulls[0] = 'n';
	for (int i = 0; i < (int) lengthof(enter_many_sql); i++)
	{
		int			rc = SPI_execute_with_args(enter_many_sql[i], i == 0 ? 0 : 1, types, args, nulls,
											   false, 0);

		if (rc != SPI_OK_INSERT)
			elog(ERROR, "ticket entry: set-based statement %d: %s", i, SPI_result_code_string(rc));
	}
}

/* Trigger on tickets: what entry starts (see "Entry" above). */
PG_FUNCTION_INFO_V1(aftersales_tickets_entered);
Datum
aftersales_tickets_entered(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	const char *reason;
	int64		n;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "aftersales_tickets_entered: not called by the trigger manager");
	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_STATEMENT(td->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(td->tg_event) || td->tg_newtable == NULL)
		elog(ERROR, "aftersales_tickets_entered: must be fired after insert, for each statement, with a new table");

	ticket_cache_ensure(td->tg_relation);
	reason = settings_event_reason();
	if (reason != NULL && reason[0] == '\0')
		reason = NULL;
	n = tuplestore_tuple_count(td->tg_newtable);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "aftersales_tickets_entered: SPI_connect failed");
	if (n == 1)
	{
		TupleTableSlot *slot = MakeSingleTupleTableSlot(RelationGetDescr(td->tg_relation),
														&TTSOpsMinimalTuple);
		bool		should_free;
		HeapTuple	tuple;

		tuplestore_rescan(td->tg_newtable);
		if (!tuplestore_gettupleslot(td->tg_newtable, true, false, slot))
			elog(ERROR, "aftersales_tickets_entered: the new table is empty");
		tuple = ExecFetchSlotHeapTuple(slot, false, &should_free);
		enter_one(td->tg_relation, tuple, reason);
		ExecDropSingleTupleTableSlot(slot);
	}
	else
	{
		if (SPI_register_trigger_data(td) != SPI_OK_TD_REGISTER)
			elog(ERROR, "aftersales_tickets_entered: SPI_register_trigger_data failed");
		escalation_watch_new_tickets(RelationGetRelid(td->tg_relation),
									 tuplestore_tuple_count(td->tg_newtable));
		enter_many(reason);
	}
	SPI_finish();
	return PointerGetDatum(NULL);
}
