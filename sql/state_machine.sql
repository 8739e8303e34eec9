-- The state machine engine of the service modules (src/state_machine.c):
-- a machine made up here, on a table made up here, shows every rule and
-- every refusal, word for word, and the replay check.
\i sql/fixtures/fresh_extension.sql
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_sm_agent, regress_sm_eng, regress_sm_eng2;
DROP TABLE IF EXISTS aftersales.widgets, aftersales.widget_events;
RESET client_min_messages;

CREATE TABLE aftersales.widgets (
    tenant_id    bigint NOT NULL DEFAULT aftersales.current_tenant(),
    widget_id    bigint NOT NULL,
    colour       text,
    size         integer,
    engineer_id  bigint,
    state        text NOT NULL,
    event        text,
    event_at     timestamptz,
    event_by     text,
    event_reason text,
    event_seq    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, widget_id));
CREATE TABLE aftersales.widget_events (
    tenant_id bigint, widget_id bigint, seq integer, event text, from_state text, to_state text,
    actor text, at timestamptz, reason text, changes jsonb, PRIMARY KEY (tenant_id, widget_id, seq));
CREATE TRIGGER state_guard BEFORE INSERT OR UPDATE ON aftersales.widgets FOR EACH ROW
    EXECUTE FUNCTION aftersales_internal.state_guard('widget', 'widget_id', 'aftersales.widget_events');
CREATE TRIGGER state_log AFTER INSERT OR UPDATE ON aftersales.widgets FOR EACH ROW
    EXECUTE FUNCTION aftersales_internal.state_log('widget', 'widget_id', 'aftersales.widget_events');
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON aftersales.widget_events FOR EACH ROW
    EXECUTE FUNCTION aftersales_internal.append_only('Record a new event instead, for example: UPDATE aftersales.widgets SET event = ''edit'', ...;');
INSERT INTO aftersales.state_transitions (machine, from_state, event, to_state, needs_reason) VALUES
    ('widget', '', 'create', 'draft', false),
    ('widget', 'draft', 'edit', 'draft', false),
    ('widget', 'draft', 'approve', 'approved', false),
    ('widget', 'draft', 'reject', 'rejected', true),
    ('widget', 'approved', 'ship', 'shipped', false);

-- Creation: only by a creating event; the event decides the state.
INSERT INTO aftersales.widgets (widget_id, colour, event, event_at) VALUES (1, 'red', 'create', '2026-01-01 08:00+00');
INSERT INTO aftersales.widgets (widget_id, colour, event, event_at) VALUES (2, 'red', 'approve', '2026-01-01 08:00+00');
INSERT INTO aftersales.widgets (widget_id, colour, event_at) VALUES (2, 'red', '2026-01-01 08:00+00');
INSERT INTO aftersales.widgets (widget_id, colour, state, event, event_at) VALUES (2, 'red', 'shipped', 'create', '2026-01-01 08:00+00');
INSERT INTO aftersales.widgets (widget_id, colour, event) VALUES (2, 'red', 'create');
INSERT INTO aftersales.widgets (widget_id, colour, event, event_at) VALUES (2, 'red', 'create', 'infinity');
INSERT INTO aftersales.widgets (widget_id, colour, event, event_at, event_by) VALUES (2, 'red', 'create', '2026-01-01 08:00+00', '  ');

-- Every UPDATE is one declared event.
UPDATE aftersales.widgets SET colour = 'green' WHERE widget_id = 1;
UPDATE aftersales.widgets SET colour = 'green', event = 'edit', event_seq = event_seq + 2 WHERE widget_id = 1;
UPDATE aftersales.widgets SET colour = 'blue', size = 3, event = 'edit', event_at = '2026-01-02 08:00+00',
       event_seq = event_seq + 1, event_by = 'wang.wei' WHERE widget_id = 1;
UPDATE aftersales.widgets SET event = 'ship', event_at = '2026-01-03 08:00+00', event_seq = event_seq + 1 WHERE widget_id = 1;
UPDATE aftersales.widgets SET event = 'reject', event_at = '2026-01-03 08:00+00', event_seq = event_seq + 1 WHERE widget_id = 1;
UPDATE aftersales.widgets SET event = 'approve', event_at = '2026-01-01 09:00+00', event_seq = event_seq + 1 WHERE widget_id = 1;
UPDATE aftersales.widgets SET state = 'draft', event = 'ship', event_at = '2026-01-04 08:00+00', event_seq = event_seq + 1 WHERE widget_id = 1;
UPDATE aftersales.widgets SET widget_id = 9, event = 'edit', event_at = '2026-01-04 08:00+00', event_seq = event_seq + 1 WHERE widget_id = 1;
UPDATE aftersales.widgets SET event = 'approve', event_at = '2026-01-03 08:00+00', event_seq = event_seq + 1,
       event_by = 'li.na', event_reason = 'checked' WHERE widget_id = 1;
UPDATE aftersales.widgets SET event = 'ship', event_at = '2026-01-04 08:00+00', event_seq = event_seq + 1, event_by = NULL WHERE widget_id = 1;
SELECT widget_id, colour, size, state, event, event_at, event_by, event_reason, event_seq FROM aftersales.widgets;
SELECT seq, event, from_state, to_state, actor, at, reason, changes FROM aftersales.widget_events ORDER BY seq;

-- A reason is required where the machine says so; one carried over from
-- the last event is not this event's.
INSERT INTO aftersales.widgets (widget_id, colour, event, event_at, event_reason) VALUES (2, 'red', 'create', '2026-01-01 08:00+00', 'new');
UPDATE aftersales.widgets SET event = 'reject', event_at = '2026-01-02 08:00+00', event_seq = event_seq + 1 WHERE widget_id = 2;
UPDATE aftersales.widgets SET event = 'reject', event_at = '2026-01-02 08:00+00', event_seq = event_seq + 1,
       event_reason = 'wrong size' WHERE widget_id = 2;
