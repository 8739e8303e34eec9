-- aftersales install script, part 65: incremental KPI rollups.
--
-- The service and staff KPIs (kpi_service, kpi_staff and their views) read
-- sums kept per cell instead of judging every ticket of the history again:
--   kpi_rollup_queue    insert-only: one row per ticket changed (written by
--                       statement triggers on tickets, customers and
--                       organisations), so concurrent writers never touch
--                       a shared row;
--   kpi_rollup_tickets  per ticket, what it adds to the cells (the sums and
--                       counts behind every KPI, judged as kpi_ticket_facts
--                       judges it) and its dimensions; a live ticket (one
--                       whose judgement still depends on as_of: unresolved,
--                       or with a clock running) adds nothing;
--   kpi_rollup_cells    the sums per tenant x day or month (of entry, in the
--                       tenant's reporting zone) x dimension value, for each
--                       dimension the KPI functions group by;
--   kpi_rollup_state    per tenant: the zone the days are cut in, when the
--                       rollups were built, and whether a change of a
--                       setting, calendar or SLA policy made them stale.
-- fold_kpi_rollups() (by hand, or every minute from pg_cron) moves the
-- queued tickets into the cells: each cell moves by the difference between
-- the ticket's new and stored contribution (a reopen, a cancellation, a
-- priority change or a late follow-up is a retraction, never a rebuild),
-- and the ticket after each one of the same unit and problem type is
-- judged again (its repeat flag depends on its predecessor).
--
-- A reader adds to the cells, in the same snapshot, the difference of the
-- queued tickets (their new judgement less their stored one) and the live
-- tickets judged at as_of: so what it reads is exact and current whether
-- the queue was folded or not, and never a state that did not exist.  The
-- rollups are read when they can answer exactly: one tenant, seen whole
-- (no organisation scope), periods cut in the zone the cells were, a range
-- on whole days (months for month, quarter, year and all), as_of not
-- before the tenant's latest event, not stale, and the session setting
-- aftersales.kpi_rollups not off; otherwise the functions compute from the
-- raw rows, which stay the reference.  check_kpi_rollups() compares the two
-- cell by cell; rebuild_kpi_rollups() rebuilds a tenant (or a range).

-- ---------------------------------------------------------------------------
-- Tables

CREATE TABLE aftersales.kpi_rollup_state (
    tenant_id     bigint      NOT NULL PRIMARY KEY,
    zone          text        NOT NULL,
    built_at      timestamptz,
    stale_since   timestamptz,
    stale_reason  text
);
COMMENT ON TABLE aftersales.kpi_rollup_state IS
  'Per tenant, the state of its KPI rollups: the zone their days are cut in, when built, and since when and why stale (then the KPI functions compute from the raw rows until aftersales.rebuild_kpi_rollups())';
COMMENT ON COLUMN aftersales.kpi_rollup_state.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.kpi_rollup_state.zone IS 'Time zone the days of the cells are cut in (the reporting zone when built)';
COMMENT ON COLUMN aftersales.kpi_rollup_state.built_at IS 'When the rollups were last built in full; NULL: never (not used)';
COMMENT ON COLUMN aftersales.kpi_rollup_state.stale_since IS 'When a change made past judgements differ (a KPI setting, a calendar, an SLA policy, the reporting zone); NULL: current';
COMMENT ON COLUMN aftersales.kpi_rollup_state.stale_reason IS 'What made them stale';

CREATE TABLE aftersales.kpi_rollup_queue (
    tenant_id  bigint      NOT NULL,
    entry_id   bigint      GENERATED ALWAYS AS IDENTITY,
    ticket_id  bigint      NOT NULL,
    queued_at  timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
    PRIMARY KEY (tenant_id, entry_id)
);
COMMENT ON TABLE aftersales.kpi_rollup_queue IS
  'Tickets changed since the last fold of the KPI rollups (insert-only; aftersales.fold_kpi_rollups() empties it); readers judge them live';
COMMENT ON COLUMN aftersales.kpi_rollup_queue.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.kpi_rollup_queue.entry_id IS 'Entry number';
COMMENT ON COLUMN aftersales.kpi_rollup_queue.ticket_id IS 'Ticket changed';
COMMENT ON COLUMN aftersales.kpi_rollup_queue.queued_at IS 'When queued';

CREATE TABLE aftersales.kpi_rollup_tickets (
    tenant_id        bigint      NOT NULL,
    ticket_id        bigint      NOT NULL,
    day              date        NOT NULL,
    opened_at        timestamptz NOT NULL,
    last_event_at    timestamptz NOT NULL,
    live             boolean     NOT NULL,
    unit_id          bigint,
    problem_type_id  bigint,
    region           text,
    province         text,
    org_id           bigint,
    org_type         text,
    model_id         bigint,
    engineer_id      bigint,
    priority         text,
    channel          text,
    response_due     timestamptz,
    arrival_due      timestamptz,
    completion_due   timestamptz,
    promised_due     timestamptz,
    n_tickets bigint NOT NULL DEFAULT 0,
    n_cancelled bigint NOT NULL DEFAULT 0,
    n_resolved bigint NOT NULL DEFAULT 0,
    n_closed bigint NOT NULL DEFAULT 0,
    n_unresolved bigint NOT NULL DEFAULT 0,
    responded_sum bigint NOT NULL DEFAULT 0,
    responded_n bigint NOT NULL DEFAULT 0,
    arrived_sum bigint NOT NULL DEFAULT 0,
    arrived_n bigint NOT NULL DEFAULT 0,
    completed_sum bigint NOT NULL DEFAULT 0,
    completed_n bigint NOT NULL DEFAULT 0,
    on_time_sum bigint NOT NULL DEFAULT 0,
    on_time_n bigint NOT NULL DEFAULT 0,
    ftf_sum bigint NOT NULL DEFAULT 0,
    ftf_n bigint NOT NULL DEFAULT 0,
    closed_loop_sum bigint NOT NULL DEFAULT 0,
    closed_loop_n bigint NOT NULL DEFAULT 0,
    repeat_sum bigint NOT NULL DEFAULT 0,
    repeat_n bigint NOT NULL DEFAULT 0,
    reopened_sum bigint NOT NULL DEFAULT 0,
    reopened_n bigint NOT NULL DEFAULT 0,
    csat_good_sum bigint NOT NULL DEFAULT 0,
    csat_good_n bigint NOT NULL DEFAULT 0,
    problem_resolved_sum bigint NOT NULL DEFAULT 0,
    problem_resolved_n bigint NOT NULL DEFAULT 0,
    sla_first_met bigint NOT NULL DEFAULT 0,
    sla_first_n bigint NOT NULL DEFAULT 0,
    sla_arrival_met bigint NOT NULL DEFAULT 0,
    sla_arrival_n bigint NOT NULL DEFAULT 0,
    sla_resolution_met bigint NOT NULL DEFAULT 0,
    sla_resolution_n bigint NOT NULL DEFAULT 0,
    csat_sum bigint NOT NULL DEFAULT 0,
    csat_n bigint NOT NULL DEFAULT 0,
    nps_promoter_sum bigint NOT NULL DEFAULT 0,
    nps_detractor_sum bigint NOT NULL DEFAULT 0,
    nps_n bigint NOT NULL DEFAULT 0,
    response_minutes_sum numeric NOT NULL DEFAULT 0,
    response_minutes_n bigint NOT NULL DEFAULT 0,
    response_business_minutes_sum numeric NOT NULL DEFAULT 0,
    response_business_minutes_n bigint NOT NULL DEFAULT 0,
    resolution_minutes_sum numeric NOT NULL DEFAULT 0,
    resolution_minutes_n bigint NOT NULL DEFAULT 0,
    resolution_business_minutes_sum numeric NOT NULL DEFAULT 0,
    resolution_business_minutes_n bigint NOT NULL DEFAULT 0,
    repair_minutes_sum numeric NOT NULL DEFAULT 0,
    repair_minutes_n bigint NOT NULL DEFAULT 0,
    repair_business_minutes_sum numeric NOT NULL DEFAULT 0,
    repair_business_minutes_n bigint NOT NULL DEFAULT 0,
    handling_minutes_sum numeric NOT NULL DEFAULT 0,
    handling_minutes_n bigint NOT NULL DEFAULT 0,
    handling_business_minutes_sum numeric NOT NULL DEFAULT 0,
    handling_business_minutes_n bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, ticket_id)
);
CREATE INDEX kpi_rollup_tickets_live_idx ON aftersales.kpi_rollup_tickets (tenant_id) WHERE live;
CREATE INDEX kpi_rollup_tickets_last_event_idx ON aftersales.kpi_rollup_tickets (tenant_id, last_event_at);
CREATE INDEX kpi_rollup_tickets_day_idx ON aftersales.kpi_rollup_tickets (tenant_id, day);
COMMENT ON TABLE aftersales.kpi_rollup_tickets IS
  'Per ticket, as last folded: its dimensions and what it adds to the KPI rollup cells (nothing while live); the difference to its new judgement is what a fold adds';

CREATE TABLE aftersales.kpi_rollup_cells (
    tenant_id  bigint NOT NULL,
    dimension  text   NOT NULL,
    grain      text   NOT NULL CHECK (grain IN ('day', 'month')),
    day        date   NOT NULL,
    dim_key    text,
    n_tickets bigint NOT NULL DEFAULT 0,
    n_cancelled bigint NOT NULL DEFAULT 0,
    n_resolved bigint NOT NULL DEFAULT 0,
    n_closed bigint NOT NULL DEFAULT 0,
    n_unresolved bigint NOT NULL DEFAULT 0,
    responded_sum bigint NOT NULL DEFAULT 0,
    responded_n bigint NOT NULL DEFAULT 0,
    arrived_sum bigint NOT NULL DEFAULT 0,
    arrived_n bigint NOT NULL DEFAULT 0,
    completed_sum bigint NOT NULL DEFAULT 0,
    completed_n bigint NOT NULL DEFAULT 0,
    on_time_sum bigint NOT NULL DEFAULT 0,
    on_time_n bigint NOT NULL DEFAULT 0,
    ftf_sum bigint NOT NULL DEFAULT 0,
    ftf_n bigint NOT NULL DEFAULT 0,
    closed_loop_sum bigint NOT NULL DEFAULT 0,
    closed_loop_n bigint NOT NULL DEFAULT 0,
    repeat_sum bigint NOT NULL DEFAULT 0,
    repeat_n bigint NOT NULL DEFAULT 0,
    reopened_sum bigint NOT NULL DEFAULT 0,
    reopened_n bigint NOT NULL DEFAULT 0,
    csat_good_sum bigint NOT NULL DEFAULT 0,
    csat_good_n bigint NOT NULL DEFAULT 0,
    problem_resolved_sum bigint NOT NULL DEFAULT 0,
    problem_resolved_n bigint NOT NULL DEFAULT 0,
    sla_first_met bigint NOT NULL DEFAULT 0,
    sla_first_n bigint NOT NULL DEFAULT 0,
    sla_arrival_met bigint NOT NULL DEFAULT 0,
    sla_arrival_n bigint NOT NULL DEFAULT 0,
    sla_resolution_met bigint NOT NULL DEFAULT 0,
    sla_resolution_n bigint NOT NULL DEFAULT 0,
    csat_sum bigint NOT NULL DEFAULT 0,
    csat_n bigint NOT NULL DEFAULT 0,
    nps_promoter_sum bigint NOT NULL DEFAULT 0,
    nps_detractor_sum bigint NOT NULL DEFAULT 0,
    nps_n bigint NOT NULL DEFAULT 0,
    response_minutes_sum numeric NOT NULL DEFAULT 0,
    response_minutes_n bigint NOT NULL DEFAULT 0,
    response_business_minutes_sum numeric NOT NULL DEFAULT 0,
    response_business_minutes_n bigint NOT NULL DEFAULT 0,
    resolution_minutes_sum numeric NOT NULL DEFAULT 0,
    resolution_minutes_n bigint NOT NULL DEFAULT 0,
    resolution_business_minutes_sum numeric NOT NULL DEFAULT 0,
    resolution_business_minutes_n bigint NOT NULL DEFAULT 0,
    repair_minutes_sum numeric NOT NULL DEFAULT 0,
    repair_minutes_n bigint NOT NULL DEFAULT 0,
    repair_business_minutes_sum numeric NOT NULL DEFAULT 0,
    repair_business_minutes_n bigint NOT NULL DEFAULT 0,
    handling_minutes_sum numeric NOT NULL DEFAULT 0,
    handling_minutes_n bigint NOT NULL DEFAULT 0,
    handling_business_minutes_sum numeric NOT NULL DEFAULT 0,
    handling_business_minutes_n bigint NOT NULL DEFAULT 0,
    CONSTRAINT kpi_rollup_cells_key UNIQUE NULLS NOT DISTINCT (tenant_id, dimension, grain, day, dim_key)
);
COMMENT ON TABLE aftersales.kpi_rollup_cells IS
  'Sums and counts of the ticket KPI judgements per tenant, dimension value and day or month of entry (tickets not live, as folded)';

DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.relname, a.attname
               FROM pg_catalog.pg_attribute a
               JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
              WHERE c.relname IN ('kpi_rollup_tickets', 'kpi_rollup_cells')
                AND c.relnamespace = 'aftersales'::regnamespace AND a.attnum > 0
                AND pg_catalog.col_description(c.oid, a.attnum) IS NULL LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN aftersales.%I.%I IS %L', r.relname, r.attname,
            CASE r.attname
                WHEN 'tenant_id' THEN 'Tenant'
                WHEN 'ticket_id' THEN 'Ticket'
                WHEN 'day' THEN 'Day of entry in the rollups'' zone (for grain month: the first of the month)'
                WHEN 'opened_at' THEN 'Entry of the ticket'
                WHEN 'last_event_at' THEN 'Time of the ticket''s latest event when folded'
                WHEN 'live' THEN 'Some judgement still depends on as_of: read live, not in the cells'
                WHEN 'response_due' THEN 'Live ticket not responded yet: from this instant on (exclusive) its response is judged missed'
                WHEN 'arrival_due' THEN 'Live field ticket not on site yet: from this instant on (exclusive) its arrival is judged missed'
                WHEN 'completion_due' THEN 'Live ticket unresolved: from this instant on (exclusive) its completion is judged missed'
                WHEN 'promised_due' THEN 'Live ticket unresolved with a promise: from this instant on (exclusive) it is judged late'
                WHEN 'dimension' THEN 'Dimension of dim_key: all, tenant, region, province, organisation, organisation_type, product_model, problem_type, engineer, priority or channel'
                WHEN 'grain' THEN 'day or month'
                WHEN 'dim_key' THEN 'Value of the dimension (as the KPI functions return it in dim_key)'
                ELSE CASE WHEN r.attname LIKE '%\_sum' OR r.attname LIKE '%\_met'
                          THEN 'Sum of the judgement ' || r.attname || ' over the tickets'
                          WHEN r.attname LIKE '%\_n' THEN 'Tickets judged for ' || pg_catalog.regexp_replace(r.attname, '_n$', '')
                          ELSE 'Dimension or count ' || r.attname END END);
    END LOOP;
END
$$;

