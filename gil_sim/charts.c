/* gil_sim/charts.c - what a run recorded, as tables, TSV, timelines, SVG.
 *
 * Shows: how to read the simulation. Every thread recorded when it started
 * to wait for the GIL, to hold it and to block in I/O; these functions turn
 * those events into a table row per run, a tab-separated line for scripts,
 * an ASCII timeline (a column per slice of time) and an SVG picture.
 *
 * Nothing here runs during a run: printing while the threads compete would
 * change what they do. See also: gil_sim.c (what is recorded), gil_sim.h.
 */
/* getloadavg() */
#define _DEFAULT_SOURCE

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "gil_sim.h"

static const char *const workload_titles[NWORKLOADS] = {
    "CPU-bound", "I/O-bound", "Mixed"
};

/* A row of the timeline: this many columns fit an 80-column terminal. */
#define TIMELINE_COLS 72

/* ------------------------------------------------------------------------
 * Tables and TSV
 *
 * A table per workload, a row per mode: wall time, CPU time, how often the
 * lock changed hands, and each thread's time holding and waiting; then a
 * line on what the table shows, computed from its own numbers.
 * ------------------------------------------------------------------------ */

/* "thread" or "threads". */
#define S(n) ((n) == 1 ? "" : "s")

/* Seconds all rows of a run spent in `state`. */
static double sum_state(const struct run *run, int state)
{
    int64_t ns = 0;

    for (int i = 0; i < run->nrows; i++)
        ns += run->rows[i].in_state[state];
    return (double)ns / 1e9;
}

/* Blocking calls per second, per I/O thread (mean); -1 without I/O. */
static double io_rate(const struct run *run)
{
    double sum = 0;
    int n = 0;

    for (int i = 0; i < run->nrows; i++) {
        const struct row *r = &run->rows[i];

        if (r->io_task_ns > 0) {
            sum += (double)r->io_ops / ((double)r->io_task_ns / 1e9);
            n++;
        }
    }
    return n ? sum / n : -1;
}

static long cpus_online(void)
{
    return sysconf(_SC_NPROCESSORS_ONLN);
}

/* What this is (a simulation of the policy) and the knobs in force. */
void print_intro(void)
{
    printf("gil_sim: a simulation of the policy of CPython's GIL, not of the "
           "interpreter:\nthe lock is real (take_gil and drop_gil as in "
           "CPython 3.2 and later), the\n\"bytecode\" is busy work: one "
           "instruction is about 1 us (%ld rounds of xorshift).\n",
           spins_per_instruction);
    printf("%d thread%s, switch interval %lu us, %ld CPUs online; forced "
           "switching %s\n", cfg->threads, S(cfg->threads), cfg->interval,
           cpus_online(), cfg->force_switching ? "on:" : "off:");
    printf(cfg->force_switching
           ? "a thread asked to drop the GIL waits until another has taken "
             "it.\n"
           : "a thread asked to drop the GIL may take it straight back.\n");
}

/* A table's title (the work it runs) and column names. */
void print_table_head(enum workload wl)
{
    long io_ops = workload_io_ops(wl);
    long io_ms = workload_io_ms(wl);

    printf("\n%s: ", workload_titles[wl]);
    if (wl == WL_CPU)
        printf("%d thread%s, each %ld ms of computation\n",
               cfg->threads, S(cfg->threads), cfg->work_ms);
    else if (wl == WL_IO)
        printf("%d thread%s, each %ld x (%.1f ms of computation + "
               "%ld ms of blocking I/O)\n", cfg->threads, S(cfg->threads),
               io_ops, IO_WORK_US / 1000.0, io_ms);
    else
        printf("%d CPU-bound thread%s of %ld ms%s and an I/O thread, "
               "%ld x (%.1f + %ld ms)\n", cfg->threads, S(cfg->threads),
               cfg->work_ms, cfg->threads == 1 ? "" : " each", io_ops,
               IO_WORK_US / 1000.0, io_ms);
    printf("mode     wall_s   cpu_s  cpu/wall  switches%s  "
           "hold/wait ms per thread\n", wl == WL_CPU ? "" : "  io_ops/s");
}

