-- access_matrix.sql: the access matrix.  Every principal (each kind of
-- member at HQ, in a region and at an outlet, by its own login and through
-- an application pool; the pool without an asserted user; a login with a
-- group role but no membership; a login with nothing, i.e. PUBLIC) is run,
-- under each state of aftersales.tenant_id (unset, empty, own tenant, other
-- tenant, garbage), against every verb: SELECT, INSERT, UPDATE, DELETE and
-- TRUNCATE of every table, SELECT of every view, and API calls aimed at
-- rows the principal must not reach.  Expectations are a table of allowed
-- cells (expected_cells below); a case differs when a verb expected to be
-- refused succeeds or the reverse, and leaks when it sees or touches a row
-- outside the principal's tenant and organisation scope.  The file reports
-- "N cases, 0 leaks" and fails on any difference.
--
-- Run: pg_prove -d DB test/pgtap/access_matrix.sql (DB with pgtap and
-- aftersales); everything, roles included, is rolled back.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(8);
SET LOCAL TimeZone = 'UTC';
SET LOCAL client_min_messages = warning;
SELECT current_user AS superuser \gset

-- Two tenants of sample data: A (the principals' own) and B (the other).
CREATE TEMP TABLE fx (a bigint, b bigint, hq bigint, region bigint, outlet bigint) ON COMMIT DROP;
INSERT INTO fx (a) SELECT tenant_id FROM aftersales.generate_sample_data('acl_matrix_a', seed => 11, tickets => 100);
UPDATE fx SET b = (SELECT tenant_id FROM aftersales.generate_sample_data('acl_matrix_b', seed => 12, tickets => 100));
-- The region and the outlet: the outlet with the most tickets, and its region.
UPDATE fx SET outlet = (SELECT t.org_id FROM aftersales.tickets t WHERE t.tenant_id = fx.a
                         GROUP BY t.org_id ORDER BY count(*) DESC, t.org_id LIMIT 1);
UPDATE fx SET hq = (SELECT o.org_id FROM aftersales.organisations o WHERE o.tenant_id = fx.a AND o.level = 'hq'),
              region = (WITH RECURSIVE up AS (SELECT o.org_id, o.parent_id, o.level FROM aftersales.organisations o
                                               WHERE o.tenant_id = fx.a AND o.org_id = fx.outlet
                                              UNION ALL
                                              SELECT o.org_id, o.parent_id, o.level FROM aftersales.organisations o
                                                JOIN up ON o.tenant_id = fx.a AND o.org_id = up.parent_id)
                        SELECT org_id FROM up WHERE level = 'region');
-- Engineers at HQ and in the region, for the engineer members there.
SELECT set_config('aftersales.tenant_id', a::text, true) FROM fx;
INSERT INTO aftersales.engineers (name, org_id, region)
SELECT 'acl engineer ' || s, o, '华东' FROM fx, LATERAL (VALUES ('hq', fx.hq), ('region', fx.region)) v(s, o);

-- The organisations each scope sees (computed here, independently of the
-- extension's own scope function).
CREATE TEMP TABLE scope_orgs (scope text, org_id bigint) ON COMMIT DROP;
INSERT INTO scope_orgs
WITH RECURSIVE down AS (SELECT v.scope, o.org_id FROM fx, aftersales.organisations o,
                              LATERAL (VALUES ('hq', fx.hq), ('region', fx.region), ('outlet', fx.outlet)) v(scope, top)
                         WHERE o.tenant_id = fx.a AND o.org_id = v.top
                        UNION ALL
                        SELECT d.scope, o.org_id FROM down d JOIN aftersales.organisations o
                          ON o.tenant_id = (SELECT a FROM fx) AND o.parent_id = d.org_id)
SELECT scope, org_id FROM down;

-- Principals.
CREATE TEMP TABLE principals (p text PRIMARY KEY, login text, app_user text, kind text, scope text) ON COMMIT DROP;
INSERT INTO principals
SELECT 'login ' || k || '@' || s, 'acl_' || k || '_' || s, NULL, k, s
  FROM unnest(ARRAY['admin', 'manager', 'agent', 'engineer', 'analyst', 'auditor']) k,
       unnest(ARRAY['hq', 'region', 'outlet']) s
UNION ALL
SELECT 'pool as ' || k || '@' || s, 'acl_pool', k || '.' || s, k, s
  FROM unnest(ARRAY['admin', 'manager', 'agent', 'engineer', 'analyst', 'auditor']) k,
       unnest(ARRAY['hq', 'region', 'outlet']) s
UNION ALL VALUES ('pool, no user', 'acl_pool', NULL, NULL, NULL),
                 ('login, no membership', 'acl_nomember', NULL, NULL, NULL),
                 ('PUBLIC', 'acl_public', NULL, NULL, NULL);

DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT DISTINCT login FROM principals LOOP
        EXECUTE format('CREATE ROLE %I LOGIN', r.login);
    END LOOP;
    FOR r IN SELECT login, kind FROM principals WHERE app_user IS NULL AND kind IS NOT NULL LOOP
        EXECUTE format('GRANT %I TO %I', 'aftersales_' || r.kind, r.login);
    END LOOP;
END
$$;
GRANT aftersales_app TO acl_pool;
GRANT aftersales_agent TO acl_nomember;
INSERT INTO aftersales.members (tenant_id, name, via, kind, org_id, engineer_id)
SELECT fx.a, coalesce(p.app_user, p.login), CASE WHEN p.app_user IS NULL THEN 'login' ELSE 'app' END,
       p.kind::aftersales.member_kind,
       CASE p.scope WHEN 'hq' THEN fx.hq WHEN 'region' THEN fx.region ELSE fx.outlet END,
       CASE WHEN p.kind = 'engineer' THEN
           (SELECT min(e.engineer_id) FROM aftersales.engineers e WHERE e.tenant_id = fx.a
               AND e.org_id = CASE p.scope WHEN 'hq' THEN fx.hq WHEN 'region' THEN fx.region ELSE fx.outlet END) END
  FROM principals p, fx
 WHERE p.kind IS NOT NULL;

-- The allowed cells: which kinds may run which verb on which relation.
-- Everything not listed is refused.  '*' is every relation.
CREATE TEMP TABLE expected_cells (verb text, rel text, kinds text[]) ON COMMIT DROP;
INSERT INTO expected_cells VALUES
    -- reading: every kind reads everything, but analysts not the members,
    -- the sweep runs, sample-data runs nor customers (column privileges
    -- only: no contact data; checked on their own below)
    ('select', '*', '{admin,manager,agent,engineer,auditor,analyst}'),
    ('select', 'members', '{admin,manager,agent,engineer,auditor}'),
    ('select', 'sweep_runs', '{admin,manager,agent,engineer,auditor}'),
    ('select', 'sample_data_runs', '{admin,manager,agent,engineer,auditor}'),
    ('select', 'customers', '{admin,manager,agent,engineer,auditor}'),
    -- tickets: entered by agents and managers, moved by events
    ('insert', 'tickets', '{admin,manager,agent}'),
    ('update', 'tickets', '{admin,manager,agent,engineer}'),
    ('insert', 'alerts', '{admin,manager}'),
    ('update', 'alerts', '{admin,manager}'),
    ('update', 'ticket_escalations', '{admin,manager}'),
    ('insert', 'customers', '{admin,manager,agent}'),
    ('update', 'customers', '{admin,manager,agent}'),
    ('insert', 'units', '{admin,manager,agent}'),
    ('update', 'units', '{admin,manager,agent}');
INSERT INTO expected_cells
SELECT v, t, '{admin}'
  FROM unnest(ARRAY['insert', 'update', 'delete']) v,
       unnest(ARRAY['organisations', 'engineers', 'product_lines', 'product_models', 'problem_types', 'sla_policies',
                    'sla_targets', 'service_agreements', 'calendars', 'kpi_settings', 'kpi_catalogue',
                    'escalation_rules', 'members']) t;
-- dispatch, workforce and knowledge: analysts read attendance without
-- positions (column privileges) and no dispatch alerts; engineers and
-- managers record attendance; whoever assigns records decisions and alerts;
-- admins set the dispatch settings; articles and resolutions are written by
-- those who resolve tickets, published versions by reviewers.
INSERT INTO expected_cells VALUES
    ('select', 'attendance_events', '{admin,manager,agent,engineer,auditor}'),
    ('select', 'dispatch_alerts', '{admin,manager,agent,engineer,auditor}'),
    ('insert', 'attendance_events', '{admin,manager,engineer}'),
    ('insert', 'assignment_decisions', '{admin,manager,agent}'),
    ('insert', 'dispatch_alerts', '{admin,manager,agent}'),
    ('insert', 'dispatch_settings', '{admin}'),
    ('update', 'dispatch_settings', '{admin}'),
    ('delete', 'dispatch_settings', '{admin}'),
    ('insert', 'kb_articles', '{admin,manager,agent,engineer}'),
    ('update', 'kb_articles', '{admin,manager,agent,engineer}'),
    ('insert', 'kb_article_versions', '{admin,manager}'),
    ('insert', 'ticket_resolutions', '{admin,manager,agent,engineer}'),
    ('update', 'ticket_resolutions', '{admin,manager,agent,engineer}');

CREATE TEMP TABLE settings (state text, value text) ON COMMIT DROP;
INSERT INTO settings SELECT 'unset', NULL UNION ALL SELECT 'empty', '' UNION ALL SELECT 'own', a::text FROM fx
UNION ALL SELECT 'other', b::text FROM fx UNION ALL SELECT 'garbage', '1; DROP TABLE x';

-- The verbs, with the rows each principal must not reach (by ctid, found
-- here as superuser): other tenants' rows, and in the own tenant the rows
-- of organisations and tickets out of scope.
CREATE TEMP TABLE rels (rel text, relkind "char", has_tenant boolean, has_org boolean, has_ticket boolean, cols text) ON COMMIT DROP;
INSERT INTO rels
SELECT c.relname, c.relkind,
       EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'),
       EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'org_id'),
       EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'ticket_id'),
       (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '')
  FROM pg_class c WHERE c.relnamespace = 'aftersales'::regnamespace AND c.relkind IN ('r', 'v');