UPDATE aftersales.widgets SET event = 'edit', event_at = '2026-01-02 08:00+00', event_seq = event_seq + 1 WHERE widget_id = 2;

-- The log is append-only, with the machine's own hint.
UPDATE aftersales.widget_events SET actor = 'nobody';
DELETE FROM aftersales.widget_events;

-- Replay: the log rebuilds every row; a change behind the triggers' back shows.
SELECT * FROM aftersales_internal.state_machine_check('widget', 'aftersales.widgets', 'aftersales.widget_events', 'widget_id', 1);
ALTER TABLE aftersales.widgets DISABLE TRIGGER USER;
UPDATE aftersales.widgets SET size = 4 WHERE widget_id = 1;
UPDATE aftersales.widgets SET state = 'draft' WHERE widget_id = 2;
INSERT INTO aftersales.widgets (widget_id, state, event, event_at, event_seq) VALUES (3, 'draft', 'create', '2026-01-01 08:00+00', 1);
ALTER TABLE aftersales.widgets ENABLE TRIGGER USER;
ALTER TABLE aftersales.widget_events DISABLE TRIGGER USER;
INSERT INTO aftersales.widget_events VALUES (1, 1, 6, 'edit', 'shipped', 'shipped', 'x', '2026-01-05 08:00+00', NULL, '{}');
INSERT INTO aftersales.widget_events VALUES (1, 4, 1, 'create', '', 'draft', 'x', '2026-01-05 08:00+00', NULL, '{}');
ALTER TABLE aftersales.widget_events ENABLE TRIGGER USER;
SELECT * FROM aftersales_internal.state_machine_check('widget', 'aftersales.widgets', 'aftersales.widget_events', 'widget_id', 1);
DELETE FROM aftersales.widgets WHERE widget_id = 3;
ALTER TABLE aftersales.widget_events DISABLE TRIGGER USER;
DELETE FROM aftersales.widget_events WHERE seq = 6 OR widget_id = 4;
ALTER TABLE aftersales.widget_events ENABLE TRIGGER USER;

-- Under access control: rights per kind as <machine>.<event>, own-only on
-- the row's engineer_id, and the actor is the authenticated login.
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.engineers (org_id, name) VALUES (1, 'Wang Wei'), (1, 'Li Na');
CREATE ROLE regress_sm_agent LOGIN IN ROLE aftersales_agent;
CREATE ROLE regress_sm_eng LOGIN IN ROLE aftersales_engineer;
CREATE ROLE regress_sm_eng2 LOGIN IN ROLE aftersales_engineer;
INSERT INTO aftersales.members (name, kind, org_id) VALUES ('regress_sm_agent', 'agent', 1);
INSERT INTO aftersales.members (name, kind, org_id, engineer_id) VALUES ('regress_sm_eng', 'engineer', 1, 1),
    ('regress_sm_eng2', 'engineer', 1, 2);
INSERT INTO aftersales.event_rights (kind, event, own_tickets_only) VALUES
    ('agent', 'widget.create', false), ('agent', 'widget.edit', false), ('engineer', 'widget.approve', true);
INSERT INTO aftersales.event_rights (kind, event) VALUES ('agent', 'widget');
GRANT SELECT, INSERT, UPDATE ON aftersales.widgets TO aftersales_agent, aftersales_engineer;
GRANT SELECT ON aftersales.widget_events TO aftersales_agent, aftersales_engineer;
SET client_min_messages = warning;
SELECT aftersales_internal.apply_row_security() > 0 AS secured;
RESET client_min_messages;
SET SESSION AUTHORIZATION regress_sm_agent;
INSERT INTO aftersales.widgets (widget_id, colour, engineer_id, event, event_at) VALUES (5, 'red', 1, 'create', '2026-02-01 08:00+00');
INSERT INTO aftersales.widgets (widget_id, colour, event, event_at, event_by) VALUES (6, 'red', 'create', '2026-02-01 08:00+00', 'someone.else');
UPDATE aftersales.widgets SET event = 'approve', event_at = '2026-02-01 09:00+00', event_seq = event_seq + 1 WHERE widget_id = 5;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_sm_eng2;
UPDATE aftersales.widgets SET event = 'approve', event_at = '2026-02-01 09:00+00', event_seq = event_seq + 1 WHERE widget_id = 5;
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_sm_eng;
UPDATE aftersales.widgets SET event = 'approve', event_at = '2026-02-01 09:00+00', event_seq = event_seq + 1 WHERE widget_id = 5;
INSERT INTO aftersales.widget_events VALUES (1, 5, 3, 'ship', 'approved', 'shipped', 'x', '2026-02-02 08:00+00', NULL, '{}');
RESET SESSION AUTHORIZATION;
SELECT seq, event, from_state, to_state, actor, changes FROM aftersales.widget_events WHERE widget_id = 5 ORDER BY seq;
SELECT * FROM aftersales_internal.state_machine_check('widget', 'aftersales.widgets', 'aftersales.widget_events', 'widget_id', 1);

-- The rows made up here go, so that the shipped tables are as installed.
DELETE FROM aftersales.event_rights WHERE event LIKE 'widget.%';
DELETE FROM aftersales.state_transitions WHERE machine = 'widget';
DROP TABLE aftersales.widgets, aftersales.widget_events;
DROP OWNED BY regress_sm_agent, regress_sm_eng, regress_sm_eng2;
DROP ROLE regress_sm_agent, regress_sm_eng, regress_sm_eng2;
