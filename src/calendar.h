/*
 * calendar.h: the business calendar type, shared by calendar.c (the type:
 * parsing, validation, text and binary I/O) and business_time.c (the
 * arithmetic: business_add, business_diff and friends).
 *
 * A calendar is an IANA time zone plus, in local wall-clock time:
 *   - working windows per weekday, several a day, overnight windows that end
 *     after midnight (22:00-06:00), 00:00-24:00 for around the clock;
 *   - holidays: single dates and inclusive ranges, and month-days recurring
 *     every year;
 *   - partial-day closures (a half day on 24 Dec);
 *   - make-up working days (调休): a date whose windows replace the weekly
 *     ones, typically a Saturday or Sunday that is worked.
 */
#ifndef AFTERSALES_CALENDAR_H
#define AFTERSALES_CALENDAR_H

#include "compat.h"

#include "fmgr.h"
#include "pgtime.h"

#define CAL_VERSION			1
#define CAL_DAY_SECS		86400
#define CAL_DAY_USECS		INT64CONST(86400000000)

/* A window in seconds since local midnight; an overnight one has end > 86400. */
typedef struct CalWindow
{
	int32		start;
	int32		end;
} CalWindow;

/* An inclusive range of dates (DateADT: days since 2000-01-01). */
typedef struct CalDateRange
{
	int32		first;
	int32		last;
} CalDateRange;

/* A dated entry (closure or make-up day) owning windows[first .. first+n). */
typedef struct CalDated
{
	int32		date;
	uint16		first;
	uint16		nwindows;
} CalDated;

/*
 * On-disk form.  Variable parts follow the header, in this order:
 *   CalWindow    windows[nwindows]      weekly ones first, grouped by weekday
 *   CalDateRange holidays[nholidays]    sorted, disjoint, non-adjacent
 *   int32        recurring[nrecurring]  month * 100 + day, sorted, unique
 *   CalDated     closed[nclosed]        sorted by date, unique dates
 *   CalDated     workdays[nworkdays]    sorted by date, unique dates
 *   char         zone[zone_len]         canonical zone name, NUL-terminated
 * Everything is validated on the way in (text or binary), so readers trust it.
 */
typedef struct Calendar
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	uint8		version;		/* CAL_VERSION */
	uint8		reserved[3];	/* reserved for future use, always zero */
	uint16		week_first[8];	/* weekday d (0 = Monday) owns windows
								 * [week_first[d], week_first[d + 1]) */
	uint16		nwindows;
	uint16		nholidays;
	uint16		nrecurring;
	uint16		nclosed;
	uint16		nworkdays;
	uint16		zone_len;		/* including the NUL */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} Calendar;

static inline const CalWindow *
cal_windows(const Calendar *cal)
{
	return (const CalWindow *) cal->data;
}

static inline const CalDateRange *
cal_holidays(const Calendar *cal)
{
	return (const CalDateRange *) (cal->data + cal->nwindows * sizeof(CalWindow));
}

static inline const int32 *
cal_recurring(const Calendar *cal)
{
	return (const int32 *) (cal_holidays(cal) + cal->nholidays);
}

static inline const CalDated *
cal_closed(const Calendar *cal)
{
	return (const CalDated *) (cal_recurring(cal) + cal->nrecurring);
}

static inline const CalDated *
cal_workdays(const Calendar *cal)
{
	return cal_closed(cal) + cal->nclosed;
}

static inline const char *
cal_zone(const Calendar *cal)
{
	return (const char *) (cal_workdays(cal) + cal->nworkdays);
}

#define DatumGetCalendarP(x)	((Calendar *) PG_DETOAST_DATUM(x))
#define PG_GETARG_CALENDAR_P(n) DatumGetCalendarP(PG_GETARG_DATUM(n))
#define PG_RETURN_CALENDAR_P(x) PG_RETURN_POINTER(x)

/* Floor division and modulo, for dates and times before 2000-01-01. */
static inline int64
cal_floordiv(int64 a, int64 b)
{
	int64		q = a / b;

	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static inline int64
cal_floormod(int64 a, int64 b)
{
	return a - cal_floordiv(a, b) * b;
}

/* Weekday of a DateADT, 0 = Monday (2000-01-03 was a Monday). */
static inline int
cal_weekday(int32 date)
{
	return (int) cal_floormod((int64) date - 2, 7);
}

/* calendar.c */
extern pg_tz *cal_lookup_zone(const char *name, bool missing_ok);
extern bool cal_is_holiday(const Calendar *cal, int32 date);
extern const CalDated *cal_find_dated(const CalDated *arr, int n, int32 date);
extern void cal_own_windows(const Calendar *cal, int32 date, const CalWindow **w, int *n);

#endif							/* AFTERSALES_CALENDAR_H */
