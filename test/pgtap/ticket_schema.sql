-- ticket_schema.sql: the domain and ticket schema (issue 3): tenant keys,
-- foreign keys, comments, pg_dump marks, privileges.
--
-- Run: pg_prove -h /tmp -p 5499 -U postgres -d tk_tap test/pgtap/ticket_schema.sql
--      (the database needs: CREATE EXTENSION pgtap; CREATE EXTENSION aftersales CASCADE;)
-- Everything happens in one transaction that is rolled back.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(281);

CREATE TEMP TABLE my_tables (name text PRIMARY KEY, user_data boolean);
INSERT INTO my_tables VALUES
    ('organisations', true), ('customers', true), ('product_lines', true), ('product_models', true),
    ('units', true), ('problem_types', true), ('engineers', true), ('sla_policies', true),
    ('sla_targets', true), ('service_agreements', true), ('occurrences', true), ('tickets', true), ('ticket_events', true),
    ('ticket_sla', true);

SELECT has_table('aftersales', name, 'table aftersales.' || name || ' exists') FROM my_tables ORDER BY name;

-- tenant_id: first column, NOT NULL, leading the primary key, referencing tenants.
SELECT is((SELECT attname::text FROM pg_attribute WHERE attrelid = ('aftersales.' || name)::regclass AND attnum = 1),
          'tenant_id', name || ': tenant_id is the first column') FROM my_tables ORDER BY name;
SELECT col_not_null('aftersales', name, 'tenant_id', name || ': tenant_id is NOT NULL') FROM my_tables ORDER BY name;
SELECT is((SELECT a.attname::text FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.conrelid = ('aftersales.' || name)::regclass AND c.contype = 'p'),
          'tenant_id', name || ': tenant_id leads the primary key') FROM my_tables ORDER BY name;
-- The tenant is referenced directly, or through a foreign key led by
-- tenant_id to a table that references tenants directly.  tickets reach it
-- through their customer, ticket_events and ticket_sla through their
-- ticket, occurrences through its model or problem type (exactly one is
-- set): their own check would lock the tenant's row on every entry or
-- event, in every session of the tenant (README, Performance), and proves
-- nothing the other key does not.
SELECT ok(EXISTS (SELECT FROM pg_constraint c
                   WHERE c.conrelid = ('aftersales.' || name)::regclass AND c.contype = 'f'
                     AND c.confrelid = 'aftersales.tenants'::regclass),
          name || ': references aftersales.tenants')
  FROM my_tables WHERE name NOT IN ('tickets', 'ticket_events', 'ticket_sla', 'occurrences') ORDER BY name;
-- (a chain of foreign keys, each led by tenant_id, that ends at tenants)
SELECT ok(NOT EXISTS (SELECT FROM pg_constraint c
                       WHERE c.conrelid = ('aftersales.' || name)::regclass AND c.contype = 'f'
                         AND c.confrelid = 'aftersales.tenants'::regclass)
          AND EXISTS (WITH RECURSIVE chain (rel, depth) AS (
                          SELECT ('aftersales.' || name)::regclass::oid, 0
                          UNION
                          SELECT c.confrelid, chain.depth + 1
                            FROM chain JOIN pg_constraint c ON c.conrelid = chain.rel AND c.contype = 'f'
                            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
                           WHERE a.attname = 'tenant_id' AND chain.depth < 5)
                      SELECT FROM chain WHERE rel = 'aftersales.tenants'::regclass),
          name || ': references aftersales.tenants through ' ||
          CASE name WHEN 'occurrences' THEN 'its model and problem type' WHEN 'tickets' THEN 'its customer'
                    ELSE 'its ticket' END)
  FROM my_tables WHERE name IN ('tickets', 'ticket_events', 'ticket_sla', 'occurrences') ORDER BY name;
