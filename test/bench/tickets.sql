-- tickets.sql: bulk entry of 100 000 tickets, through the API and against a
-- set-based floor.  Run: psql -X -v ON_ERROR_STOP=1 -f test/bench/tickets.sql
-- in a database with the extension (make bench does).  Options: -v n=...
-- (tickets per bulk path, default 100000), -v n_single=... (tickets for the
-- one-call-per-ticket path, default 10000: inside one transaction on a fresh
-- table that path slows down as it goes, because the foreign-key checks'
-- cached plans were made when the table was nearly empty; an application
-- makes one call per transaction, which tickets_pgbench.sh measures).
--
-- Each path runs in its own transaction, rolled back, on the same input and
-- times; the domain rows it needs live in tenant 9201, removed at the end.
-- So the script leaves the database as it found it.
--
--   floor              one INSERT of tickets + their open events into plain
--                      tables (same columns, primary keys; no foreign keys,
--                      no triggers, no SLA clocks): just storing them.
--   floor + tickets' FKs  the floor with the foreign keys of tickets to the
--                      master data (customer, model, problem type): what
--                      PostgreSQL's per-row checks of those alone cost.
--   floor + FKs + SLA  the same with the foreign keys aftersales declares on
--                      tickets and events, plus the SLA clock rows (with
--                      theirs) from the same policy join: storing what
--                      aftersales stores, without its logic.
--   open_tickets       aftersales.open_tickets(jsonb): one call, one INSERT;
--                      the guard, counters, clocks, events.
--   INSERT ... SELECT  straight into aftersales.tickets: the same triggers.
--   open_ticket x N    one API call per ticket (a PL/pgSQL loop).
-- "x floor" is time per ticket over the floor's time per ticket.
\set QUIET 1
\pset pager off
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
\if :{?n}
\else
\set n 100000
\endif
\if :{?n_single}
\else
\set n_single 10000
\endif

SELECT set_config('aftersales.tenant_id', '9201', false) \gset
SELECT set_config('aftersales.now', '2024-03-04 09:00+00', false) \gset

-- Domain data in a tenant of its own, with the seed-001 targets on a 24x7
-- calendar: 1 000 customers, 100 models, 50 problem types.
INSERT INTO aftersales.tenants (tenant_id, name) VALUES (9201, 'tickets benchmark');
INSERT INTO aftersales.calendars (name, calendar) VALUES ('24x7', 'zone=UTC; mon-sun 00:00-24:00');
INSERT INTO aftersales.sla_policies (name, is_default) VALUES ('default', true);
INSERT INTO aftersales.sla_targets (policy_id, priority, metric, target, pauses_on_hold)
SELECT p.policy_id, t.priority, t.metric, t.target, t.pauses_on_hold
  FROM aftersales.sla_policies p, aftersales.sla_targets t
 WHERE p.tenant_id = 9201 AND t.tenant_id = 1 AND t.policy_id = 1;
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'bench HQ');
INSERT INTO aftersales.customers (name) SELECT 'bench customer ' || g FROM generate_series(1, 1000) g;
INSERT INTO aftersales.product_lines (code, name) VALUES ('BENCH', 'bench line');
INSERT INTO aftersales.product_models (product_line_id, code, name)
SELECT l.product_line_id, 'BM' || g, 'bench model ' || g FROM aftersales.product_lines l, generate_series(1, 100) g
 WHERE l.tenant_id = 9201;
INSERT INTO aftersales.problem_types (code, name) SELECT 'BP' || g, 'bench problem ' || g FROM generate_series(1, 50) g;
ANALYZE aftersales.customers, aftersales.product_models, aftersales.problem_types;

CREATE TEMP TABLE input AS
SELECT g AS item,
       (SELECT min(customer_id) FROM aftersales.customers WHERE tenant_id = 9201) + g % 1000 AS customer,
       (SELECT min(problem_type_id) FROM aftersales.problem_types WHERE tenant_id = 9201) + g % 50 AS problem_type,
       (SELECT min(model_id) FROM aftersales.product_models WHERE tenant_id = 9201) + g % 100 AS model,
       (ARRAY['A', 'B', 'C'])[1 + g % 3]::aftersales.priority AS priority,
       'bench ticket ' || g AS description,
       g % 4 = 0 AS field
  FROM generate_series(1, :n) g;
CREATE TEMP TABLE input_json AS
SELECT jsonb_agg(jsonb_build_object('customer', customer, 'problem_type', problem_type, 'model', model,
                                    'priority', priority, 'description', description, 'field', field) ORDER BY item) AS j
  FROM input;
