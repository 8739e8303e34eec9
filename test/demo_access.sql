-- Demo members: every kind at HQ, in a region (华东) and at an outlet of the
-- demo tenant, as users an application pool asserts; and logins for the
-- analyst and the region's service manager (passwords set by
-- test/bin/demo-access).  Idempotent.
\set ON_ERROR_STOP 1
SELECT set_config('aftersales.tenant_id', (SELECT tenant_id::text FROM aftersales.tenants WHERE name = 'demo'), false) IS NOT NULL AS demo_tenant_found;
CREATE TEMP TABLE demo_scope AS
SELECT s.scope, s.org_id FROM (
    SELECT 'hq' AS scope, min(o.org_id) AS org_id FROM aftersales.organisations o
     WHERE o.tenant_id = aftersales.current_tenant() AND o.level = 'hq'
    UNION ALL
    SELECT 'region', min(o.org_id) FROM aftersales.organisations o
     WHERE o.tenant_id = aftersales.current_tenant() AND o.level = 'region' AND o.region = '华东'
    UNION ALL
    SELECT 'outlet', (SELECT t.org_id FROM aftersales.tickets t JOIN aftersales.organisations o USING (tenant_id, org_id)
                       WHERE t.tenant_id = aftersales.current_tenant() AND o.region = '华东' AND o.level = 'outlet'
                       GROUP BY t.org_id ORDER BY count(*) DESC, t.org_id LIMIT 1)) s;
INSERT INTO aftersales.members (name, via, kind, org_id, engineer_id)
SELECT k || '.' || d.scope, 'app', k::aftersales.member_kind, d.org_id,
       -- the engineer members act for an engineer row within their scope
       CASE WHEN k = 'engineer' THEN
           (SELECT min(e.engineer_id) FROM aftersales.engineers e JOIN aftersales.organisations o USING (tenant_id, org_id)
             WHERE e.tenant_id = aftersales.current_tenant()
               AND (d.scope = 'hq' OR (d.scope = 'region' AND o.region = '华东') OR e.org_id = d.org_id)) END
  FROM demo_scope d, unnest(ARRAY['admin', 'manager', 'agent', 'engineer', 'analyst', 'auditor']) k
ON CONFLICT DO NOTHING;
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'demo_analyst') THEN
        CREATE ROLE demo_analyst LOGIN IN ROLE aftersales_analyst;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'demo_region_manager') THEN
        CREATE ROLE demo_region_manager LOGIN IN ROLE aftersales_manager;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'demo_app') THEN
        CREATE ROLE demo_app LOGIN IN ROLE aftersales_app;
    END IF;
END
$$;
INSERT INTO aftersales.members (name, kind, org_id)
SELECT 'demo_analyst', 'analyst'::aftersales.member_kind, org_id FROM demo_scope WHERE scope = 'hq'
UNION ALL
SELECT 'demo_region_manager', 'manager', org_id FROM demo_scope WHERE scope = 'region'
ON CONFLICT DO NOTHING;
SELECT kind, count(*) AS members FROM aftersales.members WHERE tenant_id = aftersales.current_tenant() GROUP BY kind ORDER BY kind;
