-- Spare parts: master data, the stock ledger, a part order's whole life
-- from the request to the warranty claim, labour and charges, settlement,
-- every transition and every error text, through the API with fixed times.
\i sql/fixtures/fresh_extension.sql
SET aftersales.now = '2024-03-04 09:00:00+00';
SET aftersales.actor = 'agent.zhang';

-- Fixture: HQ > 华东 > 江苏 > a Nanjing station, and a supplier; a customer
-- with a unit in warranty and one out of it; an engineer.
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.organisations (parent_id, level, name, region) VALUES (1, 'region', '华东大区', '华东');
INSERT INTO aftersales.organisations (parent_id, level, name, province) VALUES (2, 'province', '江苏', '江苏');
INSERT INTO aftersales.organisations (parent_id, level, org_type, name) VALUES (3, 'outlet', 'representative_office', '南京服务站');
INSERT INTO aftersales.organisations (parent_id, level, org_type, name) VALUES (3, 'outlet', 'supplier', '苏州泵业');
INSERT INTO aftersales.customers (name, region, province, org_id) VALUES ('Acme Steel', '华东', '江苏', 4), ('Bolt Foods', '华东', '江苏', 4);
INSERT INTO aftersales.product_lines (code, name) VALUES ('CMP', 'Compressors');
INSERT INTO aftersales.product_models (product_line_id, code, name) VALUES (1, 'CMP-100', 'Compressor 100'), (1, 'CMP-200', 'Compressor 200');
INSERT INTO aftersales.units (model_id, customer_id, serial, installed_on, warranty_ends)
VALUES (1, 1, 'SN-0001', '2023-06-01', '2025-05-31'), (1, 2, 'SN-0002', '2021-01-10', '2022-01-09');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
INSERT INTO aftersales.engineers (org_id, name, login, region) VALUES (4, 'Wang Wei', 'wang', '华东');

-- ---------------------------------------------------------------------------
-- Master data

SELECT aftersales.set_part('P-SEAL', 'Pump seal', 'B', 35.00, unit_weight_kg => 0.4, fits => ARRAY['CMP-100'], supplier => 5);
SELECT aftersales.set_part('P-MOTOR', 'Motor', 'A', 820.00, unit_weight_kg => 18.5, return_required => true, fits => ARRAY['CMP-100', 'CMP-200'], supplier => 5);
SELECT aftersales.set_part('P-FAN', 'Fan blade', 'C', 12.50, unit_weight_kg => 0.9, fits => ARRAY['CMP-200']);
SELECT aftersales.set_part('P-SEAL', 'Pump seal', 'B', 36.00, unit_weight_kg => 0.4);   -- upsert: fits kept
SELECT part_id, part_no, part_class, unit_cost, unit_weight_kg, return_required, supplier_org_id FROM aftersales.parts ORDER BY part_id;
SELECT part_id, model_id FROM aftersales.part_models ORDER BY 1, 2;
SELECT aftersales.set_part('P-X', 'X', 'D', 1);
SELECT aftersales.set_part('', 'X', 'A', 1);
SELECT aftersales.set_part('P-X', 'X', 'A', -1);
SELECT aftersales.set_part('P-X', 'X', 'A', 1, fits => ARRAY['NOPE']);
SELECT aftersales.set_part('P-X', 'X', 'A', 1, supplier => 99);

SELECT aftersales.set_warehouse('WH-C', 'Central', 'central', 1);
SELECT aftersales.set_warehouse('WH-NJ', 'Nanjing', 'outlet', 4);
SELECT aftersales.set_warehouse('WH-X', 'X', 'attic', 4);
SELECT aftersales.set_warehouse('WH-X', 'X', 'outlet', 99);

-- ---------------------------------------------------------------------------
-- The ledger

