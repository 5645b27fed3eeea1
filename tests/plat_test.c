/* tests/plat_test.c - a small map on an open process pool, against OpenMP's
 * parallel for; what an idle process pool burns; and the shared regions'
 * hand-off checked under load.
 *
 * Shows: where a small map's time goes when its data crosses the process
 * boundary by copy. Each row is the median of -r rounds, with the fastest
 * and slowest round beside it; a round repeats its map until it has lasted
 * 20 ms. Rows are measured in turn within each round, so a burst of noise
 * on a shared machine hits them all. Sleeps per map are the voluntary
 * context switches of the caller and its workers (/proc): each is a
 * wake-up someone paid for.
 *
 *   map     2 workers (-w), a pool opened once, default chunksize: OpenMP's
 *           `parallel for schedule(dynamic, 125)` when built with -fopenmp,
 *           the process pool, and the pool with POOL_SPIN_US=0
 *   idle    CPU time the caller and its workers burn while the pool sits
 *           idle for 0.5 s after 20 ms of maps
 *   crowd   the map with 4 workers per CPU (-w to change)
 *   check   many maps of every size and chunksize, items small (through
 *           the regions) and large (through the sockets), every result
 *           checked; then a worker killed between maps, at once: the next
 *           map loses nothing
 *   fds     after a map: per process (the caller, its children and theirs,
 *           a child the caller forks itself), the region and queue
 *           mappings it holds and the memfd descriptors open;
 *           then the caller's once more, after pool_free
 *
 * Usage: plat_test [-r ROUNDS] [-w WORKERS] [-q] [--start M] MODE
 *
 * Try:
 *   tests/plat_test map                     the figures of the docs
 *   chrt -f 10 tests/plat_test map          (as root) a quiet machine's
 *   tests/plat_test --start spawn check     the hand-off under spawn
 *
 * See also: docs/spinning.md, pool/fast/procs.c.
 */
#define _GNU_SOURCE /* getopt_long */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "clock.h"
#include "err.h"
#include "pool.h"
#include "poolrun.h"
#include "rounds.h"

#define MAX_ROWS 3
#define BIG 40000 /* bytes an item: a chunk of these misses the region */

static const char usage[] =
    "usage: plat_test [-r ROUNDS] [-w WORKERS] [-q] [--start M]\n"
    "                 map|idle|crowd|check|fds\n"
    "  -r N        rounds per row, the median is shown (default 31)\n"
    "  -w N        workers (default 2; crowd: 4 per CPU)\n"
    "  -q          quick: 3 rounds of 2 ms (for the tests)\n"
    "  --start M   fork, spawn or forkserver (default fork)\n";

/* A big item: its first long, squared, at both ends of the result. */
static int square_big(const void *arg, void *result)
{
    long x;

    memcpy(&x, arg, sizeof x);
    x *= x;
    memset(result, 0, BIG);
    memcpy(result, &x, sizeof x);
    memcpy((char *)result + BIG - sizeof x, &x, sizeof x);
    return 0;
}

/* The worker's parent: the caller, or under forkserver the fork server. */
static int parent_of_worker(const void *arg, void *result)
{
    (void)arg;
    *(long *)result = (long)getppid();
    return 0;
}

static const struct pool_task tasks[] = { POOL_TASK(square_long),
                                          POOL_TASK(square_big),
                                          POOL_TASK(parent_of_worker) };

/* ---- the caller's children, from /proc ----------------------------------- */

/* The state letter and the parent of process `pid`, from /proc/PID/stat
 * (its name may hold anything, so the fields are read after its last ')').
 * False when the process is gone. */
static bool proc_stat(const char *pid, char *state, long *ppid)
{
    char path[300], buf[512];

    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    char *p = strrchr(buf, ')');
    return p && sscanf(p + 1, " %c %ld", state, ppid) == 2;
}

/* proc_stat() by number. */
static bool proc_stat_of(pid_t pid, char *state, long *ppid)
{
    char name[32];

    snprintf(name, sizeof name, "%ld", (long)pid);
    return proc_stat(name, state, ppid);
}

