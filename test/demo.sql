-- make demo: the main job, end to end, on a private cluster.  Re-runnable:
-- a second run reuses the data and prints the same dashboard.
--
--   1. sample data: tenant "demo", a year (2026) of 2,000 tickets driven
--      through the ticket API by aftersales.generate_sample_data();
--   2. the clock: this database's aftersales.now is pinned to the end of
--      that year (2027-01-01 00:00 China time), and aftersales.tenant_id to
--      the demo tenant, so that the views, the sweeps and a BI tool all see
--      the same instant and company;
--   3. the escalation sweep at that instant, then scheduled with pg_cron;
--   4. the dashboard of the headline service figures.
\set ON_ERROR_STOP on
\pset footer off
\pset null '-'
SET client_min_messages = warning;
SET timezone = 'Asia/Shanghai';

\echo '== Loading the sample data (tenant demo, seed 1, 2,000 tickets of 2026) =='
SELECT s.tenant_id AS demo_tenant, s.events AS demo_events, s.seconds AS demo_seconds
  FROM aftersales.generate_sample_data('demo', seed => 1, tickets => 2000, year => 2026) s \gset
SELECT pg_catalog.format('ALTER DATABASE %I SET aftersales.tenant_id = %L', current_database(), :'demo_tenant') \gexec
SELECT pg_catalog.format('ALTER DATABASE %I SET aftersales.now = %L', current_database(), '2027-01-01 00:00+08') \gexec
SET aftersales.tenant_id = :'demo_tenant';
SET aftersales.now = '2027-01-01 00:00+08';
SELECT t.name AS tenant, r.tickets, r.events, r.seed, r.year,
       r.seconds || ' s' AS generated_in, r.checksum
  FROM aftersales.sample_data_runs r JOIN aftersales.tenants t USING (tenant_id)
 WHERE r.tenant_id = aftersales.current_tenant();
SELECT (SELECT count(*) FROM aftersales.organisations WHERE tenant_id = aftersales.current_tenant() AND level = 'outlet') AS outlets,
       (SELECT count(*) FROM aftersales.engineers WHERE tenant_id = aftersales.current_tenant()) AS engineers,
       (SELECT count(*) FROM aftersales.customers WHERE tenant_id = aftersales.current_tenant()) AS customers,
       (SELECT count(*) FROM aftersales.customers WHERE tenant_id = aftersales.current_tenant() AND tier = 'key') AS key_customers,
       (SELECT count(*) FROM aftersales.units WHERE tenant_id = aftersales.current_tenant()) AS installed_units;

\echo
\echo '== Escalation sweep at 2027-01-01 00:00 (CALL aftersales.sweep_until_done()) =='
CALL aftersales.sweep_until_done(batch => 500, max_batches => 100);
SELECT kind, count(*) AS alerts, count(DISTINCT ticket_id) AS tickets
  FROM aftersales.alerts WHERE tenant_id = aftersales.current_tenant()
 GROUP BY kind ORDER BY kind;

\echo
\echo '== Scheduling the sweep every minute with pg_cron (job aftersales-sweep) =='
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT aftersales.schedule_sweeps('* * * * *', batch => 500) AS sweep_job \gset
SELECT jobname, schedule, command, active FROM cron.job WHERE jobid = :sweep_job;

\echo
\echo '======================================================================'
\echo ' Dashboard: demo company, tickets entered in 2026, as of 2027-01-01 00:00'
\echo '======================================================================'
\echo
\echo '== Headline service figures =='
SELECT x.kpi, x.value, x.target
  FROM aftersales.kpi_service('all', 'all', '2026-01-01 00:00+08', '2027-01-01 00:00+08') k
 CROSS JOIN LATERAL (VALUES
   (1, 'tickets entered', k.tickets::text, ''),
   (2, 'resolved / closed / cancelled / open', pg_catalog.concat_ws(' / ', k.resolved, k.closed, k.cancelled, k.unresolved), ''),
   (3, '10-minute response rate', round(100 * k.response_rate, 1) || '%', ''),
   (4, '4-hour on-site arrival rate', round(100 * k.arrival_rate, 1) || '%', ''),
   (5, '24-hour completion rate', round(100 * k.completion_rate, 1) || '%', ''),
   (6, 'first-time-fix rate', round(100 * k.first_time_fix_rate, 1) || '%', '>= 85%'),
   (7, 'closed-loop rate', round(100 * k.closed_loop_rate, 1) || '%', '>= 98%'),
   (8, 'MTTR (first response to resolution)', round(k.mttr_minutes / 60, 1) || ' h', ''),
   (9, 'CSAT (1-5)', k.csat_avg || ' (' || k.csat_responses || ' scored)', '>= 4.5'),
   (10, 'NPS', k.nps || ' (' || k.nps_responses || ' scored)', ''))
   AS x (n, kpi, value, target)
 ORDER BY x.n;

