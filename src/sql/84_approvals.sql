
-- aftersales install script, part 84 (continued): internal approvals
-- (流程中心).  One approval engine for the product: a request of a kind
-- (part order, warranty claim, fee waiver, complaint compensation,
-- internal request 内联单) from one organisation (and department) to an
-- approving department, due on the approver's business calendar, decided
-- by a member of that department.  Its life is machine 'approval' of the
-- generic state engine (submitted, then approved, rejected or withdrawn),
-- logged in aftersales.approval_events.  It is delayed when decided after
-- its due time, or still pending past it.  Pending approvals per
-- organisation over a warning line (default 20) raise an alert once per
-- crossing, through aftersales.sweep_approvals().

CREATE TYPE aftersales.approval_kind AS ENUM
    ('part_order', 'warranty_claim', 'fee_waiver', 'complaint_compensation', 'internal_request');
COMMENT ON TYPE aftersales.approval_kind IS
  'What an approval decides: part_order, warranty_claim, fee_waiver, complaint_compensation or internal_request (内联单)';

CREATE TABLE aftersales.departments (
    tenant_id      bigint NOT NULL DEFAULT aftersales.current_tenant()
                          REFERENCES aftersales.tenants,
    department_id  bigint GENERATED ALWAYS AS IDENTITY,
    org_id         bigint NOT NULL,
    code           text   NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{0,62}$'),
    name           text   NOT NULL CHECK (name <> ''),
    calendar       text   NOT NULL DEFAULT '24x7',
    PRIMARY KEY (tenant_id, department_id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id, org_id) REFERENCES aftersales.organisations (tenant_id, org_id),
    FOREIGN KEY (tenant_id, calendar) REFERENCES aftersales.calendars (tenant_id, name)
);
COMMENT ON TABLE aftersales.departments IS
  'Departments that submit and approve internal requests (客服中心, 质量保证部 ...), each in an organisation, with the business calendar its approvals are due on';
COMMENT ON COLUMN aftersales.departments.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.departments.department_id IS 'Department id';
COMMENT ON COLUMN aftersales.departments.org_id IS 'Organisation the department belongs to';
COMMENT ON COLUMN aftersales.departments.code IS 'Code, unique per tenant (customer_service, quality_assurance)';
COMMENT ON COLUMN aftersales.departments.name IS 'Name';
COMMENT ON COLUMN aftersales.departments.calendar IS 'Business calendar the department''s approvals are due on';

CREATE TABLE aftersales.department_members (
    tenant_id      bigint NOT NULL DEFAULT aftersales.current_tenant(),
    department_id  bigint NOT NULL,
    member         text   NOT NULL CHECK (member <> ''),
    PRIMARY KEY (tenant_id, department_id, member),
    FOREIGN KEY (tenant_id, department_id) REFERENCES aftersales.departments (tenant_id, department_id) ON DELETE CASCADE
);
COMMENT ON TABLE aftersales.department_members IS 'Who may decide a department''s approvals: member names (aftersales.members, or the acting identity)';
COMMENT ON COLUMN aftersales.department_members.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.department_members.department_id IS 'Department';
COMMENT ON COLUMN aftersales.department_members.member IS 'Member name, as the event log records the actor';

CREATE TABLE aftersales.approval_targets (
    tenant_id      bigint   NOT NULL DEFAULT aftersales.current_tenant()
                            REFERENCES aftersales.tenants,
    kind           aftersales.approval_kind NOT NULL,
    department_id  bigint   NOT NULL,
    due_within     interval NOT NULL CHECK (due_within > '0'::interval AND EXTRACT(DAY FROM due_within) = 0
                                            AND EXTRACT(MONTH FROM due_within) = 0 AND EXTRACT(YEAR FROM due_within) = 0),
    PRIMARY KEY (tenant_id, kind, department_id),
    FOREIGN KEY (tenant_id, department_id) REFERENCES aftersales.departments (tenant_id, department_id) ON DELETE CASCADE
);
COMMENT ON TABLE aftersales.approval_targets IS
  'Business time an approving department has to decide a kind of approval; without a row, 8 business hours';
