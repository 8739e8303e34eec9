# 080_kpi_bi_clients.pl: the views through the clients BI tools use.
#
# Over TCP, with a password, as a BI analyst of access control: a login
# granted aftersales_analyst and a member of kind analyst of the tenant, at
# its headquarters (README, Security):
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
# The views read are every view of schema aftersales: a BI tool lists them
# all, not only the KPI views (kpi_*).  Both clients must also see psql's
# months (periods are the tenant's, whatever the client's zone), and must
# be refused the customers' contact columns (42501) while reading the
# columns an analyst may.
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
$node->append_conf('pg_hba.conf', "host all bi_analyst 127.0.0.1/32 scram-sha-256\n");
$node->start;
$node->safe_psql('postgres', qq{CREATE DATABASE "$db"});
$node->safe_psql($db, 'CREATE EXTENSION aftersales CASCADE');
my $tenant = $node->safe_psql($db,
	q{SELECT tenant_id FROM aftersales.generate_sample_data('bi clients', seed => 5, tickets => 400)});
$node->safe_psql($db, qq{
CREATE ROLE bi_analyst LOGIN PASSWORD '$password' IN ROLE aftersales_analyst;
INSERT INTO aftersales.members (tenant_id, name, kind, org_id)
SELECT $tenant, 'bi_analyst', 'analyst', o.org_id FROM aftersales.organisations o
 WHERE o.tenant_id = $tenant AND o.parent_id IS NULL;
ALTER ROLE bi_analyst SET TimeZone = 'Asia/Shanghai';
});
is($node->safe_psql($db, q{SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = 'bi_analyst'}), 'f',
	'the BI login is not a superuser and does not bypass row security');
is($node->safe_psql($db, q{SELECT string_agg(b.rolname, ',' ORDER BY b.rolname) FROM pg_auth_members m
	JOIN pg_roles r ON r.oid = m.member JOIN pg_roles b ON b.oid = m.roleid WHERE r.rolname = 'bi_analyst'}),
	'aftersales_analyst', 'the BI login holds aftersales_analyst only');
is($node->safe_psql($db, q{SELECT count(*) FROM information_schema.role_table_grants WHERE grantee = 'bi_analyst'}),
	'0', 'the BI login has no grant of its own');
my $pattern = '%';
my $views = $node->safe_psql($db, qq{SELECT count(*) FROM pg_views WHERE schemaname = 'aftersales'});
cmp_ok($views, '>', $node->safe_psql($db, q{SELECT count(*) FROM pg_views WHERE schemaname = 'aftersales' AND viewname LIKE 'kpi\\_%'}),
	"every view of schema aftersales is read ($views), not only the KPI views");
# What the analyst may not read, and what it may: each client runs these
# and must get 42501, 42501, 42501, 42501, then rows.
my @queries = (
	'SELECT contact_name FROM aftersales.customers',
	'SELECT contact_phone FROM aftersales.customers',
	'SELECT contact_email, address FROM aftersales.customers',
	'SELECT * FROM aftersales.customers',
	'SELECT customer_id, name, tier, region FROM aftersales.customers');
my $customers = $node->safe_psql($db, qq{SELECT count(*) FROM aftersales.customers WHERE tenant_id = $tenant});
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
	my @q = map { join ' ', (split / /)[1, 2] } grep { /^query / } @lines;
	is_deeply(\@q, [ '42501 0', '42501 0', '42501 0', '42501 0', "ok $customers" ],
		"$client: refused the customers' contact columns (42501), reads the others ($customers customers)");
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
	'jdbc:postgresql://127.0.0.1:' . $node->port . "/$db", 'bi_analyst', $password, 'aftersales', $pattern, @queries ]);
is($stderr, '', 'JDBC: no exception');
check('JDBC', $stdout);

# psycopg2
($stdout, $stderr) = run_command([
	'python3', "$here/views_over_psycopg2.py",
	"host=127.0.0.1 port=" . $node->port . " dbname=$db user=bi_analyst password='$password' options='-c TimeZone=UTC'",
	'aftersales', $pattern, @queries ]);
is($stderr, '', 'psycopg2: no exception');
check('psycopg2', $stdout);

$node->stop;

done_testing();
