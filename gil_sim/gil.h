/* gil_sim/gil.h - CPython's global interpreter lock, rebuilt with pthreads.
 *
 * Shows: the "new GIL" of CPython 3.2 and later, with CPython's own names,
 * so a reader can hold this next to the real file: Python/ceval_gil.h in
 * 3.2 to 3.11, Python/ceval_gil.c from 3.12 on. The policy (timed waits,
 * drop requests, forced switching) is the same in all of them.
 *
 *   struct gil          _gil_runtime_state: locked, last_holder,
 *                       switch_number, interval, mutex + cond, and for
 *                       forced switching switch_mutex + switch_cond
 *   struct gil_tstate   the part of PyThreadState the lock uses:
 *                       eval_breaker and holds_gil (as in 3.13 and later)
 *   take_gil()          wait in slices of `interval`; when a slice passes
 *                       with no switch, set the drop request on the holder
 *   drop_gil()          release; if asked to drop, wait until another
 *                       thread has really taken the lock (FORCE_SWITCHING)
 *   gil_drop_requested  what the bytecode loop tests at each back edge
 *
 * Where the drop request lives depends on the version: from 3.13 it is a
 * bit in the holder's own eval_breaker (_PY_GIL_DROP_REQUEST_BIT), as here;
 * before 3.13 one request was shared by all the threads of an interpreter
 * (in 3.11, the gil_drop_request flag of Python/ceval_gil.h), read by
 * whichever thread held the lock and cleared by the next one to take it.
 * Only the holder acts on it, so both say the same thing: "the thread
 * holding the lock, drop it".
 *
 * A thread that holds the lock runs "bytecode" and looks at its own
 * eval_breaker at every back edge; when the drop-request bit is set it calls
 * drop_gil() then take_gil(), as CPython's _Py_HandlePending() does (3.12
 * on; eval_frame_handle_pending() in Python/ceval.c before). Around
 * a blocking call it calls drop_gil() and take_gil() too: that pair is
 * Py_BEGIN_ALLOW_THREADS / Py_END_ALLOW_THREADS.
 *
 * Free-threaded builds (PEP 703) are modelled by a lock created with
 * enabled = 0: take_gil() and drop_gil() then do nothing.
 *
 * Errors: the functions return 0 or an error number from pthreads. Nothing
 * here prints or exits (CPython calls Py_FatalError instead).
 *
 * See also: gil_sim.c (the threads that use it), docs/gil_sim.md.
 */
#ifndef GIL_SIM_GIL_H
#define GIL_SIM_GIL_H

#include <pthread.h>
#include <stdatomic.h>

/* sys.getswitchinterval() is 0.005 s by default. */
#define GIL_DEFAULT_INTERVAL 5000

/* One bit of eval_breaker, as _PY_GIL_DROP_REQUEST_BIT. CPython keeps other
 * requests in the same word (signals, pending calls, GC); we need only this. */
#define GIL_DROP_REQUEST_BIT 1u

struct gil_tstate;

struct gil {
    /* Microseconds a waiter lets pass before it asks the holder to drop. */
    atomic_ulong interval;
    /* The thread holding, or that last held, the lock: a taker that finds
     * it is someone else counts a switch, and a forced dropper waits for it
     * to change. Atomic because drop_gil reads it under switch_mutex only. */
    _Atomic(struct gil_tstate *) last_holder;
    /* The lock itself is this flag; mutex guards it, cond announces drops. */
    atomic_int locked;
    /* Times the holder changed. Guarded by mutex. */
    unsigned long switch_number;
    pthread_mutex_t mutex;
    pthread_cond_t cond;

    /* FORCE_SWITCHING: a forced dropper sleeps on switch_cond until a taker
     * changes last_holder. CPython fixes it at compile time; here it is a
     * switch so that you can see what goes wrong without it. */
    int force_switching;
    pthread_mutex_t switch_mutex;
    pthread_cond_t switch_cond;

    /* 0: a free-threaded build; take_gil and drop_gil do nothing. */
    int enabled;

    /* Not in CPython: counters for the report. drop_requests: requests
     * made (guarded by mutex). forced_switches: drops that had to wait for
     * the switch, the new holder not being in yet (by switch_mutex). */
    unsigned long drop_requests;
    unsigned long forced_switches;
};

struct gil_tstate {
    struct gil *gil;
    /* Requests to this thread, set by other threads; read at back edges. */
    atomic_uint eval_breaker;
    /* Read and written by the owning thread only. */
    int holds_gil;
};

/* Make `gil` a released lock with the given switch interval (microseconds,
 * at least 1), enabled or not (free-threaded), with forced switching or not.
 * Timed waits use CLOCK_MONOTONIC, so a change of the wall clock cannot
 * stretch or cut a slice. Returns 0, or an error number with nothing left
 * to destroy. */
int gil_create(struct gil *gil, unsigned long interval, int enabled,
               int force_switching);

/* Release what gil_create made. No thread may be using the lock. */
void gil_destroy(struct gil *gil);

/* Attach a thread's state to a lock; the thread starts without it. */
void gil_tstate_init(struct gil_tstate *tstate, struct gil *gil);

/* Block until this thread holds the lock (see the header comment for the
 * policy). On return the thread's drop request is cleared. Returns 0, or an
 * error number and the thread does not hold the lock. */
int take_gil(struct gil_tstate *tstate);

/* Release the lock this thread holds and wake a waiter. Unless
 * final_release, if another thread asked for the lock, wait until one has
 * taken it. final_release says this thread will not take it again (a
 * thread's last release, when it ends), as in CPython 3.13; 3.12 passes a
 * NULL thread state for it, and 3.11 has neither, so there a thread that
 * ends may wait for a switch too. Returns 0, or an error number (EPERM:
 * this thread does not hold the lock). */
int drop_gil(struct gil_tstate *tstate, int final_release);

/* Has another thread asked this one to drop the lock? Cheap enough for
 * every back edge: one relaxed load, as CPython's eval loop does. */
static inline int gil_drop_requested(struct gil_tstate *tstate)
{
    return (atomic_load_explicit(&tstate->eval_breaker, memory_order_relaxed)
            & GIL_DROP_REQUEST_BIT) != 0;
}

#endif