SELECT aftersales.receive_stock(1, 1, 50, 'opening stock');
SELECT aftersales.receive_stock(1, 2, 3, 'opening stock');
SELECT aftersales.receive_stock(2, 2, 1, 'opening stock');
SELECT aftersales.adjust_stock(2, 2, -1, 'stocktaking: damaged');
SELECT aftersales.adjust_stock(2, 2, -1, 'stocktaking: lost');
SELECT aftersales.receive_stock(2, 2, 0);
SELECT aftersales.receive_stock(99, 2, 1);
SELECT aftersales.receive_stock(1, 99, 1);
SELECT aftersales.adjust_stock(1, 1, 0, 'nothing');
SELECT warehouse_id, part_id, on_hand, reserved, moves FROM aftersales.stock ORDER BY 1, 2;
-- the ledger cannot be rewritten, and stock is its sum
UPDATE aftersales.stock_moves SET on_hand_delta = 100 WHERE move_id = 1;
DELETE FROM aftersales.stock_moves WHERE move_id = 1;
SELECT * FROM aftersales.check_parts();

-- ---------------------------------------------------------------------------
-- A part order's life: request with a hold, approve, reserve (a transfer:
-- the outlet asked has no motor), ship, arrive, collect (the ticket
-- resumes), use (the old motor becomes due for return)

SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'compressor does not start',
                              unit => 1, field => true, org => 4);
SELECT aftersales.assign_ticket(1, 1, at => '2024-03-04 09:10+00');
SELECT aftersales.arrive_on_site(1, at => '2024-03-04 11:00+00');
SELECT aftersales.request_parts(1, 2, '[{"part": 2, "quantity": 1}, {"part": 1, "quantity": 2}]', hold_ticket => true,
                                at => '2024-03-04 11:30+00');
SELECT status, held_from FROM aftersales.tickets WHERE ticket_id = 1;
SELECT order_id, ticket_id, org_id, warehouse_id, engineer_id, holds_ticket, weight_kg, state, event_seq FROM aftersales.part_orders;
SELECT * FROM aftersales.part_order_lines ORDER BY line_no;
SELECT aftersales.approve_part_order(1, at => '2024-03-04 12:00+00');
SELECT ship_due_at FROM aftersales.part_orders WHERE order_id = 1;
-- the asked warehouse has no motor: nothing is written
SELECT aftersales.reserve_part_order(1, at => '2024-03-04 12:10+00');
SELECT state, event_seq FROM aftersales.part_orders WHERE order_id = 1;
SELECT aftersales.reserve_part_order(1, from_warehouse => 1, at => '2024-03-04 12:10+00');
SELECT warehouse_id, part_id, on_hand, reserved FROM aftersales.stock ORDER BY 1, 2;
-- collecting before arrival is refused
SELECT aftersales.collect_part_order(1, at => '2024-03-04 12:20+00');
SELECT aftersales.ship_part_order(1, NULL, at => '2024-03-04 13:00+00');
SELECT aftersales.ship_part_order(1, 'SF Express', 'SF100', at => '2024-03-04 13:00+00');
SELECT warehouse_id, part_id, on_hand, reserved FROM aftersales.stock ORDER BY 1, 2;
SELECT aftersales.arrive_part_order(1, at => '2024-03-05 09:00+00');
-- time never runs backwards
SELECT aftersales.collect_part_order(1, at => '2024-03-05 08:00+00');
SELECT aftersales.collect_part_order(1, at => '2024-03-05 10:00+00');
SELECT status, held_from FROM aftersales.tickets WHERE ticket_id = 1;
SELECT aftersales.cancel_part_order(1, 'too late', at => '2024-03-05 10:10+00');
SELECT aftersales.use_part_order(1, at => '2024-03-05 11:00+00');
SELECT seq, event, from_state, to_state, actor, at, reason, changes - 'ship_due_at' AS changes FROM aftersales.part_order_events ORDER BY seq;

-- ---------------------------------------------------------------------------
-- The old motor goes back, is found faulty; the claim is rejected, the
-- second claim accepted and settled

