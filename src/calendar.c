/*
 * calendar.c: the aftersales.calendar type.  Owns the text syntax (parse,
 * validate, canonical output that round-trips) and the binary form (send and
 * recv through pq_*; recv re-validates exactly like the text input).
 *
 * Text syntax: clauses separated by ";", keywords case-insensitive:
 *   zone=Asia/Shanghai                       IANA zone, required, once
 *   mon-fri 09:00-12:00,13:00-18:00          weekly windows (lists mon,wed;
 *   sat 22:00-06:00                          ranges mon-fri); end < start is
 *                                            an overnight window; 24:00 ends
 *   holiday 2026-10-01..2026-10-07,*-12-25   dates, ranges, every-year dates
 *   closed 2026-12-24 12:00-24:00            partial-day closure
 *   workday 2026-10-10 09:00-18:00           make-up working day (调休)
 */
#include "calendar.h"

#include "access/detoast.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/date.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

#define CAL_MAX_ENTRIES		PG_UINT16_MAX
#define CAL_MAX_HOLIDAY_DAYS 200000	/* dated holidays in all; each is cached */
#define CAL_MAX_RANGE_DAYS	3660	/* one holiday range: ten years */

static const char *const weekday_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

#define CAL_EXAMPLE "zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00; holiday 2026-10-01..2026-10-07; workday 2026-10-10 09:00-18:00"

/* A calendar being built from text or binary input, before validation. */
typedef struct SpecDated
{
	int32		date;
	CalWindow  *w;
	int			nw;
	int			capw;
} SpecDated;

typedef struct CalSpec
{
	char	   *zone;
	CalWindow  *week[7];
	int			nweek[7];
	int			capweek[7];
	CalDateRange *hol;
	int			nhol;
	int			caphol;
	int32	   *rec;
	int			nrec;
	int			caprec;
	SpecDated  *closed;
	int			nclosed;
	int			capclosed;
	SpecDated  *work;
	int			nwork;
	int			capwork;
} CalSpec;

/* Append one zeroed element to a growable palloc'd array. */
static void *
grow(void **arr, int *n, int *cap, Size elsize)
{
	if (*n >= *cap)
	{
		int			newcap = *cap > 0 ? *cap * 2 : 8;

		if (*n >= CAL_MAX_ENTRIES)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("calendar has too many entries"),
					 errdetail("A calendar holds at most %d windows, holiday ranges, closures or make-up days of each kind.",
							   CAL_MAX_ENTRIES)));
		*arr = *arr ? repalloc(*arr, newcap * elsize) : palloc(newcap * elsize);
		*cap = newcap;
	}
	memset((char *) *arr + (*n) * elsize, 0, elsize);
	return (char *) *arr + (*n)++ * elsize;
}

/* memcpy of n bytes; an empty list's array is NULL, which memcpy must not get. */
static inline void
copy_n(void *dst, const void *src, Size n)
{
	if (n > 0)
		memcpy(dst, src, n);
}

/* ---------- lookups shared with business_time.c ---------- */

/* Find a zone by name; NULL (or an error) when unknown or leap-second based. */
pg_tz *
cal_lookup_zone(const char *name, bool missing_ok)
{
	pg_tz	   *tz = NULL;

	if (strlen(name) <= TZ_STRLEN_MAX)
		tz = pg_tzset(name);
	if (tz && !pg_tz_acceptable(tz))
		tz = NULL;
	if (!tz && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("unknown time zone in calendar: \"%s\"", name),
				 errhint("Use an IANA time zone name, for example: zone=Asia/Shanghai")));
	return tz;
}

static int
cmp_cstring(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * Is this canonical zone name one of the IANA tz database's?  pg_tzset also
 * reads any string it cannot find as a file as a POSIX TZ rule, so that a
 * misspelt "Amer2ica/Sao_Paulo" becomes a made-up zone with DST.  A POSIX
 * rule always holds a digit (its UTC offset), so a name without one was read
 * from a file; a name with one is looked up among the zones PostgreSQL
 * enumerates (listed once per backend, only when such a name comes up).
 * "localtime" (the host's setting), "posixrules", "Factory" and the posix/
 * and right/ copies are in that directory but are not zones to plan work by.
 */
static bool
zone_is_iana(const char *name)
{
	static char **names = NULL;
	static int	nnames = 0;
	const char *p;

	if (pg_strcasecmp(name, "localtime") == 0 || pg_strcasecmp(name, "posixrules") == 0 ||
		pg_strcasecmp(name, "Factory") == 0 || pg_strncasecmp(name, "posix/", 6) == 0 ||
		pg_strncasecmp(name, "right/", 6) == 0)
		return false;
	for (p = name; *p && !isdigit((unsigned char) *p); p++)
		;
	if (*p == '\0')
		return true;
	if (names == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		pg_tzenum  *e = pg_tzenumerate_start();
		pg_tz	   *tz;
		char	  **arr = NULL;
		int			n = 0,
					cap = 0;

		while ((tz = pg_tzenumerate_next(e)) != NULL)
		{
			if (n >= cap)
			{
				cap = cap ? cap * 2 : 1024;
				arr = arr ? repalloc(arr, cap * sizeof(char *)) : palloc(cap * sizeof(char *));
			}
			arr[n++] = pstrdup(pg_get_timezone_name(tz));
		}
		pg_tzenumerate_end(e);
		if (n > 1)
			qsort(arr, n, sizeof(char *), cmp_cstring);
		MemoryContextSwitchTo(old);
		names = arr;
		nnames = n;
	}
	return nnames > 0 &&
		bsearch(&name, names, nnames, sizeof(char *), cmp_cstring) != NULL;
}

bool
cal_is_holiday(const Calendar *cal, int32 date)
{
	const CalDateRange *h = cal_holidays(cal);
	int			lo = 0,
				hi = cal->nholidays;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (h[mid].last < date)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < cal->nholidays && h[lo].first <= date)
		return true;

	if (cal->nrecurring > 0)
	{
		const int32 *r = cal_recurring(cal);
		int			y,
					m,
					d;
		int32		md;

		j2date(date + POSTGRES_EPOCH_JDATE, &y, &m, &d);
		md = m * 100 + d;
		lo = 0;
		hi = cal->nrecurring;
		while (lo < hi)
		{
			int			mid = (lo + hi) / 2;

			if (r[mid] < md)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < cal->nrecurring && r[lo] == md)
			return true;
	}
	return false;
}

/* The windows a date owns: its make-up windows, none on a holiday, else weekly. */
void
cal_own_windows(const Calendar *cal, int32 date, const CalWindow **w, int *n)
{
	const CalDated *wd = cal_find_dated(cal_workdays(cal), cal->nworkdays, date);

	if (wd)
	{
		*w = cal_windows(cal) + wd->first;
		*n = wd->nwindows;
	}
	else if (cal_is_holiday(cal, date))
	{
		*w = NULL;
		*n = 0;
	}
	else
	{
		int			d = cal_weekday(date);

		*w = cal_windows(cal) + cal->week_first[d];
		*n = cal->week_first[d + 1] - cal->week_first[d];
	}
}

const CalDated *
cal_find_dated(const CalDated *arr, int n, int32 date)
{
	int			lo = 0,
				hi = n;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (arr[mid].date < date)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo < n && arr[lo].date == date) ? &arr[lo] : NULL;
}

