# 050_fuzz.pl: a deterministic fuzzer (fixed seeds) of the calendar's text
# and binary input and of every API function's arguments.
#
# Inputs:
#   - calendar text: mutations of valid calendars (truncation, duplication,
#     byte flips, huge numbers, deep ranges, bytes that are not UTF-8, very
#     long strings);
#   - calendar binary: random and mutated COPY BINARY payloads;
#   - API functions (schema aftersales, not internal): every argument in
#     turn set to NULL, out-of-range numbers, infinite or far timestamps,
#     intervals with months, other tenants' ids, 1 MB strings, the others
#     left valid.
# Oracle: no crash (the server log has no "terminated by signal"), no hang
# (every batch under statement_timeout), no SQLSTATE XX000 (internal error)
# and every refusal of a class a caller can act on; no message echoes a
# long input in full, and no API refusal is a raw constraint or cast error
# (one with no hint, such as 22P02 from a cast of a JSON element).
#
# AFTERSALES_FUZZ_SCALE multiplies the number of cases (make fuzz: 20).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $scale = $ENV{AFTERSALES_FUZZ_SCALE} || 1;
my $db = 'fuzz';
my $node = PostgreSQL::Test::Cluster->new('fuzz');
$node->init;
$node->append_conf('postgresql.conf', "TimeZone = 'UTC'\nlog_statement = none\nlog_min_messages = warning\n");
$node->start;
$node->safe_psql('postgres', qq{CREATE DATABASE "$db"});
$node->safe_psql($db, q{
CREATE EXTENSION aftersales;
SET aftersales.now = '2026-03-02 09:00+00';
INSERT INTO aftersales.organisations (level, org_type, name) VALUES ('hq', 'headquarters', 'HQ');
INSERT INTO aftersales.customers (name, tier) VALUES ('Acme Steel', 'key'), ('Bolt Foods', 'standard');
INSERT INTO aftersales.problem_types (code, name) VALUES ('NOPWR', 'No power');
INSERT INTO aftersales.engineers (org_id, name) VALUES (1, 'Wang Wei'), (1, 'Li Na');
SELECT aftersales.open_ticket(1, 1, 'A', 'fuzz target', at => '2026-03-02 09:00+00');
SELECT aftersales.assign_ticket(1, 1, at => '2026-03-02 09:10+00');
SELECT aftersales.sweep(now => '2026-03-03 09:00+00');
-- a second tenant whose ids the fuzzer passes to tenant 1
INSERT INTO aftersales.tenants (tenant_id, name) VALUES (2, 'other');
CREATE TABLE public.fuzz_results (kind text, input text, sqlstate text, message text, hint text);
CREATE TABLE public.fuzz_cal (c aftersales.calendar);
-- run one statement; its effects are always rolled back
CREATE FUNCTION public.fuzz_try(kind text, stmt text) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE st text; msg text; hnt text;
BEGIN
    BEGIN
        EXECUTE stmt;
        RAISE EXCEPTION USING ERRCODE = 'ZZ999', MESSAGE = 'accepted';
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hnt = PG_EXCEPTION_HINT;
    END;
    INSERT INTO public.fuzz_results VALUES (kind, pg_catalog.left(stmt, 300), st, pg_catalog.left(msg, 100000), hnt);
END $f$;
});

# A small deterministic generator (xorshift), the same on every machine.
my $state;
sub seed { $state = shift || 1 }
sub rnd
{
	my ($n) = @_;
	return 0 if $n <= 0;
	$state ^= ($state << 13) & 0xffffffff;
	$state ^= ($state >> 17);
	$state ^= ($state << 5) & 0xffffffff;
	$state &= 0xffffffff;
	return $state % $n;
}
sub pick { my @a = @_; return @a ? $a[ rnd(scalar @a) ] : "" }

sub sql_literal
{
	my ($s) = @_;
	$s =~ s/'/''/g;
	return "'$s'";
}

