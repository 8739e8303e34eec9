-- Part orders approved through the approval engine: a tenant names the
-- department whose approval its part orders wait for; the department's
-- decision approves or rejects the order, as the decider; the order cannot
-- be decided past its approval; without the department, a manager
-- approves the order by its own event.
\i sql/fixtures/fresh_extension.sql
SET aftersales.now = '2026-03-02 09:00:00+08';
SET aftersales.actor = 'agent.zhang';
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.organisations (parent_id, level, name, region) VALUES (1, 'region', '华东大区', '华东');
INSERT INTO aftersales.organisations (parent_id, level, name, province) VALUES (2, 'province', '江苏', '江苏');
INSERT INTO aftersales.organisations (parent_id, level, org_type, name) VALUES (3, 'outlet', 'representative_office', '南京服务站');
INSERT INTO aftersales.customers (name, region, province, org_id) VALUES ('Acme Steel', '华东', '江苏', 4);
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
INSERT INTO aftersales.engineers (org_id, name, login, region) VALUES (4, 'Wang Wei', 'wang', '华东');
SELECT aftersales.set_part('P-SEAL', 'Pump seal', 'B', 35.00);
SELECT aftersales.set_warehouse('WH-C', 'Central', 'central', 1);
SELECT aftersales.receive_stock(1, 1, 10, 'opening stock');
SELECT aftersales.open_ticket(1, 1, 'B', 'leaking pump') AS t \gset
SELECT aftersales.assign_ticket(:t, 1);
SELECT aftersales.set_calendar('office', 'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00', 'office hours');
INSERT INTO aftersales.departments (org_id, code, name, calendar) VALUES (1, 'quality_assurance', '质量保证部', 'office');
INSERT INTO aftersales.department_members (department_id, member) VALUES (1, 'qa.li');

-- The approver: a department of the tenant, by code.
SELECT aftersales.set_part_order_approver('nowhere');
SELECT aftersales.set_part_order_approver('quality_assurance');
SELECT tenant_id, warning_line, part_order_department_id FROM aftersales.approval_settings;

-- Each order submits its approval, due on the department's calendar.
SELECT aftersales.request_parts(:t, 1, '[{"part": 1, "quantity": 1}]');
SELECT aftersales.request_parts(:t, 1, '[{"part": 1, "quantity": 2}]');
SELECT aftersales.request_parts(:t, 1, '[{"part": 1, "quantity": 3}]');
SELECT approval_id, kind, org_id, department_id, subject, ref_id, ticket_id, state, submitted_at, due_at
  FROM aftersales.approvals ORDER BY 1;

-- The order waits for its approval: neither approved nor rejected by its
-- own event, and nothing is written.
SELECT aftersales.approve_part_order(1);
SELECT aftersales.reject_part_order(1, 'not needed');
SELECT order_id, state, event_seq FROM aftersales.part_orders ORDER BY 1;

-- The department decides: the order follows, as the decider, at the
-- decision's time; its ship target runs from the approval.
SET aftersales.actor = 'qa.li';
SELECT aftersales.grant_approval(1, at => '2026-03-02 10:00+08');
SELECT aftersales.reject_approval(2, 'seal is in the van', at => '2026-03-02 10:30+08');
SET aftersales.actor = 'agent.zhang';
SELECT aftersales.withdraw_approval(3, 'asked twice', at => '2026-03-02 11:00+08');
SELECT order_id, state, approved_at, ship_due_at FROM aftersales.part_orders ORDER BY 1;
SELECT order_id, seq, event, from_state, to_state, actor, at, reason
  FROM aftersales.part_order_events WHERE event IN ('approve', 'reject') ORDER BY 1, 2;

-- An order is decided only as its approval was; a withdrawn approval
-- decides nothing.
SELECT aftersales.reject_part_order(1, 'changed my mind');
SELECT aftersales.approve_part_order(3);
SELECT aftersales.submit_approval('part_order', 'quality_assurance', 'part order 3, again', org => 4, ref => 3, ticket => :t) AS a4 \gset
SET aftersales.actor = 'qa.li';
SELECT aftersales.grant_approval(:a4, at => '2026-03-02 14:00+08');
SET aftersales.actor = 'agent.zhang';
SELECT order_id, state FROM aftersales.part_orders ORDER BY 1;

-- A cancelled order withdraws its pending approval.
SELECT aftersales.request_parts(:t, 1, '[{"part": 1, "quantity": 1}]') AS o5 \gset
SELECT aftersales.cancel_part_order(:o5, 'duplicate', at => '2026-03-02 15:00+08');
SELECT approval_id, ref_id, state FROM aftersales.approvals WHERE ref_id = :o5;
SELECT approval_id, seq, event, actor, at, reason FROM aftersales.approval_events WHERE approval_id = 5 ORDER BY 2;
-- and a decision the order cannot take undoes the approval's too
SELECT aftersales.submit_approval('part_order', 'quality_assurance', 'part order 1, twice', org => 4, ref => 1) AS a6 \gset
SET aftersales.actor = 'qa.li';
SELECT aftersales.grant_approval(:a6, at => '2026-03-02 16:00+08');
SET aftersales.actor = 'agent.zhang';
SELECT approval_id, state FROM aftersales.approvals WHERE approval_id = :a6;

-- Without an approver, a manager approves the order by its own event.
SELECT aftersales.set_part_order_approver(NULL);
SELECT aftersales.request_parts(:t, 1, '[{"part": 1, "quantity": 1}]') AS o7 \gset
SELECT aftersales.approve_part_order(:o7);
SELECT count(*) AS approvals_of_the_order FROM aftersales.approvals WHERE ref_id = :o7;
SELECT * FROM aftersales_internal.state_machine_check('part_order', 'aftersales.part_orders', 'aftersales.part_order_events', 'order_id', NULL);
