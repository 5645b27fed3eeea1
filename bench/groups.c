/* bench/groups.c - the groups of figures: what each one times and the
 * rows it prints.
 *
 * Each group sets up its operations (a map on a pool, a serial loop, a
 * pool's whole life, a baseline from baselines.c), lets the harness
 * measure them in turn, and prints its rows with the ratio that matters
 * and, where there is one, the target it is held to.
 *
 * See also: bench/bench.c (the order they run in), bench/harness.c,
 * docs/performance.md (a run, and what limits each figure).
 */
#define _POSIX_C_SOURCE 200809L /* open, sysconf: POSIX, not C11 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "clock.h"
#include "poolrun.h"
#include "stats.h"
#include "tasks.h"

/* ---- tasks and timed operations ------------------------------------------ */

/* A trivial item: a few nanoseconds of work, so only the pool's own cost
 * per item shows. In long long: x * x overflows a 32-bit long at 1e6. */
int square_long(const void *arg, void *result)
{
    long long x = *(const long *)arg;

    *(long long *)result = x * x;
    return 0;
}

/* A heavy item: `iters` rounds of xorshift from `seed`. */
struct heavy_arg {
    uint64_t seed;
    uint64_t iters;
};

/* The heavy task: pure computation on one core. */
static int heavy(const void *arg, void *result)
{
    const struct heavy_arg *a = arg;

    *(uint64_t *)result = xorshift(a->seed | 1, a->iters);
    return 0;
}

/* A large item: read the whole argument, write the whole result. */
#define LARGE (1L << 20)

/* The large task: the argument copied to the result, one byte changed. */
static int copy_mib(const void *arg, void *result)
{
    memcpy(result, arg, LARGE);
    ((char *)result)[0] ^= 1;
    return 0;
}

/* One pool_map of the map_ctx, on its open pool. A map that failed ends
 * the run: a figure must never come from a map that did not do the work. */
void op_map(void *ctx)
{
    struct map_ctx *m = ctx;

    map_or_die(m->pool, "pool_map", m->fn, m->args, m->arg_size, m->results,
               m->result_size, m->n, m->chunksize);
}

/* The serial loop: the same indirect call per item the pool makes. The
 * volatile read stops the compiler from inlining the task into the loop,
 * which the pool cannot do either. */
void op_serial(void *ctx)
{
    struct map_ctx *m = ctx;
    pool_fn *volatile vfn = m->fn;
    pool_fn *fn = vfn;
    const char *a = m->args;
    char *r = m->results;

    for (size_t i = 0; i < m->n; i++)
        fn(a + i * m->arg_size, r ? r + i * m->result_size : NULL);
}

/* The calls of a pool's life, in order, for --counts' breakdown. */
enum { PH_OPEN, PH_MAP, PH_CLOSE, PH_JOIN, PH_FREE, NPHASES };
static const char *const phase_names[NPHASES] = { "open", "map", "close",
                                                  "join", "free" };
/* Lives timed call by call, at most: enough for a median. */
#define PHASE_SAMPLES 4096

/* A whole pool's life around one map, as a `with` block or as the
 * tutorial's reuse pattern (close + join before free). */
struct life_ctx {
    enum pool_kind kind;
    bool close_join;
    struct map_ctx map;
    enum pool_start start;  /* how the process pool starts its workers */
    double *phase;          /* --counts: [NPHASES][PHASE_SAMPLES] seconds */
    int nphase;             /* lives recorded in it */
};

/* Open, map, (close, join,) free: one life_ctx. With --counts, each call's
 * time is kept too (a clock read between calls costs well under 1 us). */
