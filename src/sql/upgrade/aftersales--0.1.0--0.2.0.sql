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
