/*
 * calendar_fuzz.c: a libFuzzer harness for the calendar's text input,
 * src/calendar.c's calendar_in, run in-process without a server (the few
 * PostgreSQL calls it makes are stubbed in pg_stubs.c).  Built and run by
 * `make fuzz` when clang is available (test/bin/fuzz).
 *
 * Each input is a calendar's text.  An input the parser refuses must be
 * refused through ereport (a longjmp here), never by a crash or an ASan
 * report; an input it accepts must print (calendar_out) as a text that
 * parses again to the same text.
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>

#include "fmgr.h"

#include "pg_stubs.h"

extern Datum calendar_in(PG_FUNCTION_ARGS);
extern Datum calendar_out(PG_FUNCTION_ARGS);

/* Call a one-argument V1 function; false when it raised an error. */
static bool
call1(PGFunction fn, Datum arg, Datum *result)
{
	LOCAL_FCINFO(fcinfo, 1);

	memset(fcinfo, 0, SizeForFunctionCallInfo(1));
	fcinfo->nargs = 1;
	fcinfo->args[0].value = arg;
	fcinfo->args[0].isnull = false;
	if (sigsetjmp(stub_error_jmp, 0) != 0)
		return false;
	*result = fn(fcinfo);
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text;
	char	   *out1;
	char	   *out2;
	Datum		cal;
	Datum		d;

	/* a cstring: no NUL inside (the server's input never has one) */
	if (memchr(data, 0, size) != NULL)
		return 0;
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';

	if (call1(calendar_in, CStringGetDatum(text), &cal))
	{
		if (!call1(calendar_out, cal, &d))
			abort();			/* an accepted calendar must print */
		out1 = strdup(DatumGetCString(d));
		if (!call1(calendar_in, CStringGetDatum(out1), &cal))
		{
			fprintf(stderr, "printed form refused: %s\n", out1);
			abort();
		}
		if (!call1(calendar_out, cal, &d))
			abort();
		out2 = DatumGetCString(d);
		if (strcmp(out1, out2) != 0)
		{
			fprintf(stderr, "printed form not stable:\n%s\n%s\n", out1, out2);
			abort();
		}
		free(out1);
	}
	stub_reset();
	free(text);
	return 0;
}
