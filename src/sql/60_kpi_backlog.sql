
-- aftersales install script, part 60: the backlog.
--
--   backlog_as_of          the tickets open at an instant, past or present,
--                          with their state, priority and engineer at that
--                          instant, rebuilt from the event log;
--   kpi_backlog            open tickets by age bucket (over 24, 48, 72, 96,
--                          120 hours; cumulative) and dimension;
--   kpi_engineer_holdings  open tickets held per engineer (保有量) against
--                          capacity;
--   kpi_backlog_stages     open tickets by stage still to reach (response,
--                          arrival, completion) and by how long that
--                          stage is overdue (over 24 ... 120 hours).
-- Open means unresolved: new, on_hold, assigned, in_progress, on_site or
-- locked.  A resolved ticket awaiting its follow-up is not backlog.  Age is
-- wall-clock time since entry.

-- The state of a ticket at an instant: the current row when its latest
-- event is not later than the instant, else the latest event up to the
-- instant.  Priority and engineer at the instant are read from the event
-- payloads: priority from the latest event carrying one (open, retarget),
-- the engineer from the latest event that named one (assign, reassign,
-- take_over) or cleared it (entering new or locked).
CREATE FUNCTION aftersales.backlog_as_of(at timestamptz, tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (tenant_id bigint, ticket_id bigint, status text, priority text, engineer_id bigint,
                   opened_at timestamptz, age_hours numeric)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    PERFORM aftersales_internal.kpi_check('backlog_as_of',
        'SELECT * FROM aftersales.backlog_as_of(''2026-03-01 00:00+08'');',
        NULL, NULL, NULL, NULL, NULL, at, 'UTC', tenant);
    RETURN QUERY
    SELECT t.tenant_id, t.ticket_id, x.st::text, x.pr::text, x.eng, t.opened_at,
           pg_catalog.round(EXTRACT(EPOCH FROM backlog_as_of.at - t.opened_at) / 3600, 2)
      FROM aftersales.tickets t
     CROSS JOIN LATERAL (
           SELECT t.status AS st, t.priority AS pr, t.assignee_id AS eng
            WHERE t.last_event_at <= backlog_as_of.at
           UNION ALL
           SELECT (SELECT ev.to_state FROM aftersales.ticket_events ev
                    WHERE ev.tenant_id = t.tenant_id AND ev.ticket_id = t.ticket_id AND ev.at <= backlog_as_of.at
                    ORDER BY ev.seq DESC LIMIT 1),
                  (SELECT (ev.payload ->> 'priority')::aftersales.priority FROM aftersales.ticket_events ev
                    WHERE ev.tenant_id = t.tenant_id AND ev.ticket_id = t.ticket_id AND ev.at <= backlog_as_of.at
                      AND ev.payload ? 'priority'
                    ORDER BY ev.seq DESC LIMIT 1),
                  (SELECT CASE WHEN ev.to_state IN ('new', 'locked') THEN NULL
                               ELSE (ev.payload ->> 'assignee')::bigint END
                     FROM aftersales.ticket_events ev
                    WHERE ev.tenant_id = t.tenant_id AND ev.ticket_id = t.ticket_id AND ev.at <= backlog_as_of.at
                      AND (ev.payload ? 'assignee' OR ev.to_state IN ('new', 'locked'))
                    ORDER BY ev.seq DESC LIMIT 1)
            WHERE t.last_event_at > backlog_as_of.at) x
     WHERE (backlog_as_of.tenant IS NULL OR t.tenant_id = backlog_as_of.tenant)
       AND t.opened_at <= backlog_as_of.at
       AND x.st IN ('new', 'on_hold', 'assigned', 'in_progress', 'on_site', 'locked')
     ORDER BY t.tenant_id, t.ticket_id;
END
$$;
COMMENT ON FUNCTION aftersales.backlog_as_of(timestamptz, bigint) IS
  'The tickets open (unresolved) at the instant at, with their state, priority and engineer at that instant, rebuilt from the event log, and their age in hours';

CREATE FUNCTION aftersales.kpi_backlog(dimension text DEFAULT 'organisation_type',
                                       as_of timestamptz DEFAULT aftersales.now(),
                                       tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (dim_key text, dim_name text, open_tickets bigint, unassigned bigint, on_hold bigint,
                   in_work bigint, over_24h bigint, over_48h bigint, over_72h bigint, over_96h bigint,
                   over_120h bigint, avg_age_hours numeric, max_age_hours numeric)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    d record;
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_backlog',
        'SELECT * FROM aftersales.kpi_backlog(''organisation_type'', as_of => ''2026-03-01 00:00+08'');',
        NULL, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        NULL, NULL, as_of, 'UTC', tenant);
    d := aftersales_internal.kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS dim_key, pg_catalog.max(%2$s) AS dim_name,
       pg_catalog.count(*),
       pg_catalog.count(*) FILTER (WHERE k.status IN ('new', 'locked')),
       pg_catalog.count(*) FILTER (WHERE k.status = 'on_hold'),
       pg_catalog.count(*) FILTER (WHERE k.status IN ('assigned', 'in_progress', 'on_site')),
       pg_catalog.count(*) FILTER (WHERE k.exact_age_hours > 24),
       pg_catalog.count(*) FILTER (WHERE k.exact_age_hours > 48),
       pg_catalog.count(*) FILTER (WHERE k.exact_age_hours > 72),
       pg_catalog.count(*) FILTER (WHERE k.exact_age_hours > 96),
       pg_catalog.count(*) FILTER (WHERE k.exact_age_hours > 120),
       pg_catalog.round(pg_catalog.avg(k.exact_age_hours), 2),
       pg_catalog.max(k.age_hours)
  FROM (SELECT b.tenant_id, b.ticket_id, b.status, b.priority, b.engineer_id, b.age_hours,
               -- backlog_as_of rounds each age to 0.01 h: the mean and the
               -- thresholds take the exact age
               EXTRACT(EPOCH FROM $2 - b.opened_at) / 3600 AS exact_age_hours,
               t.tenant_name, t.region, t.province, t.org_id, t.org_name, t.org_type, t.model_id,
               t.model_name, t.problem_type_id, t.problem_name, t.channel, be.name AS engineer_name
          FROM aftersales.backlog_as_of($2, $1) b
          JOIN aftersales._kpi_ticket_dims t ON t.tenant_id = b.tenant_id AND t.ticket_id = b.ticket_id
          LEFT JOIN aftersales.engineers be ON be.tenant_id = b.tenant_id AND be.engineer_id = b.engineer_id) k
 GROUP BY 1) q
 ORDER BY %3$s$q$, d.key_sql, d.name_sql, d.order_sql)
    USING tenant, as_of;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_backlog(text, timestamptz, bigint) IS
  'Open tickets at as_of (rebuilt from the event log) by dimension: counts by state and by age (over 24, 48, 72, 96, 120 hours since entry, cumulative), mean and maximum age in hours';

