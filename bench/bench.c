/* bench/bench.c - what a pool costs: against the raw primitives it is made
 * of, against a plain loop, and against CPython's multiprocessing.
 *
 * Shows: the tutorial's advice ("creating threads and processes is time
 * consuming: reuse your pools, give them slow tasks") as numbers. Six
 * groups of figures, in this order, each printed as soon as it is measured:
 *
 *   lifecycle     open + map 1000 squares + close + join + free, against
 *                 W x fork+waitpid and W x pthread_create+join, and against
 *                 the same squares done by hand with those primitives
 *   tutorial      the tutorial's sleep and square workloads, each opening
 *                 its own pool, beside CPython running the same (--python)
 *   trivial       x*x on n = 1e3, 1e5, 1e6 items, default chunksize and
 *                 chunksize 1, against a serial loop (per item)
 *   heavy         items of >= 1 ms of pure computation: the speed-up
 *   large         1 MiB argument + 1 MiB result per item: MB/s through a
 *                 process pool, against a bare socketpair
 *   limits        the costs underneath: a wake-up, a page fault (fork is
 *                 measured in the lifecycle group, while this process is
 *                 small: its cost grows with the memory in use)
 *
 * Every figure is the median of -r runs. Figures that are compared are
 * measured in turn within each run (A, B, A, B, ...), so a burst of noise
 * on this shared machine hits both sides, and every ratio comes from this
 * one invocation. A run of a short operation repeats it until the run
 * lasts a few tens of milliseconds and reports the time per repeat.
 *
 * Usage: bench [-w N] [-r N] [-u S] [--quick] [--python SCRIPT] [--only GROUP]
 *              [--counts]
 *
 * Try:
 *   ./bench --quick              every row in a few seconds
 *   ./bench -w 1                 one worker: the pool's own overhead, alone
 *   ./bench -w 8                 more workers than cores: lifecycle grows,
 *                                speed-up does not
 *   ./bench --python tutorial.py the C/Python column (what make bench runs)
 *   ./bench --only lifecycle --counts   page faults and context switches:
 *                                where a pool's lifecycle spends its time
 *   strace -fc ./bench --only large   which system calls move the bytes
 *
 * See also: docs/performance.md, bench/tutorial.py, pool/pool.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "err.h"
#include "io.h"
#include "pool.h"

extern char **environ;

static const char usage[] =
    "usage: bench [-w N] [-r N] [-u S] [--quick] [--python SCRIPT] [--only GROUP]\n"
    "             [--counts]\n"
    "  Time the pool against raw fork/pthread_create, a serial loop and,\n"
    "  with --python, CPython's multiprocessing. Prints one table.\n"
    "  -w, --workers N   workers per pool (default: the CPUs we may use)\n"
    "  -r, --runs N      runs per figure, the median is shown (default 5)\n"
    "  -u, --unit S      the sleep workload's step in seconds (default 0.1;\n"
    "                    the tutorial's is 1)\n"
    "      --quick       small sizes, 3 runs: every row in a few seconds\n"
    "      --python SCRIPT  run SCRIPT (bench/tutorial.py) with python3 first\n"
    "                    and print the C/Python ratio beside its figures\n"
    "      --only GROUP  one group: lifecycle, tutorial, trivial, heavy, large,\n"
    "                    limits\n"
    "      --counts      page faults and context switches per repeat, beside\n"
    "                    the lifecycle rows (where a pool's time goes)\n"
    "  -h, --help        this text\n";

#define MAX_RUNS 101

/* ---- settings ------------------------------------------------------------ */

static struct {
    int workers;
    int runs;
    double unit;        /* sleep step, seconds */
    double min_batch;   /* a run of a short operation lasts at least this */
    bool quick;
    bool counts;        /* --counts: page faults and switches per repeat */
    long proc_cs1_cap;  /* chunksize 1 on processes: at most this many items */
    long heavy_items;
    long large_items;
} cfg;

/* ---- timing -------------------------------------------------------------- */

/* Seconds on the monotonic clock. */
static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* qsort's order for doubles: ascending. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The median of v[0..n) (n >= 1); v is sorted in place. */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One thing to time: op(ctx) is one repeat. */
typedef void bench_op(void *ctx);

struct fig {
    bench_op *op;
    void *ctx;
    bool once;              /* one repeat per run, no warm-up (slow ops) */
    long reps;              /* repeats per run */
    double t[MAX_RUNS];     /* seconds per repeat, one entry per run */
    double median;
    double faults, switches;/* per repeat, over all runs (--counts) */
};

/* Page faults and context switches so far, of this process (all its
 * threads) and of its children already reaped. */
static void rusage_now(double *faults, double *switches)
{
    struct rusage self, kids;

    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    *faults = (double)(self.ru_minflt + self.ru_majflt + kids.ru_minflt +
                       kids.ru_majflt);
    *switches = (double)(self.ru_nvcsw + self.ru_nivcsw + kids.ru_nvcsw +
                         kids.ru_nivcsw);
}

/* Time f->reps repeats; seconds per repeat. */
static double batch(struct fig *f)
{
    double t0 = now();

    for (long i = 0; i < f->reps; i++)
        f->op(f->ctx);
    return (now() - t0) / (double)f->reps;
}

/* Choose f->reps so that a run lasts cfg.min_batch at least. The first
 * pass doubles as a warm-up (page faults, a worker's first buffers). */
static void calibrate(struct fig *f)
{
    long reps = 1;

    f->reps = 1;
    if (f->once)
        return;
    for (;;) {
        double t0 = now(), t;

        for (long i = 0; i < reps; i++)
            f->op(f->ctx);
        t = now() - t0;
        if (t >= cfg.min_batch / 4 || reps >= 1L << 24) {
            double want = cfg.min_batch / (t / (double)reps);
            f->reps = want < 1 ? 1 : want > 1e8 ? 100000000L : (long)want + 1;
            return;
        }
        reps *= 4;
    }
}

