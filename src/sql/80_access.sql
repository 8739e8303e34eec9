-- aftersales install script, part 80: access control.  Who is who
-- (members), the group roles and their grants, and who may fire which
-- event.  The caller is resolved in C (src/access.c); row-level security
-- comes last (95_row_security.sql), once every table exists.

-- ---------------------------------------------------------------------------
-- Group roles
--
-- Roles are cluster-wide and outlive DROP EXTENSION, so the install script
-- creates each one only when it is missing: the grants below need them at
-- once, a second database of the cluster finds them in place, and a
-- reinstall neither fails nor duplicates them.  They are NOLOGIN groups:
-- a DBA grants them to logins (README, "Security").
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['aftersales_admin', 'aftersales_manager', 'aftersales_agent', 'aftersales_engineer',
                             'aftersales_analyst', 'aftersales_auditor', 'aftersales_app', 'aftersales_sweep'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Members

CREATE TYPE aftersales.member_kind AS ENUM ('admin', 'manager', 'agent', 'engineer', 'analyst', 'auditor');
COMMENT ON TYPE aftersales.member_kind IS
  'What a member does: admin (configuration), manager (service manager), agent (客服), engineer, analyst (BI, read-only), auditor (read-only, with the event log)';

CREATE TABLE aftersales.members (
    tenant_id    bigint      NOT NULL DEFAULT aftersales.current_tenant()
                             REFERENCES aftersales.tenants,
    name         text        NOT NULL CHECK (name <> '' AND pg_catalog.length(name) <= 200),
    via          text        NOT NULL DEFAULT 'login' CHECK (via IN ('login', 'app')),
    kind         aftersales.member_kind NOT NULL,
    org_id       bigint      NOT NULL,
    engineer_id  bigint,
    active       boolean     NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, via, name),
    FOREIGN KEY (tenant_id, org_id) REFERENCES aftersales.organisations (tenant_id, org_id),
    FOREIGN KEY (tenant_id, engineer_id) REFERENCES aftersales.engineers (tenant_id, engineer_id),
    CHECK ((kind = 'engineer') = (engineer_id IS NOT NULL))
);
COMMENT ON TABLE aftersales.members IS
  'People who use a tenant: a database login (via login) or a user an application pool acts for (via app), with a kind and the organisation they see (it and everything below)';
COMMENT ON COLUMN aftersales.members.tenant_id IS 'Tenant the member belongs to';
COMMENT ON COLUMN aftersales.members.name IS 'Login role name (via login) or the application''s user name (via app, set by the pool in aftersales.app_user)';
COMMENT ON COLUMN aftersales.members.via IS 'login: the member connects as this role; app: an application pool asserts this name';
COMMENT ON COLUMN aftersales.members.kind IS 'admin, manager, agent, engineer, analyst or auditor: decides the events the member may fire (aftersales.event_rights)';
COMMENT ON COLUMN aftersales.members.org_id IS 'Scope: this organisation and everything below it; HQ sees the whole tenant';
COMMENT ON COLUMN aftersales.members.engineer_id IS 'For engineers: their engineers row; they act only on tickets assigned to it';
COMMENT ON COLUMN aftersales.members.active IS 'False: the member no longer resolves';
COMMENT ON COLUMN aftersales.members.created_at IS 'When the row was created';
SELECT pg_catalog.pg_extension_config_dump('aftersales.members', '');

