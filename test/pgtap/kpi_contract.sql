-- kpi_contract.sql: the contract of the KPI layer (issue 5), beyond the
-- figures (sql/kpi_dashboards.sql checks those):
--   * every KPI function is STABLE (or IMMUTABLE), not SECURITY DEFINER,
--     pins search_path, and runs - like every KPI view - inside a READ ONLY
--     transaction (so on a hot standby);
--   * every view is security_invoker, commented, with every column
--     commented and of a plain type;
--   * settings and catalogue: tenant-keyed, marked for pg_dump without the
--     shipped rows, tenant 1 as fallback, restore-safe;
--   * several tenants: the dimension tenant, and tenant => NULL;
--   * bad arguments: SQLSTATE and a message naming the value.
--
-- Run: pg_prove -h /tmp -p 5499 -U postgres -d kpi_tap test/pgtap/kpi_contract.sql
--      (the database needs: CREATE EXTENSION pgtap; CREATE EXTENSION aftersales CASCADE;)
-- Everything happens in one transaction that is rolled back.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(510);
SET LOCAL TimeZone = 'UTC';

-- ---------------------------------------------------------------------------
-- Functions

CREATE TEMP TABLE kpi_functions (sig regprocedure PRIMARY KEY, call text);
INSERT INTO kpi_functions VALUES
 ('aftersales.kpi_ticket_facts(timestamptz, timestamptz, timestamptz, bigint)',
  $$SELECT * FROM aftersales.kpi_ticket_facts('2026-01-01', '2027-01-01')$$),
 ('aftersales.kpi_service(text, text, timestamptz, timestamptz, timestamptz, text, bigint)',
  $$SELECT * FROM aftersales.kpi_service('month', 'region', '2026-01-01', '2027-01-01')$$),
 ('aftersales.kpi_headline(text, text, timestamptz, timestamptz, timestamptz, text, bigint)',
  $$SELECT * FROM aftersales.kpi_headline('week', 'organisation_type', '2026-01-01', '2027-01-01', tenant => NULL)$$),
 ('aftersales.kpi_staff(text, timestamptz, timestamptz, timestamptz, text, bigint)',
  $$SELECT * FROM aftersales.kpi_staff('month', '2026-01-01', '2027-01-01')$$),
 ('aftersales.kpi_dispatch(text, text, timestamptz, timestamptz, text, bigint)',
  $$SELECT * FROM aftersales.kpi_dispatch('day', 'engineer', '2026-01-01', '2027-01-01')$$),
 ('aftersales.backlog_as_of(timestamptz, bigint)',
  $$SELECT * FROM aftersales.backlog_as_of('2026-03-02 12:00+00')$$),
 ('aftersales.kpi_durations(text, text, timestamptz, timestamptz, timestamptz, text, bigint)',
  $$SELECT * FROM aftersales.kpi_durations('month', 'engineer', '2026-01-01', '2027-01-01')$$),
 ('aftersales.kpi_backlog(text, timestamptz, bigint)',
  $$SELECT * FROM aftersales.kpi_backlog('organisation', '2026-03-02 12:00+00')$$),
 ('aftersales.kpi_backlog_stages(text, timestamptz, bigint)',
  $$SELECT * FROM aftersales.kpi_backlog_stages('region', '2026-03-02 12:00+00')$$),
 ('aftersales.kpi_engineer_holdings(timestamptz, bigint)',
  $$SELECT * FROM aftersales.kpi_engineer_holdings('2026-03-02 12:00+00')$$),
 ('aftersales.kpi_failures(text, text, timestamptz, timestamptz, text, bigint, integer)',
  $$SELECT * FROM aftersales.kpi_failures('month', 'province', '2026-01-01', '2027-01-01', top => 5)$$),
 ('aftersales.kpi_warranty_trend(text, timestamptz, timestamptz, text, bigint)',
  $$SELECT * FROM aftersales.kpi_warranty_trend('month', '2026-01-01', '2027-01-01')$$),
 ('aftersales.kpi_setting(text, bigint)', $$SELECT aftersales.kpi_setting('repeat_window_days')$$),
 ('aftersales_internal.kpi_config(bigint)', $$SELECT * FROM aftersales_internal.kpi_config(NULL)$$),
 ('aftersales_internal.kpi_check(text, text, text, text, text[], timestamptz, timestamptz, timestamptz, text, bigint)',
  $$SELECT aftersales_internal.kpi_check('kpi_service', '', 'month', 'all', '{all}', '2026-01-01', '2027-01-01', now(), 'UTC', 1)$$),
 ('aftersales_internal.kpi_dimension_sql(text)', $$SELECT * FROM aftersales_internal.kpi_dimension_sql('region')$$),
 ('aftersales_internal.kpi_period_sql(text, text, integer)', $$SELECT aftersales_internal.kpi_period_sql('month', 'k.opened_at', 5)$$);

SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname IN ('aftersales', 'aftersales_internal') AND (p.proname ~ '^_?kpi_' OR p.proname = 'backlog_as_of')
              AND p.proname NOT IN ('set_kpi_setting')
              AND p.oid NOT IN (SELECT sig FROM kpi_functions)),
          NULL, 'every KPI function of the read path is listed here (and so tested below)');
SELECT ok(p.provolatile IN ('s', 'i'), p.oid::regprocedure || ' is STABLE or IMMUTABLE: it cannot write')
  FROM kpi_functions f JOIN pg_proc p ON p.oid = f.sig ORDER BY f.sig::text;
SELECT is(p.provolatile::text, 's', p.oid::regprocedure || ' is STABLE')
  FROM kpi_functions f JOIN pg_proc p ON p.oid = f.sig
 WHERE p.proname IN ('kpi_ticket_facts', 'kpi_service', 'kpi_headline', 'kpi_staff', 'kpi_dispatch', 'backlog_as_of',
                     'kpi_backlog', 'kpi_engineer_holdings', 'kpi_failures', 'kpi_warranty_trend', 'kpi_setting',
                     'kpi_durations', 'kpi_backlog_stages')
 ORDER BY f.sig::text;
SELECT ok(NOT p.prosecdef, p.oid::regprocedure || ' is SECURITY INVOKER')
  FROM kpi_functions f JOIN pg_proc p ON p.oid = f.sig ORDER BY f.sig::text;
-- PARALLEL SAFE only where true: kpi_check opens a subtransaction (BEGIN
-- ... EXCEPTION), which no process may do in a parallel query, so it and
-- every function calling it are PARALLEL UNSAFE.
SELECT is(p.proparallel::text, CASE WHEN p.proname = 'kpi_check' OR p.prosrc LIKE '%aftersales_internal.kpi_check(%' THEN 'u' ELSE 's' END,
          p.oid::regprocedure || CASE WHEN p.proname = 'kpi_check' OR p.prosrc LIKE '%aftersales_internal.kpi_check(%'
                                      THEN ' is PARALLEL UNSAFE (a subtransaction)' ELSE ' is PARALLEL SAFE' END)
  FROM kpi_functions f JOIN pg_proc p ON p.oid = f.sig ORDER BY f.sig::text;
-- Plan stability: every KPI function that runs queries pins search_path
-- and plan_cache_mode (a generic plan of its static query cannot see the
-- range or the tenant: 50 times slower after the fifth call of a session).
SELECT is(p.proconfig,
          CASE WHEN p.prosrc LIKE '%aftersales_internal.kpi_check(%'
               THEN '{"search_path=pg_catalog, pg_temp",plan_cache_mode=force_custom_plan}'
               ELSE '{"search_path=pg_catalog, pg_temp"}' END::text[],
          p.oid::regprocedure || CASE WHEN p.prosrc LIKE '%aftersales_internal.kpi_check(%'
                                      THEN ' pins search_path and plan_cache_mode' ELSE ' pins search_path' END)
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('aftersales', 'aftersales_internal') AND (p.proname ~ '^_?kpi_' OR p.proname IN ('backlog_as_of', 'set_kpi_setting', 'shipped_row'))
 ORDER BY p.oid::regprocedure::text;
SELECT ok(obj_description(p.oid, 'pg_proc') IS NOT NULL, p.oid::regprocedure || ' has a comment')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('aftersales', 'aftersales_internal') AND (p.proname ~ '^_?kpi_' OR p.proname IN ('backlog_as_of', 'set_kpi_setting', 'shipped_row'))
 ORDER BY p.oid::regprocedure::text;

-- ---------------------------------------------------------------------------
-- Views

