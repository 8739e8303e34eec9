-- calendar_interleaved.sql: calendars with every-year holidays, asked about
-- far-apart dates (1900-2100, and near 0001 and 9999) interleaved in one
-- session, compared with a brute-force reference that lives in this file.
--
-- The answers must depend on the arguments only, never on what the backend
-- computed before: every case is evaluated twice in one session, in two
-- different interleaved orders, and both results must equal the reference.
--
-- The reference walks UTC hours.  Every window edge is a whole hour, and in
-- the years used every zone's offset is a whole number of hours changing on
-- a whole hour (Shanghai from 1920, Berlin and New York from 1900; near the
-- limits only UTC), so an hour is entirely business time or not at all.  An
-- hour starting at m is business time when, at local date D and local hour
-- H of m, H lies in one of D's own windows (its make-up windows; none when
-- D is a holiday, dated or every-year; else its weekday's windows) or in
-- the after-midnight part of D-1's own overnight windows, and in none of
-- D's closures.

BEGIN;
SET LOCAL statement_timeout = '120s';
SET LOCAL timezone = 'Asia/Kolkata';
SET LOCAL client_min_messages = warning;
SET LOCAL jit = off;

SELECT plan(10);

SELECT setseed(0.4242);

-- the calendars, relationally (hours; en > 24 is an overnight window)
CREATE TEMP TABLE ic_cal (cal_id int PRIMARY KEY, zone text, ymin int, lit text, cal aftersales.calendar);
CREATE TEMP TABLE ic_week (cal_id int, dow int, st int, en int);      -- dow: isodow 1..7
CREATE TEMP TABLE ic_rhol (cal_id int, md text);                      -- 'MM-DD'
CREATE TEMP TABLE ic_hol (cal_id int, d date);
CREATE TEMP TABLE ic_work (cal_id int, d date, st int, en int);
CREATE TEMP TABLE ic_closed (cal_id int, d date, st int, en int);

INSERT INTO ic_cal (cal_id, zone, ymin, lit) VALUES
  (1, 'UTC', 1, 'zone=UTC; mon-fri 09:00-17:00; holiday *-12-25,*-01-01'),
  (2, 'Europe/Berlin', 1900, 'zone=Europe/Berlin; mon-fri 08:00-12:00,13:00-17:00; holiday *-12-24,*-12-25,*-12-26,*-01-01,*-05-01,2026-12-28..2026-12-30; closed 2026-12-31 12:00-24:00; workday 2026-12-27 10:00-14:00'),
  (3, 'America/New_York', 1900, 'zone=America/New_York; mon-fri 22:00-06:00; sat 10:00-14:00; holiday *-07-04,*-02-29,*-12-31'),
  (4, 'UTC', 1, 'zone=UTC; mon-sun 09:00-10:00; holiday *-03-01,*-02-29'),
  (5, 'Asia/Shanghai', 1920, 'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00; holiday 2026-10-01..2026-10-07,*-01-01,*-10-01; workday 2026-10-10 09:00-12:00,13:00-18:00');
UPDATE ic_cal SET cal = lit::aftersales.calendar;

INSERT INTO ic_week SELECT 1, d, 9, 17 FROM generate_series(1, 5) d;
INSERT INTO ic_week SELECT 2, d, s, e FROM generate_series(1, 5) d, (VALUES (8, 12), (13, 17)) w(s, e);
INSERT INTO ic_week SELECT 3, d, 22, 30 FROM generate_series(1, 5) d;
INSERT INTO ic_week VALUES (3, 6, 10, 14);
INSERT INTO ic_week SELECT 4, d, 9, 10 FROM generate_series(1, 7) d;
INSERT INTO ic_week SELECT 5, d, s, e FROM generate_series(1, 5) d, (VALUES (9, 12), (13, 18)) w(s, e);
INSERT INTO ic_rhol VALUES (1, '12-25'), (1, '01-01'),
  (2, '12-24'), (2, '12-25'), (2, '12-26'), (2, '01-01'), (2, '05-01'),
  (3, '07-04'), (3, '02-29'), (3, '12-31'),
  (4, '03-01'), (4, '02-29'),
  (5, '01-01'), (5, '10-01');
INSERT INTO ic_hol SELECT 2, d::date FROM generate_series(date '2026-12-28', date '2026-12-30', '1 day') d;
INSERT INTO ic_hol SELECT 5, d::date FROM generate_series(date '2026-10-01', date '2026-10-07', '1 day') d;
INSERT INTO ic_work VALUES (2, '2026-12-27', 10, 14), (5, '2026-10-10', 9, 12), (5, '2026-10-10', 13, 18);
INSERT INTO ic_closed VALUES (2, '2026-12-31', 12, 24);

