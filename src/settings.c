/*
 * settings.c: the settings a user may make, declared with their types and
 * descriptions, the prefix aftersales.* reserved (a misspelt name is an
 * error), the tenant of a statement resolved and checked in one place, and
 * the backend-local state by which the API tells the trigger on tickets
 * which event it is recording.  That state is no setting: a client cannot
 * forge it, and it ends with the (sub)transaction that made it.
 */
#include "postgres.h"

#include "settings.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

void		_PG_init(void);

static char *tenant_id_setting = NULL;
static char *actor_setting = NULL;
static char *now_setting = NULL;
static char *event_setting = NULL;
static char *event_reason_setting = NULL;
static bool kpi_rollups_setting = true;
static char *app_user_setting = NULL;

static const char *const setting_names[] = {
	"aftersales.tenant_id", "aftersales.actor", "aftersales.now",
	"aftersales.event", "aftersales.event_reason",
	"aftersales.app_user"		/* access control (src/access.c) */
};

/*
 * A mistake made before the library was loaded in this session, when
 * PostgreSQL could not yet tell: a misspelt name (which reserving the
 * prefix then removes with a mere warning) or a bad tenant id (which
 * declaring the setting then drops with a warning, leaving tenant 1).
 * Reported as an error by every use of the settings until the user sets
 * or resets one of them.
 */
static char *early_name = NULL;
static char *early_value = NULL;
static bool loading = false;

static void
forget_early_mistake(const char *newval, void *extra)
{
	if (!loading)
		early_name = early_value = NULL;
}

/* ------------------------------------------------------------------------
 * aftersales.tenant_id: empty, or a positive integer of at most 18 digits
 * (so that it always fits a bigint).
 */

static bool
parse_tenant(const char *v, int64 *tenant)
{
	int			len = strlen(v);
	int64		t = 0;

	if (len < 1 || len > 18 || v[0] < '1' || v[0] > '9')
		return false;
	for (int i = 0; i < len; i++)
	{
		if (v[i] < '0' || v[i] > '9')
			return false;
		t = t * 10 + (v[i] - '0');
	}
	*tenant = t;
	return true;
}

static bool
check_tenant_id(char **newval, void **extra, GucSource source)
{
	int64		t;

	if (*newval == NULL || (*newval)[0] == '\0' || parse_tenant(*newval, &t))
		return true;
	GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
	GUC_check_errdetail("A tenant id is a positive integer, the tenant_id of a row of aftersales.tenants.");
	GUC_check_errhint("For example: SET LOCAL aftersales.tenant_id = '1';");
	return false;
}

static void
report_early_mistake(void)
{
	const char *name = early_name;
	const char *value = early_value;

	if (name == NULL)
		return;
	if (value != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for parameter \"%s\": \"%s\"", name, value),
				 errdetail("It was set before the aftersales library was loaded in this session, and was ignored."),
				 errhint("Set a positive tenant id, for example: SET aftersales.tenant_id = '1'; or RESET aftersales.tenant_id;")));
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("unrecognized configuration parameter \"%s\"", name),
			 errdetail("It was set before the aftersales library was loaded in this session, and was ignored."),
			 errhint("The settings of aftersales are aftersales.tenant_id, aftersales.actor, aftersales.now, aftersales.event and aftersales.event_reason; set or reset one of them to go on.")));
}

