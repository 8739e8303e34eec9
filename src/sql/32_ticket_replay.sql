
-- aftersales install script, part 32: replaying tickets from their events.
--
-- replay_ticket() folds a ticket's events into its state, counters, time
-- stamps and SLA clocks, following the same rules as the trigger (ticket.c)
-- and the clock trigger (30_tickets.sql) but written a second time, from
-- the event rows alone: every transition is checked against the closed-loop
-- table, and what only a calendar or a policy could tell (due times, pauses,
-- business time elapsed, targets) is read from the events' payloads, so a
-- later change of a calendar or a policy does not make history differ.
-- check_tickets() compares every stored ticket with its replay.

-- A ticket's stored state, in the shape replay_ticket() returns.
CREATE FUNCTION aftersales.ticket_state(tenant bigint, ticket bigint) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT pg_catalog.jsonb_build_object(
           'ticket', pg_catalog.jsonb_build_object(
               'status', t.status, 'held_from', t.held_from, 'priority', t.priority, 'tier', t.tier,
               'assignee_id', t.assignee_id, 'attempt_count', t.attempt_count, 'reopen_count', t.reopen_count,
               'opened_at', t.opened_at, 'first_response_at', t.first_response_at, 'assigned_at', t.assigned_at,
               'arrived_at', t.arrived_at, 'first_resolved_at', t.first_resolved_at, 'resolved_at', t.resolved_at,
               'followed_up_at', t.followed_up_at, 'closed_at', t.closed_at, 'cancelled_at', t.cancelled_at,
               'satisfied', t.satisfied, 'csat', t.csat, 'nps', t.nps, 'follow_up_comment', t.follow_up_comment,
               'event_seq', t.event_seq, 'last_event', t.last_event, 'last_event_at', t.last_event_at,
               'last_actor', t.last_actor),
           'sla', COALESCE((SELECT pg_catalog.jsonb_object_agg(s.metric, pg_catalog.jsonb_build_object(
                                'policy_id', s.policy_id, 'agreement_id', s.agreement_id, 'target', s.target,
                                'calendar', s.calendar, 'pauses_on_hold', s.pauses_on_hold,
                                'started_at', s.started_at, 'due_at', s.due_at, 'paused', s.paused,
                                'paused_since', s.paused_since, 'stopped_at', s.stopped_at, 'outcome', s.outcome,
                                'elapsed', s.elapsed, 'elapsed_wall', s.elapsed_wall))
                              FROM aftersales.ticket_sla s
                             WHERE s.tenant_id OPERATOR(pg_catalog.=) t.tenant_id
                               AND s.ticket_id OPERATOR(pg_catalog.=) t.ticket_id), '{}'))
       -- the free fields the log has recorded edits of (replay knows those)
       OPERATOR(pg_catalog.||)
       COALESCE((SELECT pg_catalog.jsonb_build_object('fields', pg_catalog.jsonb_object_agg(f.key, pg_catalog.to_jsonb(t) OPERATOR(pg_catalog.->) f.key))
                   FROM (SELECT DISTINCT pg_catalog.jsonb_object_keys(ev.payload OPERATOR(pg_catalog.->) 'changes') AS key
                           FROM aftersales.ticket_events ev
                          WHERE ev.tenant_id OPERATOR(pg_catalog.=) t.tenant_id
                            AND ev.ticket_id OPERATOR(pg_catalog.=) t.ticket_id
                            AND ev.event::text OPERATOR(pg_catalog.=) 'edit') f
                 HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 0), '{}')
  FROM aftersales.tickets t
 WHERE t.tenant_id OPERATOR(pg_catalog.=) tenant AND t.ticket_id OPERATOR(pg_catalog.=) ticket
$$;
COMMENT ON FUNCTION aftersales.ticket_state(bigint, bigint) IS
  'A ticket''s stored life-cycle state and SLA clocks as jsonb, in the shape of replay_ticket(), with the free fields its log has recorded edits of (key fields, when there are some); NULL for an unknown ticket';

