-- Warnings at 50%, 75% and 100% of each SLA target, in business time.  The
-- instant at p% of a clock is its start plus p% of its target on the
-- clock's calendar, plus the pauses so far: due_at's own formula, so 100% is
-- due_at.  Paused time does not count; each warning fires once, however
-- often the sweep runs; a sweep after downtime fires everything that came
-- due, oldest first, and only what is due at its now.
\i sql/fixtures/fresh_extension.sql
SET aftersales.now = '2024-04-01 00:00:00+00';

INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.customers (name) VALUES ('Acme Steel');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
INSERT INTO aftersales.engineers (org_id, name) VALUES (1, 'Wang Wei');
-- The office works 09:00-12:00 and 13:00-18:00 Shanghai time on weekdays;
-- 2024-04-04..06 is the Qingming holiday and Sunday 2024-04-07 is worked.
SELECT aftersales.set_calendar('office', 'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00; holiday 2024-04-04..2024-04-06; workday 2024-04-07 09:00-12:00,13:00-18:00');
INSERT INTO aftersales.sla_policies (name, calendar) VALUES ('office', 'office');
INSERT INTO aftersales.sla_targets (policy_id, priority, metric, target, clock, pauses_on_hold)
VALUES (2, 'A', 'first_response', '30 min', 'business', false),
       (2, 'A', 'resolution', '4 h', 'business', true),
       (2, 'A', 'arrival', '2 h', '24x7', false);
INSERT INTO aftersales.service_agreements (customer_id, policy_id, name, valid) VALUES (1, 2, 'OFFICE-1', '[2024-01-01,2024-12-31]');
-- Only warnings in this file: the other stages are switched off.
SELECT aftersales.set_escalation_rule(k, l, enabled => false)
  FROM (VALUES ('escalation', 1), ('escalation', 2), ('escalation', 3), ('not_arrived', 0), ('not_completed', 0),
               ('key_customer', 0), ('lock', 0)) AS r (k, l);

CREATE FUNCTION pg_temp.alerts(since bigint DEFAULT 0)
    RETURNS TABLE (id bigint, ticket bigint, clock text, kind text, level numeric, role text,
                   due_local timestamp, raised_local timestamp, run bigint)
LANGUAGE sql AS $$
SELECT alert_id, ticket_id, clock, kind, level, role, due_at AT TIME ZONE 'Asia/Shanghai',
       raised_at AT TIME ZONE 'Asia/Shanghai', run_id
  FROM aftersales.alerts WHERE alert_id > since ORDER BY alert_id
$$;
CREATE FUNCTION pg_temp.watches(t bigint)
    RETURNS TABLE (clock text, next_local timestamp, warned numeric, level smallint, done text[])
LANGUAGE sql AS $$
SELECT clock, next_check AT TIME ZONE 'Asia/Shanghai', warned, level, done
  FROM aftersales.escalation_watches WHERE ticket_id = t ORDER BY clock
$$;
CREATE FUNCTION pg_temp.sweep(local text, batch integer DEFAULT 500)
    RETURNS TABLE (claimed integer, warnings integer, escalations integer, more_due boolean)
LANGUAGE sql AS $$
SELECT claimed, warnings, escalations, more_due
  FROM aftersales.sweep(batch, (local || ' Asia/Shanghai')::timestamptz)
$$;

-- ---------------------------------------------------------------------------
-- Ticket 1, priority A, entered Wednesday 2024-04-03 17:00.
--   first response, 30 business minutes: 17:15, 17:22:30, 17:30 Wednesday;
--   resolution, 4 business hours: 1 h on Wednesday, the holiday, then the
--     make-up Sunday: 2 h at 10:00 Sunday, 3 h at 11:00, 4 h at 12:00;
--   arrival, 2 wall-clock hours (a 24x7 target): 18:00, 18:30, 19:00.
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'A', description => 'furnace fan stopped',
                              field => true, at => '2024-04-03 17:00 Asia/Shanghai');
SELECT metric, due_at AT TIME ZONE 'Asia/Shanghai' AS due_local FROM aftersales.ticket_sla WHERE ticket_id = 1 ORDER BY metric;
SELECT * FROM pg_temp.watches(1);
SELECT * FROM aftersales.check_watches();

-- Nothing is due before 17:15.
SELECT * FROM pg_temp.sweep('2024-04-03 17:14:59');
SELECT * FROM pg_temp.alerts();
-- 17:15 is due: "at or before now".
SELECT * FROM pg_temp.sweep('2024-04-03 17:15');
SELECT * FROM pg_temp.alerts();
-- Again at the same instant, and a minute later: nothing new.
SELECT * FROM pg_temp.sweep('2024-04-03 17:15');
SELECT * FROM pg_temp.sweep('2024-04-03 17:16');
SELECT * FROM pg_temp.alerts(1);
-- 17:23: 75% (17:22:30).
SELECT * FROM pg_temp.sweep('2024-04-03 17:23');
SELECT * FROM pg_temp.alerts(1);
SELECT * FROM pg_temp.watches(1);

