
-- aftersales install script, part 40: escalation of late work.
-- "Late work must never go unnoticed, and must never be announced twice."
--
-- This file owns the rules and the bookkeeping; the sweep that acts on them
-- is in 40_escalation_sweep.sql, the managers' queue and acknowledgement in
-- 40_escalation_queue.sql, pg_cron scheduling in 40_escalation_cron.sql.
--
--   escalation_rules   what fires, when, for whom (per tenant, with tenant
--                      1's rows as the shipped defaults, key by key);
--   escalation_watches one row per SLA clock of every ticket (and one per
--                      ticket that has a requested date or a key customer):
--                      how far its stages have gone, and next_check, the
--                      instant its next stage is due.  A partial index on
--                      next_check is all a sweep reads, so its cost grows
--                      with what is due, not with what is open;
--   alerts             the outbox: one row per stage fired, unique per
--                      (ticket, clock, kind, level): exactly once;
--   ticket_escalations one row per open ticket that is locked or escalated:
--                      the managers' queue.
--
-- The stages (what a sweep fires), with the shipped defaults:
--
--   warning p      on each SLA clock, when p% of its target has been used
--                  (50, 75, 100): at the instant start + p% of the target on
--                  the clock's calendar plus the pauses so far, exactly as
--                  ticket_sla computes due_at (p = 100 is due_at itself).
--   escalation L   on each SLA clock whose target is missed, when it is
--                  overdue by the level's "after", in the clock's time (its
--                  business calendar, pauses not counted): level 1 at the
--                  breach (after 0: the supervisor or second line, who must
--                  step in within 1 hour), level 2 when it is still running
--                  1 hour later (the service manager, who owes a solution
--                  within 2 working days), level 3 after 17 hours (1 + 16:
--                  2 working days of 8 hours; head of department and the
--                  emergency team).  The instant is start + target + after
--                  + pauses on the calendar.
--   not_arrived    a field ticket not on site 4 hours (wall
--                  clock, as the 4-hour arrival rate counts) after entry,
--                  while its arrival clock runs.
--   not_completed  a ticket not resolved 24 hours (wall clock)
--                  after entry, while its resolution clock runs (a hold
--                  that pauses the clock defers it).
--   key_customer   a ticket of a key customer (tier 'key') at
--                  entry, unless already resolved.
--   lock           a ticket still awaiting assignment (status
--                  new, no engineer) at its customer-requested date: the
--                  sweep locks it for the service manager through the
--                  closed loop (event lock, actor aftersales-sweep).
-- A clock's stages run only while it runs: a stopped clock (met, breached
-- and stopped, cancelled) fires nothing more; a paused one waits, and its
-- instants move with the pauses.  Each stage fires once per (ticket, clock,
-- kind, level), for ever: a reopened ticket does not hear level 1 again,
-- but does hear level 2 when that comes.  After downtime a sweep fires
-- every stage that came due, each once, oldest first.
--
-- Two more kinds are not the sweep's: 'locked' (a ticket entered state
-- locked by another way: a late assignment, a second failed handling, a
-- person's lock_ticket; raised by the trigger, level = the event's seq) and
-- 'part_not_collected' (a spare part arrived and not picked up),
-- whose raiser is the spare-parts module, when there is one, through
-- aftersales.raise_alert() (see 40_escalation_queue.sql).
--
-- Function bodies pin search_path to pg_catalog, pg_temp: unqualified
-- operators are pg_catalog's, every other name is schema-qualified.

-- ---------------------------------------------------------------------------
-- Rules

CREATE TABLE aftersales.escalation_rules (
    tenant_id    bigint   NOT NULL DEFAULT aftersales.current_tenant()
                          REFERENCES aftersales.tenants,
    kind         text     NOT NULL
                          CHECK (kind IN ('warning', 'escalation', 'not_arrived', 'not_completed', 'key_customer', 'lock')),
    level        numeric  NOT NULL,
    after        interval,
    role         text     NOT NULL CHECK (role ~ '^[a-z][a-z0-9_]{0,62}$'),
    enabled      boolean  NOT NULL DEFAULT true,
    description  text,
    customised   boolean  NOT NULL DEFAULT true,
    PRIMARY KEY (tenant_id, kind, level),
    CONSTRAINT escalation_rules_level CHECK (
        CASE kind WHEN 'warning' THEN level > 0 AND level <= 100 AND level = round(level, 2)
                  WHEN 'escalation' THEN level BETWEEN 1 AND 9 AND level = trunc(level)
                  ELSE level = 0 END),
    CONSTRAINT escalation_rules_after CHECK (
        CASE kind WHEN 'warning' THEN after IS NULL
                  ELSE after >= '0'::interval AND EXTRACT(DAY FROM after) = 0
                       AND EXTRACT(MONTH FROM after) = 0 AND EXTRACT(YEAR FROM after) = 0 END)
);
COMMENT ON TABLE aftersales.escalation_rules IS
  'When escalation sweeps fire what for whom; tenant 1 holds the shipped defaults, other tenants only their overrides (each kind and level falls back to tenant 1''s); change with aftersales.set_escalation_rule(), read the effective rules in aftersales.escalation_rules_effective';
COMMENT ON COLUMN aftersales.escalation_rules.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.escalation_rules.kind IS
  'warning (p% of an SLA target used), escalation (an SLA target missed, by level), not_arrived, not_completed, key_customer (anomaly alerts) or lock (not assigned by the customer-requested date)';
COMMENT ON COLUMN aftersales.escalation_rules.level IS
  'warning: the percent of the target (0 < p <= 100); escalation: the level (1 to 9, the seed has 1 to 3); 0 for the other kinds';
COMMENT ON COLUMN aftersales.escalation_rules.after IS
  'escalation: how far past due the level fires, in the clock''s time (business time on its calendar; cumulative: level 2 after 1 hour means 1 hour overdue); not_arrived, not_completed, key_customer: wall-clock time after entry; lock: wall-clock time after the requested date; NULL for warnings';
COMMENT ON COLUMN aftersales.escalation_rules.role IS
  'Who is told: assignee, supervisor, service_manager, head_of_department, or any role name the application routes';
COMMENT ON COLUMN aftersales.escalation_rules.enabled IS 'False switches the stage off (for another tenant: overrides tenant 1''s row)';
COMMENT ON COLUMN aftersales.escalation_rules.description IS 'What the stage means, for people';
COMMENT ON COLUMN aftersales.escalation_rules.customised IS
  'False for a shipped row never changed (left out of pg_dump); set to true by any change';

