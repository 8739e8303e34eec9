
-- aftersales install script, part 60: service and staff KPIs by period and
-- dimension.
--
--   kpi_service   every service KPI (rates, durations, first-time fix,
--                 closed loop, repeats, reopens, CSAT, NPS): the aggregate
--                 of kpi_ticket_facts (60_kpi.sql), where each is defined;
--   kpi_headline  the headline subset that the ticket row alone decides
--                 (response, arrival and completion rates, closed loop,
--                 reopens, CSAT, NPS), in one pass over the tickets without
--                 the clocks or the event log: the dashboard's fast path,
--                 taken when no ticket of the range changed after as_of
--                 (else kpi_service's snapshot).  It gives the same numbers
--                 as kpi_service (tested);
--   kpi_staff     per engineer: tickets, handling time, first-time fix;
--   kpi_dispatch  dispatch volume (assignment events), dated by the event;
--   kpi_durations distributions (n, mean, p50, p90, p95, max) of the
--                 durations behind AFR, ART, MTTR and handling time, with
--                 the duration_stats aggregate.
-- Periods, dimensions, ranges, as_of and tenant: see 60_kpi.sql.  No C
-- aggregate of our own: rates are count(*) FILTER / avg of 0/1 flags, which
-- SQL does in one pass; distributions use duration_stats.

CREATE FUNCTION aftersales.kpi_service(period text, dimension text, since timestamptz, until timestamptz,
                                       as_of timestamptz DEFAULT aftersales.now(),
                                       zone text DEFAULT NULL,
                                       tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (period_start date, dim_key text, dim_name text,
                   tickets bigint, cancelled bigint, resolved bigint, closed bigint, unresolved bigint,
                   response_rate numeric, arrival_rate numeric, completion_rate numeric,
                   on_time_completion_rate numeric,
                   sla_first_contact_rate numeric, sla_arrival_rate numeric, sla_resolution_rate numeric,
                   avg_first_response_minutes numeric, avg_first_response_business_minutes numeric,
                   avg_resolution_minutes numeric, avg_resolution_business_minutes numeric,
                   mttr_minutes numeric, mttr_business_minutes numeric,
                   first_time_fix_rate numeric, closed_loop_rate numeric, problem_resolution_rate numeric,
                   repeat_problem_rate numeric,
                   reopen_rate numeric, csat_avg numeric, csat_good_share numeric, nps numeric,
                   csat_responses bigint, nps_responses bigint)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    d record;
    grain text;
BEGIN
    zone := COALESCE(zone, aftersales.reporting_zone(tenant));
    PERFORM aftersales_internal.kpi_check('kpi_service',
        'SELECT * FROM aftersales.kpi_service(''month'', ''region'', ''2026-01-01'', ''2027-01-01'');',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        since, until, as_of, zone, tenant);
    -- the incremental rollups (65_kpi_rollup.sql) when they answer exactly
    grain := aftersales_internal.rollup_grain(period, since, until, as_of, zone, tenant);
    IF grain IS NOT NULL THEN
        RETURN QUERY SELECT * FROM aftersales_internal.rollup_service(period, dimension, since, until, as_of,
                                                                          zone, tenant, grain);
        RETURN;
    END IF;
    d := aftersales_internal.kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name,
       pg_catalog.count(*) AS tickets,
       pg_catalog.sum(k.cancelled)::bigint AS cancelled,
       pg_catalog.count(k.resolution_minutes) AS resolved,
       pg_catalog.count(*) FILTER (WHERE k.status = 'closed') AS closed,
       pg_catalog.count(*) FILTER (WHERE k.status NOT IN ('resolved', 'closed', 'cancelled')) AS unresolved,
       pg_catalog.round(pg_catalog.avg(k.responded_in_target), 4),
       pg_catalog.round(pg_catalog.avg(k.arrived_in_target), 4),
       pg_catalog.round(pg_catalog.avg(k.completed_in_target), 4),
       pg_catalog.round(pg_catalog.avg(k.completed_on_time), 4),
       pg_catalog.round(pg_catalog.count(*) FILTER (WHERE k.sla_first_response = 'met')::numeric
                        / NULLIF(pg_catalog.count(*) FILTER (WHERE k.sla_first_response IN ('met', 'breached')), 0), 4),
       pg_catalog.round(pg_catalog.count(*) FILTER (WHERE k.sla_arrival = 'met')::numeric
                        / NULLIF(pg_catalog.count(*) FILTER (WHERE k.sla_arrival IN ('met', 'breached')), 0), 4),
       pg_catalog.round(pg_catalog.count(*) FILTER (WHERE k.sla_resolution = 'met')::numeric
                        / NULLIF(pg_catalog.count(*) FILTER (WHERE k.sla_resolution IN ('met', 'breached')), 0), 4),
       pg_catalog.round(pg_catalog.avg(k.response_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.response_business_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.resolution_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.resolution_business_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.repair_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.repair_business_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.first_time_fix), 4),
       pg_catalog.round(pg_catalog.avg(k.closed_loop), 4),
       pg_catalog.round(pg_catalog.avg((k.status IN ('resolved', 'closed'))::integer) FILTER (WHERE k.cancelled = 0), 4),
       pg_catalog.round(pg_catalog.avg(k.repeat_problem), 4),
       pg_catalog.round(pg_catalog.avg(k.reopened), 4),
       pg_catalog.round(pg_catalog.avg(k.csat_score), 2),
       pg_catalog.round(pg_catalog.avg(k.csat_good), 4),
       pg_catalog.round(100 * (pg_catalog.avg(k.nps_promoter) - pg_catalog.avg(k.nps_detractor)), 1),
       pg_catalog.count(k.csat_score),
       pg_catalog.count(k.nps_score)
  FROM aftersales.kpi_ticket_facts($2, $3, $4, $1) k
 GROUP BY 1, 2) q
 ORDER BY q.period_start, %4$s$q$,
        aftersales_internal.kpi_period_sql(period, 'k.opened_at', 5), d.key_sql, d.name_sql, d.order_sql)
    USING tenant, since, until, as_of, zone;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_service(text, text, timestamptz, timestamptz, timestamptz, text, bigint) IS
  'Service KPIs of the tickets entered in [since, until), by period (day, week, month, quarter, year, all) and dimension (all, tenant, region, province, organisation, organisation_type, product_model, problem_type, engineer, priority, channel); unfinished tickets judged at as_of; definitions in aftersales.kpi_definitions';