static void op_life(void *ctx)
{
    struct life_ctx *l = ctx;
    enum pool_start was = start_method();
    double t[NPHASES + 1];

    t[PH_OPEN] = now();
    set_start_method(l->start);
    struct pool *pool = open_or_die(l->kind, cfg.workers);
    set_start_method(was);

    l->map.pool = pool;
    t[PH_MAP] = now();
    op_map(&l->map);
    t[PH_CLOSE] = t[PH_JOIN] = now();
    if (l->close_join) {
        pool_close(pool);
        t[PH_JOIN] = now();
        if (pool_join(pool))
            pool_fatal(pool, "pool_join: %s", pool_error(pool));
    }
    t[PH_FREE] = now();
    pool_free(pool);
    t[NPHASES] = now();
    l->map.pool = NULL;
    if (l->phase && l->nphase < PHASE_SAMPLES) {
        for (int p = 0; p < NPHASES; p++)
            l->phase[p * PHASE_SAMPLES + l->nphase] = t[p + 1] - t[p];
        l->nphase++;
    }
}

/* --counts: the median time of each call of the lives timed. */
static void print_phases(struct life_ctx *l)
{
    if (!l->phase || !l->nphase)
        return;
    printf("    each call, median of %d lives:", l->nphase);
    for (int p = 0; p < NPHASES; p++)
        printf(" %s %s", phase_names[p],
               fmt_time(median(l->phase + p * PHASE_SAMPLES, l->nphase)));
    printf("\n");
}

/* The arguments 0..n-1 as longs, on the heap. */
static long *range_longs(size_t n)
{
    long *args = xmalloc(n * sizeof *args);

    for (size_t i = 0; i < n; i++)
        args[i] = (long)i;
    return args;
}

/* What a spawned worker or the fork server may be asked to run (--start
 * spawn or forkserver, and the lifecycle group's rows for them): main()
 * hands it to pool_main(), and a fresh image finds each task by name. */
const struct pool_task bench_tasks[] = {
    POOL_TASK(square_task), POOL_TASK(sleep_task), POOL_TASK(square_long),
    POOL_TASK(heavy), POOL_TASK(copy_mib),
};
const size_t bench_ntasks = sizeof bench_tasks / sizeof bench_tasks[0];

/* ---- 1. lifecycle -----------------------------------------------------------
 *
 * A pool's whole life around 1000 squares (open, map, close, join, free),
 * against the raw primitives it must use (W forks, W threads) and against
 * the same squares done by hand with them. Then fork against the memory
 * in use: the reason to open a pool early and once.
 */

/* fork copies the page tables of everything the parent has touched, so a
 * fork costs more the bigger the parent: the same raw forks again from
 * this process with `mib` MiB more in use. */
static void fork_and_memory(double small, void *base)
{
    size_t mib = cfg.quick ? 16 : 64;
    char *ballast = xmalloc(mib << 20);
    struct fig *f = figs_new(1);

    /* Written again through a volatile pointer: nothing reads the ballast
     * before free(), so a compiler may drop the plain writes of xmalloc. */
    for (size_t i = 0; i < mib << 20; i += 4096)
        ((volatile char *)ballast)[i] = 1;
    f->op = op_raw_fork;
    f->ctx = base;
    measure(f, 1);
    printf("  (fork grows with the parent: the raw forks from this process with "
           "%zu MiB more in use: %s, %.1f x)\n", mib, fmt_time(f->median),
           f->median / small);
    free(f);
    free(ballast);
}

/* The three rows of one kind: the pool, raw, by hand. */
static void print_lifecycle(const struct fig *f, enum pool_kind kind,
                            struct life_ctx *life)
{
    static const char *pyname[2] = { "processes_lifecycle", "threads_lifecycle" };
    static const char *raw[2] = { "fork + waitpid", "pthread_create + join" };
    static const char *hand[2] = { "children, results by pipe",
                                   "threads, results in place" };
    int k = kind == POOL_THREADS;
    double ratio = f[0].median / f[1].median;
    char what[64];

