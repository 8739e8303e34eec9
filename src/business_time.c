/*
 * business_time.c: business-time arithmetic on calendars: business_add,
 * business_diff, is_business_time, next_business_time.
 *
 * Semantics: an instant is business time when its local wall-clock time, in
 * the calendar's zone, falls inside a window of that local date (a date's
 * own windows, the after-midnight tail of the previous date's overnight
 * windows, less the date's closures).  Windows are half-open; precision is
 * the microsecond.  A DST gap shortens a window, a repeated hour lengthens it.
 *
 * How it stays exact and fast whatever the span:
 *  - Local time is cut into UTC segments of constant offset; pg_next_dst_boundary
 *    finds their ends, so the zone is consulted only at segment boundaries
 *    (about twice a year).  Inside a segment, local time = UTC + offset.
 *  - On local time, F(x) = business microseconds from a fixed origin to x is
 *    computed in closed form: whole weeks times the weekly total, a weekday
 *    prefix sum, plus the prefix sums of "deltas" of exceptional dates found
 *    by binary search.  Every-year holidays (and the day after each) repeat
 *    with the 400-year Gregorian cycle, a whole number of weeks: their deltas
 *    are kept for one cycle and counted per cycle arithmetically.  Dated
 *    holidays, closures and make-up days (and the day after each) are kept
 *    as corrections against that periodic pattern.  F's inverse is a binary
 *    search over the same arrays.
 *  - Business time in [a, b) is then the sum over segments of F differences.
 * Each calendar's arrays are built in full once per backend and cached; they
 * do not depend on the instants asked for, so neither do the answers.
 */
#include "calendar.h"

#include "common/hashfn.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#define USECS			INT64CONST(1000000)
#define UNIX_SHIFT_SECS ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)
#define CAL_CACHE_SLOTS 16
#define CAL_MAX_EXCEPTIONS	1000000
#define CAL_CYCLE_DAYS	146097	/* 400 Gregorian years, 20871 weeks */
#define CAL_MAX_CYCLES	64		/* 0001..9999 lies within cycles -5..20 */
#define CAL_SEARCH_YEARS	10
#define CAL_SEARCH_USECS	(INT64CONST(3653) * CAL_DAY_USECS)
#define CAL_NSEG		4

/* A UTC segment of constant offset: [lo, hi) known to lie in one segment. */
typedef struct SegCache
{
	int64		lo;
	int64		hi;				/* next boundary; PG_INT64_MAX if none */
	int64		off;			/* UTC offset in microseconds */
} SegCache;

typedef struct CalCache
{
	uint64		gen;			/* identifies this entry for fn_extra */
	uint64		lastuse;
	uint32		hash;
	Size		keylen;
	char	   *key;			/* the calendar's bytes, as looked up */
	MemoryContext mcxt;
	Calendar   *cal;			/* aligned copy */
	pg_tz	   *tz;

	int64		week_total;		/* W: regular business usecs per week */
	int64		prefix[8];		/* regular usecs of weekdays before d (Mon = 0) */
	int64	   *reg_iv[7];		/* regular day slices, [start, end) pairs */
	int			reg_n[7];

	/*
	 * The periodic pattern (weekly windows and every-year holidays): the
	 * slices of the 28 kinds of date (weekday, holiday or not, day before
	 * holiday or not), and the dates whose slice differs from the weekly one,
	 * as residues modulo CAL_CYCLE_DAYS, sorted; per_cum[k] = sum of their
	 * deltas before k.
	 */
	int64	   *per_kind_iv[28];
	int			per_kind_n[28];
	int64		per_kind_delta[28];
	int			nper;
	int32	   *per_res;
	uint8	   *per_kind;
	int64	   *per_cum;		/* nper + 1 entries */
	int64		per_total;		/* deltas of one cycle */
	int64		cycle_total;	/* business usecs of one cycle */

	/*
	 * Dated entries (holidays, closures, make-up days and the day after
	 * each) whose slice differs from the periodic one: sorted; exc_cum[k] =
	 * sum of their corrections before k.
	 */
	int			nexc;
	int32	   *exc_date;
	int64	   *exc_cum;		/* nexc + 1 entries */
	int64	  **exc_iv;
	int		   *exc_n;

	SegCache	seg[CAL_NSEG];
	int			seg_next;
} CalCache;

