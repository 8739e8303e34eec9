# shellcheck shell=bash disable=SC2034  # variables are used by the scripts
# lib.sh: shared functions behind `make demo`, `make test` and `make bench`.
#
# Sourced by test/bin/*.  Owns three things:
#   - provisioning: the Debian packages we need, then build and install;
#   - private clusters: initdb/start/stop of a PostgreSQL 15 server that
#     lives in a git-ignored project directory (.cluster/, .testrun/);
#   - running commands as the right OS user: initdb refuses root, so when
#     we are root the server runs as "postgres"; otherwise as ourselves.
#
# Scripts that source this file run with `set -euo pipefail`.

PG_MAJOR=15
# AFTERSALES_PGBIN points at a relocated copy of the server (for example
# /opt/pg-b/usr/lib/postgresql/15/bin, a copy of /usr/lib/postgresql/15 and
# /usr/share/postgresql/15 under /opt/pg-b, with usr/include linked to
# /usr/include for the server headers), so that two checkouts can build,
# install and test at once without overwriting each other's aftersales.so.
PGBIN=${AFTERSALES_PGBIN:-/usr/lib/postgresql/$PG_MAJOR/bin}
PG_CONFIG=$PGBIN/pg_config
PGXS_DIR=${PGBIN%/bin}/lib/pgxs
PG_REGRESS=$PGXS_DIR/src/test/regress/pg_regress
PG_ISOLATION_REGRESS=$PGXS_DIR/src/test/isolation/pg_isolation_regress
PG_TAP_PERL=$PGXS_DIR/src/test/perl

# Repository root: two levels above this file.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)

# Database superuser role of every private cluster (initdb -U).
PG_SUPERUSER=postgres

# Debian 12 packages; provision installs the ones that are missing.
PACKAGES=(
	"postgresql-$PG_MAJOR"
	"postgresql-server-dev-$PG_MAJOR"
	"postgresql-$PG_MAJOR-cron"
	"postgresql-$PG_MAJOR-pgtap"
	"postgresql-$PG_MAJOR-plpgsql-check"
	libtap-parser-sourcehandler-pgtap-perl
	libipc-run-perl
	perl
	make
	gcc
	libc6-dev
	openssl
	# the BI clients of test/t/080_kpi_bi_clients.pl
	libpostgresql-jdbc-java
	default-jdk-headless
	python3-psycopg2
)

say() { printf '%s\n' "$*"; }
step() { printf '==> %s\n' "$*"; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# as_root CMD...: run CMD as root (sudo when we are not root).
as_root() {
	if is_root; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -- "$@"
	else
		die "need root for: $* (run as root, or install sudo)"
	fi
}

# The OS user that owns and runs the private clusters.
server_user() {
	if is_root; then
		echo postgres
	else
		id -un
	fi
}

# as_server CMD...: run CMD as the cluster's OS user, from / when switching
# user (the project dir may be unreadable to that user).
as_server() {
	if is_root; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# own PATH...: hand paths (recursively) to the server user.
own() {
	if is_root; then
		chown -R postgres: -- "$@"
	fi
}

# ---------------------------------------------------------------------------
# Provisioning

package_installed() {
	[[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true) == installed ]]
}

install_packages() {
	local p missing=()
	for p in "${PACKAGES[@]}"; do
		package_installed "$p" || missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		return 0
	fi
	step "installing Debian packages: ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}"
	getent passwd postgres >/dev/null || die "package postgresql-common did not create the postgres user"
}

# True when every file `make install` would copy is already installed as is.
install_is_current() {
	local pkglibdir sharedir f
	pkglibdir=$("$PG_CONFIG" --pkglibdir)
	sharedir=$("$PG_CONFIG" --sharedir)/extension
	cmp -s "$ROOT/aftersales.so" "$pkglibdir/aftersales.so" || return 1
	for f in "$ROOT"/aftersales.control "$ROOT"/aftersales--*.sql "$ROOT"/src/sql/upgrade/*.sql; do
		[[ -e $f ]] || continue
		cmp -s "$f" "$sharedir/${f##*/}" || return 1
	done
}

