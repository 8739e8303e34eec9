-- dispatch_kpis.sql: the staff and knowledge KPIs recomputed independently
-- from raw rows.  On a small fixture, busy, holding, idle and on-duty
-- hours are counted minute by minute from the attendance events and the
-- tickets' event log (a different method from the multirange arithmetic of
-- engineer_time); on a generated tenant, the knowledge coverage, remote
-- share and remote diagnosis success, the first-maintenance share and the
-- attendance counts are recounted from their tables.  And the views are
-- BI-ready: security_invoker, plain types, a comment on every column; the
-- catalogue names every new KPI in English and Chinese.
--
-- Run: pg_prove -d <db with pgtap and aftersales> test/pgtap/dispatch_kpis.sql
-- Everything is rolled back.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(24);
SET LOCAL client_min_messages = warning;
SET LOCAL TimeZone = 'UTC';

-- ---------------------------------------------------------------------------
-- The fixture: tenant 900, two engineers on a 09:00-18:00 calendar in
-- Shanghai, Monday 2 March 2026.
INSERT INTO aftersales.tenants (tenant_id, name) VALUES (900, 'dispatch kpis');
SELECT set_config('aftersales.tenant_id', '900', true);
SELECT set_config('aftersales.now', '2026-03-02 08:00+08', true);
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.organisations (level, org_type, name, parent_id, region, latitude, longitude)
SELECT 'region', 'representative_office', 'East', o.org_id, '华东', 31.2304, 121.4737 FROM aftersales.organisations o WHERE o.tenant_id = 900;
SELECT aftersales.set_calendar('day', 'zone=Asia/Shanghai; mon-fri 09:00-18:00');
SELECT aftersales.set_calendar('24x7', 'zone=Asia/Shanghai; mon-sun 00:00-24:00');
INSERT INTO aftersales.sla_policies (name, calendar, is_default) VALUES ('default', '24x7', true);
INSERT INTO aftersales.sla_targets (policy_id, priority, metric, target)
SELECT p.policy_id, t.priority, t.metric, t.target FROM aftersales.sla_policies p, aftersales.sla_targets t
 WHERE p.tenant_id = 900 AND t.tenant_id = 1;
INSERT INTO aftersales.engineers (org_id, name, calendar, capacity)
SELECT o.org_id, x.name, 'day', 5 FROM aftersales.organisations o, (VALUES ('A'), ('B')) x (name)
 WHERE o.tenant_id = 900 AND o.level = 'region' ORDER BY x.name;
CREATE TEMP TABLE eng AS SELECT name, engineer_id FROM aftersales.engineers WHERE tenant_id = 900;
INSERT INTO aftersales.customers (name, region, latitude, longitude) VALUES ('C', '华东', 31.25, 121.5);
INSERT INTO aftersales.problem_types (code, name) VALUES ('P', 'Problem');
CREATE TEMP TABLE tk (k int, ticket_id bigint);
INSERT INTO tk SELECT k, aftersales.open_ticket(customer => (SELECT customer_id FROM aftersales.customers WHERE tenant_id = 900),
                                                 problem_type => (SELECT problem_type_id FROM aftersales.problem_types WHERE tenant_id = 900),
                                                 priority => 'C', description => 'fixture ' || k, field => true)
  FROM generate_series(1, 3) k;

-- A: in 08:50, out 17:40; B: in 09:20 (late), out 12:00, in 13:00, no check-out
SELECT aftersales.check_in((SELECT engineer_id FROM eng WHERE name = 'A'), 31.2304, 121.4737, '2026-03-02 08:50+08');
SELECT aftersales.check_in((SELECT engineer_id FROM eng WHERE name = 'B'), 31.2304, 121.4737, '2026-03-02 09:20+08');
-- ticket 1 to A: assigned 09:05, started 09:30, on site 10:10, on hold 11:00, resumed 13:00, resolved 15:15
SELECT aftersales.assign_ticket((SELECT ticket_id FROM tk WHERE k = 1), (SELECT engineer_id FROM eng WHERE name = 'A'), at => '2026-03-02 09:05+08');
SELECT aftersales.start_work((SELECT ticket_id FROM tk WHERE k = 1), at => '2026-03-02 09:30+08');
SELECT aftersales.arrive_on_site((SELECT ticket_id FROM tk WHERE k = 1), at => '2026-03-02 10:10+08');
SELECT aftersales.hold_ticket((SELECT ticket_id FROM tk WHERE k = 1), 'waiting for the customer', at => '2026-03-02 11:00+08');
SELECT aftersales.resume_ticket((SELECT ticket_id FROM tk WHERE k = 1), at => '2026-03-02 13:00+08');
-- ticket 2 to A at 14:00 (overlaps ticket 1), released 16:30; to B at 16:40, started 16:45
SELECT aftersales.assign_ticket((SELECT ticket_id FROM tk WHERE k = 2), (SELECT engineer_id FROM eng WHERE name = 'A'), at => '2026-03-02 14:00+08');
SELECT aftersales.resolve_ticket((SELECT ticket_id FROM tk WHERE k = 1), 'fixed', at => '2026-03-02 15:15+08');
SELECT aftersales.release_ticket((SELECT ticket_id FROM tk WHERE k = 2), 'not reachable', at => '2026-03-02 16:30+08');
SELECT aftersales.check_out((SELECT engineer_id FROM eng WHERE name = 'B'), 31.2304, 121.4737, '2026-03-02 12:00+08');
SELECT aftersales.check_in((SELECT engineer_id FROM eng WHERE name = 'B'), 31.2304, 121.4737, '2026-03-02 13:00+08');
SELECT aftersales.assign_ticket((SELECT ticket_id FROM tk WHERE k = 2), (SELECT engineer_id FROM eng WHERE name = 'B'), at => '2026-03-02 16:40+08');
SELECT aftersales.start_work((SELECT ticket_id FROM tk WHERE k = 2), at => '2026-03-02 16:45+08');
SELECT aftersales.check_out((SELECT engineer_id FROM eng WHERE name = 'A'), 31.2304, 121.4737, '2026-03-02 17:40+08');

