-- parts.sql: spare parts, the stock ledger and the parts and cost KPIs.
--
-- The schema: every table is tenant-keyed, row-secured and dumped.  The
-- ledger check: check_parts() is empty on generated data and finds a stock
-- row that disagrees with its ledger, a reservation no order holds, and an
-- order whose state is not the replay of its log.  The KPIs: fill rates
-- (overall, in stock, B/C), sign-off within 24 h / 48 h / 7 days, the
-- unsatisfied shares, warehouse shipments and cost per ticket, recomputed
-- here from the raw rows (part_orders, part_order_lines, parts,
-- work_logs) without the views, must equal the views.  The generator:
-- deterministic (two tenants of one seed, one parts checksum), and the
-- mix the board needs is there.
--
-- Run: pg_prove -d <db with pgtap and aftersales> test/pgtap/parts.sql
-- Everything is rolled back.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(52);
SET LOCAL client_min_messages = warning;
SET LOCAL TimeZone = 'UTC';

-- ---------------------------------------------------------------------------
-- Schema

CREATE TEMP TABLE parts_tables (t regclass PRIMARY KEY);
INSERT INTO parts_tables VALUES
 ('aftersales.parts_settings'), ('aftersales.parts'), ('aftersales.part_models'), ('aftersales.warehouses'),
 ('aftersales.stock'), ('aftersales.stock_moves'), ('aftersales.part_orders'), ('aftersales.part_order_lines'),
 ('aftersales.part_order_events'), ('aftersales.part_returns'), ('aftersales.part_return_events'),
 ('aftersales.part_claims'), ('aftersales.part_claim_events'), ('aftersales.work_logs'),
 ('aftersales.settlements'), ('aftersales.ticket_charges');
SELECT is(ARRAY(SELECT t::text FROM parts_tables p JOIN pg_class c ON c.oid = p.t
                 WHERE NOT (c.relrowsecurity AND c.relforcerowsecurity) ORDER BY 1), '{}'::text[],
          'every parts table has row security enabled and forced');
SELECT is(ARRAY(SELECT t::text FROM parts_tables p
                 WHERE (SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                         WHERE i.indrelid = p.t AND i.indisprimary) <> 'tenant_id' ORDER BY 1), '{}'::text[],
          'tenant_id leads every primary key');
SELECT is(ARRAY(SELECT t::text FROM parts_tables p
                 WHERE NOT p.t::oid = ANY ((SELECT extconfig FROM pg_extension WHERE extname = 'aftersales')::oid[]) ORDER BY 1), '{}'::text[],
          'every parts table is marked for pg_dump');
SELECT is(ARRAY(SELECT c.relname::text FROM pg_class c
                 WHERE c.relnamespace = 'aftersales'::regnamespace AND c.relkind = 'v'
                   AND (c.relname LIKE 'parts\_%' OR c.relname LIKE 'cost\_%')
                   AND NOT (c.reloptions @> '{security_invoker=true}' AND obj_description(c.oid, 'pg_class') IS NOT NULL
                            AND NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                                                                       AND col_description(c.oid, a.attnum) IS NULL))
                 ORDER BY 1), '{}'::text[],
          'every parts and cost view is security_invoker and commented, every column too');
SELECT is(ARRAY(SELECT c.relname || '.' || a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
                 WHERE c.relnamespace = 'aftersales'::regnamespace AND c.relkind = 'v'
                   AND (c.relname LIKE 'parts\_%' OR c.relname LIKE 'cost\_%')
                   AND ((a.attname ~ '_(rate|share)$' AND format_type(a.atttypid, a.atttypmod) <> 'numeric(5,4)')
                        OR (a.atttypid = 'numeric'::regtype AND a.atttypmod = -1))
                 ORDER BY 1), '{}'::text[],
          'rates and shares are numeric(5,4), no numeric without a scale');
SELECT is((SELECT count(*)::int FROM aftersales.state_transitions WHERE machine IN ('part_order', 'part_return', 'part_claim')),
          26, 'the three machines have their 26 transitions');

