/* pool/fast/procs.c - a forked pool's shared region: a map's chunks in
 * memory its workers share, each idle worker taking the next one itself.
 *
 * Shows: CPython's one queue of tasks (Lib/multiprocessing/pool.py, 3.11:
 * worker() and Pool._handle_tasks) in shared memory, with no system call
 * while both sides are awake. Dealt through the sockets, each chunk costs
 * a round trip through the parent, and when the parent sleeps a wake-up.
 *
 * The region (a memfd, "pool-queue", mapped MAP_SHARED) is made when the
 * pool opens and inherited by its forked workers only: MADV_DONTFORK keeps
 * it from every other fork, MADV_DOFORK is set just around the pool's own
 * (process_pool.c holds its lock there). Spawn and forkserver workers have
 * none: their maps are dealt.
 *
 *     parent                              worker k
 *     ------                              --------
 *     post: the map, its arguments,       idle: watch task_seq, or say
 *       every chunk free                    "sleeping" and read() the socket
 *     task_seq[k]++ for each worker       while a chunk c is free:
 *       wanted; a sleeper gets MSG_WAKE       claim c: owner free -> k + 1
 *     watch done_seq, or say "sleeping"       (compare-and-swap)
 *       and poll() the sockets                run its items in place
 *     a worker done: take the done            record ran, err, its arrival
 *       chunks in, by arrival             done_seq[k] = task_seq[k]; a bell
 *     end of file: lose what k owned        if the parent sleeps
 *
 * Owners are written by compare-and-swap only, so a chunk has one owner
 * and a death loses exactly what its owner held. The parent checks what
 * workers wrote (a task can scribble on the region) before it trusts it.
 * While one worker is awake, sleepers are passed over for
 * POOL_WAKE_AFTER_NS: the awake one will likely be done first.
 *
 * See also: spin.c (when to watch), ../process_map.c (the map's loop).
 */
#define _GNU_SOURCE /* memfd_create, MADV_DONTFORK */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../process.h"
#include "fast.h"

#define LINE 64                  /* each group on a cache line of its own */
#define REGION_SIZE (1024 * 1024) /* memory is used only as far as a map reaches */
#define OVERWRITTEN "its record in the pool's queue was overwritten (by a task?)"
enum { FREE = 0, DONE = -1 };    /* a chunk's owner: free, slot + 1, done */

struct slot {                    /* one worker's words, one writer each */
    _Alignas(LINE) atomic_uint task_seq;    /* parent: a map for you */
    _Alignas(LINE) atomic_uint done_seq;    /* worker: done with it */
    _Alignas(LINE) atomic_int worker_sleeping;
    _Alignas(LINE) atomic_int parent_sleeping;
};

struct chunk {
    atomic_int owner;
    unsigned arrival;            /* when done: its place in the order */
    size_t ran;
    int err;
};

/* Everything in the region can be written over by a task: each side keeps
 * what it must trust (the sizes, the spin budget, the count of maps sent)
 * in memory of its own, and checks the rest before it uses it. */
struct region {
    atomic_bool stop;
    _Alignas(LINE) atomic_size_t next;   /* a hint: all below are claimed */
    _Alignas(LINE) atomic_uint arrivals; /* chunks done so far */
    _Alignas(LINE) pool_fn *fn;          /* the map, posted by the parent */
    size_t n, chunksize, nchunks, arg_size, result_size;
    _Alignas(LINE) struct slot slot[];   /* then chunks, args, results */
};

static size_t up(size_t x)
{
    return (x + LINE - 1) / LINE * LINE;
}

/* Where things are, for a map of n items in nchunks chunks. */
static size_t chunks_off(int workers)
{
    return up(sizeof(struct region) + (size_t)workers * sizeof(struct slot));
}

static size_t args_off(int workers, size_t nchunks)
{
    return chunks_off(workers) + up(nchunks * sizeof(struct chunk));
}

static size_t results_off(int workers, size_t n, size_t nchunks, size_t as)
{
    return args_off(workers, nchunks) + up(n * as);
}

static bool fits(int workers, size_t n, size_t nchunks, size_t as, size_t rs)
{
    size_t room = REGION_SIZE;

    if (chunks_off(workers) > room || nchunks > room / sizeof(struct chunk) ||
        (as && n > room / as) || (rs && n > room / rs))
        return false;
    size_t off = results_off(workers, n, nchunks, as);
    return off <= room && n * rs <= room - off;
}

static struct chunk *chunks(struct region *r, int workers)
{
    return (struct chunk *)((char *)r + chunks_off(workers));
}

/* The parent's own record of its region. */
struct fast {
    struct region *r;
    int workers;
    long long spin;
    unsigned seq[];              /* maps posted to each slot */
};

/* ---- the region's life (the parent) --------------------------------------- */

