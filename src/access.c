/*
 * access.c: who is calling, for access control.
 *
 * Identity is the authenticated login (the session user, which SET ROLE does
 * not change), never a free setting:
 *  - a superuser session keeps the single-company behaviour, and row-level
 *    security does not apply to it (see README, "Security");
 *  - a login with privileges of aftersales_app is an application pool: it
 *    names the end user per transaction (SET LOCAL aftersales.app_user), who
 *    must be a member of kind via 'app'; without one, nothing resolves;
 *  - a login with privileges of aftersales_sweep and no membership is the
 *    scheduled sweep: it works on the tenant it sets, and fires only the
 *    events event_rights grants kind 'sweep';
 *  - any other login must be a member of kind via 'login' under its own
 *    name.  Nobody else may assert a user.
 * The tenant is the member's; a name in several tenants chooses one with
 * aftersales.tenant_id, and the choice is checked against membership.
 *
 * The caller is resolved once per transaction (transaction, session user
 * and both settings as the key; again after this backend changed members
 * or organisations) and kept, so that row-level security policies, which
 * call aftersales.current_tenant() and aftersales.current_org_scope() in
 * an initplan, and the guard cost no lookup after the first.  A change of
 * membership committed by another session meanwhile applies from the next
 * transaction.  The lookups run as the bootstrap superuser, so they neither
 * recurse into the members table's own policies nor need grants.
 */
#include "compat.h"
#include "access.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#define MAX_SETTING 200
#define MAX_TENANTS 16			/* tenants of one name listed in a hint */

typedef enum
{
	CALLER_MEMBER,
	CALLER_SWEEP
} CallerMode;

typedef struct Caller
{
	/* key */
	bool		valid;
	LocalTransactionId lxid;
	uint64		generation;
	Oid			session_user;
	char		tenant_setting[MAX_SETTING + 1];
	char		user_setting[MAX_SETTING + 1];
	/* resolved */
	CallerMode	mode;
	int64		tenant;
	char		name[MAX_SETTING + 1];
	char		via[8];
	char		kind[16];
	int64		org;
	bool		has_engineer;
	int64		engineer;
	bool		whole_tenant;	/* scope is the whole tenant (HQ, sweep) */
	int			nscope;
	int64	   *scope;			/* in TopMemoryContext */
} Caller;

static Caller caller;

/* src/ticket.c */
extern Datum aftersales_current_tenant(PG_FUNCTION_ARGS);

static const char *
setting_or_empty(const char *name)
{
	const char *v = GetConfigOption(name, true, false);

	return v ? v : "";
}

bool
access_applies(void)
{
	return !superuser_arg(GetSessionUserId());
}

static Oid
group_role(const char *name)
{
	return get_role_oid(name, true);
}

static bool
has_group(Oid user, const char *group)
{
	Oid			g = group_role(group);

	return OidIsValid(g) && has_privs_of_role(user, g);
}

/* A tenant id as written in a setting: '^[1-9][0-9]{0,17}$', else an error. */
static int64
parse_tenant(const char *v)
{
	int			len = strlen(v);
	int64		t = 0;

	if (len < 1 || len > 18 || v[0] < '1' || v[0] > '9')
		len = 0;
	for (int i = 0; i < len; i++)
	{
		if (v[i] < '0' || v[i] > '9')
		{
			len = 0;
			break;
		}
		t = t * 10 + (v[i] - '0');
	}
	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid aftersales.tenant_id: \"%.40s\"", v),
				 errhint("Set the id of a tenant you belong to, for example: SET LOCAL aftersales.tenant_id = '1';")));
	return t;
}

/* Runs query as the bootstrap superuser (SPI connected by the caller). */
static void
run_privileged(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types, Datum *args)
{
	Oid			save_uid;
	int			save_ctx;
	volatile int rc = 0;

	GetUserIdAndSecContext(&save_uid, &save_ctx);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID, save_ctx | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		/*
		 * Prepared once per backend and kept: parsing and planning these
		 * lookups anew was most of their cost, paid by every statement
		 * under row security.  The plan cache replans them when a table
		 * changes (the extension recreated, say).
		 */
		if (*plan == NULL)
		{
			SPIPlanPtr	p = SPI_prepare(sql, nargs, types);

			if (p == NULL)
				elog(ERROR, "aftersales access: preparing a lookup: %s", SPI_result_code_string(SPI_result));
			if (SPI_keepplan(p) != 0)
				elog(ERROR, "aftersales access: keeping a lookup's plan");
			*plan = p;
		}
		rc = SPI_execute_plan(*plan, args, NULL, true, 0);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_uid, save_ctx);
	}
	PG_END_TRY();
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "aftersales access: lookup failed: %s", SPI_result_code_string(rc));
}

