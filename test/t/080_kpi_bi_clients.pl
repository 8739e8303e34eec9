# 080_kpi_bi_clients.pl: the views through the clients BI tools use.
#
# Over TCP, with a password, as a plain role that may read the views (not
# a superuser; SELECT on the schema's tables and views, which
# security_invoker views need):
#   * the PostgreSQL JDBC driver (FineBI, Tableau, Metabase, DBeaver ...),
#     on a UTC JVM (pgjdbc sends the JVM's zone at connect): every view's
#     metadata through DatabaseMetaData.getColumns, whose remarks must be
#     the comments, and every row through getObject; a column of a type a
#     chart tool cannot use (OTHER ...), a NUMERIC without a declared scale
#     (a rate rounded to 0 or 1 by a tool that trusts it), a value off its
#     declared scale, or any error fails;
#   * psycopg2 (notebooks): every row of every view; a type outside the
#     plain ones, a NUMERIC without a scale, or a value that is not a
#     Decimal of that scale fails.
# The views read are the KPI views (kpi_*), the ones made for BI tools.
# Both clients must also see psql's months: periods are the tenant's,
# whatever the client's zone.
use strict;
use warnings;

use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $db = 'aftersales';
my $jar = '/usr/share/java/postgresql.jar';
my $here = dirname(__FILE__) . '/bi_clients';
my $password = 'bi reader 1';

my $node = PostgreSQL::Test::Cluster->new('bi');
$node->init;
$node->append_conf('postgresql.conf', qq{
listen_addresses = '127.0.0.1'
password_encryption = 'scram-sha-256'
});
$node->append_conf('pg_hba.conf', "host all bi_reader 127.0.0.1/32 scram-sha-256\n");
$node->start;
$node->safe_psql('postgres', qq{CREATE DATABASE "$db"});
$node->safe_psql($db, 'CREATE EXTENSION aftersales CASCADE');
my $tenant = $node->safe_psql($db,
	q{SELECT tenant_id FROM aftersales.generate_sample_data('bi clients', seed => 5, tickets => 400)});
$node->safe_psql($db, qq{
CREATE ROLE bi_reader LOGIN PASSWORD '$password' IN ROLE aftersales_analyst;
INSERT INTO aftersales.members (tenant_id, name, kind, org_id)
SELECT $tenant, 'bi_reader', 'analyst', org_id FROM aftersales.organisations
 WHERE tenant_id = $tenant AND parent_id IS NULL;
ALTER ROLE bi_reader SET aftersales.tenant_id = '$tenant';
ALTER ROLE bi_reader SET TimeZone = 'Asia/Shanghai';
});
is($node->safe_psql($db, q{SELECT rolsuper FROM pg_roles WHERE rolname = 'bi_reader'}), 'f',
	'the BI role is not a superuser');
my $pattern = 'kpi\\_%';
my $views = $node->safe_psql($db, qq{SELECT count(*) FROM pg_views WHERE schemaname = 'aftersales' AND viewname LIKE '$pattern'});
my $month_rows = $node->safe_psql($db,
	qq{SET aftersales.tenant_id = '$tenant'; SET TimeZone = 'Asia/Shanghai'; SELECT count(*) FROM aftersales.kpi_service_monthly});
cmp_ok($month_rows, '>=', 12, "psql sees $month_rows months");

# check CLIENT, OUTPUT: one test per view read, one per finding.
sub check
{
	my ($client, $out) = @_;
	my @lines = split /\n/, $out;
	my @read = grep { /^view / } @lines;
	my @fail = grep { /^FAIL / } @lines;
	is(scalar(@read), $views, "$client reads every view ($views)");
	for my $f (@fail)
	{
		fail("$client: $f");
	}
	is(scalar(@fail), 0, "$client: no view column a BI tool cannot use, no error");
	my ($monthly) = grep { /^view kpi_service_monthly / } @read;
	like($monthly // '', qr/ $month_rows$/, "$client sees psql's $month_rows months of kpi_service_monthly");
	my $total = 0;
	$total += (split / /)[3] for @read;
	cmp_ok($total, '>', 1000, "$client read the rows ($total)");
}

# JDBC
ok(-r $jar, "the PostgreSQL JDBC driver is installed ($jar)");
my $classes = PostgreSQL::Test::Utils::tempdir();
my ($stdout, $stderr) = run_command([ 'javac', '-cp', $jar, '-d', $classes, "$here/ViewsOverJdbc.java" ]);
is($stderr, '', 'ViewsOverJdbc.java compiles');
($stdout, $stderr) = run_command([
	'java', '-Duser.timezone=UTC', '-cp', "$classes:$jar", 'ViewsOverJdbc',
	'jdbc:postgresql://127.0.0.1:' . $node->port . "/$db", 'bi_reader', $password, 'aftersales', $pattern ]);
is($stderr, '', 'JDBC: no exception');
check('JDBC', $stdout);

# psycopg2
($stdout, $stderr) = run_command([
	'python3', "$here/views_over_psycopg2.py",
	"host=127.0.0.1 port=" . $node->port . " dbname=$db user=bi_reader password='$password' options='-c TimeZone=UTC'",
	'aftersales', $pattern ]);
is($stderr, '', 'psycopg2: no exception');
check('psycopg2', $stdout);

$node->stop;

done_testing();
