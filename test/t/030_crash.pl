# 030_crash.pl: a crash loses nothing that was committed, and leaves
# nothing half-written.
#
# 1. Four clients run ticket life cycles (open, assign, start, resolve,
#    follow up: one call, one transaction each) and log a call only after
#    it returned, that is after its commit.  Mid-load one client's backend
#    is killed with SIGKILL (the postmaster then resets every backend:
#    crash recovery of the whole cluster); four new clients carry on, and
#    mid-load the postmaster itself is killed with SIGKILL; then restart.
#    Checks: every logged call's event is in the log; the one call of each
#    client that was in flight (in doubt) is wholly there or wholly absent;
#    check_tickets() and check_watches() are clean; the sweep catches up
#    and a second sweep at the same instant fires nothing.
#    Prints "N committed, N lost".
# 2. A statement timeout and a cancel in the middle of a long open_tickets
#    leave no ticket, event or clock behind.
# 3. A sweep batch interrupted by a server stop (immediate: no shutdown
#    checkpoint, its transaction not committed) is done exactly once by the
#    next run: the alerts equal those of an uninterrupted sweep over a copy
#    of the same data.
#
# The waits poll the database (never sleep for time to pass in the logic):
# clients are killed once enough calls have committed, whatever the speed.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run ();
use Time::HiRes qw(usleep);

my $db = 'crash';
my $clients = 4;
my $tickets_per_client = 3000;    # more than a phase gets through
my $crash_after = 8000;           # committed events per phase before the kill

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', qq{
TimeZone = 'UTC'
restart_after_crash = on
max_connections = 40
log_statement = none
});
$node->start;
$node->safe_psql('postgres', qq{CREATE DATABASE "$db"});
$node->safe_psql($db, q{
CREATE EXTENSION aftersales;
SET aftersales.now = '2026-03-02 09:00+00';
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.customers (name, tier) VALUES ('Acme Steel', 'key'), ('Bolt Foods', 'standard');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
INSERT INTO aftersales.engineers (org_id, name) VALUES (1, 'Wang Wei'), (1, 'Li Na');
});

my $tmp = PostgreSQL::Test::Utils::tempdir();

# The script of client C in phase P: call k of ticket i is followed by
# "\echo L <k> <ticket> <seq>", printed only once the call has returned.
# Events of a ticket are a minute apart, tickets a few seconds apart.
sub client_script
{
	my ($phase, $c) = @_;
	my @calls;
	my $s = '';
	for my $i (1 .. $tickets_per_client)
	{
		my $base = sprintf("timestamptz '2026-03-02 09:00+00' + interval '%d seconds'",
			($phase * 10 + $c) * 100000 + $i * 7);
		my $desc = "p$phase c$c t$i";
		my $prio = (qw(A B C C))[ $i % 4 ];
		my @step = (
			[ "SELECT aftersales.open_ticket(1 + $i % 2, 1, '$prio', '$desc', at => $base) AS t \\gset", 'open' ],
			[ "SELECT aftersales.assign_ticket(:t, 1 + $c % 2, at => $base + interval '1 minute') AS s \\gset", 'assign' ],
			[ "SELECT aftersales.start_work(:t, at => $base + interval '2 minutes') AS s \\gset", 'start' ],
			[ "SELECT aftersales.resolve_ticket(:t, 'fixed', at => $base + interval '3 minutes') AS s \\gset", 'resolve' ],
			[ "SELECT aftersales.follow_up(:t, true, 5, 9, at => $base + interval '4 minutes') AS s \\gset", 'follow_up' ],
		);
		# every third ticket stays open (its clocks and watches keep running)
		my $n = $i % 3 == 0 ? 2 : 5;
		for my $k (0 .. $n - 1)
		{
			push @calls, { desc => $desc, seq => $k + 1 };
			$s .= $step[$k][0] . "\n" . "\\echo L $#calls :t " . ($k + 1) . "\n";
		}
	}
	my $file = "$tmp/client_$phase$c.sql";
	open my $fh, '>', $file or die $!;
	print $fh $s;
	close $fh;
	return ($file, \@calls);
}

