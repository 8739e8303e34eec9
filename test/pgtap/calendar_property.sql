-- calendar_property.sql: property tests of the aftersales.calendar arithmetic
-- against a brute-force reference that lives in this file only.
--
-- Run: pg_prove -h /tmp -p 5499 -U postgres -d cal_prop test/pgtap/calendar_property.sql
--      (the database needs: CREATE EXTENSION pgtap; CREATE EXTENSION aftersales CASCADE;)
--
-- How it works
--  1. A deterministic generator (setseed) builds ~60 random calendars plus
--     the official China 2026 calendar in two shift patterns.  Each calendar
--     is stored relationally (pc_cal zone, pc_week weekly windows, pc_hol
--     holiday dates/ranges, pc_rhol every-year holidays, pc_closed partial
--     closures, pc_work make-up days) and its text literal is rendered from
--     those rows (random keyword case, day ranges / lists, split clauses for
--     the same day, HH:MM or HH:MM:SS, 24:00 ends, shuffled clause order).
--  2. The reference: for each calendar, every minute instant m of a 16-day
--     horizon (h0 <= m < h1, around a DST switch or a holiday season) is
--     classified by looking at  m AT TIME ZONE zone  (local date D, minute of
--     day) against the components: D's own windows (weekly pattern of D's
--     weekday or D's make-up windows; none when D is a holiday), plus the
--     after-midnight tails of D-1's own overnight windows, minus D's closures.
--     All window edges and all instants are whole minutes and every zone
--     offset in use is a whole number of minutes, so a minute is either
--     entirely business time or not at all; the reference business time in
--     [a, b) is the number of member minutes m in [a, b).  That set-based
--     walk is done once per calendar over the whole horizon as a running
--     count (pc_min.cum), which answers every case in O(1); assertion
--     "reference self-check" re-walks a few hundred cases literally,
--     generate_series(a, b - '1 min', '1 min'), with an independent
--     membership predicate written straight from the components.
--  3. The C functions are evaluated on thousands of cases and compared.
--     Each assertion aggregates all its cases, requires a minimum number
--     of checked cases (so it cannot pass vacuously), and prints the first
--     mismatches as diagnostics.
--
-- China 2026 (State Council notice of Nov 2025, as I know it), used for the
-- fixed Asia/Shanghai calendars:
--   New Year        2026-01-01..01-03 off, Sun 01-04 works
--   Spring Festival 2026-02-15..02-23 off, Sat 02-14 and Sat 02-28 work
--   Qingming        2026-04-04..04-06 off
--   Labour Day      2026-05-01..05-05 off, Sat 05-09 works
--   Dragon Boat     2026-06-19..06-21 off
--   Mid-Autumn      2026-09-25..09-27 off
--   National Day    2026-10-01..10-07 off, Sun 09-20 and Sat 10-10 work
-- (The brief's list lacked the 01-04 make-up day and the separate
-- Mid-Autumn holiday, which in 2026 falls on Fri 09-25; both are included.)
--
-- Session time zone is deliberately exotic so that no function may depend on it.

BEGIN;
SET LOCAL statement_timeout = '180s';
SET LOCAL timezone = 'Pacific/Kiritimati';
SET LOCAL max_parallel_workers_per_gather = 0;
SET LOCAL work_mem = '256MB';
SET LOCAL jit = off;
SET LOCAL client_min_messages = warning;

SELECT plan(20);

------------------------------------------------------------------------------
-- helpers
------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.pc_rint(lo int, hi int) RETURNS int
LANGUAGE sql VOLATILE AS $$ SELECT lo + floor(random() * (hi - lo + 1))::int $$;

-- minute of day -> 'HH:MM' or 'HH:MM:00' (1440 -> '24:00')
CREATE FUNCTION pg_temp.pc_hm(mins int, secs boolean) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT lpad((mins / 60)::text, 2, '0') || ':' || lpad((mins % 60)::text, 2, '0')
         || CASE WHEN secs THEN ':00' ELSE '' END $$;

-- k random non-overlapping, non-touching windows with edges on multiples of
-- g inside [lo, hi]; returned flat: {s1,e1,s2,e2,...}
CREATE FUNCTION pg_temp.pc_windows(lo int, hi int, g int, k int) RETURNS int[]
LANGUAGE plpgsql VOLATILE AS $$
DECLARE pts int[]; n int;
BEGIN
  IF k <= 0 OR hi <= lo THEN RETURN '{}'; END IF;
  SELECT array_agg(p ORDER BY p) INTO pts FROM (
    SELECT p FROM generate_series(((lo + g - 1) / g) * g, hi, g) p
    ORDER BY random() LIMIT 2 * k) s;
  n := coalesce(array_length(pts, 1), 0);
  IF n < 2 THEN RETURN '{}'; END IF;
  IF n % 2 = 1 THEN pts := pts[1:n - 1]; END IF;
  RETURN pts;
END $$;

-- an interval with hour/minute/second fields only?
CREATE FUNCTION pg_temp.pc_hms(i interval) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT i IS NOT NULL AND extract(day FROM i) = 0 AND extract(month FROM i) = 0
     AND extract(year FROM i) = 0 $$;