/* Measure the k figures: cfg.runs runs, each running every figure once in
 * turn, so that all of them see the same moments of this machine. */
static void measure(struct fig *figs, int k)
{
    for (int i = 0; i < k; i++)
        calibrate(&figs[i]);
    for (int r = 0; r < cfg.runs; r++)
        for (int i = 0; i < k; i++) {
            double f0, s0, f1, s1;

            rusage_now(&f0, &s0);
            figs[i].t[r] = batch(&figs[i]);
            rusage_now(&f1, &s1);
            figs[i].faults += f1 - f0;
            figs[i].switches += s1 - s0;
        }
    for (int i = 0; i < k; i++) {
        double reps = (double)cfg.runs * (double)figs[i].reps;

        figs[i].median = median(figs[i].t, cfg.runs);
        figs[i].faults /= reps;
        figs[i].switches /= reps;
    }
}

/* ---- printing ------------------------------------------------------------ */

/* A duration with a unit, in one of a few static buffers, so that several
 * can appear in one printf. */
static const char *fmt_time(double s)
{
    static char ring[8][24];
    static int next;
    char *buf = ring[next++ % 8];

    if (s < 0)
        snprintf(buf, sizeof ring[0], "-");
    else if (s < 1e-6)
        snprintf(buf, sizeof ring[0], "%.2f ns", s * 1e9);
    else if (s < 1e-3)
        snprintf(buf, sizeof ring[0], "%.1f us", s * 1e6);
    else if (s < 1)
        snprintf(buf, sizeof ring[0], "%.2f ms", s * 1e3);
    else
        snprintf(buf, sizeof ring[0], "%.3f s", s);
    return buf;
}

/* " faults switches" of a figure with --counts, else "". `pad` spaces go
 * first, for rows with no Python columns before them. */
static const char *counts_cols(const struct fig *f, int pad)
{
    static char ring[4][64];
    static int next;
    char *buf = ring[next++ % 4];

    buf[0] = '\0';
    if (cfg.counts)
        snprintf(buf, sizeof ring[0], "%*s %8.1f %9.1f", pad, "", f->faults,
                 f->switches);
    return buf;
}

static int targets_met, targets_all;

/* "<= 1.5  ok" or ">= 1.8  MISSED", and count it. */
static const char *verdict(double value, double target, bool at_most)
{
    static char ring[4][32];
    static int next;
    char *buf = ring[next++ % 4];
    bool ok = at_most ? value <= target : value >= target;

    targets_all++;
    targets_met += ok;
    snprintf(buf, sizeof ring[0], "%s %.2f %s", at_most ? "<=" : ">=", target,
             ok ? "ok" : "MISSED");
    return buf;
}

/* ---- CPython's figures (--python) ---------------------------------------- */

#define PY_MAX 32

static struct {
    bool have;
    char version[64];
    int n;
    char name[PY_MAX][40];
    double seconds[PY_MAX];
} py;

/* Python's median for `name`, or -1 when there is none. */
static double py_time(const char *name)
{
    for (int i = 0; i < py.n; i++)
        if (strcmp(py.name[i], name) == 0)
            return py.seconds[i];
    return -1;
}

/* "  <python time>  <C/python>" for a row, or "  -  -" without Python. */
static const char *py_cols(const char *name, double c_seconds)
{
    static char ring[4][48];
    static int next;
    char *buf = ring[next++ % 4];
    double p = py_time(name);

    if (p <= 0)
        snprintf(buf, sizeof ring[0], "%11s %9s", "-", "-");
    else
        snprintf(buf, sizeof ring[0], "%11s %9.4f", fmt_time(p), c_seconds / p);
    return buf;
}

/* Parse the script's output: "# CPython X.Y.Z" then NAME<TAB>SECONDS lines. */
static void py_parse(char *text)
{
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char name[40];
        double s;

        if (strncmp(line, "# CPython ", 10) == 0)
            snprintf(py.version, sizeof py.version, "%s", line + 10);
        else if (py.n < PY_MAX && sscanf(line, "%39s %lf", name, &s) == 2 && s > 0) {
            snprintf(py.name[py.n], sizeof py.name[0], "%s", name);
            py.seconds[py.n++] = s;
        }
    }
}

/* Run `python3 SCRIPT -w W -r R -u U` and keep what it prints. A missing
 * python3 is said and skipped: the C figures stand on their own. */
static void run_python(const char *script)
{
    char w[16], r[16], u[32];
    char *argv[] = { "python3", (char *)script, "-w", w, "-r", r, "-u", u,
                     cfg.quick ? "--quick" : NULL, NULL };
    posix_spawn_file_actions_t fa;
    char *text = NULL;
    size_t len = 0, cap = 0;
    int fd[2], err, status;
    pid_t pid;

    snprintf(w, sizeof w, "%d", cfg.workers);
    snprintf(r, sizeof r, "%d", cfg.runs);
    snprintf(u, sizeof u, "%g", cfg.unit);
    printf("python: python3 %s -w %s -r %s -u %s%s\n", script, w, r, u,
           cfg.quick ? " --quick" : "");
    if (pipe(fd) < 0)
        die("pipe");
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    posix_spawn_file_actions_addclose(&fa, fd[1]);
    err = posix_spawnp(&pid, "python3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    if (err) {
        close(fd[0]);
        if (err == ENOENT)
            printf("python: python3 not found: the Python columns are left out\n");
        else
            printf("python: cannot run python3 (%s): the Python columns are left out\n",
                   strerror(err));
        return;
    }
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *bigger = realloc(text, cap ? 2 * cap : 16384);
            if (!bigger)
                die("realloc");
            text = bigger;
            cap = cap ? 2 * cap : 16384;
        }
        ssize_t got = read(fd[0], text + len, cap - len - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fd[0]);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !text) {
        printf("python: %s failed (wait status %#x): the Python columns are left out\n",
               script, (unsigned)status);
        free(text);
        return;
    }
    text[len] = '\0';
    py_parse(text);
    free(text);
    py.have = py.n > 0;
    if (py.have)
        printf("python: CPython %s, %d figures\n", py.version, py.n);
    else
        printf("python: %s printed no figures: the Python columns are left out\n",
               script);
}

