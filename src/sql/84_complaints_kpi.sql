
-- aftersales install script, part 84 (continued): the complaint board's
-- KPIs, as plain-typed views of the current tenant for BI tools.  Months
-- are cut in the tenant's reporting zone (aftersales.reporting_zone()),
-- by the month a complaint was received; states are the current ones.
--
-- Status groups of the board (已解决 / 处理中 / 未解决):
--   resolved     a remedy is recorded: resolved, confirmed, closed;
--   in_progress  a handler has it, or the next level does: assigned,
--                in_progress, escalated;
--   unresolved   nobody has taken it yet: received.
-- Withdrawn complaints are counted apart and left out of the rates.
-- Effective (有效处理): the complainant confirmed the remedy.

CREATE VIEW aftersales.complaint_facts WITH (security_invoker = true) AS
SELECT c.tenant_id, c.complaint_id,
       pg_catalog.date_trunc('month', c.received_at AT TIME ZONE (SELECT aftersales.reporting_zone()))::date AS month,
       c.source::text AS source, c.complainant_kind, c.customer_id, c.ticket_id, c.model_id,
       pm.code AS model_code, c.engineer_id, c.org_id, o.name AS org_name,
       COALESCE(o.region, cu.region)::text AS region,
       COALESCE(o.province, cu.province) AS province,
       COALESCE(r.parent_code, r.code) AS reason_top, c.reason_code,
       COALESCE(rp.name_en, r.name_en) AS reason_top_en, COALESCE(rp.name_zh, r.name_zh) AS reason_top_zh,
       r.name_en AS reason_en, r.name_zh AS reason_zh,
       c.severity::text AS severity, c.state,
       CASE WHEN c.state IN ('resolved', 'confirmed', 'closed') THEN 'resolved'
            WHEN c.state IN ('assigned', 'in_progress', 'escalated') THEN 'in_progress'
            WHEN c.state = 'received' THEN 'unresolved'
            ELSE 'withdrawn' END AS status_group,
       c.confirmed_at IS NOT NULL AS effective,
       EXISTS (SELECT FROM aftersales.complaints p
                WHERE p.tenant_id = c.tenant_id AND p.customer_id = c.customer_id
                  AND (p.received_at, p.complaint_id) < (c.received_at, c.complaint_id)) AS repeat,
       c.escalation_level::integer AS escalation_level, c.reject_count,
       c.received_at, c.acknowledged_at, c.resolved_at, c.confirmed_at, c.closed_at,
       (EXTRACT(EPOCH FROM c.acknowledged_at - c.received_at) / 60)::numeric(14,2) AS acknowledge_minutes,
       (EXTRACT(EPOCH FROM c.resolved_at - c.received_at) / 60)::numeric(14,2) AS resolve_minutes,
       CASE WHEN c.acknowledge_due_at IS NULL THEN NULL
            WHEN c.acknowledged_at IS NOT NULL THEN c.acknowledged_at <= c.acknowledge_due_at
            WHEN aftersales.now() > c.acknowledge_due_at AND c.state <> 'withdrawn' THEN false END AS acknowledged_on_time,
       CASE WHEN c.resolve_due_at IS NULL THEN NULL
            WHEN c.resolved_at IS NOT NULL THEN c.resolved_at <= c.resolve_due_at
            WHEN aftersales.now() > c.resolve_due_at AND c.state <> 'withdrawn' THEN false END AS resolved_on_time
  FROM aftersales.complaints c
  JOIN aftersales.complaint_reasons r ON r.tenant_id = c.tenant_id AND r.code = c.reason_code
  LEFT JOIN aftersales.complaint_reasons rp ON rp.tenant_id = r.tenant_id AND rp.code = r.parent_code
  JOIN aftersales.organisations o ON o.tenant_id = c.tenant_id AND o.org_id = c.org_id
  LEFT JOIN aftersales.customers cu ON cu.tenant_id = c.tenant_id AND cu.customer_id = c.customer_id
  LEFT JOIN aftersales.product_models pm ON pm.tenant_id = c.tenant_id AND pm.model_id = c.model_id
 WHERE c.tenant_id = aftersales.current_tenant();
COMMENT ON VIEW aftersales.complaint_facts IS
  'One row per complaint of the current tenant with its dimensions (month received in the reporting zone, source, region, reason and its top-level reason, model) and judgements (status group, effective, minutes to acknowledge and resolve, on time against its targets as of now); the base of the complaint KPIs';
