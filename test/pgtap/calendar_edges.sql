-- calendar_edges.sql: hand-computed edge cases of aftersales.calendar.
--
-- Run: pg_prove -h /tmp -p 5499 -U postgres -d cal_prop test/pgtap/calendar_edges.sql
--      (the database needs: CREATE EXTENSION pgtap; CREATE EXTENSION aftersales CASCADE;)
--
-- Every instant is written with its UTC offset; the session time zone is set
-- to an unrelated zone on purpose (no function may depend on it).
-- The expected values were computed by hand; the reasoning is in the comments.
-- China 2026 holidays: see calendar_property.sql (official notice: New Year
-- 01-01..01-03 + Sun 01-04 works; Spring Festival 02-15..02-23 + Sat 02-14 and
-- Sat 02-28 work; Qingming 04-04..04-06; Labour Day 05-01..05-05 + Sat 05-09
-- works; Dragon Boat 06-19..06-21; Mid-Autumn 09-25..09-27; National Day
-- 10-01..10-07 + Sun 09-20 and Sat 10-10 work).

BEGIN;
SET LOCAL statement_timeout = '60s';
SET LOCAL timezone = 'America/Los_Angeles';
SET LOCAL client_min_messages = warning;

SELECT plan(181);

CREATE TEMP TABLE cals (name text PRIMARY KEY, cal aftersales.calendar);
INSERT INTO cals VALUES
 ('cn', 'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00;'
        ' holiday 2026-01-01..2026-01-03,2026-02-15..2026-02-23,2026-04-04..2026-04-06,'
        '2026-05-01..2026-05-05,2026-06-19..2026-06-21,2026-09-25..2026-09-27,2026-10-01..2026-10-07;'
        ' workday 2026-01-04 09:00-12:00,13:00-18:00; workday 2026-02-14 09:00-12:00,13:00-18:00;'
        ' workday 2026-02-28 09:00-12:00,13:00-18:00; workday 2026-05-09 09:00-12:00,13:00-18:00;'
        ' workday 2026-09-20 09:00-12:00,13:00-18:00; workday 2026-10-10 09:00-12:00,13:00-18:00'),
 ('utc9to18',  'zone=UTC; mon-fri 09:00-18:00'),
 ('eve',       'zone=UTC; mon-sun 18:00-24:00'),
 ('ny24x7',    'zone=America/New_York; mon-sun 00:00-24:00'),
 ('ber_sun06', 'zone=Europe/Berlin; sun 00:00-06:00'),
 ('ber_sun23', 'zone=Europe/Berlin; sun 02:00-03:00'),
 ('ber_gap',   'zone=Europe/Berlin; sun 02:30-04:00'),
 ('ber_satnt', 'zone=Europe/Berlin; sat 22:00-06:00'),
 ('ny_sun06',  'zone=America/New_York; sun 00:00-06:00'),
 ('ny_sun23',  'zone=America/New_York; sun 02:00-03:00'),
 ('ny_sun14',  'zone=America/New_York; sun 01:00-04:00'),
 ('sp_mid',    'zone=America/Sao_Paulo; sat 22:00-24:00; sun 00:00-02:00'),
 ('lh_sun06',  'zone=Australia/Lord_Howe; sun 00:00-06:00'),
 ('night_hol', 'zone=UTC; mon-fri 22:00-06:00; holiday 2026-01-07'),
 ('closure',   'zone=Asia/Shanghai; mon-fri 09:00-18:00; closed 2026-12-24 12:00-24:00'),
 ('cl_tail',   'zone=UTC; thu 22:00-06:00; closed 2026-01-09 00:00-02:00'),
 ('cl_own',    'zone=UTC; thu 22:00-06:00; closed 2026-01-08 23:00-24:00'),
 ('mk_night',  'zone=UTC; mon-fri 09:00-17:00; workday 2026-01-10 20:00-04:00; holiday 2026-01-11'),
 ('mk_repl',   'zone=UTC; mon-fri 09:00-17:00; workday 2026-01-07 13:00-15:00'),
 ('ten_years', 'zone=UTC; mon-fri 09:00-17:00; holiday 2026-01-01..2030-12-31,2031-01-01..2035-12-31,2036-01-01..2040-12-31'),
 ('nine_years','zone=UTC; mon-fri 09:00-17:00; holiday 2026-01-01..2030-12-31,2031-01-01..2035-10-31'),
 ('secs',      'zone=UTC; mon 09:00:30-09:01:15'),
 ('merge',     'zone=UTC; mon 09:00-12:00; mon 13:00-18:00'),
 ('lists',     'zone=UTC; mon,wed,fri 10:00-11:00; tue-thu,sun 12:00-13:00'),
 ('wrap',      'zone=UTC; sun 22:00-06:00'),
 ('rec',       'zone=UTC; mon-fri 09:00-17:00; holiday *-12-25,2026-01-05..2026-01-06');

CREATE FUNCTION pg_temp.c(n text) RETURNS aftersales.calendar LANGUAGE sql STABLE AS
$$ SELECT cal FROM cals WHERE name = n $$;

------------------------------------------------------------------------------
-- China 2026
------------------------------------------------------------------------------
-- National Day: 10-03 is a holiday (10-01..10-07); Thu 10-08 is the next
-- working day: 09:00 + 1 h
SELECT is(aftersales.business_add(pg_temp.c('cn'), '2026-10-03 10:00+08', '1 hour'),
          '2026-10-08 10:00+08', 'cn: start inside the National Day holiday + 1 h -> Thu 10-08 10:00');
-- Wed 09-30 17:30-18:00 (30 min), holidays, then 10-08 09:00 + 30 min
SELECT is(aftersales.business_add(pg_temp.c('cn'), '2026-09-30 17:30+08', '1 hour'),
          '2026-10-08 09:30+08', 'cn: 30 min before the holiday, 30 min after it');
-- make-up Sat 10-10: Fri 10-09 17:00-18:00 (1 h), Sat 09:00 + 1 h
SELECT is(aftersales.business_add(pg_temp.c('cn'), '2026-10-09 17:00+08', '2 hours'),
          '2026-10-10 10:00+08', 'cn: make-up Saturday 10-10 is worked');
-- make-up Sun 09-20 (Fri 09-18 17:00-18:00, Sat 09-19 off)
SELECT is(aftersales.business_add(pg_temp.c('cn'), '2026-09-18 17:00+08', '2 hours'),
          '2026-09-20 10:00+08', 'cn: make-up Sunday 09-20 is worked');
