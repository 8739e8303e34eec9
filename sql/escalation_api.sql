-- The outbox as applications use it (list the unacknowledged alerts by
-- pages, acknowledge them, idempotently), one tenant at a time; the sweep's
-- arguments and guards; the procedure the cron job runs; the arguments of
-- schedule_sweeps() (what it does with pg_cron is in test/t/, where the
-- cluster's pg_cron setup is known); privileges.
\i sql/fixtures/fresh_extension.sql
SET aftersales.now = '2024-07-01 09:00:00+00';

INSERT INTO aftersales.tenants VALUES (2, 'acme');
-- The same domain in both tenants; tenant 2 inherits tenant 1's rules and
-- policy targets (its own default policy, on its own 24x7 calendar).
INSERT INTO aftersales.organisations (tenant_id, level, org_type, name) VALUES (1, 'hq', 'headquarters', 'HQ'), (2, 'hq', 'headquarters', 'HQ');
INSERT INTO aftersales.customers (tenant_id, name) VALUES (1, 'Acme Steel'), (2, 'Bolt Foods');
INSERT INTO aftersales.problem_types (tenant_id, code, name) VALUES (1, 'NOPWR', 'No power'), (2, 'NOPWR', 'No power');
INSERT INTO aftersales.calendars (tenant_id, name, calendar) VALUES (2, '24x7', 'zone=UTC; mon-sun 00:00-24:00');
INSERT INTO aftersales.sla_policies (tenant_id, name, is_default) VALUES (2, 'default', true);
INSERT INTO aftersales.sla_targets (tenant_id, policy_id, priority, metric, target, pauses_on_hold)
SELECT 2, 2, priority, metric, target, pauses_on_hold FROM aftersales.sla_targets WHERE tenant_id = 1;
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'A', description => 'one', at => '2024-07-01 09:00+00');
SET aftersales.tenant_id = '2';
SELECT aftersales.open_ticket(customer => 2, problem_type => 2, priority => 'A', description => 'two', at => '2024-07-01 09:00+00');
RESET aftersales.tenant_id;

-- A sweep of tenant 2 alone leaves tenant 1's watches due.
SELECT tenant_id, claimed, warnings, escalations, more_due FROM aftersales.sweep(now => '2024-07-01 09:10+00', tenant => 2);
SELECT tenant_id, count(*) FROM aftersales.alerts GROUP BY 1 ORDER BY 1;
SELECT tenant_id, claimed, warnings, escalations, more_due FROM aftersales.sweep(now => '2024-07-01 09:10+00');
SELECT tenant_id, count(*) FROM aftersales.alerts GROUP BY 1 ORDER BY 1;

-- The outbox of tenant 1 (alerts 5 to 8: tenant 2 was swept first), by
-- pages of 3.
SELECT alert_id, ticket_id, clock, kind, level FROM aftersales.unacknowledged_alerts(max_rows => 3);
SELECT alert_id, ticket_id, clock, kind, level FROM aftersales.unacknowledged_alerts(after_alert => 7, max_rows => 3);
-- The time of an acknowledgement: finite, not before the alert was raised,
-- at most a year ahead of the database clock (22008, nothing acknowledged).
SELECT aftersales.acknowledge_alert(5, at => '-infinity');
SELECT aftersales.acknowledge_alerts(ARRAY[5, 6], at => 'infinity');
SELECT aftersales.acknowledge_alerts(ARRAY[5, 6], at => '2024-07-01 09:05+00');
DO $$
BEGIN
    PERFORM aftersales.acknowledge_alert(5, at => pg_catalog.transaction_timestamp() + interval '400 days');
    RAISE EXCEPTION 'accepted';
EXCEPTION WHEN datetime_field_overflow THEN
    RAISE NOTICE 'a year and more ahead: refused with 22008';
END $$;
SELECT count(*) AS acknowledged FROM aftersales.alerts WHERE acknowledged_at IS NOT NULL;
-- the alerts were raised at the sweep's 09:10: acknowledged from then on
SET aftersales.now = '2024-07-01 09:10:00+00';
SELECT aftersales.acknowledge_alerts(ARRAY[5, 6, 7], actor => 'notifier');
-- again: nothing new, no error
SELECT aftersales.acknowledge_alerts(ARRAY[5, 6, 7], actor => 'notifier');
SELECT aftersales.acknowledge_alert(8, actor => 'notifier');
SELECT aftersales.acknowledge_alert(8, actor => 'notifier');
SELECT alert_id, acknowledged_by, acknowledged_at FROM aftersales.alerts WHERE acknowledged_at IS NOT NULL ORDER BY 1;
SELECT count(*) AS waiting FROM aftersales.unacknowledged_alerts();
-- Tenant 2 sees its own only, and cannot acknowledge tenant 1's.
SET aftersales.tenant_id = '2';
SELECT alert_id, ticket_id, clock, kind, level FROM aftersales.unacknowledged_alerts(max_rows => 2);
SELECT aftersales.acknowledge_alerts(ARRAY[5]);
RESET aftersales.tenant_id;
SELECT aftersales.acknowledge_alerts(ARRAY[1]);
SELECT aftersales.acknowledge_alerts(ARRAY[5, 999]);
SELECT aftersales.acknowledge_alerts(ARRAY[5, NULL]);
SELECT aftersales.acknowledge_alerts(NULL);
SELECT * FROM aftersales.unacknowledged_alerts(max_rows => 0);

