/* bench/latency.c - a small map on a pool opened once, beside OpenMP's
 * `parallel for` on the same work, and what an idle pool burns.
 *
 * 1000 trivial items (x*x) take a couple of microseconds in a loop, so a
 * map of them on an open pool is nearly all hand-off: waking the workers,
 * and being woken when they are done. OpenMP's `parallel for` over the
 * same items, on as many threads, schedule(dynamic, the pool's default
 * chunksize), is what a C programmer would reach for instead; the ratio
 * to it is what the pool's hand-off costs. Targets: threads within 3 x
 * OpenMP, processes within 10 x.
 *
 * A hand-off gets faster when the waiting side spins instead of sleeping,
 * and then it burns CPU while it waits. So the group also measures what
 * an idle pool costs: the CPU time of bench and its children in the half
 * second after a map on it (target: under 2% of one CPU).
 *
 * Try:
 *   bench/bench --only latency --counts      context switches per map
 *   OMP_WAIT_POLICY=passive bench/bench --only latency   OpenMP asleep
 *
 * See also: bench/openmp.c, bench/usage.c, docs/performance.md.
 */
#define _POSIX_C_SOURCE 200809L /* pid_t: POSIX, not C11 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include "bench.h"
#include "clock.h"
#include "err.h"
#include "poolrun.h"
#include "tasks.h"

#define LATENCY_N 1000
#define LATENCY_RUNS 31     /* small maps are noisy: more runs than -r */

/* The figures, in the order they are measured; OpenMP last, so that it
 * can be left out, and its threads start after the pools have forked. */
enum { SERIAL, THREADS, PROCS, OMP, NFIGS };

struct latency {
    long *args;
    long long *results;
    struct map_ctx m[OMP];      /* serial, threads, processes */
    struct omp_ctx omp;
    const char *omp_name;       /* NULL: no OpenMP in this build */
    const char *omp_why;
    double idle[NFIGS];         /* percent of a CPU after a map */
};

/* Twice as long as a pool may still spin after its last map
 * (pool_spin_us): each pool's batch is followed by that, so that the next
 * batch (the other pool's, or the same pool's next run) starts with every
 * spinner gone. Two pools taking turns in one program would otherwise meet
 * at each turn, each see the other as a program that wants the CPUs, and
 * stop spinning for a while (which is what a pool should do beside a real
 * neighbour, docs/spinning.md). */
static double spin_rest(void)
{
    return 2 * pool_spin_us() / 1e6;
}

/* Open the pools and set up the four figures. */
static void latency_setup(struct latency *l, struct fig *figs)
{
    size_t cs = pool_default_chunksize(LATENCY_N, cfg.workers);

    l->args = xmalloc(LATENCY_N * sizeof *l->args);
    l->results = xmalloc(LATENCY_N * sizeof *l->results);
    for (long i = 0; i < LATENCY_N; i++)
        l->args[i] = i;
    l->m[SERIAL] = (struct map_ctx){ NULL, square_long, l->args, sizeof *l->args,
                                     l->results, sizeof *l->results, LATENCY_N, 0 };
    l->m[THREADS] = l->m[SERIAL];
    l->m[THREADS].pool = open_or_die(POOL_THREADS, cfg.workers);
    l->m[PROCS] = l->m[SERIAL];
    l->m[PROCS].pool = open_or_die(POOL_PROCESSES, cfg.workers);
    l->omp = (struct omp_ctx){ square_long, l->args, l->results, LATENCY_N,
                               cfg.workers, (int)cs };
    l->omp_name = omp_runtime(&l->omp_why);
    figs[SERIAL] = (struct fig){ .op = op_serial, .ctx = &l->m[SERIAL] };
    figs[THREADS] = (struct fig){ .op = op_map, .ctx = &l->m[THREADS],
                                  .rest = spin_rest() };
    figs[PROCS] = (struct fig){ .op = op_map, .ctx = &l->m[PROCS],
                                .rest = spin_rest() };
    figs[OMP] = (struct fig){ .op = op_omp_map, .ctx = &l->omp };
}

/* Percent of one CPU that bench and its children use in `secs` after one
 * more repeat of f: a pool that spins after a map is caught doing it. */
