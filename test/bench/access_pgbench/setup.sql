-- setup.sql (access_pgbench.sh): the pool role and its members on the
-- life-cycle benchmark's tenant 9301 (tickets_pgbench/setup.sql makes it):
-- an agent and one engineer member per engineer row, all at HQ.
\set ON_ERROR_STOP 1
\set QUIET 1
SET client_min_messages = warning;
SELECT set_config('aftersales.tenant_id', '9301', false) IS NOT NULL AS tenant_set \gset
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_pool') THEN
        CREATE ROLE bench_pool LOGIN IN ROLE aftersales_app;
    END IF;
END
$$;
INSERT INTO aftersales.members (name, via, kind, org_id)
SELECT 'agent.bench', 'app', 'agent', o.org_id FROM aftersales.organisations o WHERE o.tenant_id = 9301 AND o.level = 'hq'
ON CONFLICT DO NOTHING;
INSERT INTO aftersales.members (name, via, kind, org_id, engineer_id)
SELECT 'eng.' || e.engineer_id, 'app', 'engineer', e.org_id, e.engineer_id FROM aftersales.engineers e WHERE e.tenant_id = 9301
ON CONFLICT DO NOTHING;
