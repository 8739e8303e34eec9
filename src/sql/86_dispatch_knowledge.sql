
-- aftersales install script, part 86: the service knowledge base and
-- remote service.  Articles (product line or model → symptom → cause →
-- solution, attachments by URL) with a life cycle on the generic state
-- machine engine (machine kb_article: draft → review → published →
-- retired, with reject back to draft and revise of a published article
-- into a new draft version), a snapshot per published version, search in
-- Chinese and English with pg_trgm (optional: the search functions say so
-- when it is missing), suggestions at ticket entry, drafts from resolved
-- tickets, and each resolution's mode (remote by phone or video, on site,
-- parts only) with the article it used and whether it helped.

-- ---------------------------------------------------------------------------
-- Articles

CREATE TABLE aftersales.kb_articles (
    tenant_id         bigint      NOT NULL DEFAULT aftersales.current_tenant()
                                  REFERENCES aftersales.tenants,
    article_id        bigint      GENERATED ALWAYS AS IDENTITY,
    product_line_id   bigint      NOT NULL,
    model_id          bigint,
    problem_type_id   bigint,
    title             text        NOT NULL CHECK (title <> '' AND pg_catalog.length(title) <= 200),
    symptom           text        NOT NULL CHECK (symptom <> ''),
    cause             text,
    solution          text        NOT NULL CHECK (solution <> ''),
    attachments       text[]      NOT NULL DEFAULT '{}'
                                  CONSTRAINT kb_articles_attachments_check
                                  CHECK (attachments = '{}' OR pg_catalog.array_to_string(attachments, ' ', '-') ~ '^https?://[^ ]+( https?://[^ ]+)*$'),
    language          text        NOT NULL DEFAULT 'zh' CHECK (language IN ('zh', 'en')),
    source_ticket_id  bigint,
    version           integer     NOT NULL DEFAULT 0 CHECK (version >= 0),
    search_text       text        GENERATED ALWAYS AS (pg_catalog.lower(title || ' ' || symptom || ' ' || COALESCE(cause, '') || ' ' || solution)) STORED,
    state             text        NOT NULL DEFAULT 'draft',
    event             text,
    event_at          timestamptz,
    event_by          text,
    event_reason      text,
    event_seq         integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, article_id),
    FOREIGN KEY (tenant_id, product_line_id) REFERENCES aftersales.product_lines (tenant_id, product_line_id),
    FOREIGN KEY (tenant_id, model_id) REFERENCES aftersales.product_models (tenant_id, model_id),
    FOREIGN KEY (tenant_id, problem_type_id) REFERENCES aftersales.problem_types (tenant_id, problem_type_id),
    FOREIGN KEY (tenant_id, source_ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id)
);
CREATE INDEX kb_articles_line_idx ON aftersales.kb_articles (tenant_id, product_line_id, state);
COMMENT ON TABLE aftersales.kb_articles IS
  'Service knowledge base (服务知识库): product line or model → symptom → cause → solution, with a life cycle (machine kb_article: draft, review, published, retired); change it through the aftersales.*_article functions';
COMMENT ON COLUMN aftersales.kb_articles.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.kb_articles.article_id IS 'Article id';
COMMENT ON COLUMN aftersales.kb_articles.product_line_id IS 'Product line the article applies to';
COMMENT ON COLUMN aftersales.kb_articles.model_id IS 'Model it applies to; NULL: every model of the line';
COMMENT ON COLUMN aftersales.kb_articles.problem_type_id IS 'Problem type, when it is specific to one';
COMMENT ON COLUMN aftersales.kb_articles.title IS 'Title';
COMMENT ON COLUMN aftersales.kb_articles.symptom IS 'What the customer sees (现象)';
COMMENT ON COLUMN aftersales.kb_articles.cause IS 'Why it happens (原因)';
COMMENT ON COLUMN aftersales.kb_articles.solution IS 'How to solve it, step by step (解决方法)';
COMMENT ON COLUMN aftersales.kb_articles.attachments IS 'Attachments by reference: http(s) URLs of documents, pictures, videos';
COMMENT ON COLUMN aftersales.kb_articles.language IS 'zh or en';
COMMENT ON COLUMN aftersales.kb_articles.source_ticket_id IS 'The resolved ticket it was drafted from, if any';
COMMENT ON COLUMN aftersales.kb_articles.version IS 'Published version number: 0 until first published, then one more at each publish';
COMMENT ON COLUMN aftersales.kb_articles.search_text IS 'Lower-cased title, symptom, cause and solution, that search reads';
COMMENT ON COLUMN aftersales.kb_articles.state IS 'draft, review, published or retired (set by the state machine)';
COMMENT ON COLUMN aftersales.kb_articles.event IS 'The event of the latest change (create, edit, submit, reject, publish, retire, revise)';
COMMENT ON COLUMN aftersales.kb_articles.event_at IS 'When the latest event happened';
COMMENT ON COLUMN aftersales.kb_articles.event_by IS 'Who made it (the authenticated identity)';
COMMENT ON COLUMN aftersales.kb_articles.event_reason IS 'Why (required to reject and retire)';
COMMENT ON COLUMN aftersales.kb_articles.event_seq IS 'Number of events so far: seq of the latest row in kb_article_events';
SELECT pg_catalog.pg_extension_config_dump('aftersales.kb_articles', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.kb_articles', 'article_id')::regclass, '');

CREATE TABLE aftersales.kb_article_events (
    tenant_id   bigint      NOT NULL,
    article_id  bigint      NOT NULL,
    seq         integer     NOT NULL CHECK (seq >= 1),
    event       text        NOT NULL,
    from_state  text,
    to_state    text        NOT NULL,
    actor       text        NOT NULL,
    at          timestamptz NOT NULL,
    reason      text,
    changes     jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, article_id, seq),
    FOREIGN KEY (tenant_id, article_id) REFERENCES aftersales.kb_articles (tenant_id, article_id)
);
COMMENT ON TABLE aftersales.kb_article_events IS
  'Append-only log of every change of every article (who, when, from, to, why, and the columns changed): the version history; written by the state machine engine';
