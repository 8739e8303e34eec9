# 005_upgrade.pl: ALTER EXTENSION aftersales UPDATE from every released
# version gives the catalogue of a fresh install, and carries the data.
#
# Database "upgraded": each released version with its own library (built by
# make test from the commit in test/releases into a copy of the PostgreSQL
# installation, passed in AFTERSALES_RELEASES), sample data and a sweep; the
# server stops, the same data directory starts with the current build, a
# call is refused until ALTER EXTENSION aftersales UPDATE, which then runs.
# Database "fresh": CREATE EXTENSION aftersales (the current version).
# The two must have the same catalogue (see UpgradeCatalog.pm: a sorted,
# normalised pg_dump --binary-upgrade --schema-only, pg_depend's extension
# membership, extconfig/extcondition); on a difference the test fails and
# prints the diff.  Then the upgraded data must pass check_tickets() and
# check_watches(), its tickets continue their life cycles, and the sweep
# fires nothing a second time.
#
# test/bin/upgrade-diff runs the same comparison by hand.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Temp ();
use FindBin;
use lib $FindBin::RealBin;
use UpgradeCatalog qw(catalogue MEMBERS_SQL CONFIG_SQL);

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', "TimeZone = 'UTC'\n");
$node->start;

my $current = $node->safe_psql('postgres',
	q{SELECT default_version FROM pg_available_extensions WHERE name = 'aftersales'});
my @released = sort split /\n/, $node->safe_psql('postgres',
	qq{SELECT version FROM pg_available_extension_versions
	    WHERE name = 'aftersales' AND version <> '$current'});
ok(scalar(grep { $_ eq '0.1.0' } @released), "0.1.0 is installable next to $current")
  or diag("available: @released");