COMMENT ON COLUMN aftersales.approval_targets.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.approval_targets.kind IS 'Kind of approval';
COMMENT ON COLUMN aftersales.approval_targets.department_id IS 'Approving department';
COMMENT ON COLUMN aftersales.approval_targets.due_within IS 'Business time allowed from submission, in hours and minutes, on the department''s calendar';

CREATE TABLE aftersales.approval_settings (
    tenant_id     bigint  NOT NULL PRIMARY KEY REFERENCES aftersales.tenants,
    warning_line  integer NOT NULL CHECK (warning_line > 0)
);
COMMENT ON TABLE aftersales.approval_settings IS 'Per tenant: the warning line of pending approvals per organisation (default 20 without a row)';
COMMENT ON COLUMN aftersales.approval_settings.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.approval_settings.warning_line IS 'Pending approvals of one organisation at which an alert is raised';

CREATE TABLE aftersales.approvals (
    tenant_id           bigint        NOT NULL DEFAULT aftersales.current_tenant()
                                      REFERENCES aftersales.tenants,
    approval_id         bigint        GENERATED ALWAYS AS IDENTITY,
    kind                aftersales.approval_kind NOT NULL,
    org_id              bigint        NOT NULL,
    from_department_id  bigint,
    department_id       bigint        NOT NULL,
    subject             text          NOT NULL CHECK (pg_catalog.btrim(subject) <> ''),
    ref_id              bigint,
    ticket_id           bigint,
    amount              numeric(12,2) CHECK (amount >= 0),
    submitted_at        timestamptz   NOT NULL,
    due_at              timestamptz   NOT NULL,
    decided_at          timestamptz,
    decided_by          text,
    delayed             boolean,
    state               text          NOT NULL DEFAULT 'submitted'
                                      CHECK (state IN ('submitted', 'approved', 'rejected', 'withdrawn')),
    event               text,
    event_at            timestamptz,
    event_by            text,
    event_reason        text,
    event_seq           integer       NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, approval_id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES aftersales.organisations (tenant_id, org_id),
    FOREIGN KEY (tenant_id, from_department_id) REFERENCES aftersales.departments (tenant_id, department_id),
    FOREIGN KEY (tenant_id, department_id) REFERENCES aftersales.departments (tenant_id, department_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    CHECK (due_at >= submitted_at),
    CHECK ((state IN ('approved', 'rejected')) = (decided_at IS NOT NULL AND decided_by IS NOT NULL AND delayed IS NOT NULL))
);
CREATE INDEX approvals_pending_idx ON aftersales.approvals (tenant_id, org_id) WHERE state = 'submitted';
CREATE INDEX approvals_department_idx ON aftersales.approvals (tenant_id, department_id, submitted_at);
COMMENT ON TABLE aftersales.approvals IS
  'Internal approvals (审批): a request of a kind from an organisation to an approving department, held to machine approval of aftersales.state_transitions (submitted, then approved, rejected or withdrawn)';
COMMENT ON COLUMN aftersales.approvals.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.approvals.approval_id IS 'Approval id';
COMMENT ON COLUMN aftersales.approvals.kind IS 'part_order, warranty_claim, fee_waiver, complaint_compensation or internal_request';
COMMENT ON COLUMN aftersales.approvals.org_id IS 'Requesting organisation (row security scopes by it; the pending count per organisation counts it)';
COMMENT ON COLUMN aftersales.approvals.from_department_id IS 'Requesting department, if any';
COMMENT ON COLUMN aftersales.approvals.department_id IS 'Approving department';
COMMENT ON COLUMN aftersales.approvals.subject IS 'What is asked';
COMMENT ON COLUMN aftersales.approvals.ref_id IS 'The object decided on in its own module (a part order, a complaint ...), if any';
COMMENT ON COLUMN aftersales.approvals.ticket_id IS 'Ticket concerned, if any';
COMMENT ON COLUMN aftersales.approvals.amount IS 'Amount asked for, if any';
COMMENT ON COLUMN aftersales.approvals.submitted_at IS 'When it was submitted';
COMMENT ON COLUMN aftersales.approvals.due_at IS 'When the decision is due (approval_targets on the department''s calendar)';
COMMENT ON COLUMN aftersales.approvals.decided_at IS 'When it was approved or rejected';
COMMENT ON COLUMN aftersales.approvals.decided_by IS 'Who decided';
COMMENT ON COLUMN aftersales.approvals.delayed IS 'Decided after its due time; NULL until decided (pending ones are judged as of now in the views)';
COMMENT ON COLUMN aftersales.approvals.state IS 'submitted, approved, rejected or withdrawn';
COMMENT ON COLUMN aftersales.approvals.event IS 'Latest event (submit, approve, reject, withdraw)';
COMMENT ON COLUMN aftersales.approvals.event_at IS 'When the latest event happened';
COMMENT ON COLUMN aftersales.approvals.event_by IS 'Who made it';
COMMENT ON COLUMN aftersales.approvals.event_reason IS 'Why';
COMMENT ON COLUMN aftersales.approvals.event_seq IS 'Number of events so far';

CREATE TABLE aftersales.approval_events (
    tenant_id    bigint      NOT NULL,
    approval_id  bigint      NOT NULL,
    seq          integer     NOT NULL CHECK (seq > 0),
    event        text        NOT NULL,
    from_state   text        NOT NULL,
    to_state     text        NOT NULL,
    actor        text        NOT NULL,
    at           timestamptz NOT NULL,
    reason       text,
    changes      jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, approval_id, seq),
    FOREIGN KEY (tenant_id, approval_id) REFERENCES aftersales.approvals (tenant_id, approval_id)
);
COMMENT ON TABLE aftersales.approval_events IS 'Event log of approvals, append-only, written by the state engine';
COMMENT ON COLUMN aftersales.approval_events.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.approval_events.approval_id IS 'Approval';
COMMENT ON COLUMN aftersales.approval_events.seq IS 'Event number within the approval, from 1';
COMMENT ON COLUMN aftersales.approval_events.event IS 'submit, approve, reject or withdraw';
COMMENT ON COLUMN aftersales.approval_events.from_state IS 'State before; empty when submitted';
COMMENT ON COLUMN aftersales.approval_events.to_state IS 'State after';
COMMENT ON COLUMN aftersales.approval_events.actor IS 'Who';
COMMENT ON COLUMN aftersales.approval_events.at IS 'When';
COMMENT ON COLUMN aftersales.approval_events.reason IS 'Why';
COMMENT ON COLUMN aftersales.approval_events.changes IS 'Changed columns: {"column": [old, new]}';
CREATE TRIGGER approval_events_append_only
    BEFORE UPDATE OR DELETE ON aftersales.approval_events
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.append_only('Record a new event instead, for example: SELECT aftersales.withdraw_approval(7, reason => ''submitted twice'');');

