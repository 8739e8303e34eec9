-- Ticket life cycle: the happy path of seed 002's closed loop and each of
-- its rules, through the API, with fixed times.
--
-- The extension is recreated so that ids (which appear in messages) do not
-- depend on the tests that ran before in the same database.
\i sql/fixtures/fresh_extension.sql
SET aftersales.now = '2024-03-04 09:00:00+00';
SET aftersales.actor = 'agent.zhang';

-- Fixture: HQ > 华东 > 江苏 > a Nanjing dealer; two customers; a model with a
-- unit; two problem types; three engineers.
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.organisations (parent_id, level, name, region) VALUES (1, 'region', '华东大区', '华东');
INSERT INTO aftersales.organisations (parent_id, level, name, province) VALUES (2, 'province', '江苏', '江苏');
INSERT INTO aftersales.organisations (parent_id, level, org_type, name) VALUES (3, 'outlet', 'dealer', '南京经销商');
SELECT org_id, parent_id, level, org_type, name, region, province FROM aftersales.organisations ORDER BY org_id;
INSERT INTO aftersales.customers (name, tier, region, province, contact_name, org_id)
VALUES ('Acme Steel', 'key', '华东', '江苏', 'Mr Liu', 4), ('Bolt Foods', 'standard', '华东', '江苏', 'Ms Chen', 4);
INSERT INTO aftersales.product_lines (code, name) VALUES ('CMP', 'Compressors');
INSERT INTO aftersales.product_models (product_line_id, code, name) VALUES (1, 'CMP-100', 'Compressor 100'), (1, 'CMP-200', 'Compressor 200');
INSERT INTO aftersales.units (model_id, customer_id, serial, installed_on, warranty_ends)
VALUES (1, 1, 'SN-0001', '2023-06-01', '2025-05-31'), (2, 2, 'SN-0002', '2022-01-10', '2023-01-09');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power'), ('NOISE', 'Abnormal noise');
INSERT INTO aftersales.engineers (org_id, name, login, skills, region)
VALUES (4, 'Wang Wei', 'wang', '{compressor,electrical}', '华东'), (4, 'Li Na', 'li', '{compressor}', '华东'),
       (4, 'Zhao Lei', 'zhao', '{electrical}', '华东');

-- A compact view of a ticket and of its history.
CREATE FUNCTION show(t bigint) RETURNS TABLE (status aftersales.ticket_status, assignee bigint, tier aftersales.ticket_tier,
                                              priority aftersales.priority, attempts int, reopens int, held_from aftersales.ticket_status,
                                              seq int, last_event aftersales.ticket_event)
LANGUAGE sql AS $$
SELECT status, assignee_id, tier, priority, attempt_count, reopen_count, held_from, event_seq, last_event
  FROM aftersales.tickets WHERE ticket_id = t
$$;
CREATE FUNCTION history(t bigint) RETURNS TABLE (seq int, at timestamptz, actor text, event aftersales.ticket_event,
                                                 from_state aftersales.ticket_status, to_state aftersales.ticket_status,
                                                 reason text, payload jsonb)
LANGUAGE sql AS $$
SELECT seq, at, actor, event, from_state, to_state, reason, payload - 'sla'
  FROM aftersales.ticket_events WHERE ticket_id = t ORDER BY seq
$$;

-- ---------------------------------------------------------------------------
-- The happy path: request, assignment, work on site, resolution, follow-up.

SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'compressor does not start',
                              channel => 'phone', unit => 1, field => true, org => 4,
                              requested_at => '2024-03-05 18:00+00');
SELECT * FROM show(1);
-- seed 002: entering a request counts its product and its problem type
SELECT kind, id, code, occurrences FROM aftersales.occurrence_counts ORDER BY kind, id;
SELECT aftersales.assign_ticket(1, engineer => 1, at => '2024-03-04 09:04+00');
SELECT aftersales.start_work(1, actor => 'wang', at => '2024-03-04 09:12+00');
SELECT aftersales.arrive_on_site(1, actor => 'wang', at => '2024-03-04 10:30+00');
SELECT aftersales.resolve_ticket(1, resolution => 'replaced the start capacitor', actor => 'wang', at => '2024-03-04 10:55+00');
SELECT aftersales.follow_up(1, satisfied => true, csat => 5, nps => 9, comment => 'quick and clean',
                            actor => 'callcenter.wu', at => '2024-03-05 10:00+00');
SELECT * FROM show(1);
SELECT ticket_id, opened_at, first_response_at, assigned_at, arrived_at, first_resolved_at, resolved_at,
       followed_up_at, closed_at, cancelled_at, satisfied, csat, nps, follow_up_comment, last_actor
  FROM aftersales.tickets WHERE ticket_id = 1;
