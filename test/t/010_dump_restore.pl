# 010_dump_restore.pl: a working database survives pg_dump and pg_restore.
#
# Tickets in every kind of state, their event log, SLA clocks, escalation
# watches, alerts and sweep runs are dumped (pg_extension_config_dump) and
# restored the way the README says: with session_replication_role =
# replica, so that the closed loop's guard does not judge the restored rows
# as new entries.  The restored database then passes the replay and watch
# checks, equals the original, and carries on: the tickets' life cycles
# continue, new tickets and alerts get fresh ids, and the sweep fires what
# comes due next, once.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $db = 'aftersales';

sub new_node
{
	my ($name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', "TimeZone = 'UTC'\n");
	$node->start;
	$node->safe_psql('postgres', qq{CREATE DATABASE "$db"});
	return $node;
}

# What must survive: every row of the user data, ids included, one digest
# per table.
my %fingerprint = (
	tickets => q{SELECT md5(string_agg(t::text, '|' ORDER BY t.tenant_id, t.ticket_id)) FROM aftersales.tickets t},
	events => q{SELECT md5(string_agg(e::text, '|' ORDER BY e.tenant_id, e.ticket_id, e.seq)) FROM aftersales.ticket_events e},
	clocks => q{SELECT md5(string_agg(c::text, '|' ORDER BY c::text)) FROM aftersales.ticket_sla c},
	watches => q{SELECT md5(string_agg(w::text, '|' ORDER BY w::text)) FROM aftersales.escalation_watches w},
	alerts => q{SELECT md5(string_agg(a::text, '|' ORDER BY a.tenant_id, a.alert_id)) FROM aftersales.alerts a},
	queue => q{SELECT md5(string_agg(q::text, '|' ORDER BY q::text)) FROM aftersales.ticket_escalations q},
	runs => q{SELECT md5(string_agg(r::text, '|' ORDER BY r.tenant_id, r.run_id)) FROM aftersales.sweep_runs r},
	counts => q{SELECT string_agg(o::text, '|' ORDER BY o::text) FROM aftersales.occurrence_counts o},
	rights => q{SELECT string_agg(r::text, '|' ORDER BY r::text) FROM aftersales.tenant_event_rights r},
);

my $node = new_node('main');
$node->safe_psql($db, q{
CREATE EXTENSION aftersales;
SET aftersales.now = '2026-03-02 09:00+08';
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.customers (name, tier) VALUES ('Acme Steel', 'key'), ('Bolt Foods', 'standard');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
INSERT INTO aftersales.engineers (org_id, name) VALUES (1, 'Wang Wei'), (1, 'Li Na');
-- 1: closed; 2: on hold; 3: awaiting assignment, late; 4: locked after two
-- failed handlings; 5: awaiting assignment past its requested date.
SELECT aftersales.open_ticket(1, 1, 'B', 'closed one', field => true, at => '2026-03-02 09:00+08');
SELECT aftersales.assign_ticket(1, 1, at => '2026-03-02 09:10+08');
SELECT aftersales.arrive_on_site(1, at => '2026-03-02 10:00+08');
SELECT aftersales.resolve_ticket(1, 'relay', at => '2026-03-02 11:00+08');
SELECT aftersales.follow_up(1, true, 5, 9, 'good', at => '2026-03-03 10:00+08');
SELECT aftersales.open_ticket(2, 1, 'C', 'held one', at => '2026-03-02 09:30+08');
SELECT aftersales.assign_ticket(2, 2, at => '2026-03-02 09:40+08');
SELECT aftersales.hold_ticket(2, 'customer away', at => '2026-03-02 10:00+08');
SELECT aftersales.open_ticket(2, 1, 'A', 'late one', at => '2026-03-02 09:00+08');
SELECT aftersales.open_ticket(2, 1, 'B', 'hard one', at => '2026-03-02 09:00+08');
SELECT aftersales.assign_ticket(4, 1, at => '2026-03-02 09:05+08');
SELECT aftersales.fail_attempt(4, 'no part', at => '2026-03-02 10:00+08');
SELECT aftersales.assign_ticket(4, 2, at => '2026-03-02 10:05+08');
SELECT aftersales.fail_attempt(4, 'still broken', at => '2026-03-02 11:00+08');
SELECT aftersales.open_ticket(2, 1, 'C', 'requested', requested_at => '2026-03-02 14:00+08', at => '2026-03-02 09:00+08');
-- the tenant's own rights: agents may not cancel, engineers may take over
INSERT INTO aftersales.tenant_event_rights (kind, event, allowed) VALUES ('agent', 'cancel', false), ('engineer', 'take_over', true);
});
$node->safe_psql($db, q{SELECT aftersales.sweep(now => '2026-03-02 15:00+08')});

is($node->safe_psql($db, q{SELECT string_agg(ticket_id || ':' || status, ',' ORDER BY ticket_id) FROM aftersales.tickets}),
	'1:closed,2:on_hold,3:new,4:locked,5:locked',
	'the original: tickets in every kind of state, ticket 5 locked by the sweep');
cmp_ok($node->safe_psql($db, 'SELECT count(*) FROM aftersales.alerts'), '>=', 8,
	'the original: the sweep raised alerts');

my %before = map { $_ => $node->safe_psql($db, $fingerprint{$_}) } keys %fingerprint;
is($before{rights}, '(1,agent,cancel,f,f)|(1,engineer,take_over,t,f)', 'the original: the tenant changed two rights');

my $dump = PostgreSQL::Test::Utils::tempdir() . '/aftersales.dump';
$node->command_ok([ 'pg_dump', '--format=custom', '--file', $dump, $db ],
	'pg_dump of a working database');

# A restore with the triggers active is refused, and says why.
my $plain = new_node('plain');
$plain->command_fails_like(
	[ 'pg_restore', '--exit-on-error', '--dbname', $db, $dump ],
	qr/a ticket cannot be entered as closed.*\n.*restore with session_replication_role = replica/,
	'a restore with the guard active fails, and says how to restore');
$plain->stop;

my $copy = new_node('copy');
{
	local $ENV{PGOPTIONS} = '-c session_replication_role=replica';
	$copy->command_ok(
		[ 'pg_restore', '--exit-on-error', '--dbname', $db, $dump ],
		'pg_restore with session_replication_role = replica, as the README says');
}

for my $k (sort keys %fingerprint)
{
	is($copy->safe_psql($db, $fingerprint{$k}), $before{$k}, "restored $k equal the original's");
}
is($copy->safe_psql($db, 'SELECT count(*) FROM aftersales.check_tickets()'),
	'0', 'every restored ticket equals the replay of its events');
is($copy->safe_psql($db, 'SELECT count(*) FROM aftersales.check_watches()'),
	'0', 'every restored watch agrees with its clocks');

# Life goes on in the copy.
is( $copy->safe_psql(
		$db, q{
SET aftersales.now = '2026-03-03 09:00+08';
SELECT aftersales.resolve_ticket(2, 'fixed after the hold', at => '2026-03-03 09:00+08');
SELECT aftersales.unlock_ticket(4, at => '2026-03-03 09:10+08');
SELECT aftersales.open_ticket(1, 1, 'B', 'after the restore', at => '2026-03-03 09:20+08');
}),
	"resolved\nnew\n6",
	'restored tickets continue their life cycle; a new ticket gets the next id');
is($copy->safe_psql($db, 'SELECT count(*) FROM aftersales.check_tickets()'),
	'0', 'after new events, stored rows still equal their replay');

my $alerts_before = $copy->safe_psql($db, 'SELECT max(alert_id) FROM aftersales.alerts');
$copy->safe_psql($db, q{SELECT aftersales.sweep(now => '2026-03-03 18:00+08')});
my $again = $copy->safe_psql($db,
	q{SELECT (aftersales.sweep(now => '2026-03-03 18:00+08')).warnings + 0});
cmp_ok($copy->safe_psql($db, "SELECT count(*) FROM aftersales.alerts WHERE alert_id > $alerts_before"),
	'>', 0, 'the sweep in the copy fires what came due since, with fresh alert ids');
is($again, '0', 'and a second sweep at the same instant fires nothing again');
is( $copy->safe_psql(
		$db, q{SELECT count(*) FROM (SELECT ticket_id, clock, kind, level FROM aftersales.alerts
		                             GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d}),
	'0',
	'no stage is announced twice across the restore');

$copy->stop;
$node->stop;

done_testing();
