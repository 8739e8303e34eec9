/*
 * sla_clock.c: the rule every SLA-clock statement shares.  A clock with a
 * calendar (ticket_sla.calendar, the name of its policy's calendar) counts
 * business time on that calendar; a clock without one counts wall-clock
 * time.  Due times, stops, pauses, re-targets, reopens and the instants at
 * which watches fire (ticket_log.c, escalation.c, 40_escalation.sql) all
 * say it through these two functions, so that it is written once:
 *
 *   aftersales_internal.clock_add(clock_calendar, cal, start, amount)
 *       the instant at which amount of the clock's time has elapsed;
 *   aftersales_internal.clock_diff(clock_calendar, cal, a, b)
 *       the clock's time in [a, b).
 *
 * clock_calendar is the clock's calendar name (NULL: wall clock), cal the
 * calendar itself (looked up by the caller, which usually has it at hand
 * for all clocks of a ticket).  The business-time arithmetic and its
 * per-call-site calendar cache are business_time.c's, called through a
 * FmgrInfo kept in this call site's fn_extra.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

extern Datum business_add(PG_FUNCTION_ARGS);
extern Datum business_diff(PG_FUNCTION_ARGS);

static FmgrInfo *
business_fn(FunctionCallInfo fcinfo, PGFunction fn)
{
	FmgrInfo   *f = (FmgrInfo *) fcinfo->flinfo->fn_extra;

	if (f == NULL)
	{
		f = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(FmgrInfo));
		f->fn_addr = fn;
		f->fn_oid = InvalidOid;
		f->fn_nargs = 3;
		f->fn_strict = true;
		f->fn_retset = false;
		f->fn_mcxt = fcinfo->flinfo->fn_mcxt;
		fcinfo->flinfo->fn_extra = f;
	}
	return f;
}

PG_FUNCTION_INFO_V1(aftersales_clock_add);
Datum
aftersales_clock_add(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(0))		/* wall clock */
		return DirectFunctionCall2(timestamptz_pl_interval, PG_GETARG_DATUM(2), PG_GETARG_DATUM(3));
	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	return FunctionCall3(business_fn(fcinfo, business_add),
						 PG_GETARG_DATUM(1), PG_GETARG_DATUM(2), PG_GETARG_DATUM(3));
}

PG_FUNCTION_INFO_V1(aftersales_clock_diff);
Datum
aftersales_clock_diff(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(0))		/* wall clock */
		return DirectFunctionCall2(timestamp_mi, PG_GETARG_DATUM(3), PG_GETARG_DATUM(2));
	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	return FunctionCall3(business_fn(fcinfo, business_diff),
						 PG_GETARG_DATUM(1), PG_GETARG_DATUM(2), PG_GETARG_DATUM(3));
}
