/* bench/bench.h - what the files of bench share: the settings, the
 * measuring harness, the timed operations and the groups.
 *
 * Reading order: bench.c (main, the groups in the order they run), then
 * groups.c (what each group times), harness.c (how a figure is measured),
 * baselines.c (the raw primitives and bare channels the pool is compared
 * with), latency.c and openmp.c (a small map on an open pool against
 * OpenMP's parallel for, and what an idle pool burns), usage.c (CPU time,
 * faults and switches, the workers included), python.c (CPython's
 * figures).
 */
#ifndef BENCH_BENCH_H
#define BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pool.h"
#include "stats.h"

/* ---- settings (bench.c) -------------------------------------------------- */

#define MAX_RUNS 101

struct bench_cfg {
    int workers;
    int runs;
    double unit;        /* sleep step, seconds */
    double min_batch;   /* a run of a short operation lasts at least this */
    bool quick;
    bool counts;        /* --counts: page faults and switches per repeat */
    long proc_cs1_cap;  /* chunksize 1 on processes: at most this many items */
    long heavy_items;
    long large_items;
};

extern struct bench_cfg cfg;

/* ---- the harness (harness.c) --------------------------------------------- */

/* One thing to time: op(ctx) is one repeat. */
typedef void bench_op(void *ctx);

struct fig {
    bench_op *op;
    void *ctx;
    bool once;              /* one repeat per run, no warm-up (slow ops) */
    double rest;            /* seconds to pause after each batch, untimed */
    long reps;              /* repeats per run */
    double t[MAX_RUNS];     /* seconds per repeat, one entry per run */
    double median;
    double lo, hi;          /* the fastest and the slowest run */
    double faults, switches;/* per repeat, over all runs (--counts) */
};

/* k zeroed figures on the heap (they are big: no stack holds them). */
struct fig *figs_new(int k);

/* Measure the k figures over cfg.runs runs (or `runs`), each run timing
 * every figure once in turn; each figure's median is then in ->median. */
void measure(struct fig *figs, int k);
void measure_runs(struct fig *figs, int k, int runs);


/* malloc, every byte written, or exit 1. */
void *xmalloc(size_t size);

/* "1.57 ns", "24.5 us", ...: in a ring of static buffers, so that several
 * can appear in one printf. A negative time prints as "-". */
const char *fmt_time(double s);

/* " faults switches" of a figure with --counts, else "" (pad spaces first). */
const char *counts_cols(const struct fig *f, int pad);

/* "<= 1.50 ok" or ">= 1.80 MISSED", counted in targets_met / targets_all. */
const char *verdict(double value, double target, bool at_most);
extern int targets_met, targets_all;

/* ---- what bench and its children use (usage.c) --------------------------- */

/* The children of bench still running (a process pool's workers): up to
 * max pids into pids; returns how many. */
int live_children(pid_t *pids, int max);

/* CPU seconds used so far by this process (all its threads) and by the
 * children in pids. */
double cpu_seconds(const pid_t *pids, int n);

/* Page faults and context switches so far: this process, its children
 * reaped, and those still running. */
void usage_now(double *faults, double *switches);

/* ---- CPython's figures (python.c) ---------------------------------------- */

/* Run `python3 SCRIPT` and keep its figures. python3 missing: said, and
 * the Python columns are left out. The script missing or failing: exit 1. */
void run_python(const char *script);

/* "  <python time>  <C/python>" for the row `name`, or "-  -". */
const char *py_cols(const char *name, double c_seconds);

/* ---- timed operations on the pool (groups.c) ----------------------------- */

/* One map: on an open pool, or serially (pool NULL), of n items. */
struct map_ctx {
    struct pool *pool;
    pool_fn *fn;
    const void *args;
    size_t arg_size;
    void *results;
    size_t result_size;
    size_t n;
    size_t chunksize;
};

void op_map(void *ctx);
void op_serial(void *ctx);

/* A trivial item: x*x of a long, in long long. */
int square_long(const void *arg, void *result);

/* The tasks a fresh image may be asked to run, for pool_main (groups.c). */
extern const struct pool_task bench_tasks[];
extern const size_t bench_ntasks;

/* ---- the baselines (baselines.c) ----------------------------------------- */

/* W children that exit at once, W threads that return at once, all reaped;
 * ctx from baseline_new (what they need, allocated once, off the stack). */
void *baseline_new(int workers);
void baseline_free(void *ctx);
void op_raw_fork(void *ctx);
void op_raw_threads(void *ctx);

/* The squares of a map done by hand: W children sending their share back
 * by pipe, or W threads writing theirs in place. */
struct hand_ctx {
    const long *args;
    double *results;
    size_t n;
    void *base;         /* from baseline_new */
};

void op_hand_fork(void *ctx);
void op_hand_threads(void *ctx);

/* A child at the end of a socketpair that reads `in` bytes and answers
 * with `out` bytes: the floor under a process pool's copying. */
struct echo {
    pid_t pid;
    int fd;
};

void echo_open(struct echo *e);
void echo_close(struct echo *e);
void op_echo_byte(void *ctx);

/* The bytes of a map of n items in chunks, as a process pool moves them,
 * through the echo child. */
struct floor_ctx {
    struct echo *echo;
    size_t n, chunksize, arg_size, result_size;
    char *out, *in;     /* big enough for a chunk each way */
};

void op_floor(void *ctx);

/* The same bytes copied in memory once each way. */
struct copy_ctx {
    const char *args;
    size_t out_bytes, in_bytes;
    char *buf, *dst;
};

void op_copy(void *ctx);

/* The costs underneath: a condition-variable round trip between two
 * threads, and a fresh page touched; each with a start and a stop. */
void *pingpong_start(void);
void pingpong_stop(void *pp);
void op_ping(void *ctx);

#define FRESH (1L << 20)
struct fresh_ctx {
    int zero_fd;
    long page;
};

void op_fresh_pages(void *ctx);

/* ---- OpenMP (openmp.c, built with -fopenmp where the compiler has it) ---- */

/* The OpenMP runtime this bench was built with ("libgomp", "libomp"), or
 * NULL without OpenMP, with the reason in *why ("the compiler has no
 * -fopenmp"). */
const char *omp_runtime(const char **why);

/* One `parallel for` over n items on `threads` threads, schedule(dynamic,
 * chunksize), calling fn on each item as the pool does. */
struct omp_ctx {
    pool_fn *fn;
    const long *args;
    long long *results;
    long n;
    int threads;
    int chunksize;
};

void op_omp_map(void *ctx);

/* ---- the groups, in the order they run ----------------------------------- */

void bench_lifecycle(void);     /* 1. groups.c */
void bench_tutorial(void);      /* 2. groups.c */
void bench_trivial(void);       /* 3. groups.c */
void bench_latency(void);       /* 4. latency.c */
void bench_heavy(void);         /* 5. groups.c */
void bench_large(void);         /* 6. groups.c */
void bench_limits(void);        /* 7. groups.c */

#endif
