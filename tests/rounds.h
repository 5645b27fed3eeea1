/* tests/rounds.h - the measuring harness of latency_test and plat_test.
 *
 * A row is one way to map x*x over N_ITEMS longs once (a pool, OpenMP).
 * The rows take turns, round after round, a pause before each so that no
 * row runs beside another's spinning; a round repeats its row's map for
 * round_s and keeps the time per map; every result is checked after each
 * round. One line a row at the end: the median with the fastest and the
 * slowest round, the ratio to the first row, and the driver's counts per
 * map (context switches: who slept).
 */
#ifndef ROUNDS_H
#define ROUNDS_H

#include "pool.h"
#include "stats.h"

#define N_ITEMS 1000
#define MAX_ROUNDS 64

extern long args[N_ITEMS], results[N_ITEMS];
extern double round_s;      /* how long one round repeats its map */

struct row {
    const char *name;
    void (*run)(struct row *r);
    struct pool *pool;
    int threads;
    long reps;                      /* maps per round */
    double per_map[MAX_ROUNDS];     /* seconds, one a round */
    long long count[2], maps;       /* the driver's counts over every round */
};

/* What a driver counts, and how its columns are headed: counter(c) puts
 * the counts as they stand now into c[0..ncounts). */
struct counts {
    int n;                          /* 1 or 2 columns */
    const char *head[2];
    void (*counter)(long long c[2]);
};

/* The task: x*x, longs. */
int square_long(const void *arg, void *result);

/* A row's run: the map on r->pool. */
void run_pool(struct row *r);

#ifdef _OPENMP
/* OpenMP's row: the same map as `#pragma omp parallel for
 * schedule(dynamic, 125)` on r->threads threads. */
void run_omp(struct row *r);
#endif

/* Sleep s seconds. */
void sleep_s(double s);

/* Every result right (a lost or doubled chunk shows here); then each
 * result is set to -1 for the next round. */
void check_results(const struct row *r);

/* Measure every row `rounds` times, in turn, and print one line a row. */
void measure_rows(struct row *rows, int nrows, int rounds,
                  const struct counts *counts);

/* A pool of `kind` opened with POOL_SPIN_US set to `spin` (NULL: as the
 * environment has it), the environment left as it was. */
struct pool *open_with_spin(enum pool_kind kind, int workers, const char *spin);

/* The drivers' command line, [-r ROUNDS] [-w WORKERS] [-q] [--start M]
 * MODE: *rounds (31; -q: 3 rounds of 2 ms), *workers (0 unless -w), the
 * arguments 0..N_ITEMS-1 set; returns MODE. `modes` names them for the
 * usage error of a missing one. */
const char *rounds_options(int argc, char *argv[], int *rounds, int *workers,
                           const char *modes);

/* The pool's two rows, "KIND SUFFIX": its spin as the environment sets it,
 * and none (POOL_SPIN_US=0). Returns 2. */
int pool_rows(struct row *rows, enum pool_kind kind, int workers,
              const char *suffix);

/* A driver's modes: run(workers, rounds), workers 0 unless -w gave it. */
struct mode {
    const char *name;
    void (*run)(int workers, int rounds);
};

/* Run the mode named `name` of modes[0..n), or a usage error. Its
 * defaults: 2 workers but for "crowd" (which picks its own), at most 5
 * rounds for "idle". */
void run_mode(const struct mode *modes, int n, const char *name, int workers,
              int rounds);

/* The rows given (OpenMP's), then the pool's two, measured; then the
 * pools freed. */
void measure_with_pool(struct row *rows, int nrows, enum pool_kind kind,
                       int workers, int rounds, const struct counts *counts);

/* The idle mode's lines: the CPU burnt (seconds, a round each) in the
 * first 5 ms and the next 495 ms after the last map, medians. */
void print_idle(double *early, double *late, int rounds);

/* pool_free every row's pool. */
void free_rows(struct row *rows, int nrows);

#endif