CREATE FUNCTION aftersales.kpi_engineer_holdings(as_of timestamptz DEFAULT aftersales.now(),
                                                 tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (tenant_id bigint, engineer_id bigint, engineer_name text, org_id bigint, org_name text,
                   org_type text, region text, capacity integer, on_duty boolean, active boolean,
                   holdings bigint, assigned bigint, in_progress bigint, on_site bigint, on_hold bigint,
                   load_ratio numeric, max_age_hours numeric)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_engineer_holdings',
        'SELECT * FROM aftersales.kpi_engineer_holdings(as_of => ''2026-03-01 00:00+08'');',
        NULL, NULL, NULL, NULL, NULL, as_of, 'UTC', tenant);
    RETURN QUERY
    SELECT e.tenant_id, e.engineer_id, e.name, e.org_id, o.name, o.org_type, e.region::text, e.capacity,
           e.on_duty, e.active,
           pg_catalog.count(b.ticket_id),
           pg_catalog.count(*) FILTER (WHERE b.status = 'assigned'),
           pg_catalog.count(*) FILTER (WHERE b.status = 'in_progress'),
           pg_catalog.count(*) FILTER (WHERE b.status = 'on_site'),
           pg_catalog.count(*) FILTER (WHERE b.status = 'on_hold'),
           pg_catalog.round(pg_catalog.count(b.ticket_id)::numeric / e.capacity, 4),
           pg_catalog.max(b.age_hours)
      FROM aftersales.engineers e
      LEFT JOIN aftersales.organisations o ON o.tenant_id = e.tenant_id AND o.org_id = e.org_id
      LEFT JOIN aftersales.backlog_as_of(kpi_engineer_holdings.as_of, kpi_engineer_holdings.tenant) b
        ON b.tenant_id = e.tenant_id AND b.engineer_id = e.engineer_id
     WHERE (kpi_engineer_holdings.tenant IS NULL OR e.tenant_id = kpi_engineer_holdings.tenant)
     GROUP BY e.tenant_id, e.engineer_id, o.name, o.org_type
    HAVING e.active OR pg_catalog.count(b.ticket_id) > 0
     ORDER BY e.tenant_id, e.engineer_id;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_engineer_holdings(timestamptz, bigint) IS
  'Per engineer (active, or holding tickets): the open tickets held at as_of (保有量), by state, against capacity (load_ratio = holdings / capacity), and the oldest one''s age in hours';