COMMENT ON COLUMN aftersales.kb_article_events.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.kb_article_events.article_id IS 'Article changed';
COMMENT ON COLUMN aftersales.kb_article_events.seq IS 'Position in the article''s history, from 1 (create)';
COMMENT ON COLUMN aftersales.kb_article_events.event IS 'The event';
COMMENT ON COLUMN aftersales.kb_article_events.from_state IS 'State before; empty for create';
COMMENT ON COLUMN aftersales.kb_article_events.to_state IS 'State after';
COMMENT ON COLUMN aftersales.kb_article_events.actor IS 'Who';
COMMENT ON COLUMN aftersales.kb_article_events.at IS 'When';
COMMENT ON COLUMN aftersales.kb_article_events.reason IS 'Why';
COMMENT ON COLUMN aftersales.kb_article_events.changes IS 'Every column changed: {"column": [old, new], ...}';
SELECT pg_catalog.pg_extension_config_dump('aftersales.kb_article_events', '');
CREATE TRIGGER append_only
    BEFORE UPDATE OR DELETE ON aftersales.kb_article_events
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.append_only('Record a new event instead, for example: SELECT aftersales.revise_article(12);');
CREATE TRIGGER append_only_truncate
    BEFORE TRUNCATE ON aftersales.kb_article_events
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales_internal.append_only('Record a new event instead, for example: SELECT aftersales.revise_article(12);');

-- The life cycle (machine kb_article), on the state machine engine
-- (81_state_machine.sql): draft → review → published → retired; edit
-- changes a draft or an article in review, reject (with a reason) sends a
-- review back, revise starts the next version of a published or retired
-- article, retire needs a reason.  Every INSERT and UPDATE names its event
-- in the row; the engine's guard judges it and its log trigger writes
-- kb_article_events.
INSERT INTO aftersales.state_transitions (machine, from_state, event, to_state, needs_reason) VALUES
    ('kb_article', '', 'create', 'draft', false),
    ('kb_article', 'draft', 'edit', 'draft', false),
    ('kb_article', 'draft', 'submit', 'review', false),
    ('kb_article', 'review', 'edit', 'review', false),
    ('kb_article', 'review', 'reject', 'draft', true),
    ('kb_article', 'review', 'publish', 'published', false),
    ('kb_article', 'published', 'retire', 'retired', true),
    ('kb_article', 'published', 'revise', 'draft', false),
    ('kb_article', 'retired', 'revise', 'draft', false);
CREATE TRIGGER state_guard BEFORE INSERT OR UPDATE ON aftersales.kb_articles FOR EACH ROW
    EXECUTE FUNCTION aftersales_internal.state_guard('kb_article', 'article_id', 'aftersales.kb_article_events');
CREATE TRIGGER state_log AFTER INSERT OR UPDATE ON aftersales.kb_articles FOR EACH ROW
    EXECUTE FUNCTION aftersales_internal.state_log('kb_article', 'article_id', 'aftersales.kb_article_events');

-- Who may fire which article event: admins and managers review (all
-- events); agents and engineers write and revise articles and send them to
-- review.  Articles are nobody's own, so no right is own-only.
INSERT INTO aftersales.event_rights (kind, event, own_tickets_only)
SELECT k, 'kb_article.' || e, false
  FROM pg_catalog.unnest(ARRAY['admin', 'manager']) k,
       pg_catalog.unnest(ARRAY['create', 'edit', 'submit', 'reject', 'publish', 'retire', 'revise']) e
UNION ALL
SELECT k, 'kb_article.' || e, false
  FROM pg_catalog.unnest(ARRAY['agent', 'engineer']) k,
       pg_catalog.unnest(ARRAY['create', 'edit', 'submit', 'revise']) e;

-- What each published version said, for "what did the engineer read".
CREATE TABLE aftersales.kb_article_versions (
    tenant_id     bigint      NOT NULL,
    article_id    bigint      NOT NULL,
    version       integer     NOT NULL CHECK (version >= 1),
    title         text        NOT NULL,
    symptom       text        NOT NULL,
    cause         text,
    solution      text        NOT NULL,
    attachments   text[]      NOT NULL,
    published_at  timestamptz NOT NULL,
    published_by  text        NOT NULL,
    PRIMARY KEY (tenant_id, article_id, version),
    FOREIGN KEY (tenant_id, article_id) REFERENCES aftersales.kb_articles (tenant_id, article_id)
);
COMMENT ON TABLE aftersales.kb_article_versions IS 'Each published version of each article, as published (append-only)';
COMMENT ON COLUMN aftersales.kb_article_versions.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.kb_article_versions.article_id IS 'Article';
COMMENT ON COLUMN aftersales.kb_article_versions.version IS 'Version number, from 1';
COMMENT ON COLUMN aftersales.kb_article_versions.title IS 'Title as published';
COMMENT ON COLUMN aftersales.kb_article_versions.symptom IS 'Symptom as published';
COMMENT ON COLUMN aftersales.kb_article_versions.cause IS 'Cause as published';
COMMENT ON COLUMN aftersales.kb_article_versions.solution IS 'Solution as published';
COMMENT ON COLUMN aftersales.kb_article_versions.attachments IS 'Attachments as published';
COMMENT ON COLUMN aftersales.kb_article_versions.published_at IS 'When it was published';
COMMENT ON COLUMN aftersales.kb_article_versions.published_by IS 'Who published (reviewed) it';
SELECT pg_catalog.pg_extension_config_dump('aftersales.kb_article_versions', '');
CREATE TRIGGER append_only
    BEFORE UPDATE OR DELETE ON aftersales.kb_article_versions
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.append_only();

