
-- aftersales install script, part 84 (continued): complaints in the
-- sample data.  About 3% of the tickets draw a complaint, far more after a
-- failed handling, a reopen or a late arrival on site; a few come from
-- outside parties (a regulator's referral, a neighbour).  Each is driven
-- through the complaint API at times after its ticket, by three members
-- who handle complaints.  Deterministic for a seed: draws are
-- sample_u(seed, ticket rank, salt) with salts of its own (1701..1712),
-- so the tickets (and their checksum) are those of the run without it.

CREATE FUNCTION aftersales_internal.sample_complaints(tid bigint, s integer, cutoff timestamptz) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    n integer := 0;
    c bigint;
    u float8;
    p float8;
    at timestamptz;
    src text;
    reason text;
    descr text;
    sev text;
    handler text;
    old_actor text := pg_catalog.current_setting('aftersales.actor', true);
    handlers constant text[] := ARRAY['cs.zhang', 'cs.wang', 'cs.chen'];
BEGIN
    PERFORM aftersales.add_standard_complaint_reasons(tid);
    INSERT INTO aftersales.members (tenant_id, name, via, kind, org_id)
    SELECT tid, h.name, 'app', h.kind::aftersales.member_kind, o.org_id
      FROM (VALUES ('cs.zhang', 'agent'), ('cs.wang', 'agent'), ('cs.chen', 'agent'), ('qa.li', 'manager')) h (name, kind)
      JOIN aftersales.organisations o ON o.tenant_id = tid AND o.level = 'hq'
    ON CONFLICT DO NOTHING;
    PERFORM aftersales.set_complaint_target('critical', '1 hour', '8 hours', 'cn-office', tid),
            aftersales.set_complaint_target('high', '2 hours', '16 hours', 'cn-office', tid),
            aftersales.set_complaint_target('medium', '4 hours', '24 hours', 'cn-office', tid),
            aftersales.set_complaint_target('low', '8 hours', '40 hours', 'cn-office', tid);

    FOR t IN SELECT k.*, pg_catalog.row_number() OVER (ORDER BY k.ticket_id) AS rank
               FROM aftersales.tickets k WHERE k.tenant_id = tid ORDER BY k.ticket_id LOOP
        u := aftersales_internal.sample_u(s, t.rank, 1701);
        p := 0.012 + CASE WHEN t.attempt_count > 0 THEN 0.08 ELSE 0 END
                   + CASE WHEN t.reopen_count > 0 THEN 0.06 ELSE 0 END
                   + CASE WHEN t.arrived_at - t.opened_at > interval '4 hours' THEN 0.04 ELSE 0 END;
        CONTINUE WHEN u >= p;
        -- received a few hours to two days after the ticket's latest news
        at := pg_catalog.date_trunc('minute', COALESCE(t.resolved_at, t.arrived_at, t.opened_at)
              + pg_catalog.make_interval(mins => (30 + 2880 * aftersales_internal.sample_u(s, t.rank, 1702))::integer));
        CONTINUE WHEN at >= cutoff;
        u := aftersales_internal.sample_u(s, t.rank, 1703);
        src := CASE WHEN u < 0.40 THEN 'phone' WHEN u < 0.60 THEN 'wechat' WHEN u < 0.70 THEN 'app'
                    WHEN u < 0.78 THEN 'web' WHEN u < 0.83 THEN 'email' WHEN u < 0.88 THEN 'regulator'
                    WHEN u < 0.93 THEN 'social_media' WHEN u < 0.96 THEN 'letter' ELSE 'visit' END;
        u := aftersales_internal.sample_u(s, t.rank, 1704);
        reason := CASE WHEN t.attempt_count > 0 OR t.reopen_count > 0 THEN
                           CASE WHEN u < 0.6 THEN 'product_quality.repeat_fault' ELSE 'timeliness.repair_slow' END
                       WHEN t.arrived_at - t.opened_at > interval '4 hours' THEN 'timeliness.arrival_late'
                       WHEN u < 0.22 THEN 'service_attitude.rude' WHEN u < 0.30 THEN 'service_attitude.no_callback'
                       WHEN u < 0.45 THEN 'timeliness.response_late' WHEN u < 0.60 THEN 'product_quality.defect'
                       WHEN u < 0.68 THEN 'product_quality.early_failure' WHEN u < 0.78 THEN 'charges.overcharge'
                       WHEN u < 0.84 THEN 'charges.unclear' WHEN u < 0.91 THEN 'parts.delay'
                       WHEN u < 0.95 THEN 'parts.wrong' ELSE 'other' END;
        u := aftersales_internal.sample_u(s, t.rank, 1705);
        descr := CASE pg_catalog.split_part(reason, '.', 1)
                 WHEN 'timeliness' THEN (ARRAY['工程师上门迟到, 等了一整天', '报修后两天没人响应', '维修周期太长, 影响生产'])[1 + (u * 3)::integer % 3]
                 WHEN 'product_quality' THEN (ARRAY['维修后压缩机又出现异响', '新设备三个月就故障', '同一故障反复出现'])[1 + (u * 3)::integer % 3]
                 WHEN 'service_attitude' THEN '客服态度差, 承诺回电没有回电'
                 WHEN 'charges' THEN '上门费收费不透明, 收费过高'
                 WHEN 'parts' THEN '备件迟迟不到, 维修一直等待'
                 ELSE '其他问题' END;
        sev := CASE WHEN u < 0.05 THEN 'critical' WHEN u < 0.25 THEN 'high' WHEN u < 0.80 THEN 'medium' ELSE 'low' END;
        handler := handlers[1 + (aftersales_internal.sample_u(s, t.rank, 1706) * 3)::integer % 3];
        PERFORM pg_catalog.set_config('aftersales.actor', handler, true);
        IF aftersales_internal.sample_u(s, t.rank, 1707) < 0.05 THEN
            c := aftersales.open_complaint(src, reason, descr,
                                           complainant_name => CASE WHEN src = 'regulator' THEN '12315 转办' ELSE '邻居' END,
                                           severity => sev, ticket => t.ticket_id, engineer => t.assignee_id, at => at);
        ELSE
            c := aftersales.open_complaint(src, reason, descr, customer => t.customer_id,
                                           severity => sev, ticket => t.ticket_id, unit => t.unit_id,
                                           engineer => t.assignee_id, at => at);
        END IF;
        n := n + 1;
        -- taken within minutes to a working day; some wait past the year
        at := at + pg_catalog.make_interval(mins => (5 + 600 * aftersales_internal.sample_u(s, t.rank, 1708) ^ 2)::integer);
        CONTINUE WHEN at >= cutoff;
        u := aftersales_internal.sample_u(s, t.rank, 1709);
        IF u < 0.04 THEN
            PERFORM aftersales.withdraw_complaint(c, '投诉人撤回', at);
            CONTINUE;
        ELSIF u < 0.12 THEN
            PERFORM aftersales.escalate_complaint(c, '升级至质量部', at);
            at := at + interval '30 minutes';
            CONTINUE WHEN at >= cutoff;
            PERFORM aftersales.assign_complaint(c, 'qa.li', NULL, at);
        ELSE
            PERFORM aftersales.take_complaint(c, at);
        END IF;
        at := at + interval '20 minutes';
        CONTINUE WHEN at >= cutoff;
        PERFORM aftersales.start_complaint(c, at);
        at := at + pg_catalog.make_interval(mins => (60 + 21600 * aftersales_internal.sample_u(s, t.rank, 1710) ^ 2)::integer);
        CONTINUE WHEN at >= cutoff;
        PERFORM aftersales.resolve_complaint(c, '已致歉并处理', at);
        at := at + pg_catalog.make_interval(hours => (4 + 96 * aftersales_internal.sample_u(s, t.rank, 1713))::integer);
        CONTINUE WHEN at >= cutoff;
        u := aftersales_internal.sample_u(s, t.rank, 1711);
        IF u < 0.12 THEN
            PERFORM aftersales.reject_complaint(c, '对处理结果不满意', at);
            at := at + interval '1 day';
            CONTINUE WHEN at >= cutoff;
            PERFORM aftersales.resolve_complaint(c, '再次处理', at);
            at := at + interval '1 day';
            CONTINUE WHEN at >= cutoff;
            u := 0.5;
        END IF;
        IF u < 0.22 THEN
            IF at + interval '6 days' < cutoff THEN
                PERFORM aftersales.close_complaint(c, '投诉人七日未回复', at + interval '6 days');
            END IF;
        ELSE
            PERFORM aftersales.confirm_complaint(c, at);
            IF aftersales_internal.sample_u(s, t.rank, 1712) < 0.8 AND at + interval '1 hour' < cutoff THEN
                PERFORM aftersales.close_complaint(c, NULL, at + interval '1 hour');
            END IF;
        END IF;
    END LOOP;
    PERFORM pg_catalog.set_config('aftersales.actor', COALESCE(old_actor, ''), true);
    RETURN n;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_complaints(bigint, integer, timestamptz) IS
  'Internal: the sample data''s complaints (about 3% of the tickets, more after failed handlings, reopens and late arrivals) driven through the complaint API; returns how many';
REVOKE ALL ON FUNCTION aftersales_internal.sample_complaints(bigint, integer, timestamptz) FROM PUBLIC;
