/* bench/baselines.c - what the pool is compared with: the raw primitives
 * it is made of, the same work done by hand, and bare channels.
 *
 * A pool's figure means little alone. Beside it, bench puts the floor
 * under it: W children forked and reaped, W threads created and joined
 * (raw); the same squares computed by W children that send their share
 * back by pipe, or by W threads that write theirs in place (by hand, what
 * a C programmer writes for one map without a pool); the bytes of a map
 * moved through one socketpair with no work at all (the bare channel);
 * and a wake-up between two threads and between two processes.
 *
 * See also: bench/groups.c (the rows that use these), docs/performance.md.
 */
#define _POSIX_C_SOURCE 200809L /* fork, socketpair, mmap: POSIX, not C11 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "err.h"
#include "io.h"
#include "tasks.h"

/* ---- raw: W children, W threads ------------------------------------------ */

/* One thread's share of the squares done by hand. */
struct hand_share {
    struct hand_ctx *h;
    size_t first, count;
};

/* What the raw and by-hand operations need per worker, allocated once:
 * W entries of each, off the stack (W may be up to POOL_MAX_WORKERS). */
struct baseline {
    int workers;
    pid_t *pids;
    int *fds;
    pthread_t *threads;
    struct hand_share *shares;
};

void *baseline_new(int workers)
{
    struct baseline *b = calloc(1, sizeof *b);
    size_t w = (size_t)workers;

    if (!b || !(b->pids = calloc(w, sizeof *b->pids)) ||
        !(b->fds = calloc(w, sizeof *b->fds)) ||
        !(b->threads = calloc(w, sizeof *b->threads)) ||
        !(b->shares = calloc(w, sizeof *b->shares)))
        die("calloc for %d workers", workers);
    b->workers = workers;
    return b;
}

void baseline_free(void *ctx)
{
    struct baseline *b = ctx;

    free(b->pids);
    free(b->fds);
    free(b->threads);
    free(b->shares);
    free(b);
}

/* Reap one child, EINTR retried. */
static void reap(pid_t pid)
{
    while (waitpid(pid, NULL, 0) < 0)
        if (errno != EINTR)
            die("waitpid");
}

/* The raw primitives a process pool is made of: W children forked, each
 * leaving at once, all reaped. */
void op_raw_fork(void *ctx)
{
    struct baseline *b = ctx;

    fflush(NULL); /* what any fork in a program with stdio must do first */
    for (int i = 0; i < b->workers; i++) {
        b->pids[i] = fork();
        if (b->pids[i] < 0)
            die("fork");
        if (b->pids[i] == 0)
            _exit(0);
    }
    for (int i = 0; i < b->workers; i++)
        reap(b->pids[i]);
}

/* A thread that returns at once. */
static void *nothing(void *arg)
{
    return arg;
}

/* ... and a thread pool's: W threads created, each returning at once, all
 * joined. */
void op_raw_threads(void *ctx)
{
    struct baseline *b = ctx;
    int err;

    for (int i = 0; i < b->workers; i++)
        if ((err = pthread_create(&b->threads[i], NULL, nothing, NULL)))
            die_en(err, "pthread_create");
    for (int i = 0; i < b->workers; i++)
        if ((err = pthread_join(b->threads[i], NULL)))
            die_en(err, "pthread_join");
}

/* ---- by hand: the same squares without a pool ---------------------------- */

/* Share i of W: items [*first, *first + *count). */
static void share(size_t n, int i, int w, size_t *first, size_t *count)
{
    *first = n * (size_t)i / (size_t)w;
    *count = n * (size_t)(i + 1) / (size_t)w - *first;
}

/* Child i of the by-hand fork: compute its share, send it, leave. */
static _Noreturn void hand_child(struct hand_ctx *h, int i, int out)
{
    struct baseline *b = h->base;
    size_t first, count;

    /* Keep no sibling's pipe, as the pool's workers keep none. */
    for (int j = 0; j < i; j++)
        close(b->fds[j]);
    share(h->n, i, b->workers, &first, &count);
    for (size_t k = first; k < first + count; k++)
        square_task(&h->args[k], &h->results[k]);
    /* A share is a few KiB: it fits in the pipe, so the child never waits
     * for the parent. */
    _exit(write_all(out, &h->results[first], count * sizeof *h->results) ? 1 : 0);
}

/* W children, each computing its share and writing it back by pipe. */
void op_hand_fork(void *ctx)
{
    struct hand_ctx *h = ctx;
    struct baseline *b = h->base;

    fflush(NULL);
    for (int i = 0; i < b->workers; i++) {
        int p[2];

        if (pipe(p) < 0)
            die("pipe");
        b->pids[i] = fork();
        if (b->pids[i] < 0)
            die("fork");
        if (b->pids[i] == 0) {
            close(p[0]);
            hand_child(h, i, p[1]);
        }
        close(p[1]);
        b->fds[i] = p[0];
    }
    for (int i = 0; i < b->workers; i++) {
        size_t first, count;

        share(h->n, i, b->workers, &first, &count);
        if (read_full(b->fds[i], &h->results[first], count * sizeof *h->results))
            fatal("a child did not send its share");
        close(b->fds[i]);
        reap(b->pids[i]);
    }
}

/* One thread's share of the squares, written in place. */
static void *hand_thread(void *arg)
{
    struct hand_share *s = arg;

    for (size_t k = s->first; k < s->first + s->count; k++)
        square_task(&s->h->args[k], &s->h->results[k]);
    return NULL;
}

