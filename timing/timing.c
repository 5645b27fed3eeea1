/* timing/timing.c - serial, processes and threads, timed on sleep and on square.
 *
 * Shows: the section "Timings". main() runs the tutorial's six measurements:
 * each style maps `sleep` over five tasks (task i sleeps i steps) and
 * `square` (2 to the power i, i < 1000); every repeat opens a pool, maps and
 * closes it, as `with Pool() as pool: pool.map(...)` does; each line is the
 * mean over the repeats. After the sleep group the program works out what
 * the schedule predicts: a pool's map lasts as long as its busiest worker.
 *
 * Usage: timing [-u S] [-r N] [-n N] [-w N] [-d D] [--start M]
 *               [--cpu | --predict]
 *
 * Try (from the project root):
 *   timing/timing -u 0.1 -r 1     the six lines in about two seconds
 *   timing/timing --predict -w 3  the schedule for three workers, and the
 *                                 times it predicts, without running it
 *   timing/timing -u 0.1 -w 4     four workers: the pools reach the
 *                                 tutorial's 4 steps; -w 1 gives back 10
 *   timing/timing --cpu           CPU-bound tasks: C threads use every
 *                                 core, which CPython's threads cannot
 *                                 in a build with the GIL
 *   timing/timing -u 0.0001 -r 1000 -d 6
 *                                 a thousand repeats, six decimals: what
 *                                 does opening a pool cost? Then -w 8.
 *
 * See also: docs/timing.md, reuse/reuse.c (a pool opened once and reused),
 * pool/pool.h.
 */
#define _DEFAULT_SOURCE /* getloadavg */
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "args.h"
#include "clock.h"
#include "err.h"
#include "pool.h"
#include "poolrun.h"
#include "tasks.h"

static const char usage[] =
    "usage: timing [-u S] [-r N] [-n N] [-w N] [-d D] [--start M]\n"
    "              [--cpu | --predict]\n"
    "  Time serial, processes and threads on sleep and on square, opening and\n"
    "  closing a pool for every repeat, and explain the sleep figures.\n"
    "  -u, --unit S     seconds per sleep step; task i sleeps i steps (default 1)\n"
    "  -r, --repeats N  repeats per measurement (default 3 for sleep, 100 for\n"
    "                   square, 3 for --cpu)\n"
    "  -n, --items N    squares: 2 to the power i for i < N (default 1000;\n"
    "                   at most 1024, as 2^1024 overflows a double)\n"
    "  -w, --workers N  workers per pool (default: the CPUs we may use)\n"
    "  -d, --digits D   decimals in the figures (default 4, as the tutorial)\n"
    "      --start M    how process pools start their workers: fork (default,\n"
    "                   as the tutorial), spawn or forkserver\n"
    "      --cpu        time a CPU-bound group instead: tasks of about 50 ms\n"
    "                   of arithmetic, where C threads use every core\n"
    "      --predict    print the sleep group's schedule and predicted times,\n"
    "                   and run nothing\n"
    "  -h, --help       this text\n";

/* The tutorial maps sleep over range(5). */
#define SLEEP_TASKS 5

/* What --cpu asks of each task: tens of milliseconds of arithmetic. */
#define CPU_TASK_SECONDS 0.05

/* One measurement's work: fn over n arguments, as pool.map(fn, args). */
struct work {
    const char *task;        /* "sleep", "square", "cpu": the names' suffix */
    pool_fn *fn;
    const void *args;
    size_t arg_size;
    void *results;           /* where each repeat writes */
    const void *expected;    /* what the serial run wrote; NULL: no results */
    size_t result_size;
    size_t n;
};

/* Decimals in every figure (-d); 4 as the tutorial rounds. */
static int digits = 4;

/* ---- the tasks ---------------------------------------------------------- */

/* A CPU-bound task: `iters` rounds of xorshift64 from `seed`. Nothing here
 * waits or calls the kernel, and every round depends on the one before, so
 * the compiler can neither skip nor shorten the loop. */
struct cpu_arg {
    uint64_t seed, iters;
};

static int cpu_task(const void *arg, void *result)
{
    const struct cpu_arg *a = arg;

    *(uint64_t *)result = xorshift(a->seed, a->iters);
    return 0;
}

/* ---- the measurements ---------------------------------------------------- */

