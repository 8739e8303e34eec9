-- aftersales install script, part 81: the state machine engine of the
-- service modules (part orders, complaints, approvals, ...).
--
-- A machine is its rows in state_transitions.  An object table carries its
-- last event in fixed columns (state, event, event_at, event_by,
-- event_reason, event_seq) and two row triggers (src/state_machine.c):
--   state_guard  BEFORE INSERT OR UPDATE: the event must lead from the
--                current state (from '' on INSERT); it sets state, raises
--                event_seq by one, records the authenticated actor, and
--                checks event_rights for '<machine>.<event>';
--   state_log    AFTER INSERT OR UPDATE: appends the event, with the old
--                and new value of every changed column, to the log table.
-- The event travels in the row the statement writes, never in a session
-- setting, so a statement routed to a Citus worker carries it along.
-- A module declares, for an object table t with id column x and log l:
--   CREATE TRIGGER state_guard BEFORE INSERT OR UPDATE ON t FOR EACH ROW
--       EXECUTE FUNCTION aftersales_internal.state_guard('machine', 'x', 'aftersales.l');
--   CREATE TRIGGER state_log AFTER INSERT OR UPDATE ON t FOR EACH ROW
--       EXECUTE FUNCTION aftersales_internal.state_log('machine', 'x', 'aftersales.l');
-- and makes l append-only with aftersales_internal.append_only().

CREATE TABLE aftersales.state_transitions (
    machine       text    NOT NULL CHECK (machine ~ '^[a-z][a-z0-9_]{0,62}$'),
    from_state    text    NOT NULL,
    event         text    NOT NULL CHECK (event ~ '^[a-z][a-z0-9_]{0,62}$'),
    to_state      text    NOT NULL CHECK (to_state <> ''),
    needs_reason  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (machine, from_state, event)
);
COMMENT ON TABLE aftersales.state_transitions IS
  'The life cycles of the service modules'' objects: which event leads from which state to which; shipped with the extension (a change is a change of the install script)';
COMMENT ON COLUMN aftersales.state_transitions.machine IS 'The life cycle, e.g. part_order or complaint';
COMMENT ON COLUMN aftersales.state_transitions.from_state IS 'State before the event; empty for the event that creates the object';
COMMENT ON COLUMN aftersales.state_transitions.event IS 'The event; event_rights grants it as <machine>.<event>';
COMMENT ON COLUMN aftersales.state_transitions.to_state IS 'State after the event (the same state for an edit)';
COMMENT ON COLUMN aftersales.state_transitions.needs_reason IS 'Whether the event must give a reason';
-- Shipped rules, no tenant's data: everyone who writes an object reads them.
GRANT SELECT ON aftersales.state_transitions TO PUBLIC;

CREATE FUNCTION aftersales_internal.state_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'aftersales_state_guard' LANGUAGE C;
COMMENT ON FUNCTION aftersales_internal.state_guard() IS
  'Trigger (machine, id column, log table), BEFORE INSERT OR UPDATE: judges the row''s event against state_transitions and event_rights; sets state, event_seq and the actor';
-- As the owner: nobody is granted INSERT on a log, so no row of it is
-- written but by this trigger.
CREATE FUNCTION aftersales_internal.state_log() RETURNS trigger
    AS 'MODULE_PATHNAME', 'aftersales_state_log' LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION aftersales_internal.state_log() IS
  'Trigger (machine, id column, log table), AFTER INSERT OR UPDATE: appends the event and the changed columns'' old and new values to the log table';