\echo
\echo '== Backlog by age (open tickets, hours since entry) =='
SELECT dim_name AS organisation_type, open_tickets AS open, unassigned, on_hold, in_work,
       over_24h AS ">24h", over_48h AS ">48h", over_72h AS ">72h", over_96h AS ">96h", over_120h AS ">120h"
  FROM aftersales.kpi_backlog('organisation_type')
UNION ALL
SELECT 'all', open_tickets, unassigned, on_hold, in_work, over_24h, over_48h, over_72h, over_96h, over_120h
  FROM aftersales.kpi_backlog('all');

\echo
\echo '== Top 5 provinces by failures (early = within 90 days of installation) =='
SELECT rank, dim_name AS province, failures, early_failures AS early, in_warranty_failures AS in_warranty,
       out_of_warranty_failures AS out_of_warranty
  FROM aftersales.kpi_failures('all', 'province', '2026-01-01 00:00+08', '2027-01-01 00:00+08', top => 5)
 ORDER BY rank;

\echo
\echo '== Locked and escalated tickets (aftersales.manager_queue, most urgent first) =='
SELECT q.urgency, q.level, q.locked, q.status, q.priority, q.key_customer AS key, q.customer,
       round(q.overdue_minutes / 60) AS overdue_h, q.reason
  FROM aftersales.manager_queue q
 ORDER BY q.urgency
 LIMIT 12;
SELECT count(*) AS in_queue, count(*) FILTER (WHERE locked) AS locked,
       count(*) FILTER (WHERE level = 3) AS at_level_3
  FROM aftersales.manager_queue;

\echo
\echo '== SLA deadlines on business time (targets of the default SLA policy), calendar cn-office =='
WITH cal AS (SELECT aftersales.get_calendar('cn-office') AS c),
     req(opened, priority, response, resolution) AS (VALUES
       ('2026-09-30 16:30'::timestamptz, 'A', interval '5 minutes', interval '30 minutes'),
       ('2026-09-30 16:30'::timestamptz, 'B', interval '30 minutes', interval '2 hours'),
       ('2026-09-30 16:30'::timestamptz, 'C', interval '4 hours', interval '24 hours'),
       ('2026-02-13 17:45'::timestamptz, 'B', interval '30 minutes', interval '2 hours'))
SELECT to_char(opened, 'Dy YYYY-MM-DD HH24:MI') AS opened,
       priority,
       to_char(aftersales.business_add(c, opened, response), 'Dy MM-DD HH24:MI') AS respond_by,
       to_char(aftersales.business_add(c, opened, resolution), 'Dy MM-DD HH24:MI') AS resolve_by
  FROM req, cal;

\echo
\echo '======================================================================'
\echo ' Complaints (客户投诉): received in 2026, as of 2027-01-01 00:00'
\echo '======================================================================'
SELECT sum(complaints) AS complaints, sum(complaints_resolved) AS resolved, sum(complaints_in_progress) AS in_progress,
       sum(complaints_unresolved) AS unresolved, sum(complaints_withdrawn) AS withdrawn,
       round(100.0 * sum(complaints_effective) / nullif(sum(complaints_resolved), 0), 1) || '%' AS effective_rate,
       round(avg(avg_acknowledge_minutes) / 60, 1) || ' h' AS acknowledge,
       round(avg(avg_resolve_minutes) / 60, 1) || ' h' AS resolve,
       round(100.0 * sum(complaints) / sum(tickets), 2) AS per_100_tickets
  FROM aftersales.kpi_complaints_monthly;
\echo '-- by source'
SELECT source, sum(complaints) AS complaints,
       round(100.0 * sum(complaints) / sum(sum(complaints)) OVER (), 1) || '%' AS share,
       sum(effective) AS effective
  FROM aftersales.kpi_complaints_by_source GROUP BY source ORDER BY 2 DESC, 1;
\echo '-- by region, with the effective resolution'
SELECT COALESCE(region, '(HQ)') AS region, sum(complaints) AS complaints, sum(resolved) AS resolved,
       round(100.0 * sum(effective) / nullif(sum(resolved), 0), 1) || '%' AS effective_rate
  FROM aftersales.kpi_complaints_by_region GROUP BY region ORDER BY 2 DESC, 1;
