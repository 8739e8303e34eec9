-- api_surface.sql: what a user sees and may call.  The schema aftersales
-- holds the API and nothing else; aftersales_internal holds the rest, out
-- of PUBLIC's reach except the few helpers the caller's own statements
-- evaluate (listed in src/sql/90_privileges.sql); nothing that writes is
-- executable by PUBLIC unless it is API meant for it.
--
-- Run: pg_prove -d DB test/pgtap/api_surface.sql
--      (the database needs: CREATE EXTENSION pgtap; CREATE EXTENSION aftersales CASCADE;)
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(9);

CREATE TEMP TABLE api (name text PRIMARY KEY, public boolean NOT NULL);
INSERT INTO api VALUES
 ('acknowledge_alert', true), ('acknowledge_alerts', true), ('acknowledge_ticket', true), ('actor', true),
 ('arrive_on_site', true), ('assign_ticket', true), ('backlog_as_of', true), ('business_add', true),
 ('business_diff', true), ('business_minutes', true), ('calendar_clauses_from_ics', true), ('calendar_eq', true), ('calendar_zone', true),
 ('cancel_ticket', true), ('check_occurrences', false), ('check_tickets', false), ('check_watches', false),
 ('compact_occurrences', false), ('current_member_kind', true), ('current_org_scope', true), ('current_tenant', true), ('duration_stats', true), ('edit_ticket', true), ('fail_attempt', true),
 ('follow_up', true), ('generate_sample_data', false), ('get_calendar', true), ('hold_ticket', true),
 ('is_business_time', true), ('kpi_backlog', true), ('kpi_backlog_stages', true), ('kpi_dispatch', true), ('kpi_durations', true),
 ('kpi_engineer_holdings', true), ('kpi_failures', true), ('kpi_headline', true), ('kpi_service', true),
 ('kpi_setting', true), ('kpi_staff', true), ('kpi_ticket_facts', true), ('kpi_warranty_trend', true),
 ('library_version', true), ('lock_ticket', true), ('next_business_time', true), ('now', true), ('open_ticket', true), ('open_tickets', true),
 ('prune_sweep_runs', false), ('raise_alert', true), ('rearm_watches', false), ('reassign_ticket', true),
 ('release_ticket', true), ('reopen_ticket', true), ('replay_ticket', false), ('reporting_zone', true), ('resolve_ticket', true),
 ('resume_ticket', true), ('sample_calendar', true), ('sample_data_checksum', false), ('schedule_sweeps', false),
 ('set_calendar', true), ('set_escalation_rule', true), ('set_kpi_setting', true), ('set_priority', true), ('set_reporting_zone', true),
 ('start_work', true), ('sweep', false), ('sweep_until_done', false), ('take_over_ticket', true),
 ('ticket_state', false), ('ticket_transition_rule', true), ('ticket_transitions', true), ('transfer_ticket', true),
 ('unacknowledged_alerts', true), ('unlock_ticket', true), ('unschedule_sweeps', false), ('whoami', true),
 ('check_kpi_rollups', false), ('fold_kpi_rollups', false), ('rebuild_kpi_rollups', false),
 -- spare parts, labour and costs
 ('set_part', true), ('set_warehouse', true), ('receive_stock', true), ('adjust_stock', true), ('request_parts', true),
 ('approve_part_order', true), ('reject_part_order', true), ('reserve_part_order', true), ('ship_part_order', true),
 ('arrive_part_order', true), ('collect_part_order', true), ('use_part_order', true), ('return_part_order', true),
 ('cancel_part_order', true), ('ship_old_part', true), ('receive_old_part', true), ('inspect_old_part', true),
 ('waive_old_part', true), ('file_claim', true), ('accept_claim', true), ('reject_claim', true), ('refile_claim', true),
 ('settle_claim', true), ('log_work', true), ('price_ticket', true), ('add_fee', true), ('settle_ticket', true),
 ('check_parts', false), ('sample_parts_checksum', false),
 -- dispatch, workforce and knowledge
 ('acknowledge_dispatch_alert', true), ('attendance_days', true), ('auto_assign', true), ('auto_assign_pending', false),
 ('check_articles', false), ('check_in', true), ('check_out', true), ('check_position', true), ('create_article', true),
 ('create_article_search_index', false), ('dispatch_sweep', false), ('distance_km', true),
 ('draft_article_from_ticket', true), ('edit_article', true), ('engineer_on_shift', true), ('engineer_time', true),
 ('publish_article', true), ('reject_article', true), ('resolve_ticket_with', true), ('retire_article', true),
 ('revise_article', true), ('search_articles', true), ('site_check_in', true), ('submit_article', true),
 ('suggest_articles', true), ('suggest_engineers', true);

