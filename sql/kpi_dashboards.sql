-- KPIs (issue 5): every KPI function against a small dataset built through
-- the API at exact instants, each expected figure derived by hand below
-- (the derivations are in the comments; the expected output was checked
-- line by line against them).
--
-- Edge cases: no tickets; a ticket on hold since entry (T5: every rate
-- "not judged"); a reopen (T3); a ticket entered on 31 January and
-- resolved in February (T4); a follow-up without a score (T4); a
-- cancelled ticket (T6); a failed attempt (T2); a ticket locked by a late
-- assignment and taken over (T10); a priority change (T9).
\i sql/fixtures/fresh_extension.sql
SET extra_float_digits = 0;
SET aftersales.now = '2026-01-01 00:00+00';
SET aftersales.actor = 'kpi.test';

-- ---------------------------------------------------------------------------
-- Fixture.  Organisations: 1 HQ; 2 华东大区 > 3 江苏代表处 > 4 南京经销商
-- (dealer); 5 中南大区 > 6 广东代表处 > 7 深圳供应商 (supplier).
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.organisations (parent_id, level, name, region) VALUES (1, 'region', '华东大区', '华东');
INSERT INTO aftersales.organisations (parent_id, level, name, province) VALUES (2, 'province', '江苏代表处', '江苏');
INSERT INTO aftersales.organisations (parent_id, level, org_type, name) VALUES (3, 'outlet', 'dealer', '南京经销商');
INSERT INTO aftersales.organisations (parent_id, level, name, region) VALUES (1, 'region', '中南大区', '中南');
INSERT INTO aftersales.organisations (parent_id, level, name, province) VALUES (5, 'province', '广东代表处', '广东');
INSERT INTO aftersales.organisations (parent_id, level, org_type, name) VALUES (6, 'outlet', 'supplier', '深圳供应商');
-- Customers: 1 Acme (华东/江苏), 2 Bolt (中南/广东), 3 Cora without a
-- location: its region and province come from its organisation 3 (华东/江苏).
INSERT INTO aftersales.customers (name, tier, region, province, org_id)
VALUES ('Acme', 'key', '华东', '江苏', 4), ('Bolt', 'standard', '中南', '广东', 7), ('Cora', 'major', NULL, NULL, 3);
INSERT INTO aftersales.product_lines (code, name) VALUES ('CMP', 'Compressors');
INSERT INTO aftersales.product_models (product_line_id, code, name, warranty_months)
VALUES (1, 'CMP-100', 'Compressor 100', 12), (1, 'CMP-200', 'Compressor 200', 24);
-- Units: 1 installed 2025-12-01, warranty from the model (12 months: to
-- 2026-11-30), so January tickets are early failures; 2 out of warranty
-- since 2025-01-09; 3 installed 2025-06-01, warranty to 2026-05-31.
INSERT INTO aftersales.units (model_id, customer_id, serial, installed_on, warranty_ends)
VALUES (1, 1, 'SN-1', '2025-12-01', NULL), (2, 2, 'SN-2', '2023-01-10', '2025-01-09'), (1, 3, 'SN-3', '2025-06-01', '2026-05-31');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power'), ('NOISE', 'Noise');
INSERT INTO aftersales.engineers (org_id, name, capacity) VALUES (4, 'Wang', 4), (7, 'Li', 2), (3, 'Zhao', 8);
-- Acme has an agreement on an office calendar (UTC, Mon-Fri 09:00-17:00):
-- priority B: first response 1 business hour, resolution 8 business hours
-- (paused on hold), arrival 4 hours wall clock.  The others get the
-- shipped default policy (24x7: business time = wall-clock time; A 5 min /
-- 30 min, B 30 min / 2 h, C 4 h / 24 h, arrival 4 h).
SELECT aftersales.set_calendar('office', 'zone=UTC; mon-fri 09:00-17:00');
INSERT INTO aftersales.sla_policies (name, calendar) VALUES ('office', 'office');
INSERT INTO aftersales.sla_targets (policy_id, priority, metric, target, clock, pauses_on_hold)
SELECT 2, p::aftersales.priority, m.metric::aftersales.sla_metric, m.target::interval, m.clock, m.pauses
  FROM unnest('{A,B,C}'::text[]) p,
       (VALUES ('first_response', '1 h', 'business', false), ('resolution', '8 h', 'business', true),
               ('arrival', '4 h', '24x7', false)) AS m (metric, target, clock, pauses);
INSERT INTO aftersales.service_agreements (customer_id, policy_id, name, valid)
VALUES (1, 2, 'ACME-2026', '[2026-01-01,2026-12-31]');