static void advise(struct region *r, bool on)
{
    /* A refusal of DONTFORK only costs memory in a child with a copy. */
    madvise(r, REGION_SIZE, on ? MADV_DOFORK : MADV_DONTFORK);
}

static void inherit(void *fast, bool on)
{
    advise(((struct fast *)fast)->r, on);
}

static void *open_region(int workers)
{
    long long spin = spin_budget_ns();
    struct fast *f;
    void *p = MAP_FAILED;

    /* POOL_SPIN_US=0: everything through the sockets; so, too, when the
     * workers' words leave no room. */
    if (spin == 0 || !fits(workers, 0, 0, 0, 0))
        return NULL;
    if (!(f = calloc(1, sizeof *f + (size_t)workers * sizeof f->seq[0])))
        return NULL;
    int fd = memfd_create("pool-queue", MFD_CLOEXEC);
    if (fd >= 0 && ftruncate(fd, REGION_SIZE) == 0)
        p = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fd >= 0)
        close(fd); /* the mapping keeps the memory */
    if (p == MAP_FAILED) {
        free(f);
        return NULL;
    }
    advise(p, false);
    *f = (struct fast){ p, workers, spin };
    return f;
}

/* A fork's copy has no mapping there (DONTFORK): nothing to unmap. */
static void close_region(void *fast, bool owner)
{
    if (owner)
        munmap(((struct fast *)fast)->r, REGION_SIZE);
    free(fast);
}

static void stop(void *fast)
{
    atomic_store(&((struct fast *)fast)->r->stop, true);
}

/* ---- the worker's side ----------------------------------------------------- */

/* In a forked worker: its pool's region, its slot, and its own copies of
 * the sizes and the budget. */
static struct region *mine;
static int me, my_workers;
static long long my_spin;
static unsigned seen;       /* the last map served */

static void child(void *fast, int slot)
{
    struct fast *f = fast;

    advise(f->r, false); /* not for a task's own children */
    mine = f->r;
    me = slot;
    my_workers = f->workers;
    my_spin = f->spin;
    seen = f->seq[slot]; /* as the parent had it when it forked us */
}

/* Take chunks until none is free: run each one's items in place, record
 * what came of it. The map is read once and checked against the region's
 * end (a task may scribble on it); no more claims than it has chunks. */
static void serve_queue(int fd)
{
    struct region *r = mine;
    pool_fn *fn = r->fn;
    size_t n = r->n, size = r->chunksize, nchunks = r->nchunks;
    size_t as = r->arg_size, rs = r->result_size;

    if (size == 0 || nchunks != n / size + (n % size != 0) ||
        !fits(my_workers, n, nchunks, as, rs))
        pp_worker_exit(WORKER_LOST_CHANNEL);
    struct chunk *ch = chunks(r, my_workers);
    char *args = (char *)r + args_off(my_workers, nchunks);
    char *results = (char *)r + results_off(my_workers, n, nchunks, as);
    for (size_t claims = 0; claims < nchunks; claims++) {
        size_t c = atomic_load(&r->next);
        int free = FREE;
        while (c < nchunks && !atomic_compare_exchange_strong(&ch[c].owner,
                                                              &free, me + 1))
            free = FREE, c++;
        if (c >= nchunks)
            return;
        size_t hint = atomic_load(&r->next); /* past c, unless moved further */
        while (hint <= c && !atomic_compare_exchange_weak(&r->next, &hint, c + 1))
            ;
        size_t first = c * size, count = n - first < size ? n - first : size;
        int err;
        ch[c].ran = run_items(fn, as ? args + first * as : NULL, as,
                              rs ? results + first * rs : NULL, rs, count, &err);
        fflush(NULL);
        if (!pp_same_channel(fd))
            pp_worker_exit(WORKER_LOST_CHANNEL);
        ch[c].err = err;
        ch[c].arrival = atomic_fetch_add(&r->arrivals, 1);
        atomic_store(&ch[c].owner, DONE);
    }
}

struct watching {
    struct slot *s;
    unsigned seen;
};

static bool posted(void *ctx)
{
    struct watching *w = ctx;

    return atomic_load(&w->s->task_seq) != w->seen || atomic_load(&mine->stop);
}

/* The worker, idle: serve each map posted for it, watching for the next
 * while a CPU is left (slots below cpus - 1: the parent needs one), then
 * say "sleeping" and return to read() the socket. We publish the flag
 * before our last look, the parent its task_seq before its look at the
 * flag (both seq_cst): one of us sees the other, so no wake-up is lost. */
