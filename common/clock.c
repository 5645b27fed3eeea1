/* common/clock.c - one clock for every program that times something. */
#include <time.h>

#include "clock.h"

double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
