-- aftersales install script, part 82: spare parts, labour and service
-- costs.  What there is (parts, warehouses, stock and its ledger), what is
-- asked for (part orders and their lines), what comes back (old parts
-- returned to the factory, claims against the supplier), and what a ticket
-- costs and is charged (work logs, charges, settlements).
--
-- Stock is a ledger: every movement is a row of stock_moves, and an AFTER
-- INSERT trigger applies it to the stock row of its warehouse and part, so
-- stock is the sum of its movements by construction (check_parts() proves
-- it).  Nobody is granted a write on stock itself.  CHECKs keep on hand
-- and reserved non-negative and reserved within on hand; a movement that
-- would break them is refused with an error naming the part and the
-- warehouse, and writes nothing.
--
-- Part orders, old-part returns and claims are state machines of the
-- generic engine (aftersales.state_transitions, machines part_order,
-- part_return and part_claim; their rows are in 82_parts_transitions.sql):
-- each change names its event, the guard trigger judges it, the log
-- trigger appends the event with its changes, and the object can be
-- replayed from its log.

-- ---------------------------------------------------------------------------
-- Settings of the module, per tenant; tenant 1's row holds the defaults
-- that a tenant without a row of its own falls back to.

CREATE TABLE aftersales.parts_settings (
    tenant_id                bigint       NOT NULL DEFAULT aftersales.current_tenant()
                                          REFERENCES aftersales.tenants,
    uncollected_alert_hours  numeric(8,2) NOT NULL DEFAULT 24 CHECK (uncollected_alert_hours > 0),
    ship_target_hours        numeric(8,2) NOT NULL DEFAULT 48 CHECK (ship_target_hours > 0),
    labour_price_per_hour    numeric(12,2) NOT NULL DEFAULT 120 CHECK (labour_price_per_hour >= 0),
    labour_cost_per_hour     numeric(12,2) NOT NULL DEFAULT 60 CHECK (labour_cost_per_hour >= 0),
    travel_price_per_visit   numeric(12,2) NOT NULL DEFAULT 80 CHECK (travel_price_per_visit >= 0),
    travel_cost_per_hour     numeric(12,2) NOT NULL DEFAULT 40 CHECK (travel_cost_per_hour >= 0),
    part_markup              numeric(6,4) NOT NULL DEFAULT 0.3 CHECK (part_markup >= 0),
    on_duty_hours_per_day    numeric(4,2) NOT NULL DEFAULT 8 CHECK (on_duty_hours_per_day > 0 AND on_duty_hours_per_day <= 24),
    customised               boolean      NOT NULL DEFAULT true,
    PRIMARY KEY (tenant_id)
);
COMMENT ON TABLE aftersales.parts_settings IS
  'Spare-parts and cost settings per tenant; tenant 1''s row holds the defaults a tenant without a row falls back to';
COMMENT ON COLUMN aftersales.parts_settings.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.parts_settings.uncollected_alert_hours IS 'A part order arrived and not collected this many hours raises alert part_not_collected (default 24)';
COMMENT ON COLUMN aftersales.parts_settings.ship_target_hours IS 'A part order is to ship within this many hours of its approval, else alert part_not_shipped and the order is unsatisfied (default 48)';
COMMENT ON COLUMN aftersales.parts_settings.labour_price_per_hour IS 'Labour charged to the customer per hour of on-site or remote work';
COMMENT ON COLUMN aftersales.parts_settings.labour_cost_per_hour IS 'Internal cost of an engineer''s hour (labour and travel time)';
COMMENT ON COLUMN aftersales.parts_settings.travel_price_per_visit IS 'Travel charged to the customer per visit (a travel work log)';
COMMENT ON COLUMN aftersales.parts_settings.travel_cost_per_hour IS 'Internal cost of travel per hour, on top of the engineer''s hour (vehicle, fuel)';
COMMENT ON COLUMN aftersales.parts_settings.part_markup IS 'Parts are charged at unit cost times (1 + markup) unless the part has a price';
COMMENT ON COLUMN aftersales.parts_settings.on_duty_hours_per_day IS 'On-duty hours of an engineer per working day of the tenant''s default calendar, for utilisation until shift calendars exist';
COMMENT ON COLUMN aftersales.parts_settings.customised IS 'False for the shipped row never changed';
INSERT INTO aftersales.parts_settings (tenant_id, customised) VALUES (1, false);
SELECT pg_catalog.pg_extension_config_dump('aftersales.parts_settings', 'WHERE customised');

-- ---------------------------------------------------------------------------
-- Master data

