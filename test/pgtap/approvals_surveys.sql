-- approvals_surveys.sql: the approval and survey modules' contract and
-- figures.
--   * tables keyed by tenant, marked for pg_dump, under row security;
--   * views security_invoker, commented, plain-typed;
--   * the sample data's approvals and surveys; every approval KPI
--     recomputed independently from the raw rows (the event log for the
--     decisions), the survey response rates and CSAT/NPS from the answers.
--
-- Run: pg_prove -d <db with pgtap and aftersales> test/pgtap/approvals_surveys.sql
-- Everything is rolled back.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(35);
SET LOCAL client_min_messages = warning;
SET LOCAL TimeZone = 'UTC';

-- ---------------------------------------------------------------------------
-- Schema

CREATE TEMP TABLE mtables AS
SELECT c.oid::regclass AS t FROM pg_class c
 WHERE c.relnamespace = 'aftersales'::regnamespace AND c.relkind = 'r'
   AND c.relname IN ('departments', 'department_members', 'approval_targets', 'approval_settings', 'approvals',
                     'approval_events', 'approval_watches', 'approval_alerts', 'survey_templates', 'survey_questions',
                     'survey_campaigns', 'surveys', 'survey_events', 'survey_answers');
SELECT is((SELECT count(*)::int FROM mtables), 14, 'fourteen tables');
SELECT is(array_agg(t::text ORDER BY t::text) FILTER (WHERE NOT (c.relrowsecurity AND c.relforcerowsecurity)), NULL,
          'row security enabled and forced on each')
  FROM mtables JOIN pg_class c ON c.oid = t;
SELECT is(array_agg(t::text ORDER BY t::text) FILTER (WHERE NOT t::oid = ANY (e.extconfig)), NULL, 'each is dumped by pg_dump')
  FROM mtables, pg_extension e WHERE e.extname = 'aftersales';
SELECT is(array_agg(t::text ORDER BY t::text) FILTER (WHERE a.attnum IS DISTINCT FROM 1), NULL, 'tenant_id leads each')
  FROM mtables LEFT JOIN pg_attribute a ON a.attrelid = t AND a.attname = 'tenant_id';
SELECT is(array_agg(t::text ORDER BY t::text) FILTER (WHERE NOT EXISTS (
              SELECT FROM pg_index i WHERE i.indrelid = t AND i.indisprimary AND i.indkey[0] = 1)), NULL,
          'tenant_id leads each primary key')
  FROM mtables;
SELECT ok(EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = 'aftersales.approvals'::regclass AND p.polname = 'org_scope'),
          'approvals: scoped by organisation');
SELECT ok(EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = 'aftersales.surveys'::regclass AND p.polname = 'org_scope'),
          'surveys: scoped by organisation');
SELECT has_trigger('aftersales', t, 'state_guard', t || ': state_guard') FROM unnest(ARRAY['approvals', 'surveys']) t;
SELECT has_trigger('aftersales', t, 'state_log', t || ': state_log') FROM unnest(ARRAY['approvals', 'surveys']) t;
SELECT is((SELECT array_agg(machine || ':' || from_state || ':' || event || ':' || to_state ORDER BY 1)
             FROM aftersales.state_transitions WHERE machine IN ('approval', 'survey')),
          ARRAY['approval::submit:submitted', 'approval:submitted:approve:approved', 'approval:submitted:reject:rejected',
                'approval:submitted:withdraw:withdrawn', 'survey::send:sent', 'survey:sent:answer:answered',
                'survey:sent:answer_partly:partial', 'survey:sent:expire:expired'],
          'the approval and survey machines');

-- ---------------------------------------------------------------------------
-- Views