-- Evaluate a result query robustly: q has one %s placeholder for a WHERE
-- condition on the case alias c (with column id).  If the set-based run
-- raises, fall back to one case at a time and record the error per case.
CREATE FUNCTION pg_temp.pc_eval(tbl text, cases text, q text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE cid int;
BEGIN
  BEGIN
    EXECUTE format('CREATE TEMP TABLE %I AS SELECT s.*, NULL::text AS err FROM (%s) s',
                   tbl, format(q, 'true'));
  EXCEPTION WHEN others THEN
    EXECUTE format('CREATE TEMP TABLE %I AS SELECT s.*, NULL::text AS err FROM (%s) s WITH NO DATA',
                   tbl, format(q, 'false'));
    FOR cid IN EXECUTE format('SELECT id FROM %I ORDER BY id', cases) LOOP
      BEGIN
        EXECUTE format('INSERT INTO %I SELECT s.*, NULL FROM (%s) s', tbl,
                       format(q, 'c.id = ' || cid));
      EXCEPTION WHEN others THEN
        EXECUTE format('INSERT INTO %I (id, err) VALUES ($1, $2)', tbl)
          USING cid, SQLSTATE || ': ' || SQLERRM;
      END;
    END LOOP;
  END;
END $$;

------------------------------------------------------------------------------
-- 1. random calendars, stored relationally
------------------------------------------------------------------------------
CREATE TEMP TABLE pc_cal (
  cal_id   int PRIMARY KEY,
  zone     text NOT NULL,
  base     date NOT NULL,          -- focus date (a DST switch, a holiday...)
  style    text NOT NULL,
  dmin     date NOT NULL,          -- component / reference day range
  dmax     date NOT NULL,
  h0       timestamptz NOT NULL,   -- reference horizon [h0, h1)
  h1       timestamptz NOT NULL,
  lit      text,                   -- rendered literal
  cal      aftersales.calendar,    -- parsed (NULL when the parse failed)
  perr     text                    -- parse error
);
CREATE TEMP TABLE pc_week   (cal_id int, dow int, st int, en int);   -- minutes; en < st: overnight
CREATE TEMP TABLE pc_hol    (cal_id int, d1 date, d2 date);          -- d1 = d2: single date
CREATE TEMP TABLE pc_rhol   (cal_id int, mon int, dom int);          -- *-MM-DD
CREATE TEMP TABLE pc_closed (cal_id int, d date, st int, en int);    -- same-day windows
CREATE TEMP TABLE pc_work   (cal_id int, d date, st int, en int);    -- make-up day windows

DO $gen$
DECLARE
  -- focus (zone, date): DST switches, or NULL = a random 2026 date
  fz text[] := ARRAY['Europe/Berlin', 'Europe/Berlin', 'America/New_York', 'America/New_York',
                     'America/Sao_Paulo', 'America/Sao_Paulo', 'America/Sao_Paulo',
                     'America/Sao_Paulo', 'America/Sao_Paulo', 'America/Sao_Paulo',
                     'Australia/Lord_Howe', 'Australia/Lord_Howe', 'Asia/Shanghai',
                     'Asia/Shanghai', 'Pacific/Chatham', 'America/St_Johns', 'Asia/Kolkata',
                     'UTC', 'America/New_York', 'Europe/Berlin'];
  fd date[] := ARRAY['2026-03-29', '2026-10-25', '2026-03-08', '2026-11-01',
                     '2016-10-16', '2017-02-19', '2017-10-15', '2018-02-18', '2018-11-04',
                     '2019-02-17', '2026-04-05', '2026-10-04', NULL, NULL, '2026-04-05',
                     '2026-11-01', NULL, NULL, '2026-03-08', '2026-03-29'];
  ncal int := 60;
  c int; i int; j int; dw int; prv int; k int; lo int; hi int; g int;
  zone text; base date; style text; p_ov float8;
  ov boolean[]; ovs int[]; ove int[]; w int[];
  hset date[]; wset date[]; d0 date; len int; ws int; we int; nf int;
BEGIN
  PERFORM setseed(0.2026);
  FOR c IN 1..ncal LOOP
    i := 1 + (c - 1) % array_length(fz, 1);
    zone := fz[i];
    base := coalesce(fd[i], date '2026-01-01' + pg_temp.pc_rint(0, 364));
    style := (ARRAY['office', 'random', 'random', 'night', 'full'])[pg_temp.pc_rint(1, 5)];
    INSERT INTO pc_cal (cal_id, zone, base, style, dmin, dmax, h0, h1)
    VALUES (c, zone, base, style, base - 10, base + 10,
            (base - 8)::timestamp AT TIME ZONE zone, (base + 8)::timestamp AT TIME ZONE zone);

    -- weekly pattern -------------------------------------------------------
    g := CASE WHEN style = 'office' THEN (ARRAY[15, 30, 60])[pg_temp.pc_rint(1, 3)]
              ELSE (ARRAY[1, 5, 15, 30, 60])[pg_temp.pc_rint(1, 5)] END;
    p_ov := CASE style WHEN 'night' THEN 0.7 WHEN 'random' THEN 0.25 WHEN 'full' THEN 0.15 ELSE 0 END;
    ov := array_fill(false, ARRAY[7]); ovs := array_fill(0, ARRAY[7]); ove := array_fill(0, ARRAY[7]);
    FOR dw IN 1..7 LOOP
      IF random() < p_ov THEN
        ov[dw] := true;
        ovs[dw] := CASE WHEN random() < 0.8 THEN 30 * pg_temp.pc_rint(34, 47) ELSE pg_temp.pc_rint(1020, 1439) END;
        ove[dw] := CASE WHEN random() < 0.8 THEN 30 * pg_temp.pc_rint(2, 20) ELSE pg_temp.pc_rint(1, 720) END;
      END IF;
    END LOOP;
    IF style = 'office' THEN
      w := pg_temp.pc_windows(360, 1200, g, pg_temp.pc_rint(1, 2));
      FOR dw IN 1..5 LOOP
        FOR j IN 1..coalesce(array_length(w, 1), 0) / 2 LOOP
          INSERT INTO pc_week VALUES (c, dw, w[2 * j - 1], w[2 * j]);
        END LOOP;
      END LOOP;
      IF random() < 0.4 THEN
        w := pg_temp.pc_windows(480, 840, g, 1);
        FOR j IN 1..coalesce(array_length(w, 1), 0) / 2 LOOP
          INSERT INTO pc_week VALUES (c, 6, w[2 * j - 1], w[2 * j]);
        END LOOP;
      END IF;
    ELSE
      FOR dw IN 1..7 LOOP
        prv := CASE WHEN dw = 1 THEN 7 ELSE dw - 1 END;
        lo := CASE WHEN ov[prv] THEN ove[prv] ELSE 0 END;
        hi := CASE WHEN ov[dw] THEN ovs[dw] ELSE 1440 END;
        IF lo = 0 AND hi = 1440
           AND random() < (CASE style WHEN 'full' THEN 0.6 ELSE 0.08 END) THEN
          w := ARRAY[0, 1440];
        ELSE
          k := CASE style WHEN 'night' THEN (ARRAY[0, 0, 1, 1, 2])[pg_temp.pc_rint(1, 5)]
                          ELSE (ARRAY[0, 1, 1, 2, 2, 2, 3])[pg_temp.pc_rint(1, 7)] END;
          w := pg_temp.pc_windows(lo, hi, g, k);
        END IF;
        FOR j IN 1..coalesce(array_length(w, 1), 0) / 2 LOOP
          INSERT INTO pc_week VALUES (c, dw, w[2 * j - 1], w[2 * j]);
        END LOOP;
        IF ov[dw] THEN INSERT INTO pc_week VALUES (c, dw, ovs[dw], ove[dw]); END IF;
      END LOOP;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pc_week WHERE cal_id = c) THEN
      INSERT INTO pc_week VALUES (c, 3, 600, 960);   -- never an empty week
    END IF;

    -- holidays: ranges, single dates, every-year dates; never twice the same date
    hset := '{}';
    FOR j IN 1..pg_temp.pc_rint(0, 2) LOOP
      d0 := base + pg_temp.pc_rint(-9, 7); len := pg_temp.pc_rint(2, 5);
      IF NOT EXISTS (SELECT 1 FROM unnest(hset) x WHERE x BETWEEN d0 AND d0 + len - 1) THEN
        INSERT INTO pc_hol VALUES (c, d0, d0 + len - 1);
        hset := hset || ARRAY(SELECT x::date FROM generate_series(d0::timestamp, (d0 + len - 1)::timestamp, '1 day') x);
      END IF;
    END LOOP;
    FOR j IN 1..pg_temp.pc_rint(0, 3) LOOP
      d0 := base + pg_temp.pc_rint(-9, 8);
      IF d0 <> ALL (hset) THEN
        INSERT INTO pc_hol VALUES (c, d0, d0); hset := hset || d0;
      END IF;
    END LOOP;
    IF random() < 0.4 THEN
      d0 := base + pg_temp.pc_rint(-9, 8);
      IF d0 <> ALL (hset) AND to_char(d0, 'MM-DD') <> '02-29' THEN
        INSERT INTO pc_rhol VALUES (c, extract(month FROM d0), extract(day FROM d0));
        hset := hset || d0;
      END IF;
    END IF;
    -- a far-away holiday that must not matter
    IF random() < 0.3 THEN
      INSERT INTO pc_hol VALUES (c, base + 200, base + 203);
    END IF;

    -- make-up days (not on holidays, never on adjacent dates)
    wset := '{}';
    FOR j IN 1..pg_temp.pc_rint(0, 2) LOOP
      d0 := base + pg_temp.pc_rint(-8, 7);
      IF d0 = ANY (hset) OR EXISTS (SELECT 1 FROM unnest(wset) x WHERE abs(x - d0) <= 1) THEN
        CONTINUE;
      END IF;
      wset := wset || d0;
      -- keep clear of the previous weekday's overnight tail and of the next
      -- weekday's first window, whatever holidays say
      SELECT coalesce(max(en), 0) INTO lo FROM pc_week
       WHERE cal_id = c AND dow = extract(isodow FROM d0 - 1) AND en < st;
      SELECT coalesce(min(st), 1440) INTO nf FROM pc_week
       WHERE cal_id = c AND dow = extract(isodow FROM d0 + 1);
      hi := 1440; ws := NULL;
      IF random() < (CASE WHEN style = 'night' THEN 0.6 ELSE 0.3 END) AND nf > 0 THEN
        ws := 30 * pg_temp.pc_rint(34, 47);
        we := least(30 * pg_temp.pc_rint(1, 16), nf);
        hi := ws;
      END IF;
      w := pg_temp.pc_windows(lo, hi, g, pg_temp.pc_rint(1, 3));
      IF coalesce(array_length(w, 1), 0) = 0 AND ws IS NULL THEN
        w := ARRAY[lo, 1440];
      END IF;
      FOR k IN 1..coalesce(array_length(w, 1), 0) / 2 LOOP
        INSERT INTO pc_work VALUES (c, d0, w[2 * k - 1], w[2 * k]);
      END LOOP;
      IF ws IS NOT NULL THEN INSERT INTO pc_work VALUES (c, d0, ws, we); END IF;
    END LOOP;

    -- partial closures (any date, also holidays and make-up days)
    FOR j IN 1..pg_temp.pc_rint(0, 3) LOOP
      d0 := base + pg_temp.pc_rint(-8, 7);
      CONTINUE WHEN EXISTS (SELECT 1 FROM pc_closed WHERE cal_id = c AND d = d0);
      w := pg_temp.pc_windows(0, 1440, (ARRAY[5, 15, 30, 60])[pg_temp.pc_rint(1, 4)], pg_temp.pc_rint(1, 2));
      FOR k IN 1..coalesce(array_length(w, 1), 0) / 2 LOOP
        INSERT INTO pc_closed VALUES (c, d0, w[2 * k - 1], w[2 * k]);
      END LOOP;
    END LOOP;
  END LOOP;
END $gen$;