COMMENT ON COLUMN aftersales.complaint_facts.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.complaint_facts.complaint_id IS 'Complaint';
COMMENT ON COLUMN aftersales.complaint_facts.month IS 'First day of the month it was received, in the reporting zone';
COMMENT ON COLUMN aftersales.complaint_facts.source IS 'Source channel';
COMMENT ON COLUMN aftersales.complaint_facts.complainant_kind IS 'customer or outside';
COMMENT ON COLUMN aftersales.complaint_facts.customer_id IS 'Complaining customer';
COMMENT ON COLUMN aftersales.complaint_facts.ticket_id IS 'Ticket complained about';
COMMENT ON COLUMN aftersales.complaint_facts.model_id IS 'Product model concerned';
COMMENT ON COLUMN aftersales.complaint_facts.model_code IS 'Its code';
COMMENT ON COLUMN aftersales.complaint_facts.engineer_id IS 'Engineer complained about';
COMMENT ON COLUMN aftersales.complaint_facts.org_id IS 'Organisation responsible';
COMMENT ON COLUMN aftersales.complaint_facts.org_name IS 'Its name';
COMMENT ON COLUMN aftersales.complaint_facts.region IS 'Region of the organisation (else of the customer)';
COMMENT ON COLUMN aftersales.complaint_facts.province IS 'Province of the organisation (else of the customer)';
COMMENT ON COLUMN aftersales.complaint_facts.reason_top IS 'Top-level reason';
COMMENT ON COLUMN aftersales.complaint_facts.reason_code IS 'Reason as recorded (top-level or sub-reason)';
COMMENT ON COLUMN aftersales.complaint_facts.reason_top_en IS 'Top-level reason in English';
COMMENT ON COLUMN aftersales.complaint_facts.reason_top_zh IS 'Top-level reason in Chinese';
COMMENT ON COLUMN aftersales.complaint_facts.reason_en IS 'Reason in English';
COMMENT ON COLUMN aftersales.complaint_facts.reason_zh IS 'Reason in Chinese';
COMMENT ON COLUMN aftersales.complaint_facts.severity IS 'low, medium, high or critical';
COMMENT ON COLUMN aftersales.complaint_facts.state IS 'Current state';
COMMENT ON COLUMN aftersales.complaint_facts.status_group IS 'resolved (resolved, confirmed, closed), in_progress (assigned, in_progress, escalated), unresolved (received) or withdrawn';
COMMENT ON COLUMN aftersales.complaint_facts.effective IS 'The complainant confirmed the remedy (有效处理)';
COMMENT ON COLUMN aftersales.complaint_facts.repeat IS 'The customer had complained before (a repeat complaint)';
COMMENT ON COLUMN aftersales.complaint_facts.escalation_level IS 'Times escalated';
COMMENT ON COLUMN aftersales.complaint_facts.reject_count IS 'Remedies rejected by the complainant';
COMMENT ON COLUMN aftersales.complaint_facts.received_at IS 'Received';
COMMENT ON COLUMN aftersales.complaint_facts.acknowledged_at IS 'First taken by a handler';
COMMENT ON COLUMN aftersales.complaint_facts.resolved_at IS 'Latest remedy';
COMMENT ON COLUMN aftersales.complaint_facts.confirmed_at IS 'Confirmed by the complainant';
COMMENT ON COLUMN aftersales.complaint_facts.closed_at IS 'Closed';
COMMENT ON COLUMN aftersales.complaint_facts.acknowledge_minutes IS 'Wall-clock minutes from receipt to the first handler';
COMMENT ON COLUMN aftersales.complaint_facts.resolve_minutes IS 'Wall-clock minutes from receipt to the latest remedy';
COMMENT ON COLUMN aftersales.complaint_facts.acknowledged_on_time IS 'Taken by its acknowledge due time; false when taken late or still not taken past it; NULL without a target or not yet judged';
COMMENT ON COLUMN aftersales.complaint_facts.resolved_on_time IS 'Remedy by its resolve due time; false when late or still none past it; NULL without a target or not yet judged';

CREATE VIEW aftersales.kpi_complaints_monthly WITH (security_invoker = true) AS
WITH m AS (
    SELECT f.month, pg_catalog.count(*) AS complaints,
           pg_catalog.count(*) FILTER (WHERE f.status_group = 'resolved') AS resolved,
           pg_catalog.count(*) FILTER (WHERE f.status_group = 'in_progress') AS in_progress,
           pg_catalog.count(*) FILTER (WHERE f.status_group = 'unresolved') AS unresolved,
           pg_catalog.count(*) FILTER (WHERE f.status_group = 'withdrawn') AS withdrawn,
           pg_catalog.count(*) FILTER (WHERE f.effective) AS effective,
           pg_catalog.count(*) FILTER (WHERE f.resolved_at IS NOT NULL AND f.status_group <> 'withdrawn') AS remedied,
           pg_catalog.count(*) FILTER (WHERE f.repeat) AS repeats,
           pg_catalog.avg(f.acknowledge_minutes) AS ack, pg_catalog.avg(f.resolve_minutes) AS res,
           pg_catalog.avg(f.acknowledged_on_time::integer) AS ack_on_time,
           pg_catalog.avg(f.resolved_on_time::integer) AS res_on_time
      FROM aftersales.complaint_facts f
     GROUP BY f.month),
t AS (
    SELECT pg_catalog.date_trunc('month', tk.opened_at AT TIME ZONE (SELECT aftersales.reporting_zone()))::date AS month,
           pg_catalog.count(*) AS tickets
      FROM aftersales.tickets tk
     WHERE tk.tenant_id = aftersales.current_tenant()
     GROUP BY 1)