/* What fn_extra remembers: a slot and the generation it held. */
typedef struct CalFnCache
{
	int			slot;
	uint64		gen;
} CalFnCache;

static CalCache *cal_cache[CAL_CACHE_SLOTS];
static uint64 cal_cache_clock = 0;
static MemoryContext cal_cache_mcxt = NULL;

/* Instants we compute with: 0001-01-01 .. 9999-12-31, with room for offsets. */
static int64 cal_min_ts = 0;
static int64 cal_max_ts = 0;

static void
init_limits(void)
{
	if (cal_max_ts == 0)
	{
		cal_min_ts = ((int64) date2j(1, 1, 2) - POSTGRES_EPOCH_JDATE) * CAL_DAY_USECS;
		cal_max_ts = ((int64) date2j(9999, 12, 31) - POSTGRES_EPOCH_JDATE) * CAL_DAY_USECS;
	}
}

/* ---------- day slices ---------- */

/*
 * The business intervals of one local date, as usecs since its midnight:
 * its own windows up to midnight, the previous date's overnight tails, less
 * closures.  Returns a palloc'd array of [start, end) pairs, sorted, disjoint.
 */
static int64 *
build_slice(const CalWindow *own, int nown, const CalWindow *prev, int nprev,
			const CalWindow *cl, int ncl, int *nout)
{
	int			cap = nown + nprev + ncl + 1;
	int64	   *iv = palloc(sizeof(int64) * 2 * cap);
	int			n = 0,
				k;

	for (int i = 0; i < nprev; i++)
		if (prev[i].end > CAL_DAY_SECS)
		{
			iv[2 * n] = 0;
			iv[2 * n + 1] = (int64) (prev[i].end - CAL_DAY_SECS) * USECS;
			n++;
		}
	for (int i = 0; i < nown; i++)
	{
		iv[2 * n] = (int64) own[i].start * USECS;
		iv[2 * n + 1] = (int64) Min(own[i].end, CAL_DAY_SECS) * USECS;
		n++;
	}
	/* insertion sort (a handful of windows) and merge */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && iv[2 * j] < iv[2 * (j - 1)]; j--)
		{
			int64		s = iv[2 * j],
						e = iv[2 * j + 1];

			iv[2 * j] = iv[2 * (j - 1)];
			iv[2 * j + 1] = iv[2 * (j - 1) + 1];
			iv[2 * (j - 1)] = s;
			iv[2 * (j - 1) + 1] = e;
		}
	k = 0;
	for (int i = 0; i < n; i++)
	{
		if (k > 0 && iv[2 * i] <= iv[2 * (k - 1) + 1])
			iv[2 * (k - 1) + 1] = Max(iv[2 * (k - 1) + 1], iv[2 * i + 1]);
		else
		{
			iv[2 * k] = iv[2 * i];
			iv[2 * k + 1] = iv[2 * i + 1];
			k++;
		}
	}
	n = k;
	/* cut out closures; each can split one interval in two, hence cap */
	for (int c = 0; c < ncl; c++)
	{
		int64		cs = (int64) cl[c].start * USECS,
					ce = (int64) cl[c].end * USECS;
		int64	   *out = palloc(sizeof(int64) * 2 * cap);

		k = 0;
		for (int i = 0; i < n; i++)
		{
			int64		s = iv[2 * i],
						e = iv[2 * i + 1];

			if (e <= cs || s >= ce)
			{
				out[2 * k] = s;
				out[2 * k + 1] = e;
				k++;
				continue;
			}
			if (s < cs)
			{
				out[2 * k] = s;
				out[2 * k + 1] = cs;
				k++;
			}
			if (e > ce)
			{
				out[2 * k] = ce;
				out[2 * k + 1] = e;
				k++;
			}
		}
		pfree(iv);
		iv = out;
		n = k;
	}
	*nout = n;
	return iv;
}

static int64 *
date_slice(const Calendar *cal, int32 date, int *n)
{
	const CalWindow *own,
			   *prev,
			   *cl = NULL;
	int			nown,
				nprev,
				ncl = 0;
	const CalDated *c = cal_find_dated(cal_closed(cal), cal->nclosed, date);

	cal_own_windows(cal, date, &own, &nown);
	cal_own_windows(cal, date - 1, &prev, &nprev);
	if (c)
	{
		cl = cal_windows(cal) + c->first;
		ncl = c->nwindows;
	}
	return build_slice(own, nown, prev, nprev, cl, ncl, n);
}

