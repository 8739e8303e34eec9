
-- aftersales install script, part 60: views for BI tools.
--
-- What FineBI, Superset, Metabase, Tableau or Excel read.  Every view:
--   * is security_invoker, so the reader's own privileges (and row-level
--     security, when a deployment adds it) apply;
--   * shows the current tenant (aftersales.current_tenant()) as of
--     aftersales.now(), with periods cut in the session's TimeZone (set it
--     in the BI tool's connection, e.g. TimeZone = 'Asia/Shanghai');
--   * has plain types only: text, bigint, integer, numeric (durations in
--     minutes, ages in hours, rates from 0 to 1), boolean, date,
--     timestamptz: never an interval, an enum or a type of this extension;
--   * has a comment on itself and on every column (the block at the end
--     writes the column comments from one dictionary and from the KPI
--     catalogue, and refuses to install a column without one).
-- The views cover all history; for a range, a past instant or another
-- dimension, call the functions (kpi_service, kpi_backlog ...) directly.

CREATE VIEW aftersales.kpi_definitions WITH (security_invoker = true) AS
SELECT aftersales.current_tenant() AS tenant_id, k.code, k.category, k.name_en, k.name_zh, k.definition,
       k.formula, k.unit, k.target, k.target_direction, k.source, k.sort_order,
       k.tenant_id AS defined_by_tenant
  FROM aftersales.kpi_catalogue k
 WHERE k.tenant_id = aftersales.current_tenant()
    OR (k.tenant_id = 1
        AND NOT EXISTS (SELECT FROM aftersales.kpi_catalogue o
                         WHERE o.tenant_id = aftersales.current_tenant() AND o.code = k.code));
COMMENT ON VIEW aftersales.kpi_definitions IS
  'The KPI catalogue of the current tenant: its own rows, else tenant 1''s (code, names in English and Chinese, definition, formula, unit, target)';

CREATE VIEW aftersales.kpi_settings_current WITH (security_invoker = true) AS
SELECT aftersales.current_tenant() AS tenant_id, s.name, s.value, s.unit, s.description,
       s.tenant_id AS defined_by_tenant
  FROM aftersales.kpi_settings s
 WHERE s.tenant_id = aftersales.current_tenant()
    OR (s.tenant_id = 1
        AND NOT EXISTS (SELECT FROM aftersales.kpi_settings o
                         WHERE o.tenant_id = aftersales.current_tenant() AND o.name = s.name));
COMMENT ON VIEW aftersales.kpi_settings_current IS
  'The KPI settings (thresholds) of the current tenant: its own, else tenant 1''s';

CREATE VIEW aftersales.kpi_facts WITH (security_invoker = true) AS
SELECT f.*
  FROM aftersales.kpi_ticket_facts('-infinity', 'infinity', aftersales.now(), aftersales.current_tenant()) f;
COMMENT ON VIEW aftersales.kpi_facts IS
  'One row per ticket of the current tenant with its dimensions and every per-ticket KPI judgement, as of now: flags are 1, 0 or NULL (not judged), so avg(flag) is the rate; the base for any KPI a BI tool wants to slice itself';

CREATE VIEW aftersales.kpi_service_monthly WITH (security_invoker = true) AS
SELECT s.period_start AS month, s.tickets, s.cancelled, s.resolved, s.closed, s.unresolved,
       s.response_rate, s.arrival_rate, s.completion_rate, s.on_time_completion_rate,
       s.sla_first_response_rate, s.sla_arrival_rate, s.sla_resolution_rate,
       s.avg_first_response_minutes, s.avg_first_response_business_minutes,
       s.avg_resolution_minutes, s.avg_resolution_business_minutes, s.mttr_minutes, s.mttr_business_minutes,
       s.first_time_fix_rate, s.closed_loop_rate, s.repeat_problem_rate, s.reopen_rate,
       s.csat_avg, s.csat_good_share, s.nps, s.csat_responses, s.nps_responses
  FROM aftersales.kpi_service('month', 'all', '-infinity', 'infinity', aftersales.now(),
                              pg_catalog.current_setting('TimeZone'), aftersales.current_tenant()) s;