static SPIPlanPtr members_plan = NULL;

/*
 * Bumped by the trigger on members and organisations (access_changed
 * below): a caller resolved before a change of either, in this backend,
 * is resolved again.
 */
static uint64 access_generation = 0;
static SPIPlanPtr scope_plan = NULL;

static const char *const members_sql =
	"SELECT m.tenant_id, m.kind::pg_catalog.text, m.org_id, m.engineer_id"
	"  FROM aftersales.members m"
	" WHERE m.name OPERATOR(pg_catalog.=) $1 AND m.via OPERATOR(pg_catalog.=) $2 AND m.active"
	" ORDER BY m.tenant_id";

static const char *const scope_sql =
	"WITH RECURSIVE s (org_id, top) AS ("
	"  SELECT o.org_id, o.parent_id IS NULL FROM aftersales.organisations o"
	"   WHERE o.tenant_id OPERATOR(pg_catalog.=) $1 AND o.org_id OPERATOR(pg_catalog.=) $2"
	"  UNION ALL"
	"  SELECT o.org_id, false FROM aftersales.organisations o JOIN s"
	"    ON o.tenant_id OPERATOR(pg_catalog.=) $1 AND o.parent_id OPERATOR(pg_catalog.=) s.org_id)"
	"SELECT s.org_id, s.top FROM s";

static int64
get_int8(int row, int col, bool *isnull)
{
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);

	return *isnull ? 0 : DatumGetInt64(d);
}

/* Resolve name/via to a member of one tenant (fills caller). */
static void
resolve_member(const char *tenant_setting)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		args[2];
	uint64		n;
	int			pick = -1;
	int64		wanted = 0;
	bool		isnull;
	StringInfoData list;

	if (tenant_setting[0] != '\0')
		wanted = parse_tenant(tenant_setting);

	args[0] = CStringGetTextDatum(caller.name);
	args[1] = CStringGetTextDatum(caller.via);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "aftersales access: SPI_connect failed");
	run_privileged(&members_plan, members_sql, 2, types, args);
	n = SPI_processed;

	initStringInfo(&list);
	for (uint64 i = 0; i < n && i < MAX_TENANTS; i++)
		appendStringInfo(&list, "%s" INT64_FORMAT, i ? ", " : "", get_int8(i, 1, &isnull));

	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s \"%s\" is not a member of any tenant",
						strcmp(caller.via, "app") == 0 ? "user" : "login", caller.name),
				 errhint("An administrator adds members, for example: INSERT INTO aftersales.members (name, via, kind, org_id) VALUES ('%s', '%s', 'agent', 1);",
						 caller.name, caller.via)));
	if (wanted != 0)
	{
		for (uint64 i = 0; i < n; i++)
			if (get_int8(i, 1, &isnull) == wanted)
				pick = i;
		if (pick < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("%s \"%s\" is not a member of tenant " INT64_FORMAT,
							strcmp(caller.via, "app") == 0 ? "user" : "login", caller.name, wanted),
					 errdetail("Member of tenant(s) %s.", list.data),
					 errhint("Choose one of them, for example: SET LOCAL aftersales.tenant_id = '" INT64_FORMAT "';",
							 get_int8(0, 1, &isnull))));
	}
	else if (n > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s \"%s\" belongs to several tenants and chose none",
						strcmp(caller.via, "app") == 0 ? "user" : "login", caller.name),
				 errdetail("Member of tenants %s.", list.data),
				 errhint("Choose one, for example: SET LOCAL aftersales.tenant_id = '" INT64_FORMAT "';",
						 get_int8(0, 1, &isnull))));
	else
		pick = 0;

	caller.tenant = get_int8(pick, 1, &isnull);
	strlcpy(caller.kind, TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[pick], SPI_tuptable->tupdesc, 2, &isnull)),
			sizeof(caller.kind));
	caller.org = get_int8(pick, 3, &isnull);
	caller.engineer = get_int8(pick, 4, &isnull);
	caller.has_engineer = !isnull;

	/* the organisation and everything below it */
	{
		Oid			stypes[2] = {INT8OID, INT8OID};
		Datum		sargs[2] = {Int64GetDatum(caller.tenant), Int64GetDatum(caller.org)};
		uint64		m;

		run_privileged(&scope_plan, scope_sql, 2, stypes, sargs);
		m = SPI_processed;
		caller.whole_tenant = false;
		if (caller.scope)
			pfree(caller.scope);
		caller.scope = MemoryContextAlloc(TopMemoryContext, sizeof(int64) * (m + 1));
		caller.nscope = 0;
		for (uint64 i = 0; i < m; i++)
		{
			CHECK_FOR_INTERRUPTS();
			caller.scope[caller.nscope++] = get_int8(i, 1, &isnull);
			if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull)))
				caller.whole_tenant = true;
		}
	}
	SPI_finish();
}

