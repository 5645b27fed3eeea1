/* bench/bench.c - what a pool costs: against the raw primitives it is made
 * of, against a plain loop, and against CPython's multiprocessing.
 *
 * Shows: the tutorial's advice ("creating threads and processes is time
 * consuming: reuse your pools, give them slow tasks") as numbers. Seven
 * groups of figures, in this order, each printed as soon as it is measured:
 *
 *   1. lifecycle  open + map 1000 squares + close + join + free, against
 *                 W x fork+waitpid and W x pthread_create+join, and against
 *                 the same squares done by hand with those primitives
 *   2. tutorial   the tutorial's sleep and square workloads, each opening
 *                 its own pool, beside CPython running the same (--python)
 *   3. trivial    x*x on n = 1e3, 1e5, 1e6 items, default chunksize and
 *                 chunksize 1, against a serial loop (per item)
 *   4. latency    a map of 1000 x*x on a pool opened once, against OpenMP's
 *                 parallel for (where the compiler has -fopenmp), and the
 *                 CPU an idle pool burns
 *   5. heavy      items of >= 1 ms of pure computation: the speed-up
 *   6. large      1 MiB argument + 1 MiB result per item: MB/s through a
 *                 process pool, against a bare socketpair
 *   7. limits     the costs underneath: a wake-up, a page fault (fork is
 *                 measured in the lifecycle group, while this process is
 *                 small: its cost grows with the memory in use)
 *
 * This file holds main and the order of the groups; groups.c what each
 * group times, latency.c and openmp.c the small maps beside OpenMP,
 * harness.c how (medians of -r runs, taken in turn), baselines.c the raw
 * primitives and bare channels, usage.c CPU time, faults and switches,
 * python.c CPython's figures. bench/README.md gives each file a line.
 *
 * Usage: bench [-w N] [-r N] [-u S] [--start M] [--quick] [--python SCRIPT]
 *              [--only GROUP] [--counts]
 *
 * Try (from the project root):
 *   bench/bench --quick              every row in a few seconds
 *   bench/bench -w 1                 one worker: the pool's own overhead
 *   bench/bench -w 8                 more workers than cores: lifecycle
 *                                    grows, speed-up does not
 *   bench/bench --python bench/tutorial.py   the C/Python column (make bench)
 *   bench/bench --only lifecycle --counts    page faults, context switches
 *                                    and each call's time: where a
 *                                    lifecycle's time goes
 *   strace -fc bench/bench --only large      which system calls move bytes
 *
 * See also: docs/performance.md, bench/tutorial.py, pool/pool.h.
 */
#define _POSIX_C_SOURCE 200809L /* getopt: POSIX, not C11 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "bench.h"
#include "clock.h"
#include "err.h"
#include "poolrun.h"

static const char usage[] =
    "usage: bench [-w N] [-r N] [-u S] [--start M] [--quick] [--python SCRIPT]\n"
    "             [--only GROUP] [--counts]\n"
    "  Time the pool against raw fork/pthread_create, a serial loop and,\n"
    "  with --python, CPython's multiprocessing. Prints one table.\n"
    "  -w, --workers N   workers per pool (default: the CPUs we may use)\n"
    "      --start M     how process pools start their workers: fork\n"
    "                    (default), spawn or forkserver; the lifecycle group\n"
    "                    times the other two methods as well\n"
    "  -r, --repeats N   runs per figure, the median is shown (default 5)\n"
    "  -u, --unit S      the sleep workload's step in seconds (default 0.1;\n"
    "                    the tutorial's is 1)\n"
    "      --quick       small sizes, 3 runs: every row in a few seconds\n"
    "      --python SCRIPT  run SCRIPT (bench/tutorial.py) with python3 first\n"
    "                    and print the C/Python ratio beside its figures\n"
    "      --only GROUP  one group: lifecycle, tutorial, trivial, latency, heavy,\n"
    "                    large, limits\n"
    "      --counts      page faults and context switches per repeat, beside\n"
    "                    the lifecycle and latency rows, and the time of each\n"
    "                    call of a pool's life (where a pool's time goes)\n"
    "  -h, --help        this text\n";

