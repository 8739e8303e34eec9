-- aftersales upgrade 0.1.0 -> 0.2.0.
-- Grown in step with the install script (src/sql/[0-9]*.sql) until 0.2.0 is
-- released; the upgrade test (test/t/*upgrade*) proves that an upgraded
-- 0.1.0 and a fresh 0.2.0 have the same catalogue.
\echo Use "ALTER EXTENSION aftersales UPDATE TO '0.2.0'" to load this file. \quit
SET LOCAL search_path TO pg_catalog, pg_temp;

-- Internal schema: everything that is not API.
CREATE SCHEMA aftersales_internal;
REVOKE ALL ON SCHEMA aftersales_internal FROM PUBLIC;
COMMENT ON SCHEMA aftersales_internal IS
  'aftersales internals: triggers, checks and helpers; not API, no privileges for PUBLIC';

-- Library version: aftersales.library_version(), for the SQL/library check.
CREATE FUNCTION aftersales.library_version() RETURNS text
    AS 'MODULE_PATHNAME', 'aftersales_library_version' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.library_version() IS
  'Version of the loaded aftersales library; compare with extversion in pg_extension';

-- sample_calendar: format() was given one argument more than its pattern uses
-- (plpgsql_check: unused parameters of function "format").
CREATE OR REPLACE FUNCTION aftersales.sample_calendar(year integer DEFAULT 2026) RETURNS aftersales.calendar
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    week constant text := 'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00';
    y text;
BEGIN
    IF year IS NULL OR year NOT BETWEEN 2000 AND 2100 THEN
        RAISE EXCEPTION 'invalid sample year: %', COALESCE(year::text, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'Years 2000 to 2100 are supported, for example: SELECT aftersales.sample_calendar(2026);';
    END IF;
    IF year = 2026 THEN
        RETURN (week || ';
   holiday 2026-01-01..2026-01-03,2026-02-15..2026-02-23,2026-04-04..2026-04-06,
           2026-05-01..2026-05-05,2026-06-19..2026-06-21,2026-09-25..2026-09-27,
           2026-10-01..2026-10-07;
   workday 2026-01-04 09:00-12:00,13:00-18:00; workday 2026-02-14 09:00-12:00,13:00-18:00;
   workday 2026-02-28 09:00-12:00,13:00-18:00; workday 2026-05-09 09:00-12:00,13:00-18:00;
   workday 2026-09-20 09:00-12:00,13:00-18:00; workday 2026-10-10 09:00-12:00,13:00-18:00')::aftersales.calendar;
    END IF;
    y := year::text;
    RETURN pg_catalog.format('%s; holiday %s-01-01,%s-05-01..%s-05-03,%s-10-01..%s-10-07', week, y, y, y, y, y)
        ::aftersales.calendar;
END
$$;

-- raise_alert: level must be finite and below 1e18 (NaN, Infinity and 1e100
-- were accepted), times finite and after year 1; a long role is cut in the error.
CREATE OR REPLACE FUNCTION aftersales.raise_alert(ticket bigint, kind text, level numeric DEFAULT 0,
                                       role text DEFAULT 'supervisor', detail jsonb DEFAULT '{}',
                                       due_at timestamptz DEFAULT NULL,
                                       at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    t_at timestamptz := COALESCE(at, aftersales.now());
    aid bigint;
BEGIN
    IF kind IS NULL OR kind NOT IN ('part_not_collected') THEN
        RAISE EXCEPTION 'alerts of kind "%" cannot be raised by hand',
                CASE WHEN pg_catalog.length(kind) > 64 THEN pg_catalog.left(kind, 64) || '...' ELSE kind END
            USING ERRCODE = '22023',
                  DETAIL = 'Warnings, escalations, locks and the anomaly alerts on clocks are raised by the sweep, locked by the tickets trigger.',
                  HINT = 'Kinds raised through this hook: part_not_collected; for example: SELECT aftersales.raise_alert(42, ''part_not_collected'', level => 7);';
    END IF;
    -- NOT (0 <= level < 1e18) also refuses NaN and Infinity
    IF level IS NULL OR NOT (level >= 0 AND level < 1e18) OR role IS NULL OR role !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid level % or role "%" for an alert', COALESCE(pg_catalog.left(level::text, 40), 'NULL'),
                CASE WHEN pg_catalog.length(role) > 64 THEN pg_catalog.left(role, 64) || '...' ELSE role END
            USING ERRCODE = '22023',
                  HINT = 'The level tells one occurrence from another (a shipment number, say) and is never negative; a role is a lowercase name: SELECT aftersales.raise_alert(42, ''part_not_collected'', level => 7, role => ''supervisor'');';
    END IF;
    IF NOT pg_catalog.isfinite(t_at) OR t_at < '0001-01-01 00:00+00'
       OR NOT pg_catalog.isfinite(COALESCE(due_at, t_at)) OR COALESCE(due_at, t_at) < '0001-01-01 00:00+00' THEN
        RAISE EXCEPTION 'invalid time for an alert: at %, due_at %', t_at, COALESCE(due_at::text, 'NULL')
            USING ERRCODE = '22008',
                  HINT = 'Alert times are finite and after year 1, for example: SELECT aftersales.raise_alert(42, ''part_not_collected'', level => 7, due_at => ''2026-03-03 09:00+08'');';
    END IF;
    IF ticket IS NULL OR NOT EXISTS (SELECT FROM aftersales.tickets t
                                      WHERE t.tenant_id = tenant AND t.ticket_id = raise_alert.ticket) THEN
        PERFORM aftersales._ticket_not_found(ticket, tenant);
    END IF;
    INSERT INTO aftersales.alerts AS a (tenant_id, ticket_id, clock, kind, level, role, due_at, raised_at, detail)
    VALUES (tenant, ticket, 'ticket', kind, level, role, COALESCE(due_at, t_at), t_at, COALESCE(detail, '{}'))
    ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING
    RETURNING a.alert_id INTO aid;
    IF aid IS NOT NULL THEN
        PERFORM pg_catalog.pg_notify('aftersales_alerts', pg_catalog.json_build_object(
            'tenant', tenant, 'alert', aid, 'ticket', ticket, 'clock', 'ticket', 'kind', kind, 'level', level)::text);
    END IF;
    RETURN aid;
END
$$;

-- replay_ticket: an unknown ticket raises P0002, as the other functions do
-- (it returned NULL).
CREATE OR REPLACE FUNCTION aftersales.replay_ticket(tenant bigint, ticket bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    e aftersales.ticket_events;
    loop_table jsonb;
    tr jsonb;
    -- the ticket, column by column (built into jsonb once, at the end: a
    -- jsonb rebuilt at every change was most of a replay's time)
    status aftersales.ticket_status;
    held_from aftersales.ticket_status;
    priority aftersales.priority;
    tier aftersales.ticket_tier;
    assignee_id bigint;
    attempt_count integer := 0;
    reopen_count integer := 0;
    opened_at timestamptz;
    first_response_at timestamptz;
    assigned_at timestamptz;
    arrived_at timestamptz;
    first_resolved_at timestamptz;
    resolved_at timestamptz;
    followed_up_at timestamptz;
    closed_at timestamptz;
    cancelled_at timestamptz;
    satisfied boolean;
    csat smallint;
    nps smallint;
    follow_up_comment text;
    last_event aftersales.ticket_event;
    last_event_at timestamptz;
    last_actor text;
    sla jsonb := '{}';
    c jsonb;
    m text;
    pay jsonb;
    n integer := 0;
    at timestamptz;
    from_s aftersales.ticket_status;
    to_s aftersales.ticket_status;
    had_response boolean;
    had_arrival boolean;
    leaving_hold boolean;
    entering_hold boolean;
    reopening boolean;
    touched boolean;
    stops text[];
    voids text[];
    -- every metric a clock can have: looping over them beats a query of
    -- jsonb_each(sla) at every event
    metrics constant text[] := pg_catalog.enum_range(NULL::aftersales.sla_metric)::text[];
BEGIN
    loop_table := aftersales._transition_table();

    FOR e IN SELECT * FROM aftersales.ticket_events ev
              WHERE ev.tenant_id OPERATOR(pg_catalog.=) tenant AND ev.ticket_id OPERATOR(pg_catalog.=) ticket
              ORDER BY ev.seq
    LOOP
        n := n OPERATOR(pg_catalog.+) 1;
        at := e.at;
        pay := e.payload;
        IF e.seq OPERATOR(pg_catalog.<>) n THEN
            PERFORM aftersales._replay_error(tenant, ticket, n, 'missing');
        END IF;

        IF n OPERATOR(pg_catalog.=) 1 THEN
            IF e.event OPERATOR(pg_catalog.<>) 'open' OR e.to_state NOT IN ('new', 'on_hold') THEN
                PERFORM aftersales._replay_error(tenant, ticket, n, 'the first event does not open the ticket');
            END IF;
            status := e.to_state;
            held_from := CASE WHEN e.to_state OPERATOR(pg_catalog.=) 'on_hold' THEN 'new' END;
            priority := pay->>'priority';
            tier := pay->>'tier';
            opened_at := at;
            last_event := 'open';
            last_event_at := at;
            last_actor := e.actor;
            FOR m, c IN SELECT * FROM pg_catalog.jsonb_each(COALESCE(pay->'sla', '{}')) LOOP
                sla := sla OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(m, pg_catalog.jsonb_build_object(
                    'policy_id', (pay->>'policy')::bigint, 'agreement_id', (pay->>'agreement')::bigint,
                    'target', (c->>'target')::interval, 'calendar', c->>'calendar',
                    'pauses_on_hold', (c->>'pauses')::boolean, 'started_at', at,
                    'due_at', (c->>'due')::timestamptz, 'paused', '0'::interval,
                    'paused_since', CASE WHEN e.to_state OPERATOR(pg_catalog.=) 'on_hold' AND (c->>'pauses')::boolean
                                         THEN at END,
                    'stopped_at', NULL, 'outcome', NULL, 'elapsed', NULL, 'elapsed_wall', NULL));
            END LOOP;
            CONTINUE;
        END IF;

        -- the transition, checked against the table
        from_s := status;
        to_s := e.to_state;
        IF e.from_state IS DISTINCT FROM from_s THEN
            PERFORM aftersales._replay_error(tenant, ticket, n,
                pg_catalog.format('it starts from %s, but the ticket was %s', e.from_state, from_s));
        END IF;
        tr := loop_table->(from_s::text OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) e.event::text
                           OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) to_s::text);
        IF tr IS NULL THEN
            PERFORM aftersales._replay_error(tenant, ticket, n,
                pg_catalog.format('%s --%s--> %s is not a transition of the closed loop', from_s, e.event, to_s));
        END IF;
        IF e.event OPERATOR(pg_catalog.=) 'fail'
           AND (attempt_count OPERATOR(pg_catalog.+) 1 OPERATOR(pg_catalog.>=) 2)
               IS DISTINCT FROM (tr->>'rule' IS NOT DISTINCT FROM 'attempts') THEN
            PERFORM aftersales._replay_error(tenant, ticket, n, 'the attempts rule was not followed');
        END IF;
        IF tr->>'rule' OPERATOR(pg_catalog.=) 'held_from' AND to_s IS DISTINCT FROM held_from THEN
            PERFORM aftersales._replay_error(tenant, ticket, n, 'resume did not return to the state held from');
        END IF;

        -- the ticket (ticket.c, apply_transition)
        had_response := first_response_at IS NOT NULL;
        had_arrival := arrived_at IS NOT NULL;
        status := to_s;
        last_event := e.event;
        last_event_at := at;
        last_actor := e.actor;
        IF to_s OPERATOR(pg_catalog.=) 'on_hold' AND from_s OPERATOR(pg_catalog.<>) 'on_hold' THEN
            held_from := from_s;
        ELSIF to_s OPERATOR(pg_catalog.<>) 'on_hold' AND from_s OPERATOR(pg_catalog.=) 'on_hold' THEN
            held_from := NULL;
        END IF;
        IF to_s IN ('new', 'locked') THEN
            assignee_id := NULL;
        ELSIF tr->>'supplies' OPERATOR(pg_catalog.=) 'assignee_id' THEN
            assignee_id := pay->>'assignee';
            IF to_s OPERATOR(pg_catalog.=) 'assigned' THEN
                assigned_at := at;
            END IF;
        END IF;
        IF pay ? 'tier' THEN
            tier := pay->>'tier';
        END IF;
        IF pay ? 'priority' THEN
            priority := pay->>'priority';
        END IF;
        IF (tr->>'counts_attempt')::boolean THEN
            attempt_count := attempt_count OPERATOR(pg_catalog.+) 1;
        END IF;
        IF (tr->>'first_response')::boolean AND NOT had_response THEN
            first_response_at := at;
        END IF;
        IF e.event OPERATOR(pg_catalog.=) 'arrive' AND NOT had_arrival THEN
            arrived_at := at;
        END IF;
        IF e.event OPERATOR(pg_catalog.=) 'follow_up' THEN
            followed_up_at := at;
            satisfied := pay->>'satisfied';
            csat := pay->>'csat';
            nps := pay->>'nps';
            follow_up_comment := pay->>'comment';
        END IF;
        reopening := from_s IN ('resolved', 'closed') AND to_s OPERATOR(pg_catalog.=) 'new';
        IF to_s OPERATOR(pg_catalog.=) 'resolved' THEN
            resolved_at := at;
            first_resolved_at := COALESCE(first_resolved_at, at);
        ELSIF to_s OPERATOR(pg_catalog.=) 'closed' THEN
            closed_at := at;
        ELSIF to_s OPERATOR(pg_catalog.=) 'cancelled' THEN
            cancelled_at := at;
        ELSIF reopening THEN
            reopen_count := reopen_count OPERATOR(pg_catalog.+) 1;
            resolved_at := NULL;
            closed_at := NULL;
        END IF;

        -- the clocks (ticket_log.c, _ticket_changed)
        leaving_hold := from_s OPERATOR(pg_catalog.=) 'on_hold' AND to_s OPERATOR(pg_catalog.<>) 'on_hold';
        entering_hold := to_s OPERATOR(pg_catalog.=) 'on_hold' AND from_s OPERATOR(pg_catalog.<>) 'on_hold';
        stops := '{}';
        voids := '{}';
        IF NOT had_response AND first_response_at IS NOT NULL THEN
            stops := stops OPERATOR(pg_catalog.||) 'first_response'::text;
        END IF;
        IF NOT had_arrival AND arrived_at IS NOT NULL THEN
            stops := stops OPERATOR(pg_catalog.||) 'arrival'::text;
        END IF;
        IF to_s OPERATOR(pg_catalog.=) 'resolved' AND from_s OPERATOR(pg_catalog.<>) 'resolved' THEN
            stops := stops OPERATOR(pg_catalog.||) 'resolution'::text;
            voids := '{arrival}';
        ELSIF to_s OPERATOR(pg_catalog.=) 'cancelled' THEN
            voids := '{first_response,arrival,resolution}';
        END IF;
        -- most events (assign, follow-up) touch no clock
        CONTINUE WHEN NOT (leaving_hold OR entering_hold OR reopening OR pay ? 'sla'
                           OR stops OPERATOR(pg_catalog.<>) '{}' OR voids OPERATOR(pg_catalog.<>) '{}');
        FOREACH m IN ARRAY metrics LOOP
            c := sla->m;
            CONTINUE WHEN c IS NULL;
            touched := false;
            IF leaving_hold THEN
                c := pg_catalog.jsonb_set(c, '{paused_since}', 'null');
                touched := true;
            END IF;
            IF pay->'sla' ? m THEN
                c := c OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
                    'target', (pay->'sla'->m->>'target')::interval,
                    'due_at', (pay->'sla'->m->>'due')::timestamptz,
                    'paused', (pay->'sla'->m->>'paused')::interval,
                    'elapsed', (pay->'sla'->m->>'elapsed')::interval);
                touched := true;
            END IF;
            IF c->'stopped_at' OPERATOR(pg_catalog.=) 'null' AND (m OPERATOR(pg_catalog.=) ANY (stops) OR m OPERATOR(pg_catalog.=) ANY (voids)) THEN
                c := c OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
                    'stopped_at', at,
                    'outcome', CASE WHEN NOT m OPERATOR(pg_catalog.=) ANY (stops) THEN 'cancelled'
                                    WHEN at OPERATOR(pg_catalog.<=) (c->>'due_at')::timestamptz THEN 'met'
                                    ELSE 'breached' END,
                    'elapsed_wall', at OPERATOR(pg_catalog.-) (c->>'started_at')::timestamptz);
                touched := true;
            END IF;
            IF entering_hold AND c->'stopped_at' OPERATOR(pg_catalog.=) 'null' AND (c->>'pauses_on_hold')::boolean THEN
                c := c OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('paused_since', at);
                touched := true;
            END IF;
            IF reopening AND m OPERATOR(pg_catalog.=) 'resolution' AND c->'stopped_at' OPERATOR(pg_catalog.<>) 'null' THEN
                c := c OPERATOR(pg_catalog.||) '{"stopped_at": null, "outcome": null, "elapsed_wall": null}';
                touched := true;
            END IF;
            IF touched THEN
                sla := pg_catalog.jsonb_set(sla, ARRAY[m], c);
            END IF;
        END LOOP;
    END LOOP;

    IF n OPERATOR(pg_catalog.=) 0 THEN
        -- a stored ticket without events is for check_tickets() to report
        IF NOT EXISTS (SELECT FROM aftersales.tickets t
                        WHERE t.tenant_id OPERATOR(pg_catalog.=) replay_ticket.tenant
                          AND t.ticket_id OPERATOR(pg_catalog.=) replay_ticket.ticket) THEN
            RAISE EXCEPTION 'ticket % does not exist for tenant %', ticket, tenant
                USING ERRCODE = 'P0002',
                      HINT = 'List the tickets with: SELECT ticket_id, status FROM aftersales.tickets WHERE tenant_id = aftersales.current_tenant();';
        END IF;
        RETURN NULL;
    END IF;
    -- the shape of ticket_state(), from typed values as the table holds them
    RETURN pg_catalog.jsonb_build_object(
        'ticket', pg_catalog.jsonb_build_object(
            'status', status, 'held_from', held_from, 'priority', priority, 'tier', tier,
            'assignee_id', assignee_id, 'attempt_count', attempt_count, 'reopen_count', reopen_count,
            'opened_at', opened_at, 'first_response_at', first_response_at, 'assigned_at', assigned_at,
            'arrived_at', arrived_at, 'first_resolved_at', first_resolved_at, 'resolved_at', resolved_at,
            'followed_up_at', followed_up_at, 'closed_at', closed_at, 'cancelled_at', cancelled_at,
            'satisfied', satisfied, 'csat', csat, 'nps', nps, 'follow_up_comment', follow_up_comment,
            'event_seq', n, 'last_event', last_event, 'last_event_at', last_event_at,
            'last_actor', last_actor),
        'sla', sla);
END
$$;

-- set_escalation_rule: after bounded to 8784 hours (2147483647 hours silenced
-- escalation); a NULL or unknown tenant refused with 22004/P0002; a long kind cut.
CREATE OR REPLACE FUNCTION aftersales.set_escalation_rule(kind text, level numeric DEFAULT 0, after interval DEFAULT NULL,
                                               role text DEFAULT NULL, enabled boolean DEFAULT true,
                                               description text DEFAULT NULL,
                                               tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cur aftersales.escalation_rules;
    dflt aftersales.escalation_rules;
BEGIN
    IF tenant IS NULL THEN
        RAISE EXCEPTION 'tenant must not be null'
            USING ERRCODE = '22004',
                  HINT = 'Leave it out for the current tenant, or name one, for example: SELECT aftersales.set_escalation_rule(''escalation'', 2, after => ''2 hours'', tenant => 1);';
    END IF;
    IF NOT EXISTS (SELECT FROM aftersales.tenants t WHERE t.tenant_id = set_escalation_rule.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the tenants with: SELECT tenant_id, name FROM aftersales.tenants;';
    END IF;
    IF kind IS NULL OR kind NOT IN ('warning', 'escalation', 'not_arrived', 'not_completed', 'key_customer', 'lock') THEN
        PERFORM aftersales._bad_rule(pg_catalog.format('invalid escalation rule kind: "%s"',
                    CASE WHEN pg_catalog.length(kind) > 64 THEN pg_catalog.left(kind, 64) || '...' ELSE kind END),
            'Kinds are warning, escalation, not_arrived, not_completed, key_customer and lock; for example: SELECT aftersales.set_escalation_rule(''warning'', 90);');
    END IF;
    IF level IS NULL
       OR (kind = 'warning' AND NOT (level > 0 AND level <= 100 AND level = round(level, 2)))
       OR (kind = 'escalation' AND NOT (level BETWEEN 1 AND 9 AND level = trunc(level)))
       OR (kind NOT IN ('warning', 'escalation') AND level <> 0) THEN
        PERFORM aftersales._bad_rule(pg_catalog.format('invalid level %s for escalation rule kind %s', COALESCE(level::text, 'NULL'), kind),
            CASE kind WHEN 'warning' THEN 'A warning''s level is the percent of the target, above 0 and at most 100, for example: SELECT aftersales.set_escalation_rule(''warning'', 90);'
                      WHEN 'escalation' THEN 'Escalation levels are 1 to 9, for example: SELECT aftersales.set_escalation_rule(''escalation'', 2, after => ''2 hours'');'
                      ELSE pg_catalog.format('Rules of kind %s have level 0, for example: SELECT aftersales.set_escalation_rule(%L, after => ''8 hours'');', kind, kind) END);
    END IF;
    SELECT * INTO cur FROM aftersales.escalation_rules r
     WHERE r.tenant_id = set_escalation_rule.tenant AND r.kind = set_escalation_rule.kind AND r.level = set_escalation_rule.level;
    SELECT * INTO dflt FROM aftersales.escalation_rules r
     WHERE r.tenant_id = 1 AND r.kind = set_escalation_rule.kind AND r.level = set_escalation_rule.level;
    after := COALESCE(after, cur.after, dflt.after);
    IF kind = 'warning' AND after IS NOT NULL THEN
        PERFORM aftersales._bad_rule(pg_catalog.format('a warning has no after, got %s', after),
            'A warning fires at a percent of the target: SELECT aftersales.set_escalation_rule(''warning'', 90);');
    END IF;
    -- bounded: a stage years away overflowed the watch arithmetic and
    -- silenced every stage of the ticket
    IF kind <> 'warning' AND (after IS NULL OR after < '0'::interval OR after > '8784 hours'::interval
                              OR EXTRACT(DAY FROM after) <> 0
                              OR EXTRACT(MONTH FROM after) <> 0 OR EXTRACT(YEAR FROM after) <> 0) THEN
        PERFORM aftersales._bad_rule(pg_catalog.format('invalid after for escalation rule %s %s: %s', kind, level, COALESCE(after::text, 'NULL')),
            'After is hours, minutes and seconds, never negative and at most 8784 hours (a year; a business day is not 24 hours), for example: SELECT aftersales.set_escalation_rule(''escalation'', 3, after => ''16 hours'');');
    END IF;
    role := COALESCE(role, cur.role, dflt.role,
                     CASE kind WHEN 'warning' THEN 'assignee' WHEN 'escalation' THEN 'supervisor'
                               WHEN 'not_arrived' THEN 'supervisor' WHEN 'not_completed' THEN 'supervisor'
                               ELSE 'service_manager' END);
    IF role !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        PERFORM aftersales._bad_rule(pg_catalog.format('invalid role: "%s"', role),
            'A role is a lowercase name such as supervisor, service_manager or head_of_department.');
    END IF;
    INSERT INTO aftersales.escalation_rules AS r (tenant_id, kind, level, after, role, enabled, description)
    VALUES (tenant, kind, level, after, role, COALESCE(enabled, true), COALESCE(description, cur.description, dflt.description))
    ON CONFLICT ON CONSTRAINT escalation_rules_pkey DO UPDATE
       SET after = excluded.after, role = excluded.role, enabled = excluded.enabled,
           description = excluded.description;
END
$$;

-- set_calendar: a NULL or unknown tenant refused with 22004/P0002 (raw
-- 23502/23503 before); a long name cut in the message.
CREATE OR REPLACE FUNCTION aftersales.set_calendar(name text, cal aftersales.calendar,
                                        description text DEFAULT NULL,
                                        tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF name IS NULL OR name !~ '^[[:alnum:]_][[:alnum:]_.:+-]{0,62}$' THEN
        RAISE EXCEPTION 'invalid calendar name: "%"', CASE WHEN pg_catalog.length(name) > 64 THEN pg_catalog.left(name, 64) || '...' ELSE name END
            USING ERRCODE = '22023',
                  DETAIL = 'A calendar name has 1 to 63 letters, digits and _ . : + -, and starts with a letter, digit or _.',
                  HINT = 'For example: SELECT aftersales.set_calendar(''cn-office'', ''zone=Asia/Shanghai; mon-fri 09:00-18:00'');';
    END IF;
    IF cal IS NULL THEN
        RAISE EXCEPTION 'calendar "%" must not be null', name
            USING ERRCODE = '22004',
                  HINT = 'For example: SELECT aftersales.set_calendar(''cn-office'', ''zone=Asia/Shanghai; mon-fri 09:00-18:00'');';
    END IF;
    IF tenant IS NULL THEN
        RAISE EXCEPTION 'tenant must not be null'
            USING ERRCODE = '22004',
                  HINT = 'Leave it out for the current tenant, or name one, for example: SELECT aftersales.set_calendar(''cn-office'', ''zone=Asia/Shanghai; mon-fri 09:00-18:00'', tenant => 1);';
    END IF;
    IF NOT EXISTS (SELECT FROM aftersales.tenants t WHERE t.tenant_id = set_calendar.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the tenants with: SELECT tenant_id, name FROM aftersales.tenants;';
    END IF;
    INSERT INTO aftersales.calendars AS c (tenant_id, name, calendar, description)
    VALUES (tenant, set_calendar.name, cal, set_calendar.description)
    ON CONFLICT ON CONSTRAINT calendars_pkey DO UPDATE
       SET calendar = excluded.calendar,
           description = COALESCE(excluded.description, c.description),
           updated_at = pg_catalog.now();
END
$$;

-- open_ticket: a long channel is cut in the error message.
CREATE OR REPLACE FUNCTION aftersales.open_ticket(customer bigint, problem_type bigint, priority aftersales.priority,
                                       description text, channel text DEFAULT 'phone',
                                       unit bigint DEFAULT NULL, model bigint DEFAULT NULL,
                                       requested_at timestamptz DEFAULT NULL, field boolean DEFAULT false,
                                       org bigint DEFAULT NULL, on_hold boolean DEFAULT false,
                                       reason text DEFAULT NULL,
                                       actor text DEFAULT aftersales.actor(),
                                       at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    opened timestamptz := COALESCE(at, aftersales.now());
    unit_customer bigint;
    unit_model bigint;
    customer_ok boolean;
    problem_type_ok boolean;
    model_ok boolean;
    org_ok boolean;
    example constant text := 'SELECT aftersales.open_ticket(customer => 7, problem_type => 3, priority => ''B'', description => ''no power'');';
BEGIN
    IF customer IS NULL OR problem_type IS NULL OR priority IS NULL OR description IS NULL THEN
        RAISE EXCEPTION 'customer, problem_type, priority and description must not be null'
            USING ERRCODE = '22004', HINT = 'For example: ' OPERATOR(pg_catalog.||) example;
    END IF;
    IF pg_catalog.btrim(description) OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION 'description must not be empty'
            USING ERRCODE = '22023', HINT = 'Say what the customer reported, for example: ' OPERATOR(pg_catalog.||) example;
    END IF;
    -- What must exist, read in one statement; the errors below keep their order.
    SELECT EXISTS (SELECT FROM aftersales.customers c
                    WHERE c.tenant_id OPERATOR(pg_catalog.=) tenant AND c.customer_id OPERATOR(pg_catalog.=) open_ticket.customer),
           EXISTS (SELECT FROM aftersales.problem_types p
                    WHERE p.tenant_id OPERATOR(pg_catalog.=) tenant AND p.problem_type_id OPERATOR(pg_catalog.=) problem_type),
           model IS NULL OR EXISTS (SELECT FROM aftersales.product_models m
                                     WHERE m.tenant_id OPERATOR(pg_catalog.=) tenant AND m.model_id OPERATOR(pg_catalog.=) model),
           org IS NULL OR EXISTS (SELECT FROM aftersales.organisations o
                                   WHERE o.tenant_id OPERATOR(pg_catalog.=) tenant AND o.org_id OPERATOR(pg_catalog.=) org)
      INTO customer_ok, problem_type_ok, model_ok, org_ok;
    IF NOT customer_ok THEN
        RAISE EXCEPTION 'customer % does not exist for tenant %', customer, tenant
            USING ERRCODE = 'P0002',
                  HINT = 'Register the customer first: INSERT INTO aftersales.customers (name) VALUES (''...'') RETURNING customer_id;';
    END IF;
    IF NOT problem_type_ok THEN
        RAISE EXCEPTION 'problem type % does not exist for tenant %', problem_type, tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the problem types with: SELECT problem_type_id, code, name FROM aftersales.problem_types WHERE tenant_id = aftersales.current_tenant();';
    END IF;
    IF channel IS NULL OR channel NOT IN ('phone', 'web', 'app', 'wechat', 'email', 'walk_in', 'field', 'other') THEN
        RAISE EXCEPTION 'invalid channel: "%"', CASE WHEN pg_catalog.length(channel) > 64 THEN pg_catalog.left(channel, 64) || '...' ELSE channel END
            USING ERRCODE = '22023',
                  HINT = 'Channels are phone, web, app, wechat, email, walk_in, field and other.';
    END IF;
    IF unit IS NOT NULL THEN
        SELECT u.customer_id, u.model_id INTO unit_customer, unit_model FROM aftersales.units u
         WHERE u.tenant_id OPERATOR(pg_catalog.=) tenant AND u.unit_id OPERATOR(pg_catalog.=) unit;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'unit % does not exist for tenant %', unit, tenant
                USING ERRCODE = 'P0002',
                      HINT = 'Find the unit by its serial: SELECT unit_id FROM aftersales.units WHERE serial = ''...'';';
        END IF;
        IF unit_customer OPERATOR(pg_catalog.<>) customer THEN
            RAISE EXCEPTION 'unit % belongs to customer %, not to customer %', unit, unit_customer, customer
                USING ERRCODE = '22023', HINT = 'Open the ticket for the customer who has the unit.';
        END IF;
        IF model IS NOT NULL AND model OPERATOR(pg_catalog.<>) unit_model THEN
            RAISE EXCEPTION 'unit % is of model %, not of model %', unit, unit_model, model
                USING ERRCODE = '22023', HINT = 'Leave the model out: it is taken from the unit.';
        END IF;
        model := unit_model;
    ELSIF NOT model_ok THEN
        RAISE EXCEPTION 'product model % does not exist for tenant %', model, tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the models with: SELECT model_id, code, name FROM aftersales.product_models WHERE tenant_id = aftersales.current_tenant();';
    END IF;
    IF NOT org_ok THEN
        RAISE EXCEPTION 'organisation % does not exist for tenant %', org, tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the organisations with: SELECT org_id, name FROM aftersales.organisations WHERE tenant_id = aftersales.current_tenant();';
    END IF;
    IF requested_at OPERATOR(pg_catalog.<) opened THEN
        RAISE EXCEPTION 'requested date % precedes the entry of the ticket at %', requested_at, opened
            USING ERRCODE = '22023', HINT = 'The customer-requested date is when the customer wants the problem solved, after entry.';
    END IF;
    IF COALESCE(on_hold, false) THEN
        PERFORM aftersales._require_reason(reason, 'hold',
            'SELECT aftersales.open_ticket(customer => 7, problem_type => 3, priority => ''C'', description => ''noise'', on_hold => true, reason => ''customer away until Monday'');');
    END IF;

    RETURN aftersales._ticket_open(tenant, channel, customer, unit, model, problem_type, description, priority,
                                   requested_at, org, COALESCE(field, false),
                                   CASE WHEN COALESCE(on_hold, false) THEN 'on_hold' ELSE 'new' END::aftersales.ticket_status,
                                   opened, actor, reason);
END
$$;

-- _kpi_check: kpi_durations refuses a NULL period as the other KPI functions
-- do; an infinite as_of (at) is refused with 22008 (it failed with "cannot
-- subtract infinite timestamps").
CREATE OR REPLACE FUNCTION aftersales._kpi_check(fn text, example text, period text, dimension text, dimensions text[],
                                      since timestamptz, until timestamptz, as_of timestamptz, zone text,
                                      tenant bigint)
    RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    periods constant text[] := '{day,week,month,quarter,year,all}';
BEGIN
    IF period IS NOT NULL OR fn IN ('kpi_service', 'kpi_headline', 'kpi_staff', 'kpi_dispatch', 'kpi_failures', 'kpi_warranty_trend', 'kpi_durations') THEN
        IF period IS NULL THEN
            RAISE EXCEPTION 'period must not be null'
                USING ERRCODE = '22004',
                      DETAIL = 'Periods are day, week (from Monday), month, quarter, year and all (the whole range).',
                      HINT = 'For example: ' || example;
        END IF;
        IF NOT period = ANY (periods) THEN
            RAISE EXCEPTION 'unknown period: "%"', period
                USING ERRCODE = '22023',
                      DETAIL = 'Periods are day, week (from Monday), month, quarter, year and all (the whole range).',
                      HINT = 'For example: ' || example;
        END IF;
    END IF;
    IF dimensions IS NOT NULL AND dimension IS NULL THEN
        RAISE EXCEPTION 'dimension must not be null'
            USING ERRCODE = '22004',
                  DETAIL = pg_catalog.format('Dimensions of %s are %s.', fn, pg_catalog.array_to_string(dimensions, ', ')),
                  HINT = 'For example: ' || example;
    END IF;
    IF dimensions IS NOT NULL AND NOT dimension = ANY (dimensions) THEN
        RAISE EXCEPTION 'unknown dimension: "%"', dimension
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('Dimensions of %s are %s.', fn, pg_catalog.array_to_string(dimensions, ', ')),
                  HINT = 'For example: ' || example;
    END IF;
    IF fn NOT IN ('kpi_backlog', 'kpi_engineer_holdings', 'backlog_as_of') THEN
        IF since IS NULL OR until IS NULL THEN
            RAISE EXCEPTION 'since and until must not be null'
                USING ERRCODE = '22004',
                      DETAIL = 'The range is [since, until) of the tickets'' entry; use ''-infinity'' or ''infinity'' for no bound.',
                      HINT = 'For example: ' || example;
        END IF;
        IF since >= until THEN
            RAISE EXCEPTION 'empty range: since % is not before until %', since, until
                USING ERRCODE = '22023',
                      DETAIL = 'The range is [since, until) of the tickets'' entry.',
                      HINT = 'For example: ' || example;
        END IF;
    END IF;
    IF as_of IS NULL AND fn NOT IN ('kpi_dispatch', 'kpi_failures', 'kpi_warranty_trend') THEN
        RAISE EXCEPTION '% must not be null', CASE WHEN fn = 'backlog_as_of' THEN 'at' ELSE 'as_of' END
            USING ERRCODE = '22004',
                  DETAIL = 'It is the instant at which unfinished tickets are judged (default aftersales.now()).',
                  HINT = 'For example: ' || example;
    END IF;
    IF zone IS NULL THEN
        RAISE EXCEPTION 'zone must not be null'
            USING ERRCODE = '22004',
                  DETAIL = 'Periods are cut in this time zone; the default is the session''s TimeZone.',
                  HINT = 'For example: ' || example;
    END IF;
    BEGIN
        PERFORM pg_catalog.timezone(zone, pg_catalog.timestamptz '2000-01-01 00:00+00');
    EXCEPTION WHEN invalid_parameter_value OR feature_not_supported THEN
        RAISE EXCEPTION 'unknown time zone: "%"', zone
            USING ERRCODE = '22023',
                  DETAIL = 'Periods are cut in this time zone.',
                  HINT = 'Use a zone PostgreSQL knows (SELECT name FROM pg_timezone_names), for example: zone => ''Asia/Shanghai''.';
    END;
    IF tenant IS NOT NULL AND NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = _kpi_check.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the tenants with: SELECT tenant_id, name FROM aftersales.tenants; or pass tenant => NULL for every tenant.';
    END IF;
    -- ages are measured from as_of: an infinite one has none
    IF as_of IS NOT NULL AND NOT pg_catalog.isfinite(as_of) THEN
        RAISE EXCEPTION '% must be finite, not %', CASE WHEN fn = 'backlog_as_of' THEN 'at' ELSE 'as_of' END, as_of
            USING ERRCODE = '22008',
                  DETAIL = 'Ages and backlogs are measured at this instant.',
                  HINT = 'For example: ' || example;
    END IF;
END
$$;