/* Call fn for every process whose parent is `parent`. */
static void each_child(pid_t parent, void (*fn)(pid_t pid, void *ctx),
                       void *ctx)
{
    DIR *d = opendir("/proc");
    struct dirent *e;

    if (!d)
        die("opendir /proc");
    while ((e = readdir(d))) {
        long ppid;
        char state;
        if (isdigit((unsigned char)e->d_name[0]) &&
            proc_stat(e->d_name, &state, &ppid) && ppid == parent &&
            state != 'Z')
            fn((pid_t)atol(e->d_name), ctx);
    }
    closedir(d);
}

/* A number from a /proc file: the line starting with key (NULL: the first
 * number of the file). 0 if none. */
static long long proc_number(pid_t pid, const char *file, const char *key)
{
    char path[64], line[256];
    long long v = 0;

    snprintf(path, sizeof path, "/proc/%ld/%s", (long)pid, file);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (!key || strncmp(line, key, strlen(key)) == 0) {
            sscanf(line + (key ? strlen(key) : 0), "%lld", &v);
            break;
        }
    fclose(f);
    return v;
}

struct tally {
    const char *file, *key;
    long long sum;
};

static void add_one(pid_t pid, void *ctx)
{
    struct tally *t = ctx;

    t->sum += proc_number(pid, t->file, t->key);
}

/* Summed over us, our children and theirs (a fork server's workers). */
static void add_family(pid_t pid, void *ctx)
{
    add_one(pid, ctx);
    each_child(pid, add_one, ctx);
}

static long long family(const char *file, const char *key)
{
    struct tally t = { file, key, 0 };

    add_one(getpid(), &t);
    each_child(getpid(), add_family, &t);
    return t.sum;
}

/* Voluntary context switches of the caller and its workers: sleeps. */
static void count_sleeps(long long c[2])
{
    c[0] = family("status", "voluntary_ctxt_switches:");
}

static const struct counts sleeps_count = { 1, { "sleeps/map", NULL },
                                            count_sleeps };

/* The family's pids, found once: a walk of /proc costs more CPU than
 * an idle pool burns, and must not be counted as the pool's. */
struct pids {
    pid_t pid[POOL_MAX_WORKERS + 2];
    int n;
};

static void note_pid(pid_t pid, void *ctx)
{
    struct pids *p = ctx;

    if (p->n < POOL_MAX_WORKERS + 2)
        p->pid[p->n++] = pid;
}

static void note_family(pid_t pid, void *ctx)
{
    note_pid(pid, ctx);
    each_child(pid, note_pid, ctx);
}

/* CPU time in ns, from the scheduler (schedstat), of these processes. */
static long long cpu_ns(const struct pids *p)
{
    long long sum = 0;

    for (int i = 0; i < p->n; i++)
        sum += proc_number(p->pid[i], "schedstat", NULL);
    return sum;
}

/* ---- the rows ------------------------------------------------------------ */

/* ---- the modes ----------------------------------------------------------- */

static void mode_map(int workers, int rounds)
{
    struct row rows[MAX_ROWS];
    int nrows = 0;

    printf("map: x*x over %d longs, %d workers (%s), pool opened once, "
           "default chunksize\n", N_ITEMS, workers,
           pool_start_name(start_method()));
#ifdef _OPENMP
    rows[nrows++] = (struct row){ .name = "openmp dynamic,125",
                                  .run = run_omp, .threads = workers };
#else
    printf("  (no OpenMP row: built without -fopenmp)\n");
#endif
    measure_with_pool(rows, nrows, POOL_PROCESSES, workers, rounds,
                      &sleeps_count);
}

/* Whether every worker of p (all but p->pid[0], the caller) sleeps: its
 * state in /proc/PID/stat is not R (running, or waiting for a CPU). */
static bool all_asleep(const struct pids *p)
{
    for (int i = 1; i < p->n; i++) {
        char state;
        long ppid;
        if (proc_stat_of(p->pid[i], &state, &ppid) && state == 'R')
            return false;
    }
    return true;
}

/* How long after its last map until every worker sleeps (at most 1 s). */
static double spin_after_map(struct row *r, const struct pids *p)
{
    double t0 = now(), t;

    while (now() - t0 < 0.02)
        run_pool(r);
    t0 = now();
    while (!all_asleep(p) && (t = now()) - t0 < 1)
        sleep_s(0.0001);
    return now() - t0;
}

