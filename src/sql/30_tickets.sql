
-- aftersales install script, part 30: tickets, their closed loop, the event
-- log and the SLA clocks.
--
-- Who does what:
--   ticket_guard (C, src/ticket.c), BEFORE each row: judges every INSERT and
--     UPDATE of tickets against the closed-loop table and computes the
--     columns the loop maintains; refuses DELETE.
--   tickets_entered (C, src/ticket_log.c), AFTER each INSERT statement:
--     occurrence counts, SLA clocks, their escalation watches (and the
--     'ticket' watch of a ticket with a requested date or a key customer,
--     40_escalation.sql) and the open events of all the rows.
--   ticket_changed (C, src/ticket_log.c), AFTER each row whose event_seq
--     moved: the SLA clocks and the event row.
-- So the event log and the clocks cannot be missed, whether a change comes
-- through the API (31_ticket_api.sql) or a direct INSERT or UPDATE.
--
-- Time: every function that records an event takes at timestamptz DEFAULT
-- aftersales.now(); aftersales.now() is the setting aftersales.now when set
-- (tests, demos, replays of past data), else now().

CREATE TYPE aftersales.ticket_status AS ENUM
    ('new', 'on_hold', 'assigned', 'in_progress', 'on_site', 'locked', 'resolved', 'closed', 'cancelled');
COMMENT ON TYPE aftersales.ticket_status IS
  'State in the closed loop: new (awaiting assignment, 等待分配), on_hold (挂起), assigned (已分配), in_progress, on_site, locked (with the service manager, 锁定), resolved (已处理), closed (已关闭), cancelled';

CREATE TYPE aftersales.ticket_event AS ENUM
    ('open', 'assign', 'reassign', 'take_over', 'start', 'arrive', 'resolve', 'fail', 'release', 'hold',
     'resume', 'transfer', 'follow_up', 'cancel', 'reopen', 'lock', 'unlock', 'retarget', 'acknowledge', 'edit');
COMMENT ON TYPE aftersales.ticket_event IS
  'Event of the closed loop; aftersales.ticket_transitions() lists which event takes which state where; edit, outside the loop, changes a ticket''s free fields (description, org_id, requested_at, field) in any state';

CREATE TYPE aftersales.ticket_tier AS ENUM ('customer_service', 'technical_support', 'rnd');
COMMENT ON TYPE aftersales.ticket_tier IS
  'Support tier handling a ticket: customer_service, then technical_support, then rnd (R&D)';

CREATE FUNCTION aftersales.now() RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'aftersales_now' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.now() IS
  'The clock of aftersales: the setting aftersales.now when set (tests, demos, loading past data), else the transaction''s start time';

CREATE FUNCTION aftersales.actor() RETURNS text
    AS 'MODULE_PATHNAME', 'aftersales_actor' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.actor() IS
  'Who acts: the setting aftersales.actor (the application''s user, SET LOCAL by the application), else the database role';

-- ---------------------------------------------------------------------------
-- Tickets

-- The closed value lists are declared once, as enum types that the checks
-- read from the catalogue (src/row_checks.c): adding a channel is one
-- ALTER TYPE aftersales.ticket_channel ADD VALUE.  The columns stay text.
CREATE TYPE aftersales.ticket_channel AS ENUM ('phone', 'web', 'app', 'wechat', 'email', 'walk_in', 'field', 'other');
COMMENT ON TYPE aftersales.ticket_channel IS
  'How a request can come in: the values tickets.channel and open_ticket accept';

