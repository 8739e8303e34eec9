-- make demo: what aftersales does, on a private cluster.  Re-runnable.
\set ON_ERROR_STOP on
\pset footer off
SET timezone = 'Asia/Shanghai';

-- China's 2026 working calendar: office hours with a lunch break, the public
-- holidays and the make-up working days (调休) of the State Council schedule.
SELECT aftersales.set_calendar('cn-office',
  'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00;
   holiday 2026-01-01..2026-01-03,2026-02-15..2026-02-23,2026-04-04..2026-04-06,
           2026-05-01..2026-05-05,2026-06-19..2026-06-21,2026-09-25..2026-09-27,
           2026-10-01..2026-10-07;
   workday 2026-01-04 09:00-12:00,13:00-18:00; workday 2026-02-14 09:00-12:00,13:00-18:00;
   workday 2026-02-28 09:00-12:00,13:00-18:00; workday 2026-05-09 09:00-12:00,13:00-18:00;
   workday 2026-09-20 09:00-12:00,13:00-18:00; workday 2026-10-10 09:00-12:00,13:00-18:00',
  'China office hours, 2026 holidays and make-up days') \gset

\echo
\echo '== SLA deadlines on business time (seed 001 targets), calendar cn-office =='
WITH cal AS (SELECT aftersales.get_calendar('cn-office') AS c),
     req(opened, priority, response, resolution) AS (VALUES
       ('2026-09-30 16:30'::timestamptz, 'A', interval '5 minutes', interval '30 minutes'),
       ('2026-09-30 16:30'::timestamptz, 'B', interval '30 minutes', interval '2 hours'),
       ('2026-09-30 16:30'::timestamptz, 'C', interval '4 hours', interval '24 hours'),
       ('2026-02-13 17:45'::timestamptz, 'B', interval '30 minutes', interval '2 hours'),
       ('2026-11-23 11:50'::timestamptz, 'A', interval '5 minutes', interval '30 minutes'))
SELECT to_char(opened, 'Dy YYYY-MM-DD HH24:MI') AS opened,
       priority,
       to_char(aftersales.business_add(c, opened, response), 'Dy MM-DD HH24:MI') AS respond_by,
       to_char(aftersales.business_add(c, opened, resolution), 'Dy MM-DD HH24:MI') AS resolve_by,
       round(extract(epoch FROM aftersales.business_add(c, opened, resolution) - opened) / 3600, 1) AS wall_clock_hours
  FROM req, cal;

\echo
\echo '== Business time between two instants (holidays and lunch excluded) =='
SELECT aftersales.business_diff(aftersales.get_calendar('cn-office'),
                                '2026-09-30 09:00', '2026-10-12 09:00') AS business_time,
       aftersales.business_minutes(aftersales.get_calendar('cn-office'),
                                   '2026-09-30 09:00', '2026-10-12 09:00') AS business_minutes;

\echo
\echo '== Named calendars =='
SELECT name, aftersales.calendar_zone(calendar) AS zone, description FROM aftersales.calendars ORDER BY name;
