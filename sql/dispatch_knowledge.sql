-- The knowledge base: articles through draft, review, published, retired
-- (machine kb_article), versions,
-- search in Chinese and English (pg_trgm), suggestions at entry, drafts
-- from resolved tickets, resolutions with their mode and article, and the
-- errors of bad input.
\i sql/fixtures/fresh_extension.sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
RESET client_min_messages;
SET aftersales.now = '2026-03-02 09:00:00+08';

INSERT INTO aftersales.product_lines (code, name) VALUES ('CMP', '商用压缩机'), ('HP', 'Heat pumps');
INSERT INTO aftersales.product_models (product_line_id, code, name) VALUES (1, 'CMP-110', '涡旋压缩机 110'), (2, 'HP-10', 'Heat pump 10P');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOISE', '异响振动'), ('NOHEAT', 'No heating');
INSERT INTO aftersales.customers (name) VALUES ('Acme');
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.engineers (org_id, name) VALUES (1, 'Li');

-- the machine, on the state machine engine, and who may fire its events
SELECT from_state, event, to_state, needs_reason FROM aftersales.state_transitions
 WHERE machine = 'kb_article' ORDER BY 1, 2;
SELECT event, string_agg(kind, ', ' ORDER BY kind) AS kinds, bool_or(own_tickets_only) AS own_only
  FROM aftersales.event_rights WHERE event LIKE 'kb\_article.%' GROUP BY event ORDER BY 1;

-- write, review, publish
SELECT aftersales.create_article(1, '压缩机运行异响', '压缩机运行时有金属撞击声，机组振动明显', '1. 紧固地脚螺栓；2. 更换减震垫',
                                 cause => '减震垫老化', problem_type => 1,
                                 attachments => '{https://kb.example.com/cmp/noise.pdf}');
SELECT aftersales.create_article(2, 'Heat pump does not heat', 'The unit runs but the water stays cold; low suction pressure',
                                 '1. Check the refrigerant charge; 2. Clean the evaporator fins; 3. Replace the expansion valve',
                                 cause => 'Refrigerant leak or a blocked expansion valve', model => 2, problem_type => 2, language => 'en');
SELECT aftersales.create_article(1, '压缩机无法启动', '上电后压缩机不启动，面板无显示', '1. 测量三相电压；2. 更换保险丝');
SELECT article_id, title, state, version, event, event_seq FROM aftersales.kb_articles ORDER BY article_id;
SELECT aftersales.edit_article(1, '{"cause": "减震垫老化或地脚螺栓松动"}');
SELECT aftersales.submit_article(1, at => '2026-03-02 10:00+08');
SELECT aftersales.publish_article(1, at => '2026-03-02 11:00+08');
SELECT aftersales.submit_article(2, at => '2026-03-02 10:00+08');
SELECT aftersales.reject_article(2, 'say which pressure is low', at => '2026-03-02 10:30+08');
SELECT aftersales.edit_article(2, '{"symptom": "The unit runs but the water stays cold; suction pressure below 3 bar"}', at => '2026-03-02 10:40+08');
SELECT aftersales.submit_article(2, at => '2026-03-02 10:45+08');
SELECT aftersales.publish_article(2, at => '2026-03-02 11:00+08');
SELECT article_id, state, version, event, event_seq FROM aftersales.kb_articles ORDER BY article_id;
SELECT article_id, seq, event, from_state, to_state, reason, changes ? 'cause' AS cause_changed
  FROM aftersales.kb_article_events ORDER BY article_id, seq;
SELECT article_id, version, title, published_at FROM aftersales.kb_article_versions ORDER BY 1, 2;

-- the state machine refuses what the life cycle does not allow
SELECT aftersales.publish_article(3);
SELECT aftersales.reject_article(1, NULL);
SELECT aftersales.edit_article(1, '{"title": "new title"}');
SELECT aftersales.retire_article(1, NULL, at => '2026-03-02 12:00+08');
SELECT aftersales.retire_article(1, 'old', at => '2026-03-02 08:00+08');
-- bad input
SELECT aftersales.edit_article(3, '{"state": "published"}');
SELECT aftersales.edit_article(3, '[]');
SELECT aftersales.edit_article(99, '{"title": "x"}');
SELECT aftersales.create_article(NULL, 't', 's', 'x');
\set VERBOSITY terse
SELECT aftersales.create_article(1, 't', 's', 'x', attachments => '{ftp://example.com/a.pdf}');
SELECT aftersales.create_article(1, '', 's', 'x');
\set VERBOSITY default

-- a new version: revise, edit, review, publish
SELECT aftersales.revise_article(1, at => '2026-03-03 09:00+08');
SELECT aftersales.edit_article(1, '{"solution": "1. 紧固地脚螺栓；2. 更换减震垫；3. 检查风扇叶片动平衡"}', at => '2026-03-03 09:10+08');
SELECT aftersales.submit_article(1, at => '2026-03-03 09:20+08');
SELECT aftersales.publish_article(1, at => '2026-03-03 09:30+08');
SELECT article_id, version, solution FROM aftersales.kb_article_versions WHERE article_id = 1 ORDER BY version;

-- search, in Chinese and English
SELECT rank, article_id, title, score FROM aftersales.search_articles('异响');
SELECT rank, article_id, title, score FROM aftersales.search_articles('water stays cold');
SELECT rank, article_id, title, score FROM aftersales.search_articles('无法启动');
SELECT rank, article_id, title, score FROM aftersales.search_articles('   ');
SELECT rank, article_id, title, score FROM aftersales.search_articles('异响', 0);

