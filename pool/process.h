/* pool/process.h - what the process pool's files share.
 *
 * The process pool is five files, read in this order:
 *   process_pool.c    the pool's life: its workers started (fork, or a
 *                     fresh image through start.c), reaped and stopped
 *   process_map.c     pool_map: chunks dealt to the workers, replies
 *                     taken in, a dead worker's chunk lost and replaced
 *   process_queue.c   pool_map on a forked pool: the chunks in a queue
 *                     each idle worker takes the next one from
 *   process_worker.c  the worker's side: read a task, run it, reply
 *   channel.c         whole messages over a socketpair, above fd 2
 * and shm_channel.h, the region a chunk crosses while both sides are
 * awake; shm_queue.h, the queue a forked pool's workers share.
 * Nothing here is part of the pool's API (pool.h).
 */
#ifndef POOL_PROCESS_H
#define POOL_PROCESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "pool_impl.h"
#include "shm_channel.h"
#include "shm_queue.h"

/* A worker that leaves on its own says why in its exit status, so that the
 * parent can report the first cause. (A task that calls _exit with one of
 * these is taken at its word.) */
enum {
    WORKER_LOST_CHANNEL = 121, /* a task closed or replaced the channel */
    WORKER_NO_MEMORY = 122,    /* no room for a chunk's arguments or results */
};

/* What the parent sends: a header whose op says what it is.
 *   MSG_TASK  then count * arg_size bytes. The function pointer is valid in
 *             a worker fork copied from the caller; a fresh image (spawn,
 *             forkserver: start.c) looks the task up by its index instead.
 *   MSG_STOP  CPython's sentinel, None: the worker leaves.
 *   MSG_SHM   the first message, when the pool spins: the worker's shared
 *             region rides along (SCM_RIGHTS); count is its size, first the
 *             worker's spin budget in ns (0: it never spins).
 *   MSG_WAKE  a task is in the region: sent only to a worker that said it
 *             sleeps (shm_channel.h), so it is always expected. */
enum { MSG_TASK, MSG_STOP, MSG_SHM, MSG_WAKE };
struct task_msg {
    int op;
    pool_fn *fn;
    size_t task;
    size_t first, count, arg_size, result_size;
};

/* What a worker sends back. REPLY_DATA: a header, then count * result_size
 * bytes of results. The chunk stops at its first failing item, as CPython's
 * list(map(f, chunk)): `ran` items ran, and err is the last one's error
 * (0 when all succeeded). Items that failed or never ran come back zeroed.
 * REPLY_BELL: the results are in the region, and the parent said it sleeps
 * (it may find them before it reads the bell: a bell can be left over). */
enum { REPLY_DATA, REPLY_BELL };
struct reply_msg {
    int op;
    int err;
    size_t first, count, ran;
};

struct worker {
    pid_t pid;      /* 0: the slot is empty (its fork failed) */
    int fd;         /* the parent's end of the channel; -1 when closed */
    bool busy;
    size_t chunk;   /* the chunk in hand, when busy */
    bool fresh;     /* forked during this map, no chunk done yet */
    bool benched;   /* a fresh worker died here: no more forks this map */
    struct shm_ctl *shm; /* its shared region; NULL: all through the socket */
    unsigned seq;   /* the last task published in the region */
    bool in_region; /* its task is in the region: the chunk in hand
                       travels through it, or it takes from the queue;
                       done_seq says when it is done */
    bool queue;     /* it has the pool's queue (forked, shm_queue.h) */
    bool joined;    /* it took part in this map's queue */
};

struct process_pool {
    struct worker *w;
    int n;
    enum pool_start start;       /* how its workers are started */
    long long spin_ns;           /* POOL_SPIN_US; 0: no regions, no spin */
    int cpus;
    atomic_llong calm_from;      /* the parent spins not before (ns) */
    size_t *back;                /* chunks to give again: their worker */
    int nback;                   /*   died before it took them */
    struct shm_queue *queue;     /* a forked pool's chunks (NULL: none) */
    struct process_pool *next;   /* in all_pools */
    /* Why the map ran out of workers, if it does: */
    int fork_err;                /* the last fork refused in this map */
    int death_err;               /* the last death that benched a slot */
    char death[POOL_WHY_LEN];    /* ... in words */
};

/* ---- channel.c ------------------------------------------------------------ */

/* Send every byte of iov[0..cnt). Returns 0 or an errno value; *sent
 * (unless NULL) tells whether any byte went out. Never SIGPIPE. */
int pp_send_all(int fd, struct iovec *iov, int cnt, bool *sent);

/* Read exactly len bytes. Returns 0, EPIPE at end of file, or an errno. */
int pp_recv_all(int fd, void *buf, size_t len);