-- ---------------------------------------------------------------------------
-- Who may fire which event: one table, read by the tickets' guard trigger,
-- so the API and a direct UPDATE obey the same rule.  Besides the events of
-- the closed loop: edit (a plain change of a ticket's free fields) and
-- edit_closed (the same once closed or cancelled); kind sweep is the
-- scheduled sweep's login.  Shipped data, recreated by CREATE EXTENSION and
-- not dumped; a tenant changes its rights in tenant_event_rights (below).
CREATE TABLE aftersales.event_rights (
    kind              text    NOT NULL CHECK (kind = 'sweep' OR kind::aftersales.member_kind IS NOT NULL),
    event             text    NOT NULL CHECK (event ~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$'
                                              OR event IN ('edit', 'edit_closed')
                                              OR aftersales_internal.value_listed('aftersales.ticket_event', event)),
    own_tickets_only  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (kind, event)
);
COMMENT ON TABLE aftersales.event_rights IS
  'The events each kind of member may fire on a ticket (edit: a plain change of free fields; edit_closed: after close); no row, no right';
COMMENT ON COLUMN aftersales.event_rights.kind IS 'Member kind, or sweep for the scheduled sweep';
COMMENT ON COLUMN aftersales.event_rights.event IS 'Event of the closed loop, edit or edit_closed; <machine>.<event> for the events of the service modules'' objects (aftersales.state_transitions)';
COMMENT ON COLUMN aftersales.event_rights.own_tickets_only IS 'Only on tickets assigned to the member''s engineer row (for a module''s object: whose engineer_id is theirs)';
INSERT INTO aftersales.event_rights (kind, event, own_tickets_only)
SELECT 'admin', e::text, false FROM pg_catalog.unnest(pg_catalog.enum_range(NULL::aftersales.ticket_event)) e
 WHERE e::text OPERATOR(pg_catalog.<>) 'edit'   -- the right to edit is edit and edit_closed, below
UNION ALL VALUES ('admin', 'edit', false), ('admin', 'edit_closed', false)
UNION ALL
SELECT 'manager', e, false
  FROM pg_catalog.unnest(ARRAY['open', 'assign', 'reassign', 'take_over', 'release', 'hold', 'resume', 'transfer',
                               'follow_up', 'cancel', 'reopen', 'lock', 'unlock', 'retarget', 'acknowledge',
                               'edit', 'edit_closed']) e
UNION ALL
SELECT 'agent', e, false
  FROM pg_catalog.unnest(ARRAY['open', 'assign', 'reassign', 'hold', 'resume', 'follow_up', 'cancel', 'reopen',
                               'edit']) e
UNION ALL
SELECT 'engineer', e, true
  FROM pg_catalog.unnest(ARRAY['start', 'arrive', 'resolve', 'fail', 'release', 'hold', 'resume']) e
UNION ALL VALUES ('sweep', 'lock', false);

-- A tenant's own rights: a row grants (allowed) or withdraws (not allowed)
-- one kind's right to one event in that tenant, in place of the shipped
-- row of event_rights.  The tenant's data, so dumped (event_rights itself
-- is recreated by CREATE EXTENSION).  Its events are those the shipped
-- table knows, checked by the trigger below so that events added there
-- (modules' '<machine>.<event>') are accepted here without a change.
CREATE TABLE aftersales.tenant_event_rights (
    tenant_id         bigint  NOT NULL DEFAULT aftersales.current_tenant()
                              REFERENCES aftersales.tenants,
    kind              text    NOT NULL CHECK (kind = 'sweep' OR kind::aftersales.member_kind IS NOT NULL),
    event             text    NOT NULL,
    allowed           boolean NOT NULL,
    own_tickets_only  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, kind, event)
);
COMMENT ON TABLE aftersales.tenant_event_rights IS
  'A tenant''s changes to the shipped rights of aftersales.event_rights: each row grants or withdraws one kind''s right to fire one event in the tenant';
COMMENT ON COLUMN aftersales.tenant_event_rights.tenant_id IS 'Tenant the change applies to';
COMMENT ON COLUMN aftersales.tenant_event_rights.kind IS 'Member kind, or sweep for the scheduled sweep';
COMMENT ON COLUMN aftersales.tenant_event_rights.event IS 'An event of aftersales.event_rights (edit and edit_closed included)';
COMMENT ON COLUMN aftersales.tenant_event_rights.allowed IS 'True: the kind may fire the event in this tenant; false: it may not, whatever event_rights says';
COMMENT ON COLUMN aftersales.tenant_event_rights.own_tickets_only IS 'Only on tickets assigned to the member''s engineer row';
SELECT pg_catalog.pg_extension_config_dump('aftersales.tenant_event_rights', '');

