/* tests/rounds.c - the measuring harness of latency_test and plat_test
 * (see rounds.h). */
#define _POSIX_C_SOURCE 200809L /* setenv, strdup */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "clock.h"
#include "err.h"
#include "poolrun.h"
#include "rounds.h"
#include "stats.h"

long args[N_ITEMS], results[N_ITEMS];
double round_s = 0.020;

int square_long(const void *arg, void *result)
{
    long x = *(const long *)arg;

    *(long *)result = x * x;
    return 0;
}

void run_pool(struct row *r)
{
    map_or_die(r->pool, r->name, square_long, args, sizeof *args, results,
               sizeof *results, N_ITEMS, 0);
}

#ifdef _OPENMP
void run_omp(struct row *r)
{
#pragma omp parallel for schedule(dynamic, 125) num_threads(r->threads)
    for (int i = 0; i < N_ITEMS; i++)
        results[i] = args[i] * args[i];
}
#endif

void sleep_s(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* As many maps as fill a round, found by doubling. */
static void calibrate(struct row *r)
{
    double t;

    for (r->reps = 1;; r->reps *= 2) {
        t = now();
        for (long k = 0; k < r->reps; k++)
            r->run(r);
        if (now() - t >= round_s / 4 || r->reps >= 1L << 22)
            break;
    }
    r->reps = (long)((double)r->reps * round_s / (now() - t + 1e-9)) + 1;
}

/* Every result right, after a round: a lost or doubled chunk shows here. */
void check_results(const struct row *r)
{
    for (long i = 0; i < N_ITEMS; i++) {
        if (results[i] != i * i)
            fatal("%s: result %ld is %ld, not %ld", r->name, i, results[i],
                  i * i);
        results[i] = -1;
    }
}

static void measure_round(struct row *r, int round, const struct counts *c)
{
    long long c0[2] = { 0, 0 }, c1[2] = { 0, 0 };
    double t;

    c->counter(c0);
    t = now();
    for (long k = 0; k < r->reps; k++)
        r->run(r);
    r->per_map[round] = (now() - t) / (double)r->reps;
    c->counter(c1);
    for (int i = 0; i < c->n; i++)
        r->count[i] += c1[i] - c0[i];
    r->maps += r->reps;
    check_results(r);
}


void measure_rows(struct row *rows, int nrows, int rounds,
                  const struct counts *counts)
{
    double first = 0;

    for (int i = 0; i < nrows; i++)
        calibrate(&rows[i]);
    for (int k = 0; k < rounds; k++)
        for (int i = 0; i < nrows; i++) {
            sleep_s(0.02);
            measure_round(&rows[i], k, counts);
        }
    printf("  %-26s %7s %17s %6s", "us per map", "median", "(min - max)",
           "ratio");
    for (int j = 0; j < counts->n; j++)
        printf(" %8s", counts->head[j]);
    printf("\n");
    for (int i = 0; i < nrows; i++) {
        struct row *r = &rows[i];
        double med = median(r->per_map, rounds); /* sorts: [0] is the min */

        if (i == 0)
            first = med;
        printf("  %-26s %7.2f (%6.2f - %7.2f) %5.1fx", r->name, med * 1e6,
               r->per_map[0] * 1e6, r->per_map[rounds - 1] * 1e6, med / first);
        for (int j = 0; j < counts->n; j++)
            printf(" %8.3f", (double)r->count[j] / (double)r->maps);
        printf("\n");
    }
}

struct pool *open_with_spin(enum pool_kind kind, int workers, const char *spin)
{
    const char *old = getenv("POOL_SPIN_US");
    char *saved = old ? strdup(old) : NULL;
    struct pool *pool;

    if (old && !saved)
        die("strdup");
    if (spin)
        setenv("POOL_SPIN_US", spin, 1);
    pool = open_or_die(kind, workers);
    if (saved)
        setenv("POOL_SPIN_US", saved, 1);
    else if (spin)
        unsetenv("POOL_SPIN_US");
    free(saved);
    return pool;
}

int pool_rows(struct row *rows, enum pool_kind kind, int workers,
              const char *suffix)
{
    static char names[2][64];
    const char *kind_name = pool_kind_name(kind);

    snprintf(names[0], sizeof names[0], "%s%s", kind_name, suffix);
    snprintf(names[1], sizeof names[1], "%s%s, POOL_SPIN_US=0", kind_name,
             suffix);
    rows[0] = (struct row){ .name = names[0], .run = run_pool,
                            .pool = open_with_spin(kind, workers, NULL) };
    rows[1] = (struct row){ .name = names[1], .run = run_pool,
                            .pool = open_with_spin(kind, workers, "0") };
    return 2;
}

void free_rows(struct row *rows, int nrows)
{
    for (int i = 0; i < nrows; i++)
        pool_free(rows[i].pool);
}

const char *rounds_options(int argc, char *argv[], int *rounds, int *workers,
                           const char *modes)
{
    static const struct option longopts[] = {
        OPT_VALUE("rounds", 'r'), OPT_FLAG("quick", 'q'), OPT_POOL, OPT_END,
    };
    bool quick = false;
    int c;

    *rounds = 31;
    *workers = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":r:w:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'r': *rounds = (int)parse_long("-r", optarg, 1, MAX_ROUNDS - 1); break;
        case 'q': quick = true; break;
        default: pool_option(c, argv, workers);
        }
    }
    if (optind != argc - 1)
        usage_error("expected one mode: %s", modes);
    if (quick) {
        *rounds = 3;
        round_s = 0.002;
    }
    for (int i = 0; i < N_ITEMS; i++)
        args[i] = i;
    return argv[optind];
}

void run_mode(const struct mode *modes, int n, const char *name, int workers,
              int rounds)
{
    char list[128] = "";

    for (int i = 0; i < n; i++) {
        if (strcmp(modes[i].name, name) != 0)
            continue;
        if (!workers && strcmp(name, "crowd") != 0)
            workers = 2;
        if (strcmp(name, "idle") == 0 && rounds > 5)
            rounds = 5;
        modes[i].run(workers, rounds);
        return;
    }
    for (int i = 0; i < n; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                 i ? (i == n - 1 ? " or " : ", ") : "", modes[i].name);
    usage_error("unknown mode '%s' (%s)", name, list);
}

void measure_with_pool(struct row *rows, int nrows, enum pool_kind kind,
                       int workers, int rounds, const struct counts *counts)
{
    nrows += pool_rows(rows + nrows, kind, workers, "");
    measure_rows(rows, nrows, rounds, counts);
    free_rows(rows, nrows);
}

void print_idle(double *early, double *late, int rounds)
{
    double e = median(early, rounds), l = median(late, rounds);

    printf("  CPU burnt in the first 5 ms:   %7.3f ms (median of %d)\n",
           e * 1e3, rounds);
    printf("  CPU burnt in the next 495 ms:  %7.3f ms\n", l * 1e3);
    printf("  over the 0.5 s: %.2f%% of one CPU\n", (e + l) / 0.5 * 100);
}
