-- event_time_window.sql: the accepted window of an event's time (at =>).
-- An event time must be finite, not before the ticket's last event, and at
-- most a year ahead of the database clock (the transaction's start);
-- outside it the call fails with 22008 (or 22023 for an event that
-- precedes the last one) and a hint, and the ticket is untouched.
-- Everything is rolled back.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(14);
SET LOCAL TimeZone = 'UTC';

SET LOCAL aftersales.now = '2026-03-02 09:00+00';
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'window HQ')
RETURNING org_id AS org \gset
WITH c AS (INSERT INTO aftersales.customers (name, tier) VALUES ('window customer', 'standard') RETURNING customer_id),
     p AS (INSERT INTO aftersales.problem_types (code, name) VALUES ('WINDOW', 'Window test') RETURNING problem_type_id),
     e AS (INSERT INTO aftersales.engineers (org_id, name) VALUES (:org, 'Wang Wei') RETURNING engineer_id)
SELECT c.customer_id AS cu, p.problem_type_id AS pt, e.engineer_id AS en FROM c, p, e \gset
SELECT aftersales.open_ticket(:cu, :pt, 'B', 'window', at => '2026-03-02 09:00+00') AS t \gset

SELECT throws_ok(format($$SELECT aftersales.assign_ticket(%s, %s, at => 'infinity')$$, :t, :en),
    '22008', 'time of event assign must be finite, not infinity', 'assign at infinity: 22008');
SELECT throws_ok(format($$SELECT aftersales.hold_ticket(%s, 'away', at => '-infinity')$$, :t),
    '22008', 'time of event hold must be finite, not -infinity', 'hold at -infinity: 22008');
SELECT throws_like(format($$SELECT aftersales.assign_ticket(%s, %s, at => '9999-12-31 23:59:59+00')$$, :t, :en),
    'time of event assign, 9999-12-31 23:59:59+00, is more than a year ahead of the database clock%', 'assign at 9999-12-31: refused');
SELECT throws_ok(format($$SELECT aftersales.assign_ticket(%s, %s, at => '294276-12-31 23:59:59+00')$$, :t, :en),
    '22008', NULL, 'assign in year 294276: 22008');
SELECT throws_ok(format($$SELECT aftersales.assign_ticket(%s, %s, at => pg_catalog.now() + interval '367 days')$$, :t, :en),
    '22008', NULL, 'assign 367 days ahead of the clock: 22008');
SELECT throws_ok(format($$SELECT aftersales.open_ticket(%s, %s, 'B', 'never', at => 'infinity')$$, :cu, :pt),
    '22008', 'time of event open must be finite, not infinity', 'open_ticket at infinity: 22008');
SELECT throws_ok(format($$SELECT aftersales.open_ticket(%s, %s, 'B', 'never', at => '9999-12-31 23:59:59+00')$$, :cu, :pt),
    '22008', NULL, 'open_ticket at 9999-12-31: 22008');
SELECT throws_ok(format($$SELECT aftersales.assign_ticket(%s, %s, at => '2026-03-01 09:00+00')$$, :t, :en),
    '22023', NULL, 'an event before the last one: 22023');

-- the hint says what to pass
CREATE TEMP TABLE hint_of (hint text) ON COMMIT DROP;
SELECT set_config('event_window.ticket', :'t', true) \g /dev/null
DO $$
DECLARE h text;
BEGIN
    PERFORM aftersales.hold_ticket(current_setting('event_window.ticket')::bigint, 'away', at => 'infinity');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
    INSERT INTO hint_of VALUES (h);
END $$;
SELECT is((SELECT hint FROM hint_of),
    'Pass the time it happened, or none for the current time, for example: at => ''2026-03-02 09:00+08''.',
    'the hint gives a correct example');

SELECT is((SELECT status::text || '/' || event_seq FROM aftersales.tickets WHERE tenant_id = 1 AND ticket_id = :t),
    'new/1', 'the refused calls left the ticket untouched');
SELECT is((SELECT count(*)::int FROM aftersales.tickets WHERE tenant_id = 1 AND customer_id = :cu), 1, 'no ticket opened by a refused open_ticket');

-- inside the window: now, and up to a year ahead
SELECT is(aftersales.assign_ticket(:t, :en, at => '2026-03-02 09:05+00')::text, 'assigned',
    'an event after the last one, in the past of the clock: accepted');
SELECT is(aftersales.start_work(:t, at => pg_catalog.now() + interval '300 days')::text, 'in_progress',
    'an event 300 days ahead of the clock: accepted');
SELECT is((SELECT count(*)::int FROM aftersales.check_tickets(1)), 0, 'check_tickets() clean');

SELECT * FROM finish();
ROLLBACK;