-- Mid-Autumn, Fri 09-25
SELECT is(aftersales.is_business_time(pg_temp.c('cn'), '2026-09-25 10:00+08'), false, 'cn: Mid-Autumn Fri 09-25 is off');
SELECT is(aftersales.is_business_time(pg_temp.c('cn'), '2026-01-04 10:00+08'), true, 'cn: Sun 01-04 make-up day works');
SELECT is(aftersales.is_business_time(pg_temp.c('cn'), '2026-01-04 12:30+08'), false, 'cn: lunch break on a make-up day');
SELECT is(aftersales.is_business_time(pg_temp.c('cn'), '2026-02-23 10:00+08'), false, 'cn: last Spring Festival day (Mon 02-23) is off');
SELECT is(aftersales.is_business_time(pg_temp.c('cn'), '2026-02-24 09:00+08'), true, 'cn: Tue 02-24 09:00 works');
-- Sat 02-14 is a make-up day, over at 18:00; 02-15..02-23 off; Tue 02-24 09:00
SELECT is(aftersales.next_business_time(pg_temp.c('cn'), '2026-02-14 18:00+08'),
          '2026-02-24 09:00+08', 'cn: next business time after the make-up Saturday is Tue 02-24 09:00');
SELECT is(aftersales.next_business_time(pg_temp.c('cn'), '2026-02-14 08:00+08'),
          '2026-02-14 09:00+08', 'cn: next business time on the make-up Saturday morning');
-- Fri 02-13 8 h + Sat 02-14 8 h + Tue 02-24 8 h
SELECT is(aftersales.business_diff(pg_temp.c('cn'), '2026-02-13 09:00+08', '2026-02-25 09:00+08'),
          '24:00:00'::interval, 'cn: Spring Festival fortnight = 24 business hours');
SELECT is(aftersales.business_minutes(pg_temp.c('cn'), '2026-02-13 09:00+08', '2026-02-25 09:00+08'),
          1440::numeric, 'cn: ... = 1440 business minutes');
-- the year: 261 weekdays - 19 weekday holidays + 6 make-up days = 248 days x 8 h
SELECT is(aftersales.business_diff(pg_temp.c('cn'), '2026-01-01 00:00+08', '2027-01-01 00:00+08')::text,
          '1984:00:00', 'cn: 2026 has 248 working days = 1984 h (hours field only)');
SELECT is(aftersales.business_add(pg_temp.c('cn'), '2026-01-01 00:00+08', '1984 hours'),
          '2026-12-31 18:00+08', 'cn: adding the whole year ends on Thu 12-31 18:00');
SELECT is(aftersales.business_add(pg_temp.c('cn'), '2026-01-01 00:00+08', '1984 hours 1 microsecond'),
          '2027-01-01 09:00:00.000001+08', 'cn: ... and one microsecond more is in 2027 (no holidays listed for 2027)');
-- Labour Day: Thu 04-30 17:00 + 2 h: 1 h, 05-01..05-05 off (Fri-Tue), Wed 05-06 09:00 + 1 h
SELECT is(aftersales.business_add(pg_temp.c('cn'), '2026-04-30 17:00+08', '2 hours'),
          '2026-05-06 10:00+08', 'cn: Labour Day holiday skipped');
-- start on a non-business instant: Sat 05-09 is a make-up day
SELECT is(aftersales.business_add(pg_temp.c('cn'), '2026-05-08 20:00+08', '30 minutes'),
          '2026-05-09 09:30+08', 'cn: make-up Saturday 05-09 follows Friday evening');

------------------------------------------------------------------------------
-- DST
------------------------------------------------------------------------------
-- Berlin 2026-03-29 (Sun): 02:00 CET -> 03:00 CEST; 00:00-06:00 holds 5 real hours
SELECT is(aftersales.business_diff(pg_temp.c('ber_sun06'), '2026-03-28 00:00+01', '2026-03-30 00:00+02'),
          '05:00:00'::interval, 'Berlin spring-forward Sunday 00:00-06:00 = 5 h');
SELECT is(aftersales.business_add(pg_temp.c('ber_sun06'), '2026-03-29 00:00+01', '5 hours'),
          '2026-03-29 06:00+02', 'Berlin: + 5 h from Sunday midnight ends at 06:00 CEST');
SELECT is(aftersales.business_add(pg_temp.c('ber_sun06'), '2026-03-29 00:00+01', '2 hours'),
          '2026-03-29 03:00+02', 'Berlin: + 2 h from Sunday midnight is 03:00 CEST (02:00 CET does not exist)');
SELECT is(aftersales.is_business_time(pg_temp.c('ber_sun06'), '2026-03-29 01:59:59.999999+01'), true,
          'Berlin: last microsecond before the switch');
SELECT is(aftersales.is_business_time(pg_temp.c('ber_sun06'), '2026-03-29 03:00+02'), true,
          'Berlin: first instant after the switch');
-- Berlin 2026-10-25 (Sun): 03:00 CEST -> 02:00 CET; 7 real hours
SELECT is(aftersales.business_diff(pg_temp.c('ber_sun06'), '2026-10-24 00:00+02', '2026-10-26 00:00+01'),
          '07:00:00'::interval, 'Berlin fall-back Sunday 00:00-06:00 = 7 h');
-- a window inside the spring gap holds nothing; the one in the fall repeat doubles
SELECT is(aftersales.business_diff(pg_temp.c('ber_sun23'), '2026-03-28 00:00+01', '2026-03-30 00:00+02'),
          '00:00:00'::interval, 'Berlin: window 02:00-03:00 on the spring-forward day holds 0 h');
SELECT is(aftersales.next_business_time(pg_temp.c('ber_sun23'), '2026-03-28 12:00+01'),
          '2026-04-05 02:00+02', 'Berlin: next business time skips the vanished window');
SELECT is(aftersales.business_add(pg_temp.c('ber_sun23'), '2026-03-28 12:00+01', '1 hour'),
          '2026-04-05 03:00+02', 'Berlin: + 1 h skips the vanished window');
SELECT is(aftersales.business_diff(pg_temp.c('ber_sun23'), '2026-10-24 12:00+02', '2026-10-26 00:00+01'),
          '02:00:00'::interval, 'Berlin: window 02:00-03:00 on the fall-back day holds 2 h');
SELECT is(aftersales.business_add(pg_temp.c('ber_sun23'), '2026-10-25 00:00+02', '90 minutes'),
          '2026-10-25 02:30+01', 'Berlin: + 90 min runs through both 02:00-03:00 passes');
SELECT is(aftersales.next_business_time(pg_temp.c('ber_gap'), '2026-03-29 00:00+01'),
          '2026-03-29 03:00+02', 'Berlin: window 02:30-04:00 starts in the gap: first instant is 03:00 CEST');