/* ---- tasks ---------------------------------------------------------------- */

/* The tutorial's square: 2 to the power i, as partial(pow, 2). */
static int square_pow(const void *arg, void *result)
{
    *(double *)result = pow(2.0, (double)*(const long *)arg);
    return 0;
}

/* A trivial item: a few nanoseconds of work, so only the pool's own cost
 * per item shows. In long long: x * x overflows a 32-bit long at 1e6. */
static int square_long(const void *arg, void *result)
{
    long long x = *(const long *)arg;

    *(long long *)result = x * x;
    return 0;
}

/* The tutorial's sleep: the argument is seconds. */
static int nap(const void *arg, void *result)
{
    double s = *(const double *)arg;
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

    (void)result;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    return 0;
}

/* A heavy item: `iters` steps of xorshift, a chain no compiler can fold or
 * vectorise, so the time is pure computation on one core. */
struct heavy_arg {
    uint64_t seed;
    long iters;
};

/* The heavy task: a->iters steps from a->seed. */
static int heavy(const void *arg, void *result)
{
    const struct heavy_arg *a = arg;
    uint64_t x = a->seed | 1;

    for (long i = 0; i < a->iters; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    *(uint64_t *)result = x;
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

/* ---- operations that are timed -------------------------------------------- */

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

/* A map that failed ends the run: a figure must never come from a map that
 * did not do the work. */
static void check_map(struct pool *pool, int err)
{
    if (err)
        fatal("pool_map: %s", pool_error(pool));
}

/* One pool_map of the map_ctx, on its open pool. */
static void op_map(void *ctx)
{
    struct map_ctx *m = ctx;

    check_map(m->pool, pool_map(m->pool, m->fn, m->args, m->arg_size,
                                m->results, m->result_size, m->n, m->chunksize));
}

/* The serial loop: the same indirect call per item the pool makes. The
 * volatile read stops the compiler from inlining the task into the loop,
 * which the pool cannot do either. */
static void op_serial(void *ctx)
{
    struct map_ctx *m = ctx;
    pool_fn *volatile vfn = m->fn;
    pool_fn *fn = vfn;
    const char *a = m->args;
    char *r = m->results;

    for (size_t i = 0; i < m->n; i++)
        fn(a + i * m->arg_size, r ? r + i * m->result_size : NULL);
}

/* A whole pool's life around one map, as a `with` block or as the
 * tutorial's reuse pattern (close + join before free). */
struct life_ctx {
    enum pool_kind kind;
    bool close_join;
    struct map_ctx map;
};

/* pool_open, or exit 1 saying what could not be opened. */
static struct pool *open_or_die(enum pool_kind kind, int workers)
{
    struct pool *pool = pool_open(kind, workers);

    if (!pool)
        die("pool_open: %d %s", workers,
            kind == POOL_PROCESSES ? "processes" : "threads");
    return pool;
}

/* Open, map, (close, join,) free: one life_ctx. */
static void op_life(void *ctx)
{
    struct life_ctx *l = ctx;
    struct pool *pool = open_or_die(l->kind, cfg.workers);

    l->map.pool = pool;
    op_map(&l->map);
    if (l->close_join) {
        pool_close(pool);
        if (pool_join(pool))
            fatal("pool_join: %s", pool_error(pool));
    }
    pool_free(pool);
    l->map.pool = NULL;
}

/* The raw primitives a process pool is made of: W children forked, each
 * leaving at once, all reaped. */
static void op_raw_fork(void *ctx)
{
    pid_t pids[POOL_MAX_WORKERS];
    int w = cfg.workers;

    (void)ctx;
    fflush(NULL); /* what any fork in a program with stdio must do first */
    for (int i = 0; i < w; i++) {
        pids[i] = fork();
        if (pids[i] < 0)
            die("fork");
        if (pids[i] == 0)
            _exit(0);
    }
    for (int i = 0; i < w; i++)
        while (waitpid(pids[i], NULL, 0) < 0)
            if (errno != EINTR)
                die("waitpid");
}

/* A thread that returns at once. */
static void *nothing(void *arg)
{
    return arg;
}

/* ... and a thread pool's: W threads created, each returning at once, all
 * joined. */
static void op_raw_threads(void *ctx)
{
    pthread_t t[POOL_MAX_WORKERS];
    int w = cfg.workers, err;

    (void)ctx;
    for (int i = 0; i < w; i++)
        if ((err = pthread_create(&t[i], NULL, nothing, NULL)))
            die_en(err, "pthread_create");
    for (int i = 0; i < w; i++)
        if ((err = pthread_join(t[i], NULL)))
            die_en(err, "pthread_join");
}

/* ---- helpers ---------------------------------------------------------------- */

/* malloc, touched all through, or exit 1. */
static void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (!p)
        die("malloc %zu bytes", size);
    /* Every byte written now, so no page fault lands in a timing. Not with
     * zeros: compilers turn malloc + memset(0) into calloc, which leaves
     * fresh pages untouched. */
    return memset(p, 0xa5, size);
}

/* The chunksize a map of n items gets when it asks for 0: ceil(n / 4w). */
static size_t default_chunksize(size_t n)
{
    size_t d = 4 * (size_t)cfg.workers;

    return n / d + (n % d != 0);
}

/* "processes" or "threads". */
static const char *kind_name(enum pool_kind kind)
{
    return kind == POOL_PROCESSES ? "processes" : "threads";
}

/* ---- whole messages over a descriptor, EINTR retried ---------------------- */

/* Write exactly len bytes: 0, or -1 on an error (EPIPE, not SIGPIPE, when
 * the other end is gone). */
static int send_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t put = send(fd, p, len, MSG_NOSIGNAL);
        if (put < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += put;
        len -= (size_t)put;
    }
    return 0;
}

