-- aftersales install script, part 82: the spare-parts API.
--
-- Every function acts in the caller's tenant (aftersales.current_tenant())
-- with the caller's rights, takes "now" as its at argument (default
-- aftersales.now()), and writes each change of an order, a return or a
-- claim as one UPDATE naming its event, which the engine's guard judges
-- and its log records.  Bad input is refused before anything is written;
-- an error later (insufficient stock, an illegal transition) aborts the
-- whole call, so nothing is ever half-written.

-- ---------------------------------------------------------------------------
-- Helpers

-- The settings of a tenant: its own row, else tenant 1's.
CREATE FUNCTION aftersales_internal.parts_settings(tenant bigint) RETURNS aftersales.parts_settings
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.* FROM aftersales.parts_settings s
     WHERE s.tenant_id IN (tenant, 1)
     ORDER BY s.tenant_id OPERATOR(pg_catalog.=) tenant DESC
     LIMIT 1
$$;
COMMENT ON FUNCTION aftersales_internal.parts_settings(bigint) IS
  'Internal: the parts settings of a tenant, its own row else tenant 1''s';

CREATE FUNCTION aftersales_internal.parts_not_found(what text, id bigint, tenant bigint, hint text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION '% % does not exist for tenant %', what, COALESCE(id::text, 'NULL'), tenant
        USING ERRCODE = 'P0002', HINT = hint;
END
$$;
COMMENT ON FUNCTION aftersales_internal.parts_not_found(text, bigint, bigint, text) IS
  'Internal: raises "<what> <id> does not exist for tenant <tenant>" (P0002) with a hint';

CREATE FUNCTION aftersales_internal.part_order(tenant bigint, id bigint) RETURNS aftersales.part_orders
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o aftersales.part_orders;
BEGIN
    SELECT * INTO o FROM aftersales.part_orders po WHERE po.tenant_id = tenant AND po.order_id = id;
    IF NOT FOUND THEN
        PERFORM aftersales_internal.parts_not_found('part order', id, tenant,
            'List the orders of a ticket with: SELECT order_id, state FROM aftersales.part_orders WHERE ticket_id = 42;');
    END IF;
    RETURN o;
END
$$;
COMMENT ON FUNCTION aftersales_internal.part_order(bigint, bigint) IS 'Internal: the part order, or a P0002 error naming it';

CREATE FUNCTION aftersales_internal.check_at(at timestamptz, fn text) RETURNS timestamptz
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF at IS NULL OR NOT pg_catalog.isfinite(at) THEN
        RAISE EXCEPTION 'invalid time for %: %', fn, COALESCE(at::text, 'NULL')
            USING ERRCODE = '22008',
                  HINT = pg_catalog.format('Omit at for the current time, or pass a finite instant, for example: SELECT aftersales.%s(..., at => ''2026-03-03 09:00+08'');', fn);
    END IF;
    RETURN at;
END
$$;
COMMENT ON FUNCTION aftersales_internal.check_at(timestamptz, text) IS 'Internal: refuses a NULL or infinite event time';

-- Resumes a ticket held for parts once no open order holds it any more
-- (the order just collected, rejected or cancelled has left the open
-- states already).  A ticket held for another reason as well is resumed
-- too: the hold for parts is the one the order placed.
CREATE FUNCTION aftersales_internal.release_ticket_hold(tenant bigint, o aftersales.part_orders, at timestamptz) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT o.holds_ticket THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT FROM aftersales.part_orders po
                WHERE po.tenant_id = tenant AND po.ticket_id = o.ticket_id AND po.holds_ticket
                  AND po.state IN ('requested', 'approved', 'reserved', 'shipped', 'arrived')) THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT FROM aftersales.tickets t
                WHERE t.tenant_id = tenant AND t.ticket_id = o.ticket_id AND t.status = 'on_hold') THEN
        PERFORM aftersales.resume_ticket(o.ticket_id, at => at);
    END IF;
END
$$;
COMMENT ON FUNCTION aftersales_internal.release_ticket_hold(bigint, aftersales.part_orders, timestamptz) IS
  'Internal: resumes the ticket of an order that held it when no other open order of the ticket holds it';

-- ---------------------------------------------------------------------------
-- Master data

CREATE FUNCTION aftersales.set_part(part_no text, name text, part_class text, unit_cost numeric,
                                    unit_weight_kg numeric DEFAULT 0, return_required boolean DEFAULT false,
                                    fits text[] DEFAULT NULL, unit_price numeric DEFAULT NULL,
                                    supplier bigint DEFAULT NULL)
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    example constant text := 'SELECT aftersales.set_part(''P-100'', ''Pump seal'', ''B'', 35.00, unit_weight_kg => 0.4, fits => ARRAY[''M-1'']);';
    id bigint;
    bad text;
BEGIN
    IF part_no IS NULL OR pg_catalog.btrim(part_no) = '' OR pg_catalog.length(part_no) > 64 OR name IS NULL OR pg_catalog.btrim(name) = '' THEN
        RAISE EXCEPTION 'invalid part number or name: "%", "%"', pg_catalog.left(COALESCE(part_no, 'NULL'), 64), pg_catalog.left(COALESCE(name, 'NULL'), 64)
            USING ERRCODE = '22023', HINT = 'A part has a number of 1 to 64 characters and a name, for example: ' || example;
    END IF;
    IF part_class IS NULL OR part_class NOT IN ('A', 'B', 'C') THEN
        RAISE EXCEPTION 'invalid part class: "%"', pg_catalog.left(COALESCE(part_class, 'NULL'), 64)
            USING ERRCODE = '22023', HINT = 'Classes are A, B and C, for example: ' || example;
    END IF;
    IF unit_cost IS NULL OR NOT (unit_cost >= 0 AND unit_cost < 1e10) OR NOT (unit_weight_kg >= 0 AND unit_weight_kg < 1e7)
       OR (unit_price IS NOT NULL AND NOT (unit_price >= 0 AND unit_price < 1e10)) THEN
        RAISE EXCEPTION 'invalid cost, price or weight of part %: %, %, %', part_no, COALESCE(unit_cost::text, 'NULL'),
                        COALESCE(unit_price::text, 'NULL'), COALESCE(unit_weight_kg::text, 'NULL')
            USING ERRCODE = '22003', HINT = 'Costs, prices and weights are zero or more, for example: ' || example;
    END IF;
    IF supplier IS NOT NULL AND NOT EXISTS (SELECT FROM aftersales.organisations o
                                             WHERE o.tenant_id = tenant AND o.org_id = supplier) THEN
        PERFORM aftersales_internal.parts_not_found('organisation', supplier, tenant,
            'Name the supplier by its org_id: SELECT org_id, name FROM aftersales.organisations WHERE org_type = ''supplier'';');
    END IF;
    SELECT f INTO bad FROM pg_catalog.unnest(fits) f
     WHERE NOT EXISTS (SELECT FROM aftersales.product_models m WHERE m.tenant_id = tenant AND m.code = f)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'unknown product model "%"', pg_catalog.left(COALESCE(bad, 'NULL'), 64)
            USING ERRCODE = '22023', HINT = 'fits lists model codes: SELECT code FROM aftersales.product_models;';
    END IF;
    INSERT INTO aftersales.parts AS p (tenant_id, part_no, name, part_class, unit_cost, unit_price, unit_weight_kg,
                                       return_required, supplier_org_id)
    VALUES (tenant, set_part.part_no, set_part.name, set_part.part_class, set_part.unit_cost, set_part.unit_price,
            COALESCE(set_part.unit_weight_kg, 0), COALESCE(set_part.return_required, false), supplier)
    ON CONFLICT ON CONSTRAINT parts_tenant_id_part_no_key DO UPDATE
       SET name = excluded.name, part_class = excluded.part_class, unit_cost = excluded.unit_cost,
           unit_price = excluded.unit_price, unit_weight_kg = excluded.unit_weight_kg,
           return_required = excluded.return_required, supplier_org_id = excluded.supplier_org_id
    RETURNING p.part_id INTO id;
    IF fits IS NOT NULL THEN
        DELETE FROM aftersales.part_models pm WHERE pm.tenant_id = tenant AND pm.part_id = id;
        INSERT INTO aftersales.part_models (tenant_id, part_id, model_id)
        SELECT DISTINCT tenant, id, m.model_id FROM aftersales.product_models m
         WHERE m.tenant_id = tenant AND m.code = ANY (fits);
    END IF;
    RETURN id;
