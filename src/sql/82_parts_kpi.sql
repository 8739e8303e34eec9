-- aftersales install script, part 82: the KPIs of spare parts and of
-- service costs, as views for BI tools.
--
-- Like the ticket KPI views: security_invoker, the current tenant only, as
-- of aftersales.now(), months cut in the tenant's reporting zone, plain
-- types (rates numeric(5,4), hours numeric(14,2), money numeric(14,2),
-- kilograms numeric(14,3)), a comment on every view and column.  Each
-- grouped view carries its counts next to its rates, so a BI tool that
-- rolls months, regions or warehouses up sums the counts and divides.
--
-- Definitions (also in the KPI catalogue, in English and Chinese):
--   judged order   approved, and shipped or past its ship_due_at, and not
--                  cancelled unshipped before it was due (a withdrawn
--                  request is no demand left unserved);
--   filled         a judged order that shipped (its lines are filled);
--   in stock       filled from the warehouse asked first (no transfer);
--   unsatisfied    a judged order not shipped by its ship_due_at;
--   sign-off       collected by the engineer within 24 h / 48 h / 7 days
--                  of shipping, over the shipped orders whose window has
--                  passed or that were collected.

CREATE VIEW aftersales.parts_order_facts WITH (security_invoker = true) AS
WITH z AS (SELECT aftersales.current_tenant() AS tenant_id,
                  COALESCE(aftersales.reporting_zone(aftersales.current_tenant()), 'Asia/Shanghai') AS zone,
                  aftersales.now() AS as_of)
SELECT o.tenant_id, o.order_id, o.ticket_id, o.org_id, org.region::text AS region,
       pg_catalog.date_trunc('month', o.requested_at AT TIME ZONE z.zone)::date AS month,
       o.warehouse_id, w.code AS warehouse_code, o.source_warehouse_id, sw.code AS source_warehouse_code,
       (o.source_warehouse_id IS NOT NULL AND o.source_warehouse_id <> o.warehouse_id) AS transferred,
       o.state, o.requested_at, o.approved_at, o.ship_due_at, o.shipped_at, o.arrived_at, o.collected_at,
       l.lines::integer AS lines, l.bc_lines::integer AS bc_lines, l.units::integer AS units,
       o.weight_kg::numeric(14,3) AS weight_kg,
       j.judged,
       (j.judged AND o.shipped_at IS NOT NULL) AS filled,
       (j.judged AND o.shipped_at IS NOT NULL AND o.source_warehouse_id = o.warehouse_id) AS filled_in_stock,
       (j.judged AND (o.shipped_at IS NULL OR o.shipped_at > o.ship_due_at)) AS unsatisfied,
       (EXTRACT(epoch FROM o.shipped_at - o.approved_at) / 3600)::numeric(14,2) AS hours_to_ship,
       (EXTRACT(epoch FROM o.collected_at - o.shipped_at) / 3600)::numeric(14,2) AS hours_to_collect
  FROM z
  JOIN aftersales.part_orders o ON o.tenant_id = z.tenant_id
  JOIN aftersales.organisations org ON org.tenant_id = o.tenant_id AND org.org_id = o.org_id
  JOIN aftersales.warehouses w ON w.tenant_id = o.tenant_id AND w.warehouse_id = o.warehouse_id
  LEFT JOIN aftersales.warehouses sw ON sw.tenant_id = o.tenant_id AND sw.warehouse_id = o.source_warehouse_id
  CROSS JOIN LATERAL (
      SELECT pg_catalog.count(*) AS lines, pg_catalog.count(*) FILTER (WHERE p.part_class IN ('B', 'C')) AS bc_lines,
             pg_catalog.sum(ol.quantity) AS units
        FROM aftersales.part_order_lines ol
        JOIN aftersales.parts p ON p.tenant_id = ol.tenant_id AND p.part_id = ol.part_id
       WHERE ol.tenant_id = o.tenant_id AND ol.order_id = o.order_id) l
  CROSS JOIN LATERAL (
      SELECT (o.approved_at IS NOT NULL
              AND (o.shipped_at IS NOT NULL OR o.ship_due_at <= z.as_of)
              AND NOT (o.shipped_at IS NULL AND o.cancelled_at IS NOT NULL AND o.cancelled_at < o.ship_due_at)) AS judged) j;
COMMENT ON VIEW aftersales.parts_order_facts IS
  'One row per part order of the current tenant, as of now, with its dimensions, timings and judgements (judged, filled, filled in stock, unsatisfied): the base of the parts KPIs';