static int64
slice_measure(const int64 *iv, int n)
{
	int64		m = 0;

	for (int i = 0; i < n; i++)
		m += iv[2 * i + 1] - iv[2 * i];
	return m;
}

/* ---------- the cache ---------- */

static int
cmp_int32(const void *a, const void *b)
{
	int32		x = *(const int32 *) a,
				y = *(const int32 *) b;

	return x < y ? -1 : x > y;
}

typedef struct DateList
{
	int32	   *d;
	int			n;
	int			cap;
} DateList;

static void
datelist_add(DateList *l, int32 date)
{
	if (l->n >= l->cap)
	{
		if (l->n >= CAL_MAX_EXCEPTIONS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("calendar has too many exceptional dates"),
					 errdetail("At most %d holiday, closure and make-up dates can be in use at once.",
							   CAL_MAX_EXCEPTIONS)));
		l->cap = l->cap ? l->cap * 2 : 64;
		l->d = l->d ? repalloc(l->d, sizeof(int32) * l->cap) : palloc(sizeof(int32) * l->cap);
	}
	l->d[l->n++] = date;
}

/* Sort a date list and drop duplicates. */
static void
datelist_sort_unique(DateList *l)
{
	int			k = 0;

	if (l->n > 1)
		qsort(l->d, l->n, sizeof(int32), cmp_int32);
	for (int i = 0; i < l->n; i++)
		if (k == 0 || l->d[i] != l->d[k - 1])
			l->d[k++] = l->d[i];
	l->n = k;
}