CREATE TEMP TABLE kpi_views AS
SELECT c.oid::regclass AS v FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'aftersales' AND c.relkind = 'v' AND c.relname ~ '^_?kpi_';
SELECT cmp_ok((SELECT count(*)::int FROM kpi_views), '>=', 16, 'the KPI views exist');
SELECT ok(c.reloptions @> '{security_invoker=true}', v || ' is security_invoker')
  FROM kpi_views JOIN pg_class c ON c.oid = v ORDER BY v::text;
SELECT ok(obj_description(v, 'pg_class') IS NOT NULL, v || ' has a comment') FROM kpi_views ORDER BY v::text;
SELECT is(array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE col_description(v, a.attnum) IS NULL), NULL,
          v || ': every column has a comment')
  FROM kpi_views JOIN pg_attribute a ON a.attrelid = v AND a.attnum > 0 AND NOT a.attisdropped
 GROUP BY v ORDER BY v::text;
SELECT is(array_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
              FILTER (WHERE a.atttypid NOT IN ('text'::regtype, 'bigint'::regtype, 'integer'::regtype, 'numeric'::regtype,
                                               'boolean'::regtype, 'date'::regtype, 'timestamptz'::regtype)),
          NULL, v || ': plain types only (text, bigint, integer, numeric, boolean, date, timestamptz)')
  FROM kpi_views JOIN pg_attribute a ON a.attrelid = v AND a.attnum > 0 AND NOT a.attisdropped
 WHERE v::text NOT LIKE 'aftersales._kpi%'
 GROUP BY v ORDER BY v::text;

-- A BI driver reports numeric without a typmod as NUMERIC(0,0), and a tool
-- that trusts the scale rounds a rate to 0 or 1: every numeric column has
-- a declared precision and scale (rates 4 decimals, minutes and hours 2).
SELECT is(array_agg(a.attname::text ORDER BY a.attnum) FILTER (WHERE a.atttypid = 'numeric'::regtype AND a.atttypmod = -1), NULL,
          v || ': every numeric column has a declared scale')
  FROM kpi_views JOIN pg_attribute a ON a.attrelid = v AND a.attnum > 0 AND NOT a.attisdropped
 WHERE v::text NOT LIKE 'aftersales._kpi%'
 GROUP BY v ORDER BY v::text;
SELECT is(array_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
              FILTER (WHERE (a.attname ~ '_(rate|share)$' AND format_type(a.atttypid, a.atttypmod) <> 'numeric(5,4)')
                         OR (a.attname ~ '_minutes$' AND format_type(a.atttypid, a.atttypmod) <> 'numeric(14,2)')),
          NULL, v || ': rates are numeric(5,4), minutes numeric(14,2)')
  FROM kpi_views JOIN pg_attribute a ON a.attrelid = v AND a.attnum > 0 AND NOT a.attisdropped
 WHERE v::text NOT LIKE 'aftersales._kpi%'
 GROUP BY v ORDER BY v::text;
SELECT is(array_agg(c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ORDER BY c.relname, a.attnum),
          NULL, 'every view of schema aftersales has plain types only: no interval, enum or other type, no numeric without a scale')
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'aftersales'::regnamespace AND c.relkind = 'v'
   AND (a.atttypid NOT IN ('boolean'::regtype, 'smallint'::regtype, 'integer'::regtype, 'bigint'::regtype, 'text'::regtype,
                           'character varying'::regtype, 'date'::regtype, 'timestamp with time zone'::regtype,
                           'numeric'::regtype)
        OR (a.atttypid = 'numeric'::regtype AND a.atttypmod = -1));
SELECT is(format_type(a.atttypid, a.atttypmod), 'numeric(14,2)', 'escalation_rules_effective.after_minutes: the delay as numeric minutes')
  FROM pg_attribute a WHERE a.attrelid = 'aftersales.escalation_rules_effective'::regclass AND a.attname = 'after_minutes';

-- ---------------------------------------------------------------------------
-- Settings and catalogue tables

