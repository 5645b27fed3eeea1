/* gil_sim/gil.c - the simulated GIL: take_gil, drop_gil, drop requests.
 *
 * Shows: how CPython shares one lock between threads (take_gil and drop_gil
 * in Python/ceval_gil.h, 3.2 to 3.11; Python/ceval_gil.c from 3.12)
 * that never give it up by themselves. A thread that wants the lock waits
 * on a condition variable for one switch interval at a time; when a whole
 * interval passes with no switch, it sets the drop-request bit in the
 * holder's eval_breaker. The holder sees the bit at its next back edge and
 * drops the lock. With forced switching, it then waits until another thread
 * really holds it: on a multicore machine the dropper, still running, would
 * otherwise take the free lock again before the woken waiter gets a CPU.
 *
 * Try: gil_sim/gil_sim --workload cpu --mode gil --timeline, then with
 * --no-force-switching: one thread keeps the lock for long stretches, and
 * the switches column drops. Why?
 *
 * See also: gil.h (the contract), docs/gil_sim.md.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "gil.h"

/* Shorthands: the lock's flags are read and written relaxed, as CPython's
 * _Py_atomic_*_relaxed; the mutexes order everything that matters. */
#define LOAD(p) atomic_load_explicit((p), memory_order_relaxed)
#define STORE(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)

int gil_create(struct gil *gil, unsigned long interval, int enabled,
               int force_switching)
{
    pthread_condattr_t attr;
    int err;

    STORE(&gil->interval, interval >= 1 ? interval : 1);
    STORE(&gil->last_holder, (struct gil_tstate *)0);
    STORE(&gil->locked, 0);
    gil->switch_number = 0;
    gil->force_switching = force_switching;
    gil->enabled = enabled;
    gil->drop_requests = 0;
    gil->forced_switches = 0;

    err = pthread_condattr_init(&attr);
    if (err)
        return err;
    err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (err)
        goto out_attr;
    err = pthread_mutex_init(&gil->mutex, NULL);
    if (err)
        goto out_attr;
    err = pthread_cond_init(&gil->cond, &attr);
    if (err)
        goto out_mutex;
    err = pthread_mutex_init(&gil->switch_mutex, NULL);
    if (err)
        goto out_cond;
    err = pthread_cond_init(&gil->switch_cond, NULL);
    if (err)
        goto out_switch_mutex;
    pthread_condattr_destroy(&attr);
    return 0;

out_switch_mutex:
    pthread_mutex_destroy(&gil->switch_mutex);
out_cond:
    pthread_cond_destroy(&gil->cond);
out_mutex:
    pthread_mutex_destroy(&gil->mutex);
out_attr:
    pthread_condattr_destroy(&attr);
    return err;
}

void gil_destroy(struct gil *gil)
{
    /* Conditions first: some implementations tie a cond to its mutex. */
    pthread_cond_destroy(&gil->switch_cond);
    pthread_mutex_destroy(&gil->switch_mutex);
    pthread_cond_destroy(&gil->cond);
    pthread_mutex_destroy(&gil->mutex);
}

void gil_tstate_init(struct gil_tstate *tstate, struct gil *gil)
{
    tstate->gil = gil;
    STORE(&tstate->eval_breaker, 0u);
    tstate->holds_gil = 0;
}

/* Wait on cond for `us` microseconds of CLOCK_MONOTONIC. Sets *timed_out.
 * Returns 0 or an error number other than ETIMEDOUT. */
static int cond_timed_wait(pthread_cond_t *cond, pthread_mutex_t *mutex,
                           unsigned long us, int *timed_out)
{
    struct timespec deadline;
    int err;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(us / 1000000);
    deadline.tv_nsec += (long)(us % 1000000) * 1000;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    err = pthread_cond_timedwait(cond, mutex, &deadline);
    *timed_out = (err == ETIMEDOUT);
    return err == ETIMEDOUT ? 0 : err;
}

int take_gil(struct gil_tstate *tstate)
{
    struct gil *gil = tstate->gil;
    int err;

    if (!gil->enabled)
        return 0;

    err = pthread_mutex_lock(&gil->mutex);
    if (err)
        return err;

    while (LOAD(&gil->locked)) {
        unsigned long saved_switchnum = gil->switch_number;
        int timed_out;

        err = cond_timed_wait(&gil->cond, &gil->mutex, LOAD(&gil->interval),
                              &timed_out);
        if (err)
            goto out;

        /* A whole interval and still the same holder: ask it to drop. A
         * switch in the meantime means someone else was served, so this
         * thread waits a fresh interval before it complains. */
        if (timed_out && LOAD(&gil->locked)
            && gil->switch_number == saved_switchnum) {
            struct gil_tstate *holder = LOAD(&gil->last_holder);

            /* Locked means taken, and a taker always names itself. */
            assert(holder != NULL);
            atomic_fetch_or_explicit(&holder->eval_breaker,
                                     GIL_DROP_REQUEST_BIT,
                                     memory_order_relaxed);
            gil->drop_requests++;
        }
    }

    /* last_holder changes under switch_mutex: a forced dropper reads it
     * there just before it goes to sleep, and must not miss the change. */
    if (gil->force_switching) {
        err = pthread_mutex_lock(&gil->switch_mutex);
        if (err)
            goto out;
    }
    STORE(&gil->locked, 1);
    if (LOAD(&gil->last_holder) != tstate) {
        STORE(&gil->last_holder, tstate);
        gil->switch_number++;
    }
    if (gil->force_switching) {
        pthread_cond_signal(&gil->switch_cond);
        pthread_mutex_unlock(&gil->switch_mutex);
    }

    tstate->holds_gil = 1;
    /* A request made to an earlier turn of ours is stale now. */
    atomic_fetch_and_explicit(&tstate->eval_breaker, ~GIL_DROP_REQUEST_BIT,
                              memory_order_relaxed);
out:
    pthread_mutex_unlock(&gil->mutex);
    return err;
}

int drop_gil(struct gil_tstate *tstate, int final_release)
{
    struct gil *gil = tstate->gil;
    int err;

    if (!gil->enabled)
        return 0;
    if (!tstate->holds_gil || !LOAD(&gil->locked))
        return EPERM;

    err = pthread_mutex_lock(&gil->mutex);
    if (err)
        return err;
    tstate->holds_gil = 0;
    STORE(&gil->locked, 0);
    pthread_cond_signal(&gil->cond);
    pthread_mutex_unlock(&gil->mutex);

    if (final_release || !gil->force_switching || !gil_drop_requested(tstate))
        return 0;

    /* We were asked to drop: stay off the lock until the thread that asked
     * (or any other) has it. The requester is blocked in take_gil and only
     * leaves it holding the lock, so this wait ends. CPython waits once and
     * accepts a spurious wake-up; the loop makes the wait exact. */
    err = pthread_mutex_lock(&gil->switch_mutex);
    if (err)
        return err;
    if (LOAD(&gil->last_holder) == tstate) {
        atomic_fetch_and_explicit(&tstate->eval_breaker,
                                  ~GIL_DROP_REQUEST_BIT, memory_order_relaxed);
        gil->forced_switches++;
        while (!err && LOAD(&gil->last_holder) == tstate)
            err = pthread_cond_wait(&gil->switch_cond, &gil->switch_mutex);
    }
    pthread_mutex_unlock(&gil->switch_mutex);
    return err;
}