-- ---------------------------------------------------------------------------
-- Tickets, all times UTC.
-- T1: Acme, unit 1, no power, B, field, dealer.  Mon 5 Jan 09:00; response
-- (start) 09:08 = 8 min; arrival 11:00 = 120 min; resolved 13:00 = 240 min;
-- satisfied follow-up, CSAT 5, NPS 10: closed.  All inside office hours, so
-- business = wall.  Repair 09:08-13:00 = 232, handling 09:02-13:00 = 238.
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'T1', unit => 1,
                              field => true, org => 4, at => '2026-01-05 09:00+00');
SELECT aftersales.assign_ticket(1, engineer => 1, at => '2026-01-05 09:02+00');
SELECT aftersales.start_work(1, at => '2026-01-05 09:08+00');
SELECT aftersales.arrive_on_site(1, at => '2026-01-05 11:00+00');
SELECT aftersales.resolve_ticket(1, at => '2026-01-05 13:00+00');
SELECT aftersales.follow_up(1, satisfied => true, csat => 5, nps => 10, at => '2026-01-06 10:00+00');
-- T2: Acme, unit 1, no power again (a repeat: 11 days after T1), B, wechat,
-- not field.  Fri 16 Jan 16:00; response Mon 19 Jan 09:30 = 65.5 h = 3930
-- min, business 60 (Fri 16-17) + 30 = 90; a failed attempt; Li resolves
-- Mon 12:00: 68 h = 4080 min, business 60 + 180 = 240; repair 09:30-12:00
-- = 150; handling from Li's assignment 10:30 = 90.  CSAT 4, NPS 8.
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'T2', unit => 1,
                              channel => 'wechat', org => 4, at => '2026-01-16 16:00+00');
SELECT aftersales.assign_ticket(2, engineer => 1, at => '2026-01-16 16:05+00');
SELECT aftersales.start_work(2, at => '2026-01-19 09:30+00');
SELECT aftersales.fail_attempt(2, reason => 'wrong part', at => '2026-01-19 10:00+00');
SELECT aftersales.assign_ticket(2, engineer => 2, at => '2026-01-19 10:30+00');
SELECT aftersales.start_work(2, at => '2026-01-19 10:40+00');
SELECT aftersales.resolve_ticket(2, at => '2026-01-19 12:00+00');
SELECT aftersales.follow_up(2, satisfied => true, csat => 4, nps => 8, at => '2026-01-20 09:00+00');
-- T3: Bolt, unit 2 (out of warranty), noise, A, field, supplier.  Tue 20
-- Jan 08:00; arrives 08:30 (the first response too: 30 min); resolved
-- 09:00; unsatisfied follow-up (CSAT 2, NPS 3) at 12:00 reopens it; Li
-- arrives again 14:00 (a second visit) and resolves 15:00: final
-- resolution 420 min; repair 08:30-15:00 = 390; handling 13:00-15:00 =
-- 120.  Satisfied follow-up, CSAT 4, NPS 9: closed.
SELECT aftersales.open_ticket(customer => 2, problem_type => 2, priority => 'A', description => 'T3', unit => 2,
                              field => true, org => 7, at => '2026-01-20 08:00+00');
SELECT aftersales.assign_ticket(3, engineer => 2, at => '2026-01-20 08:01+00');
SELECT aftersales.arrive_on_site(3, at => '2026-01-20 08:30+00');
SELECT aftersales.resolve_ticket(3, at => '2026-01-20 09:00+00');
SELECT aftersales.follow_up(3, satisfied => false, csat => 2, nps => 3, at => '2026-01-20 12:00+00');
SELECT aftersales.assign_ticket(3, engineer => 2, at => '2026-01-20 13:00+00');
SELECT aftersales.arrive_on_site(3, at => '2026-01-20 14:00+00');
SELECT aftersales.resolve_ticket(3, at => '2026-01-20 15:00+00');
SELECT aftersales.follow_up(3, satisfied => true, csat => 4, nps => 9, at => '2026-01-21 10:00+00');
-- T4: Cora (location from organisation 3), unit 3 (in warranty), no power,
-- C, web, no organisation on the ticket, requested by Mon 2 Feb 12:00.
-- Entered Sat 31 Jan 22:00, resolved Mon 2 Feb 10:00 (crosses the month):
-- response Sun 08:05 = 605 min; on hold Sun 09:00 to Mon 09:00; resolution
-- 36 h = 2160 min (holds included); repair 08:05 Sun - 10:00 Mon = 1555;
-- handling 08:00 Sun - 10:00 Mon = 1560.  Follow-up without a score.
SELECT aftersales.open_ticket(customer => 3, problem_type => 1, priority => 'C', description => 'T4', unit => 3,
                              channel => 'web', requested_at => '2026-02-02 12:00+00', at => '2026-01-31 22:00+00');
