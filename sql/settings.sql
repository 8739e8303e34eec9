-- settings: the settings of aftersales are declared (SHOW, pg_settings), the
-- prefix aftersales.* is reserved, so a misspelt name is an error, also when
-- it was set before the library was loaded; aftersales.tenant_id must name an
-- existing tenant (unset: the default tenant 1), never falls back to 1.
\set SHOW_CONTEXT never

-- A misspelt name set before the library was loaded in this session: the
-- uses of the settings report it.
\c
SET aftersales.tenantid = '7';
SELECT aftersales.current_tenant();
\echo :LAST_ERROR_SQLSTATE
SELECT aftersales.current_tenant();
-- until a setting of aftersales is set or reset
SET aftersales.tenant_id = '1';
SELECT aftersales.current_tenant();
-- Once loaded, the prefix is reserved.
SET aftersales.tenantid = '7';
\echo :LAST_ERROR_SQLSTATE
-- What the API tells the trigger is no setting.
SET aftersales.event_actor = 'wang';
SET aftersales.event_at = '2024-01-01';
SET aftersales.sweep_locking = 'on';

-- A bad tenant id: refused when set.
SET aftersales.tenant_id = 'seven';
\echo :LAST_ERROR_SQLSTATE
SET aftersales.tenant_id = '0';
SET aftersales.tenant_id = '-1';
SET aftersales.tenant_id = '1234567890123456789';
-- An unknown one: refused when used.
SET aftersales.tenant_id = '424242';
SELECT aftersales.current_tenant();
\echo :LAST_ERROR_SQLSTATE
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'x');
BEGIN;
INSERT INTO aftersales.tenants (tenant_id, name) VALUES (424242, 'settings test');
SELECT aftersales.current_tenant();
ROLLBACK;
SELECT aftersales.current_tenant();
RESET aftersales.tenant_id;
SELECT aftersales.current_tenant();
SET aftersales.tenant_id = '';
SELECT aftersales.current_tenant();
RESET aftersales.tenant_id;

-- A bad tenant id set before the library was loaded: an error, not tenant 1.
\c
SET aftersales.tenant_id = 'abc';
SELECT aftersales.current_tenant();
\echo :LAST_ERROR_SQLSTATE
SELECT aftersales.current_tenant();
RESET aftersales.tenant_id;
SELECT aftersales.current_tenant();

-- The declared settings.
SELECT name, vartype, context, short_desc FROM pg_settings WHERE name LIKE 'aftersales.%' ORDER BY name;
