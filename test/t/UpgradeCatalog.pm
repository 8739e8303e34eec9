# UpgradeCatalog.pm: the catalogue of an installed aftersales, as text that
# two databases can be compared by (an upgraded one and a fresh install).
#
# Used by test/t/005_upgrade.pl and by test/bin/upgrade-diff.  It does not
# talk to a server: the callers run pg_dump and psql and hand the output
# here.  Three parts:
#   - normalise_dump: `pg_dump --binary-upgrade --schema-only` of the whole
#     database (binary-upgrade mode is what dumps extension members, with
#     their ALTER EXTENSION ... ADD), cut into pg_dump's "-- Name:" blocks,
#     noise removed, blocks sorted;
#   - MEMBERS_SQL: pg_depend's extension membership (deptype 'e');
#   - CONFIG_SQL: the extension row and its extconfig/extcondition pairs.
package UpgradeCatalog;

use strict;
use warnings;

use Exporter 'import';
our @EXPORT_OK = qw(normalise_dump catalogue MEMBERS_SQL CONFIG_SQL);

use constant MEMBERS_SQL => q{
SELECT m FROM (
SELECT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) AS m
  FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
 WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
   AND d.deptype = 'e' AND e.extname = 'aftersales') s
 ORDER BY m COLLATE "C"};

use constant CONFIG_SQL => q{
SELECT 'extension ' || e.extname || ' ' || e.extversion || ' schema ' || n.nspname
       || ' relocatable ' || e.extrelocatable
  FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'aftersales'
UNION ALL
(SELECT l FROM (
SELECT 'config ' || c.tab::pg_catalog.regclass::text || ' ' || coalesce(pg_catalog.quote_literal(c.cond), 'NULL') AS l
  FROM pg_catalog.pg_extension e,
       unnest(e.extconfig, e.extcondition) AS c(tab, cond)
 WHERE e.extname = 'aftersales') s
 ORDER BY l COLLATE "C")};

# normalise_dump(TEXT): the dump as sorted blocks, without what differs
# between two databases of the same catalogue:
#   - OIDs and relfilenodes pg_upgrade would carry over
#     (binary_upgrade_set_next_* and their comment lines);
#   - the extconfig OID and condition arrays of
#     binary_upgrade_create_empty_extension (compared by name in CONFIG_SQL);
#   - atthasmissing values (binary_upgrade_set_missing_value): an ADD
#     COLUMN ... DEFAULT on an existing table leaves them, a CREATE TABLE
#     does not, and they never change what a query sees;
#   - dropped columns (binary upgrade recreates them as
#     "........pg.dropped.N........"): invisible to every query;
#   - sequence positions (setval of config-dumped sequences: data);
#   - relfrozenxid/relminmxid of tables and their TOAST tables;
#   - the header, \restrict/\unrestrict keys and blank lines.
# Column order is kept: a column added by ALTER TABLE lands last, and the
# install script must put it last too (SELECT * and COPY see the order).
sub normalise_dump
{
	my ($text) = @_;
	my @blocks = split /\n(?=--\n-- Name: )/, $text;
	shift @blocks;    # the header: SETs and version comments
	my @out;
	for my $b (@blocks)
	{
		# multi-line statements of pg_upgrade's bookkeeping
		$b =~ s/UPDATE pg_catalog\.pg_class\nSET relfrozenxid = [^\n]*\nWHERE oid = [^\n]*;\n?//g;
		$b =~ s/UPDATE pg_catalog\.pg_attribute\nSET attlen = [^\n]*\nWHERE attname = [^\n]*\n\s*AND attrelid = [^\n]*;\n?//g;
		my @lines;
		for my $l (split /\n/, $b)
		{
			next if $l =~ /^\s*$/;
			next if $l =~ /^--\s*$/;
			next if $l =~ /^\\(un)?restrict /;
			next if $l =~ /^-- (Dumped|PostgreSQL database dump)/;
			next if $l =~ /binary_upgrade_set_next_/;
			next if $l =~ /^-- For binary upgrade, (must preserve|set heap|set toast)/;
			next if $l =~ /binary_upgrade_set_missing_value/;
			next if $l =~ /^-- set missing value\./;
			next if $l =~ /pg\.dropped\.\d+/;
			next if $l =~ /^-- For binary upgrade, recreate dropped column/;
			next if $l =~ /^SET (default_tablespace|default_table_access_method) /;
			$l =~ s/^(SELECT pg_catalog\.setval\('[^']*'), \d+, (?:true|false)\);$/$1, N);/;
			$l =~ s/(binary_upgrade_create_empty_extension\('[^']*', '[^']*', \w+, '[^']*'), '\{[^}]*\}', '(?:[^']|'')*'/$1, '{extconfig}', '{extcondition}'/;
			push @lines, $l;
		}
		next unless @lines;
		my $s = join("\n", @lines);
		# a dropped last column leaves the previous one with its comma
		$s =~ s/,\n\);/\n);/g;
		push @out, $s;
	}
	return join("\n\n", sort @out) . "\n";
}

# catalogue(DUMP, MEMBERS, CONFIG): the three parts as one text.
sub catalogue
{
	my ($dump, $members, $config) = @_;
	return "==== pg_dump --binary-upgrade --schema-only, normalised, sorted by block\n\n"
	  . normalise_dump($dump)
	  . "\n==== pg_depend: members of extension aftersales\n"
	  . $members . "\n"
	  . "\n==== pg_extension: version, extconfig and extcondition\n"
	  . $config . "\n";
}

1;