SELECT m.month, m.complaints, m.resolved AS complaints_resolved, m.in_progress AS complaints_in_progress,
       m.unresolved AS complaints_unresolved, m.withdrawn AS complaints_withdrawn, m.effective AS complaints_effective,
       (m.effective::numeric / NULLIF(m.remedied, 0))::numeric(5,4) AS complaint_effective_rate,
       m.repeats AS repeat_complaints,
       m.ack::numeric(14,2) AS avg_acknowledge_minutes,
       m.res::numeric(14,2) AS avg_resolve_minutes,
       m.ack_on_time::numeric(5,4) AS acknowledge_on_time_rate,
       m.res_on_time::numeric(5,4) AS resolve_on_time_rate,
       COALESCE(t.tickets, 0) AS tickets,
       (100 * m.complaints::numeric / NULLIF(t.tickets, 0))::numeric(10,2) AS complaints_per_100_tickets
  FROM m LEFT JOIN t ON t.month = m.month;
COMMENT ON VIEW aftersales.kpi_complaints_monthly IS
  'Complaints of the current tenant by month received: counts by status group, effective handlings and the effective resolution rate, mean minutes to acknowledge and resolve, on-time rates against the complaint targets, and the complaint rate per 100 tickets entered that month';
COMMENT ON COLUMN aftersales.kpi_complaints_monthly.month IS 'First day of the month received (reporting zone)';
COMMENT ON COLUMN aftersales.kpi_complaints_monthly.complaints IS 'Complaints received';
COMMENT ON COLUMN aftersales.kpi_complaints_monthly.complaints_resolved IS 'Of them, with a remedy now (resolved, confirmed, closed)';
COMMENT ON COLUMN aftersales.kpi_complaints_monthly.complaints_in_progress IS 'Of them, being handled now (assigned, in_progress, escalated)';
COMMENT ON COLUMN aftersales.kpi_complaints_monthly.complaints_unresolved IS 'Of them, not taken yet (received)';
COMMENT ON COLUMN aftersales.kpi_complaints_monthly.complaints_withdrawn IS 'Of them, withdrawn';
COMMENT ON COLUMN aftersales.kpi_complaints_monthly.complaints_effective IS 'Of them, confirmed by the complainant';
COMMENT ON COLUMN aftersales.kpi_complaints_monthly.complaint_effective_rate IS 'complaints_effective / complaints with a remedy (not withdrawn)';
COMMENT ON COLUMN aftersales.kpi_complaints_monthly.repeat_complaints IS 'Of them, from a customer who had complained before';
COMMENT ON COLUMN aftersales.kpi_complaints_monthly.avg_acknowledge_minutes IS 'Mean minutes from receipt to the first handler';
COMMENT ON COLUMN aftersales.kpi_complaints_monthly.avg_resolve_minutes IS 'Mean minutes from receipt to the latest remedy';
COMMENT ON COLUMN aftersales.kpi_complaints_monthly.acknowledge_on_time_rate IS 'Share acknowledged by the due time, over those judged';
COMMENT ON COLUMN aftersales.kpi_complaints_monthly.resolve_on_time_rate IS 'Share resolved by the due time, over those judged';
COMMENT ON COLUMN aftersales.kpi_complaints_monthly.tickets IS 'Tickets entered in the month';
COMMENT ON COLUMN aftersales.kpi_complaints_monthly.complaints_per_100_tickets IS 'Complaint rate: 100 * complaints / tickets of the month';

CREATE VIEW aftersales.kpi_complaints_by_state WITH (security_invoker = true) AS
SELECT f.month, f.state, f.status_group, pg_catalog.count(*) AS complaints
  FROM aftersales.complaint_facts f
 GROUP BY f.month, f.state, f.status_group;
COMMENT ON VIEW aftersales.kpi_complaints_by_state IS 'Complaints of the current tenant by month received and current state';
COMMENT ON COLUMN aftersales.kpi_complaints_by_state.month IS 'First day of the month received (reporting zone)';
COMMENT ON COLUMN aftersales.kpi_complaints_by_state.state IS 'Current state';
COMMENT ON COLUMN aftersales.kpi_complaints_by_state.status_group IS 'resolved, in_progress, unresolved or withdrawn';
COMMENT ON COLUMN aftersales.kpi_complaints_by_state.complaints IS 'Complaints';

CREATE VIEW aftersales.kpi_complaints_by_source WITH (security_invoker = true) AS
SELECT f.month, f.source, pg_catalog.count(*) AS complaints,
       (pg_catalog.count(*)::numeric / pg_catalog.sum(pg_catalog.count(*)) OVER (PARTITION BY f.month))::numeric(5,4) AS share,
       pg_catalog.count(*) FILTER (WHERE f.effective) AS effective,
       (pg_catalog.count(*) FILTER (WHERE f.effective)::numeric
        / NULLIF(pg_catalog.count(*) FILTER (WHERE f.resolved_at IS NOT NULL AND f.status_group <> 'withdrawn'), 0))::numeric(5,4)
           AS effective_rate
  FROM aftersales.complaint_facts f
 GROUP BY f.month, f.source;
COMMENT ON VIEW aftersales.kpi_complaints_by_source IS
  'Complaints of the current tenant by month and source channel: count, share of the month, effective handlings and their rate';
