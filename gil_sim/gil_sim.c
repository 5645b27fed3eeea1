/* gil_sim/gil_sim.c - watch CPU-bound threads serialise on a simulated GIL.
 *
 * Shows: why CPU-bound Python threads take as long as doing the work
 * serially, while processes (one GIL each) and a free-threaded build (no
 * GIL, PEP 703) use every core, and why I/O-bound threads overlap anyway.
 * Each "Python thread" here is a pthread running a bytecode loop of
 * calibrated busy work (one instruction is about 1 us) that checks its
 * drop request at every back edge, under the lock in gil.c, which follows
 * CPython's Python/ceval_gil.c. The lock's policy is real; the interpreter
 * is not: nothing is parsed or executed but the busy work.
 *
 * Usage: gil_sim [--workload cpu|io|mixed|all]
 *                [--mode serial|gil|procs|nogil|all] [--threads N]
 *                [--work MS] [--interval US] [--io-ops N] [--io-ms MS]
 *                [--no-force-switching] [--timeline] [--svg FILE] [--tsv]
 *
 * Try: gil_sim --workload cpu --mode gil --work 40 --timeline
 *      then add --interval 1, or --no-force-switching, or --threads 4.
 *      gil_sim --workload mixed: an I/O thread next to CPU-bound ones; how
 *      many I/O operations per second does it get with and without the GIL?
 *
 * See also: gil.h and gil.c (the lock), docs/gil_sim.md.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "err.h"
#include "gil.h"
#include "io.h"

static const char usage[] =
    "usage: gil_sim [options]\n"
    "Simulates CPython's global interpreter lock (the policy of\n"
    "Python/ceval_gil.c, not the interpreter) and runs the same work as\n"
    "serial code, threads with the GIL, processes (one GIL each) and\n"
    "threads with no GIL (free-threaded build).\n"
    "\n"
    "  --workload W    cpu, io, mixed or all (default: cpu, then io)\n"
    "  --mode M        serial, gil, procs, nogil or all (default: all)\n"
    "  --threads N     Python threads (default 2; mixed adds an I/O one)\n"
    "  --work MS       CPU work per thread, milliseconds (default 250)\n"
    "  --interval US   switch interval, microseconds (default 5000,\n"
    "                  as sys.setswitchinterval(0.005))\n"
    "  --io-ops N      blocking calls per I/O thread (io 10, mixed 20)\n"
    "  --io-ms MS      each blocking call, ms (io 20, mixed 1)\n"
    "  --no-force-switching\n"
    "                  a thread asked to drop the GIL may retake it at once\n"
    "  --timeline      after each table, a chart: who holds, waits, does I/O\n"
    "  --svg FILE      the same timelines as an SVG picture\n"
    "  --tsv           tab-separated rows under a header line, for scripts\n"
    "  -h, --help      this text\n";

/* ------------------------------------------------------------------------
 * What to run
 * ------------------------------------------------------------------------ */

enum workload { WL_CPU, WL_IO, WL_MIXED, NWORKLOADS };
enum mode { MODE_SERIAL, MODE_GIL, MODE_PROCS, MODE_NOGIL, NMODES };

static const char *const workload_names[NWORKLOADS] = { "cpu", "io", "mixed" };
static const char *const workload_titles[NWORKLOADS] = {
    "CPU-bound", "I/O-bound", "Mixed"
};
static const char *const mode_names[NMODES] = {
    "serial", "gil", "procs", "nogil"
};

#define THREADS_MAX 64
#define DEFAULT_THREADS 2
#define DEFAULT_WORK_MS 250
/* The computation an I/O thread does between two blocking calls. */
#define IO_WORK_US 200
/* A row of the timeline: this many columns fit an 80-column terminal. */
#define TIMELINE_COLS 72
/* Events kept per thread; a run that switches more loses the rest. */
#define EVENTS_MAX ((size_t)1 << 18)

struct config {
    int threads;
    long work_ms;
    unsigned long interval;
    long io_ops, io_ms;        /* 0: the workload's default */
    int force_switching;
    unsigned workloads;        /* bit per enum workload */
    unsigned modes;            /* bit per enum mode */
    int timeline, tsv;
    const char *svg_path;
};

/* One Python thread's job: a stretch of bytecode, or I/O calls each with a
 * little bytecode before it. */
struct task {
    int io;
    long instructions;         /* CPU task: the whole job */
    long io_ops;
    long io_ms;
};

/* ------------------------------------------------------------------------
 * Clocks and busy work
 * ------------------------------------------------------------------------ */

/* The time on clock `id`, in nanoseconds. */
static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