/* A run's line in its table. */
void print_row(const struct run *run)
{
    printf("%-7s %7.3f %7.3f %9.2f %9lu", mode_names[run->mode],
           run->wall_s, run->cpu_s,
           run->wall_s > 0 ? run->cpu_s / run->wall_s : 0.0, run->switches);
    if (run->wl != WL_CPU)
        printf(" %9.1f", io_rate(run));
    printf(" ");
    for (int i = 0; i < run->nrows; i++)
        printf(" %.0f/%.0f",
               (double)run->rows[i].in_state[ST_HOLD] / 1e6,
               (double)run->rows[i].in_state[ST_WAIT] / 1e6);
    printf("\n");
}

/* --tsv: the header; print_tsv_row(): a line per run, same columns. */
void print_tsv_head(void)
{
    printf("workload\tmode\tthreads\twall_s\tcpu_s\tswitches\thold_s\twait_s"
           "\tio_s\tdrop_requests\tforced_switches\tio_ops_per_s"
           "\tinterval_us\n");
}

void print_tsv_row(const struct run *run)
{
    double rate = io_rate(run);

    printf("%s\t%s\t%d\t%.4f\t%.4f\t%lu\t%.4f\t%.4f\t%.4f\t%lu\t%lu\t",
           workload_names[run->wl], mode_names[run->mode], run->ntasks,
           run->wall_s, run->cpu_s, run->switches,
           sum_state(run, ST_HOLD), sum_state(run, ST_WAIT),
           sum_state(run, ST_IO), run->drop_requests, run->forced_switches);
    if (rate < 0)
        printf("-");
    else
        printf("%.1f", rate);
    printf("\t%lu\n", cfg->interval);
}

/* Under the first table, what its words mean; under the first with I/O,
 * the I/O column. Said once: the tables below use the same words. */
void print_table_notes(enum workload wl)
{
    static int said_modes, said_io;

    if (!said_modes) {
        said_modes = 1;
        printf("  serial: one thread does all the work; gil: a thread each, "
               "sharing one GIL;\n"
               "  procs: a process each, each with its own GIL; nogil: a "
               "thread each, no GIL\n"
               "  (CPython's free-threaded build). cpu/wall: CPUs busy on "
               "average;\n"
               "  switches: times the GIL passed to another thread; "
               "hold/wait: milliseconds\n"
               "  each thread held the GIL (with no GIL: ran) and waited "
               "for it.\n");
    }
    if (wl != WL_CPU && !said_io) {
        said_io = 1;
        printf("  io_ops/s: blocking calls per second made by each I/O "
               "thread.\n");
    }
}

/* The load average over the last minute, or -1 if unknown. */
static double load_average(void)
{
    double load;

    return getloadavg(&load, 1) == 1 ? load : -1;
}

/* What a run that used fewer CPUs than it could measured: not a cause. */
static void print_busy_cpus(void)
{
    double load = load_average();

    if (load >= 0)
        printf("   fewer CPUs than expected; load average %.2f over the last\n"
               "   minute, on %ld CPUs.\n", load, cpus_online());
    else
        printf("   fewer CPUs than expected.\n");
}

/* CPU-bound: the GIL against serial, then what processes and no-GIL
 * threads did with the CPUs they could use, as measured. */