INSERT INTO aftersales.escalation_rules (tenant_id, kind, level, after, role, description, customised) VALUES
 (1, 'warning', 50, NULL, 'assignee', 'Half of the SLA target used', false),
 (1, 'warning', 75, NULL, 'assignee', 'Three quarters of the SLA target used', false),
 (1, 'warning', 100, NULL, 'assignee', 'SLA target reached: breached', false),
 (1, 'escalation', 1, '0', 'supervisor',
  'Level 1: the supervisor or second line steps in, a person within 1 hour', false),
 (1, 'escalation', 2, '1 hour', 'service_manager',
  'Level 2: still unsolved an hour after level 1: the service manager coordinates across departments, a solution within 2 working days', false),
 (1, 'escalation', 3, '17 hours', 'head_of_department',
  'Level 3: still unsolved 2 working days (16 business hours) after level 2: the head of department and the emergency team', false),
 (1, 'not_arrived', 0, '4 hours', 'supervisor', 'A field ticket not on site 4 hours after entry (未到位)', false),
 (1, 'not_completed', 0, '24 hours', 'supervisor', 'A ticket not resolved 24 hours after entry (未完工)', false),
 (1, 'key_customer', 0, '0', 'service_manager', 'A fault ticket of a key customer (重点客户故障工单)', false),
 (1, 'lock', 0, '0', 'service_manager',
  'No engineer assigned by the customer-requested date: the ticket is locked for the service manager', false);
SELECT pg_catalog.pg_extension_config_dump('aftersales.escalation_rules', 'WHERE tenant_id <> 1 OR customised');

-- The rules in force for each tenant: its own rows, else tenant 1's, key by
-- key; disabled rows switch a stage off.  Read by BI tools, so plain types
-- only: the level with a declared scale, the delay in minutes (a JDBC
-- driver reports an interval as OTHER).  The sweep's code takes the delay
-- as an interval from the rule the row comes from (escalation_rules, the
-- tenant's own row or tenant 1's when inherited).  A timed stage whose after
-- is beyond the 8784 hours set_escalation_rule allows (a row stored before
-- that bound, or written directly) is not in force: its instant may be out
-- of range, and it must not stop the other stages.  The sweep names it in
-- a WARNING and in sweep_runs.skipped_rules.
CREATE VIEW aftersales.escalation_rules_effective WITH (security_invoker = true) AS
SELECT tn.tenant_id, r.kind, r.level::numeric(5,2) AS level, r.role, r.description,
       r.tenant_id <> tn.tenant_id AS inherited,
       (EXTRACT(EPOCH FROM r.after) / 60)::numeric(14,2) AS after_minutes
  FROM aftersales.tenants tn
  JOIN aftersales.escalation_rules r ON r.tenant_id IN (tn.tenant_id, 1)
 WHERE r.enabled
   AND (r.kind = 'warning' OR r.after <= '8784 hours'::interval)
   AND (r.tenant_id = tn.tenant_id
        OR NOT EXISTS (SELECT FROM aftersales.escalation_rules o
                        WHERE o.tenant_id = tn.tenant_id AND o.kind = r.kind AND o.level = r.level));
COMMENT ON VIEW aftersales.escalation_rules_effective IS
  'The escalation rules in force for every tenant: its own rows, else tenant 1''s, key by key; enabled stages only, and only those whose after is at most 8784 hours (the sweep skips and reports the others)';
COMMENT ON COLUMN aftersales.escalation_rules_effective.tenant_id IS 'Tenant the rule applies to';
COMMENT ON COLUMN aftersales.escalation_rules_effective.kind IS 'Kind of stage (see aftersales.escalation_rules.kind)';
COMMENT ON COLUMN aftersales.escalation_rules_effective.level IS 'Warning percent, escalation level, or 0';
COMMENT ON COLUMN aftersales.escalation_rules_effective.role IS 'Who is told';
COMMENT ON COLUMN aftersales.escalation_rules_effective.description IS 'What the stage means';
COMMENT ON COLUMN aftersales.escalation_rules_effective.inherited IS 'True when the row is tenant 1''s default';
COMMENT ON COLUMN aftersales.escalation_rules_effective.after_minutes IS
  'The delay of the stage in minutes (see aftersales.escalation_rules.after, an interval); NULL for warnings';


-- Shipped rows of the tables tenant 1 fills with every tenant's defaults
-- (escalation_rules, kpi_settings, kpi_catalogue), one rule for all three:
-- a change marks a row customised (so pg_dump keeps it); an INSERT of a
-- key a shipped, unchanged row holds replaces that row (a restore runs
-- CREATE EXTENSION and then loads the dumped rows); tenant 1's rows cannot
-- be deleted.  Arguments: the refusal's message (a format of the key's
-- values), the key columns (comma-separated, after tenant_id) and the
-- refusal's hint (a format of the key's values).
CREATE FUNCTION aftersales_internal.shipped_row() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    keys constant text[] := pg_catalog.string_to_array(TG_ARGV[1], ',');
    key_vals text[];
    cols text;
    replaced integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.tenant_id = 1 THEN
            key_vals := ARRAY(SELECT pg_catalog.to_jsonb(OLD) ->> k FROM pg_catalog.unnest(keys) WITH ORDINALITY u (k, i) ORDER BY i);
            RAISE EXCEPTION '%', pg_catalog.format(TG_ARGV[0], VARIADIC key_vals)
                USING ERRCODE = '55000',
                      DETAIL = 'Tenant 1''s rows are the defaults every other tenant falls back to.',
                      HINT = pg_catalog.format(TG_ARGV[2], VARIADIC key_vals);
        END IF;
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.customised := true;
        RETURN NEW;
    END IF;
    -- INSERT: every column but the key's takes the new row's value
    SELECT pg_catalog.string_agg(pg_catalog.format('%1$I = n.%1$I', a.attname), ', ' ORDER BY a.attnum) INTO cols
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attname <> ALL (keys || ARRAY['tenant_id', 'customised']::name[]);
    EXECUTE pg_catalog.format(
        'UPDATE %I.%I t SET %s, customised = true FROM pg_catalog.jsonb_populate_record(NULL::%I.%I, $1) n'
        ' WHERE t.tenant_id = n.tenant_id AND %s AND NOT t.customised',
        TG_TABLE_SCHEMA, TG_TABLE_NAME, cols, TG_TABLE_SCHEMA, TG_TABLE_NAME,
        (SELECT pg_catalog.string_agg(pg_catalog.format('t.%1$I = n.%1$I', k), ' AND ') FROM pg_catalog.unnest(keys) k))
        USING pg_catalog.to_jsonb(NEW);
    GET DIAGNOSTICS replaced = ROW_COUNT;
    IF replaced > 0 THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION aftersales_internal.shipped_row() IS
  'Trigger on escalation_rules, kpi_settings and kpi_catalogue: changes mark a row customised; an INSERT replaces a shipped, unchanged row of the same key (pg_dump restore); tenant 1''s rows cannot be deleted';
