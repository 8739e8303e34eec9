-- kpi_rollup.sql: KPI view reads from the incremental rollups against the
-- full recomputation from the raw rows, in the same run.
--
-- Reproduce: make bench ONLY=kpi_rollup
--   (100,000 tickets; AFTERSALES_BENCH_TICKETS=1000000 make bench ONLY=kpi_rollup
--   for a million)
--
-- Data: the KPI benchmark's year (test/bench/kpi.sql: the same generator,
-- seed and shape) for tenant 9510, built set-based under
-- session_replication_role = replica (the rollup queue triggers fire even
-- then), then rebuild_kpi_rollups().  Measured (best of 3, SELECT
-- count(q.*) FROM (SELECT * FROM view) q, as a BI tool opens a view):
--   * each view that reads the rollups, with them and with
--     aftersales.kpi_rollups = off (the raw path, the reference), and the
--     ratio;
--   * the same right after 1,000 tickets changed (a reopen each), unfolded
--     (the queue read live), and the fold that then takes them;
--   * the rebuild, and the disk space of the rollup tables.
-- The data is removed at the end.

\set QUIET on
SET client_min_messages = warning;
SET jit = off;
SET work_mem = '64MB';
\set bench_tickets ''
\getenv bench_tickets AFTERSALES_BENCH_TICKETS
SELECT COALESCE(NULLIF(:'bench_tickets', ''), '100000')::integer AS bench_tickets \gset
-- Leftovers of an interrupted run.
SET session_replication_role = replica;
DELETE FROM aftersales.ticket_events WHERE tenant_id = 9510;
DELETE FROM aftersales.ticket_sla WHERE tenant_id = 9510;
DELETE FROM aftersales.tickets WHERE tenant_id = 9510;
DELETE FROM aftersales.units WHERE tenant_id = 9510;
DELETE FROM aftersales.engineers WHERE tenant_id = 9510;
DELETE FROM aftersales.customers WHERE tenant_id = 9510;
DELETE FROM aftersales.organisations WHERE tenant_id = 9510;
DELETE FROM aftersales.product_models WHERE tenant_id = 9510;
DELETE FROM aftersales.product_lines WHERE tenant_id = 9510;
DELETE FROM aftersales.problem_types WHERE tenant_id = 9510;
DELETE FROM aftersales.sla_targets WHERE tenant_id = 9510;
DELETE FROM aftersales.sla_policies WHERE tenant_id = 9510;
DELETE FROM aftersales.calendars WHERE tenant_id = 9510;
DELETE FROM aftersales.kpi_settings WHERE tenant_id = 9510;
DELETE FROM aftersales.tenants WHERE tenant_id = 9510;
SET session_replication_role = origin;

\echo 'kpi rollup bench: building tickets ...'
SELECT clock_timestamp() AS build_start \gset
SELECT setseed(0.5150) \gset

INSERT INTO aftersales.tenants (tenant_id, name) VALUES (9510, 'kpi rollup bench');
SET aftersales.tenant_id = '9510';
SET aftersales.now = '2027-01-01 00:00+08';
SELECT aftersales.set_calendar('office', 'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00') \gset
INSERT INTO aftersales.sla_policies (name, calendar, is_default) VALUES ('default', 'office', true);
INSERT INTO aftersales.sla_targets (policy_id, priority, metric, target, clock, pauses_on_hold)
SELECT p.policy_id, x.priority::aftersales.priority, x.metric::aftersales.sla_metric, x.target::interval, 'business',
       x.metric = 'resolution'
  FROM aftersales.sla_policies p,
       (VALUES ('A', 'first_response', '10 min'), ('A', 'resolution', '4 h'),  ('A', 'arrival', '4 h'),
               ('B', 'first_response', '30 min'), ('B', 'resolution', '8 h'),  ('B', 'arrival', '8 h'),
               ('C', 'first_response', '2 h'),    ('C', 'resolution', '24 h'), ('C', 'arrival', '16 h'))
       AS x (priority, metric, target)
 WHERE p.tenant_id = 9510;

