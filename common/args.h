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

#include <getopt.h>

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

/* Entries of a getopt_long() table, one short line each:
 *     static const struct option longopts[] = {
 *         OPT_VALUE("items", 'n'), OPT_FLAG("who", 'W'), OPT_POOL, OPT_END,
 *     }; */
#define OPT_VALUE(name, c) { name, required_argument, NULL, c }
#define OPT_FLAG(name, c) { name, no_argument, NULL, c }
#define OPT_END { NULL, 0, NULL, 0 }
/* What every program that opens pools takes: -w/--workers N, --start M
 * (process pools only) and -h/--help; pool_option() handles them. */
#define OPT_POOL OPT_VALUE("workers", 'w'), OPT_VALUE("start", 'S'), \
                 OPT_FLAG("help", 'h')

/* For the `default:` of a program's getopt_long() switch: -w (into
 * *workers), --start (set_start_method) and -h (the usage on stdout, exit
 * 0); anything else getopt_long() reported is a usage error. */
void pool_option(int c, char *const argv[], int *workers);

/* After the getopt_long() loop of a program that opens pools: no stray
 * operand, and *workers, if no -w set it, the CPUs this process may use. */
void pool_options_done(int argc, char *const argv[], int *workers);

/* Report what getopt_long() said was wrong (it returned '?' or ':'),
 * as a usage error. Call with opterr = 0 and an optstring starting with ':'. */
void getopt_error(int c, char *const argv[]);

/* No positional arguments expected: a stray one is a usage error. */
void no_operands(int argc, char *const argv[]);

#endif
