-- access_kpi.sql: the data of the KPI part of access_pgbench.sh: a sample
-- tenant of 20,000 tickets, a manager at HQ and one of the region with the
-- most tickets (logins bench_hq_manager and bench_region_manager).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SELECT NOT EXISTS (SELECT FROM aftersales.tenants WHERE name = 'bench access kpi') AS fresh \gset
\if :fresh
SELECT tenant_id FROM aftersales.generate_sample_data('bench access kpi', seed => 3, tickets => 20000);
\endif
SELECT set_config('aftersales.tenant_id', tenant_id::text, false) FROM aftersales.tenants WHERE name = 'bench access kpi';
SELECT current_user AS superuser \gset
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_region_manager') THEN
        CREATE ROLE bench_region_manager LOGIN IN ROLE aftersales_manager;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_hq_manager') THEN
        CREATE ROLE bench_hq_manager LOGIN IN ROLE aftersales_manager;
    END IF;
END
$$;
-- the region with the most tickets
INSERT INTO aftersales.members (name, kind, org_id)
SELECT 'bench_region_manager', 'manager'::aftersales.member_kind, (
    SELECT r.org_id FROM aftersales.organisations r JOIN aftersales.organisations o
        ON o.tenant_id = r.tenant_id AND o.region = r.region
      JOIN aftersales.tickets t ON t.tenant_id = o.tenant_id AND t.org_id = o.org_id
     WHERE r.tenant_id = aftersales.current_tenant() AND r.level = 'region'
     GROUP BY r.org_id ORDER BY count(*) DESC LIMIT 1)
UNION ALL
SELECT 'bench_hq_manager', 'manager', o.org_id FROM aftersales.organisations o
 WHERE o.tenant_id = aftersales.current_tenant() AND o.level = 'hq'
ON CONFLICT DO NOTHING;
ANALYZE;