SELECT is(aftersales.business_diff(pg_temp.c('ber_gap'), '2026-03-29 00:00+01', '2026-03-30 00:00+02'),
          '01:00:00'::interval, 'Berlin: window 02:30-04:00 on the spring-forward day holds 1 h');
-- overnight Sat 22:00 - Sun 06:00 across the spring switch: 8 - 1 = 7 h
SELECT is(aftersales.business_diff(pg_temp.c('ber_satnt'), '2026-03-28 12:00+01', '2026-03-29 12:00+02'),
          '07:00:00'::interval, 'Berlin: overnight shift across spring-forward = 7 h');
SELECT is(aftersales.business_diff(pg_temp.c('ber_satnt'), '2026-10-24 12:00+02', '2026-10-25 12:00+01'),
          '09:00:00'::interval, 'Berlin: overnight shift across fall-back = 9 h');
-- New York 2026-03-08 / 2026-11-01
SELECT is(aftersales.business_diff(pg_temp.c('ny_sun06'), '2026-03-07 00:00-05', '2026-03-09 00:00-04'),
          '05:00:00'::interval, 'New York spring-forward Sunday 00:00-06:00 = 5 h');
SELECT is(aftersales.business_diff(pg_temp.c('ny_sun06'), '2026-10-31 00:00-04', '2026-11-02 00:00-05'),
          '07:00:00'::interval, 'New York fall-back Sunday 00:00-06:00 = 7 h');
SELECT is(aftersales.business_add(pg_temp.c('ny_sun06'), '2026-11-01 00:00-04', '2 hours'),
          '2026-11-01 01:00-05', 'New York: + 2 h from midnight ends in the repeated hour (01:00 EST)');
SELECT is(aftersales.is_business_time(pg_temp.c('ny_sun06'), '2026-11-01 01:30-05'), true,
          'New York: second pass of 01:30 is business time');
SELECT is(aftersales.business_diff(pg_temp.c('ny_sun23'), '2026-03-07 00:00-05', '2026-03-09 00:00-04'),
          '00:00:00'::interval, 'New York: window 02:00-03:00 on the spring-forward day holds 0 h');
SELECT is(aftersales.next_business_time(pg_temp.c('ny_sun23'), '2026-03-08 00:00-05'),
          '2026-03-15 02:00-04', 'New York: next business time skips the vanished window');
SELECT is(aftersales.business_add(pg_temp.c('ny_sun14'), '2026-03-08 01:59-05', '1 minute'),
          '2026-03-08 03:00-04', 'New York: 01:59 EST + 1 min = 03:00 EDT inside a 01:00-04:00 window');
-- Sao Paulo: DST started at midnight 2018-11-04 (00:00 -> 01:00)
SELECT is(aftersales.business_diff(pg_temp.c('sp_mid'), '2018-11-03 12:00-03', '2018-11-05 00:00-02'),
          '03:00:00'::interval, 'Sao Paulo 2018-11-04: sat 22:00-24:00 (2 h) + sun 00:00-02:00 (1 h)');
SELECT is(aftersales.business_diff(pg_temp.c('sp_mid'), '2018-11-04 02:30+00', '2018-11-04 03:30+00'),
          '01:00:00'::interval, 'Sao Paulo: Saturday 23:30 -03 to Sunday 01:30 -02 is one continuous business hour');
SELECT is(aftersales.next_business_time(pg_temp.c('sp_mid'), '2018-11-04 05:00+00'),
          '2018-11-11 00:00+00', 'Sao Paulo: next business time after Sunday 02:00 -02 is Saturday 22:00 -02');
SELECT is(aftersales.business_add(pg_temp.c('sp_mid'), '2018-11-03 23:30-03', '1 hour'),
          '2018-11-04 01:30-02', 'Sao Paulo: 23:30 + 1 h = Sunday 01:30 (-02), no 00:xx exists');
SELECT is(aftersales.is_business_time(pg_temp.c('sp_mid'), '2018-11-04 02:59:59.999999+00'), true,
          'Sao Paulo: Saturday 23:59:59.999999 local is business');
-- Sao Paulo: DST ended 2017-02-19 00:00 -> 2017-02-18 23:00 (Saturday 23:00-24:00 twice)
SELECT is(aftersales.business_diff(pg_temp.c('sp_mid'), '2017-02-18 12:00-02', '2017-02-19 00:00-03'),
          '03:00:00'::interval, 'Sao Paulo 2017-02-18: sat 22:00-24:00 holds 3 h');
SELECT is(aftersales.business_add(pg_temp.c('sp_mid'), '2017-02-18 22:00-02', '150 minutes'),
          '2017-02-18 23:30-03', 'Sao Paulo: + 2.5 h runs into the repeated 23:00 hour');
SELECT is(aftersales.business_diff(pg_temp.c('sp_mid'), '2017-02-19 00:00-03', '2017-02-20 00:00-03'),
          '02:00:00'::interval, 'Sao Paulo: the Sunday after the switch has its full 00:00-02:00');
-- Lord Howe: half-hour DST
SELECT is(aftersales.business_diff(pg_temp.c('lh_sun06'), '2026-04-04 12:00+11', '2026-04-06 00:00+10:30'),
          '06:30:00'::interval, 'Lord Howe 2026-04-05: 02:00 -> 01:30, Sunday 00:00-06:00 = 6.5 h');
SELECT is(aftersales.business_diff(pg_temp.c('lh_sun06'), '2026-10-03 12:00+10:30', '2026-10-05 00:00+11'),
          '05:30:00'::interval, 'Lord Howe 2026-10-04: 02:00 -> 02:30, Sunday 00:00-06:00 = 5.5 h');
SELECT is(aftersales.business_add(pg_temp.c('lh_sun06'), '2026-10-04 00:00+10:30', '2 hours'),
          '2026-10-04 02:30+11', 'Lord Howe: + 2 h from midnight = 02:30 (+11)');

------------------------------------------------------------------------------
-- 24:00 and 24x7
------------------------------------------------------------------------------
SELECT is(aftersales.is_business_time(pg_temp.c('eve'), '2026-01-05 23:59:59.999999+00'), true, '18:00-24:00: 23:59:59.999999 is in');
SELECT is(aftersales.is_business_time(pg_temp.c('eve'), '2026-01-06 00:00+00'), false, '18:00-24:00: next midnight is out');
SELECT is(aftersales.is_business_time(pg_temp.c('eve'), '2026-01-05 17:59:59.999999+00'), false, '18:00-24:00: 17:59:59.999999 is out');
SELECT is(aftersales.is_business_time(pg_temp.c('eve'), '2026-01-05 18:00+00'), true, '18:00-24:00: 18:00 is in');
SELECT is(aftersales.business_add(pg_temp.c('eve'), '2026-01-05 23:00+00', '1 hour'),
          '2026-01-06 00:00+00', '18:00-24:00: + 1 h from 23:00 ends at midnight (minimal end), not 18:00');
