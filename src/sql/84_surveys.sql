
-- aftersales install script, part 84 (continued): satisfaction surveys
-- (调查问卷).  A template is an ordered list of questions (single choice,
-- multiple choice, rating 1-5, NPS 0-10, open text), versioned: once
-- published it never changes, a change is a new version.  A survey is one
-- template sent to one customer, after a ticket or in a campaign, through
-- a channel; it is answered once (fully or partly) or expires.  Its life
-- is machine 'survey' of the generic state engine, logged in
-- aftersales.survey_events.

CREATE TYPE aftersales.survey_channel AS ENUM ('sms', 'wechat', 'email', 'app', 'phone', 'web');
COMMENT ON TYPE aftersales.survey_channel IS 'How a survey is sent: sms, wechat, email, app, phone (read out by an agent), web';

CREATE TABLE aftersales.survey_templates (
    tenant_id     bigint      NOT NULL DEFAULT aftersales.current_tenant()
                              REFERENCES aftersales.tenants,
    template_id   bigint      GENERATED ALWAYS AS IDENTITY,
    code          text        NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{0,62}$'),
    version       integer     NOT NULL CHECK (version > 0),
    name          text        NOT NULL CHECK (name <> ''),
    published_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, template_id),
    UNIQUE (tenant_id, code, version)
);
COMMENT ON TABLE aftersales.survey_templates IS
  'Survey templates (questionnaires), versioned by code: a published version never changes; aftersales.create_survey_template() makes the next version';
COMMENT ON COLUMN aftersales.survey_templates.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.survey_templates.template_id IS 'Template (one version) id';
COMMENT ON COLUMN aftersales.survey_templates.code IS 'Code shared by the versions of a questionnaire';
COMMENT ON COLUMN aftersales.survey_templates.version IS 'Version, from 1';
COMMENT ON COLUMN aftersales.survey_templates.name IS 'Title';
COMMENT ON COLUMN aftersales.survey_templates.published_at IS 'When it was published; NULL while a draft (drafts cannot be sent)';
COMMENT ON COLUMN aftersales.survey_templates.created_at IS 'When the row was created';

CREATE TABLE aftersales.survey_questions (
    tenant_id    bigint  NOT NULL,
    template_id  bigint  NOT NULL,
    position     integer NOT NULL CHECK (position > 0),
    kind         text    NOT NULL CHECK (kind IN ('single', 'multiple', 'rating', 'nps', 'text')),
    prompt       text    NOT NULL CHECK (prompt <> ''),
    choices      text[],
    metric       text    CHECK (metric IN ('csat', 'nps')),
    PRIMARY KEY (tenant_id, template_id, position),
    FOREIGN KEY (tenant_id, template_id) REFERENCES aftersales.survey_templates (tenant_id, template_id) ON DELETE CASCADE,
    CHECK ((kind IN ('single', 'multiple')) = (choices IS NOT NULL AND pg_catalog.cardinality(choices) >= 2)),
    CHECK (metric IS NULL OR (metric = 'csat' AND kind = 'rating') OR (metric = 'nps' AND kind = 'nps'))
);
CREATE UNIQUE INDEX survey_questions_one_metric ON aftersales.survey_questions (tenant_id, template_id, metric) WHERE metric IS NOT NULL;
COMMENT ON TABLE aftersales.survey_questions IS 'Questions of a survey template, in order';
COMMENT ON COLUMN aftersales.survey_questions.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.survey_questions.template_id IS 'Template';
COMMENT ON COLUMN aftersales.survey_questions.position IS 'Order, from 1';
COMMENT ON COLUMN aftersales.survey_questions.kind IS 'single (one choice), multiple (choices), rating (1 to 5), nps (0 to 10) or text (open)';
COMMENT ON COLUMN aftersales.survey_questions.prompt IS 'The question';
COMMENT ON COLUMN aftersales.survey_questions.choices IS 'Choices of single and multiple questions';
COMMENT ON COLUMN aftersales.survey_questions.metric IS 'csat: the rating that is the survey''s CSAT; nps: the question that is its NPS; at most one of each per template';