    if (kind == POOL_PROCESSES && start_method() != POOL_START_FORK)
        snprintf(what, sizeof what, "processes pool, %s",
                 pool_start_name(start_method()));
    else
        snprintf(what, sizeof what, "%s pool", pool_kind_name(kind));
    printf("  %-40s %10s %9s  %-15s%s%s\n", what, fmt_time(f[0].median), "",
           "", py_cols(pyname[k], f[0].median), counts_cols(&f[0], 0));
    print_phases(life);
    snprintf(what, sizeof what, "  raw: %d x %s", cfg.workers, raw[k]);
    printf("  %-40s %10s %9.2f  %-14s%s\n", what, fmt_time(f[1].median),
           ratio, verdict(ratio, 1.5, true), counts_cols(&f[1], 22));
    snprintf(what, sizeof what, "  by hand: %d %s", cfg.workers, hand[k]);
    printf("  %-40s %10s %9.2f%s\n", what, fmt_time(f[2].median),
           f[0].median / f[2].median, counts_cols(&f[2], 38));
}

/* The process pool's row under another start method, beside CPython's
 * Pool from get_context(method). */
static void print_start_row(const struct fig *f, enum pool_start start,
                            struct life_ctx *life)
{
    char what[64], py[64];

    snprintf(what, sizeof what, "processes pool, %s", pool_start_name(start));
    snprintf(py, sizeof py, "processes_lifecycle_%s", pool_start_name(start));
    printf("  %-40s %10s %9s  %-15s%s%s\n", what, fmt_time(f->median), "", "",
           py_cols(py, f->median), counts_cols(f, 0));
    print_phases(life);
}

void bench_lifecycle(void)
{
    static const enum pool_start others[2] = { POOL_START_SPAWN,
                                               POOL_START_FORKSERVER };
    long *args = range_longs(1000);
    double *results = xmalloc(1000 * sizeof *results);
    void *base = baseline_new(cfg.workers);
    struct hand_ctx handctx = { args, results, 1000, base };
    struct life_ctx life[4];
    struct fig *figs = figs_new(8);

    for (int k = 0; k < 4; k++) {
        life[k] = (struct life_ctx){
            .kind = k == 1 ? POOL_THREADS : POOL_PROCESSES,
            .close_join = true,
            .map = { NULL, square_task, args, sizeof *args, results,
                     sizeof *results, 1000, 0 },
            .start = k < 2 ? start_method() : others[k - 2],
            .phase = cfg.counts
                   ? xmalloc(NPHASES * PHASE_SAMPLES * sizeof(double)) : NULL,
        };
    }
    for (int k = 0; k < 2; k++) {
        figs[3 * k].op = op_life;
        figs[3 * k].ctx = &life[k];
        figs[3 * k + 1].op = k ? op_raw_threads : op_raw_fork;
        figs[3 * k + 1].ctx = base;
        figs[3 * k + 2].op = k ? op_hand_threads : op_hand_fork;
        figs[3 * k + 2].ctx = &handctx;
    }
    figs[6] = (struct fig){ .op = op_life, .ctx = &life[2] };
    figs[7] = (struct fig){ .op = op_life, .ctx = &life[3] };
    printf("\nlifecycle: open + map 1000 squares + close + join + free, "
           "%d workers\n", cfg.workers);
    printf("  %-40s %10s %9s  %-15s %10s %9s%s\n", "what", "time", "pool/this",
           "target", "python", "C/python",
           cfg.counts ? "   faults  switches (per repeat)" : "");
    measure(figs, 8);
    print_lifecycle(&figs[0], POOL_PROCESSES, &life[0]);
    print_lifecycle(&figs[3], POOL_THREADS, &life[1]);
    for (int k = 0; k < 2; k++)
        if (others[k] != start_method())
            print_start_row(&figs[6 + k], others[k], &life[2 + k]);
    fork_and_memory(figs[1].median, base);
    for (int k = 0; k < 4; k++)
        free(life[k].phase);
    free(figs);
    baseline_free(base);
    free(args);
    free(results);
}