SELECT * FROM history(1);
-- the SLA clocks, the default targets for B: response 30 min, resolution 2 h, arrival 4 h
SELECT metric, policy_id, target, calendar, started_at, due_at, paused, stopped_at, outcome, elapsed, elapsed_wall,
       CASE WHEN stopped_at IS NULL AND paused_since IS NULL THEN due_at END AS next_due
  FROM aftersales.ticket_sla WHERE ticket_id = 1 ORDER BY metric;
-- every event is in the log, and replaying it gives the stored ticket
SELECT * FROM aftersales.check_tickets();
SELECT aftersales.replay_ticket(1, 1) = aftersales.ticket_state(1, 1) AS replay_matches;

-- ---------------------------------------------------------------------------
-- Seed 002, entry: awaiting assignment is the default; on hold is the other
-- choice, and needs a reason.

SELECT aftersales.open_ticket(customer => 2, problem_type => 2, priority => 'C', description => 'rattling at night',
                              unit => 2, on_hold => true, reason => 'customer away until Wednesday');
SELECT * FROM show(2);
SELECT aftersales.resume_ticket(2, at => '2024-03-06 08:00+00');
SELECT * FROM show(2);
SELECT kind, id, code, occurrences FROM aftersales.occurrence_counts ORDER BY kind, id;

-- ---------------------------------------------------------------------------
-- Seed 002, rule 4: a failed first handling returns the ticket to awaiting
-- assignment and counts an attempt.  Rule 3(b): handled twice and still
-- unresolved, it is locked and goes to the service manager.

SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'A', description => 'line stopped',
                              unit => 1, field => true, at => '2024-03-04 11:00+00');
SELECT aftersales.assign_ticket(3, engineer => 2, at => '2024-03-04 11:02+00');
SELECT aftersales.arrive_on_site(3, actor => 'li', at => '2024-03-04 12:00+00');
SELECT aftersales.fail_attempt(3, reason => 'needs a new controller board', actor => 'li', at => '2024-03-04 12:40+00');
SELECT * FROM show(3);
SELECT aftersales.assign_ticket(3, engineer => 1, at => '2024-03-04 13:00+00');
SELECT aftersales.start_work(3, actor => 'wang', at => '2024-03-04 13:05+00');
SELECT aftersales.fail_attempt(3, reason => 'board out of stock', actor => 'wang', at => '2024-03-04 14:00+00');
SELECT * FROM show(3);
-- the service manager takes it over and has it solved
SELECT aftersales.take_over_ticket(3, engineer => 3, reason => 'senior engineer', actor => 'manager.sun', at => '2024-03-04 14:30+00');
SELECT aftersales.arrive_on_site(3, actor => 'zhao', at => '2024-03-04 15:30+00');
SELECT aftersales.resolve_ticket(3, resolution => 'board swapped from stock in Shanghai', actor => 'zhao', at => '2024-03-04 17:00+00');
SELECT * FROM show(3);
SELECT * FROM history(3);

-- ---------------------------------------------------------------------------
-- Seed 002, rule 3(a): no engineer assigned before the customer-requested
-- date: assigning it now locks it for the service manager instead.

SELECT aftersales.open_ticket(customer => 2, problem_type => 1, priority => 'C', description => 'no power on line 2',
                              requested_at => '2024-03-04 17:00+00', at => '2024-03-04 12:00+00');
SELECT aftersales.assign_ticket(4, engineer => 1, at => '2024-03-04 17:30+00');
SELECT * FROM show(4);
SELECT * FROM history(4);
-- the manager puts it back into assignment (or takes it over)
SELECT aftersales.unlock_ticket(4, reason => 'customer agreed to tomorrow', actor => 'manager.sun', at => '2024-03-04 17:45+00');
UPDATE aftersales.tickets SET requested_at = '2024-03-05 17:00+00' WHERE ticket_id = 4;
SELECT aftersales.assign_ticket(4, engineer => 1, at => '2024-03-04 17:50+00');
SELECT * FROM show(4);

-- Seed 002, rule 4: the engineer did not handle it before the requested
-- date: it returns to awaiting assignment (release), without an attempt.
SELECT aftersales.release_ticket(4, reason => 'not handled before the requested date', actor => 'dispatch', at => '2024-03-05 17:05+00');
SELECT * FROM show(4);
-- a manager can also lock an open ticket by hand
SELECT aftersales.lock_ticket(4, reason => 'customer escalated by phone', actor => 'manager.sun', at => '2024-03-05 17:10+00');
SELECT aftersales.cancel_ticket(4, reason => 'customer replaced the unit', actor => 'manager.sun', at => '2024-03-05 17:20+00');
SELECT * FROM show(4);
SELECT metric, stopped_at, outcome FROM aftersales.ticket_sla WHERE ticket_id = 4 ORDER BY metric;