build_and_install() {
	step "building aftersales"
	make -C "$ROOT" -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG"
	if install_is_current; then
		return 0
	fi
	step "installing aftersales into $("$PG_CONFIG" --pkglibdir)"
	as_root make -C "$ROOT" -s PG_CONFIG="$PG_CONFIG" install
}

# A relocated server (AFTERSALES_PGBIN) is a copy made before some packages
# were installed: give it the extensions the tests load from Debian's.
copy_extensions_into_pgbin() {
	local sys=/usr/lib/postgresql/$PG_MAJOR pkglibdir sharedir name f
	[[ ${PGBIN%/bin} == "$sys" ]] && return 0
	pkglibdir=$("$PG_CONFIG" --pkglibdir)
	sharedir=$("$PG_CONFIG" --sharedir)/extension
	for name in plpgsql_check; do
		for f in "$sys/lib/$name"*.so /usr/share/postgresql/$PG_MAJOR/extension/"$name"*; do
			[[ -e $f ]] || continue
			if [[ $f == *.so ]]; then
				cmp -s "$f" "$pkglibdir/${f##*/}" || as_root cp -- "$f" "$pkglibdir/"
			else
				cmp -s "$f" "$sharedir/${f##*/}" || as_root cp -- "$f" "$sharedir/"
			fi
		done
	done
}

