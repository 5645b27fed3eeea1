/* tests/testlib.h - what the C test drivers share: a check that names what
 * failed, a nap, and counts of this process's descriptors and threads.
 * Test code only: a failed check prints the condition and exits 1. */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* CHECK(cond, fmt, ...): when cond is false, "file:line: check failed:
 * cond: message" on stderr and exit 1. */
#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__,  \
                    #cond);                                                   \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
            exit(1);                                                          \
        }                                                                     \
    } while (0)

/* 1 MiB: far more than a pipe's or a socket's buffer. */
#define BIG (1u << 20)

/* A task on BIG-byte items: each byte of the argument inverted. */
int invert(const void *arg, void *result);

/* A task that prints "worker PID" and sleeps a minute: the interrupt tests
 * kill the program while its workers sleep in here, and check that they go
 * with it. */
int announce_and_sleep(const void *arg, void *result);

/* args[i] = i for i < n: range(n). */
void fill(long *args, size_t n);

/* Sleep ms milliseconds, the rest again after a signal. */
void nap_ms(long ms);

/* Descriptors this process holds now. */
int count_fds(void);

/* Threads this process runs now. */
int count_threads(void);

#endif
