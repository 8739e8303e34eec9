-- sample_data.sql: aftersales.generate_sample_data() (issue 6).
--
-- Deterministic: the same seed gives the same checksum in two tenants
-- (whose surrogate ids differ), another seed another checksum; the stored
-- checksum is the recomputed one; the same call again changes nothing.
-- Real: every ticket equals its replay from the event log
-- (check_tickets() is empty), the occurrence counters match, and the mix
-- the issue asks for is there: the six regions, the three organisation
-- types, key customers with agreements, early, in-warranty and
-- out-of-warranty failures, every kind of event, both seed 002 lock rules,
-- follow-ups with and without scores, a backlog at the year's end.
-- Arguments are validated with SQLSTATE, message and hint.
--
-- Run: pg_prove -d <db with pgtap and aftersales> test/pgtap/sample_data.sql
-- Everything is rolled back.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(50);
SET LOCAL client_min_messages = warning;

-- ---------------------------------------------------------------------------
-- Arguments

SELECT throws_ok($$SELECT aftersales.generate_sample_data('x', tickets => 5)$$, '22023',
    'invalid number of sample tickets: 5', 'too few tickets: 22023, naming the value');
SELECT throws_ok($$SELECT aftersales.generate_sample_data('x', tickets => NULL)$$, '22023',
    'invalid number of sample tickets: NULL', 'no number of tickets: 22023');
SELECT throws_ok($$SELECT aftersales.generate_sample_data('x', year => 1999)$$, '22023',
    'invalid sample year: 1999', 'a year out of range: 22023');
SELECT throws_ok($$SELECT aftersales.generate_sample_data(' ')$$, '22004',
    'tenant_name must not be empty', 'an empty tenant name: 22004');
SELECT throws_ok($$SELECT aftersales.generate_sample_data('x', seed => NULL)$$, '22004',
    'seed must not be null', 'no seed: 22004');
SELECT throws_ok($$SELECT aftersales.generate_sample_data('x', progress => -1)$$, '22023',
    'invalid progress interval: -1', 'a negative progress interval: 22023');
SELECT throws_ok($$SELECT aftersales.generate_sample_data('default')$$, '42710',
    'tenant "default" already exists', 'an existing tenant is never filled: 42710');

-- The hint gives a correct example, which runs.
CREATE TEMP TABLE hint_of AS SELECT NULL::text AS hint;
DO $$
DECLARE h text;
BEGIN
    PERFORM aftersales.generate_sample_data('x', tickets => 5);
EXCEPTION WHEN invalid_parameter_value THEN
    GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
    UPDATE hint_of SET hint = h;
END
$$;
SELECT matches((SELECT hint FROM hint_of), 'generate_sample_data\(''demo'', seed => 1, tickets => 2000, year => 2026\)',
    'the hint shows a correct call');

-- ---------------------------------------------------------------------------
-- Determinism

CREATE TEMP TABLE runs AS
SELECT 'a' AS k, r.* FROM aftersales.generate_sample_data('det-a', seed => 7, tickets => 300) r;
INSERT INTO runs SELECT 'b', r.* FROM aftersales.generate_sample_data('det-b', seed => 7, tickets => 300) r;
INSERT INTO runs SELECT 'c', r.* FROM aftersales.generate_sample_data('det-c', seed => 8, tickets => 300) r;

SELECT isnt((SELECT tenant_id FROM runs WHERE k = 'a'), (SELECT tenant_id FROM runs WHERE k = 'b'),
    'two tenants, so different surrogate ids');
SELECT ok((SELECT min(ticket_id) FROM aftersales.tickets t JOIN runs r USING (tenant_id) WHERE r.k = 'b')
          > (SELECT max(ticket_id) FROM aftersales.tickets t JOIN runs r USING (tenant_id) WHERE r.k = 'a'),
    'the second tenant''s ticket ids all differ from the first''s');
SELECT is((SELECT checksum FROM runs WHERE k = 'b'), (SELECT checksum FROM runs WHERE k = 'a'),
    'the same seed gives the same checksum');
SELECT is((SELECT events FROM runs WHERE k = 'b'), (SELECT events FROM runs WHERE k = 'a'),
    'and the same number of events');
SELECT isnt((SELECT checksum FROM runs WHERE k = 'c'), (SELECT checksum FROM runs WHERE k = 'a'),
    'another seed gives another checksum');
SELECT is((SELECT aftersales.sample_data_checksum(tenant_id) FROM runs WHERE k = 'a'),
          (SELECT checksum FROM runs WHERE k = 'a'), 'the stored checksum is the recomputed one');