CREATE TABLE aftersales.parts (
    tenant_id        bigint        NOT NULL DEFAULT aftersales.current_tenant()
                                   REFERENCES aftersales.tenants,
    part_id          bigint        GENERATED ALWAYS AS IDENTITY,
    part_no          text          NOT NULL CHECK (part_no <> '' AND pg_catalog.length(part_no) <= 64),
    name             text          NOT NULL CHECK (name <> ''),
    part_class       text          NOT NULL DEFAULT 'C' CHECK (part_class IN ('A', 'B', 'C')),
    unit_cost        numeric(12,2) NOT NULL CHECK (unit_cost >= 0),
    unit_price       numeric(12,2) CHECK (unit_price >= 0),
    unit_weight_kg   numeric(10,3) NOT NULL DEFAULT 0 CHECK (unit_weight_kg >= 0),
    return_required  boolean       NOT NULL DEFAULT false,
    supplier_org_id  bigint,
    active           boolean       NOT NULL DEFAULT true,
    PRIMARY KEY (tenant_id, part_id),
    UNIQUE (tenant_id, part_no),
    FOREIGN KEY (tenant_id, supplier_org_id) REFERENCES aftersales.organisations (tenant_id, org_id)
);
COMMENT ON TABLE aftersales.parts IS 'Spare parts catalogue (备件): number, class, cost, weight, whether the old part goes back to the factory';
COMMENT ON COLUMN aftersales.parts.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.parts.part_id IS 'Part id';
COMMENT ON COLUMN aftersales.parts.part_no IS 'Part number, unique per tenant';
COMMENT ON COLUMN aftersales.parts.name IS 'Name';
COMMENT ON COLUMN aftersales.parts.part_class IS 'A (critical, expensive), B or C (common, cheap): the B/C-class fill rate watches B and C';
COMMENT ON COLUMN aftersales.parts.unit_cost IS 'Cost of one unit';
COMMENT ON COLUMN aftersales.parts.unit_price IS 'Price of one unit charged to a customer; NULL: unit cost with the tenant''s markup';
COMMENT ON COLUMN aftersales.parts.unit_weight_kg IS 'Weight of one unit in kilograms, for tonnage';
COMMENT ON COLUMN aftersales.parts.return_required IS 'The replaced old part must go back to the factory (旧件返厂)';
COMMENT ON COLUMN aftersales.parts.supplier_org_id IS 'Supplier organisation claims are filed against';
COMMENT ON COLUMN aftersales.parts.active IS 'False once the part can no longer be ordered';

CREATE TABLE aftersales.part_models (
    tenant_id  bigint NOT NULL,
    part_id    bigint NOT NULL,
    model_id   bigint NOT NULL,
    PRIMARY KEY (tenant_id, part_id, model_id),
    FOREIGN KEY (tenant_id, part_id) REFERENCES aftersales.parts (tenant_id, part_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, model_id) REFERENCES aftersales.product_models (tenant_id, model_id)
);
CREATE INDEX part_models_model_idx ON aftersales.part_models (tenant_id, model_id);
COMMENT ON TABLE aftersales.part_models IS 'Which product models a part fits';
COMMENT ON COLUMN aftersales.part_models.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.part_models.part_id IS 'Part';
COMMENT ON COLUMN aftersales.part_models.model_id IS 'Product model it fits';

-- owner_org_id, not org_id: every member of a tenant sees every warehouse
-- (an outlet orders from the central warehouse), so the organisation
-- scope of row security does not apply to them.
CREATE TABLE aftersales.warehouses (
    tenant_id     bigint NOT NULL DEFAULT aftersales.current_tenant()
                         REFERENCES aftersales.tenants,
    warehouse_id  bigint GENERATED ALWAYS AS IDENTITY,
    code          text   NOT NULL CHECK (code <> '' AND pg_catalog.length(code) <= 64),
    name          text   NOT NULL CHECK (name <> ''),
    kind          text   NOT NULL CHECK (kind IN ('central', 'regional', 'outlet')),
    owner_org_id  bigint NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    PRIMARY KEY (tenant_id, warehouse_id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id, owner_org_id) REFERENCES aftersales.organisations (tenant_id, org_id)
);
COMMENT ON TABLE aftersales.warehouses IS 'Spare-parts warehouses: central, regional and outlet, each run by an organisation';
COMMENT ON COLUMN aftersales.warehouses.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.warehouses.warehouse_id IS 'Warehouse id';
COMMENT ON COLUMN aftersales.warehouses.code IS 'Code, unique per tenant';
COMMENT ON COLUMN aftersales.warehouses.name IS 'Name';
COMMENT ON COLUMN aftersales.warehouses.kind IS 'central, regional or outlet';
COMMENT ON COLUMN aftersales.warehouses.owner_org_id IS 'Organisation that runs the warehouse (its region is the warehouse''s)';
COMMENT ON COLUMN aftersales.warehouses.active IS 'False once the warehouse no longer ships';

CREATE TABLE aftersales.stock (
    tenant_id     bigint  NOT NULL,
    warehouse_id  bigint  NOT NULL,
    part_id       bigint  NOT NULL,
    on_hand       integer NOT NULL DEFAULT 0 CONSTRAINT stock_on_hand_check CHECK (on_hand >= 0),
    reserved      integer NOT NULL DEFAULT 0 CONSTRAINT stock_reserved_check CHECK (reserved >= 0 AND reserved <= on_hand),
    moves         bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, warehouse_id, part_id),
    FOREIGN KEY (tenant_id, warehouse_id) REFERENCES aftersales.warehouses (tenant_id, warehouse_id),
    FOREIGN KEY (tenant_id, part_id) REFERENCES aftersales.parts (tenant_id, part_id)
);
COMMENT ON TABLE aftersales.stock IS
  'Stock per warehouse and part, maintained from the ledger aftersales.stock_moves (never written directly): on hand, reserved for part orders, available = on hand - reserved';
COMMENT ON COLUMN aftersales.stock.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.stock.warehouse_id IS 'Warehouse';
COMMENT ON COLUMN aftersales.stock.part_id IS 'Part';
COMMENT ON COLUMN aftersales.stock.on_hand IS 'Units in the warehouse: the sum of the ledger''s on_hand_delta; never negative';
COMMENT ON COLUMN aftersales.stock.reserved IS 'Units of on hand reserved for part orders not yet shipped: the sum of reserved_delta; never above on hand';
COMMENT ON COLUMN aftersales.stock.moves IS 'Ledger rows applied';