-- occurrences: the check that makes one of its two keys always present.
SELECT ok(EXISTS (SELECT FROM pg_constraint c
                   WHERE c.conrelid = 'aftersales.occurrences'::regclass AND c.contype = 'c'
                     AND pg_get_constraintdef(c.oid) LIKE '%occurrences_row_check(model_id, problem_type_id, n)%'),
          'occurrences: exactly one of model_id and problem_type_id, each under a tenant-led foreign key');
SELECT throws_ok($$SELECT aftersales_internal.occurrences_row_check(NULL, NULL, 1)$$, '23514',
                 'new row for relation "occurrences" violates check constraint "occurrences_row_check"',
                 'occurrences: a row with neither key is refused');
SELECT throws_ok($$SELECT aftersales_internal.occurrences_row_check(1, 1, 1)$$, '23514', NULL,
                 'occurrences: a row with both keys is refused');
-- The row rules of the life-cycle tables: one CHECK per table, in C.
SELECT is(array_agg(c.conrelid::regclass::text || ' ' || c.conname ORDER BY c.conname),
          ARRAY['aftersales.escalation_watches escalation_watches_row_check', 'aftersales.occurrences occurrences_row_check',
                'aftersales.ticket_events ticket_events_row_check', 'aftersales.ticket_sla ticket_sla_row_check',
                'aftersales.tickets tickets_row_check'],
          'the tables a life cycle writes have one CHECK each')
  FROM pg_constraint c
 WHERE c.contype = 'c' AND c.conrelid IN ('aftersales.tickets'::regclass, 'aftersales.ticket_events'::regclass,
                                          'aftersales.ticket_sla'::regclass, 'aftersales.escalation_watches'::regclass,
                                          'aftersales.occurrences'::regclass);
SELECT ok(aftersales_internal.tickets_row_check('phone', 'x', 'assigned', NULL, 7, 0, 0, 5::smallint, 10::smallint, 2,
                                        '2024-01-01', '2024-01-02', NULL, NULL, NULL),
          'tickets: a consistent assigned row passes');
SELECT throws_ok(format($$SELECT aftersales_internal.tickets_row_check(%L, 'x', 'new', NULL, NULL, 0, 0, NULL, NULL, 1,
                                                                '2024-01-01', '2024-01-01', NULL, NULL, NULL)$$, ch),
                 '23514', NULL, format('tickets: channel %s is refused', ch))
  FROM unnest(ARRAY['fax', '', 'Phone']) AS ch;