/* ---------- formatting ---------- */

static void
append_time(StringInfo buf, int32 secs)
{
	if (secs % 60 == 0)
		appendStringInfo(buf, "%02d:%02d", secs / 3600, (secs / 60) % 60);
	else
		appendStringInfo(buf, "%02d:%02d:%02d", secs / 3600, (secs / 60) % 60, secs % 60);
}

static void
append_window(StringInfo buf, const CalWindow *w)
{
	append_time(buf, w->start);
	appendStringInfoChar(buf, '-');
	append_time(buf, w->end > CAL_DAY_SECS ? w->end - CAL_DAY_SECS : w->end);
}

static void
append_windows(StringInfo buf, const CalWindow *w, int n)
{
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(buf, ',');
		append_window(buf, &w[i]);
	}
}

static void
append_date(StringInfo buf, int32 date)
{
	int			y,
				m,
				d;

	j2date(date + POSTGRES_EPOCH_JDATE, &y, &m, &d);
	appendStringInfo(buf, "%04d-%02d-%02d", y, m, d);
}

static char *
window_text(const CalWindow *w)
{
	StringInfoData buf;

	initStringInfo(&buf);
	append_window(&buf, w);
	return buf.data;
}

/* ---------- parsing ---------- */

static char *
trim(char *s)
{
	char	   *e;

	while (*s && isspace((unsigned char) *s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char) e[-1]))
		*--e = '\0';
	return s;
}

/* Parse HH:MM or HH:MM:SS (00:00 .. 24:00) into seconds; -1 when invalid. */
static int32
parse_time(const char *s)
{
	int			h = 0,
				m = 0,
				sec = 0,
				nh = 0;

	while (isdigit((unsigned char) *s) && nh < 3)
		h = h * 10 + (*s++ - '0'), nh++;
	if (nh != 2 || *s++ != ':')
		return -1;
	if (!isdigit((unsigned char) s[0]) || !isdigit((unsigned char) s[1]))
		return -1;
	m = (s[0] - '0') * 10 + (s[1] - '0');
	s += 2;
	if (*s == ':')
	{
		s++;
		if (!isdigit((unsigned char) s[0]) || !isdigit((unsigned char) s[1]))
			return -1;
		sec = (s[0] - '0') * 10 + (s[1] - '0');
		s += 2;
	}
	if (*s != '\0' || m > 59 || sec > 59 || h > 24 || (h == 24 && (m || sec)))
		return -1;
	return h * 3600 + m * 60 + sec;
}

/* Parse YYYY-MM-DD into a DateADT; false when invalid. */
static bool
parse_date(const char *s, int32 *date)
{
	int			y,
				m,
				d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char) s[i]))
			return false;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > day_tab[isleap(y)][m - 1])
		return false;
	*date = date2j(y, m, d) - POSTGRES_EPOCH_JDATE;
	return true;
}

/* Reject an empty item in a comma-separated list: "mon,,fri", "a,", ",a". */
static void
check_list(const char *s, const char *clause, const char *example)
{
	bool		empty = true;

	for (;; s++)
	{
		if (*s == ',' || *s == '\0')
		{
			if (empty)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("empty list item in calendar clause: \"%s\"", clause),
						 errhint("Separate items with single commas, for example: %s", example)));
			if (*s == '\0')
				return;
			empty = true;
		}
		else if (!isspace((unsigned char) *s))
			empty = false;
	}
}

static void
bad_date(const char *frag)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid date in calendar: \"%s\"", frag),
			 errhint("Write dates as YYYY-MM-DD and every-year dates as *-MM-DD, for example: holiday 2026-10-01..2026-10-07,*-12-25")));
}

