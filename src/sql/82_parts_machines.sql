-- aftersales install script, part 82: the state machines of spare parts,
-- on the generic engine (aftersales.state_transitions; the guard and log
-- triggers).  from_state '' is creation.
--
-- part_order:  request -> requested; approve -> approved | reject -> rejected;
--              reserve -> reserved (from the warehouse asked, or another: a
--              transfer); ship -> shipped; arrive -> arrived (at the outlet);
--              collect -> collected (the engineer signs for it); use -> used
--              | return -> returned (unused, back to stock); cancel from
--              any state before collected -> cancelled.
-- part_return: open -> due; ship -> shipped; receive -> received;
--              inspect -> inspected; waive (due) -> waived.
-- part_claim:  file -> filed; accept -> accepted | reject -> rejected;
--              refile (rejected) -> refiled, the second claim; accept ->
--              accepted | reject -> finally_rejected; settle (accepted) ->
--              settled.
INSERT INTO aftersales.state_transitions (machine, from_state, event, to_state, needs_reason) VALUES
    ('part_order', '',          'request', 'requested', false),
    ('part_order', 'requested', 'approve', 'approved',  false),
    ('part_order', 'requested', 'reject',  'rejected',  true),
    ('part_order', 'approved',  'reserve', 'reserved',  false),
    ('part_order', 'reserved',  'ship',    'shipped',   false),
    ('part_order', 'shipped',   'arrive',  'arrived',   false),
    ('part_order', 'arrived',   'collect', 'collected', false),
    ('part_order', 'collected', 'use',     'used',      false),
    ('part_order', 'collected', 'return',  'returned',  true),
    ('part_order', 'requested', 'cancel',  'cancelled', true),
    ('part_order', 'approved',  'cancel',  'cancelled', true),
    ('part_order', 'reserved',  'cancel',  'cancelled', true),
    ('part_order', 'shipped',   'cancel',  'cancelled', true),
    ('part_order', 'arrived',   'cancel',  'cancelled', true),
    ('part_return', '',         'open',    'due',       false),
    ('part_return', 'due',      'ship',    'shipped',   false),
    ('part_return', 'shipped',  'receive', 'received',  false),
    ('part_return', 'received', 'inspect', 'inspected', false),
    ('part_return', 'due',      'waive',   'waived',    true),
    ('part_claim', '',          'file',    'filed',     false),
    ('part_claim', 'filed',     'accept',  'accepted',  false),
    ('part_claim', 'filed',     'reject',  'rejected',  true),
    ('part_claim', 'rejected',  'refile',  'refiled',   true),
    ('part_claim', 'refiled',   'accept',  'accepted',  false),
    ('part_claim', 'refiled',   'reject',  'finally_rejected', true),
    ('part_claim', 'accepted',  'settle',  'settled',   false);

CREATE TRIGGER state_guard BEFORE INSERT OR UPDATE ON aftersales.part_orders FOR EACH ROW
    EXECUTE FUNCTION aftersales_internal.state_guard('part_order', 'order_id', 'aftersales.part_order_events');
CREATE TRIGGER state_log AFTER INSERT OR UPDATE ON aftersales.part_orders FOR EACH ROW
    EXECUTE FUNCTION aftersales_internal.state_log('part_order', 'order_id', 'aftersales.part_order_events');
CREATE TRIGGER state_guard BEFORE INSERT OR UPDATE ON aftersales.part_returns FOR EACH ROW
    EXECUTE FUNCTION aftersales_internal.state_guard('part_return', 'return_id', 'aftersales.part_return_events');
CREATE TRIGGER state_log AFTER INSERT OR UPDATE ON aftersales.part_returns FOR EACH ROW
    EXECUTE FUNCTION aftersales_internal.state_log('part_return', 'return_id', 'aftersales.part_return_events');
CREATE TRIGGER state_guard BEFORE INSERT OR UPDATE ON aftersales.part_claims FOR EACH ROW
    EXECUTE FUNCTION aftersales_internal.state_guard('part_claim', 'claim_id', 'aftersales.part_claim_events');
CREATE TRIGGER state_log AFTER INSERT OR UPDATE ON aftersales.part_claims FOR EACH ROW
    EXECUTE FUNCTION aftersales_internal.state_log('part_claim', 'claim_id', 'aftersales.part_claim_events');
