/*
 * state_machine.c: one engine for the life cycles of the service modules
 * (part orders, complaints, approvals, ...), so that the rule "a state
 * changes only through a declared, permitted event, and every event is
 * logged" lives in one place.
 *
 * A machine is its rows in aftersales.state_transitions (machine, from_state,
 * event, to_state, needs_reason); from_state '' is creation.  An object
 * table carries its last event in the row itself, in fixed columns:
 *   state, event, event_at, event_by, event_reason, event_seq
 * so the event travels with the statement that writes it (a session
 * setting would not reach a Citus worker).  Two row triggers take the
 * machine, the id column and the log table as arguments:
 *   state_guard  BEFORE INSERT OR UPDATE: judges the event, sets state,
 *                event_seq (+1) and the authenticated actor;
 *   state_log    AFTER INSERT OR UPDATE: appends (tenant, id, seq, event,
 *                from_state, to_state, actor, at, reason, changes) to the
 *                log, changes holding {"column": [old, new]} for every
 *                changed column but the event columns, so the log replays
 *                the row (aftersales_internal.state_machine_check()).
 * Every UPDATE is an event: it must raise event_seq by one, which also
 * makes a concurrent writer re-judge the row it waited for.
 */
#include "compat.h"
#include "access.h"
#include "settings.h"
#include "ticket.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

/* The fixed columns of an object table. */
typedef enum
{
	SM_TENANT, SM_ID, SM_STATE, SM_EVENT, SM_EVENT_AT, SM_EVENT_BY, SM_EVENT_REASON, SM_EVENT_SEQ,
	SM_ENGINEER,				/* optional: whose object it is, for own-only rights */
	SM_NUM_COLS
} SmCol;

static const char *const sm_col_names[SM_NUM_COLS] = {
	"tenant_id", NULL, "state", "event", "event_at", "event_by", "event_reason", "event_seq", "engineer_id"
};

/* Per-relation knowledge: attribute numbers and the log statement's plan. */
typedef struct SmRel
{
	Oid			relid;			/* hash key */
	AttrNumber	attno[SM_NUM_COLS];
	SPIPlanPtr	log_plan;
	char		log_table[NAMEDATALEN * 2 + 4];
} SmRel;

static HTAB *sm_rels = NULL;
static SPIPlanPtr transition_plan = NULL;
static SPIPlanPtr allowed_plan = NULL;

/* "part_order" -> "part order", for messages. */
static char *
machine_noun(const char *machine)
{
	char	   *s = pstrdup(machine);
	char	   *p;

	for (p = s; *p; p++)
		if (*p == '_')
			*p = ' ';
	return s;
}

static void
check_trigger_call(FunctionCallInfo fcinfo, const char *fname, TriggerData **out)
{
	TriggerData *td;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "%s: not called as a trigger", fname);
	td = (TriggerData *) fcinfo->context;
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event) || TRIGGER_FIRED_BY_DELETE(td->tg_event) ||
		td->tg_trigger->tgnargs != 3)
		elog(ERROR, "%s: must be a row trigger on INSERT or UPDATE with arguments (machine, id column, log table)",
			 fname);
	*out = td;
}

/* Attribute numbers of rel's fixed columns; an error names a missing one. */
static SmRel *
sm_rel(Relation rel, const char *id_column, const char *log_table)
{
	Oid			relid = RelationGetRelid(rel);
	TupleDesc	desc = RelationGetDescr(rel);
	SmRel	   *r;
	bool		found;
	int			c;

	if (sm_rels == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(SmRel);
		sm_rels = hash_create("aftersales state machine relations", 16, &ctl, HASH_ELEM | HASH_BLOBS);
	}
	r = hash_search(sm_rels, &relid, HASH_ENTER, &found);
	if (found && strcmp(r->log_table, log_table) == 0)
		return r;
	r->log_plan = NULL;
	strlcpy(r->log_table, log_table, sizeof(r->log_table));
	for (c = 0; c < SM_NUM_COLS; c++)
	{
		const char *name = c == SM_ID ? id_column : sm_col_names[c];

		r->attno[c] = InvalidAttrNumber;
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute a = TupleDescAttr(desc, i);

			if (!a->attisdropped && strcmp(NameStr(a->attname), name) == 0)
			{
				r->attno[c] = a->attnum;
				break;
			}
		}
		if (r->attno[c] == InvalidAttrNumber && c != SM_ENGINEER)
		{
			hash_search(sm_rels, &relid, HASH_REMOVE, NULL);
			elog(ERROR, "table %s has no column %s, which the state machine triggers need",
				 RelationGetRelationName(rel), name);
		}
	}
	return r;
}