my %release_path = map { split /=/, $_, 2 } split ' ', ($ENV{AFTERSALES_RELEASES} // '');
for my $v (@released)
{
	ok($release_path{$v} && -x "$release_path{$v}/bin/postgres", "the $v library is built (test/releases)")
	  or diag('make test builds it (test/bin/lib.sh build_releases); AFTERSALES_RELEASES='
		  . ($ENV{AFTERSALES_RELEASES} // ''));
}

# The catalogue of database DB as text.
sub catalogue_of
{
	my ($db, $on) = @_;
	$on //= $node;
	my ($dump, $err);
	my $ok = IPC::Run::run(
		[ 'pg_dump', '--binary-upgrade', '--schema-only', '--no-sync', '-d', $on->connstr($db) ],
		'>', \$dump, '2>', \$err);
	die "pg_dump $db failed: $err" unless $ok;
	return catalogue($dump, $on->safe_psql($db, MEMBERS_SQL), $on->safe_psql($db, CONFIG_SQL));
}

# diff -u of two texts, for the failure message.
sub text_diff
{
	my ($name_a, $a, $name_b, $b) = @_;
	my $fa = File::Temp->new;
	my $fb = File::Temp->new;
	print $fa $a;
	print $fb $b;
	close $fa;
	close $fb;
	my $out;
	IPC::Run::run([ 'diff', '-u', '--label', $name_a, '--label', $name_b, "$fa", "$fb" ], '>', \$out);
	return $out;
}

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION aftersales CASCADE');
my $fresh = catalogue_of('fresh');
like($fresh, qr/ALTER EXTENSION aftersales ADD TABLE aftersales\.tickets;/,
	'the catalogue text holds extension members');

# The sweep that ran before the upgrade, and the one after.
my $before = '2026-01-01 00:00+00';
my $after = '2026-01-20 00:00+00';

for my $from (@released)
{
	next unless $release_path{$from};
	my $db = "from_$from";
	$db =~ tr/./_/;
	# the release, on its own library
	my $node = PostgreSQL::Test::Cluster->new($db, install_path => $release_path{$from});
	$node->init;
	$node->append_conf('postgresql.conf', "TimeZone = 'UTC'\n");
	$node->start;
	$node->safe_psql('postgres', qq{CREATE DATABASE "$db"});
	$node->safe_psql($db, qq{CREATE EXTENSION aftersales VERSION '$from' CASCADE});
	$node->safe_psql($db,
		q{SELECT tenant_id FROM aftersales.generate_sample_data('sample', seed => 7, tickets => 150, year => 2025)});
	$node->safe_psql($db, qq{SELECT aftersales.sweep(now => '$before')});
	my $alerts_0 = $node->safe_psql($db, 'SELECT count(*) FROM aftersales.alerts');
	my $events_0 = $node->safe_psql($db, 'SELECT count(*) FROM aftersales.ticket_events');

	# make install: the same data directory, started with the current build
	$node->stop;
	$node->{_install_path} = undef;
	$node->start;
	# Between make install and ALTER EXTENSION UPDATE: refused, with the
	# command to run.
	my ($rc, $out, $err) = $node->psql($db, 'SELECT aftersales.current_tenant()');
	isnt($rc, 0, "$from SQL on the $current library: a call is refused");
	like($err, qr/ERROR:  aftersales extension version \Q$from\E does not match its library, version \Q$current\E\n.*\nHINT:  Run ALTER EXTENSION aftersales UPDATE; in this database\./,
		"$from SQL on the $current library: the error says to run ALTER EXTENSION aftersales UPDATE");

	($rc, $out, $err) = $node->psql($db, 'ALTER EXTENSION aftersales UPDATE');
	is($rc, 0, "$from: ALTER EXTENSION aftersales UPDATE succeeds") or diag($err);
	is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'aftersales'}),
		$current, "$from: the extension is now $current");

	my $upgraded = catalogue_of($db, $node);
	ok($upgraded eq $fresh, "$from: upgraded catalogue equals a fresh install of $current")
	  or diag("the catalogues differ (- upgraded from $from, + fresh install):\n"
		  . text_diff("upgraded from $from", $upgraded, "fresh $current", $fresh));

	# The data came along.
	is($node->safe_psql($db, 'SELECT count(*) FROM aftersales.ticket_events'),
		$events_0, "$from: every event is still there");
	is($node->safe_psql($db, 'SELECT count(*) FROM aftersales.check_tickets()'),
		'0', "$from: check_tickets() clean after the upgrade");
	is($node->safe_psql($db, 'SELECT count(*) FROM aftersales.check_watches()'),
		'0', "$from: check_watches() clean after the upgrade");

	# A sweep at the instant of the last one fires nothing again.
	$node->safe_psql($db, qq{SELECT aftersales.sweep(now => '$before')});
	is($node->safe_psql($db, 'SELECT count(*) FROM aftersales.alerts'),
		$alerts_0, "$from: a sweep at the instant of the pre-upgrade sweep fires nothing again");

	# Life cycles continue: a held ticket resumes, is resolved and
	# followed up; a new ticket opens with the next id.
	my ($tenant, $ticket, $last) = split /\|/, $node->safe_psql($db, q{
		SELECT tenant_id, ticket_id, last_event_at FROM aftersales.tickets
		 WHERE status IN ('on_hold', 'assigned', 'in_progress', 'on_site')
		 ORDER BY ticket_id LIMIT 1});
	ok(defined $ticket && $ticket ne '', "$from: the sample data has a ticket in progress");
	$ticket //= 0;
	$tenant //= 0;
	is( $node->safe_psql(
			$db, qq{
SET aftersales.tenant_id = $tenant;
SELECT CASE WHEN status = 'on_hold'
            THEN aftersales.resume_ticket($ticket, actor => 'upgrade test', at => '2026-01-02 08:00+00') END
  FROM aftersales.tickets WHERE tenant_id = $tenant AND ticket_id = $ticket;
SELECT aftersales.resolve_ticket($ticket, 'fixed after the upgrade', actor => 'upgrade test', at => '2026-01-02 09:00+00');
SELECT aftersales.follow_up($ticket, true, 5, 9, actor => 'upgrade test', at => '2026-01-02 10:00+00');
}) =~ s/\A[^\n]*\n//r,
		"resolved\nclosed",
		"$from: an upgraded ticket in progress is resolved and closed");
	my $max_ticket = $node->safe_psql($db, "SELECT max(ticket_id) FROM aftersales.tickets WHERE tenant_id = $tenant");
	is( $node->safe_psql(
			$db, qq{
SET aftersales.tenant_id = $tenant;
SELECT aftersales.open_ticket(c.customer_id, p.problem_type_id, 'A', 'after the upgrade',
                              actor => 'upgrade test', at => '2026-01-02 11:00+00')
  FROM (SELECT customer_id FROM aftersales.customers WHERE tenant_id = $tenant ORDER BY 1 LIMIT 1) c,
       (SELECT problem_type_id FROM aftersales.problem_types WHERE tenant_id = $tenant ORDER BY 1 LIMIT 1) p;
}),
		$max_ticket + 1,
		"$from: a new ticket gets the next id");
	is($node->safe_psql($db, 'SELECT count(*) FROM aftersales.check_tickets()'),
		'0', "$from: check_tickets() clean after new events");
	is($node->safe_psql($db, 'SELECT count(*) FROM aftersales.check_watches()'),
		'0', "$from: check_watches() clean after new events");

	# The next sweep fires what came due (the new priority-A ticket), and
	# a second one at the same instant nothing.
	$node->safe_psql($db, qq{SELECT aftersales.sweep(now => '$after')});
	my $alerts_1 = $node->safe_psql($db, 'SELECT count(*) FROM aftersales.alerts');
	cmp_ok($alerts_1, '>', $alerts_0, "$from: the first sweep after the upgrade fires what came due");
	$node->safe_psql($db, qq{SELECT aftersales.sweep(now => '$after')});
	is($node->safe_psql($db, 'SELECT count(*) FROM aftersales.alerts'),
		$alerts_1, "$from: a second sweep at the same instant fires nothing again");
	# (the node stops after the last check below)
	is($node->safe_psql($db, 'SELECT coalesce(sum(errors), 0) FROM aftersales.sweep_runs'),
		'0', "$from: no sweep reported errors");
	$node->stop;
}