/* ---- 2. the tutorial's workloads --------------------------------------------
 *
 * The tutorial's six timings (sleep steps and squares, serially and on a
 * pool of each kind opened for its one map and freed, as a `with` block),
 * beside CPython's figures for the same when --python ran tutorial.py.
 */

void bench_tutorial(void)
{
    static const char *names[6] = { "serial_sleep", "processes_sleep",
                                    "threads_sleep", "serial_square",
                                    "processes_square", "threads_square" };
    double steps[5];
    long *args = range_longs(1000);
    double *results = xmalloc(1000 * sizeof *results);
    struct map_ctx serial[2];
    struct life_ctx life[4];
    struct fig *figs = figs_new(6);

    for (int i = 0; i < 5; i++)
        steps[i] = i * cfg.unit;
    serial[0] = (struct map_ctx){ NULL, sleep_task, steps, sizeof *steps, NULL,
                                  0, 5, 0 };
    serial[1] = (struct map_ctx){ NULL, square_task, args, sizeof *args, results,
                                  sizeof *results, 1000, 0 };
    for (int i = 0; i < 4; i++)
        life[i] = (struct life_ctx){
            .kind = i % 2 ? POOL_THREADS : POOL_PROCESSES,
            .map = i < 2 ? serial[0] : serial[1],
            .start = start_method(),
        };
    for (int g = 0; g < 2; g++) {
        figs[3 * g] = (struct fig){ .op = op_serial, .ctx = &serial[g], .once = !g };
        figs[3 * g + 1] = (struct fig){ .op = op_life, .ctx = &life[2 * g], .once = !g };
        figs[3 * g + 2] = (struct fig){ .op = op_life, .ctx = &life[2 * g + 1], .once = !g };
    }

    printf("\nthe tutorial's workloads: each pool opened for one map and freed "
           "(a `with` block), %d workers\n", cfg.workers);
    printf("  sleep: steps 0..4 of %g s each (the tutorial's step is 1 s); "
           "square: 2**i for i < 1000\n", cfg.unit);
    printf("  %-18s %10s %11s %9s\n", "name", "C", "python", "C/python");
    for (int g = 0; g < 2; g++) {
        measure(&figs[3 * g], 3);
        for (int i = 3 * g; i < 3 * g + 3; i++)
            printf("  %-18s %10s %s\n", names[i], fmt_time(figs[i].median),
                   py_cols(names[i], figs[i].median));
    }
    free(figs);
    free(args);
    free(results);
}

/* ---- 3. trivial items -------------------------------------------------------
 *
 * x*x per item on pools opened once, at n = 1e3, 1e5 and 1e6, with the
 * default chunksize and with chunksize 1, against a serial loop: the
 * pool's own cost per item. At 1e6, the floors under the process pool's
 * copying: the same bytes through a bare socketpair, and through memcpy.
 */

/* One size of the trivial group: its maps, and what they rest on. */
struct trivial {
    size_t n, cs;
    long *args;
    long long *results;
    struct map_ctx m[5];        /* serial, processes cs/1, threads cs/1 */
    bool floors;                /* the bare channel and memcpy rows too */
    struct echo echo;
    struct floor_ctx fl;
    struct copy_ctx cp;
};