SELECT aftersales.assign_ticket(4, engineer => 3, at => '2026-02-01 08:00+00');
SELECT aftersales.start_work(4, at => '2026-02-01 08:05+00');
SELECT aftersales.hold_ticket(4, reason => 'customer closed on Sunday', at => '2026-02-01 09:00+00');
SELECT aftersales.resume_ticket(4, at => '2026-02-02 09:00+00');
SELECT aftersales.resolve_ticket(4, at => '2026-02-02 10:00+00');
SELECT aftersales.follow_up(4, satisfied => true, at => '2026-02-03 09:00+00');
-- T5: Bolt, model 2 without a unit, no power, C, app, field, supplier;
-- entered on hold Mon 26 Jan 10:00 and still on hold.
SELECT aftersales.open_ticket(customer => 2, problem_type => 1, priority => 'C', description => 'T5', model => 2,
                              channel => 'app', field => true, org => 7, on_hold => true, reason => 'customer away',
                              at => '2026-01-26 10:00+00');
-- T6: Acme, unit 1, noise, B, dealer; cancelled half an hour later.
SELECT aftersales.open_ticket(customer => 1, problem_type => 2, priority => 'B', description => 'T6', unit => 1,
                              org => 4, at => '2026-01-28 10:00+00');
SELECT aftersales.cancel_ticket(6, reason => 'duplicate', at => '2026-01-28 10:30+00');
-- T7: Bolt, unit 2, noise again (a repeat: 20 days after T3), B, field,
-- supplier; Mon 9 Feb 12:00, assigned to Wang 12:05, nothing since.
SELECT aftersales.open_ticket(customer => 2, problem_type => 2, priority => 'B', description => 'T7', unit => 2,
                              field => true, org => 7, at => '2026-02-09 12:00+00');
SELECT aftersales.assign_ticket(7, engineer => 1, at => '2026-02-09 12:05+00');
-- T8: Acme, no unit, noise, B, email, dealer; Tue 3 Feb 09:00, response
-- 09:15, resolved 10:00, no follow-up yet.  Repair 45, handling 50.
SELECT aftersales.open_ticket(customer => 1, problem_type => 2, priority => 'B', description => 'T8',
                              channel => 'email', org => 4, at => '2026-02-03 09:00+00');
SELECT aftersales.assign_ticket(8, engineer => 1, at => '2026-02-03 09:10+00');
SELECT aftersales.start_work(8, at => '2026-02-03 09:15+00');
SELECT aftersales.resolve_ticket(8, at => '2026-02-03 10:00+00');
-- T9: Bolt, no unit, no power, C raised to A at 10:30, supplier; Wed 4
-- Feb 10:00; Li assigned 11:00, starts 12:00 (120 min), resolves Fri 6 Feb
-- 10:00 (2880 min); repair 2760, handling 2820.
SELECT aftersales.open_ticket(customer => 2, problem_type => 1, priority => 'C', description => 'T9',
                              org => 7, at => '2026-02-04 10:00+00');
SELECT aftersales.set_priority(9, priority => 'A', reason => 'line down', at => '2026-02-04 10:30+00');
SELECT aftersales.assign_ticket(9, engineer => 2, at => '2026-02-04 11:00+00');
SELECT aftersales.start_work(9, at => '2026-02-04 12:00+00');
SELECT aftersales.resolve_ticket(9, at => '2026-02-06 10:00+00');
-- T10: Acme, no unit, no power, B, dealer, requested by Thu 5 Feb 10:00;
-- entered 09:00; assigned at 11:00, after the requested date: locked; the
-- manager gives it to Zhao Fri 6 Feb 09:00.
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'T10',
                              org => 4, requested_at => '2026-02-05 10:00+00', at => '2026-02-05 09:00+00');
SELECT aftersales.assign_ticket(10, engineer => 1, at => '2026-02-05 11:00+00');
SELECT aftersales.take_over_ticket(10, engineer => 3, at => '2026-02-06 09:00+00');

SELECT ticket_id, status, priority, assignee_id, attempt_count, reopen_count FROM aftersales.tickets ORDER BY ticket_id;
SELECT ticket_id, metric, outcome, due_at FROM aftersales.ticket_sla ORDER BY ticket_id, metric;

-- Everything below is judged as of Tue 10 Feb 00:00.
SET aftersales.now = '2026-02-10 00:00+00';

