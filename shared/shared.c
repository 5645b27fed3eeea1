/* shared/shared.c - threads share memory, processes do not (unless asked).
 *
 * Shows: the section "Threads or processes". A pool of processes maps an
 * "append to the list" task over 0..19, and the parent's list stays empty:
 * each worker is a fork()ed copy and appends to its own copy of the list.
 * A pool of threads maps the same task, and the parent sees all twenty.
 * main() reads like the Python program: make a list, open a pool, map
 * `append` over the numbers, print the list; once per kind of pool.
 *
 * Usage: shared [-n N] [-w N] [--start M] [--copies] [--explicit]
 *               [--race [--runs R] [--race-items M]] [--fork-lock]
 *
 * Try (from the project root):
 *   shared/shared               the tutorial's two lines; run it a few
 *                               times: the thread list's order can change
 *   shared/shared --copies      the process workers did append, each to
 *                               its own copy: how many items each holds
 *   shared/shared --explicit    the list in memory the processes share on
 *                               purpose (mmap MAP_SHARED): the parent sees
 *   shared/shared --race        threads appending without the lock lose
 *                               appends; with -w 1 nothing is lost
 *   shared/shared --fork-lock   a lock held by another thread at fork
 *                               stays locked in every worker; then the
 *                               same with --start spawn: it does not
 *   Then take the lock out of list_append() and build with
 *   SANITIZE=thread: ThreadSanitizer names the data race that --race
 *   shows without undefined behaviour.
 *
 * See also: docs/shared.md, pool/pool.h, gil_sim/ (why Python's
 * list.append needs no lock of yours).
 */
/* MAP_ANONYMOUS is not in POSIX 2008 (it is in POSIX 2024); every Unix
 * this suite runs on has it, and glibc shows it with _DEFAULT_SOURCE. */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "err.h"
#include "pool.h"
#include "poolrun.h"
#include "pylist.h"
#include "tasks.h"

static const char usage[] =
    "usage: shared [-n N] [-w N] [--start M] [--copies] [--explicit]\n"
    "              [--race [--runs R] [--race-items M]] [--fork-lock]\n"
    "  Append 0..N-1 to a list from a pool of processes, then of threads,\n"
    "  and print the list each time: the processes' appends are not seen.\n"
    "  -n, --items N      how many numbers to append (default 20)\n"
    "  -w, --workers N    workers per pool (default: the CPUs we may use)\n"
    "      --start M      how process pools start their workers: fork\n"
    "                     (default, as the tutorial), spawn or forkserver\n"
    "      --copies       also show what each process worker's own copy holds\n"
    "      --explicit     also append from processes into memory they share\n"
    "                     on purpose (mmap MAP_SHARED, a process-shared lock)\n"
    "                     (with either, a process worker's first 20 appends\n"
    "                     sleep 5 ms each, so that every worker gets some)\n"
    "      --race         also append from threads without the lock and count\n"
    "                     the appends that were lost\n"
    "      --runs R       --race: how many runs (default 5)\n"
    "      --race-items M --race: appends per run (default 100000)\n"
    "      --fork-lock    also: a lock held by another thread while the pool\n"
    "                     starts its workers, as each worker then finds it\n"
    "  -h, --help         this text\n";

/* ------------------------------------------------------------------------
 * The list: what Python's `shared = []` is, for our purpose.
 *
 * A fixed capacity (every map appends at most n items), so an append never
 * reallocates: the same struct works on the heap and in an mmap()ed region.
 * Each entry remembers which process appended it, for --explicit.
 */
struct entry {
    long long value;
    pid_t by;
};

struct list {
    pthread_mutex_t lock;   /* Python's GIL makes list.append atomic; C needs this */
    bool mapped;            /* in an mmap()ed region, not on the heap */
    size_t len, cap;
    struct entry items[];
};

/* A new empty list for up to cap items on the heap, with an ordinary
 * mutex: shared by the threads of this process, copied by fork(). */
static struct list *list_new(size_t cap)
{
    struct list *l = malloc(sizeof *l + cap * sizeof l->items[0]);
    int err;