COMMENT ON COLUMN aftersales.parts_order_facts.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.parts_order_facts.order_id IS 'Part order';
COMMENT ON COLUMN aftersales.parts_order_facts.ticket_id IS 'Ticket';
COMMENT ON COLUMN aftersales.parts_order_facts.org_id IS 'Organisation asking';
COMMENT ON COLUMN aftersales.parts_order_facts.region IS 'Region of the organisation asking';
COMMENT ON COLUMN aftersales.parts_order_facts.month IS 'First day of the month of the request (reporting zone)';
COMMENT ON COLUMN aftersales.parts_order_facts.warehouse_id IS 'Warehouse asked first';
COMMENT ON COLUMN aftersales.parts_order_facts.warehouse_code IS 'Its code';
COMMENT ON COLUMN aftersales.parts_order_facts.source_warehouse_id IS 'Warehouse it was reserved and shipped from';
COMMENT ON COLUMN aftersales.parts_order_facts.source_warehouse_code IS 'Its code';
COMMENT ON COLUMN aftersales.parts_order_facts.transferred IS 'Reserved in another warehouse than the one asked';
COMMENT ON COLUMN aftersales.parts_order_facts.state IS 'State of the order';
COMMENT ON COLUMN aftersales.parts_order_facts.requested_at IS 'Requested';
COMMENT ON COLUMN aftersales.parts_order_facts.approved_at IS 'Approved';
COMMENT ON COLUMN aftersales.parts_order_facts.ship_due_at IS 'Approval plus the ship target';
COMMENT ON COLUMN aftersales.parts_order_facts.shipped_at IS 'Shipped';
COMMENT ON COLUMN aftersales.parts_order_facts.arrived_at IS 'Arrived at the outlet';
COMMENT ON COLUMN aftersales.parts_order_facts.collected_at IS 'Collected by the engineer';
COMMENT ON COLUMN aftersales.parts_order_facts.lines IS 'Order lines';
COMMENT ON COLUMN aftersales.parts_order_facts.bc_lines IS 'Order lines of class B or C parts';
COMMENT ON COLUMN aftersales.parts_order_facts.units IS 'Units ordered';
COMMENT ON COLUMN aftersales.parts_order_facts.weight_kg IS 'Weight of the order, kilograms';
COMMENT ON COLUMN aftersales.parts_order_facts.judged IS 'Counts in the fill rates and the unsatisfied shares: approved, shipped or past its ship due time, not withdrawn before it was due';
COMMENT ON COLUMN aftersales.parts_order_facts.filled IS 'Judged and shipped';
COMMENT ON COLUMN aftersales.parts_order_facts.filled_in_stock IS 'Filled from the warehouse asked first';
COMMENT ON COLUMN aftersales.parts_order_facts.unsatisfied IS 'Judged and not shipped by its ship due time (不满意单)';
COMMENT ON COLUMN aftersales.parts_order_facts.hours_to_ship IS 'Hours from approval to shipment';
COMMENT ON COLUMN aftersales.parts_order_facts.hours_to_collect IS 'Hours from shipment to collection (sign-off)';

CREATE VIEW aftersales.parts_fill_rates WITH (security_invoker = true) AS
SELECT f.month, f.region, f.warehouse_id, f.warehouse_code,
       pg_catalog.sum(f.lines) FILTER (WHERE f.judged)::bigint AS lines_requested,
       COALESCE(pg_catalog.sum(f.lines) FILTER (WHERE f.filled), 0)::bigint AS lines_filled,
       COALESCE(pg_catalog.sum(f.lines) FILTER (WHERE f.filled_in_stock), 0)::bigint AS lines_filled_in_stock,
       COALESCE(pg_catalog.sum(f.bc_lines) FILTER (WHERE f.judged), 0)::bigint AS bc_lines_requested,
       COALESCE(pg_catalog.sum(f.bc_lines) FILTER (WHERE f.filled), 0)::bigint AS bc_lines_filled,
       (pg_catalog.sum(f.lines) FILTER (WHERE f.filled)::numeric
        / NULLIF(pg_catalog.sum(f.lines) FILTER (WHERE f.judged), 0))::numeric(5,4) AS fill_rate,
       (COALESCE(pg_catalog.sum(f.lines) FILTER (WHERE f.filled_in_stock), 0)::numeric
        / NULLIF(pg_catalog.sum(f.lines) FILTER (WHERE f.judged), 0))::numeric(5,4) AS in_stock_fill_rate,
       (COALESCE(pg_catalog.sum(f.bc_lines) FILTER (WHERE f.filled), 0)::numeric
        / NULLIF(pg_catalog.sum(f.bc_lines) FILTER (WHERE f.judged), 0))::numeric(5,4) AS bc_fill_rate
  FROM aftersales.parts_order_facts f
 WHERE f.judged
 GROUP BY f.month, f.region, f.warehouse_id, f.warehouse_code;
COMMENT ON VIEW aftersales.parts_fill_rates IS
  'Fill rates (满足率) of the current tenant by month of request, region of the organisation asking and warehouse asked: overall, in stock (现货满足率) and B/C class (BC类满足率), with their line counts';
COMMENT ON COLUMN aftersales.parts_fill_rates.month IS 'First day of the month of the request (reporting zone)';
COMMENT ON COLUMN aftersales.parts_fill_rates.region IS 'Region of the organisation asking';
COMMENT ON COLUMN aftersales.parts_fill_rates.warehouse_id IS 'Warehouse asked first';
COMMENT ON COLUMN aftersales.parts_fill_rates.warehouse_code IS 'Its code';
COMMENT ON COLUMN aftersales.parts_fill_rates.lines_requested IS 'Lines of the judged orders';
COMMENT ON COLUMN aftersales.parts_fill_rates.lines_filled IS 'Of them, shipped';
COMMENT ON COLUMN aftersales.parts_fill_rates.lines_filled_in_stock IS 'Of them, shipped from the warehouse asked (no transfer)';
COMMENT ON COLUMN aftersales.parts_fill_rates.bc_lines_requested IS 'Lines of class B or C parts of the judged orders';
COMMENT ON COLUMN aftersales.parts_fill_rates.bc_lines_filled IS 'Of them, shipped';
COMMENT ON COLUMN aftersales.parts_fill_rates.fill_rate IS 'Overall fill rate (总体满足率): lines_filled / lines_requested';
COMMENT ON COLUMN aftersales.parts_fill_rates.in_stock_fill_rate IS 'In-stock fill rate (现货满足率): lines_filled_in_stock / lines_requested';
COMMENT ON COLUMN aftersales.parts_fill_rates.bc_fill_rate IS 'B/C-class fill rate (BC类满足率): bc_lines_filled / bc_lines_requested';

CREATE VIEW aftersales.parts_monthly WITH (security_invoker = true) AS
WITH z AS (SELECT COALESCE(aftersales.reporting_zone(aftersales.current_tenant()), 'Asia/Shanghai') AS zone,
                  aftersales.now() AS as_of),