\echo '-- reasons'
SELECT reason_top_zh AS reason, reason_top_en AS reason_en, sum(complaints) AS complaints,
       round(100.0 * sum(complaints) / sum(sum(complaints)) OVER (), 1) || '%' AS share
  FROM aftersales.kpi_complaints_by_reason GROUP BY 1, 2 ORDER BY 3 DESC, 1;
\echo '-- monthly trend'
SELECT to_char(month, 'YYYY-MM') AS month, complaints, complaints_resolved AS resolved, complaints_in_progress AS in_progress,
       complaints_unresolved AS unresolved, repeat_complaints AS repeats, complaints_per_100_tickets AS per_100
  FROM aftersales.kpi_complaints_monthly ORDER BY month;

\echo
\echo '======================================================================'
\echo ' Satisfaction: follow-up calls beside surveys, 2026'
\echo '======================================================================'
SELECT source, sum(csat_responses) AS csat_scores,
       round(sum(csat_avg * csat_responses) / nullif(sum(csat_responses), 0), 2) AS csat,
       sum(nps_responses) AS nps_scores,
       round(sum(nps * nps_responses) / nullif(sum(nps_responses), 0), 1) AS nps
  FROM aftersales.kpi_satisfaction_monthly GROUP BY source ORDER BY source;
SELECT campaign, channel, sent, answered, partial, expired, round(100 * survey_response_rate, 1) || '%' AS response_rate
  FROM aftersales.kpi_survey_response_rates ORDER BY campaign, channel;
SELECT 'Q' || position AS q, kind, answers, mean_score, round(100 * low_score_share, 1) || '%' AS low_scores
  FROM aftersales.kpi_survey_questions ORDER BY position;
\echo '-- problem products (shares of alerts, complaints, low-scored surveys)'
SELECT model_code, round(100 * alert_share, 1) || '%' AS alerts, round(100 * complaint_share, 1) || '%' AS complaints,
       round(100 * low_score_survey_share, 1) || '%' AS low_scored_surveys
  FROM aftersales.kpi_problem_product_shares ORDER BY complaint_share DESC NULLS LAST, alert_share DESC NULLS LAST, model_code LIMIT 5;
\echo '-- abnormal-problem terms (character bigrams)'
SELECT term, term_occurrences AS occurrences FROM aftersales.kpi_abnormal_terms ORDER BY term_occurrences DESC, term LIMIT 10;

\echo
\echo '======================================================================'
\echo ' Process centre (流程中心): approvals submitted in 2026'
\echo '======================================================================'
SELECT department_name AS department, sum(submitted) AS submitted, sum(approvals_on_time) AS on_time,
       sum(approvals_delayed) AS delayed,
       round(100.0 * sum(approvals_delayed) / nullif(sum(approvals_on_time) + sum(approvals_delayed), 0), 1) || '%' AS delay_rate,
       round(100.0 * sum(decided) / nullif(sum(submitted), 0), 1) || '%' AS completion
  FROM aftersales.kpi_approvals_monthly GROUP BY department_name ORDER BY 1;
\echo '-- internal requests (内联单) per department'
SELECT department_name AS department, sum(submitted) AS requests, sum(decided) AS completed,
       round(100.0 * sum(decided) / nullif(sum(submitted), 0), 1) || '%' AS completion_rate
  FROM aftersales.kpi_approvals_monthly WHERE kind = 'internal_request' GROUP BY department_name ORDER BY 1;
\echo '-- pending approvals per organisation against the warning line'
SELECT org_name, approvals_pending AS pending, pending_delayed, warning_line, over_line
  FROM aftersales.kpi_approvals_pending_by_org ORDER BY approvals_pending DESC, org_name LIMIT 8;

\echo '== Spare parts: fill rates and sign-off by month (aftersales.parts_monthly) =='
SELECT to_char(month, 'YYYY-MM') AS month, orders_requested AS requested, orders_unshipped AS unshipped,
       round(100 * fill_rate, 1) || '%' AS fill, round(100 * in_stock_fill_rate, 1) || '%' AS in_stock,
       round(100 * bc_fill_rate, 1) || '%' AS bc_class,
       round(100 * sign_off_24h_rate, 1) || '%' AS signed_24h, round(100 * sign_off_48h_rate, 1) || '%' AS signed_48h,
       round(100 * sign_off_7d_rate, 1) || '%' AS signed_7d,
       round(100 * unsatisfied_shipment_share, 1) || '%' AS unsatisfied, round(100 * unsatisfied_tonnage_share, 1) || '%' AS unsatisfied_t
  FROM aftersales.parts_monthly
 ORDER BY month;