/* Is the date's month-day an every-year holiday? */
static bool
is_recurring(const Calendar *cal, int32 date)
{
	const int32 *r = cal_recurring(cal);
	int			lo = 0,
				hi = cal->nrecurring,
				y,
				m,
				d;
	int32		md;

	if (hi == 0)
		return false;
	j2date(date + POSTGRES_EPOCH_JDATE, &y, &m, &d);
	md = m * 100 + d;
	while (lo < hi)
	{
		int			mid = (lo + hi) >> 1;

		if (r[mid] < md)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < cal->nrecurring && r[lo] == md;
}

/*
 * The kind of a date under the periodic pattern (weekly windows and
 * every-year holidays only): its weekday, whether it is an every-year
 * holiday, whether the day before is one.  Its slice depends on nothing else.
 */
static inline int
periodic_kind(const Calendar *cal, int32 date)
{
	return cal_weekday(date) * 4 + (is_recurring(cal, date) ? 2 : 0) +
		(is_recurring(cal, date - 1) ? 1 : 0);
}

/*
 * Build everything F needs, once per calendar; nothing here depends on
 * which instants are asked for later.
 *
 * The periodic pattern repeats every 400 Gregorian years (146097 days, a
 * whole number of weeks), so its exceptional dates are kept for one cycle,
 * as residues of the date modulo CAL_CYCLE_DAYS.  The dated entries
 * (holidays, closures, make-up days and the day after each) are kept as
 * corrections against the periodic pattern.
 */
static void
build_exceptions(CalCache *c)
{
	const Calendar *cal = c->cal;
	DateList	l = {0};
	int			k;

	/* slices of the 28 periodic kinds */
	for (int kind = 0; kind < 28; kind++)
	{
		int			wd = kind / 4,
					pwd = (wd + 6) % 7;
		const CalWindow *w = cal_windows(cal);
		bool		own_off = (kind & 2) != 0,
					prev_off = (kind & 1) != 0;

		c->per_kind_iv[kind] = build_slice(w + cal->week_first[wd],
										   own_off ? 0 : cal->week_first[wd + 1] - cal->week_first[wd],
										   w + cal->week_first[pwd],
										   prev_off ? 0 : cal->week_first[pwd + 1] - cal->week_first[pwd],
										   NULL, 0, &c->per_kind_n[kind]);
		c->per_kind_delta[kind] = slice_measure(c->per_kind_iv[kind], c->per_kind_n[kind]) -
			(c->prefix[wd + 1] - c->prefix[wd]);
	}

	/* every-year holidays over one cycle, 2000-01-01 .. 2399-12-31 */
	for (int y = 2000; y < 2400 && cal->nrecurring > 0; y++)
	{
		for (int i = 0; i < cal->nrecurring; i++)
		{
			int			m = cal_recurring(cal)[i] / 100,
						d = cal_recurring(cal)[i] % 100;
			int32		date;

			if (d > day_tab[isleap(y)][m - 1])
				continue;		/* 29 February in a common year */
			date = date2j(y, m, d) - POSTGRES_EPOCH_JDATE;
			datelist_add(&l, date);
			datelist_add(&l, (date + 1) % CAL_CYCLE_DAYS);
		}
	}
	datelist_sort_unique(&l);
	c->per_res = palloc(sizeof(int32) * Max(l.n, 1));
	c->per_kind = palloc(sizeof(uint8) * Max(l.n, 1));
	c->per_cum = palloc(sizeof(int64) * (l.n + 1));
	c->per_cum[0] = 0;
	k = 0;
	for (int i = 0; i < l.n; i++)
	{
		int			kind = periodic_kind(cal, l.d[i]);
		int			wd = kind / 4;

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (c->per_kind_n[kind] == c->reg_n[wd] &&
			memcmp(c->per_kind_iv[kind], c->reg_iv[wd], sizeof(int64) * 2 * c->reg_n[wd]) == 0)
			continue;
		c->per_res[k] = l.d[i];
		c->per_kind[k] = (uint8) kind;
		c->per_cum[k + 1] = c->per_cum[k] + c->per_kind_delta[kind];
		k++;
	}
	c->nper = k;
	c->per_total = c->per_cum[k];
	c->cycle_total = (CAL_CYCLE_DAYS / 7) * c->week_total + c->per_total;
	if (l.d)
		pfree(l.d);

	/* dated entries, as corrections against the periodic pattern */
	memset(&l, 0, sizeof(l));
	for (int i = 0; i < cal->nholidays; i++)
	{
		for (int32 d = cal_holidays(cal)[i].first; d <= cal_holidays(cal)[i].last; d++)
			datelist_add(&l, d);
		datelist_add(&l, cal_holidays(cal)[i].last + 1);
	}
	for (int i = 0; i < cal->nclosed; i++)
		datelist_add(&l, cal_closed(cal)[i].date);
	for (int i = 0; i < cal->nworkdays; i++)
	{
		datelist_add(&l, cal_workdays(cal)[i].date);
		datelist_add(&l, cal_workdays(cal)[i].date + 1);
	}
	datelist_sort_unique(&l);

	c->exc_date = palloc(sizeof(int32) * Max(l.n, 1));
	c->exc_cum = palloc(sizeof(int64) * (l.n + 1));
	c->exc_iv = palloc(sizeof(int64 *) * Max(l.n, 1));
	c->exc_n = palloc(sizeof(int) * Max(l.n, 1));
	c->exc_cum[0] = 0;
	k = 0;
	for (int i = 0; i < l.n; i++)
	{
		int32		date = l.d[i];
		int			n,
					kind = periodic_kind(cal, date);
		int64	   *iv;

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		iv = date_slice(cal, date, &n);
		/* a date that turns out periodic needs no entry */
		if (n == c->per_kind_n[kind] &&
			memcmp(iv, c->per_kind_iv[kind], sizeof(int64) * 2 * n) == 0)
		{
			pfree(iv);
			continue;
		}
		c->exc_date[k] = date;
		c->exc_iv[k] = iv;
		c->exc_n[k] = n;
		c->exc_cum[k + 1] = c->exc_cum[k] + slice_measure(iv, n) -
			slice_measure(c->per_kind_iv[kind], c->per_kind_n[kind]);
		k++;
	}
	c->nexc = k;
	if (l.d)
		pfree(l.d);
}

static CalCache *
build_cache(const char *key, Size keylen, uint32 hash)
{
	MemoryContext mcxt,
				old;
	CalCache   *c;

	if (cal_cache_mcxt == NULL)
		cal_cache_mcxt = AllocSetContextCreate(TopMemoryContext,
											   "aftersales calendar cache",
											   ALLOCSET_SMALL_SIZES);
	mcxt = AllocSetContextCreate(cal_cache_mcxt, "aftersales calendar",
								 ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(mcxt);
	PG_TRY();
	{
		c = palloc0(sizeof(CalCache));
		c->mcxt = mcxt;
		c->hash = hash;
		c->keylen = keylen;
		c->key = palloc(keylen);
		memcpy(c->key, key, keylen);
		c->cal = palloc(keylen + VARHDRSZ);
		SET_VARSIZE(c->cal, keylen + VARHDRSZ);
		memcpy(VARDATA(c->cal), key, keylen);
		c->tz = cal_lookup_zone(cal_zone(c->cal), false);

		c->prefix[0] = 0;
		for (int d = 0; d < 7; d++)
		{
			int			prev = (d + 6) % 7;
			const CalWindow *w = cal_windows(c->cal);

			c->reg_iv[d] = build_slice(w + c->cal->week_first[d],
									   c->cal->week_first[d + 1] - c->cal->week_first[d],
									   w + c->cal->week_first[prev],
									   c->cal->week_first[prev + 1] - c->cal->week_first[prev],
									   NULL, 0, &c->reg_n[d]);
			c->prefix[d + 1] = c->prefix[d] + slice_measure(c->reg_iv[d], c->reg_n[d]);
		}
		c->week_total = c->prefix[7];
		if (c->week_total <= 0)
			elog(ERROR, "calendar without weekly business time");
		build_exceptions(c);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(mcxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	return c;
}

/* Find or build the cache entry of the calendar passed as argument argno. */
static CalCache *
get_cache(FunctionCallInfo fcinfo, int argno)
{
	struct varlena *v = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(argno));
	const char *key = VARDATA_ANY(v);
	Size		keylen = VARSIZE_ANY_EXHDR(v);
	CalFnCache *fx = (CalFnCache *) fcinfo->flinfo->fn_extra;
	CalCache   *c;
	uint32		hash;
	int			victim = 0;

	/* fast path: the same calendar as this call site's last row */
	if (fx && (c = cal_cache[fx->slot]) != NULL && c->gen == fx->gen &&
		c->keylen == keylen && memcmp(c->key, key, keylen) == 0)
	{
		c->lastuse = ++cal_cache_clock;
		return c;
	}
	if (fx == NULL)
		fx = fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CalFnCache));

	hash = hash_bytes((const unsigned char *) key, keylen);
	for (int i = 0; i < CAL_CACHE_SLOTS; i++)
	{
		c = cal_cache[i];
		if (c == NULL)
		{
			victim = i;
			continue;
		}
		if (c->hash == hash && c->keylen == keylen && memcmp(c->key, key, keylen) == 0)
		{
			c->lastuse = ++cal_cache_clock;
			fx->slot = i;
			fx->gen = c->gen;
			return c;
		}
		if (cal_cache[victim] != NULL && c->lastuse < cal_cache[victim]->lastuse)
			victim = i;
	}
	c = build_cache(key, keylen, hash);
	if (cal_cache[victim])
		MemoryContextDelete(cal_cache[victim]->mcxt);
	cal_cache[victim] = c;
	c->gen = ++cal_cache_clock;
	c->lastuse = c->gen;
	fx->slot = victim;
	fx->gen = c->gen;
	return c;
}

/* ---------- F and its inverse, on local time ---------- */

/* Regular business usecs before date (weeks in closed form). */
static inline int64
regular_before(const CalCache *c, int32 date)
{
	int64		n = (int64) date - 2;	/* 2000-01-03 was a Monday */
	int64		w = cal_floordiv(n, 7);

	return w * c->week_total + c->prefix[n - 7 * w];
}

/* Index of the first periodic exceptional residue >= r. */
static inline int
per_lower_bound(const CalCache *c, int32 r)
{
	int			lo = 0,
				hi = c->nper;

	while (lo < hi)
	{
		int			mid = (lo + hi) >> 1;

		if (c->per_res[mid] < r)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Index of the first dated exceptional date >= date. */
static inline int
exc_lower_bound(const CalCache *c, int32 date)
{
	int			lo = 0,
				hi = c->nexc;

	while (lo < hi)
	{
		int			mid = (lo + hi) >> 1;

		if (c->exc_date[mid] < date)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* H(date): business usecs before the date under the periodic pattern. */
static inline int64
periodic_before(const CalCache *c, int32 date)
{
	int64		q = cal_floordiv(date, CAL_CYCLE_DAYS);
	int32		r = (int32) (date - q * CAL_CYCLE_DAYS);

	return regular_before(c, date) + q * c->per_total + c->per_cum[per_lower_bound(c, r)];
}

/* G(date): business usecs from the origin to the date's local midnight. */
static inline int64
before_date(const CalCache *c, int32 date, int *idx)
{
	*idx = exc_lower_bound(c, date);
	return periodic_before(c, date) + c->exc_cum[*idx];
}

/* The slice of a date; idx is exc_lower_bound(c, date). */
static inline const int64 *
slice_of(const CalCache *c, int32 date, int idx, int *n)
{
	int32		r;
	int			p;

	if (idx < c->nexc && c->exc_date[idx] == date)
	{
		*n = c->exc_n[idx];
		return c->exc_iv[idx];
	}
	r = (int32) cal_floormod(date, CAL_CYCLE_DAYS);
	p = per_lower_bound(c, r);
	if (p < c->nper && c->per_res[p] == r)
	{
		*n = c->per_kind_n[c->per_kind[p]];
		return c->per_kind_iv[c->per_kind[p]];
	}
	*n = c->reg_n[cal_weekday(date)];
	return c->reg_iv[cal_weekday(date)];
}

/* F(x): business usecs from the origin to local time x (usecs since 2000-01-01). */
static int64
local_F(const CalCache *c, int64 x)
{
	int32		date = (int32) cal_floordiv(x, CAL_DAY_USECS);
	int64		tod = x - (int64) date * CAL_DAY_USECS;
	int			idx,
				n;
	int64		g;
	const int64 *iv;

	g = before_date(c, date, &idx);
	iv = slice_of(c, date, idx, &n);
	for (int i = 0; i < n && iv[2 * i] < tod; i++)
		g += Min(iv[2 * i + 1], tod) - iv[2 * i];
	return g;
}

/* The date d with R(d) < t <= R(d + 1), for the regular pattern alone. */
static inline int64
regular_find_day(const CalCache *c, int64 t)
{
	int64		w = cal_floordiv(t - 1, c->week_total);
	int64		rem = t - w * c->week_total;
	int			j = 6;

	while (j > 0 && c->prefix[j] >= rem)
		j--;
	return 7 * w + j + 2;
}

/*
 * The date d with H(d) < t <= H(d + 1), for the periodic pattern alone;
 * false when there is none (a pattern without business time).
 */
static bool
periodic_find_day(const CalCache *c, int64 t, int32 *date)
{
	int64		h0 = regular_before(c, 0),
				q,
				base,
				off,
				d;
	int			lo,
				hi;

	if (c->cycle_total <= 0)
		return false;
	/* the cycle [base, base + CAL_CYCLE_DAYS) with H(base) < t <= H(its end) */
	q = cal_floordiv(t - 1 - h0, c->cycle_total);
	if (q < -CAL_MAX_CYCLES || q > CAL_MAX_CYCLES)
		return false;			/* far outside the dates computed with */
	base = q * CAL_CYCLE_DAYS;
	off = q * c->per_total;
	lo = 0;
	hi = c->nper;
	while (lo < hi)
	{
		int			mid = (lo + hi) >> 1;

		if (regular_before(c, base + c->per_res[mid]) + off + c->per_cum[mid] >= t)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo > 0)
	{
		int32		e = base + c->per_res[lo - 1];

		if (regular_before(c, e + 1) + off + c->per_cum[lo] >= t)
		{
			*date = e;
			return true;
		}
	}
	d = regular_find_day(c, t - off - c->per_cum[lo]);
	if (d < base || d >= base + CAL_CYCLE_DAYS)
		elog(ERROR, "business time inverse fell outside its cycle");
	*date = (int32) d;
	return true;
}

/* The least local time x with F(x) >= t; PG_INT64_MAX / 4 when there is none. */
static int64
local_F_inverse(const CalCache *c, int64 t)
{
	int			lo = 0,
				hi = c->nexc,
				idx,
				n;
	int32		date;
	int64		need;
	const int64 *iv;

	while (lo < hi)
	{
		int			mid = (lo + hi) >> 1;

		if (periodic_before(c, c->exc_date[mid]) + c->exc_cum[mid] >= t)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo > 0 &&
		periodic_before(c, c->exc_date[lo - 1] + 1) + c->exc_cum[lo] >= t)
		date = c->exc_date[lo - 1];
	else if (!periodic_find_day(c, t - c->exc_cum[lo], &date))
		return PG_INT64_MAX / 4;	/* no business time after the last dated entry */
	need = t - before_date(c, date, &idx);
	iv = slice_of(c, date, idx, &n);
	for (int i = 0; i < n; i++)
	{
		int64		len = iv[2 * i + 1] - iv[2 * i];

		if (need <= len)
			return (int64) date * CAL_DAY_USECS + iv[2 * i] + need;
		need -= len;
	}
	elog(ERROR, "business time inverse fell outside its day");
	return 0;					/* keep compiler quiet */
}

/* ---------- UTC segments ---------- */

/* The UTC offset at t and the end of its constant-offset segment. */
static void
segment_at(CalCache *c, int64 t, int64 *off, int64 *hi)
{
	pg_time_t	tsec,
				boundary;
	long int	before_gmtoff,
				after_gmtoff;
	int			before_isdst,
				after_isdst,
				r;
	struct pg_tm *tm;
	SegCache   *s;

	for (int i = 0; i < CAL_NSEG; i++)
		if (c->seg[i].lo <= t && t < c->seg[i].hi)
		{
			*off = c->seg[i].off;
			*hi = c->seg[i].hi;
			return;
		}
	tsec = cal_floordiv(t, USECS) + UNIX_SHIFT_SECS;
	/* the offset exactly as timestamptz output computes it */
	tm = pg_localtime(&tsec, c->tz);
	if (tm == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range for calendar zone \"%s\"", cal_zone(c->cal))));
	r = pg_next_dst_boundary(&tsec, &before_gmtoff, &before_isdst, &boundary,
							 &after_gmtoff, &after_isdst, c->tz);
	if (r < 0)
		elog(ERROR, "could not find the next time zone transition");
	s = &c->seg[c->seg_next];
	c->seg_next = (c->seg_next + 1) % CAL_NSEG;
	s->lo = t;
	s->off = (int64) tm->tm_gmtoff * USECS;
	s->hi = (r == 1) ? (boundary - UNIX_SHIFT_SECS) * USECS : PG_INT64_MAX;
	if (s->hi <= t)				/* cannot happen; stay safe */
		s->hi = t + 1;
	*off = s->off;
	*hi = s->hi;
}

/* ---------- the operations ---------- */

static void
check_ts(TimestampTz t, const char *what)
{
	init_limits();
	if (TIMESTAMP_NOT_FINITE(t) || t < cal_min_ts || t > cal_max_ts)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range for business time: %s", what,
						timestamptz_to_str(t)),
				 errhint("Business time is computed for instants from 0001-01-02 to 9999-12-31.")));
}

