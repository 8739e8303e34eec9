# 020_plpgsql_check.pl: plpgsql_check over every PL/pgSQL function of the
# extension.
#
# Every PL/pgSQL function that belongs to extension aftersales is checked by
# plpgsql_check_function_tb (extra and security warnings on; trigger
# functions once per table they are attached to), in a database where
# pg_cron is installed (schedule_sweeps calls it) and where the temporary
# tables generate_sample_data makes are present (their shapes are taken from
# a real run, through an event trigger).  A function passes when each of its
# findings is listed in plpgsql_check.suppress (next to this file) with the
# reason it is not a defect; every listed finding must still occur, so the
# list cannot go stale.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;

my $db = 'lint';
my $node = PostgreSQL::Test::Cluster->new('lint');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron'
cron.database_name = '$db'
TimeZone = 'UTC'
});
$node->start;
$node->safe_psql('postgres', qq{CREATE DATABASE "$db"});

my $available = $node->safe_psql($db,
	q{SELECT count(*) FROM pg_available_extensions WHERE name = 'plpgsql_check'});
if ($available ne '1')
{
	fail('plpgsql_check is installed');
	diag('Install Debian package postgresql-15-plpgsql-check (make test provisions it); '
		  . 'with AFTERSALES_PGBIN, copy its plpgsql_check*.so and extension files into that PostgreSQL.');
	done_testing();
	exit 0;
}
$node->safe_psql($db, 'CREATE EXTENSION pg_cron; CREATE EXTENSION aftersales CASCADE; CREATE EXTENSION plpgsql_check');

# The temporary tables of generate_sample_data, as a real run makes them.
my ($out, $err) = ('', '');
$node->psql(
	$db, q{
BEGIN;
CREATE FUNCTION pg_temp.report_ctas() RETURNS event_trigger LANGUAGE plpgsql AS $f$
DECLARE r record; cols text;
BEGIN
  FOR r IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'table' LOOP
    SELECT 'CREATE TEMP TABLE ' || pg_catalog.quote_ident(c.relname) || ' ('
           || pg_catalog.string_agg(pg_catalog.quote_ident(a.attname) || ' '
                                    || pg_catalog.format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) || ');'
      INTO cols
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE c.oid = r.objid AND c.relpersistence = 't'
     GROUP BY c.relname;
    IF cols IS NOT NULL THEN
      RAISE NOTICE 'temp table: %', cols;
    END IF;
  END LOOP;
END $f$;
CREATE EVENT TRIGGER report_ctas ON ddl_command_end WHEN TAG IN ('CREATE TABLE AS')
  EXECUTE FUNCTION pg_temp.report_ctas();
SELECT count(*) FROM aftersales.generate_sample_data('lint', tickets => 100);
ROLLBACK;
}, stdout => \$out, stderr => \$err, on_error_die => 1);
my @temp_tables = $err =~ /NOTICE:  temp table: (CREATE TEMP TABLE [^\n]*)/g;
cmp_ok(scalar(@temp_tables), '>', 0, 'the temporary tables of generate_sample_data were captured')
  or diag($err);

# The suppression list: proname, level, message, reason (tab-separated).
my @suppress;
my $list = "$FindBin::RealBin/plpgsql_check.suppress";
open my $fh, '<', $list or die "$list: $!";
while (my $line = <$fh>)
{
	chomp $line;
	next if $line =~ /^\s*(#|$)/;
	my ($fn, $level, $message, $why) = split /\t+/, $line;
	die "$list: line $.: need function, level, message and reason, tab-separated\n"
	  unless defined $why && $why =~ /\S/;
	my $re = join('.*', map { quotemeta } split(/\*/, "$fn\t$level\t$message", -1));
	push @suppress, { line => "$fn\t$level\t$message", re => qr/^$re$/s, hits => 0 };
}
close $fh;

# Every finding: function (regprocedure), proname, level, line, message.
my $findings = $node->safe_psql(
	$db, join("\n", @temp_tables) . q{
SELECT p.oid::pg_catalog.regprocedure || E'\t' || p.proname || E'\t' || c.level || E'\t'
       || coalesce(c.lineno::text, '-') || E'\t' || c.message
       || coalesce(' (' || c.detail || ')', '')
  FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_proc p ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND p.oid = d.objid
  JOIN pg_catalog.pg_language l ON l.oid = p.prolang AND l.lanname = 'plpgsql'
  CROSS JOIN LATERAL (
        SELECT t.tgrelid AS relid FROM pg_catalog.pg_trigger t
         WHERE t.tgfoid = p.oid AND p.prorettype = 'pg_catalog.trigger'::pg_catalog.regtype
        UNION
        SELECT 0 WHERE p.prorettype <> 'pg_catalog.trigger'::pg_catalog.regtype
                    OR NOT EXISTS (SELECT FROM pg_catalog.pg_trigger t WHERE t.tgfoid = p.oid)) r
  CROSS JOIN LATERAL public.plpgsql_check_function_tb(p.oid, relid => r.relid,
        extra_warnings => true, security_warnings => true, performance_warnings => false) c
 WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'aftersales')
 ORDER BY 1});
my $checked = $node->safe_psql(
	$db, q{
SELECT p.oid::pg_catalog.regprocedure
  FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_proc p ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND p.oid = d.objid
  JOIN pg_catalog.pg_language l ON l.oid = p.prolang AND l.lanname = 'plpgsql'
 WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'aftersales')
 ORDER BY 1});
my @functions = split /\n/, $checked;
cmp_ok(scalar(@functions), '>=', 50, scalar(@functions) . ' PL/pgSQL functions to check');

my (%bad, $errors, $warnings, $suppressed) = ((), 0, 0, 0);
for my $f (split /\n/, $findings)
{
	my ($sig, $fn, $level, $lineno, $message) = split /\t/, $f, 5;
	(my $bare = $message) =~ s/ \(.*\)$//s;
	my ($s) = grep { "$fn\t$level\t$bare" =~ $_->{re} } @suppress;
	if ($s)
	{
		$s->{hits}++;
		$suppressed++;
		next;
	}
	$level eq 'error' ? $errors++ : $warnings++;
	push @{ $bad{$sig} }, "$level at line $lineno: $message";
}
for my $sig (@functions)
{
	ok(!$bad{$sig}, "plpgsql_check: $sig")
	  or diag(join("\n", @{ $bad{$sig} })
		  . "\nFix it, or if it is no defect add to $list a line: proname<TAB>level<TAB>message<TAB>why");
}
my @stale = map { $_->{line} } grep { $_->{hits} == 0 } @suppress;
ok(!@stale, 'every entry of plpgsql_check.suppress still matches a finding')
  or diag("no longer found (remove from $list):\n" . join("\n", @stale));
note(sprintf('plpgsql_check: %d functions, %d errors, %d warnings not listed, %d listed findings',
		scalar(@functions), $errors, $warnings, $suppressed));

$node->stop;
done_testing();
