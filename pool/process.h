/* pool/process.h - what the process pool's files share, and what they
 * offer the fast layer (pool/fast/procs.c).
 *
 * Read in this order: process_pool.c (workers forked, reaped, stopped),
 * process_map.c (a map: chunks handed out, replies taken in, a death dealt
 * with), process_worker.c (the worker: read a task, run it, reply) and
 * channel.c (whole messages over a socketpair).
 */
#ifndef POOL_PROCESS_H
#define POOL_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <poll.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "core.h"

/* A worker that leaves on its own says why in its exit status. */
enum { WORKER_LOST_CHANNEL = 121, WORKER_NO_MEMORY = 122 };

/* One header, both ways. Parent to worker: MSG_TASK, then count *
 * arg_size bytes of arguments; MSG_STOP, CPython's sentinel None; MSG_WAKE,
 * "look at the shared region" (fast layer). Worker to parent: REPLY_DATA,
 * then count * result_size bytes of results (`ran` items ran; err is the
 * last one's error, or 0); REPLY_BELL, "look at the shared region". A
 * wake or a bell is a hint, never owed: one left over is harmless. */
enum { MSG_TASK, MSG_STOP, MSG_WAKE, REPLY_DATA, REPLY_BELL };
struct msg {
    int op, err;
    pool_fn *fn;       /* valid in a worker forked from the caller */
    size_t task;       /* its index in pool_main's table otherwise */
    size_t first, count, ran, arg_size, result_size;
};

struct worker {
    pid_t pid;      /* 0: the slot is empty (its fork failed, or it died) */
    int fd;         /* the parent's end of the channel; -1 when closed */
    bool busy;      /* it has work of this map */
    size_t chunk;   /* the chunk in hand, when a chunk was dealt */
    bool fresh;     /* started during this map, nothing done yet */
    bool benched;   /* a fresh worker died here: no more starts this map */
};

struct pp_fast_ops;

struct process_pool {
    struct worker *w;
    int n;
    const struct pool_start_method *method; /* NULL: fork */
    struct process_pool *next;   /* in the list of every pool (all_pools) */
    void *fast;                  /* the fast layer's region, or NULL */
    int fork_err;                /* the last start refused in this map */
    int death_err;               /* the last death that benched a slot */
    char death[POOL_WHY_LEN];
};

/* One map, as process_map.c runs it. */
struct pp_handoff;
struct pp_map {
    struct pool *pool;
    struct process_pool *pp;
    struct pool_job *job;
    const struct pp_handoff *h;
    size_t next;                 /* dealt: the next chunk to hand out */
    void *ctx;                   /* the hand-off's own state */
};

/* How chunks reach the workers: dealt one at a time through the sockets
 * (process_map.c), or taken by each worker from a shared queue (the fast
 * layer). process_map.c's loop is the same for both. */
struct pp_handoff {
    int (*begin)(struct pp_map *m);     /* 0 or ENOMEM; NULL: nothing */
    void (*end)(struct pp_map *m);
    bool (*more)(struct pp_map *m);     /* work waits for a worker */
    /* Give worker k work and mark it busy: 0; EAGAIN: not now (passed
     * over; never when force); else the errno of the send, and *sent says
     * whether any of it went out (then it is busy, and loses the work). */
    int (*give)(struct pp_map *m, int k, bool force, bool *sent);
    /* Wait until a busy worker may have news: 0, EAGAIN (time to give to
     * those passed over), or the errno of poll. */
    int (*wait)(struct pp_map *m, struct pollfd *pfd, int n, bool passed);
    void (*collect)(struct pp_map *m);  /* news outside the sockets; NULL */
    /* A reply header from busy worker k: take it in and mark k idle; 0,
     * or EPROTO (the channel is broken). */
    int (*reply)(struct pp_map *m, int k, const struct msg *r);
    /* Worker k died: its work that is not done is lost, with why. */
    void (*lost)(struct pp_map *m, int k, int err, const char *why);
    void (*rest)(struct pp_map *m, int err, const char *why); /* no worker
                                        is left for what is not done */
};

/* The fast layer's part (NULL in a core build): a region that forked
 * workers inherit, with a queue of the map's chunks. */
struct pp_fast_ops {
    void *(*open)(int workers);             /* NULL: none, chunks dealt */
    void (*close)(void *fast, bool owner);  /* owner false: a fork's copy */
    void (*inherit)(void *fast, bool on);   /* around the pool's own fork */
    void (*child)(void *fast, int slot);    /* in the new worker */
    /* The worker, idle: watch the region and serve what it holds; return
     * to sleep in read() on the channel. */
    void (*idle)(int fd);
    void (*stop)(void *fast);               /* close: watchers leave */
    const struct pp_handoff *(*handoff)(void *fast, const struct pool_job *job);
};
extern const struct pp_fast_ops *const pool_process_fast;

/* channel.c: send every byte of iov (never SIGPIPE; *sent, unless NULL:
 * did any byte go out), read exactly len bytes (EPIPE at end of file), a
 * new socketpair above fd 2. Each returns 0 or an errno value. */
int pp_send_all(int fd, struct iovec *iov, int cnt, bool *sent);
int pp_recv_all(int fd, void *buf, size_t len);
int pp_make_channel(int sv[2]);
int pp_send_op(int fd, int op);          /* a bare header: stop, wake, bell */

/* process_pool.c: the pool's life (pool_ops in core.h), a worker
 * started into empty slot k, a worker reaped. */
int pp_start(struct pool *pool);
void pp_stop(struct pool *pool, bool terminate);
int pp_join(struct pool *pool);
void pp_release(struct pool *pool);
void pp_forget(struct pool *pool);
int pp_start_slot(struct process_pool *pp, int k); /* into empty slot k */
/* Reap the worker in slot k, whose channel broke; say how it died in why
 * (NULL: kill it now, no words). Returns the errno its items fail with. */
int pp_reap(struct process_pool *pp, int k, char *why, size_t len);

/* process_map.c: chunk c will not come back; its items fail, zeroed. */
void pp_lose_chunk(struct pool_job *job, size_t c, int err, const char *why);
/* Record the chunk of `count` items at `first` that came back: ran, err. */
void pp_chunk_back(struct pool_job *job, size_t first, size_t count,
                   size_t ran, int err);

/* process_worker.c: a worker's exits, and the check that fd is still the
 * channel it was (a task may close it and open a file there). */
_Noreturn void pp_worker_exit(int status);
_Noreturn void pp_channel_failed(int err);
bool pp_same_channel(int fd);

#endif