SELECT col_is_pk('aftersales', 'kpi_settings', ARRAY['tenant_id', 'name'], 'kpi_settings: key (tenant_id, name)');
SELECT col_is_pk('aftersales', 'kpi_catalogue', ARRAY['tenant_id', 'code'], 'kpi_catalogue: key (tenant_id, code)');
SELECT fk_ok('aftersales', 'kpi_settings', 'tenant_id', 'aftersales', 'tenants', 'tenant_id');
SELECT fk_ok('aftersales', 'kpi_catalogue', 'tenant_id', 'aftersales', 'tenants', 'tenant_id');
SELECT is((SELECT e.extcondition[array_position(e.extconfig, t.oid)]
             FROM pg_extension e WHERE e.extname = 'aftersales'),
          'WHERE tenant_id <> 1 OR customised', t.relname || ' is dumped by pg_dump, without tenant 1''s unchanged rows')
  FROM pg_class t WHERE t.oid IN ('aftersales.kpi_settings'::regclass, 'aftersales.kpi_catalogue'::regclass) ORDER BY t.relname;
SELECT is((SELECT count(*)::int FROM aftersales.kpi_settings WHERE tenant_id = 1 AND NOT customised), 9,
          'nine shipped settings');
SELECT ok((SELECT count(*) FROM aftersales.kpi_catalogue WHERE tenant_id = 1 AND NOT customised) >= 30,
          'the shipped catalogue has every KPI');
SELECT is((SELECT array_agg(code || ' ' || target || ' ' || target_direction ORDER BY sort_order)
             FROM aftersales.kpi_catalogue WHERE tenant_id = 1 AND target IS NOT NULL),
          '{"avg_first_response_minutes 15 <=","avg_resolution_minutes 30 <=","first_time_fix_rate 0.85 >=","problem_resolution_rate 0.98 >=","csat_avg 4.5 >=","utilisation 0.7 >=","article_coverage 0.9 >=","article_success_rate 0.8 >=","remote_share 0.3 >=","remote_success_rate 0.9 >="}',
          'the default targets of the brief and the seeds (average response 15 min, resolution 30 min, problem resolution 98%)');
SELECT is(array_agg(c.code ORDER BY c.code) FILTER (WHERE NOT EXISTS (
              SELECT FROM pg_attribute a WHERE a.attrelid IN (SELECT c2.oid FROM pg_class c2 WHERE c2.relnamespace = 'aftersales'::regnamespace AND c2.relkind = 'v') AND a.attname IN (c.code, substr(c.code, 9)))),
          NULL, 'every catalogued KPI is a column of a view')
  FROM aftersales.kpi_catalogue c WHERE c.tenant_id = 1;

-- Restore: loading a dumped row over a shipped, unchanged one replaces it;
-- a change marks the row customised; tenant 1's rows cannot be deleted.
SAVEPOINT config;
SELECT lives_ok($$INSERT INTO aftersales.kpi_settings (tenant_id, name, value, unit) VALUES (1, 'early_failure_days', 120, 'days')$$,
                'inserting a key that a shipped, unchanged row holds replaces it (what a restore does)');
SELECT is((SELECT value || ' ' || customised FROM aftersales.kpi_settings WHERE tenant_id = 1 AND name = 'early_failure_days'),
          '120 true', 'the row now holds the dumped value and is customised');
SELECT throws_ok($$INSERT INTO aftersales.kpi_settings (tenant_id, name, value, unit) VALUES (1, 'early_failure_days', 100, 'days')$$,
                 '23505', NULL, 'a second insert of a customised key is a duplicate');
SELECT lives_ok($$UPDATE aftersales.kpi_catalogue SET target = 0.9 WHERE tenant_id = 1 AND code = 'first_time_fix_rate'$$, 'a target changes');
SELECT ok((SELECT customised FROM aftersales.kpi_catalogue WHERE tenant_id = 1 AND code = 'first_time_fix_rate'),
          'and the row is customised, so pg_dump keeps it');
SELECT throws_ok($$DELETE FROM aftersales.kpi_settings WHERE tenant_id = 1 AND name = 'csat_good_min'$$,
                 '55000', 'cannot delete kpi_settings "csat_good_min" of tenant 1', 'tenant 1''s settings cannot be deleted');
SELECT throws_ok($$DELETE FROM aftersales.kpi_catalogue WHERE tenant_id = 1$$,
                 '55000', NULL, 'nor its catalogue');
ROLLBACK TO SAVEPOINT config;

-- ---------------------------------------------------------------------------
-- Data: tenant 9301 (and 9302), each with its own calendar and policy.

