/* common/tasks.h - the tasks the programs map, each written once.
 *
 * Each is a pool_fn (see pool/pool.h): read one argument, write one result,
 * return 0 or an errno value.
 */
#ifndef COMMON_TASKS_H
#define COMMON_TASKS_H

#include <stdint.h>

/* The tutorial's square, partial(pow, 2): the argument a long i, the result
 * the double 2.0 ** i. */
int square_task(const void *arg, void *result);

/* time.sleep(seconds): the argument a double, no result. A signal's
 * interruption sleeps the rest. Returns 0, or the errno of nanosleep. */
int sleep_task(const void *arg, void *result);

/* Where a program shows which worker ran each item (basic --who, shared
 * --copies and --explicit), each item also sleeps this long. A factorial or
 * an append takes nanoseconds, less than waking a worker: without the
 * sleep the worker that was awake takes the whole map before the other is
 * up, so the split would show one worker (CPython's Pool(2) does the same
 * with fast items, docs/basic.md). 5 ms keeps every worker busy while the
 * next chunk is free. Build with -DITEM_SLEEP_MS=0 to see the fast map. */
#ifndef ITEM_SLEEP_MS
#define ITEM_SLEEP_MS 5
#endif

/* A worker sleeps on its first ITEM_SLEEP_ITEMS items only: by then every
 * worker is up and has a chunk, and a big map (shared --copies -n 1000000)
 * costs at most 0.1 s a worker more, not an hour. */
#define ITEM_SLEEP_ITEMS 20

/* Sleep ITEM_SLEEP_MS, in a task whose worker is shown, for the first
 * ITEM_SLEEP_ITEMS calls in this thread (a pool's worker thread, or a
 * worker process's one thread: each new worker starts counting at 0).
 * Returns 0, or the errno of nanosleep. */
int item_sleep(void);

/* `iters` rounds of xorshift64 from x: a chain of dependent steps that no
 * compiler can fold or vectorise, so its time is pure computation on one
 * core. */
uint64_t xorshift(uint64_t x, uint64_t iters);

/* How many rounds of xorshift take about `seconds` here: doubled until a
 * run lasts 20 ms, then the fastest of three runs of that size scaled (the
 * fastest, because another program on the CPU only ever adds time).
 * Measured, so it holds on a slow machine and under a sanitizer alike. */
uint64_t xorshift_rounds_for(double seconds);

#endif
