
-- aftersales install script, part 70: sample data.
--
-- generate_sample_data() builds a whole company as a new tenant and drives a
-- year of its tickets through the real API (open_tickets, assign_ticket,
-- start_work, arrive_on_site, hold_ticket, fail_attempt, resolve_ticket,
-- follow_up, reopen_ticket, take_over_ticket, cancel_ticket, ...), each
-- event at its own `at`, so that the event log, the counters, the SLA
-- clocks and the escalation watches are the ones real use would leave.
--
-- Deterministic: every choice is a pure function of (seed, item, salt)
-- through pg_catalog.hashint8extended, never random(), so the same seed
-- gives the same data whatever ran before and in whatever order rows are
-- produced.  Surrogate ids (identities shared by all tenants) differ
-- between databases; sample_data_checksum() therefore names rows by their
-- natural keys (serials, codes, logins, names) or by their rank within the
-- tenant, never by id.  The hash is PostgreSQL's own and the same on every
-- little-endian platform (the CI's); a big-endian server would draw
-- different, equally valid, data.
--
-- What it builds (n = tickets):
--   organisations  HQ, the six regions, 31 provinces (代表处), and 2 to 6
--                  outlets per province: a service station (代表处), dealers
--                  (经销商) and, in the larger provinces, a supplier (供应商);
--   engineers      about n / 400 (at least 60), by outlet, with skills and a
--                  capacity of 6 to 12;
--   customers      about n / 10 (at least 400), weighted towards the big
--                  provinces (广东, 江苏, 浙江, 山东, 河南, 四川 ...); 5% key
--                  customers with a 24x7 service agreement, 15% major;
--   products       3 lines, 10 models with 12 to 36 months of warranty; two
--                  models fail far more than the rest and one, launched the
--                  year before, fails early (a quality problem);
--   units          about n / 3 (at least 1000), installed from four years
--                  before the year to its end;
--   calendars      '24x7' and 'cn-office' (office hours with a lunch break,
--                  China's public holidays and make-up days: see
--                  sample_calendar());
--   SLA policies   'standard' (the tenant default, on cn-office) and
--                  'key-account' (on 24x7), both with the default targets
--                  copied from tenant 1's shipped 'default' policy.
-- The tickets and their life cycles are described at generate_sample_data.

-- China's working calendar of a year: Mon-Fri 09:00-12:00,13:00-18:00 in
-- Asia/Shanghai, with the public holidays and make-up working days (调休)
-- of the State Council's notice for that year.  The years whose notice is
-- published are shipped; any other year is refused (its holidays follow
-- the lunar calendar and a yearly decision, so they cannot be made up).
CREATE FUNCTION aftersales.sample_calendar(year integer DEFAULT 2026) RETURNS aftersales.calendar
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    week constant text := 'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00';
    w constant text := ' 09:00-12:00,13:00-18:00';
BEGIN
    IF year = 2025 THEN
        RETURN (week || ';
   holiday 2025-01-01,2025-01-28..2025-02-04,2025-04-04..2025-04-06,2025-05-01..2025-05-05,
           2025-05-31..2025-06-02,2025-10-01..2025-10-08;
   workday 2025-01-26' || w || '; workday 2025-02-08' || w || '; workday 2025-04-27' || w || ';
   workday 2025-09-28' || w || '; workday 2025-10-11' || w)::aftersales.calendar;
    END IF;
    IF year = 2026 THEN
        RETURN (week || ';
   holiday 2026-01-01..2026-01-03,2026-02-15..2026-02-23,2026-04-04..2026-04-06,
           2026-05-01..2026-05-05,2026-06-19..2026-06-21,2026-09-25..2026-09-27,
           2026-10-01..2026-10-07;
   workday 2026-01-04' || w || '; workday 2026-02-14' || w || ';
   workday 2026-02-28' || w || '; workday 2026-05-09' || w || ';
   workday 2026-09-20' || w || '; workday 2026-10-10' || w)::aftersales.calendar;
    END IF;
    RAISE EXCEPTION 'invalid sample year: %', COALESCE(year::text, 'NULL')
        USING ERRCODE = '22023',
              DETAIL = 'China''s official holiday schedule is shipped for 2025 and 2026 only.',
              HINT = 'Use 2025 or 2026, for example: SELECT aftersales.sample_calendar(2026); '
                     'for another year, build the clauses from a holiday feed with aftersales.calendar_clauses_from_ics().';
END
$$;
COMMENT ON FUNCTION aftersales.sample_calendar(integer) IS
  'China office hours (Mon-Fri 09:00-12:00, 13:00-18:00, Asia/Shanghai) with the public holidays and make-up working days of the State Council''s schedule for 2025 or 2026; other years are refused';

-- ---------------------------------------------------------------------------
-- What was generated

CREATE TABLE aftersales.sample_data_runs (
    tenant_id    bigint      PRIMARY KEY REFERENCES aftersales.tenants,
    tenant_name  text        NOT NULL,
    seed         integer     NOT NULL,
    tickets      integer     NOT NULL,
    year         integer     NOT NULL,
    events       bigint      NOT NULL,
    started_at   timestamptz NOT NULL,
    seconds      numeric     NOT NULL,
    checksum     text        NOT NULL
);
COMMENT ON TABLE aftersales.sample_data_runs IS
  'Tenants built by aftersales.generate_sample_data(): with which arguments, how long it took and the checksum of what it built';
COMMENT ON COLUMN aftersales.sample_data_runs.tenant_id IS 'The tenant built';
COMMENT ON COLUMN aftersales.sample_data_runs.tenant_name IS 'Its name';
COMMENT ON COLUMN aftersales.sample_data_runs.seed IS 'Seed of the pseudo-random choices';
COMMENT ON COLUMN aftersales.sample_data_runs.tickets IS 'Tickets entered';
COMMENT ON COLUMN aftersales.sample_data_runs.year IS 'Year the tickets were entered in';
COMMENT ON COLUMN aftersales.sample_data_runs.events IS 'Events recorded in the tickets'' event log';
COMMENT ON COLUMN aftersales.sample_data_runs.started_at IS 'When the generation started (wall clock)';
COMMENT ON COLUMN aftersales.sample_data_runs.seconds IS 'How long the generation took, in seconds';
COMMENT ON COLUMN aftersales.sample_data_runs.checksum IS 'aftersales.sample_data_checksum() right after generation';
SELECT pg_catalog.pg_extension_config_dump('aftersales.sample_data_runs', '');

-- A uniform draw in [0, 1) for (seed, item, salt).
CREATE FUNCTION aftersales_internal.sample_u(seed integer, item bigint, salt integer) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (pg_catalog.hashint8extended(item, seed::bigint * 1000003 + salt)
            & 9007199254740991)::double precision / 9007199254740992.0
$$;
COMMENT ON FUNCTION aftersales_internal.sample_u(integer, bigint, integer) IS
  'Internal: a deterministic uniform draw in [0, 1) for (seed, item, salt), for the sample data';

-- ---------------------------------------------------------------------------
-- The checksum

-- The content of a tenant, without surrogate ids: tickets by their rank in
-- the tenant (ticket_id order, which is entry order), everything they point
-- at by natural key.  Each row is hashed and the hashes summed (mod 2^64,
-- twice with two seeds), so the checksum streams over a million tickets and
-- does not depend on the order rows are read in.
CREATE FUNCTION aftersales.sample_data_checksum(tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h1 numeric;
    h2 numeric;
    m constant numeric := 18446744073709551616;
BEGIN
    IF tenant IS NULL OR NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', COALESCE(tenant::text, 'NULL')
            USING ERRCODE = 'P0002',
                  HINT = 'Name a tenant by its id, for example: SELECT aftersales.sample_data_checksum((SELECT tenant_id FROM aftersales.tenants WHERE name = ''demo''));';
    END IF;
    WITH tk AS (
        SELECT t.*, pg_catalog.row_number() OVER (ORDER BY t.ticket_id) AS rk
          FROM aftersales.tickets t WHERE t.tenant_id = tenant
    ), cu AS (
        SELECT c.*, pg_catalog.row_number() OVER (ORDER BY c.customer_id) AS rk
          FROM aftersales.customers c WHERE c.tenant_id = tenant
    ), rows_ (r) AS (
        SELECT pg_catalog.concat_ws('|', 'org', o.name, o.level, o.org_type, o.region, o.province, p.name)
          FROM aftersales.organisations o
          LEFT JOIN aftersales.organisations p ON p.tenant_id = o.tenant_id
                                              AND p.org_id = o.parent_id
         WHERE o.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'customer', c.rk, c.name, c.tier, c.region, c.province, c.city, o.name)
          FROM cu c LEFT JOIN aftersales.organisations o ON o.tenant_id = c.tenant_id
                                                        AND o.org_id = c.org_id
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'engineer', e.login, e.name, e.skills::text, e.region, e.capacity, o.name)
          FROM aftersales.engineers e JOIN aftersales.organisations o ON o.tenant_id = e.tenant_id
                                                                     AND o.org_id = e.org_id
         WHERE e.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'model', m.code, m.name, m.warranty_months, l.code)
          FROM aftersales.product_models m JOIN aftersales.product_lines l
            ON l.tenant_id = m.tenant_id AND l.product_line_id = m.product_line_id
         WHERE m.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'problem', p.code, p.name)
          FROM aftersales.problem_types p WHERE p.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'unit', u.serial, m.code, c.rk, pg_catalog.to_char(u.installed_on, 'YYYY-MM-DD'),
                                    pg_catalog.to_char(u.warranty_ends, 'YYYY-MM-DD'))
          FROM aftersales.units u
          JOIN aftersales.product_models m ON m.tenant_id = u.tenant_id AND m.model_id = u.model_id
          JOIN cu c ON c.customer_id = u.customer_id
         WHERE u.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'agreement', c.rk, sa.name, p.name, sa.valid::text)
          FROM aftersales.service_agreements sa
          JOIN cu c ON c.customer_id = sa.customer_id
          JOIN aftersales.sla_policies p ON p.tenant_id = sa.tenant_id AND p.policy_id = sa.policy_id
         WHERE sa.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'ticket', t.rk, t.channel, c.rk, u.serial, m.code, p.code, t.description, t.priority,
                                    extract(epoch FROM t.requested_at), o.name, t.field, t.tier, e.login, t.status,
                                    t.held_from, t.attempt_count, t.reopen_count,
                                    extract(epoch FROM t.opened_at), extract(epoch FROM t.first_response_at),
                                    extract(epoch FROM t.assigned_at), extract(epoch FROM t.arrived_at),
                                    extract(epoch FROM t.first_resolved_at), extract(epoch FROM t.resolved_at),
                                    extract(epoch FROM t.followed_up_at), extract(epoch FROM t.closed_at),
                                    extract(epoch FROM t.cancelled_at), t.satisfied, t.csat, t.nps,
                                    t.follow_up_comment, t.event_seq, t.last_event, extract(epoch FROM t.last_event_at),
                                    t.last_actor)
          FROM tk t
          JOIN cu c ON c.customer_id = t.customer_id
          JOIN aftersales.problem_types p ON p.tenant_id = t.tenant_id
                                         AND p.problem_type_id = t.problem_type_id
          LEFT JOIN aftersales.units u ON u.tenant_id = t.tenant_id AND u.unit_id = t.unit_id
          LEFT JOIN aftersales.product_models m ON m.tenant_id = t.tenant_id
                                               AND m.model_id = t.model_id
          LEFT JOIN aftersales.organisations o ON o.tenant_id = t.tenant_id AND o.org_id = t.org_id
          LEFT JOIN aftersales.engineers e ON e.tenant_id = t.tenant_id
                                          AND e.engineer_id = t.assignee_id
        UNION ALL
        -- the payload's ids (assignee, the clocks' policy and agreement) are
        -- replaced by the engineer's login; the clocks are hashed below
        SELECT pg_catalog.concat_ws('|', 'event', t.rk, v.seq, extract(epoch FROM v.at), v.actor, v.event, v.from_state,
                                    v.to_state, v.reason, (v.payload - '{assignee,sla,agreement,policy}'::text[])::text,
                                    e.login)
          FROM aftersales.ticket_events v
          JOIN tk t ON t.ticket_id = v.ticket_id
          LEFT JOIN aftersales.engineers e ON e.tenant_id = v.tenant_id
                                          AND e.engineer_id = (v.payload ->> 'assignee')::bigint
         WHERE v.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'clock', t.rk, s.metric, p.name, extract(epoch FROM s.target), s.calendar,
                                    s.pauses_on_hold, extract(epoch FROM s.started_at), extract(epoch FROM s.due_at),
                                    extract(epoch FROM s.paused), extract(epoch FROM s.paused_since),
                                    extract(epoch FROM s.stopped_at), s.outcome, extract(epoch FROM s.elapsed),
                                    extract(epoch FROM s.elapsed_wall), s.agreement_id IS NOT NULL)
          FROM aftersales.ticket_sla s
          JOIN tk t ON t.ticket_id = s.ticket_id
          JOIN aftersales.sla_policies p ON p.tenant_id = s.tenant_id AND p.policy_id = s.policy_id
         WHERE s.tenant_id = tenant
    )
    SELECT COALESCE(pg_catalog.sum(pg_catalog.hashtextextended(r, 0)::numeric + 9223372036854775808), 0)
               % m,
           COALESCE(pg_catalog.sum(pg_catalog.hashtextextended(r, 1)::numeric + 9223372036854775808), 0)
               % m
      INTO h1, h2
      FROM rows_;
    RETURN pg_catalog.lpad(pg_catalog.to_hex((h1 - 9223372036854775808)::bigint), 16, '0')
           ||
           pg_catalog.lpad(pg_catalog.to_hex((h2 - 9223372036854775808)::bigint), 16, '0');