END
$$;
COMMENT ON FUNCTION aftersales.set_part(text, text, text, numeric, numeric, boolean, text[], numeric, bigint) IS
  'Create or change a part by its number (upsert): class A/B/C, unit cost, weight, whether the old part returns to the factory, the model codes it fits (NULL keeps them; empty: fits any), price and supplier; returns its id';

CREATE FUNCTION aftersales.set_warehouse(code text, name text, kind text, org bigint)
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    id bigint;
BEGIN
    IF code IS NULL OR pg_catalog.btrim(code) = '' OR pg_catalog.length(code) > 64 OR name IS NULL OR pg_catalog.btrim(name) = ''
       OR kind IS NULL OR kind NOT IN ('central', 'regional', 'outlet') THEN
        RAISE EXCEPTION 'invalid warehouse: code "%", name "%", kind "%"', pg_catalog.left(COALESCE(code, 'NULL'), 64),
                        pg_catalog.left(COALESCE(name, 'NULL'), 64), pg_catalog.left(COALESCE(kind, 'NULL'), 64)
            USING ERRCODE = '22023',
                  HINT = 'A warehouse has a code, a name and a kind (central, regional or outlet), for example: SELECT aftersales.set_warehouse(''WH-EAST'', ''East regional'', ''regional'', 2);';
    END IF;
    IF org IS NULL OR NOT EXISTS (SELECT FROM aftersales.organisations o WHERE o.tenant_id = tenant AND o.org_id = org) THEN
        PERFORM aftersales_internal.parts_not_found('organisation', org, tenant,
            'A warehouse is run by an organisation of the tenant: SELECT org_id, name FROM aftersales.organisations;');
    END IF;
    INSERT INTO aftersales.warehouses AS w (tenant_id, code, name, kind, owner_org_id)
    VALUES (tenant, set_warehouse.code, set_warehouse.name, set_warehouse.kind, org)
    ON CONFLICT ON CONSTRAINT warehouses_tenant_id_code_key DO UPDATE SET name = excluded.name, kind = excluded.kind, owner_org_id = excluded.owner_org_id
    RETURNING w.warehouse_id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION aftersales.set_warehouse(text, text, text, bigint) IS
  'Create or change a warehouse by its code (upsert): name, kind (central, regional, outlet), organisation; returns its id';

