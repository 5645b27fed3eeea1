/* tests/start_test.c - checks the start methods of pool/pool.h, one case a
 * run: fork, spawn and forkserver.
 *
 * Usage: start_test CASE METHOD   (METHOD: fork | spawn | forkserver)
 *        start_test all           every case but orphan, every method
 *        start_test cost [RUNS]   a fresh pool per map, per method (timed)
 *        start_test list          the cases
 *
 * pool_main() comes first in main(), as in every program that spawns: a
 * spawned worker or the fork server runs main() from the top and turns
 * into what it is there. Only the case before_main runs ahead of it, on
 * purpose. Each case prints what it checked and exits 0, or names the
 * failed check and exits 1. tests/start.bats runs them under timeout.
 */
#define _GNU_SOURCE /* strsignal */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "clock.h"
#include "err.h"
#include "pool.h"
#include "testlib.h"

static enum pool_start method;
static const char *method_name;

/* Set by main() after pool_main and before any pool opens: a forked worker
 * sees it, a fresh image never runs that line. */
static long set_in_main;

/* ---- tasks (the table below names those a fresh image may run) ---------- */

static int square(const void *arg, void *result)
{
    long x = *(const long *)arg;

    *(long *)result = x * x;
    return 0;
}

/* Later items finish sooner: order must be kept anyway. */
static int slow_square(const void *arg, void *result)
{
    nap_ms(10 - *(const long *)arg % 10);
    return square(arg, result);
}

/* Item 0 kills its worker's parent: under forkserver, the server. */
static int kills_server(const void *arg, void *result)
{
    if (*(const long *)arg == 0)
        kill(getppid(), SIGKILL);
    nap_ms(50); /* the worker dies with its server meanwhile */
    return square(arg, result);
}

/* Item 5 kills its own worker. */
static int suicidal(const void *arg, void *result)
{
    if (*(const long *)arg == 5)
        kill(getpid(), SIGKILL);
    return square(arg, result);
}

static int exiting(const void *arg, void *result)
{
    if (*(const long *)arg == 4)
        _exit(3);
    return square(arg, result);
}

/* Item 3 fails with ERANGE, the rest square. */
static int picky(const void *arg, void *result)
{
    if (*(const long *)arg == 3)
        return ERANGE;
    return square(arg, result);
}

/* Item 3 closes its worker's channel (every socket above 2: under spawn
 * the channel is on 3, under forkserver wherever it arrived), then returns
 * at once, or runs on a while: the pool waits a grace period, then kills. */
static int close_channel(const void *arg, void *result)
{
    long x = *(const long *)arg;

    if (x == 3 || x == -3) {
        for (int fd = 3; fd < 1024; fd++) {
            struct stat st;
            if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
                close(fd);
        }
        nap_ms(x < 0 ? 1000 : 0);
    }
    return square(arg, result);
}

/* What a worker is: its pid, its parent, and what it sees of set_in_main. */
struct who {
    long pid, ppid, global;
};

static int whoami(const void *arg, void *result)
{
    struct who *w = result;

    nap_ms(*(const long *)arg ? 0 : 20); /* let every worker take a turn */
    w->pid = (long)getpid();
    w->ppid = (long)getppid();
    w->global = set_in_main;
    return 0;
}

/* Not in the table: fine under fork, refused under spawn and forkserver. */
static int cube(const void *arg, void *result)
{
    long x = *(const long *)arg;

    *(long *)result = x * x * x;
    return 0;
}

static const struct pool_task tasks[] = {
    POOL_TASK(square),  POOL_TASK(slow_square),        POOL_TASK(suicidal),
    POOL_TASK(exiting), POOL_TASK(whoami), POOL_TASK(announce_and_sleep),
    POOL_TASK(picky),   POOL_TASK(invert),   POOL_TASK(close_channel),
    POOL_TASK(kills_server),
};

/* ---- helpers -------------------------------------------------------------- */

static struct pool *open_or_fail(int workers)
{
    struct pool *p = pool_open_start(POOL_PROCESSES, workers, method);

    CHECK(p != NULL, "pool_open_start(%s, %d): %s: %s", method_name, workers,
          strerror(errno), pool_error(NULL));
    return p;
}