END
$$;
COMMENT ON FUNCTION aftersales.sample_data_checksum(bigint) IS
  'Checksum (32 hex digits) of a tenant''s content: organisations, customers, engineers, products, units, agreements, tickets, their events and SLA clocks, by natural keys and ranks, never by surrogate id: equal for equal data in any database';

-- ---------------------------------------------------------------------------
-- The generator

CREATE FUNCTION aftersales_internal.sample_error(message text, hint text, code text DEFAULT '22023') RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = message, ERRCODE = code, HINT = hint;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_error(text, text, text) IS 'Internal: the error for a bad argument of generate_sample_data';

-- generate_sample_data in steps, each an internal function; they hand on
-- what they built in temporary tables dropped at commit.
CREATE FUNCTION aftersales_internal.sample_organisations(tid bigint) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- geography: the six regions, 31 provinces and their weights (share of
    -- customers, hence of units and failures)
    CREATE TEMP TABLE sample_geo ON COMMIT DROP AS
    SELECT g.ord, g.region, g.province, g.weight, g.remote
      FROM (VALUES ( 1, '华东', '上海', 4.0, false), ( 2, '华东', '江苏', 8.0, false), ( 3, '华东', '浙江', 7.0, false),
                   ( 4, '华东', '安徽', 3.0, false), ( 5, '华东', '福建', 3.0, false), ( 6, '华东', '江西', 2.0, false),
                   ( 7, '华东', '山东', 6.0, false), ( 8, '华北', '北京', 4.0, false), ( 9, '华北', '天津', 2.0, false),
                   (10, '华北', '河北', 4.0, false), (11, '华北', '山西', 2.0, false), (12, '华北', '内蒙古', 1.0, true),
                   (13, '东北', '辽宁', 3.0, false), (14, '东北', '吉林', 1.5, false), (15, '东北', '黑龙江', 1.5, false),
                   (16, '中南', '河南', 5.0, false), (17, '中南', '湖北', 4.0, false), (18, '中南', '湖南', 3.0, false),
                   (19, '中南', '广东', 11.0, false), (20, '中南', '广西', 2.0, false), (21, '中南', '海南', 1.0, false),
                   (22, '西北', '陕西', 3.0, false), (23, '西北', '甘肃', 1.5, true), (24, '西北', '青海', 0.5, true),
                   (25, '西北', '宁夏', 0.5, true), (26, '西北', '新疆', 2.0, true), (27, '西南', '重庆', 3.0, false),
                   (28, '西南', '四川', 5.0, false), (29, '西南', '贵州', 1.5, false), (30, '西南', '云南', 2.0, false),
                   (31, '西南', '西藏', 0.5, true))
           AS g (ord, region, province, weight, remote);

    -- organisations: HQ, regions, provinces (代表处), outlets
    INSERT INTO aftersales.organisations (tenant_id, level, org_type, name) VALUES (tid, 'hq', 'headquarters', '总部');
    INSERT INTO aftersales.organisations (tenant_id, parent_id, level, org_type, name, region)
    SELECT tid, (SELECT o.org_id FROM aftersales.organisations o WHERE o.tenant_id = tid AND o.level = 'hq'),
           'region', 'representative_office', rg.region || '大区', rg.region
      FROM (SELECT g.region, pg_catalog.min(g.ord) AS ord FROM pg_temp.sample_geo g GROUP BY g.region) rg
     ORDER BY rg.ord;
    INSERT INTO aftersales.organisations (tenant_id, parent_id, level, org_type, name, province)
    SELECT tid, o.org_id, 'province', 'representative_office', g.province || '代表处', g.province
      FROM pg_temp.sample_geo g
      JOIN aftersales.organisations o ON o.tenant_id = tid AND o.level = 'region'
                                     AND o.region = g.region
     ORDER BY g.ord;
    CREATE TEMP TABLE sample_outlets ON COMMIT DROP AS
    SELECT g.ord, g.province, g.weight, x.k, x.org_type, x.name, NULL::bigint AS org_id,
           1 + LEAST(4, 1 + pg_catalog.floor(g.weight / 3)::integer) AS serving,
           pg_catalog.count(*) OVER (PARTITION BY g.ord) AS outlets
      FROM pg_temp.sample_geo g
     CROSS JOIN LATERAL (
           SELECT 1 AS k, 'representative_office' AS org_type, g.province || '服务站' AS name
           UNION ALL
           SELECT 1 + d, 'dealer',
                  g.province || ('{东,西,南,北}'::text[])[d] || '区经销商'
             FROM pg_catalog.generate_series(1, LEAST(4, 1 + pg_catalog.floor(g.weight / 3)::integer)) d
           UNION ALL
           SELECT 6, 'supplier', g.province || '供应商服务点' WHERE g.weight >= 3) x;
    INSERT INTO aftersales.organisations (tenant_id, parent_id, level, org_type, name)
    SELECT tid, o.org_id, 'outlet', so.org_type, so.name
      FROM pg_temp.sample_outlets so
      JOIN aftersales.organisations o ON o.tenant_id = tid AND o.level = 'province'
                                     AND o.province = so.province
     ORDER BY so.ord, so.k;
    ANALYZE pg_temp.sample_outlets;
    UPDATE pg_temp.sample_outlets so SET org_id = o.org_id
      FROM aftersales.organisations o
     WHERE o.tenant_id = tid AND o.name = so.name;

