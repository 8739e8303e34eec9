-- Ticket errors: every event in every state (the illegal ones must fail
-- with the ticket, its state, the event and the allowed events), and every
-- input check of the API.  Nothing is half-written by a failed call.
\i sql/fixtures/fresh_extension.sql
SET aftersales.now = '2024-05-06 08:00:00+00';

INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.customers (name) VALUES ('Acme Steel'), ('Bolt Foods');
INSERT INTO aftersales.product_lines (code, name) VALUES ('CMP', 'Compressors');
INSERT INTO aftersales.product_models (product_line_id, code, name) VALUES (1, 'CMP-100', 'Compressor 100'), (1, 'CMP-200', 'Compressor 200');
INSERT INTO aftersales.units (model_id, customer_id, serial) VALUES (1, 1, 'SN-0001');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
INSERT INTO aftersales.engineers (org_id, name) VALUES (1, 'Wang Wei'), (1, 'Li Na');
INSERT INTO aftersales.engineers (org_id, name, active) VALUES (1, 'Former', false);

-- One ticket in each state, at 08:00.
CREATE FUNCTION new_ticket() RETURNS bigint LANGUAGE sql
AS $$ SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'test') $$;
SELECT new_ticket() AS t_new;                                                                   -- 1
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'test',
                              on_hold => true, reason => 'customer away');                      -- 2 on_hold
SELECT aftersales.assign_ticket(new_ticket(), 1);                                               -- 3 assigned
SELECT aftersales.start_work(t, at => '2024-05-06 08:01+00') FROM (SELECT new_ticket() AS t) x, LATERAL aftersales.assign_ticket(t, 1);   -- 4
SELECT aftersales.arrive_on_site(t, at => '2024-05-06 08:01+00') FROM (SELECT new_ticket() AS t) x, LATERAL aftersales.assign_ticket(t, 1); -- 5
SELECT aftersales.lock_ticket(new_ticket(), reason => 'manager wants it');                      -- 6 locked
SELECT aftersales.resolve_ticket(t, at => '2024-05-06 08:01+00') FROM (SELECT new_ticket() AS t) x, LATERAL aftersales.assign_ticket(t, 1); -- 7
SELECT aftersales.follow_up(t, satisfied => true, at => '2024-05-06 08:02+00')
  FROM (SELECT new_ticket() AS t) x, LATERAL aftersales.assign_ticket(t, 1),
       LATERAL aftersales.resolve_ticket(t, at => '2024-05-06 08:01+00');                      -- 8 closed
SELECT aftersales.cancel_ticket(new_ticket(), reason => 'duplicate');                           -- 9 cancelled
SELECT ticket_id, status FROM aftersales.tickets ORDER BY ticket_id;
SET aftersales.now = '2024-05-06 09:00:00+00';

-- attempt(ticket, event): the event through its API function with valid
-- arguments, then undone; the new state, or the error.
CREATE FUNCTION attempt(t bigint, ev aftersales.ticket_event) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    s text;
    state text;
    msg text;
BEGIN
    BEGIN
        s := CASE ev
            WHEN 'assign' THEN aftersales.assign_ticket(t, 2)::text
            WHEN 'reassign' THEN aftersales.reassign_ticket(t, 2)::text
            WHEN 'take_over' THEN aftersales.take_over_ticket(t, 2)::text
            WHEN 'start' THEN aftersales.start_work(t)::text
            WHEN 'arrive' THEN aftersales.arrive_on_site(t)::text
            WHEN 'resolve' THEN aftersales.resolve_ticket(t)::text
            WHEN 'fail' THEN aftersales.fail_attempt(t, 'r')::text
            WHEN 'release' THEN aftersales.release_ticket(t, 'r')::text
            WHEN 'hold' THEN aftersales.hold_ticket(t, 'r')::text
            WHEN 'resume' THEN aftersales.resume_ticket(t)::text
            WHEN 'transfer' THEN aftersales.transfer_ticket(t, 'rnd', 'r')::text
            WHEN 'follow_up' THEN aftersales.follow_up(t, true)::text
            WHEN 'cancel' THEN aftersales.cancel_ticket(t, 'r')::text
            WHEN 'reopen' THEN aftersales.reopen_ticket(t, 'r')::text
            WHEN 'lock' THEN aftersales.lock_ticket(t, 'r')::text
            WHEN 'unlock' THEN aftersales.unlock_ticket(t)::text
            WHEN 'retarget' THEN aftersales.set_priority(t, 'A')::text
            WHEN 'acknowledge' THEN aftersales.acknowledge_ticket(t, 'noted')::text
            WHEN 'edit' THEN aftersales.edit_ticket(t, '{"description": "edited"}')::text
            WHEN 'open' THEN 'n/a' END;
        RAISE EXCEPTION USING ERRCODE = 'ZZ001', MESSAGE = s;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        RETURN CASE WHEN state = 'ZZ001' THEN '-> ' || msg ELSE state || ': ' || msg END;
    END;