SELECT throws_ok(format($$SELECT aftersales_internal.tickets_row_check('web', %s)$$, args), '23514', NULL, 'tickets: ' || what)
  FROM (VALUES ($$'', 'new', NULL, NULL, 0, 0, NULL, NULL, 1, '2024-01-01', '2024-01-01', NULL, NULL, NULL$$, 'an empty description'),
               ($$'x', 'new', NULL, NULL, -1, 0, NULL, NULL, 1, '2024-01-01', '2024-01-01', NULL, NULL, NULL$$, 'negative attempts'),
               ($$'x', 'new', NULL, NULL, 0, -1, NULL, NULL, 1, '2024-01-01', '2024-01-01', NULL, NULL, NULL$$, 'negative reopens'),
               ($$'x', 'closed', NULL, NULL, 0, 0, 0::smallint, NULL, 5, '2024-01-01', '2024-01-02', '2024-01-02', '2024-01-02', NULL$$, 'csat 0'),
               ($$'x', 'closed', NULL, NULL, 0, 0, 6::smallint, NULL, 5, '2024-01-01', '2024-01-02', '2024-01-02', '2024-01-02', NULL$$, 'csat 6'),
               ($$'x', 'closed', NULL, NULL, 0, 0, NULL, 11::smallint, 5, '2024-01-01', '2024-01-02', '2024-01-02', '2024-01-02', NULL$$, 'nps 11'),
               ($$'x', 'closed', NULL, NULL, 0, 0, NULL, -1::smallint, 5, '2024-01-01', '2024-01-02', '2024-01-02', '2024-01-02', NULL$$, 'nps -1'),
               ($$'x', 'new', NULL, NULL, 0, 0, NULL, NULL, 0, '2024-01-01', '2024-01-01', NULL, NULL, NULL$$, 'event_seq 0'),
               ($$'x', 'new', NULL, NULL, 0, 0, NULL, NULL, 1, '2024-01-02', '2024-01-01', NULL, NULL, NULL$$, 'a last event before the opening'),
               ($$'x', 'assigned', NULL, NULL, 0, 0, NULL, NULL, 2, '2024-01-01', '2024-01-01', NULL, NULL, NULL$$, 'assigned without an assignee'),
               ($$'x', 'on_site', NULL, NULL, 0, 0, NULL, NULL, 2, '2024-01-01', '2024-01-01', NULL, NULL, NULL$$, 'on site without an assignee'),
               ($$'x', 'new', NULL, 7, 0, 0, NULL, NULL, 2, '2024-01-01', '2024-01-01', NULL, NULL, NULL$$, 'new with an assignee'),
               ($$'x', 'locked', NULL, 7, 0, 0, NULL, NULL, 2, '2024-01-01', '2024-01-01', NULL, NULL, NULL$$, 'locked with an assignee'),
               ($$'x', 'on_hold', NULL, NULL, 0, 0, NULL, NULL, 2, '2024-01-01', '2024-01-01', NULL, NULL, NULL$$, 'on hold without held_from'),
               ($$'x', 'new', 'new', NULL, 0, 0, NULL, NULL, 2, '2024-01-01', '2024-01-01', NULL, NULL, NULL$$, 'held_from while not on hold'),
               ($$'x', 'on_hold', 'resolved', NULL, 0, 0, NULL, NULL, 2, '2024-01-01', '2024-01-01', NULL, NULL, NULL$$, 'held from resolved'),
               ($$'x', 'resolved', NULL, NULL, 0, 0, NULL, NULL, 2, '2024-01-01', '2024-01-01', NULL, NULL, NULL$$, 'resolved without resolved_at'),
               ($$'x', 'closed', NULL, NULL, 0, 0, NULL, NULL, 2, '2024-01-01', '2024-01-01', '2024-01-01', NULL, NULL$$, 'closed without closed_at'),
               ($$'x', 'cancelled', NULL, NULL, 0, 0, NULL, NULL, 2, '2024-01-01', '2024-01-01', NULL, NULL, NULL$$, 'cancelled without cancelled_at'))
       AS t (args, what);
-- A NULL passes, as the SQL expressions it replaced gave NULL (a CHECK passes
-- on NULL); the columns' own NOT NULL constraints refuse what must be set.
SELECT ok(aftersales_internal.tickets_row_check(NULL::text, NULL::text, NULL::aftersales.ticket_status, NULL::aftersales.ticket_status,
                                        NULL::bigint, NULL::integer, NULL::integer, NULL::smallint, NULL::smallint,
                                        NULL::integer, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz,
                                        NULL::timestamptz, NULL::timestamptz)
          AND aftersales_internal.ticket_events_row_check(NULL, NULL, NULL)
          AND aftersales_internal.ticket_sla_row_check(NULL, NULL, NULL)
          AND aftersales_internal.escalation_watches_row_check(NULL, NULL, NULL),
          'the row checks pass NULL columns');
SELECT ok(aftersales_internal.ticket_events_row_check('open', NULL, 1) AND aftersales_internal.ticket_events_row_check('assign', 'new', 2),
          'ticket_events: open first with no from_state, then the rest, pass');
SELECT throws_ok(format($$SELECT aftersales_internal.ticket_events_row_check(%s)$$, args), '23514', NULL, 'ticket_events: ' || what)
  FROM (VALUES ($$'open', 'new', 1$$, 'open with a from_state'), ($$'assign', NULL, 2$$, 'a later event without one'),
               ($$'open', NULL, 2$$, 'open not first'), ($$'assign', 'new', 1$$, 'another event first'),
               ($$'assign', 'new', 0$$, 'seq 0')) AS t (args, what);