COMMENT ON VIEW aftersales.kpi_service_monthly IS
  'Service KPIs of the current tenant by month of entry, as of now';

CREATE VIEW aftersales.kpi_service_monthly_by_region WITH (security_invoker = true) AS
SELECT s.period_start AS month, s.dim_key AS region, s.tickets, s.cancelled, s.resolved, s.closed, s.unresolved,
       s.response_rate, s.arrival_rate, s.completion_rate, s.on_time_completion_rate,
       s.sla_first_response_rate, s.sla_arrival_rate, s.sla_resolution_rate,
       s.avg_first_response_minutes, s.avg_first_response_business_minutes,
       s.avg_resolution_minutes, s.avg_resolution_business_minutes, s.mttr_minutes, s.mttr_business_minutes,
       s.first_time_fix_rate, s.closed_loop_rate, s.repeat_problem_rate, s.reopen_rate,
       s.csat_avg, s.csat_good_share, s.nps, s.csat_responses, s.nps_responses
  FROM aftersales.kpi_service('month', 'region', '-infinity', 'infinity', aftersales.now(),
                              pg_catalog.current_setting('TimeZone'), aftersales.current_tenant()) s;
COMMENT ON VIEW aftersales.kpi_service_monthly_by_region IS
  'Service KPIs of the current tenant by month of entry and region, as of now';

CREATE VIEW aftersales.kpi_service_monthly_by_org_type WITH (security_invoker = true) AS
SELECT s.period_start AS month, s.dim_key AS org_type, s.dim_name AS org_type_name,
       s.tickets, s.cancelled, s.resolved, s.closed, s.unresolved,
       s.response_rate, s.arrival_rate, s.completion_rate, s.on_time_completion_rate,
       s.sla_first_response_rate, s.sla_arrival_rate, s.sla_resolution_rate,
       s.avg_first_response_minutes, s.avg_first_response_business_minutes,
       s.avg_resolution_minutes, s.avg_resolution_business_minutes, s.mttr_minutes, s.mttr_business_minutes,
       s.first_time_fix_rate, s.closed_loop_rate, s.repeat_problem_rate, s.reopen_rate,
       s.csat_avg, s.csat_good_share, s.nps, s.csat_responses, s.nps_responses
  FROM aftersales.kpi_service('month', 'organisation_type', '-infinity', 'infinity', aftersales.now(),
                              pg_catalog.current_setting('TimeZone'), aftersales.current_tenant()) s;
COMMENT ON VIEW aftersales.kpi_service_monthly_by_org_type IS
  'Service KPIs of the current tenant by month of entry and organisation type (代表处, 经销商, 供应商), as of now';

CREATE VIEW aftersales.kpi_open_tickets WITH (security_invoker = true) AS
SELECT b.ticket_id, b.status, b.priority, b.opened_at, b.age_hours, t.region, t.province, t.org_id,
       t.org_name, t.org_type, b.engineer_id, e.name AS engineer_name, t.customer_tier, t.model_name,
       t.problem_name, t.channel, t.field
  FROM aftersales.backlog_as_of(aftersales.now(), aftersales.current_tenant()) b
  JOIN aftersales._kpi_ticket_dims t ON t.tenant_id = b.tenant_id AND t.ticket_id = b.ticket_id
  LEFT JOIN aftersales.engineers e ON e.tenant_id = b.tenant_id AND e.engineer_id = b.engineer_id;
COMMENT ON VIEW aftersales.kpi_open_tickets IS
  'The open (unresolved) tickets of the current tenant now, with their age: the detail list behind the backlog';

CREATE VIEW aftersales.kpi_backlog_by_org_type WITH (security_invoker = true) AS
SELECT b.dim_key AS org_type, b.dim_name AS org_type_name, b.open_tickets, b.unassigned, b.on_hold, b.in_work,
       b.over_24h, b.over_48h, b.over_72h, b.over_96h, b.over_120h, b.avg_age_hours, b.max_age_hours
  FROM aftersales.kpi_backlog('organisation_type', aftersales.now(), aftersales.current_tenant()) b;