CREATE TEMP TABLE mviews AS
SELECT c.oid::regclass AS v FROM pg_class c
 WHERE c.relnamespace = 'aftersales'::regnamespace AND c.relkind = 'v'
   AND c.relname IN ('approval_facts', 'kpi_approvals_monthly', 'kpi_approvals_pending_by_org', 'kpi_survey_response_rates',
                     'kpi_satisfaction_monthly', 'kpi_survey_questions', 'kpi_survey_answer_distribution',
                     'kpi_problem_product_shares', 'kpi_abnormal_terms', 'kpi_satisfaction_sources_monthly');
SELECT is((SELECT count(*)::int FROM mviews), 10, 'ten views');
SELECT ok(bool_and(c.reloptions @> '{security_invoker=true}'), 'each is security_invoker') FROM mviews JOIN pg_class c ON c.oid = v;
SELECT is(array_agg(v::text || '.' || a.attname ORDER BY v::text, a.attnum)
              FILTER (WHERE col_description(v, a.attnum) IS NULL OR obj_description(v, 'pg_class') IS NULL),
          NULL, 'each view and column has a comment')
  FROM mviews JOIN pg_attribute a ON a.attrelid = v AND a.attnum > 0 AND NOT a.attisdropped;
SELECT is(array_agg(v::text || '.' || a.attname ORDER BY v::text, a.attnum)
              FILTER (WHERE a.atttypid NOT IN ('text'::regtype, 'bigint'::regtype, 'integer'::regtype, 'numeric'::regtype,
                                               'boolean'::regtype, 'date'::regtype, 'timestamptz'::regtype)
                         OR (a.atttypid = 'numeric'::regtype AND a.atttypmod = -1)),
          NULL, 'plain types, numerics with a scale')
  FROM mviews JOIN pg_attribute a ON a.attrelid = v AND a.attnum > 0 AND NOT a.attisdropped;

-- ---------------------------------------------------------------------------
-- Sample data

SELECT tenant_id AS tid FROM aftersales.generate_sample_data('process', seed => 5, tickets => 1500) \gset
SET LOCAL aftersales.tenant_id = :'tid';
SET LOCAL aftersales.now = '2027-01-01 00:00+08';

SELECT ok((SELECT count(*) FROM aftersales.approvals) BETWEEN 100 AND 350, 'about 14% of the tickets brought an approval');
SELECT is((SELECT array_agg(DISTINCT kind::text ORDER BY kind::text) FROM aftersales.approvals),
          ARRAY['internal_request', 'part_order', 'warranty_claim'], 'part orders, claims and internal requests');
SELECT ok((SELECT avg(delayed::int) FROM aftersales.approval_facts WHERE department = 'quality_assurance')
          > (SELECT avg(delayed::int) FROM aftersales.approval_facts WHERE department = 'customer_service'),
          'quality assurance is late more often than customer service');
SELECT ok(EXISTS (SELECT FROM aftersales.approvals WHERE state = 'submitted'), 'some are pending at the year''s end');
SELECT ok((SELECT count(*) FROM aftersales.surveys WHERE campaign_id IS NULL) > 0
          AND (SELECT count(*) FROM aftersales.surveys WHERE campaign_id IS NOT NULL) > 0, 'post-service and campaign surveys');
SELECT ok((SELECT count(*) FILTER (WHERE state IN ('answered', 'partial'))::numeric / count(*) FROM aftersales.surveys)
          BETWEEN 0.15 AND 0.45, 'a realistic response rate');
SELECT is((SELECT count(*)::int FROM aftersales.surveys WHERE state = 'sent' AND expires_at <= '2027-01-01 00:00+08'), 0,
          'expired surveys are expired');

