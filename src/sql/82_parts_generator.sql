-- aftersales install script, part 82: the spare-parts step of the sample
-- data generator (generate_sample_data calls it after the tickets' life
-- cycles).  Deterministic like the rest: every draw is sample_u(seed, item,
-- salt) with salts of its own (8201 ...), items being ranks within the
-- tenant, so it never changes a draw of the ticket steps, and the ticket
-- checksum of a seed is the same as without it.  Its own content is
-- summed by sample_parts_checksum().
--
-- What it builds:
--   parts       12 per product line: 3 of class A (expensive, heavy, the
--               old part goes back to the factory), 3 of B, 6 of C; each
--               fits every model of its line and has one of the tenant's
--               suppliers;
--   warehouses  a central one (HQ), one per region, one per province's
--               service station; opening stock at the start of the year,
--               replenished in the central warehouse when it runs dry;
--   orders      about a third of the field tickets that had a visit and
--               were resolved, from the service station of the ticket's
--               province (else the region's warehouse): reserved there when
--               it has the parts, else transferred from the regional or
--               central warehouse; about 5% ship late, 2% are lost in
--               transit (cancelled), 3% wait long to be collected and a
--               few are never collected; events after the year's end are
--               not made, so the last orders are still open;
--   returns and claims for the class A parts used; work logs for every
--   visit (travel and on-site) and for the remote work of resolved
--   non-field tickets; charges priced and closed tickets settled.
-- The ticket life cycles are already written when it runs, so a part
-- order does not hold its ticket here, and is entered by a direct INSERT
-- (request_parts refuses a resolved ticket); everything after goes through
-- the API and the state machine.

CREATE FUNCTION aftersales_internal.sample_parts(tid bigint, s integer, yr integer) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    y0 constant timestamptz := pg_catalog.make_timestamptz(yr, 1, 1, 0, 0, 0, 'Asia/Shanghai');
    cutoff constant timestamptz := pg_catalog.make_timestamptz(yr + 1, 1, 1, 0, 0, 0, 'Asia/Shanghai');
    names constant text[] := ARRAY['主电机', '控制板', '压缩机头', '传感器组件', '密封件套装', '滤芯',
                                   '风扇叶片', '皮带', '保险丝', '继电器', '螺栓套装', '垫片'];
    central bigint;
    t record;
    o record;
    oid_ bigint;
    src bigint;
    a timestamptz;
    u1 double precision;
    u2 double precision;
    u3 double precision;
    cid bigint;
    hq bigint;
    pids bigint[];
    qtys integer[];
    wkg numeric;
BEGIN
    SELECT org.org_id INTO hq FROM aftersales.organisations org WHERE org.tenant_id = tid AND org.level = 'hq';

    -- parts
    INSERT INTO aftersales.parts (tenant_id, part_no, name, part_class, unit_cost, unit_weight_kg, return_required, supplier_org_id)
    SELECT tid, l.code || '-P' || pg_catalog.lpad(k::text, 2, '0'), l.name || names[k],
           CASE WHEN k <= 3 THEN 'A' WHEN k <= 6 THEN 'B' ELSE 'C' END,
           pg_catalog.round((CASE WHEN k <= 3 THEN 500 + 2500 * aftersales_internal.sample_u(s, l.rk * 100 + k, 8201)
                                  WHEN k <= 6 THEN 80 + 420 * aftersales_internal.sample_u(s, l.rk * 100 + k, 8201)
                                  ELSE 5 + 75 * aftersales_internal.sample_u(s, l.rk * 100 + k, 8201) END)::numeric, 2),
           pg_catalog.round((CASE WHEN k <= 3 THEN 5 + 35 * aftersales_internal.sample_u(s, l.rk * 100 + k, 8202)
                                  WHEN k <= 6 THEN 0.5 + 4.5 * aftersales_internal.sample_u(s, l.rk * 100 + k, 8202)
                                  ELSE 0.05 + 0.95 * aftersales_internal.sample_u(s, l.rk * 100 + k, 8202) END)::numeric, 3),
           k <= 3,
           (SELECT sp.org_id FROM (SELECT org.org_id, pg_catalog.row_number() OVER (ORDER BY org.name) AS n,
                                          pg_catalog.count(*) OVER () AS c
                                     FROM aftersales.organisations org
                                    WHERE org.tenant_id = tid AND org.org_type = 'supplier') sp
             WHERE sp.n = 1 + pg_catalog.floor(aftersales_internal.sample_u(s, l.rk * 100 + k, 8203) * sp.c)::integer)
      FROM (SELECT pl.*, pg_catalog.row_number() OVER (ORDER BY pl.code) AS rk
              FROM aftersales.product_lines pl WHERE pl.tenant_id = tid) l
     CROSS JOIN pg_catalog.generate_series(1, 12) k
     ORDER BY l.code, k;
    INSERT INTO aftersales.part_models (tenant_id, part_id, model_id)
    SELECT tid, p.part_id, m.model_id
      FROM aftersales.parts p
      JOIN aftersales.product_lines l ON l.tenant_id = p.tenant_id AND p.part_no LIKE l.code || '-P%'
      JOIN aftersales.product_models m ON m.tenant_id = l.tenant_id AND m.product_line_id = l.product_line_id
     WHERE p.tenant_id = tid
     ORDER BY p.part_id, m.model_id;

    -- warehouses
    INSERT INTO aftersales.warehouses (tenant_id, code, name, kind, owner_org_id) VALUES (tid, 'WH-HQ', '中心库', 'central', hq)
    RETURNING warehouse_id INTO central;
    INSERT INTO aftersales.warehouses (tenant_id, code, name, kind, owner_org_id)
    SELECT tid, 'WH-' || org.region, org.region || '区域库', 'regional', org.org_id
      FROM aftersales.organisations org WHERE org.tenant_id = tid AND org.level = 'region' ORDER BY org.name;
    INSERT INTO aftersales.warehouses (tenant_id, code, name, kind, owner_org_id)
    SELECT tid, 'WH-' || org.province, org.name || '备件库', 'outlet', org.org_id
      FROM aftersales.organisations org
     WHERE org.tenant_id = tid AND org.level = 'outlet' AND org.org_type = 'representative_office'
     ORDER BY org.name;

    -- opening stock: plenty in the centre, some in the regions, a few
    -- cheap parts at the stations
    INSERT INTO aftersales.stock_moves (tenant_id, warehouse_id, part_id, kind, on_hand_delta, reserved_delta, at, reason)
    SELECT tid, w.warehouse_id, p.part_id, 'receipt', x.q, 0, y0, 'opening stock'
      FROM aftersales.warehouses w
     CROSS JOIN aftersales.parts p
     CROSS JOIN LATERAL (
           SELECT CASE w.kind
                    WHEN 'central' THEN CASE p.part_class WHEN 'A' THEN 40 ELSE 150 END
                    WHEN 'regional' THEN pg_catalog.floor(CASE p.part_class WHEN 'A' THEN 4 WHEN 'B' THEN 10 ELSE 25 END
                                                          * aftersales_internal.sample_u(s, pg_catalog.hashtext(w.code || p.part_no), 8204))::integer
                    ELSE CASE WHEN p.part_class = 'C'
                              THEN pg_catalog.floor(5 * aftersales_internal.sample_u(s, pg_catalog.hashtext(w.code || p.part_no), 8204))::integer
                              ELSE 0 END
                  END AS q) x
     WHERE w.tenant_id = tid AND p.tenant_id = tid AND x.q > 0
     ORDER BY w.code, p.part_no;

    -- orders
    FOR t IN
        SELECT tk.ticket_id, tk.rk, tk.arrived_at, tk.model_id, COALESCE(tk.org_id, c.org_id) AS org_id, tk.assignee_id,
               (SELECT w.warehouse_id FROM aftersales.warehouses w
                  JOIN aftersales.organisations wo ON wo.tenant_id = w.tenant_id AND wo.org_id = w.owner_org_id
                 WHERE w.tenant_id = tid AND w.kind = 'outlet' AND wo.province = org.province) AS station,
               (SELECT w.warehouse_id FROM aftersales.warehouses w
                 WHERE w.tenant_id = tid AND w.kind = 'regional' AND w.code = 'WH-' || org.region) AS regional
          FROM (SELECT x.*, pg_catalog.row_number() OVER (ORDER BY x.ticket_id) AS rk
                  FROM aftersales.tickets x WHERE x.tenant_id = tid) tk
          JOIN aftersales.customers c ON c.tenant_id = tk.tenant_id AND c.customer_id = tk.customer_id
          LEFT JOIN aftersales.organisations org ON org.tenant_id = tk.tenant_id AND org.org_id = COALESCE(tk.org_id, c.org_id)
         WHERE tk.field AND tk.arrived_at IS NOT NULL AND tk.first_resolved_at IS NOT NULL AND tk.model_id IS NOT NULL
           AND COALESCE(tk.org_id, c.org_id) IS NOT NULL
           AND aftersales_internal.sample_u(s, tk.rk, 8210) < 0.33
         ORDER BY tk.ticket_id
    LOOP
        u1 := aftersales_internal.sample_u(s, t.rk, 8211);
        u2 := aftersales_internal.sample_u(s, t.rk, 8212);
        u3 := aftersales_internal.sample_u(s, t.rk, 8213);
        a := t.arrived_at + interval '30 minutes';
        IF a >= cutoff THEN
            CONTINUE;
        END IF;
        -- one or two parts of the model's line; C parts by one to three
        SELECT pg_catalog.array_agg(f.part_id ORDER BY f.n),
               pg_catalog.array_agg(CASE WHEN f.part_class = 'C'
                                         THEN 1 + pg_catalog.floor(3 * aftersales_internal.sample_u(s, t.rk * 10 + f.n, 8215))::integer
                                         ELSE 1 END ORDER BY f.n),
               pg_catalog.sum(f.unit_weight_kg * CASE WHEN f.part_class = 'C'
                                         THEN 1 + pg_catalog.floor(3 * aftersales_internal.sample_u(s, t.rk * 10 + f.n, 8215))::integer
                                         ELSE 1 END)
          INTO pids, qtys, wkg
          FROM (SELECT DISTINCT ON (pk.part_id) pk.n, pk.part_id, pk.part_class, pk.unit_weight_kg
                  FROM (SELECT d.n, fit.part_id, fit.part_class, fit.unit_weight_kg
                          FROM pg_catalog.generate_series(1, 1 + (u3 < 0.3)::integer) d (n)
                          CROSS JOIN LATERAL (
                                SELECT p.part_id, p.part_class, p.unit_weight_kg,
                                       pg_catalog.row_number() OVER (ORDER BY p.part_no) AS i, pg_catalog.count(*) OVER () AS c
                                  FROM aftersales.part_models pm
                                  JOIN aftersales.parts p ON p.tenant_id = pm.tenant_id AND p.part_id = pm.part_id
                                 WHERE pm.tenant_id = tid AND pm.model_id = t.model_id) fit
                         WHERE fit.i = 1 + pg_catalog.floor(fit.c * pg_catalog.power(aftersales_internal.sample_u(s, t.rk * 10 + d.n, 8214), 0.7))::integer) pk
                 ORDER BY pk.part_id, pk.n) f;
        CONTINUE WHEN pids IS NULL;
        INSERT INTO aftersales.part_orders AS po (tenant_id, ticket_id, org_id, warehouse_id, engineer_id, requested_at,
                                                  weight_kg, event, event_at)
        VALUES (tid, t.ticket_id, t.org_id, COALESCE(t.station, t.regional, central), t.assignee_id, a, wkg, 'request', a)
        RETURNING po.order_id INTO oid_;
        INSERT INTO aftersales.part_order_lines (tenant_id, order_id, line_no, part_id, quantity)
        SELECT tid, oid_, x.i::integer, x.p, x.q FROM ROWS FROM (pg_catalog.unnest(pids), pg_catalog.unnest(qtys)) WITH ORDINALITY AS x (p, q, i);
        a := a + pg_catalog.make_interval(secs => 600 + 14400 * u1);
        CONTINUE WHEN a >= cutoff;
        PERFORM aftersales.approve_part_order(oid_, at => a);
        -- reserve where the parts are: the station, else the region, else
        -- the centre (replenished when it runs dry)
        src := NULL;
        SELECT x.w INTO src
          FROM (VALUES (1, t.station), (2, t.regional), (3, central)) AS x (k, w)
         WHERE x.w IS NOT NULL
           AND NOT EXISTS (SELECT FROM aftersales.part_order_lines l
                            LEFT JOIN aftersales.stock st ON st.tenant_id = l.tenant_id AND st.warehouse_id = x.w AND st.part_id = l.part_id
                           WHERE l.tenant_id = tid AND l.order_id = oid_ AND COALESCE(st.on_hand - st.reserved, 0) < l.quantity)
         ORDER BY x.k LIMIT 1;
        a := a + interval '10 minutes';
        IF src IS NULL THEN
            src := central;
            INSERT INTO aftersales.stock_moves (tenant_id, warehouse_id, part_id, kind, on_hand_delta, reserved_delta, at, reason)
            SELECT tid, central, l.part_id, 'receipt', 50, 0, a, 'replenishment'
              FROM aftersales.part_order_lines l WHERE l.tenant_id = tid AND l.order_id = oid_ ORDER BY l.part_id;
        END IF;
        CONTINUE WHEN a >= cutoff;
        PERFORM aftersales.reserve_part_order(oid_, src, at => a);
        -- shipping: mostly within hours, 5% late (past the 48-hour target)
        a := a + pg_catalog.make_interval(secs => CASE WHEN u2 < 0.05 THEN 3600 * (50 + 70 * u1) ELSE 3600 * (1 + 30 * u2) END);
        CONTINUE WHEN a >= cutoff;
        PERFORM aftersales.ship_part_order(oid_, CASE WHEN u1 < 0.5 THEN '顺丰速运' ELSE '德邦物流' END,
                                           'T' || pg_catalog.lpad(t.rk::text, 10, '0'), at => a);
        IF u3 > 0.98 THEN
            a := a + interval '96 hours';
            CONTINUE WHEN a >= cutoff;
            PERFORM aftersales.cancel_part_order(oid_, 'lost in transit', at => a);
            CONTINUE;
        END IF;
        a := a + pg_catalog.make_interval(secs => 3600 * (6 + 54 * u3));
        CONTINUE WHEN a >= cutoff;
        PERFORM aftersales.arrive_part_order(oid_, at => a);
        CONTINUE WHEN u3 BETWEEN 0.95 AND 0.96;      -- never collected
        a := a + pg_catalog.make_interval(secs => CASE WHEN u3 BETWEEN 0.92 AND 0.95 THEN 3600 * (48 + 150 * u1)
                                                       ELSE 3600 * (0.5 + 30 * u1 * u1) END);
        CONTINUE WHEN a >= cutoff;
        PERFORM aftersales.collect_part_order(oid_, at => a);
        a := a + interval '1 hour';
        CONTINUE WHEN a >= cutoff;
        IF u2 BETWEEN 0.90 AND 0.93 THEN
            PERFORM aftersales.return_part_order(oid_, 'not needed after diagnosis', at => a);
            CONTINUE;
        END IF;
        PERFORM aftersales.use_part_order(oid_, at => a);
    END LOOP;

    -- old parts back to the factory, and claims
    FOR o IN SELECT r.return_id, r.due_at, pg_catalog.row_number() OVER (ORDER BY r.return_id) AS rk
               FROM aftersales.part_returns r WHERE r.tenant_id = tid ORDER BY r.return_id LOOP
        u1 := aftersales_internal.sample_u(s, o.rk, 8220);
        u2 := aftersales_internal.sample_u(s, o.rk, 8221);
        u3 := aftersales_internal.sample_u(s, o.rk, 8222);
        a := o.due_at + pg_catalog.make_interval(secs => 3600 * (24 + 72 * u1));
        CONTINUE WHEN a >= cutoff;
        IF u2 < 0.05 THEN
            PERFORM aftersales.waive_old_part(o.return_id, 'part destroyed on site', at => a);
            CONTINUE;
        END IF;
        CONTINUE WHEN u2 < 0.12;                     -- still due
        PERFORM aftersales.ship_old_part(o.return_id, '德邦物流', 'R' || pg_catalog.lpad(o.rk::text, 10, '0'), at => a);
        a := a + pg_catalog.make_interval(secs => 3600 * (48 + 72 * u2));
        CONTINUE WHEN a >= cutoff;
        PERFORM aftersales.receive_old_part(o.return_id, at => a);
        a := a + pg_catalog.make_interval(secs => 3600 * (24 + 48 * u3));
        CONTINUE WHEN a >= cutoff;
        PERFORM aftersales.inspect_old_part(o.return_id, CASE WHEN u3 < 0.6 THEN 'supplier_fault' WHEN u3 < 0.9 THEN 'no_fault' ELSE 'misuse' END, at => a);
        CONTINUE WHEN u3 >= 0.6;
        a := a + interval '24 hours';
        CONTINUE WHEN a >= cutoff;
        cid := aftersales.file_claim(o.return_id, at => a);
        a := a + pg_catalog.make_interval(secs => 3600 * (72 + 168 * u1));
        CONTINUE WHEN a >= cutoff;
        IF u1 < 0.75 THEN
            PERFORM aftersales.accept_claim(cid, pg_catalog.round((SELECT c.amount FROM aftersales.part_claims c WHERE c.tenant_id = tid AND c.claim_id = cid)
                                                                  * (0.8 + 0.2 * u2)::numeric, 2), at => a);
        ELSE
            PERFORM aftersales.reject_claim(cid, '磨损, 非质量问题', at => a);
            CONTINUE WHEN u2 < 0.5;
            a := a + interval '48 hours';
            CONTINUE WHEN a >= cutoff;
            PERFORM aftersales.refile_claim(cid, '补充检测报告', at => a);
            a := a + interval '120 hours';
            CONTINUE WHEN a >= cutoff;
            IF u3 < 0.36 THEN
                PERFORM aftersales.accept_claim(cid, at => a);
            ELSE
                PERFORM aftersales.reject_claim(cid, '维持原判', at => a);
                CONTINUE;
            END IF;
        END IF;
        a := a + pg_catalog.make_interval(secs => 86400 * (10 + 20 * u3));
        CONTINUE WHEN a >= cutoff;
        PERFORM aftersales.settle_claim(cid, at => a);
    END LOOP;

    -- work logs: a travel and an on-site log for every visit (arrival
    -- event) by the ticket's engineer; remote work on resolved tickets
    -- without a visit
    INSERT INTO aftersales.work_logs (tenant_id, ticket_id, engineer_id, kind, started_at, ended_at, logged_by)
    SELECT tid, v.ticket_id, v.engineer_id, k.kind,
           CASE k.kind WHEN 'travel' THEN v.at - pg_catalog.make_interval(secs => 1200 + 4200 * v.u) ELSE v.at END,
           CASE k.kind WHEN 'travel' THEN v.at ELSE v.at + pg_catalog.make_interval(secs => 3600 + 10800 * v.u) END,
           'sample'
      FROM (SELECT e.ticket_id, e.at, tk.assignee_id AS engineer_id,
                   aftersales_internal.sample_u(s, tk.rk * 100 + e.seq, 8230) AS u
              FROM (SELECT x.*, pg_catalog.row_number() OVER (ORDER BY x.ticket_id) AS rk
                      FROM aftersales.tickets x WHERE x.tenant_id = tid) tk
              JOIN aftersales.ticket_events e ON e.tenant_id = tk.tenant_id AND e.ticket_id = tk.ticket_id AND e.event = 'arrive'
             WHERE tk.assignee_id IS NOT NULL) v
     CROSS JOIN (VALUES ('travel'), ('on_site')) k (kind)
     ORDER BY v.ticket_id, v.at, k.kind;
    INSERT INTO aftersales.work_logs (tenant_id, ticket_id, engineer_id, kind, started_at, ended_at, logged_by)
    SELECT tid, tk.ticket_id, tk.assignee_id, 'remote', tk.first_response_at,
           tk.first_response_at + pg_catalog.make_interval(secs => 900 + 4500 * aftersales_internal.sample_u(s, tk.rk, 8231)),
           'sample'
      FROM (SELECT x.*, pg_catalog.row_number() OVER (ORDER BY x.ticket_id) AS rk
              FROM aftersales.tickets x WHERE x.tenant_id = tid) tk
     WHERE NOT tk.field AND tk.assignee_id IS NOT NULL AND tk.first_response_at IS NOT NULL AND tk.resolved_at IS NOT NULL
     ORDER BY tk.ticket_id;

    -- charges of the resolved tickets, settled once closed
    FOR t IN SELECT tk.ticket_id, tk.status, tk.closed_at FROM aftersales.tickets tk
              WHERE tk.tenant_id = tid AND tk.status IN ('resolved', 'closed')
                AND EXISTS (SELECT FROM aftersales.work_logs w WHERE w.tenant_id = tid AND w.ticket_id = tk.ticket_id)
              ORDER BY tk.ticket_id LOOP
        IF t.status = 'closed' AND t.closed_at + interval '1 day' < cutoff THEN
            PERFORM aftersales.settle_ticket(t.ticket_id, at => t.closed_at + interval '1 day');
        ELSE
            PERFORM aftersales.price_ticket(t.ticket_id);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sample_parts(bigint, integer, integer) IS
  'Internal step of generate_sample_data: parts, warehouses, stock, part orders for a third of the field repairs, old-part returns and claims, work logs for every visit, charges and settlements; deterministic for a seed';

CREATE FUNCTION aftersales.sample_parts_checksum(tenant bigint DEFAULT aftersales.current_tenant())
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
                  HINT = 'Name a tenant by its id, for example: SELECT aftersales.sample_parts_checksum((SELECT tenant_id FROM aftersales.tenants WHERE name = ''demo''));';
    END IF;
    WITH tk AS (
        SELECT t.ticket_id, pg_catalog.row_number() OVER (ORDER BY t.ticket_id) AS rk
          FROM aftersales.tickets t WHERE t.tenant_id = tenant
    ), od AS (
        SELECT o.*, pg_catalog.row_number() OVER (ORDER BY o.order_id) AS rk
          FROM aftersales.part_orders o WHERE o.tenant_id = tenant
    ), rows_ (r) AS (
        SELECT pg_catalog.concat_ws('|', 'part', p.part_no, p.name, p.part_class, p.unit_cost, p.unit_weight_kg, p.return_required, s.name)
          FROM aftersales.parts p LEFT JOIN aftersales.organisations s ON s.tenant_id = p.tenant_id AND s.org_id = p.supplier_org_id
         WHERE p.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'warehouse', w.code, w.name, w.kind, g.name)
          FROM aftersales.warehouses w JOIN aftersales.organisations g ON g.tenant_id = w.tenant_id AND g.org_id = w.owner_org_id
         WHERE w.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'stock', w.code, p.part_no, st.on_hand, st.reserved, st.moves)
          FROM aftersales.stock st
          JOIN aftersales.warehouses w ON w.tenant_id = st.tenant_id AND w.warehouse_id = st.warehouse_id
          JOIN aftersales.parts p ON p.tenant_id = st.tenant_id AND p.part_id = st.part_id
         WHERE st.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'order', o.rk, t.rk, w.code, sw.code, o.state, o.event_seq, o.weight_kg, o.carrier, o.tracking_no,
                                    extract(epoch FROM o.requested_at), extract(epoch FROM o.approved_at), extract(epoch FROM o.shipped_at),
                                    extract(epoch FROM o.arrived_at), extract(epoch FROM o.collected_at), extract(epoch FROM o.finished_at),
                                    extract(epoch FROM o.cancelled_at),
                                    (SELECT pg_catalog.string_agg(p.part_no || 'x' || l.quantity, ',' ORDER BY l.line_no)
                                       FROM aftersales.part_order_lines l JOIN aftersales.parts p ON p.tenant_id = l.tenant_id AND p.part_id = l.part_id
                                      WHERE l.tenant_id = o.tenant_id AND l.order_id = o.order_id))
          FROM od o JOIN tk t ON t.ticket_id = o.ticket_id
          JOIN aftersales.warehouses w ON w.tenant_id = o.tenant_id AND w.warehouse_id = o.warehouse_id
          LEFT JOIN aftersales.warehouses sw ON sw.tenant_id = o.tenant_id AND sw.warehouse_id = o.source_warehouse_id
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'return', o.rk, r.line_no, r.state, r.event_seq, r.inspection_result,
                                    extract(epoch FROM r.shipped_at), extract(epoch FROM r.received_at),
                                    c.state, c.round, c.amount, c.accepted_amount, extract(epoch FROM c.settled_at))
          FROM aftersales.part_returns r JOIN od o ON o.order_id = r.order_id
          LEFT JOIN aftersales.part_claims c ON c.tenant_id = r.tenant_id AND c.return_id = r.return_id
         WHERE r.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'work', t.rk, e.login, w.kind, extract(epoch FROM w.started_at), extract(epoch FROM w.ended_at))
          FROM aftersales.work_logs w JOIN tk t ON t.ticket_id = w.ticket_id
          JOIN aftersales.engineers e ON e.tenant_id = w.tenant_id AND e.engineer_id = w.engineer_id
         WHERE w.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'charge', t.rk, c.kind, c.description, c.quantity, c.unit_price, c.unit_cost, c.basis,
                                    c.amount, c.cost, c.settlement_id IS NOT NULL)
          FROM aftersales.ticket_charges c JOIN tk t ON t.ticket_id = c.ticket_id
         WHERE c.tenant_id = tenant
    )
    SELECT COALESCE(pg_catalog.sum(pg_catalog.hashtextextended(r, 0)::numeric + 9223372036854775808), 0) % m,
           COALESCE(pg_catalog.sum(pg_catalog.hashtextextended(r, 1)::numeric + 9223372036854775808), 0) % m
      INTO h1, h2
      FROM rows_;
    RETURN pg_catalog.lpad(pg_catalog.to_hex((h1 - 9223372036854775808)::bigint), 16, '0')
           || pg_catalog.lpad(pg_catalog.to_hex((h2 - 9223372036854775808)::bigint), 16, '0');
END
$$;
COMMENT ON FUNCTION aftersales.sample_parts_checksum(bigint) IS
  'Checksum (32 hex digits) of a tenant''s spare-parts and cost content (parts, warehouses, stock, orders and lines, returns, claims, work logs, charges) by natural keys and ranks: equal for equal data in any database';
REVOKE ALL ON FUNCTION aftersales.sample_parts_checksum(bigint) FROM PUBLIC;