\echo
\echo '== Spare parts: shipments of the busiest warehouses in 2026, and parts arrived but not collected =='
SELECT warehouse_code, warehouse_kind, sum(shipments) AS shipments, sum(transfers) AS transfers,
       round(sum(weight_kg) / 1000, 3) AS tonnes
  FROM aftersales.parts_warehouse_shipments
 GROUP BY warehouse_code, warehouse_kind
 ORDER BY sum(shipments) DESC, warehouse_code
 LIMIT 8;
SELECT order_id, ticket_id, to_char(arrived_at, 'MM-DD HH24:MI') AS arrived, hours_waiting, overdue,
       (SELECT count(*) FROM aftersales.alerts a WHERE a.tenant_id = aftersales.current_tenant() AND a.kind = 'part_not_collected'
           AND a.level = u.order_id) AS alerts
  FROM aftersales.parts_uncollected u
 ORDER BY arrived_at;
SELECT to_char(month, 'YYYY-MM') AS month, claims_filed, claims_accepted, claims_rejected, second_claims,
       amount_claimed, amount_accepted, old_parts_due, old_parts_outstanding
  FROM aftersales.parts_claims_monthly
 WHERE claims_filed > 0 OR old_parts_due > 0
 ORDER BY month DESC
 LIMIT 4;

\echo
\echo '== Service cost: cost per ticket by warranty class, and technician utilisation (2026) =='
SELECT warranty_class, sum(tickets) AS tickets, sum(total_cost) AS total_cost,
       round(sum(total_cost) / sum(tickets), 2) AS cost_per_ticket, sum(charged) AS charged
  FROM aftersales.cost_monthly
 GROUP BY warranty_class
 ORDER BY warranty_class;
SELECT to_char(month, 'YYYY-MM') AS month, round(sum(logged_hours)) AS logged_h, round(sum(on_duty_hours)) AS on_duty_h,
       round(100 * sum(logged_hours) / sum(on_duty_hours), 1) || '%' AS utilisation
  FROM aftersales.cost_engineer_utilisation
 GROUP BY month
 ORDER BY month DESC
 LIMIT 3;
SELECT count(*) AS ledger_problems FROM aftersales.check_parts(aftersales.current_tenant());

\echo
\echo '== Staff: December 2026, busiest engineers (aftersales.staff_time_monthly) =='
SELECT engineer_name AS engineer, region, scheduled_hours AS scheduled_h, on_duty_hours AS on_duty_h, busy_hours AS busy_h,
       idle_hours AS idle_h, round(100 * utilisation, 1) || '%' AS utilisation, late_check_ins AS late,
       missing_check_outs AS no_check_out, location_anomalies AS far_away
  FROM aftersales.staff_time_monthly
 WHERE month = '2026-12-01'
 ORDER BY busy_hours DESC, engineer_id
 LIMIT 8;

\echo
\echo '== Staff: regions in December 2026 (installed units = 保有量; aftersales.staff_region_monthly) =='
SELECT region, engineers, installed_units, units_per_engineer, intake, intake_per_engineer,
       round(100 * installed_units_yoy, 1) || '%' AS units_yoy, round(100 * intake_mom, 1) || '%' AS intake_mom
  FROM aftersales.staff_region_monthly WHERE month = '2026-12-01'
 ORDER BY array_position('{华东,华北,东北,中南,西北,西南}'::text[], region);

\echo
\echo '== Dispatch: candidates for the oldest ticket awaiting assignment (aftersales.suggest_engineers) =='
SELECT min(ticket_id) AS waiting_ticket FROM aftersales.tickets
 WHERE tenant_id = aftersales.current_tenant() AND status = 'new' \gset
SELECT rank, engineer_name AS engineer, total_score AS score, skills_score AS skills, coverage_score AS coverage,
       on_duty_score AS on_duty, load_score AS load, distance_score AS distance, tier_score AS tier,
       continuity_score AS continuity, reasons
  FROM aftersales.suggest_engineers(:'waiting_ticket', 3, '2026-12-31 10:00+08');

\echo
\echo '== Knowledge: most used articles and remote service (aftersales.kb_article_stats, kb_remote_monthly) =='
SELECT article_id, title, state, version, uses, round(100 * success_rate, 1) || '%' AS success
  FROM aftersales.kb_article_stats ORDER BY uses DESC, article_id LIMIT 5;
SELECT month, resolutions, round(100 * article_coverage, 1) || '%' AS with_article,
       round(100 * remote_share, 1) || '%' AS remote_share, round(100 * remote_success_rate, 1) || '%' AS remote_success
  FROM aftersales.kb_remote_monthly WHERE month >= '2026-10-01' ORDER BY month;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
SELECT rank, title, score FROM aftersales.search_articles('压缩机 异响 振动', 3);
