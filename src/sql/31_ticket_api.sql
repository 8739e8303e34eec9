
-- aftersales install script, part 31: the ticket API.
--
-- One function per event of the closed loop.  Each is one statement's worth
-- of work in the caller's transaction, validates its input (clear errors
-- with SQLSTATE and an example), then names its event and lets the trigger
-- on tickets judge it and compute the new state: the transitions live only
-- in the C table (src/ticket.c).  Every function returns the ticket's new
-- status (open_ticket: its id).
--
-- Common parameters, last in every signature:
--   actor  who acts, recorded in the event; default aftersales.actor(): the
--          setting aftersales.actor, else the database role.
--   at     when it happened; default aftersales.now(): the setting
--          aftersales.now, else now().  Tests pass fixed times; an
--          application importing past data passes the original times.
--          Events of a ticket must come in time order.
-- The tenant is always aftersales.current_tenant(): a ticket of another
-- tenant is reported as not existing.

CREATE FUNCTION aftersales_internal.require_engineer(engineer bigint, tenant bigint, fn text) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    is_active boolean;
BEGIN
    IF engineer IS NULL THEN
        RAISE EXCEPTION 'engineer must not be null'
            USING ERRCODE = '22004',
                  HINT = pg_catalog.format('Name the engineer, for example: SELECT aftersales.%s(42, engineer => 7);', fn);
    END IF;
    SELECT e.active INTO is_active FROM aftersales.engineers e
     WHERE e.tenant_id OPERATOR(pg_catalog.=) tenant AND e.engineer_id OPERATOR(pg_catalog.=) engineer;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'engineer % does not exist for tenant %', engineer, tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the engineers with: SELECT engineer_id, name FROM aftersales.engineers WHERE tenant_id = aftersales.current_tenant() AND active;';
    ELSIF NOT is_active THEN
        RAISE EXCEPTION 'engineer % is no longer active', engineer
            USING ERRCODE = '55000',
                  HINT = 'Choose an active engineer.';
    END IF;
END
$$;
COMMENT ON FUNCTION aftersales_internal.require_engineer(bigint, bigint, text) IS 'Internal: the error for an unknown or inactive engineer';

-- The one UPDATE behind every event: declare it, supply the columns the
-- event takes from the caller, let the trigger do the rest.  In C
-- (src/ticket.c) since every event runs it: the declaration is C calls
-- instead of statements, the UPDATE a statement prepared once per backend.
-- Errors: a NULL ticket (22004), a ticket not of the current tenant (P0002).
CREATE FUNCTION aftersales_internal.ticket_event(ticket bigint, event aftersales.ticket_event, actor text, at timestamptz,
                                         reason text DEFAULT NULL, assignee bigint DEFAULT NULL,
                                         tier aftersales.ticket_tier DEFAULT NULL,
                                         priority aftersales.priority DEFAULT NULL,
                                         satisfied boolean DEFAULT NULL, csat integer DEFAULT NULL,
                                         nps integer DEFAULT NULL, comment text DEFAULT NULL)
    RETURNS aftersales.ticket_status
    AS 'MODULE_PATHNAME', 'aftersales_ticket_event' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION aftersales_internal.ticket_event(bigint, aftersales.ticket_event, text, timestamptz, text, bigint,
                                             aftersales.ticket_tier, aftersales.priority, boolean, integer, integer, text) IS
  'Internal: records one event of a ticket through the closed-loop trigger';

-- ---------------------------------------------------------------------------
-- Entry