-- A date's own windows.
CREATE FUNCTION pg_temp.ic_own(c int, d date) RETURNS TABLE (st int, en int)
LANGUAGE sql STABLE AS $$
  SELECT w.st, w.en FROM ic_work w WHERE w.cal_id = c AND w.d = ic_own.d
  UNION ALL
  SELECT w.st, w.en FROM ic_week w
   WHERE w.cal_id = c AND w.dow = extract(isodow FROM ic_own.d)
     AND NOT EXISTS (SELECT FROM ic_work x WHERE x.cal_id = c AND x.d = ic_own.d)
     AND NOT EXISTS (SELECT FROM ic_hol h WHERE h.cal_id = c AND h.d = ic_own.d)
     AND NOT EXISTS (SELECT FROM ic_rhol r WHERE r.cal_id = c AND r.md = to_char(ic_own.d, 'MM-DD')) $$;

-- Is the hour starting at m business time?
CREATE FUNCTION pg_temp.ic_member(c int, z text, m timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
  WITH l AS (SELECT (m AT TIME ZONE z)::date AS d, extract(hour FROM m AT TIME ZONE z)::int AS h)
  SELECT (EXISTS (SELECT FROM pg_temp.ic_own(c, l.d) o WHERE o.st <= l.h AND l.h < least(o.en, 24))
          OR EXISTS (SELECT FROM pg_temp.ic_own(c, l.d - 1) o WHERE o.en > 24 AND l.h < o.en - 24))
     AND NOT EXISTS (SELECT FROM ic_closed k WHERE k.cal_id = c AND k.d = l.d AND k.st <= l.h AND l.h < k.en)
  FROM l $$;

-- The cases: a start hour a, a span of 1..8 days (12 near the limits and on
-- dated entries); kinds diff, add, is, next.
CREATE TEMP TABLE ic_case (id serial PRIMARY KEY, cal_id int, kind text, a timestamptz, span_days int,
                           k int, t timestamptz);
INSERT INTO ic_case (cal_id, kind, a, span_days)
SELECT c.cal_id, kind,
       date_trunc('hour', make_timestamptz(y, 1, 1, 0, 0, 0, 'UTC') + random() * interval '365 days', 'UTC'),
       1 + floor(random() * 8)::int
  FROM ic_cal c, (VALUES ('diff'), ('add'), ('is'), ('next')) k(kind),
       LATERAL (SELECT (1900 + floor(random() * 201))::int + 0 * c.cal_id AS y
                  FROM generate_series(1, 50)) g
 WHERE y >= c.ymin;
-- a few near the limits, UTC calendars only
INSERT INTO ic_case (cal_id, kind, a, span_days)
SELECT c, kind, a, 1 + floor(random() * 12)::int
  FROM (VALUES (1), (4)) cc(c), (VALUES ('diff'), ('add'), ('is'), ('next')) k(kind),
       (VALUES (timestamptz '0001-01-03 00:00+00'), ('0001-02-27 05:00+00'), ('0004-02-27 09:00+00'),
               ('9999-12-10 00:00+00'), ('9998-12-24 13:00+00'), ('9996-02-27 16:00+00')) l(a);
-- the cases on dated entries of calendars 2 and 5
INSERT INTO ic_case (cal_id, kind, a, span_days)
SELECT c, kind, a, 10
  FROM (VALUES (2, timestamptz '2026-12-22 07:00+00'), (5, timestamptz '2026-09-28 00:00+00')) v(c, a),
       (VALUES ('diff'), ('add'), ('is'), ('next')) k(kind);

-- the reference hours of every case
CREATE TEMP TABLE ic_hour AS
SELECT s.id, m, pg_temp.ic_member(s.cal_id, c.zone, m) AS member
  FROM ic_case s JOIN ic_cal c USING (cal_id),
       generate_series(s.a, s.a + s.span_days * interval '1 day' - interval '1 hour', interval '1 hour') m;
CREATE INDEX ON ic_hour (id, m);

-- amounts for add: 1 .. the business hours of the span; probe instants for is
UPDATE ic_case s SET k = 1 + floor(random() * n)::int
  FROM (SELECT id, count(*) FILTER (WHERE member) AS n FROM ic_hour GROUP BY id) h
 WHERE h.id = s.id AND s.kind = 'add' AND h.n > 0;
DELETE FROM ic_case WHERE kind = 'add' AND k IS NULL;
UPDATE ic_case SET t = a + floor(random() * span_days * 24) * interval '1 hour'
                   + (CASE WHEN random() < 0.3 THEN interval '30 minutes' ELSE interval '0' END)
 WHERE kind IN ('is', 'next');

CREATE TEMP TABLE ic_ref AS
SELECT s.id,
       CASE s.kind
         WHEN 'diff' THEN (SELECT count(*) FILTER (WHERE member) * interval '1 hour' FROM ic_hour h WHERE h.id = s.id)::text
         WHEN 'add' THEN (SELECT m + interval '1 hour' FROM ic_hour h WHERE h.id = s.id AND member ORDER BY m OFFSET s.k - 1 LIMIT 1)::text
         WHEN 'is' THEN (SELECT member FROM ic_hour h WHERE h.id = s.id AND h.m = date_trunc('hour', s.t, 'UTC'))::text
         WHEN 'next' THEN (SELECT greatest(m, s.t) FROM ic_hour h WHERE h.id = s.id AND member AND m + interval '1 hour' > s.t ORDER BY m LIMIT 1)::text
       END AS ref
  FROM ic_case s;
-- 'next' beyond the reference horizon is not checked
DELETE FROM ic_case s USING ic_ref r WHERE r.id = s.id AND s.kind = 'next' AND r.ref IS NULL;

-- The C functions, case by case in a given order (one session, one backend).
CREATE TEMP TABLE ic_res (pass int, id int, got text);
CREATE FUNCTION pg_temp.ic_run(pass int, ord text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE r record; v text;
BEGIN
  FOR r IN EXECUTE 'SELECT s.*, c.cal FROM ic_case s JOIN ic_cal c USING (cal_id) ORDER BY ' || ord LOOP
    v := CASE r.kind
           WHEN 'diff' THEN aftersales.business_diff(r.cal, r.a, r.a + r.span_days * interval '1 day')::text
           WHEN 'add' THEN aftersales.business_add(r.cal, r.a, r.k * interval '1 hour')::text
           WHEN 'is' THEN aftersales.is_business_time(r.cal, r.t)::text
           WHEN 'next' THEN aftersales.next_business_time(r.cal, r.t)::text
         END;
    INSERT INTO ic_res VALUES (pass, r.id, v);
  END LOOP;
END $$;
SELECT pg_temp.ic_run(1, 'md5(s.id::text)');
SELECT pg_temp.ic_run(2, 's.a DESC, s.id');

CREATE TEMP VIEW ic_cmp AS
SELECT s.id, s.kind, s.cal_id, s.a, s.span_days, s.k, s.t, r.ref, x.pass, x.got
  FROM ic_case s JOIN ic_ref r USING (id) JOIN ic_res x USING (id);

SELECT cmp_ok((SELECT count(*)::int FROM ic_case), '>=', 900, 'at least 900 interleaved cases');
SELECT cmp_ok((SELECT count(DISTINCT extract(year FROM a))::int FROM ic_case), '>=', 120,
              'cases spread over at least 120 different years');
SELECT cmp_ok((SELECT count(*)::int FROM ic_case WHERE a < '0005-01-01' OR a > '9990-01-01'), '>=', 36,
              'cases near the limits of the range');
SELECT is((SELECT count(*)::int FROM ic_res), 2 * (SELECT count(*)::int FROM ic_case),
          'every case evaluated twice');
SELECT is(array(SELECT format('%s %s cal %s a=%s span=%s k=%s t=%s: want %s got %s', pass, kind, cal_id, a, span_days, k, t, ref, got)
                  FROM ic_cmp WHERE kind = 'diff' AND got IS DISTINCT FROM ref ORDER BY id, pass LIMIT 5),
          '{}'::text[], 'business_diff equals the reference');
SELECT is(array(SELECT format('%s %s cal %s a=%s span=%s k=%s t=%s: want %s got %s', pass, kind, cal_id, a, span_days, k, t, ref, got)
                  FROM ic_cmp WHERE kind = 'add' AND got IS DISTINCT FROM ref ORDER BY id, pass LIMIT 5),
          '{}'::text[], 'business_add equals the reference');
SELECT is(array(SELECT format('%s %s cal %s a=%s span=%s k=%s t=%s: want %s got %s', pass, kind, cal_id, a, span_days, k, t, ref, got)
                  FROM ic_cmp WHERE kind = 'is' AND got IS DISTINCT FROM ref ORDER BY id, pass LIMIT 5),
          '{}'::text[], 'is_business_time equals the reference');
SELECT is(array(SELECT format('%s %s cal %s a=%s span=%s k=%s t=%s: want %s got %s', pass, kind, cal_id, a, span_days, k, t, ref, got)
                  FROM ic_cmp WHERE kind = 'next' AND got IS DISTINCT FROM ref ORDER BY id, pass LIMIT 5),
          '{}'::text[], 'next_business_time equals the reference');
-- the reference is not vacuous: both answers of is_business_time occur, and holidays bite
SELECT is((SELECT array_agg(DISTINCT ref ORDER BY ref) FROM ic_ref r JOIN ic_case s USING (id) WHERE s.kind = 'is'),
          '{false,true}'::text[], 'probes hit business and non-business time');
SELECT cmp_ok((SELECT count(*)::int FROM ic_hour h JOIN ic_case s USING (id) JOIN ic_cal c USING (cal_id)
                WHERE EXISTS (SELECT FROM ic_rhol r WHERE r.cal_id = s.cal_id AND r.md = to_char(h.m AT TIME ZONE c.zone, 'MM-DD'))),
              '>=', 200, 'reference hours on every-year holidays');

SELECT * FROM finish();
ROLLBACK;