/* ---- the same work by hand --------------------------------------------------- */

/* The same squares done by hand, without a pool: W children made for the
 * job, each computing its share of the items and writing it back through a
 * pipe, and W threads each writing its share in place. What a C programmer
 * would write for one map; the difference from the pool is the pool's own
 * cost, and from the raw primitives, the work itself. */
struct hand_ctx {
    const long *args;
    double *results;
    size_t n;
};

/* Share i of W: items [*first, *first + *count). */
static void share(size_t n, int i, int w, size_t *first, size_t *count)
{
    *first = n * (size_t)i / (size_t)w;
    *count = n * (size_t)(i + 1) / (size_t)w - *first;
}

/* W children, each computing its share and writing it back by pipe. */
static void op_hand_fork(void *ctx)
{
    struct hand_ctx *h = ctx;
    pid_t pids[POOL_MAX_WORKERS];
    int fds[POOL_MAX_WORKERS];
    int w = cfg.workers;

    fflush(NULL);
    for (int i = 0; i < w; i++) {
        int p[2];
        size_t first, count;

        share(h->n, i, w, &first, &count);
        if (pipe(p) < 0)
            die("pipe");
        pids[i] = fork();
        if (pids[i] < 0)
            die("fork");
        if (pids[i] == 0) {
            /* Keep no sibling's pipe, as the pool's workers keep none. */
            for (int j = 0; j < i; j++)
                close(fds[j]);
            close(p[0]);
            for (size_t k = first; k < first + count; k++)
                square_pow(&h->args[k], &h->results[k]);
            /* A share is a few KiB: it fits in the pipe, so the child
             * never waits for the parent. */
            ssize_t put = write(p[1], &h->results[first], count * sizeof *h->results);
            close(p[1]);
            _exit(put == (ssize_t)(count * sizeof *h->results) ? 0 : 1);
        }
        close(p[1]);
        fds[i] = p[0];
    }
    for (int i = 0; i < w; i++) {
        size_t first, count;

        share(h->n, i, w, &first, &count);
        if (read_full(fds[i], &h->results[first], count * sizeof *h->results))
            fatal("a child did not send its share");
        close(fds[i]);
        while (waitpid(pids[i], NULL, 0) < 0)
            if (errno != EINTR)
                die("waitpid");
    }
}

struct hand_share {
    struct hand_ctx *h;
    size_t first, count;
};

/* One thread's share of the squares, written in place. */
static void *hand_thread(void *arg)
{
    struct hand_share *s = arg;

    for (size_t k = s->first; k < s->first + s->count; k++)
        square_pow(&s->h->args[k], &s->h->results[k]);
    return NULL;
}

/* W threads, each computing its share in place. */
static void op_hand_threads(void *ctx)
{
    pthread_t t[POOL_MAX_WORKERS];
    struct hand_share s[POOL_MAX_WORKERS];
    int w = cfg.workers, err;

    for (int i = 0; i < w; i++) {
        s[i].h = ctx;
        share(s[i].h->n, i, w, &s[i].first, &s[i].count);
        if ((err = pthread_create(&t[i], NULL, hand_thread, &s[i])))
            die_en(err, "pthread_create");
    }
    for (int i = 0; i < w; i++)
        if ((err = pthread_join(t[i], NULL)))
            die_en(err, "pthread_join");
}

/* ---- a bare channel: the floor under a process pool's copying ------------- */

/* One child at the end of a socketpair that reads `in` bytes and answers
 * with `out` bytes, over and over: what moving the bytes costs when
 * nothing else happens. */
struct echo {
    pid_t pid;
    int fd;
};

struct echo_hdr {
    size_t in, out;
};

/* The echo child's life: read a header and `in` bytes, answer `out` bytes;
 * leave at end of file. */
static void echo_child(int fd)
{
    char *buf = NULL;
    size_t cap = 0;
    struct echo_hdr h;

    /* Keep no copy of anyone else's descriptors: a pool's worker sees end
     * of file only when every copy of its channel's other end is closed. */
    long maxfd = sysconf(_SC_OPEN_MAX);
    for (int i = 3; i < (maxfd > 0 && maxfd < 65536 ? maxfd : 65536); i++)
        if (i != fd)
            close(i);
    while (read_full(fd, &h, sizeof h) == 0) {
        size_t need = h.in > h.out ? h.in : h.out;
        if (need > cap) {
            free(buf);
            buf = calloc(1, need);
            if (!buf)
                _exit(3);
            cap = need;
        }
        if (read_full(fd, buf, h.in) || send_full(fd, buf, h.out))
            _exit(1);
    }
    close(fd);
    free(buf);
    _exit(0);
}

/* Fork the echo child. Call it with no pool worker to come that could
 * inherit the parent's end (echo_close does not depend on it, though). */
static void echo_open(struct echo *e)
{
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        die("socketpair");
    fflush(NULL);
    e->pid = fork();
    if (e->pid < 0)
        die("fork");
    if (e->pid == 0) {
        close(sv[0]);
        echo_child(sv[1]);
    }
    close(sv[1]);
    e->fd = sv[0];
}

/* End the echo child and reap it. shutdown(), not only close(): it ends
 * the socket itself, so the child reads end of file even if a process
 * forked since (a pool's worker) holds a copy of this end. */