    if (!l)
        die("malloc: a list of %zu items", cap);
    err = pthread_mutex_init(&l->lock, NULL);
    if (err)
        die_en(err, "pthread_mutex_init");
    l->mapped = false;
    l->len = 0;
    l->cap = cap;
    return l;
}

/* A new empty list for up to cap items in memory that fork() does not
 * copy: mmap(MAP_SHARED | MAP_ANONYMOUS) gives pages that parent and
 * children keep sharing. Its lock must say so too (PTHREAD_PROCESS_SHARED),
 * and it is robust: if a worker dies holding it, the next one to lock it is
 * told (EOWNERDEAD) instead of waiting forever. Make it before the pool's
 * workers are forked, or they do not have it. */
static struct list *list_new_shared(size_t cap)
{
    size_t size = sizeof(struct list) + cap * sizeof(struct entry);
    pthread_mutexattr_t attr;
    struct list *l;
    int err;

    l = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (l == MAP_FAILED)
        die("mmap: %zu bytes of shared memory", size);
    err = pthread_mutexattr_init(&attr);
    if (!err)
        err = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (!err)
        err = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (!err)
        err = pthread_mutex_init(&l->lock, &attr);
    if (err)
        die_en(err, "a process-shared mutex");
    pthread_mutexattr_destroy(&attr);
    l->mapped = true;
    l->len = 0;
    l->cap = cap;
    return l;
}

/* Release a list made by list_new or list_new_shared. */
static void list_free(struct list *l)
{
    pthread_mutex_destroy(&l->lock);
    if (l->mapped)
        munmap(l, sizeof *l + l->cap * sizeof l->items[0]);
    else
        free(l);
}

/* Lock the list. Returns 0 or an error number. A robust lock whose holder
 * died is taken over: the list is still whole, because an append writes
 * its entry before it counts it, so a death in between loses only that
 * item. (An ordinary mutex never reports EOWNERDEAD.) */
static int list_lock(struct list *l)
{
    int err = pthread_mutex_lock(&l->lock);

    if (err == EOWNERDEAD)
        err = pthread_mutex_consistent(&l->lock);
    return err;
}

/* list.append(value): returns the new length, or 0 with errno set when the
 * list is full (it cannot be: the caller sizes it) or the lock fails. */
static size_t list_append(struct list *l, long long value)
{
    size_t len;
    int err = list_lock(l);

    if (err) {
        errno = err;
        return 0;
    }
    len = l->len;
    if (len < l->cap) {
        l->items[len].value = value;
        l->items[len].by = getpid();
        l->len = ++len;
    } else {
        len = 0;
        errno = ENOSPC;
    }
    pthread_mutex_unlock(&l->lock);
    return len;
}

/* print(list): "[...]" and a newline, in the order the items were appended.
 * Read under the lock, so the reader sees every append that finished. */
static void list_print(struct list *l)
{
    long long *values;
    int err = list_lock(l);

    if (err)
        die_en(err, "locking the list");
    values = malloc((l->len ? l->len : 1) * sizeof *values);
    if (!values)
        die("malloc");
    for (size_t i = 0; i < l->len; i++)
        values[i] = l->items[i].value;
    pylist_print(stdout, values, l->len);
    putchar('\n');
    pthread_mutex_unlock(&l->lock);
    free(values);
}

/* ------------------------------------------------------------------------
 * The task: `shared.append`, as pool.map(shared.append, range(n)) passes it.
 *
 * The task reaches the list through this pointer, set before the pool is
 * opened. In a forked worker it points into the worker's copy of the
 * parent's memory (made by fork() at pool_open), so the appends land there.
 * A spawned worker (--start spawn or forkserver) is a fresh image of the
 * program: nothing the parent set up exists there, and the pointer is
 * NULL. Its first task makes the worker a list of its own, as a spawned
 * Python child runs the module's `shared = []` again on import.
 */
static struct list *shared;

/* The capacity of a list made in a fresh worker, which cannot know n: the
 * most --items allows. Pages are touched only as items are appended. */
#define FRESH_LIST_CAP 1000000

/* For --copies: who ran the task, and the length of the list it saw.
 * A process worker sends all its bytes back to the parent: two fields of
 * the same width leave no padding, so no uninitialised byte travels. */
