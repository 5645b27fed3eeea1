/* pool/process.h - what the process pool's files share, and what they
 * offer its layers (pool/fast/procs.c, pool/start/). Reading order:
 * pool/README.md.
 */
#ifndef POOL_PROCESS_H
#define POOL_PROCESS_H

#include <poll.h>
#include <sys/uio.h>

#include "core.h"

/* A worker that leaves on its own says why in its exit status. */
enum { WORKER_LOST_CHANNEL = 121, WORKER_NO_MEMORY, WORKER_TASK_EXIT,
       WORKER_CHANNEL_ERROR };

/* One header, both ways. To a worker: MSG_TASK and count * arg_size bytes
 * of arguments; MSG_STOP, CPython's sentinel None. Back: REPLY_DATA and
 * count * result_size bytes of results (`ran` items ran; err: the last
 * one's error, or 0). MSG_WAKE and REPLY_BELL say "look at the shared
 * region" (fast layer): hints, harmless when left over. */
enum { MSG_TASK, MSG_STOP, MSG_WAKE, REPLY_DATA, REPLY_BELL };
struct msg {
    int op, err;
    pool_fn *fn;       /* valid in a worker forked from the caller */
    size_t task;       /* its index in pool_main's table otherwise */
    size_t first, count, ran, arg_size, result_size;
};

struct worker {
    pid_t pid;      /* 0: the slot is empty */
    int fd;         /* the parent's end of the channel; -1 when closed */
    bool busy;      /* it has work of this map */
    size_t chunk;   /* the chunk dealt to it */
    bool fresh;     /* started during this map, nothing done yet */
    bool benched;   /* a fresh worker died here: no more starts this map */
};

struct process_pool {
    struct worker *w;
    int n;
    const struct pool_start_method *method; /* NULL: fork */
    struct process_pool *next;   /* in all_pools */
    void *fast;                  /* the fast layer's region, or NULL */
    int fork_err, death_err;     /* why this map ran out of workers */
    char death[POOL_WHY_LEN];
};

/* One map, and how its chunks reach the workers (the hand-off): dealt
 * through the sockets (process_map.c), or taken by each worker from a queue
 * they share (fast layer). process_map.c's loop is the same for both. */
struct pp_map {
    struct pool *pool;
    struct process_pool *pp;
    struct pool_job *job;
    const struct pp_handoff *h;
    size_t next;                 /* dealt: the next chunk */
    void *ctx;                   /* the hand-off's own state */
};
struct pp_handoff {
    int (*begin)(struct pp_map *m);     /* 0 or ENOMEM; may be NULL */
    void (*end)(struct pp_map *m);      /* may be NULL */
    bool (*more)(struct pp_map *m);     /* work waits for a worker */
    /* Give idle worker k work, and it is busy: 0; EAGAIN: passed over
     * (never when force); else the send's errno, and *sent: did any of it
     * go out (then it is busy, and loses the work). */
    int (*give)(struct pp_map *m, int k, bool force, bool *sent);
    /* Until a busy worker may have news: 0, EAGAIN (give to those passed
     * over now), or poll's errno. */
    int (*wait)(struct pp_map *m, struct pollfd *pfd, int n, bool passed);
    void (*collect)(struct pp_map *m);  /* news outside the sockets; NULL */
    /* A reply from busy worker k: taken in, k idle (0); or EPROTO. */
    int (*reply)(struct pp_map *m, int k, const struct msg *r);
    void (*lost)(struct pp_map *m, int k, int err, const char *why);
    void (*rest)(struct pp_map *m, int err, const char *why); /* no worker
                                           is left for what is not done */
};

/* The fast layer's part (NULL in a core build): a region its forked
 * workers inherit, holding a queue of the map's chunks. */
struct pp_fast_ops {
    void *(*open)(int workers);             /* NULL: none, chunks dealt */
    void (*close)(void *fast, bool owner);  /* owner false: a fork's copy */
    void (*inherit)(void *fast, bool on);   /* around the pool's own fork */
    void (*child)(void *fast, int slot);    /* in the new worker */
    void (*idle)(int fd);  /* worker: serve the region, then back to read() */
    void (*stop)(void *fast);               /* close: watchers leave */
    const struct pp_handoff *(*handoff)(void *fast, const struct pool_job *job);
};
extern const struct pp_fast_ops *const pool_process_fast;

/* The start methods other than fork (pool/start/). */
struct pool_start_method {
    int (*check)(void);              /* may a pool start? 0, or errno */
    pid_t (*start)(int child_fd);    /* -1 with errno and words */
    int (*wait)(pid_t pid, int *status, int timeout_ms); /* as wait_child */
    void (*atfork)(void);            /* its fork handlers, registered first */
    size_t (*index_of)(pool_fn *fn); /* in pool_main's table, or NONE */
};
extern const struct pool_start_method pool_spawn_method, pool_forkserver_method;
extern pool_fn *(*pp_task_fn)(size_t index); /* set by pool_main */

/* channel.c: 0 or an errno. Every byte of iov sent, never SIGPIPE (*sent:
 * did any go out); exactly len bytes read (EPIPE at end of file); a
 * socketpair above fd 2; a bare header; fd moved above 2 (-1 and errno). */
int pp_send_all(int fd, struct iovec *iov, int cnt, bool *sent);
int pp_recv_all(int fd, void *buf, size_t len);
int pp_make_channel(int sv[2]);
int pp_send_op(int fd, int op);
int pp_above_stdio(int fd);

/* process_pool.c: the pool's life, a worker started into empty slot k, a
 * worker reaped (why NULL: killed at once, no words; returns the errno its
 * items fail with), waitpid with a timeout in ms (< 0: none): 0,
 * ETIMEDOUT, or waitpid's errno. */
int pp_start(struct pool *pool);
void pp_stop(struct pool *pool, bool terminate);
int pp_join(struct pool *pool);
void pp_release(struct pool *pool);
void pp_forget(struct pool *pool);
int pp_start_slot(struct process_pool *pp, int k);
int pp_reap(struct process_pool *pp, int k, char *why, size_t len);
int wait_child(pid_t pid, int *status, int timeout_ms);

/* process_worker.c: a worker's life (serve fd, die with `parent`), its
 * exits, and whether fd is still its channel. */
_Noreturn void pp_worker_main(int fd, pid_t parent);
_Noreturn void pp_worker_exit(int status);
_Noreturn void pp_channel_failed(int err);
bool pp_same_channel(int fd);

#endif
