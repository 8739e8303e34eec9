/*
 * row_checks.c: the row rules of the tables a ticket's life cycle writes
 * (tickets, ticket_events, ticket_sla, escalation_watches, occurrences),
 * each table's rules as one CHECK constraint, <table>_row_check, calling
 * one function here with the columns they read.
 *
 * Why one C call: PostgreSQL rebuilds every CHECK expression of a table
 * from its stored node text at the start of every statement that writes
 * the table (ExecRelCheck), and a life cycle writes these tables about
 * twenty times.  Their 26 separate CHECKs (10.5 kB of node text for
 * tickets alone, mostly arrays of enum and text constants) took a quarter
 * of a life cycle's instructions; one function call with its column
 * arguments is a small fraction of that text and tests the same rules.
 *
 * A broken rule raises check_violation (23514) with the constraint's name
 * and, in the detail, which rule and the values: returning false would
 * only name the one constraint.  Arguments that are NULL pass wherever the
 * separate SQL expression would have been NULL (a CHECK passes on NULL);
 * the columns' NOT NULL constraints are PostgreSQL's own.
 */
#include "compat.h"
#include "ticket.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/syscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

static void
row_violation(const char *table, const char *hint, const char *fmt,...)
pg_attribute_printf(3, 4) pg_attribute_noreturn();

static void
row_violation(const char *table, const char *hint, const char *fmt,...)
{
	char		detail[512];
	char		constraint[NAMEDATALEN];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	snprintf(constraint, sizeof(constraint), "%s_row_check", table);
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("new row for relation \"%s\" violates check constraint \"%s\"", table, constraint),
			 errdetail_internal("%s", detail),
			 errhint("%s", hint),
			 err_generic_string(PG_DIAG_SCHEMA_NAME, "aftersales"),
			 err_generic_string(PG_DIAG_TABLE_NAME, table),
			 err_generic_string(PG_DIAG_CONSTRAINT_NAME, constraint)));
}

/* Whether text datum d is one of the NULL-terminated list. */
static bool
text_in(Datum d, const char *const *list)
{
	text	   *t = DatumGetTextPP(d);
	int			len = VARSIZE_ANY_EXHDR(t);

	for (; *list; list++)
		if ((int) strlen(*list) == len && memcmp(VARDATA_ANY(t), *list, len) == 0)
			return true;
	return false;
}

/*
 * The closed value lists (ticket channels, SLA clocks) are declared once,
 * as enum types of schema aftersales; the checks here and in the API read
 * their labels from the catalogue, so adding a value is one ALTER TYPE.
 * Columns holding them stay text: the lists only judge them.
 */
static Oid
value_list_type(const char *name)
{
	Oid			nsp = get_namespace_oid("aftersales", false);
	Oid			type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									   CStringGetDatum(name), ObjectIdGetDatum(nsp));

	if (!OidIsValid(type))
		elog(ERROR, "type aftersales.%s does not exist", name);
	return type;
}

/* Whether text datum d is a label of enum type. */
static bool
enum_has(Oid type, Datum d)
{
	char	   *label = TextDatumGetCString(d);
	bool		found;

	found = strlen(label) < NAMEDATALEN &&
		SearchSysCacheExists2(ENUMTYPOIDNAME, ObjectIdGetDatum(type), CStringGetDatum(label));
	pfree(label);
	return found;
}

typedef struct EnumLabel
{
	float4		order;
	const char *label;
} EnumLabel;

static int
enum_label_cmp(const void *a, const void *b)
{
	float4		x = ((const EnumLabel *) a)->order;
	float4		y = ((const EnumLabel *) b)->order;

	return (x > y) - (x < y);
}

/*
 * The labels of enum type in their order, joined by ", "; with last_and,
 * the last one joined by " and " (for hints).
 */
static char *
enum_labels(Oid type, bool last_and)
{
	CatCList   *list = SearchSysCacheList1(ENUMTYPOIDNAME, ObjectIdGetDatum(type));
	EnumLabel  *labels = palloc(sizeof(EnumLabel) * Max(list->n_members, 1));
	StringInfoData buf;

	for (int i = 0; i < list->n_members; i++)
	{
		Form_pg_enum e = (Form_pg_enum) GETSTRUCT(&list->members[i]->tuple);

		labels[i].order = e->enumsortorder;
		labels[i].label = pstrdup(NameStr(e->enumlabel));
	}
	qsort(labels, list->n_members, sizeof(EnumLabel), enum_label_cmp);
	initStringInfo(&buf);
	for (int i = 0; i < list->n_members; i++)
	{
		if (i > 0)
			appendStringInfoString(&buf, last_and && i == list->n_members - 1 ? " and " : ", ");
		appendStringInfoString(&buf, labels[i].label);
	}
	ReleaseSysCacheList(list);
	return buf.data;
}