/* One repeat of a serial measurement: list(map(fn, args)). Returns seconds. */
static double serial_once(const struct work *w)
{
    const char *args = w->args;
    char *res = w->results;
    double t0 = now();

    for (size_t i = 0; i < w->n; i++) {
        int err = w->fn(args + i * w->arg_size,
                        w->result_size ? res + i * w->result_size : NULL);
        if (err)
            die_en(err, "serial_%s: task %zu", w->task, i);
    }
    return now() - t0;
}

/* One repeat of a pool measurement: `with Pool() as pool: pool.map(fn,
 * args)`, that is open, map, close (pool_free). Returns seconds, the
 * opening and closing included as timeit includes them. */
static double pool_once(enum pool_kind kind, int workers, const struct work *w)
{
    char what[64];
    double t0 = now();
    struct pool *pool = open_or_die(kind, workers);

    snprintf(what, sizeof what, "%s_%s", pool_kind_name(kind), w->task);
    map_or_die(pool, what, w->fn, w->args, w->arg_size, w->results,
               w->result_size, w->n, 0);
    pool_free(pool);
    return now() - t0;
}

enum style { SERIAL, PROCESSES, THREADS };
static const char *const style_name[] = { "serial", "processes", "threads" };

/* A style's means over its repeats. */
struct mean {
    double wall;    /* seconds, as the tutorial prints them */
    double cpu;     /* CPU seconds of this process and of the children it
                       reaped meanwhile (a process pool's workers) */
};

static double seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* CPU seconds used so far by this process, its threads, and the children
 * it has waited for. */
static double cpu_used(void)
{
    struct rusage self, kids;

    if (getrusage(RUSAGE_SELF, &self) != 0 ||
        getrusage(RUSAGE_CHILDREN, &kids) != 0)
        die("getrusage");
    return seconds(self.ru_utime) + seconds(self.ru_stime) +
           seconds(kids.ru_utime) + seconds(kids.ru_stime);
}

/* Time one style `repeats` times and print the mean in the tutorial's
 * format. A pool's results are checked against the serial run's after
 * every repeat, outside the clock. Returns the means. */
static struct mean measure(enum style style, int workers, const struct work *w,
                           long repeats)
{
    double total = 0, cpu = 0;

    for (long r = 0; r < repeats; r++) {
        double cpu0 = cpu_used();

        if (w->result_size)
            memset(w->results, 0, w->n * w->result_size);
        if (style == SERIAL)
            total += serial_once(w);
        else
            total += pool_once(style == PROCESSES ? POOL_PROCESSES : POOL_THREADS,
                               workers, w);
        cpu += cpu_used() - cpu0;
        if (w->expected &&
            memcmp(w->results, w->expected, w->n * w->result_size) != 0)
            fatal("%s_%s: the pool's results differ from the serial run's",
                  style_name[style], w->task);
    }
    printf("Time elapsed for %s_%s: %.*fs\n", style_name[style], w->task,
           digits, total / (double)repeats);
    out_check(); /* the reader is gone: stop here, not after every group */
    return (struct mean){ total / (double)repeats, cpu / (double)repeats };
}

/* The tutorial's loop body: the three styles on one task, then a blank line.
 * The serial run goes first and its results become the expected ones.
 * means[] receives the means of each style. */
static void group(struct work *w, int workers, long repeats,
                  struct mean means[3])
{
    void *expected = NULL;

    means[SERIAL] = measure(SERIAL, workers, w, repeats);
    if (w->result_size) {
        expected = malloc(w->n * w->result_size);
        if (!expected)
            die("malloc");
        memcpy(expected, w->results, w->n * w->result_size);
        w->expected = expected;
    }
    means[PROCESSES] = measure(PROCESSES, workers, w, repeats);
    means[THREADS] = measure(THREADS, workers, w, repeats);
    printf("\n");
    w->expected = NULL;
    free(expected);
}

/* ---- what the schedule predicts ------------------------------------------ */

/* How the sleep map runs on a pool of W workers. */
struct plan {
    int chunksize;
    int owner[SLEEP_TASKS];  /* the worker that runs task i */
    long load[SLEEP_TASKS];  /* the steps worker k sleeps, k < SLEEP_TASKS */
    long busiest;            /* the most any worker sleeps: when the map ends */
};

