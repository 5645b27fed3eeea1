/* bench/harness.c - how a figure is measured and printed: calibrated
 * batches, runs taken in turn, medians, and the table's cells.
 *
 * Every figure is the median of -r runs. Figures that are compared are
 * measured in turn within each run (A, B, A, B, ...), so a burst of noise
 * on this shared machine hits both sides, and every ratio comes from one
 * invocation. A run of a short operation repeats it until the run lasts a
 * few tens of milliseconds and reports the time per repeat.
 *
 * See also: bench/bench.h, bench/tutorial.py (the same method in Python).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "stats.h"
#include "clock.h"
#include "err.h"
#include "tasks.h"

int targets_met, targets_all;

struct fig *figs_new(int k)
{
    struct fig *figs = calloc((size_t)k, sizeof *figs);

    if (!figs)
        die("calloc %d figures", k);
    return figs;
}


/* Pause for f->rest, outside any timing: a pool that spins for a while
 * after its last map must not be charged to the next figure, nor see the
 * next figure's threads as another program wanting the CPUs. */
static void rest_after(const struct fig *f)
{
    if (f->rest > 0)
        sleep_task(&f->rest, NULL);
}

/* Time f->reps repeats; seconds per repeat. */
static double batch(struct fig *f)
{
    double t0 = now(), t;

    for (long i = 0; i < f->reps; i++)
        f->op(f->ctx);
    t = (now() - t0) / (double)f->reps;
    rest_after(f);
    return t;
}

/* Choose f->reps so that a run lasts cfg.min_batch at least. The first
 * pass doubles as a warm-up (page faults, a worker's first buffers). */
static void calibrate(struct fig *f)
{
    long reps = 1;

    f->reps = 1;
    if (f->once)
        return;
    for (;;) {
        double t0 = now(), t;

        for (long i = 0; i < reps; i++)
            f->op(f->ctx);
        t = now() - t0;
        if (t >= cfg.min_batch / 4 || reps >= 1L << 24) {
            double want = cfg.min_batch / (t / (double)reps);
            f->reps = want < 1 ? 1 : want > 1e8 ? 100000000L : (long)want + 1;
            rest_after(f);
            return;
        }
        reps *= 4;
    }
}

void measure_runs(struct fig *figs, int k, int runs)
{
    for (int i = 0; i < k; i++)
        calibrate(&figs[i]);
    for (int r = 0; r < runs; r++)
        for (int i = 0; i < k; i++) {
            double f0, s0, f1, s1;

            if (!cfg.counts) {
                figs[i].t[r] = batch(&figs[i]);
                continue;
            }
            usage_now(&f0, &s0);
            figs[i].t[r] = batch(&figs[i]);
            usage_now(&f1, &s1);
            figs[i].faults += f1 - f0;
            figs[i].switches += s1 - s0;
        }
    for (int i = 0; i < k; i++) {
        double reps = (double)runs * (double)figs[i].reps;

        figs[i].median = median(figs[i].t, runs);
        figs[i].lo = figs[i].t[0];          /* median() sorted them */
        figs[i].hi = figs[i].t[runs - 1];
        figs[i].faults /= reps;
        figs[i].switches /= reps;
    }
}

void measure(struct fig *figs, int k)
{
    measure_runs(figs, k, cfg.runs);
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (!p)
        die("malloc %zu bytes", size);
    /* Every byte written now, so no page fault lands in a timing. Not with
     * zeros: compilers turn malloc + memset(0) into calloc, which leaves
     * fresh pages untouched. */
    return memset(p, 0xa5, size);
}

/* ---- the table's cells --------------------------------------------------- */

const char *fmt_time(double s)
{
    static char ring[8][24];
    static int next;
    char *buf = ring[next++ % 8];

    if (s < 0)
        snprintf(buf, sizeof ring[0], "-");
    else if (s < 1e-6)
        snprintf(buf, sizeof ring[0], "%.2f ns", s * 1e9);
    else if (s < 1e-3)
        snprintf(buf, sizeof ring[0], "%.1f us", s * 1e6);
    else if (s < 1)
        snprintf(buf, sizeof ring[0], "%.2f ms", s * 1e3);
    else
        snprintf(buf, sizeof ring[0], "%.3f s", s);
    return buf;
}

const char *counts_cols(const struct fig *f, int pad)
{
    static char ring[4][64];
    static int next;
    char *buf = ring[next++ % 4];

    buf[0] = '\0';
    if (cfg.counts)
        snprintf(buf, sizeof ring[0], "%*s %8.1f %9.1f", pad, "", f->faults,
                 f->switches);
    return buf;
}

const char *verdict(double value, double target, bool at_most)
{
    static char ring[4][32];
    static int next;
    char *buf = ring[next++ % 4];
    bool ok = at_most ? value <= target : value >= target;

    targets_all++;
    targets_met += ok;
    snprintf(buf, sizeof ring[0], "%s %.2f %s", at_most ? "<=" : ">=", target,
             ok ? "ok" : "MISSED");
    return buf;
}
