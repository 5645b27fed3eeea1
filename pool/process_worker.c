/* pool/process_worker.c - the worker's side of the process pool: read a
 * task, run it, reply; leave when told to.
 *
 * CPython's worker() (Lib/multiprocessing/pool.py, 3.11) is this loop:
 * get a task, None means leave, run it, put the result. A worker forked
 * from the caller gets here from process_pool.c; a fresh image (spawn,
 * forkserver) through pool_main().
 */
#define _POSIX_C_SOURCE 200809L /* pthread_sigmask, sigset_t */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "process.h"

/* Buffers grown to the largest chunk seen; static, so that leak checkers
 * see them as reachable in a worker ended by SIGTERM. */
static struct {
    char *args, *res;
    size_t args_cap, res_cap;
} wb;
static struct stat channel; /* what the channel was when we started */
pool_fn *(*pp_task_fn)(size_t index);

/* Leave, flushing what tasks printed, as CPython's workers flush stdout and
 * stderr (Lib/multiprocessing/process.py, BaseProcess._bootstrap, 3.11);
 * _exit skips the caller's atexit handlers, not the worker's to run. */
void pp_worker_exit(int status)
{
    fflush(NULL);
    free(wb.args);
    free(wb.res);
    _exit(status);
}

/* At end of file or EPIPE the parent is done with us; EBADF or ENOTSOCK:
 * a task closed the channel; anything else is the system's refusal. */
void pp_channel_failed(int err)
{
    pp_worker_exit(err == EPIPE                     ? 0
                   : err == EBADF || err == ENOTSOCK ? WORKER_LOST_CHANNEL
                                                     : WORKER_CHANNEL_ERROR);
}

/* Is fd still our channel, not a task's file opened in its place? */
bool pp_same_channel(int fd)
{
    struct stat now;

    return fstat(fd, &now) == 0 && now.st_dev == channel.st_dev &&
           now.st_ino == channel.st_ino;
}

/* Out of memory, the worker leaves saying so (WORKER_NO_MEMORY). */
static void grow(char **buf, size_t *cap, size_t len)
{
    if (len <= *cap)
        return;
    free(*buf);
    *cap = 0;
    if (!(*buf = malloc(len)))
        pp_worker_exit(WORKER_NO_MEMORY);
    *cap = len;
}

/* A chunk: read its arguments, run it, send the results back. */
static void serve_task(int fd, const struct msg *t)
{
    struct msg r;
    int err;

    grow(&wb.args, &wb.args_cap, t->count * t->arg_size);
    grow(&wb.res, &wb.res_cap, t->count * t->result_size);
    if ((err = pp_recv_all(fd, wb.args, t->count * t->arg_size)))
        pp_channel_failed(err);
    memset(&r, 0, sizeof r); /* no uninitialised padding on the wire */
    r.op = REPLY_DATA;
    r.first = t->first;
    r.count = t->count;
    pool_fn *fn = t->task == POOL_TASK_NONE || !pp_task_fn ? t->fn
                                                           : pp_task_fn(t->task);
    r.ran = run_items(fn, wb.args, t->arg_size,
                      wb.res, t->result_size, t->count, &r.err);
    fflush(NULL); /* what the chunk printed is out before the map returns */
    if (!pp_same_channel(fd))
        pp_worker_exit(WORKER_LOST_CHANNEL);
    struct iovec iov[2] = { { &r, sizeof r },
                            { wb.res, t->count * t->result_size } };
    if ((err = pp_send_all(fd, iov, t->result_size ? 2 : 1, NULL)))
        pp_channel_failed(err);
}

/* The worker's life: read a task, run it, reply, until the stop message
 * that pool_close sends, or end of file (the parent is gone). Not only
 * at end of file: a child the caller forked holds copies of the parent's
 * channel ends, and end of file would then wait for that child too. */
static _Noreturn void worker_main(int fd)
{
    struct msg t;
    int err;

    if (fstat(fd, &channel) < 0)
        pp_worker_exit(WORKER_LOST_CHANNEL);
    for (;;) {
        if (pool_process_fast)
            pool_process_fast->idle(fd); /* watch the region, if any */
        if ((err = pp_recv_all(fd, &t, sizeof t)))
            pp_channel_failed(err);
        if (t.op == MSG_STOP)
            pp_worker_exit(0);
        else if (t.op == MSG_TASK)
            serve_task(fd, &t);
        else if (t.op != MSG_WAKE) /* not our parent's words */
            pp_worker_exit(WORKER_LOST_CHANNEL);
    }
}

/* A task that calls exit() would run the caller's atexit handlers here, in
 * a copy of the caller. Registered last, this one runs first, and leaves
 * at once, saying why. (CPython's workers leave with os._exit.) */
static void task_called_exit(void)
{
    fflush(NULL);
    _exit(WORKER_TASK_EXIT);
}

/* Die with the parent, even in the middle of a long task, and do not start
 * if it is gone already (Linux sends the signal when the thread that
 * started us exits: see pool.h); let pool_terminate's SIGTERM end us,
 * whatever the caller made of SIGTERM. */
void pp_worker_main(int fd, pid_t parent)
{
    sigset_t term;

    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(1);
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    signal(SIGTERM, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, &term, NULL);
    atexit(task_called_exit);
    worker_main(fd);
}