-- As of 20:00 the same day: minute by minute
CREATE TEMP TABLE minutes AS
SELECT e.engineer_id, e.name, m AS t
  FROM eng e, generate_series('2026-03-02 00:00+08'::timestamptz, '2026-03-02 19:59+08', '1 minute') m;
CREATE TEMP TABLE by_minute AS
SELECT mi.engineer_id, mi.name, mi.t,
       -- on duty: the latest check-in or check-out at or before t is a
       -- check-in, and a check-out (not another check-in) follows it, or
       -- none yet (as of 20:00, within 16 hours)
       COALESCE((SELECT a.kind = 'check_in' AND COALESCE((SELECT n.kind FROM aftersales.attendance_events n
                                                           WHERE n.tenant_id = 900 AND n.engineer_id = mi.engineer_id
                                                             AND n.at > a.at ORDER BY n.at LIMIT 1), 'check_out') = 'check_out'
                   FROM aftersales.attendance_events a
                  WHERE a.tenant_id = 900 AND a.engineer_id = mi.engineer_id AND a.at <= mi.t
                  ORDER BY a.at DESC LIMIT 1), false) AS on_duty,
       EXISTS (SELECT FROM tk, LATERAL (SELECT e.to_state FROM aftersales.ticket_events e
                                         WHERE e.tenant_id = 900 AND e.ticket_id = tk.ticket_id AND e.at <= mi.t
                                         ORDER BY e.seq DESC LIMIT 1) st,
                           LATERAL (SELECT (e.payload ->> 'assignee')::bigint AS who FROM aftersales.ticket_events e
                                     WHERE e.tenant_id = 900 AND e.ticket_id = tk.ticket_id AND e.at <= mi.t
                                       AND (e.payload ? 'assignee' OR e.to_state IN ('new', 'locked'))
                                     ORDER BY e.seq DESC LIMIT 1) asg
                WHERE asg.who = mi.engineer_id AND st.to_state IN ('assigned', 'in_progress', 'on_site', 'on_hold')) AS holding,
       EXISTS (SELECT FROM tk, LATERAL (SELECT e.to_state FROM aftersales.ticket_events e
                                         WHERE e.tenant_id = 900 AND e.ticket_id = tk.ticket_id AND e.at <= mi.t
                                         ORDER BY e.seq DESC LIMIT 1) st,
                           LATERAL (SELECT (e.payload ->> 'assignee')::bigint AS who FROM aftersales.ticket_events e
                                     WHERE e.tenant_id = 900 AND e.ticket_id = tk.ticket_id AND e.at <= mi.t
                                       AND (e.payload ? 'assignee' OR e.to_state IN ('new', 'locked'))
                                     ORDER BY e.seq DESC LIMIT 1) asg
                WHERE asg.who = mi.engineer_id AND st.to_state IN ('in_progress', 'on_site')) AS busy
  FROM minutes mi;
CREATE TEMP TABLE recount AS
SELECT name, engineer_id,
       round(count(*) FILTER (WHERE on_duty) / 60.0, 2) AS on_duty_hours,
       round(count(*) FILTER (WHERE holding) / 60.0, 2) AS holding_hours,
       round(count(*) FILTER (WHERE busy) / 60.0, 2) AS busy_hours,
       round(count(*) FILTER (WHERE on_duty AND NOT holding) / 60.0, 2) AS idle_hours,
       round(count(*) FILTER (WHERE on_duty AND busy)::numeric / NULLIF(count(*) FILTER (WHERE on_duty), 0), 4) AS utilisation
  FROM by_minute GROUP BY name, engineer_id;
