
-- aftersales install script, part 40: the escalation sweep.
--
-- aftersales.sweep() is one SQL call, all a cron job runs (through the
-- procedure sweep_until_done(), which repeats it while more is due).  One
-- call:
--   1. claims at most `batch` watches whose next_check <= now, oldest
--      first, with their tickets, in one statement: FOR UPDATE SKIP LOCKED
--      on the watches and FOR NO KEY UPDATE SKIP LOCKED on the tickets,
--      materialised in a CTE.  What another sweep or a front-line
--      transaction holds is skipped, never waited for; what it claims,
--      nobody else changes until it commits (a ticket's changes all go
--      through its row), so it never deadlocks with the front line;
--   2. in the next statement (a new snapshot, taken after the locks: it
--      sees whatever committed before), fires every stage of the claimed
--      watches that is due at now, each once: the alert rows are inserted
--      ON CONFLICT DO NOTHING on alerts_once, so even a bug could not
--      announce a stage twice; advances the watches and re-arms them for
--      their next stage; raises the managers' queue; NOTIFYs each new
--      alert on channel aftersales_alerts;
--   3. locks the tickets that the lock rule says to lock, each in a
--      subtransaction, through the closed loop (lock_ticket, actor
--      aftersales-sweep);
--   4. records the run in sweep_runs, with whether more is due.
-- It catches up after downtime by construction: it selects what is due at
-- or before now, never "due in the last minute", and a watch fires every
-- stage that came due while nobody swept.  Its cost is the due watches'
-- (an index range on next_check), not the open tickets'.
--
-- It must run at READ COMMITTED (step 2's fresh snapshot depends on it).
-- A watch whose stages cannot be computed (a broken calendar, say) does
-- not stop the others: the batch is retried watch by watch and the failing
-- one is retried an hour later, with a WARNING in the server log.
--
-- Plans: the claim is planned with the real now (its range on next_check
-- is what makes the plan an index range); the work on the claimed keys
-- (sweep_claimed, watch_stages) uses generic plans, made once per
-- session, whose arrays drive nested loops on primary keys.

CREATE FUNCTION aftersales_internal.sweep_error(message text, hint text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION '%', message USING ERRCODE = '22023', HINT = hint;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sweep_error(text, text) IS 'Internal: the error for an invalid sweep argument';

-- Step 3 for one ticket still awaiting assignment at the customer-requested
-- date.  The lock alert is inserted first: the unique constraint decides that
-- this is the one time, then the ticket is locked.  A lock that fails
-- is rolled back, and the alert raised again without it, with the error.
-- Returns locked 1 when it locked the ticket, failed 1 when the lock failed.
CREATE FUNCTION aftersales_internal.sweep_lock(run bigint, now timestamptz, lk_tenant bigint, lk_ticket bigint,
                                               lk_due timestamptz, lk_role text, OUT locked integer, OUT failed integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    aid bigint;
    last_at timestamptz;
    saved_tenant text;
    msg text;
BEGIN
    locked := 0;
    failed := 0;
    BEGIN
        aid := NULL;
        SELECT t.last_event_at INTO last_at FROM aftersales.tickets t
         WHERE t.tenant_id = lk_tenant AND t.ticket_id = lk_ticket;
        INSERT INTO aftersales.alerts AS a (tenant_id, ticket_id, clock, kind, level, role, due_at, raised_at, run_id, detail)
        SELECT t.tenant_id, t.ticket_id, 'ticket', 'lock', 0, lk_role, lk_due, sweep_lock.now, run,
               pg_catalog.jsonb_build_object('requested_at', t.requested_at, 'priority', t.priority, 'locked', true)
          FROM aftersales.tickets t
         WHERE t.tenant_id = lk_tenant AND t.ticket_id = lk_ticket
        ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING
        RETURNING a.alert_id INTO aid;
        IF aid IS NOT NULL THEN
            saved_tenant := pg_catalog.current_setting('aftersales.tenant_id', true);
            PERFORM pg_catalog.set_config('aftersales.tenant_id', lk_tenant::text, true);
            PERFORM aftersales_internal.set_sweep_locking(true);
            PERFORM aftersales.lock_ticket(lk_ticket, reason => 'no engineer assigned by the customer-requested date',
                                           actor => 'aftersales-sweep',
                                           at => GREATEST(sweep_lock.now, last_at));
            PERFORM aftersales_internal.set_sweep_locking(false);
            PERFORM pg_catalog.set_config('aftersales.tenant_id', COALESCE(saved_tenant, ''), true);
            UPDATE aftersales.ticket_escalations e SET alert_id = aid
             WHERE e.tenant_id = lk_tenant AND e.ticket_id = lk_ticket;
            PERFORM pg_catalog.pg_notify('aftersales_alerts', pg_catalog.json_build_object(
                'tenant', lk_tenant, 'alert', aid, 'ticket', lk_ticket, 'clock', 'ticket',
                'kind', 'lock', 'level', 0)::text);
            locked := 1;
        END IF;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
        failed := 1;
        RAISE WARNING 'aftersales sweep: could not lock ticket % of tenant %: %', lk_ticket, lk_tenant, msg;
        INSERT INTO aftersales.alerts AS a (tenant_id, ticket_id, clock, kind, level, role, due_at, raised_at, run_id, detail)
        VALUES (lk_tenant, lk_ticket, 'ticket', 'lock', 0, lk_role, lk_due, sweep_lock.now, run,
                pg_catalog.jsonb_build_object('locked', false, 'error', msg))
        ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING
        RETURNING a.alert_id INTO aid;
        IF aid IS NOT NULL THEN
            PERFORM pg_catalog.pg_notify('aftersales_alerts', pg_catalog.json_build_object(
                'tenant', lk_tenant, 'alert', aid, 'ticket', lk_ticket, 'clock', 'ticket',
                'kind', 'lock', 'level', 0)::text);
        END IF;
    END;
    -- locked or not, the lock stage is done: the watch moves on
    UPDATE aftersales.escalation_watches w
       SET done = w.done || '{lock}'::text[]
     WHERE w.tenant_id = lk_tenant AND w.ticket_id = lk_ticket AND w.clock = 'ticket';
    UPDATE aftersales.escalation_watches w
       SET next_check = aftersales_internal.next_check(w.tenant_id, w.ticket_id, w.clock)
     WHERE w.tenant_id = lk_tenant AND w.ticket_id = lk_ticket AND w.clock = 'ticket';
END
$$;
COMMENT ON FUNCTION aftersales_internal.sweep_lock(bigint, timestamptz, bigint, bigint, timestamptz, text) IS
  'Internal: the sweep''s lock of one ticket not assigned by the customer-requested date, with its lock alert (or the alert of a failed lock) and its watch moved on';
REVOKE ALL ON FUNCTION aftersales_internal.sweep_lock(bigint, timestamptz, bigint, bigint, timestamptz, text) FROM PUBLIC;

-- Step 2 and 3 for a set of claimed watches (the caller holds them and
-- their tickets).  Returns the counts by kind.
CREATE FUNCTION aftersales_internal.sweep_claimed(run bigint, now timestamptz, tenants bigint[], tickets bigint[], clocks text[],
                                          OUT warnings integer, OUT escalations integer, OUT locks integer,
                                          OUT not_arrived integer, OUT not_completed integer,
                                          OUT key_customer integer, OUT errors integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    lk_tenants bigint[];
    lk_tickets bigint[];
    lk_due timestamptz[];
    lk_role text[];
    touched bigint;  -- only to make the CTEs n, upd, q run
    one_lock integer;
    one_error integer;
BEGIN
    locks := 0;
    errors := 0;
    WITH c AS (
        SELECT * FROM unnest(tenants, tickets, clocks) AS c (tenant_id, ticket_id, clock)
    ), st AS MATERIALIZED (
        SELECT s.* FROM aftersales_internal.watch_stages(tenants, tickets, clocks, sweep_claimed.now) s
    ), fire AS (
        SELECT st.* FROM st WHERE st.due_at <= sweep_claimed.now AND st.kind <> 'lock'
    ), ins AS (
        INSERT INTO aftersales.alerts AS a (tenant_id, ticket_id, clock, kind, level, role, due_at, raised_at, run_id, detail)
        SELECT f.tenant_id, f.ticket_id, f.clock, f.kind, f.level, f.role, f.due_at, sweep_claimed.now, run,
               pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                   'target', f.target, 'clock_due', f.clock_due, 'after', f.after, 'priority', f.priority,
                   'status', f.status, 'assignee', f.assignee_id))
          FROM fire f
         ORDER BY f.due_at, f.tenant_id, f.ticket_id, f.clock,
                  CASE f.kind WHEN 'warning' THEN 0 WHEN 'escalation' THEN 1 ELSE 2 END, f.kind, f.level
        ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING
        RETURNING a.tenant_id, a.alert_id, a.ticket_id, a.clock, a.kind, a.level, a.role, a.due_at
    ), adv AS (
        SELECT c.tenant_id, c.ticket_id, c.clock,
               pg_catalog.max(st.level) FILTER (WHERE st.kind = 'warning' AND st.due_at <= sweep_claimed.now) AS warned,
               pg_catalog.max(st.level) FILTER (WHERE st.kind = 'escalation' AND st.due_at <= sweep_claimed.now) AS level,
               pg_catalog.array_agg(st.kind) FILTER (WHERE st.kind IN ('not_arrived', 'not_completed', 'key_customer')
                                                     AND st.due_at <= sweep_claimed.now) AS done,
               -- a due lock stays due until step 3 has locked the ticket
               pg_catalog.min(st.due_at) FILTER (WHERE st.due_at > sweep_claimed.now OR st.kind = 'lock') AS next_check
          FROM c
          LEFT JOIN st ON st.tenant_id = c.tenant_id AND st.ticket_id = c.ticket_id AND st.clock = c.clock
         GROUP BY c.tenant_id, c.ticket_id, c.clock
    ), upd AS (
        UPDATE aftersales.escalation_watches w
           SET warned = GREATEST(w.warned, COALESCE(adv.warned, 0)),
               level = GREATEST(w.level, COALESCE(adv.level, 0)),
               done = w.done || COALESCE(adv.done, '{}'),
               next_check = adv.next_check
          FROM adv
         WHERE w.tenant_id = adv.tenant_id AND w.ticket_id = adv.ticket_id AND w.clock = adv.clock
        RETURNING 1
    ), esc AS (
        SELECT DISTINCT ON (i.tenant_id, i.ticket_id)
               i.tenant_id, i.ticket_id, i.level::smallint AS level, i.clock, i.role, f.clock_due, i.alert_id
          FROM ins i
          JOIN fire f ON f.tenant_id = i.tenant_id AND f.ticket_id = i.ticket_id AND f.clock = i.clock
                     AND f.kind = i.kind AND f.level = i.level
         WHERE i.kind = 'escalation'
         ORDER BY i.tenant_id, i.ticket_id, i.level DESC, f.clock_due, i.clock
    ), q AS (
        INSERT INTO aftersales.ticket_escalations AS e (tenant_id, ticket_id, level, clock, role, due_at, escalated_at, alert_id)
        SELECT esc.tenant_id, esc.ticket_id, esc.level, esc.clock, esc.role, esc.clock_due, sweep_claimed.now, esc.alert_id
          FROM esc
        ON CONFLICT ON CONSTRAINT ticket_escalations_pkey DO UPDATE
           SET level = excluded.level, clock = excluded.clock, role = excluded.role, due_at = excluded.due_at,
               escalated_at = excluded.escalated_at, alert_id = excluded.alert_id,
               acknowledged_at = NULL, acknowledged_by = NULL, note = NULL
         WHERE excluded.level > e.level
        RETURNING 1
    ), n AS (
        SELECT pg_catalog.pg_notify('aftersales_alerts', pg_catalog.json_build_object(
                   'tenant', i.tenant_id, 'alert', i.alert_id, 'ticket', i.ticket_id, 'clock', i.clock,
                   'kind', i.kind, 'level', i.level)::text)
          FROM (SELECT * FROM ins ORDER BY ins.alert_id) i
    ), lk AS (
        SELECT pg_catalog.array_agg(st.tenant_id ORDER BY st.due_at, st.tenant_id, st.ticket_id) AS tenants,
               pg_catalog.array_agg(st.ticket_id ORDER BY st.due_at, st.tenant_id, st.ticket_id) AS tickets,
               pg_catalog.array_agg(st.due_at ORDER BY st.due_at, st.tenant_id, st.ticket_id) AS due,
               pg_catalog.array_agg(st.role ORDER BY st.due_at, st.tenant_id, st.ticket_id) AS roles
          FROM st WHERE st.kind = 'lock' AND st.due_at <= sweep_claimed.now
    )
    SELECT pg_catalog.count(*) FILTER (WHERE i.kind = 'warning'),
           pg_catalog.count(*) FILTER (WHERE i.kind = 'escalation'),
           pg_catalog.count(*) FILTER (WHERE i.kind = 'not_arrived'),
           pg_catalog.count(*) FILTER (WHERE i.kind = 'not_completed'),
           pg_catalog.count(*) FILTER (WHERE i.kind = 'key_customer'),
           (SELECT lk.tenants FROM lk), (SELECT lk.tickets FROM lk), (SELECT lk.due FROM lk), (SELECT lk.roles FROM lk),
           (SELECT pg_catalog.count(*) FROM n) + (SELECT pg_catalog.count(*) FROM upd) + (SELECT pg_catalog.count(*) FROM q)
      INTO warnings, escalations, not_arrived, not_completed, key_customer,
           lk_tenants, lk_tickets, lk_due, lk_role, touched
      FROM ins i;

    -- Step 3: lock the tickets still awaiting assignment at the
    -- customer-requested date, one by one (sweep_lock).
    FOR i IN 1 .. COALESCE(pg_catalog.array_length(lk_tickets, 1), 0) LOOP
        SELECT l.locked, l.failed INTO one_lock, one_error
          FROM aftersales_internal.sweep_lock(run, sweep_claimed.now, lk_tenants[i], lk_tickets[i], lk_due[i], lk_role[i]) l;
        locks := locks + one_lock;
        errors := errors + one_error;
    END LOOP;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sweep_claimed(bigint, timestamptz, bigint[], bigint[], text[]) IS
  'Internal: fires the due stages of claimed watches (the caller holds them and their tickets), re-arms them, locks tickets by the lock rule (not assigned by the customer-requested date); returns the counts';

-- Every tenant's id, for the sweep's login: it runs under row security
-- (no BYPASSRLS needed) and sees one tenant at a time, the one it sets, so
-- it needs the list to visit them.  A definer, so that it reads past the
-- tenants table's policy; it returns ids only, and only the sweep's role
-- and the owner may call it.
CREATE FUNCTION aftersales_internal.sweep_tenants() RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT tn.tenant_id FROM aftersales.tenants tn ORDER BY 1
$$;
COMMENT ON FUNCTION aftersales_internal.sweep_tenants() IS
  'Internal: every tenant''s id, for a sweep of every tenant under row security (SECURITY DEFINER; the sweep''s role only)';
REVOKE ALL ON FUNCTION aftersales_internal.sweep_tenants() FROM PUBLIC;

-- A sweep of every tenant by a caller under row security: one sweep per
-- tenant, each under that tenant's setting (so the policies let it see
-- that tenant's watches, and its run row is that tenant's); the row
-- returned sums the runs.  The setting is restored afterwards.
CREATE FUNCTION aftersales_internal.sweep_each_tenant(batch integer, now timestamptz) RETURNS aftersales.sweep_runs
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    saved_tenant text := pg_catalog.current_setting('aftersales.tenant_id', true);
    t bigint;
    r aftersales.sweep_runs;
    total aftersales.sweep_runs;
BEGIN
    FOR t IN SELECT * FROM aftersales_internal.sweep_tenants() LOOP
        PERFORM pg_catalog.set_config('aftersales.tenant_id', t::text, true);
        r := aftersales.sweep(batch, now, t);
        IF total IS NULL THEN
            total := r;
            total.tenant_id := 0;
        ELSE
            total.finished_at := r.finished_at;
            total.claimed := total.claimed + r.claimed;
            total.warnings := total.warnings + r.warnings;
            total.escalations := total.escalations + r.escalations;
            total.locks := total.locks + r.locks;
            total.not_arrived := total.not_arrived + r.not_arrived;
            total.not_completed := total.not_completed + r.not_completed;
            total.key_customer := total.key_customer + r.key_customer;
            total.errors := total.errors + r.errors;
            total.more_due := total.more_due OR r.more_due;
            total.skipped_rules := total.skipped_rules || r.skipped_rules;
        END IF;
    END LOOP;
    PERFORM pg_catalog.set_config('aftersales.tenant_id', COALESCE(saved_tenant, ''), true);
    RETURN total;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sweep_each_tenant(integer, timestamptz) IS
  'Internal: sweep() of every tenant for a caller under row security, one tenant at a time under its setting; returns the runs summed (tenant_id 0)';
REVOKE ALL ON FUNCTION aftersales_internal.sweep_each_tenant(integer, timestamptz) FROM PUBLIC;

CREATE FUNCTION aftersales.sweep(batch integer DEFAULT 500, now timestamptz DEFAULT aftersales.now(),
                                 tenant bigint DEFAULT NULL)
    RETURNS aftersales.sweep_runs
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    started constant timestamptz := pg_catalog.clock_timestamp();
    run aftersales.sweep_runs;
    k_tenants bigint[];
    k_tickets bigint[];
    k_clocks text[];
    claimed integer;
    c record;
    msg text;
    skipped text[] := '{}'::text[];
BEGIN
    IF batch IS NULL OR batch < 1 OR batch > 100000 THEN
        PERFORM aftersales_internal.sweep_error(pg_catalog.format('invalid sweep batch: %s', COALESCE(batch::text, 'NULL')),
            'The batch is how many watches one call claims, 1 to 100000, for example: SELECT * FROM aftersales.sweep(batch => 500);');
    END IF;
    IF now IS NULL OR NOT pg_catalog.isfinite(now) THEN
        PERFORM aftersales_internal.sweep_error(pg_catalog.format('invalid sweep time: %s', COALESCE(now::text, 'NULL')),
            'Omit it for the current time, or pass a finite instant, for example: SELECT * FROM aftersales.sweep(now => ''2024-07-01 09:00+08'');');
    END IF;
    IF tenant IS NOT NULL AND NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = sweep.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', tenant
            USING ERRCODE = 'P0002',
                  HINT = 'Omit it to sweep every tenant: SELECT * FROM aftersales.sweep();';
    END IF;
    IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'aftersales.sweep() must run at READ COMMITTED, not %', pg_catalog.current_setting('transaction_isolation')
            USING ERRCODE = '25000',
                  DETAIL = 'It claims watches with SKIP LOCKED and then reads them in a fresh snapshot.',
                  HINT = 'Call it in its own transaction, as pg_cron does: SELECT * FROM aftersales.sweep();';
    END IF;
    -- every tenant, for a caller that row security limits to one tenant at
    -- a time (the sweep's login): each tenant in turn
    IF tenant IS NULL AND pg_catalog.row_security_active('aftersales.escalation_watches'::pg_catalog.regclass) THEN
        RETURN aftersales_internal.sweep_each_tenant(batch, now);
    END IF;

    -- enabled rules of the tenants swept that are not in force because
    -- their after is out of range (escalation_rules_effective leaves them
    -- out): named, so that one bad stage is seen and the others still fire
    FOR c IN SELECT r.tenant_id, r.kind, r.level, r.after
               FROM aftersales.escalation_rules r
              WHERE r.enabled AND r.kind <> 'warning' AND (r.after IS NULL OR r.after > '8784 hours'::interval)
                AND (sweep.tenant IS NULL OR r.tenant_id = sweep.tenant
                     OR (r.tenant_id = 1 AND NOT EXISTS (SELECT FROM aftersales.escalation_rules o
                                                          WHERE o.tenant_id = sweep.tenant AND o.kind = r.kind
                                                            AND o.level = r.level)))
              ORDER BY r.tenant_id, r.kind, r.level LOOP
        msg := pg_catalog.format('%s %s of tenant %s (after %s)', c.kind, c.level, c.tenant_id, COALESCE(c.after::text, 'NULL'));
        skipped := skipped || msg;
        RAISE WARNING 'aftersales sweep: escalation rule % is beyond 8784 hours, its stage is skipped', msg
            USING HINT = pg_catalog.format('Bound it, for example: SELECT aftersales.set_escalation_rule(%L, %s, after => ''16 hours'', tenant => %s);',
                                           c.kind, c.level, c.tenant_id);
    END LOOP;

    INSERT INTO aftersales.sweep_runs AS r (tenant_id, started_at, finished_at, as_of, batch, claimed, warnings, escalations,
                                            locks, not_arrived, not_completed, key_customer, errors, more_due, skipped_rules)
    VALUES (COALESCE(tenant, 0), started, started, now, batch, 0, 0, 0, 0, 0, 0, 0, 0, false, skipped)
    RETURNING r.* INTO run;

    -- 1. claim
    WITH due AS MATERIALIZED (
        SELECT w.tenant_id, w.ticket_id, w.clock
          FROM aftersales.escalation_watches w
          JOIN aftersales.tickets t ON t.tenant_id = w.tenant_id AND t.ticket_id = w.ticket_id
         WHERE w.next_check <= sweep.now
           AND (sweep.tenant IS NULL OR w.tenant_id = sweep.tenant)
         ORDER BY w.next_check
         LIMIT sweep.batch
           FOR UPDATE OF w SKIP LOCKED
           FOR NO KEY UPDATE OF t SKIP LOCKED
    )
    SELECT pg_catalog.array_agg(d.tenant_id), pg_catalog.array_agg(d.ticket_id), pg_catalog.array_agg(d.clock),
           pg_catalog.count(*)
      INTO k_tenants, k_tickets, k_clocks, claimed
      FROM due d;
    run.claimed := claimed;

    -- 2, 3. fire; on error, watch by watch (see the header)
    IF claimed > 0 THEN
        BEGIN
            SELECT * INTO c FROM aftersales_internal.sweep_claimed(run.run_id, now, k_tenants, k_tickets, k_clocks);
            run.warnings := c.warnings;
            run.escalations := c.escalations;
            run.locks := c.locks;
            run.not_arrived := c.not_arrived;
            run.not_completed := c.not_completed;
            run.key_customer := c.key_customer;
            run.errors := c.errors;
        EXCEPTION WHEN OTHERS THEN
            FOR i IN 1 .. claimed LOOP
                BEGIN
                    SELECT * INTO c FROM aftersales_internal.sweep_claimed(run.run_id, now, ARRAY[k_tenants[i]],
                                                                   ARRAY[k_tickets[i]], ARRAY[k_clocks[i]]);
                    run.warnings := run.warnings + c.warnings;
                    run.escalations := run.escalations + c.escalations;
                    run.locks := run.locks + c.locks;
                    run.not_arrived := run.not_arrived + c.not_arrived;
                    run.not_completed := run.not_completed + c.not_completed;
                    run.key_customer := run.key_customer + c.key_customer;
                    run.errors := run.errors + c.errors;
                EXCEPTION WHEN OTHERS THEN
                    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
                    RAISE WARNING 'aftersales sweep: watch % of ticket % of tenant % failed, retried in an hour: %',
                                  k_clocks[i], k_tickets[i], k_tenants[i], msg;
                    UPDATE aftersales.escalation_watches w SET next_check = now + '1 hour'::interval
                     WHERE w.tenant_id = k_tenants[i] AND w.ticket_id = k_tickets[i] AND w.clock = k_clocks[i];
                    run.errors := run.errors + 1;
                END;
            END LOOP;
        END;
    END IF;

    -- 4. record
    run.more_due := EXISTS (SELECT FROM aftersales.escalation_watches w
                             WHERE w.next_check <= sweep.now AND (sweep.tenant IS NULL OR w.tenant_id = sweep.tenant));
    run.finished_at := pg_catalog.clock_timestamp();
    UPDATE aftersales.sweep_runs r
       SET finished_at = run.finished_at, claimed = run.claimed, warnings = run.warnings,
           escalations = run.escalations, locks = run.locks, not_arrived = run.not_arrived,
           not_completed = run.not_completed, key_customer = run.key_customer, errors = run.errors,
           more_due = run.more_due
     WHERE r.tenant_id = run.tenant_id AND r.run_id = run.run_id;
    RETURN run;
END
$$;
COMMENT ON FUNCTION aftersales.sweep(integer, timestamptz, bigint) IS
  'One escalation sweep: claims at most batch due watches (SKIP LOCKED), fires their due warnings, escalations, anomaly alerts and the locks of tickets not assigned by the customer-requested date exactly once, re-arms them, records and returns the run (more_due: call again)';

-- The monitoring table would grow by a row a minute for ever: runs that
-- finished before `before` are deleted (sweep_until_done does it for the
-- runs older than 30 days after each call).  Alerts are not touched: they
-- are the record of what was announced.
CREATE FUNCTION aftersales.prune_sweep_runs(before timestamptz DEFAULT pg_catalog.now() - interval '30 days',
                                            tenant bigint DEFAULT NULL)
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
    t bigint;
    saved_tenant text := pg_catalog.current_setting('aftersales.tenant_id', true);
BEGIN
    IF before IS NULL OR before = 'infinity' THEN
        PERFORM aftersales_internal.sweep_error(pg_catalog.format('invalid prune instant: %s', COALESCE(before::text, 'NULL')),
            'Runs finished before it are deleted, for example: SELECT aftersales.prune_sweep_runs(before => now() - interval ''7 days'');');
    END IF;
    -- every tenant, for a caller under row security: each tenant in turn
    IF tenant IS NULL AND pg_catalog.row_security_active('aftersales.sweep_runs'::pg_catalog.regclass) THEN
        n := 0;
        FOR t IN SELECT * FROM aftersales_internal.sweep_tenants() LOOP
            PERFORM pg_catalog.set_config('aftersales.tenant_id', t::text, true);
            n := n + aftersales.prune_sweep_runs(before, t);
        END LOOP;
        PERFORM pg_catalog.set_config('aftersales.tenant_id', COALESCE(saved_tenant, ''), true);
        RETURN n;
    END IF;
    DELETE FROM aftersales.sweep_runs r
     WHERE r.finished_at < prune_sweep_runs.before
       AND (prune_sweep_runs.tenant IS NULL OR r.tenant_id = prune_sweep_runs.tenant);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION aftersales.prune_sweep_runs(timestamptz, bigint) IS
  'Delete the sweep runs finished before an instant (default: 30 days ago), of one tenant or all; returns how many; sweep_until_done calls it after each call';

-- The cron job's command: sweeps while more is due, each batch its own
-- transaction (so locks are held one batch at a time), at most max_batches
-- times.  A procedure that commits cannot pin search_path (PostgreSQL
-- forbids transaction control under a SET clause), so every name and
-- operator here is qualified.  Call it at top level, not inside BEGIN.
CREATE PROCEDURE aftersales.sweep_until_done(batch integer DEFAULT 500, max_batches integer DEFAULT 100,
                                             tenant bigint DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    r aftersales.sweep_runs;
    n integer := 0;
BEGIN
    IF max_batches IS NULL OR max_batches OPERATOR(pg_catalog.<) 1 THEN
        PERFORM aftersales_internal.sweep_error(pg_catalog.format('invalid max_batches: %s', COALESCE(max_batches::text, 'NULL')),
            'It bounds the batches of one call, for example: CALL aftersales.sweep_until_done(batch => 500, max_batches => 100);');
    END IF;
    LOOP
        r := aftersales.sweep(batch, aftersales.now(), tenant);
        COMMIT;
        n := n OPERATOR(pg_catalog.+) 1;
        EXIT WHEN NOT r.more_due OR r.claimed OPERATOR(pg_catalog.=) 0 OR n OPERATOR(pg_catalog.>=) max_batches;
    END LOOP;
    -- a minute's schedule leaves 1440 runs a day: keep 30 days of them
    PERFORM aftersales.prune_sweep_runs(tenant => tenant);
END
$$;
COMMENT ON PROCEDURE aftersales.sweep_until_done(integer, integer, bigint) IS
  'What the cron job runs: aftersales.sweep() again and again, one transaction per batch, while more is due (at most max_batches times), then drops the runs finished more than 30 days ago';

REVOKE ALL ON FUNCTION aftersales_internal.sweep_claimed(bigint, timestamptz, bigint[], bigint[], text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales.sweep(integer, timestamptz, bigint) FROM PUBLIC;
REVOKE ALL ON PROCEDURE aftersales.sweep_until_done(integer, integer, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales.prune_sweep_runs(timestamptz, bigint) FROM PUBLIC;
