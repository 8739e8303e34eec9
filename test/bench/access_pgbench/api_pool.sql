-- api_pool.sql: the life cycle of tickets_pgbench/api.sql as an application
-- pool under row-level security: each step its own transaction asserting
-- its user with set_config (SET takes no parameters under -M prepared)
-- (the agent opens, assigns and follows up; the assigned engineer
-- arrives and resolves), as behind PgBouncer in transaction pooling.
\set c random(:cmin, :cmin + 999)
\set p random(:pmin, :pmin + 49)
\set m random(:mmin, :mmin + 99)
\set e random(:emin, :emin + 19)
BEGIN;
SELECT set_config('aftersales.app_user', 'agent.bench', true), set_config('role', 'aftersales_agent', true);
SELECT aftersales.open_ticket(customer => :c, problem_type => :p, priority => 'B', description => 'pgbench life cycle', model => :m, field => true) AS id
\gset
COMMIT;
BEGIN;
SELECT set_config('aftersales.app_user', 'agent.bench', true), set_config('role', 'aftersales_agent', true);
SELECT aftersales.assign_ticket(:id, engineer => :e);
COMMIT;
BEGIN;
SELECT set_config('aftersales.app_user', 'eng.' || :e, true), set_config('role', 'aftersales_engineer', true);
SELECT aftersales.arrive_on_site(:id);
COMMIT;
BEGIN;
SELECT set_config('aftersales.app_user', 'eng.' || :e, true), set_config('role', 'aftersales_engineer', true);
SELECT aftersales.resolve_ticket(:id, resolution => 'fixed');
COMMIT;
BEGIN;
SELECT set_config('aftersales.app_user', 'agent.bench', true), set_config('role', 'aftersales_agent', true);
SELECT aftersales.follow_up(:id, satisfied => true, csat => 5, nps => 9);
COMMIT;
