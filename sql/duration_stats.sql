-- duration_stats: a parallel-safe distribution aggregate with bounded relative error.
SET client_min_messages = warning;
SET extra_float_digits = 0;

-- no input: n = 0 and no statistics
SELECT * FROM (SELECT aftersales.duration_stats(x) s FROM (SELECT 1.0::float8 x WHERE false) t) q, LATERAL (SELECT (q.s).*) r;
-- NULLs are skipped
SELECT (aftersales.duration_stats(x)).* FROM (VALUES (NULL::float8), (5), (NULL)) v(x);
-- zeros count as zero
SELECT (aftersales.duration_stats(x)).* FROM (VALUES (0::float8), (0), (0), (10)) v(x);

-- 1..10000 minutes: exact count, mean and max; quantiles within 0.5% of percentile_cont
CREATE TEMP TABLE d AS SELECT g::float8 AS x FROM generate_series(1, 10000) g;
WITH s AS (SELECT aftersales.duration_stats(x) s,
                  percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY x) p
             FROM d)
SELECT (s).n, (s).mean, (s).max,
       abs((s).p50 / p[1] - 1) <= 0.005 AS p50_ok,
       abs((s).p90 / p[2] - 1) <= 0.005 AS p90_ok,
       abs((s).p95 / p[3] - 1) <= 0.005 AS p95_ok
  FROM s;

-- a skewed, gappy distribution (durations from seconds to weeks)
CREATE TEMP TABLE skew (x float8);
SELECT setseed(0.42);
INSERT INTO skew SELECT (exp(random() * 12) / 60)::float8 FROM generate_series(1, 20000);
WITH s AS (SELECT aftersales.duration_stats(x) s,
                  percentile_disc(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY x) p,
                  max(x) mx, count(*) n
             FROM skew)
SELECT (s).n = n AS n_ok, (s).max = mx AS max_ok,
       abs((s).p50 / p[1] - 1) <= 0.006 AS p50_ok,
       abs((s).p90 / p[2] - 1) <= 0.006 AS p90_ok,
       abs((s).p95 / p[3] - 1) <= 0.006 AS p95_ok
  FROM s;

-- GROUP BY
SELECT g, (aftersales.duration_stats(x)).n FROM (SELECT x, (x::int % 3) g FROM d) t GROUP BY g ORDER BY g;

-- the parallel plan runs and gives the serial answer
CREATE TABLE par AS SELECT (g % 997)::float8 * 1.5 AS x, g % 4 AS k FROM generate_series(1, 200000) g;
ANALYZE par;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT aftersales.duration_stats(x) FROM par;
CREATE TEMP TABLE par_parallel AS SELECT (aftersales.duration_stats(x)).* FROM par;
CREATE TEMP TABLE par_parallel_k AS SELECT k, (aftersales.duration_stats(x)).* FROM par GROUP BY k;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT aftersales.duration_stats(x) FROM par;
SELECT (SELECT row(n, round(mean::numeric, 6), p50, p90, p95, max) FROM par_parallel)
     = (SELECT row(n, round(mean::numeric, 6), p50, p90, p95, max) FROM (SELECT (aftersales.duration_stats(x)).* FROM par) s)
       AS parallel_equals_serial;
SELECT count(*) AS groups_equal
  FROM par_parallel_k p
  JOIN (SELECT k, (aftersales.duration_stats(x)).* FROM par GROUP BY k) s USING (k)
 WHERE (p.n, p.p50, p.p90, p.p95, p.max) = (s.n, s.p50, s.p90, s.p95, s.max);
RESET max_parallel_workers_per_gather;
DROP TABLE par;

-- bad input
SELECT aftersales.duration_stats(x) FROM (VALUES (-1::float8)) v(x);
SELECT aftersales.duration_stats(x) FROM (VALUES ('NaN'::float8)) v(x);
SELECT aftersales.duration_stats(x) FROM (VALUES ('Infinity'::float8)) v(x);