req AS (
    SELECT f.month,
           pg_catalog.count(*) AS orders_requested,
           pg_catalog.count(*) FILTER (WHERE f.state IN ('requested', 'approved', 'reserved')) AS orders_unshipped,
           pg_catalog.count(*) FILTER (WHERE f.judged) AS orders_judged,
           pg_catalog.count(*) FILTER (WHERE f.unsatisfied) AS orders_unsatisfied,
           COALESCE(pg_catalog.sum(f.weight_kg) FILTER (WHERE f.judged), 0) AS weight_judged,
           COALESCE(pg_catalog.sum(f.weight_kg) FILTER (WHERE f.unsatisfied), 0) AS weight_unsatisfied,
           pg_catalog.sum(f.lines) FILTER (WHERE f.judged) AS lines_requested,
           COALESCE(pg_catalog.sum(f.lines) FILTER (WHERE f.filled), 0) AS lines_filled,
           COALESCE(pg_catalog.sum(f.lines) FILTER (WHERE f.filled_in_stock), 0) AS lines_filled_in_stock,
           pg_catalog.sum(f.bc_lines) FILTER (WHERE f.judged) AS bc_lines_requested,
           COALESCE(pg_catalog.sum(f.bc_lines) FILTER (WHERE f.filled), 0) AS bc_lines_filled
      FROM aftersales.parts_order_facts f
     GROUP BY f.month),
shp AS (
    SELECT pg_catalog.date_trunc('month', f.shipped_at AT TIME ZONE z.zone)::date AS month,
           pg_catalog.count(*) AS orders_shipped,
           pg_catalog.count(*) FILTER (WHERE f.collected_at IS NOT NULL OR f.shipped_at + interval '24 hours' <= z.as_of) AS judged_24h,
           pg_catalog.count(*) FILTER (WHERE f.hours_to_collect <= 24) AS signed_24h,
           pg_catalog.count(*) FILTER (WHERE f.collected_at IS NOT NULL OR f.shipped_at + interval '48 hours' <= z.as_of) AS judged_48h,
           pg_catalog.count(*) FILTER (WHERE f.hours_to_collect <= 48) AS signed_48h,
           pg_catalog.count(*) FILTER (WHERE f.collected_at IS NOT NULL OR f.shipped_at + interval '7 days' <= z.as_of) AS judged_7d,
           pg_catalog.count(*) FILTER (WHERE f.hours_to_collect <= 168) AS signed_7d
      FROM aftersales.parts_order_facts f, z
     WHERE f.shipped_at IS NOT NULL
     GROUP BY 1)
SELECT COALESCE(r.month, s.month) AS month,
       COALESCE(r.orders_requested, 0)::bigint AS orders_requested,
       COALESCE(r.orders_unshipped, 0)::bigint AS orders_unshipped,
       COALESCE(r.orders_judged, 0)::bigint AS orders_judged,
       COALESCE(r.orders_unsatisfied, 0)::bigint AS orders_unsatisfied,
       COALESCE(r.weight_judged, 0)::numeric(14,3) AS weight_kg_judged,
       COALESCE(r.weight_unsatisfied, 0)::numeric(14,3) AS weight_kg_unsatisfied,
       (r.orders_unsatisfied::numeric / NULLIF(r.orders_judged, 0))::numeric(5,4) AS unsatisfied_shipment_share,
       (r.weight_unsatisfied / NULLIF(r.weight_judged, 0))::numeric(5,4) AS unsatisfied_tonnage_share,
       (r.lines_filled::numeric / NULLIF(r.lines_requested, 0))::numeric(5,4) AS fill_rate,
       (r.lines_filled_in_stock::numeric / NULLIF(r.lines_requested, 0))::numeric(5,4) AS in_stock_fill_rate,
       (r.bc_lines_filled::numeric / NULLIF(r.bc_lines_requested, 0))::numeric(5,4) AS bc_fill_rate,
       COALESCE(s.orders_shipped, 0)::bigint AS orders_shipped,
       (s.signed_24h::numeric / NULLIF(s.judged_24h, 0))::numeric(5,4) AS sign_off_24h_rate,
       (s.signed_48h::numeric / NULLIF(s.judged_48h, 0))::numeric(5,4) AS sign_off_48h_rate,
       (s.signed_7d::numeric / NULLIF(s.judged_7d, 0))::numeric(5,4) AS sign_off_7d_rate
  FROM req r FULL JOIN shp s ON s.month = r.month;
COMMENT ON VIEW aftersales.parts_monthly IS
  'The parts board of the current tenant by month: requested and still unshipped orders (本月申请单, 本月未发单), unsatisfied orders'' shares by shipment and by tonnage (不满意单的发运占比和吨位占比), fill rates, and sign-off within 24 h, 48 h and 7 days (by month of shipment)';
COMMENT ON COLUMN aftersales.parts_monthly.month IS 'First day of the month (of the request; of the shipment for the sign-off columns)';
COMMENT ON COLUMN aftersales.parts_monthly.orders_requested IS 'Orders requested in the month';
COMMENT ON COLUMN aftersales.parts_monthly.orders_unshipped IS 'Of them, not shipped yet (requested, approved or reserved now)';
COMMENT ON COLUMN aftersales.parts_monthly.orders_judged IS 'Of them, judged (approved, shipped or past due, not withdrawn before due)';
COMMENT ON COLUMN aftersales.parts_monthly.orders_unsatisfied IS 'Of the judged, not shipped by their ship due time';
COMMENT ON COLUMN aftersales.parts_monthly.weight_kg_judged IS 'Weight of the judged orders, kilograms';
COMMENT ON COLUMN aftersales.parts_monthly.weight_kg_unsatisfied IS 'Weight of the unsatisfied orders, kilograms';
COMMENT ON COLUMN aftersales.parts_monthly.unsatisfied_shipment_share IS 'Unsatisfied orders'' shipment share: orders_unsatisfied / orders_judged';
COMMENT ON COLUMN aftersales.parts_monthly.unsatisfied_tonnage_share IS 'Unsatisfied orders'' tonnage share: weight_kg_unsatisfied / weight_kg_judged';
COMMENT ON COLUMN aftersales.parts_monthly.fill_rate IS 'Overall fill rate: lines of judged orders shipped / lines of judged orders';
COMMENT ON COLUMN aftersales.parts_monthly.in_stock_fill_rate IS 'In-stock fill rate: lines shipped from the warehouse asked / lines of judged orders';
COMMENT ON COLUMN aftersales.parts_monthly.bc_fill_rate IS 'B/C-class fill rate: B and C lines shipped / B and C lines of judged orders';
COMMENT ON COLUMN aftersales.parts_monthly.orders_shipped IS 'Orders shipped in the month';
COMMENT ON COLUMN aftersales.parts_monthly.sign_off_24h_rate IS 'Of the orders shipped in the month that were collected or whose 24 hours have passed: share collected within 24 hours of shipping';
COMMENT ON COLUMN aftersales.parts_monthly.sign_off_48h_rate IS 'The same within 48 hours';
COMMENT ON COLUMN aftersales.parts_monthly.sign_off_7d_rate IS 'The same within 7 days';