# Start the clients of a phase; returns their harnesses, outputs and plans.
sub start_clients
{
	my ($phase) = @_;
	my @cl;
	for my $c (1 .. $clients)
	{
		my ($file, $calls) = client_script($phase, $c);
		my %h = (out => '', err => '', calls => $calls, name => "p$phase c$c");
		local $ENV{PGAPPNAME} = "crash-client-$phase-$c";
		$h{run} = IPC::Run::start(
			[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr($db), '-f', $file ],
			'>', \$h{out}, '2>', \$h{err});
		push @cl, \%h;
	}
	return @cl;
}

# Poll until COUNT events have committed since BASE (at most 5 minutes).
sub wait_for_events
{
	my ($base, $count, $cl) = @_;
	my $deadline = time + 300;
	while (time < $deadline)
	{
		$_->{run}->pump_nb for @$cl;
		my $n = $node->safe_psql($db, 'SELECT count(*) FROM aftersales.ticket_events');
		return $n if $n >= $base + $count;
		usleep(100_000);
	}
	die "clients did not commit $count events in 5 minutes";
}

sub finish_clients
{
	my ($cl) = @_;
	for my $h (@$cl)
	{
		$h->{run}->finish;    # psql exits: its connection was lost
	}
}

# Phase 1: SIGKILL one client's backend.
my @all;
my @phase1 = start_clients(1);
my $events_0 = $node->safe_psql($db, 'SELECT count(*) FROM aftersales.ticket_events');
wait_for_events($events_0, $crash_after, \@phase1);
my $victim = $node->safe_psql($db,
	q{SELECT pid FROM pg_stat_activity WHERE application_name = 'crash-client-1-2'});
ok($victim =~ /^\d+$/, 'phase 1: the backend of a client is found');
kill 'KILL', $victim;
finish_clients(\@phase1);
push @all, @phase1;
# the postmaster resets every backend and recovers; wait until it accepts
$node->poll_query_until($db, 'SELECT true') or die 'no recovery after the backend crash';
like(slurp_file($node->logfile), qr/terminated by signal 9: Killed/,
	'phase 1: the postmaster saw the backend killed and reset the cluster');

# Phase 2: SIGKILL the postmaster.
my @phase2 = start_clients(2);
my $events_1 = $node->safe_psql($db, 'SELECT count(*) FROM aftersales.ticket_events');
wait_for_events($events_1, $crash_after, \@phase2);
$node->kill9;
finish_clients(\@phase2);
push @all, @phase2;
# The killed postmaster's backends exit on their own once they see it gone;
# until then the shared memory is in use and a start fails: retry (a failed
# start leaves the old PID in the node object, hence the reset).
my $started = 0;
for (1 .. 120)
{
	$node->{_pid} = undef;
	last if ($started = $node->start(fail_ok => 1));
	usleep(500_000);
}
ok($started, 'phase 2: the server restarts after SIGKILL of the postmaster');

# Every logged call's event is there; in-doubt calls wholly there or absent.
my %ticket_of;    # description -> ticket id, from the database
for my $row (split /\n/, $node->safe_psql($db, 'SELECT description, ticket_id, event_seq FROM aftersales.tickets'))
{
	my ($d, $t, $seq) = split /\|/, $row;
	$ticket_of{$d} = [ $t, $seq ];
}
my %events;
$events{$_} = 1 for split /\n/, $node->safe_psql($db, q{SELECT ticket_id || ':' || seq FROM aftersales.ticket_events});

my ($committed, $lost, $in_doubt, $in_doubt_there, $in_doubt_torn) = (0, 0, 0, 0, 0);
for my $h (@all)
{
	my $last = -1;
	my %logged_seq;
	for my $line (split /\n/, $h->{out})
	{
		next unless $line =~ /^L (\d+) (\d+) (\d+)$/;
		my ($k, $t, $seq) = ($1, $2, $3);
		$committed++;
		$lost++ unless $events{"$t:$seq"};
		$last = $k;
		$logged_seq{ $h->{calls}[$k]{desc} } = $seq;
	}
	my $next = $h->{calls}[ $last + 1 ];
	next unless $next;
	$in_doubt++;
	my $row = $ticket_of{ $next->{desc} };
	my $have = $row ? $row->[1] : 0;     # events of the in-doubt ticket in the log
	my $had = $logged_seq{ $next->{desc} } // 0;
	if ($have == $had) { }               # wholly absent
	elsif ($have == $had + 1 && $have == $next->{seq} && $events{"$row->[0]:$have"}) { $in_doubt_there++ }
	else { $in_doubt_torn++; diag("$h->{name}: in-doubt call $next->{desc} #$next->{seq}: $have events, $had logged") }
	# nothing beyond the in-doubt call
	for my $d (keys %logged_seq)
	{
		next if $d eq $next->{desc};
		$in_doubt_torn++ if $ticket_of{$d} && $ticket_of{$d}[1] != $logged_seq{$d};
	}
}
cmp_ok($committed, '>=', 2 * $crash_after * 0.9, "the clients logged $committed committed calls");
is($lost, 0, 'every logged (committed) call has its event after both crashes');
is($in_doubt_torn, 0, "the $in_doubt in-doubt calls are wholly there ($in_doubt_there) or wholly absent");
(my $fmt = $committed) =~ s/(\d)(?=(\d{3})+$)/$1,/g;
note("$fmt committed, $lost lost");
diag("crash test: $fmt committed, $lost lost ($in_doubt in doubt: $in_doubt_there there, "
	  . ($in_doubt - $in_doubt_there) . ' absent)');

