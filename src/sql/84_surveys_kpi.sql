
-- aftersales install script, part 84 (continued): survey KPIs, the
-- problem-product shares and the abnormal-problem terms, as plain-typed
-- views of the current tenant.
--
-- CSAT and NPS have two sources, side by side: the follow-up call (the
-- latest follow-up of each ticket, tickets.csat and tickets.nps, dated by
-- followed_up_at) and surveys (the answer to the template's question with
-- metric csat or nps, dated by answered_at).  Every row says its source.

CREATE VIEW aftersales.kpi_survey_response_rates WITH (security_invoker = true) AS
SELECT COALESCE(c.name, 'post-service') AS campaign, s.campaign_id, s.channel::text AS channel,
       pg_catalog.count(*) AS sent,
       pg_catalog.count(*) FILTER (WHERE s.state = 'answered') AS answered,
       pg_catalog.count(*) FILTER (WHERE s.state = 'partial') AS partial,
       pg_catalog.count(*) FILTER (WHERE s.state = 'expired') AS expired,
       pg_catalog.count(*) FILTER (WHERE s.state = 'sent') AS pending,
       (pg_catalog.count(*) FILTER (WHERE s.state IN ('answered', 'partial'))::numeric / pg_catalog.count(*))::numeric(5,4)
           AS survey_response_rate
  FROM aftersales.surveys s
  LEFT JOIN aftersales.survey_campaigns c ON c.tenant_id = s.tenant_id AND c.campaign_id = s.campaign_id
 WHERE s.tenant_id = aftersales.current_tenant()
 GROUP BY COALESCE(c.name, 'post-service'), s.campaign_id, s.channel;
COMMENT ON VIEW aftersales.kpi_survey_response_rates IS
  'Survey response rate of the current tenant per campaign (post-service surveys together) and channel: answered fully or partly over sent';
COMMENT ON COLUMN aftersales.kpi_survey_response_rates.campaign IS 'Campaign name, or post-service';
COMMENT ON COLUMN aftersales.kpi_survey_response_rates.campaign_id IS 'Campaign id; NULL for post-service surveys';
COMMENT ON COLUMN aftersales.kpi_survey_response_rates.channel IS 'Channel';
COMMENT ON COLUMN aftersales.kpi_survey_response_rates.sent IS 'Surveys sent';
COMMENT ON COLUMN aftersales.kpi_survey_response_rates.answered IS 'Answered fully';
COMMENT ON COLUMN aftersales.kpi_survey_response_rates.partial IS 'Answered partly';
COMMENT ON COLUMN aftersales.kpi_survey_response_rates.expired IS 'Expired unanswered';
COMMENT ON COLUMN aftersales.kpi_survey_response_rates.pending IS 'Still open';
COMMENT ON COLUMN aftersales.kpi_survey_response_rates.survey_response_rate IS '(answered + partial) / sent';

CREATE VIEW aftersales.kpi_satisfaction_monthly WITH (security_invoker = true) AS
WITH scores AS (
    SELECT 'follow_up'::text AS source,
           pg_catalog.date_trunc('month', t.followed_up_at AT TIME ZONE (SELECT aftersales.reporting_zone()))::date AS month,
           t.csat::integer AS csat, t.nps::integer AS nps
      FROM aftersales.tickets t
     WHERE t.tenant_id = aftersales.current_tenant() AND t.followed_up_at IS NOT NULL
       AND (t.csat IS NOT NULL OR t.nps IS NOT NULL)
    UNION ALL
    SELECT 'survey',
           pg_catalog.date_trunc('month', s.answered_at AT TIME ZONE (SELECT aftersales.reporting_zone()))::date,
           pg_catalog.max(a.score) FILTER (WHERE q.metric = 'csat')::integer,
           pg_catalog.max(a.score) FILTER (WHERE q.metric = 'nps')::integer
      FROM aftersales.surveys s
      JOIN aftersales.survey_answers a ON a.tenant_id = s.tenant_id AND a.survey_id = s.survey_id
      JOIN aftersales.survey_questions q ON q.tenant_id = s.tenant_id AND q.template_id = s.template_id
                                        AND q.position = a.position AND q.metric IS NOT NULL
     WHERE s.tenant_id = aftersales.current_tenant()
     GROUP BY s.tenant_id, s.survey_id, s.answered_at)
