/* gil_sim/gil_sim.c - watch CPU-bound threads serialise on a simulated GIL.
 *
 * Shows: why CPU-bound Python threads take as long as doing the work
 * serially, while processes (one GIL each) and a free-threaded build (no
 * GIL, PEP 703) use every core, and why I/O-bound threads overlap anyway.
 * Each "Python thread" here is a pthread running a bytecode loop of
 * calibrated busy work (one instruction is about 1 us) that checks its
 * drop request at every back edge, under the lock in gil.c, which follows
 * CPython's take_gil/drop_gil. The lock's policy is real; the interpreter
 * is not: nothing is parsed or executed but the busy work.
 *
 * Reading order: the interpreter threads (eval_loop, blocking_call,
 * interpret), then the modes (run_threads, execute), then main. The procs
 * mode's plumbing is in procs.c, the tables and charts in charts.c, the
 * flags in options.c.
 *
 * Usage: gil_sim/gil_sim [--workload cpu|io|mixed|all]
 *                [--mode serial|gil|procs|nogil|all] [--threads N]
 *                [--work MS] [--interval US] [--io-ops N] [--io-ms MS]
 *                [--no-force-switching] [--timeline] [--svg FILE] [--tsv]
 *
 * Try: gil_sim/gil_sim --workload cpu --mode gil --work 40 --timeline
 *      then add --interval 1, or --no-force-switching, or --threads 4.
 *      gil_sim/gil_sim --workload mixed: an I/O thread next to CPU-bound
 *      ones; how many calls per second does it make with and without the
 *      GIL?
 *
 * See also: gil.h and gil.c (the lock), docs/gil_sim.md.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "err.h"
#include "gil.h"
#include "gil_sim.h"
#include "tasks.h"

const char *const workload_names[NWORKLOADS] = { "cpu", "io", "mixed" };
const char *const mode_names[NMODES] = { "serial", "gil", "procs", "nogil" };

const struct config *cfg;

/* ------------------------------------------------------------------------
 * Clocks and busy work
 *
 * One "bytecode instruction" is a fixed number of xorshift rounds, measured
 * at start-up to take about 1 us here. The rounds depend on each other, so
 * no compiler can skip them: the thread really computes for that long.
 * ------------------------------------------------------------------------ */

/* Set by main before any thread starts, read-only afterwards. */
long spins_per_instruction = 1;

/* now() in nanoseconds: events are kept as integers, 8 bytes each. */
int64_t now_ns(void)
{
    return (int64_t)(now() * 1e9);
}

/* This thread's CPU time, ns. */
static int64_t thread_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* How many xorshift rounds take 1 us of this thread's CPU time. CPU time,
 * not wall time as xorshift_rounds_for() measures: being preempted during
 * the measurement (the tests share two cores) must not shrink the work.
 * The sample grows to about 5 ms, then the fastest of five is taken, as a
 * busy machine only ever slows a run down. */
static long calibrate(void)
{
    uint64_t x = 88172645463325252u, n = 1u << 14;
    int64_t t, best = INT64_MAX;

    do {
        n *= 2;
        t = thread_cpu_ns();
        x = xorshift(x, n);
        t = thread_cpu_ns() - t;
    } while (t < 5000000 && n < ((uint64_t)1 << 40));
    for (int i = 0; i < 5; i++) {
        t = thread_cpu_ns();
        x = xorshift(x, n);
        t = thread_cpu_ns() - t;
        if (t > 0 && t < best)
            best = t;
    }
    /* x == 0 never happens; testing it keeps the rounds from being skipped. */
    if (x == 0 || best == INT64_MAX || (double)n * 1000.0 / (double)best < 1)
        return 1;
    return (long)((double)n * 1000.0 / (double)best + 0.5);
}

/* The I/O shape: the flags, or the workload's default. Mixed has short
 * calls, as a busy socket would, and few enough that the I/O thread ends
 * before the CPU-bound threads: its rate is measured next to them. */
long workload_io_ops(enum workload wl)
{
    return cfg->io_ops ? cfg->io_ops : wl == WL_MIXED ? 20 : 10;
}

