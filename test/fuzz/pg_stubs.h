/* pg_stubs.h: what the libFuzzer harness needs of pg_stubs.c. */
#ifndef AFTERSALES_PG_STUBS_H
#define AFTERSALES_PG_STUBS_H
#include <setjmp.h>

extern sigjmp_buf stub_error_jmp;
extern int	stub_errors;
extern void stub_reset(void);

#endif