CREATE VIEW aftersales.parts_warehouse_shipments WITH (security_invoker = true) AS
WITH z AS (SELECT COALESCE(aftersales.reporting_zone(aftersales.current_tenant()), 'Asia/Shanghai') AS zone)
SELECT pg_catalog.date_trunc('month', f.shipped_at AT TIME ZONE z.zone)::date AS month,
       w.warehouse_id, w.code AS warehouse_code, w.name AS warehouse_name, w.kind AS warehouse_kind,
       org.region::text AS region,
       pg_catalog.count(*)::bigint AS shipments,
       pg_catalog.count(*) FILTER (WHERE f.transferred)::bigint AS transfers,
       pg_catalog.sum(f.lines)::bigint AS lines, pg_catalog.sum(f.units)::bigint AS units,
       pg_catalog.sum(f.weight_kg)::numeric(14,3) AS weight_kg
  FROM aftersales.parts_order_facts f
 CROSS JOIN z
  JOIN aftersales.warehouses w ON w.tenant_id = f.tenant_id AND w.warehouse_id = f.source_warehouse_id
  JOIN aftersales.organisations org ON org.tenant_id = w.tenant_id AND org.org_id = w.owner_org_id
 WHERE f.shipped_at IS NOT NULL
 GROUP BY 1, w.warehouse_id, w.code, w.name, w.kind, org.region;
COMMENT ON VIEW aftersales.parts_warehouse_shipments IS
  'Shipments (发运) of each warehouse of the current tenant by month of shipment';
COMMENT ON COLUMN aftersales.parts_warehouse_shipments.month IS 'First day of the month of shipment (reporting zone)';
COMMENT ON COLUMN aftersales.parts_warehouse_shipments.warehouse_id IS 'Warehouse shipped from';
COMMENT ON COLUMN aftersales.parts_warehouse_shipments.warehouse_code IS 'Its code';
COMMENT ON COLUMN aftersales.parts_warehouse_shipments.warehouse_name IS 'Its name';
COMMENT ON COLUMN aftersales.parts_warehouse_shipments.warehouse_kind IS 'central, regional or outlet';
COMMENT ON COLUMN aftersales.parts_warehouse_shipments.region IS 'Region of the organisation running it (NULL for headquarters)';
COMMENT ON COLUMN aftersales.parts_warehouse_shipments.shipments IS 'Orders shipped';
COMMENT ON COLUMN aftersales.parts_warehouse_shipments.transfers IS 'Of them, orders that had asked another warehouse';
COMMENT ON COLUMN aftersales.parts_warehouse_shipments.lines IS 'Lines shipped';
COMMENT ON COLUMN aftersales.parts_warehouse_shipments.units IS 'Units shipped';
COMMENT ON COLUMN aftersales.parts_warehouse_shipments.weight_kg IS 'Weight shipped, kilograms';

CREATE VIEW aftersales.parts_uncollected WITH (security_invoker = true) AS
SELECT o.order_id, o.ticket_id, o.org_id, o.engineer_id, o.source_warehouse_id AS warehouse_id, o.arrived_at,
       (EXTRACT(epoch FROM aftersales.now() - o.arrived_at) / 3600)::numeric(14,2) AS hours_waiting,
       (aftersales.now() >= o.arrived_at + pg_catalog.make_interval(secs => (aftersales_internal.parts_settings(o.tenant_id)).uncollected_alert_hours * 3600)) AS overdue
  FROM aftersales.part_orders o
 WHERE o.tenant_id = aftersales.current_tenant() AND o.state = 'arrived';
COMMENT ON VIEW aftersales.parts_uncollected IS
  'Parts arrived and not collected (备件到达未取件) of the current tenant, as of now; overdue ones have raised alert part_not_collected';
COMMENT ON COLUMN aftersales.parts_uncollected.order_id IS 'Part order';
COMMENT ON COLUMN aftersales.parts_uncollected.ticket_id IS 'Ticket';
COMMENT ON COLUMN aftersales.parts_uncollected.org_id IS 'Organisation asking';
COMMENT ON COLUMN aftersales.parts_uncollected.engineer_id IS 'Engineer to collect it';
COMMENT ON COLUMN aftersales.parts_uncollected.warehouse_id IS 'Warehouse it came from';
COMMENT ON COLUMN aftersales.parts_uncollected.arrived_at IS 'When it arrived at the outlet';
COMMENT ON COLUMN aftersales.parts_uncollected.hours_waiting IS 'Hours since arrival';
COMMENT ON COLUMN aftersales.parts_uncollected.overdue IS 'Waiting longer than parts_settings.uncollected_alert_hours';

CREATE VIEW aftersales.parts_claims_monthly WITH (security_invoker = true) AS
WITH z AS (SELECT aftersales.current_tenant() AS tenant_id,
                  COALESCE(aftersales.reporting_zone(aftersales.current_tenant()), 'Asia/Shanghai') AS zone),
