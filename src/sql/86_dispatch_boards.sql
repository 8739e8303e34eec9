
-- aftersales install script, part 86: the staff boards.  Busy, idle and
-- on-duty time per engineer and day (from attendance and the tickets'
-- event log), their monthly trend, installed-unit holdings (保有量), intake
-- and dispatches per region against headcount, and first-maintenance
-- dispatches by organisation type.  Ticket handling time per engineer and
-- dispatch volume are kpi_staff_monthly and kpi_dispatch_monthly_by_org_type
-- (60_kpi_views.sql).  Views follow the rules of 60_kpi_views.sql: current
-- tenant as of aftersales.now(), plain types, security_invoker, commented.
--
-- Definitions:
--   on duty   checked in (attendance_sessions; an open session up to now,
--             a missing check-out counts nothing);
--   holding   assignee of a ticket that is assigned, in progress, on site
--             or on hold;
--   busy      assignee of a ticket in progress or on site;
--   idle      on duty and holding nothing;
--   utilisation  busy time while on duty / on-duty time.

-- The intervals in which each engineer held tickets, from the event log:
-- a ticket's assignee is the one its latest assign, reassign or take_over
-- named, until it returns to new or is locked; each state lasts until the
-- next event (or as_of).
CREATE FUNCTION aftersales_internal.holding_intervals(tenant bigint, since timestamptz, as_of timestamptz)
    RETURNS TABLE (engineer_id bigint, ticket_id bigint, state text, busy boolean, span tstzrange)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH ev AS (
        SELECT e.ticket_id, e.seq, e.at, e.to_state, e.payload ->> 'assignee' AS named,
               pg_catalog.count(*) FILTER (WHERE e.payload ? 'assignee' OR e.to_state IN ('new', 'locked'))
                   OVER (PARTITION BY e.ticket_id ORDER BY e.seq) AS grp,
               pg_catalog.lead(e.at) OVER (PARTITION BY e.ticket_id ORDER BY e.seq) AS next_at
          FROM aftersales.ticket_events e
         WHERE e.tenant_id = holding_intervals.tenant AND e.at < holding_intervals.as_of
           AND e.ticket_id IN (SELECT t.ticket_id FROM aftersales.tickets t
                                WHERE t.tenant_id = holding_intervals.tenant
                                  AND (t.resolved_at IS NULL OR t.resolved_at >= holding_intervals.since
                                       OR t.cancelled_at >= holding_intervals.since
                                       OR t.status NOT IN ('resolved', 'closed', 'cancelled')))
    ), st AS (
        SELECT ev.ticket_id, ev.at, LEAST(COALESCE(ev.next_at, holding_intervals.as_of), holding_intervals.as_of) AS end_at,
               ev.to_state,
               (pg_catalog.first_value(ev.named) OVER (PARTITION BY ev.ticket_id, ev.grp ORDER BY ev.seq))::bigint AS engineer
          FROM ev
    )
    SELECT st.engineer, st.ticket_id, st.to_state::text, st.to_state IN ('in_progress', 'on_site'),
           pg_catalog.tstzrange(st.at, st.end_at)
      FROM st
     WHERE st.engineer IS NOT NULL AND st.to_state IN ('assigned', 'in_progress', 'on_site', 'on_hold')
       AND st.end_at > st.at AND st.end_at > holding_intervals.since
$$;
COMMENT ON FUNCTION aftersales_internal.holding_intervals(bigint, timestamptz, timestamptz) IS
  'Internal: from the event log, the spans in which each engineer held a ticket (busy: in progress or on site), up to as_of';

