/* pool/shm_queue.h - a map's chunks in memory that a fork pool's workers
 * share: each idle worker takes the next chunk itself.
 *
 * CPython's Pool puts every task of a map on one queue (a pipe) and each
 * idle worker takes the next (Lib/multiprocessing/pool.py, worker() and
 * Pool._handle_tasks, 3.11). Dealing chunks from the parent instead costs
 * a round trip per chunk, and when the parent sleeps, a wake-up per
 * chunk. So a forked pool has one more region, inherited by its workers
 * (not sent: a fresh image under spawn or forkserver has none, and is
 * dealt chunks as before). A map whose arguments, results and chunk
 * records fit goes through it:
 *
 *   parent: arguments in, every chunk free, then each worker it wakes gets
 *           SHM_QUEUE in its own region (shm_channel.h)
 *   worker: while a chunk is free: claim it (compare-and-swap of its owner
 *           from free to itself), run its items in place, record what
 *           came of it (ran, err, the order it arrived in), mark it done;
 *           then say so in its own region, as after any task
 *   parent: takes in the done chunks in the order they arrived, copies
 *           their results out; a worker that died owned at most one chunk
 *           that is not done: that chunk is lost, as before.
 *
 * Owners are written by compare-and-swap only, so a chunk has one owner,
 * and a death loses exactly the chunk its owner held. `next` is only a
 * hint: every chunk below it has been claimed. The parent checks what
 * workers wrote (a task can scribble on the region) before it trusts it.
 *
 * See also: process_map.c (queue_map), process_worker.c (serve_queue).
 */
#ifndef POOL_SHM_QUEUE_H
#define POOL_SHM_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "pool.h"
#include "shm_channel.h"

/* What a chunk's owner word holds: free, a worker (its slot + 1), done. */
enum { QUEUE_FREE = 0, QUEUE_DONE = -1 };

struct shm_chunk {
    atomic_int owner;
    unsigned arrival;   /* when done: its place in the order of arrival */
    size_t ran;         /* items that ran; the last one failed if err */
    int err;
};

struct shm_queue {
    _Alignas(SHM_LINE) atomic_size_t next; /* a hint: all below are taken */
    _Alignas(SHM_LINE) atomic_uint arrivals; /* chunks done so far */
    /* The map, written by the parent before it wakes anyone. */
    _Alignas(SHM_LINE) pool_fn *fn;
    size_t n, chunksize, nchunks, arg_size, result_size;
};

/* The region: 1 MiB; memory is used only as far as a map reaches. */
#define QUEUE_SIZE (1024 * 1024)

/* A new region (a memfd, "pool-queue", mapped shared and closed); no fork
 * inherits it until shm_queue_inherit says so.
 * NULL with errno set. */
struct shm_queue *shm_queue_create(void);
void shm_queue_unmap(struct shm_queue *q);

/* The next fork inherits the region (on), or no fork does (off). False
 * when refused. */
bool shm_queue_inherit(struct shm_queue *q, bool on);

/* Do n items in nchunks chunks fit, with these sizes? */
bool shm_queue_fits(size_t n, size_t nchunks, size_t arg_size,
                    size_t result_size);

/* Where things are, for a map of n items in nchunks chunks that fits.
 * Each side passes the sizes it knows (the parent its job's, a worker the
 * header as it read it once): a task may scribble on the header. */
struct shm_chunk *shm_queue_chunks(struct shm_queue *q);
char *shm_queue_args(struct shm_queue *q, size_t nchunks);
char *shm_queue_results(struct shm_queue *q, size_t n, size_t nchunks,
                        size_t arg_size);

/* The worker's side: claim one of the nchunks chunks for `me` (slot + 1);
 * SIZE_MAX when none is free. Then record what came of it: done. */
size_t shm_queue_claim(struct shm_queue *q, size_t nchunks, int me);
void shm_queue_finish(struct shm_queue *q, size_t c, size_t ran, int err);

#endif