static void summary_cpu(const struct run *s, const struct run *g,
                        const struct run *p, const struct run *n)
{
    long cpus = cpus_online();
    double can = cfg->threads < cpus ? cfg->threads : (double)cpus;
    double pu = p->cpu_s / p->wall_s, nu = n->cpu_s / n->wall_s;
    int busy = s->cpu_s < 0.8 * s->wall_s;

    if (busy) {
        printf("=> even serial code had only %.2f of a CPU, so every figure "
               "is slowed down:\n", s->cpu_s / s->wall_s);
        print_busy_cpus();
    }
    printf("=> with the GIL: %.2fx the serial time, since one thread runs "
           "at a time;\n", g->wall_s / s->wall_s);
    if (can < 1.5)
        printf("   processes (%.2fx) and no-GIL threads (%.2fx) had no "
               "second CPU to use.\n", p->wall_s / s->wall_s,
               n->wall_s / s->wall_s);
    else if (pu >= 0.8 * can && nu >= 0.8 * can)
        printf("   processes (%.2fx) and threads with no GIL (%.2fx) kept "
               "%.0f CPUs busy.\n", p->wall_s / s->wall_s,
               n->wall_s / s->wall_s, can);
    else {
        printf("   processes (%.2fx) and threads with no GIL (%.2fx) kept "
               "only %.1f and %.1f\n   of %.0f CPUs busy%s\n",
               p->wall_s / s->wall_s, n->wall_s / s->wall_s, pu, nu, can,
               busy ? " (see above)." : ":");
        if (!busy)
            print_busy_cpus();
    }
}

/* I/O-bound: the threads overlap if the GIL run took about serial / N. */
static void summary_io(const struct run *s, const struct run *g)
{
    double ratio = g->wall_s / s->wall_s;

    if (cfg->threads == 1)
        printf("=> one I/O thread has nobody to overlap with (%.2fx the "
               "serial time).\n", ratio);
    else if (ratio < 1.5 / cfg->threads + 0.05)
        printf("=> I/O-bound threads overlap even with the GIL (%.2fx the "
               "serial time):\n   the lock is released around each "
               "blocking call.\n", ratio);
    else {
        printf("=> I/O-bound threads with the GIL took %.2fx the serial "
               "time, not about %.2fx:\n", ratio, 1.0 / cfg->threads);
        print_busy_cpus();
    }
}

/* Mixed: the I/O thread's rate with the GIL and without, and its wait. */
static void summary_mixed(const struct run *g, const struct run *n)
{
    const struct row *io = &g->rows[g->nrows - 1];
    double wait_ms = (double)io->in_state[ST_WAIT] / 1e6
                     / (double)(io->io_ops ? io->io_ops : 1);
    long can = cfg->threads + 1 < cpus_online() ? cfg->threads + 1
                                                : cpus_online();

    printf("=> the I/O thread made %.0f calls/s next to CPU-bound threads "
           "with the GIL,\n   %.0f with no GIL: back from each call it "
           "waited %.1f ms for the lock,\n", io_rate(g), io_rate(n),
           wait_ms);
    if (io_rate(g) < 0.7 * io_rate(n))
        printf("   %.1f switch intervals (the convoy effect).\n",
               wait_ms * 1000.0 / (double)cfg->interval);
    else
        printf("   %.1f switch intervals: too little to slow it down "
               "much this time.\n", wait_ms * 1000.0 / (double)cfg->interval);
    if (n->cpu_s < 0.8 * n->wall_s * (double)can) {
        printf("   With no GIL it made fewer calls than it could:\n");
        print_busy_cpus();
    }
}

/* A few lines on what the table shows, from its own numbers; only when
 * the modes it compares were run. */
void print_summary(enum workload wl, struct run *runs[NMODES])
{
    struct run *s = runs[MODE_SERIAL], *g = runs[MODE_GIL];
    struct run *p = runs[MODE_PROCS], *n = runs[MODE_NOGIL];

    if (wl == WL_CPU && s && g && p && n)
        summary_cpu(s, g, p, n);
    else if (wl == WL_IO && s && g)
        summary_io(s, g);
    else if (wl == WL_MIXED && g && n)
        summary_mixed(g, n);
}

/* ------------------------------------------------------------------------
 * Timelines
 *
 * A chart per run: a row per thread, a column per equal slice of the run,
 * each column showing the state that filled most of its slice. The same
 * slicing draws the ASCII chart (72 columns) and the SVG (a pixel each).
 * ------------------------------------------------------------------------ */

/* Time each state of row r spent in each of ncols equal slices of
 * [0, span): acc[col * NSTATES + state], in ns. */
