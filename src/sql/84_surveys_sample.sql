
-- aftersales install script, part 84 (continued): surveys in the sample
-- data.  One after-service questionnaire; a post-service survey for about
-- 40% of the closed tickets (WeChat, SMS or e-mail, answered by about 45%,
-- 25% and 15%, some partly); one quarterly campaign (the third quarter)
-- by e-mail to every customer.  Scores follow the ticket: a failed
-- handling or a reopen pulls them down.  Salts 1801..1812.

CREATE FUNCTION aftersales_internal.sample_surveys(tid bigint, s integer, cutoff timestamptz) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tpl bigint;
    t record;
    sid bigint;
    n integer := 0;
    u float8;
    ch text;
    csat integer;
    at timestamptz;
    words constant text[] := ARRAY['工程师很专业, 响应及时', '上门太慢, 等了两天', '备件等待时间太长', '压缩机异响没有彻底解决',
                                   '收费不透明', '服务态度很好', '维修后又出现故障', 'quick and polite engineer',
                                   '电话一直占线, 响应慢', '希望提前电话预约上门时间'];
BEGIN
    tpl := aftersales.create_survey_template('after_service', '售后服务满意度调查',
        '[{"kind": "rating", "prompt": "您对本次服务的总体满意度 (overall satisfaction)", "metric": "csat"},
          {"kind": "nps", "prompt": "您向朋友推荐我们的可能性 (likelihood to recommend)", "metric": "nps"},
          {"kind": "single", "prompt": "问题是否一次解决 (solved on the first visit)?", "choices": ["是", "否"]},
          {"kind": "multiple", "prompt": "哪些方面需要改进 (what could be better)?", "choices": ["响应速度", "技术水平", "服务态度", "备件", "收费"]},
          {"kind": "rating", "prompt": "工程师的专业程度 (engineer''s professionalism)"},
          {"kind": "text", "prompt": "其他意见 (anything else)"}]');
    FOR t IN SELECT k.ticket_id, k.closed_at, k.attempt_count, k.reopen_count,
                    pg_catalog.row_number() OVER (ORDER BY k.ticket_id) AS rank
               FROM aftersales.tickets k WHERE k.tenant_id = tid AND k.status = 'closed' ORDER BY k.ticket_id LOOP
        CONTINUE WHEN aftersales_internal.sample_u(s, t.rank, 1801) >= 0.40;
        at := pg_catalog.date_trunc('minute', t.closed_at) + interval '1 hour';
        CONTINUE WHEN at >= cutoff;
        u := aftersales_internal.sample_u(s, t.rank, 1802);
        ch := CASE WHEN u < 0.5 THEN 'wechat' WHEN u < 0.8 THEN 'sms' ELSE 'email' END;
        sid := aftersales.send_survey(tpl, t.ticket_id, ch, '14 days', at);
        n := n + 1;
        u := aftersales_internal.sample_u(s, t.rank, 1803);
        CONTINUE WHEN u >= CASE ch WHEN 'wechat' THEN 0.45 WHEN 'sms' THEN 0.25 ELSE 0.15 END;
        at := at + pg_catalog.make_interval(mins => (10 + 4000 * aftersales_internal.sample_u(s, t.rank, 1804) ^ 2)::integer);
        CONTINUE WHEN at >= cutoff;
        u := aftersales_internal.sample_u(s, t.rank, 1805);
        csat := CASE WHEN t.attempt_count > 0 OR t.reopen_count > 0 THEN 1 + (u * 4)::integer
                     ELSE 3 + (u * 2.6)::integer END;
        csat := LEAST(csat, 5);
        IF aftersales_internal.sample_u(s, t.rank, 1806) < 0.15 THEN
            PERFORM aftersales.answer_survey(sid, pg_catalog.jsonb_build_object('1', csat, '2', LEAST(10, csat * 2)), at);
        ELSE
            PERFORM aftersales.answer_survey(sid, pg_catalog.jsonb_build_object(
                '1', csat,
                '2', LEAST(10, GREATEST(0, csat * 2 - 1 + (aftersales_internal.sample_u(s, t.rank, 1807) * 3)::integer)),
                '3', CASE WHEN t.attempt_count = 0 AND t.reopen_count = 0 THEN '是' ELSE '否' END,
                '4', CASE WHEN csat >= 4 THEN '["技术水平"]'::jsonb
                          WHEN aftersales_internal.sample_u(s, t.rank, 1808) < 0.5 THEN '["响应速度", "备件"]'::jsonb
                          ELSE '["服务态度", "收费"]'::jsonb END,
                '5', LEAST(5, csat + (aftersales_internal.sample_u(s, t.rank, 1809) < 0.3)::integer),
                '6', words[1 + ((CASE WHEN csat >= 4 THEN 0 ELSE 1 END
                                 + 2 * (aftersales_internal.sample_u(s, t.rank, 1810) * 5)::integer) % 10)]), at);
        END IF;
    END LOOP;
    -- the third quarter's campaign, by e-mail to every customer
    at := pg_catalog.make_timestamptz(pg_catalog.date_part('year', cutoff - interval '1 day')::integer, 9, 15, 10, 0, 0, 'Asia/Shanghai');
    IF at < cutoff THEN
        PERFORM aftersales.start_survey_campaign('Q3 满意度调查', tpl, 'email', at => at);
        FOR t IN SELECT sv.survey_id, pg_catalog.row_number() OVER (ORDER BY sv.survey_id) AS rank
                   FROM aftersales.surveys sv WHERE sv.tenant_id = tid AND sv.campaign_id IS NOT NULL ORDER BY sv.survey_id LOOP
            n := n + 1;
            CONTINUE WHEN aftersales_internal.sample_u(s, t.rank, 1811) >= 0.22;
            csat := 2 + (aftersales_internal.sample_u(s, t.rank, 1812) * 3.4)::integer;
            PERFORM aftersales.answer_survey(t.survey_id, pg_catalog.jsonb_build_object(
                '1', LEAST(csat, 5), '2', LEAST(10, csat * 2), '3', '是', '4', '["响应速度"]'::jsonb, '5', LEAST(csat, 5)),
                at + pg_catalog.make_interval(hours => (2 + 200 * aftersales_internal.sample_u(s, t.rank, 1811))::integer));
        END LOOP;
    END IF;
    PERFORM aftersales.expire_surveys(cutoff, tid);
    RETURN n;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_surveys(bigint, integer, timestamptz) IS
  'Internal: the sample data''s surveys (post-service surveys for about 40% of the closed tickets, a third-quarter campaign) sent and answered through the survey API; returns how many were sent';
REVOKE ALL ON FUNCTION aftersales_internal.sample_surveys(bigint, integer, timestamptz) FROM PUBLIC;
