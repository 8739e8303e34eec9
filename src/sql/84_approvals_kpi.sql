
-- aftersales install script, part 84 (continued): the process board's
-- KPIs (流程中心), plain-typed views of the current tenant.  A month is
-- the month of submission in the reporting zone; an approval is delayed
-- when decided after its due time, or still pending past it as of now;
-- withdrawn approvals are left out of the rates.

CREATE VIEW aftersales.approval_facts WITH (security_invoker = true) AS
SELECT a.tenant_id, a.approval_id, a.kind::text AS kind,
       pg_catalog.date_trunc('month', a.submitted_at AT TIME ZONE (SELECT aftersales.reporting_zone()))::date AS month,
       a.org_id, o.name AS org_name, d.code AS department, d.name AS department_name,
       fd.code AS from_department, a.state, a.submitted_at, a.due_at, a.decided_at,
       CASE WHEN a.state IN ('approved', 'rejected') THEN a.delayed
            WHEN a.state = 'submitted' THEN aftersales.now() > a.due_at END AS delayed,
       (EXTRACT(EPOCH FROM a.decided_at - a.submitted_at) / 60)::numeric(14,2) AS decision_minutes
  FROM aftersales.approvals a
  -- the approving department may lie outside the reader's scope (at HQ):
  -- the approval still counts, under no department name
  LEFT JOIN aftersales.departments d ON d.tenant_id = a.tenant_id AND d.department_id = a.department_id
  LEFT JOIN aftersales.departments fd ON fd.tenant_id = a.tenant_id AND fd.department_id = a.from_department_id
  JOIN aftersales.organisations o ON o.tenant_id = a.tenant_id AND o.org_id = a.org_id
 WHERE a.tenant_id = aftersales.current_tenant();
COMMENT ON VIEW aftersales.approval_facts IS
  'One row per approval of the current tenant with its month of submission, departments and whether it is delayed (decided after its due time, or pending past it as of now)';
COMMENT ON COLUMN aftersales.approval_facts.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.approval_facts.approval_id IS 'Approval';
COMMENT ON COLUMN aftersales.approval_facts.kind IS 'Kind';
COMMENT ON COLUMN aftersales.approval_facts.month IS 'First day of the month submitted (reporting zone)';
COMMENT ON COLUMN aftersales.approval_facts.org_id IS 'Requesting organisation';
COMMENT ON COLUMN aftersales.approval_facts.org_name IS 'Its name';
COMMENT ON COLUMN aftersales.approval_facts.department IS 'Approving department (code)';
COMMENT ON COLUMN aftersales.approval_facts.department_name IS 'Its name';
COMMENT ON COLUMN aftersales.approval_facts.from_department IS 'Requesting department (code), if any';
COMMENT ON COLUMN aftersales.approval_facts.state IS 'submitted, approved, rejected or withdrawn';
COMMENT ON COLUMN aftersales.approval_facts.submitted_at IS 'Submitted';
COMMENT ON COLUMN aftersales.approval_facts.due_at IS 'Decision due';
COMMENT ON COLUMN aftersales.approval_facts.decided_at IS 'Decided';
COMMENT ON COLUMN aftersales.approval_facts.delayed IS 'Decided late, or pending past due as of now; NULL when withdrawn or pending within time';
COMMENT ON COLUMN aftersales.approval_facts.decision_minutes IS 'Wall-clock minutes from submission to decision';

CREATE VIEW aftersales.kpi_approvals_monthly WITH (security_invoker = true) AS
SELECT f.month, f.department, f.department_name, f.kind,
       pg_catalog.count(*) FILTER (WHERE f.state <> 'withdrawn') AS submitted,
       pg_catalog.count(*) FILTER (WHERE f.state IN ('approved', 'rejected')) AS decided,
       pg_catalog.count(*) FILTER (WHERE f.state = 'approved') AS approved,
       pg_catalog.count(*) FILTER (WHERE f.state = 'rejected') AS rejected,
       pg_catalog.count(*) FILTER (WHERE f.state = 'submitted') AS pending,
       pg_catalog.count(*) FILTER (WHERE f.state = 'withdrawn') AS withdrawn,
       pg_catalog.count(*) FILTER (WHERE f.state IN ('approved', 'rejected') AND NOT f.delayed) AS approvals_on_time,
       pg_catalog.count(*) FILTER (WHERE f.delayed) AS approvals_delayed,
       (pg_catalog.count(*) FILTER (WHERE f.delayed)::numeric
        / NULLIF(pg_catalog.count(*) FILTER (WHERE f.delayed IS NOT NULL), 0))::numeric(5,4) AS approval_delay_rate,
       (pg_catalog.count(*) FILTER (WHERE f.state IN ('approved', 'rejected'))::numeric
        / NULLIF(pg_catalog.count(*) FILTER (WHERE f.state <> 'withdrawn'), 0))::numeric(5,4) AS approval_completion_rate,
       pg_catalog.avg(f.decision_minutes)::numeric(14,2) AS avg_decision_minutes
  FROM aftersales.approval_facts f
 GROUP BY f.month, f.department, f.department_name, f.kind;