# build_releases: the libraries of the released versions, for the upgrade
# test.  test/releases lists "VERSION COMMIT"; each is built from git into a
# copy of this PostgreSQL installation under .releases/VERSION-COMMIT/
# (kept between runs).  Sets RELEASES to "VERSION=INSTALL_PATH" words.
build_releases() {
	local version commit dir pgroot=${PGBIN%/lib/postgresql/$PG_MAJOR/bin}
	RELEASES=()
	[[ -r $ROOT/test/releases ]] || return 0
	state_dir .releases
	while read -r version commit; do
		[[ -z $version || $version == \#* ]] && continue
		dir=$STATE_DIR/$version-$commit
		if [[ ! -f $dir/done ]]; then
			step "building the $version library (commit ${commit:0:12}) into $dir"
			rm -rf -- "$dir"
			mkdir -p -- "$dir/usr/lib/postgresql" "$dir/usr/share/postgresql" "$dir/src"
			cp -a -- "$pgroot/lib/postgresql/$PG_MAJOR" "$dir/usr/lib/postgresql/"
			cp -a -- "$pgroot/share/postgresql/$PG_MAJOR" "$dir/usr/share/postgresql/"
			ln -s /usr/include "$dir/usr/include"
			git -C "$ROOT" archive "$commit" src Makefile aftersales.control | tar -x -C "$dir/src"
			if ! make -C "$dir/src" -s -j"$(nproc)" PG_CONFIG="$dir/usr/lib/postgresql/$PG_MAJOR/bin/pg_config" \
				install >"$dir/build.log" 2>&1; then
				cat -- "$dir/build.log" >&2
				die "could not build the $version library from commit $commit"
			fi
			touch -- "$dir/done"
		fi
		RELEASES+=("$version=$dir/usr/lib/postgresql/$PG_MAJOR")
	done <"$ROOT/test/releases"
}

provision() {
	[[ -r /etc/debian_version ]] || die "provisioning supports Debian 12 only"
	install_packages
	copy_extensions_into_pgbin
	build_and_install
}

# lock_clone: one `make test` or `make bench` at a time in a clone (they
# build in it and share .testrun/).  The lock is flock(1) on the clone's
# directory through fd 9; servers and TAP tests are started without fd 9,
# so a server left running cannot hold it.
lock_clone() {
	exec 9<"$ROOT"
	if ! flock -n 9; then
		say "waiting for another make test or make bench in $ROOT to finish..."
		flock -w 3600 9 || die "gave up waiting for the lock on $ROOT"
	fi
}

# ---------------------------------------------------------------------------
# State directories (.cluster/, .testrun/)

# server_can_reach DIR: can the server user traverse to DIR?
server_can_reach() {
	if is_root; then
		runuser -u postgres -- test -x "$1" 2>/dev/null
	else
		test -x "$1"
	fi
}

# state_dir NAME: make $ROOT/NAME a directory the server user can use and set
# STATE_DIR to its real path.  When the server user cannot reach the project
# (a clone under /root, say) or the path is too long for a Unix socket, the
# directory lives under /var/tmp and $ROOT/NAME is a symlink to it.
state_dir() {
	local link=$ROOT/$1 alt why
	if [[ -L $link ]]; then
		STATE_DIR=$(readlink -- "$link")
		mkdir -p -- "$STATE_DIR"
		own "$STATE_DIR"
		return 0
	fi
	if [[ -d $link ]]; then
		server_can_reach "$link" ||
			die "$(server_user) cannot reach $link; remove it and retry"
		STATE_DIR=$link
		return 0
	fi
	# sockets are <dir>/<cluster>/sock/.s.PGSQL.NNNNN, and must stay short;
	# the socket directory also goes, unquoted, into settings and libpq
	# connection strings (pg_cron's cron.host), so it keeps to plain characters
	if server_can_reach "$ROOT" && ((${#ROOT} <= 64)) && [[ $ROOT =~ ^[A-Za-z0-9/._+-]+$ ]]; then
		mkdir -p -- "$link"
		own "$link"
		STATE_DIR=$link
		return 0
	fi
	if ! server_can_reach "$ROOT"; then
		why="$(server_user) cannot reach $ROOT"
	elif ((${#ROOT} > 64)); then
		why="$ROOT is too long a path for a Unix socket"
	else
		why="the path $ROOT has characters a socket directory setting cannot hold"
	fi
	alt=/var/tmp/aftersales-$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)/${1#.}
	mkdir -p -- "$alt"
	own "$alt"
	ln -sfn -- "$alt" "$link"
	say "note: $why; $1 is a link to $alt"
	STATE_DIR=$alt
}

# stop_clusters_under DIR: stop any server whose data directory is below DIR
# (left over by an interrupted run).
stop_clusters_under() {
	local pidfile
	[[ -d $1 ]] || return 0
	while IFS= read -r pidfile; do
		as_server "$PGBIN/pg_ctl" -D "${pidfile%/postmaster.pid}" stop -m immediate -w -t 30 \
			>/dev/null 2>&1 || true
	done < <(find "$1" -maxdepth 6 -name postmaster.pid 2>/dev/null)
}

# fresh_state_dir NAME: like state_dir, but wiped first.
fresh_state_dir() {
	local link=$ROOT/$1 real
	if [[ -L $link ]]; then
		real=$(readlink -- "$link")
		stop_clusters_under "$real"
		rm -rf -- "$real"
	elif [[ -e $link ]]; then
		stop_clusters_under "$link"
		rm -rf -- "$link"
	fi
	state_dir "$1"
	# a /var/tmp directory may have outlived its link (a fresh clone)
	stop_clusters_under "$STATE_DIR"
	find "$STATE_DIR" -mindepth 1 -delete
}

# ---------------------------------------------------------------------------
# Private clusters.  A cluster directory holds data/ (PGDATA), sock/ (the
# Unix socket directory) and server.log.  Our settings are in
# data/aftersales.conf, included from postgresql.conf.

# port_in_use PORT: a server (socket or TCP) already answers on PORT.
port_in_use() {
	local d
	for d in /tmp /var/run/postgresql; do
		[[ -e $d/.s.PGSQL.$1 || -e $d/.s.PGSQL.$1.lock ]] && return 0
	done
	# shellcheck disable=SC2016  # $1 is expanded by the inner bash
	timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null && return 0
	return 1
}

# free_port FIRST: print the first free port in FIRST..FIRST+99.
free_port() {
	local p
	for ((p = $1; p < $1 + 100; p++)); do
		if ! port_in_use "$p"; then
			echo "$p"
			return 0
		fi
	done
	die "no free port in $1..$(($1 + 99))"
}

# cluster_write_conf DIR PORT DBNAME [SETTING...]: (re)write aftersales.conf.
cluster_write_conf() {
	local dir=$1 port=$2 db=$3 s
	shift 3
	{
		echo "# written by test/bin/lib.sh; rewritten when the port changes"
		echo "listen_addresses = ''"
		echo "port = $port"
		echo "unix_socket_directories = '$dir/sock'"
		echo "shared_preload_libraries = 'pg_cron'"
		echo "cron.database_name = '$db'"
		echo "max_prepared_transactions = 10"
		echo "timezone = 'Etc/UTC'"
		echo "log_timezone = 'Etc/UTC'"
		for s in "$@"; do
			echo "$s"
		done
	} >"$dir/data/aftersales.conf"
	own "$dir/data/aftersales.conf"
}

# cluster_init DIR PORT DBNAME [SETTING...]: initdb a new cluster in DIR.
# DBNAME is the database pg_cron's scheduler attaches to.
cluster_init() {
	local dir=$1
	mkdir -p -- "$dir/sock"
	own "$dir"
	if ! as_server "$PGBIN/initdb" -D "$dir/data" -U "$PG_SUPERUSER" -A trust \
		-E UTF8 --locale=C.UTF-8 --no-instructions >"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		die "initdb failed in $dir/data"
	fi
	echo "include = 'aftersales.conf'" >>"$dir/data/postgresql.conf"
	cluster_write_conf "$@"
}

cluster_port() {
	sed -n "s/^port = \([0-9]*\)$/\1/p" "$1/data/aftersales.conf"
}

cluster_running() {
	as_server "$PGBIN/pg_ctl" -D "$1/data" status >/dev/null 2>&1
}

cluster_start() {
	local dir=$1
	if ! as_server "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 start >/dev/null 9<&-; then
		tail -n 30 "$dir/server.log" >&2 || true
		die "could not start the cluster in $dir (log: $dir/server.log)"
	fi
}

# cluster_stop DIR: fast shutdown, quietly; immediate if that times out.
cluster_stop() {
	[[ -f $1/data/postmaster.pid ]] || return 0
	as_server "$PGBIN/pg_ctl" -D "$1/data" stop -m fast -w -t 60 >/dev/null 2>&1 ||
		as_server "$PGBIN/pg_ctl" -D "$1/data" stop -m immediate -w -t 30 >/dev/null 2>&1 ||
		true
}

# cluster_psql DIR DBNAME ARGS...: psql as the superuser, stopping on error.
cluster_psql() {
	local dir=$1 db=$2
	shift 2
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/sock" -p "$(cluster_port "$dir")" \
		-U "$PG_SUPERUSER" -d "$db" "$@"
}

# cluster_createdb DIR DBNAME: create DBNAME unless it exists.
cluster_createdb() {
	local exists
	exists=$(cluster_psql "$1" postgres -At -c "SELECT 1 FROM pg_database WHERE datname = '$2'")
	if [[ $exists != 1 ]]; then
		cluster_psql "$1" postgres -c "CREATE DATABASE \"$2\" TEMPLATE template0"
	fi
}

# Extensions named by `requires` in aftersales.control, one a line.
required_extensions() {
	sed -n "s/^requires *= *'\([^']*\)'.*/\1/p" "$ROOT/aftersales.control" | tr ', ' '\n' | sed '/^$/d'
}

# ---------------------------------------------------------------------------
# TAP output

# tap_count FILE: count the top-level TAP results in FILE (prove/pg_prove
# --verbose output).  Prints "passed failed skipped todo".  As in TAP, a
# skip passes, "not ok ... # TODO" is not a failure, and a test numbered
# beyond the plan fails; tests planned but never run count as failed.
tap_count() {
	awk '
	/^1\.\.[0-9]+/ { planned = substr($1, 4) + 0; hasplan = 1 }
	/^(not )?ok [0-9]+/ {
		l = tolower($0)
		n = ($1 == "not") ? $3 + 0 : $2 + 0
		ran++
		if (l ~ /^ok/ || l ~ /[^\\]# *todo/) ok[ran] = 1
		else ok[ran] = 0
		num[ran] = n
		if (l ~ /^ok/ && l ~ /[^\\]# *skip/) skipped++
		else if (l ~ /[^\\]# *todo/) todo++
	}
	END {
		for (i = 1; i <= ran; i++) {
			if (ok[i] && !(hasplan && num[i] > planned)) passed++
			else failed++
		}
		if (hasplan && planned > ran) failed += planned - ran
		printf "%d %d %d %d\n", passed, failed, skipped, todo
	}' "$1"
}
