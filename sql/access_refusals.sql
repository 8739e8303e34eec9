-- Access control: the refusals, word for word, and the known pitfalls of
-- row-level security.  Logins are switched with SET SESSION AUTHORIZATION,
-- which changes the session user the way a new connection would.
\i sql/fixtures/fresh_extension.sql
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_acl_agent, regress_acl_eng, regress_acl_mgr, regress_acl_two, regress_acl_none,
    regress_acl_pool, regress_acl_owner, regress_acl_sweep;
RESET client_min_messages;
SET aftersales.now = '2024-05-06 08:00:00+00';

-- Tenant 1: HQ, a region, two outlets; tenant 2: an HQ.
INSERT INTO aftersales.tenants (tenant_id, name) VALUES (2, 'other');
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.organisations (parent_id, level, name, region) VALUES (1, 'region', 'East', '华东');
INSERT INTO aftersales.organisations (parent_id, level, name, province) VALUES (2, 'province', 'Jiangsu', '江苏');
INSERT INTO aftersales.organisations (parent_id, level, name) VALUES (3, 'outlet', 'Nanjing'), (3, 'outlet', 'Suzhou');
INSERT INTO aftersales.customers (name, org_id, contact_phone) VALUES ('Acme Steel', 4, '+86 25 1234'), ('Bolt Foods', 5, '+86 512 1234');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
INSERT INTO aftersales.engineers (org_id, name) VALUES (4, 'Wang Wei'), (5, 'Li Na');
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'Nanjing', org => 4);
SELECT aftersales.open_ticket(customer => 2, problem_type => 1, priority => 'B', description => 'Suzhou', org => 5);
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'Nanjing, Li Na''s', org => 4);
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'Nanjing, closed', org => 4);
SELECT aftersales.assign_ticket(1, 1), aftersales.assign_ticket(2, 2), aftersales.assign_ticket(3, 2),
       aftersales.assign_ticket(4, 1);
SELECT aftersales.resolve_ticket(4, 'fixed'), aftersales.follow_up(4, satisfied => true);
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'C', description => 'Nanjing, wanted by noon',
                              org => 4, requested_at => '2024-05-06 12:00+00');
SET aftersales.tenant_id = 2;
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'Other HQ');
RESET aftersales.tenant_id;

CREATE ROLE regress_acl_agent LOGIN IN ROLE aftersales_agent;
CREATE ROLE regress_acl_eng LOGIN IN ROLE aftersales_engineer;
CREATE ROLE regress_acl_mgr LOGIN IN ROLE aftersales_manager;
CREATE ROLE regress_acl_two LOGIN IN ROLE aftersales_analyst;
CREATE ROLE regress_acl_none LOGIN IN ROLE aftersales_agent;
CREATE ROLE regress_acl_pool LOGIN IN ROLE aftersales_app;
INSERT INTO aftersales.members (name, kind, org_id) VALUES ('regress_acl_agent', 'agent', 4),
    ('regress_acl_mgr', 'manager', 2), ('regress_acl_two', 'analyst', 1);
INSERT INTO aftersales.members (name, kind, org_id, engineer_id) VALUES ('regress_acl_eng', 'engineer', 4, 1);
INSERT INTO aftersales.members (name, via, kind, org_id) VALUES ('li.na', 'app', 'agent', 1), ('zhao.lei', 'app', 'analyst', 1);
INSERT INTO aftersales.members (tenant_id, name, kind, org_id) VALUES (2, 'regress_acl_two', 'analyst', 6);

-- Who is who.
SET SESSION AUTHORIZATION regress_acl_mgr;
SELECT * FROM aftersales.whoami();
SELECT aftersales.current_org_scope();
SELECT ticket_id, org_id FROM aftersales.tickets ORDER BY 1;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_acl_agent;
SELECT ticket_id, org_id FROM aftersales.tickets ORDER BY 1;
RESET SESSION AUTHORIZATION;