static void idle(int fd)
{
    if (!mine)
        return;
    struct slot *s = &mine->slot[me];
    struct watching w = { s, seen };
    atomic_store(&s->worker_sleeping, 0);
    for (;;) {
        if (atomic_load(&mine->stop))
            pp_worker_exit(0);
        if (posted(&w) ||
            spin_watch(my_spin, posted, &w, me + 1, 0)) {
            if (atomic_load(&mine->stop))
                pp_worker_exit(0);
            seen = w.seen = atomic_load(&s->task_seq);
            serve_queue(fd);
            atomic_store(&s->done_seq, seen);
            if (atomic_load(&s->parent_sleeping) &&
                atomic_exchange(&s->parent_sleeping, 0)) {
                int err = pp_send_op(fd, REPLY_BELL);
                if (err)
                    pp_channel_failed(err);
            }
            continue;
        }
        atomic_store(&s->worker_sleeping, 1);
        if (!posted(&w))
            return;
        atomic_store(&s->worker_sleeping, 0);
    }
}

/* ---- the parent's side: the map's hand-off ----------------------------------- */

struct arrival {
    unsigned at;
    size_t c;
};

struct qmap {
    struct fast *f;
    struct region *r;
    struct chunk *ch;
    bool *in;                /* chunk c is taken in: done, or lost */
    struct arrival *order;
    long long wake_at;       /* sleepers passed over until then */
};

static int q_begin(struct pp_map *m)
{
    struct pool_job *job = m->job;
    struct qmap *q = calloc(1, sizeof *q);

    if (!q || !(q->in = calloc(job->nchunks, sizeof *q->in)) ||
        !(q->order = calloc(job->nchunks, sizeof *q->order))) {
        if (q)
            free(q->in);
        free(q);
        return ENOMEM;
    }
    struct fast *f = q->f = m->pp->fast;
    struct region *r = q->r = f->r;
    q->ch = chunks(r, f->workers);
    r->fn = job->fn;
    r->n = job->n;
    r->chunksize = job->chunksize;
    r->nchunks = job->nchunks;
    r->arg_size = job->arg_size;
    r->result_size = job->result_size;
    struct chunk *ch = q->ch;
    for (size_t c = 0; c < job->nchunks; c++) {
        atomic_store(&ch[c].owner, FREE);
        ch[c].ran = 0;
        ch[c].err = 0;
    }
    if (job->arg_size)
        memcpy((char *)r + args_off(f->workers, job->nchunks), job->args,
               job->n * job->arg_size);
    atomic_store(&r->next, 0);
    atomic_store(&r->arrivals, 0);
    atomic_store(&r->stop, false); /* a task may have written over it */
    q->wake_at = spin_now_ns() + POOL_WAKE_AFTER_NS;
    m->ctx = q;
    return 0;
}

static void q_end(struct pp_map *m)
{
    struct qmap *q = m->ctx;

    free(q->in);
    free(q->order);
    free(q);
}

static bool q_more(struct pp_map *m)
{
    return atomic_load(&((struct qmap *)m->ctx)->r->next) < m->job->nchunks;
}

static bool asleep(struct region *r, int k)
{
    return atomic_load(&r->slot[k].worker_sleeping);
}

static int q_give(struct pp_map *m, int k, bool force, bool *sent)
{
    struct qmap *q = m->ctx;
    struct slot *s = &q->r->slot[k];
    bool awake = false;


    for (int j = 0; j < m->pp->n; j++)
        awake |= j != k && m->pp->w[j].pid && !asleep(q->r, j);
    if (!force && awake && asleep(q->r, k) && spin_now_ns() < q->wake_at)
        return EAGAIN;
    *sent = false;
    atomic_store(&s->task_seq, ++q->f->seq[k]);
    if (atomic_exchange(&s->worker_sleeping, 0)) {
        int err = pp_send_op(m->pp->w[k].fd, MSG_WAKE);
        if (err)
            return err;
    }
    m->pp->w[k].busy = true;
    return 0;
}

/* Chunk c is done: check what its worker wrote, copy its results out. */
static void take_chunk(struct pp_map *m, size_t c)
{
    struct qmap *q = m->ctx;
    struct pool_job *job = m->job;
    struct chunk *ch = &q->ch[c];
    size_t first = job_chunk_first(job, c), count = job_chunk_count(job, c);
    size_t rs = job->result_size;

    q->in[c] = true;
    if (ch->ran > count || (ch->err ? ch->ran == 0 : ch->ran != count)) {
        job_chunk_lost(job, c, EPROTO, OVERWRITTEN);
        return;
    }
    if (rs)
        memcpy(job->results + first * rs,
               (char *)q->r + results_off(q->f->workers, job->n, job->nchunks,
                                          job->arg_size) + first * rs,
               count * rs);
    job_chunk_done(job, c, ch->ran, ch->err);
}