static void slice_row(const struct row *r, int64_t span, int ncols,
                      double *acc)
{
    memset(acc, 0, (size_t)ncols * NSTATES * sizeof *acc);
    for (size_t i = 0; i < r->nev; i++) {
        int64_t from = r->ev[i].t;
        int64_t to = i + 1 < r->nev ? r->ev[i + 1].t : r->end;
        int state = (int)r->ev[i].state;

        if (i + 1 == r->nev && r->lost)
            state = ST_LOST;
        while (from < to && from < span) {
            int col = (int)((double)from * ncols / (double)span);
            int64_t col_end = (int64_t)((double)(col + 1) * (double)span
                                        / ncols) + 1;
            int64_t upto = to < col_end ? to : col_end;

            if (col >= ncols)
                break;
            acc[col * NSTATES + state] += (double)(upto - from);
            from = upto;
        }
    }
}

/* The state that filled most of a slice. */
static int dominant(const double *acc)
{
    int best = ST_OFF;

    for (int s = 1; s < NSTATES; s++)
        if (acc[s] > acc[best])
            best = s;
    return best;
}

/* Is there one lock whose holder a chart can show? (Processes have one
 * each; free-threaded runs have none.) */
static int has_holder_row(const struct run *run)
{
    return run->mode == MODE_GIL || run->mode == MODE_SERIAL;
}

/* Thread i's one-character name in the GIL row. */
static char thread_mark(int i)
{
    static const char marks[] = "0123456789abcdefghijklmnopqrstuvwxyz";

    return i < (int)sizeof marks - 1 ? marks[i] : '+';
}

/* A row's name: "t1", or "t2 io" for the I/O thread of a mixed run. */
static void row_label(const struct run *run, int i, char *buf, size_t size)
{
    if (run->mode == MODE_SERIAL)
        snprintf(buf, size, "t0");
    else if (run->tasks[run->rows[i].first_task].io && run->wl == WL_MIXED)
        snprintf(buf, size, "t%d io", i);
    else
        snprintf(buf, size, "t%d", i);
}

/* One line of a chart: its label, then `text` without trailing blanks. */
static void print_chart_line(const char *label, char *text)
{
    size_t n = strlen(text);

    while (n > 0 && text[n - 1] == ' ')
        text[--n] = '\0';
    printf("%-8s%s\n", label, text);
}

/* The ASCII chart of one run: a row per thread, a column per slice of
 * time, each showing the state that filled most of the slice. */
void print_timeline(const struct run *run)
{
    static const char marks[NSTATES] = { ' ', '.', '#', '~', '?' };
    int64_t span = (int64_t)(run->wall_s * 1e9) + 1;
    double *acc = malloc((size_t)run->nrows * TIMELINE_COLS * NSTATES
                         * sizeof *acc);
    char label[16], line[TIMELINE_COLS + 1], axis[TIMELINE_COLS + 24];

    if (!acc)
        die("malloc");
    printf("\ntimeline, %s, %s: %.1f ms, one column = %.2f ms\n",
           workload_names[run->wl], mode_names[run->mode],
           run->wall_s * 1e3, run->wall_s * 1e3 / TIMELINE_COLS);
    /* Axis: a tick and its time every 18 columns. */
    for (int c = 0; c < TIMELINE_COLS; c += 18)
        snprintf(axis + c, sizeof axis - (size_t)c, "|%-17.1f",
                 run->wall_s * 1e3 * c / TIMELINE_COLS);
    print_chart_line("ms", axis);
    for (int i = 0; i < run->nrows; i++) {
        double *a = acc + (size_t)i * TIMELINE_COLS * NSTATES;

        slice_row(&run->rows[i], span, TIMELINE_COLS, a);
        for (int c = 0; c < TIMELINE_COLS; c++)
            line[c] = marks[dominant(a + c * NSTATES)];
        line[TIMELINE_COLS] = '\0';
        row_label(run, i, label, sizeof label);
        print_chart_line(label, line);
    }
    if (has_holder_row(run)) {
        for (int c = 0; c < TIMELINE_COLS; c++) {
            int who = -1;
            double most = 0;

            for (int i = 0; i < run->nrows; i++) {
                double held = acc[((size_t)i * TIMELINE_COLS + c) * NSTATES
                                  + ST_HOLD];

                if (held > most) {
                    most = held;
                    who = i;
                }
            }
            line[c] = who < 0 ? '-' : thread_mark(who);
        }
        print_chart_line("GIL", line);
    }
    for (int i = 0; i < run->nrows; i++)
        if (run->rows[i].lost)
            printf("(t%d switched too often: events after %.1f ms not "
                   "recorded, shown as ?)\n", i, run->rows[i].nev
                   ? (double)run->rows[i].ev[run->rows[i].nev - 1].t / 1e6
                   : 0.0);
    free(acc);
}

