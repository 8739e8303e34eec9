-- Tiered escalation (seed 001): an SLA clock that misses its target goes
-- to level 1 at the breach (supervisor or second line: a person within 1
-- hour), to level 2 when still running 1 hour later (service manager: a
-- solution within 2 working days), to level 3 after 17 hours (1 + 16: two
-- working days of 8 hours; head of department, emergency team), all in the
-- clock's own time: business time on its calendar, pauses not counted.
-- A stopped clock escalates no further; each level fires once per clock,
-- for ever, also across a reopen.  The managers' queue follows; a
-- manager's acknowledgement is an event of the ticket.
\i sql/fixtures/fresh_extension.sql
SET aftersales.now = '2024-04-01 00:00:00+00';

INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.customers (name) VALUES ('Acme Steel');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
INSERT INTO aftersales.engineers (org_id, name) VALUES (1, 'Wang Wei');
SELECT aftersales.set_calendar('office', 'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00; holiday 2024-04-04..2024-04-06; workday 2024-04-07 09:00-12:00,13:00-18:00');
INSERT INTO aftersales.sla_policies (name, calendar) VALUES ('office', 'office');
INSERT INTO aftersales.sla_targets (policy_id, priority, metric, target, clock, pauses_on_hold)
VALUES (2, 'A', 'first_response', '30 min', 'business', false),
       (2, 'A', 'resolution', '4 h', 'business', true),
       (2, 'A', 'arrival', '2 h', '24x7', false);
INSERT INTO aftersales.service_agreements (customer_id, policy_id, name, valid) VALUES (1, 2, 'OFFICE-1', '[2024-01-01,2024-12-31]');
-- Only the levels in this file.
SELECT aftersales.set_escalation_rule(k, l, enabled => false)
  FROM (VALUES ('warning', 50), ('warning', 75), ('warning', 100), ('not_arrived', 0), ('not_completed', 0),
               ('key_customer', 0), ('lock', 0)) AS r (k, l);
SELECT kind, level, after_minutes, role, description FROM aftersales.escalation_rules_effective
 WHERE tenant_id = 1 ORDER BY kind, level;

CREATE FUNCTION pg_temp.alerts(since bigint DEFAULT 0)
    RETURNS TABLE (id bigint, ticket bigint, clock text, kind text, level numeric, role text,
                   due_local timestamp, raised_local timestamp, acknowledged_by text)
LANGUAGE sql AS $$
SELECT alert_id, ticket_id, clock, kind, level, role, due_at AT TIME ZONE 'Asia/Shanghai',
       raised_at AT TIME ZONE 'Asia/Shanghai', acknowledged_by
  FROM aftersales.alerts WHERE alert_id > since ORDER BY alert_id
$$;
CREATE FUNCTION pg_temp.queue()
    RETURNS TABLE (urgency bigint, ticket bigint, waiting boolean, level integer, role text, locked boolean,
                   reason text, status text, due_local timestamp, escalated_local timestamp,
                   next_local timestamp, acknowledged_by text, note text)
LANGUAGE sql AS $$
SELECT urgency, ticket_id, waiting, level, role, locked, reason, status, due_at AT TIME ZONE 'Asia/Shanghai',
       escalated_at AT TIME ZONE 'Asia/Shanghai', next_check AT TIME ZONE 'Asia/Shanghai', acknowledged_by, note
  FROM aftersales.manager_queue
$$;
CREATE FUNCTION pg_temp.sweep(local text)
    RETURNS TABLE (claimed integer, escalations integer, more_due boolean)
LANGUAGE sql AS $$
SELECT claimed, escalations, more_due FROM aftersales.sweep(now => (local || ' Asia/Shanghai')::timestamptz)
$$;

-- ---------------------------------------------------------------------------
-- Ticket 1, priority A, a field ticket, entered Wednesday 2024-04-03 17:00.
--   first response, due 17:30: level 1 at 17:30; level 2 one business hour
--     later: 30 min on Wednesday, then after the Qingming holiday Sunday
--     09:30; level 3 17 business hours past due: Tuesday 09:30;
--   arrival, 2 h wall clock, due 19:00: levels at 19:00, 20:00, and 17
--     hours past due, Thursday 12:00;
--   resolution, due Sunday 12:00: levels at 12:00, 14:00 (the lunch break
--     does not count), and Tuesday 14:00.
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'A', description => 'furnace fan stopped',
                              field => true, at => '2024-04-03 17:00 Asia/Shanghai');
SELECT clock, kind, level, role, due_at AT TIME ZONE 'Asia/Shanghai' AS due_local
  FROM aftersales_internal.watch_stages('{1,1,1}', '{1,1,1}', '{first_response,arrival,resolution}', until => 'infinity')
 ORDER BY clock, level;

SELECT * FROM pg_temp.sweep('2024-04-03 17:29');
SELECT * FROM pg_temp.sweep('2024-04-03 17:30');
SELECT * FROM pg_temp.alerts();
SELECT * FROM pg_temp.queue();
-- arrival level 1 at 19:00: the ticket already is at level 1
SELECT * FROM pg_temp.sweep('2024-04-03 19:00');
SELECT * FROM pg_temp.alerts(1);
SELECT * FROM pg_temp.queue();

