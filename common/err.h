/* common/err.h - how the programs report failure and exit.
 *
 * Three exits, pinned by the tests:
 *   0  success
 *   1  a failure at run time (fork refused, a task failed, ...)
 *   2  a usage error (bad flag, bad number)
 *
 * Only the programs use these. Library code (pool/, gil_sim/gil.c) never
 * prints and never exits: it returns an error and lets the program decide.
 *
 * See also: APUE's err_sys/err_exit/err_quit, TLPI's errExit/errExitEN.
 */
#ifndef COMMON_ERR_H
#define COMMON_ERR_H

#include <stdio.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

/* Name the program and its usage text, once, at the top of main().
 * Every message below starts with "name: ". */
void prog_init(const char *name, const char *usage);

/* The name given to prog_init(). */
const char *prog_name(void);

/* Print the usage text to `out`. */
void print_usage(FILE *out);

/* The message, then ": " and strerror(errno); exit 1.
 * For calls that set errno on failure (fork, open, mmap, ...). */
_Noreturn PRINTF_LIKE(1, 2) void die(const char *fmt, ...);

/* The message, then ": " and strerror(err); exit 1.
 * For calls that return the error number (pthread_*, pool_map). */
_Noreturn PRINTF_LIKE(2, 3) void die_en(int err, const char *fmt, ...);

/* The message alone; exit 1. For failures errno does not describe. */
_Noreturn PRINTF_LIKE(1, 2) void fatal(const char *fmt, ...);

/* The message, then the usage, both on stderr; exit 2. */
_Noreturn PRINTF_LIKE(1, 2) void usage_error(const char *fmt, ...);

#endif
