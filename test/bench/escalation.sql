-- escalation.sql: what an escalation sweep costs.  Run: psql -X -v
-- ON_ERROR_STOP=1 -f test/bench/escalation.sql in a database with the
-- extension (make bench does); it works in a database of its own,
-- aftersales_bench_escalation, created here and dropped at the end, so it
-- leaves the server as it found it.
--
--   O(due)         the sweep of 1 000 due watches among 10 000 open tickets,
--                  against the same among 1 000 000 open tickets: the cost
--                  should follow what is due, not what is open (goal:
--                  ratio <= 1.5).
--   per escalation the sweep of 1 000 due watches (one warning each:
--                  claim with SKIP LOCKED, compute the stages, insert the
--                  alerts, re-arm the watches, NOTIFY, record the run),
--                  against a plain UPDATE of the same watch rows plus an
--                  INSERT of the same alert rows, into the same tables, in
--                  one statement: the writes alone, without the logic
--                  (goal: <= 2x).
--
-- The tickets are real rows, entered through the closed loop's triggers
-- (guard, SLA clocks, event log, watches) by INSERT ... SELECT straight
-- into aftersales.tickets, the quickest way in: 200 000 a statement.
-- Each measured run gets a set of 1 000 tickets of its own, entered ten
-- minutes after the previous set, whose first-response 50% warning is due
-- at its sweep and nothing else is (priority C gets 40 hours to first
-- response and 100 to resolution here, so that the next stages of the
-- sets swept before are not due yet); the run commits, as a scheduled
-- sweep does, so no run inherits another's dead rows.  The default rules
-- are in force.  A first sweep in the session is run before the timed ones: it
-- plans the sweep's statements, which pg_cron's fresh connection does once
-- per run (reported, for information).  Best of 3.
\set QUIET 1
\pset pager off
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SELECT current_database() AS home \gset
DROP DATABASE IF EXISTS aftersales_bench_escalation;
CREATE DATABASE aftersales_bench_escalation;
\connect aftersales_bench_escalation
SET client_min_messages = warning;
CREATE EXTENSION aftersales CASCADE;

CREATE TABLE results (step int, name text, ms numeric);
-- set i (1..14) is entered at 00:00 + 10 i min, its 50% warning is due 20
-- hours later; sweep i runs five minutes after that.
CREATE FUNCTION set_at(i int) RETURNS timestamptz LANGUAGE sql IMMUTABLE
    AS $$ SELECT '2024-03-04 00:00+00'::timestamptz + i * interval '10 min' $$;
CREATE FUNCTION sweep_at(i int) RETURNS timestamptz LANGUAGE sql IMMUTABLE
    AS $$ SELECT set_at(i) + interval '20 hours 5 min' $$;
-- The baseline: the same writes as a sweep of set i, in one plain
-- statement: re-arm the due watches, insert their alerts.
CREATE FUNCTION baseline(i int) RETURNS void LANGUAGE sql AS $$
    WITH u AS (
        UPDATE aftersales.escalation_watches w SET warned = 50, next_check = w.next_check + interval '10 hours'
         WHERE w.next_check <= sweep_at(i)
        RETURNING w.tenant_id, w.ticket_id, w.clock, w.next_check)
    INSERT INTO aftersales.alerts (tenant_id, ticket_id, clock, kind, level, role, due_at, raised_at)
    SELECT u.tenant_id, u.ticket_id, u.clock, 'warning', 50, 'assignee', u.next_check - interval '10 hours', sweep_at(i)
      FROM u
$$;
-- tickets: set i (or, i = 0, the open tickets that are not due: entered
-- at noon)
CREATE FUNCTION enter(n int, i int) RETURNS void LANGUAGE sql AS $$
    INSERT INTO aftersales.tickets (customer_id, problem_type_id, description, priority, opened_at)
    SELECT 1 + g % 1000, 1, 'bench', 'C', CASE WHEN i = 0 THEN '2024-03-04 12:00+00' ELSE set_at(i) END
      FROM generate_series(1, n) g
$$;

