/* common/args.h - checked parsing of command-line numbers and options.
 *
 * Every number a program takes goes through here, so every bad value gets
 * the same kind of message, naming the option, and exit 2:
 *
 *   basic: --workers: expected a positive integer, got 'abc'
 *   basic: --workers: 5000 is too large (at most 1024)
 *
 * No atoi: it turns "abc" into 0 and "99999999999999999999" into garbage.
 */
#ifndef COMMON_ARGS_H
#define COMMON_ARGS_H

#include "pool.h"

/* More workers than this is taken for a typo, not a wish. */
#define WORKERS_MAX 1024

/* An integer in [min, max] (min >= 1 reads as "a positive integer").
 * Anything else, including trailing junk, is a usage error naming `opt`. */
long parse_long(const char *opt, const char *text, long min, long max);

/* A decimal number in [min, max] (e.g. seconds: "0.05"). No hex, no inf,
 * no nan. */
double parse_double(const char *opt, const char *text, double min, double max);

/* --workers N: 1 .. WORKERS_MAX. */
int parse_workers(const char *text);

/* --start fork|spawn|forkserver: how a process pool starts its workers
 * (multiprocessing's start methods). Anything else is a usage error. */
enum pool_start parse_start(const char *text);

/* Report what getopt_long() said was wrong (it returned '?' or ':'),
 * as a usage error. Call with opterr = 0 and an optstring starting with ':'. */
void getopt_error(int c, char *const argv[]);

/* No positional arguments expected: a stray one is a usage error. */
void no_operands(int argc, char *const argv[]);

#endif