CREATE TEMP TABLE forbidden (rel text, scope text, ctids tid[], visible bigint) ON COMMIT DROP;
DO $$
DECLARE
    r record;
    s text;
    a bigint := (SELECT fx.a FROM fx);
BEGIN
    FOR r IN SELECT * FROM rels WHERE relkind = 'r' AND has_tenant LOOP
        FOREACH s IN ARRAY ARRAY['hq', 'region', 'outlet'] LOOP
            EXECUTE format(
                'INSERT INTO forbidden SELECT %L, %L, coalesce(array_agg(x.ctid) FILTER (WHERE c), ''{}''), count(*) FILTER (WHERE NOT c)'
                ' FROM aftersales.%I x, LATERAL (SELECT x.tenant_id <> %s %s %s AS c) f',
                r.rel, s, r.rel, a,
                -- tenant 1's rows of these are every tenant's defaults
                CASE WHEN r.rel IN ('kpi_settings', 'kpi_catalogue', 'escalation_rules') THEN 'AND x.tenant_id <> 1' ELSE '' END,
                CASE WHEN s = 'hq' THEN ''
                     WHEN r.has_org THEN format('OR x.org_id IS NULL OR x.org_id NOT IN (SELECT org_id FROM scope_orgs WHERE scope = %L)', s)
                     WHEN r.has_ticket THEN format('OR NOT EXISTS (SELECT FROM aftersales.tickets t WHERE t.tenant_id = x.tenant_id AND t.ticket_id = x.ticket_id AND t.org_id IN (SELECT org_id FROM scope_orgs WHERE scope = %L))', s)
                     ELSE '' END);
        END LOOP;
    END LOOP;
