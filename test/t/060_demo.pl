# 060_demo.pl: `make demo` from a clean state, twice.
#
# Runs test/bin/demo (without provisioning: make test has built and
# installed) against a fresh state directory, as CI would on a clean
# clone: it must create and start a cluster with pg_cron, load the sample
# data, sweep, schedule the sweep, and print the dashboard.  A second run
# must reuse the cluster and the data (no duplicate tenant, tickets or
# cron job) and print the same dashboard; pg_cron must run the scheduled
# sweep.  Then the cluster is stopped.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run qw(run);

# AFTERSALES_ROOT is a copy of the scripts that the server user can read
# (run-tests makes it): the checkout itself may be out of its reach.
my $root = $ENV{AFTERSALES_ROOT};
plan skip_all => 'AFTERSALES_ROOT is not set (run through make test)' unless $root;

my $dir = PostgreSQL::Test::Utils::tempdir_short() . '/demo';
my %env = (AFTERSALES_DEMO_DIR => $dir, AFTERSALES_SKIP_PROVISION => '1');

sub demo
{
	local @ENV{ keys %env } = values %env;
	my ($out, $err) = ('', '');
	my $ok = run([ "$root/test/bin/demo" ], '>', \$out, '2>', \$err);
	return ($ok, $out, $err);
}

# What does not repeat from run to run: where the cluster came from, and
# how long the generation took.
sub stable
{
	my ($out) = @_;
	$out =~ s/^==> (creating|starting|reusing).*\n//mg;
	$out =~ s/\| *[0-9.]+ s +\|/| <seconds> |/g;
	return $out;
}

my ($ok, $out, $err) = demo();
ok($ok, 'first run succeeds') or diag("stdout:\n$out\nstderr:\n$err");
like($out, qr/^==> creating the demo cluster in \Q$dir\E/m, 'it creates a cluster in the given directory');
like($out, qr/^ demo +\| +2000 \| +\d+ \| +1 \| 2026 \|/m, 'it loads tenant demo: 2,000 tickets of 2026, seed 1');
like($out, qr/== Escalation sweep at 2027-01-01 00:00/, 'it sweeps');
like($out, qr/^ escalation +\| +\d+ \|/m, 'the sweep escalates');
like($out, qr/^ aftersales-sweep \| \* \* \* \* \* \| CALL aftersales\.sweep_until_done\(batch => 500, max_batches => 100\) \| t/m,
	'it schedules the sweep with pg_cron');
for my $kpi ('10-minute response rate', '4-hour on-site arrival rate', '24-hour completion rate',
	'first-time-fix rate', 'MTTR (first response to resolution)', 'CSAT (1-5)', 'NPS')
{
	like($out, qr/^ \Q$kpi\E +\| [0-9.]+(%| h| \(\d+ scored\))/m, "dashboard: $kpi with a figure");
}
like($out, qr/^ tickets entered +\| 2000 /m, 'dashboard: 2000 tickets entered');
like($out, qr/== Backlog by age.*\n.*>24h \| >48h \| >72h \| >96h \| >120h/, 'dashboard: backlog by age bucket');
like($out, qr/^ all +\| +[1-9]\d* \|/m, 'dashboard: a backlog');
my @top = $out =~ /^ +([1-5]) \| (\S+) +\| +\d+ \|/mg;
is(scalar(@top), 10, 'dashboard: the top 5 provinces by failures');
like($out, qr/== Locked and escalated tickets \(aftersales\.manager_queue/, 'dashboard: the managers\' queue');
like($out, qr/^ +1 \| +3 \| [tf] +\|/m, 'dashboard: its most urgent ticket, escalated to level 3');
like($out, qr/psql "host=\Q$dir\E\/sock port=\d+ user=postgres dbname=aftersales"/, 'it says how to connect');
like($out, qr/Views to open, in schema aftersales:\n  kpi_service_monthly/, 'and which views to open');

my ($ok2, $out2, $err2) = demo();
ok($ok2, 'second run succeeds') or diag("stdout:\n$out2\nstderr:\n$err2");
like($out2, qr/^==> reusing the running demo cluster in \Q$dir\E/m, 'the second run reuses the cluster');
unlike($out2, qr/creating the demo cluster/, 'and creates none');
is(stable($out2), stable($out), 'the second run prints the same dashboard');

# In the database: once, not twice.
my ($port) = slurp_file("$dir/data/aftersales.conf") =~ /^port = (\d+)$/m
  or die "no port in $dir/data/aftersales.conf";
sub sql
{
	my ($q) = @_;
	my ($o, $e) = ('', '');
	run([ 'psql', '-X', '-At', '-h', "$dir/sock", '-p', $port, '-U', 'postgres', '-d', 'aftersales', '-c', $q ],
		'>', \$o, '2>', \$e) or die "psql: $e";
	chomp $o;
	return $o;
}
is(sql(q{SELECT count(*) FROM aftersales.tenants WHERE name = 'demo'}), '1', 'one demo tenant');
is(sql(q{SELECT count(*) FROM aftersales.tickets t JOIN aftersales.tenants n USING (tenant_id) WHERE n.name = 'demo'}),
	'2000', 'its 2,000 tickets, not more');
is(sql(q{SELECT count(*) FROM cron.job WHERE jobname = 'aftersales-sweep'}), '1', 'one cron job');
is(sql(q{SELECT count(*) FROM aftersales.check_tickets(aftersales.current_tenant())}), '0',
	'the demo data replays from its event log');
is(sql(q{SELECT aftersales.now()}), '2026-12-31 16:00:00+00', 'the database clock is pinned to the end of 2026');

# pg_cron runs the scheduled sweep (through the socket directory, as the
# demo configures it).  It fires on a minute boundary: poll for it, every
# second, at most 150 s; this waits for pg_cron, not for time to pass.
my $cron_ok = 0;
for (1 .. 150)
{
	$cron_ok = sql(q{SELECT count(*) FROM cron.job_run_details d JOIN cron.job j USING (jobid)
	                  WHERE j.jobname = 'aftersales-sweep' AND d.status = 'succeeded'});
	last if $cron_ok > 0;
	sleep 1;
}
ok($cron_ok > 0, 'pg_cron has run the scheduled sweep successfully');

run([ 'pg_ctl', '-D', "$dir/data", 'stop', '-m', 'fast', '-w' ], '>', \my $o, '2>', \my $e);
ok(!-e "$dir/data/postmaster.pid", 'the demo cluster is stopped');

done_testing();
