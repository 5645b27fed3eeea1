/* pool/pool.h - a pool of workers that maps a function over an array.
 *
 * The C counterpart of Python's multiprocessing.Pool (POOL_PROCESSES) and
 * multiprocessing.pool.ThreadPool (POOL_THREADS):
 *
 *     Python                                   C
 *     with multiprocessing.Pool() as pool:     struct pool *pool = pool_open(POOL_PROCESSES, 0);
 *         results = pool.map(f, args)          pool_map(pool, f, args, sizeof *args,
 *                                                       results, sizeof *results, n, 0);
 *                                              pool_free(pool);
 *     pool.close(); pool.join()                pool_close(pool); pool_join(pool);
 *
 * A task reads one argument and writes one result; both are plain bytes of
 * a fixed size. A process pool copies them through a channel to and from
 * its workers (as CPython pickles them); a thread pool hands the workers
 * pointers into the caller's arrays.
 *
 * A pool is driven by one thread at a time. Distinct pools are independent,
 * also when driven from different threads. Misuse fails cleanly:
 *  - a NULL pool: every call returns EINVAL (pool_workers: -1 with errno
 *    EINVAL; pool_error: "no pool (NULL)"; pool_free: does nothing);
 *  - a call while another thread is inside a call on the same pool (a
 *    second pool_map, or pool_close, pool_terminate or pool_join during a
 *    map; a task of a thread pool calling on its own pool): EBUSY at once,
 *    and the call in progress goes on undisturbed. pool_free then frees
 *    nothing and sets errno to EBUSY: free the pool after the map returns.
 *    pool_error, during another thread's call, says the pool is busy;
 *  - a copy made by fork: EPERM, see below.
 * A call after pool_free is a use of freed memory: nothing can catch that.
 *
 * A pool belongs to the process that opened it. A copy made by fork (in a
 * child of the caller, or in a task of a process pool) shares the owner's
 * workers, so there every call refuses: pool_map, pool_close,
 * pool_terminate and pool_join return EPERM and pool_error() says whose
 * pool it is; pool_workers returns -1 with errno EPERM; pool_free releases
 * the copy's memory only, and never signals or waits for the owner's
 * workers. The owner's pool carries on untouched.
 *
 * Process pools reap their own workers: a caller that sets SIGCHLD to
 * SIG_IGN, or reaps with waitpid(-1, ...), takes their exit status away,
 * and the pool can then only say that a worker died, not how.
 *
 * Errors: functions that return int return 0 or an errno value, and then
 * pool_error() has the words. Nothing here prints or exits.
 *
 * Waiting: between maps, and while the caller waits for one, a pool's
 * threads (or worker processes, through a shared region each) watch for
 * news for a while (spin) before they sleep, as OpenMP's do: a wake-up
 * costs more than a small map. POOL_SPIN_US, read when a pool is opened,
 * is how long: 0 never spins (every wait sleeps, and a process pool's
 * chunks all go through its sockets), default 1000, at most 1000000.
 * Spinning gives way by itself when the CPUs are wanted, and never happens
 * on one CPU (docs/latency.md, docs/latency_processes.md).
 *
 * See also: docs/pool.md for how each kind works inside.
 */
#ifndef POOL_H
#define POOL_H

#include <stddef.h>

enum pool_kind { POOL_PROCESSES, POOL_THREADS };

/* One task: read one argument, write one result. Return 0, or an errno value
 * that fails this task (the C face of an exception raised in a worker).
 * `result` is NULL when the map's result_size is 0. In a process pool the
 * task runs in a forked child: what it writes outside `result` stays there,
 * and all result_size bytes travel back, padding included (a result struct
 * without padding keeps valgrind from seeing uninitialised bytes sent).
 * What it prints is flushed after each chunk and when the worker leaves
 * (CPython's workers flush when they leave); a worker that crashes or is
 * killed in the middle of a chunk (a signal, or _exit or abort in a task)
 * loses what that chunk's tasks printed and did not flush themselves.
 * With arg_size 0 the task gets NULL for `arg`, in both kinds of pool
 * (args may then be NULL too). */
typedef int pool_fn(const void *arg, void *result);

/* More workers than this is refused with EINVAL. */
#define POOL_MAX_WORKERS 1024