CREATE TRIGGER shipped_row
    BEFORE INSERT OR UPDATE OR DELETE ON aftersales.escalation_rules
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.shipped_row(
        'cannot delete escalation rule %s %s of tenant 1', 'kind,level',
        'Switch it off instead: SELECT aftersales.set_escalation_rule(%L, %s, enabled => false, tenant => 1);');

-- ---------------------------------------------------------------------------
-- Watches: where each clock stands

-- Its row rules are one CHECK calling C, as for tickets (30_tickets.sql).
CREATE FUNCTION aftersales_internal.escalation_watches_row_check(clock text, warned numeric, level smallint)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_escalation_watches_row_check' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales_internal.escalation_watches_row_check(text, numeric, smallint) IS
  'Internal: CHECK escalation_watches_row_check: a known clock, warned 0 to 100, level >= 0; raises check_violation naming the rule';

CREATE TABLE aftersales.escalation_watches (
    tenant_id   bigint      NOT NULL,
    ticket_id   bigint      NOT NULL,
    clock       text        NOT NULL,
    next_check  timestamptz,
    warned      numeric     NOT NULL DEFAULT 0,
    level       smallint    NOT NULL DEFAULT 0,
    done        text[]      NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, ticket_id, clock),
    -- clock in first_response, arrival, resolution, ticket; warned 0-100; level >= 0
    CONSTRAINT escalation_watches_row_check CHECK (aftersales_internal.escalation_watches_row_check(clock, warned, level))
);
-- All a sweep reads: what is due, by due time.
CREATE INDEX escalation_watches_due_idx ON aftersales.escalation_watches (next_check) WHERE next_check IS NOT NULL;
COMMENT ON TABLE aftersales.escalation_watches IS
  'Where the escalation of each SLA clock (and of each ticket with a requested date or a key customer: clock ''ticket'') stands, and when it next needs a sweep; kept by triggers on ticket_sla and tickets and by the sweep';
COMMENT ON COLUMN aftersales.escalation_watches.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.escalation_watches.ticket_id IS 'Ticket watched';
COMMENT ON COLUMN aftersales.escalation_watches.clock IS 'The SLA clock (first_response, arrival, resolution), or ticket for the stages of the ticket itself (lock, key_customer)';
COMMENT ON COLUMN aftersales.escalation_watches.next_check IS
  'When the next stage is due; NULL while nothing can fire (clock stopped or paused, every stage fired): what the sweep''s partial index holds';
COMMENT ON COLUMN aftersales.escalation_watches.warned IS 'Highest warning percent fired; 0: none';
COMMENT ON COLUMN aftersales.escalation_watches.level IS 'Highest escalation level fired; 0: none';
COMMENT ON COLUMN aftersales.escalation_watches.done IS 'Other kinds fired for it: not_arrived, not_completed, key_customer, lock';

-- The stages still to come of the given watches (clocks, or 'ticket'),
-- with their instants: every one due at or before until, and for each
-- watch the first one after it (so until => '-infinity' gives each watch's
-- next stage).  One definition, used by the sweep (the stages due now and
-- the next check), by the re-arming triggers and by check_watches().
-- Driven by the arrays: it reads the rows of the watches asked for, by
-- their keys, and computes their stages only, so its cost is theirs,
-- however many tickets are open.  PL/pgSQL with a generic plan, cached for
-- the session.  Watch rows not yet there count as nothing fired.
CREATE FUNCTION aftersales_internal.watch_stages(tenants bigint[], tickets bigint[], clocks text[],
                                         until timestamptz DEFAULT '-infinity')
    RETURNS TABLE (tenant_id bigint, ticket_id bigint, clock text, kind text, level numeric, role text,
                   due_at timestamptz, target interval, clock_due timestamptz, after interval,
                   priority aftersales.priority, status aftersales.ticket_status, assignee_id bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH c AS MATERIALIZED (
        SELECT DISTINCT u.tenant_id, u.ticket_id, u.clock
          FROM unnest(tenants, tickets, clocks) AS u (tenant_id, ticket_id, clock)
    ), r AS MATERIALIZED (
        SELECT e.tenant_id, x.kind, x.level, x.role, x.after
          FROM aftersales.escalation_rules_effective e
          JOIN aftersales.escalation_rules x
            ON x.tenant_id = CASE WHEN e.inherited THEN 1 ELSE e.tenant_id END
           AND x.kind = e.kind AND x.level = e.level
         WHERE e.tenant_id IN (SELECT c.tenant_id FROM c)
    ), k AS MATERIALIZED (
        -- each running clock asked for, its rows read once, by key
        SELECT c.tenant_id, c.ticket_id, c.clock, s.metric, s.target, s.calendar, s.started_at, s.paused,
               s.due_at, cal.calendar AS cal, COALESCE(w.warned, 0) AS warned, COALESCE(w.level, 0) AS level,
               COALESCE(w.done, '{}') AS done, t.priority, t.status, t.assignee_id
          FROM c
          JOIN aftersales.ticket_sla s
            ON s.tenant_id = c.tenant_id AND s.ticket_id = c.ticket_id AND s.metric::text = c.clock
          JOIN aftersales.tickets t ON t.tenant_id = c.tenant_id AND t.ticket_id = c.ticket_id
          LEFT JOIN aftersales.escalation_watches w
            ON w.tenant_id = c.tenant_id AND w.ticket_id = c.ticket_id AND w.clock = c.clock
          LEFT JOIN aftersales.calendars cal ON cal.tenant_id = s.tenant_id AND cal.name = s.calendar
         WHERE c.clock <> 'ticket' AND s.stopped_at IS NULL AND s.paused_since IS NULL
    ), kt AS MATERIALIZED (
        -- each ticket asked for (clock 'ticket')
        SELECT c.tenant_id, c.ticket_id, c.clock, t.requested_at, t.opened_at, cu.tier,
               COALESCE(w.done, '{}') AS done, t.priority, t.status, t.assignee_id
          FROM c
          JOIN aftersales.tickets t ON t.tenant_id = c.tenant_id AND t.ticket_id = c.ticket_id
          JOIN aftersales.customers cu ON cu.tenant_id = t.tenant_id AND cu.customer_id = t.customer_id
          LEFT JOIN aftersales.escalation_watches w
            ON w.tenant_id = c.tenant_id AND w.ticket_id = c.ticket_id AND w.clock = c.clock
         WHERE c.clock = 'ticket'
    ), s AS MATERIALIZED (
    -- the stages of a clock in their fixed order: warnings at p% of the
    -- target, levels at the target plus after; the instant as ticket_sla
    -- computes due_at: start + amount + pauses, on the calendar
    SELECT k.tenant_id, k.ticket_id, k.clock, r.kind, r.level, r.role,
           aftersales_internal.clock_add(k.calendar, k.cal, k.started_at, x.amount + k.paused) AS due_at,
           k.target, k.due_at AS clock_due, r.after, k.priority, k.status, k.assignee_id
      FROM k
      JOIN r ON r.tenant_id = k.tenant_id
            AND ((r.kind = 'warning' AND k.level = 0 AND r.level > k.warned)
                 OR (r.kind = 'escalation' AND r.level > k.level))
      CROSS JOIN LATERAL (SELECT CASE WHEN r.kind = 'warning' THEN k.target * (r.level / 100)::float8
                                      ELSE k.target + r.after END AS amount) x
    UNION ALL
    -- the anomaly stage of a clock: wall-clock time after entry
    SELECT k.tenant_id, k.ticket_id, k.clock, r.kind, r.level, r.role, k.started_at + r.after,
           k.target, k.due_at, r.after, k.priority, k.status, k.assignee_id
      FROM k
      JOIN r ON r.tenant_id = k.tenant_id
            AND r.kind = CASE k.metric WHEN 'arrival' THEN 'not_arrived' WHEN 'resolution' THEN 'not_completed' END
            AND NOT r.kind = ANY (k.done)
    UNION ALL
    -- the stages of the ticket itself
    SELECT kt.tenant_id, kt.ticket_id, kt.clock, r.kind, r.level, r.role,
           CASE r.kind WHEN 'lock' THEN kt.requested_at ELSE kt.opened_at END + r.after,
           NULL::interval, NULL::timestamptz, r.after, kt.priority, kt.status, kt.assignee_id
      FROM kt
      JOIN r ON r.tenant_id = kt.tenant_id
            AND ((r.kind = 'lock' AND kt.status = 'new' AND kt.requested_at IS NOT NULL)
                 OR (r.kind = 'key_customer' AND kt.tier = 'key' AND kt.status NOT IN ('resolved', 'closed', 'cancelled')))
            AND NOT r.kind = ANY (kt.done)
    )
    SELECT s.* FROM s WHERE s.due_at <= until
    UNION ALL
    (SELECT DISTINCT ON (s.tenant_id, s.ticket_id, s.clock) s.* FROM s WHERE s.due_at > until
      ORDER BY s.tenant_id, s.ticket_id, s.clock, s.due_at);
END
$$;
COMMENT ON FUNCTION aftersales_internal.watch_stages(bigint[], bigint[], text[], timestamptz) IS
  'Internal: the escalation stages of the given watches (tenant, ticket, clock) due at or before until, and the first one after it, with their instants';

-- The earliest stage still to come of one watch: its next_check.
CREATE FUNCTION aftersales_internal.next_check(tenant bigint, ticket bigint, clock text) RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT pg_catalog.min(s.due_at) FROM aftersales_internal.watch_stages(ARRAY[tenant], ARRAY[ticket], ARRAY[clock]) s);
END
$$;
COMMENT ON FUNCTION aftersales_internal.next_check(bigint, bigint, text) IS
  'Internal: when the next escalation stage of a clock (or of the ticket, clock ''ticket'') is due; NULL when none can fire';