SELECT ok(aftersales_internal.ticket_sla_row_check(NULL, NULL, now()) AND aftersales_internal.ticket_sla_row_check(now(), 'met', NULL),
          'ticket_sla: a paused running clock and a stopped met one pass');
SELECT throws_ok(format($$SELECT aftersales_internal.ticket_sla_row_check(%s)$$, args), '23514', NULL, 'ticket_sla: ' || what)
  FROM (VALUES ($$now(), 'late', NULL$$, 'an unknown outcome'), ($$NULL, 'met', NULL$$, 'an outcome while running'),
               ($$now(), NULL, NULL$$, 'stopped without an outcome'), ($$now(), 'met', now()$$, 'stopped and paused'))
       AS t (args, what);
SELECT ok(aftersales_internal.escalation_watches_row_check('ticket', 100, 3::smallint), 'escalation_watches: a full row passes');
SELECT throws_ok(format($$SELECT aftersales_internal.escalation_watches_row_check(%s)$$, args), '23514', NULL, 'escalation_watches: ' || what)
  FROM (VALUES ($$'sla', 0, 0::smallint$$, 'an unknown clock'), ($$'ticket', 100.5, 0::smallint$$, 'warned over 100'),
               ($$'ticket', -1, 0::smallint$$, 'warned below 0'), ($$'ticket', 0, -1::smallint$$, 'a negative level'))
       AS t (args, what);
-- The WHEN of ticket_escalation_changed (C): which updates of a ticket matter to escalation.
SELECT is(aftersales_internal.ticket_escalation_matters(o_req, n_req, o_st, n_st), expected, what)
  FROM (VALUES (NULL::timestamptz, NULL::timestamptz, 'new'::aftersales.ticket_status, 'assigned'::aftersales.ticket_status, false,
                'escalation matters: an undated ticket assigned, no'),
               (NULL, NULL, 'assigned', 'assigned', false, 'escalation matters: no change, no'),
               (NULL, '2024-01-01', 'new', 'new', true, 'escalation matters: a requested date set'),
               ('2024-01-01', '2024-01-02', 'new', 'new', true, 'escalation matters: a requested date moved'),
               ('2024-01-01', NULL, 'new', 'new', true, 'escalation matters: a requested date cleared'),
               ('2024-01-01', '2024-01-01', 'new', 'new', false, 'escalation matters: the same date, no'),
               ('2024-01-01', '2024-01-01', 'new', 'assigned', true, 'escalation matters: a dated ticket changes state'),
               (NULL, NULL, 'on_site', 'resolved', true, 'escalation matters: into resolved'),
               (NULL, NULL, 'resolved', 'closed', true, 'escalation matters: into closed'),
               (NULL, NULL, 'new', 'cancelled', true, 'escalation matters: into cancelled'),
               (NULL, NULL, 'new', 'locked', true, 'escalation matters: into locked'),
               (NULL, NULL, 'locked', 'assigned', true, 'escalation matters: out of locked'),
               (NULL, NULL, 'resolved', 'new', true, 'escalation matters: out of resolved (reopened)'))
       AS t (o_req, n_req, o_st, n_st, expected, what);
SELECT is((SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d
            WHERE d.adrelid = ('aftersales.' || name)::regclass AND d.adnum = 1),
          'aftersales.current_tenant()', name || ': tenant_id defaults to the current tenant')
  FROM my_tables WHERE name NOT IN ('ticket_events', 'ticket_sla') ORDER BY name;

-- Every foreign key includes tenant_id, first, matched to the referenced tenant_id.
SELECT is(array_agg(c.conname::text ORDER BY c.conname) FILTER (
              WHERE a.attname <> 'tenant_id' OR fa.attname <> 'tenant_id'),
          NULL, 'every foreign key of the domain and ticket tables starts with tenant_id = tenant_id')
  FROM pg_constraint c
  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
  JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
 WHERE c.contype = 'f' AND c.conrelid IN (SELECT ('aftersales.' || name)::regclass FROM my_tables);