/* What the chart's marks mean. */
void print_legend(void)
{
    printf("\nlegend: # holds the GIL (no GIL: runs)   . waits for it   "
           "~ in I/O, GIL released\n"
           "        GIL row: which thread holds the lock (- nobody)\n");
}

/* ------------------------------------------------------------------------
 * SVG
 *
 * The same charts as a picture: a rectangle per stretch of one state, so
 * the file stays small however often the threads switched.
 * ------------------------------------------------------------------------ */

/* 1280 px wide, text of 16 px: readable on a projector. */
#define SVG_LEFT 110
#define SVG_PLOT 1100
#define SVG_WIDTH (SVG_LEFT + SVG_PLOT + 70)
#define SVG_ROW 22
#define SVG_FONT 16
#define SVG_TITLE 24 /* a run's title line */
#define SVG_AXIS 34  /* the time axis, under a workload's last run */
#define SVG_TOP 112  /* the title and the legend */
/* A state or a holder that lasts less than a pixel still shows, this
 * many pixels wide: the chart keeps every event, however short. */
#define SVG_MIN_PX 2

/* A colour per state, and per thread for the GIL row: none of the thread
 * colours looks like a state's (orange, green, blue, grey), nor like each
 * other's. */
static const char *const svg_state_fill[NSTATES] = {
    "none", "#f4a259", "#2e7d32", "#4a90d9", "#bbbbbb"
};
#define SVG_THREAD_COLOURS 6
static const char *const svg_thread_fill[SVG_THREAD_COLOURS] = {
    "#6a3d9a", "#111111", "#e7298a", "#8c510a", "#00acc1", "#c0ca33"
};

/* What each mode is, in the words of the table's notes. */
static const char *const mode_words[NMODES] = {
    "one thread does all the work", "a thread each, sharing one GIL",
    "a process each, with its own GIL", "a thread each, no GIL"
};

/* A "nice" tick step (1, 2 or 5 times a power of ten) for `span` ms. */
static double tick_step(double span)
{
    double step = 1e-3;

    while (span / step > 8) {
        if (span / (step * 2) <= 8)
            return step * 2;
        if (span / (step * 5) <= 8)
            return step * 5;
        step *= 10;
    }
    return step;
}

/* A row of rectangles, one per stretch of the same value in val[0..n):
 * fill[val], nothing where fill[val] is NULL. */
static void svg_stretches(FILE *f, const int *val, int n, int y,
                          const char *(*fill)(int))
{
    for (int c = 0; c < n;) {
        int w = 1;

        while (c + w < n && val[c + w] == val[c])
            w++;
        if (fill(val[c]))
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                    "fill=\"%s\"/>\n", SVG_LEFT + c, y + 3, w, SVG_ROW - 6,
                    fill(val[c]));
        c += w;
    }
}

/* val[c] is what held most of pixel c; had[c * stride + v] > 0 says v was
 * there at all. A value that was there but held no pixel nearby gets
 * SVG_MIN_PX pixels of its own, so that no event vanishes. */
static void keep_short(int *val, int n, const double *had, int stride,
                       int nvals, int first)
{
    for (int v = first; v < nvals; v++)
        for (int c = 0; c < n; c++) {
            if (had[(size_t)c * stride + v] <= 0)
                continue;
            int lo = c > SVG_MIN_PX ? c - SVG_MIN_PX : 0;
            int hi = c + SVG_MIN_PX < n ? c + SVG_MIN_PX : n - 1;
            bool shown = false;
            for (int d = lo; d <= hi; d++)
                shown |= val[d] == v;
            for (int d = c; !shown && d < c + SVG_MIN_PX && d < n; d++)
                val[d] = v;
        }
}