CREATE FUNCTION aftersales.kpi_headline(period text, dimension text, since timestamptz, until timestamptz,
                                        as_of timestamptz DEFAULT aftersales.now(),
                                        zone text DEFAULT NULL,
                                        tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (period_start date, dim_key text, dim_name text,
                   tickets bigint, cancelled bigint, resolved bigint, closed bigint, unresolved bigint,
                   response_rate numeric, arrival_rate numeric, completion_rate numeric,
                   closed_loop_rate numeric, reopen_rate numeric,
                   csat_avg numeric, csat_good_share numeric, nps numeric,
                   csat_responses bigint, nps_responses bigint)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    d record;
    cfg_join text := '';
    response_target interval;
    arrival_target interval;
    completion_target interval;
    csat_good_min numeric;
BEGIN
    zone := COALESCE(zone, aftersales.reporting_zone(tenant));
    PERFORM aftersales_internal.kpi_check('kpi_headline',
        'SELECT * FROM aftersales.kpi_headline(''month'', ''region'', ''2026-01-01'', ''2027-01-01'');',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        since, until, as_of, zone, tenant);
    d := aftersales_internal.kpi_dimension_sql(dimension);
    -- Its one pass reads the current ticket rows, which are what was known
    -- at as_of unless a ticket of the range changed (or was entered) after
    -- it: then the snapshot of kpi_service, rebuilt from the event log.
    IF EXISTS (SELECT FROM aftersales.tickets t
                WHERE (kpi_headline.tenant IS NULL OR t.tenant_id = kpi_headline.tenant)
                  AND t.opened_at >= kpi_headline.since AND t.opened_at < kpi_headline.until
                  AND t.last_event_at > kpi_headline.as_of) THEN
        RETURN QUERY
        SELECT s.period_start, s.dim_key, s.dim_name, s.tickets, s.cancelled, s.resolved, s.closed, s.unresolved,
               s.response_rate, s.arrival_rate, s.completion_rate, s.closed_loop_rate, s.reopen_rate,
               s.csat_avg, s.csat_good_share, s.nps, s.csat_responses, s.nps_responses
          FROM aftersales.kpi_service(kpi_headline.period, kpi_headline.dimension, kpi_headline.since, kpi_headline.until,
                                      kpi_headline.as_of, kpi_headline.zone, kpi_headline.tenant) s;
        RETURN;
    END IF;
    -- The thresholds: parameters $6 to $9 for one tenant (which keeps the
    -- plan a plain parallel scan), a join for every tenant.
    IF tenant IS NULL THEN
        cfg_join := 'JOIN aftersales_internal.kpi_config(NULL) g ON g.tenant_id = k.tenant_id';
    ELSE
        SELECT g.response_target, g.arrival_target, g.completion_target, g.csat_good_min
          INTO response_target, arrival_target, completion_target, csat_good_min
          FROM aftersales_internal.kpi_config(tenant) g;
    END IF;
    -- The same judgements as kpi_ticket_facts, inlined.
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name,
       pg_catalog.count(*) AS tickets,
       pg_catalog.count(*) FILTER (WHERE k.status = 'cancelled') AS cancelled,
       pg_catalog.count(*) FILTER (WHERE k.status <> 'cancelled' AND k.resolved_at IS NOT NULL) AS resolved,
       pg_catalog.count(*) FILTER (WHERE k.status = 'closed') AS closed,
       pg_catalog.count(*) FILTER (WHERE k.status NOT IN ('resolved', 'closed', 'cancelled')) AS unresolved,
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' THEN NULL
           WHEN k.first_response_at IS NOT NULL THEN (k.first_response_at <= k.opened_at + %5$s)::integer
           WHEN k.opened_at < $4 - %5$s THEN 0 END), 4),
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' OR NOT k.field THEN NULL
           WHEN k.arrived_at IS NOT NULL THEN (k.arrived_at <= k.opened_at + %6$s)::integer
           WHEN k.first_resolved_at IS NOT NULL THEN NULL
           WHEN k.opened_at < $4 - %6$s THEN 0 END), 4),
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' THEN NULL
           WHEN k.resolved_at IS NOT NULL THEN (k.resolved_at <= k.opened_at + %7$s)::integer
           WHEN k.opened_at < $4 - %7$s THEN 0 END), 4),
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' OR k.first_resolved_at IS NULL THEN NULL
           ELSE (k.status = 'closed')::integer END), 4),
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' OR k.first_resolved_at IS NULL THEN NULL
           ELSE (k.reopen_count > 0)::integer END), 4),
       pg_catalog.round(pg_catalog.avg(k.csat) FILTER (WHERE k.status <> 'cancelled'), 2),
       pg_catalog.round(pg_catalog.avg((k.csat >= %8$s)::integer) FILTER (WHERE k.status <> 'cancelled'), 4),
       pg_catalog.round(100 * (pg_catalog.count(*) FILTER (WHERE k.nps >= 9 AND k.status <> 'cancelled')
                               - pg_catalog.count(*) FILTER (WHERE k.nps <= 6 AND k.status <> 'cancelled'))::numeric
                        / NULLIF(pg_catalog.count(k.nps) FILTER (WHERE k.status <> 'cancelled'), 0), 1),
       pg_catalog.count(k.csat) FILTER (WHERE k.status <> 'cancelled'),
       pg_catalog.count(k.nps) FILTER (WHERE k.status <> 'cancelled')
  FROM aftersales._kpi_ticket_dims k
  %9$s
 WHERE ($1::bigint IS NULL OR k.tenant_id = $1) AND k.opened_at >= $2 AND k.opened_at < $3
 GROUP BY 1, 2) q
 ORDER BY q.period_start, %4$s$q$,
        aftersales_internal.kpi_period_sql(period, 'k.opened_at', 5), d.key_sql, d.name_sql, d.order_sql,
        CASE WHEN tenant IS NULL THEN 'g.response_target' ELSE '$6' END,
        CASE WHEN tenant IS NULL THEN 'g.arrival_target' ELSE '$7' END,
        CASE WHEN tenant IS NULL THEN 'g.completion_target' ELSE '$8' END,
        CASE WHEN tenant IS NULL THEN 'g.csat_good_min' ELSE '$9' END,
        cfg_join)
    USING tenant, since, until, as_of, zone, response_target, arrival_target, completion_target, csat_good_min;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_headline(text, text, timestamptz, timestamptz, timestamptz, text, bigint) IS
  'Headline service KPIs (response, arrival, completion rates, closed loop, reopens, CSAT, NPS) in one pass over the tickets: the same figures as kpi_service, faster; same parameters';