SELECT is(aftersales.business_add(pg_temp.c('eve'), '2026-01-05 23:00+00', '1 hour 1 microsecond'),
          '2026-01-06 18:00:00.000001+00', '18:00-24:00: ... 1 us more is the next evening');
SELECT is(aftersales.next_business_time(pg_temp.c('eve'), '2026-01-06 00:00+00'),
          '2026-01-06 18:00+00', '18:00-24:00: next business time from midnight');
SELECT is(aftersales.business_diff(pg_temp.c('eve'), '2026-01-05 00:00+00', '2026-01-12 00:00+00'),
          '42:00:00'::interval, '18:00-24:00 every day: a week = 42 h');

SELECT setseed(0.31);
CREATE TEMP TABLE w24 AS
SELECT i, a, a + span AS b, d
FROM (SELECT i, timestamptz '2026-01-01 00:00+00' + random() * interval '8760 hours' AS a,
             random() * interval '400 hours' AS span,
             random() * interval '300 hours' AS d
      FROM generate_series(1, 300) i) s;
-- include the NY switches
INSERT INTO w24 VALUES (301, '2026-03-07 12:00-05', '2026-03-09 12:00-04', '47 hours'),
                       (302, '2026-10-31 12:00-04', '2026-11-02 12:00-05', '49 hours');
SELECT is((SELECT count(*) FROM w24
           WHERE extract(epoch FROM aftersales.business_diff(pg_temp.c('ny24x7'), a, b)) <> extract(epoch FROM b - a)
              OR extract(day FROM aftersales.business_diff(pg_temp.c('ny24x7'), a, b)) <> 0), 0::bigint,
          '24x7: business_diff = real elapsed time (302 pairs, incl. both DST days), hours field only');
SELECT is((SELECT count(*) FROM w24 WHERE aftersales.business_add(pg_temp.c('ny24x7'), a, d) <> a + d), 0::bigint,
          '24x7: business_add(a, d) = a + d');
SELECT is((SELECT count(*) FROM w24 WHERE NOT aftersales.is_business_time(pg_temp.c('ny24x7'), a)
                                       OR aftersales.next_business_time(pg_temp.c('ny24x7'), a) <> a), 0::bigint,
          '24x7: always business time, next_business_time(t) = t');
SELECT is(aftersales.business_diff(pg_temp.c('ny24x7'), '2026-03-07 12:00-05', '2026-03-09 12:00-04'),
          '47:00:00'::interval, '24x7 New York: the spring-forward weekend is 47 h');

------------------------------------------------------------------------------
-- overnight windows and holidays
------------------------------------------------------------------------------
-- mon-fri 22:00-06:00, holiday Wed 2026-01-07
SELECT is(aftersales.is_business_time(pg_temp.c('night_hol'), '2026-01-07 03:00+00'), true,
          'overnight: the tail of Tuesday''s shift runs into the holiday Wednesday');
SELECT is(aftersales.is_business_time(pg_temp.c('night_hol'), '2026-01-07 23:00+00'), false,
          'overnight: the holiday''s own shift is off');
SELECT is(aftersales.is_business_time(pg_temp.c('night_hol'), '2026-01-08 03:00+00'), false,
          'overnight: ... including its tail on Thursday');
SELECT is(aftersales.is_business_time(pg_temp.c('night_hol'), '2026-01-08 22:00+00'), true,
          'overnight: Thursday''s own shift works');
-- Tue: 00-06 (Mon tail) 6 h + 22-24 2 h; Wed: 00-06 (Tue tail) 6 h; Thu: 22-24 2 h
SELECT is(aftersales.business_diff(pg_temp.c('night_hol'), '2026-01-06 00:00+00', '2026-01-09 00:00+00'),
          '16:00:00'::interval, 'overnight: Tue-Thu around the holiday = 16 h');
SELECT is(aftersales.business_add(pg_temp.c('night_hol'), '2026-01-07 05:00+00', '2 hours'),
          '2026-01-08 23:00+00', 'overnight: 1 h of tail on the holiday, then Thursday 22:00 + 1 h');
SELECT is(aftersales.is_business_time(pg_temp.c('night_hol'), '2026-01-10 05:59:59.999999+00'), true,
          'overnight: Friday''s shift runs into Saturday');
SELECT is(aftersales.is_business_time(pg_temp.c('night_hol'), '2026-01-10 06:00+00'), false,
          'overnight: ... until 06:00 exclusive');
SELECT is(aftersales.is_business_time(pg_temp.c('night_hol'), '2026-01-05 03:00+00'), false,
          'overnight: no Sunday shift, so Monday morning is off');
SELECT is(aftersales.is_business_time(pg_temp.c('wrap'), '2026-01-05 03:00+00'), true,
          'overnight: Sunday 22:00-06:00 runs into Monday (week wrap)');
SELECT is(aftersales.business_diff(pg_temp.c('wrap'), '2026-01-04 00:00+00', '2026-01-06 00:00+00'),
          '08:00:00'::interval, 'overnight: Sunday shift = 8 h');

------------------------------------------------------------------------------
-- closures and make-up days
------------------------------------------------------------------------------
SELECT is(aftersales.business_diff(pg_temp.c('closure'), '2026-12-24 00:00+08', '2026-12-25 00:00+08'),
          '03:00:00'::interval, 'closure 12:00-24:00 leaves 09:00-12:00 on 12-24');
SELECT is(aftersales.business_add(pg_temp.c('closure'), '2026-12-24 11:00+08', '2 hours'),
          '2026-12-25 10:00+08', 'closure: 1 h before it, the rest on the next day');
SELECT is(aftersales.is_business_time(pg_temp.c('closure'), '2026-12-24 11:59:59.999999+08'), true, 'closure: 11:59:59.999999 in');
SELECT is(aftersales.is_business_time(pg_temp.c('closure'), '2026-12-24 12:00+08'), false, 'closure: 12:00 out');
SELECT is(aftersales.next_business_time(pg_temp.c('closure'), '2026-12-24 12:00+08'),
          '2026-12-25 09:00+08', 'closure: next business time is the next morning');
SELECT is(aftersales.business_diff(pg_temp.c('closure'), '2025-12-24 00:00+08', '2025-12-25 00:00+08'),
          '09:00:00'::interval, 'closure is for 2026-12-24 only (2025-12-24 is a full day)');