c AS (
    SELECT pg_catalog.date_trunc('month', c.filed_at AT TIME ZONE z.zone)::date AS month,
           pg_catalog.count(*) AS filed,
           pg_catalog.count(*) FILTER (WHERE c.state IN ('accepted', 'settled')) AS accepted,
           pg_catalog.count(*) FILTER (WHERE c.state IN ('rejected', 'finally_rejected')) AS rejected,
           pg_catalog.count(*) FILTER (WHERE c.round = 2) AS second_claims,
           pg_catalog.sum(c.amount) AS amount, COALESCE(pg_catalog.sum(c.accepted_amount), 0) AS accepted_amount
      FROM z JOIN aftersales.part_claims c ON c.tenant_id = z.tenant_id
     GROUP BY 1),
r AS (
    SELECT pg_catalog.date_trunc('month', r.due_at AT TIME ZONE z.zone)::date AS month,
           pg_catalog.count(*) AS returns_due,
           pg_catalog.count(*) FILTER (WHERE r.state IN ('due', 'shipped')) AS returns_outstanding
      FROM z JOIN aftersales.part_returns r ON r.tenant_id = z.tenant_id
     GROUP BY 1)
SELECT COALESCE(c.month, r.month) AS month,
       COALESCE(c.filed, 0)::bigint AS claims_filed, COALESCE(c.accepted, 0)::bigint AS claims_accepted,
       COALESCE(c.rejected, 0)::bigint AS claims_rejected, COALESCE(c.second_claims, 0)::bigint AS second_claims,
       COALESCE(c.amount, 0)::numeric(14,2) AS amount_claimed, COALESCE(c.accepted_amount, 0)::numeric(14,2) AS amount_accepted,
       (c.accepted::numeric / NULLIF(c.accepted + c.rejected, 0))::numeric(5,4) AS claim_acceptance_rate,
       COALESCE(r.returns_due, 0)::bigint AS old_parts_due, COALESCE(r.returns_outstanding, 0)::bigint AS old_parts_outstanding
  FROM c FULL JOIN r ON r.month = c.month;
COMMENT ON VIEW aftersales.parts_claims_monthly IS
  'Warranty claims against suppliers (索赔, 二次索赔) by month filed, and old parts due back to the factory (旧件返厂) by month due, of the current tenant, as they stand now';
COMMENT ON COLUMN aftersales.parts_claims_monthly.month IS 'First day of the month (filed for claims, due for old parts)';
COMMENT ON COLUMN aftersales.parts_claims_monthly.claims_filed IS 'Claims filed';
COMMENT ON COLUMN aftersales.parts_claims_monthly.claims_accepted IS 'Of them, accepted (or settled)';
COMMENT ON COLUMN aftersales.parts_claims_monthly.claims_rejected IS 'Of them, rejected now (a first rejection not yet refiled, or a final one)';
COMMENT ON COLUMN aftersales.parts_claims_monthly.second_claims IS 'Of them, filed a second time after a rejection';
COMMENT ON COLUMN aftersales.parts_claims_monthly.amount_claimed IS 'Amount claimed';
COMMENT ON COLUMN aftersales.parts_claims_monthly.amount_accepted IS 'Amount accepted';
COMMENT ON COLUMN aftersales.parts_claims_monthly.claim_acceptance_rate IS 'claims_accepted / (claims_accepted + claims_rejected)';
COMMENT ON COLUMN aftersales.parts_claims_monthly.old_parts_due IS 'Old-part returns that became due';
COMMENT ON COLUMN aftersales.parts_claims_monthly.old_parts_outstanding IS 'Of them, not yet received by the factory (due or shipped)';

-- ---------------------------------------------------------------------------
-- Costs and utilisation

-- Cost is computed from the raw rows at the tenant's current cost rates,
-- whether or not the ticket was priced: labour (on-site and remote hours)
-- and travel hours at labour_cost_per_hour, travel at travel_cost_per_hour
-- on top, parts used at unit cost.  Fees charged by hand carry no cost.
CREATE VIEW aftersales.cost_tickets WITH (security_invoker = true) AS
WITH z AS (SELECT aftersales.current_tenant() AS tenant_id,
                  COALESCE(aftersales.reporting_zone(aftersales.current_tenant()), 'Asia/Shanghai') AS zone,
                  aftersales_internal.parts_settings(aftersales.current_tenant()) AS s)