-- ---------------------------------------------------------------------------
-- Per-ticket facts (the definitions).  Hand results:
--          resp  bus  in | arr in | resol  bus  in | repair handl | promise  ontime | sla fr/arr/res | ftf loop reop rep | csat nps
-- T1         8     8   1 | 120  1 |   240  240  1 |   232   238 | 01-05 17 1 | met/met/met          | 1 1 0 0 | 5 10
-- T2      3930    90   0 |  -   - |  4080  240  0 |   150    90 | 01-19 16 1 | breached/-/met       | 0 1 0 1 | 4 8
-- T3        30    30   0 |  30  1 |   420  420  1 |   390   120 | 01-20 11:30 0 | breached/met/breached | 0 1 1 0 | 4 9
-- T4       605   605   0 |  -   - |  2160 2160  0 |  1555  1560 | 02-02 12 1 | breached/-/met       | 1 1 0 0 | - -
-- T5        -     -    - (on hold: not judged) ...  promise 01-27 10:00 (due of the paused clock), not judged; clocks running
-- T6       cancelled: nothing judged
-- T7        -     -    0 |  -   0 |    -    -   - (12 h old) | promise 02-09 14:00, 0 | running | - - - 1
-- T8       15    15    0 |  -   - |    60   60  1 |    45    50 | 02-03 17 1 | met/-/met            | 1 0 0 - | - -
-- T9      120   120    0 |  -   - |  2880 2880  0 |  2760  2820 | 02-04 10:30 0 | breached/-/breached | 1 0 0 - | - -
-- T10       -     -    0 |  -   - |    -    -   0 (111 h old) | promise 02-05 10:00, 0 | running | - - - -
-- (T2's promise: 8 business hours from Fri 16:00 = Mon 16:00; T3's: 30 min
-- plus the 3 h it spent resolved before the reopen = 11:30.)
SELECT ticket_id, response_minutes AS resp, response_business_minutes AS resp_b, responded_in_target AS resp_in,
       arrival_minutes AS arr, arrived_in_target AS arr_in, resolution_minutes AS res,
       resolution_business_minutes AS res_b, completed_in_target AS res_in, repair_minutes AS repair,
       handling_minutes AS handling, promised_at, completed_on_time AS on_time
  FROM aftersales.kpi_ticket_facts('2026-01-01', '2026-03-01') ORDER BY ticket_id;
SELECT ticket_id, cancelled, sla_first_response, sla_arrival, sla_resolution, first_time_fix AS ftf,
       closed_loop, reopened, repeat_problem AS repeat, csat_score, csat_good, nps_score, nps_promoter, nps_detractor,
       region, province, org_type, engineer_name
  FROM aftersales.kpi_ticket_facts('2026-01-01', '2026-03-01') ORDER BY ticket_id;