static const char *state_fill(int state)
{
    return state == ST_OFF ? NULL : svg_state_fill[state];
}

static const char *thread_fill(int who)
{
    return who < 0 ? NULL : svg_thread_fill[who % SVG_THREAD_COLOURS];
}

/* The time axis under a chart, 0 to `ms`, at height y. */
static void svg_axis(FILE *f, double ms, int y)
{
    double step = tick_step(ms);

    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
            "stroke=\"black\"/>\n", SVG_LEFT, y, SVG_LEFT + SVG_PLOT, y);
    for (double t = 0; t <= ms + 1e-9; t += step) {
        int x = SVG_LEFT + (int)(t / ms * SVG_PLOT);

        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                "stroke=\"black\"/>\n<text x=\"%d\" y=\"%d\" "
                "text-anchor=\"middle\">%g</text>\n",
                x, y, x, y + 5, x, y + 22, t);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\">ms</text>\n", SVG_LEFT + SVG_PLOT + 20,
            y + 22);
}

/* One run's chart into f, from height y down, on a time scale of
 * scale_ms (the longest run of its workload), with the time axis under it
 * when it is the workload's last; returns the next free y. */
static int svg_run(FILE *f, const struct run *run, int y, double scale_ms,
                   bool axis)
{
    int64_t span = (int64_t)(scale_ms * 1e6) + 1;
    double *acc = malloc((size_t)run->nrows * SVG_PLOT * NSTATES * sizeof *acc);
    int val[SVG_PLOT];
    char label[16];

    if (!acc)
        die("malloc");
    fprintf(f, "<text x=\"10\" y=\"%d\" font-weight=\"bold\">%s, %s (%s): "
            "%.1f ms</text>\n", y + 18, workload_titles[run->wl],
            mode_names[run->mode], mode_words[run->mode], run->wall_s * 1e3);
    y += SVG_TITLE;
    for (int i = 0; i < run->nrows; i++, y += SVG_ROW) {
        double *a = acc + (size_t)i * SVG_PLOT * NSTATES;

        slice_row(&run->rows[i], span, SVG_PLOT, a);
        row_label(run, i, label, sizeof label);
        fprintf(f, "<text x=\"10\" y=\"%d\">%s</text>\n", y + 17, label);
        for (int c = 0; c < SVG_PLOT; c++)
            val[c] = dominant(a + c * NSTATES);
        keep_short(val, SVG_PLOT, a, NSTATES, NSTATES, ST_WAIT);
        svg_stretches(f, val, SVG_PLOT, y, state_fill);
    }
    if (has_holder_row(run) && run->nrows > 1) {
        double *held = calloc((size_t)SVG_PLOT * (size_t)run->nrows,
                              sizeof *held);
        if (!held)
            die("calloc");
        fprintf(f, "<text x=\"10\" y=\"%d\">GIL</text>\n", y + 17);
        for (int c = 0; c < SVG_PLOT; c++) {
            double most = 0;

            val[c] = -1;
            for (int i = 0; i < run->nrows; i++) {
                double h = acc[((size_t)i * SVG_PLOT + c) * NSTATES + ST_HOLD];

                held[(size_t)c * run->nrows + i] = h;
                if (h > most) {
                    most = h;
                    val[c] = i;
                }
            }
        }
        keep_short(val, SVG_PLOT, held, run->nrows, run->nrows, 0);
        svg_stretches(f, val, SVG_PLOT, y, thread_fill);
        free(held);
        y += SVG_ROW;
    }
    free(acc);
    if (!axis)
        return y + 6;
    svg_axis(f, scale_ms, y + 4);
    return y + SVG_AXIS + 8;
}

/* Is run i the last of its workload among the n runs? */
static bool last_of_workload(const struct run *runs, int n, int i)
{
    for (int j = i + 1; j < n; j++)
        if (runs[j].wl == runs[i].wl)
            return false;
    return true;
}

