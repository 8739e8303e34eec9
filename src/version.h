/*
 * version.h: the library's version and the check that the extension's SQL
 * objects are a version this library can run.
 */
#ifndef AFTERSALES_VERSION_H
#define AFTERSALES_VERSION_H

#include "compat.h"

/* Set by the Makefile from aftersales.control's default_version. */
#ifndef AFTERSALES_VERSION
#error "AFTERSALES_VERSION must be defined (-DAFTERSALES_VERSION=\"x.y.z\")"
#endif

extern void aftersales_check_version(void);

#endif							/* AFTERSALES_VERSION_H */