CREATE FUNCTION aftersales.kpi_staff(period text, since timestamptz, until timestamptz,
                                     as_of timestamptz DEFAULT aftersales.now(),
                                     zone text DEFAULT NULL,
                                     tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (period_start date, engineer_id bigint, engineer_name text, org_id bigint, org_name text,
                   org_type text, tickets bigint, resolved bigint, unresolved bigint,
                   avg_handling_minutes numeric, avg_handling_business_minutes numeric,
                   total_handling_minutes numeric, first_time_fix_rate numeric, csat_avg numeric)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    grain text;
BEGIN
    zone := COALESCE(zone, aftersales.reporting_zone(tenant));
    PERFORM aftersales_internal.kpi_check('kpi_staff',
        'SELECT * FROM aftersales.kpi_staff(''month'', ''2026-01-01'', ''2027-01-01'');',
        period, NULL, NULL, since, until, as_of, zone, tenant);
    -- the incremental rollups (65_kpi_rollup.sql) when they answer exactly
    grain := aftersales_internal.rollup_grain(period, since, until, as_of, zone, tenant);
    IF grain IS NOT NULL THEN
        RETURN QUERY SELECT * FROM aftersales_internal.rollup_staff(period, since, until, as_of, zone, tenant, grain);
        RETURN;
    END IF;
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS period_start, k.engineer_id, pg_catalog.max(k.engineer_name),
       pg_catalog.max(e.org_id), pg_catalog.max(o.name), pg_catalog.max(o.org_type),
       pg_catalog.count(*) AS tickets,
       pg_catalog.count(k.resolution_minutes),
       pg_catalog.count(*) FILTER (WHERE k.status NOT IN ('resolved', 'closed')),
       pg_catalog.round(pg_catalog.avg(k.handling_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.handling_business_minutes), 2),
       pg_catalog.round(pg_catalog.sum(k.handling_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.first_time_fix), 4),
       pg_catalog.round(pg_catalog.avg(k.csat_score), 2)
  FROM aftersales.kpi_ticket_facts($2, $3, $4, $1) k
  JOIN aftersales.engineers e ON e.tenant_id = k.tenant_id AND e.engineer_id = k.engineer_id
  LEFT JOIN aftersales.organisations o ON o.tenant_id = e.tenant_id AND o.org_id = e.org_id
 WHERE k.cancelled = 0
 GROUP BY 1, k.tenant_id, k.engineer_id) q
 ORDER BY q.period_start, q.engineer_id$q$,
        aftersales_internal.kpi_period_sql(period, 'k.opened_at', 5))
    USING tenant, since, until, as_of, zone;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_staff(text, timestamptz, timestamptz, timestamptz, text, bigint) IS
  'Per engineer and period: the tickets entered in [since, until) the engineer holds or resolved (not cancelled), resolved and unresolved counts, handling time (assignment to final resolution, wall and business minutes), first-time fix, CSAT';

