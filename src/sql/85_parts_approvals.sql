-- aftersales install script, part 85: part orders approved through the
-- approval engine (84_approvals.sql).
--
-- A tenant names the department whose approval its part orders wait for
-- (set_part_order_approver).  Then every part order, whether requested
-- through request_parts or INSERTed directly, submits an approval of kind
-- part_order (ref_id: the order) to that department; the department's
-- decision approves or rejects the order, in the same transaction, as the
-- decider; and the order cannot be approved or rejected past its approval.
-- Without a department, a manager approves the order by its own event.
-- The decider needs the right to the order's event too (part_order.approve
-- or part_order.reject in event_rights or tenant_event_rights): membership
-- of the department decides the approval, the rights decide the order.

CREATE FUNCTION aftersales.set_part_order_approver(department text)
    RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant constant bigint := aftersales.current_tenant();
    dep bigint;
BEGIN
    IF department IS NOT NULL THEN
        SELECT d.department_id INTO dep FROM aftersales.departments d WHERE d.tenant_id = tenant AND d.code = department;
        IF dep IS NULL THEN
            PERFORM aftersales_internal.complaint_error(
                pg_catalog.format('department "%s" does not exist for tenant %s', aftersales_internal.cut(department), tenant),
                'List them with: SELECT code, name FROM aftersales.departments; for example: SELECT aftersales.set_part_order_approver(''quality_assurance'');',
                'P0002');
        END IF;
    END IF;
    INSERT INTO aftersales.approval_settings AS s (tenant_id, warning_line, part_order_department_id)
    VALUES (tenant, aftersales.approval_warning_line(tenant), dep)
    ON CONFLICT ON CONSTRAINT approval_settings_pkey DO UPDATE SET part_order_department_id = EXCLUDED.part_order_department_id;
    RETURN department;
END
$$;
COMMENT ON FUNCTION aftersales.set_part_order_approver(text) IS
  'Names the department (by code) whose approval the tenant''s part orders requested afterwards wait for; NULL: a manager approves each order by its own event; returns the code';

-- A new order of a routed tenant submits its approval.
CREATE FUNCTION aftersales_internal.part_order_submit_approval() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    code text;
BEGIN
    SELECT d.code INTO code
      FROM aftersales.approval_settings s
      JOIN aftersales.departments d ON d.tenant_id = s.tenant_id AND d.department_id = s.part_order_department_id
     WHERE s.tenant_id = NEW.tenant_id;
    IF code IS NOT NULL THEN
        PERFORM aftersales.submit_approval('part_order', code, pg_catalog.format('part order %s', NEW.order_id),
                                           org => NEW.org_id, ref => NEW.order_id, ticket => NEW.ticket_id,
                                           at => NEW.requested_at);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales_internal.part_order_submit_approval() IS
  'Trigger: a part order of a tenant with a part-order approver (approval_settings.part_order_department_id) submits an approval of kind part_order to it';
CREATE TRIGGER part_order_submit_approval
    AFTER INSERT ON aftersales.part_orders
    FOR EACH ROW EXECUTE FUNCTION aftersales_internal.part_order_submit_approval();

-- An order with an approval is decided by it alone: approved only once an
-- approval of it is approved, rejected only once one is rejected, neither
-- while one is pending (a withdrawn approval decides nothing).
CREATE FUNCTION aftersales_internal.part_order_approval_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pending bigint;
    n integer;
    matching integer;
    code text;
    wanted constant text := CASE NEW.event WHEN 'approve' THEN 'approved' ELSE 'rejected' END;