-- Geography: regions, provinces, and 8 outlets per province.
CREATE TEMP TABLE geo (region text, weight float8, provinces text[]);
INSERT INTO geo VALUES
  ('华东', 0.30, '{上海,江苏,浙江,安徽,福建,江西,山东}'),
  ('华北', 0.18, '{北京,天津,河北,山西,内蒙古}'),
  ('东北', 0.08, '{辽宁,吉林,黑龙江}'),
  ('中南', 0.22, '{河南,湖北,湖南,广东,广西,海南}'),
  ('西南', 0.12, '{重庆,四川,贵州,云南,西藏}'),
  ('西北', 0.10, '{陕西,甘肃,青海,宁夏,新疆}');
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ bench');
INSERT INTO aftersales.organisations (parent_id, level, name, region)
SELECT (SELECT org_id FROM aftersales.organisations WHERE tenant_id = 9510 AND level = 'hq'), 'region', region || '大区', region
  FROM geo ORDER BY region;
INSERT INTO aftersales.organisations (parent_id, level, name, province)
SELECT o.org_id, 'province', p || '代表处', p
  FROM geo g CROSS JOIN unnest(g.provinces) p
  JOIN aftersales.organisations o ON o.tenant_id = 9510 AND o.level = 'region' AND o.region = g.region
 ORDER BY 3;
INSERT INTO aftersales.organisations (parent_id, level, org_type, name)
SELECT o.org_id, 'outlet', (ARRAY['dealer', 'dealer', 'dealer', 'supplier', 'supplier', 'representative_office', 'dealer', 'supplier'])[i],
       o.province || '网点' || i
  FROM aftersales.organisations o CROSS JOIN generate_series(1, 8) i
 WHERE o.tenant_id = 9510 AND o.level = 'province'
 ORDER BY o.org_id, i;

-- Provinces weighted by their region's weight, in a table to draw from.
CREATE TEMP TABLE province_draw AS
SELECT g.region, p AS province, sum(g.weight / cardinality(g.provinces)) OVER (ORDER BY g.region, p) AS upto
  FROM geo g CROSS JOIN unnest(g.provinces) p;
CREATE TEMP TABLE outlets AS
SELECT o.org_id, o.province, row_number() OVER (PARTITION BY o.province ORDER BY o.org_id) AS k
  FROM aftersales.organisations o WHERE o.tenant_id = 9510 AND o.level = 'outlet';
CREATE INDEX ON outlets (province, k);
ANALYZE province_draw, outlets;

INSERT INTO aftersales.customers (name, tier, region, province, org_id)
SELECT 'customer ' || c.i, (ARRAY['key', 'major', 'standard', 'standard', 'standard'])[1 + (c.i % 5)],
       d.region, d.province, (SELECT ol.org_id FROM outlets ol WHERE ol.province = d.province AND ol.k = 1 + (c.i % 8))
  FROM (SELECT i, random() AS r FROM generate_series(1, 20000) i) c
 CROSS JOIN LATERAL (SELECT pd.region, pd.province FROM province_draw pd WHERE pd.upto >= c.r * 0.999999
                      ORDER BY pd.upto LIMIT 1) d
 ORDER BY c.i;
INSERT INTO aftersales.product_lines (code, name) VALUES ('B-CMP', 'Compressors'), ('B-PMP', 'Pumps'), ('B-FAN', 'Fans');
INSERT INTO aftersales.product_models (product_line_id, code, name, warranty_months)
SELECT l.product_line_id, l.code || '-' || i, l.name || ' ' || i, (ARRAY[12, 24, 36])[1 + i % 3]
  FROM aftersales.product_lines l CROSS JOIN generate_series(1, 10) i
 WHERE l.tenant_id = 9510 ORDER BY l.product_line_id, i;
INSERT INTO aftersales.problem_types (code, name)
SELECT 'B-P' || i, 'problem ' || i FROM generate_series(1, 25) i;
CREATE TEMP TABLE ids AS
SELECT (SELECT min(customer_id) FROM aftersales.customers WHERE tenant_id = 9510) AS c0,
       (SELECT min(model_id) FROM aftersales.product_models WHERE tenant_id = 9510) AS m0,
       (SELECT min(problem_type_id) FROM aftersales.problem_types WHERE tenant_id = 9510) AS p0,
       (SELECT min(org_id) FROM aftersales.organisations WHERE tenant_id = 9510 AND level = 'outlet') AS o0;
INSERT INTO aftersales.units (model_id, customer_id, serial, installed_on, warranty_ends)
SELECT ids.m0 + (u.i % 30), ids.c0 + (u.i % 20000), 'SN' || u.i,
       date '2023-01-01' + (random() * 1460)::integer,
       NULL
  FROM ids, generate_series(1, 200000) u (i);