-- Complaints, surveys and approvals
INSERT INTO api VALUES
 ('add_standard_complaint_reasons', true), ('set_complaint_target', true), ('open_complaint', true),
 ('assign_complaint', true), ('take_complaint', true), ('start_complaint', true), ('resolve_complaint', true),
 ('confirm_complaint', true), ('reject_complaint', true), ('close_complaint', true), ('escalate_complaint', true),
 ('withdraw_complaint', true), ('check_complaints', false),
 ('create_survey_template', true), ('publish_survey_template', true), ('send_survey', true),
 ('start_survey_campaign', true), ('answer_survey', true), ('expire_surveys', false),
 ('approval_warning_line', true), ('set_approval_warning_line', true), ('set_approval_target', true), ('set_part_order_approver', true),
 ('submit_approval', true), ('grant_approval', true), ('reject_approval', true), ('withdraw_approval', true),
 ('sweep_approvals', false), ('check_surveys', false), ('check_approvals', false);

-- The internal helpers PUBLIC may execute: what the caller's statements
-- evaluate with the caller's rights (src/sql/90_privileges.sql says why).
CREATE TEMP TABLE caller_path (name text PRIMARY KEY);
INSERT INTO caller_path VALUES
 ('tickets_row_check'), ('ticket_escalation_matters'), ('ticket_event'), ('ticket_open'), ('declare_event'),
 ('require_engineer'), ('bad_item'), ('value_listed'), ('value_list'), ('is_watch_clock'),
 ('kpi_check'), ('kpi_config'), ('kpi_dimension_sql'), ('kpi_period_sql'), ('judge_ticket'),
 ('rollup_facts'), ('rollup_rows'), ('rollup_affected'), ('rollup_grain'), ('rollup_contrib'), ('rollup_label'),
 ('rollup_service'), ('rollup_staff');

-- \df aftersales.* lists the API and nothing else.
SELECT is(ARRAY(SELECT DISTINCT p.proname::text FROM pg_proc p WHERE p.pronamespace = 'aftersales'::regnamespace ORDER BY 1),
          ARRAY(SELECT name FROM api ORDER BY 1),
          'the schema aftersales holds exactly the API functions');
SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM pg_proc p
                 WHERE p.pronamespace = 'aftersales'::regnamespace AND p.proname ~ '^_'), '{}'::text[],
          'no function of aftersales starts with an underscore');
SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM pg_proc p JOIN api a ON a.name = p.proname
                 WHERE p.pronamespace = 'aftersales'::regnamespace
                   AND has_function_privilege('public', p.oid, 'EXECUTE') <> a.public ORDER BY 1), '{}'::text[],
          'PUBLIC executes exactly the API functions meant for it (the checks, sweeps and generators are revoked)');
SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM pg_proc p
                 WHERE p.pronamespace = 'aftersales_internal'::regnamespace
                   AND has_function_privilege('public', p.oid, 'EXECUTE')
                   AND p.proname NOT IN (SELECT name FROM caller_path) ORDER BY 1), '{}'::text[],
          'PUBLIC executes nothing in aftersales_internal but the helpers on the caller''s path');
SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM pg_proc p
                 WHERE p.pronamespace = 'aftersales_internal'::regnamespace
                   AND has_function_privilege('public', p.oid, 'EXECUTE') AND p.prosecdef ORDER BY 1), '{}'::text[],
          'no internal function PUBLIC may execute runs as the owner');
SELECT is(ARRAY(SELECT p.oid::regprocedure::text FROM pg_proc p
                 WHERE p.pronamespace = 'aftersales_internal'::regnamespace AND p.prorettype = 'trigger'::regtype
                   AND has_function_privilege('public', p.oid, 'EXECUTE') ORDER BY 1), '{}'::text[],
          'PUBLIC executes no trigger function');
SELECT ok(NOT has_schema_privilege('public', 'aftersales_internal', 'CREATE'), 'PUBLIC cannot create in aftersales_internal');
SELECT is(ARRAY(SELECT c.oid::regclass::text FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) x
                 WHERE c.relnamespace = 'aftersales_internal'::regnamespace AND x.grantee = 0 ORDER BY 1), '{}'::text[],
          'PUBLIC has no privilege on a relation of aftersales_internal');
SELECT is(ARRAY(SELECT DISTINCT o.classid::regclass::text FROM pg_depend o
                 WHERE o.refclassid = 'pg_extension'::regclass AND o.deptype = 'e'
                   AND o.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'aftersales')
                   AND o.classid = 'pg_proc'::regclass
                   AND (SELECT pronamespace FROM pg_proc WHERE oid = o.objid)
                       NOT IN ('aftersales'::regnamespace, 'aftersales_internal'::regnamespace)), '{}'::text[],
          'every function of the extension is in aftersales or aftersales_internal');

SELECT * FROM finish();
ROLLBACK;
