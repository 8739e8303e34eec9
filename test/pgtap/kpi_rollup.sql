-- kpi_rollup.sql: the incremental KPI rollups give what the raw path
-- gives.  On a generated tenant, kpi_service (every period and dimension,
-- over all history, a range of whole months and one of whole days) and
-- kpi_staff read from the rollups equal the same calls computed from the
-- raw rows (aftersales.kpi_rollups = off), and check_kpi_rollups() finds
-- no cell that differs: with every change still queued, after a fold,
-- after a reopen, a cancellation (of a repeat's predecessor), a priority
-- change, a late follow-up and a customer moving region, each before and
-- after folding; after a KPI setting changes (stale: the raw path answers)
-- and a rebuild.  A damaged cell is found.  Everything is rolled back.
--
-- Run: pg_prove -d <db with pgtap and aftersales> test/pgtap/kpi_rollup.sql
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(41);
SET LOCAL client_min_messages = warning;
SET LOCAL TimeZone = 'UTC';

CREATE TEMP TABLE run AS SELECT r.tenant_id FROM aftersales.generate_sample_data('kpi rollup', seed => 7, tickets => 300) r;
SELECT set_config('aftersales.tenant_id', (SELECT tenant_id::text FROM run), true) \g /dev/null
SELECT set_config('aftersales.now', '2027-01-10 00:00+08', true) \g /dev/null

-- Every kpi_service and kpi_staff answer of the tenant, as json rows.
CREATE FUNCTION pg_temp.kpi_all() RETURNS TABLE (call text, r jsonb)
LANGUAGE sql STABLE AS $$
SELECT 'service ' || x.p || ' ' || d || ' ' || x.rg, pg_catalog.to_jsonb(s)
  FROM (VALUES ('history', 'week', '-infinity'::timestamptz, 'infinity'::timestamptz),
               ('history', 'month', '-infinity', 'infinity'),
               ('history', 'all', '-infinity', 'infinity'),
               ('months', 'quarter', '2026-03-01 00:00+08', '2026-07-01 00:00+08'),
               ('days', 'day', '2026-05-11 00:00+08', '2026-06-02 00:00+08')) AS x (rg, p, since, until)
 CROSS JOIN unnest('{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}'::text[]) d
 CROSS JOIN LATERAL aftersales.kpi_service(x.p, d, x.since, x.until) s
UNION ALL
SELECT 'staff ' || p, pg_catalog.to_jsonb(s)
  FROM unnest('{week,month,all}'::text[]) p
 CROSS JOIN LATERAL aftersales.kpi_staff(p, '-infinity', 'infinity') s
$$;
-- The rollup path's answers against the raw path's: the number of rows
-- that differ (either way).
CREATE FUNCTION pg_temp.differences() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM set_config('aftersales.kpi_rollups', 'off', true);
    CREATE TEMP TABLE raw_rows ON COMMIT DROP AS SELECT * FROM pg_temp.kpi_all();
    PERFORM set_config('aftersales.kpi_rollups', 'on', true);
    CREATE TEMP TABLE rollup_rows ON COMMIT DROP AS SELECT * FROM pg_temp.kpi_all();
    SELECT count(*) INTO n FROM ((TABLE raw_rows EXCEPT ALL TABLE rollup_rows)
                                 UNION ALL (TABLE rollup_rows EXCEPT ALL TABLE raw_rows)) x;
    IF (SELECT count(*) FROM raw_rows) < 100 THEN
        RAISE EXCEPTION 'too few rows to compare: %', (SELECT count(*) FROM raw_rows);
    END IF;
    DROP TABLE raw_rows, rollup_rows;
    RETURN n;
END
$$;
CREATE FUNCTION pg_temp.uses_rollups() RETURNS boolean
LANGUAGE sql STABLE AS $$
SELECT aftersales_internal.rollup_grain('month', '-infinity', 'infinity', aftersales.now(),
                                            aftersales.reporting_zone(), aftersales.current_tenant()) IS NOT NULL
   AND aftersales_internal.rollup_grain('week', '2026-05-11 00:00+08', '2026-06-02 00:00+08', aftersales.now(),
                                            aftersales.reporting_zone(), aftersales.current_tenant()) = 'day'
$$;

-- 1-4: everything queued, nothing folded yet
SELECT ok((SELECT count(*) FROM aftersales.kpi_rollup_queue q JOIN run USING (tenant_id)) >= 300,
          'the generator''s tickets are queued');
SELECT ok(pg_temp.uses_rollups(), 'the KPI functions read the rollups (queue read live)');
SELECT is(pg_temp.differences(), 0::bigint, 'queued: kpi_service and kpi_staff equal the raw path');
SELECT is_empty('SELECT * FROM aftersales.check_kpi_rollups()', 'queued: check_kpi_rollups finds no difference');

-- 5-9: folded
SELECT ok(aftersales.fold_kpi_rollups((SELECT tenant_id FROM run)) >= 300, 'the fold takes the queue');
SELECT is((SELECT count(*) FROM aftersales.kpi_rollup_queue q JOIN run USING (tenant_id)), 0::bigint, 'the queue is empty');
SELECT ok((SELECT count(*) FROM aftersales.kpi_rollup_cells c JOIN run USING (tenant_id)) > 0, 'the cells are filled');
SELECT is(pg_temp.differences(), 0::bigint, 'folded: equal to the raw path');
SELECT is_empty('SELECT * FROM aftersales.check_kpi_rollups()', 'folded: no difference');

-- 10-14: a reopen of a closed ticket and a late follow-up of a resolved one
SELECT aftersales.reopen_ticket((SELECT min(t.ticket_id) FROM aftersales.tickets t JOIN run USING (tenant_id) WHERE t.status = 'closed'),
                                'customer called back', at => aftersales.now()) \g /dev/null
SELECT aftersales.follow_up((SELECT min(t.ticket_id) FROM aftersales.tickets t JOIN run USING (tenant_id) WHERE t.status = 'resolved'),
                            true, csat => 2, nps => 3, at => aftersales.now()) \g /dev/null
SELECT is(pg_temp.differences(), 0::bigint, 'reopen and late follow-up, queued: equal');
SELECT is_empty('SELECT * FROM aftersales.check_kpi_rollups()', 'reopen and late follow-up, queued: no difference');
SELECT ok(aftersales.fold_kpi_rollups() > 0, 'folded');
SELECT is(pg_temp.differences(), 0::bigint, 'reopen and late follow-up, folded: equal');
SELECT is_empty('SELECT * FROM aftersales.check_kpi_rollups()', 'reopen and late follow-up, folded: no difference');

-- 15-22: a priority change and the cancellation of a ticket that another
-- of the same unit and problem type follows within the repeat window (so
-- the follower stops being a repeat, though nothing happened to it)
SELECT aftersales.set_priority((SELECT min(t.ticket_id) FROM aftersales.tickets t JOIN run USING (tenant_id)
                                 WHERE t.status IN ('new', 'assigned', 'in_progress', 'on_site') AND t.priority <> 'A'),
                               'A', 'escalated by the customer', at => aftersales.now()) \g /dev/null
CREATE TEMP TABLE pair AS
SELECT t.ticket_id AS first_id, c.customer_id, t.unit_id, t.problem_type_id
  FROM aftersales.tickets t JOIN run USING (tenant_id)
  JOIN aftersales.customers c ON c.tenant_id = t.tenant_id AND c.customer_id = t.customer_id
 WHERE t.unit_id IS NOT NULL
 ORDER BY t.ticket_id LIMIT 1;
SELECT aftersales.open_ticket(p.customer_id, p.problem_type_id, 'B', 'same fault again', unit => p.unit_id,
                              at => aftersales.now() - interval '2 days')
  FROM pair p \g /dev/null
-- (entered five minutes before now: its response, arrival and completion
-- are not due yet, so the readers must not count them missed)
SELECT aftersales.open_ticket(p.customer_id, p.problem_type_id, 'A', 'and again', unit => p.unit_id, field => true,
                              at => aftersales.now() - interval '5 minutes')
  FROM pair p \g /dev/null
SELECT is((SELECT f.repeat_problem FROM aftersales.kpi_facts f
            WHERE f.ticket_id = (SELECT max(t.ticket_id) FROM aftersales.tickets t JOIN run USING (tenant_id))),
          1, 'the second new ticket of the unit is a repeat of the first');
SELECT ok(aftersales.fold_kpi_rollups() > 0, 'folded');
SELECT aftersales.cancel_ticket((SELECT max(t.ticket_id) - 1 FROM aftersales.tickets t JOIN run USING (tenant_id)),
                                'entered twice', at => aftersales.now()) \g /dev/null
SELECT is((SELECT f.repeat_problem FROM aftersales.kpi_facts f
            WHERE f.ticket_id = (SELECT max(t.ticket_id) FROM aftersales.tickets t JOIN run USING (tenant_id))),
          0, 'once the first is cancelled, the second is no repeat (its predecessor is a month older)');
SELECT is(pg_temp.differences(), 0::bigint, 'priority change and cancellation, queued: equal');
SELECT is_empty('SELECT * FROM aftersales.check_kpi_rollups()', 'priority change and cancellation, queued: no difference');
SELECT ok(aftersales.fold_kpi_rollups() > 0, 'folded');
SELECT is(pg_temp.differences(), 0::bigint, 'priority change and cancellation, folded: equal');
SELECT is_empty('SELECT * FROM aftersales.check_kpi_rollups()', 'priority change and cancellation, folded: no difference');

-- 23-26: a customer moves to another region: its tickets move cells
UPDATE aftersales.customers c SET region = CASE WHEN c.region = '西北' THEN '东北' ELSE '西北' END
 WHERE c.tenant_id = (SELECT tenant_id FROM run)
   AND c.customer_id = (SELECT t.customer_id FROM aftersales.tickets t JOIN run USING (tenant_id)
                         GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1);
SELECT is(pg_temp.differences(), 0::bigint, 'region change, queued: equal');
SELECT ok(aftersales.fold_kpi_rollups() > 0, 'folded');
SELECT is(pg_temp.differences(), 0::bigint, 'region change, folded: equal');
SELECT is_empty('SELECT * FROM aftersales.check_kpi_rollups()', 'region change, folded: no difference');

-- 27-33: a setting that moves past judgements marks the rollups stale; the
-- raw path answers until they are rebuilt
SELECT aftersales.set_kpi_setting('response_target_minutes', 15, (SELECT tenant_id FROM run)) \g /dev/null
SELECT is((SELECT stale_reason FROM aftersales.kpi_rollup_state s JOIN run USING (tenant_id)),
          'KPI setting response_target_minutes changed', 'a setting change marks the rollups stale');
SELECT ok(NOT pg_temp.uses_rollups(), 'stale rollups are not read');
SELECT is(pg_temp.differences(), 0::bigint, 'stale: the answers are the raw path''s');
SELECT throws_ok($$SELECT aftersales.rebuild_kpi_rollups(aftersales.current_tenant(), '2026-03-01 00:00+08', '2026-04-01 00:00+08')$$,
    '55000', NULL, 'stale rollups cannot be rebuilt in part');
SELECT ok(aftersales.rebuild_kpi_rollups() >= 300, 'rebuilt whole');
SELECT ok(pg_temp.uses_rollups(), 'rebuilt rollups are read again');
SELECT is(pg_temp.differences(), 0::bigint, 'rebuilt: equal');

-- 34-37: a range rebuild, and a damaged cell is found
SELECT ok(aftersales.rebuild_kpi_rollups(aftersales.current_tenant(), '2026-03-01 00:00+08', '2026-05-01 00:00+08') > 0,
          'a range of whole months is rebuilt');
SELECT is_empty('SELECT * FROM aftersales.check_kpi_rollups()', 'after the range rebuild: no difference');
UPDATE aftersales.kpi_rollup_cells c SET n_closed = c.n_closed + 1
 WHERE c.tenant_id = (SELECT tenant_id FROM run) AND c.dimension = 'region' AND c.grain = 'month'
   AND c.day = '2026-03-01' AND c.dim_key = (SELECT min(dim_key) FROM aftersales.kpi_rollup_cells c2 JOIN run USING (tenant_id)
                                             WHERE c2.dimension = 'region' AND c2.grain = 'month' AND c2.day = '2026-03-01');
SELECT results_eq($$SELECT dimension, grain, day, measure, rollup - recomputed FROM aftersales.check_kpi_rollups()$$,
                  $$VALUES ('region', 'month', '2026-03-01'::date, 'n_closed', 1::numeric)$$,
                  'check_kpi_rollups lists the damaged cell and measure');
SELECT ok(pg_temp.differences() > 0, 'and the damage shows in the answers (the test can fail)');

-- 38-41: errors
SELECT throws_ok($$SELECT aftersales.fold_kpi_rollups(987654321)$$, 'P0002', 'tenant 987654321 does not exist',
    'fold of an unknown tenant: P0002');
SELECT throws_ok($$SELECT aftersales.rebuild_kpi_rollups(987654321)$$, 'P0002', 'tenant 987654321 does not exist',
    'rebuild of an unknown tenant: P0002');
SELECT throws_ok($$SELECT aftersales.rebuild_kpi_rollups(aftersales.current_tenant(), '2026-05-01', '2026-03-01')$$, '22023', NULL,
    'rebuild of an empty range: 22023');
SELECT throws_ok($$SELECT * FROM aftersales.check_kpi_rollups(as_of => '2026-06-01 00:00+08')$$, '55000', NULL,
    'check as of an instant before the latest event: 55000');

SELECT * FROM finish();
ROLLBACK;