END
$$;

-- The API calls aimed at what the principal must not reach: the other
-- tenant's ticket, calendar, settings and rules, and for the narrower
-- scopes a ticket of the own tenant out of scope.
CREATE TEMP TABLE targets (scope text, ticket bigint) ON COMMIT DROP;
INSERT INTO targets
SELECT s, (SELECT min(t.ticket_id) FROM aftersales.tickets t WHERE t.status NOT IN ('closed', 'cancelled')
             AND (t.tenant_id = fx.b OR (s <> 'hq' AND t.tenant_id = fx.a
                                         AND t.org_id NOT IN (SELECT org_id FROM scope_orgs o WHERE o.scope = s))))
  FROM fx, unnest(ARRAY['hq', 'region', 'outlet']) s;
CREATE TEMP TABLE api_calls (name text, sql text) ON COMMIT DROP;
INSERT INTO api_calls VALUES
    ('cancel_ticket', 'SELECT 1 FROM aftersales.cancel_ticket(%2$s, reason => ''matrix'')'),
    ('lock_ticket', 'SELECT 1 FROM aftersales.lock_ticket(%2$s, reason => ''matrix'')'),
    ('raise_alert', 'SELECT 1 FROM aftersales.raise_alert(%2$s, ''matrix'')'),
    ('set_calendar', 'SELECT 1 FROM aftersales.set_calendar(''acl'', ''zone=UTC; mon-sun 00:00-24:00'', tenant => %1$s)'),
    ('set_kpi_setting', 'SELECT 1 FROM aftersales.set_kpi_setting(''csat_good_min'', 4, tenant => %1$s)'),
    ('set_escalation_rule', 'SELECT 1 FROM aftersales.set_escalation_rule(''escalation'', 1, enabled => false, tenant => %1$s)'),
    ('kpi_service', 'SELECT 1 FROM aftersales.kpi_service(''month'', ''organisation'', ''2000-01-01'', ''2100-01-01'', tenant => %1$s)');