# ---------------------------------------------------------------------------
# Calendar text input
my @valid = (
	'zone=Asia/Shanghai; mon-fri 09:00-12:00,13:00-18:00; holiday 2026-10-01..2026-10-07; workday 2026-10-10 09:00-18:00',
	'zone=UTC; mon-sun 00:00-24:00',
	'zone=Europe/Paris; mon,wed,fri 08:30-17:30; sat 22:00-06:00; holiday *-12-25, 2026-01-01',
	'zone=America/New_York; mon-fri 09:00-17:00; closed 2026-12-24 12:00-24:00; holiday 2026-11-26',
);
sub mutate_text
{
	my ($s) = @_;
	my $op = rnd(9);
	my $p = length($s) ? rnd(length $s) : 0;
	return substr($s, 0, $p) if $op == 0;                                     # truncation
	return substr($s, 0, $p) . substr($s, $p / 2) if $op == 1;               # duplication
	if ($op == 2)                                                             # byte flip
	{
		substr($s, $p, 1) = chr((ord(substr($s, $p, 1)) ^ (1 << rnd(7))) & 0x7f || 0x20) if length $s;
		return $s;
	}
	return substr($s, 0, $p) . pick('99999999999999999999', '2147483648', '-1', '00:00:60', '25:00', '9999-99-99', '0000-00-00')
	  . substr($s, $p) if $op == 3;                                           # huge numbers
	return "$s; holiday " . join(',', map { sprintf('2026-01-%02d..2026-12-%02d', 1 + rnd(28), 1 + rnd(28)) } 1 .. 200 + rnd(2000))
	  if $op == 4;                                                            # deep ranges
	return substr($s, 0, $p) . pick("\xc3\x28", "\xff", "\xe2\x82", "\xed\xa0\x80") . substr($s, $p) if $op == 5; # not UTF-8
	return $s . '; holiday ' . ('2026-01-01,' x (1000 + rnd(100000))) . '2026-01-02' if $op == 6;                 # very long
	return join(';', map { pick(split /;/, $s) } 1 .. 1 + rnd(50)) if $op == 7;                                      # shuffle clauses
	return pick('', ';', ';;;', 'zone=', 'zone=Asia/Nowhere', 'mon-fri', "zone=UTC; mon-fri 09:00-17:00\0x") if $op == 8;
}

seed(20261203);
my $text_cases = 600 * $scale;
my @batch;
my $flush = sub {
	my ($kind) = @_;
	return unless @batch;
	my ($rc, $out, $err) = $node->psql($db,
		"SET statement_timeout = '60s';\n" . join('', map { "SELECT public.fuzz_try('$kind', $_);\n" } @batch));
	@batch = ();
	die "fuzz batch of $kind failed: $err" if $rc != 0 && $err !~ /invalid byte sequence/;
};
for my $i (1 .. $text_cases)
{
	my $s = mutate_text(pick(@valid));
	$s = mutate_text($s) if rnd(3) == 0;
	# bytes that are not UTF-8 cannot travel as text: they go through
	# convert_from, which is the check every client's input meets
	my $expr = ($s =~ /[\x80-\xff]/ || $s =~ /\0/)
	  ? sql_literal("SELECT pg_catalog.convert_from(decode(" . sql_literal(unpack('H*', $s)) . ", 'hex'), 'UTF8')::aftersales.calendar")
	  : sql_literal('SELECT ' . sql_literal($s) . '::aftersales.calendar');
	push @batch, $expr;
	$flush->('calendar text') if @batch >= 50;
}
$flush->('calendar text');

# ---------------------------------------------------------------------------
# Calendar binary receive: COPY BINARY payloads
my @sends = split /\n/, $node->safe_psql($db,
	'SELECT encode(aftersales_internal.calendar_send(c::aftersales.calendar), \'hex\') FROM unnest(ARRAY['
	  . join(',', map { sql_literal($_) } @valid) . ']) c');