static void map_squares(struct pool *p, size_t n, size_t chunksize)
{
    long args[1000], res[1000];

    CHECK(n <= 1000, "n %zu", n);
    fill(args, n);
    memset(res, 0, sizeof res);
    CHECK(pool_map(p, n > 100 ? square : slow_square, args, sizeof *args, res,
                   sizeof *res, n, chunksize) == 0, "map: %s", pool_error(p));
    for (size_t i = 0; i < n; i++)
        CHECK(res[i] == (long)(i * i), "results[%zu] = %ld", i, res[i]);
}

/* The state letter of process pid ('R', 'S', 'T' stopped, 'Z' zombie...)
 * and its parent, from /proc/PID/stat; 0 when it is gone. */
static char proc_state(const char *pid, long *ppid)
{
    char path[288], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    /* "pid (comm) state ppid ...": comm may hold spaces and ')'. */
    char *close = strrchr(buf, ')');
    char state;
    if (!close || sscanf(close + 1, " %c %ld", &state, ppid) != 2)
        return 0;
    return state;
}

/* The processes whose parent is `parent`, zombies included: their pids into
 * pids[0..max), their number returned. */
static int children_of(pid_t parent, pid_t *pids, int max)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;

    CHECK(d != NULL, "opendir /proc: %s", strerror(errno));
    while ((e = readdir(d))) {
        long ppid;
        if (isdigit((unsigned char)e->d_name[0]) &&
            proc_state(e->d_name, &ppid) && ppid == (long)parent) {
            if (n < max)
                pids[n] = (pid_t)atol(e->d_name);
            n++;
        }
    }
    closedir(d);
    return n;
}

/* The fork server: the parent of a forkserver pool's workers, as a task
 * finds it. Not our child (pool/start/forkserver.c): we have none. */
static pid_t the_server(void)
{
    long args[2] = { 0, 1 };
    struct who w[2];
    struct pool *p = open_or_fail(1);

    CHECK(pool_map(p, whoami, args, sizeof *args, w, sizeof *w, 1, 1) == 0,
          "map: %s", pool_error(p));
    pool_free(p);
    CHECK(children_of(getpid(), NULL, 0) == 0, "children: want none");
    CHECK(w[0].ppid != (long)getpid(), "the server is our child");
    return (pid_t)w[0].ppid;
}

/* children_of(parent), once it is `want` or two seconds have passed: the
 * fork server reaps its workers a moment after they leave. */
static int children_settled(pid_t parent, int want)
{
    pid_t pids[64];
    int n = children_of(parent, pids, 64);

    for (int i = 0; i < 2000 && n != want; i++) {
        nap_ms(1);
        n = children_of(parent, pids, 64);
    }
    return n;
}

/* ---- cases ---------------------------------------------------------------- */

/* Results in order, whatever the order the workers finish in; a thread pool
 * opened with the same method maps too (it ignores the method). */
static void case_map(void)
{
    struct pool *p = open_or_fail(3);

    map_squares(p, 60, 1);
    map_squares(p, 60, 7);
    map_squares(p, 1000, 0);
    pool_free(p);

    p = pool_open_start(POOL_THREADS, 2, method);
    CHECK(p != NULL, "thread pool: %s", pool_error(NULL));
    map_squares(p, 60, 1);
    pool_free(p);
    printf("%s: order kept (chunksize 1, 7, default), threads too\n",
           method_name);
}

/* Who the workers are: children of the program (fork, spawn) or of the
 * server (forkserver), and what they see of the program's globals. */
static void case_globals(void)
{
    enum { N = 8 };
    long args[N];
    struct who w[N];
    struct pool *p = open_or_fail(2);

    fill(args, N);
    CHECK(pool_map(p, whoami, args, sizeof *args, w, sizeof *w, N, 1) == 0,
          "map: %s", pool_error(p));
    pool_free(p);
    long want = method == POOL_START_FORK ? set_in_main : 0;
    for (int i = 0; i < N; i++) {
        CHECK(w[i].global == want, "item %d saw %ld, want %ld", i,
              w[i].global, want);
        CHECK(w[i].pid != (long)getpid(), "item %d ran in the program", i);
        if (method == POOL_START_FORKSERVER)
            CHECK(w[i].ppid != (long)getpid(), "a child of the program");
        else
            CHECK(w[i].ppid == (long)getpid(), "parent %ld", w[i].ppid);
    }
    printf("%s: workers see %ld (the program set %ld); parent: %s\n",
           method_name, w[0].global, set_in_main,
           method == POOL_START_FORKSERVER ? "the fork server"
                                           : "the program");
}

