/*
 * sla_clock.h: the SLA-clock rules as SQL text, one spelling each, fully
 * qualified, for the statements of ticket_log.c and escalation.c that
 * start clocks and arm their watches (the rule of a clock's time itself is
 * aftersales_internal.clock_add/clock_diff, src/sla_clock.c).  Arguments
 * are SQL expressions (string literals), usually table aliases.
 */
#ifndef AFTERSALES_SLA_CLOCK_H
#define AFTERSALES_SLA_CLOCK_H

/*
 * The escalation rules in force of the tenants that pass `where` (over r,
 * the view of the rules in force), a row per tenant.  Levels and delays
 * are taken from the rule each row comes from (x: the tenant's own, or
 * tenant 1's when inherited), as the table holds them: the view shows
 * them in BI tools' plain types (the delay in minutes).
 */
#define SLA_RULES_IN_FORCE(where) \
	"SELECT r.tenant_id," \
	" pg_catalog.min(x.level) FILTER (WHERE r.kind OPERATOR(pg_catalog.=) 'warning') AS pct," \
	" (pg_catalog.array_agg(x.after ORDER BY x.level)" \
	"      FILTER (WHERE r.kind OPERATOR(pg_catalog.=) 'escalation'))[1] AS esc," \
	" pg_catalog.min(x.after) FILTER (WHERE r.kind OPERATOR(pg_catalog.=) 'not_arrived') AS arr," \
	" pg_catalog.min(x.after) FILTER (WHERE r.kind OPERATOR(pg_catalog.=) 'not_completed') AS compl," \
	" pg_catalog.min(x.after) FILTER (WHERE r.kind OPERATOR(pg_catalog.=) 'lock') AS lock_after," \
	" pg_catalog.min(x.after) FILTER (WHERE r.kind OPERATOR(pg_catalog.=) 'key_customer') AS key_after" \
	" FROM aftersales.escalation_rules_effective r" \
	" JOIN aftersales.escalation_rules x" \
	"   ON x.tenant_id OPERATOR(pg_catalog.=) CASE WHEN r.inherited THEN 1 ELSE r.tenant_id END" \
	"  AND x.kind OPERATOR(pg_catalog.=) r.kind AND x.level OPERATOR(pg_catalog.=) r.level" \
	" WHERE " where " GROUP BY r.tenant_id"

/*
 * When a new clock k (a ticket_sla row; cal its calendar, f its tenant's
 * rules in force) first needs a look: its first stage (the stages come in
 * a fixed order, warnings by percent, then levels, and clock_add is
 * monotonic, so that is the lowest warning, else the lowest level) or its
 * anomaly alert (wall clock), whichever comes first; NULL when it does not
 * run.  check_watches() proves this agrees with watch_stages.
 */
#define SLA_FIRST_CHECK(k, cal, f) \
	"CASE WHEN " k ".stopped_at IS NULL AND " k ".paused_since IS NULL THEN" \
	" LEAST(aftersales_internal.clock_add(" k ".calendar, " cal ", " k ".started_at," \
	"           COALESCE(" k ".target OPERATOR(pg_catalog.*) (" f ".pct OPERATOR(pg_catalog./) 100)::pg_catalog.float8," \
	"                    " k ".target OPERATOR(pg_catalog.+) " f ".esc) OPERATOR(pg_catalog.+) " k ".paused)," \
	"       CASE " k ".metric WHEN 'arrival' THEN " k ".started_at OPERATOR(pg_catalog.+) " f ".arr" \
	"                         WHEN 'resolution' THEN " k ".started_at OPERATOR(pg_catalog.+) " f ".compl END)" \
	" END"

/*
 * When a new ticket's 'ticket' watch first needs a look: the lock rule
 * (still new at its customer-requested date) and the key-customer alert.
 */
#define SLA_TICKET_CHECK(status, requested, opened, tier, f) \
	"LEAST(CASE WHEN " status " OPERATOR(pg_catalog.=) 'new' AND " requested " IS NOT NULL" \
	"           THEN " requested " OPERATOR(pg_catalog.+) " f ".lock_after END," \
	"      CASE WHEN " tier " OPERATOR(pg_catalog.=) 'key' THEN " opened " OPERATOR(pg_catalog.+) " f ".key_after END)"

#endif