-- One case: switch to the principal, run, switch back, record.  The
-- outcome is 'ok' or the SQLSTATE; leaked is the number of forbidden rows
-- seen or touched.  A successful write is rolled back by raising.
CREATE TEMP TABLE results (p text, state text, verb text, rel text, outcome text, leaked bigint, seen bigint,
                           resolves boolean, expect_ok boolean) ON COMMIT DROP;
CREATE FUNCTION pg_temp.run_case(pr principals, st settings, verb text, rel text, sql text)
RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
    outcome text := 'ok';
    leaked bigint := 0;
    seen bigint := 0;
    me text := current_user;
BEGIN
    PERFORM set_config('aftersales.app_user', coalesce(pr.app_user, ''), true);
    PERFORM set_config('session_authorization', pr.login, true);
    BEGIN
        -- garbage is refused already here, by the setting's check
        PERFORM set_config('aftersales.tenant_id', coalesce(st.value, ''), true);
        -- a pool takes the asserted user's group role (refused for admins:
        -- a pool never holds aftersales_admin)
        IF pr.app_user IS NOT NULL THEN
            PERFORM set_config('role', 'aftersales_' || pr.kind, true);
        END IF;
        EXECUTE sql INTO leaked, seen;
        RAISE EXCEPTION USING ERRCODE = 'P0099';
    EXCEPTION WHEN SQLSTATE 'P0099' THEN
        outcome := 'ok';
              WHEN OTHERS THEN
        outcome := SQLSTATE;
        leaked := 0;
        seen := 0;
    END;
    PERFORM set_config('session_authorization', me, true);
    PERFORM set_config('aftersales.tenant_id', '', true);
    PERFORM set_config('aftersales.app_user', '', true);
    INSERT INTO results VALUES (pr.p, st.state, verb, rel, outcome, coalesce(leaked, 0), coalesce(seen, 0), NULL, NULL);
END
$f$;

DO $$
DECLARE
    pr principals;
    st settings;
    r record;
    forb tid[];
    t bigint;
    c record;
    b bigint := (SELECT fx.b FROM fx);