CREATE FUNCTION aftersales_internal.replay_error(tenant bigint, ticket bigint, seq integer, message text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'cannot replay ticket % of tenant %: event %: %', ticket, tenant, seq, message
        USING ERRCODE = 'XX001',
              DETAIL = 'The event log of the ticket does not follow the closed loop.',
              HINT = pg_catalog.format('Inspect it with: SELECT * FROM aftersales.ticket_events WHERE tenant_id = %s AND ticket_id = %s ORDER BY seq;', tenant, ticket);
END
$$;
COMMENT ON FUNCTION aftersales_internal.replay_error(bigint, bigint, integer, text) IS 'Internal: the error for an event log that cannot be replayed';

-- The closed-loop table as jsonb, keyed 'from/event/to'.  IMMUTABLE (the
-- table is compiled into the module) and without arguments, so the planner
-- evaluates it once when replay_ticket() first plans the assignment, and
-- each later replay in the session reads the constant: building it took
-- three quarters of a replay.
CREATE FUNCTION aftersales_internal.transition_table() RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT pg_catalog.jsonb_object_agg(x.from_state::text OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) x.event::text
                                   OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) x.to_state::text,
                                   pg_catalog.to_jsonb(x))
  FROM aftersales.ticket_transitions() x
$$;
COMMENT ON FUNCTION aftersales_internal.transition_table() IS
  'Internal: aftersales.ticket_transitions() as one jsonb object keyed from/event/to, for replay_ticket()';

-- Replay, step: the clocks the open event started, from its payload.
CREATE FUNCTION aftersales_internal.replay_open_clocks(pay jsonb, to_state aftersales.ticket_status, at timestamptz)
    RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sla jsonb := '{}'::jsonb;
    m text;
    c jsonb;
BEGIN
    FOR m, c IN SELECT * FROM pg_catalog.jsonb_each(COALESCE(pay->'sla', '{}')) LOOP
        sla := sla OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(m, pg_catalog.jsonb_build_object(
            'policy_id', (pay->>'policy')::bigint, 'agreement_id', (pay->>'agreement')::bigint,
            'target', (c->>'target')::interval, 'calendar', c->>'calendar',
            'pauses_on_hold', (c->>'pauses')::boolean, 'started_at', at,
            'due_at', (c->>'due')::timestamptz, 'paused', '0'::interval,
            'paused_since', CASE WHEN to_state OPERATOR(pg_catalog.=) 'on_hold' AND (c->>'pauses')::boolean
                                 THEN at END,
            'stopped_at', NULL, 'outcome', NULL, 'elapsed', NULL, 'elapsed_wall', NULL));
    END LOOP;
    RETURN sla;
END
$$;
COMMENT ON FUNCTION aftersales_internal.replay_open_clocks(jsonb, aftersales.ticket_status, timestamptz) IS
  'Internal: replay_ticket''s step for the open event: the SLA clocks it started, from its payload';

-- Replay, step: an edit, outside the closed loop: the free fields it
-- changed, each old value checked against what the previous edit left.
CREATE FUNCTION aftersales_internal.replay_edit(tenant bigint, ticket bigint, n integer,
                                                from_state aftersales.ticket_status, to_state aftersales.ticket_status,
                                                status aftersales.ticket_status, fields jsonb, pay jsonb)
    RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f text;
    fv jsonb;
    c jsonb;
BEGIN
    IF from_state IS DISTINCT FROM status OR to_state IS DISTINCT FROM status THEN
        PERFORM aftersales_internal.replay_error(tenant, ticket, n,
            pg_catalog.format('edit takes it from %s to %s, but the ticket was %s', from_state, to_state, status));
    END IF;
    IF pg_catalog.jsonb_typeof(pay OPERATOR(pg_catalog.->) 'changes') IS DISTINCT FROM 'object'
       OR pay OPERATOR(pg_catalog.->) 'changes' OPERATOR(pg_catalog.=) '{}' THEN
        PERFORM aftersales_internal.replay_error(tenant, ticket, n, 'edit records no changes');
    END IF;
    FOR f, c IN SELECT * FROM pg_catalog.jsonb_each(pay OPERATOR(pg_catalog.->) 'changes') LOOP
        -- timestamps in the session's zone, as ticket_state() writes them
        IF f OPERATOR(pg_catalog.=) 'requested_at' THEN
            c := pg_catalog.jsonb_build_object(
                'old', (c OPERATOR(pg_catalog.->>) 'old')::timestamptz,
                'new', (c OPERATOR(pg_catalog.->>) 'new')::timestamptz);
        END IF;
        fv := fields OPERATOR(pg_catalog.->) f;
        IF fv IS NOT NULL AND fv OPERATOR(pg_catalog.<>) (c OPERATOR(pg_catalog.->) 'old') THEN
            PERFORM aftersales_internal.replay_error(tenant, ticket, n,
                pg_catalog.format('%s was %s before this edit, but the last edit of it left %s',
                                  f, c OPERATOR(pg_catalog.->) 'old', fv));
        END IF;
        fields := fields OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(f, c OPERATOR(pg_catalog.->) 'new');
    END LOOP;
    RETURN fields;