-- ---------------------------------------------------------------------------
-- Seed 002, rule 5: the follow-up.  Not satisfied: back to assignment, a
-- reopen is counted; then satisfied: closed.

SELECT aftersales.assign_ticket(2, engineer => 2, at => '2024-03-06 08:30+00');
SELECT aftersales.resolve_ticket(2, resolution => 'tightened the fan mount', actor => 'li', at => '2024-03-06 11:00+00');
SELECT aftersales.follow_up(2, satisfied => false, csat => 2, nps => 3, comment => 'still noisy', at => '2024-03-07 09:00+00');
SELECT * FROM show(2);
SELECT ticket_id, first_resolved_at, resolved_at, closed_at, satisfied, csat FROM aftersales.tickets WHERE ticket_id = 2;
SELECT aftersales.assign_ticket(2, engineer => 2, at => '2024-03-07 09:30+00');
SELECT aftersales.resolve_ticket(2, resolution => 'replaced the fan bearing', actor => 'li', at => '2024-03-07 15:00+00');
SELECT aftersales.follow_up(2, satisfied => true, csat => 4, nps => 8, at => '2024-03-08 09:00+00');
SELECT * FROM show(2);
SELECT ticket_id, first_resolved_at, resolved_at, closed_at, satisfied, csat, nps FROM aftersales.tickets WHERE ticket_id = 2;
-- a closed ticket can be reopened: the final resolution is what counts
SELECT aftersales.reopen_ticket(2, reason => 'noise came back after a week', at => '2024-03-15 09:00+00');
SELECT * FROM show(2);
SELECT ticket_id, first_resolved_at, resolved_at, closed_at FROM aftersales.tickets WHERE ticket_id = 2;
SELECT * FROM history(2);

-- ---------------------------------------------------------------------------
-- Tiers (seed 003): customer service -> technical support -> R&D; each
-- transfer puts the ticket back into assignment in the new tier.

SELECT aftersales.open_ticket(customer => 1, problem_type => 2, priority => 'B', description => 'intermittent fault code E7',
                              at => '2024-03-04 09:30+00');
SELECT aftersales.assign_ticket(5, engineer => 3, at => '2024-03-04 09:35+00');
SELECT aftersales.transfer_ticket(5, tier => 'technical_support', reason => 'needs a specialist', at => '2024-03-04 10:00+00');
SELECT * FROM show(5);
SELECT aftersales.transfer_ticket(5, tier => 'rnd', reason => 'firmware defect suspected', at => '2024-03-04 11:00+00');
SELECT aftersales.assign_ticket(5, engineer => 1, at => '2024-03-04 11:10+00');
SELECT aftersales.reassign_ticket(5, engineer => 2, reason => 'Wang on leave', at => '2024-03-04 11:20+00');
SELECT aftersales.set_priority(5, priority => 'A', reason => 'line down at two sites', at => '2024-03-04 11:30+00');
SELECT * FROM show(5);
SELECT * FROM history(5);

-- ---------------------------------------------------------------------------
-- Set-based entry: open_tickets() enters a batch in one statement, with the
-- same counts, clocks and events as open_ticket().

SELECT * FROM aftersales.open_tickets('[
  {"customer": 1, "problem_type": 1, "priority": "A", "description": "batch 1", "unit": 1, "field": true},
  {"customer": 2, "problem_type": 2, "priority": "C", "description": "batch 2", "model": 2, "channel": "wechat"},
  {"customer": 2, "problem_type": 2, "priority": "B", "description": "batch 3", "on_hold": true}
]', reason => 'waiting for photos', at => '2024-03-06 10:00+00');
SELECT ticket_id, channel, customer_id, unit_id, model_id, problem_type_id, priority, status, held_from, opened_at
  FROM aftersales.tickets WHERE ticket_id >= 6 ORDER BY ticket_id;
SELECT ticket_id, seq, event, to_state, reason, payload - 'sla' AS payload FROM aftersales.ticket_events WHERE ticket_id >= 6 ORDER BY ticket_id;
SELECT ticket_id, metric, target, due_at, paused_since, CASE WHEN stopped_at IS NULL AND paused_since IS NULL THEN due_at END AS next_due
  FROM aftersales.ticket_sla WHERE ticket_id >= 6 ORDER BY ticket_id, metric;
SELECT kind, id, code, occurrences FROM aftersales.occurrence_counts ORDER BY kind, id;

-- All of it replays.
SELECT * FROM aftersales.check_tickets();
SELECT * FROM aftersales.check_occurrences();
SELECT count(*) AS tickets, sum(event_seq) AS events_expected, (SELECT count(*) FROM aftersales.ticket_events) AS events
  FROM aftersales.tickets;
