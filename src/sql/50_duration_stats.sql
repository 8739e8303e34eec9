
-- aftersales install script, part 50: the duration-distribution aggregate.

CREATE TYPE aftersales.duration_summary AS (
    n     bigint,
    mean  double precision,
    p50   double precision,
    p90   double precision,
    p95   double precision,
    max   double precision
);
COMMENT ON TYPE aftersales.duration_summary IS
  'Distribution of durations: count, mean, median, 90th and 95th percentiles (within 0.5% relative error) and maximum, in the unit of the input';

CREATE FUNCTION aftersales_internal.duration_stats_trans(internal, double precision) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION aftersales_internal.duration_stats_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION aftersales_internal.duration_stats_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION aftersales_internal.duration_stats_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION aftersales_internal.duration_stats_final(internal) RETURNS aftersales.duration_summary
    AS 'MODULE_PATHNAME' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;

CREATE AGGREGATE aftersales.duration_stats(double precision) (
    SFUNC = aftersales_internal.duration_stats_trans,
    STYPE = internal,
    FINALFUNC = aftersales_internal.duration_stats_final,
    COMBINEFUNC = aftersales_internal.duration_stats_combine,
    SERIALFUNC = aftersales_internal.duration_stats_serialize,
    DESERIALFUNC = aftersales_internal.duration_stats_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE aftersales.duration_stats(double precision) IS
  'Distribution of durations (e.g. minutes): count, mean, p50, p90, p95 within 0.5% relative error, max; parallel safe and exactly mergeable';