-- thu 22:00-06:00; closure on Friday 00:00-02:00 removes part of Thursday's tail
SELECT is(aftersales.business_diff(pg_temp.c('cl_tail'), '2026-01-08 00:00+00', '2026-01-10 00:00+00'),
          '06:00:00'::interval, 'closure removes the tail''s 00:00-02:00 on the next date');
SELECT is(aftersales.is_business_time(pg_temp.c('cl_tail'), '2026-01-09 01:00+00'), false, 'closure on the tail: 01:00 out');
SELECT is(aftersales.next_business_time(pg_temp.c('cl_tail'), '2026-01-09 00:00+00'),
          '2026-01-09 02:00+00', 'closure on the tail: resumes at 02:00');
SELECT is(aftersales.business_diff(pg_temp.c('cl_own'), '2026-01-08 00:00+00', '2026-01-10 00:00+00'),
          '07:00:00'::interval, 'closure 23:00-24:00 removes an hour of the shift''s own date only');
-- make-up Saturday 2026-01-10 20:00-04:00; Sunday 01-11 is a holiday: the tail still counts
SELECT is(aftersales.business_diff(pg_temp.c('mk_night'), '2026-01-10 00:00+00', '2026-01-12 00:00+00'),
          '08:00:00'::interval, 'make-up day with an overnight window = 8 h, tail into a holiday counts');
SELECT is(aftersales.is_business_time(pg_temp.c('mk_night'), '2026-01-11 03:59:59.999999+00'), true, 'make-up tail: 03:59:59.999999 in');
SELECT is(aftersales.is_business_time(pg_temp.c('mk_night'), '2026-01-11 04:00+00'), false, 'make-up tail: 04:00 out');
SELECT is(aftersales.business_add(pg_temp.c('mk_night'), '2026-01-09 16:00+00', '2 hours'),
          '2026-01-10 21:00+00', 'make-up: Friday 16-17, then Saturday 20:00 + 1 h');
-- make-up windows replace the weekly ones
SELECT is(aftersales.business_diff(pg_temp.c('mk_repl'), '2026-01-07 00:00+00', '2026-01-08 00:00+00'),
          '02:00:00'::interval, 'make-up windows replace the weekday''s windows (2 h, not 8)');
SELECT is(aftersales.is_business_time(pg_temp.c('mk_repl'), '2026-01-07 10:00+00'), false, 'replaced: 10:00 out');
SELECT is(aftersales.is_business_time(pg_temp.c('mk_repl'), '2026-01-07 14:00+00'), true, 'replaced: 14:00 in');
SELECT is(aftersales.is_business_time(pg_temp.c('mk_repl'), '2026-01-14 10:00+00'), true, 'replaced on that date only');

------------------------------------------------------------------------------
-- holidays: ranges, every year
------------------------------------------------------------------------------
SELECT is(aftersales.is_business_time(pg_temp.c('rec'), '2026-01-06 10:00+00'), false, 'holiday range is inclusive of its end');
SELECT is(aftersales.is_business_time(pg_temp.c('rec'), '2026-01-07 10:00+00'), true, 'holiday range ends there');
SELECT is(aftersales.is_business_time(pg_temp.c('rec'), '2030-12-25 10:00+00'), false, '*-12-25 in 2030 (Wednesday) is off');
SELECT is(aftersales.is_business_time(pg_temp.c('rec'), '2030-12-24 10:00+00'), true, '... 2030-12-24 works');
SELECT is(aftersales.business_diff(pg_temp.c('rec'), '2026-12-21 00:00+00', '2026-12-28 00:00+00'),
          '32:00:00'::interval, '*-12-25 in 2026 (Friday) removes 8 h of the week');

------------------------------------------------------------------------------
-- no business time within 10 years
------------------------------------------------------------------------------
-- (one holiday range may span at most 3660 days in this implementation, so
-- the 15 years of holidays are written as three ranges.)  Observed SQLSTATE:
-- 22000 (data_exception) "calendar has no business time within 10 years".
SELECT throws_ok($$SELECT aftersales.business_add(pg_temp.c('ten_years'), '2026-01-01 00:00+00', '1 hour')$$,
                 '22000', NULL, 'business_add raises when there is no business time within 10 years');
SELECT throws_ok($$SELECT aftersales.next_business_time(pg_temp.c('ten_years'), '2026-01-01 00:00+00')$$,
                 '22000', NULL, 'next_business_time raises when there is no business time within 10 years');
SELECT is(aftersales.business_add(pg_temp.c('ten_years'), '2026-01-01 00:00+00', '0'),
          '2026-01-01 00:00+00', 'amount 0 returns start even without business time');
SELECT is(aftersales.is_business_time(pg_temp.c('ten_years'), '2030-06-03 10:00+00'), false,
          'is_business_time is simply false there');
-- 2041-2045 have 1304 weekdays
SELECT is(aftersales.business_diff(pg_temp.c('ten_years'), '2026-01-01 00:00+00', '2046-01-01 00:00+00'),
          ((SELECT count(*) FROM generate_series(timestamp '2041-01-01', '2045-12-31', '1 day') g
             WHERE extract(isodow FROM g) < 6) * 8 || ' hours')::interval,
          'business_diff over 20 years counts only 2041-2045');
SELECT is(aftersales.next_business_time(pg_temp.c('nine_years'), '2026-01-01 00:00+00'),
          '2035-11-01 09:00+00', 'business time 9.8 years later is found (Thu 2035-11-01)');
SELECT is(aftersales.business_add(pg_temp.c('nine_years'), '2026-01-01 00:00+00', '1 hour'),
          '2035-11-01 10:00+00', 'business_add reaches 9.8 years later');

------------------------------------------------------------------------------
-- microsecond precision
------------------------------------------------------------------------------
SELECT is(aftersales.business_add(pg_temp.c('utc9to18'), '2026-01-05 17:59:59.999999+00', '1 microsecond'),
          '2026-01-05 18:00+00', 'us: 17:59:59.999999 + 1 us = 18:00');
SELECT is(aftersales.business_add(pg_temp.c('utc9to18'), '2026-01-05 17:59:59.999999+00', '0.000002 seconds'),
          '2026-01-06 09:00:00.000001+00', 'us: 17:59:59.999999 + 2 us = next day 09:00:00.000001');
SELECT is(aftersales.business_diff(pg_temp.c('utc9to18'), '2026-01-05 17:59:59.999999+00', '2026-01-06 09:00:00.000001+00'),
          '00:00:00.000002'::interval, 'us: diff across the night = 2 us');