INSERT INTO aftersales.state_transitions (machine, from_state, event, to_state, needs_reason)
VALUES ('approval', '', 'submit', 'submitted', false),
       ('approval', 'submitted', 'approve', 'approved', false),
       ('approval', 'submitted', 'reject', 'rejected', true),
       ('approval', 'submitted', 'withdraw', 'withdrawn', true);

-- What a decision implies, whatever wrote the row; runs after the engine's
-- guard ("zz" sorts after state_guard): the event is judged and its actor,
-- the authenticated identity, recorded in event_by.
CREATE FUNCTION aftersales_internal.approval_decision() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    who constant text := NEW.event_by;
    d aftersales.departments;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.event IN ('approve', 'reject') THEN
        IF NOT EXISTS (SELECT FROM aftersales.department_members m
                        WHERE m.tenant_id OPERATOR(pg_catalog.=) NEW.tenant_id
                          AND m.department_id OPERATOR(pg_catalog.=) NEW.department_id
                          AND m.member OPERATOR(pg_catalog.=) who) THEN
            SELECT * INTO d FROM aftersales.departments x
             WHERE x.tenant_id OPERATOR(pg_catalog.=) NEW.tenant_id AND x.department_id OPERATOR(pg_catalog.=) NEW.department_id;
            RAISE EXCEPTION '"%" is not a member of department % (%), which decides approval %', who, d.code, d.name, NEW.approval_id
                USING ERRCODE = '42501',
                      DETAIL = 'Only the approving department''s members may approve or reject.',
                      HINT = pg_catalog.format('Ask a member: SELECT member FROM aftersales.department_members WHERE department_id = %s;',
                                               d.department_id);
        END IF;
        NEW.decided_at := NEW.event_at;
        NEW.decided_by := who;
        NEW.delayed := NEW.event_at > NEW.due_at;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION aftersales_internal.approval_decision() IS
  'Trigger: a decision is made by a member of the approving department (whatever wrote the row), and records when, by whom, and whether it came after the due time';
