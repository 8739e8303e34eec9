-- Seed 002: a request still awaiting assignment (status new, no engineer)
-- at its customer-requested date is locked and goes to the service
-- manager.  The sweep locks it through the closed loop (event lock, actor
-- aftersales-sweep) and raises a 'lock' alert; once per ticket, so a
-- manager's unlock is not undone.  A ticket locked any other way (assigned
-- after the date, handled twice in vain, locked by a person) raises a
-- 'locked' alert from the trigger.  Locked tickets wait in the managers'
-- queue until taken over, unlocked, transferred or cancelled.
\i sql/fixtures/fresh_extension.sql
SET aftersales.now = '2024-05-06 00:00:00+00';

INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.customers (name) VALUES ('Acme Steel');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
INSERT INTO aftersales.engineers (org_id, name) VALUES (1, 'Wang Wei'), (1, 'Li Na');
-- Only the lock rule in this file.
SELECT aftersales.set_escalation_rule(k, l, enabled => false)
  FROM (VALUES ('warning', 50), ('warning', 75), ('warning', 100), ('escalation', 1), ('escalation', 2),
               ('escalation', 3), ('not_arrived', 0), ('not_completed', 0), ('key_customer', 0)) AS r (k, l);

CREATE FUNCTION pg_temp.alerts(since bigint DEFAULT 0)
    RETURNS TABLE (id bigint, ticket bigint, clock text, kind text, level numeric, role text, due_at timestamptz,
                   raised_at timestamptz, run bigint, detail jsonb)
LANGUAGE sql AS $$
SELECT alert_id, ticket_id, clock, kind, level, role, due_at, raised_at, run_id, detail
  FROM aftersales.alerts WHERE alert_id > since ORDER BY alert_id
$$;
CREATE FUNCTION pg_temp.queue()
    RETURNS TABLE (urgency bigint, ticket bigint, waiting boolean, level integer, role text, locked boolean,
                   reason text, status text, locked_at timestamptz, acknowledged_by text, alert bigint)
LANGUAGE sql AS $$
SELECT urgency, ticket_id, waiting, level, role, locked, reason, status, locked_at, acknowledged_by, alert_id
  FROM aftersales.manager_queue
$$;
CREATE FUNCTION pg_temp.sweep(at timestamptz)
    RETURNS TABLE (claimed integer, locks integer, errors integer, more_due boolean)
LANGUAGE sql AS $$
SELECT claimed, locks, errors, more_due FROM aftersales.sweep(now => at)
$$;

-- Six tickets entered Monday 09:00, the customer asks for 12:00.
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'C', description => 'ticket ' || i,
                              requested_at => '2024-05-06 12:00+00', at => '2024-05-06 09:00+00')
  FROM generate_series(1, 6) i;
SELECT ticket_id, clock, next_check FROM aftersales.escalation_watches WHERE clock = 'ticket' ORDER BY ticket_id;
-- 2 is assigned before the date, and handled: not locked.
SELECT aftersales.assign_ticket(2, engineer => 1, at => '2024-05-06 10:00+00');
-- 3 is assigned before the date (and released after it, below).
SELECT aftersales.assign_ticket(3, engineer => 1, at => '2024-05-06 10:00+00');
-- 4 is on hold (waiting on the customer) at the date: not locked while it
-- is; it is resumed in the afternoon.
SELECT aftersales.hold_ticket(4, reason => 'customer on holiday', at => '2024-05-06 11:00+00');
-- 5 gets a later date before the sweep comes (a plain edit, no event).
UPDATE aftersales.tickets SET requested_at = '2024-05-07 12:00+00' WHERE ticket_id = 5;
SELECT ticket_id, status, clock, next_check FROM aftersales.escalation_watches JOIN aftersales.tickets USING (tenant_id, ticket_id)
 WHERE clock = 'ticket' ORDER BY ticket_id;

-- The sweep at 12:00 locks 1 and 6; 4 stays on hold.
SELECT * FROM pg_temp.sweep('2024-05-06 11:59+00');
SELECT * FROM pg_temp.sweep('2024-05-06 12:00+00');
SELECT * FROM pg_temp.alerts();
SELECT seq, event, from_state, to_state, actor, reason, at FROM aftersales.ticket_events WHERE ticket_id = 1 ORDER BY seq;
SELECT ticket_id, status, last_actor FROM aftersales.tickets ORDER BY ticket_id;
-- 3 is released at 12:30 (its engineer never came): awaiting assignment
-- past the date, the next sweep locks it.  4 is resumed at 14:00: locked
-- by the sweep of 14:00.
SELECT aftersales.release_ticket(3, reason => 'engineer off sick', at => '2024-05-06 12:30+00');
SELECT * FROM pg_temp.sweep('2024-05-06 13:00+00');
SELECT aftersales.resume_ticket(4, at => '2024-05-06 14:00+00');
SELECT * FROM pg_temp.sweep('2024-05-06 14:00+00');
SELECT * FROM pg_temp.alerts(2);
SELECT * FROM pg_temp.queue();