/*
 * A pool acting for a user acts with that user's privileges: it holds every
 * kind's group role, so it must SET LOCAL ROLE to the asserted user's one
 * (aftersales_agent for an agent ...).  Table and column privileges then
 * apply exactly as to a login of that kind (analysts see no contact data).
 * Skipped when the current user is a superuser: the extension's own
 * SECURITY DEFINER code, on behalf of a caller already checked.
 */
static void
check_pool_role(void)
{
	Oid			cur = GetUserId();
	char		role[32];

	if (caller.mode != CALLER_MEMBER || strcmp(caller.via, "app") != 0 || superuser_arg(cur))
		return;
	snprintf(role, sizeof(role), "aftersales_%s", caller.kind);
	if (cur != group_role(role))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("application role \"%s\" acts for %s \"%s\" as role \"%s\", not %s",
						GetUserNameFromId(GetSessionUserId(), false), caller.kind, caller.name,
						GetUserNameFromId(cur, false), role),
				 errdetail("A pool takes the privileges of the user it asserts, and no more."),
				 errhint("After SET LOCAL aftersales.app_user = '%s', run: SET LOCAL ROLE %s;",
						 caller.name, role)));
}

static const Caller *
current_caller(void)
{
	Oid			su = GetSessionUserId();
	const char *ts = setting_or_empty("aftersales.tenant_id");
	const char *us = setting_or_empty("aftersales.app_user");
	LocalTransactionId lxid = MyProc->lxid;
	if (caller.valid && caller.lxid == lxid && caller.generation == access_generation && caller.session_user == su &&
		strncmp(caller.tenant_setting, ts, MAX_SETTING) == 0 &&
		strncmp(caller.user_setting, us, MAX_SETTING) == 0)
	{
		check_pool_role();
		return &caller;
	}

	caller.valid = false;
	if (strlen(us) > MAX_SETTING)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("aftersales.app_user is too long: \"%.40s...\"", us),
				 errhint("Name a member, for example: SET LOCAL aftersales.app_user = 'li.na';")));
	if (strlen(ts) > MAX_SETTING)
		(void) parse_tenant(ts);
	caller.has_engineer = false;
	caller.kind[0] = '\0';

	if (has_group(su, "aftersales_app"))
	{
		/* '' is what a RESET placeholder reads as: no user, never a name */
		if (us[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("application role \"%s\" asserted no user", GetUserNameFromId(su, false)),
					 errdetail("An application pool acts for the user it names in each transaction."),
					 errhint("Begin each transaction with, for example: SET LOCAL aftersales.app_user = 'li.na';")));
		caller.mode = CALLER_MEMBER;
		strlcpy(caller.name, us, sizeof(caller.name));
		strlcpy(caller.via, "app", sizeof(caller.via));
		resolve_member(ts);
	}
	else if (us[0] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("login \"%s\" may not assert user \"%.40s\"", GetUserNameFromId(su, false), us),
				 errdetail("Only an application pool (a member of aftersales_app) acts for other users."),
				 errhint("Leave aftersales.app_user unset: you act as yourself.")));
	else if (has_group(su, "aftersales_sweep"))
	{
		caller.mode = CALLER_SWEEP;
		strlcpy(caller.name, "aftersales-sweep", sizeof(caller.name));
		strlcpy(caller.via, "login", sizeof(caller.via));
		strlcpy(caller.kind, "sweep", sizeof(caller.kind));
		if (ts[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the sweep's tenant is not set"),
					 errhint("The sweep sets aftersales.tenant_id for each ticket it changes.")));
		caller.tenant = parse_tenant(ts);
		caller.whole_tenant = true;
		caller.nscope = 0;
	}
	else
	{
		caller.mode = CALLER_MEMBER;
		strlcpy(caller.name, GetUserNameFromId(su, false), sizeof(caller.name));
		strlcpy(caller.via, "login", sizeof(caller.via));
		resolve_member(ts);
	}

	caller.lxid = lxid;
	caller.generation = access_generation;
	caller.session_user = su;
	strlcpy(caller.tenant_setting, ts, sizeof(caller.tenant_setting));
	strlcpy(caller.user_setting, us, sizeof(caller.user_setting));
	caller.valid = true;
	check_pool_role();
	return &caller;
}