CREATE TRIGGER state_guard
    BEFORE INSERT OR UPDATE ON aftersales.approvals
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.state_guard('approval', 'approval_id', 'aftersales.approval_events');
CREATE TRIGGER zz_approval_decision
    BEFORE UPDATE ON aftersales.approvals
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.approval_decision();
CREATE TRIGGER state_log
    AFTER INSERT OR UPDATE ON aftersales.approvals
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.state_log('approval', 'approval_id', 'aftersales.approval_events');

-- The warning line: one watch row per organisation that remembers whether
-- it is over the line, and the alerts it raised, once per crossing.
CREATE TABLE aftersales.approval_watches (
    tenant_id  bigint  NOT NULL,
    org_id     bigint  NOT NULL,
    over_line  boolean NOT NULL DEFAULT false,
    crossings  integer NOT NULL DEFAULT 0 CHECK (crossings >= 0),
    PRIMARY KEY (tenant_id, org_id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES aftersales.organisations (tenant_id, org_id)
);
COMMENT ON TABLE aftersales.approval_watches IS
  'Per organisation, kept by aftersales.sweep_approvals(): whether its pending approvals are over the warning line, and how many times they crossed it';
COMMENT ON COLUMN aftersales.approval_watches.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.approval_watches.org_id IS 'Organisation';
COMMENT ON COLUMN aftersales.approval_watches.over_line IS 'Over the line at the latest sweep';
COMMENT ON COLUMN aftersales.approval_watches.crossings IS 'Crossings so far (each raised one alert)';

CREATE TABLE aftersales.approval_alerts (
    tenant_id        bigint      NOT NULL,
    alert_id         bigint      GENERATED ALWAYS AS IDENTITY,
    org_id           bigint      NOT NULL,
    crossing         integer     NOT NULL CHECK (crossing > 0),
    pending          bigint      NOT NULL,
    warning_line     integer     NOT NULL,
    raised_at        timestamptz NOT NULL,
    acknowledged_at  timestamptz,
    acknowledged_by  text,
    PRIMARY KEY (tenant_id, alert_id),
    CONSTRAINT approval_alerts_once UNIQUE (tenant_id, org_id, crossing),
    FOREIGN KEY (tenant_id, org_id) REFERENCES aftersales.organisations (tenant_id, org_id),
    CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL))
);
COMMENT ON TABLE aftersales.approval_alerts IS
  'Outbox of warning-line alerts: an organisation''s pending approvals reached the warning line, one row per crossing; announced by NOTIFY aftersales_alerts';