struct witness {
    long pid;
    size_t len;
    long fresh;     /* 1: the worker made its list itself (a fresh image) */
};

/* Append the argument to `shared`. result is NULL (result_size 0), or a
 * struct witness for --copies. */
static int append(const void *arg, void *result)
{
    static bool made_here;

    if (!shared) {
        shared = list_new(FRESH_LIST_CAP); /* a spawned worker: see above */
        made_here = true;
    }
    size_t len = list_append(shared, *(const long long *)arg);

    if (len == 0)
        return errno;
    if (result) {
        struct witness *w = result;
        w->pid = (long)getpid();
        w->len = len;
        w->fresh = made_here;
    }
    return 0;
}

/* --copies and --explicit: the same append after a short sleep
 * (item_sleep in common/tasks.h: without it the worker that was awake
 * makes every append before the other wakes up, and the split between the
 * workers would show one of them). */
static int append_shown(const void *arg, void *result)
{
    int err = item_sleep();

    return err ? err : append(arg, result);
}

/* 0, 1, ..., n-1: Python's range(n), as an array to map over. */
static long long *range(size_t n)
{
    long long *v = malloc((n ? n : 1) * sizeof *v);

    if (!v)
        die("malloc: range(%zu)", n);
    for (size_t i = 0; i < n; i++)
        v[i] = (long long)i;
    return v;
}

/* with Pool() as pool: pool.map(fn, args); with results when results is
 * not NULL. A failed open or map ends the program (exit 1). */
static void map_with_pool(enum pool_kind kind, int workers, pool_fn *fn,
                          const long long *args, void *results,
                          size_t result_size, size_t n)
{
    char what[32];
    struct pool *pool = open_or_die(kind, workers);

    snprintf(what, sizeof what, "pool of %s", pool_kind_name(kind));
    map_or_die(pool, what, fn, args, sizeof *args, results, result_size, n, 0);
    pool_free(pool);
}

/* Find pid among the k pids seen so far, or add it with a value of 0.
 * Returns its index. (A handful of workers: a linear search will do.) */
static size_t pid_slot(long *pids, size_t *values, size_t *k, long pid)
{
    size_t j = 0;

    while (j < *k && pids[j] != pid)
        j++;
    if (j == *k) {
        pids[j] = pid;
        values[j] = 0;
        (*k)++;
    }
    return j;
}

/* ------------------------------------------------------------------------
 * --copies: the process workers did append, each to its own copy.
 *
 * Each task reports its pid and the length of the list it appended to.
 * A worker's copy started empty (it was forked from the parent's empty
 * list) and only that worker appends to it, so the largest length a worker
 * reports is what its copy holds at the end. The copies add up to n; the
 * parent's list, printed just before, holds none of it.
 */
static void show_copies(const struct witness *w, size_t n)
{
    long *pids = malloc((n ? n : 1) * sizeof *pids);
    size_t *held = malloc((n ? n : 1) * sizeof *held);
    size_t k = 0, total = 0;

    if (!pids || !held)
        die("malloc");
    for (size_t i = 0; i < n; i++) {
        size_t j = pid_slot(pids, held, &k, w[i].pid);

        if (w[i].len > held[j])
            held[j] = w[i].len;
    }
    if (n && w[0].fresh)
        printf("  each worker process appended to a list it made itself: a\n"
               "  fresh image of the program has no list from the parent:\n");
    else
        printf("  each worker process appended to its own copy of the list:\n");
    for (size_t j = 0; j < k; j++) {
        printf("    worker pid %ld: its %s holds %zu\n", pids[j],
               w[0].fresh ? "list" : "copy", held[j]);
        total += held[j];
    }
    printf("  %zu in all; the parent's list holds %zu\n", total, shared->len);
    free(held);
    free(pids);
}

/* ------------------------------------------------------------------------
 * --explicit: processes that share on purpose.
 *
 * The same task, the same list, but the list lives in a MAP_SHARED mapping
 * made before the pool's workers are forked: their appends land in pages
 * the parent sees. Afterwards, say which processes did the appending.
 */
