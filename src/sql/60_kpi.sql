
-- aftersales install script, part 60: KPIs, the foundations.
--
-- This file owns what every KPI shares:
--   kpi_settings      per-tenant thresholds (10-minute response, 4-hour
--                     arrival, 24-hour completion, repeat window, early
--                     failure, warning lines), read by kpi_setting();
--   kpi_catalogue     the KPI catalogue (code, names in English and Chinese,
--                     definition, formula, unit, default target);
--   kpi_check()      validation of period, dimension, range, zone, tenant;
--   _kpi_ticket_dims  a ticket with the labels of every dimension;
--   kpi_ticket_facts  one row per ticket with every per-ticket judgement
--                     (durations, in-target flags, first-time fix ...): the
--                     place where the service KPIs are defined (only
--                     kpi_headline restates the few it needs, for speed;
--                     a test holds the two equal).
-- The aggregations are in 60_kpi_service.sql, 60_kpi_backlog.sql and
-- 60_kpi_quality.sql; the views for BI tools in 60_kpi_views.sql.
--
-- Conventions of every KPI function:
--   * read-only and STABLE (they run on a hot standby); PARALLEL UNSAFE,
--     because kpi_check opens a subtransaction (its BEGIN ... EXCEPTION),
--     which no process may do while a parallel query runs (their own
--     queries still run in parallel); "now" is never read
--     inside: the instant at which unfinished tickets are judged is the
--     parameter as_of, whose default aftersales.now() is in the signature;
--   * tenant bigint DEFAULT aftersales.current_tenant(); NULL means every
--     tenant (for the dimension 'tenant');
--   * ranges are half-open [since, until) on the ticket's entry (opened_at):
--     every KPI of a period is about the tickets entered in it (a ticket
--     entered on 31 January and resolved in February is January's), except
--     dispatches, which are events and are dated by the event;
--   * periods (day, week, month, quarter, year, all) are cut in the time
--     zone zone, default (NULL) the tenant's reporting zone
--     (aftersales.reporting_zone()), never the session's TimeZone; a week
--     starts on Monday;
--   * durations are numeric minutes (hours for ages), rates are ratios from
--     0 to 1 (numeric, 4 decimals), never an interval or a custom type;
--   * plan_cache_mode is pinned to force_custom_plan: a static query's
--     generic plan (which plpgsql switches to after five calls in a
--     session) cannot see the range or the tenant and misestimates badly
--     (a pooled BI connection got 50 times slower); dynamic queries
--     (EXECUTE) are planned at each call anyway;
--   * search_path is pinned to pg_catalog, pg_temp, so unqualified
--     operators are pg_catalog's; every other name is schema-qualified.
--
-- Settings and catalogue: tenant 1 holds the shipped rows; any other tenant
-- holds only its overrides and falls back, key by key, to tenant 1's rows
-- (so a new tenant has the whole catalogue and every setting at once, and
-- a change to tenant 1's row is the new template).  Shipped rows are left
-- out of pg_dump while they are unchanged (customised = false); once
-- changed they are dumped, and on restore the INSERT of a row whose key a
-- shipped, unchanged row holds replaces that row (trigger shipped_row).

-- ---------------------------------------------------------------------------
-- Settings

CREATE TABLE aftersales.kpi_settings (
    tenant_id    bigint  NOT NULL DEFAULT aftersales.current_tenant()
                         REFERENCES aftersales.tenants,
    name         text    NOT NULL
                         CHECK (name IN ('response_target_minutes', 'arrival_target_hours', 'completion_target_hours',
                                         'repeat_window_days', 'early_failure_days', 'early_failure_warning',
                                         'in_warranty_warning', 'out_of_warranty_warning', 'csat_good_min')),
    value        numeric NOT NULL CHECK (value >= 0 AND value < 1000000),
    unit         text    NOT NULL,
    description  text,
    customised   boolean NOT NULL DEFAULT true,
    PRIMARY KEY (tenant_id, name)
);
COMMENT ON TABLE aftersales.kpi_settings IS
  'KPI thresholds per tenant; tenant 1 holds the shipped defaults, other tenants only their overrides (each setting falls back to tenant 1''s); read with aftersales.kpi_setting(), change with aftersales.set_kpi_setting()';
COMMENT ON COLUMN aftersales.kpi_settings.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.kpi_settings.name IS 'Setting name';
COMMENT ON COLUMN aftersales.kpi_settings.value IS 'Value, in unit';
COMMENT ON COLUMN aftersales.kpi_settings.unit IS 'Unit of the value: minutes, hours, days, units (tickets) or score';
COMMENT ON COLUMN aftersales.kpi_settings.description IS 'What the setting decides';
COMMENT ON COLUMN aftersales.kpi_settings.customised IS
  'False for a shipped row never changed (left out of pg_dump); set to true by any change';

INSERT INTO aftersales.kpi_settings (tenant_id, name, value, unit, description, customised) VALUES
 (1, 'response_target_minutes', 10, 'minutes',
  'Response rate: a first response within this many minutes of entry (wall clock) is in target (default 10 minutes)', false),
 (1, 'arrival_target_hours', 4, 'hours',
  'Arrival rate: a field ticket''s first arrival on site within this many hours of entry (wall clock) is in target (default 4 hours)', false),
 (1, 'completion_target_hours', 24, 'hours',
  'Completion rate: the final resolution within this many hours of entry (wall clock) is in target (default 24 hours)', false),
 (1, 'repeat_window_days', 30, 'days',
  'Repeat-problem rate: a ticket is a repeat when the same unit had a ticket of the same problem type entered at most this many days before', false),
 (1, 'early_failure_days', 90, 'days',
  'Early failure: a ticket entered at most this many days after its unit''s installation date', false),
 (1, 'early_failure_warning', 400, 'units',
  'Warning line for early failures per period (default 400 units a month)', false),
 (1, 'in_warranty_warning', 600, 'units',
  'Warning line for in-warranty failures per period (default 600 units a month)', false),
 (1, 'out_of_warranty_warning', 600, 'units',
  'Warning line for out-of-warranty failures per period (default 600 units a month)', false),
 (1, 'csat_good_min', 4, 'score',
  'CSAT good share: a score at or above this (1 to 5) counts as satisfied', false);

-- ---------------------------------------------------------------------------
-- What a problem type is: failure statistics count faults only, not the
-- tickets a service desk also logs for a consultation, a parameter setting
-- or an installation (set the kind of those problem types).

ALTER TABLE aftersales.problem_types
    ADD COLUMN kind text NOT NULL DEFAULT 'fault'
        CONSTRAINT problem_types_kind_check
        CHECK (kind IN ('fault', 'consultation', 'parameter_setting', 'installation'));
COMMENT ON COLUMN aftersales.problem_types.kind IS
  'fault (counted by the failure statistics: kpi_failures, kpi_warranty_trend), consultation, parameter_setting or installation (not failures)';

-- ---------------------------------------------------------------------------
-- Reporting zone: the time zone in which a tenant's periods (day, week,
-- month ...) are cut.  It belongs to the tenant, not to the client: a BI
-- tool's connection carries the zone of its JVM or its driver (pgjdbc
-- sends the JVM's at connect, overriding role settings; psycopg2 often
-- UTC), and a month must not move with it.  Without a row, a tenant
-- reports in Asia/Shanghai, the zone of the service organisations this
-- extension is built for (and of its sample calendars).

CREATE TABLE aftersales.reporting_zones (
    tenant_id  bigint NOT NULL PRIMARY KEY REFERENCES aftersales.tenants,
    zone       text   NOT NULL
               CONSTRAINT reporting_zones_zone_check
               CHECK (pg_catalog.timezone(zone, pg_catalog.timestamptz '2000-01-01 00:00+00') IS NOT NULL)
);
COMMENT ON TABLE aftersales.reporting_zones IS
  'Per tenant, the time zone in which KPI periods are cut (default Asia/Shanghai when a tenant has no row); set with aftersales.set_reporting_zone()';
COMMENT ON COLUMN aftersales.reporting_zones.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.reporting_zones.zone IS 'Time zone name, e.g. Asia/Shanghai';
SELECT pg_catalog.pg_extension_config_dump('aftersales.reporting_zones', '');