INSERT INTO aftersales.tenants (tenant_id, name) VALUES (9301, 'kpi tap one'), (9302, 'kpi tap two');
SET LOCAL aftersales.now = '2026-03-02 09:00+00';
SET LOCAL aftersales.tenant_id = '9302';
INSERT INTO aftersales.calendars (name, calendar) VALUES ('24x7', 'zone=UTC; mon-sun 00:00-24:00');
INSERT INTO aftersales.sla_policies (name, is_default) VALUES ('default', true);
INSERT INTO aftersales.sla_targets (policy_id, priority, metric, target)
SELECT policy_id, 'B', m::aftersales.sla_metric, '2 h' FROM aftersales.sla_policies, unnest('{first_response,resolution,arrival}'::text[]) m
 WHERE tenant_id = 9302;
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ two');
INSERT INTO aftersales.customers (name, region, province) VALUES ('two', '西南', '四川');
INSERT INTO aftersales.problem_types (code, name) VALUES ('P', 'p');
SELECT aftersales.open_ticket(customer => (SELECT customer_id FROM aftersales.customers WHERE tenant_id = 9302),
                              problem_type => (SELECT problem_type_id FROM aftersales.problem_types WHERE tenant_id = 9302),
                              priority => 'B', description => 'two', at => '2026-03-01 10:00+00') AS t2 \gset

SET LOCAL aftersales.tenant_id = '9301';
INSERT INTO aftersales.calendars (name, calendar) VALUES ('24x7', 'zone=UTC; mon-sun 00:00-24:00');
INSERT INTO aftersales.sla_policies (name, is_default) VALUES ('default', true);
INSERT INTO aftersales.sla_targets (policy_id, priority, metric, target)
SELECT policy_id, 'B', m::aftersales.sla_metric, '2 h' FROM aftersales.sla_policies, unnest('{first_response,resolution,arrival}'::text[]) m
 WHERE tenant_id = 9301;
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ one');
INSERT INTO aftersales.organisations (parent_id, level, name, region)
SELECT org_id, 'region', '华北大区', '华北' FROM aftersales.organisations WHERE tenant_id = 9301;
INSERT INTO aftersales.customers (name, region, province) VALUES ('one', '华北', '河北');
INSERT INTO aftersales.problem_types (code, name) VALUES ('P', 'p');
INSERT INTO aftersales.engineers (org_id, name)
SELECT org_id, 'e one' FROM aftersales.organisations WHERE tenant_id = 9301 AND level = 'region';
SELECT customer_id AS c1 FROM aftersales.customers WHERE tenant_id = 9301 \gset
SELECT problem_type_id AS p1 FROM aftersales.problem_types WHERE tenant_id = 9301 \gset
SELECT engineer_id AS e1 FROM aftersales.engineers WHERE tenant_id = 9301 \gset
SELECT aftersales.open_ticket(customer => :c1, problem_type => :p1, priority => 'B', description => 'a', field => true,
                              at => '2026-03-01 10:00+00') AS a \gset
SELECT aftersales.open_ticket(customer => :c1, problem_type => :p1, priority => 'B', description => 'b',
                              at => '2026-03-01 11:00+00') AS b \gset
SELECT aftersales.assign_ticket(:a, :e1, at => '2026-03-01 10:05+00') \gset
SELECT aftersales.arrive_on_site(:a, at => '2026-03-01 11:00+00') \gset
SELECT aftersales.resolve_ticket(:a, at => '2026-03-01 12:00+00') \gset
SELECT aftersales.follow_up(:a, satisfied => true, csat => 5, nps => 9, at => '2026-03-02 08:00+00') \gset
SELECT aftersales.assign_ticket(:b, :e1, at => '2026-03-01 11:30+00') \gset
-- c: two visits without a failure or a reopen (reassigned after the first
-- arrival): resolved, but not a first-time fix.  Entered 3 March, outside
-- the range of the figures below.
INSERT INTO aftersales.engineers (org_id, name)
SELECT org_id, 'e two' FROM aftersales.organisations WHERE tenant_id = 9301 AND level = 'region';
SELECT engineer_id AS e2 FROM aftersales.engineers WHERE tenant_id = 9301 AND name = 'e two' \gset
SELECT aftersales.open_ticket(customer => :c1, problem_type => :p1, priority => 'B', description => 'c', field => true,
                              at => '2026-03-03 08:00+00') AS c \gset