SELECT is(aftersales.business_diff(pg_temp.c('utc9to18'), '2026-01-06 09:00:00.000001+00', '2026-01-05 17:59:59.999999+00'),
          '-00:00:00.000002'::interval, 'us: reversed = -2 us');
SELECT is(aftersales.is_business_time(pg_temp.c('utc9to18'), '2026-01-05 08:59:59.999999+00'), false, 'us: 08:59:59.999999 out');
SELECT is(aftersales.is_business_time(pg_temp.c('utc9to18'), '2026-01-05 09:00+00'), true, 'us: 09:00 in');
SELECT is(aftersales.next_business_time(pg_temp.c('utc9to18'), '2026-01-05 08:59:59.999999+00'),
          '2026-01-05 09:00+00', 'us: next business time of 08:59:59.999999 is 09:00');
SELECT is(aftersales.next_business_time(pg_temp.c('utc9to18'), '2026-01-05 12:34:56.789012+00'),
          '2026-01-05 12:34:56.789012+00', 'us: next business time of a business instant is itself');
SELECT is(aftersales.next_business_time(pg_temp.c('utc9to18'), '2026-01-05 18:00+00'),
          '2026-01-06 09:00+00', 'us: next business time at the window end is the next window');
SELECT ok(abs(aftersales.business_minutes(pg_temp.c('utc9to18'), '2026-01-05 09:00+00', '2026-01-05 09:00:00.000001+00')
              * 60000000 - 1) < 0.001, 'us: business_minutes of 1 us = 1/60000000');
SELECT is(aftersales.business_add(pg_temp.c('utc9to18'), '2026-01-05 17:00+00', '1 hour'),
          '2026-01-05 18:00+00', 'add ending exactly at a window end returns the end, not the next start');
SELECT is(aftersales.business_add(pg_temp.c('utc9to18'), '2026-01-10 12:00+00', '1 hour'),
          '2026-01-12 10:00+00', 'add from a Saturday starts on Monday');
SELECT is(aftersales.business_add(pg_temp.c('utc9to18'), '2026-01-05 10:00+00', '0'),
          '2026-01-05 10:00+00', 'add 0 = start');
SELECT is(aftersales.business_add(pg_temp.c('utc9to18'), '2026-01-10 12:00+00', '0'),
          '2026-01-10 12:00+00', 'add 0 outside business time = start (not the next business instant)');
-- Mon 10-18 (8 h) + Tue-Fri 4 x 9 h = 44 h
SELECT is(aftersales.business_add(pg_temp.c('utc9to18'), '2026-01-05 10:00+00', '44 hours'),
          '2026-01-09 18:00+00', 'add 44 h from Monday 10:00 = Friday 18:00');
SELECT is(aftersales.business_add(pg_temp.c('utc9to18'), '2026-01-05 10:00+00', '45 hours'),
          '2026-01-12 10:00+00', 'add 45 h from Monday 10:00 = next Monday 10:00');
SELECT is(aftersales.business_diff(pg_temp.c('utc9to18'), '2026-01-05 10:00+00', '2026-01-05 10:00+00'),
          '00:00:00'::interval, 'diff(a, a) = 0');
SELECT is(aftersales.business_diff(pg_temp.c('utc9to18'), '2026-01-09 10:00+00', '2026-01-05 10:00+00')::text,
          '-36:00:00', 'negative diff, hours field only (Mon 8 + Tue-Thu 27 + Fri 1 h)');
SELECT is(aftersales.business_minutes(pg_temp.c('utc9to18'), '2026-01-09 10:00+00', '2026-01-05 10:00+00'),
          -2160::numeric, 'negative business_minutes');
SELECT is(aftersales.business_diff(pg_temp.c('secs'), '2026-01-05 00:00+00', '2026-01-06 00:00+00'),
          '00:00:45'::interval, 'HH:MM:SS windows: mon 09:00:30-09:01:15 = 45 s');
SELECT is(aftersales.is_business_time(pg_temp.c('secs'), '2026-01-05 09:00:29.999999+00'), false, 'HH:MM:SS: 09:00:29.999999 out');
SELECT is(aftersales.is_business_time(pg_temp.c('secs'), '2026-01-05 09:00:30+00'), true, 'HH:MM:SS: 09:00:30 in');

------------------------------------------------------------------------------
-- syntax: merging, lists, whitespace, case
------------------------------------------------------------------------------
SELECT is(aftersales.business_diff(pg_temp.c('merge'), '2026-01-05 00:00+00', '2026-01-06 00:00+00'),
          '08:00:00'::interval, 'two clauses for the same day merge');
SELECT is(aftersales.business_diff(pg_temp.c('merge'), '2026-01-05 00:00+00', '2026-01-06 00:00+00'),
          aftersales.business_diff('zone=UTC; mon 09:00-12:00,13:00-18:00', '2026-01-05 00:00+00', '2026-01-06 00:00+00'),
          '... the same as one clause');
-- mon,wed,fri 10-11 and tue-thu,sun 12-13: Mon 1, Tue 1, Wed 2, Thu 1, Fri 1, Sat 0, Sun 1 = 7 h
SELECT is(aftersales.business_diff(pg_temp.c('lists'), '2026-01-05 00:00+00', '2026-01-12 00:00+00'),
          '07:00:00'::interval, 'day lists and ranges: mon,wed,fri / tue-thu,sun');
SELECT is(aftersales.is_business_time(pg_temp.c('lists'), '2026-01-07 12:30+00'), true, 'lists: Wednesday in both');
SELECT is(aftersales.is_business_time(pg_temp.c('lists'), '2026-01-10 10:30+00'), false, 'lists: Saturday in neither');
SELECT is(aftersales.business_diff(' ZONE=UTC ;  Mon-Fri 09:00-12:00 , 13:00-18:00 ; HOLIDAY 2026-01-06 , *-01-07 ; '
                                   'Workday 2026-01-10 10:00-11:00;CLOSED 2026-01-05 09:00-10:00 ',
                                   '2026-01-05 00:00+00', '2026-01-12 00:00+00'),
          '24:00:00'::interval, 'case-insensitive keywords, whitespace around separators (Mon 7 + Thu 8 + Fri 8 + Sat 1 h)');
SELECT is(aftersales.business_diff('zone=UTC;MON-FRI 09:00-17:00;sat,SUN 10:00-11:00',
                                   '2026-01-05 00:00+00', '2026-01-12 00:00+00'),
          '42:00:00'::interval, 'mixed-case day names');