/* Busy work that no compiler can skip: each step needs the last. */
static uint64_t spin(uint64_t x, long n)
{
    while (n-- > 0) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

/* Spins in one "instruction": set by calibrate(), before any thread starts,
 * and read-only afterwards. */
static long spins_per_instruction = 1;

/* Find how many spins take 1 us of this thread's CPU time. CPU time, not
 * wall time, so being preempted during the measurement does not skew it;
 * the fastest of a few tries, as a busy machine only ever slows one down. */
static void calibrate(void)
{
    uint64_t x = 88172645463325252u;
    long n = 1 << 14;
    int64_t t, best = INT64_MAX;

    for (;;) {                  /* grow the sample to about 5 ms */
        t = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        x = spin(x, n);
        t = clock_ns(CLOCK_THREAD_CPUTIME_ID) - t;
        if (t >= 5000000 || n >= (1L << 40))
            break;
        n *= 2;
    }
    for (int i = 0; i < 5; i++) {
        t = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        x = spin(x, n);
        t = clock_ns(CLOCK_THREAD_CPUTIME_ID) - t;
        if (t > 0 && t < best)
            best = t;
    }
    spins_per_instruction = (long)((double)n * 1000.0 / (double)best + 0.5);
    if (spins_per_instruction < 1 || x == 0)
        spins_per_instruction = 1;
}

/* ------------------------------------------------------------------------
 * An interpreter thread, and what it records
 * ------------------------------------------------------------------------ */

/* ST_OFF: not started or finished. ST_LOST: events not recorded. */
enum state { ST_OFF, ST_WAIT, ST_HOLD, ST_IO, ST_LOST, NSTATES };

/* Both fields 8 bytes: no padding, whose bytes would go down the pipe
 * from a child uninitialised. */
struct event {
    int64_t t;                 /* ns since the run started */
    int64_t state;             /* the state from t on */
};

struct run;

/* One row of the report: a Python thread, or in serial mode the one thread
 * that does every task in turn, or in procs mode a process. Written only by
 * the thread it describes, read by main after the join. */
struct row {
    struct gil_tstate ts;
    struct run *run;
    int first_task, ntasks;    /* run->tasks[first_task ...] */
    uint64_t x;                /* busy-work state */
    int state;
    int64_t since;
    int64_t in_state[NSTATES]; /* ns spent in each state */
    int64_t cpu_ns;            /* this thread's CPU time */
    int64_t end;               /* when it finished, ns since the start */
    long io_ops;               /* blocking calls done */
    int64_t io_task_ns;        /* time spent in I/O tasks, waits included */
    struct event *ev;          /* per-thread buffer: no lock while running */
    size_t nev, cap;
    int lost;
    int err;                   /* 0, or an error number and */
    char what[16];             /* the call that returned it */
};

/* Start line for the threads of a run: opened once every thread exists,
 * so none starts before the clock does; cancelled if one cannot be made. */
struct gate {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int state;                 /* 0 closed, 1 open, -1 cancelled */
};

struct run {
    enum workload wl;
    enum mode mode;
    struct task *tasks;
    int ntasks;
    struct row *rows;
    int nrows;
    int64_t t0;                /* CLOCK_MONOTONIC at the start */
    struct gate gate;
    /* Results. */
    double wall_s, cpu_s;
    unsigned long switches, drop_requests, forced_switches;
};

static const struct config *cfg;

/* The I/O shape: the flags, or the workload's default. Mixed has short
 * calls, as a busy socket would, and few enough that the I/O thread ends
 * before the CPU-bound threads: its rate is measured next to them. */
static long workload_io_ops(enum workload wl)
{
    return cfg->io_ops ? cfg->io_ops : wl == WL_MIXED ? 20 : 10;
}

static long workload_io_ms(enum workload wl)
{
    return cfg->io_ms ? cfg->io_ms : wl == WL_MIXED ? 1 : 20;
}

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
static int fail(struct row *r, int err, const char *what)
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
        x = spin(x, spins);
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
static void interpret(struct row *r)
{
    int64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
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
    r->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
}

/* ------------------------------------------------------------------------
 * Runs: threads (serial, gil, nogil) and processes
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

/* What a child process sends back: its row's numbers, then its events. */
struct report {
    int64_t in_state[NSTATES];
    int64_t cpu_ns, end, io_task_ns;
    long io_ops;
    size_t nev;
    int lost, err;
    char what[16];
    unsigned long switch_number, drop_requests, forced_switches;
};

/* In the child: its own lock (a fresh interpreter has a fresh GIL), one
 * Python thread on the child's main thread, the report down the pipe. */
static _Noreturn void child_main(struct run *run, int i, int fd)
{
    struct row *r = &run->rows[i];
    struct report rep;
    struct gil gil;
    int err;

    memset(&rep, 0, sizeof rep);
    err = gil_create(&gil, cfg->interval, 1, cfg->force_switching);
    if (err)
        fail(r, err, "gil_create");
    else {
        gil_tstate_init(&r->ts, &gil);
        interpret(r);
    }
    memcpy(rep.in_state, r->in_state, sizeof rep.in_state);
    rep.cpu_ns = r->cpu_ns;
    rep.end = r->end;
    rep.io_task_ns = r->io_task_ns;
    rep.io_ops = r->io_ops;
    rep.nev = r->nev;
    rep.lost = r->lost;
    rep.err = r->err;
    memcpy(rep.what, r->what, sizeof rep.what);
    rep.switch_number = gil.switch_number;
    rep.drop_requests = gil.drop_requests;
    rep.forced_switches = gil.forced_switches;
    if (write_all(fd, &rep, sizeof rep)
        || write_all(fd, r->ev, r->nev * sizeof *r->ev))
        _exit(1);
    close(fd);
    _exit(0);
}

struct child {
    pid_t pid;
    int fd;                    /* read end of its pipe, -1 once at EOF */
    char *buf;                 /* what it sent */
    size_t len, cap;
};

/* A whole report: its header and exactly the events it announces. On
 * success fill *rep and return 1. */
static int report_complete(const struct child *k, struct report *rep)
{
    if (k->len < sizeof *rep)
        return 0;
    memcpy(rep, k->buf, sizeof *rep);
    return rep->nev <= EVENTS_MAX
           && k->len == sizeof *rep + rep->nev * sizeof(struct event);
}

/* Read every child's pipe to EOF; a child that dies just closes its end.
 * Returns the first child whose report was cut short, or -1. Once one has
 * failed the run is lost, so the others are killed rather than waited for. */
static int read_reports(struct child *kids, int n)
{
    struct pollfd *pfd;
    struct report rep;
    int open = n, first_bad = -1;

    if (n < 1)
        return -1;
    pfd = calloc((size_t)n, sizeof *pfd);
    if (!pfd)
        die("calloc");
    while (open > 0) {
        for (int i = 0; i < n; i++) {
            pfd[i].fd = kids[i].fd;
            pfd[i].events = POLLIN;
        }
        if (poll(pfd, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        for (int i = 0; i < n; i++) {
            struct child *k = &kids[i];
            ssize_t got;

            if (k->fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (k->len == k->cap) {
                size_t cap = k->cap ? k->cap * 2 : 65536;
                char *buf = realloc(k->buf, cap);

                if (!buf)
                    die("realloc");
                k->buf = buf;
                k->cap = cap;
            }
            got = read(k->fd, k->buf + k->len, k->cap - k->len);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0)
                die("read");
            k->len += (size_t)got;
            if (got > 0)
                continue;
            close(k->fd);
            k->fd = -1;
            open--;
            if (first_bad < 0 && !report_complete(k, &rep)) {
                first_bad = i;
                for (int j = 0; j < n; j++)
                    if (kids[j].fd >= 0)
                        kill(kids[j].pid, SIGKILL);
            }
        }
    }
    free(pfd);
    return first_bad;
}

/* How a child ended, in words, for the failure message. */
static void describe_status(int status, char *buf, size_t size)
{
    if (WIFSIGNALED(status))
        snprintf(buf, size, "was killed by signal %d", WTERMSIG(status));
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
    else
        snprintf(buf, size, "sent an incomplete report");
}

/* Fork failed half way: stop and reap the children already started. */
static _Noreturn void abandon(struct child *kids, int started,
                             const char *what, int err, int nrows)
{
    for (int j = 0; j < started; j++) {
        kill(kids[j].pid, SIGKILL);
        close(kids[j].fd);
        while (waitpid(kids[j].pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    die_en(err, "%s (process %d of %d)", what, started, nrows);
}

/* Copy a child's report into its row: numbers, then events. */
static void adopt_report(struct run *run, struct row *r,
                         const struct child *k, const struct report *rep)
{
    memcpy(r->in_state, rep->in_state, sizeof r->in_state);
    r->cpu_ns = rep->cpu_ns;
    r->end = rep->end;
    r->io_ops = rep->io_ops;
    r->io_task_ns = rep->io_task_ns;
    r->lost = rep->lost;
    /* execute() reports a failure, in the same words as a thread's. */
    r->err = rep->err;
    memcpy(r->what, rep->what, sizeof r->what);
    r->what[sizeof r->what - 1] = '\0';
    if (rep->nev > r->cap) {
        struct event *ev = realloc(r->ev, rep->nev * sizeof *ev);

        if (!ev)
            die("realloc");
        r->ev = ev;
        r->cap = rep->nev;
    }
    if (rep->nev)
        memcpy(r->ev, k->buf + sizeof *rep, rep->nev * sizeof *r->ev);
    r->nev = rep->nev;
    run->switches += rep->switch_number ? rep->switch_number - 1 : 0;
    run->drop_requests += rep->drop_requests;
    run->forced_switches += rep->forced_switches;
}

/* Procs: a child process per row, each with its own GIL, as
 * multiprocessing gives each worker its own interpreter. Every child is
 * reaped, whatever happens to it; a failed one fails the run (exit 1). */
static void run_procs(struct run *run)
{
    struct child *kids = calloc((size_t)run->nrows, sizeof *kids);
    int bad, bad_status = 0;

    if (!kids)
        die("calloc");
    /* Anything still buffered would be written again by every child. */
    fflush(stdout);
    fflush(stderr);
    run->t0 = now_ns();
    for (int i = 0; i < run->nrows; i++) {
        int fds[2];

        if (pipe(fds) < 0)
            abandon(kids, i, "pipe", errno, run->nrows);
        kids[i].pid = fork();
        if (kids[i].pid < 0) {
            int err = errno;

            close(fds[0]);
            close(fds[1]);
            abandon(kids, i, "fork", err, run->nrows);
        }
        if (kids[i].pid == 0) {
            /* Other children's read ends too: the parent alone holds them. */
            for (int j = 0; j < i; j++)
                close(kids[j].fd);
            close(fds[0]);
            child_main(run, i, fds[1]);
        }
        close(fds[1]);
        kids[i].fd = fds[0];
    }

    bad = read_reports(kids, run->nrows);

    run->switches = run->drop_requests = run->forced_switches = 0;
    for (int i = 0; i < run->nrows; i++) {
        struct report rep;
        int status;

        while (waitpid(kids[i].pid, &status, 0) < 0)
            if (errno != EINTR)
                die("waitpid");
        if (bad < 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
            bad = i;
        if (i == bad)
            bad_status = status;
        if (bad < 0 && report_complete(&kids[i], &rep))
            adopt_report(run, &run->rows[i], &kids[i], &rep);
        free(kids[i].buf);
    }
    free(kids);
    if (bad >= 0) {
        char why[64];

        describe_status(bad_status, why, sizeof why);
        fatal("the process running thread %d %s", bad, why);
    }
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
 * Reports: table rows, TSV, timelines, SVG
 * ------------------------------------------------------------------------ */

/* "thread" or "threads". */
#define S(n) ((n) == 1 ? "" : "s")

/* Seconds all rows of a run spent in `state`. */
static double sum_state(const struct run *run, int state)
{
    int64_t ns = 0;

    for (int i = 0; i < run->nrows; i++)
        ns += run->rows[i].in_state[state];
    return (double)ns / 1e9;
}

/* Blocking calls per second, per I/O thread (mean); -1 without I/O. */
static double io_rate(const struct run *run)
{
    double sum = 0;
    int n = 0;

    for (int i = 0; i < run->nrows; i++) {
        const struct row *r = &run->rows[i];

        if (r->io_task_ns > 0) {
            sum += (double)r->io_ops / ((double)r->io_task_ns / 1e9);
            n++;
        }
    }
    return n ? sum / n : -1;
}

/* What this is (a simulation of the policy) and the knobs in force. */
static void print_intro(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    printf("gil_sim: a simulation of the policy of CPython's GIL, not of the "
           "interpreter:\nthe lock is real (Python/ceval_gil.c), the "
           "\"bytecode\" is calibrated busy work.\n");
    printf("1 instruction = 1 us = %ld spins; %d thread%s, switch interval "
           "%lu us,\nforced switching %s, %ld CPUs online.\n",
           spins_per_instruction, cfg->threads, S(cfg->threads),
           cfg->interval, cfg->force_switching ? "on" : "off", cpus);
}

/* A table's title (the work it runs) and column names. */
static void print_table_head(enum workload wl)
{
    long io_ops = workload_io_ops(wl);
    long io_ms = workload_io_ms(wl);

    printf("\n%s: ", workload_titles[wl]);
    if (wl == WL_CPU)
        printf("%d thread%s, each %ld ms of computation\n",
               cfg->threads, S(cfg->threads), cfg->work_ms);
    else if (wl == WL_IO)
        printf("%d thread%s, each %ld x (%.1f ms of computation + "
               "%ld ms of blocking I/O)\n", cfg->threads, S(cfg->threads),
               io_ops, IO_WORK_US / 1000.0, io_ms);
    else
        printf("%d CPU-bound thread%s of %ld ms%s and an I/O thread, "
               "%ld x (%.1f + %ld ms)\n", cfg->threads, S(cfg->threads),
               cfg->work_ms, cfg->threads == 1 ? "" : " each", io_ops,
               IO_WORK_US / 1000.0, io_ms);
    printf("mode     wall_s   cpu_s  cpu/wall  switches%s  "
           "hold/wait ms per thread\n", wl == WL_CPU ? "" : "  io_ops/s");
}

/* A run's line in its table. */
static void print_row(const struct run *run)
{
    printf("%-7s %7.3f %7.3f %9.2f %9lu", mode_names[run->mode],
           run->wall_s, run->cpu_s,
           run->wall_s > 0 ? run->cpu_s / run->wall_s : 0.0, run->switches);
    if (run->wl != WL_CPU)
        printf(" %9.1f", io_rate(run));
    printf(" ");
    for (int i = 0; i < run->nrows; i++)
        printf(" %.0f/%.0f",
               (double)run->rows[i].in_state[ST_HOLD] / 1e6,
               (double)run->rows[i].in_state[ST_WAIT] / 1e6);
    printf("\n");
}

/* --tsv: the header; print_tsv_row(): a line per run, same columns. */
static void print_tsv_head(void)
{
    printf("workload\tmode\tthreads\twall_s\tcpu_s\tswitches\thold_s\twait_s"
           "\tio_s\tdrop_requests\tforced_switches\tio_ops_per_s"
           "\tinterval_us\n");
}

static void print_tsv_row(const struct run *run)
{
    double rate = io_rate(run);

    printf("%s\t%s\t%d\t%.4f\t%.4f\t%lu\t%.4f\t%.4f\t%.4f\t%lu\t%lu\t",
           workload_names[run->wl], mode_names[run->mode], run->ntasks,
           run->wall_s, run->cpu_s, run->switches,
           sum_state(run, ST_HOLD), sum_state(run, ST_WAIT),
           sum_state(run, ST_IO), run->drop_requests, run->forced_switches);
    if (rate < 0)
        printf("-");
    else
        printf("%.1f", rate);
    printf("\t%lu\n", cfg->interval);
}

/* One line on what the table shows, from its own numbers; only when the
 * modes it compares were run. */
static void print_summary(enum workload wl, struct run *runs[NMODES])
{
    struct run *s = runs[MODE_SERIAL], *g = runs[MODE_GIL];
    struct run *p = runs[MODE_PROCS], *n = runs[MODE_NOGIL];

    if (wl == WL_CPU && s && g && p && n)
        printf("=> with the GIL: %.2fx the serial time, since one thread "
               "runs at a time;\n"
               "   processes (%.2fx) and threads with no GIL (%.2fx) use "
               "every CPU.\n",
               g->wall_s / s->wall_s, p->wall_s / s->wall_s,
               n->wall_s / s->wall_s);
    else if (wl == WL_IO && s && g)
        printf("=> I/O-bound threads overlap even with the GIL (%.2fx the "
               "serial time):\n   the lock is released around each "
               "blocking call.\n", g->wall_s / s->wall_s);
    else if (wl == WL_MIXED && g && n) {
        const struct row *io = &g->rows[g->nrows - 1];
        double wait_ms = (double)io->in_state[ST_WAIT] / 1e6
                         / (double)(io->io_ops ? io->io_ops : 1);

        printf("=> the I/O thread made %.0f calls/s next to CPU-bound "
               "threads with the GIL,\n"
               "   %.0f with no GIL: back from each call it waited %.1f ms "
               "for the lock,\n"
               "   %.1f switch intervals (the convoy effect).\n",
               io_rate(g), io_rate(n), wait_ms,
               wait_ms * 1000.0 / (double)cfg->interval);
    }
}

/* Time each state of row r spent in each of ncols equal slices of
 * [0, span): acc[col * NSTATES + state], in ns. */
static void slice_row(const struct row *r, int64_t span, int ncols,
                      double *acc)
{
    memset(acc, 0, (size_t)ncols * NSTATES * sizeof *acc);
    for (size_t i = 0; i < r->nev; i++) {
        int64_t from = r->ev[i].t;
        int64_t to = i + 1 < r->nev ? r->ev[i + 1].t : r->end;
        int state = (int)r->ev[i].state;

        if (i + 1 == r->nev && r->lost)
            state = ST_LOST;
        while (from < to && from < span) {
            int col = (int)((double)from * ncols / (double)span);
            int64_t col_end = (int64_t)((double)(col + 1) * (double)span
                                        / ncols) + 1;
            int64_t upto = to < col_end ? to : col_end;

            if (col >= ncols)
                break;
            acc[col * NSTATES + state] += (double)(upto - from);
            from = upto;
        }
    }
}

/* The state that filled most of a slice. */
static int dominant(const double *acc)
{
    int best = ST_OFF;

    for (int s = 1; s < NSTATES; s++)
        if (acc[s] > acc[best])
            best = s;
    return best;
}

/* Is there one lock whose holder a chart can show? (Processes have one
 * each; free-threaded runs have none.) */
static int has_holder_row(const struct run *run)
{
    return run->mode == MODE_GIL || run->mode == MODE_SERIAL;
}

/* Thread i's one-character name in the GIL row. */
static char thread_mark(int i)
{
    static const char marks[] = "0123456789abcdefghijklmnopqrstuvwxyz";

    return i < (int)sizeof marks - 1 ? marks[i] : '+';
}

/* A row's name: "t1", or "t2 io" for the I/O thread of a mixed run. */
static void row_label(const struct run *run, int i, char *buf, size_t size)
{
    if (run->mode == MODE_SERIAL)
        snprintf(buf, size, "t0");
    else if (run->tasks[run->rows[i].first_task].io && run->wl == WL_MIXED)
        snprintf(buf, size, "t%d io", i);
    else
        snprintf(buf, size, "t%d", i);
}

/* One line of a chart: its label, then `text` without trailing blanks. */
static void print_chart_line(const char *label, char *text)
{
    size_t n = strlen(text);

    while (n > 0 && text[n - 1] == ' ')
        text[--n] = '\0';
    printf("%-8s%s\n", label, text);
}

/* The ASCII chart of one run: a row per thread, a column per slice of
 * time, each showing the state that filled most of the slice. */
static void print_timeline(const struct run *run)
{
    static const char marks[NSTATES] = { ' ', '.', '#', '~', '?' };
    int64_t span = (int64_t)(run->wall_s * 1e9) + 1;
    double *acc = malloc((size_t)run->nrows * TIMELINE_COLS * NSTATES
                         * sizeof *acc);
    char label[16], line[TIMELINE_COLS + 1], axis[TIMELINE_COLS + 24];

    if (!acc)
        die("malloc");
    printf("\ntimeline, %s, %s: %.1f ms, one column = %.2f ms\n",
           workload_names[run->wl], mode_names[run->mode],
           run->wall_s * 1e3, run->wall_s * 1e3 / TIMELINE_COLS);
    /* Axis: a tick and its time every 18 columns. */
    for (int c = 0; c < TIMELINE_COLS; c += 18)
        snprintf(axis + c, sizeof axis - (size_t)c, "|%-17.1f",
                 run->wall_s * 1e3 * c / TIMELINE_COLS);
    print_chart_line("ms", axis);
    for (int i = 0; i < run->nrows; i++) {
        double *a = acc + (size_t)i * TIMELINE_COLS * NSTATES;

        slice_row(&run->rows[i], span, TIMELINE_COLS, a);
        for (int c = 0; c < TIMELINE_COLS; c++)
            line[c] = marks[dominant(a + c * NSTATES)];
        line[TIMELINE_COLS] = '\0';
        row_label(run, i, label, sizeof label);
        print_chart_line(label, line);
    }
    if (has_holder_row(run)) {
        for (int c = 0; c < TIMELINE_COLS; c++) {
            int who = -1;
            double most = 0;

            for (int i = 0; i < run->nrows; i++) {
                double held = acc[((size_t)i * TIMELINE_COLS + c) * NSTATES
                                  + ST_HOLD];

                if (held > most) {
                    most = held;
                    who = i;
                }
            }
            line[c] = who < 0 ? '-' : thread_mark(who);
        }
        print_chart_line("GIL", line);
    }
    for (int i = 0; i < run->nrows; i++)
        if (run->rows[i].lost)
            printf("(t%d switched too often: events after %.1f ms not "
                   "recorded, shown as ?)\n", i, run->rows[i].nev
                   ? (double)run->rows[i].ev[run->rows[i].nev - 1].t / 1e6
                   : 0.0);
    free(acc);
}

/* What the chart's marks mean. */
static void print_legend(void)
{
    printf("\nlegend: # holds the GIL (no GIL: runs)   . waits for it   "
           "~ in I/O, GIL released\n"
           "        GIL row: which thread holds the lock (- nobody)\n");
}

/* SVG: the same slices, one pixel each, runs of one state merged into
 * one rectangle, so the file stays small however often threads switched. */
#define SVG_LEFT 70
#define SVG_PLOT 720
#define SVG_ROW 16

static const char *const svg_state_fill[NSTATES] = {
    "none", "#f4a259", "#2e7d32", "#4a90d9", "#bbbbbb"
};
static const char *const svg_thread_fill[] = {
    "#6a3d9a", "#b15928", "#1f78b4", "#33a02c",
    "#e31a1c", "#ff7f00", "#a6cee3", "#fb9a99"
};

/* A "nice" tick step (1, 2 or 5 times a power of ten) for `span` ms. */
static double tick_step(double span)
{
    double step = 1e-3;

    while (span / step > 8) {
        if (span / (step * 2) <= 8)
            return step * 2;
        if (span / (step * 5) <= 8)
            return step * 5;
        step *= 10;
    }
    return step;
}

/* One run's chart into f, from height y down; returns the next free y. */
static int svg_run(FILE *f, const struct run *run, int y)
{
    int64_t span = (int64_t)(run->wall_s * 1e9) + 1;
    double *acc = malloc((size_t)run->nrows * SVG_PLOT * NSTATES * sizeof *acc);
    double ms = run->wall_s * 1e3, step = tick_step(ms);
    char label[16];
    int nrows = run->nrows + has_holder_row(run);

    if (!acc)
        die("malloc");
    fprintf(f, "<text x=\"10\" y=\"%d\" font-weight=\"bold\">%s, %s: "
            "%d thread%s, %.1f ms</text>\n", y + 12, workload_titles[run->wl],
            mode_names[run->mode], run->ntasks, S(run->ntasks), ms);
    y += 20;
    for (int i = 0; i < run->nrows; i++) {
        double *a = acc + (size_t)i * SVG_PLOT * NSTATES;

        slice_row(&run->rows[i], span, SVG_PLOT, a);
        row_label(run, i, label, sizeof label);
        fprintf(f, "<text x=\"10\" y=\"%d\">%s</text>\n",
                y + i * SVG_ROW + 12, label);
        for (int c = 0; c < SVG_PLOT;) {
            int s = dominant(a + c * NSTATES), w = 1;

            while (c + w < SVG_PLOT && dominant(a + (c + w) * NSTATES) == s)
                w++;
            if (s != ST_OFF)
                fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" "
                        "height=\"%d\" fill=\"%s\"/>\n", SVG_LEFT + c,
                        y + i * SVG_ROW + 2, w, SVG_ROW - 4,
                        svg_state_fill[s]);
            c += w;
        }
    }
    if (has_holder_row(run)) {
        int yy = y + run->nrows * SVG_ROW;
        int prev = -2, from = 0;

        fprintf(f, "<text x=\"10\" y=\"%d\">GIL</text>\n", yy + 12);
        for (int c = 0; c <= SVG_PLOT; c++) {
            int who = -1;
            double most = 0;

            for (int i = 0; c < SVG_PLOT && i < run->nrows; i++) {
                double held = acc[((size_t)i * SVG_PLOT + c) * NSTATES
                                  + ST_HOLD];

                if (held > most) {
                    most = held;
                    who = i;
                }
            }
            if (c == SVG_PLOT || who != prev) {
                if (prev >= 0)
                    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" "
                            "height=\"%d\" fill=\"%s\"><title>t%d</title>"
                            "</rect>\n", SVG_LEFT + from, yy + 2, c - from,
                            SVG_ROW - 4, svg_thread_fill[prev % 8], prev);
                prev = who;
                from = c;
            }
        }
    }
    y += nrows * SVG_ROW;
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
            "stroke=\"black\"/>\n",
            SVG_LEFT, y + 2, SVG_LEFT + SVG_PLOT, y + 2);
    for (double t = 0; t <= ms + 1e-9; t += step) {
        int x = SVG_LEFT + (int)(t / ms * SVG_PLOT);

        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                "stroke=\"black\"/>\n<text x=\"%d\" y=\"%d\" "
                "text-anchor=\"middle\">%g</text>\n",
                x, y + 2, x, y + 6, x, y + 18, t);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\">ms</text>\n",
            SVG_LEFT + SVG_PLOT + 12, y + 18);
    free(acc);
    return y + 40;
}

/* Every run's chart, with a title and a legend, into the file at path. */
static void write_svg(const char *path, struct run *runs, int n)
{
    static const char *const names[] = {
        "holds the GIL (no GIL: runs)", "waits for the GIL",
        "in I/O, GIL released"
    };
    static const int states[] = { ST_HOLD, ST_WAIT, ST_IO };
    int height = 96;
    int y = 86;
    FILE *f = fopen(path, "w");

    if (!f)
        die("%s", path);

    for (int i = 0; i < n; i++)
        height += 20 + (runs[i].nrows + has_holder_row(&runs[i])) * SVG_ROW
                  + 40;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"monospace\" "
            "font-size=\"12\">\n<title>gil_sim timeline</title>\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            SVG_LEFT + SVG_PLOT + 40, height, SVG_LEFT + SVG_PLOT + 40, height);
    fprintf(f, "<text x=\"10\" y=\"18\">gil_sim: a simulation of the policy "
            "of CPython's GIL, not of the interpreter</text>\n"
            "<text x=\"10\" y=\"34\">switch interval %lu us, forced "
            "switching %s</text>\n",
            cfg->interval, cfg->force_switching ? "on" : "off");
    for (int i = 0; i < 3; i++) {
        int x = 10 + i * 250;

        fprintf(f, "<rect x=\"%d\" y=\"44\" width=\"12\" height=\"12\" "
                "fill=\"%s\"/><text x=\"%d\" y=\"54\">%s</text>\n",
                x, svg_state_fill[states[i]], x + 16, names[i]);
    }
    fprintf(f, "<text x=\"10\" y=\"72\">GIL row: the holder, one colour "
            "per thread (hover for its name)</text>\n");
    for (int i = 0; i < n; i++)
        y = svg_run(f, &runs[i], y);
    fprintf(f, "</svg>\n");
    if (ferror(f) | fclose(f))
        die("%s", path);
}

/* ------------------------------------------------------------------------
 * Options and main
 * ------------------------------------------------------------------------ */

/* Parse a name from `names`, or "all" (every bit). */
static unsigned parse_names(const char *opt, const char *text,
                            const char *const *names, int n, const char *list)
{
    if (strcmp(text, "all") == 0)
        return (1u << n) - 1;
    for (int i = 0; i < n; i++)
        if (strcmp(text, names[i]) == 0)
            return 1u << i;
    usage_error("%s: expected %s, got '%s'", opt, list, text);
}

enum {
    OPT_WORKLOAD = 256, OPT_MODE, OPT_THREADS, OPT_WORK, OPT_INTERVAL,
    OPT_IO_OPS, OPT_IO_MS, OPT_NO_FORCE, OPT_TIMELINE, OPT_SVG, OPT_TSV
};

/* Fill c from the command line; a bad argument exits (2). */
static void parse_args(int argc, char *argv[], struct config *c)
{
    static const struct option longopts[] = {
        { "workload", required_argument, NULL, OPT_WORKLOAD },
        { "mode", required_argument, NULL, OPT_MODE },
        { "threads", required_argument, NULL, OPT_THREADS },
        { "work", required_argument, NULL, OPT_WORK },
        { "interval", required_argument, NULL, OPT_INTERVAL },
        { "io-ops", required_argument, NULL, OPT_IO_OPS },
        { "io-ms", required_argument, NULL, OPT_IO_MS },
        { "no-force-switching", no_argument, NULL, OPT_NO_FORCE },
        { "timeline", no_argument, NULL, OPT_TIMELINE },
        { "svg", required_argument, NULL, OPT_SVG },
        { "tsv", no_argument, NULL, OPT_TSV },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int ch;

    c->threads = DEFAULT_THREADS;
    c->work_ms = DEFAULT_WORK_MS;
    c->interval = GIL_DEFAULT_INTERVAL;
    c->force_switching = 1;
    c->workloads = (1u << WL_CPU) | (1u << WL_IO);
    c->modes = (1u << NMODES) - 1;

    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            print_usage(stdout);
            exit(0);
        case OPT_WORKLOAD:
            c->workloads = parse_names("--workload", optarg, workload_names,
                                       NWORKLOADS, "cpu, io, mixed or all");
            break;
        case OPT_MODE:
            c->modes = parse_names("--mode", optarg, mode_names, NMODES,
                                   "serial, gil, procs, nogil or all");
            break;
        case OPT_THREADS:
            c->threads = (int)parse_long("--threads", optarg, 1, THREADS_MAX);
            break;
        case OPT_WORK:
            c->work_ms = parse_long("--work", optarg, 1, 60000);
            break;
        case OPT_INTERVAL:
            c->interval = (unsigned long)parse_long("--interval", optarg, 1,
                                                    10000000);
            break;
        case OPT_IO_OPS:
            c->io_ops = parse_long("--io-ops", optarg, 1, 100000);
            break;
        case OPT_IO_MS:
            c->io_ms = parse_long("--io-ms", optarg, 1, 10000);
            break;
        case OPT_NO_FORCE:
            c->force_switching = 0;
            break;
        case OPT_TIMELINE:
            c->timeline = 1;
            break;
        case OPT_SVG:
            c->svg_path = optarg;
            break;
        case OPT_TSV:
            c->tsv = 1;
            break;
        default:
            getopt_error(ch, argv);
        }
    }
    no_operands(argc, argv);
    if (c->tsv && c->timeline)
        usage_error("--tsv and --timeline do not mix (try --svg FILE)");
}

int main(int argc, char *argv[])
{
    static struct config config;
    struct run runs[NWORKLOADS * NMODES];
    FILE *svg;
    int nruns = 0;

    prog_init("gil_sim", usage);
    parse_args(argc, argv, &config);
    cfg = &config;
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* A bad path should fail now, not after seconds of work. Closed again
     * at once, so procs children do not inherit it. */
    if (config.svg_path) {
        if (!(svg = fopen(config.svg_path, "w")) || fclose(svg))
            die("%s", config.svg_path);
    }

    calibrate();
    if (config.tsv)
        print_tsv_head();
    else
        print_intro();

    for (int wl = 0; wl < NWORKLOADS; wl++) {
        struct run *table[NMODES] = { NULL };
        int first = nruns;

        if (!(config.workloads & (1u << wl)))
            continue;
        if (!config.tsv)
            print_table_head((enum workload)wl);
        for (int m = 0; m < NMODES; m++) {
            struct run *run;

            if (!(config.modes & (1u << m)))
                continue;
            run = &runs[nruns++];
            plan(run, (enum workload)wl, (enum mode)m);
            execute(run);
            table[m] = run;
            if (config.tsv)
                print_tsv_row(run);
            else
                print_row(run);
        }
        if (config.tsv)
            continue;
        print_summary((enum workload)wl, table);
        if (config.timeline) {
            for (int i = first; i < nruns; i++)
                print_timeline(&runs[i]);
            print_legend();
        }
    }

    if (config.svg_path)
        write_svg(config.svg_path, runs, nruns);
    for (int i = 0; i < nruns; i++)
        release(&runs[i]);
    return 0;
}