SELECT aftersales.assign_ticket(:c, :e1, at => '2026-03-03 08:05+00') \gset
SELECT aftersales.arrive_on_site(:c, at => '2026-03-03 09:00+00') \gset
SELECT aftersales.reassign_ticket(:c, :e2, reason => 'needs a welder', at => '2026-03-03 10:00+00') \gset
SELECT aftersales.arrive_on_site(:c, at => '2026-03-03 12:00+00') \gset
SELECT aftersales.resolve_ticket(:c, at => '2026-03-03 13:00+00') \gset
SELECT results_eq(format($$SELECT first_time_fix, attempt_count, reopen_count
                             FROM aftersales.kpi_ticket_facts('2026-03-03', '2026-03-04', '2026-03-04') f
                             JOIN aftersales.tickets t USING (tenant_id, ticket_id) WHERE ticket_id = %s$$, :c),
                  $$VALUES (0, 0, 0)$$, 'two arrivals on site: not a first-time fix, though nothing failed and nothing reopened');
SELECT results_eq($$SELECT dim_key, dispatches, reassigns FROM aftersales.kpi_dispatch('all', 'engineer', '2026-03-03', '2026-03-04')$$,
                  format($$VALUES (%L, 1::bigint, 0::bigint), (%L, 1::bigint, 1::bigint)$$, :e1, :e2),
                  'the reassignment is a dispatch to the second engineer');

-- Read only: every KPI function and every view, inside a READ ONLY
-- (sub)transaction, as on a hot standby.
SAVEPOINT ro;
SET TRANSACTION READ ONLY;
SELECT is(current_setting('transaction_read_only'), 'on', 'the transaction is read only now');
SELECT lives_ok(call, 'read only: ' || sig::text) FROM kpi_functions ORDER BY sig::text;
SELECT lives_ok('SELECT * FROM ' || v::text, 'read only: SELECT * FROM ' || v::text) FROM kpi_views ORDER BY v::text;
SELECT throws_ok($$SELECT aftersales.set_kpi_setting('repeat_window_days', 40)$$, '25006', NULL,
                 'while the setter is refused (the test can tell)');
ROLLBACK TO SAVEPOINT ro;

-- The figures of tenant 9301 (as of 2 March 09:00): a entered 10:00, arrival
-- (its first response) 11:00 (60 min: not within 10), resolved 12:00,
-- closed with CSAT 5, NPS 9; b entered 11:00, assigned, no response (past
-- 10 minutes), not yet 24 hours old.
SELECT results_eq($$SELECT tickets, resolved, closed, unresolved, response_rate, arrival_rate, completion_rate, first_time_fix_rate,
                           closed_loop_rate, csat_avg, nps
                      FROM aftersales.kpi_service('all', 'all', '2026-03-01', '2026-03-02')$$,
                  $$VALUES (2::bigint, 1::bigint, 1::bigint, 1::bigint, 0.0000, 1.0000, 1.0000, 1.0000, 1.0000, 5.00, 100.0)$$,
                  'kpi_service for the current tenant');
SELECT results_eq($$SELECT engineer_name, holdings, assigned, load_ratio FROM aftersales.kpi_engineer_holdings()$$,
                  $$VALUES ('e one', 1::bigint, 1::bigint, 0.1250), ('e two', 0::bigint, 0::bigint, 0.0000)$$,
                  'holdings of the current tenant (an active engineer holding nothing is listed)');

-- Several tenants: tenant => NULL and the dimension tenant.
SELECT results_eq($$SELECT dim_key, dim_name, tickets FROM aftersales.kpi_headline('all', 'tenant', '2026-03-01', '2026-03-02', tenant => NULL)
                     WHERE dim_key IN ('9301', '9302')$$,
                  $$VALUES ('9301', 'kpi tap one', 2::bigint), ('9302', 'kpi tap two', 1::bigint)$$,
                  'kpi_headline by tenant, every tenant');
SELECT results_eq($$SELECT dim_key, tickets, response_rate FROM aftersales.kpi_service('all', 'tenant', '2026-03-01', '2026-03-02', tenant => NULL)
                     WHERE dim_key IN ('9301', '9302')$$,
                  $$VALUES ('9301', 2::bigint, 0.0000), ('9302', 1::bigint, 0.0000)$$,
                  'kpi_service by tenant, every tenant');