COMMENT ON COLUMN aftersales.kpi_complaints_by_source.month IS 'First day of the month received (reporting zone)';
COMMENT ON COLUMN aftersales.kpi_complaints_by_source.source IS 'Source channel';
COMMENT ON COLUMN aftersales.kpi_complaints_by_source.complaints IS 'Complaints';
COMMENT ON COLUMN aftersales.kpi_complaints_by_source.share IS 'Share of the month''s complaints';
COMMENT ON COLUMN aftersales.kpi_complaints_by_source.effective IS 'Confirmed by the complainant';
COMMENT ON COLUMN aftersales.kpi_complaints_by_source.effective_rate IS 'effective / complaints with a remedy (not withdrawn)';

CREATE VIEW aftersales.kpi_complaints_by_region WITH (security_invoker = true) AS
SELECT f.month, f.region, pg_catalog.count(*) AS complaints,
       pg_catalog.count(*) FILTER (WHERE f.status_group = 'resolved') AS resolved,
       pg_catalog.count(*) FILTER (WHERE f.effective) AS effective,
       (pg_catalog.count(*) FILTER (WHERE f.effective)::numeric
        / NULLIF(pg_catalog.count(*) FILTER (WHERE f.resolved_at IS NOT NULL AND f.status_group <> 'withdrawn'), 0))::numeric(5,4)
           AS effective_rate
  FROM aftersales.complaint_facts f
 GROUP BY f.month, f.region;
COMMENT ON VIEW aftersales.kpi_complaints_by_region IS
  'Complaints of the current tenant by month and region (of the responsible organisation): count, resolved, effective handlings and the effective resolution rate';
COMMENT ON COLUMN aftersales.kpi_complaints_by_region.month IS 'First day of the month received (reporting zone)';
COMMENT ON COLUMN aftersales.kpi_complaints_by_region.region IS 'Region; NULL for headquarters without a customer region';
COMMENT ON COLUMN aftersales.kpi_complaints_by_region.complaints IS 'Complaints';
COMMENT ON COLUMN aftersales.kpi_complaints_by_region.resolved IS 'With a remedy now';
COMMENT ON COLUMN aftersales.kpi_complaints_by_region.effective IS 'Confirmed by the complainant';
COMMENT ON COLUMN aftersales.kpi_complaints_by_region.effective_rate IS 'effective / complaints with a remedy (not withdrawn)';

CREATE VIEW aftersales.kpi_complaints_by_reason WITH (security_invoker = true) AS
SELECT f.month, f.reason_top, f.reason_top_en, f.reason_top_zh, f.reason_code, f.reason_en, f.reason_zh,
       pg_catalog.count(*) AS complaints,
       (pg_catalog.count(*)::numeric / pg_catalog.sum(pg_catalog.count(*)) OVER (PARTITION BY f.month))::numeric(5,4) AS share
  FROM aftersales.complaint_facts f
 GROUP BY f.month, f.reason_top, f.reason_top_en, f.reason_top_zh, f.reason_code, f.reason_en, f.reason_zh;
COMMENT ON VIEW aftersales.kpi_complaints_by_reason IS
  'Complaints of the current tenant by month and reason (with its top-level reason): count and share of the month; sum by reason_top for the top level';
COMMENT ON COLUMN aftersales.kpi_complaints_by_reason.month IS 'First day of the month received (reporting zone)';
COMMENT ON COLUMN aftersales.kpi_complaints_by_reason.reason_top IS 'Top-level reason';
COMMENT ON COLUMN aftersales.kpi_complaints_by_reason.reason_top_en IS 'Top-level reason in English';
COMMENT ON COLUMN aftersales.kpi_complaints_by_reason.reason_top_zh IS 'Top-level reason in Chinese';
COMMENT ON COLUMN aftersales.kpi_complaints_by_reason.reason_code IS 'Reason as recorded';
COMMENT ON COLUMN aftersales.kpi_complaints_by_reason.reason_en IS 'Reason in English';
COMMENT ON COLUMN aftersales.kpi_complaints_by_reason.reason_zh IS 'Reason in Chinese';
COMMENT ON COLUMN aftersales.kpi_complaints_by_reason.complaints IS 'Complaints';
COMMENT ON COLUMN aftersales.kpi_complaints_by_reason.share IS 'Share of the month''s complaints';

CREATE VIEW aftersales.kpi_complaints_by_model WITH (security_invoker = true) AS
SELECT f.month, f.region, f.model_id, f.model_code, pg_catalog.count(*) AS complaints,
       pg_catalog.count(*) FILTER (WHERE f.reason_top = 'product_quality') AS quality_complaints
  FROM aftersales.complaint_facts f
 WHERE f.model_id IS NOT NULL
 GROUP BY f.month, f.region, f.model_id, f.model_code;
COMMENT ON VIEW aftersales.kpi_complaints_by_model IS
  'Product complaints of the current tenant by month, region and product model (the quality board''s factory complaints by month and product complaints per region)';