BEGIN
    SELECT pg_catalog.min(a.approval_id) FILTER (WHERE a.state = 'submitted'), pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE a.state = wanted)
      INTO pending, n, matching
      FROM aftersales.approvals a
     WHERE a.tenant_id = NEW.tenant_id AND a.kind = 'part_order' AND a.ref_id = NEW.order_id;
    IF pending IS NOT NULL THEN
        RAISE EXCEPTION 'part order % waits for approval %', NEW.order_id, pending
            USING ERRCODE = '55000',
                  DETAIL = 'The approving department decides the order through its approval.',
                  HINT = pg_catalog.format('A member of the department decides it: SELECT aftersales.grant_approval(%s); or reject_approval(%s, reason)',
                                           pending, pending);
    END IF;
    IF n > 0 AND matching = 0 THEN
        SELECT d.code INTO code
          FROM aftersales.approvals a
          JOIN aftersales.departments d ON d.tenant_id = a.tenant_id AND d.department_id = a.department_id
         WHERE a.tenant_id = NEW.tenant_id AND a.kind = 'part_order' AND a.ref_id = NEW.order_id
         ORDER BY a.approval_id DESC LIMIT 1;
        RAISE EXCEPTION 'part order % cannot be %: none of its approvals was', NEW.order_id, wanted
            USING ERRCODE = '55000',
                  DETAIL = 'The approving department decides the order through its approval.',
                  HINT = pg_catalog.format('Submit it again: SELECT aftersales.submit_approval(''part_order'', %L, ''part order %s'', ref => %s); or cancel it: SELECT aftersales.cancel_part_order(%s, ''not approved'');',
                                           COALESCE(code, 'quality_assurance'), NEW.order_id, NEW.order_id, NEW.order_id);
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION aftersales_internal.part_order_approval_guard() IS
  'Trigger: a part order with approvals is approved or rejected only as one of them was decided, never while one is pending';
CREATE TRIGGER part_order_approval_guard
    BEFORE UPDATE ON aftersales.part_orders
    FOR EACH ROW WHEN (NEW.event IN ('approve', 'reject') AND NEW.event_seq IS DISTINCT FROM OLD.event_seq)
    EXECUTE FUNCTION aftersales_internal.part_order_approval_guard();

-- The decision of a part order's approval decides the order.
CREATE FUNCTION aftersales_internal.approval_decides_part_order() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM aftersales_internal.decide_part_order(NEW.tenant_id, NEW.ref_id,
                                                  CASE NEW.state WHEN 'approved' THEN 'approve' ELSE 'reject' END,
                                                  COALESCE(NEW.event_reason, pg_catalog.format('approval %s', NEW.approval_id)),
                                                  NEW.decided_at, NEW.decided_by);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales_internal.approval_decides_part_order() IS
  'Trigger: an approved or rejected approval of kind part_order approves or rejects its order (ref_id), at the decision''s time and as its decider';
CREATE TRIGGER approval_decides_part_order
    AFTER UPDATE ON aftersales.approvals
    FOR EACH ROW WHEN (NEW.kind = 'part_order' AND NEW.ref_id IS NOT NULL AND OLD.state = 'submitted'
                       AND NEW.state IN ('approved', 'rejected'))
    EXECUTE FUNCTION aftersales_internal.approval_decides_part_order();

-- A cancelled order withdraws its pending approval: the department has
-- nothing left to decide, and the warning line does not count it.
CREATE FUNCTION aftersales_internal.part_order_withdraw_approval() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a bigint;
BEGIN
    FOR a IN SELECT x.approval_id FROM aftersales.approvals x
              WHERE x.tenant_id = NEW.tenant_id AND x.kind = 'part_order' AND x.ref_id = NEW.order_id AND x.state = 'submitted'
              ORDER BY 1 LOOP
        PERFORM aftersales_internal.approval_event(a, 'withdraw', NEW.event_at,
                                                   pg_catalog.format('part order %s cancelled: %s', NEW.order_id, NEW.event_reason));
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales_internal.part_order_withdraw_approval() IS
  'Trigger: a cancelled part order withdraws its pending approvals';
CREATE TRIGGER part_order_withdraw_approval
    AFTER UPDATE ON aftersales.part_orders
    FOR EACH ROW WHEN (NEW.state = 'cancelled' AND OLD.state IS DISTINCT FROM 'cancelled')
    EXECUTE FUNCTION aftersales_internal.part_order_withdraw_approval();