------------------------------------------------------------------------------
-- invalid input: 22P02
------------------------------------------------------------------------------
SELECT throws_ok($$SELECT 'zone=UTC'::aftersales.calendar$$, '22P02', NULL, 'empty week is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; holiday 2026-01-01'::aftersales.calendar$$, '22P02', NULL, 'empty week with holidays is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; workday 2026-01-10 09:00-17:00'::aftersales.calendar$$, '22P02', NULL,
                 'only a make-up day, no weekly window: rejected');
SELECT throws_ok($$SELECT ''::aftersales.calendar$$, '22P02', NULL, 'empty string is rejected');
SELECT throws_ok($$SELECT 'mon-fri 09:00-17:00'::aftersales.calendar$$, '22P02', NULL, 'missing zone is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; zone=UTC; mon 09:00-17:00'::aftersales.calendar$$, '22P02', NULL, 'zone twice is rejected');
SELECT throws_ok($$SELECT 'zone=Mars/Olympus; mon 09:00-17:00'::aftersales.calendar$$, '22P02', NULL, 'unknown zone is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; mon-fry 09:00-17:00'::aftersales.calendar$$, '22P02', NULL, 'bad day name is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; mon 25:00-26:00'::aftersales.calendar$$, '22P02', NULL, 'hour 25 is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; mon 09:60-10:00'::aftersales.calendar$$, '22P02', NULL, 'minute 60 is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; mon 09:00-24:01'::aftersales.calendar$$, '22P02', NULL, '24:01 is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; mon 24:00-10:00'::aftersales.calendar$$, '22P02', NULL, 'start 24:00 is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; mon 09:00-09:00'::aftersales.calendar$$, '22P02', NULL, 'empty window is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; mon 09:00-12:00,11:00-13:00'::aftersales.calendar$$, '22P02', NULL, 'overlap in one clause is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; mon 09:00-12:00; mon-tue 11:00-13:00'::aftersales.calendar$$, '22P02', NULL,
                 'overlap across merged clauses is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; mon 22:00-06:00; tue 05:00-09:00'::aftersales.calendar$$, '22P02', NULL,
                 'overnight tail overlapping the next day is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; sun 22:00-06:00; mon 05:00-09:00'::aftersales.calendar$$, '22P02', NULL,
                 'Sunday tail overlapping Monday is rejected (week wrap)');
SELECT throws_ok($$SELECT 'zone=UTC; mon 09:00-17:00; holiday 2026-01-10; workday 2026-01-10 09:00-12:00'::aftersales.calendar$$,
                 '22P02', NULL, 'make-up day on a holiday is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; mon 09:00-17:00; holiday 2026-01-08..2026-01-12; workday 2026-01-10 09:00-12:00'::aftersales.calendar$$,
                 '22P02', NULL, 'make-up day inside a holiday range is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; mon 09:00-17:00; holiday *-01-10; workday 2026-01-10 09:00-12:00'::aftersales.calendar$$,
                 '22P02', NULL, 'make-up day on an every-year holiday is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; mon 09:00-17:00; workday 2026-01-10 09:00-12:00,11:00-13:00'::aftersales.calendar$$,
                 '22P02', NULL, 'overlapping make-up windows are rejected');
SELECT throws_ok($$SELECT 'zone=UTC; sat 22:00-06:00; workday 2026-01-11 05:00-07:00'::aftersales.calendar$$,
                 '22P02', NULL, 'Saturday''s tail overlapping the make-up Sunday''s window is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; sun 05:00-07:00; workday 2026-01-10 22:00-06:00'::aftersales.calendar$$,
                 '22P02', NULL, 'a make-up day''s tail overlapping the next day''s window is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; mon 09:00-17:00; holiday 2026-02-30'::aftersales.calendar$$, '22P02', NULL, 'bad date is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; mon 09:00-17:00; holiday *-02-30'::aftersales.calendar$$, '22P02', NULL, 'bad every-year date is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; mon 09:00-17:00; holiday 2026-02-10..2026-02-01'::aftersales.calendar$$, '22P02', NULL,
                 'reversed holiday range is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; mon 09:00-17:00; closed 2026-01-05 22:00-02:00'::aftersales.calendar$$, '22P02', NULL,
                 'overnight closure is rejected (closures are same-day)');
SELECT throws_ok($$SELECT 'zone=UTC; mon 09:00-17:00; workday 2026-01-10'::aftersales.calendar$$, '22P02', NULL,
                 'make-up day without windows is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; mon 09:00-17:00; frobnicate 2026-01-10'::aftersales.calendar$$, '22P02', NULL,
                 'unknown clause is rejected');
SELECT throws_ok($$SELECT 'zone=UTC; mon 9-17'::aftersales.calendar$$, '22P02', NULL, 'times without minutes are rejected');

------------------------------------------------------------------------------
-- amount validation (22023) and STRICT
------------------------------------------------------------------------------
SELECT throws_ok($$SELECT aftersales.business_add(pg_temp.c('utc9to18'), '2026-01-05 10:00+00', '-1 hour')$$,
                 '22023', NULL, 'negative amount: 22023');
SELECT throws_ok($$SELECT aftersales.business_add(pg_temp.c('utc9to18'), '2026-01-05 10:00+00', '-0.000001 seconds')$$,
                 '22023', NULL, '-1 us amount: 22023');
SELECT throws_ok($$SELECT aftersales.business_add(pg_temp.c('utc9to18'), '2026-01-05 10:00+00', '1 day')$$,
                 '22023', NULL, 'amount with a day field: 22023');
SELECT throws_ok($$SELECT aftersales.business_add(pg_temp.c('utc9to18'), '2026-01-05 10:00+00', '1 mon')$$,
                 '22023', NULL, 'amount with a month field: 22023');
SELECT throws_ok($$SELECT aftersales.business_add(pg_temp.c('utc9to18'), '2026-01-05 10:00+00', '1 day -24 hours')$$,
                 '22023', NULL, 'amount with a day field, even if it nets to zero: 22023');
SELECT ok(aftersales.business_add(NULL, '2026-01-05 10:00+00', '1 hour') IS NULL
          AND aftersales.business_add(pg_temp.c('utc9to18'), NULL, '1 hour') IS NULL
          AND aftersales.business_add(pg_temp.c('utc9to18'), '2026-01-05 10:00+00', NULL) IS NULL
          AND aftersales.business_diff(pg_temp.c('utc9to18'), NULL, '2026-01-05 10:00+00') IS NULL
          AND aftersales.business_minutes(NULL, '2026-01-05 10:00+00', '2026-01-05 10:00+00') IS NULL
          AND aftersales.is_business_time(pg_temp.c('utc9to18'), NULL) IS NULL
          AND aftersales.next_business_time(NULL, '2026-01-05 10:00+00') IS NULL, 'NULL in, NULL out');

