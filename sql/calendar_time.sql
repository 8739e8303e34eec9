-- Business-time arithmetic with hand-checked answers, and its errors.
SET client_min_messages = warning;
SET timezone = 'UTC';
\set VERBOSITY default

CREATE TEMP TABLE cal (name text PRIMARY KEY, c aftersales.calendar);
INSERT INTO cal VALUES
  ('cn',     'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00; holiday 2026-10-01..2026-10-07; workday 2026-10-10 09:00-12:00,13:00-18:00; closed 2026-12-24 12:00-24:00'),
  ('night',  'zone=UTC; mon-fri 22:00-06:00; holiday 2026-06-03'),
  ('berlin', 'zone=Europe/Berlin; sun 00:00-06:00'),
  ('nyc',    'zone=America/New_York; sun 00:00-06:00'),
  ('247',    'zone=UTC; mon-sun 00:00-24:00');

-- lunch break: 11:00 + 2h lands at 14:00 local
SELECT aftersales.business_add(c, '2026-09-29 11:00+08', '2 hours') AT TIME ZONE 'Asia/Shanghai' FROM cal WHERE name = 'cn';
-- start inside the National Day holiday (10-01..10-07): first business time is Thu 10-08 09:00
SELECT aftersales.next_business_time(c, '2026-10-03 10:00+08') AT TIME ZONE 'Asia/Shanghai' FROM cal WHERE name = 'cn';
SELECT aftersales.business_add(c, '2026-10-03 10:00+08', '1 hour') AT TIME ZONE 'Asia/Shanghai' FROM cal WHERE name = 'cn';
-- Friday 10-09 17:00 + 2h: one hour on Friday, one on the make-up Saturday 10-10
SELECT aftersales.business_add(c, '2026-10-09 17:00+08', '2 hours') AT TIME ZONE 'Asia/Shanghai' FROM cal WHERE name = 'cn';
-- across the holiday: 09-30 17:00 to 10-08 10:00 is 1 h + 1 h
SELECT aftersales.business_diff(c, '2026-09-30 17:00+08', '2026-10-08 10:00+08') FROM cal WHERE name = 'cn';
SELECT aftersales.business_diff(c, '2026-10-08 10:00+08', '2026-09-30 17:00+08') FROM cal WHERE name = 'cn';
SELECT aftersales.business_minutes(c, '2026-09-30 17:00+08', '2026-10-08 10:00:30+08') FROM cal WHERE name = 'cn';
-- half-day closure on 12-24: 3 hours that day
SELECT aftersales.business_diff(c, '2026-12-24 00:00+08', '2026-12-25 00:00+08') FROM cal WHERE name = 'cn';
-- exactly at the end of a window: the earliest instant, not the next morning
SELECT aftersales.business_add(c, '2026-09-29 09:00+08', '8 hours') AT TIME ZONE 'Asia/Shanghai' FROM cal WHERE name = 'cn';
-- microsecond edges of half-open windows
SELECT aftersales.is_business_time(c, '2026-09-29 17:59:59.999999+08') AS before_end,
       aftersales.is_business_time(c, '2026-09-29 18:00:00+08') AS at_end,
       aftersales.is_business_time(c, '2026-09-29 09:00:00+08') AS at_start,
       aftersales.is_business_time(c, '2026-09-29 08:59:59.999999+08') AS before_start
  FROM cal WHERE name = 'cn';
SELECT aftersales.business_add(c, '2026-09-29 17:59:59.999999+08', '00:00:00.000002') AT TIME ZONE 'Asia/Shanghai' FROM cal WHERE name = 'cn';
-- zero is zero, even outside business time
SELECT aftersales.business_add(c, '2026-10-03 10:00+08', '0') AT TIME ZONE 'Asia/Shanghai' FROM cal WHERE name = 'cn';

-- overnight windows: Friday 22:00-06:00 runs into Saturday
SELECT aftersales.is_business_time(c, '2026-06-06 05:00+00') AS sat_0500,
       aftersales.is_business_time(c, '2026-06-08 05:00+00') AS mon_0500
  FROM cal WHERE name = 'night';