UPDATE aftersales.units u SET warranty_ends = u.installed_on + 365 * (1 + u.unit_id % 3)::integer
 WHERE u.tenant_id = 9510 AND u.unit_id % 2 = 0;
INSERT INTO aftersales.engineers (org_id, name, region, capacity)
SELECT ol.org_id, 'engineer ' || e.i, NULL, 6 + e.i % 7
  FROM generate_series(1, 600) e (i) JOIN outlets ol ON ol.org_id = (SELECT o0 FROM ids) + (e.i % 248);
CREATE TEMP TABLE units_by_n AS
SELECT row_number() OVER (ORDER BY u.unit_id) AS n, u.unit_id, u.customer_id, u.model_id
  FROM aftersales.units u WHERE u.tenant_id = 9510;
CREATE UNIQUE INDEX ON units_by_n (n);
CREATE TEMP TABLE engineers_by_org AS
SELECT e.org_id, e.engineer_id, row_number() OVER (PARTITION BY e.org_id ORDER BY e.engineer_id) AS k,
       count(*) OVER (PARTITION BY e.org_id) AS n
  FROM aftersales.engineers e WHERE e.tenant_id = 9510;
CREATE UNIQUE INDEX ON engineers_by_org (org_id, k);
CREATE TEMP TABLE engineers_by_n AS
SELECT row_number() OVER (ORDER BY e.engineer_id) AS n, e.engineer_id FROM aftersales.engineers e WHERE e.tenant_id = 9510;
CREATE UNIQUE INDEX ON engineers_by_n (n);
ANALYZE units_by_n, engineers_by_org, engineers_by_n;

-- The tickets, drawn in a temporary table first: every time stamp follows
-- from the draws, so the rows hold the closed loop's invariants.
CREATE TEMP TABLE draw AS
SELECT g.i,
       timestamptz '2026-01-01 00:00+08'
         + (x.t - 0.06 * sin(2 * pi() * x.t)) * interval '365 days' AS opened_at,
       random() AS r_unit, random() AS r_cust, random() AS r_prio, random() AS r_chan, random() AS r_field,
       random() AS r_fate, random() AS r_resp, random() AS r_arr, random() AS r_res, random() AS r_fail,
       random() AS r_reopen, random() AS r_follow, random() AS r_csat, random() AS r_nps, random() AS r_org,
       random() AS r_eng, random() AS r_prob
  FROM (SELECT i, random() AS t FROM generate_series(1, :bench_tickets) i) x, LATERAL (SELECT x.i) g (i);

CREATE TEMP TABLE shaped AS
SELECT d.i, d.opened_at,
       u.unit_id, COALESCE(u.customer_id, ids.c0 + (d.r_cust * 20000)::integer % 20000) AS customer_id,
       CASE WHEN u.unit_id IS NOT NULL THEN u.model_id WHEN d.r_cust < 0.5 THEN ids.m0 + (d.r_cust * 60)::integer % 30 END AS model_id,
       ids.p0 + least(24, floor(25 * d.r_prob * d.r_prob)::integer) AS problem_type_id,
       CASE WHEN d.r_prio < 0.10 THEN 'A' WHEN d.r_prio < 0.40 THEN 'B' ELSE 'C' END::aftersales.priority AS priority,
       (ARRAY['phone', 'phone', 'phone', 'wechat', 'wechat', 'app', 'web', 'email', 'field', 'other'])[1 + floor(d.r_chan * 10)::integer] AS channel,
       d.r_field < 0.45 AS field,
       CASE WHEN d.r_fate < 0.02 THEN 'cancelled'
            WHEN d.r_fate < 0.035 THEN (ARRAY['new', 'assigned', 'in_progress', 'on_site', 'on_hold', 'locked'])[1 + floor((d.r_fate - 0.02) / 0.0025)::integer]
            ELSE 'done' END AS fate,
       -- minutes after entry
       CASE WHEN d.r_resp < 0.7 THEN d.r_resp / 0.7 * 10 ELSE 10 + exp(d.r_resp * 6) END AS resp_min,
       30 + exp(d.r_arr * 6.3) AS arr_after_resp_min,
       5 + exp(d.r_res * 7.8) AS res_after_min,
       d.r_fail < 0.06 AS failed, d.r_reopen < 0.04 AS reopened,
       d.r_follow < 0.85 AS followed, d.r_csat, d.r_nps, d.r_org, d.r_eng
  FROM draw d CROSS JOIN ids
  LEFT JOIN units_by_n u ON d.r_unit < 0.7 AND u.n = 1 + floor(d.r_unit / 0.7 * 200000)::integer;
