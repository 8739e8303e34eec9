-- kpi_snapshot.sql: a KPI as of an instant is what was known at that
-- instant.  On a generated tenant, at four instants of its year,
-- kpi_service and kpi_headline (as_of => the instant) agree with the event
-- log read directly and with backlog_as_of: tickets entered by then,
-- unresolved (backlog), resolved, closed, cancelled, scored follow-ups.
-- And the failure statistics count faults only; kpi_backlog's mean age and
-- its age thresholds are taken over the exact ages, not over the ages
-- backlog_as_of rounds to 0.01 h.
--
-- Run: pg_prove -d <db with pgtap and aftersales> test/pgtap/kpi_snapshot.sql
-- Everything is rolled back.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off
BEGIN;
SELECT plan(34);
SET LOCAL client_min_messages = warning;
SET LOCAL TimeZone = 'UTC';

CREATE TEMP TABLE run AS SELECT r.tenant_id FROM aftersales.generate_sample_data('kpi snapshot', seed => 11, tickets => 400) r;
SELECT set_config('aftersales.tenant_id', (SELECT tenant_id::text FROM run), true);
SELECT ok((SELECT count(*) FROM aftersales.tickets t JOIN run USING (tenant_id)
            WHERE t.last_event_at > '2026-07-01 00:00+08') > 0,
          'tickets change after the instants (so the snapshot is put to work)');

CREATE TEMP TABLE instants (at timestamptz PRIMARY KEY);
INSERT INTO instants VALUES ('2026-03-15 12:00+08'), ('2026-07-01 00:00+08'), ('2026-10-20 09:30+08'), ('2026-12-31 18:00+08');

-- Per ticket, its latest event up to the instant, and its latest follow-up.
CREATE TEMP TABLE known AS
SELECT i.at, t.ticket_id,
       (SELECT e.to_state FROM aftersales.ticket_events e
         WHERE e.tenant_id = t.tenant_id AND e.ticket_id = t.ticket_id AND e.at <= i.at ORDER BY e.seq DESC LIMIT 1)::text AS state,
       (SELECT e.payload ? 'csat' AND e.payload ->> 'csat' IS NOT NULL FROM aftersales.ticket_events e
         WHERE e.tenant_id = t.tenant_id AND e.ticket_id = t.ticket_id AND e.at <= i.at AND e.event = 'follow_up'
         ORDER BY e.seq DESC LIMIT 1) AS scored
  FROM instants i
  JOIN aftersales.tickets t ON t.opened_at <= i.at
  JOIN run r ON r.tenant_id = t.tenant_id;

CREATE TEMP TABLE service AS
SELECT i.at, s.* FROM instants i
 CROSS JOIN LATERAL aftersales.kpi_service('all', 'all', '-infinity', 'infinity', as_of => i.at) s;

SELECT is(s.tickets, (SELECT count(*) FROM known k WHERE k.at = s.at), 'tickets entered by ' || s.at)
  FROM service s ORDER BY s.at;
SELECT is(s.unresolved, (SELECT count(*) FROM aftersales.backlog_as_of(s.at)), 'unresolved = backlog_as_of at ' || s.at)
  FROM service s ORDER BY s.at;
SELECT is(s.closed, (SELECT count(*) FROM known k WHERE k.at = s.at AND k.state = 'closed'), 'closed at ' || s.at)
  FROM service s ORDER BY s.at;
SELECT is(s.cancelled, (SELECT count(*) FROM known k WHERE k.at = s.at AND k.state = 'cancelled'), 'cancelled at ' || s.at)
  FROM service s ORDER BY s.at;
SELECT is(s.resolved, (SELECT count(*) FROM known k WHERE k.at = s.at AND k.state IN ('resolved', 'closed')), 'resolved at ' || s.at)
  FROM service s ORDER BY s.at;
SELECT is(s.csat_responses, (SELECT count(*) FROM known k WHERE k.at = s.at AND k.state <> 'cancelled' AND k.scored),
          'scored follow-ups known at ' || s.at)
  FROM service s ORDER BY s.at;