is($node->safe_psql($db, 'SELECT count(*) FROM aftersales.check_tickets()'),
	'0', 'check_tickets() clean after the crashes');
is($node->safe_psql($db, 'SELECT count(*) FROM aftersales.check_watches()'),
	'0', 'check_watches() clean after the crashes');

# The sweep catches up, once.
my $sweep_at = '2026-06-01 00:00+00';
$node->safe_psql($db, qq{SET aftersales.now = '$sweep_at'; CALL aftersales.sweep_until_done(batch => 500, max_batches => 1000)});
my $alerts = $node->safe_psql($db, 'SELECT count(*) FROM aftersales.alerts');
cmp_ok($alerts, '>', 0, "the sweep after the crashes fired the $alerts alerts that came due");
is($node->safe_psql($db, qq{SELECT count(*) FROM aftersales.escalation_watches WHERE next_check <= '$sweep_at'}),
	'0', 'the sweep caught up: no watch is due');
$node->safe_psql($db, qq{SET aftersales.now = '$sweep_at'; CALL aftersales.sweep_until_done(batch => 500, max_batches => 1000)});
is($node->safe_psql($db, 'SELECT count(*) FROM aftersales.alerts'), $alerts,
	'a second sweep at the same instant fires nothing again');

# ---------------------------------------------------------------------------
# 2. A long open_tickets cut by a statement timeout, or cancelled.
my $before = $node->safe_psql($db, q{
SELECT (SELECT count(*) FROM aftersales.tickets) || '/' || (SELECT count(*) FROM aftersales.ticket_events)
       || '/' || (SELECT count(*) FROM aftersales.ticket_sla) || '/' || (SELECT count(*) FROM aftersales.escalation_watches)});
my $batch = q{(SELECT jsonb_agg(jsonb_build_object('customer', 1, 'problem_type', 1, 'priority', 'B',
                                                   'description', 'bulk ' || g))
                 FROM generate_series(1, 20000) g)};
my ($rc, $out, $err) = $node->psql($db, qq{
SET statement_timeout = '200ms';
SET aftersales.now = '2026-07-01 09:00+00';
SELECT count(*) FROM aftersales.open_tickets($batch)});
like($err, qr/canceling statement due to statement timeout/, 'a 20,000-ticket open_tickets is cut by statement_timeout');
is($node->safe_psql($db, q{
SELECT (SELECT count(*) FROM aftersales.tickets) || '/' || (SELECT count(*) FROM aftersales.ticket_events)
       || '/' || (SELECT count(*) FROM aftersales.ticket_sla) || '/' || (SELECT count(*) FROM aftersales.escalation_watches)}),
	$before, 'after the timeout: no ticket, event, clock or watch of the batch is left');

# A cancel from another session, once the call is under way.
my ($cout, $cerr) = ('', '');
my $h = IPC::Run::start(
	[ 'psql', '-X', '-q', '-d', $node->connstr($db), '-c',
	  "SET aftersales.now = '2026-07-01 09:00+00'; SET application_name = 'bulk'; SELECT count(*) FROM aftersales.open_tickets($batch)" ],
	'>', \$cout, '2>', \$cerr);
$node->poll_query_until($db,
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'bulk' AND query LIKE '%open_tickets%' AND state = 'active'})
  or die 'the bulk call did not start';
