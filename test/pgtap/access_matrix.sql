-- access_matrix.sql: the access matrix.  Every principal (each kind of
-- member at HQ, in a region and at an outlet, by its own login and through
-- an application pool; the pool without an asserted user; a login with a
-- group role but no membership; a login with nothing, i.e. PUBLIC) is run,
-- under each state of aftersales.tenant_id (unset, empty, own tenant, other
-- tenant, garbage), against every verb: SELECT, INSERT, UPDATE, DELETE and
-- TRUNCATE of every table, SELECT of every view; and every function of
-- schema aftersales, aimed in and out of the principal's scope and at the
-- other tenant (api_matrix below, checked against the catalogue).
-- Expectations are a table of allowed
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
SELECT plan(10);
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
    ('update', 'units', '{admin,manager,agent}'),
    ('insert', 'reporting_zones', '{admin}'),
    ('update', 'reporting_zones', '{admin}');
-- spare parts and costs (82_parts_privileges.sql)
INSERT INTO expected_cells VALUES
    ('insert', 'stock_moves', '{admin,manager}'),
    ('insert', 'part_orders', '{admin,manager,agent,engineer}'),
    ('update', 'part_orders', '{admin,manager,agent,engineer}'),
    ('insert', 'part_order_lines', '{admin,manager,agent,engineer}'),
    ('insert', 'part_returns', '{admin,manager,engineer}'),
    ('update', 'part_returns', '{admin,manager,engineer}'),
    ('insert', 'part_claims', '{admin,manager}'),
    ('update', 'part_claims', '{admin,manager}'),
    ('insert', 'work_logs', '{admin,manager,agent,engineer}'),
    ('insert', 'ticket_charges', '{admin,manager,agent}'),
    ('update', 'ticket_charges', '{admin,manager,agent}'),
    ('delete', 'ticket_charges', '{admin,manager,agent}'),
    ('insert', 'settlements', '{admin,manager}');
INSERT INTO expected_cells
SELECT v, t, '{admin}'
  FROM unnest(ARRAY['insert', 'update', 'delete']) v, unnest(ARRAY['parts', 'part_models', 'warehouses', 'parts_settings']) t;
INSERT INTO expected_cells
SELECT v, t, '{admin}'
  FROM unnest(ARRAY['insert', 'update', 'delete']) v,
       unnest(ARRAY['organisations', 'engineers', 'product_lines', 'product_models', 'problem_types', 'sla_policies',
                    'sla_targets', 'service_agreements', 'calendars', 'kpi_settings', 'kpi_catalogue',
                    'escalation_rules', 'members', 'tenant_event_rights']) t;
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
-- complaints, surveys and approvals: analysts read neither the logs nor
-- the complainants' and customers' own words (complaints and answers have
-- column grants for them), nor who approves; agents and managers handle
-- complaints and surveys; every working kind submits approvals (decisions
-- are held to the department by a trigger); managers sweep the warning
-- line; admins configure.
INSERT INTO expected_cells
SELECT 'select', t, '{admin,manager,agent,engineer,auditor}'::text[]
  FROM unnest(ARRAY['complaints', 'complaint_events', 'survey_answers', 'survey_events', 'approval_events',
                    'approval_watches', 'department_members']) t
UNION ALL
SELECT v, t, '{admin,manager,agent}'::text[]
  FROM unnest(ARRAY['insert', 'update']) v, unnest(ARRAY['complaints', 'surveys', 'survey_campaigns']) t
UNION ALL SELECT 'insert', 'survey_answers', '{admin,manager,agent}'::text[]
UNION ALL
SELECT v, 'approvals', '{admin,manager,agent,engineer}'::text[] FROM unnest(ARRAY['insert', 'update']) v
UNION ALL
SELECT v, t, '{admin,manager}'::text[] FROM unnest(ARRAY['insert', 'update']) v, unnest(ARRAY['approval_watches', 'approval_alerts']) t
UNION ALL
SELECT v, t, '{admin}'::text[]
  FROM unnest(ARRAY['insert', 'update', 'delete']) v,
       unnest(ARRAY['complaint_reasons', 'complaint_targets', 'survey_templates', 'survey_questions', 'departments',
                    'department_members', 'approval_targets', 'approval_settings']) t;

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
        END LOOP;
    END LOOP;
END
$$;

