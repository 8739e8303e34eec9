-- Surveys: templates frozen once published, post-service and campaign
-- sending, answering once (fully or partly), expiry, every error text.
\i sql/fixtures/fresh_extension.sql
SET aftersales.now = '2026-03-02 09:00:00+08';
SET aftersales.actor = 'agent.zhang';
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.organisations (parent_id, level, name, region) VALUES (1, 'region', '华东大区', '华东');
INSERT INTO aftersales.customers (name, tier, region, org_id) VALUES ('Acme', 'key', '华东', 2), ('Bolt', 'standard', '华北', 1);
INSERT INTO aftersales.problem_types (code, name) VALUES ('P', 'Problem');
INSERT INTO aftersales.engineers (org_id, name) VALUES (2, 'Wang');
SELECT aftersales.open_ticket(1, 1, 'B', 'noise', org => 2, at => '2026-03-01 09:00+08');
SELECT aftersales.assign_ticket(1, 1, at => '2026-03-01 09:10+08'), aftersales.resolve_ticket(1, 'fixed', at => '2026-03-01 11:00+08'),
       aftersales.follow_up(1, true, csat => 5, nps => 9, at => '2026-03-01 15:00+08');
SELECT aftersales.open_ticket(2, 1, 'C', 'other', at => '2026-03-01 09:00+08');

SELECT aftersales.create_survey_template('after_service', 'After service',
  '[{"kind": "rating", "prompt": "Overall", "metric": "csat"}, {"kind": "nps", "prompt": "Recommend?", "metric": "nps"},
    {"kind": "single", "prompt": "Solved?", "choices": ["yes", "no"]},
    {"kind": "multiple", "prompt": "Better?", "choices": ["speed", "parts", "price"]},
    {"kind": "text", "prompt": "Else?"}]') AS template;
SELECT template_id, code, version, published_at IS NOT NULL AS published FROM aftersales.survey_templates;
-- published: frozen
UPDATE aftersales.survey_questions SET prompt = 'Overall, really?' WHERE position = 1;
DELETE FROM aftersales.survey_questions WHERE position = 5;
UPDATE aftersales.survey_templates SET name = 'renamed';
-- a new version is a new template
SELECT aftersales.create_survey_template('after_service', 'After service v2',
  '[{"kind": "rating", "prompt": "Overall", "metric": "csat"}]', publish => false) AS draft;
SELECT template_id, code, version, published_at IS NOT NULL AS published FROM aftersales.survey_templates ORDER BY 1;

-- post-service: one per closed ticket and template
SELECT aftersales.send_survey(1, ticket => 1, channel => 'wechat', at => '2026-03-01 16:00+08') AS survey;
SELECT survey_id, customer_id, org_id, channel, state, sent_at, expires_at FROM aftersales.surveys;
SELECT aftersales.answer_survey(1, '{"1": 4, "2": 8, "3": "yes", "4": ["speed", "parts"], "5": "quick"}', at => '2026-03-02 10:00+08');
SELECT position, choice, score, answer_text FROM aftersales.survey_answers ORDER BY position;
SELECT seq, actor, event, from_state, to_state FROM aftersales.survey_events ORDER BY survey_id, seq;
-- a campaign to a segment; one answers partly, one never
SELECT aftersales.start_survey_campaign('2026-Q1', 1, channel => 'email', at => '2026-03-02 09:00+08') AS campaign;
SELECT survey_id, campaign_id, customer_id, org_id, state FROM aftersales.surveys WHERE campaign_id IS NOT NULL ORDER BY 1;
SELECT aftersales.answer_survey(2, '{"1": 2}', at => '2026-03-03 09:00+08');
SELECT aftersales.expire_surveys('2026-04-30 00:00+08');
SELECT survey_id, state, answered_at FROM aftersales.surveys ORDER BY 1;
SELECT source, csat_responses, csat_avg, nps_responses, nps FROM aftersales.kpi_satisfaction_monthly ORDER BY source;
SELECT campaign, channel, sent, answered, partial, expired, survey_response_rate FROM aftersales.kpi_survey_response_rates ORDER BY 1, 2;
SELECT position, kind, answers, mean_score, low_score_share FROM aftersales.kpi_survey_questions WHERE version = 1 ORDER BY position;
SELECT term, term_occurrences FROM aftersales.kpi_abnormal_terms ORDER BY term;
SELECT month, csat_avg, csat_survey, nps, nps_survey, csat_survey_responses FROM aftersales.kpi_satisfaction_sources_monthly;

-- Errors: each writes nothing.
SELECT count(*) AS answers_before FROM aftersales.survey_answers;
SELECT aftersales.answer_survey(1, '{"1": 5}');
SELECT aftersales.answer_survey(3, '{"1": 5}');
SELECT aftersales.answer_survey(99, '{"1": 5}');
SELECT aftersales.send_survey(1, ticket => 2);
SELECT aftersales.send_survey(1, ticket => 1);
SELECT aftersales.send_survey(2, ticket => 1);
SELECT aftersales.send_survey(1, ticket => 1, channel => 'pigeon');
SELECT aftersales.start_survey_campaign('bad', 1, tier => 'gold');
SELECT aftersales.create_survey_template('Bad Code', 'x', '[]');
SELECT aftersales.create_survey_template('x', 'x', '[{"kind": "slider", "prompt": "?"}]');
-- a fresh survey, then bad answers of each kind
SELECT aftersales.start_survey_campaign('2026-Q2', 1, tier => 'key', at => '2026-05-01 09:00+08') AS campaign;
SELECT survey_id AS s5 FROM aftersales.surveys WHERE campaign_id = 2 \gset
SELECT aftersales.answer_survey(:s5, '{"1": 6}', at => '2026-05-02 09:00+08');
SELECT aftersales.answer_survey(:s5, '{"2": 11}', at => '2026-05-02 09:00+08');
SELECT aftersales.answer_survey(:s5, '{"3": "maybe"}', at => '2026-05-02 09:00+08');
SELECT aftersales.answer_survey(:s5, '{"4": ["speed", "love"]}', at => '2026-05-02 09:00+08');
SELECT aftersales.answer_survey(:s5, '{"5": " "}', at => '2026-05-02 09:00+08');
SELECT aftersales.answer_survey(:s5, '{"9": 1}', at => '2026-05-02 09:00+08');
SELECT aftersales.answer_survey(:s5, '{}', at => '2026-05-02 09:00+08');
SELECT aftersales.answer_survey(:s5, '{"1": 5}', at => '2026-06-30 09:00+08');
SELECT count(*) AS answers_after, (SELECT state FROM aftersales.surveys WHERE survey_id = :s5) AS state
  FROM aftersales.survey_answers;
DELETE FROM aftersales.survey_answers;
