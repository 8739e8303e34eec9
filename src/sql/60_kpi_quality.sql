
-- aftersales install script, part 60: product quality.
--
--   kpi_failures        failures (tickets entered, not cancelled) by period
--                       and dimension (region, province, product model,
--                       problem (fault) type ...), split into early,
--                       in-warranty and out-of-warranty failures, ranked
--                       within the period (top N: the map's top 5
--                       provinces);
--   kpi_warranty_trend  early, in-warranty and out-of-warranty failures per
--                       period against the tenant's warning lines (by default
--                       400, 600 and 600 units a month).
--
-- A failure's warranty class is decided on the date of entry, in the zone
-- the periods are cut in, from the ticket's unit:
--   early            0 <= entry date - units.installed_on <= setting
--                    early_failure_days (default 90);
--   in_warranty      otherwise, entry date <= the warranty's last day:
--                    units.warranty_ends, else installed_on plus the
--                    model's warranty_months, less one day;
--   out_of_warranty  otherwise, after that day;
--   unknown          no unit, or neither dates.
-- The classes do not overlap and add up to the failures.

CREATE FUNCTION aftersales.kpi_failures(period text, dimension text, since timestamptz, until timestamptz,
                                        zone text DEFAULT pg_catalog.current_setting('TimeZone'),
                                        tenant bigint DEFAULT aftersales.current_tenant(),
                                        top integer DEFAULT NULL)
    RETURNS TABLE (period_start date, dim_key text, dim_name text, failures bigint, early_failures bigint,
                   in_warranty_failures bigint, out_of_warranty_failures bigint, warranty_unknown bigint,
                   rank bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d record;
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_failures',
        'SELECT * FROM aftersales.kpi_failures(''month'', ''province'', ''2026-01-01'', ''2027-01-01'', top => 5);',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,priority,channel}',
        since, until, NULL, zone, tenant);
    IF top IS NOT NULL AND top < 1 THEN
        RAISE EXCEPTION 'top must be positive, not %', top
            USING ERRCODE = '22023',
                  HINT = 'top => 5 keeps the five dimension values with the most failures in each period; NULL keeps them all.';
    END IF;
    d := aftersales_internal.kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT r.period_start, r.dim_key, r.dim_name, r.failures, r.early, r.inw, r.outw, r.unknown, r.rank
  FROM (SELECT a.*, pg_catalog.row_number() OVER (PARTITION BY a.period_start
                                                   ORDER BY a.failures DESC, %4$s) AS rank
          FROM (SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name,
                       pg_catalog.count(*) AS failures,
                       pg_catalog.count(*) FILTER (WHERE w.class = 'early') AS early,
                       pg_catalog.count(*) FILTER (WHERE w.class = 'in_warranty') AS inw,
                       pg_catalog.count(*) FILTER (WHERE w.class = 'out_of_warranty') AS outw,
                       pg_catalog.count(*) FILTER (WHERE w.class = 'unknown') AS unknown
                  FROM aftersales._kpi_ticket_dims k
                  JOIN aftersales_internal.kpi_config($1) g ON g.tenant_id = k.tenant_id
                  LEFT JOIN aftersales.units u ON u.tenant_id = k.tenant_id AND u.unit_id = k.unit_id
                  LEFT JOIN aftersales.product_models um ON um.tenant_id = u.tenant_id AND um.model_id = u.model_id
                 CROSS JOIN LATERAL (
                       SELECT CASE
                                WHEN x.entry - u.installed_on BETWEEN 0 AND g.early_failure_days THEN 'early'
                                WHEN x.warranty_end IS NULL THEN 'unknown'
                                WHEN x.entry <= x.warranty_end THEN 'in_warranty'
                                ELSE 'out_of_warranty' END AS class
                         FROM (SELECT pg_catalog.timezone($4, k.opened_at)::date AS entry,
                                      COALESCE(u.warranty_ends,
                                               (u.installed_on + pg_catalog.make_interval(months => um.warranty_months))::date - 1)
                                          AS warranty_end) x) w
                 WHERE ($1::bigint IS NULL OR k.tenant_id = $1) AND k.opened_at >= $2 AND k.opened_at < $3
                   AND k.status <> 'cancelled'
                 GROUP BY 1, 2) a) r
 WHERE $5::integer IS NULL OR r.rank <= $5
 ORDER BY r.period_start, r.rank$q$,
        aftersales_internal.kpi_period_sql(period, 'k.opened_at', 4), d.key_sql, d.name_sql,
        pg_catalog.replace(d.order_sql, 'q.', 'a.'))
    USING tenant, since, until, zone, top;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_failures(text, text, timestamptz, timestamptz, text, bigint, integer) IS
  'Failures (tickets entered in [since, until), not cancelled) by period and dimension, split into early, in-warranty, out-of-warranty and unknown; rank 1 has the most failures in its period (ties by key); top => N keeps ranks 1 to N';

