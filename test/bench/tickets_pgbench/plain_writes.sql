-- plain_writes.sql: the rows aftersales writes in one life cycle, written
-- by plain statements on plain tables with the same keys and indexes
-- (setup.sql; no triggers, foreign keys, checks or logic), one statement
-- per step as the API makes one call per step.  It measures our storage
-- without our logic: the API against it is what our logic costs.
--   open       the ticket, two occurrence deltas (model, problem type),
--              three SLA clocks (a field ticket: first response, arrival,
--              resolution), their three watches, the open event with the
--              clocks in its payload;
--   assign     the ticket, the event;
--   arrive     the ticket, two clocks stopped (first response, arrival),
--              their watches disarmed, the event;
--   resolve    the ticket, the resolution clock stopped, its watch
--              disarmed, the event;
--   follow-up  the ticket, the event.
-- Not written: what aftersales only reads (validation, policy and rules
-- lookups, foreign-key checks) and statements that find nothing to change.
\set c random(:cmin, :cmin + 999)
\set p random(:pmin, :pmin + 49)
\set m random(:mmin, :mmin + 99)
\set e random(:emin, :emin + 19)
WITH t AS (INSERT INTO tk_pgbench.tickets (customer_id, problem_type_id, priority, description, model_id, field)
           VALUES (:c, :p, 'B', 'pgbench life cycle', :m, true) RETURNING tenant_id, ticket_id, priority, tier, opened_at),
o AS (INSERT INTO tk_pgbench.occurrences (tenant_id, model_id, problem_type_id, n)
      SELECT t.tenant_id, x.m, x.p, 1 FROM t, (VALUES ((:m)::bigint, NULL::bigint), (NULL, (:p)::bigint)) AS x (m, p)),
s AS (INSERT INTO tk_pgbench.sla (tenant_id, ticket_id, metric, policy_id, target, calendar, pauses_on_hold,
                                  started_at, due_at)
      SELECT t.tenant_id, t.ticket_id, k.metric, 2, k.target, '24x7', k.pauses, t.opened_at,
             t.opened_at + k.target
        FROM t, (VALUES ('first_response', interval '30 min', false), ('arrival', interval '4 h', false),
                        ('resolution', interval '2 h', true)) AS k (metric, target, pauses)
      RETURNING tenant_id, ticket_id, metric, target, calendar, pauses_on_hold, started_at, due_at),
w AS (INSERT INTO tk_pgbench.watches (tenant_id, ticket_id, clock, next_check)
      SELECT s.tenant_id, s.ticket_id, s.metric, s.started_at + s.target * 0.5 FROM s)
INSERT INTO tk_pgbench.events (tenant_id, ticket_id, seq, event, to_state, payload)
SELECT t.tenant_id, t.ticket_id, 1, 'open', 'new',
       jsonb_build_object('priority', t.priority, 'tier', t.tier, 'policy', 2, 'agreement', NULL,
                          'sla', (SELECT jsonb_object_agg(s.metric, jsonb_build_object('target', s.target, 'calendar', s.calendar,
                                                                                      'pauses', s.pauses_on_hold, 'due', s.due_at))
                                    FROM s))
  FROM t
RETURNING ticket_id AS id
\gset
WITH t AS (UPDATE tk_pgbench.tickets SET status = 'assigned', assignee_id = :e, assigned_at = now(), event_seq = event_seq + 1,
                  last_event = 'assign', last_event_at = now() WHERE tenant_id = 9301 AND ticket_id = :id RETURNING tenant_id, ticket_id)
INSERT INTO tk_pgbench.events (tenant_id, ticket_id, seq, event, from_state, to_state, payload)
SELECT tenant_id, ticket_id, 2, 'assign', 'new', 'assigned', jsonb_build_object('assignee', (:e)::bigint) FROM t;
WITH t AS (UPDATE tk_pgbench.tickets SET status = 'on_site', arrived_at = now(), first_response_at = coalesce(first_response_at, now()),
                  event_seq = event_seq + 1, last_event = 'arrive', last_event_at = now()
            WHERE tenant_id = 9301 AND ticket_id = :id RETURNING tenant_id, ticket_id),
s AS (UPDATE tk_pgbench.sla SET stopped_at = now(), outcome = CASE WHEN now() <= due_at THEN 'met' ELSE 'breached' END,
             elapsed = now() - started_at, elapsed_wall = now() - started_at
       WHERE tenant_id = 9301 AND ticket_id = :id AND metric IN ('first_response', 'arrival') AND stopped_at IS NULL
      RETURNING metric, target, due_at, paused, elapsed),
w AS (UPDATE tk_pgbench.watches SET next_check = NULL
       WHERE tenant_id = 9301 AND ticket_id = :id AND clock IN ('first_response', 'arrival') AND next_check IS NOT NULL)
INSERT INTO tk_pgbench.events (tenant_id, ticket_id, seq, event, from_state, to_state, payload)
SELECT tenant_id, ticket_id, 3, 'arrive', 'assigned', 'on_site',
       jsonb_build_object('sla', (SELECT jsonb_object_agg(s.metric, jsonb_build_object('target', s.target, 'due', s.due_at,
                                                                                      'paused', s.paused, 'elapsed', s.elapsed))
                                    FROM s))
  FROM t;
WITH t AS (UPDATE tk_pgbench.tickets SET status = 'resolved', resolved_at = now(), first_resolved_at = coalesce(first_resolved_at, now()),
                  event_seq = event_seq + 1, last_event = 'resolve', last_event_at = now()
            WHERE tenant_id = 9301 AND ticket_id = :id RETURNING tenant_id, ticket_id),
s AS (UPDATE tk_pgbench.sla SET stopped_at = now(), outcome = CASE WHEN now() <= due_at THEN 'met' ELSE 'breached' END,
             elapsed = now() - started_at, elapsed_wall = now() - started_at
       WHERE tenant_id = 9301 AND ticket_id = :id AND metric = 'resolution' AND stopped_at IS NULL
      RETURNING metric, target, due_at, paused, elapsed),
w AS (UPDATE tk_pgbench.watches SET next_check = NULL
       WHERE tenant_id = 9301 AND ticket_id = :id AND clock = 'resolution' AND next_check IS NOT NULL)
INSERT INTO tk_pgbench.events (tenant_id, ticket_id, seq, event, from_state, to_state, reason, payload)
SELECT tenant_id, ticket_id, 4, 'resolve', 'on_site', 'resolved', 'fixed',
       jsonb_build_object('sla', (SELECT jsonb_object_agg(s.metric, jsonb_build_object('target', s.target, 'due', s.due_at,
                                                                                      'paused', s.paused, 'elapsed', s.elapsed))
                                    FROM s))
  FROM t;
WITH t AS (UPDATE tk_pgbench.tickets SET status = 'closed', closed_at = now(), followed_up_at = now(), satisfied = true, csat = 5, nps = 9,
                  event_seq = event_seq + 1, last_event = 'follow_up', last_event_at = now()
            WHERE tenant_id = 9301 AND ticket_id = :id RETURNING tenant_id, ticket_id)
INSERT INTO tk_pgbench.events (tenant_id, ticket_id, seq, event, from_state, to_state, payload)
SELECT tenant_id, ticket_id, 5, 'follow_up', 'resolved', 'closed', '{"satisfied": true, "csat": 5, "nps": 9}' FROM t;