/*
 * Parse a comma-separated list of windows, appending to *arr.  Overnight
 * windows (end before start) are allowed only when "overnight" is true.
 */
static void
parse_windows(char *s, CalWindow **arr, int *n, int *cap, bool overnight,
			  const char *clause)
{
	char	   *item;
	char	   *save = NULL;

	s = trim(s);
	if (*s == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("calendar clause has no windows: \"%s\"", clause),
				 errhint("Give windows as HH:MM-HH:MM, for example: mon-fri 09:00-12:00,13:00-18:00")));
	check_list(s, clause, "mon-fri 09:00-12:00,13:00-18:00");
	for (item = strtok_r(s, ",", &save); item; item = strtok_r(NULL, ",", &save))
	{
		char	   *w = trim(item);
		char	   *dash = strchr(w, '-');
		int32		a,
					b;
		CalWindow  *win;

		if (dash == NULL)
			a = b = -1;
		else
		{
			*dash = '\0';
			a = parse_time(trim(w));
			b = parse_time(trim(dash + 1));
			*dash = '-';
		}
		if (a < 0 || b < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid window in calendar: \"%s\"", w),
					 errhint("Write a window as HH:MM-HH:MM or HH:MM:SS-HH:MM:SS between 00:00 and 24:00, for example: 09:00-18:00")));
		/* an end of 00:00 after a later start means midnight, i.e. 24:00 */
		if (b == 0 && a > 0)
			b = CAL_DAY_SECS;
		if (a == CAL_DAY_SECS || a == b)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid window in calendar: \"%s\"", w),
					 errdetail(a == b ? "A window must end at a time other than its start." :
							   "A window cannot start at 24:00."),
					 errhint("For a whole day write 00:00-24:00; for a night shift write 22:00-06:00.")));
		if (b < a && !overnight)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid window in calendar: \"%s\"", w),
					 errdetail("A closure window cannot cross midnight."),
					 errhint("Split it over two dates, for example: closed 2026-12-24 22:00-24:00; closed 2026-12-25 00:00-06:00")));
		win = grow((void **) arr, n, cap, sizeof(CalWindow));
		win->start = a;
		win->end = b > a ? b : b + CAL_DAY_SECS;
	}
}

static int
weekday_index(const char *s)
{
	for (int i = 0; i < 7; i++)
		if (pg_strcasecmp(s, weekday_names[i]) == 0)
			return i;
	return -1;
}

/* Parse "mon-fri", "mon,wed,fri", "fri-mon" (wraps) into a bit mask. */
static int
parse_days(char *s, const char *clause)
{
	int			mask = 0;
	char	   *item;
	char	   *save = NULL;

	check_list(s, clause, "mon,wed,fri 09:00-18:00");
	for (item = strtok_r(s, ",", &save); item; item = strtok_r(NULL, ",", &save))
	{
		char	   *d = trim(item);
		char	   *dash = strchr(d, '-');
		int			a,
					b;

		if (dash)
		{
			*dash = '\0';
			a = weekday_index(trim(d));
			b = weekday_index(trim(dash + 1));
			*dash = '-';
		}
		else
			a = b = weekday_index(d);
		if (a < 0 || b < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid weekday in calendar: \"%s\"", d),
					 errhint("Use mon, tue, wed, thu, fri, sat and sun, ranges like mon-fri and lists like mon,wed,fri, for example: mon-fri 09:00-18:00")));
		for (int i = a;; i = (i + 1) % 7)
		{
			mask |= 1 << i;
			if (i == b)
				break;
		}
	}
	if (mask == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid calendar clause: \"%s\"", clause),
				 errhint("A weekly clause names days and then windows, for example: mon-fri 09:00-18:00")));
	return mask;
}

/*
 * One holiday range as written covers at most CAL_MAX_RANGE_DAYS days.
 * Touching ranges still merge into a longer one, which the output writes
 * back as consecutive pieces of at most that length.
 */
static void
check_range_length(const CalDateRange *r)
{
	if ((int64) r->last - r->first + 1 > CAL_MAX_RANGE_DAYS)
	{
		StringInfoData buf;

		initStringInfo(&buf);
		append_date(&buf, r->first);
		appendStringInfoString(&buf, "..");
		append_date(&buf, r->last);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("holiday range too long in calendar: \"%s\"", buf.data),
				 errdetail("A holiday range covers at most %d days.", CAL_MAX_RANGE_DAYS),
				 errhint("Split a longer time into ranges that touch, for example: holiday 2026-01-01..2030-12-31,2031-01-01..2035-12-31")));
	}
}

static void
parse_holidays(CalSpec *spec, char *s, const char *clause)
{
	char	   *item;
	char	   *save = NULL;

	s = trim(s);
	if (*s == '\0')
		bad_date(clause);
	check_list(s, clause, "holiday 2026-10-01..2026-10-07,*-12-25");
	for (item = strtok_r(s, ",", &save); item; item = strtok_r(NULL, ",", &save))
	{
		char	   *h = trim(item);
		char	   *dots = strstr(h, "..");

		if (h[0] == '*')
		{
			int			m,
						d;

			if (strlen(h) != 7 || h[1] != '-' || h[4] != '-' ||
				!isdigit((unsigned char) h[2]) || !isdigit((unsigned char) h[3]) ||
				!isdigit((unsigned char) h[5]) || !isdigit((unsigned char) h[6]))
				bad_date(h);
			m = atoi(h + 2);
			d = atoi(h + 5);
			if (m < 1 || m > 12 || d < 1 || d > day_tab[1][m - 1])
				bad_date(h);
			*(int32 *) grow((void **) &spec->rec, &spec->nrec, &spec->caprec, sizeof(int32)) = m * 100 + d;
		}
		else
		{
			CalDateRange r;

			if (dots)
			{
				*dots = '\0';
				if (!parse_date(trim(h), &r.first) || !parse_date(trim(dots + 2), &r.last))
				{
					*dots = '.';
					bad_date(h);
				}
				*dots = '.';
			}
			else if (!parse_date(h, &r.first))
				bad_date(h);
			else
				r.last = r.first;
			if (r.last < r.first)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("invalid date range in calendar: \"%s\"", h),
						 errdetail("The range ends before it starts."),
						 errhint("Write the first date first, for example: holiday 2026-10-01..2026-10-07")));
			check_range_length(&r);
			*(CalDateRange *) grow((void **) &spec->hol, &spec->nhol, &spec->caphol, sizeof(CalDateRange)) = r;
		}
	}
}

