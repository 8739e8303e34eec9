-- Seed 000's typical anomaly alerts: not arrived on site (4 hours after
-- entry, wall clock, as the 4-hour arrival rate counts), not completed (24
-- hours after entry), fault tickets of key customers (at entry).  The
-- fourth, "spare part arrived but not collected", belongs to a spare-parts
-- module: it has its kind and its hook, raise_alert(), the same outbox and
-- the same exactly-once constraint.
\i sql/fixtures/fresh_extension.sql
SET aftersales.now = '2024-06-03 00:00:00+00';

INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.customers (name, tier) VALUES ('Acme Steel', 'key'), ('Bolt Foods', 'standard');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
INSERT INTO aftersales.engineers (org_id, name) VALUES (1, 'Wang Wei');
-- Only the anomaly alerts in this file.
SELECT aftersales.set_escalation_rule(k, l, enabled => false)
  FROM (VALUES ('warning', 50), ('warning', 75), ('warning', 100), ('escalation', 1), ('escalation', 2),
               ('escalation', 3), ('lock', 0)) AS r (k, l);
SELECT kind, level, after_minutes, role FROM aftersales.escalation_rules_effective WHERE tenant_id = 1 ORDER BY kind;

CREATE FUNCTION pg_temp.alerts(since bigint DEFAULT 0)
    RETURNS TABLE (id bigint, ticket bigint, clock text, kind text, level numeric, role text, due_at timestamptz,
                   raised_at timestamptz, detail jsonb)
LANGUAGE sql AS $$
SELECT alert_id, ticket_id, clock, kind, level, role, due_at, raised_at, detail
  FROM aftersales.alerts WHERE alert_id > since ORDER BY alert_id
$$;
CREATE FUNCTION pg_temp.sweep(at timestamptz)
    RETURNS TABLE (claimed integer, not_arrived integer, not_completed integer, key_customer integer, more_due boolean)
LANGUAGE sql AS $$
SELECT claimed, not_arrived, not_completed, key_customer, more_due FROM aftersales.sweep(now => at)
$$;

-- Monday 2024-06-03, all entered at 09:00 (the default policy, 24x7):
--   1: key customer, field ticket, nobody comes;
--   2: standard customer, field, on site at 12:00, resolved at 20:00;
--   3: standard customer, on hold from 10:00 to Tuesday 12:00;
--   4: key customer, resolved by phone at 09:00:30, before any sweep.
SELECT aftersales.open_tickets('[{"customer": 1, "problem_type": 1, "priority": "C", "description": "one", "field": true},
                                 {"customer": 2, "problem_type": 1, "priority": "C", "description": "two", "field": true},
                                 {"customer": 2, "problem_type": 1, "priority": "C", "description": "three"},
                                 {"customer": 1, "problem_type": 1, "priority": "C", "description": "four"}]',
                               at => '2024-06-03 09:00+00');
SELECT aftersales.assign_ticket(4, engineer => 1, at => '2024-06-03 09:00:10+00');
SELECT aftersales.resolve_ticket(4, resolution => 'reset the breaker by phone', at => '2024-06-03 09:00:30+00');
SELECT aftersales.hold_ticket(3, reason => 'customer closed today', at => '2024-06-03 10:00+00');
SELECT aftersales.assign_ticket(2, engineer => 1, at => '2024-06-03 10:00+00');
SELECT aftersales.arrive_on_site(2, at => '2024-06-03 12:00+00');
SELECT ticket_id, clock, next_check FROM aftersales.escalation_watches ORDER BY 1, 2;

-- The key customer's fault ticket at the first sweep; 4 is resolved.
SELECT * FROM pg_temp.sweep('2024-06-03 09:01+00');
SELECT * FROM pg_temp.alerts();
-- 1 is not on site at 13:00; 2 came at 12:00.
SELECT * FROM pg_temp.sweep('2024-06-03 13:00+00');
SELECT * FROM pg_temp.alerts(1);
SELECT aftersales.resolve_ticket(2, resolution => 'new fuse', at => '2024-06-03 20:00+00');
-- Tuesday 09:00: 1 is not completed; 2 is; 3 is on hold (its resolution
-- clock paused): not yet.
SELECT * FROM pg_temp.sweep('2024-06-04 09:00+00');
SELECT * FROM pg_temp.alerts(2);
-- 3 is resumed at 12:00: still not completed, 27 hours after entry; the
-- alert says when it was due (09:00), and comes at the next sweep.
SELECT aftersales.resume_ticket(3, at => '2024-06-04 12:00+00');
SELECT * FROM pg_temp.sweep('2024-06-04 12:01+00');
SELECT * FROM pg_temp.alerts(3);
-- Each once.
SELECT * FROM pg_temp.sweep('2024-06-05 12:00+00');
SELECT ticket_id, clock, done, next_check FROM aftersales.escalation_watches ORDER BY 1, 2;

-- ---------------------------------------------------------------------------
-- The hook for the spare-parts module: part_not_collected, once per
-- (ticket, level): level tells one shipment from another.
SET aftersales.now = '2024-06-05 10:00+00';
SELECT aftersales.raise_alert(1, 'part_not_collected', level => 7, detail => '{"part": "fan motor", "depot": "Wuxi"}');
SELECT aftersales.raise_alert(1, 'part_not_collected', level => 7);
SELECT aftersales.raise_alert(1, 'part_not_collected', level => 8, role => 'service_manager',
                              due_at => '2024-06-05 08:00+00');
SELECT * FROM pg_temp.alerts(4);
-- Only kinds the sweep does not raise; a level is not negative; a role is a
-- lowercase name; the ticket must exist.
SELECT aftersales.raise_alert(1, 'escalation', level => 1);
SELECT aftersales.raise_alert(1, NULL);
SELECT aftersales.raise_alert(1, 'part_not_collected', level => -1);
SELECT aftersales.raise_alert(1, 'part_not_collected', role => 'Store Keeper');
SELECT aftersales.raise_alert(99, 'part_not_collected');
SELECT * FROM aftersales.check_watches();