-- A manager acknowledges at 19:10: recorded as an event of the ticket,
-- its alerts acknowledged, no longer waiting in the queue.
SELECT aftersales.acknowledge_ticket(1, note => 'calling the customer', actor => 'manager Zhao',
                                     at => '2024-04-03 19:10 Asia/Shanghai');
SELECT seq, event, from_state, to_state, actor, reason, at AT TIME ZONE 'Asia/Shanghai' AS at_local
  FROM aftersales.ticket_events WHERE ticket_id = 1 ORDER BY seq;
SELECT * FROM pg_temp.alerts();
SELECT * FROM pg_temp.queue();
-- Level 2 at 20:00 (arrival): waiting again.
SELECT * FROM pg_temp.sweep('2024-04-03 20:00');
SELECT * FROM pg_temp.alerts(2);
SELECT * FROM pg_temp.queue();

-- The engineer starts at 20:30: the first response stops (breached), and
-- its level 2 of Sunday 09:30 never fires.  Arrival keeps escalating:
-- level 3 on Thursday 12:00, in the holiday (wall clock).
SELECT aftersales.assign_ticket(1, engineer => 1, at => '2024-04-03 20:20 Asia/Shanghai');
SELECT aftersales.start_work(1, at => '2024-04-03 20:30 Asia/Shanghai');
SELECT metric, outcome FROM aftersales.ticket_sla WHERE ticket_id = 1 ORDER BY metric;
SELECT * FROM pg_temp.sweep('2024-04-04 11:59');
SELECT * FROM pg_temp.sweep('2024-04-04 12:00');
SELECT * FROM pg_temp.alerts(3);
SELECT * FROM pg_temp.queue();

-- On site Sunday 09:00: arrival stops.  Nothing more until the resolution
-- is due at 12:00; level 2 at 14:00, after the lunch break.
SELECT aftersales.arrive_on_site(1, at => '2024-04-07 09:00 Asia/Shanghai');
SELECT * FROM pg_temp.sweep('2024-04-07 11:59');
SELECT * FROM pg_temp.sweep('2024-04-07 12:00');
SELECT * FROM pg_temp.sweep('2024-04-07 13:59');
SELECT * FROM pg_temp.sweep('2024-04-07 14:00');
SELECT * FROM pg_temp.alerts(4);
SELECT * FROM pg_temp.queue();

-- Resolved at 15:00: it leaves the queue, its clocks are stopped.
SELECT aftersales.resolve_ticket(1, resolution => 'replaced the fan motor', at => '2024-04-07 15:00 Asia/Shanghai');
SELECT * FROM pg_temp.queue();
SELECT clock, next_check, warned, level FROM aftersales.escalation_watches WHERE ticket_id = 1 ORDER BY clock;

-- The follow-up at 16:00 finds the customer unsatisfied: back to new, the
-- resolution clock runs again; the business hour resolved does not count,
-- so it was due one business hour later: 14:00 (12:00 and the lunch
-- break).  Levels 1 and 2 are not announced again; level 3, 17 business
-- hours past 14:00, comes on Tuesday at 15:00, and the ticket is back in
-- the queue.
SELECT aftersales.follow_up(1, satisfied => false, csat => 2, at => '2024-04-07 16:00 Asia/Shanghai');
SELECT due_at AT TIME ZONE 'Asia/Shanghai' AS due_local, paused FROM aftersales.ticket_sla WHERE ticket_id = 1 AND metric = 'resolution';
SELECT clock, next_check AT TIME ZONE 'Asia/Shanghai' AS next_local, warned, level FROM aftersales.escalation_watches WHERE ticket_id = 1 ORDER BY clock;
SELECT * FROM pg_temp.sweep('2024-04-07 16:01');
SELECT * FROM pg_temp.sweep('2024-04-09 14:59');
SELECT * FROM pg_temp.sweep('2024-04-09 15:00');
SELECT * FROM pg_temp.alerts(6);
SELECT * FROM pg_temp.queue();

-- Acknowledging needs no reason; a closed or cancelled ticket cannot be
-- acknowledged (the closed loop says so); an unknown ticket is an error.
SELECT aftersales.acknowledge_ticket(1, actor => 'manager Zhao', at => '2024-04-09 15:05 Asia/Shanghai');
SELECT * FROM pg_temp.queue();
SELECT aftersales.cancel_ticket(1, reason => 'replaced under a new contract', at => '2024-04-09 15:10 Asia/Shanghai');
SELECT * FROM pg_temp.queue();
SELECT aftersales.acknowledge_ticket(1, at => '2024-04-09 15:15 Asia/Shanghai');
SELECT aftersales.acknowledge_ticket(42);
SELECT aftersales.acknowledge_ticket(NULL);
SELECT count(*) AS events, count(*) FILTER (WHERE event = 'acknowledge') AS acknowledgements
  FROM aftersales.ticket_events WHERE ticket_id = 1;
-- The log still replays: acknowledge is a transition of the closed loop.
SELECT from_state, to_state, needs_reason FROM aftersales.ticket_transitions() WHERE event = 'acknowledge' ORDER BY 1;
SELECT * FROM aftersales.check_tickets();
SELECT * FROM aftersales.check_watches();