-- ---------------------------------------------------------------------------
-- The article API: one UPDATE (or INSERT) per event, naming the event, its
-- time and reason in the row; the state machine engine's guard judges it
-- (the transitions above) and takes the actor from the authenticated
-- identity (event_by = NULL: none claimed).

CREATE FUNCTION aftersales_internal.require_article(article bigint, tenant bigint, fn text) RETURNS aftersales.kb_articles
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a aftersales.kb_articles;
BEGIN
    IF article IS NULL THEN
        RAISE EXCEPTION 'article must not be null'
            USING ERRCODE = '22004', HINT = pg_catalog.format('Name the article, for example: SELECT aftersales.%s(12);', fn);
    END IF;
    SELECT * INTO a FROM aftersales.kb_articles x WHERE x.tenant_id = tenant AND x.article_id = article;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'article % does not exist for tenant %', article, tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the articles with: SELECT article_id, title, state FROM aftersales.kb_articles;';
    END IF;
    RETURN a;
END
$$;
COMMENT ON FUNCTION aftersales_internal.require_article(bigint, bigint, text) IS 'Internal: the article, or the error for a NULL or unknown one';

CREATE FUNCTION aftersales.create_article(product_line bigint, title text, symptom text, solution text,
                                          cause text DEFAULT NULL, model bigint DEFAULT NULL,
                                          problem_type bigint DEFAULT NULL, attachments text[] DEFAULT '{}',
                                          language text DEFAULT 'zh', at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    id bigint;
BEGIN
    IF product_line IS NULL THEN
        RAISE EXCEPTION 'product_line must not be null'
            USING ERRCODE = '22004',
                  HINT = 'Name the product line, for example: SELECT aftersales.create_article(1, ''漏油'', ''机身下方有油迹'', ''更换密封圈'');';
    END IF;
    IF COALESCE(pg_catalog.btrim(title), '') = '' OR COALESCE(pg_catalog.btrim(symptom), '') = ''
       OR COALESCE(pg_catalog.btrim(solution), '') = '' THEN
        RAISE EXCEPTION 'an article needs a title, a symptom and a solution'
            USING ERRCODE = '22004',
                  HINT = 'For example: SELECT aftersales.create_article(1, ''漏油'', ''机身下方有油迹'', ''更换密封圈'');';
    END IF;
    IF NOT EXISTS (SELECT FROM aftersales.product_lines l WHERE l.tenant_id = tenant AND l.product_line_id = product_line) THEN
        RAISE EXCEPTION 'product line % does not exist for tenant %', product_line, tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the product lines with: SELECT product_line_id, name FROM aftersales.product_lines;';
    END IF;
    INSERT INTO aftersales.kb_articles AS k (tenant_id, product_line_id, model_id, problem_type_id, title, symptom, cause,
                                             solution, attachments, language, event, event_at)
    VALUES (tenant, product_line, model, problem_type, title, symptom, cause, solution, COALESCE(attachments, '{}'),
            COALESCE(language, 'zh'), 'create', at)
    RETURNING k.article_id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION aftersales.create_article(bigint, text, text, text, text, bigint, bigint, text[], text, timestamptz) IS
  'Write a new knowledge article (a draft): product line, title, symptom, solution, and optionally cause, model, problem type, attachment URLs and language; returns its id';

CREATE FUNCTION aftersales.edit_article(article bigint, changes jsonb, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    a aftersales.kb_articles := aftersales_internal.require_article(article, tenant, 'edit_article');
    k text;
    s text;
BEGIN
    IF changes IS NULL OR pg_catalog.jsonb_typeof(changes) <> 'object' OR changes = '{}' THEN
        RAISE EXCEPTION 'changes must be a non-empty JSON object'
            USING ERRCODE = '22023',
                  HINT = 'Name the fields to change, for example: SELECT aftersales.edit_article(12, ''{"cause": "密封圈老化"}'');';
    END IF;
    FOR k IN SELECT pg_catalog.jsonb_object_keys(changes) LOOP
        IF k NOT IN ('title', 'symptom', 'cause', 'solution', 'attachments', 'model_id', 'problem_type_id', 'language') THEN
            RAISE EXCEPTION 'cannot edit field "%" of an article', pg_catalog.left(k, 64)
                USING ERRCODE = '22023',
                      HINT = 'Editable fields: title, symptom, cause, solution, attachments, model_id, problem_type_id, language.';
        END IF;
    END LOOP;
    UPDATE aftersales.kb_articles x
       SET event = 'edit', event_at = edit_article.at, event_reason = NULL, event_by = NULL, event_seq = x.event_seq + 1,
           title = CASE WHEN changes ? 'title' THEN changes ->> 'title' ELSE x.title END,
           symptom = CASE WHEN changes ? 'symptom' THEN changes ->> 'symptom' ELSE x.symptom END,
           cause = CASE WHEN changes ? 'cause' THEN changes ->> 'cause' ELSE x.cause END,
           solution = CASE WHEN changes ? 'solution' THEN changes ->> 'solution' ELSE x.solution END,
           attachments = CASE WHEN changes ? 'attachments'
                              THEN ARRAY(SELECT pg_catalog.jsonb_array_elements_text(changes -> 'attachments')) ELSE x.attachments END,
           model_id = CASE WHEN changes ? 'model_id' THEN (changes ->> 'model_id')::bigint ELSE x.model_id END,
           problem_type_id = CASE WHEN changes ? 'problem_type_id' THEN (changes ->> 'problem_type_id')::bigint ELSE x.problem_type_id END,
           language = CASE WHEN changes ? 'language' THEN changes ->> 'language' ELSE x.language END
     WHERE x.tenant_id = tenant AND x.article_id = a.article_id
    RETURNING x.state INTO s;
    RETURN s;
END
$$;
COMMENT ON FUNCTION aftersales.edit_article(bigint, jsonb, timestamptz) IS
  'Change the fields of a draft (or an article in review) given as a JSON object; returns the state';

-- The events without fields: submit, reject, publish, retire, revise.
CREATE FUNCTION aftersales_internal.article_event(article bigint, event text, reason text, at timestamptz, fn text)
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    a aftersales.kb_articles := aftersales_internal.require_article(article, tenant, fn);
    s text;
BEGIN
    UPDATE aftersales.kb_articles x
       SET event = article_event.event, event_at = article_event.at, event_reason = article_event.reason, event_by = NULL,
           event_seq = x.event_seq + 1,
           version = CASE WHEN article_event.event = 'publish' THEN x.version + 1 ELSE x.version END
     WHERE x.tenant_id = tenant AND x.article_id = a.article_id
    RETURNING x.state INTO s;
    IF event = 'publish' THEN
        INSERT INTO aftersales.kb_article_versions (tenant_id, article_id, version, title, symptom, cause, solution, attachments,
                                                    published_at, published_by)
        SELECT x.tenant_id, x.article_id, x.version, x.title, x.symptom, x.cause, x.solution, x.attachments, x.event_at, x.event_by
          FROM aftersales.kb_articles x WHERE x.tenant_id = tenant AND x.article_id = a.article_id;
    END IF;
    RETURN s;
END
$$;
COMMENT ON FUNCTION aftersales_internal.article_event(bigint, text, text, timestamptz, text) IS
  'Internal: records one event of an article through the state machine; publishing also numbers and keeps the version';

CREATE FUNCTION aftersales.submit_article(article bigint, at timestamptz DEFAULT aftersales.now()) RETURNS text
LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $$ SELECT aftersales_internal.article_event(article, 'submit', NULL, at, 'submit_article') $$;
COMMENT ON FUNCTION aftersales.submit_article(bigint, timestamptz) IS 'Send a draft for review: review';

CREATE FUNCTION aftersales.publish_article(article bigint, at timestamptz DEFAULT aftersales.now()) RETURNS text
LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $$ SELECT aftersales_internal.article_event(article, 'publish', NULL, at, 'publish_article') $$;
COMMENT ON FUNCTION aftersales.publish_article(bigint, timestamptz) IS
  'Reviewer: publish an article in review (a new version, kept in kb_article_versions): published';

CREATE FUNCTION aftersales.reject_article(article bigint, reason text, at timestamptz DEFAULT aftersales.now()) RETURNS text
LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $$ SELECT aftersales_internal.article_event(article, 'reject', reason, at, 'reject_article') $$;
COMMENT ON FUNCTION aftersales.reject_article(bigint, text, timestamptz) IS 'Reviewer: send an article in review back to its author, saying why: draft';

CREATE FUNCTION aftersales.retire_article(article bigint, reason text, at timestamptz DEFAULT aftersales.now()) RETURNS text
LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $$ SELECT aftersales_internal.article_event(article, 'retire', reason, at, 'retire_article') $$;
COMMENT ON FUNCTION aftersales.retire_article(bigint, text, timestamptz) IS 'Withdraw a published article, saying why: retired';

CREATE FUNCTION aftersales.revise_article(article bigint, at timestamptz DEFAULT aftersales.now()) RETURNS text
LANGUAGE sql SET search_path = pg_catalog, pg_temp
AS $$ SELECT aftersales_internal.article_event(article, 'revise', NULL, at, 'revise_article') $$;
COMMENT ON FUNCTION aftersales.revise_article(bigint, timestamptz) IS
  'Start the next version of a published or retired article: draft again (the published version stays in kb_article_versions)';

-- A draft from a resolved ticket: its model and problem type, the
-- customer's description as the symptom, the resolution as the solution.
CREATE FUNCTION aftersales.draft_article_from_ticket(ticket bigint, at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    t aftersales.tickets := aftersales_internal.require_ticket(ticket, tenant, 'draft_article_from_ticket');
    line bigint;
    model_name text;
    problem_name text;
    resolution text;
    id bigint;
BEGIN
    IF t.status NOT IN ('resolved', 'closed') THEN
        RAISE EXCEPTION 'ticket % is %, not resolved', ticket, t.status
            USING ERRCODE = '55000',
                  HINT = 'Draft articles from resolved or closed tickets, whose resolution is known.';
    END IF;
    IF t.model_id IS NULL THEN
        RAISE EXCEPTION 'ticket % has no product model', ticket
            USING ERRCODE = '55000',
                  HINT = 'An article belongs to a product line; write it with aftersales.create_article() instead.';
    END IF;
    SELECT m.product_line_id, m.name INTO line, model_name FROM aftersales.product_models m
     WHERE m.tenant_id = tenant AND m.model_id = t.model_id;
    SELECT p.name INTO problem_name FROM aftersales.problem_types p
     WHERE p.tenant_id = tenant AND p.problem_type_id = t.problem_type_id;
    SELECT e.reason INTO resolution FROM aftersales.ticket_events e
     WHERE e.tenant_id = tenant AND e.ticket_id = t.ticket_id AND e.event = 'resolve'
     ORDER BY e.seq DESC LIMIT 1;
    INSERT INTO aftersales.kb_articles AS k (tenant_id, product_line_id, model_id, problem_type_id, title, symptom, solution,
                                             source_ticket_id, event, event_at)
    VALUES (tenant, line, t.model_id, t.problem_type_id, pg_catalog.left(model_name || ': ' || problem_name, 200),
            t.description, COALESCE(NULLIF(resolution, ''), '(to be written)'), t.ticket_id, 'create', at)
    RETURNING k.article_id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION aftersales.draft_article_from_ticket(bigint, timestamptz) IS
  'Start a draft article from a resolved ticket: its model and problem type, the description as symptom, the resolution as solution; returns the article id';

-- ---------------------------------------------------------------------------
-- Search (pg_trgm)

CREATE FUNCTION aftersales_internal.trgm_schema() RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s text;
BEGIN
    SELECT n.nspname INTO s FROM pg_catalog.pg_extension x JOIN pg_catalog.pg_namespace n ON n.oid = x.extnamespace
     WHERE x.extname = 'pg_trgm';
    IF s IS NULL THEN
        RAISE EXCEPTION 'knowledge search needs the extension pg_trgm'
            USING ERRCODE = '0A000',
                  DETAIL = 'Articles are ranked by trigram similarity, which works on Chinese substrings as on English words.',
                  HINT = 'Install it (PostgreSQL contrib) in this database: CREATE EXTENSION pg_trgm; then SELECT aftersales.create_article_search_index();';
    END IF;
    RETURN s;
END
$$;
COMMENT ON FUNCTION aftersales_internal.trgm_schema() IS 'Internal: the schema of pg_trgm, or the error saying to install it';

CREATE FUNCTION aftersales.create_article_search_index() RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s constant text := aftersales_internal.trgm_schema();
BEGIN
    EXECUTE pg_catalog.format('CREATE INDEX IF NOT EXISTS kb_articles_search_idx ON aftersales.kb_articles USING gin (search_text %I.gin_trgm_ops)', s);
    RETURN 'aftersales.kb_articles_search_idx';
END
$$;
COMMENT ON FUNCTION aftersales.create_article_search_index() IS
  'Create the trigram index that knowledge search uses (needs pg_trgm; idempotent); returns its name';
REVOKE ALL ON FUNCTION aftersales.create_article_search_index() FROM PUBLIC;

-- Published articles ranked by word similarity of the query to their
-- text (pg_trgm''s <% operator, which the trigram index serves), boosted
-- when they are of the model (+0.2), the product line (+0.1) or the
-- problem type (+0.1) asked for.
CREATE FUNCTION aftersales.search_articles(query text, n integer DEFAULT 10, model bigint DEFAULT NULL,
                                           product_line bigint DEFAULT NULL, problem_type bigint DEFAULT NULL)
    RETURNS TABLE (rank integer, article_id bigint, title text, score numeric, similarity numeric, version integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET pg_trgm.word_similarity_threshold = 0.3
AS $$
DECLARE
    s constant text := aftersales_internal.trgm_schema();
    q text := pg_catalog.lower(pg_catalog.btrim(query));
    line bigint := product_line;
BEGIN
    IF q IS NULL OR q = '' THEN
        RAISE EXCEPTION 'query must not be empty'
            USING ERRCODE = '22023', HINT = 'For example: SELECT * FROM aftersales.search_articles(''漏油'');';
    END IF;
    IF n IS NULL OR n < 1 OR n > 1000 THEN
        RAISE EXCEPTION 'invalid number of articles: %', COALESCE(n::text, 'NULL')
            USING ERRCODE = '22023', HINT = 'Ask for 1 to 1000, for example: SELECT * FROM aftersales.search_articles(''漏油'', 5);';
    END IF;
    IF line IS NULL AND model IS NOT NULL THEN
        SELECT m.product_line_id INTO line FROM aftersales.product_models m
         WHERE m.tenant_id = aftersales.current_tenant() AND m.model_id = model;
    END IF;
    RETURN QUERY EXECUTE pg_catalog.format($q$
        SELECT (pg_catalog.row_number() OVER (ORDER BY x.score DESC, x.article_id))::integer, x.article_id, x.title,
               x.score, x.sim, x.version
          FROM (SELECT k.article_id, k.title, k.version,
                       pg_catalog.round(%1$I.word_similarity($1, k.search_text)::numeric, 4) AS sim,
                       pg_catalog.round((%1$I.word_similarity($1, k.search_text)
                        + CASE WHEN $3 IS NOT NULL AND k.model_id = $3 THEN 0.2 ELSE 0 END
                        + CASE WHEN $4 IS NOT NULL AND k.product_line_id = $4 THEN 0.1 ELSE 0 END
                        + CASE WHEN $5 IS NOT NULL AND k.problem_type_id = $5 THEN 0.1 ELSE 0 END)::numeric, 4) AS score
                  FROM aftersales.kb_articles k
                 WHERE k.tenant_id = aftersales.current_tenant() AND k.state = 'published'
                   AND k.search_text OPERATOR(%1$I.%%>) $1
                   AND ($4 IS NULL OR k.product_line_id = $4)
                   AND ($3 IS NULL OR k.model_id IS NULL OR k.model_id = $3)) x
         ORDER BY x.score DESC, x.article_id
         LIMIT $2$q$, s)
    USING q, n, model, line, problem_type;
END
$$;
COMMENT ON FUNCTION aftersales.search_articles(text, integer, bigint, bigint, bigint) IS
  'Published articles matching a query in Chinese or English (trigram word similarity, pg_trgm), ranked; narrowed to a model (and articles for its whole line) or a product line, boosted for the model, line and problem type';

CREATE FUNCTION aftersales.suggest_articles(ticket bigint, n integer DEFAULT 5)
    RETURNS TABLE (rank integer, article_id bigint, title text, score numeric, similarity numeric, version integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t aftersales.tickets := aftersales_internal.require_ticket(ticket, aftersales.current_tenant(), 'suggest_articles');
BEGIN
    RETURN QUERY SELECT * FROM aftersales.search_articles(t.description, n, t.model_id, NULL, t.problem_type_id);
END
$$;
COMMENT ON FUNCTION aftersales.suggest_articles(bigint, integer) IS
  'Articles proposed for a ticket at entry: published articles of its model (or its whole product line) matching its description, ranked';

-- ---------------------------------------------------------------------------
-- Resolutions: how a ticket was solved, and with which article

CREATE TABLE aftersales.ticket_resolutions (
    tenant_id         bigint      NOT NULL,
    ticket_id         bigint      NOT NULL,
    mode              text        NOT NULL CHECK (mode IN ('remote_phone', 'remote_video', 'on_site', 'parts_only')),
    remote_attempted  boolean     NOT NULL,
    article_id        bigint,
    article_version   integer,
    article_helped    boolean,
    resolved_at       timestamptz NOT NULL,
    recorded_by       text        NOT NULL,
    PRIMARY KEY (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, article_id) REFERENCES aftersales.kb_articles (tenant_id, article_id),
    CHECK ((article_id IS NULL) = (article_helped IS NULL) AND (article_id IS NULL) = (article_version IS NULL)),
    CHECK (mode NOT IN ('remote_phone', 'remote_video') OR remote_attempted)
);
CREATE INDEX ticket_resolutions_article_idx ON aftersales.ticket_resolutions (tenant_id, article_id) WHERE article_id IS NOT NULL;
COMMENT ON TABLE aftersales.ticket_resolutions IS
  'How each resolved ticket was solved (its latest resolution): remote by phone or video, on site or by parts only; whether a remote diagnosis was tried; the article used and whether it helped';
COMMENT ON COLUMN aftersales.ticket_resolutions.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.ticket_resolutions.ticket_id IS 'Ticket';
COMMENT ON COLUMN aftersales.ticket_resolutions.mode IS 'remote_phone, remote_video, on_site or parts_only';
COMMENT ON COLUMN aftersales.ticket_resolutions.remote_attempted IS 'A remote diagnosis was tried (always for remote modes; for on_site, the visit came after it failed)';
COMMENT ON COLUMN aftersales.ticket_resolutions.article_id IS 'Knowledge article used, if any';
COMMENT ON COLUMN aftersales.ticket_resolutions.article_version IS 'Its published version at the time';
COMMENT ON COLUMN aftersales.ticket_resolutions.article_helped IS 'Whether the article solved the problem';
COMMENT ON COLUMN aftersales.ticket_resolutions.resolved_at IS 'When the ticket was resolved';
COMMENT ON COLUMN aftersales.ticket_resolutions.recorded_by IS 'Who recorded it';
SELECT pg_catalog.pg_extension_config_dump('aftersales.ticket_resolutions', '');

-- Resolve a ticket and record how: everything is checked before the
-- ticket moves, so a bad argument writes nothing.
CREATE FUNCTION aftersales.resolve_ticket_with(ticket bigint, mode text, resolution text DEFAULT NULL,
                                               article bigint DEFAULT NULL, article_helped boolean DEFAULT NULL,
                                               remote_attempted boolean DEFAULT NULL,
                                               at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    a aftersales.kb_articles;
    s aftersales.ticket_status;
    remote boolean := mode IN ('remote_phone', 'remote_video');
BEGIN
    IF mode IS NULL OR mode NOT IN ('remote_phone', 'remote_video', 'on_site', 'parts_only') THEN
        RAISE EXCEPTION 'invalid resolution mode: "%"', COALESCE(pg_catalog.left(mode, 64), 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'Modes: remote_phone, remote_video, on_site, parts_only; for example: SELECT aftersales.resolve_ticket_with(42, ''remote_phone'', ''reset the controller'');';
    END IF;
    IF remote AND remote_attempted IS FALSE THEN
        RAISE EXCEPTION 'a % resolution is a remote attempt', mode
            USING ERRCODE = '22023', HINT = 'Leave remote_attempted out for remote modes.';
    END IF;
    IF article IS NOT NULL THEN
        SELECT * INTO a FROM aftersales.kb_articles k WHERE k.tenant_id = tenant AND k.article_id = article;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'article % does not exist for tenant %', article, tenant
                USING ERRCODE = 'P0002', HINT = 'Find published articles with: SELECT * FROM aftersales.suggest_articles(42);';
        END IF;
        IF a.state <> 'published' THEN
            RAISE EXCEPTION 'article % is %, not published', article, a.state
                USING ERRCODE = '55000',
                      DETAIL = 'Only published articles are given to engineers.',
                      HINT = 'Use a published article: SELECT * FROM aftersales.suggest_articles(42);';
        END IF;
        IF article_helped IS NULL THEN
            RAISE EXCEPTION 'article_helped must not be null when an article is named'
                USING ERRCODE = '22004',
                      HINT = 'Say whether it solved the problem: SELECT aftersales.resolve_ticket_with(42, ''on_site'', article => 7, article_helped => true);';
        END IF;
    ELSIF article_helped IS NOT NULL THEN
        RAISE EXCEPTION 'article_helped needs an article'
            USING ERRCODE = '22023', HINT = 'Name the article used, or leave article_helped out.';
    END IF;
    s := aftersales.resolve_ticket(ticket, resolution, aftersales.actor(), at);
    INSERT INTO aftersales.ticket_resolutions AS r (tenant_id, ticket_id, mode, remote_attempted, article_id, article_version,
                                                    article_helped, resolved_at, recorded_by)
    VALUES (tenant, ticket, mode, COALESCE(remote_attempted, remote), article, a.version, article_helped, at, aftersales.actor())
    ON CONFLICT (tenant_id, ticket_id) DO UPDATE
       SET mode = excluded.mode, remote_attempted = excluded.remote_attempted, article_id = excluded.article_id,
           article_version = excluded.article_version, article_helped = excluded.article_helped,
           resolved_at = excluded.resolved_at, recorded_by = excluded.recorded_by;
    RETURN s;
END
$$;
COMMENT ON FUNCTION aftersales.resolve_ticket_with(bigint, text, text, bigint, boolean, boolean, timestamptz) IS
  'Resolve a ticket (as resolve_ticket) and record how: mode (remote_phone, remote_video, on_site, parts_only), whether a remote diagnosis was tried, the published article used and whether it helped';

-- ---------------------------------------------------------------------------
-- Views

CREATE VIEW aftersales.kb_article_stats WITH (security_invoker = true) AS
SELECT k.tenant_id, k.article_id, k.title, k.state, k.version, k.product_line_id, l.name AS product_line_name,
       k.model_id, (SELECT e.actor FROM aftersales.kb_article_events e
                     WHERE e.tenant_id = k.tenant_id AND e.article_id = k.article_id ORDER BY e.seq LIMIT 1) AS author,
       (SELECT v.published_by FROM aftersales.kb_article_versions v
         WHERE v.tenant_id = k.tenant_id AND v.article_id = k.article_id ORDER BY v.version DESC LIMIT 1) AS reviewer,
       (SELECT pg_catalog.min(v.published_at) FROM aftersales.kb_article_versions v
         WHERE v.tenant_id = k.tenant_id AND v.article_id = k.article_id) AS first_published_at,
       COALESCE(u.uses, 0) AS uses, COALESCE(u.helped, 0) AS helped,
       (CASE WHEN u.uses > 0 THEN u.helped::numeric / u.uses END)::numeric(6,4) AS success_rate
  FROM aftersales.kb_articles k
  JOIN aftersales.product_lines l ON l.tenant_id = k.tenant_id AND l.product_line_id = k.product_line_id
  LEFT JOIN (SELECT r.tenant_id, r.article_id, pg_catalog.count(*) AS uses,
                    pg_catalog.count(*) FILTER (WHERE r.article_helped) AS helped
               FROM aftersales.ticket_resolutions r WHERE r.article_id IS NOT NULL
              GROUP BY 1, 2) u ON u.tenant_id = k.tenant_id AND u.article_id = k.article_id
 WHERE k.tenant_id = aftersales.current_tenant();
COMMENT ON VIEW aftersales.kb_article_stats IS
  'Knowledge articles with their author, reviewer, use count and success rate (resolutions that used them and were helped)';
COMMENT ON COLUMN aftersales.kb_article_stats.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.kb_article_stats.article_id IS 'Article';
COMMENT ON COLUMN aftersales.kb_article_stats.title IS 'Title';
COMMENT ON COLUMN aftersales.kb_article_stats.state IS 'draft, review, published or retired';
COMMENT ON COLUMN aftersales.kb_article_stats.version IS 'Published version (0: never published)';
COMMENT ON COLUMN aftersales.kb_article_stats.product_line_id IS 'Product line';
COMMENT ON COLUMN aftersales.kb_article_stats.product_line_name IS 'Product line''s name';
COMMENT ON COLUMN aftersales.kb_article_stats.model_id IS 'Model, when specific to one';
COMMENT ON COLUMN aftersales.kb_article_stats.author IS 'Who created it';
COMMENT ON COLUMN aftersales.kb_article_stats.reviewer IS 'Who published its latest version';
COMMENT ON COLUMN aftersales.kb_article_stats.first_published_at IS 'When it was first published';
COMMENT ON COLUMN aftersales.kb_article_stats.uses IS 'Resolutions that used it';
COMMENT ON COLUMN aftersales.kb_article_stats.helped IS 'Resolutions it helped';
COMMENT ON COLUMN aftersales.kb_article_stats.success_rate IS 'helped / uses, 0 to 1';

-- Monthly by resolution: coverage (resolved with an article), article
-- success, remote share and remote diagnosis success (remote attempts that
-- ended the ticket without a visit).
CREATE VIEW aftersales.kb_remote_monthly WITH (security_invoker = true) AS
SELECT r.tenant_id,
       pg_catalog.date_trunc('month', pg_catalog.timezone(aftersales.reporting_zone(r.tenant_id), r.resolved_at))::date AS month,
       pg_catalog.count(*) AS resolutions,
       pg_catalog.count(r.article_id) AS with_article,
       (pg_catalog.count(r.article_id)::numeric / pg_catalog.count(*))::numeric(6,4) AS article_coverage,
       (CASE WHEN pg_catalog.count(r.article_id) > 0
             THEN pg_catalog.count(*) FILTER (WHERE r.article_helped)::numeric / pg_catalog.count(r.article_id) END)::numeric(6,4)
           AS article_success_rate,
       pg_catalog.count(*) FILTER (WHERE r.mode IN ('remote_phone', 'remote_video')) AS remote,
       (pg_catalog.count(*) FILTER (WHERE r.mode IN ('remote_phone', 'remote_video'))::numeric / pg_catalog.count(*))::numeric(6,4)
           AS remote_share,
       pg_catalog.count(*) FILTER (WHERE r.remote_attempted) AS remote_attempts,
       pg_catalog.count(*) FILTER (WHERE r.remote_attempted AND t.arrived_at IS NULL AND r.mode <> 'on_site') AS remote_successes,
       (CASE WHEN pg_catalog.count(*) FILTER (WHERE r.remote_attempted) > 0
             THEN pg_catalog.count(*) FILTER (WHERE r.remote_attempted AND t.arrived_at IS NULL AND r.mode <> 'on_site')::numeric
                  / pg_catalog.count(*) FILTER (WHERE r.remote_attempted) END)::numeric(6,4) AS remote_success_rate
  FROM aftersales.ticket_resolutions r
  JOIN aftersales.tickets t ON t.tenant_id = r.tenant_id AND t.ticket_id = r.ticket_id
 WHERE r.tenant_id = aftersales.current_tenant()
 GROUP BY r.tenant_id, 2;
COMMENT ON VIEW aftersales.kb_remote_monthly IS
  'Knowledge and remote service per month of resolution: coverage (resolved with an article, FAQ coverage target 90%), article success rate, remote-service share, remote diagnosis success rate (target 90%)';
COMMENT ON COLUMN aftersales.kb_remote_monthly.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.kb_remote_monthly.month IS 'First day of the month of the resolution, in the reporting zone';
COMMENT ON COLUMN aftersales.kb_remote_monthly.resolutions IS 'Resolutions recorded (resolve_ticket_with), latest per ticket';
COMMENT ON COLUMN aftersales.kb_remote_monthly.with_article IS 'Resolutions that used an article';
COMMENT ON COLUMN aftersales.kb_remote_monthly.article_coverage IS 'with_article / resolutions, 0 to 1';
COMMENT ON COLUMN aftersales.kb_remote_monthly.article_success_rate IS 'Resolutions an article helped / with_article';
COMMENT ON COLUMN aftersales.kb_remote_monthly.remote IS 'Resolutions by phone or video';
COMMENT ON COLUMN aftersales.kb_remote_monthly.remote_share IS 'remote / resolutions (远程服务占比)';
COMMENT ON COLUMN aftersales.kb_remote_monthly.remote_attempts IS 'Resolutions after a remote diagnosis was tried';
COMMENT ON COLUMN aftersales.kb_remote_monthly.remote_successes IS 'Remote attempts that ended the ticket without a visit';
COMMENT ON COLUMN aftersales.kb_remote_monthly.remote_success_rate IS 'remote_successes / remote_attempts (远程诊断成功率)';

INSERT INTO aftersales.kpi_catalogue
       (tenant_id, code, category, name_en, name_zh, definition, formula, unit, target, target_direction, source, sort_order, customised)
SELECT 1, x.code, 'service', x.name_en, x.name_zh, x.definition, x.formula, 'ratio', x.target, '>=', 'kb_remote_monthly', x.ord, false
  FROM (VALUES
 ('article_coverage', 'Knowledge coverage', '知识库覆盖率',
  'Resolutions that used a published knowledge article over all resolutions recorded with resolve_ticket_with. 知识库覆盖率: 使用知识库文章解决的工单占比。',
  'with_article / resolutions', 0.9, 420),
 ('article_success_rate', 'Article success rate', '知识库文章解决率',
  'Resolutions an article helped over resolutions that used one. 文章解决率。', 'helped / with_article', 0.8, 421),
 ('remote_share', 'Remote-service share', '远程服务占比',
  'Resolutions by phone or video over all resolutions recorded. 远程服务占比: 电话或视频解决的工单占比。', 'remote / resolutions', 0.3, 422),
 ('remote_success_rate', 'Remote diagnosis success rate', '远程诊断成功率',
  'Remote diagnosis attempts that ended the ticket without a site visit over all attempts. 远程诊断成功率: 远程诊断后无需上门即解决的比例。',
  'remote_successes / remote_attempts', 0.9, 423)
) AS x (code, name_en, name_zh, definition, formula, target, ord);

-- ---------------------------------------------------------------------------
-- Rights

GRANT SELECT ON aftersales.kb_articles, aftersales.kb_article_events, aftersales.kb_article_versions,
    aftersales.ticket_resolutions, aftersales.kb_article_stats, aftersales.kb_remote_monthly
    TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer, aftersales_analyst, aftersales_auditor;
GRANT INSERT, UPDATE ON aftersales.kb_articles TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer;
GRANT INSERT ON aftersales.kb_article_versions TO aftersales_admin, aftersales_manager;
GRANT INSERT, UPDATE ON aftersales.ticket_resolutions TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer;

-- The module's internal helpers run with the caller's rights (the API is
-- invoker's rights): executable by the kinds, never by PUBLIC.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = 'aftersales_internal'::regnamespace
                AND p.proname IN ('distance_score', 'dispatch_config', 'engineer_calendar', 'attendance', 'duty_intervals',
                                  'range_hours', 'engineer_zones', 'split_days', 'require_days', 'dispatch_alert', 'engineer_load',
                                  'seniority_rank', 'org_ancestors', 'rank_engineers', 'require_ticket', 'auto_assign',
                                  'dispatch_at_entry', 'dispatch_shift_check', 'holding_intervals', 'board_days', 'engineer_months',
                                  'require_article', 'article_event', 'trgm_schema')
              ORDER BY 1 LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO aftersales_admin, aftersales_manager, aftersales_agent, '
                                  'aftersales_engineer, aftersales_analyst, aftersales_auditor, aftersales_sweep', f);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Articles = replay of their log

-- The engine's replay over the article log, per tenant (each tenant's
-- call a Citus router sends to one worker): every article's log is a chain
-- of kb_article transitions, and its state, last event and every column
-- are what the logged changes rebuild.  No rows: every article is what its
-- log says.
CREATE FUNCTION aftersales.check_articles(tenant bigint DEFAULT NULL)
    RETURNS TABLE (tenant_id bigint, article_id bigint, problem text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.tenant_id, c.id, c.problem
      FROM aftersales.tenants t,
           aftersales_internal.state_machine_check('kb_article', 'aftersales.kb_articles', 'aftersales.kb_article_events',
                                                   'article_id', t.tenant_id) c
     WHERE check_articles.tenant IS NULL OR t.tenant_id = check_articles.tenant
     ORDER BY 1, 2, 3
$$;
COMMENT ON FUNCTION aftersales.check_articles(bigint) IS
  'Proves every knowledge article is the replay of its log (a chain of the kb_article transitions; state, last event and every column as the logged changes rebuild them), for one tenant or all; returns one row per difference, none when all agree';
REVOKE ALL ON FUNCTION aftersales.check_articles(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aftersales.check_articles(bigint) TO aftersales_admin, aftersales_auditor;
-- check_articles runs with the caller's rights: its callers run the replay.
GRANT EXECUTE ON FUNCTION aftersales_internal.state_machine_check(text, regclass, regclass, text, bigint)
    TO aftersales_admin, aftersales_auditor;
