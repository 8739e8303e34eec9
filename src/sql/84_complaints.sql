
-- aftersales install script, part 84: complaints (客户投诉).  A complaint
-- is dissatisfaction received from any medium or party; it is entered,
-- handled by a named handler until a remedy is recorded, and confirmed by
-- the complainant (an effective handling, 有效处理) or rejected back into
-- handling.  Its life is a machine of the generic state engine
-- (aftersales.state_transitions, machine 'complaint'): every change is an
-- event in aftersales.complaint_events, and aftersales.check_complaints()
-- proves that each complaint is the replay of its log.

-- ---------------------------------------------------------------------------
-- Value lists

CREATE TYPE aftersales.complaint_source AS ENUM
    ('phone', 'web', 'app', 'wechat', 'email', 'letter', 'social_media', 'regulator', 'visit');
COMMENT ON TYPE aftersales.complaint_source IS
  'Where a complaint came from: phone (hotline), web, app, wechat, email, letter, social_media, regulator (12315 and the like), visit';

CREATE TYPE aftersales.complaint_severity AS ENUM ('low', 'medium', 'high', 'critical');
COMMENT ON TYPE aftersales.complaint_severity IS
  'How serious a complaint is, low to critical; picks its SLA targets (aftersales.complaint_targets)';

-- ---------------------------------------------------------------------------
-- The reason taxonomy: two levels, written into the code itself
-- ('timeliness' above 'timeliness.arrival_late'), so that a third level
-- cannot exist and a sub-reason's parent is always a top-level reason.

CREATE TABLE aftersales.complaint_reasons (
    tenant_id        bigint  NOT NULL DEFAULT aftersales.current_tenant()
                             REFERENCES aftersales.tenants,
    code             text    NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{0,62}(\.[a-z][a-z0-9_]{0,62})?$'),
    parent_code      text,
    name_en          text    NOT NULL CHECK (name_en <> ''),
    name_zh          text    NOT NULL CHECK (name_zh <> ''),
    problem_type_id  bigint,
    active           boolean NOT NULL DEFAULT true,
    PRIMARY KEY (tenant_id, code),
    FOREIGN KEY (tenant_id, parent_code) REFERENCES aftersales.complaint_reasons (tenant_id, code),
    FOREIGN KEY (tenant_id, problem_type_id) REFERENCES aftersales.problem_types (tenant_id, problem_type_id),
    CONSTRAINT complaint_reasons_two_levels
        CHECK ((parent_code IS NULL) = (pg_catalog.strpos(code, '.') = 0)
               AND (parent_code IS NULL OR pg_catalog.split_part(code, '.', 1) = parent_code))
);
COMMENT ON TABLE aftersales.complaint_reasons IS
  'Two-level taxonomy of complaint reasons per tenant: top-level reasons (service_attitude, timeliness, product_quality, charges, parts) and their sub-reasons (timeliness.arrival_late); aftersales.add_standard_complaint_reasons() installs the standard set';
COMMENT ON COLUMN aftersales.complaint_reasons.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.complaint_reasons.code IS 'Code: top (lowercase word) or top.sub; the part before the dot is the parent';
COMMENT ON COLUMN aftersales.complaint_reasons.parent_code IS 'Top-level reason of a sub-reason; NULL for a top-level reason';
COMMENT ON COLUMN aftersales.complaint_reasons.name_en IS 'Name in English';
COMMENT ON COLUMN aftersales.complaint_reasons.name_zh IS 'Name in Chinese';
COMMENT ON COLUMN aftersales.complaint_reasons.problem_type_id IS 'For product-quality sub-reasons: the fault type (problem type) complained about';
COMMENT ON COLUMN aftersales.complaint_reasons.active IS 'False: kept for old complaints, refused for new ones';

