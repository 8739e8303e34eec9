-- hostile_inputs.sql: arguments a hostile or careless caller passes, each
-- refused with a SQLSTATE, a message naming the bad value (cut when long)
-- and nothing written: blank actors, alert levels and times out of range,
-- replay of an unknown ticket.  Everything is rolled back.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(24);
SET LOCAL TimeZone = 'UTC';
SET LOCAL aftersales.now = '2026-03-02 09:00+00';
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'hostile HQ')
RETURNING org_id AS org \gset
WITH c AS (INSERT INTO aftersales.customers (name, tier) VALUES ('hostile customer', 'standard') RETURNING customer_id),
     p AS (INSERT INTO aftersales.problem_types (code, name) VALUES ('HOSTILE', 'Hostile test') RETURNING problem_type_id),
     e AS (INSERT INTO aftersales.engineers (org_id, name) VALUES (:org, 'Li Na') RETURNING engineer_id)
SELECT c.customer_id AS cu, p.problem_type_id AS pt, e.engineer_id AS en FROM c, p, e \gset
SELECT aftersales.open_ticket(:cu, :pt, 'B', 'hostile', at => '2026-03-02 09:00+00') AS t \gset

-- blank actors
SELECT throws_ok(format($$SELECT aftersales.assign_ticket(%s, %s, actor => '   ', at => '2026-03-02 09:05+00')$$, :t, :en),
    '22023', 'actor of event assign must not be blank', 'assign by an actor of spaces: 22023');
SELECT throws_ok(format($$SELECT aftersales.assign_ticket(%s, %s, actor => E'\t', at => '2026-03-02 09:05+00')$$, :t, :en),
    '22023', 'actor of event assign must not be blank', 'assign by a tab: 22023');
SELECT throws_ok(format($$SELECT aftersales.open_ticket(%s, %s, 'B', 'x', actor => E'\n \n')$$, :cu, :pt),
    '22023', 'actor of event open must not be blank', 'open by newlines: 22023');
SELECT is(aftersales.assign_ticket(:t, :en, actor => ' wang.wei ', at => '2026-03-02 09:05+00')::text, 'assigned',
    'an actor with surrounding spaces is a name');
SELECT is((SELECT event_seq FROM aftersales.tickets WHERE tenant_id = 1 AND ticket_id = :t), 2,
    'the refused events left no trace');

-- raise_alert: levels and times
SELECT throws_ok(format($$SELECT aftersales.raise_alert(%s, 'part_not_collected', level => 'NaN')$$, :t),
    '22023', NULL, 'raise_alert level NaN: 22023');
SELECT throws_ok(format($$SELECT aftersales.raise_alert(%s, 'part_not_collected', level => 'Infinity')$$, :t),
    '22023', NULL, 'raise_alert level Infinity: 22023');
SELECT throws_ok(format($$SELECT aftersales.raise_alert(%s, 'part_not_collected', level => 1e100)$$, :t),
    '22023', NULL, 'raise_alert level 1e100: 22023');
SELECT throws_ok(format($$SELECT aftersales.raise_alert(%s, 'part_not_collected', level => 1, at => 'infinity')$$, :t),
    '22008', NULL, 'raise_alert at infinity: 22008');
SELECT throws_ok(format($$SELECT aftersales.raise_alert(%s, 'part_not_collected', level => 1, due_at => '-infinity')$$, :t),
    '22008', NULL, 'raise_alert due at -infinity: 22008');
SELECT throws_ok(format($$SELECT aftersales.raise_alert(%s, 'part_not_collected', level => 1, at => '0044-03-15 12:00+00 BC')$$, :t),
    '22008', NULL, 'raise_alert at a BC time: 22008');
SELECT throws_like(format($$SELECT aftersales.raise_alert(%s, 'part_not_collected', level => 1, role => repeat('x', 1048576))$$, :t),
    'invalid level 1 or role "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..." for an alert',
    'a 1 MB role is cut to 64 characters in the message');
SELECT throws_like(format($$SELECT aftersales.raise_alert(%s, repeat('k', 1048576), level => 1)$$, :t),
    'alerts of kind "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk..." cannot be raised by hand',
    'a 1 MB kind is cut to 64 characters in the message');

-- escalation rules: bounded, for a tenant that exists
SELECT throws_like($$SELECT aftersales.set_escalation_rule('escalation', 3, after => '2147483647 hours')$$,
    'invalid after for escalation rule escalation 3: 2147483647:00:00', 'an escalation 2147483647 hours after: refused');
SELECT throws_ok($$SELECT aftersales.set_escalation_rule('escalation', 3, after => '8785 hours')$$,
    '22023', NULL, 'an escalation more than 8784 hours after: 22023');
SELECT lives_ok($$SELECT aftersales.set_escalation_rule('escalation', 3, after => '8784 hours')$$,
    'an escalation 8784 hours after: accepted');
SELECT throws_ok($$SELECT aftersales.set_escalation_rule('escalation', 3, after => '2 hours', tenant => NULL)$$,
    '22004', 'tenant must not be null', 'set_escalation_rule for a NULL tenant: 22004');
SELECT throws_ok($$SELECT aftersales.set_escalation_rule('escalation', 3, after => '2 hours', tenant => 987654321)$$,
    'P0002', 'tenant 987654321 does not exist', 'set_escalation_rule for an unknown tenant: P0002');
SELECT throws_ok($$SELECT aftersales.set_calendar('x', 'zone=UTC; mon-fri 09:00-17:00', tenant => NULL)$$,
    '22004', 'tenant must not be null', 'set_calendar for a NULL tenant: 22004');
SELECT throws_ok($$SELECT aftersales.set_calendar('x', 'zone=UTC; mon-fri 09:00-17:00', tenant => 987654321)$$,
    'P0002', 'tenant 987654321 does not exist', 'set_calendar for an unknown tenant: P0002');
SELECT throws_like($$SELECT aftersales.set_calendar(repeat('n', 1048576), 'zone=UTC; mon-fri 09:00-17:00')$$,
    'invalid calendar name: "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn..."',
    'a 1 MB calendar name is cut to 64 characters in the message');
SELECT throws_like(format($$SELECT aftersales.open_ticket(%s, %s, 'B', 'x', channel => repeat('c', 1048576))$$, :cu, :pt),
    'invalid channel: "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc..."',
    'a 1 MB channel is cut to 64 characters in the message');

-- replay_ticket of an unknown ticket
SELECT throws_ok($$SELECT aftersales.replay_ticket(1, 9223372036854775807)$$,
    'P0002', 'ticket 9223372036854775807 does not exist for tenant 1', 'replay_ticket of an unknown ticket: P0002');
SELECT ok(aftersales.replay_ticket(1, :t) IS NOT NULL, 'replay_ticket of a ticket replays it');

SELECT * FROM finish();
ROLLBACK;