-- The manager takes 1 over (the take-over acknowledges it: it leaves the
-- queue, not being escalated), unlocks 3 (back to new, past the date: not
-- locked again, once is once), acknowledges 4 (it stays while locked).
SELECT aftersales.take_over_ticket(1, engineer => 2, actor => 'manager Zhao', at => '2024-05-06 15:00+00');
SELECT aftersales.unlock_ticket(3, reason => 'will dispatch myself', actor => 'manager Zhao', at => '2024-05-06 15:00+00');
SELECT aftersales.acknowledge_ticket(4, note => 'customer called back', actor => 'manager Zhao', at => '2024-05-06 15:00+00');
SELECT * FROM pg_temp.sweep('2024-05-06 15:05+00');
SELECT * FROM pg_temp.queue();
SELECT ticket_id, status FROM aftersales.tickets ORDER BY ticket_id;
SELECT ticket_id, done, next_check FROM aftersales.escalation_watches WHERE clock = 'ticket' ORDER BY ticket_id;

-- 5's new date: Tuesday 12:00.
SELECT * FROM pg_temp.sweep('2024-05-07 12:00+00');
SELECT ticket_id, status FROM aftersales.tickets WHERE ticket_id = 5;

-- ---------------------------------------------------------------------------
-- Locked another way: a 'locked' alert (level: the seq of the lock event)
-- and the queue, with the reason.
--   7: assigned after the requested date (the closed loop locks it);
--   8: handled twice in vain;
--   9: locked by a person.
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'C', description => 'ticket ' || i,
                              requested_at => '2024-05-08 12:00+00', at => '2024-05-08 09:00+00')
  FROM generate_series(7, 9) i;
SELECT aftersales.assign_ticket(7, engineer => 1, at => '2024-05-08 12:30+00');
SELECT aftersales.assign_ticket(8, engineer => 1, at => '2024-05-08 09:10+00');
SELECT aftersales.fail_attempt(8, reason => 'wrong part', at => '2024-05-08 09:20+00');
SELECT aftersales.assign_ticket(8, engineer => 2, at => '2024-05-08 09:30+00');
SELECT aftersales.fail_attempt(8, reason => 'still wrong part', at => '2024-05-08 09:40+00');
SELECT aftersales.lock_ticket(9, reason => 'customer threatens to sue', actor => 'dispatcher Qian', at => '2024-05-08 09:50+00');
SELECT * FROM pg_temp.alerts(4);
SELECT * FROM pg_temp.queue();
-- None of them is locked again by the sweep: they are not new.  Nor is 7
-- when the manager unlocks it: the late rule was seed 002's lock already.
SELECT * FROM pg_temp.sweep('2024-05-08 13:00+00');
SELECT aftersales.unlock_ticket(7, actor => 'manager Zhao', at => '2024-05-08 13:10+00');
SELECT * FROM pg_temp.sweep('2024-05-08 13:15+00');
SELECT ticket_id, status FROM aftersales.tickets WHERE ticket_id = 7;

-- ---------------------------------------------------------------------------
-- A lock that fails (here: a DBA's trigger refuses it) does not stop the
-- sweep: the lock alert is raised all the same, with the error, so the
-- late ticket is not unnoticed; a WARNING goes to the server log.
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'C', description => 'ticket 10',
                              requested_at => '2024-05-09 12:00+00', at => '2024-05-09 09:00+00');
CREATE FUNCTION pg_temp.refuse_10() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.ticket_id = 10 THEN
        RAISE EXCEPTION 'ticket 10 is frozen for an audit';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER refuse_10 BEFORE UPDATE ON aftersales.tickets FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_10();
SELECT * FROM pg_temp.sweep('2024-05-09 12:00+00');
DROP TRIGGER refuse_10 ON aftersales.tickets;
SELECT * FROM pg_temp.alerts(7);
SELECT ticket_id, status FROM aftersales.tickets WHERE ticket_id = 10;
SELECT * FROM pg_temp.sweep('2024-05-09 12:05+00');

SELECT run_id, claimed, locks, errors, more_due FROM aftersales.sweep_runs ORDER BY run_id;
SELECT * FROM aftersales.check_tickets();
SELECT * FROM aftersales.check_watches();