-- The ticket-level reads below pick a ticket's previous one of the same
-- unit and problem type (repeats), and the next one (whose repeat flag a
-- change may move).
CREATE INDEX tickets_unit_problem_idx ON aftersales.tickets (tenant_id, unit_id, problem_type_id, opened_at)
    WHERE unit_id IS NOT NULL;

-- ---------------------------------------------------------------------------
-- Judging tickets

-- The judgements of kpi_ticket_facts (60_kpi.sql) for chosen tickets of
-- one tenant, from their current rows: the same text but for the
-- selection (ids, or NULL for all the tenant's tickets) and the
-- snapshot, which it has no need of (valid for as_of not before any
-- selected ticket's last event; the rollup's readers check that).  Also
-- says whether a ticket is live: not cancelled, and unresolved or with a
-- clock running, so that some judgement still depends on as_of; and, for
-- each stage it has not reached, the instant after which a reader judges
-- it missed (nothing else of a live ticket moves without an event).  The
-- check function compares its sums with kpi_ticket_facts itself.
CREATE FUNCTION aftersales_internal.rollup_facts(tenant bigint, ids bigint[], as_of timestamptz)
    RETURNS TABLE (tenant_id bigint, tenant_name text, ticket_id bigint, opened_at timestamptz,
                   status text, priority text, channel text, field boolean, customer_tier text,
                   region text, province text, org_id bigint, org_name text, org_type text,
                   unit_id bigint, model_id bigint, model_name text, problem_type_id bigint, problem_name text,
                   engineer_id bigint, engineer_name text, cancelled integer,
                   response_minutes numeric, response_business_minutes numeric, responded_in_target integer,
                   arrival_minutes numeric, arrival_business_minutes numeric, arrived_in_target integer,
                   resolution_minutes numeric, resolution_business_minutes numeric, completed_in_target integer,
                   repair_minutes numeric, repair_business_minutes numeric,
                   handling_minutes numeric, handling_business_minutes numeric,
                   promised_at timestamptz, completed_on_time integer,
                   sla_first_response text, sla_arrival text, sla_resolution text,
                   first_time_fix integer, closed_loop integer, reopened integer, repeat_problem integer,
                   csat_score integer, csat_good integer, nps_score integer, nps_promoter integer, nps_detractor integer,
                   live boolean, last_event_at timestamptz,
                   response_due timestamptz, arrival_due timestamptz, completion_due timestamptz, promised_due timestamptz)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    RETURN QUERY
    WITH cfg AS (
        SELECT * FROM aftersales_internal.kpi_config(rollup_facts.tenant)
    ), loop_rules AS (
        SELECT tr.from_state, tr.event, tr.to_state, tr.first_response, tr.counts_attempt, tr.supplies
          FROM aftersales.ticket_transitions() tr
    ), chosen AS (
        SELECT t.ticket_id FROM aftersales.tickets t
         WHERE rollup_facts.ids IS NULL AND t.tenant_id = rollup_facts.tenant
        UNION ALL
        SELECT DISTINCT i.id FROM pg_catalog.unnest(rollup_facts.ids) AS i (id)
         WHERE rollup_facts.ids IS NOT NULL
    ), base AS (
        SELECT k.tenant_id, k.tenant_name, k.ticket_id, k.opened_at, k.status, k.priority,
               k.channel, k.field, k.customer_id, k.customer_tier, k.region, k.province, k.org_id, k.org_name,
               k.org_type, k.unit_id, k.model_id, k.model_name, k.problem_type_id, k.problem_name,
               k.engineer_id, k.engineer_name, k.requested_at, k.first_response_at, k.assigned_at, k.arrived_at,
               k.first_resolved_at, k.resolved_at, k.closed_at, k.attempt_count, k.reopen_count, k.csat, k.nps,
               t.last_event_at,
               g.response_target, g.arrival_target, g.completion_target, g.csat_good_min, g.repeat_window
          FROM chosen c
          JOIN aftersales._kpi_ticket_dims k ON k.tenant_id = rollup_facts.tenant AND k.ticket_id = c.ticket_id
          JOIN aftersales.tickets t ON t.tenant_id = k.tenant_id AND t.ticket_id = k.ticket_id
          JOIN cfg g ON g.tenant_id = k.tenant_id
         WHERE k.opened_at <= rollup_facts.as_of
    ), facts AS (
        SELECT b.*, b.status = 'cancelled' AS is_cancelled
          FROM base b
    ), clocks AS (
        -- one row per ticket: its policy and the state of its three clocks
        SELECT s.tenant_id, s.ticket_id, pg_catalog.min(s.policy_id) AS policy_id,
               pg_catalog.min(CASE WHEN s.stopped_at <= rollup_facts.as_of THEN s.outcome ELSE 'running' END)
                   FILTER (WHERE s.metric = 'first_response') AS fr,
               pg_catalog.min(CASE WHEN s.stopped_at <= rollup_facts.as_of THEN s.outcome ELSE 'running' END)
                   FILTER (WHERE s.metric = 'arrival') AS arr,
               pg_catalog.min(CASE WHEN s.stopped_at <= rollup_facts.as_of THEN s.outcome ELSE 'running' END)
                   FILTER (WHERE s.metric = 'resolution') AS res,
               pg_catalog.min(s.due_at) FILTER (WHERE s.metric = 'resolution') AS res_due
          FROM base b0
          JOIN aftersales.ticket_sla s ON s.tenant_id = b0.tenant_id AND s.ticket_id = b0.ticket_id
         GROUP BY s.tenant_id, s.ticket_id
    ), repeats AS (
        -- the previous ticket of the same unit and problem type, not cancelled
        -- (tickets_unit_problem_idx)
        SELECT b0.tenant_id, b0.ticket_id,
               b0.opened_at - (SELECT p.opened_at FROM aftersales.tickets p
                                WHERE p.tenant_id = b0.tenant_id AND p.unit_id = b0.unit_id
                                  AND p.problem_type_id = b0.problem_type_id AND p.status <> 'cancelled'
                                  AND (p.opened_at, p.ticket_id) < (b0.opened_at, b0.ticket_id)
                                  AND p.opened_at <= rollup_facts.as_of
                                ORDER BY p.opened_at DESC, p.ticket_id DESC LIMIT 1) <= b0.repeat_window AS is_repeat
          FROM base b0
         WHERE b0.unit_id IS NOT NULL AND b0.status <> 'cancelled'
    ), revisited AS (
        -- tickets with more than one arrival on site (an arrival is never
        -- earlier than the ticket's entry)
        SELECT ev.tenant_id, ev.ticket_id
          FROM base b0
          JOIN aftersales.ticket_events ev ON ev.tenant_id = b0.tenant_id AND ev.ticket_id = b0.ticket_id
         WHERE ev.event = 'arrive' AND ev.at <= rollup_facts.as_of
         GROUP BY ev.tenant_id, ev.ticket_id
        HAVING pg_catalog.count(*) > 1
    ), judged AS (
        SELECT b.*, cl.fr, cl.arr, cl.res, cal.calendar AS cal, rp.is_repeat, rv.ticket_id IS NOT NULL AS is_revisited,
               COALESCE(b.requested_at, cl.res_due) AS promise
          FROM facts b
          LEFT JOIN clocks cl ON cl.tenant_id = b.tenant_id AND cl.ticket_id = b.ticket_id
          LEFT JOIN aftersales.sla_policies sp ON sp.tenant_id = cl.tenant_id AND sp.policy_id = cl.policy_id
          LEFT JOIN aftersales.calendars cal ON cal.tenant_id = sp.tenant_id AND cal.name = sp.calendar
          LEFT JOIN repeats rp ON rp.tenant_id = b.tenant_id AND rp.ticket_id = b.ticket_id
          LEFT JOIN revisited rv ON rv.tenant_id = b.tenant_id AND rv.ticket_id = b.ticket_id
    ), idle AS (
        -- a reopened ticket's time sat resolved or closed before its final
        -- resolution: not repair time
        SELECT w.tenant_id, w.ticket_id, pg_catalog.sum(w.next_at - w.at) AS wall,
               pg_catalog.sum(aftersales.business_diff(w.cal, w.at, w.next_at)) AS business
          FROM (SELECT ev.tenant_id, ev.ticket_id, ev.at, ev.to_state, r.cal, r.resolved_at,
                       pg_catalog.lead(ev.at) OVER (PARTITION BY ev.tenant_id, ev.ticket_id ORDER BY ev.seq) AS next_at
                  FROM judged r
                  JOIN aftersales.ticket_events ev ON ev.tenant_id = r.tenant_id AND ev.ticket_id = r.ticket_id
                 WHERE r.reopen_count > 0 AND r.resolved_at IS NOT NULL AND ev.at <= rollup_facts.as_of) w
         WHERE w.to_state IN ('resolved', 'closed') AND w.next_at <= w.resolved_at
         GROUP BY w.tenant_id, w.ticket_id
    )
    SELECT j.tenant_id, j.tenant_name, j.ticket_id, j.opened_at,
           j.status::text, j.priority::text, j.channel, j.field, j.customer_tier,
           j.region, j.province, j.org_id, j.org_name, j.org_type,
           j.unit_id, j.model_id, j.model_name, j.problem_type_id, j.problem_name,
           j.engineer_id, j.engineer_name,
           j.is_cancelled::integer,
           -- first response
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM j.first_response_at - j.opened_at) / 60 END,
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.opened_at, j.first_response_at)) / 60 END,
           CASE WHEN j.is_cancelled THEN NULL
                WHEN j.first_response_at IS NOT NULL THEN (j.first_response_at <= j.opened_at + j.response_target)::integer
                WHEN j.opened_at < rollup_facts.as_of - j.response_target THEN 0 END,
           -- arrival (field tickets)
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM j.arrived_at - j.opened_at) / 60 END,
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.opened_at, j.arrived_at)) / 60 END,
           CASE WHEN j.is_cancelled OR NOT j.field THEN NULL
                WHEN j.arrived_at IS NOT NULL THEN (j.arrived_at <= j.opened_at + j.arrival_target)::integer
                WHEN j.first_resolved_at IS NOT NULL THEN NULL
                WHEN j.opened_at < rollup_facts.as_of - j.arrival_target THEN 0 END,
           -- resolution (the final one)
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM j.resolved_at - j.opened_at) / 60 END,
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.opened_at, j.resolved_at)) / 60 END,
           CASE WHEN j.is_cancelled THEN NULL
                WHEN j.resolved_at IS NOT NULL THEN (j.resolved_at <= j.opened_at + j.completion_target)::integer
                WHEN j.opened_at < rollup_facts.as_of - j.completion_target THEN 0 END,
           -- repair: from the first response to the final resolution, less
           -- the time sat resolved or closed before a reopen
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM j.resolved_at - j.first_response_at - COALESCE(i.wall, interval '0')) / 60 END,
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.first_response_at, j.resolved_at)
                                                                - COALESCE(i.business, interval '0')) / 60 END,
           -- handling: from the assignment to the current engineer to the final resolution
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM j.resolved_at - j.assigned_at) / 60 END,
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.assigned_at, j.resolved_at)) / 60 END,
           -- on time: by the customer-requested date, else by the resolution clock's due time
           CASE WHEN NOT j.is_cancelled THEN j.promise END,
           CASE WHEN j.is_cancelled OR j.promise IS NULL THEN NULL
                WHEN j.resolved_at IS NOT NULL THEN (j.resolved_at <= j.promise)::integer
                WHEN rollup_facts.as_of > j.promise THEN 0 END,
           CASE WHEN NOT j.is_cancelled THEN j.fr END,
           CASE WHEN NOT j.is_cancelled THEN j.arr END,
           CASE WHEN NOT j.is_cancelled THEN j.res END,
           -- first-time fix, closed loop, reopen: over tickets resolved at least once
           CASE WHEN j.is_cancelled OR j.first_resolved_at IS NULL THEN NULL
                WHEN j.attempt_count > 0 OR j.reopen_count > 0 OR j.is_revisited THEN 0
                ELSE 1 END,
           CASE WHEN j.is_cancelled OR j.first_resolved_at IS NULL THEN NULL
                ELSE (j.status = 'closed')::integer END,
           CASE WHEN j.is_cancelled OR j.first_resolved_at IS NULL THEN NULL
                ELSE (j.reopen_count > 0)::integer END,
           CASE WHEN j.is_cancelled OR j.unit_id IS NULL THEN NULL
                ELSE COALESCE(j.is_repeat, false)::integer END,
           -- the latest follow-up's scores
           CASE WHEN NOT j.is_cancelled THEN j.csat::integer END,
           CASE WHEN NOT j.is_cancelled THEN (j.csat >= j.csat_good_min)::integer END,
           CASE WHEN NOT j.is_cancelled THEN j.nps::integer END,
           CASE WHEN NOT j.is_cancelled THEN (j.nps >= 9)::integer END,
           CASE WHEN NOT j.is_cancelled THEN (j.nps <= 6)::integer END,
           NOT j.is_cancelled
             AND (j.resolved_at IS NULL OR j.first_response_at IS NULL
                  OR EXISTS (SELECT FROM aftersales.ticket_sla s
                              WHERE s.tenant_id = j.tenant_id AND s.ticket_id = j.ticket_id AND s.stopped_at IS NULL)),
           j.last_event_at,
           CASE WHEN NOT j.is_cancelled AND j.first_response_at IS NULL THEN j.opened_at + j.response_target END,
           CASE WHEN NOT j.is_cancelled AND j.field AND j.arrived_at IS NULL AND j.first_resolved_at IS NULL
                THEN j.opened_at + j.arrival_target END,
           CASE WHEN NOT j.is_cancelled AND j.resolved_at IS NULL THEN j.opened_at + j.completion_target END,
           CASE WHEN NOT j.is_cancelled AND j.promise IS NOT NULL AND j.resolved_at IS NULL THEN j.promise END
      FROM judged j
      LEFT JOIN idle i ON i.tenant_id = j.tenant_id AND i.ticket_id = j.ticket_id;
END
$$;
COMMENT ON FUNCTION aftersales_internal.rollup_facts(bigint, bigint[], timestamptz) IS
  'Internal: kpi_ticket_facts of the tickets ids (NULL: all) of a tenant from their current rows, with whether each is live (a judgement still depends on as_of), its last event, and the instants after which its pending stages count as missed';

-- A ticket's row of kpi_rollup_tickets: its day in zone, its dimensions and
-- its judgements as sums and counts.
CREATE FUNCTION aftersales_internal.rollup_rows(tenant bigint, ids bigint[], as_of timestamptz, zone text)
    RETURNS SETOF aftersales.kpi_rollup_tickets
