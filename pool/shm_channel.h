/* pool/shm_channel.h - a process worker's shared region, and how to wait on
 * it: watch for a while (spin), then sleep.
 *
 * Each worker of a process pool gets one region (memfd_create + mmap
 * MAP_SHARED), sent over its channel as the first message (SCM_RIGHTS), so
 * it reaches the worker the same way under fork, spawn and forkserver. The
 * region holds a control block of C11 atomics and a data area: the parent
 * copies a chunk's arguments in and its results out, as it copies them
 * through the socket otherwise. A chunk crosses without a system call while
 * both sides are awake; the socket stays, for the wake-ups of a side that
 * sleeps, for chunks too big for the region, for the stop message and for
 * end of file (a dead worker, a dead parent).
 *
 * The control block's words, each written by one side only:
 *   task_seq          parent: a task (or stop) is in the block
 *   taken_seq         worker: it read that task (so it was alive to take it)
 *   spin_after        parent, with each task: whether a CPU is left for the
 *                     worker to watch for the next one (else it sleeps)
 *   done_seq          worker: the task's results are in the block
 *   worker_sleeping   worker sets 1 before it blocks on the socket; the
 *                     parent takes it back (exchange) and then owes one wake
 *   parent_sleeping   the same, the other way round
 * The exchange decides, exactly once, who sends: a wake message is sent
 * only when it is expected, so the socket's messages never need guessing.
 *
 * See also: process_pool.c (the protocol), docs/latency_processes.md.
 */
#ifndef POOL_SHM_CHANNEL_H
#define POOL_SHM_CHANNEL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "pool.h"

/* What the control block holds for the worker (op). */
enum shm_op {
    SHM_TASK,   /* the task and its arguments are in the region */
    SHM_SOCKET, /* the task comes on the socket (too big for the region) */
    SHM_STOP,   /* leave: the pool is closed */
    SHM_QUEUE,  /* take chunks from the pool's queue (shm_queue.h) */
};

/* Each group on a cache line of its own: a write takes the line away from
 * the other side, whose next look fetches it back. */
#define SHM_LINE 64

struct shm_ctl {
    _Alignas(SHM_LINE) atomic_uint task_seq;
    int op;
    bool spin_after;       /* watch for the next task after this one */
    pool_fn *fn;
    size_t task, first, count, arg_size, result_size;

    _Alignas(SHM_LINE) atomic_uint taken_seq;
    /* The reply, apart from done_seq: the parent watches done_seq, and
     * each write to a line it watches costs the worker a transfer. */
    _Alignas(SHM_LINE) size_t r_first, r_count, r_ran;
    int r_err;
    _Alignas(SHM_LINE) atomic_uint done_seq;

    _Alignas(SHM_LINE) atomic_int worker_sleeping;
    _Alignas(SHM_LINE) atomic_int parent_sleeping;
    atomic_llong calm_from; /* nobody spins before this time (ns) */
};

/* A region: 256 KiB, the first page for the control block. */
#define SHM_SIZE (256 * 1024)
#define SHM_DATA 4096

/* A new region, mapped here, and its descriptor (close-on-exec, to be sent
 * and closed). Returns NULL with errno set. */
struct shm_ctl *shm_create(int *fd);

/* Map the region fd of size bytes (the worker's side). NULL on failure. */
struct shm_ctl *shm_map(int fd, size_t size);

/* Unmap a region (NULL: nothing). */
void shm_unmap(struct shm_ctl *ctl);

/* Where a chunk of count items goes in the region: its arguments at
 * shm_args, its results at shm_results. False when it does not fit. */
bool shm_fits(size_t count, size_t arg_size, size_t result_size);
char *shm_args(struct shm_ctl *ctl);
char *shm_results(struct shm_ctl *ctl, size_t count, size_t arg_size);

/* ---- spinning: POOL_SPIN_US, the rules of the thread pool ---------------- */

/* POOL_SPIN_US from the environment in ns (0: never spin), 0 on one CPU. */
long long shm_spin_budget_ns(void);


struct shm_spin {
    long long start, last, budget; /* ns */
    unsigned looks;
    atomic_llong *calm_from;       /* where a preemption is recorded */
};

/* May a spin start now (budget > 0, no backoff in force)? */
bool shm_may_spin(long long budget, atomic_llong *calm_from);

struct shm_spin shm_spin_start(long long budget, atomic_llong *calm_from);

/* Between two looks: a pause, the clock every 64 looks, a sched_yield()
 * every 256. False when the budget is spent or the spinner was preempted
 * (then nobody spins for a while: the CPUs are wanted). */
bool shm_spin_on(struct shm_spin *s);

/* At the end of a successful spin: record a preemption if there was one. */
void shm_spin_end(struct shm_spin *s);

#endif