SELECT col_is_pk('aftersales', 'tickets', ARRAY['tenant_id', 'ticket_id'], 'tickets: key (tenant_id, ticket_id)');
SELECT col_is_pk('aftersales', 'ticket_events', ARRAY['tenant_id', 'ticket_id', 'seq'], 'ticket_events: key (tenant_id, ticket_id, seq)');
SELECT col_is_pk('aftersales', 'ticket_sla', ARRAY['tenant_id', 'ticket_id', 'metric'], 'ticket_sla: key (tenant_id, ticket_id, metric)');
SELECT fk_ok('aftersales', 'ticket_events', ARRAY['tenant_id', 'ticket_id'], 'aftersales', 'tickets', ARRAY['tenant_id', 'ticket_id']);
SELECT fk_ok('aftersales', 'ticket_sla', ARRAY['tenant_id', 'ticket_id'], 'aftersales', 'tickets', ARRAY['tenant_id', 'ticket_id']);
SELECT fk_ok('aftersales', 'tickets', ARRAY['tenant_id', 'customer_id'], 'aftersales', 'customers', ARRAY['tenant_id', 'customer_id']);
SELECT fk_ok('aftersales', 'tickets', ARRAY['tenant_id', 'unit_id', 'model_id'], 'aftersales', 'units', ARRAY['tenant_id', 'unit_id', 'model_id']);
SELECT fk_ok('aftersales', 'tickets', ARRAY['tenant_id', 'assignee_id'], 'aftersales', 'engineers', ARRAY['tenant_id', 'engineer_id']);
SELECT fk_ok('aftersales', 'sla_policies', ARRAY['tenant_id', 'calendar'], 'aftersales', 'calendars', ARRAY['tenant_id', 'name']);
SELECT fk_ok('aftersales', 'organisations', ARRAY['tenant_id', 'parent_id'], 'aftersales', 'organisations', ARRAY['tenant_id', 'org_id']);

-- Ids are identities.
SELECT is((SELECT count(*)::int FROM pg_attribute a
            WHERE a.attrelid = ('aftersales.' || name)::regclass AND a.attidentity = 'a'), 1,
          name || ': one GENERATED ALWAYS identity')
  FROM my_tables WHERE name NOT IN ('sla_targets', 'ticket_events', 'ticket_sla') ORDER BY name;

-- The columns the issue names.
SELECT columns_are('aftersales', 'ticket_events',
    ARRAY['tenant_id', 'ticket_id', 'seq', 'at', 'actor', 'event', 'from_state', 'to_state', 'reason', 'payload', 'recorded_at']);
SELECT has_column('aftersales', 'tickets', c, 'tickets.' || c)
  FROM unnest(ARRAY['channel', 'customer_id', 'unit_id', 'problem_type_id', 'description', 'priority', 'requested_at',
                    'org_id', 'tier', 'assignee_id', 'status', 'attempt_count', 'reopen_count', 'opened_at',
                    'first_response_at', 'assigned_at', 'arrived_at', 'first_resolved_at', 'resolved_at', 'closed_at',
                    'cancelled_at', 'field', 'csat', 'nps']) AS c;
SELECT col_type_is('aftersales', 'tickets', 'status', 'aftersales.ticket_status', 'tickets.status is aftersales.ticket_status');
SELECT col_default_is('aftersales', 'tickets', 'status', 'new', 'a ticket is new (awaiting assignment) by default');
SELECT enum_has_labels('aftersales', 'ticket_status',
    ARRAY['new', 'on_hold', 'assigned', 'in_progress', 'on_site', 'locked', 'resolved', 'closed', 'cancelled']);