-- Replays a machine's log against its objects: every step a listed
-- transition from the previous step's state, seq 1..n without gaps, and
-- the fields rebuilt from the logged changes equal to the row.  One
-- tenant's objects, so that a Citus router sends it to one worker.
CREATE FUNCTION aftersales_internal.state_machine_check(machine text, objects regclass, log regclass,
                                                        id_column text, tenant bigint)
    RETURNS TABLE (id bigint, problem text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY EXECUTE pg_catalog.format($q$
        WITH l AS (
            SELECT l.%2$I AS id, l.seq, l.event, l.from_state, l.to_state, l.actor, l.at, l.changes,
                   pg_catalog.lag(l.to_state) OVER w AS prev_state,
                   pg_catalog.row_number() OVER w AS n
              FROM %3$s l WHERE l.tenant_id OPERATOR(pg_catalog.=) $1
            WINDOW w AS (PARTITION BY l.%2$I ORDER BY l.seq)),
        steps AS (
            SELECT l.id, pg_catalog.format('step %%s (%%s): %%s', l.seq, l.event,
                     CASE WHEN l.seq OPERATOR(pg_catalog.<>) l.n THEN 'sequence has a gap'
                          WHEN l.from_state OPERATOR(pg_catalog.<>) COALESCE(l.prev_state, '')
                          THEN pg_catalog.format('starts from %%s, the previous step ended in %%s',
                                                 COALESCE(NULLIF(l.from_state, ''), 'creation'),
                                                 COALESCE(l.prev_state, 'creation'))
                          ELSE pg_catalog.format('%%s -> %%s is not a transition of %%s',
                                                 COALESCE(NULLIF(l.from_state, ''), 'creation'), l.to_state, $2) END)
              FROM l
             WHERE l.seq OPERATOR(pg_catalog.<>) l.n
                OR l.from_state OPERATOR(pg_catalog.<>) COALESCE(l.prev_state, '')
                OR NOT EXISTS (SELECT FROM aftersales.state_transitions t
                                WHERE t.machine OPERATOR(pg_catalog.=) $2 AND t.from_state OPERATOR(pg_catalog.=) l.from_state
                                  AND t.event OPERATOR(pg_catalog.=) l.event AND t.to_state OPERATOR(pg_catalog.=) l.to_state)),
        last AS (
            SELECT DISTINCT ON (l.id) l.* FROM l ORDER BY l.id, l.seq DESC),
        folded AS (
            SELECT l.id, pg_catalog.jsonb_object_agg(c.key, c.value OPERATOR(pg_catalog.->) 1 ORDER BY l.seq) AS fields
              FROM l, pg_catalog.jsonb_each(l.changes) c GROUP BY l.id),
        objs AS (
            SELECT o.%2$I AS id, o.state::text AS state, o.event, o.event_seq, o.event_at, o.event_by,
                   pg_catalog.to_jsonb(o) AS j
              FROM %4$s o WHERE o.tenant_id OPERATOR(pg_catalog.=) $1)
        SELECT s.* FROM steps s
        UNION ALL
        SELECT o.id, CASE WHEN x.id IS NULL THEN 'no event in the log'
                          ELSE pg_catalog.format('row says %%s after event %%s (%%s at %%s by %%s); the log says %%s after %%s (%%s at %%s by %%s)',
                                                 o.state, o.event_seq, o.event, o.event_at, o.event_by,
                                                 x.to_state, x.seq, x.event, x.at, x.actor) END
          FROM objs o LEFT JOIN last x ON x.id OPERATOR(pg_catalog.=) o.id
         WHERE x.id IS NULL OR o.state OPERATOR(pg_catalog.<>) x.to_state OR o.event_seq OPERATOR(pg_catalog.<>) x.seq
            OR o.event IS DISTINCT FROM x.event OR o.event_at IS DISTINCT FROM x.at OR o.event_by IS DISTINCT FROM x.actor
        UNION ALL
        SELECT x.id, 'log of an object that does not exist' FROM last x
         WHERE NOT EXISTS (SELECT FROM objs o WHERE o.id OPERATOR(pg_catalog.=) x.id)
        UNION ALL
        SELECT o.id, pg_catalog.format('column %%s is %%s, the log replays to %%s', c.key, c.value,
                                       COALESCE(f.fields OPERATOR(pg_catalog.->) c.key, 'null'::pg_catalog.jsonb))
          FROM objs o JOIN folded f ON f.id OPERATOR(pg_catalog.=) o.id, pg_catalog.jsonb_each(o.j) c
         WHERE c.key OPERATOR(pg_catalog.<>) ALL (ARRAY['tenant_id', %1$L, 'state', 'event', 'event_at', 'event_by',
                                                      'event_reason', 'event_seq'])
           AND c.value OPERATOR(pg_catalog.<>) COALESCE(f.fields OPERATOR(pg_catalog.->) c.key, 'null'::pg_catalog.jsonb)
           -- a time logged in the writer's zone equals the same instant in ours
           AND NOT (c.value OPERATOR(pg_catalog.->>) 0 IS NULL
                    AND pg_catalog.jsonb_typeof(c.value) OPERATOR(pg_catalog.=) 'string'
                    AND (c.value #>> '{}') ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d(:\d\d)?$'
                    AND (f.fields OPERATOR(pg_catalog.->) c.key #>> '{}') ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d(:\d\d)?$'
                    AND (c.value #>> '{}')::pg_catalog.timestamptz
                        OPERATOR(pg_catalog.=) (f.fields OPERATOR(pg_catalog.->) c.key #>> '{}')::pg_catalog.timestamptz)
        ORDER BY 1, 2 $q$, id_column, id_column, log, objects)
    USING tenant, machine;
END
$$;
COMMENT ON FUNCTION aftersales_internal.state_machine_check(text, regclass, regclass, text, bigint) IS
  'Replays a state machine''s log for one tenant: lists each object whose log is not a chain of listed transitions, or whose row (state, last event, fields) differs from what the log replays to';