struct bench_cfg cfg;

/* The groups, in the order they run. */
static const struct {
    const char *name;
    void (*run)(void);
} groups[] = {
    /* Those that fork pools for every repeat run first, while this process
     * is small: fork copies the page tables of all it has touched. */
    { "lifecycle", bench_lifecycle },
    { "tutorial", bench_tutorial },
    { "trivial", bench_trivial },
    { "latency", bench_latency },
    { "heavy", bench_heavy },
    { "large", bench_large },
    { "limits", bench_limits },
};
#define NGROUPS (int)(sizeof groups / sizeof groups[0])

/* What the command line asked for beyond cfg. */
struct request {
    const char *script;     /* --python SCRIPT, or NULL */
    int only;               /* --only: a group's index, or -1 for all */
};

/* The group named `name`, or a usage error. */
static int parse_group(const char *name)
{
    for (int i = 0; i < NGROUPS; i++)
        if (strcmp(groups[i].name, name) == 0)
            return i;
    usage_error("--only: no group '%s' (lifecycle, tutorial, trivial, latency, "
                "heavy, large, limits)", name);
}

/* Fill cfg and the request from the command line; sizes follow --quick. */
static struct request parse_options(int argc, char *argv[])
{
    static const struct option longopts[] = {
        OPT_VALUE("repeats", 'r'), OPT_VALUE("unit", 'u'), OPT_FLAG("quick", 'Q'),
        OPT_VALUE("python", 'P'), OPT_VALUE("only", 'O'), OPT_FLAG("counts", 'C'),
        OPT_POOL, OPT_END,
    };
    struct request req = { NULL, -1 };
    int runs = 0, c;
    double unit = 0;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":w:r:u:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r': runs = (int)parse_long("--repeats", optarg, 1, MAX_RUNS); break;
        case 'u': unit = parse_double("--unit", optarg, 0.001, 10); break;
        case 'Q': cfg.quick = true; break;
        case 'P': req.script = optarg; break;
        case 'O': req.only = parse_group(optarg); break;
        case 'C': cfg.counts = true; break;
        default: pool_option(c, argv, &cfg.workers);
        }
    }
    pool_options_done(argc, argv, &cfg.workers);
    cfg.runs = runs ? runs : cfg.quick ? 3 : 5;
    cfg.unit = unit ? unit : cfg.quick ? 0.01 : 0.1;
    cfg.min_batch = cfg.quick ? 0.002 : 0.02;
    cfg.proc_cs1_cap = cfg.quick ? 2000 : 20000;
    cfg.heavy_items = (cfg.quick ? 4 : 16) * (long)cfg.workers;
    cfg.large_items = cfg.quick ? 8 : 64;
    return req;
}

/* The load average, where the system shows it: other programs running now
 * take the CPUs from the figures, and it is worth knowing when reading them. */
static void print_load(const char *when)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double load;

    if (!f)
        return;
    if (fscanf(f, "%lf", &load) == 1)
        printf("load: %.2f (1-minute load average %s the run; programs other than "
               "this one take CPUs from the figures)\n", load, when);
    fclose(f);
}

int main(int argc, char *argv[])
{
    pool_main(bench_tasks, bench_ntasks);   /* a fresh worker stops here */
    prog_init("bench", usage);
    struct request req = parse_options(argc, argv);

    printf("bench: %d workers, %d CPUs, median of %d runs per figure%s\n",
           cfg.workers, pool_cpu_count(), cfg.runs, cfg.quick ? " (--quick)" : "");
    print_load("before");
    if (req.script)
        run_python(req.script);
    else
        printf("python: not asked for (--python SCRIPT): the Python columns are "
               "left out\n");

    double t0 = now();
    for (int i = 0; i < NGROUPS; i++)
        if (req.only < 0 || req.only == i)
            groups[i].run();
    printf("\n");
    print_load("after");
    printf("targets met: %d of %d (C figures measured in %.1f s%s)\n",
           targets_met, targets_all, now() - t0,
           cfg.quick ? "; --quick sizes are too small to judge by" : "");
    return 0;
}