SELECT matches((SELECT checksum FROM runs WHERE k = 'a'), '^[0-9a-f]{32}$', 'the checksum is 32 hex digits');
SELECT is((SELECT count(*) FROM aftersales.tickets t JOIN runs r USING (tenant_id) WHERE r.k = 'a'), 300::bigint,
    'as many tickets as asked for');
SELECT is((SELECT count(*) FROM aftersales.ticket_events e JOIN runs r USING (tenant_id) WHERE r.k = 'a'),
          (SELECT events FROM runs WHERE k = 'a'), 'the run counts the events logged');
SELECT is(aftersales.current_tenant(), 1::bigint, 'the caller''s tenant is left as it was');

-- Idempotent: the same call again returns the first run and adds nothing.
SELECT is((SELECT row(r.*)::text FROM aftersales.generate_sample_data('det-a', seed => 7, tickets => 300) r),
          (SELECT row(tenant_id, tenant_name, seed, tickets, year, events, started_at, seconds, checksum)::text FROM runs WHERE k = 'a'),
    'the same call again returns the first run');
SELECT is((SELECT count(*) FROM aftersales.tickets t JOIN runs r USING (tenant_id) WHERE r.k = 'a'), 300::bigint,
    'and adds no ticket');
SELECT throws_ok($$SELECT aftersales.generate_sample_data('det-a', seed => 9, tickets => 300)$$, '42710',
    'tenant "det-a" already holds sample data of seed 7, 300 tickets, year 2026', 'other arguments for the same tenant: 42710');

-- ---------------------------------------------------------------------------
-- Real: the event log replays to every stored ticket

SELECT is_empty($$SELECT * FROM aftersales.check_tickets((SELECT tenant_id FROM runs WHERE k = 'a'))$$,
    'every ticket equals its replay from the event log');
SELECT is_empty($$SELECT * FROM aftersales.check_occurrences() c JOIN runs r USING (tenant_id)$$,
    'the occurrence counts match the tickets');

-- ---------------------------------------------------------------------------
-- The mix, on 1,000 tickets

CREATE TEMP TABLE mix AS SELECT r.* FROM aftersales.generate_sample_data('mix', seed => 1, tickets => 1000) r;
SELECT set_config('aftersales.tenant_id', (SELECT tenant_id::text FROM mix), true);
SET LOCAL aftersales.now = '2027-01-01 00:00+08';

SELECT is_empty($$SELECT * FROM aftersales.check_tickets(aftersales.current_tenant())$$,
    'mix: every ticket equals its replay');
SELECT is((SELECT array_agg(DISTINCT region::text ORDER BY region::text) FROM aftersales.organisations WHERE tenant_id = aftersales.current_tenant() AND level > 'hq'),
          (SELECT array_agg(r ORDER BY r) FROM unnest('{华东,华北,东北,中南,西北,西南}'::text[]) r), 'the six regions');
SELECT is((SELECT count(*) FROM aftersales.organisations WHERE tenant_id = aftersales.current_tenant() AND level = 'province'),
          31::bigint, '31 provinces');
SELECT is((SELECT array_agg(DISTINCT org_type ORDER BY org_type) FROM aftersales.organisations
            WHERE tenant_id = aftersales.current_tenant() AND level = 'outlet'),
          '{dealer,representative_office,supplier}'::text[], 'outlets of the three organisation types');
SELECT is((SELECT array_agg(DISTINCT o.org_type ORDER BY o.org_type) FROM aftersales.tickets t
             JOIN aftersales.organisations o USING (tenant_id, org_id) WHERE t.tenant_id = aftersales.current_tenant()),
          '{dealer,representative_office,supplier}'::text[], 'tickets handled by all three');
SELECT ok((SELECT count(*) >= 60 AND bool_and(cardinality(skills) > 0 AND capacity BETWEEN 6 AND 12)
             FROM aftersales.engineers WHERE tenant_id = aftersales.current_tenant()),
    'at least 60 engineers, each with skills and a capacity');
SELECT ok((SELECT count(*) FROM aftersales.customers c JOIN aftersales.service_agreements a USING (tenant_id, customer_id)
            WHERE c.tenant_id = aftersales.current_tenant() AND c.tier = 'key') > 0,
    'key customers, with service agreements');
SELECT ok((SELECT count(*) FROM aftersales.ticket_sla WHERE tenant_id = aftersales.current_tenant() AND agreement_id IS NOT NULL) > 0,
    'some clocks run on an agreement''s policy');
SELECT ok((SELECT count(*) FILTER (WHERE outcome = 'met') > 0 AND count(*) FILTER (WHERE outcome = 'breached') > 0
             FROM aftersales.ticket_sla WHERE tenant_id = aftersales.current_tenant()),
    'SLA clocks both met and breached');