SELECT x.month, x.source, pg_catalog.count(x.csat) AS csat_responses,
       pg_catalog.avg(x.csat)::numeric(3,2) AS csat_avg,
       (pg_catalog.count(*) FILTER (WHERE x.csat >= 4)::numeric / NULLIF(pg_catalog.count(x.csat), 0))::numeric(5,4) AS csat_good_share,
       pg_catalog.count(x.nps) AS nps_responses,
       (100 * (pg_catalog.count(*) FILTER (WHERE x.nps >= 9) - pg_catalog.count(*) FILTER (WHERE x.nps <= 6))::numeric
        / NULLIF(pg_catalog.count(x.nps), 0))::numeric(4,1) AS nps
  FROM scores x
 GROUP BY x.month, x.source;
COMMENT ON VIEW aftersales.kpi_satisfaction_monthly IS
  'CSAT and NPS of the current tenant by month and source: follow_up (the latest follow-up call of each ticket, by the month of the call) beside survey (the csat and nps questions of answered surveys, by the month answered)';
COMMENT ON COLUMN aftersales.kpi_satisfaction_monthly.month IS 'First day of the month (reporting zone)';
COMMENT ON COLUMN aftersales.kpi_satisfaction_monthly.source IS 'follow_up or survey';
COMMENT ON COLUMN aftersales.kpi_satisfaction_monthly.csat_responses IS 'Scores on the CSAT scale (1 to 5)';
COMMENT ON COLUMN aftersales.kpi_satisfaction_monthly.csat_avg IS 'Mean CSAT, 1 to 5';
COMMENT ON COLUMN aftersales.kpi_satisfaction_monthly.csat_good_share IS 'Share of CSAT scores of 4 or 5';
COMMENT ON COLUMN aftersales.kpi_satisfaction_monthly.nps_responses IS 'Scores on the NPS scale (0 to 10)';
COMMENT ON COLUMN aftersales.kpi_satisfaction_monthly.nps IS 'Promoters (9, 10) minus detractors (0 to 6), in percent';

CREATE VIEW aftersales.kpi_satisfaction_sources_monthly WITH (security_invoker = true) AS
SELECT m.month,
       pg_catalog.max(m.csat_avg) FILTER (WHERE m.source = 'follow_up')::numeric(3,2) AS csat_avg,
       pg_catalog.max(m.csat_avg) FILTER (WHERE m.source = 'survey')::numeric(3,2) AS csat_survey,
       pg_catalog.max(m.nps) FILTER (WHERE m.source = 'follow_up')::numeric(4,1) AS nps,
       pg_catalog.max(m.nps) FILTER (WHERE m.source = 'survey')::numeric(4,1) AS nps_survey,
       COALESCE(pg_catalog.sum(m.csat_responses) FILTER (WHERE m.source = 'follow_up'), 0)::bigint AS csat_responses,
       COALESCE(pg_catalog.sum(m.csat_responses) FILTER (WHERE m.source = 'survey'), 0)::bigint AS csat_survey_responses,
       COALESCE(pg_catalog.sum(m.nps_responses) FILTER (WHERE m.source = 'follow_up'), 0)::bigint AS nps_responses,
       COALESCE(pg_catalog.sum(m.nps_responses) FILTER (WHERE m.source = 'survey'), 0)::bigint AS nps_survey_responses
  FROM aftersales.kpi_satisfaction_monthly m
 GROUP BY m.month;
COMMENT ON VIEW aftersales.kpi_satisfaction_sources_monthly IS
  'CSAT and NPS of the current tenant by month, one column per source: csat_avg and nps from the follow-up call, csat_survey and nps_survey from survey answers';
COMMENT ON COLUMN aftersales.kpi_satisfaction_sources_monthly.month IS 'First day of the month (reporting zone)';
COMMENT ON COLUMN aftersales.kpi_satisfaction_sources_monthly.csat_avg IS 'Mean CSAT of the follow-up calls (1 to 5)';
COMMENT ON COLUMN aftersales.kpi_satisfaction_sources_monthly.csat_survey IS 'Mean CSAT of the survey answers (1 to 5)';
COMMENT ON COLUMN aftersales.kpi_satisfaction_sources_monthly.nps IS 'NPS of the follow-up calls';
COMMENT ON COLUMN aftersales.kpi_satisfaction_sources_monthly.nps_survey IS 'NPS of the survey answers';
COMMENT ON COLUMN aftersales.kpi_satisfaction_sources_monthly.csat_responses IS 'Follow-up CSAT scores';
COMMENT ON COLUMN aftersales.kpi_satisfaction_sources_monthly.csat_survey_responses IS 'Survey CSAT scores';
COMMENT ON COLUMN aftersales.kpi_satisfaction_sources_monthly.nps_responses IS 'Follow-up NPS scores';
COMMENT ON COLUMN aftersales.kpi_satisfaction_sources_monthly.nps_survey_responses IS 'Survey NPS scores';