CREATE TEMP TABLE computed AS
SELECT e.name, t.* FROM aftersales.engineer_time('2026-03-02', '2026-03-03', '2026-03-02 20:00+08', 900) t JOIN eng e USING (engineer_id);

SELECT is((SELECT on_duty_hours FROM computed WHERE name = 'A'), 8.83, 'A: on duty 08:50-17:40, 8.83 hours (by hand)');
SELECT is((SELECT holding_hours FROM computed WHERE name = 'A'), 7.42, 'A: holding 09:05-16:30, 7.42 hours (by hand)');
SELECT is((SELECT busy_hours FROM computed WHERE name = 'A'), 3.75, 'A: busy 09:30-11:00 and 13:00-15:15, 3.75 hours (by hand)');
SELECT results_eq($$SELECT name, on_duty_hours, holding_hours, busy_hours, idle_hours, utilisation FROM computed ORDER BY name$$,
                  $$SELECT name, on_duty_hours, holding_hours, busy_hours, idle_hours, utilisation FROM recount ORDER BY name$$,
                  'on-duty, holding, busy and idle hours and utilisation agree with a minute-by-minute recount');
SELECT is((SELECT late FROM computed WHERE name = 'B'), true, 'B checked in at 09:20: late');
SELECT is((SELECT late FROM computed WHERE name = 'A'), false, 'A checked in at 08:50: on time');
SELECT is((SELECT missing_check_outs FROM aftersales.attendance_days('2026-03-02', '2026-03-03', '2026-03-03 06:00+08', 900)
            WHERE engineer_id = (SELECT engineer_id FROM eng WHERE name = 'B')), 1::bigint,
          'B''s second check-in, still open 17 hours later, is a missing check-out');
SELECT is((SELECT on_duty_hours FROM aftersales.attendance_days('2026-03-02', '2026-03-03', '2026-03-03 06:00+08', 900)
            WHERE engineer_id = (SELECT engineer_id FROM eng WHERE name = 'B')), 2.67,
          'then B''s on-duty hours are the closed session only (09:20-12:00)');

-- ---------------------------------------------------------------------------
-- A generated tenant: the knowledge, remote-service and dispatch KPIs
-- recounted from their tables.
CREATE TEMP TABLE run AS SELECT r.tenant_id FROM aftersales.generate_sample_data('dispatch kpis sample', seed => 5, tickets => 300) r;
SELECT set_config('aftersales.tenant_id', (SELECT tenant_id::text FROM run), true);
SELECT set_config('aftersales.now', '2027-01-01 00:00+08', true);
SELECT ok((SELECT count(*) FROM aftersales.ticket_resolutions r JOIN run USING (tenant_id)) > 0
          AND (SELECT count(*) FROM aftersales.kb_articles k JOIN run USING (tenant_id) WHERE k.state = 'published') > 0
          AND (SELECT count(*) FROM aftersales.attendance_events a JOIN run USING (tenant_id)) > 0,
          'the generated tenant has resolutions, published articles and attendance');
SELECT is_empty($$SELECT * FROM aftersales.check_articles((SELECT tenant_id FROM run))$$,
                'the generated articles replay from their log through the state machine engine');
SELECT is((SELECT count(*) FROM aftersales.kb_article_events e JOIN run USING (tenant_id) WHERE e.event = 'publish'),
          (SELECT count(*) FROM aftersales.kb_article_versions v JOIN run USING (tenant_id)),
          'each publish event of the log kept its version');
SELECT is((SELECT sum(resolutions) FROM aftersales.kb_remote_monthly)::bigint,
          (SELECT count(*) FROM aftersales.ticket_resolutions r JOIN run USING (tenant_id)),
          'kb_remote_monthly counts every resolution once');
SELECT is((SELECT round(sum(with_article)::numeric / sum(resolutions), 4) FROM aftersales.kb_remote_monthly),
          (SELECT round(count(*) FILTER (WHERE article_id IS NOT NULL)::numeric / count(*), 4)
             FROM aftersales.ticket_resolutions r JOIN run USING (tenant_id)),
          'knowledge coverage over the year agrees with the raw resolutions');
SELECT is((SELECT sum(remote) FROM aftersales.kb_remote_monthly)::bigint,
          (SELECT count(*) FROM aftersales.ticket_resolutions r JOIN run USING (tenant_id) WHERE mode LIKE 'remote%'),
          'remote resolutions agree with the raw resolutions');