-- at entry: suggestions from the model and the description
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'C', description => '压缩机异响，振动很大', model => 1);
SELECT rank, article_id, title, score FROM aftersales.suggest_articles(1);

-- resolution with an article, by phone; an unpublished article is refused
SELECT aftersales.assign_ticket(1, 1, at => '2026-03-03 10:00+08');
SELECT aftersales.start_work(1, at => '2026-03-03 10:05+08');
SELECT aftersales.resolve_ticket_with(1, 'remote_phone', 'tightened the bolts by phone', article => 3, article_helped => true,
                                      at => '2026-03-03 10:30+08');
SELECT status FROM aftersales.tickets WHERE ticket_id = 1;
SELECT aftersales.resolve_ticket_with(1, 'by pigeon', 'x');
SELECT aftersales.resolve_ticket_with(1, 'remote_phone', 'x', article => 1);
SELECT aftersales.resolve_ticket_with(1, 'remote_phone', 'x', article_helped => true);
SELECT aftersales.resolve_ticket_with(1, 'remote_phone', 'x', remote_attempted => false);
SELECT aftersales.resolve_ticket_with(1, 'remote_phone', 'tightened the bolts by phone', article => 1, article_helped => true,
                                      at => '2026-03-03 10:30+08');
SELECT ticket_id, mode, remote_attempted, article_id, article_version, article_helped FROM aftersales.ticket_resolutions;
SELECT article_id, state, version, author, reviewer, uses, helped, success_rate FROM aftersales.kb_article_stats ORDER BY article_id;
SELECT month, resolutions, with_article, article_coverage, remote, remote_share, remote_attempts, remote_successes, remote_success_rate
  FROM aftersales.kb_remote_monthly;

-- a draft from the resolved ticket
SELECT aftersales.draft_article_from_ticket(1, at => '2026-03-03 11:00+08') IS NOT NULL AS drafted;
SELECT article_id, title, symptom, solution, source_ticket_id, state FROM aftersales.kb_articles WHERE source_ticket_id = 1;
SELECT aftersales.open_ticket(customer => 1, problem_type => 2, priority => 'C', description => 'cold', model => 2);
SELECT aftersales.draft_article_from_ticket(2);

-- retire
SELECT aftersales.retire_article(2, 'model discontinued', at => '2026-03-04 09:00+08');
SELECT rank, article_id FROM aftersales.search_articles('water stays cold');

-- a direct statement is judged like the API: it names its event and
-- raises event_seq by one, and the engine logs it
UPDATE aftersales.kb_articles SET title = 'no event' WHERE article_id = 3;
UPDATE aftersales.kb_articles SET title = 'no event', event_seq = event_seq + 1 WHERE article_id = 3;
UPDATE aftersales.kb_articles SET event = 'publish', event_at = '2026-03-04 10:00+08', event_seq = event_seq + 1 WHERE article_id = 3;
UPDATE aftersales.kb_articles SET state = 'published', event = 'edit', event_at = '2026-03-04 10:00+08', event_seq = event_seq + 1
 WHERE article_id = 3;
UPDATE aftersales.kb_articles SET title = '压缩机上电不启动', event = 'edit', event_at = '2026-03-04 10:00+08', event_seq = event_seq + 1
 WHERE article_id = 3;
SELECT seq, event, from_state, to_state, changes - 'search_text' AS changes, changes ? 'search_text' AS search_text_changed
  FROM aftersales.kb_article_events WHERE article_id = 3 ORDER BY seq;
UPDATE aftersales.kb_article_events SET reason = 'x' WHERE article_id = 3;

-- under access control: agents and engineers write and submit, managers
-- review; the actor is the authenticated login
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_kb_agent, regress_kb_manager;
RESET client_min_messages;
CREATE ROLE regress_kb_agent LOGIN IN ROLE aftersales_agent;
CREATE ROLE regress_kb_manager LOGIN IN ROLE aftersales_manager;
INSERT INTO aftersales.members (name, kind, org_id) VALUES ('regress_kb_agent', 'agent', 1), ('regress_kb_manager', 'manager', 1);
SET SESSION AUTHORIZATION regress_kb_agent;
SELECT aftersales.submit_article(3, at => '2026-03-04 11:00+08');
SELECT aftersales.publish_article(3, at => '2026-03-04 11:10+08');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_kb_manager;
SELECT aftersales.publish_article(3, at => '2026-03-04 11:10+08');
RESET SESSION AUTHORIZATION;
SELECT seq, event, actor FROM aftersales.kb_article_events WHERE article_id = 3 AND seq > 3 ORDER BY seq;
SELECT version, published_by FROM aftersales.kb_article_versions WHERE article_id = 3;

-- every article is the replay of its log; a change behind the engine's
-- back shows
SELECT * FROM aftersales.check_articles();
ALTER TABLE aftersales.kb_articles DISABLE TRIGGER state_guard, DISABLE TRIGGER state_log;
UPDATE aftersales.kb_articles SET cause = 'edited behind the log' WHERE article_id = 2;
UPDATE aftersales.kb_articles SET state = 'draft' WHERE article_id = 3;
ALTER TABLE aftersales.kb_articles ENABLE TRIGGER state_guard, ENABLE TRIGGER state_log;
SELECT tenant_id, article_id, left(problem, 80) AS problem FROM aftersales.check_articles(1);
SELECT * FROM aftersales.check_articles(2);
DROP OWNED BY regress_kb_agent, regress_kb_manager;
DROP ROLE regress_kb_agent, regress_kb_manager;