-- The tenant comes from membership.
SET SESSION AUTHORIZATION regress_acl_none;
SELECT count(*) FROM aftersales.tickets;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_acl_two;
SELECT count(*) FROM aftersales.tickets;
SET aftersales.tenant_id = '2';
SELECT tenant_id, member FROM aftersales.whoami();
SET aftersales.tenant_id = '3';
SELECT count(*) FROM aftersales.tickets;
SET aftersales.tenant_id = 'one';
SELECT count(*) FROM aftersales.tickets;
RESET aftersales.tenant_id;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_acl_agent;
SET aftersales.tenant_id = '2';
SELECT count(*) FROM aftersales.tickets;
RESET aftersales.tenant_id;
-- Only a pool asserts another user.
SET aftersales.app_user = 'li.na';
SELECT count(*) FROM aftersales.tickets;
RESET aftersales.app_user;
-- The actor is the login.
SELECT aftersales.hold_ticket(1, reason => 'customer away', actor => 'manager:the.boss');
SET aftersales.actor = 'manager:the.boss';
SELECT aftersales.actor();
RESET aftersales.actor;
SELECT aftersales.hold_ticket(1, reason => 'customer away');
SELECT aftersales.resume_ticket(1);
SELECT seq, actor, event FROM aftersales.ticket_events WHERE ticket_id = 1 AND seq > 2 ORDER BY seq;
RESET SESSION AUTHORIZATION;

-- A pool: no user, the user's role missing, then right.
SET SESSION AUTHORIZATION regress_acl_pool;
SELECT count(*) FROM aftersales.tickets;
BEGIN;
SET LOCAL aftersales.app_user = 'li.na';
SELECT count(*) FROM aftersales.tickets;
ROLLBACK;
BEGIN;
SET LOCAL aftersales.app_user = 'li.na';
SET LOCAL ROLE aftersales_agent;
SELECT tenant_id, member, kind, via FROM aftersales.whoami();
SELECT count(*) FROM aftersales.tickets;
COMMIT;
-- '' after RESET in a pooled session is no user, never a name.
SET aftersales.app_user = 'li.na';
RESET aftersales.app_user;
SELECT pg_catalog.current_setting('aftersales.app_user', true) AS after_reset;
SELECT count(*) FROM aftersales.tickets;
-- Analysts through a pool read no contact data either.
BEGIN;
SET LOCAL aftersales.app_user = 'zhao.lei';
SET LOCAL ROLE aftersales_analyst;
SELECT name FROM aftersales.customers ORDER BY 1;
SELECT contact_phone FROM aftersales.customers;
ROLLBACK;
RESET SESSION AUTHORIZATION;

-- Who may fire which event (aftersales.event_rights), API and direct UPDATE alike.
SET SESSION AUTHORIZATION regress_acl_agent;
SELECT aftersales.lock_ticket(1, reason => 'escalate');
SET aftersales.event = 'lock';
SET aftersales.event_reason = 'escalate';
UPDATE aftersales.tickets SET description = description WHERE ticket_id = 1;
RESET aftersales.event;
RESET aftersales.event_reason;
-- after close, only a manager edits a ticket's fields
UPDATE aftersales.tickets SET description = 'Nanjing, closed, noted' WHERE ticket_id = 4;
UPDATE aftersales.tickets SET description = 'Nanjing, noted' WHERE ticket_id = 1;
-- out of scope: another outlet's ticket does not exist for the agent
SELECT aftersales.cancel_ticket(2, reason => 'not my outlet');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_acl_eng;
SELECT aftersales.start_work(1);
SELECT aftersales.start_work(3);
SELECT aftersales.cancel_ticket(1, reason => 'not mine to cancel');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_acl_mgr;
SELECT aftersales.start_work(2);
SELECT aftersales.lock_ticket(2, reason => 'escalate');
UPDATE aftersales.tickets SET description = 'Nanjing, closed, noted' WHERE ticket_id = 4;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_acl_two;
SET aftersales.tenant_id = '1';
SELECT aftersales.cancel_ticket(1, reason => 'analysts change nothing');
UPDATE aftersales.tickets SET description = 'x';
RESET aftersales.tenant_id;
RESET SESSION AUTHORIZATION;

-- The logs are written by the database alone.
SET SESSION AUTHORIZATION regress_acl_mgr;
INSERT INTO aftersales.ticket_events (tenant_id, ticket_id, seq, at, actor, event, from_state, to_state)
VALUES (1, 2, 9, now(), 'forger', 'resolve', 'assigned', 'resolved');
UPDATE aftersales.ticket_sla SET outcome = 'met';
DELETE FROM aftersales.escalation_watches;
-- and the guard cannot be switched off by anyone but a superuser
SET session_replication_role = replica;
ALTER TABLE aftersales.tickets DISABLE TRIGGER zz_ticket_guard;
RESET SESSION AUTHORIZATION;