/* Whether tenant exists; reads aftersales.tenants by its key, as the owner. */
static bool
tenant_exists(int64 tenant)
{
	Oid			nsp = get_namespace_oid("aftersales", false);
	Oid			relid = get_relname_relid("tenants", nsp);
	Oid			indexid = get_relname_relid("tenants_pkey", nsp);
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	bool		found;

	if (!OidIsValid(relid) || !OidIsValid(indexid))
		elog(ERROR, "aftersales.tenants or its key is missing");
	rel = table_open(relid, AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(tenant));
	scan = systable_beginscan(rel, indexid, true,
							  ActiveSnapshotSet() ? GetActiveSnapshot() : NULL, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * The tenant of the current statement.  Unset: tenant 1, the default of a
 * single-company install.  Set: it must name an existing tenant (checked
 * once per transaction and value), never a silent fallback to tenant 1.
 * The one place that says who the tenant is.
 */
int64
settings_tenant(void)
{
	static int64 checked_tenant = 0;
	static LocalTransactionId checked_in = InvalidLocalTransactionId;
	const char *v = tenant_id_setting;
	int64		tenant;

	report_early_mistake();
	if (v == NULL || v[0] == '\0')
		return 1;
	if (!parse_tenant(v, &tenant))	/* the check hook lets none through */
		elog(ERROR, "invalid aftersales.tenant_id: \"%s\"", v);
	if (tenant == checked_tenant && checked_in == MyProc->lxid)
		return tenant;
	if (!tenant_exists(tenant))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown tenant in aftersales.tenant_id: \"%s\"", v),
				 errdetail("No row of aftersales.tenants has tenant_id %s.", v),
				 errhint("Set the id of an existing tenant (SELECT tenant_id, name FROM aftersales.tenants;), for example: SET LOCAL aftersales.tenant_id = '1';")));
	checked_tenant = tenant;
	checked_in = MyProc->lxid;
	return tenant;
}

static const char *
nonempty(const char *v)
{
	report_early_mistake();
	return (v != NULL && v[0] != '\0') ? v : NULL;
}

const char *
settings_actor(void)
{
	return nonempty(actor_setting);
}

const char *
settings_now(void)
{
	return nonempty(now_setting);
}

/* ------------------------------------------------------------------------
 * The event the API declares for the trigger on tickets.
 */

static struct
{
	bool		declared;
	int			nest_level;		/* of the (sub)transaction that declared it */
	char	   *event;
	char	   *actor;
	TimestampTz at;
	char	   *reason;
}			api_event;

void
settings_declare_event(const char *event, const char *actor, TimestampTz at, const char *reason)
{
	settings_clear_event();
	api_event.event = MemoryContextStrdup(TopMemoryContext, event);
	api_event.actor = actor ? MemoryContextStrdup(TopMemoryContext, actor) : NULL;
	api_event.reason = reason ? MemoryContextStrdup(TopMemoryContext, reason) : NULL;
	api_event.at = at;
	api_event.nest_level = GetCurrentTransactionNestLevel();
	api_event.declared = true;
}

void
settings_clear_event(void)
{
	if (api_event.event)
		pfree(api_event.event);
	if (api_event.actor)
		pfree(api_event.actor);
	if (api_event.reason)
		pfree(api_event.reason);
	memset(&api_event, 0, sizeof(api_event));
}

const char *
settings_event(void)
{
	return api_event.declared ? api_event.event : nonempty(event_setting);
}

const char *
settings_event_actor(void)
{
	return api_event.declared && api_event.actor ? api_event.actor : settings_actor();
}

bool
settings_event_time(TimestampTz *at)
{
	if (!api_event.declared)
		return false;
	*at = api_event.at;
	return true;
}

const char *
settings_event_reason(void)
{
	return api_event.declared ? api_event.reason : nonempty(event_reason_setting);
}

/* The sweep locks a ticket itself, and raises its own alert for it. */
static bool sweep_locking = false;
static int	sweep_locking_level = 0;

static void
settings_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
	{
		settings_clear_event();
		sweep_locking = false;
	}
}

static void
settings_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	if (api_event.declared && api_event.nest_level >= GetCurrentTransactionNestLevel())
		settings_clear_event();
	if (sweep_locking && sweep_locking_level >= GetCurrentTransactionNestLevel())
		sweep_locking = false;
}

/* aftersales_internal.event_reason(): the reason of the event being recorded. */
PG_FUNCTION_INFO_V1(aftersales_event_reason);
Datum
aftersales_event_reason(PG_FUNCTION_ARGS)
{
	const char *r = settings_event_reason();

	if (r == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(r));
}

/* aftersales_internal.set_sweep_locking(on): the sweep is locking a ticket. */
PG_FUNCTION_INFO_V1(aftersales_set_sweep_locking);
Datum
aftersales_set_sweep_locking(PG_FUNCTION_ARGS)
{
	sweep_locking = !PG_ARGISNULL(0) && PG_GETARG_BOOL(0);
	sweep_locking_level = GetCurrentTransactionNestLevel();
	PG_RETURN_VOID();
}