long workload_io_ms(enum workload wl)
{
    return cfg->io_ms ? cfg->io_ms : wl == WL_MIXED ? 1 : 20;
}

/* ------------------------------------------------------------------------
 * An interpreter thread, and what it records
 *
 * The lesson. A thread holding the GIL runs its bytecode and, at every back
 * edge, looks at its drop request; asked, it drops the lock and queues for
 * it again. Around a blocking call it drops the lock and takes it back
 * after. Each change of state (waiting, holding, in I/O) is recorded with
 * its time in the thread's own buffer, for the charts.
 * ------------------------------------------------------------------------ */

/* Append an event; past EVENTS_MAX (or out of memory) stop recording and
 * say so, rather than stop the run. */
static void record(struct row *r, int64_t t, int state)
{
    if (r->lost)
        return;
    if (r->nev == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        struct event *ev = cap <= EVENTS_MAX
                         ? realloc(r->ev, cap * sizeof *ev) : NULL;

        if (!ev) {
            r->lost = 1;
            return;
        }
        r->ev = ev;
        r->cap = cap;
    }
    r->ev[r->nev].t = t;
    r->ev[r->nev].state = state;
    r->nev++;
}

/* Row r enters `state` now: close the time of the old one, note the new. */
static void set_state(struct row *r, int state)
{
    int64_t t = now_ns() - r->run->t0;

    r->in_state[r->state] += t - r->since;
    r->since = t;
    r->state = state;
    record(r, t, state);
}

/* Note that `what` returned `err` in row r's thread; return err. */
int fail(struct row *r, int err, const char *what)
{
    r->err = err;
    snprintf(r->what, sizeof r->what, "%s", what);
    return err;
}

/* Give up the lock and enter `state` (waiting, or in I/O): CPython's
 * _PyThreadState_Detach. Returns 0, or the error, noted in r. */
static int detach(struct row *r, int state)
{
    int err;

    set_state(r, state);
    err = drop_gil(&r->ts, 0);
    return err ? fail(r, err, "drop_gil") : 0;
}

/* Wait for the lock and hold it: CPython's _PyThreadState_Attach. Without
 * a GIL there is nothing to wait for: a thread descheduled here waits for a
 * CPU, not for the lock, and the timeline must not say otherwise. */
static int attach(struct row *r)
{
    int err;

    if (r->state != ST_WAIT && r->ts.gil->enabled)
        set_state(r, ST_WAIT);
    err = take_gil(&r->ts);
    if (err)
        return fail(r, err, "take_gil");
    set_state(r, ST_HOLD);
    return 0;
}

/* The bytecode loop: n instructions, each followed by a back edge where the
 * drop request is checked, as CPython checks eval_breaker on every jump
 * backwards. Asked to drop the lock, the thread lets another run and queues
 * for it again (CPython's _Py_HandlePending). A thread that never reaches a
 * back edge never lets go. */
static int eval_loop(struct row *r, long n)
{
    uint64_t x = r->x;
    long spins = spins_per_instruction;

    for (long i = 0; i < n; i++) {
        x = xorshift(x, (uint64_t)spins);
        if (gil_drop_requested(&r->ts) && (detach(r, ST_WAIT) || attach(r)))
            break;
    }
    r->x = x;
    return r->err;
}

/* Blocking I/O, simulated by a sleep, with the lock released around it:
 * Py_BEGIN_ALLOW_THREADS ... Py_END_ALLOW_THREADS. */
static int blocking_call(struct row *r, long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    if (detach(r, ST_IO))
        return r->err;
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
    return attach(r);
}

/* An I/O-bound job: a little bytecode, then a blocking call, io_ops times.
 * Returns 0 or the error already noted in r. */
static int io_task(struct row *r, const struct task *task)
{
    int64_t start = now_ns();

    for (long i = 0; i < task->io_ops && !r->err; i++) {
        if (eval_loop(r, IO_WORK_US) || blocking_call(r, task->io_ms))
            break;
        r->io_ops++;
    }
    r->io_task_ns += now_ns() - start;
    return r->err;
}