/* Business usecs in [a, b), a <= b. */
static int64
business_usecs(CalCache *c, int64 a, int64 b)
{
	int64		sum = 0;
	int64		t = a;

	while (t < b)
	{
		int64		off,
					hi,
					end;

		CHECK_FOR_INTERRUPTS();
		segment_at(c, t, &off, &hi);
		end = Min(hi, b);
		sum += local_F(c, end + off) - local_F(c, t + off);
		t = end;
	}
	return sum;
}

static void
result_range_error(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("business time result is out of range"),
			 errhint("Business time is computed for instants up to 9999-12-31.")));
}

static void
no_business_error(int64 t0)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("calendar has no business time within %d years after %s",
					CAL_SEARCH_YEARS, timestamptz_to_str(t0)),
			 errdetail("Holidays or closures cover every working window in that time."),
			 errhint("Check the calendar's holidays, for example with: SELECT aftersales.next_business_time(cal, now());")));
}

/*
 * The first business instant >= t; an error past the 10-year horizon, or
 * when the instant would lie past the last one computed with.
 */
static int64
next_business(CalCache *c, int64 t0)
{
	int64		t = t0;

	for (;;)
	{
		int64		off,
					hi,
					f0,
					x;

		CHECK_FOR_INTERRUPTS();
		if (t - t0 > CAL_SEARCH_USECS)
			no_business_error(t0);
		if (t > cal_max_ts)
			result_range_error();
		segment_at(c, t, &off, &hi);
		f0 = local_F(c, t + off);
		if (hi != PG_INT64_MAX && local_F(c, hi + off) == f0)
		{
			t = hi;				/* nothing in this segment */
			continue;
		}
		x = local_F_inverse(c, f0 + 1) - 1 - off;
		if (x - t0 > CAL_SEARCH_USECS)
			no_business_error(t0);
		if (x > cal_max_ts)
			result_range_error();
		return x;
	}
}

