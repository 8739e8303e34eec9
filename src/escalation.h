/*
 * escalation.h: what escalation.c (the triggers that keep the escalation
 * watches armed) offers the ticket triggers in ticket_log.c, which arm the
 * watches of one ticket in the very statement that starts or stops its
 * clocks.
 */
#ifndef AFTERSALES_ESCALATION_H
#define AFTERSALES_ESCALATION_H

#include "compat.h"

#include "commands/trigger.h"
#include "executor/spi.h"

/*
 * Runs the kept plan plan (a statement of ticket_log.c) with args, having
 * said that it arms the watches of the clocks it writes of ticket (tenant,
 * ticket) itself: the clock triggers clocks_started and clocks_changed
 * then leave the statement's rows of that ticket alone.  Returns what
 * SPI_execute_plan returned.
 */
extern int	escalation_execute_arming(SPIPlanPtr plan, Datum *args, const char *nulls,
									  int64 tenant, int64 ticket);

/*
 * The 'ticket' watches of the new tickets of an INSERT statement, whose
 * trigger data is registered with SPI (new_tickets); the set-based entry
 * runs it (one new ticket arms its watch in its entry statement).
 */
extern void escalation_watch_new_tickets(Oid tickets_relid);

#endif							/* AFTERSALES_ESCALATION_H */