static void explicit_sharing(int workers, const long long *args, size_t n)
{
    long *pids = malloc((n ? n : 1) * sizeof *pids);
    size_t *count = malloc((n ? n : 1) * sizeof *count);
    size_t k = 0, mine = 0;

    if (!pids || !count)
        die("malloc");
    shared = list_new_shared(n);
    map_with_pool(POOL_PROCESSES, workers, append_shown, args, NULL, 0, n);
    printf("Processes, the list in shared memory (mmap MAP_SHARED, with a\n"
           "process-shared mutex):\n");
    list_print(shared);

    for (size_t i = 0; i < shared->len; i++) {
        if (shared->items[i].by == getpid())
            mine++;
        else
            count[pid_slot(pids, count, &k, (long)shared->items[i].by)]++;
    }
    for (size_t j = 0; j < k; j++)
        printf("  appended by worker pid %ld: %zu\n", pids[j], count[j]);
    if (k == 0)
        printf("  appended by no worker process\n");
    printf("  appended by the parent (pid %ld): %zu\n", (long)getpid(), mine);
    list_free(shared);
    shared = NULL;
    free(count);
    free(pids);
}

/* ------------------------------------------------------------------------
 * --race: threads appending without the lock.
 *
 * An append is three steps: read the length, write the item at that index,
 * store length + 1. Two threads that read the same length write the same
 * slot and store the same new length: one append is lost. Worse, a thread
 * preempted between its read and its store stores a stale length and so
 * undoes every append the other threads made meanwhile. Python's
 * list.append cannot be cut in the middle like this, because the GIL is
 * held across it; a C list needs the lock in list_append().
 *
 * Each step here is a separate relaxed atomic operation: the lost updates
 * are real, but there is no data race in the C sense (so no undefined
 * behaviour) and ThreadSanitizer stays quiet. A read-add-store written with
 * plain size_t would be undefined behaviour; atomic_fetch_add would make
 * the append atomic and lose nothing.
 *
 * The busy loop between reading and storing the length stands for the
 * work a real append does there (growing the array, say); it widens the
 * window so that losses are likely even on two cores.
 */
struct racy_list {
    atomic_size_t len;
    size_t cap;
    atomic_llong *items;   /* atomic: two threads may write the same slot */
};

static struct racy_list racy;

/* Iterations of the busy loop between the load and the store. */
#ifndef RACE_WINDOW
#define RACE_WINDOW 200
#endif

/* Append without a lock; see above. The length never exceeds the number of
 * appends done (each store writes one more than a length read earlier), so
 * an index beyond cap means a bug here: fail the task instead of writing
 * out of bounds. */
static int append_unlocked(const void *arg, void *result)
{
    size_t len = atomic_load_explicit(&racy.len, memory_order_relaxed);

    (void)result;
    for (volatile int i = 0; i < RACE_WINDOW; i++) {
    }
    if (len >= racy.cap)
        return ENOSPC;
    atomic_store_explicit(&racy.items[len], *(const long long *)arg,
                          memory_order_relaxed);
    atomic_store_explicit(&racy.len, len + 1, memory_order_relaxed);
    return 0;
}

/* Map append_unlocked over 0..m-1, `runs` times, each from an empty list,
 * and report how many appends each run kept; then once with the lock. */
static void race(int workers, long runs, size_t m)
{
    long long *args = range(m);
    unsigned long long lost_all = 0;
    long runs_lost = 0;

    racy.cap = m;
    racy.items = malloc(m * sizeof *racy.items);
    if (!racy.items)
        die("malloc: %zu items", m);
    printf("Threads appending without the lock: %d thread%s, %zu appends a run, "
           "%ld run%s\n", workers, workers == 1 ? "" : "s", m, runs, runs == 1 ? "" : "s");
    for (long r = 1; r <= runs; r++) {
        size_t kept;

        atomic_store_explicit(&racy.len, 0, memory_order_relaxed);
        map_with_pool(POOL_THREADS, workers, append_unlocked, args, NULL, 0, m);
        kept = atomic_load_explicit(&racy.len, memory_order_relaxed);
        printf("run %ld: kept %zu of %zu, lost %zu\n", r, kept, m, m - kept);
        out_check();
        lost_all += m - kept;
        runs_lost += kept < m;
    }

    shared = list_new(m);
    map_with_pool(POOL_THREADS, workers, append, args, NULL, 0, m);
    printf("with the lock: kept %zu of %zu, lost %zu\n", shared->len, m, m - shared->len);
    list_free(shared);
    shared = NULL;

    printf("without the lock: lost %llu of %llu appends; %ld of %ld runs lost some\n",
           lost_all, (unsigned long long)m * (unsigned long long)runs, runs_lost, runs);
    if (lost_all == 0 && workers == 1)
        printf("(one thread cannot race with itself: nothing to lose)\n");
    else if (lost_all == 0)
        printf("(no append was lost this time: the threads never hit the\n"
               "window together; run again, or raise --race-items)\n");
    free(racy.items);
    free(args);
}