COMMENT ON VIEW aftersales.kpi_backlog_by_org_type IS
  'Open tickets of the current tenant now by organisation type, by state and age bucket (over 24 to 120 hours, cumulative)';

CREATE VIEW aftersales.kpi_backlog_by_organisation WITH (security_invoker = true) AS
SELECT b.dim_key::bigint AS org_id, b.dim_name AS org_name, o.org_type, b.open_tickets, b.unassigned,
       b.on_hold, b.in_work, b.over_24h, b.over_48h, b.over_72h, b.over_96h, b.over_120h,
       b.avg_age_hours, b.max_age_hours
  FROM aftersales.kpi_backlog('organisation', aftersales.now(), aftersales.current_tenant()) b
  LEFT JOIN aftersales.organisations o
    ON o.tenant_id = aftersales.current_tenant() AND o.org_id = b.dim_key::bigint;
COMMENT ON VIEW aftersales.kpi_backlog_by_organisation IS
  'Open tickets of the current tenant now by organisation, by state and age bucket (over 24 to 120 hours, cumulative)';

CREATE VIEW aftersales.kpi_holdings WITH (security_invoker = true) AS
SELECT h.engineer_id, h.engineer_name, h.org_id, h.org_name, h.org_type, h.region, h.capacity, h.on_duty,
       h.active, h.holdings, h.assigned, h.in_progress, h.on_site, h.on_hold, h.load_ratio, h.max_age_hours
  FROM aftersales.kpi_engineer_holdings(aftersales.now(), aftersales.current_tenant()) h;
COMMENT ON VIEW aftersales.kpi_holdings IS
  'Open tickets held now per engineer of the current tenant (保有量), against capacity';

CREATE VIEW aftersales.kpi_failures_monthly WITH (security_invoker = true) AS
SELECT d.dimension, f.period_start AS month, f.dim_key, f.dim_name, f.failures, f.early_failures,
       f.in_warranty_failures, f.out_of_warranty_failures, f.warranty_unknown, f.rank
  FROM (VALUES ('region'), ('province'), ('product_model'), ('problem_type')) AS d (dimension)
 CROSS JOIN LATERAL aftersales.kpi_failures('month', d.dimension, '-infinity', 'infinity',
                                            pg_catalog.current_setting('TimeZone'),
                                            aftersales.current_tenant()) f;
COMMENT ON VIEW aftersales.kpi_failures_monthly IS
  'Failures of the current tenant by month of entry and by region, province, product model and problem (fault) type (column dimension says which), with warranty classes and rank within the month (rank <= 5 for the top 5)';

CREATE VIEW aftersales.kpi_durations_monthly WITH (security_invoker = true) AS
SELECT d.period_start AS month, d.measure, d.clock, d.n, d.mean_minutes, d.p50_minutes, d.p90_minutes,
       d.p95_minutes, d.max_minutes
  FROM aftersales.kpi_durations('month', 'all', '-infinity', 'infinity', aftersales.now(),
                                pg_catalog.current_setting('TimeZone'), aftersales.current_tenant()) d;
COMMENT ON VIEW aftersales.kpi_durations_monthly IS
  'Distributions of first response, arrival, resolution, repair and handling times of the current tenant by month of entry: count, mean, median, p90, p95 (within 0.5%) and maximum, in wall-clock and business minutes';

CREATE VIEW aftersales.kpi_warranty_monthly WITH (security_invoker = true) AS
SELECT w.period_start AS month, w.failures, w.early_failures, w.early_failure_warning, w.early_failure_alert,
       w.in_warranty_failures, w.in_warranty_warning, w.in_warranty_alert,
       w.out_of_warranty_failures, w.out_of_warranty_warning, w.out_of_warranty_alert, w.warranty_unknown
  FROM aftersales.kpi_warranty_trend('month', '-infinity', 'infinity', pg_catalog.current_setting('TimeZone'),
                                     aftersales.current_tenant()) w
 WHERE w.failures > 0;
