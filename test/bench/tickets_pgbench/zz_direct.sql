\set c random(:cmin, :cmin + 999)
\set p random(:pmin, :pmin + 49)
\set m random(:mmin, :mmin + 99)
\set e random(:emin, :emin + 19)
SELECT aftersales.open_ticket(customer => :c, problem_type => :p, priority => 'B', description => 'pgbench life cycle', model => :m, field => true) AS id
\gset
SELECT aftersales._ticket_event(:id, 'assign', 'pgbench', now(), assignee => :e);
SELECT aftersales._ticket_event(:id, 'arrive', 'pgbench', now());
SELECT aftersales._ticket_event(:id, 'resolve', 'pgbench', now(), reason => 'fixed');
SELECT aftersales._ticket_event(:id, 'follow_up', 'pgbench', now(), satisfied => true, csat => 5, nps => 9);