CREATE FUNCTION aftersales.add_standard_complaint_reasons(tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    IF tenant IS NULL OR NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', COALESCE(tenant::text, 'NULL')
            USING ERRCODE = 'P0002',
                  HINT = 'Name a tenant of aftersales.tenants, or leave it out for the current one: SELECT aftersales.add_standard_complaint_reasons();';
    END IF;
    WITH ins AS (
        INSERT INTO aftersales.complaint_reasons (tenant_id, code, parent_code, name_en, name_zh)
        SELECT tenant, r.code, NULLIF(pg_catalog.split_part(r.code, '.', 1), r.code), r.en, r.zh
          FROM (VALUES
            ('service_attitude', 'Service attitude', '服务态度'),
            ('service_attitude.rude', 'Rude or impatient staff', '态度恶劣'),
            ('service_attitude.no_callback', 'Promised call-back not made', '未按承诺回电'),
            ('timeliness', 'Timeliness', '服务时效'),
            ('timeliness.response_late', 'Late response', '响应不及时'),
            ('timeliness.arrival_late', 'Late arrival on site', '上门不及时'),
            ('timeliness.repair_slow', 'Repair took too long', '维修周期过长'),
            ('product_quality', 'Product quality', '产品质量'),
            ('product_quality.repeat_fault', 'Fault came back after repair', '重复故障'),
            ('product_quality.early_failure', 'Failure soon after installation', '早期故障'),
            ('product_quality.defect', 'Defect or poor workmanship', '产品缺陷'),
            ('charges', 'Charges', '收费问题'),
            ('charges.overcharge', 'Charged too much or wrongly', '乱收费'),
            ('charges.unclear', 'Charges not explained', '收费不透明'),
            ('parts', 'Spare parts', '备件问题'),
            ('parts.delay', 'Part arrived late', '备件延迟'),
            ('parts.wrong', 'Wrong or faulty part', '备件错误'),
            ('other', 'Other', '其他')) AS r (code, en, zh)
        ORDER BY r.code
        ON CONFLICT DO NOTHING
        RETURNING 1)
    SELECT pg_catalog.count(*)::integer INTO n FROM ins;
    RETURN n;
END
$$;
COMMENT ON FUNCTION aftersales.add_standard_complaint_reasons(bigint) IS
  'Installs the standard two-level complaint reasons (service attitude, timeliness, product quality, charges, parts, other, with their sub-reasons) for a tenant, keeping existing ones; returns how many were added';

-- ---------------------------------------------------------------------------
-- SLA targets of complaints: per severity, to acknowledge (a handler takes
-- it) and to resolve (a remedy recorded), in business time on a calendar.

CREATE TABLE aftersales.complaint_targets (
    tenant_id    bigint   NOT NULL DEFAULT aftersales.current_tenant()
                          REFERENCES aftersales.tenants,
    severity     aftersales.complaint_severity NOT NULL,
    acknowledge  interval NOT NULL,
    resolve      interval NOT NULL,
    calendar     text     NOT NULL,
    PRIMARY KEY (tenant_id, severity),
    FOREIGN KEY (tenant_id, calendar) REFERENCES aftersales.calendars (tenant_id, name),
    CHECK (acknowledge > '0'::interval AND resolve >= acknowledge
           AND EXTRACT(DAY FROM resolve) = 0 AND EXTRACT(MONTH FROM resolve) = 0 AND EXTRACT(YEAR FROM resolve) = 0
           AND EXTRACT(DAY FROM acknowledge) = 0 AND EXTRACT(MONTH FROM acknowledge) = 0
           AND EXTRACT(YEAR FROM acknowledge) = 0)
);
COMMENT ON TABLE aftersales.complaint_targets IS
  'Complaint SLA targets per tenant and severity, in business time on a calendar; a complaint of a severity without a row gets no due times';
COMMENT ON COLUMN aftersales.complaint_targets.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.complaint_targets.severity IS 'Severity the targets apply to';
COMMENT ON COLUMN aftersales.complaint_targets.acknowledge IS 'Business time allowed from receipt to a handler taking it, in hours and minutes';
COMMENT ON COLUMN aftersales.complaint_targets.resolve IS 'Business time allowed from receipt to a remedy, in hours and minutes';
COMMENT ON COLUMN aftersales.complaint_targets.calendar IS 'Business calendar the targets run on (aftersales.calendars)';

-- ---------------------------------------------------------------------------
-- Complaints

CREATE TABLE aftersales.complaints (
    tenant_id           bigint      NOT NULL DEFAULT aftersales.current_tenant()
                                    REFERENCES aftersales.tenants,
    complaint_id        bigint      GENERATED ALWAYS AS IDENTITY,
    source              aftersales.complaint_source NOT NULL,
    complainant_kind    text        NOT NULL CHECK (complainant_kind IN ('customer', 'outside')),
    customer_id         bigint,
    complainant_name    text        CHECK (complainant_name <> '' AND pg_catalog.length(complainant_name) <= 200),
    complainant_contact text        CHECK (pg_catalog.length(complainant_contact) <= 200),
    ticket_id           bigint,
    unit_id             bigint,
    model_id            bigint,
    engineer_id         bigint,
    org_id              bigint      NOT NULL,
    reason_code         text        NOT NULL,
    severity            aftersales.complaint_severity NOT NULL DEFAULT 'medium',
    description         text        NOT NULL CHECK (pg_catalog.btrim(description) <> ''),
    handler             text        CHECK (handler <> ''),
    escalation_level    smallint    NOT NULL DEFAULT 0 CHECK (escalation_level BETWEEN 0 AND 3),
    remedy              text        CHECK (pg_catalog.btrim(remedy) <> ''),
    reject_count        integer     NOT NULL DEFAULT 0 CHECK (reject_count >= 0),
    received_at         timestamptz NOT NULL,
    acknowledge_due_at  timestamptz,
    resolve_due_at      timestamptz,
    acknowledged_at     timestamptz,
    resolved_at         timestamptz,
    confirmed_at        timestamptz,
    closed_at           timestamptz,
    withdrawn_at        timestamptz,
    state               text        NOT NULL DEFAULT 'received'
                                    CHECK (state IN ('received', 'assigned', 'in_progress', 'resolved', 'confirmed',
                                                     'closed', 'escalated', 'withdrawn')),
    event               text,
    event_at            timestamptz,
    event_by            text,
    event_reason        text,
    event_seq           integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, complaint_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES aftersales.customers (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES aftersales.units (tenant_id, unit_id),
    FOREIGN KEY (tenant_id, model_id) REFERENCES aftersales.product_models (tenant_id, model_id),
    FOREIGN KEY (tenant_id, engineer_id) REFERENCES aftersales.engineers (tenant_id, engineer_id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES aftersales.organisations (tenant_id, org_id),
    FOREIGN KEY (tenant_id, reason_code) REFERENCES aftersales.complaint_reasons (tenant_id, code),
    CONSTRAINT complaints_complainant CHECK (CASE complainant_kind WHEN 'customer' THEN customer_id IS NOT NULL
                                                                   ELSE complainant_name IS NOT NULL END),
    CONSTRAINT complaints_handler CHECK (state NOT IN ('assigned', 'in_progress', 'resolved', 'confirmed')
                                         OR handler IS NOT NULL),
    CONSTRAINT complaints_remedy CHECK (state NOT IN ('resolved', 'confirmed', 'closed')
                                        OR (remedy IS NOT NULL AND resolved_at IS NOT NULL)),
    CONSTRAINT complaints_confirmed CHECK ((state = 'confirmed') <= (confirmed_at IS NOT NULL)),
    CONSTRAINT complaints_times CHECK (acknowledged_at >= received_at AND resolved_at >= received_at
                                       AND confirmed_at >= resolved_at AND closed_at >= received_at
                                       AND withdrawn_at >= received_at)
);
CREATE INDEX complaints_ticket_idx ON aftersales.complaints (tenant_id, ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX complaints_customer_idx ON aftersales.complaints (tenant_id, customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX complaints_received_idx ON aftersales.complaints (tenant_id, received_at);
COMMENT ON TABLE aftersales.complaints IS
  'Complaints (客户投诉), held to their state machine (machine complaint of aftersales.state_transitions) by the engine''s triggers: change them through the aftersales.*_complaint functions or, equally checked, by direct INSERT and UPDATE naming the event';
COMMENT ON COLUMN aftersales.complaints.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.complaints.complaint_id IS 'Complaint id';
COMMENT ON COLUMN aftersales.complaints.source IS 'Where it came from: a label of aftersales.complaint_source';
COMMENT ON COLUMN aftersales.complaints.complainant_kind IS 'customer (a customer of the tenant, customer_id) or outside (another person or body, complainant_name)';
COMMENT ON COLUMN aftersales.complaints.customer_id IS 'Complaining customer; required for complainant_kind customer';
COMMENT ON COLUMN aftersales.complaints.complainant_name IS 'Name of the complainant; required for complainant_kind outside';
COMMENT ON COLUMN aftersales.complaints.complainant_contact IS 'How to reach the complainant (phone, e-mail)';
COMMENT ON COLUMN aftersales.complaints.ticket_id IS 'Ticket complained about, if any';
COMMENT ON COLUMN aftersales.complaints.unit_id IS 'Installed unit concerned, if any';
COMMENT ON COLUMN aftersales.complaints.model_id IS 'Product model concerned (the ticket''s or the unit''s when omitted)';
COMMENT ON COLUMN aftersales.complaints.engineer_id IS 'Engineer complained about, if any';
COMMENT ON COLUMN aftersales.complaints.org_id IS 'Organisation responsible: given, else the ticket''s, the customer''s, the engineer''s, else headquarters';
COMMENT ON COLUMN aftersales.complaints.reason_code IS 'Reason (aftersales.complaint_reasons), top-level or sub-reason';
COMMENT ON COLUMN aftersales.complaints.severity IS 'low, medium, high or critical';
COMMENT ON COLUMN aftersales.complaints.description IS 'What the complainant said';
COMMENT ON COLUMN aftersales.complaints.handler IS 'Member handling it (aftersales.members name); cleared by an escalation';
COMMENT ON COLUMN aftersales.complaints.escalation_level IS 'Times escalated (0 to 3)';
COMMENT ON COLUMN aftersales.complaints.remedy IS 'Remedy recorded at resolution (the latest)';
COMMENT ON COLUMN aftersales.complaints.reject_count IS 'Times the complainant rejected a remedy';
COMMENT ON COLUMN aftersales.complaints.received_at IS 'When it was received; its SLA clocks start here';
COMMENT ON COLUMN aftersales.complaints.acknowledge_due_at IS 'When a handler is due to have taken it (complaint_targets); NULL without a target';
COMMENT ON COLUMN aftersales.complaints.resolve_due_at IS 'When a remedy is due (complaint_targets); NULL without a target';
COMMENT ON COLUMN aftersales.complaints.acknowledged_at IS 'When a handler first took it (assign or take)';
COMMENT ON COLUMN aftersales.complaints.resolved_at IS 'Latest resolution (a remedy recorded)';
COMMENT ON COLUMN aftersales.complaints.confirmed_at IS 'When the complainant confirmed the remedy: an effective handling (有效处理)';
COMMENT ON COLUMN aftersales.complaints.closed_at IS 'When it was closed';
COMMENT ON COLUMN aftersales.complaints.withdrawn_at IS 'When the complainant withdrew it';
COMMENT ON COLUMN aftersales.complaints.state IS 'received, assigned, in_progress, resolved, confirmed, closed, escalated or withdrawn';
COMMENT ON COLUMN aftersales.complaints.event IS 'Latest event (set by each change, judged by the state engine)';
COMMENT ON COLUMN aftersales.complaints.event_at IS 'When the latest event happened';
COMMENT ON COLUMN aftersales.complaints.event_by IS 'Who made the latest event (the authenticated identity)';
COMMENT ON COLUMN aftersales.complaints.event_reason IS 'Why, for the latest event';
COMMENT ON COLUMN aftersales.complaints.event_seq IS 'Number of events so far: seq of the latest row in complaint_events';

CREATE TABLE aftersales.complaint_events (
    tenant_id     bigint      NOT NULL,
    complaint_id  bigint      NOT NULL,
    seq           integer     NOT NULL CHECK (seq > 0),
    event         text        NOT NULL,
    from_state    text        NOT NULL,
    to_state      text        NOT NULL,
    actor         text        NOT NULL,
    at            timestamptz NOT NULL,
    reason        text,
    changes       jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, complaint_id, seq),
    FOREIGN KEY (tenant_id, complaint_id) REFERENCES aftersales.complaints (tenant_id, complaint_id)
);
COMMENT ON TABLE aftersales.complaint_events IS
  'Event log of complaints, append-only, written by the state engine: one row per event, with every changed column, so that a complaint can be replayed (aftersales.check_complaints)';
COMMENT ON COLUMN aftersales.complaint_events.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.complaint_events.complaint_id IS 'Complaint';
COMMENT ON COLUMN aftersales.complaint_events.seq IS 'Event number within the complaint, from 1';
COMMENT ON COLUMN aftersales.complaint_events.event IS 'Event (receive, assign, take, start, resolve, confirm, reject, close, escalate, withdraw, edit)';
COMMENT ON COLUMN aftersales.complaint_events.from_state IS 'State before; empty for the receipt';
COMMENT ON COLUMN aftersales.complaint_events.to_state IS 'State after';
COMMENT ON COLUMN aftersales.complaint_events.actor IS 'Who (the authenticated identity)';
COMMENT ON COLUMN aftersales.complaint_events.at IS 'When';
COMMENT ON COLUMN aftersales.complaint_events.reason IS 'Why';
COMMENT ON COLUMN aftersales.complaint_events.changes IS 'Changed columns: {"column": [old, new]}';

CREATE TRIGGER complaint_events_append_only
    BEFORE UPDATE OR DELETE ON aftersales.complaint_events
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.append_only('Record a new event instead, for example: SELECT aftersales.reject_complaint(7, reason => ''remedy not received'');');

-- The machine.  Rejected is an event, not a state: the complainant turns
-- the remedy down and the complaint goes back into handling.  A resolved
-- complaint the complainant never answers can be closed with a reason
-- (not effective).  Escalation hands it to the next level: the handler is
-- cleared and the next level assigns or takes it.
INSERT INTO aftersales.state_transitions (machine, from_state, event, to_state, needs_reason)
VALUES ('complaint', '', 'receive', 'received', false),
       ('complaint', 'received', 'assign', 'assigned', false),
       ('complaint', 'received', 'take', 'assigned', false),
       ('complaint', 'escalated', 'assign', 'assigned', false),
       ('complaint', 'escalated', 'take', 'assigned', false),
       ('complaint', 'assigned', 'assign', 'assigned', true),
       ('complaint', 'in_progress', 'assign', 'in_progress', true),
       ('complaint', 'assigned', 'start', 'in_progress', false),
       ('complaint', 'in_progress', 'resolve', 'resolved', false),
       ('complaint', 'resolved', 'confirm', 'confirmed', false),
       ('complaint', 'resolved', 'reject', 'in_progress', true),
       ('complaint', 'confirmed', 'close', 'closed', false),
       ('complaint', 'resolved', 'close', 'closed', true),
       ('complaint', 'received', 'escalate', 'escalated', true),
       ('complaint', 'assigned', 'escalate', 'escalated', true),
       ('complaint', 'in_progress', 'escalate', 'escalated', true),
       ('complaint', 'escalated', 'escalate', 'escalated', true),
       ('complaint', 'received', 'withdraw', 'withdrawn', true),
       ('complaint', 'assigned', 'withdraw', 'withdrawn', true),
       ('complaint', 'in_progress', 'withdraw', 'withdrawn', true),
       ('complaint', 'escalated', 'withdraw', 'withdrawn', true),
       ('complaint', 'resolved', 'withdraw', 'withdrawn', true),
       ('complaint', 'received', 'edit', 'received', false),
       ('complaint', 'assigned', 'edit', 'assigned', false),
       ('complaint', 'in_progress', 'edit', 'in_progress', false),
       ('complaint', 'escalated', 'edit', 'escalated', false),
       ('complaint', 'resolved', 'edit', 'resolved', false);

-- The columns an event implies, whatever wrote the row: the times of the
-- life cycle, the due times at receipt, the handler of a take (the actor
-- the engine recorded), the handler cleared by an escalation, the count of
-- rejections.  It runs after the engine's guard ("zz" sorts after
-- state_guard): the event is judged and its actor known.
CREATE FUNCTION aftersales_internal.complaint_stamps() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tg aftersales.complaint_targets;
    cal aftersales.calendar;
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.received_at := NEW.event_at;
        SELECT * INTO tg FROM aftersales.complaint_targets t
         WHERE t.tenant_id OPERATOR(pg_catalog.=) NEW.tenant_id AND t.severity OPERATOR(pg_catalog.=) NEW.severity;
        IF FOUND THEN
            cal := aftersales.get_calendar(tg.calendar, NEW.tenant_id);
            NEW.acknowledge_due_at := aftersales.business_add(cal, NEW.received_at, tg.acknowledge);
            NEW.resolve_due_at := aftersales.business_add(cal, NEW.received_at, tg.resolve);
        END IF;
        RETURN NEW;
    END IF;
    CASE NEW.event
    WHEN 'assign' THEN
        NEW.acknowledged_at := COALESCE(OLD.acknowledged_at, NEW.event_at);
    WHEN 'take' THEN
        NEW.acknowledged_at := COALESCE(OLD.acknowledged_at, NEW.event_at);
        NEW.handler := NEW.event_by;
    WHEN 'resolve' THEN
        NEW.resolved_at := NEW.event_at;
    WHEN 'confirm' THEN
        NEW.confirmed_at := NEW.event_at;
    WHEN 'reject' THEN
        NEW.reject_count := OLD.reject_count + 1;
    WHEN 'close' THEN
        NEW.closed_at := NEW.event_at;
    WHEN 'escalate' THEN
        NEW.escalation_level := LEAST(OLD.escalation_level + 1, 3);
        NEW.handler := NULL;
    WHEN 'withdraw' THEN
        NEW.withdrawn_at := NEW.event_at;
    ELSE
        NULL;
    END CASE;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION aftersales_internal.complaint_stamps() IS
  'Trigger: the columns a complaint''s event implies (times, due times at receipt, the handler of a take, escalation level, handler cleared by an escalation, rejections)';
CREATE TRIGGER state_guard
    BEFORE INSERT OR UPDATE ON aftersales.complaints
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.state_guard('complaint', 'complaint_id', 'aftersales.complaint_events');
CREATE TRIGGER zz_complaint_stamps
    BEFORE INSERT OR UPDATE ON aftersales.complaints
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.complaint_stamps();
CREATE TRIGGER state_log
    AFTER INSERT OR UPDATE ON aftersales.complaints
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.state_log('complaint', 'complaint_id', 'aftersales.complaint_events');

-- A complaint about a key customer's ticket is announced at once, in the
-- alerts outbox beside the ticket's own alerts (kind complaint, level = the
-- complaint id, so each complaint once; the kind is in alerts' CHECK,
-- 40_escalation.sql).  The outbox is written as its owner: agents who
-- receive complaints may not write alerts themselves.
CREATE FUNCTION aftersales_internal.complaint_alert() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    aid bigint;
BEGIN
    INSERT INTO aftersales.alerts AS a (tenant_id, ticket_id, clock, kind, level, role, due_at, raised_at, detail)
    SELECT NEW.tenant_id, NEW.ticket_id, 'ticket', 'complaint', NEW.complaint_id, 'service_manager',
           NEW.received_at, NEW.received_at,
           pg_catalog.jsonb_build_object('complaint', NEW.complaint_id, 'severity', NEW.severity::text,
                                         'reason', NEW.reason_code, 'source', NEW.source::text,
                                         'status', t.status::text, 'customer', cu.name)
      FROM aftersales.tickets t
      JOIN aftersales.customers cu ON cu.tenant_id OPERATOR(pg_catalog.=) t.tenant_id
                                  AND cu.customer_id OPERATOR(pg_catalog.=) t.customer_id
     WHERE t.tenant_id OPERATOR(pg_catalog.=) NEW.tenant_id AND t.ticket_id OPERATOR(pg_catalog.=) NEW.ticket_id
       AND cu.tier OPERATOR(pg_catalog.=) 'key'
    ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING
    RETURNING a.alert_id INTO aid;
    IF aid IS NOT NULL THEN
        PERFORM pg_catalog.pg_notify('aftersales_alerts', pg_catalog.json_build_object(
            'tenant', NEW.tenant_id, 'alert', aid, 'ticket', NEW.ticket_id, 'clock', 'ticket', 'kind', 'complaint',
            'level', NEW.complaint_id)::text);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales_internal.complaint_alert() IS
  'Trigger: a complaint about a key customer''s ticket raises an alert of kind complaint at once';
CREATE TRIGGER complaint_alert
    AFTER INSERT ON aftersales.complaints
    FOR EACH ROW WHEN (NEW.ticket_id IS NOT NULL)
    EXECUTE FUNCTION aftersales_internal.complaint_alert();

-- ---------------------------------------------------------------------------
-- The API.  Each event is one UPDATE by tenant and complaint id, which the
-- engine's triggers judge and log; the functions only add clear errors for
-- what the caller can get wrong.

CREATE FUNCTION aftersales_internal.complaint_error(message text, hint text, code text DEFAULT '22023')
    RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION '%', message USING ERRCODE = code, HINT = hint;
END
$$;
COMMENT ON FUNCTION aftersales_internal.complaint_error(text, text, text) IS
  'Internal: raises an error of the complaint API with its hint';

CREATE FUNCTION aftersales_internal.cut(value text) RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN pg_catalog.length(value) > 64 THEN pg_catalog.left(value, 64) || '...' ELSE value END
$$;
COMMENT ON FUNCTION aftersales_internal.cut(text) IS 'Internal: a value cut to 64 characters for an error message';

CREATE FUNCTION aftersales.set_complaint_target(severity text, acknowledge interval, resolve interval,
                                                calendar text DEFAULT '24x7',
                                                tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS aftersales.complaint_targets
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    example constant text := 'SELECT aftersales.set_complaint_target(''high'', acknowledge => ''2 hours'', resolve => ''16 hours'', calendar => ''cn-office'');';
    result aftersales.complaint_targets;
BEGIN
    IF severity IS NULL OR NOT aftersales_internal.value_listed('aftersales.complaint_severity', severity) THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('unknown complaint severity "%s"', COALESCE(aftersales_internal.cut(severity), 'NULL')),
            pg_catalog.format('Severities: %s; for example: %s', aftersales_internal.value_list('aftersales.complaint_severity'), example));
    END IF;
    IF acknowledge IS NULL OR resolve IS NULL OR acknowledge <= '0'::interval OR resolve < acknowledge
       OR EXTRACT(DAY FROM acknowledge) <> 0 OR EXTRACT(MONTH FROM acknowledge) <> 0 OR EXTRACT(YEAR FROM acknowledge) <> 0
       OR EXTRACT(DAY FROM resolve) <> 0 OR EXTRACT(MONTH FROM resolve) <> 0 OR EXTRACT(YEAR FROM resolve) <> 0 THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('invalid complaint targets: acknowledge %s, resolve %s', COALESCE(acknowledge::text, 'NULL'),
                              COALESCE(resolve::text, 'NULL')),
            'Targets are positive business hours and minutes (no days: a business day has no fixed length), resolve at least acknowledge; for example: ' || example);
    END IF;
    IF calendar IS NULL OR NOT EXISTS (SELECT FROM aftersales.calendars c WHERE c.tenant_id = tenant AND c.name = set_complaint_target.calendar) THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('calendar "%s" does not exist for tenant %s', COALESCE(aftersales_internal.cut(calendar), 'NULL'), tenant),
            'Name a calendar of aftersales.calendars, for example: ' || example, '23503');
    END IF;
    INSERT INTO aftersales.complaint_targets AS t (tenant_id, severity, acknowledge, resolve, calendar)
    VALUES (tenant, severity::aftersales.complaint_severity, acknowledge, resolve, calendar)
    ON CONFLICT ON CONSTRAINT complaint_targets_pkey DO UPDATE
       SET acknowledge = EXCLUDED.acknowledge, resolve = EXCLUDED.resolve, calendar = EXCLUDED.calendar
    RETURNING t.* INTO result;
    RETURN result;
