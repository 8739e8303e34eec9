-- Dispatch: positions and distances, shifts and attendance, the ranking
-- of candidate engineers with a score per criterion, automatic assignment
-- (on a call, at entry, by the dispatch sweep), the dispatch alerts, and
-- the errors of bad input.
\i sql/fixtures/fresh_extension.sql
SET aftersales.now = '2026-03-02 08:00:00+08';

-- distances: Shanghai to Beijing, a point to itself, antipodes, bad input
SELECT round(aftersales.distance_km(31.2304, 121.4737, 39.9042, 116.4074)::numeric, 1) AS sh_bj_km;
SELECT aftersales.distance_km(31.2304, 121.4737, 31.2304, 121.4737) AS same_point;
SELECT round(aftersales.distance_km(0, 0, 0, 180)::numeric, 1) AS half_circumference;
SELECT aftersales.distance_km(91, 0, 0, 0);
SELECT aftersales.distance_km(0, 0, 0, -180.5);
SELECT aftersales.distance_km('NaN', 0, 0, 0);
SELECT aftersales.check_position(NULL, NULL);
SELECT aftersales.check_position(30, NULL);

-- the company: HQ, an East outlet in Shanghai, a North outlet in Beijing
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.organisations (level, org_type, name, parent_id, region) VALUES ('region', 'representative_office', 'East', 1, '华东');
INSERT INTO aftersales.organisations (level, org_type, name, parent_id, region) VALUES ('region', 'representative_office', 'North', 1, '华北');
INSERT INTO aftersales.organisations (level, org_type, name, parent_id, province, latitude, longitude)
VALUES ('province', 'representative_office', 'Shanghai outlet', 2, '上海', 31.2304, 121.4737),
       ('province', 'dealer', 'Beijing outlet', 3, '北京', 39.9042, 116.4074);
INSERT INTO aftersales.organisations (level, org_type, name, parent_id, province, latitude, longitude)
VALUES ('province', 'dealer', 'Bad outlet', 2, '江苏', 95, 0);
SELECT aftersales.set_calendar('day-shift', 'zone=Asia/Shanghai; mon-fri 09:00-18:00; closed 2026-03-04 00:00-24:00');
SELECT aftersales.set_calendar('late-shift', 'zone=Asia/Shanghai; mon-sun 14:00-22:00');
-- 1 Li (senior, Shanghai, day shift, on leave on Wednesday 4 March),
-- 2 Zhao (junior, Shanghai, late shift), 3 Sun (expert, Beijing, no calendar),
-- 4 Zhou (regular, Shanghai, capacity 1, no calendar)
INSERT INTO aftersales.engineers (org_id, name, skills, region, capacity, calendar, seniority) VALUES
    (4, 'Li', '{hydraulics,electrical}', '华东', 3, 'day-shift', 'senior'),
    (4, 'Zhao', '{hydraulics}', '华东', 3, 'late-shift', 'junior'),
    (5, 'Sun', '{hydraulics,electrical}', '华北', 3, NULL, 'expert'),
    (4, 'Zhou', '{hydraulics}', '华东', 1, NULL, 'regular');
INSERT INTO aftersales.customers (name, tier, region, org_id, latitude, longitude) VALUES
    ('Pudong Steel', 'key', '华东', 4, 31.2214, 121.5447),
    ('Haidian Foods', 'standard', '华北', 5, 39.9593, 116.2981);
INSERT INTO aftersales.problem_types (code, name, required_skills, complex) VALUES
    ('LEAK', 'Hydraulic leak', '{hydraulics}', false),
    ('ECU', 'Control unit fault', '{electrical}', true);

-- shifts: Monday 09:30 Li is on shift, Zhao not; Wednesday Li is on leave
SELECT e.name, aftersales.engineer_on_shift(e.engineer_id, '2026-03-02 09:30+08') AS mon_0930,
       aftersales.engineer_on_shift(e.engineer_id, '2026-03-02 15:00+08') AS mon_1500,
       aftersales.engineer_on_shift(e.engineer_id, '2026-03-04 10:00+08') AS wed_1000
  FROM aftersales.engineers e ORDER BY e.engineer_id;