-- The official China 2026 calendar (see header), in two shift patterns
-- (office hours; office hours plus a 20:00-02:00 night shift), each with
-- one reference horizon per holiday season.
DO $cn$
DECLARE
  periods daterange[] := ARRAY[daterange('2025-12-29', '2026-01-09'), daterange('2026-02-10', '2026-03-03'),
                               daterange('2026-04-01', '2026-04-09'), daterange('2026-04-28', '2026-05-12'),
                               daterange('2026-06-16', '2026-06-24'), daterange('2026-09-17', '2026-10-13')];
  hols daterange[] := ARRAY[daterange('2026-01-01', '2026-01-03', '[]'), daterange('2026-02-15', '2026-02-23', '[]'),
                            daterange('2026-04-04', '2026-04-06', '[]'), daterange('2026-05-01', '2026-05-05', '[]'),
                            daterange('2026-06-19', '2026-06-21', '[]'), daterange('2026-09-25', '2026-09-27', '[]'),
                            daterange('2026-10-01', '2026-10-07', '[]')];
  works date[] := ARRAY['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10']::date[];
  c int := 100; v int; p daterange; h daterange; wd date; d int; win int[];
BEGIN
  FOR v IN 1..2 LOOP
    win := CASE v WHEN 1 THEN ARRAY[540, 720, 780, 1080] ELSE ARRAY[480, 720, 780, 1020, 1200, 120] END;
    FOREACH p IN ARRAY periods LOOP
      c := c + 1;
      INSERT INTO pc_cal (cal_id, zone, base, style, dmin, dmax, h0, h1)
      VALUES (c, 'Asia/Shanghai', lower(p), CASE v WHEN 1 THEN 'cn-office' ELSE 'cn-night' END,
              lower(p) - 2, upper(p) + 1,
              lower(p)::timestamp AT TIME ZONE 'Asia/Shanghai', upper(p)::timestamp AT TIME ZONE 'Asia/Shanghai');
      FOR d IN 1..5 LOOP
        FOR k IN 1..array_length(win, 1) / 2 LOOP
          INSERT INTO pc_week VALUES (c, d, win[2 * k - 1], win[2 * k]);
        END LOOP;
      END LOOP;
      FOREACH h IN ARRAY hols LOOP
        INSERT INTO pc_hol VALUES (c, lower(h), upper(h) - 1);
      END LOOP;
      FOREACH wd IN ARRAY works LOOP
        FOR k IN 1..array_length(win, 1) / 2 LOOP
          INSERT INTO pc_work VALUES (c, wd, win[2 * k - 1], win[2 * k]);
        END LOOP;
      END LOOP;
    END LOOP;
  END LOOP;
END $cn$;

-- render the text literals from the components
DO $render$
DECLARE
  c record; grp record; r record;
  secs boolean; kcase int; sep text; clauses text[]; daytxt text; wins text[]; n int;
  dnames text[] := ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
  items text[];
BEGIN
  PERFORM setseed(0.77);
  FOR c IN SELECT * FROM pc_cal ORDER BY cal_id LOOP
    secs := random() < 0.2;
    kcase := pg_temp.pc_rint(1, 3);           -- 1 lower, 2 UPPER, 3 Initcap keywords
    sep := (ARRAY[';', ';', ' ; ', '; ', ' ;'])[pg_temp.pc_rint(1, 5)];
    clauses := ARRAY[CASE kcase WHEN 2 THEN 'ZONE' WHEN 3 THEN 'Zone' ELSE 'zone' END || '=' || c.zone];
    -- weekly: days with identical window sets share a clause
    FOR grp IN
      SELECT ws, array_agg(dow ORDER BY dow) AS days
      FROM (SELECT dow, string_agg(pg_temp.pc_hm(st, secs) || '-' || pg_temp.pc_hm(en, secs), ',' ORDER BY st) AS ws
            FROM pc_week WHERE cal_id = c.cal_id GROUP BY dow) s
      GROUP BY ws ORDER BY min(dow)
    LOOP
      -- day set as runs: 'mon-fri', 'mon,tue', 'mon-wed,sat'
      SELECT string_agg(CASE WHEN hi = lo THEN dnames[lo]
                             WHEN random() < 0.75 THEN dnames[lo] || '-' || dnames[hi]
                             ELSE (SELECT string_agg(dnames[x], ',' ORDER BY x) FROM generate_series(lo, hi) x) END,
                        ',' ORDER BY lo)
        INTO daytxt
        FROM (SELECT min(x) lo, max(x) hi FROM (SELECT x, x - row_number() OVER (ORDER BY x) AS run
                                               FROM unnest(grp.days) x) t GROUP BY run) runs;
      IF kcase = 2 THEN daytxt := upper(daytxt); ELSIF kcase = 3 THEN daytxt := initcap(daytxt); END IF;
      wins := string_to_array(grp.ws, ',');
      n := array_length(wins, 1);
      IF n >= 2 AND random() < 0.3 THEN             -- same days in two clauses: must merge
        clauses := clauses || (daytxt || ' ' || array_to_string(wins[1:1], ','))
                           || (daytxt || '  ' || array_to_string(wins[2:n], ','));
      ELSE
        clauses := clauses || (daytxt || ' ' || grp.ws);
      END IF;
    END LOOP;
    -- holidays, shuffled
    SELECT array_agg(it ORDER BY random()) INTO items FROM (
      SELECT CASE WHEN d1 = d2 AND random() < 0.9 THEN d1::text ELSE d1::text || '..' || d2::text END AS it
      FROM pc_hol WHERE cal_id = c.cal_id
      UNION ALL
      SELECT '*-' || lpad(mon::text, 2, '0') || '-' || lpad(dom::text, 2, '0') FROM pc_rhol WHERE cal_id = c.cal_id) s;
    IF items IS NOT NULL THEN
      clauses := clauses || (CASE kcase WHEN 2 THEN 'HOLIDAY ' WHEN 3 THEN 'Holiday ' ELSE 'holiday ' END
                             || array_to_string(items, ','));
    END IF;
    FOR r IN SELECT d, string_agg(pg_temp.pc_hm(st, secs) || '-' || pg_temp.pc_hm(en, secs), ',' ORDER BY st) AS ws
             FROM pc_closed WHERE cal_id = c.cal_id GROUP BY d ORDER BY d LOOP
      clauses := clauses || (CASE kcase WHEN 2 THEN 'CLOSED ' WHEN 3 THEN 'Closed ' ELSE 'closed ' END
                             || r.d::text || ' ' || r.ws);
    END LOOP;
    FOR r IN SELECT d, string_agg(pg_temp.pc_hm(st, secs) || '-' || pg_temp.pc_hm(en, secs), ',' ORDER BY st) AS ws
             FROM pc_work WHERE cal_id = c.cal_id GROUP BY d ORDER BY d LOOP
      clauses := clauses || (CASE kcase WHEN 2 THEN 'WORKDAY ' WHEN 3 THEN 'Workday ' ELSE 'workday ' END
                             || r.d::text || ' ' || r.ws);
    END LOOP;
    -- shuffled clause order (the zone clause included)
    UPDATE pc_cal SET lit = (SELECT string_agg(x, sep ORDER BY random()) FROM unnest(clauses) x)
     WHERE cal_id = c.cal_id;
  END LOOP;
END $render$;

-- parse every literal (errors recorded per calendar)
DO $parse$
DECLARE c record;
BEGIN
  FOR c IN SELECT cal_id, lit FROM pc_cal ORDER BY cal_id LOOP
    BEGIN
      UPDATE pc_cal SET cal = c.lit::aftersales.calendar WHERE cal_id = c.cal_id;
    EXCEPTION WHEN others THEN
      UPDATE pc_cal SET perr = SQLSTATE || ': ' || SQLERRM WHERE cal_id = c.cal_id;
    END;
  END LOOP;
END $parse$;