END
$$;
COMMENT ON FUNCTION aftersales.set_complaint_target(text, interval, interval, text, bigint) IS
  'Sets the SLA targets of complaints of a severity (upsert): business time to acknowledge and to resolve, on a calendar; applies to complaints received afterwards';

CREATE FUNCTION aftersales.open_complaint(source text, reason text, description text,
                                          customer bigint DEFAULT NULL, complainant_name text DEFAULT NULL,
                                          complainant_contact text DEFAULT NULL, severity text DEFAULT 'medium',
                                          ticket bigint DEFAULT NULL, unit bigint DEFAULT NULL,
                                          model bigint DEFAULT NULL, engineer bigint DEFAULT NULL,
                                          org bigint DEFAULT NULL, at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    example constant text := 'SELECT aftersales.open_complaint(''phone'', ''timeliness.arrival_late'', ''engineer came a day late'', customer => 12, ticket => 345);';
    r aftersales.complaint_reasons;
    t aftersales.tickets;
    u aftersales.units;
    v_org bigint := org;
    v_model bigint := model;
    v_customer bigint := customer;
    id bigint;
BEGIN
    IF source IS NULL OR NOT aftersales_internal.value_listed('aftersales.complaint_source', source) THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('unknown complaint source "%s"', COALESCE(aftersales_internal.cut(source), 'NULL')),
            pg_catalog.format('Sources: %s; for example: %s', aftersales_internal.value_list('aftersales.complaint_source'), example));
    END IF;
    IF severity IS NULL OR NOT aftersales_internal.value_listed('aftersales.complaint_severity', severity) THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('unknown complaint severity "%s"', COALESCE(aftersales_internal.cut(severity), 'NULL')),
            pg_catalog.format('Severities: %s; for example: %s', aftersales_internal.value_list('aftersales.complaint_severity'), example));
    END IF;
    SELECT * INTO r FROM aftersales.complaint_reasons cr WHERE cr.tenant_id = tenant AND cr.code = reason;
    IF NOT FOUND OR NOT r.active THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('unknown complaint reason "%s"', COALESCE(aftersales_internal.cut(reason), 'NULL')),
            'Reasons are codes of aftersales.complaint_reasons (top-level or top.sub), list them with: SELECT code, name_en, name_zh FROM aftersales.complaint_reasons WHERE active ORDER BY code;',
            CASE WHEN FOUND THEN '22023' ELSE '23503' END);
    END IF;
    IF description IS NULL OR pg_catalog.btrim(description) = '' THEN
        PERFORM aftersales_internal.complaint_error('a complaint needs a description',
            'Say what the complainant said, for example: ' || example, '22004');
    END IF;
    IF ticket IS NOT NULL THEN
        SELECT * INTO t FROM aftersales.tickets tk WHERE tk.tenant_id = tenant AND tk.ticket_id = ticket;
        IF NOT FOUND THEN
            PERFORM aftersales_internal.complaint_error(
                pg_catalog.format('ticket %s does not exist for tenant %s', ticket, tenant),
                'Link a ticket of the current tenant, or none: SELECT ticket_id FROM aftersales.tickets WHERE customer_id = 12;', 'P0002');
        END IF;
        v_customer := COALESCE(v_customer, CASE WHEN complainant_name IS NULL THEN t.customer_id END);
        v_model := COALESCE(v_model, t.model_id);
        v_org := COALESCE(v_org, t.org_id);
    END IF;
    IF unit IS NOT NULL THEN
        SELECT * INTO u FROM aftersales.units un WHERE un.tenant_id = tenant AND un.unit_id = unit;
        v_model := COALESCE(v_model, u.model_id);
        v_org := COALESCE(v_org, u.org_id);
    END IF;
    IF v_customer IS NOT NULL AND NOT EXISTS (SELECT FROM aftersales.customers cu
                                               WHERE cu.tenant_id = tenant AND cu.customer_id = v_customer) THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('customer %s does not exist for tenant %s', v_customer, tenant),
            'Name a customer of the current tenant: SELECT customer_id, name FROM aftersales.customers ORDER BY name;', 'P0002');
    END IF;
    IF v_customer IS NULL AND (complainant_name IS NULL OR pg_catalog.btrim(complainant_name) = '') THEN
        PERFORM aftersales_internal.complaint_error('a complaint needs a complainant',
            'Name the customer, or an outside complainant: SELECT aftersales.open_complaint(''regulator'', ''charges.overcharge'', ''12315 referral'', complainant_name => ''12315 hotline'');', '22004');
    END IF;
    IF v_org IS NULL AND v_customer IS NOT NULL THEN
        SELECT c.org_id INTO v_org FROM aftersales.customers c WHERE c.tenant_id = tenant AND c.customer_id = v_customer;
    END IF;
    IF v_org IS NULL AND engineer IS NOT NULL THEN
        SELECT e.org_id INTO v_org FROM aftersales.engineers e WHERE e.tenant_id = tenant AND e.engineer_id = engineer;
    END IF;
    IF v_org IS NULL THEN
        SELECT o.org_id INTO v_org FROM aftersales.organisations o WHERE o.tenant_id = tenant AND o.level = 'hq';
    END IF;
    IF v_org IS NULL THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('no organisation is responsible for the complaint in tenant %s', tenant),
            'Name one with org => , or create the tenant''s headquarters: INSERT INTO aftersales.organisations (level, name) VALUES (''hq'', ''HQ'');', '23502');
    END IF;
    INSERT INTO aftersales.complaints AS c
           (tenant_id, source, complainant_kind, customer_id, complainant_name, complainant_contact, ticket_id, unit_id,
            model_id, engineer_id, org_id, reason_code, severity, description, received_at, event, event_at)
    VALUES (tenant, source::aftersales.complaint_source,
            CASE WHEN v_customer IS NOT NULL THEN 'customer' ELSE 'outside' END,
            v_customer, NULLIF(pg_catalog.btrim(complainant_name), ''), NULLIF(pg_catalog.btrim(complainant_contact), ''),
            ticket, unit, v_model, engineer, v_org, reason, severity::aftersales.complaint_severity,
            pg_catalog.btrim(description), at, 'receive', at)
    RETURNING c.complaint_id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION aftersales.open_complaint(text, text, text, bigint, text, text, text, bigint, bigint, bigint, bigint, bigint, timestamptz) IS
  'Receives a complaint (event receive): source, reason code, description, the complainant (a customer, or an outside person by name), optional links to a ticket, unit, model, engineer and organisation; returns its id';