static void echo_close(struct echo *e)
{
    shutdown(e->fd, SHUT_RDWR);
    close(e->fd);
    while (waitpid(e->pid, NULL, 0) < 0)
        if (errno != EINTR)
            die("waitpid");
}

/* The bytes of a map of n items in chunks, as a process pool moves them:
 * per chunk, its arguments out, then its results and one int per item
 * (each task's return value) back. */
struct floor_ctx {
    struct echo *echo;
    size_t n, chunksize, arg_size, result_size;
    char *out, *in;     /* big enough for a chunk each way */
};

/* One map's worth of bytes through the echo child, chunk by chunk. */
static void op_floor(void *ctx)
{
    struct floor_ctx *f = ctx;

    for (size_t first = 0; first < f->n; first += f->chunksize) {
        size_t count = f->n - first < f->chunksize ? f->n - first : f->chunksize;
        struct echo_hdr h = { count * f->arg_size,
                              count * (f->result_size + sizeof(int)) };
        if (send_full(f->echo->fd, &h, sizeof h) ||
            send_full(f->echo->fd, f->out, h.in) ||
            read_full(f->echo->fd, f->in, h.out))
            fatal("the echo child is gone");
    }
}

/* The same bytes copied in memory instead: what even a pool that shared
 * memory with its workers would have to copy (arguments in, results out). */
struct copy_ctx {
    const char *args;
    size_t out_bytes, in_bytes;
    char *buf, *dst;
};

/* The arguments copied out, the results and return values copied in. */
static void op_copy(void *ctx)
{
    struct copy_ctx *c = ctx;

    memcpy(c->buf, c->args, c->out_bytes);
    memcpy(c->dst, c->buf, c->in_bytes);
}

/* ---- 1. lifecycle ------------------------------------------------------------ */

/* fork copies the page tables of everything the parent has touched, so a
 * fork costs more the bigger the parent: the same raw forks again from
 * this process with `mib` MiB more in use. */
static void fork_and_memory(double small)
{
    size_t mib = cfg.quick ? 16 : 64;
    char *ballast = xmalloc(mib << 20);
    struct fig f = { .op = op_raw_fork };

    /* Written again through a volatile pointer: nothing reads the ballast
     * before free(), so a compiler may drop the plain writes of xmalloc. */
    for (size_t i = 0; i < mib << 20; i += 4096)
        ((volatile char *)ballast)[i] = 1;

    measure(&f, 1);
    printf("  (fork grows with the parent: the raw forks from this process with "
           "%zu MiB more in use: %s, %.1f x)\n", mib, fmt_time(f.median),
           f.median / small);
    free(ballast);
}

/* Group 1: a pool's whole life around 1000 squares, against the raw
 * primitives and the same work by hand; then fork against memory. */
static void bench_lifecycle(void)
{
    static const char *pyname[2] = { "processes_lifecycle", "threads_lifecycle" };
    static const char *raw[2] = { "fork + waitpid", "pthread_create + join" };
    static const char *hand[2] = { "children, results by pipe",
                                   "threads, results in place" };
    long args[1000];
    double results[1000];
    struct life_ctx life[2];
    struct hand_ctx handctx = { args, results, 1000 };
    struct fig figs[6];

    for (long i = 0; i < 1000; i++)
        args[i] = i;
    memset(figs, 0, sizeof figs);
    for (int k = 0; k < 2; k++) {
        life[k] = (struct life_ctx){
            .kind = k ? POOL_THREADS : POOL_PROCESSES,
            .close_join = true,
            .map = { NULL, square_pow, args, sizeof *args, results,
                     sizeof *results, 1000, 0 },
        };
        figs[3 * k].op = op_life;
        figs[3 * k].ctx = &life[k];
        figs[3 * k + 1].op = k ? op_raw_threads : op_raw_fork;
        figs[3 * k + 2].op = k ? op_hand_threads : op_hand_fork;
        figs[3 * k + 2].ctx = &handctx;
    }
    printf("\nlifecycle: open + map 1000 squares + close + join + free, "
           "%d workers\n", cfg.workers);
    printf("  %-40s %10s %9s  %-15s %10s %9s%s\n", "what", "time", "pool/this",
           "target", "python", "C/python",
           cfg.counts ? "   faults  switches (per repeat)" : "");
    measure(figs, 6);
    for (int k = 0; k < 2; k++) {
        struct fig *f = &figs[3 * k];
        char what[64];
        double ratio = f[0].median / f[1].median;

        snprintf(what, sizeof what, "%s pool", kind_name(life[k].kind));
        printf("  %-40s %10s %9s  %-15s%s%s\n", what, fmt_time(f[0].median), "",
               "", py_cols(pyname[k], f[0].median), counts_cols(&f[0], 0));
        snprintf(what, sizeof what, "  raw: %d x %s", cfg.workers, raw[k]);
        printf("  %-40s %10s %9.2f  %-14s%s\n", what, fmt_time(f[1].median),
               ratio, verdict(ratio, 1.5, true), counts_cols(&f[1], 22));
        snprintf(what, sizeof what, "  by hand: %d %s", cfg.workers, hand[k]);
        printf("  %-40s %10s %9.2f%s\n", what, fmt_time(f[2].median),
               f[0].median / f[2].median, counts_cols(&f[2], 38));
    }
    fork_and_memory(figs[1].median);
}

/* ---- 2. trivial items ---------------------------------------------------------- */

/* Group 3: x*x per item at three sizes, two chunksizes, both kinds, against
 * a serial loop; at 1e6, the copying floors of the process pool. */