SELECT has_column('aftersales', 'ticket_sla', c, 'ticket_sla.' || c)
  FROM unnest(ARRAY['started_at', 'due_at', 'paused', 'stopped_at', 'outcome', 'elapsed', 'elapsed_wall']) AS c;
SELECT hasnt_column('aftersales', 'ticket_sla', 'next_due', 'ticket_sla has no next_due: the sweeps read escalation_watches.next_check');
SELECT is((SELECT pg_get_expr(i.indpred, i.indrelid) FROM pg_index i
            WHERE i.indexrelid = 'aftersales.escalation_watches_due_idx'::regclass),
          '(next_check IS NOT NULL)', 'the watches the sweeps scan have a partial index on next_check');
SELECT has_column('aftersales', 'organisations', 'org_type', 'organisations.org_type');
SELECT has_column('aftersales', 'engineers', c, 'engineers.' || c) FROM unnest(ARRAY['skills', 'region', 'capacity', 'on_duty']) AS c;
SELECT col_type_is('aftersales', 'engineers', 'skills', 'text[]', 'engineers.skills is text[]');
SELECT col_type_is('aftersales', 'service_agreements', 'valid', 'daterange', 'service_agreements.valid is a daterange');
SELECT has_view('aftersales', 'occurrence_counts', 'the occurrence counts are a view');
SELECT columns_are('aftersales', 'occurrence_counts', ARRAY['tenant_id', 'kind', 'id', 'code', 'name', 'occurrences']);
SELECT throws_ok($$INSERT INTO aftersales.customers (name, region) VALUES ('x', '华中')$$, '23514', NULL,
                 'regions are the six of the reports');

-- Comments on every table and column.
SELECT ok(obj_description(('aftersales.' || name)::regclass, 'pg_class') IS NOT NULL, name || ' has a comment')
  FROM my_tables ORDER BY name;
SELECT is(array_agg(t.name || '.' || a.attname ORDER BY t.name, a.attnum), NULL, 'every column has a comment')
  FROM my_tables t JOIN pg_attribute a ON a.attrelid = ('aftersales.' || t.name)::regclass
 WHERE a.attnum > 0 AND NOT a.attisdropped AND col_description(a.attrelid, a.attnum) IS NULL;

-- pg_dump keeps the user data and the identity sequences.
SELECT ok(('aftersales.' || name)::regclass = ANY (e.extconfig), name || ' is marked for pg_dump')
  FROM my_tables, pg_extension e WHERE e.extname = 'aftersales' ORDER BY name;
SELECT is(array_agg(s.seq ORDER BY s.seq) FILTER (WHERE NOT s.seq::regclass = ANY (e.extconfig)), NULL,
          'every identity sequence is marked for pg_dump')
  FROM (SELECT pg_get_serial_sequence('aftersales.' || t.name, a.attname) AS seq
          FROM my_tables t JOIN pg_attribute a ON a.attrelid = ('aftersales.' || t.name)::regclass AND a.attidentity <> '') s,
       pg_extension e WHERE e.extname = 'aftersales';
SELECT is(e.extcondition[array_position(e.extconfig, 'aftersales.sla_policies'::regclass)],
          'WHERE NOT (tenant_id = 1 AND name = ''default'')', 'the shipped default policy is not dumped')
  FROM pg_extension e WHERE e.extname = 'aftersales';

-- The shipped seed-001 defaults.
SELECT results_eq(
    $$SELECT t.priority::text, t.metric::text, t.target FROM aftersales.sla_targets t
        JOIN aftersales.sla_policies p USING (tenant_id, policy_id)
       WHERE p.tenant_id = 1 AND p.name = 'default' AND p.is_default ORDER BY 1, 2$$,
    $$VALUES ('A', 'arrival', '4 h'::interval), ('A', 'first_response', '5 min'), ('A', 'resolution', '30 min'),
             ('B', 'arrival', '4 h'), ('B', 'first_response', '30 min'), ('B', 'resolution', '2 h'),
             ('C', 'arrival', '4 h'), ('C', 'first_response', '4 h'), ('C', 'resolution', '24 h')$$,
    'tenant 1 ships seed 001''s targets');

