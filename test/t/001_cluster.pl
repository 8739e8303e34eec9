# 001_cluster.pl: aftersales in a whole cluster's life.
#
# Installs with pg_cron preloaded, survives a restart, and round-trips
# through pg_dump/pg_restore: user rows in extension tables are dumped
# (pg_extension_config_dump) while the rows the install script creates are
# not duplicated.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $db = 'aftersales';

# A node like a DBA's: pg_cron preloaded, its scheduler in our database.
sub new_node
{
	my ($name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron'
cron.database_name = '$db'
max_prepared_transactions = 10
});
	$node->start;
	$node->safe_psql('postgres', qq{CREATE DATABASE "$db"});
	return $node;
}

my $tenants_sql =
  q{SELECT string_agg(tenant_id || ':' || name, ',' ORDER BY tenant_id) FROM aftersales.tenants};

my $node = new_node('main');

$node->safe_psql($db, 'CREATE EXTENSION aftersales CASCADE');
is( $node->safe_psql(
		$db, q{SELECT extname FROM pg_extension WHERE extname = 'aftersales'}),
	'aftersales',
	'CREATE EXTENSION aftersales CASCADE');
is($node->safe_psql($db, 'SELECT name FROM aftersales.tenants WHERE tenant_id = 1'),
	'default', 'tenant 1 is "default"');

# Restart: the extension is still there and usable.
$node->restart;
is($node->safe_psql($db, 'SELECT aftersales.current_tenant()'),
	'1', 'extension usable after a restart');
is($node->safe_psql($db, 'SELECT count(*) FROM aftersales.tenants'),
	'1', 'tenants intact after a restart');

# pg_dump/pg_restore into a second node keeps user rows, once.
$node->safe_psql($db, q{INSERT INTO aftersales.tenants VALUES (2, 'acme')});
is($node->safe_psql($db, $tenants_sql), '1:default,2:acme', 'user tenant added');

my $dump = PostgreSQL::Test::Utils::tempdir() . '/aftersales.dump';
$node->command_ok([ 'pg_dump', '--format=custom', '--file', $dump, $db ],
	'pg_dump of a database with aftersales');

my $copy = new_node('copy');
$copy->command_ok(
	[ 'pg_restore', '--exit-on-error', '--dbname', $db, $dump ],
	'pg_restore into a fresh database');
is($copy->safe_psql($db, $tenants_sql),
	'1:default,2:acme', 'restore keeps the user tenant and does not duplicate tenant 1');
is($copy->safe_psql($db, 'SELECT aftersales.current_tenant()'),
	'1', 'extension usable in the restored database');

$copy->stop;
$node->stop;

done_testing();