/* W threads, each computing its share in place. */
void op_hand_threads(void *ctx)
{
    struct hand_ctx *h = ctx;
    struct baseline *b = h->base;
    int err;

    for (int i = 0; i < b->workers; i++) {
        struct hand_share *s = &b->shares[i];

        s->h = h;
        share(h->n, i, b->workers, &s->first, &s->count);
        if ((err = pthread_create(&b->threads[i], NULL, hand_thread, s)))
            die_en(err, "pthread_create");
    }
    for (int i = 0; i < b->workers; i++)
        if ((err = pthread_join(b->threads[i], NULL)))
            die_en(err, "pthread_join");
}

/* ---- a bare channel: the floor under a process pool's copying ------------ */

struct echo_hdr {
    size_t in, out;
};

/* The echo child's life: read a header and `in` bytes, answer `out` bytes;
 * leave at end of file. */
static _Noreturn void echo_child(int fd)
{
    char *buf = NULL;
    size_t cap = 0;
    struct echo_hdr h;

    /* A parent gone mid-answer is an EPIPE from write_all, not a silent
     * death by SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
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
        if (read_full(fd, buf, h.in) || write_all(fd, buf, h.out))
            _exit(1);
    }
    close(fd);
    free(buf);
    _exit(0);
}

/* Fork the echo child. Call it with no pool worker to come that could
 * inherit the parent's end (echo_close does not depend on it, though).
 * The parent keeps SIGPIPE as it is: the child leaves only when closed, so
 * a write to it fails only if it was killed from outside, and then bench
 * ends as any program in a broken pipeline does. */
void echo_open(struct echo *e)
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
void echo_close(struct echo *e)
{
    shutdown(e->fd, SHUT_RDWR);
    close(e->fd);
    reap(e->pid);
}

/* One map's worth of bytes through the echo child, chunk by chunk: per
 * chunk, its arguments out, then its results and one int per item (each
 * task's return value) back. */
void op_floor(void *ctx)
{
    struct floor_ctx *f = ctx;

    for (size_t first = 0; first < f->n; first += f->chunksize) {
        size_t count = f->n - first < f->chunksize ? f->n - first : f->chunksize;
        struct echo_hdr h = { count * f->arg_size,
                              count * (f->result_size + sizeof(int)) };
        if (write_all(f->echo->fd, &h, sizeof h) ||
            write_all(f->echo->fd, f->out, h.in) ||
            read_full(f->echo->fd, f->in, h.out))
            fatal("the echo child is gone");
    }
}

/* The arguments copied out, the results and return values copied in: what
 * even a pool that shared memory with its workers would have to copy. */
void op_copy(void *ctx)
{
    struct copy_ctx *c = ctx;

    memcpy(c->buf, c->args, c->out_bytes);
    memcpy(c->dst, c->buf, c->in_bytes);
}

/* A byte to a child and a byte back over a socketpair (the echo child). */
void op_echo_byte(void *ctx)
{
    struct echo *e = ctx;
    struct echo_hdr h = { 1, 1 };
    char byte = 0;

    if (write_all(e->fd, &h, sizeof h) || write_all(e->fd, &byte, 1) ||
        read_full(e->fd, &byte, 1))
        fatal("the echo child is gone");
}

/* ---- the costs underneath: a wake-up, a page fault ----------------------- */

/* Two threads passing a turn back and forth through a condition variable:
 * one op is one round trip, two wake-ups of a sleeping thread. */
struct pingpong {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int turn;           /* 0: the main thread's, 1: the other's, -1: stop */
    pthread_t thread;
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

void *pingpong_start(void)
{
    struct pingpong *pp = calloc(1, sizeof *pp);
    int err;

    if (!pp)
        die("calloc");
    pthread_mutex_init(&pp->lock, NULL);
    pthread_cond_init(&pp->cond, NULL);
    if ((err = pthread_create(&pp->thread, NULL, pong, pp)))
        die_en(err, "pthread_create");
    return pp;
}

void pingpong_stop(void *ctx)
{
    struct pingpong *pp = ctx;
    int err;

    pthread_mutex_lock(&pp->lock);
    pp->turn = -1;
    pthread_cond_signal(&pp->cond);
    pthread_mutex_unlock(&pp->lock);
    if ((err = pthread_join(pp->thread, NULL)))
        die_en(err, "pthread_join");
    pthread_cond_destroy(&pp->cond);
    pthread_mutex_destroy(&pp->lock);
    free(pp);
}

/* One round trip: give the turn, wait for it to come back. */
void op_ping(void *ctx)
{
    struct pingpong *pp = ctx;

    pthread_mutex_lock(&pp->lock);
    pp->turn = 1;
    pthread_cond_signal(&pp->cond);
    while (pp->turn != 0)
        pthread_cond_wait(&pp->cond, &pp->lock);
    pthread_mutex_unlock(&pp->lock);
}

/* Fresh memory touched: FRESH bytes mapped, each page written once,
 * unmapped. A private mapping of /dev/zero is anonymous memory in plain
 * POSIX; malloc would hand back pages it already has. */
void op_fresh_pages(void *ctx)
{
    struct fresh_ctx *f = ctx;
    char *p = mmap(NULL, FRESH, PROT_READ | PROT_WRITE, MAP_PRIVATE, f->zero_fd, 0);

    if (p == MAP_FAILED)
        die("mmap /dev/zero");
    for (long i = 0; i < FRESH; i += f->page)
        ((volatile char *)p)[i] = 1;
    munmap(p, FRESH);
}