/* A worker dies mid-map: reported with how it died, replaced by the same
 * method, and the pool maps again. */
static void check_death(pool_fn *fn, size_t dead_item, const char *how)
{
    enum { N = 16 };
    long args[N], res[N];
    struct who w[N];
    struct pool *p = open_or_fail(2);

    fill(args, N);
    double t0 = now();
    int err = pool_map(p, fn, args, sizeof *args, res, sizeof *res, N, 1);
    CHECK(now() - t0 < 30.0, "the map took %.2f s", now() - t0); /* no hang */
    CHECK(err == EPIPE, "map returned %d (%s)", err, strerror(err));
    char want[32];
    snprintf(want, sizeof want, "item %zu lost: worker", dead_item);
    CHECK(strncmp(pool_error(p), want, strlen(want)) == 0 &&
          strstr(pool_error(p), how), "error text: %s", pool_error(p));
    for (size_t i = 0; i < N; i++)
        CHECK(i == dead_item || res[i] == (long)(i * i), "results[%zu]", i);
    printf("%s: %s\n", method_name, pool_error(p));

    /* The replacement came from the same method: same parent, same view. */
    CHECK(pool_map(p, whoami, args, sizeof *args, w, sizeof *w, N, 1) == 0,
          "map after the death: %s", pool_error(p));
    for (int i = 0; i < N; i++)
        CHECK((w[i].ppid == (long)getpid()) ==
              (method != POOL_START_FORKSERVER) &&
              w[i].global == (method == POOL_START_FORK ? set_in_main : 0),
              "item %d: parent %ld, global %ld", i, w[i].ppid, w[i].global);
    map_squares(p, 60, 1);
    pool_free(p);
}

static void case_kill(void)
{
    check_death(suicidal, 5, "was killed by signal 9");
    check_death(exiting, 4, "exited with status 3");
    printf("%s: replaced by the same method, pool usable\n", method_name);
}

/* A failing task and 1 MiB items: the pool's promises hold whatever the
 * method. */
static void case_errors(void)
{
    enum { N = 8 };
    long args[N], res[N];
    struct pool *p = open_or_fail(2);

    fill(args, N);
    CHECK(pool_map(p, picky, args, sizeof *args, res, sizeof *res, N, 1) ==
          ERANGE, "map: %s", pool_error(p));
    CHECK(strcmp(pool_error(p), "item 3 failed: Numerical result out of "
                 "range") == 0, "words: %s", pool_error(p));
    CHECK(res[7] == 49, "the other items have their results");
    printf("%s: %s\n", method_name, pool_error(p));

    unsigned char *in = malloc(2 * BIG), *out = malloc(2 * BIG);
    CHECK(in && out, "out of memory");
    for (size_t i = 0; i < 2 * BIG; i++)
        in[i] = (unsigned char)(i * 7);
    CHECK(pool_map(p, invert, in, BIG, out, BIG, 2, 1) == 0, "map: %s",
          pool_error(p));
    for (size_t i = 0; i < 2 * BIG; i++)
        CHECK(out[i] == (unsigned char)~in[i], "byte %zu", i);
    free(in);
    free(out);
    pool_free(p);
    printf("%s: two 1 MiB items there and back\n", method_name);
}

/* A task closes its worker's channel: reported as such, whether the
 * worker then leaves (it finds its channel gone) or runs on and is killed
 * after the grace period. Under forkserver the server tells how it ended. */
static void case_closed_channel(void)
{
    enum { N = 8 };
    long args[N], res[N];
    struct pool *p = open_or_fail(2);

    for (int i = 0; i < 2; i++) {
        fill(args, N);
        args[3] = i ? -3 : 3;
        int err = pool_map(p, close_channel, args, sizeof *args, res,
                           sizeof *res, N, 1);
        CHECK(err == EPIPE, "map returned %d: %s", err, pool_error(p));
        CHECK(strncmp(pool_error(p), "item 3 lost: worker", 19) == 0 &&
              strstr(pool_error(p), "had its channel closed"), "words: %s",
              pool_error(p));
        printf("%s: %s\n", method_name, strstr(pool_error(p), ") ") + 2);
    }
    map_squares(p, 60, 1);
    pool_free(p);
}