static int64
business_add_usecs(CalCache *c, int64 start, int64 amount)
{
	int64		t = start;
	int64		remaining = amount;

	if (amount == 0)
		return start;
	for (;;)
	{
		int64		off,
					hi,
					f0,
					result;

		CHECK_FOR_INTERRUPTS();
		segment_at(c, t, &off, &hi);
		f0 = local_F(c, t + off);
		if (hi != PG_INT64_MAX && hi <= cal_max_ts)
		{
			int64		avail = local_F(c, hi + off) - f0;

			if (remaining > avail)
			{
				remaining -= avail;
				t = hi;
				continue;
			}
		}
		else if (remaining > cal_max_ts - t)
			break;				/* cannot fit before 9999-12-31 */
		result = local_F_inverse(c, f0 + remaining) - off;
		if (result > cal_max_ts)
			break;
		/* a result far away may just mean no business time at all */
		if (result - start > CAL_SEARCH_USECS)
			(void) next_business(c, start);
		return result;
	}
	(void) next_business(c, start);
	result_range_error();
	return 0;
}

static int64
amount_usecs(Interval *iv)
{
	if (iv->month != 0 || iv->day != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("business time must be given in hours, minutes and seconds: \"%s\"",
						DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(iv)))),
				 errdetail("A business day is not 24 hours, so days and months are ambiguous."),
				 errhint("Use hours, for example: interval '16 hours'")));
	if (iv->time < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("business time to add must not be negative: \"%s\"",
						DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(iv)))),
				 errhint("Give a positive amount, for example: interval '4 hours'")));
	return iv->time;
}