END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_organisations(bigint) IS
  'Internal step of generate_sample_data: the geography (temporary table sample_geo), headquarters, regions, provinces and outlets (sample_outlets)';

CREATE FUNCTION aftersales_internal.sample_engineers(tid bigint, s integer, n integer) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    w_total float8;
BEGIN
    SELECT pg_catalog.sum(g.weight) INTO w_total FROM pg_temp.sample_geo g;
    -- engineers: about n / 400, at least 60, spread over the outlets by
    -- province weight
    INSERT INTO aftersales.engineers (tenant_id, org_id, name, login, skills, region, capacity, phone)
    SELECT tid, e.org_id,
           ('{王,李,张,刘,陈,杨,黄,赵,吴,周,徐,孙,马,朱,胡,郭,何,高,林,罗}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, e.g, 101) * 20)::integer]
           ||
           ('{伟,芳,娜,敏,静,强,磊,军,洋,勇,杰,涛,明,超,霞,平,刚,桂英,建华,志强,海燕,晓东,国平,文博}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, e.g, 102) * 24)::integer],
           'eng' || pg_catalog.lpad(e.g::text, 5, '0'),
           pg_catalog.array_remove(ARRAY[
               ('{CMP,CHL,HP}'::text[])[1 + (e.g % 3)::integer],
               CASE WHEN aftersales_internal.sample_u(s, e.g, 103) < 0.5
                    THEN ('{CMP,CHL,HP}'::text[])[1 + ((e.g + 1) % 3)::integer] END,
               CASE WHEN aftersales_internal.sample_u(s, e.g, 104) < 0.6 THEN 'electrical' END,
               CASE WHEN aftersales_internal.sample_u(s, e.g, 105) < 0.4 THEN 'refrigeration' END], NULL),
           e.region,
           6 + pg_catalog.floor(aftersales_internal.sample_u(s, e.g, 106) * 7)::integer,
           '139' || pg_catalog.lpad(pg_catalog.floor(aftersales_internal.sample_u(s, e.g, 107) * 100000000)::bigint::text, 8, '0')
      FROM (SELECT so.org_id, g.region, pg_catalog.row_number() OVER (ORDER BY so.ord, so.k, j.j) AS g
              FROM pg_temp.sample_outlets so
              JOIN pg_temp.sample_geo g ON g.ord = so.ord
             CROSS JOIN LATERAL pg_catalog.generate_series(1, GREATEST(1, pg_catalog.round(
                   GREATEST(60, n / 400) * so.weight
                   / w_total / so.outlets)::integer)) j (j)) e
     ORDER BY e.g;
    CREATE TEMP TABLE sample_org_engineers ON COMMIT DROP AS
    SELECT e.org_id, pg_catalog.array_agg(e.engineer_id ORDER BY e.engineer_id) AS engs,
           pg_catalog.array_agg(e.login ORDER BY e.engineer_id) AS logins
      FROM aftersales.engineers e WHERE e.tenant_id = tid GROUP BY e.org_id;

END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_engineers(bigint, integer, integer) IS
  'Internal step of generate_sample_data: about n / 400 engineers over the outlets by province weight (sample_org_engineers)';

CREATE FUNCTION aftersales_internal.sample_customers(tid bigint, s integer, n integer, yr integer, y0 date) RETURNS float8[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    w_total float8;
    cstarts float8[];
BEGIN
    SELECT pg_catalog.sum(g.weight) INTO w_total FROM pg_temp.sample_geo g;
    -- customers: about n / 10, at least 400, by province weight
    CREATE TEMP TABLE sample_customers ON COMMIT DROP AS
    SELECT c.g, c.ord, c.province, c.region, c.tier,
           CASE WHEN c.tier = 'key' THEN c.station ELSE c.dealer END AS org_id,
           CASE c.tier WHEN 'key' THEN 3.0 WHEN 'major' THEN 1.5 ELSE 1.0 END::float8 AS w,
           NULL::bigint AS customer_id
      FROM (SELECT x.g, x.ord, x.province, x.region,
                   CASE WHEN aftersales_internal.sample_u(s, x.g, 201) < 0.05 THEN 'key'
                        WHEN aftersales_internal.sample_u(s, x.g, 201) < 0.20 THEN 'major'
                        ELSE 'standard' END AS tier,
                   (SELECT so.org_id FROM pg_temp.sample_outlets so WHERE so.ord = x.ord AND so.k = 1) AS station,
                   (SELECT so.org_id FROM pg_temp.sample_outlets so
                     WHERE so.ord = x.ord
                       AND so.k = 1 + pg_catalog.floor(aftersales_internal.sample_u(s, x.g, 202) * so.serving)::integer) AS dealer
              FROM (SELECT g.ord, g.province, g.region, pg_catalog.row_number() OVER (ORDER BY g.ord, j.j) AS g
                      FROM pg_temp.sample_geo g
                     CROSS JOIN LATERAL pg_catalog.generate_series(1, GREATEST(2, pg_catalog.round(
                           GREATEST(400, n / 10) * g.weight / w_total)::integer)) j (j)) x) c;
    WITH named AS (
        SELECT c.g, c.province ||
               ('{华,盛,鑫,宏,恒,泰,达,丰,远,新,金,通,隆,海,嘉,正,永,东,瑞,安}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, c.g, 203) * 20)::integer]
               ||
               ('{机械,电子,食品,医药,化工,纺织,物流,能源,建材,汽配,酒店,医院}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, c.g, 204) * 12)::integer]
               || '有限公司' AS name
          FROM pg_temp.sample_customers c
    )
    INSERT INTO aftersales.customers (tenant_id, name, tier, region, province, org_id, contact_name, contact_phone)
    SELECT tid,
           CASE WHEN k.dup = 1 THEN k.name ELSE k.name || '第' || k.dup || '分公司' END,
           c.tier, c.region, c.province, c.org_id,
           ('{王,李,张,刘,陈,杨,黄,赵,吴,周}'::text[])[1 + pg_catalog.floor(aftersales_internal.sample_u(s, c.g, 205) * 10)::integer]
               || '经理',
           '138' || pg_catalog.lpad(pg_catalog.floor(aftersales_internal.sample_u(s, c.g, 206) * 100000000)::bigint::text, 8, '0')
      FROM pg_temp.sample_customers c
      JOIN (SELECT nm.g, nm.name, pg_catalog.row_number() OVER (PARTITION BY nm.name ORDER BY nm.g) AS dup FROM named nm) k
        ON k.g = c.g
     ORDER BY c.g;
    ANALYZE pg_temp.sample_customers;
    UPDATE pg_temp.sample_customers c SET customer_id = x.customer_id
      FROM (SELECT cu.customer_id, pg_catalog.row_number() OVER (ORDER BY cu.customer_id) AS g
              FROM aftersales.customers cu WHERE cu.tenant_id = tid) x
     WHERE x.g = c.g;
    SELECT pg_catalog.array_agg(c.start ORDER BY c.g) INTO cstarts
      FROM (SELECT sc.g, (pg_catalog.sum(sc.w) OVER (ORDER BY sc.g) - sc.w)
                         / pg_catalog.sum(sc.w) OVER () AS start
              FROM pg_temp.sample_customers sc) c;
    -- key customers have a 24x7 service agreement (服务协议)
    INSERT INTO aftersales.service_agreements (tenant_id, customer_id, policy_id, name, valid, terms, service_items, charging)
    SELECT tid, c.customer_id, p.policy_id,
           pg_catalog.format('SA-%s-%s', yr, pg_catalog.lpad(c.g::text, 5, '0')),
           pg_catalog.daterange((y0 - 365), (y0 + 730)),
           '7x24 小时响应，重点客户专属工程师', '{上门维修,定期巡检,备件优先}', '年度服务费，备件另计'
      FROM pg_temp.sample_customers c
      JOIN aftersales.sla_policies p ON p.tenant_id = tid AND p.name = 'key-account'
     WHERE c.tier = 'key'
     ORDER BY c.g;

    RETURN cstarts;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_customers(bigint, integer, integer, integer, date) IS
  'Internal step of generate_sample_data: about n / 10 customers by province weight (sample_customers), the key customers service agreements; returns the customers cumulative weights';

CREATE FUNCTION aftersales_internal.sample_products(tid bigint, s integer, n integer, yr integer, cstarts float8[]) RETURNS float8[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    mstarts float8[];
BEGIN
    -- products: 3 lines, 10 models (install share, failure weight)
    INSERT INTO aftersales.product_lines (tenant_id, code, name, description)
    VALUES (tid, 'CMP', '商用压缩机', 'Commercial compressors'),
           (tid, 'CHL', '冷水机组', 'Water chillers'),
           (tid, 'HP', '空气源热泵', 'Air-source heat pumps');
    CREATE TEMP TABLE sample_models ON COMMIT DROP AS
    SELECT m.midx, m.line, m.code, m.name, m.warranty, m.launch, m.share, m.fail,
           (pg_catalog.make_date(yr + 1, 1, 1) - m.launch) AS span,
           NULL::bigint AS model_id, 0 AS units
      FROM (VALUES ( 1, 'CMP', 'CMP-110', '涡旋压缩机 110', 24, pg_catalog.make_date(yr - 4, 1, 1), 14.0, 10.0),
                   ( 2, 'CMP', 'CMP-220', '螺杆压缩机 220', 24, pg_catalog.make_date(yr - 4, 1, 1), 12.0, 22.0),
                   ( 3, 'CMP', 'CMP-350', '螺杆压缩机 350', 36, pg_catalog.make_date(yr - 3, 1, 1),  8.0,  6.0),
                   ( 4, 'CHL', 'CHL-50',  '风冷冷水机组 50RT', 12, pg_catalog.make_date(yr - 4, 1, 1), 12.0,  9.0),
                   ( 5, 'CHL', 'CHL-80',  '风冷冷水机组 80RT', 12, pg_catalog.make_date(yr - 4, 1, 1), 10.0,  8.0),
                   ( 6, 'CHL', 'CHL-120X', '水冷冷水机组 120RT', 24, pg_catalog.make_date(yr - 2, 1, 1),  8.0, 20.0),
                   ( 7, 'HP',  'HP-10',   '热泵 10P', 12, pg_catalog.make_date(yr - 4, 1, 1), 12.0,  6.0),
                   ( 8, 'HP',  'HP-16',   '热泵 16P', 12, pg_catalog.make_date(yr - 3, 1, 1), 10.0,  5.0),
                   ( 9, 'HP',  'HP-20N',  '变频热泵 20P（新品）', 24, pg_catalog.make_date(yr - 1, 7, 1),  8.0, 12.0),
                   (10, 'HP',  'HP-30',   '热泵 30P', 36, pg_catalog.make_date(yr - 2, 1, 1),  6.0,  2.0))
           AS m (midx, line, code, name, warranty, launch, share, fail);
    INSERT INTO aftersales.product_models (tenant_id, product_line_id, code, name, warranty_months)
    SELECT tid, l.product_line_id, m.code, m.name, m.warranty
      FROM pg_temp.sample_models m
      JOIN aftersales.product_lines l ON l.tenant_id = tid AND l.code = m.line
     ORDER BY m.midx;
    UPDATE pg_temp.sample_models m
       SET model_id = pm.model_id,
           units = GREATEST(5, pg_catalog.round(GREATEST(1000, n / 3) * m.share / 100)::integer)
      FROM aftersales.product_models pm
     WHERE pm.tenant_id = tid AND pm.code = m.code;
    SELECT pg_catalog.array_agg(x.start ORDER BY x.midx) INTO mstarts
      FROM (SELECT m.midx, (pg_catalog.sum(m.fail) OVER (ORDER BY m.midx) - m.fail)
                           / pg_catalog.sum(m.fail) OVER () AS start
              FROM pg_temp.sample_models m) x;

    -- installed units: unit r of a model was installed at launch + span *
    -- (r - 0.5) / units, so that how many were installed by a date is known
    -- in closed form when a ticket picks one
    CREATE TEMP TABLE sample_units ON COMMIT DROP AS
    SELECT x.*, x.code || '-' || pg_catalog.to_char(x.installed_on, 'YYMM') || pg_catalog.lpad(x.r::text, 6, '0') AS serial
      FROM (
    SELECT m.midx, rr.r, c.customer_id, c.org_id, c.tier, m.code, m.warranty, m.model_id,
           m.launch + pg_catalog.floor(m.span * (rr.r - 0.5) / m.units)::integer AS installed_on,
           NULL::bigint AS unit_id
      FROM pg_temp.sample_models m
     CROSS JOIN LATERAL pg_catalog.generate_series(1, m.units) rr (r)
      JOIN pg_temp.sample_customers c
        ON c.g = pg_catalog.width_bucket(aftersales_internal.sample_u(s, m.midx::bigint * 10000000 + rr.r, 301), cstarts)) x;
    ANALYZE pg_temp.sample_units;
    INSERT INTO aftersales.units (tenant_id, model_id, customer_id, serial, installed_on, warranty_ends, org_id)
    SELECT tid, su.model_id, su.customer_id, su.serial, su.installed_on,
           CASE WHEN su.tier = 'key'   -- key customers buy a year more
                THEN (su.installed_on + pg_catalog.make_interval(months => su.warranty + 12))::date - 1 END,
           su.org_id
      FROM pg_temp.sample_units su
     ORDER BY su.midx, su.r;
    UPDATE pg_temp.sample_units su SET unit_id = un.unit_id
      FROM aftersales.units un
     WHERE un.tenant_id = tid AND un.model_id = su.model_id AND un.serial = su.serial;
    CREATE INDEX ON pg_temp.sample_units (midx, r);
    ANALYZE pg_temp.sample_units;

    RETURN mstarts;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_products(bigint, integer, integer, integer, float8[]) IS
  'Internal step of generate_sample_data: product lines, models (sample_models) and installed units (sample_units); returns the models cumulative failure weights';

CREATE FUNCTION aftersales_internal.sample_problem_types(tid bigint) RETURNS float8[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pstarts float8[];
BEGIN
    -- fault types (weight, share needing on-site service)
    CREATE TEMP TABLE sample_problems ON COMMIT DROP AS
    SELECT p.pidx, p.code, p.name, p.weight, p.field, NULL::bigint AS problem_type_id
      FROM (VALUES ( 1, 'E01', '不制冷/不制热', 22.0, 0.85), ( 2, 'E02', '异响振动', 14.0, 0.85),
                   ( 3, 'E03', '漏水漏氟', 12.0, 0.85), ( 4, 'E04', '无法启动', 11.0, 0.85),
                   ( 5, 'E05', '控制板故障', 10.0, 0.85), ( 6, 'E06', '电气故障', 9.0, 0.85),
                   ( 7, 'E07', '传感器报警', 8.0, 0.85), ( 8, 'E08', '参数设置问题', 6.0, 0.25),
                   ( 9, 'E09', '安装调试', 5.0, 0.85), (10, 'E10', '操作咨询', 3.0, 0.05))
           AS p (pidx, code, name, weight, field);
    INSERT INTO aftersales.problem_types (tenant_id, code, name, kind)
    SELECT tid, p.code, p.name,
           CASE p.code WHEN 'E08' THEN 'parameter_setting' WHEN 'E09' THEN 'installation'
                       WHEN 'E10' THEN 'consultation' ELSE 'fault' END
      FROM pg_temp.sample_problems p ORDER BY p.pidx;
    UPDATE pg_temp.sample_problems p SET problem_type_id = pt.problem_type_id
      FROM aftersales.problem_types pt
     WHERE pt.tenant_id = tid AND pt.code = p.code;
    SELECT pg_catalog.array_agg(x.start ORDER BY x.pidx) INTO pstarts
      FROM (SELECT p.pidx, (pg_catalog.sum(p.weight) OVER (ORDER BY p.pidx) - p.weight)
                           / pg_catalog.sum(p.weight) OVER () AS start
              FROM pg_temp.sample_problems p) x;

    RETURN pstarts;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_problem_types(bigint) IS
  'Internal step of generate_sample_data: the fault types (sample_problems); returns their cumulative weights';

CREATE FUNCTION aftersales_internal.sample_ticket_plan(n integer, y0 date, ndays integer, sb bigint, cstarts float8[], mstarts float8[], pstarts float8[]) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- the sample's own shares, in this order (the draws depend on it);
    -- every label is one of aftersales.ticket_channel
    chstarts constant float8[] := '{0,0.38,0.58,0.72,0.82,0.87,0.93,0.97}'::float8[];
    channels constant text[] := '{phone,wechat,app,web,email,field,walk_in,other}'::text[];
BEGIN
    -- the tickets: entry and what they are about, set-based
    CREATE TEMP TABLE sample_plan ON COMMIT DROP AS
    WITH d AS (
        SELECT i.i,
               ARRAY(SELECT LEAST(GREATEST((pg_catalog.hashint8extended(i.i, sb + k) & 9007199254740991)::float8
                                           / 9007199254740992.0, 1e-9), 1 - 1e-9)
                       FROM pg_catalog.generate_series(1, 16) k) AS u
          FROM pg_catalog.generate_series(1, n) i (i)
    ), e AS (
        SELECT d.i, d.u, x.day, y0 + x.day AS entry_date,
               ((y0 + x.day)::timestamp
                 + pg_catalog.make_interval(
                     mins => CASE WHEN d.u[2] < 0.87
                                  THEN 480 + pg_catalog.floor(d.u[3] * 720)::integer
                                  ELSE pg_catalog.floor(d.u[3] * 1440)::integer END,
                     secs => pg_catalog.floor(d.u[4] * 60)))
                 AT TIME ZONE 'Asia/Shanghai' AS opened_at,
               pg_catalog.width_bucket(d.u[5], mstarts) AS midx,
               pg_catalog.width_bucket(d.u[9], pstarts) AS pidx
          FROM d
         CROSS JOIN LATERAL (
               SELECT LEAST(ndays - 1, pg_catalog.floor(ndays * (x0 + 0.3 / (2 * pg_catalog.pi())
                             * pg_catalog.sin(2 * pg_catalog.pi() * x0)))::integer) AS day
                 FROM (SELECT (d.i - 1 + d.u[1]) / n AS x0) z) x
    ), pick AS (
        SELECT e.*, m.code AS model_code, m.model_id, m.name AS model_name, m.units,
               LEAST(m.units, GREATEST(0, pg_catalog.floor(m.units * (e.entry_date - m.launch)::float8
                                                           / m.span + 0.5)::integer)) AS rmax,
               LEAST(m.units, GREATEST(0, pg_catalog.floor(m.units * (e.entry_date - 80 - m.launch)::float8
                                                           / m.span + 0.5)::integer)) AS rearly,
               e.u[6] < CASE WHEN m.code = 'HP-20N' THEN 0.35 ELSE 0.08 END AS early
          FROM e JOIN pg_temp.sample_models m ON m.midx = e.midx
    ), unit_pick AS (
        SELECT p.*,
               CASE WHEN p.u[7] < 0.03 OR p.rmax < 1 THEN NULL
                    WHEN p.early AND p.rmax > p.rearly
                    THEN p.rearly + 1 + pg_catalog.floor(p.u[8] * (p.rmax - p.rearly))::integer
                    ELSE 1 + pg_catalog.floor(p.u[8] * p.rmax)::integer END AS r
          FROM pick p
    )
    SELECT up.i, up.opened_at, up.model_id, up.model_code, su.unit_id,
           COALESCE(su.customer_id, c.customer_id) AS customer_id,
           COALESCE(cs.tier, c.tier) AS tier,
           g.province, g.remote,
           CASE WHEN m.line = 'HP' AND up.u[15] < 0.4 AND sup.org_id IS NOT NULL
                THEN sup.org_id ELSE COALESCE(cs.org_id, c.org_id) END AS org_id,
           pr.problem_type_id,
           CASE WHEN COALESCE(cs.tier, c.tier) = 'key'
                THEN CASE WHEN up.u[10] < 0.30 THEN 'A' WHEN up.u[10] < 0.75 THEN 'B' ELSE 'C' END
                ELSE CASE WHEN up.u[10] < 0.10 THEN 'A' WHEN up.u[10] < 0.45 THEN 'B' ELSE 'C' END
           END::aftersales.priority AS priority,
           channels[pg_catalog.width_bucket(up.u[11], chstarts)] AS channel,
           up.u[12] < pr.field AS field,
           CASE WHEN up.u[13] < 0.35
                THEN up.opened_at + pg_catalog.make_interval(mins => 240 + 30 * pg_catalog.floor(up.u[14] * 137)::integer) END
               AS requested_at,
           pr.name || '：' || up.model_name ||
               ('{，客户来电报修,，设备停机,，间歇性发生,，影响生产,，已持续两天,，报警代码闪烁}'::text[])[1 + pg_catalog.floor(up.u[16] * 6)::integer]
               AS description,
           pg_catalog.row_number() OVER (ORDER BY up.opened_at, up.i) AS nrank,
           NULL::bigint AS ticket_id
      FROM unit_pick up
      JOIN pg_temp.sample_models m ON m.midx = up.midx
      JOIN pg_temp.sample_problems pr ON pr.pidx = up.pidx
      LEFT JOIN pg_temp.sample_units su ON su.midx = up.midx AND su.r = up.r
      LEFT JOIN pg_temp.sample_customers cs ON cs.customer_id = su.customer_id
      LEFT JOIN pg_temp.sample_customers c ON su.unit_id IS NULL AND c.g = pg_catalog.width_bucket(up.u[8], cstarts)
      JOIN pg_temp.sample_geo g ON g.ord = COALESCE(cs.ord, c.ord)
      LEFT JOIN pg_temp.sample_outlets sup ON sup.ord = g.ord AND sup.org_type = 'supplier';
    CREATE UNIQUE INDEX ON pg_temp.sample_plan (nrank);
    ANALYZE pg_temp.sample_plan;

END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_ticket_plan(integer, date, integer, bigint, float8[], float8[], float8[]) IS
  'Internal step of generate_sample_data: each tickets entry and what it is about, drawn set-based (sample_plan)';

CREATE FUNCTION aftersales_internal.sample_entry(n integer, y0 date, progress integer, started timestamptz) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    batch constant integer := 5000;
BEGIN
    -- entry through open_tickets, in batches, in time order
    FOR k IN 0 .. (n - 1) / batch LOOP
        WITH ids AS (
            SELECT x.id, x.ord
              FROM aftersales.open_tickets(
                       (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                   'customer', p.customer_id, 'problem_type', p.problem_type_id, 'priority', p.priority,
                                   'description', p.description, 'channel', p.channel, 'unit', p.unit_id, 'model', p.model_id,
                                   'requested_at', p.requested_at, 'field', p.field, 'org', p.org_id, 'opened_at', p.opened_at)
                                ORDER BY p.nrank)
                          FROM pg_temp.sample_plan p
                         WHERE p.nrank > k * batch
                           AND p.nrank <= (k + 1) * batch),
                       actor => 'callcenter', at => y0::timestamp AT TIME ZONE 'Asia/Shanghai')
                   WITH ORDINALITY AS x (id, ord)
        )
        UPDATE pg_temp.sample_plan p SET ticket_id = ids.id
          FROM ids WHERE p.nrank = k * batch + ids.ord;
        IF k % 10 = 0 THEN
            -- the triggers' cached plans were made for empty tables: as the
            -- tables grow, statistics (which count this transaction's rows)
            -- make them plan again, or each batch would cost more than the last
            ANALYZE aftersales.tickets, aftersales.ticket_events, aftersales.ticket_sla, aftersales.occurrences,
                    aftersales.escalation_watches, aftersales.alerts, aftersales.ticket_escalations;
        END IF;
    END LOOP;
    -- Statistics, now that the tables are full: the triggers' cached plans
    -- were made for empty tables, and are made again (ANALYZE invalidates
    -- them) for what is there; it counts this transaction's rows.
    ANALYZE aftersales.tickets, aftersales.ticket_events, aftersales.ticket_sla, aftersales.occurrences,
            aftersales.escalation_watches, aftersales.alerts, aftersales.ticket_escalations;
    IF progress > 0 AND n >= progress THEN
        RAISE NOTICE 'sample data: % tickets entered after % s', n,
            pg_catalog.round(EXTRACT(EPOCH FROM pg_catalog.clock_timestamp() - started)::numeric, 1);
    END IF;

END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_entry(integer, date, integer, timestamptz) IS
  'Internal step of generate_sample_data: the planned tickets entered through open_tickets, in batches, in time order';

CREATE FUNCTION aftersales_internal.sample_first_minutes(tk bigint, u float8[], priority aftersales.priority, zombie integer,
                                                     agent text, t timestamptz, cutoff timestamptz) RETURNS timestamptz
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cancel_reasons constant text[] := '{客户已自行解决,重复报修,客户取消服务}'::text[];
BEGIN
    IF u[20] < 0.02 AND priority <> 'A' THEN          -- the customer presses: priority up
        t := t + make_interval(secs => floor(60 + u[21] * 540));
        IF t >= cutoff THEN
            RETURN NULL;
        END IF;
        PERFORM aftersales.set_priority(tk, CASE priority WHEN 'C' THEN 'B' ELSE 'A' END::aftersales.priority,
                                        '客户要求加急', actor => agent, at => t);
    END IF;
    IF u[22] < 0.018 THEN                                -- cancelled before assignment
        t := t + make_interval(secs => floor(300 + u[23] * 36000));
        IF t >= cutoff THEN
            RETURN NULL;
        END IF;
        PERFORM aftersales.cancel_ticket(tk, cancel_reasons[1 + floor(u[24] * 3)::integer], actor => agent, at => t);
        RETURN NULL;
    END IF;
    IF u[25] < 0.035 OR zombie = 2 THEN                  -- needs a specialist
        t := t + make_interval(secs => floor(180 + u[26] * 2400));
        IF t >= cutoff THEN
            RETURN NULL;
        END IF;
        PERFORM aftersales.transfer_ticket(tk, CASE WHEN u[27] < 0.15 OR zombie = 2 THEN 'rnd' ELSE 'technical_support' END::aftersales.ticket_tier,
                                           '需要技术支持工程师判断', actor => agent, at => t);
        IF zombie = 2 THEN
            RETURN NULL;
        END IF;
    END IF;
    RETURN t;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_first_minutes(bigint, double precision[], aftersales.priority, integer, text, timestamptz, timestamptz) IS
  'Internal step of generate_sample_data: a ticket''s first minutes (priority raised, cancelled, transferred to a specialist); returns the time reached, NULL when its life ends there';

CREATE FUNCTION aftersales_internal.sample_dispatch_minutes(u float8[], b integer, v integer, requested_at timestamptz,
                                                        priority aftersales.priority, t timestamptz) RETURNS float8
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m float8;
    loc timestamp;
BEGIN
    IF v > 0 THEN                                -- another visit, hours later
        m := 60 + u[b] * 1200;
    ELSIF requested_at IS NOT NULL AND u[b + 1] < 0.10 THEN
        -- dispatched after the customer's requested date
        m := extract(epoch FROM requested_at - t) / 60 + 10 + u[b + 2] * 170;
    ELSE
        loc := t AT TIME ZONE 'Asia/Shanghai';
        IF (extract(hour FROM loc) < 8 OR extract(hour FROM loc) >= 20) AND priority <> 'A' AND u[b + 2] < 0.6 THEN
            -- entered at night: the morning shift, from 08:30
            m := extract(epoch FROM date_trunc('day', loc - interval '8 hours 30 minutes')
                                    + interval '1 day 8 hours 30 minutes' - loc) / 60 + u[b] * 30;
        ELSE
            m := CASE WHEN u[b] < 0.80 THEN 1 + u[b] / 0.80 * 6
                      WHEN u[b] < 0.95 THEN 7 + (u[b] - 0.80) / 0.15 * 50
                      ELSE 57 + (u[b] - 0.95) / 0.05 * 300 END;
            IF priority = 'A' THEN
                m := m / 2;
            END IF;
        END IF;
    END IF;
    RETURN m;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_dispatch_minutes(double precision[], integer, integer, timestamptz, aftersales.priority, timestamptz) IS
  'Internal step of generate_sample_data: minutes from t until visit v of a ticket is assigned';

CREATE FUNCTION aftersales_internal.sample_follow_up(tk bigint, u float8[], fb integer, revisit boolean, age interval,
                                                 agent text, t timestamptz) RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    comments constant text[] := '{工程师很专业,上门及时,希望提前电话联系,维修时间太长,问题已解决，感谢}'::text[];
    sat boolean;
    score_csat integer;
    score_nps integer;
    remark text;
BEGIN
    sat := revisit OR u[fb + 2] < CASE WHEN age > interval '72 hours' THEN 0.85 ELSE 0.96 END;
    score_csat := CASE WHEN u[fb + 4] < 0.15 THEN NULL
                       WHEN sat THEN CASE WHEN u[fb + 3] < 0.58 THEN 5 WHEN u[fb + 3] < 0.90 THEN 4 ELSE 3 END
                       ELSE CASE WHEN u[fb + 3] < 0.40 THEN 1 WHEN u[fb + 3] < 0.75 THEN 2 ELSE 3 END END;
    score_nps := CASE WHEN u[fb + 6] < 0.28 THEN NULL
                      WHEN sat THEN ('{10,10,10,10,9,9,9,8,8,7,6,5}'::integer[])[1 + floor(u[fb + 5] * 12)::integer]
                      ELSE floor(u[fb + 5] * 7)::integer END;
    remark := CASE WHEN u[fb + 7] >= 0.35 THEN NULL
                   WHEN sat THEN comments[1 + floor(u[fb + 8] * 3)::integer]
                   WHEN u[fb + 8] < 0.5 THEN comments[4] ELSE comments[3] END;
    RETURN aftersales.follow_up(tk, sat, score_csat, score_nps, remark, actor => agent, at => t);
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_follow_up(bigint, double precision[], integer, boolean, interval, text, timestamptz) IS
  'Internal step of generate_sample_data: the follow-up call of a resolved ticket, its satisfaction and scores drawn; returns the new status';

CREATE FUNCTION aftersales_internal.sample_life_cycle(tk bigint, opened_at timestamptz, u float8[], priority aftersales.priority,
                                                  tier text, field boolean, requested_at timestamptz, province text,
                                                  remote boolean, engs bigint[], logins text[], cutoff timestamptz)
    RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hold_reasons constant text[] := '{等待备件到货,等待客户确认上门时间}'::text[];
    fail_reasons constant text[] := '{备件型号不符，需重新申请,故障未能复现，需再次上门,需要专用工具}'::text[];
    resolutions constant text[] := '{更换启动电容,清洗冷凝器并补充冷媒,更换主控板,紧固接线端子,更新控制程序参数,更换温度传感器,调整安装并重新调试}'::text[];
    cancel_reasons constant text[] := '{客户已自行解决,重复报修,客户取消服务}'::text[];
    t timestamptz;
    st aftersales.ticket_status;
    eng bigint;
    login text;
    manager text;
    agent text;
    v integer;
    b integer;
    x float8;
    attempts integer;
    manual_locked boolean;
    zombie integer;
    cycle integer;
    fb integer;
    ei integer;
BEGIN
    t := opened_at;
    st := 'new';
    manager := 'manager:' || province;
    agent := 'agent:cs' || lpad((1 + floor(u[19] * 12))::integer::text, 2, '0');
    attempts := 0;
    manual_locked := false;
    v := 0;
    cycle := 0;
    -- 1.2% get stuck for good: on hold for a discontinued part, with
    -- R&D and never assigned, assigned and never started, locked after
    -- two failed handlings and never taken over
    zombie := CASE WHEN u[28] >= 0.012 THEN 0 WHEN u[29] < 0.3 THEN 1 WHEN u[29] < 0.55 THEN 2
                   WHEN u[29] < 0.8 THEN 3 ELSE 4 END;
    <<life>>
    BEGIN
        t := aftersales_internal.sample_first_minutes(tk, u, priority, zombie, agent, t, cutoff);
        EXIT life WHEN t IS NULL;

        LOOP                                                 -- visits, until closed
            EXIT life WHEN v > 5;
            b := 40 + 15 * v;
            ei := 1 + floor(u[b + 3] * cardinality(engs))::integer;
            eng := engs[ei];
            login := logins[ei];
            IF st = 'locked' THEN                            -- the service manager takes over
                EXIT life WHEN zombie = 4;
                t := t + make_interval(secs => floor(900 + u[b + 11] * 14400));
                EXIT life WHEN t >= cutoff;
                st := aftersales.take_over_ticket(tk, eng, '服务经理接管并指派', actor => manager, at => t);
            ELSE
                x := aftersales_internal.sample_dispatch_minutes(u, b, v, requested_at, priority, t);
                t := t + make_interval(secs => floor(x * 60));
                EXIT life WHEN t >= cutoff;
                st := aftersales.assign_ticket(tk, eng, actor => 'dispatcher', at => t);
                IF st = 'locked' THEN                        -- assigned too late
                    t := t + make_interval(secs => floor(900 + u[b + 11] * 14400));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.take_over_ticket(tk, eng, '服务经理接管并指派', actor => manager, at => t);
                END IF;
            END IF;
            EXIT life WHEN zombie = 3;

            t := t + make_interval(secs => floor(30 + u[b + 4] * 240));
            EXIT life WHEN t >= cutoff;
            st := aftersales.start_work(tk, actor => login, at => t);
            x := CASE WHEN tier = 'key' THEN 0.03 ELSE 0.004 END;
            IF v = 0 AND NOT manual_locked AND u[b + 13] < x THEN
                manual_locked := true;                       -- the manager steps in
                t := t + make_interval(secs => floor(600 + u[b + 14] * 3600));
                EXIT life WHEN t >= cutoff;
                st := aftersales.lock_ticket(tk, '重点客户投诉，服务经理介入', actor => manager, at => t);
                CONTINUE;
            END IF;
            IF v = 0 AND u[b + 10] < 0.006 THEN              -- cancelled while in work
                t := t + make_interval(secs => floor(600 + u[b + 14] * 6600));
                EXIT life WHEN t >= cutoff;
                PERFORM aftersales.cancel_ticket(tk, cancel_reasons[1 + floor(u[24] * 3)::integer], actor => agent, at => t);
                EXIT life;
            END IF;
            IF field THEN                                  -- travel
                x := 120 * exp(0.36 * ln(u[b + 5] / (1 - u[b + 5])));
                IF remote THEN
                    x := x * 1.8;
                END IF;
                t := t + make_interval(secs => floor(x * 60));
                EXIT life WHEN t >= cutoff;
                st := aftersales.arrive_on_site(tk, actor => login, at => t);
            END IF;
            IF cycle = 0 AND (u[b + 6] < 0.08 OR zombie = 1) THEN  -- waiting for a part or the customer
                t := t + make_interval(secs => floor(300 + u[b + 14] * 2700));
                EXIT life WHEN t >= cutoff;
                st := aftersales.hold_ticket(tk, CASE WHEN zombie = 1 THEN '备件停产，等待替代件'
                                                      ELSE hold_reasons[CASE WHEN u[b + 8] < 0.6 THEN 1 ELSE 2 END] END,
                                             actor => login, at => t);
                EXIT life WHEN zombie = 1;
                x := CASE WHEN u[b + 7] < 0.04 THEN 28800 + u[b + 9] * 100000       -- weeks: a discontinued part
                          WHEN u[b + 8] < 0.6 THEN 240 + u[b + 7] * 6960
                          ELSE 60 + u[b + 7] * 2820 END;
                t := t + make_interval(secs => floor(x * 60));
                EXIT life WHEN t >= cutoff;
                st := aftersales.resume_ticket(tk, actor => login, at => t);
            END IF;
            x := CASE WHEN field THEN 75 ELSE 25 END * exp(0.36 * ln(u[b + 12] / (1 - u[b + 12])));
            t := t + make_interval(secs => floor(x * 60));
            EXIT life WHEN t >= cutoff;
            IF cycle = 0 AND (zombie = 4 OR (attempts = 0 AND u[b + 9] < 0.09) OR (attempts = 1 AND u[b + 9] < 0.25)) THEN
                -- the handling failed: back to assignment, or locked after the second
                st := aftersales.fail_attempt(tk, fail_reasons[1 + floor(u[b + 14] * 3)::integer], actor => login, at => t);
                attempts := attempts + 1;
                v := v + 1;
                CONTINUE;
            END IF;
            st := aftersales.resolve_ticket(tk, resolutions[1 + floor(u[b + 10] * 7)::integer], actor => login, at => t);

            -- the follow-up call (回访)
            fb := CASE WHEN cycle = 0 THEN 100 ELSE 130 END;
            EXIT life WHEN cycle = 0 AND u[fb + 27] >= 0.93;  -- never called back: stays resolved
            t := t + make_interval(secs => floor(14400 + u[fb + 28] * 244800));
            EXIT life WHEN t >= cutoff;
            st := aftersales_internal.sample_follow_up(tk, u, fb, cycle > 0, t - opened_at, agent, t);
            IF st = 'new' THEN                               -- not satisfied: back to assignment
                cycle := cycle + 1;
                v := v + 1;
                CONTINUE;
            END IF;
            IF cycle = 0 AND u[fb + 9] < 0.025 THEN          -- the fault comes back
                t := t + make_interval(secs => floor(259200 + u[fb + 10] * 2332800));
                EXIT life WHEN t >= cutoff;
                st := aftersales.reopen_ticket(tk, '故障复发，客户再次报修', actor => agent, at => t);
                cycle := cycle + 1;
                v := v + 1;
                CONTINUE;
            END IF;
            EXIT life;
        END LOOP;
    END;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_life_cycle(bigint, timestamptz, double precision[], aftersales.priority, text, boolean,
                                                          timestamptz, text, boolean, bigint[], text[], timestamptz) IS
  'Internal step of generate_sample_data: one ticket''s life cycle, event by event through the ticket API, up to cutoff';

CREATE FUNCTION aftersales_internal.sample_life_cycles(n integer, sb bigint, cutoff timestamptz, progress integer,
                                                   started timestamptz) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
    done integer := 0;
BEGIN
    -- the life cycles, ticket by ticket, event by event, through the API.
    -- Draws (u[1..160] per ticket): 1-16 entry (the plan above), 19-27
    -- the first minutes, 40 + 15 v .. 54 + 15 v visit v (v <= 3), 100-128
    -- the follow-up, 130-158 the follow-up after a revisit.
    FOR r IN SELECT p.nrank, p.ticket_id, p.opened_at,
                    ARRAY(SELECT LEAST(GREATEST((pg_catalog.hashint8extended(p.i, sb + k) & 9007199254740991)::float8
                                                / 9007199254740992.0, 1e-9), 1 - 1e-9)
                            FROM pg_catalog.generate_series(1, 160) k) AS u, p.priority, p.tier, p.field, p.requested_at,
                    p.province, p.remote, oe.engs, oe.logins
               FROM pg_temp.sample_plan p
               JOIN pg_temp.sample_org_engineers oe ON oe.org_id = p.org_id
              ORDER BY p.nrank
    LOOP
        PERFORM aftersales_internal.sample_life_cycle(r.ticket_id, r.opened_at, r.u, r.priority, r.tier, r.field, r.requested_at,
                                                      r.province, r.remote, r.engs, r.logins, cutoff);
        done := done + 1;
        IF done % 200000 = 0 THEN   -- the event log grows sevenfold meanwhile
            ANALYZE aftersales.ticket_events, aftersales.alerts, aftersales.ticket_escalations;
        END IF;
        IF progress > 0 AND done % progress = 0 THEN
            RAISE NOTICE 'sample data: % of % tickets through their life cycle after % s', done, n,
                round(extract(epoch FROM clock_timestamp() - started)::numeric, 1);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_life_cycles(integer, bigint, timestamptz, integer, timestamptz) IS
  'Internal step of generate_sample_data: the planned tickets'' life cycles, in entry order';

-- The tickets (n of them, entered over the year in Asia/Shanghai time):
--   entry      a summer peak (density 1 - 0.3 cos 2 pi t: July about 1.9
--              times January), 87% between 08:00 and 20:00;
--   what       a unit chosen by model (two models fail most) and then by
--              age (8% early failures within 80 days of installation, 35%
--              for the new model HP-20N); 3% without a unit; the unit's
--              customer and province; 10 fault types, skewed;
--   priority   A 10%, B 35%, C 55% (key customers: 30 / 45 / 25);
--   channel    phone 38%, WeChat 20%, app 14%, web 10%, field 6%, email 5%,
--              walk-in 4%, other 3%; on-site service for 85% of faults
--              (25% of parameter problems, 5% of questions);
--   requested  35% carry a customer-requested date, 4 to 72 hours ahead.
-- Their life cycles, through the API:
--   2% have their priority raised; 1.8% are cancelled before assignment
--   and 0.6% after; 3.5% are transferred to technical support (15% of
--   those to R&D); assignment within minutes by day (7% take hours), at
--   08:30 the next morning for most B and C tickets entered at night; 10%
--   of tickets with a requested date are assigned after it and so locked
--  , then taken over by the province's service manager, who
--   also locks 0.4% of tickets (3% for key customers) to step in; travel
--   of about two hours (longer in the west), work of about an hour; 8% are
--   held (waiting for a part or the customer, hours to days; 0.3% for
--   weeks); 9% of first handlings fail and a quarter of second ones, which
--   locks the ticket (handled twice, still unresolved); follow-up calls
--   (回访) for 93% of resolved tickets, satisfied mostly, CSAT missing in
--   15% and NPS in 28%; an unsatisfied customer sends the ticket back to
--   assignment; 2.5% of closed tickets are reopened within a month.
-- Nothing happens after the end of the year: what would, is the backlog.
CREATE FUNCTION aftersales.generate_sample_data(tenant_name text, seed integer DEFAULT 1, tickets integer DEFAULT 2000,
                                                year integer DEFAULT 2026, progress integer DEFAULT 100000)
    RETURNS aftersales.sample_data_runs
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    example constant text := 'SELECT * FROM aftersales.generate_sample_data(''demo'', seed => 1, tickets => 2000, year => 2026);';
    n integer := tickets;
    s integer := seed;
    yr integer := year;
    started constant timestamptz := pg_catalog.clock_timestamp();
    old_tenant text := pg_catalog.current_setting('aftersales.tenant_id', true);
    prev aftersales.sample_data_runs;
    result aftersales.sample_data_runs;
    tid bigint;
    y0 date;
    cutoff timestamptz;
    ndays integer;
    sb bigint;
    cstarts float8[];
    mstarts float8[];
    pstarts float8[];
    events_n bigint;
BEGIN
    -- arguments
    IF tenant_name IS NULL OR pg_catalog.btrim(tenant_name) = '' THEN
        PERFORM aftersales_internal.sample_error('tenant_name must not be empty',
            'Name the tenant to create, for example: ' || example, '22004');
    END IF;
    IF s IS NULL THEN
        PERFORM aftersales_internal.sample_error('seed must not be null',
            'Any integer seeds the choices; the same seed gives the same data, for example: ' || example, '22004');
    END IF;
    IF n IS NULL OR n NOT BETWEEN 100 AND 10000000 THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('invalid number of sample tickets: %s', COALESCE(n::text, 'NULL')),
            'Ask for 100 to 10000000 tickets: 2000 load in seconds, 1000000 in about an hour; for example: ' || example);
    END IF;
    IF yr IS NULL OR yr NOT BETWEEN 2000 AND 2100 THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('invalid sample year: %s', COALESCE(yr::text, 'NULL')),
            'Years 2000 to 2100 are supported (the full holiday schedule is known for 2026), for example: ' || example);
    END IF;
    IF progress IS NULL OR progress < 0 THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('invalid progress interval: %s', COALESCE(progress::text, 'NULL')),
            'progress is how many tickets between two progress NOTICEs, 0 for none, for example: SELECT * FROM aftersales.generate_sample_data(''big'', tickets => 1000000, progress => 50000);');
    END IF;

    -- idempotent: the same call again returns what the first one built
    SELECT sr.* INTO prev FROM aftersales.sample_data_runs sr
      JOIN aftersales.tenants tn ON tn.tenant_id = sr.tenant_id
     WHERE tn.name = generate_sample_data.tenant_name;
    IF FOUND THEN
        IF prev.seed = s AND prev.tickets = n AND prev.year = yr THEN
            RAISE NOTICE 'tenant "%" already holds this sample data: nothing to do', tenant_name;
            RETURN prev;
        END IF;
        PERFORM aftersales_internal.sample_error(
            pg_catalog.format('tenant "%s" already holds sample data of seed %s, %s tickets, year %s', tenant_name, prev.seed, prev.tickets, prev.year),
            'Use another tenant name, for example: SELECT * FROM aftersales.generate_sample_data(''demo2'', seed => 2);', '42710');
    END IF;
    IF EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.name = tenant_name) THEN
        PERFORM aftersales_internal.sample_error(pg_catalog.format('tenant "%s" already exists', tenant_name),
            'Sample data goes into a new tenant of its own; use another name, for example: ' || example, '42710');
    END IF;

    y0 := pg_catalog.make_date(yr, 1, 1);
    cutoff := pg_catalog.make_timestamptz(yr + 1, 1, 1, 0, 0, 0, 'Asia/Shanghai');
    ndays := pg_catalog.make_date(yr + 1, 1, 1) - y0;
    sb := s::bigint * 1000003;

    -- the tenant, its calendars and SLA policies (the default targets,
    -- copied from tenant 1's shipped default policy)
    LOCK TABLE aftersales.tenants IN SHARE ROW EXCLUSIVE MODE;
    SELECT COALESCE(pg_catalog.max(tn.tenant_id), 1) + 1 INTO tid FROM aftersales.tenants tn;
    INSERT INTO aftersales.tenants (tenant_id, name) VALUES (tid, tenant_name);
    PERFORM pg_catalog.set_config('aftersales.tenant_id', tid::text, true);
    PERFORM aftersales.set_calendar('24x7', 'zone=Asia/Shanghai; mon-sun 00:00-24:00', 'Around the clock, China time', tid);
    PERFORM aftersales.set_calendar('cn-office', aftersales.sample_calendar(yr),
                                    pg_catalog.format('China office hours, %s holidays and make-up days', yr), tid);
    INSERT INTO aftersales.sla_policies (tenant_id, name, calendar, is_default, description)
    VALUES (tid, 'standard', 'cn-office', true, 'Default targets on office hours'),
           (tid, 'key-account', '24x7', false, 'Default targets around the clock, for key customers'' service agreements');
    INSERT INTO aftersales.sla_targets (tenant_id, policy_id, priority, metric, target, clock, pauses_on_hold)
    SELECT tid, p.policy_id, d.priority, d.metric, d.target, d.clock, d.pauses_on_hold
      FROM aftersales.sla_targets d
      JOIN aftersales.sla_policies dp ON dp.tenant_id = 1 AND dp.policy_id = d.policy_id
                                     AND dp.name = 'default'
     CROSS JOIN aftersales.sla_policies p
     WHERE d.tenant_id = 1 AND p.tenant_id = tid
     ORDER BY p.policy_id, d.priority, d.metric;

    -- the company, in steps that pass what they built on in temporary
    -- tables (sample_geo, sample_outlets, sample_customers ...) and the
    -- cumulative weights the draws bucket into
    PERFORM aftersales_internal.sample_organisations(tid);
    PERFORM aftersales_internal.sample_engineers(tid, s, n);
    cstarts := aftersales_internal.sample_customers(tid, s, n, yr, y0);
    mstarts := aftersales_internal.sample_products(tid, s, n, yr, cstarts);
    pstarts := aftersales_internal.sample_problem_types(tid);
    -- the tickets: planned set-based, entered, then driven through their lives
    PERFORM aftersales_internal.sample_ticket_plan(n, y0, ndays, sb, cstarts, mstarts, pstarts);
    PERFORM aftersales_internal.sample_entry(n, y0, progress, started);
    PERFORM aftersales_internal.sample_life_cycles(n, sb, cutoff, progress, started);
    -- the other modules, on top of the tickets (their own salts: the tickets stay as they are)
    PERFORM aftersales_internal.sample_complaints(tid, s, cutoff);
    PERFORM aftersales_internal.sample_surveys(tid, s, cutoff);
    PERFORM aftersales_internal.sample_approvals(tid, s, cutoff);
    -- spare parts, work logs and costs (82_parts_generator.sql)
    PERFORM aftersales_internal.sample_parts(tid, s, yr);
    -- dispatch, workforce and knowledge (86_dispatch_sample.sql)
    PERFORM aftersales_internal.sample_dispatch(tid, s, yr, cutoff);

    -- a bulk load leaves the planner blind until autovacuum comes by: the
    -- KPI queries right after it would plan for empty tables
    ANALYZE aftersales.organisations, aftersales.customers, aftersales.engineers, aftersales.product_models,
            aftersales.units, aftersales.problem_types, aftersales.service_agreements, aftersales.sla_policies,
            aftersales.calendars, aftersales.tickets, aftersales.ticket_events, aftersales.ticket_sla,
            aftersales.occurrences, aftersales.escalation_watches, aftersales.alerts, aftersales.ticket_escalations;
    SELECT count(*) INTO events_n FROM aftersales.ticket_events ev WHERE ev.tenant_id = tid;
    INSERT INTO aftersales.sample_data_runs AS sr (tenant_id, tenant_name, seed, tickets, year, events, started_at, seconds, checksum)
    VALUES (tid, generate_sample_data.tenant_name, s, n, yr, events_n, started,
            round(extract(epoch FROM clock_timestamp() - started)::numeric, 1),
            aftersales.sample_data_checksum(tid))
    RETURNING sr.* INTO result;
    PERFORM set_config('aftersales.tenant_id', COALESCE(old_tenant, ''), true);
    DROP TABLE pg_temp.sample_geo, pg_temp.sample_outlets, pg_temp.sample_customers, pg_temp.sample_models,
               pg_temp.sample_units, pg_temp.sample_problems, pg_temp.sample_plan, pg_temp.sample_org_engineers;
    RETURN result;
END
$$;
COMMENT ON FUNCTION aftersales.generate_sample_data(text, integer, integer, integer, integer) IS
  'Builds a new tenant with a realistic company (HQ, six regions, 31 provinces, outlets of the three organisation types, engineers, customers, products, installed units, China''s calendar, the default SLA policies) and drives a year of its tickets through the ticket API; deterministic for a seed; idempotent for the same arguments; returns the run (events, seconds, checksum)';
REVOKE ALL ON FUNCTION aftersales.generate_sample_data(text, integer, integer, integer, integer) FROM PUBLIC;
-- It reads a whole tenant, whoever calls: granted on purpose only.
REVOKE ALL ON FUNCTION aftersales.sample_data_checksum(bigint) FROM PUBLIC;