-- Backlog aging by stage: each open ticket at as_of (its state and time
-- stamps as known then, kpi_ticket_facts) is pending at every stage it
-- has not reached: response (no engineer engaged yet), arrival (a field
-- ticket not yet on site) and completion (not resolved: every open
-- ticket).  A stage is overdue once its target has passed (entry plus the
-- settings response_target_minutes, arrival_target_hours,
-- completion_target_hours); the buckets count how far past (cumulative).
CREATE FUNCTION aftersales.kpi_backlog_stages(dimension text DEFAULT 'organisation_type',
                                              as_of timestamptz DEFAULT aftersales.now(),
                                              tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (dim_key text, dim_name text, stage text, stage_name text, pending bigint, overdue bigint,
                   over_24h bigint, over_48h bigint, over_72h bigint, over_96h bigint, over_120h bigint,
                   max_overdue_hours numeric)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    d record;
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_backlog_stages',
        'SELECT * FROM aftersales.kpi_backlog_stages(''organisation_type'', as_of => ''2026-03-01 00:00+08'');',
        NULL, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        NULL, NULL, as_of, 'UTC', tenant);
    d := aftersales_internal.kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.dim_key, q.dim_name, q.stage, q.stage_name, q.pending, q.overdue, q.o24, q.o48, q.o72, q.o96, q.o120, q.max_late
  FROM (SELECT %1$s AS dim_key, pg_catalog.max(%2$s) AS dim_name, s.ord, s.stage, s.stage_name,
               pg_catalog.count(*) AS pending,
               pg_catalog.count(*) FILTER (WHERE l.late > 0) AS overdue,
               pg_catalog.count(*) FILTER (WHERE l.late > 24) AS o24,
               pg_catalog.count(*) FILTER (WHERE l.late > 48) AS o48,
               pg_catalog.count(*) FILTER (WHERE l.late > 72) AS o72,
               pg_catalog.count(*) FILTER (WHERE l.late > 96) AS o96,
               pg_catalog.count(*) FILTER (WHERE l.late > 120) AS o120,
               pg_catalog.round(pg_catalog.max(l.late) FILTER (WHERE l.late > 0), 2) AS max_late
          FROM aftersales.kpi_ticket_facts('-infinity', 'infinity', $2, $1) k
          JOIN aftersales_internal.kpi_config($1) g ON g.tenant_id = k.tenant_id
         CROSS JOIN LATERAL (VALUES
               (1, 'response', '响应', k.response_minutes IS NULL, g.response_target),
               (2, 'arrival', '到位', k.field AND k.arrival_minutes IS NULL, g.arrival_target),
               (3, 'completion', '完工', true, g.completion_target)) AS s (ord, stage, stage_name, is_pending, target)
         CROSS JOIN LATERAL (SELECT EXTRACT(EPOCH FROM $2 - (k.opened_at + s.target)) / 3600 AS late) l
         WHERE k.status IN ('new', 'on_hold', 'assigned', 'in_progress', 'on_site', 'locked') AND s.is_pending
         GROUP BY 1, s.ord, s.stage, s.stage_name) q
 ORDER BY %3$s, q.ord$q$, d.key_sql, d.name_sql, d.order_sql)
    USING tenant, as_of;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_backlog_stages(text, timestamptz, bigint) IS
  'Open tickets at as_of by dimension and by the stage they have not reached (response, arrival, completion): pending, overdue (past the stage''s target), and overdue by more than 24, 48, 72, 96, 120 hours (cumulative), as known at as_of';