/* Task i sleeps i steps. Chunks go out in order, each to the worker that is
 * free first; workers free at the same moment are served in the order they
 * last got work, the never-used first by number: that is how both pools
 * serve them. A never-used worker is free from the start, so it always
 * comes first: only workers 0..nchunks-1 ever get work, and there are at
 * most SLEEP_TASKS chunks. */
static struct plan schedule(int workers)
{
    struct plan p = {
        .chunksize = (int)pool_default_chunksize(SLEEP_TASKS, workers)
    };
    int used = workers < SLEEP_TASKS ? workers : SLEEP_TASKS;
    int last[SLEEP_TASKS];

    for (int k = 0; k < used; k++)
        last[k] = -1;
    for (int c = 0; c * p.chunksize < SLEEP_TASKS; c++) {
        int k = 0;
        for (int j = 1; j < used; j++)
            if (p.load[j] < p.load[k] ||
                (p.load[j] == p.load[k] && last[j] < last[k]))
                k = j;
        last[k] = c;
        for (int i = c * p.chunksize;
             i < SLEEP_TASKS && i < (c + 1) * p.chunksize; i++) {
            p.owner[i] = k;
            p.load[k] += i;
        }
        if (p.load[k] > p.busiest)
            p.busiest = p.load[k];
    }
    return p;
}

/* "0+2+4": the tasks of worker k (all tasks when k < 0), into buf.
 * Returns how many. */
static int task_sum(char *buf, size_t len, const struct plan *p, int k)
{
    size_t used = 0;
    int count = 0;

    buf[0] = '\0';
    for (int i = 0; i < SLEEP_TASKS && used < len; i++)
        if (k < 0 || p->owner[i] == k) {
            used += (size_t)snprintf(buf + used, len - used, "%s%d",
                                     count ? "+" : "", i);
            count++;
        }
    return count;
}

/* Print what the schedule predicts for the sleep group and why the
 * tutorial's pools took 4 steps where ours may take more. */
static void explain_sleep(int workers, double unit, bool workers_given)
{
    struct plan p = schedule(workers);
    long serial = 0, longest = SLEEP_TASKS - 1;
    int enough = 1;
    char sum[64];

    for (int i = 0; i < SLEEP_TASKS; i++)
        serial += i;
    printf("Why: task i sleeps i steps of %gs. Serial runs them one after another;\n"
           "a pool hands out chunks of %d task%s, in order, each to whichever of its\n"
           "%d worker%s is free first:\n",
           unit, p.chunksize, p.chunksize > 1 ? "s" : "", workers,
           workers > 1 ? "s" : "");
    for (int k = 0; k < workers && k < SLEEP_TASKS; k++) {
        int count = task_sum(sum, sizeof sum, &p, k);
        if (count)
            printf("  worker %d: task%s %s = %ld step%s\n", k,
                   count > 1 ? "s" : "", sum, p.load[k],
                   p.load[k] == 1 ? "" : "s");
    }
    task_sum(sum, sizeof sum, &p, -1);
    printf("Predicted for serial_sleep: %s = %ld steps = %.*fs\n", sum, serial,
           digits, (double)serial * unit);
    printf("Predicted for a pool of %d worker%s: the busiest worker's %ld steps"
           " = %.*fs\n", workers, workers > 1 ? "s" : "", p.busiest, digits,
           (double)p.busiest * unit);

    /* The fewest workers with which the longest task alone sets the pace;
     * SLEEP_TASKS workers always do (a task each). */
    while (schedule(enough).busiest > longest)
        enough++;
    printf("The tutorial saw about %ld s: its Pool() had a worker per CPU, and with\n"
           "%d or more workers no worker gets two tasks that take time, so the\n"
           "longest task, %ld steps, sets the pace.\n",
           longest, enough, longest);
    if (workers >= enough)
        printf("Here the pool has %d workers: %ld steps too.\n", workers, p.busiest);
    else if (workers_given)
        printf("Here the pool has %d worker%s (-w %d): %ld steps.\n", workers,
               workers > 1 ? "s" : "", workers, p.busiest);
    else
        printf("Here the pool has %d worker%s, one per CPU we may use: %ld steps.\n",
               workers, workers > 1 ? "s" : "", p.busiest);
    printf("\n");
}

/* ---- the groups ---------------------------------------------------------- */