-- A published template's questions are frozen: answers refer to them.
CREATE FUNCTION aftersales_internal.survey_question_frozen() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    r := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    IF EXISTS (SELECT FROM aftersales.survey_templates t
                WHERE t.tenant_id OPERATOR(pg_catalog.=) r.tenant_id AND t.template_id OPERATOR(pg_catalog.=) r.template_id
                  AND t.published_at IS NOT NULL)
       OR (TG_OP = 'UPDATE' AND EXISTS (SELECT FROM aftersales.survey_templates t
                WHERE t.tenant_id OPERATOR(pg_catalog.=) OLD.tenant_id AND t.template_id OPERATOR(pg_catalog.=) OLD.template_id
                  AND t.published_at IS NOT NULL)) THEN
        RAISE EXCEPTION 'survey template % is published: its questions cannot change', r.template_id
            USING ERRCODE = '55000',
                  HINT = 'Make a new version: SELECT aftersales.create_survey_template(''after_service'', ''After-service survey'', ''[{"kind": "rating", "prompt": "Overall?", "metric": "csat"}]'');';
    END IF;
    RETURN r;
END
$$;
COMMENT ON FUNCTION aftersales_internal.survey_question_frozen() IS
  'Trigger: the questions of a published survey template cannot be added, changed or deleted';
CREATE TRIGGER survey_question_frozen
    BEFORE INSERT OR UPDATE OR DELETE ON aftersales.survey_questions
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.survey_question_frozen();

CREATE FUNCTION aftersales_internal.survey_template_frozen() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.published_at IS NOT NULL THEN
        RAISE EXCEPTION 'survey template % is published: it cannot be deleted', OLD.template_id
            USING ERRCODE = '55000', HINT = 'Published templates stay: surveys and answers refer to them.';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.published_at IS NOT NULL
       AND (NEW.code, NEW.version, NEW.name, NEW.published_at) IS DISTINCT FROM (OLD.code, OLD.version, OLD.name, OLD.published_at) THEN
        RAISE EXCEPTION 'survey template % is published: it cannot change', OLD.template_id
            USING ERRCODE = '55000',
                  HINT = 'Make a new version with aftersales.create_survey_template() under the same code.';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
COMMENT ON FUNCTION aftersales_internal.survey_template_frozen() IS 'Trigger: a published survey template never changes';
CREATE TRIGGER survey_template_frozen
    BEFORE UPDATE OR DELETE ON aftersales.survey_templates
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.survey_template_frozen();

CREATE TABLE aftersales.survey_campaigns (
    tenant_id      bigint      NOT NULL DEFAULT aftersales.current_tenant()
                               REFERENCES aftersales.tenants,
    campaign_id    bigint      GENERATED ALWAYS AS IDENTITY,
    name           text        NOT NULL CHECK (name <> ''),
    template_id    bigint      NOT NULL,
    channel        aftersales.survey_channel NOT NULL,
    segment_tier   text        CHECK (segment_tier IN ('key', 'major', 'standard')),
    segment_region aftersales.region,
    sent_at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, campaign_id),
    UNIQUE (tenant_id, name),
    FOREIGN KEY (tenant_id, template_id) REFERENCES aftersales.survey_templates (tenant_id, template_id)
);
COMMENT ON TABLE aftersales.survey_campaigns IS 'Survey campaigns (a quarterly survey, say): one template sent to a customer segment through a channel';
COMMENT ON COLUMN aftersales.survey_campaigns.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.survey_campaigns.campaign_id IS 'Campaign id';
COMMENT ON COLUMN aftersales.survey_campaigns.name IS 'Name, unique per tenant (2026-Q3 satisfaction survey)';
COMMENT ON COLUMN aftersales.survey_campaigns.template_id IS 'Template sent';
COMMENT ON COLUMN aftersales.survey_campaigns.channel IS 'Channel';
COMMENT ON COLUMN aftersales.survey_campaigns.segment_tier IS 'Segment: customers of this tier only; NULL for all tiers';
COMMENT ON COLUMN aftersales.survey_campaigns.segment_region IS 'Segment: customers of this region only; NULL for all regions';
COMMENT ON COLUMN aftersales.survey_campaigns.sent_at IS 'When its surveys were sent';

