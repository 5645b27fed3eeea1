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