------------------------------------------------------------------------------
-- 2. the reference
------------------------------------------------------------------------------
-- per calendar and local date: holiday?, and the business minutes-of-day of
-- that date as a multirange: own same-day parts + yesterday's tails - closures
CREATE TEMP TABLE pc_day AS
WITH days AS (
  SELECT c.cal_id, x::date AS d
  FROM pc_cal c, generate_series(c.dmin::timestamp, c.dmax::timestamp, interval '1 day') x
), hol AS (
  SELECT x.cal_id, x.d,
         EXISTS (SELECT 1 FROM pc_hol h WHERE h.cal_id = x.cal_id AND x.d BETWEEN h.d1 AND h.d2)
         OR EXISTS (SELECT 1 FROM pc_rhol r WHERE r.cal_id = x.cal_id
                      AND r.mon = extract(month FROM x.d) AND r.dom = extract(day FROM x.d)) AS hol
  FROM days x
), own AS (       -- the windows that belong to date d
  SELECT h.cal_id, h.d, w.st, w.en
  FROM hol h
  CROSS JOIN LATERAL (
    SELECT k.st, k.en FROM pc_work k WHERE k.cal_id = h.cal_id AND k.d = h.d
    UNION ALL
    SELECT w.st, w.en FROM pc_week w
     WHERE w.cal_id = h.cal_id AND w.dow = extract(isodow FROM h.d)
       AND NOT EXISTS (SELECT 1 FROM pc_work k WHERE k.cal_id = h.cal_id AND k.d = h.d)) w
  WHERE NOT h.hol
), parts AS (
  SELECT cal_id, d, int4range(st, CASE WHEN en > st THEN en ELSE 1440 END) AS r FROM own
  UNION ALL
  SELECT cal_id, d + 1, int4range(0, en) FROM own WHERE en < st
)
SELECT h.cal_id, h.d, h.hol,
       coalesce((SELECT range_agg(p.r) FROM parts p WHERE p.cal_id = h.cal_id AND p.d = h.d), '{}'::int4multirange)
     - coalesce((SELECT range_agg(int4range(k.st, k.en)) FROM pc_closed k
                  WHERE k.cal_id = h.cal_id AND k.d = h.d), '{}'::int4multirange) AS mr
FROM hol h;
CREATE UNIQUE INDEX ON pc_day (cal_id, d);
ANALYZE pc_day;

-- every minute instant of every horizon, member or not, with the running
-- count of member minutes (cum includes m itself)
CREATE TEMP TABLE pc_min AS
WITH s AS MATERIALIZED (
  SELECT t.cal_id, t.m, t.lt,
         coalesce(dd.mr @> ((date_part('hour', t.lt) * 60 + date_part('minute', t.lt))::int), false) AS member
  FROM (SELECT c.cal_id, m, m AT TIME ZONE c.zone AS lt
        FROM pc_cal c, generate_series(c.h0, c.h1 - interval '1 minute', interval '1 minute') m) t
  LEFT JOIN pc_day dd ON dd.cal_id = t.cal_id AND dd.d = t.lt::date
)
SELECT s.cal_id, s.m, s.lt, s.member,
       (sum(s.member::int) OVER w)::int AS cum,
       -- local clock jumped (DST) between m - 1 min and m
       coalesce(s.lt - lag(s.lt) OVER w <> interval '1 minute', false) AS jump,
       coalesce(s.member <> lag(s.member) OVER w, false) AS edge
FROM s
WINDOW w AS (PARTITION BY s.cal_id ORDER BY s.m ROWS UNBOUNDED PRECEDING);
CREATE UNIQUE INDEX ON pc_min (cal_id, m);
CREATE UNIQUE INDEX ON pc_min (cal_id, cum) WHERE member;
ANALYZE pc_min;

-- per calendar totals
CREATE TEMP TABLE pc_tot AS
SELECT cal_id, count(*)::int AS nmin, max(cum) AS total FROM pc_min GROUP BY cal_id;

-- an independent, literal membership predicate straight from the components
-- (used by the reference self-check only)
CREATE INDEX ON pc_week (cal_id, dow);
CREATE INDEX ON pc_hol (cal_id);
CREATE INDEX ON pc_rhol (cal_id);
CREATE INDEX ON pc_closed (cal_id, d);
CREATE INDEX ON pc_work (cal_id, d);
ANALYZE pc_week; ANALYZE pc_hol; ANALYZE pc_rhol; ANALYZE pc_closed; ANALYZE pc_work;
CREATE FUNCTION pg_temp.pc_own(c int, dd date) RETURNS TABLE (st int, en int)
LANGUAGE sql STABLE AS $$
  SELECT k.st, k.en FROM pc_work k WHERE k.cal_id = c AND k.d = dd
  UNION ALL
  SELECT w.st, w.en FROM pc_week w
   WHERE w.cal_id = c AND w.dow = extract(isodow FROM dd)
     AND NOT EXISTS (SELECT 1 FROM pc_work k WHERE k.cal_id = c AND k.d = dd) $$;
-- is local wall-clock (ld, tod) business time of calendar c?  Written
-- directly from the contract: own windows of ld (make-up windows replace the
-- weekly ones; none on a holiday), or the after-midnight part of an overnight
-- window of ld - 1 (none if ld - 1 is a holiday), and no closure of ld.
CREATE FUNCTION pg_temp.pc_member(c int, ld date, tod int) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT (
     -- a window of ld itself (not a holiday; make-up windows replace weekly ones)
     (NOT EXISTS (SELECT 1 FROM pc_hol h WHERE h.cal_id = c AND ld BETWEEN h.d1 AND h.d2)
      AND NOT EXISTS (SELECT 1 FROM pc_rhol r WHERE r.cal_id = c AND r.mon = date_part('month', ld)
                                                AND r.dom = date_part('day', ld))
      AND (EXISTS (SELECT 1 FROM pc_work k WHERE k.cal_id = c AND k.d = ld
                                             AND tod >= k.st AND (k.en < k.st OR tod < k.en))
           OR (NOT EXISTS (SELECT 1 FROM pc_work k WHERE k.cal_id = c AND k.d = ld)
               AND EXISTS (SELECT 1 FROM pc_week w WHERE w.cal_id = c AND w.dow = date_part('isodow', ld)
                                                     AND tod >= w.st AND (w.en < w.st OR tod < w.en)))))
     OR
     -- the after-midnight tail of an overnight window of ld - 1 (not a holiday)
     (NOT EXISTS (SELECT 1 FROM pc_hol h WHERE h.cal_id = c AND ld - 1 BETWEEN h.d1 AND h.d2)
      AND NOT EXISTS (SELECT 1 FROM pc_rhol r WHERE r.cal_id = c AND r.mon = date_part('month', ld - 1)
                                                AND r.dom = date_part('day', ld - 1))
      AND (EXISTS (SELECT 1 FROM pc_work k WHERE k.cal_id = c AND k.d = ld - 1 AND k.en < k.st AND tod < k.en)
           OR (NOT EXISTS (SELECT 1 FROM pc_work k WHERE k.cal_id = c AND k.d = ld - 1)
               AND EXISTS (SELECT 1 FROM pc_week w WHERE w.cal_id = c AND w.dow = date_part('isodow', ld - 1)
                                                     AND w.en < w.st AND tod < w.en)))))
   -- minus the closures of ld
   AND NOT EXISTS (SELECT 1 FROM pc_closed k WHERE k.cal_id = c AND k.d = ld AND tod >= k.st AND tod < k.en) $$;

------------------------------------------------------------------------------
-- 3. cases
------------------------------------------------------------------------------
CREATE TEMP TABLE pc_diff  (id serial PRIMARY KEY, cal_id int, am timestamptz, ao bigint,
                            bm timestamptz, bo bigint, a timestamptz, b timestamptz, ref_us bigint);
CREATE TEMP TABLE pc_probe (id serial PRIMARY KEY, cal_id int, m timestamptz, off bigint,
                            t timestamptz, ref boolean, kind text);
CREATE TEMP TABLE pc_next  (id serial PRIMARY KEY, cal_id int, m timestamptz, off bigint,
                            t timestamptz, ref timestamptz);
CREATE TEMP TABLE pc_add   (id serial PRIMARY KEY, cal_id int, a timestamptz, k int, frac bigint,
                            d interval, ref timestamptz);
CREATE TEMP TABLE pc_mono  (id serial PRIMARY KEY, cal_id int, grp int, a timestamptz, d interval);

DO $cases$
DECLARE
  c record; i int; j int; nmin int; span int; am timestamptz; bm timestamptz; ao bigint; bo bigint;
  x int; k int; rem int; frac bigint; t0 timestamptz; dmin int;