SELECT return_id, order_id, line_no, part_id, quantity, state FROM aftersales.part_returns;
SELECT aftersales.file_claim(1, at => '2024-03-05 12:00+00');
SELECT aftersales.receive_old_part(1, at => '2024-03-05 12:00+00');
SELECT aftersales.ship_old_part(1, 'EMS', 'EMS200', at => '2024-03-06 09:00+00');
SELECT aftersales.receive_old_part(1, at => '2024-03-08 09:00+00');
SELECT aftersales.inspect_old_part(1, 'broken', at => '2024-03-09 09:00+00');
SELECT aftersales.inspect_old_part(1, 'supplier_fault', at => '2024-03-09 09:00+00');
SELECT aftersales.file_claim(1, amount => -5, at => '2024-03-09 10:00+00');
SELECT aftersales.file_claim(1, at => '2024-03-09 10:00+00');
SELECT claim_id, supplier_org_id, amount, round, state FROM aftersales.part_claims;
SELECT aftersales.refile_claim(1, 'again', at => '2024-03-10 09:00+00');
SELECT aftersales.reject_claim(1, NULL, at => '2024-03-10 09:00+00');
SELECT aftersales.reject_claim(1, 'wear, not a defect', at => '2024-03-10 09:00+00');
SELECT aftersales.refile_claim(1, 'lab report attached', at => '2024-03-11 09:00+00');
SELECT aftersales.accept_claim(1, 900, at => '2024-03-12 09:00+00');
SELECT aftersales.accept_claim(1, 700, at => '2024-03-12 09:00+00');
SELECT aftersales.settle_claim(1, at => '2024-03-20 09:00+00');
SELECT claim_id, amount, accepted_amount, round, state, event_seq FROM aftersales.part_claims;
SELECT seq, event, from_state, to_state, reason FROM aftersales.part_claim_events ORDER BY seq;
SELECT seq, event, from_state, to_state FROM aftersales.part_return_events ORDER BY seq;

-- ---------------------------------------------------------------------------
-- Other ends: rejection, cancellation of a reservation, return unused

SELECT aftersales.request_parts(1, 1, '[{"part": 1, "quantity": 5}]', at => '2024-03-05 11:10+00');
SELECT aftersales.reject_part_order(2, NULL, at => '2024-03-05 11:20+00');
SELECT aftersales.reject_part_order(2, 'not covered', at => '2024-03-05 11:20+00');
SELECT aftersales.request_parts(1, 1, '[{"part": 1, "quantity": 5}]', at => '2024-03-05 11:30+00');
SELECT aftersales.approve_part_order(3, at => '2024-03-05 11:31+00');
SELECT aftersales.reserve_part_order(3, at => '2024-03-05 11:32+00');
SELECT on_hand, reserved FROM aftersales.stock WHERE warehouse_id = 1 AND part_id = 1;
SELECT aftersales.cancel_part_order(3, 'customer replaced the unit', at => '2024-03-05 11:40+00');
SELECT on_hand, reserved FROM aftersales.stock WHERE warehouse_id = 1 AND part_id = 1;
SELECT aftersales.request_parts(1, 1, '[{"part": 1, "quantity": 1}]', at => '2024-03-05 11:50+00');
SELECT aftersales.approve_part_order(4, at => '2024-03-05 11:51+00');
SELECT aftersales.reserve_part_order(4, at => '2024-03-05 11:52+00');
SELECT aftersales.ship_part_order(4, 'SF Express', at => '2024-03-05 12:00+00');
SELECT aftersales.arrive_part_order(4, at => '2024-03-05 13:00+00');
SELECT aftersales.collect_part_order(4, at => '2024-03-05 13:30+00');
SELECT aftersales.return_part_order(4, 'not needed', at => '2024-03-05 14:00+00');
SELECT on_hand, reserved FROM aftersales.stock WHERE warehouse_id = 1 AND part_id = 1;
SELECT order_id, state, event_seq FROM aftersales.part_orders ORDER BY order_id;