COMMENT ON VIEW aftersales.kpi_warranty_monthly IS
  'Early, in-warranty and out-of-warranty failures of the current tenant by month of entry, against the warning lines (400, 600, 600)';

CREATE VIEW aftersales.kpi_staff_monthly WITH (security_invoker = true) AS
SELECT s.period_start AS month, s.engineer_id, s.engineer_name, s.org_id, s.org_name, s.org_type, s.tickets,
       s.resolved, s.unresolved, s.avg_handling_minutes, s.avg_handling_business_minutes,
       s.total_handling_minutes, s.first_time_fix_rate, s.csat_avg
  FROM aftersales.kpi_staff('month', '-infinity', 'infinity', aftersales.now(),
                            pg_catalog.current_setting('TimeZone'), aftersales.current_tenant()) s;
COMMENT ON VIEW aftersales.kpi_staff_monthly IS
  'Per engineer of the current tenant and month of entry: tickets, handling time, first-time fix, CSAT';

CREATE VIEW aftersales.kpi_dispatch_monthly_by_org_type WITH (security_invoker = true) AS
SELECT d.period_start AS month, d.dim_key AS org_type, d.dim_name AS org_type_name, d.dispatches, d.tickets,
       d.assigns, d.reassigns, d.take_overs
  FROM aftersales.kpi_dispatch('month', 'organisation_type', '-infinity', 'infinity',
                               pg_catalog.current_setting('TimeZone'), aftersales.current_tenant()) d;
COMMENT ON VIEW aftersales.kpi_dispatch_monthly_by_org_type IS
  'Dispatch volume (派工量) of the current tenant by month of the dispatch and organisation type of the ticket';

-- Column comments: from the dictionary below, else from the catalogue (a
-- column named like a KPI code gets the KPI''s names and definition).
DO $$
DECLARE
    r record;
    missing text[] := '{}';
