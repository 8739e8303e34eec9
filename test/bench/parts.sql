-- parts.sql: what reserving and shipping part orders through the API
-- costs.  Run: psql -X -v ON_ERROR_STOP=1 -f test/bench/parts.sql in a
-- database with the extension (make bench does); it works in a database of
-- its own, aftersales_bench_parts, created here and dropped at the end.
--
--   API    reserve_part_order and ship_part_order of 20 000 approved orders
--          of 5 lines each (100 000 order lines): per call, the guard and
--          the log of the state machine, a ledger row per line and its
--          trigger on stock;
--   plain  the same writes without the logic: an UPDATE of the same order
--          columns and an INSERT of the same ledger rows, on plain copies
--          of the tables (no triggers, no checks beyond the keys), in
--          set-based statements;
-- goal: API <= 3 x plain.  Each side runs once on fresh orders, after a
-- warm-up of 1 000 orders (planning).  The orders are entered and
-- approved set-based (INSERT ... SELECT and one UPDATE through the same
-- triggers), which is not measured.
\set QUIET 1
\pset pager off
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SELECT current_database() AS home \gset
DROP DATABASE IF EXISTS aftersales_bench_parts;
CREATE DATABASE aftersales_bench_parts;
\connect aftersales_bench_parts
SET client_min_messages = warning;
CREATE EXTENSION aftersales CASCADE;
SET aftersales.now = '2024-03-04 09:00+00';

INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'bench HQ');
INSERT INTO aftersales.customers (name) VALUES ('bench customer');
INSERT INTO aftersales.problem_types (code, name) VALUES ('BP', 'bench problem');
INSERT INTO aftersales.tickets (customer_id, problem_type_id, description, priority, org_id)
SELECT 1, 1, 'bench', 'C', 1 FROM generate_series(1, 1000);
SELECT aftersales.set_warehouse('WH', 'bench warehouse', 'central', 1) \g /dev/null
INSERT INTO aftersales.parts (part_no, name, part_class, unit_cost, unit_weight_kg)
SELECT 'P' || g, 'bench part ' || g, 'C', 10, 1 FROM generate_series(1, 500) g;
INSERT INTO aftersales.stock_moves (warehouse_id, part_id, kind, on_hand_delta, reserved_delta, at)
SELECT 1, p.part_id, 'receipt', 1000000, 0, '2024-03-01' FROM aftersales.parts p;

-- orders n1..n2, 5 lines each, approved
CREATE FUNCTION orders(n int) RETURNS void LANGUAGE sql AS $$
    WITH o AS (
        INSERT INTO aftersales.part_orders (ticket_id, org_id, warehouse_id, requested_at, event, event_at)
        SELECT 1 + g % 1000, 1, 1, '2024-03-04 09:00+00', 'request', '2024-03-04 09:00+00'
          FROM generate_series(1, n) g
        RETURNING order_id)
    INSERT INTO aftersales.part_order_lines (tenant_id, order_id, line_no, part_id, quantity)
    SELECT 1, o.order_id, l, 1 + (o.order_id * 5 + l) % 500, 1 FROM o, generate_series(1, 5) l;
    UPDATE aftersales.part_orders SET event_seq = event_seq + 1, event = 'approve', event_at = '2024-03-04 09:10+00', approved_at = '2024-03-04 09:10+00',
                                      ship_due_at = '2024-03-06 09:10+00'
     WHERE state = 'requested';
$$;
-- the plain copies for the baseline
CREATE TABLE plain_orders AS SELECT * FROM aftersales.part_orders WHERE false;
ALTER TABLE plain_orders ADD PRIMARY KEY (tenant_id, order_id);
CREATE TABLE plain_moves AS SELECT * FROM aftersales.stock_moves WHERE false;
ALTER TABLE plain_moves ALTER COLUMN move_id SET NOT NULL, ALTER COLUMN move_id ADD GENERATED ALWAYS AS IDENTITY;
ALTER TABLE plain_moves ADD PRIMARY KEY (tenant_id, move_id);

CREATE FUNCTION api(lo bigint, hi bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    o bigint;
BEGIN
    FOR o IN lo .. hi LOOP
        PERFORM aftersales.reserve_part_order(o, at => '2024-03-04 10:00+00');
        PERFORM aftersales.ship_part_order(o, 'bench', 'T' || o, at => '2024-03-04 11:00+00');
    END LOOP;
END
$$;
CREATE FUNCTION plain(lo bigint, hi bigint) RETURNS void LANGUAGE sql AS $$
    UPDATE plain_orders SET state = 'reserved', event = 'reserve', event_at = '2024-03-04 10:00+00', event_seq = event_seq + 1,
                            reserved_at = '2024-03-04 10:00+00', source_warehouse_id = warehouse_id
     WHERE order_id BETWEEN lo AND hi;
    INSERT INTO plain_moves (tenant_id, warehouse_id, part_id, kind, on_hand_delta, reserved_delta, order_id, at, actor)
    SELECT 1, 1, l.part_id, 'reserve', 0, l.quantity, l.order_id, '2024-03-04 10:00+00', 'bench'
      FROM aftersales.part_order_lines l WHERE l.order_id BETWEEN lo AND hi;
    UPDATE plain_orders SET state = 'shipped', event = 'ship', event_at = '2024-03-04 11:00+00', event_seq = event_seq + 1,
                            shipped_at = '2024-03-04 11:00+00', carrier = 'bench', tracking_no = 'T' || order_id
     WHERE order_id BETWEEN lo AND hi;
    INSERT INTO plain_moves (tenant_id, warehouse_id, part_id, kind, on_hand_delta, reserved_delta, order_id, at, actor)
    SELECT 1, 1, l.part_id, 'ship', -l.quantity, -l.quantity, l.order_id, '2024-03-04 11:00+00', 'bench'
      FROM aftersales.part_order_lines l WHERE l.order_id BETWEEN lo AND hi;
$$;

SELECT orders(21000) \g /dev/null
INSERT INTO plain_orders SELECT * FROM aftersales.part_orders;
ANALYZE;
\connect aftersales_bench_parts
SET client_min_messages = warning;
SET aftersales.now = '2024-03-04 12:00+00';
-- warm-up: orders 1..1000, both ways
SELECT api(1, 1000) \g /dev/null
SELECT plain(1, 1000) \g /dev/null
SELECT clock_timestamp() AS t \gset
SELECT api(1001, 21000) \g /dev/null
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t') AS api_ms \gset
SELECT clock_timestamp() AS t \gset
SELECT plain(1001, 21000) \g /dev/null
SELECT 1000 * extract(epoch FROM clock_timestamp() - :'t') AS plain_ms \gset
SELECT count(*) AS lines FROM aftersales.part_order_lines WHERE order_id > 1000 \gset
SELECT count(*) AS problems FROM aftersales.check_parts() \gset
\echo 'parts bench: reserve and ship' :lines 'order lines (20 000 orders)'
SELECT round(:api_ms::numeric) AS api_ms, round(:plain_ms::numeric) AS plain_ms,
       round(:api_ms::numeric / :plain_ms::numeric, 2) AS ratio, '<= 3' AS goal, :problems AS check_parts_problems;

\connect :home
DROP DATABASE aftersales_bench_parts;