LANGUAGE sql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT f.tenant_id, f.ticket_id, pg_catalog.timezone(zone, f.opened_at)::date, f.opened_at, f.last_event_at, f.live,
       f.unit_id, f.problem_type_id, f.region, f.province, f.org_id, f.org_type, f.model_id, f.engineer_id,
       f.priority, f.channel, f.response_due, f.arrival_due, f.completion_due, f.promised_due,
       (1)::bigint,
       (f.cancelled)::bigint,
       ((f.resolution_minutes IS NOT NULL)::integer)::bigint,
       ((f.status = 'closed')::integer)::bigint,
       ((f.status NOT IN ('resolved', 'closed', 'cancelled'))::integer)::bigint,
       (COALESCE(f.responded_in_target, 0))::bigint,
       ((f.responded_in_target IS NOT NULL)::integer)::bigint,
       (COALESCE(f.arrived_in_target, 0))::bigint,
       ((f.arrived_in_target IS NOT NULL)::integer)::bigint,
       (COALESCE(f.completed_in_target, 0))::bigint,
       ((f.completed_in_target IS NOT NULL)::integer)::bigint,
       (COALESCE(f.completed_on_time, 0))::bigint,
       ((f.completed_on_time IS NOT NULL)::integer)::bigint,
       (COALESCE(f.first_time_fix, 0))::bigint,
       ((f.first_time_fix IS NOT NULL)::integer)::bigint,
       (COALESCE(f.closed_loop, 0))::bigint,
       ((f.closed_loop IS NOT NULL)::integer)::bigint,
       (COALESCE(f.repeat_problem, 0))::bigint,
       ((f.repeat_problem IS NOT NULL)::integer)::bigint,
       (COALESCE(f.reopened, 0))::bigint,
       ((f.reopened IS NOT NULL)::integer)::bigint,
       (COALESCE(f.csat_good, 0))::bigint,
       ((f.csat_good IS NOT NULL)::integer)::bigint,
       (CASE WHEN f.cancelled = 0 THEN (f.status IN ('resolved', 'closed'))::integer ELSE 0 END)::bigint,
       ((f.cancelled = 0)::integer)::bigint,
       (COALESCE((f.sla_first_response = 'met')::integer, 0))::bigint,
       (COALESCE((f.sla_first_response IN ('met', 'breached'))::integer, 0))::bigint,
       (COALESCE((f.sla_arrival = 'met')::integer, 0))::bigint,
       (COALESCE((f.sla_arrival IN ('met', 'breached'))::integer, 0))::bigint,
       (COALESCE((f.sla_resolution = 'met')::integer, 0))::bigint,
       (COALESCE((f.sla_resolution IN ('met', 'breached'))::integer, 0))::bigint,
       (COALESCE(f.csat_score, 0))::bigint,
       ((f.csat_score IS NOT NULL)::integer)::bigint,
       (COALESCE(f.nps_promoter, 0))::bigint,
       (COALESCE(f.nps_detractor, 0))::bigint,
       ((f.nps_score IS NOT NULL)::integer)::bigint,
       (COALESCE(f.response_minutes, 0))::numeric,
       ((f.response_minutes IS NOT NULL)::integer)::bigint,
       (COALESCE(f.response_business_minutes, 0))::numeric,
       ((f.response_business_minutes IS NOT NULL)::integer)::bigint,
       (COALESCE(f.resolution_minutes, 0))::numeric,
       ((f.resolution_minutes IS NOT NULL)::integer)::bigint,
       (COALESCE(f.resolution_business_minutes, 0))::numeric,
       ((f.resolution_business_minutes IS NOT NULL)::integer)::bigint,
       (COALESCE(f.repair_minutes, 0))::numeric,
       ((f.repair_minutes IS NOT NULL)::integer)::bigint,
       (COALESCE(f.repair_business_minutes, 0))::numeric,
       ((f.repair_business_minutes IS NOT NULL)::integer)::bigint,
       (COALESCE(f.handling_minutes, 0))::numeric,
       ((f.handling_minutes IS NOT NULL)::integer)::bigint,
       (COALESCE(f.handling_business_minutes, 0))::numeric,
       ((f.handling_business_minutes IS NOT NULL)::integer)::bigint
  FROM aftersales_internal.rollup_facts(tenant, ids, as_of) f
$$;
COMMENT ON FUNCTION aftersales_internal.rollup_rows(bigint, bigint[], timestamptz, text) IS
  'Internal: the kpi_rollup_tickets rows of the tickets ids (NULL: all) of a tenant, judged at as_of, days cut in zone';

-- The tickets whose judgement the queued ones may have changed: themselves,
-- and the next ticket (not cancelled) of the same unit and problem type
-- after each, at its current and at its folded place.
CREATE FUNCTION aftersales_internal.rollup_affected(tenant bigint, queued bigint[])
    RETURNS bigint[]
LANGUAGE sql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT pg_catalog.array_agg(DISTINCT x.id ORDER BY x.id)
  FROM (SELECT q.id FROM pg_catalog.unnest(queued) AS q (id)
        UNION ALL
        SELECT nx.ticket_id
          FROM (SELECT t.ticket_id, t.unit_id, t.problem_type_id, t.opened_at
                  FROM aftersales.tickets t
                 WHERE t.tenant_id = tenant AND t.ticket_id = ANY (queued) AND t.unit_id IS NOT NULL
                UNION
                SELECT s.ticket_id, s.unit_id, s.problem_type_id, s.opened_at
                  FROM aftersales.kpi_rollup_tickets s
                 WHERE s.tenant_id = tenant AND s.ticket_id = ANY (queued) AND s.unit_id IS NOT NULL) p
         CROSS JOIN LATERAL (
               SELECT n.ticket_id FROM aftersales.tickets n
                WHERE n.tenant_id = tenant AND n.unit_id = p.unit_id AND n.problem_type_id = p.problem_type_id
                  AND n.status <> 'cancelled' AND (n.opened_at, n.ticket_id) > (p.opened_at, p.ticket_id)
                ORDER BY n.opened_at, n.ticket_id LIMIT 1) nx) x
$$;
COMMENT ON FUNCTION aftersales_internal.rollup_affected(bigint, bigint[]) IS
  'Internal: the queued tickets and the next ticket of the same unit and problem type after each (whose repeat flag they decide)';

-- ---------------------------------------------------------------------------
-- Writing: the queue, the fold, the rebuild

CREATE FUNCTION aftersales_internal.rollup_enqueue() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO aftersales.kpi_rollup_queue (tenant_id, ticket_id)
        SELECT o.tenant_id, o.ticket_id FROM old_rows o;
    ELSE
        INSERT INTO aftersales.kpi_rollup_queue (tenant_id, ticket_id)
        SELECT n.tenant_id, n.ticket_id FROM new_rows n;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales_internal.rollup_enqueue() IS
  'Trigger, after each statement on tickets: queues the tickets written for the KPI rollups (insert-only, as the owner)';
CREATE TRIGGER kpi_rollup_entered AFTER INSERT ON aftersales.tickets
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION aftersales_internal.rollup_enqueue();
CREATE TRIGGER kpi_rollup_changed AFTER UPDATE ON aftersales.tickets
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION aftersales_internal.rollup_enqueue();
CREATE TRIGGER kpi_rollup_deleted AFTER DELETE ON aftersales.tickets
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION aftersales_internal.rollup_enqueue();
-- also under session_replication_role = replica (a restore, a bulk load):
-- a change the rollups missed would make them wrong
ALTER TABLE aftersales.tickets ENABLE ALWAYS TRIGGER kpi_rollup_entered;
ALTER TABLE aftersales.tickets ENABLE ALWAYS TRIGGER kpi_rollup_changed;
ALTER TABLE aftersales.tickets ENABLE ALWAYS TRIGGER kpi_rollup_deleted;

-- A customer's or an organisation's region, province, organisation or type
-- is a dimension of its tickets: queue them.
CREATE FUNCTION aftersales_internal.rollup_requeue() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_TABLE_NAME = 'customers' THEN
        INSERT INTO aftersales.kpi_rollup_queue (tenant_id, ticket_id)
        SELECT t.tenant_id, t.ticket_id FROM aftersales.tickets t
         WHERE t.tenant_id = NEW.tenant_id AND t.customer_id = (pg_catalog.to_jsonb(NEW) ->> 'customer_id')::bigint;
    ELSE
        INSERT INTO aftersales.kpi_rollup_queue (tenant_id, ticket_id)
        SELECT t.tenant_id, t.ticket_id FROM aftersales.tickets t
          LEFT JOIN aftersales.customers c ON c.tenant_id = t.tenant_id AND c.customer_id = t.customer_id
         WHERE t.tenant_id = NEW.tenant_id AND COALESCE(t.org_id, c.org_id) = NEW.org_id;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales_internal.rollup_requeue() IS
  'Trigger, after a change of a customer''s or organisation''s region, province, organisation or type: queues its tickets for the KPI rollups';
CREATE TRIGGER kpi_rollup_dimensions AFTER UPDATE ON aftersales.customers
    FOR EACH ROW WHEN (OLD.region IS DISTINCT FROM NEW.region OR OLD.province IS DISTINCT FROM NEW.province
                       OR OLD.org_id IS DISTINCT FROM NEW.org_id)
    EXECUTE FUNCTION aftersales_internal.rollup_requeue();
CREATE TRIGGER kpi_rollup_dimensions AFTER UPDATE ON aftersales.organisations
    FOR EACH ROW WHEN (OLD.region IS DISTINCT FROM NEW.region OR OLD.province IS DISTINCT FROM NEW.province
                       OR OLD.org_type IS DISTINCT FROM NEW.org_type)
    EXECUTE FUNCTION aftersales_internal.rollup_requeue();

-- Add rows of kpi_rollup_tickets (sign 1) or take them away (-1) from the
-- cells of every dimension, by day and by month.
CREATE FUNCTION aftersales_internal.rollup_add(tenant bigint, added aftersales.kpi_rollup_tickets[],
                                                   removed aftersales.kpi_rollup_tickets[])
    RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
INSERT INTO aftersales.kpi_rollup_cells AS c (tenant_id, dimension, grain, day, dim_key,
       n_tickets, n_cancelled, n_resolved, n_closed,
       n_unresolved, responded_sum, responded_n, arrived_sum,
       arrived_n, completed_sum, completed_n, on_time_sum,
       on_time_n, ftf_sum, ftf_n, closed_loop_sum,
       closed_loop_n, repeat_sum, repeat_n, reopened_sum,
       reopened_n, csat_good_sum, csat_good_n, problem_resolved_sum,
       problem_resolved_n, sla_first_met, sla_first_n, sla_arrival_met,
       sla_arrival_n, sla_resolution_met, sla_resolution_n, csat_sum,
       csat_n, nps_promoter_sum, nps_detractor_sum, nps_n,
       response_minutes_sum, response_minutes_n, response_business_minutes_sum, response_business_minutes_n,
       resolution_minutes_sum, resolution_minutes_n, resolution_business_minutes_sum, resolution_business_minutes_n,
       repair_minutes_sum, repair_minutes_n, repair_business_minutes_sum, repair_business_minutes_n,
       handling_minutes_sum, handling_minutes_n, handling_business_minutes_sum, handling_business_minutes_n)
SELECT tenant, x.dimension, g.grain,
       CASE g.grain WHEN 'day' THEN d.day ELSE pg_catalog.date_trunc('month', d.day::timestamp)::date END,
       x.dim_key,
       pg_catalog.sum(d.sign * d.n_tickets)::bigint AS n_tickets,
       pg_catalog.sum(d.sign * d.n_cancelled)::bigint AS n_cancelled,
       pg_catalog.sum(d.sign * d.n_resolved)::bigint AS n_resolved,
       pg_catalog.sum(d.sign * d.n_closed)::bigint AS n_closed,
       pg_catalog.sum(d.sign * d.n_unresolved)::bigint AS n_unresolved,
       pg_catalog.sum(d.sign * d.responded_sum)::bigint AS responded_sum,
       pg_catalog.sum(d.sign * d.responded_n)::bigint AS responded_n,
       pg_catalog.sum(d.sign * d.arrived_sum)::bigint AS arrived_sum,
       pg_catalog.sum(d.sign * d.arrived_n)::bigint AS arrived_n,
       pg_catalog.sum(d.sign * d.completed_sum)::bigint AS completed_sum,
       pg_catalog.sum(d.sign * d.completed_n)::bigint AS completed_n,
       pg_catalog.sum(d.sign * d.on_time_sum)::bigint AS on_time_sum,
       pg_catalog.sum(d.sign * d.on_time_n)::bigint AS on_time_n,
       pg_catalog.sum(d.sign * d.ftf_sum)::bigint AS ftf_sum,
       pg_catalog.sum(d.sign * d.ftf_n)::bigint AS ftf_n,
       pg_catalog.sum(d.sign * d.closed_loop_sum)::bigint AS closed_loop_sum,
       pg_catalog.sum(d.sign * d.closed_loop_n)::bigint AS closed_loop_n,
       pg_catalog.sum(d.sign * d.repeat_sum)::bigint AS repeat_sum,
       pg_catalog.sum(d.sign * d.repeat_n)::bigint AS repeat_n,
       pg_catalog.sum(d.sign * d.reopened_sum)::bigint AS reopened_sum,
       pg_catalog.sum(d.sign * d.reopened_n)::bigint AS reopened_n,
       pg_catalog.sum(d.sign * d.csat_good_sum)::bigint AS csat_good_sum,
       pg_catalog.sum(d.sign * d.csat_good_n)::bigint AS csat_good_n,
       pg_catalog.sum(d.sign * d.problem_resolved_sum)::bigint AS problem_resolved_sum,
       pg_catalog.sum(d.sign * d.problem_resolved_n)::bigint AS problem_resolved_n,
       pg_catalog.sum(d.sign * d.sla_first_met)::bigint AS sla_first_met,
       pg_catalog.sum(d.sign * d.sla_first_n)::bigint AS sla_first_n,
       pg_catalog.sum(d.sign * d.sla_arrival_met)::bigint AS sla_arrival_met,
       pg_catalog.sum(d.sign * d.sla_arrival_n)::bigint AS sla_arrival_n,
       pg_catalog.sum(d.sign * d.sla_resolution_met)::bigint AS sla_resolution_met,
       pg_catalog.sum(d.sign * d.sla_resolution_n)::bigint AS sla_resolution_n,
       pg_catalog.sum(d.sign * d.csat_sum)::bigint AS csat_sum,
       pg_catalog.sum(d.sign * d.csat_n)::bigint AS csat_n,
       pg_catalog.sum(d.sign * d.nps_promoter_sum)::bigint AS nps_promoter_sum,
       pg_catalog.sum(d.sign * d.nps_detractor_sum)::bigint AS nps_detractor_sum,
       pg_catalog.sum(d.sign * d.nps_n)::bigint AS nps_n,
       pg_catalog.sum(d.sign * d.response_minutes_sum)::numeric AS response_minutes_sum,
       pg_catalog.sum(d.sign * d.response_minutes_n)::bigint AS response_minutes_n,
       pg_catalog.sum(d.sign * d.response_business_minutes_sum)::numeric AS response_business_minutes_sum,
       pg_catalog.sum(d.sign * d.response_business_minutes_n)::bigint AS response_business_minutes_n,
       pg_catalog.sum(d.sign * d.resolution_minutes_sum)::numeric AS resolution_minutes_sum,
       pg_catalog.sum(d.sign * d.resolution_minutes_n)::bigint AS resolution_minutes_n,
       pg_catalog.sum(d.sign * d.resolution_business_minutes_sum)::numeric AS resolution_business_minutes_sum,
       pg_catalog.sum(d.sign * d.resolution_business_minutes_n)::bigint AS resolution_business_minutes_n,
       pg_catalog.sum(d.sign * d.repair_minutes_sum)::numeric AS repair_minutes_sum,
       pg_catalog.sum(d.sign * d.repair_minutes_n)::bigint AS repair_minutes_n,
       pg_catalog.sum(d.sign * d.repair_business_minutes_sum)::numeric AS repair_business_minutes_sum,
       pg_catalog.sum(d.sign * d.repair_business_minutes_n)::bigint AS repair_business_minutes_n,
       pg_catalog.sum(d.sign * d.handling_minutes_sum)::numeric AS handling_minutes_sum,
       pg_catalog.sum(d.sign * d.handling_minutes_n)::bigint AS handling_minutes_n,
       pg_catalog.sum(d.sign * d.handling_business_minutes_sum)::numeric AS handling_business_minutes_sum,
       pg_catalog.sum(d.sign * d.handling_business_minutes_n)::bigint AS handling_business_minutes_n
  FROM (SELECT 1 AS sign, a.* FROM pg_catalog.unnest(added) a WHERE NOT a.live
        UNION ALL
        SELECT -1, r.* FROM pg_catalog.unnest(removed) r WHERE NOT r.live) d
 CROSS JOIN LATERAL (VALUES ('all', 'all'), ('tenant', d.tenant_id::text), ('region', d.region),
                             ('province', d.province), ('organisation', d.org_id::text),
                             ('organisation_type', d.org_type), ('product_model', d.model_id::text),
                             ('problem_type', d.problem_type_id::text), ('engineer', d.engineer_id::text),
                             ('priority', d.priority), ('channel', d.channel)) AS x (dimension, dim_key)
 CROSS JOIN (VALUES ('day'), ('month')) AS g (grain)
 GROUP BY 2, 3, 4, 5
