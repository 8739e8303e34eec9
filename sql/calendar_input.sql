-- Input validation: what the README documents is what is accepted, in text
-- and in binary form alike, and the limits of the computed range.
SET client_min_messages = warning;
SET timezone = 'UTC';
\set VERBOSITY default
\set SHOW_CONTEXT never

-- a holiday range as written covers at most 3660 days
SELECT 'zone=UTC; mon-fri 09:00-17:00; holiday 2000-01-01..2010-01-08'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; holiday 2000-01-01..2020-01-01'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; holiday 2000-01-01..2010-01-09'::aftersales.calendar;

-- empty list items and clauses
SELECT 'zone=UTC; mon,,fri 09:00-17:00'::aftersales.calendar;
SELECT 'zone=UTC; mon,fri, 09:00-17:00'::aftersales.calendar;
SELECT 'zone=UTC; ,mon 09:00-17:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-12:00,'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-12:00, ,13:00-17:00'::aftersales.calendar;
SELECT 'zone=UTC;; mon-fri 09:00-17:00'::aftersales.calendar;
SELECT '; zone=UTC; mon-fri 09:00-17:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; holiday ,'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; holiday 2026-01-01,'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; closed 2026-12-24 12:00-13:00,'::aftersales.calendar;
-- one ";" may end the text
SELECT 'zone=UTC; mon-fri 09:00-17:00; '::aftersales.calendar;

-- times are HH:MM or HH:MM:SS
SELECT 'zone=UTC; mon-fri 9:00-17:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:0'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 009:00-17:00'::aftersales.calendar;
SELECT 'zone=UTC; workday 2026-10-10 9:00-12:00; mon 09:00-10:00'::aftersales.calendar;

-- zones: IANA names only
SELECT 'zone=Amer2ica/Sao_Paulo; mon-fri 09:00-17:00'::aftersales.calendar;
SELECT 'zone=XYZ5; mon-fri 09:00-17:00'::aftersales.calendar;
SELECT 'zone=localtime; mon-fri 09:00-17:00'::aftersales.calendar;
SELECT 'zone=Factory; mon-fri 09:00-17:00'::aftersales.calendar;
SELECT 'zone=posixrules; mon-fri 09:00-17:00'::aftersales.calendar;
SELECT 'zone=posix/Europe/Berlin; mon-fri 09:00-17:00'::aftersales.calendar;
SELECT 'zone=right/Europe/Berlin; mon-fri 09:00-17:00'::aftersales.calendar;
SELECT 'zone=Mars/Olympus; mon-fri 09:00-17:00'::aftersales.calendar;
-- IANA names with digits, other spellings and links are zones
SELECT aftersales.calendar_zone(('zone=' || z || '; mon 09:00-10:00')::aftersales.calendar)
  FROM unnest(ARRAY['Etc/GMT+8', 'EST5EDT', 'GMT', 'america/sao_paulo', 'US/Eastern', 'Asia/Kathmandu']) z;