-- The API matrix.  Every function of schema aftersales has an entry in
-- api_matrix (a function without one fails the test): how to call it, what
-- it aims at, and the kinds allowed when that target is of the caller's own
-- tenant and in its organisation scope.  Each principal calls it aimed at
-- a target in scope ('in'), of its own tenant out of its scope ('out', for
-- the region and outlet scopes) and of the other tenant ('other'); out of
-- scope and in the other tenant every call is refused.  Targets:
--   ticket:<state>  a ticket in that state at the outlet, assigned to the
--                   engineer of the principal's scope (out: at HQ);
--   alert           an unacknowledged alert of the target's new ticket;
--   customer        a customer of the outlet (out: one outside the region);
--   tenant          the tenant itself (no organisation: no 'out');
--   none            nothing (pure functions: every principal, even PUBLIC);
--   <kind>[:<which>] a module's object (api_objects below), e.g.
--                   complaint:received: in scope at the outlet, out of scope
--                   at HQ, and in the other tenant; named in the call as
--                   {obj} (the entry's own target) or {obj:<kind>[:<which>]}.
-- in_kinds names member kinds, a kind at one scope ('auditor@hq'), 'sweep'
-- (the sweep's login) and 'any' (every principal, members or not).
CREATE TEMP TABLE api_matrix (fn text PRIMARY KEY, target text NOT NULL, call text NOT NULL, in_kinds text[] NOT NULL)
    ON COMMIT DROP;
INSERT INTO api_matrix VALUES
 -- the closed loop
 ('aftersales.open_ticket(bigint,bigint,aftersales.priority,text,text,bigint,bigint,timestamp with time zone,boolean,bigint,boolean,text,text,timestamp with time zone)',
  'customer', 'SELECT aftersales.open_ticket({customer}, {problem_type}, ''B'', ''matrix'', org => {org})', '{admin,manager,agent}'),
 ('aftersales.open_tickets(jsonb,text,text,timestamp with time zone)',
  'customer', 'SELECT aftersales.open_tickets(jsonb_build_array(jsonb_build_object(''customer'', {customer}, ''problem_type'', {problem_type}, ''priority'', ''B'', ''description'', ''matrix'', ''org'', {org})))', '{admin,manager,agent}'),
 ('aftersales.assign_ticket(bigint,bigint,text,timestamp with time zone)', 'ticket:new', 'SELECT aftersales.assign_ticket({ticket}, {engineer})', '{admin,manager,agent,sweep}'),
 ('aftersales.reassign_ticket(bigint,bigint,text,text,timestamp with time zone)', 'ticket:assigned', 'SELECT aftersales.reassign_ticket({ticket}, {engineer2})', '{admin,manager,agent}'),
 ('aftersales.take_over_ticket(bigint,bigint,text,text,timestamp with time zone)', 'ticket:locked', 'SELECT aftersales.take_over_ticket({ticket}, {engineer})', '{admin,manager}'),
 ('aftersales.release_ticket(bigint,text,text,timestamp with time zone)', 'ticket:assigned', 'SELECT aftersales.release_ticket({ticket}, ''matrix'')', '{admin,manager,engineer}'),
 ('aftersales.start_work(bigint,text,timestamp with time zone)', 'ticket:assigned', 'SELECT aftersales.start_work({ticket})', '{admin,engineer}'),
 ('aftersales.arrive_on_site(bigint,text,timestamp with time zone)', 'ticket:assigned', 'SELECT aftersales.arrive_on_site({ticket})', '{admin,engineer}'),
 ('aftersales.resolve_ticket(bigint,text,text,timestamp with time zone)', 'ticket:assigned', 'SELECT aftersales.resolve_ticket({ticket})', '{admin,engineer}'),
 ('aftersales.fail_attempt(bigint,text,text,timestamp with time zone)', 'ticket:assigned', 'SELECT aftersales.fail_attempt({ticket}, ''matrix'')', '{admin,engineer}'),
 ('aftersales.hold_ticket(bigint,text,text,timestamp with time zone)', 'ticket:assigned', 'SELECT aftersales.hold_ticket({ticket}, ''matrix'')', '{admin,manager,agent,engineer}'),
 ('aftersales.resume_ticket(bigint,text,timestamp with time zone)', 'ticket:on_hold', 'SELECT aftersales.resume_ticket({ticket})', '{admin,manager,agent,engineer}'),
 ('aftersales.transfer_ticket(bigint,aftersales.ticket_tier,text,text,timestamp with time zone)', 'ticket:new', 'SELECT aftersales.transfer_ticket({ticket}, ''technical_support'', ''matrix'')', '{admin,manager}'),
 ('aftersales.follow_up(bigint,boolean,integer,integer,text,text,timestamp with time zone)', 'ticket:resolved', 'SELECT aftersales.follow_up({ticket}, true)', '{admin,manager,agent}'),
 ('aftersales.cancel_ticket(bigint,text,text,timestamp with time zone)', 'ticket:new', 'SELECT aftersales.cancel_ticket({ticket}, ''matrix'')', '{admin,manager,agent}'),
 ('aftersales.reopen_ticket(bigint,text,text,timestamp with time zone)', 'ticket:closed', 'SELECT aftersales.reopen_ticket({ticket}, ''matrix'')', '{admin,manager,agent}'),
 ('aftersales.lock_ticket(bigint,text,text,timestamp with time zone)', 'ticket:new', 'SELECT aftersales.lock_ticket({ticket}, ''matrix'')', '{admin,manager,sweep}'),
 ('aftersales.unlock_ticket(bigint,text,text,timestamp with time zone)', 'ticket:locked', 'SELECT aftersales.unlock_ticket({ticket})', '{admin,manager}'),
 ('aftersales.set_priority(bigint,aftersales.priority,text,text,timestamp with time zone)', 'ticket:new', 'SELECT aftersales.set_priority({ticket}, ''A'')', '{admin,manager}'),
 ('aftersales.acknowledge_ticket(bigint,text,text,timestamp with time zone)', 'ticket:new', 'SELECT aftersales.acknowledge_ticket({ticket})', '{admin,manager}'),
 ('aftersales.edit_ticket(bigint,jsonb,text,text,timestamp with time zone)', 'ticket:new', 'SELECT aftersales.edit_ticket({ticket}, ''{"description": "matrix"}'')', '{admin,manager,agent}'),
 -- alerts
 ('aftersales.raise_alert(bigint,text,numeric,text,jsonb,timestamp with time zone,timestamp with time zone)', 'ticket:new', 'SELECT aftersales.raise_alert({ticket}, ''part_not_collected'')', '{admin,manager,sweep}'),
 ('aftersales.acknowledge_alert(bigint,text,timestamp with time zone)', 'alert', 'SELECT aftersales.acknowledge_alert({alert})', '{admin,manager,sweep}'),
 ('aftersales.acknowledge_alerts(bigint[],text,timestamp with time zone)', 'alert', 'SELECT aftersales.acknowledge_alerts(ARRAY[{alert}])', '{admin,manager,sweep}'),
 ('aftersales.unacknowledged_alerts(bigint,integer,bigint)', 'tenant', 'SELECT * FROM aftersales.unacknowledged_alerts(tenant => {tenant})', '{admin,manager,agent,engineer,analyst,auditor,sweep}'),
 -- configuration of the tenant
 ('aftersales.set_calendar(text,aftersales.calendar,text,bigint)', 'tenant', 'SELECT aftersales.set_calendar(''acl'', ''zone=UTC; mon-sun 00:00-24:00'', tenant => {tenant})', '{admin}'),
 ('aftersales.get_calendar(text,bigint)', 'tenant', 'SELECT aftersales.get_calendar({calendar}, tenant => {tenant})', '{admin,manager,agent,engineer,analyst,auditor,sweep}'),
 ('aftersales.set_kpi_setting(text,numeric,bigint)', 'tenant', 'SELECT aftersales.set_kpi_setting(''csat_good_min'', 4, tenant => {tenant})', '{admin}'),
 ('aftersales.kpi_setting(text,bigint)', 'tenant', 'SELECT aftersales.kpi_setting(''csat_good_min'', tenant => {tenant})', '{admin,manager,agent,engineer,analyst,auditor}'),
 ('aftersales.set_escalation_rule(text,numeric,interval,text,boolean,text,bigint)', 'tenant', 'SELECT aftersales.set_escalation_rule(''escalation'', 1, enabled => false, tenant => {tenant})', '{admin}'),
 ('aftersales.set_reporting_zone(text,bigint)', 'tenant', 'SELECT aftersales.set_reporting_zone(''Asia/Shanghai'', tenant => {tenant})', '{admin}'),
 ('aftersales.reporting_zone(bigint)', 'tenant', 'SELECT aftersales.reporting_zone(tenant => {tenant})', '{admin,manager,agent,engineer,analyst,auditor,sweep}'),
 -- KPIs
 ('aftersales.backlog_as_of(timestamp with time zone,bigint)', 'tenant', 'SELECT * FROM aftersales.backlog_as_of(now(), tenant => {tenant})', '{admin,manager,agent,engineer,analyst,auditor,sweep}'),
 ('aftersales.kpi_backlog(text,timestamp with time zone,bigint)', 'tenant', 'SELECT * FROM aftersales.kpi_backlog(tenant => {tenant})', '{admin,manager,agent,engineer,analyst,auditor}'),
 ('aftersales.kpi_backlog_stages(text,timestamp with time zone,bigint)', 'tenant', 'SELECT * FROM aftersales.kpi_backlog_stages(tenant => {tenant})', '{admin,manager,agent,engineer,analyst,auditor}'),
 ('aftersales.kpi_dispatch(text,text,timestamp with time zone,timestamp with time zone,text,bigint)', 'tenant', 'SELECT * FROM aftersales.kpi_dispatch(''month'', ''organisation'', ''2000-01-01'', ''2100-01-01'', tenant => {tenant})', '{admin,manager,agent,engineer,analyst,auditor}'),
 ('aftersales.kpi_durations(text,text,timestamp with time zone,timestamp with time zone,timestamp with time zone,text,bigint)', 'tenant', 'SELECT * FROM aftersales.kpi_durations(''month'', ''organisation'', ''2000-01-01'', ''2100-01-01'', tenant => {tenant})', '{admin,manager,agent,engineer,analyst,auditor}'),
 ('aftersales.kpi_engineer_holdings(timestamp with time zone,bigint)', 'tenant', 'SELECT * FROM aftersales.kpi_engineer_holdings(tenant => {tenant})', '{admin,manager,agent,engineer,analyst,auditor,sweep}'),
 ('aftersales.kpi_failures(text,text,timestamp with time zone,timestamp with time zone,text,bigint,integer)', 'tenant', 'SELECT * FROM aftersales.kpi_failures(''month'', ''organisation'', ''2000-01-01'', ''2100-01-01'', tenant => {tenant})', '{admin,manager,agent,engineer,analyst,auditor}'),
 ('aftersales.kpi_headline(text,text,timestamp with time zone,timestamp with time zone,timestamp with time zone,text,bigint)', 'tenant', 'SELECT * FROM aftersales.kpi_headline(''month'', ''organisation'', ''2000-01-01'', ''2100-01-01'', tenant => {tenant})', '{admin,manager,agent,engineer,analyst,auditor}'),
 ('aftersales.kpi_service(text,text,timestamp with time zone,timestamp with time zone,timestamp with time zone,text,bigint)', 'tenant', 'SELECT * FROM aftersales.kpi_service(''month'', ''organisation'', ''2000-01-01'', ''2100-01-01'', tenant => {tenant})', '{admin,manager,agent,engineer,analyst,auditor}'),
 ('aftersales.kpi_staff(text,timestamp with time zone,timestamp with time zone,timestamp with time zone,text,bigint)', 'tenant', 'SELECT * FROM aftersales.kpi_staff(''month'', ''2000-01-01'', ''2100-01-01'', tenant => {tenant})', '{admin,manager,agent,engineer,analyst,auditor}'),
 ('aftersales.kpi_ticket_facts(timestamp with time zone,timestamp with time zone,timestamp with time zone,bigint)', 'tenant', 'SELECT * FROM aftersales.kpi_ticket_facts(''2000-01-01'', ''2100-01-01'', tenant => {tenant})', '{admin,manager,agent,engineer,analyst,auditor}'),
 ('aftersales.kpi_warranty_trend(text,timestamp with time zone,timestamp with time zone,text,bigint)', 'tenant', 'SELECT * FROM aftersales.kpi_warranty_trend(''month'', ''2000-01-01'', ''2100-01-01'', tenant => {tenant})', '{admin,manager,agent,engineer,analyst,auditor}'),
 -- operations: granted on purpose only (the sweep's to its login)
 ('aftersales.sweep(integer,timestamp with time zone,bigint)', 'tenant', 'SELECT * FROM aftersales.sweep(10, now(), tenant => {tenant})', '{sweep}'),
 ('aftersales.sweep_until_done(integer,integer,bigint)', 'none', 'SELECT pg_temp.may_call(''aftersales.sweep_until_done(integer,integer,bigint)'')', '{sweep}'),
 ('aftersales.prune_sweep_runs(timestamp with time zone,bigint)', 'tenant', 'SELECT nullif(aftersales.prune_sweep_runs(now(), tenant => {tenant}), 0)', '{sweep}'),
 ('aftersales.rearm_watches(bigint)', 'tenant', 'SELECT aftersales.rearm_watches(tenant => {tenant})', '{}'),
 ('aftersales.check_tickets(bigint)', 'tenant', 'SELECT * FROM aftersales.check_tickets(tenant => {tenant})', '{}'),
 ('aftersales.check_watches(bigint)', 'tenant', 'SELECT * FROM aftersales.check_watches(tenant => {tenant})', '{}'),
 ('aftersales.sample_data_checksum(bigint)', 'tenant', 'SELECT aftersales.sample_data_checksum(tenant => {tenant})', '{}'),
 ('aftersales.replay_ticket(bigint,bigint)', 'ticket:new', 'SELECT aftersales.replay_ticket({tenant}, {ticket})', '{}'),
 ('aftersales.ticket_state(bigint,bigint)', 'ticket:new', 'SELECT aftersales.ticket_state({tenant}, {ticket})', '{}'),
 ('aftersales.check_occurrences()', 'none', 'SELECT * FROM aftersales.check_occurrences()', '{}'),
 ('aftersales.compact_occurrences()', 'none', 'SELECT aftersales.compact_occurrences()', '{}'),
 ('aftersales.generate_sample_data(text,integer,integer,integer,integer)', 'none', 'SELECT * FROM aftersales.generate_sample_data(''matrix'', tickets => 1)', '{}'),
 ('aftersales.schedule_sweeps(text,integer,integer)', 'none', 'SELECT aftersales.schedule_sweeps()', '{}'),
 ('aftersales.unschedule_sweeps()', 'none', 'SELECT aftersales.unschedule_sweeps()', '{}'),
 -- the caller
 ('aftersales.current_tenant()', 'none', 'SELECT aftersales.current_tenant()', '{admin,manager,agent,engineer,analyst,auditor,sweep}'),
 ('aftersales.current_org_scope()', 'none', 'SELECT aftersales.current_org_scope()', '{admin,manager,agent,engineer,analyst,auditor,sweep}'),
 ('aftersales.current_member_kind()', 'none', 'SELECT aftersales.current_member_kind()', '{admin,manager,agent,engineer,analyst,auditor,sweep}'),
 ('aftersales.whoami()', 'none', 'SELECT * FROM aftersales.whoami()', '{admin,manager,agent,engineer,analyst,auditor,sweep}'),
 ('aftersales.actor()', 'none', 'SELECT aftersales.actor()', '{admin,manager,agent,engineer,analyst,auditor,sweep}'),
 ('aftersales.now()', 'none', 'SELECT aftersales.now()', '{any}'),
 -- pure functions: calendars, the closed-loop table, statistics
 ('aftersales.business_add(aftersales.calendar,timestamp with time zone,interval)', 'none', 'SELECT aftersales.business_add(aftersales.sample_calendar(), ''2026-03-02 09:00+08'', ''1 hour'')', '{any}'),
 ('aftersales.business_diff(aftersales.calendar,timestamp with time zone,timestamp with time zone)', 'none', 'SELECT aftersales.business_diff(aftersales.sample_calendar(), ''2026-03-02 09:00+08'', ''2026-03-03 09:00+08'')', '{any}'),
 ('aftersales.business_minutes(aftersales.calendar,timestamp with time zone,timestamp with time zone)', 'none', 'SELECT aftersales.business_minutes(aftersales.sample_calendar(), ''2026-03-02 09:00+08'', ''2026-03-03 09:00+08'')', '{any}'),
 ('aftersales.is_business_time(aftersales.calendar,timestamp with time zone)', 'none', 'SELECT aftersales.is_business_time(aftersales.sample_calendar(), ''2026-03-02 09:00+08'')', '{any}'),
 ('aftersales.next_business_time(aftersales.calendar,timestamp with time zone)', 'none', 'SELECT aftersales.next_business_time(aftersales.sample_calendar(), ''2026-03-01 09:00+08'')', '{any}'),
 ('aftersales.calendar_clauses_from_ics(text,text,text)', 'none', 'SELECT aftersales.calendar_clauses_from_ics(concat_ws(chr(13) || chr(10), ''BEGIN:VCALENDAR'', ''BEGIN:VEVENT'', ''UID:2025-01-01@example'', ''DTSTART;VALUE=DATE:20250101'', ''SUMMARY:New Year'', ''END:VEVENT'', ''END:VCALENDAR'', ''''))', '{any}'),
 ('aftersales.calendar_eq(aftersales.calendar,aftersales.calendar)', 'none', 'SELECT aftersales.calendar_eq(aftersales.sample_calendar(), aftersales.sample_calendar())', '{any}'),
 ('aftersales.calendar_zone(aftersales.calendar)', 'none', 'SELECT aftersales.calendar_zone(aftersales.sample_calendar())', '{any}'),
 ('aftersales.sample_calendar(integer)', 'none', 'SELECT aftersales.sample_calendar()', '{any}'),
 ('aftersales.duration_stats(double precision)', 'none', 'SELECT aftersales.duration_stats(x) FROM generate_series(1, 3) x', '{any}'),
 ('aftersales.library_version()', 'none', 'SELECT aftersales.library_version()', '{any}'),
 ('aftersales.ticket_transitions()', 'none', 'SELECT * FROM aftersales.ticket_transitions()', '{any}'),
 ('aftersales.ticket_transition_rule(aftersales.ticket_status,aftersales.ticket_event,aftersales.ticket_status)', 'none', 'SELECT aftersales.ticket_transition_rule(''new'', ''assign'', ''assigned'')', '{any}');
-- KPI rollups: the check for admins and auditors who see the whole tenant
-- (the rollups answer for it only; as of a time after the sample data's
-- last event), the fold and the rebuild (owner's rights) for admins and
-- the sweep, on their own tenant (91_kpi_rollup_grants.sql).
INSERT INTO api_matrix VALUES
 ('aftersales.check_kpi_rollups(bigint,timestamp with time zone)', 'tenant', 'SELECT * FROM aftersales.check_kpi_rollups(tenant => {tenant}, as_of => ''2100-01-01'')', '{admin@hq,auditor@hq}'),
 ('aftersales.fold_kpi_rollups(bigint)', 'tenant', 'SELECT aftersales.fold_kpi_rollups(tenant => {tenant})', '{admin,sweep}'),
 ('aftersales.rebuild_kpi_rollups(bigint,timestamp with time zone,timestamp with time zone)', 'tenant', 'SELECT aftersales.rebuild_kpi_rollups(tenant => {tenant})', '{admin,sweep}');
-- parts: spare parts, labour and costs.  in_kinds follow the table grants
-- and the event rights of 82_parts_privileges.sql (engineers collect and
-- use only the orders of their own engineer row: the targets' orders are).
INSERT INTO api_matrix VALUES
 ('aftersales.set_part(text,text,text,numeric,numeric,boolean,text[],numeric,bigint)', 'none', 'SELECT aftersales.set_part(''ACL-P2'', ''matrix part'', ''C'', 5)', '{admin}'),
 ('aftersales.set_warehouse(text,text,text,bigint)', 'organisation', 'SELECT aftersales.set_warehouse(''ACL-WH2'', ''matrix warehouse'', ''outlet'', {org})', '{admin}'),
 ('aftersales.receive_stock(bigint,bigint,integer,text,timestamp with time zone)', 'warehouse', 'SELECT aftersales.receive_stock({obj:warehouse}, {obj:part}, 3)', '{admin,manager}'),
 ('aftersales.adjust_stock(bigint,bigint,integer,text,timestamp with time zone)', 'warehouse', 'SELECT aftersales.adjust_stock({obj:warehouse}, {obj:part}, -1, ''matrix count'')', '{admin,manager}'),
 ('aftersales.request_parts(bigint,bigint,jsonb,boolean,text,timestamp with time zone)', 'ticket:assigned', 'SELECT aftersales.request_parts({ticket}, {obj:warehouse}, jsonb_build_array(jsonb_build_object(''part'', {obj:part}, ''quantity'', 1)))', '{admin,manager,agent,engineer}'),
 ('aftersales.approve_part_order(bigint,text,timestamp with time zone)', 'part_order:requested', 'SELECT aftersales.approve_part_order({obj:part_order:requested})', '{admin,manager}'),
 ('aftersales.reject_part_order(bigint,text,timestamp with time zone)', 'part_order:requested', 'SELECT aftersales.reject_part_order({obj:part_order:requested}, ''matrix'')', '{admin,manager}'),
 ('aftersales.cancel_part_order(bigint,text,timestamp with time zone)', 'part_order:requested', 'SELECT aftersales.cancel_part_order({obj:part_order:requested}, ''matrix'')', '{admin,manager,agent}'),
 ('aftersales.reserve_part_order(bigint,bigint,timestamp with time zone)', 'part_order:approved', 'SELECT aftersales.reserve_part_order({obj:part_order:approved})', '{admin,manager}'),
 ('aftersales.ship_part_order(bigint,text,text,timestamp with time zone)', 'part_order:reserved', 'SELECT aftersales.ship_part_order({obj:part_order:reserved}, ''matrix carrier'')', '{admin,manager}'),
 ('aftersales.arrive_part_order(bigint,timestamp with time zone)', 'part_order:shipped', 'SELECT aftersales.arrive_part_order({obj:part_order:shipped})', '{admin,manager}'),
 ('aftersales.collect_part_order(bigint,bigint,timestamp with time zone)', 'part_order:arrived', 'SELECT aftersales.collect_part_order({obj:part_order:arrived})', '{admin,manager,engineer}'),
 ('aftersales.use_part_order(bigint,timestamp with time zone)', 'part_order:collected', 'SELECT aftersales.use_part_order({obj:part_order:collected})', '{admin,manager,engineer}'),
 ('aftersales.return_part_order(bigint,text,timestamp with time zone)', 'part_order:collected', 'SELECT aftersales.return_part_order({obj:part_order:collected}, ''matrix'')', '{admin,manager}'),
 ('aftersales.ship_old_part(bigint,text,text,timestamp with time zone)', 'part_return:due', 'SELECT aftersales.ship_old_part({obj:part_return:due}, ''matrix carrier'')', '{admin,manager,engineer}'),
 ('aftersales.waive_old_part(bigint,text,timestamp with time zone)', 'part_return:due', 'SELECT aftersales.waive_old_part({obj:part_return:due}, ''matrix'')', '{admin,manager}'),
 ('aftersales.receive_old_part(bigint,timestamp with time zone)', 'part_return:shipped', 'SELECT aftersales.receive_old_part({obj:part_return:shipped})', '{admin,manager}'),
 ('aftersales.inspect_old_part(bigint,text,timestamp with time zone)', 'part_return:received', 'SELECT aftersales.inspect_old_part({obj:part_return:received}, ''supplier_fault'')', '{admin,manager}'),
 ('aftersales.file_claim(bigint,numeric,timestamp with time zone)', 'part_return:inspected', 'SELECT aftersales.file_claim({obj:part_return:inspected})', '{admin,manager}'),
 ('aftersales.accept_claim(bigint,numeric,timestamp with time zone)', 'part_claim:filed', 'SELECT aftersales.accept_claim({obj:part_claim:filed})', '{admin,manager}'),
 ('aftersales.reject_claim(bigint,text,timestamp with time zone)', 'part_claim:filed', 'SELECT aftersales.reject_claim({obj:part_claim:filed}, ''matrix'')', '{admin,manager}'),
 ('aftersales.refile_claim(bigint,text,timestamp with time zone)', 'part_claim:rejected', 'SELECT aftersales.refile_claim({obj:part_claim:rejected}, ''matrix: new grounds'')', '{admin,manager}'),
 ('aftersales.settle_claim(bigint,timestamp with time zone)', 'part_claim:accepted', 'SELECT aftersales.settle_claim({obj:part_claim:accepted})', '{admin,manager}'),
 ('aftersales.log_work(bigint,bigint,text,timestamp with time zone,timestamp with time zone,text)', 'ticket:assigned', 'SELECT aftersales.log_work({ticket}, {engineer}, ''on_site'', ''2026-03-02 09:00+08'', ''2026-03-02 11:00+08'')', '{admin,manager,agent,engineer}'),
 ('aftersales.price_ticket(bigint)', 'ticket:resolved', 'SELECT aftersales.price_ticket({ticket})', '{admin,manager,agent}'),
 ('aftersales.add_fee(bigint,text,numeric,boolean)', 'ticket:resolved', 'SELECT aftersales.add_fee({ticket}, ''matrix fee'', 10)', '{admin,manager,agent}'),
 ('aftersales.settle_ticket(bigint,timestamp with time zone)', 'ticket:resolved', 'SELECT aftersales.settle_ticket({ticket})', '{admin,manager}'),
 ('aftersales.check_parts(bigint)', 'tenant', 'SELECT * FROM aftersales.check_parts(tenant => {tenant})', '{admin,auditor}'),
 ('aftersales.sample_parts_checksum(bigint)', 'tenant', 'SELECT aftersales.sample_parts_checksum(tenant => {tenant})', '{}');

-- The targets, made here as superuser: per scope of the principals, in
-- scope (at the outlet, own tenant), out of scope (at HQ, own tenant; not
-- for the HQ scope) and in the other tenant.
CREATE TEMP TABLE api_targets (cat text, scope text, tenant bigint, org bigint, engineer bigint, engineer2 bigint,
                               customer bigint, problem_type bigint, calendar text, alert bigint, tickets jsonb,
                               PRIMARY KEY (cat, scope)) ON COMMIT DROP;
INSERT INTO api_targets (cat, scope, tenant, org, engineer)
SELECT 'in', s, fx.a, fx.outlet,
       (SELECT min(e.engineer_id) FROM aftersales.engineers e WHERE e.tenant_id = fx.a
           AND e.org_id = CASE s WHEN 'hq' THEN fx.hq WHEN 'region' THEN fx.region ELSE fx.outlet END)
  FROM fx, unnest(ARRAY['hq', 'region', 'outlet']) s
UNION ALL
SELECT 'out', s, fx.a, fx.hq,
       (SELECT min(e.engineer_id) FROM aftersales.engineers e WHERE e.tenant_id = fx.a
           AND e.org_id = CASE s WHEN 'region' THEN fx.region ELSE fx.outlet END)
  FROM fx, unnest(ARRAY['region', 'outlet']) s
UNION ALL
SELECT 'other', s, fx.b, (SELECT min(o.org_id) FROM aftersales.organisations o WHERE o.tenant_id = fx.b AND o.level = 'hq'),
       (SELECT min(e.engineer_id) FROM aftersales.engineers e WHERE e.tenant_id = fx.b AND e.active)
  FROM fx, unnest(ARRAY['hq', 'region', 'outlet']) s;
SELECT set_config('aftersales.tenant_id', a::text, true) FROM fx;
INSERT INTO aftersales.engineers (name, org_id, region) SELECT 'acl engineer outlet ' || n, fx.outlet, '华东' FROM fx, generate_series(1, 2) n;
UPDATE api_targets g
   SET customer = (SELECT min(c.customer_id) FROM aftersales.customers c
                    WHERE c.tenant_id = g.tenant
                      AND (g.cat <> 'out' OR c.org_id NOT IN (SELECT org_id FROM scope_orgs o WHERE o.scope = 'region'))
                      AND (g.cat <> 'in' OR c.org_id = g.org)),
       problem_type = (SELECT min(p.problem_type_id) FROM aftersales.problem_types p WHERE p.tenant_id = g.tenant),
       calendar = (SELECT quote_literal(min(c.name)) FROM aftersales.calendars c WHERE c.tenant_id = g.tenant),
       -- another engineer every scope sees: at the outlet (added below)
       engineer2 = (SELECT min(e.engineer_id) FROM aftersales.engineers e
                     WHERE e.tenant_id = g.tenant AND e.active AND e.engineer_id <> g.engineer
                       AND (g.cat = 'other' OR e.org_id = (SELECT outlet FROM fx)));
CREATE FUNCTION pg_temp.matrix_ticket(g api_targets, state text) RETURNS bigint LANGUAGE plpgsql AS $f$
DECLARE
    t bigint;
BEGIN
    PERFORM set_config('aftersales.tenant_id', g.tenant::text, true);
    t := aftersales.open_ticket(g.customer, g.problem_type, 'B', 'matrix target', org => g.org);
    IF state IN ('assigned', 'on_hold', 'resolved', 'closed') THEN
        PERFORM aftersales.assign_ticket(t, g.engineer);
    END IF;
    IF state = 'on_hold' THEN
        PERFORM aftersales.hold_ticket(t, 'matrix');
    ELSIF state = 'locked' THEN
        PERFORM aftersales.lock_ticket(t, 'matrix');
    ELSIF state IN ('resolved', 'closed') THEN
        PERFORM aftersales.resolve_ticket(t);
    END IF;
    IF state = 'closed' THEN
        PERFORM aftersales.follow_up(t, true);
    END IF;
    RETURN t;
END
$f$;
UPDATE api_targets g
   SET tickets = (SELECT jsonb_object_agg(s, pg_temp.matrix_ticket(g, s))
                    FROM unnest(ARRAY['new', 'assigned', 'on_hold', 'locked', 'resolved', 'closed']) s);
UPDATE api_targets g
   SET alert = (SELECT aftersales.raise_alert((g.tickets->>'new')::bigint, 'part_not_collected')
                  FROM (SELECT set_config('aftersales.tenant_id', g.tenant::text, true)) x);

-- Modules' objects, made here as superuser for each target (cat, scope):
-- the value is the SQL literal that names the object in a call.  A call
-- names one as {obj:<key>}, the key being its kind and, for a state
-- machine's object, its state ('part_order:requested'), or as {obj}, the
-- object of the entry's own target.  A module adds its
-- kinds and objects by rows: api_object_kinds says whether a kind is
-- scoped by organisation ('out' objects are at HQ) or belongs to the whole
-- tenant (master data: a function aimed at one has no 'out' calls; 'out'
-- objects of the kind are the tenant's own, for the calls aimed at
-- others).  A placeholder left unresolved stops the test.
CREATE TEMP TABLE api_object_kinds (kind text PRIMARY KEY, scoped boolean NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE api_objects (cat text, scope text, key text, value text NOT NULL, PRIMARY KEY (cat, scope, key))
    ON COMMIT DROP;

-- parts: a warehouse and a part of each tenant (the part's old part goes
-- back to its supplier), stocked; part orders in each state before use
-- made from the target's assigned ticket (so assigned to the engineer of
-- the principal's scope), old-part returns and claims in each state from
-- orders used.
INSERT INTO api_object_kinds VALUES ('warehouse', false), ('part', false), ('part_order', true), ('part_return', true),
                                    ('part_claim', true);
CREATE FUNCTION pg_temp.matrix_parts(g api_targets) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
    top bigint := CASE WHEN g.tenant = (SELECT a FROM fx) THEN (SELECT hq FROM fx) ELSE g.org END;
    w bigint;
    p bigint;
    o bigint;
    r bigint;
    c bigint;
    st text;
    i integer;
BEGIN
    PERFORM set_config('aftersales.tenant_id', g.tenant::text, true);
    w := aftersales.set_warehouse('ACL-WH', 'matrix warehouse', 'central', top);
    p := aftersales.set_part('ACL-P1', 'matrix part', 'A', 10, return_required => true, supplier => top);
    PERFORM aftersales.receive_stock(w, p, 100);
    INSERT INTO api_objects VALUES (g.cat, g.scope, 'warehouse', w), (g.cat, g.scope, 'part', p);
    -- orders: requested .. collected, then used ones for the returns and claims
    FOR i IN 0 .. 12 LOOP
        o := aftersales.request_parts((g.tickets->>'assigned')::bigint, w, jsonb_build_array(jsonb_build_object('part', p, 'quantity', 1)));
        st := 'requested';
        IF i >= 1 THEN PERFORM aftersales.approve_part_order(o); st := 'approved'; END IF;
        IF i >= 2 THEN PERFORM aftersales.reserve_part_order(o); st := 'reserved'; END IF;
        IF i >= 3 THEN PERFORM aftersales.ship_part_order(o, 'matrix carrier'); st := 'shipped'; END IF;
        IF i >= 4 THEN PERFORM aftersales.arrive_part_order(o); st := 'arrived'; END IF;
        IF i >= 5 THEN PERFORM aftersales.collect_part_order(o); st := 'collected'; END IF;
        IF i <= 5 THEN
            INSERT INTO api_objects VALUES (g.cat, g.scope, 'part_order:' || st, o);
            CONTINUE;
        END IF;
        PERFORM aftersales.use_part_order(o);
        r := (SELECT pr.return_id FROM aftersales.part_returns pr WHERE pr.tenant_id = g.tenant AND pr.order_id = o);
        st := 'due';
        IF i >= 7 THEN PERFORM aftersales.ship_old_part(r, 'matrix carrier'); st := 'shipped'; END IF;
        IF i >= 8 THEN PERFORM aftersales.receive_old_part(r); st := 'received'; END IF;
        IF i >= 9 THEN PERFORM aftersales.inspect_old_part(r, 'supplier_fault'); st := 'inspected'; END IF;
        IF i <= 9 THEN
            INSERT INTO api_objects VALUES (g.cat, g.scope, 'part_return:' || st, r);
            CONTINUE;
        END IF;
        c := aftersales.file_claim(r);
        st := 'filed';
        IF i = 11 THEN PERFORM aftersales.reject_claim(c, 'matrix'); st := 'rejected'; END IF;
        IF i = 12 THEN PERFORM aftersales.accept_claim(c); st := 'accepted'; END IF;
        INSERT INTO api_objects VALUES (g.cat, g.scope, 'part_claim:' || st, c);
    END LOOP;
END
$f$;
SELECT pg_temp.matrix_parts(g) FROM api_targets g ORDER BY g.cat, g.scope;
SELECT set_config('aftersales.tenant_id', '', true);


-- complaints, surveys and approvals: complaints in each state, from the
-- target's customer at the target's organisation; survey templates (one
-- published, one draft) and a survey sent on the target's closed ticket;
-- approving departments at the target's organisation and at HQ, whose
-- members are every principal (so that a refusal comes from scope or
-- tenant, not from the department), and an approval from the target's
-- organisation to the one at HQ (where approving departments usually are).
CREATE FUNCTION pg_temp.complaint_objects(g api_targets) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
    questions constant jsonb := '[{"kind": "rating", "prompt": "Overall satisfaction", "metric": "csat"}]';
    dep constant text := format('matrix_%s_%s', g.cat, g.scope);
    st text;
    c bigint;
BEGIN
    PERFORM set_config('aftersales.tenant_id', g.tenant::text, true);
    PERFORM aftersales.add_standard_complaint_reasons(g.tenant);
    FOREACH st IN ARRAY ARRAY['received', 'assigned', 'in_progress', 'resolved', 'confirmed', 'escalated'] LOOP
        c := aftersales.open_complaint('phone', 'timeliness', 'matrix target', customer => g.customer, org => g.org);
        IF st = 'escalated' THEN
            PERFORM aftersales.escalate_complaint(c, 'matrix escalation');
        ELSIF st <> 'received' THEN
            PERFORM aftersales.take_complaint(c);
        END IF;
        IF st IN ('in_progress', 'resolved', 'confirmed') THEN
            PERFORM aftersales.start_complaint(c);
        END IF;
        IF st IN ('resolved', 'confirmed') THEN
            PERFORM aftersales.resolve_complaint(c, 'matrix remedy');
        END IF;
        IF st = 'confirmed' THEN
            PERFORM aftersales.confirm_complaint(c);
        END IF;
        INSERT INTO api_objects VALUES (g.cat, g.scope, 'complaint:' || st, c::text);
    END LOOP;
    INSERT INTO api_objects VALUES
        (g.cat, g.scope, 'survey_template:published', aftersales.create_survey_template('matrix', 'Matrix', questions)::text),
        (g.cat, g.scope, 'survey_template:draft', aftersales.create_survey_template('matrix', 'Matrix', questions, publish => false)::text),
        (g.cat, g.scope, 'survey:sent', aftersales.send_survey(aftersales.create_survey_template('matrix_sent', 'Matrix', questions),
                                                               (g.tickets->>'closed')::bigint)::text);
    INSERT INTO aftersales.departments (tenant_id, org_id, code, name, calendar)
    SELECT g.tenant, v.org, v.code, 'Matrix ' || v.code, (SELECT min(k.name) FROM aftersales.calendars k WHERE k.tenant_id = g.tenant)
      FROM (VALUES (g.org, dep),
                   ((SELECT o.org_id FROM aftersales.organisations o WHERE o.tenant_id = g.tenant AND o.level = 'hq'), dep || '_hq')) v (org, code);
    INSERT INTO aftersales.department_members (tenant_id, department_id, member)
    SELECT g.tenant, d.department_id, coalesce(p.app_user, p.login)
      FROM aftersales.departments d, principals p
     WHERE d.tenant_id = g.tenant AND d.code IN (dep, dep || '_hq') AND p.kind IS NOT NULL;
    INSERT INTO api_objects VALUES
        (g.cat, g.scope, 'department', quote_literal(dep)),
        (g.cat, g.scope, 'department:hq', quote_literal(dep || '_hq')),
        (g.cat, g.scope, 'approval:submitted', aftersales.submit_approval('internal_request', dep || '_hq', 'matrix target', org => g.org)::text);
END
$f$;
SELECT count(pg_temp.complaint_objects(g)) FROM (SELECT * FROM api_targets ORDER BY cat, scope) g;
SELECT set_config('aftersales.tenant_id', '', true);
-- complaints, surveys and approvals: the entries.  Agents and managers
-- handle complaints and send surveys; every working kind submits and
-- decides approvals (decisions held to the department's members); admins
-- configure; managers and the sweep expire surveys and sweep the warning
-- line; the replay checks are granted to nobody.
INSERT INTO api_matrix VALUES
 ('aftersales.add_standard_complaint_reasons(bigint)', 'tenant', 'SELECT nullif(aftersales.add_standard_complaint_reasons({tenant}), 0)', '{admin}'),
 ('aftersales.set_complaint_target(text,interval,interval,text,bigint)', 'tenant', 'SELECT aftersales.set_complaint_target(''low'', ''4 hours'', ''8 hours'', {calendar}, {tenant})', '{admin}'),
 ('aftersales.open_complaint(text,text,text,bigint,text,text,text,bigint,bigint,bigint,bigint,bigint,timestamp with time zone)',
  'customer', 'SELECT aftersales.open_complaint(''phone'', ''timeliness'', ''matrix'', customer => {customer}, org => {org})', '{admin,manager,agent}'),
 ('aftersales.assign_complaint(bigint,text,text,timestamp with time zone)', 'complaint:received', 'SELECT aftersales.assign_complaint({obj}, ''acl_agent_outlet'')', '{admin,manager,agent}'),
 ('aftersales.take_complaint(bigint,timestamp with time zone)', 'complaint:received', 'SELECT aftersales.take_complaint({obj})', '{admin,manager,agent}'),
 ('aftersales.start_complaint(bigint,timestamp with time zone)', 'complaint:assigned', 'SELECT aftersales.start_complaint({obj})', '{admin,manager,agent}'),
 ('aftersales.resolve_complaint(bigint,text,timestamp with time zone)', 'complaint:in_progress', 'SELECT aftersales.resolve_complaint({obj}, ''matrix'')', '{admin,manager,agent}'),
 ('aftersales.confirm_complaint(bigint,timestamp with time zone)', 'complaint:resolved', 'SELECT aftersales.confirm_complaint({obj})', '{admin,manager,agent}'),
 ('aftersales.reject_complaint(bigint,text,timestamp with time zone)', 'complaint:resolved', 'SELECT aftersales.reject_complaint({obj}, ''matrix'')', '{admin,manager,agent}'),
 ('aftersales.close_complaint(bigint,text,timestamp with time zone)', 'complaint:confirmed', 'SELECT aftersales.close_complaint({obj})', '{admin,manager,agent}'),
 ('aftersales.escalate_complaint(bigint,text,timestamp with time zone)', 'complaint:assigned', 'SELECT aftersales.escalate_complaint({obj}, ''matrix'')', '{admin,manager,agent}'),
 ('aftersales.withdraw_complaint(bigint,text,timestamp with time zone)', 'complaint:escalated', 'SELECT aftersales.withdraw_complaint({obj}, ''matrix'')', '{admin,manager,agent}'),
 ('aftersales.check_complaints(bigint)', 'tenant', 'SELECT * FROM aftersales.check_complaints({tenant})', '{}'),
 ('aftersales.create_survey_template(text,text,jsonb,boolean)', 'none', 'SELECT aftersales.create_survey_template(''matrix'', ''Matrix'', ''[{"kind": "text", "prompt": "Anything else?"}]'')', '{admin}'),
 ('aftersales.publish_survey_template(bigint)', 'tenant', 'SELECT aftersales.publish_survey_template({obj:survey_template:draft})', '{admin}'),
 ('aftersales.send_survey(bigint,bigint,text,interval,timestamp with time zone)', 'ticket:closed', 'SELECT aftersales.send_survey({obj:survey_template:published}, {ticket})', '{admin,manager,agent}'),
 ('aftersales.start_survey_campaign(text,bigint,text,text,text,interval,timestamp with time zone)', 'tenant', 'SELECT aftersales.start_survey_campaign(''matrix'', {obj:survey_template:published}, tier => ''key'')', '{admin,manager,agent}'),
 ('aftersales.answer_survey(bigint,jsonb,timestamp with time zone)', 'survey:sent', 'SELECT aftersales.answer_survey({obj}, ''{"1": 5}'')', '{admin,manager,agent}'),
 ('aftersales.expire_surveys(timestamp with time zone,bigint)', 'tenant', 'SELECT nullif(aftersales.expire_surveys(''2100-01-01'', {tenant}), 0)', '{admin,manager,sweep}'),
 ('aftersales.check_surveys(bigint)', 'tenant', 'SELECT * FROM aftersales.check_surveys({tenant})', '{}'),
 ('aftersales.approval_warning_line(bigint)', 'tenant', 'SELECT aftersales.approval_warning_line({tenant})', '{admin,manager,agent,engineer,analyst,auditor,sweep}'),
 ('aftersales.set_approval_warning_line(integer,bigint)', 'tenant', 'SELECT aftersales.set_approval_warning_line(5, {tenant})', '{admin}'),
 ('aftersales.set_approval_target(text,text,interval)', 'department', 'SELECT aftersales.set_approval_target(''internal_request'', {obj}, ''4 hours'')', '{admin}'),
 ('aftersales.set_part_order_approver(text)', 'department', 'SELECT aftersales.set_part_order_approver({obj})', '{admin}'),
 ('aftersales.submit_approval(text,text,text,bigint,text,bigint,bigint,numeric,timestamp with time zone)', 'department:hq', 'SELECT aftersales.submit_approval(''internal_request'', {obj}, ''matrix'', org => {org})', '{admin,manager,agent,engineer}'),
 ('aftersales.grant_approval(bigint,text,timestamp with time zone)', 'approval:submitted', 'SELECT aftersales.grant_approval({obj})', '{admin,manager,agent,engineer}'),
 ('aftersales.reject_approval(bigint,text,timestamp with time zone)', 'approval:submitted', 'SELECT aftersales.reject_approval({obj}, ''matrix'')', '{admin,manager,agent,engineer}'),
 ('aftersales.withdraw_approval(bigint,text,timestamp with time zone)', 'approval:submitted', 'SELECT aftersales.withdraw_approval({obj}, ''matrix'')', '{admin,manager,agent,engineer}'),
 ('aftersales.sweep_approvals(timestamp with time zone,bigint)', 'tenant', 'SELECT nullif(aftersales.sweep_approvals(now(), {tenant}), 0)', '{admin,manager,sweep}'),
 ('aftersales.check_approvals(bigint)', 'tenant', 'SELECT * FROM aftersales.check_approvals({tenant})', '{}');

-- dispatch, workforce and knowledge: engineers (the target's engineer in
-- scope, the HQ engineer out of scope, the other tenant's), none of them
-- left checked in; a resolved ticket with a product model; a dispatch alert about the target's new ticket at the
-- target's organisation; the tenant's first product line; and knowledge
-- articles in each state.  Articles and product lines belong to the whole
-- tenant (no organisation): no call aimed at one is out of scope.
INSERT INTO api_object_kinds VALUES ('kb_article', false), ('product_line', false);
CREATE FUNCTION pg_temp.dispatch_objects(g api_targets) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
    eng bigint := CASE WHEN g.cat = 'out'
                       THEN (SELECT min(e.engineer_id) FROM aftersales.engineers e, fx
                              WHERE e.tenant_id = g.tenant AND e.org_id = fx.hq)
                       ELSE g.engineer END;
    line bigint := (SELECT min(l.product_line_id) FROM aftersales.product_lines l WHERE l.tenant_id = g.tenant);
    st text;
    k bigint;
BEGIN
    PERFORM set_config('aftersales.tenant_id', g.tenant::text, true);
    -- a resolved ticket about a product model (articles are drafted from those)
    k := aftersales.open_ticket(g.customer, g.problem_type, 'B', 'matrix target', org => g.org,
                                model => (SELECT min(m.model_id) FROM aftersales.product_models m WHERE m.tenant_id = g.tenant));
    PERFORM aftersales.assign_ticket(k, g.engineer);
    PERFORM aftersales.resolve_ticket(k);
    INSERT INTO api_objects VALUES (g.cat, g.scope, 'ticket_with_model:resolved', k::text);
    IF (SELECT a.kind FROM aftersales.attendance_events a WHERE a.tenant_id = g.tenant AND a.engineer_id = eng
          AND a.kind IN ('check_in', 'check_out') ORDER BY a.at DESC, a.event_id DESC LIMIT 1) = 'check_in' THEN
        PERFORM aftersales.check_out(eng, 31.2304, 121.4737, at => '2099-12-31 18:00+00');
    END IF;
    INSERT INTO api_objects VALUES
        (g.cat, g.scope, 'engineer', eng::text),
        (g.cat, g.scope, 'product_line', line::text),
        (g.cat, g.scope, 'dispatch_alert',
         aftersales_internal.dispatch_alert(g.tenant, 'no_candidate', (g.tickets->>'new')::bigint, NULL, (g.tickets->>'new')::bigint,
                                            g.org, 'service_manager', now(), now(), '{}')::text);
    FOREACH st IN ARRAY ARRAY['draft', 'review', 'published'] LOOP
        k := aftersales.create_article(line, 'matrix target', 'matrix symptom', 'matrix solution');
        IF st IN ('review', 'published') THEN
            PERFORM aftersales.submit_article(k);
        END IF;
        IF st = 'published' THEN
            PERFORM aftersales.publish_article(k);
        END IF;
        INSERT INTO api_objects VALUES (g.cat, g.scope, 'kb_article:' || st, k::text);
    END LOOP;
END
$f$;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
SELECT count(pg_temp.dispatch_objects(g)) FROM (SELECT * FROM api_targets ORDER BY cat, scope) g;
SELECT set_config('aftersales.tenant_id', '', true);
-- dispatch, workforce and knowledge: the entries.  Engineers record their
-- own attendance, managers anyone's in scope; whoever assigns ranks and
-- assigns automatically, the sweep too (it holds the assign right and
-- reads what the ranking reads); analysts do not rank (engineers'
-- positions are not theirs to read); admins, managers and the sweep run
-- the dispatch sweep; managers acknowledge dispatch alerts; every working kind writes
-- articles and sends them to review, admins and managers review; those
-- who resolve tickets resolve them with a mode and an article.
INSERT INTO api_matrix VALUES
 ('aftersales.distance_km(double precision,double precision,double precision,double precision)', 'none', 'SELECT aftersales.distance_km(31.2304, 121.4737, 39.9042, 116.4074)', '{any}'),
 ('aftersales.check_position(double precision,double precision)', 'none', 'SELECT aftersales.check_position(31.2304, 121.4737)', '{any}'),
 ('aftersales.engineer_on_shift(bigint,timestamp with time zone)', 'engineer', 'SELECT aftersales.engineer_on_shift({obj}, ''2026-03-02 10:00+08'')', '{admin,manager,agent,engineer,analyst,auditor,sweep}'),
 ('aftersales.check_in(bigint,double precision,double precision,timestamp with time zone)', 'engineer', 'SELECT aftersales.check_in({obj}, 31.2304, 121.4737, at => ''2100-01-01 08:00+00'')', '{admin,manager,engineer}'),
 ('aftersales.check_out(bigint,double precision,double precision,timestamp with time zone)', 'engineer',
  'WITH i AS MATERIALIZED (SELECT aftersales.check_in({obj}, 31.2304, 121.4737, at => ''2100-01-01 08:00+00'') AS e) SELECT aftersales.check_out({obj}, 31.2304, 121.4737, at => ''2100-01-01 17:00+00'') FROM i',
  '{admin,manager,engineer}'),
 ('aftersales.site_check_in(bigint,double precision,double precision,bigint,timestamp with time zone)', 'ticket:assigned', 'SELECT aftersales.site_check_in({ticket}, 31.2304, 121.4737, at => ''2100-01-01 09:00+00'')', '{admin,manager,engineer}'),
 ('aftersales.attendance_days(date,date,timestamp with time zone,bigint)', 'tenant', 'SELECT * FROM aftersales.attendance_days(''2026-03-01'', ''2026-03-03'', ''2026-03-04'', {tenant})', '{admin,manager,agent,engineer,analyst,auditor,sweep}'),
 ('aftersales.engineer_time(date,date,timestamp with time zone,bigint)', 'tenant', 'SELECT * FROM aftersales.engineer_time(''2026-03-01'', ''2026-03-03'', ''2026-03-04'', {tenant})', '{admin,manager,agent,engineer,analyst,auditor,sweep}'),
 ('aftersales.acknowledge_dispatch_alert(bigint,timestamp with time zone)', 'dispatch_alert', 'SELECT aftersales.acknowledge_dispatch_alert({obj})', '{admin,manager}'),
 ('aftersales.suggest_engineers(bigint,integer,timestamp with time zone)', 'ticket:new', 'SELECT * FROM aftersales.suggest_engineers({ticket}, 3, ''2026-12-31 10:00+08'')', '{admin,manager,agent,engineer,auditor,sweep}'),
 ('aftersales.auto_assign(bigint,timestamp with time zone)', 'ticket:new', 'SELECT aftersales.auto_assign({ticket}, now())', '{admin,manager,agent,sweep}'),
 ('aftersales.auto_assign_pending(timestamp with time zone,integer,bigint)', 'tenant', 'SELECT nullif(p.assigned + p.unassigned + p.deferred, 0) FROM aftersales.auto_assign_pending(now(), 10, {tenant}) p', '{admin,manager,sweep}'),
 ('aftersales.dispatch_sweep(timestamp with time zone,integer,bigint)', 'tenant',
  'SELECT nullif(d.assigned + d.unassigned + d.deferred + d.location_anomalies + d.late_check_ins + d.missing_check_outs, 0) FROM aftersales.dispatch_sweep(now(), 10, {tenant}) d',
  '{admin,manager,sweep}'),
 ('aftersales.create_article(bigint,text,text,text,text,bigint,bigint,text[],text,timestamp with time zone)', 'tenant', 'SELECT aftersales.create_article({obj:product_line}, ''matrix'', ''matrix symptom'', ''matrix solution'')', '{admin,manager,agent,engineer}'),
 ('aftersales.edit_article(bigint,jsonb,timestamp with time zone)', 'kb_article:draft', 'SELECT aftersales.edit_article({obj}, ''{"cause": "matrix"}'')', '{admin,manager,agent,engineer}'),
 ('aftersales.submit_article(bigint,timestamp with time zone)', 'kb_article:draft', 'SELECT aftersales.submit_article({obj})', '{admin,manager,agent,engineer}'),
 ('aftersales.publish_article(bigint,timestamp with time zone)', 'kb_article:review', 'SELECT aftersales.publish_article({obj})', '{admin,manager}'),
 ('aftersales.reject_article(bigint,text,timestamp with time zone)', 'kb_article:review', 'SELECT aftersales.reject_article({obj}, ''matrix'')', '{admin,manager}'),
 ('aftersales.retire_article(bigint,text,timestamp with time zone)', 'kb_article:published', 'SELECT aftersales.retire_article({obj}, ''matrix'')', '{admin,manager}'),
 ('aftersales.revise_article(bigint,timestamp with time zone)', 'kb_article:published', 'SELECT aftersales.revise_article({obj})', '{admin,manager,agent,engineer}'),
 ('aftersales.draft_article_from_ticket(bigint,timestamp with time zone)', 'ticket_with_model:resolved', 'SELECT aftersales.draft_article_from_ticket({obj})', '{admin,manager,agent,engineer}'),
 ('aftersales.create_article_search_index()', 'none', 'SELECT aftersales.create_article_search_index()', '{}'),
 ('aftersales.search_articles(text,integer,bigint,bigint,bigint)', 'none', 'SELECT * FROM aftersales.search_articles(''matrix symptom'', 3)', '{admin,manager,agent,engineer,analyst,auditor}'),
 ('aftersales.suggest_articles(bigint,integer)', 'ticket:new', 'SELECT * FROM aftersales.suggest_articles({ticket}, 3)', '{admin,manager,agent,engineer,analyst,auditor}'),
 ('aftersales.resolve_ticket_with(bigint,text,text,bigint,boolean,boolean,timestamp with time zone)', 'ticket:assigned', 'SELECT aftersales.resolve_ticket_with({ticket}, ''remote_phone'', ''matrix'')', '{admin,engineer}'),
 ('aftersales.check_articles(bigint)', 'tenant', 'SELECT * FROM aftersales.check_articles({tenant})', '{admin,auditor}');

-- A procedure that commits cannot run inside this test's transaction:
-- its entry checks the right to call it.
CREATE FUNCTION pg_temp.may_call(f regprocedure) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN
    IF NOT has_function_privilege(f, 'EXECUTE') THEN
        RAISE EXCEPTION 'permission denied for %', f USING ERRCODE = '42501';
    END IF;
    RETURN true;
END
$f$;
CREATE TEMP TABLE api_results (p text, state text, fn text, cat text, outcome text, rows bigint, expect_ok boolean, message text) ON COMMIT DROP;
CREATE FUNCTION pg_temp.run_api(pr principals, st settings, fn text, cat text, sql text)
RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
    outcome text;
    message text;
    n bigint := 0;
    me text := current_user;
    own bigint := (SELECT a FROM fx);
BEGIN
    PERFORM set_config('aftersales.app_user', coalesce(pr.app_user, ''), true);
    PERFORM set_config('session_authorization', pr.login, true);
    BEGIN
        IF pr.app_user IS NOT NULL THEN
            PERFORM set_config('role', 'aftersales_' || pr.kind, true);
        END IF;
        -- the sweep works on the tenant it sets
        PERFORM set_config('aftersales.tenant_id',
                           CASE WHEN pr.kind = 'sweep' THEN own::text ELSE coalesce(st.value, '') END, true);
        -- q is read, so that the planner cannot leave the call out
        EXECUTE 'SELECT count(*) FILTER (WHERE NOT (q IS NULL)) FROM (' || sql || ') q' INTO n;
        RAISE EXCEPTION USING ERRCODE = 'P0099';
    EXCEPTION WHEN SQLSTATE 'P0099' THEN
        outcome := 'ok';
              WHEN OTHERS THEN
        outcome := SQLSTATE;
        message := SQLERRM;
        n := 0;
    END;
    PERFORM set_config('session_authorization', me, true);
    PERFORM set_config('aftersales.app_user', '', true);
    PERFORM set_config('aftersales.tenant_id', '', true);
    INSERT INTO api_results VALUES (pr.p, st.state, fn, cat, outcome, n, NULL, message);
END
$f$;
-- The API matrix's cases: every principal (and the sweep's login, with its
-- tenant set) calls every function at each of its targets, with the
-- setting unset, naming the other tenant and garbage (empty and own are
-- unset's equals in the table matrix).
CREATE ROLE acl_sweep LOGIN;
GRANT aftersales_sweep TO acl_sweep;
DO $$
DECLARE
    pr principals;
    st settings;
    m api_matrix;
    g api_targets;
    sql text;
    ph text;
BEGIN
    FOR pr IN SELECT * FROM principals UNION ALL SELECT 'sweep login', 'acl_sweep', NULL, 'sweep', NULL ORDER BY 1 LOOP
      FOR st IN SELECT * FROM settings WHERE state IN ('unset', 'other', 'garbage') AND (pr.kind IS DISTINCT FROM 'sweep' OR state = 'unset') LOOP
        FOR m IN SELECT * FROM api_matrix ORDER BY fn LOOP
            FOR g IN SELECT * FROM api_targets t WHERE t.scope = coalesce(pr.scope, 'hq')
                        AND (t.cat = 'in' OR m.target NOT IN ('none', 'tenant') OR (m.target = 'tenant' AND t.cat = 'other'))
                        AND NOT (t.cat = 'out' AND EXISTS (SELECT FROM api_object_kinds k
                                                            WHERE k.kind = split_part(m.target, ':', 1) AND NOT k.scoped))
                      ORDER BY t.cat LOOP
                sql := replace(replace(replace(replace(replace(replace(replace(m.call,
                           '{ticket}', coalesce(g.tickets->>split_part(m.target, ':', 2), 'NULL')),
                           '{tenant}', g.tenant::text), '{customer}', g.customer::text),
                           '{problem_type}', g.problem_type::text), '{org}', g.org::text),
                           '{engineer}', g.engineer::text), '{alert}', g.alert::text);
                sql := replace(replace(sql, '{engineer2}', g.engineer2::text), '{calendar}', g.calendar);
                -- module objects: {obj} is the target's, {obj:<key>} another (one placeholder a turn)
                FOR i IN 1..20 LOOP
                    ph := substring(sql FROM '\{obj(?::[a-z0-9_:.]+)?\}');
                    EXIT WHEN ph IS NULL;
                    sql := replace(sql, ph, (SELECT o.value FROM api_objects o
                                              WHERE o.cat = g.cat AND o.scope = g.scope
                                                AND o.key = coalesce(substring(ph FROM '^\{obj:(.*)\}$'), m.target)));
                    IF sql IS NULL THEN
                        RAISE EXCEPTION 'no object for placeholder % of % at target (%, %)', ph, m.fn, g.cat, g.scope;
                    END IF;
                END LOOP;
                PERFORM pg_temp.run_api(pr, st, m.fn, g.cat, sql);
            END LOOP;
        END LOOP;
      END LOOP;
    END LOOP;
END
$$;
UPDATE api_results r
   SET expect_ok = CASE -- garbage is refused by the setting's check, another tenant does not resolve
                        WHEN r.state = 'garbage' THEN false
                        WHEN 'any' = ANY (m.in_kinds)
                        THEN p.p <> 'PUBLIC' AND NOT (p.app_user IS NOT NULL AND p.kind = 'admin')
                        WHEN r.state = 'other' THEN false
                        WHEN r.cat <> 'in' THEN false
                        WHEN p.p = 'sweep login' THEN 'sweep' = ANY (m.in_kinds)
                        ELSE p.kind IS NOT NULL AND NOT (p.app_user IS NOT NULL AND p.kind = 'admin')
                             AND (p.kind = ANY (m.in_kinds) OR p.kind || '@' || p.scope = ANY (m.in_kinds)) END
  FROM api_matrix m,
       (SELECT * FROM principals UNION ALL SELECT 'sweep login', 'acl_sweep', NULL, 'sweep', NULL) p
 WHERE m.fn = r.fn AND p.p = r.p;

-- Expectations.  A principal resolves only when it is a member (by login,
-- or asserted by the pool, which then takes the kind's group role: never
-- an admin's) and the setting is unset, '' or its own tenant.  Then a verb
-- succeeds exactly when its cell lists the kind.  A principal that does not
-- resolve may only succeed where no row was scanned (the policies are
-- never evaluated), or on the shipped rules without tenant (event_rights,
-- state_transitions).
-- Garbage in the setting is refused when it is set, whatever follows.  API
-- calls aimed out of reach are judged by their leaks alone.
UPDATE results r
   SET resolves = p.kind IS NOT NULL AND r.state IN ('unset', 'empty', 'own')
                  AND NOT (p.app_user IS NOT NULL AND p.kind = 'admin'),
       expect_ok = CASE WHEN r.verb = 'api' THEN NULL
                        -- shipped rules without tenant: event rights, the machines' transitions
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

CREATE TEMP VIEW leaks AS
SELECT (SELECT count(*) FROM results WHERE leaked > 0)
       + (SELECT count(*) FROM api_results WHERE cat <> 'in' AND outcome = 'ok' AND rows > 0) AS n,
       (SELECT count(*) FROM results) + (SELECT count(*) FROM api_results) AS cases;
SELECT is((SELECT n FROM leaks), 0::bigint,
          format('access matrix: %s cases, %s leaks', (SELECT cases FROM leaks), (SELECT n FROM leaks)));
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
-- The API: every function of schema aftersales has its entry, and every
-- call went as its entry says.  Refused means an error, or out of reach a
-- read that returns nothing (get_calendar of another tenant: NULL).
-- (each difference in parentheses: EXCEPT and UNION bind left to right)
SELECT is(ARRAY((SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = 'aftersales'::regnamespace
                 EXCEPT SELECT fn FROM api_matrix)
                UNION ALL
                (SELECT fn FROM api_matrix
                 EXCEPT SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = 'aftersales'::regnamespace)
                ORDER BY 1), '{}'::text[],
          'every function of schema aftersales has an entry in the API matrix, and every entry a function');
SELECT is_empty($$SELECT p, state, fn, cat, outcome, rows, message FROM api_results
                   WHERE CASE WHEN expect_ok THEN outcome <> 'ok'
                              WHEN cat = 'in' THEN outcome = 'ok'
                              ELSE outcome = 'ok' AND rows > 0 END
                   ORDER BY 1, 2, 3, 4$$,
                format('every API call as the matrix says (%s calls, %s functions)',
                       (SELECT count(*) FROM api_results), (SELECT count(*) FROM api_matrix)));
-- The matrix's line.
SELECT diag(format('%s cases, %s leaks', (SELECT cases FROM leaks), (SELECT n FROM leaks)));

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