CREATE TABLE aftersales.stock_moves (
    tenant_id      bigint      NOT NULL DEFAULT aftersales.current_tenant(),
    move_id        bigint      GENERATED ALWAYS AS IDENTITY,
    warehouse_id   bigint      NOT NULL,
    part_id        bigint      NOT NULL,
    kind           text        NOT NULL CHECK (kind IN ('receipt', 'adjustment', 'reserve', 'release', 'ship', 'return_unused')),
    on_hand_delta  integer     NOT NULL,
    reserved_delta integer     NOT NULL,
    order_id       bigint,
    at             timestamptz NOT NULL,
    actor          text        NOT NULL DEFAULT aftersales.actor(),
    reason         text,
    PRIMARY KEY (tenant_id, move_id),
    FOREIGN KEY (tenant_id, warehouse_id) REFERENCES aftersales.warehouses (tenant_id, warehouse_id),
    FOREIGN KEY (tenant_id, part_id) REFERENCES aftersales.parts (tenant_id, part_id),
    CHECK (on_hand_delta <> 0 OR reserved_delta <> 0),
    CHECK (kind <> 'receipt' OR (on_hand_delta > 0 AND reserved_delta = 0)),
    CHECK (kind <> 'reserve' OR (on_hand_delta = 0 AND reserved_delta > 0 AND order_id IS NOT NULL)),
    CHECK (kind <> 'release' OR (on_hand_delta = 0 AND reserved_delta < 0 AND order_id IS NOT NULL)),
    CHECK (kind <> 'ship' OR (on_hand_delta < 0 AND reserved_delta = on_hand_delta AND order_id IS NOT NULL)),
    CHECK (kind <> 'return_unused' OR (on_hand_delta > 0 AND reserved_delta = 0 AND order_id IS NOT NULL)),
    CHECK (kind <> 'adjustment' OR (reserved_delta = 0 AND reason IS NOT NULL))
);
CREATE INDEX stock_moves_stock_idx ON aftersales.stock_moves (tenant_id, warehouse_id, part_id);
COMMENT ON TABLE aftersales.stock_moves IS
  'Stock ledger, append-only: every movement of stock (receipt, adjustment, reservation for an order, its release, shipment, return of an unused part); stock is their sum';
COMMENT ON COLUMN aftersales.stock_moves.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.stock_moves.move_id IS 'Movement id, increasing';
COMMENT ON COLUMN aftersales.stock_moves.warehouse_id IS 'Warehouse';
COMMENT ON COLUMN aftersales.stock_moves.part_id IS 'Part';
COMMENT ON COLUMN aftersales.stock_moves.kind IS 'receipt, adjustment (a count correction, with a reason), reserve, release, ship, return_unused';
COMMENT ON COLUMN aftersales.stock_moves.on_hand_delta IS 'Change of on hand';
COMMENT ON COLUMN aftersales.stock_moves.reserved_delta IS 'Change of reserved';
COMMENT ON COLUMN aftersales.stock_moves.order_id IS 'Part order concerned (reserve, release, ship, return_unused)';
COMMENT ON COLUMN aftersales.stock_moves.at IS 'When it happened';
COMMENT ON COLUMN aftersales.stock_moves.actor IS 'Who moved it';
COMMENT ON COLUMN aftersales.stock_moves.reason IS 'Why (required for an adjustment)';

-- Applies a movement to its stock row.  SECURITY DEFINER: the ledger is
-- the only way stock changes, so no caller is granted a write on stock;
-- the tenant is the movement's own, which row security checked on INSERT.
-- The UPDATE re-reads a row another transaction changed (READ COMMITTED),
-- so two reservations of the last unit cannot both pass: the second finds
-- nothing available and is told so.
CREATE FUNCTION aftersales_internal.stock_apply() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p_no text;
    w_code text;
    cur aftersales.stock;
BEGIN
    -- the stock row exists but for the first movement of a part in a
    -- warehouse: update first, create it only when missing
    FOR i IN 1 .. 2 LOOP
        UPDATE aftersales.stock s
           SET on_hand = s.on_hand + NEW.on_hand_delta, reserved = s.reserved + NEW.reserved_delta, moves = s.moves + 1
         WHERE s.tenant_id = NEW.tenant_id AND s.warehouse_id = NEW.warehouse_id AND s.part_id = NEW.part_id
           AND s.on_hand + NEW.on_hand_delta >= 0 AND s.reserved + NEW.reserved_delta >= 0
           AND s.reserved + NEW.reserved_delta <= s.on_hand + NEW.on_hand_delta
        RETURNING s.* INTO cur;
        EXIT WHEN FOUND OR i = 2;
        INSERT INTO aftersales.stock AS s (tenant_id, warehouse_id, part_id)
        VALUES (NEW.tenant_id, NEW.warehouse_id, NEW.part_id)
        ON CONFLICT (tenant_id, warehouse_id, part_id) DO NOTHING;
    END LOOP;
    IF cur.tenant_id IS NULL THEN
        SELECT p.part_no INTO p_no FROM aftersales.parts p WHERE p.tenant_id = NEW.tenant_id AND p.part_id = NEW.part_id;
        SELECT w.code INTO w_code FROM aftersales.warehouses w WHERE w.tenant_id = NEW.tenant_id AND w.warehouse_id = NEW.warehouse_id;
        SELECT * INTO cur FROM aftersales.stock st
         WHERE st.tenant_id = NEW.tenant_id AND st.warehouse_id = NEW.warehouse_id AND st.part_id = NEW.part_id;
        RAISE EXCEPTION 'insufficient stock of part % in warehouse %', p_no, w_code
            USING ERRCODE = '23514',
                  DETAIL = pg_catalog.format('On hand %s, reserved %s: a movement (%s) of %s on hand and %s reserved would leave on hand or available below zero.',
                                             cur.on_hand, cur.reserved, NEW.kind, NEW.on_hand_delta, NEW.reserved_delta),
                  HINT = 'Reserve from another warehouse (a transfer), or receive stock first: SELECT aftersales.receive_stock(warehouse => 1, part => 7, quantity => 10);';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales_internal.stock_apply() IS
  'Trigger: applies a stock movement to aftersales.stock; refuses one that would leave on hand or available stock negative';