/* The tutorial's two groups: sleep (then the prediction), then square. */
static void tutorial_groups(int workers, bool workers_given, double unit,
                            long repeats, long items)
{
    double sleep_args[SLEEP_TASKS];
    struct mean means[3];
    long *square_args = malloc((size_t)items * sizeof *square_args);
    double *squares = malloc((size_t)items * sizeof *squares);
    struct work w;

    if (!square_args || !squares)
        die("malloc");
    for (int i = 0; i < SLEEP_TASKS; i++)
        sleep_args[i] = i * unit;
    w = (struct work){ .task = "sleep", .fn = sleep_task, .args = sleep_args,
                       .arg_size = sizeof *sleep_args, .n = SLEEP_TASKS };
    /* The sleeps alone: serial's 10 steps and each pool's busiest worker,
     * every repeat. Said before a wait long enough to wonder about, on
     * stderr: stdout is the tutorial's lines. */
    long sleep_repeats = repeats ? repeats : 3;
    double wait = (double)sleep_repeats * unit *
                  (double)(SLEEP_TASKS * (SLEEP_TASKS - 1) / 2 +
                           2 * schedule(workers).busiest);
    if (wait >= 10) {
        fprintf(stderr, "timing: about %.0f s of sleeps (%ld repeat%s, steps "
                "of %g s);\n  timing/timing -u 0.1 -r 1 takes about %.0f s\n",
                wait, sleep_repeats, sleep_repeats > 1 ? "s" : "", unit,
                wait / unit / 10 / (double)sleep_repeats + 0.5);
        fflush(stderr);
    }
    group(&w, workers, sleep_repeats, means);
    explain_sleep(workers, unit, workers_given);

    for (long i = 0; i < items; i++)
        square_args[i] = i;
    w = (struct work){ .task = "square", .fn = square_task, .args = square_args,
                       .arg_size = sizeof *square_args, .results = squares,
                       .result_size = sizeof *squares, .n = (size_t)items };
    group(&w, workers, repeats ? repeats : 100, means);
    free(squares);
    free(square_args);
}

/* What --cpu's speed-ups say, in words that follow the figures: the lesson
 * when they show it; when they do not, what was measured (how many CPUs
 * the pools kept busy, the load average), not a guess at the cause. A
 * fork server's workers are its children, not ours: their CPU time does
 * not reach this process, so the processes' figure is left out then. */
static void explain_cpu(const struct mean means[3], int workers, int cpus)
{
    int best = workers < cpus ? workers : cpus;
    bool procs_counted = start_method() != POOL_START_FORKSERVER;
    double procs = means[SERIAL].wall / means[PROCESSES].wall;
    double threads = means[SERIAL].wall / means[THREADS].wall;
    double busy[3], load[1], fewest;

    for (int k = 0; k < 3; k++)
        busy[k] = means[k].cpu / means[k].wall;
    fewest = procs_counted && busy[PROCESSES] < busy[THREADS]
                 ? busy[PROCESSES] : busy[THREADS];
    printf("Speed-up over serial: processes %.2fx, threads %.2fx (at most %d:\n"
           "the fewer of workers and CPUs).\n", procs, threads, best);
    printf("CPUs busy on average (CPU time / wall time): serial %.2f,\n",
           busy[SERIAL]);
    if (procs_counted)
        printf("processes %.2f, threads %.2f.\n", busy[PROCESSES], busy[THREADS]);
    else
        printf("threads %.2f (a fork server's workers are not ours to count).\n",
               busy[THREADS]);
    if (best == 1) {
        printf("With one %s there is nothing to run side by side: about 1x\n"
               "is what to expect.\n", workers == 1 ? "worker" : "CPU");
    } else if (fewest < 0.75 * best || busy[SERIAL] < 0.75) {
        printf("Fewer CPUs than expected");
        if (getloadavg(load, 1) == 1)
            printf(" (load average %.2f)", load[0]);
        printf(": serial kept %.2f of 1\nbusy, a pool only %.2f of %d;"
               " the speed-ups compare slowed runs.\n", busy[SERIAL],
               fewest, best);
    } else if (threads >= 0.75 * best && procs >= 0.75 * best) {
        printf("C threads ran the arithmetic on %d cores at once, as processes\n"
               "did.\n", best);
    } else {
        printf("Below three quarters of the %d that %d CPUs allow, though the\n"
               "pools kept %d CPUs busy: side by side, each task took longer"
               " than alone.\n", best, cpus, best);
    }
    printf("CPython's threads would stay near 1x on this work in a build with\n"
           "the GIL (the usual one; the free-threaded 3.13t and 3.14t builds\n"
           "have none): one lock lets one thread at a time run bytecode.\n"
           "gil_sim shows that lock at work.\n");
}