/* Start a pool of `workers` workers; workers < 1 means the number of CPUs
 * this process may run on (sched_getaffinity, as os.process_cpu_count()).
 * Process workers are forked here, once, and reused by every map; stdio is
 * flushed first so buffered output is not written twice. Their channels
 * are never on descriptors 0, 1 or 2 (a program started with one of them
 * closed would write its own output into a worker), and are close-on-exec.
 * Returns NULL with errno set on failure (EINVAL, ENOMEM, EAGAIN from fork or
 * pthread_create, ...); workers already started are then stopped and reaped:
 * nothing is left behind.
 *
 * Process workers die with their parent (PR_SET_PDEATHSIG), even in the
 * middle of a task. Linux ties that to the thread that forked them: open a
 * process pool, and map on it, from a thread that outlives the pool. */
struct pool *pool_open(enum pool_kind kind, int workers);

/* Apply fn to each of the n arguments (args[i] is arg_size bytes at
 * args + i * arg_size) and store result i at results + i * result_size,
 * whatever order the workers finish in. Blocks until every item is done.
 * Work is handed out in chunks of `chunksize` items, a chunk to whichever
 * worker is idle; chunksize 0 means ceil(n / (4 * workers)), as CPython.
 *
 * Returns 0 when every task returned 0. Otherwise CPython's semantics
 * (Lib/multiprocessing/pool.py, 3.11): each chunk runs as
 * list(map(f, chunk)) in mapstar(), so a chunk stops at its first failing
 * item and the items after it in that chunk never run; the map still waits
 * for every chunk; and the error returned is the first failure to arrive,
 * as MapResult._set keeps only the first exception. It is not necessarily
 * the lowest-numbered. pool_error() names that item and its cause, e.g.
 * "item 7 failed: Numerical argument out of domain (2 items failed in all,
 * 5 not run)".
 *
 * Beyond CPython (which keeps no result once one failed): the items that
 * succeeded keep their results, and the words count the failures and the
 * items never run. An item that has no result (its task failed, it never
 * ran, or it was lost with its worker) holds zeros, in both kinds of pool.
 * n == 0 returns 0 at once. results may be NULL when result_size is 0.
 *
 * Process pools: a worker that dies during a map (a crash, SIGKILL, _exit in
 * a task) loses the items it held: they fail with EPIPE, pool_error() names
 * them and how the worker died ("killed by signal 9"), the other items still
 * complete, a fresh worker takes the dead one's place and the pool stays
 * usable. The words give the first cause: a task that closes its worker's
 * channel is reported as such ("had its channel closed (by a task?)"), not
 * as the SIGKILL the pool then sends to a worker that runs on. The map never waits for a dead worker, with one exception: a task
 * that forks a child which does not exec and outlives the worker keeps the
 * worker's channel open, and the map learns of the death only when that
 * child exits too. (A stopped worker, SIGSTOP, stops the map, as in CPython.)
 *
 * A worker that has no memory for a chunk's arguments or results leaves;
 * its items fail with ENOMEM ("ran out of memory"). A worker forked during
 * the map that dies before finishing a chunk (most likely of the same
 * cause) is not replaced again until the map is over: the items no worker
 * is left for fail with its cause ("no worker left: ..."), or with fork's
 * error when forks are refused ("no worker could be started (fork
 * failed: ...)"). So a death that comes at once never turns into a loop
 * of forks; the pool is refilled after the map.
 *
 * Fails with EINVAL and "Pool not running" after pool_close/pool_terminate,
 * and with EINVAL for bad arguments (NULL fn, NULL arrays with sizes > 0)
 * and for sizes no array can have (n * arg_size or n * result_size over
 * PTRDIFF_MAX: "sizes too large"). */
int pool_map(struct pool *pool, pool_fn *fn,
             const void *args, size_t arg_size,
             void *results, size_t result_size,
             size_t n, size_t chunksize);

/* No more maps: workers leave once idle (they are, between maps). Each
 * process worker is told to by a stop message, as CPython sends each worker
 * a sentinel, so a child the caller forked, which holds copies of the
 * channels, does not hold up pool_join.
 * Returns 0; closing a pool that is not running does nothing, as in CPython. */
int pool_close(struct pool *pool);

/* Stop now. Processes get SIGTERM (and SIGCONT, should one be stopped);
 * threads leave after the item in hand.
 * Returns 0 (terminating twice is harmless, as in CPython). */
int pool_terminate(struct pool *pool);

/* Wait for every worker to leave and reap it. Only after pool_close or
 * pool_terminate: before, fails with EINVAL and "Pool is still running".
 * Joining twice is harmless. */
int pool_join(struct pool *pool);

/* Terminate if still running, join, release everything: the end of Python's
 * `with` block. NULL is a no-op. In a process that does not own the pool:
 * release this copy's memory, nothing else (see above). */
