-- complaints.sql: the complaint module's contract and figures.
--   * tables keyed by tenant, marked for pg_dump, under row security, held
--     by the state engine's triggers;
--   * views security_invoker, commented, plain-typed;
--   * the sample data's complaints: about 3% of the tickets, each the
--     replay of its log, more on failed handlings;
--   * every complaint KPI recomputed independently from the raw rows (the
--     event log for states and times, organisations for regions).
--
-- Run: pg_prove -d <db with pgtap and aftersales> test/pgtap/complaints.sql
-- Everything is rolled back.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(42);
SET LOCAL client_min_messages = warning;
SET LOCAL TimeZone = 'UTC';

-- ---------------------------------------------------------------------------
-- Schema

SELECT col_is_pk('aftersales', 'complaints', ARRAY['tenant_id', 'complaint_id'], 'complaints: key (tenant_id, complaint_id)');
SELECT col_is_pk('aftersales', 'complaint_events', ARRAY['tenant_id', 'complaint_id', 'seq'], 'complaint_events: key (tenant_id, complaint_id, seq)');
SELECT col_is_pk('aftersales', 'complaint_reasons', ARRAY['tenant_id', 'code'], 'complaint_reasons: key (tenant_id, code)');
SELECT col_is_pk('aftersales', 'complaint_targets', ARRAY['tenant_id', 'severity'], 'complaint_targets: key (tenant_id, severity)');
SELECT ok(c.relrowsecurity AND c.relforcerowsecurity, c.relname || ': row security enabled and forced')
  FROM pg_class c
 WHERE c.oid IN ('aftersales.complaints'::regclass, 'aftersales.complaint_events'::regclass,
                 'aftersales.complaint_reasons'::regclass, 'aftersales.complaint_targets'::regclass)
 ORDER BY c.relname;
SELECT ok(EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = 'aftersales.complaints'::regclass AND p.polname = 'org_scope'),
          'complaints: scoped by organisation');
SELECT ok(t.oid = ANY (e.extconfig), t.relname || ' is dumped by pg_dump')
  FROM pg_class t, pg_extension e
 WHERE e.extname = 'aftersales'
   AND t.oid IN ('aftersales.complaints'::regclass, 'aftersales.complaint_events'::regclass,
                 'aftersales.complaint_reasons'::regclass, 'aftersales.complaint_targets'::regclass)
 ORDER BY t.relname;
SELECT has_trigger('aftersales', 'complaints', tg, 'complaints: trigger ' || tg)
  FROM unnest(ARRAY['complaint_alert', 'state_guard', 'state_log', 'zz_complaint_stamps']) tg ORDER BY tg;
SELECT has_trigger('aftersales', 'complaint_events', 'complaint_events_append_only', 'complaint_events: append-only');
SELECT is((SELECT count(*)::int FROM aftersales.state_transitions WHERE machine = 'complaint'), 27,
          'the complaint machine has 27 transitions');
SELECT is((SELECT array_agg(DISTINCT to_state ORDER BY to_state) FROM aftersales.state_transitions WHERE machine = 'complaint'),
          ARRAY['assigned', 'closed', 'confirmed', 'escalated', 'in_progress', 'received', 'resolved', 'withdrawn'],
          'its states');

-- ---------------------------------------------------------------------------
-- Views

CREATE TEMP TABLE cviews AS
SELECT c.oid::regclass AS v FROM pg_class c
 WHERE c.relnamespace = 'aftersales'::regnamespace AND c.relkind = 'v'
   AND (c.relname ~ '^kpi_(complaint|repeat_complainants)' OR c.relname IN ('complaint_facts', 'complaint_queue'));
SELECT is((SELECT count(*)::int FROM cviews), 10, 'ten complaint views');
SELECT ok(bool_and(c.reloptions @> '{security_invoker=true}'), 'every complaint view is security_invoker')
  FROM cviews JOIN pg_class c ON c.oid = v;