/* --cpu: the same three styles on tasks that only compute. */
static void cpu_group(int workers, long repeats)
{
    int cpus = pool_cpu_count();
    size_t n = (size_t)(2 * cpus < 8 ? 8 : 2 * cpus);
    struct cpu_arg *args = malloc(n * sizeof *args);
    uint64_t *results = malloc(n * sizeof *results);
    uint64_t iters = xorshift_rounds_for(CPU_TASK_SECONDS);
    struct mean means[3];
    struct work w;

    if (!args || !results)
        die("malloc");
    for (size_t i = 0; i < n; i++)
        args[i] = (struct cpu_arg){ .seed = 0x9e3779b97f4a7c15u + i,
                                    .iters = iters };
    printf("%zu tasks of about %.0f ms of arithmetic each, %d worker%s, %d CPU%s:\n",
           n, CPU_TASK_SECONDS * 1000, workers, workers > 1 ? "s" : "", cpus,
           cpus > 1 ? "s" : "");
    w = (struct work){ .task = "cpu", .fn = cpu_task, .args = args,
                       .arg_size = sizeof *args, .results = results,
                       .result_size = sizeof *results, .n = n };
    group(&w, workers, repeats ? repeats : 3, means);
    explain_cpu(means, workers, cpus);
    free(results);
    free(args);
}

/* ---- the command line ------------------------------------------------------ */

struct options {
    double unit;        /* seconds per sleep step */
    long repeats;       /* 0: each group's default */
    long items;         /* squares */
    int workers;
    bool workers_given; /* -w, rather than one per CPU */
    bool cpu, predict;
};

static struct options parse_options(int argc, char *argv[])
{
    static const struct option longopts[] = {
        OPT_VALUE("unit", 'u'), OPT_VALUE("repeats", 'r'), OPT_VALUE("items", 'n'),
        OPT_VALUE("digits", 'd'), OPT_FLAG("cpu", 'C'), OPT_FLAG("predict", 'P'),
        OPT_POOL, OPT_END,
    };
    struct options o = { .unit = 1, .items = 1000 };
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":u:r:n:w:d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            /* Any number first, so that -1 and 0 get the same words. */
            o.unit = parse_double("--unit", optarg, -DBL_MAX, 60);
            if (o.unit <= 0)
                usage_error("--unit: expected a positive number, got '%s'",
                            optarg);
            break;
        case 'r': o.repeats = parse_long("--repeats", optarg, 1, 100000); break;
        case 'n': o.items = parse_long("--items", optarg, 1, 1024); break;
        case 'd': digits = (int)parse_long("--digits", optarg, 1, 9); break;
        case 'C': o.cpu = true; break;
        case 'P': o.predict = true; break;
        default: pool_option(c, argv, &o.workers);
        }
    }
    if (o.cpu && o.predict)
        usage_error("--predict: only for the sleep group, not with --cpu");
    o.workers_given = o.workers != 0;
    pool_options_done(argc, argv, &o.workers);
    return o;
}

/* ---- main: the tutorial's program ------------------------------------------ */

/* What a spawned worker may be asked to run: it finds each by its name. */
static const struct pool_task tasks[] = {
    POOL_TASK(sleep_task), POOL_TASK(square_task), POOL_TASK(cpu_task),
};

int main(int argc, char *argv[])
{
    POOL_MAIN(tasks);   /* if __name__ == "__main__": what follows runs here only */
    prog_init("timing", usage);
    struct options o = parse_options(argc, argv);

    if (o.predict)              /* the schedule alone, nothing run */
        explain_sleep(o.workers, o.unit, o.workers_given);
    else if (o.cpu)             /* the extra: CPU-bound tasks */
        cpu_group(o.workers, o.repeats);
    else                        /* for f in (sleep, square): serial, processes, threads */
        tutorial_groups(o.workers, o.workers_given, o.unit, o.repeats, o.items);
    return 0;
}