BEGIN
  PERFORM setseed(0.5);
  FOR c IN SELECT p.*, t.nmin, t.total FROM pc_cal p JOIN pc_tot t USING (cal_id) ORDER BY cal_id LOOP
    nmin := c.nmin;
    -- minute index of the focus date's local midnight (DST switches happen then)
    dmin := greatest(0, least(nmin - 1, (extract(epoch FROM (c.base::timestamp AT TIME ZONE c.zone) - c.h0) / 60)::int));
    -- whole-minute and sub-minute diffs
    FOR i IN 1..45 LOOP
      x := pg_temp.pc_rint(1, 10);
      span := CASE WHEN x <= 5 THEN pg_temp.pc_rint(0, 4 * 1440)
                   WHEN x <= 7 THEN pg_temp.pc_rint(0, 180)
                   WHEN x = 8 THEN 0
                   WHEN x = 9 THEN 1440 * pg_temp.pc_rint(1, 4)
                   ELSE pg_temp.pc_rint(4 * 1440, 7 * 1440) END;
      span := least(span, nmin - 2);
      IF random() < 0.5 THEN
        j := greatest(0, least(nmin - 1 - span - 1, dmin - pg_temp.pc_rint(0, 2 * 1440)));
      ELSE
        j := pg_temp.pc_rint(0, nmin - 2 - span);
      END IF;
      am := c.h0 + j * interval '1 minute';
      bm := am + span * interval '1 minute';
      ao := 0; bo := 0;
      IF i > 36 THEN   -- microsecond offsets inside the first and last minute
        ao := (ARRAY[1, 59999999, pg_temp.pc_rint(1, 59999999)])[pg_temp.pc_rint(1, 3)];
        bo := (ARRAY[1, 59999999, pg_temp.pc_rint(1, 59999999)])[pg_temp.pc_rint(1, 3)];
        IF am = bm AND bo < ao THEN x := ao; ao := bo; bo := x; END IF;
      END IF;
      INSERT INTO pc_diff (cal_id, am, ao, bm, bo, a, b)
      VALUES (c.cal_id, am, ao, bm, bo, am + ao * interval '1 microsecond', bm + bo * interval '1 microsecond');
    END LOOP;
    -- membership probes at random minutes (edges are added below, in SQL)
    FOR i IN 1..60 LOOP
      am := c.h0 + pg_temp.pc_rint(0, nmin - 1) * interval '1 minute';
      ao := CASE WHEN i % 4 = 0 THEN pg_temp.pc_rint(1, 59999999) WHEN i % 4 = 1 THEN 59999999 ELSE 0 END;
      INSERT INTO pc_probe (cal_id, m, off, t, kind) VALUES (c.cal_id, am, ao, am + ao * interval '1 microsecond', 'random');
    END LOOP;
    -- next_business_time
    FOR i IN 1..30 LOOP
      am := c.h0 + pg_temp.pc_rint(0, nmin - 1) * interval '1 minute';
      ao := CASE WHEN i % 3 = 0 THEN pg_temp.pc_rint(1, 59999999) ELSE 0 END;
      INSERT INTO pc_next (cal_id, m, off, t) VALUES (c.cal_id, am, ao, am + ao * interval '1 microsecond');
    END LOOP;
    -- business_add: a on a whole minute, d = k minutes (+ frac microseconds)
    FOR i IN 1..45 LOOP
      j := CASE WHEN random() < 0.5 THEN greatest(0, dmin - pg_temp.pc_rint(0, 2 * 1440))
                ELSE pg_temp.pc_rint(0, nmin - 1) END;
      am := c.h0 + j * interval '1 minute';
      SELECT c.total - (p.cum - p.member::int) INTO rem FROM pc_min p WHERE p.cal_id = c.cal_id AND p.m = am;
      x := pg_temp.pc_rint(1, 10);
      k := CASE WHEN x = 1 THEN 0 WHEN x <= 3 THEN pg_temp.pc_rint(1, 120)
                ELSE pg_temp.pc_rint(1, 5760) END;
      frac := CASE WHEN random() < 0.25 THEN (ARRAY[1, 59999999, pg_temp.pc_rint(1, 59999999)])[pg_temp.pc_rint(1, 3)]
                   ELSE 0 END;
      -- stay inside the horizon's business time so that the reference is known
      k := least(k, greatest(rem - CASE WHEN frac > 0 THEN 1 ELSE 0 END, 0));
      IF rem = 0 THEN frac := 0; END IF;
      INSERT INTO pc_add (cal_id, a, k, frac, d)
      VALUES (c.cal_id, am, k, frac, k * interval '1 minute' + frac * interval '1 microsecond');
    END LOOP;
    -- monotonicity and identity over long amounts (no reference needed)
    FOR i IN 1..3 LOOP
      t0 := c.h0 + pg_temp.pc_rint(0, nmin - 1) * interval '1 minute'
                 + (CASE WHEN i = 3 THEN pg_temp.pc_rint(1, 59999999) ELSE 0 END) * interval '1 microsecond';
      FOR j IN 1..30 LOOP
        x := pg_temp.pc_rint(1, 10);
        INSERT INTO pc_mono (cal_id, grp, a, d) VALUES (c.cal_id, c.cal_id * 10 + i, t0,
          CASE WHEN x <= 4 THEN pg_temp.pc_rint(0, 2000 * 60) * interval '1 minute'
               WHEN x <= 6 THEN pg_temp.pc_rint(0, 600) * interval '1 minute'
               WHEN x <= 8 THEN pg_temp.pc_rint(0, 2000 * 60) * interval '1 minute'
                                + pg_temp.pc_rint(0, 59999999) * interval '1 microsecond'
               ELSE pg_temp.pc_rint(0, 3600) * interval '1 second' END);
      END LOOP;
      -- neighbours: d and d + 1 microsecond, and a repeated d
      INSERT INTO pc_mono (cal_id, grp, a, d)
      SELECT cal_id, grp, a, d + interval '1 microsecond' FROM pc_mono WHERE grp = c.cal_id * 10 + i ORDER BY id LIMIT 3;
      INSERT INTO pc_mono (cal_id, grp, a, d)
      SELECT cal_id, grp, a, d FROM pc_mono WHERE grp = c.cal_id * 10 + i ORDER BY id LIMIT 1;
    END LOOP;
  END LOOP;
END $cases$;

-- probes at every membership edge and DST jump inside the horizons: the
-- minute itself and the last microsecond before it
INSERT INTO pc_probe (cal_id, m, off, t, kind)
SELECT p.cal_id, q.m, q.off, q.m + q.off * interval '1 microsecond', 'edge'
FROM pc_min p
CROSS JOIN LATERAL (VALUES (p.m, 0::bigint), (p.m - interval '1 minute', 59999999::bigint)) q(m, off)
WHERE (p.edge OR p.jump) AND q.m >= (SELECT h0 FROM pc_cal c WHERE c.cal_id = p.cal_id);

-- reference answers
UPDATE pc_diff c SET ref_us =
    (pb.cum - pb.member::int - (pa.cum - pa.member::int))::bigint * 60000000
  - CASE WHEN pa.member THEN c.ao ELSE 0 END
  + CASE WHEN pb.member THEN c.bo ELSE 0 END
FROM pc_min pa, pc_min pb
WHERE pa.cal_id = c.cal_id AND pa.m = c.am AND pb.cal_id = c.cal_id AND pb.m = c.bm;

UPDATE pc_probe c SET ref = p.member FROM pc_min p WHERE p.cal_id = c.cal_id AND p.m = c.m;

UPDATE pc_next c SET ref = CASE WHEN c.off > 0 AND p.member THEN c.t ELSE
   (SELECT q.m FROM pc_min q WHERE q.cal_id = c.cal_id AND q.member
       AND q.m >= c.m + CASE WHEN c.off > 0 THEN interval '1 minute' ELSE interval '0' END
     ORDER BY q.m LIMIT 1) END
FROM pc_min p WHERE p.cal_id = c.cal_id AND p.m = c.m;

-- the n-th member minute at or after a, n = k (+1 when frac > 0)
UPDATE pc_add c SET ref = CASE
    WHEN c.k = 0 AND c.frac = 0 THEN c.a
    WHEN c.frac = 0 THEN (SELECT q.m + interval '1 minute' FROM pc_min q WHERE q.cal_id = c.cal_id AND q.member
                           AND q.cum = p.cum - p.member::int + c.k)
    ELSE (SELECT q.m + c.frac * interval '1 microsecond' FROM pc_min q WHERE q.cal_id = c.cal_id AND q.member
           AND q.cum = p.cum - p.member::int + c.k + 1) END
FROM pc_min p WHERE p.cal_id = c.cal_id AND p.m = c.a;

ANALYZE pc_diff; ANALYZE pc_probe; ANALYZE pc_next; ANALYZE pc_add; ANALYZE pc_mono;

------------------------------------------------------------------------------
-- 4. run the C functions
------------------------------------------------------------------------------
SELECT pg_temp.pc_eval('r_diff', 'pc_diff', $q$
  SELECT c.id, aftersales.business_minutes(k.cal, c.a, c.b) AS gmin,
         aftersales.business_diff(k.cal, c.a, c.b) AS gdiff,
         aftersales.business_minutes(k.cal, c.b, c.a) AS nmin,
         aftersales.business_diff(k.cal, c.b, c.a) AS ndiff
  FROM pc_diff c JOIN pc_cal k USING (cal_id) WHERE k.cal IS NOT NULL AND %s $q$);
SELECT pg_temp.pc_eval('r_probe', 'pc_probe', $q$
  SELECT c.id, aftersales.is_business_time(k.cal, c.t) AS got
  FROM pc_probe c JOIN pc_cal k USING (cal_id) WHERE k.cal IS NOT NULL AND %s $q$);