CREATE FUNCTION aftersales.kpi_warranty_trend(period text, since timestamptz, until timestamptz,
                                              zone text DEFAULT pg_catalog.current_setting('TimeZone'),
                                              tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (period_start date, tenant_id bigint, failures bigint,
                   early_failures bigint, early_failure_warning numeric, early_failure_alert integer,
                   in_warranty_failures bigint, in_warranty_warning numeric, in_warranty_alert integer,
                   out_of_warranty_failures bigint, out_of_warranty_warning numeric, out_of_warranty_alert integer,
                   warranty_unknown bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_warranty_trend',
        'SELECT * FROM aftersales.kpi_warranty_trend(''month'', ''2026-01-01'', ''2026-07-01'');',
        period, NULL, NULL, since, until, NULL, zone, tenant);
    -- Every period of a bounded range has a row, with zeros when nothing failed.
    RETURN QUERY
    WITH f AS (
        SELECT x.period_start, x.dim_key::bigint AS tenant_id, x.failures, x.early_failures,
               x.in_warranty_failures, x.out_of_warranty_failures, x.warranty_unknown
          FROM aftersales.kpi_failures(kpi_warranty_trend.period, 'tenant', kpi_warranty_trend.since,
                                       kpi_warranty_trend.until, kpi_warranty_trend.zone,
                                       kpi_warranty_trend.tenant) x
    ), periods AS (
        SELECT f.period_start FROM f
        UNION
        SELECT p::date
          FROM pg_catalog.generate_series(
                   pg_catalog.date_trunc(kpi_warranty_trend.period,
                                         pg_catalog.timezone(kpi_warranty_trend.zone, kpi_warranty_trend.since)),
                   pg_catalog.timezone(kpi_warranty_trend.zone, kpi_warranty_trend.until) - interval '1 microsecond',
                   CASE kpi_warranty_trend.period WHEN 'quarter' THEN interval '3 months'
                        ELSE ('1 ' || kpi_warranty_trend.period)::interval END) p
         WHERE kpi_warranty_trend.period <> 'all'
           AND pg_catalog.isfinite(kpi_warranty_trend.since) AND pg_catalog.isfinite(kpi_warranty_trend.until)
        UNION
        SELECT NULL::date WHERE kpi_warranty_trend.period = 'all'
    )
    SELECT p.period_start, g.tenant_id, COALESCE(f.failures, 0),
           COALESCE(f.early_failures, 0), g.early_failure_warning,
           (COALESCE(f.early_failures, 0) >= g.early_failure_warning)::integer,
           COALESCE(f.in_warranty_failures, 0), g.in_warranty_warning,
           (COALESCE(f.in_warranty_failures, 0) >= g.in_warranty_warning)::integer,
           COALESCE(f.out_of_warranty_failures, 0), g.out_of_warranty_warning,
           (COALESCE(f.out_of_warranty_failures, 0) >= g.out_of_warranty_warning)::integer,
           COALESCE(f.warranty_unknown, 0)
      FROM periods p
     CROSS JOIN aftersales_internal.kpi_config(kpi_warranty_trend.tenant) g
      LEFT JOIN f ON f.period_start IS NOT DISTINCT FROM p.period_start AND f.tenant_id = g.tenant_id
     WHERE f.tenant_id IS NOT NULL OR kpi_warranty_trend.tenant IS NOT NULL
     ORDER BY p.period_start, g.tenant_id;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_warranty_trend(text, timestamptz, timestamptz, text, bigint) IS
  'Early, in-warranty and out-of-warranty failures per period against the tenant''s warning lines (settings early_failure_warning, in_warranty_warning, out_of_warranty_warning); an alert is 1 when the count reaches its line; every period of a bounded range has a row';
