-- Field changes are events: a change of description, org_id, requested_at,
-- field, channel, unit, product model or problem type is event edit, with who, when, and the old and new values,
-- whether made by a direct UPDATE or by aftersales.edit_ticket(); after
-- close or cancel only a manager or an admin may make one.
\i sql/fixtures/fresh_extension.sql
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_edit_agent, regress_edit_eng, regress_edit_mgr;
RESET client_min_messages;
SET aftersales.now = '2024-05-06 08:00:00+00';

INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.organisations (parent_id, level, name, region) VALUES (1, 'region', 'East', '华东');
INSERT INTO aftersales.organisations (parent_id, level, name, province) VALUES (2, 'province', 'Jiangsu', '江苏');
INSERT INTO aftersales.organisations (parent_id, level, name) VALUES (3, 'outlet', 'Nanjing'), (3, 'outlet', 'Suzhou');
INSERT INTO aftersales.customers (name, org_id) VALUES ('Acme Steel', 4);
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
INSERT INTO aftersales.engineers (org_id, name) VALUES (4, 'Wang Wei');
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'no power', org => 4);
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'to be closed', org => 4);

-- A direct UPDATE of the description is event edit, with old and new.
SET aftersales.now = '2024-05-06 09:00:00+00';
UPDATE aftersales.tickets SET description = 'no power since Monday' WHERE ticket_id = 1;
SELECT seq, at, actor = current_user AS by_me, event, from_state, to_state, reason, payload
  FROM aftersales.ticket_events WHERE ticket_id = 1 AND seq > 1 ORDER BY seq;
SELECT status, event_seq, last_event, last_event_at FROM aftersales.tickets WHERE ticket_id = 1;

-- Several fields at once: one event; unchanged fields are not listed.
SET aftersales.now = '2024-05-06 09:30:00+00';
UPDATE aftersales.tickets SET org_id = 5, requested_at = '2024-05-07 12:00+00', field = true,
       description = description WHERE ticket_id = 1;
SELECT seq, event, payload FROM aftersales.ticket_events WHERE ticket_id = 1 AND seq = 3;
-- Writing the row as it was records nothing.
UPDATE aftersales.tickets SET description = description WHERE ticket_id = 1;
SELECT max(seq) FROM aftersales.ticket_events WHERE ticket_id = 1;

-- Through the API: the event, reason, actor and time are the caller's.
SELECT aftersales.edit_ticket(1, changes => '{"requested_at": null, "org_id": 4}', reason => 'customer called back',
                              actor => 'li.na', at => '2024-05-06 10:00+00');
SELECT seq, at, actor, event, reason, payload FROM aftersales.ticket_events WHERE ticket_id = 1 AND seq = 4;
-- A declared edit with a direct UPDATE is the same event.
SET aftersales.now = '2024-05-06 10:30:00+00';
BEGIN;
SET LOCAL aftersales.event = 'edit';
SET LOCAL aftersales.event_reason = 'typo';
UPDATE aftersales.tickets SET description = 'no power since Tuesday' WHERE ticket_id = 1;
COMMIT;
SELECT seq, event, reason, payload FROM aftersales.ticket_events WHERE ticket_id = 1 AND seq = 5;

-- Refusals of the API.
SELECT aftersales.edit_ticket(1, changes => '{}');
SELECT aftersales.edit_ticket(1, changes => '{"priority": "A"}');
SELECT aftersales.edit_ticket(1, changes => '[1]');
SELECT aftersales.edit_ticket(NULL, changes => '{"description": "x"}');
SELECT aftersales.edit_ticket(99, changes => '{"description": "x"}');
SELECT aftersales.edit_ticket(1, changes => '{"description": "x"}', at => '2024-05-06 07:00+00');
-- edit changes only the free fields; a state column is still the loop's.
BEGIN;
SET LOCAL aftersales.event = 'edit';
UPDATE aftersales.tickets SET status = 'cancelled' WHERE ticket_id = 1;
ROLLBACK;
-- One UPDATE, one event: a field change does not ride along with another event.
UPDATE aftersales.tickets SET priority = 'A', description = 'urgent now' WHERE ticket_id = 1;
BEGIN;
SET LOCAL aftersales.event = 'retarget';
UPDATE aftersales.tickets SET priority = 'A', org_id = 5 WHERE ticket_id = 1;
ROLLBACK;
-- The customer is fixed at entry.
UPDATE aftersales.tickets SET customer_id = customer_id + 1 WHERE ticket_id = 1;

