
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
