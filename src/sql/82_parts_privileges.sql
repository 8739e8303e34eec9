-- aftersales install script, part 82: who may do what with spare parts
-- and costs.  Row-level security comes from 95_row_security.sql like for
-- every table: tenant, then organisation scope (part_orders, part_returns,
-- part_claims by their org_id) or ticket scope (work_logs, ticket_charges,
-- settlements by their ticket).  Master data (parts, warehouses, stock)
-- is visible to the whole tenant: an outlet orders from the central
-- warehouse.
--
-- Nobody writes stock: it follows the ledger (stock_moves) through a
-- trigger.  Moving stock (receipts, adjustments, reservations, shipments,
-- returns into the warehouse, releases) is the managers' and admins' work;
-- engineers request, collect and use parts and log their work; agents
-- request parts and log remote work; analysts and auditors read.

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['parts_settings', 'parts', 'part_models', 'warehouses', 'stock', 'stock_moves',
                             'part_orders', 'part_order_lines', 'part_order_events', 'part_returns',
                             'part_return_events', 'part_claims', 'part_claim_events', 'work_logs',
                             'settlements', 'ticket_charges', 'parts_order_facts', 'parts_fill_rates',
                             'parts_monthly', 'parts_warehouse_shipments', 'parts_uncollected',
                             'parts_claims_monthly', 'cost_tickets', 'cost_monthly', 'cost_engineer_utilisation'] LOOP
        EXECUTE pg_catalog.format('GRANT SELECT ON aftersales.%I TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer, aftersales_analyst, aftersales_auditor', t);
    END LOOP;
END
$$;

GRANT INSERT, UPDATE, DELETE ON aftersales.parts, aftersales.part_models, aftersales.warehouses, aftersales.parts_settings
    TO aftersales_admin;
GRANT INSERT ON aftersales.stock_moves TO aftersales_admin, aftersales_manager;
GRANT INSERT, UPDATE ON aftersales.part_orders TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer;
GRANT INSERT ON aftersales.part_order_lines TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer;
GRANT INSERT, UPDATE ON aftersales.part_returns TO aftersales_admin, aftersales_manager, aftersales_engineer;
GRANT INSERT, UPDATE ON aftersales.part_claims TO aftersales_admin, aftersales_manager;
GRANT INSERT ON aftersales.work_logs TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer;
GRANT INSERT, UPDATE, DELETE ON aftersales.ticket_charges TO aftersales_admin, aftersales_manager, aftersales_agent;
GRANT INSERT ON aftersales.settlements TO aftersales_admin, aftersales_manager;

-- The sweep raises the parts alerts.
GRANT SELECT ON aftersales.part_orders, aftersales.parts_settings TO aftersales_sweep;

-- The internal helpers the API and the views call with the caller's
-- rights: granted to the kinds, not to PUBLIC (revoked here, as
-- 90_privileges.sql does for the whole schema, so that an upgraded
-- database, which runs this after it, ends the same).
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = 'aftersales_internal'::regnamespace
                AND p.proname IN ('parts_settings', 'parts_not_found', 'part_order', 'part_return', 'part_claim', 'check_at',
                                  'release_ticket_hold', 'charge_basis', 'charge_settled_guard', 'stock_apply',
                                  'sweep_parts', 'sample_parts', 'decide_part_order')
              ORDER BY 1 LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
    FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = 'aftersales_internal'::regnamespace
                AND p.proname IN ('parts_settings', 'parts_not_found', 'part_order', 'part_return', 'part_claim', 'check_at',
                                  'release_ticket_hold', 'charge_basis', 'decide_part_order')
              ORDER BY 1 LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO aftersales_admin, aftersales_manager, aftersales_agent, aftersales_engineer, aftersales_analyst, aftersales_auditor', f);
    END LOOP;
END
$$;
GRANT EXECUTE ON FUNCTION aftersales_internal.sweep_parts(timestamptz, bigint), aftersales_internal.parts_settings(bigint)
    TO aftersales_sweep;

-- The check reads every tenant's rows: granted on purpose only.
REVOKE ALL ON FUNCTION aftersales.check_parts(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION aftersales.check_parts(bigint) TO aftersales_admin, aftersales_auditor;
GRANT EXECUTE ON FUNCTION aftersales_internal.state_machine_check(text, regclass, regclass, text, bigint)
    TO aftersales_admin, aftersales_auditor;

-- Who may fire which event of the parts machines (read by the engine's
-- guard, so the API and a direct UPDATE obey the same rule).  Managers
-- approve, move stock and deal with suppliers; engineers request, collect
-- and use the parts of their own orders (engineer_id: the ticket's
-- assignee at request) and send old parts back; agents request and
-- withdraw requests.
INSERT INTO aftersales.event_rights (kind, event, own_tickets_only)
SELECT k.kind, t.machine || '.' || t.event, false
  FROM (SELECT DISTINCT machine, event FROM aftersales.state_transitions
         WHERE machine IN ('part_order', 'part_return', 'part_claim')) t
 CROSS JOIN (VALUES ('admin'), ('manager')) AS k (kind)
UNION ALL VALUES
    ('agent', 'part_order.request', false), ('agent', 'part_order.cancel', false),
    ('engineer', 'part_order.request', true), ('engineer', 'part_order.collect', true),
    ('engineer', 'part_order.use', true), ('engineer', 'part_return.open', false),
    ('engineer', 'part_return.ship', false);