SELECT pg_temp.pc_eval('r_next', 'pc_next', $q$
  SELECT c.id, aftersales.next_business_time(k.cal, c.t) AS got
  FROM pc_next c JOIN pc_cal k USING (cal_id) WHERE k.cal IS NOT NULL AND %s $q$);
SELECT pg_temp.pc_eval('r_add', 'pc_add', $q$
  SELECT c.id, s.got, aftersales.business_diff(k.cal, c.a, s.got) AS back,
         aftersales.is_business_time(k.cal, s.got - interval '1 microsecond') AS before_biz
  FROM pc_add c JOIN pc_cal k USING (cal_id)
  CROSS JOIN LATERAL (SELECT aftersales.business_add(k.cal, c.a, c.d) AS got) s
  WHERE k.cal IS NOT NULL AND %s $q$);
SELECT pg_temp.pc_eval('r_mono', 'pc_mono', $q$
  SELECT c.id, s.got, aftersales.business_diff(k.cal, c.a, s.got) AS back
  FROM pc_mono c JOIN pc_cal k USING (cal_id)
  CROSS JOIN LATERAL (SELECT aftersales.business_add(k.cal, c.a, c.d) AS got) s
  WHERE k.cal IS NOT NULL AND %s $q$);

------------------------------------------------------------------------------
-- 5. assertions
------------------------------------------------------------------------------
-- 1
SELECT ok((SELECT count(*) FROM pc_cal WHERE cal IS NULL) = 0 AND (SELECT count(*) FROM pc_cal) >= 70,
          format('all %s generated calendar literals parse', (SELECT count(*) FROM pc_cal)));
SELECT diag(format('cal %s: %s   <- %s', cal_id, perr, lit)) FROM pc_cal WHERE cal IS NULL ORDER BY cal_id LIMIT 5;

-- 2
CREATE TEMP TABLE r_text AS
SELECT cal_id, cal::text AS t1, NULL::text AS t2, NULL::text AS err FROM pc_cal WHERE cal IS NOT NULL;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM r_text LOOP
    BEGIN
      UPDATE r_text SET t2 = r.t1::aftersales.calendar::text WHERE cal_id = r.cal_id;
    EXCEPTION WHEN others THEN
      UPDATE r_text SET err = SQLSTATE || ': ' || SQLERRM WHERE cal_id = r.cal_id;
    END;
  END LOOP;
END $$;
SELECT ok((SELECT count(*) FROM r_text) >= 70
          AND NOT EXISTS (SELECT 1 FROM r_text WHERE t2 IS DISTINCT FROM t1),
          'generated calendars: cal::text::calendar::text = cal::text');
SELECT diag(format('cal %s: %s -> %s %s', cal_id, t1, t2, err)) FROM r_text
 WHERE t2 IS DISTINCT FROM t1 ORDER BY cal_id LIMIT 5;

-- 2b: binary round trip (COPY FORMAT binary through a server-side file, one
-- calendar at a time): same text, same send bytes
CREATE TEMP TABLE r_bin (cal_id int, cal aftersales.calendar);
CREATE TEMP TABLE r_binerr (cal_id int, err text);
DO $$
DECLARE f text := pg_catalog.current_setting('data_directory') || '/aftersales_calendar_property_' || pg_backend_pid() || '.bin'; r record;
BEGIN
  FOR r IN SELECT cal_id FROM pc_cal WHERE cal IS NOT NULL ORDER BY cal_id LOOP
    BEGIN
      EXECUTE format('COPY (SELECT cal_id, cal FROM pc_cal WHERE cal_id = %s) TO %L WITH (FORMAT binary)', r.cal_id, f);
      EXECUTE format('COPY r_bin FROM %L WITH (FORMAT binary)', f);
    EXCEPTION WHEN others THEN
      INSERT INTO r_binerr VALUES (r.cal_id, SQLSTATE || ': ' || SQLERRM);
    END;
  END LOOP;
  EXECUTE format('COPY (SELECT 1 WHERE false) TO %L', f);   -- leave the file empty
END $$;
SELECT ok((SELECT count(*) FROM pc_cal p JOIN r_bin b USING (cal_id)
           WHERE b.cal::text = p.cal::text AND aftersales_internal.calendar_send(b.cal) = aftersales_internal.calendar_send(p.cal))
          = (SELECT count(*) FROM pc_cal WHERE cal IS NOT NULL) AND (SELECT count(*) FROM r_bin) >= 70,
          'generated calendars: binary round trip (COPY FORMAT binary) gives the same text and send bytes');
SELECT diag(format('cal %s: %s  <- %s', e.cal_id, e.err, p.cal)) FROM r_binerr e JOIN pc_cal p USING (cal_id)
 ORDER BY e.cal_id LIMIT 5;

-- 3: the canonical text means the same calendar (diff cases re-run on it)
CREATE TEMP TABLE r_canon AS
SELECT c.id, c.cal_id, c.ref_us,
       aftersales.business_diff(r.t2::aftersales.calendar, c.a, c.b) AS got
FROM pc_diff c JOIN r_text r USING (cal_id)
WHERE r.t2 IS NOT NULL AND c.id % 4 = 0;
SELECT ok((SELECT count(*) FROM r_canon) >= 500
          AND NOT EXISTS (SELECT 1 FROM r_canon WHERE extract(epoch FROM got) * 1000000 IS DISTINCT FROM ref_us),
          format('canonical text output keeps the semantics (%s diffs on reparsed cal::text)',
                 (SELECT count(*) FROM r_canon)));
SELECT diag(format('cal %s case %s: expected %s us, got %s', cal_id, id, ref_us, got))
  FROM r_canon WHERE extract(epoch FROM got) * 1000000 IS DISTINCT FROM ref_us ORDER BY id LIMIT 5;

-- 4: reference self-check, the literal minute walk with an independent predicate
CREATE TEMP TABLE r_self AS
WITH pick AS (
  SELECT c.*, row_number() OVER (PARTITION BY c.cal_id ORDER BY c.id) AS rn
  FROM pc_diff c WHERE c.ao = 0 AND c.bo = 0 AND c.b - c.a <= interval '12 hours')
SELECT c.id, c.cal_id, c.ref_us / 60000000 AS ref,
       (SELECT count(*) FROM generate_series(c.a, c.b - interval '1 minute', interval '1 minute') m
        CROSS JOIN LATERAL (SELECT m AT TIME ZONE k.zone AS lt) l
        WHERE pg_temp.pc_member(c.cal_id, l.lt::date,
                                (date_part('hour', l.lt) * 60 + date_part('minute', l.lt))::int)) AS walk
FROM pick c JOIN pc_cal k USING (cal_id)
WHERE c.rn <= 3;
SELECT ok((SELECT count(*) FROM r_self) >= 200
          AND NOT EXISTS (SELECT 1 FROM r_self WHERE walk IS DISTINCT FROM ref),
          format('reference self-check: literal minute walk = running count (%s cases)',
                 (SELECT count(*) FROM r_self)));
SELECT diag(format('cal %s case %s: walk %s, running count %s', cal_id, id, walk, ref))
  FROM r_self WHERE walk IS DISTINCT FROM ref ORDER BY id LIMIT 5;