-- ---------------------------------------------------------------------------
-- The sweep's arguments.
SELECT * FROM aftersales.sweep(batch => 0);
SELECT * FROM aftersales.sweep(batch => NULL);
SELECT * FROM aftersales.sweep(batch => 100001);
SELECT * FROM aftersales.sweep(now => NULL);
SELECT * FROM aftersales.sweep(now => 'infinity');
SELECT * FROM aftersales.sweep(tenant => 99);
-- It claims with SKIP LOCKED and reads in a fresh snapshot: READ COMMITTED.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM aftersales.sweep();
ROLLBACK;

-- The cron job's procedure: batch after batch, each committed, while more
-- is due.  Four more tickets, their warnings due an hour later.
SELECT count(*) FROM aftersales.open_tickets('[{"customer": 1, "problem_type": 1, "priority": "B", "description": "a"},
                                              {"customer": 1, "problem_type": 1, "priority": "B", "description": "b"},
                                              {"customer": 1, "problem_type": 1, "priority": "B", "description": "c"},
                                              {"customer": 1, "problem_type": 1, "priority": "B", "description": "d"}]',
                                             at => '2024-07-01 09:00+00');
SET aftersales.now = '2024-07-01 10:00+00';
CALL aftersales.sweep_until_done(batch => 3);
SELECT run_id, tenant_id, batch, claimed, warnings, escalations, more_due FROM aftersales.sweep_runs WHERE run_id > 2 ORDER BY run_id;
-- At most max_batches batches; at top level only.
SET aftersales.now = '2024-07-01 12:00+00';
CALL aftersales.sweep_until_done(batch => 1, max_batches => 2);
SELECT run_id, batch, claimed, more_due FROM aftersales.sweep_runs WHERE run_id > 5 ORDER BY run_id;
CALL aftersales.sweep_until_done(max_batches => 0);
BEGIN;
CALL aftersales.sweep_until_done();
ROLLBACK;

-- The monitoring table is pruned: sweep_until_done keeps 30 days (these runs
-- are minutes old, so it kept them all); older runs go on request, per
-- tenant or all; the alerts stay.
SELECT count(*) AS runs, count(*) FILTER (WHERE tenant_id = 2) AS of_tenant_2 FROM aftersales.sweep_runs;
SELECT aftersales.prune_sweep_runs(before => pg_catalog.now() + interval '1 minute', tenant => 2) AS pruned;
SELECT aftersales.prune_sweep_runs() AS pruned;
SELECT count(*) AS runs, count(*) FILTER (WHERE tenant_id = 2) AS of_tenant_2 FROM aftersales.sweep_runs;
SELECT aftersales.prune_sweep_runs(before => NULL);
SELECT aftersales.prune_sweep_runs(before => 'infinity');
SELECT count(*) > 0 AS alerts_kept FROM aftersales.alerts;

-- ---------------------------------------------------------------------------
-- schedule_sweeps(): the arguments, checked before pg_cron is looked for.
SELECT aftersales_internal.sweep_command(500, 100);
SELECT aftersales.schedule_sweeps('every minute');
SELECT aftersales.schedule_sweeps('* * * *');
SELECT aftersales.schedule_sweeps(NULL);
SELECT aftersales.schedule_sweeps(batch => 0);
SELECT aftersales.schedule_sweeps(max_batches => 0);

-- What PUBLIC may not run: the sweep and the scheduling.
SELECT p.oid::regprocedure AS function, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may
  FROM pg_proc p
 WHERE p.pronamespace = 'aftersales'::regnamespace
   AND p.proname IN ('sweep', 'sweep_until_done', 'schedule_sweeps', 'unschedule_sweeps', 'rearm_watches', 'prune_sweep_runs',
                     'unacknowledged_alerts', 'acknowledge_alerts', 'acknowledge_ticket')
 ORDER BY 1::text;
SELECT * FROM aftersales.check_watches();

-- A watch whose stages cannot be computed does not stop the sweep: here a
-- calendar of tenant 2, set after entry, has no business time left (a
-- holiday every day of the year).  The batch is retried watch by watch;
-- the failing one is retried an hour later, with a WARNING; the others
-- fire (ticket 2's first-response level 2, due since 10:05).
SET aftersales.tenant_id = '2';
SELECT aftersales.set_calendar('dead', 'zone=UTC; mon-sun 09:00-17:00');
INSERT INTO aftersales.sla_policies (name, calendar) VALUES ('dead', 'dead');
INSERT INTO aftersales.sla_targets (policy_id, priority, metric, target) VALUES (3, 'C', 'first_response', '1 hour');
INSERT INTO aftersales.customers (name) VALUES ('Dead Calendar Ltd');
INSERT INTO aftersales.service_agreements (customer_id, policy_id, name, valid) VALUES (3, 3, 'DEAD-1', '[2024-01-01,2024-12-31]');
SELECT aftersales.open_ticket(customer => 3, problem_type => 2, priority => 'C', description => 'stuck', at => '2024-07-01 09:00+00');
SELECT aftersales.set_calendar('dead', ('zone=UTC; mon-sun 09:00-17:00; holiday '
       || (SELECT string_agg('*-' || to_char(d, 'MM-DD'), ',') FROM generate_series('2024-01-01'::date, '2024-12-31', '1 day') d))::aftersales.calendar);
RESET aftersales.tenant_id;
SELECT claimed, escalations, errors, more_due FROM aftersales.sweep(now => '2024-07-01 13:00+00', tenant => 2);
SELECT ticket_id, clock, next_check FROM aftersales.escalation_watches WHERE tenant_id = 2 ORDER BY 1, 2;
SELECT ticket_id, clock, kind, level FROM aftersales.alerts WHERE tenant_id = 2 AND kind = 'escalation' ORDER BY alert_id;