/* A new channel (a socketpair), both ends at 3 or above, close-on-exec,
 * with room for a large chunk. Returns 0 or an errno value. */
int pp_make_channel(int sv[2]);

/* Send len bytes in one sendmsg, the descriptor `pass` (unless -1) riding
 * along (SCM_RIGHTS). Returns the bytes sent, or -1 with errno set. */
ssize_t pp_send_fd(int fd, const void *buf, size_t len, int pass);

/* Receive up to len bytes in one recvmsg, and the descriptor riding along
 * into *passed (-1 if none; closed if passed is NULL), close-on-exec.
 * Returns the bytes read (0 at end of file), or -1 with errno set. */
ssize_t pp_recv_fd(int fd, void *buf, size_t len, int *passed);

/* ---- process_worker.c ----------------------------------------------------- */

/* A forked worker's share of the pool's queue, inherited from the
 * parent, and its name there (slot + 1): set before pp_worker_main(). */
void pp_worker_queue(struct shm_queue *queue, int me);

/* ---- process_pool.c ------------------------------------------------------- */

/* Start a worker into the empty slot k, by the pool's start method.
 * Returns 0 or an errno value. */
int pp_start_slot(struct process_pool *pp, int k);

/* Reap the worker in slot k, whose channel broke, and say how it died in
 * why (when not NULL). Returns the errno its items fail with. */
int pp_reap(struct process_pool *pp, int k, char *why, size_t len);

/* ---- process_map.c -------------------------------------------------------- */

/* ops->map: run the job to the end (pool_impl.h). */
int pp_map(struct pool *pool, struct pool_job *job);

/* What the two ways of running a map share (process_map.c): */

/* While a worker is awake, sleeping workers get work only this late. */
#define PP_WAKE_AFTER_NS 50000


/* Announce task op in worker w's region, and wake it if it said it
 * sleeps. spin_after: it may watch for its next task afterwards. Returns
 * 0 or the errno of the wake-up's send. */
int pp_announce(struct worker *w, int op, bool spin_after);

/* Do the busy workers and the parent leave a CPU for worker k to watch
 * after its task? (More spinners than CPUs keep the CPUs from the ones
 * they wait for.) */
bool pp_cpu_left(const struct process_pool *pp, int k);

/* Does worker w sleep on its socket? How many workers are awake? */
bool pp_asleep(const struct worker *w);
int pp_awake_workers(const struct process_pool *pp);

/* Chunk c will not come back: its items fail with err, results zeroed. */
void pp_lose_chunk(struct pool_job *job, size_t c, int err, const char *why);

/* The worker in slot k died in a map: reap it, say how in why, and bench
 * its slot if it was fresh. Returns the errno its items fail with. */
int pp_reap_dead(struct process_pool *pp, int k, char *why, size_t len);

/* Why chunks found no worker: the errno, and words in why. */
int pp_no_worker(const struct process_pool *pp, char *why, size_t len);

struct pollfd;

/* The busy workers' channels into pfd, their slots into slot (room for
 * every worker). Returns how many. */
int pp_gather_busy(const struct process_pool *pp, struct pollfd *pfd,
                   int *slot);

/* Watch for up to POOL_SPIN_US, while the awake workers leave a CPU for
 * the parent: news(ctx) takes in what came and says whether anything did.
 * Stop at wake_at (ns, 0: never), to wake the sleepers passed over; a
 * preemption stops the workers' spinning too. True when news came. */
bool pp_spin(struct process_pool *pp, bool (*news)(void *ctx), void *ctx,
             long long wake_at);

/* Sleep until one of the m busy workers in slot has news: say so in each
 * region its task is in (in_region), look once more (a worker that
 * finishes after this look sees the flag and rings), then poll() their
 * channels. Returns 0 or the errno of poll. */
int pp_nap(struct process_pool *pp, struct pollfd *pfd, const int *slot,
           int m);

/* After pp_nap, what waits on slot k's channel (p: its pollfd). 0: nothing
 * to do (no message, or a bell: the region says it already, or will); 1:
 * a reply header, in *r; -1: end of file or an error, the channel broke. */
int pp_take_note(struct process_pool *pp, const struct pollfd *p, int k,
                 struct reply_msg *r);

/* ---- process_queue.c ------------------------------------------------------ */

/* Can this map go through the pool's queue (shm_queue.h)? */
bool pq_usable(const struct process_pool *pp, const struct pool_job *job);

/* Run the map through the queue; pfd and slot have room for every worker.
 * Returns 0 or the errno of poll (the busy workers are then reaped). */
int pq_map(struct pool *pool, struct process_pool *pp, struct pool_job *job,
           struct pollfd *pfd, int *slot);

#endif
