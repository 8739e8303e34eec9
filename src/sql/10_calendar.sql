
-- aftersales install script, part 10: business calendars.

CREATE TYPE aftersales.calendar;

CREATE FUNCTION aftersales_internal.calendar_in(cstring) RETURNS aftersales.calendar
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION aftersales_internal.calendar_out(aftersales.calendar) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION aftersales_internal.calendar_recv(internal) RETURNS aftersales.calendar
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION aftersales_internal.calendar_send(aftersales.calendar) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE aftersales.calendar (
    INPUT = aftersales_internal.calendar_in,
    OUTPUT = aftersales_internal.calendar_out,
    RECEIVE = aftersales_internal.calendar_recv,
    SEND = aftersales_internal.calendar_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended
);
COMMENT ON TYPE aftersales.calendar IS
  'Business calendar: time zone, weekly working windows, holidays, closures and make-up working days';

CREATE FUNCTION aftersales.calendar_eq(aftersales.calendar, aftersales.calendar) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.calendar_eq(aftersales.calendar, aftersales.calendar) IS
  'True when two calendars are the same once written canonically';
CREATE OPERATOR aftersales.= (
    LEFTARG = aftersales.calendar, RIGHTARG = aftersales.calendar,
    FUNCTION = aftersales.calendar_eq, COMMUTATOR = OPERATOR(aftersales.=)
);

CREATE FUNCTION aftersales.calendar_zone(aftersales.calendar) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.calendar_zone(aftersales.calendar) IS
  'The IANA time zone of a calendar';

-- Named zones are treated as immutable by PostgreSQL itself (timezone(text,
-- timestamptz) is IMMUTABLE), and a calendar carries its zone by name: so
-- the arithmetic is IMMUTABLE too, and usable in indexes and generated columns.
CREATE FUNCTION aftersales.business_add(cal aftersales.calendar, start timestamptz, amount interval)
    RETURNS timestamptz
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.business_add(aftersales.calendar, timestamptz, interval) IS
  'Earliest instant at which amount (hours, minutes, seconds) of business time has elapsed since start';

CREATE FUNCTION aftersales.business_diff(cal aftersales.calendar, a timestamptz, b timestamptz)
    RETURNS interval
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.business_diff(aftersales.calendar, timestamptz, timestamptz) IS
  'Business time in [a, b), negative when b < a';

CREATE FUNCTION aftersales.is_business_time(cal aftersales.calendar, t timestamptz)
    RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.is_business_time(aftersales.calendar, timestamptz) IS
  'Whether t lies inside a working window of its local date';

CREATE FUNCTION aftersales.next_business_time(cal aftersales.calendar, t timestamptz)
    RETURNS timestamptz
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.next_business_time(aftersales.calendar, timestamptz) IS
  'First business instant at or after t';

CREATE FUNCTION aftersales.business_minutes(cal aftersales.calendar, a timestamptz, b timestamptz)
    RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT pg_catalog.trim_scale(EXTRACT(EPOCH FROM aftersales.business_diff(cal, a, b)) / 60) $$;
COMMENT ON FUNCTION aftersales.business_minutes(aftersales.calendar, timestamptz, timestamptz) IS
  'Business time in [a, b) in minutes (numeric, exact), for reports and BI tools';

-- Named calendars, so that SLA policies can refer to them.
CREATE TABLE aftersales.calendars (
    tenant_id   bigint      NOT NULL DEFAULT aftersales.current_tenant()
                            REFERENCES aftersales.tenants,
    name        text        NOT NULL CHECK (name ~ '^[[:alnum:]_][[:alnum:]_.:+-]{0,62}$'),
    calendar    aftersales.calendar NOT NULL,
    description text,
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, name)
);
COMMENT ON TABLE aftersales.calendars IS 'Named business calendars per tenant, referred to by SLA policies';
COMMENT ON COLUMN aftersales.calendars.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.calendars.name IS 'Calendar name, unique per tenant (letters, digits, _ . : + -)';
COMMENT ON COLUMN aftersales.calendars.calendar IS 'The calendar: zone, windows, holidays, closures, make-up days';
COMMENT ON COLUMN aftersales.calendars.description IS 'Free text';
COMMENT ON COLUMN aftersales.calendars.updated_at IS 'When the calendar was last set';
INSERT INTO aftersales.calendars (tenant_id, name, calendar, description)
VALUES (1, '24x7', 'zone=UTC; mon-sun 00:00-24:00', 'Around the clock: business time is wall-clock time');
SELECT pg_catalog.pg_extension_config_dump('aftersales.calendars',
    'WHERE NOT (tenant_id = 1 AND name = ''24x7'')');

CREATE FUNCTION aftersales.set_calendar(name text, cal aftersales.calendar,
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
COMMENT ON FUNCTION aftersales.set_calendar(text, aftersales.calendar, text, bigint) IS
  'Create or replace a named calendar (upsert; a NULL description keeps the old one)';

CREATE FUNCTION aftersales.get_calendar(name text, tenant bigint DEFAULT aftersales.current_tenant())
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
COMMENT ON FUNCTION aftersales.get_calendar(text, bigint) IS 'The named calendar of the tenant, or an error';

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