COMMENT ON VIEW aftersales.kpi_approvals_monthly IS
  'Approvals of the current tenant by month submitted, approving department and kind: submitted (not withdrawn), decided, on time and delayed, the delay rate (delayed over those judged: decided, or pending past due) and the completion rate (decided over submitted); kind internal_request gives the internal requests (内联单) per department';
COMMENT ON COLUMN aftersales.kpi_approvals_monthly.month IS 'First day of the month submitted (reporting zone)';
COMMENT ON COLUMN aftersales.kpi_approvals_monthly.department IS 'Approving department (code)';
COMMENT ON COLUMN aftersales.kpi_approvals_monthly.department_name IS 'Its name';
COMMENT ON COLUMN aftersales.kpi_approvals_monthly.kind IS 'Kind of approval';
COMMENT ON COLUMN aftersales.kpi_approvals_monthly.submitted IS 'Submitted and not withdrawn';
COMMENT ON COLUMN aftersales.kpi_approvals_monthly.decided IS 'Approved or rejected';
COMMENT ON COLUMN aftersales.kpi_approvals_monthly.approved IS 'Approved';
COMMENT ON COLUMN aftersales.kpi_approvals_monthly.rejected IS 'Rejected';
COMMENT ON COLUMN aftersales.kpi_approvals_monthly.pending IS 'Still pending now';
COMMENT ON COLUMN aftersales.kpi_approvals_monthly.withdrawn IS 'Withdrawn';
COMMENT ON COLUMN aftersales.kpi_approvals_monthly.approvals_on_time IS 'Decided by the due time';
COMMENT ON COLUMN aftersales.kpi_approvals_monthly.approvals_delayed IS 'Decided after the due time, or pending past it now';
COMMENT ON COLUMN aftersales.kpi_approvals_monthly.approval_delay_rate IS 'approvals_delayed / (approvals_on_time + approvals_delayed)';
COMMENT ON COLUMN aftersales.kpi_approvals_monthly.approval_completion_rate IS 'decided / submitted';
COMMENT ON COLUMN aftersales.kpi_approvals_monthly.avg_decision_minutes IS 'Mean wall-clock minutes from submission to decision';

CREATE VIEW aftersales.kpi_approvals_pending_by_org WITH (security_invoker = true) AS
SELECT a.org_id, o.name AS org_name, o.org_type, o.region::text AS region,
       pg_catalog.count(*) AS approvals_pending,
       pg_catalog.count(*) FILTER (WHERE aftersales.now() > a.due_at) AS pending_delayed,
       (SELECT aftersales.approval_warning_line()) AS warning_line,
       pg_catalog.count(*) >= (SELECT aftersales.approval_warning_line()) AS over_line
  FROM aftersales.approvals a
  JOIN aftersales.organisations o ON o.tenant_id = a.tenant_id AND o.org_id = a.org_id
 WHERE a.tenant_id = aftersales.current_tenant() AND a.state = 'submitted'
 GROUP BY a.tenant_id, a.org_id, o.name, o.org_type, o.region;
COMMENT ON VIEW aftersales.kpi_approvals_pending_by_org IS
  'Pending approvals of the current tenant per requesting organisation now, against the warning line (aftersales.approval_warning_line(), default 20)';
COMMENT ON COLUMN aftersales.kpi_approvals_pending_by_org.org_id IS 'Organisation';
COMMENT ON COLUMN aftersales.kpi_approvals_pending_by_org.org_name IS 'Its name';
COMMENT ON COLUMN aftersales.kpi_approvals_pending_by_org.org_type IS 'Its type';
COMMENT ON COLUMN aftersales.kpi_approvals_pending_by_org.region IS 'Its region';
COMMENT ON COLUMN aftersales.kpi_approvals_pending_by_org.approvals_pending IS 'Pending approvals';
COMMENT ON COLUMN aftersales.kpi_approvals_pending_by_org.pending_delayed IS 'Of them, past their due time';
COMMENT ON COLUMN aftersales.kpi_approvals_pending_by_org.warning_line IS 'The tenant''s warning line';
COMMENT ON COLUMN aftersales.kpi_approvals_pending_by_org.over_line IS 'approvals_pending >= warning_line';