-- One event on one complaint: the UPDATE the engine judges.  The caller's
-- rights apply (row security, grants).
CREATE FUNCTION aftersales_internal.complaint_event(complaint bigint, event text, at timestamptz, reason text,
                                                    new_handler text DEFAULT NULL, new_remedy text DEFAULT NULL)
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    st text;
BEGIN
    UPDATE aftersales.complaints c
       SET event = complaint_event.event, event_at = at, event_seq = c.event_seq + 1, event_by = NULL,
           event_reason = NULLIF(pg_catalog.btrim(reason), ''),
           handler = COALESCE(new_handler, c.handler),
           remedy = COALESCE(new_remedy, c.remedy)
     WHERE c.tenant_id = tenant AND c.complaint_id = complaint
    RETURNING c.state INTO st;
    IF NOT FOUND THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('complaint %s does not exist for tenant %s', COALESCE(complaint::text, 'NULL'), tenant),
            'List the tenant''s complaints with: SELECT complaint_id, state FROM aftersales.complaints ORDER BY complaint_id;',
            'P0002');
    END IF;
    RETURN st;
END
$$;
COMMENT ON FUNCTION aftersales_internal.complaint_event(bigint, text, timestamptz, text, text, text) IS
  'Internal: fires one event on a complaint (one UPDATE, judged by the state engine); returns the new state';