COMMENT ON COLUMN aftersales.kpi_complaints_by_model.month IS 'First day of the month received (reporting zone)';
COMMENT ON COLUMN aftersales.kpi_complaints_by_model.region IS 'Region';
COMMENT ON COLUMN aftersales.kpi_complaints_by_model.model_id IS 'Product model';
COMMENT ON COLUMN aftersales.kpi_complaints_by_model.model_code IS 'Its code';
COMMENT ON COLUMN aftersales.kpi_complaints_by_model.complaints IS 'Complaints naming the model';
COMMENT ON COLUMN aftersales.kpi_complaints_by_model.quality_complaints IS 'Of them, with a product-quality reason';

CREATE VIEW aftersales.kpi_complaint_rate_by_model WITH (security_invoker = true) AS
SELECT pm.model_id, pm.code AS model_code, pm.name AS model_name,
       COALESCE(c.complaints, 0) AS complaints,
       COALESCE(u.units, 0) AS installed_units,
       (1000 * COALESCE(c.complaints, 0)::numeric / NULLIF(u.units, 0))::numeric(12,2) AS complaints_per_1000_units
  FROM aftersales.product_models pm
  LEFT JOIN (SELECT x.model_id, pg_catalog.count(*) AS complaints FROM aftersales.complaints x
              WHERE x.tenant_id = aftersales.current_tenant() AND x.model_id IS NOT NULL AND x.state <> 'withdrawn'
              GROUP BY x.model_id) c ON c.model_id = pm.model_id
  LEFT JOIN (SELECT un.model_id, pg_catalog.count(*) AS units FROM aftersales.units un
              WHERE un.tenant_id = aftersales.current_tenant() GROUP BY un.model_id) u ON u.model_id = pm.model_id
 WHERE pm.tenant_id = aftersales.current_tenant();
COMMENT ON VIEW aftersales.kpi_complaint_rate_by_model IS
  'Complaint rate per product model of the current tenant: complaints naming it (not withdrawn, all time) per 1,000 installed units';
COMMENT ON COLUMN aftersales.kpi_complaint_rate_by_model.model_id IS 'Product model';
COMMENT ON COLUMN aftersales.kpi_complaint_rate_by_model.model_code IS 'Its code';
COMMENT ON COLUMN aftersales.kpi_complaint_rate_by_model.model_name IS 'Its name';
COMMENT ON COLUMN aftersales.kpi_complaint_rate_by_model.complaints IS 'Complaints naming it, not withdrawn';
COMMENT ON COLUMN aftersales.kpi_complaint_rate_by_model.installed_units IS 'Installed units of the model';
COMMENT ON COLUMN aftersales.kpi_complaint_rate_by_model.complaints_per_1000_units IS '1000 * complaints / installed units';

CREATE VIEW aftersales.kpi_repeat_complainants WITH (security_invoker = true) AS
SELECT c.customer_id, cu.name AS customer, cu.tier,
       pg_catalog.count(*) AS complaints,
       pg_catalog.count(*) FILTER (WHERE c.confirmed_at IS NOT NULL) AS effective,
       pg_catalog.min(c.received_at) AS first_received_at, pg_catalog.max(c.received_at) AS last_received_at
  FROM aftersales.complaints c
  JOIN aftersales.customers cu ON cu.tenant_id = c.tenant_id AND cu.customer_id = c.customer_id
 WHERE c.tenant_id = aftersales.current_tenant()
 GROUP BY c.customer_id, cu.name, cu.tier
HAVING pg_catalog.count(*) >= 2;
COMMENT ON VIEW aftersales.kpi_repeat_complainants IS
  'Repeat complainants of the current tenant: customers with two complaints or more, all time (outside complainants are not identified across complaints)';
COMMENT ON COLUMN aftersales.kpi_repeat_complainants.customer_id IS 'Customer';
COMMENT ON COLUMN aftersales.kpi_repeat_complainants.customer IS 'Customer name';
COMMENT ON COLUMN aftersales.kpi_repeat_complainants.tier IS 'Customer tier (key, major, standard)';
COMMENT ON COLUMN aftersales.kpi_repeat_complainants.complaints IS 'Complaints received from them';
COMMENT ON COLUMN aftersales.kpi_repeat_complainants.effective IS 'Of them, confirmed';
COMMENT ON COLUMN aftersales.kpi_repeat_complainants.first_received_at IS 'First complaint';
COMMENT ON COLUMN aftersales.kpi_repeat_complainants.last_received_at IS 'Latest complaint';

CREATE VIEW aftersales.complaint_queue WITH (security_invoker = true) AS
SELECT c.complaint_id, c.state, c.severity::text AS severity, c.reason_code, c.handler, c.escalation_level::integer AS escalation_level,
       c.received_at, c.acknowledge_due_at, c.resolve_due_at,
       c.ticket_id, t.status::text AS ticket_status, t.priority::text AS ticket_priority,
       cu.tier = 'key' AS key_customer, c.customer_id, c.org_id,
       COALESCE(c.acknowledged_at IS NULL AND aftersales.now() > c.acknowledge_due_at, false)
       OR COALESCE(c.resolved_at IS NULL AND aftersales.now() > c.resolve_due_at, false) AS overdue
  FROM aftersales.complaints c
  LEFT JOIN aftersales.tickets t ON t.tenant_id = c.tenant_id AND t.ticket_id = c.ticket_id
  LEFT JOIN aftersales.customers cu ON cu.tenant_id = c.tenant_id AND cu.customer_id = COALESCE(t.customer_id, c.customer_id)
 WHERE c.tenant_id = aftersales.current_tenant()
   AND c.state IN ('received', 'assigned', 'in_progress', 'escalated');