COMMENT ON COLUMN aftersales.approval_alerts.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.approval_alerts.alert_id IS 'Alert id';
COMMENT ON COLUMN aftersales.approval_alerts.org_id IS 'Organisation over the line';
COMMENT ON COLUMN aftersales.approval_alerts.crossing IS 'Which crossing of the line (1, 2, ...)';
COMMENT ON COLUMN aftersales.approval_alerts.pending IS 'Pending approvals when raised';
COMMENT ON COLUMN aftersales.approval_alerts.warning_line IS 'The line then';
COMMENT ON COLUMN aftersales.approval_alerts.raised_at IS 'When the sweep raised it';
COMMENT ON COLUMN aftersales.approval_alerts.acknowledged_at IS 'When acknowledged';
COMMENT ON COLUMN aftersales.approval_alerts.acknowledged_by IS 'Who acknowledged it';

-- ---------------------------------------------------------------------------
-- The API

CREATE FUNCTION aftersales.approval_warning_line(tenant bigint DEFAULT aftersales.current_tenant()) RETURNS integer
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- a tenant the caller cannot see is unknown, not one with the default line
    IF tenant IS NULL OR NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = approval_warning_line.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', COALESCE(tenant::text, 'NULL')
            USING ERRCODE = 'P0002',
                  HINT = 'Name a tenant of aftersales.tenants, or leave it out for the current one: SELECT aftersales.approval_warning_line();';
    END IF;
    RETURN COALESCE((SELECT s.warning_line FROM aftersales.approval_settings s WHERE s.tenant_id = approval_warning_line.tenant), 20);
END
$$;
COMMENT ON FUNCTION aftersales.approval_warning_line(bigint) IS
  'The warning line of pending approvals per organisation of a tenant (20 unless set); a tenant the caller cannot see is refused';

CREATE FUNCTION aftersales.set_approval_warning_line(line integer, tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF line IS NULL OR line <= 0 THEN
        PERFORM aftersales_internal.complaint_error(pg_catalog.format('invalid warning line %s', COALESCE(line::text, 'NULL')),
            'The line is a positive number of pending approvals, for example: SELECT aftersales.set_approval_warning_line(20);');
    END IF;
    IF tenant IS NULL OR NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = tenant) THEN
        PERFORM aftersales_internal.complaint_error(pg_catalog.format('tenant %s does not exist', COALESCE(tenant::text, 'NULL')),
            'Name a tenant of aftersales.tenants, or leave it out for the current one: SELECT aftersales.set_approval_warning_line(20);',
            'P0002');
    END IF;
    INSERT INTO aftersales.approval_settings AS s (tenant_id, warning_line) VALUES (tenant, line)
    ON CONFLICT (tenant_id) DO UPDATE SET warning_line = EXCLUDED.warning_line;
    RETURN line;
END
$$;
COMMENT ON FUNCTION aftersales.set_approval_warning_line(integer, bigint) IS 'Sets a tenant''s warning line of pending approvals per organisation; returns it';

CREATE FUNCTION aftersales.set_approval_target(kind text, department text, due_within interval)
    RETURNS interval
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    dep bigint;
BEGIN
    IF kind IS NULL OR NOT aftersales_internal.value_listed('aftersales.approval_kind', kind) THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('unknown approval kind "%s"', COALESCE(aftersales_internal.cut(kind), 'NULL')),
            pg_catalog.format('Kinds: %s; for example: SELECT aftersales.set_approval_target(''part_order'', ''quality_assurance'', ''4 hours'');',
                              aftersales_internal.value_list('aftersales.approval_kind')));
    END IF;
    SELECT d.department_id INTO dep FROM aftersales.departments d WHERE d.tenant_id = tenant AND d.code = department;
    IF dep IS NULL THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('department "%s" does not exist for tenant %s', COALESCE(aftersales_internal.cut(department), 'NULL'), tenant),
            'List them with: SELECT code, name FROM aftersales.departments;', 'P0002');
    END IF;
    IF due_within IS NULL OR due_within <= '0'::interval OR EXTRACT(DAY FROM due_within) <> 0
       OR EXTRACT(MONTH FROM due_within) <> 0 OR EXTRACT(YEAR FROM due_within) <> 0 THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('invalid approval target %s', COALESCE(due_within::text, 'NULL')),
            'A target is positive business hours and minutes (no days), for example: SELECT aftersales.set_approval_target(''part_order'', ''quality_assurance'', ''16 hours'');');
    END IF;
    INSERT INTO aftersales.approval_targets AS t (tenant_id, kind, department_id, due_within)
    VALUES (tenant, kind::aftersales.approval_kind, dep, due_within)
    ON CONFLICT ON CONSTRAINT approval_targets_pkey DO UPDATE SET due_within = EXCLUDED.due_within;
    RETURN due_within;