/* Earliest instant at which the amount of business time has elapsed since start. */
PG_FUNCTION_INFO_V1(business_add);
Datum
business_add(PG_FUNCTION_ARGS)
{
	CalCache   *c = get_cache(fcinfo, 0);
	TimestampTz start = PG_GETARG_TIMESTAMPTZ(1);
	int64		amount = amount_usecs(PG_GETARG_INTERVAL_P(2));

	check_ts(start, "start");
	PG_RETURN_TIMESTAMPTZ(business_add_usecs(c, start, amount));
}

/* Business time in [a, b), negative when b < a. */
PG_FUNCTION_INFO_V1(business_diff);
Datum
business_diff(PG_FUNCTION_ARGS)
{
	CalCache   *c = get_cache(fcinfo, 0);
	TimestampTz a = PG_GETARG_TIMESTAMPTZ(1);
	TimestampTz b = PG_GETARG_TIMESTAMPTZ(2);
	Interval   *result = palloc0(sizeof(Interval));

	check_ts(a, "start");
	check_ts(b, "end");
	result->time = a <= b ? business_usecs(c, a, b) : -business_usecs(c, b, a);
	PG_RETURN_INTERVAL_P(result);
}

/* Is t inside a working window of its local date? */
PG_FUNCTION_INFO_V1(is_business_time);
Datum
is_business_time(PG_FUNCTION_ARGS)
{
	CalCache   *c = get_cache(fcinfo, 0);
	TimestampTz t = PG_GETARG_TIMESTAMPTZ(1);
	int64		off,
				hi,
				x,
				tod;
	int32		date;
	int			idx,
				n;
	const int64 *iv;

	check_ts(t, "instant");
	segment_at(c, t, &off, &hi);
	x = t + off;
	date = (int32) cal_floordiv(x, CAL_DAY_USECS);
	tod = x - (int64) date * CAL_DAY_USECS;
	idx = exc_lower_bound(c, date);
	iv = slice_of(c, date, idx, &n);
	for (int i = 0; i < n; i++)
		if (iv[2 * i] <= tod && tod < iv[2 * i + 1])
			PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(false);
}

/* The first business instant at or after t. */
PG_FUNCTION_INFO_V1(next_business_time);
Datum
next_business_time(PG_FUNCTION_ARGS)
{
	CalCache   *c = get_cache(fcinfo, 0);
	TimestampTz t = PG_GETARG_TIMESTAMPTZ(1);

	check_ts(t, "instant");
	PG_RETURN_TIMESTAMPTZ(next_business(c, t));
}