CREATE VIEW aftersales.kpi_survey_questions WITH (security_invoker = true) AS
SELECT t.code AS template, t.version, q.position, q.kind, q.prompt, q.metric,
       COALESCE(x.answers, 0) AS answers,
       x.mean_score::numeric(5,2) AS mean_score,
       (x.low::numeric / NULLIF(x.scored, 0))::numeric(5,4) AS low_score_share
  FROM aftersales.survey_templates t
  JOIN aftersales.survey_questions q ON q.tenant_id = t.tenant_id AND q.template_id = t.template_id
  LEFT JOIN (SELECT s.template_id, a.position, pg_catalog.count(*) AS answers, pg_catalog.avg(a.score) AS mean_score,
                    pg_catalog.count(a.score) AS scored,
                    pg_catalog.count(*) FILTER (WHERE (qq.kind = 'rating' AND a.score <= 2) OR (qq.kind = 'nps' AND a.score <= 6)) AS low
               FROM aftersales.survey_answers a
               JOIN aftersales.surveys s ON s.tenant_id = a.tenant_id AND s.survey_id = a.survey_id
               JOIN aftersales.survey_questions qq ON qq.tenant_id = s.tenant_id AND qq.template_id = s.template_id
                                                  AND qq.position = a.position
              WHERE a.tenant_id = aftersales.current_tenant()
              GROUP BY s.template_id, a.position) x ON x.template_id = q.template_id AND x.position = q.position
 WHERE t.tenant_id = aftersales.current_tenant();
COMMENT ON VIEW aftersales.kpi_survey_questions IS
  'Per question of each survey template version of the current tenant: answers, mean score (ratings and NPS) and the low-score share (a rating of 1 or 2, an NPS score of 0 to 6)';
COMMENT ON COLUMN aftersales.kpi_survey_questions.template IS 'Template code';
COMMENT ON COLUMN aftersales.kpi_survey_questions.version IS 'Template version';
COMMENT ON COLUMN aftersales.kpi_survey_questions.position IS 'Question position';
COMMENT ON COLUMN aftersales.kpi_survey_questions.kind IS 'single, multiple, rating, nps or text';
COMMENT ON COLUMN aftersales.kpi_survey_questions.prompt IS 'The question';
COMMENT ON COLUMN aftersales.kpi_survey_questions.metric IS 'csat or nps when the question is the survey''s CSAT or NPS';
COMMENT ON COLUMN aftersales.kpi_survey_questions.answers IS 'Answers given';
COMMENT ON COLUMN aftersales.kpi_survey_questions.mean_score IS 'Mean score (ratings 1 to 5, NPS 0 to 10); NULL for other kinds';
COMMENT ON COLUMN aftersales.kpi_survey_questions.low_score_share IS 'Share of low scores: ratings 1-2, NPS 0-6';

CREATE VIEW aftersales.kpi_survey_answer_distribution WITH (security_invoker = true) AS
SELECT d.template, d.version, d.position, d.kind, d.answer, pg_catalog.count(*) AS answers,
       (pg_catalog.count(*)::numeric / pg_catalog.sum(pg_catalog.count(*)) OVER (PARTITION BY d.template, d.version, d.position))::numeric(5,4)
           AS share
  FROM (SELECT t.code AS template, t.version, q.position, q.kind,
               COALESCE(a.score::text, ch.choice) AS answer
          FROM aftersales.surveys s
          JOIN aftersales.survey_templates t ON t.tenant_id = s.tenant_id AND t.template_id = s.template_id
          JOIN aftersales.survey_answers a ON a.tenant_id = s.tenant_id AND a.survey_id = s.survey_id
          JOIN aftersales.survey_questions q ON q.tenant_id = s.tenant_id AND q.template_id = s.template_id AND q.position = a.position
          LEFT JOIN LATERAL pg_catalog.unnest(a.choice) ch (choice) ON true
         WHERE s.tenant_id = aftersales.current_tenant() AND q.kind <> 'text') d
 GROUP BY d.template, d.version, d.position, d.kind, d.answer;