/* "closed DATE windows" and "workday DATE windows" */
static void
parse_dated(char *s, SpecDated **arr, int *n, int *cap, bool overnight,
			const char *clause)
{
	char	   *sp;
	SpecDated  *d;

	s = trim(s);
	sp = s;
	while (*sp && !isspace((unsigned char) *sp))
		sp++;
	if (*sp == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("calendar clause has no windows: \"%s\"", clause),
				 errhint("Give a date and windows, for example: closed 2026-12-24 12:00-24:00")));
	*sp = '\0';
	d = grow((void **) arr, n, cap, sizeof(SpecDated));
	if (!parse_date(s, &d->date))
		bad_date(s);
	parse_windows(sp + 1, &d->w, &d->nw, &d->capw, overnight, clause);
}

static void
parse_clause(CalSpec *spec, char *clause)
{
	char	   *orig = pstrdup(clause);
	char	   *rest;

	if (pg_strncasecmp(clause, "zone", 4) == 0 &&
		(clause[4] == '=' || isspace((unsigned char) clause[4])))
	{
		rest = trim(clause + 4);
		if (*rest != '=')
			goto bad;
		rest = trim(rest + 1);
		if (spec->zone)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("calendar names a time zone twice: \"%s\"", orig),
					 errhint("Keep one zone clause, for example: zone=Asia/Shanghai")));
		(void) cal_lookup_zone(rest, false);
		spec->zone = pstrdup(rest);
		return;
	}
	if (pg_strncasecmp(clause, "holiday", 7) == 0 && isspace((unsigned char) clause[7]))
	{
		parse_holidays(spec, clause + 7, orig);
		return;
	}
	if (pg_strncasecmp(clause, "closed", 6) == 0 && isspace((unsigned char) clause[6]))
	{
		parse_dated(clause + 6, &spec->closed, &spec->nclosed, &spec->capclosed, false, orig);
		return;
	}
	if (pg_strncasecmp(clause, "workday", 7) == 0 && isspace((unsigned char) clause[7]))
	{
		parse_dated(clause + 7, &spec->work, &spec->nwork, &spec->capwork, true, orig);
		return;
	}
	if (isalpha((unsigned char) clause[0]))
	{
		/* weekly clause: the days run up to the first digit */
		char	   *digit = clause;
		char		saved;
		int			mask;

		while (*digit && !isdigit((unsigned char) *digit))
			digit++;
		saved = *digit;
		*digit = '\0';
		if (weekday_index(trim(pstrdup(clause))) < 0 &&
			strchr(clause, '-') == NULL && strchr(clause, ',') == NULL)
			goto bad;
		mask = parse_days(clause, orig);
		*digit = saved;
		for (int d = 0; d < 7; d++)
			if (mask & (1 << d))
				parse_windows(pstrdup(digit), &spec->week[d], &spec->nweek[d],
							  &spec->capweek[d], true, orig);
		return;
	}
bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid calendar clause: \"%s\"", orig),
			 errdetail("A clause is zone=NAME, weekdays with windows, or holiday, closed or workday."),
			 errhint("For example: %s", CAL_EXAMPLE)));
}

/* ---------- validation and serialisation ---------- */

static int
cmp_window(const void *a, const void *b)
{
	const CalWindow *x = a,
			   *y = b;

	return x->start < y->start ? -1 : x->start > y->start ? 1 :
		x->end < y->end ? -1 : x->end > y->end;
}

static int
cmp_range(const void *a, const void *b)
{
	const CalDateRange *x = a,
			   *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

static int
cmp_int32(const void *a, const void *b)
{
	int32		x = *(const int32 *) a,
				y = *(const int32 *) b;

	return x < y ? -1 : x > y;
}

static int
cmp_dated(const void *a, const void *b)
{
	return cmp_int32(&((const SpecDated *) a)->date, &((const SpecDated *) b)->date);
}

static void
overlap_error(const CalWindow *a, const CalWindow *b)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("overlapping windows in calendar: \"%s\" and \"%s\"",
					window_text(a), window_text(b)),
			 errdetail("The windows of a day, and an overnight window and the next day's windows, must not overlap."),
			 errhint("Merge or shorten them, for example: mon-fri 09:00-12:00,13:00-18:00")));
}

/* Sort windows and reject overlaps (half-open, so 09:00-12:00,12:00-13:00 is fine). */
static void
check_day_windows(CalWindow *w, int n)
{
	qsort(w, n, sizeof(CalWindow), cmp_window);
	for (int i = 1; i < n; i++)
		if (w[i].start < w[i - 1].end)
			overlap_error(&w[i - 1], &w[i]);
}

