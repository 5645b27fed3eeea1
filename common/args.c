/* common/args.c - checked parsing of command-line numbers (see args.h). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "args.h"
#include "err.h"
#include "poolrun.h"

long parse_long(const char *opt, const char *text, long min, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || text[0] == ' ' || text[0] == '+') {
        if (min >= 1)
            usage_error("%s: expected a positive integer, got '%s'", opt, text);
        usage_error("%s: expected an integer, got '%s'", opt, text);
    }
    if ((errno == ERANGE && v == LONG_MAX) || v > max)
        usage_error("%s: %s is too large (at most %ld)", opt, text, max);
    if ((errno == ERANGE && v == LONG_MIN) || v < min) {
        if (min == 1)
            usage_error("%s: expected a positive integer, got '%s'", opt, text);
        usage_error("%s: %s is too small (at least %ld)", opt, text, min);
    }
    return v;
}

double parse_double(const char *opt, const char *text, double min, double max)
{
    char *end;
    double v;

    /* Decimal only: strtod would also take "0x10" (16) and "infinity". */
    if (strspn(text, "0123456789.eE+-") != strlen(text))
        usage_error("%s: expected a number, got '%s'", opt, text);
    errno = 0;
    v = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(v))
        usage_error("%s: expected a number, got '%s'", opt, text);
    if (v > max)
        usage_error("%s: %s is too large (at most %g)", opt, text, max);
    if (v < min)
        usage_error("%s: %s is too small (at least %g)", opt, text, min);
    return v;
}

int parse_workers(const char *text)
{
    return (int)parse_long("--workers", text, 1, WORKERS_MAX);
}

enum pool_start parse_start(const char *text)
{
    enum pool_start start;

    if (pool_start_parse(text, &start) != 0)
        usage_error("--start: expected fork, spawn or forkserver, got '%s'",
                    text);
    return start;
}

void pool_option(int c, char *const argv[], int *workers)
{
    switch (c) {
    case 'w': *workers = parse_workers(optarg); break;
    case 'S': set_start_method(parse_start(optarg)); break;
    case 'h': print_usage(stdout); exit(0);
    default: getopt_error(c, argv);
    }
}

void pool_options_done(int argc, char *const argv[], int *workers)
{
    no_operands(argc, argv);
    if (*workers == 0)
        *workers = pool_cpu_count();
}

/* Edits (insert, delete, replace a letter) from a[0..n) to b[0..m). */
static size_t edits(const char *a, size_t n, const char *b, size_t m)
{
    size_t row[64];

    if (n >= 64 || m >= 64)
        return SIZE_MAX;
    for (size_t j = 0; j <= m; j++)
        row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[m];
}

/* The long option of the usage text nearest to `word` ("--wokers"), when
 * it is near enough to be the one meant: "--workers"; else NULL. */
static const char *nearest_option(const char *word, size_t *len)
{
    const char *text = prog_usage(), *best = NULL;
    size_t n = strcspn(word, "="), least = n / 3 + 1;

    for (const char *p = strstr(text, "--"); p; p = strstr(p + 2, "--")) {
        size_t m = 2 + strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");
        size_t d = m > 2 ? edits(word, n, p, m) : SIZE_MAX;
        if (d < least) {
            least = d;
            best = p;
            *len = m;
        }
    }
    return best;
}

void getopt_error(int c, char *const argv[])
{
    const char *word = argv[optind - 1];
    size_t len = 0;

    if (c == ':')
        usage_error("%s needs a value", word);
    if (optopt && strncmp(word, "--", 2) != 0)
        usage_error("unknown option '-%c'", optopt);
    const char *near = nearest_option(word, &len);
    if (near)
        usage_error("unknown option '%s' (did you mean %.*s?)", word,
                    (int)len, near);
    usage_error("unknown option '%s'", word);
}

void no_operands(int argc, char *const argv[])
{
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
}