END
$$;
COMMENT ON FUNCTION aftersales_internal.replay_edit(bigint, bigint, integer, aftersales.ticket_status, aftersales.ticket_status,
                                                   aftersales.ticket_status, jsonb, jsonb) IS
  'Internal: replay_ticket''s step for an edit: the free fields as it left them; an error when its old values are not what the previous edit left';

-- Replay, step: what one event of the loop did to the clocks (as
-- ticket_log.c's ticket_changed does): leaving or entering hold, a
-- re-target in the payload, stops and voids, a reopen.
CREATE FUNCTION aftersales_internal.replay_clocks(sla jsonb, pay jsonb, at timestamptz,
                                                  from_s aftersales.ticket_status, to_s aftersales.ticket_status,
                                                  had_response boolean, had_arrival boolean,
                                                  response_now boolean, arrival_now boolean, reopening boolean)
    RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    leaving_hold boolean;
    entering_hold boolean;
    touched boolean;
    stops text[];
    voids text[];
    m text;
    c jsonb;
    -- every metric a clock can have: looping over them beats a query of
    -- jsonb_each(sla) at every event
    metrics constant text[] := pg_catalog.enum_range(NULL::aftersales.sla_metric)::text[];
BEGIN
    leaving_hold := from_s OPERATOR(pg_catalog.=) 'on_hold' AND to_s OPERATOR(pg_catalog.<>) 'on_hold';
    entering_hold := to_s OPERATOR(pg_catalog.=) 'on_hold' AND from_s OPERATOR(pg_catalog.<>) 'on_hold';
    stops := '{}';
    voids := '{}';
    IF NOT had_response AND response_now THEN
        stops := stops OPERATOR(pg_catalog.||) 'first_response'::text;
    END IF;
    IF NOT had_arrival AND arrival_now THEN
        stops := stops OPERATOR(pg_catalog.||) 'arrival'::text;
    END IF;
    IF to_s OPERATOR(pg_catalog.=) 'resolved' AND from_s OPERATOR(pg_catalog.<>) 'resolved' THEN
        stops := stops OPERATOR(pg_catalog.||) 'resolution'::text;
        voids := '{arrival}';
    ELSIF to_s OPERATOR(pg_catalog.=) 'cancelled' THEN
        voids := '{first_response,arrival,resolution}';
    END IF;
    -- most events (assign, follow-up) touch no clock
    IF NOT (leaving_hold OR entering_hold OR reopening OR pay ? 'sla'
                       OR stops OPERATOR(pg_catalog.<>) '{}' OR voids OPERATOR(pg_catalog.<>) '{}') THEN
        RETURN sla;
    END IF;
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
    RETURN sla;
END
$$;
COMMENT ON FUNCTION aftersales_internal.replay_clocks(jsonb, jsonb, timestamptz, aftersales.ticket_status, aftersales.ticket_status,
                                                     boolean, boolean, boolean, boolean, boolean) IS
  'Internal: replay_ticket''s step for one event of the loop: the SLA clocks after it';

-- Replay, step: an event of the loop checked against the closed-loop
-- table (its transition, the attempts rule, resume's return); returns the
-- table's row of the transition.
CREATE FUNCTION aftersales_internal.replay_transition(tenant bigint, ticket bigint, n integer,
                                                      from_state aftersales.ticket_status, event aftersales.ticket_event,
                                                      to_s aftersales.ticket_status, from_s aftersales.ticket_status,
                                                      attempt_count integer, held_from aftersales.ticket_status,
                                                      loop_table jsonb)
    RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tr jsonb;
BEGIN
    IF from_state IS DISTINCT FROM from_s THEN
        PERFORM aftersales_internal.replay_error(tenant, ticket, n,
            pg_catalog.format('it starts from %s, but the ticket was %s', from_state, from_s));
    END IF;
    tr := loop_table->(from_s::text OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) event::text
                       OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) to_s::text);
    IF tr IS NULL THEN
        PERFORM aftersales_internal.replay_error(tenant, ticket, n,
            pg_catalog.format('%s --%s--> %s is not a transition of the closed loop', from_s, event, to_s));
    END IF;
    IF event OPERATOR(pg_catalog.=) 'fail'
       AND (attempt_count OPERATOR(pg_catalog.+) 1 OPERATOR(pg_catalog.>=) 2)
           IS DISTINCT FROM (tr->>'rule' IS NOT DISTINCT FROM 'attempts') THEN
        PERFORM aftersales_internal.replay_error(tenant, ticket, n, 'the attempts rule was not followed');
    END IF;
    IF tr->>'rule' OPERATOR(pg_catalog.=) 'held_from' AND to_s IS DISTINCT FROM held_from THEN
        PERFORM aftersales_internal.replay_error(tenant, ticket, n, 'resume did not return to the state held from');
    END IF;
    RETURN tr;