/* ------------------------------------------------------------------------
 * --fork-lock: why Python 3.14 no longer forks by default.
 *
 * fork() copies the whole memory of the process, the locks in it too, but
 * only the thread that called fork. A lock that another thread held at
 * that moment is copied locked, and in the child no thread will ever
 * unlock it: the worker that takes it waits forever. (CPython's own locks,
 * logging's or an allocator's, have been caught this way.) A spawned
 * worker, and a worker forked from the fork server, is a fresh image of the
 * program in which no thread ever took the lock.
 *
 * Here a thread of the parent holds `held_at_fork` while the pool starts
 * its workers, then lets it go. Each task tries to take the lock, waiting
 * at most LOCK_WAIT_S, and reports whether it could.
 */
static pthread_mutex_t held_at_fork = PTHREAD_MUTEX_INITIALIZER;

#define LOCK_WAIT_S 0.5

/* The holder's side: lock, say so, wait to be told to let go, unlock. */
static struct {
    pthread_mutex_t m;
    pthread_cond_t cv;
    bool holding, release;
} holder = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false };

static void *hold_lock(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&held_at_fork);
    pthread_mutex_lock(&holder.m);
    holder.holding = true;
    pthread_cond_broadcast(&holder.cv);
    while (!holder.release)
        pthread_cond_wait(&holder.cv, &holder.m);
    pthread_mutex_unlock(&holder.m);
    pthread_mutex_unlock(&held_at_fork);
    return NULL;
}

/* What a task reports: its process and whether it took the lock. */
struct took {
    long pid;
    long took;  /* 1: taken (and let go); 0: still locked after the wait */
};

/* The task: try to take held_at_fork within LOCK_WAIT_S. */
static int take_lock(const void *arg, void *result)
{
    struct took *t = result;
    struct timespec until;

    (void)arg;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += (long)(LOCK_WAIT_S * 1e9);
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int err = pthread_mutex_timedlock(&held_at_fork, &until);
    if (err && err != ETIMEDOUT)
        return err;
    if (!err)
        pthread_mutex_unlock(&held_at_fork);
    t->pid = (long)getpid();
    t->took = !err;
    return 0;
}

static void fork_lock(int workers)
{
    pthread_t thread;
    struct took *took = calloc((size_t)workers, sizeof *took);
    long long *args = range((size_t)workers);
    int err;

    if (!took)
        die("calloc");
    err = pthread_create(&thread, NULL, hold_lock, NULL);
    if (err)
        die_en(err, "pthread_create");
    pthread_mutex_lock(&holder.m);
    while (!holder.holding)
        pthread_cond_wait(&holder.cv, &holder.m);
    pthread_mutex_unlock(&holder.m);

    /* The pool starts its workers while the other thread holds the lock. */
    struct pool *pool = open_or_die(POOL_PROCESSES, workers);
    pthread_mutex_lock(&holder.m);
    holder.release = true;
    pthread_cond_broadcast(&holder.cv);
    pthread_mutex_unlock(&holder.m);
    pthread_join(thread, NULL);

    printf("A thread held a lock while the pool started %d worker%s (%s);\n"
           "then it let go. Each task tries to take the lock for %.1f s:\n",
           workers, workers == 1 ? "" : "s", pool_start_name(start_method()),
           LOCK_WAIT_S);
    map_or_die(pool, "--fork-lock", take_lock, args, sizeof *args, took,
               sizeof *took, (size_t)workers, 1);
    pool_free(pool);
    long locked = 0;
    for (int i = 0; i < workers; i++) {
        printf("  task %d, worker pid %ld: %s\n", i, took[i].pid,
               took[i].took ? "took it" : "still locked: its holder is not here");
        locked += !took[i].took;
    }
    if (locked)
        printf("Forked workers copied the lock as it was, held, without the\n"
               "thread that held it: nobody in them can ever let it go. Try\n"
               "shared/shared --fork-lock --start spawn.\n");
    else
        printf("The workers are fresh images of the program: the lock was\n"
               "never taken in them.\n");
    free(args);
    free(took);
}