static void mode_idle(int workers, int rounds)
{
    struct row r = { .name = "idle", .run = run_pool };
    double early[64] = { 0 }, late[64] = { 0 };

    r.pool = open_with_spin(POOL_PROCESSES, workers, NULL);
    printf("idle: %d workers (%s) left idle for 0.5 s after 20 ms of maps\n",
           workers, pool_start_name(start_method()));
    for (int k = 0; k < rounds; k++) {
        struct pids p = { .n = 0 };
        note_pid(getpid(), &p);
        each_child(getpid(), note_family, &p);
        double t0 = now();

        while (now() - t0 < 0.02)
            run_pool(&r);
        check_results(&r);
        long long c0 = cpu_ns(&p);
        sleep_s(0.005);
        long long c1 = cpu_ns(&p);
        sleep_s(0.495);
        early[k] = (double)(c1 - c0) * 1e-9;
        late[k] = (double)(cpu_ns(&p) - c1) * 1e-9;
    }
    double asleep[64] = { 0 };
    for (int k = 0; k < rounds; k++) {
        struct pids p = { .n = 0 };
        note_pid(getpid(), &p);
        each_child(getpid(), note_family, &p);
        asleep[k] = spin_after_map(&r, &p);
    }
    double a = median(asleep, rounds);
    printf("  every worker asleep after:     %7.3f ms (median of %d)\n",
           a * 1e3, rounds);
    print_idle(early, late, rounds);
    pool_free(r.pool);
}

static void mode_crowd(int workers, int rounds)
{
    struct row rows[MAX_ROWS];

    if (workers == 0)
        workers = 4 * pool_cpu_count();
    printf("crowd: %d workers (%s) on %d CPUs\n", workers,
           pool_start_name(start_method()), pool_cpu_count());
    int nrows = pool_rows(rows, POOL_PROCESSES, workers, "");
    measure_rows(rows, nrows, rounds, &sleeps_count);
    free_rows(rows, nrows);
}

/* ---- check --------------------------------------------------------------- */

/* Every size and chunksize, small and big items, every result checked. */
static void check_sizes(struct pool *pool, int maps)
{
    static long small[3000], out[3000];
    char *big = calloc(64, BIG), *bout = calloc(64, BIG);
    unsigned long x = 12345;

    if (!big || !bout)
        die("calloc");
    for (int m = 0; m < maps; m++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        size_t n = (x >> 33) % 3000, chunk = (x >> 20) % 7 ? (x >> 8) % 300 : 0;
        for (size_t i = 0; i < n; i++)
            small[i] = (long)(i + (size_t)m);
        map_or_die(pool, "small items", square_long, small, sizeof *small,
                   out, sizeof *out, n, chunk);
        for (size_t i = 0; i < n; i++)
            if (out[i] != small[i] * small[i])
                fatal("map %d: item %zu of %zu (chunksize %zu): %ld", m, i,
                      n, chunk, out[i]);
        if (m % 16)
            continue;
        /* Big items: 1 a chunk fits a region, 8 do not. */
        size_t bn = 1 + (x >> 40) % 64, bchunk = (x >> 50) % 2 ? 1 : 8;
        for (size_t i = 0; i < bn; i++) {
            long v = (long)(i * 3 + (size_t)m);
            memcpy(big + i * BIG, &v, sizeof v);
        }
        map_or_die(pool, "big items", square_big, big, BIG, bout, BIG, bn,
                   bchunk);
        for (size_t i = 0; i < bn; i++) {
            long v = (long)(i * 3 + (size_t)m), a, b;
            memcpy(&a, bout + i * BIG, sizeof a);
            memcpy(&b, bout + (i + 1) * BIG - sizeof b, sizeof b);
            if (a != v * v || b != v * v)
                fatal("map %d: big item %zu: %ld, %ld", m, i, a, b);
        }
    }
    free(big);
    free(bout);
}

static void kill_one(pid_t pid, void *ctx)
{
    pid_t *victim = ctx;

    if (!*victim)
        *victim = pid;
}

/* Whether pid has ended, its descriptors closed: a zombie (or gone) with
 * no thread left but the first. A worker under ThreadSanitizer has a
 * second thread, and holds its channel until that one is gone too. */
static bool ended(pid_t pid)
{
    char path[64], state;
    long ppid;
    int threads = 0;

    if (!proc_stat_of(pid, &state, &ppid))
        return true;
    snprintf(path, sizeof path, "/proc/%ld/task", (long)pid);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)))
        threads += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return (state == 'Z' || state == 'X') && threads <= 1;
}