END
$$;
COMMENT ON FUNCTION aftersales_internal.replay_transition(bigint, bigint, integer, aftersales.ticket_status, aftersales.ticket_event,
                                                         aftersales.ticket_status, aftersales.ticket_status, integer,
                                                         aftersales.ticket_status, jsonb) IS
  'Internal: replay_ticket''s step for an event of the loop: its transition checked against the closed-loop table; returns the table''s row';

-- The replay: each event in seq order, through the steps above.  Longer
-- than the house's 150 lines: what remains writes the ticket's columns,
-- which are plain variables here (see below); a step for it would take
-- and return all of them.
CREATE FUNCTION aftersales.replay_ticket(tenant bigint, ticket bigint) RETURNS jsonb
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
    -- free fields as the edits left them (only those the log recorded)
    fields jsonb := '{}';
    pay jsonb;
    n integer := 0;
    at timestamptz;
    from_s aftersales.ticket_status;
    to_s aftersales.ticket_status;
    had_response boolean;
    had_arrival boolean;
    reopening boolean;
BEGIN
    loop_table := aftersales_internal.transition_table();

    FOR e IN SELECT * FROM aftersales.ticket_events ev
              WHERE ev.tenant_id OPERATOR(pg_catalog.=) tenant AND ev.ticket_id OPERATOR(pg_catalog.=) ticket
              ORDER BY ev.seq
    LOOP
        n := n OPERATOR(pg_catalog.+) 1;
        at := e.at;
        pay := e.payload;
        IF e.seq OPERATOR(pg_catalog.<>) n THEN
            PERFORM aftersales_internal.replay_error(tenant, ticket, n, 'missing');
        END IF;

        IF n OPERATOR(pg_catalog.=) 1 THEN
            IF e.event OPERATOR(pg_catalog.<>) 'open' OR e.to_state NOT IN ('new', 'on_hold') THEN
                PERFORM aftersales_internal.replay_error(tenant, ticket, n, 'the first event does not open the ticket');
            END IF;
            status := e.to_state;
            held_from := CASE WHEN e.to_state OPERATOR(pg_catalog.=) 'on_hold' THEN 'new' END;
            priority := pay->>'priority';
            tier := pay->>'tier';
            opened_at := at;
            last_event := 'open';
            last_event_at := at;
            last_actor := e.actor;
            sla := aftersales_internal.replay_open_clocks(pay, e.to_state, at);
            CONTINUE;
        END IF;

        -- edit, outside the closed loop: free fields change, the state does not
        IF e.event::text OPERATOR(pg_catalog.=) 'edit' THEN
            fields := aftersales_internal.replay_edit(tenant, ticket, n, e.from_state, e.to_state, status, fields, pay);
            last_event := e.event;
            last_event_at := at;
            last_actor := e.actor;
            CONTINUE;
        END IF;

        -- the transition, checked against the table
        from_s := status;
        to_s := e.to_state;
        tr := aftersales_internal.replay_transition(tenant, ticket, n, e.from_state, e.event, to_s, status,
                                                    attempt_count, held_from, loop_table);

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

        -- the clocks (ticket_log.c, ticket_changed)
        sla := aftersales_internal.replay_clocks(sla, pay, at, from_s, to_s, had_response, had_arrival,
                                                 first_response_at IS NOT NULL, arrived_at IS NOT NULL, reopening);
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
        'sla', sla)
        OPERATOR(pg_catalog.||) CASE WHEN fields OPERATOR(pg_catalog.=) '{}' THEN '{}'::jsonb
                                     ELSE pg_catalog.jsonb_build_object('fields', fields) END;
END
$$;
COMMENT ON FUNCTION aftersales.replay_ticket(bigint, bigint) IS
  'Rebuild a ticket''s state, counters, time stamps and SLA clocks from its events alone (shape of ticket_state()), with the free fields its edits set; an error when the log breaks the closed loop or an edit''s old value is not what the previous edit left; NULL for a ticket without events';

