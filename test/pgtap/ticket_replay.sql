-- ticket_replay.sql: random event sequences through the API and through
-- direct UPDATEs with a declared event, legal and illegal, on a business
-- calendar with holidays and pauses; then every stored ticket must equal
-- its replay from the event log (check_tickets() is empty), every failed
-- call must have left its ticket untouched, and the occurrence counters
-- must match the tickets.
--
-- Run: pg_prove -h /tmp -p 5499 -U postgres -d tk_tap test/pgtap/ticket_replay.sql
--      (the database needs: CREATE EXTENSION pgtap; CREATE EXTENSION aftersales CASCADE;)
-- Deterministic (setseed); everything is rolled back.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(23);
SET LOCAL TimeZone = 'UTC';
SELECT setseed(0.2024);

INSERT INTO aftersales.tenants (tenant_id, name) VALUES (9102, 'tk_replay');
SET LOCAL aftersales.tenant_id = '9102';
SET LOCAL aftersales.now = '2024-01-01 00:00+00';
INSERT INTO aftersales.calendars (name, calendar) VALUES
    ('24x7', 'zone=UTC; mon-sun 00:00-24:00'),
    ('office', 'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00; holiday 2024-02-10..2024-02-17, *-05-01; workday 2024-02-04 09:00-18:00; workday 2024-02-18 09:00-18:00');
INSERT INTO aftersales.sla_policies (name, calendar, is_default) VALUES ('default', '24x7', true), ('gold', 'office', false);
INSERT INTO aftersales.sla_targets (policy_id, priority, metric, target, clock, pauses_on_hold)
SELECT p.policy_id, pr::aftersales.priority, m::aftersales.sla_metric,
       (CASE pr WHEN 'A' THEN 1 WHEN 'B' THEN 4 ELSE 16 END) * (CASE m WHEN 'first_response' THEN interval '10 min' WHEN 'arrival' THEN interval '30 min' ELSE interval '1 h' END),
       CASE WHEN p.name = 'gold' AND m = 'arrival' THEN '24x7' ELSE 'business' END,
       m <> 'first_response'
  FROM aftersales.sla_policies p, unnest('{A,B,C}'::text[]) pr, unnest('{first_response,arrival,resolution}'::text[]) m
 WHERE p.tenant_id = 9102;
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ 9102');
INSERT INTO aftersales.customers (name) SELECT 'customer ' || g FROM generate_series(1, 20) g;
INSERT INTO aftersales.product_lines (code, name) VALUES ('L', 'line');
INSERT INTO aftersales.product_models (product_line_id, code, name)
SELECT product_line_id, 'M' || g, 'model ' || g FROM aftersales.product_lines, generate_series(1, 5) g WHERE tenant_id = 9102;
-- (by position, not by id: ids depend on what the database saw before)
CREATE TEMP VIEW cust AS SELECT customer_id, row_number() OVER (ORDER BY customer_id) AS n FROM aftersales.customers WHERE tenant_id = 9102;
CREATE TEMP VIEW models AS SELECT model_id, row_number() OVER (ORDER BY model_id) AS n FROM aftersales.product_models WHERE tenant_id = 9102;
INSERT INTO aftersales.units (model_id, customer_id, serial)
SELECT m.model_id, c.customer_id, 'SN-' || c.n || '-' || m.n
  FROM cust c, models m WHERE (c.n + m.n) % 3 = 0 ORDER BY c.n, m.n;
INSERT INTO aftersales.problem_types (code, name) SELECT 'P' || g, 'problem ' || g FROM generate_series(1, 5) g;
INSERT INTO aftersales.engineers (org_id, name) SELECT org_id, 'engineer ' || g FROM aftersales.organisations, generate_series(1, 6) g WHERE tenant_id = 9102;
INSERT INTO aftersales.service_agreements (customer_id, policy_id, name, valid)
SELECT c.customer_id, p.policy_id, 'gold ' || c.n, daterange('2024-01-01', '2024-03-01')
  FROM cust c, aftersales.sla_policies p WHERE p.tenant_id = 9102 AND p.name = 'gold' AND c.n % 2 = 0;

CREATE TEMP TABLE attempts (step int, ticket bigint, event text, via text, legal boolean, sqlstate text,
                            seq_before int, seq_after int);

CREATE FUNCTION pg_temp.pick(a anyarray) RETURNS anyelement LANGUAGE sql VOLATILE
AS $$ SELECT a[1 + floor(random() * cardinality(a))::int] $$;