/* A caller that ignores SIGCHLD takes its children's exit status away:
 * fork and spawn workers then die "how is unknown"; forkserver workers are
 * the server's children, and the server still says how. */
static void case_sigchld_ignored(void)
{
    enum { N = 8 };
    long args[N], res[N];

    signal(SIGCHLD, SIG_IGN);
    fill(args, N);
    struct pool *p = open_or_fail(2);
    int err = pool_map(p, suicidal, args, sizeof *args, res, sizeof *res, N,
                       1);
    const char *want = method == POOL_START_FORKSERVER
                           ? "was killed by signal 9"
                           : "died (how is unknown";
    CHECK(err == EPIPE && strstr(pool_error(p), want), "%d: %s", err,
          pool_error(p));
    printf("%s: %s\n", method_name, strstr(pool_error(p), ") ") + 2);
    CHECK(pool_close(p) == 0 && pool_join(p) == 0, "join: %s",
          pool_error(p));
    pool_free(p);
    signal(SIGCHLD, SIG_DFL);
}

/* A worker stopped with SIGSTOP does not hang pool_free (SIGTERM, then
 * SIGCONT, then the wait), whoever is its parent. */
static void case_stopped(void)
{
    long args[2] = { 0, 1 }, ppid;
    struct who w[2];
    char pid[24];
    struct pool *p = open_or_fail(2);

    CHECK(pool_map(p, whoami, args, sizeof *args, w, sizeof *w, 2, 1) == 0,
          "map: %s", pool_error(p));
    kill((pid_t)w[0].pid, SIGSTOP);
    snprintf(pid, sizeof pid, "%ld", w[0].pid);
    for (int i = 0; i < 5000 && proc_state(pid, &ppid) != 'T'; i++)
        nap_ms(1); /* until it is stopped */
    CHECK(proc_state(pid, &ppid) == 'T', "worker %s never stopped", pid);
    pool_free(p);
    printf("%s: a stopped worker: pool_free returned\n", method_name);
}

/* A task not in pool_main's table: refused under spawn and forkserver with
 * words that say why, and the pool maps on. Under fork the pointer is good. */
static void case_unregistered(void)
{
    enum { N = 10 };
    long args[N], res[N];
    struct pool *p = open_or_fail(2);

    fill(args, N);
    int err = pool_map(p, cube, args, sizeof *args, res, sizeof *res, N, 0);
    if (method == POOL_START_FORK) {
        CHECK(err == 0, "fork: %s", pool_error(p));
        CHECK(res[N - 1] == (N - 1) * (N - 1) * (N - 1), "cube");
        printf("fork: an unregistered task runs (its pointer is valid)\n");
    } else {
        CHECK(err == EINVAL, "map returned %d", err);
        CHECK(strstr(pool_error(p), "not in pool_main's table"), "text: %s",
              pool_error(p));
        printf("%s: %s\n", method_name, pool_error(p));
    }
    map_squares(p, 60, 1);
    pool_free(p);
    printf("%s: the pool maps after it\n", method_name);
}

/* Run before pool_main: spawn and forkserver refuse, with words; fork and
 * thread pools open; an unknown method is refused. Then pool_main, and the
 * same open succeeds. */
static void case_before_main(void)
{
    struct pool *p = pool_open_start(POOL_PROCESSES, 2, method);

    if (method == POOL_START_FORK) {
        CHECK(p != NULL, "fork before pool_main: %s", strerror(errno));
        pool_free(p);
        printf("fork: opens before pool_main\n");
    } else {
        CHECK(p == NULL && errno == EINVAL, "opened, or errno %d", errno);
        CHECK(strstr(pool_error(NULL), "before pool_main()"), "words: '%s'",
              pool_error(NULL));
        printf("%s: %s\n", method_name, pool_error(NULL));
    }
    p = pool_open_start(POOL_THREADS, 2, method);
    CHECK(p != NULL, "threads: %s", pool_error(NULL));
    pool_free(p);
    p = pool_open_start(POOL_PROCESSES, 2, (enum pool_start)7);
    CHECK(p == NULL && errno == EINVAL &&
          strcmp(pool_error(NULL), "unknown start method 7") == 0,
          "words: '%s'", pool_error(NULL));

    POOL_MAIN(tasks);
    p = open_or_fail(2);
    map_squares(p, 60, 1);
    pool_free(p);
    printf("%s: after pool_main the pool opens and maps\n", method_name);
}