CREATE TRIGGER stock_apply AFTER INSERT ON aftersales.stock_moves
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.stock_apply();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON aftersales.stock_moves
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.append_only('Correct stock with a new movement, for example: SELECT aftersales.adjust_stock(1, 7, -2, ''stocktaking: 2 damaged'');');
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON aftersales.stock_moves
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales_internal.append_only('Correct stock with a new movement, for example: SELECT aftersales.adjust_stock(1, 7, -2, ''stocktaking: 2 damaged'');');

-- ---------------------------------------------------------------------------
-- Part orders

CREATE TABLE aftersales.part_orders (
    tenant_id            bigint      NOT NULL DEFAULT aftersales.current_tenant(),
    order_id             bigint      GENERATED ALWAYS AS IDENTITY,
    ticket_id            bigint      NOT NULL,
    org_id               bigint      NOT NULL,
    warehouse_id         bigint      NOT NULL,
    source_warehouse_id  bigint,
    engineer_id          bigint,
    holds_ticket         boolean     NOT NULL DEFAULT false,
    requested_at         timestamptz NOT NULL,
    approved_at          timestamptz,
    ship_due_at          timestamptz,
    reserved_at          timestamptz,
    shipped_at           timestamptz,
    carrier              text,
    tracking_no          text,
    arrived_at           timestamptz,
    collected_at         timestamptz,
    finished_at          timestamptz,
    cancelled_at         timestamptz,
    weight_kg            numeric(12,3) NOT NULL DEFAULT 0,
    state                text        NOT NULL DEFAULT '',
    event                text,
    event_at             timestamptz,
    event_by             text,
    event_reason         text,
    event_seq            integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, order_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES aftersales.organisations (tenant_id, org_id),
    FOREIGN KEY (tenant_id, warehouse_id) REFERENCES aftersales.warehouses (tenant_id, warehouse_id),
    FOREIGN KEY (tenant_id, source_warehouse_id) REFERENCES aftersales.warehouses (tenant_id, warehouse_id),
    FOREIGN KEY (tenant_id, engineer_id) REFERENCES aftersales.engineers (tenant_id, engineer_id),
    CHECK (tracking_no IS NULL OR carrier IS NOT NULL),
    CHECK (state NOT IN ('shipped', 'arrived', 'collected', 'used', 'returned') OR (shipped_at IS NOT NULL AND source_warehouse_id IS NOT NULL)),
    CHECK (state NOT IN ('arrived', 'collected', 'used', 'returned') OR arrived_at >= shipped_at),
    CHECK (state NOT IN ('collected', 'used', 'returned') OR collected_at >= arrived_at)
);
CREATE INDEX part_orders_ticket_idx ON aftersales.part_orders (tenant_id, ticket_id);
CREATE INDEX part_orders_arrived_idx ON aftersales.part_orders (arrived_at) WHERE state = 'arrived';
CREATE INDEX part_orders_unshipped_idx ON aftersales.part_orders (ship_due_at) WHERE state IN ('approved', 'reserved');
COMMENT ON TABLE aftersales.part_orders IS
  'Part orders (备件申请): parts asked for a ticket, through request, approval, reservation, shipment, arrival at the outlet, collection by the engineer, use or return; held to the part_order state machine';
COMMENT ON COLUMN aftersales.part_orders.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.part_orders.order_id IS 'Order id';
COMMENT ON COLUMN aftersales.part_orders.ticket_id IS 'Ticket the parts are for';
COMMENT ON COLUMN aftersales.part_orders.org_id IS 'Organisation asking (the ticket''s): row security scopes orders by it';
COMMENT ON COLUMN aftersales.part_orders.warehouse_id IS 'Warehouse asked first';
COMMENT ON COLUMN aftersales.part_orders.source_warehouse_id IS 'Warehouse the parts were reserved and shipped from; another than the one asked is a transfer';
COMMENT ON COLUMN aftersales.part_orders.engineer_id IS 'Engineer who collects the parts (the ticket''s assignee at request)';
COMMENT ON COLUMN aftersales.part_orders.holds_ticket IS 'The ticket was put on hold waiting for this order; collecting (or cancelling) it resumes the ticket when no other order holds it';
COMMENT ON COLUMN aftersales.part_orders.requested_at IS 'When the parts were asked for';
COMMENT ON COLUMN aftersales.part_orders.approved_at IS 'When the order was approved';
COMMENT ON COLUMN aftersales.part_orders.ship_due_at IS 'Approval plus the ship target: shipping later makes the order unsatisfied and raises part_not_shipped';
COMMENT ON COLUMN aftersales.part_orders.reserved_at IS 'When the stock was reserved';
COMMENT ON COLUMN aftersales.part_orders.shipped_at IS 'When it was shipped';
COMMENT ON COLUMN aftersales.part_orders.carrier IS 'Carrier';
COMMENT ON COLUMN aftersales.part_orders.tracking_no IS 'Carrier''s tracking number';
COMMENT ON COLUMN aftersales.part_orders.arrived_at IS 'When it arrived at the outlet';
COMMENT ON COLUMN aftersales.part_orders.collected_at IS 'When the engineer signed for it (签收)';
COMMENT ON COLUMN aftersales.part_orders.finished_at IS 'When the parts were used on the ticket or returned unused';
COMMENT ON COLUMN aftersales.part_orders.cancelled_at IS 'When the order was cancelled';
COMMENT ON COLUMN aftersales.part_orders.weight_kg IS 'Weight of the order''s lines in kilograms, for tonnage';
COMMENT ON COLUMN aftersales.part_orders.state IS 'requested, approved, rejected, reserved, shipped, arrived, collected, used, returned or cancelled';
COMMENT ON COLUMN aftersales.part_orders.event IS 'Latest event (the one being written)';
COMMENT ON COLUMN aftersales.part_orders.event_at IS 'When the latest event happened';
COMMENT ON COLUMN aftersales.part_orders.event_by IS 'Who made the latest event (the authenticated actor)';
COMMENT ON COLUMN aftersales.part_orders.event_reason IS 'Why (required for reject, cancel and return)';
COMMENT ON COLUMN aftersales.part_orders.event_seq IS 'Number of events so far: seq of the latest row in part_order_events';