CREATE FUNCTION aftersales.kpi_dispatch(period text, dimension text, since timestamptz, until timestamptz,
                                        zone text DEFAULT NULL,
                                        tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (period_start date, dim_key text, dim_name text,
                   dispatches bigint, tickets bigint, assigns bigint, reassigns bigint, take_overs bigint)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    d record;
BEGIN
    zone := COALESCE(zone, aftersales.reporting_zone(tenant));
    PERFORM aftersales_internal.kpi_check('kpi_dispatch',
        'SELECT * FROM aftersales.kpi_dispatch(''month'', ''organisation_type'', ''2026-01-01'', ''2027-01-01'');',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        since, until, NULL, zone, tenant);
    d := aftersales_internal.kpi_dimension_sql(dimension);
    -- a dispatch is an event, dated by the event; its engineer is the one
    -- it gave the ticket to, the other dimensions are the ticket's
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name,
       pg_catalog.count(*) AS dispatches,
       pg_catalog.count(DISTINCT k.ticket_id),
       pg_catalog.count(*) FILTER (WHERE k.event = 'assign'),
       pg_catalog.count(*) FILTER (WHERE k.event = 'reassign'),
       pg_catalog.count(*) FILTER (WHERE k.event = 'take_over')
  FROM (SELECT ev.tenant_id, ev.ticket_id, ev.at, ev.event, t.tenant_name, t.region, t.province, t.org_id,
               t.org_name, t.org_type, t.model_id, t.model_name, t.problem_type_id, t.problem_name,
               t.priority, t.channel, de.engineer_id, de.name AS engineer_name
          FROM aftersales.ticket_events ev
          JOIN aftersales._kpi_ticket_dims t ON t.tenant_id = ev.tenant_id AND t.ticket_id = ev.ticket_id
          LEFT JOIN aftersales.engineers de
            ON de.tenant_id = ev.tenant_id AND de.engineer_id = (ev.payload ->> 'assignee')::bigint
         WHERE ev.event IN ('assign', 'reassign', 'take_over') AND ev.to_state = 'assigned'
           AND ($1::bigint IS NULL OR ev.tenant_id = $1) AND ev.at >= $2 AND ev.at < $3) k
 GROUP BY 1, 2) q
 ORDER BY q.period_start, %4$s$q$,
        aftersales_internal.kpi_period_sql(period, 'k.at', 4), d.key_sql, d.name_sql, d.order_sql)
    USING tenant, since, until, zone;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_dispatch(text, text, timestamptz, timestamptz, text, bigint) IS
  'Dispatch volume (派工量): assignment events in [since, until) that gave a ticket to an engineer (assign, reassign, take_over ending in assigned), by period of the event and dimension (engineer: the one dispatched to; others: the ticket''s)';