COMMENT ON VIEW aftersales.kpi_survey_answer_distribution IS
  'Distribution of the answers to each closed question (choices, ratings, NPS scores) of the current tenant''s surveys; for multiple-choice questions a survey counts once per choice made';
COMMENT ON COLUMN aftersales.kpi_survey_answer_distribution.template IS 'Template code';
COMMENT ON COLUMN aftersales.kpi_survey_answer_distribution.version IS 'Template version';
COMMENT ON COLUMN aftersales.kpi_survey_answer_distribution.position IS 'Question position';
COMMENT ON COLUMN aftersales.kpi_survey_answer_distribution.kind IS 'single, multiple, rating or nps';
COMMENT ON COLUMN aftersales.kpi_survey_answer_distribution.answer IS 'The choice, or the score as text';
COMMENT ON COLUMN aftersales.kpi_survey_answer_distribution.answers IS 'How often it was given';
COMMENT ON COLUMN aftersales.kpi_survey_answer_distribution.share IS 'Share of the question''s answers';

-- Seed 000's "problem products in alarms, complaints and surveys": per
-- product model, its share of the escalation alerts (on its tickets), of
-- the complaints naming it, and of the low-scored surveys (a CSAT of 1 or
-- 2) about its tickets.
CREATE VIEW aftersales.kpi_problem_product_shares WITH (security_invoker = true) AS
WITH a AS (SELECT t.model_id, pg_catalog.count(*) AS n FROM aftersales.alerts al
             JOIN aftersales.tickets t ON t.tenant_id = al.tenant_id AND t.ticket_id = al.ticket_id
            WHERE al.tenant_id = aftersales.current_tenant() AND t.model_id IS NOT NULL GROUP BY t.model_id),
     c AS (SELECT x.model_id, pg_catalog.count(*) AS n FROM aftersales.complaints x
            WHERE x.tenant_id = aftersales.current_tenant() AND x.model_id IS NOT NULL AND x.state <> 'withdrawn'
            GROUP BY x.model_id),
     s AS (SELECT t.model_id, pg_catalog.count(DISTINCT sv.survey_id) AS n FROM aftersales.surveys sv
             JOIN aftersales.tickets t ON t.tenant_id = sv.tenant_id AND t.ticket_id = sv.ticket_id
             JOIN aftersales.survey_answers an ON an.tenant_id = sv.tenant_id AND an.survey_id = sv.survey_id
             JOIN aftersales.survey_questions q ON q.tenant_id = sv.tenant_id AND q.template_id = sv.template_id
                                               AND q.position = an.position AND q.metric = 'csat'
            WHERE sv.tenant_id = aftersales.current_tenant() AND t.model_id IS NOT NULL AND an.score <= 2
            GROUP BY t.model_id)
SELECT pm.model_id, pm.code AS model_code, pm.name AS model_name,
       COALESCE(a.n, 0) AS alerts,
       (COALESCE(a.n, 0)::numeric / NULLIF((SELECT pg_catalog.sum(n) FROM a), 0))::numeric(5,4) AS alert_share,
       COALESCE(c.n, 0) AS complaints,
       (COALESCE(c.n, 0)::numeric / NULLIF((SELECT pg_catalog.sum(n) FROM c), 0))::numeric(5,4) AS complaint_share,
       COALESCE(s.n, 0) AS low_score_surveys,
       (COALESCE(s.n, 0)::numeric / NULLIF((SELECT pg_catalog.sum(n) FROM s), 0))::numeric(5,4) AS low_score_survey_share
  FROM aftersales.product_models pm
  LEFT JOIN a ON a.model_id = pm.model_id
  LEFT JOIN c ON c.model_id = pm.model_id
  LEFT JOIN s ON s.model_id = pm.model_id
 WHERE pm.tenant_id = aftersales.current_tenant();