SELECT results_eq($$SELECT dim_key, tickets FROM aftersales.kpi_service('all', 'region', '2026-03-01', '2026-03-02', tenant => 9302)$$,
                  $$VALUES ('西南', 1::bigint)$$, 'another tenant by its id');
SELECT results_eq($$SELECT tenant_id, ticket_id FROM aftersales.backlog_as_of('2026-03-02 09:00+00', NULL) WHERE tenant_id IN (9301, 9302)$$,
                  format($$VALUES (9301::bigint, %s::bigint), (9302, %s)$$, :b, :t2), 'the backlog of every tenant');

-- A new tenant has every setting and the whole catalogue from tenant 1;
-- its own rows override tenant 1's, key by key.
SELECT is(aftersales.kpi_setting('repeat_window_days'), 30::numeric, 'a new tenant has tenant 1''s settings');
SELECT is((SELECT count(*) FROM aftersales.kpi_definitions), (SELECT count(*) FROM aftersales.kpi_catalogue WHERE tenant_id = 1),
          'and tenant 1''s catalogue');
SELECT is(aftersales.set_kpi_setting('repeat_window_days', 60), 60::numeric, 'set_kpi_setting for the current tenant');
SELECT is(aftersales.kpi_setting('repeat_window_days'), 60::numeric, 'the tenant''s own value applies');
SELECT is(aftersales.kpi_setting('repeat_window_days', 1), 30::numeric, 'tenant 1''s is unchanged');
SELECT is((SELECT value || ' ' || defined_by_tenant FROM aftersales.kpi_settings_current WHERE name = 'repeat_window_days'), '60.0000 9301',
          'kpi_settings_current shows the tenant''s own row');
SELECT is((SELECT g.repeat_window FROM aftersales_internal.kpi_config(9301) g), interval '60 days', 'and the KPI functions use it');
INSERT INTO aftersales.kpi_catalogue (code, category, name_en, name_zh, definition, formula, unit, target, target_direction, source)
SELECT code, category, name_en, name_zh, definition, formula, unit, 0.95, '>=', source
  FROM aftersales.kpi_catalogue WHERE tenant_id = 1 AND code = 'response_rate';
SELECT is((SELECT target || ' ' || defined_by_tenant FROM aftersales.kpi_definitions WHERE code = 'response_rate'), '0.9500 9301',
          'a tenant''s own catalogue row overrides tenant 1''s');
SELECT is((SELECT count(*) FROM aftersales.kpi_definitions), (SELECT count(*) FROM aftersales.kpi_catalogue WHERE tenant_id = 1),
          'still one row per code');

-- security_invoker: a role that may not read the tickets may not read
-- them through a KPI view either.
CREATE ROLE kpi_tap_reader NOLOGIN;
GRANT USAGE ON SCHEMA aftersales TO kpi_tap_reader;
GRANT SELECT ON aftersales.kpi_catalogue, aftersales.kpi_definitions, aftersales.kpi_facts TO kpi_tap_reader;
SET LOCAL ROLE kpi_tap_reader;
SELECT lives_ok('SELECT * FROM aftersales.kpi_definitions', 'a reader of the catalogue reads kpi_definitions');
SELECT throws_ok('SELECT * FROM aftersales.kpi_facts', '42501', NULL, 'but not kpi_facts without the right to read tickets');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- Plan stability: each view ten times in one session (a pooled BI
-- connection); the tenth call gives the first call's rows.
CREATE TEMP TABLE view_calls (v regclass, call integer, digest text);
DO $$
DECLARE
    r record;
    d text;
BEGIN
    FOR r IN SELECT v FROM kpi_views ORDER BY v::text LOOP
        FOR i IN 1 .. 10 LOOP
            EXECUTE format('SELECT md5(COALESCE(string_agg(x::text, %L ORDER BY x::text), %L)) FROM %s x', '|', '', r.v) INTO d;
            INSERT INTO view_calls VALUES (r.v, i, d);
        END LOOP;
    END LOOP;
END
$$;
SELECT is((SELECT digest FROM view_calls c WHERE c.v = k.v AND call = 10), (SELECT digest FROM view_calls c WHERE c.v = k.v AND call = 1),
          k.v || ': the tenth call in a session gives the first call''s rows')
  FROM kpi_views k ORDER BY k.v::text;