/* Sort closure windows and merge overlapping or touching ones. */
static int
merge_windows(CalWindow *w, int n)
{
	int			k = 0;

	qsort(w, n, sizeof(CalWindow), cmp_window);
	for (int i = 0; i < n; i++)
	{
		if (k > 0 && w[i].start <= w[k - 1].end)
			w[k - 1].end = Max(w[k - 1].end, w[i].end);
		else
			w[k++] = w[i];
	}
	return k;
}

/* The calendar's time zone, an IANA name: the canonical spelling. */
static const char *
spec_zone(const CalSpec *spec)
{
	pg_tz	   *tz;
	const char *zone;

	if (spec->zone == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("calendar has no time zone"),
				 errhint("Start with a zone clause, for example: %s", CAL_EXAMPLE)));
	tz = cal_lookup_zone(spec->zone, false);
	zone = pg_get_timezone_name(tz);
	if (!zone_is_iana(zone))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("unknown time zone in calendar: \"%s\"", spec->zone),
				 errdetail("Only zone names of the IANA time zone database are accepted, not POSIX TZ rules, \"localtime\" or \"Factory\"."),
				 errhint("Use an IANA time zone name, for example: zone=Asia/Shanghai")));
	return zone;
}

/* Sorts the weekly windows and checks them; returns how many there are. */
static int
spec_check_week(CalSpec *spec)
{
	int			nweekly = 0;

	/* sorted, no overlap within a day or across midnight */
	for (int d = 0; d < 7; d++)
	{
		check_day_windows(spec->week[d], spec->nweek[d]);
		nweekly += spec->nweek[d];
	}
	for (int d = 0; d < 7; d++)
	{
		int			prev = (d + 6) % 7;
		CalWindow  *last;

		if (spec->nweek[prev] == 0 || spec->nweek[d] == 0)
			continue;
		last = &spec->week[prev][spec->nweek[prev] - 1];
		if (last->end - CAL_DAY_SECS > spec->week[d][0].start)
			overlap_error(last, &spec->week[d][0]);
	}
	if (nweekly == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("calendar has no weekly working windows"),
				 errdetail("An empty week has no business time to count."),
				 errhint("Give at least one weekly window, for example: zone=UTC; mon-fri 09:00-17:00")));
	return nweekly;
}

/* Holidays sorted, overlapping and adjacent ranges merged; recurring dates unique. */
static void
spec_normalise_holidays(CalSpec *spec)
{
	int			k;

	qsort(spec->hol, spec->nhol, sizeof(CalDateRange), cmp_range);
	k = 0;
	for (int i = 0; i < spec->nhol; i++)
	{
		if (k > 0 && spec->hol[i].first <= spec->hol[k - 1].last + 1)
			spec->hol[k - 1].last = Max(spec->hol[k - 1].last, spec->hol[i].last);
		else
			spec->hol[k++] = spec->hol[i];
	}
	spec->nhol = k;
	{
		int64		days = 0;

		for (int i = 0; i < spec->nhol; i++)
			days += (int64) spec->hol[i].last - spec->hol[i].first + 1;
		if (days > CAL_MAX_HOLIDAY_DAYS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("calendar has too many holiday dates: " INT64_FORMAT, days),
					 errdetail("A calendar holds at most %d dated holidays in all.", CAL_MAX_HOLIDAY_DAYS),
					 errhint("Keep the holidays of the years in use, for example: holiday 2026-10-01..2026-10-07")));
	}
	qsort(spec->rec, spec->nrec, sizeof(int32), cmp_int32);
	k = 0;
	for (int i = 0; i < spec->nrec; i++)
		if (k == 0 || spec->rec[i] != spec->rec[k - 1])
			spec->rec[k++] = spec->rec[i];
	spec->nrec = k;
}

/* Closures and make-up days: windows given, closures merged per date, make-up days unique. */
static void
spec_normalise_dated(CalSpec *spec)
{
	int			k;

	/* closures and make-up days have windows (binary input could omit them) */
	for (int kind = 0; kind < 2; kind++)
		for (int i = 0; i < (kind ? spec->nwork : spec->nclosed); i++)
		{
			SpecDated  *d = kind ? &spec->work[i] : &spec->closed[i];

			if (d->nw == 0)
			{
				StringInfoData buf;

				initStringInfo(&buf);
				appendStringInfoString(&buf, kind ? "workday " : "closed ");
				append_date(&buf, d->date);
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("calendar clause has no windows: \"%s\"", buf.data),
						 errhint("Give a date and windows, for example: %s",
								 kind ? "workday 2026-10-10 09:00-18:00" : "closed 2026-12-24 12:00-24:00")));
			}
		}

	/* closures: one entry per date, windows merged */
	qsort(spec->closed, spec->nclosed, sizeof(SpecDated), cmp_dated);
	k = 0;
	for (int i = 0; i < spec->nclosed; i++)
	{
		if (k > 0 && spec->closed[i].date == spec->closed[k - 1].date)
		{
			SpecDated  *t = &spec->closed[k - 1];

			for (int j = 0; j < spec->closed[i].nw; j++)
				*(CalWindow *) grow((void **) &t->w, &t->nw, &t->capw, sizeof(CalWindow)) = spec->closed[i].w[j];
		}
		else
			spec->closed[k++] = spec->closed[i];
	}
	spec->nclosed = k;
	for (int i = 0; i < spec->nclosed; i++)
		spec->closed[i].nw = merge_windows(spec->closed[i].w, spec->closed[i].nw);

	/* make-up days: unique dates, no overlap, never on a holiday */
	qsort(spec->work, spec->nwork, sizeof(SpecDated), cmp_dated);
	for (int i = 0; i < spec->nwork; i++)
	{
		check_day_windows(spec->work[i].w, spec->work[i].nw);
		if (i > 0 && spec->work[i].date == spec->work[i - 1].date)
		{
			StringInfoData buf;

			initStringInfo(&buf);
			append_date(&buf, spec->work[i].date);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("make-up working day listed twice in calendar: \"%s\"", buf.data),
					 errhint("Give each make-up day once with all its windows, for example: workday 2026-10-10 09:00-12:00,13:00-18:00")));
		}
	}
}