COMMENT ON VIEW aftersales.complaint_queue IS
  'Open complaints of the current tenant (received, assigned, in progress, escalated), with the ticket they are about and its status, and whether a due time has passed as of now';
COMMENT ON COLUMN aftersales.complaint_queue.complaint_id IS 'Complaint';
COMMENT ON COLUMN aftersales.complaint_queue.state IS 'State';
COMMENT ON COLUMN aftersales.complaint_queue.severity IS 'Severity';
COMMENT ON COLUMN aftersales.complaint_queue.reason_code IS 'Reason';
COMMENT ON COLUMN aftersales.complaint_queue.handler IS 'Handler, if any';
COMMENT ON COLUMN aftersales.complaint_queue.escalation_level IS 'Times escalated';
COMMENT ON COLUMN aftersales.complaint_queue.received_at IS 'Received';
COMMENT ON COLUMN aftersales.complaint_queue.acknowledge_due_at IS 'Due to be taken by';
COMMENT ON COLUMN aftersales.complaint_queue.resolve_due_at IS 'Due to be resolved by';
COMMENT ON COLUMN aftersales.complaint_queue.ticket_id IS 'Ticket complained about';
COMMENT ON COLUMN aftersales.complaint_queue.ticket_status IS 'Its status now';
COMMENT ON COLUMN aftersales.complaint_queue.ticket_priority IS 'Its priority';
COMMENT ON COLUMN aftersales.complaint_queue.key_customer IS 'The customer is a key customer';
COMMENT ON COLUMN aftersales.complaint_queue.customer_id IS 'Complaining customer';
COMMENT ON COLUMN aftersales.complaint_queue.org_id IS 'Organisation responsible';
COMMENT ON COLUMN aftersales.complaint_queue.overdue IS 'Not taken past its acknowledge due time, or no remedy past its resolve due time';

-- The managers' queue (40_escalation_queue.sql) with the tickets that
-- have an open complaint: an open ticket someone complained about shows
-- there with its complaints, escalated or not.  The columns of the queue
-- stay as they are; complaints is added last.
CREATE OR REPLACE VIEW aftersales.manager_queue WITH (security_invoker = true) AS
SELECT q.tenant_id, q.ticket_id, q.urgency, q.waiting, q.level, q.role, q.locked, q.reason,
       q.status, q.priority, q.key_customer, q.customer_id, q.customer, q.assignee_id, q.org_id,
       q.due_at, q.overdue_minutes, q.escalated_at, q.locked_at, q.next_check,
       q.acknowledged_at, q.acknowledged_by, q.note, q.alert_id, q.complaints
  FROM (SELECT e.tenant_id, e.ticket_id,
               pg_catalog.row_number() OVER (
                   ORDER BY e.acknowledged_at IS NOT NULL, e.level DESC, t.status = 'locked' DESC, t.priority,
                            cu.tier = 'key' DESC, COALESCE(e.due_at, e.locked_at), e.ticket_id) AS urgency,
               e.acknowledged_at IS NULL AS waiting,
               e.level::integer AS level,
               COALESCE(e.role, 'service_manager') AS role,
               t.status = 'locked' AS locked,
               pg_catalog.concat_ws('; ',
                   CASE WHEN t.status = 'locked' THEN 'locked: ' || e.lock_reason END,
                   CASE WHEN e.level > 0 THEN pg_catalog.format('level %s: %s target missed', e.level, e.clock) END,
                   CASE WHEN oc.n > 0 THEN pg_catalog.format('complaints: %s open', oc.n) END) AS reason,
               t.status::text AS status, t.priority::text AS priority, cu.tier = 'key' AS key_customer,
               t.customer_id, cu.name AS customer, t.assignee_id, t.org_id,
               e.due_at,
               (EXTRACT(EPOCH FROM aftersales.now() - e.due_at) / 60)::numeric(14,1) AS overdue_minutes,
               e.escalated_at, e.locked_at,
               (SELECT pg_catalog.min(w.next_check) FROM aftersales.escalation_watches w
                 WHERE w.tenant_id = e.tenant_id AND w.ticket_id = e.ticket_id) AS next_check,
               e.acknowledged_at, e.acknowledged_by, e.note, e.alert_id,
               COALESCE(oc.n, 0) AS complaints
          FROM (SELECT x.tenant_id, x.ticket_id, x.level, x.clock, x.role, x.due_at, x.escalated_at, x.locked_at,
                       x.lock_reason, x.alert_id, x.acknowledged_at, x.acknowledged_by, x.note
                  FROM aftersales.ticket_escalations x
                 WHERE x.tenant_id = aftersales.current_tenant()
                UNION ALL
                SELECT DISTINCT c.tenant_id, c.ticket_id, 0::smallint, NULL::text, NULL::text, NULL::timestamptz,
                       NULL::timestamptz, NULL::timestamptz, NULL::text, NULL::bigint, NULL::timestamptz, NULL::text,
                       NULL::text
                  FROM aftersales.complaints c
                 WHERE c.tenant_id = aftersales.current_tenant() AND c.ticket_id IS NOT NULL
                   AND c.state IN ('received', 'assigned', 'in_progress', 'escalated')
                   AND NOT EXISTS (SELECT FROM aftersales.ticket_escalations x
                                    WHERE x.tenant_id = c.tenant_id AND x.ticket_id = c.ticket_id)) e
          JOIN aftersales.tickets t ON t.tenant_id = e.tenant_id AND t.ticket_id = e.ticket_id
          JOIN aftersales.customers cu ON cu.tenant_id = t.tenant_id AND cu.customer_id = t.customer_id
          LEFT JOIN LATERAL (SELECT pg_catalog.count(*) AS n FROM aftersales.complaints c
                              WHERE c.tenant_id = t.tenant_id AND c.ticket_id = t.ticket_id
                                AND c.state IN ('received', 'assigned', 'in_progress', 'escalated')) oc ON true
         WHERE e.level > 0 OR e.locked_at IS NOT NULL
            OR t.status NOT IN ('resolved', 'closed', 'cancelled')) q
 ORDER BY q.urgency;