/* ------------------------------------------------------------------------
 * The command line.
 */
struct options {
    long n;               /* numbers to append */
    long runs, m;         /* --race: runs, appends per run */
    int workers;
    bool copies, explicitly, racing, fork_lock;
};

static struct options parse_options(int argc, char *argv[])
{
    static const struct option longopts[] = {
        OPT_VALUE("items", 'n'), OPT_FLAG("copies", 'C'), OPT_FLAG("explicit", 'E'),
        OPT_FLAG("race", 'R'), OPT_VALUE("runs", 'r'), OPT_VALUE("race-items", 'm'),
        OPT_FLAG("fork-lock", 'L'), OPT_POOL, OPT_END,
    };
    struct options o = { .n = 20, .runs = 5, .m = 100000 };
    bool runs_given = false, m_given = false;
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:w:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': o.n = parse_long("--items", optarg, 1, 1000000); break;
        case 'C': o.copies = true; break;
        case 'E': o.explicitly = true; break;
        case 'R': o.racing = true; break;
        case 'L': o.fork_lock = true; break;
        case 'r':
            o.runs = parse_long("--runs", optarg, 1, 1000);
            runs_given = true;
            break;
        case 'm':
            o.m = parse_long("--race-items", optarg, 1, 10000000);
            m_given = true;
            break;
        default: pool_option(c, argv, &o.workers);
        }
    }
    pool_options_done(argc, argv, &o.workers);
    if ((runs_given || m_given) && !o.racing)
        usage_error("%s only applies to --race",
                    runs_given ? "--runs" : "--race-items");
    if (o.explicitly && start_method() != POOL_START_FORK)
        usage_error("--explicit: only with --start fork (a fresh worker has "
                    "no mapping)");
    return o;
}

/* ------------------------------------------------------------------------
 * main: the tutorial's program, then the extras asked for.
 */
/* What a spawned worker may be asked to run: it finds each by its name. */
static const struct pool_task tasks[] = {
    POOL_TASK(append), POOL_TASK(append_shown), POOL_TASK(take_lock),
};

int main(int argc, char *argv[])
{
    POOL_MAIN(tasks);   /* if __name__ == "__main__": what follows runs here only */
    prog_init("shared", usage);
    struct options o = parse_options(argc, argv);
    size_t n = (size_t)o.n;
    long long *args = range(n);
    struct witness *witness = NULL;

    if (o.copies && !(witness = malloc(n * sizeof *witness)))
        die("malloc");

    /* shared = []; with Pool() as pool: pool.map(shared.append, range(n))
     * The list first, then the pool: pool_open forks the workers, and each
     * gets a copy of the list as it is at that moment. */
    shared = list_new(n);
    map_with_pool(POOL_PROCESSES, o.workers, o.copies ? append_shown : append,
                  args, witness, o.copies ? sizeof *witness : 0, n);
    list_print(shared);                      /* print(shared): [] */
    if (o.copies)
        show_copies(witness, n);
    list_free(shared);

    /* shared = []; with ThreadPool() as pool: pool.map(shared.append, range(n)) */
    shared = list_new(n);
    map_with_pool(POOL_THREADS, o.workers, append, args, NULL, 0, n);
    list_print(shared);                      /* print(shared): all n */
    list_free(shared);
    shared = NULL;

    if (o.explicitly)
        explicit_sharing(o.workers, args, n);
    if (o.racing)
        race(o.workers, o.runs, (size_t)o.m);
    if (o.fork_lock)
        fork_lock(o.workers);
    free(witness);
    free(args);
    return 0;
}