/* Many open/map/free cycles: no descriptor gained, no zombie, and under
 * forkserver one server left holding no worker. Fewer in `all`, the run
 * under valgrind, where every fresh image starts under valgrind too. */
static int cycles = 100;

static void case_cycles(void)
{

    pool_free(open_or_fail(1)); /* a forkserver's server starts once: here */
    int fds = count_fds();
    for (int i = 0; i < cycles; i++) {
        struct pool *p = open_or_fail(2);
        map_squares(p, 20, 0);
        if (i % 2)
            CHECK(pool_close(p) == 0 && pool_join(p) == 0, "close/join");
        pool_free(p);
    }
    CHECK(count_fds() == fds, "descriptors: %d before, %d after", fds,
          count_fds());
    CHECK(waitpid(-1, NULL, WNOHANG) <= 0, "a zombie was left");
    if (method == POOL_START_FORKSERVER) {
        pid_t server = the_server();
        int n = children_settled(server, 0);
        CHECK(n == 0, "the server holds %d workers", n);
    } else {
        CHECK(children_settled(getpid(), 0) == 0, "children left");
    }
    printf("%s: %d open/map/free cycles: %d fds before and after, "
           "no zombie, no worker left\n", method_name, cycles, fds);
}

/* The fork server killed under an open pool: its workers go with it, and
 * the pool's next map starts a new server and new workers. */
static void case_server_death(void)
{
    pid_t workers[2];

    CHECK(method == POOL_START_FORKSERVER, "forkserver only");
    struct pool *p = open_or_fail(2);
    map_squares(p, 60, 1);
    pid_t server = the_server();
    CHECK(children_of(server, workers, 2) == 2, "the server's workers");
    kill(server, SIGKILL);
    for (int i = 0; i < 2; i++) /* PR_SET_PDEATHSIG: they die with it */
        for (int tries = 0; tries < 5000 && kill(workers[i], 0) == 0; tries++)
            nap_ms(1);
    map_squares(p, 60, 1);
    pid_t again = the_server();
    CHECK(again != server, "the same server %ld", (long)server);
    pool_free(p);
    printf("forkserver: server killed, its workers gone; the next map "
           "started a new one\n");
}

/* The fork server dies in the middle of a map: its workers die with it,
 * their items are lost with words that say so, and the next map starts a
 * new server. */
static void case_server_dies(void)
{
    long args[4] = { 0, 1, 2, 3 };
    long res[4];

    CHECK(method == POOL_START_FORKSERVER, "forkserver only");
    struct pool *p = open_or_fail(2);
    int err = pool_map(p, kills_server, args, sizeof *args, res, sizeof *res,
                       4, 1);
    printf("%s\n", pool_error(p));
    CHECK(err == EPIPE && strstr(pool_error(p), "died with its fork server"),
          "map returned %d: %s", err, pool_error(p));
    map_squares(p, 20, 0);
    pool_free(p);
}

/* The program's file replaced while it runs (a rebuild): a fresh image is
 * still the program that runs, not what the file holds now. Run on a copy:
 * the copy is replaced for good. */
static void case_replaced(void)
{
    char path[4096], tmp[4200];
    ssize_t len = readlink("/proc/self/exe", path, sizeof path - 1);

    CHECK(method != POOL_START_FORK, "spawn or forkserver only");
    CHECK(len > 0, "readlink: %s", strerror(errno));
    path[len] = '\0';
    snprintf(tmp, sizeof tmp, "%s.new", path);
    FILE *f = fopen(tmp, "w");
    CHECK(f && fputs("#!/bin/sh\nexit 3\n", f) >= 0 && fclose(f) == 0 &&
          chmod(tmp, 0755) == 0 && rename(tmp, path) == 0, "replace %s: %s",
          path, strerror(errno));
    struct pool *p = open_or_fail(2);
    map_squares(p, 20, 0);
    pool_free(p);
    printf("%s: the program's file replaced: the workers run the program "
           "that started them\n", method_name);
}

/* tests/start.bats kills this program and looks for what it left. */
static void case_orphan(void)
{
    long args[2] = { 0, 1 };

    printf("parent %ld\n", (long)getpid());
    fflush(stdout);
    struct pool *p = open_or_fail(2);
    pool_map(p, announce_and_sleep, args, sizeof *args, NULL, 0, 2, 1);
    pool_free(p);
}

