-- setup.sql: data for the pgbench life-cycle benchmark (tickets_pgbench.sh).
-- A tenant of its own (9301) with the seed-001 targets on a 24x7 calendar,
-- 1 000 customers, 100 models, 50 problem types, 20 engineers; kept between
-- runs.  The baselines' plain tables in schema tk_pgbench, made afresh.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
SELECT NOT EXISTS (SELECT FROM aftersales.tenants WHERE tenant_id = 9301) AS fresh \gset
\if :fresh
BEGIN;
SET LOCAL aftersales.tenant_id = '9301';
INSERT INTO aftersales.tenants (tenant_id, name) VALUES (9301, 'pgbench life cycle');
INSERT INTO aftersales.calendars (name, calendar) VALUES ('24x7', 'zone=UTC; mon-sun 00:00-24:00');
INSERT INTO aftersales.sla_policies (name, is_default) VALUES ('default', true);
INSERT INTO aftersales.sla_targets (policy_id, priority, metric, target, pauses_on_hold)
SELECT p.policy_id, t.priority, t.metric, t.target, t.pauses_on_hold
  FROM aftersales.sla_policies p, aftersales.sla_targets t
 WHERE p.tenant_id = 9301 AND t.tenant_id = 1 AND t.policy_id = 1;
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'pgbench HQ');
INSERT INTO aftersales.customers (name) SELECT 'pgbench customer ' || g FROM generate_series(1, 1000) g;
INSERT INTO aftersales.product_lines (code, name) VALUES ('PGB', 'pgbench line');
INSERT INTO aftersales.product_models (product_line_id, code, name)
SELECT l.product_line_id, 'PGB' || g, 'pgbench model ' || g FROM aftersales.product_lines l, generate_series(1, 100) g
 WHERE l.tenant_id = 9301;
INSERT INTO aftersales.problem_types (code, name) SELECT 'PGB' || g, 'pgbench problem ' || g FROM generate_series(1, 50) g;
INSERT INTO aftersales.engineers (org_id, name)
SELECT o.org_id, 'pgbench engineer ' || g FROM aftersales.organisations o, generate_series(1, 20) g WHERE o.tenant_id = 9301;
COMMIT;
\endif

DROP SCHEMA IF EXISTS tk_pgbench CASCADE;
CREATE SCHEMA tk_pgbench;
-- The columns the life cycle writes, the same keys and indexes as
-- aftersales.tickets; no triggers, no foreign keys, no checks.
CREATE TABLE tk_pgbench.tickets (
    tenant_id bigint NOT NULL DEFAULT 9301,
    ticket_id bigint GENERATED ALWAYS AS IDENTITY,
    channel text NOT NULL DEFAULT 'phone',
    customer_id bigint NOT NULL,
    unit_id bigint,
    model_id bigint,
    problem_type_id bigint NOT NULL,
    description text NOT NULL,
    priority text NOT NULL,
    requested_at timestamptz,
    org_id bigint,
    field boolean NOT NULL DEFAULT false,
    tier text NOT NULL DEFAULT 'customer_service',
    assignee_id bigint,
    status text NOT NULL DEFAULT 'new',
    held_from text,
    attempt_count integer NOT NULL DEFAULT 0,
    reopen_count integer NOT NULL DEFAULT 0,
    opened_at timestamptz NOT NULL DEFAULT now(),
    first_response_at timestamptz,
    assigned_at timestamptz,
    arrived_at timestamptz,
    first_resolved_at timestamptz,
    resolved_at timestamptz,
    followed_up_at timestamptz,
    closed_at timestamptz,
    cancelled_at timestamptz,
    satisfied boolean,
    csat smallint,
    nps smallint,
    follow_up_comment text,
    event_seq integer NOT NULL DEFAULT 1,
    last_event text NOT NULL DEFAULT 'open',
    last_event_at timestamptz NOT NULL DEFAULT now(),
    last_actor text NOT NULL DEFAULT current_user,
    PRIMARY KEY (tenant_id, ticket_id)
);
CREATE INDEX ON tk_pgbench.tickets (tenant_id, customer_id);
CREATE INDEX ON tk_pgbench.tickets (tenant_id, assignee_id) WHERE assignee_id IS NOT NULL;
CREATE TABLE tk_pgbench.events (
    tenant_id bigint NOT NULL DEFAULT 9301,
    ticket_id bigint NOT NULL,
    seq integer NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL DEFAULT current_user,
    event text NOT NULL,
    from_state text,
    to_state text NOT NULL,
    reason text,
    payload jsonb NOT NULL DEFAULT '{}',
    recorded_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    PRIMARY KEY (tenant_id, ticket_id, seq)
);
-- For plain_writes.sql: the other tables aftersales writes in a life
-- cycle (occurrence deltas, SLA clocks, escalation watches), with the keys
-- and indexes of aftersales.occurrences, ticket_sla and escalation_watches
-- and the columns the life cycle writes; no triggers, no foreign keys, no
-- checks.
CREATE TABLE tk_pgbench.occurrences (
    tenant_id bigint NOT NULL DEFAULT 9301,
    occurrence_id bigint GENERATED ALWAYS AS IDENTITY,
    model_id bigint,
    problem_type_id bigint,
    n bigint NOT NULL,
    PRIMARY KEY (tenant_id, occurrence_id)
);
CREATE INDEX ON tk_pgbench.occurrences (tenant_id, model_id) WHERE model_id IS NOT NULL;
CREATE INDEX ON tk_pgbench.occurrences (tenant_id, problem_type_id) WHERE problem_type_id IS NOT NULL;
CREATE TABLE tk_pgbench.sla (
    tenant_id bigint NOT NULL,
    ticket_id bigint NOT NULL,
    metric text NOT NULL,
    policy_id bigint NOT NULL,
    agreement_id bigint,
    target interval NOT NULL,
    calendar text,
    pauses_on_hold boolean NOT NULL,
    started_at timestamptz NOT NULL,
    due_at timestamptz NOT NULL,
    paused interval NOT NULL DEFAULT '0',
    paused_since timestamptz,
    stopped_at timestamptz,
    outcome text,
    elapsed interval,
    elapsed_wall interval,
    PRIMARY KEY (tenant_id, ticket_id, metric)
);
CREATE TABLE tk_pgbench.watches (
    tenant_id bigint NOT NULL,
    ticket_id bigint NOT NULL,
    clock text NOT NULL,
    next_check timestamptz,
    warned numeric NOT NULL DEFAULT 0,
    level smallint NOT NULL DEFAULT 0,
    done text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, ticket_id, clock)
);
CREATE INDEX ON tk_pgbench.watches (next_check) WHERE next_check IS NOT NULL;
VACUUM ANALYZE aftersales.customers, aftersales.product_models, aftersales.problem_types, aftersales.engineers;

-- The id ranges, for pgbench -D.
SELECT (SELECT min(customer_id) FROM aftersales.customers WHERE tenant_id = 9301) AS cmin,
       (SELECT min(problem_type_id) FROM aftersales.problem_types WHERE tenant_id = 9301) AS pmin,
       (SELECT min(model_id) FROM aftersales.product_models WHERE tenant_id = 9301) AS mmin,
       (SELECT min(engineer_id) FROM aftersales.engineers WHERE tenant_id = 9301) AS emin \gset
\echo cmin=:cmin pmin=:pmin mmin=:mmin emin=:emin