CREATE FUNCTION aftersales_internal.value_listed(list regtype, value text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_value_listed' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales_internal.value_listed(regtype, text) IS
  'Internal: whether value is a label of enum type list (a declared value list)';
CREATE FUNCTION aftersales_internal.value_list(list regtype) RETURNS text
    AS 'MODULE_PATHNAME', 'aftersales_value_list' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales_internal.value_list(regtype) IS
  'Internal: the labels of enum type list in order, for a hint: "a, b and c"';
CREATE FUNCTION aftersales_internal.is_watch_clock(clock text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_is_watch_clock' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales_internal.is_watch_clock(text) IS
  'Internal: whether clock names what a watch or alert is about: a label of aftersales.sla_metric, or ticket';

-- The row rules of tickets (and of ticket_events and ticket_sla below) are
-- one CHECK each, calling a C function with the columns they read
-- (src/row_checks.c): PostgreSQL rebuilds every CHECK expression of a table
-- at each statement that writes it, and the life cycle writes these tables
-- about twenty times.  A broken rule is check_violation (23514) naming the
-- constraint, with the rule and the values in the detail.
CREATE FUNCTION aftersales_internal.tickets_row_check(channel text, description text, status aftersales.ticket_status,
                                              held_from aftersales.ticket_status, assignee_id bigint,
                                              attempt_count integer, reopen_count integer, csat smallint,
                                              nps smallint, event_seq integer, opened_at timestamptz,
                                              last_event_at timestamptz, resolved_at timestamptz,
                                              closed_at timestamptz, cancelled_at timestamptz)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_tickets_row_check' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales_internal.tickets_row_check(text, text, aftersales.ticket_status, aftersales.ticket_status, bigint,
                                                  integer, integer, smallint, smallint, integer, timestamptz,
                                                  timestamptz, timestamptz, timestamptz, timestamptz) IS
  'Internal: CHECK tickets_row_check: channel, non-empty description, counts, scores, and what each state promises; raises check_violation naming the rule';

CREATE TABLE aftersales.tickets (
    -- No foreign key of its own to tenants: (tenant_id, customer_id)
    -- references customers, whose tenant_id references tenants, so it is
    -- implied; its check would lock the tenant's one row FOR KEY SHARE at
    -- every entry, in every session of the tenant (a multixact as soon as
    -- two sessions enter tickets at once).
    tenant_id          bigint      NOT NULL DEFAULT aftersales.current_tenant(),
    ticket_id          bigint      GENERATED ALWAYS AS IDENTITY,
    channel            text        NOT NULL DEFAULT 'phone',
    customer_id        bigint      NOT NULL,
    unit_id            bigint,
    model_id           bigint,
    problem_type_id    bigint      NOT NULL,
    description        text        NOT NULL,
    priority           aftersales.priority NOT NULL DEFAULT 'C',
    requested_at       timestamptz,
    org_id             bigint,
    field              boolean     NOT NULL DEFAULT false,
    tier               aftersales.ticket_tier NOT NULL DEFAULT 'customer_service',
    assignee_id        bigint,
    status             aftersales.ticket_status NOT NULL DEFAULT 'new',
    held_from          aftersales.ticket_status,
    attempt_count      integer     NOT NULL DEFAULT 0,
    reopen_count       integer     NOT NULL DEFAULT 0,
    opened_at          timestamptz NOT NULL DEFAULT aftersales.now(),
    first_response_at  timestamptz,
    assigned_at        timestamptz,
    arrived_at         timestamptz,
    first_resolved_at  timestamptz,
    resolved_at        timestamptz,
    followed_up_at     timestamptz,
    closed_at          timestamptz,
    cancelled_at       timestamptz,
    satisfied          boolean,
    csat               smallint,
    nps                smallint,
    follow_up_comment  text,
    event_seq          integer     NOT NULL DEFAULT 1,
    last_event         aftersales.ticket_event NOT NULL DEFAULT 'open',
    last_event_at      timestamptz NOT NULL,
    last_actor         text        NOT NULL,
    PRIMARY KEY (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES aftersales.customers (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, unit_id, model_id) REFERENCES aftersales.units (tenant_id, unit_id, model_id),
    FOREIGN KEY (tenant_id, model_id) REFERENCES aftersales.product_models (tenant_id, model_id),
    FOREIGN KEY (tenant_id, problem_type_id) REFERENCES aftersales.problem_types (tenant_id, problem_type_id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES aftersales.organisations (tenant_id, org_id),
    FOREIGN KEY (tenant_id, assignee_id) REFERENCES aftersales.engineers (tenant_id, engineer_id),
    -- channel in its list, a non-empty description, counts >= 0, csat 1-5,
    -- nps 0-10, event_seq >= 1, last_event_at >= opened_at, and what the
    -- states promise (an assignee while assigned, in progress or on site,
    -- none while new or locked; held_from exactly while on hold, from new,
    -- assigned, in_progress or on_site; resolved_at, closed_at, cancelled_at
    -- set in those states), whatever wrote the row
    CONSTRAINT tickets_row_check CHECK (aftersales_internal.tickets_row_check(
        channel, description, status, held_from, assignee_id, attempt_count, reopen_count, csat, nps, event_seq,
        opened_at, last_event_at, resolved_at, closed_at, cancelled_at))
);
CREATE INDEX tickets_customer_idx ON aftersales.tickets (tenant_id, customer_id);
CREATE INDEX tickets_assignee_idx ON aftersales.tickets (tenant_id, assignee_id) WHERE assignee_id IS NOT NULL;

COMMENT ON TABLE aftersales.tickets IS
  'Service tickets (工单), held to the closed loop by a trigger: change them through the aftersales.*_ticket functions or, equivalently checked, by direct INSERT and UPDATE';
COMMENT ON COLUMN aftersales.tickets.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.tickets.ticket_id IS 'Ticket id';
COMMENT ON COLUMN aftersales.tickets.channel IS 'How the request came in: a label of aftersales.ticket_channel; a change is event edit';
COMMENT ON COLUMN aftersales.tickets.customer_id IS 'Customer who asked; fixed at entry';
COMMENT ON COLUMN aftersales.tickets.unit_id IS 'Installed unit concerned, when known; a change is event edit';
COMMENT ON COLUMN aftersales.tickets.model_id IS 'Product model concerned (the unit''s, when a unit is given); counted in occurrences; a change is event edit and moves the count';
COMMENT ON COLUMN aftersales.tickets.problem_type_id IS 'Problem type; counted in occurrences; a change is event edit and moves the count';
COMMENT ON COLUMN aftersales.tickets.description IS 'What the customer reported; a change is event edit';
COMMENT ON COLUMN aftersales.tickets.priority IS 'A (urgent), B or C; changed by event retarget, which re-targets the SLA clocks';
COMMENT ON COLUMN aftersales.tickets.requested_at IS
  'Date and time the customer asked for; assigning after it locks the ticket; a change is event edit';
COMMENT ON COLUMN aftersales.tickets.org_id IS 'Organisation handling the ticket; a change is event edit';
COMMENT ON COLUMN aftersales.tickets.field IS 'Needs on-site service: the ticket gets an arrival clock at entry; a change is event edit';
COMMENT ON COLUMN aftersales.tickets.tier IS 'Support tier handling it; changed by event transfer';
COMMENT ON COLUMN aftersales.tickets.assignee_id IS
  'Engineer who has the ticket; set by assign, reassign and take_over, cleared when it returns to new or is locked';
COMMENT ON COLUMN aftersales.tickets.status IS 'State in the closed loop';
COMMENT ON COLUMN aftersales.tickets.held_from IS 'While on hold: the state that resume returns to';
COMMENT ON COLUMN aftersales.tickets.attempt_count IS
  'Failed handling attempts (event fail); the second one locks the ticket';
COMMENT ON COLUMN aftersales.tickets.reopen_count IS
  'Times the ticket went back to new after being resolved: unsatisfied follow-ups and reopens';
COMMENT ON COLUMN aftersales.tickets.opened_at IS 'When the request was entered; the SLA clocks start here';
COMMENT ON COLUMN aftersales.tickets.first_response_at IS
  'When an engineer first engaged: the first start, arrive, resolve or fail';
COMMENT ON COLUMN aftersales.tickets.assigned_at IS 'When the current assignee was given the ticket';
COMMENT ON COLUMN aftersales.tickets.arrived_at IS 'First arrival on site';
COMMENT ON COLUMN aftersales.tickets.first_resolved_at IS 'First resolution, kept across reopens (first-time fix)';
COMMENT ON COLUMN aftersales.tickets.resolved_at IS 'Latest resolution; NULL again while a reopened ticket is unresolved';
COMMENT ON COLUMN aftersales.tickets.followed_up_at IS 'Latest follow-up call (回访)';
COMMENT ON COLUMN aftersales.tickets.closed_at IS 'When a satisfied follow-up closed the loop';
COMMENT ON COLUMN aftersales.tickets.cancelled_at IS 'When the ticket was cancelled';
COMMENT ON COLUMN aftersales.tickets.satisfied IS 'Latest follow-up: was the customer satisfied';
COMMENT ON COLUMN aftersales.tickets.csat IS 'Latest follow-up: satisfaction score, 1 to 5';
COMMENT ON COLUMN aftersales.tickets.nps IS 'Latest follow-up: likelihood to recommend, 0 to 10';
COMMENT ON COLUMN aftersales.tickets.follow_up_comment IS 'Latest follow-up: the customer''s words';
COMMENT ON COLUMN aftersales.tickets.event_seq IS 'Number of events so far: seq of the latest row in ticket_events';
COMMENT ON COLUMN aftersales.tickets.last_event IS 'Latest event';
COMMENT ON COLUMN aftersales.tickets.last_event_at IS 'When the latest event happened';
COMMENT ON COLUMN aftersales.tickets.last_actor IS 'Who made the latest event';

CREATE FUNCTION aftersales_internal.ticket_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'aftersales_ticket_guard' LANGUAGE C;
COMMENT ON FUNCTION aftersales_internal.ticket_guard() IS
  'Trigger: holds every INSERT and UPDATE of tickets to the closed loop and maintains its columns; refuses DELETE';
-- "zz" so that it fires after any other BEFORE trigger a DBA may add: it
-- must judge the row as it will be written.
CREATE TRIGGER zz_ticket_guard
    BEFORE INSERT OR UPDATE OR DELETE ON aftersales.tickets
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.ticket_guard();

CREATE FUNCTION aftersales.ticket_transitions(
        OUT from_state aftersales.ticket_status, OUT event aftersales.ticket_event,
        OUT to_state aftersales.ticket_status, OUT rule text, OUT counts_attempt boolean,
        OUT counts_reopen boolean, OUT needs_reason boolean, OUT first_response boolean,
        OUT supplies text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'aftersales_ticket_transitions' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 60;
COMMENT ON FUNCTION aftersales.ticket_transitions() IS
  'The closed loop, from the table in C: each (from_state, event, to_state); rule names the condition of an alternative destination (late, attempts, unsatisfied, held_from); supplies names the column the caller provides';

CREATE FUNCTION aftersales.ticket_transition_rule(aftersales.ticket_status, aftersales.ticket_event, aftersales.ticket_status)
    RETURNS text
    AS 'MODULE_PATHNAME', 'aftersales_transition_rule' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.ticket_transition_rule(aftersales.ticket_status, aftersales.ticket_event, aftersales.ticket_status) IS
  'The rule that sent a transition to its alternative destination, or NULL';

CREATE FUNCTION aftersales_internal.declare_event(event text, actor text, at timestamptz, reason text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'aftersales_declare_event' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION aftersales_internal.declare_event(text, text, timestamptz, text) IS
  'Internal: declares the event, actor, time and reason of the next change of tickets (backend-local, until cleared or the transaction ends); NULL clears them';

CREATE FUNCTION aftersales_internal.event_reason() RETURNS text
    AS 'MODULE_PATHNAME', 'aftersales_event_reason' LANGUAGE C STABLE;
COMMENT ON FUNCTION aftersales_internal.event_reason() IS
  'Internal: the reason of the event being recorded: the one the API declared, else the setting aftersales.event_reason';

-- ---------------------------------------------------------------------------
-- The event log

CREATE FUNCTION aftersales_internal.ticket_events_row_check(event aftersales.ticket_event, from_state aftersales.ticket_status,
                                                    seq integer)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_ticket_events_row_check' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales_internal.ticket_events_row_check(aftersales.ticket_event, aftersales.ticket_status, integer) IS
  'Internal: CHECK ticket_events_row_check: seq from 1, and open (only) is first, with no from_state; raises check_violation naming the rule';

CREATE TABLE aftersales.ticket_events (
    -- No foreign key of its own to tenants: (tenant_id, ticket_id) references
    -- tickets, whose tenant_id references tenants, so it is implied, and
    -- its check (a row lock on the tenant, shared by every session of the
    -- tenant) would run once per event.
    tenant_id    bigint      NOT NULL,
    ticket_id    bigint      NOT NULL,
    seq          integer     NOT NULL,
    at           timestamptz NOT NULL,
    actor        text        NOT NULL,
    event        aftersales.ticket_event NOT NULL,
    from_state   aftersales.ticket_status,
    to_state     aftersales.ticket_status NOT NULL,
    reason       text,
    payload      jsonb       NOT NULL DEFAULT '{}',
    recorded_at  timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
    PRIMARY KEY (tenant_id, ticket_id, seq),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    -- seq >= 1; (event = 'open') = (from_state IS NULL) = (seq = 1)
    CONSTRAINT ticket_events_row_check CHECK (aftersales_internal.ticket_events_row_check(event, from_state, seq))
);
COMMENT ON TABLE aftersales.ticket_events IS
  'Append-only log of every change of every ticket (who, when, from, to, why), written by the tickets triggers; aftersales.replay_ticket() rebuilds a ticket from it';
COMMENT ON COLUMN aftersales.ticket_events.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.ticket_events.ticket_id IS 'Ticket changed';
COMMENT ON COLUMN aftersales.ticket_events.seq IS 'Position in the ticket''s history, from 1 (open) without gaps';
COMMENT ON COLUMN aftersales.ticket_events.at IS 'When the event happened (the at argument of the API, else aftersales.now())';
COMMENT ON COLUMN aftersales.ticket_events.actor IS 'Who made it (the actor argument of the API, else aftersales.actor())';
COMMENT ON COLUMN aftersales.ticket_events.event IS 'The event';
COMMENT ON COLUMN aftersales.ticket_events.from_state IS 'State before; NULL for open';
COMMENT ON COLUMN aftersales.ticket_events.to_state IS 'State after';
COMMENT ON COLUMN aftersales.ticket_events.reason IS 'Why (required for fail, release, hold, transfer, cancel, reopen, lock), or the resolution';
COMMENT ON COLUMN aftersales.ticket_events.payload IS
  'What else changed: assignee, tier, priority, follow-up scores, the rule that applied, the SLA clocks'' targets, due times, pauses and elapsed times, and for edit the changes ({"changes": {column: {"old": ..., "new": ...}}})';
COMMENT ON COLUMN aftersales.ticket_events.recorded_at IS 'When the row was written (wall clock), whatever at says';

CREATE FUNCTION aftersales_internal.append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'cannot % %: it is append-only', pg_catalog.lower(TG_OP), TG_TABLE_NAME
        USING ERRCODE = '55000',
              DETAIL = CASE WHEN TG_NARGS OPERATOR(pg_catalog.>) 0
                            THEN 'The log is the history of its objects; replay and audits depend on every row.'
                            ELSE 'The event log is the history of the tickets; replay and audits depend on every row.' END,
              HINT = CASE WHEN TG_NARGS OPERATOR(pg_catalog.>) 0 THEN TG_ARGV[0]
                          ELSE 'Record a new event instead, for example: SELECT aftersales.reopen_ticket(42, reason => ''closed by mistake'');' END;
END
$$;
COMMENT ON FUNCTION aftersales_internal.append_only() IS
  'Trigger: refuses UPDATE, DELETE and TRUNCATE; its argument, if any, is the hint (the event that corrects a mistake)';
CREATE TRIGGER append_only
    BEFORE UPDATE OR DELETE ON aftersales.ticket_events
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.append_only();
CREATE TRIGGER append_only_truncate
    BEFORE TRUNCATE ON aftersales.ticket_events
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales_internal.append_only();

-- ---------------------------------------------------------------------------
-- SLA clocks

CREATE FUNCTION aftersales_internal.ticket_sla_row_check(stopped_at timestamptz, outcome text, paused_since timestamptz)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_ticket_sla_row_check' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales_internal.ticket_sla_row_check(timestamptz, text, timestamptz) IS
  'Internal: CHECK ticket_sla_row_check: an outcome (met, breached, cancelled) exactly when stopped, never paused when stopped; raises check_violation naming the rule';

CREATE TABLE aftersales.ticket_sla (
    -- Tenant implied by the ticket's foreign key, as in ticket_events.
    tenant_id       bigint      NOT NULL,
    ticket_id       bigint      NOT NULL,
    metric          aftersales.sla_metric NOT NULL,
    policy_id       bigint      NOT NULL,
    agreement_id    bigint,
    target          interval    NOT NULL,
    calendar        text,
    pauses_on_hold  boolean     NOT NULL,
    started_at      timestamptz NOT NULL,
    due_at          timestamptz NOT NULL,
    paused          interval    NOT NULL DEFAULT '0',
    paused_since    timestamptz,
    stopped_at      timestamptz,
    outcome         text,
    elapsed         interval,
    elapsed_wall    interval,
    PRIMARY KEY (tenant_id, ticket_id, metric),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    -- outcome in met, breached, cancelled; set exactly when stopped; a
    -- stopped clock is not paused
    CONSTRAINT ticket_sla_row_check CHECK (aftersales_internal.ticket_sla_row_check(stopped_at, outcome, paused_since))
);

COMMENT ON TABLE aftersales.ticket_sla IS
  'SLA clocks: one per ticket and metric (first_response, arrival for field tickets, resolution), kept by the tickets triggers';
COMMENT ON COLUMN aftersales.ticket_sla.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.ticket_sla.ticket_id IS 'Ticket measured';
COMMENT ON COLUMN aftersales.ticket_sla.metric IS 'first_response, arrival or resolution';
COMMENT ON COLUMN aftersales.ticket_sla.policy_id IS 'SLA policy the target came from';
COMMENT ON COLUMN aftersales.ticket_sla.agreement_id IS 'Service agreement that chose the policy; NULL for the tenant default';
COMMENT ON COLUMN aftersales.ticket_sla.target IS 'Time allowed (business time, or wall-clock time when calendar is NULL); re-targeted by priority changes';
COMMENT ON COLUMN aftersales.ticket_sla.calendar IS 'Calendar the clock counts business time on; NULL: a 24x7 wall clock';
COMMENT ON COLUMN aftersales.ticket_sla.pauses_on_hold IS 'Whether the clock stops while the ticket is on hold';
COMMENT ON COLUMN aftersales.ticket_sla.started_at IS 'Start: the ticket''s entry';
COMMENT ON COLUMN aftersales.ticket_sla.due_at IS 'Deadline: target plus pauses, counted from the start on the calendar';
COMMENT ON COLUMN aftersales.ticket_sla.paused IS 'Time paused so far, in the clock''s time (business time on its calendar)';
COMMENT ON COLUMN aftersales.ticket_sla.paused_since IS 'Start of the current pause, while paused';
COMMENT ON COLUMN aftersales.ticket_sla.stopped_at IS 'When the clock stopped: the metric was reached, or it was cancelled';
COMMENT ON COLUMN aftersales.ticket_sla.outcome IS 'met, breached (stopped after due_at), or cancelled (no longer applies); NULL while running';
COMMENT ON COLUMN aftersales.ticket_sla.elapsed IS 'Once stopped: time counted, in the clock''s time, less pauses';
COMMENT ON COLUMN aftersales.ticket_sla.elapsed_wall IS 'Once stopped: wall-clock time from start to stop, pauses included';

-- The rule of every clock statement, written once (src/sla_clock.c): a
-- clock with a calendar counts business time on it, one without counts
-- wall-clock time.
CREATE FUNCTION aftersales_internal.clock_add(clock_calendar text, cal aftersales.calendar, start timestamptz,
                                              amount interval) RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'aftersales_clock_add' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales_internal.clock_add(text, aftersales.calendar, timestamptz, interval) IS
  'Internal: when amount of a clock''s time has elapsed since start: business time on cal when the clock has a calendar (clock_calendar), else wall-clock time';
CREATE FUNCTION aftersales_internal.clock_diff(clock_calendar text, cal aftersales.calendar, a timestamptz,
                                               b timestamptz) RETURNS interval
    AS 'MODULE_PATHNAME', 'aftersales_clock_diff' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales_internal.clock_diff(text, aftersales.calendar, timestamptz, timestamptz) IS
  'Internal: a clock''s time in [a, b): business time on cal when the clock has a calendar (clock_calendar), else wall-clock time';

-- A ticket's SLA policy: the customer's agreement valid on the day of
-- entry (in the zone of the agreement's calendar), else the tenant default.
-- At entry, every new row gets its clocks; one with none is refused.
CREATE FUNCTION aftersales_internal.no_sla_policy(tenant bigint, ticket bigint, customer bigint, priority aftersales.priority)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    RAISE EXCEPTION 'no SLA targets apply to ticket % of customer %', ticket, customer
        USING ERRCODE = '55000',
              DETAIL = pg_catalog.format('Tenant %s has no default SLA policy with targets for priority %s, and the customer no service agreement valid today.', tenant, priority),
              HINT = 'Give the tenant a default policy, for example: INSERT INTO aftersales.sla_policies (name, is_default) VALUES (''default'', true); then its targets in aftersales.sla_targets.';
END
$$;
COMMENT ON FUNCTION aftersales_internal.no_sla_policy(bigint, bigint, bigint, aftersales.priority) IS
  'Internal: the error for a ticket without SLA targets';

-- Entry (C, src/ticket_log.c): one new ticket, the usual case, through
-- statements prepared once per backend; many (open_tickets, INSERT ...
-- SELECT) set-based over the transition table.  As the owner, like
-- ticket_changed.
CREATE FUNCTION aftersales_internal.tickets_entered() RETURNS trigger
    AS 'MODULE_PATHNAME', 'aftersales_tickets_entered'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION aftersales_internal.tickets_entered() IS
  'Trigger, after each INSERT statement on tickets: occurrence counts, SLA clocks, escalation watches and the open events, set-based';
CREATE TRIGGER tickets_entered
    AFTER INSERT ON aftersales.tickets
    REFERENCING NEW TABLE AS new_tickets
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales_internal.tickets_entered();

-- One change of one ticket: its clocks, then its event row.  In C
-- (src/ticket_log.c, which says how the clocks follow the states and time
-- stamps), since it runs on every event: the statements it runs are
-- prepared once per backend.  As the owner, so that no client needs (or
-- gets) the right to write the log or the clocks.
CREATE FUNCTION aftersales_internal.ticket_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'aftersales_ticket_changed'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION aftersales_internal.ticket_changed() IS
  'Trigger, after each update of a ticket that recorded an event: moves its SLA clocks and writes the event row';
CREATE TRIGGER ticket_changed
    AFTER UPDATE ON aftersales.tickets
    FOR EACH ROW WHEN (NEW.event_seq IS DISTINCT FROM OLD.event_seq)
    EXECUTE FUNCTION aftersales_internal.ticket_changed();

-- ---------------------------------------------------------------------------
-- pg_dump and privileges

SELECT pg_catalog.pg_extension_config_dump('aftersales.tickets', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.ticket_events', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.ticket_sla', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.tickets', 'ticket_id')::regclass, '');

-- Trigger functions that write the log and the clocks run as the owner, so
-- no client needs (or gets) the right to write those tables.
REVOKE ALL ON FUNCTION aftersales_internal.tickets_entered() FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.ticket_changed() FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.no_sla_policy(bigint, bigint, bigint, aftersales.priority) FROM PUBLIC;