-- The next checks of watches (all, or one tenant's), as the rules say:
-- set-based, in one call of watch_stages.
CREATE FUNCTION aftersales_internal.expected_checks(tenant bigint)
    RETURNS TABLE (tenant_id bigint, ticket_id bigint, clock text, stored timestamptz, expected timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    k_tenants bigint[];
    k_tickets bigint[];
    k_clocks text[];
BEGIN
    SELECT pg_catalog.array_agg(w.tenant_id), pg_catalog.array_agg(w.ticket_id), pg_catalog.array_agg(w.clock)
      INTO k_tenants, k_tickets, k_clocks
      FROM aftersales.escalation_watches w
     WHERE expected_checks.tenant IS NULL OR w.tenant_id = expected_checks.tenant;
    RETURN QUERY
    SELECT w.tenant_id, w.ticket_id, w.clock, w.next_check, x.n
      FROM aftersales.escalation_watches w
      LEFT JOIN (SELECT s.tenant_id, s.ticket_id, s.clock, pg_catalog.min(s.due_at) AS n
                   FROM aftersales_internal.watch_stages(k_tenants, k_tickets, k_clocks) s
                  GROUP BY 1, 2, 3) x
        ON x.tenant_id = w.tenant_id AND x.ticket_id = w.ticket_id AND x.clock = w.clock
     WHERE expected_checks.tenant IS NULL OR w.tenant_id = expected_checks.tenant;
END
$$;
COMMENT ON FUNCTION aftersales_internal.expected_checks(bigint) IS
  'Internal: each watch (of one tenant, or NULL: of all) with its stored next_check and the one the rules in force give';

-- Recompute the next checks of watches (all, or one tenant's): after a rule
-- changed, or to repair.  Returns how many changed.  Its cost is that of
-- every watch: a rule change is rare.
CREATE FUNCTION aftersales.rearm_watches(tenant bigint DEFAULT NULL) RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    WITH u AS (
        UPDATE aftersales.escalation_watches w SET next_check = x.expected
          FROM aftersales_internal.expected_checks(rearm_watches.tenant) x
         WHERE w.tenant_id = x.tenant_id AND w.ticket_id = x.ticket_id AND w.clock = x.clock
           AND w.next_check IS DISTINCT FROM x.expected
        RETURNING 1)
    SELECT pg_catalog.count(*) FROM u
$$;
COMMENT ON FUNCTION aftersales.rearm_watches(bigint) IS
  'Recompute when every watch (of one tenant, or NULL: of all) next needs a sweep, from the rules in force; returns the number changed. Rule changes call it; a DBA may, to repair';

-- Watches whose next_check differs from what the rules say: none, unless
-- something is wrong.  For tests and monitoring.
CREATE FUNCTION aftersales.check_watches(tenant bigint DEFAULT NULL)
    RETURNS TABLE (tenant_id bigint, ticket_id bigint, clock text, stored timestamptz, expected timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT x.tenant_id, x.ticket_id, x.clock, x.stored, x.expected
      FROM aftersales_internal.expected_checks(check_watches.tenant) x
     WHERE x.stored IS DISTINCT FROM x.expected
    UNION ALL
    SELECT s.tenant_id, s.ticket_id, s.metric::text, NULL, NULL
      FROM aftersales.ticket_sla s
     WHERE (check_watches.tenant IS NULL OR s.tenant_id = check_watches.tenant)
       AND NOT EXISTS (SELECT FROM aftersales.escalation_watches w
                        WHERE w.tenant_id = s.tenant_id AND w.ticket_id = s.ticket_id AND w.clock = s.metric::text)
     ORDER BY 1, 2, 3
$$;
COMMENT ON FUNCTION aftersales.check_watches(bigint) IS
  'Watches whose next_check differs from what the rules in force give (stored and expected), and SLA clocks without a watch (both NULL); empty when all is well';

-- A rule change: the escalation levels in force must come in order (a
-- higher level never fires before a lower one), then every watch is
-- re-armed.
CREATE FUNCTION aftersales_internal.escalation_rules_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad record;
BEGIN
    SELECT e.tenant_id, e.level, e.after, e.prev_level, e.prev_after INTO bad
      FROM (SELECT r.tenant_id, x.level, x.after,
                   pg_catalog.lag(x.level) OVER w AS prev_level, pg_catalog.lag(x.after) OVER w AS prev_after
              FROM aftersales.escalation_rules_effective r
              JOIN aftersales.escalation_rules x
                ON x.tenant_id = CASE WHEN r.inherited THEN 1 ELSE r.tenant_id END
               AND x.kind = r.kind AND x.level = r.level
             WHERE r.kind = 'escalation'
            WINDOW w AS (PARTITION BY r.tenant_id ORDER BY x.level)) e
     WHERE e.after < e.prev_after
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'escalation level % of tenant % fires % past due, before level % (% past due)',
                        bad.level, bad.tenant_id, bad.after, bad.prev_level, bad.prev_after
            USING ERRCODE = '23514',
                  DETAIL = 'A higher level must not fire before a lower one.',
                  HINT = pg_catalog.format('Give level %s an after of at least %s, for example: SELECT aftersales.set_escalation_rule(''escalation'', %s, after => %L);',
                                           bad.level, bad.prev_after, bad.level, bad.prev_after);
    END IF;
    PERFORM aftersales.rearm_watches();
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales_internal.escalation_rules_changed() IS
  'Trigger, after each statement changing escalation_rules: checks that levels come in order, re-arms the watches';
CREATE TRIGGER escalation_rules_changed
    AFTER INSERT OR UPDATE OR DELETE ON aftersales.escalation_rules
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales_internal.escalation_rules_changed();

CREATE FUNCTION aftersales.set_escalation_rule(kind text, level numeric DEFAULT 0, after interval DEFAULT NULL,
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
    IF kind IS NULL OR kind NOT IN ('warning', 'escalation', 'not_arrived', 'not_completed', 'key_customer', 'lock') THEN
        RAISE EXCEPTION '%', pg_catalog.format('invalid escalation rule kind: "%s"', CASE WHEN pg_catalog.length(kind) > 64 THEN pg_catalog.left(kind, 64) || '...' ELSE kind END)
            USING ERRCODE = '22023',
                  HINT = 'Kinds are warning, escalation, not_arrived, not_completed, key_customer and lock; for example: SELECT aftersales.set_escalation_rule(''warning'', 90);';
    END IF;
    IF level IS NULL
       OR (kind = 'warning' AND NOT (level > 0 AND level <= 100 AND level = round(level, 2)))
       OR (kind = 'escalation' AND NOT (level BETWEEN 1 AND 9 AND level = trunc(level)))
       OR (kind NOT IN ('warning', 'escalation') AND level <> 0) THEN
        RAISE EXCEPTION '%', pg_catalog.format('invalid level %s for escalation rule kind %s', COALESCE(level::text, 'NULL'), kind)
            USING ERRCODE = '22023',
                  HINT = CASE kind WHEN 'warning' THEN 'A warning''s level is the percent of the target, above 0 and at most 100, for example: SELECT aftersales.set_escalation_rule(''warning'', 90);'
                             WHEN 'escalation' THEN 'Escalation levels are 1 to 9, for example: SELECT aftersales.set_escalation_rule(''escalation'', 2, after => ''2 hours'');'
                             ELSE pg_catalog.format('Rules of kind %s have level 0, for example: SELECT aftersales.set_escalation_rule(%L, after => ''8 hours'');', kind, kind) END;
    END IF;
    SELECT * INTO cur FROM aftersales.escalation_rules r
     WHERE r.tenant_id = set_escalation_rule.tenant AND r.kind = set_escalation_rule.kind AND r.level = set_escalation_rule.level;
    SELECT * INTO dflt FROM aftersales.escalation_rules r
     WHERE r.tenant_id = 1 AND r.kind = set_escalation_rule.kind AND r.level = set_escalation_rule.level;
    after := COALESCE(after, cur.after, dflt.after);
    IF kind = 'warning' AND after IS NOT NULL THEN
        RAISE EXCEPTION '%', pg_catalog.format('a warning has no after, got %s', after)
            USING ERRCODE = '22023',
                  HINT = 'A warning fires at a percent of the target: SELECT aftersales.set_escalation_rule(''warning'', 90);';
    END IF;
    -- bounded: a stage years away overflowed the watch arithmetic and
    -- silenced every stage of the ticket
    IF kind <> 'warning' AND (after IS NULL OR after < '0'::interval OR after > '8784 hours'::interval
                              OR EXTRACT(DAY FROM after) <> 0
                              OR EXTRACT(MONTH FROM after) <> 0 OR EXTRACT(YEAR FROM after) <> 0) THEN
        RAISE EXCEPTION '%', pg_catalog.format('invalid after for escalation rule %s %s: %s', kind, level, COALESCE(after::text, 'NULL'))
            USING ERRCODE = '22023',
                  HINT = 'After is hours, minutes and seconds, never negative and at most 8784 hours (a year; a business day is not 24 hours), for example: SELECT aftersales.set_escalation_rule(''escalation'', 3, after => ''16 hours'');';
    END IF;
    role := COALESCE(role, cur.role, dflt.role,
                     CASE kind WHEN 'warning' THEN 'assignee' WHEN 'escalation' THEN 'supervisor'
                               WHEN 'not_arrived' THEN 'supervisor' WHEN 'not_completed' THEN 'supervisor'
                               ELSE 'service_manager' END);
    IF role !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION '%', pg_catalog.format('invalid role: "%s"', role)
            USING ERRCODE = '22023',
                  HINT = 'A role is a lowercase name such as supervisor, service_manager or head_of_department.';
    END IF;
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
    INSERT INTO aftersales.escalation_rules AS r (tenant_id, kind, level, after, role, enabled, description)
    VALUES (tenant, kind, level, after, role, COALESCE(enabled, true), COALESCE(description, cur.description, dflt.description))
    ON CONFLICT ON CONSTRAINT escalation_rules_pkey DO UPDATE
       SET after = excluded.after, role = excluded.role, enabled = excluded.enabled,
           description = excluded.description;
END
$$;
COMMENT ON FUNCTION aftersales.set_escalation_rule(text, numeric, interval, text, boolean, text, bigint) IS
  'Create or change an escalation rule of a tenant (upsert; omitted after, role and description keep the current ones, else tenant 1''s, else a role by kind); every watch is re-armed';

-- ---------------------------------------------------------------------------
-- The outbox

CREATE TABLE aftersales.alerts (
    tenant_id        bigint      NOT NULL REFERENCES aftersales.tenants,
    alert_id         bigint      GENERATED ALWAYS AS IDENTITY,
    ticket_id        bigint      NOT NULL,
    clock            text        NOT NULL CONSTRAINT alerts_clock_check CHECK (aftersales_internal.is_watch_clock(clock)),
    kind             text        NOT NULL
                                 CHECK (kind IN ('warning', 'escalation', 'not_arrived', 'not_completed', 'key_customer',
                                                 'lock', 'locked', 'part_not_collected', 'complaint')),
    level            numeric     NOT NULL DEFAULT 0,
    role             text        NOT NULL,
    due_at           timestamptz NOT NULL,
    raised_at        timestamptz NOT NULL,
    run_id           bigint,
    detail           jsonb       NOT NULL DEFAULT '{}',
    acknowledged_at  timestamptz,
    acknowledged_by  text,
    PRIMARY KEY (tenant_id, alert_id),
    -- exactly once: the database refuses a second row, whatever the logic
    CONSTRAINT alerts_once UNIQUE (tenant_id, ticket_id, clock, kind, level),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL))
);
CREATE INDEX alerts_unacknowledged_idx ON aftersales.alerts (tenant_id, alert_id) WHERE acknowledged_at IS NULL;
COMMENT ON TABLE aftersales.alerts IS
  'Outbox of escalation alerts: one row per stage fired, at most one per (ticket, clock, kind, level); applications read the unacknowledged ones (aftersales.unacknowledged_alerts) and acknowledge them; each new row is also announced by NOTIFY aftersales_alerts';
COMMENT ON COLUMN aftersales.alerts.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.alerts.alert_id IS 'Alert id, increasing: consumers page by it';
COMMENT ON COLUMN aftersales.alerts.ticket_id IS 'Ticket concerned';
COMMENT ON COLUMN aftersales.alerts.clock IS 'SLA clock concerned (first_response, arrival, resolution), or ticket';
COMMENT ON COLUMN aftersales.alerts.kind IS
  'warning, escalation, not_arrived, not_completed, key_customer, lock (the sweep locked it), locked (it was locked another way), part_not_collected, complaint (a key customer complained about the ticket; level: the complaint)';
COMMENT ON COLUMN aftersales.alerts.level IS 'Escalation level; warning percent; for locked, the seq of the lock event; 0 otherwise';
COMMENT ON COLUMN aftersales.alerts.role IS 'Who is to be told (assignee, supervisor, service_manager, head_of_department ...)';
COMMENT ON COLUMN aftersales.alerts.due_at IS 'When the stage came due';
COMMENT ON COLUMN aftersales.alerts.raised_at IS 'When it was raised (the sweep''s now): later than due_at by the sweep''s delay';
COMMENT ON COLUMN aftersales.alerts.run_id IS 'Sweep run that raised it (aftersales.sweep_runs); NULL when raised by a trigger or raise_alert()';
COMMENT ON COLUMN aftersales.alerts.detail IS 'Facts for the message: target, clock due time, priority, status, assignee, reason';
COMMENT ON COLUMN aftersales.alerts.acknowledged_at IS 'When an application or a person acknowledged it; NULL while unacknowledged';
COMMENT ON COLUMN aftersales.alerts.acknowledged_by IS 'Who acknowledged it';

-- ---------------------------------------------------------------------------
-- The managers' queue: open tickets that are locked or escalated

CREATE TABLE aftersales.ticket_escalations (
    tenant_id        bigint      NOT NULL,
    ticket_id        bigint      NOT NULL,
    level            smallint    NOT NULL DEFAULT 0 CHECK (level >= 0),
    clock            text,
    role             text,
    due_at           timestamptz,
    escalated_at     timestamptz,
    locked_at        timestamptz,
    lock_reason      text,
    alert_id         bigint,
    acknowledged_at  timestamptz,
    acknowledged_by  text,
    note             text,
    PRIMARY KEY (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    CHECK (level > 0 OR locked_at IS NOT NULL),
    CHECK ((level > 0) = (escalated_at IS NOT NULL))
);
COMMENT ON TABLE aftersales.ticket_escalations IS
  'Open tickets that are locked or escalated, one row each, kept by the sweep and the tickets trigger; read aftersales.manager_queue';
COMMENT ON COLUMN aftersales.ticket_escalations.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.ticket_escalations.ticket_id IS 'Ticket';
COMMENT ON COLUMN aftersales.ticket_escalations.level IS 'Highest escalation level reached since the ticket was last opened or reopened; 0: only locked';
COMMENT ON COLUMN aftersales.ticket_escalations.clock IS 'SLA clock that reached that level';
COMMENT ON COLUMN aftersales.ticket_escalations.role IS 'Role of that level';
COMMENT ON COLUMN aftersales.ticket_escalations.due_at IS 'When that clock was due';
COMMENT ON COLUMN aftersales.ticket_escalations.escalated_at IS 'When that level was raised';
COMMENT ON COLUMN aftersales.ticket_escalations.locked_at IS 'When the ticket was locked, while it is';
COMMENT ON COLUMN aftersales.ticket_escalations.lock_reason IS 'Why it was locked, while it is';
COMMENT ON COLUMN aftersales.ticket_escalations.alert_id IS 'The latest escalation or lock alert';
COMMENT ON COLUMN aftersales.ticket_escalations.acknowledged_at IS
  'When a manager acknowledged or took over the ticket since its latest escalation or lock; NULL: waiting';
COMMENT ON COLUMN aftersales.ticket_escalations.acknowledged_by IS 'Who';
COMMENT ON COLUMN aftersales.ticket_escalations.note IS 'The manager''s note with the acknowledgement';

-- ---------------------------------------------------------------------------
-- Sweep runs

CREATE TABLE aftersales.sweep_runs (
    tenant_id      bigint      NOT NULL CHECK (tenant_id >= 0),
    run_id         bigint      GENERATED ALWAYS AS IDENTITY,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz NOT NULL,
    as_of          timestamptz NOT NULL,
    batch          integer     NOT NULL,
    claimed        integer     NOT NULL,
    warnings       integer     NOT NULL,
    escalations    integer     NOT NULL,
    locks          integer     NOT NULL,
    not_arrived    integer     NOT NULL,
    not_completed  integer     NOT NULL,
    key_customer   integer     NOT NULL,
    errors         integer     NOT NULL,
    more_due       boolean     NOT NULL,
    skipped_rules  text[]      NOT NULL,
    PRIMARY KEY (tenant_id, run_id)
);
CREATE INDEX sweep_runs_finished_idx ON aftersales.sweep_runs (finished_at);
COMMENT ON TABLE aftersales.sweep_runs IS
  'One row per escalation sweep, for monitoring: when, as of when, what it claimed and fired, whether more was due';
COMMENT ON COLUMN aftersales.sweep_runs.tenant_id IS 'Tenant swept; 0 when the run swept every tenant (the scheduled job does)';
COMMENT ON COLUMN aftersales.sweep_runs.run_id IS 'Run id';
COMMENT ON COLUMN aftersales.sweep_runs.started_at IS 'Wall-clock start';
COMMENT ON COLUMN aftersales.sweep_runs.finished_at IS 'Wall-clock end';
COMMENT ON COLUMN aftersales.sweep_runs.as_of IS 'The now the sweep judged against (its now argument)';
COMMENT ON COLUMN aftersales.sweep_runs.batch IS 'Most watches the run could claim';
COMMENT ON COLUMN aftersales.sweep_runs.claimed IS 'Watches claimed';
COMMENT ON COLUMN aftersales.sweep_runs.warnings IS 'Warnings raised';
COMMENT ON COLUMN aftersales.sweep_runs.escalations IS 'Escalations raised';
COMMENT ON COLUMN aftersales.sweep_runs.locks IS 'Tickets locked (not assigned by the customer-requested date)';
COMMENT ON COLUMN aftersales.sweep_runs.not_arrived IS 'Not-arrived alerts raised';
COMMENT ON COLUMN aftersales.sweep_runs.not_completed IS 'Not-completed alerts raised';
COMMENT ON COLUMN aftersales.sweep_runs.key_customer IS 'Key-customer alerts raised';
COMMENT ON COLUMN aftersales.sweep_runs.errors IS 'Locks that failed (the lock alert is raised all the same, with the error in its detail)';
COMMENT ON COLUMN aftersales.sweep_runs.skipped_rules IS 'Enabled rules of the tenants swept that it skipped, their after beyond 8784 hours (as kind, level, tenant and after); empty when none';
COMMENT ON COLUMN aftersales.sweep_runs.more_due IS 'Whether stages were still due when it finished: the batch was full, or tickets were busy';

-- ---------------------------------------------------------------------------
-- Arming: triggers on ticket_sla and tickets keep the watches.  The two
-- on ticket_sla are C (src/escalation.c: the same statements, each
-- prepared once per backend), since they fire on every new ticket and most
-- events; the search_path they pin is what their statements' operators
-- resolve in.  The ticket triggers (src/ticket_log.c) arm the watches of
-- one ticket in the statement that writes its clocks (its entry; a stop or
-- a pause), and these triggers then leave that ticket's rows alone.

-- New clocks: one watch each, armed for its first stage.  Set-based for
-- bulk entry, so it computes the first stage directly instead of asking
-- watch_stages for all of them: the stages of a clock come in a fixed
-- order (warnings by percent, then levels; business_add is monotonic), so
-- the first is the lowest warning, else the lowest level; the anomaly
-- stage (wall clock) is the other candidate.  check_watches() proves the
-- two agree.
CREATE FUNCTION aftersales_internal.clocks_started() RETURNS trigger
    AS 'MODULE_PATHNAME', 'aftersales_clocks_started'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION aftersales_internal.clocks_started() IS
  'Trigger, after each INSERT statement on ticket_sla: a watch for each new clock, armed for its first stage';
CREATE TRIGGER escalation_clocks_started
    AFTER INSERT ON aftersales.ticket_sla
    REFERENCING NEW TABLE AS new_clocks
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales_internal.clocks_started();

-- Changed clocks (paused, resumed, stopped, reopened, re-targeted): their
-- watches are re-armed from watch_stages (a stopped or paused clock has
-- nothing to fire: no need to ask).
CREATE FUNCTION aftersales_internal.clocks_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'aftersales_clocks_changed'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION aftersales_internal.clocks_changed() IS
  'Trigger, after each UPDATE statement on ticket_sla: re-arms the watches of the clocks changed';
CREATE TRIGGER escalation_clocks_changed
    AFTER UPDATE ON aftersales.ticket_sla
    REFERENCING NEW TABLE AS new_clocks
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales_internal.clocks_changed();

-- New tickets with a requested date or of a key customer get a 'ticket'
-- watch, armed for the lock rule and the key-customer alert, from the
-- entry trigger of tickets (tickets_entered, 30_tickets.sql), in the
-- statement that starts their clocks.

-- One ticket changed state or requested date: its 'ticket' watch is
-- re-armed, and the managers' queue follows the state:
--   entering locked     the ticket joins the queue (or its row is marked
--                       locked), waiting for a manager again; unless the
--                       sweep is the one locking (it raises its own 'lock'
--                       alert), a 'locked' alert tells the service manager;
--                       locked by the late rule at assignment, the lock
--                       lock counts as done;
--   leaving locked      no longer locked; a take_over counts as the
--                       manager's acknowledgement; a ticket not escalated
--                       leaves the queue;
--   resolved, closed,   it leaves the queue (a reopened ticket comes back
--   cancelled           when its clocks escalate again).
-- The watch is written first and the queue second, like the sweep, which
-- holds the ticket row while it touches either.
CREATE FUNCTION aftersales_internal.set_sweep_locking(locking boolean) RETURNS void
    AS 'MODULE_PATHNAME', 'aftersales_set_sweep_locking' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION aftersales_internal.set_sweep_locking(boolean) IS
  'Internal: the sweep is (true) or is no longer (false) locking a ticket; backend-local, ends with the transaction';
CREATE FUNCTION aftersales_internal.sweep_locking() RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_sweep_locking' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION aftersales_internal.sweep_locking() IS
  'Internal: whether the sweep is locking a ticket (it then raises the alert itself)';

CREATE FUNCTION aftersales_internal.ticket_escalation_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rule text;
    why text;
    aid bigint;
BEGIN
    UPDATE aftersales.escalation_watches w
       SET next_check = aftersales_internal.next_check(NEW.tenant_id, NEW.ticket_id, 'ticket')
     WHERE w.tenant_id = NEW.tenant_id AND w.ticket_id = NEW.ticket_id AND w.clock = 'ticket';
    IF NOT FOUND AND NEW.requested_at IS NOT NULL THEN
        INSERT INTO aftersales.escalation_watches (tenant_id, ticket_id, clock, next_check)
        VALUES (NEW.tenant_id, NEW.ticket_id, 'ticket', aftersales_internal.next_check(NEW.tenant_id, NEW.ticket_id, 'ticket'))
        ON CONFLICT ON CONSTRAINT escalation_watches_pkey DO NOTHING;
    END IF;

    IF NEW.status = OLD.status THEN
        RETURN NULL;
    END IF;
    IF NEW.status = 'locked' THEN
        rule := aftersales.ticket_transition_rule(OLD.status, NEW.last_event, NEW.status);
        why := CASE rule WHEN 'late' THEN 'assigned after the customer-requested date'
                         WHEN 'attempts' THEN 'handled twice and still unresolved'
                         ELSE COALESCE(aftersales_internal.event_reason(),
                                       NEW.last_event::text) END;
        IF NOT aftersales_internal.sweep_locking() THEN
            INSERT INTO aftersales.alerts AS a (tenant_id, ticket_id, clock, kind, level, role, due_at, raised_at, detail)
            VALUES (NEW.tenant_id, NEW.ticket_id, 'ticket', 'locked', NEW.event_seq, 'service_manager',
                    NEW.last_event_at, NEW.last_event_at,
                    pg_catalog.jsonb_build_object('reason', why, 'rule', rule, 'event', NEW.last_event,
                                                  'actor', NEW.last_actor, 'priority', NEW.priority))
            ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING
            RETURNING a.alert_id INTO aid;
            IF aid IS NOT NULL THEN
                PERFORM pg_catalog.pg_notify('aftersales_alerts', pg_catalog.json_build_object(
                    'tenant', NEW.tenant_id, 'alert', aid, 'ticket', NEW.ticket_id, 'clock', 'ticket',
                    'kind', 'locked', 'level', NEW.event_seq)::text);
            END IF;
        END IF;
        -- locked by the late rule at assignment: the lock rule has had its
        -- way, the sweep does not lock it again after an unlock
        IF rule = 'late' THEN
            UPDATE aftersales.escalation_watches w SET done = w.done || '{lock}'::text[]
             WHERE w.tenant_id = NEW.tenant_id AND w.ticket_id = NEW.ticket_id AND w.clock = 'ticket'
               AND NOT 'lock' = ANY (w.done);
        END IF;
        INSERT INTO aftersales.ticket_escalations AS e (tenant_id, ticket_id, locked_at, lock_reason, alert_id)
        VALUES (NEW.tenant_id, NEW.ticket_id, NEW.last_event_at, why, aid)
        ON CONFLICT ON CONSTRAINT ticket_escalations_pkey DO UPDATE
           SET locked_at = excluded.locked_at, lock_reason = excluded.lock_reason,
               alert_id = COALESCE(excluded.alert_id, e.alert_id),
               acknowledged_at = NULL, acknowledged_by = NULL, note = NULL;
    ELSIF NEW.status IN ('resolved', 'closed', 'cancelled') THEN
        DELETE FROM aftersales.ticket_escalations e
         WHERE e.tenant_id = NEW.tenant_id AND e.ticket_id = NEW.ticket_id;
    ELSIF OLD.status = 'locked' THEN
        DELETE FROM aftersales.ticket_escalations e
         WHERE e.tenant_id = NEW.tenant_id AND e.ticket_id = NEW.ticket_id AND e.level = 0;
        UPDATE aftersales.ticket_escalations e
           SET locked_at = NULL, lock_reason = NULL,
               acknowledged_at = CASE WHEN NEW.last_event = 'take_over' AND e.acknowledged_at IS NULL
                                      THEN NEW.last_event_at ELSE e.acknowledged_at END,
               acknowledged_by = CASE WHEN NEW.last_event = 'take_over' AND e.acknowledged_at IS NULL
                                      THEN NEW.last_actor ELSE e.acknowledged_by END
         WHERE e.tenant_id = NEW.tenant_id AND e.ticket_id = NEW.ticket_id;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales_internal.ticket_escalation_changed() IS
  'Trigger, after each update of a ticket''s status or requested date: re-arms its ''ticket'' watch, keeps the managers'' queue, raises a locked alert when it is locked other than by the sweep';
-- Only the changes that matter fire it: most events of most tickets (no
-- requested date, neither locked nor final) pass by.
-- The condition: NEW.requested_at IS DISTINCT FROM OLD.requested_at OR
-- (NEW.status IS DISTINCT FROM OLD.status AND (NEW.requested_at IS NOT NULL
-- OR either status is locked, resolved, closed or cancelled)), in C
-- (src/escalation.c): PostgreSQL rebuilds a WHEN expression at every UPDATE
-- statement of the table, and this one in SQL was 3 kB of node text.
CREATE FUNCTION aftersales_internal.ticket_escalation_matters(old_requested timestamptz, new_requested timestamptz,
                                                      old_status aftersales.ticket_status,
                                                      new_status aftersales.ticket_status)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_ticket_escalation_matters' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales_internal.ticket_escalation_matters(timestamptz, timestamptz, aftersales.ticket_status,
                                                          aftersales.ticket_status) IS
  'Internal: the WHEN of trigger ticket_escalation_changed: a new requested date, or a status change of a dated ticket or into or out of locked, resolved, closed or cancelled';
CREATE TRIGGER ticket_escalation_changed
    AFTER UPDATE ON aftersales.tickets
    FOR EACH ROW WHEN (aftersales_internal.ticket_escalation_matters(OLD.requested_at, NEW.requested_at, OLD.status, NEW.status))
    EXECUTE FUNCTION aftersales_internal.ticket_escalation_changed();

-- ---------------------------------------------------------------------------
-- pg_dump and privileges

SELECT pg_catalog.pg_extension_config_dump('aftersales.escalation_watches', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.alerts', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.ticket_escalations', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.sweep_runs', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.alerts', 'alert_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.sweep_runs', 'run_id')::regclass, '');

REVOKE ALL ON FUNCTION aftersales_internal.clocks_started() FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.clocks_changed() FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.ticket_escalation_changed() FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.escalation_rules_changed() FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales.rearm_watches(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales.check_watches(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.expected_checks(bigint) FROM PUBLIC;
