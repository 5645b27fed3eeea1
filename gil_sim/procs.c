/* gil_sim/procs.c - the procs mode: one process per Python thread.
 *
 * Shows: what multiprocessing does for CPU-bound work, as far as the GIL
 * goes: each worker is a fresh interpreter with a GIL of its own, so no
 * worker ever waits for another's lock. Here each child process runs one
 * interpreter thread (interpret() in gil_sim.c) under its own simulated
 * lock, then sends its row (numbers and events) back down a pipe.
 *
 * This is plumbing, kept out of gil_sim.c so that the lesson reads alone:
 * forking, reading every pipe to the end, reaping every child whatever
 * happens to it, and turning a dead child into a clear failure (exit 1).
 *
 * See also: gil_sim.c (the threads and the other modes), gil_sim.h.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "gil.h"
#include "gil_sim.h"
#include "io.h"
#include "pool.h"

/* ------------------------------------------------------------------------
 * In the child: run one thread, report
 *
 * The child is a copy of the parent at the fork: it has the run's plan and
 * its own row, makes a lock of its own, runs the row's thread on its main
 * thread, and writes a fixed-size report followed by its events.
 * ------------------------------------------------------------------------ */

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
    memset(&gil, 0, sizeof gil);
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

/* ------------------------------------------------------------------------
 * In the parent: read every report, reap every child
 *
 * The parent polls all the pipes at once (a child blocked on a full pipe
 * would otherwise never finish), and a report cut short means its child
 * died: the others are killed rather than waited for, and all are reaped.
 * ------------------------------------------------------------------------ */

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

/* How a child ended, in words, for the failure message: a child that exited
 * 0 without a whole report is not described by its wait status. */
static void describe_child(int status, char *buf, size_t size)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        snprintf(buf, size, "sent an incomplete report");
    else
        pool_describe_status(status, buf, size);
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
void run_procs(struct run *run)
{
    struct child *kids = calloc((size_t)run->nrows, sizeof *kids);
    int bad, bad_status = 0;
    pid_t parent = getpid();

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
            /* Die with the parent, even in the middle of the work: nothing
             * gil_sim starts may outlive it. (If it is gone already, the
             * signal was missed: leave now.) */
            if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(1);
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

        describe_child(bad_status, why, sizeof why);
        fatal("the process running thread %d %s", bad, why);
    }
}

