#!/usr/bin/env bash
# access_pgbench.sh: the cost of access control.  The ticket life cycle
# (tickets_pgbench/api.sql) as an application pool under row-level
# security, each step a transaction asserting its user (the agent, the
# assigned engineer), against the same transactions as a superuser (row
# security and event rights bypassed).  Goal: the pool at 0.87x or more of
# the superuser's life cycles per second.  Then kpi_service_monthly as a
# region's manager against HQ's (data: access_kpi.sql): the region's time
# over HQ's time times the region's share of the tickets (1.00: exactly
# proportional to the rows in scope; goal 1.15 or less).
#
# Usage: test/bench/access_pgbench.sh [-h HOST] [-p PORT] [-U USER] [-d DBNAME]
# (USER a superuser; the database must have the extension).  CLIENTS
# (default 4), DURATION in seconds (default 20) and ROUNDS (default 2,
# interleaved, best kept) tune it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
conn=()
pool_conn=()
db=${PGDATABASE:-}
while getopts "h:p:U:d:" opt; do
	case $opt in
	h | p) conn+=("-$opt" "$OPTARG"); pool_conn+=("-$opt" "$OPTARG") ;;
	U) conn+=("-U" "$OPTARG") ;;
	d) db=$OPTARG ;;
	*) echo "usage: $0 [-h HOST] [-p PORT] [-U USER] [-d DBNAME]" >&2; exit 2 ;;
	esac
done
pool_conn+=(-U bench_pool)
clients=${CLIENTS:-4}
seconds=${DURATION:-20}
rounds=${ROUNDS:-2}
[[ -n $db ]] && dbarg=(-d "$db") || dbarg=()

vars=$(psql -X -q "${conn[@]}" "${dbarg[@]}" -f "$here/tickets_pgbench/setup.sql" | tail -n 1)
psql -X -q "${conn[@]}" "${dbarg[@]}" -f "$here/access_pgbench/setup.sql"
defs=()
for v in $vars; do defs+=(-D "$v"); done

# run SCRIPT CONN...: tps of one pgbench run
run() {
	local script=$1
	shift
	PGOPTIONS="-c aftersales.tenant_id=9301" pgbench -n -M prepared -c "$clients" -j "$clients" -T "$seconds" \
		"${defs[@]}" "$@" -f "$here/access_pgbench/$script" ${db:+"$db"} 2>&1 |
		sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

best_super=0
best_pool=0
for ((r = 1; r <= rounds; r++)); do
	t=$(run api_super.sql "${conn[@]}")
	echo "round $r: superuser $t tps"
	awk -v a="$t" -v b="$best_super" 'BEGIN { exit !(a > b) }' && best_super=$t
	t=$(run api_pool.sql "${pool_conn[@]}")
	echo "round $r: pool $t tps"
	awk -v a="$t" -v b="$best_pool" 'BEGIN { exit !(a > b) }' && best_pool=$t
done
echo
echo "Ticket life cycle, one transaction per step, $clients clients, ${seconds} s runs, best of $rounds (life cycles per second):"
printf '  %-50s %9.1f\n' "superuser, row security bypassed (api_super.sql)" "$best_super" \
	"pool asserting agent and engineer, under RLS (api_pool.sql)" "$best_pool"
awk -v a="$best_pool" -v b="$best_super" 'BEGIN { if (b > 0) printf "  pool / superuser: %.2fx (goal 0.87x or more)\n", a / b }'

# kpi_service_monthly as each manager, best of 5 (ms); needs access_kpi.sql's data
kpi_ms() {
	local args=(-c '\timing on')
	for _ in 1 2 3 4 5; do args+=(-c "SELECT sum(tickets) FROM aftersales.kpi_service_monthly"); done
	psql -X -q "${pool_conn[@]:0:${#pool_conn[@]}-2}" -U "$1" "${dbarg[@]}" -v ON_ERROR_STOP=1 "${args[@]}" 2>&1 |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -g | head -n 1
}
if psql -X -q "${conn[@]}" "${dbarg[@]}" -At -c "SELECT 1 FROM pg_roles WHERE rolname = 'bench_region_manager'" | grep -q 1; then
	hq=$(kpi_ms bench_hq_manager)
	region=$(kpi_ms bench_region_manager)
	share=$(psql -X -q "${conn[@]}" "${dbarg[@]}" -At -c "
		SELECT round(count(*) FILTER (WHERE t.org_id = ANY (s.orgs))::numeric / count(*), 4)
		  FROM aftersales.tickets t, aftersales.tenants n,
		       LATERAL (WITH RECURSIVE d AS (SELECT o.org_id FROM aftersales.organisations o JOIN aftersales.members m
		                                       ON m.tenant_id = o.tenant_id AND m.org_id = o.org_id
		                                      WHERE m.name = 'bench_region_manager'
		                                     UNION ALL
		                                     SELECT o.org_id FROM aftersales.organisations o JOIN d ON o.parent_id = d.org_id
		                                      WHERE o.tenant_id = n.tenant_id)
		                SELECT array_agg(org_id) AS orgs FROM d) s
		 WHERE n.name = 'bench access kpi' AND t.tenant_id = n.tenant_id")
	echo
	echo "kpi_service_monthly, best of 5: HQ manager $hq ms, region manager $region ms, region's share of the tickets $share"
	awk -v r="$region" -v h="$hq" -v s="$share" 'BEGIN { printf "  region / (HQ x share): %.2f (goal 1.15 or less)\n", r / (h * s) }'
fi
