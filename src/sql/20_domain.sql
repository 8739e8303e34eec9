
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
CREATE FUNCTION aftersales_internal.organisation_check() RETURNS trigger
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
COMMENT ON FUNCTION aftersales_internal.organisation_check() IS
  'Trigger: an organisation''s parent is on a higher level; region and province are inherited from it';
CREATE TRIGGER organisation_check
    BEFORE INSERT OR UPDATE ON aftersales.organisations
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.organisation_check();

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

-- Occurrence counts (entering a request adds one to the count of
-- its product and of its problem type) are kept as insert-only deltas, one
-- row per entering statement and key, summed by the view below.  A counter
-- column updated in place would make concurrent entries on one model wait
-- for each other's commit, and a long transaction entering many tickets
-- pile up versions of the same few rows; deltas do neither and cannot lose
-- an increment.  compact_occurrences() folds them, any time, concurrently.
-- Its row rules are one CHECK calling C, as for tickets (30_tickets.sql).
CREATE FUNCTION aftersales_internal.occurrences_row_check(model_id bigint, problem_type_id bigint, n bigint)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'aftersales_occurrences_row_check' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION aftersales_internal.occurrences_row_check(bigint, bigint, bigint) IS
  'Internal: CHECK occurrences_row_check: exactly one of model and problem type, n not 0 (negative when an edit moved a ticket away); raises check_violation naming the rule';

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
    -- exactly one of model_id and problem_type_id; n not 0
    CONSTRAINT occurrences_row_check CHECK (aftersales_internal.occurrences_row_check(model_id, problem_type_id, n))
);
CREATE INDEX occurrences_model_idx ON aftersales.occurrences (tenant_id, model_id) WHERE model_id IS NOT NULL;
CREATE INDEX occurrences_problem_type_idx ON aftersales.occurrences (tenant_id, problem_type_id) WHERE problem_type_id IS NOT NULL;
COMMENT ON TABLE aftersales.occurrences IS
  'Occurrence count deltas, written by the database when tickets are entered; read aftersales.occurrence_counts';
COMMENT ON COLUMN aftersales.occurrences.tenant_id IS 'Owning tenant';
COMMENT ON COLUMN aftersales.occurrences.occurrence_id IS 'Delta id';
COMMENT ON COLUMN aftersales.occurrences.model_id IS 'Model counted (or NULL when the row counts a problem type)';
COMMENT ON COLUMN aftersales.occurrences.problem_type_id IS 'Problem type counted (or NULL when the row counts a model)';
COMMENT ON COLUMN aftersales.occurrences.n IS 'Tickets entered (a delta: -1 and +1 when an edit moves a ticket to another model or problem type)';

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
  'Tickets entered per product model and per problem type, for reports';
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
        HAVING pg_catalog.sum(g.n) OPERATOR(pg_catalog.<>) 0
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

-- The defaults for tenant 1, on the shipped 24x7 calendar: A first
-- response 5 min / resolution 30 min, B 30 min / 2 h, C 4 h / 24 h, and 4 h
-- on-site arrival for field tickets.  Waiting on the customer pauses the
-- resolution clock only.
INSERT INTO aftersales.sla_policies (tenant_id, name, calendar, is_default, description)
VALUES (1, 'default', '24x7', true, 'Default targets: A 5 min / 30 min, B 30 min / 2 h, C 4 h / 24 h, arrival 4 h');
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