/* ---- cost: a fresh pool per map ------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Open 2 workers, map square over 1000 items, close, join: `runs` times per
 * method; the median and the range in ms. As CPython's `with
 * get_context(m).Pool(2) as p: p.map(square, range(1000))`. */
static void cost(int runs)
{
    double t[101] = { 0 };
    long args[1000], res[1000];

    fill(args, 1000);
    printf("a fresh pool per map: open 2 workers, map 1000 squares, "
           "close, join\n%-11s %9s %9s %9s   (%d runs)\n", "method",
           "median", "min", "max", runs);
    for (int m = 0; m <= POOL_START_FORKSERVER; m++) {
        method = (enum pool_start)m;
        method_name = pool_start_name(method);
        for (int r = 0; r < runs; r++) {
            double t0 = now();
            struct pool *p = open_or_fail(2);
            CHECK(pool_map(p, square, args, sizeof *args, res, sizeof *res,
                           1000, 0) == 0, "map: %s", pool_error(p));
            CHECK(pool_close(p) == 0 && pool_join(p) == 0, "close/join");
            pool_free(p);
            t[r] = (now() - t0) * 1e3;
        }
        qsort(t, (size_t)runs, sizeof t[0], cmp_double);
        printf("%-11s %6.2f ms %6.2f ms %6.2f ms\n", method_name,
               t[runs / 2], t[0], t[runs - 1]);
    }
}

/* ---- the driver ------------------------------------------------------------ */

struct test {
    const char *name;
    void (*fn)(void);
    bool not_in_all; /* left out of `all`, the run under valgrind */
};

static const struct test tests[] = {
    { "map", case_map, false },
    { "globals", case_globals, false },
    { "kill", case_kill, false },
    { "unregistered", case_unregistered, false },
    { "errors", case_errors, false },
    { "closed_channel", case_closed_channel, false },
    { "sigchld_ignored", case_sigchld_ignored, false },
    { "stopped", case_stopped, false },
    { "server_death", case_server_death, true }, /* forkserver only */
    { "server_dies", case_server_dies, true },   /* forkserver only */
    { "replaced", case_replaced, true },         /* it replaces itself */
    { "cycles", case_cycles, false },
    { "before_main", case_before_main, true }, /* runs before pool_main */
    { "orphan", case_orphan, true },           /* it sleeps a minute */
};

static void set_method(const char *name)
{
    method_name = name;
    if (pool_start_parse(name, &method) != 0) {
        fprintf(stderr, "start_test: unknown method '%s'\n", name);
        exit(2);
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: start_test CASE METHOD | all | cost [RUNS] | "
            "list\n");
    return 2;
}

int main(int argc, char *argv[])
{
    size_t ntests = sizeof tests / sizeof tests[0];

    /* The one case that must run before pool_main, on purpose. */
    if (argc == 3 && strcmp(argv[1], "before_main") == 0) {
        set_method(argv[2]);
        case_before_main();
        return 0;
    }
    POOL_MAIN(tasks);
    set_in_main = 42; /* what only a forked worker will see */

    if (argc == 2 && strcmp(argv[1], "list") == 0) {
        for (size_t i = 0; i < ntests; i++)
            printf("%s\n", tests[i].name);
        return 0;
    }
    if (argc >= 2 && argc <= 3 && strcmp(argv[1], "cost") == 0) {
        prog_init("start_test", "start_test cost [RUNS]");
        cost(argc == 3 ? (int)parse_long("RUNS", argv[2], 1, 101) : 11);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "all") == 0) {
        cycles = 10;
        for (int m = 0; m <= POOL_START_FORKSERVER; m++)
            for (size_t i = 0; i < ntests; i++) {
                if (tests[i].not_in_all)
                    continue;
                set_method(pool_start_name((enum pool_start)m));
                printf("%s %s: ", tests[i].name, method_name);
                fflush(stdout);
                tests[i].fn();
                fflush(stdout);
            }
        return 0;
    }
    if (argc != 3)
        return usage();
    set_method(argv[2]);
    for (size_t i = 0; i < ntests; i++)
        if (strcmp(argv[1], tests[i].name) == 0) {
            tests[i].fn();
            return 0;
        }
    fprintf(stderr, "start_test: unknown case '%s'\n", argv[1]);
    return 2;
}