/* The varlena of a checked and normalised spec. */
static Calendar *
spec_serialise(const CalSpec *spec, int nweekly, const char *zone)
{
	int			nwin,
				k;
	Size		size;
	Calendar   *cal;
	CalWindow  *win;
	CalDateRange *hol;
	int32	   *rec;
	CalDated   *dated;

	nwin = nweekly;
	for (int i = 0; i < spec->nclosed; i++)
		nwin += spec->closed[i].nw;
	for (int i = 0; i < spec->nwork; i++)
		nwin += spec->work[i].nw;
	if (nwin > CAL_MAX_ENTRIES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("calendar has too many windows: %d", nwin),
				 errdetail("A calendar holds at most %d windows.", CAL_MAX_ENTRIES)));
	size = offsetof(Calendar, data) +
		nwin * sizeof(CalWindow) +
		spec->nhol * sizeof(CalDateRange) +
		spec->nrec * sizeof(int32) +
		(spec->nclosed + spec->nwork) * sizeof(CalDated) +
		strlen(zone) + 1;
	cal = palloc0(size);
	SET_VARSIZE(cal, size);
	cal->version = CAL_VERSION;
	cal->nwindows = nwin;
	cal->nholidays = spec->nhol;
	cal->nrecurring = spec->nrec;
	cal->nclosed = spec->nclosed;
	cal->nworkdays = spec->nwork;
	cal->zone_len = strlen(zone) + 1;

	win = (CalWindow *) cal_windows(cal);
	k = 0;
	for (int d = 0; d < 7; d++)
	{
		cal->week_first[d] = k;
		copy_n(win + k, spec->week[d], spec->nweek[d] * sizeof(CalWindow));
		k += spec->nweek[d];
	}
	cal->week_first[7] = k;
	hol = (CalDateRange *) cal_holidays(cal);
	copy_n(hol, spec->hol, spec->nhol * sizeof(CalDateRange));
	rec = (int32 *) cal_recurring(cal);
	copy_n(rec, spec->rec, spec->nrec * sizeof(int32));
	dated = (CalDated *) cal_closed(cal);
	for (int i = 0; i < spec->nclosed; i++, dated++)
	{
		dated->date = spec->closed[i].date;
		dated->first = k;
		dated->nwindows = spec->closed[i].nw;
		copy_n(win + k, spec->closed[i].w, spec->closed[i].nw * sizeof(CalWindow));
		k += spec->closed[i].nw;
	}
	for (int i = 0; i < spec->nwork; i++, dated++)
	{
		dated->date = spec->work[i].date;
		dated->first = k;
		dated->nwindows = spec->work[i].nw;
		copy_n(win + k, spec->work[i].w, spec->work[i].nw * sizeof(CalWindow));
		k += spec->work[i].nw;
	}
	memcpy((char *) cal_zone(cal), zone, strlen(zone) + 1);
	return cal;
}

/* A make-up day neither on a holiday nor overlapping its neighbours' overnight windows. */
static void
cal_check_workdays(const Calendar *cal)
{
	/* a make-up day on a holiday is a contradiction, not a preference */
	for (int i = 0; i < cal->nworkdays; i++)
	{
		int32		date = cal_workdays(cal)[i].date;

		if (cal_is_holiday(cal, date))
		{
			StringInfoData buf;

			initStringInfo(&buf);
			append_date(&buf, cal_workdays(cal)[i].date);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("make-up working day falls on a holiday in calendar: \"%s\"", buf.data),
					 errdetail("A date cannot be both a holiday and a make-up working day."),
					 errhint("Remove the date from the holidays or from the make-up days.")));
		}
		/* the previous date's overnight tail against this day, this tail against the next */
		for (int32 d = date - 1; d <= date; d++)
		{
			const CalWindow *a,
					   *b;
			int			na,
						nb;

			cal_own_windows(cal, d, &a, &na);
			cal_own_windows(cal, d + 1, &b, &nb);
			if (na > 0 && nb > 0 && a[na - 1].end - CAL_DAY_SECS > b[0].start)
				overlap_error(&a[na - 1], &b[0]);
		}
	}
}

static Calendar *
spec_build(CalSpec *spec)
{
	const char *zone = spec_zone(spec);
	int			nweekly = spec_check_week(spec);
	Calendar   *cal;

	spec_normalise_holidays(spec);
	spec_normalise_dated(spec);
	cal = spec_serialise(spec, nweekly, zone);
	cal_check_workdays(cal);
	return cal;
}

/* ---------- SQL interface ---------- */