/* Set up the maps of one size on the two pools, and the floors if asked. */
static void trivial_setup(struct trivial *t, struct pool *pools[2], struct fig *figs)
{
    t->cs = pool_default_chunksize(t->n, cfg.workers);
    t->args = range_longs(t->n);
    t->results = xmalloc(t->n * sizeof *t->results);
    t->m[0] = (struct map_ctx){ NULL, square_long, t->args, sizeof *t->args,
                                t->results, sizeof *t->results, t->n, 0 };
    for (int i = 1; i < 5; i++) {
        t->m[i] = t->m[0];
        t->m[i].pool = pools[(i - 1) / 2];
        t->m[i].chunksize = i % 2 ? t->cs : 1;
    }
    /* chunksize 1 on processes costs two wake-ups per item (some
     * microseconds): 1e6 of them would take most of a minute a run. */
    if (t->m[2].n > (size_t)cfg.proc_cs1_cap)
        t->m[2].n = (size_t)cfg.proc_cs1_cap;
    for (int i = 0; i < 5; i++)
        figs[i] = (struct fig){ .op = i ? op_map : op_serial, .ctx = &t->m[i] };
    if (!t->floors)
        return;
    echo_open(&t->echo);
    t->fl = (struct floor_ctx){ &t->echo, t->n, t->cs, sizeof *t->args,
                                sizeof *t->results, NULL, NULL };
    t->fl.out = xmalloc(t->cs * sizeof *t->args);
    t->fl.in = xmalloc(t->cs * (sizeof *t->results + sizeof(int)));
    figs[5] = (struct fig){ .op = op_floor, .ctx = &t->fl };
    t->cp = (struct copy_ctx){ (const char *)t->args, t->n * sizeof *t->args,
                               t->n * (sizeof *t->results + sizeof(int)),
                               NULL, NULL };
    t->cp.buf = xmalloc(t->cp.in_bytes);
    t->cp.dst = xmalloc(t->cp.in_bytes);
    figs[6] = (struct fig){ .op = op_copy, .ctx = &t->cp };
}

/* Undo trivial_setup. */
static void trivial_free(struct trivial *t)
{
    if (t->floors) {
        echo_close(&t->echo);
        free(t->fl.out);
        free(t->fl.in);
        free(t->cp.buf);
        free(t->cp.dst);
    }
    free(t->args);
    free(t->results);
}

/* The rows of one size; the target is held at the largest size only. */
static void trivial_print(const struct trivial *t, const struct fig *figs,
                          bool judge)
{
    double serial = figs[0].median / (double)t->n;

    for (int i = 0; i < 5; i++) {
        char how[48], whole[32];
        double per = figs[i].median / (double)t->m[i].n;
        bool capped = t->m[i].n < t->n;

        if (i == 0)
            snprintf(how, sizeof how, "serial loop");
        else
            snprintf(how, sizeof how, "%s, chunksize %zu%s",
                     pool_kind_name(i <= 2 ? POOL_PROCESSES : POOL_THREADS),
                     t->m[i].chunksize, capped ? " (*)" : "");
        snprintf(whole, sizeof whole, "%s%s", fmt_time(per * (double)t->n),
                 capped ? "*" : "");
        printf("  %-8zu %-28s %10s %10s", t->n, how, fmt_time(per), whole);
        if (i == 0)
            printf("\n");
        else if (judge && t->m[i].chunksize == t->cs)
            printf(" %11.2f  %s\n", per / serial, verdict(per / serial, 1, true));
        else
            printf(" %11.2f\n", per / serial);
    }
    if (!t->floors)
        return;
    double mb = (double)(t->cp.out_bytes + t->cp.in_bytes) / 1e6;
    printf("  %-8zu %-28s %10s %10s %11.2f  (the same %.0f MB through "
           "one socketpair)\n", t->n, "bare channel, same chunks",
           fmt_time(figs[5].median / (double)t->n), fmt_time(figs[5].median),
           figs[5].median / figs[0].median, mb);
    printf("  %-8zu %-28s %10s %10s %11.2f  (the same %.0f MB copied "
           "in memory once)\n", t->n, "memcpy, same bytes",
           fmt_time(figs[6].median / (double)t->n), fmt_time(figs[6].median),
           figs[6].median / figs[0].median, mb);
}