-- After close: an engineer and an agent are refused (42501), a manager may.
SELECT aftersales.assign_ticket(2, 1), aftersales.resolve_ticket(2, 'fixed'), aftersales.follow_up(2, satisfied => true);
CREATE ROLE regress_edit_agent LOGIN IN ROLE aftersales_agent;
CREATE ROLE regress_edit_eng LOGIN IN ROLE aftersales_engineer;
CREATE ROLE regress_edit_mgr LOGIN IN ROLE aftersales_manager;
INSERT INTO aftersales.members (name, kind, org_id) VALUES ('regress_edit_agent', 'agent', 1), ('regress_edit_mgr', 'manager', 1);
INSERT INTO aftersales.members (name, kind, org_id, engineer_id) VALUES ('regress_edit_eng', 'engineer', 4, 1);
SET aftersales.now = '2024-05-06 11:00:00+00';
SET SESSION AUTHORIZATION regress_edit_eng;
-- (the SQLSTATE echoed: verbose errors would pin the C source's line)
UPDATE aftersales.tickets SET description = 'edited after close' WHERE ticket_id = 2;
\echo :LAST_ERROR_SQLSTATE
SELECT aftersales.edit_ticket(2, changes => '{"description": "edited after close"}');
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_edit_agent;
SELECT aftersales.edit_ticket(2, changes => '{"description": "edited after close"}');
-- an open ticket the agent may edit
SELECT aftersales.edit_ticket(1, changes => '{"field": false}');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_edit_mgr;
SELECT aftersales.edit_ticket(2, changes => '{"description": "to be closed, serial noted"}', reason => 'audit');
UPDATE aftersales.tickets SET org_id = 5 WHERE ticket_id = 2;
RESET SESSION AUTHORIZATION;
SELECT seq, actor, event, from_state, to_state, reason, payload
  FROM aftersales.ticket_events WHERE ticket_id = 2 AND event = 'edit' ORDER BY seq;
SELECT ticket_id, event, actor, payload FROM aftersales.ticket_events WHERE ticket_id = 1 AND seq = 6;

-- Replay follows the edits: stored and replayed agree, and check_tickets is silent.
SELECT aftersales.replay_ticket(1, t) = aftersales.ticket_state(1, t) AS same, aftersales.ticket_state(1, t)->'fields' AS fields
  FROM generate_series(1, 2) t;
SELECT * FROM aftersales.check_tickets();
-- A change made behind the guard's back (only a superuser can) is found
-- when a later edit's old value is not what the log last recorded.
SET session_replication_role = replica;
UPDATE aftersales.tickets SET description = 'changed behind the log' WHERE ticket_id = 1;
RESET session_replication_role;
SELECT * FROM aftersales.check_tickets();
SET aftersales.now = '2024-05-06 12:00:00+00';
SELECT aftersales.edit_ticket(1, changes => '{"description": "after the hidden change"}');
SELECT tenant_id, ticket_id, item, stored, replayed FROM aftersales.check_tickets();

-- Channel, unit, model and problem type are edits too: old and new in the
-- log, the occurrence counts follow the model and the problem type, the
-- SLA clocks stay (they follow the agreement, the priority and the day of
-- entry), and replay agrees.
INSERT INTO aftersales.product_lines (code, name) VALUES ('HVAC', 'Air conditioning');
INSERT INTO aftersales.product_models (product_line_id, code, name) VALUES (1, 'AC-1', 'AC one'), (1, 'AC-2', 'AC two');
INSERT INTO aftersales.customers (name, org_id) VALUES ('Other Co', 4);
INSERT INTO aftersales.units (customer_id, model_id, serial) VALUES (1, 2, 'SN-1'), (2, 1, 'SN-2');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOISE', 'Noise');
SET aftersales.now = '2024-05-06 13:00:00+00';
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'noisy', model => 1, org => 4);
CREATE TEMP TABLE clocks_before AS SELECT * FROM aftersales.ticket_sla WHERE ticket_id = 3;
SELECT aftersales.edit_ticket(3, changes => '{"channel": "wechat", "problem_type_id": 2}', reason => 'reclassified',
                              at => '2024-05-06 13:10+00');
-- a unit brings its model
SELECT aftersales.edit_ticket(3, changes => '{"unit_id": 1}', at => '2024-05-06 13:20+00');
SELECT seq, event, reason, payload FROM aftersales.ticket_events WHERE ticket_id = 3 AND event = 'edit' ORDER BY seq;
SELECT channel, unit_id, model_id, problem_type_id FROM aftersales.tickets WHERE ticket_id = 3;
SELECT kind, id, occurrences FROM aftersales.occurrence_counts ORDER BY kind, id;
SELECT * FROM aftersales.check_occurrences();
SELECT aftersales.compact_occurrences() > 0 AS compacted;
SELECT * FROM aftersales.check_occurrences();
SELECT count(*) AS clocks_changed FROM (SELECT * FROM aftersales.ticket_sla WHERE ticket_id = 3
                                        EXCEPT SELECT * FROM clocks_before) c;
SELECT aftersales.replay_ticket(1, 3) = aftersales.ticket_state(1, 3) AS same, aftersales.ticket_state(1, 3)->'fields' AS fields;
-- Refusals: another customer's unit, an unknown unit, a channel not in the list.
SELECT aftersales.edit_ticket(3, changes => '{"unit_id": 2}');
SELECT aftersales.edit_ticket(3, changes => '{"unit_id": 99}');
SELECT aftersales.edit_ticket(3, changes => '{"channel": "fax"}', at => '2024-05-06 13:30+00');
-- After close, a problem type is a manager's change too.
SET SESSION AUTHORIZATION regress_edit_agent;
SELECT aftersales.edit_ticket(2, changes => '{"problem_type_id": 2}');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_edit_mgr;
SELECT aftersales.edit_ticket(2, changes => '{"problem_type_id": 2}', reason => 'reclassified after close');
RESET SESSION AUTHORIZATION;
SELECT seq, actor, event, from_state, payload FROM aftersales.ticket_events WHERE ticket_id = 2 ORDER BY seq DESC LIMIT 1;
SELECT * FROM aftersales.check_occurrences();
SELECT tenant_id, ticket_id, item FROM aftersales.check_tickets() WHERE ticket_id <> 1;

SET client_min_messages = warning;
DROP OWNED BY regress_edit_agent, regress_edit_eng, regress_edit_mgr;
DROP ROLE regress_edit_agent, regress_edit_eng, regress_edit_mgr;