BEGIN
    FOR r IN
        WITH kpi_column_dictionary (view_name, column_name, comment) AS (VALUES
     (NULL, 'tenant_id', 'Tenant'),
     (NULL, 'tenant_name', 'Tenant name'),
     (NULL, 'defined_by_tenant', 'Tenant whose row applies: the current tenant''s own, or 1 (the shipped default)'),
     (NULL, 'code', 'KPI code: the column name under which functions and views return it'),
     (NULL, 'category', 'service, backlog, quality or staff'),
     (NULL, 'name_en', 'Name in English'),
     (NULL, 'name_zh', 'Name in Chinese'),
     (NULL, 'definition', 'Precise definition'),
     (NULL, 'formula', 'Formula'),
     (NULL, 'unit', 'Unit'),
     (NULL, 'target', 'Default target, in unit; NULL when none is shipped'),
     (NULL, 'target_direction', '>= when higher is better, <= when lower is better'),
     (NULL, 'source', 'Functions returning the KPI'),
     (NULL, 'sort_order', 'Display order'),
     (NULL, 'name', 'Setting name'),
     (NULL, 'value', 'Value, in unit'),
     (NULL, 'description', 'What the setting decides'),
     (NULL, 'month', 'First day of the month (in the session''s TimeZone)'),
     (NULL, 'ticket_id', 'Ticket id'),
     (NULL, 'opened_at', 'When the ticket was entered'),
     (NULL, 'status', 'State of the ticket (new, on_hold, assigned, in_progress, on_site, locked, resolved, closed, cancelled)'),
     (NULL, 'priority', 'Priority: A (urgent), B or C'),
     (NULL, 'channel', 'Channel of the request: phone, web, app, wechat, email, walk_in, field, other'),
     (NULL, 'field', 'Whether the ticket needs on-site service'),
     (NULL, 'customer_tier', 'Customer tier: key (重点客户), major or standard'),
     (NULL, 'region', 'Region (华东, 华北, 东北, 中南, 西北, 西南): the customer''s, else the organisation''s'),
     (NULL, 'province', 'Province: the customer''s, else the organisation''s'),
     (NULL, 'org_id', 'Organisation id'),
     (NULL, 'org_name', 'Organisation name'),
     (NULL, 'org_type', 'Organisation type: headquarters, representative_office, dealer or supplier'),
     (NULL, 'org_type_name', 'Organisation type in Chinese: 总部, 代表处, 经销商, 供应商'),
     (NULL, 'unit_id', 'Installed unit, when the ticket names one'),
     (NULL, 'model_id', 'Product model id'),
     (NULL, 'model_name', 'Product model name'),
     (NULL, 'problem_type_id', 'Problem (fault) type id'),
     (NULL, 'problem_name', 'Problem (fault) type name'),
     (NULL, 'engineer_id', 'Engineer id'),
     (NULL, 'engineer_name', 'Engineer name'),
     ('kpi_facts', 'engineer_id', 'Engineer holding the ticket now; for a resolved or closed ticket, the one who resolved it'),
     ('kpi_facts', 'org_id', 'Organisation: the ticket''s handling organisation, else the customer''s'),
     ('kpi_facts', 'cancelled', '1 when the ticket is cancelled (then no KPI judges it), else 0'),
     (NULL, 'cancelled', 'Tickets cancelled (not judged by any KPI)'),
     (NULL, 'tickets', 'Tickets entered (including cancelled)'),
     (NULL, 'resolved', 'Tickets resolved (finally; not cancelled)'),
     (NULL, 'closed', 'Tickets closed (satisfied follow-up)'),
     (NULL, 'unresolved', 'Tickets neither resolved, closed nor cancelled'),
     (NULL, 'csat_responses', 'Tickets whose latest follow-up has a CSAT score'),
     (NULL, 'nps_responses', 'Tickets whose latest follow-up has an NPS score'),
     ('kpi_facts', 'response_minutes', 'Minutes from entry to the first response (wall clock)'),
     ('kpi_facts', 'response_business_minutes', 'Minutes of business time (calendar of the ticket''s SLA policy) from entry to the first response'),
     ('kpi_facts', 'responded_in_target', '1: first response within the response target (setting response_target_minutes); 0: not; NULL: not judged yet (or on hold, or cancelled)'),
     ('kpi_facts', 'arrival_minutes', 'Minutes from entry to the first arrival on site (wall clock)'),
     ('kpi_facts', 'arrival_business_minutes', 'Minutes of business time from entry to the first arrival on site'),
     ('kpi_facts', 'arrived_in_target', '1: a field ticket arrived within the arrival target (setting arrival_target_hours); 0: not; NULL: not a field ticket, not judged yet, or resolved without a visit'),
     ('kpi_facts', 'resolution_minutes', 'Minutes from entry to the final resolution (wall clock, holds included)'),
     ('kpi_facts', 'resolution_business_minutes', 'Minutes of business time from entry to the final resolution'),
     ('kpi_facts', 'completed_in_target', '1: finally resolved within the completion target (setting completion_target_hours); 0: not; NULL: not judged yet'),
     ('kpi_facts', 'repair_minutes', 'Minutes from the first response to the final resolution (the repair, for MTTR)'),
     ('kpi_facts', 'repair_business_minutes', 'Minutes of business time from the first response to the final resolution'),
     ('kpi_facts', 'handling_minutes', 'Minutes from the assignment to the current engineer to the final resolution'),
     ('kpi_facts', 'handling_business_minutes', 'Minutes of business time from the assignment to the current engineer to the final resolution'),
     ('kpi_facts', 'promised_at', 'Promised completion: the customer-requested date, else the resolution SLA clock''s due time'),
     ('kpi_facts', 'completed_on_time', '1: finally resolved by promised_at; 0: not; NULL: not judged yet'),
     ('kpi_facts', 'sla_first_response', 'First-response SLA clock: met, breached, cancelled, running; NULL without a clock'),
     ('kpi_facts', 'sla_arrival', 'Arrival SLA clock (field tickets): met, breached, cancelled, running; NULL without a clock'),
     ('kpi_facts', 'sla_resolution', 'Resolution SLA clock: met, breached, cancelled, running; NULL without a clock'),
     ('kpi_facts', 'first_time_fix', '1: resolved at least once with no failed attempt, no reopen and at most one arrival on site; 0: resolved but not first time; NULL: never resolved'),
     ('kpi_facts', 'closed_loop', '1: resolved at least once and closed now; 0: resolved at least once and not closed; NULL: never resolved'),
     ('kpi_facts', 'reopened', '1: resolved at least once and reopened since (unsatisfied follow-up or reopen); 0: not; NULL: never resolved'),
     ('kpi_facts', 'repeat_problem', '1: the unit had a ticket of the same problem type entered at most repeat_window_days before; 0: not; NULL: no unit'),
     ('kpi_facts', 'csat_score', 'CSAT score of the latest follow-up, 1 to 5'),
     ('kpi_facts', 'csat_good', '1: CSAT at least csat_good_min (4); 0: below; NULL: no score'),
     ('kpi_facts', 'nps_score', 'NPS score (likelihood to recommend) of the latest follow-up, 0 to 10'),
     ('kpi_facts', 'nps_promoter', '1: NPS score 9 or 10; 0: otherwise; NULL: no score'),
     ('kpi_facts', 'nps_detractor', '1: NPS score 0 to 6; 0: otherwise; NULL: no score'),
     (NULL, 'age_hours', 'Hours since entry'),
     (NULL, 'open_tickets', 'Open (unresolved) tickets'),
     (NULL, 'unassigned', 'Open tickets without an engineer (new or locked)'),
     (NULL, 'on_hold', 'Open tickets on hold (waiting on the customer)'),
     (NULL, 'in_work', 'Open tickets with an engineer (assigned, in_progress, on_site)'),
     (NULL, 'over_24h', 'Open tickets entered more than 24 hours ago (超24小时; includes the older buckets)'),
     (NULL, 'over_48h', 'Open tickets entered more than 48 hours ago (超48小时)'),
     (NULL, 'over_72h', 'Open tickets entered more than 72 hours ago (超72小时)'),
     (NULL, 'over_96h', 'Open tickets entered more than 96 hours ago (超96小时)'),
     (NULL, 'over_120h', 'Open tickets entered more than 120 hours ago (超120小时)'),
     (NULL, 'avg_age_hours', 'Mean age of the open tickets, hours'),
     (NULL, 'max_age_hours', 'Age of the oldest open ticket, hours'),
     (NULL, 'capacity', 'How many open tickets the engineer can hold'),
     (NULL, 'on_duty', 'Whether the engineer is on duty now'),
     (NULL, 'active', 'False once the engineer has left'),
     (NULL, 'assigned', 'Held tickets assigned, not started'),
     (NULL, 'in_progress', 'Held tickets in progress'),
     (NULL, 'on_site', 'Held tickets with the engineer on site'),
     ('kpi_holdings', 'on_hold', 'Held tickets on hold'),
     ('kpi_holdings', 'region', 'Region the engineer covers'),
     ('kpi_holdings', 'org_id', 'Organisation the engineer works for'),
     (NULL, 'load_ratio', 'holdings / capacity'),
     (NULL, 'dimension', 'Which dimension dim_key and dim_name are values of: region, province, product_model or problem_type'),
     (NULL, 'dim_key', 'Value of the dimension: the region or province, or the id of the model or problem type'),
     (NULL, 'dim_name', 'Label of the dimension value'),
     (NULL, 'warranty_unknown', 'Failures whose warranty class is unknown (no unit, or no installation or warranty date)'),
     (NULL, 'rank', 'Rank within the month by failures (1: most; ties by key)'),
     (NULL, 'early_failure_warning', 'Warning line for early failures (setting early_failure_warning)'),
     (NULL, 'early_failure_alert', '1 when early failures reached the warning line, else 0'),
     (NULL, 'in_warranty_warning', 'Warning line for in-warranty failures (setting in_warranty_warning)'),
     (NULL, 'in_warranty_alert', '1 when in-warranty failures reached the warning line, else 0'),
     (NULL, 'out_of_warranty_warning', 'Warning line for out-of-warranty failures (setting out_of_warranty_warning)'),
     (NULL, 'out_of_warranty_alert', '1 when out-of-warranty failures reached the warning line, else 0'),
     ('kpi_staff_monthly', 'tickets', 'Tickets entered in the month that the engineer holds or resolved (not cancelled)'),
     ('kpi_staff_monthly', 'resolved', 'Of them, resolved'),
     ('kpi_staff_monthly', 'unresolved', 'Of them, not yet resolved'),
     ('kpi_staff_monthly', 'avg_handling_business_minutes', 'As avg_handling_minutes, in business time on the calendar of the ticket''s SLA policy'),
     ('kpi_staff_monthly', 'total_handling_minutes', 'Sum of handling minutes of the resolved tickets'),
     ('kpi_staff_monthly', 'org_id', 'Organisation the engineer works for'),
     ('kpi_dispatch_monthly_by_org_type', 'month', 'First day of the month of the dispatch (in the session''s TimeZone)'),
     ('kpi_dispatch_monthly_by_org_type', 'tickets', 'Distinct tickets dispatched'),
     (NULL, 'assigns', 'Dispatches by assign (from awaiting assignment)'),
     (NULL, 'reassigns', 'Dispatches by reassign (to another engineer)'),
     (NULL, 'take_overs', 'Dispatches by take_over (the service manager, from locked)'),
     (NULL, 'measure', 'Which duration: first_response (entry to first response), arrival (entry to first arrival on site), resolution (entry to final resolution), repair (first response to final resolution), handling (assignment to the current engineer to final resolution)'),
     (NULL, 'clock', 'wall: wall-clock minutes; business: business minutes on the calendar of the ticket''s SLA policy'),
     (NULL, 'n', 'Tickets with this duration (not cancelled)'),
     (NULL, 'mean_minutes', 'Mean, minutes'),
     (NULL, 'p50_minutes', 'Median, minutes (within 0.5%)'),
     (NULL, 'p90_minutes', '90th percentile, minutes (within 0.5%)'),
     (NULL, 'p95_minutes', '95th percentile, minutes (within 0.5%)'),
     (NULL, 'max_minutes', 'Maximum, minutes'))
        SELECT c.relname, a.attname,
               COALESCE((SELECT d.comment FROM kpi_column_dictionary d
                          WHERE d.column_name = a.attname AND (d.view_name = c.relname OR d.view_name IS NULL)
                          ORDER BY d.view_name NULLS LAST LIMIT 1),
                        (SELECT k.name_en || ' (' || k.name_zh || '), ' || k.unit || ': ' || k.definition
                           FROM aftersales.kpi_catalogue k WHERE k.tenant_id = 1 AND k.code = a.attname),
                        (SELECT k.name_en || ' (' || k.name_zh || '), ' || k.unit || ': ' || k.definition
                           FROM aftersales.kpi_catalogue k WHERE k.tenant_id = 1 AND 'backlog_' || a.attname = k.code)) AS comment
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE n.nspname = 'aftersales' AND c.relkind = 'v' AND c.relname LIKE 'kpi\_%'
           AND pg_catalog.col_description(c.oid, a.attnum) IS NULL
    LOOP
        IF r.comment IS NULL THEN
            missing := missing || (r.relname || '.' || r.attname);
        ELSE
            EXECUTE pg_catalog.format('COMMENT ON COLUMN aftersales.%I.%I IS %L', r.relname, r.attname, r.comment);
        END IF;
    END LOOP;
    IF missing <> '{}' THEN
        RAISE EXCEPTION 'view columns without a comment: %', pg_catalog.array_to_string(missing, ', ');
    END IF;
END
$$;