END
$$;

SELECT t.status, e.event, attempt(t.ticket_id, e.event) AS result
  FROM aftersales.tickets t,
       unnest(enum_range(NULL::aftersales.ticket_event)) AS e (event)
 WHERE e.event <> 'open'
 ORDER BY t.ticket_id, e.event;

-- The outcomes agree with the table, and nothing was left behind.
SELECT t.status, e.event, attempt(t.ticket_id, e.event) AS result
  FROM aftersales.tickets t, unnest(enum_range(NULL::aftersales.ticket_event)) AS e (event)
 WHERE e.event <> 'open'
   AND e.event <> 'edit'  -- outside the closed loop: allowed in every state, above
   AND (attempt(t.ticket_id, e.event) LIKE '->%')
       <> EXISTS (SELECT FROM aftersales.ticket_transitions() x WHERE x.from_state = t.status AND x.event = e.event);
SELECT count(*) AS events FROM aftersales.ticket_events;
SELECT ticket_id, status, event_seq FROM aftersales.tickets ORDER BY ticket_id;

-- The full errors, with detail and hint, for a few.
SELECT aftersales.resolve_ticket(1);
SELECT aftersales.assign_ticket(2, engineer => 1);
SELECT aftersales.follow_up(3, satisfied => true);
SELECT aftersales.start_work(6);
SELECT aftersales.cancel_ticket(7, reason => 'no longer needed');
SELECT aftersales.reopen_ticket(9, reason => 'cancelled by mistake');

-- ---------------------------------------------------------------------------
-- Input checks.  Unknown ticket, another tenant's ticket, NULL ticket:
SELECT aftersales.start_work(999);
SELECT aftersales.start_work(NULL);
INSERT INTO aftersales.tenants (tenant_id, name) VALUES (2, 'second company');
SET aftersales.tenant_id = '2';
INSERT INTO aftersales.calendars (name, calendar) VALUES ('24x7', 'zone=UTC; mon-sun 00:00-24:00');
INSERT INTO aftersales.sla_policies (name, is_default) VALUES ('default', true);
INSERT INTO aftersales.sla_targets (policy_id, priority, metric, target) VALUES (2, 'B', 'resolution', '8 h');
INSERT INTO aftersales.customers (name) VALUES ('Second tenant''s customer');
INSERT INTO aftersales.problem_types (code, name) VALUES ('X', 'Other');
SELECT aftersales.open_ticket(customer => 3, problem_type => 2, priority => 'B', description => 'tenant 2');
-- tenant 2 cannot touch tenant 1's ticket 1, nor tenant 1's customers
SELECT aftersales.cancel_ticket(1, reason => 'not mine');
SELECT aftersales.open_ticket(customer => 1, problem_type => 2, priority => 'B', description => 'wrong tenant');
RESET aftersales.tenant_id;
-- and tenant 1 cannot touch tenant 2's ticket 10, nor refer to its rows
SELECT aftersales.start_work(10);
SELECT aftersales.assign_ticket(1, engineer => 999);
INSERT INTO aftersales.units (tenant_id, model_id, customer_id, serial) VALUES (1, 1, 3, 'SN-X');

-- Missing reasons (fail, release, hold, transfer, cancel, reopen, lock):
SELECT aftersales.fail_attempt(3, reason => NULL);
SELECT aftersales.fail_attempt(3, reason => '  ');
SELECT aftersales.release_ticket(3, reason => NULL);
SELECT aftersales.hold_ticket(3, reason => '');
SELECT aftersales.transfer_ticket(3, tier => 'rnd', reason => NULL);
SELECT aftersales.cancel_ticket(3, reason => NULL);
SELECT aftersales.reopen_ticket(8, reason => NULL);
SELECT aftersales.lock_ticket(3, reason => NULL);
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'C', description => 'x', on_hold => true);