my $tmp = PostgreSQL::Test::Utils::tempdir();
my $bin_cases = 300 * $scale;
for my $i (1 .. $bin_cases)
{
	my $payload;
	if (rnd(4) == 0)
	{
		$payload = join('', map { chr(rnd(256)) } 1 .. rnd(200));
	}
	else
	{
		$payload = pack('H*', pick(@sends));
		for (1 .. 1 + rnd(4))
		{
			my $op = rnd(5);
			my $p = length($payload) ? rnd(length $payload) : 0;
			if    ($op == 0) { $payload = substr($payload, 0, $p) }
			elsif ($op == 1) { substr($payload, $p, 1) = chr(rnd(256)) if length $payload }
			elsif ($op == 2) { substr($payload, $p, 4) = pick("\xff\xff\xff\xff", "\x7f\xff\xff\xff", "\x80\0\0\0", "\0\0\0\0") if length($payload) > $p + 4 }
			elsif ($op == 3) { $payload .= substr($payload, $p) }
			else             { $payload = substr($payload, 0, $p) . chr(rnd(256)) x rnd(64) . substr($payload, $p) }
		}
	}
	my $file = "$tmp/cal$i.bin";
	open my $fh, '>:raw', $file or die $!;
	print $fh "PGCOPY\n\xff\r\n\0", pack('NN', 0, 0), pack('n', 1), pack('N', length $payload), $payload, pack('n', 0xffff);
	close $fh;
	# the server reads the file: COPY FROM a file, in fuzz_try's subtransaction
	push @batch, sql_literal('COPY public.fuzz_cal FROM ' . sql_literal($file) . ' WITH (FORMAT binary)');
	$flush->('calendar binary') if @batch >= 50;
}
$flush->('calendar binary');
my $bin_refused = $node->safe_psql($db, q{SELECT count(*) FROM public.fuzz_results WHERE kind = 'calendar binary' AND sqlstate <> 'ZZ999'});
my @accepted = split /\n/, $node->safe_psql($db, q{SELECT input FROM public.fuzz_results WHERE kind = 'calendar binary' AND sqlstate = 'ZZ999'});
$node->safe_psql($db, join(";\n", @accepted)) if @accepted;
my $bin_accepted = $node->safe_psql($db, 'SELECT count(*) FROM public.fuzz_cal');
is($bin_accepted, scalar(@accepted), "calendar binary: $bin_refused payloads refused, $bin_accepted accepted and loaded again");
# what binary input accepted must print and read back as itself
is($node->safe_psql($db, 'SELECT count(*) FROM public.fuzz_cal WHERE c::text::aftersales.calendar::text <> c::text'),
	'0', 'calendar binary: every accepted payload round-trips through text');

# ---------------------------------------------------------------------------
# API functions
my @functions = split /\n/, $node->safe_psql($db, q{
SELECT p.proname || E'\t' || pg_catalog.array_to_string(ARRAY(
         SELECT pg_catalog.format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, i) ORDER BY i), ',')
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'aftersales'::pg_catalog.regnamespace AND p.proname !~ '^_' AND p.prokind = 'f'
   AND p.prorettype NOT IN ('pg_catalog.trigger'::pg_catalog.regtype, 'pg_catalog.internal'::pg_catalog.regtype)
   AND NOT ('pg_catalog.internal'::pg_catalog.regtype = ANY (p.proargtypes::oid[]))
   AND NOT ('pg_catalog.cstring'::pg_catalog.regtype = ANY (p.proargtypes::oid[]))
   AND p.proname NOT IN ('generate_sample_data', 'schedule_sweeps', 'unschedule_sweeps')
 ORDER BY 1});
