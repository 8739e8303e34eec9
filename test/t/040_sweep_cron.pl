# 040_sweep_cron.pl: the escalation sweeps scheduled with pg_cron.
#
# schedule_sweeps() and unschedule_sweeps() in each situation pg_cron can
# be in: not loaded; loaded, its database another one (a NOTICE gives the
# command to run there, and that command works with the installed pg_cron);
# loaded for this database but not created; installed here (the named job
# upserts, unscheduling is idempotent).  Then one real run: pg_cron fires
# on a minute boundary, so the test polls (every second, at most 150 s)
# until the sweep has run and locked and escalated a late ticket.  That is
# waiting for pg_cron, not for time to pass in the sweep's logic.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $db = 'aftersales';

# run_with_notices(node, db, sql): what psql printed (the result) and what
# the server said besides (NOTICE, DETAIL, HINT).
sub run_with_notices
{
	my ($node, $dbname, $sql) = @_;
	my ($stdout, $stderr) = ('', '');
	$node->psql($dbname, $sql, stdout => \$stdout, stderr => \$stderr,
		on_error_die => 1);
	return ($stdout, $stderr);
}

# ---------------------------------------------------------------------------
# A server without pg_cron.
my $plain = PostgreSQL::Test::Cluster->new('plain');
$plain->init;
$plain->start;
$plain->safe_psql('postgres', qq{CREATE DATABASE "$db"});
$plain->safe_psql($db, 'CREATE EXTENSION aftersales');
my ($out, $err) = run_with_notices($plain, $db, 'SELECT aftersales.schedule_sweeps()');
is($out, '', 'no pg_cron: schedule_sweeps() returns NULL');
like($err, qr/NOTICE:  pg_cron is not loaded: the sweeps are not scheduled/,
	'no pg_cron: a NOTICE says so');
like($err, qr/DETAIL:  Without pg_cron, run CALL aftersales\.sweep_until_done\(batch => 500, max_batches => 100\); every minute/,
	'no pg_cron: the NOTICE gives the command to run instead');
($out, $err) = run_with_notices($plain, $db, 'SELECT aftersales.unschedule_sweeps()');
is($out, '', 'no pg_cron: unschedule_sweeps() returns NULL');
$plain->stop;

# ---------------------------------------------------------------------------
# A server like a DBA's: pg_cron preloaded, its scheduler in database
# aftersales, reaching it through the socket directory.
my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron'
cron.database_name = '$db'
cron.host = '@{[ $node->host ]}'
});
$node->start;
$node->safe_psql('postgres', qq{CREATE DATABASE "$db"});
$node->safe_psql('postgres', q{CREATE DATABASE other});
$node->safe_psql($db, 'CREATE EXTENSION aftersales');
$node->safe_psql('other', 'CREATE EXTENSION aftersales');

# pg_cron loaded for this database, not created in it.
($out, $err) = run_with_notices($node, $db, q{SELECT aftersales.schedule_sweeps('*/5 * * * *')});
is($out, '', 'pg_cron not created: NULL');
like($err, qr/NOTICE:  pg_cron is not installed in this database: the sweeps are not scheduled/,
	'pg_cron not created: a NOTICE says so');
like($err, qr/HINT:  Run CREATE EXTENSION pg_cron; then SELECT aftersales\.schedule_sweeps\('\*\/5 \* \* \* \*'\);/,
	'pg_cron not created: and what to run');

# pg_cron's database is another one: the NOTICE's command, run there,
# schedules the job in this database.
$node->safe_psql($db, 'CREATE EXTENSION pg_cron');
($out, $err) = run_with_notices($node, 'other', q{SELECT aftersales.schedule_sweeps()});
is($out, '', 'pg_cron elsewhere: NULL');
like($err, qr/NOTICE:  pg_cron runs in database "aftersales": schedule the sweeps from there/,
	'pg_cron elsewhere: a NOTICE names its database');
my ($command) = $err =~ /DETAIL:  Connect to database aftersales as a superuser and run: (.*)$/m;
is($command,
	q{SELECT cron.schedule_in_database('aftersales-sweep', '* * * * *', 'CALL aftersales.sweep_until_done(batch => 500, max_batches => 100)', 'other');},
	'pg_cron elsewhere: the exact command, with cron.schedule_in_database (pg_cron 1.4)');
$node->safe_psql($db, $command);
is($node->safe_psql($db, q{SELECT database || ' ' || schedule || ' ' || command FROM cron.job WHERE jobname = 'aftersales-sweep'}),
	q{other * * * * * CALL aftersales.sweep_until_done(batch => 500, max_batches => 100)},
	'the command schedules the job in the other database');