SELECT aftersales.engineer_on_shift(99);

-- attendance: Li checks in at the outlet at 08:55, out at 18:05; Zhao
-- checks in late (14:20) and 5 km away, then never checks out; Li checks in
-- on site at the customer
SELECT aftersales.check_in(1, 31.2305, 121.4740, '2026-03-02 08:55+08');
SELECT aftersales.check_in(1, 31.2305, 121.4740, '2026-03-02 09:00+08');
SELECT aftersales.check_out(2, 31.2305, 121.4740, '2026-03-02 09:00+08');
SELECT aftersales.check_out(1, 31.2305, 121.4740, '2026-03-02 08:50+08');
SELECT aftersales.check_in(1, 131.2305, 121.4740, '2026-03-02 09:00+08');
SELECT aftersales.check_in(1, NULL, 121.4740, '2026-03-02 09:00+08');
SELECT aftersales.check_in(2, 31.2700, 121.5100, '2026-03-02 14:20+08');
SELECT aftersales.check_in(3, 39.9042, 116.4074, '2026-03-02 08:00+08');
SELECT aftersales.check_in(4, 31.2304, 121.4737, '2026-03-02 08:30+08');
SELECT kind, engineer_id, reference, reference_km, anomaly FROM aftersales.attendance_events ORDER BY event_id;

-- tickets: 1 a leak at Pudong Steel (key customer), 2 an ECU fault at Pudong
-- Steel (complex), 3 a leak at Haidian Foods
SET aftersales.now = '2026-03-02 10:00:00+08';
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'B', description => 'oil under the press');
SELECT aftersales.open_ticket(customer => 1, problem_type => 2, priority => 'A', description => 'controller dead');
SELECT aftersales.open_ticket(customer => 2, problem_type => 1, priority => 'C', description => 'slow leak');

-- the ranking at 10:00, with the scores per criterion and the reasons
SELECT rank, engineer_name, total_score, skills_score, coverage_score, on_duty_score, load_score, distance_score,
       tier_score, continuity_score, load, capacity, distance_km, on_shift
  FROM aftersales.suggest_engineers(1, 5, '2026-03-02 10:00+08');
SELECT rank, engineer_name, reasons FROM aftersales.suggest_engineers(1, 5, '2026-03-02 10:00+08');
-- complex: only senior and expert engineers with the electrical skill
SELECT rank, engineer_name, total_score, reasons FROM aftersales.suggest_engineers(2, 5, '2026-03-02 10:00+08');
-- bad arguments
SELECT * FROM aftersales.suggest_engineers(NULL);
SELECT * FROM aftersales.suggest_engineers(99);
SELECT * FROM aftersales.suggest_engineers(1, 0);
SELECT * FROM aftersales.suggest_engineers(1, 5, 'infinity');

-- automatic assignment: ticket 1 goes to the best candidate, through the
-- closed loop (event assign); the decision keeps the ranking
SELECT aftersales.auto_assign(1, '2026-03-02 10:01+08');
SELECT ticket_id, status, assignee_id FROM aftersales.tickets WHERE ticket_id = 1;
SELECT seq, event, to_state, payload ->> 'assignee' AS assignee, reason FROM aftersales.ticket_events WHERE ticket_id = 1 ORDER BY seq;
SELECT ticket_id, mode, outcome, engineer_id, total_score, candidates, jsonb_array_length(ranking) AS ranked
  FROM aftersales.assignment_decisions ORDER BY decision_id;
-- twice: refused, it is no longer awaiting assignment
SELECT aftersales.auto_assign(1, '2026-03-02 10:02+08');
-- capacity: Zhou (capacity 1) now holds one if chosen; fill Li and Sun
SELECT aftersales.auto_assign(3, '2026-03-02 10:03+08');
SELECT aftersales.auto_assign(2, '2026-03-02 10:04+08');
SELECT e.name, aftersales_internal.engineer_load(1, e.engineer_id) AS load, e.capacity
  FROM aftersales.engineers e ORDER BY e.engineer_id;