-- cancel from every state before collection; a shipped order's parts stay
-- out of stock (they come back as a receipt, if they do)
SELECT aftersales.request_parts(1, 1, '[{"part": 1, "quantity": 1}]', at => '2024-03-06 09:00+00');
SELECT aftersales.cancel_part_order(5, NULL, at => '2024-03-06 09:01+00');
SELECT aftersales.cancel_part_order(5, 'duplicate request', at => '2024-03-06 09:01+00');
SELECT aftersales.request_parts(1, 1, '[{"part": 1, "quantity": 1}]', at => '2024-03-06 09:10+00');
SELECT aftersales.approve_part_order(6, at => '2024-03-06 09:11+00');
SELECT aftersales.cancel_part_order(6, 'fixed without it', at => '2024-03-06 09:12+00');
SELECT aftersales.request_parts(1, 1, '[{"part": 1, "quantity": 2}]', at => '2024-03-06 09:20+00');
SELECT aftersales.approve_part_order(7, at => '2024-03-06 09:21+00');
SELECT aftersales.reserve_part_order(7, at => '2024-03-06 09:22+00');
SELECT aftersales.ship_part_order(7, 'EMS', at => '2024-03-06 09:30+00');
SELECT aftersales.cancel_part_order(7, 'lost in transit', at => '2024-03-09 09:30+00');
SELECT aftersales.request_parts(1, 1, '[{"part": 1, "quantity": 1}]', at => '2024-03-06 09:40+00');
SELECT aftersales.approve_part_order(8, at => '2024-03-06 09:41+00');
SELECT aftersales.reserve_part_order(8, at => '2024-03-06 09:42+00');
SELECT aftersales.ship_part_order(8, 'EMS', at => '2024-03-06 09:50+00');
SELECT aftersales.arrive_part_order(8, at => '2024-03-06 15:00+00');
SELECT aftersales.cancel_part_order(8, 'engineer never came', at => '2024-03-09 15:00+00');
SELECT aftersales.return_part_order(8, 'too late', at => '2024-03-09 15:00+00');
SELECT order_id, state, event_seq, cancelled_at FROM aftersales.part_orders WHERE order_id >= 5 ORDER BY order_id;
SELECT on_hand, reserved FROM aftersales.stock WHERE warehouse_id = 1 AND part_id = 1;
SELECT move_id, kind, on_hand_delta, reserved_delta, order_id, reason FROM aftersales.stock_moves WHERE order_id >= 5 ORDER BY move_id;

-- a second old motor: the return is waived; a claim rejected twice is final
SELECT aftersales.request_parts(1, 1, '[{"part": 2, "quantity": 1}]', at => '2024-03-10 09:00+00');
SELECT aftersales.approve_part_order(9, at => '2024-03-10 09:01+00');
SELECT aftersales.reserve_part_order(9, at => '2024-03-10 09:02+00');
SELECT aftersales.ship_part_order(9, 'EMS', at => '2024-03-10 09:03+00');
SELECT aftersales.arrive_part_order(9, at => '2024-03-10 19:00+00');
SELECT aftersales.collect_part_order(9, at => '2024-03-10 20:00+00');
SELECT aftersales.use_part_order(9, at => '2024-03-10 21:00+00');
SELECT aftersales.waive_old_part(2, NULL, at => '2024-03-11 09:00+00');
SELECT aftersales.waive_old_part(2, 'burnt on site', at => '2024-03-11 09:00+00');
SELECT aftersales.ship_old_part(2, 'EMS', at => '2024-03-11 10:00+00');
SELECT aftersales.request_parts(1, 1, '[{"part": 2, "quantity": 1}]', at => '2024-03-12 09:00+00');
SELECT aftersales.approve_part_order(10, at => '2024-03-12 09:01+00');
SELECT aftersales.reserve_part_order(10, at => '2024-03-12 09:02+00');
SELECT aftersales.ship_part_order(10, 'EMS', at => '2024-03-12 09:03+00');
SELECT aftersales.arrive_part_order(10, at => '2024-03-12 19:00+00');
SELECT aftersales.collect_part_order(10, at => '2024-03-12 20:00+00');
SELECT aftersales.use_part_order(10, at => '2024-03-12 21:00+00');
SELECT aftersales.ship_old_part(3, 'EMS', at => '2024-03-13 09:00+00');
SELECT aftersales.receive_old_part(3, at => '2024-03-14 09:00+00');
SELECT aftersales.inspect_old_part(3, 'supplier_fault', at => '2024-03-15 09:00+00');
SELECT aftersales.file_claim(3, 500, at => '2024-03-15 10:00+00');
SELECT aftersales.reject_claim(2, 'wear', at => '2024-03-16 10:00+00');
SELECT aftersales.refile_claim(2, 'new evidence', at => '2024-03-17 10:00+00');
SELECT aftersales.reject_claim(2, 'still wear', at => '2024-03-18 10:00+00');
SELECT aftersales.refile_claim(2, 'a third time', at => '2024-03-19 10:00+00');
SELECT aftersales.settle_claim(2, at => '2024-03-19 10:00+00');
SELECT claim_id, amount, accepted_amount, round, state, event_seq FROM aftersales.part_claims ORDER BY claim_id;
SELECT return_id, state, inspection_result, event_seq FROM aftersales.part_returns ORDER BY return_id;
-- the first return's claim once more: filed against a return already claimed
SELECT aftersales.file_claim(1, at => '2024-03-21 09:00+00');