/* The pseudo-clock of a watch or alert about the whole ticket. */
#define TICKET_CLOCK "ticket"

/* Whether text datum d names a watched clock: an SLA metric or the ticket. */
static bool
watch_clock_ok(Datum d)
{
	static const char *const ticket[] = {TICKET_CLOCK, NULL};

	return text_in(d, ticket) || enum_has(value_list_type("sla_metric"), d);
}

/* value_listed(list regtype, value text): whether value is a label of list */
PG_FUNCTION_INFO_V1(aftersales_value_listed);
Datum
aftersales_value_listed(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(enum_has(PG_GETARG_OID(0), PG_GETARG_DATUM(1)));
}

/* value_list(list regtype): its labels for a hint, "a, b and c" */
PG_FUNCTION_INFO_V1(aftersales_value_list);
Datum
aftersales_value_list(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(enum_labels(PG_GETARG_OID(0), true)));
}

/* is_watch_clock(clock text): first_response, arrival, resolution or ticket */
PG_FUNCTION_INFO_V1(aftersales_is_watch_clock);
Datum
aftersales_is_watch_clock(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(watch_clock_ok(PG_GETARG_DATUM(0)));
}

/*
 * The states of ticket_status arguments, by enum OID: loaded again when the
 * argument's type is another (the extension was recreated).
 */
static Oid	status_type = InvalidOid;
static Oid	status_oid[NUM_STATES];

int
ticket_status_arg(FunctionCallInfo fcinfo, int argno)
{
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, argno);
	Oid			oid = PG_GETARG_OID(argno);

	if (!OidIsValid(type))
		elog(ERROR, "cannot determine the type of argument %d", argno + 1);
	if (type != status_type)
	{
		status_type = InvalidOid;
		for (int s = 0; s < NUM_STATES; s++)
			status_oid[s] = ticket_enum_label_oid(type, ticket_state_name(s));
		status_type = type;
	}
	for (int s = 0; s < NUM_STATES; s++)
		if (status_oid[s] == oid)
			return s;
	elog(ERROR, "unknown ticket state %u", oid);
	return -1;					/* keep compiler quiet */
}

static const char *const tickets_hint =
	"Tickets change through the aftersales functions, which keep these rules, for example: "
	"SELECT aftersales.assign_ticket(42, engineer => 7);";

/*
 * tickets_row_check(channel, description, status, held_from, assignee_id,
 * attempt_count, reopen_count, csat, nps, event_seq, opened_at,
 * last_event_at, resolved_at, closed_at, cancelled_at): what the states
 * promise, whatever wrote the row.
 */
