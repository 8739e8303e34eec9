/*
 * duration_stats.c: the distribution of durations (response, arrival,
 * resolution times) as a parallel-safe aggregate: count, mean, p50, p90,
 * p95 and max, in the unit of its input.
 *
 * Quantiles come from a log-bucketed sketch (the DDSketch idea): a value x > 0
 * falls in bucket ceil(log_gamma(x)), gamma = (1 + a) / (1 - a), and a bucket
 * is represented by the value whose relative distance to both of its edges
 * is a.  So every quantile is within relative error a (0.5%) of a value at
 * that rank, whatever the data, and two states merge exactly by adding
 * counts: partial aggregates, combine and GROUP BY rollups all agree.
 * Buckets are stored densely between the lowest and highest used, so a
 * state covering seconds to months stays a few kilobytes.
 */
#include "compat.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/float.h"

#define DS_ALPHA		0.005
#define DS_MIN_VALUE	1e-9	/* smaller values count as zero */
#define DS_WIRE_VERSION 1

typedef struct DurationState
{
	int64		count;			/* all non-null inputs */
	int64		zeros;			/* inputs below DS_MIN_VALUE */
	double		sum;
	double		min;
	double		max;
	int32		lo;				/* bucket index of counts[0] */
	int32		nbuckets;		/* used length of counts */
	int32		capacity;
	int64	   *counts;
} DurationState;

static double ds_gamma = 0.0;
static double ds_inv_log_gamma = 0.0;

static inline void
ds_init_constants(void)
{
	if (ds_gamma == 0.0)
	{
		ds_gamma = (1.0 + DS_ALPHA) / (1.0 - DS_ALPHA);
		ds_inv_log_gamma = 1.0 / log(ds_gamma);
	}
}

static inline int32
ds_index(double x)
{
	return (int32) ceil(log(x) * ds_inv_log_gamma);
}

/* The value representing bucket i: relative error DS_ALPHA to either edge. */
static inline double
ds_value(int32 i)
{
	return 2.0 * pow(ds_gamma, i) / (ds_gamma + 1.0);
}

static DurationState *
ds_new(MemoryContext mcxt)
{
	return MemoryContextAllocZero(mcxt, sizeof(DurationState));
}

/* Make room for bucket i, growing the dense range at either end. */
static void
ds_reserve(DurationState *s, int32 i, MemoryContext mcxt)
{
	int32		newlo,
				newhi,
				need;
	int64	   *counts;

	if (s->nbuckets == 0)
	{
		s->capacity = 64;
		s->counts = MemoryContextAllocZero(mcxt, sizeof(int64) * s->capacity);
		s->lo = i - 16;
		s->nbuckets = 33;
		return;
	}
	if (i >= s->lo && i < s->lo + s->nbuckets)
		return;
	newlo = Min(s->lo, i);
	newhi = Max(s->lo + s->nbuckets, i + 1);
	need = newhi - newlo;
	if (need <= s->capacity && newlo == s->lo)
	{
		s->nbuckets = need;		/* grows upward within capacity; zeroed */
		return;
	}
	/* leave slack on the growing side so growth is amortised */
	if (i < s->lo)
		newlo -= need / 2;
	else
		newhi += need / 2;
	need = newhi - newlo;
	counts = MemoryContextAllocZero(mcxt, sizeof(int64) * need);
	memcpy(counts + (s->lo - newlo), s->counts, sizeof(int64) * s->nbuckets);
	if (s->counts)
		pfree(s->counts);
	s->counts = counts;
	s->capacity = need;
	s->lo = newlo;
	s->nbuckets = need;
}

static inline void
ds_add_bucket(DurationState *s, int32 i, int64 n, MemoryContext mcxt)
{
	ds_reserve(s, i, mcxt);
	s->counts[i - s->lo] += n;
}

static MemoryContext
ds_agg_context(FunctionCallInfo fcinfo, const char *fn)
{
	MemoryContext mcxt;

	if (!AggCheckCallContext(fcinfo, &mcxt))
		elog(ERROR, "%s called in non-aggregate context", fn);
	return mcxt;
}

/* Transition: add one duration (NULLs are skipped, negatives rejected). */
PG_FUNCTION_INFO_V1(duration_stats_trans);
Datum
duration_stats_trans(PG_FUNCTION_ARGS)
{
	MemoryContext mcxt = ds_agg_context(fcinfo, "duration_stats_trans");
	DurationState *s = PG_ARGISNULL(0) ? NULL : (DurationState *) PG_GETARG_POINTER(0);
	double		x;

	if (PG_ARGISNULL(1))
	{
		if (s == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(s);
	}
	x = PG_GETARG_FLOAT8(1);
	if (isnan(x) || isinf(x) || x < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("duration must be a finite number zero or above: %g", x),
				 errhint("Pass elapsed minutes, for example: aftersales.duration_stats(resolution_minutes)")));
	ds_init_constants();
	if (s == NULL)
		s = ds_new(mcxt);
	s->count++;
	s->sum += x;
	if (x > s->max || s->count == 1)
		s->max = x;
	if (x < s->min || s->count == 1)
		s->min = x;
	if (x < DS_MIN_VALUE)
		s->zeros++;
	else
		ds_add_bucket(s, ds_index(x), 1, mcxt);
	PG_RETURN_POINTER(s);
}