static double idle_percent(const struct fig *f, double secs)
{
    pid_t *pids = calloc(POOL_MAX_WORKERS, sizeof *pids);
    double c0, c1, t0, t1;
    int n;

    if (!pids)
        die("calloc");
    n = live_children(pids, POOL_MAX_WORKERS);
    f->op(f->ctx);
    c0 = cpu_seconds(pids, n);
    t0 = now();
    sleep_task(&secs, NULL);
    c1 = cpu_seconds(pids, n);
    t1 = now();
    free(pids);
    return 100 * (c1 - c0) / (t1 - t0);
}

/* One row of the per-map table: name, time, ratio to OpenMP, target. */
static void map_row(const char *what, const struct fig *f, double omp,
                    double target)
{
    char ratio[16] = "-", goal[32] = "";

    if (omp > 0) {
        snprintf(ratio, sizeof ratio, "%.2f", f->median / omp);
        if (target > 0)
            snprintf(goal, sizeof goal, "%s", verdict(f->median / omp, target, true));
    }
    printf("  %-20s %9s %9s %9s %9s", what, fmt_time(f->median), fmt_time(f->lo),
           fmt_time(f->hi), ratio);
    if (cfg.counts)
        printf("  %-15s%s", goal, counts_cols(f, 0));
    else if (*goal)
        printf("  %s", goal);
    printf("\n");
}

/* One row of the idle table: percent of a CPU, and the target if any. */
static void idle_row(const char *what, double percent, bool judge)
{
    if (judge)
        printf("  %-20s %7.2f %%  %s\n", what, percent, verdict(percent, 2, true));
    else
        printf("  %-20s %7.2f %%\n", what, percent);
}

/* The table: per map, then idle. */
static void latency_print(const struct latency *l, const struct fig *figs,
                          int runs, double secs)
{
    double omp = l->omp_name ? figs[OMP].median : -1;
    char what[48];

    printf("\nsmall maps: x*x over %d longs on a pool opened once, %d workers,\n"
           "  chunksize %zu, median of %d runs\n", LATENCY_N, cfg.workers,
           pool_default_chunksize(LATENCY_N, cfg.workers), runs);
    printf("  %-20s %9s %9s %9s %9s  %s\n", "per map", "median", "fastest",
           "slowest", "vs OpenMP",
           cfg.counts ? "target            faults  switches (per map)" : "target");
    map_row("serial loop", &figs[SERIAL], -1, 0);
    snprintf(what, sizeof what, "OpenMP (%s)", l->omp_name ? l->omp_name : "-");
    if (l->omp_name)
        map_row(what, &figs[OMP], omp, 0);
    else
        printf("  OpenMP: no row (%s)\n", l->omp_why);
    map_row("threads pool", &figs[THREADS], omp, 3);
    map_row("processes pool", &figs[PROCS], omp, 10);
    printf("  idle: %% of a CPU used by bench and its children in the %.1f s "
           "after a map\n", secs);
    if (l->omp_name)
        idle_row(what, l->idle[OMP], false);
    idle_row("threads pool", l->idle[THREADS], true);
    idle_row("processes pool", l->idle[PROCS], true);
}

void bench_latency(void)
{
    struct fig *figs = figs_new(NFIGS);
    struct latency l;
    int runs = cfg.quick ? cfg.runs : cfg.runs > LATENCY_RUNS ? cfg.runs : LATENCY_RUNS;
    double secs = cfg.quick ? 0.1 : 0.5;

    latency_setup(&l, figs);
    measure_runs(figs, OMP, runs);
    l.idle[THREADS] = idle_percent(&figs[THREADS], secs);
    l.idle[PROCS] = idle_percent(&figs[PROCS], secs);
    /* OpenMP last and alone: after a parallel region its threads spin on
     * (milliseconds with libgomp, 200 ms with libomp), which would slow
     * and charge whatever ran next; before it runs, they do not exist. */
    if (l.omp_name) {
        measure_runs(&figs[OMP], 1, runs);
        l.idle[OMP] = idle_percent(&figs[OMP], secs);
    }
    latency_print(&l, figs, runs, secs);
    pool_free(l.m[THREADS].pool);
    pool_free(l.m[PROCS].pool);
    free(l.args);
    free(l.results);
    free(figs);
}