COMMENT ON VIEW aftersales.kpi_problem_product_shares IS
  'Problem products of the current tenant: each product model''s share of the alerts on its tickets, of the complaints naming it (not withdrawn) and of the low-scored surveys (CSAT 1 or 2) about its tickets, all time';
COMMENT ON COLUMN aftersales.kpi_problem_product_shares.model_id IS 'Product model';
COMMENT ON COLUMN aftersales.kpi_problem_product_shares.model_code IS 'Its code';
COMMENT ON COLUMN aftersales.kpi_problem_product_shares.model_name IS 'Its name';
COMMENT ON COLUMN aftersales.kpi_problem_product_shares.alerts IS 'Alerts (aftersales.alerts) on tickets of the model';
COMMENT ON COLUMN aftersales.kpi_problem_product_shares.alert_share IS 'Its share of the alerts on tickets with a model';
COMMENT ON COLUMN aftersales.kpi_problem_product_shares.complaints IS 'Complaints naming the model';
COMMENT ON COLUMN aftersales.kpi_problem_product_shares.complaint_share IS 'Its share of the complaints naming a model';
COMMENT ON COLUMN aftersales.kpi_problem_product_shares.low_score_surveys IS 'Surveys about tickets of the model with a CSAT of 1 or 2';
COMMENT ON COLUMN aftersales.kpi_problem_product_shares.low_score_survey_share IS 'Its share of such surveys';

-- Terms for the "abnormal problem" word cloud, from complaint descriptions
-- and open survey answers.  Chinese has no spaces: every run of Han
-- characters is cut into its overlapping character bigrams (维修不及时:
-- 维修, 修不, 不及, 及时); Latin words of three letters or more are taken
-- whole, lowercased.  Bigrams also count pairs that straddle two words
-- (修不) and split words of three characters (压缩机: 压缩, 缩机); a few
-- function-word bigrams are dropped.
-- The terms are counted as the owner, within the caller's tenant and
-- organisation scope, so that analysts read the word cloud without
-- reading the complainants' and customers' own words.
CREATE FUNCTION aftersales_internal.abnormal_terms()
    RETURNS TABLE (term text, term_occurrences bigint, in_complaints bigint, in_surveys bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
WITH docs AS (
    SELECT 'complaint'::text AS source, c.description AS body FROM aftersales.complaints c
     WHERE c.tenant_id = aftersales.current_tenant()
       AND ((SELECT aftersales.current_org_scope()) IS NULL OR c.org_id = ANY ((SELECT aftersales.current_org_scope())::bigint[]))
    UNION ALL
    SELECT 'survey', a.answer_text FROM aftersales.survey_answers a
      JOIN aftersales.surveys s ON s.tenant_id = a.tenant_id AND s.survey_id = a.survey_id
     WHERE a.tenant_id = aftersales.current_tenant() AND a.answer_text IS NOT NULL
       AND ((SELECT aftersales.current_org_scope()) IS NULL OR s.org_id = ANY ((SELECT aftersales.current_org_scope())::bigint[]))),
runs AS (
    SELECT d.source, m.r[1] AS run
      FROM docs d, pg_catalog.regexp_matches(d.body, '([\u4e00-\u9fff]+|[A-Za-z][A-Za-z0-9]+)', 'g') AS m (r)),
terms AS (
    SELECT r.source, CASE WHEN r.run ~ '^[A-Za-z]' THEN pg_catalog.lower(r.run) ELSE pg_catalog.substr(r.run, i.i, 2) END AS term
      FROM runs r,
           pg_catalog.generate_series(1, CASE WHEN r.run ~ '^[A-Za-z]' THEN 1 ELSE pg_catalog.length(r.run) - 1 END) AS i (i)
     WHERE (r.run ~ '^[A-Za-z]' AND pg_catalog.length(r.run) >= 3) OR (r.run !~ '^[A-Za-z]' AND pg_catalog.length(r.run) >= 2))
SELECT t.term, pg_catalog.count(*) AS term_occurrences,
       pg_catalog.count(*) FILTER (WHERE t.source = 'complaint') AS in_complaints,
       pg_catalog.count(*) FILTER (WHERE t.source = 'survey') AS in_surveys
  FROM terms t
 WHERE t.term NOT IN ('the', 'and', 'was', 'for', 'not', 'but', 'with', '的是', '了一', '一个', '我们', '你们', '他们', '没有', '就是')
 GROUP BY t.term
$$;
COMMENT ON FUNCTION aftersales_internal.abnormal_terms() IS
  'Internal: term frequencies of the caller''s tenant and organisation scope (complaint descriptions, open survey answers), for aftersales.kpi_abnormal_terms';
CREATE VIEW aftersales.kpi_abnormal_terms WITH (security_invoker = true) AS
SELECT t.term, t.term_occurrences, t.in_complaints, t.in_surveys FROM aftersales_internal.abnormal_terms() t;
COMMENT ON VIEW aftersales.kpi_abnormal_terms IS
  'Term frequencies for the abnormal-problem word cloud, over the current tenant''s complaint descriptions and open survey answers: Chinese as overlapping character bigrams (which also counts pairs straddling two words), Latin words of three letters or more; order by term_occurrences';
COMMENT ON COLUMN aftersales.kpi_abnormal_terms.term IS 'Character bigram or lowercased word';
COMMENT ON COLUMN aftersales.kpi_abnormal_terms.term_occurrences IS 'Occurrences in all texts';
COMMENT ON COLUMN aftersales.kpi_abnormal_terms.in_complaints IS 'Occurrences in complaint descriptions';
COMMENT ON COLUMN aftersales.kpi_abnormal_terms.in_surveys IS 'Occurrences in open survey answers';

-- ---------------------------------------------------------------------------
-- Grants: agents and managers send surveys and record answers; analysts
-- read the KPI views but not the customers' own words (the open answers;
-- the term view counts them for them).
GRANT SELECT ON aftersales.survey_templates, aftersales.survey_questions, aftersales.survey_campaigns, aftersales.surveys,
    aftersales.survey_events, aftersales.survey_answers, aftersales.kpi_survey_response_rates,
    aftersales.kpi_satisfaction_monthly, aftersales.kpi_satisfaction_sources_monthly, aftersales.kpi_survey_questions,
    aftersales.kpi_survey_answer_distribution, aftersales.kpi_problem_product_shares, aftersales.kpi_abnormal_terms
    TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer, aftersales_auditor;