END
$$;
COMMENT ON FUNCTION aftersales.set_approval_target(text, text, interval) IS
  'Sets the business time a department has to decide a kind of approval (upsert); applies to approvals submitted afterwards';

-- The approving department, by code, for any member of the caller's
-- tenant: a department belongs to an organisation, so row security hides
-- it outside the caller's scope, yet an outlet's requests go to
-- departments elsewhere, above all at headquarters.  A definer, held to the
-- caller's own tenant (current_tenant() resolves the session's caller).
CREATE FUNCTION aftersales_internal.approving_department(code text)
    RETURNS aftersales.departments
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT d.* FROM aftersales.departments d
     WHERE d.tenant_id OPERATOR(pg_catalog.=) aftersales.current_tenant()
       AND d.code OPERATOR(pg_catalog.=) approving_department.code
$$;
COMMENT ON FUNCTION aftersales_internal.approving_department(text) IS
  'Internal: the department of the caller''s tenant with this code, whatever its organisation (SECURITY DEFINER; the approval API''s submitters only)';

CREATE FUNCTION aftersales.submit_approval(kind text, department text, subject text, org bigint DEFAULT NULL,
                                           from_department text DEFAULT NULL, ref bigint DEFAULT NULL,
                                           ticket bigint DEFAULT NULL, amount numeric DEFAULT NULL,
                                           at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    example constant text := 'SELECT aftersales.submit_approval(''internal_request'', ''quality_assurance'', ''re-test batch 7'', org => 12);';
    d aftersales.departments;
    fd bigint;
    v_org bigint := org;
    within interval;
    id bigint;
BEGIN
    IF kind IS NULL OR NOT aftersales_internal.value_listed('aftersales.approval_kind', kind) THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('unknown approval kind "%s"', COALESCE(aftersales_internal.cut(kind), 'NULL')),
            pg_catalog.format('Kinds: %s; for example: %s', aftersales_internal.value_list('aftersales.approval_kind'), example));
    END IF;
    d := aftersales_internal.approving_department(department);
    IF d.department_id IS NULL THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('department "%s" does not exist for tenant %s', COALESCE(aftersales_internal.cut(department), 'NULL'), tenant),
            'Name the approving department by its code: SELECT code, name FROM aftersales.departments;', 'P0002');
    END IF;
    IF from_department IS NOT NULL THEN
        SELECT x.department_id, COALESCE(v_org, x.org_id) INTO fd, v_org FROM aftersales.departments x
         WHERE x.tenant_id = tenant AND x.code = from_department;
        IF fd IS NULL THEN
            PERFORM aftersales_internal.complaint_error(
                pg_catalog.format('department "%s" does not exist for tenant %s', aftersales_internal.cut(from_department), tenant),
                'Name the requesting department by its code: SELECT code, name FROM aftersales.departments;', 'P0002');
        END IF;
    END IF;
    IF ticket IS NOT NULL AND v_org IS NULL THEN
        SELECT t.org_id INTO v_org FROM aftersales.tickets t WHERE t.tenant_id = tenant AND t.ticket_id = ticket;
    END IF;
    IF v_org IS NULL THEN
        PERFORM aftersales_internal.complaint_error('an approval needs a requesting organisation',
            'Name it, a requesting department or a ticket with one, for example: ' || example, '22004');
    END IF;
    IF subject IS NULL OR pg_catalog.btrim(subject) = '' THEN
        PERFORM aftersales_internal.complaint_error('an approval needs a subject', 'Say what is asked, for example: ' || example, '22004');
    END IF;
    IF at IS NULL OR NOT pg_catalog.isfinite(at) THEN
        PERFORM aftersales_internal.complaint_error(pg_catalog.format('invalid submission time %s', COALESCE(at::text, 'NULL')),
            'Give a finite time, for example: ' || example, '22008');
    END IF;
    SELECT t.due_within INTO within FROM aftersales.approval_targets t
     WHERE t.tenant_id = tenant AND t.kind = submit_approval.kind::aftersales.approval_kind AND t.department_id = d.department_id;
    INSERT INTO aftersales.approvals AS a (tenant_id, kind, org_id, from_department_id, department_id, subject, ref_id, ticket_id,
                                           amount, submitted_at, due_at, event, event_at)
    VALUES (tenant, kind::aftersales.approval_kind, v_org, fd, d.department_id, pg_catalog.btrim(subject), ref, ticket, amount, at,
            aftersales.business_add(aftersales.get_calendar(d.calendar, tenant), at, COALESCE(within, interval '8 hours')),
            'submit', at)
    RETURNING a.approval_id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION aftersales.submit_approval(text, text, text, bigint, text, bigint, bigint, numeric, timestamptz) IS
  'Submits an approval of a kind to an approving department (by code), from an organisation (given, else the requesting department''s, else the ticket''s); due after the kind''s target (8 business hours without one) on the department''s calendar; returns its id';

