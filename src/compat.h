/*
 * compat.h: every PG_VERSION_NUM guard of aftersales lives here, so the rest
 * of src/ reads as if there were one PostgreSQL version.  We build against
 * 15 (Debian 12) and keep 13 to 17 in reach.
 */
#ifndef AFTERSALES_COMPAT_H
#define AFTERSALES_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 130000
#error "aftersales needs PostgreSQL 13 or later"
#endif

/* varatt.h was split out of postgres.h in 16 */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

#endif							/* AFTERSALES_COMPAT_H */