GRANT SELECT ON aftersales.survey_templates, aftersales.survey_questions, aftersales.survey_campaigns, aftersales.surveys,
    aftersales.kpi_survey_response_rates, aftersales.kpi_satisfaction_monthly, aftersales.kpi_satisfaction_sources_monthly,
    aftersales.kpi_survey_questions,
    aftersales.kpi_survey_answer_distribution, aftersales.kpi_problem_product_shares, aftersales.kpi_abnormal_terms
    TO aftersales_analyst;
GRANT EXECUTE ON FUNCTION aftersales_internal.abnormal_terms()
    TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer, aftersales_analyst, aftersales_auditor;
GRANT SELECT (tenant_id, survey_id, position, choice, score) ON aftersales.survey_answers TO aftersales_analyst;
GRANT INSERT, UPDATE ON aftersales.surveys, aftersales.survey_campaigns TO aftersales_admin, aftersales_manager, aftersales_agent;
GRANT INSERT ON aftersales.survey_answers TO aftersales_admin, aftersales_manager, aftersales_agent;
GRANT INSERT, UPDATE, DELETE ON aftersales.survey_templates, aftersales.survey_questions TO aftersales_admin;
GRANT EXECUTE ON FUNCTION aftersales_internal.survey_send(bigint, bigint, bigint, bigint, bigint, bigint, text, timestamptz, interval),
    aftersales_internal.survey_check_send(bigint, text, interval, timestamptz)
    TO aftersales_admin, aftersales_manager, aftersales_agent;
