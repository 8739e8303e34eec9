-- aftersales install script, part 90: who may call what.
--
-- aftersales holds the API, aftersales_internal everything else.  PUBLIC
-- may execute no internal function, except the few that statements run on
-- the caller's behalf must evaluate with the caller's rights (the API runs
-- as the caller, so that table privileges and row security stay the
-- caller's): the CHECK and trigger WHEN of tickets, and the helpers the
-- invoker-rights API calls by name.  Those need USAGE on the schema too.
-- Every other internal function runs only as the owner: in triggers, in
-- SECURITY DEFINER functions, or from the API functions revoked from PUBLIC.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA aftersales_internal FROM PUBLIC;
GRANT USAGE ON SCHEMA aftersales_internal TO PUBLIC;
GRANT EXECUTE ON FUNCTION
    -- evaluated in the caller's INSERT and UPDATE of tickets
    aftersales_internal.tickets_row_check(text, text, aftersales.ticket_status, aftersales.ticket_status, bigint,
                                          integer, integer, smallint, smallint, integer, timestamptz, timestamptz,
                                          timestamptz, timestamptz, timestamptz),
    aftersales_internal.ticket_escalation_matters(timestamptz, timestamptz, aftersales.ticket_status,
                                                  aftersales.ticket_status),
    -- the declared value lists: open_ticket's checks and the CHECK of alerts
    aftersales_internal.value_listed(regtype, text),
    aftersales_internal.value_list(regtype),
    aftersales_internal.is_watch_clock(text),
    -- the write path of the ticket API; the guard on tickets judges every change
    aftersales_internal.ticket_event(bigint, aftersales.ticket_event, text, timestamptz, text, bigint,
                                     aftersales.ticket_tier, aftersales.priority, boolean, integer, integer, text),
    aftersales_internal.ticket_open(bigint, text, bigint, bigint, bigint, bigint, text, aftersales.priority,
                                    timestamptz, bigint, boolean, aftersales.ticket_status, timestamptz, text, text),
    aftersales_internal.declare_event(text, text, timestamptz, text),
    -- errors of the API
    aftersales_internal.require_engineer(bigint, bigint, text),
    aftersales_internal.bad_item(bigint, text),
    -- the read path of the KPI functions (STABLE or IMMUTABLE: they cannot write)
    aftersales_internal.kpi_check(text, text, text, text, text[], timestamptz, timestamptz, timestamptz, text, bigint),
    aftersales_internal.kpi_config(bigint),
    aftersales_internal.judge_ticket(timestamptz, bigint, bigint, text, boolean, timestamptz, timestamptz, timestamptz,
                                     timestamptz, timestamptz, timestamptz, timestamptz, integer, integer, boolean,
                                     bigint, boolean, smallint, smallint, interval, interval, interval, numeric,
                                     aftersales.calendar, timestamptz, text, text, text),
    aftersales_internal.kpi_dimension_sql(text),
    aftersales_internal.kpi_period_sql(text, text, integer)
TO PUBLIC;
