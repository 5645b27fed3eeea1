/* gil_sim/gil_sim.h - what the simulator's files share: runs, rows, events.
 *
 * A run is one workload (cpu, io, mixed) in one mode (serial, gil, procs,
 * nogil). It has a row per Python thread (per process in procs mode, one
 * row in serial mode), and each row records its state changes as events.
 * gil_sim.c plans and runs them, procs.c runs the procs mode's children,
 * charts.c prints what they recorded, options.c reads the command line.
 *
 * See also: gil.h (the lock itself), README.md (a line per file).
 */
#ifndef GIL_SIM_GIL_SIM_H
#define GIL_SIM_GIL_SIM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "gil.h"

enum workload { WL_CPU, WL_IO, WL_MIXED, NWORKLOADS };
enum mode { MODE_SERIAL, MODE_GIL, MODE_PROCS, MODE_NOGIL, NMODES };

/* "cpu", "io", "mixed"; "serial", "gil", "procs", "nogil". */
extern const char *const workload_names[NWORKLOADS];
extern const char *const mode_names[NMODES];

#define THREADS_MAX 64
/* The computation an I/O thread does between two blocking calls. */
#define IO_WORK_US 200
/* Events kept per thread; a run that switches more loses the rest. */
#define EVENTS_MAX ((size_t)1 << 18)

struct config {
    int threads;
    long work_ms;
    unsigned long interval;
    long io_ops, io_ms;        /* 0: the workload's default */
    int force_switching;
    unsigned workloads;        /* bit per enum workload */
    unsigned modes;            /* bit per enum mode */
    int timeline, tsv;
    const char *svg_path;
};

/* The command line, read once by main and read-only afterwards. */
extern const struct config *cfg;

/* One Python thread's job: a stretch of bytecode, or I/O calls each with a
 * little bytecode before it. */
struct task {
    int io;
    long instructions;         /* CPU task: the whole job */
    long io_ops;
    long io_ms;
};

/* ST_OFF: not started or finished. ST_LOST: events not recorded. */
enum state { ST_OFF, ST_WAIT, ST_HOLD, ST_IO, ST_LOST, NSTATES };

/* Both fields 8 bytes: no padding, whose bytes would go down the pipe
 * from a child uninitialised. */
struct event {
    int64_t t;                 /* ns since the run started */
    int64_t state;             /* the state from t on */
};

struct run;

/* One row of the report: a Python thread, or in serial mode the one thread
 * that does every task in turn, or in procs mode a process. Written only by
 * the thread it describes, read by main after the join. */
struct row {
    struct gil_tstate ts;
    struct run *run;
    int first_task, ntasks;    /* run->tasks[first_task ...] */
    uint64_t x;                /* busy-work state */
    int state;
    int64_t since;
    int64_t in_state[NSTATES]; /* ns spent in each state */
    int64_t cpu_ns;            /* this thread's CPU time */
    int64_t end;               /* when it finished, ns since the start */
    long io_ops;               /* blocking calls done */
    int64_t io_task_ns;        /* time spent in I/O tasks, waits included */
    struct event *ev;          /* per-thread buffer: no lock while running */
    size_t nev, cap;
    int lost;
    int err;                   /* 0, or an error number and */
    char what[16];             /* the call that returned it */
};

/* Start line for the threads of a run: opened once every thread exists,
 * so none starts before the clock does; cancelled if one cannot be made. */
struct gate {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int state;                 /* 0 closed, 1 open, -1 cancelled */
};

struct run {
    enum workload wl;
    enum mode mode;
    struct task *tasks;
    int ntasks;
    struct row *rows;
    int nrows;
    int64_t t0;                /* CLOCK_MONOTONIC at the start, ns */
    struct gate gate;
    /* Results. */
    double wall_s, cpu_s;
    unsigned long switches, drop_requests, forced_switches;
};

/* gil_sim.c */
extern long spins_per_instruction;
int64_t now_ns(void);
long workload_io_ops(enum workload wl);
long workload_io_ms(enum workload wl);
int fail(struct row *r, int err, const char *what);
void interpret(struct row *r);

/* procs.c */
void run_procs(struct run *run);

/* options.c: fill c from the command line; a bad argument exits (2). */
void parse_args(int argc, char *argv[], struct config *c);

/* charts.c */
void print_intro(void);
void print_table_head(enum workload wl);
void print_row(const struct run *run);
void print_table_notes(enum workload wl);
void print_tsv_head(void);
void print_tsv_row(const struct run *run);
void print_summary(enum workload wl, struct run *runs[NMODES]);
void print_timeline(const struct run *run);
void print_legend(void);
void write_svg(const char *path, struct run *runs, int n);

#endif