CREATE TABLE aftersales.surveys (
    tenant_id     bigint      NOT NULL DEFAULT aftersales.current_tenant()
                              REFERENCES aftersales.tenants,
    survey_id     bigint      GENERATED ALWAYS AS IDENTITY,
    template_id   bigint      NOT NULL,
    campaign_id   bigint,
    ticket_id     bigint,
    customer_id   bigint      NOT NULL,
    org_id        bigint      NOT NULL,
    channel       aftersales.survey_channel NOT NULL,
    sent_at       timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    answered_at   timestamptz,
    state         text        NOT NULL DEFAULT 'sent' CHECK (state IN ('sent', 'answered', 'partial', 'expired')),
    event         text,
    event_at      timestamptz,
    event_by      text,
    event_reason  text,
    event_seq     integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, survey_id),
    FOREIGN KEY (tenant_id, template_id) REFERENCES aftersales.survey_templates (tenant_id, template_id),
    FOREIGN KEY (tenant_id, campaign_id) REFERENCES aftersales.survey_campaigns (tenant_id, campaign_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES aftersales.customers (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES aftersales.organisations (tenant_id, org_id),
    CHECK (expires_at > sent_at),
    CHECK ((state IN ('answered', 'partial')) = (answered_at IS NOT NULL))
);
CREATE UNIQUE INDEX surveys_one_per_ticket ON aftersales.surveys (tenant_id, ticket_id, template_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX surveys_campaign_idx ON aftersales.surveys (tenant_id, campaign_id) WHERE campaign_id IS NOT NULL;
CREATE INDEX surveys_open_idx ON aftersales.surveys (tenant_id, expires_at) WHERE state = 'sent';
COMMENT ON TABLE aftersales.surveys IS
  'Surveys sent: one template to one customer, after a ticket or in a campaign; held to machine survey of aftersales.state_transitions (sent, then answered, partial or expired)';
COMMENT ON COLUMN aftersales.surveys.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.surveys.survey_id IS 'Survey id';
COMMENT ON COLUMN aftersales.surveys.template_id IS 'Template (version) sent';
COMMENT ON COLUMN aftersales.surveys.campaign_id IS 'Campaign, for campaign surveys';
COMMENT ON COLUMN aftersales.surveys.ticket_id IS 'Ticket, for post-service surveys';
COMMENT ON COLUMN aftersales.surveys.customer_id IS 'Customer asked';
COMMENT ON COLUMN aftersales.surveys.org_id IS 'Organisation of the ticket or customer (row security scopes by it)';
COMMENT ON COLUMN aftersales.surveys.channel IS 'Channel';
COMMENT ON COLUMN aftersales.surveys.sent_at IS 'When it was sent';
COMMENT ON COLUMN aftersales.surveys.expires_at IS 'When it expires unanswered';
COMMENT ON COLUMN aftersales.surveys.answered_at IS 'When it was answered';
COMMENT ON COLUMN aftersales.surveys.state IS 'sent, answered (every question), partial (some) or expired';
COMMENT ON COLUMN aftersales.surveys.event IS 'Latest event (send, answer, answer_partly, expire)';
COMMENT ON COLUMN aftersales.surveys.event_at IS 'When the latest event happened';
COMMENT ON COLUMN aftersales.surveys.event_by IS 'Who made it';
COMMENT ON COLUMN aftersales.surveys.event_reason IS 'Why';
COMMENT ON COLUMN aftersales.surveys.event_seq IS 'Number of events so far';

CREATE TABLE aftersales.survey_events (
    tenant_id   bigint      NOT NULL,
    survey_id   bigint      NOT NULL,
    seq         integer     NOT NULL CHECK (seq > 0),
    event       text        NOT NULL,
    from_state  text        NOT NULL,
    to_state    text        NOT NULL,
    actor       text        NOT NULL,
    at          timestamptz NOT NULL,
    reason      text,
    changes     jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, survey_id, seq),
    FOREIGN KEY (tenant_id, survey_id) REFERENCES aftersales.surveys (tenant_id, survey_id)
);
COMMENT ON TABLE aftersales.survey_events IS 'Event log of surveys, append-only, written by the state engine';
COMMENT ON COLUMN aftersales.survey_events.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.survey_events.survey_id IS 'Survey';
COMMENT ON COLUMN aftersales.survey_events.seq IS 'Event number within the survey, from 1';
COMMENT ON COLUMN aftersales.survey_events.event IS 'send, answer, answer_partly or expire';
COMMENT ON COLUMN aftersales.survey_events.from_state IS 'State before; empty when sent';
COMMENT ON COLUMN aftersales.survey_events.to_state IS 'State after';
COMMENT ON COLUMN aftersales.survey_events.actor IS 'Who';
COMMENT ON COLUMN aftersales.survey_events.at IS 'When';
COMMENT ON COLUMN aftersales.survey_events.reason IS 'Why';
COMMENT ON COLUMN aftersales.survey_events.changes IS 'Changed columns: {"column": [old, new]}';
CREATE TRIGGER survey_events_append_only
    BEFORE UPDATE OR DELETE ON aftersales.survey_events
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.append_only('Surveys are answered once; send a new survey instead: SELECT aftersales.send_survey(1, ticket => 42);');

CREATE TABLE aftersales.survey_answers (
    tenant_id    bigint   NOT NULL,
    survey_id    bigint   NOT NULL,
    position     integer  NOT NULL,
    choice       text[],
    score        smallint CHECK (score BETWEEN 0 AND 10),
    answer_text  text     CHECK (answer_text <> ''),
    PRIMARY KEY (tenant_id, survey_id, position),
    FOREIGN KEY (tenant_id, survey_id) REFERENCES aftersales.surveys (tenant_id, survey_id),
    CHECK (pg_catalog.num_nonnulls(choice, score, answer_text) = 1)
);
COMMENT ON TABLE aftersales.survey_answers IS 'Answers of a survey, one row per answered question; written once, by aftersales.answer_survey()';
COMMENT ON COLUMN aftersales.survey_answers.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.survey_answers.survey_id IS 'Survey';
COMMENT ON COLUMN aftersales.survey_answers.position IS 'Question (its position in the template)';
COMMENT ON COLUMN aftersales.survey_answers.choice IS 'Choices made (single: one; multiple: one or more)';
COMMENT ON COLUMN aftersales.survey_answers.score IS 'Score: 1 to 5 for a rating, 0 to 10 for NPS';
COMMENT ON COLUMN aftersales.survey_answers.answer_text IS 'Open answer';
CREATE TRIGGER survey_answers_append_only
    BEFORE UPDATE OR DELETE ON aftersales.survey_answers
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.append_only('Answers are given once; send a new survey instead: SELECT aftersales.send_survey(1, ticket => 42);');

INSERT INTO aftersales.state_transitions (machine, from_state, event, to_state, needs_reason)
VALUES ('survey', '', 'send', 'sent', false),
       ('survey', 'sent', 'answer', 'answered', false),
       ('survey', 'sent', 'answer_partly', 'partial', false),
       ('survey', 'sent', 'expire', 'expired', false);

CREATE TRIGGER state_guard
    BEFORE INSERT OR UPDATE ON aftersales.surveys
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.state_guard('survey', 'survey_id', 'aftersales.survey_events');
CREATE TRIGGER state_log
    AFTER INSERT OR UPDATE ON aftersales.surveys
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.state_log('survey', 'survey_id', 'aftersales.survey_events');

-- ---------------------------------------------------------------------------
-- The API

CREATE FUNCTION aftersales.create_survey_template(code text, name text, questions jsonb, publish boolean DEFAULT true)
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    example constant text := 'SELECT aftersales.create_survey_template(''after_service'', ''After-service survey'', ''[{"kind": "rating", "prompt": "Overall satisfaction", "metric": "csat"}, {"kind": "single", "prompt": "Solved?", "choices": ["yes", "no"]}]'');';
    q jsonb;
    i integer := 0;
    id bigint;
    v integer;
BEGIN
    IF code IS NULL OR code !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('invalid survey template code "%s"', COALESCE(aftersales_internal.cut(code), 'NULL')),
            'A code is a lowercase word, for example: ' || example);
    END IF;
    IF name IS NULL OR pg_catalog.btrim(name) = '' THEN
        PERFORM aftersales_internal.complaint_error('a survey template needs a title', 'Name it, for example: ' || example, '22004');
    END IF;
    IF questions IS NULL OR pg_catalog.jsonb_typeof(questions) <> 'array' OR pg_catalog.jsonb_array_length(questions) = 0 THEN
        PERFORM aftersales_internal.complaint_error('a survey template needs a non-empty array of questions',
            'Each question is {"kind": single|multiple|rating|nps|text, "prompt": ..., "choices": [...], "metric": csat|nps}; for example: ' || example);
    END IF;
    SELECT COALESCE(pg_catalog.max(t.version), 0) + 1 INTO v FROM aftersales.survey_templates t
     WHERE t.tenant_id = tenant AND t.code = create_survey_template.code;
    INSERT INTO aftersales.survey_templates AS t (tenant_id, code, version, name)
    VALUES (tenant, create_survey_template.code, v, create_survey_template.name)
    RETURNING t.template_id INTO id;
    FOR q IN SELECT x FROM pg_catalog.jsonb_array_elements(questions) x LOOP
        i := i + 1;
        IF pg_catalog.jsonb_typeof(q) <> 'object' OR NOT (q ? 'kind' AND q ? 'prompt')
           OR NOT (q ->> 'kind' IN ('single', 'multiple', 'rating', 'nps', 'text')) THEN
            PERFORM aftersales_internal.complaint_error(
                pg_catalog.format('invalid survey question %s: %s', i, aftersales_internal.cut(q::text)),
                'Each question is {"kind": single|multiple|rating|nps|text, "prompt": ..., "choices": [...] for single and multiple, "metric": csat (a rating) or nps}; for example: ' || example);
        END IF;
        INSERT INTO aftersales.survey_questions (tenant_id, template_id, position, kind, prompt, choices, metric)
        VALUES (tenant, id, i, q ->> 'kind', q ->> 'prompt',
                CASE WHEN q ? 'choices' THEN ARRAY(SELECT pg_catalog.jsonb_array_elements_text(q -> 'choices')) END,
                q ->> 'metric');
    END LOOP;
    IF publish THEN
        UPDATE aftersales.survey_templates t SET published_at = aftersales.now()
         WHERE t.tenant_id = tenant AND t.template_id = id;
    END IF;
    RETURN id;