CREATE FUNCTION aftersales_internal.approval_event(approval bigint, event text, at timestamptz, reason text)
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    st text;
BEGIN
    UPDATE aftersales.approvals x
       SET event = approval_event.event, event_at = at, event_seq = x.event_seq + 1, event_by = NULL,
           event_reason = NULLIF(pg_catalog.btrim(reason), '')
     WHERE x.tenant_id = tenant AND x.approval_id = approval
    RETURNING x.state INTO st;
    IF NOT FOUND THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('approval %s does not exist for tenant %s', COALESCE(approval::text, 'NULL'), tenant),
            'List the pending ones with: SELECT approval_id, kind, subject FROM aftersales.approvals WHERE state = ''submitted'';', 'P0002');
    END IF;
    RETURN st;
END
$$;
COMMENT ON FUNCTION aftersales_internal.approval_event(bigint, text, timestamptz, text) IS
  'Internal: fires one event on an approval (one UPDATE, judged by the state engine and the decision trigger); returns the new state';

CREATE FUNCTION aftersales.grant_approval(approval bigint, note text DEFAULT NULL, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT aftersales_internal.approval_event(approval, 'approve', at, note)
$$;
COMMENT ON FUNCTION aftersales.grant_approval(bigint, text, timestamptz) IS
  'Approves a submitted approval (a member of the approving department); returns its state';

CREATE FUNCTION aftersales.reject_approval(approval bigint, reason text, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT aftersales_internal.approval_event(approval, 'reject', at, reason)
$$;
COMMENT ON FUNCTION aftersales.reject_approval(bigint, text, timestamptz) IS
  'Rejects a submitted approval with a reason (a member of the approving department); returns its state';

CREATE FUNCTION aftersales.withdraw_approval(approval bigint, reason text, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT aftersales_internal.approval_event(approval, 'withdraw', at, reason)
$$;
COMMENT ON FUNCTION aftersales.withdraw_approval(bigint, text, timestamptz) IS
  'The requester withdraws a submitted approval, with a reason; returns its state';

-- The warning line, swept: per organisation, pending approvals against the
-- line; a crossing from below raises one alert.  Each organisation's watch
-- row is locked while it is judged, so that two sweeps at once raise one
-- alert (the second sees over_line already set); the alert's unique key
-- (organisation, crossing) guards the same thing in the database.
CREATE FUNCTION aftersales.sweep_approvals(now timestamptz DEFAULT aftersales.now(),
                                           tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    line constant integer := aftersales.approval_warning_line(tenant);
    o record;
    w aftersales.approval_watches;
    pending bigint;
    aid bigint;
    raised integer := 0;
BEGIN
    INSERT INTO aftersales.approval_watches (tenant_id, org_id)
    SELECT DISTINCT a.tenant_id, a.org_id FROM aftersales.approvals a WHERE a.tenant_id = tenant AND a.state = 'submitted'
    ON CONFLICT DO NOTHING;
    FOR o IN SELECT x.org_id FROM aftersales.approval_watches x WHERE x.tenant_id = tenant ORDER BY x.org_id LOOP
        SELECT * INTO w FROM aftersales.approval_watches x WHERE x.tenant_id = tenant AND x.org_id = o.org_id FOR UPDATE;
        SELECT pg_catalog.count(*) INTO pending FROM aftersales.approvals a
         WHERE a.tenant_id = tenant AND a.org_id = o.org_id AND a.state = 'submitted' AND a.submitted_at <= now;
        IF pending >= line AND NOT w.over_line THEN
            UPDATE aftersales.approval_watches x SET over_line = true, crossings = x.crossings + 1
             WHERE x.tenant_id = tenant AND x.org_id = o.org_id;
            INSERT INTO aftersales.approval_alerts AS al (tenant_id, org_id, crossing, pending, warning_line, raised_at)
            VALUES (tenant, o.org_id, w.crossings + 1, pending, line, now)
            ON CONFLICT ON CONSTRAINT approval_alerts_once DO NOTHING
            RETURNING al.alert_id INTO aid;
            IF aid IS NOT NULL THEN
                raised := raised + 1;
                PERFORM pg_catalog.pg_notify('aftersales_alerts', pg_catalog.json_build_object(
                    'tenant', tenant, 'approval_alert', aid, 'org', o.org_id, 'kind', 'approvals_pending',
                    'pending', pending, 'line', line)::text);
            END IF;
        ELSIF pending < line AND w.over_line THEN
            UPDATE aftersales.approval_watches x SET over_line = false WHERE x.tenant_id = tenant AND x.org_id = o.org_id;
        END IF;
    END LOOP;
    RETURN raised;
END
$$;
COMMENT ON FUNCTION aftersales.sweep_approvals(timestamptz, bigint) IS
  'Judges each organisation''s pending approvals against the warning line: a crossing from below raises one alert in aftersales.approval_alerts; falling below re-arms it; returns the alerts raised; schedule it beside the sweep';

CREATE FUNCTION aftersales.check_approvals(tenant bigint DEFAULT NULL)
    RETURNS TABLE (tenant_id bigint, approval_id bigint, problem text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT tn.tenant_id, c.id, c.problem
      FROM aftersales.tenants tn,
           aftersales_internal.state_machine_check('approval', 'aftersales.approvals', 'aftersales.approval_events', 'approval_id', tn.tenant_id) c
     WHERE check_approvals.tenant IS NULL OR tn.tenant_id = check_approvals.tenant
     ORDER BY 1, 2, 3
$$;
COMMENT ON FUNCTION aftersales.check_approvals(bigint) IS
  'Proves every approval (of a tenant, or all) is the replay of its event log; returns those that are not, with the problem';
REVOKE ALL ON FUNCTION aftersales.check_approvals(bigint) FROM PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('aftersales.departments', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.department_members', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.approval_targets', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.approval_settings', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.approvals', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.approval_events', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.approval_watches', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.approval_alerts', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.departments', 'department_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.approvals', 'approval_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.approval_alerts', 'alert_id')::regclass, '');
