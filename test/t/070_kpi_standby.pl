# 070_kpi_standby.pl: BI on a hot standby.
#
# A primary and a standby made with pg_basebackup -R; life cycles run on
# the primary (the sample data generator drives tickets through the API),
# before and after the standby starts.  Every view of the extension and
# every KPI function is read on the standby (read only), and once the
# standby has replayed, its figures equal the primary's.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $db = 'aftersales';

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->safe_psql('postgres', qq{CREATE DATABASE "$db"});
$primary->safe_psql($db, 'CREATE EXTENSION aftersales CASCADE');
my $tenant = $primary->safe_psql($db,
	q{SELECT tenant_id FROM aftersales.generate_sample_data('standby one', seed => 3, tickets => 300)});

$primary->backup('base', backup_options => ['-R', '-X', 'stream']);
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
is($standby->safe_psql($db, 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery (read only)');

# More life cycles, streamed to the running standby.
my $tenant2 = $primary->safe_psql($db,
	q{SELECT tenant_id FROM aftersales.generate_sample_data('standby two', seed => 4, tickets => 300)});
# (pg_basebackup -R names the WAL receiver after this script, so wait on
# the standby's replay position rather than on pg_stat_replication)
my $lsn = $primary->lsn('insert');
$standby->poll_query_until($db, qq{SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn})
  or die 'the standby did not replay the primary\'s WAL';

# Every view, and a call of every KPI function, as the sessions of a BI
# tool see them: one tenant, a fixed "now".
my @views = split /\n/, $primary->safe_psql($db, q{
	SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname = 'aftersales' AND c.relkind = 'v' ORDER BY 1::text});
cmp_ok(scalar(@views), '>=', 16, 'the views are listed');
my @calls = (
	q{SELECT * FROM aftersales.kpi_ticket_facts('2026-01-01', '2027-01-01')},
	q{SELECT * FROM aftersales.kpi_service('month', 'region', '2026-01-01', '2027-01-01')},
	q{SELECT * FROM aftersales.kpi_headline('month', 'organisation_type', '2026-01-01', '2027-01-01')},
	q{SELECT * FROM aftersales.kpi_service('quarter', 'tenant', '2026-01-01', '2027-01-01', as_of => '2026-07-01 00:00+08', tenant => NULL)},
	q{SELECT * FROM aftersales.kpi_staff('month', '2026-01-01', '2027-01-01')},
	q{SELECT * FROM aftersales.kpi_dispatch('month', 'engineer', '2026-01-01', '2027-01-01')},
	q{SELECT * FROM aftersales.kpi_durations('month', 'all', '2026-01-01', '2027-01-01')},
	q{SELECT * FROM aftersales.backlog_as_of('2026-07-01 00:00+08')},
	q{SELECT * FROM aftersales.kpi_backlog('region', '2026-07-01 00:00+08')},
	q{SELECT * FROM aftersales.kpi_engineer_holdings('2026-07-01 00:00+08')},
	q{SELECT * FROM aftersales.kpi_failures('month', 'province', '2026-01-01', '2027-01-01', top => 5)},
	q{SELECT * FROM aftersales.kpi_warranty_trend('month', '2026-01-01', '2027-01-01')},
	q{SELECT aftersales.kpi_setting('repeat_window_days'), aftersales.reporting_zone()});

my $session = qq{SET aftersales.tenant_id = '$tenant'; SET aftersales.now = '2026-12-31 18:00+08'; SET TimeZone = 'UTC';};

sub digest
{
	my ($node, $query) = @_;
	my ($stdout, $stderr);
	my $rc = $node->psql($db,
		"$session SELECT count(*) || ':' || md5(COALESCE(string_agg(x::text, '|' ORDER BY x::text), '')) FROM ($query) x",
		stdout => \$stdout, stderr => \$stderr);
	return $rc == 0 ? $stdout : "error: $stderr";
}

my $nonempty = 0;
for my $q ((map { "SELECT * FROM $_" } @views), @calls)
{
	my $on_standby = digest($standby, $q);
	unlike($on_standby, qr/^error/, "runs on the standby: $q");
	is($on_standby, digest($primary, $q), "the standby's figures equal the primary's: $q");
	$nonempty++ if $on_standby =~ /^[1-9]/;
}
cmp_ok($nonempty, '>=', 25, 'most of them have rows (the comparison compares something)');

# The second tenant too, through the dimension tenant.
is(digest($standby, q{SELECT * FROM aftersales.kpi_service('all', 'tenant', '-infinity', 'infinity', tenant => NULL)}),
	digest($primary, q{SELECT * FROM aftersales.kpi_service('all', 'tenant', '-infinity', 'infinity', tenant => NULL)}),
	"every tenant's service KPIs equal on the standby (tenants $tenant and $tenant2)");

$standby->stop;
$primary->stop;

done_testing();