# The current SQL on its library: no warning.
my ($rc, $out, $err) = $node->psql('fresh', 'SELECT aftersales.library_version(), aftersales.current_tenant()');
is($out, "$current|1", 'aftersales.library_version() is the version of the control file');
is($err, '', 'the current SQL on its library: no warning');

# SQL newer than the library (an older build installed over a newer
# release), made by hand: refused with a hint, before anything runs.
$node->safe_psql('postgres', 'CREATE DATABASE newer');
$node->safe_psql('newer', 'CREATE EXTENSION aftersales');
$node->safe_psql('newer', q{UPDATE pg_extension SET extversion = '99.0.0' WHERE extname = 'aftersales'});
($rc, $out, $err) = $node->psql('newer', q{SELECT aftersales.current_tenant()});
isnt($rc, 0, 'SQL newer than the library: refused');
like($err, qr/ERROR:  aftersales extension version 99\.0\.0 does not match its library, version \Q$current\E\n.*\nHINT:  Install the aftersales library of version 99\.0\.0/,
	'SQL newer than the library: the error names both versions and says what to install');
($rc, $out, $err) = $node->psql('newer', q{SET aftersales.now = '2026-03-02 09:00+00';
SELECT aftersales.open_ticket(1, 1, 'A', 'refused')});
like($err, qr/ERROR:  aftersales extension version 99\.0\.0 does not match its library/,
	'SQL newer than the library: an API call is refused the same way');

$node->stop;
done_testing();