DROP TABLE draw;

CREATE TEMP TABLE lived AS
SELECT s.*, c.org_id AS customer_org,
       s.opened_at + s.resp_min * interval '1 minute' AS t_resp,
       CASE WHEN s.field THEN s.opened_at + (s.resp_min + s.arr_after_resp_min) * interval '1 minute' END AS t_arr,
       s.opened_at + (s.resp_min + CASE WHEN s.field THEN s.arr_after_resp_min ELSE 0 END + s.res_after_min) * interval '1 minute' AS t_res,
       COALESCE((SELECT eo.engineer_id FROM engineers_by_org eo
                  WHERE eo.org_id = c.org_id AND eo.k = 1 + floor(s.r_eng * eo.n)::integer),
                (SELECT en.engineer_id FROM engineers_by_n en WHERE en.n = 1 + floor(s.r_eng * 600)::integer)) AS engineer_id
  FROM shaped s JOIN aftersales.customers c ON c.tenant_id = 9510 AND c.customer_id = s.customer_id;
DROP TABLE shaped;
-- tickets resolved after the end of the year are still open at the end
UPDATE lived SET fate = 'in_progress' WHERE fate = 'on_site' AND NOT field;
UPDATE lived SET fate = CASE WHEN t_resp > timestamptz '2027-01-01 00:00+08' THEN 'new' ELSE 'in_progress' END
 WHERE fate = 'done' AND t_res + interval '1 hour' > timestamptz '2027-01-01 00:00+08';
ANALYZE lived;

SET session_replication_role = replica;
INSERT INTO aftersales.tickets
       (tenant_id, channel, customer_id, unit_id, model_id, problem_type_id, description, priority, org_id, field,
        assignee_id, status, held_from, attempt_count, reopen_count, opened_at, first_response_at, assigned_at,
        arrived_at, first_resolved_at, resolved_at, followed_up_at, closed_at, cancelled_at, satisfied, csat, nps,
        event_seq, last_event, last_event_at, last_actor)
SELECT 9510, l.channel, l.customer_id, l.unit_id, l.model_id, l.problem_type_id, 'bench', l.priority,
       CASE WHEN l.r_org < 0.8 THEN l.customer_org END, l.field,
       CASE WHEN st IN ('assigned', 'in_progress', 'on_site', 'resolved', 'closed') OR (st = 'on_hold') THEN l.engineer_id END,
       st::aftersales.ticket_status,
       CASE WHEN st = 'on_hold' THEN 'assigned'::aftersales.ticket_status END,
       l.failed::integer, (l.reopened AND st IN ('resolved', 'closed'))::integer,
       l.opened_at,
       CASE WHEN st NOT IN ('new', 'cancelled', 'locked') THEN l.t_resp END,
       CASE WHEN st NOT IN ('new', 'cancelled', 'locked') THEN l.opened_at + l.resp_min * 0.5 * interval '1 minute' END,
       CASE WHEN l.field AND st IN ('on_site', 'resolved', 'closed') THEN l.t_arr END,
       CASE WHEN st IN ('resolved', 'closed') THEN l.t_res - CASE WHEN l.reopened THEN (l.t_res - l.t_resp) / 2 ELSE interval '0' END END,
       CASE WHEN st IN ('resolved', 'closed') THEN l.t_res END,
       CASE WHEN st = 'closed' THEN l.t_res + interval '1 day' END,
       CASE WHEN st = 'closed' THEN l.t_res + interval '1 day' END,
       CASE WHEN st = 'cancelled' THEN l.opened_at + interval '30 minutes' END,
       CASE WHEN st = 'closed' THEN true END,
       CASE WHEN st = 'closed' AND l.r_csat < 0.75 THEN
            (ARRAY[1, 2, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5])[1 + floor(l.r_csat / 0.75 * 20)::integer] END::smallint,
       CASE WHEN st = 'closed' AND l.r_nps < 0.70 THEN
            (ARRAY[2, 4, 5, 6, 6, 7, 7, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 10, 10])[1 + floor(l.r_nps / 0.70 * 20)::integer] END::smallint,
       ev.n, ev.last_event::aftersales.ticket_event, ev.last_at, 'bench'
  FROM lived l
 CROSS JOIN LATERAL (SELECT CASE WHEN l.fate <> 'done' THEN l.fate
                                 WHEN l.followed AND l.t_res + interval '1 day' <= timestamptz '2027-01-01 00:00+08' THEN 'closed'
                                 ELSE 'resolved' END AS st) s
 CROSS JOIN LATERAL (SELECT 1 + (s.st NOT IN ('new', 'cancelled'))::integer
                              + (l.field AND s.st IN ('on_site', 'resolved', 'closed'))::integer
                              + (s.st IN ('resolved', 'closed'))::integer + (s.st = 'closed')::integer
                              + (s.st IN ('cancelled', 'on_hold'))::integer AS n,
                            CASE s.st WHEN 'new' THEN 'open' WHEN 'cancelled' THEN 'cancel' WHEN 'on_hold' THEN 'hold'
                                      WHEN 'locked' THEN 'lock' WHEN 'assigned' THEN 'assign' WHEN 'in_progress' THEN 'assign'
                                      WHEN 'on_site' THEN 'arrive' WHEN 'resolved' THEN 'resolve' ELSE 'follow_up' END AS last_event,
                            CASE s.st WHEN 'new' THEN l.opened_at WHEN 'cancelled' THEN l.opened_at + interval '30 minutes'
                                      WHEN 'on_site' THEN l.t_arr WHEN 'resolved' THEN l.t_res
                                      WHEN 'closed' THEN l.t_res + interval '1 day'
                                      ELSE l.opened_at + l.resp_min * 0.5 * interval '1 minute' END AS last_at) ev
 ORDER BY l.opened_at;