END
$$;
COMMENT ON FUNCTION aftersales.create_survey_template(text, text, jsonb, boolean) IS
  'Creates the next version of a survey template from a JSON array of questions ({"kind", "prompt", "choices", "metric"}), published unless publish => false; returns its id';

CREATE FUNCTION aftersales.publish_survey_template(template bigint) RETURNS timestamptz
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result timestamptz;
BEGIN
    UPDATE aftersales.survey_templates t SET published_at = COALESCE(t.published_at, aftersales.now())
     WHERE t.tenant_id = aftersales.current_tenant() AND t.template_id = template
    RETURNING t.published_at INTO result;
    IF NOT FOUND THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('survey template %s does not exist for tenant %s', COALESCE(template::text, 'NULL'), aftersales.current_tenant()),
            'List them with: SELECT template_id, code, version, published_at FROM aftersales.survey_templates;', 'P0002');
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION aftersales.publish_survey_template(bigint) IS 'Publishes a draft survey template (from then on it never changes); returns when';

-- One survey: the INSERT the engine judges (event send).
CREATE FUNCTION aftersales_internal.survey_send(tenant bigint, template bigint, campaign bigint, ticket bigint,
                                                customer bigint, org bigint, channel text, at timestamptz,
                                                expires_after interval)
    RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO aftersales.surveys AS s (tenant_id, template_id, campaign_id, ticket_id, customer_id, org_id, channel,
                                         sent_at, expires_at, event, event_at)
    VALUES (tenant, template, campaign, ticket, customer, org, channel::aftersales.survey_channel, at, at + expires_after,
            'send', at)
    RETURNING s.survey_id
