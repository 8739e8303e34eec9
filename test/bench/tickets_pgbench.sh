#!/usr/bin/env bash
# tickets_pgbench.sh: one ticket's life cycle (open, assign, arrive on site,
# resolve, follow-up; one autocommitted statement per step) under pgbench,
# through the aftersales API and as the same statements on plain tables.
# Goal: the API at 0.8x or more of the plain tables' transactions per second.
# For information, two fuller baselines: plain tables that also write each
# event row (plain_events.sql), and plain statements writing every row
# aftersales writes in a life cycle, ticket, events, occurrence deltas, SLA
# clocks and escalation watches, on tables with the same keys and indexes
# (plain_writes.sql): the API against that one is the cost of our logic
# over our storage, and our own goal for it is also 0.8x.
#
# Usage: test/bench/tickets_pgbench.sh [-h HOST] [-p PORT] [-U USER] [-d DBNAME]
# (or the PG* environment); the database must have the extension.  CLIENTS
# (default 4), DURATION of a run in seconds (default 20) and ROUNDS (default 2, runs
# interleaved, best of each kept) tune it.  A pgbench "transaction" below is
# one whole life cycle, five statements; all runs use prepared statements
# (-M prepared), as applications do.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
conn=()
db=${PGDATABASE:-}
while getopts "h:p:U:d:" opt; do
	case $opt in
	h | p | U) conn+=("-$opt" "$OPTARG") ;;
	d) db=$OPTARG ;;
	*) echo "usage: $0 [-h HOST] [-p PORT] [-U USER] [-d DBNAME]" >&2; exit 2 ;;
	esac
done
clients=${CLIENTS:-4}
seconds=${DURATION:-20}
rounds=${ROUNDS:-2}
[[ -n $db ]] && dbarg=(-d "$db") || dbarg=()

vars=$(psql -X -q "${conn[@]}" "${dbarg[@]}" -f "$here/tickets_pgbench/setup.sql" | tail -n 1)
defs=()
for v in $vars; do defs+=(-D "$v"); done

# run NAME SCRIPT [PGOPTIONS]: print tps of one pgbench run
run() {
	PGOPTIONS=${3:-} pgbench -n -M prepared -c "$clients" -j "$clients" -T "$seconds" "${defs[@]}" "${conn[@]}" \
		-f "$here/tickets_pgbench/$2" ${db:+"$db"} 2>&1 |
		sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

declare -A best=([plain]=0 [plain_events]=0 [plain_writes]=0 [api]=0)
for ((r = 1; r <= rounds; r++)); do
	for name in plain plain_events plain_writes api; do
		opts=
		[[ $name == api ]] && opts="-c aftersales.tenant_id=9301 -c aftersales.actor=pgbench"
		tps=$(run "$name" "$name.sql" "$opts")
		echo "round $r: $name $tps tps"
		if awk -v a="$tps" -v b="${best[$name]}" 'BEGIN { exit !(a > b) }'; then best[$name]=$tps; fi
	done
done

echo
echo "Ticket life cycle under pgbench, $clients clients, ${seconds} s runs, best of $rounds (life cycles per second):"
printf '  %-60s %9.1f\n' "plain table, no event log (plain.sql)" "${best[plain]}" \
	"plain tables + event rows (plain_events.sql)" "${best[plain_events]}" \
	"plain tables, all rows aftersales writes (plain_writes.sql)" "${best[plain_writes]}" \
	"aftersales API (api.sql)" "${best[api]}"
awk -v a="${best[api]}" -v p="${best[plain]}" -v e="${best[plain_events]}" -v w="${best[plain_writes]}" 'BEGIN {
	printf "  API / plain: %.2fx (goal: >= 0.8x), API / plain + events: %.2fx\n", a / p, a / e
	printf "  API / plain writes (our logic over our storage): %.2fx (goal: >= 0.8x)\n", a / w }'
psql -X -q -At "${conn[@]}" "${dbarg[@]}" -c \
	"SELECT 'check: ' || count(*) || ' tickets of the benchmark differ from their replay' FROM aftersales.check_tickets(9301)"