/* Kill a worker right after a map, while it still watches its region, and
 * map again: the chunk it would have taken goes to another worker. */
static void check_kills(struct pool *pool, int times)
{
    for (int k = 0; k < times; k++) {
        pid_t victim = 0;
        map_or_die(pool, "before the kill", square_long, args, sizeof *args,
                   results, sizeof *results, N_ITEMS, 0);
        each_child(getpid(), kill_one, &victim);
        if (start_method() == POOL_START_FORKSERVER)
            break; /* its workers are the server's children: not ours */
        if (!victim)
            fatal("no worker found");
        kill(victim, SIGKILL);
        while (!ended(victim))
            sleep_s(0.0002);
        map_or_die(pool, "after the kill", square_long, args, sizeof *args,
                   results, sizeof *results, N_ITEMS, 0);
        check_results(&(struct row){ .name = "after the kill" });
    }
}

static void mode_check(int workers, int rounds)
{
    const char *spins[] = { NULL, "0", "5" };

    for (size_t s = 0; s < sizeof spins / sizeof spins[0]; s++) {
        struct pool *pool = open_with_spin(POOL_PROCESSES, workers, spins[s]);
        check_sizes(pool, rounds * 8);
        check_kills(pool, rounds);
        pool_free(pool);
        printf("check: POOL_SPIN_US=%s, %d workers (%s): every result "
               "right\n", spins[s] ? spins[s] : "default", workers,
               pool_start_name(start_method()));
    }
}

/* How many lines of /proc/PID/maps name a pool's shared region (a forked
 * pool and its workers share one: pool/fast/procs.c), and how many links
 * of /proc/PID/fd a memfd. */
static void regions_of(pid_t pid, void *ctx)
{
    char path[300], line[512];
    int regions = 0, fds = 0;

    snprintf(path, sizeof path, "/proc/%ld/maps", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        die("%s", path);
    while (fgets(line, sizeof line, f))
        regions += strstr(line, "memfd:pool-queue") != NULL;
    fclose(f);
    snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
    DIR *d = opendir(path);
    struct dirent *e;
    if (!d)
        die("%s", path);
    while ((e = readdir(d))) {
        char link[600], target[256];
        snprintf(link, sizeof link, "%s/%s", path, e->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len > 0) {
            target[len] = '\0';
            fds += strstr(target, "memfd:") != NULL;
        }
    }
    closedir(d);
    printf("%s: %d region mappings, %d memfd descriptors\n",
           (const char *)ctx, regions, fds);
}

/* A child, and its own children (a fork server's workers). */
static void regions_below(pid_t pid, void *ctx)
{
    (void)ctx;
    regions_of(pid, "child");
    each_child(pid, regions_of, "grandchild");
}

static void mode_fds(int workers, int rounds)
{
    (void)rounds;
    struct pool *pool = open_with_spin(POOL_PROCESSES, workers, NULL);

    map_or_die(pool, "fds", square_long, args, sizeof *args, results,
               sizeof *results, N_ITEMS, 0);
    regions_of(getpid(), "caller");
    each_child(getpid(), regions_below, NULL);
    /* The fork server is no child of ours (pool/start/forkserver.c). */
    long server = 0;
    map_or_die(pool, "fds", parent_of_worker, NULL, 0, &server, sizeof server,
               1, 0);
    if (server != (long)getpid())
        regions_below((pid_t)server, NULL);
    /* A child of the caller's own gets none of them (MADV_DONTFORK). */
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        regions_of(getpid(), "caller's child");
        fflush(stdout);
        _exit(0);
    }
    while (waitpid(pid, NULL, 0) < 0)
        if (errno != EINTR)
            die("waitpid");
    pool_free(pool);
    regions_of(getpid(), "caller");
}

int main(int argc, char *argv[])
{
    int rounds, workers;

    POOL_MAIN(tasks);
    prog_init("plat_test", usage);
    const char *mode = rounds_options(argc, argv, &rounds, &workers,
                                      "map, idle, crowd, check or fds");
    static const struct mode modes[] = {
        { "map", mode_map }, { "idle", mode_idle }, { "crowd", mode_crowd },
        { "check", mode_check }, { "fds", mode_fds },
    };
    run_mode(modes, 5, mode, workers, rounds);
    return 0;
}
