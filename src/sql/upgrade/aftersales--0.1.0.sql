-- aftersales install script, part 00: tenants and shared helpers.
-- The install script is src/sql/[0-9]*.sql concatenated in name order.
\echo Use "CREATE EXTENSION aftersales" to load this file. \quit
SET LOCAL search_path TO pg_catalog, pg_temp;

COMMENT ON SCHEMA aftersales IS
  'aftersales: after-sales service tickets, business-calendar SLAs, escalation and KPIs';

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

-- aftersales install script, part 10: business calendars.

CREATE TYPE aftersales.calendar;

CREATE FUNCTION aftersales.calendar_in(cstring) RETURNS aftersales.calendar
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION aftersales.calendar_out(aftersales.calendar) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION aftersales.calendar_recv(internal) RETURNS aftersales.calendar
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION aftersales.calendar_send(aftersales.calendar) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE aftersales.calendar (
    INPUT = aftersales.calendar_in,
    OUTPUT = aftersales.calendar_out,
    RECEIVE = aftersales.calendar_recv,
    SEND = aftersales.calendar_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended
);
COMMENT ON TYPE aftersales.calendar IS
  'Business calendar: time zone, weekly working windows, holidays, closures and make-up working days';

CREATE FUNCTION aftersales.calendar_eq(aftersales.calendar, aftersales.calendar) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.calendar_eq(aftersales.calendar, aftersales.calendar) IS
  'True when two calendars are the same once written canonically';
CREATE OPERATOR aftersales.= (
    LEFTARG = aftersales.calendar, RIGHTARG = aftersales.calendar,
    FUNCTION = aftersales.calendar_eq, COMMUTATOR = OPERATOR(aftersales.=)
);

CREATE FUNCTION aftersales.calendar_zone(aftersales.calendar) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.calendar_zone(aftersales.calendar) IS
  'The IANA time zone of a calendar';

-- Named zones are treated as immutable by PostgreSQL itself (timezone(text,
-- timestamptz) is IMMUTABLE), and a calendar carries its zone by name: so
-- the arithmetic is IMMUTABLE too, and usable in indexes and generated columns.
CREATE FUNCTION aftersales.business_add(cal aftersales.calendar, start timestamptz, amount interval)
    RETURNS timestamptz
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.business_add(aftersales.calendar, timestamptz, interval) IS
  'Earliest instant at which amount (hours, minutes, seconds) of business time has elapsed since start';

CREATE FUNCTION aftersales.business_diff(cal aftersales.calendar, a timestamptz, b timestamptz)
    RETURNS interval
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.business_diff(aftersales.calendar, timestamptz, timestamptz) IS
  'Business time in [a, b), negative when b < a';

CREATE FUNCTION aftersales.is_business_time(cal aftersales.calendar, t timestamptz)
    RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.is_business_time(aftersales.calendar, timestamptz) IS
  'Whether t lies inside a working window of its local date';

CREATE FUNCTION aftersales.next_business_time(cal aftersales.calendar, t timestamptz)
    RETURNS timestamptz
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.next_business_time(aftersales.calendar, timestamptz) IS
  'First business instant at or after t';

CREATE FUNCTION aftersales.business_minutes(cal aftersales.calendar, a timestamptz, b timestamptz)
    RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT pg_catalog.trim_scale(EXTRACT(EPOCH FROM aftersales.business_diff(cal, a, b)) / 60) $$;
COMMENT ON FUNCTION aftersales.business_minutes(aftersales.calendar, timestamptz, timestamptz) IS
  'Business time in [a, b) in minutes (numeric, exact), for reports and BI tools';

-- Named calendars, so that SLA policies can refer to them.
CREATE TABLE aftersales.calendars (
    tenant_id   bigint      NOT NULL DEFAULT aftersales.current_tenant()
                            REFERENCES aftersales.tenants,
    name        text        NOT NULL CHECK (name ~ '^[[:alnum:]_][[:alnum:]_.:+-]{0,62}$'),
    calendar    aftersales.calendar NOT NULL,
    description text,
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, name)
);
COMMENT ON TABLE aftersales.calendars IS 'Named business calendars per tenant, referred to by SLA policies';
COMMENT ON COLUMN aftersales.calendars.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.calendars.name IS 'Calendar name, unique per tenant (letters, digits, _ . : + -)';
COMMENT ON COLUMN aftersales.calendars.calendar IS 'The calendar: zone, windows, holidays, closures, make-up days';
COMMENT ON COLUMN aftersales.calendars.description IS 'Free text';
COMMENT ON COLUMN aftersales.calendars.updated_at IS 'When the calendar was last set';
INSERT INTO aftersales.calendars (tenant_id, name, calendar, description)
VALUES (1, '24x7', 'zone=UTC; mon-sun 00:00-24:00', 'Around the clock: business time is wall-clock time');
SELECT pg_catalog.pg_extension_config_dump('aftersales.calendars',
    'WHERE NOT (tenant_id = 1 AND name = ''24x7'')');

CREATE FUNCTION aftersales.set_calendar(name text, cal aftersales.calendar,
                                        description text DEFAULT NULL,
                                        tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF name IS NULL OR name !~ '^[[:alnum:]_][[:alnum:]_.:+-]{0,62}$' THEN
        RAISE EXCEPTION 'invalid calendar name: "%"', name
            USING ERRCODE = '22023',
                  DETAIL = 'A calendar name has 1 to 63 letters, digits and _ . : + -, and starts with a letter, digit or _.',
                  HINT = 'For example: SELECT aftersales.set_calendar(''cn-office'', ''zone=Asia/Shanghai; mon-fri 09:00-18:00'');';
    END IF;
    IF cal IS NULL THEN
        RAISE EXCEPTION 'calendar "%" must not be null', name
            USING ERRCODE = '22004',
                  HINT = 'For example: SELECT aftersales.set_calendar(''cn-office'', ''zone=Asia/Shanghai; mon-fri 09:00-18:00'');';
    END IF;
    INSERT INTO aftersales.calendars AS c (tenant_id, name, calendar, description)
    VALUES (tenant, set_calendar.name, cal, set_calendar.description)
    ON CONFLICT ON CONSTRAINT calendars_pkey DO UPDATE
       SET calendar = excluded.calendar,
           description = COALESCE(excluded.description, c.description),
           updated_at = pg_catalog.now();
END
$$;
COMMENT ON FUNCTION aftersales.set_calendar(text, aftersales.calendar, text, bigint) IS
  'Create or replace a named calendar (upsert; a NULL description keeps the old one)';

CREATE FUNCTION aftersales.get_calendar(name text, tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS aftersales.calendar
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    result aftersales.calendar;
BEGIN
    SELECT c.calendar INTO result
      FROM aftersales.calendars c
     WHERE c.tenant_id OPERATOR(pg_catalog.=) tenant AND c.name OPERATOR(pg_catalog.=) get_calendar.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'calendar "%" does not exist for tenant %', name, tenant
            USING ERRCODE = '42704',
                  HINT = 'Create it first, for example: SELECT aftersales.set_calendar(''office'', ''zone=Asia/Shanghai; mon-fri 09:00-18:00'');';
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION aftersales.get_calendar(text, bigint) IS 'The named calendar of the tenant, or an error';

-- aftersales install script, part 20: the domain.  Who serves (organisations,
-- engineers), whom (customers and their installed units), what breaks
-- (product lines, models, problem types, with occurrence counters), and the
-- promises made (SLA policies, their targets, service agreements).
--
-- Conventions of every table here: tenant_id leads the primary key and every
-- foreign key, so a row can never point at another tenant's row; ids are
-- bigint identities; user data is marked for pg_dump; shipped default rows
-- (tenant 1's 'default' SLA policy) are filtered out of the dump because
-- CREATE EXTENSION recreates them.

-- The six regions the quality and backlog reports group by.
CREATE DOMAIN aftersales.region AS text
    CHECK (VALUE IN ('华东', '华北', '东北', '中南', '西北', '西南'));
COMMENT ON DOMAIN aftersales.region IS
  'Sales region: 华东 (east), 华北 (north), 东北 (north-east), 中南 (central-south), 西北 (north-west), 西南 (south-west)';

-- Levels of the service organisation, in order from the top.
CREATE TYPE aftersales.org_level AS ENUM ('hq', 'region', 'province', 'outlet');
COMMENT ON TYPE aftersales.org_level IS
  'Level in the service organisation: hq above region above province above outlet';

-- ---------------------------------------------------------------------------
-- Organisations

CREATE TABLE aftersales.organisations (
    tenant_id   bigint      NOT NULL DEFAULT aftersales.current_tenant()
                            REFERENCES aftersales.tenants,
    org_id      bigint      GENERATED ALWAYS AS IDENTITY,
    parent_id   bigint,
    level       aftersales.org_level NOT NULL,
    org_type    text        NOT NULL DEFAULT 'representative_office'
                            CHECK (org_type IN ('headquarters', 'representative_office', 'dealer', 'supplier')),
    name        text        NOT NULL CHECK (name <> ''),
    region      aftersales.region,
    province    text        CHECK (province <> ''),
    active      boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, org_id),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES aftersales.organisations (tenant_id, org_id),
    UNIQUE (tenant_id, name),
    CHECK ((level = 'hq') = (parent_id IS NULL)),
    CHECK ((level = 'hq') = (org_type = 'headquarters')),
    CHECK (level < 'region' OR region IS NOT NULL),
    CHECK (level < 'province' OR province IS NOT NULL)
);
COMMENT ON TABLE aftersales.organisations IS
  'Service organisation tree per tenant: HQ, regions, provinces, outlets (representative offices, dealers, suppliers)';
COMMENT ON COLUMN aftersales.organisations.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.organisations.org_id IS 'Organisation id';
COMMENT ON COLUMN aftersales.organisations.parent_id IS 'Parent organisation, on a higher level; NULL only for HQ';
COMMENT ON COLUMN aftersales.organisations.level IS 'hq, region, province or outlet; fixed once created';
COMMENT ON COLUMN aftersales.organisations.org_type IS 'headquarters, representative_office (代表处), dealer (经销商) or supplier (供应商)';
COMMENT ON COLUMN aftersales.organisations.name IS 'Name, unique per tenant';
COMMENT ON COLUMN aftersales.organisations.region IS 'Region (华东 ...); required from level region down, taken from the parent when omitted';
COMMENT ON COLUMN aftersales.organisations.province IS 'Province; required from level province down, taken from the parent when omitted';
COMMENT ON COLUMN aftersales.organisations.active IS 'False once the organisation no longer takes tickets';
COMMENT ON COLUMN aftersales.organisations.created_at IS 'When the row was created';

-- The tree's shape is checked here rather than with constraints because it
-- relates a row to its parent: the parent is on a strictly higher level (so
-- there can be no cycle), the level never changes, and region and province
-- are inherited when omitted and must agree with the parent's otherwise.
CREATE FUNCTION aftersales._organisation_check() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p aftersales.organisations;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.level IS DISTINCT FROM OLD.level THEN
        RAISE EXCEPTION 'cannot change the level of organisation %', OLD.org_id
            USING ERRCODE = '55000',
                  DETAIL = 'The level of an organisation is fixed when it is created.',
                  HINT = 'Create a new organisation on the other level and move the children to it.';
    END IF;
    IF NEW.parent_id IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT * INTO p FROM aftersales.organisations o
     WHERE o.tenant_id OPERATOR(pg_catalog.=) NEW.tenant_id
       AND o.org_id OPERATOR(pg_catalog.=) NEW.parent_id;
    IF NOT FOUND THEN
        RETURN NEW;             -- the foreign key reports it
    END IF;
    IF p.level OPERATOR(pg_catalog.>=) NEW.level THEN
        RAISE EXCEPTION 'organisation "%" (%) cannot be the parent of a % organisation', p.name, p.level, NEW.level
            USING ERRCODE = '23514',
                  DETAIL = 'A parent is on a higher level: hq above region above province above outlet.',
                  HINT = 'Choose a parent on a higher level.';
    END IF;
    IF p.region IS NOT NULL THEN
        IF NEW.region IS NULL THEN
            NEW.region := p.region;
        ELSIF NEW.region OPERATOR(pg_catalog.<>) p.region THEN
            RAISE EXCEPTION 'organisation "%" is in region %, not in its parent''s region %', NEW.name, NEW.region, p.region
                USING ERRCODE = '23514',
                      HINT = 'Omit the region to inherit the parent''s.';
        END IF;
    END IF;
    IF p.province IS NOT NULL THEN
        IF NEW.province IS NULL THEN
            NEW.province := p.province;
        ELSIF NEW.province OPERATOR(pg_catalog.<>) p.province THEN
            RAISE EXCEPTION 'organisation "%" is in province %, not in its parent''s province %', NEW.name, NEW.province, p.province
                USING ERRCODE = '23514',
                      HINT = 'Omit the province to inherit the parent''s.';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION aftersales._organisation_check() IS
  'Trigger: an organisation''s parent is on a higher level; region and province are inherited from it';
CREATE TRIGGER organisation_check
    BEFORE INSERT OR UPDATE ON aftersales.organisations
    FOR EACH ROW EXECUTE FUNCTION aftersales._organisation_check();

-- ---------------------------------------------------------------------------
-- Customers

CREATE TABLE aftersales.customers (
    tenant_id     bigint      NOT NULL DEFAULT aftersales.current_tenant()
                              REFERENCES aftersales.tenants,
    customer_id   bigint      GENERATED ALWAYS AS IDENTITY,
    name          text        NOT NULL CHECK (name <> ''),
    tier          text        NOT NULL DEFAULT 'standard'
                              CHECK (tier IN ('key', 'major', 'standard')),
    region        aftersales.region,
    province      text        CHECK (province <> ''),
    city          text,
    address       text,
    contact_name  text,
    contact_phone text,
    contact_email text,
    org_id        bigint,
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES aftersales.organisations (tenant_id, org_id)
);
COMMENT ON TABLE aftersales.customers IS 'Customers served, with their tier, location and contact';
COMMENT ON COLUMN aftersales.customers.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.customers.customer_id IS 'Customer id';
COMMENT ON COLUMN aftersales.customers.name IS 'Customer (company or person) name';
COMMENT ON COLUMN aftersales.customers.tier IS 'key (重点客户), major or standard; key customers'' faults are watched separately';
COMMENT ON COLUMN aftersales.customers.region IS 'Region (华东 ...)';
COMMENT ON COLUMN aftersales.customers.province IS 'Province';
COMMENT ON COLUMN aftersales.customers.city IS 'City';
COMMENT ON COLUMN aftersales.customers.address IS 'Service address';
COMMENT ON COLUMN aftersales.customers.contact_name IS 'Contact person';
COMMENT ON COLUMN aftersales.customers.contact_phone IS 'Contact phone';
COMMENT ON COLUMN aftersales.customers.contact_email IS 'Contact e-mail';
COMMENT ON COLUMN aftersales.customers.org_id IS 'Organisation that serves the customer by default';
COMMENT ON COLUMN aftersales.customers.created_at IS 'When the row was created';

-- ---------------------------------------------------------------------------
-- Products

CREATE TABLE aftersales.product_lines (
    tenant_id        bigint NOT NULL DEFAULT aftersales.current_tenant()
                            REFERENCES aftersales.tenants,
    product_line_id  bigint GENERATED ALWAYS AS IDENTITY,
    code             text   NOT NULL CHECK (code <> ''),
    name             text   NOT NULL CHECK (name <> ''),
    description      text,
    PRIMARY KEY (tenant_id, product_line_id),
    UNIQUE (tenant_id, code)
);
COMMENT ON TABLE aftersales.product_lines IS 'Product lines (families of models)';
COMMENT ON COLUMN aftersales.product_lines.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.product_lines.product_line_id IS 'Product line id';
COMMENT ON COLUMN aftersales.product_lines.code IS 'Short code, unique per tenant';
COMMENT ON COLUMN aftersales.product_lines.name IS 'Name';
COMMENT ON COLUMN aftersales.product_lines.description IS 'Free text';

CREATE TABLE aftersales.product_models (
    tenant_id        bigint NOT NULL DEFAULT aftersales.current_tenant()
                            REFERENCES aftersales.tenants,
    model_id         bigint GENERATED ALWAYS AS IDENTITY,
    product_line_id  bigint NOT NULL,
    code             text   NOT NULL CHECK (code <> ''),
    name             text   NOT NULL CHECK (name <> ''),
    warranty_months  integer NOT NULL DEFAULT 12 CHECK (warranty_months >= 0),
    PRIMARY KEY (tenant_id, model_id),
    FOREIGN KEY (tenant_id, product_line_id) REFERENCES aftersales.product_lines (tenant_id, product_line_id),
    UNIQUE (tenant_id, code)
);
COMMENT ON TABLE aftersales.product_models IS 'Product models; aftersales.occurrence_counts has the tickets entered against each';
COMMENT ON COLUMN aftersales.product_models.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.product_models.model_id IS 'Model id';
COMMENT ON COLUMN aftersales.product_models.product_line_id IS 'Product line of the model';
COMMENT ON COLUMN aftersales.product_models.code IS 'Model code, unique per tenant';
COMMENT ON COLUMN aftersales.product_models.name IS 'Name';
COMMENT ON COLUMN aftersales.product_models.warranty_months IS 'Standard warranty from installation, in months';

CREATE TABLE aftersales.units (
    tenant_id      bigint NOT NULL DEFAULT aftersales.current_tenant()
                          REFERENCES aftersales.tenants,
    unit_id        bigint GENERATED ALWAYS AS IDENTITY,
    model_id       bigint NOT NULL,
    customer_id    bigint NOT NULL,
    serial         text   NOT NULL CHECK (serial <> ''),
    installed_on   date,
    warranty_ends  date,
    org_id         bigint,
    PRIMARY KEY (tenant_id, unit_id),
    UNIQUE (tenant_id, model_id, serial),
    UNIQUE (tenant_id, unit_id, model_id),
    FOREIGN KEY (tenant_id, model_id) REFERENCES aftersales.product_models (tenant_id, model_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES aftersales.customers (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES aftersales.organisations (tenant_id, org_id),
    CHECK (warranty_ends >= installed_on)
);
COMMENT ON TABLE aftersales.units IS 'Installed units: one product (model and serial) at a customer';
COMMENT ON COLUMN aftersales.units.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.units.unit_id IS 'Unit id';
COMMENT ON COLUMN aftersales.units.model_id IS 'Model of the unit';
COMMENT ON COLUMN aftersales.units.customer_id IS 'Customer who has the unit';
COMMENT ON COLUMN aftersales.units.serial IS 'Serial number, unique per model';
COMMENT ON COLUMN aftersales.units.installed_on IS 'Installation date';
COMMENT ON COLUMN aftersales.units.warranty_ends IS 'Last day of warranty';
COMMENT ON COLUMN aftersales.units.org_id IS 'Organisation that installed or sold the unit';

CREATE TABLE aftersales.problem_types (
    tenant_id        bigint NOT NULL DEFAULT aftersales.current_tenant()
                            REFERENCES aftersales.tenants,
    problem_type_id  bigint GENERATED ALWAYS AS IDENTITY,
    code             text   NOT NULL CHECK (code <> ''),
    name             text   NOT NULL CHECK (name <> ''),
    description      text,
    PRIMARY KEY (tenant_id, problem_type_id),
    UNIQUE (tenant_id, code)
);
COMMENT ON TABLE aftersales.problem_types IS 'Problem (fault) types that requests are classified by; aftersales.occurrence_counts has the tickets of each';
COMMENT ON COLUMN aftersales.problem_types.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.problem_types.problem_type_id IS 'Problem type id';
COMMENT ON COLUMN aftersales.problem_types.code IS 'Short code, unique per tenant';
COMMENT ON COLUMN aftersales.problem_types.name IS 'Name';
COMMENT ON COLUMN aftersales.problem_types.description IS 'Free text';

-- Occurrence counts (seed 002: entering a request adds one to the count of
-- its product and of its problem type) are kept as insert-only deltas, one
-- row per entering statement and key, summed by the view below.  A counter
-- column updated in place would make concurrent entries on one model wait
-- for each other's commit, and a long transaction entering many tickets
-- pile up versions of the same few rows; deltas do neither and cannot lose
-- an increment.  compact_occurrences() folds them, any time, concurrently.
-- Its row rules are one CHECK calling C, as for tickets (30_tickets.sql).
CREATE FUNCTION aftersales._occurrences_row_check(model_id bigint, problem_type_id bigint, n bigint)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_occurrences_row_check' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales._occurrences_row_check(bigint, bigint, bigint) IS
  'Internal: CHECK occurrences_row_check: exactly one of model and problem type, n > 0; raises check_violation naming the rule';

CREATE TABLE aftersales.occurrences (
    -- No foreign key of its own to tenants: exactly one of model_id and
    -- problem_type_id is set (the CHECK below) and each has a foreign key
    -- led by tenant_id, so the tenant is implied; its own check would lock
    -- the tenant's row twice per new ticket.
    tenant_id        bigint NOT NULL DEFAULT aftersales.current_tenant(),
    occurrence_id    bigint GENERATED ALWAYS AS IDENTITY,
    model_id         bigint,
    problem_type_id  bigint,
    n                bigint NOT NULL,
    PRIMARY KEY (tenant_id, occurrence_id),
    FOREIGN KEY (tenant_id, model_id) REFERENCES aftersales.product_models (tenant_id, model_id),
    FOREIGN KEY (tenant_id, problem_type_id) REFERENCES aftersales.problem_types (tenant_id, problem_type_id),
    -- exactly one of model_id and problem_type_id; n > 0
    CONSTRAINT occurrences_row_check CHECK (aftersales._occurrences_row_check(model_id, problem_type_id, n))
);
CREATE INDEX occurrences_model_idx ON aftersales.occurrences (tenant_id, model_id) WHERE model_id IS NOT NULL;
CREATE INDEX occurrences_problem_type_idx ON aftersales.occurrences (tenant_id, problem_type_id) WHERE problem_type_id IS NOT NULL;
COMMENT ON TABLE aftersales.occurrences IS
  'Occurrence count deltas, written by the database when tickets are entered; read aftersales.occurrence_counts';
COMMENT ON COLUMN aftersales.occurrences.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.occurrences.occurrence_id IS 'Delta id';
COMMENT ON COLUMN aftersales.occurrences.model_id IS 'Model counted (or NULL when the row counts a problem type)';
COMMENT ON COLUMN aftersales.occurrences.problem_type_id IS 'Problem type counted (or NULL when the row counts a model)';
COMMENT ON COLUMN aftersales.occurrences.n IS 'Tickets entered';

CREATE VIEW aftersales.occurrence_counts AS
SELECT m.tenant_id, 'product_model'::text AS kind, m.model_id AS id, m.code, m.name,
       COALESCE((SELECT pg_catalog.sum(o.n) FROM aftersales.occurrences o
                  WHERE o.tenant_id OPERATOR(pg_catalog.=) m.tenant_id AND o.model_id OPERATOR(pg_catalog.=) m.model_id), 0)::bigint
       AS occurrences
  FROM aftersales.product_models m
UNION ALL
SELECT p.tenant_id, 'problem_type', p.problem_type_id, p.code, p.name,
       COALESCE((SELECT pg_catalog.sum(o.n) FROM aftersales.occurrences o
                  WHERE o.tenant_id OPERATOR(pg_catalog.=) p.tenant_id
                    AND o.problem_type_id OPERATOR(pg_catalog.=) p.problem_type_id), 0)::bigint
  FROM aftersales.problem_types p;
COMMENT ON VIEW aftersales.occurrence_counts IS
  'Tickets entered per product model and per problem type (seed 002''s occurrence counts), for reports';
COMMENT ON COLUMN aftersales.occurrence_counts.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.occurrence_counts.kind IS 'product_model or problem_type';
COMMENT ON COLUMN aftersales.occurrence_counts.id IS 'model_id or problem_type_id';
COMMENT ON COLUMN aftersales.occurrence_counts.code IS 'Code of the model or problem type';
COMMENT ON COLUMN aftersales.occurrence_counts.name IS 'Name of the model or problem type';
COMMENT ON COLUMN aftersales.occurrence_counts.occurrences IS 'Tickets entered for it';

-- Folds the deltas into one row per key.  Safe next to concurrent entries
-- (their rows are not yet visible, so not deleted) and concurrent
-- compactions (a row deleted by another is skipped).
CREATE FUNCTION aftersales.compact_occurrences() RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    WITH gone AS (
        DELETE FROM aftersales.occurrences o RETURNING o.tenant_id, o.model_id, o.problem_type_id, o.n
    ), kept AS (
        INSERT INTO aftersales.occurrences (tenant_id, model_id, problem_type_id, n)
        SELECT g.tenant_id, g.model_id, g.problem_type_id, pg_catalog.sum(g.n)
          FROM gone g GROUP BY 1, 2, 3
        RETURNING 1
    )
    SELECT (SELECT pg_catalog.count(*) FROM gone) OPERATOR(pg_catalog.-) (SELECT pg_catalog.count(*) FROM kept)
$$;
COMMENT ON FUNCTION aftersales.compact_occurrences() IS
  'Folds the occurrence deltas into one row per model and problem type; returns the number of rows saved';
REVOKE ALL ON FUNCTION aftersales.compact_occurrences() FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Engineers

CREATE TABLE aftersales.engineers (
    tenant_id    bigint  NOT NULL DEFAULT aftersales.current_tenant()
                         REFERENCES aftersales.tenants,
    engineer_id  bigint  GENERATED ALWAYS AS IDENTITY,
    org_id       bigint  NOT NULL,
    name         text    NOT NULL CHECK (name <> ''),
    login        text    CHECK (login <> ''),
    skills       text[]  NOT NULL DEFAULT '{}',
    region       aftersales.region,
    capacity     integer NOT NULL DEFAULT 8 CHECK (capacity > 0),
    on_duty      boolean NOT NULL DEFAULT true,
    active       boolean NOT NULL DEFAULT true,
    phone        text,
    PRIMARY KEY (tenant_id, engineer_id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES aftersales.organisations (tenant_id, org_id),
    UNIQUE (tenant_id, login)
);
CREATE INDEX engineers_skills_idx ON aftersales.engineers USING gin (skills);
COMMENT ON TABLE aftersales.engineers IS 'Service engineers: organisation, skills, region, capacity and duty';
COMMENT ON COLUMN aftersales.engineers.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.engineers.engineer_id IS 'Engineer id';
COMMENT ON COLUMN aftersales.engineers.org_id IS 'Organisation the engineer works for';
COMMENT ON COLUMN aftersales.engineers.name IS 'Name';
COMMENT ON COLUMN aftersales.engineers.login IS 'Login name in the application, unique per tenant; matched against the recorded actor';
COMMENT ON COLUMN aftersales.engineers.skills IS 'Skill tags, for assignment by skill';
COMMENT ON COLUMN aftersales.engineers.region IS 'Region the engineer covers';
COMMENT ON COLUMN aftersales.engineers.capacity IS 'How many open tickets the engineer can hold at once';
COMMENT ON COLUMN aftersales.engineers.on_duty IS 'Whether the engineer is on duty now';
COMMENT ON COLUMN aftersales.engineers.active IS 'False once the engineer has left';
COMMENT ON COLUMN aftersales.engineers.phone IS 'Phone';

-- ---------------------------------------------------------------------------
-- SLA policies, targets and service agreements

CREATE TYPE aftersales.priority AS ENUM ('A', 'B', 'C');
COMMENT ON TYPE aftersales.priority IS 'Ticket priority: A (urgent), B, C';

CREATE TYPE aftersales.sla_metric AS ENUM ('first_response', 'arrival', 'resolution');
COMMENT ON TYPE aftersales.sla_metric IS
  'What an SLA clock measures: first response, on-site arrival (field tickets only) or resolution';

CREATE TABLE aftersales.sla_policies (
    tenant_id    bigint  NOT NULL DEFAULT aftersales.current_tenant()
                         REFERENCES aftersales.tenants,
    policy_id    bigint  GENERATED ALWAYS AS IDENTITY,
    name         text    NOT NULL CHECK (name <> ''),
    calendar     text    NOT NULL DEFAULT '24x7',
    is_default   boolean NOT NULL DEFAULT false,
    description  text,
    PRIMARY KEY (tenant_id, policy_id),
    UNIQUE (tenant_id, name),
    FOREIGN KEY (tenant_id, calendar) REFERENCES aftersales.calendars (tenant_id, name)
);
CREATE UNIQUE INDEX sla_policies_one_default ON aftersales.sla_policies (tenant_id) WHERE is_default;
COMMENT ON TABLE aftersales.sla_policies IS
  'SLA policies: named sets of targets on a business calendar; one per tenant may be the default';
COMMENT ON COLUMN aftersales.sla_policies.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.sla_policies.policy_id IS 'Policy id';
COMMENT ON COLUMN aftersales.sla_policies.name IS 'Name, unique per tenant';
COMMENT ON COLUMN aftersales.sla_policies.calendar IS 'Name of the business calendar that business-time targets run on';
COMMENT ON COLUMN aftersales.sla_policies.is_default IS 'The tenant''s default: applies to customers without a valid service agreement';
COMMENT ON COLUMN aftersales.sla_policies.description IS 'Free text';

CREATE TABLE aftersales.sla_targets (
    tenant_id       bigint   NOT NULL DEFAULT aftersales.current_tenant()
                             REFERENCES aftersales.tenants,
    policy_id       bigint   NOT NULL,
    priority        aftersales.priority NOT NULL,
    metric          aftersales.sla_metric NOT NULL,
    target          interval NOT NULL
                             CHECK (target > '0'::interval AND EXTRACT(DAY FROM target) = 0
                                    AND EXTRACT(MONTH FROM target) = 0 AND EXTRACT(YEAR FROM target) = 0),
    clock           text     NOT NULL DEFAULT 'business' CHECK (clock IN ('business', '24x7')),
    pauses_on_hold  boolean  NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, policy_id, priority, metric),
    FOREIGN KEY (tenant_id, policy_id) REFERENCES aftersales.sla_policies (tenant_id, policy_id)
        ON DELETE CASCADE
);
COMMENT ON TABLE aftersales.sla_targets IS 'Targets of an SLA policy, per priority and metric';
COMMENT ON COLUMN aftersales.sla_targets.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.sla_targets.policy_id IS 'Policy the target belongs to';
COMMENT ON COLUMN aftersales.sla_targets.priority IS 'Ticket priority the target applies to';
COMMENT ON COLUMN aftersales.sla_targets.metric IS 'first_response, arrival or resolution';
COMMENT ON COLUMN aftersales.sla_targets.target IS
  'Time allowed from ticket entry, in hours, minutes and seconds (days and months have no fixed length in business time)';
COMMENT ON COLUMN aftersales.sla_targets.clock IS
  'business: counted in business time on the policy''s calendar; 24x7: counted in wall-clock time';
COMMENT ON COLUMN aftersales.sla_targets.pauses_on_hold IS 'Whether the clock stops while the ticket is on hold (waiting on the customer)';

-- Seed 001's defaults for tenant 1, on the shipped 24x7 calendar: A first
-- response 5 min / resolution 30 min, B 30 min / 2 h, C 4 h / 24 h, and 4 h
-- on-site arrival for field tickets.  Waiting on the customer pauses the
-- resolution clock only.
INSERT INTO aftersales.sla_policies (tenant_id, name, calendar, is_default, description)
VALUES (1, 'default', '24x7', true, 'Seed 001 defaults: A 5 min / 30 min, B 30 min / 2 h, C 4 h / 24 h, arrival 4 h');
INSERT INTO aftersales.sla_targets (tenant_id, policy_id, priority, metric, target, clock, pauses_on_hold)
SELECT 1, p.policy_id, t.priority::aftersales.priority, t.metric::aftersales.sla_metric,
       t.target::interval, 'business', t.metric = 'resolution'
  FROM aftersales.sla_policies p,
       (VALUES ('A', 'first_response', '5 min'),  ('A', 'resolution', '30 min'), ('A', 'arrival', '4 h'),
               ('B', 'first_response', '30 min'), ('B', 'resolution', '2 h'),    ('B', 'arrival', '4 h'),
               ('C', 'first_response', '4 h'),    ('C', 'resolution', '24 h'),   ('C', 'arrival', '4 h'))
       AS t (priority, metric, target)
 WHERE p.tenant_id = 1 AND p.name = 'default';

-- A range's GiST operator class lets the exclusion constraint below compare
-- ids without btree_gist: [id, id] ranges overlap exactly when ids are equal.
CREATE TABLE aftersales.service_agreements (
    tenant_id      bigint    NOT NULL DEFAULT aftersales.current_tenant()
                             REFERENCES aftersales.tenants,
    agreement_id   bigint    GENERATED ALWAYS AS IDENTITY,
    customer_id    bigint    NOT NULL,
    policy_id      bigint    NOT NULL,
    name           text      NOT NULL CHECK (name <> ''),
    valid          daterange NOT NULL CHECK (NOT isempty(valid)),
    terms          text,
    service_items  text[]    NOT NULL DEFAULT '{}',
    charging       text,
    PRIMARY KEY (tenant_id, agreement_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES aftersales.customers (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, policy_id) REFERENCES aftersales.sla_policies (tenant_id, policy_id),
    CONSTRAINT service_agreements_no_overlap
    EXCLUDE USING gist (int8range(tenant_id, tenant_id, '[]') WITH &&,
                        int8range(customer_id, customer_id, '[]') WITH &&,
                        valid WITH &&)
);
-- The agreement of a ticket's customer is looked up at every entry: by
-- customer, not by scanning the tenant's agreements.
CREATE INDEX service_agreements_customer_idx ON aftersales.service_agreements (tenant_id, customer_id);
COMMENT ON TABLE aftersales.service_agreements IS
  'Service agreements (服务协议): which SLA policy a customer gets, over which dates; at most one valid per customer and day';
COMMENT ON COLUMN aftersales.service_agreements.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.service_agreements.agreement_id IS 'Agreement id';
COMMENT ON COLUMN aftersales.service_agreements.customer_id IS 'Customer covered';
COMMENT ON COLUMN aftersales.service_agreements.policy_id IS 'SLA policy promised';
COMMENT ON COLUMN aftersales.service_agreements.name IS 'Agreement name or number';
COMMENT ON COLUMN aftersales.service_agreements.valid IS
  'Dates of validity, in the time zone of the policy''s calendar; tickets entered on these dates get the policy';
COMMENT ON COLUMN aftersales.service_agreements.terms IS 'Terms of service (free text)';
COMMENT ON COLUMN aftersales.service_agreements.service_items IS 'Service items covered';
COMMENT ON COLUMN aftersales.service_agreements.charging IS 'How the service is charged (free text)';

-- ---------------------------------------------------------------------------
-- pg_dump keeps user data; identity sequences are marked too, or a restore
-- would start them again at 1.

SELECT pg_catalog.pg_extension_config_dump('aftersales.organisations', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.customers', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.product_lines', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.product_models', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.units', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.problem_types', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.occurrences', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.engineers', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.sla_policies',
    'WHERE NOT (tenant_id = 1 AND name = ''default'')');
SELECT pg_catalog.pg_extension_config_dump('aftersales.sla_targets',
    'WHERE NOT (tenant_id = 1 AND policy_id = 1)');
SELECT pg_catalog.pg_extension_config_dump('aftersales.service_agreements', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.organisations', 'org_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.customers', 'customer_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.product_lines', 'product_line_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.product_models', 'model_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.units', 'unit_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.problem_types', 'problem_type_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.occurrences', 'occurrence_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.engineers', 'engineer_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.sla_policies', 'policy_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.service_agreements', 'agreement_id')::regclass, '');

-- aftersales install script, part 30: tickets, their closed loop, the event
-- log and the SLA clocks.
--
-- Who does what:
--   ticket_guard (C, src/ticket.c), BEFORE each row: judges every INSERT and
--     UPDATE of tickets against the closed-loop table and computes the
--     columns the loop maintains; refuses DELETE.
--   _tickets_entered (C, src/ticket_log.c), AFTER each INSERT statement:
--     occurrence counts, SLA clocks, their escalation watches (and the
--     'ticket' watch of a ticket with a requested date or a key customer,
--     40_escalation.sql) and the open events of all the rows.
--   _ticket_changed (C, src/ticket_log.c), AFTER each row whose event_seq
--     moved: the SLA clocks and the event row.
-- So the event log and the clocks cannot be missed, whether a change comes
-- through the API (31_ticket_api.sql) or a direct INSERT or UPDATE.
--
-- Time: every function that records an event takes at timestamptz DEFAULT
-- aftersales.now(); aftersales.now() is the setting aftersales.now when set
-- (tests, demos, replays of past data), else now().

CREATE TYPE aftersales.ticket_status AS ENUM
    ('new', 'on_hold', 'assigned', 'in_progress', 'on_site', 'locked', 'resolved', 'closed', 'cancelled');
COMMENT ON TYPE aftersales.ticket_status IS
  'State in the closed loop: new (awaiting assignment, 等待分配), on_hold (挂起), assigned (已分配), in_progress, on_site, locked (with the service manager, 锁定), resolved (已处理), closed (已关闭), cancelled';

CREATE TYPE aftersales.ticket_event AS ENUM
    ('open', 'assign', 'reassign', 'take_over', 'start', 'arrive', 'resolve', 'fail', 'release', 'hold',
     'resume', 'transfer', 'follow_up', 'cancel', 'reopen', 'lock', 'unlock', 'retarget', 'acknowledge');
COMMENT ON TYPE aftersales.ticket_event IS
  'Event of the closed loop; aftersales.ticket_transitions() lists which event takes which state where';

CREATE TYPE aftersales.ticket_tier AS ENUM ('customer_service', 'technical_support', 'rnd');
COMMENT ON TYPE aftersales.ticket_tier IS
  'Support tier handling a ticket: customer_service, then technical_support, then rnd (R&D)';

CREATE FUNCTION aftersales.now() RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'aftersales_now' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.now() IS
  'The clock of aftersales: the setting aftersales.now when set (tests, demos, loading past data), else the transaction''s start time';

CREATE FUNCTION aftersales.actor() RETURNS text
    AS 'MODULE_PATHNAME', 'aftersales_actor' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.actor() IS
  'Who acts: the setting aftersales.actor (the application''s user, SET LOCAL by the application), else the database role';

-- ---------------------------------------------------------------------------
-- Tickets

-- The row rules of tickets (and of ticket_events and ticket_sla below) are
-- one CHECK each, calling a C function with the columns they read
-- (src/row_checks.c): PostgreSQL rebuilds every CHECK expression of a table
-- at each statement that writes it, and the life cycle writes these tables
-- about twenty times.  A broken rule is check_violation (23514) naming the
-- constraint, with the rule and the values in the detail.
CREATE FUNCTION aftersales._tickets_row_check(channel text, description text, status aftersales.ticket_status,
                                              held_from aftersales.ticket_status, assignee_id bigint,
                                              attempt_count integer, reopen_count integer, csat smallint,
                                              nps smallint, event_seq integer, opened_at timestamptz,
                                              last_event_at timestamptz, resolved_at timestamptz,
                                              closed_at timestamptz, cancelled_at timestamptz)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_tickets_row_check' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales._tickets_row_check(text, text, aftersales.ticket_status, aftersales.ticket_status, bigint,
                                                  integer, integer, smallint, smallint, integer, timestamptz,
                                                  timestamptz, timestamptz, timestamptz, timestamptz) IS
  'Internal: CHECK tickets_row_check: channel, non-empty description, counts, scores, and what each state promises; raises check_violation naming the rule';

CREATE TABLE aftersales.tickets (
    -- No foreign key of its own to tenants: (tenant_id, customer_id)
    -- references customers, whose tenant_id references tenants, so it is
    -- implied; its check would lock the tenant's one row FOR KEY SHARE at
    -- every entry, in every session of the tenant (a multixact as soon as
    -- two sessions enter tickets at once).
    tenant_id          bigint      NOT NULL DEFAULT aftersales.current_tenant(),
    ticket_id          bigint      GENERATED ALWAYS AS IDENTITY,
    channel            text        NOT NULL DEFAULT 'phone',
    customer_id        bigint      NOT NULL,
    unit_id            bigint,
    model_id           bigint,
    problem_type_id    bigint      NOT NULL,
    description        text        NOT NULL,
    priority           aftersales.priority NOT NULL DEFAULT 'C',
    requested_at       timestamptz,
    org_id             bigint,
    field              boolean     NOT NULL DEFAULT false,
    tier               aftersales.ticket_tier NOT NULL DEFAULT 'customer_service',
    assignee_id        bigint,
    status             aftersales.ticket_status NOT NULL DEFAULT 'new',
    held_from          aftersales.ticket_status,
    attempt_count      integer     NOT NULL DEFAULT 0,
    reopen_count       integer     NOT NULL DEFAULT 0,
    opened_at          timestamptz NOT NULL DEFAULT aftersales.now(),
    first_response_at  timestamptz,
    assigned_at        timestamptz,
    arrived_at         timestamptz,
    first_resolved_at  timestamptz,
    resolved_at        timestamptz,
    followed_up_at     timestamptz,
    closed_at          timestamptz,
    cancelled_at       timestamptz,
    satisfied          boolean,
    csat               smallint,
    nps                smallint,
    follow_up_comment  text,
    event_seq          integer     NOT NULL DEFAULT 1,
    last_event         aftersales.ticket_event NOT NULL DEFAULT 'open',
    last_event_at      timestamptz NOT NULL,
    last_actor         text        NOT NULL,
    PRIMARY KEY (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES aftersales.customers (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, unit_id, model_id) REFERENCES aftersales.units (tenant_id, unit_id, model_id),
    FOREIGN KEY (tenant_id, model_id) REFERENCES aftersales.product_models (tenant_id, model_id),
    FOREIGN KEY (tenant_id, problem_type_id) REFERENCES aftersales.problem_types (tenant_id, problem_type_id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES aftersales.organisations (tenant_id, org_id),
    FOREIGN KEY (tenant_id, assignee_id) REFERENCES aftersales.engineers (tenant_id, engineer_id),
    -- channel in its list, a non-empty description, counts >= 0, csat 1-5,
    -- nps 0-10, event_seq >= 1, last_event_at >= opened_at, and what the
    -- states promise (an assignee while assigned, in progress or on site,
    -- none while new or locked; held_from exactly while on hold, from new,
    -- assigned, in_progress or on_site; resolved_at, closed_at, cancelled_at
    -- set in those states), whatever wrote the row
    CONSTRAINT tickets_row_check CHECK (aftersales._tickets_row_check(
        channel, description, status, held_from, assignee_id, attempt_count, reopen_count, csat, nps, event_seq,
        opened_at, last_event_at, resolved_at, closed_at, cancelled_at))
);
CREATE INDEX tickets_customer_idx ON aftersales.tickets (tenant_id, customer_id);
CREATE INDEX tickets_assignee_idx ON aftersales.tickets (tenant_id, assignee_id) WHERE assignee_id IS NOT NULL;

COMMENT ON TABLE aftersales.tickets IS
  'Service tickets (工单), held to the closed loop of seed 002 by a trigger: change them through the aftersales.*_ticket functions or, equivalently checked, by direct INSERT and UPDATE';
COMMENT ON COLUMN aftersales.tickets.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.tickets.ticket_id IS 'Ticket id';
COMMENT ON COLUMN aftersales.tickets.channel IS 'How the request came in: phone, web, app, wechat, email, walk_in, field, other';
COMMENT ON COLUMN aftersales.tickets.customer_id IS 'Customer who asked; fixed at entry';
COMMENT ON COLUMN aftersales.tickets.unit_id IS 'Installed unit concerned, when known; fixed at entry';
COMMENT ON COLUMN aftersales.tickets.model_id IS 'Product model concerned (the unit''s, when a unit is given); counted at entry; fixed';
COMMENT ON COLUMN aftersales.tickets.problem_type_id IS 'Problem type; counted at entry; fixed';
COMMENT ON COLUMN aftersales.tickets.description IS 'What the customer reported';
COMMENT ON COLUMN aftersales.tickets.priority IS 'A (urgent), B or C; changed by event retarget, which re-targets the SLA clocks';
COMMENT ON COLUMN aftersales.tickets.requested_at IS
  'Date and time the customer asked for; assigning after it locks the ticket (seed 002)';
COMMENT ON COLUMN aftersales.tickets.org_id IS 'Organisation handling the ticket';
COMMENT ON COLUMN aftersales.tickets.field IS 'Needs on-site service: the ticket gets an arrival clock at entry';
COMMENT ON COLUMN aftersales.tickets.tier IS 'Support tier handling it; changed by event transfer';
COMMENT ON COLUMN aftersales.tickets.assignee_id IS
  'Engineer who has the ticket; set by assign, reassign and take_over, cleared when it returns to new or is locked';
COMMENT ON COLUMN aftersales.tickets.status IS 'State in the closed loop';
COMMENT ON COLUMN aftersales.tickets.held_from IS 'While on hold: the state that resume returns to';
COMMENT ON COLUMN aftersales.tickets.attempt_count IS
  'Failed handling attempts (event fail); the second one locks the ticket (seed 002)';
COMMENT ON COLUMN aftersales.tickets.reopen_count IS
  'Times the ticket went back to new after being resolved: unsatisfied follow-ups and reopens';
COMMENT ON COLUMN aftersales.tickets.opened_at IS 'When the request was entered; the SLA clocks start here';
COMMENT ON COLUMN aftersales.tickets.first_response_at IS
  'When an engineer first engaged: the first start, arrive, resolve or fail';
COMMENT ON COLUMN aftersales.tickets.assigned_at IS 'When the current assignee was given the ticket';
COMMENT ON COLUMN aftersales.tickets.arrived_at IS 'First arrival on site';
COMMENT ON COLUMN aftersales.tickets.first_resolved_at IS 'First resolution, kept across reopens (first-time fix)';
COMMENT ON COLUMN aftersales.tickets.resolved_at IS 'Latest resolution; NULL again while a reopened ticket is unresolved';
COMMENT ON COLUMN aftersales.tickets.followed_up_at IS 'Latest follow-up call (回访)';
COMMENT ON COLUMN aftersales.tickets.closed_at IS 'When a satisfied follow-up closed the loop';
COMMENT ON COLUMN aftersales.tickets.cancelled_at IS 'When the ticket was cancelled';
COMMENT ON COLUMN aftersales.tickets.satisfied IS 'Latest follow-up: was the customer satisfied';
COMMENT ON COLUMN aftersales.tickets.csat IS 'Latest follow-up: satisfaction score, 1 to 5';
COMMENT ON COLUMN aftersales.tickets.nps IS 'Latest follow-up: likelihood to recommend, 0 to 10';
COMMENT ON COLUMN aftersales.tickets.follow_up_comment IS 'Latest follow-up: the customer''s words';
COMMENT ON COLUMN aftersales.tickets.event_seq IS 'Number of events so far: seq of the latest row in ticket_events';
COMMENT ON COLUMN aftersales.tickets.last_event IS 'Latest event';
COMMENT ON COLUMN aftersales.tickets.last_event_at IS 'When the latest event happened';
COMMENT ON COLUMN aftersales.tickets.last_actor IS 'Who made the latest event';

CREATE FUNCTION aftersales._ticket_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'aftersales_ticket_guard' LANGUAGE C;
COMMENT ON FUNCTION aftersales._ticket_guard() IS
  'Trigger: holds every INSERT and UPDATE of tickets to the closed loop and maintains its columns; refuses DELETE';
-- "zz" so that it fires after any other BEFORE trigger a DBA may add: it
-- must judge the row as it will be written.
CREATE TRIGGER zz_ticket_guard
    BEFORE INSERT OR UPDATE OR DELETE ON aftersales.tickets
    FOR EACH ROW EXECUTE FUNCTION aftersales._ticket_guard();

CREATE FUNCTION aftersales.ticket_transitions(
        OUT from_state aftersales.ticket_status, OUT event aftersales.ticket_event,
        OUT to_state aftersales.ticket_status, OUT rule text, OUT counts_attempt boolean,
        OUT counts_reopen boolean, OUT needs_reason boolean, OUT first_response boolean,
        OUT supplies text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'aftersales_ticket_transitions' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 60;
COMMENT ON FUNCTION aftersales.ticket_transitions() IS
  'The closed loop, from the table in C: each (from_state, event, to_state); rule names the condition of an alternative destination (late, attempts, unsatisfied, held_from); supplies names the column the caller provides';

CREATE FUNCTION aftersales.ticket_transition_rule(aftersales.ticket_status, aftersales.ticket_event, aftersales.ticket_status)
    RETURNS text
    AS 'MODULE_PATHNAME', 'aftersales_transition_rule' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION aftersales.ticket_transition_rule(aftersales.ticket_status, aftersales.ticket_event, aftersales.ticket_status) IS
  'The rule that sent a transition to its alternative destination, or NULL';

CREATE FUNCTION aftersales._declare_event(event text, actor text, at timestamptz, reason text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'aftersales_declare_event' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION aftersales._declare_event(text, text, timestamptz, text) IS
  'Internal: sets aftersales.event, event_actor, event_at and event_reason for the rest of the transaction; NULL clears them';

-- ---------------------------------------------------------------------------
-- The event log

CREATE FUNCTION aftersales._ticket_events_row_check(event aftersales.ticket_event, from_state aftersales.ticket_status,
                                                    seq integer)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_ticket_events_row_check' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales._ticket_events_row_check(aftersales.ticket_event, aftersales.ticket_status, integer) IS
  'Internal: CHECK ticket_events_row_check: seq from 1, and open (only) is first, with no from_state; raises check_violation naming the rule';

CREATE TABLE aftersales.ticket_events (
    -- No foreign key of its own to tenants: (tenant_id, ticket_id) references
    -- tickets, whose tenant_id references tenants, so it is implied, and
    -- its check (a row lock on the tenant, shared by every session of the
    -- tenant) would run once per event.
    tenant_id    bigint      NOT NULL,
    ticket_id    bigint      NOT NULL,
    seq          integer     NOT NULL,
    at           timestamptz NOT NULL,
    actor        text        NOT NULL,
    event        aftersales.ticket_event NOT NULL,
    from_state   aftersales.ticket_status,
    to_state     aftersales.ticket_status NOT NULL,
    reason       text,
    payload      jsonb       NOT NULL DEFAULT '{}',
    recorded_at  timestamptz NOT NULL DEFAULT pg_catalog.statement_timestamp(),
    PRIMARY KEY (tenant_id, ticket_id, seq),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    -- seq >= 1; (event = 'open') = (from_state IS NULL) = (seq = 1)
    CONSTRAINT ticket_events_row_check CHECK (aftersales._ticket_events_row_check(event, from_state, seq))
);
COMMENT ON TABLE aftersales.ticket_events IS
  'Append-only log of every change of every ticket (who, when, from, to, why), written by the tickets triggers; aftersales.replay_ticket() rebuilds a ticket from it';
COMMENT ON COLUMN aftersales.ticket_events.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.ticket_events.ticket_id IS 'Ticket changed';
COMMENT ON COLUMN aftersales.ticket_events.seq IS 'Position in the ticket''s history, from 1 (open) without gaps';
COMMENT ON COLUMN aftersales.ticket_events.at IS 'When the event happened (the at argument of the API, else aftersales.now())';
COMMENT ON COLUMN aftersales.ticket_events.actor IS 'Who made it (the actor argument of the API, else aftersales.actor())';
COMMENT ON COLUMN aftersales.ticket_events.event IS 'The event';
COMMENT ON COLUMN aftersales.ticket_events.from_state IS 'State before; NULL for open';
COMMENT ON COLUMN aftersales.ticket_events.to_state IS 'State after';
COMMENT ON COLUMN aftersales.ticket_events.reason IS 'Why (required for fail, release, hold, transfer, cancel, reopen, lock), or the resolution';
COMMENT ON COLUMN aftersales.ticket_events.payload IS
  'What else changed: assignee, tier, priority, follow-up scores, the rule that applied, and the SLA clocks'' targets, due times, pauses and elapsed times';
COMMENT ON COLUMN aftersales.ticket_events.recorded_at IS 'When the row was written (wall clock), whatever at says';

CREATE FUNCTION aftersales._append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'cannot % %: it is append-only', pg_catalog.lower(TG_OP), TG_TABLE_NAME
        USING ERRCODE = '55000',
              DETAIL = 'The event log is the history of the tickets; replay and audits depend on every row.',
              HINT = 'Record a new event instead, for example: SELECT aftersales.reopen_ticket(42, reason => ''closed by mistake'');';
END
$$;
COMMENT ON FUNCTION aftersales._append_only() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE';
CREATE TRIGGER append_only
    BEFORE UPDATE OR DELETE ON aftersales.ticket_events
    FOR EACH ROW EXECUTE FUNCTION aftersales._append_only();
CREATE TRIGGER append_only_truncate
    BEFORE TRUNCATE ON aftersales.ticket_events
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales._append_only();

-- ---------------------------------------------------------------------------
-- SLA clocks

CREATE FUNCTION aftersales._ticket_sla_row_check(stopped_at timestamptz, outcome text, paused_since timestamptz)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_ticket_sla_row_check' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales._ticket_sla_row_check(timestamptz, text, timestamptz) IS
  'Internal: CHECK ticket_sla_row_check: an outcome (met, breached, cancelled) exactly when stopped, never paused when stopped; raises check_violation naming the rule';

CREATE TABLE aftersales.ticket_sla (
    -- Tenant implied by the ticket's foreign key, as in ticket_events.
    tenant_id       bigint      NOT NULL,
    ticket_id       bigint      NOT NULL,
    metric          aftersales.sla_metric NOT NULL,
    policy_id       bigint      NOT NULL,
    agreement_id    bigint,
    target          interval    NOT NULL,
    calendar        text,
    pauses_on_hold  boolean     NOT NULL,
    started_at      timestamptz NOT NULL,
    due_at          timestamptz NOT NULL,
    paused          interval    NOT NULL DEFAULT '0',
    paused_since    timestamptz,
    stopped_at      timestamptz,
    outcome         text,
    elapsed         interval,
    elapsed_wall    interval,
    next_due        timestamptz GENERATED ALWAYS AS
                    (CASE WHEN stopped_at IS NULL AND paused_since IS NULL THEN due_at END) STORED,
    PRIMARY KEY (tenant_id, ticket_id, metric),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    -- outcome in met, breached, cancelled; set exactly when stopped; a
    -- stopped clock is not paused
    CONSTRAINT ticket_sla_row_check CHECK (aftersales._ticket_sla_row_check(stopped_at, outcome, paused_since))
);
-- What the escalation sweeps read: the running clocks, by due time.
CREATE INDEX ticket_sla_next_due_idx ON aftersales.ticket_sla (next_due) WHERE next_due IS NOT NULL;

COMMENT ON TABLE aftersales.ticket_sla IS
  'SLA clocks: one per ticket and metric (first_response, arrival for field tickets, resolution), kept by the tickets triggers';
COMMENT ON COLUMN aftersales.ticket_sla.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.ticket_sla.ticket_id IS 'Ticket measured';
COMMENT ON COLUMN aftersales.ticket_sla.metric IS 'first_response, arrival or resolution';
COMMENT ON COLUMN aftersales.ticket_sla.policy_id IS 'SLA policy the target came from';
COMMENT ON COLUMN aftersales.ticket_sla.agreement_id IS 'Service agreement that chose the policy; NULL for the tenant default';
COMMENT ON COLUMN aftersales.ticket_sla.target IS 'Time allowed (business time, or wall-clock time when calendar is NULL); re-targeted by priority changes';
COMMENT ON COLUMN aftersales.ticket_sla.calendar IS 'Calendar the clock counts business time on; NULL: a 24x7 wall clock';
COMMENT ON COLUMN aftersales.ticket_sla.pauses_on_hold IS 'Whether the clock stops while the ticket is on hold';
COMMENT ON COLUMN aftersales.ticket_sla.started_at IS 'Start: the ticket''s entry';
COMMENT ON COLUMN aftersales.ticket_sla.due_at IS 'Deadline: target plus pauses, counted from the start on the calendar';
COMMENT ON COLUMN aftersales.ticket_sla.paused IS 'Time paused so far, in the clock''s time (business time on its calendar)';
COMMENT ON COLUMN aftersales.ticket_sla.paused_since IS 'Start of the current pause, while paused';
COMMENT ON COLUMN aftersales.ticket_sla.stopped_at IS 'When the clock stopped: the metric was reached, or it was cancelled';
COMMENT ON COLUMN aftersales.ticket_sla.outcome IS 'met, breached (stopped after due_at), or cancelled (no longer applies); NULL while running';
COMMENT ON COLUMN aftersales.ticket_sla.elapsed IS 'Once stopped: time counted, in the clock''s time, less pauses';
COMMENT ON COLUMN aftersales.ticket_sla.elapsed_wall IS 'Once stopped: wall-clock time from start to stop, pauses included';
COMMENT ON COLUMN aftersales.ticket_sla.next_due IS 'due_at while the clock runs (not stopped, not paused), else NULL: what escalation sweeps scan';

-- A ticket's SLA policy: the customer's agreement valid on the day of
-- entry (in the zone of the agreement's calendar), else the tenant default.
-- At entry, every new row gets its clocks; one with none is refused.
CREATE FUNCTION aftersales._no_sla_policy(tenant bigint, ticket bigint, customer bigint, priority aftersales.priority)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    RAISE EXCEPTION 'no SLA targets apply to ticket % of customer %', ticket, customer
        USING ERRCODE = '55000',
              DETAIL = pg_catalog.format('Tenant %s has no default SLA policy with targets for priority %s, and the customer no service agreement valid today.', tenant, priority),
              HINT = 'Give the tenant a default policy, for example: INSERT INTO aftersales.sla_policies (name, is_default) VALUES (''default'', true); then its targets in aftersales.sla_targets.';
END
$$;
COMMENT ON FUNCTION aftersales._no_sla_policy(bigint, bigint, bigint, aftersales.priority) IS
  'Internal: the error for a ticket without SLA targets';

-- Entry (C, src/ticket_log.c): one new ticket, the usual case, through
-- statements prepared once per backend; many (open_tickets, INSERT ...
-- SELECT) set-based over the transition table.  As the owner, like
-- _ticket_changed.
CREATE FUNCTION aftersales._tickets_entered() RETURNS trigger
    AS 'MODULE_PATHNAME', 'aftersales_tickets_entered'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION aftersales._tickets_entered() IS
  'Trigger, after each INSERT statement on tickets: occurrence counts, SLA clocks, escalation watches and the open events, set-based';
CREATE TRIGGER tickets_entered
    AFTER INSERT ON aftersales.tickets
    REFERENCING NEW TABLE AS new_tickets
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales._tickets_entered();

-- One change of one ticket: its clocks, then its event row.  In C
-- (src/ticket_log.c, which says how the clocks follow the states and time
-- stamps), since it runs on every event: the statements it runs are
-- prepared once per backend.  As the owner, so that no client needs (or
-- gets) the right to write the log or the clocks.
CREATE FUNCTION aftersales._ticket_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'aftersales_ticket_changed'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION aftersales._ticket_changed() IS
  'Trigger, after each update of a ticket that recorded an event: moves its SLA clocks and writes the event row';
CREATE TRIGGER ticket_changed
    AFTER UPDATE ON aftersales.tickets
    FOR EACH ROW WHEN (NEW.event_seq IS DISTINCT FROM OLD.event_seq)
    EXECUTE FUNCTION aftersales._ticket_changed();

-- ---------------------------------------------------------------------------
-- pg_dump and privileges

SELECT pg_catalog.pg_extension_config_dump('aftersales.tickets', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.ticket_events', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.ticket_sla', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.tickets', 'ticket_id')::regclass, '');

-- Trigger functions that write the log and the clocks run as the owner, so
-- no client needs (or gets) the right to write those tables.
REVOKE ALL ON FUNCTION aftersales._tickets_entered() FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales._ticket_changed() FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales._no_sla_policy(bigint, bigint, bigint, aftersales.priority) FROM PUBLIC;

-- aftersales install script, part 31: the ticket API.
--
-- One function per event of the closed loop.  Each is one statement's worth
-- of work in the caller's transaction, validates its input (clear errors
-- with SQLSTATE and an example), then names its event and lets the trigger
-- on tickets judge it and compute the new state: the transitions live only
-- in the C table (src/ticket.c).  Every function returns the ticket's new
-- status (open_ticket: its id).
--
-- Common parameters, last in every signature:
--   actor  who acts, recorded in the event; default aftersales.actor(): the
--          setting aftersales.actor, else the database role.
--   at     when it happened; default aftersales.now(): the setting
--          aftersales.now, else now().  Tests pass fixed times; an
--          application importing past data passes the original times.
--          Events of a ticket must come in time order.
-- The tenant is always aftersales.current_tenant(): a ticket of another
-- tenant is reported as not existing.

CREATE FUNCTION aftersales._ticket_not_found(ticket bigint, tenant bigint) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'ticket % does not exist for tenant %', ticket, tenant
        USING ERRCODE = 'P0002',
              HINT = 'Tickets belong to the tenant in the setting aftersales.tenant_id; list them with: SELECT ticket_id, status FROM aftersales.tickets WHERE tenant_id = aftersales.current_tenant();';
END
$$;
COMMENT ON FUNCTION aftersales._ticket_not_found(bigint, bigint) IS 'Internal: the error for an unknown ticket';

CREATE FUNCTION aftersales._require_reason(reason text, event text, example text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF reason IS NULL OR pg_catalog.btrim(reason) OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION 'event % needs a reason', event
            USING ERRCODE = '22004',
                  DETAIL = 'The reason is recorded in the event log, for the service manager and for audits.',
                  HINT = pg_catalog.format('For example: %s', example);
    END IF;
END
$$;
COMMENT ON FUNCTION aftersales._require_reason(text, text, text) IS 'Internal: the error for a missing reason';

CREATE FUNCTION aftersales._require_engineer(engineer bigint, tenant bigint, fn text) RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    is_active boolean;
BEGIN
    IF engineer IS NULL THEN
        RAISE EXCEPTION 'engineer must not be null'
            USING ERRCODE = '22004',
                  HINT = pg_catalog.format('Name the engineer, for example: SELECT aftersales.%s(42, engineer => 7);', fn);
    END IF;
    SELECT e.active INTO is_active FROM aftersales.engineers e
     WHERE e.tenant_id OPERATOR(pg_catalog.=) tenant AND e.engineer_id OPERATOR(pg_catalog.=) engineer;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'engineer % does not exist for tenant %', engineer, tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the engineers with: SELECT engineer_id, name FROM aftersales.engineers WHERE tenant_id = aftersales.current_tenant() AND active;';
    ELSIF NOT is_active THEN
        RAISE EXCEPTION 'engineer % is no longer active', engineer
            USING ERRCODE = '55000',
                  HINT = 'Choose an active engineer.';
    END IF;
END
$$;
COMMENT ON FUNCTION aftersales._require_engineer(bigint, bigint, text) IS 'Internal: the error for an unknown or inactive engineer';

-- The one UPDATE behind every event: declare it, supply the columns the
-- event takes from the caller, let the trigger do the rest.  In C
-- (src/ticket.c) since every event runs it: the declaration is C calls
-- instead of statements, the UPDATE a statement prepared once per backend.
-- Errors: a NULL ticket (22004), a ticket not of the current tenant (P0002).
CREATE FUNCTION aftersales._ticket_event(ticket bigint, event aftersales.ticket_event, actor text, at timestamptz,
                                         reason text DEFAULT NULL, assignee bigint DEFAULT NULL,
                                         tier aftersales.ticket_tier DEFAULT NULL,
                                         priority aftersales.priority DEFAULT NULL,
                                         satisfied boolean DEFAULT NULL, csat integer DEFAULT NULL,
                                         nps integer DEFAULT NULL, comment text DEFAULT NULL)
    RETURNS aftersales.ticket_status
    AS 'MODULE_PATHNAME', 'aftersales_ticket_event' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION aftersales._ticket_event(bigint, aftersales.ticket_event, text, timestamptz, text, bigint,
                                             aftersales.ticket_tier, aftersales.priority, boolean, integer, integer, text) IS
  'Internal: records one event of a ticket through the closed-loop trigger';

-- ---------------------------------------------------------------------------
-- Entry

-- The INSERT of open_ticket, declared as event open (C, src/ticket.c, like
-- _ticket_event: open_ticket's PL/pgSQL only validates).
CREATE FUNCTION aftersales._ticket_open(tenant bigint, channel text, customer bigint, unit bigint, model bigint,
                                        problem_type bigint, description text, priority aftersales.priority,
                                        requested_at timestamptz, org bigint, field boolean,
                                        status aftersales.ticket_status, opened timestamptz, actor text, reason text)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'aftersales_ticket_open' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION aftersales._ticket_open(bigint, text, bigint, bigint, bigint, bigint, text, aftersales.priority,
                                            timestamptz, bigint, boolean, aftersales.ticket_status, timestamptz, text, text) IS
  'Internal: enters one validated ticket through the closed-loop trigger, as event open; returns its id';

CREATE FUNCTION aftersales.open_ticket(customer bigint, problem_type bigint, priority aftersales.priority,
                                       description text, channel text DEFAULT 'phone',
                                       unit bigint DEFAULT NULL, model bigint DEFAULT NULL,
                                       requested_at timestamptz DEFAULT NULL, field boolean DEFAULT false,
                                       org bigint DEFAULT NULL, on_hold boolean DEFAULT false,
                                       reason text DEFAULT NULL,
                                       actor text DEFAULT aftersales.actor(),
                                       at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    opened timestamptz := COALESCE(at, aftersales.now());
    unit_customer bigint;
    unit_model bigint;
    customer_ok boolean;
    problem_type_ok boolean;
    model_ok boolean;
    org_ok boolean;
    example constant text := 'SELECT aftersales.open_ticket(customer => 7, problem_type => 3, priority => ''B'', description => ''no power'');';
BEGIN
    IF customer IS NULL OR problem_type IS NULL OR priority IS NULL OR description IS NULL THEN
        RAISE EXCEPTION 'customer, problem_type, priority and description must not be null'
            USING ERRCODE = '22004', HINT = 'For example: ' OPERATOR(pg_catalog.||) example;
    END IF;
    IF pg_catalog.btrim(description) OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION 'description must not be empty'
            USING ERRCODE = '22023', HINT = 'Say what the customer reported, for example: ' OPERATOR(pg_catalog.||) example;
    END IF;
    -- What must exist, read in one statement; the errors below keep their order.
    SELECT EXISTS (SELECT FROM aftersales.customers c
                    WHERE c.tenant_id OPERATOR(pg_catalog.=) tenant AND c.customer_id OPERATOR(pg_catalog.=) open_ticket.customer),
           EXISTS (SELECT FROM aftersales.problem_types p
                    WHERE p.tenant_id OPERATOR(pg_catalog.=) tenant AND p.problem_type_id OPERATOR(pg_catalog.=) problem_type),
           model IS NULL OR EXISTS (SELECT FROM aftersales.product_models m
                                     WHERE m.tenant_id OPERATOR(pg_catalog.=) tenant AND m.model_id OPERATOR(pg_catalog.=) model),
           org IS NULL OR EXISTS (SELECT FROM aftersales.organisations o
                                   WHERE o.tenant_id OPERATOR(pg_catalog.=) tenant AND o.org_id OPERATOR(pg_catalog.=) org)
      INTO customer_ok, problem_type_ok, model_ok, org_ok;
    IF NOT customer_ok THEN
        RAISE EXCEPTION 'customer % does not exist for tenant %', customer, tenant
            USING ERRCODE = 'P0002',
                  HINT = 'Register the customer first: INSERT INTO aftersales.customers (name) VALUES (''...'') RETURNING customer_id;';
    END IF;
    IF NOT problem_type_ok THEN
        RAISE EXCEPTION 'problem type % does not exist for tenant %', problem_type, tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the problem types with: SELECT problem_type_id, code, name FROM aftersales.problem_types WHERE tenant_id = aftersales.current_tenant();';
    END IF;
    IF channel IS NULL OR channel NOT IN ('phone', 'web', 'app', 'wechat', 'email', 'walk_in', 'field', 'other') THEN
        RAISE EXCEPTION 'invalid channel: "%"', channel
            USING ERRCODE = '22023',
                  HINT = 'Channels are phone, web, app, wechat, email, walk_in, field and other.';
    END IF;
    IF unit IS NOT NULL THEN
        SELECT u.customer_id, u.model_id INTO unit_customer, unit_model FROM aftersales.units u
         WHERE u.tenant_id OPERATOR(pg_catalog.=) tenant AND u.unit_id OPERATOR(pg_catalog.=) unit;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'unit % does not exist for tenant %', unit, tenant
                USING ERRCODE = 'P0002',
                      HINT = 'Find the unit by its serial: SELECT unit_id FROM aftersales.units WHERE serial = ''...'';';
        END IF;
        IF unit_customer OPERATOR(pg_catalog.<>) customer THEN
            RAISE EXCEPTION 'unit % belongs to customer %, not to customer %', unit, unit_customer, customer
                USING ERRCODE = '22023', HINT = 'Open the ticket for the customer who has the unit.';
        END IF;
        IF model IS NOT NULL AND model OPERATOR(pg_catalog.<>) unit_model THEN
            RAISE EXCEPTION 'unit % is of model %, not of model %', unit, unit_model, model
                USING ERRCODE = '22023', HINT = 'Leave the model out: it is taken from the unit.';
        END IF;
        model := unit_model;
    ELSIF NOT model_ok THEN
        RAISE EXCEPTION 'product model % does not exist for tenant %', model, tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the models with: SELECT model_id, code, name FROM aftersales.product_models WHERE tenant_id = aftersales.current_tenant();';
    END IF;
    IF NOT org_ok THEN
        RAISE EXCEPTION 'organisation % does not exist for tenant %', org, tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the organisations with: SELECT org_id, name FROM aftersales.organisations WHERE tenant_id = aftersales.current_tenant();';
    END IF;
    IF requested_at OPERATOR(pg_catalog.<) opened THEN
        RAISE EXCEPTION 'requested date % precedes the entry of the ticket at %', requested_at, opened
            USING ERRCODE = '22023', HINT = 'The customer-requested date is when the customer wants the problem solved, after entry.';
    END IF;
    IF COALESCE(on_hold, false) THEN
        PERFORM aftersales._require_reason(reason, 'hold',
            'SELECT aftersales.open_ticket(customer => 7, problem_type => 3, priority => ''C'', description => ''noise'', on_hold => true, reason => ''customer away until Monday'');');
    END IF;

    RETURN aftersales._ticket_open(tenant, channel, customer, unit, model, problem_type, description, priority,
                                   requested_at, org, COALESCE(field, false),
                                   CASE WHEN COALESCE(on_hold, false) THEN 'on_hold' ELSE 'new' END::aftersales.ticket_status,
                                   opened, actor, reason);
END
$$;
COMMENT ON FUNCTION aftersales.open_ticket(bigint, bigint, aftersales.priority, text, text, bigint, bigint, timestamptz,
                                           boolean, bigint, boolean, text, text, timestamptz) IS
  'Enter a service request: new (awaiting assignment) or, with on_hold and a reason, on hold; counts its model and problem type and starts its SLA clocks; returns the ticket id';

CREATE FUNCTION aftersales._bad_item(item bigint, message text) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'ticket % of the batch: %', item, message
        USING ERRCODE = '22023',
              HINT = 'Each element is an object like {"customer": 7, "problem_type": 3, "priority": "B", "description": "no power"}; optional keys: channel, unit, model, requested_at, field, org, on_hold, opened_at.';
END
$$;
COMMENT ON FUNCTION aftersales._bad_item(bigint, text) IS 'Internal: the error for an invalid element of open_tickets';

-- Set-based entry: one INSERT for the whole batch, so the statement-level
-- trigger counts, starts clocks and logs for all tickets at once.
CREATE FUNCTION aftersales.open_tickets(tickets jsonb, reason text DEFAULT NULL,
                                        actor text DEFAULT aftersales.actor(),
                                        at timestamptz DEFAULT aftersales.now())
    RETURNS SETOF bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    opened timestamptz := COALESCE(at, aftersales.now());
BEGIN
    IF tickets IS NULL OR pg_catalog.jsonb_typeof(tickets) OPERATOR(pg_catalog.<>) 'array' THEN
        RAISE EXCEPTION 'tickets must be a JSON array'
            USING ERRCODE = '22023',
                  HINT = 'For example: SELECT aftersales.open_tickets(''[{"customer": 7, "problem_type": 3, "priority": "B", "description": "no power"}]'');';
    END IF;
    PERFORM aftersales._declare_event('open', COALESCE(NULLIF(actor, ''), aftersales.actor()), opened,
                                      NULLIF(pg_catalog.btrim(reason), ''));
    RETURN QUERY
    INSERT INTO aftersales.tickets AS tk (tenant_id, channel, customer_id, unit_id, model_id, problem_type_id,
                                          description, priority, requested_at, org_id, field, status, opened_at)
    SELECT tenant,
           CASE WHEN COALESCE(x.channel, 'phone') IN ('phone', 'web', 'app', 'wechat', 'email', 'walk_in', 'field', 'other')
                THEN COALESCE(x.channel, 'phone')
                ELSE aftersales._bad_item(x.item, pg_catalog.format('invalid channel "%s"', x.channel))::text END,
           CASE WHEN c.customer_id IS NOT NULL THEN x.customer
                ELSE aftersales._bad_item(x.item, pg_catalog.format('customer %s does not exist', x.customer)) END,
           CASE WHEN x.unit IS NULL OR u.customer_id OPERATOR(pg_catalog.=) x.customer THEN x.unit
                ELSE aftersales._bad_item(x.item, pg_catalog.format('unit %s does not exist or belongs to another customer', x.unit)) END,
           CASE WHEN x.model IS NULL OR u.unit_id IS NULL OR x.model OPERATOR(pg_catalog.=) u.model_id
                THEN COALESCE(u.model_id, x.model)
                ELSE aftersales._bad_item(x.item, pg_catalog.format('unit %s is not of model %s', x.unit, x.model)) END,
           CASE WHEN p.problem_type_id IS NOT NULL THEN x.problem_type
                ELSE aftersales._bad_item(x.item, pg_catalog.format('problem type %s does not exist', x.problem_type)) END,
           CASE WHEN pg_catalog.btrim(x.description) OPERATOR(pg_catalog.<>) '' THEN x.description
                ELSE aftersales._bad_item(x.item, 'description is missing')::text END,
           CASE WHEN x.priority IS NOT NULL THEN x.priority
                ELSE aftersales._bad_item(x.item, 'priority is missing')::text::aftersales.priority END,
           CASE WHEN x.requested_at IS NULL OR x.requested_at OPERATOR(pg_catalog.>=) COALESCE(x.opened_at, opened)
                THEN x.requested_at
                ELSE aftersales._bad_item(x.item, 'requested_at precedes the entry')::text::timestamptz END,
           x.org,
           COALESCE(x.field, false),
           CASE WHEN NOT COALESCE(x.on_hold, false) THEN 'new'::aftersales.ticket_status
                WHEN reason IS NOT NULL THEN 'on_hold'::aftersales.ticket_status
                ELSE aftersales._bad_item(x.item, 'on_hold needs the reason argument')::text::aftersales.ticket_status END,
           COALESCE(x.opened_at, opened)
      FROM ROWS FROM (pg_catalog.jsonb_to_recordset(tickets)
                      AS (customer bigint, problem_type bigint, priority aftersales.priority, description text,
                          channel text, unit bigint, model bigint, requested_at timestamptz, field boolean,
                          org bigint, on_hold boolean, opened_at timestamptz)) WITH ORDINALITY
           AS x (customer, problem_type, priority, description, channel, unit, model, requested_at, field, org,
                 on_hold, opened_at, item)
      LEFT JOIN aftersales.customers c
        ON c.tenant_id OPERATOR(pg_catalog.=) tenant AND c.customer_id OPERATOR(pg_catalog.=) x.customer
      LEFT JOIN aftersales.problem_types p
        ON p.tenant_id OPERATOR(pg_catalog.=) tenant AND p.problem_type_id OPERATOR(pg_catalog.=) x.problem_type
      LEFT JOIN aftersales.units u
        ON u.tenant_id OPERATOR(pg_catalog.=) tenant AND u.unit_id OPERATOR(pg_catalog.=) x.unit
     ORDER BY x.item
    RETURNING tk.ticket_id;
    PERFORM aftersales._declare_event(NULL, NULL, NULL, NULL);
END
$$;
COMMENT ON FUNCTION aftersales.open_tickets(jsonb, text, text, timestamptz) IS
  'Enter many service requests in one statement (a JSON array of open_ticket''s arguments by name, plus opened_at); returns their ids in input order';

-- ---------------------------------------------------------------------------
-- Assignment

CREATE FUNCTION aftersales.assign_ticket(ticket bigint, engineer bigint,
                                         actor text DEFAULT aftersales.actor(),
                                         at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales._require_engineer(engineer, aftersales.current_tenant(), 'assign_ticket');
    RETURN aftersales._ticket_event(ticket, 'assign', actor, at, assignee => engineer);
END
$$;
COMMENT ON FUNCTION aftersales.assign_ticket(bigint, bigint, text, timestamptz) IS
  'Assign an engineer to a ticket awaiting assignment: assigned, or locked for the service manager when the customer-requested date has passed (seed 002)';

CREATE FUNCTION aftersales.reassign_ticket(ticket bigint, engineer bigint, reason text DEFAULT NULL,
                                           actor text DEFAULT aftersales.actor(),
                                           at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales._require_engineer(engineer, aftersales.current_tenant(), 'reassign_ticket');
    RETURN aftersales._ticket_event(ticket, 'reassign', actor, at, reason, assignee => engineer);
END
$$;
COMMENT ON FUNCTION aftersales.reassign_ticket(bigint, bigint, text, text, timestamptz) IS
  'Give an assigned, in-progress or on-site ticket to another engineer: assigned';

CREATE FUNCTION aftersales.take_over_ticket(ticket bigint, engineer bigint, reason text DEFAULT NULL,
                                            actor text DEFAULT aftersales.actor(),
                                            at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales._require_engineer(engineer, aftersales.current_tenant(), 'take_over_ticket');
    RETURN aftersales._ticket_event(ticket, 'take_over', actor, at, reason, assignee => engineer);
END
$$;
COMMENT ON FUNCTION aftersales.take_over_ticket(bigint, bigint, text, text, timestamptz) IS
  'Service manager: assign a locked ticket to an engineer (possibly the manager): assigned';

CREATE FUNCTION aftersales.release_ticket(ticket bigint, reason text,
                                          actor text DEFAULT aftersales.actor(),
                                          at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales._require_reason(reason, 'release',
        'SELECT aftersales.release_ticket(42, reason => ''not handled before the requested date'');');
    RETURN aftersales._ticket_event(ticket, 'release', actor, at, reason);
END
$$;
COMMENT ON FUNCTION aftersales.release_ticket(bigint, text, text, timestamptz) IS
  'Return an assigned ticket the engineer has not handled to assignment (seed 002: not handled before the requested date); no attempt is counted';

-- ---------------------------------------------------------------------------
-- Work

CREATE FUNCTION aftersales.start_work(ticket bigint,
                                      actor text DEFAULT aftersales.actor(),
                                      at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN aftersales._ticket_event(ticket, 'start', actor, at);
END
$$;
COMMENT ON FUNCTION aftersales.start_work(bigint, text, timestamptz) IS
  'The engineer starts on an assigned ticket: in_progress; the first response if none yet';

CREATE FUNCTION aftersales.arrive_on_site(ticket bigint,
                                          actor text DEFAULT aftersales.actor(),
                                          at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN aftersales._ticket_event(ticket, 'arrive', actor, at);
END
$$;
COMMENT ON FUNCTION aftersales.arrive_on_site(bigint, text, timestamptz) IS
  'The engineer arrives at the customer: on_site; stops the arrival clock';

CREATE FUNCTION aftersales.resolve_ticket(ticket bigint, resolution text DEFAULT NULL,
                                          actor text DEFAULT aftersales.actor(),
                                          at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN aftersales._ticket_event(ticket, 'resolve', actor, at, resolution);
END
$$;
COMMENT ON FUNCTION aftersales.resolve_ticket(bigint, text, text, timestamptz) IS
  'The problem is solved: resolved, awaiting the follow-up; stops the resolution clock (the resolution is recorded as the event''s reason)';

CREATE FUNCTION aftersales.fail_attempt(ticket bigint, reason text,
                                        actor text DEFAULT aftersales.actor(),
                                        at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales._require_reason(reason, 'fail', 'SELECT aftersales.fail_attempt(42, reason => ''spare part missing'');');
    RETURN aftersales._ticket_event(ticket, 'fail', actor, at, reason);
END
$$;
COMMENT ON FUNCTION aftersales.fail_attempt(bigint, text, text, timestamptz) IS
  'A handling failed: counts an attempt and returns the ticket to assignment, or after the second failure locks it for the service manager (seed 002)';

CREATE FUNCTION aftersales.hold_ticket(ticket bigint, reason text,
                                       actor text DEFAULT aftersales.actor(),
                                       at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales._require_reason(reason, 'hold', 'SELECT aftersales.hold_ticket(42, reason => ''waiting for the customer'');');
    RETURN aftersales._ticket_event(ticket, 'hold', actor, at, reason);
END
$$;
COMMENT ON FUNCTION aftersales.hold_ticket(bigint, text, text, timestamptz) IS
  'Wait on the customer: on_hold; clocks that pause on hold (resolution, by default) pause';

CREATE FUNCTION aftersales.resume_ticket(ticket bigint,
                                         actor text DEFAULT aftersales.actor(),
                                         at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN aftersales._ticket_event(ticket, 'resume', actor, at);
END
$$;
COMMENT ON FUNCTION aftersales.resume_ticket(bigint, text, timestamptz) IS
  'End a hold: back to the state it was held from; paused clocks run again, their due times moved by the business time held';

CREATE FUNCTION aftersales.transfer_ticket(ticket bigint, tier aftersales.ticket_tier, reason text,
                                           actor text DEFAULT aftersales.actor(),
                                           at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tier IS NULL THEN
        RAISE EXCEPTION 'tier must not be null'
            USING ERRCODE = '22004',
                  HINT = 'Tiers are customer_service, technical_support and rnd; for example: SELECT aftersales.transfer_ticket(42, tier => ''technical_support'', reason => ''needs a specialist'');';
    END IF;
    PERFORM aftersales._require_reason(reason, 'transfer',
        'SELECT aftersales.transfer_ticket(42, tier => ''technical_support'', reason => ''needs a specialist'');');
    RETURN aftersales._ticket_event(ticket, 'transfer', actor, at, reason, tier => transfer_ticket.tier);
END
$$;
COMMENT ON FUNCTION aftersales.transfer_ticket(bigint, aftersales.ticket_tier, text, text, timestamptz) IS
  'Pass a ticket to another support tier (customer_service, technical_support, rnd): it awaits assignment there';

-- ---------------------------------------------------------------------------
-- Follow-up, cancellation, the service manager

CREATE FUNCTION aftersales.follow_up(ticket bigint, satisfied boolean, csat integer DEFAULT NULL,
                                     nps integer DEFAULT NULL, comment text DEFAULT NULL,
                                     actor text DEFAULT aftersales.actor(),
                                     at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF satisfied IS NULL THEN
        RAISE EXCEPTION 'satisfied must not be null'
            USING ERRCODE = '22004',
                  HINT = 'Record whether the customer is satisfied, for example: SELECT aftersales.follow_up(42, satisfied => true, csat => 5, nps => 9);';
    END IF;
    IF csat NOT BETWEEN 1 AND 5 THEN
        RAISE EXCEPTION 'csat must be between 1 and 5, not %', csat
            USING ERRCODE = '22003',
                  HINT = 'CSAT is a score from 1 (very unsatisfied) to 5 (very satisfied), or NULL when not asked.';
    END IF;
    IF nps NOT BETWEEN 0 AND 10 THEN
        RAISE EXCEPTION 'nps must be between 0 and 10, not %', nps
            USING ERRCODE = '22003',
                  HINT = 'NPS is the likelihood to recommend, from 0 to 10, or NULL when not asked.';
    END IF;
    RETURN aftersales._ticket_event(ticket, 'follow_up', actor, at, NULL, satisfied => follow_up.satisfied,
                                    csat => follow_up.csat, nps => follow_up.nps, comment => follow_up.comment);
END
$$;
COMMENT ON FUNCTION aftersales.follow_up(bigint, boolean, integer, integer, text, text, timestamptz) IS
  'The follow-up call (回访) of a resolved ticket: satisfied closes the loop; not satisfied sends it back to assignment and counts a reopen';

CREATE FUNCTION aftersales.cancel_ticket(ticket bigint, reason text,
                                         actor text DEFAULT aftersales.actor(),
                                         at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales._require_reason(reason, 'cancel', 'SELECT aftersales.cancel_ticket(42, reason => ''duplicate request'');');
    RETURN aftersales._ticket_event(ticket, 'cancel', actor, at, reason);
END
$$;
COMMENT ON FUNCTION aftersales.cancel_ticket(bigint, text, text, timestamptz) IS
  'Cancel an unresolved ticket: cancelled, final; its running clocks are cancelled';

CREATE FUNCTION aftersales.reopen_ticket(ticket bigint, reason text,
                                         actor text DEFAULT aftersales.actor(),
                                         at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales._require_reason(reason, 'reopen', 'SELECT aftersales.reopen_ticket(42, reason => ''the fault came back'');');
    RETURN aftersales._ticket_event(ticket, 'reopen', actor, at, reason);
END
$$;
COMMENT ON FUNCTION aftersales.reopen_ticket(bigint, text, text, timestamptz) IS
  'Reopen a closed ticket: back to assignment, counts a reopen; the resolution clock runs again (time spent resolved not counted), first_resolved_at is kept';

CREATE FUNCTION aftersales.lock_ticket(ticket bigint, reason text,
                                       actor text DEFAULT aftersales.actor(),
                                       at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales._require_reason(reason, 'lock', 'SELECT aftersales.lock_ticket(42, reason => ''not assigned before the requested date'');');
    RETURN aftersales._ticket_event(ticket, 'lock', actor, at, reason);
END
$$;
COMMENT ON FUNCTION aftersales.lock_ticket(bigint, text, text, timestamptz) IS
  'Lock an open ticket for the service manager (seed 002: e.g. not assigned before the requested date)';

CREATE FUNCTION aftersales.unlock_ticket(ticket bigint, reason text DEFAULT NULL,
                                         actor text DEFAULT aftersales.actor(),
                                         at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN aftersales._ticket_event(ticket, 'unlock', actor, at, reason);
END
$$;
COMMENT ON FUNCTION aftersales.unlock_ticket(bigint, text, text, timestamptz) IS
  'Service manager: return a locked ticket to assignment';

CREATE FUNCTION aftersales.set_priority(ticket bigint, priority aftersales.priority, reason text DEFAULT NULL,
                                        actor text DEFAULT aftersales.actor(),
                                        at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF priority IS NULL THEN
        RAISE EXCEPTION 'priority must not be null'
            USING ERRCODE = '22004',
                  HINT = 'Priorities are A, B and C; for example: SELECT aftersales.set_priority(42, priority => ''A'');';
    END IF;
    RETURN aftersales._ticket_event(ticket, 'retarget', actor, at, reason, priority => set_priority.priority);
END
$$;
COMMENT ON FUNCTION aftersales.set_priority(bigint, aftersales.priority, text, text, timestamptz) IS
  'Change the priority of an open ticket (event retarget): running SLA clocks take the new priority''s targets, keeping their elapsed time and pauses';

-- aftersales install script, part 32: replaying tickets from their events.
--
-- replay_ticket() folds a ticket's events into its state, counters, time
-- stamps and SLA clocks, following the same rules as the trigger (ticket.c)
-- and the clock trigger (30_tickets.sql) but written a second time, from
-- the event rows alone: every transition is checked against the closed-loop
-- table, and what only a calendar or a policy could tell (due times, pauses,
-- business time elapsed, targets) is read from the events' payloads, so a
-- later change of a calendar or a policy does not make history differ.
-- check_tickets() compares every stored ticket with its replay.

-- A ticket's stored state, in the shape replay_ticket() returns.
CREATE FUNCTION aftersales.ticket_state(tenant bigint, ticket bigint) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT pg_catalog.jsonb_build_object(
           'ticket', pg_catalog.jsonb_build_object(
               'status', t.status, 'held_from', t.held_from, 'priority', t.priority, 'tier', t.tier,
               'assignee_id', t.assignee_id, 'attempt_count', t.attempt_count, 'reopen_count', t.reopen_count,
               'opened_at', t.opened_at, 'first_response_at', t.first_response_at, 'assigned_at', t.assigned_at,
               'arrived_at', t.arrived_at, 'first_resolved_at', t.first_resolved_at, 'resolved_at', t.resolved_at,
               'followed_up_at', t.followed_up_at, 'closed_at', t.closed_at, 'cancelled_at', t.cancelled_at,
               'satisfied', t.satisfied, 'csat', t.csat, 'nps', t.nps, 'follow_up_comment', t.follow_up_comment,
               'event_seq', t.event_seq, 'last_event', t.last_event, 'last_event_at', t.last_event_at,
               'last_actor', t.last_actor),
           'sla', COALESCE((SELECT pg_catalog.jsonb_object_agg(s.metric, pg_catalog.jsonb_build_object(
                                'policy_id', s.policy_id, 'agreement_id', s.agreement_id, 'target', s.target,
                                'calendar', s.calendar, 'pauses_on_hold', s.pauses_on_hold,
                                'started_at', s.started_at, 'due_at', s.due_at, 'paused', s.paused,
                                'paused_since', s.paused_since, 'stopped_at', s.stopped_at, 'outcome', s.outcome,
                                'elapsed', s.elapsed, 'elapsed_wall', s.elapsed_wall))
                              FROM aftersales.ticket_sla s
                             WHERE s.tenant_id OPERATOR(pg_catalog.=) t.tenant_id
                               AND s.ticket_id OPERATOR(pg_catalog.=) t.ticket_id), '{}'))
  FROM aftersales.tickets t
 WHERE t.tenant_id OPERATOR(pg_catalog.=) tenant AND t.ticket_id OPERATOR(pg_catalog.=) ticket
$$;
COMMENT ON FUNCTION aftersales.ticket_state(bigint, bigint) IS
  'A ticket''s stored life-cycle state and SLA clocks as jsonb, in the shape of replay_ticket(); NULL for an unknown ticket';

CREATE FUNCTION aftersales._replay_error(tenant bigint, ticket bigint, seq integer, message text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'cannot replay ticket % of tenant %: event %: %', ticket, tenant, seq, message
        USING ERRCODE = 'XX001',
              DETAIL = 'The event log of the ticket does not follow the closed loop.',
              HINT = pg_catalog.format('Inspect it with: SELECT * FROM aftersales.ticket_events WHERE tenant_id = %s AND ticket_id = %s ORDER BY seq;', tenant, ticket);
END
$$;
COMMENT ON FUNCTION aftersales._replay_error(bigint, bigint, integer, text) IS 'Internal: the error for an event log that cannot be replayed';

-- The closed-loop table as jsonb, keyed 'from/event/to'.  IMMUTABLE (the
-- table is compiled into the module) and without arguments, so the planner
-- evaluates it once when replay_ticket() first plans the assignment, and
-- each later replay in the session reads the constant: building it took
-- three quarters of a replay.
CREATE FUNCTION aftersales._transition_table() RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT pg_catalog.jsonb_object_agg(x.from_state::text OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) x.event::text
                                   OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) x.to_state::text,
                                   pg_catalog.to_jsonb(x))
  FROM aftersales.ticket_transitions() x
$$;
COMMENT ON FUNCTION aftersales._transition_table() IS
  'Internal: aftersales.ticket_transitions() as one jsonb object keyed from/event/to, for replay_ticket()';

CREATE FUNCTION aftersales.replay_ticket(tenant bigint, ticket bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    e aftersales.ticket_events;
    loop_table jsonb;
    tr jsonb;
    -- the ticket, column by column (built into jsonb once, at the end: a
    -- jsonb rebuilt at every change was most of a replay's time)
    status aftersales.ticket_status;
    held_from aftersales.ticket_status;
    priority aftersales.priority;
    tier aftersales.ticket_tier;
    assignee_id bigint;
    attempt_count integer := 0;
    reopen_count integer := 0;
    opened_at timestamptz;
    first_response_at timestamptz;
    assigned_at timestamptz;
    arrived_at timestamptz;
    first_resolved_at timestamptz;
    resolved_at timestamptz;
    followed_up_at timestamptz;
    closed_at timestamptz;
    cancelled_at timestamptz;
    satisfied boolean;
    csat smallint;
    nps smallint;
    follow_up_comment text;
    last_event aftersales.ticket_event;
    last_event_at timestamptz;
    last_actor text;
    sla jsonb := '{}';
    c jsonb;
    m text;
    pay jsonb;
    n integer := 0;
    at timestamptz;
    from_s aftersales.ticket_status;
    to_s aftersales.ticket_status;
    had_response boolean;
    had_arrival boolean;
    leaving_hold boolean;
    entering_hold boolean;
    reopening boolean;
    touched boolean;
    stops text[];
    voids text[];
    -- every metric a clock can have: looping over them beats a query of
    -- jsonb_each(sla) at every event
    metrics constant text[] := pg_catalog.enum_range(NULL::aftersales.sla_metric)::text[];
BEGIN
    loop_table := aftersales._transition_table();

    FOR e IN SELECT * FROM aftersales.ticket_events ev
              WHERE ev.tenant_id OPERATOR(pg_catalog.=) tenant AND ev.ticket_id OPERATOR(pg_catalog.=) ticket
              ORDER BY ev.seq
    LOOP
        n := n OPERATOR(pg_catalog.+) 1;
        at := e.at;
        pay := e.payload;
        IF e.seq OPERATOR(pg_catalog.<>) n THEN
            PERFORM aftersales._replay_error(tenant, ticket, n, 'missing');
        END IF;

        IF n OPERATOR(pg_catalog.=) 1 THEN
            IF e.event OPERATOR(pg_catalog.<>) 'open' OR e.to_state NOT IN ('new', 'on_hold') THEN
                PERFORM aftersales._replay_error(tenant, ticket, n, 'the first event does not open the ticket');
            END IF;
            status := e.to_state;
            held_from := CASE WHEN e.to_state OPERATOR(pg_catalog.=) 'on_hold' THEN 'new' END;
            priority := pay->>'priority';
            tier := pay->>'tier';
            opened_at := at;
            last_event := 'open';
            last_event_at := at;
            last_actor := e.actor;
            FOR m, c IN SELECT * FROM pg_catalog.jsonb_each(COALESCE(pay->'sla', '{}')) LOOP
                sla := sla OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(m, pg_catalog.jsonb_build_object(
                    'policy_id', (pay->>'policy')::bigint, 'agreement_id', (pay->>'agreement')::bigint,
                    'target', (c->>'target')::interval, 'calendar', c->>'calendar',
                    'pauses_on_hold', (c->>'pauses')::boolean, 'started_at', at,
                    'due_at', (c->>'due')::timestamptz, 'paused', '0'::interval,
                    'paused_since', CASE WHEN e.to_state OPERATOR(pg_catalog.=) 'on_hold' AND (c->>'pauses')::boolean
                                         THEN at END,
                    'stopped_at', NULL, 'outcome', NULL, 'elapsed', NULL, 'elapsed_wall', NULL));
            END LOOP;
            CONTINUE;
        END IF;

        -- the transition, checked against the table
        from_s := status;
        to_s := e.to_state;
        IF e.from_state IS DISTINCT FROM from_s THEN
            PERFORM aftersales._replay_error(tenant, ticket, n,
                pg_catalog.format('it starts from %s, but the ticket was %s', e.from_state, from_s));
        END IF;
        tr := loop_table->(from_s::text OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) e.event::text
                           OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) to_s::text);
        IF tr IS NULL THEN
            PERFORM aftersales._replay_error(tenant, ticket, n,
                pg_catalog.format('%s --%s--> %s is not a transition of the closed loop', from_s, e.event, to_s));
        END IF;
        IF e.event OPERATOR(pg_catalog.=) 'fail'
           AND (attempt_count OPERATOR(pg_catalog.+) 1 OPERATOR(pg_catalog.>=) 2)
               IS DISTINCT FROM (tr->>'rule' IS NOT DISTINCT FROM 'attempts') THEN
            PERFORM aftersales._replay_error(tenant, ticket, n, 'the attempts rule was not followed');
        END IF;
        IF tr->>'rule' OPERATOR(pg_catalog.=) 'held_from' AND to_s IS DISTINCT FROM held_from THEN
            PERFORM aftersales._replay_error(tenant, ticket, n, 'resume did not return to the state held from');
        END IF;

        -- the ticket (ticket.c, apply_transition)
        had_response := first_response_at IS NOT NULL;
        had_arrival := arrived_at IS NOT NULL;
        status := to_s;
        last_event := e.event;
        last_event_at := at;
        last_actor := e.actor;
        IF to_s OPERATOR(pg_catalog.=) 'on_hold' AND from_s OPERATOR(pg_catalog.<>) 'on_hold' THEN
            held_from := from_s;
        ELSIF to_s OPERATOR(pg_catalog.<>) 'on_hold' AND from_s OPERATOR(pg_catalog.=) 'on_hold' THEN
            held_from := NULL;
        END IF;
        IF to_s IN ('new', 'locked') THEN
            assignee_id := NULL;
        ELSIF tr->>'supplies' OPERATOR(pg_catalog.=) 'assignee_id' THEN
            assignee_id := pay->>'assignee';
            IF to_s OPERATOR(pg_catalog.=) 'assigned' THEN
                assigned_at := at;
            END IF;
        END IF;
        IF pay ? 'tier' THEN
            tier := pay->>'tier';
        END IF;
        IF pay ? 'priority' THEN
            priority := pay->>'priority';
        END IF;
        IF (tr->>'counts_attempt')::boolean THEN
            attempt_count := attempt_count OPERATOR(pg_catalog.+) 1;
        END IF;
        IF (tr->>'first_response')::boolean AND NOT had_response THEN
            first_response_at := at;
        END IF;
        IF e.event OPERATOR(pg_catalog.=) 'arrive' AND NOT had_arrival THEN
            arrived_at := at;
        END IF;
        IF e.event OPERATOR(pg_catalog.=) 'follow_up' THEN
            followed_up_at := at;
            satisfied := pay->>'satisfied';
            csat := pay->>'csat';
            nps := pay->>'nps';
            follow_up_comment := pay->>'comment';
        END IF;
        reopening := from_s IN ('resolved', 'closed') AND to_s OPERATOR(pg_catalog.=) 'new';
        IF to_s OPERATOR(pg_catalog.=) 'resolved' THEN
            resolved_at := at;
            first_resolved_at := COALESCE(first_resolved_at, at);
        ELSIF to_s OPERATOR(pg_catalog.=) 'closed' THEN
            closed_at := at;
        ELSIF to_s OPERATOR(pg_catalog.=) 'cancelled' THEN
            cancelled_at := at;
        ELSIF reopening THEN
            reopen_count := reopen_count OPERATOR(pg_catalog.+) 1;
            resolved_at := NULL;
            closed_at := NULL;
        END IF;

        -- the clocks (ticket_log.c, _ticket_changed)
        leaving_hold := from_s OPERATOR(pg_catalog.=) 'on_hold' AND to_s OPERATOR(pg_catalog.<>) 'on_hold';
        entering_hold := to_s OPERATOR(pg_catalog.=) 'on_hold' AND from_s OPERATOR(pg_catalog.<>) 'on_hold';
        stops := '{}';
        voids := '{}';
        IF NOT had_response AND first_response_at IS NOT NULL THEN
            stops := stops OPERATOR(pg_catalog.||) 'first_response'::text;
        END IF;
        IF NOT had_arrival AND arrived_at IS NOT NULL THEN
            stops := stops OPERATOR(pg_catalog.||) 'arrival'::text;
        END IF;
        IF to_s OPERATOR(pg_catalog.=) 'resolved' AND from_s OPERATOR(pg_catalog.<>) 'resolved' THEN
            stops := stops OPERATOR(pg_catalog.||) 'resolution'::text;
            voids := '{arrival}';
        ELSIF to_s OPERATOR(pg_catalog.=) 'cancelled' THEN
            voids := '{first_response,arrival,resolution}';
        END IF;
        -- most events (assign, follow-up) touch no clock
        CONTINUE WHEN NOT (leaving_hold OR entering_hold OR reopening OR pay ? 'sla'
                           OR stops OPERATOR(pg_catalog.<>) '{}' OR voids OPERATOR(pg_catalog.<>) '{}');
        FOREACH m IN ARRAY metrics LOOP
            c := sla->m;
            CONTINUE WHEN c IS NULL;
            touched := false;
            IF leaving_hold THEN
                c := pg_catalog.jsonb_set(c, '{paused_since}', 'null');
                touched := true;
            END IF;
            IF pay->'sla' ? m THEN
                c := c OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
                    'target', (pay->'sla'->m->>'target')::interval,
                    'due_at', (pay->'sla'->m->>'due')::timestamptz,
                    'paused', (pay->'sla'->m->>'paused')::interval,
                    'elapsed', (pay->'sla'->m->>'elapsed')::interval);
                touched := true;
            END IF;
            IF c->'stopped_at' OPERATOR(pg_catalog.=) 'null' AND (m OPERATOR(pg_catalog.=) ANY (stops) OR m OPERATOR(pg_catalog.=) ANY (voids)) THEN
                c := c OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
                    'stopped_at', at,
                    'outcome', CASE WHEN NOT m OPERATOR(pg_catalog.=) ANY (stops) THEN 'cancelled'
                                    WHEN at OPERATOR(pg_catalog.<=) (c->>'due_at')::timestamptz THEN 'met'
                                    ELSE 'breached' END,
                    'elapsed_wall', at OPERATOR(pg_catalog.-) (c->>'started_at')::timestamptz);
                touched := true;
            END IF;
            IF entering_hold AND c->'stopped_at' OPERATOR(pg_catalog.=) 'null' AND (c->>'pauses_on_hold')::boolean THEN
                c := c OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('paused_since', at);
                touched := true;
            END IF;
            IF reopening AND m OPERATOR(pg_catalog.=) 'resolution' AND c->'stopped_at' OPERATOR(pg_catalog.<>) 'null' THEN
                c := c OPERATOR(pg_catalog.||) '{"stopped_at": null, "outcome": null, "elapsed_wall": null}';
                touched := true;
            END IF;
            IF touched THEN
                sla := pg_catalog.jsonb_set(sla, ARRAY[m], c);
            END IF;
        END LOOP;
    END LOOP;

    IF n OPERATOR(pg_catalog.=) 0 THEN
        RETURN NULL;
    END IF;
    -- the shape of ticket_state(), from typed values as the table holds them
    RETURN pg_catalog.jsonb_build_object(
        'ticket', pg_catalog.jsonb_build_object(
            'status', status, 'held_from', held_from, 'priority', priority, 'tier', tier,
            'assignee_id', assignee_id, 'attempt_count', attempt_count, 'reopen_count', reopen_count,
            'opened_at', opened_at, 'first_response_at', first_response_at, 'assigned_at', assigned_at,
            'arrived_at', arrived_at, 'first_resolved_at', first_resolved_at, 'resolved_at', resolved_at,
            'followed_up_at', followed_up_at, 'closed_at', closed_at, 'cancelled_at', cancelled_at,
            'satisfied', satisfied, 'csat', csat, 'nps', nps, 'follow_up_comment', follow_up_comment,
            'event_seq', n, 'last_event', last_event, 'last_event_at', last_event_at,
            'last_actor', last_actor),
        'sla', sla);
END
$$;
COMMENT ON FUNCTION aftersales.replay_ticket(bigint, bigint) IS
  'Rebuild a ticket''s state, counters, time stamps and SLA clocks from its events alone (shape of ticket_state()); an error when the log breaks the closed loop; NULL for a ticket without events';

CREATE FUNCTION aftersales.check_tickets(tenant bigint DEFAULT NULL)
    RETURNS TABLE (tenant_id bigint, ticket_id bigint, item text, stored text, replayed text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k record;
    s jsonb;
    r jsonb;
    m text;
BEGIN
    FOR k IN SELECT t.tenant_id, t.ticket_id FROM aftersales.tickets t
              WHERE check_tickets.tenant IS NULL OR t.tenant_id OPERATOR(pg_catalog.=) check_tickets.tenant
              ORDER BY 1, 2
    LOOP
        tenant_id := k.tenant_id;
        ticket_id := k.ticket_id;
        BEGIN
            r := aftersales.replay_ticket(k.tenant_id, k.ticket_id);
        EXCEPTION WHEN OTHERS THEN
            item := 'replay';
            stored := NULL;
            replayed := SQLERRM;
            RETURN NEXT;
            CONTINUE;
        END;
        s := aftersales.ticket_state(k.tenant_id, k.ticket_id);
        IF s OPERATOR(pg_catalog.=) r THEN
            CONTINUE;           -- the common case: nothing to itemize
        END IF;
        IF r IS NULL THEN
            item := 'events';
            stored := NULL;
            replayed := 'no events';
            RETURN NEXT;
            CONTINUE;
        END IF;
        FOR item, stored, replayed IN
            SELECT 'ticket.' OPERATOR(pg_catalog.||) key, s->'ticket'->>key, r->'ticket'->>key
              FROM (SELECT pg_catalog.jsonb_object_keys(s->'ticket') UNION SELECT pg_catalog.jsonb_object_keys(r->'ticket')) AS keys (key)
             WHERE (s->'ticket'->key) IS DISTINCT FROM (r->'ticket'->key)
             ORDER BY 1
        LOOP
            RETURN NEXT;
        END LOOP;
        FOR m IN SELECT pg_catalog.jsonb_object_keys(s->'sla') UNION SELECT pg_catalog.jsonb_object_keys(r->'sla') ORDER BY 1 LOOP
            FOR item, stored, replayed IN
                SELECT 'sla.' OPERATOR(pg_catalog.||) m OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) key,
                       COALESCE(s->'sla'->m->>key, CASE WHEN NOT s->'sla' ? m THEN '(no clock)' END),
                       COALESCE(r->'sla'->m->>key, CASE WHEN NOT r->'sla' ? m THEN '(no clock)' END)
                  FROM (SELECT pg_catalog.jsonb_object_keys(COALESCE(s->'sla'->m, '{}'))
                        UNION SELECT pg_catalog.jsonb_object_keys(COALESCE(r->'sla'->m, '{}'))) AS keys (key)
                 WHERE (s->'sla'->m->key) IS DISTINCT FROM (r->'sla'->m->key)
                 ORDER BY 1
            LOOP
                RETURN NEXT;
            END LOOP;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION aftersales.check_tickets(bigint) IS
  'Every difference between a stored ticket (and its SLA clocks) and its replay from the event log, for one tenant or all; empty when all agree';

CREATE FUNCTION aftersales.check_occurrences()
    RETURNS TABLE (tenant_id bigint, kind text, id bigint, counted bigint, tickets bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT c.tenant_id, c.kind, c.id, c.occurrences, COALESCE(t.n, 0)
  FROM aftersales.occurrence_counts c
  LEFT JOIN (SELECT k.tenant_id, 'product_model' AS kind, k.model_id AS id, pg_catalog.count(*) AS n
               FROM aftersales.tickets k WHERE k.model_id IS NOT NULL GROUP BY 1, 2, 3
             UNION ALL
             SELECT k.tenant_id, 'problem_type', k.problem_type_id, pg_catalog.count(*)
               FROM aftersales.tickets k GROUP BY 1, 2, 3) t
    ON t.tenant_id OPERATOR(pg_catalog.=) c.tenant_id AND t.kind OPERATOR(pg_catalog.=) c.kind
   AND t.id OPERATOR(pg_catalog.=) c.id
 WHERE c.occurrences OPERATOR(pg_catalog.<>) COALESCE(t.n, 0)
 ORDER BY 1, 2, 3
$$;
COMMENT ON FUNCTION aftersales.check_occurrences() IS
  'Occurrence counts that differ from the number of tickets entered; empty when all agree';

-- They read every tenant's tickets: granted on purpose only.
REVOKE ALL ON FUNCTION aftersales.check_tickets(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales.check_occurrences() FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales.replay_ticket(bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales.ticket_state(bigint, bigint) FROM PUBLIC;

-- aftersales install script, part 40: escalation of late work (issue 4).
-- "Late work must never go unnoticed, and must never be announced twice."
--
-- This file owns the rules and the bookkeeping; the sweep that acts on them
-- is in 40_escalation_sweep.sql, the managers' queue and acknowledgement in
-- 40_escalation_queue.sql, pg_cron scheduling in 40_escalation_cron.sql.
--
--   escalation_rules   what fires, when, for whom (per tenant, with tenant
--                      1's rows as the shipped defaults, key by key);
--   escalation_watches one row per SLA clock of every ticket (and one per
--                      ticket that has a requested date or a key customer):
--                      how far its stages have gone, and next_check, the
--                      instant its next stage is due.  A partial index on
--                      next_check is all a sweep reads, so its cost grows
--                      with what is due, not with what is open;
--   alerts             the outbox: one row per stage fired, unique per
--                      (ticket, clock, kind, level): exactly once;
--   ticket_escalations one row per open ticket that is locked or escalated:
--                      the managers' queue.
--
-- The stages (what a sweep fires), with the shipped defaults:
--
--   warning p      on each SLA clock, when p% of its target has been used
--                  (50, 75, 100): at the instant start + p% of the target on
--                  the clock's calendar plus the pauses so far, exactly as
--                  ticket_sla computes due_at (p = 100 is due_at itself).
--   escalation L   on each SLA clock whose target is missed, when it is
--                  overdue by the level's "after", in the clock's time (its
--                  business calendar, pauses not counted): level 1 at the
--                  breach (after 0: the supervisor or second line, who must
--                  step in within 1 hour), level 2 when it is still running
--                  1 hour later (the service manager, who owes a solution
--                  within 2 working days), level 3 after 17 hours (1 + 16:
--                  2 working days of 8 hours; head of department and the
--                  emergency team).  The instant is start + target + after
--                  + pauses on the calendar.
--   not_arrived    seed 000: a field ticket not on site 4 hours (wall
--                  clock, as the 4-hour arrival rate counts) after entry,
--                  while its arrival clock runs.
--   not_completed  seed 000: a ticket not resolved 24 hours (wall clock)
--                  after entry, while its resolution clock runs (a hold
--                  that pauses the clock defers it).
--   key_customer   seed 000: a ticket of a key customer (tier 'key') at
--                  entry, unless already resolved.
--   lock           seed 002: a ticket still awaiting assignment (status
--                  new, no engineer) at its customer-requested date: the
--                  sweep locks it for the service manager through the
--                  closed loop (event lock, actor aftersales-sweep).
-- A clock's stages run only while it runs: a stopped clock (met, breached
-- and stopped, cancelled) fires nothing more; a paused one waits, and its
-- instants move with the pauses.  Each stage fires once per (ticket, clock,
-- kind, level), for ever: a reopened ticket does not hear level 1 again,
-- but does hear level 2 when that comes.  After downtime a sweep fires
-- every stage that came due, each once, oldest first.
--
-- Two more kinds are not the sweep's: 'locked' (a ticket entered state
-- locked by another way: a late assignment, a second failed handling, a
-- person's lock_ticket; raised by the trigger, level = the event's seq) and
-- 'part_not_collected' (seed 000: a spare part arrived and not picked up),
-- whose raiser is the spare-parts module, when there is one, through
-- aftersales.raise_alert() (see 40_escalation_queue.sql).
--
-- Function bodies pin search_path to pg_catalog, pg_temp: unqualified
-- operators are pg_catalog's, every other name is schema-qualified.

-- ---------------------------------------------------------------------------
-- Rules

CREATE TABLE aftersales.escalation_rules (
    tenant_id    bigint   NOT NULL DEFAULT aftersales.current_tenant()
                          REFERENCES aftersales.tenants,
    kind         text     NOT NULL
                          CHECK (kind IN ('warning', 'escalation', 'not_arrived', 'not_completed', 'key_customer', 'lock')),
    level        numeric  NOT NULL,
    after        interval,
    role         text     NOT NULL CHECK (role ~ '^[a-z][a-z0-9_]{0,62}$'),
    enabled      boolean  NOT NULL DEFAULT true,
    description  text,
    customised   boolean  NOT NULL DEFAULT true,
    PRIMARY KEY (tenant_id, kind, level),
    CONSTRAINT escalation_rules_level CHECK (
        CASE kind WHEN 'warning' THEN level > 0 AND level <= 100 AND level = round(level, 2)
                  WHEN 'escalation' THEN level BETWEEN 1 AND 9 AND level = trunc(level)
                  ELSE level = 0 END),
    CONSTRAINT escalation_rules_after CHECK (
        CASE kind WHEN 'warning' THEN after IS NULL
                  ELSE after >= '0'::interval AND EXTRACT(DAY FROM after) = 0
                       AND EXTRACT(MONTH FROM after) = 0 AND EXTRACT(YEAR FROM after) = 0 END)
);
COMMENT ON TABLE aftersales.escalation_rules IS
  'When escalation sweeps fire what for whom; tenant 1 holds the shipped defaults, other tenants only their overrides (each kind and level falls back to tenant 1''s); change with aftersales.set_escalation_rule(), read the effective rules in aftersales.escalation_rules_effective';
COMMENT ON COLUMN aftersales.escalation_rules.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.escalation_rules.kind IS
  'warning (p% of an SLA target used), escalation (an SLA target missed, by level), not_arrived, not_completed, key_customer (seed 000 anomaly alerts) or lock (seed 002: not assigned by the customer-requested date)';
COMMENT ON COLUMN aftersales.escalation_rules.level IS
  'warning: the percent of the target (0 < p <= 100); escalation: the level (1 to 9, the seed has 1 to 3); 0 for the other kinds';
COMMENT ON COLUMN aftersales.escalation_rules.after IS
  'escalation: how far past due the level fires, in the clock''s time (business time on its calendar; cumulative: level 2 after 1 hour means 1 hour overdue); not_arrived, not_completed, key_customer: wall-clock time after entry; lock: wall-clock time after the requested date; NULL for warnings';
COMMENT ON COLUMN aftersales.escalation_rules.role IS
  'Who is told: assignee, supervisor, service_manager, head_of_department, or any role name the application routes';
COMMENT ON COLUMN aftersales.escalation_rules.enabled IS 'False switches the stage off (for another tenant: overrides tenant 1''s row)';
COMMENT ON COLUMN aftersales.escalation_rules.description IS 'What the stage means, for people';
COMMENT ON COLUMN aftersales.escalation_rules.customised IS
  'False for a shipped row never changed (left out of pg_dump); set to true by any change';

INSERT INTO aftersales.escalation_rules (tenant_id, kind, level, after, role, description, customised) VALUES
 (1, 'warning', 50, NULL, 'assignee', 'Half of the SLA target used', false),
 (1, 'warning', 75, NULL, 'assignee', 'Three quarters of the SLA target used', false),
 (1, 'warning', 100, NULL, 'assignee', 'SLA target reached: breached', false),
 (1, 'escalation', 1, '0', 'supervisor',
  'Level 1 (seed 001): the supervisor or second line steps in, a person within 1 hour', false),
 (1, 'escalation', 2, '1 hour', 'service_manager',
  'Level 2 (seed 001): still unsolved an hour after level 1: the service manager coordinates across departments, a solution within 2 working days', false),
 (1, 'escalation', 3, '17 hours', 'head_of_department',
  'Level 3 (seed 001): still unsolved 2 working days (16 business hours) after level 2: the head of department and the emergency team', false),
 (1, 'not_arrived', 0, '4 hours', 'supervisor', 'Seed 000: a field ticket not on site 4 hours after entry (未到位)', false),
 (1, 'not_completed', 0, '24 hours', 'supervisor', 'Seed 000: a ticket not resolved 24 hours after entry (未完工)', false),
 (1, 'key_customer', 0, '0', 'service_manager', 'Seed 000: a fault ticket of a key customer (重点客户故障工单)', false),
 (1, 'lock', 0, '0', 'service_manager',
  'Seed 002: no engineer assigned by the customer-requested date: the ticket is locked for the service manager', false);
SELECT pg_catalog.pg_extension_config_dump('aftersales.escalation_rules', 'WHERE tenant_id <> 1 OR customised');

-- The rules in force for each tenant: its own rows, else tenant 1's, key by
-- key; disabled rows switch a stage off.
CREATE VIEW aftersales.escalation_rules_effective WITH (security_invoker = true) AS
SELECT tn.tenant_id, r.kind, r.level, r.after, r.role, r.description, r.tenant_id <> tn.tenant_id AS inherited
  FROM aftersales.tenants tn
  JOIN aftersales.escalation_rules r ON r.tenant_id IN (tn.tenant_id, 1)
 WHERE r.enabled
   AND (r.tenant_id = tn.tenant_id
        OR NOT EXISTS (SELECT FROM aftersales.escalation_rules o
                        WHERE o.tenant_id = tn.tenant_id AND o.kind = r.kind AND o.level = r.level));
COMMENT ON VIEW aftersales.escalation_rules_effective IS
  'The escalation rules in force for every tenant: its own rows, else tenant 1''s, key by key; enabled stages only';
COMMENT ON COLUMN aftersales.escalation_rules_effective.tenant_id IS 'Tenant the rule applies to';
COMMENT ON COLUMN aftersales.escalation_rules_effective.kind IS 'Kind of stage (see aftersales.escalation_rules.kind)';
COMMENT ON COLUMN aftersales.escalation_rules_effective.level IS 'Warning percent, escalation level, or 0';
COMMENT ON COLUMN aftersales.escalation_rules_effective.after IS 'Delay of the stage (see aftersales.escalation_rules.after)';
COMMENT ON COLUMN aftersales.escalation_rules_effective.role IS 'Who is told';
COMMENT ON COLUMN aftersales.escalation_rules_effective.description IS 'What the stage means';
COMMENT ON COLUMN aftersales.escalation_rules_effective.inherited IS 'True when the row is tenant 1''s default';

CREATE FUNCTION aftersales._bad_rule(message text, hint text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION '%', message
        USING ERRCODE = '22023',
              HINT = COALESCE(hint, 'For example: SELECT aftersales.set_escalation_rule(''escalation'', 2, after => ''2 hours'');');
END
$$;
COMMENT ON FUNCTION aftersales._bad_rule(text, text) IS 'Internal: the error for an invalid escalation rule';

-- Shipped rows: a change marks them customised (so pg_dump keeps it); an
-- INSERT of a key a shipped, unchanged row holds replaces that row (pg_dump
-- restore); tenant 1's rows cannot be deleted (switch them off instead).
CREATE FUNCTION aftersales._escalation_rule_row() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    replaced integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.tenant_id = 1 THEN
            RAISE EXCEPTION 'cannot delete escalation rule % % of tenant 1', OLD.kind, OLD.level
                USING ERRCODE = '55000',
                      DETAIL = 'Tenant 1''s rules are the defaults every other tenant falls back to.',
                      HINT = pg_catalog.format('Switch it off instead: SELECT aftersales.set_escalation_rule(%L, %s, enabled => false, tenant => 1);',
                                               OLD.kind, OLD.level);
        END IF;
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.customised := true;
        RETURN NEW;
    END IF;
    UPDATE aftersales.escalation_rules r
       SET after = NEW.after, role = NEW.role, enabled = NEW.enabled, description = NEW.description,
           customised = true
     WHERE r.tenant_id = NEW.tenant_id AND r.kind = NEW.kind AND r.level = NEW.level AND NOT r.customised;
    GET DIAGNOSTICS replaced = ROW_COUNT;
    IF replaced > 0 THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION aftersales._escalation_rule_row() IS
  'Trigger on escalation_rules: changes mark a row customised; an INSERT replaces a shipped, unchanged row of the same key (pg_dump restore); tenant 1''s rows cannot be deleted';
CREATE TRIGGER escalation_rule_row
    BEFORE INSERT OR UPDATE OR DELETE ON aftersales.escalation_rules
    FOR EACH ROW EXECUTE FUNCTION aftersales._escalation_rule_row();

-- ---------------------------------------------------------------------------
-- Watches: where each clock stands

-- Its row rules are one CHECK calling C, as for tickets (30_tickets.sql).
CREATE FUNCTION aftersales._escalation_watches_row_check(clock text, warned numeric, level smallint)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_escalation_watches_row_check' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales._escalation_watches_row_check(text, numeric, smallint) IS
  'Internal: CHECK escalation_watches_row_check: a known clock, warned 0 to 100, level >= 0; raises check_violation naming the rule';

CREATE TABLE aftersales.escalation_watches (
    tenant_id   bigint      NOT NULL,
    ticket_id   bigint      NOT NULL,
    clock       text        NOT NULL,
    next_check  timestamptz,
    warned      numeric     NOT NULL DEFAULT 0,
    level       smallint    NOT NULL DEFAULT 0,
    done        text[]      NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, ticket_id, clock),
    -- clock in first_response, arrival, resolution, ticket; warned 0-100; level >= 0
    CONSTRAINT escalation_watches_row_check CHECK (aftersales._escalation_watches_row_check(clock, warned, level))
);
-- All a sweep reads: what is due, by due time.
CREATE INDEX escalation_watches_due_idx ON aftersales.escalation_watches (next_check) WHERE next_check IS NOT NULL;
COMMENT ON TABLE aftersales.escalation_watches IS
  'Where the escalation of each SLA clock (and of each ticket with a requested date or a key customer: clock ''ticket'') stands, and when it next needs a sweep; kept by triggers on ticket_sla and tickets and by the sweep';
COMMENT ON COLUMN aftersales.escalation_watches.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.escalation_watches.ticket_id IS 'Ticket watched';
COMMENT ON COLUMN aftersales.escalation_watches.clock IS 'The SLA clock (first_response, arrival, resolution), or ticket for the stages of the ticket itself (lock, key_customer)';
COMMENT ON COLUMN aftersales.escalation_watches.next_check IS
  'When the next stage is due; NULL while nothing can fire (clock stopped or paused, every stage fired): what the sweep''s partial index holds';
COMMENT ON COLUMN aftersales.escalation_watches.warned IS 'Highest warning percent fired; 0: none';
COMMENT ON COLUMN aftersales.escalation_watches.level IS 'Highest escalation level fired; 0: none';
COMMENT ON COLUMN aftersales.escalation_watches.done IS 'Other kinds fired for it: not_arrived, not_completed, key_customer, lock';

-- The stages still to come of the given watches (clocks, or 'ticket'),
-- with their instants: every one due at or before until, and for each
-- watch the first one after it (so until => '-infinity' gives each watch's
-- next stage).  One definition, used by the sweep (the stages due now and
-- the next check), by the re-arming triggers and by check_watches().
-- Driven by the arrays: it reads the rows of the watches asked for, by
-- their keys, and computes their stages only, so its cost is theirs,
-- however many tickets are open.  PL/pgSQL with a generic plan, cached for
-- the session.  Watch rows not yet there count as nothing fired.
CREATE FUNCTION aftersales._watch_stages(tenants bigint[], tickets bigint[], clocks text[],
                                         until timestamptz DEFAULT '-infinity')
    RETURNS TABLE (tenant_id bigint, ticket_id bigint, clock text, kind text, level numeric, role text,
                   due_at timestamptz, target interval, clock_due timestamptz, after interval,
                   priority aftersales.priority, status aftersales.ticket_status, assignee_id bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH c AS MATERIALIZED (
        SELECT DISTINCT u.tenant_id, u.ticket_id, u.clock
          FROM unnest(tenants, tickets, clocks) AS u (tenant_id, ticket_id, clock)
    ), r AS MATERIALIZED (
        SELECT e.* FROM aftersales.escalation_rules_effective e
         WHERE e.tenant_id IN (SELECT c.tenant_id FROM c)
    ), k AS MATERIALIZED (
        -- each running clock asked for, its rows read once, by key
        SELECT c.tenant_id, c.ticket_id, c.clock, s.metric, s.target, s.calendar, s.started_at, s.paused,
               s.due_at, cal.calendar AS cal, COALESCE(w.warned, 0) AS warned, COALESCE(w.level, 0) AS level,
               COALESCE(w.done, '{}') AS done, t.priority, t.status, t.assignee_id
          FROM c
          JOIN aftersales.ticket_sla s
            ON s.tenant_id = c.tenant_id AND s.ticket_id = c.ticket_id AND s.metric::text = c.clock
          JOIN aftersales.tickets t ON t.tenant_id = c.tenant_id AND t.ticket_id = c.ticket_id
          LEFT JOIN aftersales.escalation_watches w
            ON w.tenant_id = c.tenant_id AND w.ticket_id = c.ticket_id AND w.clock = c.clock
          LEFT JOIN aftersales.calendars cal ON cal.tenant_id = s.tenant_id AND cal.name = s.calendar
         WHERE c.clock <> 'ticket' AND s.stopped_at IS NULL AND s.paused_since IS NULL
    ), kt AS MATERIALIZED (
        -- each ticket asked for (clock 'ticket')
        SELECT c.tenant_id, c.ticket_id, c.clock, t.requested_at, t.opened_at, cu.tier,
               COALESCE(w.done, '{}') AS done, t.priority, t.status, t.assignee_id
          FROM c
          JOIN aftersales.tickets t ON t.tenant_id = c.tenant_id AND t.ticket_id = c.ticket_id
          JOIN aftersales.customers cu ON cu.tenant_id = t.tenant_id AND cu.customer_id = t.customer_id
          LEFT JOIN aftersales.escalation_watches w
            ON w.tenant_id = c.tenant_id AND w.ticket_id = c.ticket_id AND w.clock = c.clock
         WHERE c.clock = 'ticket'
    ), s AS MATERIALIZED (
    -- the stages of a clock in their fixed order: warnings at p% of the
    -- target, levels at the target plus after; the instant as ticket_sla
    -- computes due_at: start + amount + pauses, on the calendar
    SELECT k.tenant_id, k.ticket_id, k.clock, r.kind, r.level, r.role,
           CASE WHEN k.calendar IS NULL THEN k.started_at + x.amount + k.paused
                ELSE aftersales.business_add(k.cal, k.started_at, x.amount + k.paused) END AS due_at,
           k.target, k.due_at AS clock_due, r.after, k.priority, k.status, k.assignee_id
      FROM k
      JOIN r ON r.tenant_id = k.tenant_id
            AND ((r.kind = 'warning' AND k.level = 0 AND r.level > k.warned)
                 OR (r.kind = 'escalation' AND r.level > k.level))
      CROSS JOIN LATERAL (SELECT CASE WHEN r.kind = 'warning' THEN k.target * (r.level / 100)::float8
                                      ELSE k.target + r.after END AS amount) x
    UNION ALL
    -- the anomaly stage of a clock: wall-clock time after entry
    SELECT k.tenant_id, k.ticket_id, k.clock, r.kind, r.level, r.role, k.started_at + r.after,
           k.target, k.due_at, r.after, k.priority, k.status, k.assignee_id
      FROM k
      JOIN r ON r.tenant_id = k.tenant_id
            AND r.kind = CASE k.metric WHEN 'arrival' THEN 'not_arrived' WHEN 'resolution' THEN 'not_completed' END
            AND NOT r.kind = ANY (k.done)
    UNION ALL
    -- the stages of the ticket itself
    SELECT kt.tenant_id, kt.ticket_id, kt.clock, r.kind, r.level, r.role,
           CASE r.kind WHEN 'lock' THEN kt.requested_at ELSE kt.opened_at END + r.after,
           NULL::interval, NULL::timestamptz, r.after, kt.priority, kt.status, kt.assignee_id
      FROM kt
      JOIN r ON r.tenant_id = kt.tenant_id
            AND ((r.kind = 'lock' AND kt.status = 'new' AND kt.requested_at IS NOT NULL)
                 OR (r.kind = 'key_customer' AND kt.tier = 'key' AND kt.status NOT IN ('resolved', 'closed', 'cancelled')))
            AND NOT r.kind = ANY (kt.done)
    )
    SELECT s.* FROM s WHERE s.due_at <= until
    UNION ALL
    (SELECT DISTINCT ON (s.tenant_id, s.ticket_id, s.clock) s.* FROM s WHERE s.due_at > until
      ORDER BY s.tenant_id, s.ticket_id, s.clock, s.due_at);
END
$$;
COMMENT ON FUNCTION aftersales._watch_stages(bigint[], bigint[], text[], timestamptz) IS
  'Internal: the escalation stages of the given watches (tenant, ticket, clock) due at or before until, and the first one after it, with their instants';

-- The earliest stage still to come of one watch: its next_check.
CREATE FUNCTION aftersales._next_check(tenant bigint, ticket bigint, clock text) RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT pg_catalog.min(s.due_at) FROM aftersales._watch_stages(ARRAY[tenant], ARRAY[ticket], ARRAY[clock]) s);
END
$$;
COMMENT ON FUNCTION aftersales._next_check(bigint, bigint, text) IS
  'Internal: when the next escalation stage of a clock (or of the ticket, clock ''ticket'') is due; NULL when none can fire';

-- The next checks of watches (all, or one tenant's), as the rules say:
-- set-based, in one call of _watch_stages.
CREATE FUNCTION aftersales._expected_checks(tenant bigint)
    RETURNS TABLE (tenant_id bigint, ticket_id bigint, clock text, stored timestamptz, expected timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    k_tenants bigint[];
    k_tickets bigint[];
    k_clocks text[];
BEGIN
    SELECT pg_catalog.array_agg(w.tenant_id), pg_catalog.array_agg(w.ticket_id), pg_catalog.array_agg(w.clock)
      INTO k_tenants, k_tickets, k_clocks
      FROM aftersales.escalation_watches w
     WHERE _expected_checks.tenant IS NULL OR w.tenant_id = _expected_checks.tenant;
    RETURN QUERY
    SELECT w.tenant_id, w.ticket_id, w.clock, w.next_check, x.n
      FROM aftersales.escalation_watches w
      LEFT JOIN (SELECT s.tenant_id, s.ticket_id, s.clock, pg_catalog.min(s.due_at) AS n
                   FROM aftersales._watch_stages(k_tenants, k_tickets, k_clocks) s
                  GROUP BY 1, 2, 3) x
        ON x.tenant_id = w.tenant_id AND x.ticket_id = w.ticket_id AND x.clock = w.clock
     WHERE _expected_checks.tenant IS NULL OR w.tenant_id = _expected_checks.tenant;
END
$$;
COMMENT ON FUNCTION aftersales._expected_checks(bigint) IS
  'Internal: each watch (of one tenant, or NULL: of all) with its stored next_check and the one the rules in force give';

-- Recompute the next checks of watches (all, or one tenant's): after a rule
-- changed, or to repair.  Returns how many changed.  Its cost is that of
-- every watch: a rule change is rare.
CREATE FUNCTION aftersales.rearm_watches(tenant bigint DEFAULT NULL) RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    WITH u AS (
        UPDATE aftersales.escalation_watches w SET next_check = x.expected
          FROM aftersales._expected_checks(rearm_watches.tenant) x
         WHERE w.tenant_id = x.tenant_id AND w.ticket_id = x.ticket_id AND w.clock = x.clock
           AND w.next_check IS DISTINCT FROM x.expected
        RETURNING 1)
    SELECT pg_catalog.count(*) FROM u
$$;
COMMENT ON FUNCTION aftersales.rearm_watches(bigint) IS
  'Recompute when every watch (of one tenant, or NULL: of all) next needs a sweep, from the rules in force; returns the number changed. Rule changes call it; a DBA may, to repair';

-- Watches whose next_check differs from what the rules say: none, unless
-- something is wrong.  For tests and monitoring.
CREATE FUNCTION aftersales.check_watches(tenant bigint DEFAULT NULL)
    RETURNS TABLE (tenant_id bigint, ticket_id bigint, clock text, stored timestamptz, expected timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT x.tenant_id, x.ticket_id, x.clock, x.stored, x.expected
      FROM aftersales._expected_checks(check_watches.tenant) x
     WHERE x.stored IS DISTINCT FROM x.expected
    UNION ALL
    SELECT s.tenant_id, s.ticket_id, s.metric::text, NULL, NULL
      FROM aftersales.ticket_sla s
     WHERE (check_watches.tenant IS NULL OR s.tenant_id = check_watches.tenant)
       AND NOT EXISTS (SELECT FROM aftersales.escalation_watches w
                        WHERE w.tenant_id = s.tenant_id AND w.ticket_id = s.ticket_id AND w.clock = s.metric::text)
     ORDER BY 1, 2, 3
$$;
COMMENT ON FUNCTION aftersales.check_watches(bigint) IS
  'Watches whose next_check differs from what the rules in force give (stored and expected), and SLA clocks without a watch (both NULL); empty when all is well';

-- A rule change: the escalation levels in force must come in order (a
-- higher level never fires before a lower one), then every watch is
-- re-armed.
CREATE FUNCTION aftersales._escalation_rules_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad record;
BEGIN
    SELECT e.tenant_id, e.level, e.after, e.prev_level, e.prev_after INTO bad
      FROM (SELECT r.tenant_id, r.level, r.after,
                   pg_catalog.lag(r.level) OVER w AS prev_level, pg_catalog.lag(r.after) OVER w AS prev_after
              FROM aftersales.escalation_rules_effective r
             WHERE r.kind = 'escalation'
            WINDOW w AS (PARTITION BY r.tenant_id ORDER BY r.level)) e
     WHERE e.after < e.prev_after
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'escalation level % of tenant % fires % past due, before level % (% past due)',
                        bad.level, bad.tenant_id, bad.after, bad.prev_level, bad.prev_after
            USING ERRCODE = '23514',
                  DETAIL = 'A higher level must not fire before a lower one.',
                  HINT = pg_catalog.format('Give level %s an after of at least %s, for example: SELECT aftersales.set_escalation_rule(''escalation'', %s, after => %L);',
                                           bad.level, bad.prev_after, bad.level, bad.prev_after);
    END IF;
    PERFORM aftersales.rearm_watches();
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales._escalation_rules_changed() IS
  'Trigger, after each statement changing escalation_rules: checks that levels come in order, re-arms the watches';
CREATE TRIGGER escalation_rules_changed
    AFTER INSERT OR UPDATE OR DELETE ON aftersales.escalation_rules
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales._escalation_rules_changed();

CREATE FUNCTION aftersales.set_escalation_rule(kind text, level numeric DEFAULT 0, after interval DEFAULT NULL,
                                               role text DEFAULT NULL, enabled boolean DEFAULT true,
                                               description text DEFAULT NULL,
                                               tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cur aftersales.escalation_rules;
    dflt aftersales.escalation_rules;
BEGIN
    IF kind IS NULL OR kind NOT IN ('warning', 'escalation', 'not_arrived', 'not_completed', 'key_customer', 'lock') THEN
        PERFORM aftersales._bad_rule(pg_catalog.format('invalid escalation rule kind: "%s"', kind),
            'Kinds are warning, escalation, not_arrived, not_completed, key_customer and lock; for example: SELECT aftersales.set_escalation_rule(''warning'', 90);');
    END IF;
    IF level IS NULL
       OR (kind = 'warning' AND NOT (level > 0 AND level <= 100 AND level = round(level, 2)))
       OR (kind = 'escalation' AND NOT (level BETWEEN 1 AND 9 AND level = trunc(level)))
       OR (kind NOT IN ('warning', 'escalation') AND level <> 0) THEN
        PERFORM aftersales._bad_rule(pg_catalog.format('invalid level %s for escalation rule kind %s', COALESCE(level::text, 'NULL'), kind),
            CASE kind WHEN 'warning' THEN 'A warning''s level is the percent of the target, above 0 and at most 100, for example: SELECT aftersales.set_escalation_rule(''warning'', 90);'
                      WHEN 'escalation' THEN 'Escalation levels are 1 to 9, for example: SELECT aftersales.set_escalation_rule(''escalation'', 2, after => ''2 hours'');'
                      ELSE pg_catalog.format('Rules of kind %s have level 0, for example: SELECT aftersales.set_escalation_rule(%L, after => ''8 hours'');', kind, kind) END);
    END IF;
    SELECT * INTO cur FROM aftersales.escalation_rules r
     WHERE r.tenant_id = set_escalation_rule.tenant AND r.kind = set_escalation_rule.kind AND r.level = set_escalation_rule.level;
    SELECT * INTO dflt FROM aftersales.escalation_rules r
     WHERE r.tenant_id = 1 AND r.kind = set_escalation_rule.kind AND r.level = set_escalation_rule.level;
    after := COALESCE(after, cur.after, dflt.after);
    IF kind = 'warning' AND after IS NOT NULL THEN
        PERFORM aftersales._bad_rule(pg_catalog.format('a warning has no after, got %s', after),
            'A warning fires at a percent of the target: SELECT aftersales.set_escalation_rule(''warning'', 90);');
    END IF;
    IF kind <> 'warning' AND (after IS NULL OR after < '0'::interval OR EXTRACT(DAY FROM after) <> 0
                              OR EXTRACT(MONTH FROM after) <> 0 OR EXTRACT(YEAR FROM after) <> 0) THEN
        PERFORM aftersales._bad_rule(pg_catalog.format('invalid after for escalation rule %s %s: %s', kind, level, COALESCE(after::text, 'NULL')),
            'After is hours, minutes and seconds, never negative (a business day is not 24 hours), for example: SELECT aftersales.set_escalation_rule(''escalation'', 3, after => ''16 hours'');');
    END IF;
    role := COALESCE(role, cur.role, dflt.role,
                     CASE kind WHEN 'warning' THEN 'assignee' WHEN 'escalation' THEN 'supervisor'
                               WHEN 'not_arrived' THEN 'supervisor' WHEN 'not_completed' THEN 'supervisor'
                               ELSE 'service_manager' END);
    IF role !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        PERFORM aftersales._bad_rule(pg_catalog.format('invalid role: "%s"', role),
            'A role is a lowercase name such as supervisor, service_manager or head_of_department.');
    END IF;
    INSERT INTO aftersales.escalation_rules AS r (tenant_id, kind, level, after, role, enabled, description)
    VALUES (tenant, kind, level, after, role, COALESCE(enabled, true), COALESCE(description, cur.description, dflt.description))
    ON CONFLICT ON CONSTRAINT escalation_rules_pkey DO UPDATE
       SET after = excluded.after, role = excluded.role, enabled = excluded.enabled,
           description = excluded.description;
END
$$;
COMMENT ON FUNCTION aftersales.set_escalation_rule(text, numeric, interval, text, boolean, text, bigint) IS
  'Create or change an escalation rule of a tenant (upsert; omitted after, role and description keep the current ones, else tenant 1''s, else a role by kind); every watch is re-armed';

-- ---------------------------------------------------------------------------
-- The outbox

CREATE TABLE aftersales.alerts (
    tenant_id        bigint      NOT NULL REFERENCES aftersales.tenants,
    alert_id         bigint      GENERATED ALWAYS AS IDENTITY,
    ticket_id        bigint      NOT NULL,
    clock            text        NOT NULL CHECK (clock IN ('first_response', 'arrival', 'resolution', 'ticket')),
    kind             text        NOT NULL
                                 CHECK (kind IN ('warning', 'escalation', 'not_arrived', 'not_completed', 'key_customer',
                                                 'lock', 'locked', 'part_not_collected')),
    level            numeric     NOT NULL DEFAULT 0,
    role             text        NOT NULL,
    due_at           timestamptz NOT NULL,
    raised_at        timestamptz NOT NULL,
    run_id           bigint,
    detail           jsonb       NOT NULL DEFAULT '{}',
    acknowledged_at  timestamptz,
    acknowledged_by  text,
    PRIMARY KEY (tenant_id, alert_id),
    -- exactly once: the database refuses a second row, whatever the logic
    CONSTRAINT alerts_once UNIQUE (tenant_id, ticket_id, clock, kind, level),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL))
);
CREATE INDEX alerts_unacknowledged_idx ON aftersales.alerts (tenant_id, alert_id) WHERE acknowledged_at IS NULL;
COMMENT ON TABLE aftersales.alerts IS
  'Outbox of escalation alerts: one row per stage fired, at most one per (ticket, clock, kind, level); applications read the unacknowledged ones (aftersales.unacknowledged_alerts) and acknowledge them; each new row is also announced by NOTIFY aftersales_alerts';
COMMENT ON COLUMN aftersales.alerts.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.alerts.alert_id IS 'Alert id, increasing: consumers page by it';
COMMENT ON COLUMN aftersales.alerts.ticket_id IS 'Ticket concerned';
COMMENT ON COLUMN aftersales.alerts.clock IS 'SLA clock concerned (first_response, arrival, resolution), or ticket';
COMMENT ON COLUMN aftersales.alerts.kind IS
  'warning, escalation, not_arrived, not_completed, key_customer, lock (the sweep locked it), locked (it was locked another way), part_not_collected';
COMMENT ON COLUMN aftersales.alerts.level IS 'Escalation level; warning percent; for locked, the seq of the lock event; 0 otherwise';
COMMENT ON COLUMN aftersales.alerts.role IS 'Who is to be told (assignee, supervisor, service_manager, head_of_department ...)';
COMMENT ON COLUMN aftersales.alerts.due_at IS 'When the stage came due';
COMMENT ON COLUMN aftersales.alerts.raised_at IS 'When it was raised (the sweep''s now): later than due_at by the sweep''s delay';
COMMENT ON COLUMN aftersales.alerts.run_id IS 'Sweep run that raised it (aftersales.sweep_runs); NULL when raised by a trigger or raise_alert()';
COMMENT ON COLUMN aftersales.alerts.detail IS 'Facts for the message: target, clock due time, priority, status, assignee, reason';
COMMENT ON COLUMN aftersales.alerts.acknowledged_at IS 'When an application or a person acknowledged it; NULL while unacknowledged';
COMMENT ON COLUMN aftersales.alerts.acknowledged_by IS 'Who acknowledged it';

-- ---------------------------------------------------------------------------
-- The managers' queue: open tickets that are locked or escalated

CREATE TABLE aftersales.ticket_escalations (
    tenant_id        bigint      NOT NULL,
    ticket_id        bigint      NOT NULL,
    level            smallint    NOT NULL DEFAULT 0 CHECK (level >= 0),
    clock            text,
    role             text,
    due_at           timestamptz,
    escalated_at     timestamptz,
    locked_at        timestamptz,
    lock_reason      text,
    alert_id         bigint,
    acknowledged_at  timestamptz,
    acknowledged_by  text,
    note             text,
    PRIMARY KEY (tenant_id, ticket_id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES aftersales.tickets (tenant_id, ticket_id),
    CHECK (level > 0 OR locked_at IS NOT NULL),
    CHECK ((level > 0) = (escalated_at IS NOT NULL))
);
COMMENT ON TABLE aftersales.ticket_escalations IS
  'Open tickets that are locked or escalated, one row each, kept by the sweep and the tickets trigger; read aftersales.manager_queue';
COMMENT ON COLUMN aftersales.ticket_escalations.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.ticket_escalations.ticket_id IS 'Ticket';
COMMENT ON COLUMN aftersales.ticket_escalations.level IS 'Highest escalation level reached since the ticket was last opened or reopened; 0: only locked';
COMMENT ON COLUMN aftersales.ticket_escalations.clock IS 'SLA clock that reached that level';
COMMENT ON COLUMN aftersales.ticket_escalations.role IS 'Role of that level';
COMMENT ON COLUMN aftersales.ticket_escalations.due_at IS 'When that clock was due';
COMMENT ON COLUMN aftersales.ticket_escalations.escalated_at IS 'When that level was raised';
COMMENT ON COLUMN aftersales.ticket_escalations.locked_at IS 'When the ticket was locked, while it is';
COMMENT ON COLUMN aftersales.ticket_escalations.lock_reason IS 'Why it was locked, while it is';
COMMENT ON COLUMN aftersales.ticket_escalations.alert_id IS 'The latest escalation or lock alert';
COMMENT ON COLUMN aftersales.ticket_escalations.acknowledged_at IS
  'When a manager acknowledged or took over the ticket since its latest escalation or lock; NULL: waiting';
COMMENT ON COLUMN aftersales.ticket_escalations.acknowledged_by IS 'Who';
COMMENT ON COLUMN aftersales.ticket_escalations.note IS 'The manager''s note with the acknowledgement';

-- ---------------------------------------------------------------------------
-- Sweep runs

CREATE TABLE aftersales.sweep_runs (
    tenant_id      bigint      NOT NULL CHECK (tenant_id >= 0),
    run_id         bigint      GENERATED ALWAYS AS IDENTITY,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz NOT NULL,
    as_of          timestamptz NOT NULL,
    batch          integer     NOT NULL,
    claimed        integer     NOT NULL,
    warnings       integer     NOT NULL,
    escalations    integer     NOT NULL,
    locks          integer     NOT NULL,
    not_arrived    integer     NOT NULL,
    not_completed  integer     NOT NULL,
    key_customer   integer     NOT NULL,
    errors         integer     NOT NULL,
    more_due       boolean     NOT NULL,
    PRIMARY KEY (tenant_id, run_id)
);
CREATE INDEX sweep_runs_finished_idx ON aftersales.sweep_runs (finished_at);
COMMENT ON TABLE aftersales.sweep_runs IS
  'One row per escalation sweep, for monitoring: when, as of when, what it claimed and fired, whether more was due';
COMMENT ON COLUMN aftersales.sweep_runs.tenant_id IS 'Tenant swept; 0 when the run swept every tenant (the scheduled job does)';
COMMENT ON COLUMN aftersales.sweep_runs.run_id IS 'Run id';
COMMENT ON COLUMN aftersales.sweep_runs.started_at IS 'Wall-clock start';
COMMENT ON COLUMN aftersales.sweep_runs.finished_at IS 'Wall-clock end';
COMMENT ON COLUMN aftersales.sweep_runs.as_of IS 'The now the sweep judged against (its now argument)';
COMMENT ON COLUMN aftersales.sweep_runs.batch IS 'Most watches the run could claim';
COMMENT ON COLUMN aftersales.sweep_runs.claimed IS 'Watches claimed';
COMMENT ON COLUMN aftersales.sweep_runs.warnings IS 'Warnings raised';
COMMENT ON COLUMN aftersales.sweep_runs.escalations IS 'Escalations raised';
COMMENT ON COLUMN aftersales.sweep_runs.locks IS 'Tickets locked (seed 002 rule)';
COMMENT ON COLUMN aftersales.sweep_runs.not_arrived IS 'Not-arrived alerts raised';
COMMENT ON COLUMN aftersales.sweep_runs.not_completed IS 'Not-completed alerts raised';
COMMENT ON COLUMN aftersales.sweep_runs.key_customer IS 'Key-customer alerts raised';
COMMENT ON COLUMN aftersales.sweep_runs.errors IS 'Locks that failed (the lock alert is raised all the same, with the error in its detail)';
COMMENT ON COLUMN aftersales.sweep_runs.more_due IS 'Whether stages were still due when it finished: the batch was full, or tickets were busy';

-- ---------------------------------------------------------------------------
-- Arming: triggers on ticket_sla and tickets keep the watches.  The two
-- on ticket_sla are C (src/escalation.c: the same statements, each
-- prepared once per backend), since they fire on every new ticket and most
-- events; the search_path they pin is what their statements' operators
-- resolve in.  The ticket triggers (src/ticket_log.c) arm the watches of
-- one ticket in the statement that writes its clocks (its entry; a stop or
-- a pause), and these triggers then leave that ticket's rows alone.

-- New clocks: one watch each, armed for its first stage.  Set-based for
-- bulk entry, so it computes the first stage directly instead of asking
-- _watch_stages for all of them: the stages of a clock come in a fixed
-- order (warnings by percent, then levels; business_add is monotonic), so
-- the first is the lowest warning, else the lowest level; the anomaly
-- stage (wall clock) is the other candidate.  check_watches() proves the
-- two agree.
CREATE FUNCTION aftersales._clocks_started() RETURNS trigger
    AS 'MODULE_PATHNAME', 'aftersales_clocks_started'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION aftersales._clocks_started() IS
  'Trigger, after each INSERT statement on ticket_sla: a watch for each new clock, armed for its first stage';
CREATE TRIGGER escalation_clocks_started
    AFTER INSERT ON aftersales.ticket_sla
    REFERENCING NEW TABLE AS new_clocks
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales._clocks_started();

-- Changed clocks (paused, resumed, stopped, reopened, re-targeted): their
-- watches are re-armed from _watch_stages (a stopped or paused clock has
-- nothing to fire: no need to ask).
CREATE FUNCTION aftersales._clocks_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'aftersales_clocks_changed'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION aftersales._clocks_changed() IS
  'Trigger, after each UPDATE statement on ticket_sla: re-arms the watches of the clocks changed';
CREATE TRIGGER escalation_clocks_changed
    AFTER UPDATE ON aftersales.ticket_sla
    REFERENCING NEW TABLE AS new_clocks
    FOR EACH STATEMENT EXECUTE FUNCTION aftersales._clocks_changed();

-- New tickets with a requested date or of a key customer get a 'ticket'
-- watch, armed for the lock rule and the key-customer alert, from the
-- entry trigger of tickets (_tickets_entered, 30_tickets.sql), in the
-- statement that starts their clocks.

-- One ticket changed state or requested date: its 'ticket' watch is
-- re-armed, and the managers' queue follows the state:
--   entering locked     the ticket joins the queue (or its row is marked
--                       locked), waiting for a manager again; unless the
--                       sweep is the one locking (it raises its own 'lock'
--                       alert), a 'locked' alert tells the service manager;
--                       locked by the late rule at assignment, the seed 002
--                       lock counts as done;
--   leaving locked      no longer locked; a take_over counts as the
--                       manager's acknowledgement; a ticket not escalated
--                       leaves the queue;
--   resolved, closed,   it leaves the queue (a reopened ticket comes back
--   cancelled           when its clocks escalate again).
-- The watch is written first and the queue second, like the sweep, which
-- holds the ticket row while it touches either.
CREATE FUNCTION aftersales._ticket_escalation_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rule text;
    why text;
    aid bigint;
BEGIN
    UPDATE aftersales.escalation_watches w
       SET next_check = aftersales._next_check(NEW.tenant_id, NEW.ticket_id, 'ticket')
     WHERE w.tenant_id = NEW.tenant_id AND w.ticket_id = NEW.ticket_id AND w.clock = 'ticket';
    IF NOT FOUND AND NEW.requested_at IS NOT NULL THEN
        INSERT INTO aftersales.escalation_watches (tenant_id, ticket_id, clock, next_check)
        VALUES (NEW.tenant_id, NEW.ticket_id, 'ticket', aftersales._next_check(NEW.tenant_id, NEW.ticket_id, 'ticket'))
        ON CONFLICT ON CONSTRAINT escalation_watches_pkey DO NOTHING;
    END IF;

    IF NEW.status = OLD.status THEN
        RETURN NULL;
    END IF;
    IF NEW.status = 'locked' THEN
        rule := aftersales.ticket_transition_rule(OLD.status, NEW.last_event, NEW.status);
        why := CASE rule WHEN 'late' THEN 'assigned after the customer-requested date'
                         WHEN 'attempts' THEN 'handled twice and still unresolved'
                         ELSE COALESCE(NULLIF(pg_catalog.current_setting('aftersales.event_reason', true), ''),
                                       NEW.last_event::text) END;
        IF COALESCE(pg_catalog.current_setting('aftersales.sweep_locking', true), '') <> 'on' THEN
            INSERT INTO aftersales.alerts AS a (tenant_id, ticket_id, clock, kind, level, role, due_at, raised_at, detail)
            VALUES (NEW.tenant_id, NEW.ticket_id, 'ticket', 'locked', NEW.event_seq, 'service_manager',
                    NEW.last_event_at, NEW.last_event_at,
                    pg_catalog.jsonb_build_object('reason', why, 'rule', rule, 'event', NEW.last_event,
                                                  'actor', NEW.last_actor, 'priority', NEW.priority))
            ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING
            RETURNING a.alert_id INTO aid;
            IF aid IS NOT NULL THEN
                PERFORM pg_catalog.pg_notify('aftersales_alerts', pg_catalog.json_build_object(
                    'tenant', NEW.tenant_id, 'alert', aid, 'ticket', NEW.ticket_id, 'clock', 'ticket',
                    'kind', 'locked', 'level', NEW.event_seq)::text);
            END IF;
        END IF;
        -- locked by the late rule at assignment: seed 002's rule has had its
        -- way, the sweep does not lock it again after an unlock
        IF rule = 'late' THEN
            UPDATE aftersales.escalation_watches w SET done = w.done || '{lock}'::text[]
             WHERE w.tenant_id = NEW.tenant_id AND w.ticket_id = NEW.ticket_id AND w.clock = 'ticket'
               AND NOT 'lock' = ANY (w.done);
        END IF;
        INSERT INTO aftersales.ticket_escalations AS e (tenant_id, ticket_id, locked_at, lock_reason, alert_id)
        VALUES (NEW.tenant_id, NEW.ticket_id, NEW.last_event_at, why, aid)
        ON CONFLICT ON CONSTRAINT ticket_escalations_pkey DO UPDATE
           SET locked_at = excluded.locked_at, lock_reason = excluded.lock_reason,
               alert_id = COALESCE(excluded.alert_id, e.alert_id),
               acknowledged_at = NULL, acknowledged_by = NULL, note = NULL;
    ELSIF NEW.status IN ('resolved', 'closed', 'cancelled') THEN
        DELETE FROM aftersales.ticket_escalations e
         WHERE e.tenant_id = NEW.tenant_id AND e.ticket_id = NEW.ticket_id;
    ELSIF OLD.status = 'locked' THEN
        DELETE FROM aftersales.ticket_escalations e
         WHERE e.tenant_id = NEW.tenant_id AND e.ticket_id = NEW.ticket_id AND e.level = 0;
        UPDATE aftersales.ticket_escalations e
           SET locked_at = NULL, lock_reason = NULL,
               acknowledged_at = CASE WHEN NEW.last_event = 'take_over' AND e.acknowledged_at IS NULL
                                      THEN NEW.last_event_at ELSE e.acknowledged_at END,
               acknowledged_by = CASE WHEN NEW.last_event = 'take_over' AND e.acknowledged_at IS NULL
                                      THEN NEW.last_actor ELSE e.acknowledged_by END
         WHERE e.tenant_id = NEW.tenant_id AND e.ticket_id = NEW.ticket_id;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales._ticket_escalation_changed() IS
  'Trigger, after each update of a ticket''s status or requested date: re-arms its ''ticket'' watch, keeps the managers'' queue, raises a locked alert when it is locked other than by the sweep';
-- Only the changes that matter fire it: most events of most tickets (no
-- requested date, neither locked nor final) pass by.
-- The condition: NEW.requested_at IS DISTINCT FROM OLD.requested_at OR
-- (NEW.status IS DISTINCT FROM OLD.status AND (NEW.requested_at IS NOT NULL
-- OR either status is locked, resolved, closed or cancelled)), in C
-- (src/escalation.c): PostgreSQL rebuilds a WHEN expression at every UPDATE
-- statement of the table, and this one in SQL was 3 kB of node text.
CREATE FUNCTION aftersales._ticket_escalation_matters(old_requested timestamptz, new_requested timestamptz,
                                                      old_status aftersales.ticket_status,
                                                      new_status aftersales.ticket_status)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_ticket_escalation_matters' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales._ticket_escalation_matters(timestamptz, timestamptz, aftersales.ticket_status,
                                                          aftersales.ticket_status) IS
  'Internal: the WHEN of trigger ticket_escalation_changed: a new requested date, or a status change of a dated ticket or into or out of locked, resolved, closed or cancelled';
CREATE TRIGGER ticket_escalation_changed
    AFTER UPDATE ON aftersales.tickets
    FOR EACH ROW WHEN (aftersales._ticket_escalation_matters(OLD.requested_at, NEW.requested_at, OLD.status, NEW.status))
    EXECUTE FUNCTION aftersales._ticket_escalation_changed();

-- ---------------------------------------------------------------------------
-- pg_dump and privileges

SELECT pg_catalog.pg_extension_config_dump('aftersales.escalation_watches', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.alerts', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.ticket_escalations', '');
SELECT pg_catalog.pg_extension_config_dump('aftersales.sweep_runs', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.alerts', 'alert_id')::regclass, '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('aftersales.sweep_runs', 'run_id')::regclass, '');

REVOKE ALL ON FUNCTION aftersales._clocks_started() FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales._clocks_changed() FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales._ticket_escalation_changed() FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales._escalation_rules_changed() FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales.rearm_watches(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales._expected_checks(bigint) FROM PUBLIC;

-- aftersales install script, part 40: scheduling the sweeps with pg_cron.
--
-- pg_cron is optional: aftersales installs without it, and these functions
-- reach it only through dynamic SQL.  pg_cron keeps its jobs in one
-- database of the server (the setting cron.database_name) and runs each
-- job in the database the job names.  So:
--   * pg_cron installed here, and this is its database: the job
--     aftersales-sweep is scheduled (or updated: named jobs upsert);
--   * pg_cron's database is another one: a NOTICE gives the exact command
--     to run there (cron.schedule_in_database, which pg_cron has since 1.4;
--     before 1.4, cron.schedule and an UPDATE of cron.job.database);
--   * pg_cron not installed here, or not loaded at all: a NOTICE says what
--     to do.
-- The job runs CALL aftersales.sweep_until_done(...).  pg_cron 1.4 runs at
-- most one instance of a job at a time; concurrent sweeps are safe anyway.

CREATE FUNCTION aftersales._sweep_command(batch integer, max_batches integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF batch IS NULL OR batch < 1 OR batch > 100000 THEN
        RAISE EXCEPTION 'invalid sweep batch: %', COALESCE(batch::text, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'The batch is how many watches one sweep claims, 1 to 100000, for example: SELECT aftersales.schedule_sweeps(batch => 500);';
    END IF;
    IF max_batches IS NULL OR max_batches < 1 OR max_batches > 100000 THEN
        RAISE EXCEPTION 'invalid max_batches: %', COALESCE(max_batches::text, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'It bounds the batches of one run, 1 to 100000, for example: SELECT aftersales.schedule_sweeps(max_batches => 100);';
    END IF;
    RETURN pg_catalog.format('CALL aftersales.sweep_until_done(batch => %s, max_batches => %s)', batch, max_batches);
END
$$;
COMMENT ON FUNCTION aftersales._sweep_command(integer, integer) IS 'Internal: the command of the aftersales-sweep job';

-- Where pg_cron stands for this database: 'here' (installed in this
-- database, which is its database), 'elsewhere' (loaded, its database is
-- another one), 'not_installed' (loaded for this database, extension not
-- created), 'absent' (not loaded).
CREATE FUNCTION aftersales._pg_cron_status(OUT status text, OUT cron_database text, OUT new_api boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v text;
BEGIN
    cron_database := NULLIF(pg_catalog.current_setting('cron.database_name', true), '');
    -- cron.schedule_in_database() came with pg_cron 1.4
    SELECT COALESCE(e.extversion, a.default_version) INTO v
      FROM pg_catalog.pg_available_extensions a
      LEFT JOIN pg_catalog.pg_extension e ON e.extname = a.name
     WHERE a.name = 'pg_cron';
    new_api := v IS NULL
               OR pg_catalog.string_to_array(pg_catalog.regexp_replace(v, '[^0-9.]+', '.', 'g'), '.')::int[] >= '{1,4}';
    IF cron_database IS NULL THEN
        status := 'absent';
    ELSIF cron_database <> pg_catalog.current_database() THEN
        status := 'elsewhere';
    ELSIF EXISTS (SELECT FROM pg_catalog.pg_extension e WHERE e.extname = 'pg_cron') THEN
        status := 'here';
    ELSE
        status := 'not_installed';
    END IF;
END
$$;
COMMENT ON FUNCTION aftersales._pg_cron_status() IS
  'Internal: whether pg_cron can run jobs for this database (here, elsewhere, not_installed, absent), its database, and whether it has schedule_in_database';

CREATE FUNCTION aftersales.schedule_sweeps(schedule text DEFAULT '* * * * *', batch integer DEFAULT 500,
                                           max_batches integer DEFAULT 100)
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job constant text := 'aftersales-sweep';
    command text := aftersales._sweep_command(batch, max_batches);
    cron record;
    jobid bigint;
BEGIN
    IF schedule IS NULL OR schedule !~ '^\s*([0-9A-Za-z*/,-]+\s+){4}[0-9A-Za-z*/,-]+\s*$' THEN
        RAISE EXCEPTION 'invalid schedule: "%"', schedule
            USING ERRCODE = '22023',
                  DETAIL = 'pg_cron 1.4 takes the five fields of cron: minute, hour, day of month, month, day of week.',
                  HINT = 'Every minute: SELECT aftersales.schedule_sweeps(''* * * * *'');';
    END IF;
    cron := aftersales._pg_cron_status();
    IF cron.status = 'here' THEN
        EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO jobid USING job, schedule, command;
        RETURN jobid;
    ELSIF cron.status = 'elsewhere' THEN
        RAISE NOTICE 'pg_cron runs in database "%": schedule the sweeps from there', cron.cron_database
            USING DETAIL = pg_catalog.format('Connect to database %I as a superuser and run: %s', cron.cron_database,
                    CASE WHEN cron.new_api
                         THEN pg_catalog.format('SELECT cron.schedule_in_database(%L, %L, %L, %L);',
                                                job, schedule, command, pg_catalog.current_database())
                         ELSE pg_catalog.format('SELECT cron.schedule(%L, %L, %L); UPDATE cron.job SET database = %L WHERE jobname = %L;',
                                                job, schedule, command, pg_catalog.current_database(), job) END),
                  HINT = 'Or make this database pg_cron''s: cron.database_name = ''' || pg_catalog.current_database()
                         || ''' in postgresql.conf, restart, CREATE EXTENSION pg_cron; then SELECT aftersales.schedule_sweeps();';
    ELSIF cron.status = 'not_installed' THEN
        RAISE NOTICE 'pg_cron is not installed in this database: the sweeps are not scheduled'
            USING HINT = pg_catalog.format('Run CREATE EXTENSION pg_cron; then SELECT aftersales.schedule_sweeps(%L);', schedule);
    ELSE
        RAISE NOTICE 'pg_cron is not loaded: the sweeps are not scheduled'
            USING DETAIL = pg_catalog.format('Without pg_cron, run %s; every minute from another scheduler.', command),
                  HINT = pg_catalog.format('To use pg_cron: shared_preload_libraries = ''pg_cron'' and cron.database_name = %L in postgresql.conf, restart, CREATE EXTENSION pg_cron; then SELECT aftersales.schedule_sweeps();',
                                           pg_catalog.current_database());
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales.schedule_sweeps(text, integer, integer) IS
  'Schedule the escalation sweeps as the pg_cron job aftersales-sweep (calling it again updates the job, never duplicates it); returns the job id, or NULL with a NOTICE saying what to run when pg_cron is absent or lives in another database';

CREATE FUNCTION aftersales.unschedule_sweeps() RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job constant text := 'aftersales-sweep';
    cron record;
    found_job boolean;
BEGIN
    cron := aftersales._pg_cron_status();
    IF cron.status = 'here' THEN
        EXECUTE 'SELECT EXISTS (SELECT FROM cron.job j WHERE j.jobname = $1 AND j.username = CURRENT_USER)'
           INTO found_job USING job;
        IF found_job THEN
            EXECUTE 'SELECT cron.unschedule($1)' USING job;
        END IF;
        RETURN found_job;
    ELSIF cron.status = 'elsewhere' THEN
        RAISE NOTICE 'pg_cron runs in database "%": unschedule the sweeps from there', cron.cron_database
            USING DETAIL = pg_catalog.format('Connect to database %I as the job''s owner and run: SELECT cron.unschedule(%L);',
                                             cron.cron_database, job);
    ELSE
        RAISE NOTICE 'pg_cron is not installed in this database: no sweeps are scheduled by it';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales.unschedule_sweeps() IS
  'Remove the pg_cron job aftersales-sweep: true when removed, false when there was none, NULL with a NOTICE when pg_cron lives in another database or is absent';

REVOKE ALL ON FUNCTION aftersales.schedule_sweeps(text, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales.unschedule_sweeps() FROM PUBLIC;

-- aftersales install script, part 40: what the alerts are for.
--
--   unacknowledged_alerts()  the outbox as applications read it: alerts not
--                            yet acknowledged, oldest first, by pages;
--   acknowledge_alerts()     an application (or a person) has taken note;
--   acknowledge_ticket()     a service manager takes note of a locked or
--                            escalated ticket: its alerts are acknowledged
--                            and it stops waiting in the queue;
--   manager_queue            the service managers' view: open tickets that
--                            are locked or escalated, most urgent first;
--   raise_alert()            the hook for alerts the sweep does not raise
--                            itself: today part_not_collected, for the
--                            spare-parts module to call.
-- Who acts and when: actor and at, as everywhere (aftersales.actor(),
-- aftersales.now()); the tenant is aftersales.current_tenant().

CREATE FUNCTION aftersales.unacknowledged_alerts(after_alert bigint DEFAULT 0, max_rows integer DEFAULT 100,
                                                 tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS SETOF aftersales.alerts
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF max_rows IS NULL OR max_rows < 1 OR max_rows > 100000 THEN
        RAISE EXCEPTION 'invalid max_rows: %', COALESCE(max_rows::text, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'Read the outbox by pages of 1 to 100000 alerts, for example: SELECT * FROM aftersales.unacknowledged_alerts(after_alert => 0, max_rows => 100);';
    END IF;
    RETURN QUERY
    SELECT a.* FROM aftersales.alerts a
     WHERE a.tenant_id = unacknowledged_alerts.tenant AND a.acknowledged_at IS NULL
       AND a.alert_id > COALESCE(after_alert, 0)
     ORDER BY a.alert_id
     LIMIT max_rows;
END
$$;
COMMENT ON FUNCTION aftersales.unacknowledged_alerts(bigint, integer, bigint) IS
  'The outbox: alerts of the tenant not yet acknowledged, by increasing alert_id, after after_alert, at most max_rows';

CREATE FUNCTION aftersales.acknowledge_alerts(alert_ids bigint[], actor text DEFAULT aftersales.actor(),
                                              at timestamptz DEFAULT aftersales.now())
    RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    missing bigint;
    n integer;
BEGIN
    IF alert_ids IS NULL THEN
        RAISE EXCEPTION 'alert_ids must not be null'
            USING ERRCODE = '22004',
                  HINT = 'For example: SELECT aftersales.acknowledge_alerts(ARRAY[17, 18]);';
    END IF;
    SELECT x.id INTO missing
      FROM pg_catalog.unnest(alert_ids) AS x (id)
     WHERE x.id IS NULL
        OR NOT EXISTS (SELECT FROM aftersales.alerts a WHERE a.tenant_id = tenant AND a.alert_id = x.id)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'alert % does not exist for tenant %', COALESCE(missing::text, 'NULL'), tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the alerts waiting with: SELECT * FROM aftersales.unacknowledged_alerts();';
    END IF;
    UPDATE aftersales.alerts a
       SET acknowledged_at = COALESCE(acknowledge_alerts.at, aftersales.now()),
           acknowledged_by = COALESCE(NULLIF(acknowledge_alerts.actor, ''), aftersales.actor())
     WHERE a.tenant_id = tenant AND a.alert_id = ANY (alert_ids) AND a.acknowledged_at IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION aftersales.acknowledge_alerts(bigint[], text, timestamptz) IS
  'Acknowledge alerts of the outbox (idempotent: already acknowledged ones are left as they are); returns how many were newly acknowledged';

CREATE FUNCTION aftersales.acknowledge_alert(alert bigint, actor text DEFAULT aftersales.actor(),
                                             at timestamptz DEFAULT aftersales.now())
    RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$ SELECT aftersales.acknowledge_alerts(ARRAY[alert], actor, at) = 1 $$;
COMMENT ON FUNCTION aftersales.acknowledge_alert(bigint, text, timestamptz) IS
  'Acknowledge one alert; true when it was newly acknowledged, false when it already was';

-- A manager takes note of a ticket: the event acknowledge is recorded in
-- its log through the closed loop (allowed in every state that is not
-- final, needs no reason: the note, when given, is recorded as the reason),
-- every unacknowledged alert of the ticket is acknowledged, and the ticket
-- stops waiting in the queue until its next escalation or lock.  The event
-- comes first: it checks the ticket and locks its row, under which every
-- change of a ticket's escalation state is made.
CREATE FUNCTION aftersales.acknowledge_ticket(ticket bigint, note text DEFAULT NULL,
                                              actor text DEFAULT aftersales.actor(),
                                              at timestamptz DEFAULT aftersales.now())
    RETURNS aftersales.ticket_status
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    who text := COALESCE(NULLIF(actor, ''), aftersales.actor());
    t_at timestamptz := COALESCE(at, aftersales.now());
    result aftersales.ticket_status;
BEGIN
    IF ticket IS NULL THEN
        RAISE EXCEPTION 'ticket must not be null'
            USING ERRCODE = '22004',
                  HINT = 'Name the ticket by its id, for example: SELECT aftersales.acknowledge_ticket(42, note => ''calling the customer'');';
    END IF;
    result := aftersales._ticket_event(ticket, 'acknowledge', who, t_at, note);
    UPDATE aftersales.alerts a
       SET acknowledged_at = t_at, acknowledged_by = who
     WHERE a.tenant_id = tenant AND a.ticket_id = acknowledge_ticket.ticket AND a.acknowledged_at IS NULL;
    UPDATE aftersales.ticket_escalations e
       SET acknowledged_at = t_at, acknowledged_by = who, note = NULLIF(pg_catalog.btrim(acknowledge_ticket.note), '')
     WHERE e.tenant_id = tenant AND e.ticket_id = acknowledge_ticket.ticket;
    RETURN result;
END
$$;
COMMENT ON FUNCTION aftersales.acknowledge_ticket(bigint, text, text, timestamptz) IS
  'A service manager acknowledges a locked or escalated ticket: records the event acknowledge in its log, acknowledges its alerts, and it stops waiting in aftersales.manager_queue until its next escalation or lock; returns the ticket''s status, as every event does';

-- ---------------------------------------------------------------------------
-- The managers' queue

CREATE VIEW aftersales.manager_queue WITH (security_invoker = true) AS
SELECT q.tenant_id, q.ticket_id, q.urgency, q.waiting, q.level, q.role, q.locked, q.reason,
       q.status, q.priority, q.key_customer, q.customer_id, q.customer, q.assignee_id, q.org_id,
       q.due_at, q.overdue_minutes, q.escalated_at, q.locked_at, q.next_check,
       q.acknowledged_at, q.acknowledged_by, q.note, q.alert_id
  FROM (SELECT e.tenant_id, e.ticket_id,
               pg_catalog.row_number() OVER (
                   ORDER BY e.acknowledged_at IS NOT NULL, e.level DESC, t.status = 'locked' DESC, t.priority,
                            cu.tier = 'key' DESC, COALESCE(e.due_at, e.locked_at), e.ticket_id) AS urgency,
               e.acknowledged_at IS NULL AS waiting,
               e.level::integer AS level,
               COALESCE(e.role, 'service_manager') AS role,
               t.status = 'locked' AS locked,
               pg_catalog.concat_ws('; ',
                   CASE WHEN t.status = 'locked' THEN 'locked: ' || e.lock_reason END,
                   CASE WHEN e.level > 0 THEN pg_catalog.format('level %s: %s target missed', e.level, e.clock) END) AS reason,
               t.status::text AS status, t.priority::text AS priority, cu.tier = 'key' AS key_customer,
               t.customer_id, cu.name AS customer, t.assignee_id, t.org_id,
               e.due_at,
               pg_catalog.round(EXTRACT(EPOCH FROM aftersales.now() - e.due_at) / 60, 1) AS overdue_minutes,
               e.escalated_at, e.locked_at,
               (SELECT pg_catalog.min(w.next_check) FROM aftersales.escalation_watches w
                 WHERE w.tenant_id = e.tenant_id AND w.ticket_id = e.ticket_id) AS next_check,
               e.acknowledged_at, e.acknowledged_by, e.note, e.alert_id
          FROM aftersales.ticket_escalations e
          JOIN aftersales.tickets t ON t.tenant_id = e.tenant_id AND t.ticket_id = e.ticket_id
          JOIN aftersales.customers cu ON cu.tenant_id = t.tenant_id AND cu.customer_id = t.customer_id
         WHERE e.tenant_id = aftersales.current_tenant()) q
 ORDER BY q.urgency;
COMMENT ON VIEW aftersales.manager_queue IS
  'The service managers'' queue of the current tenant: open tickets that are locked or escalated, most urgent first (waiting before acknowledged, then higher level, locked, priority A first, key customers, longest overdue)';
COMMENT ON COLUMN aftersales.manager_queue.tenant_id IS 'Tenant';
COMMENT ON COLUMN aftersales.manager_queue.ticket_id IS 'Ticket';
COMMENT ON COLUMN aftersales.manager_queue.urgency IS 'Rank, 1 the most urgent';
COMMENT ON COLUMN aftersales.manager_queue.waiting IS 'True until a manager acknowledges or takes over the ticket (again after each new level or lock)';
COMMENT ON COLUMN aftersales.manager_queue.level IS 'Highest escalation level reached (1 supervisor, 2 service manager, 3 head of department); 0 when only locked';
COMMENT ON COLUMN aftersales.manager_queue.role IS 'Who the level calls for';
COMMENT ON COLUMN aftersales.manager_queue.locked IS 'Whether the ticket is locked (waiting for the service manager to take it over, unlock it or transfer it)';
COMMENT ON COLUMN aftersales.manager_queue.reason IS 'Why it is here: the lock''s reason, and the SLA target missed';
COMMENT ON COLUMN aftersales.manager_queue.status IS 'Ticket status';
COMMENT ON COLUMN aftersales.manager_queue.priority IS 'Ticket priority: A, B or C';
COMMENT ON COLUMN aftersales.manager_queue.key_customer IS 'Whether the customer is a key customer';
COMMENT ON COLUMN aftersales.manager_queue.customer_id IS 'Customer';
COMMENT ON COLUMN aftersales.manager_queue.customer IS 'Customer name';
COMMENT ON COLUMN aftersales.manager_queue.assignee_id IS 'Engineer who has the ticket, if any';
COMMENT ON COLUMN aftersales.manager_queue.org_id IS 'Organisation handling the ticket';
COMMENT ON COLUMN aftersales.manager_queue.due_at IS 'When the SLA clock that escalated was due; NULL when only locked';
COMMENT ON COLUMN aftersales.manager_queue.overdue_minutes IS 'Minutes since due_at, as of now (wall clock)';
COMMENT ON COLUMN aftersales.manager_queue.escalated_at IS 'When the level was raised';
COMMENT ON COLUMN aftersales.manager_queue.locked_at IS 'When the ticket was locked, while it is';
COMMENT ON COLUMN aftersales.manager_queue.next_check IS 'When a sweep next has something to fire for the ticket (the next level, say)';
COMMENT ON COLUMN aftersales.manager_queue.acknowledged_at IS 'When a manager acknowledged or took it over';
COMMENT ON COLUMN aftersales.manager_queue.acknowledged_by IS 'Who';
COMMENT ON COLUMN aftersales.manager_queue.note IS 'The manager''s note';
COMMENT ON COLUMN aftersales.manager_queue.alert_id IS 'The latest escalation or lock alert (aftersales.alerts)';

-- ---------------------------------------------------------------------------
-- The hook for alerts raised by other modules

-- Seed 000's fourth anomaly, "spare part arrived but not collected"
-- (备件到达未取件), belongs to the spare-parts module, which does not exist
-- yet.  When it does, it calls this when a part has waited too long, with
-- level = its shipment (or part line) number, so that each shipment is
-- announced once: the same outbox, the same exactly-once constraint, the
-- same NOTIFY.  Only kinds that the sweep does not raise are accepted.
CREATE FUNCTION aftersales.raise_alert(ticket bigint, kind text, level numeric DEFAULT 0,
                                       role text DEFAULT 'supervisor', detail jsonb DEFAULT '{}',
                                       due_at timestamptz DEFAULT NULL,
                                       at timestamptz DEFAULT aftersales.now())
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant bigint := aftersales.current_tenant();
    t_at timestamptz := COALESCE(at, aftersales.now());
    aid bigint;
BEGIN
    IF kind IS NULL OR kind NOT IN ('part_not_collected') THEN
        RAISE EXCEPTION 'alerts of kind "%" cannot be raised by hand', kind
            USING ERRCODE = '22023',
                  DETAIL = 'Warnings, escalations, locks and the anomaly alerts on clocks are raised by the sweep, locked by the tickets trigger.',
                  HINT = 'Kinds raised through this hook: part_not_collected; for example: SELECT aftersales.raise_alert(42, ''part_not_collected'', level => 7);';
    END IF;
    IF level IS NULL OR level < 0 OR role IS NULL OR role !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid level % or role "%" for an alert', COALESCE(level::text, 'NULL'), role
            USING ERRCODE = '22023',
                  HINT = 'The level tells one occurrence from another (a shipment number, say) and is never negative; a role is a lowercase name: SELECT aftersales.raise_alert(42, ''part_not_collected'', level => 7, role => ''supervisor'');';
    END IF;
    IF ticket IS NULL OR NOT EXISTS (SELECT FROM aftersales.tickets t
                                      WHERE t.tenant_id = tenant AND t.ticket_id = raise_alert.ticket) THEN
        PERFORM aftersales._ticket_not_found(ticket, tenant);
    END IF;
    INSERT INTO aftersales.alerts AS a (tenant_id, ticket_id, clock, kind, level, role, due_at, raised_at, detail)
    VALUES (tenant, ticket, 'ticket', kind, level, role, COALESCE(due_at, t_at), t_at, COALESCE(detail, '{}'))
    ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING
    RETURNING a.alert_id INTO aid;
    IF aid IS NOT NULL THEN
        PERFORM pg_catalog.pg_notify('aftersales_alerts', pg_catalog.json_build_object(
            'tenant', tenant, 'alert', aid, 'ticket', ticket, 'clock', 'ticket', 'kind', kind, 'level', level)::text);
    END IF;
    RETURN aid;
END
$$;
COMMENT ON FUNCTION aftersales.raise_alert(bigint, text, numeric, text, jsonb, timestamptz, timestamptz) IS
  'Hook for other modules: raise an alert of a kind the sweep does not raise (part_not_collected: seed 000''s spare part arrived but not collected, for the spare-parts module), once per (ticket, kind, level); returns its id, or NULL when it was raised before';

-- aftersales install script, part 40: the escalation sweep.
--
-- aftersales.sweep() is one SQL call, all a cron job runs (through the
-- procedure sweep_until_done(), which repeats it while more is due).  One
-- call:
--   1. claims at most `batch` watches whose next_check <= now, oldest
--      first, with their tickets, in one statement: FOR UPDATE SKIP LOCKED
--      on the watches and FOR NO KEY UPDATE SKIP LOCKED on the tickets,
--      materialised in a CTE.  What another sweep or a front-line
--      transaction holds is skipped, never waited for; what it claims,
--      nobody else changes until it commits (a ticket's changes all go
--      through its row), so it never deadlocks with the front line;
--   2. in the next statement (a new snapshot, taken after the locks: it
--      sees whatever committed before), fires every stage of the claimed
--      watches that is due at now, each once: the alert rows are inserted
--      ON CONFLICT DO NOTHING on alerts_once, so even a bug could not
--      announce a stage twice; advances the watches and re-arms them for
--      their next stage; raises the managers' queue; NOTIFYs each new
--      alert on channel aftersales_alerts;
--   3. locks the tickets that the seed 002 rule says to lock, each in a
--      subtransaction, through the closed loop (lock_ticket, actor
--      aftersales-sweep);
--   4. records the run in sweep_runs, with whether more is due.
-- It catches up after downtime by construction: it selects what is due at
-- or before now, never "due in the last minute", and a watch fires every
-- stage that came due while nobody swept.  Its cost is the due watches'
-- (an index range on next_check), not the open tickets'.
--
-- It must run at READ COMMITTED (step 2's fresh snapshot depends on it).
-- A watch whose stages cannot be computed (a broken calendar, say) does
-- not stop the others: the batch is retried watch by watch and the failing
-- one is retried an hour later, with a WARNING in the server log.
--
-- Plans: the claim is planned with the real now (its range on next_check
-- is what makes the plan an index range); the work on the claimed keys
-- (_sweep_claimed, _watch_stages) uses generic plans, made once per
-- session, whose arrays drive nested loops on primary keys.

CREATE FUNCTION aftersales._sweep_error(message text, hint text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION '%', message USING ERRCODE = '22023', HINT = hint;
END
$$;
COMMENT ON FUNCTION aftersales._sweep_error(text, text) IS 'Internal: the error for an invalid sweep argument';

-- Step 2 and 3 for a set of claimed watches (the caller holds them and
-- their tickets).  Returns the counts by kind.
CREATE FUNCTION aftersales._sweep_claimed(run bigint, now timestamptz, tenants bigint[], tickets bigint[], clocks text[],
                                          OUT warnings integer, OUT escalations integer, OUT locks integer,
                                          OUT not_arrived integer, OUT not_completed integer,
                                          OUT key_customer integer, OUT errors integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    lk_tenants bigint[];
    lk_tickets bigint[];
    lk_due timestamptz[];
    lk_role text[];
    aid bigint;
    touched bigint;  -- only to make the CTEs n, upd, q run
    last_at timestamptz;
    saved_tenant text;
    msg text;
BEGIN
    locks := 0;
    errors := 0;
    WITH c AS (
        SELECT * FROM unnest(tenants, tickets, clocks) AS c (tenant_id, ticket_id, clock)
    ), st AS MATERIALIZED (
        SELECT s.* FROM aftersales._watch_stages(tenants, tickets, clocks, _sweep_claimed.now) s
    ), fire AS (
        SELECT st.* FROM st WHERE st.due_at <= _sweep_claimed.now AND st.kind <> 'lock'
    ), ins AS (
        INSERT INTO aftersales.alerts AS a (tenant_id, ticket_id, clock, kind, level, role, due_at, raised_at, run_id, detail)
        SELECT f.tenant_id, f.ticket_id, f.clock, f.kind, f.level, f.role, f.due_at, _sweep_claimed.now, run,
               pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                   'target', f.target, 'clock_due', f.clock_due, 'after', f.after, 'priority', f.priority,
                   'status', f.status, 'assignee', f.assignee_id))
          FROM fire f
         ORDER BY f.due_at, f.tenant_id, f.ticket_id, f.clock,
                  CASE f.kind WHEN 'warning' THEN 0 WHEN 'escalation' THEN 1 ELSE 2 END, f.kind, f.level
        ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING
        RETURNING a.tenant_id, a.alert_id, a.ticket_id, a.clock, a.kind, a.level, a.role, a.due_at
    ), adv AS (
        SELECT c.tenant_id, c.ticket_id, c.clock,
               pg_catalog.max(st.level) FILTER (WHERE st.kind = 'warning' AND st.due_at <= _sweep_claimed.now) AS warned,
               pg_catalog.max(st.level) FILTER (WHERE st.kind = 'escalation' AND st.due_at <= _sweep_claimed.now) AS level,
               pg_catalog.array_agg(st.kind) FILTER (WHERE st.kind IN ('not_arrived', 'not_completed', 'key_customer')
                                                     AND st.due_at <= _sweep_claimed.now) AS done,
               -- a due lock stays due until step 3 has locked the ticket
               pg_catalog.min(st.due_at) FILTER (WHERE st.due_at > _sweep_claimed.now OR st.kind = 'lock') AS next_check
          FROM c
          LEFT JOIN st ON st.tenant_id = c.tenant_id AND st.ticket_id = c.ticket_id AND st.clock = c.clock
         GROUP BY c.tenant_id, c.ticket_id, c.clock
    ), upd AS (
        UPDATE aftersales.escalation_watches w
           SET warned = GREATEST(w.warned, COALESCE(adv.warned, 0)),
               level = GREATEST(w.level, COALESCE(adv.level, 0)),
               done = w.done || COALESCE(adv.done, '{}'),
               next_check = adv.next_check
          FROM adv
         WHERE w.tenant_id = adv.tenant_id AND w.ticket_id = adv.ticket_id AND w.clock = adv.clock
        RETURNING 1
    ), esc AS (
        SELECT DISTINCT ON (i.tenant_id, i.ticket_id)
               i.tenant_id, i.ticket_id, i.level::smallint AS level, i.clock, i.role, f.clock_due, i.alert_id
          FROM ins i
          JOIN fire f ON f.tenant_id = i.tenant_id AND f.ticket_id = i.ticket_id AND f.clock = i.clock
                     AND f.kind = i.kind AND f.level = i.level
         WHERE i.kind = 'escalation'
         ORDER BY i.tenant_id, i.ticket_id, i.level DESC, f.clock_due, i.clock
    ), q AS (
        INSERT INTO aftersales.ticket_escalations AS e (tenant_id, ticket_id, level, clock, role, due_at, escalated_at, alert_id)
        SELECT esc.tenant_id, esc.ticket_id, esc.level, esc.clock, esc.role, esc.clock_due, _sweep_claimed.now, esc.alert_id
          FROM esc
        ON CONFLICT ON CONSTRAINT ticket_escalations_pkey DO UPDATE
           SET level = excluded.level, clock = excluded.clock, role = excluded.role, due_at = excluded.due_at,
               escalated_at = excluded.escalated_at, alert_id = excluded.alert_id,
               acknowledged_at = NULL, acknowledged_by = NULL, note = NULL
         WHERE excluded.level > e.level
        RETURNING 1
    ), n AS (
        SELECT pg_catalog.pg_notify('aftersales_alerts', pg_catalog.json_build_object(
                   'tenant', i.tenant_id, 'alert', i.alert_id, 'ticket', i.ticket_id, 'clock', i.clock,
                   'kind', i.kind, 'level', i.level)::text)
          FROM (SELECT * FROM ins ORDER BY ins.alert_id) i
    ), lk AS (
        SELECT pg_catalog.array_agg(st.tenant_id ORDER BY st.due_at, st.tenant_id, st.ticket_id) AS tenants,
               pg_catalog.array_agg(st.ticket_id ORDER BY st.due_at, st.tenant_id, st.ticket_id) AS tickets,
               pg_catalog.array_agg(st.due_at ORDER BY st.due_at, st.tenant_id, st.ticket_id) AS due,
               pg_catalog.array_agg(st.role ORDER BY st.due_at, st.tenant_id, st.ticket_id) AS roles
          FROM st WHERE st.kind = 'lock' AND st.due_at <= _sweep_claimed.now
    )
    SELECT pg_catalog.count(*) FILTER (WHERE i.kind = 'warning'),
           pg_catalog.count(*) FILTER (WHERE i.kind = 'escalation'),
           pg_catalog.count(*) FILTER (WHERE i.kind = 'not_arrived'),
           pg_catalog.count(*) FILTER (WHERE i.kind = 'not_completed'),
           pg_catalog.count(*) FILTER (WHERE i.kind = 'key_customer'),
           (SELECT lk.tenants FROM lk), (SELECT lk.tickets FROM lk), (SELECT lk.due FROM lk), (SELECT lk.roles FROM lk),
           (SELECT pg_catalog.count(*) FROM n) + (SELECT pg_catalog.count(*) FROM upd) + (SELECT pg_catalog.count(*) FROM q)
      INTO warnings, escalations, not_arrived, not_completed, key_customer,
           lk_tenants, lk_tickets, lk_due, lk_role, touched
      FROM ins i;

    -- Seed 002: still awaiting assignment at the customer-requested date.
    -- The lock alert is inserted first: the unique constraint decides that
    -- this is the one time, then the ticket is locked.  A lock that fails
    -- is rolled back, and the alert raised again without it, with the error.
    FOR i IN 1 .. COALESCE(pg_catalog.array_length(lk_tickets, 1), 0) LOOP
        BEGIN
            aid := NULL;
            SELECT t.last_event_at INTO last_at FROM aftersales.tickets t
             WHERE t.tenant_id = lk_tenants[i] AND t.ticket_id = lk_tickets[i];
            INSERT INTO aftersales.alerts AS a (tenant_id, ticket_id, clock, kind, level, role, due_at, raised_at, run_id, detail)
            SELECT t.tenant_id, t.ticket_id, 'ticket', 'lock', 0, lk_role[i], lk_due[i], _sweep_claimed.now, run,
                   pg_catalog.jsonb_build_object('requested_at', t.requested_at, 'priority', t.priority, 'locked', true)
              FROM aftersales.tickets t
             WHERE t.tenant_id = lk_tenants[i] AND t.ticket_id = lk_tickets[i]
            ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING
            RETURNING a.alert_id INTO aid;
            IF aid IS NOT NULL THEN
                saved_tenant := pg_catalog.current_setting('aftersales.tenant_id', true);
                PERFORM pg_catalog.set_config('aftersales.tenant_id', lk_tenants[i]::text, true);
                PERFORM pg_catalog.set_config('aftersales.sweep_locking', 'on', true);
                PERFORM aftersales.lock_ticket(lk_tickets[i], reason => 'no engineer assigned by the customer-requested date',
                                               actor => 'aftersales-sweep',
                                               at => GREATEST(_sweep_claimed.now, last_at));
                PERFORM pg_catalog.set_config('aftersales.sweep_locking', '', true);
                PERFORM pg_catalog.set_config('aftersales.tenant_id', COALESCE(saved_tenant, ''), true);
                UPDATE aftersales.ticket_escalations e SET alert_id = aid
                 WHERE e.tenant_id = lk_tenants[i] AND e.ticket_id = lk_tickets[i];
                PERFORM pg_catalog.pg_notify('aftersales_alerts', pg_catalog.json_build_object(
                    'tenant', lk_tenants[i], 'alert', aid, 'ticket', lk_tickets[i], 'clock', 'ticket',
                    'kind', 'lock', 'level', 0)::text);
                locks := locks + 1;
            END IF;
            UPDATE aftersales.escalation_watches w
               SET done = w.done || '{lock}'::text[]
             WHERE w.tenant_id = lk_tenants[i] AND w.ticket_id = lk_tickets[i] AND w.clock = 'ticket';
            UPDATE aftersales.escalation_watches w
               SET next_check = aftersales._next_check(w.tenant_id, w.ticket_id, w.clock)
             WHERE w.tenant_id = lk_tenants[i] AND w.ticket_id = lk_tickets[i] AND w.clock = 'ticket';
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
            errors := errors + 1;
            RAISE WARNING 'aftersales sweep: could not lock ticket % of tenant %: %', lk_tickets[i], lk_tenants[i], msg;
            INSERT INTO aftersales.alerts AS a (tenant_id, ticket_id, clock, kind, level, role, due_at, raised_at, run_id, detail)
            VALUES (lk_tenants[i], lk_tickets[i], 'ticket', 'lock', 0, lk_role[i], lk_due[i], _sweep_claimed.now, run,
                    pg_catalog.jsonb_build_object('locked', false, 'error', msg))
            ON CONFLICT ON CONSTRAINT alerts_once DO NOTHING
            RETURNING a.alert_id INTO aid;
            IF aid IS NOT NULL THEN
                PERFORM pg_catalog.pg_notify('aftersales_alerts', pg_catalog.json_build_object(
                    'tenant', lk_tenants[i], 'alert', aid, 'ticket', lk_tickets[i], 'clock', 'ticket',
                    'kind', 'lock', 'level', 0)::text);
            END IF;
            UPDATE aftersales.escalation_watches w
               SET done = w.done || '{lock}'::text[]
             WHERE w.tenant_id = lk_tenants[i] AND w.ticket_id = lk_tickets[i] AND w.clock = 'ticket';
            UPDATE aftersales.escalation_watches w
               SET next_check = aftersales._next_check(w.tenant_id, w.ticket_id, w.clock)
             WHERE w.tenant_id = lk_tenants[i] AND w.ticket_id = lk_tickets[i] AND w.clock = 'ticket';
        END;
    END LOOP;
END
$$;
COMMENT ON FUNCTION aftersales._sweep_claimed(bigint, timestamptz, bigint[], bigint[], text[]) IS
  'Internal: fires the due stages of claimed watches (the caller holds them and their tickets), re-arms them, locks tickets by the seed 002 rule; returns the counts';

CREATE FUNCTION aftersales.sweep(batch integer DEFAULT 500, now timestamptz DEFAULT aftersales.now(),
                                 tenant bigint DEFAULT NULL)
    RETURNS aftersales.sweep_runs
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    started constant timestamptz := pg_catalog.clock_timestamp();
    run aftersales.sweep_runs;
    k_tenants bigint[];
    k_tickets bigint[];
    k_clocks text[];
    claimed integer;
    c record;
    msg text;
BEGIN
    IF batch IS NULL OR batch < 1 OR batch > 100000 THEN
        PERFORM aftersales._sweep_error(pg_catalog.format('invalid sweep batch: %s', COALESCE(batch::text, 'NULL')),
            'The batch is how many watches one call claims, 1 to 100000, for example: SELECT * FROM aftersales.sweep(batch => 500);');
    END IF;
    IF now IS NULL OR NOT pg_catalog.isfinite(now) THEN
        PERFORM aftersales._sweep_error(pg_catalog.format('invalid sweep time: %s', COALESCE(now::text, 'NULL')),
            'Omit it for the current time, or pass a finite instant, for example: SELECT * FROM aftersales.sweep(now => ''2024-07-01 09:00+08'');');
    END IF;
    IF tenant IS NOT NULL AND NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = sweep.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', tenant
            USING ERRCODE = 'P0002',
                  HINT = 'Omit it to sweep every tenant: SELECT * FROM aftersales.sweep();';
    END IF;
    IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'aftersales.sweep() must run at READ COMMITTED, not %', pg_catalog.current_setting('transaction_isolation')
            USING ERRCODE = '25000',
                  DETAIL = 'It claims watches with SKIP LOCKED and then reads them in a fresh snapshot.',
                  HINT = 'Call it in its own transaction, as pg_cron does: SELECT * FROM aftersales.sweep();';
    END IF;

    INSERT INTO aftersales.sweep_runs AS r (tenant_id, started_at, finished_at, as_of, batch, claimed, warnings, escalations,
                                            locks, not_arrived, not_completed, key_customer, errors, more_due)
    VALUES (COALESCE(tenant, 0), started, started, now, batch, 0, 0, 0, 0, 0, 0, 0, 0, false)
    RETURNING r.* INTO run;

    -- 1. claim
    WITH due AS MATERIALIZED (
        SELECT w.tenant_id, w.ticket_id, w.clock
          FROM aftersales.escalation_watches w
          JOIN aftersales.tickets t ON t.tenant_id = w.tenant_id AND t.ticket_id = w.ticket_id
         WHERE w.next_check <= sweep.now
           AND (sweep.tenant IS NULL OR w.tenant_id = sweep.tenant)
         ORDER BY w.next_check
         LIMIT sweep.batch
           FOR UPDATE OF w SKIP LOCKED
           FOR NO KEY UPDATE OF t SKIP LOCKED
    )
    SELECT pg_catalog.array_agg(d.tenant_id), pg_catalog.array_agg(d.ticket_id), pg_catalog.array_agg(d.clock),
           pg_catalog.count(*)
      INTO k_tenants, k_tickets, k_clocks, claimed
      FROM due d;
    run.claimed := claimed;

    -- 2, 3. fire; on error, watch by watch (see the header)
    IF claimed > 0 THEN
        BEGIN
            SELECT * INTO c FROM aftersales._sweep_claimed(run.run_id, now, k_tenants, k_tickets, k_clocks);
            run.warnings := c.warnings;
            run.escalations := c.escalations;
            run.locks := c.locks;
            run.not_arrived := c.not_arrived;
            run.not_completed := c.not_completed;
            run.key_customer := c.key_customer;
            run.errors := c.errors;
        EXCEPTION WHEN OTHERS THEN
            FOR i IN 1 .. claimed LOOP
                BEGIN
                    SELECT * INTO c FROM aftersales._sweep_claimed(run.run_id, now, ARRAY[k_tenants[i]],
                                                                   ARRAY[k_tickets[i]], ARRAY[k_clocks[i]]);
                    run.warnings := run.warnings + c.warnings;
                    run.escalations := run.escalations + c.escalations;
                    run.locks := run.locks + c.locks;
                    run.not_arrived := run.not_arrived + c.not_arrived;
                    run.not_completed := run.not_completed + c.not_completed;
                    run.key_customer := run.key_customer + c.key_customer;
                    run.errors := run.errors + c.errors;
                EXCEPTION WHEN OTHERS THEN
                    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
                    RAISE WARNING 'aftersales sweep: watch % of ticket % of tenant % failed, retried in an hour: %',
                                  k_clocks[i], k_tickets[i], k_tenants[i], msg;
                    UPDATE aftersales.escalation_watches w SET next_check = now + '1 hour'::interval
                     WHERE w.tenant_id = k_tenants[i] AND w.ticket_id = k_tickets[i] AND w.clock = k_clocks[i];
                    run.errors := run.errors + 1;
                END;
            END LOOP;
        END;
    END IF;

    -- 4. record
    run.more_due := EXISTS (SELECT FROM aftersales.escalation_watches w
                             WHERE w.next_check <= sweep.now AND (sweep.tenant IS NULL OR w.tenant_id = sweep.tenant));
    run.finished_at := pg_catalog.clock_timestamp();
    UPDATE aftersales.sweep_runs r
       SET finished_at = run.finished_at, claimed = run.claimed, warnings = run.warnings,
           escalations = run.escalations, locks = run.locks, not_arrived = run.not_arrived,
           not_completed = run.not_completed, key_customer = run.key_customer, errors = run.errors,
           more_due = run.more_due
     WHERE r.tenant_id = run.tenant_id AND r.run_id = run.run_id;
    RETURN run;
END
$$;
COMMENT ON FUNCTION aftersales.sweep(integer, timestamptz, bigint) IS
  'One escalation sweep: claims at most batch due watches (SKIP LOCKED), fires their due warnings, escalations, anomaly alerts and seed 002 locks exactly once, re-arms them, records and returns the run (more_due: call again)';

-- The monitoring table would grow by a row a minute for ever: runs that
-- finished before `before` are deleted (sweep_until_done does it for the
-- runs older than 30 days after each call).  Alerts are not touched: they
-- are the record of what was announced.
CREATE FUNCTION aftersales.prune_sweep_runs(before timestamptz DEFAULT pg_catalog.now() - interval '30 days',
                                            tenant bigint DEFAULT NULL)
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    IF before IS NULL OR before = 'infinity' THEN
        PERFORM aftersales._sweep_error(pg_catalog.format('invalid prune instant: %s', COALESCE(before::text, 'NULL')),
            'Runs finished before it are deleted, for example: SELECT aftersales.prune_sweep_runs(before => now() - interval ''7 days'');');
    END IF;
    DELETE FROM aftersales.sweep_runs r
     WHERE r.finished_at < prune_sweep_runs.before
       AND (prune_sweep_runs.tenant IS NULL OR r.tenant_id = prune_sweep_runs.tenant);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION aftersales.prune_sweep_runs(timestamptz, bigint) IS
  'Delete the sweep runs finished before an instant (default: 30 days ago), of one tenant or all; returns how many; sweep_until_done calls it after each call';

-- The cron job's command: sweeps while more is due, each batch its own
-- transaction (so locks are held one batch at a time), at most max_batches
-- times.  A procedure that commits cannot pin search_path (PostgreSQL
-- forbids transaction control under a SET clause), so every name and
-- operator here is qualified.  Call it at top level, not inside BEGIN.
CREATE PROCEDURE aftersales.sweep_until_done(batch integer DEFAULT 500, max_batches integer DEFAULT 100,
                                             tenant bigint DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    r aftersales.sweep_runs;
    n integer := 0;
BEGIN
    IF max_batches IS NULL OR max_batches OPERATOR(pg_catalog.<) 1 THEN
        PERFORM aftersales._sweep_error(pg_catalog.format('invalid max_batches: %s', COALESCE(max_batches::text, 'NULL')),
            'It bounds the batches of one call, for example: CALL aftersales.sweep_until_done(batch => 500, max_batches => 100);');
    END IF;
    LOOP
        r := aftersales.sweep(batch, aftersales.now(), tenant);
        COMMIT;
        n := n OPERATOR(pg_catalog.+) 1;
        EXIT WHEN NOT r.more_due OR r.claimed OPERATOR(pg_catalog.=) 0 OR n OPERATOR(pg_catalog.>=) max_batches;
    END LOOP;
    -- a minute's schedule leaves 1440 runs a day: keep 30 days of them
    PERFORM aftersales.prune_sweep_runs(tenant => tenant);
END
$$;
COMMENT ON PROCEDURE aftersales.sweep_until_done(integer, integer, bigint) IS
  'What the cron job runs: aftersales.sweep() again and again, one transaction per batch, while more is due (at most max_batches times), then drops the runs finished more than 30 days ago';

REVOKE ALL ON FUNCTION aftersales._sweep_claimed(bigint, timestamptz, bigint[], bigint[], text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales.sweep(integer, timestamptz, bigint) FROM PUBLIC;
REVOKE ALL ON PROCEDURE aftersales.sweep_until_done(integer, integer, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales.prune_sweep_runs(timestamptz, bigint) FROM PUBLIC;

-- aftersales install script, part 50: the duration-distribution aggregate.

CREATE TYPE aftersales.duration_summary AS (
    n     bigint,
    mean  double precision,
    p50   double precision,
    p90   double precision,
    p95   double precision,
    max   double precision
);
COMMENT ON TYPE aftersales.duration_summary IS
  'Distribution of durations: count, mean, median, 90th and 95th percentiles (within 0.5% relative error) and maximum, in the unit of the input';

CREATE FUNCTION aftersales.duration_stats_trans(internal, double precision) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION aftersales.duration_stats_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION aftersales.duration_stats_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION aftersales.duration_stats_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION aftersales.duration_stats_final(internal) RETURNS aftersales.duration_summary
    AS 'MODULE_PATHNAME' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;

CREATE AGGREGATE aftersales.duration_stats(double precision) (
    SFUNC = aftersales.duration_stats_trans,
    STYPE = internal,
    FINALFUNC = aftersales.duration_stats_final,
    COMBINEFUNC = aftersales.duration_stats_combine,
    SERIALFUNC = aftersales.duration_stats_serialize,
    DESERIALFUNC = aftersales.duration_stats_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE aftersales.duration_stats(double precision) IS
  'Distribution of durations (e.g. minutes): count, mean, p50, p90, p95 within 0.5% relative error, max; parallel safe and exactly mergeable';

-- aftersales install script, part 60: KPIs, the foundations.
--
-- This file owns what every KPI shares:
--   kpi_settings      per-tenant thresholds (10-minute response, 4-hour
--                     arrival, 24-hour completion, repeat window, early
--                     failure, warning lines), read by kpi_setting();
--   kpi_catalogue     the KPI catalogue (code, names in English and Chinese,
--                     definition, formula, unit, default target);
--   _kpi_check()      validation of period, dimension, range, zone, tenant;
--   _kpi_ticket_dims  a ticket with the labels of every dimension;
--   kpi_ticket_facts  one row per ticket with every per-ticket judgement
--                     (durations, in-target flags, first-time fix ...): the
--                     place where the service KPIs are defined (only
--                     kpi_headline restates the few it needs, for speed;
--                     a test holds the two equal).
-- The aggregations are in 60_kpi_service.sql, 60_kpi_backlog.sql and
-- 60_kpi_quality.sql; the views for BI tools in 60_kpi_views.sql.
--
-- Conventions of every KPI function:
--   * read-only and STABLE (they run on a hot standby); "now" is never read
--     inside: the instant at which unfinished tickets are judged is the
--     parameter as_of, whose default aftersales.now() is in the signature;
--   * tenant bigint DEFAULT aftersales.current_tenant(); NULL means every
--     tenant (for the dimension 'tenant');
--   * ranges are half-open [since, until) on the ticket's entry (opened_at):
--     every KPI of a period is about the tickets entered in it (a ticket
--     entered on 31 January and resolved in February is January's), except
--     dispatches, which are events and are dated by the event;
--   * periods (day, week, month, quarter, year, all) are cut in the time
--     zone zone, default the session's TimeZone; a week starts on Monday;
--   * durations are numeric minutes (hours for ages), rates are ratios from
--     0 to 1 (numeric, 4 decimals), never an interval or a custom type;
--   * search_path is pinned to pg_catalog, pg_temp, so unqualified
--     operators are pg_catalog's; every other name is schema-qualified.
--
-- Settings and catalogue: tenant 1 holds the shipped rows; any other tenant
-- holds only its overrides and falls back, key by key, to tenant 1's rows
-- (so a new tenant has the whole catalogue and every setting at once, and
-- a change to tenant 1's row is the new template).  Shipped rows are left
-- out of pg_dump while they are unchanged (customised = false); once
-- changed they are dumped, and on restore the INSERT of a row whose key a
-- shipped, unchanged row holds replaces that row (trigger _kpi_config_row).

-- ---------------------------------------------------------------------------
-- Settings

CREATE TABLE aftersales.kpi_settings (
    tenant_id    bigint  NOT NULL DEFAULT aftersales.current_tenant()
                         REFERENCES aftersales.tenants,
    name         text    NOT NULL
                         CHECK (name IN ('response_target_minutes', 'arrival_target_hours', 'completion_target_hours',
                                         'repeat_window_days', 'early_failure_days', 'early_failure_warning',
                                         'in_warranty_warning', 'out_of_warranty_warning', 'csat_good_min')),
    value        numeric NOT NULL CHECK (value >= 0 AND value < 1000000),
    unit         text    NOT NULL,
    description  text,
    customised   boolean NOT NULL DEFAULT true,
    PRIMARY KEY (tenant_id, name)
);
COMMENT ON TABLE aftersales.kpi_settings IS
  'KPI thresholds per tenant; tenant 1 holds the shipped defaults, other tenants only their overrides (each setting falls back to tenant 1''s); read with aftersales.kpi_setting(), change with aftersales.set_kpi_setting()';
COMMENT ON COLUMN aftersales.kpi_settings.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.kpi_settings.name IS 'Setting name';
COMMENT ON COLUMN aftersales.kpi_settings.value IS 'Value, in unit';
COMMENT ON COLUMN aftersales.kpi_settings.unit IS 'Unit of the value: minutes, hours, days, units (tickets) or score';
COMMENT ON COLUMN aftersales.kpi_settings.description IS 'What the setting decides';
COMMENT ON COLUMN aftersales.kpi_settings.customised IS
  'False for a shipped row never changed (left out of pg_dump); set to true by any change';

INSERT INTO aftersales.kpi_settings (tenant_id, name, value, unit, description, customised) VALUES
 (1, 'response_target_minutes', 10, 'minutes',
  'Response rate: a first response within this many minutes of entry (wall clock) is in target (seed 000: 10-minute response)', false),
 (1, 'arrival_target_hours', 4, 'hours',
  'Arrival rate: a field ticket''s first arrival on site within this many hours of entry (wall clock) is in target (seed 000: 4-hour arrival)', false),
 (1, 'completion_target_hours', 24, 'hours',
  'Completion rate: the final resolution within this many hours of entry (wall clock) is in target (seed 000: 24-hour completion)', false),
 (1, 'repeat_window_days', 30, 'days',
  'Repeat-problem rate: a ticket is a repeat when the same unit had a ticket of the same problem type entered at most this many days before', false),
 (1, 'early_failure_days', 90, 'days',
  'Early failure: a ticket entered at most this many days after its unit''s installation date', false),
 (1, 'early_failure_warning', 400, 'units',
  'Warning line for early failures per period (seed 000: 400 units a month)', false),
 (1, 'in_warranty_warning', 600, 'units',
  'Warning line for in-warranty failures per period (seed 000: 600 units a month)', false),
 (1, 'out_of_warranty_warning', 600, 'units',
  'Warning line for out-of-warranty failures per period (seed 000: 600 units a month)', false),
 (1, 'csat_good_min', 4, 'score',
  'CSAT good share: a score at or above this (1 to 5) counts as satisfied', false);

-- ---------------------------------------------------------------------------
-- The catalogue

CREATE TABLE aftersales.kpi_catalogue (
    tenant_id         bigint  NOT NULL DEFAULT aftersales.current_tenant()
                              REFERENCES aftersales.tenants,
    code              text    NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{0,62}$'),
    category          text    NOT NULL CHECK (category IN ('service', 'backlog', 'quality', 'staff')),
    name_en           text    NOT NULL CHECK (name_en <> ''),
    name_zh           text    NOT NULL CHECK (name_zh <> ''),
    definition        text    NOT NULL,
    formula           text    NOT NULL,
    unit              text    NOT NULL CHECK (unit IN ('ratio', 'minutes', 'hours', 'score', 'nps', 'tickets')),
    target            numeric,
    target_direction  text    CHECK (target_direction IN ('>=', '<=')),
    source            text    NOT NULL,
    sort_order        integer NOT NULL DEFAULT 1000,
    customised        boolean NOT NULL DEFAULT true,
    PRIMARY KEY (tenant_id, code),
    CHECK ((target IS NULL) = (target_direction IS NULL))
);
COMMENT ON TABLE aftersales.kpi_catalogue IS
  'KPI catalogue per tenant: tenant 1 holds the shipped rows, other tenants only their overrides (each code falls back to tenant 1''s); read the effective catalogue from the view aftersales.kpi_definitions';
COMMENT ON COLUMN aftersales.kpi_catalogue.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.kpi_catalogue.code IS 'KPI code: the column name under which the KPI functions and views return it';
COMMENT ON COLUMN aftersales.kpi_catalogue.category IS 'service, backlog, quality or staff (the dashboards of seed 000)';
COMMENT ON COLUMN aftersales.kpi_catalogue.name_en IS 'Name in English';
COMMENT ON COLUMN aftersales.kpi_catalogue.name_zh IS 'Name in Chinese';
COMMENT ON COLUMN aftersales.kpi_catalogue.definition IS 'Precise definition: what is counted, over which tickets';
COMMENT ON COLUMN aftersales.kpi_catalogue.formula IS 'Formula';
COMMENT ON COLUMN aftersales.kpi_catalogue.unit IS 'ratio (0 to 1), minutes, hours, score (CSAT 1 to 5), nps (-100 to 100) or tickets (a count)';
COMMENT ON COLUMN aftersales.kpi_catalogue.target IS 'Default target, in unit; NULL when none is shipped';
COMMENT ON COLUMN aftersales.kpi_catalogue.target_direction IS '>= when higher is better, <= when lower is better; NULL without a target';
COMMENT ON COLUMN aftersales.kpi_catalogue.source IS 'Function (and view) returning the KPI';
COMMENT ON COLUMN aftersales.kpi_catalogue.sort_order IS 'Display order';
COMMENT ON COLUMN aftersales.kpi_catalogue.customised IS
  'False for a shipped row never changed (left out of pg_dump); set to true by any change';

INSERT INTO aftersales.kpi_catalogue
       (tenant_id, code, category, name_en, name_zh, definition, formula, unit, target, target_direction, source, sort_order, customised)
SELECT 1, x.code, x.category, x.name_en, x.name_zh, x.definition, x.formula, x.unit, x.target, x.direction, x.source, x.ord, false
  FROM (VALUES
 ('response_rate', 'service', '10-minute response rate', '10分钟响应率',
  'Tickets whose first response (the first start of work, arrival, resolution or failed attempt) came within the setting response_target_minutes (10) of entry, wall clock, over the tickets judged: responded, or still without a response after the target at as_of and not on hold. Cancelled tickets are not judged.',
  'count(response_minutes <= target) / count(judged)', 'ratio', NULL::numeric, NULL::text, 'kpi_service, kpi_headline', 10),
 ('arrival_rate', 'service', '4-hour arrival rate', '4小时到位率',
  'Field tickets whose first arrival on site came within the setting arrival_target_hours (4) of entry, wall clock, over the field tickets judged: arrived, or not arrived, not resolved, not on hold and past the target at as_of. A field ticket resolved without a visit is not judged.',
  'count(arrival_minutes <= target) / count(judged field tickets)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 20),
 ('completion_rate', 'service', '24-hour completion rate', '24小时完工率',
  'Tickets whose final resolution came within the setting completion_target_hours (24) of entry, wall clock, over the tickets judged: resolved, or unresolved, not on hold and past the target at as_of. A reopened ticket is judged by its final resolution.',
  'count(resolution_minutes <= target) / count(judged)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 30),
 ('on_time_completion_rate', 'service', 'On-time completion rate', '按时完工率',
  'Tickets resolved (finally) by their promised time, over the tickets judged; the promised time is the customer-requested date when one was given, else the due time of the resolution SLA clock (which moves with pauses).',
  'count(resolved_at <= promised_at) / count(judged)', 'ratio', NULL, NULL, 'kpi_service', 40),
 ('sla_first_response_rate', 'service', 'First-response SLA attainment', '首次响应SLA达成率',
  'Stopped first_response clocks (ticket_sla) whose outcome is met, over those met or breached. Running and cancelled clocks are not counted.',
  'met / (met + breached)', 'ratio', NULL, NULL, 'kpi_service', 50),
 ('sla_arrival_rate', 'service', 'Arrival SLA attainment', '到场SLA达成率',
  'Stopped arrival clocks (field tickets) whose outcome is met, over those met or breached.',
  'met / (met + breached)', 'ratio', NULL, NULL, 'kpi_service', 60),
 ('sla_resolution_rate', 'service', 'Resolution SLA attainment', '解决SLA达成率',
  'Stopped resolution clocks whose outcome is met, over those met or breached (after a reopen, the final resolution''s verdict).',
  'met / (met + breached)', 'ratio', NULL, NULL, 'kpi_service', 70),
 ('avg_first_response_minutes', 'service', 'Average first response (AFR)', '平均首次响应时间',
  'Mean time from entry to the first response, over responded tickets; wall clock.',
  'avg(first_response_at - opened_at)', 'minutes', NULL, NULL, 'kpi_service, kpi_durations (distribution)', 80),
 ('avg_first_response_business_minutes', 'service', 'Average first response, business time', '平均首次响应时间(工作时间)',
  'As avg_first_response_minutes, counted in business time on the calendar of the ticket''s SLA policy.',
  'avg(business_minutes(calendar, opened_at, first_response_at))', 'minutes', NULL, NULL, 'kpi_service, kpi_durations (distribution)', 90),
 ('avg_resolution_minutes', 'service', 'Average resolution time (ART)', '平均解决时间',
  'Mean time from entry to the final resolution, over resolved tickets (a reopened ticket once resolved again); wall clock, holds included.',
  'avg(resolved_at - opened_at)', 'minutes', NULL, NULL, 'kpi_service, kpi_durations (distribution)', 100),
 ('avg_resolution_business_minutes', 'service', 'Average resolution time, business time', '平均解决时间(工作时间)',
  'As avg_resolution_minutes, counted in business time on the calendar of the ticket''s SLA policy (holds included: the resolution SLA clock is where they are paused).',
  'avg(business_minutes(calendar, opened_at, resolved_at))', 'minutes', NULL, NULL, 'kpi_service, kpi_durations (distribution)', 110),
 ('mttr_minutes', 'service', 'Mean time to repair (MTTR)', '平均修复时间',
  'Mean time from the first response (the engineer engaging: start of work, arrival) to the final resolution, over resolved tickets: the repair itself, without the wait for dispatch; wall clock.',
  'avg(resolved_at - first_response_at)', 'minutes', NULL, NULL, 'kpi_service, kpi_durations (distribution)', 120),
 ('mttr_business_minutes', 'service', 'Mean time to repair, business time', '平均修复时间(工作时间)',
  'As mttr_minutes, counted in business time on the calendar of the ticket''s SLA policy.',
  'avg(business_minutes(calendar, first_response_at, resolved_at))', 'minutes', NULL, NULL, 'kpi_service, kpi_durations (distribution)', 130),
 ('first_time_fix_rate', 'service', 'First-time-fix rate', '一次性修复率',
  'Tickets resolved at least once that were fixed first time: no failed attempt, never reopened (by an unsatisfied follow-up or a reopen), and at most one arrival on site (event log).',
  'count(first-time fixes) / count(first_resolved_at IS NOT NULL)', 'ratio', 0.85, '>=', 'kpi_service', 140),
 ('closed_loop_rate', 'service', 'Closed-loop resolution rate', '闭环解决率',
  'Tickets resolved at least once whose loop is closed now (status closed: a satisfied follow-up), over all tickets resolved at least once and not cancelled. Tickets awaiting their follow-up and reopened tickets count against it.',
  'count(status = closed) / count(first_resolved_at IS NOT NULL)', 'ratio', 0.98, '>=', 'kpi_service, kpi_headline', 150),
 ('repeat_problem_rate', 'service', 'Repeat-problem rate', '重复问题率',
  'Tickets of a unit that had another (not cancelled) ticket of the same problem type entered at most repeat_window_days (30) before, over the tickets that name a unit.',
  'count(repeats) / count(unit_id IS NOT NULL)', 'ratio', NULL, NULL, 'kpi_service', 160),
 ('reopen_rate', 'service', 'Reopen rate', '重开率',
  'Tickets resolved at least once that went back to assignment at least once after a resolution (unsatisfied follow-up or reopen), over the tickets resolved at least once.',
  'count(reopen_count > 0) / count(first_resolved_at IS NOT NULL)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 170),
 ('csat_avg', 'service', 'Customer satisfaction (CSAT)', '客户满意度',
  'Mean CSAT score (1 to 5) of the latest follow-up of each ticket, over tickets whose latest follow-up has a score.',
  'avg(csat)', 'score', 4.5, '>=', 'kpi_service, kpi_headline', 180),
 ('csat_good_share', 'service', 'Satisfied share (CSAT >= 4)', '满意率',
  'Share of the scored tickets whose CSAT is at least the setting csat_good_min (4).',
  'count(csat >= 4) / count(csat)', 'ratio', NULL, NULL, 'kpi_service, kpi_headline', 190),
 ('nps', 'service', 'Net promoter score (NPS)', '净推荐值',
  'Promoters (9 or 10) minus detractors (0 to 6), in percent of the tickets whose latest follow-up has an NPS score.',
  '100 * (count(nps >= 9) - count(nps <= 6)) / count(nps)', 'nps', NULL, NULL, 'kpi_service, kpi_headline', 200),
 ('open_tickets', 'backlog', 'Open tickets (backlog)', '未完成工单',
  'Tickets unresolved at as_of (new, on_hold, assigned, in_progress, on_site, locked), their state rebuilt from the event log; resolved tickets awaiting the follow-up are not backlog.',
  'count(open at as_of)', 'tickets', NULL, NULL, 'kpi_backlog, backlog_as_of', 300),
 ('backlog_over_24h', 'backlog', 'Open over 24 hours', '超24小时工单',
  'Open tickets entered more than 24 hours before as_of (cumulative: it includes those over 48 hours and more).',
  'count(as_of - opened_at > 24 h)', 'tickets', NULL, NULL, 'kpi_backlog', 310),
 ('backlog_over_48h', 'backlog', 'Open over 48 hours', '超48小时工单',
  'Open tickets entered more than 48 hours before as_of.', 'count(as_of - opened_at > 48 h)', 'tickets', NULL, NULL, 'kpi_backlog', 320),
 ('backlog_over_72h', 'backlog', 'Open over 72 hours', '超72小时工单',
  'Open tickets entered more than 72 hours before as_of.', 'count(as_of - opened_at > 72 h)', 'tickets', NULL, NULL, 'kpi_backlog', 330),
 ('backlog_over_96h', 'backlog', 'Open over 96 hours', '超96小时工单',
  'Open tickets entered more than 96 hours before as_of.', 'count(as_of - opened_at > 96 h)', 'tickets', NULL, NULL, 'kpi_backlog', 340),
 ('backlog_over_120h', 'backlog', 'Open over 120 hours', '超120小时工单',
  'Open tickets entered more than 120 hours before as_of.', 'count(as_of - opened_at > 120 h)', 'tickets', NULL, NULL, 'kpi_backlog', 350),
 ('holdings', 'backlog', 'Tickets held per engineer', '人员工单保有量',
  'Open tickets whose assignee at as_of is the engineer (assigned, in_progress, on_site, or on hold from one of them).',
  'count(open tickets assigned to the engineer at as_of)', 'tickets', NULL, NULL, 'kpi_engineer_holdings', 360),
 ('failures', 'quality', 'Failures', '故障数',
  'Tickets entered in the period, not cancelled: each is a failure report of its product model and fault (problem) type.',
  'count(tickets not cancelled)', 'tickets', NULL, NULL, 'kpi_failures', 400),
 ('early_failures', 'quality', 'Early failures', '早期故障',
  'Failures of a unit entered at most early_failure_days (90) after its installation date; warning line: setting early_failure_warning (400 a month).',
  'count(0 <= entry date - installed_on <= 90)', 'tickets', NULL, NULL, 'kpi_failures, kpi_warranty_trend', 410),
 ('in_warranty_failures', 'quality', 'In-warranty failures', '保内故障',
  'Failures of a unit within its warranty (entry date up to units.warranty_ends, else installation plus the model''s warranty_months), other than early failures; warning line: setting in_warranty_warning (600).',
  'count(not early, entry date <= warranty end)', 'tickets', NULL, NULL, 'kpi_failures, kpi_warranty_trend', 420),
 ('out_of_warranty_failures', 'quality', 'Out-of-warranty failures', '保外故障',
  'Failures of a unit after its warranty ended, other than early failures; warning line: setting out_of_warranty_warning (600).',
  'count(not early, entry date > warranty end)', 'tickets', NULL, NULL, 'kpi_failures, kpi_warranty_trend', 430),
 ('avg_handling_minutes', 'staff', 'Average handling time', '工单平均耗时',
  'Mean time from the assignment to the engineer who holds the ticket (assigned_at) to the final resolution, over resolved tickets; wall clock.',
  'avg(resolved_at - assigned_at)', 'minutes', NULL, NULL, 'kpi_staff, kpi_durations (distribution)', 500),
 ('dispatches', 'staff', 'Dispatch volume', '派工量',
  'Assignment events that gave a ticket to an engineer (assign, reassign, take_over ending in assigned), dated by the event.',
  'count(dispatch events)', 'tickets', NULL, NULL, 'kpi_dispatch', 510)
) AS x (code, category, name_en, name_zh, definition, formula, unit, target, direction, source, ord);

-- Shipped rows: a change marks them customised (so pg_dump keeps them); an
-- INSERT of a key held by a shipped, unchanged row replaces that row (so a
-- restore, which runs CREATE EXTENSION and then loads the dumped rows,
-- succeeds); tenant 1's rows, the fallback of every tenant, cannot be
-- deleted.
CREATE FUNCTION aftersales._kpi_config_row() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key_col constant text := CASE TG_TABLE_NAME WHEN 'kpi_settings' THEN 'name' ELSE 'code' END;
    key_val text;
    replaced integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.tenant_id = 1 THEN
            RAISE EXCEPTION 'cannot delete % "%" of tenant 1', TG_TABLE_NAME,
                    pg_catalog.to_jsonb(OLD) ->> key_col
                USING ERRCODE = '55000',
                      DETAIL = 'Tenant 1''s rows are the defaults every other tenant falls back to.',
                      HINT = CASE TG_TABLE_NAME WHEN 'kpi_settings'
                                  THEN 'Change the value instead, for example: SELECT aftersales.set_kpi_setting(''repeat_window_days'', 60);'
                                  ELSE 'Update the row instead, for example: UPDATE aftersales.kpi_catalogue SET target = 0.9 WHERE tenant_id = 1 AND code = ''first_time_fix_rate'';' END;
        END IF;
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.customised := true;
        RETURN NEW;
    END IF;
    -- INSERT
    key_val := pg_catalog.to_jsonb(NEW) ->> key_col;
    IF TG_TABLE_NAME = 'kpi_settings' THEN
        UPDATE aftersales.kpi_settings s
           SET value = NEW.value, unit = NEW.unit, description = NEW.description, customised = true
         WHERE s.tenant_id = NEW.tenant_id AND s.name = key_val AND NOT s.customised;
    ELSE
        UPDATE aftersales.kpi_catalogue k
           SET category = NEW.category, name_en = NEW.name_en, name_zh = NEW.name_zh,
               definition = NEW.definition, formula = NEW.formula, unit = NEW.unit, target = NEW.target,
               target_direction = NEW.target_direction, source = NEW.source, sort_order = NEW.sort_order,
               customised = true
         WHERE k.tenant_id = NEW.tenant_id AND k.code = key_val AND NOT k.customised;
    END IF;
    GET DIAGNOSTICS replaced = ROW_COUNT;
    IF replaced > 0 THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION aftersales._kpi_config_row() IS
  'Trigger on kpi_settings and kpi_catalogue: changes mark a row customised; an INSERT replaces a shipped, unchanged row of the same key (pg_dump restore); tenant 1''s rows cannot be deleted';
CREATE TRIGGER kpi_config_row
    BEFORE INSERT OR UPDATE OR DELETE ON aftersales.kpi_settings
    FOR EACH ROW EXECUTE FUNCTION aftersales._kpi_config_row();
CREATE TRIGGER kpi_config_row
    BEFORE INSERT OR UPDATE OR DELETE ON aftersales.kpi_catalogue
    FOR EACH ROW EXECUTE FUNCTION aftersales._kpi_config_row();

SELECT pg_catalog.pg_extension_config_dump('aftersales.kpi_settings', 'WHERE tenant_id <> 1 OR customised');
SELECT pg_catalog.pg_extension_config_dump('aftersales.kpi_catalogue', 'WHERE tenant_id <> 1 OR customised');

-- The settings of a tenant (NULL: of every tenant), one row per tenant,
-- each setting falling back to tenant 1's.
CREATE FUNCTION aftersales._kpi_config(tenant bigint)
    RETURNS TABLE (tenant_id bigint, response_target interval, arrival_target interval,
                   completion_target interval, repeat_window interval, early_failure_days integer,
                   early_failure_warning numeric, in_warranty_warning numeric,
                   out_of_warranty_warning numeric, csat_good_min numeric)
LANGUAGE sql STABLE PARALLEL SAFE ROWS 1
SET search_path = pg_catalog, pg_temp
AS $$
SELECT v.tenant_id,
       pg_catalog.make_interval(secs => (60 * pg_catalog.max(v.value) FILTER (WHERE v.name = 'response_target_minutes'))::float8),
       pg_catalog.make_interval(secs => (3600 * pg_catalog.max(v.value) FILTER (WHERE v.name = 'arrival_target_hours'))::float8),
       pg_catalog.make_interval(secs => (3600 * pg_catalog.max(v.value) FILTER (WHERE v.name = 'completion_target_hours'))::float8),
       pg_catalog.make_interval(secs => (86400 * pg_catalog.max(v.value) FILTER (WHERE v.name = 'repeat_window_days'))::float8),
       pg_catalog.floor(pg_catalog.max(v.value) FILTER (WHERE v.name = 'early_failure_days'))::integer,
       pg_catalog.max(v.value) FILTER (WHERE v.name = 'early_failure_warning'),
       pg_catalog.max(v.value) FILTER (WHERE v.name = 'in_warranty_warning'),
       pg_catalog.max(v.value) FILTER (WHERE v.name = 'out_of_warranty_warning'),
       pg_catalog.max(v.value) FILTER (WHERE v.name = 'csat_good_min')
  FROM (SELECT tn.tenant_id, d.name, COALESCE(o.value, d.value) AS value
          FROM aftersales.tenants tn
          JOIN aftersales.kpi_settings d ON d.tenant_id = 1
          LEFT JOIN aftersales.kpi_settings o ON o.tenant_id = tn.tenant_id AND o.name = d.name
         WHERE _kpi_config.tenant IS NULL OR tn.tenant_id = _kpi_config.tenant) v
 GROUP BY v.tenant_id
$$;
COMMENT ON FUNCTION aftersales._kpi_config(bigint) IS
  'Internal: the KPI settings of a tenant (NULL: every tenant) as one typed row per tenant, with tenant 1''s as fallback';

CREATE FUNCTION aftersales.kpi_setting(name text, tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS numeric
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result numeric;
BEGIN
    SELECT COALESCE(o.value, d.value) INTO result
      FROM aftersales.kpi_settings d
      LEFT JOIN aftersales.kpi_settings o ON o.tenant_id = kpi_setting.tenant AND o.name = d.name
     WHERE d.tenant_id = 1 AND d.name = kpi_setting.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown KPI setting: "%"', name
            USING ERRCODE = '22023',
                  HINT = 'Settings are listed by: SELECT name, value, unit FROM aftersales.kpi_settings_current; for example: SELECT aftersales.kpi_setting(''repeat_window_days'');';
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_setting(text, bigint) IS
  'The value of a KPI setting for a tenant: its own, else tenant 1''s';

CREATE FUNCTION aftersales.set_kpi_setting(name text, value numeric,
                                           tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS numeric
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d aftersales.kpi_settings;
BEGIN
    SELECT * INTO d FROM aftersales.kpi_settings s WHERE s.tenant_id = 1 AND s.name = set_kpi_setting.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown KPI setting: "%"', name
            USING ERRCODE = '22023',
                  HINT = 'Settings are listed by: SELECT name, value, unit FROM aftersales.kpi_settings_current; for example: SELECT aftersales.set_kpi_setting(''repeat_window_days'', 60);';
    END IF;
    IF value IS NULL OR value < 0 OR value >= 1000000 THEN
        RAISE EXCEPTION 'invalid value for KPI setting %: %', name, COALESCE(value::text, 'NULL')
            USING ERRCODE = '22003',
                  HINT = pg_catalog.format('The value is a number from 0 to 999999, in %s; for example: SELECT aftersales.set_kpi_setting(%L, %s);',
                                           d.unit, name, d.value);
    END IF;
    IF tenant IS NULL OR NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = set_kpi_setting.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', COALESCE(tenant::text, 'NULL')
            USING ERRCODE = 'P0002',
                  HINT = 'List the tenants with: SELECT tenant_id, name FROM aftersales.tenants;';
    END IF;
    INSERT INTO aftersales.kpi_settings AS s (tenant_id, name, value, unit, description)
    VALUES (tenant, name, value, d.unit, d.description)
    ON CONFLICT ON CONSTRAINT kpi_settings_pkey DO UPDATE SET value = excluded.value;
    RETURN value;
END
$$;
COMMENT ON FUNCTION aftersales.set_kpi_setting(text, numeric, bigint) IS
  'Set a KPI setting for a tenant (upsert); returns the value';

-- ---------------------------------------------------------------------------
-- Validation shared by every KPI function: raises an error naming the bad
-- value, with a hint that shows a correct call of the function fn.

CREATE FUNCTION aftersales._kpi_check(fn text, example text, period text, dimension text, dimensions text[],
                                      since timestamptz, until timestamptz, as_of timestamptz, zone text,
                                      tenant bigint)
    RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    periods constant text[] := '{day,week,month,quarter,year,all}';
BEGIN
    IF period IS NOT NULL OR fn IN ('kpi_service', 'kpi_headline', 'kpi_staff', 'kpi_dispatch', 'kpi_failures', 'kpi_warranty_trend') THEN
        IF period IS NULL THEN
            RAISE EXCEPTION 'period must not be null'
                USING ERRCODE = '22004',
                      DETAIL = 'Periods are day, week (from Monday), month, quarter, year and all (the whole range).',
                      HINT = 'For example: ' || example;
        END IF;
        IF NOT period = ANY (periods) THEN
            RAISE EXCEPTION 'unknown period: "%"', period
                USING ERRCODE = '22023',
                      DETAIL = 'Periods are day, week (from Monday), month, quarter, year and all (the whole range).',
                      HINT = 'For example: ' || example;
        END IF;
    END IF;
    IF dimensions IS NOT NULL AND dimension IS NULL THEN
        RAISE EXCEPTION 'dimension must not be null'
            USING ERRCODE = '22004',
                  DETAIL = pg_catalog.format('Dimensions of %s are %s.', fn, pg_catalog.array_to_string(dimensions, ', ')),
                  HINT = 'For example: ' || example;
    END IF;
    IF dimensions IS NOT NULL AND NOT dimension = ANY (dimensions) THEN
        RAISE EXCEPTION 'unknown dimension: "%"', dimension
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('Dimensions of %s are %s.', fn, pg_catalog.array_to_string(dimensions, ', ')),
                  HINT = 'For example: ' || example;
    END IF;
    IF fn NOT IN ('kpi_backlog', 'kpi_engineer_holdings', 'backlog_as_of') THEN
        IF since IS NULL OR until IS NULL THEN
            RAISE EXCEPTION 'since and until must not be null'
                USING ERRCODE = '22004',
                      DETAIL = 'The range is [since, until) of the tickets'' entry; use ''-infinity'' or ''infinity'' for no bound.',
                      HINT = 'For example: ' || example;
        END IF;
        IF since >= until THEN
            RAISE EXCEPTION 'empty range: since % is not before until %', since, until
                USING ERRCODE = '22023',
                      DETAIL = 'The range is [since, until) of the tickets'' entry.',
                      HINT = 'For example: ' || example;
        END IF;
    END IF;
    IF as_of IS NULL AND fn NOT IN ('kpi_dispatch', 'kpi_failures', 'kpi_warranty_trend') THEN
        RAISE EXCEPTION '% must not be null', CASE WHEN fn = 'backlog_as_of' THEN 'at' ELSE 'as_of' END
            USING ERRCODE = '22004',
                  DETAIL = 'It is the instant at which unfinished tickets are judged (default aftersales.now()).',
                  HINT = 'For example: ' || example;
    END IF;
    IF zone IS NULL THEN
        RAISE EXCEPTION 'zone must not be null'
            USING ERRCODE = '22004',
                  DETAIL = 'Periods are cut in this time zone; the default is the session''s TimeZone.',
                  HINT = 'For example: ' || example;
    END IF;
    BEGIN
        PERFORM pg_catalog.timezone(zone, pg_catalog.timestamptz '2000-01-01 00:00+00');
    EXCEPTION WHEN invalid_parameter_value OR feature_not_supported THEN
        RAISE EXCEPTION 'unknown time zone: "%"', zone
            USING ERRCODE = '22023',
                  DETAIL = 'Periods are cut in this time zone.',
                  HINT = 'Use a zone PostgreSQL knows (SELECT name FROM pg_timezone_names), for example: zone => ''Asia/Shanghai''.';
    END;
    IF tenant IS NOT NULL AND NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = _kpi_check.tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', tenant
            USING ERRCODE = 'P0002',
                  HINT = 'List the tenants with: SELECT tenant_id, name FROM aftersales.tenants; or pass tenant => NULL for every tenant.';
    END IF;
END
$$;
COMMENT ON FUNCTION aftersales._kpi_check(text, text, text, text, text[], timestamptz, timestamptz, timestamptz, text, bigint) IS
  'Internal: validates the parameters of a KPI function; errors name the bad value and show a correct call';

-- SQL text for the dynamic queries of the KPI functions (their arguments
-- are validated by _kpi_check first).  Dimensions read the columns of
-- _kpi_ticket_dims (and of kpi_ticket_facts, which has the same names)
-- under the alias k.  Keys are ordered bytewise (COLLATE "C"), ids
-- numerically, so that the order does not depend on the database's locale.
CREATE FUNCTION aftersales._kpi_dimension_sql(dimension text, OUT key_sql text, OUT name_sql text, OUT order_sql text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT x.k, x.n,
       CASE WHEN dimension IN ('tenant', 'organisation', 'product_model', 'problem_type', 'engineer')
            THEN 'pg_catalog.lpad(q.dim_key, 20, ''0'') COLLATE "C"' ELSE 'q.dim_key COLLATE "C"' END
  FROM (VALUES ('all', '''all''::text', '''all''::text'),
               ('tenant', 'k.tenant_id::text', 'k.tenant_name'),
               ('region', 'k.region', 'k.region'),
               ('province', 'k.province', 'k.province'),
               ('organisation', 'k.org_id::text', 'k.org_name'),
               ('organisation_type', 'k.org_type',
                'CASE k.org_type WHEN ''headquarters'' THEN ''总部'' WHEN ''representative_office'' THEN ''代表处'''
                ' WHEN ''dealer'' THEN ''经销商'' WHEN ''supplier'' THEN ''供应商'' END'),
               ('product_model', 'k.model_id::text', 'k.model_name'),
               ('problem_type', 'k.problem_type_id::text', 'k.problem_name'),
               ('engineer', 'k.engineer_id::text', 'k.engineer_name'),
               ('priority', 'k.priority::text', 'k.priority::text'),
               ('channel', 'k.channel', 'k.channel')) AS x (d, k, n)
 WHERE x.d = dimension
$$;
COMMENT ON FUNCTION aftersales._kpi_dimension_sql(text) IS
  'Internal: SQL expressions of a dimension''s key and label over alias k, and of the order of its keys';

-- The first day of the period of the timestamp expression ts, cut in the
-- zone passed as query parameter number zone_param; NULL for period all.
CREATE FUNCTION aftersales._kpi_period_sql(period text, ts text, zone_param integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN period = 'all' THEN 'NULL::date'
            ELSE pg_catalog.format('pg_catalog.date_trunc(%L, pg_catalog.timezone($%s, %s))::date', period, zone_param, ts) END
$$;
COMMENT ON FUNCTION aftersales._kpi_period_sql(text, text, integer) IS
  'Internal: SQL expression of the first day of the period of a timestamp, in a zone given as a query parameter';

-- ---------------------------------------------------------------------------
-- A ticket with the labels of every dimension.  Its joins are LEFT JOINs on
-- unique keys, so a query that reads only some dimensions pays only for
-- theirs (the planner removes the others).

CREATE VIEW aftersales._kpi_ticket_dims WITH (security_invoker = true) AS
SELECT t.tenant_id,
       tn.name                                  AS tenant_name,
       t.ticket_id,
       t.opened_at,
       t.status,
       t.priority,
       t.channel,
       t.field,
       t.customer_id,
       c.tier                                   AS customer_tier,
       COALESCE(c.region, o.region)::text       AS region,
       COALESCE(c.province, o.province)         AS province,
       o.org_id,
       o.name                                   AS org_name,
       o.org_type,
       t.unit_id,
       t.model_id,
       m.name                                   AS model_name,
       t.problem_type_id,
       p.name                                   AS problem_name,
       t.assignee_id                            AS engineer_id,
       e.name                                   AS engineer_name,
       t.requested_at,
       t.first_response_at,
       t.assigned_at,
       t.arrived_at,
       t.first_resolved_at,
       t.resolved_at,
       t.closed_at,
       t.attempt_count,
       t.reopen_count,
       t.csat,
       t.nps
  FROM aftersales.tickets t
  LEFT JOIN aftersales.tenants tn ON tn.tenant_id = t.tenant_id
  LEFT JOIN aftersales.customers c ON c.tenant_id = t.tenant_id AND c.customer_id = t.customer_id
  LEFT JOIN aftersales.organisations o ON o.tenant_id = t.tenant_id AND o.org_id = COALESCE(t.org_id, c.org_id)
  LEFT JOIN aftersales.product_models m ON m.tenant_id = t.tenant_id AND m.model_id = t.model_id
  LEFT JOIN aftersales.problem_types p ON p.tenant_id = t.tenant_id AND p.problem_type_id = t.problem_type_id
  LEFT JOIN aftersales.engineers e ON e.tenant_id = t.tenant_id AND e.engineer_id = t.assignee_id;
COMMENT ON VIEW aftersales._kpi_ticket_dims IS
  'Internal: each ticket with its dimensions (tenant, region, province, organisation and its type, model, problem type, engineer, priority, channel); unused joins cost nothing';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.tenant_name IS 'Tenant name';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.ticket_id IS 'Ticket id';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.opened_at IS 'Entry of the ticket';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.status IS 'Current state';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.priority IS 'Current priority';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.channel IS 'Channel of the request';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.field IS 'Whether the ticket needs on-site service';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.customer_id IS 'Customer';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.customer_tier IS 'Customer tier: key, major or standard';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.region IS 'Region: the customer''s, else the organisation''s';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.province IS 'Province: the customer''s, else the organisation''s';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.org_id IS 'Organisation: the ticket''s handling organisation, else the customer''s';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.org_name IS 'Organisation name';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.org_type IS 'Organisation type: headquarters, representative_office, dealer, supplier';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.unit_id IS 'Installed unit, when known';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.model_id IS 'Product model';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.model_name IS 'Product model name';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.problem_type_id IS 'Problem (fault) type';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.problem_name IS 'Problem type name';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.engineer_id IS 'Engineer holding the ticket now (for a resolved ticket: the one who resolved it)';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.engineer_name IS 'Engineer name';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.requested_at IS 'Customer-requested date';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.first_response_at IS 'First response';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.assigned_at IS 'Assignment to the current engineer';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.arrived_at IS 'First arrival on site';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.first_resolved_at IS 'First resolution';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.resolved_at IS 'Final resolution (NULL while a reopened ticket is unresolved)';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.closed_at IS 'Closing by a satisfied follow-up';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.attempt_count IS 'Failed handling attempts';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.reopen_count IS 'Reopens';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.csat IS 'CSAT of the latest follow-up';
COMMENT ON COLUMN aftersales._kpi_ticket_dims.nps IS 'NPS score of the latest follow-up';

-- ---------------------------------------------------------------------------
-- Per-ticket facts: the definitions of the service KPIs, one ticket at a
-- time.  Flags are integers, 1 (yes), 0 (no) or NULL (not judged), so that
-- avg(flag) is the rate and sum(flag) the count.  A cancelled ticket is
-- never judged.  Tickets are judged on what is recorded (time stamps,
-- counters, the latest follow-up, the current state); as_of only decides
-- when a stage not yet reached counts as missed.  A ticket on hold that has
-- not reached a stage is not judged on it (it waits on the customer).
-- Where the brief left a definition open, the choice is here and in the
-- catalogue (kpi_catalogue.definition): e.g. MTTR runs from the first
-- response, closed loop is closed / resolved at least once, CSAT and NPS
-- are the latest follow-up's, repeats need a unit.

CREATE FUNCTION aftersales.kpi_ticket_facts(since timestamptz, until timestamptz,
                                            as_of timestamptz DEFAULT aftersales.now(),
                                            tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (tenant_id bigint, tenant_name text, ticket_id bigint, opened_at timestamptz,
                   status text, priority text, channel text, field boolean, customer_tier text,
                   region text, province text, org_id bigint, org_name text, org_type text,
                   unit_id bigint, model_id bigint, model_name text, problem_type_id bigint, problem_name text,
                   engineer_id bigint, engineer_name text, cancelled integer,
                   response_minutes numeric, response_business_minutes numeric, responded_in_target integer,
                   arrival_minutes numeric, arrival_business_minutes numeric, arrived_in_target integer,
                   resolution_minutes numeric, resolution_business_minutes numeric, completed_in_target integer,
                   repair_minutes numeric, repair_business_minutes numeric,
                   handling_minutes numeric, handling_business_minutes numeric,
                   promised_at timestamptz, completed_on_time integer,
                   sla_first_response text, sla_arrival text, sla_resolution text,
                   first_time_fix integer, closed_loop integer, reopened integer, repeat_problem integer,
                   csat_score integer, csat_good integer, nps_score integer, nps_promoter integer, nps_detractor integer)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales._kpi_check('kpi_ticket_facts',
        'SELECT * FROM aftersales.kpi_ticket_facts(''2026-01-01'', ''2026-02-01'', as_of => ''2026-02-01'');',
        NULL, NULL, NULL, since, until, as_of, 'UTC', tenant);
    RETURN QUERY
    WITH cfg AS (
        SELECT * FROM aftersales._kpi_config(kpi_ticket_facts.tenant)
    ), base AS (
        SELECT k.*, g.response_target, g.arrival_target, g.completion_target, g.csat_good_min,
               k.status = 'cancelled' AS is_cancelled,
               k.status = 'on_hold' AS is_held
          FROM aftersales._kpi_ticket_dims k
          JOIN cfg g ON g.tenant_id = k.tenant_id
         WHERE (kpi_ticket_facts.tenant IS NULL OR k.tenant_id = kpi_ticket_facts.tenant)
           AND k.opened_at >= kpi_ticket_facts.since AND k.opened_at < kpi_ticket_facts.until
    ), clocks AS (
        -- one row per ticket: its policy and the state of its three clocks
        SELECT s.tenant_id, s.ticket_id, pg_catalog.min(s.policy_id) AS policy_id,
               pg_catalog.min(COALESCE(s.outcome, 'running')) FILTER (WHERE s.metric = 'first_response') AS fr,
               pg_catalog.min(COALESCE(s.outcome, 'running')) FILTER (WHERE s.metric = 'arrival') AS arr,
               pg_catalog.min(COALESCE(s.outcome, 'running')) FILTER (WHERE s.metric = 'resolution') AS res,
               pg_catalog.min(s.due_at) FILTER (WHERE s.metric = 'resolution') AS res_due
          FROM aftersales.ticket_sla s
         WHERE (kpi_ticket_facts.tenant IS NULL OR s.tenant_id = kpi_ticket_facts.tenant)
           AND s.started_at >= kpi_ticket_facts.since AND s.started_at < kpi_ticket_facts.until
         GROUP BY s.tenant_id, s.ticket_id
    ), repeats AS (
        -- the previous ticket of the same unit and problem type, not cancelled
        SELECT r.tenant_id, r.ticket_id, r.gap <= g.repeat_window AS is_repeat
          FROM (SELECT t.tenant_id, t.ticket_id, t.opened_at,
                       t.opened_at - pg_catalog.lag(t.opened_at) OVER (
                           PARTITION BY t.tenant_id, t.unit_id, t.problem_type_id
                           ORDER BY t.opened_at, t.ticket_id) AS gap
                  FROM aftersales.tickets t
                 WHERE (kpi_ticket_facts.tenant IS NULL OR t.tenant_id = kpi_ticket_facts.tenant)
                   AND t.unit_id IS NOT NULL AND t.status <> 'cancelled'
                   AND t.opened_at < kpi_ticket_facts.until
                   AND t.opened_at >= kpi_ticket_facts.since - (SELECT pg_catalog.max(c2.repeat_window) FROM cfg c2)) r
          JOIN cfg g ON g.tenant_id = r.tenant_id
         WHERE r.opened_at >= kpi_ticket_facts.since
    ), revisited AS (
        -- tickets with more than one arrival on site (an arrival is never
        -- earlier than the ticket's entry)
        SELECT ev.tenant_id, ev.ticket_id
          FROM aftersales.ticket_events ev
         WHERE (kpi_ticket_facts.tenant IS NULL OR ev.tenant_id = kpi_ticket_facts.tenant)
           AND ev.event = 'arrive' AND ev.at >= kpi_ticket_facts.since
         GROUP BY ev.tenant_id, ev.ticket_id
        HAVING pg_catalog.count(*) > 1
    ), judged AS (
        SELECT b.*, cl.fr, cl.arr, cl.res, cal.calendar AS cal, rp.is_repeat, rv.ticket_id IS NOT NULL AS is_revisited,
               COALESCE(b.requested_at, cl.res_due) AS promise
          FROM base b
          LEFT JOIN clocks cl ON cl.tenant_id = b.tenant_id AND cl.ticket_id = b.ticket_id
          LEFT JOIN aftersales.sla_policies sp ON sp.tenant_id = cl.tenant_id AND sp.policy_id = cl.policy_id
          LEFT JOIN aftersales.calendars cal ON cal.tenant_id = sp.tenant_id AND cal.name = sp.calendar
          LEFT JOIN repeats rp ON rp.tenant_id = b.tenant_id AND rp.ticket_id = b.ticket_id
          LEFT JOIN revisited rv ON rv.tenant_id = b.tenant_id AND rv.ticket_id = b.ticket_id
    )
    SELECT j.tenant_id, j.tenant_name, j.ticket_id, j.opened_at,
           j.status::text, j.priority::text, j.channel, j.field, j.customer_tier,
           j.region, j.province, j.org_id, j.org_name, j.org_type,
           j.unit_id, j.model_id, j.model_name, j.problem_type_id, j.problem_name,
           j.engineer_id, j.engineer_name,
           j.is_cancelled::integer,
           -- first response
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM j.first_response_at - j.opened_at) / 60, 2) END,
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.opened_at, j.first_response_at)) / 60, 2) END,
           CASE WHEN j.is_cancelled THEN NULL
                WHEN j.first_response_at IS NOT NULL THEN (j.first_response_at <= j.opened_at + j.response_target)::integer
                WHEN j.is_held THEN NULL
                WHEN j.opened_at < kpi_ticket_facts.as_of - j.response_target THEN 0 END,
           -- arrival (field tickets)
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM j.arrived_at - j.opened_at) / 60, 2) END,
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.opened_at, j.arrived_at)) / 60, 2) END,
           CASE WHEN j.is_cancelled OR NOT j.field THEN NULL
                WHEN j.arrived_at IS NOT NULL THEN (j.arrived_at <= j.opened_at + j.arrival_target)::integer
                WHEN j.first_resolved_at IS NOT NULL OR j.is_held THEN NULL
                WHEN j.opened_at < kpi_ticket_facts.as_of - j.arrival_target THEN 0 END,
           -- resolution (the final one)
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM j.resolved_at - j.opened_at) / 60, 2) END,
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.opened_at, j.resolved_at)) / 60, 2) END,
           CASE WHEN j.is_cancelled THEN NULL
                WHEN j.resolved_at IS NOT NULL THEN (j.resolved_at <= j.opened_at + j.completion_target)::integer
                WHEN j.is_held THEN NULL
                WHEN j.opened_at < kpi_ticket_facts.as_of - j.completion_target THEN 0 END,
           -- repair: from the first response to the final resolution
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM j.resolved_at - j.first_response_at) / 60, 2) END,
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.first_response_at, j.resolved_at)) / 60, 2) END,
           -- handling: from the assignment to the current engineer to the final resolution
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM j.resolved_at - j.assigned_at) / 60, 2) END,
           CASE WHEN NOT j.is_cancelled THEN pg_catalog.round(EXTRACT(EPOCH FROM aftersales.business_diff(j.cal, j.assigned_at, j.resolved_at)) / 60, 2) END,
           -- on time: by the customer-requested date, else by the resolution clock's due time
           CASE WHEN NOT j.is_cancelled THEN j.promise END,
           CASE WHEN j.is_cancelled OR j.promise IS NULL THEN NULL
                WHEN j.resolved_at IS NOT NULL THEN (j.resolved_at <= j.promise)::integer
                WHEN j.is_held THEN NULL
                WHEN kpi_ticket_facts.as_of > j.promise THEN 0 END,
           CASE WHEN NOT j.is_cancelled THEN j.fr END,
           CASE WHEN NOT j.is_cancelled THEN j.arr END,
           CASE WHEN NOT j.is_cancelled THEN j.res END,
           -- first-time fix, closed loop, reopen: over tickets resolved at least once
           CASE WHEN j.is_cancelled OR j.first_resolved_at IS NULL THEN NULL
                WHEN j.attempt_count > 0 OR j.reopen_count > 0 OR j.is_revisited THEN 0
                ELSE 1 END,
           CASE WHEN j.is_cancelled OR j.first_resolved_at IS NULL THEN NULL
                ELSE (j.status = 'closed')::integer END,
           CASE WHEN j.is_cancelled OR j.first_resolved_at IS NULL THEN NULL
                ELSE (j.reopen_count > 0)::integer END,
           CASE WHEN j.is_cancelled OR j.unit_id IS NULL THEN NULL
                ELSE COALESCE(j.is_repeat, false)::integer END,
           -- the latest follow-up's scores
           CASE WHEN NOT j.is_cancelled THEN j.csat::integer END,
           CASE WHEN NOT j.is_cancelled THEN (j.csat >= j.csat_good_min)::integer END,
           CASE WHEN NOT j.is_cancelled THEN j.nps::integer END,
           CASE WHEN NOT j.is_cancelled THEN (j.nps >= 9)::integer END,
           CASE WHEN NOT j.is_cancelled THEN (j.nps <= 6)::integer END
      FROM judged j;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_ticket_facts(timestamptz, timestamptz, timestamptz, bigint) IS
  'One row per ticket entered in [since, until): its dimensions and every per-ticket KPI judgement (durations in minutes, 1/0/NULL flags), unfinished tickets judged at as_of; the definitions behind kpi_service';

-- aftersales install script, part 60: the backlog.
--
--   backlog_as_of          the tickets open at an instant, past or present,
--                          with their state, priority and engineer at that
--                          instant, rebuilt from the event log;
--   kpi_backlog            open tickets by age bucket (over 24, 48, 72, 96,
--                          120 hours; cumulative) and dimension;
--   kpi_engineer_holdings  open tickets held per engineer (保有量) against
--                          capacity.
-- Open means unresolved: new, on_hold, assigned, in_progress, on_site or
-- locked.  A resolved ticket awaiting its follow-up is not backlog.  Age is
-- wall-clock time since entry.

-- The state of a ticket at an instant: the current row when its latest
-- event is not later than the instant, else the latest event up to the
-- instant.  Priority and engineer at the instant are read from the event
-- payloads: priority from the latest event carrying one (open, retarget),
-- the engineer from the latest event that named one (assign, reassign,
-- take_over) or cleared it (entering new or locked).
CREATE FUNCTION aftersales.backlog_as_of(at timestamptz, tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (tenant_id bigint, ticket_id bigint, status text, priority text, engineer_id bigint,
                   opened_at timestamptz, age_hours numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales._kpi_check('backlog_as_of',
        'SELECT * FROM aftersales.backlog_as_of(''2026-03-01 00:00+08'');',
        NULL, NULL, NULL, NULL, NULL, at, 'UTC', tenant);
    RETURN QUERY
    SELECT t.tenant_id, t.ticket_id, x.st::text, x.pr::text, x.eng, t.opened_at,
           pg_catalog.round(EXTRACT(EPOCH FROM backlog_as_of.at - t.opened_at) / 3600, 2)
      FROM aftersales.tickets t
     CROSS JOIN LATERAL (
           SELECT t.status AS st, t.priority AS pr, t.assignee_id AS eng
            WHERE t.last_event_at <= backlog_as_of.at
           UNION ALL
           SELECT (SELECT ev.to_state FROM aftersales.ticket_events ev
                    WHERE ev.tenant_id = t.tenant_id AND ev.ticket_id = t.ticket_id AND ev.at <= backlog_as_of.at
                    ORDER BY ev.seq DESC LIMIT 1),
                  (SELECT (ev.payload ->> 'priority')::aftersales.priority FROM aftersales.ticket_events ev
                    WHERE ev.tenant_id = t.tenant_id AND ev.ticket_id = t.ticket_id AND ev.at <= backlog_as_of.at
                      AND ev.payload ? 'priority'
                    ORDER BY ev.seq DESC LIMIT 1),
                  (SELECT CASE WHEN ev.to_state IN ('new', 'locked') THEN NULL
                               ELSE (ev.payload ->> 'assignee')::bigint END
                     FROM aftersales.ticket_events ev
                    WHERE ev.tenant_id = t.tenant_id AND ev.ticket_id = t.ticket_id AND ev.at <= backlog_as_of.at
                      AND (ev.payload ? 'assignee' OR ev.to_state IN ('new', 'locked'))
                    ORDER BY ev.seq DESC LIMIT 1)
            WHERE t.last_event_at > backlog_as_of.at) x
     WHERE (backlog_as_of.tenant IS NULL OR t.tenant_id = backlog_as_of.tenant)
       AND t.opened_at <= backlog_as_of.at
       AND x.st IN ('new', 'on_hold', 'assigned', 'in_progress', 'on_site', 'locked')
     ORDER BY t.tenant_id, t.ticket_id;
END
$$;
COMMENT ON FUNCTION aftersales.backlog_as_of(timestamptz, bigint) IS
  'The tickets open (unresolved) at the instant at, with their state, priority and engineer at that instant, rebuilt from the event log, and their age in hours';

CREATE FUNCTION aftersales.kpi_backlog(dimension text DEFAULT 'organisation_type',
                                       as_of timestamptz DEFAULT aftersales.now(),
                                       tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (dim_key text, dim_name text, open_tickets bigint, unassigned bigint, on_hold bigint,
                   in_work bigint, over_24h bigint, over_48h bigint, over_72h bigint, over_96h bigint,
                   over_120h bigint, avg_age_hours numeric, max_age_hours numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d record;
BEGIN
    PERFORM aftersales._kpi_check('kpi_backlog',
        'SELECT * FROM aftersales.kpi_backlog(''organisation_type'', as_of => ''2026-03-01 00:00+08'');',
        NULL, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        NULL, NULL, as_of, 'UTC', tenant);
    d := aftersales._kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS dim_key, pg_catalog.max(%2$s) AS dim_name,
       pg_catalog.count(*),
       pg_catalog.count(*) FILTER (WHERE k.status IN ('new', 'locked')),
       pg_catalog.count(*) FILTER (WHERE k.status = 'on_hold'),
       pg_catalog.count(*) FILTER (WHERE k.status IN ('assigned', 'in_progress', 'on_site')),
       pg_catalog.count(*) FILTER (WHERE k.age_hours > 24),
       pg_catalog.count(*) FILTER (WHERE k.age_hours > 48),
       pg_catalog.count(*) FILTER (WHERE k.age_hours > 72),
       pg_catalog.count(*) FILTER (WHERE k.age_hours > 96),
       pg_catalog.count(*) FILTER (WHERE k.age_hours > 120),
       pg_catalog.round(pg_catalog.avg(k.age_hours), 2),
       pg_catalog.max(k.age_hours)
  FROM (SELECT b.tenant_id, b.ticket_id, b.status, b.priority, b.engineer_id, b.age_hours,
               t.tenant_name, t.region, t.province, t.org_id, t.org_name, t.org_type, t.model_id,
               t.model_name, t.problem_type_id, t.problem_name, t.channel, be.name AS engineer_name
          FROM aftersales.backlog_as_of($2, $1) b
          JOIN aftersales._kpi_ticket_dims t ON t.tenant_id = b.tenant_id AND t.ticket_id = b.ticket_id
          LEFT JOIN aftersales.engineers be ON be.tenant_id = b.tenant_id AND be.engineer_id = b.engineer_id) k
 GROUP BY 1) q
 ORDER BY %3$s$q$, d.key_sql, d.name_sql, d.order_sql)
    USING tenant, as_of;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_backlog(text, timestamptz, bigint) IS
  'Open tickets at as_of (rebuilt from the event log) by dimension: counts by state and by age (over 24, 48, 72, 96, 120 hours since entry, cumulative), mean and maximum age in hours';

CREATE FUNCTION aftersales.kpi_engineer_holdings(as_of timestamptz DEFAULT aftersales.now(),
                                                 tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (tenant_id bigint, engineer_id bigint, engineer_name text, org_id bigint, org_name text,
                   org_type text, region text, capacity integer, on_duty boolean, active boolean,
                   holdings bigint, assigned bigint, in_progress bigint, on_site bigint, on_hold bigint,
                   load_ratio numeric, max_age_hours numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales._kpi_check('kpi_engineer_holdings',
        'SELECT * FROM aftersales.kpi_engineer_holdings(as_of => ''2026-03-01 00:00+08'');',
        NULL, NULL, NULL, NULL, NULL, as_of, 'UTC', tenant);
    RETURN QUERY
    SELECT e.tenant_id, e.engineer_id, e.name, e.org_id, o.name, o.org_type, e.region::text, e.capacity,
           e.on_duty, e.active,
           pg_catalog.count(b.ticket_id),
           pg_catalog.count(*) FILTER (WHERE b.status = 'assigned'),
           pg_catalog.count(*) FILTER (WHERE b.status = 'in_progress'),
           pg_catalog.count(*) FILTER (WHERE b.status = 'on_site'),
           pg_catalog.count(*) FILTER (WHERE b.status = 'on_hold'),
           pg_catalog.round(pg_catalog.count(b.ticket_id)::numeric / e.capacity, 4),
           pg_catalog.max(b.age_hours)
      FROM aftersales.engineers e
      LEFT JOIN aftersales.organisations o ON o.tenant_id = e.tenant_id AND o.org_id = e.org_id
      LEFT JOIN aftersales.backlog_as_of(kpi_engineer_holdings.as_of, kpi_engineer_holdings.tenant) b
        ON b.tenant_id = e.tenant_id AND b.engineer_id = e.engineer_id
     WHERE (kpi_engineer_holdings.tenant IS NULL OR e.tenant_id = kpi_engineer_holdings.tenant)
     GROUP BY e.tenant_id, e.engineer_id, o.name, o.org_type
    HAVING e.active OR pg_catalog.count(b.ticket_id) > 0
     ORDER BY e.tenant_id, e.engineer_id;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_engineer_holdings(timestamptz, bigint) IS
  'Per engineer (active, or holding tickets): the open tickets held at as_of (保有量), by state, against capacity (load_ratio = holdings / capacity), and the oldest one''s age in hours';

-- aftersales install script, part 60: product quality.
--
--   kpi_failures        failures (tickets entered, not cancelled) by period
--                       and dimension (region, province, product model,
--                       problem (fault) type ...), split into early,
--                       in-warranty and out-of-warranty failures, ranked
--                       within the period (top N: the map's top 5
--                       provinces);
--   kpi_warranty_trend  early, in-warranty and out-of-warranty failures per
--                       period against the tenant's warning lines (seed 000:
--                       400, 600 and 600 units a month).
--
-- A failure's warranty class is decided on the date of entry, in the zone
-- the periods are cut in, from the ticket's unit:
--   early            0 <= entry date - units.installed_on <= setting
--                    early_failure_days (default 90);
--   in_warranty      otherwise, entry date <= the warranty's last day:
--                    units.warranty_ends, else installed_on plus the
--                    model's warranty_months, less one day;
--   out_of_warranty  otherwise, after that day;
--   unknown          no unit, or neither dates.
-- The classes do not overlap and add up to the failures.

CREATE FUNCTION aftersales.kpi_failures(period text, dimension text, since timestamptz, until timestamptz,
                                        zone text DEFAULT pg_catalog.current_setting('TimeZone'),
                                        tenant bigint DEFAULT aftersales.current_tenant(),
                                        top integer DEFAULT NULL)
    RETURNS TABLE (period_start date, dim_key text, dim_name text, failures bigint, early_failures bigint,
                   in_warranty_failures bigint, out_of_warranty_failures bigint, warranty_unknown bigint,
                   rank bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d record;
BEGIN
    PERFORM aftersales._kpi_check('kpi_failures',
        'SELECT * FROM aftersales.kpi_failures(''month'', ''province'', ''2026-01-01'', ''2027-01-01'', top => 5);',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,priority,channel}',
        since, until, NULL, zone, tenant);
    IF top IS NOT NULL AND top < 1 THEN
        RAISE EXCEPTION 'top must be positive, not %', top
            USING ERRCODE = '22023',
                  HINT = 'top => 5 keeps the five dimension values with the most failures in each period; NULL keeps them all.';
    END IF;
    d := aftersales._kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT r.period_start, r.dim_key, r.dim_name, r.failures, r.early, r.inw, r.outw, r.unknown, r.rank
  FROM (SELECT a.*, pg_catalog.row_number() OVER (PARTITION BY a.period_start
                                                   ORDER BY a.failures DESC, %4$s) AS rank
          FROM (SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name,
                       pg_catalog.count(*) AS failures,
                       pg_catalog.count(*) FILTER (WHERE w.class = 'early') AS early,
                       pg_catalog.count(*) FILTER (WHERE w.class = 'in_warranty') AS inw,
                       pg_catalog.count(*) FILTER (WHERE w.class = 'out_of_warranty') AS outw,
                       pg_catalog.count(*) FILTER (WHERE w.class = 'unknown') AS unknown
                  FROM aftersales._kpi_ticket_dims k
                  JOIN aftersales._kpi_config($1) g ON g.tenant_id = k.tenant_id
                  LEFT JOIN aftersales.units u ON u.tenant_id = k.tenant_id AND u.unit_id = k.unit_id
                  LEFT JOIN aftersales.product_models um ON um.tenant_id = u.tenant_id AND um.model_id = u.model_id
                 CROSS JOIN LATERAL (
                       SELECT CASE
                                WHEN x.entry - u.installed_on BETWEEN 0 AND g.early_failure_days THEN 'early'
                                WHEN x.warranty_end IS NULL THEN 'unknown'
                                WHEN x.entry <= x.warranty_end THEN 'in_warranty'
                                ELSE 'out_of_warranty' END AS class
                         FROM (SELECT pg_catalog.timezone($4, k.opened_at)::date AS entry,
                                      COALESCE(u.warranty_ends,
                                               (u.installed_on + pg_catalog.make_interval(months => um.warranty_months))::date - 1)
                                          AS warranty_end) x) w
                 WHERE ($1::bigint IS NULL OR k.tenant_id = $1) AND k.opened_at >= $2 AND k.opened_at < $3
                   AND k.status <> 'cancelled'
                 GROUP BY 1, 2) a) r
 WHERE $5::integer IS NULL OR r.rank <= $5
 ORDER BY r.period_start, r.rank$q$,
        aftersales._kpi_period_sql(period, 'k.opened_at', 4), d.key_sql, d.name_sql,
        pg_catalog.replace(d.order_sql, 'q.', 'a.'))
    USING tenant, since, until, zone, top;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_failures(text, text, timestamptz, timestamptz, text, bigint, integer) IS
  'Failures (tickets entered in [since, until), not cancelled) by period and dimension, split into early, in-warranty, out-of-warranty and unknown; rank 1 has the most failures in its period (ties by key); top => N keeps ranks 1 to N';

CREATE FUNCTION aftersales.kpi_warranty_trend(period text, since timestamptz, until timestamptz,
                                              zone text DEFAULT pg_catalog.current_setting('TimeZone'),
                                              tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (period_start date, tenant_id bigint, failures bigint,
                   early_failures bigint, early_failure_warning numeric, early_failure_alert integer,
                   in_warranty_failures bigint, in_warranty_warning numeric, in_warranty_alert integer,
                   out_of_warranty_failures bigint, out_of_warranty_warning numeric, out_of_warranty_alert integer,
                   warranty_unknown bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales._kpi_check('kpi_warranty_trend',
        'SELECT * FROM aftersales.kpi_warranty_trend(''month'', ''2026-01-01'', ''2026-07-01'');',
        period, NULL, NULL, since, until, NULL, zone, tenant);
    -- Every period of a bounded range has a row, with zeros when nothing failed.
    RETURN QUERY
    WITH f AS (
        SELECT x.period_start, x.dim_key::bigint AS tenant_id, x.failures, x.early_failures,
               x.in_warranty_failures, x.out_of_warranty_failures, x.warranty_unknown
          FROM aftersales.kpi_failures(kpi_warranty_trend.period, 'tenant', kpi_warranty_trend.since,
                                       kpi_warranty_trend.until, kpi_warranty_trend.zone,
                                       kpi_warranty_trend.tenant) x
    ), periods AS (
        SELECT f.period_start FROM f
        UNION
        SELECT p::date
          FROM pg_catalog.generate_series(
                   pg_catalog.date_trunc(kpi_warranty_trend.period,
                                         pg_catalog.timezone(kpi_warranty_trend.zone, kpi_warranty_trend.since)),
                   pg_catalog.timezone(kpi_warranty_trend.zone, kpi_warranty_trend.until) - interval '1 microsecond',
                   CASE kpi_warranty_trend.period WHEN 'quarter' THEN interval '3 months'
                        ELSE ('1 ' || kpi_warranty_trend.period)::interval END) p
         WHERE kpi_warranty_trend.period <> 'all'
           AND pg_catalog.isfinite(kpi_warranty_trend.since) AND pg_catalog.isfinite(kpi_warranty_trend.until)
        UNION
        SELECT NULL::date WHERE kpi_warranty_trend.period = 'all'
    )
    SELECT p.period_start, g.tenant_id, COALESCE(f.failures, 0),
           COALESCE(f.early_failures, 0), g.early_failure_warning,
           (COALESCE(f.early_failures, 0) >= g.early_failure_warning)::integer,
           COALESCE(f.in_warranty_failures, 0), g.in_warranty_warning,
           (COALESCE(f.in_warranty_failures, 0) >= g.in_warranty_warning)::integer,
           COALESCE(f.out_of_warranty_failures, 0), g.out_of_warranty_warning,
           (COALESCE(f.out_of_warranty_failures, 0) >= g.out_of_warranty_warning)::integer,
           COALESCE(f.warranty_unknown, 0)
      FROM periods p
     CROSS JOIN aftersales._kpi_config(kpi_warranty_trend.tenant) g
      LEFT JOIN f ON f.period_start IS NOT DISTINCT FROM p.period_start AND f.tenant_id = g.tenant_id
     WHERE f.tenant_id IS NOT NULL OR kpi_warranty_trend.tenant IS NOT NULL
     ORDER BY p.period_start, g.tenant_id;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_warranty_trend(text, timestamptz, timestamptz, text, bigint) IS
  'Early, in-warranty and out-of-warranty failures per period against the tenant''s warning lines (settings early_failure_warning, in_warranty_warning, out_of_warranty_warning); an alert is 1 when the count reaches its line; every period of a bounded range has a row';

-- aftersales install script, part 60: service and staff KPIs by period and
-- dimension.
--
--   kpi_service   every service KPI (rates, durations, first-time fix,
--                 closed loop, repeats, reopens, CSAT, NPS): the aggregate
--                 of kpi_ticket_facts (60_kpi.sql), where each is defined;
--   kpi_headline  the headline subset that the ticket row alone decides
--                 (response, arrival and completion rates, closed loop,
--                 reopens, CSAT, NPS), in one pass over the tickets without
--                 the clocks or the event log: the dashboard's fast path.
--                 It gives the same numbers as kpi_service (tested);
--   kpi_staff     per engineer: tickets, handling time, first-time fix;
--   kpi_dispatch  dispatch volume (assignment events), dated by the event;
--   kpi_durations distributions (n, mean, p50, p90, p95, max) of the
--                 durations behind AFR, ART, MTTR and handling time, with
--                 the duration_stats aggregate.
-- Periods, dimensions, ranges, as_of and tenant: see 60_kpi.sql.  No C
-- aggregate of our own: rates are count(*) FILTER / avg of 0/1 flags, which
-- SQL does in one pass; distributions use duration_stats.

CREATE FUNCTION aftersales.kpi_service(period text, dimension text, since timestamptz, until timestamptz,
                                       as_of timestamptz DEFAULT aftersales.now(),
                                       zone text DEFAULT pg_catalog.current_setting('TimeZone'),
                                       tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (period_start date, dim_key text, dim_name text,
                   tickets bigint, cancelled bigint, resolved bigint, closed bigint, unresolved bigint,
                   response_rate numeric, arrival_rate numeric, completion_rate numeric,
                   on_time_completion_rate numeric,
                   sla_first_response_rate numeric, sla_arrival_rate numeric, sla_resolution_rate numeric,
                   avg_first_response_minutes numeric, avg_first_response_business_minutes numeric,
                   avg_resolution_minutes numeric, avg_resolution_business_minutes numeric,
                   mttr_minutes numeric, mttr_business_minutes numeric,
                   first_time_fix_rate numeric, closed_loop_rate numeric, repeat_problem_rate numeric,
                   reopen_rate numeric, csat_avg numeric, csat_good_share numeric, nps numeric,
                   csat_responses bigint, nps_responses bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d record;
BEGIN
    PERFORM aftersales._kpi_check('kpi_service',
        'SELECT * FROM aftersales.kpi_service(''month'', ''region'', ''2026-01-01'', ''2027-01-01'');',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        since, until, as_of, zone, tenant);
    d := aftersales._kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name,
       pg_catalog.count(*) AS tickets,
       pg_catalog.sum(k.cancelled)::bigint AS cancelled,
       pg_catalog.count(k.resolution_minutes) AS resolved,
       pg_catalog.count(*) FILTER (WHERE k.status = 'closed') AS closed,
       pg_catalog.count(*) FILTER (WHERE k.status NOT IN ('resolved', 'closed', 'cancelled')) AS unresolved,
       pg_catalog.round(pg_catalog.avg(k.responded_in_target), 4),
       pg_catalog.round(pg_catalog.avg(k.arrived_in_target), 4),
       pg_catalog.round(pg_catalog.avg(k.completed_in_target), 4),
       pg_catalog.round(pg_catalog.avg(k.completed_on_time), 4),
       pg_catalog.round(pg_catalog.count(*) FILTER (WHERE k.sla_first_response = 'met')::numeric
                        / NULLIF(pg_catalog.count(*) FILTER (WHERE k.sla_first_response IN ('met', 'breached')), 0), 4),
       pg_catalog.round(pg_catalog.count(*) FILTER (WHERE k.sla_arrival = 'met')::numeric
                        / NULLIF(pg_catalog.count(*) FILTER (WHERE k.sla_arrival IN ('met', 'breached')), 0), 4),
       pg_catalog.round(pg_catalog.count(*) FILTER (WHERE k.sla_resolution = 'met')::numeric
                        / NULLIF(pg_catalog.count(*) FILTER (WHERE k.sla_resolution IN ('met', 'breached')), 0), 4),
       pg_catalog.round(pg_catalog.avg(k.response_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.response_business_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.resolution_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.resolution_business_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.repair_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.repair_business_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.first_time_fix), 4),
       pg_catalog.round(pg_catalog.avg(k.closed_loop), 4),
       pg_catalog.round(pg_catalog.avg(k.repeat_problem), 4),
       pg_catalog.round(pg_catalog.avg(k.reopened), 4),
       pg_catalog.round(pg_catalog.avg(k.csat_score), 2),
       pg_catalog.round(pg_catalog.avg(k.csat_good), 4),
       pg_catalog.round(100 * (pg_catalog.avg(k.nps_promoter) - pg_catalog.avg(k.nps_detractor)), 1),
       pg_catalog.count(k.csat_score),
       pg_catalog.count(k.nps_score)
  FROM aftersales.kpi_ticket_facts($2, $3, $4, $1) k
 GROUP BY 1, 2) q
 ORDER BY q.period_start, %4$s$q$,
        aftersales._kpi_period_sql(period, 'k.opened_at', 5), d.key_sql, d.name_sql, d.order_sql)
    USING tenant, since, until, as_of, zone;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_service(text, text, timestamptz, timestamptz, timestamptz, text, bigint) IS
  'Service KPIs of the tickets entered in [since, until), by period (day, week, month, quarter, year, all) and dimension (all, tenant, region, province, organisation, organisation_type, product_model, problem_type, engineer, priority, channel); unfinished tickets judged at as_of; definitions in aftersales.kpi_definitions';

CREATE FUNCTION aftersales.kpi_headline(period text, dimension text, since timestamptz, until timestamptz,
                                        as_of timestamptz DEFAULT aftersales.now(),
                                        zone text DEFAULT pg_catalog.current_setting('TimeZone'),
                                        tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (period_start date, dim_key text, dim_name text,
                   tickets bigint, cancelled bigint, resolved bigint, closed bigint, unresolved bigint,
                   response_rate numeric, arrival_rate numeric, completion_rate numeric,
                   closed_loop_rate numeric, reopen_rate numeric,
                   csat_avg numeric, csat_good_share numeric, nps numeric,
                   csat_responses bigint, nps_responses bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d record;
    cfg_join text := '';
    response_target interval;
    arrival_target interval;
    completion_target interval;
    csat_good_min numeric;
BEGIN
    PERFORM aftersales._kpi_check('kpi_headline',
        'SELECT * FROM aftersales.kpi_headline(''month'', ''region'', ''2026-01-01'', ''2027-01-01'');',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        since, until, as_of, zone, tenant);
    d := aftersales._kpi_dimension_sql(dimension);
    -- The thresholds: parameters $6 to $9 for one tenant (which keeps the
    -- plan a plain parallel scan), a join for every tenant.
    IF tenant IS NULL THEN
        cfg_join := 'JOIN aftersales._kpi_config(NULL) g ON g.tenant_id = k.tenant_id';
    ELSE
        SELECT g.response_target, g.arrival_target, g.completion_target, g.csat_good_min
          INTO response_target, arrival_target, completion_target, csat_good_min
          FROM aftersales._kpi_config(tenant) g;
    END IF;
    -- The same judgements as kpi_ticket_facts, inlined.
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name,
       pg_catalog.count(*) AS tickets,
       pg_catalog.count(*) FILTER (WHERE k.status = 'cancelled') AS cancelled,
       pg_catalog.count(*) FILTER (WHERE k.status <> 'cancelled' AND k.resolved_at IS NOT NULL) AS resolved,
       pg_catalog.count(*) FILTER (WHERE k.status = 'closed') AS closed,
       pg_catalog.count(*) FILTER (WHERE k.status NOT IN ('resolved', 'closed', 'cancelled')) AS unresolved,
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' THEN NULL
           WHEN k.first_response_at IS NOT NULL THEN (k.first_response_at <= k.opened_at + %5$s)::integer
           WHEN k.status = 'on_hold' THEN NULL
           WHEN k.opened_at < $4 - %5$s THEN 0 END), 4),
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' OR NOT k.field THEN NULL
           WHEN k.arrived_at IS NOT NULL THEN (k.arrived_at <= k.opened_at + %6$s)::integer
           WHEN k.first_resolved_at IS NOT NULL OR k.status = 'on_hold' THEN NULL
           WHEN k.opened_at < $4 - %6$s THEN 0 END), 4),
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' THEN NULL
           WHEN k.resolved_at IS NOT NULL THEN (k.resolved_at <= k.opened_at + %7$s)::integer
           WHEN k.status = 'on_hold' THEN NULL
           WHEN k.opened_at < $4 - %7$s THEN 0 END), 4),
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' OR k.first_resolved_at IS NULL THEN NULL
           ELSE (k.status = 'closed')::integer END), 4),
       pg_catalog.round(pg_catalog.avg(CASE
           WHEN k.status = 'cancelled' OR k.first_resolved_at IS NULL THEN NULL
           ELSE (k.reopen_count > 0)::integer END), 4),
       pg_catalog.round(pg_catalog.avg(k.csat) FILTER (WHERE k.status <> 'cancelled'), 2),
       pg_catalog.round(pg_catalog.avg((k.csat >= %8$s)::integer) FILTER (WHERE k.status <> 'cancelled'), 4),
       pg_catalog.round(100 * (pg_catalog.count(*) FILTER (WHERE k.nps >= 9 AND k.status <> 'cancelled')
                               - pg_catalog.count(*) FILTER (WHERE k.nps <= 6 AND k.status <> 'cancelled'))::numeric
                        / NULLIF(pg_catalog.count(k.nps) FILTER (WHERE k.status <> 'cancelled'), 0), 1),
       pg_catalog.count(k.csat) FILTER (WHERE k.status <> 'cancelled'),
       pg_catalog.count(k.nps) FILTER (WHERE k.status <> 'cancelled')
  FROM aftersales._kpi_ticket_dims k
  %9$s
 WHERE ($1::bigint IS NULL OR k.tenant_id = $1) AND k.opened_at >= $2 AND k.opened_at < $3
 GROUP BY 1, 2) q
 ORDER BY q.period_start, %4$s$q$,
        aftersales._kpi_period_sql(period, 'k.opened_at', 5), d.key_sql, d.name_sql, d.order_sql,
        CASE WHEN tenant IS NULL THEN 'g.response_target' ELSE '$6' END,
        CASE WHEN tenant IS NULL THEN 'g.arrival_target' ELSE '$7' END,
        CASE WHEN tenant IS NULL THEN 'g.completion_target' ELSE '$8' END,
        CASE WHEN tenant IS NULL THEN 'g.csat_good_min' ELSE '$9' END,
        cfg_join)
    USING tenant, since, until, as_of, zone, response_target, arrival_target, completion_target, csat_good_min;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_headline(text, text, timestamptz, timestamptz, timestamptz, text, bigint) IS
  'Headline service KPIs (response, arrival, completion rates, closed loop, reopens, CSAT, NPS) in one pass over the tickets: the same figures as kpi_service, faster; same parameters';

CREATE FUNCTION aftersales.kpi_staff(period text, since timestamptz, until timestamptz,
                                     as_of timestamptz DEFAULT aftersales.now(),
                                     zone text DEFAULT pg_catalog.current_setting('TimeZone'),
                                     tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (period_start date, engineer_id bigint, engineer_name text, org_id bigint, org_name text,
                   org_type text, tickets bigint, resolved bigint, unresolved bigint,
                   avg_handling_minutes numeric, avg_handling_business_minutes numeric,
                   total_handling_minutes numeric, first_time_fix_rate numeric, csat_avg numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales._kpi_check('kpi_staff',
        'SELECT * FROM aftersales.kpi_staff(''month'', ''2026-01-01'', ''2027-01-01'');',
        period, NULL, NULL, since, until, as_of, zone, tenant);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS period_start, k.engineer_id, pg_catalog.max(k.engineer_name),
       pg_catalog.max(e.org_id), pg_catalog.max(o.name), pg_catalog.max(o.org_type),
       pg_catalog.count(*) AS tickets,
       pg_catalog.count(k.resolution_minutes),
       pg_catalog.count(*) FILTER (WHERE k.status NOT IN ('resolved', 'closed')),
       pg_catalog.round(pg_catalog.avg(k.handling_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.handling_business_minutes), 2),
       pg_catalog.round(pg_catalog.sum(k.handling_minutes), 2),
       pg_catalog.round(pg_catalog.avg(k.first_time_fix), 4),
       pg_catalog.round(pg_catalog.avg(k.csat_score), 2)
  FROM aftersales.kpi_ticket_facts($2, $3, $4, $1) k
  JOIN aftersales.engineers e ON e.tenant_id = k.tenant_id AND e.engineer_id = k.engineer_id
  LEFT JOIN aftersales.organisations o ON o.tenant_id = e.tenant_id AND o.org_id = e.org_id
 WHERE k.cancelled = 0
 GROUP BY 1, k.tenant_id, k.engineer_id) q
 ORDER BY q.period_start, q.engineer_id$q$,
        aftersales._kpi_period_sql(period, 'k.opened_at', 5))
    USING tenant, since, until, as_of, zone;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_staff(text, timestamptz, timestamptz, timestamptz, text, bigint) IS
  'Per engineer and period: the tickets entered in [since, until) the engineer holds or resolved (not cancelled), resolved and unresolved counts, handling time (assignment to final resolution, wall and business minutes), first-time fix, CSAT';

CREATE FUNCTION aftersales.kpi_dispatch(period text, dimension text, since timestamptz, until timestamptz,
                                        zone text DEFAULT pg_catalog.current_setting('TimeZone'),
                                        tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (period_start date, dim_key text, dim_name text,
                   dispatches bigint, tickets bigint, assigns bigint, reassigns bigint, take_overs bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d record;
BEGIN
    PERFORM aftersales._kpi_check('kpi_dispatch',
        'SELECT * FROM aftersales.kpi_dispatch(''month'', ''organisation_type'', ''2026-01-01'', ''2027-01-01'');',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        since, until, NULL, zone, tenant);
    d := aftersales._kpi_dimension_sql(dimension);
    -- a dispatch is an event, dated by the event; its engineer is the one
    -- it gave the ticket to, the other dimensions are the ticket's
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.* FROM (
SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name,
       pg_catalog.count(*) AS dispatches,
       pg_catalog.count(DISTINCT k.ticket_id),
       pg_catalog.count(*) FILTER (WHERE k.event = 'assign'),
       pg_catalog.count(*) FILTER (WHERE k.event = 'reassign'),
       pg_catalog.count(*) FILTER (WHERE k.event = 'take_over')
  FROM (SELECT ev.tenant_id, ev.ticket_id, ev.at, ev.event, t.tenant_name, t.region, t.province, t.org_id,
               t.org_name, t.org_type, t.model_id, t.model_name, t.problem_type_id, t.problem_name,
               t.priority, t.channel, de.engineer_id, de.name AS engineer_name
          FROM aftersales.ticket_events ev
          JOIN aftersales._kpi_ticket_dims t ON t.tenant_id = ev.tenant_id AND t.ticket_id = ev.ticket_id
          LEFT JOIN aftersales.engineers de
            ON de.tenant_id = ev.tenant_id AND de.engineer_id = (ev.payload ->> 'assignee')::bigint
         WHERE ev.event IN ('assign', 'reassign', 'take_over') AND ev.to_state = 'assigned'
           AND ($1::bigint IS NULL OR ev.tenant_id = $1) AND ev.at >= $2 AND ev.at < $3) k
 GROUP BY 1, 2) q
 ORDER BY q.period_start, %4$s$q$,
        aftersales._kpi_period_sql(period, 'k.at', 4), d.key_sql, d.name_sql, d.order_sql)
    USING tenant, since, until, zone;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_dispatch(text, text, timestamptz, timestamptz, text, bigint) IS
  'Dispatch volume (派工量): assignment events in [since, until) that gave a ticket to an engineer (assign, reassign, take_over ending in assigned), by period of the event and dimension (engineer: the one dispatched to; others: the ticket''s)';

-- Distributions of the durations behind AFR, ART and MTTR, with the
-- duration_stats aggregate (50_duration_stats.sql): count, mean, median,
-- 90th and 95th percentiles (within 0.5%) and maximum, in minutes.
CREATE FUNCTION aftersales.kpi_durations(period text, dimension text, since timestamptz, until timestamptz,
                                         as_of timestamptz DEFAULT aftersales.now(),
                                         zone text DEFAULT pg_catalog.current_setting('TimeZone'),
                                         tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS TABLE (period_start date, dim_key text, dim_name text, measure text, clock text,
                   n bigint, mean_minutes numeric, p50_minutes numeric, p90_minutes numeric,
                   p95_minutes numeric, max_minutes numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d record;
BEGIN
    PERFORM aftersales._kpi_check('kpi_durations',
        'SELECT * FROM aftersales.kpi_durations(''month'', ''region'', ''2026-01-01'', ''2027-01-01'');',
        period, dimension,
        '{all,tenant,region,province,organisation,organisation_type,product_model,problem_type,engineer,priority,channel}',
        since, until, as_of, zone, tenant);
    d := aftersales._kpi_dimension_sql(dimension);
    RETURN QUERY EXECUTE pg_catalog.format($q$
SELECT q.period_start, q.dim_key, q.dim_name, q.measure, q.clock, (q.s).n,
       pg_catalog.round((q.s).mean::numeric, 2), pg_catalog.round((q.s).p50::numeric, 2),
       pg_catalog.round((q.s).p90::numeric, 2), pg_catalog.round((q.s).p95::numeric, 2),
       pg_catalog.round((q.s).max::numeric, 2)
  FROM (SELECT %1$s AS period_start, %2$s AS dim_key, pg_catalog.max(%3$s) AS dim_name, m.ord, m.measure, m.clock,
               aftersales.duration_stats(m.minutes::double precision) AS s
          FROM aftersales.kpi_ticket_facts($2, $3, $4, $1) k
         CROSS JOIN LATERAL (VALUES
               (1, 'first_response', 'wall', k.response_minutes),
               (2, 'first_response', 'business', k.response_business_minutes),
               (3, 'arrival', 'wall', k.arrival_minutes),
               (4, 'arrival', 'business', k.arrival_business_minutes),
               (5, 'resolution', 'wall', k.resolution_minutes),
               (6, 'resolution', 'business', k.resolution_business_minutes),
               (7, 'repair', 'wall', k.repair_minutes),
               (8, 'repair', 'business', k.repair_business_minutes),
               (9, 'handling', 'wall', k.handling_minutes),
               (10, 'handling', 'business', k.handling_business_minutes)) AS m (ord, measure, clock, minutes)
         GROUP BY 1, 2, m.ord, m.measure, m.clock) q
 WHERE (q.s).n > 0
 ORDER BY q.period_start, %4$s, q.ord$q$,
        aftersales._kpi_period_sql(period, 'k.opened_at', 5), d.key_sql, d.name_sql, d.order_sql)
    USING tenant, since, until, as_of, zone;
END
$$;
COMMENT ON FUNCTION aftersales.kpi_durations(text, text, timestamptz, timestamptz, timestamptz, text, bigint) IS
  'Distributions (n, mean, p50, p90, p95 within 0.5%, max; minutes) of first response, arrival, resolution, repair and handling times, wall clock and business time, of the tickets entered in [since, until), by period and dimension; computed with aftersales.duration_stats';

-- aftersales install script, part 60: views for BI tools.
--
-- What FineBI, Superset, Metabase, Tableau or Excel read.  Every view:
--   * is security_invoker, so the reader's own privileges (and row-level
--     security, when a deployment adds it) apply;
--   * shows the current tenant (aftersales.current_tenant()) as of
--     aftersales.now(), with periods cut in the session's TimeZone (set it
--     in the BI tool's connection, e.g. TimeZone = 'Asia/Shanghai');
--   * has plain types only: text, bigint, integer, numeric (durations in
--     minutes, ages in hours, rates from 0 to 1), boolean, date,
--     timestamptz: never an interval, an enum or a type of this extension;
--   * has a comment on itself and on every column (the block at the end
--     writes the column comments from one dictionary and from the KPI
--     catalogue, and refuses to install a column without one).
-- The views cover all history; for a range, a past instant or another
-- dimension, call the functions (kpi_service, kpi_backlog ...) directly.

CREATE VIEW aftersales.kpi_definitions WITH (security_invoker = true) AS
SELECT aftersales.current_tenant() AS tenant_id, k.code, k.category, k.name_en, k.name_zh, k.definition,
       k.formula, k.unit, k.target, k.target_direction, k.source, k.sort_order,
       k.tenant_id AS defined_by_tenant
  FROM aftersales.kpi_catalogue k
 WHERE k.tenant_id = aftersales.current_tenant()
    OR (k.tenant_id = 1
        AND NOT EXISTS (SELECT FROM aftersales.kpi_catalogue o
                         WHERE o.tenant_id = aftersales.current_tenant() AND o.code = k.code));
COMMENT ON VIEW aftersales.kpi_definitions IS
  'The KPI catalogue of the current tenant: its own rows, else tenant 1''s (code, names in English and Chinese, definition, formula, unit, target)';

CREATE VIEW aftersales.kpi_settings_current WITH (security_invoker = true) AS
SELECT aftersales.current_tenant() AS tenant_id, s.name, s.value, s.unit, s.description,
       s.tenant_id AS defined_by_tenant
  FROM aftersales.kpi_settings s
 WHERE s.tenant_id = aftersales.current_tenant()
    OR (s.tenant_id = 1
        AND NOT EXISTS (SELECT FROM aftersales.kpi_settings o
                         WHERE o.tenant_id = aftersales.current_tenant() AND o.name = s.name));
COMMENT ON VIEW aftersales.kpi_settings_current IS
  'The KPI settings (thresholds) of the current tenant: its own, else tenant 1''s';

CREATE VIEW aftersales.kpi_facts WITH (security_invoker = true) AS
SELECT f.*
  FROM aftersales.kpi_ticket_facts('-infinity', 'infinity', aftersales.now(), aftersales.current_tenant()) f;
COMMENT ON VIEW aftersales.kpi_facts IS
  'One row per ticket of the current tenant with its dimensions and every per-ticket KPI judgement, as of now: flags are 1, 0 or NULL (not judged), so avg(flag) is the rate; the base for any KPI a BI tool wants to slice itself';

CREATE VIEW aftersales.kpi_service_monthly WITH (security_invoker = true) AS
SELECT s.period_start AS month, s.tickets, s.cancelled, s.resolved, s.closed, s.unresolved,
       s.response_rate, s.arrival_rate, s.completion_rate, s.on_time_completion_rate,
       s.sla_first_response_rate, s.sla_arrival_rate, s.sla_resolution_rate,
       s.avg_first_response_minutes, s.avg_first_response_business_minutes,
       s.avg_resolution_minutes, s.avg_resolution_business_minutes, s.mttr_minutes, s.mttr_business_minutes,
       s.first_time_fix_rate, s.closed_loop_rate, s.repeat_problem_rate, s.reopen_rate,
       s.csat_avg, s.csat_good_share, s.nps, s.csat_responses, s.nps_responses
  FROM aftersales.kpi_service('month', 'all', '-infinity', 'infinity', aftersales.now(),
                              pg_catalog.current_setting('TimeZone'), aftersales.current_tenant()) s;
COMMENT ON VIEW aftersales.kpi_service_monthly IS
  'Service KPIs of the current tenant by month of entry, as of now';

CREATE VIEW aftersales.kpi_service_monthly_by_region WITH (security_invoker = true) AS
SELECT s.period_start AS month, s.dim_key AS region, s.tickets, s.cancelled, s.resolved, s.closed, s.unresolved,
       s.response_rate, s.arrival_rate, s.completion_rate, s.on_time_completion_rate,
       s.sla_first_response_rate, s.sla_arrival_rate, s.sla_resolution_rate,
       s.avg_first_response_minutes, s.avg_first_response_business_minutes,
       s.avg_resolution_minutes, s.avg_resolution_business_minutes, s.mttr_minutes, s.mttr_business_minutes,
       s.first_time_fix_rate, s.closed_loop_rate, s.repeat_problem_rate, s.reopen_rate,
       s.csat_avg, s.csat_good_share, s.nps, s.csat_responses, s.nps_responses
  FROM aftersales.kpi_service('month', 'region', '-infinity', 'infinity', aftersales.now(),
                              pg_catalog.current_setting('TimeZone'), aftersales.current_tenant()) s;
COMMENT ON VIEW aftersales.kpi_service_monthly_by_region IS
  'Service KPIs of the current tenant by month of entry and region, as of now';

CREATE VIEW aftersales.kpi_service_monthly_by_org_type WITH (security_invoker = true) AS
SELECT s.period_start AS month, s.dim_key AS org_type, s.dim_name AS org_type_name,
       s.tickets, s.cancelled, s.resolved, s.closed, s.unresolved,
       s.response_rate, s.arrival_rate, s.completion_rate, s.on_time_completion_rate,
       s.sla_first_response_rate, s.sla_arrival_rate, s.sla_resolution_rate,
       s.avg_first_response_minutes, s.avg_first_response_business_minutes,
       s.avg_resolution_minutes, s.avg_resolution_business_minutes, s.mttr_minutes, s.mttr_business_minutes,
       s.first_time_fix_rate, s.closed_loop_rate, s.repeat_problem_rate, s.reopen_rate,
       s.csat_avg, s.csat_good_share, s.nps, s.csat_responses, s.nps_responses
  FROM aftersales.kpi_service('month', 'organisation_type', '-infinity', 'infinity', aftersales.now(),
                              pg_catalog.current_setting('TimeZone'), aftersales.current_tenant()) s;
COMMENT ON VIEW aftersales.kpi_service_monthly_by_org_type IS
  'Service KPIs of the current tenant by month of entry and organisation type (代表处, 经销商, 供应商), as of now';

CREATE VIEW aftersales.kpi_open_tickets WITH (security_invoker = true) AS
SELECT b.ticket_id, b.status, b.priority, b.opened_at, b.age_hours, t.region, t.province, t.org_id,
       t.org_name, t.org_type, b.engineer_id, e.name AS engineer_name, t.customer_tier, t.model_name,
       t.problem_name, t.channel, t.field
  FROM aftersales.backlog_as_of(aftersales.now(), aftersales.current_tenant()) b
  JOIN aftersales._kpi_ticket_dims t ON t.tenant_id = b.tenant_id AND t.ticket_id = b.ticket_id
  LEFT JOIN aftersales.engineers e ON e.tenant_id = b.tenant_id AND e.engineer_id = b.engineer_id;
COMMENT ON VIEW aftersales.kpi_open_tickets IS
  'The open (unresolved) tickets of the current tenant now, with their age: the detail list behind the backlog';

CREATE VIEW aftersales.kpi_backlog_by_org_type WITH (security_invoker = true) AS
SELECT b.dim_key AS org_type, b.dim_name AS org_type_name, b.open_tickets, b.unassigned, b.on_hold, b.in_work,
       b.over_24h, b.over_48h, b.over_72h, b.over_96h, b.over_120h, b.avg_age_hours, b.max_age_hours
  FROM aftersales.kpi_backlog('organisation_type', aftersales.now(), aftersales.current_tenant()) b;
COMMENT ON VIEW aftersales.kpi_backlog_by_org_type IS
  'Open tickets of the current tenant now by organisation type, by state and age bucket (over 24 to 120 hours, cumulative)';

CREATE VIEW aftersales.kpi_backlog_by_organisation WITH (security_invoker = true) AS
SELECT b.dim_key::bigint AS org_id, b.dim_name AS org_name, o.org_type, b.open_tickets, b.unassigned,
       b.on_hold, b.in_work, b.over_24h, b.over_48h, b.over_72h, b.over_96h, b.over_120h,
       b.avg_age_hours, b.max_age_hours
  FROM aftersales.kpi_backlog('organisation', aftersales.now(), aftersales.current_tenant()) b
  LEFT JOIN aftersales.organisations o
    ON o.tenant_id = aftersales.current_tenant() AND o.org_id = b.dim_key::bigint;
COMMENT ON VIEW aftersales.kpi_backlog_by_organisation IS
  'Open tickets of the current tenant now by organisation, by state and age bucket (over 24 to 120 hours, cumulative)';

CREATE VIEW aftersales.kpi_holdings WITH (security_invoker = true) AS
SELECT h.engineer_id, h.engineer_name, h.org_id, h.org_name, h.org_type, h.region, h.capacity, h.on_duty,
       h.active, h.holdings, h.assigned, h.in_progress, h.on_site, h.on_hold, h.load_ratio, h.max_age_hours
  FROM aftersales.kpi_engineer_holdings(aftersales.now(), aftersales.current_tenant()) h;
COMMENT ON VIEW aftersales.kpi_holdings IS
  'Open tickets held now per engineer of the current tenant (保有量), against capacity';

CREATE VIEW aftersales.kpi_failures_monthly WITH (security_invoker = true) AS
SELECT d.dimension, f.period_start AS month, f.dim_key, f.dim_name, f.failures, f.early_failures,
       f.in_warranty_failures, f.out_of_warranty_failures, f.warranty_unknown, f.rank
  FROM (VALUES ('region'), ('province'), ('product_model'), ('problem_type')) AS d (dimension)
 CROSS JOIN LATERAL aftersales.kpi_failures('month', d.dimension, '-infinity', 'infinity',
                                            pg_catalog.current_setting('TimeZone'),
                                            aftersales.current_tenant()) f;
COMMENT ON VIEW aftersales.kpi_failures_monthly IS
  'Failures of the current tenant by month of entry and by region, province, product model and problem (fault) type (column dimension says which), with warranty classes and rank within the month (rank <= 5 for the top 5)';

CREATE VIEW aftersales.kpi_durations_monthly WITH (security_invoker = true) AS
SELECT d.period_start AS month, d.measure, d.clock, d.n, d.mean_minutes, d.p50_minutes, d.p90_minutes,
       d.p95_minutes, d.max_minutes
  FROM aftersales.kpi_durations('month', 'all', '-infinity', 'infinity', aftersales.now(),
                                pg_catalog.current_setting('TimeZone'), aftersales.current_tenant()) d;
COMMENT ON VIEW aftersales.kpi_durations_monthly IS
  'Distributions of first response, arrival, resolution, repair and handling times of the current tenant by month of entry: count, mean, median, p90, p95 (within 0.5%) and maximum, in wall-clock and business minutes';

CREATE VIEW aftersales.kpi_warranty_monthly WITH (security_invoker = true) AS
SELECT w.period_start AS month, w.failures, w.early_failures, w.early_failure_warning, w.early_failure_alert,
       w.in_warranty_failures, w.in_warranty_warning, w.in_warranty_alert,
       w.out_of_warranty_failures, w.out_of_warranty_warning, w.out_of_warranty_alert, w.warranty_unknown
  FROM aftersales.kpi_warranty_trend('month', '-infinity', 'infinity', pg_catalog.current_setting('TimeZone'),
                                     aftersales.current_tenant()) w
 WHERE w.failures > 0;
COMMENT ON VIEW aftersales.kpi_warranty_monthly IS
  'Early, in-warranty and out-of-warranty failures of the current tenant by month of entry, against the warning lines (seed 000: 400, 600, 600)';

CREATE VIEW aftersales.kpi_staff_monthly WITH (security_invoker = true) AS
SELECT s.period_start AS month, s.engineer_id, s.engineer_name, s.org_id, s.org_name, s.org_type, s.tickets,
       s.resolved, s.unresolved, s.avg_handling_minutes, s.avg_handling_business_minutes,
       s.total_handling_minutes, s.first_time_fix_rate, s.csat_avg
  FROM aftersales.kpi_staff('month', '-infinity', 'infinity', aftersales.now(),
                            pg_catalog.current_setting('TimeZone'), aftersales.current_tenant()) s;
COMMENT ON VIEW aftersales.kpi_staff_monthly IS
  'Per engineer of the current tenant and month of entry: tickets, handling time, first-time fix, CSAT';

CREATE VIEW aftersales.kpi_dispatch_monthly_by_org_type WITH (security_invoker = true) AS
SELECT d.period_start AS month, d.dim_key AS org_type, d.dim_name AS org_type_name, d.dispatches, d.tickets,
       d.assigns, d.reassigns, d.take_overs
  FROM aftersales.kpi_dispatch('month', 'organisation_type', '-infinity', 'infinity',
                               pg_catalog.current_setting('TimeZone'), aftersales.current_tenant()) d;
COMMENT ON VIEW aftersales.kpi_dispatch_monthly_by_org_type IS
  'Dispatch volume (派工量) of the current tenant by month of the dispatch and organisation type of the ticket';

-- Column comments: from the dictionary below, else from the catalogue (a
-- column named like a KPI code gets the KPI''s names and definition).
DO $$
DECLARE
    r record;
    missing text[] := '{}';
BEGIN
    FOR r IN
        WITH kpi_column_dictionary (view_name, column_name, comment) AS (VALUES
     (NULL, 'tenant_id', 'Tenant'),
     (NULL, 'tenant_name', 'Tenant name'),
     (NULL, 'defined_by_tenant', 'Tenant whose row applies: the current tenant''s own, or 1 (the shipped default)'),
     (NULL, 'code', 'KPI code: the column name under which functions and views return it'),
     (NULL, 'category', 'service, backlog, quality or staff'),
     (NULL, 'name_en', 'Name in English'),
     (NULL, 'name_zh', 'Name in Chinese'),
     (NULL, 'definition', 'Precise definition'),
     (NULL, 'formula', 'Formula'),
     (NULL, 'unit', 'Unit'),
     (NULL, 'target', 'Default target, in unit; NULL when none is shipped'),
     (NULL, 'target_direction', '>= when higher is better, <= when lower is better'),
     (NULL, 'source', 'Functions returning the KPI'),
     (NULL, 'sort_order', 'Display order'),
     (NULL, 'name', 'Setting name'),
     (NULL, 'value', 'Value, in unit'),
     (NULL, 'description', 'What the setting decides'),
     (NULL, 'month', 'First day of the month (in the session''s TimeZone)'),
     (NULL, 'ticket_id', 'Ticket id'),
     (NULL, 'opened_at', 'When the ticket was entered'),
     (NULL, 'status', 'State of the ticket (new, on_hold, assigned, in_progress, on_site, locked, resolved, closed, cancelled)'),
     (NULL, 'priority', 'Priority: A (urgent), B or C'),
     (NULL, 'channel', 'Channel of the request: phone, web, app, wechat, email, walk_in, field, other'),
     (NULL, 'field', 'Whether the ticket needs on-site service'),
     (NULL, 'customer_tier', 'Customer tier: key (重点客户), major or standard'),
     (NULL, 'region', 'Region (华东, 华北, 东北, 中南, 西北, 西南): the customer''s, else the organisation''s'),
     (NULL, 'province', 'Province: the customer''s, else the organisation''s'),
     (NULL, 'org_id', 'Organisation id'),
     (NULL, 'org_name', 'Organisation name'),
     (NULL, 'org_type', 'Organisation type: headquarters, representative_office, dealer or supplier'),
     (NULL, 'org_type_name', 'Organisation type in Chinese: 总部, 代表处, 经销商, 供应商'),
     (NULL, 'unit_id', 'Installed unit, when the ticket names one'),
     (NULL, 'model_id', 'Product model id'),
     (NULL, 'model_name', 'Product model name'),
     (NULL, 'problem_type_id', 'Problem (fault) type id'),
     (NULL, 'problem_name', 'Problem (fault) type name'),
     (NULL, 'engineer_id', 'Engineer id'),
     (NULL, 'engineer_name', 'Engineer name'),
     ('kpi_facts', 'engineer_id', 'Engineer holding the ticket now; for a resolved or closed ticket, the one who resolved it'),
     ('kpi_facts', 'org_id', 'Organisation: the ticket''s handling organisation, else the customer''s'),
     ('kpi_facts', 'cancelled', '1 when the ticket is cancelled (then no KPI judges it), else 0'),
     (NULL, 'cancelled', 'Tickets cancelled (not judged by any KPI)'),
     (NULL, 'tickets', 'Tickets entered (including cancelled)'),
     (NULL, 'resolved', 'Tickets resolved (finally; not cancelled)'),
     (NULL, 'closed', 'Tickets closed (satisfied follow-up)'),
     (NULL, 'unresolved', 'Tickets neither resolved, closed nor cancelled'),
     (NULL, 'csat_responses', 'Tickets whose latest follow-up has a CSAT score'),
     (NULL, 'nps_responses', 'Tickets whose latest follow-up has an NPS score'),
     ('kpi_facts', 'response_minutes', 'Minutes from entry to the first response (wall clock)'),
     ('kpi_facts', 'response_business_minutes', 'Minutes of business time (calendar of the ticket''s SLA policy) from entry to the first response'),
     ('kpi_facts', 'responded_in_target', '1: first response within the response target (setting response_target_minutes); 0: not; NULL: not judged yet (or on hold, or cancelled)'),
     ('kpi_facts', 'arrival_minutes', 'Minutes from entry to the first arrival on site (wall clock)'),
     ('kpi_facts', 'arrival_business_minutes', 'Minutes of business time from entry to the first arrival on site'),
     ('kpi_facts', 'arrived_in_target', '1: a field ticket arrived within the arrival target (setting arrival_target_hours); 0: not; NULL: not a field ticket, not judged yet, or resolved without a visit'),
     ('kpi_facts', 'resolution_minutes', 'Minutes from entry to the final resolution (wall clock, holds included)'),
     ('kpi_facts', 'resolution_business_minutes', 'Minutes of business time from entry to the final resolution'),
     ('kpi_facts', 'completed_in_target', '1: finally resolved within the completion target (setting completion_target_hours); 0: not; NULL: not judged yet'),
     ('kpi_facts', 'repair_minutes', 'Minutes from the first response to the final resolution (the repair, for MTTR)'),
     ('kpi_facts', 'repair_business_minutes', 'Minutes of business time from the first response to the final resolution'),
     ('kpi_facts', 'handling_minutes', 'Minutes from the assignment to the current engineer to the final resolution'),
     ('kpi_facts', 'handling_business_minutes', 'Minutes of business time from the assignment to the current engineer to the final resolution'),
     ('kpi_facts', 'promised_at', 'Promised completion: the customer-requested date, else the resolution SLA clock''s due time'),
     ('kpi_facts', 'completed_on_time', '1: finally resolved by promised_at; 0: not; NULL: not judged yet'),
     ('kpi_facts', 'sla_first_response', 'First-response SLA clock: met, breached, cancelled, running; NULL without a clock'),
     ('kpi_facts', 'sla_arrival', 'Arrival SLA clock (field tickets): met, breached, cancelled, running; NULL without a clock'),
     ('kpi_facts', 'sla_resolution', 'Resolution SLA clock: met, breached, cancelled, running; NULL without a clock'),
     ('kpi_facts', 'first_time_fix', '1: resolved at least once with no failed attempt, no reopen and at most one arrival on site; 0: resolved but not first time; NULL: never resolved'),
     ('kpi_facts', 'closed_loop', '1: resolved at least once and closed now; 0: resolved at least once and not closed; NULL: never resolved'),
     ('kpi_facts', 'reopened', '1: resolved at least once and reopened since (unsatisfied follow-up or reopen); 0: not; NULL: never resolved'),
     ('kpi_facts', 'repeat_problem', '1: the unit had a ticket of the same problem type entered at most repeat_window_days before; 0: not; NULL: no unit'),
     ('kpi_facts', 'csat_score', 'CSAT score of the latest follow-up, 1 to 5'),
     ('kpi_facts', 'csat_good', '1: CSAT at least csat_good_min (4); 0: below; NULL: no score'),
     ('kpi_facts', 'nps_score', 'NPS score (likelihood to recommend) of the latest follow-up, 0 to 10'),
     ('kpi_facts', 'nps_promoter', '1: NPS score 9 or 10; 0: otherwise; NULL: no score'),
     ('kpi_facts', 'nps_detractor', '1: NPS score 0 to 6; 0: otherwise; NULL: no score'),
     (NULL, 'age_hours', 'Hours since entry'),
     (NULL, 'open_tickets', 'Open (unresolved) tickets'),
     (NULL, 'unassigned', 'Open tickets without an engineer (new or locked)'),
     (NULL, 'on_hold', 'Open tickets on hold (waiting on the customer)'),
     (NULL, 'in_work', 'Open tickets with an engineer (assigned, in_progress, on_site)'),
     (NULL, 'over_24h', 'Open tickets entered more than 24 hours ago (超24小时; includes the older buckets)'),
     (NULL, 'over_48h', 'Open tickets entered more than 48 hours ago (超48小时)'),
     (NULL, 'over_72h', 'Open tickets entered more than 72 hours ago (超72小时)'),
     (NULL, 'over_96h', 'Open tickets entered more than 96 hours ago (超96小时)'),
     (NULL, 'over_120h', 'Open tickets entered more than 120 hours ago (超120小时)'),
     (NULL, 'avg_age_hours', 'Mean age of the open tickets, hours'),
     (NULL, 'max_age_hours', 'Age of the oldest open ticket, hours'),
     (NULL, 'capacity', 'How many open tickets the engineer can hold'),
     (NULL, 'on_duty', 'Whether the engineer is on duty now'),
     (NULL, 'active', 'False once the engineer has left'),
     (NULL, 'assigned', 'Held tickets assigned, not started'),
     (NULL, 'in_progress', 'Held tickets in progress'),
     (NULL, 'on_site', 'Held tickets with the engineer on site'),
     ('kpi_holdings', 'on_hold', 'Held tickets on hold'),
     ('kpi_holdings', 'region', 'Region the engineer covers'),
     ('kpi_holdings', 'org_id', 'Organisation the engineer works for'),
     (NULL, 'load_ratio', 'holdings / capacity'),
     (NULL, 'dimension', 'Which dimension dim_key and dim_name are values of: region, province, product_model or problem_type'),
     (NULL, 'dim_key', 'Value of the dimension: the region or province, or the id of the model or problem type'),
     (NULL, 'dim_name', 'Label of the dimension value'),
     (NULL, 'warranty_unknown', 'Failures whose warranty class is unknown (no unit, or no installation or warranty date)'),
     (NULL, 'rank', 'Rank within the month by failures (1: most; ties by key)'),
     (NULL, 'early_failure_warning', 'Warning line for early failures (setting early_failure_warning)'),
     (NULL, 'early_failure_alert', '1 when early failures reached the warning line, else 0'),
     (NULL, 'in_warranty_warning', 'Warning line for in-warranty failures (setting in_warranty_warning)'),
     (NULL, 'in_warranty_alert', '1 when in-warranty failures reached the warning line, else 0'),
     (NULL, 'out_of_warranty_warning', 'Warning line for out-of-warranty failures (setting out_of_warranty_warning)'),
     (NULL, 'out_of_warranty_alert', '1 when out-of-warranty failures reached the warning line, else 0'),
     ('kpi_staff_monthly', 'tickets', 'Tickets entered in the month that the engineer holds or resolved (not cancelled)'),
     ('kpi_staff_monthly', 'resolved', 'Of them, resolved'),
     ('kpi_staff_monthly', 'unresolved', 'Of them, not yet resolved'),
     ('kpi_staff_monthly', 'avg_handling_business_minutes', 'As avg_handling_minutes, in business time on the calendar of the ticket''s SLA policy'),
     ('kpi_staff_monthly', 'total_handling_minutes', 'Sum of handling minutes of the resolved tickets'),
     ('kpi_staff_monthly', 'org_id', 'Organisation the engineer works for'),
     ('kpi_dispatch_monthly_by_org_type', 'month', 'First day of the month of the dispatch (in the session''s TimeZone)'),
     ('kpi_dispatch_monthly_by_org_type', 'tickets', 'Distinct tickets dispatched'),
     (NULL, 'assigns', 'Dispatches by assign (from awaiting assignment)'),
     (NULL, 'reassigns', 'Dispatches by reassign (to another engineer)'),
     (NULL, 'take_overs', 'Dispatches by take_over (the service manager, from locked)'),
     (NULL, 'measure', 'Which duration: first_response (entry to first response), arrival (entry to first arrival on site), resolution (entry to final resolution), repair (first response to final resolution), handling (assignment to the current engineer to final resolution)'),
     (NULL, 'clock', 'wall: wall-clock minutes; business: business minutes on the calendar of the ticket''s SLA policy'),
     (NULL, 'n', 'Tickets with this duration (not cancelled)'),
     (NULL, 'mean_minutes', 'Mean, minutes'),
     (NULL, 'p50_minutes', 'Median, minutes (within 0.5%)'),
     (NULL, 'p90_minutes', '90th percentile, minutes (within 0.5%)'),
     (NULL, 'p95_minutes', '95th percentile, minutes (within 0.5%)'),
     (NULL, 'max_minutes', 'Maximum, minutes'))
        SELECT c.relname, a.attname,
               COALESCE((SELECT d.comment FROM kpi_column_dictionary d
                          WHERE d.column_name = a.attname AND (d.view_name = c.relname OR d.view_name IS NULL)
                          ORDER BY d.view_name NULLS LAST LIMIT 1),
                        (SELECT k.name_en || ' (' || k.name_zh || '), ' || k.unit || ': ' || k.definition
                           FROM aftersales.kpi_catalogue k WHERE k.tenant_id = 1 AND k.code = a.attname),
                        (SELECT k.name_en || ' (' || k.name_zh || '), ' || k.unit || ': ' || k.definition
                           FROM aftersales.kpi_catalogue k WHERE k.tenant_id = 1 AND 'backlog_' || a.attname = k.code)) AS comment
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE n.nspname = 'aftersales' AND c.relkind = 'v' AND c.relname LIKE 'kpi\_%'
           AND pg_catalog.col_description(c.oid, a.attnum) IS NULL
    LOOP
        IF r.comment IS NULL THEN
            missing := missing || (r.relname || '.' || r.attname);
        ELSE
            EXECUTE pg_catalog.format('COMMENT ON COLUMN aftersales.%I.%I IS %L', r.relname, r.attname, r.comment);
        END IF;
    END LOOP;
    IF missing <> '{}' THEN
        RAISE EXCEPTION 'view columns without a comment: %', pg_catalog.array_to_string(missing, ', ');
    END IF;
END
$$;

-- aftersales install script, part 70: sample data (issue 6).
--
-- generate_sample_data() builds a whole company as a new tenant and drives a
-- year of its tickets through the real API (open_tickets, assign_ticket,
-- start_work, arrive_on_site, hold_ticket, fail_attempt, resolve_ticket,
-- follow_up, reopen_ticket, take_over_ticket, cancel_ticket, ...), each
-- event at its own `at`, so that the event log, the counters, the SLA
-- clocks and the escalation watches are the ones real use would leave.
--
-- Deterministic: every choice is a pure function of (seed, item, salt)
-- through pg_catalog.hashint8extended, never random(), so the same seed
-- gives the same data whatever ran before and in whatever order rows are
-- produced.  Surrogate ids (identities shared by all tenants) differ
-- between databases; sample_data_checksum() therefore names rows by their
-- natural keys (serials, codes, logins, names) or by their rank within the
-- tenant, never by id.  The hash is PostgreSQL's own and the same on every
-- little-endian platform (the CI's); a big-endian server would draw
-- different, equally valid, data.
--
-- What it builds (n = tickets):
--   organisations  HQ, the six regions, 31 provinces (代表处), and 2 to 6
--                  outlets per province: a service station (代表处), dealers
--                  (经销商) and, in the larger provinces, a supplier (供应商);
--   engineers      about n / 400 (at least 60), by outlet, with skills and a
--                  capacity of 6 to 12;
--   customers      about n / 20 (at least 120), weighted towards the big
--                  provinces (广东, 江苏, 浙江, 山东, 河南, 四川 ...); 5% key
--                  customers with a 24x7 service agreement, 15% major;
--   products       3 lines, 10 models with 12 to 36 months of warranty; two
--                  models fail far more than the rest and one, launched the
--                  year before, fails early (a quality problem);
--   units          about n / 3 (at least 300), installed from four years
--                  before the year to its end;
--   calendars      '24x7' and 'cn-office' (office hours with a lunch break,
--                  China's public holidays and make-up days: see
--                  sample_calendar());
--   SLA policies   'standard' (the tenant default, on cn-office) and
--                  'key-account' (on 24x7), both with seed 001's targets
--                  copied from tenant 1's shipped 'default' policy.
-- The tickets and their life cycles are described at generate_sample_data.

-- China's working calendar of a year: Mon-Fri 09:00-12:00,13:00-18:00 in
-- Asia/Shanghai, with the public holidays and make-up working days (调休)
-- the State Council publishes.  Only 2026's schedule is known here; other
-- years get the holidays with fixed dates (New Year, Labour Day, National
-- Day) and no make-up days.
CREATE FUNCTION aftersales.sample_calendar(year integer DEFAULT 2026) RETURNS aftersales.calendar
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    week constant text := 'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00';
    y text;
BEGIN
    IF year IS NULL OR year NOT BETWEEN 2000 AND 2100 THEN
        RAISE EXCEPTION 'invalid sample year: %', COALESCE(year::text, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'Years 2000 to 2100 are supported, for example: SELECT aftersales.sample_calendar(2026);';
    END IF;
    IF year = 2026 THEN
        RETURN (week || ';
   holiday 2026-01-01..2026-01-03,2026-02-15..2026-02-23,2026-04-04..2026-04-06,
           2026-05-01..2026-05-05,2026-06-19..2026-06-21,2026-09-25..2026-09-27,
           2026-10-01..2026-10-07;
   workday 2026-01-04 09:00-12:00,13:00-18:00; workday 2026-02-14 09:00-12:00,13:00-18:00;
   workday 2026-02-28 09:00-12:00,13:00-18:00; workday 2026-05-09 09:00-12:00,13:00-18:00;
   workday 2026-09-20 09:00-12:00,13:00-18:00; workday 2026-10-10 09:00-12:00,13:00-18:00')::aftersales.calendar;
    END IF;
    y := year::text;
    RETURN pg_catalog.format('%s; holiday %s-01-01,%s-05-01..%s-05-03,%s-10-01..%s-10-07', week, y, y, y, y, y, y)
        ::aftersales.calendar;
END
$$;
COMMENT ON FUNCTION aftersales.sample_calendar(integer) IS
  'China office hours (Mon-Fri 09:00-12:00, 13:00-18:00, Asia/Shanghai) with the public holidays and make-up working days of a year (the full State Council schedule for 2026; fixed-date holidays only otherwise)';

-- ---------------------------------------------------------------------------
-- What was generated

CREATE TABLE aftersales.sample_data_runs (
    tenant_id    bigint      PRIMARY KEY REFERENCES aftersales.tenants,
    tenant_name  text        NOT NULL,
    seed         integer     NOT NULL,
    tickets      integer     NOT NULL,
    year         integer     NOT NULL,
    events       bigint      NOT NULL,
    started_at   timestamptz NOT NULL,
    seconds      numeric     NOT NULL,
    checksum     text        NOT NULL
);
COMMENT ON TABLE aftersales.sample_data_runs IS
  'Tenants built by aftersales.generate_sample_data(): with which arguments, how long it took and the checksum of what it built';
COMMENT ON COLUMN aftersales.sample_data_runs.tenant_id IS 'The tenant built';
COMMENT ON COLUMN aftersales.sample_data_runs.tenant_name IS 'Its name';
COMMENT ON COLUMN aftersales.sample_data_runs.seed IS 'Seed of the pseudo-random choices';
COMMENT ON COLUMN aftersales.sample_data_runs.tickets IS 'Tickets entered';
COMMENT ON COLUMN aftersales.sample_data_runs.year IS 'Year the tickets were entered in';
COMMENT ON COLUMN aftersales.sample_data_runs.events IS 'Events recorded in the tickets'' event log';
COMMENT ON COLUMN aftersales.sample_data_runs.started_at IS 'When the generation started (wall clock)';
COMMENT ON COLUMN aftersales.sample_data_runs.seconds IS 'How long the generation took, in seconds';
COMMENT ON COLUMN aftersales.sample_data_runs.checksum IS 'aftersales.sample_data_checksum() right after generation';
SELECT pg_catalog.pg_extension_config_dump('aftersales.sample_data_runs', '');

-- A uniform draw in [0, 1) for (seed, item, salt).
CREATE FUNCTION aftersales._sample_u(seed integer, item bigint, salt integer) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (pg_catalog.hashint8extended(item, seed::bigint * 1000003 + salt)
            & 9007199254740991)::double precision / 9007199254740992.0
$$;
COMMENT ON FUNCTION aftersales._sample_u(integer, bigint, integer) IS
  'Internal: a deterministic uniform draw in [0, 1) for (seed, item, salt), for the sample data';

-- ---------------------------------------------------------------------------
-- The checksum

-- The content of a tenant, without surrogate ids: tickets by their rank in
-- the tenant (ticket_id order, which is entry order), everything they point
-- at by natural key.  Each row is hashed and the hashes summed (mod 2^64,
-- twice with two seeds), so the checksum streams over a million tickets and
-- does not depend on the order rows are read in.
CREATE FUNCTION aftersales.sample_data_checksum(tenant bigint DEFAULT aftersales.current_tenant())
    RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h1 numeric;
    h2 numeric;
    m constant numeric := 18446744073709551616;
BEGIN
    IF tenant IS NULL OR NOT EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.tenant_id = tenant) THEN
        RAISE EXCEPTION 'tenant % does not exist', COALESCE(tenant::text, 'NULL')
            USING ERRCODE = 'P0002',
                  HINT = 'Name a tenant by its id, for example: SELECT aftersales.sample_data_checksum((SELECT tenant_id FROM aftersales.tenants WHERE name = ''demo''));';
    END IF;
    WITH tk AS (
        SELECT t.*, pg_catalog.row_number() OVER (ORDER BY t.ticket_id) AS rk
          FROM aftersales.tickets t WHERE t.tenant_id = tenant
    ), cu AS (
        SELECT c.*, pg_catalog.row_number() OVER (ORDER BY c.customer_id) AS rk
          FROM aftersales.customers c WHERE c.tenant_id = tenant
    ), rows_ (r) AS (
        SELECT pg_catalog.concat_ws('|', 'org', o.name, o.level, o.org_type, o.region, o.province, p.name)
          FROM aftersales.organisations o
          LEFT JOIN aftersales.organisations p ON p.tenant_id = o.tenant_id
                                              AND p.org_id = o.parent_id
         WHERE o.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'customer', c.rk, c.name, c.tier, c.region, c.province, c.city, o.name)
          FROM cu c LEFT JOIN aftersales.organisations o ON o.tenant_id = c.tenant_id
                                                        AND o.org_id = c.org_id
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'engineer', e.login, e.name, e.skills::text, e.region, e.capacity, o.name)
          FROM aftersales.engineers e JOIN aftersales.organisations o ON o.tenant_id = e.tenant_id
                                                                     AND o.org_id = e.org_id
         WHERE e.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'model', m.code, m.name, m.warranty_months, l.code)
          FROM aftersales.product_models m JOIN aftersales.product_lines l
            ON l.tenant_id = m.tenant_id AND l.product_line_id = m.product_line_id
         WHERE m.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'problem', p.code, p.name)
          FROM aftersales.problem_types p WHERE p.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'unit', u.serial, m.code, c.rk, pg_catalog.to_char(u.installed_on, 'YYYY-MM-DD'),
                                    pg_catalog.to_char(u.warranty_ends, 'YYYY-MM-DD'))
          FROM aftersales.units u
          JOIN aftersales.product_models m ON m.tenant_id = u.tenant_id AND m.model_id = u.model_id
          JOIN cu c ON c.customer_id = u.customer_id
         WHERE u.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'agreement', c.rk, sa.name, p.name, sa.valid::text)
          FROM aftersales.service_agreements sa
          JOIN cu c ON c.customer_id = sa.customer_id
          JOIN aftersales.sla_policies p ON p.tenant_id = sa.tenant_id AND p.policy_id = sa.policy_id
         WHERE sa.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'ticket', t.rk, t.channel, c.rk, u.serial, m.code, p.code, t.description, t.priority,
                                    extract(epoch FROM t.requested_at), o.name, t.field, t.tier, e.login, t.status,
                                    t.held_from, t.attempt_count, t.reopen_count,
                                    extract(epoch FROM t.opened_at), extract(epoch FROM t.first_response_at),
                                    extract(epoch FROM t.assigned_at), extract(epoch FROM t.arrived_at),
                                    extract(epoch FROM t.first_resolved_at), extract(epoch FROM t.resolved_at),
                                    extract(epoch FROM t.followed_up_at), extract(epoch FROM t.closed_at),
                                    extract(epoch FROM t.cancelled_at), t.satisfied, t.csat, t.nps,
                                    t.follow_up_comment, t.event_seq, t.last_event, extract(epoch FROM t.last_event_at),
                                    t.last_actor)
          FROM tk t
          JOIN cu c ON c.customer_id = t.customer_id
          JOIN aftersales.problem_types p ON p.tenant_id = t.tenant_id
                                         AND p.problem_type_id = t.problem_type_id
          LEFT JOIN aftersales.units u ON u.tenant_id = t.tenant_id AND u.unit_id = t.unit_id
          LEFT JOIN aftersales.product_models m ON m.tenant_id = t.tenant_id
                                               AND m.model_id = t.model_id
          LEFT JOIN aftersales.organisations o ON o.tenant_id = t.tenant_id AND o.org_id = t.org_id
          LEFT JOIN aftersales.engineers e ON e.tenant_id = t.tenant_id
                                          AND e.engineer_id = t.assignee_id
        UNION ALL
        -- the payload's ids (assignee, the clocks' policy and agreement) are
        -- replaced by the engineer's login; the clocks are hashed below
        SELECT pg_catalog.concat_ws('|', 'event', t.rk, v.seq, extract(epoch FROM v.at), v.actor, v.event, v.from_state,
                                    v.to_state, v.reason, (v.payload - '{assignee,sla,agreement,policy}'::text[])::text,
                                    e.login)
          FROM aftersales.ticket_events v
          JOIN tk t ON t.ticket_id = v.ticket_id
          LEFT JOIN aftersales.engineers e ON e.tenant_id = v.tenant_id
                                          AND e.engineer_id = (v.payload ->> 'assignee')::bigint
         WHERE v.tenant_id = tenant
        UNION ALL
        SELECT pg_catalog.concat_ws('|', 'clock', t.rk, s.metric, p.name, extract(epoch FROM s.target), s.calendar,
                                    s.pauses_on_hold, extract(epoch FROM s.started_at), extract(epoch FROM s.due_at),
                                    extract(epoch FROM s.paused), extract(epoch FROM s.paused_since),
                                    extract(epoch FROM s.stopped_at), s.outcome, extract(epoch FROM s.elapsed),
                                    extract(epoch FROM s.elapsed_wall), s.agreement_id IS NOT NULL)
          FROM aftersales.ticket_sla s
          JOIN tk t ON t.ticket_id = s.ticket_id
          JOIN aftersales.sla_policies p ON p.tenant_id = s.tenant_id AND p.policy_id = s.policy_id
         WHERE s.tenant_id = tenant
    )
    SELECT COALESCE(pg_catalog.sum(pg_catalog.hashtextextended(r, 0)::numeric + 9223372036854775808), 0)
               % m,
           COALESCE(pg_catalog.sum(pg_catalog.hashtextextended(r, 1)::numeric + 9223372036854775808), 0)
               % m
      INTO h1, h2
      FROM rows_;
    RETURN pg_catalog.lpad(pg_catalog.to_hex((h1 - 9223372036854775808)::bigint), 16, '0')
           ||
           pg_catalog.lpad(pg_catalog.to_hex((h2 - 9223372036854775808)::bigint), 16, '0');
END
$$;
COMMENT ON FUNCTION aftersales.sample_data_checksum(bigint) IS
  'Checksum (32 hex digits) of a tenant''s content: organisations, customers, engineers, products, units, agreements, tickets, their events and SLA clocks, by natural keys and ranks, never by surrogate id: equal for equal data in any database';

-- ---------------------------------------------------------------------------
-- The generator

CREATE FUNCTION aftersales._sample_error(message text, hint text, code text DEFAULT '22023') RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = message, ERRCODE = code, HINT = hint;
END
$$;
COMMENT ON FUNCTION aftersales._sample_error(text, text, text) IS 'Internal: the error for a bad argument of generate_sample_data';

-- The tickets (n of them, entered over the year in Asia/Shanghai time):
--   entry      a summer peak (density 1 - 0.3 cos 2 pi t: July about 1.9
--              times January), 87% between 08:00 and 20:00;
--   what       a unit chosen by model (two models fail most) and then by
--              age (8% early failures within 80 days of installation, 35%
--              for the new model HP-20N); 3% without a unit; the unit's
--              customer and province; 10 fault types, skewed;
--   priority   A 10%, B 35%, C 55% (key customers: 30 / 45 / 25);
--   channel    phone 38%, WeChat 20%, app 14%, web 10%, field 6%, email 5%,
--              walk-in 4%, other 3%; on-site service for 85% of faults
--              (25% of parameter problems, 5% of questions);
--   requested  35% carry a customer-requested date, 4 to 72 hours ahead.
-- Their life cycles, through the API:
--   2% have their priority raised; 1.8% are cancelled before assignment
--   and 0.6% after; 3.5% are transferred to technical support (15% of
--   those to R&D); assignment within minutes by day (7% take hours), at
--   08:30 the next morning for most B and C tickets entered at night; 10%
--   of tickets with a requested date are assigned after it and so locked
--   (seed 002), then taken over by the province's service manager, who
--   also locks 0.4% of tickets (3% for key customers) to step in; travel
--   of about two hours (longer in the west), work of about an hour; 8% are
--   held (waiting for a part or the customer, hours to days; 0.3% for
--   weeks); 9% of first handlings fail and a quarter of second ones, which
--   locks the ticket (seed 002, handled twice unresolved); follow-up calls
--   (回访) for 93% of resolved tickets, satisfied mostly, CSAT missing in
--   15% and NPS in 28%; an unsatisfied customer sends the ticket back to
--   assignment; 2.5% of closed tickets are reopened within a month.
-- Nothing happens after the end of the year: what would, is the backlog.
CREATE FUNCTION aftersales.generate_sample_data(tenant_name text, seed integer DEFAULT 1, tickets integer DEFAULT 2000,
                                                year integer DEFAULT 2026, progress integer DEFAULT 100000)
    RETURNS aftersales.sample_data_runs
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    example constant text := 'SELECT * FROM aftersales.generate_sample_data(''demo'', seed => 1, tickets => 2000, year => 2026);';
    n integer := tickets;
    s integer := seed;
    yr integer := year;
    started constant timestamptz := pg_catalog.clock_timestamp();
    old_tenant text := pg_catalog.current_setting('aftersales.tenant_id', true);
    prev aftersales.sample_data_runs;
    result aftersales.sample_data_runs;
    tid bigint;
    y0 date;
    cutoff timestamptz;
    ndays integer;
    sb bigint;
    w_total float8;
    cstarts float8[];
    mstarts float8[];
    pstarts float8[];
    chstarts constant float8[] := '{0,0.38,0.58,0.72,0.82,0.87,0.93,0.97}';
    channels constant text[] := '{phone,wechat,app,web,email,field,walk_in,other}';
    hold_reasons constant text[] := '{等待备件到货,等待客户确认上门时间}';
    fail_reasons constant text[] := '{备件型号不符，需重新申请,故障未能复现，需再次上门,需要专用工具}';
    resolutions constant text[] := '{更换启动电容,清洗冷凝器并补充冷媒,更换主控板,紧固接线端子,更新控制程序参数,更换温度传感器,调整安装并重新调试}';
    cancel_reasons constant text[] := '{客户已自行解决,重复报修,客户取消服务}';
    comments constant text[] := '{工程师很专业,上门及时,希望提前电话联系,维修时间太长,问题已解决，感谢}';
    r record;
    u float8[];
    t timestamptz;
    st aftersales.ticket_status;
    tk bigint;
    eng bigint;
    login text;
    manager text;
    agent text;
    v integer;
    b integer;
    x float8;
    loc timestamp;
    attempts integer;
    manual_locked boolean;
    sat boolean;
    zombie integer;
    cycle integer;
    fb integer;
    ei integer;
    score_csat integer;
    score_nps integer;
    remark text;
    events_n bigint;
    done integer := 0;
    batch constant integer := 5000;
BEGIN
    -- arguments
    IF tenant_name IS NULL OR pg_catalog.btrim(tenant_name) = '' THEN
        PERFORM aftersales._sample_error('tenant_name must not be empty',
            'Name the tenant to create, for example: ' || example, '22004');
    END IF;
    IF s IS NULL THEN
        PERFORM aftersales._sample_error('seed must not be null',
            'Any integer seeds the choices; the same seed gives the same data, for example: ' || example, '22004');
    END IF;
    IF n IS NULL OR n NOT BETWEEN 100 AND 10000000 THEN
        PERFORM aftersales._sample_error(pg_catalog.format('invalid number of sample tickets: %s', COALESCE(n::text, 'NULL')),
            'Ask for 100 to 10000000 tickets: 2000 load in seconds, 1000000 in about an hour; for example: ' || example);
    END IF;
    IF yr IS NULL OR yr NOT BETWEEN 2000 AND 2100 THEN
        PERFORM aftersales._sample_error(pg_catalog.format('invalid sample year: %s', COALESCE(yr::text, 'NULL')),
            'Years 2000 to 2100 are supported (the full holiday schedule is known for 2026), for example: ' || example);
    END IF;
    IF progress IS NULL OR progress < 0 THEN
        PERFORM aftersales._sample_error(pg_catalog.format('invalid progress interval: %s', COALESCE(progress::text, 'NULL')),
            'progress is how many tickets between two progress NOTICEs, 0 for none, for example: SELECT * FROM aftersales.generate_sample_data(''big'', tickets => 1000000, progress => 50000);');
    END IF;

    -- idempotent: the same call again returns what the first one built
    SELECT sr.* INTO prev FROM aftersales.sample_data_runs sr
      JOIN aftersales.tenants tn ON tn.tenant_id = sr.tenant_id
     WHERE tn.name = generate_sample_data.tenant_name;
    IF FOUND THEN
        IF prev.seed = s AND prev.tickets = n AND prev.year = yr THEN
            RAISE NOTICE 'tenant "%" already holds this sample data: nothing to do', tenant_name;
            RETURN prev;
        END IF;
        PERFORM aftersales._sample_error(
            pg_catalog.format('tenant "%s" already holds sample data of seed %s, %s tickets, year %s', tenant_name, prev.seed, prev.tickets, prev.year),
            'Use another tenant name, for example: SELECT * FROM aftersales.generate_sample_data(''demo2'', seed => 2);', '42710');
    END IF;
    IF EXISTS (SELECT FROM aftersales.tenants tn WHERE tn.name = tenant_name) THEN
        PERFORM aftersales._sample_error(pg_catalog.format('tenant "%s" already exists', tenant_name),
            'Sample data goes into a new tenant of its own; use another name, for example: ' || example, '42710');
    END IF;

    y0 := pg_catalog.make_date(yr, 1, 1);
    cutoff := pg_catalog.make_timestamptz(yr + 1, 1, 1, 0, 0, 0, 'Asia/Shanghai');
    ndays := pg_catalog.make_date(yr + 1, 1, 1) - y0;
    sb := s::bigint * 1000003;

    -- the tenant, its calendars and SLA policies (seed 001's targets,
    -- copied from tenant 1's shipped default policy)
    LOCK TABLE aftersales.tenants IN SHARE ROW EXCLUSIVE MODE;
    SELECT COALESCE(pg_catalog.max(tn.tenant_id), 1) + 1 INTO tid FROM aftersales.tenants tn;
    INSERT INTO aftersales.tenants (tenant_id, name) VALUES (tid, tenant_name);
    PERFORM pg_catalog.set_config('aftersales.tenant_id', tid::text, true);
    PERFORM aftersales.set_calendar('24x7', 'zone=Asia/Shanghai; mon-sun 00:00-24:00', 'Around the clock, China time', tid);
    PERFORM aftersales.set_calendar('cn-office', aftersales.sample_calendar(yr),
                                    pg_catalog.format('China office hours, %s holidays and make-up days', yr), tid);
    INSERT INTO aftersales.sla_policies (tenant_id, name, calendar, is_default, description)
    VALUES (tid, 'standard', 'cn-office', true, 'Seed 001 targets on office hours: the default'),
           (tid, 'key-account', '24x7', false, 'Seed 001 targets around the clock: key customers'' service agreements');
    INSERT INTO aftersales.sla_targets (tenant_id, policy_id, priority, metric, target, clock, pauses_on_hold)
    SELECT tid, p.policy_id, d.priority, d.metric, d.target, d.clock, d.pauses_on_hold
      FROM aftersales.sla_targets d
      JOIN aftersales.sla_policies dp ON dp.tenant_id = 1 AND dp.policy_id = d.policy_id
                                     AND dp.name = 'default'
     CROSS JOIN aftersales.sla_policies p
     WHERE d.tenant_id = 1 AND p.tenant_id = tid
     ORDER BY p.policy_id, d.priority, d.metric;

    -- geography: the six regions, 31 provinces and their weights (share of
    -- customers, hence of units and failures)
    CREATE TEMP TABLE sample_geo ON COMMIT DROP AS
    SELECT g.ord, g.region, g.province, g.weight, g.remote
      FROM (VALUES ( 1, '华东', '上海', 4.0, false), ( 2, '华东', '江苏', 8.0, false), ( 3, '华东', '浙江', 7.0, false),
                   ( 4, '华东', '安徽', 3.0, false), ( 5, '华东', '福建', 3.0, false), ( 6, '华东', '江西', 2.0, false),
                   ( 7, '华东', '山东', 6.0, false), ( 8, '华北', '北京', 4.0, false), ( 9, '华北', '天津', 2.0, false),
                   (10, '华北', '河北', 4.0, false), (11, '华北', '山西', 2.0, false), (12, '华北', '内蒙古', 1.0, true),
                   (13, '东北', '辽宁', 3.0, false), (14, '东北', '吉林', 1.5, false), (15, '东北', '黑龙江', 1.5, false),
                   (16, '中南', '河南', 5.0, false), (17, '中南', '湖北', 4.0, false), (18, '中南', '湖南', 3.0, false),
                   (19, '中南', '广东', 11.0, false), (20, '中南', '广西', 2.0, false), (21, '中南', '海南', 1.0, false),
                   (22, '西北', '陕西', 3.0, false), (23, '西北', '甘肃', 1.5, true), (24, '西北', '青海', 0.5, true),
                   (25, '西北', '宁夏', 0.5, true), (26, '西北', '新疆', 2.0, true), (27, '西南', '重庆', 3.0, false),
                   (28, '西南', '四川', 5.0, false), (29, '西南', '贵州', 1.5, false), (30, '西南', '云南', 2.0, false),
                   (31, '西南', '西藏', 0.5, true))
           AS g (ord, region, province, weight, remote);
    SELECT pg_catalog.sum(g.weight) INTO w_total FROM pg_temp.sample_geo g;

    -- organisations: HQ, regions, provinces (代表处), outlets
    INSERT INTO aftersales.organisations (tenant_id, level, org_type, name) VALUES (tid, 'hq', 'headquarters', '总部');
    INSERT INTO aftersales.organisations (tenant_id, parent_id, level, org_type, name, region)
    SELECT tid, (SELECT o.org_id FROM aftersales.organisations o WHERE o.tenant_id = tid AND o.level = 'hq'),
           'region', 'representative_office', rg.region || '大区', rg.region
      FROM (SELECT g.region, pg_catalog.min(g.ord) AS ord FROM pg_temp.sample_geo g GROUP BY g.region) rg
     ORDER BY rg.ord;
    INSERT INTO aftersales.organisations (tenant_id, parent_id, level, org_type, name, province)
    SELECT tid, o.org_id, 'province', 'representative_office', g.province || '代表处', g.province
      FROM pg_temp.sample_geo g
      JOIN aftersales.organisations o ON o.tenant_id = tid AND o.level = 'region'
                                     AND o.region = g.region
     ORDER BY g.ord;
    CREATE TEMP TABLE sample_outlets ON COMMIT DROP AS
    SELECT g.ord, g.province, g.weight, x.k, x.org_type, x.name, NULL::bigint AS org_id,
           1 + LEAST(4, 1 + pg_catalog.floor(g.weight / 3)::integer) AS serving,
           pg_catalog.count(*) OVER (PARTITION BY g.ord) AS outlets
      FROM pg_temp.sample_geo g
     CROSS JOIN LATERAL (
           SELECT 1 AS k, 'representative_office' AS org_type, g.province || '服务站' AS name
           UNION ALL
           SELECT 1 + d, 'dealer',
                  g.province || ('{东,西,南,北}'::text[])[d] || '区经销商'
             FROM pg_catalog.generate_series(1, LEAST(4, 1 + pg_catalog.floor(g.weight / 3)::integer)) d
           UNION ALL
           SELECT 6, 'supplier', g.province || '供应商服务点' WHERE g.weight >= 3) x;
    INSERT INTO aftersales.organisations (tenant_id, parent_id, level, org_type, name)
    SELECT tid, o.org_id, 'outlet', so.org_type, so.name
      FROM pg_temp.sample_outlets so
      JOIN aftersales.organisations o ON o.tenant_id = tid AND o.level = 'province'
                                     AND o.province = so.province
     ORDER BY so.ord, so.k;
    ANALYZE pg_temp.sample_outlets;
    UPDATE pg_temp.sample_outlets so SET org_id = o.org_id
      FROM aftersales.organisations o
     WHERE o.tenant_id = tid AND o.name = so.name;

    -- engineers: about n / 400, at least 60, spread over the outlets by
    -- province weight
    INSERT INTO aftersales.engineers (tenant_id, org_id, name, login, skills, region, capacity, phone)
    SELECT tid, e.org_id,
           ('{王,李,张,刘,陈,杨,黄,赵,吴,周,徐,孙,马,朱,胡,郭,何,高,林,罗}'::text[])[1 + pg_catalog.floor(aftersales._sample_u(s, e.g, 101) * 20)::integer]
           ||
           ('{伟,芳,娜,敏,静,强,磊,军,洋,勇,杰,涛,明,超,霞,平,刚,桂英,建华,志强,海燕,晓东,国平,文博}'::text[])[1 + pg_catalog.floor(aftersales._sample_u(s, e.g, 102) * 24)::integer],
           'eng' || pg_catalog.lpad(e.g::text, 5, '0'),
           pg_catalog.array_remove(ARRAY[
               ('{CMP,CHL,HP}'::text[])[1 + (e.g % 3)::integer],
               CASE WHEN aftersales._sample_u(s, e.g, 103) < 0.5
                    THEN ('{CMP,CHL,HP}'::text[])[1 + ((e.g + 1) % 3)::integer] END,
               CASE WHEN aftersales._sample_u(s, e.g, 104) < 0.6 THEN 'electrical' END,
               CASE WHEN aftersales._sample_u(s, e.g, 105) < 0.4 THEN 'refrigeration' END], NULL),
           e.region,
           6 + pg_catalog.floor(aftersales._sample_u(s, e.g, 106) * 7)::integer,
           '139' || pg_catalog.lpad(pg_catalog.floor(aftersales._sample_u(s, e.g, 107) * 100000000)::bigint::text, 8, '0')
      FROM (SELECT so.org_id, g.region, pg_catalog.row_number() OVER (ORDER BY so.ord, so.k, j.j) AS g
              FROM pg_temp.sample_outlets so
              JOIN pg_temp.sample_geo g ON g.ord = so.ord
             CROSS JOIN LATERAL pg_catalog.generate_series(1, GREATEST(1, pg_catalog.round(
                   GREATEST(60, n / 400) * so.weight
                   / w_total / so.outlets)::integer)) j (j)) e
     ORDER BY e.g;
    CREATE TEMP TABLE sample_org_engineers ON COMMIT DROP AS
    SELECT e.org_id, pg_catalog.array_agg(e.engineer_id ORDER BY e.engineer_id) AS engs,
           pg_catalog.array_agg(e.login ORDER BY e.engineer_id) AS logins
      FROM aftersales.engineers e WHERE e.tenant_id = tid GROUP BY e.org_id;

    -- customers: about n / 20, at least 120, by province weight
    CREATE TEMP TABLE sample_customers ON COMMIT DROP AS
    SELECT c.g, c.ord, c.province, c.region, c.tier,
           CASE WHEN c.tier = 'key' THEN c.station ELSE c.dealer END AS org_id,
           CASE c.tier WHEN 'key' THEN 3.0 WHEN 'major' THEN 1.5 ELSE 1.0 END::float8 AS w,
           NULL::bigint AS customer_id
      FROM (SELECT x.g, x.ord, x.province, x.region,
                   CASE WHEN aftersales._sample_u(s, x.g, 201) < 0.05 THEN 'key'
                        WHEN aftersales._sample_u(s, x.g, 201) < 0.20 THEN 'major'
                        ELSE 'standard' END AS tier,
                   (SELECT so.org_id FROM pg_temp.sample_outlets so WHERE so.ord = x.ord AND so.k = 1) AS station,
                   (SELECT so.org_id FROM pg_temp.sample_outlets so
                     WHERE so.ord = x.ord
                       AND so.k = 1 + pg_catalog.floor(aftersales._sample_u(s, x.g, 202) * so.serving)::integer) AS dealer
              FROM (SELECT g.ord, g.province, g.region, pg_catalog.row_number() OVER (ORDER BY g.ord, j.j) AS g
                      FROM pg_temp.sample_geo g
                     CROSS JOIN LATERAL pg_catalog.generate_series(1, GREATEST(2, pg_catalog.round(
                           GREATEST(400, n / 10) * g.weight / w_total)::integer)) j (j)) x) c;
    WITH named AS (
        SELECT c.g, c.province ||
               ('{华,盛,鑫,宏,恒,泰,达,丰,远,新,金,通,隆,海,嘉,正,永,东,瑞,安}'::text[])[1 + pg_catalog.floor(aftersales._sample_u(s, c.g, 203) * 20)::integer]
               ||
               ('{机械,电子,食品,医药,化工,纺织,物流,能源,建材,汽配,酒店,医院}'::text[])[1 + pg_catalog.floor(aftersales._sample_u(s, c.g, 204) * 12)::integer]
               || '有限公司' AS name
          FROM pg_temp.sample_customers c
    )
    INSERT INTO aftersales.customers (tenant_id, name, tier, region, province, org_id, contact_name, contact_phone)
    SELECT tid,
           CASE WHEN k.dup = 1 THEN k.name ELSE k.name || '第' || k.dup || '分公司' END,
           c.tier, c.region, c.province, c.org_id,
           ('{王,李,张,刘,陈,杨,黄,赵,吴,周}'::text[])[1 + pg_catalog.floor(aftersales._sample_u(s, c.g, 205) * 10)::integer]
               || '经理',
           '138' || pg_catalog.lpad(pg_catalog.floor(aftersales._sample_u(s, c.g, 206) * 100000000)::bigint::text, 8, '0')
      FROM pg_temp.sample_customers c
      JOIN (SELECT nm.g, nm.name, pg_catalog.row_number() OVER (PARTITION BY nm.name ORDER BY nm.g) AS dup FROM named nm) k
        ON k.g = c.g
     ORDER BY c.g;
    ANALYZE pg_temp.sample_customers;
    UPDATE pg_temp.sample_customers c SET customer_id = x.customer_id
      FROM (SELECT cu.customer_id, pg_catalog.row_number() OVER (ORDER BY cu.customer_id) AS g
              FROM aftersales.customers cu WHERE cu.tenant_id = tid) x
     WHERE x.g = c.g;
    SELECT pg_catalog.array_agg(c.start ORDER BY c.g) INTO cstarts
      FROM (SELECT sc.g, (pg_catalog.sum(sc.w) OVER (ORDER BY sc.g) - sc.w)
                         / pg_catalog.sum(sc.w) OVER () AS start
              FROM pg_temp.sample_customers sc) c;
    -- key customers have a 24x7 service agreement (服务协议)
    INSERT INTO aftersales.service_agreements (tenant_id, customer_id, policy_id, name, valid, terms, service_items, charging)
    SELECT tid, c.customer_id, p.policy_id,
           pg_catalog.format('SA-%s-%s', yr, pg_catalog.lpad(c.g::text, 5, '0')),
           pg_catalog.daterange((y0 - 365), (y0 + 730)),
           '7x24 小时响应，重点客户专属工程师', '{上门维修,定期巡检,备件优先}', '年度服务费，备件另计'
      FROM pg_temp.sample_customers c
      JOIN aftersales.sla_policies p ON p.tenant_id = tid AND p.name = 'key-account'
     WHERE c.tier = 'key'
     ORDER BY c.g;

    -- products: 3 lines, 10 models (install share, failure weight)
    INSERT INTO aftersales.product_lines (tenant_id, code, name, description)
    VALUES (tid, 'CMP', '商用压缩机', 'Commercial compressors'),
           (tid, 'CHL', '冷水机组', 'Water chillers'),
           (tid, 'HP', '空气源热泵', 'Air-source heat pumps');
    CREATE TEMP TABLE sample_models ON COMMIT DROP AS
    SELECT m.midx, m.line, m.code, m.name, m.warranty, m.launch, m.share, m.fail,
           (pg_catalog.make_date(yr + 1, 1, 1) - m.launch) AS span,
           NULL::bigint AS model_id, 0 AS units
      FROM (VALUES ( 1, 'CMP', 'CMP-110', '涡旋压缩机 110', 24, pg_catalog.make_date(yr - 4, 1, 1), 14.0, 10.0),
                   ( 2, 'CMP', 'CMP-220', '螺杆压缩机 220', 24, pg_catalog.make_date(yr - 4, 1, 1), 12.0, 22.0),
                   ( 3, 'CMP', 'CMP-350', '螺杆压缩机 350', 36, pg_catalog.make_date(yr - 3, 1, 1),  8.0,  6.0),
                   ( 4, 'CHL', 'CHL-50',  '风冷冷水机组 50RT', 12, pg_catalog.make_date(yr - 4, 1, 1), 12.0,  9.0),
                   ( 5, 'CHL', 'CHL-80',  '风冷冷水机组 80RT', 12, pg_catalog.make_date(yr - 4, 1, 1), 10.0,  8.0),
                   ( 6, 'CHL', 'CHL-120X', '水冷冷水机组 120RT', 24, pg_catalog.make_date(yr - 2, 1, 1),  8.0, 20.0),
                   ( 7, 'HP',  'HP-10',   '热泵 10P', 12, pg_catalog.make_date(yr - 4, 1, 1), 12.0,  6.0),
                   ( 8, 'HP',  'HP-16',   '热泵 16P', 12, pg_catalog.make_date(yr - 3, 1, 1), 10.0,  5.0),
                   ( 9, 'HP',  'HP-20N',  '变频热泵 20P（新品）', 24, pg_catalog.make_date(yr - 1, 7, 1),  8.0, 12.0),
                   (10, 'HP',  'HP-30',   '热泵 30P', 36, pg_catalog.make_date(yr - 2, 1, 1),  6.0,  2.0))
           AS m (midx, line, code, name, warranty, launch, share, fail);
    INSERT INTO aftersales.product_models (tenant_id, product_line_id, code, name, warranty_months)
    SELECT tid, l.product_line_id, m.code, m.name, m.warranty
      FROM pg_temp.sample_models m
      JOIN aftersales.product_lines l ON l.tenant_id = tid AND l.code = m.line
     ORDER BY m.midx;
    UPDATE pg_temp.sample_models m
       SET model_id = pm.model_id,
           units = GREATEST(5, pg_catalog.round(GREATEST(1000, n / 3) * m.share / 100)::integer)
      FROM aftersales.product_models pm
     WHERE pm.tenant_id = tid AND pm.code = m.code;
    SELECT pg_catalog.array_agg(x.start ORDER BY x.midx) INTO mstarts
      FROM (SELECT m.midx, (pg_catalog.sum(m.fail) OVER (ORDER BY m.midx) - m.fail)
                           / pg_catalog.sum(m.fail) OVER () AS start
              FROM pg_temp.sample_models m) x;

    -- installed units: unit r of a model was installed at launch + span *
    -- (r - 0.5) / units, so that how many were installed by a date is known
    -- in closed form when a ticket picks one
    CREATE TEMP TABLE sample_units ON COMMIT DROP AS
    SELECT x.*, x.code || '-' || pg_catalog.to_char(x.installed_on, 'YYMM') || pg_catalog.lpad(x.r::text, 6, '0') AS serial
      FROM (
    SELECT m.midx, rr.r, c.customer_id, c.org_id, c.tier, m.code, m.warranty, m.model_id,
           m.launch + pg_catalog.floor(m.span * (rr.r - 0.5) / m.units)::integer AS installed_on,
           NULL::bigint AS unit_id
      FROM pg_temp.sample_models m
     CROSS JOIN LATERAL pg_catalog.generate_series(1, m.units) rr (r)
      JOIN pg_temp.sample_customers c
        ON c.g = pg_catalog.width_bucket(aftersales._sample_u(s, m.midx::bigint * 10000000 + rr.r, 301), cstarts)) x;
    ANALYZE pg_temp.sample_units;
    INSERT INTO aftersales.units (tenant_id, model_id, customer_id, serial, installed_on, warranty_ends, org_id)
    SELECT tid, su.model_id, su.customer_id, su.serial, su.installed_on,
           CASE WHEN su.tier = 'key'   -- key customers buy a year more
                THEN (su.installed_on + pg_catalog.make_interval(months => su.warranty + 12))::date - 1 END,
           su.org_id
      FROM pg_temp.sample_units su
     ORDER BY su.midx, su.r;
    UPDATE pg_temp.sample_units su SET unit_id = un.unit_id
      FROM aftersales.units un
     WHERE un.tenant_id = tid AND un.model_id = su.model_id AND un.serial = su.serial;
    CREATE INDEX ON pg_temp.sample_units (midx, r);
    ANALYZE pg_temp.sample_units;

    -- fault types (weight, share needing on-site service)
    CREATE TEMP TABLE sample_problems ON COMMIT DROP AS
    SELECT p.pidx, p.code, p.name, p.weight, p.field, NULL::bigint AS problem_type_id
      FROM (VALUES ( 1, 'E01', '不制冷/不制热', 22.0, 0.85), ( 2, 'E02', '异响振动', 14.0, 0.85),
                   ( 3, 'E03', '漏水漏氟', 12.0, 0.85), ( 4, 'E04', '无法启动', 11.0, 0.85),
                   ( 5, 'E05', '控制板故障', 10.0, 0.85), ( 6, 'E06', '电气故障', 9.0, 0.85),
                   ( 7, 'E07', '传感器报警', 8.0, 0.85), ( 8, 'E08', '参数设置问题', 6.0, 0.25),
                   ( 9, 'E09', '安装调试', 5.0, 0.85), (10, 'E10', '操作咨询', 3.0, 0.05))
           AS p (pidx, code, name, weight, field);
    INSERT INTO aftersales.problem_types (tenant_id, code, name)
    SELECT tid, p.code, p.name FROM pg_temp.sample_problems p ORDER BY p.pidx;
    UPDATE pg_temp.sample_problems p SET problem_type_id = pt.problem_type_id
      FROM aftersales.problem_types pt
     WHERE pt.tenant_id = tid AND pt.code = p.code;
    SELECT pg_catalog.array_agg(x.start ORDER BY x.pidx) INTO pstarts
      FROM (SELECT p.pidx, (pg_catalog.sum(p.weight) OVER (ORDER BY p.pidx) - p.weight)
                           / pg_catalog.sum(p.weight) OVER () AS start
              FROM pg_temp.sample_problems p) x;

    -- the tickets: entry and what they are about, set-based
    CREATE TEMP TABLE sample_plan ON COMMIT DROP AS
    WITH d AS (
        SELECT i.i,
               ARRAY(SELECT LEAST(GREATEST((pg_catalog.hashint8extended(i.i, sb + k) & 9007199254740991)::float8
                                           / 9007199254740992.0, 1e-9), 1 - 1e-9)
                       FROM pg_catalog.generate_series(1, 16) k) AS u
          FROM pg_catalog.generate_series(1, n) i (i)
    ), e AS (
        SELECT d.i, d.u, x.day, y0 + x.day AS entry_date,
               ((y0 + x.day)::timestamp
                 + pg_catalog.make_interval(
                     mins => CASE WHEN d.u[2] < 0.87
                                  THEN 480 + pg_catalog.floor(d.u[3] * 720)::integer
                                  ELSE pg_catalog.floor(d.u[3] * 1440)::integer END,
                     secs => pg_catalog.floor(d.u[4] * 60)))
                 AT TIME ZONE 'Asia/Shanghai' AS opened_at,
               pg_catalog.width_bucket(d.u[5], mstarts) AS midx,
               pg_catalog.width_bucket(d.u[9], pstarts) AS pidx
          FROM d
         CROSS JOIN LATERAL (
               SELECT LEAST(ndays - 1, pg_catalog.floor(ndays * (x0 + 0.3 / (2 * pg_catalog.pi())
                             * pg_catalog.sin(2 * pg_catalog.pi() * x0)))::integer) AS day
                 FROM (SELECT (d.i - 1 + d.u[1]) / n AS x0) z) x
    ), pick AS (
        SELECT e.*, m.code AS model_code, m.model_id, m.name AS model_name, m.units,
               LEAST(m.units, GREATEST(0, pg_catalog.floor(m.units * (e.entry_date - m.launch)::float8
                                                           / m.span + 0.5)::integer)) AS rmax,
               LEAST(m.units, GREATEST(0, pg_catalog.floor(m.units * (e.entry_date - 80 - m.launch)::float8
                                                           / m.span + 0.5)::integer)) AS rearly,
               e.u[6] < CASE WHEN m.code = 'HP-20N' THEN 0.35 ELSE 0.08 END AS early
          FROM e JOIN pg_temp.sample_models m ON m.midx = e.midx
    ), unit_pick AS (
        SELECT p.*,
               CASE WHEN p.u[7] < 0.03 OR p.rmax < 1 THEN NULL
                    WHEN p.early AND p.rmax > p.rearly
                    THEN p.rearly + 1 + pg_catalog.floor(p.u[8] * (p.rmax - p.rearly))::integer
                    ELSE 1 + pg_catalog.floor(p.u[8] * p.rmax)::integer END AS r
          FROM pick p
    )
    SELECT up.i, up.opened_at, up.model_id, up.model_code, su.unit_id,
           COALESCE(su.customer_id, c.customer_id) AS customer_id,
           COALESCE(cs.tier, c.tier) AS tier,
           g.province, g.remote,
           CASE WHEN m.line = 'HP' AND up.u[15] < 0.4 AND sup.org_id IS NOT NULL
                THEN sup.org_id ELSE COALESCE(cs.org_id, c.org_id) END AS org_id,
           pr.problem_type_id,
           CASE WHEN COALESCE(cs.tier, c.tier) = 'key'
                THEN CASE WHEN up.u[10] < 0.30 THEN 'A' WHEN up.u[10] < 0.75 THEN 'B' ELSE 'C' END
                ELSE CASE WHEN up.u[10] < 0.10 THEN 'A' WHEN up.u[10] < 0.45 THEN 'B' ELSE 'C' END
           END::aftersales.priority AS priority,
           channels[pg_catalog.width_bucket(up.u[11], chstarts)] AS channel,
           up.u[12] < pr.field AS field,
           CASE WHEN up.u[13] < 0.35
                THEN up.opened_at + pg_catalog.make_interval(mins => 240 + 30 * pg_catalog.floor(up.u[14] * 137)::integer) END
               AS requested_at,
           pr.name || '：' || up.model_name ||
               ('{，客户来电报修,，设备停机,，间歇性发生,，影响生产,，已持续两天,，报警代码闪烁}'::text[])[1 + pg_catalog.floor(up.u[16] * 6)::integer]
               AS description,
           pg_catalog.row_number() OVER (ORDER BY up.opened_at, up.i) AS nrank,
           NULL::bigint AS ticket_id
      FROM unit_pick up
      JOIN pg_temp.sample_models m ON m.midx = up.midx
      JOIN pg_temp.sample_problems pr ON pr.pidx = up.pidx
      LEFT JOIN pg_temp.sample_units su ON su.midx = up.midx AND su.r = up.r
      LEFT JOIN pg_temp.sample_customers cs ON cs.customer_id = su.customer_id
      LEFT JOIN pg_temp.sample_customers c ON su.unit_id IS NULL AND c.g = pg_catalog.width_bucket(up.u[8], cstarts)
      JOIN pg_temp.sample_geo g ON g.ord = COALESCE(cs.ord, c.ord)
      LEFT JOIN pg_temp.sample_outlets sup ON sup.ord = g.ord AND sup.org_type = 'supplier';
    CREATE UNIQUE INDEX ON pg_temp.sample_plan (nrank);
    ANALYZE pg_temp.sample_plan;

    -- entry through open_tickets, in batches, in time order
    FOR k IN 0 .. (n - 1) / batch LOOP
        WITH ids AS (
            SELECT x.id, x.ord
              FROM aftersales.open_tickets(
                       (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                   'customer', p.customer_id, 'problem_type', p.problem_type_id, 'priority', p.priority,
                                   'description', p.description, 'channel', p.channel, 'unit', p.unit_id, 'model', p.model_id,
                                   'requested_at', p.requested_at, 'field', p.field, 'org', p.org_id, 'opened_at', p.opened_at)
                                ORDER BY p.nrank)
                          FROM pg_temp.sample_plan p
                         WHERE p.nrank > k * batch
                           AND p.nrank <= (k + 1) * batch),
                       actor => 'callcenter', at => y0::timestamp AT TIME ZONE 'Asia/Shanghai')
                   WITH ORDINALITY AS x (id, ord)
        )
        UPDATE pg_temp.sample_plan p SET ticket_id = ids.id
          FROM ids WHERE p.nrank = k * batch + ids.ord;
        IF k % 10 = 0 THEN
            -- the triggers' cached plans were made for empty tables: as the
            -- tables grow, statistics (which count this transaction's rows)
            -- make them plan again, or each batch would cost more than the last
            ANALYZE aftersales.tickets, aftersales.ticket_events, aftersales.ticket_sla, aftersales.occurrences,
                    aftersales.escalation_watches, aftersales.alerts, aftersales.ticket_escalations;
        END IF;
    END LOOP;
    -- Statistics, now that the tables are full: the triggers' cached plans
    -- were made for empty tables, and are made again (ANALYZE invalidates
    -- them) for what is there; it counts this transaction's rows.
    ANALYZE aftersales.tickets, aftersales.ticket_events, aftersales.ticket_sla, aftersales.occurrences,
            aftersales.escalation_watches, aftersales.alerts, aftersales.ticket_escalations;
    IF progress > 0 AND n >= progress THEN
        RAISE NOTICE 'sample data: % tickets entered after % s', n,
            pg_catalog.round(EXTRACT(EPOCH FROM pg_catalog.clock_timestamp() - started)::numeric, 1);
    END IF;

    -- the life cycles, ticket by ticket, event by event, through the API.
    -- Draws (u[1..160] per ticket): 1-16 entry (the plan above), 19-27
    -- the first minutes, 40 + 15 v .. 54 + 15 v visit v (v <= 3), 100-128
    -- the follow-up, 130-158 the follow-up after a revisit.
    FOR r IN SELECT p.nrank, p.ticket_id, p.opened_at,
                    ARRAY(SELECT LEAST(GREATEST((pg_catalog.hashint8extended(p.i, sb + k) & 9007199254740991)::float8
                                                / 9007199254740992.0, 1e-9), 1 - 1e-9)
                            FROM pg_catalog.generate_series(1, 160) k) AS u, p.priority, p.tier, p.field, p.requested_at,
                    p.province, p.remote, oe.engs, oe.logins
               FROM pg_temp.sample_plan p
               JOIN pg_temp.sample_org_engineers oe ON oe.org_id = p.org_id
              ORDER BY p.nrank
    LOOP
        tk := r.ticket_id;
        u := r.u;
        t := r.opened_at;
        st := 'new';
        manager := 'manager:' || r.province;
        agent := 'agent:cs' || lpad((1 + floor(u[19] * 12))::integer::text, 2, '0');
        attempts := 0;
        manual_locked := false;
        v := 0;
        cycle := 0;
        -- 1.2% get stuck for good: on hold for a discontinued part, with
        -- R&D and never assigned, assigned and never started, locked after
        -- two failed handlings and never taken over
        zombie := CASE WHEN u[28] >= 0.012 THEN 0 WHEN u[29] < 0.3 THEN 1 WHEN u[29] < 0.55 THEN 2
                       WHEN u[29] < 0.8 THEN 3 ELSE 4 END;
        <<life>>
        BEGIN
            IF u[20] < 0.02 AND r.priority <> 'A' THEN          -- the customer presses: priority up
                t := t + make_interval(secs => floor(60 + u[21] * 540));
                EXIT life WHEN t >= cutoff;
                PERFORM aftersales.set_priority(tk, CASE r.priority WHEN 'C' THEN 'B' ELSE 'A' END::aftersales.priority,
                                                '客户要求加急', actor => agent, at => t);
            END IF;
            IF u[22] < 0.018 THEN                                -- cancelled before assignment
                t := t + make_interval(secs => floor(300 + u[23] * 36000));
                EXIT life WHEN t >= cutoff;
                PERFORM aftersales.cancel_ticket(tk, cancel_reasons[1 + floor(u[24] * 3)::integer], actor => agent, at => t);
                EXIT life;
            END IF;
            IF u[25] < 0.035 OR zombie = 2 THEN                  -- needs a specialist
                t := t + make_interval(secs => floor(180 + u[26] * 2400));
                EXIT life WHEN t >= cutoff;
                PERFORM aftersales.transfer_ticket(tk, CASE WHEN u[27] < 0.15 OR zombie = 2 THEN 'rnd' ELSE 'technical_support' END::aftersales.ticket_tier,
                                                   '需要技术支持工程师判断', actor => agent, at => t);
                EXIT life WHEN zombie = 2;
            END IF;

            LOOP                                                 -- visits, until closed
                EXIT life WHEN v > 5;
                b := 40 + 15 * v;
                ei := 1 + floor(u[b + 3] * cardinality(r.engs))::integer;
                eng := r.engs[ei];
                login := r.logins[ei];
                IF st = 'locked' THEN                            -- the service manager takes over
                    EXIT life WHEN zombie = 4;
                    t := t + make_interval(secs => floor(900 + u[b + 11] * 14400));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.take_over_ticket(tk, eng, '服务经理接管并指派', actor => manager, at => t);
                ELSE
                    IF v > 0 THEN                                -- another visit, hours later
                        x := 60 + u[b] * 1200;
                    ELSIF r.requested_at IS NOT NULL AND u[b + 1] < 0.10 THEN
                        -- dispatched after the customer's requested date
                        x := extract(epoch FROM r.requested_at - t) / 60 + 10 + u[b + 2] * 170;
                    ELSE
                        loc := t AT TIME ZONE 'Asia/Shanghai';
                        IF (extract(hour FROM loc) < 8 OR extract(hour FROM loc) >= 20) AND r.priority <> 'A' AND u[b + 2] < 0.6 THEN
                            -- entered at night: the morning shift, from 08:30
                            x := extract(epoch FROM date_trunc('day', loc - interval '8 hours 30 minutes')
                                                    + interval '1 day 8 hours 30 minutes' - loc) / 60 + u[b] * 30;
                        ELSE
                            x := CASE WHEN u[b] < 0.80 THEN 1 + u[b] / 0.80 * 6
                                      WHEN u[b] < 0.95 THEN 7 + (u[b] - 0.80) / 0.15 * 50
                                      ELSE 57 + (u[b] - 0.95) / 0.05 * 300 END;
                            IF r.priority = 'A' THEN
                                x := x / 2;
                            END IF;
                        END IF;
                    END IF;
                    t := t + make_interval(secs => floor(x * 60));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.assign_ticket(tk, eng, actor => 'dispatcher', at => t);
                    IF st = 'locked' THEN                        -- assigned too late (seed 002)
                        t := t + make_interval(secs => floor(900 + u[b + 11] * 14400));
                        EXIT life WHEN t >= cutoff;
                        st := aftersales.take_over_ticket(tk, eng, '服务经理接管并指派', actor => manager, at => t);
                    END IF;
                END IF;
                EXIT life WHEN zombie = 3;

                t := t + make_interval(secs => floor(30 + u[b + 4] * 240));
                EXIT life WHEN t >= cutoff;
                st := aftersales.start_work(tk, actor => login, at => t);
                x := CASE WHEN r.tier = 'key' THEN 0.03 ELSE 0.004 END;
                IF v = 0 AND NOT manual_locked AND u[b + 13] < x THEN
                    manual_locked := true;                       -- the manager steps in
                    t := t + make_interval(secs => floor(600 + u[b + 14] * 3600));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.lock_ticket(tk, '重点客户投诉，服务经理介入', actor => manager, at => t);
                    CONTINUE;
                END IF;
                IF v = 0 AND u[b + 10] < 0.006 THEN              -- cancelled while in work
                    t := t + make_interval(secs => floor(600 + u[b + 14] * 6600));
                    EXIT life WHEN t >= cutoff;
                    PERFORM aftersales.cancel_ticket(tk, cancel_reasons[1 + floor(u[24] * 3)::integer], actor => agent, at => t);
                    EXIT life;
                END IF;
                IF r.field THEN                                  -- travel
                    x := 120 * exp(0.36 * ln(u[b + 5] / (1 - u[b + 5])));
                    IF r.remote THEN
                        x := x * 1.8;
                    END IF;
                    t := t + make_interval(secs => floor(x * 60));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.arrive_on_site(tk, actor => login, at => t);
                END IF;
                IF cycle = 0 AND (u[b + 6] < 0.08 OR zombie = 1) THEN  -- waiting for a part or the customer
                    t := t + make_interval(secs => floor(300 + u[b + 14] * 2700));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.hold_ticket(tk, CASE WHEN zombie = 1 THEN '备件停产，等待替代件'
                                                          ELSE hold_reasons[CASE WHEN u[b + 8] < 0.6 THEN 1 ELSE 2 END] END,
                                                 actor => login, at => t);
                    EXIT life WHEN zombie = 1;
                    x := CASE WHEN u[b + 7] < 0.04 THEN 28800 + u[b + 9] * 100000       -- weeks: a discontinued part
                              WHEN u[b + 8] < 0.6 THEN 240 + u[b + 7] * 6960
                              ELSE 60 + u[b + 7] * 2820 END;
                    t := t + make_interval(secs => floor(x * 60));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.resume_ticket(tk, actor => login, at => t);
                END IF;
                x := CASE WHEN r.field THEN 75 ELSE 25 END * exp(0.36 * ln(u[b + 12] / (1 - u[b + 12])));
                t := t + make_interval(secs => floor(x * 60));
                EXIT life WHEN t >= cutoff;
                IF cycle = 0 AND (zombie = 4 OR (attempts = 0 AND u[b + 9] < 0.09) OR (attempts = 1 AND u[b + 9] < 0.25)) THEN
                    -- the handling failed: back to assignment, or locked after the second (seed 002)
                    st := aftersales.fail_attempt(tk, fail_reasons[1 + floor(u[b + 14] * 3)::integer], actor => login, at => t);
                    attempts := attempts + 1;
                    v := v + 1;
                    CONTINUE;
                END IF;
                st := aftersales.resolve_ticket(tk, resolutions[1 + floor(u[b + 10] * 7)::integer], actor => login, at => t);

                -- the follow-up call (回访)
                fb := CASE WHEN cycle = 0 THEN 100 ELSE 130 END;
                EXIT life WHEN cycle = 0 AND u[fb + 27] >= 0.93;  -- never called back: stays resolved
                t := t + make_interval(secs => floor(14400 + u[fb + 28] * 244800));
                EXIT life WHEN t >= cutoff;
                sat := cycle > 0 OR u[fb + 2] < CASE WHEN t - r.opened_at > interval '72 hours' THEN 0.85 ELSE 0.96 END;
                score_csat := CASE WHEN u[fb + 4] < 0.15 THEN NULL
                                   WHEN sat THEN CASE WHEN u[fb + 3] < 0.58 THEN 5 WHEN u[fb + 3] < 0.90 THEN 4 ELSE 3 END
                                   ELSE CASE WHEN u[fb + 3] < 0.40 THEN 1 WHEN u[fb + 3] < 0.75 THEN 2 ELSE 3 END END;
                score_nps := CASE WHEN u[fb + 6] < 0.28 THEN NULL
                                  WHEN sat THEN ('{10,10,10,10,9,9,9,8,8,7,6,5}'::integer[])[1 + floor(u[fb + 5] * 12)::integer]
                                  ELSE floor(u[fb + 5] * 7)::integer END;
                remark := CASE WHEN u[fb + 7] >= 0.35 THEN NULL
                               WHEN sat THEN comments[1 + floor(u[fb + 8] * 3)::integer]
                               WHEN u[fb + 8] < 0.5 THEN comments[4] ELSE comments[3] END;
                st := aftersales.follow_up(tk, sat, score_csat, score_nps, remark, actor => agent, at => t);
                IF st = 'new' THEN                               -- not satisfied: back to assignment
                    cycle := cycle + 1;
                    v := v + 1;
                    CONTINUE;
                END IF;
                IF cycle = 0 AND u[fb + 9] < 0.025 THEN          -- the fault comes back
                    t := t + make_interval(secs => floor(259200 + u[fb + 10] * 2332800));
                    EXIT life WHEN t >= cutoff;
                    st := aftersales.reopen_ticket(tk, '故障复发，客户再次报修', actor => agent, at => t);
                    cycle := cycle + 1;
                    v := v + 1;
                    CONTINUE;
                END IF;
                EXIT life;
            END LOOP;
        END;
        done := done + 1;
        IF done % 200000 = 0 THEN   -- the event log grows sevenfold meanwhile
            ANALYZE aftersales.ticket_events, aftersales.alerts, aftersales.ticket_escalations;
        END IF;
        IF progress > 0 AND done % progress = 0 THEN
            RAISE NOTICE 'sample data: % of % tickets through their life cycle after % s', done, n,
                round(extract(epoch FROM clock_timestamp() - started)::numeric, 1);
        END IF;
    END LOOP;

    -- a bulk load leaves the planner blind until autovacuum comes by: the
    -- KPI queries right after it would plan for empty tables
    ANALYZE aftersales.organisations, aftersales.customers, aftersales.engineers, aftersales.product_models,
            aftersales.units, aftersales.problem_types, aftersales.service_agreements, aftersales.sla_policies,
            aftersales.calendars, aftersales.tickets, aftersales.ticket_events, aftersales.ticket_sla,
            aftersales.occurrences, aftersales.escalation_watches, aftersales.alerts, aftersales.ticket_escalations;
    SELECT count(*) INTO events_n FROM aftersales.ticket_events ev WHERE ev.tenant_id = tid;
    INSERT INTO aftersales.sample_data_runs AS sr (tenant_id, tenant_name, seed, tickets, year, events, started_at, seconds, checksum)
    VALUES (tid, generate_sample_data.tenant_name, s, n, yr, events_n, started,
            round(extract(epoch FROM clock_timestamp() - started)::numeric, 1),
            aftersales.sample_data_checksum(tid))
    RETURNING sr.* INTO result;
    PERFORM set_config('aftersales.tenant_id', COALESCE(old_tenant, ''), true);
    DROP TABLE pg_temp.sample_geo, pg_temp.sample_outlets, pg_temp.sample_customers, pg_temp.sample_models,
               pg_temp.sample_units, pg_temp.sample_problems, pg_temp.sample_plan, pg_temp.sample_org_engineers;
    RETURN result;
END
$$;
COMMENT ON FUNCTION aftersales.generate_sample_data(text, integer, integer, integer, integer) IS
  'Builds a new tenant with a realistic company (HQ, six regions, 31 provinces, outlets of the three organisation types, engineers, customers, products, installed units, China''s calendar, seed 001''s SLA policies) and drives a year of its tickets through the ticket API; deterministic for a seed; idempotent for the same arguments; returns the run (events, seconds, checksum)';
REVOKE ALL ON FUNCTION aftersales.generate_sample_data(text, integer, integer, integer, integer) FROM PUBLIC;
-- It reads a whole tenant, whoever calls: granted on purpose only.
REVOKE ALL ON FUNCTION aftersales.sample_data_checksum(bigint) FROM PUBLIC;
