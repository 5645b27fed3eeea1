/* pool/fast/spin.c - watch for news a while before sleeping: one rule for
 * every pool of the program, both kinds.
 *
 * Shows: why a pool may spin, and when it must not. Waking a sleeping
 * thread costs 15-45 us on a virtual machine: more than a small map's whole
 * work. So a thread that expects news soon watches for it first, for at
 * most POOL_SPIN_US (default 1000, 0: never), and sleeps only if none
 * came. OpenMP's OMP_WAIT_POLICY is the same trade-off.
 *
 * Spinning pays only while the CPUs are idle: a spinner on a CPU that
 * another thread wants keeps that thread waiting a whole time slice. So:
 *   - the threads awake in a pool, the watcher included, stay within the
 *     CPUs we may use, and so do the watchers of every pool of the program
 *     (`spinners`): a second pool knows what the first is doing;
 *   - a watcher yields the CPU every few microseconds;
 *   - one that finds it was preempted (a gap between two looks at the
 *     clock) stops spinning in the whole program for a while: 50 ms, four
 *     times longer each time it happens again soon after, up to 1 s. Under
 *     a busy neighbour the pools then sleep, as they would without this
 *     layer.
 * On one CPU nobody spins.
 *
 * See also: docs/spinning.md (what it buys, and when it does not).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "../core.h"
#include "fast.h"

#define DEFAULT_SPIN_US 1000
#define MAX_SPIN_US 1000000
#define PREEMPTED_NS 200000
#define BACKOFF_MIN_NS 50000000LL
#define BACKOFF_MAX_NS 1000000000LL

static struct {
    atomic_int spinners;     /* watching now, in any pool of this program */
    atomic_llong calm_from;  /* nobody spins before this time (ns) */
    atomic_llong backoff_ns; /* how long the last such while was */
    atomic_int cpus;         /* 0 until first asked */
} prog;

long long spin_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cpus(void)
{
    int n = atomic_load(&prog.cpus);

    if (!n)
        atomic_store(&prog.cpus, n = pool_cpu_count());
    return n;
}

/* POOL_SPIN_US now, in ns: the default if unset or not a number, the
 * maximum if larger; 0 on one CPU. */
long long spin_budget_ns(void)
{
    const char *text = getenv("POOL_SPIN_US");
    char *end;
    long us = DEFAULT_SPIN_US;

    if (text && *text) {
        errno = 0;
        long v = strtol(text, &end, 10);
        if (!*end && v >= 0)
            us = errno == ERANGE || v > MAX_SPIN_US ? MAX_SPIN_US : v;
    }
    return cpus() < 2 ? 0 : us * 1000LL;
}

/* A gap since the last look: another thread wants our CPU. Nobody in the
 * program spins for a while, longer if it happens again soon after. */
static void back_off(long long t)
{
    long long len = atomic_load(&prog.backoff_ns);

    if (len && t - atomic_load(&prog.calm_from) < len)
        len = len < BACKOFF_MAX_NS / 4 ? 4 * len : BACKOFF_MAX_NS;
    else
        len = BACKOFF_MIN_NS;
    atomic_store(&prog.backoff_ns, len);
    atomic_store(&prog.calm_from, t + len);
}

static void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

bool spin_watch(long long budget, bool (*news)(void *), void *ctx,
                int awake, long long until)
{
    int spinners = atomic_load(&prog.spinners);
    bool got = false;

    if (budget <= 0 || (awake > spinners ? awake : spinners) + 1 > cpus())
        return false;
    long long start = spin_now_ns(), last = start;
    if (start < atomic_load(&prog.calm_from))
        return false;
    atomic_fetch_add(&prog.spinners, 1);
    for (unsigned looks = 1;; looks++) {
        if (news(ctx)) {
            got = true;
            break;
        }
        relax(); /* a pause of about 20 ns; the clock every 64 looks */
        if (looks % 64)
            continue;
        long long t = spin_now_ns();
        if (t - last > PREEMPTED_NS) {
            back_off(t);
            break;
        }
        if (t - start > budget || (until && t > until))
            break;
        last = t;
        if (looks % 256 == 0) /* hands the CPU to a thread that wants it */
            sched_yield();
    }
    atomic_fetch_sub(&prog.spinners, 1);
    return got;
}

/* ---- the core's hooks ---------------------------------------------------- */

static const struct pool_spin_ops ops = {
    .watch = spin_watch, .now_ns = spin_now_ns, .budget_ns = spin_budget_ns,
};
const struct pool_spin_ops *const pool_spin = &ops;