ANALYZE input;
CREATE TEMP TABLE results (step int, name text, tickets bigint, ms numeric);

-- The tables of the floors: regular (WAL-logged) tables, as aftersales' are.
CREATE TABLE public.tk_plain_tickets (LIKE aftersales.tickets INCLUDING DEFAULTS INCLUDING CONSTRAINTS EXCLUDING IDENTITY,
    PRIMARY KEY (tenant_id, ticket_id));
CREATE TABLE public.tk_plain_events (LIKE aftersales.ticket_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (tenant_id, ticket_id, seq));
CREATE TABLE public.tk_fk_tickets (LIKE aftersales.tickets INCLUDING DEFAULTS INCLUDING CONSTRAINTS EXCLUDING IDENTITY,
    PRIMARY KEY (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES aftersales.customers (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, model_id) REFERENCES aftersales.product_models (tenant_id, model_id),
    FOREIGN KEY (tenant_id, problem_type_id) REFERENCES aftersales.problem_types (tenant_id, problem_type_id));
CREATE INDEX ON public.tk_fk_tickets (tenant_id, customer_id);
-- Events and clocks reference their ticket only, as aftersales' do (the
-- tenant is implied by the ticket's key).
CREATE TABLE public.tk_fk_events (LIKE aftersales.ticket_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (tenant_id, ticket_id, seq),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES public.tk_fk_tickets (tenant_id, ticket_id));
CREATE TABLE public.tk_fk_sla (LIKE aftersales.ticket_sla INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED,
    PRIMARY KEY (tenant_id, ticket_id, metric),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES public.tk_fk_tickets (tenant_id, ticket_id));
-- The floor's tables with only the tickets' foreign keys.
CREATE TABLE public.tk_fkt_tickets (LIKE public.tk_fk_tickets INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES aftersales.customers (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, model_id) REFERENCES aftersales.product_models (tenant_id, model_id),
    FOREIGN KEY (tenant_id, problem_type_id) REFERENCES aftersales.problem_types (tenant_id, problem_type_id));
CREATE TABLE public.tk_fkt_events (LIKE public.tk_plain_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    PRIMARY KEY (tenant_id, ticket_id, seq));
CREATE SEQUENCE public.tk_plain_ids;
CHECKPOINT;

-- The floor's statement, on the tables given: tickets and their open
-- events in one INSERT.
CREATE FUNCTION pg_temp.floor_entry(tickets regclass, events regclass) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
    EXECUTE format($q$
        WITH t AS (
            INSERT INTO %s (tenant_id, ticket_id, customer_id, model_id, problem_type_id, description,
                            priority, field, opened_at, last_event_at, last_actor)
            SELECT 9201, nextval('public.tk_plain_ids'), customer, model, problem_type, description, priority, field,
                   aftersales.now(), aftersales.now(), 'bench'
              FROM input ORDER BY item
            RETURNING tenant_id, ticket_id, opened_at, priority, tier)
        INSERT INTO %s (tenant_id, ticket_id, seq, at, actor, event, from_state, to_state, payload)
        SELECT tenant_id, ticket_id, 1, opened_at, 'bench', 'open', NULL, 'new',
               jsonb_build_object('priority', priority, 'tier', tier)
          FROM t$q$, tickets, events);
END
$f$;

-- 1. floor
BEGIN;
SELECT clock_timestamp() AS t0 \gset
SELECT pg_temp.floor_entry('public.tk_plain_tickets', 'public.tk_plain_events') \g /dev/null
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t0') AS ms \gset
ROLLBACK;
INSERT INTO results VALUES (1, 'floor: tickets + events, plain tables', :n, :ms);

-- 1b. floor with the tickets' foreign keys to the master data
BEGIN;
SELECT clock_timestamp() AS t0 \gset
SELECT pg_temp.floor_entry('public.tk_fkt_tickets', 'public.tk_fkt_events') \g /dev/null
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t0') AS ms \gset
ROLLBACK;
INSERT INTO results VALUES (2, 'floor + the tickets'' foreign keys (customer, model, problem type)', :n, :ms);

-- 2. floor with the foreign keys and the SLA clock rows
BEGIN;
SELECT clock_timestamp() AS t0 \gset
WITH t AS (
    INSERT INTO public.tk_fk_tickets (tenant_id, ticket_id, customer_id, model_id, problem_type_id, description,
                                      priority, field, opened_at, last_event_at, last_actor)
    SELECT 9201, nextval('public.tk_plain_ids'), customer, model, problem_type, description, priority, field,
           aftersales.now(), aftersales.now(), 'bench'
      FROM input ORDER BY item
    RETURNING tenant_id, ticket_id, opened_at, priority, tier, field),
s AS (
    INSERT INTO public.tk_fk_sla (tenant_id, ticket_id, metric, policy_id, target, calendar, pauses_on_hold,
                                  started_at, due_at)
    SELECT t.tenant_id, t.ticket_id, g.metric, g.policy_id, g.target, p.calendar, g.pauses_on_hold, t.opened_at,
           aftersales.business_add(c.calendar, t.opened_at, g.target)
      FROM t JOIN aftersales.sla_policies p ON p.tenant_id = t.tenant_id AND p.is_default
      JOIN aftersales.calendars c ON c.tenant_id = p.tenant_id AND c.name = p.calendar
      JOIN aftersales.sla_targets g ON g.tenant_id = p.tenant_id AND g.policy_id = p.policy_id
       AND g.priority = t.priority AND (g.metric <> 'arrival' OR t.field))
INSERT INTO public.tk_fk_events (tenant_id, ticket_id, seq, at, actor, event, from_state, to_state, payload)
SELECT tenant_id, ticket_id, 1, opened_at, 'bench', 'open', NULL, 'new', jsonb_build_object('priority', priority, 'tier', tier)
  FROM t;
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t0') AS ms \gset
ROLLBACK;
INSERT INTO results VALUES (3, 'floor + foreign keys + SLA clock rows', :n, :ms);

-- 3. the set-based API
BEGIN;
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) AS entered FROM aftersales.open_tickets((SELECT j FROM input_json), actor => 'bench') \gset
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t0') AS ms \gset
SELECT count(*) AS problems FROM aftersales.check_occurrences() \gset
ROLLBACK;
INSERT INTO results VALUES (4, 'aftersales.open_tickets(jsonb)', :entered, :ms);
\if :problems
\echo 'occurrence counters disagree after open_tickets'
\quit 3
\endif

