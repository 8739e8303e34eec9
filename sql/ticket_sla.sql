-- SLA clocks: targets from the customer's service agreement or the tenant
-- default, on a business calendar with a holiday and a make-up working day
-- (调休); pauses on hold measured in business time; resolving straight from
-- hold; priority changes (retarget); reopen; breaches; the 24x7 clock.
\i sql/fixtures/fresh_extension.sql
SET aftersales.now = '2024-04-01 00:00:00+00';

INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.customers (name, tier) VALUES ('Acme Steel', 'key'), ('Bolt Foods', 'standard');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
INSERT INTO aftersales.engineers (org_id, name) VALUES (1, 'Wang Wei'), (1, 'Li Na');

-- The office works 09:00-12:00 and 13:00-18:00 Shanghai time on weekdays;
-- 2024-04-04..06 is the Qingming holiday and Sunday 2024-04-07 is worked.
SELECT aftersales.set_calendar('office', 'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00; holiday 2024-04-04..2024-04-06; workday 2024-04-07 09:00-12:00,13:00-18:00');
-- A 'gold' agreement policy on it: business-time response and resolution,
-- a wall-clock (24x7) arrival target.
INSERT INTO aftersales.sla_policies (name, calendar, description) VALUES ('gold', 'office', 'Key customers');
INSERT INTO aftersales.sla_targets (policy_id, priority, metric, target, clock, pauses_on_hold)
VALUES (2, 'A', 'first_response', '30 min', 'business', false),
       (2, 'A', 'resolution', '4 h', 'business', true),
       (2, 'A', 'arrival', '2 h', '24x7', false),
       (2, 'C', 'first_response', '2 h', 'business', false),
       (2, 'C', 'resolution', '16 h', 'business', true),
       (2, 'C', 'arrival', '8 h', '24x7', false);
INSERT INTO aftersales.service_agreements (customer_id, policy_id, name, valid, service_items)
VALUES (1, 2, 'GOLD-2024-001', '[2024-01-01,2024-12-31]', '{maintenance,repair}');
-- a second agreement may not overlap the first
INSERT INTO aftersales.service_agreements (customer_id, policy_id, name, valid)
VALUES (1, 1, 'OVERLAP', '[2024-06-01,2025-05-31]');

CREATE FUNCTION clocks(t bigint) RETURNS TABLE (metric aftersales.sla_metric, policy bigint, agreement bigint, target interval,
                                                calendar text, due_local timestamp, paused interval,
                                                paused_since_local timestamp, stopped_local timestamp, outcome text,
                                                elapsed interval, elapsed_wall interval, next_due_local timestamp)
LANGUAGE sql AS $$
SELECT metric, policy_id, agreement_id, target, calendar, due_at AT TIME ZONE 'Asia/Shanghai', paused,
       paused_since AT TIME ZONE 'Asia/Shanghai', stopped_at AT TIME ZONE 'Asia/Shanghai', outcome, elapsed,
       elapsed_wall, CASE WHEN stopped_at IS NULL AND paused_since IS NULL THEN due_at END AT TIME ZONE 'Asia/Shanghai'
  FROM aftersales.ticket_sla WHERE ticket_id = t ORDER BY metric
$$;

-- ---------------------------------------------------------------------------
-- Ticket 1: customer 1 (gold), priority A, entered Wednesday 17:00 local.
-- Response due 17:30; resolution due after 1 h on Wednesday and 3 h on the
-- make-up Sunday: Sunday 12:00.  Arrival, a 24x7 target: 19:00.
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'A', description => 'furnace fan stopped',
                              field => true, at => '2024-04-03 17:00 Asia/Shanghai');
SELECT * FROM clocks(1);
SELECT aftersales.assign_ticket(1, engineer => 1, at => '2024-04-03 17:05 Asia/Shanghai');
SELECT aftersales.start_work(1, at => '2024-04-03 17:10 Asia/Shanghai');
-- Waiting on the customer from 17:20 Wednesday to 10:00 Sunday: 40 min of
-- business time on Wednesday plus 60 on Sunday.  Only resolution pauses.
SELECT aftersales.hold_ticket(1, reason => 'plant closed for the holiday', at => '2024-04-03 17:20 Asia/Shanghai');
SELECT * FROM clocks(1);
SELECT aftersales.resume_ticket(1, at => '2024-04-07 10:00 Asia/Shanghai');
-- resolution now due 1 h 40 min of business time later: 14:40 Sunday
SELECT * FROM clocks(1);
SELECT aftersales.arrive_on_site(1, at => '2024-04-07 11:00 Asia/Shanghai');
SELECT aftersales.resolve_ticket(1, resolution => 'replaced the fan motor', at => '2024-04-07 14:00 Asia/Shanghai');
SELECT * FROM clocks(1);

-- ---------------------------------------------------------------------------
-- Ticket 2: resolved straight from hold: the last pause counts too.
-- Entered Monday 08:00 local (before opening): the clocks start at 09:00.
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'C', description => 'slow cooling',
                              at => '2024-04-01 08:00 Asia/Shanghai');
SELECT aftersales.assign_ticket(2, engineer => 2, at => '2024-04-01 09:30 Asia/Shanghai');
SELECT aftersales.start_work(2, at => '2024-04-01 10:00 Asia/Shanghai');
SELECT aftersales.hold_ticket(2, reason => 'customer tests overnight', at => '2024-04-01 16:00 Asia/Shanghai');
SELECT aftersales.resolve_ticket(2, resolution => 'customer confirms it works', at => '2024-04-02 10:00 Asia/Shanghai');
-- paused 16:00-18:00 Monday and 09:00-10:00 Tuesday: 3 h; elapsed 6 h
SELECT * FROM clocks(2);
SELECT event, payload->'sla'->'resolution' AS resolution FROM aftersales.ticket_events WHERE ticket_id = 2 ORDER BY seq;