-- Distributions of the durations behind AFR, ART and MTTR, with the
-- duration_stats aggregate (50_duration_stats.sql): count, mean, median,
-- 90th and 95th percentiles (within 0.5%) and maximum, in minutes.
CREATE FUNCTION aftersales.kpi_durations(period text, dimension text, since timestamptz, until timestamptz,
                                         as_of timestamptz DEFAULT aftersales.now(),
                                         zone text DEFAULT NULL,
                                         tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (period_start date, dim_key text, dim_name text, measure text, clock text,
                   n bigint, mean_minutes numeric, p50_minutes numeric, p90_minutes numeric,
                   p95_minutes numeric, max_minutes numeric)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    d record;
BEGIN
    zone := COALESCE(zone, aftersales.reporting_zone(tenant));
    PERFORM aftersales_internal.kpi_check('kpi_durations',
        'SELECT * FROM aftersales.kpi_durations(''month'', ''region'', ''2026-01-01'', ''2027-01-01'');',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        since, until, as_of, zone, tenant);
    d := aftersales_internal.kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.period_start, q.dim_key, q.dim_name, q.measure, q.clock, (q.s).n,
       pg_catalog.round((q.s).mean::numeric, 2), pg_catalog.round((q.s).p50::numeric, 2),
       pg_catalog.round((q.s).p90::numeric, 2), pg_catalog.round((q.s).p95::numeric, 2),
       pg_catalog.round((q.s).max::numeric, 2)
  FROM (SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name, m.ord, m.measure, m.clock,
               aftersales.duration_stats(m.minutes::double precision) AS s
          FROM aftersales.kpi_ticket_facts($2, $3, $4, $1) k
         CROSS JOIN LATERAL (VALUES
               (1, 'first_response', 'wall', k.response_minutes),
               (2, 'first_response', 'business', k.response_business_minutes),
               (3, 'arrival', 'wall', k.arrival_minutes),
               (4, 'arrival', 'business', k.arrival_business_minutes),
               (5, 'resolution', 'wall', k.resolution_minutes),
               (6, 'resolution', 'business', k.resolution_business_minutes),
               (7, 'repair', 'wall', k.repair_minutes),
               (8, 'repair', 'business', k.repair_business_minutes),
               (9, 'handling', 'wall', k.handling_minutes),
               (10, 'handling', 'business', k.handling_business_minutes)) AS m (ord, measure, clock, minutes)
         GROUP BY 1, 2, m.ord, m.measure, m.clock) q
 WHERE (q.s).n > 0
 ORDER BY q.period_start, %4$s, q.ord$q$,
        aftersales_internal.kpi_period_sql(period, 'k.opened_at', 5), d.key_sql, d.name_sql, d.order_sql)
    USING tenant, since, until, as_of, zone;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_durations(text, text, timestamptz, timestamptz, timestamptz, text, bigint) IS
  'Distributions (n, mean, p50, p90, p95 within 0.5%, max; minutes) of first response, arrival, resolution, repair and handling times, wall clock and business time, of the tickets entered in [since, until), by period and dimension; computed with aftersales.duration_stats';