-- ---------------------------------------------------------------------------
-- kpi_service by month.
-- January (T1-T6): 6 tickets, 1 cancelled, resolved T1-T4 = 4, closed 4,
--   unresolved T5 = 1.
--   response 1/4 (T1; T2, T3, T4 late; T5 on hold, T6 cancelled) = 0.2500
--   arrival 2/2 (T1, T3; T5 on hold) = 1.0000
--   completion 2/4 (T1, T3; T2, T4 over 24 h) = 0.5000
--   on time 3/4 (T1, T2, T4; T3 late) = 0.7500
--   SLA first response 1/4 = 0.2500, arrival 2/2 = 1.0000, resolution 3/4
--   (T3 breached) = 0.7500
--   AFR (8 + 3930 + 30 + 605) / 4 = 1143.25, business (8 + 90 + 30 + 605) / 4 = 183.25
--   ART (240 + 4080 + 420 + 2160) / 4 = 1725.00, business (240 + 240 + 420 + 2160) / 4 = 765.00
--   MTTR (232 + 150 + 390 + 1555) / 4 = 581.75, business the same (no
--   repair crosses office closing time)
--   first-time fix 2/4 (T1, T4; T2 failed, T3 reopened) = 0.5000
--   closed loop 4/4 = 1.0000; repeats 1/4 (T2; units T1-T4) = 0.2500;
--   reopens 1/4 (T3) = 0.2500
--   CSAT (5 + 4 + 4) / 3 = 4.33 (T4's follow-up has no score), good 3/3,
--   NPS promoters T1, T3, passive T2: 100 * 2 / 3 = 66.7
-- February (T7-T10): 4 tickets, resolved T8, T9 = 2, closed 0, unresolved 2.
--   response 0/4 = 0.0000; arrival 0/1 (T7, over 4 h) = 0.0000;
--   completion 1/3 (T8; T9 48 h, T10 111 h; T7 only 12 h: not judged) = 0.3333
--   on time 1/4 (T8) = 0.2500; SLA first response 1/2 (T8 met, T9
--   breached; T7, T10 running) = 0.5000, arrival none, resolution 1/2
--   AFR (15 + 120) / 2 = 67.50; ART (60 + 2880) / 2 = 1470.00; MTTR (45 + 2760) / 2 = 1402.50
--   first-time fix 2/2, closed loop 0/2, repeats 1/1 (T7), reopens 0/2;
--   no scores
SELECT period_start, dim_key, dim_name, tickets, cancelled, resolved, closed, unresolved,
       response_rate, arrival_rate, completion_rate, on_time_completion_rate,
       sla_first_response_rate, sla_arrival_rate, sla_resolution_rate
  FROM aftersales.kpi_service('month', 'all', '2026-01-01', '2026-03-01', zone => 'UTC');
SELECT period_start, avg_first_response_minutes, avg_first_response_business_minutes,
       avg_resolution_minutes, avg_resolution_business_minutes, mttr_minutes, mttr_business_minutes
  FROM aftersales.kpi_service('month', 'all', '2026-01-01', '2026-03-01', zone => 'UTC');
SELECT period_start, first_time_fix_rate, closed_loop_rate, repeat_problem_rate, reopen_rate,
       csat_avg, csat_good_share, nps, csat_responses, nps_responses
  FROM aftersales.kpi_service('month', 'all', '2026-01-01', '2026-03-01', zone => 'UTC');

-- The headline gives the same figures in one pass over the tickets.
SELECT h.period_start, h.dim_key, h.tickets, h.resolved, h.response_rate, h.arrival_rate, h.completion_rate,
       h.closed_loop_rate, h.reopen_rate, h.csat_avg, h.csat_good_share, h.nps
  FROM aftersales.kpi_headline('month', 'all', '2026-01-01', '2026-03-01', zone => 'UTC') h;
SELECT d.dimension, count(*) AS groups,
       count(*) FILTER (WHERE (h.tickets, h.cancelled, h.resolved, h.closed, h.unresolved, h.response_rate,
                               h.arrival_rate, h.completion_rate, h.closed_loop_rate, h.reopen_rate, h.csat_avg,
                               h.csat_good_share, h.nps, h.csat_responses, h.nps_responses, h.dim_name)
                          IS NOT DISTINCT FROM
                              (s.tickets, s.cancelled, s.resolved, s.closed, s.unresolved, s.response_rate,
                               s.arrival_rate, s.completion_rate, s.closed_loop_rate, s.reopen_rate, s.csat_avg,
                               s.csat_good_share, s.nps, s.csat_responses, s.nps_responses, s.dim_name)) AS equal
  FROM unnest('{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}'::text[]) d (dimension)
 CROSS JOIN LATERAL aftersales.kpi_headline('week', d.dimension, '2026-01-01', '2026-03-01', zone => 'UTC') h
  LEFT JOIN LATERAL aftersales.kpi_service('week', d.dimension, '2026-01-01', '2026-03-01', zone => 'UTC') s
    ON s.period_start = h.period_start AND s.dim_key IS NOT DISTINCT FROM h.dim_key
 GROUP BY d.dimension ORDER BY d.dimension;

-- By dimension, whole range (period all).
-- Region: 华东 = T1, T2, T4 (Cora, from organisation 3), T6, T8, T10;
--   中南 = T3, T5, T7, T9.
--   华东: response 1/5 (T1) = 0.2000, completion 2/5 (T1, T8) = 0.4000,
--   first-time fix 3/4 (T1, T4, T8) = 0.7500, CSAT (5 + 4) / 2 = 4.50.
--   中南: response 0/3 (T5 on hold), completion 1/2 (T3; T7 young) =
--   0.5000, first-time fix 1/2 (T9) = 0.5000, CSAT 4.00.
SELECT period_start, dim_key, dim_name, tickets, cancelled, response_rate, completion_rate, first_time_fix_rate, csat_avg
  FROM aftersales.kpi_service('all', 'region', '2026-01-01', '2026-03-01');
-- Organisation type: dealer = T1, T2, T6, T8, T10 (response 1/4, completion
--   2/4, first-time fix 2/3, CSAT 4.50); representative_office = T4 (the
--   customer's organisation 3); supplier = T3, T5, T7, T9 (as 中南).
SELECT period_start, dim_key, dim_name, tickets, cancelled, response_rate, completion_rate, first_time_fix_rate, csat_avg
  FROM aftersales.kpi_service('all', 'organisation_type', '2026-01-01', '2026-03-01');
-- Engineer (who holds it now; resolved: who resolved it): Wang T1, T7, T8
--   (resolved T1, T8; unresolved T7; first-time fix 2/2); Li T2, T3, T9
--   (all resolved; first-time fix T9 only: 1/3); Zhao T4, T10 (1 resolved,
--   1 unresolved; 1/1); nobody T5, T6 (T5 unresolved, T6 cancelled).
-- Priority (now) and completion: A = T3 (1), T9 (0): 1/2; B = T1 (1), T2
--   (0), T6 (cancelled), T7 (too young), T8 (1), T10 (0): 2/4; C = T4 (0),
--   T5 (on hold): 0/1.
SELECT dim_key, dim_name, tickets, resolved, unresolved, first_time_fix_rate
  FROM aftersales.kpi_service('all', 'engineer', '2026-01-01', '2026-03-01');
SELECT dim_key, tickets, cancelled, completion_rate FROM aftersales.kpi_service('all', 'priority', '2026-01-01', '2026-03-01');

-- The month boundary: T4 (Sat 31 Jan 22:00 UTC) is February in Shanghai.
SELECT period_start, tickets, resolved FROM aftersales.kpi_service('month', 'all', '2026-01-01', '2026-03-01', zone => 'UTC');
SELECT period_start, tickets, resolved FROM aftersales.kpi_service('month', 'all', '2026-01-01', '2026-03-01', zone => 'Asia/Shanghai');

-- as_of decides unfinished tickets only: on 9 Feb 13:00, T7 (entered
-- 12:00) is past its 10-minute response but not its 4-hour arrival, and
-- T10 is past everything: February response 0/4, arrival not judged,
-- completion 1/3 as before (T10 is judged: 100 h > 24 h).
SELECT period_start, response_rate, arrival_rate, completion_rate
  FROM aftersales.kpi_service('month', 'all', '2026-02-01', '2026-03-01', as_of => '2026-02-09 13:00+00', zone => 'UTC');

-- Edge: all paused.  Only T5 (on hold since entry) on 26 Jan: one ticket,
-- every rate and duration not judged (NULL), nothing resolved.
SELECT tickets, unresolved, response_rate, arrival_rate, completion_rate, on_time_completion_rate,
       sla_first_response_rate, avg_first_response_minutes, first_time_fix_rate, closed_loop_rate, csat_avg, nps
  FROM aftersales.kpi_service('all', 'all', '2026-01-26', '2026-01-27');
-- Edge: no tickets.
SELECT count(*) FROM aftersales.kpi_service('month', 'region', '2025-01-01', '2025-12-31');
SELECT count(*) FROM aftersales.kpi_headline('day', 'all', '2025-01-01', '2025-12-31');
SELECT count(*) FROM aftersales.kpi_ticket_facts('2025-01-01', '2025-12-31');

-- Settings change the answers: a 10-day repeat window leaves no repeat
-- (T2 came 11 days after T1, T7 20 days after T3); a 60-minute response
-- target adds T3 (30 min) and T8 (15 min): January 2/4, February 1/4.
SELECT aftersales.set_kpi_setting('repeat_window_days', 10);
SELECT aftersales.set_kpi_setting('response_target_minutes', 60);
SELECT period_start, repeat_problem_rate, response_rate FROM aftersales.kpi_service('month', 'all', '2026-01-01', '2026-03-01', zone => 'UTC');
SELECT aftersales.set_kpi_setting('repeat_window_days', 30);
SELECT aftersales.set_kpi_setting('response_target_minutes', 10);

-- Distributions (duration_stats), January (T1-T5, T6 cancelled):
--   first response wall 8, 30, 605, 3930: mean 1143.25, max 3930;
--     business 8, 30, 90, 605: mean 183.25, max 605
--   arrival 120 (T1), 30 (T3), the same in business time: mean 75, max 120
--   resolution wall 240, 420, 2160, 4080: mean 1725, max 4080; business
--     240, 240, 420, 2160: mean 765, max 2160
--   repair 232, 150, 390, 1555 (business the same): mean 581.75, max 1555
--   handling 238, 90, 120, 1560 (business the same): mean 502, max 1560
SELECT measure, clock, n, mean_minutes, max_minutes
  FROM aftersales.kpi_durations('month', 'all', '2026-01-01', '2026-02-01', zone => 'UTC');
-- Quantiles, interpolated between ranks like percentile_cont, each within
-- 0.5% of the exact value (rank (n - 1) q):
--   first response wall p50 30 + 0.5 * (605 - 30) = 317.5, p90 605 + 0.7 *
--   (3930 - 605) = 2932.5, p95 605 + 0.85 * 3325 = 3431.25; business p50
--   30 + 0.5 * 60 = 60, p90 90 + 0.7 * 515 = 450.5, p95 90 + 0.85 * 515 =
--   527.75; resolution wall p50 420 + 0.5 * 1740 = 1290, p90 2160 + 0.7 *
--   1920 = 3504, p95 2160 + 0.85 * 1920 = 3792; business p50 240 + 0.5 *
--   180 = 330, p90 420 + 0.7 * 1740 = 1638, p95 420 + 0.85 * 1740 = 1899.
SELECT d.measure, d.clock,
       abs(d.p50_minutes / h.p50 - 1) <= 0.005 AS p50_ok, abs(d.p90_minutes / h.p90 - 1) <= 0.005 AS p90_ok,
       abs(d.p95_minutes / h.p95 - 1) <= 0.005 AS p95_ok
  FROM aftersales.kpi_durations('month', 'all', '2026-01-01', '2026-02-01', zone => 'UTC') d
  JOIN (VALUES ('first_response', 'wall', 317.5, 2932.5, 3431.25), ('first_response', 'business', 60, 450.5, 527.75),
               ('resolution', 'wall', 1290, 3504, 3792), ('resolution', 'business', 330, 1638, 1899))
       AS h (measure, clock, p50, p90, p95) USING (measure, clock);
-- By engineer over both months, resolution (wall): Wang T1 240, T8 60
-- (mean 150); Li T2 4080, T3 420, T9 2880 (mean 2460); Zhao T4 2160.
SELECT dim_name, n, mean_minutes, max_minutes
  FROM aftersales.kpi_durations('all', 'engineer', '2026-01-01', '2026-03-01') WHERE measure = 'resolution' AND clock = 'wall';

-- ---------------------------------------------------------------------------
-- Staff, by month of entry (not cancelled, held or resolved by the engineer):
-- January: Wang T1 (handling 238, first-time fix, CSAT 5); Li T2, T3
--   (handling (90 + 120) / 2 = 105, total 210; no first-time fix; CSAT 4);
--   Zhao T4 (1560; first-time fix; no score).
-- February: Wang T7 (unresolved), T8 (handling 50); Li T9 (2820); Zhao T10
--   (unresolved).
SELECT period_start, engineer_id, engineer_name, org_name, org_type, tickets, resolved, unresolved,
       avg_handling_minutes, avg_handling_business_minutes, total_handling_minutes, first_time_fix_rate, csat_avg
  FROM aftersales.kpi_staff('month', '2026-01-01', '2026-03-01', zone => 'UTC');

-- Dispatches (assignment events ending in assigned; T10's late assign
-- locked it and is no dispatch; the take-over is):
-- January: dealer T1, T2, T2 again (after the failure) = 3 on 2 tickets;
--   supplier T3 twice = 2 on 1 ticket.
-- February: dealer T8, T10 (take-over) = 2; representative office T4 = 1;
--   supplier T7, T9 = 2.
SELECT * FROM aftersales.kpi_dispatch('month', 'organisation_type', '2026-01-01', '2026-03-01', zone => 'UTC');
-- By the engineer dispatched to: Wang T1, T2, T7, T8 = 4; Li T2, T3, T3, T9
-- = 4; Zhao T4, T10 = 2.
SELECT dim_key, dim_name, dispatches, tickets FROM aftersales.kpi_dispatch('all', 'engineer', '-infinity', 'infinity');

-- ---------------------------------------------------------------------------
-- Backlog.  As of 10 Feb 00:00 the open tickets are T5 (on hold since 26
-- Jan 10:00: 350 h), T7 (assigned to Wang, 12 h) and T10 (assigned to
-- Zhao, since 5 Feb 09:00: 111 h).
SELECT * FROM aftersales.backlog_as_of('2026-02-10 00:00+00');
-- Rebuilt from the event log:
-- 20 Jan 12:30: only T3, sent back to assignment by the unsatisfied
--   follow-up at 12:00 (new, no engineer, 4.5 h); T2 was closed at 09:00.
SELECT * FROM aftersales.backlog_as_of('2026-01-20 12:30+00');
-- 4 Feb 10:15: T5 (216.25 h) and T9, not yet raised to A (new, C, 0.25 h).
SELECT * FROM aftersales.backlog_as_of('2026-02-04 10:15+00');
-- 5 Feb 12:00: T5; T9 in progress with Li, priority A, 26 h; T10 locked by
-- the late assignment (no engineer), 3 h.
SELECT * FROM aftersales.backlog_as_of('2026-02-05 12:00+00');
-- Before any ticket: empty.
SELECT count(*) FROM aftersales.backlog_as_of('2025-12-31 00:00+00');

-- By organisation type as of 10 Feb: dealer T10 (111 h: over 24, 48, 72,
-- 96, not 120); supplier T5 (350 h: every bucket, on hold) and T7 (12 h:
-- none): mean (350 + 12) / 2 = 181.
SELECT * FROM aftersales.kpi_backlog('organisation_type');
SELECT * FROM aftersales.kpi_backlog('organisation');
SELECT dim_key, dim_name, open_tickets, unassigned, in_work, max_age_hours FROM aftersales.kpi_backlog('engineer', '2026-02-05 12:00+00');

-- Holdings: as of 10 Feb Wang holds T7 (load 1/4), Li nothing (T9
-- resolved), Zhao T10 (1/8).  As of 5 Feb 12:00 only Li holds T9 (1/2).
SELECT engineer_id, engineer_name, org_type, capacity, holdings, assigned, in_progress, on_site, on_hold, load_ratio, max_age_hours
  FROM aftersales.kpi_engineer_holdings();
SELECT engineer_id, holdings, in_progress, load_ratio, max_age_hours
  FROM aftersales.kpi_engineer_holdings('2026-02-05 12:00+00');

-- ---------------------------------------------------------------------------
-- Quality.  Failures = tickets not cancelled; warranty class on the UTC
-- entry date:
--   T1 (5 Jan, 35 days after installing unit 1), T2 (16 Jan, 46 days):
--   early; T3, T7 (unit 2, warranty ended 2025-01-09): out of warranty;
--   T4 (unit 3, 244 days after installation, warranty to 2026-05-31): in
--   warranty; T5, T8, T9, T10 (no unit): unknown.
-- By problem type and month: January no power T1, T2, T4, T5 = 4 (early 2,
-- in 1, unknown 1), noise T3 = 1 (out); February no power T9, T10 = 2
-- (unknown), noise T7, T8 = 2 (out 1, unknown 1): a tie, broken by key.
SELECT * FROM aftersales.kpi_failures('month', 'problem_type', '2026-01-01', '2026-03-01', zone => 'UTC');
-- Top province over the whole range: 江苏 T1, T2, T4, T8, T10 = 5 (广东 4).
SELECT * FROM aftersales.kpi_failures('all', 'province', '-infinity', 'infinity', top => 1);
-- By model: CMP-100 T1, T2, T4 = 3; CMP-200 T3, T5, T7 = 3; none T8, T9,
-- T10 = 3 (ties by key: model 1, model 2, none).
SELECT * FROM aftersales.kpi_failures('all', 'product_model', '-infinity', 'infinity');
-- By region and month.
SELECT * FROM aftersales.kpi_failures('month', 'region', '2026-01-01', '2026-03-01', zone => 'UTC');

-- Warranty trend, January to March, against the warning lines 400/600/600:
-- January 5 (early 2, in 1, out 1, unknown 1), February 4 (out 1, unknown
-- 3), March none (a row of zeros).  Lowering the early-failure line to 2
-- raises January's alert.
SELECT * FROM aftersales.kpi_warranty_trend('month', '2026-01-01', '2026-04-01', zone => 'UTC');
SELECT aftersales.set_kpi_setting('early_failure_warning', 2);
SELECT period_start, early_failures, early_failure_warning, early_failure_alert
  FROM aftersales.kpi_warranty_trend('month', '2026-01-01', '2026-04-01', zone => 'UTC');
SELECT aftersales.set_kpi_setting('early_failure_warning', 400);
-- In Shanghai T4 is a February failure; 'all' gives one row.
SELECT * FROM aftersales.kpi_warranty_trend('month', '2026-01-01', '2026-03-01', zone => 'Asia/Shanghai');
SELECT * FROM aftersales.kpi_warranty_trend('all', '-infinity', 'infinity');
-- Edge: no tickets: zeros for each month of the range.
SELECT period_start, failures, early_failures, early_failure_alert FROM aftersales.kpi_warranty_trend('quarter', '2025-01-01', '2025-07-01');

-- ---------------------------------------------------------------------------
-- The views (current tenant, as of aftersales.now(), session TimeZone UTC).
SELECT month, tickets, response_rate, completion_rate, first_time_fix_rate, closed_loop_rate, csat_avg, nps
  FROM aftersales.kpi_service_monthly;
SELECT month, region, tickets, response_rate FROM aftersales.kpi_service_monthly_by_region;
SELECT month, org_type, org_type_name, tickets, completion_rate FROM aftersales.kpi_service_monthly_by_org_type;
SELECT * FROM aftersales.kpi_backlog_by_org_type;
SELECT * FROM aftersales.kpi_backlog_by_organisation;
SELECT ticket_id, status, age_hours, org_type, engineer_name FROM aftersales.kpi_open_tickets;
SELECT engineer_name, holdings, load_ratio FROM aftersales.kpi_holdings;
SELECT dimension, month, dim_name, failures, rank FROM aftersales.kpi_failures_monthly WHERE rank <= 1;
SELECT * FROM aftersales.kpi_warranty_monthly;
SELECT month, engineer_name, tickets, avg_handling_minutes FROM aftersales.kpi_staff_monthly;
-- (resolution: January as above; February T8 60, T9 2880: mean 1470, max 2880, business the same)
SELECT month, measure, clock, n, mean_minutes, max_minutes FROM aftersales.kpi_durations_monthly WHERE measure = 'resolution';
SELECT * FROM aftersales.kpi_dispatch_monthly_by_org_type;
SELECT count(*) AS facts, sum(first_time_fix) AS first_time_fixes, round(avg(first_time_fix), 4) AS first_time_fix_rate
  FROM aftersales.kpi_facts;
SELECT code, name_zh, unit, target, target_direction FROM aftersales.kpi_definitions WHERE target IS NOT NULL ORDER BY sort_order;
SELECT name, value, unit FROM aftersales.kpi_settings_current ORDER BY name;