ON CONFLICT ON CONSTRAINT kpi_rollup_cells_key DO UPDATE SET
        n_tickets = c.n_tickets + excluded.n_tickets,
        n_cancelled = c.n_cancelled + excluded.n_cancelled,
        n_resolved = c.n_resolved + excluded.n_resolved,
        n_closed = c.n_closed + excluded.n_closed,
        n_unresolved = c.n_unresolved + excluded.n_unresolved,
        responded_sum = c.responded_sum + excluded.responded_sum,
        responded_n = c.responded_n + excluded.responded_n,
        arrived_sum = c.arrived_sum + excluded.arrived_sum,
        arrived_n = c.arrived_n + excluded.arrived_n,
        completed_sum = c.completed_sum + excluded.completed_sum,
        completed_n = c.completed_n + excluded.completed_n,
        on_time_sum = c.on_time_sum + excluded.on_time_sum,
        on_time_n = c.on_time_n + excluded.on_time_n,
        ftf_sum = c.ftf_sum + excluded.ftf_sum,
        ftf_n = c.ftf_n + excluded.ftf_n,
        closed_loop_sum = c.closed_loop_sum + excluded.closed_loop_sum,
        closed_loop_n = c.closed_loop_n + excluded.closed_loop_n,
        repeat_sum = c.repeat_sum + excluded.repeat_sum,
        repeat_n = c.repeat_n + excluded.repeat_n,
        reopened_sum = c.reopened_sum + excluded.reopened_sum,
        reopened_n = c.reopened_n + excluded.reopened_n,
        csat_good_sum = c.csat_good_sum + excluded.csat_good_sum,
        csat_good_n = c.csat_good_n + excluded.csat_good_n,
        problem_resolved_sum = c.problem_resolved_sum + excluded.problem_resolved_sum,
        problem_resolved_n = c.problem_resolved_n + excluded.problem_resolved_n,
        sla_first_met = c.sla_first_met + excluded.sla_first_met,
        sla_first_n = c.sla_first_n + excluded.sla_first_n,
        sla_arrival_met = c.sla_arrival_met + excluded.sla_arrival_met,
        sla_arrival_n = c.sla_arrival_n + excluded.sla_arrival_n,
        sla_resolution_met = c.sla_resolution_met + excluded.sla_resolution_met,
        sla_resolution_n = c.sla_resolution_n + excluded.sla_resolution_n,
        csat_sum = c.csat_sum + excluded.csat_sum,
        csat_n = c.csat_n + excluded.csat_n,
        nps_promoter_sum = c.nps_promoter_sum + excluded.nps_promoter_sum,
        nps_detractor_sum = c.nps_detractor_sum + excluded.nps_detractor_sum,
        nps_n = c.nps_n + excluded.nps_n,
        response_minutes_sum = c.response_minutes_sum + excluded.response_minutes_sum,
        response_minutes_n = c.response_minutes_n + excluded.response_minutes_n,
        response_business_minutes_sum = c.response_business_minutes_sum + excluded.response_business_minutes_sum,
        response_business_minutes_n = c.response_business_minutes_n + excluded.response_business_minutes_n,
        resolution_minutes_sum = c.resolution_minutes_sum + excluded.resolution_minutes_sum,
        resolution_minutes_n = c.resolution_minutes_n + excluded.resolution_minutes_n,
        resolution_business_minutes_sum = c.resolution_business_minutes_sum + excluded.resolution_business_minutes_sum,
        resolution_business_minutes_n = c.resolution_business_minutes_n + excluded.resolution_business_minutes_n,
        repair_minutes_sum = c.repair_minutes_sum + excluded.repair_minutes_sum,
        repair_minutes_n = c.repair_minutes_n + excluded.repair_minutes_n,
        repair_business_minutes_sum = c.repair_business_minutes_sum + excluded.repair_business_minutes_sum,
        repair_business_minutes_n = c.repair_business_minutes_n + excluded.repair_business_minutes_n,
        handling_minutes_sum = c.handling_minutes_sum + excluded.handling_minutes_sum,
        handling_minutes_n = c.handling_minutes_n + excluded.handling_minutes_n,
        handling_business_minutes_sum = c.handling_business_minutes_sum + excluded.handling_business_minutes_sum,
        handling_business_minutes_n = c.handling_business_minutes_n + excluded.handling_business_minutes_n
$$;
COMMENT ON FUNCTION aftersales_internal.rollup_add(bigint, aftersales.kpi_rollup_tickets[], aftersales.kpi_rollup_tickets[]) IS
  'Internal: adds the rows added and subtracts the rows removed (those not live) from the KPI rollup cells of every dimension, day and month';

-- Fold one tenant's queue (the caller holds its state row).
CREATE FUNCTION aftersales_internal.rollup_fold(tenant bigint, zone text)
    RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    entries bigint[];
    queued bigint[];
    ids bigint[];
    added aftersales.kpi_rollup_tickets[];
    removed aftersales.kpi_rollup_tickets[];
    total bigint := 0;
BEGIN
    -- in batches of up to 5,000 queue entries; an entry committed after a
    -- batch was read stays for the next batch or fold
    FOR i IN 1 .. 1000000 LOOP
        SELECT pg_catalog.array_agg(q.entry_id), pg_catalog.array_agg(DISTINCT q.ticket_id)
          INTO entries, queued
          FROM (SELECT q0.entry_id, q0.ticket_id FROM aftersales.kpi_rollup_queue q0
                 WHERE q0.tenant_id = rollup_fold.tenant ORDER BY q0.entry_id LIMIT 5000) q;
        EXIT WHEN entries IS NULL;
        ids := aftersales_internal.rollup_affected(tenant, queued);
        added := ARRAY(SELECT r FROM aftersales_internal.rollup_rows(tenant, ids, 'infinity', zone) r);
        removed := ARRAY(SELECT s FROM aftersales.kpi_rollup_tickets s
                          WHERE s.tenant_id = rollup_fold.tenant AND s.ticket_id = ANY (ids));
        PERFORM aftersales_internal.rollup_add(tenant, added, removed);
        DELETE FROM aftersales.kpi_rollup_tickets s WHERE s.tenant_id = rollup_fold.tenant AND s.ticket_id = ANY (ids);
        INSERT INTO aftersales.kpi_rollup_tickets SELECT a.* FROM pg_catalog.unnest(added) a;
        DELETE FROM aftersales.kpi_rollup_queue q WHERE q.tenant_id = rollup_fold.tenant AND q.entry_id = ANY (entries);
        total := total + pg_catalog.cardinality(entries);
    END LOOP;
    RETURN total;
END
$$;
COMMENT ON FUNCTION aftersales_internal.rollup_fold(bigint, text) IS
  'Internal: folds a tenant''s queued tickets into its KPI rollups (cells move by the difference of each ticket''s judgement); returns the queue entries folded';

-- Rebuild [since, until) of a tenant's rollups from the raw rows (the
-- caller holds its state row); the whole history when both are infinite.
CREATE FUNCTION aftersales_internal.rollup_rebuild(tenant bigint, zone text, since timestamptz, until timestamptz)
    RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    entries bigint[];
    d1 date := CASE WHEN pg_catalog.isfinite(since) THEN pg_catalog.timezone(zone, since)::date END;
    d2 date := CASE WHEN pg_catalog.isfinite(until) THEN pg_catalog.timezone(zone, until)::date END;
    whole boolean := NOT pg_catalog.isfinite(since) AND NOT pg_catalog.isfinite(until);
    n bigint;
BEGIN
    IF whole THEN
        -- the queue entries seen now are answered by the rows judged below
        entries := ARRAY(SELECT q.entry_id FROM aftersales.kpi_rollup_queue q WHERE q.tenant_id = rollup_rebuild.tenant);
        DELETE FROM aftersales.kpi_rollup_cells c WHERE c.tenant_id = rollup_rebuild.tenant;
        DELETE FROM aftersales.kpi_rollup_tickets s WHERE s.tenant_id = rollup_rebuild.tenant;
        INSERT INTO aftersales.kpi_rollup_tickets
        SELECT r.* FROM aftersales_internal.rollup_rows(tenant, NULL, 'infinity', zone) r;
    ELSE
        -- whole days: a month's cell is rebuilt from the tickets it holds
        d1 := pg_catalog.date_trunc('month', COALESCE(d1, '-infinity')::timestamp)::date;
        d2 := CASE WHEN d2 IS NULL THEN 'infinity'::date
                   WHEN d2 = pg_catalog.date_trunc('month', d2::timestamp)::date THEN d2
                   ELSE (pg_catalog.date_trunc('month', d2::timestamp) + interval '1 month')::date END;
        DELETE FROM aftersales.kpi_rollup_cells c
         WHERE c.tenant_id = rollup_rebuild.tenant AND c.day >= d1 AND c.day < d2;
        DELETE FROM aftersales.kpi_rollup_tickets s
         WHERE s.tenant_id = rollup_rebuild.tenant AND s.day >= d1 AND s.day < d2;
        INSERT INTO aftersales.kpi_rollup_tickets
        SELECT r.* FROM aftersales_internal.rollup_rows(tenant,
                   ARRAY(SELECT t.ticket_id FROM aftersales.tickets t
                          WHERE t.tenant_id = rollup_rebuild.tenant
                            AND pg_catalog.timezone(zone, t.opened_at)::date >= d1
                            AND pg_catalog.timezone(zone, t.opened_at)::date < d2), 'infinity', zone) r;
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    INSERT INTO aftersales.kpi_rollup_cells (tenant_id, dimension, grain, day, dim_key,
       n_tickets, n_cancelled, n_resolved, n_closed,
       n_unresolved, responded_sum, responded_n, arrived_sum,
       arrived_n, completed_sum, completed_n, on_time_sum,
       on_time_n, ftf_sum, ftf_n, closed_loop_sum,
       closed_loop_n, repeat_sum, repeat_n, reopened_sum,
       reopened_n, csat_good_sum, csat_good_n, problem_resolved_sum,
       problem_resolved_n, sla_first_met, sla_first_n, sla_arrival_met,
       sla_arrival_n, sla_resolution_met, sla_resolution_n, csat_sum,
       csat_n, nps_promoter_sum, nps_detractor_sum, nps_n,
       response_minutes_sum, response_minutes_n, response_business_minutes_sum, response_business_minutes_n,
       resolution_minutes_sum, resolution_minutes_n, resolution_business_minutes_sum, resolution_business_minutes_n,
       repair_minutes_sum, repair_minutes_n, repair_business_minutes_sum, repair_business_minutes_n,
       handling_minutes_sum, handling_minutes_n, handling_business_minutes_sum, handling_business_minutes_n)
    SELECT tenant, x.dimension, g.grain,
           CASE g.grain WHEN 'day' THEN s.day ELSE pg_catalog.date_trunc('month', s.day::timestamp)::date END,
           x.dim_key,
       pg_catalog.sum(s.n_tickets)::bigint AS n_tickets,
       pg_catalog.sum(s.n_cancelled)::bigint AS n_cancelled,
       pg_catalog.sum(s.n_resolved)::bigint AS n_resolved,
       pg_catalog.sum(s.n_closed)::bigint AS n_closed,
       pg_catalog.sum(s.n_unresolved)::bigint AS n_unresolved,
       pg_catalog.sum(s.responded_sum)::bigint AS responded_sum,
       pg_catalog.sum(s.responded_n)::bigint AS responded_n,
       pg_catalog.sum(s.arrived_sum)::bigint AS arrived_sum,
       pg_catalog.sum(s.arrived_n)::bigint AS arrived_n,
       pg_catalog.sum(s.completed_sum)::bigint AS completed_sum,
       pg_catalog.sum(s.completed_n)::bigint AS completed_n,
       pg_catalog.sum(s.on_time_sum)::bigint AS on_time_sum,
       pg_catalog.sum(s.on_time_n)::bigint AS on_time_n,
       pg_catalog.sum(s.ftf_sum)::bigint AS ftf_sum,
       pg_catalog.sum(s.ftf_n)::bigint AS ftf_n,
       pg_catalog.sum(s.closed_loop_sum)::bigint AS closed_loop_sum,
       pg_catalog.sum(s.closed_loop_n)::bigint AS closed_loop_n,
       pg_catalog.sum(s.repeat_sum)::bigint AS repeat_sum,
       pg_catalog.sum(s.repeat_n)::bigint AS repeat_n,
       pg_catalog.sum(s.reopened_sum)::bigint AS reopened_sum,
       pg_catalog.sum(s.reopened_n)::bigint AS reopened_n,
       pg_catalog.sum(s.csat_good_sum)::bigint AS csat_good_sum,
       pg_catalog.sum(s.csat_good_n)::bigint AS csat_good_n,
       pg_catalog.sum(s.problem_resolved_sum)::bigint AS problem_resolved_sum,
       pg_catalog.sum(s.problem_resolved_n)::bigint AS problem_resolved_n,
       pg_catalog.sum(s.sla_first_met)::bigint AS sla_first_met,
       pg_catalog.sum(s.sla_first_n)::bigint AS sla_first_n,
       pg_catalog.sum(s.sla_arrival_met)::bigint AS sla_arrival_met,
       pg_catalog.sum(s.sla_arrival_n)::bigint AS sla_arrival_n,
       pg_catalog.sum(s.sla_resolution_met)::bigint AS sla_resolution_met,
       pg_catalog.sum(s.sla_resolution_n)::bigint AS sla_resolution_n,
       pg_catalog.sum(s.csat_sum)::bigint AS csat_sum,
       pg_catalog.sum(s.csat_n)::bigint AS csat_n,
       pg_catalog.sum(s.nps_promoter_sum)::bigint AS nps_promoter_sum,
       pg_catalog.sum(s.nps_detractor_sum)::bigint AS nps_detractor_sum,
       pg_catalog.sum(s.nps_n)::bigint AS nps_n,
       pg_catalog.sum(s.response_minutes_sum)::numeric AS response_minutes_sum,
       pg_catalog.sum(s.response_minutes_n)::bigint AS response_minutes_n,
       pg_catalog.sum(s.response_business_minutes_sum)::numeric AS response_business_minutes_sum,
       pg_catalog.sum(s.response_business_minutes_n)::bigint AS response_business_minutes_n,
       pg_catalog.sum(s.resolution_minutes_sum)::numeric AS resolution_minutes_sum,
       pg_catalog.sum(s.resolution_minutes_n)::bigint AS resolution_minutes_n,
       pg_catalog.sum(s.resolution_business_minutes_sum)::numeric AS resolution_business_minutes_sum,
       pg_catalog.sum(s.resolution_business_minutes_n)::bigint AS resolution_business_minutes_n,
       pg_catalog.sum(s.repair_minutes_sum)::numeric AS repair_minutes_sum,
       pg_catalog.sum(s.repair_minutes_n)::bigint AS repair_minutes_n,
       pg_catalog.sum(s.repair_business_minutes_sum)::numeric AS repair_business_minutes_sum,
       pg_catalog.sum(s.repair_business_minutes_n)::bigint AS repair_business_minutes_n,
       pg_catalog.sum(s.handling_minutes_sum)::numeric AS handling_minutes_sum,
       pg_catalog.sum(s.handling_minutes_n)::bigint AS handling_minutes_n,
       pg_catalog.sum(s.handling_business_minutes_sum)::numeric AS handling_business_minutes_sum,
       pg_catalog.sum(s.handling_business_minutes_n)::bigint AS handling_business_minutes_n
      FROM aftersales.kpi_rollup_tickets s
     CROSS JOIN LATERAL (VALUES ('all', 'all'), ('tenant', s.tenant_id::text), ('region', s.region),
                             ('province', s.province), ('organisation', s.org_id::text),
                             ('organisation_type', s.org_type), ('product_model', s.model_id::text),
                             ('problem_type', s.problem_type_id::text), ('engineer', s.engineer_id::text),
                             ('priority', s.priority), ('channel', s.channel)) AS x (dimension, dim_key)
     CROSS JOIN (VALUES ('day'), ('month')) AS g (grain)
     WHERE s.tenant_id = rollup_rebuild.tenant AND NOT s.live
       AND (whole OR (s.day >= d1 AND s.day < d2))
     GROUP BY 2, 3, 4, 5;
    IF whole THEN
        DELETE FROM aftersales.kpi_rollup_queue q WHERE q.tenant_id = rollup_rebuild.tenant AND q.entry_id = ANY (entries);
        UPDATE aftersales.kpi_rollup_state st
           SET zone = rollup_rebuild.zone, built_at = pg_catalog.clock_timestamp(), stale_since = NULL, stale_reason = NULL
         WHERE st.tenant_id = rollup_rebuild.tenant;
    END IF;
    RETURN n;