-- make-up windows must not overlap the previous date's overnight window
-- (the after-midnight part belongs to that date's shift), nor their own
-- overnight window the next date's first window; a holiday the day before
-- has no shift to overlap
SELECT 'zone=UTC; sat 22:00-06:00; workday 2026-01-11 05:00-07:00'::aftersales.calendar;
SELECT 'zone=UTC; sat 22:00-06:00; workday 2026-01-11 06:00-07:00'::aftersales.calendar;
SELECT 'zone=UTC; sat 22:00-06:00; holiday 2026-01-10; workday 2026-01-11 05:00-07:00'::aftersales.calendar;
SELECT 'zone=UTC; sat 22:00-06:00; holiday *-01-10; workday 2026-01-11 05:00-07:00'::aftersales.calendar;
SELECT 'zone=UTC; mon-fri 09:00-17:00; workday 2026-01-09 22:00-06:00; workday 2026-01-10 05:00-07:00'::aftersales.calendar;
-- the make-up day's windows after the night shift's tail
SELECT aftersales.business_diff('zone=UTC; sat 22:00-06:00; workday 2026-01-11 06:00-07:00',
                                '2026-01-10 00:00+00', '2026-01-12 00:00+00');

-- results past the last instant computed with raise the documented error
SELECT aftersales.next_business_time('zone=UTC; mon 09:00-10:00', '9999-12-27 00:00+00');
SELECT aftersales.next_business_time('zone=UTC; mon 09:00-10:00', '9999-12-28 00:00+00');
SELECT aftersales.next_business_time('zone=Pacific/Kiritimati; mon 09:00-10:00', '9999-12-29 00:00+00');
SELECT aftersales.business_add('zone=UTC; mon 09:00-10:00', '9999-12-27 00:00+00', '1 hour');
SELECT aftersales.business_add('zone=UTC; mon 09:00-10:00', '9999-12-27 00:00+00', '2 hours');
SELECT aftersales.next_business_time('zone=UTC; mon-sun 00:00-24:00', '9999-12-31 00:00+00');

-- Binary input: crafted COPY BINARY files.  cal_bin builds a calendar's
-- binary form (version 1): zone, 7 weekdays of windows, holiday ranges,
-- every-year dates, closures, make-up days.  recv_bin loads it through
-- COPY ... FROM PROGRAM (base64 of the file), as pg_restore would.
CREATE FUNCTION pg_temp.windows(w int[]) RETURNS bytea LANGUAGE sql AS $$
  SELECT int2send((coalesce(cardinality(w), 0) / 2)::int2)
         || coalesce((SELECT string_agg(int4send(x), ''::bytea ORDER BY o) FROM unnest(w) WITH ORDINALITY u(x, o)), '')
$$;
CREATE FUNCTION pg_temp.cal_bin(zone text, mon int[], hol int[] DEFAULT '{}', closed bytea DEFAULT NULL,
                                work bytea DEFAULT NULL) RETURNS bytea LANGUAGE sql AS $$
  SELECT '\x01'::bytea || convert_to(zone, 'UTF8') || '\x00'::bytea
         || pg_temp.windows(mon) || decode(repeat('0000', 6), 'hex')
         || pg_temp.windows(hol)                       -- holiday ranges: (first, last) pairs
         || int2send(0::int2)                          -- every-year dates
         || coalesce(closed, int2send(0::int2))
         || coalesce(work, int2send(0::int2))
$$;
CREATE FUNCTION pg_temp.dated(d date, w int[]) RETURNS bytea LANGUAGE sql AS $$
  SELECT int2send(1::int2) || int4send(d - date '2000-01-01') || pg_temp.windows(w)
$$;
CREATE TEMP TABLE recv_target (c aftersales.calendar);
CREATE FUNCTION pg_temp.recv_bin(payload bytea) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  file bytea := '\x5047434f50590aff0d0a00'::bytea || int4send(0) || int4send(0)
                || int2send(1::int2) || int4send(length(payload)) || payload || int2send(-1::int2);
BEGIN
  TRUNCATE recv_target;
  EXECUTE format('COPY recv_target FROM PROGRAM %L WITH (FORMAT binary)',
                 'echo ' || translate(encode(file, 'base64'), E'\n', '') || ' | base64 -d');
  RETURN (SELECT c::text FROM recv_target);
END $$;
-- the byte string written by hand is what send writes
SELECT aftersales_internal.calendar_send('zone=UTC; mon 09:00-17:00; closed 2026-01-05 12:00-13:00')
     = pg_temp.cal_bin('UTC', '{32400,61200}', '{}', pg_temp.dated('2026-01-05', '{43200,46800}')) AS same_bytes;
-- round trips
SELECT pg_temp.recv_bin(pg_temp.cal_bin('UTC', '{32400,61200}', '{}', pg_temp.dated('2026-01-05', '{43200,46800}')));
SELECT pg_temp.recv_bin(aftersales_internal.calendar_send(
  'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00; sun 22:00-06:00; holiday 2026-01-01..2030-12-31,2031-01-01..2036-12-31,*-12-25; closed 2026-12-24 12:00-24:00; workday 2037-01-10 09:00-18:00'));
-- refused as the text form would refuse them
SELECT pg_temp.recv_bin(pg_temp.cal_bin('UTC', '{32400,61200}', '{}', pg_temp.dated('2026-01-05', '{}')));
SELECT pg_temp.recv_bin(pg_temp.cal_bin('UTC', '{32400,61200}', '{}', NULL, pg_temp.dated('2026-01-10', '{}')));
-- holidays 1 BC-12-31 .. 2000-01-01, a make-up day on 0001-01-01, a closure
-- 800,000 days before 2000
SELECT pg_temp.recv_bin(pg_temp.cal_bin('UTC', '{32400,61200}', ARRAY[-730120, 0]));
SELECT pg_temp.recv_bin(pg_temp.cal_bin('UTC', '{32400,61200}', '{}', NULL, pg_temp.dated('0001-01-01', '{43200,46800}')));
SELECT pg_temp.recv_bin(pg_temp.cal_bin('UTC', '{32400,61200}', '{}', int2send(1::int2) || int4send(-800000) || pg_temp.windows('{43200,46800}')));
-- a range of 3661 days, a POSIX rule, the host's zone, no windows, overlapping windows
SELECT pg_temp.recv_bin(pg_temp.cal_bin('UTC', '{32400,61200}', ARRAY[0, 3660]));
SELECT pg_temp.recv_bin(pg_temp.cal_bin('Amer2ica/Sao_Paulo', '{32400,61200}'));
SELECT pg_temp.recv_bin(pg_temp.cal_bin('localtime', '{32400,61200}'));
SELECT pg_temp.recv_bin(pg_temp.cal_bin('UTC', '{}'));
SELECT pg_temp.recv_bin(pg_temp.cal_bin('UTC', '{32400,61200,36000,40000}'));
