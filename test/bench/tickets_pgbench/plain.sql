-- plain.sql: the same five steps as the same kind of statements on a plain
-- table (tk_pgbench.tickets: no triggers, no foreign keys, no event log, no
-- SLA clocks), one autocommitted statement per step.
\set c random(:cmin, :cmin + 999)
\set p random(:pmin, :pmin + 49)
\set m random(:mmin, :mmin + 99)
\set e random(:emin, :emin + 19)
INSERT INTO tk_pgbench.tickets (customer_id, problem_type_id, priority, description, model_id, field)
VALUES (:c, :p, 'B', 'pgbench life cycle', :m, true) RETURNING ticket_id AS id
\gset
UPDATE tk_pgbench.tickets SET status = 'assigned', assignee_id = :e, assigned_at = now(), event_seq = event_seq + 1,
       last_event = 'assign', last_event_at = now() WHERE tenant_id = 9301 AND ticket_id = :id;
UPDATE tk_pgbench.tickets SET status = 'on_site', arrived_at = now(), first_response_at = coalesce(first_response_at, now()),
       event_seq = event_seq + 1, last_event = 'arrive', last_event_at = now() WHERE tenant_id = 9301 AND ticket_id = :id;
UPDATE tk_pgbench.tickets SET status = 'resolved', resolved_at = now(), first_resolved_at = coalesce(first_resolved_at, now()),
       event_seq = event_seq + 1, last_event = 'resolve', last_event_at = now() WHERE tenant_id = 9301 AND ticket_id = :id;
UPDATE tk_pgbench.tickets SET status = 'closed', closed_at = now(), followed_up_at = now(), satisfied = true, csat = 5, nps = 9,
       event_seq = event_seq + 1, last_event = 'follow_up', last_event_at = now() WHERE tenant_id = 9301 AND ticket_id = :id;