static char *
get_text(HeapTuple tup, TupleDesc desc, AttrNumber att)
{
	return SPI_getvalue(tup, desc, att);	/* NULL when null */
}

static int64
get_int64(HeapTuple tup, TupleDesc desc, AttrNumber att, bool *isnull)
{
	Datum		d = heap_getattr(tup, att, desc, isnull);

	if (*isnull)
		return 0;
	switch (TupleDescAttr(desc, att - 1)->atttypid)
	{
		case INT8OID:
			return DatumGetInt64(d);
		case INT4OID:
			return DatumGetInt32(d);
		case INT2OID:
			return DatumGetInt16(d);
		default:
			elog(ERROR, "column %s must be an integer", NameStr(TupleDescAttr(desc, att - 1)->attname));
	}
	return 0;					/* keep the compiler quiet */
}

/* A datum of column att's type from its text form. */
static Datum
datum_from_text(TupleDesc desc, AttrNumber att, const char *text)
{
	Oid			typ = TupleDescAttr(desc, att - 1)->atttypid;
	int32		typmod = TupleDescAttr(desc, att - 1)->atttypmod;
	Oid			infunc;
	Oid			ioparam;

	getTypeInputInfo(typ, &infunc, &ioparam);
	return OidInputFunctionCall(infunc, (char *) text, ioparam, typmod);
}

/* The events the machine allows from state, as "a, b, c" ("none" when none). */
static char *
allowed_events(const char *machine, const char *state)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	char	   *list = NULL;
	bool		isnull;

	if (allowed_plan == NULL)
	{
		allowed_plan = SPI_prepare(
			"SELECT pg_catalog.string_agg(t.event, ', ' ORDER BY t.event) FROM aftersales.state_transitions t"
			" WHERE t.machine OPERATOR(pg_catalog.=) $1 AND t.from_state OPERATOR(pg_catalog.=) $2",
			2, types);
		if (allowed_plan == NULL || SPI_keepplan(allowed_plan) != 0)
			elog(ERROR, "aftersales state machine: could not prepare the allowed-events statement");
	}
	args[0] = CStringGetTextDatum(machine);
	args[1] = CStringGetTextDatum(state);
	if (SPI_execute_plan(allowed_plan, args, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			list = TextDatumGetCString(d);
	}
	return list ? list : pstrdup("none");
}

static bool
is_blank(const char *s)
{
	if (s == NULL)
		return true;
	for (; *s; s++)
		if (!isspace((unsigned char) *s))
			return false;
	return true;
}

