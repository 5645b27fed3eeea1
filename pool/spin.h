/* pool/spin.h - what both kinds of pool use to watch before they sleep.
 *
 * A thread that expects news soon watches for it (spins) for up to
 * POOL_SPIN_US microseconds before it sleeps (docs/latency.md): a wake-up
 * costs more than a small map. thread_pool.c and shm_channel.c decide when
 * to give way; these are the pieces they share.
 */
#ifndef POOL_SPIN_H
#define POOL_SPIN_H

/* POOL_SPIN_US when nothing (or nothing valid) sets it: 1 ms. */
#define DEFAULT_SPIN_US 1000

/* A hint to the CPU that we are in a spin loop: it slows the loop down and
 * lets a sibling hyper-thread run. */
void spin_relax(void);

/* CLOCK_MONOTONIC in nanoseconds. */
long long spin_now_ns(void);

/* POOL_SPIN_US from the environment, in ns (0: never spin); the default if
 * unset, or if it is not a number from 0 to 1000000. */
long long spin_budget_ns(void);

#endif
