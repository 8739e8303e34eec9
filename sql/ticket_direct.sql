-- Direct INSERT and UPDATE of tickets go through the same closed loop as
-- the API: an undeclared change is accepted only when exactly one event
-- explains it; a declared one (SET LOCAL aftersales.event) is checked like
-- an API call; every change writes its event and moves the clocks.  The
-- event log is append-only; check_tickets() finds a tampered ticket.
\i sql/fixtures/fresh_extension.sql
SET aftersales.now = '2024-06-03 08:00:00+00';
SET aftersales.actor = 'sql.console';

INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.customers (name) VALUES ('Acme Steel');
INSERT INTO aftersales.product_lines (code, name) VALUES ('CMP', 'Compressors');
INSERT INTO aftersales.product_models (product_line_id, code, name) VALUES (1, 'CMP-100', 'Compressor 100');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
INSERT INTO aftersales.engineers (org_id, name) VALUES (1, 'Wang Wei'), (1, 'Li Na');

-- Entry by INSERT, as new (the default) or on_hold: the same counts, clocks
-- and open event as open_ticket().
INSERT INTO aftersales.tickets (customer_id, problem_type_id, model_id, description, priority)
VALUES (1, 1, 1, 'entered by INSERT', 'B') RETURNING ticket_id, status, opened_at, event_seq, last_event, last_actor;
INSERT INTO aftersales.tickets (customer_id, problem_type_id, description, status)
VALUES (1, 1, 'entered on hold', 'on_hold') RETURNING ticket_id, status, held_from;
INSERT INTO aftersales.tickets (customer_id, problem_type_id, description) VALUES (1, 1, 'third');
SELECT ticket_id, seq, at, actor, event, from_state, to_state FROM aftersales.ticket_events ORDER BY ticket_id, seq;
SELECT ticket_id, metric, due_at, paused_since FROM aftersales.ticket_sla ORDER BY ticket_id, metric;
SELECT kind, id, code, occurrences FROM aftersales.occurrence_counts ORDER BY kind, id;

-- An undeclared UPDATE that exactly one event explains.
SET aftersales.now = '2024-06-03 08:10:00+00';
UPDATE aftersales.tickets SET status = 'assigned', assignee_id = 1 WHERE ticket_id = 1;
UPDATE aftersales.tickets SET status = 'in_progress' WHERE ticket_id = 1;
UPDATE aftersales.tickets SET priority = 'A' WHERE ticket_id = 1;
UPDATE aftersales.tickets SET assignee_id = 2 WHERE ticket_id = 1;
SELECT ticket_id, status, assignee_id, priority, assigned_at, first_response_at, event_seq, last_event
  FROM aftersales.tickets WHERE ticket_id = 1;
SELECT seq, at, actor, event, from_state, to_state, reason, payload - 'sla' AS payload
  FROM aftersales.ticket_events WHERE ticket_id = 1 ORDER BY seq;
SELECT metric, target, due_at, stopped_at, outcome FROM aftersales.ticket_sla WHERE ticket_id = 1 ORDER BY metric;

-- Refused: no event explains it, the event lacks its column or its reason,
-- or more than one event explains it.
UPDATE aftersales.tickets SET status = 'resolved' WHERE ticket_id = 3;
UPDATE aftersales.tickets SET status = 'assigned' WHERE ticket_id = 3;
UPDATE aftersales.tickets SET status = 'cancelled' WHERE ticket_id = 3;
UPDATE aftersales.tickets SET tier = 'rnd' WHERE ticket_id = 3;
UPDATE aftersales.tickets SET status = 'new' WHERE ticket_id = 1;
UPDATE aftersales.tickets SET priority = 'C', assignee_id = 2 WHERE ticket_id = 1;
UPDATE aftersales.tickets SET status = 'assigned', priority = 'C', assignee_id = 2 WHERE ticket_id = 1;
-- assigned -> new: a failed attempt, or a release?
UPDATE aftersales.tickets SET status = 'assigned', assignee_id = 2 WHERE ticket_id = 3;
UPDATE aftersales.tickets SET status = 'new' WHERE ticket_id = 3;

-- The columns the loop maintains change only through events; those fixed
-- at entry never; the others (description, org_id, requested_at, field)
-- are event edit, recorded with their old and new values.
UPDATE aftersales.tickets SET attempt_count = 5 WHERE ticket_id = 1;
UPDATE aftersales.tickets SET resolved_at = '2024-06-03 09:00+00' WHERE ticket_id = 1;
UPDATE aftersales.tickets SET event_seq = 99 WHERE ticket_id = 1;
UPDATE aftersales.tickets SET customer_id = customer_id + 1 WHERE ticket_id = 1;
UPDATE aftersales.tickets SET opened_at = '2024-01-01' WHERE ticket_id = 1;
UPDATE aftersales.tickets SET description = 'entered by INSERT, edited', requested_at = '2024-06-04 12:00+00', field = true
 WHERE ticket_id = 1;
SELECT ticket_id, description, requested_at, field, event_seq FROM aftersales.tickets WHERE ticket_id = 1;

