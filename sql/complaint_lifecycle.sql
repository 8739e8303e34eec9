-- Complaints: the state machine through the API, every error text, the
-- due times on a business calendar, the key-customer alert and the replay
-- check, with fixed times.
\i sql/fixtures/fresh_extension.sql
SET aftersales.now = '2026-03-02 09:00:00+08';
SET aftersales.actor = 'agent.zhang';

-- Fixture: HQ > 华东 > 江苏 > a dealer; a key and a standard customer, a
-- unit, a ticket of each; two members who handle complaints.
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.organisations (parent_id, level, name, region) VALUES (1, 'region', '华东大区', '华东');
INSERT INTO aftersales.organisations (parent_id, level, name, province) VALUES (2, 'province', '江苏', '江苏');
INSERT INTO aftersales.organisations (parent_id, level, org_type, name) VALUES (3, 'outlet', 'dealer', '南京经销商');
INSERT INTO aftersales.customers (name, tier, region, province, org_id)
VALUES ('Acme Steel', 'key', '华东', '江苏', 4), ('Bolt Foods', 'standard', '华东', '江苏', 4);
INSERT INTO aftersales.product_lines (code, name) VALUES ('CMP', 'Compressors');
INSERT INTO aftersales.product_models (product_line_id, code, name) VALUES (1, 'CMP-100', 'Compressor 100');
INSERT INTO aftersales.units (model_id, customer_id, serial, installed_on) VALUES (1, 1, 'SN-0001', '2025-06-01');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
INSERT INTO aftersales.engineers (org_id, name, login) VALUES (4, 'Wang Wei', 'wang');
INSERT INTO aftersales.members (name, via, kind, org_id) VALUES ('agent.zhang', 'app', 'agent', 1), ('qa.li', 'app', 'manager', 1);
SELECT aftersales.open_ticket(1, 1, 'B', 'no power', unit => 1, org => 4) AS key_ticket,
       aftersales.open_ticket(2, 1, 'C', 'no power', org => 4) AS other_ticket;
SELECT aftersales.add_standard_complaint_reasons() AS reasons_added;
SELECT aftersales.add_standard_complaint_reasons() AS added_again;
SELECT code, parent_code, name_en, name_zh FROM aftersales.complaint_reasons WHERE code LIKE 'timeliness%' ORDER BY code;
SELECT aftersales.set_calendar('office', 'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00', 'office hours');
SELECT severity, acknowledge, resolve, calendar
  FROM aftersales.set_complaint_target('high', acknowledge => '2 hours', resolve => '16 hours', calendar => 'office');

CREATE FUNCTION complaint_show(c bigint) RETURNS TABLE (state text, handler text, level smallint, rejects int, seq int,
                                              received timestamptz, ack_due timestamptz, resolve_due timestamptz,
                                              acknowledged timestamptz, resolved timestamptz, confirmed timestamptz,
                                              closed timestamptz)
LANGUAGE sql AS $$
SELECT state, handler, escalation_level, reject_count, event_seq, received_at, acknowledge_due_at, resolve_due_at,
       acknowledged_at, resolved_at, confirmed_at, closed_at
  FROM aftersales.complaints WHERE complaint_id = c
$$;
CREATE FUNCTION complaint_history(c bigint) RETURNS TABLE (seq int, at timestamptz, actor text, event text, from_state text,
                                                 to_state text, reason text, changed text)
LANGUAGE sql AS $$
SELECT seq, at, actor, event, from_state, to_state, reason,
       (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(changes) k)
  FROM aftersales.complaint_events WHERE complaint_id = c ORDER BY seq
$$;

-- The happy path: received on a Friday evening, due times on office hours
-- (acknowledge 2 business hours: Monday 11:00; resolve 16: Tuesday 18:00).
SELECT aftersales.open_complaint('phone', 'timeliness.arrival_late', 'engineer came a day late', ticket => 1,
                                 severity => 'high', at => '2026-03-06 19:00+08') AS complaint;