-- ---------------------------------------------------------------------------
-- Generated data, twice with one seed

SELECT lives_ok($$SELECT aftersales.generate_sample_data('parts_a', seed => 7, tickets => 600)$$, 'sample data with parts: tenant a');
SELECT lives_ok($$SELECT aftersales.generate_sample_data('parts_b', seed => 7, tickets => 600)$$, 'sample data with parts: tenant b');
CREATE TEMP TABLE ten AS
SELECT (SELECT tenant_id FROM aftersales.tenants WHERE name = 'parts_a') AS a,
       (SELECT tenant_id FROM aftersales.tenants WHERE name = 'parts_b') AS b;
SELECT is(aftersales.sample_parts_checksum((SELECT b FROM ten)), aftersales.sample_parts_checksum((SELECT a FROM ten)),
          'one seed, one parts checksum in two tenants');
SELECT is((SELECT count(*)::int FROM aftersales.check_parts((SELECT a FROM ten))), 0,
          'check_parts: the generated stock is its ledger and every order, return and claim replays');
SELECT ok((SELECT count(*) FROM aftersales.part_orders WHERE tenant_id = (SELECT a FROM ten) AND state = 'used') > 20,
          'orders were used');
SELECT ok(EXISTS (SELECT FROM aftersales.part_orders WHERE tenant_id = (SELECT a FROM ten)
                   AND source_warehouse_id <> warehouse_id), 'some orders were transferred from another warehouse');
SELECT ok(EXISTS (SELECT FROM aftersales.part_orders WHERE tenant_id = (SELECT a FROM ten)
                   AND shipped_at > ship_due_at), 'some orders shipped late');
SELECT ok(EXISTS (SELECT FROM aftersales.part_returns WHERE tenant_id = (SELECT a FROM ten) AND state = 'inspected'),
          'old parts came back and were inspected');
SELECT ok(EXISTS (SELECT FROM aftersales.part_claims WHERE tenant_id = (SELECT a FROM ten)), 'claims were filed');
SELECT ok((SELECT count(*) FROM aftersales.work_logs WHERE tenant_id = (SELECT a FROM ten))
          >= (SELECT 2 * count(*) FROM aftersales.ticket_events e JOIN aftersales.tickets t USING (tenant_id, ticket_id)
               WHERE e.tenant_id = (SELECT a FROM ten) AND e.event = 'arrive' AND t.assignee_id IS NOT NULL),
          'a travel and an on-site log for every visit');
SELECT ok(EXISTS (SELECT FROM aftersales.settlements WHERE tenant_id = (SELECT a FROM ten)), 'closed tickets were settled');

-- ---------------------------------------------------------------------------
-- The KPIs recomputed from the raw rows

DO $$ BEGIN PERFORM set_config('aftersales.tenant_id', (SELECT a FROM ten)::text, true); END $$;
SET LOCAL aftersales.now = '2027-01-15 00:00+08';