$$;
COMMENT ON FUNCTION aftersales_internal.survey_send(bigint, bigint, bigint, bigint, bigint, bigint, text, timestamptz, interval) IS
  'Internal: sends one survey (event send)';

CREATE FUNCTION aftersales_internal.survey_check_send(template bigint, channel text, expires_after interval, at timestamptz)
    RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM aftersales.survey_templates t WHERE t.tenant_id = aftersales.current_tenant()
                      AND t.template_id = template AND t.published_at IS NOT NULL) THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('survey template %s is not a published template of tenant %s', COALESCE(template::text, 'NULL'),
                              aftersales.current_tenant()),
            'Send a published version: SELECT template_id FROM aftersales.survey_templates WHERE published_at IS NOT NULL;', 'P0002');
    END IF;
    IF channel IS NULL OR NOT aftersales_internal.value_listed('aftersales.survey_channel', channel) THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('unknown survey channel "%s"', COALESCE(aftersales_internal.cut(channel), 'NULL')),
            pg_catalog.format('Channels: %s; for example: SELECT aftersales.send_survey(1, ticket => 42, channel => ''wechat'');',
                              aftersales_internal.value_list('aftersales.survey_channel')));
    END IF;
    IF expires_after IS NULL OR expires_after <= '0'::interval OR at IS NULL THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('invalid survey expiry %s', COALESCE(expires_after::text, 'NULL')),
            'A survey expires a positive time after it is sent, for example: expires_after => ''14 days''.');
    END IF;
