
-- aftersales install script, part 86: the dispatch, workforce and
-- knowledge step of generate_sample_data.  It runs after the tickets'
-- life cycles and writes only columns and tables of this module, drawing
-- with its own salts (8600 and up), so the tenant's checksum (tickets,
-- events, clocks) is the same with or without it:
--   * positions: each province's capital, outlets and customers' sites
--     scattered around it (a few kilometres, customers up to ~30 km);
--   * engineers: seniority, skills for complex faults, and a working
--     calendar each: China office hours, or a weekend rota (Wednesday to
--     Sunday) for one in five, with two to five days of leave as closures;
--   * attendance for the last eight weeks of the year: check-ins around
--     the outlet, some late, a few far away (location anomalies), a few
--     check-outs missing;
--   * the knowledge base: an article per product line and fault type
--     (Chinese text), written in the first days of January, most published;
--   * resolutions of the resolved tickets: remote (phone or video) for
--     tickets without a visit, on site otherwise, parts only for some; an
--     article used for most, helped for most of those.
CREATE FUNCTION aftersales_internal.sample_dispatch(tid bigint, s integer, yr integer, cutoff timestamptz) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a record;
    id bigint;
    base text;
    at0 timestamptz := cutoff - '60 days'::interval;
BEGIN
    CREATE TEMP TABLE sample_capitals ON COMMIT DROP AS
    SELECT c.province, c.lat, c.lon
      FROM (VALUES ('上海', 31.2304, 121.4737), ('江苏', 32.0603, 118.7969), ('浙江', 30.2741, 120.1551),
                   ('安徽', 31.8206, 117.2272), ('福建', 26.0745, 119.2965), ('江西', 28.6820, 115.8579),
                   ('山东', 36.6512, 117.1201), ('北京', 39.9042, 116.4074), ('天津', 39.3434, 117.3616),
                   ('河北', 38.0428, 114.5149), ('山西', 37.8706, 112.5489), ('内蒙古', 40.8414, 111.7519),
                   ('辽宁', 41.8057, 123.4315), ('吉林', 43.8171, 125.3235), ('黑龙江', 45.8038, 126.5350),
                   ('河南', 34.7466, 113.6254), ('湖北', 30.5928, 114.3055), ('湖南', 28.2282, 112.9388),
                   ('广东', 23.1291, 113.2644), ('广西', 22.8170, 108.3665), ('海南', 20.0440, 110.1999),
                   ('陕西', 34.3416, 108.9398), ('甘肃', 36.0611, 103.8343), ('青海', 36.6171, 101.7782),
                   ('宁夏', 38.4872, 106.2309), ('新疆', 43.8256, 87.6168), ('重庆', 29.5630, 106.5516),
                   ('四川', 30.5728, 104.0668), ('贵州', 26.6470, 106.6302), ('云南', 25.0389, 102.7183),
                   ('西藏', 29.6520, 91.1721)) AS c (province, lat, lon);

    -- positions: outlets within ~5 km of the capital, customers within ~30 km
    UPDATE aftersales.organisations o
       SET latitude = pg_catalog.round((c.lat + (aftersales_internal.sample_u(s, o.org_id, 8601) - 0.5) * 0.08)::numeric, 5)::float8,
           longitude = pg_catalog.round((c.lon + (aftersales_internal.sample_u(s, o.org_id, 8602) - 0.5) * 0.08)::numeric, 5)::float8
      FROM aftersales.organisations p, pg_temp.sample_capitals c
     WHERE o.tenant_id = tid AND o.level = 'outlet' AND p.tenant_id = tid AND p.org_id = o.parent_id
       AND c.province = p.province;
    UPDATE aftersales.customers cu
       SET latitude = pg_catalog.round((c.lat + (aftersales_internal.sample_u(s, cu.customer_id, 8603) - 0.5) * 0.5)::numeric, 5)::float8,
           longitude = pg_catalog.round((c.lon + (aftersales_internal.sample_u(s, cu.customer_id, 8604) - 0.5) * 0.5)::numeric, 5)::float8
      FROM pg_temp.sample_capitals c
     WHERE cu.tenant_id = tid AND c.province = cu.province;

    -- complex faults need senior engineers; control boards and electrical
    -- faults need the electrical skill
    UPDATE aftersales.problem_types p
       SET required_skills = CASE WHEN p.code IN ('E05', 'E06') THEN '{electrical}'::text[] ELSE '{}'::text[] END,
           complex = p.code = 'E05'
     WHERE p.tenant_id = tid;

    -- engineers: seniority, and a calendar of their own (shifts and leave)
    FOR a IN SELECT e.engineer_id, e.login FROM aftersales.engineers e WHERE e.tenant_id = tid ORDER BY e.engineer_id LOOP
        base := CASE WHEN aftersales_internal.sample_u(s, a.engineer_id, 8605) < 0.2
                     THEN 'zone=Asia/Shanghai; wed-sun 09:00-12:00,13:00-18:00'
                     ELSE aftersales.sample_calendar(CASE WHEN yr IN (2025, 2026) THEN yr ELSE 2026 END)::text END;
        SELECT base || pg_catalog.string_agg(pg_catalog.format('; closed %s 00:00-24:00',
                   (pg_catalog.make_date(yr, 1, 1) + pg_catalog.floor(aftersales_internal.sample_u(s, a.engineer_id * 10 + k, 8606) * 360)::integer)),
                   '' ORDER BY k)
          INTO base
          FROM pg_catalog.generate_series(1, 2 + pg_catalog.floor(aftersales_internal.sample_u(s, a.engineer_id, 8607) * 4)::integer) k;
        PERFORM aftersales.set_calendar('eng-' || a.login, base::aftersales.calendar, 'Shifts and leave', tid);
        UPDATE aftersales.engineers e
           SET calendar = 'eng-' || a.login,
               seniority = CASE WHEN aftersales_internal.sample_u(s, a.engineer_id, 8608) < 0.2 THEN 'junior'
                                WHEN aftersales_internal.sample_u(s, a.engineer_id, 8608) < 0.6 THEN 'regular'
                                WHEN aftersales_internal.sample_u(s, a.engineer_id, 8608) < 0.9 THEN 'senior'
                                ELSE 'expert' END
         WHERE e.tenant_id = tid AND e.engineer_id = a.engineer_id;
    END LOOP;

    -- attendance: every shift day of the last 60 days: check-in before the
    -- shift (8% late by 10 to 60 minutes), check-out after it (2% missing);
    -- 3% of check-ins 5 to 20 km from the outlet
    INSERT INTO aftersales.attendance_events (tenant_id, engineer_id, org_id, kind, at, latitude, longitude, reference, reference_km,
                                              anomaly, actor, recorded_at)
    SELECT tid, x.engineer_id, x.org_id, x.kind, x.at, x.lat, x.lon, 'outlet',
           pg_catalog.round(aftersales.distance_km(x.lat, x.lon, x.olat, x.olon)::numeric, 3),
           aftersales.distance_km(x.lat, x.lon, x.olat, x.olon) > 3, 'sample', x.at
      FROM (SELECT d.engineer_id, d.org_id, d.olat, d.olon, k.kind,
                   CASE WHEN k.kind = 'check_in'
                        THEN d.shift_start + pg_catalog.make_interval(mins => CASE WHEN d.u_late < 0.08 THEN 10 + pg_catalog.floor(d.u_late * 600)::integer
                                                                                  ELSE -5 - pg_catalog.floor(d.u_late * 20)::integer END)
                        ELSE d.shift_end + pg_catalog.make_interval(mins => pg_catalog.floor(d.u_out * 30)::integer) END AS at,
                   d.olat + CASE WHEN d.u_far < 0.03 AND k.kind = 'check_in' THEN 0.05 + d.u_far * 4 ELSE (d.u_far - 0.5) * 0.004 END AS lat,
                   d.olon + (d.u_out - 0.5) * 0.004 AS lon, d.u_miss
              FROM (SELECT e.engineer_id, e.org_id, o.latitude AS olat, o.longitude AS olon,
                           aftersales.next_business_time(c.calendar, g.day::timestamp AT TIME ZONE 'Asia/Shanghai') AS shift_start,
                           aftersales.business_add(c.calendar, aftersales.next_business_time(c.calendar, g.day::timestamp AT TIME ZONE 'Asia/Shanghai'),
                                                   '8 hours'::interval) AS shift_end,
                           aftersales_internal.sample_u(s, e.engineer_id * 1000 + g.i, 8609) AS u_late,
                           aftersales_internal.sample_u(s, e.engineer_id * 1000 + g.i, 8610) AS u_out,
                           aftersales_internal.sample_u(s, e.engineer_id * 1000 + g.i, 8611) AS u_far,
                           aftersales_internal.sample_u(s, e.engineer_id * 1000 + g.i, 8612) AS u_miss,
                           g.day
                      FROM aftersales.engineers e
                      JOIN aftersales.calendars c ON c.tenant_id = e.tenant_id AND c.name = e.calendar
                      JOIN aftersales.organisations o ON o.tenant_id = e.tenant_id AND o.org_id = e.org_id
                     CROSS JOIN LATERAL (SELECT gs::date AS day, pg_catalog.row_number() OVER () AS i
                                           FROM pg_catalog.generate_series((at0 AT TIME ZONE 'Asia/Shanghai')::date::timestamp,
                                                                           ((cutoff AT TIME ZONE 'Asia/Shanghai')::date - 1)::timestamp,
                                                                           '1 day'::interval) gs) g
                     WHERE e.tenant_id = tid AND o.latitude IS NOT NULL) d
             CROSS JOIN (VALUES ('check_in'), ('check_out')) k (kind)
             WHERE (d.shift_start AT TIME ZONE 'Asia/Shanghai')::date = d.day
               AND d.shift_end < cutoff
               AND NOT (k.kind = 'check_out' AND d.u_miss < 0.02)) x
     ORDER BY x.at, x.engineer_id, x.kind;

    -- the knowledge base: one article per product line and fault type
    FOR a IN SELECT l.product_line_id, l.name AS line, l.code, p.problem_type_id, p.code AS pcode, t.title, t.symptom, t.cause, t.solution,
                    pg_catalog.row_number() OVER (ORDER BY l.product_line_id, p.problem_type_id) AS i
               FROM aftersales.product_lines l
               JOIN (VALUES
                   ('E01', '不制冷或不制热', '开机运行但出风温度与环境温度接近，压缩机运行电流偏低。', '制冷剂不足或膨胀阀堵塞。',
                    '1. 检查高低压压力；2. 检漏并补充制冷剂至铭牌充注量；3. 压力仍异常时更换膨胀阀。'),
                   ('E02', '运行异响或振动大', '运行时有金属撞击声，机组振动明显，地脚螺栓松动。', '减震垫老化或风扇叶片不平衡。',
                    '1. 紧固地脚螺栓；2. 更换减震垫；3. 检查风扇叶片动平衡，必要时更换。'),
                   ('E03', '漏水或漏氟', '机组下方有水迹或油迹，系统压力逐日下降。', '排水管堵塞或铜管焊点砂眼。',
                    '1. 疏通排水管；2. 用检漏仪查找漏点；3. 补焊后保压24小时再充注。'),
                   ('E04', '无法启动', '上电后面板无显示或显示正常但压缩机不启动。', '电源缺相、保险丝熔断或启动电容失效。',
                    '1. 测量三相电压；2. 更换熔断的保险丝；3. 检测并更换启动电容。'),
                   ('E05', '控制板故障', '面板报通信故障，机组频繁重启。', '主控板受潮或元器件击穿。',
                    '1. 断电检查主控板有无烧痕；2. 烘干或更换主控板；3. 升级固件并恢复参数。'),
                   ('E06', '电气故障', '空气开关跳闸，接触器触点发黑。', '接触器触点烧蚀或线缆绝缘破损。',
                    '1. 测量绝缘电阻；2. 更换接触器；3. 更换破损线缆并紧固端子。'),
                   ('E07', '传感器报警', '面板显示温度传感器故障代码，读数跳变。', '传感器探头损坏或接插件松动。',
                    '1. 测量传感器阻值；2. 重新插紧接插件；3. 阻值异常时更换传感器。'),
                   ('E08', '参数设置问题', '设定温度达不到，运行模式不对。', '参数被误改或模式设置错误。',
                    '1. 远程查看参数；2. 按出厂设置恢复；3. 指导客户正确设置运行模式。'),
                   ('E09', '安装调试问题', '新装机组运行不稳定，保护频繁。', '管路安装不规范或电源容量不足。',
                    '1. 核对安装规范；2. 检查电源容量；3. 重新抽真空并调试。'),
                   ('E10', '操作咨询', '客户不会使用定时和节能功能。', '客户不熟悉操作面板。',
                    '1. 电话或视频指导操作；2. 发送操作手册链接。'))
                 AS t (pcode, title, symptom, cause, solution) ON true
               JOIN aftersales.problem_types p ON p.tenant_id = tid AND p.code = t.pcode
              WHERE l.tenant_id = tid
              ORDER BY l.product_line_id, p.problem_type_id LOOP
        id := aftersales.create_article(a.product_line_id, a.line || '：' || a.title, a.line || a.symptom, a.solution, a.cause,
                                        NULL, a.problem_type_id,
                                        ARRAY['https://kb.example.com/' || pg_catalog.lower(a.code) || '/' || pg_catalog.lower(a.pcode) || '.pdf'],
                                        'zh', pg_catalog.make_timestamptz(yr, 1, 2, 9, 0, 0, 'Asia/Shanghai') + pg_catalog.make_interval(mins => a.i::integer));
        -- a few stay drafts or in review; the rest are published
        IF aftersales_internal.sample_u(s, a.i, 8613) < 0.9 THEN
            PERFORM aftersales.submit_article(id, pg_catalog.make_timestamptz(yr, 1, 3, 9, 0, 0, 'Asia/Shanghai') + pg_catalog.make_interval(mins => a.i::integer));
            PERFORM aftersales.publish_article(id, pg_catalog.make_timestamptz(yr, 1, 5, 9, 0, 0, 'Asia/Shanghai') + pg_catalog.make_interval(mins => a.i::integer));
        END IF;
    END LOOP;

    -- resolutions of resolved tickets
    INSERT INTO aftersales.ticket_resolutions (tenant_id, ticket_id, mode, remote_attempted, article_id, article_version,
                                               article_helped, resolved_at, recorded_by)
    SELECT tid, x.ticket_id, x.mode, x.mode LIKE 'remote%' OR x.u_remote < 0.08, k.article_id,
           CASE WHEN k.article_id IS NOT NULL THEN k.version END,
           CASE WHEN k.article_id IS NOT NULL THEN x.u_helped < 0.85 END,
           x.resolved_at, 'sample'
      FROM (SELECT t.ticket_id, t.resolved_at, t.model_id, t.problem_type_id,
                   CASE WHEN t.arrived_at IS NOT NULL THEN
                            CASE WHEN aftersales_internal.sample_u(s, t.ticket_id, 8614) < 0.08 THEN 'parts_only' ELSE 'on_site' END
                        WHEN aftersales_internal.sample_u(s, t.ticket_id, 8614) < 0.3 THEN 'remote_video'
                        ELSE 'remote_phone' END AS mode,
                   aftersales_internal.sample_u(s, t.ticket_id, 8615) AS u_remote,
                   aftersales_internal.sample_u(s, t.ticket_id, 8616) AS u_article,
                   aftersales_internal.sample_u(s, t.ticket_id, 8617) AS u_helped
              FROM aftersales.tickets t
             WHERE t.tenant_id = tid AND t.resolved_at IS NOT NULL) x
      LEFT JOIN aftersales.product_models m ON m.tenant_id = tid AND m.model_id = x.model_id
      LEFT JOIN aftersales.kb_articles k ON k.tenant_id = tid AND k.product_line_id = m.product_line_id
                                        AND k.problem_type_id = x.problem_type_id AND k.state = 'published'
                                        AND x.u_article < 0.7
                                        AND x.resolved_at >= pg_catalog.make_timestamptz(yr, 1, 6, 0, 0, 0, 'Asia/Shanghai')
     ORDER BY x.ticket_id;
    DROP TABLE pg_temp.sample_capitals;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_dispatch(bigint, integer, integer, timestamptz) IS
  'Internal step of generate_sample_data: positions, engineers'' calendars and seniority, eight weeks of attendance, the knowledge base and the resolutions'' modes and articles; leaves the checksum unchanged';
REVOKE ALL ON FUNCTION aftersales_internal.sample_dispatch(bigint, integer, integer, timestamptz) FROM PUBLIC;