CREATE FUNCTION aftersales.assign_complaint(complaint bigint, handler text, reason text DEFAULT NULL,
                                            at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF handler IS NULL OR NOT EXISTS (SELECT FROM aftersales.members m
                                       WHERE m.tenant_id = aftersales.current_tenant() AND m.name = handler AND m.active) THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('"%s" is not an active member of tenant %s', COALESCE(aftersales_internal.cut(handler), 'NULL'),
                              aftersales.current_tenant()),
            pg_catalog.format('A handler is a member of the tenant (aftersales.members), for example: SELECT aftersales.assign_complaint(%s, ''zhang.wei'');',
                              COALESCE(complaint, 1)), '23503');
    END IF;
    RETURN aftersales_internal.complaint_event(complaint, 'assign', at, reason, new_handler => handler);
END
$$;
COMMENT ON FUNCTION aftersales.assign_complaint(bigint, text, text, timestamptz) IS
  'Gives a received or escalated complaint to a handler (a member of the tenant), or hands it to another one (with a reason); returns its state';

CREATE FUNCTION aftersales.take_complaint(complaint bigint, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT aftersales_internal.complaint_event(complaint, 'take', at, NULL)
$$;
COMMENT ON FUNCTION aftersales.take_complaint(bigint, timestamptz) IS
  'The caller takes a received or escalated complaint as its handler; a complaint already taken is refused; returns its state';

CREATE FUNCTION aftersales.start_complaint(complaint bigint, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT aftersales_internal.complaint_event(complaint, 'start', at, NULL)
$$;
COMMENT ON FUNCTION aftersales.start_complaint(bigint, timestamptz) IS
  'The handler starts working on an assigned complaint (state in_progress); returns its state';

CREATE FUNCTION aftersales.resolve_complaint(complaint bigint, remedy text, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF remedy IS NULL OR pg_catalog.btrim(remedy) = '' THEN
        PERFORM aftersales_internal.complaint_error('resolving a complaint needs a remedy',
            pg_catalog.format('Record what was done, for example: SELECT aftersales.resolve_complaint(%s, ''apologised and refunded the visit fee'');',
                              COALESCE(complaint, 1)), '22004');
    END IF;
    RETURN aftersales_internal.complaint_event(complaint, 'resolve', at, NULL, new_remedy => pg_catalog.btrim(remedy));
END
$$;
COMMENT ON FUNCTION aftersales.resolve_complaint(bigint, text, timestamptz) IS
  'Records the remedy of a complaint in handling (state resolved, awaiting the complainant); returns its state';

CREATE FUNCTION aftersales.confirm_complaint(complaint bigint, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT aftersales_internal.complaint_event(complaint, 'confirm', at, NULL)
$$;
COMMENT ON FUNCTION aftersales.confirm_complaint(bigint, timestamptz) IS
  'The complainant confirms the remedy of a resolved complaint: an effective handling (有效处理); returns its state';

CREATE FUNCTION aftersales.reject_complaint(complaint bigint, reason text, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT aftersales_internal.complaint_event(complaint, 'reject', at, reason)
$$;
COMMENT ON FUNCTION aftersales.reject_complaint(bigint, text, timestamptz) IS
  'The complainant rejects the remedy of a resolved complaint (a reason is required): it goes back to in_progress; returns its state';

CREATE FUNCTION aftersales.close_complaint(complaint bigint, reason text DEFAULT NULL,
                                           at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT aftersales_internal.complaint_event(complaint, 'close', at, reason)
$$;
COMMENT ON FUNCTION aftersales.close_complaint(bigint, text, timestamptz) IS
  'Closes a confirmed complaint, or a resolved one the complainant never answered (a reason is then required); returns its state';

CREATE FUNCTION aftersales.escalate_complaint(complaint bigint, reason text, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT aftersales_internal.complaint_event(complaint, 'escalate', at, reason)
$$;
COMMENT ON FUNCTION aftersales.escalate_complaint(bigint, text, timestamptz) IS
  'Escalates an open complaint to the next level (a reason is required): its handler is cleared and the next level assigns or takes it; returns its state';

CREATE FUNCTION aftersales.withdraw_complaint(complaint bigint, reason text, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT aftersales_internal.complaint_event(complaint, 'withdraw', at, reason)
$$;
COMMENT ON FUNCTION aftersales.withdraw_complaint(bigint, text, timestamptz) IS
  'The complainant withdraws an open or resolved complaint (a reason is required); returns its state';

-- ---------------------------------------------------------------------------
-- Replay: a complaint is the fold of its log (the engine's check).

CREATE FUNCTION aftersales.check_complaints(tenant bigint DEFAULT NULL)
    RETURNS TABLE (tenant_id bigint, complaint_id bigint, problem text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT tn.tenant_id, c.id, c.problem
      FROM aftersales.tenants tn,
           aftersales_internal.state_machine_check('complaint', 'aftersales.complaints', 'aftersales.complaint_events',
                                                   'complaint_id', tn.tenant_id) c
     WHERE check_complaints.tenant IS NULL OR tn.tenant_id = check_complaints.tenant
     ORDER BY 1, 2, 3
$$;
COMMENT ON FUNCTION aftersales.check_complaints(bigint) IS
  'Proves every complaint (of a tenant, or all) is the replay of its event log: a chain of listed transitions, seq without gaps, the row equal to the fold of the logged changes; returns the complaints that are not, with the problem';
REVOKE ALL ON FUNCTION aftersales.check_complaints(bigint) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- pg_dump keeps user data

SELECT pg_catalog.pg_extension_config_dump('aftersales.complaint_reasons', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.complaint_targets', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.complaints', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.complaint_events', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.complaints', 'complaint_id')::regclass, '');