-- The engineer starts at 17:25: the first-response clock stops (met), its
-- watch has nothing left to fire, and 100% never comes.
SELECT aftersales.assign_ticket(1, engineer => 1, at => '2024-04-03 17:24 Asia/Shanghai');
SELECT aftersales.start_work(1, at => '2024-04-03 17:25 Asia/Shanghai');
SELECT * FROM pg_temp.watches(1);
SELECT * FROM pg_temp.sweep('2024-04-03 17:30');

-- Downtime: no sweep from 17:30 Wednesday until Sunday 10:30.  The next
-- sweep catches up, oldest first: the three arrival warnings of Wednesday
-- evening at once, then the resolution's 50% of Sunday 10:00; not 75%
-- (11:00).
SELECT * FROM pg_temp.sweep('2024-04-07 10:30');
SELECT * FROM pg_temp.alerts(2);
SELECT * FROM pg_temp.watches(1);

-- A hold pauses the resolution clock (arrival keeps running, but it is
-- done).  Held from 10:30 to 10:45 on Sunday: 75% moves from 11:00 to
-- 11:15, and 100% (due_at) from 12:00 past the lunch break to 13:15.  No
-- sweep fires anything for it while it is held.
SELECT aftersales.hold_ticket(1, reason => 'customer fetching the key', at => '2024-04-07 10:30 Asia/Shanghai');
SELECT * FROM pg_temp.watches(1);
SELECT * FROM pg_temp.sweep('2024-04-07 10:40');
SELECT aftersales.resume_ticket(1, at => '2024-04-07 10:45 Asia/Shanghai');
SELECT due_at AT TIME ZONE 'Asia/Shanghai' AS due_local, paused FROM aftersales.ticket_sla WHERE ticket_id = 1 AND metric = 'resolution';
SELECT * FROM pg_temp.watches(1);
SELECT * FROM pg_temp.sweep('2024-04-07 11:14');
SELECT * FROM pg_temp.sweep('2024-04-07 11:15');
SELECT * FROM pg_temp.alerts(6);
-- 100% is exactly the clock's due_at: not at 12:15, at 13:15.
SELECT * FROM pg_temp.sweep('2024-04-07 12:15');
SELECT * FROM pg_temp.sweep('2024-04-07 13:15');
SELECT a.due_at = s.due_at AS at_due_at
  FROM aftersales.alerts a JOIN aftersales.ticket_sla s USING (tenant_id, ticket_id)
 WHERE a.clock = 'resolution' AND s.metric = 'resolution' AND a.kind = 'warning' AND a.level = 100;
SELECT * FROM pg_temp.alerts(7);
SELECT * FROM pg_temp.watches(1);

-- Each (ticket, clock, kind, level) once: the constraint says so, whatever
-- the logic.
INSERT INTO aftersales.alerts (tenant_id, ticket_id, clock, kind, level, role, due_at, raised_at)
VALUES (1, 1, 'resolution', 'warning', 100, 'assignee', now(), now());

-- ---------------------------------------------------------------------------
-- A priority change re-targets the running clocks, and the watches follow.
-- Ticket 2 is of a customer without an agreement: the default policy, on
-- the shipped 24x7 calendar.
INSERT INTO aftersales.customers (name) VALUES ('Bolt Foods');
SELECT aftersales.open_ticket(customer => 2, problem_type => 1, priority => 'C', description => 'noise',
                              at => '2024-04-08 09:00 Asia/Shanghai');
-- Priority C: 4 h to first response (50% at 11:00) and 24 h to resolution
-- (50% at 21:00).
SELECT * FROM pg_temp.watches(2);
-- To priority A (5 min / 30 min): elapsed time is kept, so at 09:30 the
-- first response is past 100% (09:05) and the resolution at 100% (09:30).
SELECT aftersales.set_priority(2, priority => 'A', at => '2024-04-08 09:30 Asia/Shanghai');
SELECT * FROM pg_temp.watches(2);
SELECT * FROM aftersales.check_watches();
SELECT * FROM pg_temp.sweep('2024-04-08 09:30');
SELECT * FROM pg_temp.alerts(8);
SELECT * FROM pg_temp.watches(2);

-- ---------------------------------------------------------------------------
-- Bounded: a batch claims at most that many watches, and says whether more
-- is due.  Three tickets entered at once, all overdue.
SELECT count(*) FROM aftersales.open_tickets('[{"customer": 2, "problem_type": 1, "priority": "B", "description": "a"},
                                              {"customer": 2, "problem_type": 1, "priority": "B", "description": "b"},
                                              {"customer": 2, "problem_type": 1, "priority": "B", "description": "c"}]',
                                             at => '2024-04-08 10:00 Asia/Shanghai');
SELECT * FROM pg_temp.sweep('2024-04-08 13:00', batch => 4);
SELECT * FROM pg_temp.sweep('2024-04-08 13:00', batch => 4);
SELECT * FROM pg_temp.sweep('2024-04-08 13:00', batch => 4);
SELECT ticket_id, clock, pg_catalog.array_agg(level ORDER BY level) AS levels
  FROM aftersales.alerts WHERE ticket_id > 2 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT run_id, tenant_id, as_of AT TIME ZONE 'Asia/Shanghai' AS as_of_local, batch, claimed, warnings, more_due,
       finished_at >= started_at AS timed
  FROM aftersales.sweep_runs ORDER BY run_id;
SELECT * FROM aftersales.check_watches();