SELECT * FROM complaint_show(1);
SELECT customer_id, complainant_kind, model_id, org_id, unit_id FROM aftersales.complaints WHERE complaint_id = 1;
-- the key customer's ticket raised an alert at once
SELECT ticket_id, clock, kind, level, role, raised_at, detail FROM aftersales.alerts WHERE kind = 'complaint';
SELECT aftersales.take_complaint(1, at => '2026-03-09 10:00+08');
SELECT aftersales.start_complaint(1, at => '2026-03-09 10:30+08');
SELECT aftersales.resolve_complaint(1, 'apologised; visit fee refunded', at => '2026-03-09 15:00+08');
SELECT aftersales.reject_complaint(1, 'wants a written apology', at => '2026-03-09 16:00+08');
SELECT aftersales.resolve_complaint(1, 'written apology sent', at => '2026-03-10 10:00+08');
SELECT aftersales.confirm_complaint(1, at => '2026-03-10 12:00+08');
SELECT aftersales.close_complaint(1, at => '2026-03-10 12:05+08');
SELECT * FROM complaint_show(1);
SELECT * FROM complaint_history(1);

-- An outside party through a regulator, escalated, assigned at the next
-- level, withdrawn; a standard customer's ticket raises no alert.
SELECT aftersales.open_complaint('regulator', 'charges.overcharge', '12315 referral: visit fee too high',
                                 complainant_name => '12315 hotline', ticket => 2, at => '2026-03-09 09:00+08') AS complaint;
SELECT complainant_kind, customer_id, complainant_name, org_id, acknowledge_due_at FROM aftersales.complaints WHERE complaint_id = 2;
SELECT count(*) AS complaint_alerts FROM aftersales.alerts WHERE kind = 'complaint';
-- the open ticket complained about shows on the managers' queue
SELECT ticket_id, waiting, level, locked, reason, status, complaints FROM aftersales.manager_queue ORDER BY ticket_id;
SELECT aftersales.assign_complaint(2, 'agent.zhang', at => '2026-03-09 09:10+08');
SELECT aftersales.escalate_complaint(2, 'regulator asks for the manager', at => '2026-03-09 09:20+08');
SELECT aftersales.assign_complaint(2, 'qa.li', at => '2026-03-09 09:30+08');
SELECT aftersales.assign_complaint(2, 'agent.zhang', reason => 'back to the agent', at => '2026-03-09 09:40+08');
SELECT aftersales.withdraw_complaint(2, 'settled by phone', at => '2026-03-09 10:00+08');
SELECT * FROM complaint_show(2);
SELECT * FROM complaint_history(2);
SELECT count(*) AS in_queue FROM aftersales.manager_queue;

-- A resolved complaint the complainant never answers is closed with a reason.
SELECT aftersales.open_complaint('wechat', 'service_attitude', 'rude on the phone', customer => 2, at => '2026-03-09 09:00+08');
SELECT aftersales.take_complaint(3, at => '2026-03-09 09:05+08'), aftersales.start_complaint(3, at => '2026-03-09 09:06+08'),
       aftersales.resolve_complaint(3, 'coached the agent', at => '2026-03-09 11:00+08');
SELECT aftersales.close_complaint(3, 'no answer in 7 days', at => '2026-03-16 11:00+08');
SELECT state, confirmed_at, closed_at FROM aftersales.complaints WHERE complaint_id = 3;