COMMENT ON VIEW aftersales.manager_queue IS
  'The service managers'' queue of the current tenant: open tickets that are locked, escalated or complained about (an open complaint), most urgent first (waiting before acknowledged, then higher level, locked, priority A first, key customers, longest overdue)';
COMMENT ON COLUMN aftersales.manager_queue.complaints IS 'Open complaints about the ticket (aftersales.complaints)';
COMMENT ON COLUMN aftersales.manager_queue.level IS 'Highest escalation level reached (1 supervisor, 2 service manager, 3 head of department); 0 when only locked or complained about';
COMMENT ON COLUMN aftersales.manager_queue.reason IS 'Why it is here: the lock''s reason, the SLA target missed, the open complaints';

-- ---------------------------------------------------------------------------
-- Grants (80_access.sql granted what existed before this module).
-- Complaints are received and handled by agents and managers; engineers
-- read them (they may be the ones complained about); analysts read the
-- KPI views and the columns behind them, not the complainant's name,
-- contact, words or the remedy.
GRANT SELECT ON aftersales.complaint_reasons, aftersales.complaint_targets, aftersales.complaints,
    aftersales.complaint_events, aftersales.complaint_facts, aftersales.kpi_complaints_monthly,
    aftersales.kpi_complaints_by_state, aftersales.kpi_complaints_by_source, aftersales.kpi_complaints_by_region,
    aftersales.kpi_complaints_by_reason, aftersales.kpi_complaints_by_model, aftersales.kpi_complaint_rate_by_model,
    aftersales.kpi_repeat_complainants, aftersales.complaint_queue
    TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer, aftersales_auditor;
GRANT SELECT ON aftersales.complaint_reasons, aftersales.complaint_targets, aftersales.complaint_facts,
    aftersales.kpi_complaints_monthly, aftersales.kpi_complaints_by_state, aftersales.kpi_complaints_by_source,
    aftersales.kpi_complaints_by_region, aftersales.kpi_complaints_by_reason, aftersales.kpi_complaints_by_model,
    aftersales.kpi_complaint_rate_by_model, aftersales.kpi_repeat_complainants, aftersales.complaint_queue
    TO aftersales_analyst;
GRANT SELECT (tenant_id, complaint_id, source, complainant_kind, customer_id, ticket_id, unit_id, model_id, engineer_id,
              org_id, reason_code, severity, handler, escalation_level, reject_count, received_at, acknowledge_due_at,
              resolve_due_at, acknowledged_at, resolved_at, confirmed_at, closed_at, withdrawn_at, state, event,
              event_at, event_seq)
    ON aftersales.complaints TO aftersales_analyst;
GRANT INSERT, UPDATE ON aftersales.complaints TO aftersales_admin, aftersales_manager, aftersales_agent;
GRANT INSERT, UPDATE, DELETE ON aftersales.complaint_reasons, aftersales.complaint_targets TO aftersales_admin;
GRANT EXECUTE ON FUNCTION aftersales_internal.complaint_event(bigint, text, timestamptz, text, text, text),
    aftersales_internal.complaint_error(text, text, text), aftersales_internal.cut(text)
    TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer;

-- Internal functions: triggers, or for the kinds granted above; none for
-- PUBLIC (90_privileges.sql does the same for every internal function; an
-- upgrade adds these after it).
REVOKE ALL ON FUNCTION aftersales_internal.complaint_stamps(), aftersales_internal.complaint_alert(),
    aftersales_internal.complaint_error(text, text, text), aftersales_internal.cut(text),
    aftersales_internal.complaint_event(bigint, text, timestamptz, text, text, text)
    FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- The complaint KPIs in the catalogue (shipped rows of tenant 1).