-- The approval KPIs from the raw rows: the decision from the event log,
-- delayed against due_at, the month in Asia/Shanghai.
CREATE TEMP TABLE raw AS
SELECT a.approval_id, d.code AS department, a.kind::text AS kind, a.org_id, a.due_at,
       date_trunc('month', a.submitted_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
       a.submitted_at,
       (SELECT e.to_state FROM aftersales.approval_events e WHERE e.tenant_id = a.tenant_id AND e.approval_id = a.approval_id
         ORDER BY e.seq DESC LIMIT 1) AS state,
       (SELECT e.at FROM aftersales.approval_events e WHERE e.tenant_id = a.tenant_id AND e.approval_id = a.approval_id
           AND e.event IN ('approve', 'reject')) AS decided_at
  FROM aftersales.approvals a JOIN aftersales.departments d ON d.tenant_id = a.tenant_id AND d.department_id = a.department_id
 WHERE a.tenant_id = current_setting('aftersales.tenant_id')::bigint;
ALTER TABLE raw ADD COLUMN late boolean;
UPDATE raw SET late = CASE WHEN decided_at IS NOT NULL THEN decided_at > due_at
                           WHEN state = 'submitted' THEN '2027-01-01 00:00+08' > due_at END;
SELECT results_eq(
  $$SELECT month, department, kind, submitted, decided, approved, rejected, pending, withdrawn, approvals_on_time,
           approvals_delayed, approval_delay_rate, approval_completion_rate, avg_decision_minutes
      FROM aftersales.kpi_approvals_monthly ORDER BY month, department, kind$$,
  $$SELECT month, department, kind, count(*) FILTER (WHERE state <> 'withdrawn'),
           count(*) FILTER (WHERE decided_at IS NOT NULL), count(*) FILTER (WHERE state = 'approved'),
           count(*) FILTER (WHERE state = 'rejected'), count(*) FILTER (WHERE state = 'submitted'),
           count(*) FILTER (WHERE state = 'withdrawn'), count(*) FILTER (WHERE decided_at IS NOT NULL AND NOT late),
           count(*) FILTER (WHERE late),
           round(count(*) FILTER (WHERE late)::numeric / NULLIF(count(*) FILTER (WHERE late IS NOT NULL), 0), 4),
           round(count(*) FILTER (WHERE decided_at IS NOT NULL)::numeric / NULLIF(count(*) FILTER (WHERE state <> 'withdrawn'), 0), 4),
           round(avg(extract(epoch FROM decided_at - submitted_at) / 60), 2)
      FROM raw GROUP BY month, department, kind ORDER BY month, department, kind$$,
  'kpi_approvals_monthly recomputed from the event log');
SELECT results_eq(
  $$SELECT org_id, approvals_pending, pending_delayed, warning_line, over_line FROM aftersales.kpi_approvals_pending_by_org ORDER BY org_id$$,
  $$SELECT org_id, count(*), count(*) FILTER (WHERE late), 20, count(*) >= 20 FROM raw WHERE state = 'submitted'
     GROUP BY org_id ORDER BY org_id$$,
  'kpi_approvals_pending_by_org recomputed');
SELECT is((SELECT count(*)::int FROM aftersales.approval_alerts),
          (SELECT count(*)::int FROM (SELECT org_id FROM raw WHERE state = 'submitted' GROUP BY org_id HAVING count(*) >= 20) x),
          'one warning-line alert per organisation over the line at the year''s end');

-- Surveys from the raw rows.
SELECT results_eq(
  $$SELECT campaign_id, channel, sent, answered, partial, expired, pending, survey_response_rate
      FROM aftersales.kpi_survey_response_rates ORDER BY campaign_id NULLS FIRST, channel$$,
  $$SELECT s.campaign_id, s.channel::text, count(*),
           count(*) FILTER (WHERE EXISTS (SELECT FROM aftersales.survey_events e WHERE e.tenant_id = s.tenant_id AND e.survey_id = s.survey_id AND e.event = 'answer')),
           count(*) FILTER (WHERE EXISTS (SELECT FROM aftersales.survey_events e WHERE e.tenant_id = s.tenant_id AND e.survey_id = s.survey_id AND e.event = 'answer_partly')),
           count(*) FILTER (WHERE EXISTS (SELECT FROM aftersales.survey_events e WHERE e.tenant_id = s.tenant_id AND e.survey_id = s.survey_id AND e.event = 'expire')),
           count(*) FILTER (WHERE NOT EXISTS (SELECT FROM aftersales.survey_events e WHERE e.tenant_id = s.tenant_id AND e.survey_id = s.survey_id AND e.seq > 1)),
           round(count(*) FILTER (WHERE EXISTS (SELECT FROM aftersales.survey_answers a WHERE a.tenant_id = s.tenant_id AND a.survey_id = s.survey_id))::numeric / count(*), 4)
      FROM aftersales.surveys s WHERE s.tenant_id = current_setting('aftersales.tenant_id')::bigint
     GROUP BY s.campaign_id, s.channel ORDER BY s.campaign_id NULLS FIRST, s.channel::text$$,
  'kpi_survey_response_rates recomputed from the log and the answers');
SELECT results_eq(
  $$SELECT csat_responses, csat_avg, nps_responses, nps FROM aftersales.kpi_satisfaction_monthly
     WHERE source = 'survey' ORDER BY month$$,
  $$SELECT count(*) FILTER (WHERE a.position = 1), round(avg(a.score) FILTER (WHERE a.position = 1), 2),
           count(*) FILTER (WHERE a.position = 2),
           round(100.0 * (count(*) FILTER (WHERE a.position = 2 AND a.score >= 9) - count(*) FILTER (WHERE a.position = 2 AND a.score <= 6))
                 / NULLIF(count(*) FILTER (WHERE a.position = 2), 0), 1)
      FROM aftersales.survey_answers a JOIN aftersales.surveys s USING (tenant_id, survey_id)
     WHERE a.tenant_id = current_setting('aftersales.tenant_id')::bigint AND a.position IN (1, 2)
     GROUP BY date_trunc('month', s.answered_at AT TIME ZONE 'Asia/Shanghai')
     ORDER BY date_trunc('month', s.answered_at AT TIME ZONE 'Asia/Shanghai')$$,
  'survey CSAT and NPS recomputed from the answers');
SELECT ok((SELECT count(DISTINCT source) FROM aftersales.kpi_satisfaction_monthly) = 2, 'follow-up and survey scores side by side');
SELECT is((SELECT sum(answers)::int FROM aftersales.kpi_survey_answer_distribution WHERE position = 1),
          (SELECT count(*)::int FROM aftersales.survey_answers WHERE tenant_id = current_setting('aftersales.tenant_id')::bigint AND position = 1),
          'the rating distribution counts every answer once');
SELECT ok((SELECT sum(complaint_share) FROM aftersales.kpi_problem_product_shares) BETWEEN 0.9999 AND 1.0001,
          'problem-product complaint shares add up to 1');
SELECT ok(EXISTS (SELECT FROM aftersales.kpi_abnormal_terms WHERE term = '故障' AND in_complaints > 0 AND in_surveys > 0),
          'the term 故障 comes from complaints and surveys');

-- Errors write nothing: a survey answered twice, an approval decided by an outsider.
SELECT survey_id AS answered FROM aftersales.surveys WHERE state = 'answered' ORDER BY survey_id LIMIT 1 \gset
SELECT throws_ok(format($$SELECT aftersales.answer_survey(%s, '{"1": 5}')$$, :answered), '55000', NULL,
                 'a survey answered twice: 55000');
SELECT approval_id AS pending FROM aftersales.approvals WHERE state = 'submitted' ORDER BY approval_id LIMIT 1 \gset
SET LOCAL aftersales.actor = 'cs.chen';
SELECT throws_ok(format($$SELECT aftersales.grant_approval(%s)$$, :pending), '42501', NULL,
                 'an approval by someone outside the approving department: 42501');
SELECT is((SELECT state FROM aftersales.approvals WHERE approval_id = :pending), 'submitted', 'and it stays submitted');

SELECT * FROM finish();
ROLLBACK;