-- a listing of the first mismatches of a result table
CREATE FUNCTION pg_temp.pc_show(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN EXECUTE q LOOP
    RETURN NEXT diag(r.line);
  END LOOP;
END $$;

-- 5
SELECT ok((SELECT count(*) FROM r_diff WHERE err IS NULL) >= 2500
          AND NOT EXISTS (SELECT 1 FROM r_diff r JOIN pc_diff c USING (id) WHERE c.ao = 0 AND c.bo = 0
                          AND (r.err IS NOT NULL OR r.gmin IS DISTINCT FROM (c.ref_us / 60000000)::numeric)),
          format('business_minutes(a, b) = brute force (%s whole-minute cases)',
                 (SELECT count(*) FROM pc_diff WHERE ao = 0 AND bo = 0)));
SELECT pg_temp.pc_show($q$
  SELECT format('case %s: expected %s got %s %s | business_minutes(cal, %L, %L) | cal = %L', c.id,
                c.ref_us / 60000000, r.gmin, r.err, c.a, c.b, k.lit) AS line
  FROM r_diff r JOIN pc_diff c USING (id) JOIN pc_cal k USING (cal_id)
  WHERE c.ao = 0 AND c.bo = 0 AND (r.err IS NOT NULL OR r.gmin IS DISTINCT FROM (c.ref_us / 60000000)::numeric)
  ORDER BY c.b - c.a, c.id LIMIT 5 $q$);

-- 6
SELECT ok((SELECT count(*) FROM r_diff WHERE err IS NULL) >= 2500
          AND NOT EXISTS (SELECT 1 FROM r_diff r JOIN pc_diff c USING (id) WHERE c.ao = 0 AND c.bo = 0
                          AND (r.err IS NOT NULL OR NOT pg_temp.pc_hms(r.gdiff)
                               OR extract(epoch FROM r.gdiff) * 1000000 <> c.ref_us)),
          'business_diff(a, b) = brute force, hours/minutes/seconds fields only');
SELECT pg_temp.pc_show($q$
  SELECT format('case %s: expected %s got %s %s | business_diff(cal, %L, %L) | cal = %L', c.id,
                c.ref_us * interval '1 microsecond', r.gdiff, r.err, c.a, c.b, k.lit) AS line
  FROM r_diff r JOIN pc_diff c USING (id) JOIN pc_cal k USING (cal_id)
  WHERE c.ao = 0 AND c.bo = 0 AND (r.err IS NOT NULL OR NOT pg_temp.pc_hms(r.gdiff)
                                   OR extract(epoch FROM r.gdiff) * 1000000 <> c.ref_us)
  ORDER BY c.b - c.a, c.id LIMIT 5 $q$);

-- 7
SELECT ok((SELECT count(*) FROM r_diff r JOIN pc_diff c USING (id) WHERE c.ao + c.bo > 0 AND r.err IS NULL) >= 400
          AND NOT EXISTS (SELECT 1 FROM r_diff r JOIN pc_diff c USING (id) WHERE c.ao + c.bo > 0
                          AND (r.err IS NOT NULL OR NOT pg_temp.pc_hms(r.gdiff)
                               OR extract(epoch FROM r.gdiff) * 1000000 <> c.ref_us
                               OR abs(r.gmin * 60000000 - c.ref_us) >= 1)),
          format('microsecond-offset a and b: diff exact to the microsecond, minutes within 1 us (%s cases)',
                 (SELECT count(*) FROM pc_diff WHERE ao + bo > 0)));
SELECT pg_temp.pc_show($q$
  SELECT format('case %s: expected %s got %s / minutes %s %s | business_diff(cal, %L, %L) | cal = %L', c.id,
                c.ref_us * interval '1 microsecond', r.gdiff, r.gmin, r.err, c.a, c.b, k.lit) AS line
  FROM r_diff r JOIN pc_diff c USING (id) JOIN pc_cal k USING (cal_id)
  WHERE c.ao + c.bo > 0 AND (r.err IS NOT NULL OR NOT pg_temp.pc_hms(r.gdiff)
                             OR extract(epoch FROM r.gdiff) * 1000000 <> c.ref_us
                             OR abs(r.gmin * 60000000 - c.ref_us) >= 1)
  ORDER BY c.b - c.a, c.id LIMIT 5 $q$);

-- 8
SELECT ok((SELECT count(*) FROM r_diff WHERE err IS NULL AND gdiff > interval '0') >= 1500
          AND NOT EXISTS (SELECT 1 FROM r_diff r JOIN pc_diff c USING (id)
                          WHERE r.err IS NOT NULL OR NOT pg_temp.pc_hms(r.ndiff)
                             OR extract(epoch FROM r.ndiff) * 1000000 <> -c.ref_us
                             OR abs(r.nmin * 60000000 + c.ref_us) >= 1),
          'b < a: business_diff(b, a) = -diff(a, b) and business_minutes likewise');
SELECT pg_temp.pc_show($q$
  SELECT format('case %s: expected %s got %s / minutes %s %s | business_diff(cal, %L, %L) | cal = %L', c.id,
                -c.ref_us * interval '1 microsecond', r.ndiff, r.nmin, r.err, c.b, c.a, k.lit) AS line
  FROM r_diff r JOIN pc_diff c USING (id) JOIN pc_cal k USING (cal_id)
  WHERE r.err IS NOT NULL OR NOT pg_temp.pc_hms(r.ndiff)
     OR extract(epoch FROM r.ndiff) * 1000000 <> -c.ref_us OR abs(r.nmin * 60000000 + c.ref_us) >= 1
  ORDER BY c.b - c.a, c.id LIMIT 5 $q$);

-- 9
SELECT ok((SELECT count(*) FROM r_probe r JOIN pc_probe c USING (id) WHERE c.kind = 'random' AND r.err IS NULL) >= 4000
          AND (SELECT count(DISTINCT ref) FROM pc_probe WHERE kind = 'random') = 2
          AND NOT EXISTS (SELECT 1 FROM r_probe r JOIN pc_probe c USING (id)
                          WHERE c.kind = 'random' AND (r.err IS NOT NULL OR r.got IS DISTINCT FROM c.ref)),
          format('is_business_time = brute force at %s random instants',
                 (SELECT count(*) FROM pc_probe WHERE kind = 'random')));
SELECT pg_temp.pc_show($q$
  SELECT format('probe %s: expected %s got %s %s | is_business_time(cal, %L) (local %s) | cal = %L', c.id, c.ref,
                r.got, r.err, c.t, c.t AT TIME ZONE k.zone, k.lit) AS line
  FROM r_probe r JOIN pc_probe c USING (id) JOIN pc_cal k USING (cal_id)
  WHERE c.kind = 'random' AND (r.err IS NOT NULL OR r.got IS DISTINCT FROM c.ref) ORDER BY c.id LIMIT 5 $q$);

-- 10
SELECT ok((SELECT count(*) FROM r_probe r JOIN pc_probe c USING (id) WHERE c.kind = 'edge' AND r.err IS NULL) >= 4000
          AND NOT EXISTS (SELECT 1 FROM r_probe r JOIN pc_probe c USING (id)
                          WHERE c.kind = 'edge' AND (r.err IS NOT NULL OR r.got IS DISTINCT FROM c.ref)),
          format('is_business_time = brute force at every window edge and DST jump, and 1 us before (%s probes)',
                 (SELECT count(*) FROM pc_probe WHERE kind = 'edge')));
SELECT pg_temp.pc_show($q$
  SELECT format('probe %s: expected %s got %s %s | is_business_time(cal, %L) (local %s) | cal = %L', c.id, c.ref,
                r.got, r.err, c.t, c.t AT TIME ZONE k.zone, k.lit) AS line
  FROM r_probe r JOIN pc_probe c USING (id) JOIN pc_cal k USING (cal_id)
  WHERE c.kind = 'edge' AND (r.err IS NOT NULL OR r.got IS DISTINCT FROM c.ref) ORDER BY c.id LIMIT 5 $q$);

-- 11: reference known -> equal; no business time left in the horizon -> got >= h1
SELECT ok((SELECT count(*) FROM r_next WHERE err IS NULL) >= 1800
          AND NOT EXISTS (SELECT 1 FROM r_next r JOIN pc_next c USING (id) JOIN pc_cal k USING (cal_id)
                          WHERE r.err IS NOT NULL
                             OR (c.ref IS NOT NULL AND r.got IS DISTINCT FROM c.ref)
                             OR (c.ref IS NULL AND NOT coalesce(r.got >= k.h1, false))),
          format('next_business_time = brute force (%s cases)', (SELECT count(*) FROM pc_next)));
SELECT pg_temp.pc_show($q$
  SELECT format('case %s: expected %s got %s %s | next_business_time(cal, %L) | cal = %L', c.id,
                coalesce(c.ref::text, '>= ' || k.h1), r.got, r.err, c.t, k.lit) AS line
  FROM r_next r JOIN pc_next c USING (id) JOIN pc_cal k USING (cal_id)
  WHERE r.err IS NOT NULL OR (c.ref IS NOT NULL AND r.got IS DISTINCT FROM c.ref)
     OR (c.ref IS NULL AND NOT coalesce(r.got >= k.h1, false))
  ORDER BY c.id LIMIT 5 $q$);

-- 12
SELECT ok((SELECT count(*) FROM r_add r JOIN pc_add c USING (id) WHERE r.err IS NULL AND c.ref IS NOT NULL) >= 2500
          AND NOT EXISTS (SELECT 1 FROM r_add r JOIN pc_add c USING (id)
                          WHERE r.err IS NOT NULL OR r.got IS DISTINCT FROM c.ref),
          format('business_add(a, d) = brute force: the minimal e with business time [a, e) = d (%s cases)',
                 (SELECT count(*) FROM pc_add)));
SELECT pg_temp.pc_show($q$
  SELECT format('case %s: expected %s got %s %s | business_add(cal, %L, %L) | cal = %L', c.id,
                c.ref, r.got, r.err, c.a, c.d, k.lit) AS line
  FROM r_add r JOIN pc_add c USING (id) JOIN pc_cal k USING (cal_id)
  WHERE r.err IS NOT NULL OR r.got IS DISTINCT FROM c.ref ORDER BY c.d, c.id LIMIT 5 $q$);

-- 13
SELECT ok((SELECT count(*) FROM r_add WHERE err IS NULL) + (SELECT count(*) FROM r_mono WHERE err IS NULL) >= 8000
          AND NOT EXISTS (SELECT 1 FROM r_add r JOIN pc_add c USING (id)
                          WHERE r.err IS NOT NULL OR NOT pg_temp.pc_hms(r.back) OR r.back <> c.d)
          AND NOT EXISTS (SELECT 1 FROM r_mono r JOIN pc_mono c USING (id)
                          WHERE r.err IS NOT NULL OR NOT pg_temp.pc_hms(r.back) OR r.back <> c.d),
          'identity business_diff(a, business_add(a, d)) = d (amounts up to 2000 h)');
SELECT pg_temp.pc_show($q$
  SELECT format('%s: business_add(cal, %L, %L) = %s, diff back %s %s | cal = %L', x.src, x.a, x.d, x.got, x.back, x.err, k.lit) AS line
  FROM (SELECT 'add ' || c.id AS src, c.cal_id, c.a, c.d, r.got, r.back, r.err
          FROM r_add r JOIN pc_add c USING (id)
        UNION ALL
        SELECT 'mono ' || c.id, c.cal_id, c.a, c.d, r.got, r.back, r.err
          FROM r_mono r JOIN pc_mono c USING (id)) x JOIN pc_cal k USING (cal_id)
  WHERE x.err IS NOT NULL OR NOT pg_temp.pc_hms(x.back) OR x.back <> x.d ORDER BY x.d LIMIT 5 $q$);

-- 14: minimality without the reference: just before e it is business time
SELECT ok((SELECT count(*) FROM r_add r JOIN pc_add c USING (id) WHERE c.d > interval '0' AND r.err IS NULL) >= 2000
          AND NOT EXISTS (SELECT 1 FROM r_add r JOIN pc_add c USING (id)
                          WHERE c.d > interval '0' AND (r.err IS NOT NULL OR r.before_biz IS NOT TRUE))
          AND NOT EXISTS (SELECT 1 FROM r_add r JOIN pc_add c USING (id)
                          WHERE c.d = interval '0' AND r.got IS DISTINCT FROM c.a),
          'business_add: e - 1 us is business time when d > 0; d = 0 gives a');
SELECT pg_temp.pc_show($q$
  SELECT format('case %s: business_add(cal, %L, %L) = %s, is_business_time(e - 1us) = %s | cal = %L', c.id, c.a, c.d,
                r.got, r.before_biz, k.lit) AS line
  FROM r_add r JOIN pc_add c USING (id) JOIN pc_cal k USING (cal_id)
  WHERE (c.d > interval '0' AND r.before_biz IS NOT TRUE) OR (c.d = interval '0' AND r.got IS DISTINCT FROM c.a)
  ORDER BY c.id LIMIT 5 $q$);

-- 15
CREATE TEMP TABLE r_mono_pairs AS
SELECT c.grp, c.cal_id, c.a, lag(c.d) OVER w AS d0, c.d AS d1, lag(r.got) OVER w AS e0, r.got AS e1
FROM pc_mono c JOIN r_mono r USING (id)
WINDOW w AS (PARTITION BY c.grp ORDER BY c.d, c.id);
SELECT ok((SELECT count(*) FROM r_mono_pairs WHERE d0 IS NOT NULL AND e0 IS NOT NULL AND e1 IS NOT NULL) >= 5000
          AND (SELECT count(*) FROM r_mono_pairs WHERE d0 = d1) >= 100
          AND NOT EXISTS (SELECT 1 FROM r_mono_pairs WHERE d0 IS NOT NULL
                          AND (e0 IS NULL OR e1 IS NULL OR (d0 < d1 AND NOT e0 < e1) OR (d0 = d1 AND e0 <> e1)))
          AND NOT EXISTS (SELECT 1 FROM r_mono r JOIN pc_mono c USING (id) WHERE NOT r.got >= c.a),
          format('business_add strictly increasing in d, equal for equal d, never before a (%s pairs)',
                 (SELECT count(*) FROM r_mono_pairs WHERE d0 IS NOT NULL)));
SELECT pg_temp.pc_show($q$
  SELECT format('business_add(cal, %L, d): d=%s -> %s but d=%s -> %s | cal = %L', p.a, p.d0, p.e0, p.d1, p.e1, k.lit) AS line
  FROM r_mono_pairs p JOIN pc_cal k USING (cal_id)
  WHERE p.d0 IS NOT NULL AND (p.e0 IS NULL OR p.e1 IS NULL OR (p.d0 < p.d1 AND NOT p.e0 < p.e1)
                              OR (p.d0 = p.d1 AND p.e0 <> p.e1))
  ORDER BY p.grp LIMIT 5 $q$);

-- 16-19: the random cases really exercise what they are meant to
-- dates on which the reference differs from "ignore the special rule"
CREATE TEMP TABLE pc_feature AS
SELECT dd.cal_id, dd.d, f.kind
FROM pc_day dd JOIN pc_day dp ON dp.cal_id = dd.cal_id AND dp.d = dd.d - 1
CROSS JOIN LATERAL (
  -- a tail running into a holiday (it still counts)
  SELECT 'tail into holiday' AS kind WHERE dd.hol AND NOT dp.hol
     AND EXISTS (SELECT 1 FROM pg_temp.pc_own(dd.cal_id, dd.d - 1) w WHERE w.en < w.st)
  UNION ALL
  -- the tail of a holiday (it does not count)
  SELECT 'tail of a holiday' WHERE dp.hol
     AND EXISTS (SELECT 1 FROM pg_temp.pc_own(dd.cal_id, dd.d - 1) w WHERE w.en < w.st)
  UNION ALL
  SELECT 'closure over business time' WHERE EXISTS (
     SELECT 1 FROM pc_closed k WHERE k.cal_id = dd.cal_id AND k.d = dd.d AND NOT dd.hol
        AND EXISTS (SELECT 1 FROM pg_temp.pc_own(dd.cal_id, dd.d) w
                     WHERE int4range(k.st, k.en) && int4range(w.st, CASE WHEN w.en > w.st THEN w.en ELSE 1440 END)))
  UNION ALL
  SELECT 'make-up day' WHERE NOT dd.hol AND EXISTS (SELECT 1 FROM pc_work k WHERE k.cal_id = dd.cal_id AND k.d = dd.d)
) f;

SELECT ok(n >= 150, format('coverage: %s diff cases span a DST jump next to business time', n))
FROM (SELECT count(*) AS n FROM pc_diff c WHERE EXISTS (
        SELECT 1 FROM pc_min p WHERE p.cal_id = c.cal_id AND p.jump AND p.m > c.a AND p.m < c.b
           AND (p.member OR EXISTS (SELECT 1 FROM pc_min q WHERE q.cal_id = p.cal_id
                                     AND q.m = p.m - interval '1 minute' AND q.member)))) s;
SELECT ok(min(n) >= 40, 'coverage: diff cases per special day kind: '
          || string_agg(kind || ' ' || n, ', ' ORDER BY kind))
FROM (SELECT f.kind, count(DISTINCT c.id) AS n
      FROM (VALUES ('tail into holiday'), ('tail of a holiday'), ('closure over business time'), ('make-up day')) v(kind)
      LEFT JOIN pc_feature f USING (kind)
      LEFT JOIN pc_cal k ON k.cal_id = f.cal_id
      LEFT JOIN pc_diff c ON c.cal_id = f.cal_id
        AND c.a < (f.d + 1)::timestamp AT TIME ZONE k.zone AND c.b > f.d::timestamp AT TIME ZONE k.zone
      GROUP BY f.kind) s;
SELECT ok(n >= 30, format('coverage: %s add cases whose result lies past a DST jump', n))
FROM (SELECT count(*) AS n FROM pc_add c JOIN pc_min p ON p.cal_id = c.cal_id AND p.jump
      WHERE p.m > c.a AND p.m < c.ref) s;
SELECT ok(n >= 20, format('coverage: %s probes and diff cases in the Sao Paulo midnight DST switches', n))
FROM (SELECT count(*) AS n FROM pc_diff c JOIN pc_cal k USING (cal_id) JOIN pc_min p ON p.cal_id = c.cal_id
      WHERE k.zone = 'America/Sao_Paulo' AND p.jump AND p.m > c.a AND p.m < c.b) s;

SELECT * FROM finish();
ROLLBACK;