static void bench_trivial(void)
{
    static const size_t sizes[] = { 1000, 100000, 1000000 };
    struct pool *pools[2];

    pools[0] = open_or_die(POOL_PROCESSES, cfg.workers);
    pools[1] = open_or_die(POOL_THREADS, cfg.workers);
    printf("\ntrivial items: x*x per item on a pool opened once, %d workers\n",
           cfg.workers);
    printf("  %-8s %-28s %10s %10s %11s  %s\n", "n", "how", "per item",
           "whole map", "pool/serial", "target");

    for (int s = 0; s < 3; s++) {
        size_t n = sizes[s];
        long *args = xmalloc(n * sizeof *args);
        long long *results = xmalloc(n * sizeof *results);
        struct map_ctx m[5];
        struct fig figs[7];
        struct echo echo;
        struct floor_ctx fl;
        struct copy_ctx cp;
        size_t cs = default_chunksize(n);
        bool floor_row = n == sizes[2];
        int k = 5;

        for (size_t i = 0; i < n; i++)
            args[i] = (long)i;
        memset(figs, 0, sizeof figs);
        m[0] = (struct map_ctx){ NULL, square_long, args, sizeof *args, results,
                                 sizeof *results, n, 0 };
        for (int i = 1; i < 5; i++) {
            m[i] = m[0];
            m[i].pool = pools[(i - 1) / 2];
            m[i].chunksize = i % 2 ? cs : 1;
        }
        /* chunksize 1 on processes costs two wake-ups per item (some
         * microseconds): 1e6 of them would take most of a minute a run. */
        if (m[2].n > (size_t)cfg.proc_cs1_cap)
            m[2].n = (size_t)cfg.proc_cs1_cap;
        for (int i = 0; i < 5; i++) {
            figs[i].op = i ? op_map : op_serial;
            figs[i].ctx = &m[i];
        }
        if (floor_row) {
            echo_open(&echo);
            fl = (struct floor_ctx){ &echo, n, cs, sizeof *args,
                                     sizeof *results, NULL, NULL };
            fl.out = xmalloc(cs * sizeof *args);
            fl.in = xmalloc(cs * (sizeof *results + sizeof(int)));
            figs[5].op = op_floor;
            figs[5].ctx = &fl;
            cp = (struct copy_ctx){ (const char *)args, n * sizeof *args,
                                    n * (sizeof *results + sizeof(int)),
                                    NULL, NULL };
            cp.buf = xmalloc(cp.in_bytes);
            cp.dst = xmalloc(cp.in_bytes);
            figs[6].op = op_copy;
            figs[6].ctx = &cp;
            k = 7;
        }
        measure(figs, k);

        double serial = figs[0].median / (double)n;
        for (int i = 0; i < 5; i++) {
            char how[48];
            double per = figs[i].median / (double)m[i].n;
            bool capped = m[i].n < n;

            if (i == 0)
                snprintf(how, sizeof how, "serial loop");
            else
                snprintf(how, sizeof how, "%s, chunksize %zu%s",
                         kind_name(i <= 2 ? POOL_PROCESSES : POOL_THREADS),
                         m[i].chunksize, capped ? " (*)" : "");
            char whole[32];

            snprintf(whole, sizeof whole, "%s%s", fmt_time(per * (double)n),
                     capped ? "*" : "");
            printf("  %-8zu %-28s %10s %10s", n, how, fmt_time(per), whole);
            if (i == 0)
                printf("\n");
            else if (n == sizes[2] && m[i].chunksize == cs)
                printf(" %11.2f  %s\n", per / serial, verdict(per / serial, 1, true));
            else
                printf(" %11.2f\n", per / serial);
        }
        if (floor_row) {
            double mb = (double)(cp.out_bytes + cp.in_bytes) / 1e6;
            printf("  %-8zu %-28s %10s %10s %11.2f  (the same %.0f MB through "
                   "one socketpair)\n",
                   n, "bare channel, same chunks", fmt_time(figs[5].median / (double)n),
                   fmt_time(figs[5].median), figs[5].median / figs[0].median, mb);
            printf("  %-8zu %-28s %10s %10s %11.2f  (the same %.0f MB copied "
                   "in memory once)\n",
                   n, "memcpy, same bytes", fmt_time(figs[6].median / (double)n),
                   fmt_time(figs[6].median), figs[6].median / figs[0].median, mb);
            echo_close(&echo);
            free(fl.out);
            free(fl.in);
            free(cp.buf);
            free(cp.dst);
        }
        free(args);
        free(results);
    }
    if (cfg.proc_cs1_cap < 1000000)
        printf("  (*) measured on the first %ld items and scaled: each costs a "
               "round trip to a worker\n", cfg.proc_cs1_cap);
    pool_free(pools[0]);
    pool_free(pools[1]);
}

/* ---- 3. heavy items ------------------------------------------------------------- */

/* The iterations of heavy() that take `target` seconds here. */
static long calibrate_heavy(double target)
{
    struct heavy_arg a = { 12345, 1L << 16 };
    pool_fn *volatile fn = heavy; /* called for real, not folded away */
    uint64_t r;
    double t[5];

    fn(&a, &r);
    for (int i = 0; i < 5; i++) {
        double t0 = now();
        fn(&a, &r);
        t[i] = now() - t0;
    }
    return (long)((double)a.iters * target / median(t, 5)) + 1;
}

