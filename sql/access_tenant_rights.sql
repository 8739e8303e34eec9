-- A tenant's own rights: aftersales.tenant_event_rights grants or withdraws
-- one kind's right to one event in the tenant, in place of the shipped row
-- of event_rights; other tenants keep the shipped rights; only the tenant's
-- admins write its rows, and only events event_rights knows.
\i sql/fixtures/fresh_extension.sql
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_tr_agent, regress_tr_eng, regress_tr_admin, regress_tr_agent2;
RESET client_min_messages;
SET aftersales.now = '2024-05-06 08:00:00+00';

INSERT INTO aftersales.tenants (tenant_id, name) VALUES (2, 'other');
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.customers (name, org_id) VALUES ('Acme Steel', 1);
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
INSERT INTO aftersales.engineers (org_id, name) VALUES (1, 'Wang Wei'), (1, 'Li Na');
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'one', org => 1);
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'two', org => 1);
SELECT aftersales.assign_ticket(2, 2);
SELECT aftersales.lock_ticket(2, 'stuck');
SET aftersales.tenant_id = 2;
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'Other HQ');
INSERT INTO aftersales.customers (name, org_id) VALUES ('Other Co', 2);
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
INSERT INTO aftersales.calendars (name, calendar) VALUES ('24x7', 'zone=UTC; mon-sun 00:00-24:00');
INSERT INTO aftersales.sla_policies (name, is_default) VALUES ('default', true);
INSERT INTO aftersales.sla_targets (tenant_id, policy_id, priority, metric, target)
SELECT 2, 2, priority, metric, target FROM aftersales.sla_targets WHERE tenant_id = 1;
SELECT aftersales.open_ticket(customer => 2, problem_type => 2, priority => 'B', description => 'other''s', org => 2);
RESET aftersales.tenant_id;

CREATE ROLE regress_tr_agent LOGIN IN ROLE aftersales_agent;
CREATE ROLE regress_tr_eng LOGIN IN ROLE aftersales_engineer;
CREATE ROLE regress_tr_admin LOGIN IN ROLE aftersales_admin;
CREATE ROLE regress_tr_agent2 LOGIN IN ROLE aftersales_agent;
INSERT INTO aftersales.members (name, kind, org_id) VALUES ('regress_tr_agent', 'agent', 1), ('regress_tr_admin', 'admin', 1);
INSERT INTO aftersales.members (name, kind, org_id, engineer_id) VALUES ('regress_tr_eng', 'engineer', 1, 1);
INSERT INTO aftersales.members (tenant_id, name, kind, org_id) VALUES (2, 'regress_tr_agent2', 'agent', 2);

-- The tenant's admin withdraws the agents' cancel and lets engineers take over.
SET SESSION AUTHORIZATION regress_tr_admin;
INSERT INTO aftersales.tenant_event_rights (kind, event, allowed) VALUES ('agent', 'cancel', false),
    ('engineer', 'take_over', true);
-- an event event_rights does not know, another tenant's row
INSERT INTO aftersales.tenant_event_rights (kind, event, allowed) VALUES ('agent', 'teleport', true);
INSERT INTO aftersales.tenant_event_rights (tenant_id, kind, event, allowed) VALUES (2, 'agent', 'reopen', false);
RESET SESSION AUTHORIZATION;
SELECT * FROM aftersales.tenant_event_rights ORDER BY 1, 2, 3;

-- In tenant 1: the agent may no longer cancel, the engineer may take over.
SET SESSION AUTHORIZATION regress_tr_agent;
SELECT aftersales.cancel_ticket(1, reason => 'duplicate');
SELECT aftersales.hold_ticket(1, reason => 'customer away');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_tr_eng;
SELECT aftersales.take_over_ticket(2, engineer => 1);
RESET SESSION AUTHORIZATION;
-- Tenant 2 keeps the shipped rights: its agent still cancels.
SET SESSION AUTHORIZATION regress_tr_agent2;
SELECT aftersales.cancel_ticket(3, reason => 'duplicate');
RESET SESSION AUTHORIZATION;
-- Other kinds cannot change rights.
SET SESSION AUTHORIZATION regress_tr_agent;
UPDATE aftersales.tenant_event_rights SET allowed = true WHERE kind = 'agent';
RESET SESSION AUTHORIZATION;

-- Withdrawing the row gives the shipped right back.
DELETE FROM aftersales.tenant_event_rights WHERE kind = 'agent';
SET SESSION AUTHORIZATION regress_tr_agent;
SELECT aftersales.resume_ticket(1), aftersales.cancel_ticket(1, reason => 'duplicate');
RESET SESSION AUTHORIZATION;
SELECT * FROM aftersales.check_tickets();

SET client_min_messages = warning;
DROP OWNED BY regress_tr_agent, regress_tr_eng, regress_tr_admin, regress_tr_agent2;
DROP ROLE regress_tr_agent, regress_tr_eng, regress_tr_admin, regress_tr_agent2;
-- the next tests start from a fresh extension
\i sql/fixtures/fresh_extension.sql