CREATE FUNCTION aftersales.check_tickets(tenant bigint DEFAULT NULL)
    RETURNS TABLE (tenant_id bigint, ticket_id bigint, item text, stored text, replayed text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k record;
    s jsonb;
    r jsonb;
    m text;
BEGIN
    FOR k IN SELECT t.tenant_id, t.ticket_id FROM aftersales.tickets t
              WHERE check_tickets.tenant IS NULL OR t.tenant_id OPERATOR(pg_catalog.=) check_tickets.tenant
              ORDER BY 1, 2
    LOOP
        tenant_id := k.tenant_id;
        ticket_id := k.ticket_id;
        BEGIN
            r := aftersales.replay_ticket(k.tenant_id, k.ticket_id);
        EXCEPTION WHEN OTHERS THEN
            item := 'replay';
            stored := NULL;
            replayed := SQLERRM;
            RETURN NEXT;
            CONTINUE;
        END;
        s := aftersales.ticket_state(k.tenant_id, k.ticket_id);
        IF s OPERATOR(pg_catalog.=) r THEN
            CONTINUE;           -- the common case: nothing to itemize
        END IF;
        IF r IS NULL THEN
            item := 'events';
            stored := NULL;
            replayed := 'no events';
            RETURN NEXT;
            CONTINUE;
        END IF;
        FOR item, stored, replayed IN
            SELECT 'ticket.' OPERATOR(pg_catalog.||) key, s->'ticket'->>key, r->'ticket'->>key
              FROM (SELECT pg_catalog.jsonb_object_keys(s->'ticket') UNION SELECT pg_catalog.jsonb_object_keys(r->'ticket')) AS keys (key)
             WHERE (s->'ticket'->key) IS DISTINCT FROM (r->'ticket'->key)
             ORDER BY 1
        LOOP
            RETURN NEXT;
        END LOOP;
        FOR item, stored, replayed IN
            SELECT 'fields.' OPERATOR(pg_catalog.||) key, s->'fields'->>key, r->'fields'->>key
              FROM (SELECT pg_catalog.jsonb_object_keys(COALESCE(s->'fields', '{}'))
                    UNION SELECT pg_catalog.jsonb_object_keys(COALESCE(r->'fields', '{}'))) AS keys (key)
             WHERE (s->'fields'->key) IS DISTINCT FROM (r->'fields'->key)
             ORDER BY 1
        LOOP
            RETURN NEXT;
        END LOOP;
        FOR m IN SELECT pg_catalog.jsonb_object_keys(s->'sla') UNION SELECT pg_catalog.jsonb_object_keys(r->'sla') ORDER BY 1 LOOP
            FOR item, stored, replayed IN
                SELECT 'sla.' OPERATOR(pg_catalog.||) m OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) key,
                       COALESCE(s->'sla'->m->>key, CASE WHEN NOT s->'sla' ? m THEN '(no clock)' END),
                       COALESCE(r->'sla'->m->>key, CASE WHEN NOT r->'sla' ? m THEN '(no clock)' END)
                  FROM (SELECT pg_catalog.jsonb_object_keys(COALESCE(s->'sla'->m, '{}'))
                        UNION SELECT pg_catalog.jsonb_object_keys(COALESCE(r->'sla'->m, '{}'))) AS keys (key)
                 WHERE (s->'sla'->m->key) IS DISTINCT FROM (r->'sla'->m->key)
                 ORDER BY 1
            LOOP
                RETURN NEXT;
            END LOOP;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION aftersales.check_tickets(bigint) IS
  'Every difference between a stored ticket (and its SLA clocks) and its replay from the event log, for one tenant or all; empty when all agree';

CREATE FUNCTION aftersales.check_occurrences()
    RETURNS TABLE (tenant_id bigint, kind text, id bigint, counted bigint, tickets bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT c.tenant_id, c.kind, c.id, c.occurrences, COALESCE(t.n, 0)
  FROM aftersales.occurrence_counts c
  LEFT JOIN (SELECT k.tenant_id, 'product_model' AS kind, k.model_id AS id, pg_catalog.count(*) AS n
               FROM aftersales.tickets k WHERE k.model_id IS NOT NULL GROUP BY 1, 2, 3
             UNION ALL
             SELECT k.tenant_id, 'problem_type', k.problem_type_id, pg_catalog.count(*)
               FROM aftersales.tickets k GROUP BY 1, 2, 3) t
    ON t.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND t.kind OPERATOR(pg_catalog.=) c.kind
   AND t.id OPERATOR(pg_catalog.=) c.id
 WHERE c.occurrences OPERATOR(pg_catalog.<>) COALESCE(t.n, 0)
 ORDER BY 1, 2, 3
$$;
COMMENT ON FUNCTION aftersales.check_occurrences() IS
  'Occurrence counts that differ from the number of tickets entered; empty when all agree';

-- They read every tenant's tickets: granted on purpose only.
REVOKE ALL ON FUNCTION aftersales.check_tickets(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales.check_occurrences() FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales.replay_ticket(bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales.ticket_state(bigint, bigint) FROM PUBLIC;