/* A Python thread from start to end: take the lock (as a new thread does
 * before its first bytecode), run its tasks, release for the last time. */
void interpret(struct row *r)
{
    int64_t cpu0 = thread_cpu_ns();
    int err;

    r->state = ST_OFF;
    r->since = now_ns() - r->run->t0;
    if (!attach(r)) {
        for (int i = 0; i < r->ntasks && !r->err; i++) {
            const struct task *task = &r->run->tasks[r->first_task + i];

            if (task->io)
                io_task(r, task);
            else
                eval_loop(r, task->instructions);
        }
    }
    if (r->ts.holds_gil) {
        err = drop_gil(&r->ts, 1);
        if (err && !r->err)
            fail(r, err, "drop_gil");
    }
    set_state(r, ST_OFF);
    r->end = r->since;
    r->cpu_ns = thread_cpu_ns() - cpu0;
}
/* ------------------------------------------------------------------------
 * The modes: serial, gil and nogil threads (procs: procs.c)
 *
 * Serial is one thread doing every task in turn under a GIL nobody else
 * wants; gil is a thread per task sharing one GIL; nogil the same threads
 * with a lock that does nothing. All start together behind a gate, so the
 * clock starts when every thread exists.
 * ------------------------------------------------------------------------ */

/* Block until the gate opens (1) or is cancelled (-1); return which. */
static int gate_wait(struct gate *g)
{
    int state;

    pthread_mutex_lock(&g->mutex);
    while (g->state == 0)
        pthread_cond_wait(&g->cond, &g->mutex);
    state = g->state;
    pthread_mutex_unlock(&g->mutex);
    return state;
}

/* Open (1) or cancel (-1) the gate, waking every thread behind it. */
static void gate_set(struct gate *g, int state)
{
    pthread_mutex_lock(&g->mutex);
    g->state = state;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->mutex);
}

/* A pthread's body: one row, once the run starts. */
static void *thread_main(void *arg)
{
    struct row *r = arg;

    if (gate_wait(&r->run->gate) == 1)
        interpret(r);
    return NULL;
}

/* Serial, gil and nogil: one process, one lock, a thread per row. */
static void run_threads(struct run *run)
{
    struct gil gil;
    pthread_t *tids = calloc((size_t)run->nrows, sizeof *tids);
    int err, started = 0;

    if (!tids)
        die("calloc");
    err = gil_create(&gil, cfg->interval, run->mode != MODE_NOGIL,
                     cfg->force_switching);
    if (err)
        die_en(err, "gil_create");
    if ((err = pthread_mutex_init(&run->gate.mutex, NULL))
        || (err = pthread_cond_init(&run->gate.cond, NULL)))
        die_en(err, "gate");
    run->gate.state = 0;

    for (int i = 0; i < run->nrows; i++) {
        gil_tstate_init(&run->rows[i].ts, &gil);
        err = pthread_create(&tids[i], NULL, thread_main, &run->rows[i]);
        if (err)
            break;
        started++;
    }
    if (!err)
        run->t0 = now_ns();
    gate_set(&run->gate, err ? -1 : 1);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    free(tids);
    if (err)
        die_en(err, "pthread_create (thread %d of %d)", started, run->nrows);

    run->switches = gil.switch_number ? gil.switch_number - 1 : 0;
    run->drop_requests = gil.drop_requests;
    run->forced_switches = gil.forced_switches;
    gil_destroy(&gil);
    pthread_cond_destroy(&run->gate.cond);
    pthread_mutex_destroy(&run->gate.mutex);
}
/* Lay out the tasks and rows of one run. */
static void plan(struct run *run, enum workload wl, enum mode mode)
{
    int cpu = wl == WL_IO ? 0 : cfg->threads;
    int io = wl == WL_CPU ? 0 : wl == WL_IO ? cfg->threads : 1;
    long io_ops = workload_io_ops(wl);
    long io_ms = workload_io_ms(wl);

    memset(run, 0, sizeof *run);
    run->wl = wl;
    run->mode = mode;
    run->ntasks = cpu + io;
    run->tasks = calloc((size_t)run->ntasks, sizeof *run->tasks);
    run->nrows = mode == MODE_SERIAL ? 1 : run->ntasks;
    run->rows = calloc((size_t)run->nrows, sizeof *run->rows);
    if (!run->tasks || !run->rows)
        die("calloc");
    for (int i = 0; i < run->ntasks; i++) {
        struct task *t = &run->tasks[i];

        t->io = i >= cpu;
        t->instructions = cfg->work_ms * 1000;
        t->io_ops = io_ops;
        t->io_ms = io_ms;
    }
    for (int i = 0; i < run->nrows; i++) {
        struct row *r = &run->rows[i];

        r->run = run;
        r->first_task = mode == MODE_SERIAL ? 0 : i;
        r->ntasks = mode == MODE_SERIAL ? run->ntasks : 1;
        r->x = 88172645463325252u + (uint64_t)i;
        /* Room for a typical run, so recording rarely allocates. */
        r->cap = 4096;
        r->ev = malloc(r->cap * sizeof *r->ev);
        if (!r->ev)
            die("malloc");
    }
}