SET session_replication_role = origin;
DROP TABLE lived;

\echo 'kpi bench: SLA clocks and event log ...'
SET session_replication_role = replica;
INSERT INTO aftersales.ticket_sla (tenant_id, ticket_id, metric, policy_id, target, calendar, pauses_on_hold,
                                   started_at, due_at, stopped_at, outcome, elapsed, elapsed_wall)
SELECT t.tenant_id, t.ticket_id, tg.metric, tg.policy_id, tg.target, 'office', tg.pauses_on_hold, t.opened_at,
       aftersales.business_add(cal.calendar, t.opened_at, tg.target), x.stop,
       CASE WHEN x.stop IS NULL THEN NULL WHEN t.status = 'cancelled' THEN 'cancelled'
            WHEN tg.metric = 'arrival' AND t.arrived_at IS NULL THEN 'cancelled'
            WHEN x.stop <= aftersales.business_add(cal.calendar, t.opened_at, tg.target) THEN 'met' ELSE 'breached' END,
       aftersales.business_diff(cal.calendar, t.opened_at, x.stop), x.stop - t.opened_at
  FROM aftersales.tickets t
  JOIN aftersales.sla_targets tg ON tg.tenant_id = 9510 AND tg.priority = t.priority AND (tg.metric <> 'arrival' OR t.field)
  JOIN aftersales.calendars cal ON cal.tenant_id = 9510 AND cal.name = 'office'
 CROSS JOIN LATERAL (SELECT CASE WHEN t.status = 'cancelled' THEN t.cancelled_at
                                 WHEN tg.metric = 'first_response' THEN t.first_response_at
                                 WHEN tg.metric = 'arrival' THEN COALESCE(t.arrived_at, t.resolved_at)
                                 ELSE t.resolved_at END AS stop) x
 WHERE t.tenant_id = 9510;
