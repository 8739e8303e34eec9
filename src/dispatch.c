/*
 * dispatch.c: positions and distances for dispatch and attendance.
 *
 * The great-circle distance between two positions (latitude and longitude
 * in degrees, WGS 84 taken as a sphere of radius 6371.0088 km, the mean
 * Earth radius) by the haversine formula.  It is exact enough for "is the
 * engineer near the site" (the sphere is off by at most 0.5%) and needs no
 * PostGIS.  The ranking of candidates (86_dispatch.sql) calls it once per
 * engineer, so it is C: a few floating-point operations, no allocation.
 * Also the length of a multirange of times, which the staff boards sum.
 */
#include "compat.h"

#include <math.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/multirangetypes.h"
#include "utils/rangetypes.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#define EARTH_RADIUS_KM 6371.0088

/* Refuse a latitude outside [-90, 90] or a longitude outside [-180, 180]. */
static inline void
check_position(const char *what, double lat, double lon)
{
	if (isnan(lat) || lat < -90.0 || lat > 90.0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("latitude of %s out of range: %g", what, lat),
				 errdetail("A latitude is in degrees, from -90 (south pole) to 90 (north pole)."),
				 errhint("For example Shanghai: latitude 31.2304, longitude 121.4737.")));
	if (isnan(lon) || lon < -180.0 || lon > 180.0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("longitude of %s out of range: %g", what, lon),
				 errdetail("A longitude is in degrees, from -180 (west) to 180 (east)."),
				 errhint("For example Shanghai: latitude 31.2304, longitude 121.4737.")));
}

static inline double
deg_to_rad(double deg)
{
	return deg * (M_PI / 180.0);
}

/* Great-circle distance in kilometres between two positions in degrees. */
static double
haversine_km(double lat1, double lon1, double lat2, double lon2)
{
	double		dlat = deg_to_rad(lat2 - lat1);
	double		dlon = deg_to_rad(lon2 - lon1);
	double		s1 = sin(dlat / 2.0);
	double		s2 = sin(dlon / 2.0);
	double		a = s1 * s1 + cos(deg_to_rad(lat1)) * cos(deg_to_rad(lat2)) * s2 * s2;

	/* rounding can push a a hair past 1 for antipodal points */
	if (a > 1.0)
		a = 1.0;
	return 2.0 * EARTH_RADIUS_KM * asin(sqrt(a));
}

/* aftersales.distance_km(lat1, lon1, lat2, lon2): haversine distance in km */
PG_FUNCTION_INFO_V1(aftersales_distance_km);
Datum
aftersales_distance_km(PG_FUNCTION_ARGS)
{
	double		lat1 = PG_GETARG_FLOAT8(0);
	double		lon1 = PG_GETARG_FLOAT8(1);
	double		lat2 = PG_GETARG_FLOAT8(2);
	double		lon2 = PG_GETARG_FLOAT8(3);

	check_position("the first position", lat1, lon1);
	check_position("the second position", lat2, lon2);
	PG_RETURN_FLOAT8(haversine_km(lat1, lon1, lat2, lon2));
}

/* aftersales.check_position(lat, lon): true, or an error naming the value */
PG_FUNCTION_INFO_V1(aftersales_check_position);
Datum
aftersales_check_position(PG_FUNCTION_ARGS)
{
	/* a NULL position is "unknown", which the columns allow */
	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_BOOL(true);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a position needs both latitude and longitude"),
				 errhint("Give both, or neither when the position is unknown: latitude 31.2304, longitude 121.4737.")));
	check_position("the position", PG_GETARG_FLOAT8(0), PG_GETARG_FLOAT8(1));
	PG_RETURN_BOOL(true);
}

/*
 * aftersales_internal.distance_score(km, max_km): 1 at the site, falling
 * linearly to 0 at max_km and beyond; 0 when the distance is unknown.
 */
PG_FUNCTION_INFO_V1(aftersales_distance_score);
Datum
aftersales_distance_score(PG_FUNCTION_ARGS)
{
	double		km;
	double		max_km = PG_GETARG_FLOAT8(1);

	if (PG_ARGISNULL(0))
		PG_RETURN_FLOAT8(0.0);
	km = PG_GETARG_FLOAT8(0);
	if (!(max_km > 0.0) || isnan(km) || km >= max_km)
		PG_RETURN_FLOAT8(0.0);
	if (km <= 0.0)
		PG_RETURN_FLOAT8(1.0);
	PG_RETURN_FLOAT8(1.0 - km / max_km);
}

/*
 * aftersales_internal.range_hours(tstzmultirange): total length in hours.
 * The staff boards sum it per engineer and day (on duty, busy, holding,
 * idle): tens of thousands of calls per view, so C rather than a SQL
 * function over unnest().  Unbounded ranges count nothing.
 */
PG_FUNCTION_INFO_V1(aftersales_range_hours);
Datum
aftersales_range_hours(PG_FUNCTION_ARGS)
{
	MultirangeType *mr = PG_GETARG_MULTIRANGE_P(0);
	TypeCacheEntry *typcache = multirange_get_typcache(fcinfo, MultirangeTypeGetOid(mr));
	double		seconds = 0.0;

	for (uint32 i = 0; i < mr->rangeCount; i++)
	{
		RangeBound	lower;
		RangeBound	upper;

		multirange_get_bounds(typcache->rngtype, mr, i, &lower, &upper);
		if (lower.infinite || upper.infinite)
			continue;
		seconds += (double) (DatumGetTimestampTz(upper.val) - DatumGetTimestampTz(lower.val)) / USECS_PER_SEC;
	}
	PG_RETURN_FLOAT8(seconds / 3600.0);
}