-- orders judged by the definitions, written out again from the tables
CREATE TEMP TABLE raw_orders AS
SELECT o.order_id, date_trunc('month', o.requested_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
       org.region::text AS region, o.warehouse_id, o.source_warehouse_id, o.weight_kg, o.state,
       o.shipped_at, o.collected_at, o.ship_due_at,
       (o.approved_at IS NOT NULL AND (o.shipped_at IS NOT NULL OR o.ship_due_at <= '2027-01-15 00:00+08')
        AND NOT (o.shipped_at IS NULL AND o.cancelled_at IS NOT NULL AND o.cancelled_at < o.ship_due_at)) AS judged,
       (SELECT count(*) FROM aftersales.part_order_lines l WHERE l.tenant_id = o.tenant_id AND l.order_id = o.order_id) AS lines,
       (SELECT count(*) FROM aftersales.part_order_lines l JOIN aftersales.parts p ON p.tenant_id = l.tenant_id AND p.part_id = l.part_id
         WHERE l.tenant_id = o.tenant_id AND l.order_id = o.order_id AND p.part_class <> 'A') AS bc_lines
  FROM aftersales.part_orders o
  JOIN aftersales.organisations org ON org.tenant_id = o.tenant_id AND org.org_id = o.org_id
 WHERE o.tenant_id = (SELECT a FROM ten);

SELECT is((SELECT round(sum(lines) FILTER (WHERE judged AND shipped_at IS NOT NULL)::numeric / sum(lines) FILTER (WHERE judged), 4) FROM raw_orders),
          (SELECT round(sum(lines_filled)::numeric / sum(lines_requested), 4) FROM aftersales.parts_fill_rates),
          'overall fill rate: shipped lines / lines of judged orders, summed over parts_fill_rates');
SELECT is((SELECT round(sum(lines) FILTER (WHERE judged AND shipped_at IS NOT NULL AND source_warehouse_id = warehouse_id)::numeric
                        / sum(lines) FILTER (WHERE judged), 4) FROM raw_orders),
          (SELECT round(sum(lines_filled_in_stock)::numeric / sum(lines_requested), 4) FROM aftersales.parts_fill_rates),
          'in-stock fill rate: lines shipped from the warehouse asked');
SELECT is((SELECT round(sum(bc_lines) FILTER (WHERE judged AND shipped_at IS NOT NULL)::numeric / sum(bc_lines) FILTER (WHERE judged), 4) FROM raw_orders),
          (SELECT round(sum(bc_lines_filled)::numeric / sum(bc_lines_requested), 4) FROM aftersales.parts_fill_rates),
          'B/C-class fill rate');
SELECT ok((SELECT sum(lines) FILTER (WHERE judged AND (shipped_at IS NULL OR source_warehouse_id <> warehouse_id)) FROM raw_orders) > 0,
          'the in-stock fill rate is below the overall one: some lines were transferred or not shipped');
SELECT results_eq(
    $$SELECT month, region, warehouse_id, sum(lines)::bigint, (sum(lines) FILTER (WHERE shipped_at IS NOT NULL))::bigint,
             round((sum(lines) FILTER (WHERE shipped_at IS NOT NULL))::numeric / sum(lines), 4)
        FROM raw_orders WHERE judged GROUP BY 1, 2, 3 ORDER BY 1, 2, 3$$,
    $$SELECT month, region, warehouse_id, lines_requested, lines_filled, fill_rate::numeric
        FROM aftersales.parts_fill_rates ORDER BY 1, 2, 3$$,
    'parts_fill_rates by month, region and warehouse asked, line for line');
SELECT results_eq(
    $$SELECT month, count(*)::bigint, (count(*) FILTER (WHERE state IN ('requested', 'approved', 'reserved')))::bigint,
             (count(*) FILTER (WHERE judged AND (shipped_at IS NULL OR shipped_at > ship_due_at)))::bigint,
             round((count(*) FILTER (WHERE judged AND (shipped_at IS NULL OR shipped_at > ship_due_at)))::numeric
                   / NULLIF(count(*) FILTER (WHERE judged), 0), 4),
             round(COALESCE(sum(weight_kg) FILTER (WHERE judged AND (shipped_at IS NULL OR shipped_at > ship_due_at)), 0)
                   / NULLIF(sum(weight_kg) FILTER (WHERE judged), 0), 4)
        FROM raw_orders GROUP BY 1 ORDER BY 1$$,
    $$SELECT month, orders_requested, orders_unshipped, orders_unsatisfied, unsatisfied_shipment_share::numeric,
             unsatisfied_tonnage_share::numeric
        FROM aftersales.parts_monthly WHERE orders_requested > 0 ORDER BY 1$$,
    'requested, unshipped and unsatisfied orders and their shipment and tonnage shares by month');
SELECT results_eq(
    $$SELECT date_trunc('month', shipped_at AT TIME ZONE 'Asia/Shanghai')::date,
             round((count(*) FILTER (WHERE collected_at - shipped_at <= interval '24 hours'))::numeric
                   / NULLIF(count(*) FILTER (WHERE collected_at - shipped_at <= interval '24 hours'
                                               OR ((collected_at IS NULL OR collected_at - shipped_at > interval '24 hours')
                                                   AND shipped_at + interval '24 hours' <= '2027-01-15 00:00+08')), 0), 4),
             round((count(*) FILTER (WHERE collected_at - shipped_at <= interval '48 hours'))::numeric
                   / NULLIF(count(*) FILTER (WHERE collected_at - shipped_at <= interval '48 hours'
                                               OR ((collected_at IS NULL OR collected_at - shipped_at > interval '48 hours')
                                                   AND shipped_at + interval '48 hours' <= '2027-01-15 00:00+08')), 0), 4),
             round((count(*) FILTER (WHERE collected_at - shipped_at <= interval '7 days'))::numeric
                   / NULLIF(count(*) FILTER (WHERE collected_at - shipped_at <= interval '7 days'
                                               OR ((collected_at IS NULL OR collected_at - shipped_at > interval '7 days')
                                                   AND shipped_at + interval '7 days' <= '2027-01-15 00:00+08')), 0), 4)
        FROM raw_orders WHERE shipped_at IS NOT NULL GROUP BY 1 ORDER BY 1$$,
    $$SELECT month, sign_off_24h_rate::numeric, sign_off_48h_rate::numeric, sign_off_7d_rate::numeric
        FROM aftersales.parts_monthly WHERE orders_shipped > 0 ORDER BY 1$$,
    'sign-off within 24 h, 48 h and 7 days of shipping, by month of shipment');
SELECT ok((SELECT bool_and(sign_off_24h_rate <= sign_off_48h_rate AND sign_off_48h_rate <= sign_off_7d_rate)
             FROM aftersales.parts_monthly WHERE sign_off_7d_rate IS NOT NULL),
          'sign-off within 24 h <= within 48 h <= within 7 days');
SELECT results_eq(
    $$SELECT source_warehouse_id, count(*)::bigint FROM raw_orders WHERE shipped_at IS NOT NULL GROUP BY 1 ORDER BY 1$$,
    $$SELECT warehouse_id, sum(shipments)::bigint FROM aftersales.parts_warehouse_shipments GROUP BY 1 ORDER BY 1$$,
    'shipments per warehouse');
CREATE TEMP TABLE raw_cost AS
SELECT t.ticket_id,
       coalesce((SELECT sum(extract(epoch FROM w.ended_at - w.started_at) / 3600 * CASE w.kind WHEN 'travel' THEN 100 ELSE 60 END)
                   FROM aftersales.work_logs w WHERE w.tenant_id = t.tenant_id AND w.ticket_id = t.ticket_id), 0)
       + coalesce((SELECT sum(l.quantity * p.unit_cost) FROM aftersales.part_orders o
                     JOIN aftersales.part_order_lines l USING (tenant_id, order_id)
                     JOIN aftersales.parts p USING (tenant_id, part_id)
                    WHERE o.tenant_id = t.tenant_id AND o.ticket_id = t.ticket_id AND o.state = 'used'), 0) AS cost
  FROM aftersales.tickets t
 WHERE t.tenant_id = (SELECT a FROM ten)
   AND (EXISTS (SELECT FROM aftersales.work_logs w WHERE w.tenant_id = t.tenant_id AND w.ticket_id = t.ticket_id)
        OR EXISTS (SELECT FROM aftersales.part_orders o WHERE o.tenant_id = t.tenant_id AND o.ticket_id = t.ticket_id AND o.state = 'used')
        OR EXISTS (SELECT FROM aftersales.ticket_charges c WHERE c.tenant_id = t.tenant_id AND c.ticket_id = t.ticket_id));
SELECT ok(abs((SELECT sum(total_cost) / count(*) FROM aftersales.cost_tickets) - (SELECT avg(cost) FROM raw_cost)) < 0.01
          AND (SELECT count(*) FROM aftersales.cost_tickets) = (SELECT count(*) FROM raw_cost),
          'cost per ticket: labour at 60/h, travel at 60+40/h, parts at cost, over the tickets with a cost (within rounding of each ticket)');
SELECT is((SELECT sum(tickets)::bigint FROM aftersales.cost_monthly), (SELECT count(*) FROM aftersales.cost_tickets),
          'cost_monthly rolls up every costed ticket once');
SELECT ok((SELECT bool_and(utilisation_rate BETWEEN 0 AND 1) FROM aftersales.cost_engineer_utilisation),
          'utilisation is a share of on-duty hours');
SELECT ok(abs((SELECT sum(logged_hours) FROM aftersales.cost_engineer_utilisation)
              - (SELECT sum(extract(epoch FROM w.ended_at - w.started_at) / 3600)
                   FROM aftersales.work_logs w JOIN aftersales.engineers e USING (tenant_id, engineer_id)
                  WHERE w.tenant_id = (SELECT a FROM ten) AND e.active))
          < 0.01 * (SELECT count(*) FROM aftersales.cost_engineer_utilisation),
          'utilisation counts every hour logged by an active engineer');

-- ---------------------------------------------------------------------------
-- The check finds what is wrong (each change rolled back)

SAVEPOINT tamper;
UPDATE aftersales.stock SET on_hand = on_hand + 1
 WHERE (tenant_id, warehouse_id, part_id) = (SELECT tenant_id, warehouse_id, part_id FROM aftersales.stock
                                              WHERE tenant_id = (SELECT a FROM ten) ORDER BY warehouse_id, part_id LIMIT 1);
SELECT is((SELECT array_agg(object) FROM aftersales.check_parts((SELECT a FROM ten))), '{stock}'::text[],
          'a stock row changed behind the ledger is found');
ROLLBACK TO tamper;
UPDATE aftersales.stock SET reserved = reserved + 1
 WHERE (tenant_id, warehouse_id, part_id) = (SELECT tenant_id, warehouse_id, part_id FROM aftersales.stock
                                              WHERE tenant_id = (SELECT a FROM ten) AND on_hand > reserved
                                              ORDER BY warehouse_id, part_id LIMIT 1);
SELECT is((SELECT array_agg(object ORDER BY object) FROM aftersales.check_parts((SELECT a FROM ten))), '{reservation,stock}'::text[],
          'a reservation no order holds is found');
ROLLBACK TO tamper;
ALTER TABLE aftersales.part_orders DISABLE TRIGGER USER;
UPDATE aftersales.part_orders SET state = 'shipped'
 WHERE order_id = (SELECT min(order_id) FROM aftersales.part_orders WHERE tenant_id = (SELECT a FROM ten) AND state = 'used');
ALTER TABLE aftersales.part_orders ENABLE TRIGGER USER;
SELECT matches((SELECT string_agg(object || ': ' || problem, '; ') FROM aftersales.check_parts((SELECT a FROM ten))),
          '^part_order: row says shipped after event [0-9]+ .*; the log says used after [0-9]+ [^;]*$',
          'an order whose state is not the replay of its log is found');
ROLLBACK TO tamper;
SELECT is((SELECT count(*)::int FROM aftersales.check_parts()), 0, 'and all is well again');

-- ---------------------------------------------------------------------------
-- The ledger refuses what would break stock

SELECT throws_ok($$SELECT aftersales.adjust_stock((SELECT min(warehouse_id) FROM aftersales.warehouses WHERE tenant_id = current_setting('aftersales.tenant_id')::bigint),
                                                   (SELECT min(part_id) FROM aftersales.parts WHERE tenant_id = current_setting('aftersales.tenant_id')::bigint),
                                                   -1000000, 'count')$$,
                 '23514', NULL, 'an adjustment below zero is refused (23514)');
SELECT throws_ok($$UPDATE aftersales.stock_moves SET on_hand_delta = 0 WHERE tenant_id = current_setting('aftersales.tenant_id')::bigint$$,
                 '55000', NULL, 'the ledger is append-only');
SELECT throws_ok($$UPDATE aftersales.part_orders SET weight_kg = 0 WHERE tenant_id = current_setting('aftersales.tenant_id')::bigint$$,
                 NULL, NULL, 'a part order changes only by an event');
SELECT throws_ok($$DELETE FROM aftersales.part_order_events WHERE tenant_id = current_setting('aftersales.tenant_id')::bigint$$,
                 '55000', NULL, 'the order log is append-only');

-- ---------------------------------------------------------------------------
-- The alerts: the sweep raises part_not_collected for the orders still
-- waiting after 24 hours and part_not_shipped for the late ones, once

SELECT ok(aftersales_internal.sweep_parts('2027-01-15 00:00+08', (SELECT a FROM ten)) > 0, 'the sweep raises parts alerts');
SELECT is(aftersales_internal.sweep_parts('2027-01-15 00:00+08', (SELECT a FROM ten)), 0, 'a second sweep raises nothing');
SELECT is((SELECT count(*) FROM aftersales.alerts WHERE tenant_id = (SELECT a FROM ten) AND kind = 'part_not_collected'),
          (SELECT count(*) FROM aftersales.part_orders WHERE tenant_id = (SELECT a FROM ten) AND state = 'arrived'
              AND arrived_at + interval '24 hours' <= '2027-01-15 00:00+08'),
          'one part_not_collected per order arrived more than 24 hours ago and not collected');
SELECT is((SELECT count(*) FROM aftersales.alerts WHERE tenant_id = (SELECT a FROM ten) AND kind = 'part_not_shipped'),
          (SELECT count(*) FROM aftersales.part_orders WHERE tenant_id = (SELECT a FROM ten) AND state IN ('approved', 'reserved')
              AND ship_due_at <= '2027-01-15 00:00+08'),
          'one part_not_shipped per approved order past its ship target');
SELECT is((SELECT count(*)::int FROM aftersales.parts_uncollected WHERE overdue),
          (SELECT count(*)::int FROM aftersales.alerts WHERE tenant_id = (SELECT a FROM ten) AND kind = 'part_not_collected'),
          'parts_uncollected shows the overdue ones');

-- ---------------------------------------------------------------------------
-- Access: a manager sees the orders of their organisation and below only; nobody writes
-- stock; an analyst reads the KPI views; an engineer moves no stock

CREATE TEMP TABLE acl AS
SELECT (SELECT org_id FROM aftersales.part_orders WHERE tenant_id = (SELECT a FROM ten)
         GROUP BY org_id ORDER BY count(*) DESC, org_id LIMIT 1) AS outlet;
GRANT SELECT ON ten, acl TO PUBLIC;
CREATE ROLE parts_tap_manager LOGIN;
CREATE ROLE parts_tap_analyst LOGIN;
CREATE ROLE parts_tap_engineer LOGIN;
GRANT aftersales_manager TO parts_tap_manager;
GRANT aftersales_analyst TO parts_tap_analyst;
GRANT aftersales_engineer TO parts_tap_engineer;
INSERT INTO aftersales.members (tenant_id, name, kind, org_id, engineer_id)
SELECT (SELECT a FROM ten), 'parts_tap_manager', 'manager'::aftersales.member_kind, (SELECT outlet FROM acl), NULL::bigint
UNION ALL
SELECT (SELECT a FROM ten), 'parts_tap_analyst', 'analyst', o.org_id, NULL
  FROM aftersales.organisations o WHERE o.tenant_id = (SELECT a FROM ten) AND o.level = 'hq'
UNION ALL
SELECT (SELECT a FROM ten), 'parts_tap_engineer', 'engineer', e.org_id, e.engineer_id
  FROM (SELECT * FROM aftersales.engineers e WHERE e.tenant_id = (SELECT a FROM ten) ORDER BY e.engineer_id LIMIT 1) e;
CREATE TEMP TABLE expected_orders AS
WITH RECURSIVE down AS (SELECT o.org_id FROM aftersales.organisations o
                         WHERE o.tenant_id = (SELECT a FROM ten) AND o.org_id = (SELECT outlet FROM acl)
                        UNION ALL
                        SELECT o.org_id FROM aftersales.organisations o JOIN down d
                            ON o.tenant_id = (SELECT a FROM ten) AND o.parent_id = d.org_id)
SELECT count(*)::int AS n,
       (SELECT count(*)::int FROM aftersales.part_orders WHERE tenant_id = (SELECT a FROM ten)) AS total
  FROM aftersales.part_orders WHERE tenant_id = (SELECT a FROM ten) AND org_id IN (SELECT org_id FROM down);
GRANT SELECT ON expected_orders TO PUBLIC;
SET LOCAL SESSION AUTHORIZATION parts_tap_manager;
SELECT ok((SELECT count(*)::int FROM aftersales.part_orders) = (SELECT n FROM expected_orders)
          AND (SELECT n < total FROM expected_orders),
          'a manager sees the part orders of their organisation and below only');
SELECT throws_ok($$UPDATE aftersales.stock SET on_hand = 0$$, '42501', NULL, 'nobody writes stock, not even a manager');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION parts_tap_analyst;
SELECT ok((SELECT count(*) FROM aftersales.parts_monthly) > 0 AND (SELECT count(*) FROM aftersales.cost_monthly) > 0,
          'an analyst reads the parts and cost views');
RESET SESSION AUTHORIZATION;
-- a colleague at the engineer's organisation
INSERT INTO aftersales.engineers (tenant_id, name, org_id, region)
SELECT m.tenant_id, 'parts tap colleague', m.org_id, '华东' FROM aftersales.members m WHERE m.name = 'parts_tap_engineer';
SET LOCAL SESSION AUTHORIZATION parts_tap_engineer;
SELECT throws_ok($$SELECT aftersales.receive_stock((SELECT min(warehouse_id) FROM aftersales.warehouses),
                                                    (SELECT min(part_id) FROM aftersales.parts), 5)$$,
                 '42501', NULL, 'an engineer moves no stock');
SELECT throws_ok($$SELECT aftersales.log_work((SELECT min(ticket_id) FROM aftersales.tickets),
                                               (SELECT min(engineer_id) FROM aftersales.engineers
                                                 WHERE engineer_id <> (SELECT engineer_id FROM aftersales.whoami())),
                                               'on_site', '2026-03-02 09:00+08', '2026-03-02 10:00+08')$$,
                 '42501', NULL, 'an engineer logs no work in another engineer''s name');
SELECT lives_ok($$SELECT aftersales.log_work((SELECT min(ticket_id) FROM aftersales.tickets),
                                              (SELECT engineer_id FROM aftersales.whoami()),
                                              'on_site', '2026-03-02 09:00+08', '2026-03-02 10:00+08')$$,
                'but logs their own');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT count(*)::int FROM aftersales.check_parts()), 0, 'nothing was written by the refused calls');

-- ---------------------------------------------------------------------------
-- Row security: another tenant sees none of it

DO $$ BEGIN PERFORM set_config('aftersales.tenant_id', (SELECT b FROM ten)::text, true); END $$;
SELECT is((SELECT count(*)::int FROM aftersales.parts_order_facts WHERE tenant_id = (SELECT a FROM ten)), 0,
          'the views show the current tenant only');
SELECT throws_ok($$SELECT aftersales.approve_part_order((SELECT min(order_id) FROM aftersales.part_orders
                                                           WHERE tenant_id = (SELECT a FROM ten)))$$,
                 'P0002', NULL, 'another tenant''s order does not exist for this one');

SELECT * FROM finish();
ROLLBACK;