-- ---------------------------------------------------------------------------
-- Ticket 3: a priority change re-targets the running clocks, keeping the
-- time elapsed and the pauses: C (16 h) raised to A (4 h) after a pause.
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'C', description => 'noise', field => true,
                              at => '2024-04-01 09:00 Asia/Shanghai');
SELECT aftersales.hold_ticket(3, reason => 'waiting for photos', at => '2024-04-01 10:00 Asia/Shanghai');
SELECT aftersales.resume_ticket(3, at => '2024-04-01 11:00 Asia/Shanghai');
SELECT * FROM clocks(3);
SELECT aftersales.set_priority(3, priority => 'A', reason => 'production stopped', at => '2024-04-01 11:30 Asia/Shanghai');
-- response due 09:30 (already past: the clock keeps its start), resolution
-- 4 h + 1 h paused from 09:00: 15:00; arrival 2 h wall clock: 11:00
SELECT * FROM clocks(3);
SELECT payload FROM aftersales.ticket_events WHERE ticket_id = 3 AND event = 'retarget';
SELECT aftersales.assign_ticket(3, engineer => 1, at => '2024-04-01 11:40 Asia/Shanghai');
SELECT aftersales.arrive_on_site(3, at => '2024-04-01 13:30 Asia/Shanghai');
SELECT aftersales.resolve_ticket(3, at => '2024-04-01 15:30 Asia/Shanghai');
-- all three breached
SELECT * FROM clocks(3);

-- ---------------------------------------------------------------------------
-- Ticket 4: reopen.  The resolution clock runs again from the reopening,
-- the time spent resolved counted as a pause; first_resolved_at is kept and
-- the verdict is the final resolution's.
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'A', description => 'alarm',
                              at => '2024-04-01 09:00 Asia/Shanghai');
SELECT aftersales.assign_ticket(4, engineer => 1, at => '2024-04-01 09:10 Asia/Shanghai');
SELECT aftersales.resolve_ticket(4, resolution => 'reset the alarm', at => '2024-04-01 10:00 Asia/Shanghai');
SELECT * FROM clocks(4);
SELECT aftersales.follow_up(4, satisfied => false, csat => 1, at => '2024-04-01 14:00 Asia/Shanghai');
-- resolved for 10:00-12:00 and 13:00-14:00: 3 h paused, due 13:00 + 3 h = 17:00
SELECT * FROM clocks(4);
SELECT aftersales.assign_ticket(4, engineer => 2, at => '2024-04-01 14:10 Asia/Shanghai');
SELECT aftersales.resolve_ticket(4, resolution => 'replaced the sensor', at => '2024-04-01 16:00 Asia/Shanghai');
SELECT * FROM clocks(4);
SELECT ticket_id, first_resolved_at AT TIME ZONE 'Asia/Shanghai' AS first_resolved, resolved_at AT TIME ZONE 'Asia/Shanghai' AS resolved,
       reopen_count FROM aftersales.tickets WHERE ticket_id = 4;

-- ---------------------------------------------------------------------------
-- Ticket 5: customer 2 has no agreement: the tenant default (seed 001, on
-- the 24x7 calendar).  Ticket 6: customer 1 after the agreement expired.
SELECT aftersales.open_ticket(customer => 2, problem_type => 1, priority => 'A', description => 'no power',
                              field => true, at => '2024-04-06 23:00 Asia/Shanghai');
SELECT * FROM clocks(5);
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'C', description => 'after expiry',
                              at => '2025-01-01 08:00 Asia/Shanghai');
SELECT * FROM clocks(6);
-- cancelling stops every running clock as cancelled
SELECT aftersales.hold_ticket(6, reason => 'customer unreachable', at => '2025-01-01 09:00 Asia/Shanghai');
SELECT aftersales.cancel_ticket(6, reason => 'duplicate of a web request', at => '2025-01-02 09:00 Asia/Shanghai');
SELECT * FROM clocks(6);

-- The running clocks (not stopped, not paused) by due time.
SELECT ticket_id, metric, due_at AT TIME ZONE 'Asia/Shanghai' AS next_due_local
  FROM aftersales.ticket_sla WHERE stopped_at IS NULL AND paused_since IS NULL ORDER BY due_at, ticket_id, metric;
-- What the escalation sweeps scan: the watches, by when they next need a look.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT ticket_id FROM aftersales.escalation_watches WHERE next_check < '2024-04-08';
RESET enable_seqscan;

-- A tenant without a default policy cannot take tickets until it has one.
INSERT INTO aftersales.tenants (tenant_id, name) VALUES (2, 'second company');
SET aftersales.tenant_id = '2';
INSERT INTO aftersales.customers (name) VALUES ('Other');
INSERT INTO aftersales.problem_types (code, name) VALUES ('X', 'Other');
SELECT aftersales.open_ticket(customer => 3, problem_type => 2, priority => 'B', description => 'no policy yet');
INSERT INTO aftersales.calendars (name, calendar) VALUES ('24x7', 'zone=UTC; mon-sun 00:00-24:00');
INSERT INTO aftersales.sla_policies (name, is_default) VALUES ('default', true);
INSERT INTO aftersales.sla_targets (policy_id, priority, metric, target) VALUES (3, 'B', 'resolution', '8 h');
SELECT aftersales.open_ticket(customer => 3, problem_type => 2, priority => 'B', description => 'now it has one');
SELECT tenant_id, ticket_id, metric, target, due_at FROM aftersales.ticket_sla WHERE tenant_id = 2;
RESET aftersales.tenant_id;

SELECT * FROM aftersales.check_tickets();