-- A declared event: checked like an API call, and applies to every row.
BEGIN;
SET LOCAL aftersales.event = 'fail';
UPDATE aftersales.tickets SET status = 'new' WHERE ticket_id = 1;
ROLLBACK;
BEGIN;
SET LOCAL aftersales.event = 'fail';
SET LOCAL aftersales.event_reason = 'customer not on site';
SET LOCAL aftersales.actor = 'wang';
UPDATE aftersales.tickets SET status = 'new' WHERE ticket_id = 1 RETURNING ticket_id, status, assignee_id, attempt_count;
COMMIT;
BEGIN;
SET LOCAL aftersales.event = 'start';
UPDATE aftersales.tickets SET status = 'on_site' WHERE ticket_id = 3;
ROLLBACK;
BEGIN;
SET LOCAL aftersales.event = 'assign';
UPDATE aftersales.tickets SET status = 'assigned' WHERE ticket_id = 3;
ROLLBACK;
BEGIN;
SET LOCAL aftersales.event = 'open';
UPDATE aftersales.tickets SET description = 'reopen?' WHERE ticket_id = 3;
ROLLBACK;
BEGIN;
SET LOCAL aftersales.event = 'close';
UPDATE aftersales.tickets SET description = 'x' WHERE ticket_id = 3;
ROLLBACK;
-- one statement, two tickets, two events
BEGIN;
SET LOCAL aftersales.event = 'cancel';
SET LOCAL aftersales.event_reason = 'customer withdrew both requests';
UPDATE aftersales.tickets SET description = description WHERE ticket_id IN (2, 3) RETURNING ticket_id, status;
COMMIT;
SELECT ticket_id, seq, actor, event, from_state, to_state, reason FROM aftersales.ticket_events
 WHERE ticket_id IN (1, 2, 3) AND seq > 1 ORDER BY ticket_id, seq;

-- Tickets are never deleted; the event log is append-only.
DELETE FROM aftersales.tickets WHERE ticket_id = 3;
UPDATE aftersales.ticket_events SET reason = 'rewritten' WHERE ticket_id = 1;
DELETE FROM aftersales.ticket_events WHERE ticket_id = 1;
TRUNCATE aftersales.ticket_events;
SELECT count(*) FROM aftersales.ticket_events;

-- The clocks moved with the direct changes exactly as with the API, so the
-- replay agrees with every ticket...
SELECT * FROM aftersales.check_tickets();
-- ...until someone with the power to bypass the trigger edits a row.
ALTER TABLE aftersales.tickets DISABLE TRIGGER zz_ticket_guard;
UPDATE aftersales.tickets SET attempt_count = 0, status = 'assigned', assignee_id = 1 WHERE ticket_id = 1;
ALTER TABLE aftersales.tickets ENABLE TRIGGER zz_ticket_guard;
UPDATE aftersales.ticket_sla SET outcome = 'met', stopped_at = '2024-06-03 08:11+00' WHERE ticket_id = 1 AND metric = 'resolution';
SELECT * FROM aftersales.check_tickets();

-- Entries that skip the loop are refused (last: failed INSERTs use up ids).
INSERT INTO aftersales.tickets (customer_id, problem_type_id, description, status)
VALUES (1, 1, 'straight to assigned', 'assigned');
INSERT INTO aftersales.tickets (customer_id, problem_type_id, description, assignee_id)
VALUES (1, 1, 'with an engineer', 1);
INSERT INTO aftersales.tickets (customer_id, problem_type_id, description, attempt_count)
VALUES (1, 1, 'with attempts', 3);
INSERT INTO aftersales.tickets (customer_id, problem_type_id, description, resolved_at)
VALUES (1, 1, 'already resolved', '2024-06-03 08:00+00');
SELECT count(*) AS tickets FROM aftersales.tickets;

-- The row rules (one CHECK per table, src/row_checks.c) hold whatever
-- writes the row, even with the guard disabled, and say which rule broke.
ALTER TABLE aftersales.tickets DISABLE TRIGGER zz_ticket_guard;
UPDATE aftersales.tickets SET status = 'new' WHERE ticket_id = 1;
UPDATE aftersales.tickets SET csat = 7 WHERE ticket_id = 1;
UPDATE aftersales.tickets SET channel = 'fax' WHERE ticket_id = 1;
UPDATE aftersales.tickets SET status = 'on_hold' WHERE ticket_id = 1;
ALTER TABLE aftersales.tickets ENABLE TRIGGER zz_ticket_guard;
INSERT INTO aftersales.ticket_events (tenant_id, ticket_id, seq, at, actor, event, from_state, to_state)
VALUES (1, 1, 99, '2024-06-03 09:00+00', 'dba', 'open', NULL, 'new');
INSERT INTO aftersales.ticket_events (tenant_id, ticket_id, seq, at, actor, event, from_state, to_state)
VALUES (1, 1, 99, '2024-06-03 09:00+00', 'dba', 'assign', NULL, 'assigned');
UPDATE aftersales.ticket_sla SET outcome = 'late' WHERE ticket_id = 1 AND metric = 'resolution';
UPDATE aftersales.escalation_watches SET warned = 120 WHERE ticket_id = 1 AND clock = 'resolution';
INSERT INTO aftersales.occurrences (model_id, problem_type_id, n) VALUES (NULL, NULL, 1);