-- a holiday on Wednesday 06-03 drops the shift starting that evening, not the one ending that morning
SELECT aftersales.business_diff(c, '2026-06-03 00:00+00', '2026-06-04 12:00+00') FROM cal WHERE name = 'night';

-- DST: a Sunday 00:00-06:00 window is 5 real hours in spring, 7 in autumn
SELECT aftersales.business_diff(c, '2026-03-29 00:00+01', '2026-03-30 00:00+02') AS berlin_spring,
       aftersales.business_diff(c, '2026-10-25 00:00+02', '2026-10-26 00:00+01') AS berlin_autumn
  FROM cal WHERE name = 'berlin';
SELECT aftersales.business_diff(c, '2026-03-08 00:00-05', '2026-03-09 00:00-04') AS nyc_spring,
       aftersales.business_diff(c, '2026-11-01 00:00-04', '2026-11-02 00:00-05') AS nyc_autumn
  FROM cal WHERE name = 'nyc';
-- the repeated hour counts twice: 6 business hours after local midnight is 05:00 local
SELECT aftersales.business_add(c, '2026-10-25 00:00+02', '6 hours') AS berlin_6h FROM cal WHERE name = 'berlin';
SELECT aftersales.business_add(c, '2026-10-25 00:00+02', '7 hours') AS berlin_7h FROM cal WHERE name = 'berlin';

-- 24x7 is wall-clock time
SELECT aftersales.business_add(c, '2026-01-01 00:00+00', '1000 hours') AS add_247,
       aftersales.business_diff(c, '2026-01-01 00:00+00', '2027-01-01 00:00+00') AS year_247
  FROM cal WHERE name = '247';

-- named calendars
SELECT aftersales.set_calendar('office', 'zone=Asia/Shanghai; mon-fri 09:00-18:00', 'Head office');
SELECT aftersales.set_calendar('office', 'zone=Asia/Shanghai; mon-fri 08:30-17:30');
SELECT name, calendar, description FROM aftersales.calendars ORDER BY name;
SELECT aftersales.business_add(aftersales.get_calendar('office'), '2026-11-23 17:00+08', '1 hour') AT TIME ZONE 'Asia/Shanghai';
SELECT aftersales.get_calendar('nowhere');
SELECT aftersales.get_calendar(repeat('n', 100000));
SELECT aftersales.set_calendar('bad name', 'zone=UTC; mon 09:00-10:00');
SELECT aftersales.set_calendar('x', NULL);

-- errors
SELECT aftersales.business_add(c, '2026-01-01', '1 day') FROM cal WHERE name = 'cn';
SELECT aftersales.business_add(c, '2026-01-01', '1 mon') FROM cal WHERE name = 'cn';
SELECT aftersales.business_add(c, '2026-01-01', '-1 hour') FROM cal WHERE name = 'cn';
SELECT aftersales.business_add(c, 'infinity', '1 hour') FROM cal WHERE name = 'cn';
SELECT aftersales.business_diff(c, '-infinity', '2026-01-01') FROM cal WHERE name = 'cn';
SELECT aftersales.business_add('zone=UTC; mon-fri 09:00-17:00; holiday 2026-01-01..2035-12-31,2036-01-01..2036-12-31', '2026-01-01 00:00+00', '1 hour');
SELECT aftersales.next_business_time('zone=UTC; mon-fri 09:00-17:00; holiday 2026-01-01..2035-12-31,2036-01-01..2036-12-31', '2026-01-01 00:00+00');
SELECT aftersales.business_add('zone=UTC; mon 09:00-10:00', '9999-12-20 00:00+00', '100 hours');
-- a far result is fine when there is business time
SELECT aftersales.business_add('zone=UTC; mon-fri 09:00-17:00; holiday *-01-01', '2026-01-01 00:00+00', '80000 hours');
