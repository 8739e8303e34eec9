/*
 * version.c: binding the C library to the extension's SQL version.
 *
 * `make install` replaces aftersales.so at once, while the SQL objects stay
 * at the installed version until ALTER EXTENSION aftersales UPDATE.  In
 * between, new sessions run the new library under the old SQL.  The rule:
 *   - SQL at the library's version: nothing to say;
 *   - SQL at an older release this library still serves (every C symbol a
 *     released install script names is kept, as a wrapper when replaced):
 *     the functions keep working, and the session gets one WARNING saying
 *     to run ALTER EXTENSION aftersales UPDATE;
 *   - any other SQL version (newer than the library: an older build was
 *     installed over a newer release): an ERROR, before the library
 *     interprets objects it does not know.
 * The check reads pg_extension once per session (once per call while it
 * fails), from aftersales.current_tenant(), which every write and every API
 * function goes through: a static flag after the first call.
 */
#include "version.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"

/* Releases whose SQL objects this library serves, the current one last. */
static const char *const served_versions[] = {"0.1.0", AFTERSALES_VERSION};

static bool version_checked = false;

/* extversion of aftersales in this database, palloc'd; NULL if absent. */
static char *
installed_version(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	char	   *version = NULL;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("aftersales"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		d = heap_getattr(tuple, Anum_pg_extension_extversion,
									 RelationGetDescr(rel), &isnull);

		if (!isnull)
			version = text_to_cstring(DatumGetTextPP(d));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return version;
}

void
aftersales_check_version(void)
{
	char	   *sql;
	int			i;

	if (likely(version_checked))
		return;
	/* an install or update script runs with its objects half made */
	if (creating_extension)
		return;
	sql = installed_version();
	if (sql == NULL)
		return;					/* called while the extension is dropped */
	if (strcmp(sql, AFTERSALES_VERSION) == 0)
	{
		version_checked = true;
		return;
	}
	for (i = 0; i < lengthof(served_versions); i++)
	{
		if (strcmp(sql, served_versions[i]) == 0)
		{
			version_checked = true;
			ereport(WARNING,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("aftersales extension version %s is older than its library, version %s",
							sql, AFTERSALES_VERSION),
					 errdetail("The functions of version %s keep working; the changes of version %s are not in effect.",
							   sql, AFTERSALES_VERSION),
					 errhint("Run ALTER EXTENSION aftersales UPDATE; in this database.")));
			return;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("aftersales extension version %s cannot run on its library, version %s",
					sql, AFTERSALES_VERSION),
			 errdetail("The library serves extension versions %s to %s.",
					   served_versions[0], AFTERSALES_VERSION),
			 errhint("Install the aftersales library of version %s (make install from that release) and reconnect.",
					 sql)));
}

PG_FUNCTION_INFO_V1(aftersales_library_version);
Datum
aftersales_library_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(AFTERSALES_VERSION));
}
