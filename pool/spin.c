/* pool/spin.c - what both kinds of pool use to watch before they sleep
 * (see spin.h). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "spin.h"

void spin_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

long long spin_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long spin_budget_ns(void)
{
    const char *text = getenv("POOL_SPIN_US");
    char *end;
    long us;

    if (!text || !*text)
        return DEFAULT_SPIN_US * 1000LL;
    errno = 0;
    us = strtol(text, &end, 10);
    if (errno || *end || us < 0 || us > 1000000)
        return DEFAULT_SPIN_US * 1000LL;
    return us * 1000LL;
}