-- The sweep's login: across tenants without BYPASSRLS (one tenant at a
-- time, under row security), least privilege, and it fires only what
-- event_rights grants kind sweep (the lock at the customer-requested date).
CREATE ROLE regress_acl_sweep LOGIN IN ROLE aftersales_sweep;
SET SESSION AUTHORIZATION regress_acl_sweep;
SELECT tenant_id, claimed, locks, errors FROM aftersales.sweep(now => '2024-05-06 13:00+00');
-- one run per tenant, and the setting as it was
SELECT current_setting('aftersales.tenant_id') = '' AS setting_restored;
RESET SESSION AUTHORIZATION;
SELECT tenant_id, claimed, locks FROM aftersales.sweep_runs ORDER BY tenant_id, run_id;
SET SESSION AUTHORIZATION regress_acl_sweep;
SELECT aftersales.prune_sweep_runs(before => '2100-01-01') AS pruned;
SET aftersales.tenant_id = '1';
SELECT ticket_id, status, last_actor FROM aftersales.tickets WHERE ticket_id = 5;
SELECT aftersales.cancel_ticket(5, reason => 'the sweep does not cancel', at => '2024-05-06 14:00+00');
RESET aftersales.tenant_id;
RESET SESSION AUTHORIZATION;

-- Pitfalls.
-- 1. A function in public shadowing an unqualified name changes nothing:
--    policies and functions name everything qualified.
CREATE FUNCTION public.current_tenant() RETURNS bigint LANGUAGE sql AS 'SELECT 2::bigint';
GRANT EXECUTE ON FUNCTION public.current_tenant() TO PUBLIC;
SET SESSION AUTHORIZATION regress_acl_mgr;
SET search_path = public, aftersales;
SELECT count(*) FROM tickets;
RESET search_path;
RESET SESSION AUTHORIZATION;
DROP FUNCTION public.current_tenant();
-- 2. A non-leakproof function of the caller's sees only rows the policies let
--    through: it raises for any other, and it does not.
CREATE FUNCTION public.acl_peek(t bigint, o bigint) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS
$$ BEGIN IF o IS DISTINCT FROM 4 THEN RAISE EXCEPTION 'leaked a row of organisation %', o; END IF; RETURN true; END $$;
SET SESSION AUTHORIZATION regress_acl_agent;
SELECT ticket_id FROM aftersales.tickets WHERE public.acl_peek(tenant_id, org_id);
RESET SESSION AUTHORIZATION;
DROP FUNCTION public.acl_peek(bigint, bigint);
-- 3. The owner does not bypass: every table with a tenant_id has row
--    security enabled and forced, with a tenant policy.
SELECT c.relname FROM pg_catalog.pg_class c
 WHERE c.relnamespace = 'aftersales'::regnamespace AND c.relkind = 'r'
   AND EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')
   AND NOT (c.relrowsecurity AND c.relforcerowsecurity
            AND EXISTS (SELECT FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation'));
--    and FORCE holds for a non-superuser owner
CREATE ROLE regress_acl_owner LOGIN;
CREATE TABLE public.acl_owned (tenant_id bigint);
INSERT INTO public.acl_owned VALUES (1), (2);
ALTER TABLE public.acl_owned OWNER TO regress_acl_owner;
ALTER TABLE public.acl_owned ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY t ON public.acl_owned USING (tenant_id = (SELECT aftersales.current_tenant()));
INSERT INTO aftersales.members (name, kind, org_id) VALUES ('regress_acl_owner', 'auditor', 1);
GRANT USAGE ON SCHEMA aftersales TO regress_acl_owner;
SET SESSION AUTHORIZATION regress_acl_owner;
SELECT tenant_id FROM public.acl_owned;
RESET SESSION AUTHORIZATION;
DROP TABLE public.acl_owned;
-- 4. No view reads as its owner.
SELECT c.relname FROM pg_catalog.pg_class c
 WHERE c.relnamespace = 'aftersales'::regnamespace AND c.relkind = 'v'
   AND NOT COALESCE('security_invoker=true' = ANY (c.reloptions), false);

-- Superusers: the single-company behaviour, and they bypass row security.
SELECT tenant_id, kind FROM aftersales.whoami();
SELECT count(*) FROM aftersales.tickets;

-- Clean up the cluster-wide roles.
DELETE FROM aftersales.members;
REVOKE USAGE ON SCHEMA aftersales FROM regress_acl_owner;
DROP ROLE regress_acl_agent, regress_acl_eng, regress_acl_mgr, regress_acl_two, regress_acl_none,
    regress_acl_pool, regress_acl_owner, regress_acl_sweep;
