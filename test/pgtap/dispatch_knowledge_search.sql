-- dispatch_knowledge_search.sql: search quality of the knowledge base.  On
-- the generated knowledge base (an article per product line and fault
-- type, Chinese text) plus a few English articles, a fixed set of Chinese
-- and English queries finds the right article in the top 3; unpublished
-- articles are never found; suggestions for a ticket stay within its
-- product line.  Needs pg_trgm (created here when missing).
--
-- Run: pg_prove -d <db with pgtap and aftersales> test/pgtap/dispatch_knowledge_search.sql
-- Everything is rolled back.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(12);
SET LOCAL client_min_messages = warning;
SET LOCAL TimeZone = 'UTC';
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TEMP TABLE run AS SELECT r.tenant_id FROM aftersales.generate_sample_data('kb search', seed => 3, tickets => 100) r;
SELECT set_config('aftersales.tenant_id', (SELECT tenant_id::text FROM run), true);
SELECT set_config('aftersales.now', '2027-01-01 00:00+08', true);
-- English articles for the heat pumps
CREATE TEMP TABLE en AS
SELECT x.k, aftersales.create_article(l.product_line_id, x.title, x.symptom, x.solution, x.cause, language => 'en') AS article_id
  FROM aftersales.product_lines l,
       (VALUES (1, 'Heat pump trips the breaker', 'The circuit breaker trips a few seconds after start', 'Measure the insulation; replace the compressor contactor', 'Burnt contactor'),
               (2, 'Defrost does not end', 'Ice builds up on the outdoor coil and the unit stays in defrost', 'Check the coil temperature sensor; clean the coil', 'Faulty coil sensor'),
               (3, 'Water pump noise', 'Loud humming from the circulation pump, low water flow', 'Bleed the air from the water circuit; check the pump bearing', 'Air in the water circuit'))
       AS x (k, title, symptom, solution, cause)
 WHERE l.tenant_id = (SELECT tenant_id FROM run) AND l.code = 'HP';
SELECT count(aftersales.submit_article(article_id)) FROM en;
SELECT count(aftersales.publish_article(article_id)) FROM en;

CREATE FUNCTION pg_temp.top3(q text, model_code text DEFAULT NULL) RETURNS text[] LANGUAGE sql AS $$
    SELECT array_agg(s.title ORDER BY s.rank)
      FROM aftersales.search_articles(q, 3,
               (SELECT m.model_id FROM aftersales.product_models m WHERE m.tenant_id = aftersales.current_tenant() AND m.code = model_code)) s
$$;
CREATE FUNCTION pg_temp.in_top3(q text, title_part text, model_code text DEFAULT NULL) RETURNS boolean LANGUAGE sql AS $$
    SELECT EXISTS (SELECT FROM unnest(pg_temp.top3(q, model_code)) t WHERE strpos(t, title_part) > 0)
$$;

SELECT ok(pg_temp.in_top3('金属撞击声 振动', '运行异响或振动大'), '"金属撞击声 振动" finds the noise article');
SELECT ok(pg_temp.in_top3('出风温度与环境温度接近', '不制冷或不制热'), '"出风温度与环境温度接近" finds the no-cooling article');
SELECT ok(pg_temp.in_top3('压力逐日下降 漏点', '漏水或漏氟'), '"压力逐日下降 漏点" finds the leak article');
SELECT ok(pg_temp.in_top3('面板报通信故障', '控制板故障'), '"面板报通信故障" finds the control-board article');
SELECT ok(pg_temp.in_top3('传感器阻值', '传感器报警'), '"传感器阻值" finds the sensor article');
SELECT ok(pg_temp.in_top3('空气开关跳闸', '电气故障'), '"空气开关跳闸" finds the electrical article');
SELECT ok(pg_temp.in_top3('breaker trips', 'trips the breaker'), '"breaker trips" finds the English breaker article');
SELECT ok(pg_temp.in_top3('ice on the outdoor coil', 'Defrost'), '"ice on the outdoor coil" finds the defrost article');
SELECT ok(pg_temp.in_top3('pump humming', 'Water pump noise'), '"pump humming" finds the pump article');
SELECT is((SELECT count(*) FROM aftersales.search_articles('不制冷 异响 漏水 无法启动', 100,
                                 (SELECT m.model_id FROM aftersales.product_models m WHERE m.tenant_id = aftersales.current_tenant() AND m.code = 'CHL-50')) s
            WHERE strpos(s.title, '冷水机组') = 0), 0::bigint,
          'narrowed to a chiller model, only chiller articles are found');

SELECT is((SELECT count(*) FROM aftersales.search_articles('压缩机', 1000) s
             JOIN aftersales.kb_articles k ON k.tenant_id = aftersales.current_tenant() AND k.article_id = s.article_id
            WHERE k.state <> 'published'), 0::bigint, 'only published articles are found');
SELECT is((SELECT count(*) FROM aftersales.tickets t CROSS JOIN LATERAL aftersales.suggest_articles(t.ticket_id, 5) s
             JOIN aftersales.kb_articles k ON k.tenant_id = t.tenant_id AND k.article_id = s.article_id
             JOIN aftersales.product_models m ON m.tenant_id = t.tenant_id AND m.model_id = t.model_id
            WHERE t.tenant_id = aftersales.current_tenant() AND k.product_line_id <> m.product_line_id), 0::bigint,
          'suggestions for a ticket are articles of its product line');

SELECT * FROM finish();
ROLLBACK;