-- Errors: each writes nothing.
SET aftersales.now = '2026-03-10 12:00:00+08';
SELECT count(*) AS before_errors FROM aftersales.complaint_events;
SELECT aftersales.open_complaint('fax', 'charges', 'x', customer => 1);
SELECT aftersales.open_complaint('phone', 'charges.bribe', 'x', customer => 1);
SELECT aftersales.open_complaint('phone', 'charges', '  ', customer => 1);
SELECT aftersales.open_complaint('phone', 'charges', 'x');
SELECT aftersales.open_complaint('phone', 'charges', 'x', customer => 1, severity => 'urgent');
SELECT aftersales.open_complaint('phone', 'charges', 'x', ticket => 99);
SELECT aftersales.open_complaint('phone', 'charges', 'x', customer => 99);
UPDATE aftersales.complaint_reasons SET active = false WHERE code = 'other';
SELECT aftersales.open_complaint('phone', 'other', 'x', customer => 1);
SELECT aftersales.open_complaint('phone', 'charges', 'the fee', customer => 1, at => '2026-03-10 09:00+08') AS c4 \gset
-- a confirmation before resolution
SELECT aftersales.confirm_complaint(:c4);
SELECT aftersales.start_complaint(:c4);
SELECT aftersales.resolve_complaint(:c4, 'refund');
SELECT aftersales.resolve_complaint(:c4, ' ');
SELECT aftersales.assign_complaint(:c4, 'nobody');
SELECT aftersales.reject_complaint(:c4, 'no');
SELECT aftersales.take_complaint(:c4, at => '2026-03-10 09:05+08');
-- a second handler cannot take a complaint already taken
SET aftersales.actor = 'qa.li';
SELECT aftersales.take_complaint(:c4, at => '2026-03-10 09:06+08');
RESET aftersales.actor;
SET aftersales.actor = 'agent.zhang';
SELECT aftersales.escalate_complaint(:c4, NULL);
SELECT aftersales.escalate_complaint(:c4, '  ');
SELECT aftersales.take_complaint(404);
SELECT aftersales.close_complaint(1);
SELECT aftersales.start_complaint(:c4, at => '2026-03-10 08:00+08');
SELECT aftersales.start_complaint(:c4, at => NULL);
SELECT aftersales.set_complaint_target('urgent', '1 hour', '2 hours');
SELECT aftersales.set_complaint_target('low', '1 day', '2 days');
SELECT aftersales.set_complaint_target('low', '3 hours', '2 hours');
SELECT aftersales.set_complaint_target('low', '1 hour', '2 hours', calendar => 'moon');
INSERT INTO aftersales.complaint_reasons (code, parent_code, name_en, name_zh) VALUES ('charges.fee.extra', 'charges', 'x', 'x');
INSERT INTO aftersales.complaint_reasons (code, parent_code, name_en, name_zh) VALUES ('parts.slow', 'charges', 'x', 'x');
-- direct writes are judged by the same machine
UPDATE aftersales.complaints SET event = 'confirm', event_at = '2026-03-11 09:00+08', event_seq = event_seq + 1 WHERE complaint_id = :c4;
UPDATE aftersales.complaints SET state = 'closed', event = 'edit', event_at = '2026-03-11 09:00+08', event_seq = event_seq + 1 WHERE complaint_id = :c4;
UPDATE aftersales.complaints SET description = 'the fee, twice', event = 'edit', event_at = '2026-03-11 09:00+08' WHERE complaint_id = :c4;
UPDATE aftersales.complaints SET description = 'the fee, twice', event = 'edit', event_at = '2026-03-11 09:00+08', event_seq = event_seq + 1 WHERE complaint_id = :c4;
SELECT state, handler, event_seq FROM aftersales.complaints WHERE complaint_id = :c4;
DELETE FROM aftersales.complaint_events WHERE complaint_id = 1;
SELECT count(*) AS after_errors FROM aftersales.complaint_events;

-- The replay check proves every complaint is its log, and finds a row
-- changed behind the engine's back.
SELECT * FROM aftersales.check_complaints();
ALTER TABLE aftersales.complaints DISABLE TRIGGER USER;
UPDATE aftersales.complaints SET handler = 'ghost' WHERE complaint_id = :c4;
ALTER TABLE aftersales.complaints ENABLE TRIGGER USER;
SELECT * FROM aftersales.check_complaints();
DROP FUNCTION complaint_show(bigint), complaint_history(bigint);