END
$$;
COMMENT ON FUNCTION aftersales_internal.survey_check_send(bigint, text, interval, timestamptz) IS
  'Internal: the errors of sending a survey (template, channel, expiry)';

CREATE FUNCTION aftersales.send_survey(template bigint, ticket bigint, channel text DEFAULT 'wechat',
                                       expires_after interval DEFAULT '14 days', at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    t aftersales.tickets;
BEGIN
    PERFORM aftersales_internal.survey_check_send(template, channel, expires_after, at);
    SELECT * INTO t FROM aftersales.tickets tk WHERE tk.tenant_id = tenant AND tk.ticket_id = ticket;
    IF NOT FOUND THEN
        PERFORM aftersales_internal.complaint_error(pg_catalog.format('ticket %s does not exist for tenant %s', COALESCE(ticket::text, 'NULL'), tenant),
            'Send post-service surveys for closed tickets: SELECT ticket_id FROM aftersales.tickets WHERE status = ''closed'';', 'P0002');
    END IF;
    IF t.status <> 'closed' THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('ticket %s is %s: a post-service survey goes out after it is closed', ticket, t.status),
            'Close the ticket first (a satisfied follow-up), or send the survey in a campaign.', '55000');
    END IF;
    IF EXISTS (SELECT FROM aftersales.surveys x WHERE x.tenant_id = tenant AND x.ticket_id = ticket AND x.template_id = template) THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('ticket %s already has a survey of template %s', ticket, template),
            'A customer is asked once per ticket: SELECT survey_id, state FROM aftersales.surveys WHERE ticket_id = ' || ticket || ';',
            '23505');
    END IF;
    RETURN aftersales_internal.survey_send(tenant, template, NULL, ticket, t.customer_id,
        COALESCE(t.org_id, (SELECT c.org_id FROM aftersales.customers c WHERE c.tenant_id = tenant AND c.customer_id = t.customer_id),
                 (SELECT o.org_id FROM aftersales.organisations o WHERE o.tenant_id = tenant AND o.level = 'hq')),
        channel, at, expires_after);
END
$$;
COMMENT ON FUNCTION aftersales.send_survey(bigint, bigint, text, interval, timestamptz) IS
  'Sends a post-service survey for a closed ticket to its customer through a channel (one per ticket and template); returns its id';