SELECT is(array_agg(v::text || '.' || a.attname ORDER BY v::text, a.attnum)
              FILTER (WHERE col_description(v, a.attnum) IS NULL OR obj_description(v, 'pg_class') IS NULL),
          NULL, 'every complaint view and column has a comment')
  FROM cviews JOIN pg_attribute a ON a.attrelid = v AND a.attnum > 0 AND NOT a.attisdropped;
SELECT is(array_agg(v::text || '.' || a.attname ORDER BY v::text, a.attnum)
              FILTER (WHERE a.atttypid NOT IN ('text'::regtype, 'bigint'::regtype, 'integer'::regtype, 'numeric'::regtype,
                                               'boolean'::regtype, 'date'::regtype, 'timestamptz'::regtype)
                         OR (a.atttypid = 'numeric'::regtype AND a.atttypmod = -1)),
          NULL, 'complaint views: plain types, numerics with a scale')
  FROM cviews JOIN pg_attribute a ON a.attrelid = v AND a.attnum > 0 AND NOT a.attisdropped;

-- ---------------------------------------------------------------------------
-- Sample data

SELECT tenant_id AS tid FROM aftersales.generate_sample_data('complaints', seed => 3, tickets => 1500) \gset
SET LOCAL aftersales.tenant_id = :'tid';
SET LOCAL aftersales.now = '2027-01-01 00:00+08';

SELECT ok((SELECT count(*) FROM aftersales.complaints)::numeric / 1500 BETWEEN 0.02 AND 0.06,
          'complaints on about 3% of the tickets');
SELECT ok((SELECT avg((t.attempt_count > 0)::int) FROM aftersales.complaints c
             JOIN aftersales.tickets t USING (tenant_id, ticket_id))
          > 2 * (SELECT avg((t.attempt_count > 0)::int) FROM aftersales.tickets t),
          'failed handlings are over-represented among the complaints');
SELECT ok(EXISTS (SELECT FROM aftersales.complaints WHERE complainant_kind = 'outside'), 'some come from outside parties');
SELECT ok((SELECT count(DISTINCT state) FROM aftersales.complaints) >= 3, 'several states at the year''s end');
SELECT ok((SELECT count(DISTINCT source) FROM aftersales.complaints) >= 5, 'several sources');
SELECT is_empty($$SELECT * FROM aftersales.check_complaints(current_setting('aftersales.tenant_id')::bigint)$$,
                'every sample complaint is the replay of its log');
SELECT is((SELECT count(*)::int FROM aftersales.alerts a WHERE a.kind = 'complaint'),
          (SELECT count(*)::int FROM aftersales.complaints c JOIN aftersales.tickets t USING (tenant_id, ticket_id)
             JOIN aftersales.customers cu ON cu.tenant_id = t.tenant_id AND cu.customer_id = t.customer_id
            WHERE cu.tier = 'key'),
          'one alert per complaint about a key customer''s ticket');

-- ---------------------------------------------------------------------------
-- The KPIs recomputed from the raw rows: the state, the times and the
-- effective flag from the event log, the month in Asia/Shanghai, the
-- region from the organisation (else the customer).