UPDATE aftersales.sla_targets SET target = CASE metric WHEN 'first_response' THEN '40 hours' ELSE '100 hours' END::interval
 WHERE tenant_id = 1 AND priority = 'C' AND metric IN ('first_response', 'resolution');
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'bench HQ');
INSERT INTO aftersales.customers (name) SELECT 'bench customer ' || g FROM generate_series(1, 1000) g;
INSERT INTO aftersales.problem_types (code, name) VALUES ('BP', 'bench problem');
-- The first tickets, then statistics and a new session: the foreign-key
-- checks plan on a table that is not empty.
SELECT enter(1000, 0) \g /dev/null
ANALYZE;
\connect aftersales_bench_escalation
SET client_min_messages = warning;
SELECT clock_timestamp() AS t0 \gset
SELECT enter(2000, 0) \g /dev/null
SELECT enter(1000, i) FROM generate_series(1, 7) i \g /dev/null
ANALYZE;
SELECT count(*) AS open_10k FROM aftersales.tickets \gset
SELECT count(*) AS due_1 FROM aftersales.escalation_watches WHERE next_check <= sweep_at(1) \gset
\echo 'escalation bench: ' :open_10k ' open tickets, ' :due_1 ' watches due at the first sweep'

-- psql cannot loop; the runs are written out, each timed from the client
-- and committed.

-- Phase 1: 10 000 open.  Set 1 warms up (planning), 2 to 7 alternate:
-- ours on 2, 4, 6, the baseline on 3, 5, 7.
SELECT 1 AS i \gset
SELECT clock_timestamp() AS t \gset
SELECT claimed FROM aftersales.sweep(batch => 5000, now => sweep_at(:i)) \gset
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t') AS ms \gset
INSERT INTO results VALUES (0, 'first sweep of a session, planning included (10k open)', :ms);
SELECT :claimed = 1000 AS ok \gset
\if :ok
\else
\echo 'the first sweep did not claim 1000 watches'
\quit 3
\endif

SELECT 2 AS i \gset
SELECT clock_timestamp() AS t \gset
SELECT claimed FROM aftersales.sweep(batch => 5000, now => sweep_at(:i)) \gset
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t') AS ms \gset
INSERT INTO results VALUES (1, 'sweep, 10k open', :ms), (100, 'claimed', :claimed);

SELECT 3 AS i \gset
SELECT clock_timestamp() AS t \gset
SELECT baseline(:i) \g /dev/null
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t') AS ms \gset
INSERT INTO results VALUES (2, 'baseline, 10k open', :ms);

SELECT 4 AS i \gset
SELECT clock_timestamp() AS t \gset
SELECT claimed FROM aftersales.sweep(batch => 5000, now => sweep_at(:i)) \gset
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t') AS ms \gset
INSERT INTO results VALUES (1, 'sweep, 10k open', :ms), (100, 'claimed', :claimed);

SELECT 5 AS i \gset
SELECT clock_timestamp() AS t \gset
SELECT baseline(:i) \g /dev/null
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t') AS ms \gset
INSERT INTO results VALUES (2, 'baseline, 10k open', :ms);

SELECT 6 AS i \gset
SELECT clock_timestamp() AS t \gset
SELECT claimed FROM aftersales.sweep(batch => 5000, now => sweep_at(:i)) \gset
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t') AS ms \gset
INSERT INTO results VALUES (1, 'sweep, 10k open', :ms), (100, 'claimed', :claimed);

SELECT 7 AS i \gset
SELECT clock_timestamp() AS t \gset
SELECT baseline(:i) \g /dev/null
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t') AS ms \gset
INSERT INTO results VALUES (2, 'baseline, 10k open', :ms);

-- Phase 2: 1 000 000 open.  990 000 more tickets, not due, and the sets
-- of the timed runs.
SELECT enter(198000, 0) \g /dev/null
SELECT enter(198000, 0) \g /dev/null
SELECT enter(198000, 0) \g /dev/null
SELECT enter(198000, 0) \g /dev/null
SELECT enter(198000, 0) \g /dev/null
SELECT enter(1000, i) FROM generate_series(8, 14) i \g /dev/null
ANALYZE;
SELECT count(*) AS open_1m FROM aftersales.tickets \gset
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t0') AS build_ms \gset
\echo 'escalation bench: ' :open_1m ' open tickets entered in ' :build_ms ' ms'

