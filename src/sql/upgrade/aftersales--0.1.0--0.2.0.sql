-- aftersales upgrade 0.1.0 -> 0.2.0.
-- Grown in step with the install script (src/sql/[0-9]*.sql) until 0.2.0 is
-- released; the upgrade test (test/t/*upgrade*) proves that an upgraded
-- 0.1.0 and a fresh 0.2.0 have the same catalogue.
\echo Use "ALTER EXTENSION aftersales UPDATE TO '0.2.0'" to load this file. \quit
SET LOCAL search_path TO pg_catalog, pg_temp;

-- Internal schema: everything that is not API.
CREATE SCHEMA aftersales_internal;
REVOKE ALL ON SCHEMA aftersales_internal FROM PUBLIC;
COMMENT ON SCHEMA aftersales_internal IS
  'aftersales internals: triggers, checks and helpers; not API, no privileges for PUBLIC';

-- Library version: aftersales.library_version(), for the SQL/library check.
CREATE FUNCTION aftersales.library_version() RETURNS text
    AS 'MODULE_PATHNAME', 'aftersales_library_version' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.library_version() IS
  'Version of the loaded aftersales library; compare with extversion in pg_extension';