-- The event log: open; assign; arrive; resolve; follow_up; or cancel, hold, lock.
INSERT INTO aftersales.ticket_events (tenant_id, ticket_id, seq, at, actor, event, from_state, to_state, payload)
SELECT t.tenant_id, t.ticket_id, row_number() OVER (PARTITION BY t.ticket_id ORDER BY e.k)::integer, e.at, 'bench',
       e.event::aftersales.ticket_event, e.from_state::aftersales.ticket_status, e.to_state::aftersales.ticket_status,
       e.payload
  FROM aftersales.tickets t
 CROSS JOIN LATERAL (VALUES
        (1, t.opened_at, 'open', NULL, 'new', jsonb_build_object('priority', t.priority)),
        (2, CASE WHEN t.assigned_at IS NOT NULL THEN t.assigned_at
                 WHEN t.status = 'locked' THEN t.last_event_at END,
            CASE WHEN t.status = 'locked' THEN 'lock' ELSE 'assign' END, 'new',
            CASE WHEN t.status = 'locked' THEN 'locked' ELSE 'assigned' END,
            CASE WHEN t.assignee_id IS NOT NULL THEN jsonb_build_object('assignee', t.assignee_id) ELSE '{}' END),
        (3, CASE WHEN t.status = 'in_progress' THEN t.first_response_at END, 'start', 'assigned', 'in_progress', '{}'::jsonb),
        (4, t.arrived_at, 'arrive', 'assigned', 'on_site', '{}'),
        (5, CASE WHEN t.status = 'on_hold' THEN t.last_event_at END, 'hold', 'assigned', 'on_hold', '{}'),
        (6, t.resolved_at, 'resolve', CASE WHEN t.arrived_at IS NOT NULL THEN 'on_site' ELSE 'assigned' END, 'resolved', '{}'),
        (7, t.closed_at, 'follow_up', 'resolved', 'closed', '{}'),
        (8, t.cancelled_at, 'cancel', 'new', 'cancelled', '{}')) AS e (k, at, event, from_state, to_state, payload)
 WHERE t.tenant_id = 9510 AND e.at IS NOT NULL;
SET session_replication_role = origin;
VACUUM ANALYZE aftersales.tickets, aftersales.ticket_sla, aftersales.ticket_events, aftersales.customers,
               aftersales.organisations, aftersales.units, aftersales.engineers;
SELECT (SELECT count(*) FROM aftersales.tickets WHERE tenant_id = 9510) AS tickets,
       (SELECT count(*) FROM aftersales.ticket_events WHERE tenant_id = 9510) AS events,
       round(EXTRACT(EPOCH FROM clock_timestamp() - :'build_start'::timestamptz)::numeric, 1) AS build_seconds
\gset
\echo 'kpi rollup bench: built' :tickets 'tickets,' :events 'events in' :build_seconds 's'

SELECT clock_timestamp() AS t0 \gset
SELECT aftersales.rebuild_kpi_rollups(9510) AS rebuilt \gset
SELECT round(EXTRACT(EPOCH FROM clock_timestamp() - :'t0'::timestamptz)::numeric, 1) AS rebuild_seconds \gset
VACUUM ANALYZE aftersales.kpi_rollup_cells, aftersales.kpi_rollup_tickets, aftersales.kpi_rollup_queue;
\echo 'kpi rollup bench: rebuild_kpi_rollups judged' :rebuilt 'tickets in' :rebuild_seconds 's'

CREATE FUNCTION pg_temp.run(q text) RETURNS SETOF bigint LANGUAGE plpgsql AS $f$
BEGIN
    RETURN QUERY EXECUTE 'SELECT count(q.*) FROM (' || q || ') q';
END
$f$;
CREATE FUNCTION pg_temp.best_ms(q text, runs integer DEFAULT 3) RETURNS numeric LANGUAGE plpgsql AS $f$
DECLARE
    t0 timestamptz;
    best numeric;
BEGIN
    FOR i IN 1..runs LOOP
        t0 := clock_timestamp();
        PERFORM * FROM pg_temp.run(q);
        best := least(best, EXTRACT(EPOCH FROM clock_timestamp() - t0) * 1000);
    END LOOP;
    RETURN round(best, 1);
END
$f$;
CREATE TEMP TABLE results (ord serial, measurement text, rollups_ms numeric, raw_ms numeric);
CREATE TEMP TABLE views (ord serial, v text);
INSERT INTO views (v) VALUES ('kpi_service_monthly'), ('kpi_service_monthly_by_region'),
                             ('kpi_service_monthly_by_org_type'), ('kpi_staff_monthly');
SET aftersales.tenant_id = '9510';
SET aftersales.now = '2027-01-01 00:00+08';

-- the rollup path is taken (else the comparison would be meaningless)
SELECT CASE WHEN aftersales_internal.rollup_grain('month', '-infinity', 'infinity', aftersales.now(), 'Asia/Shanghai', 9510) = 'month'
            THEN 'yes' ELSE 'NO' END AS taken \gset
\echo 'kpi rollup bench: the views read the rollups:' :taken

\echo 'kpi rollup bench: views, folded ...'
INSERT INTO results (measurement, rollups_ms) SELECT v.v || ', folded', pg_temp.best_ms('SELECT * FROM aftersales.' || v.v) FROM views v ORDER BY v.ord;
SET aftersales.kpi_rollups = off;
UPDATE results r SET raw_ms = pg_temp.best_ms('SELECT * FROM aftersales.' || v.v, 1) FROM views v WHERE r.measurement = v.v || ', folded';
RESET aftersales.kpi_rollups;