SELECT is((SELECT row(h.tickets, h.cancelled, h.resolved, h.closed, h.unresolved, h.response_rate, h.arrival_rate,
                      h.completion_rate, h.closed_loop_rate, h.reopen_rate, h.csat_avg, h.csat_good_share, h.nps)::text
             FROM aftersales.kpi_headline('all', 'all', '-infinity', 'infinity', as_of => s.at) h),
          row(s.tickets, s.cancelled, s.resolved, s.closed, s.unresolved, s.response_rate, s.arrival_rate,
              s.completion_rate, s.closed_loop_rate, s.reopen_rate, s.csat_avg, s.csat_good_share, s.nps)::text,
          'kpi_headline = kpi_service at ' || s.at)
  FROM service s ORDER BY s.at;

-- Failure statistics count faults only: not the consultation, parameter
-- setting and installation tickets of the sample.
SELECT is((SELECT failures FROM aftersales.kpi_failures('all', 'all', '-infinity', 'infinity')),
          (SELECT count(*) FROM aftersales.tickets t JOIN run USING (tenant_id)
             JOIN aftersales.problem_types p ON p.tenant_id = t.tenant_id AND p.problem_type_id = t.problem_type_id
            WHERE t.status <> 'cancelled' AND p.kind = 'fault'),
          'failures: the tickets of fault problem types');
SELECT cmp_ok((SELECT count(*) FROM aftersales.tickets t JOIN run USING (tenant_id)
                 JOIN aftersales.problem_types p ON p.tenant_id = t.tenant_id AND p.problem_type_id = t.problem_type_id
                WHERE t.status <> 'cancelled' AND p.kind <> 'fault'), '>', 0::bigint,
              'while the sample has consultation, parameter-setting and installation tickets, left out');

-- Backlog ages: at 60 instants, each half an hour and 18 s after a
-- ticket's entry (so that several tickets are open, of ages not whole
-- hundredths of an hour), the mean and the counts over 24, 48, 72, 96 and
-- 120 hours from the exact ages.
CREATE TEMP TABLE age_instants AS
SELECT DISTINCT t.opened_at + interval '30 minutes 18 seconds' AS at
  FROM aftersales.tickets t JOIN run r ON r.tenant_id = t.tenant_id ORDER BY 1 LIMIT 60;
CREATE TEMP TABLE ages AS
SELECT i.at, 'all'::text AS dim_key, EXTRACT(EPOCH FROM i.at - b.opened_at) / 3600 AS exact, b.age_hours AS rounded
  FROM age_instants i
 CROSS JOIN LATERAL aftersales.backlog_as_of(i.at) b;
CREATE TEMP TABLE backlog AS
SELECT i.at, k.* FROM age_instants i CROSS JOIN LATERAL aftersales.kpi_backlog('all', as_of => i.at) k;
SELECT ok((SELECT count(*) FROM (SELECT round(avg(a.exact), 2) <> round(avg(a.rounded), 2) AS differs
                                   FROM ages a GROUP BY a.at, a.dim_key) x WHERE x.differs) > 0,
          'the mean of rounded ages differs from the exact mean somewhere (so the exact mean is put to work)');
SELECT is((SELECT array_agg(k.at || ' ' || k.dim_key ORDER BY k.at, k.dim_key) FROM backlog k
            WHERE k.avg_age_hours IS DISTINCT FROM (SELECT round(avg(a.exact), 2) FROM ages a
                                                     WHERE a.at = k.at AND a.dim_key = k.dim_key)),
          NULL, 'kpi_backlog avg_age_hours is the mean of the exact ages');
SELECT is((SELECT array_agg(k.at || ' ' || k.dim_key ORDER BY k.at, k.dim_key) FROM backlog k
            WHERE row(k.over_24h, k.over_48h, k.over_72h, k.over_96h, k.over_120h, k.open_tickets)::text
                  IS DISTINCT FROM (SELECT row(count(*) FILTER (WHERE a.exact > 24), count(*) FILTER (WHERE a.exact > 48),
                                               count(*) FILTER (WHERE a.exact > 72), count(*) FILTER (WHERE a.exact > 96),
                                               count(*) FILTER (WHERE a.exact > 120), count(*))::text
                                      FROM ages a WHERE a.at = k.at AND a.dim_key = k.dim_key)),
          NULL, 'kpi_backlog counts over 24 to 120 hours by exact age');

SELECT * FROM finish();
ROLLBACK;
