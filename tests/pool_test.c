/* tests/pool_test.c - checks every promise of pool/pool.h, one case a run.
 *
 * Usage: pool_test CASE KIND     (KIND: processes | threads)
 *        pool_test all           every case, both kinds (for valgrind)
 *        pool_test list          the cases
 *
 * Each case prints what it checked and exits 0, or names the failed check
 * and exits 1. tests/pool.bats runs them one by one under timeout.
 *
 * fork, pthread_create and malloc are linked through wrappers (-Wl,--wrap,
 * see tests/Makefile) so that a case can make the k-th call fail, as a full
 * process table or a thread limit would, and watch pool_open undo itself;
 * or refuse large blocks to the workers, as a memory limit would.
 */
#define _GNU_SOURCE /* strsignal, pthread types in wrappers */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "pool.h"
#include "testlib.h"

/* ---- fault injection ----------------------------------------------------- */

static atomic_int fork_calls, create_calls; /* threads may fork at once */
static int fork_fail_at;                    /* fail the fork_fail_at-th call */
static bool fork_fail_on;                   /* ... and every call after it */
static int create_fail_at;

pid_t __real_fork(void);
pid_t __wrap_fork(void);
int __real_pthread_create(pthread_t *, const pthread_attr_t *,
                          void *(*)(void *), void *);
int __wrap_pthread_create(pthread_t *, const pthread_attr_t *,
                          void *(*)(void *), void *);

pid_t __wrap_fork(void)
{
    int call = atomic_fetch_add(&fork_calls, 1) + 1;
    if (fork_fail_at && (call == fork_fail_at ||
                         (fork_fail_on && call > fork_fail_at))) {
        errno = EAGAIN;
        return -1;
    }
    return __real_fork();
}

/* malloc of more than malloc_limit bytes fails, when it is not 0: set
 * before pool_open, it holds in the workers, as a memory limit would. */
static size_t malloc_limit;

void *__real_malloc(size_t);
void *__wrap_malloc(size_t);

void *__wrap_malloc(size_t size)
{
    if (malloc_limit && size > malloc_limit) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_malloc(size);
}

/* Every calloc fails while calloc_fails is set. */
static bool calloc_fails;

void *__real_calloc(size_t, size_t);
void *__wrap_calloc(size_t, size_t);

void *__wrap_calloc(size_t n, size_t size)
{
    if (calloc_fails) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_calloc(n, size);
}

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a,
                          void *(*fn)(void *), void *arg)
{
    if (create_fail_at && atomic_fetch_add(&create_calls, 1) + 1 == create_fail_at)
        return EAGAIN;
    return __real_pthread_create(t, a, fn, arg);
}

/* ---- checking ------------------------------------------------------------ */

static enum pool_kind kind;
static const char *kind_name;

static struct pool *open_or_fail(int workers)
{
    struct pool *p = pool_open(kind, workers);

    CHECK(p != NULL, "pool_open(%s, %d): %s", kind_name, workers,
          strerror(errno));
    return p;
}

/* count_threads(), once it equals `want` or a second has passed. A thread
 * that pthread_join has seen exit can stay listed in /proc/self/task until
 * the kernel has released it, and nothing signals that moment. */
static int threads_settled(int want)
{
    int n = count_threads();

    for (int i = 0; i < 1000 && n != want; i++) {
        nap_ms(1);
        n = count_threads();
    }
    return n;
}

/* Open and free one pool, so that what a runtime starts once on first use
 * (ThreadSanitizer's background thread, say) is there before we count. */
static void warm_up(void)
{
    pool_free(open_or_fail(1));
}

/* True when this process has no child at all: none alive, no zombie. */
static bool no_children(void)
{
    return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

/* ---- tasks --------------------------------------------------------------- */

/* Who ran an item: a pid for processes, a thread number for threads. */
static atomic_long next_thread_number = 1;
static _Thread_local long thread_number;

static long who(void)
{
    if (kind == POOL_PROCESSES)
        return (long)getpid();
    if (!thread_number)
        thread_number = atomic_fetch_add(&next_thread_number, 1);
    return thread_number;
}

struct out {
    long value;
    long worker;
};

static int square(const void *arg, void *result)
{
    long x = *(const long *)arg;
    struct out *o = result;

    o->value = x * x;
    o->worker = who();
    return 0;
}

/* Later items finish sooner: order must be kept anyway. */
static int slow_square(const void *arg, void *result)
{
    long x = *(const long *)arg;

    nap_ms((20 - x % 20) * 2);
    return square(arg, result);
}

/* Item 3 fails with ERANGE, item 7 with EDOM, the rest square. */
static int picky(const void *arg, void *result)
{
    long x = *(const long *)arg;

    if (x == 3)
        return ERANGE;
    if (x == 7)
        return EDOM;
    return square(arg, result);
}

/* Item 5 kills its own worker; in a pool of processes only the worker dies. */
static int suicidal(const void *arg, void *result)
{
    long x = *(const long *)arg;

    if (x == 5)
        kill(getpid(), SIGKILL);
    return square(arg, result);
}

static int crashing(const void *arg, void *result)
{
    if (*(const long *)arg == 2) {
        signal(SIGSEGV, SIG_DFL); /* a sanitizer's handler would report it */
        raise(SIGSEGV);
    }
    return square(arg, result);
}

static int exiting(const void *arg, void *result)
{
    if (*(const long *)arg == 4)
        _exit(3);
    return square(arg, result);
}

/* A counter in memory shared across fork, for tasks without results. */
static atomic_long *shared_count;

static int count_only(const void *arg, void *result)
{
    (void)arg;
    CHECK(result == NULL, "result should be NULL when result_size is 0");
    atomic_fetch_add(shared_count, 1);
    return 0;
}

/* ---- cases --------------------------------------------------------------- */

static void check_squares(const struct out *o, size_t n, size_t skip1,
                          size_t skip2)
{
    for (size_t i = 0; i < n; i++)
        if (i != skip1 && i != skip2)
            CHECK(o[i].value == (long)(i * i), "results[%zu] = %ld", i,
                  o[i].value);
}

static void case_order(void)
{
    enum { N = 60 };
    long args[N];
    struct out res[N];
    struct pool *p = open_or_fail(3);

    fill(args, N);
    for (size_t cs = 1; cs <= 7; cs += 3) {
        memset(res, 0, sizeof res);
        CHECK(pool_map(p, slow_square, args, sizeof *args, res, sizeof *res,
                       N, cs) == 0, "map: %s", pool_error(p));
        check_squares(res, N, N, N);
    }
    pool_free(p);
    printf("order kept with uneven tasks, chunksize 1, 4, 7\n");
}

static void case_chunks(void)
{
    enum { N = 50 };
    long args[N];
    struct out res[N];
    struct pool *p = open_or_fail(2);

    fill(args, N);
    /* chunksize > n: one chunk, so one worker does everything. */
    CHECK(pool_map(p, square, args, sizeof *args, res, sizeof *res, N, 1000)
          == 0, "map: %s", pool_error(p));
    check_squares(res, N, N, N);
    for (size_t i = 1; i < N; i++)
        CHECK(res[i].worker == res[0].worker, "item %zu ran elsewhere", i);
    /* chunksize 0 = ceil(50 / (4 * 2)) = 7: each run of 7 on one worker. */
    CHECK(pool_map(p, slow_square, args, sizeof *args, res, sizeof *res, N, 0)
          == 0, "map: %s", pool_error(p));
    check_squares(res, N, N, N);
    bool two = false;
    for (size_t i = 0; i < N; i++) {
        CHECK(res[i].worker == res[i - i % 7].worker,
              "item %zu left its chunk of 7", i);
        two |= res[i].worker != res[0].worker;
    }
    CHECK(two, "one worker did all 8 chunks of 7");
    /* "One chunk, however large": no buffer may be sized by chunksize. */
    CHECK(pool_map(p, square, args, sizeof *args, res, sizeof *res, N,
                   SIZE_MAX) == 0, "chunksize SIZE_MAX: %s", pool_error(p));
    check_squares(res, N, N, N);
    pool_free(p);
    printf("chunksize > n: one worker; default chunksize 7 for 50 items on 2\n");
}

/* Fills with a pattern, so that zeros written by the pool show. */
static void scribble(void *p, size_t len)
{
    memset(p, 0x5a, len);
}

static bool all_zero(const void *p, size_t len)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < len; i++)
        if (b[i])
            return false;
    return true;
}

