/*
 * version.c: binding the C library to the extension's SQL version.
 *
 * `make install` replaces aftersales.so at once, while the SQL objects stay
 * at the installed version until ALTER EXTENSION aftersales UPDATE.  In
 * between, new sessions run the new library under the old SQL, which it
 * cannot serve: its statements name objects of its own version (schema
 * aftersales_internal, say).  So a session whose SQL is at another version
 * gets an ERROR before the library runs anything: for an older release,
 * with the hint to run ALTER EXTENSION aftersales UPDATE; for any other
 * version (an older build installed over a newer release), with the hint
 * to install the library of that version.  The check reads pg_extension
 * once per session (once per call while it fails), from
 * aftersales.current_tenant(), which every write and every API function
 * goes through: a static flag after the first call.  Install and update
 * scripts run with the check off (creating_extension).
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

/* Released versions older than this library: the update path exists. */
static const char *const older_versions[] = {"0.1.0"};

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
	size_t		i;

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
	for (i = 0; i < lengthof(older_versions); i++)
	{
		if (strcmp(sql, older_versions[i]) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("aftersales extension version %s does not match its library, version %s",
							sql, AFTERSALES_VERSION),
					 errdetail("The library of version %s was installed; the extension's objects are still those of version %s.",
							   AFTERSALES_VERSION, sql),
					 errhint("Run ALTER EXTENSION aftersales UPDATE; in this database.")));
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("aftersales extension version %s does not match its library, version %s",
					sql, AFTERSALES_VERSION),
			 errdetail("The library knows no update from or to version %s.", sql),
			 errhint("Install the aftersales library of version %s (make install from that release) and reconnect.",
					 sql)));
}

PG_FUNCTION_INFO_V1(aftersales_library_version);
Datum
aftersales_library_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(AFTERSALES_VERSION));
}
