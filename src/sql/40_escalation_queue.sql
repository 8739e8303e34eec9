
-- aftersales install script, part 40: what the alerts are for.
--
--   unacknowledged_alerts()  the outbox as applications read it: alerts not
--                            yet acknowledged, oldest first, by pages;
--   acknowledge_alerts()     an application (or a person) has taken note;
--   acknowledge_ticket()     a service manager takes note of a locked or
--                            escalated ticket: its alerts are acknowledged
--                            and it stops waiting in the queue;
--   manager_queue            the service managers' view: open tickets that
--                            are locked or escalated, most urgent first;
--   raise_alert()            the hook for alerts the sweep does not raise
--                            itself: today part_not_collected, for the
--                            spare-parts module to call.
-- Who acts and when: actor and at, as everywhere (aftersales.actor(),
-- aftersales.now()); the tenant is aftersales.current_tenant().

CREATE FUNCTION aftersales.unacknowledged_alerts(after_alert bigint DEFAULT 0, max_rows integer DEFAULT 100,
                                                 tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS SETOF aftersales.alerts
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF max_rows IS NULL OR max_rows < 1 OR max_rows > 100000 THEN
        RAISE EXCEPTION 'invalid max_rows: %', COALESCE(max_rows::text, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'Read the outbox by pages of 1 to 100000 alerts, for example: SELECT * FROM aftersales.unacknowledged_alerts(after_alert => 0, max_rows => 100);';
    END IF;
    RETURN QUERY
    SELECT a.* FROM aftersales.alerts a
     WHERE a.tenant_id = unacknowledged_alerts.tenant AND a.acknowledged_at IS NULL
       AND a.alert_id > COALESCE(after_alert, 0)
     ORDER BY a.alert_id
     LIMIT max_rows;
END
$$;
COMMENT ON FUNCTION aftersales.unacknowledged_alerts(bigint, integer, bigint) IS
  'The outbox: alerts of the tenant not yet acknowledged, by increasing alert_id, after after_alert, at most max_rows';

CREATE FUNCTION aftersales.acknowledge_alerts(alert_ids bigint[], actor text DEFAULT aftersales.actor(),
                                              at timestamptz DEFAULT aftersales.now())
    RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    ack timestamptz := COALESCE(at, aftersales.now());
    missing bigint;
    raised timestamptz;
    n integer;
BEGIN
    IF alert_ids IS NULL THEN
        RAISE EXCEPTION 'alert_ids must not be null'
            USING ERRCODE = '22004',
                  HINT = 'For example: SELECT aftersales.acknowledge_alerts(ARRAY[17, 18]);';
    END IF;
    -- the window of an event's time: finite, at most a year ahead of the
    -- database clock, and (below) not before the alert was raised
    IF NOT pg_catalog.isfinite(ack) THEN
        RAISE EXCEPTION 'time of acknowledgement must be finite, not %', ack
            USING ERRCODE = '22008',
                  HINT = 'Pass the time it happened, or none for the current time, for example: at => ''2026-03-02 09:00+08''.';
    END IF;
    IF ack > pg_catalog.transaction_timestamp() + interval '366 days' THEN
        RAISE EXCEPTION 'time of acknowledgement, %, is more than a year ahead of the database clock, %', ack, pg_catalog.transaction_timestamp()
            USING ERRCODE = '22008',
                  HINT = 'Pass the time it happened, or none for the current time.';
    END IF;
    SELECT x.id INTO missing
      FROM pg_catalog.unnest(alert_ids) AS x (id)
     WHERE x.id IS NULL
        OR NOT EXISTS (SELECT FROM aftersales.alerts a WHERE a.tenant_id = tenant AND a.alert_id = x.id)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'alert % does not exist for tenant %', COALESCE(missing::text, 'NULL'), tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the alerts waiting with: SELECT * FROM aftersales.unacknowledged_alerts();';
    END IF;
    SELECT a.alert_id, a.raised_at INTO missing, raised
      FROM aftersales.alerts a
     WHERE a.tenant_id = tenant AND a.alert_id = ANY (alert_ids) AND a.acknowledged_at IS NULL AND a.raised_at > ack
     ORDER BY a.alert_id
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'acknowledgement at % precedes alert %, raised at %', ack, missing, raised
            USING ERRCODE = '22008',
                  HINT = 'An alert is acknowledged after it is raised: pass a later time, or none for the current time.';
    END IF;
    UPDATE aftersales.alerts a
       SET acknowledged_at = ack,
           acknowledged_by = COALESCE(NULLIF(acknowledge_alerts.actor, ''), aftersales.actor())
     WHERE a.tenant_id = tenant AND a.alert_id = ANY (alert_ids) AND a.acknowledged_at IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION aftersales.acknowledge_alerts(bigint[], text, timestamptz) IS
  'Acknowledge alerts of the outbox (idempotent: already acknowledged ones are left as they are); returns how many were newly acknowledged';

CREATE FUNCTION aftersales.acknowledge_alert(alert bigint, actor text DEFAULT aftersales.actor(),
                                             at timestamptz DEFAULT aftersales.now())
    RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$ SELECT aftersales.acknowledge_alerts(ARRAY[alert], actor, at) = 1 $$;
COMMENT ON FUNCTION aftersales.acknowledge_alert(bigint, text, timestamptz) IS
  'Acknowledge one alert; true when it was newly acknowledged, false when it already was';

-- A manager takes note of a ticket: the event acknowledge is recorded in
-- its log through the closed loop (allowed in every state that is not
-- final, needs no reason: the note, when given, is recorded as the reason),
-- every unacknowledged alert of the ticket is acknowledged, and the ticket
-- stops waiting in the queue until its next escalation or lock.  The event
-- comes first: it checks the ticket and locks its row, under which every
-- change of a ticket's escalation state is made.
CREATE FUNCTION aftersales.acknowledge_ticket(ticket bigint, note text DEFAULT NULL,
                                              actor text DEFAULT aftersales.actor(),
                                              at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    who text := COALESCE(NULLIF(actor, ''), aftersales.actor());
    t_at timestamptz := COALESCE(at, aftersales.now());
    result aftersales.ticket_status;
BEGIN
    IF ticket IS NULL THEN
        RAISE EXCEPTION 'ticket must not be null'
            USING ERRCODE = '22004',
                  HINT = 'Name the ticket by its id, for example: SELECT aftersales.acknowledge_ticket(42, note => ''calling the customer'');';
    END IF;
    result := aftersales_internal.ticket_event(ticket, 'acknowledge', who, t_at, note);
    UPDATE aftersales.alerts a
       SET acknowledged_at = t_at, acknowledged_by = who
     WHERE a.tenant_id = tenant AND a.ticket_id = acknowledge_ticket.ticket AND a.acknowledged_at IS NULL;
    UPDATE aftersales.ticket_escalations e
       SET acknowledged_at = t_at, acknowledged_by = who, note = NULLIF(pg_catalog.btrim(acknowledge_ticket.note), '')
     WHERE e.tenant_id = tenant AND e.ticket_id = acknowledge_ticket.ticket;
    RETURN result;
END
$$;
COMMENT ON FUNCTION aftersales.acknowledge_ticket(bigint, text, text, timestamptz) IS
  'A service manager acknowledges a locked or escalated ticket: records the event acknowledge in its log, acknowledges its alerts, and it stops waiting in aftersales.manager_queue until its next escalation or lock; returns the ticket''s status, as every event does';

-- ---------------------------------------------------------------------------
-- The managers' queue

CREATE VIEW aftersales.manager_queue WITH (security_invoker = true) AS
SELECT q.tenant_id, q.ticket_id, q.urgency, q.waiting, q.level, q.role, q.locked, q.reason,
       q.status, q.priority, q.key_customer, q.customer_id, q.customer, q.assignee_id, q.org_id,
       q.due_at, q.overdue_minutes, q.escalated_at, q.locked_at, q.next_check,
       q.acknowledged_at, q.acknowledged_by, q.note, q.alert_id
  FROM (SELECT e.tenant_id, e.ticket_id,
               pg_catalog.row_number() OVER (
                   ORDER BY e.acknowledged_at IS NOT NULL, e.level DESC, t.status = 'locked' DESC, t.priority,
                            cu.tier = 'key' DESC, COALESCE(e.due_at, e.locked_at), e.ticket_id) AS urgency,
               e.acknowledged_at IS NULL AS waiting,
               e.level::integer AS level,
               COALESCE(e.role, 'service_manager') AS role,
               t.status = 'locked' AS locked,
               pg_catalog.concat_ws('; ',
                   CASE WHEN t.status = 'locked' THEN 'locked: ' || e.lock_reason END,
                   CASE WHEN e.level > 0 THEN pg_catalog.format('level %s: %s target missed', e.level, e.clock) END) AS reason,
               t.status::text AS status, t.priority::text AS priority, cu.tier = 'key' AS key_customer,
               t.customer_id, cu.name AS customer, t.assignee_id, t.org_id,
               e.due_at,
               (EXTRACT(EPOCH FROM aftersales.now() - e.due_at) / 60)::numeric(14,1) AS overdue_minutes,
               e.escalated_at, e.locked_at,
               (SELECT pg_catalog.min(w.next_check) FROM aftersales.escalation_watches w
                 WHERE w.tenant_id = e.tenant_id AND w.ticket_id = e.ticket_id) AS next_check,
               e.acknowledged_at, e.acknowledged_by, e.note, e.alert_id
          FROM aftersales.ticket_escalations e
          JOIN aftersales.tickets t ON t.tenant_id = e.tenant_id AND t.ticket_id = e.ticket_id
          JOIN aftersales.customers cu ON cu.tenant_id = t.tenant_id AND cu.customer_id = t.customer_id
         WHERE e.tenant_id = aftersales.current_tenant()) q
 ORDER BY q.urgency;
COMMENT ON VIEW aftersales.manager_queue IS
  'The service managers'' queue of the current tenant: open tickets that are locked or escalated, most urgent first (waiting before acknowledged, then higher level, locked, priority A first, key customers, longest overdue)';
COMMENT ON COLUMN aftersales.manager_queue.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.manager_queue.ticket_id IS 'Ticket';
COMMENT ON COLUMN aftersales.manager_queue.urgency IS 'Rank, 1 the most urgent';
COMMENT ON COLUMN aftersales.manager_queue.waiting IS 'True until a manager acknowledges or takes over the ticket (again after each new level or lock)';
COMMENT ON COLUMN aftersales.manager_queue.level IS 'Highest escalation level reached (1 supervisor, 2 service manager, 3 head of department); 0 when only locked';
COMMENT ON COLUMN aftersales.manager_queue.role IS 'Who the level calls for';
COMMENT ON COLUMN aftersales.manager_queue.locked IS 'Whether the ticket is locked (waiting for the service manager to take it over, unlock it or transfer it)';
COMMENT ON COLUMN aftersales.manager_queue.reason IS 'Why it is here: the lock''s reason, and the SLA target missed';
COMMENT ON COLUMN aftersales.manager_queue.status IS 'Ticket status';
COMMENT ON COLUMN aftersales.manager_queue.priority IS 'Ticket priority: A, B or C';
COMMENT ON COLUMN aftersales.manager_queue.key_customer IS 'Whether the customer is a key customer';
COMMENT ON COLUMN aftersales.manager_queue.customer_id IS 'Customer';
COMMENT ON COLUMN aftersales.manager_queue.customer IS 'Customer name';
COMMENT ON COLUMN aftersales.manager_queue.assignee_id IS 'Engineer who has the ticket, if any';
COMMENT ON COLUMN aftersales.manager_queue.org_id IS 'Organisation handling the ticket';
COMMENT ON COLUMN aftersales.manager_queue.due_at IS 'When the SLA clock that escalated was due; NULL when only locked';
COMMENT ON COLUMN aftersales.manager_queue.overdue_minutes IS 'Minutes since due_at, as of now (wall clock)';
COMMENT ON COLUMN aftersales.manager_queue.escalated_at IS 'When the level was raised';
COMMENT ON COLUMN aftersales.manager_queue.locked_at IS 'When the ticket was locked, while it is';
COMMENT ON COLUMN aftersales.manager_queue.next_check IS 'When a sweep next has something to fire for the ticket (the next level, say)';
COMMENT ON COLUMN aftersales.manager_queue.acknowledged_at IS 'When a manager acknowledged or took it over';
COMMENT ON COLUMN aftersales.manager_queue.acknowledged_by IS 'Who';
COMMENT ON COLUMN aftersales.manager_queue.note IS 'The manager''s note';
COMMENT ON COLUMN aftersales.manager_queue.alert_id IS 'The latest escalation or lock alert (aftersales.alerts)';

-- ---------------------------------------------------------------------------
-- The hook for alerts raised by other modules

-- The fourth anomaly, "spare part arrived but not collected"
-- (备件到达未取件), belongs to the spare-parts module, which does not exist
-- yet.  When it does, it calls this when a part has waited too long, with
-- level = its shipment (or part line) number, so that each shipment is
-- announced once: the same outbox, the same exactly-once constraint, the
-- same NOTIFY.  Only kinds that the sweep does not raise are accepted.
CREATE FUNCTION aftersales.raise_alert(ticket bigint, kind text, level numeric DEFAULT 0,
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
        RAISE EXCEPTION 'ticket % does not exist for tenant %', ticket, tenant
            USING ERRCODE = 'P0002',
                  HINT = 'Tickets belong to the tenant in the setting aftersales.tenant_id; list them with: SELECT ticket_id, status FROM aftersales.tickets WHERE tenant_id = aftersales.current_tenant();';
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
COMMENT ON FUNCTION aftersales.raise_alert(bigint, text, numeric, text, jsonb, timestamptz, timestamptz) IS
  'Hook for other modules: raise an alert of a kind the sweep does not raise (part_not_collected: a spare part arrived but not collected, for the spare-parts module), once per (ticket, kind, level); returns its id, or NULL when it was raised before';