$node->safe_psql($db, q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'bulk'});
$h->finish;
like($cerr, qr/canceling statement due to user request/, 'a long open_tickets is cancelled');
is($node->safe_psql($db, q{
SELECT (SELECT count(*) FROM aftersales.tickets) || '/' || (SELECT count(*) FROM aftersales.ticket_events)
       || '/' || (SELECT count(*) FROM aftersales.ticket_sla) || '/' || (SELECT count(*) FROM aftersales.escalation_watches)}),
	$before, 'after the cancel: nothing of the batch is left');

# ---------------------------------------------------------------------------
# 3. A sweep batch interrupted by a server stop.
$node->safe_psql('postgres', 'CREATE DATABASE sweep');
$node->safe_psql('sweep', q{
CREATE EXTENSION aftersales;
SET aftersales.now = '2026-03-02 09:00+00';
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.customers (name, tier) VALUES ('Acme Steel', 'key'), ('Bolt Foods', 'standard');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
INSERT INTO aftersales.engineers (org_id, name) VALUES (1, 'Wang Wei');
SELECT count(*) FROM aftersales.open_tickets(
    (SELECT jsonb_agg(jsonb_build_object('customer', 1 + g % 2, 'problem_type', 1,
                                         'priority', (ARRAY['A','B','C'])[1 + g % 3], 'description', 'late ' || g))
       FROM generate_series(1, 90) g));
});
$node->safe_psql('postgres', 'CREATE DATABASE sweep_ref TEMPLATE sweep');
my $due = '2026-03-09 09:00+00';
my $alerts_sql = q{SELECT string_agg(ticket_id || ':' || clock || ':' || kind || ':' || level || ':' || due_at, ','
                                     ORDER BY ticket_id, clock, kind, level) FROM aftersales.alerts};

# the reference: one uninterrupted run
$node->safe_psql('sweep_ref', qq{SET aftersales.now = '$due'; CALL aftersales.sweep_until_done(batch => 20, max_batches => 1000)});
my $reference = $node->safe_psql('sweep_ref', $alerts_sql);

# the interrupted run: one batch committed, the next one in flight when the
# server stops
$node->safe_psql('sweep', qq{SET aftersales.now = '$due'; SELECT aftersales.sweep(batch => 20)});
my $after_first = $node->safe_psql('sweep', 'SELECT count(*) FROM aftersales.alerts');
my ($sin, $sout, $serr) = ("SET aftersales.now = '$due';\nSET application_name = 'sweeper';\nBEGIN;\n"
	  . "SELECT 'batch', (aftersales.sweep(batch => 20)).claimed;\n", '', '');
my $sh = IPC::Run::start([ 'psql', '-X', '-q', '-A', '-d', $node->connstr('sweep') ], '<', \$sin, '>', \$sout, '2>', \$serr);
for my $try (1 .. 600)
{
	$sh->pump_nb;    # feeds psql its input
	last if $node->safe_psql('sweep',
		q{SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'sweeper' AND state = 'idle in transaction'})
	  eq 't';
	die 'the second sweep batch did not run' if $try == 600;
	usleep(200_000);
}
$node->stop('immediate');
$sh->finish;    # psql prints what it had (its connection is gone) and exits
like($sout, qr/batch\|20/, 'a second batch of 20 was claimed and swept, then the server stopped before its commit');
$node->start;
is($node->safe_psql('sweep', 'SELECT count(*) FROM aftersales.alerts'), $after_first,
	'after the stop: the interrupted batch left nothing');
$node->safe_psql('sweep', qq{SET aftersales.now = '$due'; CALL aftersales.sweep_until_done(batch => 20, max_batches => 1000)});
is($node->safe_psql('sweep', $alerts_sql), $reference,
	'the next run completes the work exactly once: the alerts of an uninterrupted run');
$node->safe_psql('sweep', qq{SET aftersales.now = '$due'; CALL aftersales.sweep_until_done(batch => 20, max_batches => 1000)});
is($node->safe_psql('sweep', $alerts_sql), $reference, 'and one more run fires nothing');
is($node->safe_psql('sweep', 'SELECT count(*) FROM aftersales.check_watches()'), '0',
	'check_watches() clean after the interrupted sweep');

unlike(slurp_file($node->logfile), qr/PANIC|TRAP:/, 'no PANIC or assertion failure in the server log');

$node->stop;
done_testing();