BEGIN
    FOR pr IN SELECT * FROM principals ORDER BY p LOOP
        FOR st IN SELECT * FROM settings LOOP
            FOR r IN SELECT * FROM rels ORDER BY rel LOOP
                forb := (SELECT f.ctids FROM forbidden f WHERE f.rel = r.rel AND f.scope = coalesce(pr.scope, 'hq'));
                IF r.relkind = 'v' THEN
                    PERFORM pg_temp.run_case(pr, st, 'select', r.rel,
                        format('SELECT count(*) FILTER (WHERE %s), count(*) FROM aftersales.%I x',
                               CASE WHEN EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = ('aftersales.' || r.rel)::regclass
                                                                            AND a.attname = 'tenant_id')
                                    THEN format('x.tenant_id IS DISTINCT FROM %s', (SELECT a FROM fx)) ELSE 'false' END,
                               r.rel));
                    CONTINUE;
                END IF;
                PERFORM pg_temp.run_case(pr, st, 'select', r.rel,
                    format('SELECT count(*) FILTER (WHERE x.ctid = ANY (%L::tid[])), count(*) FROM aftersales.%I x', forb, r.rel));
                PERFORM pg_temp.run_case(pr, st, 'insert', r.rel,
                    format('WITH i AS (INSERT INTO aftersales.%1$I (%2$s) OVERRIDING SYSTEM VALUE SELECT %2$s FROM aftersales.%1$I WHERE false RETURNING 1) SELECT 0, count(*) FROM i',
                           r.rel, r.cols));
                PERFORM pg_temp.run_case(pr, st, 'update', r.rel,
                    format('WITH u AS (UPDATE aftersales.%1$I x SET %2$s = x.%2$s WHERE x.ctid = ANY (%3$L::tid[]) RETURNING 1) SELECT count(*), count(*) FROM u',
                           r.rel, split_part(r.cols, ', ', 1), forb));
                PERFORM pg_temp.run_case(pr, st, 'delete', r.rel,
                    format('WITH d AS (DELETE FROM aftersales.%1$I x WHERE x.ctid = ANY (%2$L::tid[]) RETURNING 1) SELECT count(*), count(*) FROM d',
                           r.rel, forb));
                PERFORM pg_temp.run_case(pr, st, 'truncate', r.rel,
                    format('TRUNCATE aftersales.%I', r.rel));
            END LOOP;
            t := (SELECT g.ticket FROM targets g WHERE g.scope = coalesce(pr.scope, 'hq'));
            FOR c IN SELECT * FROM api_calls LOOP
                PERFORM pg_temp.run_case(pr, st, 'api', c.name,
                    'SELECT count(*), count(*) FROM (' || format(c.sql, b, t) || ') q');
            END LOOP;
        END LOOP;
    END LOOP;
END
$$;