PG_FUNCTION_INFO_V1(aftersales_tickets_row_check);
Datum
aftersales_tickets_row_check(PG_FUNCTION_ARGS)
{
	static const char *const counts[] = {"attempt_count", "reopen_count"};

	if (!PG_ARGISNULL(0))
	{
		Oid			channels = value_list_type("ticket_channel");

		if (!enum_has(channels, PG_GETARG_DATUM(0)))
			row_violation("tickets", tickets_hint, "channel \"%s\" is not one of %s.",
						  TextDatumGetCString(PG_GETARG_DATUM(0)), enum_labels(channels, false));
	}
	if (!PG_ARGISNULL(1) && VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(1)) == 0)
		row_violation("tickets", tickets_hint, "description is empty.");
	for (int i = 0; i < 2; i++)
		if (!PG_ARGISNULL(5 + i) && PG_GETARG_INT32(5 + i) < 0)
			row_violation("tickets", tickets_hint, "%s is %d; it cannot be negative.",
						  counts[i], PG_GETARG_INT32(5 + i));
	if (!PG_ARGISNULL(7) && (PG_GETARG_INT16(7) < 1 || PG_GETARG_INT16(7) > 5))
		row_violation("tickets", tickets_hint, "csat is %d; it must be between 1 and 5.", PG_GETARG_INT16(7));
	if (!PG_ARGISNULL(8) && (PG_GETARG_INT16(8) < 0 || PG_GETARG_INT16(8) > 10))
		row_violation("tickets", tickets_hint, "nps is %d; it must be between 0 and 10.", PG_GETARG_INT16(8));
	if (!PG_ARGISNULL(9) && PG_GETARG_INT32(9) < 1)
		row_violation("tickets", tickets_hint, "event_seq is %d; it starts at 1.", PG_GETARG_INT32(9));
	if (!PG_ARGISNULL(10) && !PG_ARGISNULL(11) && PG_GETARG_TIMESTAMPTZ(11) < PG_GETARG_TIMESTAMPTZ(10))
		row_violation("tickets", tickets_hint, "last_event_at %s is before opened_at %s.",
					  timestamptz_to_str(PG_GETARG_TIMESTAMPTZ(11)),
					  timestamptz_to_str(PG_GETARG_TIMESTAMPTZ(10)));
	if (!PG_ARGISNULL(3))
	{
		int			held = ticket_status_arg(fcinfo, 3);

		if (held != ST_NEW && held != ST_ASSIGNED && held != ST_IN_PROGRESS && held != ST_ON_SITE)
			row_violation("tickets", tickets_hint,
						  "held_from is %s; a ticket is held from new, assigned, in_progress or on_site.",
						  ticket_state_name(held));
	}
	if (!PG_ARGISNULL(2))
	{
		int			status = ticket_status_arg(fcinfo, 2);
		const char *name = ticket_state_name(status);
		bool		assigned = !PG_ARGISNULL(4);

		if ((status == ST_ASSIGNED || status == ST_IN_PROGRESS || status == ST_ON_SITE) && !assigned)
			row_violation("tickets", tickets_hint, "status is %s but assignee_id is NULL.", name);
		if ((status == ST_NEW || status == ST_LOCKED) && assigned)
			row_violation("tickets", tickets_hint, "status is %s but assignee_id is %lld; it must be NULL.",
						  name, (long long) PG_GETARG_INT64(4));
		if ((status == ST_ON_HOLD) != !PG_ARGISNULL(3))
			row_violation("tickets", tickets_hint,
						  status == ST_ON_HOLD ? "status is %s but held_from is NULL." :
						  "status is %s but held_from is set; only a ticket on_hold has one.", name);
		if ((status == ST_RESOLVED && PG_ARGISNULL(12)) || (status == ST_CLOSED && PG_ARGISNULL(13)) ||
			(status == ST_CANCELLED && PG_ARGISNULL(14)))
			row_violation("tickets", tickets_hint, "status is %s but %s_at is NULL.", name, name);
	}
	PG_RETURN_BOOL(true);
}

/*
 * Whether argument argno (not NULL), of type ticket_event, is open: by the
 * label's OID, looked up again when the type is another.  enum_out on
 * every event row would be a catalog lookup and a copy per row.
 */
static bool
event_is_open(FunctionCallInfo fcinfo, int argno)
{
	static Oid	event_type = InvalidOid;
	static Oid	open_oid = InvalidOid;
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, argno);

	if (!OidIsValid(type))
		elog(ERROR, "cannot determine the type of argument %d", argno + 1);
	if (type != event_type)
	{
		event_type = InvalidOid;
		open_oid = ticket_enum_label_oid(type, "open");
		event_type = type;
	}
	return PG_GETARG_OID(argno) == open_oid;
}

/* ticket_events_row_check(event, from_state, seq) */
PG_FUNCTION_INFO_V1(aftersales_ticket_events_row_check);
Datum
aftersales_ticket_events_row_check(PG_FUNCTION_ARGS)
{
	static const char *const hint =
		"Events are written by the tickets triggers; record one through the API, for example: "
		"SELECT aftersales.hold_ticket(42, reason => 'waiting for the customer');";
	int32		seq = PG_ARGISNULL(2) ? 0 : PG_GETARG_INT32(2);

	if (!PG_ARGISNULL(2) && seq < 1)
		row_violation("ticket_events", hint, "seq is %d; it starts at 1.", seq);
	if (!PG_ARGISNULL(0))
	{
		bool		open = event_is_open(fcinfo, 0);

		if (open && !PG_ARGISNULL(1))
			row_violation("ticket_events", hint, "event open has a from_state; the first event has none.");
		if (!open && PG_ARGISNULL(1))
			row_violation("ticket_events", hint, "event %s has no from_state; only open has none.",
						  DatumGetCString(DirectFunctionCall1(enum_out, PG_GETARG_DATUM(0))));
		if (!PG_ARGISNULL(2) && open && seq != 1)
			row_violation("ticket_events", hint, "event open has seq %d; it is always 1.", seq);
		if (!PG_ARGISNULL(2) && !open && seq == 1)
			row_violation("ticket_events", hint, "event %s has seq 1, which is open's.",
						  DatumGetCString(DirectFunctionCall1(enum_out, PG_GETARG_DATUM(0))));
	}
	PG_RETURN_BOOL(true);
}