/* Combine: exact, by adding bucket counts.  Non-strict, as timescaledb's. */
PG_FUNCTION_INFO_V1(duration_stats_combine);
Datum
duration_stats_combine(PG_FUNCTION_ARGS)
{
	MemoryContext mcxt = ds_agg_context(fcinfo, "duration_stats_combine");
	DurationState *a = PG_ARGISNULL(0) ? NULL : (DurationState *) PG_GETARG_POINTER(0);
	DurationState *b = PG_ARGISNULL(1) ? NULL : (DurationState *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = ds_new(mcxt);		/* copy into the aggregate context */
	if (b->count > 0 && (a->count == 0 || b->max > a->max))
		a->max = b->max;
	if (b->count > 0 && (a->count == 0 || b->min < a->min))
		a->min = b->min;
	a->count += b->count;
	a->zeros += b->zeros;
	a->sum += b->sum;
	for (int32 i = 0; i < b->nbuckets; i++)
		if (b->counts[i] != 0)
			ds_add_bucket(a, b->lo + i, b->counts[i], mcxt);
	PG_RETURN_POINTER(a);
}

/*
 * Wire format, version 1: int32 version, int64 count, int64 zeros, float8
 * sum, float8 min, float8 max, int32 number of non-empty buckets, then (int32 index,
 * int64 count) pairs in increasing index order.
 */
PG_FUNCTION_INFO_V1(duration_stats_serialize);
Datum
duration_stats_serialize(PG_FUNCTION_ARGS)
{
	DurationState *s = (DurationState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	int32		used = 0;

	for (int32 i = 0; i < s->nbuckets; i++)
		used += s->counts[i] != 0;
	pq_begintypsend(&buf);
	pq_sendint32(&buf, DS_WIRE_VERSION);
	pq_sendint64(&buf, s->count);
	pq_sendint64(&buf, s->zeros);
	pq_sendfloat8(&buf, s->sum);
	pq_sendfloat8(&buf, s->min);
	pq_sendfloat8(&buf, s->max);
	pq_sendint32(&buf, used);
	for (int32 i = 0; i < s->nbuckets; i++)
		if (s->counts[i] != 0)
		{
			pq_sendint32(&buf, s->lo + i);
			pq_sendint64(&buf, s->counts[i]);
		}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(duration_stats_deserialize);
Datum
duration_stats_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext mcxt = ds_agg_context(fcinfo, "duration_stats_deserialize");
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	DurationState *s = ds_new(mcxt);
	int32		version,
				used;

	ds_init_constants();
	buf.data = VARDATA_ANY(bytes);
	buf.len = VARSIZE_ANY_EXHDR(bytes);
	buf.maxlen = buf.len;
	buf.cursor = 0;
	version = pq_getmsgint(&buf, 4);
	if (version != DS_WIRE_VERSION)
		elog(ERROR, "unsupported duration_stats state version %d", version);
	s->count = pq_getmsgint64(&buf);
	s->zeros = pq_getmsgint64(&buf);
	s->sum = pq_getmsgfloat8(&buf);
	s->min = pq_getmsgfloat8(&buf);
	s->max = pq_getmsgfloat8(&buf);
	used = pq_getmsgint(&buf, 4);
	for (int32 k = 0; k < used; k++)
	{
		int32		i = pq_getmsgint(&buf, 4);
		int64		n = pq_getmsgint64(&buf);

		ds_add_bucket(s, i, n, mcxt);
	}
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(s);
}

/*
 * The value at 0-based rank r (0 <= r < count) in sorted order, kept within
 * the observed [min, max] so that one value reports itself exactly.
 */
static double
ds_value_at_rank(const DurationState *s, int64 r)
{
	int64		seen = s->zeros;

	if (r < seen)
		return 0.0;
	for (int32 i = 0; i < s->nbuckets; i++)
	{
		seen += s->counts[i];
		if (r < seen)
			return Max(Min(ds_value(s->lo + i), s->max), s->min);
	}
	return s->max;
}

/* Quantile q in [0, 1], interpolated between ranks like percentile_cont. */
static double
ds_quantile(const DurationState *s, double q)
{
	double		r = q * (double) (s->count - 1);
	int64		lo = (int64) floor(r);
	int64		hi = (int64) ceil(r);
	double		vlo = ds_value_at_rank(s, lo);

	if (hi == lo)
		return vlo;
	return vlo + (r - lo) * (ds_value_at_rank(s, hi) - vlo);
}

/* Final: (n, mean, p50, p90, p95, max); NULL fields when there is no input. */
PG_FUNCTION_INFO_V1(duration_stats_final);
Datum
duration_stats_final(PG_FUNCTION_ARGS)
{
	DurationState *s = PG_ARGISNULL(0) ? NULL : (DurationState *) PG_GETARG_POINTER(0);
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "duration_stats_final must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	ds_init_constants();
	if (s == NULL || s->count == 0)
	{
		values[0] = Int64GetDatum(0);
		for (int i = 1; i < 6; i++)
			nulls[i] = true;
	}
	else
	{
		values[0] = Int64GetDatum(s->count);
		values[1] = Float8GetDatum(s->sum / (double) s->count);
		values[2] = Float8GetDatum(ds_quantile(s, 0.50));
		values[3] = Float8GetDatum(ds_quantile(s, 0.90));
		values[4] = Float8GetDatum(ds_quantile(s, 0.95));
		values[5] = Float8GetDatum(s->max);
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