int64
access_tenant(void)
{
	return current_caller()->tenant;
}

const char *
access_actor(const char *claimed)
{
	const Caller *c = current_caller();

	if (claimed != NULL && claimed[0] != '\0' && strcmp(claimed, c->name) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s \"%s\" cannot act as \"%.40s\"",
						strcmp(c->via, "app") == 0 ? "user" : "login", c->name, claimed),
				 errdetail("The event log records the authenticated identity."),
				 errhint("Leave the actor out: it is yours.")));
	return c->name;
}

/*
 * The right: the tenant's own row (aftersales.tenant_event_rights: grants
 * or withdraws), else the shipped one (aftersales.event_rights).  Both are
 * read by primary key; no row at all is no right.
 */
static const char *const rights_sql =
	"SELECT x.allowed, x.own_tickets_only FROM ("
	"  SELECT c.allowed, c.own_tickets_only, 0 AS rank FROM aftersales.tenant_event_rights c"
	"   WHERE c.tenant_id OPERATOR(pg_catalog.=) $3 AND c.kind OPERATOR(pg_catalog.=) $1"
	"     AND c.event OPERATOR(pg_catalog.=) $2"
	"  UNION ALL"
	"  SELECT true, r.own_tickets_only, 1 FROM aftersales.event_rights r"
	"   WHERE r.kind OPERATOR(pg_catalog.=) $1 AND r.event OPERATOR(pg_catalog.=) $2"
	") x ORDER BY x.rank LIMIT 1";
static SPIPlanPtr rights_plan = NULL;

/* Whether kind may fire event in tenant, and if only on its own. */
static bool
lookup_right(const char *kind, const char *event, int64 tenant, bool *own_only)
{
	Oid			types[3] = {TEXTOID, TEXTOID, INT8OID};
	Datum		args[3];
	bool		allowed = false;
	bool		isnull;

	*own_only = false;
	args[0] = CStringGetTextDatum(kind);
	args[1] = CStringGetTextDatum(event);
	args[2] = Int64GetDatum(tenant);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "aftersales access: SPI_connect failed");
	run_privileged(&rights_plan, rights_sql, 3, types, args);
	if (SPI_processed > 0)
	{
		allowed = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		*own_only = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	}
	SPI_finish();
	return allowed;
}

void
access_check_event(int64 tenant, int64 ticket, const char *event, const char *status,
				   bool has_assignee, int64 assignee)
{
	const Caller *c;
	bool		own_only;

	if (!access_applies())
		return;
	c = current_caller();
	if (!lookup_right(c->kind, event, tenant, &own_only))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s \"%s\" (%s) may not %s ticket " INT64_FORMAT,
						c->mode == CALLER_SWEEP ? "sweep" : "member", c->name, c->kind, event, ticket),
				 errdetail("Ticket " INT64_FORMAT " of tenant " INT64_FORMAT " is %s; aftersales.event_rights lists the events each kind may fire.",
						   ticket, tenant, status),
				 errhint("Ask a member whose kind may: SELECT kind FROM aftersales.event_rights WHERE event = '%s';",
						 event)));
	if (own_only && !(c->has_engineer && has_assignee && assignee == c->engineer))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("member \"%s\" (%s) may not %s ticket " INT64_FORMAT ": it is not assigned to them",
						c->name, c->kind, event, ticket),
				 errdetail("An engineer fires this event only on the tickets assigned to their engineer row."),
				 errhint("Ask a service manager to reassign it, for example: SELECT aftersales.reassign_ticket(" INT64_FORMAT ", engineer => 7, reason => 'covering');",
						 ticket)));
}