-- ---------------------------------------------------------------------------
-- Privileges.  PUBLIC cannot write (nor read) the domain and ticket tables.
SELECT is(array_agg(c.relname::text || ':' || x.privilege_type ORDER BY 1), NULL,
          'PUBLIC has no privilege on the domain and ticket tables')
  FROM pg_class c
  CROSS JOIN LATERAL aclexplode(c.relacl) x
 WHERE c.oid IN (SELECT ('aftersales.' || name)::regclass FROM my_tables UNION ALL SELECT 'aftersales.occurrence_counts'::regclass)
   AND x.grantee = 0;

CREATE ROLE tk_nobody NOLOGIN;
SELECT ok(NOT has_table_privilege('tk_nobody', 'aftersales.' || name, p), 'a role without grants cannot ' || p || ' ' || name)
  FROM my_tables, unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) AS p
 WHERE name IN ('tickets', 'ticket_events', 'ticket_sla', 'customers') ORDER BY name, p;
-- Functions that read every tenant's data are revoked from PUBLIC.
SELECT ok(NOT has_function_privilege('tk_nobody', f, 'EXECUTE'), f || ' is revoked from PUBLIC')
  FROM unnest(ARRAY['aftersales.check_tickets(bigint)', 'aftersales.check_occurrences()',
                    'aftersales.replay_ticket(bigint,bigint)', 'aftersales.ticket_state(bigint,bigint)',
                    'aftersales.compact_occurrences()',
                    'aftersales_internal.tickets_entered()', 'aftersales_internal.ticket_changed()']) AS f;
-- The triggers that write the log and the clocks run as the owner.
SELECT is_definer('aftersales_internal', f, ARRAY[]::name[], f || ' is SECURITY DEFINER')
  FROM unnest(ARRAY['tickets_entered', 'ticket_changed']) AS f;
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY 1), NULL,
          'the guard and the API run as the caller (the actor defaults to the caller''s role)')
  FROM pg_proc p
 WHERE p.pronamespace IN ('aftersales'::regnamespace, 'aftersales_internal'::regnamespace) AND p.prosecdef
   AND p.proname IN ('ticket_guard', 'ticket_event', 'declare_event', 'open_ticket', 'open_tickets', 'assign_ticket',
                     'reassign_ticket', 'take_over_ticket', 'release_ticket', 'start_work', 'arrive_on_site',
                     'resolve_ticket', 'fail_attempt', 'hold_ticket', 'resume_ticket', 'transfer_ticket', 'follow_up',
                     'cancel_ticket', 'reopen_ticket', 'lock_ticket', 'unlock_ticket', 'set_priority', 'now', 'actor');
-- Every SQL and PL/pgSQL function of the domain and tickets pins its search_path.
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY 1), NULL, 'every SQL and PL/pgSQL ticket function pins search_path')
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace IN ('aftersales'::regnamespace, 'aftersales_internal'::regnamespace) AND l.lanname IN ('sql', 'plpgsql')
   AND p.proname IN ('organisation_check', 'compact_occurrences', 'no_sla_policy', 'tickets_entered', 'ticket_changed',
                     'append_only', 'require_engineer', 'ticket_event',
                     'open_ticket', 'bad_item', 'open_tickets', 'assign_ticket', 'reassign_ticket', 'take_over_ticket',
                     'release_ticket', 'start_work', 'arrive_on_site', 'resolve_ticket', 'fail_attempt', 'hold_ticket',
                     'resume_ticket', 'transfer_ticket', 'follow_up', 'cancel_ticket', 'reopen_ticket', 'lock_ticket',
                     'unlock_ticket', 'set_priority', 'ticket_state', 'replay_error', 'replay_ticket', 'check_tickets',
                     'check_occurrences')
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false);
SELECT is((SELECT count(*)::int FROM pg_proc WHERE pronamespace IN ('aftersales'::regnamespace, 'aftersales_internal'::regnamespace)
            AND proname IN ('open_ticket', 'open_tickets', 'replay_ticket', 'check_tickets', 'ticket_changed')), 5,
          'the search_path check sees the ticket functions');