-- The INSERT of open_ticket, declared as event open (C, src/ticket.c, like
-- ticket_event: open_ticket's PL/pgSQL only validates).
CREATE FUNCTION aftersales_internal.ticket_open(tenant bigint, channel text, customer bigint, unit bigint, model bigint,
                                        problem_type bigint, description text, priority aftersales.priority,
                                        requested_at timestamptz, org bigint, field boolean,
                                        status aftersales.ticket_status, opened timestamptz, actor text, reason text)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'aftersales_ticket_open' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION aftersales_internal.ticket_open(bigint, text, bigint, bigint, bigint, bigint, text, aftersales.priority,
                                            timestamptz, bigint, boolean, aftersales.ticket_status, timestamptz, text, text) IS
  'Internal: enters one validated ticket through the closed-loop trigger, as event open; returns its id';

CREATE FUNCTION aftersales.open_ticket(customer bigint, problem_type bigint, priority aftersales.priority,
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
    IF channel IS NULL OR NOT aftersales_internal.value_listed('aftersales.ticket_channel', channel) THEN
        RAISE EXCEPTION 'invalid channel: "%"', CASE WHEN pg_catalog.length(channel) > 64 THEN pg_catalog.left(channel, 64) || '...' ELSE channel END
            USING ERRCODE = '22023',
                  HINT = 'Channels are ' || aftersales_internal.value_list('aftersales.ticket_channel') || '.';
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
        -- entry on hold; the events' reasons are checked by the trigger (src/ticket.c)
        IF reason IS NULL OR pg_catalog.btrim(reason) OPERATOR(pg_catalog.=) '' THEN
            RAISE EXCEPTION 'event hold of a new ticket needs a reason'
                USING ERRCODE = '22004',
                      DETAIL = 'The reason is recorded in the event log, for the service manager and for audits.',
                      HINT = 'Give one, for example: SELECT aftersales.open_ticket(customer => 7, problem_type => 3, priority => ''C'', description => ''noise'', on_hold => true, reason => ''customer away until Monday'');';
        END IF;
    END IF;

    RETURN aftersales_internal.ticket_open(tenant, channel, customer, unit, model, problem_type, description, priority,
                                   requested_at, org, COALESCE(field, false),
                                   CASE WHEN COALESCE(on_hold, false) THEN 'on_hold' ELSE 'new' END::aftersales.ticket_status,
                                   opened, actor, reason);
END
$$;
COMMENT ON FUNCTION aftersales.open_ticket(bigint, bigint, aftersales.priority, text, text, bigint, bigint, timestamptz,
                                           boolean, bigint, boolean, text, text, timestamptz) IS
  'Enter a service request: new (awaiting assignment) or, with on_hold and a reason, on hold; counts its model and problem type and starts its SLA clocks; returns the ticket id';

CREATE FUNCTION aftersales_internal.bad_item(item bigint, message text) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'ticket % of the batch: %', item, message
        USING ERRCODE = '22023',
              HINT = 'Each element is an object like {"customer": 7, "problem_type": 3, "priority": "B", "description": "no power"}; optional keys: channel, unit, model, requested_at, field, org, on_hold, opened_at.';
END
$$;
COMMENT ON FUNCTION aftersales_internal.bad_item(bigint, text) IS 'Internal: the error for an invalid element of open_tickets';

-- Set-based entry: one INSERT for the whole batch, so the statement-level
-- trigger counts, starts clocks and logs for all tickets at once.
CREATE FUNCTION aftersales.open_tickets(tickets jsonb, reason text DEFAULT NULL,
                                        actor text DEFAULT aftersales.actor(),
                                        at timestamptz DEFAULT aftersales.now())
    RETURNS SETOF bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    opened timestamptz := COALESCE(at, aftersales.now());
    element jsonb;
    item bigint;
    bad bigint;
    message text;
    state text;
BEGIN
    IF tickets IS NULL OR pg_catalog.jsonb_typeof(tickets) OPERATOR(pg_catalog.<>) 'array' THEN
        RAISE EXCEPTION 'tickets must be a JSON array'
            USING ERRCODE = '22023',
                  HINT = 'For example: SELECT aftersales.open_tickets(''[{"customer": 7, "problem_type": 3, "priority": "B", "description": "no power"}]'');';
    END IF;
    PERFORM aftersales_internal.declare_event('open', COALESCE(NULLIF(actor, ''), aftersales.actor()), opened,
                                      NULLIF(pg_catalog.btrim(reason), ''));
    BEGIN
    RETURN QUERY
    INSERT INTO aftersales.tickets AS tk (tenant_id, channel, customer_id, unit_id, model_id, problem_type_id,
                                          description, priority, requested_at, org_id, field, status, opened_at)
    SELECT tenant,
           CASE WHEN aftersales_internal.value_listed('aftersales.ticket_channel', COALESCE(x.channel, 'phone'))
                THEN COALESCE(x.channel, 'phone')
                ELSE aftersales_internal.bad_item(x.item, pg_catalog.format('invalid channel "%s"', CASE WHEN pg_catalog.length(x.channel) > 64 THEN pg_catalog.left(x.channel, 64) || '...' ELSE x.channel END))::text END,
           CASE WHEN c.customer_id IS NOT NULL THEN x.customer
                ELSE aftersales_internal.bad_item(x.item, pg_catalog.format('customer %s does not exist', x.customer)) END,
           CASE WHEN x.unit IS NULL OR u.customer_id OPERATOR(pg_catalog.=) x.customer THEN x.unit
                ELSE aftersales_internal.bad_item(x.item, pg_catalog.format('unit %s does not exist or belongs to another customer', x.unit)) END,
           CASE WHEN x.model IS NULL OR u.unit_id IS NULL OR x.model OPERATOR(pg_catalog.=) u.model_id
                THEN COALESCE(u.model_id, x.model)
                ELSE aftersales_internal.bad_item(x.item, pg_catalog.format('unit %s is not of model %s', x.unit, x.model)) END,
           CASE WHEN p.problem_type_id IS NOT NULL THEN x.problem_type
                ELSE aftersales_internal.bad_item(x.item, pg_catalog.format('problem type %s does not exist', x.problem_type)) END,
           CASE WHEN pg_catalog.btrim(x.description) OPERATOR(pg_catalog.<>) '' THEN x.description
                ELSE aftersales_internal.bad_item(x.item, 'description is missing')::text END,
           CASE WHEN x.priority IS NOT NULL THEN x.priority
                ELSE aftersales_internal.bad_item(x.item, 'priority is missing')::text::aftersales.priority END,
           CASE WHEN x.requested_at IS NULL OR x.requested_at OPERATOR(pg_catalog.>=) COALESCE(x.opened_at, opened)
                THEN x.requested_at
                ELSE aftersales_internal.bad_item(x.item, 'requested_at precedes the entry')::text::timestamptz END,
           x.org,
           COALESCE(x.field, false),
           CASE WHEN NOT COALESCE(x.on_hold, false) THEN 'new'::aftersales.ticket_status
                WHEN reason IS NOT NULL THEN 'on_hold'::aftersales.ticket_status
                ELSE aftersales_internal.bad_item(x.item, 'on_hold needs the reason argument')::text::aftersales.ticket_status END,
           COALESCE(x.opened_at, opened)
      FROM ROWS FROM (pg_catalog.jsonb_to_recordset(tickets)
                      AS (customer bigint, problem_type bigint, priority aftersales.priority, description text,
                          channel text, unit bigint, model bigint, requested_at timestamptz, field boolean,
                          org bigint, on_hold boolean, opened_at timestamptz)) WITH ORDINALITY
           AS x (customer, problem_type, priority, description, channel, unit, model, requested_at, field, org,
                 on_hold, opened_at, item)
      LEFT JOIN aftersales.customers c
        ON c.tenant_id OPERATOR(pg_catalog.=) tenant AND c.customer_id OPERATOR(pg_catalog.=) x.customer
      LEFT JOIN aftersales.problem_types p
        ON p.tenant_id OPERATOR(pg_catalog.=) tenant AND p.problem_type_id OPERATOR(pg_catalog.=) x.problem_type
      LEFT JOIN aftersales.units u
        ON u.tenant_id OPERATOR(pg_catalog.=) tenant AND u.unit_id OPERATOR(pg_catalog.=) x.unit
     ORDER BY x.item
    RETURNING tk.ticket_id;
    EXCEPTION WHEN data_exception THEN
        -- a value of the wrong type fails in jsonb_to_recordset's casts,
        -- which name neither the element nor a correct one: find the first
        -- element that fails alone and refuse that one (else re-raise)
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
        IF state OPERATOR(pg_catalog.=) '22023' AND message OPERATOR(pg_catalog.~~) 'ticket % of the batch: %' THEN
            RAISE;
        END IF;
        FOR element, item IN SELECT e.value, e.ordinality FROM pg_catalog.jsonb_array_elements(tickets) WITH ORDINALITY e LOOP
            IF pg_catalog.jsonb_typeof(element) OPERATOR(pg_catalog.<>) 'object' THEN
                bad := item;
                message := pg_catalog.format('a JSON %s, not an object', pg_catalog.jsonb_typeof(element));
                EXIT;
            END IF;
            BEGIN
                PERFORM FROM pg_catalog.jsonb_to_record(element)
                          AS (customer bigint, problem_type bigint, priority aftersales.priority, description text,
                              channel text, unit bigint, model bigint, requested_at timestamptz, field boolean,
                              org bigint, on_hold boolean, opened_at timestamptz);
            EXCEPTION WHEN data_exception THEN
                GET STACKED DIAGNOSTICS message = MESSAGE_TEXT;
                bad := item;
            END;
            EXIT WHEN bad IS NOT NULL;
        END LOOP;
        IF bad IS NULL THEN
            RAISE;
        END IF;
        PERFORM aftersales_internal.bad_item(bad, CASE WHEN pg_catalog.length(message) > 200
                                                       THEN pg_catalog.left(message, 200) || '...' ELSE message END);
    END;
    PERFORM aftersales_internal.declare_event(NULL, NULL, NULL, NULL);
END
$$;
COMMENT ON FUNCTION aftersales.open_tickets(jsonb, text, text, timestamptz) IS
  'Enter many service requests in one statement (a JSON array of open_ticket''s arguments by name, plus opened_at); returns their ids in input order';

-- ---------------------------------------------------------------------------
-- Assignment

CREATE FUNCTION aftersales.assign_ticket(ticket bigint, engineer bigint,
                                         actor text DEFAULT aftersales.actor(),
                                         at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales_internal.require_engineer(engineer, aftersales.current_tenant(), 'assign_ticket');
    RETURN aftersales_internal.ticket_event(ticket, 'assign', actor, at, assignee => engineer);
END
$$;
COMMENT ON FUNCTION aftersales.assign_ticket(bigint, bigint, text, timestamptz) IS
  'Assign an engineer to a ticket awaiting assignment: assigned, or locked for the service manager when the customer-requested date has passed';

CREATE FUNCTION aftersales.reassign_ticket(ticket bigint, engineer bigint, reason text DEFAULT NULL,
                                           actor text DEFAULT aftersales.actor(),
                                           at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales_internal.require_engineer(engineer, aftersales.current_tenant(), 'reassign_ticket');
    RETURN aftersales_internal.ticket_event(ticket, 'reassign', actor, at, reason, assignee => engineer);
END
$$;
COMMENT ON FUNCTION aftersales.reassign_ticket(bigint, bigint, text, text, timestamptz) IS
  'Give an assigned, in-progress or on-site ticket to another engineer: assigned';

CREATE FUNCTION aftersales.take_over_ticket(ticket bigint, engineer bigint, reason text DEFAULT NULL,
                                            actor text DEFAULT aftersales.actor(),
                                            at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales_internal.require_engineer(engineer, aftersales.current_tenant(), 'take_over_ticket');
    RETURN aftersales_internal.ticket_event(ticket, 'take_over', actor, at, reason, assignee => engineer);
END
$$;
COMMENT ON FUNCTION aftersales.take_over_ticket(bigint, bigint, text, text, timestamptz) IS
  'Service manager: assign a locked ticket to an engineer (possibly the manager): assigned';

CREATE FUNCTION aftersales.release_ticket(ticket bigint, reason text,
                                          actor text DEFAULT aftersales.actor(),
                                          at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'release', actor, at, reason);
END
$$;
COMMENT ON FUNCTION aftersales.release_ticket(bigint, text, text, timestamptz) IS
  'Return an assigned ticket the engineer has not handled to assignment (not handled before the requested date); no attempt is counted';

-- ---------------------------------------------------------------------------
-- Work

CREATE FUNCTION aftersales.start_work(ticket bigint,
                                      actor text DEFAULT aftersales.actor(),
                                      at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'start', actor, at);
END
$$;
COMMENT ON FUNCTION aftersales.start_work(bigint, text, timestamptz) IS
  'The engineer starts on an assigned ticket: in_progress; the first response if none yet';

CREATE FUNCTION aftersales.arrive_on_site(ticket bigint,
                                          actor text DEFAULT aftersales.actor(),
                                          at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'arrive', actor, at);
END
$$;
COMMENT ON FUNCTION aftersales.arrive_on_site(bigint, text, timestamptz) IS
  'The engineer arrives at the customer: on_site; stops the arrival clock';

CREATE FUNCTION aftersales.resolve_ticket(ticket bigint, resolution text DEFAULT NULL,
                                          actor text DEFAULT aftersales.actor(),
                                          at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'resolve', actor, at, resolution);
END
$$;
COMMENT ON FUNCTION aftersales.resolve_ticket(bigint, text, text, timestamptz) IS
  'The problem is solved: resolved, awaiting the follow-up; stops the resolution clock (the resolution is recorded as the event''s reason)';

CREATE FUNCTION aftersales.fail_attempt(ticket bigint, reason text,
                                        actor text DEFAULT aftersales.actor(),
                                        at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'fail', actor, at, reason);
END
$$;
COMMENT ON FUNCTION aftersales.fail_attempt(bigint, text, text, timestamptz) IS
  'A handling failed: counts an attempt and returns the ticket to assignment, or after the second failure locks it for the service manager';

CREATE FUNCTION aftersales.hold_ticket(ticket bigint, reason text,
                                       actor text DEFAULT aftersales.actor(),
                                       at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'hold', actor, at, reason);
END
$$;
COMMENT ON FUNCTION aftersales.hold_ticket(bigint, text, text, timestamptz) IS
  'Wait on the customer: on_hold; clocks that pause on hold (resolution, by default) pause';

CREATE FUNCTION aftersales.resume_ticket(ticket bigint,
                                         actor text DEFAULT aftersales.actor(),
                                         at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'resume', actor, at);
END
$$;
COMMENT ON FUNCTION aftersales.resume_ticket(bigint, text, timestamptz) IS
  'End a hold: back to the state it was held from; paused clocks run again, their due times moved by the business time held';

CREATE FUNCTION aftersales.transfer_ticket(ticket bigint, tier aftersales.ticket_tier, reason text,
                                           actor text DEFAULT aftersales.actor(),
                                           at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tier IS NULL THEN
        RAISE EXCEPTION 'tier must not be null'
            USING ERRCODE = '22004',
                  HINT = 'Tiers are customer_service, technical_support and rnd; for example: SELECT aftersales.transfer_ticket(42, tier => ''technical_support'', reason => ''needs a specialist'');';
    END IF;
    RETURN aftersales_internal.ticket_event(ticket, 'transfer', actor, at, reason, tier => transfer_ticket.tier);
END
$$;
COMMENT ON FUNCTION aftersales.transfer_ticket(bigint, aftersales.ticket_tier, text, text, timestamptz) IS
  'Pass a ticket to another support tier (customer_service, technical_support, rnd): it awaits assignment there';

-- ---------------------------------------------------------------------------
-- Follow-up, cancellation, the service manager

CREATE FUNCTION aftersales.follow_up(ticket bigint, satisfied boolean, csat integer DEFAULT NULL,
                                     nps integer DEFAULT NULL, comment text DEFAULT NULL,
                                     actor text DEFAULT aftersales.actor(),
                                     at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF satisfied IS NULL THEN
        RAISE EXCEPTION 'satisfied must not be null'
            USING ERRCODE = '22004',
                  HINT = 'Record whether the customer is satisfied, for example: SELECT aftersales.follow_up(42, satisfied => true, csat => 5, nps => 9);';
    END IF;
    IF csat NOT BETWEEN 1 AND 5 THEN
        RAISE EXCEPTION 'csat must be between 1 and 5, not %', csat
            USING ERRCODE = '22003',
                  HINT = 'CSAT is a score from 1 (very unsatisfied) to 5 (very satisfied), or NULL when not asked.';
    END IF;
    IF nps NOT BETWEEN 0 AND 10 THEN
        RAISE EXCEPTION 'nps must be between 0 and 10, not %', nps
            USING ERRCODE = '22003',
                  HINT = 'NPS is the likelihood to recommend, from 0 to 10, or NULL when not asked.';
    END IF;
    RETURN aftersales_internal.ticket_event(ticket, 'follow_up', actor, at, NULL, satisfied => follow_up.satisfied,
                                    csat => follow_up.csat, nps => follow_up.nps, comment => follow_up.comment);
END
$$;
COMMENT ON FUNCTION aftersales.follow_up(bigint, boolean, integer, integer, text, text, timestamptz) IS
  'The follow-up call (回访) of a resolved ticket: satisfied closes the loop; not satisfied sends it back to assignment and counts a reopen';

CREATE FUNCTION aftersales.cancel_ticket(ticket bigint, reason text,
                                         actor text DEFAULT aftersales.actor(),
                                         at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'cancel', actor, at, reason);
END
$$;
COMMENT ON FUNCTION aftersales.cancel_ticket(bigint, text, text, timestamptz) IS
  'Cancel an unresolved ticket: cancelled, final; its running clocks are cancelled';

CREATE FUNCTION aftersales.reopen_ticket(ticket bigint, reason text,
                                         actor text DEFAULT aftersales.actor(),
                                         at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'reopen', actor, at, reason);
END
$$;
COMMENT ON FUNCTION aftersales.reopen_ticket(bigint, text, text, timestamptz) IS
  'Reopen a closed ticket: back to assignment, counts a reopen; the resolution clock runs again (time spent resolved not counted), first_resolved_at is kept';

CREATE FUNCTION aftersales.lock_ticket(ticket bigint, reason text,
                                       actor text DEFAULT aftersales.actor(),
                                       at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'lock', actor, at, reason);
END
$$;
COMMENT ON FUNCTION aftersales.lock_ticket(bigint, text, text, timestamptz) IS
  'Lock an open ticket for the service manager (e.g. not assigned before the requested date)';

CREATE FUNCTION aftersales.unlock_ticket(ticket bigint, reason text DEFAULT NULL,
                                         actor text DEFAULT aftersales.actor(),
                                         at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'unlock', actor, at, reason);
END
$$;
COMMENT ON FUNCTION aftersales.unlock_ticket(bigint, text, text, timestamptz) IS
  'Service manager: return a locked ticket to assignment';

CREATE FUNCTION aftersales.set_priority(ticket bigint, priority aftersales.priority, reason text DEFAULT NULL,
                                        actor text DEFAULT aftersales.actor(),
                                        at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF priority IS NULL THEN
        RAISE EXCEPTION 'priority must not be null'
            USING ERRCODE = '22004',
                  HINT = 'Priorities are A, B and C; for example: SELECT aftersales.set_priority(42, priority => ''A'');';
    END IF;
    RETURN aftersales_internal.ticket_event(ticket, 'retarget', actor, at, reason, priority => set_priority.priority);
END
$$;
COMMENT ON FUNCTION aftersales.set_priority(bigint, aftersales.priority, text, text, timestamptz) IS
  'Change the priority of an open ticket (event retarget): running SLA clocks take the new priority''s targets, keeping their elapsed time and pauses';

-- ---------------------------------------------------------------------------
-- Fields outside the closed loop

-- Event edit: a change of the fields outside the closed loop (description,
-- org_id, requested_at, field, channel, unit_id, model_id, problem_type_id),
-- in any state.  A direct UPDATE of those columns is the same event (the
-- trigger records it); this function validates the keys and names the
-- event, reason, actor and time.  A new unit without a model brings its
-- own model; a unit must be the ticket's customer's.  The SLA clocks stay:
-- they follow the customer's agreement, the priority and the day of entry.
CREATE FUNCTION aftersales.edit_ticket(ticket bigint, changes jsonb, reason text DEFAULT NULL,
                                       actor text DEFAULT aftersales.actor(),
                                       at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad text;
    result aftersales.ticket_status;
    new_unit bigint;
    unit_model bigint;
    unit_customer bigint;
BEGIN
    IF ticket IS NULL THEN
        RAISE EXCEPTION 'ticket must not be null'
            USING ERRCODE = '22004',
                  HINT = 'Name the ticket by its id, for example: SELECT aftersales.edit_ticket(42, changes => ''{"description": "no heating"}'');';
    END IF;
    IF changes IS NULL OR pg_catalog.jsonb_typeof(changes) OPERATOR(pg_catalog.<>) 'object'
       OR changes OPERATOR(pg_catalog.=) '{}' THEN
        RAISE EXCEPTION 'changes must be a non-empty JSON object, not %',
                        COALESCE(pg_catalog.left(changes::text, 60), 'null')
            USING ERRCODE = '22023',
                  DETAIL = 'Its keys are the fields to change: description, org_id, requested_at, field, channel, unit_id, model_id, problem_type_id.',
                  HINT = 'For example: SELECT aftersales.edit_ticket(42, changes => ''{"description": "no heating", "org_id": 7}'');';
    END IF;
    SELECT k INTO bad FROM pg_catalog.jsonb_object_keys(changes) k
     WHERE k NOT IN ('description', 'org_id', 'requested_at', 'field', 'channel', 'unit_id', 'model_id', 'problem_type_id')
     ORDER BY k LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'cannot edit "%" of a ticket', pg_catalog.left(bad, 60)
            USING ERRCODE = '22023',
                  DETAIL = 'edit_ticket changes description, org_id, requested_at, field, channel, unit_id, model_id and problem_type_id; the closed loop''s events change the rest, and the customer is fixed at entry.',
                  HINT = 'For example: SELECT aftersales.edit_ticket(42, changes => ''{"requested_at": "2026-03-02 09:00+08"}'');';
    END IF;
    IF changes OPERATOR(pg_catalog.->>) 'unit_id' IS NOT NULL THEN
        new_unit := (changes OPERATOR(pg_catalog.->>) 'unit_id')::bigint;
        SELECT u.model_id, u.customer_id INTO unit_model, unit_customer FROM aftersales.units u
         WHERE u.tenant_id OPERATOR(pg_catalog.=) aftersales.current_tenant() AND u.unit_id OPERATOR(pg_catalog.=) new_unit;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'unit % does not exist for tenant %', new_unit, aftersales.current_tenant()
                USING ERRCODE = 'P0002',
                      HINT = 'List the customer''s units with: SELECT unit_id, model_id, serial FROM aftersales.units WHERE customer_id = 7;';
        END IF;
        IF unit_customer IS DISTINCT FROM (SELECT t.customer_id FROM aftersales.tickets t
                                            WHERE t.tenant_id OPERATOR(pg_catalog.=) aftersales.current_tenant()
                                              AND t.ticket_id OPERATOR(pg_catalog.=) edit_ticket.ticket) THEN
            RAISE EXCEPTION 'unit % belongs to customer %, not to the customer of ticket %', new_unit, unit_customer, ticket
                USING ERRCODE = '22023', HINT = 'Name a unit of the ticket''s customer.';
        END IF;
        IF NOT changes OPERATOR(pg_catalog.?) 'model_id' THEN
            changes := changes OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('model_id', unit_model);
        END IF;
    END IF;
    PERFORM aftersales_internal.declare_event('edit', actor, at, reason);
    UPDATE aftersales.tickets t
       SET description = CASE WHEN changes OPERATOR(pg_catalog.?) 'description' THEN changes OPERATOR(pg_catalog.->>) 'description' ELSE t.description END,
           org_id = CASE WHEN changes OPERATOR(pg_catalog.?) 'org_id' THEN (changes OPERATOR(pg_catalog.->>) 'org_id')::bigint ELSE t.org_id END,
           requested_at = CASE WHEN changes OPERATOR(pg_catalog.?) 'requested_at' THEN (changes OPERATOR(pg_catalog.->>) 'requested_at')::timestamptz
                               ELSE t.requested_at END,
           field = CASE WHEN changes OPERATOR(pg_catalog.?) 'field' THEN (changes OPERATOR(pg_catalog.->>) 'field')::boolean ELSE t.field END,
           channel = CASE WHEN changes OPERATOR(pg_catalog.?) 'channel' THEN changes OPERATOR(pg_catalog.->>) 'channel' ELSE t.channel END,
           unit_id = CASE WHEN changes OPERATOR(pg_catalog.?) 'unit_id' THEN (changes OPERATOR(pg_catalog.->>) 'unit_id')::bigint ELSE t.unit_id END,
           model_id = CASE WHEN changes OPERATOR(pg_catalog.?) 'model_id' THEN (changes OPERATOR(pg_catalog.->>) 'model_id')::bigint ELSE t.model_id END,
           problem_type_id = CASE WHEN changes OPERATOR(pg_catalog.?) 'problem_type_id'
                                  THEN (changes OPERATOR(pg_catalog.->>) 'problem_type_id')::bigint ELSE t.problem_type_id END
     WHERE t.tenant_id OPERATOR(pg_catalog.=) aftersales.current_tenant()
       AND t.ticket_id OPERATOR(pg_catalog.=) edit_ticket.ticket
    RETURNING t.status INTO result;
    PERFORM aftersales_internal.declare_event(NULL, NULL, NULL, NULL);
    IF result IS NULL THEN
        RAISE EXCEPTION 'ticket % does not exist for tenant %', ticket, aftersales.current_tenant()
            USING ERRCODE = 'P0002',
                  HINT = 'Tickets belong to the tenant in the setting aftersales.tenant_id; list them with: SELECT ticket_id, status FROM aftersales.tickets WHERE tenant_id = aftersales.current_tenant();';
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION aftersales.edit_ticket(bigint, jsonb, text, text, timestamptz) IS
  'Change a ticket''s fields outside the closed loop (keys of changes: description, org_id, requested_at, field, channel, unit_id, model_id, problem_type_id) as event edit, recorded with the old and new values; in any state, after close or cancel only by a service manager or admin; a new model or problem type moves the occurrence count, the SLA clocks stay; returns the status';
