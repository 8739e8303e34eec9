-- aftersales install script, part 95 (last): row-level security on every
-- table with a tenant_id, whichever part of the script created it.
--
-- Policies, applied by aftersales_internal.apply_row_security() to each
-- table of schema aftersales with a tenant_id column:
--   tenant_isolation   tenant_id is the caller's tenant (reading and writing);
--   org_scope          (tables with an org_id) the row's organisation is in the
--                      caller's scope, or the caller sees the whole tenant;
--   ticket_scope       (tables with a ticket_id and no org_id: events, clocks,
--                      watches, alerts) the ticket is one the caller sees.
--   shared_defaults    (kpi_settings, kpi_catalogue, escalation_rules) tenant 1's
--                      rows are the defaults every tenant falls back to: all
--                      read them, only tenant 1 writes them.
-- Both functions called are STABLE C, written as (SELECT ...) so that they
-- are initplans evaluated once per statement; ticket_scope's IN is
-- uncorrelated, so it is one hashed subplan per statement, not a probe of
-- tickets per row; and compared with int8 = and
-- = ANY, which are leakproof: no row reaches a user's function before the
-- policies have filtered it.  ENABLE and FORCE: the owner is a superuser
-- and bypasses them anyway; FORCE keeps a non-superuser owner (after ALTER
-- ... OWNER) from doing so.  A module that adds tables calls the function
-- again at the end of its script.
CREATE FUNCTION aftersales_internal.apply_row_security() RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    n integer := 0;
BEGIN
    FOR t IN SELECT c.oid::regclass AS rel,
                    EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'org_id'
                                                                    AND NOT a.attisdropped) AS has_org,
                    EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'ticket_id'
                                                                    AND NOT a.attisdropped) AS has_ticket
               FROM pg_catalog.pg_class c
              WHERE c.relnamespace = 'aftersales'::regnamespace AND c.relkind IN ('r', 'p')
                AND EXISTS (SELECT FROM pg_catalog.pg_attribute a
                             WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
              ORDER BY c.relname LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t.rel);
        EXECUTE pg_catalog.format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t.rel);
        EXECUTE pg_catalog.format('DROP POLICY IF EXISTS tenant_isolation ON %s', t.rel);
        EXECUTE pg_catalog.format('DROP POLICY IF EXISTS org_scope ON %s', t.rel);
        EXECUTE pg_catalog.format('DROP POLICY IF EXISTS ticket_scope ON %s', t.rel);
        EXECUTE pg_catalog.format('DROP POLICY IF EXISTS shared_defaults ON %s', t.rel);
        IF t.rel IN ('aftersales.kpi_settings'::regclass, 'aftersales.kpi_catalogue'::regclass,
                     'aftersales.escalation_rules'::regclass) THEN
            EXECUTE pg_catalog.format(
                'CREATE POLICY shared_defaults ON %s FOR SELECT USING (tenant_id OPERATOR(pg_catalog.=) 1)', t.rel);
        END IF;
        EXECUTE pg_catalog.format(
            'CREATE POLICY tenant_isolation ON %s'
            ' USING (tenant_id OPERATOR(pg_catalog.=) (SELECT aftersales.current_tenant()))'
            ' WITH CHECK (tenant_id OPERATOR(pg_catalog.=) (SELECT aftersales.current_tenant()))', t.rel);
        IF t.has_org THEN
            EXECUTE pg_catalog.format(
                'CREATE POLICY org_scope ON %s AS RESTRICTIVE'
                ' USING ((SELECT aftersales.current_org_scope()) IS NULL'
                '        OR org_id OPERATOR(pg_catalog.=) ANY ((SELECT aftersales.current_org_scope())::bigint[]))'
                ' WITH CHECK ((SELECT aftersales.current_org_scope()) IS NULL'
                '        OR org_id OPERATOR(pg_catalog.=) ANY ((SELECT aftersales.current_org_scope())::bigint[]))', t.rel);
        ELSIF t.has_ticket THEN
            EXECUTE pg_catalog.format(
                'CREATE POLICY ticket_scope ON %s AS RESTRICTIVE'
                ' USING ((SELECT aftersales.current_org_scope()) IS NULL'
                '        OR (tenant_id, ticket_id) IN (SELECT t.tenant_id, t.ticket_id FROM aftersales.tickets t))', t.rel);
        END IF;
        n := n + 1;
    END LOOP;
    -- Views read with the caller's rights, so the policies above apply
    -- through them (a view defined without it reads as its owner).
    FOR t IN SELECT c.oid::regclass AS rel FROM pg_catalog.pg_class c
              WHERE c.relnamespace = 'aftersales'::regnamespace AND c.relkind = 'v' LOOP
        EXECUTE pg_catalog.format('ALTER VIEW %s SET (security_invoker = true)', t.rel);
    END LOOP;
    RETURN n;
END
$$;
REVOKE ALL ON FUNCTION aftersales_internal.apply_row_security() FROM PUBLIC;
COMMENT ON FUNCTION aftersales_internal.apply_row_security() IS
  'Enables and forces row-level security, with the tenant and scope policies, on every table of schema aftersales with a tenant_id, and makes every view security_invoker; returns how many tables';

SELECT aftersales_internal.apply_row_security();