-- The reporting zone of a tenant; for tenant NULL (every tenant), the zone
-- they all share, else NULL.
CREATE FUNCTION aftersales.reporting_zone(tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN pg_catalog.count(DISTINCT z.zone) = 1 THEN pg_catalog.min(z.zone) END
  FROM (SELECT COALESCE(r.zone, 'Asia/Shanghai') AS zone
          FROM aftersales.tenants tn
          LEFT JOIN aftersales.reporting_zones r ON r.tenant_id = tn.tenant_id
         WHERE reporting_zone.tenant IS NULL OR tn.tenant_id = reporting_zone.tenant) z
$$;
COMMENT ON FUNCTION aftersales.reporting_zone(bigint) IS
  'The time zone in which the tenant''s KPI periods are cut (Asia/Shanghai unless set); for tenant NULL, the zone every tenant shares, else NULL';

CREATE FUNCTION aftersales.set_reporting_zone(zone text, tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF zone IS NULL OR NOT EXISTS (SELECT FROM pg_catalog.pg_timezone_names n WHERE n.name = set_reporting_zone.zone) THEN
        RAISE EXCEPTION 'unknown time zone: "%"', COALESCE(pg_catalog.left(zone, 64), 'NULL')
            USING ERRCODE = '22023',
                  DETAIL = 'The reporting zone is a full zone name, so that it follows daylight saving time.',
                  HINT = 'Use a name of pg_timezone_names, for example: SELECT aftersales.set_reporting_zone(''Asia/Shanghai'');';
    END IF;
    IF tenant IS NULL OR NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = set_reporting_zone.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', COALESCE(tenant::text, 'NULL')
            USING ERRCODE = 'P0002',
                  HINT = 'List the tenants with: SELECT tenant_id, name FROM aftersales.tenants;';
    END IF;
    INSERT INTO aftersales.reporting_zones AS r (tenant_id, zone) VALUES (tenant, zone)
    ON CONFLICT (tenant_id) DO UPDATE SET zone = excluded.zone;
    RETURN zone;
END
$$;
COMMENT ON FUNCTION aftersales.set_reporting_zone(text, bigint) IS
  'Set the time zone in which a tenant''s KPI periods are cut (upsert); returns it';

-- ---------------------------------------------------------------------------
-- The catalogue

CREATE TABLE aftersales.kpi_catalogue (
    tenant_id         bigint  NOT NULL DEFAULT aftersales.current_tenant()
                              REFERENCES aftersales.tenants,
    code              text    NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{0,62}$'),
    category          text    NOT NULL CHECK (category IN ('service', 'backlog', 'quality', 'staff', 'parts', 'cost',
                                                           'complaints', 'surveys', 'approvals', 'dispatch',
                                                           'workforce', 'knowledge')),
    name_en           text    NOT NULL CHECK (name_en <> ''),
    name_zh           text    NOT NULL CHECK (name_zh <> ''),
    definition        text    NOT NULL,
    formula           text    NOT NULL,
    unit              text    NOT NULL CHECK (unit IN ('ratio', 'minutes', 'hours', 'days', 'score', 'nps', 'tickets',
                                                       'count', 'money', 'tonnes', 'km')),
    target            numeric,
    target_direction  text    CHECK (target_direction IN ('>=', '<=')),
    source            text    NOT NULL,
    sort_order        integer NOT NULL DEFAULT 1000,
    customised        boolean NOT NULL DEFAULT true,
    PRIMARY KEY (tenant_id, code),
    CHECK ((target IS NULL) = (target_direction IS NULL))
);
COMMENT ON TABLE aftersales.kpi_catalogue IS
  'KPI catalogue per tenant: tenant 1 holds the shipped rows, other tenants only their overrides (each code falls back to tenant 1''s); read the effective catalogue from the view aftersales.kpi_definitions';
COMMENT ON COLUMN aftersales.kpi_catalogue.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.kpi_catalogue.code IS 'KPI code: the column name under which the KPI functions and views return it';
COMMENT ON COLUMN aftersales.kpi_catalogue.category IS 'The dashboard the KPI belongs to: service, backlog, quality, staff, parts, cost, complaints, surveys, approvals, dispatch, workforce or knowledge';
COMMENT ON COLUMN aftersales.kpi_catalogue.name_en IS 'Name in English';
COMMENT ON COLUMN aftersales.kpi_catalogue.name_zh IS 'Name in Chinese';
COMMENT ON COLUMN aftersales.kpi_catalogue.definition IS 'Precise definition: what is counted, over which tickets';
COMMENT ON COLUMN aftersales.kpi_catalogue.formula IS 'Formula';
COMMENT ON COLUMN aftersales.kpi_catalogue.unit IS 'ratio (0 to 1), minutes, hours, days, score (CSAT 1 to 5), nps (-100 to 100), tickets (a count of tickets), count (of other things), money (in the tenant''s currency), tonnes or km';
COMMENT ON COLUMN aftersales.kpi_catalogue.target IS 'Default target, in unit; NULL when none is shipped';
COMMENT ON COLUMN aftersales.kpi_catalogue.target_direction IS '>= when higher is better, <= when lower is better; NULL without a target';
COMMENT ON COLUMN aftersales.kpi_catalogue.source IS 'Function (and view) returning the KPI';
COMMENT ON COLUMN aftersales.kpi_catalogue.sort_order IS 'Display order';
COMMENT ON COLUMN aftersales.kpi_catalogue.customised IS
  'False for a shipped row never changed (left out of pg_dump); set to true by any change';

INSERT INTO aftersales.kpi_catalogue
       (tenant_id, code, category, name_en, name_zh, definition, formula, unit, target, target_direction, source, sort_order, customised)
SELECT 1, x.code, x.category, x.name_en, x.name_zh, x.definition, x.formula, x.unit, x.target, x.direction, x.source, x.ord, false
  FROM (VALUES
 ('response_rate', 'service', '10-minute response rate', '10分钟响应率',
  'Tickets whose first response (an engineer engaging: the first start of work, arrival, resolution or failed attempt; not the first contact, which the first-contact SLA clock measures) came within the setting response_target_minutes (10) of entry, wall clock, over the tickets judged: responded, or still without a response after the target at as_of (on hold or not: holds are part of the customer''s wait). Cancelled tickets are not judged. 10分钟响应率: 工程师开始处理(开始、到场、解决或失败尝试)距录入不超过10分钟的工单占比; 挂起的工单同样评判。',
  'count(response_minutes <= target) / count(judged)', 'ratio', NULL::numeric, NULL::text, 'kpi_service, kpi_headline', 10),
 ('arrival_rate', 'service', '4-hour arrival rate', '4小时到位率',
  'Field tickets whose first arrival on site came within the setting arrival_target_hours (4) of entry, wall clock, over the field tickets judged: arrived, or not arrived, not resolved and past the target at as_of (on hold or not). A field ticket resolved without a visit is not judged. 4小时到位率: 现场工单首次到场距录入不超过4小时的占比。',
  'count(arrival_minutes <= target) / count(judged field tickets)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 20),
 ('completion_rate', 'service', '24-hour completion rate', '24小时完工率',
  'Tickets whose final resolution came within the setting completion_target_hours (24) of entry, wall clock, over the tickets judged: resolved, or unresolved and past the target at as_of (on hold or not). A reopened ticket is judged by its final resolution. 24小时完工率: 最终解决距录入不超过24小时的工单占比。',
  'count(resolution_minutes <= target) / count(judged)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 30),
 ('on_time_completion_rate', 'service', 'On-time completion rate', '按时完工率',
  'Tickets resolved (finally) by their promised time, over the tickets judged; the promised time is the customer-requested date when one was given, else the due time of the resolution SLA clock (which moves with pauses).',
  'count(resolved_at <= promised_at) / count(judged)', 'ratio', NULL, NULL, 'kpi_service', 40),
 ('sla_first_contact_rate', 'service', 'First-contact SLA attainment', '首次联系SLA达成率',
  'Stopped first-contact clocks (ticket_sla metric first_response, stopped by the first contact with the customer or the first response, whichever comes first) whose outcome is met, over those met or breached, in business time with holds paused. Running and cancelled clocks are not counted. Not the 10-minute response rate, which waits for an engineer to engage. 首次联系SLA达成率: 首次联系客户(或首次响应)计时按时完成的占比。',
  'met / (met + breached)', 'ratio', NULL, NULL, 'kpi_service', 50),
 ('sla_arrival_rate', 'service', 'Arrival SLA attainment', '到场SLA达成率',
  'Stopped arrival clocks (field tickets) whose outcome is met, over those met or breached.',
  'met / (met + breached)', 'ratio', NULL, NULL, 'kpi_service', 60),
 ('sla_resolution_rate', 'service', 'Resolution SLA attainment', '解决SLA达成率',
  'Stopped resolution clocks whose outcome is met, over those met or breached (after a reopen, the final resolution''s verdict).',
  'met / (met + breached)', 'ratio', NULL, NULL, 'kpi_service', 70),
 ('avg_first_response_minutes', 'service', 'Average first response (AFR)', '平均首次响应时间',
  'Mean time from entry to the first response (an engineer engaging), over responded tickets; wall clock, from exact per-ticket minutes. Target of the service standard: average response at most 15 minutes. 平均响应时长(目标≤15分钟)。',
  'avg(first_response_at - opened_at)', 'minutes', 15, '<=', 'kpi_service, kpi_durations (distribution)', 80),
 ('avg_first_response_business_minutes', 'service', 'Average first response, business time', '平均首次响应时间(工作时间)',
  'As avg_first_response_minutes, counted in business time on the calendar of the ticket''s SLA policy.',
  'avg(business_minutes(calendar, opened_at, first_response_at))', 'minutes', NULL, NULL, 'kpi_service, kpi_durations (distribution)', 90),
 ('avg_resolution_minutes', 'service', 'Average resolution time (ART)', '平均解决时间',
  'Mean time from entry to the final resolution, over resolved tickets (a reopened ticket once resolved again); wall clock, holds included, from exact per-ticket minutes. Target of the service standard: average resolution at most 30 minutes. 平均解决时长(目标≤30分钟)。',
  'avg(resolved_at - opened_at)', 'minutes', 30, '<=', 'kpi_service, kpi_durations (distribution)', 100),
 ('avg_resolution_business_minutes', 'service', 'Average resolution time, business time', '平均解决时间(工作时间)',
  'As avg_resolution_minutes, counted in business time on the calendar of the ticket''s SLA policy (holds included: the resolution SLA clock is where they are paused).',
  'avg(business_minutes(calendar, opened_at, resolved_at))', 'minutes', NULL, NULL, 'kpi_service, kpi_durations (distribution)', 110),
 ('mttr_minutes', 'service', 'Mean time to repair (MTTR)', '平均修复时间',
  'Mean time from the first response (the engineer engaging: start of work, arrival) to the final resolution, over resolved tickets: the repair itself, without the wait for dispatch and without the time a reopened ticket sat resolved or closed before it was reopened; wall clock. 平均修复时间: 从首次响应到最终解决, 不含重开前处于已处理/已关闭的时间。',
  'avg(resolved_at - first_response_at - time resolved or closed before a reopen)', 'minutes', NULL, NULL, 'kpi_service, kpi_durations (distribution)', 120),
 ('mttr_business_minutes', 'service', 'Mean time to repair, business time', '平均修复时间(工作时间)',
  'As mttr_minutes, counted in business time on the calendar of the ticket''s SLA policy.',
  'avg(business_minutes(calendar, first_response_at, resolved_at))', 'minutes', NULL, NULL, 'kpi_service, kpi_durations (distribution)', 130),
 ('first_time_fix_rate', 'service', 'First-time-fix rate', '一次性修复率',
  'Tickets resolved at least once that were fixed first time: no failed attempt, never reopened (by an unsatisfied follow-up or a reopen), and at most one arrival on site (event log).',
  'count(first-time fixes) / count(first_resolved_at IS NOT NULL)', 'ratio', 0.85, '>=', 'kpi_service', 140),
 ('closed_loop_rate', 'service', 'Closed-loop resolution rate', '闭环解决率',
  'Tickets resolved at least once whose loop is closed at as_of (status closed: a satisfied follow-up), over all tickets resolved at least once and not cancelled. Tickets awaiting their follow-up and reopened tickets count against it, so it trails problem_resolution_rate by the follow-ups still to make; no target is shipped (the 98% target of the service standard is the problem-resolution rate''s). 闭环率: 已回访满意关闭的工单占已处理过工单的比例。',
  'count(status = closed) / count(first_resolved_at IS NOT NULL)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 150),
 ('problem_resolution_rate', 'service', 'Problem-resolution rate', '问题解决率',
  'Tickets whose problem is solved at as_of (status resolved or closed: awaiting the follow-up or closed), over the tickets entered and not cancelled. Target of the service standard: at least 98%, tracked by ticket number through the closed loop. 问题解决率(目标≥98%): 已处理或已关闭的工单占未取消工单的比例。',
  'count(status IN (resolved, closed)) / count(not cancelled)', 'ratio', 0.98, '>=', 'kpi_service', 155),
 ('repeat_problem_rate', 'service', 'Repeat-problem rate', '重复问题率',
  'Tickets of a unit that had another (not cancelled) ticket of the same problem type entered at most repeat_window_days (30) before, over the tickets that name a unit.',
  'count(repeats) / count(unit_id IS NOT NULL)', 'ratio', NULL, NULL, 'kpi_service', 160),
 ('reopen_rate', 'service', 'Reopen rate', '重开率',
  'Tickets resolved at least once that went back to assignment at least once after a resolution (unsatisfied follow-up or reopen), over the tickets resolved at least once.',
  'count(reopen_count > 0) / count(first_resolved_at IS NOT NULL)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 170),
 ('csat_avg', 'service', 'Customer satisfaction (CSAT)', '客户满意度',
  'Mean CSAT score (1 to 5) of the latest follow-up of each ticket, over tickets whose latest follow-up has a score.',
  'avg(csat)', 'score', 4.5, '>=', 'kpi_service, kpi_headline', 180),
 ('csat_good_share', 'service', 'Satisfied share (CSAT >= 4)', '满意率',
  'Share of the scored tickets whose CSAT is at least the setting csat_good_min (4).',
  'count(csat >= 4) / count(csat)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 190),
 ('nps', 'service', 'Net promoter score (NPS)', '净推荐值',
  'Promoters (9 or 10) minus detractors (0 to 6), in percent of the tickets whose latest follow-up has an NPS score.',
  '100 * (count(nps >= 9) - count(nps <= 6)) / count(nps)', 'nps', NULL, NULL, 'kpi_service, kpi_headline', 200),
 ('open_tickets', 'backlog', 'Open tickets (backlog)', '未完成工单',
  'Tickets unresolved at as_of (new, on_hold, assigned, in_progress, on_site, locked), their state rebuilt from the event log; resolved tickets awaiting the follow-up are not backlog.',
  'count(open at as_of)', 'tickets', NULL, NULL, 'kpi_backlog, backlog_as_of', 300),
 ('backlog_over_24h', 'backlog', 'Open over 24 hours', '超24小时工单',
  'Open tickets entered more than 24 hours before as_of (cumulative: it includes those over 48 hours and more).',
  'count(as_of - opened_at > 24 h)', 'tickets', NULL, NULL, 'kpi_backlog', 310),
 ('backlog_over_48h', 'backlog', 'Open over 48 hours', '超48小时工单',
  'Open tickets entered more than 48 hours before as_of.', 'count(as_of - opened_at > 48 h)', 'tickets', NULL, NULL, 'kpi_backlog', 320),
 ('backlog_over_72h', 'backlog', 'Open over 72 hours', '超72小时工单',
  'Open tickets entered more than 72 hours before as_of.', 'count(as_of - opened_at > 72 h)', 'tickets', NULL, NULL, 'kpi_backlog', 330),
 ('backlog_over_96h', 'backlog', 'Open over 96 hours', '超96小时工单',
  'Open tickets entered more than 96 hours before as_of.', 'count(as_of - opened_at > 96 h)', 'tickets', NULL, NULL, 'kpi_backlog', 340),
 ('backlog_over_120h', 'backlog', 'Open over 120 hours', '超120小时工单',
  'Open tickets entered more than 120 hours before as_of.', 'count(as_of - opened_at > 120 h)', 'tickets', NULL, NULL, 'kpi_backlog', 350),
 ('overdue', 'backlog', 'Open tickets overdue by stage', '超期工单(按环节)',
  'Open tickets at as_of past the target of a stage they have not reached: response (no engineer engaged 10 minutes after entry), arrival (a field ticket not on site 4 hours after entry), completion (not resolved 24 hours after entry); the columns over_24h to over_120h count those overdue by more than 24, 48, 72, 96 and 120 hours (cumulative). The dashboards ask for the response, arrival and completion rates each with the tickets over 24/48/72/96/120 hours, per representative office, dealer and supplier. 按响应、到位、完工三个环节统计超24/48/72/96/120小时的工单。',
  'count(as_of - (opened_at + stage target) > 0)', 'tickets', NULL, NULL, 'kpi_backlog_stages', 355),
 ('holdings', 'backlog', 'Tickets held per engineer', '人员工单保有量',
  'Open tickets whose assignee at as_of is the engineer (assigned, in_progress, on_site, or on hold from one of them).',
  'count(open tickets assigned to the engineer at as_of)', 'tickets', NULL, NULL, 'kpi_engineer_holdings', 360),
 ('failures', 'quality', 'Failures', '故障数',
  'Tickets entered in the period, not cancelled, whose problem type is a fault (problem_types.kind = fault): consultations, parameter settings and installations are not failures. Each is a failure report of its product model and fault type. 故障数: 仅统计故障类问题(不含咨询、参数设置、安装调试)。',
  'count(tickets not cancelled, problem kind fault)', 'tickets', NULL, NULL, 'kpi_failures', 400),
 ('early_failures', 'quality', 'Early failures', '早期故障',
  'Failures of a unit entered at most early_failure_days (90) after its installation date; warning line: setting early_failure_warning (400 a month).',
  'count(0 <= entry date - installed_on <= 90)', 'tickets', NULL, NULL, 'kpi_failures, kpi_warranty_trend', 410),
 ('in_warranty_failures', 'quality', 'In-warranty failures', '保内故障',
  'Failures of a unit within its warranty (entry date up to units.warranty_ends, else up to the day before installation plus the model''s warranty_months: 12 months from 1 March end on the last day of February), other than early failures; warning line: setting in_warranty_warning (600). 保内故障。',
  'count(not early, entry date <= warranty end)', 'tickets', NULL, NULL, 'kpi_failures, kpi_warranty_trend', 420),
 ('out_of_warranty_failures', 'quality', 'Out-of-warranty failures', '保外故障',
  'Failures of a unit after its warranty ended, other than early failures; warning line: setting out_of_warranty_warning (600).',
  'count(not early, entry date > warranty end)', 'tickets', NULL, NULL, 'kpi_failures, kpi_warranty_trend', 430),
 ('avg_handling_minutes', 'staff', 'Average handling time', '工单平均耗时',
  'Mean time from the assignment to the engineer who holds the ticket (assigned_at) to the final resolution, over resolved tickets; wall clock.',
  'avg(resolved_at - assigned_at)', 'minutes', NULL, NULL, 'kpi_staff, kpi_durations (distribution)', 500),
 ('dispatches', 'staff', 'Dispatch volume', '派工量',
  'Assignment events that gave a ticket to an engineer (assign, reassign, take_over ending in assigned), dated by the event.',
  'count(dispatch events)', 'tickets', NULL, NULL, 'kpi_dispatch', 510)
) AS x (code, category, name_en, name_zh, definition, formula, unit, target, direction, source, ord);

-- Shipped rows: the rule of escalation_rules (40_escalation.sql).
CREATE TRIGGER shipped_row
    BEFORE INSERT OR UPDATE OR DELETE ON aftersales.kpi_settings
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.shipped_row(
        'cannot delete kpi_settings "%s" of tenant 1', 'name',
        'Change the value instead, for example: SELECT aftersales.set_kpi_setting(''repeat_window_days'', 60);');
CREATE TRIGGER shipped_row
    BEFORE INSERT OR UPDATE OR DELETE ON aftersales.kpi_catalogue
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.shipped_row(
        'cannot delete kpi_catalogue "%s" of tenant 1', 'code',
        'Update the row instead, for example: UPDATE aftersales.kpi_catalogue SET target = 0.9 WHERE tenant_id = 1 AND code = ''first_time_fix_rate'';');

SELECT pg_catalog.pg_extension_config_dump('aftersales.kpi_settings', 'WHERE tenant_id <> 1 OR customised');
SELECT pg_catalog.pg_extension_config_dump('aftersales.kpi_catalogue', 'WHERE tenant_id <> 1 OR customised');

-- The settings of a tenant (NULL: of every tenant), one row per tenant,
-- each setting falling back to tenant 1's.
CREATE FUNCTION aftersales_internal.kpi_config(tenant bigint)
    RETURNS TABLE (tenant_id bigint, response_target interval, arrival_target interval,
                   completion_target interval, repeat_window interval, early_failure_days integer,
                   early_failure_warning numeric, in_warranty_warning numeric,
                   out_of_warranty_warning numeric, csat_good_min numeric)
LANGUAGE sql STABLE PARALLEL SAFE ROWS 1
SET search_path = pg_catalog, pg_temp
AS $$
SELECT v.tenant_id,
       pg_catalog.make_interval(secs => (60 * pg_catalog.max(v.value) FILTER (WHERE v.name = 'response_target_minutes'))::float8),
       pg_catalog.make_interval(secs => (3600 * pg_catalog.max(v.value) FILTER (WHERE v.name = 'arrival_target_hours'))::float8),
       pg_catalog.make_interval(secs => (3600 * pg_catalog.max(v.value) FILTER (WHERE v.name = 'completion_target_hours'))::float8),
       pg_catalog.make_interval(secs => (86400 * pg_catalog.max(v.value) FILTER (WHERE v.name = 'repeat_window_days'))::float8),
       pg_catalog.floor(pg_catalog.max(v.value) FILTER (WHERE v.name = 'early_failure_days'))::integer,
       pg_catalog.max(v.value) FILTER (WHERE v.name = 'early_failure_warning'),
       pg_catalog.max(v.value) FILTER (WHERE v.name = 'in_warranty_warning'),
       pg_catalog.max(v.value) FILTER (WHERE v.name = 'out_of_warranty_warning'),
       pg_catalog.max(v.value) FILTER (WHERE v.name = 'csat_good_min')
  FROM (SELECT tn.tenant_id, d.name, COALESCE(o.value, d.value) AS value
          FROM aftersales.tenants tn
          JOIN aftersales.kpi_settings d ON d.tenant_id = 1
          LEFT JOIN aftersales.kpi_settings o ON o.tenant_id = tn.tenant_id AND o.name = d.name
         WHERE kpi_config.tenant IS NULL OR tn.tenant_id = kpi_config.tenant) v
 GROUP BY v.tenant_id
$$;
COMMENT ON FUNCTION aftersales_internal.kpi_config(bigint) IS
  'Internal: the KPI settings of a tenant (NULL: every tenant) as one typed row per tenant, with tenant 1''s as fallback';

CREATE FUNCTION aftersales.kpi_setting(name text, tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS numeric
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result numeric;
BEGIN
    -- a tenant the caller cannot see is unknown, not one with the defaults
    IF tenant IS NULL OR NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = kpi_setting.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', COALESCE(tenant::text, 'NULL')
            USING ERRCODE = 'P0002',
                  HINT = 'List the tenants with: SELECT tenant_id, name FROM aftersales.tenants;';
    END IF;
    SELECT COALESCE(o.value, d.value) INTO result
      FROM aftersales.kpi_settings d
      LEFT JOIN aftersales.kpi_settings o ON o.tenant_id = kpi_setting.tenant AND o.name = d.name
     WHERE d.tenant_id = 1 AND d.name = kpi_setting.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown KPI setting: "%"', CASE WHEN pg_catalog.length(name) > 64 THEN pg_catalog.left(name, 64) || '...' ELSE name END
            USING ERRCODE = '22023',
                  HINT = 'Settings are listed by: SELECT name, value, unit FROM aftersales.kpi_settings_current; for example: SELECT aftersales.kpi_setting(''repeat_window_days'');';
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_setting(text, bigint) IS
  'The value of a KPI setting for a tenant: its own, else tenant 1''s';

CREATE FUNCTION aftersales.set_kpi_setting(name text, value numeric,
                                           tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS numeric
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d aftersales.kpi_settings;
BEGIN
    SELECT * INTO d FROM aftersales.kpi_settings s WHERE s.tenant_id = 1 AND s.name = set_kpi_setting.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown KPI setting: "%"', CASE WHEN pg_catalog.length(name) > 64 THEN pg_catalog.left(name, 64) || '...' ELSE name END
            USING ERRCODE = '22023',
                  HINT = 'Settings are listed by: SELECT name, value, unit FROM aftersales.kpi_settings_current; for example: SELECT aftersales.set_kpi_setting(''repeat_window_days'', 60);';
    END IF;
    IF value IS NULL OR value < 0 OR value >= 1000000 THEN
        RAISE EXCEPTION 'invalid value for KPI setting %: %', name, COALESCE(CASE WHEN pg_catalog.length(value::text) > 64 THEN pg_catalog.left(value::text, 64) || '...' ELSE value::text END, 'NULL')
            USING ERRCODE = '22003',
                  HINT = pg_catalog.format('The value is a number from 0 to 999999, in %s; for example: SELECT aftersales.set_kpi_setting(%L, %s);',
                                           d.unit, name, d.value);
    END IF;
    IF tenant IS NULL OR NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = set_kpi_setting.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', COALESCE(tenant::text, 'NULL')
            USING ERRCODE = 'P0002',
                  HINT = 'List the tenants with: SELECT tenant_id, name FROM aftersales.tenants;';
    END IF;
    INSERT INTO aftersales.kpi_settings AS s (tenant_id, name, value, unit, description)
    VALUES (tenant, name, value, d.unit, d.description)
    ON CONFLICT ON CONSTRAINT kpi_settings_pkey DO UPDATE SET value = excluded.value;
    RETURN value;
END
$$;
COMMENT ON FUNCTION aftersales.set_kpi_setting(text, numeric, bigint) IS
  'Set a KPI setting for a tenant (upsert); returns the value';

-- ---------------------------------------------------------------------------
-- Validation shared by every KPI function: raises an error naming the bad
-- value, with a hint that shows a correct call of the function fn.

CREATE FUNCTION aftersales_internal.kpi_check(fn text, example text, period text, dimension text, dimensions text[],
                                      since timestamptz, until timestamptz, as_of timestamptz, zone text,
                                      tenant bigint)
    RETURNS void
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    periods constant text[] := '{day,week,month,quarter,year,all}';
BEGIN
    IF period IS NOT NULL OR fn IN ('kpi_service', 'kpi_headline', 'kpi_staff', 'kpi_dispatch', 'kpi_failures', 'kpi_warranty_trend', 'kpi_durations') THEN
        IF period IS NULL THEN
            RAISE EXCEPTION 'period must not be null'
                USING ERRCODE = '22004',
                      DETAIL = 'Periods are day, week (from Monday), month, quarter, year and all (the whole range).',
                      HINT = 'For example: ' || example;
        END IF;
        IF NOT period = ANY (periods) THEN
            RAISE EXCEPTION 'unknown period: "%"', CASE WHEN pg_catalog.length(period) > 64 THEN pg_catalog.left(period, 64) || '...' ELSE period END
                USING ERRCODE = '22023',
                      DETAIL = 'Periods are day, week (from Monday), month, quarter, year and all (the whole range).',
                      HINT = 'For example: ' || example;
        END IF;
    END IF;
    IF dimensions IS NOT NULL AND dimension IS NULL THEN
        RAISE EXCEPTION 'dimension must not be null'
            USING ERRCODE = '22004',
                  DETAIL = pg_catalog.format('Dimensions of %s are %s.', fn, pg_catalog.array_to_string(dimensions, ', ')),
                  HINT = 'For example: ' || example;
    END IF;
    IF dimensions IS NOT NULL AND NOT dimension = ANY (dimensions) THEN
        RAISE EXCEPTION 'unknown dimension: "%"', CASE WHEN pg_catalog.length(dimension) > 64 THEN pg_catalog.left(dimension, 64) || '...' ELSE dimension END
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('Dimensions of %s are %s.', fn, pg_catalog.array_to_string(dimensions, ', ')),
                  HINT = 'For example: ' || example;
    END IF;
    IF fn NOT IN ('kpi_backlog', 'kpi_engineer_holdings', 'backlog_as_of', 'kpi_backlog_stages') THEN
        IF since IS NULL OR until IS NULL THEN
            RAISE EXCEPTION 'since and until must not be null'
                USING ERRCODE = '22004',
                      DETAIL = 'The range is [since, until) of the tickets'' entry; use ''-infinity'' or ''infinity'' for no bound.',
                      HINT = 'For example: ' || example;
        END IF;
        IF since >= until THEN
            RAISE EXCEPTION 'empty range: since % is not before until %', since, until
                USING ERRCODE = '22023',
                      DETAIL = 'The range is [since, until) of the tickets'' entry.',
                      HINT = 'For example: ' || example;
        END IF;
    END IF;
    IF as_of IS NULL AND fn NOT IN ('kpi_dispatch', 'kpi_failures', 'kpi_warranty_trend') THEN
        RAISE EXCEPTION '% must not be null', CASE WHEN fn = 'backlog_as_of' THEN 'at' ELSE 'as_of' END
            USING ERRCODE = '22004',
                  DETAIL = 'It is the instant at which unfinished tickets are judged (default aftersales.now()).',
                  HINT = 'For example: ' || example;
    END IF;
    -- the tenant first: an unknown tenant has no reporting zone either
    IF tenant IS NOT NULL AND NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = kpi_check.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the tenants with: SELECT tenant_id, name FROM aftersales.tenants; or pass tenant => NULL for every tenant.';
    END IF;
    IF zone IS NULL THEN
        RAISE EXCEPTION 'zone must not be null'
            USING ERRCODE = '22004',
                  DETAIL = 'Periods are cut in this time zone; the default is the tenant''s reporting zone, which tenant => NULL has only when every tenant reports in the same zone.',
                  HINT = 'For example: ' || example;
    END IF;
    BEGIN
        PERFORM pg_catalog.timezone(zone, pg_catalog.timestamptz '2000-01-01 00:00+00');
    EXCEPTION WHEN invalid_parameter_value OR feature_not_supported THEN
        RAISE EXCEPTION 'unknown time zone: "%"', CASE WHEN pg_catalog.length(zone) > 64 THEN pg_catalog.left(zone, 64) || '...' ELSE zone END
            USING ERRCODE = '22023',
                  DETAIL = 'Periods are cut in this time zone.',
                  HINT = 'Use a zone PostgreSQL knows (SELECT name FROM pg_timezone_names), for example: zone => ''Asia/Shanghai''.';
    END;
    -- ages are measured from as_of: an infinite one has none
    IF as_of IS NOT NULL AND NOT pg_catalog.isfinite(as_of) THEN
        RAISE EXCEPTION '% must be finite, not %', CASE WHEN fn = 'backlog_as_of' THEN 'at' ELSE 'as_of' END, as_of
            USING ERRCODE = '22008',
                  DETAIL = 'Ages and backlogs are measured at this instant.',
                  HINT = 'For example: ' || example;
    END IF;
END
$$;
COMMENT ON FUNCTION aftersales_internal.kpi_check(text, text, text, text, text[], timestamptz, timestamptz, timestamptz, text, bigint) IS
  'Internal: validates the parameters of a KPI function; errors name the bad value and show a correct call';

-- SQL text for the dynamic queries of the KPI functions (their arguments
-- are validated by kpi_check first).  Dimensions read the columns of
-- _kpi_ticket_dims (and of kpi_ticket_facts, which has the same names)
-- under the alias k.  Keys are ordered bytewise (COLLATE "C"), ids
-- numerically, so that the order does not depend on the database's locale.
CREATE FUNCTION aftersales_internal.kpi_dimension_sql(dimension text, OUT key_sql text, OUT name_sql text, OUT order_sql text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT x.k, x.n,
       CASE WHEN dimension IN ('tenant', 'organisation', 'product_model', 'problem_type', 'engineer')
            THEN 'pg_catalog.lpad(q.dim_key, 20, ''0'') COLLATE "C"' ELSE 'q.dim_key COLLATE "C"' END
  FROM (VALUES ('all', '''all''::text', '''all''::text'),
               ('tenant', 'k.tenant_id::text', 'k.tenant_name'),
               ('region', 'k.region', 'k.region'),
               ('province', 'k.province', 'k.province'),
               ('organisation', 'k.org_id::text', 'k.org_name'),
               ('organisation_type', 'k.org_type',
                'CASE k.org_type WHEN ''headquarters'' THEN ''总部'' WHEN ''representative_office'' THEN ''代表处'''
                ' WHEN ''dealer'' THEN ''经销商'' WHEN ''supplier'' THEN ''供应商'' END'),
               ('product_model', 'k.model_id::text', 'k.model_name'),
               ('problem_type', 'k.problem_type_id::text', 'k.problem_name'),
               ('engineer', 'k.engineer_id::text', 'k.engineer_name'),
               ('priority', 'k.priority::text', 'k.priority::text'),
               ('channel', 'k.channel', 'k.channel')) AS x (d, k, n)
 WHERE x.d = dimension
$$;
COMMENT ON FUNCTION aftersales_internal.kpi_dimension_sql(text) IS
  'Internal: SQL expressions of a dimension''s key and label over alias k, and of the order of its keys';

-- The first day of the period of the timestamp expression ts, cut in the
-- zone passed as query parameter number zone_param; NULL for period all.
CREATE FUNCTION aftersales_internal.kpi_period_sql(period text, ts text, zone_param integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN period = 'all' THEN 'NULL::date'
            ELSE pg_catalog.format('pg_catalog.date_trunc(%L, pg_catalog.timezone($%s, %s))::date', period, zone_param, ts) END
$$;
COMMENT ON FUNCTION aftersales_internal.kpi_period_sql(text, text, integer) IS
  'Internal: SQL expression of the first day of the period of a timestamp, in a zone given as a query parameter';

-- ---------------------------------------------------------------------------
-- A ticket with the labels of every dimension.  Its joins are LEFT JOINs on
-- unique keys, so a query that reads only some dimensions pays only for
-- theirs (the planner removes the others).

CREATE VIEW aftersales._kpi_ticket_dims WITH (security_invoker = true) AS
SELECT t.tenant_id,
       tn.name                                  AS tenant_name,
       t.ticket_id,
       t.opened_at,
       t.status::text                           AS status,
       t.priority::text                         AS priority,
       t.channel,
       t.field,
       t.customer_id,
       c.tier                                   AS customer_tier,
       COALESCE(c.region, o.region)::text       AS region,
       COALESCE(c.province, o.province)         AS province,
       o.org_id,
       o.name                                   AS org_name,
       o.org_type,
       t.unit_id,
       t.model_id,
       m.name                                   AS model_name,
       t.problem_type_id,
       p.name                                   AS problem_name,
       t.assignee_id                            AS engineer_id,
       e.name                                   AS engineer_name,
       t.requested_at,
       t.first_response_at,
       t.assigned_at,
       t.arrived_at,
       t.first_resolved_at,
       t.resolved_at,
       t.closed_at,
       t.attempt_count,
       t.reopen_count,
       t.csat,
       t.nps
  FROM aftersales.tickets t
  LEFT JOIN aftersales.tenants tn ON tn.tenant_id = t.tenant_id
  LEFT JOIN aftersales.customers c ON c.tenant_id = t.tenant_id AND c.customer_id = t.customer_id
  LEFT JOIN aftersales.organisations o ON o.tenant_id = t.tenant_id AND o.org_id = COALESCE(t.org_id, c.org_id)
  LEFT JOIN aftersales.product_models m ON m.tenant_id = t.tenant_id AND m.model_id = t.model_id
  LEFT JOIN aftersales.problem_types p ON p.tenant_id = t.tenant_id AND p.problem_type_id = t.problem_type_id
  LEFT JOIN aftersales.engineers e ON e.tenant_id = t.tenant_id AND e.engineer_id = t.assignee_id;
COMMENT ON VIEW aftersales._kpi_ticket_dims IS
  'Internal: each ticket with its dimensions (tenant, region, province, organisation and its type, model, problem type, engineer, priority, channel); unused joins cost nothing';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.tenant_name IS 'Tenant name';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.ticket_id IS 'Ticket id';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.opened_at IS 'Entry of the ticket';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.status IS 'Current state';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.priority IS 'Current priority';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.channel IS 'Channel of the request';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.field IS 'Whether the ticket needs on-site service';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.customer_id IS 'Customer';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.customer_tier IS 'Customer tier: key, major or standard';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.region IS 'Region: the customer''s, else the organisation''s';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.province IS 'Province: the customer''s, else the organisation''s';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.org_id IS 'Organisation: the ticket''s handling organisation, else the customer''s';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.org_name IS 'Organisation name';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.org_type IS 'Organisation type: headquarters, representative_office, dealer, supplier';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.unit_id IS 'Installed unit, when known';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.model_id IS 'Product model';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.model_name IS 'Product model name';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.problem_type_id IS 'Problem (fault) type';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.problem_name IS 'Problem type name';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.engineer_id IS 'Engineer holding the ticket now (for a resolved ticket: the one who resolved it)';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.engineer_name IS 'Engineer name';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.requested_at IS 'Customer-requested date';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.first_response_at IS 'First response';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.assigned_at IS 'Assignment to the current engineer';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.arrived_at IS 'First arrival on site';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.first_resolved_at IS 'First resolution';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.resolved_at IS 'Final resolution (NULL while a reopened ticket is unresolved)';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.closed_at IS 'Closing by a satisfied follow-up';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.attempt_count IS 'Failed handling attempts';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.reopen_count IS 'Reopens';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.csat IS 'CSAT of the latest follow-up';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.nps IS 'NPS score of the latest follow-up';

-- ---------------------------------------------------------------------------
-- Per-ticket facts: the definitions of the service KPIs, one ticket at a
-- time.  Minutes are exact (not rounded), so that means over them are too;
-- the view kpi_facts shows them to 0.01.  Flags are integers, 1 (yes), 0 (no) or NULL (not judged), so that
-- avg(flag) is the rate and sum(flag) the count.  A cancelled ticket is
-- never judged.  Tickets are judged on what was known at as_of: a ticket
-- entered later is left out; one changed since is rebuilt from its event
-- log up to as_of (state, engineer, priority, time stamps, counters, the
-- latest follow-up), SLA clocks stopped later count as running; as_of
-- also decides when a stage not yet reached counts as missed.  A ticket on hold that has
-- not reached a stage is not judged on it (it waits on the customer).
-- Where the brief left a definition open, the choice is here and in the
-- catalogue (kpi_catalogue.definition): e.g. MTTR runs from the first
-- response, closed loop is closed / resolved at least once, CSAT and NPS
-- are the latest follow-up's, repeats need a unit.

CREATE FUNCTION aftersales.kpi_ticket_facts(since timestamptz, until timestamptz,
                                            as_of timestamptz DEFAULT aftersales.now(),
                                            tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (tenant_id bigint, tenant_name text, ticket_id bigint, opened_at timestamptz,
                   status text, priority text, channel text, field boolean, customer_tier text,
                   region text, province text, org_id bigint, org_name text, org_type text,
                   unit_id bigint, model_id bigint, model_name text, problem_type_id bigint, problem_name text,
                   engineer_id bigint, engineer_name text, cancelled integer,
                   response_minutes numeric, response_business_minutes numeric, responded_in_target integer,
                   arrival_minutes numeric, arrival_business_minutes numeric, arrived_in_target integer,
                   resolution_minutes numeric, resolution_business_minutes numeric, completed_in_target integer,
                   repair_minutes numeric, repair_business_minutes numeric,
                   handling_minutes numeric, handling_business_minutes numeric,
                   promised_at timestamptz, completed_on_time integer,
                   sla_first_response text, sla_arrival text, sla_resolution text,
                   first_time_fix integer, closed_loop integer, reopened integer, repeat_problem integer,
                   csat_score integer, csat_good integer, nps_score integer, nps_promoter integer, nps_detractor integer)
LANGUAGE plpgsql STABLE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    PERFORM aftersales_internal.kpi_check('kpi_ticket_facts',
        'SELECT * FROM aftersales.kpi_ticket_facts(''2026-01-01'', ''2026-02-01'', as_of => ''2026-02-01'');',
        NULL, NULL, NULL, since, until, as_of, 'UTC', tenant);
    RETURN QUERY
    WITH cfg AS (
        SELECT * FROM aftersales_internal.kpi_config(kpi_ticket_facts.tenant)
    ), later AS (
        -- tickets changed after as_of: what was known at as_of is rebuilt
        -- from their event log (the others' current row is that)
        SELECT t.tenant_id, t.ticket_id
          FROM aftersales.tickets t
         WHERE (kpi_ticket_facts.tenant IS NULL OR t.tenant_id = kpi_ticket_facts.tenant)
           AND t.opened_at >= kpi_ticket_facts.since AND t.opened_at < kpi_ticket_facts.until
           AND t.opened_at <= kpi_ticket_facts.as_of AND t.last_event_at > kpi_ticket_facts.as_of
    ), loop_rules AS (
        SELECT tr.from_state, tr.event, tr.to_state, tr.first_response, tr.counts_attempt, tr.supplies
          FROM aftersales.ticket_transitions() tr
    ), snap AS (
        -- the columns of the ticket row at as_of, as replay_ticket() builds
        -- them from the log
        SELECT x.tenant_id, x.ticket_id, x.status, x.priority, x.first_response_at, x.assigned_at, x.arrived_at,
               x.first_resolved_at,
               CASE WHEN x.last_resolve_seq > COALESCE(x.last_reopen_seq, 0) THEN x.last_resolve_at END AS resolved_at,
               CASE WHEN x.last_close_seq > COALESCE(x.last_reopen_seq, 0) THEN x.last_close_at END AS closed_at,
               x.attempt_count, x.reopen_count, x.csat, x.nps, x.engineer_id
          FROM (SELECT ev.tenant_id, ev.ticket_id,
                       (pg_catalog.array_agg(ev.to_state ORDER BY ev.seq DESC))[1] AS status,
                       (pg_catalog.array_agg(ev.payload ->> 'priority' ORDER BY ev.seq DESC)
                            FILTER (WHERE ev.payload ? 'priority'))[1]::aftersales.priority AS priority,
                       pg_catalog.min(ev.at) FILTER (WHERE r.first_response) AS first_response_at,
                       pg_catalog.max(ev.at) FILTER (WHERE r.supplies = 'assignee_id' AND ev.to_state = 'assigned') AS assigned_at,
                       pg_catalog.min(ev.at) FILTER (WHERE ev.event = 'arrive') AS arrived_at,
                       pg_catalog.min(ev.at) FILTER (WHERE ev.to_state = 'resolved') AS first_resolved_at,
                       pg_catalog.max(ev.seq) FILTER (WHERE ev.to_state = 'resolved') AS last_resolve_seq,
                       (pg_catalog.array_agg(ev.at ORDER BY ev.seq DESC) FILTER (WHERE ev.to_state = 'resolved'))[1] AS last_resolve_at,
                       pg_catalog.max(ev.seq) FILTER (WHERE ev.to_state = 'closed') AS last_close_seq,
                       (pg_catalog.array_agg(ev.at ORDER BY ev.seq DESC) FILTER (WHERE ev.to_state = 'closed'))[1] AS last_close_at,
                       pg_catalog.max(ev.seq) FILTER (WHERE ev.from_state IN ('resolved', 'closed') AND ev.to_state = 'new') AS last_reopen_seq,
                       pg_catalog.count(*) FILTER (WHERE r.counts_attempt)::integer AS attempt_count,
                       pg_catalog.count(*) FILTER (WHERE ev.from_state IN ('resolved', 'closed') AND ev.to_state = 'new')::integer AS reopen_count,
                       (pg_catalog.array_agg(ev.payload ->> 'csat' ORDER BY ev.seq DESC) FILTER (WHERE ev.event = 'follow_up'))[1]::smallint AS csat,
                       (pg_catalog.array_agg(ev.payload ->> 'nps' ORDER BY ev.seq DESC) FILTER (WHERE ev.event = 'follow_up'))[1]::smallint AS nps,
                       (pg_catalog.array_agg(CASE WHEN ev.to_state IN ('new', 'locked') THEN NULL ELSE (ev.payload ->> 'assignee')::bigint END
                                             ORDER BY ev.seq DESC)
                            FILTER (WHERE ev.payload ? 'assignee' OR ev.to_state IN ('new', 'locked')))[1] AS engineer_id
                  FROM later l
                  JOIN aftersales.ticket_events ev ON ev.tenant_id = l.tenant_id AND ev.ticket_id = l.ticket_id
                  LEFT JOIN loop_rules r
                    ON r.from_state IS NOT DISTINCT FROM ev.from_state AND r.event = ev.event AND r.to_state = ev.to_state
                 WHERE ev.at <= kpi_ticket_facts.as_of
                 GROUP BY ev.tenant_id, ev.ticket_id) x
    ), base AS (
        SELECT k.tenant_id, k.tenant_name, k.ticket_id, k.opened_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.status ELSE sn.status::text END AS status,
               CASE WHEN sn.ticket_id IS NULL THEN k.priority ELSE COALESCE(sn.priority::text, k.priority) END AS priority,
               k.channel, k.field, k.customer_id, k.customer_tier, k.region, k.province, k.org_id, k.org_name,
               k.org_type, k.unit_id, k.model_id, k.model_name, k.problem_type_id, k.problem_name,
               CASE WHEN sn.ticket_id IS NULL THEN k.engineer_id ELSE sn.engineer_id END AS engineer_id,
               CASE WHEN sn.ticket_id IS NULL THEN k.engineer_name ELSE se.name END AS engineer_name,
               k.requested_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.first_response_at ELSE sn.first_response_at END AS first_response_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.assigned_at ELSE sn.assigned_at END AS assigned_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.arrived_at ELSE sn.arrived_at END AS arrived_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.first_resolved_at ELSE sn.first_resolved_at END AS first_resolved_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.resolved_at ELSE sn.resolved_at END AS resolved_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.closed_at ELSE sn.closed_at END AS closed_at,
               CASE WHEN sn.ticket_id IS NULL THEN k.attempt_count ELSE sn.attempt_count END AS attempt_count,
               CASE WHEN sn.ticket_id IS NULL THEN k.reopen_count ELSE sn.reopen_count END AS reopen_count,
               CASE WHEN sn.ticket_id IS NULL THEN k.csat ELSE sn.csat END AS csat,
               CASE WHEN sn.ticket_id IS NULL THEN k.nps ELSE sn.nps END AS nps,
               g.response_target, g.arrival_target, g.completion_target, g.csat_good_min
          FROM aftersales._kpi_ticket_dims k
          JOIN cfg g ON g.tenant_id = k.tenant_id
          LEFT JOIN snap sn ON sn.tenant_id = k.tenant_id AND sn.ticket_id = k.ticket_id
          LEFT JOIN aftersales.engineers se ON se.tenant_id = sn.tenant_id AND se.engineer_id = sn.engineer_id
         WHERE (kpi_ticket_facts.tenant IS NULL OR k.tenant_id = kpi_ticket_facts.tenant)
           AND k.opened_at >= kpi_ticket_facts.since AND k.opened_at < kpi_ticket_facts.until
           AND k.opened_at <= kpi_ticket_facts.as_of
    ), facts AS (
        SELECT b.*, b.status = 'cancelled' AS is_cancelled
          FROM base b
    ), clocks AS (
        -- one row per ticket: its policy and the state of its three clocks
        SELECT s.tenant_id, s.ticket_id, pg_catalog.min(s.policy_id) AS policy_id,
               pg_catalog.min(CASE WHEN s.stopped_at <= kpi_ticket_facts.as_of THEN s.outcome ELSE 'running' END)
                   FILTER (WHERE s.metric = 'first_response') AS fr,
               pg_catalog.min(CASE WHEN s.stopped_at <= kpi_ticket_facts.as_of THEN s.outcome ELSE 'running' END)
                   FILTER (WHERE s.metric = 'arrival') AS arr,
               pg_catalog.min(CASE WHEN s.stopped_at <= kpi_ticket_facts.as_of THEN s.outcome ELSE 'running' END)
                   FILTER (WHERE s.metric = 'resolution') AS res,
               pg_catalog.min(s.due_at) FILTER (WHERE s.metric = 'resolution') AS res_due
          FROM aftersales.ticket_sla s
         WHERE (kpi_ticket_facts.tenant IS NULL OR s.tenant_id = kpi_ticket_facts.tenant)
           AND s.started_at >= kpi_ticket_facts.since AND s.started_at < kpi_ticket_facts.until
         GROUP BY s.tenant_id, s.ticket_id
    ), repeats AS (
        -- the previous ticket of the same unit and problem type, not cancelled
        SELECT r.tenant_id, r.ticket_id, r.gap <= g.repeat_window AS is_repeat
          FROM (SELECT t.tenant_id, t.ticket_id, t.opened_at,
                       t.opened_at - pg_catalog.lag(t.opened_at) OVER (
                           PARTITION BY t.tenant_id, t.unit_id, t.problem_type_id
                           ORDER BY t.opened_at, t.ticket_id) AS gap
                  FROM aftersales.tickets t
                 WHERE (kpi_ticket_facts.tenant IS NULL OR t.tenant_id = kpi_ticket_facts.tenant)
                   AND t.unit_id IS NOT NULL AND t.status <> 'cancelled'
                   AND t.opened_at < kpi_ticket_facts.until AND t.opened_at <= kpi_ticket_facts.as_of
                   AND t.opened_at >= kpi_ticket_facts.since - (SELECT pg_catalog.max(c2.repeat_window) FROM cfg c2)) r
          JOIN cfg g ON g.tenant_id = r.tenant_id
         WHERE r.opened_at >= kpi_ticket_facts.since
    ), revisited AS (
        -- tickets with more than one arrival on site (an arrival is never
        -- earlier than the ticket's entry)
        SELECT ev.tenant_id, ev.ticket_id
          FROM aftersales.ticket_events ev
         WHERE (kpi_ticket_facts.tenant IS NULL OR ev.tenant_id = kpi_ticket_facts.tenant)
           AND ev.event = 'arrive' AND ev.at >= kpi_ticket_facts.since AND ev.at <= kpi_ticket_facts.as_of
         GROUP BY ev.tenant_id, ev.ticket_id
        HAVING pg_catalog.count(*) > 1
    ), judged AS (
        SELECT b.*, cl.fr, cl.arr, cl.res, cal.calendar AS cal, rp.is_repeat, rv.ticket_id IS NOT NULL AS is_revisited,
               COALESCE(b.requested_at, cl.res_due) AS promise
          FROM facts b
          LEFT JOIN clocks cl ON cl.tenant_id = b.tenant_id AND cl.ticket_id = b.ticket_id
          LEFT JOIN aftersales.sla_policies sp ON sp.tenant_id = cl.tenant_id AND sp.policy_id = cl.policy_id
          LEFT JOIN aftersales.calendars cal ON cal.tenant_id = sp.tenant_id AND cal.name = sp.calendar
          LEFT JOIN repeats rp ON rp.tenant_id = b.tenant_id AND rp.ticket_id = b.ticket_id
          LEFT JOIN revisited rv ON rv.tenant_id = b.tenant_id AND rv.ticket_id = b.ticket_id
    ), idle AS (
        -- a reopened ticket's time sat resolved or closed before its final
        -- resolution: not repair time
        SELECT w.tenant_id, w.ticket_id, pg_catalog.sum(w.next_at - w.at) AS wall,
               pg_catalog.sum(aftersales.business_diff(w.cal, w.at, w.next_at)) AS business
          FROM (SELECT ev.tenant_id, ev.ticket_id, ev.at, ev.to_state, r.cal, r.resolved_at,
                       pg_catalog.lead(ev.at) OVER (PARTITION BY ev.tenant_id, ev.ticket_id ORDER BY ev.seq) AS next_at
                  FROM judged r
                  JOIN aftersales.ticket_events ev ON ev.tenant_id = r.tenant_id AND ev.ticket_id = r.ticket_id
                 WHERE r.reopen_count > 0 AND r.resolved_at IS NOT NULL AND ev.at <= kpi_ticket_facts.as_of) w
         WHERE w.to_state IN ('resolved', 'closed') AND w.next_at <= w.resolved_at
         GROUP BY w.tenant_id, w.ticket_id
    )
    SELECT j.tenant_id, j.tenant_name, j.ticket_id, j.opened_at,
           j.status::text, j.priority::text, j.channel, j.field, j.customer_tier,
           j.region, j.province, j.org_id, j.org_name, j.org_type,
           j.unit_id, j.model_id, j.model_name, j.problem_type_id, j.problem_name,
           j.engineer_id, j.engineer_name,
           j.is_cancelled::integer,
           -- first response
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM j.first_response_at - j.opened_at) / 60 END,
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.opened_at, j.first_response_at)) / 60 END,
           CASE WHEN j.is_cancelled THEN NULL
                WHEN j.first_response_at IS NOT NULL THEN (j.first_response_at <= j.opened_at + j.response_target)::integer
                WHEN j.opened_at < kpi_ticket_facts.as_of - j.response_target THEN 0 END,
           -- arrival (field tickets)
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM j.arrived_at - j.opened_at) / 60 END,
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.opened_at, j.arrived_at)) / 60 END,
           CASE WHEN j.is_cancelled OR NOT j.field THEN NULL
                WHEN j.arrived_at IS NOT NULL THEN (j.arrived_at <= j.opened_at + j.arrival_target)::integer
                WHEN j.first_resolved_at IS NOT NULL THEN NULL
                WHEN j.opened_at < kpi_ticket_facts.as_of - j.arrival_target THEN 0 END,
           -- resolution (the final one)
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM j.resolved_at - j.opened_at) / 60 END,
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.opened_at, j.resolved_at)) / 60 END,
           CASE WHEN j.is_cancelled THEN NULL
                WHEN j.resolved_at IS NOT NULL THEN (j.resolved_at <= j.opened_at + j.completion_target)::integer
                WHEN j.opened_at < kpi_ticket_facts.as_of - j.completion_target THEN 0 END,
           -- repair: from the first response to the final resolution, less
           -- the time sat resolved or closed before a reopen
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM j.resolved_at - j.first_response_at - COALESCE(i.wall, interval '0')) / 60 END,
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.first_response_at, j.resolved_at)
                                                                - COALESCE(i.business, interval '0')) / 60 END,
           -- handling: from the assignment to the current engineer to the final resolution
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM j.resolved_at - j.assigned_at) / 60 END,
           CASE WHEN NOT j.is_cancelled THEN EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.assigned_at, j.resolved_at)) / 60 END,
           -- on time: by the customer-requested date, else by the resolution clock's due time
           CASE WHEN NOT j.is_cancelled THEN j.promise END,
           CASE WHEN j.is_cancelled OR j.promise IS NULL THEN NULL
                WHEN j.resolved_at IS NOT NULL THEN (j.resolved_at <= j.promise)::integer
                WHEN kpi_ticket_facts.as_of > j.promise THEN 0 END,
           CASE WHEN NOT j.is_cancelled THEN j.fr END,
           CASE WHEN NOT j.is_cancelled THEN j.arr END,
           CASE WHEN NOT j.is_cancelled THEN j.res END,
           -- first-time fix, closed loop, reopen: over tickets resolved at least once
           CASE WHEN j.is_cancelled OR j.first_resolved_at IS NULL THEN NULL
                WHEN j.attempt_count > 0 OR j.reopen_count > 0 OR j.is_revisited THEN 0
                ELSE 1 END,
           CASE WHEN j.is_cancelled OR j.first_resolved_at IS NULL THEN NULL
                ELSE (j.status = 'closed')::integer END,
           CASE WHEN j.is_cancelled OR j.first_resolved_at IS NULL THEN NULL
                ELSE (j.reopen_count > 0)::integer END,
           CASE WHEN j.is_cancelled OR j.unit_id IS NULL THEN NULL
                ELSE COALESCE(j.is_repeat, false)::integer END,
           -- the latest follow-up's scores
           CASE WHEN NOT j.is_cancelled THEN j.csat::integer END,
           CASE WHEN NOT j.is_cancelled THEN (j.csat >= j.csat_good_min)::integer END,
           CASE WHEN NOT j.is_cancelled THEN j.nps::integer END,
           CASE WHEN NOT j.is_cancelled THEN (j.nps >= 9)::integer END,
           CASE WHEN NOT j.is_cancelled THEN (j.nps <= 6)::integer END
      FROM judged j
      LEFT JOIN idle i ON i.tenant_id = j.tenant_id AND i.ticket_id = j.ticket_id;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_ticket_facts(timestamptz, timestamptz, timestamptz, bigint) IS
  'One row per ticket entered in [since, until): its dimensions and every per-ticket KPI judgement (durations in minutes, 1/0/NULL flags), unfinished tickets judged at as_of; the definitions behind kpi_service';