/* Group 4: items of >= 1 ms each: the speed-up over a serial loop. */
static void bench_heavy(void)
{
    size_t n = (size_t)cfg.heavy_items;
    struct heavy_arg *args = xmalloc(n * sizeof *args);
    uint64_t *results = xmalloc(n * sizeof *results);
    struct map_ctx m[3];
    struct fig figs[3];
    long iters = calibrate_heavy(1.25e-3);
    int cpus = pool_cpu_count();
    double target = 0.9 * (cfg.workers < cpus ? cfg.workers : cpus);

    for (size_t i = 0; i < n; i++)
        args[i] = (struct heavy_arg){ i + 1, iters };
    memset(figs, 0, sizeof figs);
    m[0] = (struct map_ctx){ NULL, heavy, args, sizeof *args, results,
                             sizeof *results, n, 0 };
    m[1] = m[0];
    m[1].pool = open_or_die(POOL_PROCESSES, cfg.workers);
    m[2] = m[0];
    m[2].pool = open_or_die(POOL_THREADS, cfg.workers);
    for (int i = 0; i < 3; i++) {
        figs[i].op = i ? op_map : op_serial;
        figs[i].ctx = &m[i];
    }
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
                 kind_name(i == 1 ? POOL_PROCESSES : POOL_THREADS),
                 default_chunksize(n));
        printf("  %-28s %10s %10.2f  %s\n", how, fmt_time(figs[i].median), up,
               verdict(up, target, false));
    }
    pool_free(m[1].pool);
    pool_free(m[2].pool);
    free(args);
    free(results);
}

/* ---- 4. large items --------------------------------------------------------------- */

/* Group 5: 1 MiB in, 1 MiB out per item: MB/s through each kind of pool
 * and through a bare socketpair. */
static void bench_large(void)
{
    size_t n = (size_t)cfg.large_items, cs = default_chunksize(n);
    char *args = xmalloc(n * LARGE);
    char *results = xmalloc(n * LARGE);
    struct map_ctx m[2];
    struct floor_ctx fl;
    struct echo echo;
    struct fig figs[3];
    double bytes = 2.0 * (double)n * LARGE;

    for (size_t i = 0; i < n * LARGE; i++)
        args[i] = (char)i;
    memset(figs, 0, sizeof figs);
    m[0] = (struct map_ctx){ open_or_die(POOL_PROCESSES, cfg.workers), copy_mib,
                             args, LARGE, results, LARGE, n, 0 };
    m[1] = m[0];
    m[1].pool = open_or_die(POOL_THREADS, cfg.workers);
    echo_open(&echo);
    /* The bare channel moves exactly the pool's bytes, less the ints. */
    fl = (struct floor_ctx){ &echo, n, cs, LARGE, LARGE - sizeof(int), NULL, NULL };
    fl.out = xmalloc(cs * LARGE);
    fl.in = xmalloc(cs * LARGE);
    for (int i = 0; i < 2; i++) {
        figs[i].op = op_map;
        figs[i].ctx = &m[i];
    }
    figs[2].op = op_floor;
    figs[2].ctx = &fl;
    measure(figs, 3);

    printf("\nlarge items: %zu items of 1 MiB argument + 1 MiB result, "
           "%d workers (MB/s: both ways, 1 MB = 1e6 bytes)\n", n, cfg.workers);
    printf("  %-40s %10s %10s %11s\n", "how", "map", "MB/s", "vs channel");
    char how[48];
    snprintf(how, sizeof how, "processes, chunksize %zu", cs);
    printf("  %-40s %10s %10.0f %11.2f\n", how,
           fmt_time(figs[0].median), bytes / figs[0].median / 1e6,
           figs[0].median / figs[2].median);
    printf("  %-40s %10s %10.0f %11.2f\n", "bare channel, one child, same chunks",
           fmt_time(figs[2].median), bytes / figs[2].median / 1e6, 1.0);
    printf("  %-40s %10s %10.0f %11.2f\n", "threads (no copy but the task's)",
           fmt_time(figs[1].median), bytes / figs[1].median / 1e6,
           figs[1].median / figs[2].median);
    echo_close(&echo);
    pool_free(m[0].pool);
    pool_free(m[1].pool);
    free(fl.out);
    free(fl.in);
    free(args);
    free(results);
}

/* ---- 5. the tutorial's workloads --------------------------------------------------- */

/* Group 2: the tutorial's six timings, each pool opened for its one map,
 * beside CPython's figures for the same (--python). */
static void bench_tutorial(void)
{
    static const char *names[6] = { "serial_sleep", "processes_sleep",
                                    "threads_sleep", "serial_square",
                                    "processes_square", "threads_square" };
    double steps[5];
    long args[1000];
    double results[1000];
    struct map_ctx serial[2];
    struct life_ctx life[4];
    struct fig figs[6];

    for (int i = 0; i < 5; i++)
        steps[i] = i * cfg.unit;
    for (long i = 0; i < 1000; i++)
        args[i] = i;
    memset(figs, 0, sizeof figs);
    serial[0] = (struct map_ctx){ NULL, nap, steps, sizeof *steps, NULL, 0, 5, 0 };
    serial[1] = (struct map_ctx){ NULL, square_pow, args, sizeof *args, results,
                                  sizeof *results, 1000, 0 };
    for (int i = 0; i < 4; i++)
        life[i] = (struct life_ctx){ i % 2 ? POOL_THREADS : POOL_PROCESSES, false,
                                     i < 2 ? serial[0] : serial[1] };
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
}

/* ---- 6. the costs underneath -------------------------------------------------- */

/* Two threads passing a turn back and forth through a condition variable:
 * one op is one round trip, two wake-ups of a sleeping thread. */
struct pingpong {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int turn;           /* 0: the main thread's, 1: the other's, -1: stop */
};

/* The other thread of the round trip: hand the turn back each time. */
static void *pong(void *arg)
{
    struct pingpong *pp = arg;

    pthread_mutex_lock(&pp->lock);
    for (;;) {
        while (pp->turn == 0)
            pthread_cond_wait(&pp->cond, &pp->lock);
        if (pp->turn < 0)
            break;
        pp->turn = 0;
        pthread_cond_signal(&pp->cond);
    }
    pthread_mutex_unlock(&pp->lock);
    return NULL;
}