CREATE TABLE aftersales.part_order_lines (
    tenant_id  bigint  NOT NULL,
    order_id   bigint  NOT NULL,
    line_no    integer NOT NULL CHECK (line_no > 0),
    part_id    bigint  NOT NULL,
    quantity   integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (tenant_id, order_id, line_no),
    UNIQUE (tenant_id, order_id, part_id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES aftersales.part_orders (tenant_id, order_id),
    FOREIGN KEY (tenant_id, part_id) REFERENCES aftersales.parts (tenant_id, part_id)
);
COMMENT ON TABLE aftersales.part_order_lines IS 'Lines of a part order: which part, how many; fixed at request';
COMMENT ON COLUMN aftersales.part_order_lines.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.part_order_lines.order_id IS 'Order';
COMMENT ON COLUMN aftersales.part_order_lines.line_no IS 'Line number, from 1';
COMMENT ON COLUMN aftersales.part_order_lines.part_id IS 'Part';
COMMENT ON COLUMN aftersales.part_order_lines.quantity IS 'Units asked for';
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON aftersales.part_order_lines
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.append_only('The lines are fixed at request: cancel the order and request again, for example: SELECT aftersales.cancel_part_order(7, ''wrong part'');');

CREATE TABLE aftersales.part_order_events (
    tenant_id   bigint      NOT NULL,
    order_id    bigint      NOT NULL,
    seq         integer     NOT NULL,
    event       text        NOT NULL,
    from_state  text        NOT NULL,
    to_state    text        NOT NULL,
    actor       text        NOT NULL,
    at          timestamptz NOT NULL,
    reason      text,
    changes     jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, order_id, seq)
);
COMMENT ON TABLE aftersales.part_order_events IS 'Event log of part orders, append-only: who, when, from, to, why and what changed; replays to the order';
COMMENT ON COLUMN aftersales.part_order_events.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.part_order_events.order_id IS 'Order';
COMMENT ON COLUMN aftersales.part_order_events.seq IS 'Event number within the order, from 1';
COMMENT ON COLUMN aftersales.part_order_events.event IS 'Event';
COMMENT ON COLUMN aftersales.part_order_events.from_state IS 'State before ('''' for the request that created it)';
COMMENT ON COLUMN aftersales.part_order_events.to_state IS 'State after';
COMMENT ON COLUMN aftersales.part_order_events.actor IS 'Who';
COMMENT ON COLUMN aftersales.part_order_events.at IS 'When';
COMMENT ON COLUMN aftersales.part_order_events.reason IS 'Why';
COMMENT ON COLUMN aftersales.part_order_events.changes IS 'Columns changed: {"column": [old, new], ...}';
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON aftersales.part_order_events
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.append_only('Record a new event of the order instead, for example: SELECT aftersales.cancel_part_order(7, ''requested twice'');');
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON aftersales.part_order_events
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales_internal.append_only('Record a new event of the order instead, for example: SELECT aftersales.cancel_part_order(7, ''requested twice'');');

-- ---------------------------------------------------------------------------
-- Old parts back to the factory, and claims against the supplier

CREATE TABLE aftersales.part_returns (
    tenant_id          bigint      NOT NULL DEFAULT aftersales.current_tenant(),
    return_id          bigint      GENERATED ALWAYS AS IDENTITY,
    order_id           bigint      NOT NULL,
    line_no            integer     NOT NULL,
    ticket_id          bigint      NOT NULL,
    org_id             bigint      NOT NULL,
    part_id            bigint      NOT NULL,
    quantity           integer     NOT NULL CHECK (quantity > 0),
    due_at             timestamptz NOT NULL,
    carrier            text,
    tracking_no        text,
    shipped_at         timestamptz,
    received_at        timestamptz,
    inspected_at       timestamptz,
    inspection_result  text        CHECK (inspection_result IN ('supplier_fault', 'no_fault', 'misuse')),
    state              text        NOT NULL DEFAULT '',
    event              text,
    event_at           timestamptz,
    event_by           text,
    event_reason       text,
    event_seq          integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, return_id),
    UNIQUE (tenant_id, order_id, line_no),
    FOREIGN KEY (tenant_id, order_id, line_no) REFERENCES aftersales.part_order_lines (tenant_id, order_id, line_no),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES aftersales.organisations (tenant_id, org_id),
    FOREIGN KEY (tenant_id, part_id) REFERENCES aftersales.parts (tenant_id, part_id),
    CHECK ((state = 'inspected') = (inspection_result IS NOT NULL))
);
COMMENT ON TABLE aftersales.part_returns IS
  'Old parts going back to the factory (旧件返厂): one per used order line of a part that must return; due, shipped, received, inspected (or waived); held to the part_return state machine';
COMMENT ON COLUMN aftersales.part_returns.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.part_returns.return_id IS 'Return id';
COMMENT ON COLUMN aftersales.part_returns.order_id IS 'Part order whose new part replaced the old one';
COMMENT ON COLUMN aftersales.part_returns.line_no IS 'Order line';
COMMENT ON COLUMN aftersales.part_returns.ticket_id IS 'Ticket';
COMMENT ON COLUMN aftersales.part_returns.org_id IS 'Organisation that sends the old part back (the order''s)';
COMMENT ON COLUMN aftersales.part_returns.part_id IS 'Part';
COMMENT ON COLUMN aftersales.part_returns.quantity IS 'Old units to return';
COMMENT ON COLUMN aftersales.part_returns.due_at IS 'When the return became due (the parts were used)';
COMMENT ON COLUMN aftersales.part_returns.carrier IS 'Carrier of the return';
COMMENT ON COLUMN aftersales.part_returns.tracking_no IS 'Tracking number of the return';
COMMENT ON COLUMN aftersales.part_returns.shipped_at IS 'When the old part was shipped back';
COMMENT ON COLUMN aftersales.part_returns.received_at IS 'When the factory received it';
COMMENT ON COLUMN aftersales.part_returns.inspected_at IS 'When it was inspected';
COMMENT ON COLUMN aftersales.part_returns.inspection_result IS 'supplier_fault (a claim may be filed), no_fault or misuse';
COMMENT ON COLUMN aftersales.part_returns.state IS 'due, shipped, received, inspected or waived';
COMMENT ON COLUMN aftersales.part_returns.event IS 'Latest event';
COMMENT ON COLUMN aftersales.part_returns.event_at IS 'When the latest event happened';
COMMENT ON COLUMN aftersales.part_returns.event_by IS 'Who made the latest event';
COMMENT ON COLUMN aftersales.part_returns.event_reason IS 'Why (required for waive)';
COMMENT ON COLUMN aftersales.part_returns.event_seq IS 'Number of events so far';

CREATE TABLE aftersales.part_return_events (
    tenant_id   bigint      NOT NULL,
    return_id   bigint      NOT NULL,
    seq         integer     NOT NULL,
    event       text        NOT NULL,
    from_state  text        NOT NULL,
    to_state    text        NOT NULL,
    actor       text        NOT NULL,
    at          timestamptz NOT NULL,
    reason      text,
    changes     jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, return_id, seq)
);
COMMENT ON TABLE aftersales.part_return_events IS 'Event log of old-part returns, append-only';
COMMENT ON COLUMN aftersales.part_return_events.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.part_return_events.return_id IS 'Return';
COMMENT ON COLUMN aftersales.part_return_events.seq IS 'Event number within the return, from 1';
COMMENT ON COLUMN aftersales.part_return_events.event IS 'Event';
COMMENT ON COLUMN aftersales.part_return_events.from_state IS 'State before';
COMMENT ON COLUMN aftersales.part_return_events.to_state IS 'State after';
COMMENT ON COLUMN aftersales.part_return_events.actor IS 'Who';
COMMENT ON COLUMN aftersales.part_return_events.at IS 'When';
COMMENT ON COLUMN aftersales.part_return_events.reason IS 'Why';
COMMENT ON COLUMN aftersales.part_return_events.changes IS 'Columns changed: {"column": [old, new], ...}';
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON aftersales.part_return_events
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.append_only('Record a new event of the return instead, for example: SELECT aftersales.waive_old_part(3, ''destroyed on site'');');
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON aftersales.part_return_events
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales_internal.append_only('Record a new event of the return instead, for example: SELECT aftersales.waive_old_part(3, ''destroyed on site'');');

CREATE TABLE aftersales.part_claims (
    tenant_id        bigint        NOT NULL DEFAULT aftersales.current_tenant(),
    claim_id         bigint        GENERATED ALWAYS AS IDENTITY,
    return_id        bigint        NOT NULL,
    ticket_id        bigint        NOT NULL,
    org_id           bigint        NOT NULL,
    supplier_org_id  bigint        NOT NULL,
    amount           numeric(12,2) NOT NULL CHECK (amount > 0),
    accepted_amount  numeric(12,2) CHECK (accepted_amount >= 0),
    round            smallint      NOT NULL DEFAULT 1 CHECK (round IN (1, 2)),
    filed_at         timestamptz   NOT NULL,
    decided_at       timestamptz,
    settled_at       timestamptz,
    state            text          NOT NULL DEFAULT '',
    event            text,
    event_at         timestamptz,
    event_by         text,
    event_reason     text,
    event_seq        integer       NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, claim_id),
    UNIQUE (tenant_id, return_id),
    FOREIGN KEY (tenant_id, return_id) REFERENCES aftersales.part_returns (tenant_id, return_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES aftersales.organisations (tenant_id, org_id),
    FOREIGN KEY (tenant_id, supplier_org_id) REFERENCES aftersales.organisations (tenant_id, org_id),
    CHECK ((state IN ('accepted', 'settled')) = (accepted_amount IS NOT NULL)),
    CHECK (accepted_amount IS NULL OR accepted_amount <= amount)
);
COMMENT ON TABLE aftersales.part_claims IS
  'Warranty claims against the supplier (索赔) for an inspected old part: filed, accepted or rejected, a second claim (二次索赔) after a rejection, settled; held to the part_claim state machine';
COMMENT ON COLUMN aftersales.part_claims.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.part_claims.claim_id IS 'Claim id';
COMMENT ON COLUMN aftersales.part_claims.return_id IS 'Old-part return the claim rests on (inspected: supplier_fault)';
COMMENT ON COLUMN aftersales.part_claims.ticket_id IS 'Ticket';
COMMENT ON COLUMN aftersales.part_claims.org_id IS 'Organisation of the ticket';
COMMENT ON COLUMN aftersales.part_claims.supplier_org_id IS 'Supplier claimed against';
COMMENT ON COLUMN aftersales.part_claims.amount IS 'Amount claimed';
COMMENT ON COLUMN aftersales.part_claims.accepted_amount IS 'Amount the supplier accepted';
COMMENT ON COLUMN aftersales.part_claims.round IS '1: first claim; 2: the second claim after a rejection';
COMMENT ON COLUMN aftersales.part_claims.filed_at IS 'When the claim was first filed';
COMMENT ON COLUMN aftersales.part_claims.decided_at IS 'When the supplier last decided';
COMMENT ON COLUMN aftersales.part_claims.settled_at IS 'When the accepted amount was settled';
COMMENT ON COLUMN aftersales.part_claims.state IS 'filed, accepted, rejected, refiled, finally_rejected or settled';
COMMENT ON COLUMN aftersales.part_claims.event IS 'Latest event';
COMMENT ON COLUMN aftersales.part_claims.event_at IS 'When the latest event happened';
COMMENT ON COLUMN aftersales.part_claims.event_by IS 'Who made the latest event';
COMMENT ON COLUMN aftersales.part_claims.event_reason IS 'Why (required for reject and refile)';
COMMENT ON COLUMN aftersales.part_claims.event_seq IS 'Number of events so far';

CREATE TABLE aftersales.part_claim_events (
    tenant_id   bigint      NOT NULL,
    claim_id    bigint      NOT NULL,
    seq         integer     NOT NULL,
    event       text        NOT NULL,
    from_state  text        NOT NULL,
    to_state    text        NOT NULL,
    actor       text        NOT NULL,
    at          timestamptz NOT NULL,
    reason      text,
    changes     jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, claim_id, seq)
);
COMMENT ON TABLE aftersales.part_claim_events IS 'Event log of claims, append-only';
COMMENT ON COLUMN aftersales.part_claim_events.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.part_claim_events.claim_id IS 'Claim';
COMMENT ON COLUMN aftersales.part_claim_events.seq IS 'Event number within the claim, from 1';
COMMENT ON COLUMN aftersales.part_claim_events.event IS 'Event';
COMMENT ON COLUMN aftersales.part_claim_events.from_state IS 'State before';
COMMENT ON COLUMN aftersales.part_claim_events.to_state IS 'State after';
COMMENT ON COLUMN aftersales.part_claim_events.actor IS 'Who';
COMMENT ON COLUMN aftersales.part_claim_events.at IS 'When';
COMMENT ON COLUMN aftersales.part_claim_events.reason IS 'Why';
COMMENT ON COLUMN aftersales.part_claim_events.changes IS 'Columns changed: {"column": [old, new], ...}';
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON aftersales.part_claim_events
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.append_only('Record a new event of the claim instead, for example: SELECT aftersales.refile_claim(5, ''new evidence'');');
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON aftersales.part_claim_events
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales_internal.append_only('Record a new event of the claim instead, for example: SELECT aftersales.refile_claim(5, ''new evidence'');');

-- ---------------------------------------------------------------------------
-- Labour, charges and settlement

CREATE TABLE aftersales.work_logs (
    tenant_id    bigint      NOT NULL DEFAULT aftersales.current_tenant(),
    log_id       bigint      GENERATED ALWAYS AS IDENTITY,
    ticket_id    bigint      NOT NULL,
    engineer_id  bigint      NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('travel', 'on_site', 'remote')),
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz NOT NULL,
    note         text,
    logged_by    text        NOT NULL DEFAULT aftersales.actor(),
    PRIMARY KEY (tenant_id, log_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, engineer_id) REFERENCES aftersales.engineers (tenant_id, engineer_id),
    CHECK (ended_at > started_at AND ended_at - started_at <= interval '24 hours')
);
CREATE INDEX work_logs_ticket_idx ON aftersales.work_logs (tenant_id, ticket_id);
CREATE INDEX work_logs_engineer_idx ON aftersales.work_logs (tenant_id, engineer_id, started_at);
COMMENT ON TABLE aftersales.work_logs IS 'Work logged on a ticket (工时): engineer, kind (travel, on-site, remote), start and end';
COMMENT ON COLUMN aftersales.work_logs.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.work_logs.log_id IS 'Log id';
COMMENT ON COLUMN aftersales.work_logs.ticket_id IS 'Ticket';
COMMENT ON COLUMN aftersales.work_logs.engineer_id IS 'Engineer';
COMMENT ON COLUMN aftersales.work_logs.kind IS 'travel, on_site or remote';
COMMENT ON COLUMN aftersales.work_logs.started_at IS 'Start';
COMMENT ON COLUMN aftersales.work_logs.ended_at IS 'End: after the start, at most 24 hours later';
COMMENT ON COLUMN aftersales.work_logs.note IS 'Free text';
COMMENT ON COLUMN aftersales.work_logs.logged_by IS 'Who logged it';

CREATE TABLE aftersales.settlements (
    tenant_id      bigint        NOT NULL DEFAULT aftersales.current_tenant(),
    settlement_id  bigint        GENERATED ALWAYS AS IDENTITY,
    ticket_id      bigint        NOT NULL,
    settled_at     timestamptz   NOT NULL,
    settled_by     text          NOT NULL DEFAULT aftersales.actor(),
    amount         numeric(12,2) NOT NULL,
    cost           numeric(12,2) NOT NULL,
    PRIMARY KEY (tenant_id, settlement_id),
    UNIQUE (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id)
);
COMMENT ON TABLE aftersales.settlements IS 'Settlement (结算) of a ticket''s charges: one per ticket, after which its charges are fixed';
COMMENT ON COLUMN aftersales.settlements.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.settlements.settlement_id IS 'Settlement id';
COMMENT ON COLUMN aftersales.settlements.ticket_id IS 'Ticket settled';
COMMENT ON COLUMN aftersales.settlements.settled_at IS 'When';
COMMENT ON COLUMN aftersales.settlements.settled_by IS 'Who';
COMMENT ON COLUMN aftersales.settlements.amount IS 'Total charged to the customer';
COMMENT ON COLUMN aftersales.settlements.cost IS 'Total internal cost';
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON aftersales.settlements
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.append_only('A settlement is final: add a correcting fee to a new ticket.');

CREATE TABLE aftersales.ticket_charges (
    tenant_id   bigint        NOT NULL DEFAULT aftersales.current_tenant(),
    charge_id   bigint        GENERATED ALWAYS AS IDENTITY,
    ticket_id   bigint        NOT NULL,
    kind        text          NOT NULL CHECK (kind IN ('labour', 'part', 'travel', 'fee')),
    description text          NOT NULL CHECK (description <> ''),
    quantity    numeric(12,2) NOT NULL CHECK (quantity > 0),
    unit_price  numeric(12,2) NOT NULL CHECK (unit_price >= 0),
    unit_cost   numeric(12,2) NOT NULL CHECK (unit_cost >= 0),
    chargeable  boolean       NOT NULL,
    basis       text          NOT NULL CHECK (basis IN ('warranty', 'agreement', 'chargeable', 'manual')),
    amount      numeric(12,2) NOT NULL,
    cost        numeric(12,2) NOT NULL,
    log_id      bigint,
    order_id    bigint,
    line_no     integer,
    settlement_id bigint,
    PRIMARY KEY (tenant_id, charge_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, log_id) REFERENCES aftersales.work_logs (tenant_id, log_id),
    FOREIGN KEY (tenant_id, order_id, line_no) REFERENCES aftersales.part_order_lines (tenant_id, order_id, line_no),
    FOREIGN KEY (tenant_id, settlement_id) REFERENCES aftersales.settlements (tenant_id, settlement_id),
    CHECK (amount = CASE WHEN chargeable THEN pg_catalog.round(quantity * unit_price, 2) ELSE 0 END),
    CHECK (cost = pg_catalog.round(quantity * unit_cost, 2))
);
CREATE INDEX ticket_charges_ticket_idx ON aftersales.ticket_charges (tenant_id, ticket_id);
COMMENT ON TABLE aftersales.ticket_charges IS
  'Charges and costs of a ticket (费用): labour, parts, travel and other fees, each with its price to the customer (0 when free under warranty or an agreement) and its internal cost';
COMMENT ON COLUMN aftersales.ticket_charges.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.ticket_charges.charge_id IS 'Charge id';
COMMENT ON COLUMN aftersales.ticket_charges.ticket_id IS 'Ticket';
COMMENT ON COLUMN aftersales.ticket_charges.kind IS 'labour, part, travel or fee';
COMMENT ON COLUMN aftersales.ticket_charges.description IS 'What it is';
COMMENT ON COLUMN aftersales.ticket_charges.quantity IS 'Hours, units or visits';
COMMENT ON COLUMN aftersales.ticket_charges.unit_price IS 'Price per unit to the customer';
COMMENT ON COLUMN aftersales.ticket_charges.unit_cost IS 'Internal cost per unit';
COMMENT ON COLUMN aftersales.ticket_charges.chargeable IS 'Charged to the customer; false when free';
COMMENT ON COLUMN aftersales.ticket_charges.basis IS 'warranty (free: unit in warranty), agreement (free: a valid service agreement), chargeable, manual (a fee added by hand)';
COMMENT ON COLUMN aftersales.ticket_charges.amount IS 'Charged: quantity x unit price when chargeable, else 0';
COMMENT ON COLUMN aftersales.ticket_charges.cost IS 'Cost: quantity x unit cost';
COMMENT ON COLUMN aftersales.ticket_charges.log_id IS 'Work log priced (labour, travel)';
COMMENT ON COLUMN aftersales.ticket_charges.order_id IS 'Part order priced (part)';
COMMENT ON COLUMN aftersales.ticket_charges.line_no IS 'Order line priced (part)';
COMMENT ON COLUMN aftersales.ticket_charges.settlement_id IS 'Settlement that fixed it; NULL while open';

-- A settled charge is fixed: neither changed nor deleted.
CREATE FUNCTION aftersales_internal.charge_settled_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF OLD.settlement_id IS NOT NULL THEN
        RAISE EXCEPTION 'charge % of ticket % is settled', OLD.charge_id, OLD.ticket_id
            USING ERRCODE = '55000',
                  DETAIL = 'A settled ticket''s charges are fixed.',
                  HINT = 'Add a correcting fee to another ticket, or correct before settling.';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION aftersales_internal.charge_settled_guard() IS 'Trigger: refuses changing or deleting a settled charge';
CREATE TRIGGER charge_settled_guard BEFORE UPDATE OR DELETE ON aftersales.ticket_charges
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.charge_settled_guard();

SELECT pg_catalog.pg_extension_config_dump('aftersales.parts', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.part_models', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.warehouses', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.stock', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.stock_moves', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.part_orders', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.part_order_lines', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.part_order_events', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.part_returns', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.part_return_events', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.part_claims', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.part_claim_events', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.work_logs', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.settlements', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.ticket_charges', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.parts', 'part_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.warehouses', 'warehouse_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.stock_moves', 'move_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.part_orders', 'order_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.part_returns', 'return_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.part_claims', 'claim_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.work_logs', 'log_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.settlements', 'settlement_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.ticket_charges', 'charge_id')::regclass, '');