SELECT ok((SELECT early_failures > 0 AND in_warranty_failures > 0 AND out_of_warranty_failures > 0
             FROM aftersales.kpi_failures('all', 'all', '2026-01-01 00:00+08', '2027-01-01 00:00+08')),
    'early, in-warranty and out-of-warranty failures all occur');
SELECT ok((SELECT max(failures) > 3 * min(failures) FROM aftersales.kpi_failures('all', 'product_model', '2026-01-01 00:00+08', '2027-01-01 00:00+08')),
    'failures skewed toward a few models');
SELECT ok((SELECT max(failures) > 3 * percentile_disc(0.5) WITHIN GROUP (ORDER BY failures)
             FROM aftersales.kpi_failures('all', 'province', '2026-01-01 00:00+08', '2027-01-01 00:00+08')),
    'and toward a few provinces');

SELECT is((SELECT array_agg(e ORDER BY e) FROM unnest('{open,assign,start,arrive,resolve,fail,hold,resume,follow_up,cancel,reopen,lock,take_over,transfer,retarget}'::aftersales.ticket_event[]) e
            WHERE NOT EXISTS (SELECT FROM aftersales.ticket_events v WHERE v.tenant_id = aftersales.current_tenant() AND v.event = e)),
          NULL, 'every kind of event occurs');
SELECT ok((SELECT count(*) FROM aftersales.ticket_events WHERE tenant_id = aftersales.current_tenant()
            AND event = 'fail' AND to_state = 'locked' AND payload ->> 'rule' = 'attempts') > 0,
    'seed 002: handled twice and unresolved locks');
SELECT ok((SELECT count(*) FROM aftersales.ticket_events WHERE tenant_id = aftersales.current_tenant()
            AND event = 'assign' AND to_state = 'locked' AND payload ->> 'rule' = 'late') > 0,
    'seed 002: assigned after the requested date locks');
SELECT ok((SELECT count(*) FILTER (WHERE csat IS NULL) > 0 AND count(*) FILTER (WHERE csat IS NOT NULL) > 0
              AND count(*) FILTER (WHERE nps IS NULL) > 0 AND count(*) FILTER (WHERE nps IS NOT NULL) > 0
             FROM aftersales.tickets WHERE tenant_id = aftersales.current_tenant() AND followed_up_at IS NOT NULL),
    'follow-ups with and without CSAT and NPS');
SELECT ok((SELECT count(*) FROM aftersales.ticket_events WHERE tenant_id = aftersales.current_tenant()
            AND event = 'follow_up' AND to_state = 'new') > 0, 'unsatisfied customers send tickets back');
SELECT is((SELECT array_agg(DISTINCT priority::text ORDER BY priority::text) FROM aftersales.tickets WHERE tenant_id = aftersales.current_tenant()),
          '{A,B,C}'::text[], 'priorities A, B and C');
SELECT ok((SELECT count(DISTINCT channel) FROM aftersales.tickets WHERE tenant_id = aftersales.current_tenant()) >= 7, 'the channels');
SELECT ok((SELECT min(opened_at) >= '2026-01-01 00:00+08' AND max(opened_at) < '2027-01-01 00:00+08'
             FROM aftersales.tickets WHERE tenant_id = aftersales.current_tenant()), 'entered in 2026');
SELECT ok((SELECT max(at) < '2027-01-01 00:00+08' FROM aftersales.ticket_events WHERE tenant_id = aftersales.current_tenant()),
    'nothing happens after the year');
SELECT ok((SELECT open_tickets > 0 AND over_120h > 0 FROM aftersales.kpi_backlog('all')), 'a backlog at the year''s end, some of it old');

-- ---------------------------------------------------------------------------
-- The calendar

SELECT ok(NOT aftersales.is_business_time(aftersales.sample_calendar(2026), '2026-10-01 10:00+08'), '2026: National Day is a holiday');
SELECT ok(aftersales.is_business_time(aftersales.sample_calendar(2026), '2026-10-10 10:00+08'), '2026: Saturday 10 October is a make-up working day');
SELECT ok(NOT aftersales.is_business_time(aftersales.sample_calendar(2026), '2026-02-17 10:00+08'), '2026: Spring Festival');
SELECT ok(NOT aftersales.is_business_time(aftersales.sample_calendar(2025), '2025-10-08 10:00+08'), '2025: National Day and Mid-Autumn run to 8 October');
SELECT throws_ok($$SELECT aftersales.sample_calendar(1900)$$, '22023', 'invalid sample year: 1900', 'sample_calendar validates the year');

SELECT * FROM finish();
ROLLBACK;
