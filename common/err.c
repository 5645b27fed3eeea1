/* common/err.c - how the programs report failure and exit (see err.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static const char *name = "?";
static const char *usage_text = "";

void prog_init(const char *prog, const char *usage)
{
    name = prog;
    usage_text = usage;
}

const char *prog_name(void)
{
    return name;
}

void print_usage(FILE *out)
{
    fputs(usage_text, out);
}

/* "name: message[: cause]\n" on stderr, after flushing stdout so the message
 * lands after whatever the program printed before it. */
static void report(int err, const char *fmt, va_list ap)
{
    fflush(stdout);
    fprintf(stderr, "%s: ", name);
    vfprintf(stderr, fmt, ap);
    if (err)
        fprintf(stderr, ": %s", strerror(err));
    fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
    int err = errno;
    va_list ap;

    va_start(ap, fmt);
    report(err, fmt, ap);
    va_end(ap);
    exit(1);
}

void die_en(int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(err, fmt, ap);
    va_end(ap);
    exit(1);
}

void fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(0, fmt, ap);
    va_end(ap);
    exit(1);
}

void usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(0, fmt, ap);
    va_end(ap);
    print_usage(stderr);
    exit(2);
}