CREATE TEMP TABLE raw AS
SELECT c.complaint_id, c.source::text AS source, c.reason_code, split_part(c.reason_code, '.', 1) AS reason_top,
       COALESCE(o.region, cu.region)::text AS region,
       date_trunc('month', r.at AT TIME ZONE 'Asia/Shanghai')::date AS month,
       r.at AS received_at,
       (SELECT e.to_state FROM aftersales.complaint_events e WHERE e.tenant_id = c.tenant_id AND e.complaint_id = c.complaint_id
         ORDER BY e.seq DESC LIMIT 1) AS state,
       (SELECT min(e.at) FROM aftersales.complaint_events e WHERE e.tenant_id = c.tenant_id AND e.complaint_id = c.complaint_id
           AND e.event IN ('assign', 'take')) AS ack_at,
       (SELECT max(e.at) FROM aftersales.complaint_events e WHERE e.tenant_id = c.tenant_id AND e.complaint_id = c.complaint_id
           AND e.event = 'resolve') AS res_at,
       EXISTS (SELECT FROM aftersales.complaint_events e WHERE e.tenant_id = c.tenant_id AND e.complaint_id = c.complaint_id
                  AND e.event = 'confirm') AS eff
  FROM aftersales.complaints c
  JOIN aftersales.complaint_events r ON r.tenant_id = c.tenant_id AND r.complaint_id = c.complaint_id AND r.seq = 1
  JOIN aftersales.organisations o ON o.tenant_id = c.tenant_id AND o.org_id = c.org_id
  LEFT JOIN aftersales.customers cu ON cu.tenant_id = c.tenant_id AND cu.customer_id = c.customer_id
 WHERE c.tenant_id = current_setting('aftersales.tenant_id')::bigint;
ALTER TABLE raw ADD COLUMN grp text, ADD COLUMN rep boolean;
UPDATE raw r SET rep = EXISTS (SELECT FROM aftersales.complaints a JOIN aftersales.complaints b
                                   ON b.tenant_id = a.tenant_id AND b.customer_id = a.customer_id
                                  AND b.received_at < a.received_at
                                WHERE a.complaint_id = r.complaint_id);
UPDATE raw SET grp = CASE WHEN state IN ('resolved', 'confirmed', 'closed') THEN 'resolved'
                          WHEN state IN ('assigned', 'in_progress', 'escalated') THEN 'in_progress'
                          WHEN state = 'received' THEN 'unresolved' ELSE 'withdrawn' END;

SELECT results_eq(
  $$SELECT month, complaints, complaints_resolved, complaints_in_progress, complaints_unresolved, complaints_withdrawn,
           complaints_effective, complaint_effective_rate, repeat_complaints,
           avg_acknowledge_minutes, avg_resolve_minutes, tickets, complaints_per_100_tickets
      FROM aftersales.kpi_complaints_monthly ORDER BY month$$,
  $$SELECT r.month, count(*), count(*) FILTER (WHERE grp = 'resolved'), count(*) FILTER (WHERE grp = 'in_progress'),
           count(*) FILTER (WHERE grp = 'unresolved'), count(*) FILTER (WHERE grp = 'withdrawn'),
           count(*) FILTER (WHERE eff),
           round(count(*) FILTER (WHERE eff)::numeric / NULLIF(count(*) FILTER (WHERE res_at IS NOT NULL AND grp <> 'withdrawn'), 0), 4),
           count(*) FILTER (WHERE rep),
           round(avg(extract(epoch FROM ack_at - received_at) / 60), 2),
           round(avg(extract(epoch FROM res_at - received_at) / 60), 2),
           (SELECT count(*) FROM aftersales.tickets t WHERE t.tenant_id = current_setting('aftersales.tenant_id')::bigint
               AND date_trunc('month', t.opened_at AT TIME ZONE 'Asia/Shanghai')::date = r.month),
           round(100.0 * count(*) / (SELECT count(*) FROM aftersales.tickets t WHERE t.tenant_id = current_setting('aftersales.tenant_id')::bigint
               AND date_trunc('month', t.opened_at AT TIME ZONE 'Asia/Shanghai')::date = r.month), 2)
      FROM raw r GROUP BY r.month ORDER BY r.month$$,
  'kpi_complaints_monthly: counts by status group, effective rate, mean times and complaint rate recomputed');
SELECT ok((SELECT sum(complaints) FROM aftersales.kpi_complaints_monthly) = (SELECT count(*) FROM raw)
          AND (SELECT count(DISTINCT month) FROM raw) >= 10, 'ten months or more, every complaint counted once');