SELECT 8 AS i \gset
SELECT clock_timestamp() AS t \gset
SELECT claimed FROM aftersales.sweep(batch => 5000, now => sweep_at(:i)) \gset
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t') AS ms \gset
INSERT INTO results VALUES (3, 'sweep, 1M open', :ms), (100, 'claimed', :claimed);

SELECT 9 AS i \gset
SELECT clock_timestamp() AS t \gset
SELECT baseline(:i) \g /dev/null
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t') AS ms \gset
INSERT INTO results VALUES (4, 'baseline, 1M open', :ms);

SELECT 10 AS i \gset
SELECT clock_timestamp() AS t \gset
SELECT claimed FROM aftersales.sweep(batch => 5000, now => sweep_at(:i)) \gset
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t') AS ms \gset
INSERT INTO results VALUES (3, 'sweep, 1M open', :ms), (100, 'claimed', :claimed);

SELECT 11 AS i \gset
SELECT clock_timestamp() AS t \gset
SELECT baseline(:i) \g /dev/null
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t') AS ms \gset
INSERT INTO results VALUES (4, 'baseline, 1M open', :ms);

SELECT 12 AS i \gset
SELECT clock_timestamp() AS t \gset
SELECT claimed FROM aftersales.sweep(batch => 5000, now => sweep_at(:i)) \gset
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t') AS ms \gset
INSERT INTO results VALUES (3, 'sweep, 1M open', :ms), (100, 'claimed', :claimed);

SELECT 13 AS i \gset
SELECT clock_timestamp() AS t \gset
SELECT baseline(:i) \g /dev/null
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t') AS ms \gset
INSERT INTO results VALUES (4, 'baseline, 1M open', :ms);

-- Every timed sweep claimed its 1 000 watches and fired one warning each;
-- nothing was left due; the watches agree with the rules.
SELECT bool_and(ms = 1000) AS all_claimed FROM results WHERE step = 100 \gset
SELECT count(*) = 0 AS none_due FROM aftersales.escalation_watches WHERE next_check <= sweep_at(13) \gset
SELECT (SELECT count(*) FROM aftersales.alerts) = 13000 AS all_fired \gset
\if :all_claimed
\else
\echo 'a timed sweep did not claim its 1000 watches'
\quit 3
\endif
\if :none_due
\else
\echo 'watches were left due'
\quit 3
\endif
\if :all_fired
\else
\echo 'not one alert per due watch'
\quit 3
\endif

\pset footer off
\pset format aligned
\echo
\echo 'Escalation sweeps (best of 3; 1 000 due watches, one warning each)'
WITH best AS (SELECT step, min(ms) AS ms FROM results WHERE step < 100 GROUP BY step),
     b AS (SELECT step, ms FROM best)
SELECT m.measurement, round(o.ms, 1) AS "ours ms", round(bl.ms, 1) AS "baseline ms",
       round(o.ms / bl.ms, 2) AS ratio, m.goal,
       CASE WHEN o.ms / bl.ms <= m.limit_ THEN 'yes' ELSE 'NO' END AS "met?"
  FROM (VALUES (1, 'O(due): sweep among 1M open (ours) vs among 10k open (baseline)', 3, 1, '<= 1.5', 1.5),
               (2, 'per escalation: sweep vs UPDATE + INSERT of the same rows (10k open)', 1, 2, '<= 2.0x', 2.0),
               (3, 'per escalation: sweep vs UPDATE + INSERT of the same rows (1M open)', 3, 4, '<= 2.0x', 2.0))
       AS m (ord, measurement, ours, base, goal, limit_)
  JOIN b o ON o.step = m.ours
  JOIN b bl ON bl.step = m.base
 ORDER BY m.ord;
SELECT 'first sweep of a session (plans its statements; pg_cron runs each job in a new session)' AS "for information",
       round(ms, 1) AS ms FROM results WHERE step = 0;

\connect :home
SET client_min_messages = warning;
DROP DATABASE aftersales_bench_escalation;
