-- calendar.sql: benchmark of aftersales.business_add.
--
-- Reproduce: make bench
--   (or: psql -X -v ON_ERROR_STOP=1 -d <db with CREATE EXTENSION aftersales> -f test/bench/calendar.sql)
--
-- Calendar: Asia/Shanghai, Mon-Fri 09:00-12:00,13:00-18:00, with China's 2026
-- public holidays and make-up working days (see test/pgtap/calendar_property.sql).
-- Data: 1,000,000 rows, deterministic (setseed), start instants spread over
-- 2026, amounts per measurement as described below.
-- Every figure is the best of 3 runs, timed with clock_timestamp() around a
-- count(expr) over all rows (count(expr) forces evaluation of expr).
-- Single process: no parallel workers and no JIT, so the figures compare
-- per-row CPU cost on this (2-core, noisy) machine.
--
-- Measurements and goals:
--  1. business_add(cal, ts, d), d random 10 min..24 h, against the floor
--     expression (ts + d) AT TIME ZONE 'Asia/Shanghai' on the same rows.
--     Goal: ratio <= 2.0.  (AT TIME ZONE 'name' resolves the zone name on
--     every row, which makes that floor slow; the bare addition ts + d is
--     reported as well, for information, without a goal.)
--  2. business_add at a 30-day span (d random 160..176 h, 20-22 working
--     days) against a correct day-walking PL/pgSQL implementation written
--     below.  The PL/pgSQL baseline runs on the first 20,000 rows only and
--     is scaled per row (ms per 1M rows); its answers are checked against
--     business_add on those rows.  Goal: ours >= 50x faster.
--  3. business_add at a 365-day span (d random 1990..2010 h, ~250 working
--     days) against a 7-day span (d random 36..44 h), both ours, same rows.
--     Goal: ratio <= 1.5.

\set QUIET on
SET client_min_messages = notice;
SET max_parallel_workers_per_gather = 0;
SET jit = off;
SET temp_buffers = '512MB';
SET work_mem = '64MB';

CREATE TEMP TABLE bench_cal (cal aftersales.calendar NOT NULL);
INSERT INTO bench_cal VALUES (
  'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00;'
  ' holiday 2026-01-01..2026-01-03,2026-02-15..2026-02-23,2026-04-04..2026-04-06,'
  '2026-05-01..2026-05-05,2026-06-19..2026-06-21,2026-09-25..2026-09-27,2026-10-01..2026-10-07;'
  ' workday 2026-01-04 09:00-12:00,13:00-18:00; workday 2026-02-14 09:00-12:00,13:00-18:00;'
  ' workday 2026-02-28 09:00-12:00,13:00-18:00; workday 2026-05-09 09:00-12:00,13:00-18:00;'
  ' workday 2026-09-20 09:00-12:00,13:00-18:00; workday 2026-10-10 09:00-12:00,13:00-18:00');

SELECT setseed(0.1234) \gset
CREATE TEMP TABLE bench_data AS
SELECT i,
       timestamptz '2026-01-01 00:00+08' + random() * interval '365 days' AS ts,
       interval '10 minutes' + random() * interval '1430 minutes'         AS d_day,
       interval '160 hours' + random() * interval '16 hours'              AS d_30,
       interval '36 hours' + random() * interval '8 hours'                AS d_7,
       interval '1990 hours' + random() * interval '20 hours'             AS d_365
FROM generate_series(1, 1000000) i;
ALTER TABLE bench_data ADD PRIMARY KEY (i);
VACUUM ANALYZE bench_data;

-- The baseline: business_add for the calendar above, walking local dates.
-- Asia/Shanghai has had no DST since 1991, so local wall-clock arithmetic is
-- exact here.  Ends at the end of the last business instant (minimal end).
CREATE FUNCTION pg_temp.walk_add(ts timestamptz, amount interval) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
  zone      constant text := 'Asia/Shanghai';
  holidays  constant daterange[] := ARRAY[
      '[2026-01-01,2026-01-03]', '[2026-02-15,2026-02-23]', '[2026-04-04,2026-04-06]',
      '[2026-05-01,2026-05-05]', '[2026-06-19,2026-06-21]', '[2026-09-25,2026-09-27]',
      '[2026-10-01,2026-10-07]']::daterange[];
  makeups   constant date[] := ARRAY['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09',
                                     '2026-09-20', '2026-10-10']::date[];
  wst       constant interval[] := ARRAY[interval '09:00', interval '13:00'];
  wen       constant interval[] := ARRAY[interval '12:00', interval '18:00'];
  lt        timestamp := ts AT TIME ZONE zone;
  dd       date := (ts AT TIME ZONE zone)::date;
  remaining interval := amount;
  ws timestamp; we timestamp; k int; working boolean;
