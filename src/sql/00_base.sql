-- aftersales install script, part 00: tenants and shared helpers.
-- The install script is src/sql/[0-9]*.sql concatenated in name order.
\echo Use "CREATE EXTENSION aftersales" to load this file. \quit
SET LOCAL search_path TO pg_catalog, pg_temp;

COMMENT ON SCHEMA aftersales IS
  'aftersales: after-sales service tickets, business-calendar SLAs, escalation and KPIs';

-- Everything that is not API lives in aftersales_internal, out of the
-- user's \df and out of PUBLIC's reach (timescaledb keeps
-- _timescaledb_functions the same way).
CREATE SCHEMA aftersales_internal;
REVOKE ALL ON SCHEMA aftersales_internal FROM PUBLIC;
COMMENT ON SCHEMA aftersales_internal IS
  'aftersales internals: triggers, checks and helpers; not API, no privileges for PUBLIC';

-- A tenant is a company.  Every table carries tenant_id in its keys, so that
-- row-level security and a Citus distribution can build on it.  Single
-- companies never think about it: tenant 1, "default", always exists.
CREATE TABLE aftersales.tenants (
    tenant_id   bigint      PRIMARY KEY CHECK (tenant_id > 0),
    name        text        NOT NULL UNIQUE CHECK (name <> ''),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE aftersales.tenants IS 'Companies served by this database; tenant 1 is the default for single-company installs';
COMMENT ON COLUMN aftersales.tenants.tenant_id IS 'Tenant key, part of every other table''s key';
COMMENT ON COLUMN aftersales.tenants.name IS 'Company name, unique';
COMMENT ON COLUMN aftersales.tenants.created_at IS 'When the tenant was created';
INSERT INTO aftersales.tenants (tenant_id, name) VALUES (1, 'default');
SELECT pg_catalog.pg_extension_config_dump('aftersales.tenants', 'WHERE tenant_id <> 1');

-- The tenant of the current transaction: the setting aftersales.tenant_id
-- (SET LOCAL by the application), else the default tenant 1.
-- In C (src/ticket.c): every API call, tenant-keyed DEFAULT and trigger
-- asks for it, and a PL/pgSQL function with a pinned search_path cost a
-- function start and two search_path changes each time.
CREATE FUNCTION aftersales.current_tenant() RETURNS bigint
    AS 'MODULE_PATHNAME', 'aftersales_current_tenant' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.current_tenant() IS
  'Tenant of the current transaction: setting aftersales.tenant_id, default 1';

-- The version of the loaded C library.  It serves the SQL objects of its own
-- version and of older releases (then each session gets one WARNING to run
-- ALTER EXTENSION aftersales UPDATE), and refuses newer ones with an error.
CREATE FUNCTION aftersales.library_version() RETURNS text
    AS 'MODULE_PATHNAME', 'aftersales_library_version' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.library_version() IS
  'Version of the loaded aftersales library; compare with extversion in pg_extension';