-- ---------------------------------------------------------------------------
-- Bad requests write nothing

SELECT aftersales.request_parts(99, 1, '[{"part": 1, "quantity": 1}]');
SELECT aftersales.request_parts(1, 99, '[{"part": 1, "quantity": 1}]');
SELECT aftersales.request_parts(1, 1, '[]');
SELECT aftersales.request_parts(1, 1, '[{"part": 99, "quantity": 1}]');
SELECT aftersales.request_parts(1, 1, '[{"part": 1, "quantity": 0}]');
SELECT aftersales.request_parts(1, 1, '[{"part": 1, "quantity": -2}]');
SELECT aftersales.request_parts(1, 1, '[{"part": 1, "quantity": 1.5}]');
SELECT aftersales.request_parts(1, 1, '[{"part": 1}]');
SELECT aftersales.request_parts(1, 1, '[{"part": 1, "quantity": 1}, {"part": 1, "quantity": 2}]');
SELECT aftersales.request_parts(1, 1, '[{"part": 3, "quantity": 1}]');
SELECT aftersales.request_parts(1, 1, '[{"part": 1, "quantity": 1}]', at => 'infinity');
SELECT aftersales.approve_part_order(99);
-- another tenant's warehouse is unknown to this one
INSERT INTO aftersales.tenants (tenant_id, name) VALUES (2, 'other');
SET aftersales.tenant_id = 2;
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'Other HQ');
SELECT aftersales.set_warehouse('WH-O', 'Other', 'central', 6);
RESET aftersales.tenant_id;
SELECT aftersales.request_parts(1, 3, '[{"part": 1, "quantity": 1}]');
SELECT aftersales.reserve_part_order(1, from_warehouse => 3);
SELECT pg_catalog.count(*) AS orders FROM aftersales.part_orders;

-- ---------------------------------------------------------------------------
-- Labour, charges, settlement: the in-warranty ticket's labour and parts
-- are free; an out-of-warranty ticket pays

SELECT aftersales.log_work(1, 1, 'travel', '2024-03-04 10:15+00', '2024-03-04 11:00+00');
SELECT aftersales.log_work(1, 1, 'on_site', '2024-03-05 10:00+00', '2024-03-05 12:30+00');
SELECT aftersales.log_work(1, 1, 'nap', '2024-03-05 10:00+00', '2024-03-05 12:30+00');
SELECT aftersales.log_work(1, 1, 'remote', '2024-03-05 12:30+00', '2024-03-05 10:00+00');
SELECT aftersales.log_work(1, 99, 'remote', '2024-03-05 10:00+00', '2024-03-05 12:30+00');
SELECT aftersales.price_ticket(1);
SELECT kind, description, quantity, unit_price, unit_cost, chargeable, basis, amount, cost FROM aftersales.ticket_charges ORDER BY charge_id;
SELECT aftersales.add_fee(1, 'disposal of old oil', 40);
SELECT aftersales.settle_ticket(1, at => '2024-03-06 09:00+00');
SELECT aftersales.resolve_ticket(1, at => '2024-03-05 15:00+00');
SELECT aftersales.settle_ticket(1, at => '2024-03-06 09:00+00');
SELECT settlement_id, ticket_id, amount, cost FROM aftersales.settlements;
SELECT aftersales.settle_ticket(1, at => '2024-03-06 09:00+00');
SELECT aftersales.add_fee(1, 'late fee', 10);
UPDATE aftersales.ticket_charges SET amount = 0 WHERE ticket_id = 1;
SELECT aftersales.open_ticket(customer => 2, problem_type => 1, priority => 'C', description => 'noise', unit => 2, field => true, org => 4);
SELECT aftersales.assign_ticket(2, 1);
SELECT aftersales.log_work(2, 1, 'remote', '2024-03-04 09:30+00', '2024-03-04 10:30+00');
SELECT aftersales.price_ticket(2);
SELECT * FROM aftersales.check_parts();