CREATE FUNCTION aftersales_internal.tenant_event_rights_check() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM aftersales.event_rights r WHERE r.event OPERATOR(pg_catalog.=) NEW.event) THEN
        RAISE EXCEPTION 'unknown event: "%"', pg_catalog.left(NEW.event, 60)
            USING ERRCODE = '22023',
                  DETAIL = 'A tenant changes the rights to the events aftersales.event_rights knows.',
                  HINT = 'List them with: SELECT DISTINCT event FROM aftersales.event_rights ORDER BY 1;';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION aftersales_internal.tenant_event_rights_check() IS
  'Trigger, before each INSERT or UPDATE of tenant_event_rights: the event is one event_rights knows';
CREATE TRIGGER tenant_event_rights_check BEFORE INSERT OR UPDATE ON aftersales.tenant_event_rights
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.tenant_event_rights_check();

-- ---------------------------------------------------------------------------
-- The caller (C, src/access.c)

-- The caller is resolved once per transaction and kept (src/access.c); a
-- change of members or organisations in the transaction resolves it again.
CREATE FUNCTION aftersales_internal.access_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'aftersales_access_changed' LANGUAGE C;
COMMENT ON FUNCTION aftersales_internal.access_changed() IS
  'Trigger, after each statement changing members or organisations: the caller kept for the transaction is resolved again';
CREATE TRIGGER access_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aftersales.members
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales_internal.access_changed();
CREATE TRIGGER access_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON aftersales.organisations
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales_internal.access_changed();

CREATE FUNCTION aftersales.current_org_scope() RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'aftersales_current_org_scope' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.current_org_scope() IS
  'The organisations the caller sees (their organisation and everything below); NULL for the whole tenant (HQ members, superusers)';

CREATE FUNCTION aftersales.current_member_kind() RETURNS text
    AS 'MODULE_PATHNAME', 'aftersales_current_member_kind' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.current_member_kind() IS
  'The caller''s kind of member (admin, manager, agent, engineer, analyst, auditor; sweep for the sweep''s login); NULL for superusers';

CREATE FUNCTION aftersales.whoami(OUT tenant_id bigint, OUT member text, OUT kind text, OUT via text,
                                  OUT org_id bigint, OUT engineer_id bigint)
    AS 'MODULE_PATHNAME', 'aftersales_whoami' LANGUAGE C STABLE;
COMMENT ON FUNCTION aftersales.whoami() IS
  'The caller as access control sees it: tenant, member name, kind (superuser for superusers), via login or app, scope organisation, engineer row';

-- ---------------------------------------------------------------------------
-- Grants per kind.  Reading is the same for every kind but the analyst
-- (no customers' personal data, no members, no sweep runs; the KPIs read
-- the event log, so analysts do too); writing is what each
-- kind's events and work need.  The logs (ticket_events, ticket_sla,
-- escalation_watches, occurrences) are written by the extension's own
-- triggers, as their owner: nobody is granted INSERT, UPDATE or DELETE.
-- Row-level security (95_row_security.sql) then limits every grant to the
-- caller's tenant and organisation scope.
GRANT USAGE ON SCHEMA aftersales TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer,
                                   aftersales_analyst, aftersales_auditor, aftersales_app, aftersales_sweep;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT c.relname FROM pg_catalog.pg_class c
              WHERE c.relnamespace = 'aftersales'::regnamespace AND c.relkind IN ('r', 'v', 'p')
                AND c.relname <> 'customers' LOOP
        EXECUTE pg_catalog.format('GRANT SELECT ON aftersales.%I TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer, aftersales_auditor', t.relname);
        IF t.relname NOT IN ('members', 'sweep_runs', 'sample_data_runs') THEN
            EXECUTE pg_catalog.format('GRANT SELECT ON aftersales.%I TO aftersales_analyst', t.relname);
        END IF;
    END LOOP;
