-- api.sql: one ticket's life cycle through the aftersales API, one call
-- (one autocommitted transaction) per step: open, assign, arrive on site,
-- resolve, follow-up.  Run with PGOPTIONS='-c aftersales.tenant_id=9301'.
\set c random(:cmin, :cmin + 999)
\set p random(:pmin, :pmin + 49)
\set m random(:mmin, :mmin + 99)
\set e random(:emin, :emin + 19)
SELECT aftersales.open_ticket(customer => :c, problem_type => :p, priority => 'B', description => 'pgbench life cycle', model => :m, field => true) AS id
\gset
SELECT aftersales.assign_ticket(:id, engineer => :e);
SELECT aftersales.arrive_on_site(:id);
SELECT aftersales.resolve_ticket(:id, resolution => 'fixed');
SELECT aftersales.follow_up(:id, satisfied => true, csat => 5, nps => 9);
