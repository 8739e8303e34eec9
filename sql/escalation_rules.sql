-- Escalation rules: shipped defaults in tenant 1, other tenants override key
-- by key; validation with a hint; levels must come in order; a change
-- re-arms every watch; shipped rows stay out of pg_dump until changed.
\i sql/fixtures/fresh_extension.sql
SET aftersales.now = '2024-06-03 00:00:00+00';

SELECT tenant_id, kind, level, after, role, enabled, customised FROM aftersales.escalation_rules ORDER BY kind, level;
SELECT x.config::regclass AS config, x.condition
  FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x (config, condition)
 WHERE e.extname = 'aftersales'
   AND x.config::regclass::text ~ '^aftersales\.(escalation|alerts|ticket_escalations|sweep_runs)'
 ORDER BY x.config::regclass::text;

-- Tenant 2 inherits everything, then overrides level 2 and drops the 50%
-- warning; tenant 1's rows are untouched.
INSERT INTO aftersales.tenants VALUES (2, 'acme');
SELECT aftersales.set_escalation_rule('escalation', 2, after => '2 hours', role => 'regional_manager', tenant => 2);
SELECT aftersales.set_escalation_rule('warning', 50, enabled => false, tenant => 2);
SELECT aftersales.set_escalation_rule('warning', 90, tenant => 2);
SELECT tenant_id, kind, level, after_minutes, role, inherited FROM aftersales.escalation_rules_effective
 WHERE tenant_id = 2 ORDER BY kind, level;
SELECT tenant_id, kind, level, after, role, enabled, description FROM aftersales.escalation_rules
 WHERE tenant_id = 2 ORDER BY kind, level;
SELECT count(*) AS tenant_1_rules FROM aftersales.escalation_rules_effective WHERE tenant_id = 1;

-- Errors, each with a hint.
SELECT aftersales.set_escalation_rule('panic', 1);
SELECT aftersales.set_escalation_rule('warning', 0);
SELECT aftersales.set_escalation_rule('warning', 150);
SELECT aftersales.set_escalation_rule('warning', 33.333);
SELECT aftersales.set_escalation_rule('warning', 80, after => '1 hour');
SELECT aftersales.set_escalation_rule('escalation', 10, after => '1 hour');
SELECT aftersales.set_escalation_rule('escalation', 1.5, after => '1 hour');
SELECT aftersales.set_escalation_rule('escalation', 4);
SELECT aftersales.set_escalation_rule('escalation', 4, after => '-1 hour');
SELECT aftersales.set_escalation_rule('escalation', 4, after => '2 days');
SELECT aftersales.set_escalation_rule('not_arrived', 1, after => '8 hours');
SELECT aftersales.set_escalation_rule('lock', role => 'Service Manager');
-- A higher level may not fire before a lower one (here: level 3 before
-- tenant 2's level 2).
SELECT aftersales.set_escalation_rule('escalation', 3, after => '90 minutes', tenant => 2);
-- Tenant 1's rows are the defaults: switched off, never deleted.
DELETE FROM aftersales.escalation_rules WHERE tenant_id = 1 AND kind = 'lock';
DELETE FROM aftersales.escalation_rules WHERE tenant_id = 2 AND kind = 'warning' AND level = 90;
-- The table's own checks hold for direct writes too.
INSERT INTO aftersales.escalation_rules (tenant_id, kind, level, after, role) VALUES (2, 'warning', 60, '1 hour', 'assignee');

-- A change marks tenant 1's row customised (pg_dump keeps it then); an
-- INSERT of a key that a shipped, unchanged row holds replaces it, as a
-- restore from pg_dump does.
SELECT aftersales.set_escalation_rule('not_completed', after => '48 hours', tenant => 1,
                                      description => 'Not resolved 2 days after entry');
INSERT INTO aftersales.escalation_rules (tenant_id, kind, level, after, role, description)
VALUES (1, 'not_arrived', 0, '6 hours', 'supervisor', 'restored');
SELECT kind, level, after, description, customised FROM aftersales.escalation_rules
 WHERE tenant_id = 1 AND kind IN ('not_arrived', 'not_completed') ORDER BY kind;

-- ---------------------------------------------------------------------------
-- A rule change re-arms the watches of open clocks.
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.customers (name) VALUES ('Acme Steel');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
-- Priority C at 09:00: response 4 h (50% at 11:00), resolution 24 h (50%
-- at 21:00; not completed only on Wednesday at 09:00 now: 48 h).
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'C', description => 'noise',
                              at => '2024-06-03 09:00+00');
SELECT clock, next_check FROM aftersales.escalation_watches ORDER BY clock;
-- A 25% warning: 10:00 and 15:00.
SELECT aftersales.set_escalation_rule('warning', 25, tenant => 1);
SELECT clock, next_check FROM aftersales.escalation_watches ORDER BY clock;
-- No warnings at all: the first stage is level 1, at the breach.
SELECT aftersales.set_escalation_rule('warning', p, enabled => false, tenant => 1) FROM unnest('{25,50,75,100}'::numeric[]) p;
SELECT clock, next_check FROM aftersales.escalation_watches ORDER BY clock;
-- Level 1 an hour after the breach instead.
SELECT aftersales.set_escalation_rule('escalation', 1, after => '1 hour', tenant => 1);
SELECT clock, next_check FROM aftersales.escalation_watches ORDER BY clock;
SELECT * FROM aftersales.check_watches();
-- rearm_watches() repairs a damaged watch.
UPDATE aftersales.escalation_watches SET next_check = NULL WHERE clock = 'resolution';
SELECT * FROM aftersales.check_watches();
SELECT aftersales.rearm_watches();
SELECT * FROM aftersales.check_watches();
