/* pool/start.h - how process_pool.c starts, waits for and feeds workers
 * under each start method (fork, spawn, forkserver), as start.c does it.
 *
 * process_pool.c owns the channels and the protocol; start.c owns what
 * differs between the methods: where a worker comes from, who reaps it,
 * and how a task is named on the wire. See start.c for the whole story.
 */
#ifndef POOL_START_H
#define POOL_START_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pool.h"

/* On the wire, in place of a task's index: "use the function pointer", which
 * only a worker forked from the program itself can do. */
#define POOL_TASK_NONE ((size_t)-1)

/* May a pool of this kind be opened with this method now? 0, or EINVAL
 * (an unknown method, or spawn/forkserver before pool_main) with the words
 * left for pool_error(NULL). Clears those words first. */
int start_check(enum pool_kind kind, enum pool_start start);

/* The words of the last failed pool_open of this thread ("" if none). */
const char *start_open_error(void);

/* Start a spawn or forkserver worker whose end of the channel is child_fd.
 * Returns its pid, or -1 with errno set (and the words for
 * pool_error(NULL)). The caller still closes child_fd afterwards. */
pid_t start_worker(enum pool_start start, int child_fd);

/* Wait for a worker started by `start` to end, at most timeout_ms (< 0:
 * for as long as it takes), and store its wait status in *status (may be
 * NULL). Returns 0, ETIMEDOUT when it still runs, or another errno value:
 * ECHILD when nobody can tell any more (the caller reaped it, or its fork
 * server is gone). */
int wait_worker(enum pool_start start, pid_t pid, int *status, int timeout_ms);

/* The parent's side of "pickling": the index of fn in pool_main's table,
 * POOL_TASK_NONE for a fork pool (the pointer travels). Returns 0, or EINVAL
 * with the words in buf when fn is not in the table. */
int start_task_index(enum pool_start start, pool_fn *fn, size_t *index,
                     char *buf, size_t len);

/* The worker's side: the function to run for what arrived. */
pool_fn *start_task_fn(pool_fn *fn, size_t index);

/* Register start.c's fork handlers. process_pool.c calls this before
 * registering its own, so that every fork takes the two locks in one order
 * (its all_lock first, as its pp_start_slot() does). */
void start_atfork(void);

/* process_pool.c's: fd moved to 3 or above (close-on-exec), the original
 * closed; -1 with errno set. No channel may sit on stdin, stdout, stderr. */
int pp_above_stdio(int fd);

/* process_pool.c's worker: set up to die with `parent`, then serve the
 * channel on fd until the pool lets it go. Every worker ends here. */
_Noreturn void pp_worker_main(int fd, pid_t parent);

#endif