CREATE FUNCTION aftersales.start_survey_campaign(name text, template bigint, channel text DEFAULT 'email',
                                                 tier text DEFAULT NULL, region text DEFAULT NULL,
                                                 expires_after interval DEFAULT '30 days',
                                                 at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    cid bigint;
    hq bigint;
BEGIN
    PERFORM aftersales_internal.survey_check_send(template, channel, expires_after, at);
    IF start_survey_campaign.tier IS NOT NULL AND start_survey_campaign.tier NOT IN ('key', 'major', 'standard') THEN
        PERFORM aftersales_internal.complaint_error(pg_catalog.format('unknown customer tier "%s"', aftersales_internal.cut(start_survey_campaign.tier)),
            'Tiers: key, major and standard; for example: SELECT aftersales.start_survey_campaign(''2026-Q3'', 1, tier => ''key'');');
    END IF;
    IF start_survey_campaign.region IS NOT NULL AND start_survey_campaign.region NOT IN ('华东', '华北', '东北', '中南', '西北', '西南') THEN
        PERFORM aftersales_internal.complaint_error(pg_catalog.format('unknown region "%s"', aftersales_internal.cut(start_survey_campaign.region)),
            'Regions: 华东, 华北, 东北, 中南, 西北 and 西南; for example: SELECT aftersales.start_survey_campaign(''2026-Q3 华东'', 1, region => ''华东'');');
    END IF;
    INSERT INTO aftersales.survey_campaigns AS c (tenant_id, name, template_id, channel, segment_tier, segment_region, sent_at)
    VALUES (tenant, start_survey_campaign.name, template, channel::aftersales.survey_channel, start_survey_campaign.tier,
            start_survey_campaign.region, at)
    RETURNING c.campaign_id INTO cid;
    SELECT o.org_id INTO hq FROM aftersales.organisations o WHERE o.tenant_id = tenant AND o.level = 'hq';
    PERFORM aftersales_internal.survey_send(tenant, template, cid, NULL, cu.customer_id, COALESCE(cu.org_id, hq), channel, at,
                                            expires_after)
       FROM aftersales.customers cu
      WHERE cu.tenant_id = tenant AND (start_survey_campaign.tier IS NULL OR cu.tier = start_survey_campaign.tier)
        AND (start_survey_campaign.region IS NULL OR cu.region = start_survey_campaign.region)
        AND COALESCE(cu.org_id, hq) IS NOT NULL
      ORDER BY cu.customer_id;
    RETURN cid;
END
$$;
COMMENT ON FUNCTION aftersales.start_survey_campaign(text, bigint, text, text, text, interval, timestamptz) IS
  'Starts a survey campaign: sends a published template through a channel to every customer of a segment (tier, region; NULL for all); returns the campaign id';

CREATE FUNCTION aftersales.answer_survey(survey bigint, answers jsonb, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    example constant text := 'SELECT aftersales.answer_survey(7, ''{"1": 5, "2": 9, "3": "yes", "4": ["parts", "price"], "6": "quick and polite"}'');';
    s aftersales.surveys;
    q aftersales.survey_questions;
    k text;
    v jsonb;
    nq integer;
    st text;
    bad text;
BEGIN
    SELECT * INTO s FROM aftersales.surveys x WHERE x.tenant_id = tenant AND x.survey_id = survey;
    IF NOT FOUND THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('survey %s does not exist for tenant %s', COALESCE(survey::text, 'NULL'), tenant),
            'List the sent surveys with: SELECT survey_id, state FROM aftersales.surveys WHERE state = ''sent'';', 'P0002');
    END IF;
    IF answers IS NULL OR pg_catalog.jsonb_typeof(answers) <> 'object' OR answers = '{}' THEN
        PERFORM aftersales_internal.complaint_error('a survey answer is a non-empty object of answers by question position',
            'For example: ' || example);
    END IF;
    IF s.state IN ('answered', 'partial') THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('survey %s was already answered at %s', survey, s.answered_at),
            'A survey is answered once; send a new one for new answers.', '55000');
    END IF;
    IF s.state = 'expired' OR (s.state = 'sent' AND at >= s.expires_at) THEN
        PERFORM aftersales_internal.complaint_error(
            pg_catalog.format('survey %s expired at %s', survey, s.expires_at),
            'Expired surveys take no answers; send a new one.', '55000');
    END IF;
    -- the event first: a survey answered before is refused here, before
    -- anything is written
    SELECT pg_catalog.count(*) INTO nq FROM aftersales.survey_questions x WHERE x.tenant_id = tenant AND x.template_id = s.template_id;
    UPDATE aftersales.surveys x
       SET event = CASE WHEN (SELECT pg_catalog.count(*) FROM pg_catalog.jsonb_object_keys(answers)) >= nq
                        THEN 'answer' ELSE 'answer_partly' END,
           event_at = at, event_seq = x.event_seq + 1, event_by = NULL, event_reason = NULL, answered_at = at
     WHERE x.tenant_id = tenant AND x.survey_id = survey
    RETURNING x.state INTO st;
    FOR k, v IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(answers) e ORDER BY e.key LOOP
        SELECT * INTO q FROM aftersales.survey_questions x
         WHERE x.tenant_id = tenant AND x.template_id = s.template_id AND x.position::text = k;
        IF NOT FOUND THEN
            PERFORM aftersales_internal.complaint_error(
                pg_catalog.format('survey %s has no question %s', survey, aftersales_internal.cut(k)),
                pg_catalog.format('Its questions are numbered 1 to %s; for example: %s', nq, example), '22023');
        END IF;
        bad := CASE
            WHEN q.kind = 'rating' AND NOT (pg_catalog.jsonb_typeof(v) = 'number' AND v::text ~ '^[1-5]$') THEN 'a rating from 1 to 5'
            WHEN q.kind = 'nps' AND NOT (pg_catalog.jsonb_typeof(v) = 'number' AND v::text ~ '^([0-9]|10)$') THEN 'an NPS score from 0 to 10'
            WHEN q.kind = 'text' AND NOT (pg_catalog.jsonb_typeof(v) = 'string' AND pg_catalog.btrim(v #>> '{}') <> '') THEN 'a non-empty text'
            WHEN q.kind = 'single' AND NOT (pg_catalog.jsonb_typeof(v) = 'string' AND (v #>> '{}') = ANY (q.choices)) THEN 'one of the choices'
            WHEN q.kind = 'multiple' AND NOT (pg_catalog.jsonb_typeof(v) = 'array' AND pg_catalog.jsonb_array_length(v) > 0
                 AND ARRAY(SELECT pg_catalog.jsonb_array_elements_text(v)) <@ q.choices) THEN 'one or more of the choices'
            END;
        IF bad IS NOT NULL THEN
            PERFORM aftersales_internal.complaint_error(
                pg_catalog.format('invalid answer to question %s of survey %s: %s', aftersales_internal.cut(k), survey,
                                  aftersales_internal.cut(v::text)),
                pg_catalog.format('Question %s expects %s%s; for example: %s', aftersales_internal.cut(k), bad,
                                  CASE WHEN q.choices IS NOT NULL THEN ' (' || pg_catalog.array_to_string(q.choices, ', ') || ')' ELSE '' END,
                                  example));
        END IF;
        INSERT INTO aftersales.survey_answers (tenant_id, survey_id, position, choice, score, answer_text)
        VALUES (tenant, survey, q.position,
                CASE WHEN q.kind = 'single' THEN ARRAY[v #>> '{}']
                     WHEN q.kind = 'multiple' THEN ARRAY(SELECT pg_catalog.jsonb_array_elements_text(v)) END,
                CASE WHEN q.kind IN ('rating', 'nps') THEN (v #>> '{}')::smallint END,
                CASE WHEN q.kind = 'text' THEN pg_catalog.btrim(v #>> '{}') END);
    END LOOP;
    RETURN st;
END
$$;
COMMENT ON FUNCTION aftersales.answer_survey(bigint, jsonb, timestamptz) IS
  'Records the answers of a sent survey, once: a JSON object by question position (ratings 1-5, NPS 0-10, a choice, an array of choices, text); every question answered makes it answered, fewer partial; returns its state';

CREATE FUNCTION aftersales.expire_surveys(now timestamptz DEFAULT aftersales.now(), tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    WITH x AS (
        UPDATE aftersales.surveys s SET event = 'expire', event_at = s.expires_at, event_seq = s.event_seq + 1, event_by = NULL
         WHERE s.tenant_id = expire_surveys.tenant AND s.state = 'sent' AND s.expires_at <= expire_surveys.now
        RETURNING 1)
    SELECT pg_catalog.count(*) FROM x
$$;
COMMENT ON FUNCTION aftersales.expire_surveys(timestamptz, bigint) IS
  'Expires the unanswered surveys of a tenant whose expiry has passed (event expire, dated at the expiry); returns how many; schedule it beside the sweep';

CREATE FUNCTION aftersales.check_surveys(tenant bigint DEFAULT NULL)
    RETURNS TABLE (tenant_id bigint, survey_id bigint, problem text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT tn.tenant_id, c.id, c.problem
      FROM aftersales.tenants tn,
           aftersales_internal.state_machine_check('survey', 'aftersales.surveys', 'aftersales.survey_events', 'survey_id', tn.tenant_id) c
     WHERE check_surveys.tenant IS NULL OR tn.tenant_id = check_surveys.tenant
     ORDER BY 1, 2, 3
$$;
COMMENT ON FUNCTION aftersales.check_surveys(bigint) IS
  'Proves every survey (of a tenant, or all) is the replay of its event log; returns those that are not, with the problem';
REVOKE ALL ON FUNCTION aftersales.check_surveys(bigint) FROM PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('aftersales.survey_templates', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.survey_questions', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.survey_campaigns', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.surveys', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.survey_events', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.survey_answers', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.survey_templates', 'template_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.survey_campaigns', 'campaign_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.surveys', 'survey_id')::regclass, '');