------------------------------------------------------------------------------
-- text and binary round trips
------------------------------------------------------------------------------
CREATE TEMP TABLE rt (i int, cal aftersales.calendar);
INSERT INTO rt SELECT row_number() OVER (ORDER BY name), cal FROM cals;
INSERT INTO rt VALUES
 (100, 'zone=Europe/Berlin; mon,wed,fri 08:00-12:00,13:00-17:00; sat 22:00-06:00; holiday *-12-25,*-12-26,2026-04-03..2026-04-06;'
       ' closed 2026-12-24 12:00-24:00; workday 2026-12-27 10:00-14:00'),
 (101, 'zone=America/Sao_Paulo; mon-sun 00:00-24:00'),
 (102, 'zone=Australia/Lord_Howe; mon-wed,sat 07:30:15-16:45:30'),
 (103, 'ZONE=Asia/Kolkata;MON 22:00-06:00;TUE 22:00-06:00;Wed 21:59:59-06:00:01'),
 (104, 'zone=UTC; mon 00:00-00:00:01,23:59:59-24:00; tue 00:00:01-23:59:59');
-- reparse each text form, recording errors per calendar
ALTER TABLE rt ADD COLUMN back aftersales.calendar, ADD COLUMN err text;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT i, cal::text AS t FROM rt LOOP
    BEGIN
      UPDATE rt SET back = r.t::aftersales.calendar WHERE i = r.i;
    EXCEPTION WHEN others THEN
      UPDATE rt SET err = SQLSTATE || ': ' || SQLERRM WHERE i = r.i;
    END;
  END LOOP;
END $$;
SELECT is((SELECT count(*) FROM rt WHERE back::text IS DISTINCT FROM cal::text), 0::bigint,
          format('text round trip: cal::text::calendar::text = cal::text (%s calendars)', (SELECT count(*) FROM rt)));
SELECT diag(format('%s  ->  %s', cal, err)) FROM rt WHERE back::text IS DISTINCT FROM cal::text;
-- the text form means the same: three weeks of diffs and probes, original vs reparsed text
SELECT is((SELECT count(*) FROM rt, generate_series(timestamptz '2026-12-20 00:00+00', '2027-01-10', '7 hours 13 minutes') t
           WHERE back IS NOT NULL
             AND (aftersales.business_diff(cal, '2026-12-20 00:00+00', t)
                  IS DISTINCT FROM aftersales.business_diff(back, '2026-12-20 00:00+00', t)
                  OR aftersales.is_business_time(cal, t) IS DISTINCT FROM aftersales.is_business_time(back, t))), 0::bigint,
          'text round trip keeps the meaning');
SELECT is(aftersales.business_diff('zone=UTC; mon 00:00-00:00:01,23:59:59-24:00; tue 00:00:01-23:59:59',
                                   '2026-01-05 00:00+00', '2026-01-07 00:00+00'),
          '23:59:58'::interval + interval '2 seconds', 'second-resolution windows at both ends of the day');

-- binary: COPY ... (FORMAT binary) through a server-side file (superuser),
-- one calendar at a time so that a failure names its calendar
CREATE TEMP TABLE rt2 (i int, cal aftersales.calendar);
ALTER TABLE rt ADD COLUMN berr text;
DO $$
DECLARE f text := pg_catalog.current_setting('data_directory') || '/aftersales_calendar_edges_' || pg_backend_pid() || '.bin'; r record;
BEGIN
  FOR r IN SELECT i FROM rt ORDER BY i LOOP
    BEGIN
      EXECUTE format('COPY (SELECT i, cal FROM rt WHERE i = %s) TO %L WITH (FORMAT binary)', r.i, f);
      EXECUTE format('COPY rt2 FROM %L WITH (FORMAT binary)', f);
    EXCEPTION WHEN others THEN
      UPDATE rt SET berr = SQLSTATE || ': ' || SQLERRM WHERE i = r.i;
    END;
  END LOOP;
  EXECUTE format('COPY (SELECT 1 WHERE false) TO %L', f);   -- leave the file empty
END $$;
SELECT is((SELECT count(*) FROM rt JOIN rt2 USING (i)
           WHERE rt2.cal::text = rt.cal::text
             AND aftersales_internal.calendar_send(rt2.cal) = aftersales_internal.calendar_send(rt.cal)),
          (SELECT count(*) FROM rt), 'binary round trip (COPY FORMAT binary): same text, same send bytes');
SELECT diag(format('%s  ->  %s', cal, berr)) FROM rt WHERE berr IS NOT NULL;
SELECT is((SELECT count(*) FROM rt JOIN rt2 USING (i), generate_series(timestamptz '2026-12-20 00:00+00', '2027-01-10', '5 hours 7 minutes') t
           WHERE aftersales.business_diff(rt.cal, '2026-12-20 00:00+00', t)
                 IS DISTINCT FROM aftersales.business_diff(rt2.cal, '2026-12-20 00:00+00', t)), 0::bigint,
          'binary round trip keeps the meaning');

------------------------------------------------------------------------------
-- set_calendar / get_calendar
------------------------------------------------------------------------------
-- errors are caught so that one failure does not end the script
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE q INTO r;
  RETURN coalesce(r, 'NULL');
EXCEPTION WHEN others THEN
  RETURN 'ERROR ' || SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT lives_ok($$SELECT aftersales.set_calendar('edge-test', pg_temp.c('utc9to18'), 'first')$$, 'set_calendar inserts');
SELECT is(pg_temp.try($$SELECT aftersales.get_calendar('edge-test')::text$$), pg_temp.c('utc9to18')::text,
          'get_calendar returns it');
SELECT lives_ok($$SELECT aftersales.set_calendar('edge-test', pg_temp.c('cn'), 'second')$$, 'set_calendar again upserts');
SELECT is(pg_temp.try($$SELECT aftersales.get_calendar('edge-test')::text$$), pg_temp.c('cn')::text,
          'get_calendar returns the new one');
SELECT is((SELECT count(*) || ' ' || max(description) FROM aftersales.calendars WHERE name = 'edge-test'), '1 second',
          'one row, description updated');
SELECT lives_ok($$SELECT aftersales.set_calendar('edge-test-2', pg_temp.c('eve'))$$, 'set_calendar without description');
SELECT is((SELECT tenant_id || ' ' || coalesce(description, 'NULL') FROM aftersales.calendars WHERE name = 'edge-test-2'),
          '1 NULL', 'default tenant 1, description NULL');

SELECT * FROM finish();
ROLLBACK;