my $mb = "repeat('x', 1048576)";
my %good = (
	'bigint' => '1', 'integer' => '1', 'text' => "'text'", 'boolean' => 'true', 'numeric' => '1',
	'double precision' => '1', 'timestamp with time zone' => "'2026-03-02 10:00+00'",
	'interval' => "'1 hour'", 'jsonb' => q{'[{"customer": 1, "problem_type": 1, "priority": "B", "description": "j"}]'},
	'aftersales.priority' => "'B'", 'aftersales.ticket_status' => "'new'", 'aftersales.ticket_tier' => "'customer_service'",
	'aftersales.ticket_event' => "'assign'", 'aftersales.calendar' => "'zone=UTC; mon-fri 09:00-17:00'",
	'bytea' => "'\\x00'", 'bigint[]' => "'{1}'",
);
my %bad = (
	'bigint' => [ 'NULL', '0', '-1', '9223372036854775807', '(SELECT 2::bigint)' ],
	'integer' => [ 'NULL', '-1', '0', '2147483647', '-2147483648' ],
	'text' => [ 'NULL', "''", "'   '", "E'\\t\\n'", $mb, "'-- ; DROP'" ],
	'boolean' => ['NULL'],
	'numeric' => [ 'NULL', "'NaN'", "'Infinity'", '1e100', '-1' ],
	'double precision' => [ 'NULL', "'NaN'", "'Infinity'", '1e300' ],
	'timestamp with time zone' => [ 'NULL', "'infinity'", "'-infinity'", "'294276-12-31 23:59:59+00'", "'4713-01-01 00:00+00 BC'", "'9999-12-31 23:59:59+00'" ],
	'interval' => [ 'NULL', "'1 month'", "'-1 hour'", "'2147483647 hours'", "'0'", "'1 year 2 months'" ],
	'jsonb' => [ 'NULL', "'null'", "'[]'", "'{}'", "'[1]'", q{'[{"customer": "x"}]'}, q{'[{"customer": 1, "problem_type": 1, "priority": "Z", "description": "d"}]'},
		"(SELECT jsonb_agg(jsonb_build_object('customer', 1, 'problem_type', 1, 'priority', 'B', 'description', $mb)))" ],
	'aftersales.priority' => ['NULL'], 'aftersales.ticket_status' => ['NULL'], 'aftersales.ticket_tier' => ['NULL'],
	'aftersales.ticket_event' => ['NULL'], 'aftersales.calendar' => ['NULL'], 'bytea' => [ 'NULL', "'\\x'" ],
	'bigint[]' => [ 'NULL', "'{}'", "'{NULL}'", "'{-1}'" ],
);
my $api_cases = 0;
for my $f (@functions)
{
	my ($name, $types) = split /\t/, $f;
	my @t = split /,/, ($types // '');
	for my $i (0 .. $#t)
	{
		for my $v (@{ $bad{ $t[$i] } || ['NULL'] })
		{
			my @args = map { $good{$_} // 'NULL' } @t;
			$args[$i] = $v;
			push @batch, sql_literal('SELECT * FROM aftersales.' . $name . '(' . join(', ', @args) . ')');
			$api_cases++;
			$flush->("api $name") if @batch >= 20;
		}
	}
	$flush->("api $name");
}
cmp_ok($api_cases, '>', 300, "$api_cases API calls with bad arguments");

# ---------------------------------------------------------------------------
# The oracle
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal/, 'no server process terminated by a signal');
unlike($log, qr/canceling statement due to statement timeout/, 'no case ran into the statement timeout');
is($node->safe_psql($db, q{SELECT count(*) FROM public.fuzz_results WHERE sqlstate = '57014'}), '0', 'no hang');
my $xx = $node->safe_psql($db, q{SELECT string_agg(kind || ': ' || left(input, 200) || ' -> ' || sqlstate || ' ' || left(message, 200), E'\n') FROM public.fuzz_results WHERE sqlstate LIKE 'XX%'});
is($xx, '', 'no internal error (SQLSTATE XX...)');
# a refusal is of a class a caller can act on: data (22), integrity (23),
# syntax/access (42), resources (53/54), object state (55), PL/pgSQL
# (P0: a raised error, P0002 not found), invalid text representation etc.
my $odd = $node->safe_psql($db, q{
SELECT string_agg(DISTINCT kind || ': ' || sqlstate || ' ' || left(message, 160), E'\n')
  FROM public.fuzz_results
 WHERE sqlstate <> 'ZZ999' AND left(sqlstate, 2) NOT IN ('22', '23', '42', '53', '54', '55', 'P0', '2F', '0A', '57')
   -- a binary payload shorter than it says: 08P01, as for every type of core
   AND NOT (kind = 'calendar binary' AND sqlstate = '08P01')});
is($odd, '', 'every refusal has a SQLSTATE of a class the caller can act on');

my $n_total = $node->safe_psql($db, 'SELECT count(*) FROM public.fuzz_results');
my $n_refused = $node->safe_psql($db, q{SELECT count(*) FROM public.fuzz_results WHERE sqlstate <> 'ZZ999'});

# Refusals a caller can read: long inputs are cut, and an API refusal
# names the bad value with a hint, never a bare constraint or cast error.
my $long = $node->safe_psql($db, q{
SELECT string_agg(DISTINCT kind || ': ' || sqlstate || ' message of ' || length(message) || ' characters', E'\n')
  FROM public.fuzz_results WHERE sqlstate <> 'ZZ999' AND length(message) > 1000});
is($long, '', 'no error message longer than 1,000 characters (long inputs are cut)');
my $raw = $node->safe_psql($db, q{
SELECT string_agg(DISTINCT kind || ': ' || sqlstate || ' ' || left(message, 120), E'\n')
  FROM public.fuzz_results
 WHERE sqlstate IN ('23502', '23503', '22P02') AND kind LIKE 'api %' AND COALESCE(hint, '') = ''});
is($raw, '', 'no API refusal is a raw constraint or cast error (each has a hint)');
diag("fuzz: $n_total cases ($text_cases calendar text, $bin_cases calendar binary, $api_cases API), "
	  . "$n_refused refused, 0 crashes");

$node->stop;
done_testing();
