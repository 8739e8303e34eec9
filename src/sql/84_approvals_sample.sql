
-- aftersales install script, part 84 (continued): approvals in the sample
-- data.  Three approving departments at headquarters (customer service,
-- quality assurance, the parts centre), one member each; part orders for
-- about 6% of the tickets and warranty claims for about 3% (from the
-- ticket's organisation), internal requests (内联单) for about 5% (from
-- the ticket's region office).  Quality assurance decides more slowly than
-- customer service, so it is late more often; decisions after the year's
-- end stay pending.  Salts 1901..1907.

CREATE FUNCTION aftersales_internal.sample_approvals(tid bigint, s integer, cutoff timestamptz) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hq bigint;
    t record;
    n integer := 0;
    u float8;
    a bigint;
    at timestamptz;
    dep text;
    kind text;
    org bigint;
    slow float8;
    old_actor text := pg_catalog.current_setting('aftersales.actor', true);
BEGIN
    SELECT o.org_id INTO hq FROM aftersales.organisations o WHERE o.tenant_id = tid AND o.level = 'hq';
    INSERT INTO aftersales.departments (tenant_id, org_id, code, name, calendar)
    VALUES (tid, hq, 'customer_service', '客服中心', 'cn-office'),
           (tid, hq, 'quality_assurance', '质量保证部', 'cn-office'),
           (tid, hq, 'parts_centre', '备件中心', 'cn-office');
    INSERT INTO aftersales.department_members (tenant_id, department_id, member)
    SELECT tid, d.department_id, m.member
      FROM aftersales.departments d
      JOIN (VALUES ('customer_service', 'cs.zhang'), ('quality_assurance', 'qa.li'), ('parts_centre', 'parts.wu')) m (code, member)
        ON m.code = d.code
     WHERE d.tenant_id = tid;
    PERFORM pg_catalog.set_config('aftersales.tenant_id', tid::text, true);
    PERFORM aftersales.set_approval_target('part_order', 'parts_centre', '4 hours'),
            aftersales.set_approval_target('warranty_claim', 'quality_assurance', '8 hours'),
            aftersales.set_approval_target('internal_request', 'customer_service', '8 hours'),
            aftersales.set_approval_target('internal_request', 'quality_assurance', '16 hours'),
            aftersales.set_approval_target('fee_waiver', 'customer_service', '4 hours'),
            aftersales.set_approval_target('complaint_compensation', 'customer_service', '8 hours');

    FOR t IN SELECT k.ticket_id, k.opened_at, k.org_id, o.region,
                    pg_catalog.row_number() OVER (ORDER BY k.ticket_id) AS rank
               FROM aftersales.tickets k
               JOIN aftersales.organisations o ON o.tenant_id = k.tenant_id AND o.org_id = k.org_id
              WHERE k.tenant_id = tid ORDER BY k.ticket_id LOOP
        u := aftersales_internal.sample_u(s, t.rank, 1901);
        CONTINUE WHEN u >= 0.14;
        IF u < 0.06 THEN
            kind := 'part_order'; dep := 'parts_centre'; org := t.org_id; slow := 6;
        ELSIF u < 0.09 THEN
            kind := 'warranty_claim'; dep := 'quality_assurance'; org := t.org_id; slow := 30;
        ELSE
            kind := 'internal_request';
            IF aftersales_internal.sample_u(s, t.rank, 1902) < 0.6 THEN
                dep := 'customer_service'; slow := 10;
            ELSE
                dep := 'quality_assurance'; slow := 36;
            END IF;
            SELECT o.org_id INTO org FROM aftersales.organisations o
             WHERE o.tenant_id = tid AND o.level = 'region' AND o.region = t.region ORDER BY o.org_id LIMIT 1;
            org := COALESCE(org, t.org_id);
        END IF;
        at := pg_catalog.date_trunc('minute', t.opened_at + pg_catalog.make_interval(
                  mins => (30 + 600 * aftersales_internal.sample_u(s, t.rank, 1903))::integer));
        CONTINUE WHEN at >= cutoff;
        a := aftersales.submit_approval(kind, dep, kind || ' for ticket ' || t.rank, org => org, ticket => t.ticket_id,
                                        amount => CASE WHEN kind <> 'internal_request'
                                                       THEN pg_catalog.round((200 + 5000 * aftersales_internal.sample_u(s, t.rank, 1904))::numeric, 2) END,
                                        at => at);
        n := n + 1;
        -- decided after a wall-clock wait that grows with the department's
        -- slowness; quality assurance falls behind over the year's last
        -- weeks and leaves most of them pending
        CONTINUE WHEN dep = 'quality_assurance' AND at > cutoff - interval '21 days'
                      AND aftersales_internal.sample_u(s, t.rank, 1907) < 0.7;
        at := at + pg_catalog.make_interval(mins => (10 + slow * 60 * 2 * aftersales_internal.sample_u(s, t.rank, 1905) ^ 2)::integer);
        CONTINUE WHEN at >= cutoff;
        u := aftersales_internal.sample_u(s, t.rank, 1906);
        IF u < 0.05 THEN
            PERFORM aftersales.withdraw_approval(a, '申请人撤回', at);
            CONTINUE;
        END IF;
        PERFORM pg_catalog.set_config('aftersales.actor',
                                      CASE dep WHEN 'customer_service' THEN 'cs.zhang' WHEN 'quality_assurance' THEN 'qa.li'
                                               ELSE 'parts.wu' END, true);
        IF u < 0.15 THEN
            PERFORM aftersales.reject_approval(a, '资料不全', at);
        ELSE
            PERFORM aftersales.grant_approval(a, NULL, at);
        END IF;
        PERFORM pg_catalog.set_config('aftersales.actor', COALESCE(old_actor, ''), true);
    END LOOP;
    PERFORM aftersales.sweep_approvals(cutoff, tid);
    RETURN n;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_approvals(bigint, integer, timestamptz) IS
  'Internal: the sample data''s approvals (part orders, warranty claims, internal requests; quality assurance slower than customer service) through the approval API; returns how many were submitted';
REVOKE ALL ON FUNCTION aftersales_internal.sample_approvals(bigint, integer, timestamptz) FROM PUBLIC;