PG_FUNCTION_INFO_V1(aftersales_state_guard);
Datum
aftersales_state_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td;
	Relation	rel;
	TupleDesc	desc;
	const char *machine;
	char	   *noun;
	SmRel	   *r;
	bool		inserting;
	HeapTuple	oldtup = NULL;
	HeapTuple	newtup;
	int64		id;
	int64		tenant;
	bool		isnull;
	char	   *event;
	char	   *from_state;
	char	   *to_state = NULL;
	bool		needs_reason = false;
	int64		seq = 0;
	TimestampTz at;
	char	   *claimed;
	const char *actor;
	char	   *reason;
	Oid			types[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		args[3];
	int			cols[4];
	Datum		vals[4];
	bool		nulls[4] = {false, false, false, false};
	MemoryContext upper;

	check_trigger_call(fcinfo, "state_guard", &td);
	if (!TRIGGER_FIRED_BEFORE(td->tg_event))
		elog(ERROR, "state_guard: must be a BEFORE trigger");
	rel = td->tg_relation;
	desc = RelationGetDescr(rel);
	machine = td->tg_trigger->tgargs[0];
	noun = machine_noun(machine);
	r = sm_rel(rel, td->tg_trigger->tgargs[1], td->tg_trigger->tgargs[2]);
	inserting = TRIGGER_FIRED_BY_INSERT(td->tg_event);
	newtup = inserting ? td->tg_trigtuple : td->tg_newtuple;
	if (!inserting)
		oldtup = td->tg_trigtuple;

	id = get_int64(newtup, desc, r->attno[SM_ID], &isnull);
	tenant = get_int64(newtup, desc, r->attno[SM_TENANT], &isnull);

	/* Keys never move: the log and every reference name the object by them. */
	if (!inserting)
	{
		bool		oldnull;

		if (get_int64(oldtup, desc, r->attno[SM_ID], &oldnull) != id ||
			get_int64(oldtup, desc, r->attno[SM_TENANT], &oldnull) != tenant)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the key of %s " INT64_FORMAT " cannot change", noun,
							get_int64(oldtup, desc, r->attno[SM_ID], &oldnull)),
					 errhint("Cancel it and create a new one.")));
	}

	/* Every UPDATE is one event: event_seq moves by exactly one. */
	if (!inserting)
	{
		bool		oldnull;
		int64		oldseq = get_int64(oldtup, desc, r->attno[SM_EVENT_SEQ], &oldnull);

		seq = get_int64(newtup, desc, r->attno[SM_EVENT_SEQ], &isnull);
		if (isnull || seq != oldseq + 1)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("an update of %s " INT64_FORMAT " must declare one event", noun, id),
					 errdetail("Every change is an event of the %s's log: it names the event and raises event_seq by one.",
							   noun),
					 errhint("Use the API, or for example: UPDATE ... SET event = 'edit', event_at = now(), event_seq = event_seq + 1, ...;")));
	}
	else
		seq = 1;

	event = get_text(newtup, desc, r->attno[SM_EVENT]);
	from_state = inserting ? pstrdup("") : get_text(oldtup, desc, r->attno[SM_STATE]);
	if (from_state == NULL)
		from_state = pstrdup("");
	if (is_blank(event))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s " INT64_FORMAT ": the event must be named", noun, id),
				 errhint("Name it, for example: SET event = 'edit'; the allowed events from %s are listed in aftersales.state_transitions.",
						 inserting ? "creation" : from_state)));

	/*
	 * A reason equal to the last event's was carried over by an UPDATE that
	 * left the column alone: it is not this event's.  (Giving the very same
	 * reason twice in a row therefore counts as giving none.)
	 */
	reason = get_text(newtup, desc, r->attno[SM_EVENT_REASON]);
	if (!inserting && reason != NULL)
	{
		char	   *old_reason = get_text(oldtup, desc, r->attno[SM_EVENT_REASON]);

		if (old_reason != NULL && strcmp(old_reason, reason) == 0)
			reason = NULL;
	}
	/* under access control an actor equal to the last one was carried over too */
	claimed = get_text(newtup, desc, r->attno[SM_EVENT_BY]);
	if (!inserting && claimed != NULL)
	{
		char	   *old_by = get_text(oldtup, desc, r->attno[SM_EVENT_BY]);

		if (old_by != NULL && strcmp(old_by, claimed) == 0 && access_applies())
			claimed = NULL;		/* carried over, not claimed */
	}

	upper = CurrentMemoryContext;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "state_guard: SPI_connect failed");
	if (transition_plan == NULL)
	{
		transition_plan = SPI_prepare(
			"SELECT t.to_state, t.needs_reason FROM aftersales.state_transitions t"
			" WHERE t.machine OPERATOR(pg_catalog.=) $1 AND t.from_state OPERATOR(pg_catalog.=) $2"
			"   AND t.event OPERATOR(pg_catalog.=) $3",
			3, types);
		if (transition_plan == NULL || SPI_keepplan(transition_plan) != 0)
			elog(ERROR, "aftersales state machine: could not prepare the transition statement");
	}
	args[0] = CStringGetTextDatum(machine);
	args[1] = CStringGetTextDatum(from_state);
	args[2] = CStringGetTextDatum(event);
	if (SPI_execute_plan(transition_plan, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "state_guard: transition lookup failed");
	if (SPI_processed == 1)
	{
		to_state = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		needs_reason = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		to_state = MemoryContextStrdup(upper, to_state);
	}
	else
	{
		char	   *allowed = allowed_events(machine, from_state);

		if (inserting)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("a %s cannot be created by event %s", noun, event),
					 errhint("Create it with one of: %s.", allowed)));
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s " INT64_FORMAT " is %s: event %s is not allowed", noun, id, from_state, event),
				 errhint("Events allowed from %s: %s.", from_state, allowed)));
	}

	/* The writer may leave state alone or name the state the event leads to. */
	{
		char	   *written = get_text(newtup, desc, r->attno[SM_STATE]);

		if (written != NULL && strcmp(written, to_state) != 0 && strcmp(written, from_state) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("event %s takes %s " INT64_FORMAT " to %s, not to %s", event, noun, id, to_state, written),
					 errhint("Leave state out of the statement: the event decides it.")));
	}

	/* When: finite, not ahead by more than a year, not before the last event. */
	{
		Datum		d = heap_getattr(newtup, r->attno[SM_EVENT_AT], desc, &isnull);

		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("event %s of %s " INT64_FORMAT " needs its time", event, noun, id),
					 errhint("Set event_at, for example: event_at = now().")));
		at = DatumGetTimestampTz(d);
		check_event_time(event, at);
		if (!inserting)
		{
			bool		oldnull;
			Datum		od = heap_getattr(oldtup, r->attno[SM_EVENT_AT], desc, &oldnull);

			if (!oldnull && DatumGetTimestampTz(od) > at)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("event %s of %s " INT64_FORMAT " at %s precedes its last event at %s", event, noun,
								id, pstrdup(timestamptz_to_str(at)),
								pstrdup(timestamptz_to_str(DatumGetTimestampTz(od)))),
						 errhint("Pass a later time, or none for the current time.")));
		}
	}

	/* Why: required by some events. */
	if (needs_reason && is_blank(reason))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("event %s of %s " INT64_FORMAT " needs a reason", event, noun, id),
				 errhint("Give one, for example: reason => 'customer asked to stop'.")));

	/*
	 * Who: the authenticated identity under access control; a superuser
	 * may name anyone, and names nobody with NULL (aftersales.actor()).
	 */
	check_actor(event, claimed);
	if (access_applies())
	{
		int64		engineer = 0;
		bool		has_engineer = false;
		char	   *right = psprintf("%s.%s", machine, event);

		actor = access_actor(claimed);
		if (r->attno[SM_ENGINEER] != InvalidAttrNumber)
		{
			/* own-only rights judge the object as it was (as it is created) */
			engineer = get_int64(inserting ? newtup : oldtup, desc, r->attno[SM_ENGINEER], &isnull);
			has_engineer = !isnull;
		}
		access_check_right(right, noun, tenant, id, from_state[0] ? from_state : "new", has_engineer, engineer);
	}
	else if (claimed != NULL && claimed[0] != '\0')
		actor = claimed;
	else
	{
		const char *v = settings_actor();

		actor = v ? v : GetUserNameFromId(GetUserId(), false);
	}
	SPI_finish();

	cols[0] = r->attno[SM_STATE];
	vals[0] = datum_from_text(desc, r->attno[SM_STATE], to_state);
	cols[1] = r->attno[SM_EVENT_SEQ];
	vals[1] = TupleDescAttr(desc, r->attno[SM_EVENT_SEQ] - 1)->atttypid == INT8OID ? Int64GetDatum(seq)
		: TupleDescAttr(desc, r->attno[SM_EVENT_SEQ] - 1)->atttypid == INT2OID ? Int16GetDatum((int16) seq)
		: Int32GetDatum((int32) seq);
	cols[2] = r->attno[SM_EVENT_BY];
	vals[2] = CStringGetTextDatum(actor);
	cols[3] = r->attno[SM_EVENT_REASON];
	vals[3] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	nulls[3] = reason == NULL;
	newtup = heap_modify_tuple_by_cols(newtup, desc, 4, cols, vals, nulls);
	return PointerGetDatum(newtup);
}

