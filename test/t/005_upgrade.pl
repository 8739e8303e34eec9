# 005_upgrade.pl: ALTER EXTENSION aftersales UPDATE from every released
# version gives the catalogue of a fresh install, and carries the data.
#
# Database "upgraded": 0.1.0 as released (src/sql/upgrade/aftersales--0.1.0.sql),
# sample data and a sweep, then ALTER EXTENSION aftersales UPDATE.
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

# The catalogue of database DB as text.
sub catalogue_of
{
	my ($db) = @_;
	my ($dump, $err);
	my $ok = IPC::Run::run(
		[ 'pg_dump', '--binary-upgrade', '--schema-only', '--no-sync', '-d', $node->connstr($db) ],
		'>', \$dump, '2>', \$err);
	die "pg_dump $db failed: $err" unless $ok;
	return catalogue($dump, $node->safe_psql($db, MEMBERS_SQL), $node->safe_psql($db, CONFIG_SQL));
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
	my $db = "from_$from";
	$db =~ tr/./_/;
	$node->safe_psql('postgres', qq{CREATE DATABASE "$db"});
	$node->safe_psql($db, qq{CREATE EXTENSION aftersales VERSION '$from' CASCADE});
	$node->safe_psql($db,
		q{SELECT tenant_id FROM aftersales.generate_sample_data('sample', seed => 7, tickets => 150, year => 2025)});
	$node->safe_psql($db, qq{SELECT aftersales.sweep(now => '$before')});
	my $alerts_0 = $node->safe_psql($db, 'SELECT count(*) FROM aftersales.alerts');
	my $events_0 = $node->safe_psql($db, 'SELECT count(*) FROM aftersales.ticket_events');

	my ($rc, $out, $err) = $node->psql($db, 'ALTER EXTENSION aftersales UPDATE');
	is($rc, 0, "$from: ALTER EXTENSION aftersales UPDATE succeeds") or diag($err);
	is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'aftersales'}),
		$current, "$from: the extension is now $current");

	my $upgraded = catalogue_of($db);
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
	is($node->safe_psql($db, 'SELECT coalesce(sum(errors), 0) FROM aftersales.sweep_runs'),
		'0', "$from: no sweep reported errors");
}

$node->stop;
done_testing();
