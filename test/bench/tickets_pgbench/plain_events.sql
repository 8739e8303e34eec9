-- plain_events.sql: plain.sql plus an event row per step, written by the
-- same statement (a data-modifying CTE), as an application keeping its own
-- log would: still no triggers, foreign keys, checks or SLA clocks.
\set c random(:cmin, :cmin + 999)
\set p random(:pmin, :pmin + 49)
\set m random(:mmin, :mmin + 99)
\set e random(:emin, :emin + 19)
WITH t AS (INSERT INTO tk_pgbench.tickets (customer_id, problem_type_id, priority, description, model_id, field)
           VALUES (:c, :p, 'B', 'pgbench life cycle', :m, true) RETURNING tenant_id, ticket_id, priority, tier)
INSERT INTO tk_pgbench.events (tenant_id, ticket_id, seq, event, to_state, payload)
SELECT tenant_id, ticket_id, 1, 'open', 'new', jsonb_build_object('priority', priority, 'tier', tier) FROM t
RETURNING ticket_id AS id
\gset
WITH t AS (UPDATE tk_pgbench.tickets SET status = 'assigned', assignee_id = :e, assigned_at = now(), event_seq = event_seq + 1,
                  last_event = 'assign', last_event_at = now() WHERE tenant_id = 9301 AND ticket_id = :id RETURNING tenant_id, ticket_id)
INSERT INTO tk_pgbench.events (tenant_id, ticket_id, seq, event, from_state, to_state, payload)
SELECT tenant_id, ticket_id, 2, 'assign', 'new', 'assigned', jsonb_build_object('assignee', (:e)::bigint) FROM t;
WITH t AS (UPDATE tk_pgbench.tickets SET status = 'on_site', arrived_at = now(), first_response_at = coalesce(first_response_at, now()),
                  event_seq = event_seq + 1, last_event = 'arrive', last_event_at = now()
            WHERE tenant_id = 9301 AND ticket_id = :id RETURNING tenant_id, ticket_id)
INSERT INTO tk_pgbench.events (tenant_id, ticket_id, seq, event, from_state, to_state)
SELECT tenant_id, ticket_id, 3, 'arrive', 'assigned', 'on_site' FROM t;
WITH t AS (UPDATE tk_pgbench.tickets SET status = 'resolved', resolved_at = now(), first_resolved_at = coalesce(first_resolved_at, now()),
                  event_seq = event_seq + 1, last_event = 'resolve', last_event_at = now()
            WHERE tenant_id = 9301 AND ticket_id = :id RETURNING tenant_id, ticket_id)
INSERT INTO tk_pgbench.events (tenant_id, ticket_id, seq, event, from_state, to_state, reason)
SELECT tenant_id, ticket_id, 4, 'resolve', 'on_site', 'resolved', 'fixed' FROM t;
WITH t AS (UPDATE tk_pgbench.tickets SET status = 'closed', closed_at = now(), followed_up_at = now(), satisfied = true, csat = 5, nps = 9,
                  event_seq = event_seq + 1, last_event = 'follow_up', last_event_at = now()
            WHERE tenant_id = 9301 AND ticket_id = :id RETURNING tenant_id, ticket_id)
INSERT INTO tk_pgbench.events (tenant_id, ticket_id, seq, event, from_state, to_state, payload)
SELECT tenant_id, ticket_id, 5, 'follow_up', 'resolved', 'closed', '{"satisfied": true, "csat": 5, "nps": 9}' FROM t;