-- nobody suitable: an ECU fault while the only senior electrical engineers
-- are full or off: nobody is assigned, the service manager is alerted once
UPDATE aftersales.engineers SET capacity = 1 WHERE engineer_id IN (1, 3);
SELECT aftersales.open_ticket(customer => 2, problem_type => 2, priority => 'A', description => 'no display');
SELECT aftersales.auto_assign(4, '2026-03-02 10:10+08');
SELECT aftersales.auto_assign(4, '2026-03-02 10:11+08');
SELECT status, assignee_id FROM aftersales.tickets WHERE ticket_id = 4;
SELECT kind, subject_id, ticket_id, org_id, role, detail FROM aftersales.dispatch_alerts ORDER BY alert_id;
UPDATE aftersales.engineers SET capacity = 3 WHERE engineer_id IN (1, 3);

-- assignment at entry, for a tenant that switches it on
INSERT INTO aftersales.dispatch_settings (assign_at_entry) VALUES (true);
SET aftersales.now = '2026-03-02 11:00:00+08';
SELECT aftersales.open_ticket(customer => 2, problem_type => 1, priority => 'B', description => 'hose burst');
SELECT ticket_id, status, assignee_id FROM aftersales.tickets WHERE ticket_id = 5;
SELECT ticket_id, mode, outcome, engineer_id FROM aftersales.assignment_decisions WHERE ticket_id = 5;

-- the tenant forbids assigning engineers off shift: Zhao (late shift,
-- from 14:00) is refused at 11:00, by hand as well; nothing is written
UPDATE aftersales.dispatch_settings SET assign_at_entry = false, forbid_off_shift = true;
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'C', description => 'drip');
SELECT aftersales.assign_ticket(6, 2, at => '2026-03-02 11:05+08');
SELECT status, assignee_id, event_seq FROM aftersales.tickets WHERE ticket_id = 6;
SELECT aftersales.assign_ticket(6, 2, at => '2026-03-02 14:05+08');

-- the dispatch sweep: tickets unassigned 30 minutes after entry are
-- assigned; attendance anomalies are alerted once
UPDATE aftersales.dispatch_settings SET assign_after_minutes = 30, forbid_off_shift = false;
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'C', description => 'seal worn');
SELECT * FROM aftersales.dispatch_sweep('2026-03-02 14:10+08');
SELECT * FROM aftersales.dispatch_sweep('2026-03-02 14:40+08');
SELECT ticket_id, status, assignee_id FROM aftersales.tickets WHERE ticket_id = 7;
SELECT aftersales.check_out(1, 31.2305, 121.4740, '2026-03-02 18:05+08');
SELECT aftersales.site_check_in(1, 31.2214, 121.5447, at => '2026-03-03 10:00+08');
SELECT aftersales.site_check_in(1, 31.3, 121.6, engineer => 4, at => '2026-03-03 10:05+08');
SELECT * FROM aftersales.dispatch_sweep('2026-03-03 12:00+08');
SELECT * FROM aftersales.dispatch_sweep('2026-03-03 12:01+08');
SELECT kind, subject_id, engineer_id, ticket_id, role, due_at, detail FROM aftersales.dispatch_alerts ORDER BY alert_id;
SELECT aftersales.acknowledge_dispatch_alert(1, '2026-03-03 12:05+08');
SELECT aftersales.acknowledge_dispatch_alert(1, '2026-03-03 12:06+08');
SELECT aftersales.acknowledge_dispatch_alert(99);

-- attendance per day: on duty hours, late check-ins, missing check-outs
SELECT engineer_id, day, scheduled_hours, on_duty_hours, first_check_in, shift_start, late_minutes, late, check_ins,
       missing_check_outs, location_anomalies
  FROM aftersales.attendance_days('2026-03-02', '2026-03-04', '2026-03-03 12:00+08');
SELECT engineer_id, check_in_at, check_out_at, hours, status FROM aftersales.attendance_sessions ORDER BY check_in_id;
SELECT * FROM aftersales.attendance_days('2026-03-04', '2026-03-02');
SELECT * FROM aftersales.attendance_days('2026-03-02', '2026-03-04', NULL);