REVOKE ALL ON FUNCTION aftersales.expire_surveys(timestamptz, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aftersales.expire_surveys(timestamptz, bigint) TO aftersales_admin, aftersales_manager, aftersales_sweep;
GRANT SELECT, UPDATE ON aftersales.surveys TO aftersales_sweep;

-- Internal functions: triggers, or for the kinds granted above; none for
-- PUBLIC (as 90_privileges.sql does; an upgrade adds these after it).
REVOKE ALL ON FUNCTION aftersales_internal.survey_question_frozen(), aftersales_internal.survey_template_frozen(),
    aftersales_internal.survey_send(bigint, bigint, bigint, bigint, bigint, bigint, text, timestamptz, interval),
    aftersales_internal.survey_check_send(bigint, text, interval, timestamptz),
    aftersales_internal.abnormal_terms()
    FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- The survey KPIs in the catalogue (shipped rows of tenant 1).  CSAT and
-- NPS have two sources: csat_avg and nps (the follow-up call) and
-- csat_survey and nps_survey (survey answers), side by side in
-- kpi_satisfaction_monthly, whose source column says which.
INSERT INTO aftersales.kpi_catalogue
       (tenant_id, code, category, name_en, name_zh, definition, formula, unit, target, target_direction, source, sort_order, customised)
SELECT 1, x.code, 'surveys', x.name_en, x.name_zh, x.definition, x.formula, x.unit, x.target, x.direction, x.source, x.ord, false
  FROM (VALUES
 ('survey_response_rate', 'Survey response rate', '问卷回收率',
  'Surveys answered fully or partly over surveys sent, per campaign (post-service surveys together) and channel; expired and still open surveys count as unanswered.',
  '(answered + partial) / sent', 'ratio', NULL::numeric, NULL::text, 'kpi_survey_response_rates', 1300),
 ('csat_survey', 'Customer satisfaction from surveys (CSAT)', '问卷满意度',
  'Mean answer (1 to 5) to the survey question marked csat, by the month answered. Source: survey answers; csat_avg is the same score from the follow-up call (回访), and kpi_satisfaction_monthly shows both, its source column saying which.',
  'avg(score of the csat question)', 'score', NULL, NULL, 'kpi_satisfaction_sources_monthly, kpi_satisfaction_monthly (source survey)', 1310),
 ('nps_survey', 'Net promoter score from surveys (NPS)', '问卷净推荐值',
  'Promoters (9 or 10) minus detractors (0 to 6), in percent of the answers to the survey question marked nps, by the month answered. Source: survey answers; nps is the follow-up call''s, side by side in kpi_satisfaction_monthly.',
  '100 * (count(score >= 9) - count(score <= 6)) / count(score)', 'nps', NULL, NULL, 'kpi_satisfaction_sources_monthly, kpi_satisfaction_monthly (source survey)', 1320),
 ('low_score_share', 'Low-score share', '低分占比',
  'Per question: answers of 1 or 2 to a rating, or 0 to 6 to an NPS question, over its scored answers.',
  'count(low scores) / count(scores)', 'ratio', NULL, NULL, 'kpi_survey_questions', 1330),
 ('mean_score', 'Mean score per question', '题目平均分',
  'Per rating or NPS question: the mean of its answers.', 'avg(score)', 'score', NULL, NULL, 'kpi_survey_questions', 1340),
 ('complaint_share', 'Problem products: share of complaints', '问题产品投诉占比',
  'Per product model: complaints naming it (not withdrawn) over all complaints naming a model.',
  'complaints(model) / complaints(any model)', 'ratio', NULL, NULL, 'kpi_problem_product_shares', 1350),
 ('alert_share', 'Problem products: share of alerts', '问题产品报警占比',
  'Per product model: alerts on its tickets over alerts on tickets with a model.',
  'alerts(model) / alerts(any model)', 'ratio', NULL, NULL, 'kpi_problem_product_shares', 1360),
 ('low_score_survey_share', 'Problem products: share of low-scored surveys', '问题产品问卷低分占比',
  'Per product model: surveys about its tickets with a CSAT of 1 or 2 over all such surveys about tickets with a model.',
  'low-scored surveys(model) / low-scored surveys(any model)', 'ratio', NULL, NULL, 'kpi_problem_product_shares', 1370),
 ('term_occurrences', 'Abnormal-problem terms', '异常问题词频',
  'Occurrences of each term in complaint descriptions and open survey answers: Chinese as overlapping character bigrams, Latin words of three letters or more.',
  'count(term)', 'count', NULL, NULL, 'kpi_abnormal_terms', 1380)
) AS x (code, name_en, name_zh, definition, formula, unit, target, direction, source, ord);

INSERT INTO aftersales.event_rights (kind, event, own_tickets_only)
SELECT k, 'survey.' || e, false
  FROM pg_catalog.unnest(ARRAY['admin', 'manager', 'agent']) k,
       pg_catalog.unnest(ARRAY['send', 'answer', 'answer_partly', 'expire']) e
UNION ALL VALUES ('sweep', 'survey.expire', false);