void pool_free(struct pool *pool);

/* The number of workers; -1 with errno EPERM in a process that does not
 * own the pool. */
int pool_workers(const struct pool *pool);

/* Words for the last failure ("Pool not running", "item 21 failed: Numerical
 * result out of range", ...); "" when the last call succeeded. Valid until
 * the next call on this pool. pool_error(NULL): the words for this
 * thread's last failed pool_open_start when it left any (a spawn pool
 * before pool_main, ...), else "no pool (NULL)". */
const char *pool_error(const struct pool *pool);

/* The number of CPUs this process may run on (at least 1). */
int pool_cpu_count(void);

/* The chunksize pool_map picks when it is given 0: ceil(n / (4 * workers)),
 * CPython's rule (Lib/multiprocessing/pool.py, Pool._map_async), at least 1.
 * For programs that predict a schedule: they then follow the pool. */
size_t pool_default_chunksize(size_t n, int workers);

/* How long a pool opened now watches for news before it sleeps, in
 * microseconds: POOL_SPIN_US as the pools read it (0: never; on one CPU a
 * pool does not spin, whatever this says). For programs that must wait
 * for a pool's spinning to end, as bench does between its figures. */
long pool_spin_us(void);

/* "processes" or "threads", for messages. */
const char *pool_kind_name(enum pool_kind kind);

/* A wait status in words, into buf: "was killed by signal 9 (Killed)",
 * "exited with status 3". Returns buf. */
char *pool_describe_status(int status, char *buf, size_t len);

/* ---- start methods: multiprocessing's contexts --------------------------
 *
 *     Python                                C
 *     if __name__ == "__main__":            int main(void) {
 *                                               pool_main(tasks, ntasks);
 *         ctx = get_context("spawn")
 *         with ctx.Pool(2) as pool:             pool_open_start(POOL_PROCESSES,
 *                                                   2, POOL_START_SPAWN);
 *
 * fork: workers are copies of the caller (pool_open is this).
 * spawn: each worker is a fresh image of the program: it runs main() from
 *   the top, and pool_main() turns it into a worker there. It sees the
 *   program's globals as they are at start, not as the caller set them.
 * forkserver: on first use the program starts one server, a fresh image
 *   too, which holds none of the caller's threads or locks; the workers of
 *   every forkserver pool are forked from it. It leaves with the program.
 * Under spawn and forkserver a task travels by its name in pool_main's
 * table (the C face of pickling by name): mapping a function that is not in
 * the table fails with EINVAL and says so, and the pool stays usable.
 * A dead worker is replaced by the pool's own method. A thread pool accepts
 * every method and ignores it, as CPython's ThreadPool takes no context:
 * threads share the program's image, there is nothing to start. */
enum pool_start { POOL_START_FORK, POOL_START_SPAWN, POOL_START_FORKSERVER };

/* pool_open with a start method. Besides pool_open's failures: EINVAL for
 * an unknown method, or for spawn or forkserver before pool_main() ran (the
 * lesson of CPython's "attempt to start a new process before the current
 * process has finished its bootstrapping phase"); pool_error(NULL) then has
 * the words. */
struct pool *pool_open_start(enum pool_kind kind, int workers,
                             enum pool_start start);

/* One entry of the table of tasks a fresh image may be asked to run. The
 * entry's place in the table is what travels: the table is the same array
 * in every image of the program. The name is for messages and readers. */
struct pool_task {
    const char *name;
    pool_fn *fn;
};
#define POOL_TASK(fn) { #fn, fn }

/* First thing in main(), before anything a worker should not do, with every
 * task the program maps on a spawn or forkserver pool:
 *
 *     static const struct pool_task tasks[] = { POOL_TASK(square_task) };
 *     POOL_MAIN(tasks);   (that is, pool_main(tasks, 1))
 *
 * The table must outlive every pool (a static array, as above). In the
 * program pool_main records the table and returns. In a spawned worker or
 * the fork server (recognised by the environment its parent gave it) it
 * becomes that and never returns. */
void pool_main(const struct pool_task *tasks, size_t ntasks);
/* The same, for a table that is an array in scope: POOL_MAIN(tasks). */
#define POOL_MAIN(table) pool_main((table), sizeof(table) / sizeof (table)[0])

/* "fork", "spawn", "forkserver"; and back: 0, or EINVAL for another name. */
const char *pool_start_name(enum pool_start start);
int pool_start_parse(const char *name, enum pool_start *start);

#endif