void
access_check_right(const char *right, const char *noun, int64 tenant, int64 id,
				   const char *state, bool has_engineer, int64 engineer)
{
	const Caller *c;
	bool		own_only;
	const char *event = strchr(right, '.') ? strchr(right, '.') + 1 : right;

	if (!access_applies())
		return;
	c = current_caller();
	if (!lookup_right(c->kind, right, tenant, &own_only))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s \"%s\" (%s) may not %s %s " INT64_FORMAT,
						c->mode == CALLER_SWEEP ? "sweep" : "member", c->name, c->kind, event, noun, id),
				 errdetail("%c%s " INT64_FORMAT " of tenant " INT64_FORMAT " is %s; aftersales.event_rights lists the events each kind may fire.",
						   pg_toupper((unsigned char) noun[0]), noun + 1, id, tenant, state),
				 errhint("Ask a member whose kind may: SELECT kind FROM aftersales.event_rights WHERE event = '%s';",
						 right)));
	if (own_only && !(c->has_engineer && has_engineer && engineer == c->engineer))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("member \"%s\" (%s) may not %s %s " INT64_FORMAT ": it is not theirs",
						c->name, c->kind, event, noun, id),
				 errdetail("This kind fires %s only on the %ss of their own engineer row.", event, noun),
				 errhint("Ask a service manager to act, or to hand the %s to you.", noun)));
}

/*
 * aftersales.current_org_scope(): the organisations the caller sees, NULL
 * when the whole tenant (superusers, HQ members, the sweep).  STABLE: a
 * policy calls it once per statement as (SELECT ...).
 */
PG_FUNCTION_INFO_V1(aftersales_current_org_scope);
Datum
aftersales_current_org_scope(PG_FUNCTION_ARGS)
{
	const Caller *c;
	Datum	   *elems;

	if (!access_applies())
		PG_RETURN_NULL();
	c = current_caller();
	if (c->whole_tenant)
		PG_RETURN_NULL();
	elems = palloc(sizeof(Datum) * (c->nscope + 1));
	for (int i = 0; i < c->nscope; i++)
		elems[i] = Int64GetDatum(c->scope[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, c->nscope, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * aftersales.whoami(): the caller as access control sees it.
 */
PG_FUNCTION_INFO_V1(aftersales_whoami);
Datum
aftersales_whoami(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		v[6];
	bool		n[6] = {false, false, false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "aftersales_whoami: return type must be a row type");
	desc = BlessTupleDesc(desc);
	if (!access_applies())
	{
		v[0] = DirectFunctionCall1(aftersales_current_tenant, (Datum) 0);
		v[1] = CStringGetTextDatum(GetUserNameFromId(GetSessionUserId(), false));
		v[2] = CStringGetTextDatum("superuser");
		v[3] = CStringGetTextDatum("login");
		n[4] = n[5] = true;
		v[4] = v[5] = (Datum) 0;
	}
	else
	{
		const Caller *c = current_caller();

		v[0] = Int64GetDatum(c->tenant);
		v[1] = CStringGetTextDatum(c->name);
		v[2] = CStringGetTextDatum(c->kind);
		v[3] = CStringGetTextDatum(c->via);
		v[4] = Int64GetDatum(c->org);
		n[4] = c->mode == CALLER_SWEEP;
		v[5] = Int64GetDatum(c->engineer);
		n[5] = !c->has_engineer;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, n)));
}

/*
 * aftersales.current_member_kind(): the caller's kind (admin ... auditor,
 * sweep for the sweep's login); NULL for superusers.  The write and read
 * policies compare it with the kinds whose group role holds the privilege,
 * so that an application pool, which holds every kind's privileges, gets
 * only those of the user it asserted.
 */
PG_FUNCTION_INFO_V1(aftersales_current_member_kind);
Datum
aftersales_current_member_kind(PG_FUNCTION_ARGS)
{
	if (!access_applies())
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(current_caller()->kind));
}

/*
 * Trigger, after each statement changing aftersales.members or
 * aftersales.organisations: the kept caller is resolved again.
 */
PG_FUNCTION_INFO_V1(aftersales_access_changed);
Datum
aftersales_access_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "aftersales_access_changed: not called by the trigger manager");
	access_generation++;
	return PointerGetDatum(NULL);
}
