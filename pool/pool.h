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
 * Arguments and results are plain bytes of fixed sizes: a process pool
 * copies them to and from its workers (as CPython pickles them), a thread
 * pool hands its workers pointers into the arrays. A function that returns
 * int returns 0 or an errno value, and pool_error() has the words. Nothing
 * here prints or exits.
 *
 * One thread drives a pool at a time. Misuse fails cleanly: a NULL pool
 * gets EINVAL; a call while another thread is in one on the same pool (a
 * thread pool's task calling its own pool too) gets EBUSY at once, and
 * pool_free then frees nothing and sets errno; a copy made by fork gets
 * EPERM from every call, and pool_free releases the copy's memory only.
 * Process pools reap their own workers: a caller that ignores SIGCHLD, or
 * reaps with waitpid(-1, ...), takes away how a worker died.
 *
 * POOL_SPIN_US (read when a pool opens): how long, in microseconds, an idle
 * worker or a waiting caller may watch for news before it sleeps; 0 never,
 * default 1000, at most 1000000; never in a build with POOL_FAST=0. How it
 * works: docs/pool.md, docs/spinning.md, docs/start_methods.md.
 */
#ifndef POOL_H
#define POOL_H

#include <stddef.h>

enum pool_kind { POOL_PROCESSES, POOL_THREADS };

/* A task: read one argument, write one result; return 0, or an errno value
 * that fails this item (the C face of an exception raised in a worker).
 * arg is NULL when arg_size is 0, result when result_size is 0. In a
 * process pool it runs in another process: what it writes outside `result`
 * stays there, and what it prints is flushed after each chunk. It must not
 * call exit() (the worker leaves at once, reported as such), nor leave a
 * child of its own running (the map learns of a death only when it ends). */
typedef int pool_fn(const void *arg, void *result);

#define POOL_MAX_WORKERS 1024 /* more is refused with EINVAL */

/* Start `workers` workers; < 1: the CPUs this process may run on (as
 * os.process_cpu_count()). Process workers are forked once, after stdio is
 * flushed, and reused by every map; their channels are never on fds 0-2;
 * they die with the thread that opened the pool. NULL with errno set
 * (EINVAL, ENOMEM, EAGAIN, ...), and nothing left behind. */
struct pool *pool_open(enum pool_kind kind, int workers);

/* Apply fn to each of n arguments (args[i] at args + i * arg_size) and
 * store result i at results + i * result_size, whatever order the workers
 * finish in; block until every item is done. Work goes out in chunks of
 * `chunksize` items, each to whichever worker is idle; 0 is CPython's
 * chunksize=None, ceil(n / (4 * workers)).
 *
 * 0 when every task returned 0. Otherwise CPython's semantics
 * (Lib/multiprocessing/pool.py, 3.11): a chunk stops at its first failing
 * item (mapstar), the map still waits for every chunk, and the error
 * returned is the first failure to arrive (MapResult._set), with words:
 * "item 7 failed: Numerical argument out of domain (2 items failed in all,
 * 5 not run)". Beyond CPython, items that succeeded keep their results;
 * one with none (failed, never run, lost) holds zeros; a map that fails as
 * a whole (poll, memory) returns that errno with every result zeroed.
 *
 * A process worker that dies during a map loses the items it held: they
 * fail with EPIPE (ENOMEM if it had no memory for the chunk) and the words
 * say how it died ("killed by signal 9"); the other items complete, a new
 * worker takes its place. One started during the map that dies before
 * finishing anything is replaced only after the map: what no worker is
 * left for fails with its cause ("no worker left: ..."), never a loop of
 * forks.
 *
 * EINVAL: "Pool not running" after close or terminate; NULL fn, NULL
 * arrays with sizes > 0, sizes no array can have. n == 0 returns 0. */
int pool_map(struct pool *pool, pool_fn *fn,
             const void *args, size_t arg_size,
             void *results, size_t result_size,
             size_t n, size_t chunksize);

/* No more maps; workers leave once idle (each process worker gets a stop
 * message, CPython's sentinel). Returns 0, also when not running. */
int pool_close(struct pool *pool);

/* Stop now: processes get SIGTERM (and SIGCONT); threads leave after the
 * item in hand. Twice is harmless. Returns 0. */
int pool_terminate(struct pool *pool);

/* Wait for every worker to leave and reap it; before close or terminate:
 * EINVAL, "Pool is still running". */
int pool_join(struct pool *pool);

/* Terminate if still running, join, release: the end of a `with` block.
 * NULL does nothing. */
void pool_free(struct pool *pool);

/* The number of workers; -1 and errno EPERM (not the owner), EINVAL. */
int pool_workers(const struct pool *pool);

/* Words for the last failure; "" after a success; valid until the next
 * call. NULL: this thread's last failed pool_open_start, or "no pool". */
const char *pool_error(const struct pool *pool);

int pool_cpu_count(void);                       /* at least 1 */
size_t pool_default_chunksize(size_t n, int workers); /* the rule above */
long pool_spin_us(void);   /* POOL_SPIN_US as a pool opened now reads it */
const char *pool_kind_name(enum pool_kind kind); /* "processes", "threads" */
/* A wait status in words ("was killed by signal 9 (Killed)"), in buf. */
char *pool_describe_status(int status, char *buf, size_t len);

/* ---- start methods: multiprocessing's contexts --------------------------
 *
 *     if __name__ == "__main__":          int main(void) { POOL_MAIN(tasks);
 *         ctx = get_context("spawn")
 *         with ctx.Pool(2) as pool:           pool_open_start(POOL_PROCESSES, 2,
 *                                                             POOL_START_SPAWN);
 *
 * fork: workers are copies of the caller (pool_open). spawn: each worker
 * is a fresh image of the program, which runs main() and becomes a worker
 * in pool_main(). forkserver: one fresh image forks them all. Under both, a
 * task travels by its place in pool_main's table (pickling by name): one
 * not in it fails the map with EINVAL. Thread pools ignore the method. */
enum pool_start { POOL_START_FORK, POOL_START_SPAWN, POOL_START_FORKSERVER };

/* pool_open with a start method; also EINVAL for an unknown one, and for
 * spawn or forkserver before pool_main() or under the dynamic loader. */
struct pool *pool_open_start(enum pool_kind kind, int workers,
                             enum pool_start start);

struct pool_task {
    const char *name;
    pool_fn *fn;
};
#define POOL_TASK(fn) { #fn, fn }

/* First in main(), with every task mapped on a spawn or forkserver pool, in
 * a table that outlives every pool. In the program it returns; in a worker
 * or the fork server (a role the environment names, believed only when
 * descriptor 3 proves it) it never returns. */
void pool_main(const struct pool_task *tasks, size_t ntasks);
#define POOL_MAIN(table) pool_main((table), sizeof(table) / sizeof (table)[0])

/* "fork", "spawn", "forkserver"; and back: 0, or EINVAL. */
const char *pool_start_name(enum pool_start start);
int pool_start_parse(const char *name, enum pool_start *start);

#endif
