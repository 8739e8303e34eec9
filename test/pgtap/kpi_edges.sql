-- kpi_edges.sql: KPI arguments at the edges: an infinite as_of (at) and a
-- NULL period are refused with a SQLSTATE and a hint, as every other bad
-- argument of the KPI functions.  Everything is rolled back.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(6);
SET LOCAL TimeZone = 'UTC';

SELECT throws_ok($$SELECT * FROM aftersales.kpi_backlog(as_of => 'infinity')$$,
    '22008', 'as_of must be finite, not infinity', 'kpi_backlog as of infinity: 22008');
SELECT throws_ok($$SELECT * FROM aftersales.kpi_engineer_holdings(as_of => '-infinity')$$,
    '22008', 'as_of must be finite, not -infinity', 'kpi_engineer_holdings as of -infinity: 22008');
SELECT throws_ok($$SELECT * FROM aftersales.backlog_as_of('infinity')$$,
    '22008', 'at must be finite, not infinity', 'backlog_as_of at infinity: 22008');
SELECT throws_ok($$SELECT * FROM aftersales.kpi_durations(NULL, 'region', '2026-01-01', '2027-01-01')$$,
    '22004', 'period must not be null', 'kpi_durations with a NULL period: 22004, as kpi_service');
SELECT throws_ok($$SELECT * FROM aftersales.kpi_service(NULL, 'region', '2026-01-01', '2027-01-01')$$,
    '22004', 'period must not be null', 'kpi_service with a NULL period: 22004');
SELECT lives_ok($$SELECT * FROM aftersales.kpi_backlog(as_of => '2026-03-01 00:00+00')$$,
    'kpi_backlog as of a finite instant works');

SELECT * FROM finish();
ROLLBACK;