END
$$;
COMMENT ON FUNCTION aftersales_internal.rollup_rebuild(bigint, text, timestamptz, timestamptz) IS
  'Internal: rebuilds a tenant''s KPI rollups of the tickets entered in [since, until) (whole months), or all of them; returns the tickets judged';

-- Lock a tenant's rollup state (creating it), so that folds and rebuilds
-- of a tenant run one at a time.
CREATE FUNCTION aftersales_internal.rollup_lock(tenant bigint)
    RETURNS aftersales.kpi_rollup_state
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st aftersales.kpi_rollup_state;
BEGIN
    INSERT INTO aftersales.kpi_rollup_state (tenant_id, zone)
    VALUES (tenant, aftersales.reporting_zone(tenant))
    ON CONFLICT (tenant_id) DO NOTHING;
    SELECT * INTO st FROM aftersales.kpi_rollup_state s WHERE s.tenant_id = rollup_lock.tenant FOR UPDATE;
    RETURN st;
END
$$;
COMMENT ON FUNCTION aftersales_internal.rollup_lock(bigint) IS
  'Internal: locks (creating it if missing) the KPI rollup state row of a tenant';

CREATE FUNCTION aftersales.fold_kpi_rollups(tenant bigint DEFAULT NULL)
    RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tn bigint;
    st aftersales.kpi_rollup_state;
    total bigint := 0;
