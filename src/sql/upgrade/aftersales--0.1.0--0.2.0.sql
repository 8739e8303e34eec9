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

-- Library version: aftersales.library_version(), for the SQL/library check.
CREATE FUNCTION aftersales.library_version() RETURNS text
    AS 'MODULE_PATHNAME', 'aftersales_library_version' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.library_version() IS
  'Version of the loaded aftersales library; compare with extversion in pg_extension';

-- sample_calendar: format() was given one argument more than its pattern uses
-- (plpgsql_check: unused parameters of function "format").
CREATE OR REPLACE FUNCTION aftersales.sample_calendar(year integer DEFAULT 2026) RETURNS aftersales.calendar
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    week constant text := 'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00';
    y text;
BEGIN
    IF year IS NULL OR year NOT BETWEEN 2000 AND 2100 THEN
        RAISE EXCEPTION 'invalid sample year: %', COALESCE(year::text, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'Years 2000 to 2100 are supported, for example: SELECT aftersales.sample_calendar(2026);';
    END IF;
    IF year = 2026 THEN
        RETURN (week || ';
   holiday 2026-01-01..2026-01-03,2026-02-15..2026-02-23,2026-04-04..2026-04-06,
           2026-05-01..2026-05-05,2026-06-19..2026-06-21,2026-09-25..2026-09-27,
           2026-10-01..2026-10-07;
   workday 2026-01-04 09:00-12:00,13:00-18:00; workday 2026-02-14 09:00-12:00,13:00-18:00;
   workday 2026-02-28 09:00-12:00,13:00-18:00; workday 2026-05-09 09:00-12:00,13:00-18:00;
   workday 2026-09-20 09:00-12:00,13:00-18:00; workday 2026-10-10 09:00-12:00,13:00-18:00')::aftersales.calendar;
    END IF;
    y := year::text;
    RETURN pg_catalog.format('%s; holiday %s-01-01,%s-05-01..%s-05-03,%s-10-01..%s-10-07', week, y, y, y, y, y)
        ::aftersales.calendar;
END
$$;