/* The picture's height for these runs, as svg_run draws them. */
static int svg_height(const struct run *runs, int n, int top)
{
    int height = top + 10;

    for (int i = 0; i < n; i++)
        height += SVG_TITLE +
                  (runs[i].nrows + (has_holder_row(&runs[i]) &&
                                    runs[i].nrows > 1)) * SVG_ROW +
                  (last_of_workload(runs, n, i) ? SVG_AXIS + 8 : 6);
    return height;
}

/* The title and the legend: every colour the charts use, with its words.
 * Returns the y where the charts start (SVG_TOP, as svg_height counts). */
static int svg_legend(FILE *f, const struct run *runs, int n)
{
    static const char *const names[] = {
        "holds the GIL (no GIL: runs)", "waits for the GIL",
        "in I/O, GIL released"
    };
    static const int states[] = { ST_HOLD, ST_WAIT, ST_IO };
    int threads = 0;

    for (int i = 0; i < n; i++)
        if (has_holder_row(&runs[i]) && runs[i].nrows > 1 &&
            runs[i].nrows > threads)
            threads = runs[i].nrows;
    fprintf(f, "<text x=\"10\" y=\"24\">gil_sim: a simulation of the policy "
            "of CPython's GIL, not of the interpreter</text>\n"
            "<text x=\"10\" y=\"46\">switch interval %lu us, forced "
            "switching %s; the runs of one workload share one time "
            "scale</text>\n",
            cfg->interval, cfg->force_switching ? "on" : "off");
    for (int i = 0; i < 3; i++)
        fprintf(f, "<rect x=\"%d\" y=\"58\" width=\"16\" height=\"16\" "
                "fill=\"%s\"/><text x=\"%d\" y=\"72\">%s</text>\n",
                10 + i * 380, svg_state_fill[states[i]], 32 + i * 380,
                names[i]);
    if (!threads)
        return SVG_TOP;
    fprintf(f, "<text x=\"10\" y=\"98\">GIL row, the thread that holds "
            "it:</text>\n");
    for (int i = 0; i < threads && i < SVG_THREAD_COLOURS; i++)
        fprintf(f, "<rect x=\"%d\" y=\"84\" width=\"16\" height=\"16\" "
                "fill=\"%s\"/><text x=\"%d\" y=\"98\">t%d</text>\n",
                360 + i * 70, svg_thread_fill[i], 382 + i * 70, i);
    fprintf(f, "<text x=\"%d\" y=\"98\">%s</text>\n",
            360 + (threads < SVG_THREAD_COLOURS ? threads
                                                : SVG_THREAD_COLOURS) * 70,
            threads > SVG_THREAD_COLOURS ? "(then again)" : "blank: nobody");
    return SVG_TOP;
}

/* Every run's chart, with a title and a legend, into the file at path.
 * The runs of one workload are drawn on one time scale (the longest of
 * them), so that a run twice as fast draws half as long. */
void write_svg(const char *path, struct run *runs, int n)
{
    FILE *f = fopen(path, "w");
    int y, height = svg_height(runs, n, SVG_TOP);

    if (!f)
        die("%s", path);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"monospace\" "
            "font-size=\"%d\">\n<title>gil_sim timeline</title>\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            SVG_WIDTH, height, SVG_WIDTH, height, SVG_FONT);
    y = svg_legend(f, runs, n);
    for (int i = 0; i < n; i++) {
        double scale = 0;

        for (int j = 0; j < n; j++)
            if (runs[j].wl == runs[i].wl && runs[j].wall_s > scale)
                scale = runs[j].wall_s;
        y = svg_run(f, &runs[i], y, scale * 1e3, last_of_workload(runs, n, i));
    }
    fprintf(f, "</svg>\n");
    if (ferror(f) | fclose(f))
        die("%s", path);
    fprintf(cfg->tsv ? stderr : stdout, "%sgil_sim: wrote the timelines to "
            "%s\n", cfg->tsv ? "" : "\n", path);
}
