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
 * Every message below starts with "name: ". Also, as careful Unix programs
 * do: descriptors 0-2 that the program was started without are opened on
 * /dev/null (0 write-only, 1 and 2 read-only, so that output sent there
 * fails loudly instead of vanishing, and no pipe or channel the program
 * makes later lands on them); stdout is line-buffered, so a slow run shows
 * each line as it comes; and at exit, a failed write or close of stdout is
 * reported ("name: write error: ...") and turns the exit status into 1. */
void prog_init(const char *name, const char *usage);

/* Exit 1 with "name: write error: ..." if stdout can no longer be written
 * (a full disk, a closed pipe with SIGPIPE ignored, a closed stdout). Long
 * runs call it after each line, so they stop when the reader is gone. */
void out_check(void);

/* The name given to prog_init(). */
const char *prog_name(void);

/* Print the usage text to `out`. */
void print_usage(FILE *out);

/* The usage text given to prog_init(). */
const char *prog_usage(void);

/* The message, then ": " and strerror(errno); exit 1.
 * For calls that set errno on failure (fork, open, mmap, ...). */
_Noreturn PRINTF_LIKE(1, 2) void die(const char *fmt, ...);

/* The message, then ": " and strerror(err); exit 1.
 * For calls that return the error number (pthread_*, pool_map). */
_Noreturn PRINTF_LIKE(2, 3) void die_en(int err, const char *fmt, ...);

/* The message alone; exit 1. For failures errno does not describe. */
_Noreturn PRINTF_LIKE(1, 2) void fatal(const char *fmt, ...);

/* As fatal(), but a long line is folded at spaces to 80 columns, for
 * messages of many words (a pool's error) that must fit a projector. Not
 * for a line that a script or a test parses whole. */
_Noreturn PRINTF_LIKE(1, 2) void fatal_folded(const char *fmt, ...);

/* The message, then the usage, both on stderr; exit 2. */
_Noreturn PRINTF_LIKE(1, 2) void usage_error(const char *fmt, ...);

#endif
