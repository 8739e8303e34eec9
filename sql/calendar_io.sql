-- Calendar text input and output: valid forms, canonical output, and every
-- validation error with its message and hint (they are API).
SET client_min_messages = warning;
SET extra_float_digits = 0;
\set VERBOSITY default

-- valid input, canonical output
SELECT 'zone=UTC; mon-fri 09:00-17:00'::aftersales.calendar;
SELECT 'ZONE = asia/shanghai ; MON-FRI 09:00-12:00, 13:00-18:00;'::aftersales.calendar;
SELECT 'zone=Asia/Shanghai; mon,tue,wed,thu,fri 09:00-18:00; sat 09:00-12:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-sun 00:00-24:00'::aftersales.calendar;
SELECT 'zone=UTC; fri-mon 22:00-06:00'::aftersales.calendar;
SELECT 'zone=UTC; mon 22:00-00:00; tue 08:00:30-17:59:59'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 13:00-18:00; mon-fri 09:00-12:00'::aftersales.calendar;
SELECT 'zone=Europe/Berlin; mon-fri 08:00-16:00; holiday 2026-12-26,2026-12-25,2026-12-24..2026-12-25,*-01-01,*-05-01,*-01-01'::aftersales.calendar;
SELECT 'zone=Asia/Shanghai; mon-fri 09:00-18:00; holiday 2026-10-01..2026-10-07; workday 2026-10-10 09:00-12:00,13:00-18:00; workday 2026-09-27 09:00-18:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; closed 2026-12-24 12:00-24:00; closed 2026-12-24 09:00-10:00,11:00-12:30'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; holiday *-02-29'::aftersales.calendar;
-- touching ranges merge into one longer range, written back in pieces of at
-- most 3660 days, which read back
SELECT 'zone=UTC; mon 09:00-17:00; holiday 2026-01-01..2030-12-31,2031-01-01..2036-12-31'::aftersales.calendar::text::aftersales.calendar;

-- round trip: output is accepted and reproduces itself
SELECT c::text::aftersales.calendar::text = c::text AS round_trip
  FROM (VALUES ('zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00; sat 22:00-06:00; holiday 2026-10-01..2026-10-08,*-12-25; closed 2026-12-24 12:00-24:00; workday 2026-10-10 09:00-18:00'::aftersales.calendar)) v(c);

-- equality compares canonical forms
SELECT 'zone=utc; mon-fri 09:00-17:00'::aftersales.calendar OPERATOR(aftersales.=) 'zone=UTC;mon,tue,wed,thu,fri 09:00-17:00;'::aftersales.calendar AS same,
       'zone=UTC; mon-fri 09:00-17:00'::aftersales.calendar OPERATOR(aftersales.=) 'zone=UTC; mon-fri 09:00-17:01'::aftersales.calendar AS different;
SELECT aftersales.calendar_zone('zone=america/new_york; mon 09:00-10:00');

-- binary round trip through send/recv (COPY BINARY)
CREATE TEMP TABLE cal_copy (c aftersales.calendar);
INSERT INTO cal_copy VALUES ('zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00; sun 22:00-06:00; holiday 2026-10-01..2026-10-08,*-12-25; closed 2026-12-24 12:00-24:00; workday 2026-10-10 09:00-18:00');
INSERT INTO cal_copy VALUES ('zone=UTC; mon-sun 00:00-24:00'), ('zone=UTC; mon 09:00-17:00; holiday 2026-01-01..2030-12-31,2031-01-01..2036-12-31');
-- the file lives in the server's data directory: no clash between runs
SELECT pg_catalog.current_setting('data_directory') || '/aftersales_cal_copy.bin' AS copy_file \gset
COPY cal_copy TO :'copy_file' WITH (FORMAT binary);
COPY cal_copy FROM :'copy_file' WITH (FORMAT binary);
SELECT c::text AS calendar, count(*) AS copies FROM cal_copy GROUP BY 1 ORDER BY 1;

-- invalid input, one per line
SELECT ''::aftersales.calendar;
SELECT 'mon-fri 09:00-17:00'::aftersales.calendar;
SELECT 'zone=Mars/Olympus; mon-fri 09:00-17:00'::aftersales.calendar;
SELECT 'zone=UTC; zone=UTC; mon-fri 09:00-17:00'::aftersales.calendar;
SELECT 'zone UTC; mon-fri 09:00-17:00'::aftersales.calendar;
SELECT 'zone=UTC'::aftersales.calendar;
SELECT 'zone=UTC; holiday 2026-01-01'::aftersales.calendar;
SELECT 'zone=UTC; funday 09:00-17:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-fry 09:00-17:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 9-17'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-25:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:60-17:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 24:00-06:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-09:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-13:00,12:00-18:00'::aftersales.calendar;
SELECT 'zone=UTC; mon 22:00-06:00; tue 05:00-09:00'::aftersales.calendar;
SELECT 'zone=UTC; sun 20:00-08:00; mon 07:00-17:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; holiday'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; holiday 2026-02-30'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; holiday 2026-10-07..2026-10-01'::aftersales.calendar;
SELECT ('zone=UTC; mon-fri 09:00-17:00; holiday '
        || string_agg(to_char(date '2000-01-01' + 3660 * i, 'YYYY-MM-DD') || '..' || to_char(date '2000-01-01' + 3660 * i + 3659, 'YYYY-MM-DD'), ','))::aftersales.calendar
  FROM generate_series(0, 59) i;
SELECT 'zone=UTC; mon-fri 09:00-17:00; holiday *-13-01'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; closed 2026-12-24'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; closed 2026-12-24 22:00-06:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; workday 2026-10-10 09:00-18:00; workday 2026-10-10 10:00-11:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; holiday 2026-10-01..2026-10-12; workday 2026-10-10 09:00-18:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; holiday *-10-10; workday 2026-10-10 09:00-18:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; workday 2026-10-10 12:00-14:00,13:00-15:00'::aftersales.calendar;
SELECT 'zone=UTC; sat 22:00-06:00; workday 2026-01-11 05:00-07:00'::aftersales.calendar;
SELECT 'zone=UTC; sun 05:00-07:00; workday 2026-01-10 22:00-06:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; workday 2026-01-10 22:00-06:00; workday 2026-01-11 22:00-06:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; vacation 2026-10-10'::aftersales.calendar;

-- every validation error above is SQLSTATE 22P02
CREATE FUNCTION pg_temp.sqlstate_of(input text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM input::aftersales.calendar;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
SELECT pg_temp.sqlstate_of(v) AS sqlstate, count(*)
  FROM (VALUES (''), ('zone=Mars/Olympus; mon 09:00-10:00'), ('zone=UTC'), ('zone=UTC; mon-fry 09:00-17:00'),
               ('zone=UTC; mon 9-17'), ('zone=UTC; mon 09:00-13:00,12:00-18:00'), ('zone=UTC; mon 09:00-10:00; holiday 2026-02-30'),
               ('zone=UTC; mon 09:00-10:00; closed 2026-12-24 22:00-06:00'), ('zone=UTC; mon 09:00-10:00; holiday *-10-10; workday 2026-10-10 09:00-18:00'),
               ('zone=UTC; mon 09:00-10:00; vacation 2026-10-10'), ('zone=UTC; mon 09:00-10:00')) v(v)
 GROUP BY 1 ORDER BY 1;