static void case_errors(void)
{
    enum { N = 12 };
    long args[N];
    struct out res[N];
    struct pool *p = open_or_fail(1);
    int err;

    /* One worker, chunks of 1: items 3 and 7 fail, in that order. */
    fill(args, N);
    scribble(res, sizeof res);
    err = pool_map(p, picky, args, sizeof *args, res, sizeof *res, N, 1);
    CHECK(err == ERANGE, "map returned %d (%s)", err, strerror(err));
    CHECK(strcmp(pool_error(p), "item 3 failed: Numerical result out of range"
                 " (2 items failed in all)") == 0, "error text: %s",
          pool_error(p));
    check_squares(res, N, 3, 7);
    CHECK(all_zero(&res[3], sizeof res[3]) && all_zero(&res[7], sizeof res[7]),
          "a failed item's result is not zeros");
    pool_free(p);

    /* Both in the first chunk of 8: it stops at item 3, and 4-7 never run. */
    p = open_or_fail(2);
    scribble(res, sizeof res);
    err = pool_map(p, picky, args, sizeof *args, res, sizeof *res, N, 8);
    CHECK(err == ERANGE && strcmp(pool_error(p), "item 3 failed: Numerical "
          "result out of range (4 items not run)") == 0,
          "chunk of 8: %d, %s", err, pool_error(p));
    check_squares(res, 3, N, N);
    for (size_t i = 8; i < N; i++)
        CHECK(res[i].value == (long)(i * i), "results[%zu] = %ld", i,
              res[i].value);
    CHECK(all_zero(&res[3], 5 * sizeof res[3]), "items 3-7 are not zeros");
    /* The next, clean map clears the error. */
    CHECK(pool_map(p, square, args, sizeof *args, res, sizeof *res, N, 0) == 0,
          "map: %s", pool_error(p));
    CHECK(pool_error(p)[0] == '\0', "stale error: %s", pool_error(p));
    pool_free(p);
    printf("first failure to arrive reported: %s\n", "item 3 (ERANGE)");
}

/* Which items ran, in memory shared across fork. */
static atomic_int *ran_flags;

static void ran_flags_open(size_t n)
{
    ran_flags = mmap(NULL, n * sizeof *ran_flags, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(ran_flags != MAP_FAILED, "mmap: %s", strerror(errno));
    for (size_t i = 0; i < n; i++)
        atomic_store(&ran_flags[i], 0);
}

/* The items that ran, as "0 1 5 ...". */
static const char *ran_list(size_t n)
{
    static char buf[512];
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n && len < sizeof buf - 8; i++)
        if (atomic_load(&ran_flags[i]))
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%zu",
                                    len ? " " : "", i);
    return buf;
}

/* The example of CPython's semantics: item 0 is slow, items 1 and 7 fail
 * at once. Item 0 waits, instead of for 0.3 s, until item 10 has run: the
 * worker that failed at item 7 has then moved on to chunk 2, so chunk 1's
 * failure has arrived (at the parent, or under the thread pool's lock).
 * The same outcome as the sleep, without a race on a loaded machine. */
static int slow_first(const void *arg, void *result)
{
    long x = *(const long *)arg;

    atomic_store(&ran_flags[x], 1);
    for (int i = 0; x == 0 && i < 10000 && !atomic_load(&ran_flags[10]); i++)
        nap_ms(1);
    if (x == 1)
        return ERANGE;
    if (x == 7)
        return EDOM;
    return square(arg, result);
}

/* 2 workers, 20 items, chunks of 5: chunk 0 stops at item 1 after item 0,
 * chunk 1 stops at item 7 at once, chunks 2 and 3 run whole. As in CPython
 * (list(map(f, chunk)) per chunk; MapResult._set keeps the first exception
 * to arrive): items 0 1 5 6 7 10-19 ran, and the error is item 7's. */
static void case_first_failure(void)
{
    enum { N = 20 };
    long args[N];
    struct out res[N];
    const char *want = "0 1 5 6 7 10 11 12 13 14 15 16 17 18 19";

    ran_flags_open(N); /* before the fork, so the workers share it */
    struct pool *p = open_or_fail(2);
    fill(args, N);
    scribble(res, sizeof res);
    int err = pool_map(p, slow_first, args, sizeof *args, res, sizeof *res,
                       N, 5);
    printf("ran: %s\n", ran_list(N));
    CHECK(strcmp(ran_list(N), want) == 0, "want ran: %s", want);
    CHECK(err == EDOM, "map returned %d (%s), want EDOM", err, strerror(err));
    CHECK(strcmp(pool_error(p), "item 7 failed: Numerical argument out of "
                 "domain (2 items failed in all, 5 not run)") == 0,
          "error text: %s", pool_error(p));
    printf("error: %s\n", pool_error(p));
    for (size_t i = 0; i < N; i++) {
        bool ok = atomic_load(&ran_flags[i]) && i != 1 && i != 7;
        if (ok)
            CHECK(res[i].value == (long)(i * i), "results[%zu] = %ld", i,
                  res[i].value);
        else
            CHECK(all_zero(&res[i], sizeof res[i]), "item %zu: not zeros", i);
    }
    pool_free(p);
    munmap(ran_flags, N * sizeof *ran_flags);
}

static void case_empty(void)
{
    struct out res = { 42, 42 };
    long arg = 0;
    struct pool *p = open_or_fail(2);

    CHECK(pool_map(p, square, &arg, sizeof arg, &res, sizeof res, 0, 0) == 0,
          "map of 0 items: %s", pool_error(p));
    CHECK(res.value == 42, "results touched");
    CHECK(pool_map(p, NULL, &arg, sizeof arg, &res, sizeof res, 1, 0) == EINVAL,
          "NULL fn accepted");
    CHECK(pool_map(p, square, &arg, sizeof arg, NULL, sizeof res, 1, 0)
          == EINVAL, "NULL results with a size accepted");
    CHECK(pool_map(p, square, &arg, sizeof arg, &res, SIZE_MAX / 2, 4, 0)
          == EINVAL, "size overflow accepted");
    pool_free(p);
    errno = 0;
    CHECK(pool_open(kind, POOL_MAX_WORKERS + 1) == NULL && errno == EINVAL,
          "too many workers accepted");
    p = open_or_fail(0);
    CHECK(pool_workers(p) == pool_cpu_count(), "workers %d, cpus %d",
          pool_workers(p), pool_cpu_count());
    pool_free(p);
    printf("n = 0 returns at once; bad arguments: EINVAL; 0 workers = %d CPUs\n",
           pool_cpu_count());
}