/* One round trip: give the turn, wait for it to come back. */
static void op_ping(void *ctx)
{
    struct pingpong *pp = ctx;

    pthread_mutex_lock(&pp->lock);
    pp->turn = 1;
    pthread_cond_signal(&pp->cond);
    while (pp->turn != 0)
        pthread_cond_wait(&pp->cond, &pp->lock);
    pthread_mutex_unlock(&pp->lock);
}

/* A byte to a child and a byte back over a socketpair (the echo child). */
static void op_echo_byte(void *ctx)
{
    struct echo *e = ctx;
    struct echo_hdr h = { 1, 1 };
    char byte = 0;

    if (send_full(e->fd, &h, sizeof h) || send_full(e->fd, &byte, 1) ||
        read_full(e->fd, &byte, 1))
        fatal("the echo child is gone");
}

/* Fresh memory touched: 1 MiB mapped, each page written once, unmapped.
 * A private mapping of /dev/zero is anonymous memory in plain POSIX; malloc
 * would hand back pages it already has. */
#define FRESH (1L << 20)

struct fresh_ctx {
    int zero_fd;
    long page;
};

/* Map FRESH bytes, write each page once, unmap. */
static void op_fresh_pages(void *ctx)
{
    struct fresh_ctx *f = ctx;
    char *p = mmap(NULL, FRESH, PROT_READ | PROT_WRITE, MAP_PRIVATE, f->zero_fd, 0);

    if (p == MAP_FAILED)
        die("mmap /dev/zero");
    for (long i = 0; i < FRESH; i += f->page)
        ((volatile char *)p)[i] = 1;
    munmap(p, FRESH);
}

/* Group 6: a wake-up between threads and between processes, and a page
 * fault, measured alone. */
static void bench_limits(void)
{
    struct pingpong pp = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
    struct fresh_ctx fresh = { open("/dev/zero", O_RDWR),
                               sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096 };
    struct echo echo;
    struct fig figs[3];
    pthread_t t;
    int err;

    memset(figs, 0, sizeof figs);
    if ((err = pthread_create(&t, NULL, pong, &pp)))
        die_en(err, "pthread_create");
    echo_open(&echo);
    figs[0] = (struct fig){ .op = op_ping, .ctx = &pp };
    figs[1] = (struct fig){ .op = op_echo_byte, .ctx = &echo };
    if (fresh.zero_fd < 0)
        die("open /dev/zero");
    figs[2] = (struct fig){ .op = op_fresh_pages, .ctx = &fresh };
    measure(figs, 3);
    pthread_mutex_lock(&pp.lock);
    pp.turn = -1;
    pthread_cond_signal(&pp.cond);
    pthread_mutex_unlock(&pp.lock);
    if ((err = pthread_join(t, NULL)))
        die_en(err, "pthread_join");
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
    { "heavy", bench_heavy },
    { "large", bench_large },
    { "limits", bench_limits },
};
#define NGROUPS (int)(sizeof groups / sizeof groups[0])

/* The group named `name`, or a usage error. */
static int parse_group(const char *name)
{
    for (int i = 0; i < NGROUPS; i++)
        if (strcmp(groups[i].name, name) == 0)
            return i;
    usage_error("--only: no group '%s' (lifecycle, tutorial, trivial, heavy, "
                "large, limits)", name);
}

/* ---- main ---------------------------------------------------------------------------- */

int main(int argc, char *argv[])
{
    static const struct option longopts[] = {
        { "workers", required_argument, NULL, 'w' },
        { "runs", required_argument, NULL, 'r' },
        { "unit", required_argument, NULL, 'u' },
        { "quick", no_argument, NULL, 'Q' },
        { "python", required_argument, NULL, 'P' },
        { "only", required_argument, NULL, 'O' },
        { "counts", no_argument, NULL, 'C' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *script = NULL;
    int runs = 0, only = -1, c;
    double unit = 0;

    prog_init("bench", usage);
    setvbuf(stdout, NULL, _IOLBF, 0);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":w:r:u:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'w': cfg.workers = parse_workers(optarg); break;
        case 'r': runs = (int)parse_long("--runs", optarg, 1, MAX_RUNS); break;
        case 'u': unit = parse_double("--unit", optarg, 0.001, 10); break;
        case 'Q': cfg.quick = true; break;
        case 'P': script = optarg; break;
        case 'O': only = parse_group(optarg); break;
        case 'C': cfg.counts = true; break;
        case 'h': print_usage(stdout); return 0;
        default: getopt_error(c, argv);
        }
    }
    no_operands(argc, argv);
    if (cfg.workers == 0)
        cfg.workers = pool_cpu_count();
    cfg.runs = runs ? runs : cfg.quick ? 3 : 5;
    cfg.unit = unit ? unit : cfg.quick ? 0.01 : 0.1;
    cfg.min_batch = cfg.quick ? 0.002 : 0.02;
    cfg.proc_cs1_cap = cfg.quick ? 2000 : 20000;
    cfg.heavy_items = (cfg.quick ? 4 : 16) * (long)cfg.workers;
    cfg.large_items = cfg.quick ? 8 : 64;

    printf("bench: %d workers, %d CPUs, median of %d runs per figure%s\n",
           cfg.workers, pool_cpu_count(), cfg.runs, cfg.quick ? " (--quick)" : "");
    print_load("before");
    if (script)
        run_python(script);
    else
        printf("python: not asked for (--python SCRIPT): the Python columns are "
               "left out\n");

    double t0 = now();
    for (int i = 0; i < NGROUPS; i++)
        if (only < 0 || only == i)
            groups[i].run();
    printf("\n");
    print_load("after");
    printf("targets met: %d of %d (C figures measured in %.1f s%s)\n",
           targets_met, targets_all, now() - t0,
           cfg.quick ? "; --quick sizes are too small to judge by" : "");
    return 0;
}