-- ---------------------------------------------------------------------------
-- Grants: any member submits and withdraws; decisions are checked against
-- the department; admins configure; the sweep keeps the warning line.
GRANT SELECT ON aftersales.departments, aftersales.department_members, aftersales.approval_targets,
    aftersales.approval_settings, aftersales.approvals, aftersales.approval_events, aftersales.approval_watches,
    aftersales.approval_alerts, aftersales.approval_facts, aftersales.kpi_approvals_monthly,
    aftersales.kpi_approvals_pending_by_org
    TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer, aftersales_auditor, aftersales_sweep;
GRANT SELECT ON aftersales.departments, aftersales.approval_targets, aftersales.approval_settings, aftersales.approvals,
    aftersales.approval_alerts, aftersales.approval_facts, aftersales.kpi_approvals_monthly,
    aftersales.kpi_approvals_pending_by_org
    TO aftersales_analyst;
GRANT INSERT, UPDATE ON aftersales.approvals TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer;
GRANT INSERT, UPDATE, DELETE ON aftersales.departments, aftersales.department_members, aftersales.approval_targets,
    aftersales.approval_settings TO aftersales_admin;
GRANT INSERT, UPDATE ON aftersales.approval_watches, aftersales.approval_alerts TO aftersales_admin, aftersales_manager, aftersales_sweep;
GRANT UPDATE (acknowledged_at, acknowledged_by) ON aftersales.approval_alerts TO aftersales_manager;
GRANT EXECUTE ON FUNCTION aftersales.sweep_approvals(timestamptz, bigint) TO aftersales_sweep;
GRANT EXECUTE ON FUNCTION aftersales_internal.approval_event(bigint, text, timestamptz, text)
    TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer;
REVOKE ALL ON FUNCTION aftersales.sweep_approvals(timestamptz, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aftersales.sweep_approvals(timestamptz, bigint) TO aftersales_admin, aftersales_manager;

-- Internal functions: triggers, or for the kinds granted above; none for
-- PUBLIC (90_privileges.sql does the same for every internal function; an
-- upgrade adds these after it).
GRANT EXECUTE ON FUNCTION aftersales_internal.approving_department(text)
    TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer;
REVOKE ALL ON FUNCTION aftersales_internal.approval_decision(), aftersales_internal.approval_event(bigint, text, timestamptz, text),
    aftersales_internal.approving_department(text)
    FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- The approval KPIs in the catalogue (shipped rows of tenant 1).
INSERT INTO aftersales.kpi_catalogue
       (tenant_id, code, category, name_en, name_zh, definition, formula, unit, target, target_direction, source, sort_order, customised)
SELECT 1, x.code, 'approvals', x.name_en, x.name_zh, x.definition, x.formula, x.unit, x.target, x.direction, x.source, x.ord, false
  FROM (VALUES
 ('approvals_on_time', 'Approvals on time', '审批及时条数',
  'Approvals of the period (by month submitted) approved or rejected by their due time (the target of the kind and department, business time on the department''s calendar).',
  'count(decided_at <= due_at)', 'count', NULL::numeric, NULL::text, 'kpi_approvals_monthly', 1400),
 ('approvals_delayed', 'Approvals delayed', '审批延误条数',
  'Approvals of the period decided after their due time, or still pending past it now.',
  'count(decided_at > due_at or pending past due_at)', 'count', NULL, NULL, 'kpi_approvals_monthly', 1410),
 ('approval_delay_rate', 'Approval delay rate', '审批延误率',
  'Delayed approvals over those judged (decided, or pending past due), per approving department and month; withdrawn ones are left out.',
  'delayed / (on_time + delayed)', 'ratio', NULL, NULL, 'kpi_approvals_monthly', 1420),
 ('approval_completion_rate', 'Approval completion rate', '审批完成率',
  'Approvals decided (approved or rejected) over approvals submitted and not withdrawn; for kind internal_request, the completion of internal requests (内联单) per department.',
  'decided / submitted', 'ratio', NULL, NULL, 'kpi_approvals_monthly', 1430),
 ('approvals_pending', 'Pending approvals per organisation', '各组织审批未处理条数',
  'Approvals still submitted now, per requesting organisation, against the warning line (default 20, aftersales.approval_warning_line()).',
  'count(state = submitted)', 'count', NULL, NULL, 'kpi_approvals_pending_by_org', 1440)
) AS x (code, name_en, name_zh, definition, formula, unit, target, direction, source, ord);

-- Any member who works may submit and withdraw; decisions are further held
-- to the approving department's members by the decision trigger.
INSERT INTO aftersales.event_rights (kind, event, own_tickets_only)
SELECT k, 'approval.' || e, false
  FROM pg_catalog.unnest(ARRAY['admin', 'manager', 'agent', 'engineer']) k,
       pg_catalog.unnest(ARRAY['submit', 'approve', 'reject', 'withdraw']) e;