-- Engineers, tiers, priorities, follow-up scores:
SELECT aftersales.assign_ticket(1, engineer => NULL);
SELECT aftersales.assign_ticket(1, engineer => 3);
SELECT aftersales.reassign_ticket(3, engineer => 1);
SELECT aftersales.transfer_ticket(3, tier => NULL, reason => 'x');
SELECT aftersales.transfer_ticket(3, tier => 'customer_service', reason => 'already there');
SELECT aftersales.transfer_ticket(3, tier => 'level_9', reason => 'x');
SELECT aftersales.set_priority(3, priority => NULL);
SELECT aftersales.set_priority(3, priority => 'B');
SELECT aftersales.set_priority(3, priority => 'D');
SELECT aftersales.follow_up(7, satisfied => NULL);
SELECT aftersales.follow_up(7, satisfied => true, csat => 0);
SELECT aftersales.follow_up(7, satisfied => true, csat => 6);
SELECT aftersales.follow_up(7, satisfied => true, nps => -1);
SELECT aftersales.follow_up(7, satisfied => true, nps => 11);

-- Entry:
SELECT aftersales.open_ticket(customer => 99, problem_type => 1, priority => 'B', description => 'x');
SELECT aftersales.open_ticket(customer => 1, problem_type => 99, priority => 'B', description => 'x');
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => NULL, description => 'x');
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => ' ');
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'x', channel => 'fax');
SELECT aftersales.open_ticket(customer => 2, problem_type => 1, priority => 'B', description => 'x', unit => 1);
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'x', unit => 1, model => 2);
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'x', unit => 99);
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'x', model => 99);
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'x', org => 99);
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'x',
                              requested_at => '2024-05-06 08:59+00');
SELECT * FROM aftersales.open_tickets('{"customer": 1}');
SELECT * FROM aftersales.open_tickets('[{"customer": 1, "problem_type": 1, "priority": "B", "description": "ok"},
                                        {"customer": 99, "problem_type": 1, "priority": "B", "description": "bad"}]');
SELECT * FROM aftersales.open_tickets('[{"customer": 1, "problem_type": 1, "description": "no priority"}]');
SELECT * FROM aftersales.open_tickets('[{"customer": 1, "problem_type": 1, "priority": "B", "description": "x", "unit": 1, "model": 2}]');
SELECT * FROM aftersales.open_tickets('[{"customer": 1, "problem_type": 1, "priority": "B", "description": "x", "on_hold": true}]');
-- a value of the wrong type in an element: the element is named, with a hint
SELECT * FROM aftersales.open_tickets('[{"customer": 1, "problem_type": 1, "priority": "B", "description": "ok"},
                                        {"customer": "x", "problem_type": 1, "priority": "B", "description": "bad"}]');
SELECT * FROM aftersales.open_tickets('[{"customer": 1, "problem_type": 1, "priority": "Z", "description": "bad"}]');
SELECT * FROM aftersales.open_tickets('[{"customer": 1, "problem_type": 1, "priority": "B", "description": "x", "requested_at": "soon"}]');
SELECT * FROM aftersales.open_tickets('[{"customer": 1, "problem_type": 1, "priority": "B", "description": "x"}, 7]');
SELECT * FROM aftersales.open_tickets(jsonb_build_array(jsonb_build_object('customer', 1, 'problem_type', 1, 'priority', 'B',
                                                                           'description', 'x', 'channel', repeat('y', 100000))));

-- Time: events of a ticket come in order; the clock settings must parse.
SELECT aftersales.arrive_on_site(4, at => '2024-05-06 07:00+00');
SELECT aftersales.hold_ticket(4, reason => 'x', at => '2024-05-06 08:00:59+00');
SET aftersales.now = 'next tuesday';
SELECT aftersales.start_work(3);
SET aftersales.now = '2024-05-06 09:00:00+00';

-- Nothing of the failed calls was written.
SELECT count(*) AS tickets, sum(event_seq) AS events_expected, (SELECT count(*) FROM aftersales.ticket_events) AS events
  FROM aftersales.tickets;
SELECT kind, id, code, occurrences FROM aftersales.occurrence_counts ORDER BY kind, id;
SELECT * FROM aftersales.check_tickets();
