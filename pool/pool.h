/* pool/pool.h - a pool of workers that maps a function over an array.
 *
 * The C counterpart of multiprocessing.Pool (POOL_PROCESSES) and
 * multiprocessing.pool.ThreadPool (POOL_THREADS):
 *
 *     Python                                C
 *     with multiprocessing.Pool() as pool:  struct pool *p = pool_open(POOL_PROCESSES, 0);
 *         results = pool.map(f, args)       pool_map(p, f, args, sizeof *args,
 *                                                    results, sizeof *results, n, 0);
 *                                           pool_free(p);
 *     pool.close(); pool.join()             pool_close(p); pool_join(p);
 *
 * A task reads one argument and writes one result, plain bytes of fixed
 * sizes. A process pool copies them to and from its workers (as CPython
 * pickles them); a thread pool hands its workers pointers into the arrays.
 *
 * Errors: a function that returns int returns 0 or an errno value, and
 * pool_error() has the words. Nothing here prints or exits.
 *
 * One thread drives a pool at a time; distinct pools are independent.
 * Misuse fails cleanly: a NULL pool gets EINVAL ("no pool (NULL)"); a call
 * while another thread is in a call on the same pool (a task of a thread
 * pool calling its own pool too) gets EBUSY at once, and pool_free then
 * frees nothing and sets errno to EBUSY; a copy made by fork (in a child of
 * the caller, or in a task) gets EPERM from every call, and pool_free
 * releases the copy's memory only, never touching the owner's workers.
 *
 * Process pools reap their own workers: a caller that ignores SIGCHLD, or
 * reaps with waitpid(-1, ...), takes away how a worker died.
 *
 * POOL_SPIN_US (read when a pool opens): how long, in microseconds, an
 * idle worker or a waiting caller may watch for news before it sleeps;
 * 0 never, default 1000, at most 1000000. A build without the fast layer
 * (make POOL_FAST=0) never spins. See docs/spinning.md.
 *
 * See also: docs/pool.md (inside), docs/start_methods.md.
 */
#ifndef POOL_H
#define POOL_H

#include <stddef.h>

enum pool_kind { POOL_PROCESSES, POOL_THREADS };

/* A task: read one argument, write one result; return 0, or an errno value
 * that fails this item (the C face of an exception raised in a worker).
 * arg is NULL when arg_size is 0, result when result_size is 0. In a
 * process pool the task runs in another process: what it writes outside
 * `result` stays there, all result_size bytes travel back (padding too),
 * and what it prints is flushed after each chunk. A task must not call
 * exit() (a forked worker leaves at once, reported as such, without the
 * caller's atexit handlers), nor fork a child that outlives it without
 * exec (the map learns of the worker's death only when that child ends). */
typedef int pool_fn(const void *arg, void *result);

#define POOL_MAX_WORKERS 1024 /* more is refused with EINVAL */

/* Start a pool of `workers` workers; < 1: the CPUs this process may run on
 * (sched_getaffinity, as os.process_cpu_count()). Process workers are
 * forked once, after stdio is flushed, and reused by every map; their
 * channels are never on fds 0-2. They die with the thread that opened the
 * pool (PR_SET_PDEATHSIG): open and map from a thread that outlives it.
 * NULL with errno set on failure (EINVAL, ENOMEM, EAGAIN from fork or
 * pthread_create, ...), and nothing left behind. */
struct pool *pool_open(enum pool_kind kind, int workers);

/* Apply fn to each of n arguments (args[i] at args + i * arg_size) and
 * store result i at results + i * result_size, whatever order the workers
 * finish in. Blocks until every item is done. Work goes out in chunks of
 * `chunksize` items, each to whichever worker is idle; chunksize 0 is
 * CPython's chunksize=None, ceil(n / (4 * workers)). (CPython's explicit
 * chunksize=0 runs nothing.)
 *
 * Returns 0 when every task returned 0. Otherwise CPython's semantics
 * (Lib/multiprocessing/pool.py, 3.11): a chunk runs as list(map(f, chunk))
 * in mapstar(), so it stops at its first failing item; the map still waits
 * for every chunk; and the error returned is the first failure to arrive
 * (MapResult._set keeps the first exception), not necessarily the
 * lowest-numbered. pool_error() names it: "item 7 failed: Numerical
 * argument out of domain (2 items failed in all, 5 not run)".
 *
 * Beyond CPython, which keeps no result once one failed: items that
 * succeeded keep their results; an item with none (failed, never run,
 * lost) holds zeros. A map that fails as a whole (poll, or its own memory)
 * returns that errno with every result zeroed.
 *
 * A process worker that dies during a map (a crash, SIGKILL, _exit) loses
 * the items it held: they fail with EPIPE and pool_error() says how it died
 * ("killed by signal 9"); the other items complete, a new worker takes its
 * place, the pool stays usable. One started during the map that dies
 * before finishing anything is not replaced until the map ends: what no
 * worker is left for fails with its cause ("no worker left: ..."), so a
 * death that comes at once never becomes a loop of forks. A worker with no
 * memory for a chunk leaves, and its items fail with ENOMEM.
 *
 * EINVAL with "Pool not running" after pool_close or pool_terminate; EINVAL
 * for NULL fn, NULL arrays with sizes > 0, and sizes no array can have
 * ("sizes too large"). n == 0 returns 0 at once. */