($out, $err) = run_with_notices($node, 'other', q{SELECT aftersales.unschedule_sweeps()});
like($err, qr/DETAIL:  Connect to database aftersales as the job's owner and run: SELECT cron\.unschedule\('aftersales-sweep'\);/,
	'pg_cron elsewhere: unschedule gives the command too');
$node->safe_psql($db, q{SELECT cron.unschedule('aftersales-sweep')});

# pg_cron here: the job is named, scheduling again updates it.
my $job1 = $node->safe_psql($db, q{SELECT aftersales.schedule_sweeps('0 3 * * *')});
my $job2 = $node->safe_psql($db, q{SELECT aftersales.schedule_sweeps('*/10 * * * *', batch => 200)});
ok($job1 ne '', 'pg_cron here: schedule_sweeps() returns the job id');
is($job2, $job1, 'scheduling again keeps the job');
is($node->safe_psql($db, q{SELECT count(*) || ' ' || min(schedule) || ' ' || min(command) || ' ' || min(database) FROM cron.job}),
	q{1 */10 * * * * CALL aftersales.sweep_until_done(batch => 200, max_batches => 100) aftersales},
	'one job, updated: schedule and command of the second call');
is($node->safe_psql($db, q{SELECT aftersales.unschedule_sweeps()}), 't', 'unschedule_sweeps() removes it');
is($node->safe_psql($db, q{SELECT aftersales.unschedule_sweeps()}), 'f', 'and says so when there is none');
is($node->safe_psql($db, q{SELECT count(*) FROM cron.job}), '0', 'no job left');

# ---------------------------------------------------------------------------
# One real run.  A ticket entered two hours ago, priority A (response due
# in 5 minutes, resolution in 30), whose customer wanted it an hour ago and
# that nobody was assigned to: the sweep locks it and escalates it.
$node->safe_psql($db, q{
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.customers (name) VALUES ('Acme');
INSERT INTO aftersales.problem_types (code, name) VALUES ('P', 'Problem');
SELECT aftersales.open_ticket(customer => 1, problem_type => 1, priority => 'A', description => 'late',
                              requested_at => now() - interval '1 hour', at => now() - interval '2 hours');
});
is($node->safe_psql($db, q{SELECT count(*) FROM aftersales.sweep_runs}), '0', 'no sweep ran yet');
$node->safe_psql($db, q{SELECT aftersales.schedule_sweeps()});

my $done = q{SELECT EXISTS (SELECT FROM aftersales.sweep_runs WHERE claimed > 0)
                AND (SELECT status = 'locked' FROM aftersales.tickets WHERE ticket_id = 1)
                AND EXISTS (SELECT FROM aftersales.alerts WHERE kind = 'escalation' AND level = 2)};
my $waited = 0;
while ($waited < 150 && $node->safe_psql($db, $done) ne 't')
{
	sleep 1;
	$waited++;
}
ok($waited < 150, 'pg_cron ran the sweep within 150 s');
is($node->safe_psql($db, $done), 't', 'the sweep ran, locked the ticket and escalated it');
is($node->safe_psql($db, q{SELECT event || ' ' || actor || ' ' || reason FROM aftersales.ticket_events WHERE ticket_id = 1 AND seq = 2}),
	'lock aftersales-sweep no engineer assigned by the customer-requested date',
	'the lock went through the closed loop, as aftersales-sweep');
is($node->safe_psql($db, q{SELECT string_agg(clock || ':' || kind || ':' || level, ',' ORDER BY clock, kind, level)
                             FROM aftersales.alerts WHERE kind IN ('escalation', 'lock')}),
	'first_response:escalation:1,first_response:escalation:2,resolution:escalation:1,resolution:escalation:2,ticket:lock:0',
	'levels 1 and 2 of both clocks and the lock, each once');
is($node->safe_psql($db, q{SELECT ticket_id || ' ' || level || ' ' || locked FROM aftersales.manager_queue}),
	'1 2 true', 'the ticket waits in the managers\' queue, locked, at level 2');
like($node->safe_psql($db, q{SELECT string_agg(DISTINCT status, ',') FROM cron.job_run_details}),
	qr/^succeeded$/, 'pg_cron recorded the run as succeeded');
is($node->safe_psql($db, q{SELECT count(*) FROM aftersales.check_watches()}), '0', 'watches consistent');

$node->safe_psql($db, q{SELECT aftersales.unschedule_sweeps()});
$node->stop;

done_testing();