/* ticket_sla_row_check(stopped_at, outcome, paused_since) */
PG_FUNCTION_INFO_V1(aftersales_ticket_sla_row_check);
Datum
aftersales_ticket_sla_row_check(PG_FUNCTION_ARGS)
{
	static const char *const hint =
		"The SLA clocks are kept by the tickets triggers; change the ticket instead, for example: "
		"SELECT aftersales.resolve_ticket(42);";
	static const char *const outcomes[] = {"met", "breached", "cancelled", NULL};

	if (!PG_ARGISNULL(1) && !text_in(PG_GETARG_DATUM(1), outcomes))
		row_violation("ticket_sla", hint, "outcome \"%s\" is not one of met, breached, cancelled.",
					  TextDatumGetCString(PG_GETARG_DATUM(1)));
	if (PG_ARGISNULL(0) != PG_ARGISNULL(1))
		row_violation("ticket_sla", hint, PG_ARGISNULL(0) ? "a running clock (stopped_at NULL) has an outcome." :
					  "a stopped clock has no outcome.");
	if (!PG_ARGISNULL(0) && !PG_ARGISNULL(2))
		row_violation("ticket_sla", hint, "a stopped clock cannot be paused (paused_since is set).");
	PG_RETURN_BOOL(true);
}

/* escalation_watches_row_check(clock, warned, level) */
PG_FUNCTION_INFO_V1(aftersales_escalation_watches_row_check);
Datum
aftersales_escalation_watches_row_check(PG_FUNCTION_ARGS)
{
	static const char *const hint =
		"The watches are kept by the clock triggers and the sweep; rebuild them with: "
		"SELECT aftersales.rearm_watches();";

	if (!PG_ARGISNULL(0) && !watch_clock_ok(PG_GETARG_DATUM(0)))
		row_violation("escalation_watches", hint, "clock \"%s\" is not one of %s, " TICKET_CLOCK ".",
					  TextDatumGetCString(PG_GETARG_DATUM(0)),
					  enum_labels(value_list_type("sla_metric"), false));
	if (!PG_ARGISNULL(1))
	{
		/* the bounds, as numerics made once per backend */
		static Datum zero = (Datum) 0;
		static Datum hundred = (Datum) 0;
		Datum		warned = PG_GETARG_DATUM(1);

		if (hundred == (Datum) 0)
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			zero = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
			hundred = DirectFunctionCall1(int4_numeric, Int32GetDatum(100));
			MemoryContextSwitchTo(old);
		}

		if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, warned, zero)) < 0 ||
			DatumGetInt32(DirectFunctionCall2(numeric_cmp, warned, hundred)) > 0)
			row_violation("escalation_watches", hint, "warned is %s; it is a percent, 0 to 100.",
						  DatumGetCString(DirectFunctionCall1(numeric_out, warned)));
	}
	if (!PG_ARGISNULL(2) && PG_GETARG_INT16(2) < 0)
		row_violation("escalation_watches", hint, "level is %d; it cannot be negative.", PG_GETARG_INT16(2));
	PG_RETURN_BOOL(true);
}

/* occurrences_row_check(model_id, problem_type_id, n) */
PG_FUNCTION_INFO_V1(aftersales_occurrences_row_check);
Datum
aftersales_occurrences_row_check(PG_FUNCTION_ARGS)
{
	static const char *const hint =
		"Occurrences are counted when tickets are entered, one row per model or problem type; "
		"read them with: SELECT * FROM aftersales.occurrence_counts;";

	if (PG_ARGISNULL(0) == PG_ARGISNULL(1))
		row_violation("occurrences", hint, "exactly one of model_id and problem_type_id must be set.");
	/* negative: an edit moved a ticket to another model or problem type */
	if (!PG_ARGISNULL(2) && PG_GETARG_INT64(2) == 0)
		row_violation("occurrences", hint, "n is 0; a delta counts at least one ticket.");
	PG_RETURN_BOOL(true);
}
