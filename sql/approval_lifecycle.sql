-- Approvals: submission with a due time on the department's calendar,
-- decisions only by the approving department, on time and delayed, the
-- warning line swept once per crossing, every error text.
\i sql/fixtures/fresh_extension.sql
SET aftersales.now = '2026-03-02 09:00:00+08';
SET aftersales.actor = 'agent.zhang';
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.organisations (parent_id, level, name, region) VALUES (1, 'region', '华东大区', '华东');
SELECT aftersales.set_calendar('office', 'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00', 'office hours');
INSERT INTO aftersales.departments (org_id, code, name, calendar)
VALUES (1, 'customer_service', '客服中心', 'office'), (1, 'quality_assurance', '质量保证部', 'office'), (2, 'east_office', '华东办', '24x7');
INSERT INTO aftersales.department_members (department_id, member) VALUES (1, 'cs.zhang'), (2, 'qa.li');
SELECT aftersales.set_approval_target('internal_request', 'quality_assurance', '16 hours');

-- due on office hours: Friday 17:00 + 16 business hours = Tuesday 17:00;
-- without a target, 8 business hours
SELECT aftersales.submit_approval('internal_request', 'quality_assurance', 're-test batch 7', from_department => 'east_office',
                                  at => '2026-03-06 17:00+08') AS a1;
SELECT aftersales.submit_approval('fee_waiver', 'customer_service', 'waive visit fee', org => 2, amount => 120,
                                  at => '2026-03-06 17:00+08') AS a2;
SELECT approval_id, kind, org_id, from_department_id, department_id, state, submitted_at, due_at FROM aftersales.approvals ORDER BY 1;
SET aftersales.actor = 'qa.li';
SELECT aftersales.grant_approval(1, at => '2026-03-10 10:00+08');
SET aftersales.actor = 'cs.zhang';
SELECT aftersales.reject_approval(2, 'no receipt', at => '2026-03-10 10:00+08');
SELECT approval_id, state, decided_at, decided_by, delayed FROM aftersales.approvals ORDER BY 1;
SELECT approval_id, seq, actor, event, from_state, to_state, reason FROM aftersales.approval_events ORDER BY 1, 2;
SELECT month, department, kind, submitted, decided, approvals_on_time, approvals_delayed, approval_delay_rate, approval_completion_rate FROM aftersales.kpi_approvals_monthly ORDER BY 2, 3;

-- Errors: each writes nothing.
SET aftersales.now = '2026-03-10 12:00:00+08';
SELECT count(*) AS events_before FROM aftersales.approval_events;
SELECT aftersales.submit_approval('bribe', 'customer_service', 'x', org => 1);
SELECT aftersales.submit_approval('fee_waiver', 'finance', 'x', org => 1);
SELECT aftersales.submit_approval('fee_waiver', 'customer_service', ' ', org => 1);
SELECT aftersales.submit_approval('fee_waiver', 'customer_service', 'x');
SELECT aftersales.submit_approval('fee_waiver', 'customer_service', 'x', from_department => 'nowhere');
SELECT aftersales.submit_approval('fee_waiver', 'customer_service', 'x', org => 1) AS a3 \gset
-- an approval by someone outside the approving department
SET aftersales.actor = 'qa.li';
SELECT aftersales.grant_approval(:a3);
SELECT aftersales.reject_approval(:a3, 'no');
SET aftersales.actor = 'cs.zhang';
SELECT aftersales.reject_approval(:a3, NULL);
SELECT aftersales.grant_approval(1);
SELECT aftersales.withdraw_approval(2, 'changed my mind');
-- a direct UPDATE is judged the same way
SET aftersales.actor = 'qa.li';
UPDATE aftersales.approvals SET event = 'approve', event_at = '2026-03-10 12:00+08', event_seq = event_seq + 1 WHERE approval_id = :a3;
SET aftersales.actor = 'cs.zhang';
SELECT aftersales.grant_approval(404);
SELECT aftersales.set_approval_target('gift', 'customer_service', '1 hour');
SELECT aftersales.set_approval_target('fee_waiver', 'customer_service', '2 days');
SELECT aftersales.set_approval_warning_line(0);
SELECT count(*) AS events_after FROM aftersales.approval_events;

-- The warning line: 3 here.  Crossing raises one alert; sweeping again
-- raises none; falling below re-arms; crossing again raises the second.
SELECT aftersales.set_approval_warning_line(3);
SELECT aftersales.submit_approval('internal_request', 'customer_service', 'r' || i, org => 2, at => '2026-03-11 09:00+08')
  FROM generate_series(1, 3) i;
SELECT aftersales.sweep_approvals('2026-03-11 10:00+08') AS raised;
SELECT aftersales.sweep_approvals('2026-03-11 11:00+08') AS raised_again;
SELECT org_id, approvals_pending, pending_delayed, warning_line, over_line FROM aftersales.kpi_approvals_pending_by_org ORDER BY 1;
SELECT aftersales.withdraw_approval(max(approval_id), 'duplicate', '2026-03-11 12:00+08') FROM aftersales.approvals;
SELECT aftersales.sweep_approvals('2026-03-11 13:00+08') AS below;
SELECT aftersales.submit_approval('internal_request', 'customer_service', 'r4', org => 2, at => '2026-03-11 14:00+08') AS a;
SELECT aftersales.sweep_approvals('2026-03-11 15:00+08') AS crossed_again;
SELECT org_id, crossing, pending, warning_line, raised_at FROM aftersales.approval_alerts ORDER BY alert_id;
SELECT org_id, over_line, crossings FROM aftersales.approval_watches ORDER BY 1;