int pool_map(struct pool *pool, pool_fn *fn,
             const void *args, size_t arg_size,
             void *results, size_t result_size,
             size_t n, size_t chunksize);

/* No more maps; workers leave once idle. Each process worker gets a stop
 * message, as CPython sends each a sentinel, so a child the caller forked
 * (it holds copies of the channels) does not hold up pool_join. Closing a
 * pool that is not running does nothing. Returns 0. */
int pool_close(struct pool *pool);

/* Stop now: processes get SIGTERM (and SIGCONT); threads leave after the
 * item in hand. Terminating twice is harmless. Returns 0. */
int pool_terminate(struct pool *pool);

/* Wait for every worker to leave and reap it. Only after pool_close or
 * pool_terminate: before, EINVAL and "Pool is still running". */
int pool_join(struct pool *pool);

/* Terminate if still running, join, release: the end of a `with` block.
 * NULL does nothing. */
void pool_free(struct pool *pool);

/* The number of workers; -1 with errno EPERM in a process that does not
 * own the pool (EINVAL for NULL). */
int pool_workers(const struct pool *pool);

/* Words for the last failure ("Pool not running", "item 21 failed:
 * Numerical result out of range", ...); "" after a success. Valid until
 * the next call. pool_error(NULL): the words of this thread's last failed
 * pool_open_start if any, else "no pool (NULL)". */
const char *pool_error(const struct pool *pool);

int pool_cpu_count(void);                       /* at least 1 */
size_t pool_default_chunksize(size_t n, int workers); /* the rule above */
long pool_spin_us(void);   /* POOL_SPIN_US as a pool opened now reads it */
const char *pool_kind_name(enum pool_kind kind); /* "processes", "threads" */

/* A wait status in words ("was killed by signal 9 (Killed)", "exited with
 * status 3"), into buf; returns buf. */
char *pool_describe_status(int status, char *buf, size_t len);

/* ---- start methods: multiprocessing's contexts --------------------------
 *
 *     Python                                C
 *     if __name__ == "__main__":            int main(void) {
 *                                               POOL_MAIN(tasks);
 *         ctx = get_context("spawn")
 *         with ctx.Pool(2) as pool:             pool_open_start(POOL_PROCESSES,
 *                                                   2, POOL_START_SPAWN);
 *
 * fork: workers are copies of the caller (pool_open). spawn: each worker
 * is a fresh image of the running program, which runs main() from the top
 * and becomes a worker in pool_main(). forkserver: one server, a fresh
 * image, forks the workers of every forkserver pool. Under spawn and
 * forkserver a task travels by its place in pool_main's table (pickling by
 * name): a function not in it fails the map with EINVAL, and the pool
 * stays usable. A thread pool accepts any method and ignores it. */
enum pool_start { POOL_START_FORK, POOL_START_SPAWN, POOL_START_FORKSERVER };

/* pool_open with a start method. Also EINVAL for an unknown method, for
 * spawn or forkserver before pool_main() ran, or in a program started
 * through the dynamic loader; pool_error(NULL) has the words. */
struct pool *pool_open_start(enum pool_kind kind, int workers,
                             enum pool_start start);

struct pool_task {
    const char *name; /* for messages and readers */
    pool_fn *fn;
};
#define POOL_TASK(fn) { #fn, fn }

/* First in main(), with every task the program maps on a spawn or
 * forkserver pool, in a table that outlives every pool (a static array).
 * In the program it records the table and returns; in a worker or the
 * fork server it becomes that and never returns. The environment variable
 * that names those roles is believed only when descriptor 3 proves it. */
void pool_main(const struct pool_task *tasks, size_t ntasks);
#define POOL_MAIN(table) pool_main((table), sizeof(table) / sizeof (table)[0])

/* "fork", "spawn", "forkserver"; and back: 0, or EINVAL. */
const char *pool_start_name(enum pool_start start);
int pool_start_parse(const char *name, enum pool_start *start);

#endif
