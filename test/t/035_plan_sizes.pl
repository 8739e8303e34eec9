# 035_plan_sizes.pl: the escalation-watch statements over transition tables
# are planned for the size of the table they get.
#
# A plan kept from a small statement (a nested loop over a one-row
# transition table) made a later 10,000-ticket open_tickets in the same
# session ten times slower.  Timing is no test on a shared machine, the
# plan is: auto_explain logs the nested statements' plans, and in the big
# call every transition-table scan of a statement writing
# escalation_watches must be estimated at the big call's row count.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $db = 'plans';
my $node = PostgreSQL::Test::Cluster->new('plans');
$node->init;
$node->append_conf('postgresql.conf', "TimeZone = 'UTC'\nlog_statement = none\n");
$node->start;
$node->safe_psql('postgres', qq{CREATE DATABASE "$db"});
$node->safe_psql($db, q{
CREATE EXTENSION aftersales;
SET aftersales.now = '2026-03-02 09:00+00';
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.customers (name, tier) VALUES ('Acme Steel', 'key');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
});

my $n = 3000;
my ($out, $err) = ('', '');
$node->psql(
	$db, qq{
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_nested_statements = on;
SET client_min_messages = log;
SET aftersales.now = '2026-03-02 09:00+00';
SELECT count(*) FROM aftersales.open_tickets('[]');
SELECT count(*) FROM aftersales.open_tickets('[{"customer": 1, "problem_type": 1, "priority": "A", "description": "small 1", "requested_at": "2026-03-03 09:00+00"},
                                               {"customer": 1, "problem_type": 1, "priority": "A", "description": "small 2", "requested_at": "2026-03-03 09:00+00"}]');
SELECT 'big call starts';
SELECT count(*) FROM aftersales.open_tickets(
    (SELECT jsonb_agg(jsonb_build_object('customer', 1, 'problem_type', 1, 'priority', 'A',
                                         'description', 'big ' || g, 'requested_at', '2026-03-03 09:00+00'))
       FROM generate_series(1, $n) g));
}, stdout => \$out, stderr => \$err, on_error_die => 1);
like($out, qr/^0\n2\nbig call starts\n$n$/m, "an empty and a two-ticket, then a $n-ticket open_tickets in one session");

my (undef, $big) = split /big call starts/, $err, 2;
$big //= '';
my @plans = grep { /escalation_watches/ && /Named Tuplestore Scan/ } split /LOG:  duration: /, $big;
cmp_ok(scalar(@plans), '>', 0, 'the big call ran escalation-watch statements over a transition table');
my @small = grep { /Named Tuplestore Scan\s+\(cost=[^)]*rows=(\d+)/ && $1 < $n } @plans;
is(scalar(@small), 0, "each is planned for the $n rows of its transition table, not the earlier calls' sizes")
  or diag(join("\n----\n", @small));

$node->stop;
done_testing();