CREATE FUNCTION pg_temp.open_random(at timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    c bigint := pg_temp.pick(ARRAY(SELECT customer_id FROM aftersales.customers WHERE tenant_id = 9102 ORDER BY 1));
    u bigint := pg_temp.pick(ARRAY(SELECT unit_id FROM aftersales.units WHERE tenant_id = 9102 AND customer_id = c ORDER BY 1) || NULL::bigint);
    p bigint := pg_temp.pick(ARRAY(SELECT problem_type_id FROM aftersales.problem_types WHERE tenant_id = 9102 ORDER BY 1));
    m bigint := CASE WHEN u IS NULL THEN pg_temp.pick(ARRAY(SELECT model_id FROM aftersales.product_models WHERE tenant_id = 9102 ORDER BY 1)) END;
    pr aftersales.priority := pg_temp.pick('{A,B,C}'::aftersales.priority[]);
    hold boolean := random() < 0.15;
    req timestamptz := CASE WHEN random() < 0.4 THEN at + (floor(random() * 48) * interval '1 h') END;
    r float8 := random();
BEGIN
    IF r < 0.7 THEN
        PERFORM aftersales.open_ticket(customer => c, problem_type => p, priority => pr, description => 'random',
                                       unit => u, model => m, requested_at => req, field => random() < 0.5,
                                       on_hold => hold, reason => CASE WHEN hold THEN 'customer away' END, at => at);
    ELSIF r < 0.85 THEN
        PERFORM aftersales.open_tickets(jsonb_build_array(
            jsonb_build_object('customer', c, 'problem_type', p, 'priority', pr, 'description', 'batch a', 'unit', u,
                               'model', m, 'requested_at', req, 'field', random() < 0.5),
            jsonb_build_object('customer', c, 'problem_type', p, 'priority', 'C', 'description', 'batch b',
                               'on_hold', hold)), reason => 'batch hold', at => at);
    ELSE
        PERFORM set_config('aftersales.now', at::text, true);
        INSERT INTO aftersales.tickets (customer_id, problem_type_id, unit_id, model_id, description, priority, field, status, requested_at)
        VALUES (c, p, u, COALESCE(m, (SELECT model_id FROM aftersales.units WHERE tenant_id = 9102 AND unit_id = u)),
                'raw insert', pr, random() < 0.5, CASE WHEN hold THEN 'on_hold' ELSE 'new' END::aftersales.ticket_status, req);
    END IF;
END
$$;

-- One event on one ticket, through the API or a declared direct UPDATE.
CREATE FUNCTION pg_temp.step(i int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t aftersales.tickets;
    ev aftersales.ticket_event;
    at timestamptz;
    eng bigint;
    new_tier aftersales.ticket_tier;
    pr aftersales.priority;
    sat boolean := random() < 0.6;
    new_csat int := CASE WHEN random() < 0.8 THEN 1 + floor(random() * 5)::int END;
    new_nps int := CASE WHEN random() < 0.8 THEN floor(random() * 11)::int END;
    via text := CASE WHEN random() < 0.25 THEN 'update' ELSE 'api' END;
    legal boolean;
    state text := NULL;
    seq_after int;
    prev_now text := current_setting('aftersales.now', true);
BEGIN
    -- an open ticket when there is one; by position, not heap order
    SELECT * INTO t FROM aftersales.tickets k WHERE k.tenant_id = 9102 AND k.status NOT IN ('closed', 'cancelled')
     ORDER BY k.ticket_id OFFSET floor(random() * (SELECT count(*) FROM aftersales.tickets o WHERE o.tenant_id = 9102
                                                     AND o.status NOT IN ('closed', 'cancelled'))) LIMIT 1;
    IF NOT FOUND THEN
        SELECT * INTO t FROM aftersales.tickets k WHERE k.tenant_id = 9102
         ORDER BY k.ticket_id OFFSET floor(random() * (SELECT count(*) FROM aftersales.tickets o WHERE o.tenant_id = 9102)) LIMIT 1;
    END IF;
    IF random() < 0.85 THEN
        ev := pg_temp.pick(ARRAY(SELECT DISTINCT x.event FROM aftersales.ticket_transitions() x WHERE x.from_state = t.status ORDER BY 1));
    END IF;
    IF ev IS NULL THEN
        ev := pg_temp.pick(ARRAY(SELECT e FROM unnest(enum_range(NULL::aftersales.ticket_event)) e WHERE e <> 'open' ORDER BY 1));
    END IF;
    -- edit (free fields, outside the loop) is legal in every state
    IF random() < 0.06 THEN
        ev := 'edit';
    END IF;
    legal := ev = 'edit' OR EXISTS (SELECT FROM aftersales.ticket_transitions() x WHERE x.from_state = t.status AND x.event = ev);
    at := t.last_event_at + floor(random() * random() * 3000) * interval '1 min';
    eng := pg_temp.pick(ARRAY(SELECT engineer_id FROM aftersales.engineers WHERE tenant_id = 9102
                                 AND engineer_id IS DISTINCT FROM t.assignee_id ORDER BY 1));
    new_tier := pg_temp.pick(ARRAY(SELECT x FROM unnest(enum_range(NULL::aftersales.ticket_tier)) x WHERE x <> t.tier ORDER BY 1));
    pr := pg_temp.pick(ARRAY(SELECT x FROM unnest(enum_range(NULL::aftersales.priority)) x WHERE x <> t.priority ORDER BY 1));
    BEGIN
        IF via = 'api' THEN
            CASE ev
                WHEN 'assign' THEN PERFORM aftersales.assign_ticket(t.ticket_id, eng, at => at);
                WHEN 'reassign' THEN PERFORM aftersales.reassign_ticket(t.ticket_id, eng, at => at);
                WHEN 'take_over' THEN PERFORM aftersales.take_over_ticket(t.ticket_id, eng, 'manager', at => at);
                WHEN 'start' THEN PERFORM aftersales.start_work(t.ticket_id, at => at);
                WHEN 'arrive' THEN PERFORM aftersales.arrive_on_site(t.ticket_id, at => at);
                WHEN 'resolve' THEN PERFORM aftersales.resolve_ticket(t.ticket_id, 'fixed ' || i, at => at);
                WHEN 'fail' THEN PERFORM aftersales.fail_attempt(t.ticket_id, 'failed ' || i, at => at);
                WHEN 'release' THEN PERFORM aftersales.release_ticket(t.ticket_id, 'released ' || i, at => at);
                WHEN 'hold' THEN PERFORM aftersales.hold_ticket(t.ticket_id, 'held ' || i, at => at);
                WHEN 'resume' THEN PERFORM aftersales.resume_ticket(t.ticket_id, at => at);
                WHEN 'transfer' THEN PERFORM aftersales.transfer_ticket(t.ticket_id, new_tier, 'transferred ' || i, at => at);
                WHEN 'follow_up' THEN PERFORM aftersales.follow_up(t.ticket_id, sat, new_csat, new_nps, 'comment ' || i, at => at);
                WHEN 'cancel' THEN PERFORM aftersales.cancel_ticket(t.ticket_id, 'cancelled ' || i, at => at);
                WHEN 'reopen' THEN PERFORM aftersales.reopen_ticket(t.ticket_id, 'reopened ' || i, at => at);
                WHEN 'lock' THEN PERFORM aftersales.lock_ticket(t.ticket_id, 'locked ' || i, at => at);
                WHEN 'unlock' THEN PERFORM aftersales.unlock_ticket(t.ticket_id, at => at);
                WHEN 'retarget' THEN PERFORM aftersales.set_priority(t.ticket_id, pr, at => at);
                WHEN 'acknowledge' THEN PERFORM aftersales.acknowledge_ticket(t.ticket_id, 'noted ' || i, at => at);
                WHEN 'edit' THEN PERFORM aftersales.edit_ticket(t.ticket_id,
                    jsonb_build_object('description', 'edited ' || i, 'field', NOT t.field)
                    || CASE WHEN random() < 0.5 THEN jsonb_build_object('requested_at', at + interval '1 day') ELSE '{}' END,
                    'edit ' || i, at => at);
            END CASE;
        ELSE
            -- an edit, declared or not, is recorded alike
            PERFORM set_config('aftersales.event', CASE WHEN ev = 'edit' AND random() < 0.5 THEN '' ELSE ev::text END, true);
            PERFORM set_config('aftersales.event_reason', 'direct ' || i, true);
            PERFORM set_config('aftersales.actor', 'sql ' || i, true);
            PERFORM set_config('aftersales.now', at::text, true);
            UPDATE aftersales.tickets k
               SET assignee_id = CASE WHEN ev IN ('assign', 'reassign', 'take_over') THEN eng ELSE k.assignee_id END,
                   tier = CASE WHEN ev = 'transfer' THEN new_tier ELSE k.tier END,
                   priority = CASE WHEN ev = 'retarget' THEN pr ELSE k.priority END,
                   satisfied = CASE WHEN ev = 'follow_up' THEN sat ELSE k.satisfied END,
                   csat = CASE WHEN ev = 'follow_up' THEN new_csat ELSE k.csat END,
                   nps = CASE WHEN ev = 'follow_up' THEN new_nps ELSE k.nps END,
                   description = CASE WHEN ev = 'edit' THEN 'edited ' || i ELSE k.description END,
                   requested_at = CASE WHEN ev = 'edit' AND random() < 0.5 THEN NULL ELSE k.requested_at END
             WHERE k.tenant_id = 9102 AND k.ticket_id = t.ticket_id;
            PERFORM set_config(s, '', true)
               FROM unnest('{aftersales.event,aftersales.event_reason,aftersales.actor}'::text[]) s;
            PERFORM set_config('aftersales.now', prev_now, true);
        END IF;
    EXCEPTION WHEN OTHERS THEN
        state := SQLSTATE;
    END;
    SELECT event_seq INTO seq_after FROM aftersales.tickets WHERE tenant_id = 9102 AND ticket_id = t.ticket_id;
    INSERT INTO attempts VALUES (i, t.ticket_id, ev::text, via, legal, state, t.event_seq, seq_after);
END
$$;

DO $$
BEGIN
    FOR i IN 1..3000 LOOP
        IF i <= 40 OR random() < 0.08 THEN
            PERFORM pg_temp.open_random('2024-01-01 00:00+00'::timestamptz + floor(random() * 60 * 24 * 50) * interval '1 min');
        ELSE
            PERFORM pg_temp.step(i);
        END IF;
    END LOOP;
END
$$;

SELECT cmp_ok((SELECT count(*)::int FROM aftersales.tickets WHERE tenant_id = 9102), '>=', 250, 'a few hundred tickets were entered');
SELECT cmp_ok((SELECT count(*)::int FROM attempts WHERE sqlstate IS NULL), '>=', 1800, 'most of the steps recorded an event');
SELECT cmp_ok((SELECT count(*)::int FROM attempts WHERE sqlstate IS NULL AND via = 'update'), '>=', 300,
              'hundreds of them through direct UPDATEs');
SELECT is((SELECT count(*)::int FROM attempts WHERE legal AND sqlstate IS NOT NULL), 0,
          'every legal event succeeded');
SELECT is((SELECT count(*)::int FROM attempts WHERE NOT legal AND sqlstate IS NULL), 0,
          'every illegal event failed');
SELECT is((SELECT array_agg(DISTINCT sqlstate) FROM attempts WHERE NOT legal), '{55000}'::text[],
          'illegal events fail with SQLSTATE 55000');
SELECT is((SELECT count(*)::int FROM attempts WHERE sqlstate IS NOT NULL AND seq_after <> seq_before), 0,
          'a failed call leaves its ticket untouched');
SELECT is((SELECT count(*)::int FROM attempts WHERE sqlstate IS NULL AND seq_after <> seq_before + 1), 0,
          'a successful call records exactly one event');
SELECT cmp_ok((SELECT count(DISTINCT (e.from_state, e.event, e.to_state))::int FROM aftersales.ticket_events e WHERE e.tenant_id = 9102
                 AND e.event <> 'open'), '>=', 50,
              'the walk covered at least 50 of the ' || (SELECT count(*) FROM aftersales.ticket_transitions()) || ' transitions');
SELECT ok((SELECT count(*) FROM aftersales.ticket_events WHERE tenant_id = 9102 AND payload->>'rule' = r) > 0,
          'rule ' || r || ' fired') FROM unnest('{late,attempts,unsatisfied}'::text[]) r;
SELECT ok((SELECT count(*) FROM aftersales.ticket_sla WHERE tenant_id = 9102 AND paused > '0') > 50,
          'clocks were paused and resumed');
SELECT ok((SELECT count(*) FROM aftersales.ticket_sla WHERE tenant_id = 9102 AND outcome = v) > 10,
          'some clocks ended ' || v) FROM unnest('{met,breached,cancelled}'::text[]) v;
SELECT ok((SELECT count(*) FROM aftersales.ticket_sla WHERE tenant_id = 9102 AND agreement_id IS NOT NULL) > 10,
          'some clocks came from an agreement on the business calendar');

SELECT cmp_ok((SELECT count(*)::int FROM attempts WHERE event = 'edit' AND via = 'api' AND sqlstate IS NULL), '>=', 20,
              'edits through edit_ticket');
SELECT cmp_ok((SELECT count(*)::int FROM attempts WHERE event = 'edit' AND via = 'update' AND sqlstate IS NULL), '>=', 5,
              'edits through direct UPDATEs, declared or not');
SELECT cmp_ok((SELECT count(*)::int FROM aftersales.tickets k WHERE k.tenant_id = 9102
                 AND aftersales.ticket_state(9102, k.ticket_id) ? 'fields'), '>=', 20,
              'replay follows the edited fields of many tickets');
SELECT is((SELECT count(*)::int FROM aftersales.ticket_events WHERE tenant_id = 9102),
          (SELECT sum(event_seq)::int FROM aftersales.tickets WHERE tenant_id = 9102), 'one event row per change');
SELECT is_empty($$SELECT * FROM aftersales.check_tickets(9102)$$, 'every ticket equals its replay');
SELECT is_empty($$SELECT * FROM aftersales.check_occurrences() WHERE tenant_id = 9102$$, 'the occurrence counters match the tickets');

SELECT * FROM finish();
ROLLBACK;