BEGIN
  IF remaining = interval '0' THEN RETURN ts; END IF;
  FOR guard IN 1..3660 LOOP
    working := dd = ANY (makeups)
               OR (extract(isodow FROM dd) < 6
                   AND NOT EXISTS (SELECT 1 FROM unnest(holidays) h WHERE h @> dd));
    IF working THEN
      FOR k IN 1..2 LOOP
        ws := greatest(dd + wst[k], lt);
        we := dd + wen[k];
        IF we > ws THEN
          IF we - ws >= remaining THEN
            RETURN (ws + remaining) AT TIME ZONE zone;
          END IF;
          remaining := remaining - (we - ws);
        END IF;
      END LOOP;
    END IF;
    dd := dd + 1;
  END LOOP;
  RAISE EXCEPTION 'no business time within 10 years';
END $$;

CREATE TEMP TABLE bench_result (
  n numeric, measurement text, ours_ms numeric, baseline_ms numeric, ratio numeric, goal text, met boolean);

-- best of 3 runs of a query, in ms
CREATE FUNCTION pg_temp.best_of_3(q text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; best numeric; ms numeric; n bigint;
BEGIN
  FOR run IN 1..3 LOOP
    t0 := clock_timestamp();
    EXECUTE q INTO n;
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
    best := least(best, ms);
    IF n IS NULL OR n = 0 THEN RAISE EXCEPTION 'benchmark query counted nothing: %', q; END IF;
  END LOOP;
  RETURN round(best, 1);
END $$;

DO $$
DECLARE
  ours numeric; base numeric; nwalk constant int := 20000; bad bigint;
BEGIN
  -- 1. against the floor
  ours := pg_temp.best_of_3($q$SELECT count(aftersales.business_add(c.cal, b.ts, b.d_day)) FROM bench_data b, bench_cal c$q$);
  base := pg_temp.best_of_3($q$SELECT count((b.ts + b.d_day) AT TIME ZONE 'Asia/Shanghai') FROM bench_data b, bench_cal c$q$);
  INSERT INTO bench_result VALUES (1, 'business_add, d 10 min..24 h, 1M rows, vs (ts + d) AT TIME ZONE zone',
                                   ours, base, round(ours / base, 2), '<= 2.0x', ours / base <= 2.0);
  -- informational: the bare addition, without the zone lookup that
  -- AT TIME ZONE 'name' repeats on every row
  base := pg_temp.best_of_3($q$SELECT count(b.ts + b.d_day) FROM bench_data b, bench_cal c$q$);
  INSERT INTO bench_result VALUES (1.5, 'informational: the same business_add vs bare ts + d (no zone), 1M rows',
                                   ours, base, round(ours / base, 2), '(none)', NULL);

  -- 2. against the PL/pgSQL day walker at a 30-day span
  SELECT count(*) INTO bad FROM bench_data b, bench_cal c
   WHERE b.i <= nwalk AND pg_temp.walk_add(b.ts, b.d_30) IS DISTINCT FROM aftersales.business_add(c.cal, b.ts, b.d_30);
  IF bad > 0 THEN
    RAISE WARNING 'PL/pgSQL baseline and business_add disagree on % of % rows', bad, nwalk;
  END IF;
  ours := pg_temp.best_of_3($q$SELECT count(aftersales.business_add(c.cal, b.ts, b.d_30)) FROM bench_data b, bench_cal c$q$);
  base := pg_temp.best_of_3(format($q$SELECT count(pg_temp.walk_add(b.ts, b.d_30)) FROM bench_data b WHERE b.i <= %s$q$, nwalk))
          * (1000000.0 / nwalk);
  INSERT INTO bench_result VALUES (2, 'business_add, d 160..176 h (~30 days), per 1M rows, vs PL/pgSQL day walker '
                                      || '(run on 20k rows, scaled x50' || CASE WHEN bad > 0 THEN ', ' || bad || ' DISAGREEMENTS' ELSE ', answers identical' END || ')',
                                   ours, round(base, 1), round(base / ours, 1), '>= 50x faster', base / ours >= 50 AND bad = 0);

  -- 3. 365-day span against 7-day span
  ours := pg_temp.best_of_3($q$SELECT count(aftersales.business_add(c.cal, b.ts, b.d_365)) FROM bench_data b, bench_cal c$q$);
  base := pg_temp.best_of_3($q$SELECT count(aftersales.business_add(c.cal, b.ts, b.d_7)) FROM bench_data b, bench_cal c$q$);
  INSERT INTO bench_result VALUES (3, 'business_add, d 1990..2010 h (~365 days) vs d 36..44 h (~7 days), 1M rows, both ours',
                                   ours, base, round(ours / base, 2), '<= 1.5x', ours / base <= 1.5);
END $$;

\set QUIET off
\echo
\echo 'aftersales calendar benchmark (best of 3; no parallel workers, no JIT); reproduce with: make bench'
SELECT measurement, ours_ms AS "ours ms", baseline_ms AS "baseline ms",
       ratio, goal, CASE WHEN met THEN 'yes' WHEN NOT met THEN 'NO' ELSE '' END AS "met?"
FROM bench_result ORDER BY n;