-- Expectations.  A principal resolves only when it is a member (by login,
-- or asserted by the pool, which then takes the kind's group role: never
-- an admin's) and the setting is unset, '' or its own tenant.  Then a verb
-- succeeds exactly when its cell lists the kind.  A principal that does not
-- resolve may only succeed where no row was scanned (the policies are
-- never evaluated), or on event_rights and state_transitions, the shipped
-- rules without tenant.
-- Garbage in the setting is refused when it is set, whatever follows.  API
-- calls aimed out of reach are judged by their leaks alone.
UPDATE results r
   SET resolves = p.kind IS NOT NULL AND r.state IN ('unset', 'empty', 'own')
                  AND NOT (p.app_user IS NOT NULL AND p.kind = 'admin'),
       expect_ok = CASE WHEN r.verb = 'api' THEN NULL
                        WHEN r.rel IN ('event_rights', 'state_transitions') AND r.verb = 'select'
                        THEN p.p <> 'PUBLIC' AND NOT (p.app_user IS NOT NULL AND p.kind = 'admin')
                             AND r.state <> 'garbage'   -- refused by the setting's own check
                        ELSE p.kind IS NOT NULL AND r.state IN ('unset', 'empty', 'own')
                             AND NOT (p.app_user IS NOT NULL AND p.kind = 'admin')
                             AND (EXISTS (SELECT FROM expected_cells e
                                           WHERE e.verb = r.verb AND e.rel = r.rel AND p.kind = ANY (e.kinds))
                                  OR (r.verb = 'select'
                                      AND NOT EXISTS (SELECT FROM expected_cells e WHERE e.verb = 'select' AND e.rel = r.rel)
                                      AND EXISTS (SELECT FROM expected_cells e
                                                   WHERE e.verb = 'select' AND e.rel = '*' AND p.kind = ANY (e.kinds))))
                   END
  FROM principals p WHERE p.p = r.p;

SELECT is((SELECT count(*) FROM results WHERE leaked > 0), 0::bigint,
          format('access matrix: %s cases, %s leaks', (SELECT count(*) FROM results),
                 (SELECT count(*) FROM results WHERE leaked > 0)));
SELECT is_empty($$SELECT p, state, verb, rel, outcome, seen FROM results
                   WHERE expect_ok IS NOT NULL
                     AND (outcome = 'ok' AND (resolves OR seen > 0)) <> expect_ok
                   ORDER BY 1, 2, 3, 4$$,
                'every case as the table of allowed cells says');
SELECT is_empty($$SELECT r.p, r.state, r.rel, r.seen, f.visible FROM results r
                    JOIN principals p ON p.p = r.p
                    JOIN forbidden f ON f.rel = r.rel AND f.scope = p.scope
                   WHERE r.verb = 'select' AND r.outcome = 'ok' AND r.resolves AND r.seen <> f.visible
                   ORDER BY 1, 2, 3$$,
                'each principal that reads a table sees exactly the rows of its tenant and scope');
SELECT is_empty($$SELECT DISTINCT p, state, verb, rel, outcome FROM results
                   WHERE state IN ('other', 'garbage') AND outcome = 'ok' AND seen > 0
                     AND rel NOT IN ('event_rights', 'state_transitions')$$,
                'another tenant or garbage in the setting reaches no row, whatever the verb');
-- The matrix's line.
SELECT diag(format('%s cases, %s leaks', (SELECT count(*) FROM results), (SELECT count(*) FROM results WHERE leaked > 0)));

-- The dashboards: an HQ analyst's figures are the tenant's, a region
-- manager's those of the region's tickets.
CREATE TEMP TABLE kpi_seen (who text, tickets numeric) ON COMMIT DROP;
GRANT INSERT ON kpi_seen TO PUBLIC;
SELECT set_config('aftersales.tenant_id', a::text, true) FROM fx;
INSERT INTO kpi_seen SELECT 'superuser', sum(tickets) FROM aftersales.kpi_service_monthly;
INSERT INTO kpi_seen SELECT 'region tickets', count(*) FROM aftersales.tickets t
 WHERE t.tenant_id = (SELECT a FROM fx) AND t.org_id IN (SELECT org_id FROM scope_orgs WHERE scope = 'region')
   -- the views count what is known now; the sample year may run past today
   AND t.opened_at <= aftersales.now();
SELECT set_config('aftersales.tenant_id', '', true);
SELECT set_config('session_authorization', 'acl_analyst_hq', true);
INSERT INTO kpi_seen SELECT 'analyst@hq', sum(tickets) FROM aftersales.kpi_service_monthly;
SELECT set_config('session_authorization', 'acl_manager_region', true);
INSERT INTO kpi_seen SELECT 'manager@region', sum(tickets) FROM aftersales.kpi_service_monthly;
SELECT set_config('session_authorization', :'superuser', true);
SELECT is((SELECT tickets FROM kpi_seen WHERE who = 'analyst@hq'), (SELECT tickets FROM kpi_seen WHERE who = 'superuser'),
          'an HQ analyst''s kpi_service_monthly counts every ticket of the tenant');
SELECT is((SELECT tickets FROM kpi_seen WHERE who = 'manager@region'), (SELECT tickets FROM kpi_seen WHERE who = 'region tickets'),
          'a region manager''s counts the region''s tickets only');

-- Analysts: the customers' non-personal columns, never the contact data.
SELECT set_config('session_authorization', 'acl_analyst_hq', true);
SELECT lives_ok($$SELECT count(name) FROM aftersales.customers$$, 'an analyst reads customers'' names and places');
SELECT throws_ok($$SELECT contact_phone FROM aftersales.customers$$, '42501', NULL,
                 'but not their contact data');
SELECT set_config('session_authorization', :'superuser', true);

SELECT * FROM finish();
ROLLBACK;
