# aftersales: PGXS build.
#
# Layout: src/*.c is the C module; src/sql/NN_*.sql, concatenated in name
# order, is the install script for the current version; src/sql/upgrade/
# holds the released install scripts and the upgrade scripts (never edited
# once released; aftersales--0.1.0.sql is 0.1.0 as released, byte for byte).
# sql/ + expected/ are pg_regress's, test/ holds the other suites and the
# scripts behind `make demo`, `make test` and `make bench`.

EXTENSION   = aftersales
EXTVERSION  = $(shell sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" aftersales.control)

MODULE_big  = aftersales
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
DATA_built  = aftersales--$(EXTVERSION).sql
DATA        = $(wildcard src/sql/upgrade/*.sql)

REGRESS      = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --load-extension=aftersales

PG_CPPFLAGS = -I$(srcdir)/src -Wall -Wextra -Werror -Wno-unused-parameter \
              -Wno-missing-field-initializers \
              -DAFTERSALES_VERSION='"$(EXTVERSION)"'

EXTRA_CLEAN = results regression.diffs regression.out output_iso \
              test/isolation/results test/isolation/output_iso

# Debian's pg_config wrapper picks the newest server-dev; pin 15 when present.
ifneq ($(wildcard /usr/lib/postgresql/15/bin/pg_config),)
PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
else
PG_CONFIG ?= pg_config
endif
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
endif

# the library knows its version (src/version.c)
src/version.o: aftersales.control

# PGXS tracks no header dependencies: rebuild every object when a header
# (the SQL of src/sla_clock.h, say) changes.
$(OBJS): $(wildcard src/*.h)

aftersales--$(EXTVERSION).sql: $(sort $(wildcard src/sql/[0-9]*.sql))
	cat $^ > $@

.PHONY: demo test bench fuzz valgrind
# The README's two commands are test/bin/demo and test/bin/run-tests (they
# need no make); these targets run them. Both provision what is missing (Debian
# packages, a private cluster under .cluster/) before doing their job.
demo:
	test/bin/demo

test:
	test/bin/run-tests

fuzz:
	test/bin/fuzz

# memcheck over the pg_regress suite, the server under valgrind (slow; not
# part of make test)
valgrind:
	test/bin/valgrind

bench:
	AFTERSALES_BENCH=$(or $(ONLY),$(AFTERSALES_BENCH)) test/bin/bench