void bench_trivial(void)
{
    static const size_t sizes[] = { 1000, 100000, 1000000 };
    struct pool *pools[2];
    struct fig *figs = figs_new(7);

    pools[0] = open_or_die(POOL_PROCESSES, cfg.workers);
    pools[1] = open_or_die(POOL_THREADS, cfg.workers);
    printf("\ntrivial items: x*x per item on a pool opened once, %d workers\n",
           cfg.workers);
    printf("  %-8s %-28s %10s %10s %11s  %s\n", "n", "how", "per item",
           "whole map", "pool/serial", "target");
    for (int s = 0; s < 3; s++) {
        struct trivial t = { .n = sizes[s], .floors = s == 2 };

        trivial_setup(&t, pools, figs);
        measure(figs, t.floors ? 7 : 5);
        trivial_print(&t, figs, s == 2);
        trivial_free(&t);
    }
    if (cfg.proc_cs1_cap < 1000000)
        printf("  (*) measured on the first %ld items and scaled: each costs a "
               "round trip to a worker\n", cfg.proc_cs1_cap);
    free(figs);
    pool_free(pools[0]);
    pool_free(pools[1]);
}

/* ---- 4. small maps ----------------------------------------------------------
 *
 * The latency group (a small map on an open pool beside OpenMP, and an
 * idle pool's cost) has a file of its own: bench/latency.c.
 */

/* ---- 5. heavy items ---------------------------------------------------------
 *
 * Items of about 1.25 ms of pure computation each, on pools opened once:
 * the speed-up over a serial loop, held to 0.9 x the CPUs the workers can
 * use.
 */

void bench_heavy(void)
{
    size_t n = (size_t)cfg.heavy_items;
    struct heavy_arg *args = xmalloc(n * sizeof *args);
    uint64_t *results = xmalloc(n * sizeof *results);
    struct map_ctx m[3];
    struct fig *figs = figs_new(3);
    uint64_t iters = xorshift_rounds_for(1.25e-3);
    int cpus = pool_cpu_count();
    double target = 0.9 * (cfg.workers < cpus ? cfg.workers : cpus);

    for (size_t i = 0; i < n; i++)
        args[i] = (struct heavy_arg){ i + 1, iters };
    m[0] = (struct map_ctx){ NULL, heavy, args, sizeof *args, results,
                             sizeof *results, n, 0 };
    m[1] = m[0];
    m[1].pool = open_or_die(POOL_PROCESSES, cfg.workers);
    m[2] = m[0];
    m[2].pool = open_or_die(POOL_THREADS, cfg.workers);
    for (int i = 0; i < 3; i++)
        figs[i] = (struct fig){ .op = i ? op_map : op_serial, .ctx = &m[i] };
    measure(figs, 3);
    printf("\nheavy items: %zu items of %s of pure computation each, "
           "pool opened once, %d workers\n", n, fmt_time(figs[0].median / (double)n),
           cfg.workers);
    printf("  %-28s %10s %10s  %s (0.9 x min(workers, %d CPUs))\n", "how", "map",
           "speed-up", "target", cpus);
    printf("  %-28s %10s\n", "serial loop", fmt_time(figs[0].median));
    for (int i = 1; i < 3; i++) {
        char how[48];
        double up = figs[0].median / figs[i].median;

        snprintf(how, sizeof how, "%s, chunksize %zu",
                 pool_kind_name(i == 1 ? POOL_PROCESSES : POOL_THREADS),
                 pool_default_chunksize(n, cfg.workers));
        printf("  %-28s %10s %10.2f  %s\n", how, fmt_time(figs[i].median), up,
               verdict(up, target, false));
    }
    pool_free(m[1].pool);
    pool_free(m[2].pool);
    free(figs);
    free(args);
    free(results);
}

/* ---- 6. large items ---------------------------------------------------------
 *
 * 1 MiB in and 1 MiB out per item: MB/s through each kind of pool, and
 * through a bare socketpair to one child moving the same chunks.
 */

