-- KPI functions: every bad argument is refused with a SQLSTATE, a message
-- naming the bad value, and a hint with a correct call.  One statement per
-- line, so that the texts are part of the expected output.
SET client_min_messages = warning;
SET TimeZone = 'UTC';
\set VERBOSITY default
\set SHOW_CONTEXT never
-- periods and dimensions
SELECT * FROM aftersales.kpi_service('fortnight', 'region', '2026-01-01', '2027-01-01');
SELECT * FROM aftersales.kpi_service(NULL, 'region', '2026-01-01', '2027-01-01');
SELECT * FROM aftersales.kpi_service('month', 'colour', '2026-01-01', '2027-01-01');
SELECT * FROM aftersales.kpi_headline('month', 'Region', '2026-01-01', '2027-01-01');
SELECT * FROM aftersales.kpi_headline('month', NULL, '2026-01-01', '2027-01-01');
SELECT * FROM aftersales.kpi_failures('month', 'engineer', '2026-01-01', '2027-01-01');
SELECT * FROM aftersales.kpi_dispatch('hour', 'organisation_type', '2026-01-01', '2027-01-01');
SELECT * FROM aftersales.kpi_backlog('org_type');
SELECT * FROM aftersales.kpi_staff('Month', '2026-01-01', '2027-01-01');
SELECT * FROM aftersales.kpi_warranty_trend('decade', '2026-01-01', '2027-01-01');
-- ranges and instants
SELECT * FROM aftersales.kpi_service('month', 'all', '2027-01-01', '2026-01-01');
SELECT * FROM aftersales.kpi_service('month', 'all', '2026-01-01', '2026-01-01');
SELECT * FROM aftersales.kpi_headline('month', 'all', NULL, '2027-01-01');
SELECT * FROM aftersales.kpi_ticket_facts('2026-01-01', NULL);
SELECT * FROM aftersales.kpi_service('month', 'all', '2026-01-01', '2027-01-01', as_of => NULL);
SELECT * FROM aftersales.backlog_as_of(NULL);
SELECT * FROM aftersales.kpi_engineer_holdings(NULL);
-- zones and tenants
SELECT * FROM aftersales.kpi_service('month', 'all', '2026-01-01', '2027-01-01', zone => 'Mars/Olympus');
-- zone NULL is the tenant's reporting zone; every tenant's (tenant => NULL)
-- only when they all share one
BEGIN;
INSERT INTO aftersales.tenants (tenant_id, name) VALUES (7, 'Paris office');
SELECT aftersales.set_reporting_zone('Europe/Paris', tenant => 7);
SELECT * FROM aftersales.kpi_failures('month', 'all', '2026-01-01', '2027-01-01', zone => NULL, tenant => NULL);
ROLLBACK;
SELECT * FROM aftersales.kpi_service('month', 'all', '2026-01-01', '2027-01-01', tenant => 424242);
SELECT * FROM aftersales.backlog_as_of('2026-01-01', tenant => 424242);
SELECT * FROM aftersales.kpi_failures('month', 'province', '2026-01-01', '2027-01-01', top => 0);
-- settings
SELECT aftersales.kpi_setting('response_minutes');
SELECT aftersales.set_kpi_setting('response_minutes', 15);
SELECT aftersales.set_kpi_setting('repeat_window_days', -1);
SELECT aftersales.set_kpi_setting('repeat_window_days', NULL);
SELECT aftersales.set_kpi_setting('repeat_window_days', 60, tenant => 424242);
-- long arguments are cut in the messages
SELECT aftersales.kpi_setting(repeat('n', 100000));
SELECT aftersales.set_kpi_setting(repeat('n', 100000), 1);
SELECT aftersales.set_kpi_setting('repeat_window_days', 1e100);
SELECT * FROM aftersales.kpi_service(repeat('p', 100000), 'all', '2026-01-01', '2027-01-01');
SELECT * FROM aftersales.kpi_service('month', repeat('d', 100000), '2026-01-01', '2027-01-01');
SELECT * FROM aftersales.kpi_service('month', 'all', '2026-01-01', '2027-01-01', zone => repeat('z', 100000));
DELETE FROM aftersales.kpi_settings WHERE tenant_id = 1 AND name = 'repeat_window_days';
DELETE FROM aftersales.kpi_catalogue WHERE tenant_id = 1 AND code = 'nps';
INSERT INTO aftersales.kpi_settings (tenant_id, name, value, unit) VALUES (1, 'response_minutes', 15, 'minutes');