SELECT results_eq(
  $$SELECT month, source, complaints, share, effective FROM aftersales.kpi_complaints_by_source ORDER BY month, source$$,
  $$SELECT month, source, count(*), round(count(*)::numeric / sum(count(*)) OVER (PARTITION BY month), 4),
           count(*) FILTER (WHERE eff)
      FROM raw GROUP BY month, source ORDER BY month, source$$,
  'kpi_complaints_by_source recomputed');
SELECT results_eq(
  $$SELECT month, region, complaints, effective, effective_rate FROM aftersales.kpi_complaints_by_region ORDER BY month, region$$,
  $$SELECT month, region, count(*), count(*) FILTER (WHERE eff),
           round(count(*) FILTER (WHERE eff)::numeric / NULLIF(count(*) FILTER (WHERE res_at IS NOT NULL AND grp <> 'withdrawn'), 0), 4)
      FROM raw GROUP BY month, region ORDER BY month, region$$,
  'kpi_complaints_by_region recomputed');
SELECT results_eq(
  $$SELECT reason_top, sum(complaints)::bigint FROM aftersales.kpi_complaints_by_reason GROUP BY reason_top ORDER BY reason_top$$,
  $$SELECT reason_top, count(*) FROM raw GROUP BY reason_top ORDER BY reason_top$$,
  'kpi_complaints_by_reason: top-level reasons recomputed');
SELECT results_eq(
  $$SELECT month, state, complaints FROM aftersales.kpi_complaints_by_state ORDER BY month, state$$,
  $$SELECT month, state, count(*) FROM raw GROUP BY month, state ORDER BY month, state$$,
  'kpi_complaints_by_state recomputed from the log');
SELECT results_eq(
  $$SELECT model_id, complaints, installed_units FROM aftersales.kpi_complaint_rate_by_model WHERE complaints > 0 ORDER BY model_id$$,
  $$SELECT c.model_id, count(*), (SELECT count(*) FROM aftersales.units u WHERE u.tenant_id = current_setting('aftersales.tenant_id')::bigint AND u.model_id = c.model_id)
      FROM aftersales.complaints c JOIN raw USING (complaint_id) WHERE c.model_id IS NOT NULL AND raw.state <> 'withdrawn'
     GROUP BY c.model_id ORDER BY c.model_id$$,
  'kpi_complaint_rate_by_model recomputed');
SELECT results_eq(
  $$SELECT customer_id, complaints FROM aftersales.kpi_repeat_complainants WHERE customer_id IS NOT NULL ORDER BY customer_id$$,
  $$SELECT customer_id, count(*) FROM aftersales.complaints WHERE tenant_id = current_setting('aftersales.tenant_id')::bigint AND customer_id IS NOT NULL
     GROUP BY customer_id HAVING count(*) > 1 ORDER BY customer_id$$,
  'kpi_repeat_complainants recomputed');
SELECT is((SELECT count(*)::int FROM aftersales.complaint_queue),
          (SELECT count(*)::int FROM raw WHERE grp IN ('in_progress', 'unresolved')), 'complaint_queue: the open complaints');

-- ---------------------------------------------------------------------------
-- Access: an analyst reads the KPI views, not the complainant's words.

CREATE ROLE tap_complaints_analyst;
GRANT aftersales_analyst TO tap_complaints_analyst;
INSERT INTO aftersales.members (tenant_id, name, kind, org_id)
SELECT :tid, 'tap_complaints_analyst', 'analyst', o.org_id FROM aftersales.organisations o
 WHERE o.tenant_id = current_setting('aftersales.tenant_id')::bigint AND o.level = 'hq';
SET LOCAL ROLE tap_complaints_analyst;
SELECT lives_ok($$SELECT count(*) FROM aftersales.kpi_complaints_monthly$$, 'an analyst reads the complaint KPIs');
SELECT throws_ok($$SELECT description FROM aftersales.complaints$$, '42501', NULL, 'an analyst does not read complaint descriptions');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
