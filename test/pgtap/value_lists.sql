-- value_lists.sql: each closed value list is declared once, as an enum type,
-- and every place that judges a value reads that declaration: ticket
-- channels (aftersales.ticket_channel) in open_ticket, open_tickets and the
-- tickets row check; watched clocks (aftersales.sla_metric, plus ticket) in
-- the CHECK of alerts and the escalation_watches row check.  Adding a value
-- to the type is the one change that makes it accepted everywhere.
-- Everything is rolled back.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(17);
SET LOCAL TimeZone = 'UTC';
SET LOCAL aftersales.now = '2026-03-02 09:00+00';

-- the declarations
SELECT enum_has_labels('aftersales', 'ticket_channel',
    ARRAY['phone', 'web', 'app', 'wechat', 'email', 'walk_in', 'field', 'other'], 'the channels are one enum type');
SELECT enum_has_labels('aftersales', 'sla_metric', ARRAY['first_response', 'arrival', 'resolution'],
    'the SLA clocks are one enum type');

-- no function spells a list out again: its source names the type instead
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
            WHERE p.pronamespace IN ('aftersales'::regnamespace, 'aftersales_internal'::regnamespace)
              AND p.prosrc ~ '''walk_in'''), NULL,
          'no function of the extension writes out the channel list');
SELECT ok((SELECT prosrc ~ 'value_listed\(''aftersales\.ticket_channel''' AND prosrc ~ 'value_list\(''aftersales\.ticket_channel''\)'
             FROM pg_proc WHERE oid = 'aftersales.open_ticket'::regproc),
          'open_ticket checks the channel and builds its hint from aftersales.ticket_channel');
SELECT ok((SELECT prosrc ~ 'value_listed\(''aftersales\.ticket_channel'''
             FROM pg_proc WHERE oid = 'aftersales.open_tickets'::regproc),
          'open_tickets checks channels against aftersales.ticket_channel');
SELECT is((SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
            WHERE c.conrelid = 'aftersales.alerts'::regclass AND c.conname = 'alerts_clock_check'),
          'CHECK (aftersales_internal.is_watch_clock(clock))', 'the CHECK of alerts.clock reads the declared clocks');
SELECT is((SELECT count(*)::int FROM pg_constraint c
            WHERE c.connamespace = 'aftersales'::regnamespace AND c.contype = 'c'
              AND pg_get_constraintdef(c.oid) ~ '''(first_response|walk_in)'''), 0,
          'no CHECK constraint writes out the channel or clock list');

-- the fixture
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'lists HQ')
RETURNING org_id AS org \gset
WITH c AS (INSERT INTO aftersales.customers (name, tier) VALUES ('lists customer', 'standard') RETURNING customer_id),
     p AS (INSERT INTO aftersales.problem_types (code, name) VALUES ('LISTS', 'Value list test') RETURNING problem_type_id)
SELECT c.customer_id AS cu, p.problem_type_id AS pt FROM c, p \gset

-- before: an unknown channel is refused by the API and by the row check
SELECT throws_ok(format($$SELECT aftersales.open_ticket(%s, %s, 'B', 'x', channel => 'kiosk')$$, :cu, :pt),
    '22023', 'invalid channel: "kiosk"', 'open_ticket refuses channel kiosk before it is declared');
SELECT throws_ok(format($$SELECT aftersales.open_tickets('[{"customer": %s, "problem_type": %s, "priority": "B", "description": "x", "channel": "kiosk"}]')$$, :cu, :pt),
    '22023', NULL, 'open_tickets refuses channel kiosk before it is declared');
SELECT aftersales.open_ticket(:cu, :pt, 'B', 'lists', at => '2026-03-02 09:00+00') AS t \gset
SELECT throws_ok(format($$INSERT INTO aftersales.tickets (customer_id, problem_type_id, description, priority, channel)
                          VALUES (%s, %s, 'direct', 'B', 'kiosk')$$, :cu, :pt),
    '23514', NULL, 'the tickets row check refuses channel kiosk before it is declared');

-- one change: the value added to the type
ALTER TYPE aftersales.ticket_channel ADD VALUE 'kiosk';
SELECT lives_ok(format($$SELECT aftersales.open_ticket(%s, %s, 'B', 'x', channel => 'kiosk')$$, :cu, :pt),
    'open_ticket accepts channel kiosk once it is declared');
SELECT lives_ok(format($$SELECT aftersales.open_tickets('[{"customer": %s, "problem_type": %s, "priority": "B", "description": "x", "channel": "kiosk"}]')$$, :cu, :pt),
    'open_tickets accepts channel kiosk once it is declared');
SELECT lives_ok(format($$INSERT INTO aftersales.tickets (customer_id, problem_type_id, description, priority, channel)
                         VALUES (%s, %s, 'direct', 'B', 'kiosk')$$, :cu, :pt),
    'the tickets row check accepts channel kiosk once it is declared');
SELECT is(aftersales_internal.value_list('aftersales.ticket_channel'),
    'phone, web, app, wechat, email, walk_in, field, other and kiosk', 'the hint lists the new channel');

-- the watched clocks: the SLA metrics and ticket, nothing else
SELECT ok(aftersales_internal.is_watch_clock('ticket') AND aftersales_internal.is_watch_clock('arrival'),
    'ticket and every SLA metric are watched clocks');
SELECT ok(NOT aftersales_internal.is_watch_clock('lunch'), 'lunch is not a watched clock');
SELECT throws_ok(format($$INSERT INTO aftersales.alerts (tenant_id, ticket_id, clock, kind, role, due_at, raised_at)
                          VALUES (aftersales.current_tenant(), %s, 'lunch', 'warning', 'assignee', now(), now())$$, :t),
    '23514', NULL, 'alerts refuse an undeclared clock');

SELECT * FROM finish();
ROLLBACK;
