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

-- Non-API functions move to aftersales_internal, without the leading
-- underscore; the type's I/O and the aggregate's support functions too.
ALTER FUNCTION aftersales._append_only() SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._append_only() RENAME TO append_only;
ALTER FUNCTION aftersales._bad_item(bigint,text) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._bad_item(bigint,text) RENAME TO bad_item;
ALTER FUNCTION aftersales._bad_rule(text,text) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._bad_rule(text,text) RENAME TO bad_rule;
ALTER FUNCTION aftersales._clocks_changed() SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._clocks_changed() RENAME TO clocks_changed;
ALTER FUNCTION aftersales._clocks_started() SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._clocks_started() RENAME TO clocks_started;
ALTER FUNCTION aftersales._declare_event(text,text,timestamp with time zone,text) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._declare_event(text,text,timestamp with time zone,text) RENAME TO declare_event;
ALTER FUNCTION aftersales._escalation_rule_row() SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._escalation_rule_row() RENAME TO escalation_rule_row;
ALTER FUNCTION aftersales._escalation_rules_changed() SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._escalation_rules_changed() RENAME TO escalation_rules_changed;
ALTER FUNCTION aftersales._escalation_watches_row_check(text,numeric,smallint) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._escalation_watches_row_check(text,numeric,smallint) RENAME TO escalation_watches_row_check;
ALTER FUNCTION aftersales._expected_checks(bigint) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._expected_checks(bigint) RENAME TO expected_checks;
ALTER FUNCTION aftersales._kpi_check(text,text,text,text,text[],timestamp with time zone,timestamp with time zone,timestamp with time zone,text,bigint) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._kpi_check(text,text,text,text,text[],timestamp with time zone,timestamp with time zone,timestamp with time zone,text,bigint) RENAME TO kpi_check;
ALTER FUNCTION aftersales._kpi_config(bigint) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._kpi_config(bigint) RENAME TO kpi_config;
ALTER FUNCTION aftersales._kpi_config_row() SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._kpi_config_row() RENAME TO kpi_config_row;
ALTER FUNCTION aftersales._kpi_dimension_sql(text) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._kpi_dimension_sql(text) RENAME TO kpi_dimension_sql;
ALTER FUNCTION aftersales._kpi_period_sql(text,text,integer) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._kpi_period_sql(text,text,integer) RENAME TO kpi_period_sql;
ALTER FUNCTION aftersales._next_check(bigint,bigint,text) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._next_check(bigint,bigint,text) RENAME TO next_check;
ALTER FUNCTION aftersales._no_sla_policy(bigint,bigint,bigint,aftersales.priority) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._no_sla_policy(bigint,bigint,bigint,aftersales.priority) RENAME TO no_sla_policy;
ALTER FUNCTION aftersales._occurrences_row_check(bigint,bigint,bigint) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._occurrences_row_check(bigint,bigint,bigint) RENAME TO occurrences_row_check;
ALTER FUNCTION aftersales._organisation_check() SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._organisation_check() RENAME TO organisation_check;
ALTER FUNCTION aftersales._pg_cron_status() SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._pg_cron_status() RENAME TO pg_cron_status;
ALTER FUNCTION aftersales._replay_error(bigint,bigint,integer,text) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._replay_error(bigint,bigint,integer,text) RENAME TO replay_error;
ALTER FUNCTION aftersales._require_engineer(bigint,bigint,text) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._require_engineer(bigint,bigint,text) RENAME TO require_engineer;
ALTER FUNCTION aftersales._require_reason(text,text,text) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._require_reason(text,text,text) RENAME TO require_reason;
ALTER FUNCTION aftersales._sample_error(text,text,text) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._sample_error(text,text,text) RENAME TO sample_error;
ALTER FUNCTION aftersales._sample_u(integer,bigint,integer) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._sample_u(integer,bigint,integer) RENAME TO sample_u;
ALTER FUNCTION aftersales._sweep_claimed(bigint,timestamp with time zone,bigint[],bigint[],text[]) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._sweep_claimed(bigint,timestamp with time zone,bigint[],bigint[],text[]) RENAME TO sweep_claimed;
ALTER FUNCTION aftersales._sweep_command(integer,integer) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._sweep_command(integer,integer) RENAME TO sweep_command;
ALTER FUNCTION aftersales._sweep_error(text,text) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._sweep_error(text,text) RENAME TO sweep_error;
ALTER FUNCTION aftersales._ticket_changed() SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._ticket_changed() RENAME TO ticket_changed;
ALTER FUNCTION aftersales._ticket_escalation_changed() SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._ticket_escalation_changed() RENAME TO ticket_escalation_changed;
ALTER FUNCTION aftersales._ticket_escalation_matters(timestamp with time zone,timestamp with time zone,aftersales.ticket_status,aftersales.ticket_status) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._ticket_escalation_matters(timestamp with time zone,timestamp with time zone,aftersales.ticket_status,aftersales.ticket_status) RENAME TO ticket_escalation_matters;
ALTER FUNCTION aftersales._ticket_event(bigint,aftersales.ticket_event,text,timestamp with time zone,text,bigint,aftersales.ticket_tier,aftersales.priority,boolean,integer,integer,text) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._ticket_event(bigint,aftersales.ticket_event,text,timestamp with time zone,text,bigint,aftersales.ticket_tier,aftersales.priority,boolean,integer,integer,text) RENAME TO ticket_event;
ALTER FUNCTION aftersales._ticket_events_row_check(aftersales.ticket_event,aftersales.ticket_status,integer) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._ticket_events_row_check(aftersales.ticket_event,aftersales.ticket_status,integer) RENAME TO ticket_events_row_check;
ALTER FUNCTION aftersales._ticket_guard() SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._ticket_guard() RENAME TO ticket_guard;
ALTER FUNCTION aftersales._ticket_not_found(bigint,bigint) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._ticket_not_found(bigint,bigint) RENAME TO ticket_not_found;
ALTER FUNCTION aftersales._ticket_open(bigint,text,bigint,bigint,bigint,bigint,text,aftersales.priority,timestamp with time zone,bigint,boolean,aftersales.ticket_status,timestamp with time zone,text,text) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._ticket_open(bigint,text,bigint,bigint,bigint,bigint,text,aftersales.priority,timestamp with time zone,bigint,boolean,aftersales.ticket_status,timestamp with time zone,text,text) RENAME TO ticket_open;
ALTER FUNCTION aftersales._ticket_sla_row_check(timestamp with time zone,text,timestamp with time zone) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._ticket_sla_row_check(timestamp with time zone,text,timestamp with time zone) RENAME TO ticket_sla_row_check;
ALTER FUNCTION aftersales._tickets_entered() SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._tickets_entered() RENAME TO tickets_entered;
ALTER FUNCTION aftersales._tickets_row_check(text,text,aftersales.ticket_status,aftersales.ticket_status,bigint,integer,integer,smallint,smallint,integer,timestamp with time zone,timestamp with time zone,timestamp with time zone,timestamp with time zone,timestamp with time zone) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._tickets_row_check(text,text,aftersales.ticket_status,aftersales.ticket_status,bigint,integer,integer,smallint,smallint,integer,timestamp with time zone,timestamp with time zone,timestamp with time zone,timestamp with time zone,timestamp with time zone) RENAME TO tickets_row_check;
ALTER FUNCTION aftersales._transition_table() SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._transition_table() RENAME TO transition_table;
ALTER FUNCTION aftersales._watch_stages(bigint[],bigint[],text[],timestamp with time zone) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales_internal._watch_stages(bigint[],bigint[],text[],timestamp with time zone) RENAME TO watch_stages;
ALTER FUNCTION aftersales.calendar_in(cstring) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales.calendar_out(aftersales.calendar) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales.calendar_recv(internal) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales.calendar_send(aftersales.calendar) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales.duration_stats_combine(internal,internal) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales.duration_stats_deserialize(bytea,internal) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales.duration_stats_final(internal) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales.duration_stats_serialize(internal) SET SCHEMA aftersales_internal;
ALTER FUNCTION aftersales.duration_stats_trans(internal,double precision) SET SCHEMA aftersales_internal;

-- check_watches reads every tenant's watches, as check_tickets does.
REVOKE ALL ON FUNCTION aftersales.check_watches(bigint) FROM PUBLIC;

-- Who may call what (as src/sql/90_privileges.sql).
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA aftersales_internal FROM PUBLIC;
GRANT USAGE ON SCHEMA aftersales_internal TO PUBLIC;
GRANT EXECUTE ON FUNCTION
    -- evaluated in the caller's INSERT and UPDATE of tickets
    aftersales_internal.tickets_row_check(text, text, aftersales.ticket_status, aftersales.ticket_status, bigint,
                                          integer, integer, smallint, smallint, integer, timestamptz, timestamptz,
                                          timestamptz, timestamptz, timestamptz),
    aftersales_internal.ticket_escalation_matters(timestamptz, timestamptz, aftersales.ticket_status,
                                                  aftersales.ticket_status),
    -- the write path of the ticket API; the guard on tickets judges every change
    aftersales_internal.ticket_event(bigint, aftersales.ticket_event, text, timestamptz, text, bigint,
                                     aftersales.ticket_tier, aftersales.priority, boolean, integer, integer, text),
    aftersales_internal.ticket_open(bigint, text, bigint, bigint, bigint, bigint, text, aftersales.priority,
                                    timestamptz, bigint, boolean, aftersales.ticket_status, timestamptz, text, text),
    aftersales_internal.declare_event(text, text, timestamptz, text),
    -- errors of the API
    aftersales_internal.require_reason(text, text, text),
    aftersales_internal.require_engineer(bigint, bigint, text),
    aftersales_internal.ticket_not_found(bigint, bigint),
    aftersales_internal.bad_item(bigint, text),
    aftersales_internal.bad_rule(text, text),
    -- the read path of the KPI functions (STABLE or IMMUTABLE: they cannot write)
    aftersales_internal.kpi_check(text, text, text, text, text[], timestamptz, timestamptz, timestamptz, text, bigint),
    aftersales_internal.kpi_config(bigint),
    aftersales_internal.kpi_dimension_sql(text),
    aftersales_internal.kpi_period_sql(text, text, integer)
TO PUBLIC;

-- Declared settings (src/settings.c): what the API tells the trigger on
-- tickets is backend-local state, no longer the settings
-- aftersales.event_actor, event_at and sweep_locking.
COMMENT ON FUNCTION aftersales_internal.declare_event(text, text, timestamptz, text) IS
  'Internal: declares the event, actor, time and reason of the next change of tickets (backend-local, until cleared or the transaction ends); NULL clears them';
CREATE FUNCTION aftersales_internal.event_reason() RETURNS text
    AS 'MODULE_PATHNAME', 'aftersales_event_reason' LANGUAGE C STABLE;
COMMENT ON FUNCTION aftersales_internal.event_reason() IS
  'Internal: the reason of the event being recorded: the one the API declared, else the setting aftersales.event_reason';
CREATE FUNCTION aftersales_internal.set_sweep_locking(locking boolean) RETURNS void
    AS 'MODULE_PATHNAME', 'aftersales_set_sweep_locking' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION aftersales_internal.set_sweep_locking(boolean) IS
  'Internal: the sweep is (true) or is no longer (false) locking a ticket; backend-local, ends with the transaction';
CREATE FUNCTION aftersales_internal.sweep_locking() RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_sweep_locking' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION aftersales_internal.sweep_locking() IS
  'Internal: whether the sweep is locking a ticket (it then raises the alert itself)';
REVOKE ALL ON FUNCTION aftersales_internal.event_reason(), aftersales_internal.set_sweep_locking(boolean),
    aftersales_internal.sweep_locking() FROM PUBLIC;

-- Shipped descriptions say what a rule does; tenant 1's rows still as
-- shipped take the new texts, and stay marked as shipped.
SET LOCAL session_replication_role = replica;
UPDATE aftersales.escalation_rules SET description = 'Level 1: the supervisor or second line steps in, a person within 1 hour'
 WHERE tenant_id = 1 AND kind = 'escalation' AND level = 1 AND NOT customised;
UPDATE aftersales.escalation_rules SET description = 'Level 2: still unsolved an hour after level 1: the service manager coordinates across departments, a solution within 2 working days'
 WHERE tenant_id = 1 AND kind = 'escalation' AND level = 2 AND NOT customised;
UPDATE aftersales.escalation_rules SET description = 'Level 3: still unsolved 2 working days (16 business hours) after level 2: the head of department and the emergency team'
 WHERE tenant_id = 1 AND kind = 'escalation' AND level = 3 AND NOT customised;
UPDATE aftersales.escalation_rules SET description = 'A fault ticket of a key customer (重点客户故障工单)'
 WHERE tenant_id = 1 AND kind = 'key_customer' AND level = 0 AND NOT customised;
UPDATE aftersales.escalation_rules SET description = 'No engineer assigned by the customer-requested date: the ticket is locked for the service manager'
 WHERE tenant_id = 1 AND kind = 'lock' AND level = 0 AND NOT customised;
UPDATE aftersales.escalation_rules SET description = 'A field ticket not on site 4 hours after entry (未到位)'
 WHERE tenant_id = 1 AND kind = 'not_arrived' AND level = 0 AND NOT customised;
UPDATE aftersales.escalation_rules SET description = 'A ticket not resolved 24 hours after entry (未完工)'
 WHERE tenant_id = 1 AND kind = 'not_completed' AND level = 0 AND NOT customised;
UPDATE aftersales.kpi_settings SET description = 'Arrival rate: a field ticket''s first arrival on site within this many hours of entry (wall clock) is in target (default 4 hours)'
 WHERE tenant_id = 1 AND name = 'arrival_target_hours' AND NOT customised;
UPDATE aftersales.kpi_settings SET description = 'Completion rate: the final resolution within this many hours of entry (wall clock) is in target (default 24 hours)'
 WHERE tenant_id = 1 AND name = 'completion_target_hours' AND NOT customised;
UPDATE aftersales.kpi_settings SET description = 'Warning line for early failures per period (default 400 units a month)'
 WHERE tenant_id = 1 AND name = 'early_failure_warning' AND NOT customised;
UPDATE aftersales.kpi_settings SET description = 'Warning line for in-warranty failures per period (default 600 units a month)'
 WHERE tenant_id = 1 AND name = 'in_warranty_warning' AND NOT customised;
UPDATE aftersales.kpi_settings SET description = 'Warning line for out-of-warranty failures per period (default 600 units a month)'
 WHERE tenant_id = 1 AND name = 'out_of_warranty_warning' AND NOT customised;
UPDATE aftersales.kpi_settings SET description = 'Response rate: a first response within this many minutes of entry (wall clock) is in target (default 10 minutes)'
 WHERE tenant_id = 1 AND name = 'response_target_minutes' AND NOT customised;
UPDATE aftersales.sla_policies SET description = 'Default targets: A 5 min / 30 min, B 30 min / 2 h, C 4 h / 24 h, arrival 4 h'
 WHERE tenant_id = 1 AND name = 'default' AND description LIKE '%/ 30 min, B 30 min / 2 h, C 4 h / 24 h, arrival 4 h';
RESET session_replication_role;

-- ticket_sla.next_due and its index go: nothing read them (the sweeps read
-- escalation_watches.next_check), yet every clock update wrote them.
ALTER TABLE aftersales.ticket_sla DROP COLUMN next_due;

-- "Needs a reason" is checked in one place, by the trigger on tickets, with
-- one message; the API's own check goes.
DROP FUNCTION aftersales_internal.require_reason(text, text, text);

-- One spelling of the SLA-clock rule (src/sla_clock.c): wall clock without
-- a calendar, business time with one.
CREATE FUNCTION aftersales_internal.clock_add(clock_calendar text, cal aftersales.calendar, start timestamptz,
                                              amount interval) RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'aftersales_clock_add' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales_internal.clock_add(text, aftersales.calendar, timestamptz, interval) IS
  'Internal: when amount of a clock''s time has elapsed since start: business time on cal when the clock has a calendar (clock_calendar), else wall-clock time';
CREATE FUNCTION aftersales_internal.clock_diff(clock_calendar text, cal aftersales.calendar, a timestamptz,
                                               b timestamptz) RETURNS interval
    AS 'MODULE_PATHNAME', 'aftersales_clock_diff' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales_internal.clock_diff(text, aftersales.calendar, timestamptz, timestamptz) IS
  'Internal: a clock''s time in [a, b): business time on cal when the clock has a calendar (clock_calendar), else wall-clock time';
REVOKE ALL ON FUNCTION aftersales_internal.clock_add(text, aftersales.calendar, timestamptz, interval),
    aftersales_internal.clock_diff(text, aftersales.calendar, timestamptz, timestamptz) FROM PUBLIC;

-- Helpers that only raised an error, each for one caller, fold into it.
DROP FUNCTION aftersales_internal.bad_rule(text, text);
DROP FUNCTION aftersales_internal.ticket_not_found(bigint, bigint);

-- Function bodies and comments as in 0.2.0 (names of the internal schema,
-- the sweep's lock state, descriptions that say what a rule does).
CREATE OR REPLACE FUNCTION aftersales.acknowledge_ticket(ticket bigint, note text DEFAULT NULL::text, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS aftersales.ticket_status
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$
;

CREATE OR REPLACE FUNCTION aftersales.arrive_on_site(ticket bigint, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS aftersales.ticket_status
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'arrive', actor, at);
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.assign_ticket(ticket bigint, engineer bigint, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS aftersales.ticket_status
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    PERFORM aftersales_internal.require_engineer(engineer, aftersales.current_tenant(), 'assign_ticket');
    RETURN aftersales_internal.ticket_event(ticket, 'assign', actor, at, assignee => engineer);
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.backlog_as_of(at timestamp with time zone, tenant bigint DEFAULT aftersales.current_tenant())
 RETURNS TABLE(tenant_id bigint, ticket_id bigint, status text, priority text, engineer_id bigint, opened_at timestamp with time zone, age_hours numeric)
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    PERFORM aftersales_internal.kpi_check('backlog_as_of',
        'SELECT * FROM aftersales.backlog_as_of(''2026-03-01 00:00+08'');',
        NULL, NULL, NULL, NULL, NULL, at, 'UTC', tenant);
    RETURN QUERY
    SELECT t.tenant_id, t.ticket_id, x.st::text, x.pr::text, x.eng, t.opened_at,
           pg_catalog.round(EXTRACT(EPOCH FROM backlog_as_of.at - t.opened_at) / 3600, 2)
      FROM aftersales.tickets t
     CROSS JOIN LATERAL (
           SELECT t.status AS st, t.priority AS pr, t.assignee_id AS eng
            WHERE t.last_event_at <= backlog_as_of.at
           UNION ALL
           SELECT (SELECT ev.to_state FROM aftersales.ticket_events ev
                    WHERE ev.tenant_id = t.tenant_id AND ev.ticket_id = t.ticket_id AND ev.at <= backlog_as_of.at
                    ORDER BY ev.seq DESC LIMIT 1),
                  (SELECT (ev.payload ->> 'priority')::aftersales.priority FROM aftersales.ticket_events ev
                    WHERE ev.tenant_id = t.tenant_id AND ev.ticket_id = t.ticket_id AND ev.at <= backlog_as_of.at
                      AND ev.payload ? 'priority'
                    ORDER BY ev.seq DESC LIMIT 1),
                  (SELECT CASE WHEN ev.to_state IN ('new', 'locked') THEN NULL
                               ELSE (ev.payload ->> 'assignee')::bigint END
                     FROM aftersales.ticket_events ev
                    WHERE ev.tenant_id = t.tenant_id AND ev.ticket_id = t.ticket_id AND ev.at <= backlog_as_of.at
                      AND (ev.payload ? 'assignee' OR ev.to_state IN ('new', 'locked'))
                    ORDER BY ev.seq DESC LIMIT 1)
            WHERE t.last_event_at > backlog_as_of.at) x
     WHERE (backlog_as_of.tenant IS NULL OR t.tenant_id = backlog_as_of.tenant)
       AND t.opened_at <= backlog_as_of.at
       AND x.st IN ('new', 'on_hold', 'assigned', 'in_progress', 'on_site', 'locked')
     ORDER BY t.tenant_id, t.ticket_id;
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.cancel_ticket(ticket bigint, reason text, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS aftersales.ticket_status
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'cancel', actor, at, reason);
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.check_watches(tenant bigint DEFAULT NULL::bigint)
 RETURNS TABLE(tenant_id bigint, ticket_id bigint, clock text, stored timestamp with time zone, expected timestamp with time zone)
 LANGUAGE sql
 STABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$
;

CREATE OR REPLACE FUNCTION aftersales.fail_attempt(ticket bigint, reason text, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS aftersales.ticket_status
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'fail', actor, at, reason);
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.follow_up(ticket bigint, satisfied boolean, csat integer DEFAULT NULL::integer, nps integer DEFAULT NULL::integer, comment text DEFAULT NULL::text, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS aftersales.ticket_status
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$
;

CREATE OR REPLACE FUNCTION aftersales.generate_sample_data(tenant_name text, seed integer DEFAULT 1, tickets integer DEFAULT 2000, year integer DEFAULT 2026, progress integer DEFAULT 100000)
 RETURNS aftersales.sample_data_runs
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    example constant text := 'SELECT * FROM aftersales.generate_sample_data(''demo'', seed => 1, tickets => 2000, year => 2026);';
    n integer := tickets;
    s integer := seed;
    yr integer := year;
    started constant timestamptz := pg_catalog.clock_timestamp();
    old_tenant text := pg_catalog.current_setting('aftersales.tenant_id', true);
    prev aftersales.sample_data_runs;
    result aftersales.sample_data_runs;
    tid bigint;
    y0 date;
    cutoff timestamptz;
    ndays integer;
    sb bigint;
    w_total float8;
    cstarts float8[];
    mstarts float8[];
    pstarts float8[];
    chstarts constant float8[] := '{0,0.38,0.58,0.72,0.82,0.87,0.93,0.97}';
    channels constant text[] := '{phone,wechat,app,web,email,field,walk_in,other}';
    hold_reasons constant text[] := '{等待备件到货,等待客户确认上门时间}';
    fail_reasons constant text[] := '{备件型号不符，需重新申请,故障未能复现，需再次上门,需要专用工具}';
    resolutions constant text[] := '{更换启动电容,清洗冷凝器并补充冷媒,更换主控板,紧固接线端子,更新控制程序参数,更换温度传感器,调整安装并重新调试}';
    cancel_reasons constant text[] := '{客户已自行解决,重复报修,客户取消服务}';
    comments constant text[] := '{工程师很专业,上门及时,希望提前电话联系,维修时间太长,问题已解决，感谢}';
    r record;
    u float8[];
    t timestamptz;
    st aftersales.ticket_status;
    tk bigint;
    eng bigint;
    login text;
    manager text;
    agent text;
    v integer;
    b integer;
    x float8;
    loc timestamp;
    attempts integer;
    manual_locked boolean;
    sat boolean;
    zombie integer;
    cycle integer;
    fb integer;
    ei integer;
    score_csat integer;
    score_nps integer;
    remark text;
    events_n bigint;
    done integer := 0;
    batch constant integer := 5000;
BEGIN
    -- arguments
    IF tenant_name IS NULL OR pg_catalog.btrim(tenant_name) = '' THEN
        PERFORM aftersales_internal.sample_error('tenant_name must not be empty',
            'Name the tenant to create, for example: ' || example, '22004');
    END IF;
    IF s IS NULL THEN
        PERFORM aftersales_internal.sample_error('seed must not be null',
            'Any integer seeds the choices; the same seed gives the same data, for example: ' || example, '22004');
    END IF;
    IF n IS NULL OR n NOT BETWEEN 100 AND 10000000 THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('invalid number of sample tickets: %s', COALESCE(n::text, 'NULL')),
            'Ask for 100 to 10000000 tickets: 2000 load in seconds, 1000000 in about an hour; for example: ' || example);
    END IF;
    IF yr IS NULL OR yr NOT BETWEEN 2000 AND 2100 THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('invalid sample year: %s', COALESCE(yr::text, 'NULL')),
            'Years 2000 to 2100 are supported (the full holiday schedule is known for 2026), for example: ' || example);
    END IF;
    IF progress IS NULL OR progress < 0 THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('invalid progress interval: %s', COALESCE(progress::text, 'NULL')),
            'progress is how many tickets between two progress NOTICEs, 0 for none, for example: SELECT * FROM aftersales.generate_sample_data(''big'', tickets => 1000000, progress => 50000);');
    END IF;

    -- idempotent: the same call again returns what the first one built
    SELECT sr.* INTO prev FROM aftersales.sample_data_runs sr
      JOIN aftersales.tenants tn ON tn.tenant_id = sr.tenant_id
     WHERE tn.name = generate_sample_data.tenant_name;
    IF FOUND THEN
        IF prev.seed = s AND prev.tickets = n AND prev.year = yr THEN
            RAISE NOTICE 'tenant "%" already holds this sample data: nothing to do', tenant_name;
            RETURN prev;
        END IF;
        PERFORM aftersales_internal.sample_error(
            pg_catalog.format('tenant "%s" already holds sample data of seed %s, %s tickets, year %s', tenant_name, prev.seed, prev.tickets, prev.year),
            'Use another tenant name, for example: SELECT * FROM aftersales.generate_sample_data(''demo2'', seed => 2);', '42710');
    END IF;
    IF EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.name = tenant_name) THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('tenant "%s" already exists', tenant_name),
            'Sample data goes into a new tenant of its own; use another name, for example: ' || example, '42710');
    END IF;

    y0 := pg_catalog.make_date(yr, 1, 1);
    cutoff := pg_catalog.make_timestamptz(yr + 1, 1, 1, 0, 0, 0, 'Asia/Shanghai');
    ndays := pg_catalog.make_date(yr + 1, 1, 1) - y0;
    sb := s::bigint * 1000003;

    -- the tenant, its calendars and SLA policies (the default targets,
    -- copied from tenant 1's shipped default policy)
    LOCK TABLE aftersales.tenants IN SHARE ROW EXCLUSIVE MODE;
    SELECT COALESCE(pg_catalog.max(tn.tenant_id), 1) + 1 INTO tid FROM aftersales.tenants tn;
    INSERT INTO aftersales.tenants (tenant_id, name) VALUES (tid, tenant_name);
    PERFORM pg_catalog.set_config('aftersales.tenant_id', tid::text, true);
    PERFORM aftersales.set_calendar('24x7', 'zone=Asia/Shanghai; mon-sun 00:00-24:00', 'Around the clock, China time', tid);
    PERFORM aftersales.set_calendar('cn-office', aftersales.sample_calendar(yr),
                                    pg_catalog.format('China office hours, %s holidays and make-up days', yr), tid);
    INSERT INTO aftersales.sla_policies (tenant_id, name, calendar, is_default, description)
    VALUES (tid, 'standard', 'cn-office', true, 'Default targets on office hours'),
           (tid, 'key-account', '24x7', false, 'Default targets around the clock, for key customers'' service agreements');
    INSERT INTO aftersales.sla_targets (tenant_id, policy_id, priority, metric, target, clock, pauses_on_hold)
    SELECT tid, p.policy_id, d.priority, d.metric, d.target, d.clock, d.pauses_on_hold
      FROM aftersales.sla_targets d
      JOIN aftersales.sla_policies dp ON dp.tenant_id = 1 AND dp.policy_id = d.policy_id
                                     AND dp.name = 'default'
     CROSS JOIN aftersales.sla_policies p
     WHERE d.tenant_id = 1 AND p.tenant_id = tid
     ORDER BY p.policy_id, d.priority, d.metric;

    -- geography: the six regions, 31 provinces and their weights (share of
    -- customers, hence of units and failures)
    CREATE TEMP TABLE sample_geo ON COMMIT DROP AS
    SELECT g.ord, g.region, g.province, g.weight, g.remote
      FROM (VALUES ( 1, '华东', '上海', 4.0, false), ( 2, '华东', '江苏', 8.0, false), ( 3, '华东', '浙江', 7.0, false),
                   ( 4, '华东', '安徽', 3.0, false), ( 5, '华东', '福建', 3.0, false), ( 6, '华东', '江西', 2.0, false),
                   ( 7, '华东', '山东', 6.0, false), ( 8, '华北', '北京', 4.0, false), ( 9, '华北', '天津', 2.0, false),
                   (10, '华北', '河北', 4.0, false), (11, '华北', '山西', 2.0, false), (12, '华北', '内蒙古', 1.0, true),
                   (13, '东北', '辽宁', 3.0, false), (14, '东北', '吉林', 1.5, false), (15, '东北', '黑龙江', 1.5, false),
                   (16, '中南', '河南', 5.0, false), (17, '中南', '湖北', 4.0, false), (18, '中南', '湖南', 3.0, false),
                   (19, '中南', '广东', 11.0, false), (20, '中南', '广西', 2.0, false), (21, '中南', '海南', 1.0, false),
                   (22, '西北', '陕西', 3.0, false), (23, '西北', '甘肃', 1.5, true), (24, '西北', '青海', 0.5, true),
                   (25, '西北', '宁夏', 0.5, true), (26, '西北', '新疆', 2.0, true), (27, '西南', '重庆', 3.0, false),
                   (28, '西南', '四川', 5.0, false), (29, '西南', '贵州', 1.5, false), (30, '西南', '云南', 2.0, false),
                   (31, '西南', '西藏', 0.5, true))
           AS g (ord, region, province, weight, remote);
    SELECT pg_catalog.sum(g.weight) INTO w_total FROM pg_temp.sample_geo g;

    -- organisations: HQ, regions, provinces (代表处), outlets
    INSERT INTO aftersales.organisations (tenant_id, level, org_type, name) VALUES (tid, 'hq', 'headquarters', '总部');
    INSERT INTO aftersales.organisations (tenant_id, parent_id, level, org_type, name, region)
    SELECT tid, (SELECT o.org_id FROM aftersales.organisations o WHERE o.tenant_id = tid AND o.level = 'hq'),
           'region', 'representative_office', rg.region || '大区', rg.region
      FROM (SELECT g.region, pg_catalog.min(g.ord) AS ord FROM pg_temp.sample_geo g GROUP BY g.region) rg
     ORDER BY rg.ord;
    INSERT INTO aftersales.organisations (tenant_id, parent_id, level, org_type, name, province)
    SELECT tid, o.org_id, 'province', 'representative_office', g.province || '代表处', g.province
      FROM pg_temp.sample_geo g
      JOIN aftersales.organisations o ON o.tenant_id = tid AND o.level = 'region'
                                     AND o.region = g.region
     ORDER BY g.ord;
    CREATE TEMP TABLE sample_outlets ON COMMIT DROP AS
    SELECT g.ord, g.province, g.weight, x.k, x.org_type, x.name, NULL::bigint AS org_id,
           1 + LEAST(4, 1 + pg_catalog.floor(g.weight / 3)::integer) AS serving,
           pg_catalog.count(*) OVER (PARTITION BY g.ord) AS outlets
      FROM pg_temp.sample_geo g
     CROSS JOIN LATERAL (
           SELECT 1 AS k, 'representative_office' AS org_type, g.province || '服务站' AS name
           UNION ALL
           SELECT 1 + d, 'dealer',
                  g.province || ('{东,西,南,北}'::text[])[d] || '区经销商'
             FROM pg_catalog.generate_series(1, LEAST(4, 1 + pg_catalog.floor(g.weight / 3)::integer)) d
           UNION ALL
           SELECT 6, 'supplier', g.province || '供应商服务点' WHERE g.weight >= 3) x;
    INSERT INTO aftersales.organisations (tenant_id, parent_id, level, org_type, name)
    SELECT tid, o.org_id, 'outlet', so.org_type, so.name
      FROM pg_temp.sample_outlets so
      JOIN aftersales.organisations o ON o.tenant_id = tid AND o.level = 'province'
                                     AND o.province = so.province
     ORDER BY so.ord, so.k;
    ANALYZE pg_temp.sample_outlets;
    UPDATE pg_temp.sample_outlets so SET org_id = o.org_id
      FROM aftersales.organisations o
     WHERE o.tenant_id = tid AND o.name = so.name;

    -- engineers: about n / 400, at least 60, spread over the outlets by
    -- province weight
    INSERT INTO aftersales.engineers (tenant_id, org_id, name, login, skills, region, capacity, phone)
    SELECT tid, e.org_id,
           ('{王,李,张,刘,陈,杨,黄,赵,吴,周,徐,孙,马,朱,胡,郭,何,高,林,罗}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, e.g, 101) * 20)::integer]
           ||
           ('{伟,芳,娜,敏,静,强,磊,军,洋,勇,杰,涛,明,超,霞,平,刚,桂英,建华,志强,海燕,晓东,国平,文博}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, e.g, 102) * 24)::integer],
           'eng' || pg_catalog.lpad(e.g::text, 5, '0'),
           pg_catalog.array_remove(ARRAY[
               ('{CMP,CHL,HP}'::text[])[1 + (e.g % 3)::integer],
               CASE WHEN aftersales_internal.sample_u(s, e.g, 103) < 0.5
                    THEN ('{CMP,CHL,HP}'::text[])[1 + ((e.g + 1) % 3)::integer] END,
               CASE WHEN aftersales_internal.sample_u(s, e.g, 104) < 0.6 THEN 'electrical' END,
               CASE WHEN aftersales_internal.sample_u(s, e.g, 105) < 0.4 THEN 'refrigeration' END], NULL),
           e.region,
           6 + pg_catalog.floor(aftersales_internal.sample_u(s, e.g, 106) * 7)::integer,
           '139' || pg_catalog.lpad(pg_catalog.floor(aftersales_internal.sample_u(s, e.g, 107) * 100000000)::bigint::text, 8, '0')
      FROM (SELECT so.org_id, g.region, pg_catalog.row_number() OVER (ORDER BY so.ord, so.k, j.j) AS g
              FROM pg_temp.sample_outlets so
              JOIN pg_temp.sample_geo g ON g.ord = so.ord
             CROSS JOIN LATERAL pg_catalog.generate_series(1, GREATEST(1, pg_catalog.round(
                   GREATEST(60, n / 400) * so.weight
                   / w_total / so.outlets)::integer)) j (j)) e
     ORDER BY e.g;
    CREATE TEMP TABLE sample_org_engineers ON COMMIT DROP AS
    SELECT e.org_id, pg_catalog.array_agg(e.engineer_id ORDER BY e.engineer_id) AS engs,
           pg_catalog.array_agg(e.login ORDER BY e.engineer_id) AS logins
      FROM aftersales.engineers e WHERE e.tenant_id = tid GROUP BY e.org_id;

    -- customers: about n / 10, at least 400, by province weight
    CREATE TEMP TABLE sample_customers ON COMMIT DROP AS
    SELECT c.g, c.ord, c.province, c.region, c.tier,
           CASE WHEN c.tier = 'key' THEN c.station ELSE c.dealer END AS org_id,
           CASE c.tier WHEN 'key' THEN 3.0 WHEN 'major' THEN 1.5 ELSE 1.0 END::float8 AS w,
           NULL::bigint AS customer_id
      FROM (SELECT x.g, x.ord, x.province, x.region,
                   CASE WHEN aftersales_internal.sample_u(s, x.g, 201) < 0.05 THEN 'key'
                        WHEN aftersales_internal.sample_u(s, x.g, 201) < 0.20 THEN 'major'
                        ELSE 'standard' END AS tier,
                   (SELECT so.org_id FROM pg_temp.sample_outlets so WHERE so.ord = x.ord AND so.k = 1) AS station,
                   (SELECT so.org_id FROM pg_temp.sample_outlets so
                     WHERE so.ord = x.ord
                       AND so.k = 1 + pg_catalog.floor(aftersales_internal.sample_u(s, x.g, 202) * so.serving)::integer) AS dealer
              FROM (SELECT g.ord, g.province, g.region, pg_catalog.row_number() OVER (ORDER BY g.ord, j.j) AS g
                      FROM pg_temp.sample_geo g
                     CROSS JOIN LATERAL pg_catalog.generate_series(1, GREATEST(2, pg_catalog.round(
                           GREATEST(400, n / 10) * g.weight / w_total)::integer)) j (j)) x) c;
    WITH named AS (
        SELECT c.g, c.province ||
               ('{华,盛,鑫,宏,恒,泰,达,丰,远,新,金,通,隆,海,嘉,正,永,东,瑞,安}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, c.g, 203) * 20)::integer]
               ||
               ('{机械,电子,食品,医药,化工,纺织,物流,能源,建材,汽配,酒店,医院}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, c.g, 204) * 12)::integer]
               || '有限公司' AS name
          FROM pg_temp.sample_customers c
    )
    INSERT INTO aftersales.customers (tenant_id, name, tier, region, province, org_id, contact_name, contact_phone)
    SELECT tid,
           CASE WHEN k.dup = 1 THEN k.name ELSE k.name || '第' || k.dup || '分公司' END,
           c.tier, c.region, c.province, c.org_id,
           ('{王,李,张,刘,陈,杨,黄,赵,吴,周}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, c.g, 205) * 10)::integer]
               || '经理',
           '138' || pg_catalog.lpad(pg_catalog.floor(aftersales_internal.sample_u(s, c.g, 206) * 100000000)::bigint::text, 8, '0')
      FROM pg_temp.sample_customers c
      JOIN (SELECT nm.g, nm.name, pg_catalog.row_number() OVER (PARTITION BY nm.name ORDER BY nm.g) AS dup FROM named nm) k
        ON k.g = c.g
     ORDER BY c.g;
    ANALYZE pg_temp.sample_customers;
    UPDATE pg_temp.sample_customers c SET customer_id = x.customer_id
      FROM (SELECT cu.customer_id, pg_catalog.row_number() OVER (ORDER BY cu.customer_id) AS g
              FROM aftersales.customers cu WHERE cu.tenant_id = tid) x
     WHERE x.g = c.g;
    SELECT pg_catalog.array_agg(c.start ORDER BY c.g) INTO cstarts
      FROM (SELECT sc.g, (pg_catalog.sum(sc.w) OVER (ORDER BY sc.g) - sc.w)
                         / pg_catalog.sum(sc.w) OVER () AS start
              FROM pg_temp.sample_customers sc) c;
    -- key customers have a 24x7 service agreement (服务协议)
    INSERT INTO aftersales.service_agreements (tenant_id, customer_id, policy_id, name, valid, terms, service_items, charging)
    SELECT tid, c.customer_id, p.policy_id,
           pg_catalog.format('SA-%s-%s', yr, pg_catalog.lpad(c.g::text, 5, '0')),
           pg_catalog.daterange((y0 - 365), (y0 + 730)),
           '7x24 小时响应，重点客户专属工程师', '{上门维修,定期巡检,备件优先}', '年度服务费，备件另计'
      FROM pg_temp.sample_customers c
      JOIN aftersales.sla_policies p ON p.tenant_id = tid AND p.name = 'key-account'
     WHERE c.tier = 'key'
     ORDER BY c.g;

    -- products: 3 lines, 10 models (install share, failure weight)
    INSERT INTO aftersales.product_lines (tenant_id, code, name, description)
    VALUES (tid, 'CMP', '商用压缩机', 'Commercial compressors'),
           (tid, 'CHL', '冷水机组', 'Water chillers'),
           (tid, 'HP', '空气源热泵', 'Air-source heat pumps');
    CREATE TEMP TABLE sample_models ON COMMIT DROP AS
    SELECT m.midx, m.line, m.code, m.name, m.warranty, m.launch, m.share, m.fail,
           (pg_catalog.make_date(yr + 1, 1, 1) - m.launch) AS span,
           NULL::bigint AS model_id, 0 AS units
      FROM (VALUES ( 1, 'CMP', 'CMP-110', '涡旋压缩机 110', 24, pg_catalog.make_date(yr - 4, 1, 1), 14.0, 10.0),
                   ( 2, 'CMP', 'CMP-220', '螺杆压缩机 220', 24, pg_catalog.make_date(yr - 4, 1, 1), 12.0, 22.0),
                   ( 3, 'CMP', 'CMP-350', '螺杆压缩机 350', 36, pg_catalog.make_date(yr - 3, 1, 1),  8.0,  6.0),
                   ( 4, 'CHL', 'CHL-50',  '风冷冷水机组 50RT', 12, pg_catalog.make_date(yr - 4, 1, 1), 12.0,  9.0),
                   ( 5, 'CHL', 'CHL-80',  '风冷冷水机组 80RT', 12, pg_catalog.make_date(yr - 4, 1, 1), 10.0,  8.0),
                   ( 6, 'CHL', 'CHL-120X', '水冷冷水机组 120RT', 24, pg_catalog.make_date(yr - 2, 1, 1),  8.0, 20.0),
                   ( 7, 'HP',  'HP-10',   '热泵 10P', 12, pg_catalog.make_date(yr - 4, 1, 1), 12.0,  6.0),
                   ( 8, 'HP',  'HP-16',   '热泵 16P', 12, pg_catalog.make_date(yr - 3, 1, 1), 10.0,  5.0),
                   ( 9, 'HP',  'HP-20N',  '变频热泵 20P（新品）', 24, pg_catalog.make_date(yr - 1, 7, 1),  8.0, 12.0),
                   (10, 'HP',  'HP-30',   '热泵 30P', 36, pg_catalog.make_date(yr - 2, 1, 1),  6.0,  2.0))
           AS m (midx, line, code, name, warranty, launch, share, fail);
    INSERT INTO aftersales.product_models (tenant_id, product_line_id, code, name, warranty_months)
    SELECT tid, l.product_line_id, m.code, m.name, m.warranty
      FROM pg_temp.sample_models m
      JOIN aftersales.product_lines l ON l.tenant_id = tid AND l.code = m.line
     ORDER BY m.midx;
    UPDATE pg_temp.sample_models m
       SET model_id = pm.model_id,
           units = GREATEST(5, pg_catalog.round(GREATEST(1000, n / 3) * m.share / 100)::integer)
      FROM aftersales.product_models pm
     WHERE pm.tenant_id = tid AND pm.code = m.code;
    SELECT pg_catalog.array_agg(x.start ORDER BY x.midx) INTO mstarts
      FROM (SELECT m.midx, (pg_catalog.sum(m.fail) OVER (ORDER BY m.midx) - m.fail)
                           / pg_catalog.sum(m.fail) OVER () AS start
              FROM pg_temp.sample_models m) x;

    -- installed units: unit r of a model was installed at launch + span *
    -- (r - 0.5) / units, so that how many were installed by a date is known
    -- in closed form when a ticket picks one
    CREATE TEMP TABLE sample_units ON COMMIT DROP AS
    SELECT x.*, x.code || '-' || pg_catalog.to_char(x.installed_on, 'YYMM') || pg_catalog.lpad(x.r::text, 6, '0') AS serial
      FROM (
    SELECT m.midx, rr.r, c.customer_id, c.org_id, c.tier, m.code, m.warranty, m.model_id,
           m.launch + pg_catalog.floor(m.span * (rr.r - 0.5) / m.units)::integer AS installed_on,
           NULL::bigint AS unit_id
      FROM pg_temp.sample_models m
     CROSS JOIN LATERAL pg_catalog.generate_series(1, m.units) rr (r)
      JOIN pg_temp.sample_customers c
        ON c.g = pg_catalog.width_bucket(aftersales_internal.sample_u(s, m.midx::bigint * 10000000 + rr.r, 301), cstarts)) x;
    ANALYZE pg_temp.sample_units;
    INSERT INTO aftersales.units (tenant_id, model_id, customer_id, serial, installed_on, warranty_ends, org_id)
    SELECT tid, su.model_id, su.customer_id, su.serial, su.installed_on,
           CASE WHEN su.tier = 'key'   -- key customers buy a year more
                THEN (su.installed_on + pg_catalog.make_interval(months => su.warranty + 12))::date - 1 END,
           su.org_id
      FROM pg_temp.sample_units su
     ORDER BY su.midx, su.r;
    UPDATE pg_temp.sample_units su SET unit_id = un.unit_id
      FROM aftersales.units un
     WHERE un.tenant_id = tid AND un.model_id = su.model_id AND un.serial = su.serial;
    CREATE INDEX ON pg_temp.sample_units (midx, r);
    ANALYZE pg_temp.sample_units;

    -- fault types (weight, share needing on-site service)
    CREATE TEMP TABLE sample_problems ON COMMIT DROP AS
    SELECT p.pidx, p.code, p.name, p.weight, p.field, NULL::bigint AS problem_type_id
      FROM (VALUES ( 1, 'E01', '不制冷/不制热', 22.0, 0.85), ( 2, 'E02', '异响振动', 14.0, 0.85),
                   ( 3, 'E03', '漏水漏氟', 12.0, 0.85), ( 4, 'E04', '无法启动', 11.0, 0.85),
                   ( 5, 'E05', '控制板故障', 10.0, 0.85), ( 6, 'E06', '电气故障', 9.0, 0.85),
                   ( 7, 'E07', '传感器报警', 8.0, 0.85), ( 8, 'E08', '参数设置问题', 6.0, 0.25),
                   ( 9, 'E09', '安装调试', 5.0, 0.85), (10, 'E10', '操作咨询', 3.0, 0.05))
           AS p (pidx, code, name, weight, field);
    INSERT INTO aftersales.problem_types (tenant_id, code, name)
    SELECT tid, p.code, p.name FROM pg_temp.sample_problems p ORDER BY p.pidx;
    UPDATE pg_temp.sample_problems p SET problem_type_id = pt.problem_type_id
      FROM aftersales.problem_types pt
     WHERE pt.tenant_id = tid AND pt.code = p.code;
    SELECT pg_catalog.array_agg(x.start ORDER BY x.pidx) INTO pstarts
      FROM (SELECT p.pidx, (pg_catalog.sum(p.weight) OVER (ORDER BY p.pidx) - p.weight)
                           / pg_catalog.sum(p.weight) OVER () AS start
              FROM pg_temp.sample_problems p) x;

    -- the tickets: entry and what they are about, set-based
    CREATE TEMP TABLE sample_plan ON COMMIT DROP AS
    WITH d AS (
        SELECT i.i,
               ARRAY(SELECT LEAST(GREATEST((pg_catalog.hashint8extended(i.i, sb + k) & 9007199254740991)::float8
                                           / 9007199254740992.0, 1e-9), 1 - 1e-9)
                       FROM pg_catalog.generate_series(1, 16) k) AS u
          FROM pg_catalog.generate_series(1, n) i (i)
    ), e AS (
        SELECT d.i, d.u, x.day, y0 + x.day AS entry_date,
               ((y0 + x.day)::timestamp
                 + pg_catalog.make_interval(
                     mins => CASE WHEN d.u[2] < 0.87
                                  THEN 480 + pg_catalog.floor(d.u[3] * 720)::integer
                                  ELSE pg_catalog.floor(d.u[3] * 1440)::integer END,
                     secs => pg_catalog.floor(d.u[4] * 60)))
                 AT TIME ZONE 'Asia/Shanghai' AS opened_at,
               pg_catalog.width_bucket(d.u[5], mstarts) AS midx,
               pg_catalog.width_bucket(d.u[9], pstarts) AS pidx
          FROM d
         CROSS JOIN LATERAL (
               SELECT LEAST(ndays - 1, pg_catalog.floor(ndays * (x0 + 0.3 / (2 * pg_catalog.pi())
                             * pg_catalog.sin(2 * pg_catalog.pi() * x0)))::integer) AS day
                 FROM (SELECT (d.i - 1 + d.u[1]) / n AS x0) z) x
    ), pick AS (
        SELECT e.*, m.code AS model_code, m.model_id, m.name AS model_name, m.units,
               LEAST(m.units, GREATEST(0, pg_catalog.floor(m.units * (e.entry_date - m.launch)::float8
                                                           / m.span + 0.5)::integer)) AS rmax,
               LEAST(m.units, GREATEST(0, pg_catalog.floor(m.units * (e.entry_date - 80 - m.launch)::float8
                                                           / m.span + 0.5)::integer)) AS rearly,
               e.u[6] < CASE WHEN m.code = 'HP-20N' THEN 0.35 ELSE 0.08 END AS early
          FROM e JOIN pg_temp.sample_models m ON m.midx = e.midx
    ), unit_pick AS (
        SELECT p.*,
               CASE WHEN p.u[7] < 0.03 OR p.rmax < 1 THEN NULL
                    WHEN p.early AND p.rmax > p.rearly
                    THEN p.rearly + 1 + pg_catalog.floor(p.u[8] * (p.rmax - p.rearly))::integer
                    ELSE 1 + pg_catalog.floor(p.u[8] * p.rmax)::integer END AS r
          FROM pick p
    )
    SELECT up.i, up.opened_at, up.model_id, up.model_code, su.unit_id,
           COALESCE(su.customer_id, c.customer_id) AS customer_id,
           COALESCE(cs.tier, c.tier) AS tier,
           g.province, g.remote,
           CASE WHEN m.line = 'HP' AND up.u[15] < 0.4 AND sup.org_id IS NOT NULL
                THEN sup.org_id ELSE COALESCE(cs.org_id, c.org_id) END AS org_id,
           pr.problem_type_id,
           CASE WHEN COALESCE(cs.tier, c.tier) = 'key'
                THEN CASE WHEN up.u[10] < 0.30 THEN 'A' WHEN up.u[10] < 0.75 THEN 'B' ELSE 'C' END
                ELSE CASE WHEN up.u[10] < 0.10 THEN 'A' WHEN up.u[10] < 0.45 THEN 'B' ELSE 'C' END
           END::aftersales.priority AS priority,
           channels[pg_catalog.width_bucket(up.u[11], chstarts)] AS channel,
           up.u[12] < pr.field AS field,
           CASE WHEN up.u[13] < 0.35
                THEN up.opened_at + pg_catalog.make_interval(mins => 240 + 30 * pg_catalog.floor(up.u[14] * 137)::integer) END
               AS requested_at,
           pr.name || '：' || up.model_name ||
               ('{，客户来电报修,，设备停机,，间歇性发生,，影响生产,，已持续两天,，报警代码闪烁}'::text[])[1 + pg_catalog.floor(up.u[16] * 6)::integer]
               AS description,
           pg_catalog.row_number() OVER (ORDER BY up.opened_at, up.i) AS nrank,
           NULL::bigint AS ticket_id
      FROM unit_pick up
      JOIN pg_temp.sample_models m ON m.midx = up.midx
      JOIN pg_temp.sample_problems pr ON pr.pidx = up.pidx
      LEFT JOIN pg_temp.sample_units su ON su.midx = up.midx AND su.r = up.r
      LEFT JOIN pg_temp.sample_customers cs ON cs.customer_id = su.customer_id
      LEFT JOIN pg_temp.sample_customers c ON su.unit_id IS NULL AND c.g = pg_catalog.width_bucket(up.u[8], cstarts)
      JOIN pg_temp.sample_geo g ON g.ord = COALESCE(cs.ord, c.ord)
      LEFT JOIN pg_temp.sample_outlets sup ON sup.ord = g.ord AND sup.org_type = 'supplier';
    CREATE UNIQUE INDEX ON pg_temp.sample_plan (nrank);
    ANALYZE pg_temp.sample_plan;

    -- entry through open_tickets, in batches, in time order
    FOR k IN 0 .. (n - 1) / batch LOOP
        WITH ids AS (
            SELECT x.id, x.ord
              FROM aftersales.open_tickets(
                       (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                   'customer', p.customer_id, 'problem_type', p.problem_type_id, 'priority', p.priority,
                                   'description', p.description, 'channel', p.channel, 'unit', p.unit_id, 'model', p.model_id,
                                   'requested_at', p.requested_at, 'field', p.field, 'org', p.org_id, 'opened_at', p.opened_at)
                                ORDER BY p.nrank)
                          FROM pg_temp.sample_plan p
                         WHERE p.nrank > k * batch
                           AND p.nrank <= (k + 1) * batch),
                       actor => 'callcenter', at => y0::timestamp AT TIME ZONE 'Asia/Shanghai')
                   WITH ORDINALITY AS x (id, ord)
        )
        UPDATE pg_temp.sample_plan p SET ticket_id = ids.id
          FROM ids WHERE p.nrank = k * batch + ids.ord;
        IF k % 10 = 0 THEN
            -- the triggers' cached plans were made for empty tables: as the
            -- tables grow, statistics (which count this transaction's rows)
            -- make them plan again, or each batch would cost more than the last
            ANALYZE aftersales.tickets, aftersales.ticket_events, aftersales.ticket_sla, aftersales.occurrences,
                    aftersales.escalation_watches, aftersales.alerts, aftersales.ticket_escalations;
        END IF;
    END LOOP;
    -- Statistics, now that the tables are full: the triggers' cached plans
    -- were made for empty tables, and are made again (ANALYZE invalidates
    -- them) for what is there; it counts this transaction's rows.
    ANALYZE aftersales.tickets, aftersales.ticket_events, aftersales.ticket_sla, aftersales.occurrences,
            aftersales.escalation_watches, aftersales.alerts, aftersales.ticket_escalations;
    IF progress > 0 AND n >= progress THEN
        RAISE NOTICE 'sample data: % tickets entered after % s', n,
            pg_catalog.round(EXTRACT(EPOCH FROM pg_catalog.clock_timestamp() - started)::numeric, 1);
    END IF;

    -- the life cycles, ticket by ticket, event by event, through the API.
    -- Draws (u[1..160] per ticket): 1-16 entry (the plan above), 19-27
    -- the first minutes, 40 + 15 v .. 54 + 15 v visit v (v <= 3), 100-128
    -- the follow-up, 130-158 the follow-up after a revisit.
    FOR r IN SELECT p.nrank, p.ticket_id, p.opened_at,
                    ARRAY(SELECT LEAST(GREATEST((pg_catalog.hashint8extended(p.i, sb + k) & 9007199254740991)::float8
                                                / 9007199254740992.0, 1e-9), 1 - 1e-9)
                            FROM pg_catalog.generate_series(1, 160) k) AS u, p.priority, p.tier, p.field, p.requested_at,
                    p.province, p.remote, oe.engs, oe.logins
               FROM pg_temp.sample_plan p
               JOIN pg_temp.sample_org_engineers oe ON oe.org_id = p.org_id
              ORDER BY p.nrank
    LOOP
        tk := r.ticket_id;
        u := r.u;
        t := r.opened_at;
        st := 'new';
        manager := 'manager:' || r.province;
        agent := 'agent:cs' || lpad((1 + floor(u[19] * 12))::integer::text, 2, '0');
        attempts := 0;
        manual_locked := false;
        v := 0;
        cycle := 0;
        -- 1.2% get stuck for good: on hold for a discontinued part, with
        -- R&D and never assigned, assigned and never started, locked after
        -- two failed handlings and never taken over
        zombie := CASE WHEN u[28] >= 0.012 THEN 0 WHEN u[29] < 0.3 THEN 1 WHEN u[29] < 0.55 THEN 2
                       WHEN u[29] < 0.8 THEN 3 ELSE 4 END;
        <<life>>
        BEGIN
            IF u[20] < 0.02 AND r.priority <> 'A' THEN          -- the customer presses: priority up
                t := t + make_interval(secs => floor(60 + u[21] * 540));
                EXIT life WHEN t >= cutoff;
                PERFORM aftersales.set_priority(tk, CASE r.priority WHEN 'C' THEN 'B' ELSE 'A' END::aftersales.priority,
                                                '客户要求加急', actor => agent, at => t);
            END IF;
            IF u[22] < 0.018 THEN                                -- cancelled before assignment
                t := t + make_interval(secs => floor(300 + u[23] * 36000));
                EXIT life WHEN t >= cutoff;
                PERFORM aftersales.cancel_ticket(tk, cancel_reasons[1 + floor(u[24] * 3)::integer], actor => agent, at => t);
                EXIT life;
            END IF;
            IF u[25] < 0.035 OR zombie = 2 THEN                  -- needs a specialist
                t := t + make_interval(secs => floor(180 + u[26] * 2400));
                EXIT life WHEN t >= cutoff;
                PERFORM aftersales.transfer_ticket(tk, CASE WHEN u[27] < 0.15 OR zombie = 2 THEN 'rnd' ELSE 'technical_support' END::aftersales.ticket_tier,
                                                   '需要技术支持工程师判断', actor => agent, at => t);
                EXIT life WHEN zombie = 2;
            END IF;

            LOOP                                                 -- visits, until closed
                EXIT life WHEN v > 5;
                b := 40 + 15 * v;
                ei := 1 + floor(u[b + 3] * cardinality(r.engs))::integer;
                eng := r.engs[ei];
                login := r.logins[ei];
                IF st = 'locked' THEN                            -- the service manager takes over
                    EXIT life WHEN zombie = 4;
                    t := t + make_interval(secs => floor(900 + u[b + 11] * 14400));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.take_over_ticket(tk, eng, '服务经理接管并指派', actor => manager, at => t);
                ELSE
                    IF v > 0 THEN                                -- another visit, hours later
                        x := 60 + u[b] * 1200;
                    ELSIF r.requested_at IS NOT NULL AND u[b + 1] < 0.10 THEN
                        -- dispatched after the customer's requested date
                        x := extract(epoch FROM r.requested_at - t) / 60 + 10 + u[b + 2] * 170;
                    ELSE
                        loc := t AT TIME ZONE 'Asia/Shanghai';
                        IF (extract(hour FROM loc) < 8 OR extract(hour FROM loc) >= 20) AND r.priority <> 'A' AND u[b + 2] < 0.6 THEN
                            -- entered at night: the morning shift, from 08:30
                            x := extract(epoch FROM date_trunc('day', loc - interval '8 hours 30 minutes')
                                                    + interval '1 day 8 hours 30 minutes' - loc) / 60 + u[b] * 30;
                        ELSE
                            x := CASE WHEN u[b] < 0.80 THEN 1 + u[b] / 0.80 * 6
                                      WHEN u[b] < 0.95 THEN 7 + (u[b] - 0.80) / 0.15 * 50
                                      ELSE 57 + (u[b] - 0.95) / 0.05 * 300 END;
                            IF r.priority = 'A' THEN
                                x := x / 2;
                            END IF;
                        END IF;
                    END IF;
                    t := t + make_interval(secs => floor(x * 60));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.assign_ticket(tk, eng, actor => 'dispatcher', at => t);
                    IF st = 'locked' THEN                        -- assigned too late
                        t := t + make_interval(secs => floor(900 + u[b + 11] * 14400));
                        EXIT life WHEN t >= cutoff;
                        st := aftersales.take_over_ticket(tk, eng, '服务经理接管并指派', actor => manager, at => t);
                    END IF;
                END IF;
                EXIT life WHEN zombie = 3;

                t := t + make_interval(secs => floor(30 + u[b + 4] * 240));
                EXIT life WHEN t >= cutoff;
                st := aftersales.start_work(tk, actor => login, at => t);
                x := CASE WHEN r.tier = 'key' THEN 0.03 ELSE 0.004 END;
                IF v = 0 AND NOT manual_locked AND u[b + 13] < x THEN
                    manual_locked := true;                       -- the manager steps in
                    t := t + make_interval(secs => floor(600 + u[b + 14] * 3600));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.lock_ticket(tk, '重点客户投诉，服务经理介入', actor => manager, at => t);
                    CONTINUE;
                END IF;
                IF v = 0 AND u[b + 10] < 0.006 THEN              -- cancelled while in work
                    t := t + make_interval(secs => floor(600 + u[b + 14] * 6600));
                    EXIT life WHEN t >= cutoff;
                    PERFORM aftersales.cancel_ticket(tk, cancel_reasons[1 + floor(u[24] * 3)::integer], actor => agent, at => t);
                    EXIT life;
                END IF;
                IF r.field THEN                                  -- travel
                    x := 120 * exp(0.36 * ln(u[b + 5] / (1 - u[b + 5])));
                    IF r.remote THEN
                        x := x * 1.8;
                    END IF;
                    t := t + make_interval(secs => floor(x * 60));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.arrive_on_site(tk, actor => login, at => t);
                END IF;
                IF cycle = 0 AND (u[b + 6] < 0.08 OR zombie = 1) THEN  -- waiting for a part or the customer
                    t := t + make_interval(secs => floor(300 + u[b + 14] * 2700));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.hold_ticket(tk, CASE WHEN zombie = 1 THEN '备件停产，等待替代件'
                                                          ELSE hold_reasons[CASE WHEN u[b + 8] < 0.6 THEN 1 ELSE 2 END] END,
                                                 actor => login, at => t);
                    EXIT life WHEN zombie = 1;
                    x := CASE WHEN u[b + 7] < 0.04 THEN 28800 + u[b + 9] * 100000       -- weeks: a discontinued part
                              WHEN u[b + 8] < 0.6 THEN 240 + u[b + 7] * 6960
                              ELSE 60 + u[b + 7] * 2820 END;
                    t := t + make_interval(secs => floor(x * 60));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.resume_ticket(tk, actor => login, at => t);
                END IF;
                x := CASE WHEN r.field THEN 75 ELSE 25 END * exp(0.36 * ln(u[b + 12] / (1 - u[b + 12])));
                t := t + make_interval(secs => floor(x * 60));
                EXIT life WHEN t >= cutoff;
                IF cycle = 0 AND (zombie = 4 OR (attempts = 0 AND u[b + 9] < 0.09) OR (attempts = 1 AND u[b + 9] < 0.25)) THEN
                    -- the handling failed: back to assignment, or locked after the second
                    st := aftersales.fail_attempt(tk, fail_reasons[1 + floor(u[b + 14] * 3)::integer], actor => login, at => t);
                    attempts := attempts + 1;
                    v := v + 1;
                    CONTINUE;
                END IF;
                st := aftersales.resolve_ticket(tk, resolutions[1 + floor(u[b + 10] * 7)::integer], actor => login, at => t);

                -- the follow-up call (回访)
                fb := CASE WHEN cycle = 0 THEN 100 ELSE 130 END;
                EXIT life WHEN cycle = 0 AND u[fb + 27] >= 0.93;  -- never called back: stays resolved
                t := t + make_interval(secs => floor(14400 + u[fb + 28] * 244800));
                EXIT life WHEN t >= cutoff;
                sat := cycle > 0 OR u[fb + 2] < CASE WHEN t - r.opened_at > interval '72 hours' THEN 0.85 ELSE 0.96 END;
                score_csat := CASE WHEN u[fb + 4] < 0.15 THEN NULL
                                   WHEN sat THEN CASE WHEN u[fb + 3] < 0.58 THEN 5 WHEN u[fb + 3] < 0.90 THEN 4 ELSE 3 END
                                   ELSE CASE WHEN u[fb + 3] < 0.40 THEN 1 WHEN u[fb + 3] < 0.75 THEN 2 ELSE 3 END END;
                score_nps := CASE WHEN u[fb + 6] < 0.28 THEN NULL
                                  WHEN sat THEN ('{10,10,10,10,9,9,9,8,8,7,6,5}'::integer[])[1 + floor(u[fb + 5] * 12)::integer]
                                  ELSE floor(u[fb + 5] * 7)::integer END;
                remark := CASE WHEN u[fb + 7] >= 0.35 THEN NULL
                               WHEN sat THEN comments[1 + floor(u[fb + 8] * 3)::integer]
                               WHEN u[fb + 8] < 0.5 THEN comments[4] ELSE comments[3] END;
                st := aftersales.follow_up(tk, sat, score_csat, score_nps, remark, actor => agent, at => t);
                IF st = 'new' THEN                               -- not satisfied: back to assignment
                    cycle := cycle + 1;
                    v := v + 1;
                    CONTINUE;
                END IF;
                IF cycle = 0 AND u[fb + 9] < 0.025 THEN          -- the fault comes back
                    t := t + make_interval(secs => floor(259200 + u[fb + 10] * 2332800));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.reopen_ticket(tk, '故障复发，客户再次报修', actor => agent, at => t);
                    cycle := cycle + 1;
                    v := v + 1;
                    CONTINUE;
                END IF;
                EXIT life;
            END LOOP;
        END;
        done := done + 1;
        IF done % 200000 = 0 THEN   -- the event log grows sevenfold meanwhile
            ANALYZE aftersales.ticket_events, aftersales.alerts, aftersales.ticket_escalations;
        END IF;
        IF progress > 0 AND done % progress = 0 THEN
            RAISE NOTICE 'sample data: % of % tickets through their life cycle after % s', done, n,
                round(extract(epoch FROM clock_timestamp() - started)::numeric, 1);
        END IF;
    END LOOP;

    -- a bulk load leaves the planner blind until autovacuum comes by: the
    -- KPI queries right after it would plan for empty tables
    ANALYZE aftersales.organisations, aftersales.customers, aftersales.engineers, aftersales.product_models,
            aftersales.units, aftersales.problem_types, aftersales.service_agreements, aftersales.sla_policies,
            aftersales.calendars, aftersales.tickets, aftersales.ticket_events, aftersales.ticket_sla,
            aftersales.occurrences, aftersales.escalation_watches, aftersales.alerts, aftersales.ticket_escalations;
    SELECT count(*) INTO events_n FROM aftersales.ticket_events ev WHERE ev.tenant_id = tid;
    INSERT INTO aftersales.sample_data_runs AS sr (tenant_id, tenant_name, seed, tickets, year, events, started_at, seconds, checksum)
    VALUES (tid, generate_sample_data.tenant_name, s, n, yr, events_n, started,
            round(extract(epoch FROM clock_timestamp() - started)::numeric, 1),
            aftersales.sample_data_checksum(tid))
    RETURNING sr.* INTO result;
    PERFORM set_config('aftersales.tenant_id', COALESCE(old_tenant, ''), true);
    DROP TABLE pg_temp.sample_geo, pg_temp.sample_outlets, pg_temp.sample_customers, pg_temp.sample_models,
               pg_temp.sample_units, pg_temp.sample_problems, pg_temp.sample_plan, pg_temp.sample_org_engineers;
    RETURN result;
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.hold_ticket(ticket bigint, reason text, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS aftersales.ticket_status
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'hold', actor, at, reason);
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.kpi_backlog(dimension text DEFAULT 'organisation_type'::text, as_of timestamp with time zone DEFAULT aftersales.now(), tenant bigint DEFAULT aftersales.current_tenant())
 RETURNS TABLE(dim_key text, dim_name text, open_tickets bigint, unassigned bigint, on_hold bigint, in_work bigint, over_24h bigint, over_48h bigint, over_72h bigint, over_96h bigint, over_120h bigint, avg_age_hours numeric, max_age_hours numeric)
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    d record;
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_backlog',
        'SELECT * FROM aftersales.kpi_backlog(''organisation_type'', as_of => ''2026-03-01 00:00+08'');',
        NULL, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        NULL, NULL, as_of, 'UTC', tenant);
    d := aftersales_internal.kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS dim_key, pg_catalog.max(%2$s) AS dim_name,
       pg_catalog.count(*),
       pg_catalog.count(*) FILTER (WHERE k.status IN ('new', 'locked')),
       pg_catalog.count(*) FILTER (WHERE k.status = 'on_hold'),
       pg_catalog.count(*) FILTER (WHERE k.status IN ('assigned', 'in_progress', 'on_site')),
       pg_catalog.count(*) FILTER (WHERE k.age_hours > 24),
       pg_catalog.count(*) FILTER (WHERE k.age_hours > 48),
       pg_catalog.count(*) FILTER (WHERE k.age_hours > 72),
       pg_catalog.count(*) FILTER (WHERE k.age_hours > 96),
       pg_catalog.count(*) FILTER (WHERE k.age_hours > 120),
       pg_catalog.round(pg_catalog.avg(k.age_hours), 2),
       pg_catalog.max(k.age_hours)
  FROM (SELECT b.tenant_id, b.ticket_id, b.status, b.priority, b.engineer_id, b.age_hours,
               t.tenant_name, t.region, t.province, t.org_id, t.org_name, t.org_type, t.model_id,
               t.model_name, t.problem_type_id, t.problem_name, t.channel, be.name AS engineer_name
          FROM aftersales.backlog_as_of($2, $1) b
          JOIN aftersales._kpi_ticket_dims t ON t.tenant_id = b.tenant_id AND t.ticket_id = b.ticket_id
          LEFT JOIN aftersales.engineers be ON be.tenant_id = b.tenant_id AND be.engineer_id = b.engineer_id) k
 GROUP BY 1) q
 ORDER BY %3$s$q$, d.key_sql, d.name_sql, d.order_sql)
    USING tenant, as_of;
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.kpi_dispatch(period text, dimension text, since timestamp with time zone, until timestamp with time zone, zone text DEFAULT current_setting('TimeZone'::text), tenant bigint DEFAULT aftersales.current_tenant())
 RETURNS TABLE(period_start date, dim_key text, dim_name text, dispatches bigint, tickets bigint, assigns bigint, reassigns bigint, take_overs bigint)
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    d record;
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_dispatch',
        'SELECT * FROM aftersales.kpi_dispatch(''month'', ''organisation_type'', ''2026-01-01'', ''2027-01-01'');',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        since, until, NULL, zone, tenant);
    d := aftersales_internal.kpi_dimension_sql(dimension);
    -- a dispatch is an event, dated by the event; its engineer is the one
    -- it gave the ticket to, the other dimensions are the ticket's
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name,
       pg_catalog.count(*) AS dispatches,
       pg_catalog.count(DISTINCT k.ticket_id),
       pg_catalog.count(*) FILTER (WHERE k.event = 'assign'),
       pg_catalog.count(*) FILTER (WHERE k.event = 'reassign'),
       pg_catalog.count(*) FILTER (WHERE k.event = 'take_over')
  FROM (SELECT ev.tenant_id, ev.ticket_id, ev.at, ev.event, t.tenant_name, t.region, t.province, t.org_id,
               t.org_name, t.org_type, t.model_id, t.model_name, t.problem_type_id, t.problem_name,
               t.priority, t.channel, de.engineer_id, de.name AS engineer_name
          FROM aftersales.ticket_events ev
          JOIN aftersales._kpi_ticket_dims t ON t.tenant_id = ev.tenant_id AND t.ticket_id = ev.ticket_id
          LEFT JOIN aftersales.engineers de
            ON de.tenant_id = ev.tenant_id AND de.engineer_id = (ev.payload ->> 'assignee')::bigint
         WHERE ev.event IN ('assign', 'reassign', 'take_over') AND ev.to_state = 'assigned'
           AND ($1::bigint IS NULL OR ev.tenant_id = $1) AND ev.at >= $2 AND ev.at < $3) k
 GROUP BY 1, 2) q
 ORDER BY q.period_start, %4$s$q$,
        aftersales_internal.kpi_period_sql(period, 'k.at', 4), d.key_sql, d.name_sql, d.order_sql)
    USING tenant, since, until, zone;
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.kpi_durations(period text, dimension text, since timestamp with time zone, until timestamp with time zone, as_of timestamp with time zone DEFAULT aftersales.now(), zone text DEFAULT current_setting('TimeZone'::text), tenant bigint DEFAULT aftersales.current_tenant())
 RETURNS TABLE(period_start date, dim_key text, dim_name text, measure text, clock text, n bigint, mean_minutes numeric, p50_minutes numeric, p90_minutes numeric, p95_minutes numeric, max_minutes numeric)
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    d record;
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_durations',
        'SELECT * FROM aftersales.kpi_durations(''month'', ''region'', ''2026-01-01'', ''2027-01-01'');',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        since, until, as_of, zone, tenant);
    d := aftersales_internal.kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.period_start, q.dim_key, q.dim_name, q.measure, q.clock, (q.s).n,
       pg_catalog.round((q.s).mean::numeric, 2), pg_catalog.round((q.s).p50::numeric, 2),
       pg_catalog.round((q.s).p90::numeric, 2), pg_catalog.round((q.s).p95::numeric, 2),
       pg_catalog.round((q.s).max::numeric, 2)
  FROM (SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name, m.ord, m.measure, m.clock,
               aftersales.duration_stats(m.minutes::double precision) AS s
          FROM aftersales.kpi_ticket_facts($2, $3, $4, $1) k
         CROSS JOIN LATERAL (VALUES
               (1, 'first_response', 'wall', k.response_minutes),
               (2, 'first_response', 'business', k.response_business_minutes),
               (3, 'arrival', 'wall', k.arrival_minutes),
               (4, 'arrival', 'business', k.arrival_business_minutes),
               (5, 'resolution', 'wall', k.resolution_minutes),
               (6, 'resolution', 'business', k.resolution_business_minutes),
               (7, 'repair', 'wall', k.repair_minutes),
               (8, 'repair', 'business', k.repair_business_minutes),
               (9, 'handling', 'wall', k.handling_minutes),
               (10, 'handling', 'business', k.handling_business_minutes)) AS m (ord, measure, clock, minutes)
         GROUP BY 1, 2, m.ord, m.measure, m.clock) q
 WHERE (q.s).n > 0
 ORDER BY q.period_start, %4$s, q.ord$q$,
        aftersales_internal.kpi_period_sql(period, 'k.opened_at', 5), d.key_sql, d.name_sql, d.order_sql)
    USING tenant, since, until, as_of, zone;
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.kpi_engineer_holdings(as_of timestamp with time zone DEFAULT aftersales.now(), tenant bigint DEFAULT aftersales.current_tenant())
 RETURNS TABLE(tenant_id bigint, engineer_id bigint, engineer_name text, org_id bigint, org_name text, org_type text, region text, capacity integer, on_duty boolean, active boolean, holdings bigint, assigned bigint, in_progress bigint, on_site bigint, on_hold bigint, load_ratio numeric, max_age_hours numeric)
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_engineer_holdings',
        'SELECT * FROM aftersales.kpi_engineer_holdings(as_of => ''2026-03-01 00:00+08'');',
        NULL, NULL, NULL, NULL, NULL, as_of, 'UTC', tenant);
    RETURN QUERY
    SELECT e.tenant_id, e.engineer_id, e.name, e.org_id, o.name, o.org_type, e.region::text, e.capacity,
           e.on_duty, e.active,
           pg_catalog.count(b.ticket_id),
           pg_catalog.count(*) FILTER (WHERE b.status = 'assigned'),
           pg_catalog.count(*) FILTER (WHERE b.status = 'in_progress'),
           pg_catalog.count(*) FILTER (WHERE b.status = 'on_site'),
           pg_catalog.count(*) FILTER (WHERE b.status = 'on_hold'),
           pg_catalog.round(pg_catalog.count(b.ticket_id)::numeric / e.capacity, 4),
           pg_catalog.max(b.age_hours)
      FROM aftersales.engineers e
      LEFT JOIN aftersales.organisations o ON o.tenant_id = e.tenant_id AND o.org_id = e.org_id
      LEFT JOIN aftersales.backlog_as_of(kpi_engineer_holdings.as_of, kpi_engineer_holdings.tenant) b
        ON b.tenant_id = e.tenant_id AND b.engineer_id = e.engineer_id
     WHERE (kpi_engineer_holdings.tenant IS NULL OR e.tenant_id = kpi_engineer_holdings.tenant)
     GROUP BY e.tenant_id, e.engineer_id, o.name, o.org_type
    HAVING e.active OR pg_catalog.count(b.ticket_id) > 0
     ORDER BY e.tenant_id, e.engineer_id;
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.kpi_failures(period text, dimension text, since timestamp with time zone, until timestamp with time zone, zone text DEFAULT current_setting('TimeZone'::text), tenant bigint DEFAULT aftersales.current_tenant(), top integer DEFAULT NULL::integer)
 RETURNS TABLE(period_start date, dim_key text, dim_name text, failures bigint, early_failures bigint, in_warranty_failures bigint, out_of_warranty_failures bigint, warranty_unknown bigint, rank bigint)
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    d record;
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_failures',
        'SELECT * FROM aftersales.kpi_failures(''month'', ''province'', ''2026-01-01'', ''2027-01-01'', top => 5);',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,priority,channel}',
        since, until, NULL, zone, tenant);
    IF top IS NOT NULL AND top < 1 THEN
        RAISE EXCEPTION 'top must be positive, not %', top
            USING ERRCODE = '22023',
                  HINT = 'top => 5 keeps the five dimension values with the most failures in each period; NULL keeps them all.';
    END IF;
    d := aftersales_internal.kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT r.period_start, r.dim_key, r.dim_name, r.failures, r.early, r.inw, r.outw, r.unknown, r.rank
  FROM (SELECT a.*, pg_catalog.row_number() OVER (PARTITION BY a.period_start
                                                   ORDER BY a.failures DESC, %4$s) AS rank
          FROM (SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name,
                       pg_catalog.count(*) AS failures,
                       pg_catalog.count(*) FILTER (WHERE w.class = 'early') AS early,
                       pg_catalog.count(*) FILTER (WHERE w.class = 'in_warranty') AS inw,
                       pg_catalog.count(*) FILTER (WHERE w.class = 'out_of_warranty') AS outw,
                       pg_catalog.count(*) FILTER (WHERE w.class = 'unknown') AS unknown
                  FROM aftersales._kpi_ticket_dims k
                  JOIN aftersales_internal.kpi_config($1) g ON g.tenant_id = k.tenant_id
                  LEFT JOIN aftersales.units u ON u.tenant_id = k.tenant_id AND u.unit_id = k.unit_id
                  LEFT JOIN aftersales.product_models um ON um.tenant_id = u.tenant_id AND um.model_id = u.model_id
                 CROSS JOIN LATERAL (
                       SELECT CASE
                                WHEN x.entry - u.installed_on BETWEEN 0 AND g.early_failure_days THEN 'early'
                                WHEN x.warranty_end IS NULL THEN 'unknown'
                                WHEN x.entry <= x.warranty_end THEN 'in_warranty'
                                ELSE 'out_of_warranty' END AS class
                         FROM (SELECT pg_catalog.timezone($4, k.opened_at)::date AS entry,
                                      COALESCE(u.warranty_ends,
                                               (u.installed_on + pg_catalog.make_interval(months => um.warranty_months))::date - 1)
                                          AS warranty_end) x) w
                 WHERE ($1::bigint IS NULL OR k.tenant_id = $1) AND k.opened_at >= $2 AND k.opened_at < $3
                   AND k.status <> 'cancelled'
                 GROUP BY 1, 2) a) r
 WHERE $5::integer IS NULL OR r.rank <= $5
 ORDER BY r.period_start, r.rank$q$,
        aftersales_internal.kpi_period_sql(period, 'k.opened_at', 4), d.key_sql, d.name_sql,
        pg_catalog.replace(d.order_sql, 'q.', 'a.'))
    USING tenant, since, until, zone, top;
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.kpi_headline(period text, dimension text, since timestamp with time zone, until timestamp with time zone, as_of timestamp with time zone DEFAULT aftersales.now(), zone text DEFAULT current_setting('TimeZone'::text), tenant bigint DEFAULT aftersales.current_tenant())
 RETURNS TABLE(period_start date, dim_key text, dim_name text, tickets bigint, cancelled bigint, resolved bigint, closed bigint, unresolved bigint, response_rate numeric, arrival_rate numeric, completion_rate numeric, closed_loop_rate numeric, reopen_rate numeric, csat_avg numeric, csat_good_share numeric, nps numeric, csat_responses bigint, nps_responses bigint)
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    d record;
    cfg_join text := '';
    response_target interval;
    arrival_target interval;
    completion_target interval;
    csat_good_min numeric;
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_headline',
        'SELECT * FROM aftersales.kpi_headline(''month'', ''region'', ''2026-01-01'', ''2027-01-01'');',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        since, until, as_of, zone, tenant);
    d := aftersales_internal.kpi_dimension_sql(dimension);
    -- The thresholds: parameters $6 to $9 for one tenant (which keeps the
    -- plan a plain parallel scan), a join for every tenant.
    IF tenant IS NULL THEN
        cfg_join := 'JOIN aftersales_internal.kpi_config(NULL) g ON g.tenant_id = k.tenant_id';
    ELSE
        SELECT g.response_target, g.arrival_target, g.completion_target, g.csat_good_min
          INTO response_target, arrival_target, completion_target, csat_good_min
          FROM aftersales_internal.kpi_config(tenant) g;
    END IF;
    -- The same judgements as kpi_ticket_facts, inlined.
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name,
       pg_catalog.count(*) AS tickets,
       pg_catalog.count(*) FILTER (WHERE k.status = 'cancelled') AS cancelled,
       pg_catalog.count(*) FILTER (WHERE k.status <> 'cancelled' AND k.resolved_at IS NOT NULL) AS resolved,
       pg_catalog.count(*) FILTER (WHERE k.status = 'closed') AS closed,
       pg_catalog.count(*) FILTER (WHERE k.status NOT IN ('resolved', 'closed', 'cancelled')) AS unresolved,
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' THEN NULL
           WHEN k.first_response_at IS NOT NULL THEN (k.first_response_at <= k.opened_at + %5$s)::integer
           WHEN k.status = 'on_hold' THEN NULL
           WHEN k.opened_at < $4 - %5$s THEN 0 END), 4),
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' OR NOT k.field THEN NULL
           WHEN k.arrived_at IS NOT NULL THEN (k.arrived_at <= k.opened_at + %6$s)::integer
           WHEN k.first_resolved_at IS NOT NULL OR k.status = 'on_hold' THEN NULL
           WHEN k.opened_at < $4 - %6$s THEN 0 END), 4),
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' THEN NULL
           WHEN k.resolved_at IS NOT NULL THEN (k.resolved_at <= k.opened_at + %7$s)::integer
           WHEN k.status = 'on_hold' THEN NULL
           WHEN k.opened_at < $4 - %7$s THEN 0 END), 4),
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' OR k.first_resolved_at IS NULL THEN NULL
           ELSE (k.status = 'closed')::integer END), 4),
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' OR k.first_resolved_at IS NULL THEN NULL
           ELSE (k.reopen_count > 0)::integer END), 4),
       pg_catalog.round(pg_catalog.avg(k.csat) FILTER (WHERE k.status <> 'cancelled'), 2),
       pg_catalog.round(pg_catalog.avg((k.csat >= %8$s)::integer) FILTER (WHERE k.status <> 'cancelled'), 4),
       pg_catalog.round(100 * (pg_catalog.count(*) FILTER (WHERE k.nps >= 9 AND k.status <> 'cancelled')
                               - pg_catalog.count(*) FILTER (WHERE k.nps <= 6 AND k.status <> 'cancelled'))::numeric
                        / NULLIF(pg_catalog.count(k.nps) FILTER (WHERE k.status <> 'cancelled'), 0), 1),
       pg_catalog.count(k.csat) FILTER (WHERE k.status <> 'cancelled'),
       pg_catalog.count(k.nps) FILTER (WHERE k.status <> 'cancelled')
  FROM aftersales._kpi_ticket_dims k
  %9$s
 WHERE ($1::bigint IS NULL OR k.tenant_id = $1) AND k.opened_at >= $2 AND k.opened_at < $3
 GROUP BY 1, 2) q
 ORDER BY q.period_start, %4$s$q$,
        aftersales_internal.kpi_period_sql(period, 'k.opened_at', 5), d.key_sql, d.name_sql, d.order_sql,
        CASE WHEN tenant IS NULL THEN 'g.response_target' ELSE '$6' END,
        CASE WHEN tenant IS NULL THEN 'g.arrival_target' ELSE '$7' END,
        CASE WHEN tenant IS NULL THEN 'g.completion_target' ELSE '$8' END,
        CASE WHEN tenant IS NULL THEN 'g.csat_good_min' ELSE '$9' END,
        cfg_join)
    USING tenant, since, until, as_of, zone, response_target, arrival_target, completion_target, csat_good_min;
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.kpi_service(period text, dimension text, since timestamp with time zone, until timestamp with time zone, as_of timestamp with time zone DEFAULT aftersales.now(), zone text DEFAULT current_setting('TimeZone'::text), tenant bigint DEFAULT aftersales.current_tenant())
 RETURNS TABLE(period_start date, dim_key text, dim_name text, tickets bigint, cancelled bigint, resolved bigint, closed bigint, unresolved bigint, response_rate numeric, arrival_rate numeric, completion_rate numeric, on_time_completion_rate numeric, sla_first_response_rate numeric, sla_arrival_rate numeric, sla_resolution_rate numeric, avg_first_response_minutes numeric, avg_first_response_business_minutes numeric, avg_resolution_minutes numeric, avg_resolution_business_minutes numeric, mttr_minutes numeric, mttr_business_minutes numeric, first_time_fix_rate numeric, closed_loop_rate numeric, repeat_problem_rate numeric, reopen_rate numeric, csat_avg numeric, csat_good_share numeric, nps numeric, csat_responses bigint, nps_responses bigint)
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    d record;
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_service',
        'SELECT * FROM aftersales.kpi_service(''month'', ''region'', ''2026-01-01'', ''2027-01-01'');',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        since, until, as_of, zone, tenant);
    d := aftersales_internal.kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name,
       pg_catalog.count(*) AS tickets,
       pg_catalog.sum(k.cancelled)::bigint AS cancelled,
       pg_catalog.count(k.resolution_minutes) AS resolved,
       pg_catalog.count(*) FILTER (WHERE k.status = 'closed') AS closed,
       pg_catalog.count(*) FILTER (WHERE k.status NOT IN ('resolved', 'closed', 'cancelled')) AS unresolved,
       pg_catalog.round(pg_catalog.avg(k.responded_in_target), 4),
       pg_catalog.round(pg_catalog.avg(k.arrived_in_target), 4),
       pg_catalog.round(pg_catalog.avg(k.completed_in_target), 4),
       pg_catalog.round(pg_catalog.avg(k.completed_on_time), 4),
       pg_catalog.round(pg_catalog.count(*) FILTER (WHERE k.sla_first_response = 'met')::numeric
                        / NULLIF(pg_catalog.count(*) FILTER (WHERE k.sla_first_response IN ('met', 'breached')), 0), 4),
       pg_catalog.round(pg_catalog.count(*) FILTER (WHERE k.sla_arrival = 'met')::numeric
                        / NULLIF(pg_catalog.count(*) FILTER (WHERE k.sla_arrival IN ('met', 'breached')), 0), 4),
       pg_catalog.round(pg_catalog.count(*) FILTER (WHERE k.sla_resolution = 'met')::numeric
                        / NULLIF(pg_catalog.count(*) FILTER (WHERE k.sla_resolution IN ('met', 'breached')), 0), 4),
       pg_catalog.round(pg_catalog.avg(k.response_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.response_business_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.resolution_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.resolution_business_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.repair_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.repair_business_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.first_time_fix), 4),
       pg_catalog.round(pg_catalog.avg(k.closed_loop), 4),
       pg_catalog.round(pg_catalog.avg(k.repeat_problem), 4),
       pg_catalog.round(pg_catalog.avg(k.reopened), 4),
       pg_catalog.round(pg_catalog.avg(k.csat_score), 2),
       pg_catalog.round(pg_catalog.avg(k.csat_good), 4),
       pg_catalog.round(100 * (pg_catalog.avg(k.nps_promoter) - pg_catalog.avg(k.nps_detractor)), 1),
       pg_catalog.count(k.csat_score),
       pg_catalog.count(k.nps_score)
  FROM aftersales.kpi_ticket_facts($2, $3, $4, $1) k
 GROUP BY 1, 2) q
 ORDER BY q.period_start, %4$s$q$,
        aftersales_internal.kpi_period_sql(period, 'k.opened_at', 5), d.key_sql, d.name_sql, d.order_sql)
    USING tenant, since, until, as_of, zone;
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.kpi_staff(period text, since timestamp with time zone, until timestamp with time zone, as_of timestamp with time zone DEFAULT aftersales.now(), zone text DEFAULT current_setting('TimeZone'::text), tenant bigint DEFAULT aftersales.current_tenant())
 RETURNS TABLE(period_start date, engineer_id bigint, engineer_name text, org_id bigint, org_name text, org_type text, tickets bigint, resolved bigint, unresolved bigint, avg_handling_minutes numeric, avg_handling_business_minutes numeric, total_handling_minutes numeric, first_time_fix_rate numeric, csat_avg numeric)
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_staff',
        'SELECT * FROM aftersales.kpi_staff(''month'', ''2026-01-01'', ''2027-01-01'');',
        period, NULL, NULL, since, until, as_of, zone, tenant);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS period_start, k.engineer_id, pg_catalog.max(k.engineer_name),
       pg_catalog.max(e.org_id), pg_catalog.max(o.name), pg_catalog.max(o.org_type),
       pg_catalog.count(*) AS tickets,
       pg_catalog.count(k.resolution_minutes),
       pg_catalog.count(*) FILTER (WHERE k.status NOT IN ('resolved', 'closed')),
       pg_catalog.round(pg_catalog.avg(k.handling_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.handling_business_minutes), 2),
       pg_catalog.round(pg_catalog.sum(k.handling_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.first_time_fix), 4),
       pg_catalog.round(pg_catalog.avg(k.csat_score), 2)
  FROM aftersales.kpi_ticket_facts($2, $3, $4, $1) k
  JOIN aftersales.engineers e ON e.tenant_id = k.tenant_id AND e.engineer_id = k.engineer_id
  LEFT JOIN aftersales.organisations o ON o.tenant_id = e.tenant_id AND o.org_id = e.org_id
 WHERE k.cancelled = 0
 GROUP BY 1, k.tenant_id, k.engineer_id) q
 ORDER BY q.period_start, q.engineer_id$q$,
        aftersales_internal.kpi_period_sql(period, 'k.opened_at', 5))
    USING tenant, since, until, as_of, zone;
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.kpi_ticket_facts(since timestamp with time zone, until timestamp with time zone, as_of timestamp with time zone DEFAULT aftersales.now(), tenant bigint DEFAULT aftersales.current_tenant())
 RETURNS TABLE(tenant_id bigint, tenant_name text, ticket_id bigint, opened_at timestamp with time zone, status text, priority text, channel text, field boolean, customer_tier text, region text, province text, org_id bigint, org_name text, org_type text, unit_id bigint, model_id bigint, model_name text, problem_type_id bigint, problem_name text, engineer_id bigint, engineer_name text, cancelled integer, response_minutes numeric, response_business_minutes numeric, responded_in_target integer, arrival_minutes numeric, arrival_business_minutes numeric, arrived_in_target integer, resolution_minutes numeric, resolution_business_minutes numeric, completed_in_target integer, repair_minutes numeric, repair_business_minutes numeric, handling_minutes numeric, handling_business_minutes numeric, promised_at timestamp with time zone, completed_on_time integer, sla_first_response text, sla_arrival text, sla_resolution text, first_time_fix integer, closed_loop integer, reopened integer, repeat_problem integer, csat_score integer, csat_good integer, nps_score integer, nps_promoter integer, nps_detractor integer)
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_ticket_facts',
        'SELECT * FROM aftersales.kpi_ticket_facts(''2026-01-01'', ''2026-02-01'', as_of => ''2026-02-01'');',
        NULL, NULL, NULL, since, until, as_of, 'UTC', tenant);
    RETURN QUERY
    WITH cfg AS (
        SELECT * FROM aftersales_internal.kpi_config(kpi_ticket_facts.tenant)
    ), base AS (
        SELECT k.*, g.response_target, g.arrival_target, g.completion_target, g.csat_good_min,
               k.status = 'cancelled' AS is_cancelled,
               k.status = 'on_hold' AS is_held
          FROM aftersales._kpi_ticket_dims k
          JOIN cfg g ON g.tenant_id = k.tenant_id
         WHERE (kpi_ticket_facts.tenant IS NULL OR k.tenant_id = kpi_ticket_facts.tenant)
           AND k.opened_at >= kpi_ticket_facts.since AND k.opened_at < kpi_ticket_facts.until
    ), clocks AS (
        -- one row per ticket: its policy and the state of its three clocks
        SELECT s.tenant_id, s.ticket_id, pg_catalog.min(s.policy_id) AS policy_id,
               pg_catalog.min(COALESCE(s.outcome, 'running')) FILTER (WHERE s.metric = 'first_response') AS fr,
               pg_catalog.min(COALESCE(s.outcome, 'running')) FILTER (WHERE s.metric = 'arrival') AS arr,
               pg_catalog.min(COALESCE(s.outcome, 'running')) FILTER (WHERE s.metric = 'resolution') AS res,
               pg_catalog.min(s.due_at) FILTER (WHERE s.metric = 'resolution') AS res_due
          FROM aftersales.ticket_sla s
         WHERE (kpi_ticket_facts.tenant IS NULL OR s.tenant_id = kpi_ticket_facts.tenant)
           AND s.started_at >= kpi_ticket_facts.since AND s.started_at < kpi_ticket_facts.until
         GROUP BY s.tenant_id, s.ticket_id
    ), repeats AS (
        -- the previous ticket of the same unit and problem type, not cancelled
        SELECT r.tenant_id, r.ticket_id, r.gap <= g.repeat_window AS is_repeat
          FROM (SELECT t.tenant_id, t.ticket_id, t.opened_at,
                       t.opened_at - pg_catalog.lag(t.opened_at) OVER (
                           PARTITION BY t.tenant_id, t.unit_id, t.problem_type_id
                           ORDER BY t.opened_at, t.ticket_id) AS gap
                  FROM aftersales.tickets t
                 WHERE (kpi_ticket_facts.tenant IS NULL OR t.tenant_id = kpi_ticket_facts.tenant)
                   AND t.unit_id IS NOT NULL AND t.status <> 'cancelled'
                   AND t.opened_at < kpi_ticket_facts.until
                   AND t.opened_at >= kpi_ticket_facts.since - (SELECT pg_catalog.max(c2.repeat_window) FROM cfg c2)) r
          JOIN cfg g ON g.tenant_id = r.tenant_id
         WHERE r.opened_at >= kpi_ticket_facts.since
    ), revisited AS (
        -- tickets with more than one arrival on site (an arrival is never
        -- earlier than the ticket's entry)
        SELECT ev.tenant_id, ev.ticket_id
          FROM aftersales.ticket_events ev
         WHERE (kpi_ticket_facts.tenant IS NULL OR ev.tenant_id = kpi_ticket_facts.tenant)
           AND ev.event = 'arrive' AND ev.at >= kpi_ticket_facts.since
         GROUP BY ev.tenant_id, ev.ticket_id
        HAVING pg_catalog.count(*) > 1
    ), judged AS (
        SELECT b.*, cl.fr, cl.arr, cl.res, cal.calendar AS cal, rp.is_repeat, rv.ticket_id IS NOT NULL AS is_revisited,
               COALESCE(b.requested_at, cl.res_due) AS promise
          FROM base b
          LEFT JOIN clocks cl ON cl.tenant_id = b.tenant_id AND cl.ticket_id = b.ticket_id
          LEFT JOIN aftersales.sla_policies sp ON sp.tenant_id = cl.tenant_id AND sp.policy_id = cl.policy_id
          LEFT JOIN aftersales.calendars cal ON cal.tenant_id = sp.tenant_id AND cal.name = sp.calendar
          LEFT JOIN repeats rp ON rp.tenant_id = b.tenant_id AND rp.ticket_id = b.ticket_id
          LEFT JOIN revisited rv ON rv.tenant_id = b.tenant_id AND rv.ticket_id = b.ticket_id
    )
    SELECT j.tenant_id, j.tenant_name, j.ticket_id, j.opened_at,
           j.status::text, j.priority::text, j.channel, j.field, j.customer_tier,
           j.region, j.province, j.org_id, j.org_name, j.org_type,
           j.unit_id, j.model_id, j.model_name, j.problem_type_id, j.problem_name,
           j.engineer_id, j.engineer_name,
           j.is_cancelled::integer,
           -- first response
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM j.first_response_at - j.opened_at) / 60, 2) END,
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.opened_at, j.first_response_at)) / 60, 2) END,
           CASE WHEN j.is_cancelled THEN NULL
                WHEN j.first_response_at IS NOT NULL THEN (j.first_response_at <= j.opened_at + j.response_target)::integer
                WHEN j.is_held THEN NULL
                WHEN j.opened_at < kpi_ticket_facts.as_of - j.response_target THEN 0 END,
           -- arrival (field tickets)
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM j.arrived_at - j.opened_at) / 60, 2) END,
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.opened_at, j.arrived_at)) / 60, 2) END,
           CASE WHEN j.is_cancelled OR NOT j.field THEN NULL
                WHEN j.arrived_at IS NOT NULL THEN (j.arrived_at <= j.opened_at + j.arrival_target)::integer
                WHEN j.first_resolved_at IS NOT NULL OR j.is_held THEN NULL
                WHEN j.opened_at < kpi_ticket_facts.as_of - j.arrival_target THEN 0 END,
           -- resolution (the final one)
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM j.resolved_at - j.opened_at) / 60, 2) END,
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.opened_at, j.resolved_at)) / 60, 2) END,
           CASE WHEN j.is_cancelled THEN NULL
                WHEN j.resolved_at IS NOT NULL THEN (j.resolved_at <= j.opened_at + j.completion_target)::integer
                WHEN j.is_held THEN NULL
                WHEN j.opened_at < kpi_ticket_facts.as_of - j.completion_target THEN 0 END,
           -- repair: from the first response to the final resolution
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM j.resolved_at - j.first_response_at) / 60, 2) END,
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.first_response_at, j.resolved_at)) / 60, 2) END,
           -- handling: from the assignment to the current engineer to the final resolution
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM j.resolved_at - j.assigned_at) / 60, 2) END,
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.assigned_at, j.resolved_at)) / 60, 2) END,
           -- on time: by the customer-requested date, else by the resolution clock's due time
           CASE WHEN NOT j.is_cancelled THEN j.promise END,
           CASE WHEN j.is_cancelled OR j.promise IS NULL THEN NULL
                WHEN j.resolved_at IS NOT NULL THEN (j.resolved_at <= j.promise)::integer
                WHEN j.is_held THEN NULL
                WHEN kpi_ticket_facts.as_of > j.promise THEN 0 END,
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
           CASE WHEN NOT j.is_cancelled THEN (j.nps <= 6)::integer END
      FROM judged j;
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.kpi_warranty_trend(period text, since timestamp with time zone, until timestamp with time zone, zone text DEFAULT current_setting('TimeZone'::text), tenant bigint DEFAULT aftersales.current_tenant())
 RETURNS TABLE(period_start date, tenant_id bigint, failures bigint, early_failures bigint, early_failure_warning numeric, early_failure_alert integer, in_warranty_failures bigint, in_warranty_warning numeric, in_warranty_alert integer, out_of_warranty_failures bigint, out_of_warranty_warning numeric, out_of_warranty_alert integer, warranty_unknown bigint)
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_warranty_trend',
        'SELECT * FROM aftersales.kpi_warranty_trend(''month'', ''2026-01-01'', ''2026-07-01'');',
        period, NULL, NULL, since, until, NULL, zone, tenant);
    -- Every period of a bounded range has a row, with zeros when nothing failed.
    RETURN QUERY
    WITH f AS (
        SELECT x.period_start, x.dim_key::bigint AS tenant_id, x.failures, x.early_failures,
               x.in_warranty_failures, x.out_of_warranty_failures, x.warranty_unknown
          FROM aftersales.kpi_failures(kpi_warranty_trend.period, 'tenant', kpi_warranty_trend.since,
                                       kpi_warranty_trend.until, kpi_warranty_trend.zone,
                                       kpi_warranty_trend.tenant) x
    ), periods AS (
        SELECT f.period_start FROM f
        UNION
        SELECT p::date
          FROM pg_catalog.generate_series(
                   pg_catalog.date_trunc(kpi_warranty_trend.period,
                                         pg_catalog.timezone(kpi_warranty_trend.zone, kpi_warranty_trend.since)),
                   pg_catalog.timezone(kpi_warranty_trend.zone, kpi_warranty_trend.until) - interval '1 microsecond',
                   CASE kpi_warranty_trend.period WHEN 'quarter' THEN interval '3 months'
                        ELSE ('1 ' || kpi_warranty_trend.period)::interval END) p
         WHERE kpi_warranty_trend.period <> 'all'
           AND pg_catalog.isfinite(kpi_warranty_trend.since) AND pg_catalog.isfinite(kpi_warranty_trend.until)
        UNION
        SELECT NULL::date WHERE kpi_warranty_trend.period = 'all'
    )
    SELECT p.period_start, g.tenant_id, COALESCE(f.failures, 0),
           COALESCE(f.early_failures, 0), g.early_failure_warning,
           (COALESCE(f.early_failures, 0) >= g.early_failure_warning)::integer,
           COALESCE(f.in_warranty_failures, 0), g.in_warranty_warning,
           (COALESCE(f.in_warranty_failures, 0) >= g.in_warranty_warning)::integer,
           COALESCE(f.out_of_warranty_failures, 0), g.out_of_warranty_warning,
           (COALESCE(f.out_of_warranty_failures, 0) >= g.out_of_warranty_warning)::integer,
           COALESCE(f.warranty_unknown, 0)
      FROM periods p
     CROSS JOIN aftersales_internal.kpi_config(kpi_warranty_trend.tenant) g
      LEFT JOIN f ON f.period_start IS NOT DISTINCT FROM p.period_start AND f.tenant_id = g.tenant_id
     WHERE f.tenant_id IS NOT NULL OR kpi_warranty_trend.tenant IS NOT NULL
     ORDER BY p.period_start, g.tenant_id;
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.lock_ticket(ticket bigint, reason text, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS aftersales.ticket_status
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'lock', actor, at, reason);
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.open_ticket(customer bigint, problem_type bigint, priority aftersales.priority, description text, channel text DEFAULT 'phone'::text, unit bigint DEFAULT NULL::bigint, model bigint DEFAULT NULL::bigint, requested_at timestamp with time zone DEFAULT NULL::timestamp with time zone, field boolean DEFAULT false, org bigint DEFAULT NULL::bigint, on_hold boolean DEFAULT false, reason text DEFAULT NULL::text, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS bigint
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
        RAISE EXCEPTION 'invalid channel: "%"', channel
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
$function$
;

CREATE OR REPLACE FUNCTION aftersales.open_tickets(tickets jsonb, reason text DEFAULT NULL::text, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS SETOF bigint
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    tenant bigint := aftersales.current_tenant();
    opened timestamptz := COALESCE(at, aftersales.now());
BEGIN
    IF tickets IS NULL OR pg_catalog.jsonb_typeof(tickets) OPERATOR(pg_catalog.<>) 'array' THEN
        RAISE EXCEPTION 'tickets must be a JSON array'
            USING ERRCODE = '22023',
                  HINT = 'For example: SELECT aftersales.open_tickets(''[{"customer": 7, "problem_type": 3, "priority": "B", "description": "no power"}]'');';
    END IF;
    PERFORM aftersales_internal.declare_event('open', COALESCE(NULLIF(actor, ''), aftersales.actor()), opened,
                                      NULLIF(pg_catalog.btrim(reason), ''));
    RETURN QUERY
    INSERT INTO aftersales.tickets AS tk (tenant_id, channel, customer_id, unit_id, model_id, problem_type_id,
                                          description, priority, requested_at, org_id, field, status, opened_at)
    SELECT tenant,
           CASE WHEN COALESCE(x.channel, 'phone') IN ('phone', 'web', 'app', 'wechat', 'email', 'walk_in', 'field', 'other')
                THEN COALESCE(x.channel, 'phone')
                ELSE aftersales_internal.bad_item(x.item, pg_catalog.format('invalid channel "%s"', x.channel))::text END,
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
    PERFORM aftersales_internal.declare_event(NULL, NULL, NULL, NULL);
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.prune_sweep_runs(before timestamp with time zone DEFAULT (now() - '30 days'::interval), tenant bigint DEFAULT NULL::bigint)
 RETURNS bigint
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    n bigint;
BEGIN
    IF before IS NULL OR before = 'infinity' THEN
        PERFORM aftersales_internal.sweep_error(pg_catalog.format('invalid prune instant: %s', COALESCE(before::text, 'NULL')),
            'Runs finished before it are deleted, for example: SELECT aftersales.prune_sweep_runs(before => now() - interval ''7 days'');');
    END IF;
    DELETE FROM aftersales.sweep_runs r
     WHERE r.finished_at < prune_sweep_runs.before
       AND (prune_sweep_runs.tenant IS NULL OR r.tenant_id = prune_sweep_runs.tenant);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.raise_alert(ticket bigint, kind text, level numeric DEFAULT 0, role text DEFAULT 'supervisor'::text, detail jsonb DEFAULT '{}'::jsonb, due_at timestamp with time zone DEFAULT NULL::timestamp with time zone, at timestamp with time zone DEFAULT aftersales.now())
 RETURNS bigint
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    tenant bigint := aftersales.current_tenant();
    t_at timestamptz := COALESCE(at, aftersales.now());
    aid bigint;
BEGIN
    IF kind IS NULL OR kind NOT IN ('part_not_collected') THEN
        RAISE EXCEPTION 'alerts of kind "%" cannot be raised by hand', kind
            USING ERRCODE = '22023',
                  DETAIL = 'Warnings, escalations, locks and the anomaly alerts on clocks are raised by the sweep, locked by the tickets trigger.',
                  HINT = 'Kinds raised through this hook: part_not_collected; for example: SELECT aftersales.raise_alert(42, ''part_not_collected'', level => 7);';
    END IF;
    IF level IS NULL OR level < 0 OR role IS NULL OR role !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid level % or role "%" for an alert', COALESCE(level::text, 'NULL'), role
            USING ERRCODE = '22023',
                  HINT = 'The level tells one occurrence from another (a shipment number, say) and is never negative; a role is a lowercase name: SELECT aftersales.raise_alert(42, ''part_not_collected'', level => 7, role => ''supervisor'');';
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
$function$
;

CREATE OR REPLACE FUNCTION aftersales.rearm_watches(tenant bigint DEFAULT NULL::bigint)
 RETURNS bigint
 LANGUAGE sql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
    WITH u AS (
        UPDATE aftersales.escalation_watches w SET next_check = x.expected
          FROM aftersales_internal.expected_checks(rearm_watches.tenant) x
         WHERE w.tenant_id = x.tenant_id AND w.ticket_id = x.ticket_id AND w.clock = x.clock
           AND w.next_check IS DISTINCT FROM x.expected
        RETURNING 1)
    SELECT pg_catalog.count(*) FROM u
$function$
;

CREATE OR REPLACE FUNCTION aftersales.reassign_ticket(ticket bigint, engineer bigint, reason text DEFAULT NULL::text, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS aftersales.ticket_status
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    PERFORM aftersales_internal.require_engineer(engineer, aftersales.current_tenant(), 'reassign_ticket');
    RETURN aftersales_internal.ticket_event(ticket, 'reassign', actor, at, reason, assignee => engineer);
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.release_ticket(ticket bigint, reason text, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS aftersales.ticket_status
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'release', actor, at, reason);
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.reopen_ticket(ticket bigint, reason text, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS aftersales.ticket_status
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'reopen', actor, at, reason);
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.replay_ticket(tenant bigint, ticket bigint)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
            PERFORM aftersales_internal.replay_error(tenant, ticket, n,
                pg_catalog.format('it starts from %s, but the ticket was %s', e.from_state, from_s));
        END IF;
        tr := loop_table->(from_s::text OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) e.event::text
                           OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) to_s::text);
        IF tr IS NULL THEN
            PERFORM aftersales_internal.replay_error(tenant, ticket, n,
                pg_catalog.format('%s --%s--> %s is not a transition of the closed loop', from_s, e.event, to_s));
        END IF;
        IF e.event OPERATOR(pg_catalog.=) 'fail'
           AND (attempt_count OPERATOR(pg_catalog.+) 1 OPERATOR(pg_catalog.>=) 2)
               IS DISTINCT FROM (tr->>'rule' IS NOT DISTINCT FROM 'attempts') THEN
            PERFORM aftersales_internal.replay_error(tenant, ticket, n, 'the attempts rule was not followed');
        END IF;
        IF tr->>'rule' OPERATOR(pg_catalog.=) 'held_from' AND to_s IS DISTINCT FROM held_from THEN
            PERFORM aftersales_internal.replay_error(tenant, ticket, n, 'resume did not return to the state held from');
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

        -- the clocks (ticket_log.c, ticket_changed)
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
$function$
;

CREATE OR REPLACE FUNCTION aftersales.resolve_ticket(ticket bigint, resolution text DEFAULT NULL::text, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS aftersales.ticket_status
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'resolve', actor, at, resolution);
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.resume_ticket(ticket bigint, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS aftersales.ticket_status
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'resume', actor, at);
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.schedule_sweeps(schedule text DEFAULT '* * * * *'::text, batch integer DEFAULT 500, max_batches integer DEFAULT 100)
 RETURNS bigint
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    job constant text := 'aftersales-sweep';
    command text := aftersales_internal.sweep_command(batch, max_batches);
    cron record;
    jobid bigint;
BEGIN
    IF schedule IS NULL OR schedule !~ '^\s*([0-9A-Za-z*/,-]+\s+){4}[0-9A-Za-z*/,-]+\s*$' THEN
        RAISE EXCEPTION 'invalid schedule: "%"', schedule
            USING ERRCODE = '22023',
                  DETAIL = 'pg_cron 1.4 takes the five fields of cron: minute, hour, day of month, month, day of week.',
                  HINT = 'Every minute: SELECT aftersales.schedule_sweeps(''* * * * *'');';
    END IF;
    cron := aftersales_internal.pg_cron_status();
    IF cron.status = 'here' THEN
        EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO jobid USING job, schedule, command;
        RETURN jobid;
    ELSIF cron.status = 'elsewhere' THEN
        RAISE NOTICE 'pg_cron runs in database "%": schedule the sweeps from there', cron.cron_database
            USING DETAIL = pg_catalog.format('Connect to database %I as a superuser and run: %s', cron.cron_database,
                    CASE WHEN cron.new_api
                         THEN pg_catalog.format('SELECT cron.schedule_in_database(%L, %L, %L, %L);',
                                                job, schedule, command, pg_catalog.current_database())
                         ELSE pg_catalog.format('SELECT cron.schedule(%L, %L, %L); UPDATE cron.job SET database = %L WHERE jobname = %L;',
                                                job, schedule, command, pg_catalog.current_database(), job) END),
                  HINT = 'Or make this database pg_cron''s: cron.database_name = ''' || pg_catalog.current_database()
                         || ''' in postgresql.conf, restart, CREATE EXTENSION pg_cron; then SELECT aftersales.schedule_sweeps();';
    ELSIF cron.status = 'not_installed' THEN
        RAISE NOTICE 'pg_cron is not installed in this database: the sweeps are not scheduled'
            USING HINT = pg_catalog.format('Run CREATE EXTENSION pg_cron; then SELECT aftersales.schedule_sweeps(%L);', schedule);
    ELSE
        RAISE NOTICE 'pg_cron is not loaded: the sweeps are not scheduled'
            USING DETAIL = pg_catalog.format('Without pg_cron, run %s; every minute from another scheduler.', command),
                  HINT = pg_catalog.format('To use pg_cron: shared_preload_libraries = ''pg_cron'' and cron.database_name = %L in postgresql.conf, restart, CREATE EXTENSION pg_cron; then SELECT aftersales.schedule_sweeps();',
                                           pg_catalog.current_database());
    END IF;
    RETURN NULL;
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.set_escalation_rule(kind text, level numeric DEFAULT 0, after interval DEFAULT NULL::interval, role text DEFAULT NULL::text, enabled boolean DEFAULT true, description text DEFAULT NULL::text, tenant bigint DEFAULT aftersales.current_tenant())
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    cur aftersales.escalation_rules;
    dflt aftersales.escalation_rules;
BEGIN
    IF kind IS NULL OR kind NOT IN ('warning', 'escalation', 'not_arrived', 'not_completed', 'key_customer', 'lock') THEN
        RAISE EXCEPTION '%', pg_catalog.format('invalid escalation rule kind: "%s"', kind)
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
    IF kind <> 'warning' AND (after IS NULL OR after < '0'::interval OR EXTRACT(DAY FROM after) <> 0
                              OR EXTRACT(MONTH FROM after) <> 0 OR EXTRACT(YEAR FROM after) <> 0) THEN
        RAISE EXCEPTION '%', pg_catalog.format('invalid after for escalation rule %s %s: %s', kind, level, COALESCE(after::text, 'NULL'))
            USING ERRCODE = '22023',
                  HINT = 'After is hours, minutes and seconds, never negative (a business day is not 24 hours), for example: SELECT aftersales.set_escalation_rule(''escalation'', 3, after => ''16 hours'');';
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
    INSERT INTO aftersales.escalation_rules AS r (tenant_id, kind, level, after, role, enabled, description)
    VALUES (tenant, kind, level, after, role, COALESCE(enabled, true), COALESCE(description, cur.description, dflt.description))
    ON CONFLICT ON CONSTRAINT escalation_rules_pkey DO UPDATE
       SET after = excluded.after, role = excluded.role, enabled = excluded.enabled,
           description = excluded.description;
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.set_priority(ticket bigint, priority aftersales.priority, reason text DEFAULT NULL::text, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS aftersales.ticket_status
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    IF priority IS NULL THEN
        RAISE EXCEPTION 'priority must not be null'
            USING ERRCODE = '22004',
                  HINT = 'Priorities are A, B and C; for example: SELECT aftersales.set_priority(42, priority => ''A'');';
    END IF;
    RETURN aftersales_internal.ticket_event(ticket, 'retarget', actor, at, reason, priority => set_priority.priority);
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.start_work(ticket bigint, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS aftersales.ticket_status
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'start', actor, at);
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.sweep(batch integer DEFAULT 500, now timestamp with time zone DEFAULT aftersales.now(), tenant bigint DEFAULT NULL::bigint)
 RETURNS aftersales.sweep_runs
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    started constant timestamptz := pg_catalog.clock_timestamp();
    run aftersales.sweep_runs;
    k_tenants bigint[];
    k_tickets bigint[];
    k_clocks text[];
    claimed integer;
    c record;
    msg text;
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

    INSERT INTO aftersales.sweep_runs AS r (tenant_id, started_at, finished_at, as_of, batch, claimed, warnings, escalations,
                                            locks, not_arrived, not_completed, key_customer, errors, more_due)
    VALUES (COALESCE(tenant, 0), started, started, now, batch, 0, 0, 0, 0, 0, 0, 0, 0, false)
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
$function$
;

CREATE OR REPLACE PROCEDURE aftersales.sweep_until_done(IN batch integer DEFAULT 500, IN max_batches integer DEFAULT 100, IN tenant bigint DEFAULT NULL::bigint)
 LANGUAGE plpgsql
AS $procedure$
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
$procedure$
;

CREATE OR REPLACE FUNCTION aftersales.take_over_ticket(ticket bigint, engineer bigint, reason text DEFAULT NULL::text, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS aftersales.ticket_status
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    PERFORM aftersales_internal.require_engineer(engineer, aftersales.current_tenant(), 'take_over_ticket');
    RETURN aftersales_internal.ticket_event(ticket, 'take_over', actor, at, reason, assignee => engineer);
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.transfer_ticket(ticket bigint, tier aftersales.ticket_tier, reason text, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS aftersales.ticket_status
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    IF tier IS NULL THEN
        RAISE EXCEPTION 'tier must not be null'
            USING ERRCODE = '22004',
                  HINT = 'Tiers are customer_service, technical_support and rnd; for example: SELECT aftersales.transfer_ticket(42, tier => ''technical_support'', reason => ''needs a specialist'');';
    END IF;
    RETURN aftersales_internal.ticket_event(ticket, 'transfer', actor, at, reason, tier => transfer_ticket.tier);
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.unlock_ticket(ticket bigint, reason text DEFAULT NULL::text, actor text DEFAULT aftersales.actor(), at timestamp with time zone DEFAULT aftersales.now())
 RETURNS aftersales.ticket_status
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    RETURN aftersales_internal.ticket_event(ticket, 'unlock', actor, at, reason);
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales.unschedule_sweeps()
 RETURNS boolean
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    job constant text := 'aftersales-sweep';
    cron record;
    found_job boolean;
BEGIN
    cron := aftersales_internal.pg_cron_status();
    IF cron.status = 'here' THEN
        EXECUTE 'SELECT EXISTS (SELECT FROM cron.job j WHERE j.jobname = $1 AND j.username = CURRENT_USER)'
           INTO found_job USING job;
        IF found_job THEN
            EXECUTE 'SELECT cron.unschedule($1)' USING job;
        END IF;
        RETURN found_job;
    ELSIF cron.status = 'elsewhere' THEN
        RAISE NOTICE 'pg_cron runs in database "%": unschedule the sweeps from there', cron.cron_database
            USING DETAIL = pg_catalog.format('Connect to database %I as the job''s owner and run: SELECT cron.unschedule(%L);',
                                             cron.cron_database, job);
    ELSE
        RAISE NOTICE 'pg_cron is not installed in this database: no sweeps are scheduled by it';
    END IF;
    RETURN NULL;
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales_internal.expected_checks(tenant bigint)
 RETURNS TABLE(tenant_id bigint, ticket_id bigint, clock text, stored timestamp with time zone, expected timestamp with time zone)
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$
;

CREATE OR REPLACE FUNCTION aftersales_internal.kpi_check(fn text, example text, period text, dimension text, dimensions text[], since timestamp with time zone, until timestamp with time zone, as_of timestamp with time zone, zone text, tenant bigint)
 RETURNS void
 LANGUAGE plpgsql
 STABLE PARALLEL SAFE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
DECLARE
    periods constant text[] := '{day,week,month,quarter,year,all}';
BEGIN
    IF period IS NOT NULL OR fn IN ('kpi_service', 'kpi_headline', 'kpi_staff', 'kpi_dispatch', 'kpi_failures', 'kpi_warranty_trend') THEN
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
    IF tenant IS NOT NULL AND NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = kpi_check.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the tenants with: SELECT tenant_id, name FROM aftersales.tenants; or pass tenant => NULL for every tenant.';
    END IF;
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales_internal.kpi_config(tenant bigint)
 RETURNS TABLE(tenant_id bigint, response_target interval, arrival_target interval, completion_target interval, repeat_window interval, early_failure_days integer, early_failure_warning numeric, in_warranty_warning numeric, out_of_warranty_warning numeric, csat_good_min numeric)
 LANGUAGE sql
 STABLE PARALLEL SAFE ROWS 1
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
SELECT v.tenant_id,
       pg_catalog.make_interval(secs => (60 * pg_catalog.max(v.value) FILTER (WHERE v.name = 'response_target_minutes'))::float8),
       pg_catalog.make_interval(secs => (3600 * pg_catalog.max(v.value) FILTER (WHERE v.name = 'arrival_target_hours'))::float8),
       pg_catalog.make_interval(secs => (3600 * pg_catalog.max(v.value) FILTER (WHERE v.name = 'completion_target_hours'))::float8),
       pg_catalog.make_interval(secs => (86400 * pg_catalog.max(v.value) FILTER (WHERE v.name = 'repeat_window_days'))::float8),
       pg_catalog.floor(pg_catalog.max(v.value) FILTER (WHERE v.name = 'early_failure_days'))::integer,
       pg_catalog.max(v.value) FILTER (WHERE v.name = 'early_failure_warning'),
       pg_catalog.max(v.value) FILTER (WHERE v.name = 'in_warranty_warning'),
       pg_catalog.max(v.value) FILTER (WHERE v.name = 'out_of_warranty_warning'),
       pg_catalog.max(v.value) FILTER (WHERE v.name = 'csat_good_min')
  FROM (SELECT tn.tenant_id, d.name, COALESCE(o.value, d.value) AS value
          FROM aftersales.tenants tn
          JOIN aftersales.kpi_settings d ON d.tenant_id = 1
          LEFT JOIN aftersales.kpi_settings o ON o.tenant_id = tn.tenant_id AND o.name = d.name
         WHERE kpi_config.tenant IS NULL OR tn.tenant_id = kpi_config.tenant) v
 GROUP BY v.tenant_id
$function$
;

CREATE OR REPLACE FUNCTION aftersales_internal.next_check(tenant bigint, ticket bigint, clock text)
 RETURNS timestamp with time zone
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
BEGIN
    RETURN (SELECT pg_catalog.min(s.due_at) FROM aftersales_internal.watch_stages(ARRAY[tenant], ARRAY[ticket], ARRAY[clock]) s);
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales_internal.sweep_claimed(run bigint, now timestamp with time zone, tenants bigint[], tickets bigint[], clocks text[], OUT warnings integer, OUT escalations integer, OUT locks integer, OUT not_arrived integer, OUT not_completed integer, OUT key_customer integer, OUT errors integer)
 RETURNS record
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'pg_temp'
 SET plan_cache_mode TO 'force_generic_plan'
AS $function$
DECLARE
    lk_tenants bigint[];
    lk_tickets bigint[];
    lk_due timestamptz[];
    lk_role text[];
    aid bigint;
    touched bigint;  -- only to make the CTEs n, upd, q run
    last_at timestamptz;
    saved_tenant text;
    msg text;
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

    -- Still awaiting assignment at the customer-requested date.
    -- The lock alert is inserted first: the unique constraint decides that
    -- this is the one time, then the ticket is locked.  A lock that fails
    -- is rolled back, and the alert raised again without it, with the error.
    FOR i IN 1 .. COALESCE(pg_catalog.array_length(lk_tickets, 1), 0) LOOP
        BEGIN
            aid := NULL;
            SELECT t.last_event_at INTO last_at FROM aftersales.tickets t
             WHERE t.tenant_id = lk_tenants[i] AND t.ticket_id = lk_tickets[i];
            INSERT INTO aftersales.alerts AS a (tenant_id, ticket_id, clock, kind, level, role, due_at, raised_at, run_id, detail)
            SELECT t.tenant_id, t.ticket_id, 'ticket', 'lock', 0, lk_role[i], lk_due[i], sweep_claimed.now, run,
                   pg_catalog.jsonb_build_object('requested_at', t.requested_at, 'priority', t.priority, 'locked', true)
              FROM aftersales.tickets t
             WHERE t.tenant_id = lk_tenants[i] AND t.ticket_id = lk_tickets[i]
            ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING
            RETURNING a.alert_id INTO aid;
            IF aid IS NOT NULL THEN
                saved_tenant := pg_catalog.current_setting('aftersales.tenant_id', true);
                PERFORM pg_catalog.set_config('aftersales.tenant_id', lk_tenants[i]::text, true);
                PERFORM aftersales_internal.set_sweep_locking(true);
                PERFORM aftersales.lock_ticket(lk_tickets[i], reason => 'no engineer assigned by the customer-requested date',
                                               actor => 'aftersales-sweep',
                                               at => GREATEST(sweep_claimed.now, last_at));
                PERFORM aftersales_internal.set_sweep_locking(false);
                PERFORM pg_catalog.set_config('aftersales.tenant_id', COALESCE(saved_tenant, ''), true);
                UPDATE aftersales.ticket_escalations e SET alert_id = aid
                 WHERE e.tenant_id = lk_tenants[i] AND e.ticket_id = lk_tickets[i];
                PERFORM pg_catalog.pg_notify('aftersales_alerts', pg_catalog.json_build_object(
                    'tenant', lk_tenants[i], 'alert', aid, 'ticket', lk_tickets[i], 'clock', 'ticket',
                    'kind', 'lock', 'level', 0)::text);
                locks := locks + 1;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
            errors := errors + 1;
            RAISE WARNING 'aftersales sweep: could not lock ticket % of tenant %: %', lk_tickets[i], lk_tenants[i], msg;
            INSERT INTO aftersales.alerts AS a (tenant_id, ticket_id, clock, kind, level, role, due_at, raised_at, run_id, detail)
            VALUES (lk_tenants[i], lk_tickets[i], 'ticket', 'lock', 0, lk_role[i], lk_due[i], sweep_claimed.now, run,
                    pg_catalog.jsonb_build_object('locked', false, 'error', msg))
            ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING
            RETURNING a.alert_id INTO aid;
            IF aid IS NOT NULL THEN
                PERFORM pg_catalog.pg_notify('aftersales_alerts', pg_catalog.json_build_object(
                    'tenant', lk_tenants[i], 'alert', aid, 'ticket', lk_tickets[i], 'clock', 'ticket',
                    'kind', 'lock', 'level', 0)::text);
            END IF;
        END;
        -- locked or not, the lock stage is done: the watch moves on
        UPDATE aftersales.escalation_watches w
           SET done = w.done || '{lock}'::text[]
         WHERE w.tenant_id = lk_tenants[i] AND w.ticket_id = lk_tickets[i] AND w.clock = 'ticket';
        UPDATE aftersales.escalation_watches w
           SET next_check = aftersales_internal.next_check(w.tenant_id, w.ticket_id, w.clock)
         WHERE w.tenant_id = lk_tenants[i] AND w.ticket_id = lk_tickets[i] AND w.clock = 'ticket';
    END LOOP;
END
$function$
;

CREATE OR REPLACE FUNCTION aftersales_internal.ticket_escalation_changed()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'pg_temp'
AS $function$
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
$function$
;

CREATE OR REPLACE FUNCTION aftersales_internal.watch_stages(tenants bigint[], tickets bigint[], clocks text[], until timestamp with time zone DEFAULT '-infinity'::timestamp with time zone)
 RETURNS TABLE(tenant_id bigint, ticket_id bigint, clock text, kind text, level numeric, role text, due_at timestamp with time zone, target interval, clock_due timestamp with time zone, after interval, priority aftersales.priority, status aftersales.ticket_status, assignee_id bigint)
 LANGUAGE plpgsql
 STABLE
 SET search_path TO 'pg_catalog', 'pg_temp'
 SET plan_cache_mode TO 'force_generic_plan'
AS $function$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH c AS MATERIALIZED (
        SELECT DISTINCT u.tenant_id, u.ticket_id, u.clock
          FROM unnest(tenants, tickets, clocks) AS u (tenant_id, ticket_id, clock)
    ), r AS MATERIALIZED (
        SELECT e.* FROM aftersales.escalation_rules_effective e
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
$function$
;

COMMENT ON COLUMN aftersales.tickets.attempt_count IS 'Failed handling attempts (event fail); the second one locks the ticket';
COMMENT ON COLUMN aftersales.kpi_catalogue.category IS 'service, backlog, quality or staff: the dashboard the KPI belongs to';
COMMENT ON COLUMN aftersales.escalation_rules.kind IS 'warning (p% of an SLA target used), escalation (an SLA target missed, by level), not_arrived, not_completed, key_customer (anomaly alerts) or lock (not assigned by the customer-requested date)';
COMMENT ON COLUMN aftersales.sweep_runs.locks IS 'Tickets locked (not assigned by the customer-requested date)';
COMMENT ON COLUMN aftersales.tickets.requested_at IS 'Date and time the customer asked for; assigning after it locks the ticket';
COMMENT ON FUNCTION aftersales.assign_ticket(bigint,bigint,pg_catalog.text,timestamp with time zone) IS 'Assign an engineer to a ticket awaiting assignment: assigned, or locked for the service manager when the customer-requested date has passed';
COMMENT ON FUNCTION aftersales.fail_attempt(bigint,pg_catalog.text,pg_catalog.text,timestamp with time zone) IS 'A handling failed: counts an attempt and returns the ticket to assignment, or after the second failure locks it for the service manager';
COMMENT ON FUNCTION aftersales.generate_sample_data(pg_catalog.text,integer,integer,integer,integer) IS 'Builds a new tenant with a realistic company (HQ, six regions, 31 provinces, outlets of the three organisation types, engineers, customers, products, installed units, China''s calendar, the default SLA policies) and drives a year of its tickets through the ticket API; deterministic for a seed; idempotent for the same arguments; returns the run (events, seconds, checksum)';
COMMENT ON FUNCTION aftersales.lock_ticket(bigint,pg_catalog.text,pg_catalog.text,timestamp with time zone) IS 'Lock an open ticket for the service manager (e.g. not assigned before the requested date)';
COMMENT ON FUNCTION aftersales.raise_alert(bigint,pg_catalog.text,numeric,pg_catalog.text,pg_catalog.jsonb,timestamp with time zone,timestamp with time zone) IS 'Hook for other modules: raise an alert of a kind the sweep does not raise (part_not_collected: a spare part arrived but not collected, for the spare-parts module), once per (ticket, kind, level); returns its id, or NULL when it was raised before';
COMMENT ON FUNCTION aftersales.release_ticket(bigint,pg_catalog.text,pg_catalog.text,timestamp with time zone) IS 'Return an assigned ticket the engineer has not handled to assignment (not handled before the requested date); no attempt is counted';
COMMENT ON FUNCTION aftersales.sweep(integer,timestamp with time zone,bigint) IS 'One escalation sweep: claims at most batch due watches (SKIP LOCKED), fires their due warnings, escalations, anomaly alerts and the locks of tickets not assigned by the customer-requested date exactly once, re-arms them, records and returns the run (more_due: call again)';
COMMENT ON FUNCTION aftersales_internal.sweep_claimed(bigint,timestamp with time zone,bigint[],bigint[],pg_catalog.text[]) IS 'Internal: fires the due stages of claimed watches (the caller holds them and their tickets), re-arms them, locks tickets by the lock rule (not assigned by the customer-requested date); returns the counts';
COMMENT ON TABLE aftersales.tickets IS 'Service tickets (工单), held to the closed loop by a trigger: change them through the aftersales.*_ticket functions or, equivalently checked, by direct INSERT and UPDATE';
COMMENT ON VIEW aftersales.kpi_warranty_monthly IS 'Early, in-warranty and out-of-warranty failures of the current tenant by month of entry, against the warning lines (400, 600, 600)';
COMMENT ON VIEW aftersales.occurrence_counts IS 'Tickets entered per product model and per problem type, for reports';

-- Calendars: China's official 2025 schedule in sample_calendar(), other years
-- refused; calendar clauses from an iCalendar holiday feed.
-- China's working calendar of a year: Mon-Fri 09:00-12:00,13:00-18:00 in
-- Asia/Shanghai, with the public holidays and make-up working days (调休)
-- of the State Council's notice for that year.  The years whose notice is
-- published are shipped; any other year is refused (its holidays follow
-- the lunar calendar and a yearly decision, so they cannot be made up).
CREATE OR REPLACE FUNCTION aftersales.sample_calendar(year integer DEFAULT 2026) RETURNS aftersales.calendar
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    week constant text := 'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00';
    w constant text := ' 09:00-12:00,13:00-18:00';
BEGIN
    IF year = 2025 THEN
        RETURN (week || ';
   holiday 2025-01-01,2025-01-28..2025-02-04,2025-04-04..2025-04-06,2025-05-01..2025-05-05,
           2025-05-31..2025-06-02,2025-10-01..2025-10-08;
   workday 2025-01-26' || w || '; workday 2025-02-08' || w || '; workday 2025-04-27' || w || ';
   workday 2025-09-28' || w || '; workday 2025-10-11' || w)::aftersales.calendar;
    END IF;
    IF year = 2026 THEN
        RETURN (week || ';
   holiday 2026-01-01..2026-01-03,2026-02-15..2026-02-23,2026-04-04..2026-04-06,
           2026-05-01..2026-05-05,2026-06-19..2026-06-21,2026-09-25..2026-09-27,
           2026-10-01..2026-10-07;
   workday 2026-01-04' || w || '; workday 2026-02-14' || w || ';
   workday 2026-02-28' || w || '; workday 2026-05-09' || w || ';
   workday 2026-09-20' || w || '; workday 2026-10-10' || w)::aftersales.calendar;
    END IF;
    RAISE EXCEPTION 'invalid sample year: %', COALESCE(year::text, 'NULL')
        USING ERRCODE = '22023',
              DETAIL = 'China''s official holiday schedule is shipped for 2025 and 2026 only.',
              HINT = 'Use 2025 or 2026, for example: SELECT aftersales.sample_calendar(2026); '
                     'for another year, build the clauses from a holiday feed with aftersales.calendar_clauses_from_ics().';
END
$$;
COMMENT ON FUNCTION aftersales.sample_calendar(integer) IS
  'China office hours (Mon-Fri 09:00-12:00, 13:00-18:00, Asia/Shanghai) with the public holidays and make-up working days of the State Council''s schedule for 2025 or 2026; other years are refused';
-- Holidays and make-up working days from an iCalendar (RFC 5545) feed, the
-- format public holiday calendars are published in, as calendar clauses to
-- append to a zone and a week.  Each all-day VEVENT (DTSTART;VALUE=DATE,
-- DTEND exclusive, or DURATION in days, or one day) is a holiday range;
-- one whose SUMMARY or CATEGORIES contains workday_marker (case-insensitive)
-- is a make-up working day on each of its dates, with workday_windows.
CREATE FUNCTION aftersales.calendar_clauses_from_ics(feed text, workday_marker text DEFAULT NULL,
                                                     workday_windows text DEFAULT '09:00-18:00')
    RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    example constant text := 'BEGIN:VEVENT / DTSTART;VALUE=DATE:20251001 / DTEND;VALUE=DATE:20251009 / SUMMARY:National Day / END:VEVENT';
    ln text;
    prop text;
    val text;
    in_event boolean := false;
    dstart date;
    dend date;
    label text;
    hol text[] := '{}';
    work text[] := '{}';
    nevents integer := 0;
    lineno integer := 0;
BEGIN
    IF feed IS NULL OR workday_windows IS NULL THEN
        RAISE EXCEPTION 'iCalendar feed and make-up windows must not be NULL'
            USING ERRCODE = '22004',
                  HINT = 'For example: SELECT aftersales.calendar_clauses_from_ics(feed, ''补班'', ''09:00-18:00'');';
    END IF;
    -- unfold continuation lines (a line break followed by a space or a tab)
    FOREACH ln IN ARRAY regexp_split_to_array(regexp_replace(feed, E'\\r?\\n[ \\t]', '', 'g'), E'\\r?\\n') LOOP
        lineno := lineno + 1;
        ln := rtrim(ln, E'\r');
        CONTINUE WHEN ln = '' OR position(':' IN ln) = 0;
        prop := upper(split_part(split_part(ln, ':', 1), ';', 1));
        val := substr(ln, position(':' IN ln) + 1);
        IF prop = 'BEGIN' AND upper(val) = 'VEVENT' THEN
            in_event := true;
            dstart := NULL;
            dend := NULL;
            label := '';
        ELSIF NOT in_event THEN
            CONTINUE;
        ELSIF prop IN ('DTSTART', 'DTEND') THEN
            IF val !~ '^[0-9]{8}$' THEN
                RAISE EXCEPTION 'not an all-day date in iCalendar feed: "%"', left(ln, 80)
                    USING ERRCODE = '22P02',
                          DETAIL = pg_catalog.format('Line %s. Holidays are all-day events: DTSTART;VALUE=DATE:YYYYMMDD.', lineno),
                          HINT = 'For example: ' || example;
            END IF;
            BEGIN
                IF prop = 'DTSTART' THEN
                    dstart := make_date(substr(val, 1, 4)::integer, substr(val, 5, 2)::integer, substr(val, 7, 2)::integer);
                ELSE
                    dend := make_date(substr(val, 1, 4)::integer, substr(val, 5, 2)::integer, substr(val, 7, 2)::integer);
                END IF;
            EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
                RAISE EXCEPTION 'invalid date in iCalendar feed: "%"', left(ln, 80)
                    USING ERRCODE = '22P02', DETAIL = pg_catalog.format('Line %s.', lineno), HINT = 'For example: ' || example;
            END;
        ELSIF prop = 'DURATION' AND dend IS NULL THEN
            IF upper(val) !~ '^P[0-9]{1,4}D$' THEN
                RAISE EXCEPTION 'unsupported duration in iCalendar feed: "%"', left(ln, 80)
                    USING ERRCODE = '22P02',
                          DETAIL = pg_catalog.format('Line %s. Durations of all-day events are given in days, like P3D.', lineno),
                          HINT = 'For example: ' || example;
            END IF;
            dend := dstart + substr(val, 2, length(val) - 2)::integer;
        ELSIF prop IN ('SUMMARY', 'CATEGORIES') THEN
            label := label || ' ' || replace(replace(replace(val, '\,', ','), '\;', ';'), '\\', '\');
        ELSIF prop = 'END' AND upper(val) = 'VEVENT' THEN
            in_event := false;
            IF dstart IS NULL THEN
                RAISE EXCEPTION 'event without DTSTART in iCalendar feed'
                    USING ERRCODE = '22P02', DETAIL = pg_catalog.format('The event ends at line %s.', lineno),
                          HINT = 'For example: ' || example;
            END IF;
            dend := COALESCE(dend, dstart + 1);
            IF dend <= dstart THEN
                RAISE EXCEPTION 'event ends before it starts in iCalendar feed: % to %', to_char(dstart, 'YYYY-MM-DD'), to_char(dend, 'YYYY-MM-DD')
                    USING ERRCODE = '22P02', DETAIL = pg_catalog.format('The event ends at line %s; DTEND is the day after the last one.', lineno),
                          HINT = 'For example: ' || example;
            END IF;
            nevents := nevents + 1;
            IF workday_marker IS NOT NULL AND workday_marker <> ''
               AND position(lower(workday_marker) IN lower(label)) > 0 THEN
                SELECT work || array_agg(pg_catalog.format('workday %s %s', to_char(d, 'YYYY-MM-DD'), workday_windows) ORDER BY d)
                  INTO work
                  FROM generate_series(dstart, dend - 1, interval '1 day') g(d);
            ELSE
                hol := hol || (to_char(dstart, 'YYYY-MM-DD')
                               || CASE WHEN dend - dstart > 1 THEN '..' || to_char(dend - 1, 'YYYY-MM-DD') ELSE '' END);
            END IF;
        END IF;
    END LOOP;
    IF nevents = 0 THEN
        RAISE EXCEPTION 'no events in iCalendar feed'
            USING ERRCODE = '22P02',
                  HINT = 'Give the feed''s text with its VEVENTs, for example: ' || example;
    END IF;
    RETURN array_to_string(CASE WHEN cardinality(hol) > 0 THEN ARRAY['holiday ' || array_to_string(hol, ',')] ELSE '{}' END
                           || work, '; ');
END
$$;
COMMENT ON FUNCTION aftersales.calendar_clauses_from_ics(text, text, text) IS
  'Calendar clauses (holiday, workday) from an iCalendar feed''s all-day events; events whose SUMMARY or CATEGORIES contain workday_marker become make-up working days with workday_windows';

-- ---------------------------------------------------------------------------
-- Releases: the library bound to its SQL version, and arguments a hostile
-- caller passes (kept after the sections above: these are the bodies as in
-- 0.2.0).
-- aftersales.library_version(): the loaded library's version.
CREATE FUNCTION aftersales.library_version() RETURNS text
    AS 'MODULE_PATHNAME', 'aftersales_library_version' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.library_version() IS
  'Version of the loaded aftersales library; compare with extversion in pg_extension';

-- raise_alert: level finite and below 1e18 (NaN, Infinity, 1e100 were
-- accepted), times finite and after year 1; a long role or kind is cut.
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

-- replay_ticket: an unknown ticket raises P0002 (it returned NULL).
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
            PERFORM aftersales_internal.replay_error(tenant, ticket, n,
                pg_catalog.format('it starts from %s, but the ticket was %s', e.from_state, from_s));
        END IF;
        tr := loop_table->(from_s::text OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) e.event::text
                           OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) to_s::text);
        IF tr IS NULL THEN
            PERFORM aftersales_internal.replay_error(tenant, ticket, n,
                pg_catalog.format('%s --%s--> %s is not a transition of the closed loop', from_s, e.event, to_s));
        END IF;
        IF e.event OPERATOR(pg_catalog.=) 'fail'
           AND (attempt_count OPERATOR(pg_catalog.+) 1 OPERATOR(pg_catalog.>=) 2)
               IS DISTINCT FROM (tr->>'rule' IS NOT DISTINCT FROM 'attempts') THEN
            PERFORM aftersales_internal.replay_error(tenant, ticket, n, 'the attempts rule was not followed');
        END IF;
        IF tr->>'rule' OPERATOR(pg_catalog.=) 'held_from' AND to_s IS DISTINCT FROM held_from THEN
            PERFORM aftersales_internal.replay_error(tenant, ticket, n, 'resume did not return to the state held from');
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

        -- the clocks (ticket_log.c, ticket_changed)
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

-- set_escalation_rule: after at most 8784 hours (2147483647 hours silenced
-- escalation); a NULL or unknown tenant refused with 22004/P0002.
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

-- set_calendar: a NULL or unknown tenant refused with 22004/P0002.
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

-- kpi_check: kpi_durations refuses a NULL period; an infinite as_of is
-- refused with 22008.
CREATE OR REPLACE FUNCTION aftersales_internal.kpi_check(fn text, example text, period text, dimension text, dimensions text[],
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
    IF tenant IS NOT NULL AND NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = kpi_check.tenant) THEN
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

-- ---- KPI: begin ----
-- KPIs: periods cut in the tenant's reporting zone (table reporting_zones,
-- reporting_zone(), set_reporting_zone()); KPI functions PARALLEL UNSAFE
-- (their checks open a subtransaction) with plan_cache_mode pinned; as_of
-- a snapshot from the event log; revised definitions (MTTR, on hold,
-- problem-resolution rate, first contact, faults only: problem_types.kind,
-- backlog by stage: kpi_backlog_stages); the KPI views rebuilt with
-- declared numeric scales; escalation_rules_effective.after_minutes; the
-- shipped catalogue rows brought up to date.  Generated from the install
-- files (60_kpi*.sql, and generate_sample_data of 70_sample_data.sql).
DROP VIEW IF EXISTS aftersales.kpi_dispatch_monthly_by_org_type, aftersales.kpi_staff_monthly, aftersales.kpi_warranty_monthly, aftersales.kpi_durations_monthly, aftersales.kpi_failures_monthly, aftersales.kpi_holdings, aftersales.kpi_backlog_stages_by_org_type, aftersales.kpi_backlog_by_organisation, aftersales.kpi_backlog_by_org_type, aftersales.kpi_open_tickets, aftersales.kpi_service_monthly_by_org_type, aftersales.kpi_service_monthly_by_region, aftersales.kpi_service_monthly, aftersales.kpi_facts, aftersales.kpi_settings_current, aftersales.kpi_definitions;

DROP FUNCTION aftersales.kpi_service(text, text, timestamptz, timestamptz, timestamptz, text, bigint);

-- What a problem type is: failure statistics count faults only, not the
-- tickets a service desk also logs for a consultation, a parameter setting
-- or an installation (set the kind of those problem types).

ALTER TABLE aftersales.problem_types
    ADD COLUMN kind text NOT NULL DEFAULT 'fault'
        CONSTRAINT problem_types_kind_check
        CHECK (kind IN ('fault', 'consultation', 'parameter_setting', 'installation'));
COMMENT ON COLUMN aftersales.problem_types.kind IS
  'fault (counted by the failure statistics: kpi_failures, kpi_warranty_trend), consultation, parameter_setting or installation (not failures)';

-- ---------------------------------------------------------------------------
-- Reporting zone: the time zone in which a tenant's periods (day, week,
-- month ...) are cut.  It belongs to the tenant, not to the client: a BI
-- tool's connection carries the zone of its JVM or its driver (pgjdbc
-- sends the JVM's at connect, overriding role settings; psycopg2 often
-- UTC), and a month must not move with it.  Without a row, a tenant
-- reports in Asia/Shanghai, the zone of the service organisations this
-- extension is built for (and of its sample calendars).

CREATE TABLE aftersales.reporting_zones (
    tenant_id  bigint NOT NULL PRIMARY KEY REFERENCES aftersales.tenants,
    zone       text   NOT NULL
               CONSTRAINT reporting_zones_zone_check
               CHECK (pg_catalog.timezone(zone, pg_catalog.timestamptz '2000-01-01 00:00+00') IS NOT NULL)
);
COMMENT ON TABLE aftersales.reporting_zones IS
  'Per tenant, the time zone in which KPI periods are cut (default Asia/Shanghai when a tenant has no row); set with aftersales.set_reporting_zone()';
COMMENT ON COLUMN aftersales.reporting_zones.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.reporting_zones.zone IS 'Time zone name, e.g. Asia/Shanghai';
SELECT pg_catalog.pg_extension_config_dump('aftersales.reporting_zones', '');

-- The reporting zone of a tenant; for tenant NULL (every tenant), the zone
-- they all share, else NULL.
CREATE OR REPLACE FUNCTION aftersales.reporting_zone(tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN pg_catalog.count(DISTINCT z.zone) = 1 THEN pg_catalog.min(z.zone) END
  FROM (SELECT COALESCE(r.zone, 'Asia/Shanghai') AS zone
          FROM aftersales.tenants tn
          LEFT JOIN aftersales.reporting_zones r ON r.tenant_id = tn.tenant_id
         WHERE reporting_zone.tenant IS NULL OR tn.tenant_id = reporting_zone.tenant) z
$$;
COMMENT ON FUNCTION aftersales.reporting_zone(bigint) IS
  'The time zone in which the tenant''s KPI periods are cut (Asia/Shanghai unless set); for tenant NULL, the zone every tenant shares, else NULL';

CREATE OR REPLACE FUNCTION aftersales.set_reporting_zone(zone text, tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF zone IS NULL OR NOT EXISTS (SELECT FROM pg_catalog.pg_timezone_names n WHERE n.name = set_reporting_zone.zone) THEN
        RAISE EXCEPTION 'unknown time zone: "%"', COALESCE(pg_catalog.left(zone, 64), 'NULL')
            USING ERRCODE = '22023',
                  DETAIL = 'The reporting zone is a full zone name, so that it follows daylight saving time.',
                  HINT = 'Use a name of pg_timezone_names, for example: SELECT aftersales.set_reporting_zone(''Asia/Shanghai'');';
    END IF;
    IF tenant IS NULL OR NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = set_reporting_zone.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', COALESCE(tenant::text, 'NULL')
            USING ERRCODE = 'P0002',
                  HINT = 'List the tenants with: SELECT tenant_id, name FROM aftersales.tenants;';
    END IF;
    INSERT INTO aftersales.reporting_zones AS r (tenant_id, zone) VALUES (tenant, zone)
    ON CONFLICT (tenant_id) DO UPDATE SET zone = excluded.zone;
    RETURN zone;
END
$$;
COMMENT ON FUNCTION aftersales.set_reporting_zone(text, bigint) IS
  'Set the time zone in which a tenant''s KPI periods are cut (upsert); returns it';

-- escalation_rules_effective: the delay also in minutes (numeric), for BI tools.
CREATE OR REPLACE VIEW aftersales.escalation_rules_effective WITH (security_invoker = true) AS
SELECT tn.tenant_id, r.kind, r.level, r.after, r.role, r.description, r.tenant_id <> tn.tenant_id AS inherited,
       (EXTRACT(EPOCH FROM r.after) / 60)::numeric(14,2) AS after_minutes
  FROM aftersales.tenants tn
  JOIN aftersales.escalation_rules r ON r.tenant_id IN (tn.tenant_id, 1)
 WHERE r.enabled
   AND (r.tenant_id = tn.tenant_id
        OR NOT EXISTS (SELECT FROM aftersales.escalation_rules o
                        WHERE o.tenant_id = tn.tenant_id AND o.kind = r.kind AND o.level = r.level));
COMMENT ON COLUMN aftersales.escalation_rules_effective.after_minutes IS
  'The delay of the stage in minutes (after as a number, for BI tools, which cannot chart an interval)';

-- KPI catalogue: the shipped rows as in 0.2.0 (first contact named apart
-- from first response, problem_resolution_rate and overdue added, seed
-- targets for the average response and resolution, MTTR without resolved
-- time before a reopen, on-hold tickets judged); rows a tenant changed are
-- kept.
ALTER TABLE aftersales.kpi_catalogue DISABLE TRIGGER kpi_config_row;
UPDATE aftersales.kpi_catalogue SET code = 'sla_first_contact_rate' WHERE code = 'sla_first_response_rate';
WITH n (tenant_id, code, category, name_en, name_zh, definition, formula, unit, target, target_direction, source, sort_order, customised) AS (
SELECT 1, x.code, x.category, x.name_en, x.name_zh, x.definition, x.formula, x.unit, x.target, x.direction, x.source, x.ord, false
  FROM (VALUES
 ('response_rate', 'service', '10-minute response rate', '10分钟响应率',
  'Tickets whose first response (an engineer engaging: the first start of work, arrival, resolution or failed attempt; not the first contact, which the first-contact SLA clock measures) came within the setting response_target_minutes (10) of entry, wall clock, over the tickets judged: responded, or still without a response after the target at as_of (on hold or not: holds are part of the customer''s wait). Cancelled tickets are not judged. 10分钟响应率: 工程师开始处理(开始、到场、解决或失败尝试)距录入不超过10分钟的工单占比; 挂起的工单同样评判。',
  'count(response_minutes <= target) / count(judged)', 'ratio', NULL::numeric, NULL::text, 'kpi_service, kpi_headline', 10),
 ('arrival_rate', 'service', '4-hour arrival rate', '4小时到位率',
  'Field tickets whose first arrival on site came within the setting arrival_target_hours (4) of entry, wall clock, over the field tickets judged: arrived, or not arrived, not resolved and past the target at as_of (on hold or not). A field ticket resolved without a visit is not judged. 4小时到位率: 现场工单首次到场距录入不超过4小时的占比。',
  'count(arrival_minutes <= target) / count(judged field tickets)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 20),
 ('completion_rate', 'service', '24-hour completion rate', '24小时完工率',
  'Tickets whose final resolution came within the setting completion_target_hours (24) of entry, wall clock, over the tickets judged: resolved, or unresolved and past the target at as_of (on hold or not). A reopened ticket is judged by its final resolution. 24小时完工率: 最终解决距录入不超过24小时的工单占比。',
  'count(resolution_minutes <= target) / count(judged)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 30),
 ('on_time_completion_rate', 'service', 'On-time completion rate', '按时完工率',
  'Tickets resolved (finally) by their promised time, over the tickets judged; the promised time is the customer-requested date when one was given, else the due time of the resolution SLA clock (which moves with pauses).',
  'count(resolved_at <= promised_at) / count(judged)', 'ratio', NULL, NULL, 'kpi_service', 40),
 ('sla_first_contact_rate', 'service', 'First-contact SLA attainment', '首次联系SLA达成率',
  'Stopped first-contact clocks (ticket_sla metric first_response, stopped by the first contact with the customer or the first response, whichever comes first) whose outcome is met, over those met or breached, in business time with holds paused. Running and cancelled clocks are not counted. Not the 10-minute response rate, which waits for an engineer to engage. 首次联系SLA达成率: 首次联系客户(或首次响应)计时按时完成的占比。',
  'met / (met + breached)', 'ratio', NULL, NULL, 'kpi_service', 50),
 ('sla_arrival_rate', 'service', 'Arrival SLA attainment', '到场SLA达成率',
  'Stopped arrival clocks (field tickets) whose outcome is met, over those met or breached.',
  'met / (met + breached)', 'ratio', NULL, NULL, 'kpi_service', 60),
 ('sla_resolution_rate', 'service', 'Resolution SLA attainment', '解决SLA达成率',
  'Stopped resolution clocks whose outcome is met, over those met or breached (after a reopen, the final resolution''s verdict).',
  'met / (met + breached)', 'ratio', NULL, NULL, 'kpi_service', 70),
 ('avg_first_response_minutes', 'service', 'Average first response (AFR)', '平均首次响应时间',
  'Mean time from entry to the first response (an engineer engaging), over responded tickets; wall clock, from exact per-ticket minutes. Target of the service standard: average response at most 15 minutes. 平均响应时长(目标≤15分钟)。',
  'avg(first_response_at - opened_at)', 'minutes', 15, '<=', 'kpi_service, kpi_durations (distribution)', 80),
 ('avg_first_response_business_minutes', 'service', 'Average first response, business time', '平均首次响应时间(工作时间)',
  'As avg_first_response_minutes, counted in business time on the calendar of the ticket''s SLA policy.',
  'avg(business_minutes(calendar, opened_at, first_response_at))', 'minutes', NULL, NULL, 'kpi_service, kpi_durations (distribution)', 90),
 ('avg_resolution_minutes', 'service', 'Average resolution time (ART)', '平均解决时间',
  'Mean time from entry to the final resolution, over resolved tickets (a reopened ticket once resolved again); wall clock, holds included, from exact per-ticket minutes. Target of the service standard: average resolution at most 30 minutes. 平均解决时长(目标≤30分钟)。',
  'avg(resolved_at - opened_at)', 'minutes', 30, '<=', 'kpi_service, kpi_durations (distribution)', 100),
 ('avg_resolution_business_minutes', 'service', 'Average resolution time, business time', '平均解决时间(工作时间)',
  'As avg_resolution_minutes, counted in business time on the calendar of the ticket''s SLA policy (holds included: the resolution SLA clock is where they are paused).',
  'avg(business_minutes(calendar, opened_at, resolved_at))', 'minutes', NULL, NULL, 'kpi_service, kpi_durations (distribution)', 110),
 ('mttr_minutes', 'service', 'Mean time to repair (MTTR)', '平均修复时间',
  'Mean time from the first response (the engineer engaging: start of work, arrival) to the final resolution, over resolved tickets: the repair itself, without the wait for dispatch and without the time a reopened ticket sat resolved or closed before it was reopened; wall clock. 平均修复时间: 从首次响应到最终解决, 不含重开前处于已处理/已关闭的时间。',
  'avg(resolved_at - first_response_at - time resolved or closed before a reopen)', 'minutes', NULL, NULL, 'kpi_service, kpi_durations (distribution)', 120),
 ('mttr_business_minutes', 'service', 'Mean time to repair, business time', '平均修复时间(工作时间)',
  'As mttr_minutes, counted in business time on the calendar of the ticket''s SLA policy.',
  'avg(business_minutes(calendar, first_response_at, resolved_at))', 'minutes', NULL, NULL, 'kpi_service, kpi_durations (distribution)', 130),
 ('first_time_fix_rate', 'service', 'First-time-fix rate', '一次性修复率',
  'Tickets resolved at least once that were fixed first time: no failed attempt, never reopened (by an unsatisfied follow-up or a reopen), and at most one arrival on site (event log).',
  'count(first-time fixes) / count(first_resolved_at IS NOT NULL)', 'ratio', 0.85, '>=', 'kpi_service', 140),
 ('closed_loop_rate', 'service', 'Closed-loop resolution rate', '闭环解决率',
  'Tickets resolved at least once whose loop is closed at as_of (status closed: a satisfied follow-up), over all tickets resolved at least once and not cancelled. Tickets awaiting their follow-up and reopened tickets count against it, so it trails problem_resolution_rate by the follow-ups still to make; no target is shipped (the 98% target of the service standard is the problem-resolution rate''s). 闭环率: 已回访满意关闭的工单占已处理过工单的比例。',
  'count(status = closed) / count(first_resolved_at IS NOT NULL)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 150),
 ('problem_resolution_rate', 'service', 'Problem-resolution rate', '问题解决率',
  'Tickets whose problem is solved at as_of (status resolved or closed: awaiting the follow-up or closed), over the tickets entered and not cancelled. Target of the service standard: at least 98%, tracked by ticket number through the closed loop. 问题解决率(目标≥98%): 已处理或已关闭的工单占未取消工单的比例。',
  'count(status IN (resolved, closed)) / count(not cancelled)', 'ratio', 0.98, '>=', 'kpi_service', 155),
 ('repeat_problem_rate', 'service', 'Repeat-problem rate', '重复问题率',
  'Tickets of a unit that had another (not cancelled) ticket of the same problem type entered at most repeat_window_days (30) before, over the tickets that name a unit.',
  'count(repeats) / count(unit_id IS NOT NULL)', 'ratio', NULL, NULL, 'kpi_service', 160),
 ('reopen_rate', 'service', 'Reopen rate', '重开率',
  'Tickets resolved at least once that went back to assignment at least once after a resolution (unsatisfied follow-up or reopen), over the tickets resolved at least once.',
  'count(reopen_count > 0) / count(first_resolved_at IS NOT NULL)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 170),
 ('csat_avg', 'service', 'Customer satisfaction (CSAT)', '客户满意度',
  'Mean CSAT score (1 to 5) of the latest follow-up of each ticket, over tickets whose latest follow-up has a score.',
  'avg(csat)', 'score', 4.5, '>=', 'kpi_service, kpi_headline', 180),
 ('csat_good_share', 'service', 'Satisfied share (CSAT >= 4)', '满意率',
  'Share of the scored tickets whose CSAT is at least the setting csat_good_min (4).',
  'count(csat >= 4) / count(csat)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 190),
 ('nps', 'service', 'Net promoter score (NPS)', '净推荐值',
  'Promoters (9 or 10) minus detractors (0 to 6), in percent of the tickets whose latest follow-up has an NPS score.',
  '100 * (count(nps >= 9) - count(nps <= 6)) / count(nps)', 'nps', NULL, NULL, 'kpi_service, kpi_headline', 200),
 ('open_tickets', 'backlog', 'Open tickets (backlog)', '未完成工单',
  'Tickets unresolved at as_of (new, on_hold, assigned, in_progress, on_site, locked), their state rebuilt from the event log; resolved tickets awaiting the follow-up are not backlog.',
  'count(open at as_of)', 'tickets', NULL, NULL, 'kpi_backlog, backlog_as_of', 300),
 ('backlog_over_24h', 'backlog', 'Open over 24 hours', '超24小时工单',
  'Open tickets entered more than 24 hours before as_of (cumulative: it includes those over 48 hours and more).',
  'count(as_of - opened_at > 24 h)', 'tickets', NULL, NULL, 'kpi_backlog', 310),
 ('backlog_over_48h', 'backlog', 'Open over 48 hours', '超48小时工单',
  'Open tickets entered more than 48 hours before as_of.', 'count(as_of - opened_at > 48 h)', 'tickets', NULL, NULL, 'kpi_backlog', 320),
 ('backlog_over_72h', 'backlog', 'Open over 72 hours', '超72小时工单',
  'Open tickets entered more than 72 hours before as_of.', 'count(as_of - opened_at > 72 h)', 'tickets', NULL, NULL, 'kpi_backlog', 330),
 ('backlog_over_96h', 'backlog', 'Open over 96 hours', '超96小时工单',
  'Open tickets entered more than 96 hours before as_of.', 'count(as_of - opened_at > 96 h)', 'tickets', NULL, NULL, 'kpi_backlog', 340),
 ('backlog_over_120h', 'backlog', 'Open over 120 hours', '超120小时工单',
  'Open tickets entered more than 120 hours before as_of.', 'count(as_of - opened_at > 120 h)', 'tickets', NULL, NULL, 'kpi_backlog', 350),
 ('overdue', 'backlog', 'Open tickets overdue by stage', '超期工单(按环节)',
  'Open tickets at as_of past the target of a stage they have not reached: response (no engineer engaged 10 minutes after entry), arrival (a field ticket not on site 4 hours after entry), completion (not resolved 24 hours after entry); the columns over_24h to over_120h count those overdue by more than 24, 48, 72, 96 and 120 hours (cumulative). The dashboards ask for the response, arrival and completion rates each with the tickets over 24/48/72/96/120 hours, per representative office, dealer and supplier. 按响应、到位、完工三个环节统计超24/48/72/96/120小时的工单。',
  'count(as_of - (opened_at + stage target) > 0)', 'tickets', NULL, NULL, 'kpi_backlog_stages', 355),
 ('holdings', 'backlog', 'Tickets held per engineer', '人员工单保有量',
  'Open tickets whose assignee at as_of is the engineer (assigned, in_progress, on_site, or on hold from one of them).',
  'count(open tickets assigned to the engineer at as_of)', 'tickets', NULL, NULL, 'kpi_engineer_holdings', 360),
 ('failures', 'quality', 'Failures', '故障数',
  'Tickets entered in the period, not cancelled, whose problem type is a fault (problem_types.kind = fault): consultations, parameter settings and installations are not failures. Each is a failure report of its product model and fault type. 故障数: 仅统计故障类问题(不含咨询、参数设置、安装调试)。',
  'count(tickets not cancelled, problem kind fault)', 'tickets', NULL, NULL, 'kpi_failures', 400),
 ('early_failures', 'quality', 'Early failures', '早期故障',
  'Failures of a unit entered at most early_failure_days (90) after its installation date; warning line: setting early_failure_warning (400 a month).',
  'count(0 <= entry date - installed_on <= 90)', 'tickets', NULL, NULL, 'kpi_failures, kpi_warranty_trend', 410),
 ('in_warranty_failures', 'quality', 'In-warranty failures', '保内故障',
  'Failures of a unit within its warranty (entry date up to units.warranty_ends, else up to the day before installation plus the model''s warranty_months: 12 months from 1 March end on the last day of February), other than early failures; warning line: setting in_warranty_warning (600). 保内故障。',
  'count(not early, entry date <= warranty end)', 'tickets', NULL, NULL, 'kpi_failures, kpi_warranty_trend', 420),
 ('out_of_warranty_failures', 'quality', 'Out-of-warranty failures', '保外故障',
  'Failures of a unit after its warranty ended, other than early failures; warning line: setting out_of_warranty_warning (600).',
  'count(not early, entry date > warranty end)', 'tickets', NULL, NULL, 'kpi_failures, kpi_warranty_trend', 430),
 ('avg_handling_minutes', 'staff', 'Average handling time', '工单平均耗时',
  'Mean time from the assignment to the engineer who holds the ticket (assigned_at) to the final resolution, over resolved tickets; wall clock.',
  'avg(resolved_at - assigned_at)', 'minutes', NULL, NULL, 'kpi_staff, kpi_durations (distribution)', 500),
 ('dispatches', 'staff', 'Dispatch volume', '派工量',
  'Assignment events that gave a ticket to an engineer (assign, reassign, take_over ending in assigned), dated by the event.',
  'count(dispatch events)', 'tickets', NULL, NULL, 'kpi_dispatch', 510)
) AS x (code, category, name_en, name_zh, definition, formula, unit, target, direction, source, ord))
UPDATE aftersales.kpi_catalogue k
   SET category = n.category, name_en = n.name_en, name_zh = n.name_zh, definition = n.definition,
       formula = n.formula, unit = n.unit, target = n.target, target_direction = n.target_direction,
       source = n.source, sort_order = n.sort_order
  FROM n
 WHERE k.tenant_id = 1 AND k.code = n.code AND NOT k.customised;
WITH n (tenant_id, code, category, name_en, name_zh, definition, formula, unit, target, target_direction, source, sort_order, customised) AS (
SELECT 1, x.code, x.category, x.name_en, x.name_zh, x.definition, x.formula, x.unit, x.target, x.direction, x.source, x.ord, false
  FROM (VALUES
 ('response_rate', 'service', '10-minute response rate', '10分钟响应率',
  'Tickets whose first response (an engineer engaging: the first start of work, arrival, resolution or failed attempt; not the first contact, which the first-contact SLA clock measures) came within the setting response_target_minutes (10) of entry, wall clock, over the tickets judged: responded, or still without a response after the target at as_of (on hold or not: holds are part of the customer''s wait). Cancelled tickets are not judged. 10分钟响应率: 工程师开始处理(开始、到场、解决或失败尝试)距录入不超过10分钟的工单占比; 挂起的工单同样评判。',
  'count(response_minutes <= target) / count(judged)', 'ratio', NULL::numeric, NULL::text, 'kpi_service, kpi_headline', 10),
 ('arrival_rate', 'service', '4-hour arrival rate', '4小时到位率',
  'Field tickets whose first arrival on site came within the setting arrival_target_hours (4) of entry, wall clock, over the field tickets judged: arrived, or not arrived, not resolved and past the target at as_of (on hold or not). A field ticket resolved without a visit is not judged. 4小时到位率: 现场工单首次到场距录入不超过4小时的占比。',
  'count(arrival_minutes <= target) / count(judged field tickets)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 20),
 ('completion_rate', 'service', '24-hour completion rate', '24小时完工率',
  'Tickets whose final resolution came within the setting completion_target_hours (24) of entry, wall clock, over the tickets judged: resolved, or unresolved and past the target at as_of (on hold or not). A reopened ticket is judged by its final resolution. 24小时完工率: 最终解决距录入不超过24小时的工单占比。',
  'count(resolution_minutes <= target) / count(judged)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 30),
 ('on_time_completion_rate', 'service', 'On-time completion rate', '按时完工率',
  'Tickets resolved (finally) by their promised time, over the tickets judged; the promised time is the customer-requested date when one was given, else the due time of the resolution SLA clock (which moves with pauses).',
  'count(resolved_at <= promised_at) / count(judged)', 'ratio', NULL, NULL, 'kpi_service', 40),
 ('sla_first_contact_rate', 'service', 'First-contact SLA attainment', '首次联系SLA达成率',
  'Stopped first-contact clocks (ticket_sla metric first_response, stopped by the first contact with the customer or the first response, whichever comes first) whose outcome is met, over those met or breached, in business time with holds paused. Running and cancelled clocks are not counted. Not the 10-minute response rate, which waits for an engineer to engage. 首次联系SLA达成率: 首次联系客户(或首次响应)计时按时完成的占比。',
  'met / (met + breached)', 'ratio', NULL, NULL, 'kpi_service', 50),
 ('sla_arrival_rate', 'service', 'Arrival SLA attainment', '到场SLA达成率',
  'Stopped arrival clocks (field tickets) whose outcome is met, over those met or breached.',
  'met / (met + breached)', 'ratio', NULL, NULL, 'kpi_service', 60),
 ('sla_resolution_rate', 'service', 'Resolution SLA attainment', '解决SLA达成率',
  'Stopped resolution clocks whose outcome is met, over those met or breached (after a reopen, the final resolution''s verdict).',
  'met / (met + breached)', 'ratio', NULL, NULL, 'kpi_service', 70),
 ('avg_first_response_minutes', 'service', 'Average first response (AFR)', '平均首次响应时间',
  'Mean time from entry to the first response (an engineer engaging), over responded tickets; wall clock, from exact per-ticket minutes. Target of the service standard: average response at most 15 minutes. 平均响应时长(目标≤15分钟)。',
  'avg(first_response_at - opened_at)', 'minutes', 15, '<=', 'kpi_service, kpi_durations (distribution)', 80),
 ('avg_first_response_business_minutes', 'service', 'Average first response, business time', '平均首次响应时间(工作时间)',
  'As avg_first_response_minutes, counted in business time on the calendar of the ticket''s SLA policy.',
  'avg(business_minutes(calendar, opened_at, first_response_at))', 'minutes', NULL, NULL, 'kpi_service, kpi_durations (distribution)', 90),
 ('avg_resolution_minutes', 'service', 'Average resolution time (ART)', '平均解决时间',
  'Mean time from entry to the final resolution, over resolved tickets (a reopened ticket once resolved again); wall clock, holds included, from exact per-ticket minutes. Target of the service standard: average resolution at most 30 minutes. 平均解决时长(目标≤30分钟)。',
  'avg(resolved_at - opened_at)', 'minutes', 30, '<=', 'kpi_service, kpi_durations (distribution)', 100),
 ('avg_resolution_business_minutes', 'service', 'Average resolution time, business time', '平均解决时间(工作时间)',
  'As avg_resolution_minutes, counted in business time on the calendar of the ticket''s SLA policy (holds included: the resolution SLA clock is where they are paused).',
  'avg(business_minutes(calendar, opened_at, resolved_at))', 'minutes', NULL, NULL, 'kpi_service, kpi_durations (distribution)', 110),
 ('mttr_minutes', 'service', 'Mean time to repair (MTTR)', '平均修复时间',
  'Mean time from the first response (the engineer engaging: start of work, arrival) to the final resolution, over resolved tickets: the repair itself, without the wait for dispatch and without the time a reopened ticket sat resolved or closed before it was reopened; wall clock. 平均修复时间: 从首次响应到最终解决, 不含重开前处于已处理/已关闭的时间。',
  'avg(resolved_at - first_response_at - time resolved or closed before a reopen)', 'minutes', NULL, NULL, 'kpi_service, kpi_durations (distribution)', 120),
 ('mttr_business_minutes', 'service', 'Mean time to repair, business time', '平均修复时间(工作时间)',
  'As mttr_minutes, counted in business time on the calendar of the ticket''s SLA policy.',
  'avg(business_minutes(calendar, first_response_at, resolved_at))', 'minutes', NULL, NULL, 'kpi_service, kpi_durations (distribution)', 130),
 ('first_time_fix_rate', 'service', 'First-time-fix rate', '一次性修复率',
  'Tickets resolved at least once that were fixed first time: no failed attempt, never reopened (by an unsatisfied follow-up or a reopen), and at most one arrival on site (event log).',
  'count(first-time fixes) / count(first_resolved_at IS NOT NULL)', 'ratio', 0.85, '>=', 'kpi_service', 140),
 ('closed_loop_rate', 'service', 'Closed-loop resolution rate', '闭环解决率',
  'Tickets resolved at least once whose loop is closed at as_of (status closed: a satisfied follow-up), over all tickets resolved at least once and not cancelled. Tickets awaiting their follow-up and reopened tickets count against it, so it trails problem_resolution_rate by the follow-ups still to make; no target is shipped (the 98% target of the service standard is the problem-resolution rate''s). 闭环率: 已回访满意关闭的工单占已处理过工单的比例。',
  'count(status = closed) / count(first_resolved_at IS NOT NULL)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 150),
 ('problem_resolution_rate', 'service', 'Problem-resolution rate', '问题解决率',
  'Tickets whose problem is solved at as_of (status resolved or closed: awaiting the follow-up or closed), over the tickets entered and not cancelled. Target of the service standard: at least 98%, tracked by ticket number through the closed loop. 问题解决率(目标≥98%): 已处理或已关闭的工单占未取消工单的比例。',
  'count(status IN (resolved, closed)) / count(not cancelled)', 'ratio', 0.98, '>=', 'kpi_service', 155),
 ('repeat_problem_rate', 'service', 'Repeat-problem rate', '重复问题率',
  'Tickets of a unit that had another (not cancelled) ticket of the same problem type entered at most repeat_window_days (30) before, over the tickets that name a unit.',
  'count(repeats) / count(unit_id IS NOT NULL)', 'ratio', NULL, NULL, 'kpi_service', 160),
 ('reopen_rate', 'service', 'Reopen rate', '重开率',
  'Tickets resolved at least once that went back to assignment at least once after a resolution (unsatisfied follow-up or reopen), over the tickets resolved at least once.',
  'count(reopen_count > 0) / count(first_resolved_at IS NOT NULL)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 170),
 ('csat_avg', 'service', 'Customer satisfaction (CSAT)', '客户满意度',
  'Mean CSAT score (1 to 5) of the latest follow-up of each ticket, over tickets whose latest follow-up has a score.',
  'avg(csat)', 'score', 4.5, '>=', 'kpi_service, kpi_headline', 180),
 ('csat_good_share', 'service', 'Satisfied share (CSAT >= 4)', '满意率',
  'Share of the scored tickets whose CSAT is at least the setting csat_good_min (4).',
  'count(csat >= 4) / count(csat)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 190),
 ('nps', 'service', 'Net promoter score (NPS)', '净推荐值',
  'Promoters (9 or 10) minus detractors (0 to 6), in percent of the tickets whose latest follow-up has an NPS score.',
  '100 * (count(nps >= 9) - count(nps <= 6)) / count(nps)', 'nps', NULL, NULL, 'kpi_service, kpi_headline', 200),
 ('open_tickets', 'backlog', 'Open tickets (backlog)', '未完成工单',
  'Tickets unresolved at as_of (new, on_hold, assigned, in_progress, on_site, locked), their state rebuilt from the event log; resolved tickets awaiting the follow-up are not backlog.',
  'count(open at as_of)', 'tickets', NULL, NULL, 'kpi_backlog, backlog_as_of', 300),
 ('backlog_over_24h', 'backlog', 'Open over 24 hours', '超24小时工单',
  'Open tickets entered more than 24 hours before as_of (cumulative: it includes those over 48 hours and more).',
  'count(as_of - opened_at > 24 h)', 'tickets', NULL, NULL, 'kpi_backlog', 310),
 ('backlog_over_48h', 'backlog', 'Open over 48 hours', '超48小时工单',
  'Open tickets entered more than 48 hours before as_of.', 'count(as_of - opened_at > 48 h)', 'tickets', NULL, NULL, 'kpi_backlog', 320),
 ('backlog_over_72h', 'backlog', 'Open over 72 hours', '超72小时工单',
  'Open tickets entered more than 72 hours before as_of.', 'count(as_of - opened_at > 72 h)', 'tickets', NULL, NULL, 'kpi_backlog', 330),
 ('backlog_over_96h', 'backlog', 'Open over 96 hours', '超96小时工单',
  'Open tickets entered more than 96 hours before as_of.', 'count(as_of - opened_at > 96 h)', 'tickets', NULL, NULL, 'kpi_backlog', 340),
 ('backlog_over_120h', 'backlog', 'Open over 120 hours', '超120小时工单',
  'Open tickets entered more than 120 hours before as_of.', 'count(as_of - opened_at > 120 h)', 'tickets', NULL, NULL, 'kpi_backlog', 350),
 ('overdue', 'backlog', 'Open tickets overdue by stage', '超期工单(按环节)',
  'Open tickets at as_of past the target of a stage they have not reached: response (no engineer engaged 10 minutes after entry), arrival (a field ticket not on site 4 hours after entry), completion (not resolved 24 hours after entry); the columns over_24h to over_120h count those overdue by more than 24, 48, 72, 96 and 120 hours (cumulative). The dashboards ask for the response, arrival and completion rates each with the tickets over 24/48/72/96/120 hours, per representative office, dealer and supplier. 按响应、到位、完工三个环节统计超24/48/72/96/120小时的工单。',
  'count(as_of - (opened_at + stage target) > 0)', 'tickets', NULL, NULL, 'kpi_backlog_stages', 355),
 ('holdings', 'backlog', 'Tickets held per engineer', '人员工单保有量',
  'Open tickets whose assignee at as_of is the engineer (assigned, in_progress, on_site, or on hold from one of them).',
  'count(open tickets assigned to the engineer at as_of)', 'tickets', NULL, NULL, 'kpi_engineer_holdings', 360),
 ('failures', 'quality', 'Failures', '故障数',
  'Tickets entered in the period, not cancelled, whose problem type is a fault (problem_types.kind = fault): consultations, parameter settings and installations are not failures. Each is a failure report of its product model and fault type. 故障数: 仅统计故障类问题(不含咨询、参数设置、安装调试)。',
  'count(tickets not cancelled, problem kind fault)', 'tickets', NULL, NULL, 'kpi_failures', 400),
 ('early_failures', 'quality', 'Early failures', '早期故障',
  'Failures of a unit entered at most early_failure_days (90) after its installation date; warning line: setting early_failure_warning (400 a month).',
  'count(0 <= entry date - installed_on <= 90)', 'tickets', NULL, NULL, 'kpi_failures, kpi_warranty_trend', 410),
 ('in_warranty_failures', 'quality', 'In-warranty failures', '保内故障',
  'Failures of a unit within its warranty (entry date up to units.warranty_ends, else up to the day before installation plus the model''s warranty_months: 12 months from 1 March end on the last day of February), other than early failures; warning line: setting in_warranty_warning (600). 保内故障。',
  'count(not early, entry date <= warranty end)', 'tickets', NULL, NULL, 'kpi_failures, kpi_warranty_trend', 420),
 ('out_of_warranty_failures', 'quality', 'Out-of-warranty failures', '保外故障',
  'Failures of a unit after its warranty ended, other than early failures; warning line: setting out_of_warranty_warning (600).',
  'count(not early, entry date > warranty end)', 'tickets', NULL, NULL, 'kpi_failures, kpi_warranty_trend', 430),
 ('avg_handling_minutes', 'staff', 'Average handling time', '工单平均耗时',
  'Mean time from the assignment to the engineer who holds the ticket (assigned_at) to the final resolution, over resolved tickets; wall clock.',
  'avg(resolved_at - assigned_at)', 'minutes', NULL, NULL, 'kpi_staff, kpi_durations (distribution)', 500),
 ('dispatches', 'staff', 'Dispatch volume', '派工量',
  'Assignment events that gave a ticket to an engineer (assign, reassign, take_over ending in assigned), dated by the event.',
  'count(dispatch events)', 'tickets', NULL, NULL, 'kpi_dispatch', 510)
) AS x (code, category, name_en, name_zh, definition, formula, unit, target, direction, source, ord))
INSERT INTO aftersales.kpi_catalogue (tenant_id, code, category, name_en, name_zh, definition, formula, unit, target, target_direction, source, sort_order, customised)
SELECT * FROM n WHERE NOT EXISTS (SELECT FROM aftersales.kpi_catalogue k WHERE k.tenant_id = 1 AND k.code = n.code);
ALTER TABLE aftersales.kpi_catalogue ENABLE TRIGGER kpi_config_row;

CREATE OR REPLACE FUNCTION aftersales_internal.kpi_config_row() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key_col constant text := CASE TG_TABLE_NAME WHEN 'kpi_settings' THEN 'name' ELSE 'code' END;
    key_val text;
    replaced integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.tenant_id = 1 THEN
            RAISE EXCEPTION 'cannot delete % "%" of tenant 1', TG_TABLE_NAME,
                    pg_catalog.to_jsonb(OLD) ->> key_col
                USING ERRCODE = '55000',
                      DETAIL = 'Tenant 1''s rows are the defaults every other tenant falls back to.',
                      HINT = CASE TG_TABLE_NAME WHEN 'kpi_settings'
                                  THEN 'Change the value instead, for example: SELECT aftersales.set_kpi_setting(''repeat_window_days'', 60);'
                                  ELSE 'Update the row instead, for example: UPDATE aftersales.kpi_catalogue SET target = 0.9 WHERE tenant_id = 1 AND code = ''first_time_fix_rate'';' END;
        END IF;
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.customised := true;
        RETURN NEW;
    END IF;
    -- INSERT
    key_val := pg_catalog.to_jsonb(NEW) ->> key_col;
    IF TG_TABLE_NAME = 'kpi_settings' THEN
        UPDATE aftersales.kpi_settings s
           SET value = NEW.value, unit = NEW.unit, description = NEW.description, customised = true
         WHERE s.tenant_id = NEW.tenant_id AND s.name = key_val AND NOT s.customised;
    ELSE
        UPDATE aftersales.kpi_catalogue k
           SET category = NEW.category, name_en = NEW.name_en, name_zh = NEW.name_zh,
               definition = NEW.definition, formula = NEW.formula, unit = NEW.unit, target = NEW.target,
               target_direction = NEW.target_direction, source = NEW.source, sort_order = NEW.sort_order,
               customised = true
         WHERE k.tenant_id = NEW.tenant_id AND k.code = key_val AND NOT k.customised;
    END IF;
    GET DIAGNOSTICS replaced = ROW_COUNT;
    IF replaced > 0 THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION aftersales_internal.kpi_config_row() IS
  'Trigger on kpi_settings and kpi_catalogue: changes mark a row customised; an INSERT replaces a shipped, unchanged row of the same key (pg_dump restore); tenant 1''s rows cannot be deleted';

CREATE OR REPLACE FUNCTION aftersales_internal.kpi_config(tenant bigint)
    RETURNS TABLE (tenant_id bigint, response_target interval, arrival_target interval,
                   completion_target interval, repeat_window interval, early_failure_days integer,
                   early_failure_warning numeric, in_warranty_warning numeric,
                   out_of_warranty_warning numeric, csat_good_min numeric)
LANGUAGE sql STABLE PARALLEL SAFE ROWS 1
SET search_path = pg_catalog, pg_temp
AS $$
SELECT v.tenant_id,
       pg_catalog.make_interval(secs => (60 * pg_catalog.max(v.value) FILTER (WHERE v.name = 'response_target_minutes'))::float8),
       pg_catalog.make_interval(secs => (3600 * pg_catalog.max(v.value) FILTER (WHERE v.name = 'arrival_target_hours'))::float8),
       pg_catalog.make_interval(secs => (3600 * pg_catalog.max(v.value) FILTER (WHERE v.name = 'completion_target_hours'))::float8),
       pg_catalog.make_interval(secs => (86400 * pg_catalog.max(v.value) FILTER (WHERE v.name = 'repeat_window_days'))::float8),
       pg_catalog.floor(pg_catalog.max(v.value) FILTER (WHERE v.name = 'early_failure_days'))::integer,
       pg_catalog.max(v.value) FILTER (WHERE v.name = 'early_failure_warning'),
       pg_catalog.max(v.value) FILTER (WHERE v.name = 'in_warranty_warning'),
       pg_catalog.max(v.value) FILTER (WHERE v.name = 'out_of_warranty_warning'),
       pg_catalog.max(v.value) FILTER (WHERE v.name = 'csat_good_min')
  FROM (SELECT tn.tenant_id, d.name, COALESCE(o.value, d.value) AS value
          FROM aftersales.tenants tn
          JOIN aftersales.kpi_settings d ON d.tenant_id = 1
          LEFT JOIN aftersales.kpi_settings o ON o.tenant_id = tn.tenant_id AND o.name = d.name
         WHERE kpi_config.tenant IS NULL OR tn.tenant_id = kpi_config.tenant) v
 GROUP BY v.tenant_id
$$;
COMMENT ON FUNCTION aftersales_internal.kpi_config(bigint) IS
  'Internal: the KPI settings of a tenant (NULL: every tenant) as one typed row per tenant, with tenant 1''s as fallback';

CREATE OR REPLACE FUNCTION aftersales.kpi_setting(name text, tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS numeric
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result numeric;
BEGIN
    SELECT COALESCE(o.value, d.value) INTO result
      FROM aftersales.kpi_settings d
      LEFT JOIN aftersales.kpi_settings o ON o.tenant_id = kpi_setting.tenant AND o.name = d.name
     WHERE d.tenant_id = 1 AND d.name = kpi_setting.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown KPI setting: "%"', name
            USING ERRCODE = '22023',
                  HINT = 'Settings are listed by: SELECT name, value, unit FROM aftersales.kpi_settings_current; for example: SELECT aftersales.kpi_setting(''repeat_window_days'');';
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_setting(text, bigint) IS
  'The value of a KPI setting for a tenant: its own, else tenant 1''s';

CREATE OR REPLACE FUNCTION aftersales.set_kpi_setting(name text, value numeric,
                                           tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS numeric
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d aftersales.kpi_settings;
BEGIN
    SELECT * INTO d FROM aftersales.kpi_settings s WHERE s.tenant_id = 1 AND s.name = set_kpi_setting.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown KPI setting: "%"', name
            USING ERRCODE = '22023',
                  HINT = 'Settings are listed by: SELECT name, value, unit FROM aftersales.kpi_settings_current; for example: SELECT aftersales.set_kpi_setting(''repeat_window_days'', 60);';
    END IF;
    IF value IS NULL OR value < 0 OR value >= 1000000 THEN
        RAISE EXCEPTION 'invalid value for KPI setting %: %', name, COALESCE(value::text, 'NULL')
            USING ERRCODE = '22003',
                  HINT = pg_catalog.format('The value is a number from 0 to 999999, in %s; for example: SELECT aftersales.set_kpi_setting(%L, %s);',
                                           d.unit, name, d.value);
    END IF;
    IF tenant IS NULL OR NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = set_kpi_setting.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', COALESCE(tenant::text, 'NULL')
            USING ERRCODE = 'P0002',
                  HINT = 'List the tenants with: SELECT tenant_id, name FROM aftersales.tenants;';
    END IF;
    INSERT INTO aftersales.kpi_settings AS s (tenant_id, name, value, unit, description)
    VALUES (tenant, name, value, d.unit, d.description)
    ON CONFLICT ON CONSTRAINT kpi_settings_pkey DO UPDATE SET value = excluded.value;
    RETURN value;
END
$$;
COMMENT ON FUNCTION aftersales.set_kpi_setting(text, numeric, bigint) IS
  'Set a KPI setting for a tenant (upsert); returns the value';

CREATE OR REPLACE FUNCTION aftersales_internal.kpi_check(fn text, example text, period text, dimension text, dimensions text[],
                                      since timestamptz, until timestamptz, as_of timestamptz, zone text,
                                      tenant bigint)
    RETURNS void
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    periods constant text[] := '{day,week,month,quarter,year,all}';
BEGIN
    IF period IS NOT NULL OR fn IN ('kpi_service', 'kpi_headline', 'kpi_staff', 'kpi_dispatch', 'kpi_failures', 'kpi_warranty_trend') THEN
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
    IF fn NOT IN ('kpi_backlog', 'kpi_engineer_holdings', 'backlog_as_of', 'kpi_backlog_stages') THEN
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
    -- the tenant first: an unknown tenant has no reporting zone either
    IF tenant IS NOT NULL AND NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = kpi_check.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the tenants with: SELECT tenant_id, name FROM aftersales.tenants; or pass tenant => NULL for every tenant.';
    END IF;
    IF zone IS NULL THEN
        RAISE EXCEPTION 'zone must not be null'
            USING ERRCODE = '22004',
                  DETAIL = 'Periods are cut in this time zone; the default is the tenant''s reporting zone, which tenant => NULL has only when every tenant reports in the same zone.',
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
END
$$;
COMMENT ON FUNCTION aftersales_internal.kpi_check(text, text, text, text, text[], timestamptz, timestamptz, timestamptz, text, bigint) IS
  'Internal: validates the parameters of a KPI function; errors name the bad value and show a correct call';

CREATE OR REPLACE FUNCTION aftersales_internal.kpi_dimension_sql(dimension text, OUT key_sql text, OUT name_sql text, OUT order_sql text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT x.k, x.n,
       CASE WHEN dimension IN ('tenant', 'organisation', 'product_model', 'problem_type', 'engineer')
            THEN 'pg_catalog.lpad(q.dim_key, 20, ''0'') COLLATE "C"' ELSE 'q.dim_key COLLATE "C"' END
  FROM (VALUES ('all', '''all''::text', '''all''::text'),
               ('tenant', 'k.tenant_id::text', 'k.tenant_name'),
               ('region', 'k.region', 'k.region'),
               ('province', 'k.province', 'k.province'),
               ('organisation', 'k.org_id::text', 'k.org_name'),
               ('organisation_type', 'k.org_type',
                'CASE k.org_type WHEN ''headquarters'' THEN ''总部'' WHEN ''representative_office'' THEN ''代表处'''
                ' WHEN ''dealer'' THEN ''经销商'' WHEN ''supplier'' THEN ''供应商'' END'),
               ('product_model', 'k.model_id::text', 'k.model_name'),
               ('problem_type', 'k.problem_type_id::text', 'k.problem_name'),
               ('engineer', 'k.engineer_id::text', 'k.engineer_name'),
               ('priority', 'k.priority::text', 'k.priority::text'),
               ('channel', 'k.channel', 'k.channel')) AS x (d, k, n)
 WHERE x.d = dimension
$$;
COMMENT ON FUNCTION aftersales_internal.kpi_dimension_sql(text) IS
  'Internal: SQL expressions of a dimension''s key and label over alias k, and of the order of its keys';

CREATE OR REPLACE FUNCTION aftersales_internal.kpi_period_sql(period text, ts text, zone_param integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN period = 'all' THEN 'NULL::date'
            ELSE pg_catalog.format('pg_catalog.date_trunc(%L, pg_catalog.timezone($%s, %s))::date', period, zone_param, ts) END
$$;
COMMENT ON FUNCTION aftersales_internal.kpi_period_sql(text, text, integer) IS
  'Internal: SQL expression of the first day of the period of a timestamp, in a zone given as a query parameter';

CREATE OR REPLACE FUNCTION aftersales.kpi_ticket_facts(since timestamptz, until timestamptz,
                                            as_of timestamptz DEFAULT aftersales.now(),
                                            tenant bigint DEFAULT aftersales.current_tenant())
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
                   csat_score integer, csat_good integer, nps_score integer, nps_promoter integer, nps_detractor integer)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_ticket_facts',
        'SELECT * FROM aftersales.kpi_ticket_facts(''2026-01-01'', ''2026-02-01'', as_of => ''2026-02-01'');',
        NULL, NULL, NULL, since, until, as_of, 'UTC', tenant);
    RETURN QUERY
    WITH cfg AS (
        SELECT * FROM aftersales_internal.kpi_config(kpi_ticket_facts.tenant)
    ), later AS (
        -- tickets changed after as_of: what was known at as_of is rebuilt
        -- from their event log (the others' current row is that)
        SELECT t.tenant_id, t.ticket_id
          FROM aftersales.tickets t
         WHERE (kpi_ticket_facts.tenant IS NULL OR t.tenant_id = kpi_ticket_facts.tenant)
           AND t.opened_at >= kpi_ticket_facts.since AND t.opened_at < kpi_ticket_facts.until
           AND t.opened_at <= kpi_ticket_facts.as_of AND t.last_event_at > kpi_ticket_facts.as_of
    ), loop_rules AS (
        SELECT tr.from_state, tr.event, tr.to_state, tr.first_response, tr.counts_attempt, tr.supplies
          FROM aftersales.ticket_transitions() tr
    ), snap AS (
        -- the columns of the ticket row at as_of, as replay_ticket() builds
        -- them from the log
        SELECT x.tenant_id, x.ticket_id, x.status, x.priority, x.first_response_at, x.assigned_at, x.arrived_at,
               x.first_resolved_at,
               CASE WHEN x.last_resolve_seq > COALESCE(x.last_reopen_seq, 0) THEN x.last_resolve_at END AS resolved_at,
               CASE WHEN x.last_close_seq > COALESCE(x.last_reopen_seq, 0) THEN x.last_close_at END AS closed_at,
               x.attempt_count, x.reopen_count, x.csat, x.nps, x.engineer_id
          FROM (SELECT ev.tenant_id, ev.ticket_id,
                       (pg_catalog.array_agg(ev.to_state ORDER BY ev.seq DESC))[1] AS status,
                       (pg_catalog.array_agg(ev.payload ->> 'priority' ORDER BY ev.seq DESC)
                            FILTER (WHERE ev.payload ? 'priority'))[1]::aftersales.priority AS priority,
                       pg_catalog.min(ev.at) FILTER (WHERE r.first_response) AS first_response_at,
                       pg_catalog.max(ev.at) FILTER (WHERE r.supplies = 'assignee_id' AND ev.to_state = 'assigned') AS assigned_at,
                       pg_catalog.min(ev.at) FILTER (WHERE ev.event = 'arrive') AS arrived_at,
                       pg_catalog.min(ev.at) FILTER (WHERE ev.to_state = 'resolved') AS first_resolved_at,
                       pg_catalog.max(ev.seq) FILTER (WHERE ev.to_state = 'resolved') AS last_resolve_seq,
                       (pg_catalog.array_agg(ev.at ORDER BY ev.seq DESC) FILTER (WHERE ev.to_state = 'resolved'))[1] AS last_resolve_at,
                       pg_catalog.max(ev.seq) FILTER (WHERE ev.to_state = 'closed') AS last_close_seq,
                       (pg_catalog.array_agg(ev.at ORDER BY ev.seq DESC) FILTER (WHERE ev.to_state = 'closed'))[1] AS last_close_at,
                       pg_catalog.max(ev.seq) FILTER (WHERE ev.from_state IN ('resolved', 'closed') AND ev.to_state = 'new') AS last_reopen_seq,
                       pg_catalog.count(*) FILTER (WHERE r.counts_attempt)::integer AS attempt_count,
                       pg_catalog.count(*) FILTER (WHERE ev.from_state IN ('resolved', 'closed') AND ev.to_state = 'new')::integer AS reopen_count,
                       (pg_catalog.array_agg(ev.payload ->> 'csat' ORDER BY ev.seq DESC) FILTER (WHERE ev.event = 'follow_up'))[1]::smallint AS csat,
                       (pg_catalog.array_agg(ev.payload ->> 'nps' ORDER BY ev.seq DESC) FILTER (WHERE ev.event = 'follow_up'))[1]::smallint AS nps,
                       (pg_catalog.array_agg(CASE WHEN ev.to_state IN ('new', 'locked') THEN NULL ELSE (ev.payload ->> 'assignee')::bigint END
                                             ORDER BY ev.seq DESC)
                            FILTER (WHERE ev.payload ? 'assignee' OR ev.to_state IN ('new', 'locked')))[1] AS engineer_id
                  FROM later l
                  JOIN aftersales.ticket_events ev ON ev.tenant_id = l.tenant_id AND ev.ticket_id = l.ticket_id
                  LEFT JOIN loop_rules r
                    ON r.from_state IS NOT DISTINCT FROM ev.from_state AND r.event = ev.event AND r.to_state = ev.to_state
                 WHERE ev.at <= kpi_ticket_facts.as_of
                 GROUP BY ev.tenant_id, ev.ticket_id) x
    ), base AS (
        SELECT k.tenant_id, k.tenant_name, k.ticket_id, k.opened_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.status ELSE sn.status END AS status,
               CASE WHEN sn.ticket_id IS NULL THEN k.priority ELSE COALESCE(sn.priority, k.priority) END AS priority,
               k.channel, k.field, k.customer_id, k.customer_tier, k.region, k.province, k.org_id, k.org_name,
               k.org_type, k.unit_id, k.model_id, k.model_name, k.problem_type_id, k.problem_name,
               CASE WHEN sn.ticket_id IS NULL THEN k.engineer_id ELSE sn.engineer_id END AS engineer_id,
               CASE WHEN sn.ticket_id IS NULL THEN k.engineer_name ELSE se.name END AS engineer_name,
               k.requested_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.first_response_at ELSE sn.first_response_at END AS first_response_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.assigned_at ELSE sn.assigned_at END AS assigned_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.arrived_at ELSE sn.arrived_at END AS arrived_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.first_resolved_at ELSE sn.first_resolved_at END AS first_resolved_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.resolved_at ELSE sn.resolved_at END AS resolved_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.closed_at ELSE sn.closed_at END AS closed_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.attempt_count ELSE sn.attempt_count END AS attempt_count,
               CASE WHEN sn.ticket_id IS NULL THEN k.reopen_count ELSE sn.reopen_count END AS reopen_count,
               CASE WHEN sn.ticket_id IS NULL THEN k.csat ELSE sn.csat END AS csat,
               CASE WHEN sn.ticket_id IS NULL THEN k.nps ELSE sn.nps END AS nps,
               g.response_target, g.arrival_target, g.completion_target, g.csat_good_min
          FROM aftersales._kpi_ticket_dims k
          JOIN cfg g ON g.tenant_id = k.tenant_id
          LEFT JOIN snap sn ON sn.tenant_id = k.tenant_id AND sn.ticket_id = k.ticket_id
          LEFT JOIN aftersales.engineers se ON se.tenant_id = sn.tenant_id AND se.engineer_id = sn.engineer_id
         WHERE (kpi_ticket_facts.tenant IS NULL OR k.tenant_id = kpi_ticket_facts.tenant)
           AND k.opened_at >= kpi_ticket_facts.since AND k.opened_at < kpi_ticket_facts.until
           AND k.opened_at <= kpi_ticket_facts.as_of
    ), facts AS (
        SELECT b.*, b.status = 'cancelled' AS is_cancelled
          FROM base b
    ), clocks AS (
        -- one row per ticket: its policy and the state of its three clocks
        SELECT s.tenant_id, s.ticket_id, pg_catalog.min(s.policy_id) AS policy_id,
               pg_catalog.min(CASE WHEN s.stopped_at <= kpi_ticket_facts.as_of THEN s.outcome ELSE 'running' END)
                   FILTER (WHERE s.metric = 'first_response') AS fr,
               pg_catalog.min(CASE WHEN s.stopped_at <= kpi_ticket_facts.as_of THEN s.outcome ELSE 'running' END)
                   FILTER (WHERE s.metric = 'arrival') AS arr,
               pg_catalog.min(CASE WHEN s.stopped_at <= kpi_ticket_facts.as_of THEN s.outcome ELSE 'running' END)
                   FILTER (WHERE s.metric = 'resolution') AS res,
               pg_catalog.min(s.due_at) FILTER (WHERE s.metric = 'resolution') AS res_due
          FROM aftersales.ticket_sla s
         WHERE (kpi_ticket_facts.tenant IS NULL OR s.tenant_id = kpi_ticket_facts.tenant)
           AND s.started_at >= kpi_ticket_facts.since AND s.started_at < kpi_ticket_facts.until
         GROUP BY s.tenant_id, s.ticket_id
    ), repeats AS (
        -- the previous ticket of the same unit and problem type, not cancelled
        SELECT r.tenant_id, r.ticket_id, r.gap <= g.repeat_window AS is_repeat
          FROM (SELECT t.tenant_id, t.ticket_id, t.opened_at,
                       t.opened_at - pg_catalog.lag(t.opened_at) OVER (
                           PARTITION BY t.tenant_id, t.unit_id, t.problem_type_id
                           ORDER BY t.opened_at, t.ticket_id) AS gap
                  FROM aftersales.tickets t
                 WHERE (kpi_ticket_facts.tenant IS NULL OR t.tenant_id = kpi_ticket_facts.tenant)
                   AND t.unit_id IS NOT NULL AND t.status <> 'cancelled'
                   AND t.opened_at < kpi_ticket_facts.until AND t.opened_at <= kpi_ticket_facts.as_of
                   AND t.opened_at >= kpi_ticket_facts.since - (SELECT pg_catalog.max(c2.repeat_window) FROM cfg c2)) r
          JOIN cfg g ON g.tenant_id = r.tenant_id
         WHERE r.opened_at >= kpi_ticket_facts.since
    ), revisited AS (
        -- tickets with more than one arrival on site (an arrival is never
        -- earlier than the ticket's entry)
        SELECT ev.tenant_id, ev.ticket_id
          FROM aftersales.ticket_events ev
         WHERE (kpi_ticket_facts.tenant IS NULL OR ev.tenant_id = kpi_ticket_facts.tenant)
           AND ev.event = 'arrive' AND ev.at >= kpi_ticket_facts.since AND ev.at <= kpi_ticket_facts.as_of
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
                 WHERE r.reopen_count > 0 AND r.resolved_at IS NOT NULL AND ev.at <= kpi_ticket_facts.as_of) w
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
                WHEN j.opened_at < kpi_ticket_facts.as_of - j.response_target THEN 0 END,
           -- arrival (field tickets)
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM j.arrived_at - j.opened_at) / 60 END,
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.opened_at, j.arrived_at)) / 60 END,
           CASE WHEN j.is_cancelled OR NOT j.field THEN NULL
                WHEN j.arrived_at IS NOT NULL THEN (j.arrived_at <= j.opened_at + j.arrival_target)::integer
                WHEN j.first_resolved_at IS NOT NULL THEN NULL
                WHEN j.opened_at < kpi_ticket_facts.as_of - j.arrival_target THEN 0 END,
           -- resolution (the final one)
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM j.resolved_at - j.opened_at) / 60 END,
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.opened_at, j.resolved_at)) / 60 END,
           CASE WHEN j.is_cancelled THEN NULL
                WHEN j.resolved_at IS NOT NULL THEN (j.resolved_at <= j.opened_at + j.completion_target)::integer
                WHEN j.opened_at < kpi_ticket_facts.as_of - j.completion_target THEN 0 END,
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
                WHEN kpi_ticket_facts.as_of > j.promise THEN 0 END,
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
           CASE WHEN NOT j.is_cancelled THEN (j.nps <= 6)::integer END
      FROM judged j
      LEFT JOIN idle i ON i.tenant_id = j.tenant_id AND i.ticket_id = j.ticket_id;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_ticket_facts(timestamptz, timestamptz, timestamptz, bigint) IS
  'One row per ticket entered in [since, until): its dimensions and every per-ticket KPI judgement (durations in minutes, 1/0/NULL flags), unfinished tickets judged at as_of; the definitions behind kpi_service';

CREATE OR REPLACE FUNCTION aftersales.kpi_service(period text, dimension text, since timestamptz, until timestamptz,
                                       as_of timestamptz DEFAULT aftersales.now(),
                                       zone text DEFAULT NULL,
                                       tenant bigint DEFAULT aftersales.current_tenant())
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
    d record;
BEGIN
    zone := COALESCE(zone, aftersales.reporting_zone(tenant));
    PERFORM aftersales_internal.kpi_check('kpi_service',
        'SELECT * FROM aftersales.kpi_service(''month'', ''region'', ''2026-01-01'', ''2027-01-01'');',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        since, until, as_of, zone, tenant);
    d := aftersales_internal.kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name,
       pg_catalog.count(*) AS tickets,
       pg_catalog.sum(k.cancelled)::bigint AS cancelled,
       pg_catalog.count(k.resolution_minutes) AS resolved,
       pg_catalog.count(*) FILTER (WHERE k.status = 'closed') AS closed,
       pg_catalog.count(*) FILTER (WHERE k.status NOT IN ('resolved', 'closed', 'cancelled')) AS unresolved,
       pg_catalog.round(pg_catalog.avg(k.responded_in_target), 4),
       pg_catalog.round(pg_catalog.avg(k.arrived_in_target), 4),
       pg_catalog.round(pg_catalog.avg(k.completed_in_target), 4),
       pg_catalog.round(pg_catalog.avg(k.completed_on_time), 4),
       pg_catalog.round(pg_catalog.count(*) FILTER (WHERE k.sla_first_response = 'met')::numeric
                        / NULLIF(pg_catalog.count(*) FILTER (WHERE k.sla_first_response IN ('met', 'breached')), 0), 4),
       pg_catalog.round(pg_catalog.count(*) FILTER (WHERE k.sla_arrival = 'met')::numeric
                        / NULLIF(pg_catalog.count(*) FILTER (WHERE k.sla_arrival IN ('met', 'breached')), 0), 4),
       pg_catalog.round(pg_catalog.count(*) FILTER (WHERE k.sla_resolution = 'met')::numeric
                        / NULLIF(pg_catalog.count(*) FILTER (WHERE k.sla_resolution IN ('met', 'breached')), 0), 4),
       pg_catalog.round(pg_catalog.avg(k.response_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.response_business_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.resolution_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.resolution_business_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.repair_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.repair_business_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.first_time_fix), 4),
       pg_catalog.round(pg_catalog.avg(k.closed_loop), 4),
       pg_catalog.round(pg_catalog.avg((k.status IN ('resolved', 'closed'))::integer) FILTER (WHERE k.cancelled = 0), 4),
       pg_catalog.round(pg_catalog.avg(k.repeat_problem), 4),
       pg_catalog.round(pg_catalog.avg(k.reopened), 4),
       pg_catalog.round(pg_catalog.avg(k.csat_score), 2),
       pg_catalog.round(pg_catalog.avg(k.csat_good), 4),
       pg_catalog.round(100 * (pg_catalog.avg(k.nps_promoter) - pg_catalog.avg(k.nps_detractor)), 1),
       pg_catalog.count(k.csat_score),
       pg_catalog.count(k.nps_score)
  FROM aftersales.kpi_ticket_facts($2, $3, $4, $1) k
 GROUP BY 1, 2) q
 ORDER BY q.period_start, %4$s$q$,
        aftersales_internal.kpi_period_sql(period, 'k.opened_at', 5), d.key_sql, d.name_sql, d.order_sql)
    USING tenant, since, until, as_of, zone;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_service(text, text, timestamptz, timestamptz, timestamptz, text, bigint) IS
  'Service KPIs of the tickets entered in [since, until), by period (day, week, month, quarter, year, all) and dimension (all, tenant, region, province, organisation, organisation_type, product_model, problem_type, engineer, priority, channel); unfinished tickets judged at as_of; definitions in aftersales.kpi_definitions';

CREATE OR REPLACE FUNCTION aftersales.kpi_headline(period text, dimension text, since timestamptz, until timestamptz,
                                        as_of timestamptz DEFAULT aftersales.now(),
                                        zone text DEFAULT NULL,
                                        tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (period_start date, dim_key text, dim_name text,
                   tickets bigint, cancelled bigint, resolved bigint, closed bigint, unresolved bigint,
                   response_rate numeric, arrival_rate numeric, completion_rate numeric,
                   closed_loop_rate numeric, reopen_rate numeric,
                   csat_avg numeric, csat_good_share numeric, nps numeric,
                   csat_responses bigint, nps_responses bigint)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    d record;
    cfg_join text := '';
    response_target interval;
    arrival_target interval;
    completion_target interval;
    csat_good_min numeric;
BEGIN
    zone := COALESCE(zone, aftersales.reporting_zone(tenant));
    PERFORM aftersales_internal.kpi_check('kpi_headline',
        'SELECT * FROM aftersales.kpi_headline(''month'', ''region'', ''2026-01-01'', ''2027-01-01'');',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        since, until, as_of, zone, tenant);
    d := aftersales_internal.kpi_dimension_sql(dimension);
    -- Its one pass reads the current ticket rows, which are what was known
    -- at as_of unless a ticket of the range changed (or was entered) after
    -- it: then the snapshot of kpi_service, rebuilt from the event log.
    IF EXISTS (SELECT FROM aftersales.tickets t
                WHERE (kpi_headline.tenant IS NULL OR t.tenant_id = kpi_headline.tenant)
                  AND t.opened_at >= kpi_headline.since AND t.opened_at < kpi_headline.until
                  AND t.last_event_at > kpi_headline.as_of) THEN
        RETURN QUERY
        SELECT s.period_start, s.dim_key, s.dim_name, s.tickets, s.cancelled, s.resolved, s.closed, s.unresolved,
               s.response_rate, s.arrival_rate, s.completion_rate, s.closed_loop_rate, s.reopen_rate,
               s.csat_avg, s.csat_good_share, s.nps, s.csat_responses, s.nps_responses
          FROM aftersales.kpi_service(kpi_headline.period, kpi_headline.dimension, kpi_headline.since, kpi_headline.until,
                                      kpi_headline.as_of, kpi_headline.zone, kpi_headline.tenant) s;
        RETURN;
    END IF;
    -- The thresholds: parameters $6 to $9 for one tenant (which keeps the
    -- plan a plain parallel scan), a join for every tenant.
    IF tenant IS NULL THEN
        cfg_join := 'JOIN aftersales_internal.kpi_config(NULL) g ON g.tenant_id = k.tenant_id';
    ELSE
        SELECT g.response_target, g.arrival_target, g.completion_target, g.csat_good_min
          INTO response_target, arrival_target, completion_target, csat_good_min
          FROM aftersales_internal.kpi_config(tenant) g;
    END IF;
    -- The same judgements as kpi_ticket_facts, inlined.
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name,
       pg_catalog.count(*) AS tickets,
       pg_catalog.count(*) FILTER (WHERE k.status = 'cancelled') AS cancelled,
       pg_catalog.count(*) FILTER (WHERE k.status <> 'cancelled' AND k.resolved_at IS NOT NULL) AS resolved,
       pg_catalog.count(*) FILTER (WHERE k.status = 'closed') AS closed,
       pg_catalog.count(*) FILTER (WHERE k.status NOT IN ('resolved', 'closed', 'cancelled')) AS unresolved,
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' THEN NULL
           WHEN k.first_response_at IS NOT NULL THEN (k.first_response_at <= k.opened_at + %5$s)::integer
           WHEN k.opened_at < $4 - %5$s THEN 0 END), 4),
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' OR NOT k.field THEN NULL
           WHEN k.arrived_at IS NOT NULL THEN (k.arrived_at <= k.opened_at + %6$s)::integer
           WHEN k.first_resolved_at IS NOT NULL THEN NULL
           WHEN k.opened_at < $4 - %6$s THEN 0 END), 4),
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' THEN NULL
           WHEN k.resolved_at IS NOT NULL THEN (k.resolved_at <= k.opened_at + %7$s)::integer
           WHEN k.opened_at < $4 - %7$s THEN 0 END), 4),
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' OR k.first_resolved_at IS NULL THEN NULL
           ELSE (k.status = 'closed')::integer END), 4),
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' OR k.first_resolved_at IS NULL THEN NULL
           ELSE (k.reopen_count > 0)::integer END), 4),
       pg_catalog.round(pg_catalog.avg(k.csat) FILTER (WHERE k.status <> 'cancelled'), 2),
       pg_catalog.round(pg_catalog.avg((k.csat >= %8$s)::integer) FILTER (WHERE k.status <> 'cancelled'), 4),
       pg_catalog.round(100 * (pg_catalog.count(*) FILTER (WHERE k.nps >= 9 AND k.status <> 'cancelled')
                               - pg_catalog.count(*) FILTER (WHERE k.nps <= 6 AND k.status <> 'cancelled'))::numeric
                        / NULLIF(pg_catalog.count(k.nps) FILTER (WHERE k.status <> 'cancelled'), 0), 1),
       pg_catalog.count(k.csat) FILTER (WHERE k.status <> 'cancelled'),
       pg_catalog.count(k.nps) FILTER (WHERE k.status <> 'cancelled')
  FROM aftersales._kpi_ticket_dims k
  %9$s
 WHERE ($1::bigint IS NULL OR k.tenant_id = $1) AND k.opened_at >= $2 AND k.opened_at < $3
 GROUP BY 1, 2) q
 ORDER BY q.period_start, %4$s$q$,
        aftersales_internal.kpi_period_sql(period, 'k.opened_at', 5), d.key_sql, d.name_sql, d.order_sql,
        CASE WHEN tenant IS NULL THEN 'g.response_target' ELSE '$6' END,
        CASE WHEN tenant IS NULL THEN 'g.arrival_target' ELSE '$7' END,
        CASE WHEN tenant IS NULL THEN 'g.completion_target' ELSE '$8' END,
        CASE WHEN tenant IS NULL THEN 'g.csat_good_min' ELSE '$9' END,
        cfg_join)
    USING tenant, since, until, as_of, zone, response_target, arrival_target, completion_target, csat_good_min;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_headline(text, text, timestamptz, timestamptz, timestamptz, text, bigint) IS
  'Headline service KPIs (response, arrival, completion rates, closed loop, reopens, CSAT, NPS) in one pass over the tickets: the same figures as kpi_service, faster; same parameters';

CREATE OR REPLACE FUNCTION aftersales.kpi_staff(period text, since timestamptz, until timestamptz,
                                     as_of timestamptz DEFAULT aftersales.now(),
                                     zone text DEFAULT NULL,
                                     tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (period_start date, engineer_id bigint, engineer_name text, org_id bigint, org_name text,
                   org_type text, tickets bigint, resolved bigint, unresolved bigint,
                   avg_handling_minutes numeric, avg_handling_business_minutes numeric,
                   total_handling_minutes numeric, first_time_fix_rate numeric, csat_avg numeric)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    zone := COALESCE(zone, aftersales.reporting_zone(tenant));
    PERFORM aftersales_internal.kpi_check('kpi_staff',
        'SELECT * FROM aftersales.kpi_staff(''month'', ''2026-01-01'', ''2027-01-01'');',
        period, NULL, NULL, since, until, as_of, zone, tenant);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS period_start, k.engineer_id, pg_catalog.max(k.engineer_name),
       pg_catalog.max(e.org_id), pg_catalog.max(o.name), pg_catalog.max(o.org_type),
       pg_catalog.count(*) AS tickets,
       pg_catalog.count(k.resolution_minutes),
       pg_catalog.count(*) FILTER (WHERE k.status NOT IN ('resolved', 'closed')),
       pg_catalog.round(pg_catalog.avg(k.handling_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.handling_business_minutes), 2),
       pg_catalog.round(pg_catalog.sum(k.handling_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.first_time_fix), 4),
       pg_catalog.round(pg_catalog.avg(k.csat_score), 2)
  FROM aftersales.kpi_ticket_facts($2, $3, $4, $1) k
  JOIN aftersales.engineers e ON e.tenant_id = k.tenant_id AND e.engineer_id = k.engineer_id
  LEFT JOIN aftersales.organisations o ON o.tenant_id = e.tenant_id AND o.org_id = e.org_id
 WHERE k.cancelled = 0
 GROUP BY 1, k.tenant_id, k.engineer_id) q
 ORDER BY q.period_start, q.engineer_id$q$,
        aftersales_internal.kpi_period_sql(period, 'k.opened_at', 5))
    USING tenant, since, until, as_of, zone;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_staff(text, timestamptz, timestamptz, timestamptz, text, bigint) IS
  'Per engineer and period: the tickets entered in [since, until) the engineer holds or resolved (not cancelled), resolved and unresolved counts, handling time (assignment to final resolution, wall and business minutes), first-time fix, CSAT';

CREATE OR REPLACE FUNCTION aftersales.kpi_dispatch(period text, dimension text, since timestamptz, until timestamptz,
                                        zone text DEFAULT NULL,
                                        tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (period_start date, dim_key text, dim_name text,
                   dispatches bigint, tickets bigint, assigns bigint, reassigns bigint, take_overs bigint)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    d record;
BEGIN
    zone := COALESCE(zone, aftersales.reporting_zone(tenant));
    PERFORM aftersales_internal.kpi_check('kpi_dispatch',
        'SELECT * FROM aftersales.kpi_dispatch(''month'', ''organisation_type'', ''2026-01-01'', ''2027-01-01'');',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        since, until, NULL, zone, tenant);
    d := aftersales_internal.kpi_dimension_sql(dimension);
    -- a dispatch is an event, dated by the event; its engineer is the one
    -- it gave the ticket to, the other dimensions are the ticket's
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name,
       pg_catalog.count(*) AS dispatches,
       pg_catalog.count(DISTINCT k.ticket_id),
       pg_catalog.count(*) FILTER (WHERE k.event = 'assign'),
       pg_catalog.count(*) FILTER (WHERE k.event = 'reassign'),
       pg_catalog.count(*) FILTER (WHERE k.event = 'take_over')
  FROM (SELECT ev.tenant_id, ev.ticket_id, ev.at, ev.event, t.tenant_name, t.region, t.province, t.org_id,
               t.org_name, t.org_type, t.model_id, t.model_name, t.problem_type_id, t.problem_name,
               t.priority, t.channel, de.engineer_id, de.name AS engineer_name
          FROM aftersales.ticket_events ev
          JOIN aftersales._kpi_ticket_dims t ON t.tenant_id = ev.tenant_id AND t.ticket_id = ev.ticket_id
          LEFT JOIN aftersales.engineers de
            ON de.tenant_id = ev.tenant_id AND de.engineer_id = (ev.payload ->> 'assignee')::bigint
         WHERE ev.event IN ('assign', 'reassign', 'take_over') AND ev.to_state = 'assigned'
           AND ($1::bigint IS NULL OR ev.tenant_id = $1) AND ev.at >= $2 AND ev.at < $3) k
 GROUP BY 1, 2) q
 ORDER BY q.period_start, %4$s$q$,
        aftersales_internal.kpi_period_sql(period, 'k.at', 4), d.key_sql, d.name_sql, d.order_sql)
    USING tenant, since, until, zone;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_dispatch(text, text, timestamptz, timestamptz, text, bigint) IS
  'Dispatch volume (派工量): assignment events in [since, until) that gave a ticket to an engineer (assign, reassign, take_over ending in assigned), by period of the event and dimension (engineer: the one dispatched to; others: the ticket''s)';

CREATE OR REPLACE FUNCTION aftersales.kpi_durations(period text, dimension text, since timestamptz, until timestamptz,
                                         as_of timestamptz DEFAULT aftersales.now(),
                                         zone text DEFAULT NULL,
                                         tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (period_start date, dim_key text, dim_name text, measure text, clock text,
                   n bigint, mean_minutes numeric, p50_minutes numeric, p90_minutes numeric,
                   p95_minutes numeric, max_minutes numeric)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    d record;
BEGIN
    zone := COALESCE(zone, aftersales.reporting_zone(tenant));
    PERFORM aftersales_internal.kpi_check('kpi_durations',
        'SELECT * FROM aftersales.kpi_durations(''month'', ''region'', ''2026-01-01'', ''2027-01-01'');',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        since, until, as_of, zone, tenant);
    d := aftersales_internal.kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.period_start, q.dim_key, q.dim_name, q.measure, q.clock, (q.s).n,
       pg_catalog.round((q.s).mean::numeric, 2), pg_catalog.round((q.s).p50::numeric, 2),
       pg_catalog.round((q.s).p90::numeric, 2), pg_catalog.round((q.s).p95::numeric, 2),
       pg_catalog.round((q.s).max::numeric, 2)
  FROM (SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name, m.ord, m.measure, m.clock,
               aftersales.duration_stats(m.minutes::double precision) AS s
          FROM aftersales.kpi_ticket_facts($2, $3, $4, $1) k
         CROSS JOIN LATERAL (VALUES
               (1, 'first_response', 'wall', k.response_minutes),
               (2, 'first_response', 'business', k.response_business_minutes),
               (3, 'arrival', 'wall', k.arrival_minutes),
               (4, 'arrival', 'business', k.arrival_business_minutes),
               (5, 'resolution', 'wall', k.resolution_minutes),
               (6, 'resolution', 'business', k.resolution_business_minutes),
               (7, 'repair', 'wall', k.repair_minutes),
               (8, 'repair', 'business', k.repair_business_minutes),
               (9, 'handling', 'wall', k.handling_minutes),
               (10, 'handling', 'business', k.handling_business_minutes)) AS m (ord, measure, clock, minutes)
         GROUP BY 1, 2, m.ord, m.measure, m.clock) q
 WHERE (q.s).n > 0
 ORDER BY q.period_start, %4$s, q.ord$q$,
        aftersales_internal.kpi_period_sql(period, 'k.opened_at', 5), d.key_sql, d.name_sql, d.order_sql)
    USING tenant, since, until, as_of, zone;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_durations(text, text, timestamptz, timestamptz, timestamptz, text, bigint) IS
  'Distributions (n, mean, p50, p90, p95 within 0.5%, max; minutes) of first response, arrival, resolution, repair and handling times, wall clock and business time, of the tickets entered in [since, until), by period and dimension; computed with aftersales.duration_stats';

CREATE OR REPLACE FUNCTION aftersales.backlog_as_of(at timestamptz, tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (tenant_id bigint, ticket_id bigint, status text, priority text, engineer_id bigint,
                   opened_at timestamptz, age_hours numeric)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    PERFORM aftersales_internal.kpi_check('backlog_as_of',
        'SELECT * FROM aftersales.backlog_as_of(''2026-03-01 00:00+08'');',
        NULL, NULL, NULL, NULL, NULL, at, 'UTC', tenant);
    RETURN QUERY
    SELECT t.tenant_id, t.ticket_id, x.st::text, x.pr::text, x.eng, t.opened_at,
           pg_catalog.round(EXTRACT(EPOCH FROM backlog_as_of.at - t.opened_at) / 3600, 2)
      FROM aftersales.tickets t
     CROSS JOIN LATERAL (
           SELECT t.status AS st, t.priority AS pr, t.assignee_id AS eng
            WHERE t.last_event_at <= backlog_as_of.at
           UNION ALL
           SELECT (SELECT ev.to_state FROM aftersales.ticket_events ev
                    WHERE ev.tenant_id = t.tenant_id AND ev.ticket_id = t.ticket_id AND ev.at <= backlog_as_of.at
                    ORDER BY ev.seq DESC LIMIT 1),
                  (SELECT (ev.payload ->> 'priority')::aftersales.priority FROM aftersales.ticket_events ev
                    WHERE ev.tenant_id = t.tenant_id AND ev.ticket_id = t.ticket_id AND ev.at <= backlog_as_of.at
                      AND ev.payload ? 'priority'
                    ORDER BY ev.seq DESC LIMIT 1),
                  (SELECT CASE WHEN ev.to_state IN ('new', 'locked') THEN NULL
                               ELSE (ev.payload ->> 'assignee')::bigint END
                     FROM aftersales.ticket_events ev
                    WHERE ev.tenant_id = t.tenant_id AND ev.ticket_id = t.ticket_id AND ev.at <= backlog_as_of.at
                      AND (ev.payload ? 'assignee' OR ev.to_state IN ('new', 'locked'))
                    ORDER BY ev.seq DESC LIMIT 1)
            WHERE t.last_event_at > backlog_as_of.at) x
     WHERE (backlog_as_of.tenant IS NULL OR t.tenant_id = backlog_as_of.tenant)
       AND t.opened_at <= backlog_as_of.at
       AND x.st IN ('new', 'on_hold', 'assigned', 'in_progress', 'on_site', 'locked')
     ORDER BY t.tenant_id, t.ticket_id;
END
$$;
COMMENT ON FUNCTION aftersales.backlog_as_of(timestamptz, bigint) IS
  'The tickets open (unresolved) at the instant at, with their state, priority and engineer at that instant, rebuilt from the event log, and their age in hours';

CREATE OR REPLACE FUNCTION aftersales.kpi_backlog(dimension text DEFAULT 'organisation_type',
                                       as_of timestamptz DEFAULT aftersales.now(),
                                       tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (dim_key text, dim_name text, open_tickets bigint, unassigned bigint, on_hold bigint,
                   in_work bigint, over_24h bigint, over_48h bigint, over_72h bigint, over_96h bigint,
                   over_120h bigint, avg_age_hours numeric, max_age_hours numeric)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    d record;
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_backlog',
        'SELECT * FROM aftersales.kpi_backlog(''organisation_type'', as_of => ''2026-03-01 00:00+08'');',
        NULL, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        NULL, NULL, as_of, 'UTC', tenant);
    d := aftersales_internal.kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS dim_key, pg_catalog.max(%2$s) AS dim_name,
       pg_catalog.count(*),
       pg_catalog.count(*) FILTER (WHERE k.status IN ('new', 'locked')),
       pg_catalog.count(*) FILTER (WHERE k.status = 'on_hold'),
       pg_catalog.count(*) FILTER (WHERE k.status IN ('assigned', 'in_progress', 'on_site')),
       pg_catalog.count(*) FILTER (WHERE k.age_hours > 24),
       pg_catalog.count(*) FILTER (WHERE k.age_hours > 48),
       pg_catalog.count(*) FILTER (WHERE k.age_hours > 72),
       pg_catalog.count(*) FILTER (WHERE k.age_hours > 96),
       pg_catalog.count(*) FILTER (WHERE k.age_hours > 120),
       pg_catalog.round(pg_catalog.avg(k.age_hours), 2),
       pg_catalog.max(k.age_hours)
  FROM (SELECT b.tenant_id, b.ticket_id, b.status, b.priority, b.engineer_id, b.age_hours,
               t.tenant_name, t.region, t.province, t.org_id, t.org_name, t.org_type, t.model_id,
               t.model_name, t.problem_type_id, t.problem_name, t.channel, be.name AS engineer_name
          FROM aftersales.backlog_as_of($2, $1) b
          JOIN aftersales._kpi_ticket_dims t ON t.tenant_id = b.tenant_id AND t.ticket_id = b.ticket_id
          LEFT JOIN aftersales.engineers be ON be.tenant_id = b.tenant_id AND be.engineer_id = b.engineer_id) k
 GROUP BY 1) q
 ORDER BY %3$s$q$, d.key_sql, d.name_sql, d.order_sql)
    USING tenant, as_of;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_backlog(text, timestamptz, bigint) IS
  'Open tickets at as_of (rebuilt from the event log) by dimension: counts by state and by age (over 24, 48, 72, 96, 120 hours since entry, cumulative), mean and maximum age in hours';

CREATE OR REPLACE FUNCTION aftersales.kpi_engineer_holdings(as_of timestamptz DEFAULT aftersales.now(),
                                                 tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (tenant_id bigint, engineer_id bigint, engineer_name text, org_id bigint, org_name text,
                   org_type text, region text, capacity integer, on_duty boolean, active boolean,
                   holdings bigint, assigned bigint, in_progress bigint, on_site bigint, on_hold bigint,
                   load_ratio numeric, max_age_hours numeric)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_engineer_holdings',
        'SELECT * FROM aftersales.kpi_engineer_holdings(as_of => ''2026-03-01 00:00+08'');',
        NULL, NULL, NULL, NULL, NULL, as_of, 'UTC', tenant);
    RETURN QUERY
    SELECT e.tenant_id, e.engineer_id, e.name, e.org_id, o.name, o.org_type, e.region::text, e.capacity,
           e.on_duty, e.active,
           pg_catalog.count(b.ticket_id),
           pg_catalog.count(*) FILTER (WHERE b.status = 'assigned'),
           pg_catalog.count(*) FILTER (WHERE b.status = 'in_progress'),
           pg_catalog.count(*) FILTER (WHERE b.status = 'on_site'),
           pg_catalog.count(*) FILTER (WHERE b.status = 'on_hold'),
           pg_catalog.round(pg_catalog.count(b.ticket_id)::numeric / e.capacity, 4),
           pg_catalog.max(b.age_hours)
      FROM aftersales.engineers e
      LEFT JOIN aftersales.organisations o ON o.tenant_id = e.tenant_id AND o.org_id = e.org_id
      LEFT JOIN aftersales.backlog_as_of(kpi_engineer_holdings.as_of, kpi_engineer_holdings.tenant) b
        ON b.tenant_id = e.tenant_id AND b.engineer_id = e.engineer_id
     WHERE (kpi_engineer_holdings.tenant IS NULL OR e.tenant_id = kpi_engineer_holdings.tenant)
     GROUP BY e.tenant_id, e.engineer_id, o.name, o.org_type
    HAVING e.active OR pg_catalog.count(b.ticket_id) > 0
     ORDER BY e.tenant_id, e.engineer_id;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_engineer_holdings(timestamptz, bigint) IS
  'Per engineer (active, or holding tickets): the open tickets held at as_of (保有量), by state, against capacity (load_ratio = holdings / capacity), and the oldest one''s age in hours';

CREATE OR REPLACE FUNCTION aftersales.kpi_backlog_stages(dimension text DEFAULT 'organisation_type',
                                              as_of timestamptz DEFAULT aftersales.now(),
                                              tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (dim_key text, dim_name text, stage text, stage_name text, pending bigint, overdue bigint,
                   over_24h bigint, over_48h bigint, over_72h bigint, over_96h bigint, over_120h bigint,
                   max_overdue_hours numeric)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    d record;
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_backlog_stages',
        'SELECT * FROM aftersales.kpi_backlog_stages(''organisation_type'', as_of => ''2026-03-01 00:00+08'');',
        NULL, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        NULL, NULL, as_of, 'UTC', tenant);
    d := aftersales_internal.kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.dim_key, q.dim_name, q.stage, q.stage_name, q.pending, q.overdue, q.o24, q.o48, q.o72, q.o96, q.o120, q.max_late
  FROM (SELECT %1$s AS dim_key, pg_catalog.max(%2$s) AS dim_name, s.ord, s.stage, s.stage_name,
               pg_catalog.count(*) AS pending,
               pg_catalog.count(*) FILTER (WHERE l.late > 0) AS overdue,
               pg_catalog.count(*) FILTER (WHERE l.late > 24) AS o24,
               pg_catalog.count(*) FILTER (WHERE l.late > 48) AS o48,
               pg_catalog.count(*) FILTER (WHERE l.late > 72) AS o72,
               pg_catalog.count(*) FILTER (WHERE l.late > 96) AS o96,
               pg_catalog.count(*) FILTER (WHERE l.late > 120) AS o120,
               pg_catalog.round(pg_catalog.max(l.late) FILTER (WHERE l.late > 0), 2) AS max_late
          FROM aftersales.kpi_ticket_facts('-infinity', 'infinity', $2, $1) k
          JOIN aftersales_internal.kpi_config($1) g ON g.tenant_id = k.tenant_id
         CROSS JOIN LATERAL (VALUES
               (1, 'response', '响应', k.response_minutes IS NULL, g.response_target),
               (2, 'arrival', '到位', k.field AND k.arrival_minutes IS NULL, g.arrival_target),
               (3, 'completion', '完工', true, g.completion_target)) AS s (ord, stage, stage_name, is_pending, target)
         CROSS JOIN LATERAL (SELECT EXTRACT(EPOCH FROM $2 - (k.opened_at + s.target)) / 3600 AS late) l
         WHERE k.status IN ('new', 'on_hold', 'assigned', 'in_progress', 'on_site', 'locked') AND s.is_pending
         GROUP BY 1, s.ord, s.stage, s.stage_name) q
 ORDER BY %3$s, q.ord$q$, d.key_sql, d.name_sql, d.order_sql)
    USING tenant, as_of;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_backlog_stages(text, timestamptz, bigint) IS
  'Open tickets at as_of by dimension and by the stage they have not reached (response, arrival, completion): pending, overdue (past the stage''s target), and overdue by more than 24, 48, 72, 96, 120 hours (cumulative), as known at as_of';

CREATE OR REPLACE FUNCTION aftersales.kpi_failures(period text, dimension text, since timestamptz, until timestamptz,
                                        zone text DEFAULT NULL,
                                        tenant bigint DEFAULT aftersales.current_tenant(),
                                        top integer DEFAULT NULL)
    RETURNS TABLE (period_start date, dim_key text, dim_name text, failures bigint, early_failures bigint,
                   in_warranty_failures bigint, out_of_warranty_failures bigint, warranty_unknown bigint,
                   rank bigint)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    d record;
BEGIN
    zone := COALESCE(zone, aftersales.reporting_zone(tenant));
    PERFORM aftersales_internal.kpi_check('kpi_failures',
        'SELECT * FROM aftersales.kpi_failures(''month'', ''province'', ''2026-01-01'', ''2027-01-01'', top => 5);',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,priority,channel}',
        since, until, NULL, zone, tenant);
    IF top IS NOT NULL AND top < 1 THEN
        RAISE EXCEPTION 'top must be positive, not %', top
            USING ERRCODE = '22023',
                  HINT = 'top => 5 keeps the five dimension values with the most failures in each period; NULL keeps them all.';
    END IF;
    d := aftersales_internal.kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT r.period_start, r.dim_key, r.dim_name, r.failures, r.early, r.inw, r.outw, r.unknown, r.rank
  FROM (SELECT a.*, pg_catalog.row_number() OVER (PARTITION BY a.period_start
                                                   ORDER BY a.failures DESC, %4$s) AS rank
          FROM (SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name,
                       pg_catalog.count(*) AS failures,
                       pg_catalog.count(*) FILTER (WHERE w.class = 'early') AS early,
                       pg_catalog.count(*) FILTER (WHERE w.class = 'in_warranty') AS inw,
                       pg_catalog.count(*) FILTER (WHERE w.class = 'out_of_warranty') AS outw,
                       pg_catalog.count(*) FILTER (WHERE w.class = 'unknown') AS unknown
                  FROM aftersales._kpi_ticket_dims k
                  JOIN aftersales_internal.kpi_config($1) g ON g.tenant_id = k.tenant_id
                  JOIN aftersales.problem_types pk
                    ON pk.tenant_id = k.tenant_id AND pk.problem_type_id = k.problem_type_id AND pk.kind = 'fault'
                  LEFT JOIN aftersales.units u ON u.tenant_id = k.tenant_id AND u.unit_id = k.unit_id
                  LEFT JOIN aftersales.product_models um ON um.tenant_id = u.tenant_id AND um.model_id = u.model_id
                 CROSS JOIN LATERAL (
                       SELECT CASE
                                WHEN x.entry - u.installed_on BETWEEN 0 AND g.early_failure_days THEN 'early'
                                WHEN x.warranty_end IS NULL THEN 'unknown'
                                WHEN x.entry <= x.warranty_end THEN 'in_warranty'
                                ELSE 'out_of_warranty' END AS class
                         FROM (SELECT pg_catalog.timezone($4, k.opened_at)::date AS entry,
                                      COALESCE(u.warranty_ends,
                                               (u.installed_on + pg_catalog.make_interval(months => um.warranty_months))::date - 1)
                                          AS warranty_end) x) w
                 WHERE ($1::bigint IS NULL OR k.tenant_id = $1) AND k.opened_at >= $2 AND k.opened_at < $3
                   AND k.status <> 'cancelled'
                 GROUP BY 1, 2) a) r
 WHERE $5::integer IS NULL OR r.rank <= $5
 ORDER BY r.period_start, r.rank$q$,
        aftersales_internal.kpi_period_sql(period, 'k.opened_at', 4), d.key_sql, d.name_sql,
        pg_catalog.replace(d.order_sql, 'q.', 'a.'))
    USING tenant, since, until, zone, top;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_failures(text, text, timestamptz, timestamptz, text, bigint, integer) IS
  'Failures (tickets entered in [since, until), not cancelled, of a problem type of kind fault) by period and dimension, split into early, in-warranty, out-of-warranty and unknown; rank 1 has the most failures in its period (ties by key); top => N keeps ranks 1 to N';

CREATE OR REPLACE FUNCTION aftersales.kpi_warranty_trend(period text, since timestamptz, until timestamptz,
                                              zone text DEFAULT NULL,
                                              tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (period_start date, tenant_id bigint, failures bigint,
                   early_failures bigint, early_failure_warning numeric, early_failure_alert integer,
                   in_warranty_failures bigint, in_warranty_warning numeric, in_warranty_alert integer,
                   out_of_warranty_failures bigint, out_of_warranty_warning numeric, out_of_warranty_alert integer,
                   warranty_unknown bigint)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    zone := COALESCE(zone, aftersales.reporting_zone(tenant));
    PERFORM aftersales_internal.kpi_check('kpi_warranty_trend',
        'SELECT * FROM aftersales.kpi_warranty_trend(''month'', ''2026-01-01'', ''2026-07-01'');',
        period, NULL, NULL, since, until, NULL, zone, tenant);
    -- Every period of a bounded range has a row, with zeros when nothing failed.
    RETURN QUERY
    WITH f AS (
        SELECT x.period_start, x.dim_key::bigint AS tenant_id, x.failures, x.early_failures,
               x.in_warranty_failures, x.out_of_warranty_failures, x.warranty_unknown
          FROM aftersales.kpi_failures(kpi_warranty_trend.period, 'tenant', kpi_warranty_trend.since,
                                       kpi_warranty_trend.until, kpi_warranty_trend.zone,
                                       kpi_warranty_trend.tenant) x
    ), periods AS (
        SELECT f.period_start FROM f
        UNION
        SELECT p::date
          FROM pg_catalog.generate_series(
                   pg_catalog.date_trunc(kpi_warranty_trend.period,
                                         pg_catalog.timezone(kpi_warranty_trend.zone, kpi_warranty_trend.since)),
                   pg_catalog.timezone(kpi_warranty_trend.zone, kpi_warranty_trend.until) - interval '1 microsecond',
                   CASE kpi_warranty_trend.period WHEN 'quarter' THEN interval '3 months'
                        ELSE ('1 ' || kpi_warranty_trend.period)::interval END) p
         WHERE kpi_warranty_trend.period <> 'all'
           AND pg_catalog.isfinite(kpi_warranty_trend.since) AND pg_catalog.isfinite(kpi_warranty_trend.until)
        UNION
        SELECT NULL::date WHERE kpi_warranty_trend.period = 'all'
    )
    SELECT p.period_start, g.tenant_id, COALESCE(f.failures, 0),
           COALESCE(f.early_failures, 0), g.early_failure_warning,
           (COALESCE(f.early_failures, 0) >= g.early_failure_warning)::integer,
           COALESCE(f.in_warranty_failures, 0), g.in_warranty_warning,
           (COALESCE(f.in_warranty_failures, 0) >= g.in_warranty_warning)::integer,
           COALESCE(f.out_of_warranty_failures, 0), g.out_of_warranty_warning,
           (COALESCE(f.out_of_warranty_failures, 0) >= g.out_of_warranty_warning)::integer,
           COALESCE(f.warranty_unknown, 0)
      FROM periods p
     CROSS JOIN aftersales_internal.kpi_config(kpi_warranty_trend.tenant) g
      LEFT JOIN f ON f.period_start IS NOT DISTINCT FROM p.period_start AND f.tenant_id = g.tenant_id
     WHERE f.tenant_id IS NOT NULL OR kpi_warranty_trend.tenant IS NOT NULL
     ORDER BY p.period_start, g.tenant_id;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_warranty_trend(text, timestamptz, timestamptz, text, bigint) IS
  'Early, in-warranty and out-of-warranty failures per period against the tenant''s warning lines (settings early_failure_warning, in_warranty_warning, out_of_warranty_warning); an alert is 1 when the count reaches its line; every period of a bounded range has a row';

-- the sample data: consultation, parameter-setting and installation problem types
CREATE OR REPLACE FUNCTION aftersales.generate_sample_data(tenant_name text, seed integer DEFAULT 1, tickets integer DEFAULT 2000,
                                                year integer DEFAULT 2026, progress integer DEFAULT 100000)
    RETURNS aftersales.sample_data_runs
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    example constant text := 'SELECT * FROM aftersales.generate_sample_data(''demo'', seed => 1, tickets => 2000, year => 2026);';
    n integer := tickets;
    s integer := seed;
    yr integer := year;
    started constant timestamptz := pg_catalog.clock_timestamp();
    old_tenant text := pg_catalog.current_setting('aftersales.tenant_id', true);
    prev aftersales.sample_data_runs;
    result aftersales.sample_data_runs;
    tid bigint;
    y0 date;
    cutoff timestamptz;
    ndays integer;
    sb bigint;
    w_total float8;
    cstarts float8[];
    mstarts float8[];
    pstarts float8[];
    chstarts constant float8[] := '{0,0.38,0.58,0.72,0.82,0.87,0.93,0.97}';
    channels constant text[] := '{phone,wechat,app,web,email,field,walk_in,other}';
    hold_reasons constant text[] := '{等待备件到货,等待客户确认上门时间}';
    fail_reasons constant text[] := '{备件型号不符，需重新申请,故障未能复现，需再次上门,需要专用工具}';
    resolutions constant text[] := '{更换启动电容,清洗冷凝器并补充冷媒,更换主控板,紧固接线端子,更新控制程序参数,更换温度传感器,调整安装并重新调试}';
    cancel_reasons constant text[] := '{客户已自行解决,重复报修,客户取消服务}';
    comments constant text[] := '{工程师很专业,上门及时,希望提前电话联系,维修时间太长,问题已解决，感谢}';
    r record;
    u float8[];
    t timestamptz;
    st aftersales.ticket_status;
    tk bigint;
    eng bigint;
    login text;
    manager text;
    agent text;
    v integer;
    b integer;
    x float8;
    loc timestamp;
    attempts integer;
    manual_locked boolean;
    sat boolean;
    zombie integer;
    cycle integer;
    fb integer;
    ei integer;
    score_csat integer;
    score_nps integer;
    remark text;
    events_n bigint;
    done integer := 0;
    batch constant integer := 5000;
BEGIN
    -- arguments
    IF tenant_name IS NULL OR pg_catalog.btrim(tenant_name) = '' THEN
        PERFORM aftersales_internal.sample_error('tenant_name must not be empty',
            'Name the tenant to create, for example: ' || example, '22004');
    END IF;
    IF s IS NULL THEN
        PERFORM aftersales_internal.sample_error('seed must not be null',
            'Any integer seeds the choices; the same seed gives the same data, for example: ' || example, '22004');
    END IF;
    IF n IS NULL OR n NOT BETWEEN 100 AND 10000000 THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('invalid number of sample tickets: %s', COALESCE(n::text, 'NULL')),
            'Ask for 100 to 10000000 tickets: 2000 load in seconds, 1000000 in about an hour; for example: ' || example);
    END IF;
    IF yr IS NULL OR yr NOT BETWEEN 2000 AND 2100 THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('invalid sample year: %s', COALESCE(yr::text, 'NULL')),
            'Years 2000 to 2100 are supported (the full holiday schedule is known for 2026), for example: ' || example);
    END IF;
    IF progress IS NULL OR progress < 0 THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('invalid progress interval: %s', COALESCE(progress::text, 'NULL')),
            'progress is how many tickets between two progress NOTICEs, 0 for none, for example: SELECT * FROM aftersales.generate_sample_data(''big'', tickets => 1000000, progress => 50000);');
    END IF;

    -- idempotent: the same call again returns what the first one built
    SELECT sr.* INTO prev FROM aftersales.sample_data_runs sr
      JOIN aftersales.tenants tn ON tn.tenant_id = sr.tenant_id
     WHERE tn.name = generate_sample_data.tenant_name;
    IF FOUND THEN
        IF prev.seed = s AND prev.tickets = n AND prev.year = yr THEN
            RAISE NOTICE 'tenant "%" already holds this sample data: nothing to do', tenant_name;
            RETURN prev;
        END IF;
        PERFORM aftersales_internal.sample_error(
            pg_catalog.format('tenant "%s" already holds sample data of seed %s, %s tickets, year %s', tenant_name, prev.seed, prev.tickets, prev.year),
            'Use another tenant name, for example: SELECT * FROM aftersales.generate_sample_data(''demo2'', seed => 2);', '42710');
    END IF;
    IF EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.name = tenant_name) THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('tenant "%s" already exists', tenant_name),
            'Sample data goes into a new tenant of its own; use another name, for example: ' || example, '42710');
    END IF;

    y0 := pg_catalog.make_date(yr, 1, 1);
    cutoff := pg_catalog.make_timestamptz(yr + 1, 1, 1, 0, 0, 0, 'Asia/Shanghai');
    ndays := pg_catalog.make_date(yr + 1, 1, 1) - y0;
    sb := s::bigint * 1000003;

    -- the tenant, its calendars and SLA policies (the default targets,
    -- copied from tenant 1's shipped default policy)
    LOCK TABLE aftersales.tenants IN SHARE ROW EXCLUSIVE MODE;
    SELECT COALESCE(pg_catalog.max(tn.tenant_id), 1) + 1 INTO tid FROM aftersales.tenants tn;
    INSERT INTO aftersales.tenants (tenant_id, name) VALUES (tid, tenant_name);
    PERFORM pg_catalog.set_config('aftersales.tenant_id', tid::text, true);
    PERFORM aftersales.set_calendar('24x7', 'zone=Asia/Shanghai; mon-sun 00:00-24:00', 'Around the clock, China time', tid);
    PERFORM aftersales.set_calendar('cn-office', aftersales.sample_calendar(yr),
                                    pg_catalog.format('China office hours, %s holidays and make-up days', yr), tid);
    INSERT INTO aftersales.sla_policies (tenant_id, name, calendar, is_default, description)
    VALUES (tid, 'standard', 'cn-office', true, 'Default targets on office hours'),
           (tid, 'key-account', '24x7', false, 'Default targets around the clock, for key customers'' service agreements');
    INSERT INTO aftersales.sla_targets (tenant_id, policy_id, priority, metric, target, clock, pauses_on_hold)
    SELECT tid, p.policy_id, d.priority, d.metric, d.target, d.clock, d.pauses_on_hold
      FROM aftersales.sla_targets d
      JOIN aftersales.sla_policies dp ON dp.tenant_id = 1 AND dp.policy_id = d.policy_id
                                     AND dp.name = 'default'
     CROSS JOIN aftersales.sla_policies p
     WHERE d.tenant_id = 1 AND p.tenant_id = tid
     ORDER BY p.policy_id, d.priority, d.metric;

    -- geography: the six regions, 31 provinces and their weights (share of
    -- customers, hence of units and failures)
    CREATE TEMP TABLE sample_geo ON COMMIT DROP AS
    SELECT g.ord, g.region, g.province, g.weight, g.remote
      FROM (VALUES ( 1, '华东', '上海', 4.0, false), ( 2, '华东', '江苏', 8.0, false), ( 3, '华东', '浙江', 7.0, false),
                   ( 4, '华东', '安徽', 3.0, false), ( 5, '华东', '福建', 3.0, false), ( 6, '华东', '江西', 2.0, false),
                   ( 7, '华东', '山东', 6.0, false), ( 8, '华北', '北京', 4.0, false), ( 9, '华北', '天津', 2.0, false),
                   (10, '华北', '河北', 4.0, false), (11, '华北', '山西', 2.0, false), (12, '华北', '内蒙古', 1.0, true),
                   (13, '东北', '辽宁', 3.0, false), (14, '东北', '吉林', 1.5, false), (15, '东北', '黑龙江', 1.5, false),
                   (16, '中南', '河南', 5.0, false), (17, '中南', '湖北', 4.0, false), (18, '中南', '湖南', 3.0, false),
                   (19, '中南', '广东', 11.0, false), (20, '中南', '广西', 2.0, false), (21, '中南', '海南', 1.0, false),
                   (22, '西北', '陕西', 3.0, false), (23, '西北', '甘肃', 1.5, true), (24, '西北', '青海', 0.5, true),
                   (25, '西北', '宁夏', 0.5, true), (26, '西北', '新疆', 2.0, true), (27, '西南', '重庆', 3.0, false),
                   (28, '西南', '四川', 5.0, false), (29, '西南', '贵州', 1.5, false), (30, '西南', '云南', 2.0, false),
                   (31, '西南', '西藏', 0.5, true))
           AS g (ord, region, province, weight, remote);
    SELECT pg_catalog.sum(g.weight) INTO w_total FROM pg_temp.sample_geo g;

    -- organisations: HQ, regions, provinces (代表处), outlets
    INSERT INTO aftersales.organisations (tenant_id, level, org_type, name) VALUES (tid, 'hq', 'headquarters', '总部');
    INSERT INTO aftersales.organisations (tenant_id, parent_id, level, org_type, name, region)
    SELECT tid, (SELECT o.org_id FROM aftersales.organisations o WHERE o.tenant_id = tid AND o.level = 'hq'),
           'region', 'representative_office', rg.region || '大区', rg.region
      FROM (SELECT g.region, pg_catalog.min(g.ord) AS ord FROM pg_temp.sample_geo g GROUP BY g.region) rg
     ORDER BY rg.ord;
    INSERT INTO aftersales.organisations (tenant_id, parent_id, level, org_type, name, province)
    SELECT tid, o.org_id, 'province', 'representative_office', g.province || '代表处', g.province
      FROM pg_temp.sample_geo g
      JOIN aftersales.organisations o ON o.tenant_id = tid AND o.level = 'region'
                                     AND o.region = g.region
     ORDER BY g.ord;
    CREATE TEMP TABLE sample_outlets ON COMMIT DROP AS
    SELECT g.ord, g.province, g.weight, x.k, x.org_type, x.name, NULL::bigint AS org_id,
           1 + LEAST(4, 1 + pg_catalog.floor(g.weight / 3)::integer) AS serving,
           pg_catalog.count(*) OVER (PARTITION BY g.ord) AS outlets
      FROM pg_temp.sample_geo g
     CROSS JOIN LATERAL (
           SELECT 1 AS k, 'representative_office' AS org_type, g.province || '服务站' AS name
           UNION ALL
           SELECT 1 + d, 'dealer',
                  g.province || ('{东,西,南,北}'::text[])[d] || '区经销商'
             FROM pg_catalog.generate_series(1, LEAST(4, 1 + pg_catalog.floor(g.weight / 3)::integer)) d
           UNION ALL
           SELECT 6, 'supplier', g.province || '供应商服务点' WHERE g.weight >= 3) x;
    INSERT INTO aftersales.organisations (tenant_id, parent_id, level, org_type, name)
    SELECT tid, o.org_id, 'outlet', so.org_type, so.name
      FROM pg_temp.sample_outlets so
      JOIN aftersales.organisations o ON o.tenant_id = tid AND o.level = 'province'
                                     AND o.province = so.province
     ORDER BY so.ord, so.k;
    ANALYZE pg_temp.sample_outlets;
    UPDATE pg_temp.sample_outlets so SET org_id = o.org_id
      FROM aftersales.organisations o
     WHERE o.tenant_id = tid AND o.name = so.name;

    -- engineers: about n / 400, at least 60, spread over the outlets by
    -- province weight
    INSERT INTO aftersales.engineers (tenant_id, org_id, name, login, skills, region, capacity, phone)
    SELECT tid, e.org_id,
           ('{王,李,张,刘,陈,杨,黄,赵,吴,周,徐,孙,马,朱,胡,郭,何,高,林,罗}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, e.g, 101) * 20)::integer]
           ||
           ('{伟,芳,娜,敏,静,强,磊,军,洋,勇,杰,涛,明,超,霞,平,刚,桂英,建华,志强,海燕,晓东,国平,文博}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, e.g, 102) * 24)::integer],
           'eng' || pg_catalog.lpad(e.g::text, 5, '0'),
           pg_catalog.array_remove(ARRAY[
               ('{CMP,CHL,HP}'::text[])[1 + (e.g % 3)::integer],
               CASE WHEN aftersales_internal.sample_u(s, e.g, 103) < 0.5
                    THEN ('{CMP,CHL,HP}'::text[])[1 + ((e.g + 1) % 3)::integer] END,
               CASE WHEN aftersales_internal.sample_u(s, e.g, 104) < 0.6 THEN 'electrical' END,
               CASE WHEN aftersales_internal.sample_u(s, e.g, 105) < 0.4 THEN 'refrigeration' END], NULL),
           e.region,
           6 + pg_catalog.floor(aftersales_internal.sample_u(s, e.g, 106) * 7)::integer,
           '139' || pg_catalog.lpad(pg_catalog.floor(aftersales_internal.sample_u(s, e.g, 107) * 100000000)::bigint::text, 8, '0')
      FROM (SELECT so.org_id, g.region, pg_catalog.row_number() OVER (ORDER BY so.ord, so.k, j.j) AS g
              FROM pg_temp.sample_outlets so
              JOIN pg_temp.sample_geo g ON g.ord = so.ord
             CROSS JOIN LATERAL pg_catalog.generate_series(1, GREATEST(1, pg_catalog.round(
                   GREATEST(60, n / 400) * so.weight
                   / w_total / so.outlets)::integer)) j (j)) e
     ORDER BY e.g;
    CREATE TEMP TABLE sample_org_engineers ON COMMIT DROP AS
    SELECT e.org_id, pg_catalog.array_agg(e.engineer_id ORDER BY e.engineer_id) AS engs,
           pg_catalog.array_agg(e.login ORDER BY e.engineer_id) AS logins
      FROM aftersales.engineers e WHERE e.tenant_id = tid GROUP BY e.org_id;

    -- customers: about n / 10, at least 400, by province weight
    CREATE TEMP TABLE sample_customers ON COMMIT DROP AS
    SELECT c.g, c.ord, c.province, c.region, c.tier,
           CASE WHEN c.tier = 'key' THEN c.station ELSE c.dealer END AS org_id,
           CASE c.tier WHEN 'key' THEN 3.0 WHEN 'major' THEN 1.5 ELSE 1.0 END::float8 AS w,
           NULL::bigint AS customer_id
      FROM (SELECT x.g, x.ord, x.province, x.region,
                   CASE WHEN aftersales_internal.sample_u(s, x.g, 201) < 0.05 THEN 'key'
                        WHEN aftersales_internal.sample_u(s, x.g, 201) < 0.20 THEN 'major'
                        ELSE 'standard' END AS tier,
                   (SELECT so.org_id FROM pg_temp.sample_outlets so WHERE so.ord = x.ord AND so.k = 1) AS station,
                   (SELECT so.org_id FROM pg_temp.sample_outlets so
                     WHERE so.ord = x.ord
                       AND so.k = 1 + pg_catalog.floor(aftersales_internal.sample_u(s, x.g, 202) * so.serving)::integer) AS dealer
              FROM (SELECT g.ord, g.province, g.region, pg_catalog.row_number() OVER (ORDER BY g.ord, j.j) AS g
                      FROM pg_temp.sample_geo g
                     CROSS JOIN LATERAL pg_catalog.generate_series(1, GREATEST(2, pg_catalog.round(
                           GREATEST(400, n / 10) * g.weight / w_total)::integer)) j (j)) x) c;
    WITH named AS (
        SELECT c.g, c.province ||
               ('{华,盛,鑫,宏,恒,泰,达,丰,远,新,金,通,隆,海,嘉,正,永,东,瑞,安}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, c.g, 203) * 20)::integer]
               ||
               ('{机械,电子,食品,医药,化工,纺织,物流,能源,建材,汽配,酒店,医院}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, c.g, 204) * 12)::integer]
               || '有限公司' AS name
          FROM pg_temp.sample_customers c
    )
    INSERT INTO aftersales.customers (tenant_id, name, tier, region, province, org_id, contact_name, contact_phone)
    SELECT tid,
           CASE WHEN k.dup = 1 THEN k.name ELSE k.name || '第' || k.dup || '分公司' END,
           c.tier, c.region, c.province, c.org_id,
           ('{王,李,张,刘,陈,杨,黄,赵,吴,周}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, c.g, 205) * 10)::integer]
               || '经理',
           '138' || pg_catalog.lpad(pg_catalog.floor(aftersales_internal.sample_u(s, c.g, 206) * 100000000)::bigint::text, 8, '0')
      FROM pg_temp.sample_customers c
      JOIN (SELECT nm.g, nm.name, pg_catalog.row_number() OVER (PARTITION BY nm.name ORDER BY nm.g) AS dup FROM named nm) k
        ON k.g = c.g
     ORDER BY c.g;
    ANALYZE pg_temp.sample_customers;
    UPDATE pg_temp.sample_customers c SET customer_id = x.customer_id
      FROM (SELECT cu.customer_id, pg_catalog.row_number() OVER (ORDER BY cu.customer_id) AS g
              FROM aftersales.customers cu WHERE cu.tenant_id = tid) x
     WHERE x.g = c.g;
    SELECT pg_catalog.array_agg(c.start ORDER BY c.g) INTO cstarts
      FROM (SELECT sc.g, (pg_catalog.sum(sc.w) OVER (ORDER BY sc.g) - sc.w)
                         / pg_catalog.sum(sc.w) OVER () AS start
              FROM pg_temp.sample_customers sc) c;
    -- key customers have a 24x7 service agreement (服务协议)
    INSERT INTO aftersales.service_agreements (tenant_id, customer_id, policy_id, name, valid, terms, service_items, charging)
    SELECT tid, c.customer_id, p.policy_id,
           pg_catalog.format('SA-%s-%s', yr, pg_catalog.lpad(c.g::text, 5, '0')),
           pg_catalog.daterange((y0 - 365), (y0 + 730)),
           '7x24 小时响应，重点客户专属工程师', '{上门维修,定期巡检,备件优先}', '年度服务费，备件另计'
      FROM pg_temp.sample_customers c
      JOIN aftersales.sla_policies p ON p.tenant_id = tid AND p.name = 'key-account'
     WHERE c.tier = 'key'
     ORDER BY c.g;

    -- products: 3 lines, 10 models (install share, failure weight)
    INSERT INTO aftersales.product_lines (tenant_id, code, name, description)
    VALUES (tid, 'CMP', '商用压缩机', 'Commercial compressors'),
           (tid, 'CHL', '冷水机组', 'Water chillers'),
           (tid, 'HP', '空气源热泵', 'Air-source heat pumps');
    CREATE TEMP TABLE sample_models ON COMMIT DROP AS
    SELECT m.midx, m.line, m.code, m.name, m.warranty, m.launch, m.share, m.fail,
           (pg_catalog.make_date(yr + 1, 1, 1) - m.launch) AS span,
           NULL::bigint AS model_id, 0 AS units
      FROM (VALUES ( 1, 'CMP', 'CMP-110', '涡旋压缩机 110', 24, pg_catalog.make_date(yr - 4, 1, 1), 14.0, 10.0),
                   ( 2, 'CMP', 'CMP-220', '螺杆压缩机 220', 24, pg_catalog.make_date(yr - 4, 1, 1), 12.0, 22.0),
                   ( 3, 'CMP', 'CMP-350', '螺杆压缩机 350', 36, pg_catalog.make_date(yr - 3, 1, 1),  8.0,  6.0),
                   ( 4, 'CHL', 'CHL-50',  '风冷冷水机组 50RT', 12, pg_catalog.make_date(yr - 4, 1, 1), 12.0,  9.0),
                   ( 5, 'CHL', 'CHL-80',  '风冷冷水机组 80RT', 12, pg_catalog.make_date(yr - 4, 1, 1), 10.0,  8.0),
                   ( 6, 'CHL', 'CHL-120X', '水冷冷水机组 120RT', 24, pg_catalog.make_date(yr - 2, 1, 1),  8.0, 20.0),
                   ( 7, 'HP',  'HP-10',   '热泵 10P', 12, pg_catalog.make_date(yr - 4, 1, 1), 12.0,  6.0),
                   ( 8, 'HP',  'HP-16',   '热泵 16P', 12, pg_catalog.make_date(yr - 3, 1, 1), 10.0,  5.0),
                   ( 9, 'HP',  'HP-20N',  '变频热泵 20P（新品）', 24, pg_catalog.make_date(yr - 1, 7, 1),  8.0, 12.0),
                   (10, 'HP',  'HP-30',   '热泵 30P', 36, pg_catalog.make_date(yr - 2, 1, 1),  6.0,  2.0))
           AS m (midx, line, code, name, warranty, launch, share, fail);
    INSERT INTO aftersales.product_models (tenant_id, product_line_id, code, name, warranty_months)
    SELECT tid, l.product_line_id, m.code, m.name, m.warranty
      FROM pg_temp.sample_models m
      JOIN aftersales.product_lines l ON l.tenant_id = tid AND l.code = m.line
     ORDER BY m.midx;
    UPDATE pg_temp.sample_models m
       SET model_id = pm.model_id,
           units = GREATEST(5, pg_catalog.round(GREATEST(1000, n / 3) * m.share / 100)::integer)
      FROM aftersales.product_models pm
     WHERE pm.tenant_id = tid AND pm.code = m.code;
    SELECT pg_catalog.array_agg(x.start ORDER BY x.midx) INTO mstarts
      FROM (SELECT m.midx, (pg_catalog.sum(m.fail) OVER (ORDER BY m.midx) - m.fail)
                           / pg_catalog.sum(m.fail) OVER () AS start
              FROM pg_temp.sample_models m) x;

    -- installed units: unit r of a model was installed at launch + span *
    -- (r - 0.5) / units, so that how many were installed by a date is known
    -- in closed form when a ticket picks one
    CREATE TEMP TABLE sample_units ON COMMIT DROP AS
    SELECT x.*, x.code || '-' || pg_catalog.to_char(x.installed_on, 'YYMM') || pg_catalog.lpad(x.r::text, 6, '0') AS serial
      FROM (
    SELECT m.midx, rr.r, c.customer_id, c.org_id, c.tier, m.code, m.warranty, m.model_id,
           m.launch + pg_catalog.floor(m.span * (rr.r - 0.5) / m.units)::integer AS installed_on,
           NULL::bigint AS unit_id
      FROM pg_temp.sample_models m
     CROSS JOIN LATERAL pg_catalog.generate_series(1, m.units) rr (r)
      JOIN pg_temp.sample_customers c
        ON c.g = pg_catalog.width_bucket(aftersales_internal.sample_u(s, m.midx::bigint * 10000000 + rr.r, 301), cstarts)) x;
    ANALYZE pg_temp.sample_units;
    INSERT INTO aftersales.units (tenant_id, model_id, customer_id, serial, installed_on, warranty_ends, org_id)
    SELECT tid, su.model_id, su.customer_id, su.serial, su.installed_on,
           CASE WHEN su.tier = 'key'   -- key customers buy a year more
                THEN (su.installed_on + pg_catalog.make_interval(months => su.warranty + 12))::date - 1 END,
           su.org_id
      FROM pg_temp.sample_units su
     ORDER BY su.midx, su.r;
    UPDATE pg_temp.sample_units su SET unit_id = un.unit_id
      FROM aftersales.units un
     WHERE un.tenant_id = tid AND un.model_id = su.model_id AND un.serial = su.serial;
    CREATE INDEX ON pg_temp.sample_units (midx, r);
    ANALYZE pg_temp.sample_units;

    -- fault types (weight, share needing on-site service)
    CREATE TEMP TABLE sample_problems ON COMMIT DROP AS
    SELECT p.pidx, p.code, p.name, p.weight, p.field, NULL::bigint AS problem_type_id
      FROM (VALUES ( 1, 'E01', '不制冷/不制热', 22.0, 0.85), ( 2, 'E02', '异响振动', 14.0, 0.85),
                   ( 3, 'E03', '漏水漏氟', 12.0, 0.85), ( 4, 'E04', '无法启动', 11.0, 0.85),
                   ( 5, 'E05', '控制板故障', 10.0, 0.85), ( 6, 'E06', '电气故障', 9.0, 0.85),
                   ( 7, 'E07', '传感器报警', 8.0, 0.85), ( 8, 'E08', '参数设置问题', 6.0, 0.25),
                   ( 9, 'E09', '安装调试', 5.0, 0.85), (10, 'E10', '操作咨询', 3.0, 0.05))
           AS p (pidx, code, name, weight, field);
    INSERT INTO aftersales.problem_types (tenant_id, code, name, kind)
    SELECT tid, p.code, p.name,
           CASE p.code WHEN 'E08' THEN 'parameter_setting' WHEN 'E09' THEN 'installation'
                       WHEN 'E10' THEN 'consultation' ELSE 'fault' END
      FROM pg_temp.sample_problems p ORDER BY p.pidx;
    UPDATE pg_temp.sample_problems p SET problem_type_id = pt.problem_type_id
      FROM aftersales.problem_types pt
     WHERE pt.tenant_id = tid AND pt.code = p.code;
    SELECT pg_catalog.array_agg(x.start ORDER BY x.pidx) INTO pstarts
      FROM (SELECT p.pidx, (pg_catalog.sum(p.weight) OVER (ORDER BY p.pidx) - p.weight)
                           / pg_catalog.sum(p.weight) OVER () AS start
              FROM pg_temp.sample_problems p) x;

    -- the tickets: entry and what they are about, set-based
    CREATE TEMP TABLE sample_plan ON COMMIT DROP AS
    WITH d AS (
        SELECT i.i,
               ARRAY(SELECT LEAST(GREATEST((pg_catalog.hashint8extended(i.i, sb + k) & 9007199254740991)::float8
                                           / 9007199254740992.0, 1e-9), 1 - 1e-9)
                       FROM pg_catalog.generate_series(1, 16) k) AS u
          FROM pg_catalog.generate_series(1, n) i (i)
    ), e AS (
        SELECT d.i, d.u, x.day, y0 + x.day AS entry_date,
               ((y0 + x.day)::timestamp
                 + pg_catalog.make_interval(
                     mins => CASE WHEN d.u[2] < 0.87
                                  THEN 480 + pg_catalog.floor(d.u[3] * 720)::integer
                                  ELSE pg_catalog.floor(d.u[3] * 1440)::integer END,
                     secs => pg_catalog.floor(d.u[4] * 60)))
                 AT TIME ZONE 'Asia/Shanghai' AS opened_at,
               pg_catalog.width_bucket(d.u[5], mstarts) AS midx,
               pg_catalog.width_bucket(d.u[9], pstarts) AS pidx
          FROM d
         CROSS JOIN LATERAL (
               SELECT LEAST(ndays - 1, pg_catalog.floor(ndays * (x0 + 0.3 / (2 * pg_catalog.pi())
                             * pg_catalog.sin(2 * pg_catalog.pi() * x0)))::integer) AS day
                 FROM (SELECT (d.i - 1 + d.u[1]) / n AS x0) z) x
    ), pick AS (
        SELECT e.*, m.code AS model_code, m.model_id, m.name AS model_name, m.units,
               LEAST(m.units, GREATEST(0, pg_catalog.floor(m.units * (e.entry_date - m.launch)::float8
                                                           / m.span + 0.5)::integer)) AS rmax,
               LEAST(m.units, GREATEST(0, pg_catalog.floor(m.units * (e.entry_date - 80 - m.launch)::float8
                                                           / m.span + 0.5)::integer)) AS rearly,
               e.u[6] < CASE WHEN m.code = 'HP-20N' THEN 0.35 ELSE 0.08 END AS early
          FROM e JOIN pg_temp.sample_models m ON m.midx = e.midx
    ), unit_pick AS (
        SELECT p.*,
               CASE WHEN p.u[7] < 0.03 OR p.rmax < 1 THEN NULL
                    WHEN p.early AND p.rmax > p.rearly
                    THEN p.rearly + 1 + pg_catalog.floor(p.u[8] * (p.rmax - p.rearly))::integer
                    ELSE 1 + pg_catalog.floor(p.u[8] * p.rmax)::integer END AS r
          FROM pick p
    )
    SELECT up.i, up.opened_at, up.model_id, up.model_code, su.unit_id,
           COALESCE(su.customer_id, c.customer_id) AS customer_id,
           COALESCE(cs.tier, c.tier) AS tier,
           g.province, g.remote,
           CASE WHEN m.line = 'HP' AND up.u[15] < 0.4 AND sup.org_id IS NOT NULL
                THEN sup.org_id ELSE COALESCE(cs.org_id, c.org_id) END AS org_id,
           pr.problem_type_id,
           CASE WHEN COALESCE(cs.tier, c.tier) = 'key'
                THEN CASE WHEN up.u[10] < 0.30 THEN 'A' WHEN up.u[10] < 0.75 THEN 'B' ELSE 'C' END
                ELSE CASE WHEN up.u[10] < 0.10 THEN 'A' WHEN up.u[10] < 0.45 THEN 'B' ELSE 'C' END
           END::aftersales.priority AS priority,
           channels[pg_catalog.width_bucket(up.u[11], chstarts)] AS channel,
           up.u[12] < pr.field AS field,
           CASE WHEN up.u[13] < 0.35
                THEN up.opened_at + pg_catalog.make_interval(mins => 240 + 30 * pg_catalog.floor(up.u[14] * 137)::integer) END
               AS requested_at,
           pr.name || '：' || up.model_name ||
               ('{，客户来电报修,，设备停机,，间歇性发生,，影响生产,，已持续两天,，报警代码闪烁}'::text[])[1 + pg_catalog.floor(up.u[16] * 6)::integer]
               AS description,
           pg_catalog.row_number() OVER (ORDER BY up.opened_at, up.i) AS nrank,
           NULL::bigint AS ticket_id
      FROM unit_pick up
      JOIN pg_temp.sample_models m ON m.midx = up.midx
      JOIN pg_temp.sample_problems pr ON pr.pidx = up.pidx
      LEFT JOIN pg_temp.sample_units su ON su.midx = up.midx AND su.r = up.r
      LEFT JOIN pg_temp.sample_customers cs ON cs.customer_id = su.customer_id
      LEFT JOIN pg_temp.sample_customers c ON su.unit_id IS NULL AND c.g = pg_catalog.width_bucket(up.u[8], cstarts)
      JOIN pg_temp.sample_geo g ON g.ord = COALESCE(cs.ord, c.ord)
      LEFT JOIN pg_temp.sample_outlets sup ON sup.ord = g.ord AND sup.org_type = 'supplier';
    CREATE UNIQUE INDEX ON pg_temp.sample_plan (nrank);
    ANALYZE pg_temp.sample_plan;

    -- entry through open_tickets, in batches, in time order
    FOR k IN 0 .. (n - 1) / batch LOOP
        WITH ids AS (
            SELECT x.id, x.ord
              FROM aftersales.open_tickets(
                       (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                   'customer', p.customer_id, 'problem_type', p.problem_type_id, 'priority', p.priority,
                                   'description', p.description, 'channel', p.channel, 'unit', p.unit_id, 'model', p.model_id,
                                   'requested_at', p.requested_at, 'field', p.field, 'org', p.org_id, 'opened_at', p.opened_at)
                                ORDER BY p.nrank)
                          FROM pg_temp.sample_plan p
                         WHERE p.nrank > k * batch
                           AND p.nrank <= (k + 1) * batch),
                       actor => 'callcenter', at => y0::timestamp AT TIME ZONE 'Asia/Shanghai')
                   WITH ORDINALITY AS x (id, ord)
        )
        UPDATE pg_temp.sample_plan p SET ticket_id = ids.id
          FROM ids WHERE p.nrank = k * batch + ids.ord;
        IF k % 10 = 0 THEN
            -- the triggers' cached plans were made for empty tables: as the
            -- tables grow, statistics (which count this transaction's rows)
            -- make them plan again, or each batch would cost more than the last
            ANALYZE aftersales.tickets, aftersales.ticket_events, aftersales.ticket_sla, aftersales.occurrences,
                    aftersales.escalation_watches, aftersales.alerts, aftersales.ticket_escalations;
        END IF;
    END LOOP;
    -- Statistics, now that the tables are full: the triggers' cached plans
    -- were made for empty tables, and are made again (ANALYZE invalidates
    -- them) for what is there; it counts this transaction's rows.
    ANALYZE aftersales.tickets, aftersales.ticket_events, aftersales.ticket_sla, aftersales.occurrences,
            aftersales.escalation_watches, aftersales.alerts, aftersales.ticket_escalations;
    IF progress > 0 AND n >= progress THEN
        RAISE NOTICE 'sample data: % tickets entered after % s', n,
            pg_catalog.round(EXTRACT(EPOCH FROM pg_catalog.clock_timestamp() - started)::numeric, 1);
    END IF;

    -- the life cycles, ticket by ticket, event by event, through the API.
    -- Draws (u[1..160] per ticket): 1-16 entry (the plan above), 19-27
    -- the first minutes, 40 + 15 v .. 54 + 15 v visit v (v <= 3), 100-128
    -- the follow-up, 130-158 the follow-up after a revisit.
    FOR r IN SELECT p.nrank, p.ticket_id, p.opened_at,
                    ARRAY(SELECT LEAST(GREATEST((pg_catalog.hashint8extended(p.i, sb + k) & 9007199254740991)::float8
                                                / 9007199254740992.0, 1e-9), 1 - 1e-9)
                            FROM pg_catalog.generate_series(1, 160) k) AS u, p.priority, p.tier, p.field, p.requested_at,
                    p.province, p.remote, oe.engs, oe.logins
               FROM pg_temp.sample_plan p
               JOIN pg_temp.sample_org_engineers oe ON oe.org_id = p.org_id
              ORDER BY p.nrank
    LOOP
        tk := r.ticket_id;
        u := r.u;
        t := r.opened_at;
        st := 'new';
        manager := 'manager:' || r.province;
        agent := 'agent:cs' || lpad((1 + floor(u[19] * 12))::integer::text, 2, '0');
        attempts := 0;
        manual_locked := false;
        v := 0;
        cycle := 0;
        -- 1.2% get stuck for good: on hold for a discontinued part, with
        -- R&D and never assigned, assigned and never started, locked after
        -- two failed handlings and never taken over
        zombie := CASE WHEN u[28] >= 0.012 THEN 0 WHEN u[29] < 0.3 THEN 1 WHEN u[29] < 0.55 THEN 2
                       WHEN u[29] < 0.8 THEN 3 ELSE 4 END;
        <<life>>
        BEGIN
            IF u[20] < 0.02 AND r.priority <> 'A' THEN          -- the customer presses: priority up
                t := t + make_interval(secs => floor(60 + u[21] * 540));
                EXIT life WHEN t >= cutoff;
                PERFORM aftersales.set_priority(tk, CASE r.priority WHEN 'C' THEN 'B' ELSE 'A' END::aftersales.priority,
                                                '客户要求加急', actor => agent, at => t);
            END IF;
            IF u[22] < 0.018 THEN                                -- cancelled before assignment
                t := t + make_interval(secs => floor(300 + u[23] * 36000));
                EXIT life WHEN t >= cutoff;
                PERFORM aftersales.cancel_ticket(tk, cancel_reasons[1 + floor(u[24] * 3)::integer], actor => agent, at => t);
                EXIT life;
            END IF;
            IF u[25] < 0.035 OR zombie = 2 THEN                  -- needs a specialist
                t := t + make_interval(secs => floor(180 + u[26] * 2400));
                EXIT life WHEN t >= cutoff;
                PERFORM aftersales.transfer_ticket(tk, CASE WHEN u[27] < 0.15 OR zombie = 2 THEN 'rnd' ELSE 'technical_support' END::aftersales.ticket_tier,
                                                   '需要技术支持工程师判断', actor => agent, at => t);
                EXIT life WHEN zombie = 2;
            END IF;

            LOOP                                                 -- visits, until closed
                EXIT life WHEN v > 5;
                b := 40 + 15 * v;
                ei := 1 + floor(u[b + 3] * cardinality(r.engs))::integer;
                eng := r.engs[ei];
                login := r.logins[ei];
                IF st = 'locked' THEN                            -- the service manager takes over
                    EXIT life WHEN zombie = 4;
                    t := t + make_interval(secs => floor(900 + u[b + 11] * 14400));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.take_over_ticket(tk, eng, '服务经理接管并指派', actor => manager, at => t);
                ELSE
                    IF v > 0 THEN                                -- another visit, hours later
                        x := 60 + u[b] * 1200;
                    ELSIF r.requested_at IS NOT NULL AND u[b + 1] < 0.10 THEN
                        -- dispatched after the customer's requested date
                        x := extract(epoch FROM r.requested_at - t) / 60 + 10 + u[b + 2] * 170;
                    ELSE
                        loc := t AT TIME ZONE 'Asia/Shanghai';
                        IF (extract(hour FROM loc) < 8 OR extract(hour FROM loc) >= 20) AND r.priority <> 'A' AND u[b + 2] < 0.6 THEN
                            -- entered at night: the morning shift, from 08:30
                            x := extract(epoch FROM date_trunc('day', loc - interval '8 hours 30 minutes')
                                                    + interval '1 day 8 hours 30 minutes' - loc) / 60 + u[b] * 30;
                        ELSE
                            x := CASE WHEN u[b] < 0.80 THEN 1 + u[b] / 0.80 * 6
                                      WHEN u[b] < 0.95 THEN 7 + (u[b] - 0.80) / 0.15 * 50
                                      ELSE 57 + (u[b] - 0.95) / 0.05 * 300 END;
                            IF r.priority = 'A' THEN
                                x := x / 2;
                            END IF;
                        END IF;
                    END IF;
                    t := t + make_interval(secs => floor(x * 60));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.assign_ticket(tk, eng, actor => 'dispatcher', at => t);
                    IF st = 'locked' THEN                        -- assigned too late
                        t := t + make_interval(secs => floor(900 + u[b + 11] * 14400));
                        EXIT life WHEN t >= cutoff;
                        st := aftersales.take_over_ticket(tk, eng, '服务经理接管并指派', actor => manager, at => t);
                    END IF;
                END IF;
                EXIT life WHEN zombie = 3;

                t := t + make_interval(secs => floor(30 + u[b + 4] * 240));
                EXIT life WHEN t >= cutoff;
                st := aftersales.start_work(tk, actor => login, at => t);
                x := CASE WHEN r.tier = 'key' THEN 0.03 ELSE 0.004 END;
                IF v = 0 AND NOT manual_locked AND u[b + 13] < x THEN
                    manual_locked := true;                       -- the manager steps in
                    t := t + make_interval(secs => floor(600 + u[b + 14] * 3600));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.lock_ticket(tk, '重点客户投诉，服务经理介入', actor => manager, at => t);
                    CONTINUE;
                END IF;
                IF v = 0 AND u[b + 10] < 0.006 THEN              -- cancelled while in work
                    t := t + make_interval(secs => floor(600 + u[b + 14] * 6600));
                    EXIT life WHEN t >= cutoff;
                    PERFORM aftersales.cancel_ticket(tk, cancel_reasons[1 + floor(u[24] * 3)::integer], actor => agent, at => t);
                    EXIT life;
                END IF;
                IF r.field THEN                                  -- travel
                    x := 120 * exp(0.36 * ln(u[b + 5] / (1 - u[b + 5])));
                    IF r.remote THEN
                        x := x * 1.8;
                    END IF;
                    t := t + make_interval(secs => floor(x * 60));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.arrive_on_site(tk, actor => login, at => t);
                END IF;
                IF cycle = 0 AND (u[b + 6] < 0.08 OR zombie = 1) THEN  -- waiting for a part or the customer
                    t := t + make_interval(secs => floor(300 + u[b + 14] * 2700));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.hold_ticket(tk, CASE WHEN zombie = 1 THEN '备件停产，等待替代件'
                                                          ELSE hold_reasons[CASE WHEN u[b + 8] < 0.6 THEN 1 ELSE 2 END] END,
                                                 actor => login, at => t);
                    EXIT life WHEN zombie = 1;
                    x := CASE WHEN u[b + 7] < 0.04 THEN 28800 + u[b + 9] * 100000       -- weeks: a discontinued part
                              WHEN u[b + 8] < 0.6 THEN 240 + u[b + 7] * 6960
                              ELSE 60 + u[b + 7] * 2820 END;
                    t := t + make_interval(secs => floor(x * 60));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.resume_ticket(tk, actor => login, at => t);
                END IF;
                x := CASE WHEN r.field THEN 75 ELSE 25 END * exp(0.36 * ln(u[b + 12] / (1 - u[b + 12])));
                t := t + make_interval(secs => floor(x * 60));
                EXIT life WHEN t >= cutoff;
                IF cycle = 0 AND (zombie = 4 OR (attempts = 0 AND u[b + 9] < 0.09) OR (attempts = 1 AND u[b + 9] < 0.25)) THEN
                    -- the handling failed: back to assignment, or locked after the second
                    st := aftersales.fail_attempt(tk, fail_reasons[1 + floor(u[b + 14] * 3)::integer], actor => login, at => t);
                    attempts := attempts + 1;
                    v := v + 1;
                    CONTINUE;
                END IF;
                st := aftersales.resolve_ticket(tk, resolutions[1 + floor(u[b + 10] * 7)::integer], actor => login, at => t);

                -- the follow-up call (回访)
                fb := CASE WHEN cycle = 0 THEN 100 ELSE 130 END;
                EXIT life WHEN cycle = 0 AND u[fb + 27] >= 0.93;  -- never called back: stays resolved
                t := t + make_interval(secs => floor(14400 + u[fb + 28] * 244800));
                EXIT life WHEN t >= cutoff;
                sat := cycle > 0 OR u[fb + 2] < CASE WHEN t - r.opened_at > interval '72 hours' THEN 0.85 ELSE 0.96 END;
                score_csat := CASE WHEN u[fb + 4] < 0.15 THEN NULL
                                   WHEN sat THEN CASE WHEN u[fb + 3] < 0.58 THEN 5 WHEN u[fb + 3] < 0.90 THEN 4 ELSE 3 END
                                   ELSE CASE WHEN u[fb + 3] < 0.40 THEN 1 WHEN u[fb + 3] < 0.75 THEN 2 ELSE 3 END END;
                score_nps := CASE WHEN u[fb + 6] < 0.28 THEN NULL
                                  WHEN sat THEN ('{10,10,10,10,9,9,9,8,8,7,6,5}'::integer[])[1 + floor(u[fb + 5] * 12)::integer]
                                  ELSE floor(u[fb + 5] * 7)::integer END;
                remark := CASE WHEN u[fb + 7] >= 0.35 THEN NULL
                               WHEN sat THEN comments[1 + floor(u[fb + 8] * 3)::integer]
                               WHEN u[fb + 8] < 0.5 THEN comments[4] ELSE comments[3] END;
                st := aftersales.follow_up(tk, sat, score_csat, score_nps, remark, actor => agent, at => t);
                IF st = 'new' THEN                               -- not satisfied: back to assignment
                    cycle := cycle + 1;
                    v := v + 1;
                    CONTINUE;
                END IF;
                IF cycle = 0 AND u[fb + 9] < 0.025 THEN          -- the fault comes back
                    t := t + make_interval(secs => floor(259200 + u[fb + 10] * 2332800));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.reopen_ticket(tk, '故障复发，客户再次报修', actor => agent, at => t);
                    cycle := cycle + 1;
                    v := v + 1;
                    CONTINUE;
                END IF;
                EXIT life;
            END LOOP;
        END;
        done := done + 1;
        IF done % 200000 = 0 THEN   -- the event log grows sevenfold meanwhile
            ANALYZE aftersales.ticket_events, aftersales.alerts, aftersales.ticket_escalations;
        END IF;
        IF progress > 0 AND done % progress = 0 THEN
            RAISE NOTICE 'sample data: % of % tickets through their life cycle after % s', done, n,
                round(extract(epoch FROM clock_timestamp() - started)::numeric, 1);
        END IF;
    END LOOP;

    -- a bulk load leaves the planner blind until autovacuum comes by: the
    -- KPI queries right after it would plan for empty tables
    ANALYZE aftersales.organisations, aftersales.customers, aftersales.engineers, aftersales.product_models,
            aftersales.units, aftersales.problem_types, aftersales.service_agreements, aftersales.sla_policies,
            aftersales.calendars, aftersales.tickets, aftersales.ticket_events, aftersales.ticket_sla,
            aftersales.occurrences, aftersales.escalation_watches, aftersales.alerts, aftersales.ticket_escalations;
    SELECT count(*) INTO events_n FROM aftersales.ticket_events ev WHERE ev.tenant_id = tid;
    INSERT INTO aftersales.sample_data_runs AS sr (tenant_id, tenant_name, seed, tickets, year, events, started_at, seconds, checksum)
    VALUES (tid, generate_sample_data.tenant_name, s, n, yr, events_n, started,
            round(extract(epoch FROM clock_timestamp() - started)::numeric, 1),
            aftersales.sample_data_checksum(tid))
    RETURNING sr.* INTO result;
    PERFORM set_config('aftersales.tenant_id', COALESCE(old_tenant, ''), true);
    DROP TABLE pg_temp.sample_geo, pg_temp.sample_outlets, pg_temp.sample_customers, pg_temp.sample_models,
               pg_temp.sample_units, pg_temp.sample_problems, pg_temp.sample_plan, pg_temp.sample_org_engineers;
    RETURN result;
END
$$;
COMMENT ON FUNCTION aftersales.generate_sample_data(text, integer, integer, integer, integer) IS
  'Builds a new tenant with a realistic company (HQ, six regions, 31 provinces, outlets of the three organisation types, engineers, customers, products, installed units, China''s calendar, the default SLA policies) and drives a year of its tickets through the ticket API; deterministic for a seed; idempotent for the same arguments; returns the run (events, seconds, checksum)';

CREATE VIEW aftersales.kpi_definitions WITH (security_invoker = true) AS
SELECT aftersales.current_tenant() AS tenant_id, k.code, k.category, k.name_en, k.name_zh, k.definition,
       k.formula, k.unit, k.target::numeric(14,4) AS target, k.target_direction, k.source, k.sort_order,
       k.tenant_id AS defined_by_tenant
  FROM aftersales.kpi_catalogue k
 WHERE k.tenant_id = aftersales.current_tenant()
    OR (k.tenant_id = 1
        AND NOT EXISTS (SELECT FROM aftersales.kpi_catalogue o
                         WHERE o.tenant_id = aftersales.current_tenant() AND o.code = k.code));
COMMENT ON VIEW aftersales.kpi_definitions IS
  'The KPI catalogue of the current tenant: its own rows, else tenant 1''s (code, names in English and Chinese, definition, formula, unit, target)';

CREATE VIEW aftersales.kpi_settings_current WITH (security_invoker = true) AS
SELECT aftersales.current_tenant() AS tenant_id, s.name, s.value::numeric(14,4) AS value, s.unit,
       s.description,
       s.tenant_id AS defined_by_tenant
  FROM aftersales.kpi_settings s
 WHERE s.tenant_id = aftersales.current_tenant()
    OR (s.tenant_id = 1
        AND NOT EXISTS (SELECT FROM aftersales.kpi_settings o
                         WHERE o.tenant_id = aftersales.current_tenant() AND o.name = s.name));
COMMENT ON VIEW aftersales.kpi_settings_current IS
  'The KPI settings (thresholds) of the current tenant: its own, else tenant 1''s';

CREATE VIEW aftersales.kpi_facts WITH (security_invoker = true) AS
SELECT f.tenant_id, f.tenant_name, f.ticket_id, f.opened_at, f.status, f.priority, f.channel, f.field,
       f.customer_tier, f.region, f.province, f.org_id, f.org_name, f.org_type, f.unit_id, f.model_id,
       f.model_name, f.problem_type_id, f.problem_name, f.engineer_id, f.engineer_name, f.cancelled,
       f.response_minutes::numeric(14,2) AS response_minutes,
       f.response_business_minutes::numeric(14,2) AS response_business_minutes, f.responded_in_target,
       f.arrival_minutes::numeric(14,2) AS arrival_minutes,
       f.arrival_business_minutes::numeric(14,2) AS arrival_business_minutes, f.arrived_in_target,
       f.resolution_minutes::numeric(14,2) AS resolution_minutes,
       f.resolution_business_minutes::numeric(14,2) AS resolution_business_minutes, f.completed_in_target,
       f.repair_minutes::numeric(14,2) AS repair_minutes,
       f.repair_business_minutes::numeric(14,2) AS repair_business_minutes,
       f.handling_minutes::numeric(14,2) AS handling_minutes,
       f.handling_business_minutes::numeric(14,2) AS handling_business_minutes, f.promised_at,
       f.completed_on_time, f.sla_first_response AS sla_first_contact, f.sla_arrival, f.sla_resolution,
       f.first_time_fix, f.closed_loop, f.reopened, f.repeat_problem, f.csat_score, f.csat_good, f.nps_score,
       f.nps_promoter, f.nps_detractor
  FROM aftersales.kpi_ticket_facts('-infinity', 'infinity', aftersales.now(), aftersales.current_tenant()) f;
COMMENT ON VIEW aftersales.kpi_facts IS
  'One row per ticket of the current tenant with its dimensions and every per-ticket KPI judgement, as of now: flags are 1, 0 or NULL (not judged), so avg(flag) is the rate; the base for any KPI a BI tool wants to slice itself';

CREATE VIEW aftersales.kpi_service_monthly WITH (security_invoker = true) AS
SELECT s.period_start AS month, s.tickets, s.cancelled, s.resolved, s.closed, s.unresolved,
       s.response_rate::numeric(5,4) AS response_rate, s.arrival_rate::numeric(5,4) AS arrival_rate,
       s.completion_rate::numeric(5,4) AS completion_rate,
       s.on_time_completion_rate::numeric(5,4) AS on_time_completion_rate,
       s.sla_first_contact_rate::numeric(5,4) AS sla_first_contact_rate,
       s.sla_arrival_rate::numeric(5,4) AS sla_arrival_rate,
       s.sla_resolution_rate::numeric(5,4) AS sla_resolution_rate,
       s.avg_first_response_minutes::numeric(14,2) AS avg_first_response_minutes,
       s.avg_first_response_business_minutes::numeric(14,2) AS avg_first_response_business_minutes,
       s.avg_resolution_minutes::numeric(14,2) AS avg_resolution_minutes,
       s.avg_resolution_business_minutes::numeric(14,2) AS avg_resolution_business_minutes,
       s.mttr_minutes::numeric(14,2) AS mttr_minutes,
       s.mttr_business_minutes::numeric(14,2) AS mttr_business_minutes,
       s.first_time_fix_rate::numeric(5,4) AS first_time_fix_rate,
       s.closed_loop_rate::numeric(5,4) AS closed_loop_rate,
       s.problem_resolution_rate::numeric(5,4) AS problem_resolution_rate,
       s.repeat_problem_rate::numeric(5,4) AS repeat_problem_rate, s.reopen_rate::numeric(5,4) AS reopen_rate,
       s.csat_avg::numeric(3,2) AS csat_avg, s.csat_good_share::numeric(5,4) AS csat_good_share,
       s.nps::numeric(4,1) AS nps, s.csat_responses, s.nps_responses
  FROM aftersales.kpi_service('month', 'all', '-infinity', 'infinity', aftersales.now(),
                              NULL, aftersales.current_tenant()) s;
COMMENT ON VIEW aftersales.kpi_service_monthly IS
  'Service KPIs of the current tenant by month of entry, as of now';

CREATE VIEW aftersales.kpi_service_monthly_by_region WITH (security_invoker = true) AS
SELECT s.period_start AS month, s.dim_key AS region, s.tickets, s.cancelled, s.resolved, s.closed, s.unresolved,
       s.response_rate::numeric(5,4) AS response_rate, s.arrival_rate::numeric(5,4) AS arrival_rate,
       s.completion_rate::numeric(5,4) AS completion_rate,
       s.on_time_completion_rate::numeric(5,4) AS on_time_completion_rate,
       s.sla_first_contact_rate::numeric(5,4) AS sla_first_contact_rate,
       s.sla_arrival_rate::numeric(5,4) AS sla_arrival_rate,
       s.sla_resolution_rate::numeric(5,4) AS sla_resolution_rate,
       s.avg_first_response_minutes::numeric(14,2) AS avg_first_response_minutes,
       s.avg_first_response_business_minutes::numeric(14,2) AS avg_first_response_business_minutes,
       s.avg_resolution_minutes::numeric(14,2) AS avg_resolution_minutes,
       s.avg_resolution_business_minutes::numeric(14,2) AS avg_resolution_business_minutes,
       s.mttr_minutes::numeric(14,2) AS mttr_minutes,
       s.mttr_business_minutes::numeric(14,2) AS mttr_business_minutes,
       s.first_time_fix_rate::numeric(5,4) AS first_time_fix_rate,
       s.closed_loop_rate::numeric(5,4) AS closed_loop_rate,
       s.problem_resolution_rate::numeric(5,4) AS problem_resolution_rate,
       s.repeat_problem_rate::numeric(5,4) AS repeat_problem_rate, s.reopen_rate::numeric(5,4) AS reopen_rate,
       s.csat_avg::numeric(3,2) AS csat_avg, s.csat_good_share::numeric(5,4) AS csat_good_share,
       s.nps::numeric(4,1) AS nps, s.csat_responses, s.nps_responses
  FROM aftersales.kpi_service('month', 'region', '-infinity', 'infinity', aftersales.now(),
                              NULL, aftersales.current_tenant()) s;
COMMENT ON VIEW aftersales.kpi_service_monthly_by_region IS
  'Service KPIs of the current tenant by month of entry and region, as of now';

CREATE VIEW aftersales.kpi_service_monthly_by_org_type WITH (security_invoker = true) AS
SELECT s.period_start AS month, s.dim_key AS org_type, s.dim_name AS org_type_name,
       s.tickets, s.cancelled, s.resolved, s.closed, s.unresolved,
       s.response_rate::numeric(5,4) AS response_rate, s.arrival_rate::numeric(5,4) AS arrival_rate,
       s.completion_rate::numeric(5,4) AS completion_rate,
       s.on_time_completion_rate::numeric(5,4) AS on_time_completion_rate,
       s.sla_first_contact_rate::numeric(5,4) AS sla_first_contact_rate,
       s.sla_arrival_rate::numeric(5,4) AS sla_arrival_rate,
       s.sla_resolution_rate::numeric(5,4) AS sla_resolution_rate,
       s.avg_first_response_minutes::numeric(14,2) AS avg_first_response_minutes,
       s.avg_first_response_business_minutes::numeric(14,2) AS avg_first_response_business_minutes,
       s.avg_resolution_minutes::numeric(14,2) AS avg_resolution_minutes,
       s.avg_resolution_business_minutes::numeric(14,2) AS avg_resolution_business_minutes,
       s.mttr_minutes::numeric(14,2) AS mttr_minutes,
       s.mttr_business_minutes::numeric(14,2) AS mttr_business_minutes,
       s.first_time_fix_rate::numeric(5,4) AS first_time_fix_rate,
       s.closed_loop_rate::numeric(5,4) AS closed_loop_rate,
       s.problem_resolution_rate::numeric(5,4) AS problem_resolution_rate,
       s.repeat_problem_rate::numeric(5,4) AS repeat_problem_rate, s.reopen_rate::numeric(5,4) AS reopen_rate,
       s.csat_avg::numeric(3,2) AS csat_avg, s.csat_good_share::numeric(5,4) AS csat_good_share,
       s.nps::numeric(4,1) AS nps, s.csat_responses, s.nps_responses
  FROM aftersales.kpi_service('month', 'organisation_type', '-infinity', 'infinity', aftersales.now(),
                              NULL, aftersales.current_tenant()) s;
COMMENT ON VIEW aftersales.kpi_service_monthly_by_org_type IS
  'Service KPIs of the current tenant by month of entry and organisation type (代表处, 经销商, 供应商), as of now';

CREATE VIEW aftersales.kpi_open_tickets WITH (security_invoker = true) AS
SELECT b.ticket_id, b.status, b.priority, b.opened_at, b.age_hours::numeric(12,2) AS age_hours, t.region,
       t.province, t.org_id,
       t.org_name, t.org_type, b.engineer_id, e.name AS engineer_name, t.customer_tier, t.model_name,
       t.problem_name, t.channel, t.field
  FROM aftersales.backlog_as_of(aftersales.now(), aftersales.current_tenant()) b
  JOIN aftersales._kpi_ticket_dims t ON t.tenant_id = b.tenant_id AND t.ticket_id = b.ticket_id
  LEFT JOIN aftersales.engineers e ON e.tenant_id = b.tenant_id AND e.engineer_id = b.engineer_id;
COMMENT ON VIEW aftersales.kpi_open_tickets IS
  'The open (unresolved) tickets of the current tenant now, with their age: the detail list behind the backlog';

CREATE VIEW aftersales.kpi_backlog_by_org_type WITH (security_invoker = true) AS
SELECT b.dim_key AS org_type, b.dim_name AS org_type_name, b.open_tickets, b.unassigned, b.on_hold, b.in_work,
       b.over_24h, b.over_48h, b.over_72h, b.over_96h, b.over_120h,
       b.avg_age_hours::numeric(12,2) AS avg_age_hours, b.max_age_hours::numeric(12,2) AS max_age_hours
  FROM aftersales.kpi_backlog('organisation_type', aftersales.now(), aftersales.current_tenant()) b;
COMMENT ON VIEW aftersales.kpi_backlog_by_org_type IS
  'Open tickets of the current tenant now by organisation type, by state and age bucket (over 24 to 120 hours, cumulative)';

CREATE VIEW aftersales.kpi_backlog_by_organisation WITH (security_invoker = true) AS
SELECT b.dim_key::bigint AS org_id, b.dim_name AS org_name, o.org_type, b.open_tickets, b.unassigned,
       b.on_hold, b.in_work, b.over_24h, b.over_48h, b.over_72h, b.over_96h, b.over_120h,
       b.avg_age_hours::numeric(12,2) AS avg_age_hours, b.max_age_hours::numeric(12,2) AS max_age_hours
  FROM aftersales.kpi_backlog('organisation', aftersales.now(), aftersales.current_tenant()) b
  LEFT JOIN aftersales.organisations o
    ON o.tenant_id = aftersales.current_tenant() AND o.org_id = b.dim_key::bigint;
COMMENT ON VIEW aftersales.kpi_backlog_by_organisation IS
  'Open tickets of the current tenant now by organisation, by state and age bucket (over 24 to 120 hours, cumulative)';

CREATE VIEW aftersales.kpi_backlog_stages_by_org_type WITH (security_invoker = true) AS
SELECT b.dim_key AS org_type, b.dim_name AS org_type_name, b.stage, b.stage_name, b.pending, b.overdue,
       b.over_24h, b.over_48h, b.over_72h, b.over_96h, b.over_120h,
       b.max_overdue_hours::numeric(12,2) AS max_overdue_hours
  FROM aftersales.kpi_backlog_stages('organisation_type', aftersales.now(), aftersales.current_tenant()) b;
COMMENT ON VIEW aftersales.kpi_backlog_stages_by_org_type IS
  'Open tickets of the current tenant now by organisation type and by the stage not yet reached (response, arrival, completion): pending, overdue, and overdue by more than 24 to 120 hours (cumulative)';

CREATE VIEW aftersales.kpi_holdings WITH (security_invoker = true) AS
SELECT h.engineer_id, h.engineer_name, h.org_id, h.org_name, h.org_type, h.region, h.capacity, h.on_duty,
       h.active, h.holdings, h.assigned, h.in_progress, h.on_site, h.on_hold,
       h.load_ratio::numeric(9,4) AS load_ratio, h.max_age_hours::numeric(12,2) AS max_age_hours
  FROM aftersales.kpi_engineer_holdings(aftersales.now(), aftersales.current_tenant()) h;
COMMENT ON VIEW aftersales.kpi_holdings IS
  'Open tickets held now per engineer of the current tenant (保有量), against capacity';

CREATE VIEW aftersales.kpi_failures_monthly WITH (security_invoker = true) AS
SELECT d.dimension, f.period_start AS month, f.dim_key, f.dim_name, f.failures, f.early_failures,
       f.in_warranty_failures, f.out_of_warranty_failures, f.warranty_unknown, f.rank
  FROM (VALUES ('region'), ('province'), ('product_model'), ('problem_type')) AS d (dimension)
 CROSS JOIN LATERAL aftersales.kpi_failures('month', d.dimension, '-infinity', 'infinity',
                                            NULL,
                                            aftersales.current_tenant()) f;
COMMENT ON VIEW aftersales.kpi_failures_monthly IS
  'Failures of the current tenant by month of entry and by region, province, product model and problem (fault) type (column dimension says which), with warranty classes and rank within the month (rank <= 5 for the top 5)';

CREATE VIEW aftersales.kpi_durations_monthly WITH (security_invoker = true) AS
SELECT d.period_start AS month, d.measure, d.clock, d.n, d.mean_minutes::numeric(14,2) AS mean_minutes,
       d.p50_minutes::numeric(14,2) AS p50_minutes, d.p90_minutes::numeric(14,2) AS p90_minutes,
       d.p95_minutes::numeric(14,2) AS p95_minutes, d.max_minutes::numeric(14,2) AS max_minutes
  FROM aftersales.kpi_durations('month', 'all', '-infinity', 'infinity', aftersales.now(),
                                NULL, aftersales.current_tenant()) d;
COMMENT ON VIEW aftersales.kpi_durations_monthly IS
  'Distributions of first response, arrival, resolution, repair and handling times of the current tenant by month of entry: count, mean, median, p90, p95 (within 0.5%) and maximum, in wall-clock and business minutes';

CREATE VIEW aftersales.kpi_warranty_monthly WITH (security_invoker = true) AS
SELECT w.period_start AS month, w.failures, w.early_failures,
       w.early_failure_warning::numeric(14,4) AS early_failure_warning, w.early_failure_alert,
       w.in_warranty_failures, w.in_warranty_warning::numeric(14,4) AS in_warranty_warning,
       w.in_warranty_alert,
       w.out_of_warranty_failures, w.out_of_warranty_warning::numeric(14,4) AS out_of_warranty_warning,
       w.out_of_warranty_alert, w.warranty_unknown
  FROM aftersales.kpi_warranty_trend('month', '-infinity', 'infinity', NULL,
                                     aftersales.current_tenant()) w
 WHERE w.failures > 0;
COMMENT ON VIEW aftersales.kpi_warranty_monthly IS
  'Early, in-warranty and out-of-warranty failures of the current tenant by month of entry, against the warning lines (400, 600, 600)';

CREATE VIEW aftersales.kpi_staff_monthly WITH (security_invoker = true) AS
SELECT s.period_start AS month, s.engineer_id, s.engineer_name, s.org_id, s.org_name, s.org_type, s.tickets,
       s.resolved, s.unresolved, s.avg_handling_minutes::numeric(14,2) AS avg_handling_minutes,
       s.avg_handling_business_minutes::numeric(14,2) AS avg_handling_business_minutes,
       s.total_handling_minutes::numeric(14,2) AS total_handling_minutes,
       s.first_time_fix_rate::numeric(5,4) AS first_time_fix_rate, s.csat_avg::numeric(3,2) AS csat_avg
  FROM aftersales.kpi_staff('month', '-infinity', 'infinity', aftersales.now(),
                            NULL, aftersales.current_tenant()) s;
COMMENT ON VIEW aftersales.kpi_staff_monthly IS
  'Per engineer of the current tenant and month of entry: tickets, handling time, first-time fix, CSAT';

CREATE VIEW aftersales.kpi_dispatch_monthly_by_org_type WITH (security_invoker = true) AS
SELECT d.period_start AS month, d.dim_key AS org_type, d.dim_name AS org_type_name, d.dispatches, d.tickets,
       d.assigns, d.reassigns, d.take_overs
  FROM aftersales.kpi_dispatch('month', 'organisation_type', '-infinity', 'infinity',
                               NULL, aftersales.current_tenant()) d;
COMMENT ON VIEW aftersales.kpi_dispatch_monthly_by_org_type IS
  'Dispatch volume (派工量) of the current tenant by month of the dispatch and organisation type of the ticket';

-- Column comments: from the dictionary below, else from the catalogue (a
-- column named like a KPI code gets the KPI''s names and definition).
DO $$
DECLARE
    r record;
    missing text[] := '{}';
BEGIN
    FOR r IN
        WITH kpi_column_dictionary (view_name, column_name, comment) AS (VALUES
     (NULL, 'tenant_id', 'Tenant'),
     (NULL, 'tenant_name', 'Tenant name'),
     (NULL, 'defined_by_tenant', 'Tenant whose row applies: the current tenant''s own, or 1 (the shipped default)'),
     (NULL, 'code', 'KPI code: the column name under which functions and views return it'),
     (NULL, 'category', 'service, backlog, quality or staff'),
     (NULL, 'name_en', 'Name in English'),
     (NULL, 'name_zh', 'Name in Chinese'),
     (NULL, 'definition', 'Precise definition'),
     (NULL, 'formula', 'Formula'),
     (NULL, 'unit', 'Unit'),
     (NULL, 'target', 'Default target, in unit; NULL when none is shipped'),
     (NULL, 'target_direction', '>= when higher is better, <= when lower is better'),
     (NULL, 'source', 'Functions returning the KPI'),
     (NULL, 'sort_order', 'Display order'),
     (NULL, 'name', 'Setting name'),
     (NULL, 'value', 'Value, in unit'),
     (NULL, 'description', 'What the setting decides'),
     (NULL, 'month', 'First day of the month (in the tenant''s reporting zone)'),
     (NULL, 'ticket_id', 'Ticket id'),
     (NULL, 'opened_at', 'When the ticket was entered'),
     (NULL, 'status', 'State of the ticket (new, on_hold, assigned, in_progress, on_site, locked, resolved, closed, cancelled)'),
     (NULL, 'priority', 'Priority: A (urgent), B or C'),
     (NULL, 'channel', 'Channel of the request: phone, web, app, wechat, email, walk_in, field, other'),
     (NULL, 'field', 'Whether the ticket needs on-site service'),
     (NULL, 'customer_tier', 'Customer tier: key (重点客户), major or standard'),
     (NULL, 'region', 'Region (华东, 华北, 东北, 中南, 西北, 西南): the customer''s, else the organisation''s'),
     (NULL, 'province', 'Province: the customer''s, else the organisation''s'),
     (NULL, 'org_id', 'Organisation id'),
     (NULL, 'org_name', 'Organisation name'),
     (NULL, 'org_type', 'Organisation type: headquarters, representative_office, dealer or supplier'),
     (NULL, 'org_type_name', 'Organisation type in Chinese: 总部, 代表处, 经销商, 供应商'),
     (NULL, 'unit_id', 'Installed unit, when the ticket names one'),
     (NULL, 'model_id', 'Product model id'),
     (NULL, 'model_name', 'Product model name'),
     (NULL, 'problem_type_id', 'Problem (fault) type id'),
     (NULL, 'problem_name', 'Problem (fault) type name'),
     (NULL, 'engineer_id', 'Engineer id'),
     (NULL, 'engineer_name', 'Engineer name'),
     ('kpi_facts', 'engineer_id', 'Engineer holding the ticket now; for a resolved or closed ticket, the one who resolved it'),
     ('kpi_facts', 'org_id', 'Organisation: the ticket''s handling organisation, else the customer''s'),
     ('kpi_facts', 'cancelled', '1 when the ticket is cancelled (then no KPI judges it), else 0'),
     (NULL, 'cancelled', 'Tickets cancelled (not judged by any KPI)'),
     (NULL, 'tickets', 'Tickets entered (including cancelled)'),
     (NULL, 'resolved', 'Tickets resolved (finally; not cancelled)'),
     (NULL, 'closed', 'Tickets closed (satisfied follow-up)'),
     (NULL, 'unresolved', 'Tickets neither resolved, closed nor cancelled'),
     (NULL, 'csat_responses', 'Tickets whose latest follow-up has a CSAT score'),
     (NULL, 'nps_responses', 'Tickets whose latest follow-up has an NPS score'),
     ('kpi_facts', 'response_minutes', 'Minutes from entry to the first response: an engineer engaging (start of work, arrival, resolution or failed attempt); wall clock'),
     ('kpi_facts', 'response_business_minutes', 'Minutes of business time (calendar of the ticket''s SLA policy) from entry to the first response'),
     ('kpi_facts', 'responded_in_target', '1: first response within the response target (setting response_target_minutes); 0: not (on hold or not); NULL: not judged yet, or cancelled'),
     ('kpi_facts', 'arrival_minutes', 'Minutes from entry to the first arrival on site (wall clock)'),
     ('kpi_facts', 'arrival_business_minutes', 'Minutes of business time from entry to the first arrival on site'),
     ('kpi_facts', 'arrived_in_target', '1: a field ticket arrived within the arrival target (setting arrival_target_hours); 0: not; NULL: not a field ticket, not judged yet, or resolved without a visit'),
     ('kpi_facts', 'resolution_minutes', 'Minutes from entry to the final resolution (wall clock, holds included)'),
     ('kpi_facts', 'resolution_business_minutes', 'Minutes of business time from entry to the final resolution'),
     ('kpi_facts', 'completed_in_target', '1: finally resolved within the completion target (setting completion_target_hours); 0: not; NULL: not judged yet'),
     ('kpi_facts', 'repair_minutes', 'Minutes from the first response to the final resolution, less the time sat resolved or closed before a reopen (the repair, for MTTR)'),
     ('kpi_facts', 'repair_business_minutes', 'Minutes of business time from the first response to the final resolution'),
     ('kpi_facts', 'handling_minutes', 'Minutes from the assignment to the current engineer to the final resolution'),
     ('kpi_facts', 'handling_business_minutes', 'Minutes of business time from the assignment to the current engineer to the final resolution'),
     ('kpi_facts', 'promised_at', 'Promised completion: the customer-requested date, else the resolution SLA clock''s due time'),
     ('kpi_facts', 'completed_on_time', '1: finally resolved by promised_at; 0: not; NULL: not judged yet'),
     ('kpi_facts', 'sla_first_contact', 'First-contact SLA clock (ticket_sla metric first_response: the first contact with the customer, or the first response if earlier): met, breached, cancelled, running at as_of; NULL without a clock'),
     ('kpi_facts', 'sla_arrival', 'Arrival SLA clock (field tickets): met, breached, cancelled, running; NULL without a clock'),
     ('kpi_facts', 'sla_resolution', 'Resolution SLA clock: met, breached, cancelled, running; NULL without a clock'),
     ('kpi_facts', 'first_time_fix', '1: resolved at least once with no failed attempt, no reopen and at most one arrival on site; 0: resolved but not first time; NULL: never resolved'),
     ('kpi_facts', 'closed_loop', '1: resolved at least once and closed now; 0: resolved at least once and not closed; NULL: never resolved'),
     ('kpi_facts', 'reopened', '1: resolved at least once and reopened since (unsatisfied follow-up or reopen); 0: not; NULL: never resolved'),
     ('kpi_facts', 'repeat_problem', '1: the unit had a ticket of the same problem type entered at most repeat_window_days before; 0: not; NULL: no unit'),
     ('kpi_facts', 'csat_score', 'CSAT score of the latest follow-up, 1 to 5'),
     ('kpi_facts', 'csat_good', '1: CSAT at least csat_good_min (4); 0: below; NULL: no score'),
     ('kpi_facts', 'nps_score', 'NPS score (likelihood to recommend) of the latest follow-up, 0 to 10'),
     ('kpi_facts', 'nps_promoter', '1: NPS score 9 or 10; 0: otherwise; NULL: no score'),
     ('kpi_facts', 'nps_detractor', '1: NPS score 0 to 6; 0: otherwise; NULL: no score'),
     (NULL, 'age_hours', 'Hours since entry'),
     (NULL, 'open_tickets', 'Open (unresolved) tickets'),
     (NULL, 'unassigned', 'Open tickets without an engineer (new or locked)'),
     (NULL, 'on_hold', 'Open tickets on hold (waiting on the customer)'),
     (NULL, 'in_work', 'Open tickets with an engineer (assigned, in_progress, on_site)'),
     ('kpi_backlog_stages_by_org_type', 'stage', 'Stage not yet reached: response, arrival (field tickets) or completion'),
     ('kpi_backlog_stages_by_org_type', 'stage_name', 'Stage in Chinese: 响应, 到位, 完工'),
     ('kpi_backlog_stages_by_org_type', 'pending', 'Open tickets that have not reached the stage'),
     ('kpi_backlog_stages_by_org_type', 'over_24h', 'Pending tickets more than 24 hours past the stage''s target (超24小时; includes the older buckets)'),
     ('kpi_backlog_stages_by_org_type', 'over_48h', 'Pending tickets more than 48 hours past the stage''s target (超48小时)'),
     ('kpi_backlog_stages_by_org_type', 'over_72h', 'Pending tickets more than 72 hours past the stage''s target (超72小时)'),
     ('kpi_backlog_stages_by_org_type', 'over_96h', 'Pending tickets more than 96 hours past the stage''s target (超96小时)'),
     ('kpi_backlog_stages_by_org_type', 'over_120h', 'Pending tickets more than 120 hours past the stage''s target (超120小时)'),
     ('kpi_backlog_stages_by_org_type', 'max_overdue_hours', 'Hours past the stage''s target of the most overdue pending ticket'),
     (NULL, 'over_24h', 'Open tickets entered more than 24 hours ago (超24小时; includes the older buckets)'),
     (NULL, 'over_48h', 'Open tickets entered more than 48 hours ago (超48小时)'),
     (NULL, 'over_72h', 'Open tickets entered more than 72 hours ago (超72小时)'),
     (NULL, 'over_96h', 'Open tickets entered more than 96 hours ago (超96小时)'),
     (NULL, 'over_120h', 'Open tickets entered more than 120 hours ago (超120小时)'),
     (NULL, 'avg_age_hours', 'Mean age of the open tickets, hours'),
     (NULL, 'max_age_hours', 'Age of the oldest open ticket, hours'),
     (NULL, 'capacity', 'How many open tickets the engineer can hold'),
     (NULL, 'on_duty', 'Whether the engineer is on duty now'),
     (NULL, 'active', 'False once the engineer has left'),
     (NULL, 'assigned', 'Held tickets assigned, not started'),
     (NULL, 'in_progress', 'Held tickets in progress'),
     (NULL, 'on_site', 'Held tickets with the engineer on site'),
     ('kpi_holdings', 'on_hold', 'Held tickets on hold'),
     ('kpi_holdings', 'region', 'Region the engineer covers'),
     ('kpi_holdings', 'org_id', 'Organisation the engineer works for'),
     (NULL, 'load_ratio', 'holdings / capacity'),
     (NULL, 'dimension', 'Which dimension dim_key and dim_name are values of: region, province, product_model or problem_type'),
     (NULL, 'dim_key', 'Value of the dimension: the region or province, or the id of the model or problem type'),
     (NULL, 'dim_name', 'Label of the dimension value'),
     (NULL, 'warranty_unknown', 'Failures whose warranty class is unknown (no unit, or no installation or warranty date)'),
     (NULL, 'rank', 'Rank within the month by failures (1: most; ties by key)'),
     (NULL, 'early_failure_warning', 'Warning line for early failures (setting early_failure_warning)'),
     (NULL, 'early_failure_alert', '1 when early failures reached the warning line, else 0'),
     (NULL, 'in_warranty_warning', 'Warning line for in-warranty failures (setting in_warranty_warning)'),
     (NULL, 'in_warranty_alert', '1 when in-warranty failures reached the warning line, else 0'),
     (NULL, 'out_of_warranty_warning', 'Warning line for out-of-warranty failures (setting out_of_warranty_warning)'),
     (NULL, 'out_of_warranty_alert', '1 when out-of-warranty failures reached the warning line, else 0'),
     ('kpi_staff_monthly', 'tickets', 'Tickets entered in the month that the engineer holds or resolved (not cancelled)'),
     ('kpi_staff_monthly', 'resolved', 'Of them, resolved'),
     ('kpi_staff_monthly', 'unresolved', 'Of them, not yet resolved'),
     ('kpi_staff_monthly', 'avg_handling_business_minutes', 'As avg_handling_minutes, in business time on the calendar of the ticket''s SLA policy'),
     ('kpi_staff_monthly', 'total_handling_minutes', 'Sum of handling minutes of the resolved tickets'),
     ('kpi_staff_monthly', 'org_id', 'Organisation the engineer works for'),
     ('kpi_dispatch_monthly_by_org_type', 'month', 'First day of the month of the dispatch (in the tenant''s reporting zone)'),
     ('kpi_dispatch_monthly_by_org_type', 'tickets', 'Distinct tickets dispatched'),
     (NULL, 'assigns', 'Dispatches by assign (from awaiting assignment)'),
     (NULL, 'reassigns', 'Dispatches by reassign (to another engineer)'),
     (NULL, 'take_overs', 'Dispatches by take_over (the service manager, from locked)'),
     (NULL, 'measure', 'Which duration: first_response (entry to first response), arrival (entry to first arrival on site), resolution (entry to final resolution), repair (first response to final resolution), handling (assignment to the current engineer to final resolution)'),
     (NULL, 'clock', 'wall: wall-clock minutes; business: business minutes on the calendar of the ticket''s SLA policy'),
     (NULL, 'n', 'Tickets with this duration (not cancelled)'),
     (NULL, 'mean_minutes', 'Mean, minutes'),
     (NULL, 'p50_minutes', 'Median, minutes (within 0.5%)'),
     (NULL, 'p90_minutes', '90th percentile, minutes (within 0.5%)'),
     (NULL, 'p95_minutes', '95th percentile, minutes (within 0.5%)'),
     (NULL, 'max_minutes', 'Maximum, minutes'))
        SELECT c.relname, a.attname,
               COALESCE((SELECT d.comment FROM kpi_column_dictionary d
                          WHERE d.column_name = a.attname AND (d.view_name = c.relname OR d.view_name IS NULL)
                          ORDER BY d.view_name NULLS LAST LIMIT 1),
                        (SELECT k.name_en || ' (' || k.name_zh || '), ' || k.unit || ': ' || k.definition
                           FROM aftersales.kpi_catalogue k WHERE k.tenant_id = 1 AND k.code = a.attname),
                        (SELECT k.name_en || ' (' || k.name_zh || '), ' || k.unit || ': ' || k.definition
                           FROM aftersales.kpi_catalogue k WHERE k.tenant_id = 1 AND 'backlog_' || a.attname = k.code)) AS comment
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE n.nspname = 'aftersales' AND c.relkind = 'v' AND c.relname LIKE 'kpi\_%'
           AND pg_catalog.col_description(c.oid, a.attnum) IS NULL
    LOOP
        IF r.comment IS NULL THEN
            missing := missing || (r.relname || '.' || r.attname);
        ELSE
            EXECUTE pg_catalog.format('COMMENT ON COLUMN aftersales.%I.%I IS %L', r.relname, r.attname, r.comment);
        END IF;
    END LOOP;
    IF missing <> '{}' THEN
        RAISE EXCEPTION 'view columns without a comment: %', pg_catalog.array_to_string(missing, ', ');
    END IF;
END
$$;
-- ---- KPI: end ----

-- KPI argument checks as in 0.2.0: the KPI section's checks (tenant, reporting
-- zone) together with the refusal of an infinite as_of.
CREATE OR REPLACE FUNCTION aftersales_internal.kpi_check(fn text, example text, period text, dimension text, dimensions text[],
                                      since timestamptz, until timestamptz, as_of timestamptz, zone text,
                                      tenant bigint)
    RETURNS void
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
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
    IF fn NOT IN ('kpi_backlog', 'kpi_engineer_holdings', 'backlog_as_of', 'kpi_backlog_stages') THEN
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
    -- the tenant first: an unknown tenant has no reporting zone either
    IF tenant IS NOT NULL AND NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = kpi_check.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the tenants with: SELECT tenant_id, name FROM aftersales.tenants; or pass tenant => NULL for every tenant.';
    END IF;
    IF zone IS NULL THEN
        RAISE EXCEPTION 'zone must not be null'
            USING ERRCODE = '22004',
                  DETAIL = 'Periods are cut in this time zone; the default is the tenant''s reporting zone, which tenant => NULL has only when every tenant reports in the same zone.',
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
    -- ages are measured from as_of: an infinite one has none
    IF as_of IS NOT NULL AND NOT pg_catalog.isfinite(as_of) THEN
        RAISE EXCEPTION '% must be finite, not %', CASE WHEN fn = 'backlog_as_of' THEN 'at' ELSE 'as_of' END, as_of
            USING ERRCODE = '22008',
                  DETAIL = 'Ages and backlogs are measured at this instant.',
                  HINT = 'For example: ' || example;
    END IF;
END
$$;
COMMENT ON FUNCTION aftersales_internal.kpi_check(text, text, text, text, text[], timestamptz, timestamptz, timestamptz, text, bigint) IS
  'Internal: validates the parameters of a KPI function; errors name the bad value and show a correct call';

-- Access control: members, group roles and grants, event rights, the
-- caller functions, and row-level security on every table with a tenant_id:
-- the statements of install parts 80_access.sql and 95_row_security.sql.

-- ---------------------------------------------------------------------------
-- Group roles
--
-- Roles are cluster-wide and outlive DROP EXTENSION, so the install script
-- creates each one only when it is missing: the grants below need them at
-- once, a second database of the cluster finds them in place, and a
-- reinstall neither fails nor duplicates them.  They are NOLOGIN groups:
-- a DBA grants them to logins (README, "Security").
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['aftersales_admin', 'aftersales_manager', 'aftersales_agent', 'aftersales_engineer',
                             'aftersales_analyst', 'aftersales_auditor', 'aftersales_app', 'aftersales_sweep'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Members

CREATE TYPE aftersales.member_kind AS ENUM ('admin', 'manager', 'agent', 'engineer', 'analyst', 'auditor');
COMMENT ON TYPE aftersales.member_kind IS
  'What a member does: admin (configuration), manager (service manager), agent (客服), engineer, analyst (BI, read-only), auditor (read-only, with the event log)';

CREATE TABLE aftersales.members (
    tenant_id    bigint      NOT NULL DEFAULT aftersales.current_tenant()
                             REFERENCES aftersales.tenants,
    name         text        NOT NULL CHECK (name <> '' AND pg_catalog.length(name) <= 200),
    via          text        NOT NULL DEFAULT 'login' CHECK (via IN ('login', 'app')),
    kind         aftersales.member_kind NOT NULL,
    org_id       bigint      NOT NULL,
    engineer_id  bigint,
    active       boolean     NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, via, name),
    FOREIGN KEY (tenant_id, org_id) REFERENCES aftersales.organisations (tenant_id, org_id),
    FOREIGN KEY (tenant_id, engineer_id) REFERENCES aftersales.engineers (tenant_id, engineer_id),
    CHECK ((kind = 'engineer') = (engineer_id IS NOT NULL))
);
COMMENT ON TABLE aftersales.members IS
  'People who use a tenant: a database login (via login) or a user an application pool acts for (via app), with a kind and the organisation they see (it and everything below)';
COMMENT ON COLUMN aftersales.members.tenant_id IS 'Tenant the member belongs to';
COMMENT ON COLUMN aftersales.members.name IS 'Login role name (via login) or the application''s user name (via app, set by the pool in aftersales.app_user)';
COMMENT ON COLUMN aftersales.members.via IS 'login: the member connects as this role; app: an application pool asserts this name';
COMMENT ON COLUMN aftersales.members.kind IS 'admin, manager, agent, engineer, analyst or auditor: decides the events the member may fire (aftersales.event_rights)';
COMMENT ON COLUMN aftersales.members.org_id IS 'Scope: this organisation and everything below it; HQ sees the whole tenant';
COMMENT ON COLUMN aftersales.members.engineer_id IS 'For engineers: their engineers row; they act only on tickets assigned to it';
COMMENT ON COLUMN aftersales.members.active IS 'False: the member no longer resolves';
COMMENT ON COLUMN aftersales.members.created_at IS 'When the row was created';
SELECT pg_catalog.pg_extension_config_dump('aftersales.members', '');

-- ---------------------------------------------------------------------------
-- Who may fire which event: one table, read by the tickets' guard trigger,
-- so the API and a direct UPDATE obey the same rule.  Besides the events of
-- the closed loop: edit (a plain change of a ticket's free fields) and
-- edit_closed (the same once closed or cancelled); kind sweep is the
-- scheduled sweep's login.  Shipped data, recreated by CREATE EXTENSION and
-- not dumped: a change of it is a change of the install script.
CREATE TABLE aftersales.event_rights (
    kind              text    NOT NULL CHECK (kind = 'sweep' OR kind::aftersales.member_kind IS NOT NULL),
    event             text    NOT NULL CHECK (event IN ('edit', 'edit_closed') OR event::aftersales.ticket_event IS NOT NULL),
    own_tickets_only  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (kind, event)
);
COMMENT ON TABLE aftersales.event_rights IS
  'The events each kind of member may fire on a ticket (edit: a plain change of free fields; edit_closed: after close); no row, no right';
COMMENT ON COLUMN aftersales.event_rights.kind IS 'Member kind, or sweep for the scheduled sweep';
COMMENT ON COLUMN aftersales.event_rights.event IS 'Event of the closed loop, edit or edit_closed';
COMMENT ON COLUMN aftersales.event_rights.own_tickets_only IS 'Only on tickets assigned to the member''s engineer row';
INSERT INTO aftersales.event_rights (kind, event, own_tickets_only)
SELECT 'admin', e::text, false FROM pg_catalog.unnest(pg_catalog.enum_range(NULL::aftersales.ticket_event)) e
UNION ALL VALUES ('admin', 'edit', false), ('admin', 'edit_closed', false)
UNION ALL
SELECT 'manager', e, false
  FROM pg_catalog.unnest(ARRAY['open', 'assign', 'reassign', 'take_over', 'release', 'hold', 'resume', 'transfer',
                               'follow_up', 'cancel', 'reopen', 'lock', 'unlock', 'retarget', 'acknowledge',
                               'edit', 'edit_closed']) e
UNION ALL
SELECT 'agent', e, false
  FROM pg_catalog.unnest(ARRAY['open', 'assign', 'reassign', 'hold', 'resume', 'follow_up', 'cancel', 'reopen',
                               'edit']) e
UNION ALL
SELECT 'engineer', e, true
  FROM pg_catalog.unnest(ARRAY['start', 'arrive', 'resolve', 'fail', 'release', 'hold', 'resume']) e
UNION ALL VALUES ('sweep', 'lock', false);

-- ---------------------------------------------------------------------------
-- The caller (C, src/access.c)

CREATE FUNCTION aftersales.current_org_scope() RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'aftersales_current_org_scope' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.current_org_scope() IS
  'The organisations the caller sees (their organisation and everything below); NULL for the whole tenant (HQ members, superusers)';

CREATE FUNCTION aftersales.current_member_kind() RETURNS text
    AS 'MODULE_PATHNAME', 'aftersales_current_member_kind' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.current_member_kind() IS
  'The caller''s kind of member (admin, manager, agent, engineer, analyst, auditor; sweep for the sweep''s login); NULL for superusers';

CREATE FUNCTION aftersales.whoami(OUT tenant_id bigint, OUT member text, OUT kind text, OUT via text,
                                  OUT org_id bigint, OUT engineer_id bigint)
    AS 'MODULE_PATHNAME', 'aftersales_whoami' LANGUAGE C STABLE;
COMMENT ON FUNCTION aftersales.whoami() IS
  'The caller as access control sees it: tenant, member name, kind (superuser for superusers), via login or app, scope organisation, engineer row';

-- ---------------------------------------------------------------------------
-- Grants per kind.  Reading is the same for every kind but the analyst
-- (no customers' personal data, no members, no sweep runs; the KPIs read
-- the event log, so analysts do too); writing is what each
-- kind's events and work need.  The logs (ticket_events, ticket_sla,
-- escalation_watches, occurrences) are written by the extension's own
-- triggers, as their owner: nobody is granted INSERT, UPDATE or DELETE.
-- Row-level security (95_row_security.sql) then limits every grant to the
-- caller's tenant and organisation scope.
GRANT USAGE ON SCHEMA aftersales TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer,
                                   aftersales_analyst, aftersales_auditor, aftersales_app, aftersales_sweep;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT c.relname FROM pg_catalog.pg_class c
              WHERE c.relnamespace = 'aftersales'::regnamespace AND c.relkind IN ('r', 'v', 'p')
                AND c.relname <> 'customers' LOOP
        EXECUTE pg_catalog.format('GRANT SELECT ON aftersales.%I TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer, aftersales_auditor', t.relname);
        IF t.relname NOT IN ('members', 'sweep_runs', 'sample_data_runs') THEN
            EXECUTE pg_catalog.format('GRANT SELECT ON aftersales.%I TO aftersales_analyst', t.relname);
        END IF;
    END LOOP;
END
$$;
GRANT SELECT ON aftersales.customers TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer,
                                        aftersales_auditor;
-- Analysts: customers without contact names, phones, e-mails and addresses.
GRANT SELECT (tenant_id, customer_id, name, tier, region, province, city, org_id, created_at)
    ON aftersales.customers TO aftersales_analyst;

-- Tickets: entered by agents and managers, moved by events.
GRANT INSERT ON aftersales.tickets TO aftersales_admin, aftersales_manager, aftersales_agent;
GRANT UPDATE ON aftersales.tickets TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer;
-- Alerts: acknowledged and raised by managers.
GRANT INSERT, UPDATE ON aftersales.alerts TO aftersales_admin, aftersales_manager;
GRANT UPDATE ON aftersales.ticket_escalations TO aftersales_admin, aftersales_manager;
-- Agents register customers and their units.
GRANT INSERT, UPDATE ON aftersales.customers, aftersales.units TO aftersales_admin, aftersales_agent, aftersales_manager;
-- Admins: the tenant's configuration and its people.
GRANT INSERT, UPDATE, DELETE ON aftersales.organisations, aftersales.engineers, aftersales.product_lines,
    aftersales.product_models, aftersales.problem_types, aftersales.sla_policies, aftersales.sla_targets,
    aftersales.service_agreements, aftersales.calendars, aftersales.kpi_settings, aftersales.kpi_catalogue,
    aftersales.escalation_rules, aftersales.members
    TO aftersales_admin;

-- An application pool acts for agents, engineers, managers, analysts and
-- auditors (not admins): it holds their privileges, and the guard and the
-- policies narrow them to the asserted user's kind and scope.
GRANT aftersales_manager, aftersales_agent, aftersales_engineer, aftersales_analyst, aftersales_auditor
    TO aftersales_app;

-- The sweep: reads the clocks and watches, raises alerts, locks tickets.
GRANT SELECT ON aftersales.tickets, aftersales.ticket_sla, aftersales.escalation_rules, aftersales.calendars,
    aftersales.customers, aftersales.tenants, aftersales.escalation_rules_effective
    TO aftersales_sweep;
GRANT SELECT, UPDATE ON aftersales.escalation_watches, aftersales.ticket_escalations TO aftersales_sweep;
GRANT SELECT, INSERT, UPDATE ON aftersales.alerts, aftersales.ticket_escalations TO aftersales_sweep;
GRANT SELECT, INSERT, UPDATE, DELETE ON aftersales.sweep_runs TO aftersales_sweep;
GRANT UPDATE ON aftersales.tickets TO aftersales_sweep;
GRANT EXECUTE ON FUNCTION aftersales.sweep(integer, timestamptz, bigint) TO aftersales_sweep;
GRANT EXECUTE ON PROCEDURE aftersales.sweep_until_done(integer, integer, bigint) TO aftersales_sweep;
GRANT EXECUTE ON FUNCTION aftersales.prune_sweep_runs(timestamptz, bigint) TO aftersales_sweep;
-- The sweep's internal steps and the checks of what it writes, which run
-- with its rights.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = 'aftersales_internal'::regnamespace
                AND p.proname IN ('sweep_claimed', 'sweep_error', 'set_sweep_locking', 'watch_stages', 'next_check',
                                  'clock_add', 'clock_diff', 'escalation_watches_row_check')
              ORDER BY 1 LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO aftersales_sweep', f);
    END LOOP;
END
$$;

CREATE FUNCTION aftersales_internal.apply_row_security() RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    n integer := 0;
BEGIN
    FOR t IN SELECT c.oid::regclass AS rel,
                    EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'org_id'
                                                                    AND NOT a.attisdropped) AS has_org,
                    EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'ticket_id'
                                                                    AND NOT a.attisdropped) AS has_ticket
               FROM pg_catalog.pg_class c
              WHERE c.relnamespace = 'aftersales'::regnamespace AND c.relkind IN ('r', 'p')
                AND EXISTS (SELECT FROM pg_catalog.pg_attribute a
                             WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
              ORDER BY c.relname LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t.rel);
        EXECUTE pg_catalog.format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t.rel);
        EXECUTE pg_catalog.format('DROP POLICY IF EXISTS tenant_isolation ON %s', t.rel);
        EXECUTE pg_catalog.format('DROP POLICY IF EXISTS org_scope ON %s', t.rel);
        EXECUTE pg_catalog.format('DROP POLICY IF EXISTS ticket_scope ON %s', t.rel);
        EXECUTE pg_catalog.format('DROP POLICY IF EXISTS shared_defaults ON %s', t.rel);
        IF t.rel IN ('aftersales.kpi_settings'::regclass, 'aftersales.kpi_catalogue'::regclass,
                     'aftersales.escalation_rules'::regclass) THEN
            EXECUTE pg_catalog.format(
                'CREATE POLICY shared_defaults ON %s FOR SELECT USING (tenant_id OPERATOR(pg_catalog.=) 1)', t.rel);
        END IF;
        EXECUTE pg_catalog.format(
            'CREATE POLICY tenant_isolation ON %s'
            ' USING (tenant_id OPERATOR(pg_catalog.=) (SELECT aftersales.current_tenant()))'
            ' WITH CHECK (tenant_id OPERATOR(pg_catalog.=) (SELECT aftersales.current_tenant()))', t.rel);
        IF t.has_org THEN
            EXECUTE pg_catalog.format(
                'CREATE POLICY org_scope ON %s AS RESTRICTIVE'
                ' USING ((SELECT aftersales.current_org_scope()) IS NULL'
                '        OR org_id OPERATOR(pg_catalog.=) ANY ((SELECT aftersales.current_org_scope())::bigint[]))'
                ' WITH CHECK ((SELECT aftersales.current_org_scope()) IS NULL'
                '        OR org_id OPERATOR(pg_catalog.=) ANY ((SELECT aftersales.current_org_scope())::bigint[]))', t.rel);
        ELSIF t.has_ticket THEN
            EXECUTE pg_catalog.format(
                'CREATE POLICY ticket_scope ON %s AS RESTRICTIVE'
                ' USING ((SELECT aftersales.current_org_scope()) IS NULL'
                '        OR (tenant_id, ticket_id) IN (SELECT t.tenant_id, t.ticket_id FROM aftersales.tickets t))', t.rel);
        END IF;
        n := n + 1;
    END LOOP;
    -- Views read with the caller's rights, so the policies above apply
    -- through them (a view defined without it reads as its owner).
    FOR t IN SELECT c.oid::regclass AS rel FROM pg_catalog.pg_class c
              WHERE c.relnamespace = 'aftersales'::regnamespace AND c.relkind = 'v' LOOP
        EXECUTE pg_catalog.format('ALTER VIEW %s SET (security_invoker = true)', t.rel);
    END LOOP;
    RETURN n;
END
$$;
REVOKE ALL ON FUNCTION aftersales_internal.apply_row_security() FROM PUBLIC;
COMMENT ON FUNCTION aftersales_internal.apply_row_security() IS
  'Enables and forces row-level security, with the tenant and scope policies, on every table of schema aftersales with a tenant_id, and makes every view security_invoker; returns how many tables';

SELECT aftersales_internal.apply_row_security();

-- ---------------------------------------------------------------------------
-- Field changes are events: event edit (a change of description, org_id,
-- requested_at or field, in any state; after close or cancel a manager's or
-- admin's), recorded with the old and new values whether made by a direct
-- UPDATE or by the new aftersales.edit_ticket(); replay_ticket(),
-- ticket_state() and check_tickets() follow the edited fields.  The new
-- label is not used as an enum value in this script (ADD VALUE's value
-- cannot be used before the transaction commits): the functions compare
-- event::text.

ALTER TYPE aftersales.ticket_event ADD VALUE 'edit';
COMMENT ON TYPE aftersales.ticket_event IS
  'Event of the closed loop; aftersales.ticket_transitions() lists which event takes which state where; edit, outside the loop, changes a ticket''s free fields (description, org_id, requested_at, field) in any state';
COMMENT ON COLUMN aftersales.tickets.description IS 'What the customer reported; a change is event edit';
COMMENT ON COLUMN aftersales.tickets.requested_at IS
  'Date and time the customer asked for; assigning after it locks the ticket; a change is event edit';
COMMENT ON COLUMN aftersales.tickets.org_id IS 'Organisation handling the ticket; a change is event edit';
COMMENT ON COLUMN aftersales.tickets.field IS 'Needs on-site service: the ticket gets an arrival clock at entry; a change is event edit';
COMMENT ON COLUMN aftersales.ticket_events.payload IS
  'What else changed: assignee, tier, priority, follow-up scores, the rule that applied, the SLA clocks'' targets, due times, pauses and elapsed times, and for edit the changes ({"changes": {column: {"old": ..., "new": ...}}})';
CREATE OR REPLACE FUNCTION aftersales.ticket_state(tenant bigint, ticket bigint) RETURNS jsonb
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
    -- free fields as the edits left them (only those the log recorded)
    fields jsonb := '{}';
    f text;
    fv jsonb;
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

        -- edit, outside the closed loop: free fields change, the state does not
        IF e.event::text OPERATOR(pg_catalog.=) 'edit' THEN
            IF e.from_state IS DISTINCT FROM status OR e.to_state IS DISTINCT FROM status THEN
                PERFORM aftersales_internal.replay_error(tenant, ticket, n,
                    pg_catalog.format('edit takes it from %s to %s, but the ticket was %s', e.from_state, e.to_state, status));
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
            last_event := e.event;
            last_event_at := at;
            last_actor := e.actor;
            CONTINUE;
        END IF;

        -- the transition, checked against the table
        from_s := status;
        to_s := e.to_state;
        IF e.from_state IS DISTINCT FROM from_s THEN
            PERFORM aftersales_internal.replay_error(tenant, ticket, n,
                pg_catalog.format('it starts from %s, but the ticket was %s', e.from_state, from_s));
        END IF;
        tr := loop_table->(from_s::text OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) e.event::text
                           OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) to_s::text);
        IF tr IS NULL THEN
            PERFORM aftersales_internal.replay_error(tenant, ticket, n,
                pg_catalog.format('%s --%s--> %s is not a transition of the closed loop', from_s, e.event, to_s));
        END IF;
        IF e.event OPERATOR(pg_catalog.=) 'fail'
           AND (attempt_count OPERATOR(pg_catalog.+) 1 OPERATOR(pg_catalog.>=) 2)
               IS DISTINCT FROM (tr->>'rule' IS NOT DISTINCT FROM 'attempts') THEN
            PERFORM aftersales_internal.replay_error(tenant, ticket, n, 'the attempts rule was not followed');
        END IF;
        IF tr->>'rule' OPERATOR(pg_catalog.=) 'held_from' AND to_s IS DISTINCT FROM held_from THEN
            PERFORM aftersales_internal.replay_error(tenant, ticket, n, 'resume did not return to the state held from');
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

        -- the clocks (ticket_log.c, ticket_changed)
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
        'sla', sla)
        OPERATOR(pg_catalog.||) CASE WHEN fields OPERATOR(pg_catalog.=) '{}' THEN '{}'::jsonb
                                     ELSE pg_catalog.jsonb_build_object('fields', fields) END;
END
$$;
COMMENT ON FUNCTION aftersales.replay_ticket(bigint, bigint) IS
  'Rebuild a ticket''s state, counters, time stamps and SLA clocks from its events alone (shape of ticket_state()), with the free fields its edits set; an error when the log breaks the closed loop or an edit''s old value is not what the previous edit left; NULL for a ticket without events';

CREATE OR REPLACE FUNCTION aftersales.check_tickets(tenant bigint DEFAULT NULL)
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

-- Event edit: a change of description, org_id, requested_at or field, in
-- any state.  A direct UPDATE of those columns is the same event (the
-- trigger records it); this function validates the keys and names the
-- event, reason, actor and time.
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
                  DETAIL = 'Its keys are the fields to change: description, org_id, requested_at, field.',
                  HINT = 'For example: SELECT aftersales.edit_ticket(42, changes => ''{"description": "no heating", "org_id": 7}'');';
    END IF;
    SELECT k INTO bad FROM pg_catalog.jsonb_object_keys(changes) k
     WHERE k NOT IN ('description', 'org_id', 'requested_at', 'field')
     ORDER BY k LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'cannot edit "%" of a ticket', pg_catalog.left(bad, 60)
            USING ERRCODE = '22023',
                  DETAIL = 'edit_ticket changes description, org_id, requested_at and field; the closed loop''s events change the rest, and channel, customer, unit, model and problem type are fixed at entry.',
                  HINT = 'For example: SELECT aftersales.edit_ticket(42, changes => ''{"requested_at": "2026-03-02 09:00+08"}'');';
    END IF;
    PERFORM aftersales_internal.declare_event('edit', actor, at, reason);
    UPDATE aftersales.tickets t
       SET description = CASE WHEN changes OPERATOR(pg_catalog.?) 'description' THEN changes OPERATOR(pg_catalog.->>) 'description' ELSE t.description END,
           org_id = CASE WHEN changes OPERATOR(pg_catalog.?) 'org_id' THEN (changes OPERATOR(pg_catalog.->>) 'org_id')::bigint ELSE t.org_id END,
           requested_at = CASE WHEN changes OPERATOR(pg_catalog.?) 'requested_at' THEN (changes OPERATOR(pg_catalog.->>) 'requested_at')::timestamptz
                               ELSE t.requested_at END,
           field = CASE WHEN changes OPERATOR(pg_catalog.?) 'field' THEN (changes OPERATOR(pg_catalog.->>) 'field')::boolean ELSE t.field END
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
  'Change a ticket''s fields outside the closed loop (keys of changes: description, org_id, requested_at, field) as event edit, recorded with the old and new values; in any state, after close or cancel only by a service manager or admin; returns the status';
-- Refusals name the bad value, cut when long: open_tickets names the element
-- whose value fails its cast (with a hint) and cuts a long channel;
-- get_calendar, kpi_setting, set_kpi_setting and the KPI functions cut long
-- arguments in their messages.
CREATE OR REPLACE FUNCTION aftersales.get_calendar(name text, tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS aftersales.calendar
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    result aftersales.calendar;
BEGIN
    SELECT c.calendar INTO result
      FROM aftersales.calendars c
     WHERE c.tenant_id OPERATOR(pg_catalog.=) tenant AND c.name OPERATOR(pg_catalog.=) get_calendar.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'calendar "%" does not exist for tenant %', CASE WHEN pg_catalog.length(name) > 64 THEN pg_catalog.left(name, 64) || '...' ELSE name END, tenant
            USING ERRCODE = '42704',
                  HINT = 'Create it first, for example: SELECT aftersales.set_calendar(''office'', ''zone=Asia/Shanghai; mon-fri 09:00-18:00'');';
    END IF;
    RETURN result;
END
$$;

CREATE OR REPLACE FUNCTION aftersales.open_tickets(tickets jsonb, reason text DEFAULT NULL,
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
           CASE WHEN COALESCE(x.channel, 'phone') IN ('phone', 'web', 'app', 'wechat', 'email', 'walk_in', 'field', 'other')
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

CREATE OR REPLACE FUNCTION aftersales.kpi_setting(name text, tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS numeric
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result numeric;
BEGIN
    SELECT COALESCE(o.value, d.value) INTO result
      FROM aftersales.kpi_settings d
      LEFT JOIN aftersales.kpi_settings o ON o.tenant_id = kpi_setting.tenant AND o.name = d.name
     WHERE d.tenant_id = 1 AND d.name = kpi_setting.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown KPI setting: "%"', CASE WHEN pg_catalog.length(name) > 64 THEN pg_catalog.left(name, 64) || '...' ELSE name END
            USING ERRCODE = '22023',
                  HINT = 'Settings are listed by: SELECT name, value, unit FROM aftersales.kpi_settings_current; for example: SELECT aftersales.kpi_setting(''repeat_window_days'');';
    END IF;
    RETURN result;
END
$$;

CREATE OR REPLACE FUNCTION aftersales.set_kpi_setting(name text, value numeric,
                                           tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS numeric
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d aftersales.kpi_settings;
BEGIN
    SELECT * INTO d FROM aftersales.kpi_settings s WHERE s.tenant_id = 1 AND s.name = set_kpi_setting.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown KPI setting: "%"', CASE WHEN pg_catalog.length(name) > 64 THEN pg_catalog.left(name, 64) || '...' ELSE name END
            USING ERRCODE = '22023',
                  HINT = 'Settings are listed by: SELECT name, value, unit FROM aftersales.kpi_settings_current; for example: SELECT aftersales.set_kpi_setting(''repeat_window_days'', 60);';
    END IF;
    IF value IS NULL OR value < 0 OR value >= 1000000 THEN
        RAISE EXCEPTION 'invalid value for KPI setting %: %', name, COALESCE(CASE WHEN pg_catalog.length(value::text) > 64 THEN pg_catalog.left(value::text, 64) || '...' ELSE value::text END, 'NULL')
            USING ERRCODE = '22003',
                  HINT = pg_catalog.format('The value is a number from 0 to 999999, in %s; for example: SELECT aftersales.set_kpi_setting(%L, %s);',
                                           d.unit, name, d.value);
    END IF;
    IF tenant IS NULL OR NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = set_kpi_setting.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', COALESCE(tenant::text, 'NULL')
            USING ERRCODE = 'P0002',
                  HINT = 'List the tenants with: SELECT tenant_id, name FROM aftersales.tenants;';
    END IF;
    INSERT INTO aftersales.kpi_settings AS s (tenant_id, name, value, unit, description)
    VALUES (tenant, name, value, d.unit, d.description)
    ON CONFLICT ON CONSTRAINT kpi_settings_pkey DO UPDATE SET value = excluded.value;
    RETURN value;
END
$$;

CREATE OR REPLACE FUNCTION aftersales_internal.kpi_check(fn text, example text, period text, dimension text, dimensions text[],
                                      since timestamptz, until timestamptz, as_of timestamptz, zone text,
                                      tenant bigint)
    RETURNS void
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
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
            RAISE EXCEPTION 'unknown period: "%"', CASE WHEN pg_catalog.length(period) > 64 THEN pg_catalog.left(period, 64) || '...' ELSE period END
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
        RAISE EXCEPTION 'unknown dimension: "%"', CASE WHEN pg_catalog.length(dimension) > 64 THEN pg_catalog.left(dimension, 64) || '...' ELSE dimension END
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('Dimensions of %s are %s.', fn, pg_catalog.array_to_string(dimensions, ', ')),
                  HINT = 'For example: ' || example;
    END IF;
    IF fn NOT IN ('kpi_backlog', 'kpi_engineer_holdings', 'backlog_as_of', 'kpi_backlog_stages') THEN
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
    -- the tenant first: an unknown tenant has no reporting zone either
    IF tenant IS NOT NULL AND NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = kpi_check.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the tenants with: SELECT tenant_id, name FROM aftersales.tenants; or pass tenant => NULL for every tenant.';
    END IF;
    IF zone IS NULL THEN
        RAISE EXCEPTION 'zone must not be null'
            USING ERRCODE = '22004',
                  DETAIL = 'Periods are cut in this time zone; the default is the tenant''s reporting zone, which tenant => NULL has only when every tenant reports in the same zone.',
                  HINT = 'For example: ' || example;
    END IF;
    BEGIN
        PERFORM pg_catalog.timezone(zone, pg_catalog.timestamptz '2000-01-01 00:00+00');
    EXCEPTION WHEN invalid_parameter_value OR feature_not_supported THEN
        RAISE EXCEPTION 'unknown time zone: "%"', CASE WHEN pg_catalog.length(zone) > 64 THEN pg_catalog.left(zone, 64) || '...' ELSE zone END
            USING ERRCODE = '22023',
                  DETAIL = 'Periods are cut in this time zone.',
                  HINT = 'Use a zone PostgreSQL knows (SELECT name FROM pg_timezone_names), for example: zone => ''Asia/Shanghai''.';
    END;
    -- ages are measured from as_of: an infinite one has none
    IF as_of IS NOT NULL AND NOT pg_catalog.isfinite(as_of) THEN
        RAISE EXCEPTION '% must be finite, not %', CASE WHEN fn = 'backlog_as_of' THEN 'at' ELSE 'as_of' END, as_of
            USING ERRCODE = '22008',
                  DETAIL = 'Ages and backlogs are measured at this instant.',
                  HINT = 'For example: ' || example;
    END IF;
END
$$;

-- acknowledge_alerts: the time of an acknowledgement is finite, at most a
-- year ahead of the database clock and not before the alert was raised
-- (22008 with a hint; -infinity was accepted).
CREATE OR REPLACE FUNCTION aftersales.acknowledge_alerts(alert_ids bigint[], actor text DEFAULT aftersales.actor(),
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

-- One bad escalation stage never stops the others: a timed rule whose after
-- is beyond 8784 hours (0.1.0 did not bound it) is not in force; every
-- sweep names it in a WARNING and in the new sweep_runs.skipped_rules.
ALTER TABLE aftersales.sweep_runs ADD COLUMN skipped_rules text[];
UPDATE aftersales.sweep_runs SET skipped_rules = '{}';
ALTER TABLE aftersales.sweep_runs ALTER COLUMN skipped_rules SET NOT NULL;
COMMENT ON COLUMN aftersales.sweep_runs.skipped_rules IS 'Enabled rules of the tenants swept that it skipped, their after beyond 8784 hours (as kind, level, tenant and after); empty when none';
CREATE OR REPLACE VIEW aftersales.escalation_rules_effective WITH (security_invoker = true) AS
SELECT tn.tenant_id, r.kind, r.level, r.after, r.role, r.description, r.tenant_id <> tn.tenant_id AS inherited,
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
CREATE OR REPLACE FUNCTION aftersales.sweep(batch integer DEFAULT 500, now timestamptz DEFAULT aftersales.now(),
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

SELECT aftersales_internal.apply_row_security();

-- Views BI tools read, in plain types: escalation_rules_effective without
-- the interval after (after_minutes holds it) and with level numeric(5,2);
-- manager_queue.overdue_minutes numeric(14,1).  The escalation code takes
-- the delay as an interval from escalation_rules.
DROP VIEW aftersales.escalation_rules_effective;
CREATE VIEW aftersales.escalation_rules_effective WITH (security_invoker = true) AS
SELECT tn.tenant_id, r.kind, r.level::numeric(5,2) AS level, r.role, r.description,
       r.tenant_id <> tn.tenant_id AS inherited,
       (EXTRACT(EPOCH FROM r.after) / 60)::numeric(14,2) AS after_minutes
  FROM aftersales.tenants tn
  JOIN aftersales.escalation_rules r ON r.tenant_id IN (tn.tenant_id, 1)
 WHERE r.enabled
   AND (r.tenant_id = tn.tenant_id
        OR NOT EXISTS (SELECT FROM aftersales.escalation_rules o
                        WHERE o.tenant_id = tn.tenant_id AND o.kind = r.kind AND o.level = r.level));
COMMENT ON VIEW aftersales.escalation_rules_effective IS
  'The escalation rules in force for every tenant: its own rows, else tenant 1''s, key by key; enabled stages only';
COMMENT ON COLUMN aftersales.escalation_rules_effective.tenant_id IS 'Tenant the rule applies to';
COMMENT ON COLUMN aftersales.escalation_rules_effective.kind IS 'Kind of stage (see aftersales.escalation_rules.kind)';
COMMENT ON COLUMN aftersales.escalation_rules_effective.level IS 'Warning percent, escalation level, or 0';
COMMENT ON COLUMN aftersales.escalation_rules_effective.role IS 'Who is told';
COMMENT ON COLUMN aftersales.escalation_rules_effective.description IS 'What the stage means';
COMMENT ON COLUMN aftersales.escalation_rules_effective.inherited IS 'True when the row is tenant 1''s default';
COMMENT ON COLUMN aftersales.escalation_rules_effective.after_minutes IS
  'The delay of the stage in minutes (see aftersales.escalation_rules.after, an interval); NULL for warnings';
GRANT SELECT ON aftersales.escalation_rules_effective TO aftersales_admin, aftersales_manager, aftersales_agent,
    aftersales_engineer, aftersales_auditor;
GRANT SELECT ON aftersales.escalation_rules_effective TO aftersales_analyst;
GRANT SELECT ON aftersales.escalation_rules_effective TO aftersales_sweep;
CREATE OR REPLACE FUNCTION aftersales_internal.watch_stages(tenants bigint[], tickets bigint[], clocks text[],
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
CREATE OR REPLACE FUNCTION aftersales_internal.escalation_rules_changed() RETURNS trigger
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
DROP VIEW aftersales.manager_queue;
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
GRANT SELECT ON aftersales.manager_queue TO aftersales_admin, aftersales_manager, aftersales_agent,
    aftersales_engineer, aftersales_auditor;
GRANT SELECT ON aftersales.manager_queue TO aftersales_analyst;
SELECT aftersales_internal.apply_row_security();

-- ---------------------------------------------------------------------------
-- _kpi_ticket_dims (read by BI tools' metadata like any view of the schema):
-- status and priority as text, not the enum types a driver cannot chart;
-- kpi_open_tickets, built on it, again; kpi_ticket_facts reads them as text.
DROP VIEW aftersales.kpi_open_tickets;
DROP VIEW aftersales._kpi_ticket_dims;
CREATE VIEW aftersales._kpi_ticket_dims WITH (security_invoker = true) AS
SELECT t.tenant_id,
       tn.name                                  AS tenant_name,
       t.ticket_id,
       t.opened_at,
       t.status::text                           AS status,
       t.priority::text                         AS priority,
       t.channel,
       t.field,
       t.customer_id,
       c.tier                                   AS customer_tier,
       COALESCE(c.region, o.region)::text       AS region,
       COALESCE(c.province, o.province)         AS province,
       o.org_id,
       o.name                                   AS org_name,
       o.org_type,
       t.unit_id,
       t.model_id,
       m.name                                   AS model_name,
       t.problem_type_id,
       p.name                                   AS problem_name,
       t.assignee_id                            AS engineer_id,
       e.name                                   AS engineer_name,
       t.requested_at,
       t.first_response_at,
       t.assigned_at,
       t.arrived_at,
       t.first_resolved_at,
       t.resolved_at,
       t.closed_at,
       t.attempt_count,
       t.reopen_count,
       t.csat,
       t.nps
  FROM aftersales.tickets t
  LEFT JOIN aftersales.tenants tn ON tn.tenant_id = t.tenant_id
  LEFT JOIN aftersales.customers c ON c.tenant_id = t.tenant_id AND c.customer_id = t.customer_id
  LEFT JOIN aftersales.organisations o ON o.tenant_id = t.tenant_id AND o.org_id = COALESCE(t.org_id, c.org_id)
  LEFT JOIN aftersales.product_models m ON m.tenant_id = t.tenant_id AND m.model_id = t.model_id
  LEFT JOIN aftersales.problem_types p ON p.tenant_id = t.tenant_id AND p.problem_type_id = t.problem_type_id
  LEFT JOIN aftersales.engineers e ON e.tenant_id = t.tenant_id AND e.engineer_id = t.assignee_id;
COMMENT ON VIEW aftersales._kpi_ticket_dims IS
  'Internal: each ticket with its dimensions (tenant, region, province, organisation and its type, model, problem type, engineer, priority, channel); unused joins cost nothing';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.tenant_name IS 'Tenant name';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.ticket_id IS 'Ticket id';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.opened_at IS 'Entry of the ticket';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.status IS 'Current state';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.priority IS 'Current priority';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.channel IS 'Channel of the request';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.field IS 'Whether the ticket needs on-site service';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.customer_id IS 'Customer';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.customer_tier IS 'Customer tier: key, major or standard';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.region IS 'Region: the customer''s, else the organisation''s';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.province IS 'Province: the customer''s, else the organisation''s';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.org_id IS 'Organisation: the ticket''s handling organisation, else the customer''s';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.org_name IS 'Organisation name';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.org_type IS 'Organisation type: headquarters, representative_office, dealer, supplier';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.unit_id IS 'Installed unit, when known';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.model_id IS 'Product model';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.model_name IS 'Product model name';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.problem_type_id IS 'Problem (fault) type';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.problem_name IS 'Problem type name';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.engineer_id IS 'Engineer holding the ticket now (for a resolved ticket: the one who resolved it)';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.engineer_name IS 'Engineer name';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.requested_at IS 'Customer-requested date';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.first_response_at IS 'First response';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.assigned_at IS 'Assignment to the current engineer';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.arrived_at IS 'First arrival on site';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.first_resolved_at IS 'First resolution';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.resolved_at IS 'Final resolution (NULL while a reopened ticket is unresolved)';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.closed_at IS 'Closing by a satisfied follow-up';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.attempt_count IS 'Failed handling attempts';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.reopen_count IS 'Reopens';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.csat IS 'CSAT of the latest follow-up';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.nps IS 'NPS score of the latest follow-up';
GRANT SELECT ON aftersales._kpi_ticket_dims TO aftersales_admin, aftersales_manager, aftersales_agent,
    aftersales_engineer, aftersales_auditor;
GRANT SELECT ON aftersales._kpi_ticket_dims TO aftersales_analyst;
CREATE VIEW aftersales.kpi_open_tickets WITH (security_invoker = true) AS
SELECT b.ticket_id, b.status, b.priority, b.opened_at, b.age_hours::numeric(12,2) AS age_hours, t.region,
       t.province, t.org_id,
       t.org_name, t.org_type, b.engineer_id, e.name AS engineer_name, t.customer_tier, t.model_name,
       t.problem_name, t.channel, t.field
  FROM aftersales.backlog_as_of(aftersales.now(), aftersales.current_tenant()) b
  JOIN aftersales._kpi_ticket_dims t ON t.tenant_id = b.tenant_id AND t.ticket_id = b.ticket_id
  LEFT JOIN aftersales.engineers e ON e.tenant_id = b.tenant_id AND e.engineer_id = b.engineer_id;
COMMENT ON VIEW aftersales.kpi_open_tickets IS
  'The open (unresolved) tickets of the current tenant now, with their age: the detail list behind the backlog';
COMMENT ON COLUMN aftersales.kpi_open_tickets.ticket_id IS 'Ticket id';
COMMENT ON COLUMN aftersales.kpi_open_tickets.status IS 'State of the ticket (new, on_hold, assigned, in_progress, on_site, locked, resolved, closed, cancelled)';
COMMENT ON COLUMN aftersales.kpi_open_tickets.priority IS 'Priority: A (urgent), B or C';
COMMENT ON COLUMN aftersales.kpi_open_tickets.opened_at IS 'When the ticket was entered';
COMMENT ON COLUMN aftersales.kpi_open_tickets.age_hours IS 'Hours since entry';
COMMENT ON COLUMN aftersales.kpi_open_tickets.region IS 'Region (华东, 华北, 东北, 中南, 西北, 西南): the customer''s, else the organisation''s';
COMMENT ON COLUMN aftersales.kpi_open_tickets.province IS 'Province: the customer''s, else the organisation''s';
COMMENT ON COLUMN aftersales.kpi_open_tickets.org_id IS 'Organisation id';
COMMENT ON COLUMN aftersales.kpi_open_tickets.org_name IS 'Organisation name';
COMMENT ON COLUMN aftersales.kpi_open_tickets.org_type IS 'Organisation type: headquarters, representative_office, dealer or supplier';
COMMENT ON COLUMN aftersales.kpi_open_tickets.engineer_id IS 'Engineer id';
COMMENT ON COLUMN aftersales.kpi_open_tickets.engineer_name IS 'Engineer name';
COMMENT ON COLUMN aftersales.kpi_open_tickets.customer_tier IS 'Customer tier: key (重点客户), major or standard';
COMMENT ON COLUMN aftersales.kpi_open_tickets.model_name IS 'Product model name';
COMMENT ON COLUMN aftersales.kpi_open_tickets.problem_name IS 'Problem (fault) type name';
COMMENT ON COLUMN aftersales.kpi_open_tickets.channel IS 'Channel of the request: phone, web, app, wechat, email, walk_in, field, other';
COMMENT ON COLUMN aftersales.kpi_open_tickets.field IS 'Whether the ticket needs on-site service';
GRANT SELECT ON aftersales.kpi_open_tickets TO aftersales_admin, aftersales_manager, aftersales_agent,
    aftersales_engineer, aftersales_auditor;
GRANT SELECT ON aftersales.kpi_open_tickets TO aftersales_analyst;
CREATE OR REPLACE FUNCTION aftersales.kpi_ticket_facts(since timestamptz, until timestamptz,
                                            as_of timestamptz DEFAULT aftersales.now(),
                                            tenant bigint DEFAULT aftersales.current_tenant())
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
                   csat_score integer, csat_good integer, nps_score integer, nps_promoter integer, nps_detractor integer)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_ticket_facts',
        'SELECT * FROM aftersales.kpi_ticket_facts(''2026-01-01'', ''2026-02-01'', as_of => ''2026-02-01'');',
        NULL, NULL, NULL, since, until, as_of, 'UTC', tenant);
    RETURN QUERY
    WITH cfg AS (
        SELECT * FROM aftersales_internal.kpi_config(kpi_ticket_facts.tenant)
    ), later AS (
        -- tickets changed after as_of: what was known at as_of is rebuilt
        -- from their event log (the others' current row is that)
        SELECT t.tenant_id, t.ticket_id
          FROM aftersales.tickets t
         WHERE (kpi_ticket_facts.tenant IS NULL OR t.tenant_id = kpi_ticket_facts.tenant)
           AND t.opened_at >= kpi_ticket_facts.since AND t.opened_at < kpi_ticket_facts.until
           AND t.opened_at <= kpi_ticket_facts.as_of AND t.last_event_at > kpi_ticket_facts.as_of
    ), loop_rules AS (
        SELECT tr.from_state, tr.event, tr.to_state, tr.first_response, tr.counts_attempt, tr.supplies
          FROM aftersales.ticket_transitions() tr
    ), snap AS (
        -- the columns of the ticket row at as_of, as replay_ticket() builds
        -- them from the log
        SELECT x.tenant_id, x.ticket_id, x.status, x.priority, x.first_response_at, x.assigned_at, x.arrived_at,
               x.first_resolved_at,
               CASE WHEN x.last_resolve_seq > COALESCE(x.last_reopen_seq, 0) THEN x.last_resolve_at END AS resolved_at,
               CASE WHEN x.last_close_seq > COALESCE(x.last_reopen_seq, 0) THEN x.last_close_at END AS closed_at,
               x.attempt_count, x.reopen_count, x.csat, x.nps, x.engineer_id
          FROM (SELECT ev.tenant_id, ev.ticket_id,
                       (pg_catalog.array_agg(ev.to_state ORDER BY ev.seq DESC))[1] AS status,
                       (pg_catalog.array_agg(ev.payload ->> 'priority' ORDER BY ev.seq DESC)
                            FILTER (WHERE ev.payload ? 'priority'))[1]::aftersales.priority AS priority,
                       pg_catalog.min(ev.at) FILTER (WHERE r.first_response) AS first_response_at,
                       pg_catalog.max(ev.at) FILTER (WHERE r.supplies = 'assignee_id' AND ev.to_state = 'assigned') AS assigned_at,
                       pg_catalog.min(ev.at) FILTER (WHERE ev.event = 'arrive') AS arrived_at,
                       pg_catalog.min(ev.at) FILTER (WHERE ev.to_state = 'resolved') AS first_resolved_at,
                       pg_catalog.max(ev.seq) FILTER (WHERE ev.to_state = 'resolved') AS last_resolve_seq,
                       (pg_catalog.array_agg(ev.at ORDER BY ev.seq DESC) FILTER (WHERE ev.to_state = 'resolved'))[1] AS last_resolve_at,
                       pg_catalog.max(ev.seq) FILTER (WHERE ev.to_state = 'closed') AS last_close_seq,
                       (pg_catalog.array_agg(ev.at ORDER BY ev.seq DESC) FILTER (WHERE ev.to_state = 'closed'))[1] AS last_close_at,
                       pg_catalog.max(ev.seq) FILTER (WHERE ev.from_state IN ('resolved', 'closed') AND ev.to_state = 'new') AS last_reopen_seq,
                       pg_catalog.count(*) FILTER (WHERE r.counts_attempt)::integer AS attempt_count,
                       pg_catalog.count(*) FILTER (WHERE ev.from_state IN ('resolved', 'closed') AND ev.to_state = 'new')::integer AS reopen_count,
                       (pg_catalog.array_agg(ev.payload ->> 'csat' ORDER BY ev.seq DESC) FILTER (WHERE ev.event = 'follow_up'))[1]::smallint AS csat,
                       (pg_catalog.array_agg(ev.payload ->> 'nps' ORDER BY ev.seq DESC) FILTER (WHERE ev.event = 'follow_up'))[1]::smallint AS nps,
                       (pg_catalog.array_agg(CASE WHEN ev.to_state IN ('new', 'locked') THEN NULL ELSE (ev.payload ->> 'assignee')::bigint END
                                             ORDER BY ev.seq DESC)
                            FILTER (WHERE ev.payload ? 'assignee' OR ev.to_state IN ('new', 'locked')))[1] AS engineer_id
                  FROM later l
                  JOIN aftersales.ticket_events ev ON ev.tenant_id = l.tenant_id AND ev.ticket_id = l.ticket_id
                  LEFT JOIN loop_rules r
                    ON r.from_state IS NOT DISTINCT FROM ev.from_state AND r.event = ev.event AND r.to_state = ev.to_state
                 WHERE ev.at <= kpi_ticket_facts.as_of
                 GROUP BY ev.tenant_id, ev.ticket_id) x
    ), base AS (
        SELECT k.tenant_id, k.tenant_name, k.ticket_id, k.opened_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.status ELSE sn.status::text END AS status,
               CASE WHEN sn.ticket_id IS NULL THEN k.priority ELSE COALESCE(sn.priority::text, k.priority) END AS priority,
               k.channel, k.field, k.customer_id, k.customer_tier, k.region, k.province, k.org_id, k.org_name,
               k.org_type, k.unit_id, k.model_id, k.model_name, k.problem_type_id, k.problem_name,
               CASE WHEN sn.ticket_id IS NULL THEN k.engineer_id ELSE sn.engineer_id END AS engineer_id,
               CASE WHEN sn.ticket_id IS NULL THEN k.engineer_name ELSE se.name END AS engineer_name,
               k.requested_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.first_response_at ELSE sn.first_response_at END AS first_response_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.assigned_at ELSE sn.assigned_at END AS assigned_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.arrived_at ELSE sn.arrived_at END AS arrived_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.first_resolved_at ELSE sn.first_resolved_at END AS first_resolved_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.resolved_at ELSE sn.resolved_at END AS resolved_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.closed_at ELSE sn.closed_at END AS closed_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.attempt_count ELSE sn.attempt_count END AS attempt_count,
               CASE WHEN sn.ticket_id IS NULL THEN k.reopen_count ELSE sn.reopen_count END AS reopen_count,
               CASE WHEN sn.ticket_id IS NULL THEN k.csat ELSE sn.csat END AS csat,
               CASE WHEN sn.ticket_id IS NULL THEN k.nps ELSE sn.nps END AS nps,
               g.response_target, g.arrival_target, g.completion_target, g.csat_good_min
          FROM aftersales._kpi_ticket_dims k
          JOIN cfg g ON g.tenant_id = k.tenant_id
          LEFT JOIN snap sn ON sn.tenant_id = k.tenant_id AND sn.ticket_id = k.ticket_id
          LEFT JOIN aftersales.engineers se ON se.tenant_id = sn.tenant_id AND se.engineer_id = sn.engineer_id
         WHERE (kpi_ticket_facts.tenant IS NULL OR k.tenant_id = kpi_ticket_facts.tenant)
           AND k.opened_at >= kpi_ticket_facts.since AND k.opened_at < kpi_ticket_facts.until
           AND k.opened_at <= kpi_ticket_facts.as_of
    ), facts AS (
        SELECT b.*, b.status = 'cancelled' AS is_cancelled
          FROM base b
    ), clocks AS (
        -- one row per ticket: its policy and the state of its three clocks
        SELECT s.tenant_id, s.ticket_id, pg_catalog.min(s.policy_id) AS policy_id,
               pg_catalog.min(CASE WHEN s.stopped_at <= kpi_ticket_facts.as_of THEN s.outcome ELSE 'running' END)
                   FILTER (WHERE s.metric = 'first_response') AS fr,
               pg_catalog.min(CASE WHEN s.stopped_at <= kpi_ticket_facts.as_of THEN s.outcome ELSE 'running' END)
                   FILTER (WHERE s.metric = 'arrival') AS arr,
               pg_catalog.min(CASE WHEN s.stopped_at <= kpi_ticket_facts.as_of THEN s.outcome ELSE 'running' END)
                   FILTER (WHERE s.metric = 'resolution') AS res,
               pg_catalog.min(s.due_at) FILTER (WHERE s.metric = 'resolution') AS res_due
          FROM aftersales.ticket_sla s
         WHERE (kpi_ticket_facts.tenant IS NULL OR s.tenant_id = kpi_ticket_facts.tenant)
           AND s.started_at >= kpi_ticket_facts.since AND s.started_at < kpi_ticket_facts.until
         GROUP BY s.tenant_id, s.ticket_id
    ), repeats AS (
        -- the previous ticket of the same unit and problem type, not cancelled
        SELECT r.tenant_id, r.ticket_id, r.gap <= g.repeat_window AS is_repeat
          FROM (SELECT t.tenant_id, t.ticket_id, t.opened_at,
                       t.opened_at - pg_catalog.lag(t.opened_at) OVER (
                           PARTITION BY t.tenant_id, t.unit_id, t.problem_type_id
                           ORDER BY t.opened_at, t.ticket_id) AS gap
                  FROM aftersales.tickets t
                 WHERE (kpi_ticket_facts.tenant IS NULL OR t.tenant_id = kpi_ticket_facts.tenant)
                   AND t.unit_id IS NOT NULL AND t.status <> 'cancelled'
                   AND t.opened_at < kpi_ticket_facts.until AND t.opened_at <= kpi_ticket_facts.as_of
                   AND t.opened_at >= kpi_ticket_facts.since - (SELECT pg_catalog.max(c2.repeat_window) FROM cfg c2)) r
          JOIN cfg g ON g.tenant_id = r.tenant_id
         WHERE r.opened_at >= kpi_ticket_facts.since
    ), revisited AS (
        -- tickets with more than one arrival on site (an arrival is never
        -- earlier than the ticket's entry)
        SELECT ev.tenant_id, ev.ticket_id
          FROM aftersales.ticket_events ev
         WHERE (kpi_ticket_facts.tenant IS NULL OR ev.tenant_id = kpi_ticket_facts.tenant)
           AND ev.event = 'arrive' AND ev.at >= kpi_ticket_facts.since AND ev.at <= kpi_ticket_facts.as_of
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
                 WHERE r.reopen_count > 0 AND r.resolved_at IS NOT NULL AND ev.at <= kpi_ticket_facts.as_of) w
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
                WHEN j.opened_at < kpi_ticket_facts.as_of - j.response_target THEN 0 END,
           -- arrival (field tickets)
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM j.arrived_at - j.opened_at) / 60 END,
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.opened_at, j.arrived_at)) / 60 END,
           CASE WHEN j.is_cancelled OR NOT j.field THEN NULL
                WHEN j.arrived_at IS NOT NULL THEN (j.arrived_at <= j.opened_at + j.arrival_target)::integer
                WHEN j.first_resolved_at IS NOT NULL THEN NULL
                WHEN j.opened_at < kpi_ticket_facts.as_of - j.arrival_target THEN 0 END,
           -- resolution (the final one)
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM j.resolved_at - j.opened_at) / 60 END,
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.opened_at, j.resolved_at)) / 60 END,
           CASE WHEN j.is_cancelled THEN NULL
                WHEN j.resolved_at IS NOT NULL THEN (j.resolved_at <= j.opened_at + j.completion_target)::integer
                WHEN j.opened_at < kpi_ticket_facts.as_of - j.completion_target THEN 0 END,
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
                WHEN kpi_ticket_facts.as_of > j.promise THEN 0 END,
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
           CASE WHEN NOT j.is_cancelled THEN (j.nps <= 6)::integer END
      FROM judged j
      LEFT JOIN idle i ON i.tenant_id = j.tenant_id AND i.ticket_id = j.ticket_id;
END
$$;
SELECT aftersales_internal.apply_row_security();

-- ---------------------------------------------------------------------------
-- kpi_backlog: the mean age and the counts over 24 ... 120 hours from the exact
-- ages (backlog_as_of rounds each to 0.01 h).
CREATE OR REPLACE FUNCTION aftersales.kpi_backlog(dimension text DEFAULT 'organisation_type',
                                       as_of timestamptz DEFAULT aftersales.now(),
                                       tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (dim_key text, dim_name text, open_tickets bigint, unassigned bigint, on_hold bigint,
                   in_work bigint, over_24h bigint, over_48h bigint, over_72h bigint, over_96h bigint,
                   over_120h bigint, avg_age_hours numeric, max_age_hours numeric)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    d record;
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_backlog',
        'SELECT * FROM aftersales.kpi_backlog(''organisation_type'', as_of => ''2026-03-01 00:00+08'');',
        NULL, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        NULL, NULL, as_of, 'UTC', tenant);
    d := aftersales_internal.kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS dim_key, pg_catalog.max(%2$s) AS dim_name,
       pg_catalog.count(*),
       pg_catalog.count(*) FILTER (WHERE k.status IN ('new', 'locked')),
       pg_catalog.count(*) FILTER (WHERE k.status = 'on_hold'),
       pg_catalog.count(*) FILTER (WHERE k.status IN ('assigned', 'in_progress', 'on_site')),
       pg_catalog.count(*) FILTER (WHERE k.exact_age_hours > 24),
       pg_catalog.count(*) FILTER (WHERE k.exact_age_hours > 48),
       pg_catalog.count(*) FILTER (WHERE k.exact_age_hours > 72),
       pg_catalog.count(*) FILTER (WHERE k.exact_age_hours > 96),
       pg_catalog.count(*) FILTER (WHERE k.exact_age_hours > 120),
       pg_catalog.round(pg_catalog.avg(k.exact_age_hours), 2),
       pg_catalog.max(k.age_hours)
  FROM (SELECT b.tenant_id, b.ticket_id, b.status, b.priority, b.engineer_id, b.age_hours,
               -- backlog_as_of rounds each age to 0.01 h: the mean and the
               -- thresholds take the exact age
               EXTRACT(EPOCH FROM $2 - b.opened_at) / 3600 AS exact_age_hours,
               t.tenant_name, t.region, t.province, t.org_id, t.org_name, t.org_type, t.model_id,
               t.model_name, t.problem_type_id, t.problem_name, t.channel, be.name AS engineer_name
          FROM aftersales.backlog_as_of($2, $1) b
          JOIN aftersales._kpi_ticket_dims t ON t.tenant_id = b.tenant_id AND t.ticket_id = b.ticket_id
          LEFT JOIN aftersales.engineers be ON be.tenant_id = b.tenant_id AND be.engineer_id = b.engineer_id) k
 GROUP BY 1) q
 ORDER BY %3$s$q$, d.key_sql, d.name_sql, d.order_sql)
    USING tenant, as_of;
END
$$;

-- ---------------------------------------------------------------------------
-- The closed value lists declared once: ticket channels as enum type
-- aftersales.ticket_channel, watched clocks as aftersales.sla_metric plus
-- ticket; open_ticket, open_tickets, the tickets row check and the CHECK of
-- alerts read them (aftersales_internal.value_listed, value_list,
-- is_watch_clock).
CREATE TYPE aftersales.ticket_channel AS ENUM ('phone', 'web', 'app', 'wechat', 'email', 'walk_in', 'field', 'other');
COMMENT ON TYPE aftersales.ticket_channel IS
  'How a request can come in: the values tickets.channel and open_ticket accept';

CREATE FUNCTION aftersales_internal.value_listed(list regtype, value text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_value_listed' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales_internal.value_listed(regtype, text) IS
  'Internal: whether value is a label of enum type list (a declared value list)';
CREATE FUNCTION aftersales_internal.value_list(list regtype) RETURNS text
    AS 'MODULE_PATHNAME', 'aftersales_value_list' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales_internal.value_list(regtype) IS
  'Internal: the labels of enum type list in order, for a hint: "a, b and c"';
CREATE FUNCTION aftersales_internal.is_watch_clock(clock text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_is_watch_clock' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales_internal.is_watch_clock(text) IS
  'Internal: whether clock names what a watch or alert is about: a label of aftersales.sla_metric, or ticket';
REVOKE ALL ON FUNCTION aftersales_internal.value_listed(regtype, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.value_list(regtype) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.is_watch_clock(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aftersales_internal.value_listed(regtype, text), aftersales_internal.value_list(regtype),
    aftersales_internal.is_watch_clock(text) TO PUBLIC;
COMMENT ON COLUMN aftersales.tickets.channel IS 'How the request came in: a label of aftersales.ticket_channel';
ALTER TABLE aftersales.alerts DROP CONSTRAINT alerts_clock_check,
    ADD CONSTRAINT alerts_clock_check CHECK (aftersales_internal.is_watch_clock(clock));

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

CREATE OR REPLACE FUNCTION aftersales.open_tickets(tickets jsonb, reason text DEFAULT NULL,
                                        actor text DEFAULT aftersales.actor(),
                                        at timestamptz DEFAULT aftersales.now())
    RETURNS SETOF bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    opened timestamptz := COALESCE(at, aftersales.now());
BEGIN
    IF tickets IS NULL OR pg_catalog.jsonb_typeof(tickets) OPERATOR(pg_catalog.<>) 'array' THEN
        RAISE EXCEPTION 'tickets must be a JSON array'
            USING ERRCODE = '22023',
                  HINT = 'For example: SELECT aftersales.open_tickets(''[{"customer": 7, "problem_type": 3, "priority": "B", "description": "no power"}]'');';
    END IF;
    PERFORM aftersales_internal.declare_event('open', COALESCE(NULLIF(actor, ''), aftersales.actor()), opened,
                                      NULLIF(pg_catalog.btrim(reason), ''));
    RETURN QUERY
    INSERT INTO aftersales.tickets AS tk (tenant_id, channel, customer_id, unit_id, model_id, problem_type_id,
                                          description, priority, requested_at, org_id, field, status, opened_at)
    SELECT tenant,
           CASE WHEN aftersales_internal.value_listed('aftersales.ticket_channel', COALESCE(x.channel, 'phone'))
                THEN COALESCE(x.channel, 'phone')
                ELSE aftersales_internal.bad_item(x.item, pg_catalog.format('invalid channel "%s"', x.channel))::text END,
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
    PERFORM aftersales_internal.declare_event(NULL, NULL, NULL, NULL);
END
$$;

SELECT aftersales_internal.apply_row_security();

-- ---------------------------------------------------------------------------
-- generate_sample_data in named steps (aftersales_internal.sample_*),
-- behaviour and data unchanged.
CREATE FUNCTION aftersales_internal.sample_organisations(tid bigint) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- geography: the six regions, 31 provinces and their weights (share of
    -- customers, hence of units and failures)
    CREATE TEMP TABLE sample_geo ON COMMIT DROP AS
    SELECT g.ord, g.region, g.province, g.weight, g.remote
      FROM (VALUES ( 1, '华东', '上海', 4.0, false), ( 2, '华东', '江苏', 8.0, false), ( 3, '华东', '浙江', 7.0, false),
                   ( 4, '华东', '安徽', 3.0, false), ( 5, '华东', '福建', 3.0, false), ( 6, '华东', '江西', 2.0, false),
                   ( 7, '华东', '山东', 6.0, false), ( 8, '华北', '北京', 4.0, false), ( 9, '华北', '天津', 2.0, false),
                   (10, '华北', '河北', 4.0, false), (11, '华北', '山西', 2.0, false), (12, '华北', '内蒙古', 1.0, true),
                   (13, '东北', '辽宁', 3.0, false), (14, '东北', '吉林', 1.5, false), (15, '东北', '黑龙江', 1.5, false),
                   (16, '中南', '河南', 5.0, false), (17, '中南', '湖北', 4.0, false), (18, '中南', '湖南', 3.0, false),
                   (19, '中南', '广东', 11.0, false), (20, '中南', '广西', 2.0, false), (21, '中南', '海南', 1.0, false),
                   (22, '西北', '陕西', 3.0, false), (23, '西北', '甘肃', 1.5, true), (24, '西北', '青海', 0.5, true),
                   (25, '西北', '宁夏', 0.5, true), (26, '西北', '新疆', 2.0, true), (27, '西南', '重庆', 3.0, false),
                   (28, '西南', '四川', 5.0, false), (29, '西南', '贵州', 1.5, false), (30, '西南', '云南', 2.0, false),
                   (31, '西南', '西藏', 0.5, true))
           AS g (ord, region, province, weight, remote);

    -- organisations: HQ, regions, provinces (代表处), outlets
    INSERT INTO aftersales.organisations (tenant_id, level, org_type, name) VALUES (tid, 'hq', 'headquarters', '总部');
    INSERT INTO aftersales.organisations (tenant_id, parent_id, level, org_type, name, region)
    SELECT tid, (SELECT o.org_id FROM aftersales.organisations o WHERE o.tenant_id = tid AND o.level = 'hq'),
           'region', 'representative_office', rg.region || '大区', rg.region
      FROM (SELECT g.region, pg_catalog.min(g.ord) AS ord FROM pg_temp.sample_geo g GROUP BY g.region) rg
     ORDER BY rg.ord;
    INSERT INTO aftersales.organisations (tenant_id, parent_id, level, org_type, name, province)
    SELECT tid, o.org_id, 'province', 'representative_office', g.province || '代表处', g.province
      FROM pg_temp.sample_geo g
      JOIN aftersales.organisations o ON o.tenant_id = tid AND o.level = 'region'
                                     AND o.region = g.region
     ORDER BY g.ord;
    CREATE TEMP TABLE sample_outlets ON COMMIT DROP AS
    SELECT g.ord, g.province, g.weight, x.k, x.org_type, x.name, NULL::bigint AS org_id,
           1 + LEAST(4, 1 + pg_catalog.floor(g.weight / 3)::integer) AS serving,
           pg_catalog.count(*) OVER (PARTITION BY g.ord) AS outlets
      FROM pg_temp.sample_geo g
     CROSS JOIN LATERAL (
           SELECT 1 AS k, 'representative_office' AS org_type, g.province || '服务站' AS name
           UNION ALL
           SELECT 1 + d, 'dealer',
                  g.province || ('{东,西,南,北}'::text[])[d] || '区经销商'
             FROM pg_catalog.generate_series(1, LEAST(4, 1 + pg_catalog.floor(g.weight / 3)::integer)) d
           UNION ALL
           SELECT 6, 'supplier', g.province || '供应商服务点' WHERE g.weight >= 3) x;
    INSERT INTO aftersales.organisations (tenant_id, parent_id, level, org_type, name)
    SELECT tid, o.org_id, 'outlet', so.org_type, so.name
      FROM pg_temp.sample_outlets so
      JOIN aftersales.organisations o ON o.tenant_id = tid AND o.level = 'province'
                                     AND o.province = so.province
     ORDER BY so.ord, so.k;
    ANALYZE pg_temp.sample_outlets;
    UPDATE pg_temp.sample_outlets so SET org_id = o.org_id
      FROM aftersales.organisations o
     WHERE o.tenant_id = tid AND o.name = so.name;

END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_organisations(bigint) IS
  'Internal step of generate_sample_data: the geography (temporary table sample_geo), headquarters, regions, provinces and outlets (sample_outlets)';

CREATE FUNCTION aftersales_internal.sample_engineers(tid bigint, s integer, n integer) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    w_total float8;
BEGIN
    SELECT pg_catalog.sum(g.weight) INTO w_total FROM pg_temp.sample_geo g;
    -- engineers: about n / 400, at least 60, spread over the outlets by
    -- province weight
    INSERT INTO aftersales.engineers (tenant_id, org_id, name, login, skills, region, capacity, phone)
    SELECT tid, e.org_id,
           ('{王,李,张,刘,陈,杨,黄,赵,吴,周,徐,孙,马,朱,胡,郭,何,高,林,罗}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, e.g, 101) * 20)::integer]
           ||
           ('{伟,芳,娜,敏,静,强,磊,军,洋,勇,杰,涛,明,超,霞,平,刚,桂英,建华,志强,海燕,晓东,国平,文博}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, e.g, 102) * 24)::integer],
           'eng' || pg_catalog.lpad(e.g::text, 5, '0'),
           pg_catalog.array_remove(ARRAY[
               ('{CMP,CHL,HP}'::text[])[1 + (e.g % 3)::integer],
               CASE WHEN aftersales_internal.sample_u(s, e.g, 103) < 0.5
                    THEN ('{CMP,CHL,HP}'::text[])[1 + ((e.g + 1) % 3)::integer] END,
               CASE WHEN aftersales_internal.sample_u(s, e.g, 104) < 0.6 THEN 'electrical' END,
               CASE WHEN aftersales_internal.sample_u(s, e.g, 105) < 0.4 THEN 'refrigeration' END], NULL),
           e.region,
           6 + pg_catalog.floor(aftersales_internal.sample_u(s, e.g, 106) * 7)::integer,
           '139' || pg_catalog.lpad(pg_catalog.floor(aftersales_internal.sample_u(s, e.g, 107) * 100000000)::bigint::text, 8, '0')
      FROM (SELECT so.org_id, g.region, pg_catalog.row_number() OVER (ORDER BY so.ord, so.k, j.j) AS g
              FROM pg_temp.sample_outlets so
              JOIN pg_temp.sample_geo g ON g.ord = so.ord
             CROSS JOIN LATERAL pg_catalog.generate_series(1, GREATEST(1, pg_catalog.round(
                   GREATEST(60, n / 400) * so.weight
                   / w_total / so.outlets)::integer)) j (j)) e
     ORDER BY e.g;
    CREATE TEMP TABLE sample_org_engineers ON COMMIT DROP AS
    SELECT e.org_id, pg_catalog.array_agg(e.engineer_id ORDER BY e.engineer_id) AS engs,
           pg_catalog.array_agg(e.login ORDER BY e.engineer_id) AS logins
      FROM aftersales.engineers e WHERE e.tenant_id = tid GROUP BY e.org_id;

END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_engineers(bigint, integer, integer) IS
  'Internal step of generate_sample_data: about n / 400 engineers over the outlets by province weight (sample_org_engineers)';

CREATE FUNCTION aftersales_internal.sample_customers(tid bigint, s integer, n integer, yr integer, y0 date) RETURNS float8[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    w_total float8;
    cstarts float8[];
BEGIN
    SELECT pg_catalog.sum(g.weight) INTO w_total FROM pg_temp.sample_geo g;
    -- customers: about n / 10, at least 400, by province weight
    CREATE TEMP TABLE sample_customers ON COMMIT DROP AS
    SELECT c.g, c.ord, c.province, c.region, c.tier,
           CASE WHEN c.tier = 'key' THEN c.station ELSE c.dealer END AS org_id,
           CASE c.tier WHEN 'key' THEN 3.0 WHEN 'major' THEN 1.5 ELSE 1.0 END::float8 AS w,
           NULL::bigint AS customer_id
      FROM (SELECT x.g, x.ord, x.province, x.region,
                   CASE WHEN aftersales_internal.sample_u(s, x.g, 201) < 0.05 THEN 'key'
                        WHEN aftersales_internal.sample_u(s, x.g, 201) < 0.20 THEN 'major'
                        ELSE 'standard' END AS tier,
                   (SELECT so.org_id FROM pg_temp.sample_outlets so WHERE so.ord = x.ord AND so.k = 1) AS station,
                   (SELECT so.org_id FROM pg_temp.sample_outlets so
                     WHERE so.ord = x.ord
                       AND so.k = 1 + pg_catalog.floor(aftersales_internal.sample_u(s, x.g, 202) * so.serving)::integer) AS dealer
              FROM (SELECT g.ord, g.province, g.region, pg_catalog.row_number() OVER (ORDER BY g.ord, j.j) AS g
                      FROM pg_temp.sample_geo g
                     CROSS JOIN LATERAL pg_catalog.generate_series(1, GREATEST(2, pg_catalog.round(
                           GREATEST(400, n / 10) * g.weight / w_total)::integer)) j (j)) x) c;
    WITH named AS (
        SELECT c.g, c.province ||
               ('{华,盛,鑫,宏,恒,泰,达,丰,远,新,金,通,隆,海,嘉,正,永,东,瑞,安}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, c.g, 203) * 20)::integer]
               ||
               ('{机械,电子,食品,医药,化工,纺织,物流,能源,建材,汽配,酒店,医院}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, c.g, 204) * 12)::integer]
               || '有限公司' AS name
          FROM pg_temp.sample_customers c
    )
    INSERT INTO aftersales.customers (tenant_id, name, tier, region, province, org_id, contact_name, contact_phone)
    SELECT tid,
           CASE WHEN k.dup = 1 THEN k.name ELSE k.name || '第' || k.dup || '分公司' END,
           c.tier, c.region, c.province, c.org_id,
           ('{王,李,张,刘,陈,杨,黄,赵,吴,周}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, c.g, 205) * 10)::integer]
               || '经理',
           '138' || pg_catalog.lpad(pg_catalog.floor(aftersales_internal.sample_u(s, c.g, 206) * 100000000)::bigint::text, 8, '0')
      FROM pg_temp.sample_customers c
      JOIN (SELECT nm.g, nm.name, pg_catalog.row_number() OVER (PARTITION BY nm.name ORDER BY nm.g) AS dup FROM named nm) k
        ON k.g = c.g
     ORDER BY c.g;
    ANALYZE pg_temp.sample_customers;
    UPDATE pg_temp.sample_customers c SET customer_id = x.customer_id
      FROM (SELECT cu.customer_id, pg_catalog.row_number() OVER (ORDER BY cu.customer_id) AS g
              FROM aftersales.customers cu WHERE cu.tenant_id = tid) x
     WHERE x.g = c.g;
    SELECT pg_catalog.array_agg(c.start ORDER BY c.g) INTO cstarts
      FROM (SELECT sc.g, (pg_catalog.sum(sc.w) OVER (ORDER BY sc.g) - sc.w)
                         / pg_catalog.sum(sc.w) OVER () AS start
              FROM pg_temp.sample_customers sc) c;
    -- key customers have a 24x7 service agreement (服务协议)
    INSERT INTO aftersales.service_agreements (tenant_id, customer_id, policy_id, name, valid, terms, service_items, charging)
    SELECT tid, c.customer_id, p.policy_id,
           pg_catalog.format('SA-%s-%s', yr, pg_catalog.lpad(c.g::text, 5, '0')),
           pg_catalog.daterange((y0 - 365), (y0 + 730)),
           '7x24 小时响应，重点客户专属工程师', '{上门维修,定期巡检,备件优先}', '年度服务费，备件另计'
      FROM pg_temp.sample_customers c
      JOIN aftersales.sla_policies p ON p.tenant_id = tid AND p.name = 'key-account'
     WHERE c.tier = 'key'
     ORDER BY c.g;

    RETURN cstarts;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_customers(bigint, integer, integer, integer, date) IS
  'Internal step of generate_sample_data: about n / 10 customers by province weight (sample_customers), the key customers service agreements; returns the customers cumulative weights';

CREATE FUNCTION aftersales_internal.sample_products(tid bigint, s integer, n integer, yr integer, cstarts float8[]) RETURNS float8[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    mstarts float8[];
BEGIN
    -- products: 3 lines, 10 models (install share, failure weight)
    INSERT INTO aftersales.product_lines (tenant_id, code, name, description)
    VALUES (tid, 'CMP', '商用压缩机', 'Commercial compressors'),
           (tid, 'CHL', '冷水机组', 'Water chillers'),
           (tid, 'HP', '空气源热泵', 'Air-source heat pumps');
    CREATE TEMP TABLE sample_models ON COMMIT DROP AS
    SELECT m.midx, m.line, m.code, m.name, m.warranty, m.launch, m.share, m.fail,
           (pg_catalog.make_date(yr + 1, 1, 1) - m.launch) AS span,
           NULL::bigint AS model_id, 0 AS units
      FROM (VALUES ( 1, 'CMP', 'CMP-110', '涡旋压缩机 110', 24, pg_catalog.make_date(yr - 4, 1, 1), 14.0, 10.0),
                   ( 2, 'CMP', 'CMP-220', '螺杆压缩机 220', 24, pg_catalog.make_date(yr - 4, 1, 1), 12.0, 22.0),
                   ( 3, 'CMP', 'CMP-350', '螺杆压缩机 350', 36, pg_catalog.make_date(yr - 3, 1, 1),  8.0,  6.0),
                   ( 4, 'CHL', 'CHL-50',  '风冷冷水机组 50RT', 12, pg_catalog.make_date(yr - 4, 1, 1), 12.0,  9.0),
                   ( 5, 'CHL', 'CHL-80',  '风冷冷水机组 80RT', 12, pg_catalog.make_date(yr - 4, 1, 1), 10.0,  8.0),
                   ( 6, 'CHL', 'CHL-120X', '水冷冷水机组 120RT', 24, pg_catalog.make_date(yr - 2, 1, 1),  8.0, 20.0),
                   ( 7, 'HP',  'HP-10',   '热泵 10P', 12, pg_catalog.make_date(yr - 4, 1, 1), 12.0,  6.0),
                   ( 8, 'HP',  'HP-16',   '热泵 16P', 12, pg_catalog.make_date(yr - 3, 1, 1), 10.0,  5.0),
                   ( 9, 'HP',  'HP-20N',  '变频热泵 20P（新品）', 24, pg_catalog.make_date(yr - 1, 7, 1),  8.0, 12.0),
                   (10, 'HP',  'HP-30',   '热泵 30P', 36, pg_catalog.make_date(yr - 2, 1, 1),  6.0,  2.0))
           AS m (midx, line, code, name, warranty, launch, share, fail);
    INSERT INTO aftersales.product_models (tenant_id, product_line_id, code, name, warranty_months)
    SELECT tid, l.product_line_id, m.code, m.name, m.warranty
      FROM pg_temp.sample_models m
      JOIN aftersales.product_lines l ON l.tenant_id = tid AND l.code = m.line
     ORDER BY m.midx;
    UPDATE pg_temp.sample_models m
       SET model_id = pm.model_id,
           units = GREATEST(5, pg_catalog.round(GREATEST(1000, n / 3) * m.share / 100)::integer)
      FROM aftersales.product_models pm
     WHERE pm.tenant_id = tid AND pm.code = m.code;
    SELECT pg_catalog.array_agg(x.start ORDER BY x.midx) INTO mstarts
      FROM (SELECT m.midx, (pg_catalog.sum(m.fail) OVER (ORDER BY m.midx) - m.fail)
                           / pg_catalog.sum(m.fail) OVER () AS start
              FROM pg_temp.sample_models m) x;

    -- installed units: unit r of a model was installed at launch + span *
    -- (r - 0.5) / units, so that how many were installed by a date is known
    -- in closed form when a ticket picks one
    CREATE TEMP TABLE sample_units ON COMMIT DROP AS
    SELECT x.*, x.code || '-' || pg_catalog.to_char(x.installed_on, 'YYMM') || pg_catalog.lpad(x.r::text, 6, '0') AS serial
      FROM (
    SELECT m.midx, rr.r, c.customer_id, c.org_id, c.tier, m.code, m.warranty, m.model_id,
           m.launch + pg_catalog.floor(m.span * (rr.r - 0.5) / m.units)::integer AS installed_on,
           NULL::bigint AS unit_id
      FROM pg_temp.sample_models m
     CROSS JOIN LATERAL pg_catalog.generate_series(1, m.units) rr (r)
      JOIN pg_temp.sample_customers c
        ON c.g = pg_catalog.width_bucket(aftersales_internal.sample_u(s, m.midx::bigint * 10000000 + rr.r, 301), cstarts)) x;
    ANALYZE pg_temp.sample_units;
    INSERT INTO aftersales.units (tenant_id, model_id, customer_id, serial, installed_on, warranty_ends, org_id)
    SELECT tid, su.model_id, su.customer_id, su.serial, su.installed_on,
           CASE WHEN su.tier = 'key'   -- key customers buy a year more
                THEN (su.installed_on + pg_catalog.make_interval(months => su.warranty + 12))::date - 1 END,
           su.org_id
      FROM pg_temp.sample_units su
     ORDER BY su.midx, su.r;
    UPDATE pg_temp.sample_units su SET unit_id = un.unit_id
      FROM aftersales.units un
     WHERE un.tenant_id = tid AND un.model_id = su.model_id AND un.serial = su.serial;
    CREATE INDEX ON pg_temp.sample_units (midx, r);
    ANALYZE pg_temp.sample_units;

    RETURN mstarts;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_products(bigint, integer, integer, integer, float8[]) IS
  'Internal step of generate_sample_data: product lines, models (sample_models) and installed units (sample_units); returns the models cumulative failure weights';

CREATE FUNCTION aftersales_internal.sample_problem_types(tid bigint) RETURNS float8[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pstarts float8[];
BEGIN
    -- fault types (weight, share needing on-site service)
    CREATE TEMP TABLE sample_problems ON COMMIT DROP AS
    SELECT p.pidx, p.code, p.name, p.weight, p.field, NULL::bigint AS problem_type_id
      FROM (VALUES ( 1, 'E01', '不制冷/不制热', 22.0, 0.85), ( 2, 'E02', '异响振动', 14.0, 0.85),
                   ( 3, 'E03', '漏水漏氟', 12.0, 0.85), ( 4, 'E04', '无法启动', 11.0, 0.85),
                   ( 5, 'E05', '控制板故障', 10.0, 0.85), ( 6, 'E06', '电气故障', 9.0, 0.85),
                   ( 7, 'E07', '传感器报警', 8.0, 0.85), ( 8, 'E08', '参数设置问题', 6.0, 0.25),
                   ( 9, 'E09', '安装调试', 5.0, 0.85), (10, 'E10', '操作咨询', 3.0, 0.05))
           AS p (pidx, code, name, weight, field);
    INSERT INTO aftersales.problem_types (tenant_id, code, name, kind)
    SELECT tid, p.code, p.name,
           CASE p.code WHEN 'E08' THEN 'parameter_setting' WHEN 'E09' THEN 'installation'
                       WHEN 'E10' THEN 'consultation' ELSE 'fault' END
      FROM pg_temp.sample_problems p ORDER BY p.pidx;
    UPDATE pg_temp.sample_problems p SET problem_type_id = pt.problem_type_id
      FROM aftersales.problem_types pt
     WHERE pt.tenant_id = tid AND pt.code = p.code;
    SELECT pg_catalog.array_agg(x.start ORDER BY x.pidx) INTO pstarts
      FROM (SELECT p.pidx, (pg_catalog.sum(p.weight) OVER (ORDER BY p.pidx) - p.weight)
                           / pg_catalog.sum(p.weight) OVER () AS start
              FROM pg_temp.sample_problems p) x;

    RETURN pstarts;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_problem_types(bigint) IS
  'Internal step of generate_sample_data: the fault types (sample_problems); returns their cumulative weights';

CREATE FUNCTION aftersales_internal.sample_ticket_plan(n integer, y0 date, ndays integer, sb bigint, cstarts float8[], mstarts float8[], pstarts float8[]) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- the sample's own shares, in this order (the draws depend on it);
    -- every label is one of aftersales.ticket_channel
    chstarts constant float8[] := '{0,0.38,0.58,0.72,0.82,0.87,0.93,0.97}'::float8[];
    channels constant text[] := '{phone,wechat,app,web,email,field,walk_in,other}'::text[];
BEGIN
    -- the tickets: entry and what they are about, set-based
    CREATE TEMP TABLE sample_plan ON COMMIT DROP AS
    WITH d AS (
        SELECT i.i,
               ARRAY(SELECT LEAST(GREATEST((pg_catalog.hashint8extended(i.i, sb + k) & 9007199254740991)::float8
                                           / 9007199254740992.0, 1e-9), 1 - 1e-9)
                       FROM pg_catalog.generate_series(1, 16) k) AS u
          FROM pg_catalog.generate_series(1, n) i (i)
    ), e AS (
        SELECT d.i, d.u, x.day, y0 + x.day AS entry_date,
               ((y0 + x.day)::timestamp
                 + pg_catalog.make_interval(
                     mins => CASE WHEN d.u[2] < 0.87
                                  THEN 480 + pg_catalog.floor(d.u[3] * 720)::integer
                                  ELSE pg_catalog.floor(d.u[3] * 1440)::integer END,
                     secs => pg_catalog.floor(d.u[4] * 60)))
                 AT TIME ZONE 'Asia/Shanghai' AS opened_at,
               pg_catalog.width_bucket(d.u[5], mstarts) AS midx,
               pg_catalog.width_bucket(d.u[9], pstarts) AS pidx
          FROM d
         CROSS JOIN LATERAL (
               SELECT LEAST(ndays - 1, pg_catalog.floor(ndays * (x0 + 0.3 / (2 * pg_catalog.pi())
                             * pg_catalog.sin(2 * pg_catalog.pi() * x0)))::integer) AS day
                 FROM (SELECT (d.i - 1 + d.u[1]) / n AS x0) z) x
    ), pick AS (
        SELECT e.*, m.code AS model_code, m.model_id, m.name AS model_name, m.units,
               LEAST(m.units, GREATEST(0, pg_catalog.floor(m.units * (e.entry_date - m.launch)::float8
                                                           / m.span + 0.5)::integer)) AS rmax,
               LEAST(m.units, GREATEST(0, pg_catalog.floor(m.units * (e.entry_date - 80 - m.launch)::float8
                                                           / m.span + 0.5)::integer)) AS rearly,
               e.u[6] < CASE WHEN m.code = 'HP-20N' THEN 0.35 ELSE 0.08 END AS early
          FROM e JOIN pg_temp.sample_models m ON m.midx = e.midx
    ), unit_pick AS (
        SELECT p.*,
               CASE WHEN p.u[7] < 0.03 OR p.rmax < 1 THEN NULL
                    WHEN p.early AND p.rmax > p.rearly
                    THEN p.rearly + 1 + pg_catalog.floor(p.u[8] * (p.rmax - p.rearly))::integer
                    ELSE 1 + pg_catalog.floor(p.u[8] * p.rmax)::integer END AS r
          FROM pick p
    )
    SELECT up.i, up.opened_at, up.model_id, up.model_code, su.unit_id,
           COALESCE(su.customer_id, c.customer_id) AS customer_id,
           COALESCE(cs.tier, c.tier) AS tier,
           g.province, g.remote,
           CASE WHEN m.line = 'HP' AND up.u[15] < 0.4 AND sup.org_id IS NOT NULL
                THEN sup.org_id ELSE COALESCE(cs.org_id, c.org_id) END AS org_id,
           pr.problem_type_id,
           CASE WHEN COALESCE(cs.tier, c.tier) = 'key'
                THEN CASE WHEN up.u[10] < 0.30 THEN 'A' WHEN up.u[10] < 0.75 THEN 'B' ELSE 'C' END
                ELSE CASE WHEN up.u[10] < 0.10 THEN 'A' WHEN up.u[10] < 0.45 THEN 'B' ELSE 'C' END
           END::aftersales.priority AS priority,
           channels[pg_catalog.width_bucket(up.u[11], chstarts)] AS channel,
           up.u[12] < pr.field AS field,
           CASE WHEN up.u[13] < 0.35
                THEN up.opened_at + pg_catalog.make_interval(mins => 240 + 30 * pg_catalog.floor(up.u[14] * 137)::integer) END
               AS requested_at,
           pr.name || '：' || up.model_name ||
               ('{，客户来电报修,，设备停机,，间歇性发生,，影响生产,，已持续两天,，报警代码闪烁}'::text[])[1 + pg_catalog.floor(up.u[16] * 6)::integer]
               AS description,
           pg_catalog.row_number() OVER (ORDER BY up.opened_at, up.i) AS nrank,
           NULL::bigint AS ticket_id
      FROM unit_pick up
      JOIN pg_temp.sample_models m ON m.midx = up.midx
      JOIN pg_temp.sample_problems pr ON pr.pidx = up.pidx
      LEFT JOIN pg_temp.sample_units su ON su.midx = up.midx AND su.r = up.r
      LEFT JOIN pg_temp.sample_customers cs ON cs.customer_id = su.customer_id
      LEFT JOIN pg_temp.sample_customers c ON su.unit_id IS NULL AND c.g = pg_catalog.width_bucket(up.u[8], cstarts)
      JOIN pg_temp.sample_geo g ON g.ord = COALESCE(cs.ord, c.ord)
      LEFT JOIN pg_temp.sample_outlets sup ON sup.ord = g.ord AND sup.org_type = 'supplier';
    CREATE UNIQUE INDEX ON pg_temp.sample_plan (nrank);
    ANALYZE pg_temp.sample_plan;

END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_ticket_plan(integer, date, integer, bigint, float8[], float8[], float8[]) IS
  'Internal step of generate_sample_data: each tickets entry and what it is about, drawn set-based (sample_plan)';

CREATE FUNCTION aftersales_internal.sample_entry(n integer, y0 date, progress integer, started timestamptz) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    batch constant integer := 5000;
BEGIN
    -- entry through open_tickets, in batches, in time order
    FOR k IN 0 .. (n - 1) / batch LOOP
        WITH ids AS (
            SELECT x.id, x.ord
              FROM aftersales.open_tickets(
                       (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                   'customer', p.customer_id, 'problem_type', p.problem_type_id, 'priority', p.priority,
                                   'description', p.description, 'channel', p.channel, 'unit', p.unit_id, 'model', p.model_id,
                                   'requested_at', p.requested_at, 'field', p.field, 'org', p.org_id, 'opened_at', p.opened_at)
                                ORDER BY p.nrank)
                          FROM pg_temp.sample_plan p
                         WHERE p.nrank > k * batch
                           AND p.nrank <= (k + 1) * batch),
                       actor => 'callcenter', at => y0::timestamp AT TIME ZONE 'Asia/Shanghai')
                   WITH ORDINALITY AS x (id, ord)
        )
        UPDATE pg_temp.sample_plan p SET ticket_id = ids.id
          FROM ids WHERE p.nrank = k * batch + ids.ord;
        IF k % 10 = 0 THEN
            -- the triggers' cached plans were made for empty tables: as the
            -- tables grow, statistics (which count this transaction's rows)
            -- make them plan again, or each batch would cost more than the last
            ANALYZE aftersales.tickets, aftersales.ticket_events, aftersales.ticket_sla, aftersales.occurrences,
                    aftersales.escalation_watches, aftersales.alerts, aftersales.ticket_escalations;
        END IF;
    END LOOP;
    -- Statistics, now that the tables are full: the triggers' cached plans
    -- were made for empty tables, and are made again (ANALYZE invalidates
    -- them) for what is there; it counts this transaction's rows.
    ANALYZE aftersales.tickets, aftersales.ticket_events, aftersales.ticket_sla, aftersales.occurrences,
            aftersales.escalation_watches, aftersales.alerts, aftersales.ticket_escalations;
    IF progress > 0 AND n >= progress THEN
        RAISE NOTICE 'sample data: % tickets entered after % s', n,
            pg_catalog.round(EXTRACT(EPOCH FROM pg_catalog.clock_timestamp() - started)::numeric, 1);
    END IF;

END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_entry(integer, date, integer, timestamptz) IS
  'Internal step of generate_sample_data: the planned tickets entered through open_tickets, in batches, in time order';

CREATE FUNCTION aftersales_internal.sample_first_minutes(tk bigint, u float8[], priority aftersales.priority, zombie integer,
                                                     agent text, t timestamptz, cutoff timestamptz) RETURNS timestamptz
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cancel_reasons constant text[] := '{客户已自行解决,重复报修,客户取消服务}'::text[];
BEGIN
    IF u[20] < 0.02 AND priority <> 'A' THEN          -- the customer presses: priority up
        t := t + make_interval(secs => floor(60 + u[21] * 540));
        IF t >= cutoff THEN
            RETURN NULL;
        END IF;
        PERFORM aftersales.set_priority(tk, CASE priority WHEN 'C' THEN 'B' ELSE 'A' END::aftersales.priority,
                                        '客户要求加急', actor => agent, at => t);
    END IF;
    IF u[22] < 0.018 THEN                                -- cancelled before assignment
        t := t + make_interval(secs => floor(300 + u[23] * 36000));
        IF t >= cutoff THEN
            RETURN NULL;
        END IF;
        PERFORM aftersales.cancel_ticket(tk, cancel_reasons[1 + floor(u[24] * 3)::integer], actor => agent, at => t);
        RETURN NULL;
    END IF;
    IF u[25] < 0.035 OR zombie = 2 THEN                  -- needs a specialist
        t := t + make_interval(secs => floor(180 + u[26] * 2400));
        IF t >= cutoff THEN
            RETURN NULL;
        END IF;
        PERFORM aftersales.transfer_ticket(tk, CASE WHEN u[27] < 0.15 OR zombie = 2 THEN 'rnd' ELSE 'technical_support' END::aftersales.ticket_tier,
                                           '需要技术支持工程师判断', actor => agent, at => t);
        IF zombie = 2 THEN
            RETURN NULL;
        END IF;
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_first_minutes(bigint, double precision[], aftersales.priority, integer, text, timestamptz, timestamptz) IS
  'Internal step of generate_sample_data: a ticket''s first minutes (priority raised, cancelled, transferred to a specialist); returns the time reached, NULL when its life ends there';

CREATE FUNCTION aftersales_internal.sample_dispatch_minutes(u float8[], b integer, v integer, requested_at timestamptz,
                                                        priority aftersales.priority, t timestamptz) RETURNS float8
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m float8;
    loc timestamp;
BEGIN
    IF v > 0 THEN                                -- another visit, hours later
        m := 60 + u[b] * 1200;
    ELSIF requested_at IS NOT NULL AND u[b + 1] < 0.10 THEN
        -- dispatched after the customer's requested date
        m := extract(epoch FROM requested_at - t) / 60 + 10 + u[b + 2] * 170;
    ELSE
        loc := t AT TIME ZONE 'Asia/Shanghai';
        IF (extract(hour FROM loc) < 8 OR extract(hour FROM loc) >= 20) AND priority <> 'A' AND u[b + 2] < 0.6 THEN
            -- entered at night: the morning shift, from 08:30
            m := extract(epoch FROM date_trunc('day', loc - interval '8 hours 30 minutes')
                                    + interval '1 day 8 hours 30 minutes' - loc) / 60 + u[b] * 30;
        ELSE
            m := CASE WHEN u[b] < 0.80 THEN 1 + u[b] / 0.80 * 6
                      WHEN u[b] < 0.95 THEN 7 + (u[b] - 0.80) / 0.15 * 50
                      ELSE 57 + (u[b] - 0.95) / 0.05 * 300 END;
            IF priority = 'A' THEN
                m := m / 2;
            END IF;
        END IF;
    END IF;
    RETURN m;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_dispatch_minutes(double precision[], integer, integer, timestamptz, aftersales.priority, timestamptz) IS
  'Internal step of generate_sample_data: minutes from t until visit v of a ticket is assigned';

CREATE FUNCTION aftersales_internal.sample_follow_up(tk bigint, u float8[], fb integer, revisit boolean, age interval,
                                                 agent text, t timestamptz) RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    comments constant text[] := '{工程师很专业,上门及时,希望提前电话联系,维修时间太长,问题已解决，感谢}'::text[];
    sat boolean;
    score_csat integer;
    score_nps integer;
    remark text;
BEGIN
    sat := revisit OR u[fb + 2] < CASE WHEN age > interval '72 hours' THEN 0.85 ELSE 0.96 END;
    score_csat := CASE WHEN u[fb + 4] < 0.15 THEN NULL
                       WHEN sat THEN CASE WHEN u[fb + 3] < 0.58 THEN 5 WHEN u[fb + 3] < 0.90 THEN 4 ELSE 3 END
                       ELSE CASE WHEN u[fb + 3] < 0.40 THEN 1 WHEN u[fb + 3] < 0.75 THEN 2 ELSE 3 END END;
    score_nps := CASE WHEN u[fb + 6] < 0.28 THEN NULL
                      WHEN sat THEN ('{10,10,10,10,9,9,9,8,8,7,6,5}'::integer[])[1 + floor(u[fb + 5] * 12)::integer]
                      ELSE floor(u[fb + 5] * 7)::integer END;
    remark := CASE WHEN u[fb + 7] >= 0.35 THEN NULL
                   WHEN sat THEN comments[1 + floor(u[fb + 8] * 3)::integer]
                   WHEN u[fb + 8] < 0.5 THEN comments[4] ELSE comments[3] END;
    RETURN aftersales.follow_up(tk, sat, score_csat, score_nps, remark, actor => agent, at => t);
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_follow_up(bigint, double precision[], integer, boolean, interval, text, timestamptz) IS
  'Internal step of generate_sample_data: the follow-up call of a resolved ticket, its satisfaction and scores drawn; returns the new status';

CREATE FUNCTION aftersales_internal.sample_life_cycle(tk bigint, opened_at timestamptz, u float8[], priority aftersales.priority,
                                                  tier text, field boolean, requested_at timestamptz, province text,
                                                  remote boolean, engs bigint[], logins text[], cutoff timestamptz)
    RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hold_reasons constant text[] := '{等待备件到货,等待客户确认上门时间}'::text[];
    fail_reasons constant text[] := '{备件型号不符，需重新申请,故障未能复现，需再次上门,需要专用工具}'::text[];
    resolutions constant text[] := '{更换启动电容,清洗冷凝器并补充冷媒,更换主控板,紧固接线端子,更新控制程序参数,更换温度传感器,调整安装并重新调试}'::text[];
    cancel_reasons constant text[] := '{客户已自行解决,重复报修,客户取消服务}'::text[];
    t timestamptz;
    st aftersales.ticket_status;
    eng bigint;
    login text;
    manager text;
    agent text;
    v integer;
    b integer;
    x float8;
    attempts integer;
    manual_locked boolean;
    zombie integer;
    cycle integer;
    fb integer;
    ei integer;
BEGIN
    t := opened_at;
    st := 'new';
    manager := 'manager:' || province;
    agent := 'agent:cs' || lpad((1 + floor(u[19] * 12))::integer::text, 2, '0');
    attempts := 0;
    manual_locked := false;
    v := 0;
    cycle := 0;
    -- 1.2% get stuck for good: on hold for a discontinued part, with
    -- R&D and never assigned, assigned and never started, locked after
    -- two failed handlings and never taken over
    zombie := CASE WHEN u[28] >= 0.012 THEN 0 WHEN u[29] < 0.3 THEN 1 WHEN u[29] < 0.55 THEN 2
                   WHEN u[29] < 0.8 THEN 3 ELSE 4 END;
    <<life>>
    BEGIN
        t := aftersales_internal.sample_first_minutes(tk, u, priority, zombie, agent, t, cutoff);
        EXIT life WHEN t IS NULL;

        LOOP                                                 -- visits, until closed
            EXIT life WHEN v > 5;
            b := 40 + 15 * v;
            ei := 1 + floor(u[b + 3] * cardinality(engs))::integer;
            eng := engs[ei];
            login := logins[ei];
            IF st = 'locked' THEN                            -- the service manager takes over
                EXIT life WHEN zombie = 4;
                t := t + make_interval(secs => floor(900 + u[b + 11] * 14400));
                EXIT life WHEN t >= cutoff;
                st := aftersales.take_over_ticket(tk, eng, '服务经理接管并指派', actor => manager, at => t);
            ELSE
                x := aftersales_internal.sample_dispatch_minutes(u, b, v, requested_at, priority, t);
                t := t + make_interval(secs => floor(x * 60));
                EXIT life WHEN t >= cutoff;
                st := aftersales.assign_ticket(tk, eng, actor => 'dispatcher', at => t);
                IF st = 'locked' THEN                        -- assigned too late
                    t := t + make_interval(secs => floor(900 + u[b + 11] * 14400));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.take_over_ticket(tk, eng, '服务经理接管并指派', actor => manager, at => t);
                END IF;
            END IF;
            EXIT life WHEN zombie = 3;

            t := t + make_interval(secs => floor(30 + u[b + 4] * 240));
            EXIT life WHEN t >= cutoff;
            st := aftersales.start_work(tk, actor => login, at => t);
            x := CASE WHEN tier = 'key' THEN 0.03 ELSE 0.004 END;
            IF v = 0 AND NOT manual_locked AND u[b + 13] < x THEN
                manual_locked := true;                       -- the manager steps in
                t := t + make_interval(secs => floor(600 + u[b + 14] * 3600));
                EXIT life WHEN t >= cutoff;
                st := aftersales.lock_ticket(tk, '重点客户投诉，服务经理介入', actor => manager, at => t);
                CONTINUE;
            END IF;
            IF v = 0 AND u[b + 10] < 0.006 THEN              -- cancelled while in work
                t := t + make_interval(secs => floor(600 + u[b + 14] * 6600));
                EXIT life WHEN t >= cutoff;
                PERFORM aftersales.cancel_ticket(tk, cancel_reasons[1 + floor(u[24] * 3)::integer], actor => agent, at => t);
                EXIT life;
            END IF;
            IF field THEN                                  -- travel
                x := 120 * exp(0.36 * ln(u[b + 5] / (1 - u[b + 5])));
                IF remote THEN
                    x := x * 1.8;
                END IF;
                t := t + make_interval(secs => floor(x * 60));
                EXIT life WHEN t >= cutoff;
                st := aftersales.arrive_on_site(tk, actor => login, at => t);
            END IF;
            IF cycle = 0 AND (u[b + 6] < 0.08 OR zombie = 1) THEN  -- waiting for a part or the customer
                t := t + make_interval(secs => floor(300 + u[b + 14] * 2700));
                EXIT life WHEN t >= cutoff;
                st := aftersales.hold_ticket(tk, CASE WHEN zombie = 1 THEN '备件停产，等待替代件'
                                                      ELSE hold_reasons[CASE WHEN u[b + 8] < 0.6 THEN 1 ELSE 2 END] END,
                                             actor => login, at => t);
                EXIT life WHEN zombie = 1;
                x := CASE WHEN u[b + 7] < 0.04 THEN 28800 + u[b + 9] * 100000       -- weeks: a discontinued part
                          WHEN u[b + 8] < 0.6 THEN 240 + u[b + 7] * 6960
                          ELSE 60 + u[b + 7] * 2820 END;
                t := t + make_interval(secs => floor(x * 60));
                EXIT life WHEN t >= cutoff;
                st := aftersales.resume_ticket(tk, actor => login, at => t);
            END IF;
            x := CASE WHEN field THEN 75 ELSE 25 END * exp(0.36 * ln(u[b + 12] / (1 - u[b + 12])));
            t := t + make_interval(secs => floor(x * 60));
            EXIT life WHEN t >= cutoff;
            IF cycle = 0 AND (zombie = 4 OR (attempts = 0 AND u[b + 9] < 0.09) OR (attempts = 1 AND u[b + 9] < 0.25)) THEN
                -- the handling failed: back to assignment, or locked after the second
                st := aftersales.fail_attempt(tk, fail_reasons[1 + floor(u[b + 14] * 3)::integer], actor => login, at => t);
                attempts := attempts + 1;
                v := v + 1;
                CONTINUE;
            END IF;
            st := aftersales.resolve_ticket(tk, resolutions[1 + floor(u[b + 10] * 7)::integer], actor => login, at => t);

            -- the follow-up call (回访)
            fb := CASE WHEN cycle = 0 THEN 100 ELSE 130 END;
            EXIT life WHEN cycle = 0 AND u[fb + 27] >= 0.93;  -- never called back: stays resolved
            t := t + make_interval(secs => floor(14400 + u[fb + 28] * 244800));
            EXIT life WHEN t >= cutoff;
            st := aftersales_internal.sample_follow_up(tk, u, fb, cycle > 0, t - opened_at, agent, t);
            IF st = 'new' THEN                               -- not satisfied: back to assignment
                cycle := cycle + 1;
                v := v + 1;
                CONTINUE;
            END IF;
            IF cycle = 0 AND u[fb + 9] < 0.025 THEN          -- the fault comes back
                t := t + make_interval(secs => floor(259200 + u[fb + 10] * 2332800));
                EXIT life WHEN t >= cutoff;
                st := aftersales.reopen_ticket(tk, '故障复发，客户再次报修', actor => agent, at => t);
                cycle := cycle + 1;
                v := v + 1;
                CONTINUE;
            END IF;
            EXIT life;
        END LOOP;
    END;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_life_cycle(bigint, timestamptz, double precision[], aftersales.priority, text, boolean,
                                                          timestamptz, text, boolean, bigint[], text[], timestamptz) IS
  'Internal step of generate_sample_data: one ticket''s life cycle, event by event through the ticket API, up to cutoff';

CREATE FUNCTION aftersales_internal.sample_life_cycles(n integer, sb bigint, cutoff timestamptz, progress integer,
                                                   started timestamptz) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    done integer := 0;
BEGIN
    -- the life cycles, ticket by ticket, event by event, through the API.
    -- Draws (u[1..160] per ticket): 1-16 entry (the plan above), 19-27
    -- the first minutes, 40 + 15 v .. 54 + 15 v visit v (v <= 3), 100-128
    -- the follow-up, 130-158 the follow-up after a revisit.
    FOR r IN SELECT p.nrank, p.ticket_id, p.opened_at,
                    ARRAY(SELECT LEAST(GREATEST((pg_catalog.hashint8extended(p.i, sb + k) & 9007199254740991)::float8
                                                / 9007199254740992.0, 1e-9), 1 - 1e-9)
                            FROM pg_catalog.generate_series(1, 160) k) AS u, p.priority, p.tier, p.field, p.requested_at,
                    p.province, p.remote, oe.engs, oe.logins
               FROM pg_temp.sample_plan p
               JOIN pg_temp.sample_org_engineers oe ON oe.org_id = p.org_id
              ORDER BY p.nrank
    LOOP
        PERFORM aftersales_internal.sample_life_cycle(r.ticket_id, r.opened_at, r.u, r.priority, r.tier, r.field, r.requested_at,
                                                      r.province, r.remote, r.engs, r.logins, cutoff);
        done := done + 1;
        IF done % 200000 = 0 THEN   -- the event log grows sevenfold meanwhile
            ANALYZE aftersales.ticket_events, aftersales.alerts, aftersales.ticket_escalations;
        END IF;
        IF progress > 0 AND done % progress = 0 THEN
            RAISE NOTICE 'sample data: % of % tickets through their life cycle after % s', done, n,
                round(extract(epoch FROM clock_timestamp() - started)::numeric, 1);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_life_cycles(integer, bigint, timestamptz, integer, timestamptz) IS
  'Internal step of generate_sample_data: the planned tickets'' life cycles, in entry order';

REVOKE ALL ON FUNCTION aftersales_internal.sample_organisations(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.sample_engineers(bigint, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.sample_customers(bigint, integer, integer, integer, date) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.sample_products(bigint, integer, integer, integer, float8[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.sample_problem_types(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.sample_ticket_plan(integer, date, integer, bigint, float8[], float8[], float8[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.sample_entry(integer, date, integer, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.sample_first_minutes(bigint, double precision[], aftersales.priority, integer, text, timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.sample_dispatch_minutes(double precision[], integer, integer, timestamptz, aftersales.priority, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.sample_follow_up(bigint, double precision[], integer, boolean, interval, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.sample_life_cycle(bigint, timestamptz, double precision[], aftersales.priority, text, boolean,
                                                          timestamptz, text, boolean, bigint[], text[], timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales_internal.sample_life_cycles(integer, bigint, timestamptz, integer, timestamptz) FROM PUBLIC;

CREATE OR REPLACE FUNCTION aftersales.generate_sample_data(tenant_name text, seed integer DEFAULT 1, tickets integer DEFAULT 2000,
                                                year integer DEFAULT 2026, progress integer DEFAULT 100000)
    RETURNS aftersales.sample_data_runs
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    example constant text := 'SELECT * FROM aftersales.generate_sample_data(''demo'', seed => 1, tickets => 2000, year => 2026);';
    n integer := tickets;
    s integer := seed;
    yr integer := year;
    started constant timestamptz := pg_catalog.clock_timestamp();
    old_tenant text := pg_catalog.current_setting('aftersales.tenant_id', true);
    prev aftersales.sample_data_runs;
    result aftersales.sample_data_runs;
    tid bigint;
    y0 date;
    cutoff timestamptz;
    ndays integer;
    sb bigint;
    cstarts float8[];
    mstarts float8[];
    pstarts float8[];
    events_n bigint;
BEGIN
    -- arguments
    IF tenant_name IS NULL OR pg_catalog.btrim(tenant_name) = '' THEN
        PERFORM aftersales_internal.sample_error('tenant_name must not be empty',
            'Name the tenant to create, for example: ' || example, '22004');
    END IF;
    IF s IS NULL THEN
        PERFORM aftersales_internal.sample_error('seed must not be null',
            'Any integer seeds the choices; the same seed gives the same data, for example: ' || example, '22004');
    END IF;
    IF n IS NULL OR n NOT BETWEEN 100 AND 10000000 THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('invalid number of sample tickets: %s', COALESCE(n::text, 'NULL')),
            'Ask for 100 to 10000000 tickets: 2000 load in seconds, 1000000 in about an hour; for example: ' || example);
    END IF;
    IF yr IS NULL OR yr NOT BETWEEN 2000 AND 2100 THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('invalid sample year: %s', COALESCE(yr::text, 'NULL')),
            'Years 2000 to 2100 are supported (the full holiday schedule is known for 2026), for example: ' || example);
    END IF;
    IF progress IS NULL OR progress < 0 THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('invalid progress interval: %s', COALESCE(progress::text, 'NULL')),
            'progress is how many tickets between two progress NOTICEs, 0 for none, for example: SELECT * FROM aftersales.generate_sample_data(''big'', tickets => 1000000, progress => 50000);');
    END IF;

    -- idempotent: the same call again returns what the first one built
    SELECT sr.* INTO prev FROM aftersales.sample_data_runs sr
      JOIN aftersales.tenants tn ON tn.tenant_id = sr.tenant_id
     WHERE tn.name = generate_sample_data.tenant_name;
    IF FOUND THEN
        IF prev.seed = s AND prev.tickets = n AND prev.year = yr THEN
            RAISE NOTICE 'tenant "%" already holds this sample data: nothing to do', tenant_name;
            RETURN prev;
        END IF;
        PERFORM aftersales_internal.sample_error(
            pg_catalog.format('tenant "%s" already holds sample data of seed %s, %s tickets, year %s', tenant_name, prev.seed, prev.tickets, prev.year),
            'Use another tenant name, for example: SELECT * FROM aftersales.generate_sample_data(''demo2'', seed => 2);', '42710');
    END IF;
    IF EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.name = tenant_name) THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('tenant "%s" already exists', tenant_name),
            'Sample data goes into a new tenant of its own; use another name, for example: ' || example, '42710');
    END IF;

    y0 := pg_catalog.make_date(yr, 1, 1);
    cutoff := pg_catalog.make_timestamptz(yr + 1, 1, 1, 0, 0, 0, 'Asia/Shanghai');
    ndays := pg_catalog.make_date(yr + 1, 1, 1) - y0;
    sb := s::bigint * 1000003;

    -- the tenant, its calendars and SLA policies (the default targets,
    -- copied from tenant 1's shipped default policy)
    LOCK TABLE aftersales.tenants IN SHARE ROW EXCLUSIVE MODE;
    SELECT COALESCE(pg_catalog.max(tn.tenant_id), 1) + 1 INTO tid FROM aftersales.tenants tn;
    INSERT INTO aftersales.tenants (tenant_id, name) VALUES (tid, tenant_name);
    PERFORM pg_catalog.set_config('aftersales.tenant_id', tid::text, true);
    PERFORM aftersales.set_calendar('24x7', 'zone=Asia/Shanghai; mon-sun 00:00-24:00', 'Around the clock, China time', tid);
    PERFORM aftersales.set_calendar('cn-office', aftersales.sample_calendar(yr),
                                    pg_catalog.format('China office hours, %s holidays and make-up days', yr), tid);
    INSERT INTO aftersales.sla_policies (tenant_id, name, calendar, is_default, description)
    VALUES (tid, 'standard', 'cn-office', true, 'Default targets on office hours'),
           (tid, 'key-account', '24x7', false, 'Default targets around the clock, for key customers'' service agreements');
    INSERT INTO aftersales.sla_targets (tenant_id, policy_id, priority, metric, target, clock, pauses_on_hold)
    SELECT tid, p.policy_id, d.priority, d.metric, d.target, d.clock, d.pauses_on_hold
      FROM aftersales.sla_targets d
      JOIN aftersales.sla_policies dp ON dp.tenant_id = 1 AND dp.policy_id = d.policy_id
                                     AND dp.name = 'default'
     CROSS JOIN aftersales.sla_policies p
     WHERE d.tenant_id = 1 AND p.tenant_id = tid
     ORDER BY p.policy_id, d.priority, d.metric;

    -- the company, in steps that pass what they built on in temporary
    -- tables (sample_geo, sample_outlets, sample_customers ...) and the
    -- cumulative weights the draws bucket into
    PERFORM aftersales_internal.sample_organisations(tid);
    PERFORM aftersales_internal.sample_engineers(tid, s, n);
    cstarts := aftersales_internal.sample_customers(tid, s, n, yr, y0);
    mstarts := aftersales_internal.sample_products(tid, s, n, yr, cstarts);
    pstarts := aftersales_internal.sample_problem_types(tid);
    -- the tickets: planned set-based, entered, then driven through their lives
    PERFORM aftersales_internal.sample_ticket_plan(n, y0, ndays, sb, cstarts, mstarts, pstarts);
    PERFORM aftersales_internal.sample_entry(n, y0, progress, started);
    PERFORM aftersales_internal.sample_life_cycles(n, sb, cutoff, progress, started);

    -- a bulk load leaves the planner blind until autovacuum comes by: the
    -- KPI queries right after it would plan for empty tables
    ANALYZE aftersales.organisations, aftersales.customers, aftersales.engineers, aftersales.product_models,
            aftersales.units, aftersales.problem_types, aftersales.service_agreements, aftersales.sla_policies,
            aftersales.calendars, aftersales.tickets, aftersales.ticket_events, aftersales.ticket_sla,
            aftersales.occurrences, aftersales.escalation_watches, aftersales.alerts, aftersales.ticket_escalations;
    SELECT count(*) INTO events_n FROM aftersales.ticket_events ev WHERE ev.tenant_id = tid;
    INSERT INTO aftersales.sample_data_runs AS sr (tenant_id, tenant_name, seed, tickets, year, events, started_at, seconds, checksum)
    VALUES (tid, generate_sample_data.tenant_name, s, n, yr, events_n, started,
            round(extract(epoch FROM clock_timestamp() - started)::numeric, 1),
            aftersales.sample_data_checksum(tid))
    RETURNING sr.* INTO result;
    PERFORM set_config('aftersales.tenant_id', COALESCE(old_tenant, ''), true);
    DROP TABLE pg_temp.sample_geo, pg_temp.sample_outlets, pg_temp.sample_customers, pg_temp.sample_models,
               pg_temp.sample_units, pg_temp.sample_problems, pg_temp.sample_plan, pg_temp.sample_org_engineers;
    RETURN result;
END
$$;

-- ---------------------------------------------------------------------------
-- The sweep's step 3 (locking one ticket) as its own function,
-- aftersales_internal.sweep_lock, called by sweep_claimed; behaviour unchanged.
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

GRANT EXECUTE ON FUNCTION aftersales_internal.sweep_lock(bigint, timestamptz, bigint, bigint, timestamptz, text) TO aftersales_sweep;

CREATE OR REPLACE FUNCTION aftersales_internal.sweep_claimed(run bigint, now timestamptz, tenants bigint[], tickets bigint[], clocks text[],
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

-- escalation_rules_effective in plain types, as above, keeps leaving out a
-- timed rule whose after is beyond 8784 hours (the sweep skips and names it).
CREATE OR REPLACE VIEW aftersales.escalation_rules_effective WITH (security_invoker = true) AS
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

-- open_tickets as in 0.2.0: channels from aftersales.ticket_channel, and a bad
-- element named by its index with a hint.
CREATE OR REPLACE FUNCTION aftersales.open_tickets(tickets jsonb, reason text DEFAULT NULL,
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
-- The state machine engine of the service modules (81_state_machine.sql);
-- event_rights names module events as <machine>.<event>; the KPI catalogue
-- takes the modules' dashboards and units; append_only takes its hint.

CREATE OR REPLACE FUNCTION aftersales_internal.append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'cannot % %: it is append-only', pg_catalog.lower(TG_OP), TG_TABLE_NAME
        USING ERRCODE = '55000',
              DETAIL = CASE WHEN TG_NARGS OPERATOR(pg_catalog.>) 0
                            THEN 'The log is the history of its objects; replay and audits depend on every row.'
                            ELSE 'The event log is the history of the tickets; replay and audits depend on every row.' END,
              HINT = CASE WHEN TG_NARGS OPERATOR(pg_catalog.>) 0 THEN TG_ARGV[0]
                          ELSE 'Record a new event instead, for example: SELECT aftersales.reopen_ticket(42, reason => ''closed by mistake'');' END;
END
$$;
COMMENT ON FUNCTION aftersales_internal.append_only() IS
  'Trigger: refuses UPDATE, DELETE and TRUNCATE; its argument, if any, is the hint (the event that corrects a mistake)';
ALTER TABLE aftersales.event_rights DROP CONSTRAINT event_rights_event_check;
ALTER TABLE aftersales.event_rights ADD CONSTRAINT event_rights_event_check
    CHECK (event ~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$'
           OR event IN ('edit', 'edit_closed')
           OR aftersales_internal.value_listed('aftersales.ticket_event', event));
COMMENT ON COLUMN aftersales.event_rights.event IS 'Event of the closed loop, edit or edit_closed; <machine>.<event> for the events of the service modules'' objects (aftersales.state_transitions)';
COMMENT ON COLUMN aftersales.event_rights.own_tickets_only IS 'Only on tickets assigned to the member''s engineer row (for a module''s object: whose engineer_id is theirs)';
ALTER TABLE aftersales.kpi_catalogue DROP CONSTRAINT kpi_catalogue_category_check;
ALTER TABLE aftersales.kpi_catalogue ADD CONSTRAINT kpi_catalogue_category_check
    CHECK (category IN ('service', 'backlog', 'quality', 'staff', 'parts', 'cost', 'complaints', 'surveys',
                        'approvals', 'dispatch', 'workforce', 'knowledge'));
ALTER TABLE aftersales.kpi_catalogue DROP CONSTRAINT kpi_catalogue_unit_check;
ALTER TABLE aftersales.kpi_catalogue ADD CONSTRAINT kpi_catalogue_unit_check
    CHECK (unit IN ('ratio', 'minutes', 'hours', 'days', 'score', 'nps', 'tickets', 'count', 'money', 'tonnes', 'km'));
COMMENT ON COLUMN aftersales.kpi_catalogue.category IS 'The dashboard the KPI belongs to: service, backlog, quality, staff, parts, cost, complaints, surveys, approvals, dispatch, workforce or knowledge';
COMMENT ON COLUMN aftersales.kpi_catalogue.unit IS 'ratio (0 to 1), minutes, hours, days, score (CSAT 1 to 5), nps (-100 to 100), tickets (a count of tickets), count (of other things), money (in the tenant''s currency), tonnes or km';
CREATE TABLE aftersales.state_transitions (
    machine       text    NOT NULL CHECK (machine ~ '^[a-z][a-z0-9_]{0,62}$'),
    from_state    text    NOT NULL,
    event         text    NOT NULL CHECK (event ~ '^[a-z][a-z0-9_]{0,62}$'),
    to_state      text    NOT NULL CHECK (to_state <> ''),
    needs_reason  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (machine, from_state, event)
);
COMMENT ON TABLE aftersales.state_transitions IS
  'The life cycles of the service modules'' objects: which event leads from which state to which; shipped with the extension (a change is a change of the install script)';
COMMENT ON COLUMN aftersales.state_transitions.machine IS 'The life cycle, e.g. part_order or complaint';
COMMENT ON COLUMN aftersales.state_transitions.from_state IS 'State before the event; empty for the event that creates the object';
COMMENT ON COLUMN aftersales.state_transitions.event IS 'The event; event_rights grants it as <machine>.<event>';
COMMENT ON COLUMN aftersales.state_transitions.to_state IS 'State after the event (the same state for an edit)';
COMMENT ON COLUMN aftersales.state_transitions.needs_reason IS 'Whether the event must give a reason';
-- Shipped rules, no tenant's data: everyone who writes an object reads them.
GRANT SELECT ON aftersales.state_transitions TO PUBLIC;

CREATE FUNCTION aftersales_internal.state_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'aftersales_state_guard' LANGUAGE C;
COMMENT ON FUNCTION aftersales_internal.state_guard() IS
  'Trigger (machine, id column, log table), BEFORE INSERT OR UPDATE: judges the row''s event against state_transitions and event_rights; sets state, event_seq and the actor';
-- As the owner: nobody is granted INSERT on a log, so no row of it is
-- written but by this trigger.
CREATE FUNCTION aftersales_internal.state_log() RETURNS trigger
    AS 'MODULE_PATHNAME', 'aftersales_state_log' LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION aftersales_internal.state_log() IS
  'Trigger (machine, id column, log table), AFTER INSERT OR UPDATE: appends the event and the changed columns'' old and new values to the log table';

-- Replays a machine's log against its objects: every step a listed
-- transition from the previous step's state, seq 1..n without gaps, and
-- the fields rebuilt from the logged changes equal to the row.  One
-- tenant's objects, so that a Citus router sends it to one worker.
CREATE FUNCTION aftersales_internal.state_machine_check(machine text, objects regclass, log regclass,
                                                        id_column text, tenant bigint)
    RETURNS TABLE (id bigint, problem text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY EXECUTE pg_catalog.format($q$
        WITH l AS (
            SELECT l.%2$I AS id, l.seq, l.event, l.from_state, l.to_state, l.actor, l.at, l.changes,
                   pg_catalog.lag(l.to_state) OVER w AS prev_state,
                   pg_catalog.row_number() OVER w AS n
              FROM %3$s l WHERE l.tenant_id OPERATOR(pg_catalog.=) $1
            WINDOW w AS (PARTITION BY l.%2$I ORDER BY l.seq)),
        steps AS (
            SELECT l.id, pg_catalog.format('step %%s (%%s): %%s', l.seq, l.event,
                     CASE WHEN l.seq OPERATOR(pg_catalog.<>) l.n THEN 'sequence has a gap'
                          WHEN l.from_state OPERATOR(pg_catalog.<>) COALESCE(l.prev_state, '')
                          THEN pg_catalog.format('starts from %%s, the previous step ended in %%s',
                                                 COALESCE(NULLIF(l.from_state, ''), 'creation'),
                                                 COALESCE(l.prev_state, 'creation'))
                          ELSE pg_catalog.format('%%s -> %%s is not a transition of %%s',
                                                 COALESCE(NULLIF(l.from_state, ''), 'creation'), l.to_state, $2) END)
              FROM l
             WHERE l.seq OPERATOR(pg_catalog.<>) l.n
                OR l.from_state OPERATOR(pg_catalog.<>) COALESCE(l.prev_state, '')
                OR NOT EXISTS (SELECT FROM aftersales.state_transitions t
                                WHERE t.machine OPERATOR(pg_catalog.=) $2 AND t.from_state OPERATOR(pg_catalog.=) l.from_state
                                  AND t.event OPERATOR(pg_catalog.=) l.event AND t.to_state OPERATOR(pg_catalog.=) l.to_state)),
        last AS (
            SELECT DISTINCT ON (l.id) l.* FROM l ORDER BY l.id, l.seq DESC),
        folded AS (
            SELECT l.id, pg_catalog.jsonb_object_agg(c.key, c.value OPERATOR(pg_catalog.->) 1 ORDER BY l.seq) AS fields
              FROM l, pg_catalog.jsonb_each(l.changes) c GROUP BY l.id),
        objs AS (
            SELECT o.%2$I AS id, o.state::text AS state, o.event, o.event_seq, o.event_at, o.event_by,
                   pg_catalog.to_jsonb(o) AS j
              FROM %4$s o WHERE o.tenant_id OPERATOR(pg_catalog.=) $1)
        SELECT s.* FROM steps s
        UNION ALL
        SELECT o.id, CASE WHEN x.id IS NULL THEN 'no event in the log'
                          ELSE pg_catalog.format('row says %%s after event %%s (%%s at %%s by %%s); the log says %%s after %%s (%%s at %%s by %%s)',
                                                 o.state, o.event_seq, o.event, o.event_at, o.event_by,
                                                 x.to_state, x.seq, x.event, x.at, x.actor) END
          FROM objs o LEFT JOIN last x ON x.id OPERATOR(pg_catalog.=) o.id
         WHERE x.id IS NULL OR o.state OPERATOR(pg_catalog.<>) x.to_state OR o.event_seq OPERATOR(pg_catalog.<>) x.seq
            OR o.event IS DISTINCT FROM x.event OR o.event_at IS DISTINCT FROM x.at OR o.event_by IS DISTINCT FROM x.actor
        UNION ALL
        SELECT x.id, 'log of an object that does not exist' FROM last x
         WHERE NOT EXISTS (SELECT FROM objs o WHERE o.id OPERATOR(pg_catalog.=) x.id)
        UNION ALL
        SELECT o.id, pg_catalog.format('column %%s is %%s, the log replays to %%s', c.key, c.value,
                                       COALESCE(f.fields OPERATOR(pg_catalog.->) c.key, 'null'::pg_catalog.jsonb))
          FROM objs o JOIN folded f ON f.id OPERATOR(pg_catalog.=) o.id, pg_catalog.jsonb_each(o.j) c
         WHERE c.key OPERATOR(pg_catalog.<>) ALL (ARRAY['tenant_id', %1$L, 'state', 'event', 'event_at', 'event_by',
                                                      'event_reason', 'event_seq'])
           AND c.value OPERATOR(pg_catalog.<>) COALESCE(f.fields OPERATOR(pg_catalog.->) c.key, 'null'::pg_catalog.jsonb)
           -- a time logged in the writer's zone equals the same instant in ours
           AND NOT (c.value OPERATOR(pg_catalog.->>) 0 IS NULL
                    AND pg_catalog.jsonb_typeof(c.value) OPERATOR(pg_catalog.=) 'string'
                    AND (c.value #>> '{}') ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d(:\d\d)?$'
                    AND (f.fields OPERATOR(pg_catalog.->) c.key #>> '{}') ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d(:\d\d)?$'
                    AND (c.value #>> '{}')::pg_catalog.timestamptz
                        OPERATOR(pg_catalog.=) (f.fields OPERATOR(pg_catalog.->) c.key #>> '{}')::pg_catalog.timestamptz)
        ORDER BY 1, 2 $q$, id_column, id_column, log, objects)
    USING tenant, machine;
END
$$;
COMMENT ON FUNCTION aftersales_internal.state_machine_check(text, regclass, regclass, text, bigint) IS
  'Replays a state machine''s log for one tenant: lists each object whose log is not a chain of listed transitions, or whose row (state, last event, fields) differs from what the log replays to';
REVOKE ALL ON FUNCTION aftersales_internal.state_guard(), aftersales_internal.state_log(),
    aftersales_internal.state_machine_check(text, regclass, regclass, text, bigint) FROM PUBLIC;
-- Upgrade section: incremental KPI rollups (65_kpi_rollup.sql, 91_kpi_rollup_grants.sql):
-- the queue, per-ticket contributions, cells, state; fold, rebuild, check;
-- kpi_service and kpi_staff read the rollups when they answer exactly.
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

-- kpi_service and kpi_staff as in 60_kpi_service.sql: the rollups first
CREATE OR REPLACE FUNCTION aftersales.kpi_service(period text, dimension text, since timestamptz, until timestamptz,
                                       as_of timestamptz DEFAULT aftersales.now(),
                                       zone text DEFAULT NULL,
                                       tenant bigint DEFAULT aftersales.current_tenant())
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
    d record;
    grain text;
BEGIN
    zone := COALESCE(zone, aftersales.reporting_zone(tenant));
    PERFORM aftersales_internal.kpi_check('kpi_service',
        'SELECT * FROM aftersales.kpi_service(''month'', ''region'', ''2026-01-01'', ''2027-01-01'');',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        since, until, as_of, zone, tenant);
    -- the incremental rollups (65_kpi_rollup.sql) when they answer exactly
    grain := aftersales_internal.rollup_grain(period, since, until, as_of, zone, tenant);
    IF grain IS NOT NULL THEN
        RETURN QUERY SELECT * FROM aftersales_internal.rollup_service(period, dimension, since, until, as_of,
                                                                          zone, tenant, grain);
        RETURN;
    END IF;
    d := aftersales_internal.kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name,
       pg_catalog.count(*) AS tickets,
       pg_catalog.sum(k.cancelled)::bigint AS cancelled,
       pg_catalog.count(k.resolution_minutes) AS resolved,
       pg_catalog.count(*) FILTER (WHERE k.status = 'closed') AS closed,
       pg_catalog.count(*) FILTER (WHERE k.status NOT IN ('resolved', 'closed', 'cancelled')) AS unresolved,
       pg_catalog.round(pg_catalog.avg(k.responded_in_target), 4),
       pg_catalog.round(pg_catalog.avg(k.arrived_in_target), 4),
       pg_catalog.round(pg_catalog.avg(k.completed_in_target), 4),
       pg_catalog.round(pg_catalog.avg(k.completed_on_time), 4),
       pg_catalog.round(pg_catalog.count(*) FILTER (WHERE k.sla_first_response = 'met')::numeric
                        / NULLIF(pg_catalog.count(*) FILTER (WHERE k.sla_first_response IN ('met', 'breached')), 0), 4),
       pg_catalog.round(pg_catalog.count(*) FILTER (WHERE k.sla_arrival = 'met')::numeric
                        / NULLIF(pg_catalog.count(*) FILTER (WHERE k.sla_arrival IN ('met', 'breached')), 0), 4),
       pg_catalog.round(pg_catalog.count(*) FILTER (WHERE k.sla_resolution = 'met')::numeric
                        / NULLIF(pg_catalog.count(*) FILTER (WHERE k.sla_resolution IN ('met', 'breached')), 0), 4),
       pg_catalog.round(pg_catalog.avg(k.response_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.response_business_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.resolution_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.resolution_business_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.repair_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.repair_business_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.first_time_fix), 4),
       pg_catalog.round(pg_catalog.avg(k.closed_loop), 4),
       pg_catalog.round(pg_catalog.avg((k.status IN ('resolved', 'closed'))::integer) FILTER (WHERE k.cancelled = 0), 4),
       pg_catalog.round(pg_catalog.avg(k.repeat_problem), 4),
       pg_catalog.round(pg_catalog.avg(k.reopened), 4),
       pg_catalog.round(pg_catalog.avg(k.csat_score), 2),
       pg_catalog.round(pg_catalog.avg(k.csat_good), 4),
       pg_catalog.round(100 * (pg_catalog.avg(k.nps_promoter) - pg_catalog.avg(k.nps_detractor)), 1),
       pg_catalog.count(k.csat_score),
       pg_catalog.count(k.nps_score)
  FROM aftersales.kpi_ticket_facts($2, $3, $4, $1) k
 GROUP BY 1, 2) q
 ORDER BY q.period_start, %4$s$q$,
        aftersales_internal.kpi_period_sql(period, 'k.opened_at', 5), d.key_sql, d.name_sql, d.order_sql)
    USING tenant, since, until, as_of, zone;
END
$$;

CREATE OR REPLACE FUNCTION aftersales.kpi_staff(period text, since timestamptz, until timestamptz,
                                     as_of timestamptz DEFAULT aftersales.now(),
                                     zone text DEFAULT NULL,
                                     tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (period_start date, engineer_id bigint, engineer_name text, org_id bigint, org_name text,
                   org_type text, tickets bigint, resolved bigint, unresolved bigint,
                   avg_handling_minutes numeric, avg_handling_business_minutes numeric,
                   total_handling_minutes numeric, first_time_fix_rate numeric, csat_avg numeric)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    grain text;
BEGIN
    zone := COALESCE(zone, aftersales.reporting_zone(tenant));
    PERFORM aftersales_internal.kpi_check('kpi_staff',
        'SELECT * FROM aftersales.kpi_staff(''month'', ''2026-01-01'', ''2027-01-01'');',
        period, NULL, NULL, since, until, as_of, zone, tenant);
    -- the incremental rollups (65_kpi_rollup.sql) when they answer exactly
    grain := aftersales_internal.rollup_grain(period, since, until, as_of, zone, tenant);
    IF grain IS NOT NULL THEN
        RETURN QUERY SELECT * FROM aftersales_internal.rollup_staff(period, since, until, as_of, zone, tenant, grain);
        RETURN;
    END IF;
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS period_start, k.engineer_id, pg_catalog.max(k.engineer_name),
       pg_catalog.max(e.org_id), pg_catalog.max(o.name), pg_catalog.max(o.org_type),
       pg_catalog.count(*) AS tickets,
       pg_catalog.count(k.resolution_minutes),
       pg_catalog.count(*) FILTER (WHERE k.status NOT IN ('resolved', 'closed')),
       pg_catalog.round(pg_catalog.avg(k.handling_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.handling_business_minutes), 2),
       pg_catalog.round(pg_catalog.sum(k.handling_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.first_time_fix), 4),
       pg_catalog.round(pg_catalog.avg(k.csat_score), 2)
  FROM aftersales.kpi_ticket_facts($2, $3, $4, $1) k
  JOIN aftersales.engineers e ON e.tenant_id = k.tenant_id AND e.engineer_id = k.engineer_id
  LEFT JOIN aftersales.organisations o ON o.tenant_id = e.tenant_id AND o.org_id = e.org_id
 WHERE k.cancelled = 0
 GROUP BY 1, k.tenant_id, k.engineer_id) q
 ORDER BY q.period_start, q.engineer_id$q$,
        aftersales_internal.kpi_period_sql(period, 'k.opened_at', 5))
    USING tenant, since, until, as_of, zone;
END
$$;

-- aftersales install script, part 91: who may call the KPI rollups'
-- functions (after 90_privileges.sql, which revokes every internal function
-- from PUBLIC).
--
-- Reading: the KPI functions run with the caller's rights and call these
-- (STABLE: they cannot write); the rollup tables are readable like every
-- table (80_access.sql), under row-level security.
GRANT EXECUTE ON FUNCTION
    aftersales_internal.rollup_facts(bigint, bigint[], timestamptz),
    aftersales_internal.rollup_rows(bigint, bigint[], timestamptz, text),
    aftersales_internal.rollup_affected(bigint, bigint[]),
    aftersales_internal.rollup_grain(text, timestamptz, timestamptz, timestamptz, text, bigint),
    aftersales_internal.rollup_contrib(bigint, text, text, timestamptz, text),
    aftersales_internal.rollup_label(bigint, text, text),
    aftersales_internal.rollup_service(text, text, timestamptz, timestamptz, timestamptz, text, bigint, text),
    aftersales_internal.rollup_staff(text, timestamptz, timestamptz, timestamptz, text, bigint, text)
TO PUBLIC;
-- The tables, as every table is (80_access.sql: analysts read KPI sums,
-- no personal data); nobody writes them but the owner.
GRANT SELECT ON aftersales.kpi_rollup_state, aftersales.kpi_rollup_queue, aftersales.kpi_rollup_tickets,
    aftersales.kpi_rollup_cells
    TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer, aftersales_auditor,
       aftersales_analyst;
-- The triggers' and the fold's steps run as the owner only.
REVOKE ALL ON FUNCTION
    aftersales_internal.rollup_enqueue(), aftersales_internal.rollup_requeue(), aftersales_internal.rollup_stale(),
    aftersales_internal.rollup_tenant(), aftersales_internal.rollup_lock(bigint),
    aftersales_internal.rollup_add(bigint, aftersales.kpi_rollup_tickets[], aftersales.kpi_rollup_tickets[]),
    aftersales_internal.rollup_fold(bigint, text),
    aftersales_internal.rollup_rebuild(bigint, text, timestamptz, timestamptz)
FROM PUBLIC;
-- Writing: the fold and the rebuild run as the owner (derived data no
-- client writes), for the admins and the scheduled job.
REVOKE ALL ON FUNCTION aftersales.fold_kpi_rollups(bigint), aftersales.rebuild_kpi_rollups(bigint, timestamptz, timestamptz)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aftersales.fold_kpi_rollups(bigint), aftersales.rebuild_kpi_rollups(bigint, timestamptz, timestamptz)
    TO aftersales_admin, aftersales_sweep;
REVOKE ALL ON FUNCTION aftersales.check_kpi_rollups(bigint, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aftersales.check_kpi_rollups(bigint, timestamptz)
    TO aftersales_admin, aftersales_auditor;

SELECT aftersales_internal.apply_row_security();

-- ===== dispatch, workforce and knowledge: begin =====

-- ---------------------------------------------------------------------------
-- Dispatch, workforce and knowledge: engineers' calendars, positions and
-- seniority, attendance, the ranking of candidates and automatic
-- assignment, dispatch alerts, the staff boards, the knowledge base and
-- remote service (as src/sql/86_dispatch*.sql), and generate_sample_data
-- calling their sample step.

-- aftersales install script, part 86: dispatch and workforce.  Engineers'
-- working calendars and positions, attendance (check-in, check-out and
-- on-site check-ins with a position, and the facts derived from them),
-- the ranking of candidate engineers for a ticket with a score per
-- criterion, automatic assignment (on a call, at entry, or by the dispatch
-- sweep), and the dispatch alerts.  The staff boards are in
-- 86_dispatch_boards.sql, the knowledge base in 86_dispatch_knowledge.sql.
--
-- Time: every function that depends on the time takes it as an argument
-- (at or now, default aftersales.now()), so tests and replays are exact.
--
-- Lock order of automatic assignment (auto_assign, auto_assign_pending):
--   1. the ticket row (FOR NO KEY UPDATE; the sweep's batch skips tickets
--      another session holds);
--   2. the candidate engineers' rows, best first (FOR NO KEY UPDATE; the
--      sweep's batch skips engineers another session holds and leaves the
--      ticket to the next sweep when its only free candidates were held):
--      once it holds an engineer, it counts that engineer's open tickets
--      again in a fresh snapshot (READ COMMITTED) before choosing.
-- So two dispatchers never push an engineer over capacity and never assign
-- a ticket twice.  Engineer locks are kept to the end of the transaction:
-- a transaction that auto-assigns many tickets one call at a time should
-- commit per ticket or use auto_assign_pending, which never waits; two that
-- each hold an engineer the other needs are a deadlock, which PostgreSQL
-- resolves by aborting one (nothing of it is written).

-- ---------------------------------------------------------------------------
-- Positions

CREATE FUNCTION aftersales.distance_km(lat1 double precision, lon1 double precision,
                                       lat2 double precision, lon2 double precision)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'aftersales_distance_km' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.distance_km(double precision, double precision, double precision, double precision) IS
  'Great-circle (haversine) distance in kilometres between two positions given in degrees of latitude and longitude; out-of-range values are refused';

CREATE FUNCTION aftersales.check_position(latitude double precision, longitude double precision)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_check_position' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.check_position(double precision, double precision) IS
  'True for a valid position (latitude -90 to 90, longitude -180 to 180) or an unknown one (both NULL); otherwise an error naming the bad value';

CREATE FUNCTION aftersales_internal.distance_score(km double precision, max_km double precision)
    RETURNS double precision
    AS 'MODULE_PATHNAME', 'aftersales_distance_score' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales_internal.distance_score(double precision, double precision) IS
  'Internal: 1 at the site, falling linearly to 0 at max_km; 0 when the distance is unknown';

-- Where outlets and customers' sites are, and what an engineer and a
-- problem type need: columns of the existing tables, added here.
ALTER TABLE aftersales.organisations
    ADD COLUMN latitude double precision,
    ADD COLUMN longitude double precision,
    ADD CONSTRAINT organisations_position_check CHECK (aftersales.check_position(latitude, longitude));
COMMENT ON COLUMN aftersales.organisations.latitude IS 'Latitude of the outlet or office, degrees; NULL when unknown';
COMMENT ON COLUMN aftersales.organisations.longitude IS 'Longitude of the outlet or office, degrees; NULL when unknown';

ALTER TABLE aftersales.customers
    ADD COLUMN latitude double precision,
    ADD COLUMN longitude double precision,
    ADD CONSTRAINT customers_position_check CHECK (aftersales.check_position(latitude, longitude));
COMMENT ON COLUMN aftersales.customers.latitude IS 'Latitude of the service site, degrees; NULL when unknown';
COMMENT ON COLUMN aftersales.customers.longitude IS 'Longitude of the service site, degrees; NULL when unknown';

ALTER TABLE aftersales.engineers
    ADD COLUMN calendar text,
    ADD COLUMN seniority text NOT NULL DEFAULT 'regular'
        CONSTRAINT engineers_seniority_check CHECK (seniority IN ('junior', 'regular', 'senior', 'expert')),
    ADD CONSTRAINT engineers_calendar_fkey FOREIGN KEY (tenant_id, calendar)
        REFERENCES aftersales.calendars (tenant_id, name) ON UPDATE CASCADE;
COMMENT ON COLUMN aftersales.engineers.calendar IS
  'Working calendar (aftersales.calendars): shifts, rest days, holidays, make-up days, and leave as closures; on duty means inside it; NULL: no shifts kept, always on duty';
COMMENT ON COLUMN aftersales.engineers.seniority IS
  'junior, regular, senior or expert: complex and R&D-tier problems need senior or expert, key customers prefer them';

ALTER TABLE aftersales.problem_types
    ADD COLUMN required_skills text[] NOT NULL DEFAULT '{}',
    ADD COLUMN complex boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN aftersales.problem_types.required_skills IS
  'Skill tags an engineer needs for the problem (all of them) to be a candidate for automatic assignment';
COMMENT ON COLUMN aftersales.problem_types.complex IS 'Complex fault: only senior and expert engineers are candidates';

-- ---------------------------------------------------------------------------
-- Settings per tenant

CREATE TABLE aftersales.dispatch_settings (
    tenant_id               bigint       NOT NULL DEFAULT aftersales.current_tenant()
                                         REFERENCES aftersales.tenants,
    weight_skills           numeric(6,3) NOT NULL DEFAULT 3 CHECK (weight_skills >= 0),
    weight_coverage         numeric(6,3) NOT NULL DEFAULT 2 CHECK (weight_coverage >= 0),
    weight_on_duty          numeric(6,3) NOT NULL DEFAULT 2 CHECK (weight_on_duty >= 0),
    weight_load             numeric(6,3) NOT NULL DEFAULT 2 CHECK (weight_load >= 0),
    weight_distance         numeric(6,3) NOT NULL DEFAULT 2 CHECK (weight_distance >= 0),
    weight_tier             numeric(6,3) NOT NULL DEFAULT 1 CHECK (weight_tier >= 0),
    weight_continuity       numeric(6,3) NOT NULL DEFAULT 1 CHECK (weight_continuity >= 0),
    assign_at_entry         boolean      NOT NULL DEFAULT false,
    assign_after_minutes    integer      CHECK (assign_after_minutes BETWEEN 0 AND 525600),
    forbid_off_shift        boolean      NOT NULL DEFAULT false,
    arrival_window_minutes  integer      NOT NULL DEFAULT 240 CHECK (arrival_window_minutes BETWEEN 0 AND 10080),
    max_distance_km         numeric(8,2) NOT NULL DEFAULT 100 CHECK (max_distance_km > 0),
    anomaly_distance_km     numeric(8,2) NOT NULL DEFAULT 3 CHECK (anomaly_distance_km > 0),
    position_max_age_hours  integer      NOT NULL DEFAULT 12 CHECK (position_max_age_hours BETWEEN 1 AND 168),
    late_grace_minutes      integer      NOT NULL DEFAULT 10 CHECK (late_grace_minutes BETWEEN 0 AND 1440),
    max_session_hours       integer      NOT NULL DEFAULT 16 CHECK (max_session_hours BETWEEN 1 AND 48),
    updated_at              timestamptz  NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id),
    CHECK (weight_skills + weight_coverage + weight_on_duty + weight_load + weight_distance + weight_tier
           + weight_continuity > 0)
);
COMMENT ON TABLE aftersales.dispatch_settings IS
  'Dispatch and attendance settings per tenant: the weights of the ranking criteria, when to assign automatically, and the attendance thresholds; a tenant without a row gets the column defaults';
COMMENT ON COLUMN aftersales.dispatch_settings.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.dispatch_settings.weight_skills IS 'Weight of the skills (and, for complex or R&D-tier problems, seniority) criterion';
COMMENT ON COLUMN aftersales.dispatch_settings.weight_coverage IS 'Weight of coverage: the engineer''s organisation serves the customer''s, or the same region';
COMMENT ON COLUMN aftersales.dispatch_settings.weight_on_duty IS 'Weight of being on duty now, or soon enough for the arrival window';
COMMENT ON COLUMN aftersales.dispatch_settings.weight_load IS 'Weight of spare capacity (1 - open tickets / capacity)';
COMMENT ON COLUMN aftersales.dispatch_settings.weight_distance IS 'Weight of closeness to the customer''s site';
COMMENT ON COLUMN aftersales.dispatch_settings.weight_tier IS 'Weight of seniority for key and major customers';
COMMENT ON COLUMN aftersales.dispatch_settings.weight_continuity IS 'Weight of having serviced the unit (or the customer) before';
COMMENT ON COLUMN aftersales.dispatch_settings.assign_at_entry IS 'Assign every new ticket automatically when it is entered';
COMMENT ON COLUMN aftersales.dispatch_settings.assign_after_minutes IS
  'The dispatch sweep assigns tickets still awaiting assignment this many minutes after entry; NULL: never';
COMMENT ON COLUMN aftersales.dispatch_settings.forbid_off_shift IS
  'Refuse any assignment (manual or automatic) of an engineer outside a shift of their calendar';
COMMENT ON COLUMN aftersales.dispatch_settings.arrival_window_minutes IS
  'An engineer whose next shift starts within this many minutes is still a candidate (for the arrival target)';
COMMENT ON COLUMN aftersales.dispatch_settings.max_distance_km IS 'Distance at which the distance score reaches 0';
COMMENT ON COLUMN aftersales.dispatch_settings.anomaly_distance_km IS
  'A check-in farther than this from the outlet (or, on site, from the customer''s site) is a location anomaly';
COMMENT ON COLUMN aftersales.dispatch_settings.position_max_age_hours IS
  'An engineer''s last check-in position is used for distance while younger than this; else the outlet''s';
COMMENT ON COLUMN aftersales.dispatch_settings.late_grace_minutes IS
  'A first check-in of the day later than the shift start plus this is a late check-in';
COMMENT ON COLUMN aftersales.dispatch_settings.max_session_hours IS
  'A check-in without a check-out this many hours later (or before the next check-in) is a missing check-out';
COMMENT ON COLUMN aftersales.dispatch_settings.updated_at IS 'When the row was last changed';
SELECT pg_catalog.pg_extension_config_dump('aftersales.dispatch_settings', '');

-- The tenant's settings, or the defaults: one row either way.
CREATE FUNCTION aftersales_internal.dispatch_config(tenant bigint) RETURNS aftersales.dispatch_settings
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT x.s FROM (
        SELECT s, 0 AS ord FROM aftersales.dispatch_settings s
         WHERE s.tenant_id OPERATOR(pg_catalog.=) dispatch_config.tenant
        UNION ALL
        SELECT ROW(dispatch_config.tenant, 3, 2, 2, 2, 2, 1, 1, false, NULL, false, 240, 100, 3, 12, 10, 16,
                   '-infinity')::aftersales.dispatch_settings, 1) x
     ORDER BY x.ord LIMIT 1
$$;
COMMENT ON FUNCTION aftersales_internal.dispatch_config(bigint) IS
  'Internal: the tenant''s dispatch settings, or the column defaults when it has no row';

-- ---------------------------------------------------------------------------
-- Shifts

CREATE FUNCTION aftersales_internal.engineer_calendar(tenant bigint, engineer bigint) RETURNS aftersales.calendar
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.calendar FROM aftersales.engineers e
      JOIN aftersales.calendars c ON c.tenant_id OPERATOR(pg_catalog.=) e.tenant_id AND c.name OPERATOR(pg_catalog.=) e.calendar
     WHERE e.tenant_id OPERATOR(pg_catalog.=) engineer_calendar.tenant
       AND e.engineer_id OPERATOR(pg_catalog.=) engineer_calendar.engineer
$$;
COMMENT ON FUNCTION aftersales_internal.engineer_calendar(bigint, bigint) IS
  'Internal: the working calendar of an engineer, NULL when none is kept';

CREATE FUNCTION aftersales.engineer_on_shift(engineer bigint, at timestamptz DEFAULT aftersales.now())
    RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    cal aftersales.calendar;
BEGIN
    PERFORM aftersales_internal.require_engineer(engineer, tenant, 'engineer_on_shift');
    IF at IS NULL OR NOT pg_catalog.isfinite(at) THEN
        RAISE EXCEPTION 'at must be a finite time, not %', COALESCE(at::text, 'NULL')
            USING ERRCODE = '22008',
                  HINT = 'For example: SELECT aftersales.engineer_on_shift(7, ''2026-03-02 10:00+08'');';
    END IF;
    cal := aftersales_internal.engineer_calendar(tenant, engineer);
    RETURN cal IS NULL OR aftersales.is_business_time(cal, at);
END
$$;
COMMENT ON FUNCTION aftersales.engineer_on_shift(bigint, timestamptz) IS
  'Whether the engineer is inside a shift of their working calendar at the given time (leave and sick days are closures of the calendar); true when no calendar is kept';

-- ---------------------------------------------------------------------------
-- Attendance

CREATE TABLE aftersales.attendance_events (
    tenant_id     bigint           NOT NULL DEFAULT aftersales.current_tenant()
                                   REFERENCES aftersales.tenants,
    event_id      bigint           GENERATED ALWAYS AS IDENTITY,
    engineer_id   bigint           NOT NULL,
    org_id        bigint           NOT NULL,
    kind          text             NOT NULL CHECK (kind IN ('check_in', 'check_out', 'site')),
    at            timestamptz      NOT NULL,
    latitude      double precision NOT NULL,
    longitude     double precision NOT NULL,
    ticket_id     bigint,
    reference     text             CHECK (reference IN ('outlet', 'site')),
    reference_km  numeric(10,3),
    anomaly       boolean          NOT NULL DEFAULT false,
    actor         text             NOT NULL,
    recorded_at   timestamptz      NOT NULL DEFAULT pg_catalog.statement_timestamp(),
    PRIMARY KEY (tenant_id, event_id),
    FOREIGN KEY (tenant_id, engineer_id) REFERENCES aftersales.engineers (tenant_id, engineer_id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES aftersales.organisations (tenant_id, org_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    CONSTRAINT attendance_events_position_check CHECK (aftersales.check_position(latitude, longitude)),
    CHECK ((kind = 'site') = (ticket_id IS NOT NULL)),
    CHECK ((reference IS NULL) = (reference_km IS NULL)),
    CHECK (NOT anomaly OR reference_km IS NOT NULL)
);
CREATE INDEX attendance_events_engineer_idx ON aftersales.attendance_events (tenant_id, engineer_id, at);
COMMENT ON TABLE aftersales.attendance_events IS
  'Attendance: check-ins and check-outs from the engineer''s app and on-site check-ins at a ticket, each with a position; written by aftersales.check_in, check_out and site_check_in';
COMMENT ON COLUMN aftersales.attendance_events.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.attendance_events.event_id IS 'Event id';
COMMENT ON COLUMN aftersales.attendance_events.engineer_id IS 'Engineer';
COMMENT ON COLUMN aftersales.attendance_events.org_id IS 'The engineer''s organisation at the time (scopes who sees the row)';
COMMENT ON COLUMN aftersales.attendance_events.kind IS 'check_in, check_out, or site (an on-site check-in at a ticket)';
COMMENT ON COLUMN aftersales.attendance_events.at IS 'When it happened';
COMMENT ON COLUMN aftersales.attendance_events.latitude IS 'Latitude reported by the app, degrees';
COMMENT ON COLUMN aftersales.attendance_events.longitude IS 'Longitude reported by the app, degrees';
COMMENT ON COLUMN aftersales.attendance_events.ticket_id IS 'For site: the ticket';
COMMENT ON COLUMN aftersales.attendance_events.reference IS
  'What the position was compared with: outlet (the engineer''s organisation) or site (the ticket''s customer); NULL when that position is unknown';
COMMENT ON COLUMN aftersales.attendance_events.reference_km IS 'Distance from the reference, km';
COMMENT ON COLUMN aftersales.attendance_events.anomaly IS
  'Location anomaly: farther from the reference than the setting anomaly_distance_km at the time';
COMMENT ON COLUMN aftersales.attendance_events.actor IS 'Who recorded it (the authenticated identity)';
COMMENT ON COLUMN aftersales.attendance_events.recorded_at IS 'When the row was written (wall clock)';
SELECT pg_catalog.pg_extension_config_dump('aftersales.attendance_events', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.attendance_events', 'event_id')::regclass, '');

-- One attendance event, validated.  The engineer's row is locked (no key
-- update) so that one engineer's events are judged in order: a check-out
-- needs the open check-in, a check-in needs none open.
CREATE FUNCTION aftersales_internal.attendance(kind text, engineer bigint, ticket bigint, latitude double precision,
                                              longitude double precision, at timestamptz, fn text)
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    cfg aftersales.dispatch_settings := aftersales_internal.dispatch_config(tenant);
    example constant text := pg_catalog.format('SELECT aftersales.%s(%s7, latitude => 31.2304, longitude => 121.4737, at => ''2026-03-02 08:55+08'');',
                                              fn, CASE WHEN kind = 'site' THEN '42, engineer => ' ELSE '' END);
    e aftersales.engineers;
    last_kind text;
    last_at timestamptz;
    ref text;
    ref_lat double precision;
    ref_lon double precision;
    km numeric;
    me bigint;
    eid bigint;
BEGIN
    IF latitude IS NULL OR longitude IS NULL THEN
        RAISE EXCEPTION 'latitude and longitude must not be null'
            USING ERRCODE = '22004', HINT = 'Pass the position the app reported, for example: ' || example;
    END IF;
    PERFORM aftersales.check_position(latitude, longitude);
    IF at IS NULL OR NOT pg_catalog.isfinite(at) THEN
        RAISE EXCEPTION 'at must be a finite time, not %', COALESCE(at::text, 'NULL')
            USING ERRCODE = '22008', HINT = 'For example: ' || example;
    END IF;
    IF kind = 'site' THEN
        IF ticket IS NULL THEN
            RAISE EXCEPTION 'ticket must not be null'
                USING ERRCODE = '22004', HINT = 'Name the ticket the engineer is at, for example: ' || example;
        END IF;
        SELECT t.assignee_id, c.latitude, c.longitude INTO me, ref_lat, ref_lon
          FROM aftersales.tickets t JOIN aftersales.customers c ON c.tenant_id = t.tenant_id AND c.customer_id = t.customer_id
         WHERE t.tenant_id = tenant AND t.ticket_id = attendance.ticket;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'ticket % does not exist for tenant %', ticket, tenant
                USING ERRCODE = 'P0002',
                      HINT = 'List the tickets with: SELECT ticket_id, status FROM aftersales.tickets WHERE tenant_id = aftersales.current_tenant();';
        END IF;
        engineer := COALESCE(engineer, me);
        IF engineer IS NULL THEN
            RAISE EXCEPTION 'ticket % has no assignee to check in', ticket
                USING ERRCODE = '55000', HINT = 'Name the engineer, for example: ' || example;
        END IF;
        ref := 'site';
    END IF;
    PERFORM aftersales_internal.require_engineer(engineer, tenant, fn);
    SELECT * INTO e FROM aftersales.engineers x
     WHERE x.tenant_id = tenant AND x.engineer_id = engineer FOR NO KEY UPDATE;
    -- an engineer member records only their own attendance
    IF aftersales.current_member_kind() = 'engineer'
       AND (SELECT w.engineer_id FROM aftersales.whoami() w) IS DISTINCT FROM engineer THEN
        RAISE EXCEPTION 'engineer % cannot record the attendance of engineer %', (SELECT w.engineer_id FROM aftersales.whoami() w), engineer
            USING ERRCODE = '42501', HINT = 'Engineers check in and out for themselves; a manager may record it for others.';
    END IF;
    SELECT a.kind, a.at INTO last_kind, last_at FROM aftersales.attendance_events a
     WHERE a.tenant_id = tenant AND a.engineer_id = engineer AND a.kind IN ('check_in', 'check_out')
     ORDER BY a.at DESC, a.event_id DESC LIMIT 1;
    IF kind = 'check_out' THEN
        IF last_kind IS DISTINCT FROM 'check_in' THEN
            RAISE EXCEPTION 'engineer % is not checked in', engineer
                USING ERRCODE = '55000',
                      DETAIL = CASE WHEN last_at IS NULL THEN 'The engineer has never checked in.'
                                    ELSE pg_catalog.format('The last attendance event was a check-out at %s.', last_at) END,
                      HINT = 'Check in first: SELECT aftersales.check_in(7, latitude => 31.2304, longitude => 121.4737);';
        END IF;
        IF at < last_at THEN
            RAISE EXCEPTION 'check-out at % is before the check-in at %', at, last_at
                USING ERRCODE = '22007',
                      HINT = 'A check-out comes after its check-in; pass the time it happened: ' || example;
        END IF;
    ELSIF kind = 'check_in' THEN
        IF last_kind = 'check_in' THEN
            RAISE EXCEPTION 'engineer % is already checked in since %', engineer, last_at
                USING ERRCODE = '55000',
                      HINT = 'Check out first: SELECT aftersales.check_out(7, latitude => 31.2304, longitude => 121.4737);';
        END IF;
        IF at < last_at THEN
            RAISE EXCEPTION 'check-in at % is before the last check-out at %', at, last_at
                USING ERRCODE = '22007', HINT = 'Attendance events of an engineer come in time order: ' || example;
        END IF;
    END IF;
    IF ref IS NULL THEN
        SELECT o.latitude, o.longitude INTO ref_lat, ref_lon FROM aftersales.organisations o
         WHERE o.tenant_id = tenant AND o.org_id = e.org_id;
        ref := 'outlet';
    END IF;
    IF ref_lat IS NULL THEN
        ref := NULL;
    ELSE
        km := pg_catalog.round(aftersales.distance_km(latitude, longitude, ref_lat, ref_lon)::numeric, 3);
    END IF;
    INSERT INTO aftersales.attendance_events AS a (tenant_id, engineer_id, org_id, kind, at, latitude, longitude, ticket_id,
                                                   reference, reference_km, anomaly, actor)
    VALUES (tenant, engineer, e.org_id, kind, at, latitude, longitude, ticket, ref, km,
            COALESCE(km > cfg.anomaly_distance_km, false), aftersales.actor())
    RETURNING a.event_id INTO eid;
    RETURN eid;
END
$$;
COMMENT ON FUNCTION aftersales_internal.attendance(text, bigint, bigint, double precision, double precision, timestamptz, text) IS
  'Internal: validates and records one attendance event, with its distance from the outlet or the site and whether it is a location anomaly';

CREATE FUNCTION aftersales.check_in(engineer bigint, latitude double precision, longitude double precision,
                                    at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$ SELECT aftersales_internal.attendance('check_in', engineer, NULL, latitude, longitude, at, 'check_in') $$;
COMMENT ON FUNCTION aftersales.check_in(bigint, double precision, double precision, timestamptz) IS
  'Engineer checks in (starts being at work) at a position; refused when already checked in; returns the event id';

CREATE FUNCTION aftersales.check_out(engineer bigint, latitude double precision, longitude double precision,
                                     at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$ SELECT aftersales_internal.attendance('check_out', engineer, NULL, latitude, longitude, at, 'check_out') $$;
COMMENT ON FUNCTION aftersales.check_out(bigint, double precision, double precision, timestamptz) IS
  'Engineer checks out at a position; refused without an open check-in or before it; returns the event id';

CREATE FUNCTION aftersales.site_check_in(ticket bigint, latitude double precision, longitude double precision,
                                         engineer bigint DEFAULT NULL, at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$ SELECT aftersales_internal.attendance('site', engineer, ticket, latitude, longitude, at, 'site_check_in') $$;
COMMENT ON FUNCTION aftersales.site_check_in(bigint, double precision, double precision, bigint, timestamptz) IS
  'On-site check-in of an engineer (default: the assignee) at a ticket''s customer, with the position; returns the event id';

-- Sessions: each check-in with the check-out that closed it.  A check-in
-- followed by another check-in, or not closed within max_session_hours,
-- has a missing check-out.
CREATE VIEW aftersales.attendance_sessions AS
SELECT s.tenant_id, s.engineer_id, s.org_id, s.event_id AS check_in_id, s.at AS check_in_at,
       s.anomaly AS check_in_anomaly,
       CASE WHEN s.next_kind = 'check_out' THEN s.next_at END AS check_out_at,
       CASE WHEN s.next_kind = 'check_out' THEN s.next_id END AS check_out_id,
       (CASE WHEN s.next_kind = 'check_out'
             THEN pg_catalog.round(EXTRACT(EPOCH FROM s.next_at - s.at) / 3600, 4) END)::numeric(10,4) AS hours,
       CASE WHEN s.next_kind = 'check_out' THEN 'closed'
            WHEN s.next_kind = 'check_in' THEN 'missing_check_out'
            ELSE 'open' END AS status
  FROM (SELECT a.tenant_id, a.engineer_id, a.org_id, a.event_id, a.kind, a.at, a.anomaly,
               pg_catalog.lead(a.kind) OVER w AS next_kind,
               pg_catalog.lead(a.at) OVER w AS next_at,
               pg_catalog.lead(a.event_id) OVER w AS next_id
          FROM aftersales.attendance_events a
         WHERE a.kind IN ('check_in', 'check_out')
        WINDOW w AS (PARTITION BY a.tenant_id, a.engineer_id ORDER BY a.at, a.event_id)) s
 WHERE s.kind = 'check_in';
COMMENT ON VIEW aftersales.attendance_sessions IS
  'Attendance sessions: each check-in with the check-out that closed it; status closed, missing_check_out (another check-in came first) or open (none yet: aftersales.attendance_days judges it against max_session_hours at a given time)';
COMMENT ON COLUMN aftersales.attendance_sessions.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.attendance_sessions.engineer_id IS 'Engineer';
COMMENT ON COLUMN aftersales.attendance_sessions.org_id IS 'The engineer''s organisation at check-in';
COMMENT ON COLUMN aftersales.attendance_sessions.check_in_id IS 'Attendance event of the check-in';
COMMENT ON COLUMN aftersales.attendance_sessions.check_in_at IS 'Check-in time';
COMMENT ON COLUMN aftersales.attendance_sessions.check_in_anomaly IS 'The check-in was a location anomaly';
COMMENT ON COLUMN aftersales.attendance_sessions.check_out_at IS 'Check-out time; NULL when missing or still open';
COMMENT ON COLUMN aftersales.attendance_sessions.check_out_id IS 'Attendance event of the check-out';
COMMENT ON COLUMN aftersales.attendance_sessions.hours IS 'Hours between check-in and check-out, for closed sessions';
COMMENT ON COLUMN aftersales.attendance_sessions.status IS 'closed, missing_check_out or open';

-- The interval an engineer was on duty (checked in) in each session, as of
-- a time: closed sessions to their check-out, an open one to as_of while
-- younger than max_session_hours; a missing check-out counts nothing (the
-- time cannot be known; the session is flagged for the supervisor).
CREATE FUNCTION aftersales_internal.duty_intervals(tenant bigint, as_of timestamptz)
    RETURNS TABLE (engineer_id bigint, check_in_id bigint, check_in_at timestamptz, duty tstzrange, missing boolean,
                   missing_at timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.engineer_id, s.check_in_id, s.check_in_at,
           CASE WHEN s.status = 'closed' AND s.check_out_at <= s.check_in_at + pg_catalog.make_interval(hours => c.max_session_hours)
                THEN pg_catalog.tstzrange(s.check_in_at, s.check_out_at)
                WHEN s.status = 'open' AND as_of < s.check_in_at + pg_catalog.make_interval(hours => c.max_session_hours)
                THEN pg_catalog.tstzrange(s.check_in_at, GREATEST(s.check_in_at, as_of))
                ELSE 'empty'::tstzrange END,
           NOT (s.status = 'closed' AND s.check_out_at <= s.check_in_at + pg_catalog.make_interval(hours => c.max_session_hours)
                OR s.status = 'open' AND as_of < s.check_in_at + pg_catalog.make_interval(hours => c.max_session_hours)),
           CASE WHEN s.status = 'missing_check_out'
                THEN LEAST(s.check_in_at + pg_catalog.make_interval(hours => c.max_session_hours),
                           (SELECT pg_catalog.min(n.at) FROM aftersales.attendance_events n
                             WHERE n.tenant_id = s.tenant_id AND n.engineer_id = s.engineer_id AND n.kind = 'check_in'
                               AND (n.at, n.event_id) > (s.check_in_at, s.check_in_id)))
                ELSE s.check_in_at + pg_catalog.make_interval(hours => c.max_session_hours) END
      FROM aftersales.attendance_sessions s
     CROSS JOIN aftersales_internal.dispatch_config(duty_intervals.tenant) c
     WHERE s.tenant_id = duty_intervals.tenant AND s.check_in_at <= as_of
$$;
COMMENT ON FUNCTION aftersales_internal.duty_intervals(bigint, timestamptz) IS
  'Internal: per check-in, the on-duty interval as of a time and whether its check-out is missing (and since when)';

CREATE FUNCTION aftersales_internal.range_hours(r tstzmultirange) RETURNS double precision
    AS 'MODULE_PATHNAME', 'aftersales_range_hours' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales_internal.range_hours(tstzmultirange) IS 'Internal: total length of a multirange, in hours';

-- Each engineer's calendar and the zone their days are cut in: the
-- calendar's zone, else the tenant's reporting zone.
CREATE FUNCTION aftersales_internal.engineer_zones(tenant bigint)
    RETURNS TABLE (engineer_id bigint, org_id bigint, cal aftersales.calendar, zone text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT e.engineer_id, e.org_id, c.calendar,
           COALESCE(aftersales.calendar_zone(c.calendar), aftersales.reporting_zone(e.tenant_id))
      FROM aftersales.engineers e
      LEFT JOIN aftersales.calendars c ON c.tenant_id = e.tenant_id AND c.name = e.calendar
     WHERE e.tenant_id = engineer_zones.tenant
$$;
COMMENT ON FUNCTION aftersales_internal.engineer_zones(bigint) IS
  'Internal: each engineer''s organisation, working calendar and the zone of their days';

-- The parts of a time range on each local day it touches, in a zone.
CREATE FUNCTION aftersales_internal.split_days(r tstzrange, zone text) RETURNS TABLE (day date, part tstzrange)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT g.d::date, r * pg_catalog.tstzrange(g.d AT TIME ZONE zone, (g.d + '1 day'::interval) AT TIME ZONE zone)
      FROM pg_catalog.generate_series(pg_catalog.date_trunc('day', pg_catalog.lower(r) AT TIME ZONE zone),
                                      pg_catalog.date_trunc('day', pg_catalog.upper(r) AT TIME ZONE zone),
                                      '1 day'::interval) g (d)
     WHERE NOT pg_catalog.isempty(r)
       AND NOT pg_catalog.isempty(r * pg_catalog.tstzrange(g.d AT TIME ZONE zone, (g.d + '1 day'::interval) AT TIME ZONE zone))
$$;
COMMENT ON FUNCTION aftersales_internal.split_days(tstzrange, text) IS
  'Internal: a time range cut at the midnights of a zone: each local day it touches with the part on it';

CREATE FUNCTION aftersales_internal.require_days(since date, until date, as_of timestamptz, fn text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF since IS NULL OR until IS NULL OR NOT pg_catalog.isfinite(since) OR NOT pg_catalog.isfinite(until)
       OR until <= since OR until - since > 1000 THEN
        RAISE EXCEPTION 'invalid day range: % to %', COALESCE(since::text, 'NULL'), COALESCE(until::text, 'NULL')
            USING ERRCODE = '22023',
                  DETAIL = 'Days run from since (included) to until (excluded), at most 1000 days.',
                  HINT = pg_catalog.format('For example: SELECT * FROM aftersales.%s(''2026-03-01'', ''2026-04-01'', as_of => ''2026-04-01 00:00+08'');', fn);
    END IF;
    IF as_of IS NULL OR NOT pg_catalog.isfinite(as_of) THEN
        RAISE EXCEPTION 'as_of must be a finite time, not %', COALESCE(as_of::text, 'NULL')
            USING ERRCODE = '22008',
                  HINT = pg_catalog.format('For example: SELECT * FROM aftersales.%s(''2026-03-01'', ''2026-04-01'', as_of => ''2026-04-01 00:00+08'');', fn);
    END IF;
END
$$;
COMMENT ON FUNCTION aftersales_internal.require_days(date, date, timestamptz, text) IS 'Internal: the error for a bad day range or as_of';

CREATE FUNCTION aftersales.attendance_days(since date, until date, as_of timestamptz DEFAULT aftersales.now(),
                                           tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (tenant_id bigint, engineer_id bigint, org_id bigint, day date, scheduled_hours numeric,
                   on_duty_hours numeric, first_check_in timestamptz, shift_start timestamptz,
                   late_minutes numeric, late boolean, check_ins bigint, missing_check_outs bigint,
                   location_anomalies bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    grace interval;
    lo constant timestamptz := since::timestamp AT TIME ZONE 'UTC' - '2 days'::interval;
    hi constant timestamptz := until::timestamp AT TIME ZONE 'UTC' + '2 days'::interval;
BEGIN
    PERFORM aftersales_internal.require_days(since, until, as_of, 'attendance_days');
    grace := pg_catalog.make_interval(mins => (aftersales_internal.dispatch_config(tenant)).late_grace_minutes);
    -- set-based: every fact is grouped by (engineer, local day) and joined
    -- to the days by hash, never looked up day by day
    RETURN QUERY
    WITH eng AS MATERIALIZED (SELECT * FROM aftersales_internal.engineer_zones(attendance_days.tenant)),
    days AS (
        SELECT g.engineer_id, g.org_id, g.cal, g.zone, x.d::date AS day, x.d AT TIME ZONE g.zone AS day_start,
               (x.d + '1 day'::interval) AT TIME ZONE g.zone AS day_end
          FROM eng g CROSS JOIN pg_catalog.generate_series(since::timestamp, (until - 1)::timestamp, '1 day'::interval) x (d)
    ),
    ev AS (
        SELECT a.engineer_id, (a.at AT TIME ZONE g.zone)::date AS day,
               pg_catalog.min(a.at) FILTER (WHERE a.kind = 'check_in') AS first_at,
               pg_catalog.count(*) FILTER (WHERE a.kind = 'check_in') AS n_in,
               pg_catalog.count(*) FILTER (WHERE a.anomaly) AS n_anomalies
          FROM aftersales.attendance_events a JOIN eng g ON g.engineer_id = a.engineer_id
         WHERE a.tenant_id = attendance_days.tenant AND a.at >= lo AND a.at < hi AND a.at <= as_of
         GROUP BY 1, 2
    ),
    duty AS MATERIALIZED (
        SELECT u.*, g.zone FROM aftersales_internal.duty_intervals(attendance_days.tenant, as_of) u
          JOIN eng g ON g.engineer_id = u.engineer_id
         WHERE u.check_in_at >= lo AND u.check_in_at < hi
    ),
    duty_day AS (
        SELECT u.engineer_id, p.day, pg_catalog.sum(EXTRACT(EPOCH FROM pg_catalog.upper(p.part) - pg_catalog.lower(p.part))) / 3600 AS hours
          FROM duty u CROSS JOIN LATERAL aftersales_internal.split_days(u.duty, u.zone) p
         GROUP BY 1, 2
    ),
    miss AS (
        SELECT u.engineer_id, (u.check_in_at AT TIME ZONE u.zone)::date AS day, pg_catalog.count(*) AS n
          FROM duty u WHERE u.missing GROUP BY 1, 2
    )
    SELECT attendance_days.tenant, d.engineer_id, d.org_id, d.day,
           CASE WHEN d.cal IS NOT NULL
                THEN pg_catalog.round(aftersales.business_minutes(d.cal, d.day_start, d.day_end) / 60, 2) END,
           pg_catalog.round(COALESCE(dd.hours, 0), 2),
           ev.first_at, st.shift_start,
           CASE WHEN ev.first_at IS NOT NULL AND st.shift_start IS NOT NULL
                THEN pg_catalog.round(GREATEST(0, EXTRACT(EPOCH FROM ev.first_at - st.shift_start) / 60), 2) END,
           COALESCE(ev.first_at > st.shift_start + grace, false),
           COALESCE(ev.n_in, 0), COALESCE(m.n, 0), COALESCE(ev.n_anomalies, 0)
      FROM days d
      LEFT JOIN ev ON ev.engineer_id = d.engineer_id AND ev.day = d.day
      LEFT JOIN duty_day dd ON dd.engineer_id = d.engineer_id AND dd.day = d.day
      LEFT JOIN miss m ON m.engineer_id = d.engineer_id AND m.day = d.day
      CROSS JOIN LATERAL (SELECT CASE WHEN d.cal IS NOT NULL AND aftersales.next_business_time(d.cal, d.day_start) < d.day_end
                                      THEN aftersales.next_business_time(d.cal, d.day_start) END AS shift_start) st
     WHERE d.day_start <= as_of
     ORDER BY d.engineer_id, d.day;
END
$$;
COMMENT ON FUNCTION aftersales.attendance_days(date, date, timestamptz, bigint) IS
  'Attendance per engineer and local day in [since, until) as of a time: scheduled hours (calendar), on-duty hours (checked in; an open session up to as_of, a missing check-out counts nothing), first check-in, shift start, late check-in (after the start plus late_grace_minutes), check-ins, missing check-outs, location anomalies';

-- ---------------------------------------------------------------------------
-- Dispatch alerts

CREATE TABLE aftersales.dispatch_alerts (
    tenant_id        bigint      NOT NULL DEFAULT aftersales.current_tenant()
                                 REFERENCES aftersales.tenants,
    alert_id         bigint      GENERATED ALWAYS AS IDENTITY,
    kind             text        NOT NULL
                                 CHECK (kind IN ('location_anomaly', 'late_check_in', 'missing_check_out', 'no_candidate')),
    subject_id       bigint      NOT NULL,
    engineer_id      bigint,
    ticket_id        bigint,
    org_id           bigint,
    role             text        NOT NULL,
    due_at           timestamptz NOT NULL,
    raised_at        timestamptz NOT NULL,
    detail           jsonb       NOT NULL DEFAULT '{}',
    acknowledged_at  timestamptz,
    acknowledged_by  text,
    PRIMARY KEY (tenant_id, alert_id),
    -- once: the database refuses a second alert about the same thing
    CONSTRAINT dispatch_alerts_once UNIQUE (tenant_id, kind, subject_id),
    FOREIGN KEY (tenant_id, engineer_id) REFERENCES aftersales.engineers (tenant_id, engineer_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES aftersales.organisations (tenant_id, org_id),
    CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL))
);
CREATE INDEX dispatch_alerts_unacknowledged_idx ON aftersales.dispatch_alerts (tenant_id, alert_id)
    WHERE acknowledged_at IS NULL;
COMMENT ON TABLE aftersales.dispatch_alerts IS
  'Outbox of workforce and dispatch alerts, each raised once: location anomalies, late check-ins and missing check-outs (by aftersales.dispatch_sweep), tickets nobody suitable could be assigned (by auto_assign); each new row is announced by NOTIFY aftersales_alerts';
COMMENT ON COLUMN aftersales.dispatch_alerts.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.dispatch_alerts.alert_id IS 'Alert id, increasing';
COMMENT ON COLUMN aftersales.dispatch_alerts.kind IS 'location_anomaly, late_check_in, missing_check_out or no_candidate';
COMMENT ON COLUMN aftersales.dispatch_alerts.subject_id IS
  'What it is about: the attendance event (the check-in for late and missing check-outs), or the ticket for no_candidate';
COMMENT ON COLUMN aftersales.dispatch_alerts.engineer_id IS 'Engineer concerned, for attendance alerts';
COMMENT ON COLUMN aftersales.dispatch_alerts.ticket_id IS 'Ticket concerned, for no_candidate and on-site anomalies';
COMMENT ON COLUMN aftersales.dispatch_alerts.org_id IS 'Organisation of the engineer or the ticket (scopes who sees it)';
COMMENT ON COLUMN aftersales.dispatch_alerts.role IS 'Who is to be told: supervisor or service_manager';
COMMENT ON COLUMN aftersales.dispatch_alerts.due_at IS 'When the fact arose (the check-in, the deadline of the check-out, the failed assignment)';
COMMENT ON COLUMN aftersales.dispatch_alerts.raised_at IS 'When it was raised (the sweep''s or the call''s now)';
COMMENT ON COLUMN aftersales.dispatch_alerts.detail IS 'Facts for the message: distances, minutes late, candidates considered';
COMMENT ON COLUMN aftersales.dispatch_alerts.acknowledged_at IS 'When it was acknowledged; NULL while not';
COMMENT ON COLUMN aftersales.dispatch_alerts.acknowledged_by IS 'Who acknowledged it';
SELECT pg_catalog.pg_extension_config_dump('aftersales.dispatch_alerts', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.dispatch_alerts', 'alert_id')::regclass, '');

CREATE FUNCTION aftersales_internal.dispatch_alert(tenant bigint, kind text, subject bigint, engineer bigint, ticket bigint,
                                                  org bigint, role text, due_at timestamptz, raised_at timestamptz,
                                                  detail jsonb)
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    aid bigint;
BEGIN
    INSERT INTO aftersales.dispatch_alerts AS a (tenant_id, kind, subject_id, engineer_id, ticket_id, org_id, role, due_at,
                                                 raised_at, detail)
    VALUES (tenant, kind, subject, engineer, ticket, org, role, due_at, raised_at, detail)
    ON CONFLICT ON CONSTRAINT dispatch_alerts_once DO NOTHING
    RETURNING a.alert_id INTO aid;
    IF aid IS NOT NULL THEN
        PERFORM pg_catalog.pg_notify('aftersales_alerts', pg_catalog.json_build_object(
            'tenant', tenant, 'dispatch_alert', aid, 'kind', kind, 'engineer', engineer, 'ticket', ticket)::text);
    END IF;
    RETURN aid;
END
$$;
COMMENT ON FUNCTION aftersales_internal.dispatch_alert(bigint, text, bigint, bigint, bigint, bigint, text, timestamptz,
                                                       timestamptz, jsonb) IS
  'Internal: raises a dispatch alert once (a second one about the same subject is dropped) and announces it; returns its id or NULL';

CREATE FUNCTION aftersales.acknowledge_dispatch_alert(alert bigint, at timestamptz DEFAULT aftersales.now())
    RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    done boolean;
BEGIN
    IF at IS NULL OR NOT pg_catalog.isfinite(at) THEN
        RAISE EXCEPTION 'at must be a finite time, not %', COALESCE(at::text, 'NULL')
            USING ERRCODE = '22008', HINT = 'For example: SELECT aftersales.acknowledge_dispatch_alert(5, at => ''2026-03-02 10:00+08'');';
    END IF;
    UPDATE aftersales.dispatch_alerts a
       SET acknowledged_at = COALESCE(a.acknowledged_at, acknowledge_dispatch_alert.at),
           acknowledged_by = COALESCE(a.acknowledged_by, aftersales.actor())
     WHERE a.tenant_id = tenant AND a.alert_id = alert
    RETURNING a.acknowledged_at = acknowledge_dispatch_alert.at INTO done;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'dispatch alert % does not exist for tenant %', alert, tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List them with: SELECT alert_id, kind FROM aftersales.dispatch_alerts WHERE acknowledged_at IS NULL;';
    END IF;
    RETURN done;
END
$$;
COMMENT ON FUNCTION aftersales.acknowledge_dispatch_alert(bigint, timestamptz) IS
  'Acknowledge a dispatch alert; true when this call acknowledged it, false when it already was';

-- ---------------------------------------------------------------------------
-- Candidates and ranking

-- Open tickets an engineer holds: the capacity counts these.
CREATE FUNCTION aftersales_internal.engineer_load(tenant bigint, engineer bigint) RETURNS integer
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.count(*)::integer FROM aftersales.tickets t
     WHERE t.tenant_id OPERATOR(pg_catalog.=) engineer_load.tenant
       AND t.assignee_id OPERATOR(pg_catalog.=) engineer_load.engineer
       AND t.status OPERATOR(pg_catalog.=) ANY ('{assigned,in_progress,on_site,on_hold}'::aftersales.ticket_status[])
$$;
COMMENT ON FUNCTION aftersales_internal.engineer_load(bigint, bigint) IS
  'Internal: open tickets the engineer holds (assigned, in progress, on site, on hold), counted against capacity';

CREATE FUNCTION aftersales_internal.seniority_rank(seniority text) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE seniority WHEN 'junior' THEN 0 WHEN 'regular' THEN 0.34 WHEN 'senior' THEN 0.67 WHEN 'expert' THEN 1 END::float8
$$;
COMMENT ON FUNCTION aftersales_internal.seniority_rank(text) IS 'Internal: seniority as a score, junior 0 to expert 1';

-- An organisation and every organisation above it: the ones that cover it.
CREATE FUNCTION aftersales_internal.org_ancestors(tenant bigint, org bigint) RETURNS TABLE (org_id bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE up (org_id, parent_id, depth) AS (
        SELECT o.org_id, o.parent_id, 1 FROM aftersales.organisations o
         WHERE o.tenant_id OPERATOR(pg_catalog.=) org_ancestors.tenant AND o.org_id OPERATOR(pg_catalog.=) org_ancestors.org
        UNION ALL
        SELECT o.org_id, o.parent_id, up.depth OPERATOR(pg_catalog.+) 1 FROM up
          JOIN aftersales.organisations o ON o.tenant_id OPERATOR(pg_catalog.=) org_ancestors.tenant
                                         AND o.org_id OPERATOR(pg_catalog.=) up.parent_id
         WHERE up.depth OPERATOR(pg_catalog.<) 16
    )
    SELECT up.org_id FROM up
$$;
COMMENT ON FUNCTION aftersales_internal.org_ancestors(bigint, bigint) IS
  'Internal: an organisation and its ancestors (the organisations that cover it), bounded at 16 levels';

-- The ranking, set-based over the tenant's active engineers.  Hard
-- filters (a candidate must pass all): active and available (on_duty), every
-- required skill, senior or expert for complex or R&D-tier problems, below
-- capacity, and on shift now or within the arrival window.  Each criterion
-- then scores 0 to 1; the total is their weighted mean.
CREATE FUNCTION aftersales_internal.rank_engineers(tenant bigint, ticket bigint, now timestamptz, n integer)
    RETURNS TABLE (rank integer, engineer_id bigint, engineer_name text, total_score numeric,
                   skills_score numeric, coverage_score numeric, on_duty_score numeric, load_score numeric,
                   distance_score numeric, tier_score numeric, continuity_score numeric,
                   load integer, capacity integer, distance_km numeric, on_shift boolean, reasons text,
                   candidates integer)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
WITH cfg AS (SELECT * FROM aftersales_internal.dispatch_config(rank_engineers.tenant)),
tk AS (
    SELECT t.ticket_id, t.unit_id, t.customer_id, t.tier AS ticket_tier, COALESCE(t.org_id, c.org_id) AS org_id,
           c.region::text AS region, c.tier AS customer_tier, c.latitude, c.longitude,
           p.required_skills, p.complex OR t.tier = 'rnd' AS needs_senior,
           COALESCE((SELECT pg_catalog.array_agg(a.org_id) FROM aftersales_internal.org_ancestors(t.tenant_id, COALESCE(t.org_id, c.org_id)) a),
                    '{}') AS covering_orgs
      FROM aftersales.tickets t
      JOIN aftersales.customers c ON c.tenant_id = t.tenant_id AND c.customer_id = t.customer_id
      JOIN aftersales.problem_types p ON p.tenant_id = t.tenant_id AND p.problem_type_id = t.problem_type_id
     WHERE t.tenant_id = rank_engineers.tenant AND t.ticket_id = rank_engineers.ticket
),
loads AS (
    SELECT t.assignee_id, pg_catalog.count(*)::integer AS n
      FROM aftersales.tickets t
     WHERE t.tenant_id = rank_engineers.tenant AND t.assignee_id IS NOT NULL
       AND t.status = ANY ('{assigned,in_progress,on_site,on_hold}'::aftersales.ticket_status[])
     GROUP BY t.assignee_id
),
served AS (
    SELECT DISTINCT ON (ev.engineer) ev.engineer, ev.same_unit
      FROM (SELECT (e.payload ->> 'assignee')::bigint AS engineer, x.unit_id IS NOT NULL AND x.unit_id = tk.unit_id AS same_unit
              FROM tk
              JOIN aftersales.tickets x ON x.tenant_id = rank_engineers.tenant AND x.customer_id = tk.customer_id
                                      AND x.ticket_id <> tk.ticket_id AND x.resolved_at IS NOT NULL
              JOIN aftersales.ticket_events e ON e.tenant_id = x.tenant_id AND e.ticket_id = x.ticket_id
                                              AND e.payload ? 'assignee') ev
     ORDER BY ev.engineer, ev.same_unit DESC
),
cand AS (
    SELECT e.engineer_id, e.name, e.capacity, e.seniority, e.region::text AS region, e.org_id,
           COALESCE(l.n, 0) AS load,
           cal.calendar AS cal,
           pos.latitude AS plat, pos.longitude AS plon,
           o.latitude AS olat, o.longitude AS olon,
           s.same_unit
      FROM aftersales.engineers e
      JOIN tk ON true
      LEFT JOIN loads l ON l.assignee_id = e.engineer_id
      LEFT JOIN aftersales.calendars cal ON cal.tenant_id = e.tenant_id AND cal.name = e.calendar
      LEFT JOIN aftersales.organisations o ON o.tenant_id = e.tenant_id AND o.org_id = e.org_id
      LEFT JOIN served s ON s.engineer = e.engineer_id
      LEFT JOIN LATERAL (SELECT a.latitude, a.longitude FROM aftersales.attendance_events a
                          WHERE a.tenant_id = e.tenant_id AND a.engineer_id = e.engineer_id AND a.at <= rank_engineers.now
                            AND a.at > rank_engineers.now - pg_catalog.make_interval(hours => (SELECT c.position_max_age_hours FROM cfg c))
                          ORDER BY a.at DESC LIMIT 1) pos ON true
     WHERE e.tenant_id = rank_engineers.tenant AND e.active AND e.on_duty
       AND e.skills @> tk.required_skills
       AND (NOT tk.needs_senior OR e.seniority IN ('senior', 'expert'))
       AND COALESCE(l.n, 0) < e.capacity
),
timed AS (
    SELECT c.*,
           CASE WHEN c.cal IS NULL OR aftersales.is_business_time(c.cal, rank_engineers.now) THEN 0::float8
                ELSE pg_catalog.date_part('epoch', aftersales.next_business_time(c.cal, rank_engineers.now) - rank_engineers.now) / 60
           END AS wait_minutes,
           CASE WHEN tk.latitude IS NULL THEN NULL
                WHEN c.plat IS NOT NULL THEN aftersales.distance_km(c.plat, c.plon, tk.latitude, tk.longitude)
                WHEN c.olat IS NOT NULL THEN aftersales.distance_km(c.olat, c.olon, tk.latitude, tk.longitude)
           END AS km
      FROM cand c, tk
),
scored AS (
    -- float8 inside, rounded once for the n rows returned
    SELECT t.engineer_id, t.name, t.load, t.capacity, t.wait_minutes, t.km,
           CASE WHEN tk.needs_senior THEN aftersales_internal.seniority_rank(t.seniority) ELSE 1 END AS s_skills,
           CASE WHEN t.org_id = ANY (tk.covering_orgs) THEN 1 WHEN t.region = tk.region THEN 0.5 ELSE 0 END::float8 AS s_coverage,
           CASE WHEN t.wait_minutes = 0 THEN 1
                ELSE GREATEST(0, 1 - t.wait_minutes / GREATEST(c.arrival_window_minutes, 1)) END AS s_on_duty,
           1 - t.load::float8 / t.capacity AS s_load,
           aftersales_internal.distance_score(t.km, c.max_distance_km::float8) AS s_distance,
           CASE tk.customer_tier WHEN 'key' THEN aftersales_internal.seniority_rank(t.seniority)
                                 WHEN 'major' THEN (1 + aftersales_internal.seniority_rank(t.seniority)) / 2
                                 ELSE 1 END AS s_tier,
           CASE WHEN t.same_unit THEN 1 WHEN t.same_unit IS NOT NULL THEN 0.5 ELSE 0 END::float8 AS s_continuity,
           tk.customer_tier, tk.needs_senior, t.seniority,
           c.weight_skills::float8 AS w1, c.weight_coverage::float8 AS w2, c.weight_on_duty::float8 AS w3,
           c.weight_load::float8 AS w4, c.weight_distance::float8 AS w5, c.weight_tier::float8 AS w6,
           c.weight_continuity::float8 AS w7
      FROM timed t, tk, cfg c
     WHERE t.wait_minutes <= c.arrival_window_minutes
),
ranked AS (
    SELECT s.*,
           pg_catalog.round(((s.w1 * s.s_skills + s.w2 * s.s_coverage + s.w3 * s.s_on_duty + s.w4 * s.s_load
                              + s.w5 * s.s_distance + s.w6 * s.s_tier + s.w7 * s.s_continuity)
                             / (s.w1 + s.w2 + s.w3 + s.w4 + s.w5 + s.w6 + s.w7))::numeric, 4) AS total,
           (pg_catalog.count(*) OVER ())::integer AS candidates
      FROM scored s
     ORDER BY total DESC, s.engineer_id
     LIMIT rank_engineers.n
)
SELECT (pg_catalog.row_number() OVER (ORDER BY x.total DESC, x.engineer_id))::integer, x.engineer_id, x.name, x.total,
       pg_catalog.round(x.s_skills::numeric, 4), pg_catalog.round(x.s_coverage::numeric, 4),
       pg_catalog.round(x.s_on_duty::numeric, 4), pg_catalog.round(x.s_load::numeric, 4),
       pg_catalog.round(x.s_distance::numeric, 4), pg_catalog.round(x.s_tier::numeric, 4),
       pg_catalog.round(x.s_continuity::numeric, 4),
       x.load, x.capacity, pg_catalog.round(x.km::numeric, 1), x.wait_minutes = 0,
       pg_catalog.concat_ws('; ',
           CASE WHEN x.needs_senior THEN 'complex problem: ' || x.seniority ELSE 'skills match' END,
           CASE x.s_coverage WHEN 1 THEN 'covers the customer''s organisation' WHEN 0.5 THEN 'same region' ELSE 'outside the customer''s region' END,
           CASE WHEN x.wait_minutes = 0 THEN 'on shift' ELSE pg_catalog.format('shift starts in %s min', pg_catalog.round(x.wait_minutes::numeric)) END,
           pg_catalog.format('load %s/%s', x.load, x.capacity),
           CASE WHEN x.km IS NULL THEN 'distance unknown' ELSE pg_catalog.format('%s km away', pg_catalog.round(x.km::numeric, 1)) END,
           CASE WHEN x.customer_tier <> 'standard' THEN pg_catalog.format('%s customer, %s engineer', x.customer_tier, x.seniority) END,
           CASE x.s_continuity WHEN 1 THEN 'serviced this unit before' WHEN 0.5 THEN 'serviced this customer before' END),
       x.candidates
  FROM ranked x
 ORDER BY x.total DESC, x.engineer_id
$$;
COMMENT ON FUNCTION aftersales_internal.rank_engineers(bigint, bigint, timestamptz, integer) IS
  'Internal: the n best candidate engineers for a ticket at a time, with a score per criterion, the reasons in words and how many candidates passed the filters';

CREATE FUNCTION aftersales_internal.require_ticket(ticket bigint, tenant bigint, fn text) RETURNS aftersales.tickets
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t aftersales.tickets;
BEGIN
    IF ticket IS NULL THEN
        RAISE EXCEPTION 'ticket must not be null'
            USING ERRCODE = '22004', HINT = pg_catalog.format('Name the ticket, for example: SELECT * FROM aftersales.%s(42);', fn);
    END IF;
    SELECT * INTO t FROM aftersales.tickets x WHERE x.tenant_id = tenant AND x.ticket_id = ticket;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ticket % does not exist for tenant %', ticket, tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the tickets with: SELECT ticket_id, status FROM aftersales.tickets WHERE tenant_id = aftersales.current_tenant();';
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION aftersales_internal.require_ticket(bigint, bigint, text) IS 'Internal: the ticket, or the error for a NULL or unknown one';

CREATE FUNCTION aftersales.suggest_engineers(ticket bigint, n integer DEFAULT 5, now timestamptz DEFAULT aftersales.now())
    RETURNS TABLE (rank integer, engineer_id bigint, engineer_name text, total_score numeric,
                   skills_score numeric, coverage_score numeric, on_duty_score numeric, load_score numeric,
                   distance_score numeric, tier_score numeric, continuity_score numeric,
                   load integer, capacity integer, distance_km numeric, on_shift boolean, reasons text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
BEGIN
    PERFORM aftersales_internal.require_ticket(ticket, tenant, 'suggest_engineers');
    IF n IS NULL OR n < 1 OR n > 1000 THEN
        RAISE EXCEPTION 'invalid number of candidates: %', COALESCE(n::text, 'NULL')
            USING ERRCODE = '22023', HINT = 'Ask for 1 to 1000, for example: SELECT * FROM aftersales.suggest_engineers(42, 5);';
    END IF;
    IF now IS NULL OR NOT pg_catalog.isfinite(now) THEN
        RAISE EXCEPTION 'now must be a finite time, not %', COALESCE(now::text, 'NULL')
            USING ERRCODE = '22008', HINT = 'For example: SELECT * FROM aftersales.suggest_engineers(42, 5, now => ''2026-03-02 10:00+08'');';
    END IF;
    RETURN QUERY
    SELECT k.rank, k.engineer_id, k.engineer_name, k.total_score, k.skills_score, k.coverage_score, k.on_duty_score,
           k.load_score, k.distance_score, k.tier_score, k.continuity_score, k.load, k.capacity, k.distance_km,
           k.on_shift, k.reasons
      FROM aftersales_internal.rank_engineers(tenant, ticket, now, n) k;
END
$$;
COMMENT ON FUNCTION aftersales.suggest_engineers(bigint, integer, timestamptz) IS
  'The n best candidate engineers for a ticket at a time, ranked, with a score (0 to 1) per criterion (skills and seniority, coverage, on duty, load against capacity, distance, customer tier, continuity), the weighted total and the reasons in words';

-- ---------------------------------------------------------------------------
-- Automatic assignment

CREATE TABLE aftersales.assignment_decisions (
    tenant_id     bigint        NOT NULL DEFAULT aftersales.current_tenant()
                                REFERENCES aftersales.tenants,
    decision_id   bigint        GENERATED ALWAYS AS IDENTITY,
    ticket_id     bigint        NOT NULL,
    decided_at    timestamptz   NOT NULL,
    mode          text          NOT NULL CHECK (mode IN ('call', 'entry', 'sweep')),
    outcome       text          NOT NULL CHECK (outcome IN ('assigned', 'locked', 'no_candidate')),
    engineer_id   bigint,
    total_score   numeric(6,4),
    candidates    integer       NOT NULL,
    ranking       jsonb         NOT NULL DEFAULT '[]',
    actor         text          NOT NULL,
    PRIMARY KEY (tenant_id, decision_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, engineer_id) REFERENCES aftersales.engineers (tenant_id, engineer_id),
    CHECK ((outcome = 'no_candidate') = (engineer_id IS NULL))
);
CREATE INDEX assignment_decisions_ticket_idx ON aftersales.assignment_decisions (tenant_id, ticket_id);
COMMENT ON TABLE aftersales.assignment_decisions IS
  'Every automatic assignment: the ticket, the engineer chosen (or none), the score and the ranking it was chosen from, so the reasons can be shown later';
COMMENT ON COLUMN aftersales.assignment_decisions.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.assignment_decisions.decision_id IS 'Decision id';
COMMENT ON COLUMN aftersales.assignment_decisions.ticket_id IS 'Ticket';
COMMENT ON COLUMN aftersales.assignment_decisions.decided_at IS 'When (the now of the call)';
COMMENT ON COLUMN aftersales.assignment_decisions.mode IS 'call (auto_assign), entry (assignment at entry) or sweep (dispatch_sweep)';
COMMENT ON COLUMN aftersales.assignment_decisions.outcome IS
  'assigned; locked (the closed loop locked the ticket instead: its requested date had passed); no_candidate';
COMMENT ON COLUMN aftersales.assignment_decisions.engineer_id IS 'Engineer chosen';
COMMENT ON COLUMN aftersales.assignment_decisions.total_score IS 'Weighted total score of the engineer chosen';
COMMENT ON COLUMN aftersales.assignment_decisions.candidates IS 'Candidates that passed the filters';
COMMENT ON COLUMN aftersales.assignment_decisions.ranking IS 'The top candidates with their scores per criterion and reasons';
COMMENT ON COLUMN aftersales.assignment_decisions.actor IS 'Who (or which job) asked';
SELECT pg_catalog.pg_extension_config_dump('aftersales.assignment_decisions', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.assignment_decisions', 'decision_id')::regclass, '');

-- One ticket: see the lock order at the top of this file.  skip_locked
-- (the sweep's batches): a ticket or an engineer another session holds is
-- left alone, and a ticket whose only free candidates were held elsewhere
-- is deferred to the next sweep (no decision, no alert); else this call
-- waits for them.  outcome: assigned, locked (the closed loop locked the
-- ticket instead), no_candidate, skipped (held elsewhere, or no longer
-- awaiting assignment) or deferred.
CREATE FUNCTION aftersales_internal.auto_assign(tenant bigint, ticket bigint, now timestamptz, mode text, skip_locked boolean,
                                               OUT engineer_id bigint, OUT outcome text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t aftersales.tickets;
    r record;
    ranking jsonb;
    n_cand integer := 0;
    chosen bigint;
    chosen_score numeric;
    locked_eng bigint;
    skipped boolean := false;
    status aftersales.ticket_status;
BEGIN
    IF skip_locked THEN
        SELECT * INTO t FROM aftersales.tickets x WHERE x.tenant_id = tenant AND x.ticket_id = ticket
           FOR NO KEY UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
            outcome := 'skipped';
            RETURN;
        END IF;
    ELSE
        SELECT * INTO t FROM aftersales.tickets x WHERE x.tenant_id = tenant AND x.ticket_id = ticket FOR NO KEY UPDATE;
    END IF;
    -- re-read under the lock: another dispatcher may have assigned it
    IF t.status <> 'new' THEN
        IF skip_locked OR mode = 'entry' THEN
            outcome := 'skipped';
            RETURN;
        END IF;
        RAISE EXCEPTION 'ticket % is %, not awaiting assignment', ticket, t.status
            USING ERRCODE = '55000',
                  HINT = 'Only tickets in state new are assigned automatically; reassign others with aftersales.reassign_ticket().';
    END IF;
    -- the ten best first; the whole list only when none of them can take it
    FOR pass IN 1 .. 2 LOOP
        SELECT pg_catalog.jsonb_agg(pg_catalog.to_jsonb(k) - 'candidates' ORDER BY k.rank), pg_catalog.max(k.candidates)
          INTO ranking, n_cand
          FROM aftersales_internal.rank_engineers(tenant, ticket, now, CASE pass WHEN 1 THEN 10 ELSE 1000 END) k;
        n_cand := COALESCE(n_cand, 0);
        -- the best candidate still below capacity once held (a fresh
        -- snapshot per statement: READ COMMITTED sees what the previous
        -- holder committed)
        FOR r IN SELECT (x ->> 'engineer_id')::bigint AS engineer_id, (x ->> 'total_score')::numeric AS total_score
                   FROM pg_catalog.jsonb_array_elements(COALESCE(ranking, '[]')) x LOOP
            locked_eng := NULL;
            IF skip_locked THEN
                SELECT e.engineer_id INTO locked_eng FROM aftersales.engineers e
                 WHERE e.tenant_id = tenant AND e.engineer_id = r.engineer_id AND e.active
                   FOR NO KEY UPDATE SKIP LOCKED;
                IF locked_eng IS NULL THEN
                    skipped := true;
                    CONTINUE;
                END IF;
            ELSE
                SELECT e.engineer_id INTO locked_eng FROM aftersales.engineers e
                 WHERE e.tenant_id = tenant AND e.engineer_id = r.engineer_id AND e.active
                   FOR NO KEY UPDATE;
                CONTINUE WHEN locked_eng IS NULL;
            END IF;
            IF aftersales_internal.engineer_load(tenant, r.engineer_id)
               < (SELECT e.capacity FROM aftersales.engineers e WHERE e.tenant_id = tenant AND e.engineer_id = r.engineer_id) THEN
                chosen := r.engineer_id;
                chosen_score := r.total_score;
                EXIT;
            END IF;
        END LOOP;
        EXIT WHEN chosen IS NOT NULL OR n_cand <= 10;
    END LOOP;
    IF chosen IS NULL AND skipped THEN
        outcome := 'deferred';
        RETURN;
    END IF;
    IF chosen IS NULL THEN
        INSERT INTO aftersales.assignment_decisions (tenant_id, ticket_id, decided_at, mode, outcome, candidates, ranking, actor)
        VALUES (tenant, ticket, now, mode, 'no_candidate', n_cand, COALESCE(ranking, '[]'), aftersales.actor());
        PERFORM aftersales_internal.dispatch_alert(tenant, 'no_candidate', ticket, NULL, ticket,
                    (SELECT COALESCE(t.org_id, c.org_id) FROM aftersales.customers c
                      WHERE c.tenant_id = tenant AND c.customer_id = t.customer_id),
                    'service_manager', now, now,
                    pg_catalog.jsonb_build_object('candidates', n_cand, 'priority', t.priority, 'mode', mode));
        outcome := 'no_candidate';
        RETURN;
    END IF;
    status := aftersales_internal.ticket_event(ticket, 'assign', aftersales.actor(), now,
                  pg_catalog.format('automatic assignment (score %s)', chosen_score), assignee => chosen);
    outcome := CASE WHEN status = 'assigned' THEN 'assigned' ELSE 'locked' END;
    INSERT INTO aftersales.assignment_decisions (tenant_id, ticket_id, decided_at, mode, outcome, engineer_id, total_score,
                                                 candidates, ranking, actor)
    VALUES (tenant, ticket, now, mode, outcome, chosen, chosen_score, n_cand,
            COALESCE((SELECT pg_catalog.jsonb_agg(x) FROM pg_catalog.jsonb_array_elements(ranking) WITH ORDINALITY AS a (x, i)
                       WHERE a.i <= 5), '[]'),
            aftersales.actor());
    IF outcome = 'assigned' THEN
        engineer_id := chosen;
    END IF;
END
$$;
COMMENT ON FUNCTION aftersales_internal.auto_assign(bigint, bigint, timestamptz, text, boolean) IS
  'Internal: assigns the best candidate engineer to a ticket awaiting assignment (event assign), records the decision; no candidate: an alert to the service manager';

CREATE FUNCTION aftersales.auto_assign(ticket bigint, now timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
BEGIN
    PERFORM aftersales_internal.require_ticket(ticket, tenant, 'auto_assign');
    IF now IS NULL OR NOT pg_catalog.isfinite(now) THEN
        RAISE EXCEPTION 'now must be a finite time, not %', COALESCE(now::text, 'NULL')
            USING ERRCODE = '22008', HINT = 'For example: SELECT aftersales.auto_assign(42, now => ''2026-03-02 10:00+08'');';
    END IF;
    IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'aftersales.auto_assign() must run at READ COMMITTED, not %', pg_catalog.current_setting('transaction_isolation')
            USING ERRCODE = '25000',
                  DETAIL = 'It counts an engineer''s open tickets again once it holds the engineer, in a fresh snapshot.',
                  HINT = 'Call it in a READ COMMITTED transaction (the default).';
    END IF;
    RETURN (aftersales_internal.auto_assign(tenant, ticket, now, 'call', false)).engineer_id;
END
$$;
COMMENT ON FUNCTION aftersales.auto_assign(bigint, timestamptz) IS
  'Assign the best candidate engineer (aftersales.suggest_engineers) to a ticket awaiting assignment, through the closed loop (event assign); returns the engineer, or NULL when nobody suitable is free (then the service manager gets a dispatch alert); never exceeds an engineer''s capacity, even with concurrent dispatchers';

-- Assignment at entry, for tenants that switched it on: after the entry
-- statement's own trigger (tickets_entered, which writes the open events),
-- hence the name.
CREATE FUNCTION aftersales_internal.dispatch_at_entry() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    -- the common case, no tenant assigning at entry: one probe of the
    -- settings, nothing else evaluated
    FOR r IN SELECT n.tenant_id, n.ticket_id, n.opened_at FROM new_tickets n
              WHERE n.status = 'new'
                AND EXISTS (SELECT FROM aftersales.dispatch_settings s
                             WHERE s.tenant_id = n.tenant_id AND s.assign_at_entry)
              ORDER BY n.tenant_id, n.ticket_id LOOP
        PERFORM aftersales_internal.auto_assign(r.tenant_id, r.ticket_id, r.opened_at, 'entry', false);
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales_internal.dispatch_at_entry() IS
  'Trigger, after each INSERT statement on tickets: assigns the new tickets automatically for tenants with assign_at_entry, at their entry time';
CREATE TRIGGER zz_dispatch_at_entry
    AFTER INSERT ON aftersales.tickets
    REFERENCING NEW TABLE AS new_tickets
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales_internal.dispatch_at_entry();

-- A tenant that forbids assigning engineers off shift: every change of
-- assignee (manual or automatic) is judged at its time (assigned_at, set by
-- the closed loop's guard).  An error rolls the whole statement back.
CREATE FUNCTION aftersales_internal.dispatch_shift_check() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cal aftersales.calendar;
BEGIN
    IF NOT EXISTS (SELECT FROM aftersales.dispatch_settings s WHERE s.tenant_id = NEW.tenant_id AND s.forbid_off_shift) THEN
        RETURN NULL;
    END IF;
    cal := aftersales_internal.engineer_calendar(NEW.tenant_id, NEW.assignee_id);
    IF cal IS NOT NULL AND NOT aftersales.is_business_time(cal, NEW.assigned_at) THEN
        RAISE EXCEPTION 'engineer % is off shift at %', NEW.assignee_id, NEW.assigned_at
            USING ERRCODE = '55000',
                  DETAIL = pg_catalog.format('Tenant %s forbids assigning engineers outside their working calendar; the next shift starts at %s.',
                                             NEW.tenant_id, aftersales.next_business_time(cal, NEW.assigned_at)),
                  HINT = 'Choose an engineer on shift: SELECT * FROM aftersales.suggest_engineers(42);';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales_internal.dispatch_shift_check() IS
  'Trigger: refuses a new assignee outside their shift when the tenant''s dispatch settings forbid it';
CREATE TRIGGER dispatch_shift_check
    AFTER UPDATE ON aftersales.tickets
    FOR EACH ROW WHEN (NEW.assignee_id IS NOT NULL AND NEW.assignee_id IS DISTINCT FROM OLD.assignee_id)
    EXECUTE FUNCTION aftersales_internal.dispatch_shift_check();

-- ---------------------------------------------------------------------------
-- The dispatch sweep

-- Tickets still awaiting assignment assign_after_minutes after entry, for
-- the tenants that set it; a batch, oldest first, skipping tickets another
-- session holds.
CREATE FUNCTION aftersales.auto_assign_pending(now timestamptz DEFAULT aftersales.now(), batch integer DEFAULT 100,
                                               tenant bigint DEFAULT NULL)
    RETURNS TABLE (assigned integer, unassigned integer, deferred integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    o text;
    a integer := 0;
    u integer := 0;
    d integer := 0;
BEGIN
    IF now IS NULL OR NOT pg_catalog.isfinite(now) THEN
        RAISE EXCEPTION 'now must be a finite time, not %', COALESCE(now::text, 'NULL')
            USING ERRCODE = '22008', HINT = 'For example: SELECT * FROM aftersales.auto_assign_pending(now => ''2026-03-02 10:00+08'');';
    END IF;
    IF batch IS NULL OR batch < 1 OR batch > 100000 THEN
        RAISE EXCEPTION 'invalid batch: %', COALESCE(batch::text, 'NULL')
            USING ERRCODE = '22023', HINT = 'A batch is 1 to 100000 tickets, for example: SELECT * FROM aftersales.auto_assign_pending(batch => 100);';
    END IF;
    FOR r IN SELECT t.tenant_id, t.ticket_id
               FROM aftersales.dispatch_settings s
               JOIN aftersales.tickets t ON t.tenant_id = s.tenant_id
              WHERE s.assign_after_minutes IS NOT NULL
                AND (auto_assign_pending.tenant IS NULL OR s.tenant_id = auto_assign_pending.tenant)
                AND t.status = 'new'
                AND t.opened_at <= now - pg_catalog.make_interval(mins => s.assign_after_minutes)
                AND NOT EXISTS (SELECT FROM aftersales.assignment_decisions d
                                 WHERE d.tenant_id = t.tenant_id AND d.ticket_id = t.ticket_id
                                   AND d.outcome = 'no_candidate' AND d.decided_at > now - '15 minutes'::interval)
              ORDER BY t.opened_at, t.tenant_id, t.ticket_id
              LIMIT batch LOOP
        o := (aftersales_internal.auto_assign(r.tenant_id, r.ticket_id, now, 'sweep', true)).outcome;
        IF o = 'assigned' THEN
            a := a + 1;
        ELSIF o IN ('no_candidate', 'locked') THEN
            u := u + 1;
        ELSE
            d := d + 1;
        END IF;
    END LOOP;
    assigned := a;
    unassigned := u;
    deferred := d;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION aftersales.auto_assign_pending(timestamptz, integer, bigint) IS
  'Assigns automatically the tickets still awaiting assignment assign_after_minutes after entry (tenants with that setting), oldest first, at most batch; a ticket with no candidate is tried again 15 minutes later; returns how many were assigned, found nobody suitable (or were locked by the closed loop), and were left to the next sweep (held by another session)';

CREATE FUNCTION aftersales.dispatch_sweep(now timestamptz DEFAULT aftersales.now(), batch integer DEFAULT 100,
                                          tenant bigint DEFAULT NULL)
    RETURNS TABLE (assigned integer, unassigned integer, deferred integer, location_anomalies integer,
                   late_check_ins integer, missing_check_outs integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    n integer;
BEGIN
    SELECT p.assigned, p.unassigned, p.deferred INTO assigned, unassigned, deferred
      FROM aftersales.auto_assign_pending(now, batch, tenant) p;
    location_anomalies := 0;
    late_check_ins := 0;
    missing_check_outs := 0;
    FOR t IN SELECT tn.tenant_id FROM aftersales.tenants tn
              WHERE dispatch_sweep.tenant IS NULL OR tn.tenant_id = dispatch_sweep.tenant ORDER BY 1 LOOP
        -- location anomalies of the last two days not yet announced
        SELECT pg_catalog.count(aftersales_internal.dispatch_alert(t.tenant_id, 'location_anomaly', a.event_id, a.engineer_id,
                   a.ticket_id, a.org_id, 'supervisor', a.at, now,
                   pg_catalog.jsonb_build_object('kind', a.kind, 'reference', a.reference, 'distance_km', a.reference_km,
                                                 'latitude', a.latitude, 'longitude', a.longitude)))
          INTO n
          FROM aftersales.attendance_events a
         WHERE a.tenant_id = t.tenant_id AND a.anomaly AND a.at <= now AND a.at > now - '2 days'::interval
           AND NOT EXISTS (SELECT FROM aftersales.dispatch_alerts x
                            WHERE x.tenant_id = a.tenant_id AND x.kind = 'location_anomaly' AND x.subject_id = a.event_id);
        location_anomalies := location_anomalies + n;
        -- late first check-ins of yesterday and today
        SELECT pg_catalog.count(aftersales_internal.dispatch_alert(t.tenant_id, 'late_check_in', a.event_id, d.engineer_id,
                   NULL, d.org_id, 'supervisor', d.shift_start, now,
                   pg_catalog.jsonb_build_object('day', d.day, 'shift_start', d.shift_start, 'check_in', d.first_check_in,
                                                 'late_minutes', d.late_minutes)))
          INTO n
          FROM aftersales.attendance_days((now - '1 day'::interval)::date, (now + '1 day'::interval)::date + 1, now, t.tenant_id) d
          JOIN aftersales.attendance_events a ON a.tenant_id = t.tenant_id AND a.engineer_id = d.engineer_id
                                             AND a.kind = 'check_in' AND a.at = d.first_check_in
         WHERE d.late
           AND NOT EXISTS (SELECT FROM aftersales.dispatch_alerts x
                            WHERE x.tenant_id = t.tenant_id AND x.kind = 'late_check_in' AND x.subject_id = a.event_id);
        late_check_ins := late_check_ins + n;
        -- missing check-outs, once their deadline has passed
        SELECT pg_catalog.count(aftersales_internal.dispatch_alert(t.tenant_id, 'missing_check_out', u.check_in_id, u.engineer_id,
                   NULL, e.org_id, 'supervisor', u.missing_at, now,
                   pg_catalog.jsonb_build_object('check_in', u.check_in_at)))
          INTO n
          FROM aftersales_internal.duty_intervals(t.tenant_id, now) u
          JOIN aftersales.engineers e ON e.tenant_id = t.tenant_id AND e.engineer_id = u.engineer_id
         WHERE u.missing AND u.check_in_at > now - '7 days'::interval
           AND NOT EXISTS (SELECT FROM aftersales.dispatch_alerts x
                            WHERE x.tenant_id = t.tenant_id AND x.kind = 'missing_check_out' AND x.subject_id = u.check_in_id);
        missing_check_outs := missing_check_outs + n;
    END LOOP;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION aftersales.dispatch_sweep(timestamptz, integer, bigint) IS
  'The dispatch sweep, beside aftersales.sweep (schedule both): assigns tickets left unassigned too long (auto_assign_pending), then raises each location anomaly, late check-in and missing check-out once as a dispatch alert; returns the counts';

-- ---------------------------------------------------------------------------
-- Rights

-- The sweep's login assigns (auto_assign_pending) besides locking.
INSERT INTO aftersales.event_rights (kind, event, own_tickets_only) VALUES ('sweep', 'assign', false);

-- Reading: as for the rest of the schema (80_access.sql), but analysts see
-- attendance without positions and no dispatch alerts (they name people).
GRANT SELECT ON aftersales.dispatch_settings, aftersales.attendance_events, aftersales.attendance_sessions,
    aftersales.dispatch_alerts, aftersales.assignment_decisions
    TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer, aftersales_auditor;
GRANT SELECT ON aftersales.dispatch_settings, aftersales.attendance_sessions, aftersales.assignment_decisions
    TO aftersales_analyst;
GRANT SELECT (tenant_id, event_id, engineer_id, org_id, kind, at, ticket_id, reference, reference_km, anomaly, recorded_at)
    ON aftersales.attendance_events TO aftersales_analyst;
-- Writing: attendance by engineers (their own, checked by the API) and
-- managers; decisions and alerts by whoever assigns; settings by admins.
GRANT INSERT ON aftersales.attendance_events TO aftersales_admin, aftersales_manager, aftersales_engineer;
GRANT INSERT ON aftersales.assignment_decisions, aftersales.dispatch_alerts
    TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_sweep;
GRANT UPDATE (acknowledged_at, acknowledged_by) ON aftersales.dispatch_alerts TO aftersales_admin, aftersales_manager;
GRANT INSERT, UPDATE, DELETE ON aftersales.dispatch_settings TO aftersales_admin;
-- Holding an engineer's row while deciding (FOR NO KEY UPDATE) needs an
-- UPDATE privilege on one of its columns: on_duty, the availability flag
-- the dispatchers and the engineers themselves set anyway.
GRANT UPDATE (on_duty) ON aftersales.engineers
    TO aftersales_manager, aftersales_agent, aftersales_engineer, aftersales_sweep;
-- The dispatch sweep reads what the ranking and the attendance facts read.
GRANT SELECT ON aftersales.dispatch_settings, aftersales.attendance_events, aftersales.attendance_sessions,
    aftersales.dispatch_alerts, aftersales.assignment_decisions, aftersales.engineers, aftersales.organisations,
    aftersales.problem_types, aftersales.ticket_events, aftersales.reporting_zones
    TO aftersales_sweep;
GRANT EXECUTE ON FUNCTION aftersales.dispatch_sweep(timestamptz, integer, bigint),
    aftersales.auto_assign_pending(timestamptz, integer, bigint) TO aftersales_sweep;
REVOKE ALL ON FUNCTION aftersales.dispatch_sweep(timestamptz, integer, bigint),
    aftersales.auto_assign_pending(timestamptz, integer, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aftersales.dispatch_sweep(timestamptz, integer, bigint),
    aftersales.auto_assign_pending(timestamptz, integer, bigint) TO aftersales_admin, aftersales_manager;

-- aftersales install script, part 86: the staff boards.  Busy, idle and
-- on-duty time per engineer and day (from attendance and the tickets'
-- event log), their monthly trend, installed-unit holdings (保有量), intake
-- and dispatches per region against headcount, and first-maintenance
-- dispatches by organisation type.  Ticket handling time per engineer and
-- dispatch volume are kpi_staff_monthly and kpi_dispatch_monthly_by_org_type
-- (60_kpi_views.sql).  Views follow the rules of 60_kpi_views.sql: current
-- tenant as of aftersales.now(), plain types, security_invoker, commented.
--
-- Definitions:
--   on duty   checked in (attendance_sessions; an open session up to now,
--             a missing check-out counts nothing);
--   holding   assignee of a ticket that is assigned, in progress, on site
--             or on hold;
--   busy      assignee of a ticket in progress or on site;
--   idle      on duty and holding nothing;
--   utilisation  busy time while on duty / on-duty time.

-- The intervals in which each engineer held tickets, from the event log:
-- a ticket's assignee is the one its latest assign, reassign or take_over
-- named, until it returns to new or is locked; each state lasts until the
-- next event (or as_of).
CREATE FUNCTION aftersales_internal.holding_intervals(tenant bigint, since timestamptz, as_of timestamptz)
    RETURNS TABLE (engineer_id bigint, ticket_id bigint, state text, busy boolean, span tstzrange)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH ev AS (
        SELECT e.ticket_id, e.seq, e.at, e.to_state, e.payload ->> 'assignee' AS named,
               pg_catalog.count(*) FILTER (WHERE e.payload ? 'assignee' OR e.to_state IN ('new', 'locked'))
                   OVER (PARTITION BY e.ticket_id ORDER BY e.seq) AS grp,
               pg_catalog.lead(e.at) OVER (PARTITION BY e.ticket_id ORDER BY e.seq) AS next_at
          FROM aftersales.ticket_events e
         WHERE e.tenant_id = holding_intervals.tenant AND e.at < holding_intervals.as_of
           AND e.ticket_id IN (SELECT t.ticket_id FROM aftersales.tickets t
                                WHERE t.tenant_id = holding_intervals.tenant
                                  AND (t.resolved_at IS NULL OR t.resolved_at >= holding_intervals.since
                                       OR t.cancelled_at >= holding_intervals.since
                                       OR t.status NOT IN ('resolved', 'closed', 'cancelled')))
    ), st AS (
        SELECT ev.ticket_id, ev.at, LEAST(COALESCE(ev.next_at, holding_intervals.as_of), holding_intervals.as_of) AS end_at,
               ev.to_state,
               (pg_catalog.first_value(ev.named) OVER (PARTITION BY ev.ticket_id, ev.grp ORDER BY ev.seq))::bigint AS engineer
          FROM ev
    )
    SELECT st.engineer, st.ticket_id, st.to_state::text, st.to_state IN ('in_progress', 'on_site'),
           pg_catalog.tstzrange(st.at, st.end_at)
      FROM st
     WHERE st.engineer IS NOT NULL AND st.to_state IN ('assigned', 'in_progress', 'on_site', 'on_hold')
       AND st.end_at > st.at AND st.end_at > holding_intervals.since
$$;
COMMENT ON FUNCTION aftersales_internal.holding_intervals(bigint, timestamptz, timestamptz) IS
  'Internal: from the event log, the spans in which each engineer held a ticket (busy: in progress or on site), up to as_of';

CREATE FUNCTION aftersales.engineer_time(since date, until date, as_of timestamptz DEFAULT aftersales.now(),
                                         tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (tenant_id bigint, engineer_id bigint, org_id bigint, day date, scheduled_hours numeric,
                   on_duty_hours numeric, busy_hours numeric, holding_hours numeric, idle_hours numeric,
                   utilisation numeric, late boolean, missing_check_outs bigint, location_anomalies bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lo constant timestamptz := since::timestamp AT TIME ZONE 'UTC' - '2 days'::interval;
    hi constant timestamptz := until::timestamp AT TIME ZONE 'UTC' + '2 days'::interval;
BEGIN
    PERFORM aftersales_internal.require_days(since, until, as_of, 'engineer_time');
    -- the on-duty, holding and busy time of each (engineer, local day) as
    -- multiranges, grouped and joined by hash
    RETURN QUERY
    WITH eng AS MATERIALIZED (SELECT * FROM aftersales_internal.engineer_zones(engineer_time.tenant)),
    duty AS (
        SELECT u.engineer_id, p.day, pg_catalog.range_agg(p.part) AS mr
          FROM aftersales_internal.duty_intervals(engineer_time.tenant, as_of) u
          JOIN eng g ON g.engineer_id = u.engineer_id
         CROSS JOIN LATERAL aftersales_internal.split_days(u.duty, g.zone) p
         WHERE u.check_in_at >= lo - '2 days'::interval
         GROUP BY 1, 2
    ),
    work AS (
        SELECT h.engineer_id, p.day, pg_catalog.range_agg(p.part) AS hold_mr,
               COALESCE(pg_catalog.range_agg(p.part) FILTER (WHERE h.busy), '{}'::tstzmultirange) AS busy_mr
          FROM aftersales_internal.holding_intervals(engineer_time.tenant, lo, as_of) h
          JOIN eng g ON g.engineer_id = h.engineer_id
         CROSS JOIN LATERAL aftersales_internal.split_days(h.span * pg_catalog.tstzrange(lo, hi), g.zone) p
         GROUP BY 1, 2
    ),
    m AS (
        SELECT a.*, COALESCE(du.mr, '{}'::tstzmultirange) AS on_mr,
               COALESCE(w.busy_mr, '{}'::tstzmultirange) AS busy_day,
               COALESCE(w.hold_mr, '{}'::tstzmultirange) AS hold_day
          FROM aftersales.attendance_days(since, until, as_of, engineer_time.tenant) a
          LEFT JOIN duty du ON du.engineer_id = a.engineer_id AND du.day = a.day
          LEFT JOIN work w ON w.engineer_id = a.engineer_id AND w.day = a.day
    )
    SELECT m.tenant_id, m.engineer_id, m.org_id, m.day, m.scheduled_hours,
           m.on_duty_hours,
           pg_catalog.round(aftersales_internal.range_hours(m.busy_day)::numeric, 2),
           pg_catalog.round(aftersales_internal.range_hours(m.hold_day)::numeric, 2),
           pg_catalog.round(aftersales_internal.range_hours(m.on_mr - m.hold_day)::numeric, 2),
           CASE WHEN aftersales_internal.range_hours(m.on_mr) > 0
                THEN pg_catalog.round((aftersales_internal.range_hours(m.busy_day * m.on_mr)
                                       / aftersales_internal.range_hours(m.on_mr))::numeric, 4) END,
           m.late, m.missing_check_outs, m.location_anomalies
      FROM m
     ORDER BY m.engineer_id, m.day;
END
$$;
COMMENT ON FUNCTION aftersales.engineer_time(date, date, timestamptz, bigint) IS
  'Per engineer and local day in [since, until) as of a time: scheduled, on-duty (checked in), busy (holding a ticket in progress or on site), holding (any open ticket) and idle (on duty, holding nothing) hours, utilisation (busy while on duty / on duty), late check-in, missing check-outs, location anomalies';

-- The daily view's window: the last 31 days of the reporting zone, to today
-- (engineer_time gives any other range).
CREATE FUNCTION aftersales_internal.board_days(tenant bigint, as_of timestamptz, OUT since date, OUT until date)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (pg_catalog.timezone(z.zone, as_of))::date - 30, (pg_catalog.timezone(z.zone, as_of))::date + 1
      FROM (SELECT aftersales.reporting_zone(tenant) AS zone) z
$$;
COMMENT ON FUNCTION aftersales_internal.board_days(bigint, timestamptz) IS
  'Internal: the days the daily staff view covers: the 31 days to as_of''s day, in the reporting zone';

-- The monthly trend, per engineer and month of the reporting zone, computed
-- per month (not day by day): the on-duty, holding and busy time as
-- multiranges cut at the months' bounds, the scheduled time from the
-- calendar, late check-ins from each day's first check-in.
CREATE FUNCTION aftersales_internal.engineer_months(tenant bigint, months integer, as_of timestamptz)
    RETURNS TABLE (engineer_id bigint, month date, scheduled_hours numeric, on_duty_hours numeric, busy_hours numeric,
                   idle_hours numeric, utilisation numeric, late_check_ins bigint, missing_check_outs bigint,
                   location_anomalies bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
WITH z AS (SELECT aftersales.reporting_zone(tenant) AS zone),
m AS (
    SELECT g.m::date AS month, g.m AT TIME ZONE z.zone AS m0, (g.m + '1 month'::interval) AT TIME ZONE z.zone AS m1
      FROM z, pg_catalog.generate_series(pg_catalog.date_trunc('month', pg_catalog.timezone(z.zone, as_of)) - pg_catalog.make_interval(months => months - 1),
                                         pg_catalog.date_trunc('month', pg_catalog.timezone(z.zone, as_of)), '1 month'::interval) g (m)
),
eng AS MATERIALIZED (SELECT * FROM aftersales_internal.engineer_zones(tenant)),
duty AS MATERIALIZED (
    SELECT u.* FROM aftersales_internal.duty_intervals(tenant, as_of) u
     WHERE u.check_in_at >= (SELECT pg_catalog.min(m.m0) FROM m) - '2 days'::interval
),
on_m AS (
    SELECT u.engineer_id, m.month, pg_catalog.range_agg(u.duty * pg_catalog.tstzrange(m.m0, m.m1)) AS mr
      FROM duty u JOIN m ON u.duty && pg_catalog.tstzrange(m.m0, m.m1)
     GROUP BY 1, 2
),
work_m AS (
    SELECT h.engineer_id, m.month, pg_catalog.range_agg(h.span * pg_catalog.tstzrange(m.m0, m.m1)) AS hold_mr,
           COALESCE(pg_catalog.range_agg(h.span * pg_catalog.tstzrange(m.m0, m.m1)) FILTER (WHERE h.busy), '{}'::tstzmultirange) AS busy_mr
      FROM aftersales_internal.holding_intervals(tenant, (SELECT pg_catalog.min(m.m0) FROM m), as_of) h
      JOIN m ON h.span && pg_catalog.tstzrange(m.m0, m.m1)
     GROUP BY 1, 2
),
firsts AS (
    SELECT f.engineer_id, f.day, f.first_at, g.cal, g.zone
      FROM (SELECT a.engineer_id, (a.at AT TIME ZONE g.zone)::date AS day, pg_catalog.min(a.at) AS first_at
              FROM aftersales.attendance_events a JOIN eng g ON g.engineer_id = a.engineer_id
             WHERE a.tenant_id = tenant AND a.kind = 'check_in' AND a.at <= as_of
               AND a.at >= (SELECT pg_catalog.min(m.m0) FROM m)
             GROUP BY 1, 2) f
      JOIN eng g ON g.engineer_id = f.engineer_id
),
late_m AS (
    SELECT f.engineer_id, m.month, pg_catalog.count(*) AS n
      FROM firsts f JOIN m ON f.first_at >= m.m0 AND f.first_at < m.m1
     CROSS JOIN LATERAL (SELECT aftersales.next_business_time(f.cal, f.day::timestamp AT TIME ZONE f.zone) AS st) s
     WHERE f.cal IS NOT NULL AND s.st < (f.day + 1)::timestamp AT TIME ZONE f.zone
       AND f.first_at > s.st + pg_catalog.make_interval(mins => (aftersales_internal.dispatch_config(tenant)).late_grace_minutes)
     GROUP BY 1, 2
),
miss_m AS (
    SELECT u.engineer_id, m.month, pg_catalog.count(*) AS n
      FROM duty u JOIN m ON u.check_in_at >= m.m0 AND u.check_in_at < m.m1 WHERE u.missing GROUP BY 1, 2
),
anom_m AS (
    SELECT a.engineer_id, m.month, pg_catalog.count(*) AS n
      FROM aftersales.attendance_events a JOIN m ON a.at >= m.m0 AND a.at < m.m1
     WHERE a.tenant_id = tenant AND a.anomaly AND a.at <= as_of GROUP BY 1, 2
),
x AS (
    SELECT g.engineer_id, m.month, g.cal, m.m0, LEAST(m.m1, GREATEST(m.m0, as_of)) AS m1,
           COALESCE(o.mr, '{}'::tstzmultirange) AS on_mr, COALESCE(w.hold_mr, '{}'::tstzmultirange) AS hold_mr,
           COALESCE(w.busy_mr, '{}'::tstzmultirange) AS busy_mr,
           COALESCE(l.n, 0) AS late_n, COALESCE(mi.n, 0) AS miss_n, COALESCE(an.n, 0) AS anom_n
      FROM eng g CROSS JOIN m
      LEFT JOIN on_m o ON o.engineer_id = g.engineer_id AND o.month = m.month
      LEFT JOIN work_m w ON w.engineer_id = g.engineer_id AND w.month = m.month
      LEFT JOIN late_m l ON l.engineer_id = g.engineer_id AND l.month = m.month
      LEFT JOIN miss_m mi ON mi.engineer_id = g.engineer_id AND mi.month = m.month
      LEFT JOIN anom_m an ON an.engineer_id = g.engineer_id AND an.month = m.month
)
SELECT x.engineer_id, x.month,
       CASE WHEN x.cal IS NOT NULL THEN pg_catalog.round(aftersales.business_minutes(x.cal, x.m0, x.m1) / 60, 2) END,
       pg_catalog.round(aftersales_internal.range_hours(x.on_mr)::numeric, 2),
       pg_catalog.round(aftersales_internal.range_hours(x.busy_mr)::numeric, 2),
       pg_catalog.round(aftersales_internal.range_hours(x.on_mr - x.hold_mr)::numeric, 2),
       CASE WHEN aftersales_internal.range_hours(x.on_mr) > 0
            THEN pg_catalog.round((aftersales_internal.range_hours(x.busy_mr * x.on_mr)
                                   / aftersales_internal.range_hours(x.on_mr))::numeric, 4) END,
       x.late_n, x.miss_n, x.anom_n
  FROM x
$$;
COMMENT ON FUNCTION aftersales_internal.engineer_months(bigint, integer, timestamptz) IS
  'Internal: per engineer and month (reporting zone) of the last months to as_of: scheduled (to as_of), on-duty, busy and idle hours, utilisation, late check-ins, missing check-outs and location anomalies';

CREATE VIEW aftersales.staff_time_daily WITH (security_invoker = true) AS
SELECT t.tenant_id, t.engineer_id, e.name AS engineer_name, t.org_id, o.name AS org_name, e.region::text AS region,
       t.day, t.scheduled_hours::numeric(8,2) AS scheduled_hours, t.on_duty_hours::numeric(8,2) AS on_duty_hours,
       t.busy_hours::numeric(8,2) AS busy_hours, t.holding_hours::numeric(8,2) AS holding_hours,
       t.idle_hours::numeric(8,2) AS idle_hours, t.utilisation::numeric(6,4) AS utilisation,
       t.late AS late_check_in, t.missing_check_outs, t.location_anomalies
  FROM aftersales_internal.board_days(aftersales.current_tenant(), aftersales.now()) w
 CROSS JOIN LATERAL aftersales.engineer_time(w.since, w.until, aftersales.now(), aftersales.current_tenant()) t
  JOIN aftersales.engineers e ON e.tenant_id = t.tenant_id AND e.engineer_id = t.engineer_id
  LEFT JOIN aftersales.organisations o ON o.tenant_id = t.tenant_id AND o.org_id = t.org_id;
COMMENT ON VIEW aftersales.staff_time_daily IS
  'Staff board: per engineer and day of the last 31 days, scheduled, on-duty, busy, holding and idle hours, utilisation, late check-in, missing check-outs and location anomalies (人员忙闲, 在岗时长, 位置异常); aftersales.engineer_time gives any range';
COMMENT ON COLUMN aftersales.staff_time_daily.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.staff_time_daily.engineer_id IS 'Engineer';
COMMENT ON COLUMN aftersales.staff_time_daily.engineer_name IS 'Engineer''s name';
COMMENT ON COLUMN aftersales.staff_time_daily.org_id IS 'Engineer''s organisation';
COMMENT ON COLUMN aftersales.staff_time_daily.org_name IS 'Organisation''s name';
COMMENT ON COLUMN aftersales.staff_time_daily.region IS 'Engineer''s region';
COMMENT ON COLUMN aftersales.staff_time_daily.day IS 'Day, in the engineer''s calendar zone (else the reporting zone)';
COMMENT ON COLUMN aftersales.staff_time_daily.scheduled_hours IS 'Hours of shifts in the engineer''s calendar that day; NULL without a calendar';
COMMENT ON COLUMN aftersales.staff_time_daily.on_duty_hours IS 'Hours checked in (在岗时长)';
COMMENT ON COLUMN aftersales.staff_time_daily.busy_hours IS 'Hours holding a ticket in progress or on site';
COMMENT ON COLUMN aftersales.staff_time_daily.holding_hours IS 'Hours holding any open ticket (assigned, in progress, on site, on hold)';
COMMENT ON COLUMN aftersales.staff_time_daily.idle_hours IS 'Hours on duty holding nothing';
COMMENT ON COLUMN aftersales.staff_time_daily.utilisation IS 'Busy hours while on duty / on-duty hours, 0 to 1; NULL when not on duty';
COMMENT ON COLUMN aftersales.staff_time_daily.late_check_in IS 'The first check-in came after the shift start plus late_grace_minutes';
COMMENT ON COLUMN aftersales.staff_time_daily.missing_check_outs IS 'Check-ins of the day without a check-out';
COMMENT ON COLUMN aftersales.staff_time_daily.location_anomalies IS 'Check-ins of the day far from the outlet or the site';

CREATE VIEW aftersales.staff_time_monthly WITH (security_invoker = true) AS
SELECT e.tenant_id, t.month, t.engineer_id, e.name AS engineer_name, e.region::text AS region,
       t.scheduled_hours::numeric(10,2) AS scheduled_hours, t.on_duty_hours::numeric(10,2) AS on_duty_hours,
       t.busy_hours::numeric(10,2) AS busy_hours, t.idle_hours::numeric(10,2) AS idle_hours,
       t.utilisation::numeric(6,4) AS utilisation, t.late_check_ins, t.missing_check_outs, t.location_anomalies
  FROM aftersales_internal.engineer_months(aftersales.current_tenant(), 13, aftersales.now()) t
  JOIN aftersales.engineers e ON e.tenant_id = aftersales.current_tenant() AND e.engineer_id = t.engineer_id;
COMMENT ON VIEW aftersales.staff_time_monthly IS
  'Staff board: the monthly trend over the last 13 months (reporting zone) of busy, idle and on-duty hours, utilisation, late check-ins, missing check-outs and location anomalies per engineer (忙闲月度趋势)';
COMMENT ON COLUMN aftersales.staff_time_monthly.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.staff_time_monthly.month IS 'First day of the month';
COMMENT ON COLUMN aftersales.staff_time_monthly.engineer_id IS 'Engineer';
COMMENT ON COLUMN aftersales.staff_time_monthly.engineer_name IS 'Engineer''s name';
COMMENT ON COLUMN aftersales.staff_time_monthly.region IS 'Engineer''s region';
COMMENT ON COLUMN aftersales.staff_time_monthly.scheduled_hours IS 'Hours of shifts in the month (to now for the current month)';
COMMENT ON COLUMN aftersales.staff_time_monthly.on_duty_hours IS 'Hours checked in';
COMMENT ON COLUMN aftersales.staff_time_monthly.busy_hours IS 'Hours holding a ticket in progress or on site';
COMMENT ON COLUMN aftersales.staff_time_monthly.idle_hours IS 'Hours on duty holding nothing';
COMMENT ON COLUMN aftersales.staff_time_monthly.utilisation IS 'Busy hours while on duty / on-duty hours, 0 to 1';
COMMENT ON COLUMN aftersales.staff_time_monthly.late_check_ins IS 'Days with a late first check-in';
COMMENT ON COLUMN aftersales.staff_time_monthly.missing_check_outs IS 'Check-ins without a check-out';
COMMENT ON COLUMN aftersales.staff_time_monthly.location_anomalies IS 'Check-ins far from the outlet or the site';

-- Holdings (保有量) here are installed units, as the region board uses the
-- word ("人员保有设备数量": the units each engineer of a region looks
-- after); open tickets per engineer are kpi_holdings.  Headcount is the
-- region's active engineers today (engineers have no history).
CREATE VIEW aftersales.staff_region_monthly WITH (security_invoker = true) AS
WITH w AS (
    SELECT z.zone, (pg_catalog.date_trunc('month', pg_catalog.timezone(z.zone, aftersales.now())) - '24 months'::interval)::date AS first_month,
           pg_catalog.date_trunc('month', pg_catalog.timezone(z.zone, aftersales.now()))::date AS last_month
      FROM (SELECT aftersales.reporting_zone(aftersales.current_tenant()) AS zone) z
), months AS (
    SELECT g.m::date AS month FROM w, pg_catalog.generate_series(w.first_month::timestamp, w.last_month::timestamp, '1 month'::interval) g (m)
), regions AS (
    SELECT r.region FROM pg_catalog.unnest('{华东,华北,东北,中南,西北,西南}'::text[]) r (region)
), heads AS (
    SELECT e.region::text AS region, pg_catalog.count(*) AS engineers
      FROM aftersales.engineers e WHERE e.tenant_id = aftersales.current_tenant() AND e.active GROUP BY 1
), installs AS (
    -- units by region and month of installation (undated: before any month)
    SELECT c.region::text AS region,
           COALESCE(pg_catalog.date_trunc('month', u.installed_on)::date, '-infinity'::date) AS month, pg_catalog.count(*) AS n
      FROM aftersales.units u JOIN aftersales.customers c ON c.tenant_id = u.tenant_id AND c.customer_id = u.customer_id
     WHERE u.tenant_id = aftersales.current_tenant()
     GROUP BY 1, 2
), entered AS (
    SELECT COALESCE(c.region, o.region)::text AS region,
           pg_catalog.date_trunc('month', pg_catalog.timezone(w.zone, t.opened_at))::date AS month, pg_catalog.count(*) AS n
      FROM aftersales.tickets t
      JOIN aftersales.customers c ON c.tenant_id = t.tenant_id AND c.customer_id = t.customer_id
      LEFT JOIN aftersales.organisations o ON o.tenant_id = t.tenant_id AND o.org_id = t.org_id
     CROSS JOIN w
     WHERE t.tenant_id = aftersales.current_tenant() AND t.opened_at >= w.first_month::timestamp AT TIME ZONE w.zone - '1 day'::interval
     GROUP BY 1, 2
), per AS (
    SELECT m.month, r.region, COALESCE(h.engineers, 0) AS engineers,
           COALESCE((SELECT pg_catalog.sum(i.n) FROM installs i WHERE i.region = r.region AND i.month <= m.month), 0)::bigint
               AS installed_units,
           COALESCE(e.n, 0) AS intake
      FROM months m CROSS JOIN regions r
      LEFT JOIN heads h ON h.region = r.region
      LEFT JOIN entered e ON e.region = r.region AND e.month = m.month
)
SELECT aftersales.current_tenant() AS tenant_id, p.month, p.region, p.engineers, p.installed_units,
       (CASE WHEN p.engineers > 0 THEN p.installed_units::numeric / p.engineers END)::numeric(12,2) AS units_per_engineer,
       p.intake,
       (CASE WHEN p.engineers > 0 THEN p.intake::numeric / p.engineers END)::numeric(12,2) AS intake_per_engineer,
       (CASE WHEN prev.installed_units > 0
             THEN p.installed_units::numeric / prev.installed_units - 1 END)::numeric(8,4) AS installed_units_mom,
       (CASE WHEN ly.installed_units > 0
             THEN p.installed_units::numeric / ly.installed_units - 1 END)::numeric(8,4) AS installed_units_yoy,
       (CASE WHEN prev.intake > 0 THEN p.intake::numeric / prev.intake - 1 END)::numeric(8,4) AS intake_mom,
       (CASE WHEN ly.intake > 0 THEN p.intake::numeric / ly.intake - 1 END)::numeric(8,4) AS intake_yoy
  FROM per p
  LEFT JOIN per prev ON prev.region = p.region AND prev.month = (p.month - '1 month'::interval)::date
  LEFT JOIN per ly ON ly.region = p.region AND ly.month = (p.month - '12 months'::interval)::date
 WHERE p.month >= (SELECT (w.last_month - '12 months'::interval)::date FROM w);
COMMENT ON VIEW aftersales.staff_region_monthly IS
  'Staff board, per region (华东 … 西南) and month of the last 13: headcount, installed units (保有量) and intake, per engineer, with month-on-month and year-on-year changes';
COMMENT ON COLUMN aftersales.staff_region_monthly.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.staff_region_monthly.month IS 'First day of the month, in the reporting zone';
COMMENT ON COLUMN aftersales.staff_region_monthly.region IS 'Region';
COMMENT ON COLUMN aftersales.staff_region_monthly.engineers IS 'Active engineers of the region (today)';
COMMENT ON COLUMN aftersales.staff_region_monthly.installed_units IS 'Units installed at the region''s customers by the end of the month (保有量)';
COMMENT ON COLUMN aftersales.staff_region_monthly.units_per_engineer IS 'Installed units per engineer of the region';
COMMENT ON COLUMN aftersales.staff_region_monthly.intake IS 'Tickets entered in the month for the region''s customers (接单量)';
COMMENT ON COLUMN aftersales.staff_region_monthly.intake_per_engineer IS 'Tickets entered per engineer of the region';
COMMENT ON COLUMN aftersales.staff_region_monthly.installed_units_mom IS 'Change of installed units against the month before (0.05 = +5%)';
COMMENT ON COLUMN aftersales.staff_region_monthly.installed_units_yoy IS 'Change of installed units against the same month a year before';
COMMENT ON COLUMN aftersales.staff_region_monthly.intake_mom IS 'Change of intake against the month before';
COMMENT ON COLUMN aftersales.staff_region_monthly.intake_yoy IS 'Change of intake against the same month a year before';

-- First maintenance (首保): a unit's first ticket.  Dispatches are the
-- assignments that gave a ticket to an engineer (as kpi_dispatch counts).
CREATE VIEW aftersales.staff_dispatch_monthly WITH (security_invoker = true) AS
WITH z AS (SELECT aftersales.reporting_zone(aftersales.current_tenant()) AS zone),
d AS (
    SELECT pg_catalog.date_trunc('month', pg_catalog.timezone(z.zone, ev.at))::date AS month,
           COALESCE(t.org_type, 'none') AS org_type,
           t.unit_id IS NOT NULL AND NOT EXISTS (
               SELECT FROM aftersales.tickets x
                WHERE x.tenant_id = t.tenant_id AND x.unit_id = t.unit_id AND x.ticket_id < t.ticket_id) AS first_maintenance
      FROM aftersales.ticket_events ev
      JOIN aftersales._kpi_ticket_dims t ON t.tenant_id = ev.tenant_id AND t.ticket_id = ev.ticket_id, z
     WHERE ev.tenant_id = aftersales.current_tenant() AND ev.event IN ('assign', 'reassign', 'take_over')
       AND ev.to_state = 'assigned' AND ev.at <= aftersales.now()
)
SELECT aftersales.current_tenant() AS tenant_id, d.month, d.org_type, pg_catalog.count(*) AS dispatches,
       (pg_catalog.count(*)::numeric / pg_catalog.sum(pg_catalog.count(*)) OVER (PARTITION BY d.month))::numeric(6,4) AS dispatch_share,
       pg_catalog.count(*) FILTER (WHERE d.first_maintenance) AS first_maintenance_dispatches,
       (pg_catalog.count(*) FILTER (WHERE d.first_maintenance)::numeric / pg_catalog.count(*))::numeric(6,4) AS first_maintenance_share
  FROM d
 GROUP BY d.month, d.org_type;
COMMENT ON VIEW aftersales.staff_dispatch_monthly IS
  'Staff board: dispatches (assignments to an engineer) per month and organisation type (代表处, 经销商, 供应商), their share of the month, and the first-maintenance share (首保占比: dispatches of a unit''s first ticket)';
COMMENT ON COLUMN aftersales.staff_dispatch_monthly.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.staff_dispatch_monthly.month IS 'First day of the month of the dispatch, in the reporting zone';
COMMENT ON COLUMN aftersales.staff_dispatch_monthly.org_type IS 'Type of the ticket''s organisation (representative_office, dealer, supplier, headquarters), none without one';
COMMENT ON COLUMN aftersales.staff_dispatch_monthly.dispatches IS 'Assignments that gave a ticket to an engineer (派工量)';
COMMENT ON COLUMN aftersales.staff_dispatch_monthly.dispatch_share IS 'Share of the month''s dispatches, 0 to 1';
COMMENT ON COLUMN aftersales.staff_dispatch_monthly.first_maintenance_dispatches IS 'Dispatches of a unit''s first ticket (首保)';
COMMENT ON COLUMN aftersales.staff_dispatch_monthly.first_maintenance_share IS 'First-maintenance dispatches / dispatches, 0 to 1 (首保占比)';

CREATE VIEW aftersales.dispatch_decisions WITH (security_invoker = true) AS
SELECT d.tenant_id, d.decision_id, d.ticket_id, d.decided_at, d.mode, d.outcome, d.engineer_id, e.name AS engineer_name,
       d.total_score::numeric(6,4) AS total_score, d.candidates,
       (d.ranking -> 0 ->> 'reasons') AS reasons
  FROM aftersales.assignment_decisions d
  LEFT JOIN aftersales.engineers e ON e.tenant_id = d.tenant_id AND e.engineer_id = d.engineer_id
 WHERE d.tenant_id = aftersales.current_tenant();
COMMENT ON VIEW aftersales.dispatch_decisions IS
  'Automatic assignments with the reasons of the engineer chosen, for the dispatch board';
COMMENT ON COLUMN aftersales.dispatch_decisions.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.dispatch_decisions.decision_id IS 'Decision';
COMMENT ON COLUMN aftersales.dispatch_decisions.ticket_id IS 'Ticket';
COMMENT ON COLUMN aftersales.dispatch_decisions.decided_at IS 'When';
COMMENT ON COLUMN aftersales.dispatch_decisions.mode IS 'call, entry or sweep';
COMMENT ON COLUMN aftersales.dispatch_decisions.outcome IS 'assigned, locked or no_candidate';
COMMENT ON COLUMN aftersales.dispatch_decisions.engineer_id IS 'Engineer chosen';
COMMENT ON COLUMN aftersales.dispatch_decisions.engineer_name IS 'Engineer''s name';
COMMENT ON COLUMN aftersales.dispatch_decisions.total_score IS 'Weighted score of the engineer chosen, 0 to 1';
COMMENT ON COLUMN aftersales.dispatch_decisions.candidates IS 'Candidates that passed the filters';
COMMENT ON COLUMN aftersales.dispatch_decisions.reasons IS 'Why the best candidate ranked first, in words';

GRANT SELECT ON aftersales.staff_time_daily, aftersales.staff_time_monthly, aftersales.staff_region_monthly,
    aftersales.staff_dispatch_monthly, aftersales.dispatch_decisions
    TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer, aftersales_analyst, aftersales_auditor;

-- ---------------------------------------------------------------------------
-- The catalogue

INSERT INTO aftersales.kpi_catalogue
       (tenant_id, code, category, name_en, name_zh, definition, formula, unit, target, target_direction, source, sort_order, customised)
SELECT 1, x.code, 'staff', x.name_en, x.name_zh, x.definition, x.formula, x.unit, x.target, x.direction, x.source, x.ord, false
  FROM (VALUES
 ('on_duty_hours', 'On-duty hours', '在岗时长',
  'Hours an engineer was checked in (check-in to check-out; an open session up to now; a check-in without a check-out counts nothing and is flagged). 在岗时长: 签到至签退的时长。',
  'sum(check_out - check_in)', 'hours', NULL::numeric, NULL::text, 'engineer_time, staff_time_daily, staff_time_monthly', 400),
 ('busy_hours', 'Busy hours', '忙碌时长',
  'Hours an engineer held a ticket in progress or on site, from the tickets'' event log. 忙碌: 持有处理中或到场的工单。',
  'sum(time in in_progress or on_site as assignee)', 'hours', NULL, NULL, 'engineer_time, staff_time_daily, staff_time_monthly', 401),
 ('idle_hours', 'Idle hours', '空闲时长',
  'Hours an engineer was on duty (checked in) holding no open ticket. 空闲: 在岗且未持有任何未完成工单。',
  'on duty - holding', 'hours', NULL, NULL, 'engineer_time, staff_time_daily, staff_time_monthly', 402),
 ('utilisation', 'Technician utilisation', '服务人员利用率',
  'Busy hours while on duty over on-duty hours. 利用率: 在岗期间的忙碌时长 / 在岗时长。',
  'busy ∩ on duty / on duty', 'ratio', 0.7, '>=', 'engineer_time, staff_time_daily, staff_time_monthly', 403),
 ('late_check_ins', 'Late check-ins', '迟到次数',
  'Days whose first check-in came after the shift start (the engineer''s calendar) plus the setting late_grace_minutes (10). 迟到: 当日首次签到晚于班次开始加宽限。',
  'count(first check-in > shift start + grace)', 'tickets', NULL, NULL, 'staff_time_monthly', 404),
 ('location_anomalies', 'Location anomalies', '位置异常',
  'Check-ins farther than the setting anomaly_distance_km (3 km) from the outlet, or on site from the customer''s site. 位置异常: 签到位置距网点或客户现场超过设定距离。',
  'count(reference_km > anomaly_distance_km)', 'tickets', NULL, NULL, 'attendance_days, staff_time_monthly', 405),
 ('missing_check_outs', 'Missing check-outs', '漏签退',
  'Check-ins followed by another check-in, or not closed within max_session_hours (16). 漏签退: 签到后未签退。',
  'count(check-in without check-out)', 'tickets', NULL, NULL, 'attendance_days, staff_time_monthly', 406),
 ('units_per_engineer', 'Installed units per engineer', '人均保有量',
  'Units installed at a region''s customers by the end of the month, per active engineer of the region. 人均保有量: 区域设备保有量 / 区域在职工程师数。',
  'installed units / engineers', 'tickets', NULL, NULL, 'staff_region_monthly', 407),
 ('intake_per_engineer', 'Intake per engineer', '人均接单量',
  'Tickets entered in the month for a region''s customers, per active engineer of the region. 人均接单量。',
  'tickets entered / engineers', 'tickets', NULL, NULL, 'staff_region_monthly', 408),
 ('first_maintenance_share', 'First-maintenance share', '首保占比',
  'Dispatches of a unit''s first ticket over all dispatches, per month and organisation type. 首保占比: 设备首次工单的派工占比。',
  'first-maintenance dispatches / dispatches', 'ratio', NULL, NULL, 'staff_dispatch_monthly', 409)
) AS x (code, name_en, name_zh, definition, formula, unit, target, direction, source, ord);

-- aftersales install script, part 86: the service knowledge base and
-- remote service.  Articles (product line or model → symptom → cause →
-- solution, attachments by URL) with a life cycle on the generic state
-- machine engine (machine kb_article: draft → review → published →
-- retired, with reject back to draft and revise of a published article
-- into a new draft version), a snapshot per published version, search in
-- Chinese and English with pg_trgm (optional: the search functions say so
-- when it is missing), suggestions at ticket entry, drafts from resolved
-- tickets, and each resolution's mode (remote by phone or video, on site,
-- parts only) with the article it used and whether it helped.

-- ---------------------------------------------------------------------------
-- Articles

CREATE TABLE aftersales.kb_articles (
    tenant_id         bigint      NOT NULL DEFAULT aftersales.current_tenant()
                                  REFERENCES aftersales.tenants,
    article_id        bigint      GENERATED ALWAYS AS IDENTITY,
    product_line_id   bigint      NOT NULL,
    model_id          bigint,
    problem_type_id   bigint,
    title             text        NOT NULL CHECK (title <> '' AND pg_catalog.length(title) <= 200),
    symptom           text        NOT NULL CHECK (symptom <> ''),
    cause             text,
    solution          text        NOT NULL CHECK (solution <> ''),
    attachments       text[]      NOT NULL DEFAULT '{}'
                                  CONSTRAINT kb_articles_attachments_check
                                  CHECK (attachments = '{}' OR pg_catalog.array_to_string(attachments, ' ', '-') ~ '^https?://[^ ]+( https?://[^ ]+)*$'),
    language          text        NOT NULL DEFAULT 'zh' CHECK (language IN ('zh', 'en')),
    source_ticket_id  bigint,
    version           integer     NOT NULL DEFAULT 0 CHECK (version >= 0),
    search_text       text        GENERATED ALWAYS AS (pg_catalog.lower(title || ' ' || symptom || ' ' || COALESCE(cause, '') || ' ' || solution)) STORED,
    state             text        NOT NULL DEFAULT 'draft',
    event             text,
    event_at          timestamptz,
    event_by          text,
    event_reason      text,
    event_seq         integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, article_id),
    FOREIGN KEY (tenant_id, product_line_id) REFERENCES aftersales.product_lines (tenant_id, product_line_id),
    FOREIGN KEY (tenant_id, model_id) REFERENCES aftersales.product_models (tenant_id, model_id),
    FOREIGN KEY (tenant_id, problem_type_id) REFERENCES aftersales.problem_types (tenant_id, problem_type_id),
    FOREIGN KEY (tenant_id, source_ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id)
);
CREATE INDEX kb_articles_line_idx ON aftersales.kb_articles (tenant_id, product_line_id, state);
COMMENT ON TABLE aftersales.kb_articles IS
  'Service knowledge base (服务知识库): product line or model → symptom → cause → solution, with a life cycle (machine kb_article: draft, review, published, retired); change it through the aftersales.*_article functions';
COMMENT ON COLUMN aftersales.kb_articles.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.kb_articles.article_id IS 'Article id';
COMMENT ON COLUMN aftersales.kb_articles.product_line_id IS 'Product line the article applies to';
COMMENT ON COLUMN aftersales.kb_articles.model_id IS 'Model it applies to; NULL: every model of the line';
COMMENT ON COLUMN aftersales.kb_articles.problem_type_id IS 'Problem type, when it is specific to one';
COMMENT ON COLUMN aftersales.kb_articles.title IS 'Title';
COMMENT ON COLUMN aftersales.kb_articles.symptom IS 'What the customer sees (现象)';
COMMENT ON COLUMN aftersales.kb_articles.cause IS 'Why it happens (原因)';
COMMENT ON COLUMN aftersales.kb_articles.solution IS 'How to solve it, step by step (解决方法)';
COMMENT ON COLUMN aftersales.kb_articles.attachments IS 'Attachments by reference: http(s) URLs of documents, pictures, videos';
COMMENT ON COLUMN aftersales.kb_articles.language IS 'zh or en';
COMMENT ON COLUMN aftersales.kb_articles.source_ticket_id IS 'The resolved ticket it was drafted from, if any';
COMMENT ON COLUMN aftersales.kb_articles.version IS 'Published version number: 0 until first published, then one more at each publish';
COMMENT ON COLUMN aftersales.kb_articles.search_text IS 'Lower-cased title, symptom, cause and solution, that search reads';
COMMENT ON COLUMN aftersales.kb_articles.state IS 'draft, review, published or retired (set by the state machine)';
COMMENT ON COLUMN aftersales.kb_articles.event IS 'The event of the latest change (create, edit, submit, reject, publish, retire, revise)';
COMMENT ON COLUMN aftersales.kb_articles.event_at IS 'When the latest event happened';
COMMENT ON COLUMN aftersales.kb_articles.event_by IS 'Who made it (the authenticated identity)';
COMMENT ON COLUMN aftersales.kb_articles.event_reason IS 'Why (required to reject and retire)';
COMMENT ON COLUMN aftersales.kb_articles.event_seq IS 'Number of events so far: seq of the latest row in kb_article_events';
SELECT pg_catalog.pg_extension_config_dump('aftersales.kb_articles', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.kb_articles', 'article_id')::regclass, '');

CREATE TABLE aftersales.kb_article_events (
    tenant_id   bigint      NOT NULL,
    article_id  bigint      NOT NULL,
    seq         integer     NOT NULL CHECK (seq >= 1),
    event       text        NOT NULL,
    from_state  text,
    to_state    text        NOT NULL,
    actor       text        NOT NULL,
    at          timestamptz NOT NULL,
    reason      text,
    changes     jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, article_id, seq),
    FOREIGN KEY (tenant_id, article_id) REFERENCES aftersales.kb_articles (tenant_id, article_id)
);
COMMENT ON TABLE aftersales.kb_article_events IS
  'Append-only log of every change of every article (who, when, from, to, why, and the columns changed): the version history; written by the state machine engine';
COMMENT ON COLUMN aftersales.kb_article_events.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.kb_article_events.article_id IS 'Article changed';
COMMENT ON COLUMN aftersales.kb_article_events.seq IS 'Position in the article''s history, from 1 (create)';
COMMENT ON COLUMN aftersales.kb_article_events.event IS 'The event';
COMMENT ON COLUMN aftersales.kb_article_events.from_state IS 'State before; empty for create';
COMMENT ON COLUMN aftersales.kb_article_events.to_state IS 'State after';
COMMENT ON COLUMN aftersales.kb_article_events.actor IS 'Who';
COMMENT ON COLUMN aftersales.kb_article_events.at IS 'When';
COMMENT ON COLUMN aftersales.kb_article_events.reason IS 'Why';
COMMENT ON COLUMN aftersales.kb_article_events.changes IS 'Every column changed: {"column": [old, new], ...}';
SELECT pg_catalog.pg_extension_config_dump('aftersales.kb_article_events', '');
CREATE TRIGGER append_only
    BEFORE UPDATE OR DELETE ON aftersales.kb_article_events
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.append_only('Record a new event instead, for example: SELECT aftersales.revise_article(12);');
CREATE TRIGGER append_only_truncate
    BEFORE TRUNCATE ON aftersales.kb_article_events
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales_internal.append_only('Record a new event instead, for example: SELECT aftersales.revise_article(12);');

-- The life cycle (machine kb_article), on the state machine engine
-- (81_state_machine.sql): draft → review → published → retired; edit
-- changes a draft or an article in review, reject (with a reason) sends a
-- review back, revise starts the next version of a published or retired
-- article, retire needs a reason.  Every INSERT and UPDATE names its event
-- in the row; the engine's guard judges it and its log trigger writes
-- kb_article_events.
INSERT INTO aftersales.state_transitions (machine, from_state, event, to_state, needs_reason) VALUES
    ('kb_article', '', 'create', 'draft', false),
    ('kb_article', 'draft', 'edit', 'draft', false),
    ('kb_article', 'draft', 'submit', 'review', false),
    ('kb_article', 'review', 'edit', 'review', false),
    ('kb_article', 'review', 'reject', 'draft', true),
    ('kb_article', 'review', 'publish', 'published', false),
    ('kb_article', 'published', 'retire', 'retired', true),
    ('kb_article', 'published', 'revise', 'draft', false),
    ('kb_article', 'retired', 'revise', 'draft', false);
CREATE TRIGGER state_guard BEFORE INSERT OR UPDATE ON aftersales.kb_articles FOR EACH ROW
    EXECUTE FUNCTION aftersales_internal.state_guard('kb_article', 'article_id', 'aftersales.kb_article_events');
CREATE TRIGGER state_log AFTER INSERT OR UPDATE ON aftersales.kb_articles FOR EACH ROW
    EXECUTE FUNCTION aftersales_internal.state_log('kb_article', 'article_id', 'aftersales.kb_article_events');

-- Who may fire which article event: admins and managers review (all
-- events); agents and engineers write and revise articles and send them to
-- review.  Articles are nobody's own, so no right is own-only.
INSERT INTO aftersales.event_rights (kind, event, own_tickets_only)
SELECT k, 'kb_article.' || e, false
  FROM pg_catalog.unnest(ARRAY['admin', 'manager']) k,
       pg_catalog.unnest(ARRAY['create', 'edit', 'submit', 'reject', 'publish', 'retire', 'revise']) e
UNION ALL
SELECT k, 'kb_article.' || e, false
  FROM pg_catalog.unnest(ARRAY['agent', 'engineer']) k,
       pg_catalog.unnest(ARRAY['create', 'edit', 'submit', 'revise']) e;

-- What each published version said, for "what did the engineer read".
CREATE TABLE aftersales.kb_article_versions (
    tenant_id     bigint      NOT NULL,
    article_id    bigint      NOT NULL,
    version       integer     NOT NULL CHECK (version >= 1),
    title         text        NOT NULL,
    symptom       text        NOT NULL,
    cause         text,
    solution      text        NOT NULL,
    attachments   text[]      NOT NULL,
    published_at  timestamptz NOT NULL,
    published_by  text        NOT NULL,
    PRIMARY KEY (tenant_id, article_id, version),
    FOREIGN KEY (tenant_id, article_id) REFERENCES aftersales.kb_articles (tenant_id, article_id)
);
COMMENT ON TABLE aftersales.kb_article_versions IS 'Each published version of each article, as published (append-only)';
COMMENT ON COLUMN aftersales.kb_article_versions.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.kb_article_versions.article_id IS 'Article';
COMMENT ON COLUMN aftersales.kb_article_versions.version IS 'Version number, from 1';
COMMENT ON COLUMN aftersales.kb_article_versions.title IS 'Title as published';
COMMENT ON COLUMN aftersales.kb_article_versions.symptom IS 'Symptom as published';
COMMENT ON COLUMN aftersales.kb_article_versions.cause IS 'Cause as published';
COMMENT ON COLUMN aftersales.kb_article_versions.solution IS 'Solution as published';
COMMENT ON COLUMN aftersales.kb_article_versions.attachments IS 'Attachments as published';
COMMENT ON COLUMN aftersales.kb_article_versions.published_at IS 'When it was published';
COMMENT ON COLUMN aftersales.kb_article_versions.published_by IS 'Who published (reviewed) it';
SELECT pg_catalog.pg_extension_config_dump('aftersales.kb_article_versions', '');
CREATE TRIGGER append_only
    BEFORE UPDATE OR DELETE ON aftersales.kb_article_versions
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.append_only();

-- ---------------------------------------------------------------------------
-- The article API: one UPDATE (or INSERT) per event, naming the event, its
-- time and reason in the row; the state machine engine's guard judges it
-- (the transitions above) and takes the actor from the authenticated
-- identity (event_by = NULL: none claimed).

CREATE FUNCTION aftersales_internal.require_article(article bigint, tenant bigint, fn text) RETURNS aftersales.kb_articles
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a aftersales.kb_articles;
BEGIN
    IF article IS NULL THEN
        RAISE EXCEPTION 'article must not be null'
            USING ERRCODE = '22004', HINT = pg_catalog.format('Name the article, for example: SELECT aftersales.%s(12);', fn);
    END IF;
    SELECT * INTO a FROM aftersales.kb_articles x WHERE x.tenant_id = tenant AND x.article_id = article;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'article % does not exist for tenant %', article, tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the articles with: SELECT article_id, title, state FROM aftersales.kb_articles;';
    END IF;
    RETURN a;
END
$$;
COMMENT ON FUNCTION aftersales_internal.require_article(bigint, bigint, text) IS 'Internal: the article, or the error for a NULL or unknown one';

CREATE FUNCTION aftersales.create_article(product_line bigint, title text, symptom text, solution text,
                                          cause text DEFAULT NULL, model bigint DEFAULT NULL,
                                          problem_type bigint DEFAULT NULL, attachments text[] DEFAULT '{}',
                                          language text DEFAULT 'zh', at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    id bigint;
BEGIN
    IF product_line IS NULL THEN
        RAISE EXCEPTION 'product_line must not be null'
            USING ERRCODE = '22004',
                  HINT = 'Name the product line, for example: SELECT aftersales.create_article(1, ''漏油'', ''机身下方有油迹'', ''更换密封圈'');';
    END IF;
    IF COALESCE(pg_catalog.btrim(title), '') = '' OR COALESCE(pg_catalog.btrim(symptom), '') = ''
       OR COALESCE(pg_catalog.btrim(solution), '') = '' THEN
        RAISE EXCEPTION 'an article needs a title, a symptom and a solution'
            USING ERRCODE = '22004',
                  HINT = 'For example: SELECT aftersales.create_article(1, ''漏油'', ''机身下方有油迹'', ''更换密封圈'');';
    END IF;
    IF NOT EXISTS (SELECT FROM aftersales.product_lines l WHERE l.tenant_id = tenant AND l.product_line_id = product_line) THEN
        RAISE EXCEPTION 'product line % does not exist for tenant %', product_line, tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the product lines with: SELECT product_line_id, name FROM aftersales.product_lines;';
    END IF;
    INSERT INTO aftersales.kb_articles AS k (tenant_id, product_line_id, model_id, problem_type_id, title, symptom, cause,
                                             solution, attachments, language, event, event_at)
    VALUES (tenant, product_line, model, problem_type, title, symptom, cause, solution, COALESCE(attachments, '{}'),
            COALESCE(language, 'zh'), 'create', at)
    RETURNING k.article_id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION aftersales.create_article(bigint, text, text, text, text, bigint, bigint, text[], text, timestamptz) IS
  'Write a new knowledge article (a draft): product line, title, symptom, solution, and optionally cause, model, problem type, attachment URLs and language; returns its id';

CREATE FUNCTION aftersales.edit_article(article bigint, changes jsonb, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    a aftersales.kb_articles := aftersales_internal.require_article(article, tenant, 'edit_article');
    k text;
    s text;
BEGIN
    IF changes IS NULL OR pg_catalog.jsonb_typeof(changes) <> 'object' OR changes = '{}' THEN
        RAISE EXCEPTION 'changes must be a non-empty JSON object'
            USING ERRCODE = '22023',
                  HINT = 'Name the fields to change, for example: SELECT aftersales.edit_article(12, ''{"cause": "密封圈老化"}'');';
    END IF;
    FOR k IN SELECT pg_catalog.jsonb_object_keys(changes) LOOP
        IF k NOT IN ('title', 'symptom', 'cause', 'solution', 'attachments', 'model_id', 'problem_type_id', 'language') THEN
            RAISE EXCEPTION 'cannot edit field "%" of an article', pg_catalog.left(k, 64)
                USING ERRCODE = '22023',
                      HINT = 'Editable fields: title, symptom, cause, solution, attachments, model_id, problem_type_id, language.';
        END IF;
    END LOOP;
    UPDATE aftersales.kb_articles x
       SET event = 'edit', event_at = edit_article.at, event_reason = NULL, event_by = NULL, event_seq = x.event_seq + 1,
           title = CASE WHEN changes ? 'title' THEN changes ->> 'title' ELSE x.title END,
           symptom = CASE WHEN changes ? 'symptom' THEN changes ->> 'symptom' ELSE x.symptom END,
           cause = CASE WHEN changes ? 'cause' THEN changes ->> 'cause' ELSE x.cause END,
           solution = CASE WHEN changes ? 'solution' THEN changes ->> 'solution' ELSE x.solution END,
           attachments = CASE WHEN changes ? 'attachments'
                              THEN ARRAY(SELECT pg_catalog.jsonb_array_elements_text(changes -> 'attachments')) ELSE x.attachments END,
           model_id = CASE WHEN changes ? 'model_id' THEN (changes ->> 'model_id')::bigint ELSE x.model_id END,
           problem_type_id = CASE WHEN changes ? 'problem_type_id' THEN (changes ->> 'problem_type_id')::bigint ELSE x.problem_type_id END,
           language = CASE WHEN changes ? 'language' THEN changes ->> 'language' ELSE x.language END
     WHERE x.tenant_id = tenant AND x.article_id = a.article_id
    RETURNING x.state INTO s;
    RETURN s;
END
$$;
COMMENT ON FUNCTION aftersales.edit_article(bigint, jsonb, timestamptz) IS
  'Change the fields of a draft (or an article in review) given as a JSON object; returns the state';

-- The events without fields: submit, reject, publish, retire, revise.
CREATE FUNCTION aftersales_internal.article_event(article bigint, event text, reason text, at timestamptz, fn text)
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    a aftersales.kb_articles := aftersales_internal.require_article(article, tenant, fn);
    s text;
BEGIN
    UPDATE aftersales.kb_articles x
       SET event = article_event.event, event_at = article_event.at, event_reason = article_event.reason, event_by = NULL,
           event_seq = x.event_seq + 1,
           version = CASE WHEN article_event.event = 'publish' THEN x.version + 1 ELSE x.version END
     WHERE x.tenant_id = tenant AND x.article_id = a.article_id
    RETURNING x.state INTO s;
    IF event = 'publish' THEN
        INSERT INTO aftersales.kb_article_versions (tenant_id, article_id, version, title, symptom, cause, solution, attachments,
                                                    published_at, published_by)
        SELECT x.tenant_id, x.article_id, x.version, x.title, x.symptom, x.cause, x.solution, x.attachments, x.event_at, x.event_by
          FROM aftersales.kb_articles x WHERE x.tenant_id = tenant AND x.article_id = a.article_id;
    END IF;
    RETURN s;
END
$$;
COMMENT ON FUNCTION aftersales_internal.article_event(bigint, text, text, timestamptz, text) IS
  'Internal: records one event of an article through the state machine; publishing also numbers and keeps the version';

CREATE FUNCTION aftersales.submit_article(article bigint, at timestamptz DEFAULT aftersales.now()) RETURNS text
LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $$ SELECT aftersales_internal.article_event(article, 'submit', NULL, at, 'submit_article') $$;
COMMENT ON FUNCTION aftersales.submit_article(bigint, timestamptz) IS 'Send a draft for review: review';

CREATE FUNCTION aftersales.publish_article(article bigint, at timestamptz DEFAULT aftersales.now()) RETURNS text
LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $$ SELECT aftersales_internal.article_event(article, 'publish', NULL, at, 'publish_article') $$;
COMMENT ON FUNCTION aftersales.publish_article(bigint, timestamptz) IS
  'Reviewer: publish an article in review (a new version, kept in kb_article_versions): published';

CREATE FUNCTION aftersales.reject_article(article bigint, reason text, at timestamptz DEFAULT aftersales.now()) RETURNS text
LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $$ SELECT aftersales_internal.article_event(article, 'reject', reason, at, 'reject_article') $$;
COMMENT ON FUNCTION aftersales.reject_article(bigint, text, timestamptz) IS 'Reviewer: send an article in review back to its author, saying why: draft';

CREATE FUNCTION aftersales.retire_article(article bigint, reason text, at timestamptz DEFAULT aftersales.now()) RETURNS text
LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $$ SELECT aftersales_internal.article_event(article, 'retire', reason, at, 'retire_article') $$;
COMMENT ON FUNCTION aftersales.retire_article(bigint, text, timestamptz) IS 'Withdraw a published article, saying why: retired';

CREATE FUNCTION aftersales.revise_article(article bigint, at timestamptz DEFAULT aftersales.now()) RETURNS text
LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $$ SELECT aftersales_internal.article_event(article, 'revise', NULL, at, 'revise_article') $$;
COMMENT ON FUNCTION aftersales.revise_article(bigint, timestamptz) IS
  'Start the next version of a published or retired article: draft again (the published version stays in kb_article_versions)';

-- A draft from a resolved ticket: its model and problem type, the
-- customer's description as the symptom, the resolution as the solution.
CREATE FUNCTION aftersales.draft_article_from_ticket(ticket bigint, at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    t aftersales.tickets := aftersales_internal.require_ticket(ticket, tenant, 'draft_article_from_ticket');
    line bigint;
    model_name text;
    problem_name text;
    resolution text;
    id bigint;
BEGIN
    IF t.status NOT IN ('resolved', 'closed') THEN
        RAISE EXCEPTION 'ticket % is %, not resolved', ticket, t.status
            USING ERRCODE = '55000',
                  HINT = 'Draft articles from resolved or closed tickets, whose resolution is known.';
    END IF;
    IF t.model_id IS NULL THEN
        RAISE EXCEPTION 'ticket % has no product model', ticket
            USING ERRCODE = '55000',
                  HINT = 'An article belongs to a product line; write it with aftersales.create_article() instead.';
    END IF;
    SELECT m.product_line_id, m.name INTO line, model_name FROM aftersales.product_models m
     WHERE m.tenant_id = tenant AND m.model_id = t.model_id;
    SELECT p.name INTO problem_name FROM aftersales.problem_types p
     WHERE p.tenant_id = tenant AND p.problem_type_id = t.problem_type_id;
    SELECT e.reason INTO resolution FROM aftersales.ticket_events e
     WHERE e.tenant_id = tenant AND e.ticket_id = t.ticket_id AND e.event = 'resolve'
     ORDER BY e.seq DESC LIMIT 1;
    INSERT INTO aftersales.kb_articles AS k (tenant_id, product_line_id, model_id, problem_type_id, title, symptom, solution,
                                             source_ticket_id, event, event_at)
    VALUES (tenant, line, t.model_id, t.problem_type_id, pg_catalog.left(model_name || ': ' || problem_name, 200),
            t.description, COALESCE(NULLIF(resolution, ''), '(to be written)'), t.ticket_id, 'create', at)
    RETURNING k.article_id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION aftersales.draft_article_from_ticket(bigint, timestamptz) IS
  'Start a draft article from a resolved ticket: its model and problem type, the description as symptom, the resolution as solution; returns the article id';

-- ---------------------------------------------------------------------------
-- Search (pg_trgm)

CREATE FUNCTION aftersales_internal.trgm_schema() RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s text;
BEGIN
    SELECT n.nspname INTO s FROM pg_catalog.pg_extension x JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace
     WHERE x.extname = 'pg_trgm';
    IF s IS NULL THEN
        RAISE EXCEPTION 'knowledge search needs the extension pg_trgm'
            USING ERRCODE = '0A000',
                  DETAIL = 'Articles are ranked by trigram similarity, which works on Chinese substrings as on English words.',
                  HINT = 'Install it (PostgreSQL contrib) in this database: CREATE EXTENSION pg_trgm; then SELECT aftersales.create_article_search_index();';
    END IF;
    RETURN s;
END
$$;
COMMENT ON FUNCTION aftersales_internal.trgm_schema() IS 'Internal: the schema of pg_trgm, or the error saying to install it';

CREATE FUNCTION aftersales.create_article_search_index() RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s constant text := aftersales_internal.trgm_schema();
BEGIN
    EXECUTE pg_catalog.format('CREATE INDEX IF NOT EXISTS kb_articles_search_idx ON aftersales.kb_articles USING gin (search_text %I.gin_trgm_ops)', s);
    RETURN 'aftersales.kb_articles_search_idx';
END
$$;
COMMENT ON FUNCTION aftersales.create_article_search_index() IS
  'Create the trigram index that knowledge search uses (needs pg_trgm; idempotent); returns its name';
REVOKE ALL ON FUNCTION aftersales.create_article_search_index() FROM PUBLIC;

-- Published articles ranked by word similarity of the query to their
-- text (pg_trgm''s <% operator, which the trigram index serves), boosted
-- when they are of the model (+0.2), the product line (+0.1) or the
-- problem type (+0.1) asked for.
CREATE FUNCTION aftersales.search_articles(query text, n integer DEFAULT 10, model bigint DEFAULT NULL,
                                           product_line bigint DEFAULT NULL, problem_type bigint DEFAULT NULL)
    RETURNS TABLE (rank integer, article_id bigint, title text, score numeric, similarity numeric, version integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET pg_trgm.word_similarity_threshold = 0.3
AS $$
DECLARE
    s constant text := aftersales_internal.trgm_schema();
    q text := pg_catalog.lower(pg_catalog.btrim(query));
    line bigint := product_line;
BEGIN
    IF q IS NULL OR q = '' THEN
        RAISE EXCEPTION 'query must not be empty'
            USING ERRCODE = '22023', HINT = 'For example: SELECT * FROM aftersales.search_articles(''漏油'');';
    END IF;
    IF n IS NULL OR n < 1 OR n > 1000 THEN
        RAISE EXCEPTION 'invalid number of articles: %', COALESCE(n::text, 'NULL')
            USING ERRCODE = '22023', HINT = 'Ask for 1 to 1000, for example: SELECT * FROM aftersales.search_articles(''漏油'', 5);';
    END IF;
    IF line IS NULL AND model IS NOT NULL THEN
        SELECT m.product_line_id INTO line FROM aftersales.product_models m
         WHERE m.tenant_id = aftersales.current_tenant() AND m.model_id = model;
    END IF;
    RETURN QUERY EXECUTE pg_catalog.format($q$
        SELECT (pg_catalog.row_number() OVER (ORDER BY x.score DESC, x.article_id))::integer, x.article_id, x.title,
               x.score, x.sim, x.version
          FROM (SELECT k.article_id, k.title, k.version,
                       pg_catalog.round(%1$I.word_similarity($1, k.search_text)::numeric, 4) AS sim,
                       pg_catalog.round((%1$I.word_similarity($1, k.search_text)
                        + CASE WHEN $3 IS NOT NULL AND k.model_id = $3 THEN 0.2 ELSE 0 END
                        + CASE WHEN $4 IS NOT NULL AND k.product_line_id = $4 THEN 0.1 ELSE 0 END
                        + CASE WHEN $5 IS NOT NULL AND k.problem_type_id = $5 THEN 0.1 ELSE 0 END)::numeric, 4) AS score
                  FROM aftersales.kb_articles k
                 WHERE k.tenant_id = aftersales.current_tenant() AND k.state = 'published'
                   AND k.search_text OPERATOR(%1$I.%%>) $1
                   AND ($4 IS NULL OR k.product_line_id = $4)
                   AND ($3 IS NULL OR k.model_id IS NULL OR k.model_id = $3)) x
         ORDER BY x.score DESC, x.article_id
         LIMIT $2$q$, s)
    USING q, n, model, line, problem_type;
END
$$;
COMMENT ON FUNCTION aftersales.search_articles(text, integer, bigint, bigint, bigint) IS
  'Published articles matching a query in Chinese or English (trigram word similarity, pg_trgm), ranked; narrowed to a model (and articles for its whole line) or a product line, boosted for the model, line and problem type';

CREATE FUNCTION aftersales.suggest_articles(ticket bigint, n integer DEFAULT 5)
    RETURNS TABLE (rank integer, article_id bigint, title text, score numeric, similarity numeric, version integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t aftersales.tickets := aftersales_internal.require_ticket(ticket, aftersales.current_tenant(), 'suggest_articles');
BEGIN
    RETURN QUERY SELECT * FROM aftersales.search_articles(t.description, n, t.model_id, NULL, t.problem_type_id);
END
$$;
COMMENT ON FUNCTION aftersales.suggest_articles(bigint, integer) IS
  'Articles proposed for a ticket at entry: published articles of its model (or its whole product line) matching its description, ranked';

-- ---------------------------------------------------------------------------
-- Resolutions: how a ticket was solved, and with which article

CREATE TABLE aftersales.ticket_resolutions (
    tenant_id         bigint      NOT NULL,
    ticket_id         bigint      NOT NULL,
    mode              text        NOT NULL CHECK (mode IN ('remote_phone', 'remote_video', 'on_site', 'parts_only')),
    remote_attempted  boolean     NOT NULL,
    article_id        bigint,
    article_version   integer,
    article_helped    boolean,
    resolved_at       timestamptz NOT NULL,
    recorded_by       text        NOT NULL,
    PRIMARY KEY (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, article_id) REFERENCES aftersales.kb_articles (tenant_id, article_id),
    CHECK ((article_id IS NULL) = (article_helped IS NULL) AND (article_id IS NULL) = (article_version IS NULL)),
    CHECK (mode NOT IN ('remote_phone', 'remote_video') OR remote_attempted)
);
CREATE INDEX ticket_resolutions_article_idx ON aftersales.ticket_resolutions (tenant_id, article_id) WHERE article_id IS NOT NULL;
COMMENT ON TABLE aftersales.ticket_resolutions IS
  'How each resolved ticket was solved (its latest resolution): remote by phone or video, on site or by parts only; whether a remote diagnosis was tried; the article used and whether it helped';
COMMENT ON COLUMN aftersales.ticket_resolutions.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.ticket_resolutions.ticket_id IS 'Ticket';
COMMENT ON COLUMN aftersales.ticket_resolutions.mode IS 'remote_phone, remote_video, on_site or parts_only';
COMMENT ON COLUMN aftersales.ticket_resolutions.remote_attempted IS 'A remote diagnosis was tried (always for remote modes; for on_site, the visit came after it failed)';
COMMENT ON COLUMN aftersales.ticket_resolutions.article_id IS 'Knowledge article used, if any';
COMMENT ON COLUMN aftersales.ticket_resolutions.article_version IS 'Its published version at the time';
COMMENT ON COLUMN aftersales.ticket_resolutions.article_helped IS 'Whether the article solved the problem';
COMMENT ON COLUMN aftersales.ticket_resolutions.resolved_at IS 'When the ticket was resolved';
COMMENT ON COLUMN aftersales.ticket_resolutions.recorded_by IS 'Who recorded it';
SELECT pg_catalog.pg_extension_config_dump('aftersales.ticket_resolutions', '');

-- Resolve a ticket and record how: everything is checked before the
-- ticket moves, so a bad argument writes nothing.
CREATE FUNCTION aftersales.resolve_ticket_with(ticket bigint, mode text, resolution text DEFAULT NULL,
                                               article bigint DEFAULT NULL, article_helped boolean DEFAULT NULL,
                                               remote_attempted boolean DEFAULT NULL,
                                               at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    a aftersales.kb_articles;
    s aftersales.ticket_status;
    remote boolean := mode IN ('remote_phone', 'remote_video');
BEGIN
    IF mode IS NULL OR mode NOT IN ('remote_phone', 'remote_video', 'on_site', 'parts_only') THEN
        RAISE EXCEPTION 'invalid resolution mode: "%"', COALESCE(pg_catalog.left(mode, 64), 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'Modes: remote_phone, remote_video, on_site, parts_only; for example: SELECT aftersales.resolve_ticket_with(42, ''remote_phone'', ''reset the controller'');';
    END IF;
    IF remote AND remote_attempted IS FALSE THEN
        RAISE EXCEPTION 'a % resolution is a remote attempt', mode
            USING ERRCODE = '22023', HINT = 'Leave remote_attempted out for remote modes.';
    END IF;
    IF article IS NOT NULL THEN
        SELECT * INTO a FROM aftersales.kb_articles k WHERE k.tenant_id = tenant AND k.article_id = article;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'article % does not exist for tenant %', article, tenant
                USING ERRCODE = 'P0002', HINT = 'Find published articles with: SELECT * FROM aftersales.suggest_articles(42);';
        END IF;
        IF a.state <> 'published' THEN
            RAISE EXCEPTION 'article % is %, not published', article, a.state
                USING ERRCODE = '55000',
                      DETAIL = 'Only published articles are given to engineers.',
                      HINT = 'Use a published article: SELECT * FROM aftersales.suggest_articles(42);';
        END IF;
        IF article_helped IS NULL THEN
            RAISE EXCEPTION 'article_helped must not be null when an article is named'
                USING ERRCODE = '22004',
                      HINT = 'Say whether it solved the problem: SELECT aftersales.resolve_ticket_with(42, ''on_site'', article => 7, article_helped => true);';
        END IF;
    ELSIF article_helped IS NOT NULL THEN
        RAISE EXCEPTION 'article_helped needs an article'
            USING ERRCODE = '22023', HINT = 'Name the article used, or leave article_helped out.';
    END IF;
    s := aftersales.resolve_ticket(ticket, resolution, aftersales.actor(), at);
    INSERT INTO aftersales.ticket_resolutions AS r (tenant_id, ticket_id, mode, remote_attempted, article_id, article_version,
                                                    article_helped, resolved_at, recorded_by)
    VALUES (tenant, ticket, mode, COALESCE(remote_attempted, remote), article, a.version, article_helped, at, aftersales.actor())
    ON CONFLICT (tenant_id, ticket_id) DO UPDATE
       SET mode = excluded.mode, remote_attempted = excluded.remote_attempted, article_id = excluded.article_id,
           article_version = excluded.article_version, article_helped = excluded.article_helped,
           resolved_at = excluded.resolved_at, recorded_by = excluded.recorded_by;
    RETURN s;
END
$$;
COMMENT ON FUNCTION aftersales.resolve_ticket_with(bigint, text, text, bigint, boolean, boolean, timestamptz) IS
  'Resolve a ticket (as resolve_ticket) and record how: mode (remote_phone, remote_video, on_site, parts_only), whether a remote diagnosis was tried, the published article used and whether it helped';

-- ---------------------------------------------------------------------------
-- Views

CREATE VIEW aftersales.kb_article_stats WITH (security_invoker = true) AS
SELECT k.tenant_id, k.article_id, k.title, k.state, k.version, k.product_line_id, l.name AS product_line_name,
       k.model_id, (SELECT e.actor FROM aftersales.kb_article_events e
                     WHERE e.tenant_id = k.tenant_id AND e.article_id = k.article_id ORDER BY e.seq LIMIT 1) AS author,
       (SELECT v.published_by FROM aftersales.kb_article_versions v
         WHERE v.tenant_id = k.tenant_id AND v.article_id = k.article_id ORDER BY v.version DESC LIMIT 1) AS reviewer,
       (SELECT pg_catalog.min(v.published_at) FROM aftersales.kb_article_versions v
         WHERE v.tenant_id = k.tenant_id AND v.article_id = k.article_id) AS first_published_at,
       COALESCE(u.uses, 0) AS uses, COALESCE(u.helped, 0) AS helped,
       (CASE WHEN u.uses > 0 THEN u.helped::numeric / u.uses END)::numeric(6,4) AS success_rate
  FROM aftersales.kb_articles k
  JOIN aftersales.product_lines l ON l.tenant_id = k.tenant_id AND l.product_line_id = k.product_line_id
  LEFT JOIN (SELECT r.tenant_id, r.article_id, pg_catalog.count(*) AS uses,
                    pg_catalog.count(*) FILTER (WHERE r.article_helped) AS helped
               FROM aftersales.ticket_resolutions r WHERE r.article_id IS NOT NULL
              GROUP BY 1, 2) u ON u.tenant_id = k.tenant_id AND u.article_id = k.article_id
 WHERE k.tenant_id = aftersales.current_tenant();
COMMENT ON VIEW aftersales.kb_article_stats IS
  'Knowledge articles with their author, reviewer, use count and success rate (resolutions that used them and were helped)';
COMMENT ON COLUMN aftersales.kb_article_stats.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.kb_article_stats.article_id IS 'Article';
COMMENT ON COLUMN aftersales.kb_article_stats.title IS 'Title';
COMMENT ON COLUMN aftersales.kb_article_stats.state IS 'draft, review, published or retired';
COMMENT ON COLUMN aftersales.kb_article_stats.version IS 'Published version (0: never published)';
COMMENT ON COLUMN aftersales.kb_article_stats.product_line_id IS 'Product line';
COMMENT ON COLUMN aftersales.kb_article_stats.product_line_name IS 'Product line''s name';
COMMENT ON COLUMN aftersales.kb_article_stats.model_id IS 'Model, when specific to one';
COMMENT ON COLUMN aftersales.kb_article_stats.author IS 'Who created it';
COMMENT ON COLUMN aftersales.kb_article_stats.reviewer IS 'Who published its latest version';
COMMENT ON COLUMN aftersales.kb_article_stats.first_published_at IS 'When it was first published';
COMMENT ON COLUMN aftersales.kb_article_stats.uses IS 'Resolutions that used it';
COMMENT ON COLUMN aftersales.kb_article_stats.helped IS 'Resolutions it helped';
COMMENT ON COLUMN aftersales.kb_article_stats.success_rate IS 'helped / uses, 0 to 1';

-- Monthly by resolution: coverage (resolved with an article), article
-- success, remote share and remote diagnosis success (remote attempts that
-- ended the ticket without a visit).
CREATE VIEW aftersales.kb_remote_monthly WITH (security_invoker = true) AS
SELECT r.tenant_id,
       pg_catalog.date_trunc('month', pg_catalog.timezone(aftersales.reporting_zone(r.tenant_id), r.resolved_at))::date AS month,
       pg_catalog.count(*) AS resolutions,
       pg_catalog.count(r.article_id) AS with_article,
       (pg_catalog.count(r.article_id)::numeric / pg_catalog.count(*))::numeric(6,4) AS article_coverage,
       (CASE WHEN pg_catalog.count(r.article_id) > 0
             THEN pg_catalog.count(*) FILTER (WHERE r.article_helped)::numeric / pg_catalog.count(r.article_id) END)::numeric(6,4)
           AS article_success_rate,
       pg_catalog.count(*) FILTER (WHERE r.mode IN ('remote_phone', 'remote_video')) AS remote,
       (pg_catalog.count(*) FILTER (WHERE r.mode IN ('remote_phone', 'remote_video'))::numeric / pg_catalog.count(*))::numeric(6,4)
           AS remote_share,
       pg_catalog.count(*) FILTER (WHERE r.remote_attempted) AS remote_attempts,
       pg_catalog.count(*) FILTER (WHERE r.remote_attempted AND t.arrived_at IS NULL AND r.mode <> 'on_site') AS remote_successes,
       (CASE WHEN pg_catalog.count(*) FILTER (WHERE r.remote_attempted) > 0
             THEN pg_catalog.count(*) FILTER (WHERE r.remote_attempted AND t.arrived_at IS NULL AND r.mode <> 'on_site')::numeric
                  / pg_catalog.count(*) FILTER (WHERE r.remote_attempted) END)::numeric(6,4) AS remote_success_rate
  FROM aftersales.ticket_resolutions r
  JOIN aftersales.tickets t ON t.tenant_id = r.tenant_id AND t.ticket_id = r.ticket_id
 WHERE r.tenant_id = aftersales.current_tenant()
 GROUP BY r.tenant_id, 2;
COMMENT ON VIEW aftersales.kb_remote_monthly IS
  'Knowledge and remote service per month of resolution: coverage (resolved with an article, FAQ coverage target 90%), article success rate, remote-service share, remote diagnosis success rate (target 90%)';
COMMENT ON COLUMN aftersales.kb_remote_monthly.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.kb_remote_monthly.month IS 'First day of the month of the resolution, in the reporting zone';
COMMENT ON COLUMN aftersales.kb_remote_monthly.resolutions IS 'Resolutions recorded (resolve_ticket_with), latest per ticket';
COMMENT ON COLUMN aftersales.kb_remote_monthly.with_article IS 'Resolutions that used an article';
COMMENT ON COLUMN aftersales.kb_remote_monthly.article_coverage IS 'with_article / resolutions, 0 to 1';
COMMENT ON COLUMN aftersales.kb_remote_monthly.article_success_rate IS 'Resolutions an article helped / with_article';
COMMENT ON COLUMN aftersales.kb_remote_monthly.remote IS 'Resolutions by phone or video';
COMMENT ON COLUMN aftersales.kb_remote_monthly.remote_share IS 'remote / resolutions (远程服务占比)';
COMMENT ON COLUMN aftersales.kb_remote_monthly.remote_attempts IS 'Resolutions after a remote diagnosis was tried';
COMMENT ON COLUMN aftersales.kb_remote_monthly.remote_successes IS 'Remote attempts that ended the ticket without a visit';
COMMENT ON COLUMN aftersales.kb_remote_monthly.remote_success_rate IS 'remote_successes / remote_attempts (远程诊断成功率)';

INSERT INTO aftersales.kpi_catalogue
       (tenant_id, code, category, name_en, name_zh, definition, formula, unit, target, target_direction, source, sort_order, customised)
SELECT 1, x.code, 'service', x.name_en, x.name_zh, x.definition, x.formula, 'ratio', x.target, '>=', 'kb_remote_monthly', x.ord, false
  FROM (VALUES
 ('article_coverage', 'Knowledge coverage', '知识库覆盖率',
  'Resolutions that used a published knowledge article over all resolutions recorded with resolve_ticket_with. 知识库覆盖率: 使用知识库文章解决的工单占比。',
  'with_article / resolutions', 0.9, 420),
 ('article_success_rate', 'Article success rate', '知识库文章解决率',
  'Resolutions an article helped over resolutions that used one. 文章解决率。', 'helped / with_article', 0.8, 421),
 ('remote_share', 'Remote-service share', '远程服务占比',
  'Resolutions by phone or video over all resolutions recorded. 远程服务占比: 电话或视频解决的工单占比。', 'remote / resolutions', 0.3, 422),
 ('remote_success_rate', 'Remote diagnosis success rate', '远程诊断成功率',
  'Remote diagnosis attempts that ended the ticket without a site visit over all attempts. 远程诊断成功率: 远程诊断后无需上门即解决的比例。',
  'remote_successes / remote_attempts', 0.9, 423)
) AS x (code, name_en, name_zh, definition, formula, target, ord);

-- ---------------------------------------------------------------------------
-- Rights

GRANT SELECT ON aftersales.kb_articles, aftersales.kb_article_events, aftersales.kb_article_versions,
    aftersales.ticket_resolutions, aftersales.kb_article_stats, aftersales.kb_remote_monthly
    TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer, aftersales_analyst, aftersales_auditor;
GRANT INSERT, UPDATE ON aftersales.kb_articles TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer;
GRANT INSERT ON aftersales.kb_article_versions TO aftersales_admin, aftersales_manager;
GRANT INSERT, UPDATE ON aftersales.ticket_resolutions TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer;

-- The module's internal helpers run with the caller's rights (the API is
-- invoker's rights): executable by the kinds, never by PUBLIC.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = 'aftersales_internal'::regnamespace
                AND p.proname IN ('distance_score', 'dispatch_config', 'engineer_calendar', 'attendance', 'duty_intervals',
                                  'range_hours', 'engineer_zones', 'split_days', 'require_days', 'dispatch_alert', 'engineer_load',
                                  'seniority_rank', 'org_ancestors', 'rank_engineers', 'require_ticket', 'auto_assign',
                                  'dispatch_at_entry', 'dispatch_shift_check', 'holding_intervals', 'board_days', 'engineer_months',
                                  'require_article', 'article_event', 'trgm_schema')
              ORDER BY 1 LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO aftersales_admin, aftersales_manager, aftersales_agent, '
                                  'aftersales_engineer, aftersales_analyst, aftersales_auditor, aftersales_sweep', f);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Articles = replay of their log

-- The engine's replay over the article log, per tenant (each tenant's
-- call a Citus router sends to one worker): every article's log is a chain
-- of kb_article transitions, and its state, last event and every column
-- are what the logged changes rebuild.  No rows: every article is what its
-- log says.
CREATE FUNCTION aftersales.check_articles(tenant bigint DEFAULT NULL)
    RETURNS TABLE (tenant_id bigint, article_id bigint, problem text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.tenant_id, c.id, c.problem
      FROM aftersales.tenants t,
           aftersales_internal.state_machine_check('kb_article', 'aftersales.kb_articles', 'aftersales.kb_article_events',
                                                   'article_id', t.tenant_id) c
     WHERE check_articles.tenant IS NULL OR t.tenant_id = check_articles.tenant
     ORDER BY 1, 2, 3
$$;
COMMENT ON FUNCTION aftersales.check_articles(bigint) IS
  'Proves every knowledge article is the replay of its log (a chain of the kb_article transitions; state, last event and every column as the logged changes rebuild them), for one tenant or all; returns one row per difference, none when all agree';
REVOKE ALL ON FUNCTION aftersales.check_articles(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aftersales.check_articles(bigint) TO aftersales_admin, aftersales_auditor;
-- check_articles runs with the caller's rights: its callers run the replay.
GRANT EXECUTE ON FUNCTION aftersales_internal.state_machine_check(text, regclass, regclass, text, bigint)
    TO aftersales_admin, aftersales_auditor;

-- aftersales install script, part 86: the dispatch, workforce and
-- knowledge step of generate_sample_data.  It runs after the tickets'
-- life cycles and writes only columns and tables of this module, drawing
-- with its own salts (8600 and up), so the tenant's checksum (tickets,
-- events, clocks) is the same with or without it:
--   * positions: each province's capital, outlets and customers' sites
--     scattered around it (a few kilometres, customers up to ~30 km);
--   * engineers: seniority, skills for complex faults, and a working
--     calendar each: China office hours, or a weekend rota (Wednesday to
--     Sunday) for one in five, with two to five days of leave as closures;
--   * attendance for the last eight weeks of the year: check-ins around
--     the outlet, some late, a few far away (location anomalies), a few
--     check-outs missing;
--   * the knowledge base: an article per product line and fault type
--     (Chinese text), written in the first days of January, most published;
--   * resolutions of the resolved tickets: remote (phone or video) for
--     tickets without a visit, on site otherwise, parts only for some; an
--     article used for most, helped for most of those.
CREATE FUNCTION aftersales_internal.sample_dispatch(tid bigint, s integer, yr integer, cutoff timestamptz) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a record;
    id bigint;
    base text;
    at0 timestamptz := cutoff - '60 days'::interval;
BEGIN
    CREATE TEMP TABLE sample_capitals ON COMMIT DROP AS
    SELECT c.province, c.lat, c.lon
      FROM (VALUES ('上海', 31.2304, 121.4737), ('江苏', 32.0603, 118.7969), ('浙江', 30.2741, 120.1551),
                   ('安徽', 31.8206, 117.2272), ('福建', 26.0745, 119.2965), ('江西', 28.6820, 115.8579),
                   ('山东', 36.6512, 117.1201), ('北京', 39.9042, 116.4074), ('天津', 39.3434, 117.3616),
                   ('河北', 38.0428, 114.5149), ('山西', 37.8706, 112.5489), ('内蒙古', 40.8414, 111.7519),
                   ('辽宁', 41.8057, 123.4315), ('吉林', 43.8171, 125.3235), ('黑龙江', 45.8038, 126.5350),
                   ('河南', 34.7466, 113.6254), ('湖北', 30.5928, 114.3055), ('湖南', 28.2282, 112.9388),
                   ('广东', 23.1291, 113.2644), ('广西', 22.8170, 108.3665), ('海南', 20.0440, 110.1999),
                   ('陕西', 34.3416, 108.9398), ('甘肃', 36.0611, 103.8343), ('青海', 36.6171, 101.7782),
                   ('宁夏', 38.4872, 106.2309), ('新疆', 43.8256, 87.6168), ('重庆', 29.5630, 106.5516),
                   ('四川', 30.5728, 104.0668), ('贵州', 26.6470, 106.6302), ('云南', 25.0389, 102.7183),
                   ('西藏', 29.6520, 91.1721)) AS c (province, lat, lon);

    -- positions: outlets within ~5 km of the capital, customers within ~30 km
    UPDATE aftersales.organisations o
       SET latitude = pg_catalog.round((c.lat + (aftersales_internal.sample_u(s, o.org_id, 8601) - 0.5) * 0.08)::numeric, 5)::float8,
           longitude = pg_catalog.round((c.lon + (aftersales_internal.sample_u(s, o.org_id, 8602) - 0.5) * 0.08)::numeric, 5)::float8
      FROM aftersales.organisations p, pg_temp.sample_capitals c
     WHERE o.tenant_id = tid AND o.level = 'outlet' AND p.tenant_id = tid AND p.org_id = o.parent_id
       AND c.province = p.province;
    UPDATE aftersales.customers cu
       SET latitude = pg_catalog.round((c.lat + (aftersales_internal.sample_u(s, cu.customer_id, 8603) - 0.5) * 0.5)::numeric, 5)::float8,
           longitude = pg_catalog.round((c.lon + (aftersales_internal.sample_u(s, cu.customer_id, 8604) - 0.5) * 0.5)::numeric, 5)::float8
      FROM pg_temp.sample_capitals c
     WHERE cu.tenant_id = tid AND c.province = cu.province;

    -- complex faults need senior engineers; control boards and electrical
    -- faults need the electrical skill
    UPDATE aftersales.problem_types p
       SET required_skills = CASE WHEN p.code IN ('E05', 'E06') THEN '{electrical}'::text[] ELSE '{}'::text[] END,
           complex = p.code = 'E05'
     WHERE p.tenant_id = tid;

    -- engineers: seniority, and a calendar of their own (shifts and leave)
    FOR a IN SELECT e.engineer_id, e.login FROM aftersales.engineers e WHERE e.tenant_id = tid ORDER BY e.engineer_id LOOP
        base := CASE WHEN aftersales_internal.sample_u(s, a.engineer_id, 8605) < 0.2
                     THEN 'zone=Asia/Shanghai; wed-sun 09:00-12:00,13:00-18:00'
                     ELSE aftersales.sample_calendar(CASE WHEN yr IN (2025, 2026) THEN yr ELSE 2026 END)::text END;
        SELECT base || pg_catalog.string_agg(pg_catalog.format('; closed %s 00:00-24:00',
                   (pg_catalog.make_date(yr, 1, 1) + pg_catalog.floor(aftersales_internal.sample_u(s, a.engineer_id * 10 + k, 8606) * 360)::integer)),
                   '' ORDER BY k)
          INTO base
          FROM pg_catalog.generate_series(1, 2 + pg_catalog.floor(aftersales_internal.sample_u(s, a.engineer_id, 8607) * 4)::integer) k;
        PERFORM aftersales.set_calendar('eng-' || a.login, base::aftersales.calendar, 'Shifts and leave', tid);
        UPDATE aftersales.engineers e
           SET calendar = 'eng-' || a.login,
               seniority = CASE WHEN aftersales_internal.sample_u(s, a.engineer_id, 8608) < 0.2 THEN 'junior'
                                WHEN aftersales_internal.sample_u(s, a.engineer_id, 8608) < 0.6 THEN 'regular'
                                WHEN aftersales_internal.sample_u(s, a.engineer_id, 8608) < 0.9 THEN 'senior'
                                ELSE 'expert' END
         WHERE e.tenant_id = tid AND e.engineer_id = a.engineer_id;
    END LOOP;

    -- attendance: every shift day of the last 60 days: check-in before the
    -- shift (8% late by 10 to 60 minutes), check-out after it (2% missing);
    -- 3% of check-ins 5 to 20 km from the outlet
    INSERT INTO aftersales.attendance_events (tenant_id, engineer_id, org_id, kind, at, latitude, longitude, reference, reference_km,
                                              anomaly, actor, recorded_at)
    SELECT tid, x.engineer_id, x.org_id, x.kind, x.at, x.lat, x.lon, 'outlet',
           pg_catalog.round(aftersales.distance_km(x.lat, x.lon, x.olat, x.olon)::numeric, 3),
           aftersales.distance_km(x.lat, x.lon, x.olat, x.olon) > 3, 'sample', x.at
      FROM (SELECT d.engineer_id, d.org_id, d.olat, d.olon, k.kind,
                   CASE WHEN k.kind = 'check_in'
                        THEN d.shift_start + pg_catalog.make_interval(mins => CASE WHEN d.u_late < 0.08 THEN 10 + pg_catalog.floor(d.u_late * 600)::integer
                                                                                  ELSE -5 - pg_catalog.floor(d.u_late * 20)::integer END)
                        ELSE d.shift_end + pg_catalog.make_interval(mins => pg_catalog.floor(d.u_out * 30)::integer) END AS at,
                   d.olat + CASE WHEN d.u_far < 0.03 AND k.kind = 'check_in' THEN 0.05 + d.u_far * 4 ELSE (d.u_far - 0.5) * 0.004 END AS lat,
                   d.olon + (d.u_out - 0.5) * 0.004 AS lon, d.u_miss
              FROM (SELECT e.engineer_id, e.org_id, o.latitude AS olat, o.longitude AS olon,
                           aftersales.next_business_time(c.calendar, g.day::timestamp AT TIME ZONE 'Asia/Shanghai') AS shift_start,
                           aftersales.business_add(c.calendar, aftersales.next_business_time(c.calendar, g.day::timestamp AT TIME ZONE 'Asia/Shanghai'),
                                                   '8 hours'::interval) AS shift_end,
                           aftersales_internal.sample_u(s, e.engineer_id * 1000 + g.i, 8609) AS u_late,
                           aftersales_internal.sample_u(s, e.engineer_id * 1000 + g.i, 8610) AS u_out,
                           aftersales_internal.sample_u(s, e.engineer_id * 1000 + g.i, 8611) AS u_far,
                           aftersales_internal.sample_u(s, e.engineer_id * 1000 + g.i, 8612) AS u_miss,
                           g.day
                      FROM aftersales.engineers e
                      JOIN aftersales.calendars c ON c.tenant_id = e.tenant_id AND c.name = e.calendar
                      JOIN aftersales.organisations o ON o.tenant_id = e.tenant_id AND o.org_id = e.org_id
                     CROSS JOIN LATERAL (SELECT gs::date AS day, pg_catalog.row_number() OVER () AS i
                                           FROM pg_catalog.generate_series((at0 AT TIME ZONE 'Asia/Shanghai')::date::timestamp,
                                                                           ((cutoff AT TIME ZONE 'Asia/Shanghai')::date - 1)::timestamp,
                                                                           '1 day'::interval) gs) g
                     WHERE e.tenant_id = tid AND o.latitude IS NOT NULL) d
             CROSS JOIN (VALUES ('check_in'), ('check_out')) k (kind)
             WHERE (d.shift_start AT TIME ZONE 'Asia/Shanghai')::date = d.day
               AND d.shift_end < cutoff
               AND NOT (k.kind = 'check_out' AND d.u_miss < 0.02)) x
     ORDER BY x.at, x.engineer_id, x.kind;

    -- the knowledge base: one article per product line and fault type
    FOR a IN SELECT l.product_line_id, l.name AS line, l.code, p.problem_type_id, p.code AS pcode, t.title, t.symptom, t.cause, t.solution,
                    pg_catalog.row_number() OVER (ORDER BY l.product_line_id, p.problem_type_id) AS i
               FROM aftersales.product_lines l
               JOIN (VALUES
                   ('E01', '不制冷或不制热', '开机运行但出风温度与环境温度接近，压缩机运行电流偏低。', '制冷剂不足或膨胀阀堵塞。',
                    '1. 检查高低压压力；2. 检漏并补充制冷剂至铭牌充注量；3. 压力仍异常时更换膨胀阀。'),
                   ('E02', '运行异响或振动大', '运行时有金属撞击声，机组振动明显，地脚螺栓松动。', '减震垫老化或风扇叶片不平衡。',
                    '1. 紧固地脚螺栓；2. 更换减震垫；3. 检查风扇叶片动平衡，必要时更换。'),
                   ('E03', '漏水或漏氟', '机组下方有水迹或油迹，系统压力逐日下降。', '排水管堵塞或铜管焊点砂眼。',
                    '1. 疏通排水管；2. 用检漏仪查找漏点；3. 补焊后保压24小时再充注。'),
                   ('E04', '无法启动', '上电后面板无显示或显示正常但压缩机不启动。', '电源缺相、保险丝熔断或启动电容失效。',
                    '1. 测量三相电压；2. 更换熔断的保险丝；3. 检测并更换启动电容。'),
                   ('E05', '控制板故障', '面板报通信故障，机组频繁重启。', '主控板受潮或元器件击穿。',
                    '1. 断电检查主控板有无烧痕；2. 烘干或更换主控板；3. 升级固件并恢复参数。'),
                   ('E06', '电气故障', '空气开关跳闸，接触器触点发黑。', '接触器触点烧蚀或线缆绝缘破损。',
                    '1. 测量绝缘电阻；2. 更换接触器；3. 更换破损线缆并紧固端子。'),
                   ('E07', '传感器报警', '面板显示温度传感器故障代码，读数跳变。', '传感器探头损坏或接插件松动。',
                    '1. 测量传感器阻值；2. 重新插紧接插件；3. 阻值异常时更换传感器。'),
                   ('E08', '参数设置问题', '设定温度达不到，运行模式不对。', '参数被误改或模式设置错误。',
                    '1. 远程查看参数；2. 按出厂设置恢复；3. 指导客户正确设置运行模式。'),
                   ('E09', '安装调试问题', '新装机组运行不稳定，保护频繁。', '管路安装不规范或电源容量不足。',
                    '1. 核对安装规范；2. 检查电源容量；3. 重新抽真空并调试。'),
                   ('E10', '操作咨询', '客户不会使用定时和节能功能。', '客户不熟悉操作面板。',
                    '1. 电话或视频指导操作；2. 发送操作手册链接。'))
                 AS t (pcode, title, symptom, cause, solution) ON true
               JOIN aftersales.problem_types p ON p.tenant_id = tid AND p.code = t.pcode
              WHERE l.tenant_id = tid
              ORDER BY l.product_line_id, p.problem_type_id LOOP
        id := aftersales.create_article(a.product_line_id, a.line || '：' || a.title, a.line || a.symptom, a.solution, a.cause,
                                        NULL, a.problem_type_id,
                                        ARRAY['https://kb.example.com/' || pg_catalog.lower(a.code) || '/' || pg_catalog.lower(a.pcode) || '.pdf'],
                                        'zh', pg_catalog.make_timestamptz(yr, 1, 2, 9, 0, 0, 'Asia/Shanghai') + pg_catalog.make_interval(mins => a.i::integer));
        -- a few stay drafts or in review; the rest are published
        IF aftersales_internal.sample_u(s, a.i, 8613) < 0.9 THEN
            PERFORM aftersales.submit_article(id, pg_catalog.make_timestamptz(yr, 1, 3, 9, 0, 0, 'Asia/Shanghai') + pg_catalog.make_interval(mins => a.i::integer));
            PERFORM aftersales.publish_article(id, pg_catalog.make_timestamptz(yr, 1, 5, 9, 0, 0, 'Asia/Shanghai') + pg_catalog.make_interval(mins => a.i::integer));
        END IF;
    END LOOP;

    -- resolutions of resolved tickets
    INSERT INTO aftersales.ticket_resolutions (tenant_id, ticket_id, mode, remote_attempted, article_id, article_version,
                                               article_helped, resolved_at, recorded_by)
    SELECT tid, x.ticket_id, x.mode, x.mode LIKE 'remote%' OR x.u_remote < 0.08, k.article_id,
           CASE WHEN k.article_id IS NOT NULL THEN k.version END,
           CASE WHEN k.article_id IS NOT NULL THEN x.u_helped < 0.85 END,
           x.resolved_at, 'sample'
      FROM (SELECT t.ticket_id, t.resolved_at, t.model_id, t.problem_type_id,
                   CASE WHEN t.arrived_at IS NOT NULL THEN
                            CASE WHEN aftersales_internal.sample_u(s, t.ticket_id, 8614) < 0.08 THEN 'parts_only' ELSE 'on_site' END
                        WHEN aftersales_internal.sample_u(s, t.ticket_id, 8614) < 0.3 THEN 'remote_video'
                        ELSE 'remote_phone' END AS mode,
                   aftersales_internal.sample_u(s, t.ticket_id, 8615) AS u_remote,
                   aftersales_internal.sample_u(s, t.ticket_id, 8616) AS u_article,
                   aftersales_internal.sample_u(s, t.ticket_id, 8617) AS u_helped
              FROM aftersales.tickets t
             WHERE t.tenant_id = tid AND t.resolved_at IS NOT NULL) x
      LEFT JOIN aftersales.product_models m ON m.tenant_id = tid AND m.model_id = x.model_id
      LEFT JOIN aftersales.kb_articles k ON k.tenant_id = tid AND k.product_line_id = m.product_line_id
                                        AND k.problem_type_id = x.problem_type_id AND k.state = 'published'
                                        AND x.u_article < 0.7
                                        AND x.resolved_at >= pg_catalog.make_timestamptz(yr, 1, 6, 0, 0, 0, 'Asia/Shanghai')
     ORDER BY x.ticket_id;
    DROP TABLE pg_temp.sample_capitals;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_dispatch(bigint, integer, integer, timestamptz) IS
  'Internal step of generate_sample_data: positions, engineers'' calendars and seniority, eight weeks of attendance, the knowledge base and the resolutions'' modes and articles; leaves the checksum unchanged';
REVOKE ALL ON FUNCTION aftersales_internal.sample_dispatch(bigint, integer, integer, timestamptz) FROM PUBLIC;

CREATE OR REPLACE FUNCTION aftersales.generate_sample_data(tenant_name text, seed integer DEFAULT 1, tickets integer DEFAULT 2000,
                                                year integer DEFAULT 2026, progress integer DEFAULT 100000)
    RETURNS aftersales.sample_data_runs
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    example constant text := 'SELECT * FROM aftersales.generate_sample_data(''demo'', seed => 1, tickets => 2000, year => 2026);';
    n integer := tickets;
    s integer := seed;
    yr integer := year;
    started constant timestamptz := pg_catalog.clock_timestamp();
    old_tenant text := pg_catalog.current_setting('aftersales.tenant_id', true);
    prev aftersales.sample_data_runs;
    result aftersales.sample_data_runs;
    tid bigint;
    y0 date;
    cutoff timestamptz;
    ndays integer;
    sb bigint;
    cstarts float8[];
    mstarts float8[];
    pstarts float8[];
    events_n bigint;
BEGIN
    -- arguments
    IF tenant_name IS NULL OR pg_catalog.btrim(tenant_name) = '' THEN
        PERFORM aftersales_internal.sample_error('tenant_name must not be empty',
            'Name the tenant to create, for example: ' || example, '22004');
    END IF;
    IF s IS NULL THEN
        PERFORM aftersales_internal.sample_error('seed must not be null',
            'Any integer seeds the choices; the same seed gives the same data, for example: ' || example, '22004');
    END IF;
    IF n IS NULL OR n NOT BETWEEN 100 AND 10000000 THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('invalid number of sample tickets: %s', COALESCE(n::text, 'NULL')),
            'Ask for 100 to 10000000 tickets: 2000 load in seconds, 1000000 in about an hour; for example: ' || example);
    END IF;
    IF yr IS NULL OR yr NOT BETWEEN 2000 AND 2100 THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('invalid sample year: %s', COALESCE(yr::text, 'NULL')),
            'Years 2000 to 2100 are supported (the full holiday schedule is known for 2026), for example: ' || example);
    END IF;
    IF progress IS NULL OR progress < 0 THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('invalid progress interval: %s', COALESCE(progress::text, 'NULL')),
            'progress is how many tickets between two progress NOTICEs, 0 for none, for example: SELECT * FROM aftersales.generate_sample_data(''big'', tickets => 1000000, progress => 50000);');
    END IF;

    -- idempotent: the same call again returns what the first one built
    SELECT sr.* INTO prev FROM aftersales.sample_data_runs sr
      JOIN aftersales.tenants tn ON tn.tenant_id = sr.tenant_id
     WHERE tn.name = generate_sample_data.tenant_name;
    IF FOUND THEN
        IF prev.seed = s AND prev.tickets = n AND prev.year = yr THEN
            RAISE NOTICE 'tenant "%" already holds this sample data: nothing to do', tenant_name;
            RETURN prev;
        END IF;
        PERFORM aftersales_internal.sample_error(
            pg_catalog.format('tenant "%s" already holds sample data of seed %s, %s tickets, year %s', tenant_name, prev.seed, prev.tickets, prev.year),
            'Use another tenant name, for example: SELECT * FROM aftersales.generate_sample_data(''demo2'', seed => 2);', '42710');
    END IF;
    IF EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.name = tenant_name) THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('tenant "%s" already exists', tenant_name),
            'Sample data goes into a new tenant of its own; use another name, for example: ' || example, '42710');
    END IF;

    y0 := pg_catalog.make_date(yr, 1, 1);
    cutoff := pg_catalog.make_timestamptz(yr + 1, 1, 1, 0, 0, 0, 'Asia/Shanghai');
    ndays := pg_catalog.make_date(yr + 1, 1, 1) - y0;
    sb := s::bigint * 1000003;

    -- the tenant, its calendars and SLA policies (the default targets,
    -- copied from tenant 1's shipped default policy)
    LOCK TABLE aftersales.tenants IN SHARE ROW EXCLUSIVE MODE;
    SELECT COALESCE(pg_catalog.max(tn.tenant_id), 1) + 1 INTO tid FROM aftersales.tenants tn;
    INSERT INTO aftersales.tenants (tenant_id, name) VALUES (tid, tenant_name);
    PERFORM pg_catalog.set_config('aftersales.tenant_id', tid::text, true);
    PERFORM aftersales.set_calendar('24x7', 'zone=Asia/Shanghai; mon-sun 00:00-24:00', 'Around the clock, China time', tid);
    PERFORM aftersales.set_calendar('cn-office', aftersales.sample_calendar(yr),
                                    pg_catalog.format('China office hours, %s holidays and make-up days', yr), tid);
    INSERT INTO aftersales.sla_policies (tenant_id, name, calendar, is_default, description)
    VALUES (tid, 'standard', 'cn-office', true, 'Default targets on office hours'),
           (tid, 'key-account', '24x7', false, 'Default targets around the clock, for key customers'' service agreements');
    INSERT INTO aftersales.sla_targets (tenant_id, policy_id, priority, metric, target, clock, pauses_on_hold)
    SELECT tid, p.policy_id, d.priority, d.metric, d.target, d.clock, d.pauses_on_hold
      FROM aftersales.sla_targets d
      JOIN aftersales.sla_policies dp ON dp.tenant_id = 1 AND dp.policy_id = d.policy_id
                                     AND dp.name = 'default'
     CROSS JOIN aftersales.sla_policies p
     WHERE d.tenant_id = 1 AND p.tenant_id = tid
     ORDER BY p.policy_id, d.priority, d.metric;

    -- the company, in steps that pass what they built on in temporary
    -- tables (sample_geo, sample_outlets, sample_customers ...) and the
    -- cumulative weights the draws bucket into
    PERFORM aftersales_internal.sample_organisations(tid);
    PERFORM aftersales_internal.sample_engineers(tid, s, n);
    cstarts := aftersales_internal.sample_customers(tid, s, n, yr, y0);
    mstarts := aftersales_internal.sample_products(tid, s, n, yr, cstarts);
    pstarts := aftersales_internal.sample_problem_types(tid);
    -- the tickets: planned set-based, entered, then driven through their lives
    PERFORM aftersales_internal.sample_ticket_plan(n, y0, ndays, sb, cstarts, mstarts, pstarts);
    PERFORM aftersales_internal.sample_entry(n, y0, progress, started);
    PERFORM aftersales_internal.sample_life_cycles(n, sb, cutoff, progress, started);
    -- dispatch, workforce and knowledge (86_dispatch_sample.sql)
    PERFORM aftersales_internal.sample_dispatch(tid, s, yr, cutoff);

    -- a bulk load leaves the planner blind until autovacuum comes by: the
    -- KPI queries right after it would plan for empty tables
    ANALYZE aftersales.organisations, aftersales.customers, aftersales.engineers, aftersales.product_models,
            aftersales.units, aftersales.problem_types, aftersales.service_agreements, aftersales.sla_policies,
            aftersales.calendars, aftersales.tickets, aftersales.ticket_events, aftersales.ticket_sla,
            aftersales.occurrences, aftersales.escalation_watches, aftersales.alerts, aftersales.ticket_escalations;
    SELECT count(*) INTO events_n FROM aftersales.ticket_events ev WHERE ev.tenant_id = tid;
    INSERT INTO aftersales.sample_data_runs AS sr (tenant_id, tenant_name, seed, tickets, year, events, started_at, seconds, checksum)
    VALUES (tid, generate_sample_data.tenant_name, s, n, yr, events_n, started,
            round(extract(epoch FROM clock_timestamp() - started)::numeric, 1),
            aftersales.sample_data_checksum(tid))
    RETURNING sr.* INTO result;
    PERFORM set_config('aftersales.tenant_id', COALESCE(old_tenant, ''), true);
    DROP TABLE pg_temp.sample_geo, pg_temp.sample_outlets, pg_temp.sample_customers, pg_temp.sample_models,
               pg_temp.sample_units, pg_temp.sample_problems, pg_temp.sample_plan, pg_temp.sample_org_engineers;
    RETURN result;
END
$$;

SELECT aftersales_internal.apply_row_security();

-- ===== dispatch, workforce and knowledge: end =====