/* Parse the text form of a calendar. */
PG_FUNCTION_INFO_V1(calendar_in);
Datum
calendar_in(PG_FUNCTION_ARGS)
{
	char	   *str = pstrdup(PG_GETARG_CSTRING(0));
	CalSpec		spec;
	char	   *clause;
	char	   *next;

	memset(&spec, 0, sizeof(spec));
	/* clauses between semicolons are never empty; one ";" may end the text */
	for (clause = str; clause; clause = next)
	{
		next = strchr(clause, ';');
		if (next)
			*next++ = '\0';
		clause = trim(clause);
		if (*clause)
			parse_clause(&spec, clause);
		else if (next != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("empty clause in calendar"),
					 errdetail("The text starts with \";\" or has two with nothing between them."),
					 errhint("Separate clauses with single semicolons, for example: %s", CAL_EXAMPLE)));
	}
	PG_RETURN_CALENDAR_P(spec_build(&spec));
}

/* The piece of a merged holiday range starting at f, at most CAL_MAX_RANGE_DAYS long. */
static CalDateRange
range_piece(const CalDateRange *r, int32 f)
{
	CalDateRange p;

	p.first = f;
	p.last = (int64) r->last - f + 1 > CAL_MAX_RANGE_DAYS ? f + CAL_MAX_RANGE_DAYS - 1 : r->last;
	return p;
}

/* Canonical text form: zone, weekly groups Monday first, holidays, closures, make-up days. */
PG_FUNCTION_INFO_V1(calendar_out);
Datum
calendar_out(PG_FUNCTION_ARGS)
{
	Calendar   *cal = PG_GETARG_CALENDAR_P(0);
	const CalWindow *win = cal_windows(cal);
	StringInfoData buf;
	int			d = 0;

	initStringInfo(&buf);
	appendStringInfo(&buf, "zone=%s", cal_zone(cal));
	while (d < 7)
	{
		int			n = cal->week_first[d + 1] - cal->week_first[d];
		int			e = d;

		if (n == 0)
		{
			d++;
			continue;
		}
		while (e + 1 < 7 &&
			   cal->week_first[e + 2] - cal->week_first[e + 1] == n &&
			   memcmp(win + cal->week_first[e + 1], win + cal->week_first[d],
					  n * sizeof(CalWindow)) == 0)
			e++;
		appendStringInfo(&buf, "; %s", weekday_names[d]);
		if (e > d)
			appendStringInfo(&buf, "-%s", weekday_names[e]);
		appendStringInfoChar(&buf, ' ');
		append_windows(&buf, win + cal->week_first[d], n);
		d = e + 1;
	}
	if (cal->nholidays + cal->nrecurring > 0)
	{
		const CalDateRange *h = cal_holidays(cal);
		const int32 *r = cal_recurring(cal);
		bool		first = true;

		appendStringInfoString(&buf, "; holiday ");

		for (int i = 0; i < cal->nholidays; i++)
		{
			CalDateRange piece;

			for (int32 f = h[i].first; f <= h[i].last; f = piece.last + 1)
			{
				piece = range_piece(&h[i], f);
				if (!first)
					appendStringInfoChar(&buf, ',');
				first = false;
				append_date(&buf, piece.first);
				if (piece.last != piece.first)
				{
					appendStringInfoString(&buf, "..");
					append_date(&buf, piece.last);
				}
			}
		}
		for (int i = 0; i < cal->nrecurring; i++)
			appendStringInfo(&buf, "%s*-%02d-%02d", (i > 0 || !first) ? "," : "",
							 r[i] / 100, r[i] % 100);
	}
	for (int i = 0; i < cal->nclosed; i++)
	{
		appendStringInfoString(&buf, "; closed ");
		append_date(&buf, cal_closed(cal)[i].date);
		appendStringInfoChar(&buf, ' ');
		append_windows(&buf, win + cal_closed(cal)[i].first, cal_closed(cal)[i].nwindows);
	}
	for (int i = 0; i < cal->nworkdays; i++)
	{
		appendStringInfoString(&buf, "; workday ");
		append_date(&buf, cal_workdays(cal)[i].date);
		appendStringInfoChar(&buf, ' ');
		append_windows(&buf, win + cal_workdays(cal)[i].first, cal_workdays(cal)[i].nwindows);
	}
	PG_RETURN_CSTRING(buf.data);
}

/*
 * Binary form, version 1: int8 version; text zone; for each weekday int16
 * count and (int32 start, int32 end) windows; int16 count and (int32 first,
 * int32 last) holiday ranges; int16 count and int32 month*100+day; then
 * closures and make-up days as int16 count and (int32 date, int16 count,
 * windows).  Dates are days since 2000-01-01, times seconds since midnight.
 */