\echo 'kpi rollup bench: 1,000 reopens, unfolded ...'
SET aftersales.now = '2027-01-01 00:00+08';
SELECT count(aftersales.reopen_ticket(t.ticket_id, 'bench', at => '2027-01-01 00:00+08'))
  FROM (SELECT t.ticket_id FROM aftersales.tickets t WHERE t.tenant_id = 9510 AND t.status = 'closed'
         ORDER BY t.ticket_id LIMIT 1000) t \gset
SELECT count(*) AS queued FROM aftersales.kpi_rollup_queue WHERE tenant_id = 9510 \gset
INSERT INTO results (measurement, rollups_ms) SELECT v.v || ', ' || :queued || ' changes queued', pg_temp.best_ms('SELECT * FROM aftersales.' || v.v) FROM views v ORDER BY v.ord;
SELECT clock_timestamp() AS t0 \gset
SELECT aftersales.fold_kpi_rollups(9510) AS folded \gset
SELECT round(EXTRACT(EPOCH FROM clock_timestamp() - :'t0'::timestamptz) * 1000::numeric, 1) AS fold_ms \gset
\echo 'kpi rollup bench: fold of' :folded 'queue entries:' :fold_ms 'ms'
SELECT count(*) AS differing FROM aftersales.check_kpi_rollups(9510) \gset
\echo 'kpi rollup bench: check_kpi_rollups cells differing:' :differing

\set QUIET off
\pset footer off
SELECT measurement, rollups_ms, raw_ms, CASE WHEN raw_ms IS NOT NULL THEN round(raw_ms / NULLIF(rollups_ms, 0), 1) || 'x' END AS speed_up
  FROM results ORDER BY ord;
SELECT :tickets AS tickets,
       pg_size_pretty(sum(pg_total_relation_size(c.oid))) AS rollup_tables,
       pg_size_pretty((sum(pg_total_relation_size(c.oid)) * 1000000 / :tickets)::bigint) AS per_million_tickets,
       (SELECT count(*) FROM aftersales.kpi_rollup_cells WHERE tenant_id = 9510) AS cells,
       (SELECT count(*) FROM aftersales.kpi_rollup_tickets WHERE tenant_id = 9510 AND live) AS live_tickets
  FROM pg_class c WHERE c.oid IN ('aftersales.kpi_rollup_cells'::regclass, 'aftersales.kpi_rollup_tickets'::regclass,
                                   'aftersales.kpi_rollup_queue'::regclass);
\set QUIET on

\echo 'kpi rollup bench: removing the data ...'
SET session_replication_role = replica;
DELETE FROM aftersales.kpi_rollup_cells WHERE tenant_id = 9510;
DELETE FROM aftersales.kpi_rollup_tickets WHERE tenant_id = 9510;
DELETE FROM aftersales.kpi_rollup_state WHERE tenant_id = 9510;
DELETE FROM aftersales.ticket_events WHERE tenant_id = 9510;
DELETE FROM aftersales.ticket_sla WHERE tenant_id = 9510;
DELETE FROM aftersales.tickets WHERE tenant_id = 9510;
DELETE FROM aftersales.kpi_rollup_queue WHERE tenant_id = 9510;
DELETE FROM aftersales.units WHERE tenant_id = 9510;
DELETE FROM aftersales.engineers WHERE tenant_id = 9510;
DELETE FROM aftersales.customers WHERE tenant_id = 9510;
DELETE FROM aftersales.organisations WHERE tenant_id = 9510;
DELETE FROM aftersales.product_models WHERE tenant_id = 9510;
DELETE FROM aftersales.product_lines WHERE tenant_id = 9510;
DELETE FROM aftersales.problem_types WHERE tenant_id = 9510;
DELETE FROM aftersales.sla_targets WHERE tenant_id = 9510;
DELETE FROM aftersales.sla_policies WHERE tenant_id = 9510;
DELETE FROM aftersales.calendars WHERE tenant_id = 9510;
DELETE FROM aftersales.kpi_settings WHERE tenant_id = 9510;
DELETE FROM aftersales.tenants WHERE tenant_id = 9510;
SET session_replication_role = origin;