-- 4. a direct INSERT ... SELECT (the statement-level trigger does the work)
BEGIN;
SELECT clock_timestamp() AS t0 \gset
INSERT INTO aftersales.tickets (customer_id, model_id, problem_type_id, description, priority, field)
SELECT customer, model, problem_type, description, priority, field FROM input ORDER BY item;
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t0') AS ms \gset
ROLLBACK;
INSERT INTO results VALUES (5, 'INSERT ... SELECT into aftersales.tickets', :n, :ms);

-- 5. one open_ticket() call per ticket
SELECT set_config('tk.n_single', :'n_single', false) \gset
BEGIN;
SELECT clock_timestamp() AS t0 \gset
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM input WHERE item <= current_setting('tk.n_single')::int ORDER BY item LOOP
        PERFORM aftersales.open_ticket(customer => r.customer, problem_type => r.problem_type, priority => r.priority,
                                       description => r.description, model => r.model, field => r.field, actor => 'bench');
    END LOOP;
END
$$;
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t0') AS ms \gset
ROLLBACK;
INSERT INTO results VALUES (6, 'aftersales.open_ticket() per ticket', least(:n, :n_single), :ms);

-- Clean up: the floors' tables and the benchmark tenant.
DROP TABLE public.tk_fk_events, public.tk_fk_sla, public.tk_fk_tickets, public.tk_plain_events, public.tk_plain_tickets,
    public.tk_fkt_events, public.tk_fkt_tickets;
DROP SEQUENCE public.tk_plain_ids;
DELETE FROM aftersales.service_agreements WHERE tenant_id = 9201;
DELETE FROM aftersales.engineers WHERE tenant_id = 9201;
DELETE FROM aftersales.units WHERE tenant_id = 9201;
DELETE FROM aftersales.customers WHERE tenant_id = 9201;
DELETE FROM aftersales.product_models WHERE tenant_id = 9201;
DELETE FROM aftersales.product_lines WHERE tenant_id = 9201;
DELETE FROM aftersales.problem_types WHERE tenant_id = 9201;
DELETE FROM aftersales.organisations WHERE tenant_id = 9201;
DELETE FROM aftersales.sla_policies WHERE tenant_id = 9201;
DELETE FROM aftersales.calendars WHERE tenant_id = 9201;
DELETE FROM aftersales.tenants WHERE tenant_id = 9201;

\pset footer off
\echo
\echo 'Bulk entry of tickets:'
SELECT r.name AS "path", r.tickets, round(r.ms) AS ms, round(1000 * r.ms / r.tickets, 1) AS "µs/ticket",
       round((r.ms / r.tickets) / (f.ms / f.tickets), 2) AS "x floor"
  FROM results r, results f WHERE f.step = 1 ORDER BY r.step;