PG_FUNCTION_INFO_V1(calendar_send);
Datum
calendar_send(PG_FUNCTION_ARGS)
{
	Calendar   *cal = PG_GETARG_CALENDAR_P(0);
	const CalWindow *win = cal_windows(cal);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint8(&buf, CAL_VERSION);
	pq_sendstring(&buf, cal_zone(cal));
	for (int d = 0; d < 7; d++)
	{
		pq_sendint16(&buf, cal->week_first[d + 1] - cal->week_first[d]);
		for (int i = cal->week_first[d]; i < cal->week_first[d + 1]; i++)
		{
			pq_sendint32(&buf, win[i].start);
			pq_sendint32(&buf, win[i].end);
		}
	}
	{
		const CalDateRange *h = cal_holidays(cal);
		int			npieces = 0;
		CalDateRange piece;

		for (int i = 0; i < cal->nholidays; i++)
			npieces += 1 + (h[i].last - h[i].first) / CAL_MAX_RANGE_DAYS;
		pq_sendint16(&buf, npieces);
		for (int i = 0; i < cal->nholidays; i++)
			for (int32 f = h[i].first; f <= h[i].last; f = piece.last + 1)
			{
				piece = range_piece(&h[i], f);
				pq_sendint32(&buf, piece.first);
				pq_sendint32(&buf, piece.last);
			}
	}
	pq_sendint16(&buf, cal->nrecurring);
	for (int i = 0; i < cal->nrecurring; i++)
		pq_sendint32(&buf, cal_recurring(cal)[i]);
	for (int kind = 0; kind < 2; kind++)
	{
		const CalDated *dd = kind == 0 ? cal_closed(cal) : cal_workdays(cal);
		int			n = kind == 0 ? cal->nclosed : cal->nworkdays;

		pq_sendint16(&buf, n);
		for (int i = 0; i < n; i++)
		{
			pq_sendint32(&buf, dd[i].date);
			pq_sendint16(&buf, dd[i].nwindows);
			for (int j = dd[i].first; j < dd[i].first + dd[i].nwindows; j++)
			{
				pq_sendint32(&buf, win[j].start);
				pq_sendint32(&buf, win[j].end);
			}
		}
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

static void
recv_window(StringInfo buf, CalWindow *w, bool overnight)
{
	w->start = pq_getmsgint(buf, 4);
	w->end = pq_getmsgint(buf, 4);
	/* same-day windows end by 24:00; overnight ones less than a day after start */
	if (w->start < 0 || w->start >= CAL_DAY_SECS || w->end <= w->start ||
		(w->end > CAL_DAY_SECS && (!overnight || w->end > w->start + CAL_DAY_SECS - 1)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid window in binary calendar: %d-%d seconds", w->start, w->end),
				 errdetail("Windows run from a start in [0, 86400) to a later end, at most one day on.")));
}

static int32
recv_date(StringInfo buf)
{
	int32		d = pq_getmsgint(buf, 4);

	/* the dates the text form can write: 0001-01-01 .. 9999-12-31 */
	if (d < (int32) (date2j(1, 1, 1) - POSTGRES_EPOCH_JDATE) ||
		d > (int32) (date2j(9999, 12, 31) - POSTGRES_EPOCH_JDATE))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid date in binary calendar: %d", d),
				 errdetail("Dates are days since 2000-01-01, from 0001-01-01 to 9999-12-31.")));
	return d;
}

PG_FUNCTION_INFO_V1(calendar_recv);
Datum
calendar_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	CalSpec		spec;
	int			version = pq_getmsgbyte(buf);

	if (version != CAL_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported binary calendar version %d", version),
				 errdetail("This build reads version %d.", CAL_VERSION)));
	memset(&spec, 0, sizeof(spec));
	spec.zone = pstrdup(pq_getmsgstring(buf));
	for (int d = 0; d < 7; d++)
	{
		int			n = pq_getmsgint(buf, 2);

		for (int i = 0; i < n; i++)
			recv_window(buf, grow((void **) &spec.week[d], &spec.nweek[d], &spec.capweek[d], sizeof(CalWindow)), true);
	}
	for (int i = 0, n = pq_getmsgint(buf, 2); i < n; i++)
	{
		CalDateRange *r = grow((void **) &spec.hol, &spec.nhol, &spec.caphol, sizeof(CalDateRange));

		r->first = recv_date(buf);
		r->last = recv_date(buf);
		if (r->last < r->first)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid holiday range in binary calendar: %d..%d", r->first, r->last)));
		check_range_length(r);
	}
	for (int i = 0, n = pq_getmsgint(buf, 2); i < n; i++)
	{
		int32		md = pq_getmsgint(buf, 4);

		if (md / 100 < 1 || md / 100 > 12 || md % 100 < 1 || md % 100 > day_tab[1][md / 100 - 1])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid every-year holiday in binary calendar: %d", md)));
		*(int32 *) grow((void **) &spec.rec, &spec.nrec, &spec.caprec, sizeof(int32)) = md;
	}
	for (int kind = 0; kind < 2; kind++)
	{
		for (int i = 0, n = pq_getmsgint(buf, 2); i < n; i++)
		{
			SpecDated  *d = kind == 0 ?
				grow((void **) &spec.closed, &spec.nclosed, &spec.capclosed, sizeof(SpecDated)) :
				grow((void **) &spec.work, &spec.nwork, &spec.capwork, sizeof(SpecDated));

			d->date = recv_date(buf);
			for (int j = 0, m = pq_getmsgint(buf, 2); j < m; j++)
				recv_window(buf, grow((void **) &d->w, &d->nw, &d->capw, sizeof(CalWindow)), kind == 1);
		}
	}
	PG_RETURN_CALENDAR_P(spec_build(&spec));
}

/* The calendar's time zone. */
PG_FUNCTION_INFO_V1(calendar_zone);
Datum
calendar_zone(PG_FUNCTION_ARGS)
{
	Calendar   *cal = PG_GETARG_CALENDAR_P(0);

	PG_RETURN_TEXT_P(cstring_to_text(cal_zone(cal)));
}

/* Equality of canonical forms (what the user wrote may differ in spelling). */
PG_FUNCTION_INFO_V1(calendar_eq);
Datum
calendar_eq(PG_FUNCTION_ARGS)
{
	Datum		a = PG_GETARG_DATUM(0);
	Datum		b = PG_GETARG_DATUM(1);
	Size		la = toast_raw_datum_size(a);
	bool		result = false;

	if (la == toast_raw_datum_size(b))
	{
		Calendar   *x = DatumGetCalendarP(a);
		Calendar   *y = DatumGetCalendarP(b);

		result = memcmp(x, y, VARSIZE(x)) == 0;
	}
	PG_RETURN_BOOL(result);
}
