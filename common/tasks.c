/* common/tasks.c - the tasks the programs map, each written once (tasks.h). */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "clock.h"
#include "tasks.h"

int square_task(const void *arg, void *result)
{
    *(double *)result = pow(2.0, (double)*(const long *)arg);
    return 0;
}

int sleep_task(const void *arg, void *result)
{
    double s = *(const double *)arg;
    struct timespec ts;

    (void)result;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec > 999999999)
        ts.tv_nsec = 999999999;
    while (nanosleep(&ts, &ts) != 0)
        if (errno != EINTR)
            return errno;
    return 0;
}

int item_sleep(void)
{
    static _Thread_local int slept;     /* calls that slept, in this thread */
    double s = ITEM_SLEEP_MS / 1000.0;

    if (s <= 0 || slept >= ITEM_SLEEP_ITEMS)
        return 0;
    slept++;
    return sleep_task(&s, NULL);
}

uint64_t xorshift(uint64_t x, uint64_t iters)
{
    for (uint64_t k = 0; k < iters; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

/* Seconds that `iters` rounds take here. */
static double xorshift_seconds(uint64_t iters)
{
    volatile uint64_t sink;
    double t0 = now();

    sink = xorshift(0x9e3779b97f4a7c15u, iters);
    (void)sink;
    return now() - t0;
}

uint64_t xorshift_rounds_for(double seconds)
{
    uint64_t iters = 1u << 16;
    double dt;

    while ((dt = xorshift_seconds(iters)) < 0.02 && iters < (UINT64_C(1) << 40))
        iters *= 2;
    for (int k = 0; k < 3; k++) {
        double again = xorshift_seconds(iters);
        if (again < dt)
            dt = again;
    }
    return (uint64_t)((double)iters * seconds / dt) + 1;
}