/* The three rows: processes, the bare channel, threads. */
static void large_print(const struct fig *figs, size_t n, size_t cs)
{
    double bytes = 2.0 * (double)n * LARGE;
    char how[48];

    printf("\nlarge items: %zu items of 1 MiB argument + 1 MiB result, "
           "%d workers (MB/s: both ways, 1 MB = 1e6 bytes)\n", n, cfg.workers);
    printf("  %-40s %10s %10s %11s\n", "how", "map", "MB/s", "vs channel");
    snprintf(how, sizeof how, "processes, chunksize %zu", cs);
    printf("  %-40s %10s %10.0f %11.2f\n", how,
           fmt_time(figs[0].median), bytes / figs[0].median / 1e6,
           figs[0].median / figs[2].median);
    printf("  %-40s %10s %10.0f %11.2f\n", "bare channel, one child, same chunks",
           fmt_time(figs[2].median), bytes / figs[2].median / 1e6, 1.0);
    printf("  %-40s %10s %10.0f %11.2f\n", "threads (no copy but the task's)",
           fmt_time(figs[1].median), bytes / figs[1].median / 1e6,
           figs[1].median / figs[2].median);
}

void bench_large(void)
{
    size_t n = (size_t)cfg.large_items, cs = pool_default_chunksize(n, cfg.workers);
    char *args = xmalloc(n * LARGE);
    char *results = xmalloc(n * LARGE);
    struct map_ctx m[2];
    struct floor_ctx fl;
    struct echo echo;
    struct fig *figs = figs_new(3);

    for (size_t i = 0; i < n * LARGE; i++)
        args[i] = (char)i;
    m[0] = (struct map_ctx){ open_or_die(POOL_PROCESSES, cfg.workers), copy_mib,
                             args, LARGE, results, LARGE, n, 0 };
    m[1] = m[0];
    m[1].pool = open_or_die(POOL_THREADS, cfg.workers);
    echo_open(&echo);
    /* The bare channel moves exactly the pool's bytes, less the ints. */
    fl = (struct floor_ctx){ &echo, n, cs, LARGE, LARGE - sizeof(int), NULL, NULL };
    fl.out = xmalloc(cs * LARGE);
    fl.in = xmalloc(cs * LARGE);
    figs[0] = (struct fig){ .op = op_map, .ctx = &m[0] };
    figs[1] = (struct fig){ .op = op_map, .ctx = &m[1] };
    figs[2] = (struct fig){ .op = op_floor, .ctx = &fl };
    measure(figs, 3);
    large_print(figs, n, cs);
    echo_close(&echo);
    pool_free(m[0].pool);
    pool_free(m[1].pool);
    free(figs);
    free(fl.out);
    free(fl.in);
    free(args);
    free(results);
}

/* ---- 7. the costs underneath ------------------------------------------------
 *
 * The costs the explanations of the figures above lean on, measured alone:
 * a wake-up between threads and between processes, and a page fault. (fork
 * is measured in the lifecycle group, while this process is small.)
 */

void bench_limits(void)
{
    long page = sysconf(_SC_PAGESIZE);
    struct fresh_ctx fresh = { open("/dev/zero", O_RDWR), page > 0 ? page : 4096 };
    struct echo echo;
    struct fig *figs = figs_new(3);
    void *pp = pingpong_start();

    if (fresh.zero_fd < 0)
        die("open /dev/zero");
    echo_open(&echo);
    figs[0] = (struct fig){ .op = op_ping, .ctx = pp };
    figs[1] = (struct fig){ .op = op_echo_byte, .ctx = &echo };
    figs[2] = (struct fig){ .op = op_fresh_pages, .ctx = &fresh };
    measure(figs, 3);
    pingpong_stop(pp);
    echo_close(&echo);
    close(fresh.zero_fd);

    printf("\nthe costs underneath: what the figures above are made of\n");
    printf("  %-58s %10s\n", "what", "time");
    printf("  %-58s %10s\n", "wake-up: a condition-variable round trip, 2 threads",
           fmt_time(figs[0].median));
    printf("  %-58s %10s\n", "wake-up: a byte to a child and back, socketpair",
           fmt_time(figs[1].median));
    printf("  %-58s %10s\n", "page fault: a fresh page touched for the first time",
           fmt_time(figs[2].median / (double)(FRESH / fresh.page)));
    free(figs);
}