SELECT t.ticket_id, pg_catalog.date_trunc('month', t.opened_at AT TIME ZONE z.zone)::date AS month,
       t.org_id, org.region::text AS region, t.model_id, m.code AS model_code,
       CASE WHEN COALESCE(u.warranty_ends, (u.installed_on + pg_catalog.make_interval(months => um.warranty_months))::date - 1) IS NULL THEN 'unknown'
            WHEN COALESCE(u.warranty_ends, (u.installed_on + pg_catalog.make_interval(months => um.warranty_months))::date - 1)
                 >= (t.opened_at AT TIME ZONE z.zone)::date THEN 'in_warranty'
            ELSE 'out_of_warranty' END AS warranty_class,
       COALESCE(w.labour_hours, 0)::numeric(14,2) AS labour_hours,
       COALESCE(w.travel_hours, 0)::numeric(14,2) AS travel_hours,
       pg_catalog.round(COALESCE(w.labour_hours, 0) * (z.s).labour_cost_per_hour, 2)::numeric(14,2) AS labour_cost,
       pg_catalog.round(COALESCE(w.travel_hours, 0) * ((z.s).labour_cost_per_hour + (z.s).travel_cost_per_hour), 2)::numeric(14,2) AS travel_cost,
       COALESCE(p.parts_cost, 0)::numeric(14,2) AS parts_cost,
       (pg_catalog.round(COALESCE(w.labour_hours, 0) * (z.s).labour_cost_per_hour, 2)
        + pg_catalog.round(COALESCE(w.travel_hours, 0) * ((z.s).labour_cost_per_hour + (z.s).travel_cost_per_hour), 2)
        + COALESCE(p.parts_cost, 0))::numeric(14,2) AS total_cost,
       COALESCE(ch.charged, 0)::numeric(14,2) AS charged,
       (st.settlement_id IS NOT NULL) AS settled
  FROM z
  JOIN aftersales.tickets t ON t.tenant_id = z.tenant_id
  LEFT JOIN aftersales.organisations org ON org.tenant_id = t.tenant_id AND org.org_id = t.org_id
  LEFT JOIN aftersales.product_models m ON m.tenant_id = t.tenant_id AND m.model_id = t.model_id
  LEFT JOIN aftersales.units u ON u.tenant_id = t.tenant_id AND u.unit_id = t.unit_id
  LEFT JOIN aftersales.product_models um ON um.tenant_id = u.tenant_id AND um.model_id = u.model_id
  LEFT JOIN (SELECT wl.ticket_id,
                    pg_catalog.sum(EXTRACT(epoch FROM wl.ended_at - wl.started_at) / 3600) FILTER (WHERE wl.kind <> 'travel') AS labour_hours,
                    pg_catalog.sum(EXTRACT(epoch FROM wl.ended_at - wl.started_at) / 3600) FILTER (WHERE wl.kind = 'travel') AS travel_hours
               FROM aftersales.work_logs wl WHERE wl.tenant_id = aftersales.current_tenant()
              GROUP BY wl.ticket_id) w ON w.ticket_id = t.ticket_id
  LEFT JOIN (SELECT o.ticket_id, pg_catalog.sum(l.quantity * pt.unit_cost) AS parts_cost
               FROM aftersales.part_orders o
               JOIN aftersales.part_order_lines l ON l.tenant_id = o.tenant_id AND l.order_id = o.order_id
               JOIN aftersales.parts pt ON pt.tenant_id = l.tenant_id AND pt.part_id = l.part_id
              WHERE o.tenant_id = aftersales.current_tenant() AND o.state = 'used'
              GROUP BY o.ticket_id) p ON p.ticket_id = t.ticket_id
  LEFT JOIN (SELECT c.ticket_id, pg_catalog.sum(c.amount) AS charged
               FROM aftersales.ticket_charges c WHERE c.tenant_id = aftersales.current_tenant()
              GROUP BY c.ticket_id) ch ON ch.ticket_id = t.ticket_id
  LEFT JOIN aftersales.settlements st ON st.tenant_id = t.tenant_id AND st.ticket_id = t.ticket_id
 WHERE w.ticket_id IS NOT NULL OR p.ticket_id IS NOT NULL OR ch.ticket_id IS NOT NULL;
COMMENT ON VIEW aftersales.cost_tickets IS
  'Service cost (服务成本) of each ticket of the current tenant with work logged, parts used or charges: labour and travel at the internal cost rates, parts at cost; and what was charged';
COMMENT ON COLUMN aftersales.cost_tickets.ticket_id IS 'Ticket';
COMMENT ON COLUMN aftersales.cost_tickets.month IS 'First day of the month the ticket was entered (reporting zone)';
COMMENT ON COLUMN aftersales.cost_tickets.org_id IS 'Organisation handling the ticket';
COMMENT ON COLUMN aftersales.cost_tickets.region IS 'Its region';
COMMENT ON COLUMN aftersales.cost_tickets.model_id IS 'Product model';
COMMENT ON COLUMN aftersales.cost_tickets.model_code IS 'Its code';
COMMENT ON COLUMN aftersales.cost_tickets.warranty_class IS 'in_warranty or out_of_warranty on the day of entry (units.warranty_ends, else installation plus the model''s warranty months less a day); unknown without a unit or dates';
COMMENT ON COLUMN aftersales.cost_tickets.labour_hours IS 'On-site and remote hours logged';
COMMENT ON COLUMN aftersales.cost_tickets.travel_hours IS 'Travel hours logged';
COMMENT ON COLUMN aftersales.cost_tickets.labour_cost IS 'labour_hours x labour_cost_per_hour';
COMMENT ON COLUMN aftersales.cost_tickets.travel_cost IS 'travel_hours x (labour_cost_per_hour + travel_cost_per_hour)';
COMMENT ON COLUMN aftersales.cost_tickets.parts_cost IS 'Parts of used orders at unit cost';
COMMENT ON COLUMN aftersales.cost_tickets.total_cost IS 'labour_cost + travel_cost + parts_cost';
COMMENT ON COLUMN aftersales.cost_tickets.charged IS 'Charged to the customer (priced charges)';
COMMENT ON COLUMN aftersales.cost_tickets.settled IS 'The ticket is settled';

CREATE VIEW aftersales.cost_monthly WITH (security_invoker = true) AS
SELECT c.month, c.region, c.model_code, c.warranty_class,
       pg_catalog.count(*)::bigint AS tickets,
       pg_catalog.sum(c.labour_cost)::numeric(14,2) AS labour_cost,
       pg_catalog.sum(c.travel_cost)::numeric(14,2) AS travel_cost,
       pg_catalog.sum(c.parts_cost)::numeric(14,2) AS parts_cost,
       pg_catalog.sum(c.total_cost)::numeric(14,2) AS total_cost,
       (pg_catalog.sum(c.total_cost) / pg_catalog.count(*))::numeric(14,2) AS cost_per_ticket,
       pg_catalog.sum(c.charged)::numeric(14,2) AS charged
  FROM aftersales.cost_tickets c
 GROUP BY c.month, c.region, c.model_code, c.warranty_class;
COMMENT ON VIEW aftersales.cost_monthly IS
  'Service cost (服务成本) and cost per ticket of the current tenant by month of entry, region, product model and warranty class; roll up by summing total_cost and tickets';