SELECT is((SELECT sum(remote_successes) FROM aftersales.kb_remote_monthly)::bigint,
          (SELECT count(*) FROM aftersales.ticket_resolutions r JOIN run USING (tenant_id)
             JOIN aftersales.tickets t ON t.tenant_id = r.tenant_id AND t.ticket_id = r.ticket_id
            WHERE r.remote_attempted AND t.arrived_at IS NULL AND r.mode IN ('remote_phone', 'remote_video', 'parts_only')),
          'remote diagnosis successes (no visit) agree with the raw tickets');
SELECT is((SELECT sum(uses) FROM aftersales.kb_article_stats)::bigint,
          (SELECT count(article_id) FROM aftersales.ticket_resolutions r JOIN run USING (tenant_id)),
          'article use counts add up to the resolutions that used an article');
SELECT is((SELECT sum(dispatches) FROM aftersales.staff_dispatch_monthly)::bigint,
          (SELECT count(*) FROM aftersales.ticket_events e JOIN run USING (tenant_id)
            WHERE e.event IN ('assign', 'reassign', 'take_over') AND e.to_state = 'assigned'),
          'dispatches by organisation type add up to the assignment events');
SELECT is((SELECT sum(first_maintenance_dispatches) FROM aftersales.staff_dispatch_monthly)::bigint,
          (SELECT count(*) FROM aftersales.ticket_events e JOIN run USING (tenant_id)
             JOIN aftersales.tickets t ON t.tenant_id = e.tenant_id AND t.ticket_id = e.ticket_id
            WHERE e.event IN ('assign', 'reassign', 'take_over') AND e.to_state = 'assigned'
              AND t.unit_id IS NOT NULL
              AND t.ticket_id = (SELECT min(x.ticket_id) FROM aftersales.tickets x
                                  WHERE x.tenant_id = t.tenant_id AND x.unit_id = t.unit_id)),
          'first-maintenance dispatches are those of each unit''s first ticket');
SELECT is((SELECT sum(location_anomalies) FROM aftersales.attendance_days('2026-10-01', '2027-01-01', '2027-01-01 00:00+08'))::bigint,
          (SELECT count(*) FROM aftersales.attendance_events a JOIN run USING (tenant_id) WHERE a.anomaly),
          'location anomalies per day add up to the anomalous check-ins');
SELECT is((SELECT sum(check_ins) FROM aftersales.attendance_days('2026-10-01', '2027-01-01', '2027-01-01 00:00+08'))::bigint,
          (SELECT count(*) FROM aftersales.attendance_events a JOIN run USING (tenant_id) WHERE a.kind = 'check_in'),
          'check-ins per day add up to the check-in events');

-- ---------------------------------------------------------------------------
-- BI-readiness and the catalogue
CREATE TEMP TABLE board_views (v regclass);
INSERT INTO board_views VALUES ('aftersales.staff_time_daily'), ('aftersales.staff_time_monthly'),
    ('aftersales.staff_region_monthly'), ('aftersales.staff_dispatch_monthly'), ('aftersales.dispatch_decisions'),
    ('aftersales.kb_article_stats'), ('aftersales.kb_remote_monthly'), ('aftersales.attendance_sessions');
SELECT is(ARRAY(SELECT v::text FROM board_views b JOIN pg_class c ON c.oid = b.v
                 WHERE NOT coalesce(c.reloptions @> '{security_invoker=true}', false) ORDER BY 1), '{}'::text[],
          'every staff and knowledge view is security_invoker');
SELECT is(ARRAY(SELECT b.v::text || '.' || a.attname FROM board_views b JOIN pg_attribute a ON a.attrelid = b.v
                 WHERE a.attnum > 0 AND NOT a.attisdropped
                   AND a.atttypid NOT IN ('text'::regtype, 'bigint'::regtype, 'integer'::regtype, 'numeric'::regtype,
                                          'date'::regtype, 'timestamptz'::regtype, 'boolean'::regtype) ORDER BY 1), '{}'::text[],
          'their columns have plain types');
SELECT is(ARRAY(SELECT b.v::text || '.' || a.attname FROM board_views b JOIN pg_attribute a ON a.attrelid = b.v
                 WHERE a.attnum > 0 AND NOT a.attisdropped AND col_description(b.v, a.attnum) IS NULL ORDER BY 1), '{}'::text[],
          'every column is commented');
SELECT is((SELECT count(*) FROM aftersales.kpi_catalogue
            WHERE tenant_id = 1 AND name_en <> '' AND name_zh <> ''
              AND code IN ('on_duty_hours', 'busy_hours', 'idle_hours', 'utilisation', 'late_check_ins', 'location_anomalies',
                           'missing_check_outs', 'units_per_engineer', 'intake_per_engineer', 'first_maintenance_share',
                           'article_coverage', 'article_success_rate', 'remote_share', 'remote_success_rate')), 14::bigint,
          'the catalogue names the 14 staff and knowledge KPIs in English and Chinese');

SELECT * FROM finish();
ROLLBACK;