-- Stock in and count corrections: one ledger row each.
CREATE FUNCTION aftersales.receive_stock(warehouse bigint, part bigint, quantity integer, reason text DEFAULT NULL,
                                         at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    id bigint;
BEGIN
    PERFORM aftersales_internal.check_at(at, 'receive_stock');
    IF NOT EXISTS (SELECT FROM aftersales.warehouses w WHERE w.tenant_id = tenant AND w.warehouse_id = warehouse) THEN
        PERFORM aftersales_internal.parts_not_found('warehouse', warehouse, tenant,
            'List the warehouses with: SELECT warehouse_id, code FROM aftersales.warehouses;');
    END IF;
    IF NOT EXISTS (SELECT FROM aftersales.parts p WHERE p.tenant_id = tenant AND p.part_id = part) THEN
        PERFORM aftersales_internal.parts_not_found('part', part, tenant,
            'List the parts with: SELECT part_id, part_no FROM aftersales.parts;');
    END IF;
    IF quantity IS NULL OR quantity <= 0 THEN
        RAISE EXCEPTION 'invalid quantity received: %', COALESCE(quantity::text, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'Receive one unit or more, for example: SELECT aftersales.receive_stock(1, 7, 10);';
    END IF;
    INSERT INTO aftersales.stock_moves AS m (tenant_id, warehouse_id, part_id, kind, on_hand_delta, reserved_delta, at, reason)
    VALUES (tenant, warehouse, part, 'receipt', quantity, 0, at, reason)
    RETURNING m.move_id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION aftersales.receive_stock(bigint, bigint, integer, text, timestamptz) IS
  'Stock in: a receipt of quantity units of a part into a warehouse (a ledger row); returns the movement id';

CREATE FUNCTION aftersales.adjust_stock(warehouse bigint, part bigint, delta integer, reason text,
                                        at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    id bigint;
BEGIN
    PERFORM aftersales_internal.check_at(at, 'adjust_stock');
    IF NOT EXISTS (SELECT FROM aftersales.warehouses w WHERE w.tenant_id = tenant AND w.warehouse_id = warehouse) THEN
        PERFORM aftersales_internal.parts_not_found('warehouse', warehouse, tenant,
            'List the warehouses with: SELECT warehouse_id, code FROM aftersales.warehouses;');
    END IF;
    IF NOT EXISTS (SELECT FROM aftersales.parts p WHERE p.tenant_id = tenant AND p.part_id = part) THEN
        PERFORM aftersales_internal.parts_not_found('part', part, tenant,
            'List the parts with: SELECT part_id, part_no FROM aftersales.parts;');
    END IF;
    IF delta IS NULL OR delta = 0 OR reason IS NULL OR pg_catalog.btrim(reason) = '' THEN
        RAISE EXCEPTION 'a stock adjustment needs a non-zero delta and a reason'
            USING ERRCODE = '22023',
                  HINT = 'For example, after a count: SELECT aftersales.adjust_stock(1, 7, -2, ''stocktaking: 2 damaged'');';
    END IF;
    INSERT INTO aftersales.stock_moves AS m (tenant_id, warehouse_id, part_id, kind, on_hand_delta, reserved_delta, at, reason)
    VALUES (tenant, warehouse, part, 'adjustment', delta, 0, at, reason)
    RETURNING m.move_id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION aftersales.adjust_stock(bigint, bigint, integer, text, timestamptz) IS
  'Count correction of a part''s stock in a warehouse (a ledger row, with a reason); refused if it would leave stock below what is reserved';

-- ---------------------------------------------------------------------------
-- Part orders

CREATE FUNCTION aftersales.request_parts(ticket bigint, warehouse bigint, lines jsonb, hold_ticket boolean DEFAULT false,
                                         reason text DEFAULT NULL, at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    example constant text := 'SELECT aftersales.request_parts(42, 3, ''[{"part": 7, "quantity": 2}]'', hold_ticket => true);';
    t aftersales.tickets;
    l record;
    n integer;
    id bigint;
    org bigint;
    weight numeric := 0;
BEGIN
    PERFORM aftersales_internal.check_at(at, 'request_parts');
    SELECT * INTO t FROM aftersales.tickets tk WHERE tk.tenant_id = tenant AND tk.ticket_id = ticket;
    IF NOT FOUND THEN
        PERFORM aftersales_internal.parts_not_found('ticket', ticket, tenant,
            'Parts are requested for a ticket of the tenant in the setting aftersales.tenant_id, for example: ' || example);
    END IF;
    IF t.status IN ('resolved', 'closed', 'cancelled') THEN
        RAISE EXCEPTION 'ticket % is %: parts cannot be requested for it', ticket, t.status
            USING ERRCODE = '55000',
                  HINT = 'Request parts while the ticket is open; reopen it first if the fix failed: SELECT aftersales.reopen_ticket(42, ''part failed'');';
    END IF;
    SELECT w.owner_org_id INTO org FROM aftersales.warehouses w
     WHERE w.tenant_id = tenant AND w.warehouse_id = warehouse AND w.active;
    IF NOT FOUND THEN
        PERFORM aftersales_internal.parts_not_found('warehouse', warehouse, tenant,
            'Ask an active warehouse of the tenant: SELECT warehouse_id, code FROM aftersales.warehouses WHERE active;');
    END IF;
    IF lines IS NULL OR pg_catalog.jsonb_typeof(lines) <> 'array' OR pg_catalog.jsonb_array_length(lines) = 0
       OR pg_catalog.jsonb_array_length(lines) > 100 THEN
        RAISE EXCEPTION 'invalid order lines: %', pg_catalog.left(COALESCE(lines::text, 'NULL'), 64)
            USING ERRCODE = '22023',
                  HINT = 'Lines are a JSON array of 1 to 100 objects with a part id and a quantity, for example: ' || example;
    END IF;
    n := 0;
    FOR l IN SELECT e.value AS v, e.ordinality AS i FROM pg_catalog.jsonb_array_elements(lines) WITH ORDINALITY e LOOP
        IF pg_catalog.jsonb_typeof(l.v) IS DISTINCT FROM 'object' OR pg_catalog.jsonb_typeof(l.v -> 'part') IS DISTINCT FROM 'number'
           OR pg_catalog.jsonb_typeof(l.v -> 'quantity') IS DISTINCT FROM 'number' OR (l.v ->> 'part') !~ '^[0-9]{1,18}$' THEN
            RAISE EXCEPTION 'invalid order line %: %', l.i, pg_catalog.left(l.v::text, 64)
                USING ERRCODE = '22023', HINT = 'Each line is {"part": <part id>, "quantity": <units>}, for example: ' || example;
        END IF;
        IF (l.v ->> 'quantity') !~ '^[0-9]{1,9}$' OR (l.v ->> 'quantity')::integer <= 0 THEN
            RAISE EXCEPTION 'invalid quantity % for part % in order line %', pg_catalog.left(l.v ->> 'quantity', 32), l.v ->> 'part', l.i
                USING ERRCODE = '22023', HINT = 'A quantity is a whole number of units, at least 1, for example: ' || example;
        END IF;
        IF NOT EXISTS (SELECT FROM aftersales.parts p WHERE p.tenant_id = tenant AND p.part_id = (l.v ->> 'part')::bigint AND p.active) THEN
            PERFORM aftersales_internal.parts_not_found('part', (l.v ->> 'part')::bigint, tenant,
                'Order active parts of the tenant: SELECT part_id, part_no FROM aftersales.parts WHERE active;');
        END IF;
        IF t.model_id IS NOT NULL
           AND EXISTS (SELECT FROM aftersales.part_models pm WHERE pm.tenant_id = tenant AND pm.part_id = (l.v ->> 'part')::bigint)
           AND NOT EXISTS (SELECT FROM aftersales.part_models pm WHERE pm.tenant_id = tenant AND pm.part_id = (l.v ->> 'part')::bigint
                                                                  AND pm.model_id = t.model_id) THEN
            RAISE EXCEPTION 'part % does not fit the model of ticket %', (SELECT p.part_no FROM aftersales.parts p WHERE p.tenant_id = tenant AND p.part_id = (l.v ->> 'part')::bigint), ticket
                USING ERRCODE = '22023', HINT = 'List the parts that fit: SELECT part_id FROM aftersales.part_models WHERE model_id = <the ticket''s model>;';
        END IF;
        n := n + 1;
    END LOOP;
    IF (SELECT pg_catalog.count(DISTINCT e ->> 'part') FROM pg_catalog.jsonb_array_elements(lines) e) <> n THEN
        RAISE EXCEPTION 'a part appears twice in the order lines'
            USING ERRCODE = '22023', HINT = 'Give each part once, with the total quantity, for example: ' || example;
    END IF;
    SELECT COALESCE(pg_catalog.sum((e ->> 'quantity')::integer * p.unit_weight_kg), 0) INTO weight
      FROM pg_catalog.jsonb_array_elements(lines) e
      JOIN aftersales.parts p ON p.tenant_id = tenant AND p.part_id = (e ->> 'part')::bigint;

    INSERT INTO aftersales.part_orders AS po (tenant_id, ticket_id, org_id, warehouse_id, engineer_id, holds_ticket,
                                              requested_at, weight_kg, event, event_at, event_reason)
    VALUES (tenant, ticket, COALESCE(t.org_id, org), warehouse, t.assignee_id, COALESCE(hold_ticket, false),
            at, weight, 'request', at, reason)
    RETURNING po.order_id INTO id;
    INSERT INTO aftersales.part_order_lines (tenant_id, order_id, line_no, part_id, quantity)
    SELECT tenant, id, e.ordinality::integer, (e.value ->> 'part')::bigint, (e.value ->> 'quantity')::integer
      FROM pg_catalog.jsonb_array_elements(lines) WITH ORDINALITY e;
    IF hold_ticket AND t.status <> 'on_hold' THEN
        PERFORM aftersales.hold_ticket(ticket, pg_catalog.format('waiting for part order %s', id), at => at);
    END IF;
    RETURN id;
END
$$;
COMMENT ON FUNCTION aftersales.request_parts(bigint, bigint, jsonb, boolean, text, timestamptz) IS
  'Request parts for an open ticket from a warehouse: lines [{"part": id, "quantity": n}]; hold_ticket puts the ticket on hold until the parts are collected; returns the order id';

-- The decision on a requested order, by its own event or by the decision
-- of its approval (85_parts_approvals.sql): approve starts the ship target,
-- reject resumes a ticket the order held.  actor NULL: as the order's other
-- API events (the engine names the caller).
CREATE FUNCTION aftersales_internal.decide_part_order(tenant bigint, part_order bigint, event text, reason text,
                                                      at timestamptz, actor text)
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o aftersales.part_orders := aftersales_internal.part_order(tenant, part_order);
BEGIN
    PERFORM aftersales_internal.check_at(at, event || '_part_order');
    UPDATE aftersales.part_orders po
       SET event_seq = po.event_seq + 1, event = decide_part_order.event, event_at = at,
           event_by = COALESCE(actor, po.event_by),
           event_reason = reason,
           approved_at = CASE WHEN decide_part_order.event = 'approve' THEN at ELSE po.approved_at END,
           ship_due_at = CASE WHEN decide_part_order.event = 'approve'
                              THEN at + pg_catalog.make_interval(secs => (aftersales_internal.parts_settings(tenant)).ship_target_hours * 3600)
                              ELSE po.ship_due_at END
     WHERE po.tenant_id = tenant AND po.order_id = o.order_id
    RETURNING po.* INTO o;
    IF event = 'reject' THEN
        PERFORM aftersales_internal.release_ticket_hold(tenant, o, at);
    END IF;
    RETURN o.state;
END
$$;
COMMENT ON FUNCTION aftersales_internal.decide_part_order(bigint, bigint, text, text, timestamptz, text) IS
  'Internal: approves or rejects a requested part order (approve: its ship target runs from then; reject: a ticket it held resumes); returns the new state';

CREATE FUNCTION aftersales.approve_part_order(part_order bigint, reason text DEFAULT NULL,
                                              at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT aftersales_internal.decide_part_order(aftersales.current_tenant(), part_order, 'approve', reason, at, NULL)
$$;
COMMENT ON FUNCTION aftersales.approve_part_order(bigint, text, timestamptz) IS
  'Approve a requested part order; its ship target runs from now (parts_settings.ship_target_hours)';

CREATE FUNCTION aftersales.reject_part_order(part_order bigint, reason text, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT aftersales_internal.decide_part_order(aftersales.current_tenant(), part_order, 'reject', reason, at, NULL)
$$;
COMMENT ON FUNCTION aftersales.reject_part_order(bigint, text, timestamptz) IS
  'Reject a requested part order, with a reason; a ticket it held resumes';

-- Reserves every line in one warehouse: the one asked, or another (a
-- transfer).  Lines in part order, so that two reservations of the same
-- parts lock the stock rows in the same order and never deadlock.
CREATE FUNCTION aftersales.reserve_part_order(part_order bigint, from_warehouse bigint DEFAULT NULL,
                                              at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    o aftersales.part_orders := aftersales_internal.part_order(tenant, part_order);
    src bigint := COALESCE(from_warehouse, o.warehouse_id);
BEGIN
    PERFORM aftersales_internal.check_at(at, 'reserve_part_order');
    IF NOT EXISTS (SELECT FROM aftersales.warehouses w WHERE w.tenant_id = tenant AND w.warehouse_id = src AND w.active) THEN
        PERFORM aftersales_internal.parts_not_found('warehouse', src, tenant,
            'Reserve from an active warehouse of the tenant: SELECT warehouse_id, code FROM aftersales.warehouses WHERE active;');
    END IF;
    UPDATE aftersales.part_orders po
       SET event_seq = po.event_seq + 1, event = 'reserve', event_at = at, event_reason = NULL, reserved_at = at, source_warehouse_id = src
     WHERE po.tenant_id = tenant AND po.order_id = o.order_id
    RETURNING po.* INTO o;
    INSERT INTO aftersales.stock_moves (tenant_id, warehouse_id, part_id, kind, on_hand_delta, reserved_delta, order_id, at)
    SELECT tenant, src, l.part_id, 'reserve', 0, l.quantity, o.order_id, at
      FROM aftersales.part_order_lines l
     WHERE l.tenant_id = tenant AND l.order_id = o.order_id
     ORDER BY l.part_id;
    RETURN o.state;
END
$$;
COMMENT ON FUNCTION aftersales.reserve_part_order(bigint, bigint, timestamptz) IS
  'Reserve an approved order''s parts in the warehouse asked, or in from_warehouse (a transfer); refused with nothing written when any line lacks available stock';

CREATE FUNCTION aftersales.ship_part_order(part_order bigint, carrier text, tracking_no text DEFAULT NULL,
                                           at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    o aftersales.part_orders := aftersales_internal.part_order(tenant, part_order);
BEGIN
    PERFORM aftersales_internal.check_at(at, 'ship_part_order');
    IF carrier IS NULL OR pg_catalog.btrim(carrier) = '' THEN
        RAISE EXCEPTION 'a shipment needs a carrier'
            USING ERRCODE = '22004',
                  HINT = 'Name the carrier and, when there is one, the tracking number: SELECT aftersales.ship_part_order(5, ''SF Express'', ''SF1234567890'');';
    END IF;
    UPDATE aftersales.part_orders po
       SET event_seq = po.event_seq + 1, event = 'ship', event_at = at, event_reason = NULL, shipped_at = at, carrier = ship_part_order.carrier, tracking_no = ship_part_order.tracking_no
     WHERE po.tenant_id = tenant AND po.order_id = o.order_id
    RETURNING po.* INTO o;
    INSERT INTO aftersales.stock_moves (tenant_id, warehouse_id, part_id, kind, on_hand_delta, reserved_delta, order_id, at)
    SELECT tenant, o.source_warehouse_id, l.part_id, 'ship', -l.quantity, -l.quantity, o.order_id, at
      FROM aftersales.part_order_lines l
     WHERE l.tenant_id = tenant AND l.order_id = o.order_id
     ORDER BY l.part_id;
    RETURN o.state;
END
$$;
COMMENT ON FUNCTION aftersales.ship_part_order(bigint, text, text, timestamptz) IS
  'Ship a reserved order (carrier, tracking number): its reserved units leave the source warehouse''s stock';

CREATE FUNCTION aftersales.arrive_part_order(part_order bigint, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    o aftersales.part_orders := aftersales_internal.part_order(tenant, part_order);
BEGIN
    PERFORM aftersales_internal.check_at(at, 'arrive_part_order');
    UPDATE aftersales.part_orders po SET event_seq = po.event_seq + 1, event = 'arrive', event_at = at, event_reason = NULL, arrived_at = at
     WHERE po.tenant_id = tenant AND po.order_id = o.order_id
    RETURNING po.* INTO o;
    RETURN o.state;
END
$$;
COMMENT ON FUNCTION aftersales.arrive_part_order(bigint, timestamptz) IS
  'A shipped order arrived at the outlet; uncollected after parts_settings.uncollected_alert_hours, the sweep raises part_not_collected once';

CREATE FUNCTION aftersales.collect_part_order(part_order bigint, engineer bigint DEFAULT NULL,
                                              at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    o aftersales.part_orders := aftersales_internal.part_order(tenant, part_order);
BEGIN
    PERFORM aftersales_internal.check_at(at, 'collect_part_order');
    IF engineer IS NOT NULL AND NOT EXISTS (SELECT FROM aftersales.engineers e WHERE e.tenant_id = tenant AND e.engineer_id = engineer) THEN
        PERFORM aftersales_internal.parts_not_found('engineer', engineer, tenant,
            'Name the engineer who signs for the parts, or omit it for the one of the order.');
    END IF;
    UPDATE aftersales.part_orders po
       SET event_seq = po.event_seq + 1, event = 'collect', event_at = at, event_reason = NULL, collected_at = at, engineer_id = COALESCE(engineer, po.engineer_id)
     WHERE po.tenant_id = tenant AND po.order_id = o.order_id
    RETURNING po.* INTO o;
    PERFORM aftersales_internal.release_ticket_hold(tenant, o, at);
    RETURN o.state;
END
$$;
COMMENT ON FUNCTION aftersales.collect_part_order(bigint, bigint, timestamptz) IS
  'The engineer signs for an arrived order (签收); a ticket held for it resumes by itself once no other open order holds it';

CREATE FUNCTION aftersales.use_part_order(part_order bigint, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    o aftersales.part_orders := aftersales_internal.part_order(tenant, part_order);
BEGIN
    PERFORM aftersales_internal.check_at(at, 'use_part_order');
    UPDATE aftersales.part_orders po SET event_seq = po.event_seq + 1, event = 'use', event_at = at, event_reason = NULL, finished_at = at
     WHERE po.tenant_id = tenant AND po.order_id = o.order_id
    RETURNING po.* INTO o;
    -- the replaced old parts that must go back to the factory become due
    INSERT INTO aftersales.part_returns (tenant_id, order_id, line_no, ticket_id, org_id, part_id, quantity, due_at,
                                         event, event_at)
    SELECT tenant, o.order_id, l.line_no, o.ticket_id, o.org_id, l.part_id, l.quantity, at, 'open', at
      FROM aftersales.part_order_lines l
      JOIN aftersales.parts p ON p.tenant_id = l.tenant_id AND p.part_id = l.part_id
     WHERE l.tenant_id = tenant AND l.order_id = o.order_id AND p.return_required
     ORDER BY l.line_no;
    RETURN o.state;
END
$$;
COMMENT ON FUNCTION aftersales.use_part_order(bigint, timestamptz) IS
  'The collected parts were fitted on the ticket: the order is used, and each replaced part that must return to the factory gets a due old-part return';

CREATE FUNCTION aftersales.return_part_order(part_order bigint, reason text, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    o aftersales.part_orders := aftersales_internal.part_order(tenant, part_order);
BEGIN
    PERFORM aftersales_internal.check_at(at, 'return_part_order');
    UPDATE aftersales.part_orders po SET event_seq = po.event_seq + 1, event = 'return', event_at = at, event_reason = reason, finished_at = at
     WHERE po.tenant_id = tenant AND po.order_id = o.order_id
    RETURNING po.* INTO o;
    INSERT INTO aftersales.stock_moves (tenant_id, warehouse_id, part_id, kind, on_hand_delta, reserved_delta, order_id, at, reason)
    SELECT tenant, o.source_warehouse_id, l.part_id, 'return_unused', l.quantity, 0, o.order_id, at, reason
      FROM aftersales.part_order_lines l
     WHERE l.tenant_id = tenant AND l.order_id = o.order_id
     ORDER BY l.part_id;
    RETURN o.state;
END
$$;
COMMENT ON FUNCTION aftersales.return_part_order(bigint, text, timestamptz) IS
  'The collected parts were not needed: the order is returned and its units go back into the source warehouse''s stock';

-- Cancelling releases a reservation; parts already shipped are out of the
-- warehouse (in transit or at the outlet): they come back, if they do,
-- as a receipt (receive_stock).
CREATE FUNCTION aftersales.cancel_part_order(part_order bigint, reason text, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    o aftersales.part_orders := aftersales_internal.part_order(tenant, part_order);
    was text := o.state;
BEGIN
    PERFORM aftersales_internal.check_at(at, 'cancel_part_order');
    UPDATE aftersales.part_orders po SET event_seq = po.event_seq + 1, event = 'cancel', event_at = at, event_reason = reason, cancelled_at = at
     WHERE po.tenant_id = tenant AND po.order_id = o.order_id
    RETURNING po.* INTO o;
    IF was = 'reserved' THEN
        INSERT INTO aftersales.stock_moves (tenant_id, warehouse_id, part_id, kind, on_hand_delta, reserved_delta, order_id, at, reason)
        SELECT tenant, o.source_warehouse_id, l.part_id, 'release', 0, -l.quantity, o.order_id, at, reason
          FROM aftersales.part_order_lines l
         WHERE l.tenant_id = tenant AND l.order_id = o.order_id
         ORDER BY l.part_id;
    END IF;
    PERFORM aftersales_internal.release_ticket_hold(tenant, o, at);
    RETURN o.state;
END
$$;
COMMENT ON FUNCTION aftersales.cancel_part_order(bigint, text, timestamptz) IS
  'Cancel an order before collection, with a reason: a reservation is released; shipped parts come back as a receipt; a ticket it held resumes';

-- ---------------------------------------------------------------------------
-- Old-part returns and claims

CREATE FUNCTION aftersales_internal.part_return(tenant bigint, id bigint) RETURNS aftersales.part_returns
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r aftersales.part_returns;
BEGIN
    SELECT * INTO r FROM aftersales.part_returns pr WHERE pr.tenant_id = tenant AND pr.return_id = id;
    IF NOT FOUND THEN
        PERFORM aftersales_internal.parts_not_found('old-part return', id, tenant,
            'List the returns due with: SELECT return_id, order_id, state FROM aftersales.part_returns WHERE state = ''due'';');
    END IF;
    RETURN r;
END
$$;
COMMENT ON FUNCTION aftersales_internal.part_return(bigint, bigint) IS 'Internal: the old-part return, or a P0002 error naming it';

CREATE FUNCTION aftersales.ship_old_part(part_return bigint, carrier text, tracking_no text DEFAULT NULL,
                                         at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    r aftersales.part_returns := aftersales_internal.part_return(tenant, part_return);
BEGIN
    PERFORM aftersales_internal.check_at(at, 'ship_old_part');
    IF carrier IS NULL OR pg_catalog.btrim(carrier) = '' THEN
        RAISE EXCEPTION 'a shipment needs a carrier'
            USING ERRCODE = '22004',
                  HINT = 'Name the carrier: SELECT aftersales.ship_old_part(3, ''SF Express'', ''SF1234567890'');';
    END IF;
    UPDATE aftersales.part_returns pr
       SET event_seq = pr.event_seq + 1, event = 'ship', event_at = at, event_reason = NULL, shipped_at = at, carrier = ship_old_part.carrier, tracking_no = ship_old_part.tracking_no
     WHERE pr.tenant_id = tenant AND pr.return_id = r.return_id
    RETURNING pr.* INTO r;
    RETURN r.state;
END
$$;
COMMENT ON FUNCTION aftersales.ship_old_part(bigint, text, text, timestamptz) IS 'The old part is shipped back to the factory';

CREATE FUNCTION aftersales.receive_old_part(part_return bigint, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    r aftersales.part_returns := aftersales_internal.part_return(tenant, part_return);
BEGIN
    PERFORM aftersales_internal.check_at(at, 'receive_old_part');
    UPDATE aftersales.part_returns pr SET event_seq = pr.event_seq + 1, event = 'receive', event_at = at, event_reason = NULL, received_at = at
     WHERE pr.tenant_id = tenant AND pr.return_id = r.return_id
    RETURNING pr.* INTO r;
    RETURN r.state;
END
$$;
COMMENT ON FUNCTION aftersales.receive_old_part(bigint, timestamptz) IS 'The factory received the old part';

CREATE FUNCTION aftersales.inspect_old_part(part_return bigint, result text, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    r aftersales.part_returns := aftersales_internal.part_return(tenant, part_return);
BEGIN
    PERFORM aftersales_internal.check_at(at, 'inspect_old_part');
    IF result IS NULL OR result NOT IN ('supplier_fault', 'no_fault', 'misuse') THEN
        RAISE EXCEPTION 'invalid inspection result: "%"', pg_catalog.left(COALESCE(result, 'NULL'), 64)
            USING ERRCODE = '22023',
                  HINT = 'Results are supplier_fault (a claim may follow), no_fault and misuse: SELECT aftersales.inspect_old_part(3, ''supplier_fault'');';
    END IF;
    UPDATE aftersales.part_returns pr SET event_seq = pr.event_seq + 1, event = 'inspect', event_at = at, event_reason = NULL, inspected_at = at, inspection_result = result
     WHERE pr.tenant_id = tenant AND pr.return_id = r.return_id
    RETURNING pr.* INTO r;
    RETURN r.state;
END
$$;
COMMENT ON FUNCTION aftersales.inspect_old_part(bigint, text, timestamptz) IS
  'The factory inspected the old part: supplier_fault, no_fault or misuse';

CREATE FUNCTION aftersales.waive_old_part(part_return bigint, reason text, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    r aftersales.part_returns := aftersales_internal.part_return(tenant, part_return);
BEGIN
    PERFORM aftersales_internal.check_at(at, 'waive_old_part');
    UPDATE aftersales.part_returns pr SET event_seq = pr.event_seq + 1, event = 'waive', event_at = at, event_reason = reason
     WHERE pr.tenant_id = tenant AND pr.return_id = r.return_id
    RETURNING pr.* INTO r;
    RETURN r.state;
END
$$;
COMMENT ON FUNCTION aftersales.waive_old_part(bigint, text, timestamptz) IS 'A due old-part return is waived, with a reason';

CREATE FUNCTION aftersales_internal.part_claim(tenant bigint, id bigint) RETURNS aftersales.part_claims
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c aftersales.part_claims;
BEGIN
    SELECT * INTO c FROM aftersales.part_claims pc WHERE pc.tenant_id = tenant AND pc.claim_id = id;
    IF NOT FOUND THEN
        PERFORM aftersales_internal.parts_not_found('claim', id, tenant,
            'List the open claims with: SELECT claim_id, state FROM aftersales.part_claims WHERE state IN (''filed'', ''refiled'');');
    END IF;
    RETURN c;
END
$$;
COMMENT ON FUNCTION aftersales_internal.part_claim(bigint, bigint) IS 'Internal: the claim, or a P0002 error naming it';

CREATE FUNCTION aftersales.file_claim(part_return bigint, amount numeric DEFAULT NULL,
                                      at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    r aftersales.part_returns := aftersales_internal.part_return(tenant, part_return);
    p aftersales.parts;
    id bigint;
BEGIN
    PERFORM aftersales_internal.check_at(at, 'file_claim');
    IF r.state <> 'inspected' OR r.inspection_result <> 'supplier_fault' THEN
        RAISE EXCEPTION 'old-part return % is %: a claim needs an inspection that found a supplier fault', r.return_id,
                        CASE WHEN r.state = 'inspected' THEN 'inspected as ' || r.inspection_result ELSE r.state END
            USING ERRCODE = '55000',
                  HINT = 'Receive and inspect the old part first: SELECT aftersales.inspect_old_part(3, ''supplier_fault'');';
    END IF;
    SELECT pc.claim_id INTO id FROM aftersales.part_claims pc WHERE pc.tenant_id = tenant AND pc.return_id = r.return_id;
    IF FOUND THEN
        RAISE EXCEPTION 'old-part return % is already claimed by claim %', r.return_id, id
            USING ERRCODE = '55000',
                  HINT = 'A rejected claim is filed a second time with: SELECT aftersales.refile_claim(<claim>, ''new grounds'');';
    END IF;
    SELECT * INTO p FROM aftersales.parts pt WHERE pt.tenant_id = tenant AND pt.part_id = r.part_id;
    IF p.supplier_org_id IS NULL THEN
        RAISE EXCEPTION 'part % has no supplier to claim against', p.part_no
            USING ERRCODE = '55000',
                  HINT = 'Set the part''s supplier: SELECT aftersales.set_part(...,  supplier => <org_id>);';
    END IF;
    IF amount IS NOT NULL AND NOT (amount > 0 AND amount < 1e10) THEN
        RAISE EXCEPTION 'invalid claim amount: %', amount
            USING ERRCODE = '22003', HINT = 'Omit it to claim the parts'' cost, or give a positive amount: SELECT aftersales.file_claim(3, 120.00);';
    END IF;
    INSERT INTO aftersales.part_claims AS pc (tenant_id, return_id, ticket_id, org_id, supplier_org_id, amount, filed_at, event, event_at)
    VALUES (tenant, r.return_id, r.ticket_id, r.org_id, p.supplier_org_id,
            COALESCE(amount, GREATEST(r.quantity * p.unit_cost, 0.01)), at, 'file', at)
    RETURNING pc.claim_id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION aftersales.file_claim(bigint, numeric, timestamptz) IS
  'File a warranty claim (索赔) against the part''s supplier for an old part inspected as supplier_fault; amount defaults to the parts'' cost; returns the claim id';

CREATE FUNCTION aftersales.accept_claim(claim bigint, accepted_amount numeric DEFAULT NULL,
                                        at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    c aftersales.part_claims := aftersales_internal.part_claim(tenant, claim);
BEGIN
    PERFORM aftersales_internal.check_at(at, 'accept_claim');
    IF accepted_amount IS NOT NULL AND NOT (accepted_amount >= 0 AND accepted_amount <= c.amount) THEN
        RAISE EXCEPTION 'invalid accepted amount % for claim % of %', accepted_amount, c.claim_id, c.amount
            USING ERRCODE = '22003', HINT = 'The supplier accepts at most the amount claimed; omit it for the whole amount.';
    END IF;
    UPDATE aftersales.part_claims pc
       SET event_seq = pc.event_seq + 1, event = 'accept', event_at = at, event_reason = NULL, decided_at = at, accepted_amount = COALESCE(accept_claim.accepted_amount, pc.amount)
     WHERE pc.tenant_id = tenant AND pc.claim_id = c.claim_id
    RETURNING pc.* INTO c;
    RETURN c.state;
END
$$;
COMMENT ON FUNCTION aftersales.accept_claim(bigint, numeric, timestamptz) IS 'The supplier accepted a claim, in whole or for accepted_amount';

CREATE FUNCTION aftersales.reject_claim(claim bigint, reason text, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    c aftersales.part_claims := aftersales_internal.part_claim(tenant, claim);
BEGIN
    PERFORM aftersales_internal.check_at(at, 'reject_claim');
    UPDATE aftersales.part_claims pc SET event_seq = pc.event_seq + 1, event = 'reject', event_at = at, event_reason = reason, decided_at = at
     WHERE pc.tenant_id = tenant AND pc.claim_id = c.claim_id
    RETURNING pc.* INTO c;
    RETURN c.state;
END
$$;
COMMENT ON FUNCTION aftersales.reject_claim(bigint, text, timestamptz) IS
  'The supplier rejected a claim (a first claim can be filed a second time with refile_claim; a second rejection is final)';

CREATE FUNCTION aftersales.refile_claim(claim bigint, reason text, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    c aftersales.part_claims := aftersales_internal.part_claim(tenant, claim);
BEGIN
    PERFORM aftersales_internal.check_at(at, 'refile_claim');
    UPDATE aftersales.part_claims pc SET event_seq = pc.event_seq + 1, event = 'refile', event_at = at, event_reason = reason, round = 2
     WHERE pc.tenant_id = tenant AND pc.claim_id = c.claim_id
    RETURNING pc.* INTO c;
    RETURN c.state;
END
$$;
COMMENT ON FUNCTION aftersales.refile_claim(bigint, text, timestamptz) IS 'Second claim (二次索赔) after a rejection, with the new grounds as reason';

CREATE FUNCTION aftersales.settle_claim(claim bigint, at timestamptz DEFAULT aftersales.now())
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    c aftersales.part_claims := aftersales_internal.part_claim(tenant, claim);
BEGIN
    PERFORM aftersales_internal.check_at(at, 'settle_claim');
    UPDATE aftersales.part_claims pc SET event_seq = pc.event_seq + 1, event = 'settle', event_at = at, event_reason = NULL, settled_at = at
     WHERE pc.tenant_id = tenant AND pc.claim_id = c.claim_id
    RETURNING pc.* INTO c;
    RETURN c.state;
END
$$;
COMMENT ON FUNCTION aftersales.settle_claim(bigint, timestamptz) IS 'The supplier paid an accepted claim';

-- ---------------------------------------------------------------------------
-- Labour, charges and settlement

CREATE FUNCTION aftersales.log_work(ticket bigint, engineer bigint, kind text, started_at timestamptz,
                                    ended_at timestamptz, note text DEFAULT NULL)
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    id bigint;
BEGIN
    IF NOT EXISTS (SELECT FROM aftersales.tickets t WHERE t.tenant_id = tenant AND t.ticket_id = ticket) THEN
        PERFORM aftersales_internal.parts_not_found('ticket', ticket, tenant,
            'Log work on a ticket of the tenant: SELECT aftersales.log_work(42, 7, ''on_site'', ''2026-03-03 09:00+08'', ''2026-03-03 11:30+08'');');
    END IF;
    IF NOT EXISTS (SELECT FROM aftersales.engineers e WHERE e.tenant_id = tenant AND e.engineer_id = engineer) THEN
        PERFORM aftersales_internal.parts_not_found('engineer', engineer, tenant,
            'List the engineers with: SELECT engineer_id, name FROM aftersales.engineers;');
    END IF;
    -- the hours are costed: an engineer logs their own work only (managers
    -- and agents log anyone's)
    IF aftersales.current_member_kind() = 'engineer'
       AND engineer IS DISTINCT FROM (SELECT w.engineer_id FROM aftersales.whoami() w) THEN
        RAISE EXCEPTION 'member "%" (engineer) may not log work of engineer %', (SELECT w.member FROM aftersales.whoami() w), engineer
            USING ERRCODE = '42501', DETAIL = 'An engineer logs their own work only.',
                  HINT = 'Log it under your own engineer row (SELECT engineer_id FROM aftersales.whoami();), or ask a service manager.';
    END IF;
    IF kind IS NULL OR kind NOT IN ('travel', 'on_site', 'remote') THEN
        RAISE EXCEPTION 'invalid kind of work: "%"', pg_catalog.left(COALESCE(kind, 'NULL'), 64)
            USING ERRCODE = '22023',
                  HINT = 'Kinds are travel, on_site and remote: SELECT aftersales.log_work(42, 7, ''travel'', ''2026-03-03 08:15+08'', ''2026-03-03 09:00+08'');';
    END IF;
    IF started_at IS NULL OR ended_at IS NULL OR NOT pg_catalog.isfinite(started_at) OR NOT pg_catalog.isfinite(ended_at)
       OR ended_at <= started_at OR ended_at - started_at > interval '24 hours' THEN
        RAISE EXCEPTION 'invalid work period: % to %', COALESCE(started_at::text, 'NULL'), COALESCE(ended_at::text, 'NULL')
            USING ERRCODE = '22008',
                  HINT = 'A work log ends after it starts, at most 24 hours later: SELECT aftersales.log_work(42, 7, ''on_site'', ''2026-03-03 09:00+08'', ''2026-03-03 11:30+08'');';
    END IF;
    INSERT INTO aftersales.work_logs AS w (tenant_id, ticket_id, engineer_id, kind, started_at, ended_at, note)
    VALUES (tenant, ticket, engineer, kind, started_at, ended_at, note)
    RETURNING w.log_id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION aftersales.log_work(bigint, bigint, text, timestamptz, timestamptz, text) IS
  'Log an engineer''s work on a ticket: travel, on_site or remote, from started_at to ended_at; returns the log id';

-- Whether a ticket's charges of a kind are free: the unit in warranty on
-- the day the ticket was entered (units.warranty_ends, else installation
-- plus the model's warranty months less a day, as the quality KPIs count), or a service agreement of the customer
-- valid that day whose service items list the kind (labour, parts,
-- travel) or 'all'.
CREATE FUNCTION aftersales_internal.charge_basis(tenant bigint, ticket bigint, kind text) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN COALESCE(u.warranty_ends, (u.installed_on + pg_catalog.make_interval(months => um.warranty_months))::date - 1)
             >= (t.opened_at AT TIME ZONE 'Asia/Shanghai')::date THEN 'warranty'
        WHEN EXISTS (SELECT FROM aftersales.service_agreements a
                      WHERE a.tenant_id = t.tenant_id AND a.customer_id = t.customer_id
                        AND a.valid @> (t.opened_at AT TIME ZONE 'Asia/Shanghai')::date
                        AND (a.service_items && ARRAY['all', kind])) THEN 'agreement'
        ELSE 'chargeable' END
      FROM aftersales.tickets t
      LEFT JOIN aftersales.units u ON u.tenant_id = t.tenant_id AND u.unit_id = t.unit_id
      LEFT JOIN aftersales.product_models um ON um.tenant_id = u.tenant_id AND um.model_id = u.model_id
     WHERE t.tenant_id = tenant AND t.ticket_id = ticket
$$;
COMMENT ON FUNCTION aftersales_internal.charge_basis(bigint, bigint, text) IS
  'Internal: warranty, agreement or chargeable: whether a ticket''s charges of a kind (labour, parts, travel) are free';

-- (Re)prices a ticket: the charges derived from its work logs and its used
-- part orders are rebuilt; fees added by hand stay.  Refused once settled.
CREATE FUNCTION aftersales.price_ticket(ticket bigint) RETURNS numeric
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    s aftersales.parts_settings := aftersales_internal.parts_settings(tenant);
    b_labour text;
    b_parts text;
    b_travel text;
    total numeric;
BEGIN
    IF NOT EXISTS (SELECT FROM aftersales.tickets t WHERE t.tenant_id = tenant AND t.ticket_id = ticket) THEN
        PERFORM aftersales_internal.parts_not_found('ticket', ticket, tenant, 'Price a ticket of the tenant: SELECT aftersales.price_ticket(42);');
    END IF;
    IF EXISTS (SELECT FROM aftersales.settlements st WHERE st.tenant_id = tenant AND st.ticket_id = ticket) THEN
        RAISE EXCEPTION 'ticket % is settled', ticket
            USING ERRCODE = '55000', DETAIL = 'A settled ticket''s charges are fixed.',
                  HINT = 'Read them from aftersales.ticket_charges.';
    END IF;
    b_labour := aftersales_internal.charge_basis(tenant, ticket, 'labour');
    b_parts := aftersales_internal.charge_basis(tenant, ticket, 'parts');
    b_travel := aftersales_internal.charge_basis(tenant, ticket, 'travel');
    DELETE FROM aftersales.ticket_charges c WHERE c.tenant_id = tenant AND c.ticket_id = ticket AND c.basis <> 'manual';
    INSERT INTO aftersales.ticket_charges (tenant_id, ticket_id, kind, description, quantity, unit_price, unit_cost,
                                           chargeable, basis, amount, cost, log_id)
    SELECT tenant, ticket, x.kind, x.descr, x.qty, x.price, x.ucost, x.basis = 'chargeable', x.basis,
           CASE WHEN x.basis = 'chargeable' THEN pg_catalog.round(x.qty * x.price, 2) ELSE 0 END,
           pg_catalog.round(x.qty * x.ucost, 2), x.log_id
      FROM (SELECT w.log_id,
                   CASE WHEN w.kind = 'travel' THEN 'travel' ELSE 'labour' END AS kind,
                   CASE w.kind WHEN 'travel' THEN 'travel (visit)' WHEN 'on_site' THEN 'on-site work (hours)' ELSE 'remote work (hours)' END AS descr,
                   CASE WHEN w.kind = 'travel' THEN 1::numeric
                        ELSE GREATEST(pg_catalog.round((EXTRACT(epoch FROM w.ended_at - w.started_at) / 3600)::numeric, 2), 0.01) END AS qty,
                   CASE WHEN w.kind = 'travel' THEN s.travel_price_per_visit ELSE s.labour_price_per_hour END AS price,
                   CASE WHEN w.kind = 'travel'
                        THEN pg_catalog.round((EXTRACT(epoch FROM w.ended_at - w.started_at) / 3600)::numeric
                                              * (s.labour_cost_per_hour + s.travel_cost_per_hour), 2)
                        ELSE s.labour_cost_per_hour END AS ucost,
                   CASE WHEN w.kind = 'travel' THEN b_travel ELSE b_labour END AS basis
              FROM aftersales.work_logs w
             WHERE w.tenant_id = tenant AND w.ticket_id = ticket
             ORDER BY w.log_id) x;
    INSERT INTO aftersales.ticket_charges (tenant_id, ticket_id, kind, description, quantity, unit_price, unit_cost,
                                           chargeable, basis, amount, cost, order_id, line_no)
    SELECT tenant, ticket, 'part', p.part_no || ' ' || p.name, l.quantity,
           COALESCE(p.unit_price, pg_catalog.round(p.unit_cost * (1 + s.part_markup), 2)), p.unit_cost,
           b_parts = 'chargeable', b_parts,
           CASE WHEN b_parts = 'chargeable'
                THEN pg_catalog.round(l.quantity * COALESCE(p.unit_price, pg_catalog.round(p.unit_cost * (1 + s.part_markup), 2)), 2)
                ELSE 0 END,
           pg_catalog.round(l.quantity * p.unit_cost, 2), o.order_id, l.line_no
      FROM aftersales.part_orders o
      JOIN aftersales.part_order_lines l ON l.tenant_id = o.tenant_id AND l.order_id = o.order_id
      JOIN aftersales.parts p ON p.tenant_id = l.tenant_id AND p.part_id = l.part_id
     WHERE o.tenant_id = tenant AND o.ticket_id = ticket AND o.state = 'used'
     ORDER BY o.order_id, l.line_no;
    SELECT COALESCE(pg_catalog.sum(c.amount), 0) INTO total
      FROM aftersales.ticket_charges c WHERE c.tenant_id = tenant AND c.ticket_id = ticket;
    RETURN total;
END
$$;
COMMENT ON FUNCTION aftersales.price_ticket(bigint) IS
  'Rebuild a ticket''s charges from its work logs (labour per hour, travel per visit) and its used part orders, free under warranty or a covering service agreement; fees added by hand stay; returns the amount charged';

CREATE FUNCTION aftersales.add_fee(ticket bigint, description text, amount numeric, chargeable boolean DEFAULT true)
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    id bigint;
BEGIN
    IF NOT EXISTS (SELECT FROM aftersales.tickets t WHERE t.tenant_id = tenant AND t.ticket_id = ticket) THEN
        PERFORM aftersales_internal.parts_not_found('ticket', ticket, tenant, 'Add a fee to a ticket of the tenant: SELECT aftersales.add_fee(42, ''disposal'', 50);');
    END IF;
    IF EXISTS (SELECT FROM aftersales.settlements st WHERE st.tenant_id = tenant AND st.ticket_id = ticket) THEN
        RAISE EXCEPTION 'ticket % is settled', ticket
            USING ERRCODE = '55000', DETAIL = 'A settled ticket''s charges are fixed.', HINT = 'Read them from aftersales.ticket_charges.';
    END IF;
    IF description IS NULL OR pg_catalog.btrim(description) = '' OR amount IS NULL OR NOT (amount >= 0 AND amount < 1e10) THEN
        RAISE EXCEPTION 'invalid fee: "%", %', pg_catalog.left(COALESCE(description, 'NULL'), 64), COALESCE(amount::text, 'NULL')
            USING ERRCODE = '22023', HINT = 'A fee has a description and an amount of zero or more: SELECT aftersales.add_fee(42, ''disposal'', 50);';
    END IF;
    INSERT INTO aftersales.ticket_charges AS c (tenant_id, ticket_id, kind, description, quantity, unit_price, unit_cost,
                                                chargeable, basis, amount, cost)
    VALUES (tenant, ticket, 'fee', description, 1, amount, 0, COALESCE(chargeable, true), 'manual',
            CASE WHEN COALESCE(chargeable, true) THEN pg_catalog.round(amount, 2) ELSE 0 END, 0)
    RETURNING c.charge_id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION aftersales.add_fee(bigint, text, numeric, boolean) IS 'Add a fee by hand to a ticket''s charges; returns the charge id';

CREATE FUNCTION aftersales.settle_ticket(ticket bigint, at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    st aftersales.ticket_status;
    id bigint;
BEGIN
    PERFORM aftersales_internal.check_at(at, 'settle_ticket');
    SELECT t.status INTO st FROM aftersales.tickets t WHERE t.tenant_id = tenant AND t.ticket_id = ticket FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        PERFORM aftersales_internal.parts_not_found('ticket', ticket, tenant, 'Settle a ticket of the tenant: SELECT aftersales.settle_ticket(42);');
    END IF;
    IF st NOT IN ('resolved', 'closed') THEN
        RAISE EXCEPTION 'ticket % is %: only a resolved or closed ticket is settled', ticket, st
            USING ERRCODE = '55000', HINT = 'Resolve the ticket first: SELECT aftersales.resolve_ticket(42);';
    END IF;
    IF EXISTS (SELECT FROM aftersales.settlements s WHERE s.tenant_id = tenant AND s.ticket_id = ticket) THEN
        RAISE EXCEPTION 'ticket % is already settled', ticket
            USING ERRCODE = '55000', HINT = 'Read the settlement: SELECT * FROM aftersales.settlements WHERE ticket_id = 42;';
    END IF;
    PERFORM aftersales.price_ticket(ticket);
    INSERT INTO aftersales.settlements AS s (tenant_id, ticket_id, settled_at, amount, cost)
    SELECT tenant, ticket, at, COALESCE(pg_catalog.sum(c.amount), 0), COALESCE(pg_catalog.sum(c.cost), 0)
      FROM aftersales.ticket_charges c WHERE c.tenant_id = tenant AND c.ticket_id = ticket
    RETURNING s.settlement_id INTO id;
    UPDATE aftersales.ticket_charges c SET settlement_id = id WHERE c.tenant_id = tenant AND c.ticket_id = ticket;
    RETURN id;
END
$$;
COMMENT ON FUNCTION aftersales.settle_ticket(bigint, timestamptz) IS
  'Settle (结算) a resolved or closed ticket: prices it, records the settlement and fixes its charges; returns the settlement id';

-- ---------------------------------------------------------------------------
-- The alerts of parts, raised by the sweep: an order arrived and not
-- collected within parts_settings.uncollected_alert_hours
-- (part_not_collected), an approved order not shipped by its ship_due_at
-- (part_not_shipped).  level = the order id, so each order is announced
-- once per kind: the alerts_once constraint (ON CONFLICT DO NOTHING) holds
-- it whatever two sweeps do at once.  The candidates are the orders in
-- state arrived, or approved and reserved, (partial indexes), so the cost
-- is the open orders', not the history's.
CREATE FUNCTION aftersales_internal.sweep_parts(now timestamptz, tenant bigint DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer := 0;
    a record;
BEGIN
    FOR a IN
        WITH due AS (
            SELECT o.tenant_id, o.ticket_id, o.order_id, 'part_not_collected'::text AS kind,
                   o.arrived_at + pg_catalog.make_interval(secs => (aftersales_internal.parts_settings(o.tenant_id)).uncollected_alert_hours * 3600) AS due_at,
                   pg_catalog.jsonb_build_object('order', o.order_id, 'arrived_at', o.arrived_at, 'warehouse', o.source_warehouse_id,
                                                 'engineer', o.engineer_id) AS detail
              FROM aftersales.part_orders o
             WHERE o.state = 'arrived' AND o.arrived_at <= sweep_parts.now
               AND (sweep_parts.tenant IS NULL OR o.tenant_id = sweep_parts.tenant)
            UNION ALL
            SELECT o.tenant_id, o.ticket_id, o.order_id, 'part_not_shipped', o.ship_due_at,
                   pg_catalog.jsonb_build_object('order', o.order_id, 'approved_at', o.approved_at, 'state', o.state,
                                                 'warehouse', o.warehouse_id)
              FROM aftersales.part_orders o
             WHERE o.state IN ('approved', 'reserved') AND o.ship_due_at <= sweep_parts.now
               AND (sweep_parts.tenant IS NULL OR o.tenant_id = sweep_parts.tenant)
        )
        INSERT INTO aftersales.alerts AS al (tenant_id, ticket_id, clock, kind, level, role, due_at, raised_at, detail)
        SELECT d.tenant_id, d.ticket_id, 'ticket', d.kind, d.order_id, 'supervisor', d.due_at, sweep_parts.now, d.detail
          FROM due d
         WHERE d.due_at <= sweep_parts.now
           AND NOT EXISTS (SELECT FROM aftersales.alerts x
                            WHERE x.tenant_id = d.tenant_id AND x.ticket_id = d.ticket_id AND x.clock = 'ticket'
                              AND x.kind = d.kind AND x.level = d.order_id)
         ORDER BY d.due_at, d.order_id
        ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING
        RETURNING al.tenant_id, al.alert_id, al.ticket_id, al.kind, al.level
    LOOP
        PERFORM pg_catalog.pg_notify('aftersales_alerts', pg_catalog.json_build_object(
            'tenant', a.tenant_id, 'alert', a.alert_id, 'ticket', a.ticket_id, 'clock', 'ticket', 'kind', a.kind,
            'level', a.level)::text);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION aftersales_internal.sweep_parts(timestamptz, bigint) IS
  'Internal, called by aftersales.sweep(): raises part_not_collected and part_not_shipped once per order that came due at now; returns how many';

-- ---------------------------------------------------------------------------
-- The check: stock is the sum of its ledger, reservations match the
-- reserved orders, and every order, return and claim is the replay of its
-- log through the state machine (aftersales_internal.state_machine_check).

CREATE FUNCTION aftersales.check_parts(tenant bigint DEFAULT NULL)
    RETURNS TABLE (tenant_id bigint, object text, id text, problem text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    -- stock against the sum of its movements
    SELECT COALESCE(s.tenant_id, m.tenant_id), 'stock',
           COALESCE(s.warehouse_id, m.warehouse_id)::text || '/' || COALESCE(s.part_id, m.part_id)::text,
           pg_catalog.format('on hand %s, reserved %s, moves %s; the ledger sums to %s, %s, %s',
                             s.on_hand, s.reserved, s.moves, m.on_hand, m.reserved, m.n)
      FROM (SELECT st.* FROM aftersales.stock st WHERE check_parts.tenant IS NULL OR st.tenant_id = check_parts.tenant) s
      FULL JOIN (SELECT mv.tenant_id, mv.warehouse_id, mv.part_id, pg_catalog.sum(mv.on_hand_delta) AS on_hand,
                        pg_catalog.sum(mv.reserved_delta) AS reserved, pg_catalog.count(*) AS n
                   FROM aftersales.stock_moves mv
                  WHERE check_parts.tenant IS NULL OR mv.tenant_id = check_parts.tenant
                  GROUP BY 1, 2, 3) m
        ON m.tenant_id = s.tenant_id AND m.warehouse_id = s.warehouse_id AND m.part_id = s.part_id
     WHERE s.on_hand IS DISTINCT FROM m.on_hand::integer OR s.reserved IS DISTINCT FROM m.reserved::integer
        OR s.moves IS DISTINCT FROM m.n
    UNION ALL
    -- reserved stock against the orders holding a reservation
    SELECT COALESCE(s.tenant_id, r.tenant_id), 'reservation',
           COALESCE(s.warehouse_id, r.warehouse_id)::text || '/' || COALESCE(s.part_id, r.part_id)::text,
           pg_catalog.format('reserved %s, but the reserved orders hold %s', COALESCE(s.reserved, 0), COALESCE(r.q, 0))
      FROM (SELECT st.* FROM aftersales.stock st
             WHERE st.reserved > 0 AND (check_parts.tenant IS NULL OR st.tenant_id = check_parts.tenant)) s
      FULL JOIN (SELECT o.tenant_id, o.source_warehouse_id AS warehouse_id, l.part_id, pg_catalog.sum(l.quantity) AS q
                   FROM aftersales.part_orders o
                   JOIN aftersales.part_order_lines l ON l.tenant_id = o.tenant_id AND l.order_id = o.order_id
                  WHERE o.state = 'reserved' AND (check_parts.tenant IS NULL OR o.tenant_id = check_parts.tenant)
                  GROUP BY 1, 2, 3) r
        ON r.tenant_id = s.tenant_id AND r.warehouse_id = s.warehouse_id AND r.part_id = s.part_id
     WHERE COALESCE(s.reserved, 0) <> COALESCE(r.q, 0)
    UNION ALL
    -- each order, old-part return and claim is the replay of its log
    -- (the engine's check: a chain of listed transitions, and the row's
    -- state, last event and fields as the log rebuilds them)
    SELECT tn.tenant_id, m.machine, c.id::text, c.problem
      FROM aftersales.tenants tn
     CROSS JOIN (VALUES ('part_order', 'aftersales.part_orders'::regclass, 'aftersales.part_order_events'::regclass, 'order_id'),
                        ('part_return', 'aftersales.part_returns'::regclass, 'aftersales.part_return_events'::regclass, 'return_id'),
                        ('part_claim', 'aftersales.part_claims'::regclass, 'aftersales.part_claim_events'::regclass, 'claim_id'))
           AS m (machine, objects, log, id_column)
     CROSS JOIN LATERAL aftersales_internal.state_machine_check(m.machine, m.objects, m.log, m.id_column, tn.tenant_id) c
     WHERE check_parts.tenant IS NULL OR tn.tenant_id = check_parts.tenant
$$;

COMMENT ON FUNCTION aftersales.check_parts(bigint) IS
  'Proves the parts module''s invariants: stock equals the sum of its ledger, reserved stock equals what reserved orders hold, and every order, old-part return and claim is the replay of its event log; returns one row per problem, none when sound';