INSERT INTO aftersales.kpi_catalogue
       (tenant_id, code, category, name_en, name_zh, definition, formula, unit, target, target_direction, source, sort_order, customised)
SELECT 1, x.code, 'complaints', x.name_en, x.name_zh, x.definition, x.formula, x.unit, x.target, x.direction, x.source, x.ord, false
  FROM (VALUES
 ('complaints', 'Complaints', '投诉量',
  'Complaints received in the period (by the month received in the reporting zone), withdrawn ones included.',
  'count(complaints)', 'count', NULL::numeric, NULL::text, 'kpi_complaints_monthly', 1100),
 ('complaints_resolved', 'Resolved complaints', '已解决投诉',
  'Complaints of the period with a remedy recorded now: resolved (awaiting the complainant), confirmed or closed. 已解决: 已处理、已确认或已关闭。',
  'count(state IN (resolved, confirmed, closed))', 'count', NULL, NULL, 'kpi_complaints_monthly', 1110),
 ('complaints_in_progress', 'Complaints in progress', '处理中投诉',
  'Complaints of the period a handler (or the next level) has now: assigned, in progress or escalated. 处理中。',
  'count(state IN (assigned, in_progress, escalated))', 'count', NULL, NULL, 'kpi_complaints_monthly', 1120),
 ('complaints_unresolved', 'Unresolved complaints', '未解决投诉',
  'Complaints of the period nobody has taken yet (state received). 未解决: 尚未受理。',
  'count(state = received)', 'count', NULL, NULL, 'kpi_complaints_monthly', 1130),
 ('complaint_effective_rate', 'Effective handling rate', '投诉有效处理率',
  'Complaints the complainant confirmed (有效处理) over the complaints of the period with a remedy, withdrawn ones left out; a remedy rejected and redone counts once, by its final confirmation.',
  'count(confirmed_at IS NOT NULL) / count(resolved_at IS NOT NULL, not withdrawn)', 'ratio', NULL, NULL,
  'kpi_complaints_monthly (effective_rate in kpi_complaints_by_source and kpi_complaints_by_region)', 1140),
 ('avg_acknowledge_minutes', 'Mean time to acknowledge a complaint', '投诉平均受理时长',
  'Mean wall-clock minutes from receipt to the first handler (assign or take), over the complaints acknowledged.',
  'avg(acknowledged_at - received_at)', 'minutes', NULL, NULL, 'kpi_complaints_monthly', 1150),
 ('avg_resolve_minutes', 'Mean time to resolve a complaint', '投诉平均解决时长',
  'Mean wall-clock minutes from receipt to the latest remedy, over the complaints with one.',
  'avg(resolved_at - received_at)', 'minutes', NULL, NULL, 'kpi_complaints_monthly', 1160),
 ('acknowledge_on_time_rate', 'Complaints acknowledged on time', '投诉及时受理率',
  'Complaints taken by their acknowledge due time (complaint_targets, business time on the target''s calendar), over those judged: taken, or still not taken past the due time now.',
  'count(acknowledged_at <= acknowledge_due_at) / count(judged)', 'ratio', NULL, NULL, 'kpi_complaints_monthly', 1170),
 ('resolve_on_time_rate', 'Complaints resolved on time', '投诉及时解决率',
  'Complaints with a remedy by their resolve due time, over those judged: resolved, or still without a remedy past the due time now.',
  'count(resolved_at <= resolve_due_at) / count(judged)', 'ratio', NULL, NULL, 'kpi_complaints_monthly', 1180),
 ('complaints_per_100_tickets', 'Complaint rate (per 100 tickets)', '投诉率(每百工单)',
  'Complaints received in the month per 100 tickets entered in the same month.',
  '100 * complaints / tickets', 'count', NULL, NULL, 'kpi_complaints_monthly', 1190),
 ('complaints_per_1000_units', 'Complaint rate (per 1,000 installed units)', '投诉率(每千台)',
  'Complaints naming a product model (not withdrawn, all time) per 1,000 installed units of the model.',
  '1000 * complaints / installed units', 'count', NULL, NULL, 'kpi_complaint_rate_by_model', 1200),
 ('repeat_complaints', 'Repeat complaints', '重复投诉',
  'Complaints of the period from a customer who had complained before; kpi_repeat_complainants lists the customers with two complaints or more.',
  'count(complaints with an earlier complaint of the same customer)', 'count', NULL, NULL, 'kpi_complaints_monthly, kpi_repeat_complainants', 1210)
) AS x (code, name_en, name_zh, definition, formula, unit, target, direction, source, ord);

-- Who may fire the complaint machine's events: agents and managers handle
-- complaints, admins everything; engineers and analysts none.
INSERT INTO aftersales.event_rights (kind, event, own_tickets_only)
SELECT k, 'complaint.' || e, false
  FROM pg_catalog.unnest(ARRAY['admin', 'manager', 'agent']) k,
       pg_catalog.unnest(ARRAY['receive', 'assign', 'take', 'start', 'resolve', 'confirm', 'reject', 'close', 'escalate',
                               'withdraw', 'edit']) e;
