-- One bad stage never stops the others: a stored rule whose after is beyond
-- the 8784 hours set_escalation_rule allows (a 0.1.0 database could hold
-- one, or a direct write) is not in force.  Every sweep names it in a
-- WARNING and in sweep_runs.skipped_rules; the other stages fire, no watch
-- fails, and check_watches() stays clean.
\i sql/fixtures/fresh_extension.sql
SET aftersales.now = '2024-06-03 09:00:00+00';

INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.customers (name, tier) VALUES ('Acme Steel', 'key');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
-- refused through the API ...
SELECT aftersales.set_escalation_rule('escalation', 3, after => '2147483647 hours');
-- ... but written directly, as an unbounded 0.1.0 rule stays after an upgrade
UPDATE aftersales.escalation_rules SET after = '2147483647 hours' WHERE tenant_id = 1 AND kind = 'escalation' AND level = 3;
UPDATE aftersales.escalation_rules SET after = '2147483647 hours' WHERE tenant_id = 1 AND kind = 'not_completed';
SELECT kind, level, after_minutes FROM aftersales.escalation_rules_effective WHERE tenant_id = 1 ORDER BY kind, level;

SELECT aftersales.open_ticket(1, 1, 'A', 'no power', at => '2024-06-03 09:00+00');
SELECT claimed, warnings, escalations, key_customer, not_completed, errors, skipped_rules
  FROM aftersales.sweep(now => '2024-06-03 09:01+00');
SELECT claimed, warnings, escalations, key_customer, not_completed, errors, skipped_rules
  FROM aftersales.sweep(now => '2024-06-20 09:00+00');
SELECT claimed, warnings, escalations, errors, skipped_rules FROM aftersales.sweep(now => '2025-06-20 09:00+00');
-- every stage but the skipped ones fired once
SELECT clock, kind, level FROM aftersales.alerts ORDER BY alert_id;
SELECT * FROM aftersales.check_watches();
SELECT run_id, errors, skipped_rules FROM aftersales.sweep_runs ORDER BY run_id;

-- bounded again, the stage is back in force and fires
SELECT aftersales.set_escalation_rule('escalation', 3, after => '17 hours');
SELECT claimed, escalations, errors, skipped_rules FROM aftersales.sweep(now => '2025-06-20 09:00+00');
SELECT clock, kind, level FROM aftersales.alerts WHERE kind = 'escalation' AND level = 3;
SELECT * FROM aftersales.check_watches();