/* aftersales_internal.sweep_locking(): whether the sweep is locking a ticket. */
PG_FUNCTION_INFO_V1(aftersales_sweep_locking);
Datum
aftersales_sweep_locking(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(sweep_locking);
}

/* ------------------------------------------------------------------------
 * Loading the library.
 */

/* Remember the first aftersales.* placeholder that is no setting of ours. */
static void
find_early_mistakes(void)
{
	struct config_generic **vars = get_guc_variables();
	int			n = GetNumConfigOptions();
	const char *v;

	for (int i = 0; i < n && early_name == NULL; i++)
	{
		bool		known = false;

		if (!(vars[i]->flags & GUC_CUSTOM_PLACEHOLDER) ||
			strncmp(vars[i]->name, "aftersales.", strlen("aftersales.")) != 0)
			continue;
		for (int k = 0; k < (int) lengthof(setting_names); k++)
			known |= strcmp(vars[i]->name, setting_names[k]) == 0;
		if (!known)
			early_name = MemoryContextStrdup(TopMemoryContext, vars[i]->name);
	}
	v = GetConfigOption("aftersales.tenant_id", true, false);
	if (early_name == NULL && v != NULL && v[0] != '\0')
	{
		int64		t;

		if (!parse_tenant(v, &t))
		{
			early_name = MemoryContextStrdup(TopMemoryContext, "aftersales.tenant_id");
			early_value = MemoryContextStrdup(TopMemoryContext, v);
		}
	}
}

void
_PG_init(void)
{
	find_early_mistakes();
	loading = true;

	DefineCustomStringVariable("aftersales.tenant_id",
							   "Tenant (company) of the session's statements.",
							   "Empty: the default tenant 1. Else the tenant_id of a row of aftersales.tenants; "
							   "every API call, tenant-keyed default and trigger uses it.",
							   &tenant_id_setting, "", PGC_USERSET, 0,
							   check_tenant_id, forget_early_mistake, NULL);
	DefineCustomStringVariable("aftersales.actor",
							   "Who acts, recorded in the event log.",
							   "Empty: the database role. Applications set their user's name.",
							   &actor_setting, "", PGC_USERSET, 0, NULL, forget_early_mistake, NULL);
	DefineCustomStringVariable("aftersales.now",
							   "The clock of aftersales, a timestamp with time zone.",
							   "Empty: the start of the transaction. Tests and imports of past data set it.",
							   &now_setting, "", PGC_USERSET, 0, NULL, forget_early_mistake, NULL);
	DefineCustomStringVariable("aftersales.event",
							   "The event a direct UPDATE of aftersales.tickets records.",
							   "Empty: none; the trigger on tickets then allows plain edits only.",
							   &event_setting, "", PGC_USERSET, 0, NULL, forget_early_mistake, NULL);
	DefineCustomStringVariable("aftersales.event_reason",
							   "The reason recorded with the event of a direct UPDATE.",
							   "Empty: none; some events need one.",
							   &event_reason_setting, "", PGC_USERSET, 0, NULL, forget_early_mistake, NULL);
	/* access control (src/access.c reads it): the user a pool acts for */
	DefineCustomStringVariable("aftersales.app_user",
							   "The user an application pool acts for in this transaction.",
							   "Set only by a member of aftersales_app, with SET LOCAL, together with "
							   "SET LOCAL ROLE to the user's kind; empty: no user.",
							   &app_user_setting, "", PGC_USERSET, 0, NULL, forget_early_mistake, NULL);
	/* the KPI functions read the rollups (65_kpi_rollup.sql) unless off */
	DefineCustomBoolVariable("aftersales.kpi_rollups",
							 "Whether the KPI functions may answer from the incremental rollups.",
							 "Off: they compute from the raw rows (the same figures, slower); for comparisons.",
							 &kpi_rollups_setting, true, PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("aftersales");
	loading = false;

	RegisterXactCallback(settings_xact_callback, NULL);
	RegisterSubXactCallback(settings_subxact_callback, NULL);
}