END
$$;
GRANT SELECT ON aftersales.customers TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer,
                                        aftersales_auditor;
-- Analysts: customers without contact names, phones, e-mails and addresses.
GRANT SELECT (tenant_id, customer_id, name, tier, region, province, city, org_id, created_at)
    ON aftersales.customers TO aftersales_analyst;

-- Tickets: entered by agents and managers, moved by events.
GRANT INSERT ON aftersales.tickets TO aftersales_admin, aftersales_manager, aftersales_agent;
GRANT UPDATE ON aftersales.tickets TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer;
-- Alerts: acknowledged and raised by managers.
GRANT INSERT, UPDATE ON aftersales.alerts TO aftersales_admin, aftersales_manager;
GRANT UPDATE ON aftersales.ticket_escalations TO aftersales_admin, aftersales_manager;
-- Agents register customers and their units.
GRANT INSERT, UPDATE ON aftersales.customers, aftersales.units TO aftersales_admin, aftersales_agent, aftersales_manager;
-- Admins: the tenant's configuration and its people.
GRANT INSERT, UPDATE, DELETE ON aftersales.organisations, aftersales.engineers, aftersales.product_lines,
    aftersales.product_models, aftersales.problem_types, aftersales.sla_policies, aftersales.sla_targets,
    aftersales.service_agreements, aftersales.calendars, aftersales.kpi_settings, aftersales.kpi_catalogue,
    aftersales.escalation_rules, aftersales.members, aftersales.tenant_event_rights
    TO aftersales_admin;
-- and the zone its KPI periods are cut in (set_reporting_zone)
GRANT INSERT, UPDATE ON aftersales.reporting_zones TO aftersales_admin;

-- An application pool acts for agents, engineers, managers, analysts and
-- auditors (not admins): it holds their privileges, and the guard and the
-- policies narrow them to the asserted user's kind and scope.
GRANT aftersales_manager, aftersales_agent, aftersales_engineer, aftersales_analyst, aftersales_auditor
    TO aftersales_app;

-- The sweep: reads the clocks and watches, raises alerts, locks tickets.
GRANT SELECT ON aftersales.tickets, aftersales.ticket_sla, aftersales.escalation_rules, aftersales.calendars,
    aftersales.customers, aftersales.tenants, aftersales.escalation_rules_effective
    TO aftersales_sweep;
GRANT SELECT, UPDATE ON aftersales.escalation_watches, aftersales.ticket_escalations TO aftersales_sweep;
GRANT SELECT, INSERT, UPDATE ON aftersales.alerts, aftersales.ticket_escalations TO aftersales_sweep;
GRANT SELECT, INSERT, UPDATE, DELETE ON aftersales.sweep_runs TO aftersales_sweep;
GRANT UPDATE ON aftersales.tickets TO aftersales_sweep;
GRANT EXECUTE ON FUNCTION aftersales.sweep(integer, timestamptz, bigint) TO aftersales_sweep;
GRANT EXECUTE ON PROCEDURE aftersales.sweep_until_done(integer, integer, bigint) TO aftersales_sweep;
GRANT EXECUTE ON FUNCTION aftersales.prune_sweep_runs(timestamptz, bigint) TO aftersales_sweep;
-- The sweep's internal steps and the checks of what it writes, which run
-- with its rights.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = 'aftersales_internal'::regnamespace
                AND p.proname IN ('sweep_claimed', 'sweep_lock', 'sweep_error', 'set_sweep_locking', 'watch_stages', 'next_check',
                                  'sweep_tenants', 'sweep_each_tenant',
                                  'clock_add', 'clock_diff', 'escalation_watches_row_check')
              ORDER BY 1 LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO aftersales_sweep', f);
    END LOOP;
END
$$;