BEGIN
    IF tenant IS NOT NULL AND NOT EXISTS (SELECT FROM aftersales.tenants t WHERE t.tenant_id = fold_kpi_rollups.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', tenant
            USING ERRCODE = 'P0002',
                  HINT = 'Fold every tenant with: SELECT aftersales.fold_kpi_rollups();';
    END IF;
    FOR tn IN SELECT DISTINCT q.tenant_id FROM aftersales.kpi_rollup_queue q
               WHERE fold_kpi_rollups.tenant IS NULL OR q.tenant_id = fold_kpi_rollups.tenant
               ORDER BY 1 LOOP
        st := aftersales_internal.rollup_lock(tn);
        IF st.built_at IS NULL THEN
            -- never built (a tenant older than the rollups): build it whole
            PERFORM aftersales_internal.rollup_rebuild(tn, aftersales.reporting_zone(tn), '-infinity', 'infinity');
        ELSE
            total := total + aftersales_internal.rollup_fold(tn, st.zone);
        END IF;
    END LOOP;
    RETURN total;
END
$$;
COMMENT ON FUNCTION aftersales.fold_kpi_rollups(bigint) IS
  'Folds the tickets changed since the last fold into the KPI rollups of a tenant (NULL: every tenant); returns the queue entries folded. Readers are exact without it (they read the queue live); it keeps their reads fast: schedule it every minute (pg_cron) or call it by hand';

CREATE FUNCTION aftersales.rebuild_kpi_rollups(tenant bigint DEFAULT aftersales.current_tenant(),
                                               since timestamptz DEFAULT '-infinity',
                                               until timestamptz DEFAULT 'infinity')
    RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st aftersales.kpi_rollup_state;
BEGIN
    IF tenant IS NULL OR NOT EXISTS (SELECT FROM aftersales.tenants t WHERE t.tenant_id = rebuild_kpi_rollups.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', COALESCE(tenant::text, 'NULL')
            USING ERRCODE = 'P0002',
                  HINT = 'List the tenants with: SELECT tenant_id, name FROM aftersales.tenants;';
    END IF;
    IF since IS NULL OR until IS NULL OR since >= until THEN
        RAISE EXCEPTION 'invalid range [%, %)', COALESCE(since::text, 'NULL'), COALESCE(until::text, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'For example: SELECT aftersales.rebuild_kpi_rollups(1, ''2026-01-01'', ''2026-04-01''); or without a range, the whole history.';
    END IF;
    st := aftersales_internal.rollup_lock(tenant);
    IF (pg_catalog.isfinite(since) OR pg_catalog.isfinite(until))
       AND (st.built_at IS NULL OR st.stale_since IS NOT NULL OR st.zone <> aftersales.reporting_zone(tenant)) THEN
        RAISE EXCEPTION 'the KPI rollups of tenant % must be rebuilt whole', tenant
            USING ERRCODE = '55000',
                  DETAIL = COALESCE('They are stale: ' || st.stale_reason || '.', 'They were never built.'),
                  HINT = pg_catalog.format('Rebuild them whole: SELECT aftersales.rebuild_kpi_rollups(%s);', tenant);
    END IF;
    RETURN aftersales_internal.rollup_rebuild(tenant,
               CASE WHEN pg_catalog.isfinite(since) OR pg_catalog.isfinite(until) THEN st.zone
                    ELSE aftersales.reporting_zone(tenant) END, since, until);
END
$$;
COMMENT ON FUNCTION aftersales.rebuild_kpi_rollups(bigint, timestamptz, timestamptz) IS
  'Rebuilds a tenant''s KPI rollups from the raw rows: the whole history (clears a stale mark, takes the current reporting zone), or the tickets entered in [since, until) in whole months (after a restore of a range); returns the tickets judged';

-- A change that moves past judgements marks the rollups of the tenants it
-- touches stale (kpi_settings of tenant 1 are every tenant's defaults);
-- a tenant with nothing rolled up yet just takes the change.
CREATE FUNCTION aftersales_internal.rollup_stale() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    what text;
BEGIN
    IF TG_TABLE_NAME = 'kpi_settings' THEN
        -- (by name through jsonb: the trigger serves tables without a name)
        IF (pg_catalog.to_jsonb(r) ->> 'name') NOT IN ('response_target_minutes', 'arrival_target_hours',
                'completion_target_hours', 'repeat_window_days', 'csat_good_min') THEN
            RETURN NULL;
        END IF;
        what := pg_catalog.format('KPI setting %s changed', pg_catalog.to_jsonb(r) ->> 'name');
    ELSIF TG_TABLE_NAME = 'reporting_zones' THEN
        what := 'reporting zone changed';
    ELSE
        what := pg_catalog.format('%s changed', pg_catalog.rtrim(TG_TABLE_NAME, 's'));
    END IF;
    UPDATE aftersales.kpi_rollup_state st
       SET zone = CASE WHEN TG_TABLE_NAME = 'reporting_zones' THEN aftersales.reporting_zone(st.tenant_id) ELSE st.zone END
     WHERE (st.tenant_id = r.tenant_id OR (TG_TABLE_NAME = 'kpi_settings' AND r.tenant_id = 1))
       AND NOT EXISTS (SELECT FROM aftersales.kpi_rollup_tickets s WHERE s.tenant_id = st.tenant_id)
       AND NOT EXISTS (SELECT FROM aftersales.kpi_rollup_queue q WHERE q.tenant_id = st.tenant_id);
    UPDATE aftersales.kpi_rollup_state st
       SET stale_since = COALESCE(st.stale_since, pg_catalog.statement_timestamp()),
           stale_reason = COALESCE(st.stale_reason, what)
     WHERE (st.tenant_id = r.tenant_id OR (TG_TABLE_NAME = 'kpi_settings' AND r.tenant_id = 1))
       AND (EXISTS (SELECT FROM aftersales.kpi_rollup_tickets s WHERE s.tenant_id = st.tenant_id)
            OR EXISTS (SELECT FROM aftersales.kpi_rollup_queue q WHERE q.tenant_id = st.tenant_id));
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales_internal.rollup_stale() IS
  'Trigger: a change of a KPI setting, the reporting zone, a calendar or an SLA policy marks the KPI rollups of the tenants it touches stale (until rebuilt)';
CREATE TRIGGER kpi_rollup_stale AFTER INSERT OR UPDATE OR DELETE ON aftersales.kpi_settings
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.rollup_stale();
CREATE TRIGGER kpi_rollup_stale AFTER INSERT OR UPDATE OR DELETE ON aftersales.reporting_zones
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.rollup_stale();
CREATE TRIGGER kpi_rollup_stale AFTER UPDATE OR DELETE ON aftersales.calendars
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.rollup_stale();
CREATE TRIGGER kpi_rollup_stale AFTER UPDATE OR DELETE ON aftersales.sla_policies
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.rollup_stale();

-- A new tenant has nothing to roll up: its rollups are built (empty).
CREATE FUNCTION aftersales_internal.rollup_tenant() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO aftersales.kpi_rollup_state (tenant_id, zone, built_at)
    VALUES (NEW.tenant_id, aftersales.reporting_zone(NEW.tenant_id), pg_catalog.statement_timestamp())
    ON CONFLICT (tenant_id) DO NOTHING;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales_internal.rollup_tenant() IS
  'Trigger, after a tenant is created: its KPI rollups exist (empty, as it has no tickets)';
CREATE TRIGGER kpi_rollup_tenant AFTER INSERT ON aftersales.tenants
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.rollup_tenant();
ALTER TABLE aftersales.tenants ENABLE ALWAYS TRIGGER kpi_rollup_tenant;

-- Tenants that exist now (tenant 1 at install) have no tickets yet.
INSERT INTO aftersales.kpi_rollup_state (tenant_id, zone, built_at)
SELECT t.tenant_id, aftersales.reporting_zone(t.tenant_id), pg_catalog.statement_timestamp()
  FROM aftersales.tenants t
 WHERE NOT EXISTS (SELECT FROM aftersales.tickets k WHERE k.tenant_id = t.tenant_id);

-- ---------------------------------------------------------------------------
-- Reading

-- The grain to read the rollups at for this call, or NULL when they cannot
-- answer it exactly (then the caller computes from the raw rows).
CREATE FUNCTION aftersales_internal.rollup_grain(period text, since timestamptz, until timestamptz,
                                                     as_of timestamptz, zone text, tenant bigint)
    RETURNS text
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st aftersales.kpi_rollup_state;
    latest timestamptz;
    grain text := CASE WHEN period IN ('month', 'quarter', 'year', 'all') THEN 'month' ELSE 'day' END;
BEGIN
    IF tenant IS NULL OR pg_catalog.current_setting('aftersales.kpi_rollups', true) = 'off'
       OR aftersales.current_org_scope() IS NOT NULL THEN
        RETURN NULL;
    END IF;
    SELECT * INTO st FROM aftersales.kpi_rollup_state s WHERE s.tenant_id = rollup_grain.tenant;
    IF NOT FOUND OR st.built_at IS NULL OR st.stale_since IS NOT NULL OR st.zone IS DISTINCT FROM zone THEN
        RETURN NULL;
    END IF;
    -- a range of whole days (whole months at grain month), in the zone
    IF grain = 'month' AND ((pg_catalog.isfinite(since)
                             AND pg_catalog.date_trunc('month', pg_catalog.timezone(zone, since)) <> pg_catalog.timezone(zone, since))
                            OR (pg_catalog.isfinite(until)
                             AND pg_catalog.date_trunc('month', pg_catalog.timezone(zone, until)) <> pg_catalog.timezone(zone, until))) THEN
        grain := 'day';
    END IF;
    IF (pg_catalog.isfinite(since) AND pg_catalog.date_trunc('day', pg_catalog.timezone(zone, since)) <> pg_catalog.timezone(zone, since))
       OR (pg_catalog.isfinite(until) AND pg_catalog.date_trunc('day', pg_catalog.timezone(zone, until)) <> pg_catalog.timezone(zone, until)) THEN
        RETURN NULL;
    END IF;
    -- a long queue (a bulk load not folded yet) would cost a reader more
    -- than the raw path
    IF (SELECT pg_catalog.count(*) FROM (SELECT FROM aftersales.kpi_rollup_queue q
                                          WHERE q.tenant_id = rollup_grain.tenant LIMIT 20001) x) > 20000 THEN
        RETURN NULL;
    END IF;
    -- as_of not before any event: what is folded or queued is what was
    -- known at as_of
    SELECT pg_catalog.max(s.last_event_at) INTO latest
      FROM aftersales.kpi_rollup_tickets s WHERE s.tenant_id = rollup_grain.tenant;
    IF latest > as_of THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT FROM aftersales.kpi_rollup_queue q
                 JOIN aftersales.tickets t ON t.tenant_id = q.tenant_id AND t.ticket_id = q.ticket_id
                WHERE q.tenant_id = rollup_grain.tenant AND t.last_event_at > rollup_grain.as_of) THEN
        RETURN NULL;
    END IF;
    RETURN grain;
END
$$;
COMMENT ON FUNCTION aftersales_internal.rollup_grain(text, timestamptz, timestamptz, timestamptz, text, bigint) IS
  'Internal: day or month when the KPI rollups answer this call exactly and cheaply (one tenant seen whole, built and not stale, the zone they were cut in, a range of whole days or months, as_of not before the latest event, at most 20,000 queued changes, aftersales.kpi_rollups not off); else NULL';

-- What the rollups say per day (or month) and value of a dimension, in
-- one snapshot: the cells, less the folded judgement of the queued
-- tickets, plus their judgement at as_of, plus the live tickets' folded
-- judgement with the misses not yet due at as_of taken out.
CREATE FUNCTION aftersales_internal.rollup_contrib(tenant bigint, dimension text, grain text,
                                                       as_of timestamptz, zone text)
    RETURNS TABLE (day date, dim_key text,
                   n_tickets bigint,
                   n_cancelled bigint,
                   n_resolved bigint,
                   n_closed bigint,
                   n_unresolved bigint,
                   responded_sum bigint,
                   responded_n bigint,
                   arrived_sum bigint,
                   arrived_n bigint,
                   completed_sum bigint,
                   completed_n bigint,
                   on_time_sum bigint,
                   on_time_n bigint,
                   ftf_sum bigint,
                   ftf_n bigint,
                   closed_loop_sum bigint,
                   closed_loop_n bigint,
                   repeat_sum bigint,
                   repeat_n bigint,
                   reopened_sum bigint,
                   reopened_n bigint,
                   csat_good_sum bigint,
                   csat_good_n bigint,
                   problem_resolved_sum bigint,
                   problem_resolved_n bigint,
                   sla_first_met bigint,
                   sla_first_n bigint,
                   sla_arrival_met bigint,
                   sla_arrival_n bigint,
                   sla_resolution_met bigint,
                   sla_resolution_n bigint,
                   csat_sum bigint,
                   csat_n bigint,
                   nps_promoter_sum bigint,
                   nps_detractor_sum bigint,
                   nps_n bigint,
                   response_minutes_sum numeric,
                   response_minutes_n bigint,
                   response_business_minutes_sum numeric,
                   response_business_minutes_n bigint,
                   resolution_minutes_sum numeric,
                   resolution_minutes_n bigint,
                   resolution_business_minutes_sum numeric,
                   resolution_business_minutes_n bigint,
                   repair_minutes_sum numeric,
                   repair_minutes_n bigint,
                   repair_business_minutes_sum numeric,
                   repair_business_minutes_n bigint,
                   handling_minutes_sum numeric,
                   handling_minutes_n bigint,
                   handling_business_minutes_sum numeric,
                   handling_business_minutes_n bigint)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    queued bigint[];
    ids bigint[];
BEGIN
    queued := ARRAY(SELECT DISTINCT q.ticket_id FROM aftersales.kpi_rollup_queue q WHERE q.tenant_id = rollup_contrib.tenant);
    ids := COALESCE(aftersales_internal.rollup_affected(tenant, queued), '{}');
    RETURN QUERY
    SELECT c.day, c.dim_key,
       c.n_tickets, c.n_cancelled, c.n_resolved, c.n_closed,
       c.n_unresolved, c.responded_sum, c.responded_n, c.arrived_sum,
       c.arrived_n, c.completed_sum, c.completed_n, c.on_time_sum,
       c.on_time_n, c.ftf_sum, c.ftf_n, c.closed_loop_sum,
       c.closed_loop_n, c.repeat_sum, c.repeat_n, c.reopened_sum,
       c.reopened_n, c.csat_good_sum, c.csat_good_n, c.problem_resolved_sum,
       c.problem_resolved_n, c.sla_first_met, c.sla_first_n, c.sla_arrival_met,
       c.sla_arrival_n, c.sla_resolution_met, c.sla_resolution_n, c.csat_sum,
       c.csat_n, c.nps_promoter_sum, c.nps_detractor_sum, c.nps_n,
       c.response_minutes_sum, c.response_minutes_n, c.response_business_minutes_sum, c.response_business_minutes_n,
       c.resolution_minutes_sum, c.resolution_minutes_n, c.resolution_business_minutes_sum, c.resolution_business_minutes_n,
       c.repair_minutes_sum, c.repair_minutes_n, c.repair_business_minutes_sum, c.repair_business_minutes_n,
       c.handling_minutes_sum, c.handling_minutes_n, c.handling_business_minutes_sum, c.handling_business_minutes_n
      FROM aftersales.kpi_rollup_cells c
     WHERE c.tenant_id = rollup_contrib.tenant AND c.dimension = rollup_contrib.dimension
       AND c.grain = rollup_contrib.grain
    UNION ALL
    SELECT CASE rollup_contrib.grain WHEN 'day' THEN s.day ELSE pg_catalog.date_trunc('month', s.day::timestamp)::date END,
           CASE rollup_contrib.dimension WHEN 'all' THEN 'all' WHEN 'tenant' THEN s.tenant_id::text
                 WHEN 'region' THEN s.region WHEN 'province' THEN s.province
                 WHEN 'organisation' THEN s.org_id::text WHEN 'organisation_type' THEN s.org_type
                 WHEN 'product_model' THEN s.model_id::text WHEN 'problem_type' THEN s.problem_type_id::text
                 WHEN 'engineer' THEN s.engineer_id::text WHEN 'priority' THEN s.priority
                 WHEN 'channel' THEN s.channel END,
       -s.n_tickets,
       -s.n_cancelled,
       -s.n_resolved,
       -s.n_closed,
       -s.n_unresolved,
       -s.responded_sum,
       -s.responded_n,
       -s.arrived_sum,
       -s.arrived_n,
       -s.completed_sum,
       -s.completed_n,
       -s.on_time_sum,
       -s.on_time_n,
       -s.ftf_sum,
       -s.ftf_n,
       -s.closed_loop_sum,
       -s.closed_loop_n,
       -s.repeat_sum,
       -s.repeat_n,
       -s.reopened_sum,
       -s.reopened_n,
       -s.csat_good_sum,
       -s.csat_good_n,
       -s.problem_resolved_sum,
       -s.problem_resolved_n,
       -s.sla_first_met,
       -s.sla_first_n,
       -s.sla_arrival_met,
       -s.sla_arrival_n,
       -s.sla_resolution_met,
       -s.sla_resolution_n,
       -s.csat_sum,
       -s.csat_n,
       -s.nps_promoter_sum,
       -s.nps_detractor_sum,
       -s.nps_n,
       -s.response_minutes_sum,
       -s.response_minutes_n,
       -s.response_business_minutes_sum,
       -s.response_business_minutes_n,
       -s.resolution_minutes_sum,
       -s.resolution_minutes_n,
       -s.resolution_business_minutes_sum,
       -s.resolution_business_minutes_n,
       -s.repair_minutes_sum,
       -s.repair_minutes_n,
       -s.repair_business_minutes_sum,
       -s.repair_business_minutes_n,
       -s.handling_minutes_sum,
       -s.handling_minutes_n,
       -s.handling_business_minutes_sum,
       -s.handling_business_minutes_n
      FROM aftersales.kpi_rollup_tickets s
     WHERE s.tenant_id = rollup_contrib.tenant AND s.ticket_id = ANY (ids) AND NOT s.live
    UNION ALL
    -- a live ticket not queued: its folded judgement (at infinity) less the
    -- misses not yet due at as_of (nothing else moves without an event)
    SELECT CASE rollup_contrib.grain WHEN 'day' THEN s.day ELSE pg_catalog.date_trunc('month', s.day::timestamp)::date END,
           CASE rollup_contrib.dimension WHEN 'all' THEN 'all' WHEN 'tenant' THEN s.tenant_id::text
                 WHEN 'region' THEN s.region WHEN 'province' THEN s.province
                 WHEN 'organisation' THEN s.org_id::text WHEN 'organisation_type' THEN s.org_type
                 WHEN 'product_model' THEN s.model_id::text WHEN 'problem_type' THEN s.problem_type_id::text
                 WHEN 'engineer' THEN s.engineer_id::text WHEN 'priority' THEN s.priority
                 WHEN 'channel' THEN s.channel END,
       s.n_tickets,
       s.n_cancelled,
       s.n_resolved,
       s.n_closed,
       s.n_unresolved,
       s.responded_sum,
       s.responded_n - COALESCE((s.response_due >= rollup_contrib.as_of)::integer, 0),
       s.arrived_sum,
       s.arrived_n - COALESCE((s.arrival_due >= rollup_contrib.as_of)::integer, 0),
       s.completed_sum,
       s.completed_n - COALESCE((s.completion_due >= rollup_contrib.as_of)::integer, 0),
       s.on_time_sum,
       s.on_time_n - COALESCE((s.promised_due >= rollup_contrib.as_of)::integer, 0),
       s.ftf_sum,
       s.ftf_n,
       s.closed_loop_sum,
       s.closed_loop_n,
       s.repeat_sum,
       s.repeat_n,
       s.reopened_sum,
       s.reopened_n,
       s.csat_good_sum,
       s.csat_good_n,
       s.problem_resolved_sum,
       s.problem_resolved_n,
       s.sla_first_met,
       s.sla_first_n,
       s.sla_arrival_met,
       s.sla_arrival_n,
       s.sla_resolution_met,
       s.sla_resolution_n,
       s.csat_sum,
       s.csat_n,
       s.nps_promoter_sum,
       s.nps_detractor_sum,
       s.nps_n,
       s.response_minutes_sum,
       s.response_minutes_n,
       s.response_business_minutes_sum,
       s.response_business_minutes_n,
       s.resolution_minutes_sum,
       s.resolution_minutes_n,
       s.resolution_business_minutes_sum,
       s.resolution_business_minutes_n,
       s.repair_minutes_sum,
       s.repair_minutes_n,
       s.repair_business_minutes_sum,
       s.repair_business_minutes_n,
       s.handling_minutes_sum,
       s.handling_minutes_n,
       s.handling_business_minutes_sum,
       s.handling_business_minutes_n
      FROM aftersales.kpi_rollup_tickets s
     WHERE s.tenant_id = rollup_contrib.tenant AND s.live AND s.ticket_id <> ALL (ids)
    UNION ALL
    SELECT CASE rollup_contrib.grain WHEN 'day' THEN n.day ELSE pg_catalog.date_trunc('month', n.day::timestamp)::date END,
           CASE rollup_contrib.dimension WHEN 'all' THEN 'all' WHEN 'tenant' THEN n.tenant_id::text
                 WHEN 'region' THEN n.region WHEN 'province' THEN n.province
                 WHEN 'organisation' THEN n.org_id::text WHEN 'organisation_type' THEN n.org_type
                 WHEN 'product_model' THEN n.model_id::text WHEN 'problem_type' THEN n.problem_type_id::text
                 WHEN 'engineer' THEN n.engineer_id::text WHEN 'priority' THEN n.priority
                 WHEN 'channel' THEN n.channel END,
       n.n_tickets, n.n_cancelled, n.n_resolved, n.n_closed,
       n.n_unresolved, n.responded_sum, n.responded_n, n.arrived_sum,
       n.arrived_n, n.completed_sum, n.completed_n, n.on_time_sum,
       n.on_time_n, n.ftf_sum, n.ftf_n, n.closed_loop_sum,
       n.closed_loop_n, n.repeat_sum, n.repeat_n, n.reopened_sum,
       n.reopened_n, n.csat_good_sum, n.csat_good_n, n.problem_resolved_sum,
       n.problem_resolved_n, n.sla_first_met, n.sla_first_n, n.sla_arrival_met,
       n.sla_arrival_n, n.sla_resolution_met, n.sla_resolution_n, n.csat_sum,
       n.csat_n, n.nps_promoter_sum, n.nps_detractor_sum, n.nps_n,
       n.response_minutes_sum, n.response_minutes_n, n.response_business_minutes_sum, n.response_business_minutes_n,
       n.resolution_minutes_sum, n.resolution_minutes_n, n.resolution_business_minutes_sum, n.resolution_business_minutes_n,
       n.repair_minutes_sum, n.repair_minutes_n, n.repair_business_minutes_sum, n.repair_business_minutes_n,
       n.handling_minutes_sum, n.handling_minutes_n, n.handling_business_minutes_sum, n.handling_business_minutes_n
      FROM aftersales_internal.rollup_rows(tenant, ids, as_of, zone) n;
END
$$;
COMMENT ON FUNCTION aftersales_internal.rollup_contrib(bigint, text, text, timestamptz, text) IS
  'Internal: the KPI rollup sums of a tenant by day or month and value of a dimension, current at as_of (cells corrected by the queued and live tickets, in one snapshot); rows of one key and day may repeat (sum them)';

-- The label of a dimension value, as the KPI functions show it.
CREATE FUNCTION aftersales_internal.rollup_label(tenant bigint, dimension text, dim_key text)
    RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE dimension
         WHEN 'tenant' THEN (SELECT t.name FROM aftersales.tenants t WHERE t.tenant_id = dim_key::bigint)
         WHEN 'organisation' THEN (SELECT o.name FROM aftersales.organisations o
                                    WHERE o.tenant_id = tenant AND o.org_id = dim_key::bigint)
         WHEN 'organisation_type' THEN CASE dim_key WHEN 'headquarters' THEN '总部' WHEN 'representative_office' THEN '代表处'
                                                    WHEN 'dealer' THEN '经销商' WHEN 'supplier' THEN '供应商' END
         WHEN 'product_model' THEN (SELECT m.name FROM aftersales.product_models m
                                     WHERE m.tenant_id = tenant AND m.model_id = dim_key::bigint)
         WHEN 'problem_type' THEN (SELECT p.name FROM aftersales.problem_types p
                                    WHERE p.tenant_id = tenant AND p.problem_type_id = dim_key::bigint)
         WHEN 'engineer' THEN (SELECT e.name FROM aftersales.engineers e
                                WHERE e.tenant_id = tenant AND e.engineer_id = dim_key::bigint)
         ELSE dim_key END
$$;
COMMENT ON FUNCTION aftersales_internal.rollup_label(bigint, text, text) IS
  'Internal: the label (dim_name) of a value of a KPI dimension';

CREATE FUNCTION aftersales_internal.rollup_service(period text, dimension text, since timestamptz, until timestamptz,
                                                       as_of timestamptz, zone text, tenant bigint, grain text)
    RETURNS TABLE (period_start date, dim_key text, dim_name text,
                   tickets bigint, cancelled bigint, resolved bigint, closed bigint, unresolved bigint,
                   response_rate numeric, arrival_rate numeric, completion_rate numeric,
                   on_time_completion_rate numeric,
                   sla_first_contact_rate numeric, sla_arrival_rate numeric, sla_resolution_rate numeric,
                   avg_first_response_minutes numeric, avg_first_response_business_minutes numeric,
                   avg_resolution_minutes numeric, avg_resolution_business_minutes numeric,
                   mttr_minutes numeric, mttr_business_minutes numeric,
                   first_time_fix_rate numeric, closed_loop_rate numeric, problem_resolution_rate numeric,
                   repeat_problem_rate numeric,
                   reopen_rate numeric, csat_avg numeric, csat_good_share numeric, nps numeric,
                   csat_responses bigint, nps_responses bigint)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    d record := aftersales_internal.kpi_dimension_sql(dimension);
BEGIN
    -- avg(x) of kpi_service is sum(x) / count(x) (numeric_div), as here
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.period_start, q.dim_key, aftersales_internal.rollup_label($1, $2, q.dim_key),
       q.n_tickets, q.n_cancelled, q.n_resolved, q.n_closed, q.n_unresolved,
       pg_catalog.round(q.responded_sum / NULLIF(q.responded_n, 0), 4),
       pg_catalog.round(q.arrived_sum / NULLIF(q.arrived_n, 0), 4),
       pg_catalog.round(q.completed_sum / NULLIF(q.completed_n, 0), 4),
       pg_catalog.round(q.on_time_sum / NULLIF(q.on_time_n, 0), 4),
       pg_catalog.round(q.sla_first_met / NULLIF(q.sla_first_n, 0), 4),
       pg_catalog.round(q.sla_arrival_met / NULLIF(q.sla_arrival_n, 0), 4),
       pg_catalog.round(q.sla_resolution_met / NULLIF(q.sla_resolution_n, 0), 4),
       pg_catalog.round(q.response_minutes_sum / NULLIF(q.response_minutes_n, 0), 2),
       pg_catalog.round(q.response_business_minutes_sum / NULLIF(q.response_business_minutes_n, 0), 2),
       pg_catalog.round(q.resolution_minutes_sum / NULLIF(q.resolution_minutes_n, 0), 2),
       pg_catalog.round(q.resolution_business_minutes_sum / NULLIF(q.resolution_business_minutes_n, 0), 2),
       pg_catalog.round(q.repair_minutes_sum / NULLIF(q.repair_minutes_n, 0), 2),
       pg_catalog.round(q.repair_business_minutes_sum / NULLIF(q.repair_business_minutes_n, 0), 2),
       pg_catalog.round(q.ftf_sum / NULLIF(q.ftf_n, 0), 4),
       pg_catalog.round(q.closed_loop_sum / NULLIF(q.closed_loop_n, 0), 4),
       pg_catalog.round(q.problem_resolved_sum / NULLIF(q.problem_resolved_n, 0), 4),
       pg_catalog.round(q.repeat_sum / NULLIF(q.repeat_n, 0), 4),
       pg_catalog.round(q.reopened_sum / NULLIF(q.reopened_n, 0), 4),
       pg_catalog.round(q.csat_sum / NULLIF(q.csat_n, 0), 2),
       pg_catalog.round(q.csat_good_sum / NULLIF(q.csat_good_n, 0), 4),
       pg_catalog.round(100 * (q.nps_promoter_sum / NULLIF(q.nps_n, 0) - q.nps_detractor_sum / NULLIF(q.nps_n, 0)), 1),
       q.csat_n::bigint, q.nps_n::bigint
  FROM (SELECT %1$s AS period_start, c.dim_key,
               pg_catalog.sum(c.n_tickets)::bigint AS n_tickets, pg_catalog.sum(c.n_cancelled)::bigint AS n_cancelled,
               pg_catalog.sum(c.n_resolved)::bigint AS n_resolved, pg_catalog.sum(c.n_closed)::bigint AS n_closed,
               pg_catalog.sum(c.n_unresolved)::bigint AS n_unresolved,
               pg_catalog.sum(c.responded_sum) AS responded_sum, pg_catalog.sum(c.responded_n) AS responded_n,
               pg_catalog.sum(c.arrived_sum) AS arrived_sum, pg_catalog.sum(c.arrived_n) AS arrived_n,
               pg_catalog.sum(c.completed_sum) AS completed_sum, pg_catalog.sum(c.completed_n) AS completed_n,
               pg_catalog.sum(c.on_time_sum) AS on_time_sum, pg_catalog.sum(c.on_time_n) AS on_time_n,
               pg_catalog.sum(c.sla_first_met) AS sla_first_met, pg_catalog.sum(c.sla_first_n) AS sla_first_n,
               pg_catalog.sum(c.sla_arrival_met) AS sla_arrival_met, pg_catalog.sum(c.sla_arrival_n) AS sla_arrival_n,
               pg_catalog.sum(c.sla_resolution_met) AS sla_resolution_met, pg_catalog.sum(c.sla_resolution_n) AS sla_resolution_n,
               pg_catalog.sum(c.response_minutes_sum) AS response_minutes_sum, pg_catalog.sum(c.response_minutes_n) AS response_minutes_n,
               pg_catalog.sum(c.response_business_minutes_sum) AS response_business_minutes_sum,
               pg_catalog.sum(c.response_business_minutes_n) AS response_business_minutes_n,
               pg_catalog.sum(c.resolution_minutes_sum) AS resolution_minutes_sum, pg_catalog.sum(c.resolution_minutes_n) AS resolution_minutes_n,
               pg_catalog.sum(c.resolution_business_minutes_sum) AS resolution_business_minutes_sum,
               pg_catalog.sum(c.resolution_business_minutes_n) AS resolution_business_minutes_n,
               pg_catalog.sum(c.repair_minutes_sum) AS repair_minutes_sum, pg_catalog.sum(c.repair_minutes_n) AS repair_minutes_n,
               pg_catalog.sum(c.repair_business_minutes_sum) AS repair_business_minutes_sum,
               pg_catalog.sum(c.repair_business_minutes_n) AS repair_business_minutes_n,
               pg_catalog.sum(c.ftf_sum) AS ftf_sum, pg_catalog.sum(c.ftf_n) AS ftf_n,
               pg_catalog.sum(c.closed_loop_sum) AS closed_loop_sum, pg_catalog.sum(c.closed_loop_n) AS closed_loop_n,
               pg_catalog.sum(c.problem_resolved_sum) AS problem_resolved_sum, pg_catalog.sum(c.problem_resolved_n) AS problem_resolved_n,
               pg_catalog.sum(c.repeat_sum) AS repeat_sum, pg_catalog.sum(c.repeat_n) AS repeat_n,
               pg_catalog.sum(c.reopened_sum) AS reopened_sum, pg_catalog.sum(c.reopened_n) AS reopened_n,
               pg_catalog.sum(c.csat_sum) AS csat_sum, pg_catalog.sum(c.csat_n) AS csat_n,
               pg_catalog.sum(c.csat_good_sum) AS csat_good_sum, pg_catalog.sum(c.csat_good_n) AS csat_good_n,
               pg_catalog.sum(c.nps_promoter_sum) AS nps_promoter_sum, pg_catalog.sum(c.nps_detractor_sum) AS nps_detractor_sum,
               pg_catalog.sum(c.nps_n) AS nps_n
          FROM aftersales_internal.rollup_contrib($1, $2, $3, $4, $5) c
         WHERE ($6::date IS NULL OR c.day >= $6) AND ($7::date IS NULL OR c.day < $7)
         GROUP BY 1, 2
        HAVING pg_catalog.sum(c.n_tickets) > 0) q
 ORDER BY q.period_start, %2$s$q$,
        CASE WHEN period = 'all' THEN 'NULL::date'
             ELSE pg_catalog.format('pg_catalog.date_trunc(%L, c.day::timestamp)::date', period) END,
        d.order_sql)
    USING tenant, dimension, grain, as_of, zone,
          CASE WHEN pg_catalog.isfinite(since) THEN pg_catalog.timezone(zone, since)::date END,
          CASE WHEN pg_catalog.isfinite(until) THEN pg_catalog.timezone(zone, until)::date END;
END
$$;
COMMENT ON FUNCTION aftersales_internal.rollup_service(text, text, timestamptz, timestamptz, timestamptz, text, bigint, text) IS
  'Internal: kpi_service answered from the KPI rollups (same parameters, checked by the caller, and the grain)';

CREATE FUNCTION aftersales_internal.rollup_staff(period text, since timestamptz, until timestamptz,
                                                     as_of timestamptz, zone text, tenant bigint, grain text)
    RETURNS TABLE (period_start date, engineer_id bigint, engineer_name text, org_id bigint, org_name text,
                   org_type text, tickets bigint, resolved bigint, unresolved bigint,
                   avg_handling_minutes numeric, avg_handling_business_minutes numeric,
                   total_handling_minutes numeric, first_time_fix_rate numeric, csat_avg numeric)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.period_start, e.engineer_id, e.name, e.org_id, o.name, o.org_type,
       q.n_tickets, q.n_resolved, q.n_unresolved,
       pg_catalog.round(q.handling_sum / NULLIF(q.handling_n, 0), 2),
       pg_catalog.round(q.handling_business_sum / NULLIF(q.handling_n_business, 0), 2),
       pg_catalog.round(CASE WHEN q.handling_n > 0 THEN q.handling_sum END, 2),
       pg_catalog.round(q.ftf_sum / NULLIF(q.ftf_n, 0), 4),
       pg_catalog.round(q.csat_sum / NULLIF(q.csat_n, 0), 2)
  FROM (SELECT %1$s AS period_start, c.dim_key,
               pg_catalog.sum(c.n_tickets - c.n_cancelled)::bigint AS n_tickets,
               pg_catalog.sum(c.n_resolved)::bigint AS n_resolved, pg_catalog.sum(c.n_unresolved)::bigint AS n_unresolved,
               pg_catalog.sum(c.handling_minutes_sum) AS handling_sum, pg_catalog.sum(c.handling_minutes_n) AS handling_n,
               pg_catalog.sum(c.handling_business_minutes_sum) AS handling_business_sum,
               pg_catalog.sum(c.handling_business_minutes_n) AS handling_n_business,
               pg_catalog.sum(c.ftf_sum) AS ftf_sum, pg_catalog.sum(c.ftf_n) AS ftf_n,
               pg_catalog.sum(c.csat_sum) AS csat_sum, pg_catalog.sum(c.csat_n) AS csat_n
          FROM aftersales_internal.rollup_contrib($1, 'engineer', $2, $3, $4) c
         WHERE c.dim_key IS NOT NULL AND ($5::date IS NULL OR c.day >= $5) AND ($6::date IS NULL OR c.day < $6)
         GROUP BY 1, 2
        HAVING pg_catalog.sum(c.n_tickets - c.n_cancelled) > 0) q
  JOIN aftersales.engineers e ON e.tenant_id = $1 AND e.engineer_id = q.dim_key::bigint
  LEFT JOIN aftersales.organisations o ON o.tenant_id = e.tenant_id AND o.org_id = e.org_id
 ORDER BY q.period_start, e.engineer_id$q$,
        CASE WHEN period = 'all' THEN 'NULL::date'
             ELSE pg_catalog.format('pg_catalog.date_trunc(%L, c.day::timestamp)::date', period) END)
    USING tenant, grain, as_of, zone,
          CASE WHEN pg_catalog.isfinite(since) THEN pg_catalog.timezone(zone, since)::date END,
          CASE WHEN pg_catalog.isfinite(until) THEN pg_catalog.timezone(zone, until)::date END;
END
$$;
COMMENT ON FUNCTION aftersales_internal.rollup_staff(text, timestamptz, timestamptz, timestamptz, text, bigint, text) IS
  'Internal: kpi_staff answered from the KPI rollups (same parameters, checked by the caller, and the grain)';

-- ---------------------------------------------------------------------------
-- The check: rollups against the raw recomputation

CREATE FUNCTION aftersales.check_kpi_rollups(tenant bigint DEFAULT aftersales.current_tenant(),
                                             as_of timestamptz DEFAULT aftersales.now())
    RETURNS TABLE (tenant_id bigint, dimension text, grain text, day date, dim_key text, measure text,
                   rollup numeric, recomputed numeric)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    st aftersales.kpi_rollup_state;
BEGIN
    SELECT * INTO st FROM aftersales.kpi_rollup_state s WHERE s.tenant_id = check_kpi_rollups.tenant;
    IF NOT FOUND OR st.built_at IS NULL THEN
        RAISE EXCEPTION 'tenant % has no KPI rollups', COALESCE(tenant::text, 'NULL')
            USING ERRCODE = 'P0002',
                  HINT = 'Build them with: SELECT aftersales.rebuild_kpi_rollups();';
    END IF;
    IF aftersales_internal.rollup_grain('day', '-infinity', 'infinity', as_of, st.zone, tenant) IS NULL
       AND st.stale_since IS NULL THEN
        RAISE EXCEPTION 'the KPI rollups of tenant % cannot answer as of %', tenant, as_of
            USING ERRCODE = '55000',
                  DETAIL = 'They answer for the whole tenant, as of an instant not before its latest event, with aftersales.kpi_rollups not off.',
                  HINT = 'Check them as of now: SELECT * FROM aftersales.check_kpi_rollups();';
    END IF;
    -- stale rollups are listed as they differ (that is what stale means)
    RETURN QUERY
    WITH r AS (
        SELECT x.dimension, g.grain, c.day, c.dim_key,
       pg_catalog.sum(c.n_tickets)::bigint AS n_tickets,
       pg_catalog.sum(c.n_cancelled)::bigint AS n_cancelled,
       pg_catalog.sum(c.n_resolved)::bigint AS n_resolved,
       pg_catalog.sum(c.n_closed)::bigint AS n_closed,
       pg_catalog.sum(c.n_unresolved)::bigint AS n_unresolved,
       pg_catalog.sum(c.responded_sum)::bigint AS responded_sum,
       pg_catalog.sum(c.responded_n)::bigint AS responded_n,
       pg_catalog.sum(c.arrived_sum)::bigint AS arrived_sum,
       pg_catalog.sum(c.arrived_n)::bigint AS arrived_n,
       pg_catalog.sum(c.completed_sum)::bigint AS completed_sum,
       pg_catalog.sum(c.completed_n)::bigint AS completed_n,
       pg_catalog.sum(c.on_time_sum)::bigint AS on_time_sum,
       pg_catalog.sum(c.on_time_n)::bigint AS on_time_n,
       pg_catalog.sum(c.ftf_sum)::bigint AS ftf_sum,
       pg_catalog.sum(c.ftf_n)::bigint AS ftf_n,
       pg_catalog.sum(c.closed_loop_sum)::bigint AS closed_loop_sum,
       pg_catalog.sum(c.closed_loop_n)::bigint AS closed_loop_n,
       pg_catalog.sum(c.repeat_sum)::bigint AS repeat_sum,
       pg_catalog.sum(c.repeat_n)::bigint AS repeat_n,
       pg_catalog.sum(c.reopened_sum)::bigint AS reopened_sum,
       pg_catalog.sum(c.reopened_n)::bigint AS reopened_n,
       pg_catalog.sum(c.csat_good_sum)::bigint AS csat_good_sum,
       pg_catalog.sum(c.csat_good_n)::bigint AS csat_good_n,
       pg_catalog.sum(c.problem_resolved_sum)::bigint AS problem_resolved_sum,
       pg_catalog.sum(c.problem_resolved_n)::bigint AS problem_resolved_n,
       pg_catalog.sum(c.sla_first_met)::bigint AS sla_first_met,
       pg_catalog.sum(c.sla_first_n)::bigint AS sla_first_n,
       pg_catalog.sum(c.sla_arrival_met)::bigint AS sla_arrival_met,
       pg_catalog.sum(c.sla_arrival_n)::bigint AS sla_arrival_n,
       pg_catalog.sum(c.sla_resolution_met)::bigint AS sla_resolution_met,
       pg_catalog.sum(c.sla_resolution_n)::bigint AS sla_resolution_n,
       pg_catalog.sum(c.csat_sum)::bigint AS csat_sum,
       pg_catalog.sum(c.csat_n)::bigint AS csat_n,
       pg_catalog.sum(c.nps_promoter_sum)::bigint AS nps_promoter_sum,
       pg_catalog.sum(c.nps_detractor_sum)::bigint AS nps_detractor_sum,
       pg_catalog.sum(c.nps_n)::bigint AS nps_n,
       pg_catalog.sum(c.response_minutes_sum)::numeric AS response_minutes_sum,
       pg_catalog.sum(c.response_minutes_n)::bigint AS response_minutes_n,
       pg_catalog.sum(c.response_business_minutes_sum)::numeric AS response_business_minutes_sum,
       pg_catalog.sum(c.response_business_minutes_n)::bigint AS response_business_minutes_n,
       pg_catalog.sum(c.resolution_minutes_sum)::numeric AS resolution_minutes_sum,
       pg_catalog.sum(c.resolution_minutes_n)::bigint AS resolution_minutes_n,
       pg_catalog.sum(c.resolution_business_minutes_sum)::numeric AS resolution_business_minutes_sum,
       pg_catalog.sum(c.resolution_business_minutes_n)::bigint AS resolution_business_minutes_n,
       pg_catalog.sum(c.repair_minutes_sum)::numeric AS repair_minutes_sum,
       pg_catalog.sum(c.repair_minutes_n)::bigint AS repair_minutes_n,
       pg_catalog.sum(c.repair_business_minutes_sum)::numeric AS repair_business_minutes_sum,
       pg_catalog.sum(c.repair_business_minutes_n)::bigint AS repair_business_minutes_n,
       pg_catalog.sum(c.handling_minutes_sum)::numeric AS handling_minutes_sum,
       pg_catalog.sum(c.handling_minutes_n)::bigint AS handling_minutes_n,
       pg_catalog.sum(c.handling_business_minutes_sum)::numeric AS handling_business_minutes_sum,
       pg_catalog.sum(c.handling_business_minutes_n)::bigint AS handling_business_minutes_n
          FROM (VALUES ('all'), ('tenant'), ('region'), ('province'), ('organisation'), ('organisation_type'),
                       ('product_model'), ('problem_type'), ('engineer'), ('priority'), ('channel')) AS x (dimension)
         CROSS JOIN (VALUES ('day'), ('month')) AS g (grain)
         CROSS JOIN LATERAL aftersales_internal.rollup_contrib(check_kpi_rollups.tenant, x.dimension, g.grain,
                                                                  check_kpi_rollups.as_of, st.zone) c
         GROUP BY 1, 2, 3, 4
    ), f AS (
        SELECT f.tenant_id, pg_catalog.timezone(st.zone, f.opened_at)::date AS day, f.region, f.province,
               f.org_id, f.org_type, f.model_id, f.problem_type_id, f.engineer_id, f.priority, f.channel,
       (1)::bigint AS n_tickets,
       (f.cancelled)::bigint AS n_cancelled,
       ((f.resolution_minutes IS NOT NULL)::integer)::bigint AS n_resolved,
       ((f.status = 'closed')::integer)::bigint AS n_closed,
       ((f.status NOT IN ('resolved', 'closed', 'cancelled'))::integer)::bigint AS n_unresolved,
       (COALESCE(f.responded_in_target, 0))::bigint AS responded_sum,
       ((f.responded_in_target IS NOT NULL)::integer)::bigint AS responded_n,
       (COALESCE(f.arrived_in_target, 0))::bigint AS arrived_sum,
       ((f.arrived_in_target IS NOT NULL)::integer)::bigint AS arrived_n,
       (COALESCE(f.completed_in_target, 0))::bigint AS completed_sum,
       ((f.completed_in_target IS NOT NULL)::integer)::bigint AS completed_n,
       (COALESCE(f.completed_on_time, 0))::bigint AS on_time_sum,
       ((f.completed_on_time IS NOT NULL)::integer)::bigint AS on_time_n,
       (COALESCE(f.first_time_fix, 0))::bigint AS ftf_sum,
       ((f.first_time_fix IS NOT NULL)::integer)::bigint AS ftf_n,
       (COALESCE(f.closed_loop, 0))::bigint AS closed_loop_sum,
       ((f.closed_loop IS NOT NULL)::integer)::bigint AS closed_loop_n,
       (COALESCE(f.repeat_problem, 0))::bigint AS repeat_sum,
       ((f.repeat_problem IS NOT NULL)::integer)::bigint AS repeat_n,
       (COALESCE(f.reopened, 0))::bigint AS reopened_sum,
       ((f.reopened IS NOT NULL)::integer)::bigint AS reopened_n,
       (COALESCE(f.csat_good, 0))::bigint AS csat_good_sum,
       ((f.csat_good IS NOT NULL)::integer)::bigint AS csat_good_n,
       (CASE WHEN f.cancelled = 0 THEN (f.status IN ('resolved', 'closed'))::integer ELSE 0 END)::bigint AS problem_resolved_sum,
       ((f.cancelled = 0)::integer)::bigint AS problem_resolved_n,
       (COALESCE((f.sla_first_response = 'met')::integer, 0))::bigint AS sla_first_met,
       (COALESCE((f.sla_first_response IN ('met', 'breached'))::integer, 0))::bigint AS sla_first_n,
       (COALESCE((f.sla_arrival = 'met')::integer, 0))::bigint AS sla_arrival_met,
       (COALESCE((f.sla_arrival IN ('met', 'breached'))::integer, 0))::bigint AS sla_arrival_n,
       (COALESCE((f.sla_resolution = 'met')::integer, 0))::bigint AS sla_resolution_met,
       (COALESCE((f.sla_resolution IN ('met', 'breached'))::integer, 0))::bigint AS sla_resolution_n,
       (COALESCE(f.csat_score, 0))::bigint AS csat_sum,
       ((f.csat_score IS NOT NULL)::integer)::bigint AS csat_n,
       (COALESCE(f.nps_promoter, 0))::bigint AS nps_promoter_sum,
       (COALESCE(f.nps_detractor, 0))::bigint AS nps_detractor_sum,
       ((f.nps_score IS NOT NULL)::integer)::bigint AS nps_n,
       (COALESCE(f.response_minutes, 0))::numeric AS response_minutes_sum,
       ((f.response_minutes IS NOT NULL)::integer)::bigint AS response_minutes_n,
       (COALESCE(f.response_business_minutes, 0))::numeric AS response_business_minutes_sum,
       ((f.response_business_minutes IS NOT NULL)::integer)::bigint AS response_business_minutes_n,
       (COALESCE(f.resolution_minutes, 0))::numeric AS resolution_minutes_sum,
       ((f.resolution_minutes IS NOT NULL)::integer)::bigint AS resolution_minutes_n,
       (COALESCE(f.resolution_business_minutes, 0))::numeric AS resolution_business_minutes_sum,
       ((f.resolution_business_minutes IS NOT NULL)::integer)::bigint AS resolution_business_minutes_n,
       (COALESCE(f.repair_minutes, 0))::numeric AS repair_minutes_sum,
       ((f.repair_minutes IS NOT NULL)::integer)::bigint AS repair_minutes_n,
       (COALESCE(f.repair_business_minutes, 0))::numeric AS repair_business_minutes_sum,
       ((f.repair_business_minutes IS NOT NULL)::integer)::bigint AS repair_business_minutes_n,
       (COALESCE(f.handling_minutes, 0))::numeric AS handling_minutes_sum,
       ((f.handling_minutes IS NOT NULL)::integer)::bigint AS handling_minutes_n,
       (COALESCE(f.handling_business_minutes, 0))::numeric AS handling_business_minutes_sum,
       ((f.handling_business_minutes IS NOT NULL)::integer)::bigint AS handling_business_minutes_n
          FROM aftersales.kpi_ticket_facts('-infinity', 'infinity', check_kpi_rollups.as_of, check_kpi_rollups.tenant) f
    ), fa AS (
        SELECT x.dimension, g.grain,
               CASE g.grain WHEN 'day' THEN d.day ELSE pg_catalog.date_trunc('month', d.day::timestamp)::date END AS day,
               x.dim_key,
       pg_catalog.sum(d.n_tickets)::bigint AS n_tickets,
       pg_catalog.sum(d.n_cancelled)::bigint AS n_cancelled,
       pg_catalog.sum(d.n_resolved)::bigint AS n_resolved,
       pg_catalog.sum(d.n_closed)::bigint AS n_closed,
       pg_catalog.sum(d.n_unresolved)::bigint AS n_unresolved,
       pg_catalog.sum(d.responded_sum)::bigint AS responded_sum,
       pg_catalog.sum(d.responded_n)::bigint AS responded_n,
       pg_catalog.sum(d.arrived_sum)::bigint AS arrived_sum,
       pg_catalog.sum(d.arrived_n)::bigint AS arrived_n,
       pg_catalog.sum(d.completed_sum)::bigint AS completed_sum,
       pg_catalog.sum(d.completed_n)::bigint AS completed_n,
       pg_catalog.sum(d.on_time_sum)::bigint AS on_time_sum,
       pg_catalog.sum(d.on_time_n)::bigint AS on_time_n,
       pg_catalog.sum(d.ftf_sum)::bigint AS ftf_sum,
       pg_catalog.sum(d.ftf_n)::bigint AS ftf_n,
       pg_catalog.sum(d.closed_loop_sum)::bigint AS closed_loop_sum,
       pg_catalog.sum(d.closed_loop_n)::bigint AS closed_loop_n,
       pg_catalog.sum(d.repeat_sum)::bigint AS repeat_sum,
       pg_catalog.sum(d.repeat_n)::bigint AS repeat_n,
       pg_catalog.sum(d.reopened_sum)::bigint AS reopened_sum,
       pg_catalog.sum(d.reopened_n)::bigint AS reopened_n,
       pg_catalog.sum(d.csat_good_sum)::bigint AS csat_good_sum,
       pg_catalog.sum(d.csat_good_n)::bigint AS csat_good_n,
       pg_catalog.sum(d.problem_resolved_sum)::bigint AS problem_resolved_sum,
       pg_catalog.sum(d.problem_resolved_n)::bigint AS problem_resolved_n,
       pg_catalog.sum(d.sla_first_met)::bigint AS sla_first_met,
       pg_catalog.sum(d.sla_first_n)::bigint AS sla_first_n,
       pg_catalog.sum(d.sla_arrival_met)::bigint AS sla_arrival_met,
       pg_catalog.sum(d.sla_arrival_n)::bigint AS sla_arrival_n,
       pg_catalog.sum(d.sla_resolution_met)::bigint AS sla_resolution_met,
       pg_catalog.sum(d.sla_resolution_n)::bigint AS sla_resolution_n,
       pg_catalog.sum(d.csat_sum)::bigint AS csat_sum,
       pg_catalog.sum(d.csat_n)::bigint AS csat_n,
       pg_catalog.sum(d.nps_promoter_sum)::bigint AS nps_promoter_sum,
       pg_catalog.sum(d.nps_detractor_sum)::bigint AS nps_detractor_sum,
       pg_catalog.sum(d.nps_n)::bigint AS nps_n,
       pg_catalog.sum(d.response_minutes_sum)::numeric AS response_minutes_sum,
       pg_catalog.sum(d.response_minutes_n)::bigint AS response_minutes_n,
       pg_catalog.sum(d.response_business_minutes_sum)::numeric AS response_business_minutes_sum,
       pg_catalog.sum(d.response_business_minutes_n)::bigint AS response_business_minutes_n,
       pg_catalog.sum(d.resolution_minutes_sum)::numeric AS resolution_minutes_sum,
       pg_catalog.sum(d.resolution_minutes_n)::bigint AS resolution_minutes_n,
       pg_catalog.sum(d.resolution_business_minutes_sum)::numeric AS resolution_business_minutes_sum,
       pg_catalog.sum(d.resolution_business_minutes_n)::bigint AS resolution_business_minutes_n,
       pg_catalog.sum(d.repair_minutes_sum)::numeric AS repair_minutes_sum,
       pg_catalog.sum(d.repair_minutes_n)::bigint AS repair_minutes_n,
       pg_catalog.sum(d.repair_business_minutes_sum)::numeric AS repair_business_minutes_sum,
       pg_catalog.sum(d.repair_business_minutes_n)::bigint AS repair_business_minutes_n,
       pg_catalog.sum(d.handling_minutes_sum)::numeric AS handling_minutes_sum,
       pg_catalog.sum(d.handling_minutes_n)::bigint AS handling_minutes_n,
       pg_catalog.sum(d.handling_business_minutes_sum)::numeric AS handling_business_minutes_sum,
       pg_catalog.sum(d.handling_business_minutes_n)::bigint AS handling_business_minutes_n
          FROM f d
         CROSS JOIN LATERAL (VALUES ('all', 'all'), ('tenant', d.tenant_id::text), ('region', d.region),
                             ('province', d.province), ('organisation', d.org_id::text),
                             ('organisation_type', d.org_type), ('product_model', d.model_id::text),
                             ('problem_type', d.problem_type_id::text), ('engineer', d.engineer_id::text),
                             ('priority', d.priority), ('channel', d.channel)) AS x (dimension, dim_key)
         CROSS JOIN (VALUES ('day'), ('month')) AS g (grain)
         GROUP BY 1, 2, 3, 4
    ), both_sides AS (
        SELECT 'r' AS side, r.dimension, r.grain, r.day, r.dim_key,
               pg_catalog.to_jsonb(r) - '{dimension,grain,day,dim_key}'::text[] AS m
          FROM r WHERE r.n_tickets <> 0
        UNION ALL
        SELECT 'f', fa.dimension, fa.grain, fa.day, fa.dim_key,
               pg_catalog.to_jsonb(fa) - '{dimension,grain,day,dim_key}'::text[]
          FROM fa
    ), cells AS (
        SELECT b.dimension, b.grain, b.day, b.dim_key,
               (pg_catalog.array_agg(b.m) FILTER (WHERE b.side = 'r'))[1] AS rm,
               (pg_catalog.array_agg(b.m) FILTER (WHERE b.side = 'f'))[1] AS fm
          FROM both_sides b
         GROUP BY 1, 2, 3, 4
    )
    SELECT check_kpi_rollups.tenant, c.dimension, c.grain, c.day, c.dim_key, k.measure,
           COALESCE((c.rm ->> k.measure)::numeric, 0), COALESCE((c.fm ->> k.measure)::numeric, 0)
      FROM cells c
     CROSS JOIN LATERAL (SELECT e.key AS measure FROM pg_catalog.jsonb_each(COALESCE(c.rm, c.fm)) e) k
     WHERE c.rm IS DISTINCT FROM c.fm
       AND COALESCE((c.rm ->> k.measure)::numeric, 0) <> COALESCE((c.fm ->> k.measure)::numeric, 0)
     ORDER BY 2, 3, 4, 5, 6;
END
$$;
COMMENT ON FUNCTION aftersales.check_kpi_rollups(bigint, timestamptz) IS
  'Compares the KPI rollups of a tenant, as its KPI functions read them at as_of (cells with the queued and live tickets), with the sums recomputed from kpi_ticket_facts: one row per cell (dimension, grain, day, value) and measure that differs; none when they agree';

-- Tenants that have tickets already (an upgrade from a release without
-- rollups): build theirs now.
SELECT aftersales.rebuild_kpi_rollups(t.tenant_id)
  FROM aftersales.tenants t
 WHERE EXISTS (SELECT FROM aftersales.tickets k WHERE k.tenant_id = t.tenant_id)
 ORDER BY t.tenant_id;