-- An application role with what the API needs (read the domain, insert and
-- update tickets) works through the API, yet cannot forge the log or clocks.
SELECT aftersales.set_calendar('24x7', 'zone=UTC; mon-sun 00:00-24:00');
INSERT INTO aftersales.tenants (tenant_id, name) VALUES (9101, 'tk_schema');
SET LOCAL aftersales.tenant_id = '9101';
INSERT INTO aftersales.calendars (name, calendar) VALUES ('24x7', 'zone=UTC; mon-sun 00:00-24:00');
INSERT INTO aftersales.sla_policies (name, is_default) VALUES ('default', true);
INSERT INTO aftersales.sla_targets (policy_id, priority, metric, target)
SELECT policy_id, 'B', 'resolution', '2 h' FROM aftersales.sla_policies WHERE tenant_id = 9101;
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ 9101');
INSERT INTO aftersales.customers (name) VALUES ('c9101');
INSERT INTO aftersales.problem_types (code, name) VALUES ('P', 'p');
INSERT INTO aftersales.engineers (org_id, name) SELECT org_id, 'e' FROM aftersales.organisations WHERE tenant_id = 9101;
CREATE ROLE tk_app NOLOGIN;
GRANT USAGE ON SCHEMA aftersales TO tk_app;
GRANT SELECT ON ALL TABLES IN SCHEMA aftersales TO tk_app;
GRANT INSERT, UPDATE ON aftersales.tickets TO tk_app;
CREATE TEMP TABLE ids (ticket bigint, engineer bigint);
GRANT ALL ON ids TO tk_app;
INSERT INTO ids SELECT NULL, engineer_id FROM aftersales.engineers WHERE tenant_id = 9101;
SET LOCAL ROLE tk_app;
SELECT lives_ok($$UPDATE ids SET ticket = aftersales.open_ticket(customer => (SELECT customer_id FROM aftersales.customers WHERE tenant_id = 9101),
                                                        problem_type => (SELECT problem_type_id FROM aftersales.problem_types WHERE tenant_id = 9101),
                                                        priority => 'B', description => 'by the app role')$$,
                'the application role opens a ticket');
SELECT is((SELECT aftersales.assign_ticket(ticket, engineer)::text FROM ids), 'assigned', 'and assigns it');
SELECT is((SELECT count(*)::int FROM aftersales.ticket_events e JOIN ids ON e.ticket_id = ids.ticket AND e.tenant_id = 9101), 2,
          'its events are written');
SELECT is((SELECT last_actor FROM aftersales.tickets t JOIN ids ON t.ticket_id = ids.ticket AND t.tenant_id = 9101), 'tk_app',
          'the actor defaults to the role');
SELECT throws_ok($$INSERT INTO aftersales.ticket_events (tenant_id, ticket_id, seq, at, actor, event, from_state, to_state)
                   SELECT 9101, ticket, 3, now(), 'forger', 'resolve', 'assigned', 'resolved' FROM ids$$,
                 '42501', NULL, 'the application role cannot write the event log');
SELECT throws_ok($$UPDATE aftersales.ticket_sla SET outcome = 'met'$$, '42501', NULL, 'nor the SLA clocks');
SELECT throws_ok($$INSERT INTO aftersales.occurrences (tenant_id, problem_type_id, n) SELECT tenant_id, problem_type_id, 5 FROM aftersales.problem_types WHERE tenant_id = 9101$$,
                 '42501', NULL, 'nor the occurrence counts');
SELECT throws_ok($$SELECT * FROM aftersales.check_tickets()$$, '42501', NULL, 'nor run check_tickets()');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
