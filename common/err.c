/* common/err.c - how the programs report failure and exit (see err.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"

static const char *name = "?";
static const char *usage_text = "";

/* Set once a message has been reported: the exit that follows needs no
 * second word about stdout. */
static bool reported;

/* "name: write error[: cause]" on stderr; exit 1 without running the exit
 * handlers again. */
static _Noreturn void write_error(int err)
{
    if (!reported)
        fprintf(stderr, "%s: write error%s%s\n", name, err ? ": " : "",
                err ? strerror(err) : "");
    _exit(1);
}

/* The cause of a write that failed earlier: stdio keeps only the error
 * flag, and errno has moved on since. Ask the descriptor again with one
 * byte: a stream in error has lost its output already, and what refused
 * it then refuses this (ENOSPC, EPIPE, EBADF). */
static int write_cause(void)
{
    return write(STDOUT_FILENO, "\n", 1) < 0 ? errno : 0;
}

void out_check(void)
{
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout))
        write_error(errno ? errno : write_cause());
}

/* At exit: what is still buffered goes out, and any write that failed on
 * the way, or the close itself, is a failure (as coreutils' close_stdout). */
static void close_stdout(void)
{
    int err;

    out_check();
    errno = 0;
    if (fclose(stdout) != 0) {
        err = errno;
        write_error(err);
    }
}

/* Open /dev/null on any of descriptors 0-2 that is closed (gnulib's
 * stdopen does the same): 0 write-only and 1, 2 read-only, so that a
 * program started with `>&-` fails to write instead of writing into
 * whatever it opens next. */
static void open_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        int got = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
        if (got < 0)
            _exit(1); /* no /dev/null: nothing sane to do, nowhere to say it */
        if (got != fd) {
            /* A lower descriptor was closed too and took this one. */
            dup2(got, fd);
            close(got);
        }
    }
}

void prog_init(const char *prog, const char *usage)
{
    name = prog;
    usage_text = usage;
    open_std_fds();
    setvbuf(stdout, NULL, _IOLBF, 0);
    atexit(close_stdout);
}

const char *prog_name(void)
{
    return name;
}

const char *prog_usage(void)
{
    return usage_text;
}

void print_usage(FILE *out)
{
    fputs(usage_text, out);
}

/* Columns a message may take: it must fit a terminal or a projector. */
#define MESSAGE_WIDTH 80

/* Print one line of a message, folded at spaces to MESSAGE_WIDTH columns,
 * each continuation indented by two spaces. */
static void put_folded(const char *line, size_t len)
{
    size_t width = MESSAGE_WIDTH;

    while (len > width) {
        size_t cut = width;
        while (cut > 0 && line[cut] != ' ')
            cut--;
        if (cut == 0)
            break; /* one long word: leave it whole */
        fprintf(stderr, "%.*s\n  ", (int)cut, line);
        line += cut + 1;
        len -= cut + 1;
        width = MESSAGE_WIDTH - 2;
    }
    fprintf(stderr, "%.*s\n", (int)len, line);
}

/* "name: message[: cause]\n" on stderr, after flushing stdout so the message
 * lands after whatever the program printed before it. */
static void report(int err, bool fold, const char *fmt, va_list ap)
{
    char text[2048];
    int len = snprintf(text, sizeof text, "%s: ", name);

    fflush(stdout);
    reported = true;
    if (len >= 0 && (size_t)len < sizeof text)
        vsnprintf(text + len, sizeof text - (size_t)len, fmt, ap);
    len = (int)strlen(text);
    if (err)
        snprintf(text + len, sizeof text - (size_t)len, ": %s", strerror(err));
    for (char *line = text, *end; *line; line = end + (*end != '\0')) {
        end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        if (fold)
            put_folded(line, (size_t)(end - line));
        else
            fprintf(stderr, "%.*s\n", (int)(end - line), line);
    }
}

void die(const char *fmt, ...)
{
    int err = errno;
    va_list ap;

    va_start(ap, fmt);
    report(err, false, fmt, ap);
    va_end(ap);
    exit(1);
}

void die_en(int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(err, false, fmt, ap);
    va_end(ap);
    exit(1);
}

void fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(0, false, fmt, ap);
    va_end(ap);
    exit(1);
}

void fatal_folded(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(0, true, fmt, ap);
    va_end(ap);
    exit(1);
}

void usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report(0, false, fmt, ap);
    va_end(ap);
    print_usage(stderr);
    exit(2);
}