-- Parallel mode: with every query forced into a parallel plan, each view
-- (alone, and next to a parallel scan of the event log) gives the serial
-- answer instead of failing to start a subtransaction.
CREATE TEMP TABLE serial_rows AS SELECT v, digest FROM view_calls WHERE call = 1;
SAVEPOINT parallel;
SET LOCAL force_parallel_mode = on;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r record;
    p text := '';
BEGIN
    FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        p := p || r."QUERY PLAN" || E'\n';
    END LOOP;
    RETURN p;
END
$$;
SELECT ok(pg_temp.plan_of('SELECT count(*) FROM aftersales.ticket_events') LIKE '%Gather%',
          'the settings do give a parallel plan (Gather) to a plain query');
CREATE TEMP TABLE parallel_rows (v regclass, digest text, digest_beside_scan text);
DO $$
DECLARE
    r record;
    d text;
    d2 text;
BEGIN
    FOR r IN SELECT v FROM kpi_views ORDER BY v::text LOOP
        EXECUTE format('SELECT md5(COALESCE(string_agg(x::text, %L ORDER BY x::text), %L)) FROM %s x', '|', '', r.v) INTO d;
        EXECUTE format('SELECT md5(COALESCE(string_agg(x::text, %L ORDER BY x::text), %L)) FROM %s x, (SELECT count(*) FROM aftersales.ticket_events) e',
                       '|', '', r.v) INTO d2;
        INSERT INTO parallel_rows VALUES (r.v, d, d2);
    END LOOP;
END
$$;
SELECT is(p.digest, s.digest, p.v || ': the serial rows under force_parallel_mode')
  FROM parallel_rows p JOIN serial_rows s USING (v) ORDER BY p.v::text;
SELECT ok(p.digest_beside_scan IS NOT NULL, p.v || ': beside a parallel scan of ticket_events too')
  FROM parallel_rows p ORDER BY p.v::text;
ROLLBACK TO SAVEPOINT parallel;

-- ---------------------------------------------------------------------------
-- Bad arguments: SQLSTATE, a message naming the value (the hints are in
-- sql/kpi_errors.sql).
SELECT throws_ok($$SELECT * FROM aftersales.kpi_service('fortnight', 'region', '2026-01-01', '2027-01-01')$$,
                 '22023', 'unknown period: "fortnight"', 'an unknown period');
SELECT throws_ok($$SELECT * FROM aftersales.kpi_headline('month', 'colour', '2026-01-01', '2027-01-01')$$,
                 '22023', 'unknown dimension: "colour"', 'an unknown dimension');
SELECT throws_ok($$SELECT * FROM aftersales.kpi_failures('month', 'engineer', '2026-01-01', '2027-01-01')$$,
                 '22023', 'unknown dimension: "engineer"', 'a dimension the function does not have');
SELECT throws_ok($$SELECT * FROM aftersales.kpi_service('month', 'all', '2027-01-01', '2026-01-01')$$,
                 '22023', NULL, 'an empty range');
SELECT throws_ok($$SELECT * FROM aftersales.kpi_service('month', 'all', NULL, '2026-01-01')$$,
                 '22004', 'since and until must not be null', 'a missing bound');
SELECT throws_ok($$SELECT * FROM aftersales.kpi_service('month', 'all', '2026-01-01', '2027-01-01', zone => 'Mars/Olympus')$$,
                 '22023', 'unknown time zone: "Mars/Olympus"', 'an unknown zone');
SELECT throws_ok($$SELECT * FROM aftersales.kpi_backlog('region', tenant => 424242)$$,
                 'P0002', 'tenant 424242 does not exist', 'an unknown tenant');
SELECT throws_ok($$SELECT * FROM aftersales.kpi_backlog('region', NULL)$$,
                 '22004', 'as_of must not be null', 'a missing as_of');
SELECT throws_ok($$SELECT * FROM aftersales.kpi_failures('month', 'region', '2026-01-01', '2027-01-01', top => 0)$$,
                 '22023', 'top must be positive, not 0', 'top below 1');
SELECT throws_ok($$SELECT aftersales.kpi_setting('response_minutes')$$,
                 '22023', 'unknown KPI setting: "response_minutes"', 'an unknown setting');
SELECT throws_ok($$SELECT aftersales.set_kpi_setting('repeat_window_days', -1)$$,
                 '22003', 'invalid value for KPI setting repeat_window_days: -1', 'a negative setting');

SELECT * FROM finish();
ROLLBACK;
