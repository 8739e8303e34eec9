/*
 * pg_stubs.c: the few PostgreSQL server functions src/calendar.c calls,
 * stubbed so that its parser runs in-process under libFuzzer without a
 * server (test/fuzz/calendar_fuzz.c).  Kept minimal:
 *   - palloc and friends: malloc, every block remembered and freed by
 *     stub_reset() after each input (an ereport longjmps past pfree);
 *   - ereport(ERROR): errfinish longjmps back to the harness;
 *   - time zones: a handful of names known, no enumeration;
 *   - date2j, j2date and day_tab: copied from PostgreSQL's datetime.c;
 *   - the rest (binary I/O, TOAST) is not reached by calendar_in or
 *     calendar_out and aborts if it ever is.
 * StringInfo, pg_qsort and pg_strcasecmp come from libpgcommon and
 * libpgport as installed.
 */
#include "postgres.h"

#include <setjmp.h>
#include <stdlib.h>

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "pgtime.h"
#include "utils/datetime.h"
#include "utils/memutils.h"

#include "pg_stubs.h"

MemoryContext CurrentMemoryContext = NULL;
MemoryContext TopMemoryContext = NULL;

sigjmp_buf	stub_error_jmp;
int			stub_errors;

/* ---------- memory ---------- */

typedef struct Block
{
	struct Block *next;
	struct Block *prev;
	size_t		size;
	max_align_t align[];
} Block;

static Block *blocks = NULL;

static void *
stub_alloc(size_t size, bool zero)
{
	Block	   *b;

	if (size > MaxAllocSize)
		abort();				/* palloc would raise an error: a finding */
	b = zero ? calloc(1, sizeof(Block) + size) : malloc(sizeof(Block) + size);
	if (!b)
		abort();
	b->size = size;
	b->prev = NULL;
	b->next = blocks;
	if (blocks)
		blocks->prev = b;
	blocks = b;
	return b->align;
}

static void
stub_unlink(Block *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		blocks = b->next;
	if (b->next)
		b->next->prev = b->prev;
}

void *
palloc(Size size)
{
	return stub_alloc(size, false);
}

void *
palloc0(Size size)
{
	return stub_alloc(size, true);
}

void *
palloc_extended(Size size, int flags)
{
	return stub_alloc(size, (flags & MCXT_ALLOC_ZERO) != 0);
}

void
pfree(void *pointer)
{
	Block	   *b = (Block *) ((char *) pointer - offsetof(Block, align));

	stub_unlink(b);
	free(b);
}

void *
repalloc(void *pointer, Size size)
{
	Block	   *old = (Block *) ((char *) pointer - offsetof(Block, align));
	void	   *p = stub_alloc(size, false);

	memcpy(p, pointer, Min(old->size, size));
	pfree(pointer);
	return p;
}

char *
pstrdup(const char *in)
{
	size_t		len = strlen(in) + 1;

	return memcpy(palloc(len), in, len);
}

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return palloc(size);
}

/* Free every block allocated since the last call. */
void
stub_reset(void)
{
	while (blocks)
	{
		Block	   *b = blocks;

		blocks = b->next;
		free(b);
	}
}

/* ---------- errors ---------- */

bool
errstart_cold(int elevel, const char *domain)
{
	return true;
}

bool
errstart(int elevel, const char *domain)
{
	return true;
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	stub_errors++;
	siglongjmp(stub_error_jmp, 1);
}

int
errcode(int sqlerrcode)
{
	return 0;
}

int
errmsg(const char *fmt,...)
{
	return 0;
}

int
errdetail(const char *fmt,...)
{
	return 0;
}

int
errhint(const char *fmt,...)
{
	return 0;
}

/* ---------- time zones ---------- */

struct pg_tz
{
	char		TZname[TZ_STRLEN_MAX + 1];
};

static struct pg_tz zones[] = {{"UTC"}, {"Asia/Shanghai"}, {"Europe/Paris"}, {"America/New_York"}};

pg_tz *
pg_tzset(const char *name)
{
	for (int i = 0; i < lengthof(zones); i++)
		if (pg_strcasecmp(name, zones[i].TZname) == 0)
			return &zones[i];
	return NULL;
}

bool
pg_tz_acceptable(pg_tz *tz)
{
	return true;
}

const char *
pg_get_timezone_name(pg_tz *tz)
{
	return tz->TZname;
}

pg_tzenum *
pg_tzenumerate_start(void)
{
	return NULL;
}

pg_tz *
pg_tzenumerate_next(pg_tzenum *dir)
{
	return NULL;
}

void
pg_tzenumerate_end(pg_tzenum *dir)
{
}

/* ---------- dates: from PostgreSQL's src/backend/utils/adt/datetime.c ---------- */

const int	day_tab[2][13] =
{
	{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0},
	{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0}
};

int
date2j(int y, int m, int d)
{
	int			julian;
	int			century;

	if (m > 2)
	{
		m += 1;
		y += 4800;
	}
	else
	{
		m += 13;
		y += 4799;
	}

	century = y / 100;
	julian = y * 365 - 32167;
	julian += y / 4 - century + century / 4;
	julian += 7834 * m / 256 + d;

	return julian;
}

void
j2date(int jd, int *year, int *month, int *day)
{
	unsigned int julian;
	unsigned int quad;
	unsigned int extra;
	int			y;

	julian = jd;
	julian += 32044;
	quad = julian / 146097;
	extra = (julian - quad * 146097) * 4 + 3;
	julian += 60 + quad * 3 + extra / 146097;
	quad = julian / 1461;
	julian -= quad * 1461;
	y = julian * 4 / 1461;
	julian = ((y != 0) ? ((julian + 305) % 365) : ((julian + 306) % 366))
		+ 123;
	y += quad * 4;
	*year = y - 4800;
	quad = julian * 2141 / 65536;
	*day = julian - 7834 * quad / 256;
	*month = (quad + 10) % MONTHS_PER_YEAR + 1;
}

/* ---------- not reached by calendar_in and calendar_out ---------- */

struct varlena *
pg_detoast_datum(struct varlena *datum)
{
	/* the harness passes plain in-memory values */
	return datum;
}

Size
toast_raw_datum_size(Datum value)
{
	abort();
}

text *
cstring_to_text(const char *s)
{
	abort();
}

void
pq_begintypsend(StringInfo buf)
{
	abort();
}

bytea *
pq_endtypsend(StringInfo buf)
{
	abort();
}

void
pq_sendstring(StringInfo buf, const char *str)
{
	abort();
}

int
pq_getmsgbyte(StringInfo msg)
{
	abort();
}

unsigned int
pq_getmsgint(StringInfo msg, int b)
{
	abort();
}

const char *
pq_getmsgstring(StringInfo msg)
{
	abort();
}
