-- api_super.sql: the same transactions as api_pool.sql as a superuser (row
-- security bypassed, no user asserted): the baseline of the pool's cost.
\set c random(:cmin, :cmin + 999)
\set p random(:pmin, :pmin + 49)
\set m random(:mmin, :mmin + 99)
\set e random(:emin, :emin + 19)
BEGIN;
SELECT aftersales.open_ticket(customer => :c, problem_type => :p, priority => 'B', description => 'pgbench life cycle', model => :m, field => true) AS id
\gset
COMMIT;
BEGIN;
SELECT aftersales.assign_ticket(:id, engineer => :e);
COMMIT;
BEGIN;
SELECT aftersales.arrive_on_site(:id);
COMMIT;
BEGIN;
SELECT aftersales.resolve_ticket(:id, resolution => 'fixed');
COMMIT;
BEGIN;
SELECT aftersales.follow_up(:id, satisfied => true, csat => 5, nps => 9);
COMMIT;