COMMENT ON COLUMN aftersales.cost_monthly.month IS 'First day of the month of entry';
COMMENT ON COLUMN aftersales.cost_monthly.region IS 'Region of the organisation handling the tickets';
COMMENT ON COLUMN aftersales.cost_monthly.model_code IS 'Product model';
COMMENT ON COLUMN aftersales.cost_monthly.warranty_class IS 'in_warranty, out_of_warranty or unknown';
COMMENT ON COLUMN aftersales.cost_monthly.tickets IS 'Tickets with a cost or a charge';
COMMENT ON COLUMN aftersales.cost_monthly.labour_cost IS 'Labour cost';
COMMENT ON COLUMN aftersales.cost_monthly.travel_cost IS 'Travel cost';
COMMENT ON COLUMN aftersales.cost_monthly.parts_cost IS 'Parts cost';
COMMENT ON COLUMN aftersales.cost_monthly.total_cost IS 'Total cost';
COMMENT ON COLUMN aftersales.cost_monthly.cost_per_ticket IS 'Cost per ticket: total_cost / tickets';
COMMENT ON COLUMN aftersales.cost_monthly.charged IS 'Charged to customers';

-- On-duty hours, until engineers have shift calendars: the working days
-- of the month on the calendar of the tenant's default SLA policy (a day
-- with any business time) times parts_settings.on_duty_hours_per_day.
CREATE VIEW aftersales.cost_engineer_utilisation WITH (security_invoker = true) AS
WITH z AS (SELECT aftersales.current_tenant() AS tenant_id,
                  COALESCE(aftersales.reporting_zone(aftersales.current_tenant()), 'Asia/Shanghai') AS zone,
                  (aftersales_internal.parts_settings(aftersales.current_tenant())).on_duty_hours_per_day AS per_day,
                  (SELECT c.calendar FROM aftersales.sla_policies p
                     JOIN aftersales.calendars c ON c.tenant_id = p.tenant_id AND c.name = p.calendar
                    WHERE p.tenant_id = aftersales.current_tenant() AND p.is_default) AS cal),
logged AS (
    SELECT pg_catalog.date_trunc('month', wl.started_at AT TIME ZONE z.zone)::date AS month, wl.engineer_id,
           pg_catalog.sum(EXTRACT(epoch FROM wl.ended_at - wl.started_at) / 3600) AS hours
      FROM z JOIN aftersales.work_logs wl ON wl.tenant_id = z.tenant_id
     GROUP BY 1, 2),
months AS (
    SELECT DISTINCT l.month FROM logged l),
duty AS (
    SELECT mo.month,
           pg_catalog.count(*) FILTER (WHERE z.cal IS NULL
                                   OR aftersales.business_diff(z.cal, pg_catalog.timezone(aftersales.calendar_zone(z.cal), d),
                                                               pg_catalog.timezone(aftersales.calendar_zone(z.cal), d + interval '1 day')) > interval '0')
           * z.per_day AS hours
      FROM months mo CROSS JOIN z
     CROSS JOIN LATERAL pg_catalog.generate_series(mo.month::timestamp, (mo.month + interval '1 month' - interval '1 day')::timestamp, interval '1 day') d
     GROUP BY mo.month, z.per_day)
SELECT d.month, e.engineer_id, e.name AS engineer_name, e.org_id, e.region::text AS region,
       COALESCE(l.hours, 0)::numeric(14,2) AS logged_hours, d.hours::numeric(14,2) AS on_duty_hours,
       (COALESCE(l.hours, 0) / NULLIF(d.hours, 0))::numeric(5,4) AS utilisation_rate
  FROM z
  JOIN aftersales.engineers e ON e.tenant_id = z.tenant_id AND e.active
 CROSS JOIN duty d
  LEFT JOIN logged l ON l.month = d.month AND l.engineer_id = e.engineer_id;
COMMENT ON VIEW aftersales.cost_engineer_utilisation IS
  'Technician utilisation (服务人员利用率) of the current tenant''s active engineers by month with work logged: hours logged / on-duty hours (working days of the default SLA calendar x parts_settings.on_duty_hours_per_day, until shift calendars exist); per organisation, sum both hours and divide';
COMMENT ON COLUMN aftersales.cost_engineer_utilisation.month IS 'First day of the month (reporting zone)';
COMMENT ON COLUMN aftersales.cost_engineer_utilisation.engineer_id IS 'Engineer';
COMMENT ON COLUMN aftersales.cost_engineer_utilisation.engineer_name IS 'Name';
COMMENT ON COLUMN aftersales.cost_engineer_utilisation.org_id IS 'Organisation the engineer works for';
COMMENT ON COLUMN aftersales.cost_engineer_utilisation.region IS 'Region the engineer covers';
COMMENT ON COLUMN aftersales.cost_engineer_utilisation.logged_hours IS 'Hours logged (travel, on site, remote) starting in the month';
COMMENT ON COLUMN aftersales.cost_engineer_utilisation.on_duty_hours IS 'On-duty hours of the month';
COMMENT ON COLUMN aftersales.cost_engineer_utilisation.utilisation_rate IS 'logged_hours / on_duty_hours';