CREATE FUNCTION aftersales.engineer_time(since date, until date, as_of timestamptz DEFAULT aftersales.now(),
                                         tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (tenant_id bigint, engineer_id bigint, org_id bigint, day date, scheduled_hours numeric,
                   on_duty_hours numeric, busy_hours numeric, holding_hours numeric, idle_hours numeric,
                   utilisation numeric, late boolean, missing_check_outs bigint, location_anomalies bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lo constant timestamptz := since::timestamp AT TIME ZONE 'UTC' - '2 days'::interval;
    hi constant timestamptz := until::timestamp AT TIME ZONE 'UTC' + '2 days'::interval;
BEGIN
    PERFORM aftersales_internal.require_days(since, until, as_of, 'engineer_time');
    -- the on-duty, holding and busy time of each (engineer, local day) as
    -- multiranges, grouped and joined by hash
    RETURN QUERY
    WITH eng AS MATERIALIZED (SELECT * FROM aftersales_internal.engineer_zones(engineer_time.tenant)),
    duty AS (
        SELECT u.engineer_id, p.day, pg_catalog.range_agg(p.part) AS mr
          FROM aftersales_internal.duty_intervals(engineer_time.tenant, as_of) u
          JOIN eng g ON g.engineer_id = u.engineer_id
         CROSS JOIN LATERAL aftersales_internal.split_days(u.duty, g.zone) p
         WHERE u.check_in_at >= lo - '2 days'::interval
         GROUP BY 1, 2
    ),
    work AS (
        SELECT h.engineer_id, p.day, pg_catalog.range_agg(p.part) AS hold_mr,
               COALESCE(pg_catalog.range_agg(p.part) FILTER (WHERE h.busy), '{}'::tstzmultirange) AS busy_mr
          FROM aftersales_internal.holding_intervals(engineer_time.tenant, lo, as_of) h
          JOIN eng g ON g.engineer_id = h.engineer_id
         CROSS JOIN LATERAL aftersales_internal.split_days(h.span * pg_catalog.tstzrange(lo, hi), g.zone) p
         GROUP BY 1, 2
    ),
    m AS (
        SELECT a.*, COALESCE(du.mr, '{}'::tstzmultirange) AS on_mr,
               COALESCE(w.busy_mr, '{}'::tstzmultirange) AS busy_day,
               COALESCE(w.hold_mr, '{}'::tstzmultirange) AS hold_day
          FROM aftersales.attendance_days(since, until, as_of, engineer_time.tenant) a
          LEFT JOIN duty du ON du.engineer_id = a.engineer_id AND du.day = a.day
          LEFT JOIN work w ON w.engineer_id = a.engineer_id AND w.day = a.day
    )
    SELECT m.tenant_id, m.engineer_id, m.org_id, m.day, m.scheduled_hours,
           m.on_duty_hours,
           pg_catalog.round(aftersales_internal.range_hours(m.busy_day)::numeric, 2),
           pg_catalog.round(aftersales_internal.range_hours(m.hold_day)::numeric, 2),
           pg_catalog.round(aftersales_internal.range_hours(m.on_mr - m.hold_day)::numeric, 2),
           CASE WHEN aftersales_internal.range_hours(m.on_mr) > 0
                THEN pg_catalog.round((aftersales_internal.range_hours(m.busy_day * m.on_mr)
                                       / aftersales_internal.range_hours(m.on_mr))::numeric, 4) END,
           m.late, m.missing_check_outs, m.location_anomalies
      FROM m
     ORDER BY m.engineer_id, m.day;
END
$$;
COMMENT ON FUNCTION aftersales.engineer_time(date, date, timestamptz, bigint) IS
  'Per engineer and local day in [since, until) as of a time: scheduled, on-duty (checked in), busy (holding a ticket in progress or on site), holding (any open ticket) and idle (on duty, holding nothing) hours, utilisation (busy while on duty / on duty), late check-in, missing check-outs, location anomalies';

-- The daily view's window: the last 31 days of the reporting zone, to today
-- (engineer_time gives any other range).
CREATE FUNCTION aftersales_internal.board_days(tenant bigint, as_of timestamptz, OUT since date, OUT until date)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (pg_catalog.timezone(z.zone, as_of))::date - 30, (pg_catalog.timezone(z.zone, as_of))::date + 1
      FROM (SELECT aftersales.reporting_zone(tenant) AS zone) z
$$;
COMMENT ON FUNCTION aftersales_internal.board_days(bigint, timestamptz) IS
  'Internal: the days the daily staff view covers: the 31 days to as_of''s day, in the reporting zone';

-- The monthly trend, per engineer and month of the reporting zone, computed
-- per month (not day by day): the on-duty, holding and busy time as
-- multiranges cut at the months' bounds, the scheduled time from the
-- calendar, late check-ins from each day's first check-in.
CREATE FUNCTION aftersales_internal.engineer_months(tenant bigint, months integer, as_of timestamptz)
    RETURNS TABLE (engineer_id bigint, month date, scheduled_hours numeric, on_duty_hours numeric, busy_hours numeric,
                   idle_hours numeric, utilisation numeric, late_check_ins bigint, missing_check_outs bigint,
                   location_anomalies bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
WITH z AS (SELECT aftersales.reporting_zone(tenant) AS zone),
m AS (
    SELECT g.m::date AS month, g.m AT TIME ZONE z.zone AS m0, (g.m + '1 month'::interval) AT TIME ZONE z.zone AS m1
      FROM z, pg_catalog.generate_series(pg_catalog.date_trunc('month', pg_catalog.timezone(z.zone, as_of)) - pg_catalog.make_interval(months => months - 1),
                                         pg_catalog.date_trunc('month', pg_catalog.timezone(z.zone, as_of)), '1 month'::interval) g (m)
),
eng AS MATERIALIZED (SELECT * FROM aftersales_internal.engineer_zones(tenant)),
duty AS MATERIALIZED (
    SELECT u.* FROM aftersales_internal.duty_intervals(tenant, as_of) u
     WHERE u.check_in_at >= (SELECT pg_catalog.min(m.m0) FROM m) - '2 days'::interval
),
on_m AS (
    SELECT u.engineer_id, m.month, pg_catalog.range_agg(u.duty * pg_catalog.tstzrange(m.m0, m.m1)) AS mr
      FROM duty u JOIN m ON u.duty && pg_catalog.tstzrange(m.m0, m.m1)
     GROUP BY 1, 2
),
work_m AS (
    SELECT h.engineer_id, m.month, pg_catalog.range_agg(h.span * pg_catalog.tstzrange(m.m0, m.m1)) AS hold_mr,
           COALESCE(pg_catalog.range_agg(h.span * pg_catalog.tstzrange(m.m0, m.m1)) FILTER (WHERE h.busy), '{}'::tstzmultirange) AS busy_mr
      FROM aftersales_internal.holding_intervals(tenant, (SELECT pg_catalog.min(m.m0) FROM m), as_of) h
      JOIN m ON h.span && pg_catalog.tstzrange(m.m0, m.m1)
     GROUP BY 1, 2
),
firsts AS (
    SELECT f.engineer_id, f.day, f.first_at, g.cal, g.zone
      FROM (SELECT a.engineer_id, (a.at AT TIME ZONE g.zone)::date AS day, pg_catalog.min(a.at) AS first_at
              FROM aftersales.attendance_events a JOIN eng g ON g.engineer_id = a.engineer_id
             WHERE a.tenant_id = tenant AND a.kind = 'check_in' AND a.at <= as_of
               AND a.at >= (SELECT pg_catalog.min(m.m0) FROM m)
             GROUP BY 1, 2) f
      JOIN eng g ON g.engineer_id = f.engineer_id
),
late_m AS (
    SELECT f.engineer_id, m.month, pg_catalog.count(*) AS n
      FROM firsts f JOIN m ON f.first_at >= m.m0 AND f.first_at < m.m1
     CROSS JOIN LATERAL (SELECT aftersales.next_business_time(f.cal, f.day::timestamp AT TIME ZONE f.zone) AS st) s
     WHERE f.cal IS NOT NULL AND s.st < (f.day + 1)::timestamp AT TIME ZONE f.zone
       AND f.first_at > s.st + pg_catalog.make_interval(mins => (aftersales_internal.dispatch_config(tenant)).late_grace_minutes)
     GROUP BY 1, 2
),
miss_m AS (
    SELECT u.engineer_id, m.month, pg_catalog.count(*) AS n
      FROM duty u JOIN m ON u.check_in_at >= m.m0 AND u.check_in_at < m.m1 WHERE u.missing GROUP BY 1, 2
),
anom_m AS (
    SELECT a.engineer_id, m.month, pg_catalog.count(*) AS n
      FROM aftersales.attendance_events a JOIN m ON a.at >= m.m0 AND a.at < m.m1
     WHERE a.tenant_id = tenant AND a.anomaly AND a.at <= as_of GROUP BY 1, 2
),
x AS (
    SELECT g.engineer_id, m.month, g.cal, m.m0, LEAST(m.m1, GREATEST(m.m0, as_of)) AS m1,
           COALESCE(o.mr, '{}'::tstzmultirange) AS on_mr, COALESCE(w.hold_mr, '{}'::tstzmultirange) AS hold_mr,
           COALESCE(w.busy_mr, '{}'::tstzmultirange) AS busy_mr,
           COALESCE(l.n, 0) AS late_n, COALESCE(mi.n, 0) AS miss_n, COALESCE(an.n, 0) AS anom_n
      FROM eng g CROSS JOIN m
      LEFT JOIN on_m o ON o.engineer_id = g.engineer_id AND o.month = m.month
      LEFT JOIN work_m w ON w.engineer_id = g.engineer_id AND w.month = m.month
      LEFT JOIN late_m l ON l.engineer_id = g.engineer_id AND l.month = m.month
      LEFT JOIN miss_m mi ON mi.engineer_id = g.engineer_id AND mi.month = m.month
      LEFT JOIN anom_m an ON an.engineer_id = g.engineer_id AND an.month = m.month
)
SELECT x.engineer_id, x.month,
       CASE WHEN x.cal IS NOT NULL THEN pg_catalog.round(aftersales.business_minutes(x.cal, x.m0, x.m1) / 60, 2) END,
       pg_catalog.round(aftersales_internal.range_hours(x.on_mr)::numeric, 2),
       pg_catalog.round(aftersales_internal.range_hours(x.busy_mr)::numeric, 2),
       pg_catalog.round(aftersales_internal.range_hours(x.on_mr - x.hold_mr)::numeric, 2),
       CASE WHEN aftersales_internal.range_hours(x.on_mr) > 0
            THEN pg_catalog.round((aftersales_internal.range_hours(x.busy_mr * x.on_mr)
                                   / aftersales_internal.range_hours(x.on_mr))::numeric, 4) END,
       x.late_n, x.miss_n, x.anom_n
  FROM x
$$;
COMMENT ON FUNCTION aftersales_internal.engineer_months(bigint, integer, timestamptz) IS
  'Internal: per engineer and month (reporting zone) of the last months to as_of: scheduled (to as_of), on-duty, busy and idle hours, utilisation, late check-ins, missing check-outs and location anomalies';

CREATE VIEW aftersales.staff_time_daily WITH (security_invoker = true) AS
SELECT t.tenant_id, t.engineer_id, e.name AS engineer_name, t.org_id, o.name AS org_name, e.region::text AS region,
       t.day, t.scheduled_hours::numeric(8,2) AS scheduled_hours, t.on_duty_hours::numeric(8,2) AS on_duty_hours,
       t.busy_hours::numeric(8,2) AS busy_hours, t.holding_hours::numeric(8,2) AS holding_hours,
       t.idle_hours::numeric(8,2) AS idle_hours, t.utilisation::numeric(6,4) AS utilisation,
       t.late AS late_check_in, t.missing_check_outs, t.location_anomalies
  FROM aftersales_internal.board_days(aftersales.current_tenant(), aftersales.now()) w
 CROSS JOIN LATERAL aftersales.engineer_time(w.since, w.until, aftersales.now(), aftersales.current_tenant()) t
  JOIN aftersales.engineers e ON e.tenant_id = t.tenant_id AND e.engineer_id = t.engineer_id
  LEFT JOIN aftersales.organisations o ON o.tenant_id = t.tenant_id AND o.org_id = t.org_id;
COMMENT ON VIEW aftersales.staff_time_daily IS
  'Staff board: per engineer and day of the last 31 days, scheduled, on-duty, busy, holding and idle hours, utilisation, late check-in, missing check-outs and location anomalies (人员忙闲, 在岗时长, 位置异常); aftersales.engineer_time gives any range';
COMMENT ON COLUMN aftersales.staff_time_daily.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.staff_time_daily.engineer_id IS 'Engineer';
COMMENT ON COLUMN aftersales.staff_time_daily.engineer_name IS 'Engineer''s name';
COMMENT ON COLUMN aftersales.staff_time_daily.org_id IS 'Engineer''s organisation';
COMMENT ON COLUMN aftersales.staff_time_daily.org_name IS 'Organisation''s name';
COMMENT ON COLUMN aftersales.staff_time_daily.region IS 'Engineer''s region';
COMMENT ON COLUMN aftersales.staff_time_daily.day IS 'Day, in the engineer''s calendar zone (else the reporting zone)';
COMMENT ON COLUMN aftersales.staff_time_daily.scheduled_hours IS 'Hours of shifts in the engineer''s calendar that day; NULL without a calendar';
COMMENT ON COLUMN aftersales.staff_time_daily.on_duty_hours IS 'Hours checked in (在岗时长)';
COMMENT ON COLUMN aftersales.staff_time_daily.busy_hours IS 'Hours holding a ticket in progress or on site';
COMMENT ON COLUMN aftersales.staff_time_daily.holding_hours IS 'Hours holding any open ticket (assigned, in progress, on site, on hold)';
COMMENT ON COLUMN aftersales.staff_time_daily.idle_hours IS 'Hours on duty holding nothing';
COMMENT ON COLUMN aftersales.staff_time_daily.utilisation IS 'Busy hours while on duty / on-duty hours, 0 to 1; NULL when not on duty';
COMMENT ON COLUMN aftersales.staff_time_daily.late_check_in IS 'The first check-in came after the shift start plus late_grace_minutes';
COMMENT ON COLUMN aftersales.staff_time_daily.missing_check_outs IS 'Check-ins of the day without a check-out';
COMMENT ON COLUMN aftersales.staff_time_daily.location_anomalies IS 'Check-ins of the day far from the outlet or the site';

CREATE VIEW aftersales.staff_time_monthly WITH (security_invoker = true) AS
SELECT e.tenant_id, t.month, t.engineer_id, e.name AS engineer_name, e.region::text AS region,
       t.scheduled_hours::numeric(10,2) AS scheduled_hours, t.on_duty_hours::numeric(10,2) AS on_duty_hours,
       t.busy_hours::numeric(10,2) AS busy_hours, t.idle_hours::numeric(10,2) AS idle_hours,
       t.utilisation::numeric(6,4) AS utilisation, t.late_check_ins, t.missing_check_outs, t.location_anomalies
  FROM aftersales_internal.engineer_months(aftersales.current_tenant(), 13, aftersales.now()) t
  JOIN aftersales.engineers e ON e.tenant_id = aftersales.current_tenant() AND e.engineer_id = t.engineer_id;
COMMENT ON VIEW aftersales.staff_time_monthly IS
  'Staff board: the monthly trend over the last 13 months (reporting zone) of busy, idle and on-duty hours, utilisation, late check-ins, missing check-outs and location anomalies per engineer (忙闲月度趋势)';
COMMENT ON COLUMN aftersales.staff_time_monthly.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.staff_time_monthly.month IS 'First day of the month';
COMMENT ON COLUMN aftersales.staff_time_monthly.engineer_id IS 'Engineer';
COMMENT ON COLUMN aftersales.staff_time_monthly.engineer_name IS 'Engineer''s name';
COMMENT ON COLUMN aftersales.staff_time_monthly.region IS 'Engineer''s region';
COMMENT ON COLUMN aftersales.staff_time_monthly.scheduled_hours IS 'Hours of shifts in the month (to now for the current month)';
COMMENT ON COLUMN aftersales.staff_time_monthly.on_duty_hours IS 'Hours checked in';
COMMENT ON COLUMN aftersales.staff_time_monthly.busy_hours IS 'Hours holding a ticket in progress or on site';
COMMENT ON COLUMN aftersales.staff_time_monthly.idle_hours IS 'Hours on duty holding nothing';
COMMENT ON COLUMN aftersales.staff_time_monthly.utilisation IS 'Busy hours while on duty / on-duty hours, 0 to 1';
COMMENT ON COLUMN aftersales.staff_time_monthly.late_check_ins IS 'Days with a late first check-in';
COMMENT ON COLUMN aftersales.staff_time_monthly.missing_check_outs IS 'Check-ins without a check-out';
COMMENT ON COLUMN aftersales.staff_time_monthly.location_anomalies IS 'Check-ins far from the outlet or the site';

-- Holdings (保有量) here are installed units, as the region board uses the
-- word ("人员保有设备数量": the units each engineer of a region looks
-- after); open tickets per engineer are kpi_holdings.  Headcount is the
-- region's active engineers today (engineers have no history).
CREATE VIEW aftersales.staff_region_monthly WITH (security_invoker = true) AS
WITH w AS (
    SELECT z.zone, (pg_catalog.date_trunc('month', pg_catalog.timezone(z.zone, aftersales.now())) - '24 months'::interval)::date AS first_month,
           pg_catalog.date_trunc('month', pg_catalog.timezone(z.zone, aftersales.now()))::date AS last_month
      FROM (SELECT aftersales.reporting_zone(aftersales.current_tenant()) AS zone) z
), months AS (
    SELECT g.m::date AS month FROM w, pg_catalog.generate_series(w.first_month::timestamp, w.last_month::timestamp, '1 month'::interval) g (m)
), regions AS (
    SELECT r.region FROM pg_catalog.unnest('{华东,华北,东北,中南,西北,西南}'::text[]) r (region)
), heads AS (
    SELECT e.region::text AS region, pg_catalog.count(*) AS engineers
      FROM aftersales.engineers e WHERE e.tenant_id = aftersales.current_tenant() AND e.active GROUP BY 1
), installs AS (
    -- units by region and month of installation (undated: before any month)
    SELECT c.region::text AS region,
           COALESCE(pg_catalog.date_trunc('month', u.installed_on)::date, '-infinity'::date) AS month, pg_catalog.count(*) AS n
      FROM aftersales.units u JOIN aftersales.customers c ON c.tenant_id = u.tenant_id AND c.customer_id = u.customer_id
     WHERE u.tenant_id = aftersales.current_tenant()
     GROUP BY 1, 2
), entered AS (
    SELECT COALESCE(c.region, o.region)::text AS region,
           pg_catalog.date_trunc('month', pg_catalog.timezone(w.zone, t.opened_at))::date AS month, pg_catalog.count(*) AS n
      FROM aftersales.tickets t
      JOIN aftersales.customers c ON c.tenant_id = t.tenant_id AND c.customer_id = t.customer_id
      LEFT JOIN aftersales.organisations o ON o.tenant_id = t.tenant_id AND o.org_id = t.org_id
     CROSS JOIN w
     WHERE t.tenant_id = aftersales.current_tenant() AND t.opened_at >= w.first_month::timestamp AT TIME ZONE w.zone - '1 day'::interval
     GROUP BY 1, 2
), per AS (
    SELECT m.month, r.region, COALESCE(h.engineers, 0) AS engineers,
           COALESCE((SELECT pg_catalog.sum(i.n) FROM installs i WHERE i.region = r.region AND i.month <= m.month), 0)::bigint
               AS installed_units,
           COALESCE(e.n, 0) AS intake
      FROM months m CROSS JOIN regions r
      LEFT JOIN heads h ON h.region = r.region
      LEFT JOIN entered e ON e.region = r.region AND e.month = m.month
)
SELECT aftersales.current_tenant() AS tenant_id, p.month, p.region, p.engineers, p.installed_units,
       (CASE WHEN p.engineers > 0 THEN p.installed_units::numeric / p.engineers END)::numeric(12,2) AS units_per_engineer,
       p.intake,
       (CASE WHEN p.engineers > 0 THEN p.intake::numeric / p.engineers END)::numeric(12,2) AS intake_per_engineer,
       (CASE WHEN prev.installed_units > 0
             THEN p.installed_units::numeric / prev.installed_units - 1 END)::numeric(8,4) AS installed_units_mom,
       (CASE WHEN ly.installed_units > 0
             THEN p.installed_units::numeric / ly.installed_units - 1 END)::numeric(8,4) AS installed_units_yoy,
       (CASE WHEN prev.intake > 0 THEN p.intake::numeric / prev.intake - 1 END)::numeric(8,4) AS intake_mom,
       (CASE WHEN ly.intake > 0 THEN p.intake::numeric / ly.intake - 1 END)::numeric(8,4) AS intake_yoy
  FROM per p
  LEFT JOIN per prev ON prev.region = p.region AND prev.month = (p.month - '1 month'::interval)::date
  LEFT JOIN per ly ON ly.region = p.region AND ly.month = (p.month - '12 months'::interval)::date
 WHERE p.month >= (SELECT (w.last_month - '12 months'::interval)::date FROM w);
COMMENT ON VIEW aftersales.staff_region_monthly IS
  'Staff board, per region (华东 … 西南) and month of the last 13: headcount, installed units (保有量) and intake, per engineer, with month-on-month and year-on-year changes';
COMMENT ON COLUMN aftersales.staff_region_monthly.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.staff_region_monthly.month IS 'First day of the month, in the reporting zone';
COMMENT ON COLUMN aftersales.staff_region_monthly.region IS 'Region';
COMMENT ON COLUMN aftersales.staff_region_monthly.engineers IS 'Active engineers of the region (today)';
COMMENT ON COLUMN aftersales.staff_region_monthly.installed_units IS 'Units installed at the region''s customers by the end of the month (保有量)';
COMMENT ON COLUMN aftersales.staff_region_monthly.units_per_engineer IS 'Installed units per engineer of the region';
COMMENT ON COLUMN aftersales.staff_region_monthly.intake IS 'Tickets entered in the month for the region''s customers (接单量)';
COMMENT ON COLUMN aftersales.staff_region_monthly.intake_per_engineer IS 'Tickets entered per engineer of the region';
COMMENT ON COLUMN aftersales.staff_region_monthly.installed_units_mom IS 'Change of installed units against the month before (0.05 = +5%)';
COMMENT ON COLUMN aftersales.staff_region_monthly.installed_units_yoy IS 'Change of installed units against the same month a year before';
COMMENT ON COLUMN aftersales.staff_region_monthly.intake_mom IS 'Change of intake against the month before';
COMMENT ON COLUMN aftersales.staff_region_monthly.intake_yoy IS 'Change of intake against the same month a year before';

-- First maintenance (首保): a unit's first ticket.  Dispatches are the
-- assignments that gave a ticket to an engineer (as kpi_dispatch counts).
CREATE VIEW aftersales.staff_dispatch_monthly WITH (security_invoker = true) AS
WITH z AS (SELECT aftersales.reporting_zone(aftersales.current_tenant()) AS zone),
d AS (
    SELECT pg_catalog.date_trunc('month', pg_catalog.timezone(z.zone, ev.at))::date AS month,
           COALESCE(t.org_type, 'none') AS org_type,
           t.unit_id IS NOT NULL AND NOT EXISTS (
               SELECT FROM aftersales.tickets x
                WHERE x.tenant_id = t.tenant_id AND x.unit_id = t.unit_id AND x.ticket_id < t.ticket_id) AS first_maintenance
      FROM aftersales.ticket_events ev
      JOIN aftersales._kpi_ticket_dims t ON t.tenant_id = ev.tenant_id AND t.ticket_id = ev.ticket_id, z
     WHERE ev.tenant_id = aftersales.current_tenant() AND ev.event IN ('assign', 'reassign', 'take_over')
       AND ev.to_state = 'assigned' AND ev.at <= aftersales.now()
)
SELECT aftersales.current_tenant() AS tenant_id, d.month, d.org_type, pg_catalog.count(*) AS dispatches,
       (pg_catalog.count(*)::numeric / pg_catalog.sum(pg_catalog.count(*)) OVER (PARTITION BY d.month))::numeric(6,4) AS dispatch_share,
       pg_catalog.count(*) FILTER (WHERE d.first_maintenance) AS first_maintenance_dispatches,
       (pg_catalog.count(*) FILTER (WHERE d.first_maintenance)::numeric / pg_catalog.count(*))::numeric(6,4) AS first_maintenance_share
  FROM d
 GROUP BY d.month, d.org_type;
COMMENT ON VIEW aftersales.staff_dispatch_monthly IS
  'Staff board: dispatches (assignments to an engineer) per month and organisation type (代表处, 经销商, 供应商), their share of the month, and the first-maintenance share (首保占比: dispatches of a unit''s first ticket)';
COMMENT ON COLUMN aftersales.staff_dispatch_monthly.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.staff_dispatch_monthly.month IS 'First day of the month of the dispatch, in the reporting zone';
COMMENT ON COLUMN aftersales.staff_dispatch_monthly.org_type IS 'Type of the ticket''s organisation (representative_office, dealer, supplier, headquarters), none without one';
COMMENT ON COLUMN aftersales.staff_dispatch_monthly.dispatches IS 'Assignments that gave a ticket to an engineer (派工量)';
COMMENT ON COLUMN aftersales.staff_dispatch_monthly.dispatch_share IS 'Share of the month''s dispatches, 0 to 1';
COMMENT ON COLUMN aftersales.staff_dispatch_monthly.first_maintenance_dispatches IS 'Dispatches of a unit''s first ticket (首保)';
COMMENT ON COLUMN aftersales.staff_dispatch_monthly.first_maintenance_share IS 'First-maintenance dispatches / dispatches, 0 to 1 (首保占比)';

CREATE VIEW aftersales.dispatch_decisions WITH (security_invoker = true) AS
SELECT d.tenant_id, d.decision_id, d.ticket_id, d.decided_at, d.mode, d.outcome, d.engineer_id, e.name AS engineer_name,
       d.total_score::numeric(6,4) AS total_score, d.candidates,
       (d.ranking -> 0 ->> 'reasons') AS reasons
  FROM aftersales.assignment_decisions d
  LEFT JOIN aftersales.engineers e ON e.tenant_id = d.tenant_id AND e.engineer_id = d.engineer_id
 WHERE d.tenant_id = aftersales.current_tenant();
COMMENT ON VIEW aftersales.dispatch_decisions IS
  'Automatic assignments with the reasons of the engineer chosen, for the dispatch board';
COMMENT ON COLUMN aftersales.dispatch_decisions.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.dispatch_decisions.decision_id IS 'Decision';
COMMENT ON COLUMN aftersales.dispatch_decisions.ticket_id IS 'Ticket';
COMMENT ON COLUMN aftersales.dispatch_decisions.decided_at IS 'When';
COMMENT ON COLUMN aftersales.dispatch_decisions.mode IS 'call, entry or sweep';
COMMENT ON COLUMN aftersales.dispatch_decisions.outcome IS 'assigned, locked or no_candidate';
COMMENT ON COLUMN aftersales.dispatch_decisions.engineer_id IS 'Engineer chosen';
COMMENT ON COLUMN aftersales.dispatch_decisions.engineer_name IS 'Engineer''s name';
COMMENT ON COLUMN aftersales.dispatch_decisions.total_score IS 'Weighted score of the engineer chosen, 0 to 1';
COMMENT ON COLUMN aftersales.dispatch_decisions.candidates IS 'Candidates that passed the filters';
COMMENT ON COLUMN aftersales.dispatch_decisions.reasons IS 'Why the best candidate ranked first, in words';

GRANT SELECT ON aftersales.staff_time_daily, aftersales.staff_time_monthly, aftersales.staff_region_monthly,
    aftersales.staff_dispatch_monthly, aftersales.dispatch_decisions
    TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer, aftersales_analyst, aftersales_auditor;

-- ---------------------------------------------------------------------------
-- The catalogue

INSERT INTO aftersales.kpi_catalogue
       (tenant_id, code, category, name_en, name_zh, definition, formula, unit, target, target_direction, source, sort_order, customised)
SELECT 1, x.code, 'staff', x.name_en, x.name_zh, x.definition, x.formula, x.unit, x.target, x.direction, x.source, x.ord, false
  FROM (VALUES
 ('on_duty_hours', 'On-duty hours', '在岗时长',
  'Hours an engineer was checked in (check-in to check-out; an open session up to now; a check-in without a check-out counts nothing and is flagged). 在岗时长: 签到至签退的时长。',
  'sum(check_out - check_in)', 'hours', NULL::numeric, NULL::text, 'engineer_time, staff_time_daily, staff_time_monthly', 400),
 ('busy_hours', 'Busy hours', '忙碌时长',
  'Hours an engineer held a ticket in progress or on site, from the tickets'' event log. 忙碌: 持有处理中或到场的工单。',
  'sum(time in in_progress or on_site as assignee)', 'hours', NULL, NULL, 'engineer_time, staff_time_daily, staff_time_monthly', 401),
 ('idle_hours', 'Idle hours', '空闲时长',
  'Hours an engineer was on duty (checked in) holding no open ticket. 空闲: 在岗且未持有任何未完成工单。',
  'on duty - holding', 'hours', NULL, NULL, 'engineer_time, staff_time_daily, staff_time_monthly', 402),
 ('utilisation', 'Technician utilisation', '服务人员利用率',
  'Busy hours while on duty over on-duty hours. 利用率: 在岗期间的忙碌时长 / 在岗时长。',
  'busy ∩ on duty / on duty', 'ratio', 0.7, '>=', 'engineer_time, staff_time_daily, staff_time_monthly', 403),
 ('late_check_ins', 'Late check-ins', '迟到次数',
  'Days whose first check-in came after the shift start (the engineer''s calendar) plus the setting late_grace_minutes (10). 迟到: 当日首次签到晚于班次开始加宽限。',
  'count(first check-in > shift start + grace)', 'tickets', NULL, NULL, 'staff_time_monthly', 404),
 ('location_anomalies', 'Location anomalies', '位置异常',
  'Check-ins farther than the setting anomaly_distance_km (3 km) from the outlet, or on site from the customer''s site. 位置异常: 签到位置距网点或客户现场超过设定距离。',
  'count(reference_km > anomaly_distance_km)', 'tickets', NULL, NULL, 'attendance_days, staff_time_monthly', 405),
 ('missing_check_outs', 'Missing check-outs', '漏签退',
  'Check-ins followed by another check-in, or not closed within max_session_hours (16). 漏签退: 签到后未签退。',
  'count(check-in without check-out)', 'tickets', NULL, NULL, 'attendance_days, staff_time_monthly', 406),
 ('units_per_engineer', 'Installed units per engineer', '人均保有量',
  'Units installed at a region''s customers by the end of the month, per active engineer of the region. 人均保有量: 区域设备保有量 / 区域在职工程师数。',
  'installed units / engineers', 'tickets', NULL, NULL, 'staff_region_monthly', 407),
 ('intake_per_engineer', 'Intake per engineer', '人均接单量',
  'Tickets entered in the month for a region''s customers, per active engineer of the region. 人均接单量。',
  'tickets entered / engineers', 'tickets', NULL, NULL, 'staff_region_monthly', 408),
 ('first_maintenance_share', 'First-maintenance share', '首保占比',
  'Dispatches of a unit''s first ticket over all dispatches, per month and organisation type. 首保占比: 设备首次工单的派工占比。',
  'first-maintenance dispatches / dispatches', 'ratio', NULL, NULL, 'staff_dispatch_monthly', 409)
) AS x (code, name_en, name_zh, definition, formula, unit, target, direction, source, ord);
