-- aftersales install script, part 91: who may call the KPI rollups'
-- functions (after 90_privileges.sql, which revokes every internal function
-- from PUBLIC).
--
-- Reading: the KPI functions run with the caller's rights and call these
-- (STABLE: they cannot write); the rollup tables are readable like every
-- table (80_access.sql), under row-level security.
GRANT EXECUTE ON FUNCTION
    aftersales_internal.rollup_facts(bigint, bigint[], timestamptz),
    aftersales_internal.rollup_rows(bigint, bigint[], timestamptz, text),
    aftersales_internal.rollup_affected(bigint, bigint[]),
    aftersales_internal.rollup_grain(text, timestamptz, timestamptz, timestamptz, text, bigint),
    aftersales_internal.rollup_contrib(bigint, text, text, timestamptz, text),
    aftersales_internal.rollup_label(bigint, text, text),
    aftersales_internal.rollup_service(text, text, timestamptz, timestamptz, timestamptz, text, bigint, text),
    aftersales_internal.rollup_staff(text, timestamptz, timestamptz, timestamptz, text, bigint, text)
TO PUBLIC;
-- The tables, as every table is (80_access.sql: analysts read KPI sums,
-- no personal data); nobody writes them but the owner.
GRANT SELECT ON aftersales.kpi_rollup_state, aftersales.kpi_rollup_queue, aftersales.kpi_rollup_tickets,
    aftersales.kpi_rollup_cells
    TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer, aftersales_auditor,
       aftersales_analyst;
-- The triggers' and the fold's steps run as the owner only.
REVOKE ALL ON FUNCTION
    aftersales_internal.rollup_enqueue(), aftersales_internal.rollup_requeue(), aftersales_internal.rollup_stale(),
    aftersales_internal.rollup_tenant(), aftersales_internal.rollup_lock(bigint),
    aftersales_internal.rollup_add(bigint, aftersales.kpi_rollup_tickets[], aftersales.kpi_rollup_tickets[]),
    aftersales_internal.rollup_fold(bigint, text),
    aftersales_internal.rollup_rebuild(bigint, text, timestamptz, timestamptz)
FROM PUBLIC;
-- Writing: the fold and the rebuild run as the owner (derived data no
-- client writes), for the admins and the scheduled job.
REVOKE ALL ON FUNCTION aftersales.fold_kpi_rollups(bigint), aftersales.rebuild_kpi_rollups(bigint, timestamptz, timestamptz)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aftersales.fold_kpi_rollups(bigint), aftersales.rebuild_kpi_rollups(bigint, timestamptz, timestamptz)
    TO aftersales_admin, aftersales_sweep;
REVOKE ALL ON FUNCTION aftersales.check_kpi_rollups(bigint, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aftersales.check_kpi_rollups(bigint, timestamptz)
    TO aftersales_admin, aftersales_auditor;