PG_FUNCTION_INFO_V1(aftersales_state_log);
Datum
aftersales_state_log(PG_FUNCTION_ARGS)
{
	TriggerData *td;
	Relation	rel;
	TupleDesc	desc;
	SmRel	   *r;
	bool		inserting;
	HeapTuple	newtup;
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	check_trigger_call(fcinfo, "state_log", &td);
	if (!TRIGGER_FIRED_AFTER(td->tg_event))
		elog(ERROR, "state_log: must be an AFTER trigger");
	rel = td->tg_relation;
	desc = RelationGetDescr(rel);
	r = sm_rel(rel, td->tg_trigger->tgargs[1], td->tg_trigger->tgargs[2]);
	inserting = TRIGGER_FIRED_BY_INSERT(td->tg_event);
	newtup = inserting ? td->tg_trigtuple : td->tg_newtuple;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "state_log: SPI_connect failed");
	if (r->log_plan == NULL)
	{
		/*
		 * $1 new row, $2 old row (NULL on INSERT), as JSON; $3 old state;
		 * changes: every column whose value differs, but the event columns.
		 * The log table is the trigger's argument, quoted by the catalogue.
		 */
		Oid			types[3] = {JSONOID, JSONOID, TEXTOID};
		Oid			logrel = DatumGetObjectId(DirectFunctionCall1(regclassin, CStringGetDatum(r->log_table)));
		char	   *id_col = td->tg_trigger->tgargs[1];
		char	   *sql;
		SPIPlanPtr	plan;

		sql = psprintf(
			"INSERT INTO %s (tenant_id, %s, seq, event, from_state, to_state, actor, at, reason, changes)"
			" SELECT (x.n OPERATOR(pg_catalog.->>) 'tenant_id')::pg_catalog.int8,"
			"        (x.n OPERATOR(pg_catalog.->>) %s)::pg_catalog.int8,"
			"        (x.n OPERATOR(pg_catalog.->>) 'event_seq')::pg_catalog.int4,"
			"        x.n OPERATOR(pg_catalog.->>) 'event', $3,"
			"        x.n OPERATOR(pg_catalog.->>) 'state',"
			"        x.n OPERATOR(pg_catalog.->>) 'event_by',"
			"        (x.n OPERATOR(pg_catalog.->>) 'event_at')::pg_catalog.timestamptz,"
			"        x.n OPERATOR(pg_catalog.->>) 'event_reason',"
			"        COALESCE((SELECT pg_catalog.jsonb_object_agg(c.key,"
			"                           pg_catalog.jsonb_build_array(x.o OPERATOR(pg_catalog.->) c.key, c.value))"
			"                    FROM pg_catalog.jsonb_each(x.n) c"
			"                   WHERE c.key OPERATOR(pg_catalog.<>) ALL (ARRAY['tenant_id', %s, 'state', 'event',"
			"                                         'event_at', 'event_by', 'event_reason', 'event_seq'])"
			"                     AND (x.o OPERATOR(pg_catalog.->) c.key) IS DISTINCT FROM c.value"
			"                     AND NOT (x.o IS NULL AND c.value OPERATOR(pg_catalog.=) 'null'::pg_catalog.jsonb)),"
			"                 '{}'::pg_catalog.jsonb)"
			"   FROM (SELECT $1::pg_catalog.jsonb AS n, $2::pg_catalog.jsonb AS o) x",
			DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(logrel))),
			quote_identifier(id_col), quote_literal_cstr(id_col), quote_literal_cstr(id_col));
		plan = SPI_prepare(sql, 3, types);
		if (plan == NULL)
			elog(ERROR, "state_log: could not prepare the log statement for %s: %s", r->log_table,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "state_log: could not keep the log statement");
		r->log_plan = plan;
	}
	args[0] = DirectFunctionCall1(row_to_json, heap_copy_tuple_as_datum(newtup, desc));
	if (inserting)
	{
		args[1] = (Datum) 0;
		nulls[1] = 'n';
		args[2] = CStringGetTextDatum("");
	}
	else
	{
		char	   *old_state = SPI_getvalue(td->tg_trigtuple, desc, r->attno[SM_STATE]);

		args[1] = DirectFunctionCall1(row_to_json, heap_copy_tuple_as_datum(td->tg_trigtuple, desc));
		args[2] = CStringGetTextDatum(old_state ? old_state : "");
	}
	if (SPI_execute_plan(r->log_plan, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "state_log: the log insert failed");
	SPI_finish();
	return PointerGetDatum(NULL);
}