static void case_nullres(void)
{
    enum { N = 100 };
    long args[N];
    struct pool *p;

    /* Mapped before the fork, so the workers share it. */
    shared_count = mmap(NULL, sizeof *shared_count, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(shared_count != MAP_FAILED, "mmap: %s", strerror(errno));
    atomic_store(shared_count, 0);
    p = open_or_fail(3);
    fill(args, N);
    CHECK(pool_map(p, count_only, args, sizeof *args, NULL, 0, N, 0) == 0,
          "map: %s", pool_error(p));
    CHECK(atomic_load(shared_count) == N, "%ld tasks ran",
          atomic_load(shared_count));
    pool_free(p);
    munmap(shared_count, sizeof *shared_count);
    printf("NULL results with result_size 0: all %d tasks ran\n", N);
}

static void case_large(void)
{
    enum { N = 8 };
    unsigned char *in = malloc((size_t)N * BIG), *out = malloc((size_t)N * BIG);
    struct pool *p = open_or_fail(2);

    CHECK(in && out, "malloc");
    for (size_t i = 0; i < (size_t)N * BIG; i++)
        in[i] = (unsigned char)(i * 7 + i / BIG);
    CHECK(pool_map(p, invert, in, BIG, out, BIG, N, 1) == 0, "map: %s",
          pool_error(p));
    for (size_t i = 0; i < (size_t)N * BIG; i++)
        CHECK(out[i] == (unsigned char)~in[i], "byte %zu", i);
    pool_free(p);
    free(in);
    free(out);
    printf("%d items of 1 MiB each way, every byte right\n", N);
}

static void case_lifecycle(void)
{
    long arg = 2;
    struct out res;
    struct pool *p = open_or_fail(2);

    CHECK(pool_join(p) == EINVAL, "join before close accepted");
    CHECK(strcmp(pool_error(p), "Pool is still running") == 0, "%s",
          pool_error(p));
    CHECK(pool_close(p) == 0, "close");
    CHECK(pool_map(p, square, &arg, sizeof arg, &res, sizeof res, 1, 0)
          == EINVAL, "map after close accepted");
    CHECK(strcmp(pool_error(p), "Pool not running") == 0, "%s", pool_error(p));
    CHECK(pool_close(p) == 0, "second close");
    CHECK(pool_join(p) == 0, "join: %s", pool_error(p));
    CHECK(pool_join(p) == 0, "second join");
    CHECK(kind != POOL_PROCESSES || no_children(), "workers left after join");
    pool_free(p);

    p = open_or_fail(2);
    CHECK(pool_terminate(p) == 0, "terminate");
    CHECK(pool_terminate(p) == 0, "second terminate");
    CHECK(pool_map(p, square, &arg, sizeof arg, &res, sizeof res, 1, 0)
          == EINVAL, "map after terminate accepted");
    CHECK(strcmp(pool_error(p), "Pool not running") == 0, "%s", pool_error(p));
    CHECK(pool_join(p) == 0, "join after terminate");
    pool_free(p);
    CHECK(no_children(), "children left");
    printf("Pool is still running / Pool not running, as CPython\n");
}

/* A worker dies mid-map: the map returns, says so, and the pool heals. */
static void check_death(pool_fn *fn, size_t dead_item, const char *how)
{
    enum { N = 16 };
    long args[N];
    struct out res[N];
    struct pool *p = open_or_fail(2);
    double t0;
    int err;

    fill(args, N);
    scribble(res, sizeof res); /* the lost item must come back as zeros */
    t0 = now();
    err = pool_map(p, fn, args, sizeof *args, res, sizeof *res, N, 1);
    CHECK(now() - t0 < 1.0, "the map took %.2f s", now() - t0);
    CHECK(err == EPIPE, "map returned %d (%s)", err, strerror(err));
    CHECK(strstr(pool_error(p), how) != NULL, "error text: %s", pool_error(p));
    char want[32];
    snprintf(want, sizeof want, "item %zu lost", dead_item);
    CHECK(strncmp(pool_error(p), want, strlen(want)) == 0, "error text: %s",
          pool_error(p));
    check_squares(res, N, dead_item, N);
    CHECK(all_zero(&res[dead_item], sizeof res[dead_item]),
          "the lost item %zu kept old bytes", dead_item);
    printf("%s: %s\n", how, pool_error(p));
    /* Healed: the same pool maps again, on as many workers as before. */
    CHECK(pool_map(p, square, args, sizeof *args, res, sizeof *res, N, 0) == 0,
          "map after the death: %s", pool_error(p));
    check_squares(res, N, N, N);
    CHECK(pool_workers(p) == 2, "workers %d", pool_workers(p));
    pool_free(p);
    CHECK(no_children(), "children left");
}

static int aborting(const void *arg, void *result)
{
    if (*(const long *)arg == 6) {
        signal(SIGABRT, SIG_DFL); /* a sanitizer's handler would report it */
        abort();
    }
    return square(arg, result);
}

/* Items lost with a dead worker hold zeros, not what the caller had there:
 * a whole chunk of 4, lost to SIGKILL, _exit and abort. */
static void case_lost_zeros(void)
{
    enum { N = 16 };
    static pool_fn *const killers[] = { suicidal, exiting, aborting };
    static const size_t dead[] = { 5, 4, 6 };
    long args[N];
    struct out res[N];

    CHECK(kind == POOL_PROCESSES, "processes only");
    struct pool *p = open_or_fail(2);
    fill(args, N);
    for (int i = 0; i < 3; i++) {
        scribble(res, sizeof res);
        CHECK(pool_map(p, killers[i], args, sizeof *args, res, sizeof *res, N,
                       4) == EPIPE, "map %d: %s", i, pool_error(p));
        size_t first = dead[i] - dead[i] % 4;
        for (size_t j = 0; j < N; j++)
            if (j >= first && j < first + 4)
                CHECK(all_zero(&res[j], sizeof res[j]),
                      "map %d: lost item %zu kept old bytes", i, j);
            else
                CHECK(res[j].value == (long)(j * j), "map %d: results[%zu]",
                      i, j);
    }
    pool_free(p);
    CHECK(no_children(), "children left");
    printf("items lost with a worker (SIGKILL, _exit, abort) hold zeros\n");
}

/* Item 3 closes every socket its process holds, its worker's channel
 * among them, as a task that tidies up descriptors might; then returns at
 * once, or runs on a while. */
static void close_sockets(void)
{
    for (int fd = 3; fd < 1024; fd++) {
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
            close(fd);
    }
}

static int close_channel(const void *arg, void *result)
{
    if (*(const long *)arg == 3)
        close_sockets();
    return square(arg, result);
}

static int close_channel_run_on(const void *arg, void *result)
{
    if (*(const long *)arg == 3) {
        close_sockets();
        nap_ms(1000);
    }
    return square(arg, result);
}

/* A task that closes its worker's channel: the words say so (the first
 * cause), not "killed by signal 9", a signal the pool itself sent. */
static void case_closed_channel(void)
{
    enum { N = 8 };
    long args[N];
    struct out res[N];

    CHECK(kind == POOL_PROCESSES, "processes only");
    struct pool *p = open_or_fail(2);
    fill(args, N);
    for (int i = 0; i < 2; i++) {
        int err = pool_map(p, i ? close_channel_run_on : close_channel, args,
                           sizeof *args, res, sizeof *res, N, 1);
        printf("%s\n", pool_error(p));
        CHECK(err == EPIPE, "map returned %d: %s", err, pool_error(p));
        CHECK(strncmp(pool_error(p), "item 3 lost: worker", 19) == 0 &&
              strstr(pool_error(p), "had its channel closed") &&
              !strstr(pool_error(p), "signal"), "words: %s", pool_error(p));
        check_squares(res, N, 3, N);
    }
    pool_free(p);
    CHECK(no_children(), "children left");
}

static void case_kill(void)
{
    CHECK(kind == POOL_PROCESSES, "processes only");
    check_death(suicidal, 5, "killed by signal 9");
    check_death(crashing, 2, "killed by signal 11");
    check_death(exiting, 4, "exited with status 3");
    printf("pool usable after each death\n");
}

/* A worker killed from outside, while it sleeps in a task. */
static int report_and_sleep(const void *arg, void *result)
{
    if (*(const long *)arg == 0) {
        int fd = *(const int *)((const long *)arg + 1);
        pid_t me = getpid();
        CHECK(write(fd, &me, sizeof me) == sizeof me, "write pid");
        nap_ms(30000);
    }
    *(long *)result = 1;
    return 0;
}

static void *killer(void *arg)
{
    int fd = *(int *)arg;
    pid_t victim;

    CHECK(read(fd, &victim, sizeof victim) == sizeof victim, "read pid");
    kill(victim, SIGKILL);
    return NULL;
}

static void case_external_kill(void)
{
    long args[4][2];
    long res[4];
    int fds[2];
    pthread_t t;
    struct pool *p;
    double t0;

    CHECK(kind == POOL_PROCESSES, "processes only");
    CHECK(pipe(fds) == 0, "pipe");
    for (int i = 0; i < 4; i++) {
        args[i][0] = i;
        args[i][1] = fds[1];
    }
    p = open_or_fail(2);
    CHECK(pthread_create(&t, NULL, killer, &fds[0]) == 0, "pthread_create");
    t0 = now();
    int err = pool_map(p, report_and_sleep, args, sizeof args[0], res,
                       sizeof res[0], 4, 1);
    double took = now() - t0;
    pthread_join(t, NULL);
    CHECK(err == EPIPE, "map returned %d", err);
    CHECK(took < 2.0, "the map took %.2f s", took);
    CHECK(strstr(pool_error(p), "item 0 lost: worker") &&
          strstr(pool_error(p), "killed by signal 9"), "%s", pool_error(p));
    CHECK(res[1] == 1 && res[2] == 1 && res[3] == 1, "other items");
    pool_free(p);
    close(fds[0]);
    close(fds[1]);
    CHECK(no_children(), "children left");
    printf("killed from outside: map returned in %.2f s: %s\n", took,
           "killed by signal 9");
}

static void case_cycles(void)
{
    enum { N = 20 };
    long args[N];
    struct out res[N];
    int fds, threads;

    warm_up();
    fds = count_fds();
    threads = count_threads();
    fill(args, N);
    for (int i = 0; i < 500; i++) {
        struct pool *p = open_or_fail(2);
        CHECK(pool_map(p, square, args, sizeof *args, res, sizeof *res, N, 0)
              == 0, "map: %s", pool_error(p));
        if (i % 2) { /* half with close + join, half as the end of a `with` */
            CHECK(pool_close(p) == 0 && pool_join(p) == 0, "close/join");
        }
        pool_free(p);
    }
    check_squares(res, N, N, N);
    CHECK(count_fds() == fds, "descriptors: %d before, %d after", fds,
          count_fds());
    CHECK(threads_settled(threads) == threads, "threads: %d before, %d after",
          threads, count_threads());
    CHECK(no_children(), "children or zombies left");
    printf("500 open/map/free cycles: %d fds, %d threads, no children\n", fds,
           threads);
}

static void case_refused(void)
{
    int fds, threads;

    warm_up();
    fds = count_fds();
    threads = count_threads();

    for (int at = 1; at <= 4; at++) {
        fork_calls = create_calls = 0;
        fork_fail_at = create_fail_at = at;
        errno = 0;
        struct pool *p = pool_open(kind, 4);
        CHECK(p == NULL, "pool_open succeeded with call %d refused", at);
        CHECK(errno == EAGAIN, "errno %d (%s)", errno, strerror(errno));
        CHECK(count_fds() == fds, "descriptors: %d before, %d after", fds,
              count_fds());
        CHECK(threads_settled(threads) == threads, "threads: %d, then %d",
              threads, count_threads());
        CHECK(no_children(), "children left after a refused call %d", at);
    }
    fork_fail_at = create_fail_at = 0;
    struct pool *p = open_or_fail(4); /* and all is well again */
    pool_free(p);
    printf("%s refused at call 1..4: NULL, EAGAIN, nothing left behind\n",
           kind == POOL_PROCESSES ? "fork" : "pthread_create");
}

/* Refuse every fork from now on (on), or none (off). */
static void refuse_forks(bool on)
{
    fork_calls = 0;
    fork_fail_at = on ? 1 : 0;
    fork_fail_on = on;
}

/* A map of square over args that must succeed, with every result right. */
static void map_squares_ok(struct pool *p, const long *args, struct out *res,
                           size_t n)
{
    CHECK(pool_map(p, square, args, sizeof *args, res, sizeof *res, n, 0) == 0,
          "map: %s", pool_error(p));
    check_squares(res, n, n, n);
}

/* Every fork refused once a worker has died: the survivors finish the map;
 * with no survivor the remaining items fail, and the next map says why. */
static void case_respawn_refused(void)
{
    enum { N = 16 };
    long args[N];
    struct out res[N];
    struct pool *p;
    int err;

    CHECK(kind == POOL_PROCESSES, "processes only");
    fill(args, N);

    /* Two workers: one dies at item 5, its replacement is refused, the
     * other does every remaining item. */
    p = open_or_fail(2);
    refuse_forks(true);
    memset(res, 0, sizeof res);
    err = pool_map(p, suicidal, args, sizeof *args, res, sizeof *res, N, 1);
    CHECK(err == EPIPE, "map returned %d: %s", err, pool_error(p));
    CHECK(strncmp(pool_error(p), "item 5 lost:", 12) == 0, "%s", pool_error(p));
    check_squares(res, N, 5, N);
    for (size_t i = 6; i < N; i++)
        CHECK(res[i].worker == res[6].worker, "item %zu: a second worker", i);
    refuse_forks(false);
    map_squares_ok(p, args, res, N);
    pool_free(p);

    /* One worker: when it dies, nobody is left for items 6..15. */
    p = open_or_fail(1);
    refuse_forks(true);
    memset(res, 0, sizeof res);
    err = pool_map(p, suicidal, args, sizeof *args, res, sizeof *res, N, 1);
    CHECK(err == EPIPE, "map returned %d: %s", err, pool_error(p));
    CHECK(strstr(pool_error(p), "(11 items failed in all)"), "%s",
          pool_error(p));
    check_squares(res, 5, N, N);
    for (size_t i = 6; i < N; i++)
        CHECK(res[i].value == 0, "item %zu has a result", i);
    err = pool_map(p, square, args, sizeof *args, res, sizeof *res, N, 0);
    CHECK(err == EAGAIN && strstr(pool_error(p), "no worker could be started"),
          "map with no worker: %d, %s", err, pool_error(p));
    refuse_forks(false);
    map_squares_ok(p, args, res, N);
    pool_free(p);
    CHECK(no_children(), "children left");
    printf("fork refused after a death: the survivor finished; alone, the "
           "rest failed, then the pool healed\n");
}

/* Pools opened from two threads at once: a worker forked for one must not
 * inherit the other's new channel, or closing that pool waits on it. One
 * thread opens pools and keeps them, and stays alive (its workers die with
 * it: PR_SET_PDEATHSIG) until the other has opened, closed and joined its
 * own pools. */
struct opener {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    struct pool *keep[200];
    int kept;
};

static void *open_many(void *arg)
{
    struct opener *o = arg;
    bool stop = false;

    while (!stop && o->kept < 200) {
        o->keep[o->kept++] = open_or_fail(1);
        pthread_mutex_lock(&o->lock);
        stop = o->stop;
        pthread_mutex_unlock(&o->lock);
    }
    pthread_mutex_lock(&o->lock);
    while (!o->stop)
        pthread_cond_wait(&o->cond, &o->lock);
    pthread_mutex_unlock(&o->lock);
    return NULL;
}

static void case_threads_open(void)
{
    static struct opener o; /* static: 200 pointers; reset for each run */
    pthread_t t;

    memset(&o, 0, sizeof o);
    pthread_mutex_init(&o.lock, NULL);
    pthread_cond_init(&o.cond, NULL);
    CHECK(pthread_create(&t, NULL, open_many, &o) == 0, "pthread_create");
    for (int i = 0; i < 150; i++) {
        struct pool *p = open_or_fail(1);
        double t0 = now();
        CHECK(pool_close(p) == 0 && pool_join(p) == 0, "close/join");
        CHECK(now() - t0 < 1.0, "join %d took %.2f s", i, now() - t0);
        pool_free(p);
    }
    pthread_mutex_lock(&o.lock);
    o.stop = true;
    pthread_cond_signal(&o.cond);
    pthread_mutex_unlock(&o.lock);
    pthread_join(t, NULL);
    for (int i = 0; i < o.kept; i++)
        pool_free(o.keep[i]);
    pthread_cond_destroy(&o.cond);
    pthread_mutex_destroy(&o.lock);
    CHECK(no_children(), "children left");
    printf("pools opened from two threads: every join prompt\n");
}

/* A stopped worker (SIGSTOP) must not make pool_free wait forever. */
static int pid_task(const void *arg, void *result)
{
    (void)arg;
    *(long *)result = (long)getpid();
    nap_ms(50);
    return 0;
}

static void case_stopped(void)
{
    long args[2] = { 0, 1 }, res[2];
    struct pool *p;
    char path[64], state = 0;

    CHECK(kind == POOL_PROCESSES, "processes only");
    p = open_or_fail(2);
    CHECK(pool_map(p, pid_task, args, sizeof *args, res, sizeof *res, 2, 1)
          == 0, "map");
    kill((pid_t)res[0], SIGSTOP);
    snprintf(path, sizeof path, "/proc/%ld/stat", res[0]);
    for (int i = 0; i < 5000 && state != 'T'; i++) { /* until it is stopped */
        FILE *f = fopen(path, "r");
        if (f) {
            CHECK(fscanf(f, "%*d %*s %c", &state) == 1, "read %s", path);
            fclose(f);
        }
        if (state != 'T')
            nap_ms(1);
    }
    CHECK(state == 'T', "worker %ld never stopped", res[0]);
    pool_free(p); /* SIGTERM, SIGCONT, reap */
    CHECK(no_children(), "children left");
    printf("a stopped worker: pool_free returned\n");
}

/* A caller that ignores SIGCHLD takes the workers' exit status away: the
 * pool can still say that a worker died, and join still succeeds. */
static void case_sigchld_ignored(void)
{
    enum { N = 8 };
    long args[N];
    struct out res[N];
    struct pool *p;
    int err;

    CHECK(kind == POOL_PROCESSES, "processes only");
    signal(SIGCHLD, SIG_IGN);
    fill(args, N);
    p = open_or_fail(2);
    err = pool_map(p, suicidal, args, sizeof *args, res, sizeof *res, N, 1);
    CHECK(err == EPIPE && strstr(pool_error(p), "item 5 lost: worker") &&
          strstr(pool_error(p), "died (how is unknown"), "%d: %s", err,
          pool_error(p));
    CHECK(pool_close(p) == 0, "close");
    CHECK(pool_join(p) == 0, "join: %s", pool_error(p));
    pool_free(p);
    signal(SIGCHLD, SIG_DFL);
    printf("SIGCHLD ignored: %s\n", "a death still reported, join clean");
}

/* The caller forks while another of its threads opens pools: the child
 * must be able to open a pool of its own (no lock copied while held). */
static void *churn(void *arg)
{
    atomic_bool *stop = arg;

    while (!atomic_load(stop)) /* many forks: the lock is often held */
        pool_free(open_or_fail(16));
    return NULL;
}

static void case_caller_fork(void)
{
    atomic_bool stop = false;
    pthread_t t;
    int hung = 0;

    CHECK(kind == POOL_PROCESSES, "processes only");
    CHECK(pthread_create(&t, NULL, churn, &stop) == 0, "pthread_create");
    for (int i = 0; i < 40; i++) {
        pid_t pid = fork();
        CHECK(pid >= 0, "fork: %s", strerror(errno));
        if (pid == 0) {
            alarm(3); /* a child that hangs dies of SIGALRM */
            struct pool *p = pool_open(POOL_PROCESSES, 1);
            pool_free(p);
            _exit(p ? 0 : 1);
        }
        int st;
        CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
        hung += WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM;
        CHECK(!WIFEXITED(st) || WEXITSTATUS(st) == 0, "child's pool_open");
    }
    atomic_store(&stop, true);
    pthread_join(t, NULL);
    CHECK(hung == 0, "%d of 40 children hung in pool_open", hung);
    CHECK(no_children(), "children left");
    printf("the caller's own forks: 40 children opened pools\n");
}

/* Two pools at once: closing the first must not wait on the second's
 * children, which were forked while its channels were open. */
static void case_two_pools(void)
{
    long arg = 3;
    struct out res;
    struct pool *a = open_or_fail(2), *b = open_or_fail(2);

    CHECK(pool_close(a) == 0 && pool_join(a) == 0, "close/join a");
    CHECK(pool_map(b, square, &arg, sizeof arg, &res, sizeof res, 1, 0) == 0,
          "map b: %s", pool_error(b));
    CHECK(res.value == 9, "b's result");
    pool_free(a);
    pool_free(b);
    CHECK(no_children(), "children left");
    printf("two pools: the first closes and joins while the second runs\n");
}

/* A task that writes to stdout, as a print() in a worker does: it flushes
 * the worker's copy of the stdout buffer, so that copy had better be empty. */
static int square_and_flush(const void *arg, void *result)
{
    fflush(stdout);
    return square(arg, result);
}

/* Buffered output before pool_open must come out once, not once a worker. */
static void case_flush(void)
{
    long args[3] = { 1, 2, 3 };
    struct out res[3];

    printf("printed once before the pool opens\n"); /* no fflush here */
    struct pool *p = open_or_fail(3);
    CHECK(pool_map(p, square_and_flush, args, sizeof *args, res, sizeof *res,
                   3, 1) == 0, "map");
    pool_free(p);
}

static void case_orphan(void)
{
    long args[2] = { 0, 1 };
    struct pool *p;

    CHECK(kind == POOL_PROCESSES, "processes only");
    printf("parent %ld\n", (long)getpid());
    fflush(stdout);
    p = open_or_fail(2);
    pool_map(p, announce_and_sleep, args, sizeof *args, NULL, 0, 2, 1);
    pool_free(p);
}

/* ---- a pool used from another process ---------------------------------- */

/* The pids of a process pool's workers, found by a map (0s for threads). */
static void worker_pids(struct pool *p, long pids[2])
{
    long args[2] = { 0, 1 };

    CHECK(pool_map(p, pid_task, args, sizeof *args, pids, sizeof *pids, 2, 1)
          == 0, "map: %s", pool_error(p));
    if (kind == POOL_THREADS)
        pids[0] = pids[1] = 0;
    else if (pids[0] > pids[1]) {
        long t = pids[0];
        pids[0] = pids[1];
        pids[1] = t;
    }
}

/* Every call on a copy of a pool refuses with EPERM and says why; freeing
 * the copy releases memory only. Returns 0, or the number of the first
 * check that failed. */
static int use_copy(struct pool *p)
{
    long arg = 3;
    struct out res;

    if (pool_map(p, square, &arg, sizeof arg, &res, sizeof res, 1, 0) != EPERM)
        return 1;
    if (!strstr(pool_error(p), "belongs to process"))
        return 2;
    if (pool_close(p) != EPERM || pool_terminate(p) != EPERM ||
        pool_join(p) != EPERM)
        return 3;
    errno = 0;
    if (pool_workers(p) != -1 || errno != EPERM)
        return 4;
    pool_free(p);
    return 0;
}

static struct pool *victim; /* the pool a task tries to use */

static int use_victim(const void *arg, void *result)
{
    (void)arg;
    *(long *)result = use_copy(victim);
    return 0;
}

/* A pool used from a fork child and from a task of a process pool: every
 * call there refuses, and the owner's workers carry on untouched. */
static void case_copies(void)
{
    long before[2], after[2];
    struct pool *p = open_or_fail(2);

    worker_pids(p, before);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        alarm(5); /* a child that hangs dies of SIGALRM */
        int bad = use_copy(p);
        if (bad)
            fprintf(stderr, "child: check %d failed: %s\n", bad, pool_error(p));
        _exit(bad ? 1 : 0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: wait status %#x", st);
    worker_pids(p, after);
    CHECK(before[0] == after[0] && before[1] == after[1],
          "workers changed: %ld %ld, then %ld %ld", before[0], before[1],
          after[0], after[1]);

    /* The same from a task: the runner's worker holds a copy of p. */
    victim = p;
    struct pool *runner = pool_open(POOL_PROCESSES, 1);
    CHECK(runner != NULL, "pool_open: %s", strerror(errno));
    long arg = 0, bad = -1;
    CHECK(pool_map(runner, use_victim, &arg, sizeof arg, &bad, sizeof bad, 1,
                   0) == 0, "runner: %s", pool_error(runner));
    CHECK(bad == 0, "in a task: check %ld failed", bad);
    pool_free(runner);
    worker_pids(p, after);
    CHECK(before[0] == after[0] && before[1] == after[1],
          "workers changed: %ld %ld, then %ld %ld", before[0], before[1],
          after[0], after[1]);
    pool_free(p);
    CHECK(no_children(), "children left");
    printf("a copy of a pool, in a child and in a task: every call refused\n");
}

/* A child the caller forks (without exec) while a pool is open holds
 * copies of the channels: the workers must still leave on pool_close,
 * told by the pool, not by an end of file that this child (asleep for 20 s)
 * holds back. */
static void case_caller_child(void)
{
    long args[4] = { 0, 1, 2, 3 };
    struct out res[4];
    struct pool *p = open_or_fail(2);

    CHECK(pool_map(p, square, args, sizeof *args, res, sizeof *res, 4, 1) == 0,
          "map: %s", pool_error(p));
    pid_t child = fork();
    CHECK(child >= 0, "fork: %s", strerror(errno));
    if (child == 0) {
        alarm(30); /* never outlive the test by much */
        nap_ms(20000);
        _exit(0);
    }
    double t0 = now();
    CHECK(pool_close(p) == 0, "close: %s", pool_error(p));
    CHECK(pool_join(p) == 0, "join: %s", pool_error(p));
    double took = now() - t0;
    kill(child, SIGKILL);
    CHECK(waitpid(child, NULL, 0) == child, "waitpid");
    /* Workers leave at once; valgrind's checks at their exit take a while. */
    CHECK(took < 5.0, "close + join took %.2f s while a child of ours lived",
          took);
    pool_free(p);
    CHECK(no_children(), "children left");
    printf("close + join with a long-lived child of the caller: prompt\n");
}

/* A program started with stdin, stdout and stderr closed: the pool must not
 * take fds 0-2 for its channels, or the program's own output (once it opens
 * something there) goes into a worker. Run as `pool_test low_fds KIND
 * <&- >&- [2>&-]`; with stderr open, the failed check is named there. */
static bool fd_closed(int fd)
{
    return fcntl(fd, F_GETFD) < 0 && errno == EBADF;
}

static void case_low_fds(void)
{
    enum { N = 20 };
    long args[N];
    struct out res[N];
    int keep = fd_closed(2) ? -1 : fcntl(2, F_DUPFD_CLOEXEC, 10);

    close(0);
    close(1);
    close(2);
    struct pool *p = pool_open(kind, 3);
    bool closed[3] = { fd_closed(0), fd_closed(1), fd_closed(2) };
    /* Now as a careful program does: /dev/null where 0-2 are closed. */
    for (int fd = 0; fd < 3; fd++)
        if (fd_closed(fd))
            open("/dev/null", fd ? O_WRONLY : O_RDONLY);
    if (keep >= 0)
        dup2(keep, 2);
    CHECK(p != NULL, "pool_open: %s", strerror(errno));
    for (int fd = 0; fd < 3; fd++)
        CHECK(closed[fd], "the pool took fd %d", fd);
    for (int i = 0; i < 1000; i++) /* the program's own output */
        printf("output line %d\n", i);
    fflush(stdout);
    fill(args, N);
    CHECK(pool_map(p, square, args, sizeof *args, res, sizeof *res, N, 1) == 0,
          "map: %s", pool_error(p));
    check_squares(res, N, N, N);
    pool_free(p);
    CHECK(no_children(), "children left");
}

/* Tasks print and do not flush, as a print() in a worker: the text must
 * arrive when stdout is a pipe or a file, whether the pool ends with
 * pool_free (SIGTERM) or with close and join. */
static int print_task(const void *arg, void *result)
{
    printf("task %ld\n", *(const long *)arg);
    return square(arg, result);
}

static void case_task_output(void)
{
    enum { N = 20 };
    long args[N];
    struct out res[N];
    struct pool *p;

    fill(args, N);
    p = open_or_fail(3);
    CHECK(pool_map(p, print_task, args, sizeof *args, res, sizeof *res, N, 1)
          == 0, "map: %s", pool_error(p));
    pool_free(p);
    for (size_t i = 0; i < N; i++)
        args[i] += N;
    p = open_or_fail(3);
    CHECK(pool_map(p, print_task, args, sizeof *args, res, sizeof *res, N, 1)
          == 0, "map: %s", pool_error(p));
    CHECK(pool_close(p) == 0 && pool_join(p) == 0, "close/join");
    pool_free(p);
}

/* Items too large for a worker's memory: the words say so (not "fork
 * failed"), and a replacement that dies the same way before doing any work
 * is not forked again within the map. */
static int first_byte(const void *arg, void *result)
{
    *(long *)result = *(const unsigned char *)arg;
    return 0;
}

static void case_no_memory(void)
{
    enum { N = 8, SIZE = 1 << 20 };
    unsigned char *args = malloc((size_t)N * SIZE);
    long res[N];
    struct pool *p;
    int err;

    CHECK(kind == POOL_PROCESSES, "processes only");
    CHECK(args != NULL, "malloc");
    memset(args, 7, (size_t)N * SIZE);
    malloc_limit = SIZE / 2; /* no worker can hold one item */
    p = open_or_fail(2);
    fork_calls = 0;
    err = pool_map(p, first_byte, args, SIZE, res, sizeof *res, N, 1);
    int forks = fork_calls;
    printf("%s\n", pool_error(p));
    CHECK(err == ENOMEM, "map returned %d (%s)", err, strerror(err));
    CHECK(strstr(pool_error(p), "ran out of memory") &&
          !strstr(pool_error(p), "fork"), "words: %s", pool_error(p));
    CHECK(strstr(pool_error(p), "(8 items failed in all)"), "words: %s",
          pool_error(p));
    /* 2 replacements in the map, which die at once, and 2 after it. */
    CHECK(forks <= 4, "%d forks", forks);
    pool_free(p);

    /* One worker, items larger than a socket buffer: it dies while the
     * chunk is still being sent, and so does its one replacement. */
    enum { BIG_ITEM = 4 << 20 };
    malloc_limit = 0;
    unsigned char *big = malloc(4 * (size_t)BIG_ITEM);
    CHECK(big != NULL, "malloc");
    memset(big, 7, 4 * (size_t)BIG_ITEM);
    malloc_limit = SIZE / 2;
    p = open_or_fail(1);
    fork_calls = 0;
    err = pool_map(p, first_byte, big, BIG_ITEM, res, sizeof *res, 4, 1);
    printf("%s\n", pool_error(p));
    CHECK(err == ENOMEM && strstr(pool_error(p), "ran out of memory") &&
          strstr(pool_error(p), "(4 items failed in all)"), "one worker: %d, %s",
          err, pool_error(p));
    CHECK(fork_calls == 2, "one worker: %d forks, want 1 in the map and 1 "
          "after it", (int)fork_calls);
    pool_free(p);
    free(big);
    malloc_limit = 0;

    /* A fresh pool with room: the same map succeeds. */
    p = open_or_fail(2);
    CHECK(pool_map(p, first_byte, args, SIZE, res, sizeof *res, N, 1) == 0,
          "map: %s", pool_error(p));
    for (size_t i = 0; i < N; i++)
        CHECK(res[i] == 7, "results[%zu] = %ld", i, res[i]);
    pool_free(p);
    free(args);
    CHECK(no_children(), "children left");
    printf("forks for 2 workers, in the map and after it: %d\n", forks);
}

/* A map that fails as a whole leaves zeros in every result, as pool.h
 * promises: its own memory refused, and poll() refused (a caller that
 * lowered RLIMIT_NOFILE below the pool's channels after opening it). The
 * sockets only (POOL_SPIN_US=0), so that the map waits in poll(). */
static void case_whole_failure(void)
{
    enum { N = 64 };
    long args[N];
    struct out res[N], zeros[N];
    struct rlimit was, one;

    CHECK(kind == POOL_PROCESSES, "processes only");
    setenv("POOL_SPIN_US", "0", 1);
    struct pool *p = open_or_fail(2);
    unsetenv("POOL_SPIN_US");
    fill(args, N);
    memset(zeros, 0, sizeof zeros);
    for (int i = 0; i < 2; i++) {
        memset(res, 0xab, sizeof res);
        CHECK(getrlimit(RLIMIT_NOFILE, &was) == 0, "getrlimit");
        one = (struct rlimit){ 1, was.rlim_max };
        if (i == 0)
            calloc_fails = true;
        else
            CHECK(setrlimit(RLIMIT_NOFILE, &one) == 0, "setrlimit");
        int err = pool_map(p, square, args, sizeof *args, res, sizeof *res,
                           N, 1);
        calloc_fails = false;
        CHECK(setrlimit(RLIMIT_NOFILE, &was) == 0, "setrlimit back");
        CHECK(err == (i ? EINVAL : ENOMEM), "map %d returned %d: %s", i, err,
              pool_error(p));
        CHECK(memcmp(res, zeros, sizeof res) == 0, "map %d (%s): results "
              "not all zeros", i, pool_error(p));
        printf("%s: every result zero\n", pool_error(p));
        CHECK(pool_map(p, square, args, sizeof *args, res, sizeof *res, N,
                       0) == 0, "map after: %s", pool_error(p));
        check_squares(res, N, N, N);
    }
    pool_free(p);
    CHECK(no_children(), "children left");
}

/* A task that calls exit() must not run the caller's atexit handlers in a
 * copy of the caller: the worker leaves at once, and the words say why.
 * (The caller's handler here would make the worker exit 99.) */
static pid_t main_pid;

static void callers_handler(void)
{
    if (getpid() != main_pid)
        _exit(99);
}

static int calls_exit(const void *arg, void *result)
{
    (void)arg;
    (void)result;
    exit(0);
}

static void case_task_exit(void)
{
    long args[2] = { 0, 1 };
    struct out res[2];

    CHECK(kind == POOL_PROCESSES, "processes only");
    main_pid = getpid();
    atexit(callers_handler);
    struct pool *p = open_or_fail(1);
    int err = pool_map(p, calls_exit, args, sizeof *args, res, sizeof *res, 2,
                       1);
    printf("%s\n", pool_error(p));
    CHECK(err == EPIPE && strstr(pool_error(p), "a task called exit()"),
          "map returned %d: %s", err, pool_error(p));
    CHECK(pool_map(p, square, args, sizeof *args, res, sizeof *res, 2, 0) == 0,
          "map after: %s", pool_error(p));
    pool_free(p);
    CHECK(no_children(), "children left");
}

/* Sizes no array can have: EINVAL, as pool.h promises, for both kinds. */
static void case_too_large(void)
{
    long arg = 1, res;
    struct pool *p = open_or_fail(2);

    CHECK(pool_map(p, square, &arg, SIZE_MAX, &res, sizeof res, 1, 0)
          == EINVAL, "arg_size SIZE_MAX: %s", pool_error(p));
    CHECK(strstr(pool_error(p), "sizes too large"), "%s", pool_error(p));
    printf("%s\n", pool_error(p));
    CHECK(pool_map(p, square, &arg, sizeof arg, &res, (size_t)PTRDIFF_MAX + 1,
                   1, 0) == EINVAL, "result_size: %s", pool_error(p));
    CHECK(pool_map(p, square, &arg, sizeof arg, &res, sizeof res,
                   (size_t)PTRDIFF_MAX / 4, 0) == EINVAL, "n: %s", pool_error(p));
    pool_free(p);
}

/* With arg_size 0 every task gets NULL, in both kinds of pool. */
static int wants_null(const void *arg, void *result)
{
    *(long *)result = arg == NULL ? 1 : 2;
    return 0;
}

static void case_zero_arg(void)
{
    enum { N = 6 };
    long args[N], res[N];
    struct pool *p = open_or_fail(2);

    fill(args, N);
    CHECK(pool_map(p, wants_null, args, 0, res, sizeof *res, N, 1) == 0,
          "map: %s", pool_error(p));
    for (size_t i = 0; i < N; i++)
        CHECK(res[i] == 1, "item %zu: the task got %s", i,
              res[i] == 2 ? "a pointer, not NULL" : "nothing");
    CHECK(pool_map(p, wants_null, NULL, 0, res, sizeof *res, N, 0) == 0,
          "map with NULL args: %s", pool_error(p));
    pool_free(p);
    printf("arg_size 0: every task got NULL\n");
}

/* The pool's shared region as a task finds it in its worker: the mapping
 * that /proc/self/maps calls memfd:pool-queue (pool/fast/procs.c), and
 * its size. NULL when there is none. */
static unsigned char *queue_here(size_t *size)
{
    char line[512];
    unsigned long at = 0, end = 0;
    FILE *f = fopen("/proc/self/maps", "r");

    while (f && !at && fgets(line, sizeof line, f))
        if (strstr(line, "memfd:pool-queue"))
            sscanf(line, "%lx-%lx", &at, &end);
    if (f)
        fclose(f);
    *size = end - at;
    return (unsigned char *)at;
}

/* Item 0 writes `byte` over the whole region, every word the parent and
 * the workers keep there. Every item squares. */
static int scribble_queue(const void *arg, void *result, int byte)
{
    if (*(const long *)arg == 0) {
        size_t size;
        unsigned char *q = queue_here(&size);
        if (!q)
            return ENOENT; /* a forked worker must have the region */
        memset(q, byte, size);
    }
    return square(arg, result);
}

static int scribble_done(const void *arg, void *result)
{
    return scribble_queue(arg, result, 0xff); /* owners -1: done */
}

static int scribble_free(const void *arg, void *result)
{
    return scribble_queue(arg, result, 0); /* owners 0: free */
}

/* A task that writes over the pool's shared region can cost the map its
 * items, but not hang it or crash the caller: what the region says is
 * checked, and the sizes and counts each side trusts are its own. One
 * worker, so that item 0 runs first and nothing is taken in before.
 * Written over with 0xff, every chunk reads as done with a count no chunk
 * has: the 15 after item 0 are lost (EPROTO, "overwritten"). With zeros,
 * every chunk reads as free and every argument as 0: the worker runs them
 * again (no more claims than the map has chunks), and the map returns.
 * Either way the pool maps right afterwards. */
static void case_queue_scribble(void)
{
    enum { N = 16 };
    long args[N];
    struct out res[N];

    CHECK(kind == POOL_PROCESSES, "processes only");
    if (!getenv("POOL_FAST") || strcmp(getenv("POOL_FAST"), "0") != 0) {
        struct pool *p = open_or_fail(1);
        fill(args, N);
        for (int i = 0; i < 2; i++) {
            double t0 = now();
            int err = pool_map(p, i ? scribble_free : scribble_done, args,
                               sizeof *args, res, sizeof *res, N, 1);
            CHECK(now() - t0 < 2.0, "map %d took %.2f s", i, now() - t0);
            if (i == 0)
                CHECK(err == EPROTO &&
                      strstr(pool_error(p), "item 1 lost: its record in the "
                             "pool's queue was overwritten") &&
                      strstr(pool_error(p), "15 items failed"),
                      "map %d returned %d: %s", i, err, pool_error(p));
            printf("region written over with %s: %s\n", i ? "zeros" : "0xff",
                   err ? pool_error(p) : "the map returned");
            CHECK(pool_map(p, square, args, sizeof *args, res, sizeof *res, N,
                           0) == 0, "map after: %s", pool_error(p));
            check_squares(res, N, N, N);
        }
        pool_free(p);
    } else {
        printf("no shared region in this build (POOL_FAST=0)\n");
    }
    CHECK(no_children(), "children left");
}

/* ---- misuse from threads ------------------------------------------------- */

static void case_null(void)
{
    long arg = 1;
    struct out res;

    CHECK(pool_map(NULL, square, &arg, sizeof arg, &res, sizeof res, 1, 0)
          == EINVAL, "pool_map(NULL)");
    CHECK(pool_close(NULL) == EINVAL, "pool_close(NULL)");
    CHECK(pool_terminate(NULL) == EINVAL, "pool_terminate(NULL)");
    CHECK(pool_join(NULL) == EINVAL, "pool_join(NULL)");
    errno = 0;
    CHECK(pool_workers(NULL) == -1 && errno == EINVAL, "pool_workers(NULL)");
    CHECK(pool_error(NULL) && strcmp(pool_error(NULL), "no pool (NULL)") == 0,
          "pool_error(NULL)");
    pool_free(NULL);
    printf("NULL pool: EINVAL from every call, \"%s\"\n", pool_error(NULL));
}

/* Shared across fork: the held task has started; it may finish. */
static atomic_int *held;

static int hold(const void *arg, void *result)
{
    if (*(const long *)arg == 0) {
        atomic_store(&held[0], 1);
        for (int i = 0; i < 10000 && !atomic_load(&held[1]); i++)
            nap_ms(1);
    }
    return square(arg, result);
}

/* A task of a thread pool calling on its own pool: EBUSY (processes: the
 * task runs in a copy, EPERM). The argument is the pool's address, valid in
 * a forked worker's copy too. */
static int reenter(const void *arg, void *result)
{
    struct pool *self = *(struct pool *const *)arg;
    long one = 1;
    struct out o;

    *(long *)result = pool_map(self, square, &one, sizeof one, &o, sizeof o,
                               1, 0);
    return 0;
}

struct mapper {
    struct pool *pool;
    int err;
};

static void *map_held(void *arg)
{
    struct mapper *m = arg;
    long args[4] = { 0, 1, 2, 3 };
    struct out res[4];

    m->err = pool_map(m->pool, hold, args, sizeof *args, res, sizeof *res, 4, 1);
    return NULL;
}

/* While one thread maps, every call from another thread gets EBUSY at once
 * and the map completes; pool_free then does nothing but set errno. */
static void case_busy(void)
{
    struct mapper m = { NULL, -1 };
    pthread_t t;

    held = mmap(NULL, 2 * sizeof *held, PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(held != MAP_FAILED, "mmap: %s", strerror(errno));
    atomic_store(&held[0], 0);
    atomic_store(&held[1], 0);
    m.pool = open_or_fail(2);
    CHECK(pthread_create(&t, NULL, map_held, &m) == 0, "pthread_create");
    for (int i = 0; i < 10000 && !atomic_load(&held[0]); i++)
        nap_ms(1);
    CHECK(atomic_load(&held[0]), "the held task never started");

    double t0 = now();
    long arg = 1;
    struct out res;
    int err = pool_map(m.pool, square, &arg, sizeof arg, &res, sizeof res, 1, 0);
    CHECK(err == EBUSY, "second map: %d (%s)", err, strerror(err));
    CHECK(strstr(pool_error(m.pool), "busy"), "words: %s", pool_error(m.pool));
    CHECK(pool_close(m.pool) == EBUSY, "close");
    CHECK(pool_terminate(m.pool) == EBUSY, "terminate");
    CHECK(pool_join(m.pool) == EBUSY, "join");
    errno = 0;
    pool_free(m.pool);
    CHECK(errno == EBUSY, "pool_free: errno %d", errno);
    CHECK(now() - t0 < 1.0, "refusals took %.2f s", now() - t0);
    atomic_store(&held[1], 1);
    pthread_join(t, NULL);
    CHECK(m.err == 0, "the held map: %d, %s", m.err, pool_error(m.pool));

    /* A task calling on its own pool. */
    long self_err = -1;
    CHECK(pool_map(m.pool, reenter, &m.pool, sizeof m.pool, &self_err,
                   sizeof self_err, 1, 0) == 0, "map: %s", pool_error(m.pool));
    CHECK(self_err == (kind == POOL_THREADS ? EBUSY : EPERM),
          "a task mapping on its own pool got %ld", self_err);
    pool_free(m.pool);
    munmap(held, 2 * sizeof *held);
    CHECK(no_children(), "children left");
    printf("calls from a second thread during a map: EBUSY at once\n");
}

/* pool_spin_us: POOL_SPIN_US as the pools read it (the bats file sets it). */
static void case_spin_us(void)
{
    printf("%ld\n", pool_spin_us());
}

struct test {
    const char *name;
    void (*fn)(void);
    bool processes_only;
    bool not_in_all; /* left out of `all`, the run under valgrind */
};

static const struct test tests[] = {
    { "order", case_order, false, false },
    { "chunks", case_chunks, false, false },
    { "spin_us", case_spin_us, false, false },
    { "errors", case_errors, false, false },
    { "first_failure", case_first_failure, false, false },
    { "empty", case_empty, false, false },
    { "nullres", case_nullres, false, false },
    { "large", case_large, false, false },
    { "lifecycle", case_lifecycle, false, false },
    { "kill", case_kill, true, false },
    { "external_kill", case_external_kill, true, false },
    { "cycles", case_cycles, false, false },
    { "refused", case_refused, false, false },
    { "respawn_refused", case_respawn_refused, true, false },
    { "two_pools", case_two_pools, false, false },
    /* Two threads fork at once: a child forked while the other thread is
     * inside pool_open inherits memory only that thread's stack pointed to,
     * which valgrind calls lost; and valgrind runs one thread at a time, so
     * timed joins fail. These two run in make test, asan and tsan. */
    { "threads_open", case_threads_open, false, true },
    { "stopped", case_stopped, true, false },
    { "sigchld_ignored", case_sigchld_ignored, true, false },
    { "caller_fork", case_caller_fork, true, true },
    { "flush", case_flush, false, false },
    { "orphan", case_orphan, true, true }, /* it sleeps a minute */
    { "copies", case_copies, false, false },
    { "null", case_null, false, false },
    { "zero_arg", case_zero_arg, false, false },
    { "no_memory", case_no_memory, true, false },
    { "too_large", case_too_large, false, false },
    { "closed_channel", case_closed_channel, true, false },
    { "lost_zeros", case_lost_zeros, true, false },
    { "queue_scribble", case_queue_scribble, true, false },
    { "task_output", case_task_output, false, true }, /* it prints 40 lines */
    { "low_fds", case_low_fds, false, true }, /* it closes stdout */
    { "caller_child", case_caller_child, false, false },
    { "busy", case_busy, false, false },
    { "whole_failure", case_whole_failure, true, true }, /* valgrind fakes RLIMIT_NOFILE */
    { "task_exit", case_task_exit, true, false },
};

static void set_kind(const char *name)
{
    kind_name = name;
    if (strcmp(name, "processes") == 0)
        kind = POOL_PROCESSES;
    else if (strcmp(name, "threads") == 0)
        kind = POOL_THREADS;
    else {
        fprintf(stderr, "pool_test: unknown kind '%s'\n", name);
        exit(2);
    }
}

int main(int argc, char *argv[])
{
    size_t ntests = sizeof tests / sizeof tests[0];

    setvbuf(stdout, NULL, _IOFBF, BUFSIZ); /* the flush case needs a buffer */
    if (argc == 2 && strcmp(argv[1], "list") == 0) {
        for (size_t i = 0; i < ntests; i++)
            printf("%s%s\n", tests[i].name,
                   tests[i].processes_only ? " (processes only)" : "");
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "all") == 0) {
        static const char *const kinds[] = { "processes", "threads" };
        for (int k = 0; k < 2; k++)
            for (size_t i = 0; i < ntests; i++) {
                if ((tests[i].processes_only && k == 1) || tests[i].not_in_all)
                    continue;
                set_kind(kinds[k]);
                printf("%s %s: ", tests[i].name, kinds[k]);
                fflush(stdout);
                tests[i].fn();
                fflush(stdout);
            }
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: pool_test CASE KIND | all | list\n");
        return 2;
    }
    set_kind(argv[2]);
    for (size_t i = 0; i < ntests; i++)
        if (strcmp(argv[1], tests[i].name) == 0) {
            tests[i].fn();
            return 0;
        }
    fprintf(stderr, "pool_test: unknown case '%s'\n", argv[1]);
    return 2;
}