/* Run a planned run and total its results; a failure exits (1). */
static void execute(struct run *run)
{
    int64_t end = 0, cpu = 0;

    if (run->mode == MODE_PROCS)
        run_procs(run);
    else
        run_threads(run);
    for (int i = 0; i < run->nrows; i++) {
        const struct row *r = &run->rows[i];

        if (r->err)
            die_en(r->err, "thread %d: %s", i, r->what);
        if (r->end > end)
            end = r->end;
        cpu += r->cpu_ns;
    }
    run->wall_s = (double)end / 1e9;
    run->cpu_s = (double)cpu / 1e9;
}

/* Free what plan() allocated. */
static void release(struct run *run)
{
    for (int i = 0; i < run->nrows; i++)
        free(run->rows[i].ev);
    free(run->rows);
    free(run->tasks);
}
/* ------------------------------------------------------------------------
 * main: each chosen workload in each chosen mode, a table per workload
 * ------------------------------------------------------------------------ */

/* One workload in every chosen mode: a table (or TSV rows), the summary,
 * the timelines. The runs go into runs[*nruns ...], kept for the SVG. */
static void run_workload(enum workload wl, struct run *runs, int *nruns)
{
    struct run *table[NMODES] = { NULL };
    int first = *nruns;

    if (!cfg->tsv)
        print_table_head(wl);
    for (int m = 0; m < NMODES; m++) {
        struct run *run;

        if (!(cfg->modes & (1u << m)))
            continue;
        run = &runs[(*nruns)++];
        plan(run, wl, (enum mode)m);
        execute(run);
        table[m] = run;
        if (cfg->tsv)
            print_tsv_row(run);
        else
            print_row(run);
    }
    if (cfg->tsv)
        return;
    print_table_notes(wl);
    print_summary(wl, table);
    if (cfg->timeline) {
        for (int i = first; i < *nruns; i++)
            print_timeline(&runs[i]);
        print_legend();
    }
}

int main(int argc, char *argv[])
{
    static struct config config;
    struct run runs[NWORKLOADS * NMODES];
    FILE *svg;
    int nruns = 0;

    parse_args(argc, argv, &config);
    cfg = &config;
    /* A bad path should fail now, not after seconds of work. Closed again
     * at once, so procs children do not inherit it. */
    if (config.svg_path)
        if (!(svg = fopen(config.svg_path, "w")) || fclose(svg))
            die("%s", config.svg_path);

    spins_per_instruction = calibrate();
    if (config.tsv)
        print_tsv_head();
    else
        print_intro();
    for (int wl = 0; wl < NWORKLOADS; wl++)
        if (config.workloads & (1u << wl))
            run_workload((enum workload)wl, runs, &nruns);

    if (config.svg_path)
        write_svg(config.svg_path, runs, nruns);
    for (int i = 0; i < nruns; i++)
        release(&runs[i]);
    return 0;
}