-- ---------------------------------------------------------------------------
-- The KPI catalogue: the parts and cost KPIs, in English and Chinese, with
-- their formulas (shipped rows of tenant 1, like the ticket KPIs').
INSERT INTO aftersales.kpi_catalogue
       (tenant_id, code, category, name_en, name_zh, definition, formula, unit, target, target_direction, source, sort_order, customised)
SELECT 1, x.code, x.category, x.name_en, x.name_zh, x.definition, x.formula, x.unit, x.target::numeric, x.direction, x.source, x.ord, false
  FROM (VALUES
 ('fill_rate', 'parts', 'Overall fill rate', '总体满足率',
  'Lines of judged part orders (approved; shipped, or past their ship due time; not withdrawn unshipped before it) that were shipped, over the lines of judged orders, by month of request. 总体满足率: 已判定备件单(已审批, 已发运或已过发运时限, 非到期前撤销)中已发运的行数占比。',
  'lines shipped / lines of judged orders', 'ratio', NULL, NULL, 'parts_fill_rates, parts_monthly', 2010),
 ('in_stock_fill_rate', 'parts', 'In-stock fill rate', '现货满足率',
  'Lines of judged part orders shipped from the warehouse asked first, with no transfer, over the lines of judged orders. 现货满足率: 由首选仓库直接发运(无调拨)的行数占比。',
  'lines shipped from the warehouse asked / lines of judged orders', 'ratio', NULL, NULL, 'parts_fill_rates, parts_monthly', 2020),
 ('bc_fill_rate', 'parts', 'B/C-class fill rate', 'BC类满足率',
  'As the overall fill rate, over the lines of class B and C parts only. BC类满足率: B、C类备件行的满足率。',
  'B and C lines shipped / B and C lines of judged orders', 'ratio', NULL, NULL, 'parts_fill_rates, parts_monthly', 2030),
 ('orders_requested', 'parts', 'Part orders requested', '本月申请单',
  'Part orders requested in the month. 本月申请单: 当月提交的备件申请单数。',
  'count of orders by month of request', 'count', NULL, NULL, 'parts_monthly', 2040),
 ('orders_unshipped', 'parts', 'Part orders not shipped', '本月未发单',
  'Part orders requested in the month that are not shipped yet (requested, approved or reserved as of now). 本月未发单: 当月申请、至今未发运的备件单数。',
  'count of orders of the month in state requested, approved or reserved', 'count', NULL, NULL, 'parts_monthly', 2050),
 ('sign_off_24h_rate', 'parts', '24-hour sign-off rate', '24小时签收率',
  'Orders shipped in the month and collected (signed for by the engineer) within 24 hours of shipping, over the shipped orders collected or shipped at least 24 hours ago. 24小时签收率: 发运后24小时内签收的占比。',
  'orders collected within 24 h of shipping / orders collected or shipped 24 h ago', 'ratio', NULL, NULL, 'parts_monthly', 2060),
 ('sign_off_48h_rate', 'parts', '48-hour sign-off rate', '48小时签收率',
  'As the 24-hour sign-off rate, within 48 hours. 48小时签收率: 发运后48小时内签收的占比。',
  'orders collected within 48 h of shipping / orders collected or shipped 48 h ago', 'ratio', NULL, NULL, 'parts_monthly', 2070),
 ('sign_off_7d_rate', 'parts', '7-day sign-off rate', '7天签收率',
  'As the 24-hour sign-off rate, within 7 days. 7天签收率: 发运后7天内签收的占比。',
  'orders collected within 7 days of shipping / orders collected or shipped 7 days ago', 'ratio', NULL, NULL, 'parts_monthly', 2080),
 ('unsatisfied_shipment_share', 'parts', 'Unsatisfied orders, share of shipments', '不满意单发运占比',
  'Judged orders not shipped by their ship due time (approval plus parts_settings.ship_target_hours), over the judged orders of the month. 不满意单发运占比: 未在发运时限内发运的备件单占比。',
  'unsatisfied orders / judged orders', 'ratio', NULL, NULL, 'parts_monthly', 2090),
 ('unsatisfied_tonnage_share', 'parts', 'Unsatisfied orders, share of tonnage', '不满意单吨位占比',
  'Weight of the unsatisfied orders over the weight of the judged orders of the month. 不满意单吨位占比: 不满意单重量占已判定备件单重量的比例。',
  'weight of unsatisfied orders / weight of judged orders', 'ratio', NULL, NULL, 'parts_monthly', 2100),
 ('shipments', 'parts', 'Warehouse shipments', '仓库发运量',
  'Part orders shipped from a warehouse in the month (transfers: of them, orders that had asked another warehouse). 各仓库发运量。',
  'count of orders by source warehouse and month of shipment', 'count', NULL, NULL, 'parts_warehouse_shipments', 2110),
 ('claim_acceptance_rate', 'parts', 'Claim acceptance rate', '索赔通过率',
  'Claims filed in the month against suppliers that are accepted (or settled), over those accepted or rejected; a second claim (二次索赔) counts with its first. 索赔通过率。',
  'claims accepted / (claims accepted + claims rejected)', 'ratio', NULL, NULL, 'parts_claims_monthly', 2120),
 ('old_parts_outstanding', 'parts', 'Old parts outstanding', '旧件未返厂数',
  'Old-part returns that became due in the month and are not yet received by the factory (due or shipped). 旧件未返厂数。',
  'count of returns due or shipped by month due', 'count', NULL, NULL, 'parts_claims_monthly', 2130),
 ('cost_per_ticket', 'cost', 'Service cost per ticket', '单均服务成本',
  'Mean cost of the tickets with work logged, parts used or charges: on-site and remote hours at labour_cost_per_hour, travel hours at labour_cost_per_hour + travel_cost_per_hour, used parts at unit cost. 单均服务成本: 工时成本、差旅成本与备件成本之和的工单均值。',
  'sum of total_cost / tickets', 'money', NULL, NULL, 'cost_tickets, cost_monthly', 2140),
 ('utilisation_rate', 'staff', 'Technician utilisation', '服务人员利用率',
  'Hours logged by an engineer (travel, on site, remote) over on-duty hours: the working days of the month on the default SLA calendar times parts_settings.on_duty_hours_per_day, until engineers have shift calendars. 服务人员利用率: 记录工时 / 在岗工时。',
  'logged hours / on-duty hours', 'ratio', NULL, NULL, 'cost_engineer_utilisation', 2150))
  AS x (code, category, name_en, name_zh, definition, formula, unit, target, direction, source, ord);
