/* bench/usage.c - what bench and its children have used: CPU time, page
 * faults and context switches, the children still running included.
 *
 * getrusage() sees this process and the children already reaped; a
 * process pool's workers are neither until the pool is freed. So the live
 * children are found in /proc (those whose parent is bench) and read one
 * by one: their CPU time through their CPU clocks (clock_getcpuclockid, to
 * the nanosecond; /proc/PID/stat counts in ticks of 10 ms, too coarse for
 * half a second of idling), their faults from /proc/PID/stat and their
 * switches from /proc/PID/status.
 *
 * See also: bench/latency.c (an idle pool's cost), bench/harness.c
 * (--counts), proc(5).
 */
#define _POSIX_C_SOURCE 200809L /* clock_getcpuclockid, getrusage: POSIX */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "err.h"

/* The fields of /proc/PID/stat after "(comm)": state is field 3, ppid 4,
 * minflt 10, majflt 12. Returns 0, or -1 if the process is gone. */
static int read_stat(pid_t pid, pid_t *ppid, double *faults)
{
    char path[64], buf[1024], *p;
    unsigned long minflt, majflt;
    int parent;
    FILE *f;
    size_t got;

    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    if (!(f = fopen(path, "r")))
        return -1;
    got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = '\0';
    /* comm may hold spaces and parentheses: the fields start after the
     * last ')'. */
    if (!(p = strrchr(buf, ')')) ||
        sscanf(p + 1, " %*c %d %*d %*d %*d %*d %*u %lu %*u %lu", &parent,
               &minflt, &majflt) != 3)
        return -1;
    *ppid = (pid_t)parent;
    *faults = (double)minflt + (double)majflt;
    return 0;
}

/* Voluntary and involuntary context switches of pid, from
 * /proc/PID/status; 0 if the process is gone. */
static double read_switches(pid_t pid)
{
    char path[64], line[256];
    double total = 0;
    unsigned long n;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    if (!(f = fopen(path, "r")))
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "voluntary_ctxt_switches: %lu", &n) == 1 ||
            sscanf(line, "nonvoluntary_ctxt_switches: %lu", &n) == 1)
            total += (double)n;
    fclose(f);
    return total;
}

int live_children(pid_t *pids, int max)
{
    pid_t me = getpid(), ppid;
    struct dirent *d;
    double faults;
    DIR *dir = opendir("/proc");
    int n = 0;

    if (!dir)
        return 0;
    while ((d = readdir(dir)) && n < max) {
        pid_t pid;

        if (!isdigit((unsigned char)d->d_name[0]))
            continue;
        pid = (pid_t)strtol(d->d_name, NULL, 10);
        if (read_stat(pid, &ppid, &faults) == 0 && ppid == me)
            pids[n++] = pid;
    }
    closedir(dir);
    return n;
}

/* Seconds on a CPU clock; 0 when it cannot be read (a child gone). */
static double clock_seconds(clockid_t clock)
{
    struct timespec ts;

    if (clock_gettime(clock, &ts) < 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double cpu_seconds(const pid_t *pids, int n)
{
    double total = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);

    for (int i = 0; i < n; i++) {
        clockid_t clock;

        if (clock_getcpuclockid(pids[i], &clock) == 0)
            total += clock_seconds(clock);
    }
    return total;
}

void usage_now(double *faults, double *switches)
{
    struct rusage self, kids;
    pid_t *pids = calloc(POOL_MAX_WORKERS, sizeof *pids);
    int n;

    if (!pids)
        die("calloc");
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    *faults = (double)(self.ru_minflt + self.ru_majflt + kids.ru_minflt +
                       kids.ru_majflt);
    *switches = (double)(self.ru_nvcsw + self.ru_nivcsw + kids.ru_nvcsw +
                         kids.ru_nivcsw);
    n = live_children(pids, POOL_MAX_WORKERS);
    for (int i = 0; i < n; i++) {
        pid_t ppid;
        double f;

        if (read_stat(pids[i], &ppid, &f) == 0)
            *faults += f;
        *switches += read_switches(pids[i]);
    }
    free(pids);
}