static int by_arrival(const void *a, const void *b)
{
    const struct arrival *x = a, *y = b;

    if (x->at != y->at) /* written over, maybe: then by chunk */
        return (x->at > y->at) - (x->at < y->at);
    return (x->c > y->c) - (x->c < y->c);
}

/* Every chunk done since the last look, in the order they arrived: the
 * first failure to arrive is the one reported, as in CPython. */
static void take_in(struct pp_map *m)
{
    struct qmap *q = m->ctx;
    struct chunk *ch = q->ch;
    size_t k = 0;

    for (size_t c = 0; c < m->job->nchunks; c++)
        if (!q->in[c] && atomic_load(&ch[c].owner) == DONE)
            q->order[k++] = (struct arrival){ ch[c].arrival, c };
    qsort(q->order, k, sizeof *q->order, by_arrival);
    for (size_t i = 0; i < k; i++)
        take_chunk(m, q->order[i].c);
}

/* Did busy workers say they are done? They are idle again. */
static bool finished(void *ctx)
{
    struct pp_map *m = ctx;
    struct qmap *q = m->ctx;
    bool any = false;

    for (int k = 0; k < m->pp->n; k++) {
        struct worker *w = &m->pp->w[k];
        if (w->busy && atomic_load(&q->r->slot[k].done_seq) == q->f->seq[k]) {
            w->busy = w->fresh = false;
            any = true;
        }
    }
    if (any)
        take_in(m);
    return any;
}

static void q_collect(struct pp_map *m)
{
    finished(m);
}

/* Watch the busy workers' done_seq; then say "sleeping" to each, look once
 * more (one that finishes after this look sees the flag and rings), and
 * poll() their sockets. EAGAIN: sleepers were passed over, and now is the
 * time to give them work instead. */
static int q_wait(struct pp_map *m, struct pollfd *pfd, int n, bool passed)
{
    struct qmap *q = m->ctx;
    int err = 0, awake = 0;

    for (int k = 0; k < m->pp->n; k++)
        awake += m->pp->w[k].busy && !asleep(q->r, k);
    if (spin_watch(q->f->spin, finished, m, awake, passed ? q->wake_at : 0))
        return 0;
    if (passed)
        return EAGAIN;
    for (int k = 0; k < m->pp->n; k++)
        if (m->pp->w[k].busy)
            atomic_store(&q->r->slot[k].parent_sleeping, 1);
    if (!finished(m) && poll(pfd, (nfds_t)n, -1) < 0)
        err = errno;
    for (int k = 0; k < m->pp->n; k++)
        atomic_store(&q->r->slot[k].parent_sleeping, 0);
    return err;
}

static int q_reply(struct pp_map *m, int k, const struct msg *r)
{
    (void)m, (void)k, (void)r;
    return EPROTO; /* results come through the region, never the socket */
}

/* Worker k died: what arrived before is taken in, then the chunks it owned
 * are lost. */
static void q_lost(struct pp_map *m, int k, int err, const char *why)
{
    struct qmap *q = m->ctx;
    struct chunk *ch = q->ch;

    take_in(m);
    for (size_t c = 0; c < m->job->nchunks; c++)
        if (!q->in[c] && atomic_load(&ch[c].owner) == k + 1) {
            job_chunk_lost(m->job, c, err, why);
            q->in[c] = true;
        }
}

/* Nobody is busy. Free chunks found no worker, if none is alive; a worker
 * stops only when none is free and a death frees none, so otherwise the
 * records were written over, as were those of chunks no live worker owns. */
static void q_rest(struct pp_map *m, int err, const char *why)
{
    struct qmap *q = m->ctx;
    struct chunk *ch = q->ch;
    bool alive = false;

    take_in(m);
    for (int k = 0; k < m->pp->n; k++)
        alive |= m->pp->w[k].pid != 0;
    for (size_t c = 0; c < m->job->nchunks; c++)
        if (!q->in[c]) {
            if (!alive && atomic_load(&ch[c].owner) == FREE)
                job_chunk_lost(m->job, c, err, why);
            else
                job_chunk_lost(m->job, c, EPROTO, OVERWRITTEN);
        }
}

static const struct pp_handoff queue = {
    .begin = q_begin, .end = q_end, .more = q_more, .give = q_give,
    .wait = q_wait, .collect = q_collect, .reply = q_reply, .lost = q_lost,
    .rest = q_rest,
};

static const struct pp_handoff *handoff(void *fast, const struct pool_job *job)
{
    if (!fits(((struct fast *)fast)->workers, job->n, job->nchunks, job->arg_size, job->result_size))
        return NULL; /* dealt through the sockets */
    return &queue;
}

static const struct pp_fast_ops ops = {
    .open = open_region, .close = close_region, .inherit = inherit,
    .child = child, .idle = idle, .stop = stop, .handoff = handoff,
};
const struct pp_fast_ops *const pool_process_fast = &ops;
